//! nightwatch-testkit: the real-service harness behind `tests/e2e`.
//!
//! Every service runs as a child process on free loopback ports picked at
//! run time, with all its state in its own temp dir, and is stopped on drop.
//! Children are started with a parent-death signal from one long-lived
//! spawner thread, so they also die when the test binary dies (see
//! [`process`]). A service that is not installed fails the test loudly with
//! the command that installs it (`scripts/setup`); nothing is skipped.
//!
//! | service | type | ready after (measured here, 2 cores) |
//! |---|---|---|
//! | carbon-cache + graphite-web | [`Graphite`] | 0.45 s; the first in a process 1.35 s (Django's migrate, once); a sent point is readable ~1 s later; carbon restart 0.3 s |
//! | Nagios 4 | [`Nagios`] | 25 ms (after `nagios4 -v`); first check result ~0.9 s |
//! | Icinga 2 (master, satellite with `icinga2 pki` certificates) | [`Icinga2`], [`Icinga2Pki`] | under 1 s to "Activated all objects" (after `daemon -C`) |
//! | osmem-server (`OpenSearch` API) | [`OpenSearch`] | 0.2 s |
//! | real `OpenSearch` 2/3, Elasticsearch 7/8 (server jars, shared per run) | [`SearchNode`] | 2–4 s alone, 13–15 s for all four at once; ~220 MB each |
//! | nginx, `openssl s_server`, gnutls-serv | [`Nginx`], [`OpensslServer`], [`GnutlsServ`] | 20–60 ms |
//! | Apache, `HAProxy`, `openssl s_server` from an openssl.cnf, Erlang `ssl:listen`, Java `SSLServerSocket`, `JRuby`, `RabbitMQ` (for `tls-policy` renders) | [`tls_stacks`] | 0.1 s (Apache, `HAProxy`, `openssl`), 0.5 s (Erlang, Java), 5–6 s (`JRuby`, `RabbitMQ`) |
//! | Postfix, Dovecot (IMAP, POP3), vsftpd, `PostgreSQL` 15, slapd (for `--starttls`) | [`starttls_servers`] | 20–350 ms (Dovecot, vsftpd, slapd), 1.3–2.3 s (`PostgreSQL` with `initdb`), 2.9–3.7 s (Postfix) |
//! | test CA, leaf certificate | [`TestCa`] | 0.4 s each (RSA 2048 key generation) |
//! | hanging, garbage and resetting TCP peers | [`FakeHangServer`], [`FakeGarbageServer`], [`FakeResetServer`] | in-process |
//!
//! Plugins are run with [`plugin`], which checks the plugin contract
//! ([`contract`]) on every run before any assertion.

pub mod contract;
pub mod fake_servers;
pub mod fixtures;
pub mod go_graphite;
pub mod graphite;
pub mod http;
pub mod icinga2;
pub mod nagios;
pub mod opensearch;
pub mod pagerduty;
pub mod plugin_cmd;
pub mod ports;
pub mod process;
pub mod reaper;
pub mod search_node;
pub mod shipped_config;
pub mod sslscan;
pub mod starttls_servers;
pub mod story;
pub mod tls;
pub mod tls_fakes;
pub mod tls_stacks;

pub use fake_servers::{FakeGarbageServer, FakeHangServer, FakeResetServer};
pub use graphite::Graphite;
pub use icinga2::{Icinga2, Icinga2Builder, Icinga2Pki};
pub use nagios::{Nagios, NagiosBuilder, ServiceStatus, StateType};
pub use nightwatch_core::State;
pub use opensearch::OpenSearch;
pub use plugin_cmd::{PluginCmd, PluginRun, RawRun, plugin, plugin_at};
pub use process::ServiceProcess;
pub use search_node::{SearchFlavor, SearchNode};
pub use tls::{GnutlsServ, KeyType, Leaf, Nginx, NginxBuilder, OpensslServer, TestCa};

/// Seconds since the epoch: point timestamps, external-command times.
#[must_use]
pub fn unix_now() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(now.as_secs()).expect("the year is before 292 billion")
}
