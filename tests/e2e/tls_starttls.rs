//! check-tls-ciphers `--starttls` against real servers on loopback
//! (tests/support/starttls_servers.rs): Postfix, Dovecot (IMAP, POP3),
//! vsftpd, PostgreSQL and slapd. Through each preamble the accepted suites
//! per protocol must equal sslscan's `--starttls-<proto>` (for LDAP, whose
//! StartTLS sslscan 2.0 cannot read from slapd, sslscan's scan of the same
//! slapd's `ldaps://` port, one TLS configuration behind both), and the
//! certificate must be read, which proves the rustls handshake went through
//! the preamble too. Servers without TLS refuse, and that is CRITICAL with
//! their reply quoted.

// Product and protocol names (PostgreSQL, StartTLS) are words here, not code.
#![allow(clippy::doc_markdown)]

use std::collections::BTreeSet;
use std::process::Command;

use nightwatch_testkit::sslscan::{SSLSCAN, json_suites, sslscan_suites};

use nightwatch_testkit::starttls_servers::StarttlsServer;
use nightwatch_testkit::{FakeHangServer, PluginRun, State, TestCa, plugin};

/// The check through `protocol`'s preamble on localhost:`port`, trusting the
/// shared test CA, with expiry thresholds the 30-day test leaves pass.
fn check(protocol: &str, port: u16, extra: &[&str]) -> PluginRun {
    let ca = TestCa::shared().cert();
    let port = port.to_string();
    plugin("check-tls-ciphers")
        .args(["-H", "localhost", "-p", &port, "--starttls", protocol])
        .args(["-w", "5d", "-c", "2d", "--ca-file"])
        .arg(&ca)
        .args(extra)
        .run()
}

/// The accepted suites per protocol, from the plugin's `--json`, whose
/// certificate must be the test leaf with its chain verified: proof that
/// the rustls handshake went through the preamble too (the plugin output's
/// long text of a server with dozens of findings is cut before it).
fn plugin_suites(protocol: &str, port: u16) -> BTreeSet<(String, u16)> {
    let bin = nightwatch_testkit::plugin_cmd::workspace_bin("check-tls-ciphers");
    let ca = TestCa::shared().cert();
    let port = port.to_string();
    let out = Command::new(&bin)
        .args(["-H", "localhost", "-p", &port, "--starttls", protocol])
        .arg("--json")
        .arg("--ca-file")
        .arg(&ca)
        .output()
        .expect("run check-tls-ciphers --json");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--json is JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(doc["starttls"], protocol, "--json names the preamble");
    let certs = doc["certificates"].as_array().expect("certificates");
    assert!(
        certs
            .iter()
            .any(|c| c["subject"] == "CN=localhost" && c["chain_error"].is_null()),
        "no verified certificate for localhost through {protocol}: {certs:?}"
    );
    json_suites(&doc)
}

fn same_as_sslscan(protocol: &str, port: u16, theirs: &BTreeSet<(String, u16)>, logs: &str) {
    let ours = plugin_suites(protocol, port);
    assert!(
        !theirs.is_empty(),
        "sslscan found nothing on port {port}\n{logs}"
    );
    assert_eq!(
        &ours, theirs,
        "accepted suites per protocol through {protocol}: ours (left) vs sslscan (right)\n{logs}"
    );
}

#[test]
fn smtp_through_postfix_matches_sslscan_and_reads_the_certificate() {
    let leaf = TestCa::shared().leaf("postfix");
    let server = StarttlsServer::postfix(Some(&leaf));
    // Postfix's opportunistic TLS takes TLS 1.0, CBC and anonymous suites.
    check("smtp", server.port(), &[])
        .state_is(State::Critical)
        .first_line_contains("TLS 1.0 accepted");
    let theirs = sslscan_suites(Command::new(SSLSCAN), &["--starttls-smtp"], server.port());
    same_as_sslscan("smtp", server.port(), &theirs, &server.logs());
}

#[test]
fn imap_and_pop3_through_dovecot_match_sslscan() {
    let leaf = TestCa::shared().leaf("dovecot");
    let server = StarttlsServer::dovecot(Some(&leaf));
    for (protocol, port, flag) in [
        ("imap", server.port(), "--starttls-imap"),
        (
            "pop3",
            server.other_port().expect("dovecot serves POP3"),
            "--starttls-pop3",
        ),
    ] {
        check(protocol, port, &[])
            .state_is(State::Critical)
            .long_text_contains("TLS 1.3: TLS_AES_");
        let theirs = sslscan_suites(Command::new(SSLSCAN), &[flag], port);
        same_as_sslscan(protocol, port, &theirs, &server.logs());
    }
}

#[test]
fn ftp_through_vsftpd_is_intermediate_and_matches_sslscan() {
    let leaf = TestCa::shared().leaf("vsftpd");
    let server = StarttlsServer::vsftpd(Some(&leaf));
    // vsftpd's default list is one TLS 1.2 suite, ECDHE-RSA-AES256-GCM-SHA384,
    // and TLS 1.3: Mozilla intermediate as it stands.
    check("ftp", server.port(), &[])
        .state_is(State::Ok)
        .first_line_contains("mozilla-intermediate compliant: TLS 1.3 and TLS 1.2")
        .long_text_contains("certificate: CN=localhost")
        .long_text_contains("chain verified");
    let theirs = sslscan_suites(Command::new(SSLSCAN), &["--starttls-ftp"], server.port());
    same_as_sslscan("ftp", server.port(), &theirs, &server.logs());
}

#[test]
fn postgres_sslrequest_matches_sslscan() {
    let leaf = TestCa::shared().leaf("postgres");
    let server = StarttlsServer::postgres(Some(&leaf));
    // PostgreSQL 15's default ssl_ciphers (HIGH:MEDIUM:+3DES:!aNULL) takes
    // DHE, CBC and static RSA suites.
    check("postgres", server.port(), &[])
        .state_is(State::Critical)
        .first_line_contains("DHE-RSA-AES256-GCM-SHA384 accepted");
    let theirs = sslscan_suites(Command::new(SSLSCAN), &["--starttls-psql"], server.port());
    same_as_sslscan("postgres", server.port(), &theirs, &server.logs());
}

#[test]
fn ldap_starttls_matches_sslscan_on_the_same_slapd_ldaps_port() {
    let leaf = TestCa::shared().leaf("slapd");
    let server = StarttlsServer::slapd(Some(&leaf));
    check("ldap", server.port(), &[])
        .state_is(State::Critical)
        .first_line_contains("TLS 1.0 accepted");
    let ldaps = server.other_port().expect("slapd with TLS serves ldaps");
    let theirs = sslscan_suites(Command::new(SSLSCAN), &[], ldaps);
    same_as_sslscan("ldap", server.port(), &theirs, &server.logs());
}

#[test]
fn servers_without_tls_refuse_and_are_critical_with_their_reply_quoted() {
    let ftp = StarttlsServer::vsftpd(None);
    check("ftp", ftp.port(), &[])
        .state_is(State::Critical)
        .first_line_contains(&format!(
            "FTP STARTTLS with 127.0.0.1:{} failed: the server refused AUTH TLS: \"530 ",
            ftp.port()
        ));
    let smtp = StarttlsServer::postfix(None);
    check("smtp", smtp.port(), &[])
        .state_is(State::Critical)
        .first_line_contains(
            "failed: the server does not offer STARTTLS; its EHLO reply: \"250-mail.nightwatch.test / 250-PIPELINING",
        );
    // It answered: a refusal is the finding, not an unreachable server.
    check("smtp", smtp.port(), &["--unreachable-state", "ok"])
        .state_is(State::Critical)
        .first_line_contains("does not offer STARTTLS");
    let ldap = StarttlsServer::slapd(None);
    check("ldap", ldap.port(), &[])
        .state_is(State::Critical)
        .first_line_contains("failed: the server refused StartTLS: ");
}

#[test]
fn a_server_silent_before_its_greeting_is_a_timeout_named_as_such() {
    let silent = FakeHangServer::start();
    check("smtp", silent.port(), &["-t", "2s"])
        .state_is(State::Critical)
        .first_line_contains("SMTP STARTTLS with 127.0.0.1:")
        .first_line_contains("failed: no greeting within");
}
