//! check-tls-ciphers against real nginx, `openssl s_server` and gnutls-serv
//! (in its own network namespace): the accepted suites per protocol must
//! equal what sslscan reports on the same server; certificates of every
//! kind; and faults only a fake server shows.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use nightwatch_testkit::tls::netns_command;
use nightwatch_testkit::tls_fakes::{
    FakeTlsGarbageServer, FakeTlsQuietServer, FakeTlsResetServer, FakeTlsSilentServer,
    FakeTlsTruncatedServer,
};
use nightwatch_testkit::{
    GnutlsServ, KeyType, Leaf, Nginx, OpensslServer, PluginRun, State, TestCa, plugin,
};

const SSLSCAN: &str = "/usr/bin/sslscan";

const MIXED: &str = "ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;\n\
    ssl_ciphers 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-GCM-SHA384:DHE-RSA-AES128-SHA:@SECLEVEL=0';";
const INTERMEDIATE: &str = "ssl_protocols TLSv1.2 TLSv1.3;\n\
    ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';\n\
    ssl_ecdh_curve X25519:prime256v1:secp384r1;\nssl_prefer_server_ciphers off;";
const TLS13_ONLY: &str = "ssl_protocols TLSv1.3;\nssl_ecdh_curve X25519:prime256v1:secp384r1;";

fn nginx(leaf: &Leaf, snippet: &str) -> Nginx {
    Nginx::builder().tls(leaf).server_snippet(snippet).start()
}

/// Runs the check on 127.0.0.1:port with the shared CA and calm expiry
/// thresholds (test leaves live 30 days).
fn check(port: u16, extra: &[&str], netns: Option<&Path>) -> PluginRun {
    let ca = TestCa::shared().cert();
    let port = port.to_string();
    let mut cmd = plugin("check-tls-ciphers").args([
        "-H",
        "localhost",
        "-p",
        &port,
        "-w",
        "5d",
        "-c",
        "2d",
        "--ca-file",
    ]);
    cmd = cmd.arg(&ca).args(extra);
    if let Some(netns) = netns {
        cmd = cmd.in_netns(netns);
    }
    cmd.run()
}

/// The accepted suites per protocol, from the plugin's `--json`.
fn plugin_suites(port: u16, netns: Option<&Path>) -> BTreeSet<(String, u16)> {
    let ca = TestCa::shared().cert();
    let bin = nightwatch_testkit::plugin_cmd::workspace_bin("check-tls-ciphers");
    let mut cmd = match netns {
        Some(netns) => netns_command(netns, &bin),
        None => Command::new(&bin),
    };
    let out = cmd
        .args([
            "-H",
            "localhost",
            "-p",
            &port.to_string(),
            "--json",
            "--ca-file",
        ])
        .arg(&ca)
        .output()
        .expect("run check-tls-ciphers --json");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--json is JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    nightwatch_testkit::sslscan::json_suites(&doc)
}

/// The accepted suites per protocol as sslscan reports them.
fn sslscan_suites(port: u16, netns: Option<&Path>) -> BTreeSet<(String, u16)> {
    let cmd = match netns {
        Some(netns) => netns_command(netns, SSLSCAN),
        None => Command::new(SSLSCAN),
    };
    nightwatch_testkit::sslscan::sslscan_suites(cmd, &[], port)
}

fn same_as_sslscan(port: u16, netns: Option<&Path>) {
    let ours = plugin_suites(port, netns);
    let theirs = sslscan_suites(port, netns);
    assert!(!theirs.is_empty(), "sslscan found nothing on port {port}");
    assert_eq!(
        ours, theirs,
        "accepted suites per protocol: ours (left) vs sslscan (right)"
    );
}

#[test]
fn mixed_nginx_old_protocols_and_cbc_are_critical_and_match_sslscan() {
    let server = nginx(&TestCa::shared().leaf("mixed"), MIXED);
    let run = check(server.port(), &[], None);
    run.state_is(State::Critical)
        .first_line_contains("TLS 1.0 accepted")
        .long_text_contains("TLS_RSA_WITH_AES_128_CBC_SHA (AES128-SHA) ✗")
        .long_text_contains("TLS 1.3: TLS_AES_")
        .perfdata_has("connections=")
        .perfdata_has("suites_tls1_0=");
    assert!(run.perfdata("suites_tls1_0").value.unwrap() > 0.0);
    same_as_sslscan(server.port(), None);
}

#[test]
fn intermediate_nginx_is_ok_in_under_20_connections_and_matches_sslscan() {
    let server = nginx(&TestCa::shared().leaf("intermediate"), INTERMEDIATE);
    let run = check(server.port(), &[], None);
    run.state_is(State::Ok)
        .first_line_contains("mozilla-intermediate compliant: TLS 1.3 and TLS 1.2, 6 suites")
        .long_text_contains("TLS 1.3 groups: x25519, secp256r1, secp384r1")
        .long_text_contains("suite order: the client decides")
        .long_text_contains("chain verified");
    assert!(
        run.perfdata("connections").value.unwrap() < 20.0,
        "{}",
        run.stdout()
    );
    same_as_sslscan(server.port(), None);
    // The same server is not modern: TLS 1.2 and an RSA key.
    check(server.port(), &["--profile", "mozilla-modern"], None)
        .state_is(State::Critical)
        .first_line_contains("TLS 1.2 accepted");
}

#[test]
fn tls13_only_nginx_with_ecdsa_is_modern_and_matches_sslscan() {
    let leaf = TestCa::shared().leaf_with("ecdsa", KeyType::EcP256, 30);
    let server = nginx(&leaf, TLS13_ONLY);
    check(server.port(), &["--profile", "mozilla-modern"], None)
        .state_is(State::Ok)
        .first_line_contains("mozilla-modern compliant: TLS 1.3, 3 suites")
        .long_text_contains("ECDSA P-256");
    same_as_sslscan(server.port(), None);
}

#[test]
fn openssl_s_server_matches_sslscan() {
    let server = OpensslServer::start(&TestCa::shared().leaf("s-server"), &[]);
    check(server.port(), &[], None).perfdata_has("suites_tls1_3=3");
    same_as_sslscan(server.port(), None);
}

/// gnutls-serv with `priority` in its own namespace: the check's run there,
/// after asserting the accepted suites equal sslscan's.
fn gnutls_check(name: &str, priority: &str) -> PluginRun {
    let server = GnutlsServ::start(&TestCa::shared().leaf(name), &["--priority", priority]);
    same_as_sslscan(server.port(), Some(server.netns()));
    check(server.port(), &[], Some(server.netns()))
}

#[test]
fn legacy_gnutls_rc4_3des_static_rsa_are_found_in_its_namespace() {
    gnutls_check(
        "legacy",
        "NORMAL:+3DES-CBC:+ARCFOUR-128:+VERS-TLS1.0:+VERS-TLS1.1:+RSA:+DHE-RSA:+AES-128-CCM:-VERS-TLS1.3",
    )
    .state_is(State::Critical)
    .first_line_contains("TLS 1.0 accepted")
    .long_text_contains("suite TLS_RSA_WITH_RC4_128_SHA (RC4-SHA) accepted in TLS 1.2, TLS 1.1, TLS 1.0")
    .long_text_contains("suite TLS_RSA_WITH_3DES_EDE_CBC_SHA (DES-CBC3-SHA) accepted in TLS 1.2, TLS 1.1, TLS 1.0")
    // +DHE-RSA: the group's size read from its ServerKeyExchange (GnuTLS
    // sends RFC 7919's ffdhe2048 to a client that names no groups).
    .perfdata_has("dh_bits=2048");
}

#[test]
fn weak_expired_expiring_and_mismatched_certificates() {
    let ca = TestCa::shared();
    let weak = nginx(
        &ca.leaf_with("weak", KeyType::Rsa(1024), 30),
        &INTERMEDIATE.replace("POLY1305';", "POLY1305:@SECLEVEL=0';"),
    );
    check(weak.port(), &[], None)
        .state_is(State::Critical)
        .first_line_contains("RSA key of 1024 bits, below 2048")
        .perfdata_has("key_bits=1024");

    let expired = nginx(
        &ca.leaf_custom("expired", KeyType::Rsa(2048), 10, 40, "DNS:localhost"),
        INTERMEDIATE,
    );
    check(expired.port(), &[], None)
        .state_is(State::Critical)
        .first_line_contains("RSA certificate expired 30d");

    let expiring = nginx(
        &ca.leaf_with("expiring", KeyType::Rsa(2048), 3),
        INTERMEDIATE,
    );
    check(expiring.port(), &[], None)
        .state_is(State::Warning)
        .first_line_contains("RSA certificate expires in");

    let other = nginx(
        &ca.leaf_custom("other", KeyType::Rsa(2048), 30, 0, "DNS:other.example"),
        INTERMEDIATE,
    );
    check(other.port(), &[], None)
        .state_is(State::Critical)
        .first_line_contains("RSA certificate does not name the host");
}

#[test]
fn a_chain_from_an_unknown_ca_warns() {
    let server = nginx(&TestCa::shared().leaf("unknown-ca"), INTERMEDIATE);
    let other_ca = TestCa::new();
    let port = server.port().to_string();
    plugin("check-tls-ciphers")
        .args([
            "-H",
            "localhost",
            "-p",
            &port,
            "-w",
            "5d",
            "-c",
            "2d",
            "--ca-file",
        ])
        .arg(other_ca.cert())
        .run()
        .state_is(State::Warning)
        .first_line_contains("chain does not verify");
}

#[test]
fn a_closed_port_is_critical_and_a_bad_flag_unknown() {
    let port = nightwatch_testkit::ports::free_port().to_string();
    plugin("check-tls-ciphers")
        .args(["-H", "127.0.0.1", "-p", &port])
        .run()
        .state_is(State::Critical)
        .first_line_contains("cannot connect to 127.0.0.1:");
    plugin("check-tls-ciphers")
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "--unreachable-state",
            "warning",
        ])
        .run()
        .state_is(State::Warning);
    plugin("check-tls-ciphers")
        .args(["-H", "127.0.0.1", "--profile", "mozilla-old"])
        .run()
        .state_is(State::Unknown);
}

#[test]
fn fault_fakes_are_no_tls_or_a_timeout_never_a_hang() {
    let reset = FakeTlsResetServer::start();
    plugin("check-tls-ciphers")
        .args(["-H", "127.0.0.1", "-p", &reset.port().to_string()])
        .run()
        .state_is(State::Critical)
        .first_line_contains("no TLS on 127.0.0.1:");
    let garbage = FakeTlsGarbageServer::start();
    plugin("check-tls-ciphers")
        .args(["-H", "127.0.0.1", "-p", &garbage.port().to_string()])
        .run()
        .state_is(State::Critical)
        .first_line_contains("record type 83 is not TLS");
    let truncated = FakeTlsTruncatedServer::start();
    plugin("check-tls-ciphers")
        .args(["-H", "127.0.0.1", "-p", &truncated.port().to_string()])
        .run()
        .state_is(State::Critical)
        .first_line_contains("reply cut short");
    let silent = FakeTlsSilentServer::start();
    plugin("check-tls-ciphers")
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &silent.port().to_string(),
            "-t",
            "2s",
        ])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("timed out after 2s while scanning 127.0.0.1:");
}

#[test]
fn a_tls_1_0_and_1_1_only_server_shows_its_certificate_from_the_plain_flight() {
    gnutls_check(
        "old-only",
        "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:+RSA:+3DES-CBC",
    )
    .state_is(State::Critical)
    .first_line_contains("TLS 1.0 accepted, TLS 1.1 accepted")
    .long_text_contains("chain verified (TLS 1.1)")
    .perfdata_has("key_bits=2048")
    .perfdata_has("suites_tls1_2=0");
}

/// The first line without the certificate's remaining time, which moves
/// on between two runs (30d becomes 29d 23h across a boundary).
fn verdict_of(run: &PluginRun) -> (State, String) {
    let line = run.first_line();
    let verdict = line
        .split(", certificate expires in")
        .next()
        .unwrap_or(line);
    (run.state(), verdict.to_owned())
}

#[test]
fn two_connections_at_once_find_the_same_as_one() {
    let server = nginx(&TestCa::shared().leaf("parallel"), MIXED);
    let one = check(server.port(), &[], None);
    let two = check(server.port(), &["--max-parallel", "2"], None);
    for label in [
        "suites_tls1_3",
        "suites_tls1_2",
        "suites_tls1_1",
        "suites_tls1_0",
        "connections",
    ] {
        assert_eq!(
            one.perfdata(label).value,
            two.perfdata(label).value,
            "{label}:\n{}\n{}",
            one.stdout(),
            two.stdout()
        );
    }
    assert_eq!(verdict_of(&one), verdict_of(&two));
}

#[test]
fn a_delay_between_connections_spaces_them_and_finds_the_same() {
    // For servers that rate-limit: every connection after the first waits
    // --delay, so the scan cannot take less than (connections - 1) delays.
    let server = nginx(&TestCa::shared().leaf("delay"), INTERMEDIATE);
    let plain = check(server.port(), &[], None);
    let spaced = check(server.port(), &["--delay", "50ms"], None);
    assert_eq!(verdict_of(&plain), verdict_of(&spaced));
    for label in ["suites_tls1_3", "suites_tls1_2", "connections"] {
        assert_eq!(
            plain.perfdata(label).value,
            spaced.perfdata(label).value,
            "{label}"
        );
    }
    let connections = spaced.perfdata("connections").value.expect("a count");
    let took = spaced.perfdata("time").value.expect("seconds");
    assert!(
        took >= (connections - 1.0) * 0.05,
        "{connections} connections 50 ms apart took only {took} s:\n{}",
        spaced.stdout()
    );
}

#[test]
fn verbose_shows_the_rustls_handshake_log() {
    let server = nginx(&TestCa::shared().leaf("verbose"), INTERMEDIATE);
    let port = server.port().to_string();
    let run = plugin("check-tls-ciphers")
        .args(["-H", "localhost", "-p", &port, "-vv", "--ca-file"])
        .arg(TestCa::shared().cert())
        .allow_stderr()
        .run();
    assert!(run.stderr().contains("rustls::"), "{}", run.stderr());
}

#[test]
fn a_server_with_rsa_and_ecdsa_certificates_shows_both() {
    let ca = TestCa::shared();
    let ecdsa = ca.leaf_with("dual-ecdsa", KeyType::EcP256, 30);
    let snippet = format!("{}{INTERMEDIATE}", ecdsa.nginx_directives());
    let server = nginx(&ca.leaf("dual-rsa"), &snippet);
    check(server.port(), &[], None)
        .state_is(State::Ok)
        .long_text_contains("RSA 2048 bits")
        .long_text_contains("ECDSA P-256")
        .long_text_contains("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    same_as_sslscan(server.port(), None);
}

#[test]
fn a_server_that_goes_quiet_after_answering_is_judged_not_timed_out() {
    // Five probes or more meet silence; waiting the full read timeout on
    // each would pass -t. After one answer, silence is a refusal sooner.
    let quiet = FakeTlsQuietServer::start();
    let port = quiet.port().to_string();
    let run = plugin("check-tls-ciphers")
        .args(["-H", "127.0.0.1", "-p", &port, "-t", "20s"])
        .run();
    run.state_is(State::Critical)
        .first_line_contains("no TLS on 127.0.0.1:");
    assert!(!run.first_line().contains("timed out"), "{}", run.stdout());
}

// ---- The policy file (issue 24): the story's policy, TLS 1.2
// ECDHE-RSA-AES256-GCM-SHA384 and TLS 1.3 TLS_AES_256_GCM_SHA384, RSA ≥ 2048,
// kept and broken by nginx, gnutls-serv and openssl s_server.

/// nginx set up as the story's policy says.
const STORY_NGINX: &str = "ssl_protocols TLSv1.2 TLSv1.3;\n\
    ssl_ciphers 'ECDHE-RSA-AES256-GCM-SHA384';\n\
    ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384;";
/// gnutls-serv set up as the story's policy says.
const STORY_GNUTLS: &str =
    "NORMAL:-CIPHER-ALL:+AES-256-GCM:-KX-ALL:+ECDHE-RSA:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3";
/// `openssl s_server` set up as the story's policy says.
const STORY_S_SERVER: &[&str] = &[
    "-cipher",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "-ciphersuites",
    "TLS_AES_256_GCM_SHA384",
];

/// The story's policy as the plugin ships it.
fn story_policy() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/check-tls-ciphers/policies/story.toml")
}

/// A policy file with `text`, in a directory that lives as long as the
/// returned guard.
fn policy_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = nightwatch_testkit::process::scratch_dir("tls-policy");
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, text).expect("write the policy");
    (dir, path)
}

fn check_policy(port: u16, policy: &Path, netns: Option<&Path>) -> PluginRun {
    check(port, &["--policy", policy.to_str().unwrap()], netns)
}

#[test]
fn the_story_policy_against_nginx_kept_and_broken() {
    let ca = TestCa::shared();
    let kept = nginx(&ca.leaf("story-kept"), STORY_NGINX);
    let run = check_policy(kept.port(), &story_policy(), None);
    run.state_is(State::Ok)
        .first_line_contains("story compliant: TLS 1.3 and TLS 1.2, 2 suites")
        .long_text_contains("TLS 1.3: TLS_AES_256_GCM_SHA384\n")
        .long_text_contains(
            "TLS 1.2: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 (ECDHE-RSA-AES256-GCM-SHA384)\n",
        );
    assert!(
        run.perfdata("connections").value.unwrap() < 20.0,
        "{}",
        run.stdout()
    );
    same_as_sslscan(kept.port(), None);

    // Mozilla intermediate is more than the story allows.
    let broken = nginx(&ca.leaf("story-broken"), INTERMEDIATE);
    check_policy(broken.port(), &story_policy(), None)
        .state_is(State::Critical)
        .first_line_contains("TLS_AES_128_GCM_SHA256 accepted")
        .long_text_contains(
            "suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (ECDHE-RSA-AES128-GCM-SHA256) accepted in TLS 1.2, not in story",
        );

    // The right suites on a 1024-bit key.
    let weak = nginx(
        &ca.leaf_with("story-weak", KeyType::Rsa(1024), 30),
        &STORY_NGINX.replace("SHA384';", "SHA384:@SECLEVEL=0';"),
    );
    check_policy(weak.port(), &story_policy(), None)
        .state_is(State::Critical)
        .first_line_contains("RSA key of 1024 bits, below 2048");
}

#[test]
fn the_story_policy_against_gnutls_serv_kept_and_broken() {
    let ca = TestCa::shared();
    let kept = GnutlsServ::start(&ca.leaf("story-gnutls"), &["--priority", STORY_GNUTLS]);
    check_policy(kept.port(), &story_policy(), Some(kept.netns()))
        .state_is(State::Ok)
        .first_line_contains("story compliant: TLS 1.3 and TLS 1.2, 2 suites");
    same_as_sslscan(kept.port(), Some(kept.netns()));
    let broken = GnutlsServ::start(&ca.leaf("story-gnutls-normal"), &["--priority", "NORMAL"]);
    check_policy(broken.port(), &story_policy(), Some(broken.netns()))
        .state_is(State::Critical)
        .long_text_contains("not in story");
}

#[test]
fn the_story_policy_against_openssl_s_server_kept_and_broken_and_its_dh_group() {
    let ca = TestCa::shared();
    let kept = OpensslServer::start(&ca.leaf("story-s-server"), STORY_S_SERVER);
    check_policy(kept.port(), &story_policy(), None)
        .state_is(State::Ok)
        .first_line_contains("story compliant: TLS 1.3 and TLS 1.2, 2 suites");
    let broken = OpensslServer::start(&ca.leaf("story-s-server-default"), &[]);
    check_policy(broken.port(), &story_policy(), None)
        .state_is(State::Critical)
        .first_line_contains("accepted");

    // A DHE suite the policy allows, on a group below its minimum: the
    // size comes from the ServerKeyExchange (s_server's automatic group
    // for a 2048-bit key).
    let story = std::fs::read_to_string(story_policy()).unwrap();
    let (_dir, dhe_policy) = policy_file(
        &story
            .replace(
                "\"TLS_AES_256_GCM_SHA384\",",
                "\"TLS_AES_256_GCM_SHA384\", \"DHE-RSA-AES256-GCM-SHA384\",",
            )
            .replace(
                "min_rsa_bits = 2048",
                "min_rsa_bits = 2048\nmin_dh_bits = 3072",
            ),
    );
    let dhe = OpensslServer::start(
        &ca.leaf("story-s-server-dhe"),
        &[
            "-cipher",
            "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384",
            "-ciphersuites",
            "TLS_AES_256_GCM_SHA384",
        ],
    );
    let run = check_policy(dhe.port(), &dhe_policy, None);
    run.state_is(State::Critical)
        .first_line_contains("DH group of 2048 bits, below 3072")
        .long_text_contains("DHE group (TLS ≤ 1.2): 2048 bits ✗")
        .perfdata_has("dh_bits=2048");
}

#[test]
fn each_dialects_spelling_of_the_story_policy_gives_the_same_verdict() {
    let ca = TestCa::shared();
    let kept = nginx(&ca.leaf("dialect-kept"), STORY_NGINX);
    let broken = nginx(&ca.leaf("dialect-broken"), INTERMEDIATE);
    let story = std::fs::read_to_string(story_policy()).unwrap();
    let openssl = r#""ECDHE-RSA-AES256-GCM-SHA384", # TLS 1.2
    "TLS_AES_256_GCM_SHA384",      # TLS 1.3"#;
    assert!(story.contains(openssl), "the shipped story policy changed");
    let spellings = [
        (
            "IANA and Java",
            r#""TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384""#,
        ),
        (
            "GnuTLS",
            r#""TLS_ECDHE_RSA_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384""#,
        ),
        (
            "Erlang tuples",
            r#""{ecdhe_rsa,aes_256_gcm,aead,sha384}", "{any,aes_256_gcm,aead,sha384}""#,
        ),
        (
            "Erlang maps",
            r##""#{key_exchange => ecdhe_rsa, cipher => aes_256_gcm, mac => aead, prf => sha384}", "#{key_exchange => any, cipher => aes_256_gcm, mac => aead, prf => sha384}""##,
        ),
        ("code points", r#""0xC0,0x30", "0x13,0x02""#),
        ("TOML integers", "0xC030, 0x1302"),
        (
            "mixed",
            r#""TLS_ECDHE_RSA_AES_256_GCM_SHA384", "{any,aes_256_gcm,aead,sha384}""#,
        ),
    ];
    let baseline = (
        verdict_of(&check_policy(kept.port(), &story_policy(), None)),
        verdict_of(&check_policy(broken.port(), &story_policy(), None)),
    );
    assert_eq!(baseline.0.0, State::Ok, "{baseline:?}");
    assert_eq!(baseline.1.0, State::Critical, "{baseline:?}");
    for (dialect, suites) in spellings {
        let (_dir, policy) = policy_file(&story.replace(openssl, suites));
        let verdicts = (
            verdict_of(&check_policy(kept.port(), &policy, None)),
            verdict_of(&check_policy(broken.port(), &policy, None)),
        );
        assert_eq!(verdicts, baseline, "{dialect}");
    }
}

#[test]
fn a_policy_wanting_server_order_warns_on_a_client_ordered_server() {
    let server = nginx(&TestCa::shared().leaf("server-order"), INTERMEDIATE);
    let (_dir, policy) = policy_file(
        "name = \"ordered\"\nextends = \"mozilla-intermediate\"\nserver_order = true\n",
    );
    check_policy(server.port(), &policy, None)
        .state_is(State::Warning)
        .first_line_contains("the client decides the suite order, ordered wants the server's");
}

#[test]
fn the_policys_expiry_days_apply_unless_w_and_c_are_given() {
    // Test leaves live 30 days: within the story's 30-day warning, outside
    // the 5 days -w gives in `check`.
    let server = nginx(&TestCa::shared().leaf("story-expiry"), STORY_NGINX);
    let port = server.port().to_string();
    let ca = TestCa::shared().cert();
    plugin("check-tls-ciphers")
        .args(["-H", "localhost", "-p", &port, "--policy"])
        .arg(story_policy())
        .arg("--ca-file")
        .arg(&ca)
        .run()
        .state_is(State::Warning)
        .first_line_contains("RSA certificate expires in")
        .perfdata_has("days_left=");
    check_policy(server.port(), &story_policy(), None).state_is(State::Ok);
}

#[test]
fn a_broken_policy_is_unknown_naming_the_file_and_line() {
    let (_dir, policy) = policy_file(
        "protocols = [\"TLS1.2\"]\nsuites = [\"ECDHE-RSA-AES256-GCM-SHA384\", \"TLS_AES_256_GCM_SHA384\"]\n",
    );
    let shown = policy.display().to_string();
    // No server is needed: the policy is read before any connection.
    let port = nightwatch_testkit::ports::free_port().to_string();
    plugin("check-tls-ciphers")
        .args(["-H", "127.0.0.1", "-p", &port, "--policy", &shown, "--unreachable-state", "ok"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains(&format!(
            "policy {shown}:2: suites: TLS_AES_256_GCM_SHA384 is a TLS 1.3 suite, and protocols allows only TLS 1.2"
        ));
    plugin("check-tls-ciphers")
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "--policy",
            "/nonexistent/story.toml",
        ])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("policy /nonexistent/story.toml: cannot read");
    plugin("check-tls-ciphers")
        .args([
            "-H",
            "127.0.0.1",
            "-p",
            &port,
            "--policy",
            &shown,
            "--profile",
            "mozilla-modern",
        ])
        .run()
        .state_is(State::Unknown);
}
