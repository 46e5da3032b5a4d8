//! check-tls-ciphers' certificate rules against real `openssl s_server`s
//! serving certificates the openssl CLI made: keys by type and size,
//! SHA-1/MD5 signatures, host names and wildcards, incomplete chains and
//! unknown CAs, stapled OCSP responses made offline by `openssl ocsp`, the
//! policy's dates, and an endpoint with both an RSA and an ECDSA
//! certificate. Everything else on these servers is Mozilla-intermediate
//! compliant, so the state is the certificate's alone.

use std::path::Path;

use nightwatch_testkit::tls::{LeafSpec, LoopbackHosts, OcspAnswer};
use nightwatch_testkit::{
    KeyType, Leaf, Nginx, OpensslServer, PluginRun, State, TestCa, plugin, plugin_at,
};
use tempfile::TempDir;

/// The six Mozilla-intermediate TLS 1.2 suites; SECLEVEL 0 so OpenSSL
/// serves the weak certificates these tests need.
const SUITES: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
    ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
    ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:@SECLEVEL=0";

/// Mozilla intermediate for nginx.
const NGINX_INTERMEDIATE: &str = "ssl_protocols TLSv1.2 TLSv1.3;\n\
    ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';\n\
    ssl_ecdh_curve X25519:prime256v1:secp384r1;";

/// `openssl s_server` with `leaf`, TLS 1.2 and 1.3 with Mozilla
/// intermediate's suites and groups, and `extra` arguments.
fn serve(leaf: &Leaf, extra: &[&str]) -> OpensslServer {
    let mut args = vec![
        "-cipher",
        SUITES,
        "-groups",
        "X25519:P-256:P-384",
        "-no_ssl3",
        "-no_tls1",
        "-no_tls1_1",
    ];
    args.extend(extra);
    OpensslServer::start(leaf, &args)
}

/// A policy file extending Mozilla intermediate with `lines`.
fn policy(lines: &str) -> (TempDir, std::path::PathBuf) {
    let dir = nightwatch_testkit::process::scratch_dir("cert-policy");
    let path = dir.path().join("policy.toml");
    std::fs::write(
        &path,
        format!("extends = \"mozilla-intermediate\"\n{lines}\n"),
    )
    .expect("write the policy");
    (dir, path)
}

/// The check on `localhost:port` trusting `ca`, with `extra` arguments.
fn check_with(port: u16, ca: &Path, extra: &[&str]) -> PluginRun {
    plugin("check-tls-ciphers")
        .args(["-H", "localhost", "-p", &port.to_string(), "--ca-file"])
        .arg(ca)
        .args(extra)
        .run()
}

/// Expiry times that leave the test leaves (30 days) alone.
const CALM: &[&str] = &["-w", "5d", "-c", "2d"];

/// The check under Mozilla intermediate with calm expiry times.
fn check(port: u16, extra: &[&str]) -> PluginRun {
    let mut args = CALM.to_vec();
    args.extend(extra);
    check_with(port, &TestCa::shared().cert(), &args)
}

/// The check under a policy file extending Mozilla intermediate with
/// `lines`, and calm expiry times unless they set their own (-w/-c would
/// override the policy's).
fn check_policy(port: u16, lines: &str) -> PluginRun {
    let lines = if lines.contains("expiry_") {
        lines.to_owned()
    } else {
        format!("expiry_warning = \"5d\"\nexpiry_critical = \"2d\"\n{lines}")
    };
    let (_dir, path) = policy(&lines);
    check_with(
        port,
        &TestCa::shared().cert(),
        &["--policy", &path.display().to_string()],
    )
}

fn leaf(name: &str, spec: &LeafSpec) -> Leaf {
    TestCa::shared().leaf_spec(name, spec)
}

#[test]
fn sha1_and_md5_signatures_are_critical_on_the_leaf_and_intermediates() {
    for (digest, shown) in [("sha1", "SHA-1"), ("md5", "MD5")] {
        let signed = leaf(
            &format!("signed-{digest}"),
            &LeafSpec {
                digest,
                ..LeafSpec::default()
            },
        );
        let server = serve(&signed, &[]);
        check(server.port(), &[])
            .state_is(State::Critical)
            .first_line_contains(&format!("RSA certificate signed with {shown}"));
    }
    let ca = TestCa::new();
    let weak = ca.intermediate_signed("sha1-intermediate", "sha1");
    let weak_chain = weak.cert().display().to_string();
    let server = serve(&weak.leaf("under-sha1"), &["-cert_chain", &weak_chain]);
    check_with(server.port(), &ca.cert(), CALM)
        .state_is(State::Critical)
        .first_line_contains(
            "RSA certificate intermediate CN=nightwatch test sha1-intermediate signed with SHA-1",
        );
    // The same chain signed with SHA-256, its root sent too: a root's
    // signature on itself (here SHA-256, but any) is not judged.
    let good = ca.intermediate("sha256-intermediate");
    let mut sent = std::fs::read(good.cert()).expect("the intermediate");
    sent.extend(std::fs::read(ca.cert()).expect("the root"));
    let sent_file = good.cert().with_extension("sent.crt");
    std::fs::write(&sent_file, sent).expect("write the chain sent");
    let server = serve(
        &good.leaf("under-sha256"),
        &["-cert_chain", &sent_file.display().to_string()],
    );
    check_with(server.port(), &ca.cert(), CALM).state_is(State::Ok);
}

#[test]
fn rsa_2048_passes_and_1024_is_critical() {
    let strong = serve(&TestCa::shared().leaf("rsa-2048"), &[]);
    check(strong.port(), &[])
        .state_is(State::Ok)
        .perfdata_has("key_bits=2048");
    let weak = serve(
        &TestCa::shared().leaf_with("rsa-1024", KeyType::Rsa(1024), 30),
        &[],
    );
    check(weak.port(), &[])
        .state_is(State::Critical)
        .first_line_contains("RSA key of 1024 bits, below 2048");
}

#[test]
fn p256_is_below_min_ec_bits_384_and_p384_is_not() {
    let p384 = serve(
        &TestCa::shared().leaf_with("p384", KeyType::EcP384, 30),
        &[],
    );
    check_policy(p384.port(), "min_ec_bits = 384")
        .state_is(State::Ok)
        .long_text_contains("ECDSA P-384");
    let p256 = serve(
        &TestCa::shared().leaf_with("p256", KeyType::EcP256, 30),
        &[],
    );
    check_policy(p256.port(), "min_ec_bits = 384")
        .state_is(State::Critical)
        .first_line_contains("ECDSA key P-256 (256 bits), below 384");
    // The same P-256 under the profile's 256 passes.
    check(p256.port(), &[]).state_is(State::Ok);
}

#[test]
fn key_types_the_policy_does_not_list_are_critical() {
    let ed25519 = serve(
        &TestCa::shared().leaf_with("ed25519", KeyType::Ed25519, 30),
        &[],
    );
    check(ed25519.port(), &[])
        .state_is(State::Critical)
        .first_line_contains("Ed25519 key of 256 bits, mozilla-intermediate wants RSA or ECDSA");
    check_policy(ed25519.port(), "key_types = [\"Ed25519\"]").state_is(State::Ok);
}

/// The check of `host` through a hosts file that names it 127.0.0.1.
fn check_as(hosts: &LoopbackHosts, host: &str, port: u16) -> PluginRun {
    let bin = nightwatch_testkit::plugin_cmd::workspace_bin("check-tls-ciphers");
    plugin_at(hosts.wrap(&bin))
        .args(["-H", host, "-p", &port.to_string(), "--ca-file"])
        .arg(TestCa::shared().cert())
        .args(CALM)
        .run()
}

#[test]
fn a_wildcard_matches_one_left_most_label_only() {
    let hosts = LoopbackHosts::new(&["www.example.org", "example.org", "a.b.example.org"]);
    let wildcard = serve(
        &leaf(
            "wildcard",
            &LeafSpec {
                san: "DNS:*.example.org".into(),
                ..LeafSpec::default()
            },
        ),
        &[],
    );
    check_as(&hosts, "www.example.org", wildcard.port()).state_is(State::Ok);
    for host in ["example.org", "a.b.example.org"] {
        check_as(&hosts, host, wildcard.port())
            .state_is(State::Critical)
            .first_line_contains("RSA certificate does not name the host");
    }
    let partial = serve(
        &leaf(
            "partial",
            &LeafSpec {
                san: "DNS:w*.example.org".into(),
                ..LeafSpec::default()
            },
        ),
        &[],
    );
    check_as(&hosts, "www.example.org", partial.port())
        .state_is(State::Critical)
        .first_line_contains("does not name the host");
}

#[test]
fn an_ip_address_matches_ip_sans_only() {
    let as_dns = serve(
        &leaf(
            "ip-as-dns",
            &LeafSpec {
                san: "DNS:127.0.0.1,DNS:localhost".into(),
                ..LeafSpec::default()
            },
        ),
        &[],
    );
    let by_ip = |port: u16| {
        plugin("check-tls-ciphers")
            .args(["-H", "127.0.0.1", "-p", &port.to_string(), "--ca-file"])
            .arg(TestCa::shared().cert())
            .args(CALM)
            .run()
    };
    by_ip(as_dns.port())
        .state_is(State::Critical)
        .first_line_contains("does not name the host");
    let as_ip = serve(&TestCa::shared().leaf("ip-san"), &[]);
    by_ip(as_ip.port()).state_is(State::Ok);
}

#[test]
fn an_incomplete_chain_is_told_from_an_unknown_ca() {
    let root = TestCa::new();
    let intermediate = root.intermediate("chain-intermediate");
    let leaf = intermediate.leaf("chained");
    let leaf_only = serve(&leaf, &[]);
    check_with(leaf_only.port(), &root.cert(), CALM)
        .state_is(State::Warning)
        .first_line_contains(
            "RSA certificate chain incomplete: the server does not send the issuer of CN=localhost",
        )
        .long_text_contains("(CN=nightwatch test chain-intermediate)");
    // nginx sends every certificate of its ssl_certificate file.
    let whole = Nginx::builder()
        .tls(&intermediate.chain(&leaf))
        .server_snippet(NGINX_INTERMEDIATE)
        .start();
    check_with(whole.port(), &root.cert(), CALM).state_is(State::Ok);
    // The whole chain, to a root not trusted: the anchor is another CA.
    let stranger = TestCa::shared().intermediate("stranger");
    check_with(whole.port(), &stranger.cert(), CALM)
        .state_is(State::Warning)
        .first_line_contains(
            "RSA certificate chain from an unknown CA: CN=nightwatch test CA, the issuer of CN=nightwatch test chain-intermediate, is not a trusted root",
        );
    // The policy's CA bundle is the trust anchor when no --ca-file is given.
    let (_dir, path) = policy(&format!(
        "expiry_warning = \"5d\"\nexpiry_critical = \"2d\"\nca_file = \"{}\"",
        root.cert().display()
    ));
    plugin("check-tls-ciphers")
        .args([
            "-H",
            "localhost",
            "-p",
            &whole.port().to_string(),
            "--policy",
        ])
        .arg(&path)
        .run()
        .state_is(State::Ok);
}

#[test]
fn stapled_ocsp_good_revoked_stale_and_none_under_the_policy() {
    let ca = TestCa::shared();
    let leaf = ca.leaf("stapled");
    let good = ca.ocsp_response(&leaf, OcspAnswer::Good, 0, 7);
    let revoked = ca.ocsp_response(&leaf, OcspAnswer::Revoked, 0, 7);
    let stale = ca.ocsp_response(&leaf, OcspAnswer::Good, 10, 1);
    let status = |file: &Path| serve(&leaf, &["-status_file", &file.display().to_string()]);

    let good = status(&good);
    check_policy(good.port(), "ocsp_stapling = true")
        .state_is(State::Ok)
        .long_text_contains("chain verified, OCSP good (TLSv1_3)");
    check_policy(good.port(), "ocsp_stapling = false")
        .state_is(State::Warning)
        .first_line_contains("RSA certificate: OCSP response stapled");

    let revoked = status(&revoked);
    check(revoked.port(), &[])
        .state_is(State::Critical)
        .first_line_contains("RSA certificate revoked (stapled OCSP)")
        .long_text_contains("reason KeyCompromise");
    check_policy(revoked.port(), "ocsp_stapling = true").state_is(State::Critical);

    let stale = status(&stale);
    check_policy(stale.port(), "ocsp_stapling = true")
        .state_is(State::Warning)
        .first_line_contains("RSA certificate: stapled OCSP response expired 9d ago");

    // Signed by a CA that is not the leaf's issuer: no client believes it.
    let stranger = TestCa::new();
    let forged = stranger.ocsp_response(&leaf, OcspAnswer::Revoked, 0, 7);
    let forged = status(&forged);
    check(forged.port(), &[])
        .state_is(State::Warning)
        .first_line_contains(
            "RSA certificate: stapled OCSP response unusable: its signature is not the issuer's",
        );

    let none = serve(&leaf, &[]);
    check_policy(none.port(), "ocsp_stapling = true")
        .state_is(State::Warning)
        .first_line_contains("RSA certificate: no OCSP response stapled");
    check_policy(none.port(), "ocsp_stapling = false")
        .state_is(State::Ok)
        .long_text_contains("chain verified, no OCSP staple (TLSv1_3)");
}

#[test]
fn expiry_and_lifetime_come_from_the_policy() {
    let thirty = serve(&TestCa::shared().leaf("thirty-days"), &[]);
    let dates = "expiry_warning = \"40d\"\nexpiry_critical = \"10d\"\nmax_lifetime = \"20d\"";
    let run = check_policy(thirty.port(), dates);
    run.state_is(State::Warning)
        .first_line_contains("RSA certificate expires in ")
        .long_text_contains("WARNING: RSA certificate valid 30 days, over 20");
    let five = serve(
        &TestCa::shared().leaf_with("five-days", KeyType::Rsa(2048), 5),
        &[],
    );
    check_policy(five.port(), dates)
        .state_is(State::Critical)
        .first_line_contains("RSA certificate expires in ");
    // Calm times and the profile's 366-day cap: nothing to say.
    check_policy(thirty.port(), "").state_is(State::Ok);
}

#[test]
fn both_certificates_of_a_dual_endpoint_are_judged() {
    let ca = TestCa::shared();
    let rsa = leaf(
        "dual-sha1",
        &LeafSpec {
            digest: "sha1",
            ..LeafSpec::default()
        },
    );
    let ecdsa = ca.leaf_with("dual-p256", KeyType::EcP256, 30);
    let server = serve(
        &rsa,
        &[
            "-dcert",
            &ecdsa.cert.display().to_string(),
            "-dkey",
            &ecdsa.key.display().to_string(),
        ],
    );
    check_policy(server.port(), "min_ec_bits = 384")
        .state_is(State::Critical)
        .long_text_contains(
            "CRITICAL: RSA certificate CN=localhost signed with sha1WithRSAEncryption (SHA-1)",
        )
        .long_text_contains("CRITICAL: ECDSA key P-256 (256 bits), below 384")
        .long_text_contains("RSA 2048 bits")
        .long_text_contains("ECDSA P-256");
}
