//! End-to-end tests against real services (see tests/support, the
//! `nightwatch-testkit` harness). One binary, so the harness's shared
//! services and its one-time plugin build are paid once per run.
//!
//! Each suite is a module here; add new plugin suites to the list.

mod check_audit_freshness;
mod check_change_window;
mod check_cloudtrail_es;
mod check_graphite;
mod check_tls_ciphers;
mod debian_package;
mod demo;
mod events_sources;
mod exporter_slow_disk;
mod ham_story;
mod harness_selftest;
mod icinga2;
mod nagios_config;
mod nagios_live;
mod pi_probe_exporter;
mod search_client;
mod search_nodes;
mod sensu_checks;
mod tls_certificates;
mod tls_policy_stacks;
mod tls_registry;
mod tls_starttls;
