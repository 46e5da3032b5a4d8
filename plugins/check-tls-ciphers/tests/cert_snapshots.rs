//! Pinned operator texts of the certificate rules: what check-tls-ciphers
//! prints for a compliant scan whose certificates break one rule each
//! (key, SHA-1/MD5 signatures, dates, names, chain, stapled OCSP), rendered
//! by the library as `check` renders a real scan. A change of wording is
//! then a reviewed diff in `tests/snapshots/`.
//!
//! A changed text fails and leaves `<name>.snap.new` (`cargo insta review`,
//! or `INSTA_UPDATE=always cargo test -p check-tls-ciphers --test
//! cert_snapshots` and `git diff`). In CI insta writes nothing.

use std::fmt::Write as _;
use std::time::Duration;

use check_tls_ciphers::cert::{CertFacts, ChainCert, OcspStatus, Stapled};
use check_tls_ciphers::scan::{Order, Scan, VersionScan};
use check_tls_ciphers::suites::Version;
use check_tls_ciphers::{Args, Found, LABEL, policy_for, render};
use clap::Parser as _;
use nightwatch_core::Report;

const NOW: i64 = 1_766_678_400;
const DAY: i64 = 86_400;

/// A valid RSA 2048 leaf for www.example.org, 60 days left of 90.
fn rsa() -> CertFacts {
    CertFacts {
        subject: "CN=www.example.org".into(),
        issuer: "CN=Example Intermediate".into(),
        key_type: "RSA".into(),
        key_bits: 2048,
        curve: None,
        signature: "sha256WithRSAEncryption".into(),
        digest: Some("SHA-256".into()),
        not_before: NOW - 30 * DAY,
        not_after: NOW + 60 * DAY,
        names: vec!["www.example.org".into()],
        name_matches: true,
        chain_error: None,
        chain_length: 2,
        intermediates: vec![ChainCert {
            subject: "CN=Example Intermediate".into(),
            issuer: "CN=Example Root".into(),
            signature: "sha256WithRSAEncryption".into(),
            digest: Some("SHA-256".into()),
            self_signed: false,
        }],
        ocsp: Some(Stapled::Response {
            status: OcspStatus::Good,
            this_update: NOW - DAY,
            next_update: Some(NOW + 6 * DAY),
        }),
        protocol: "TLSv1_3".into(),
    }
}

fn ecdsa(curve: &str, bits: u32) -> CertFacts {
    CertFacts {
        key_type: "ECDSA".into(),
        key_bits: bits,
        curve: Some(curve.into()),
        ..rsa()
    }
}

fn compliant() -> Scan {
    Scan {
        versions: vec![
            VersionScan {
                version: Version::Tls13,
                suites: vec![0x1301, 0x1302, 0x1303],
            },
            VersionScan {
                version: Version::Tls12,
                suites: vec![0xC02B, 0xC02F, 0xC030],
            },
        ],
        tls13_groups: vec![29, 23, 24],
        order: Some(Order::Client),
        ..Scan::default()
    }
}

/// The plugin output for `certs` under a policy extending Mozilla
/// intermediate with `lines`.
fn output(lines: &str, certs: Vec<CertFacts>) -> String {
    // A file per case: the policy's name, not its path, is what is shown.
    static CASE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let case = CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "check-tls-ciphers-cert-snapshot-{}-{case}.toml",
        std::process::id()
    ));
    std::fs::write(
        &path,
        format!("name = \"site\"\nextends = \"mozilla-intermediate\"\n{lines}\n"),
    )
    .expect("write the policy");
    let path = path.display().to_string();
    let args = Args::try_parse_from([
        "check-tls-ciphers",
        "-H",
        "www.example.org",
        "--policy",
        &path,
    ])
    .expect("arguments");
    let policy = policy_for(&args).unwrap_or_else(|e| panic!("{lines}: {e}"));
    let _ = std::fs::remove_file(&path);
    let found = Found {
        target: "192.0.2.10:443".into(),
        scan: compliant(),
        certs,
        cert_problem: None,
        connections: 19,
        elapsed: Duration::from_millis(12),
    };
    render(Report::new(LABEL), &args, &policy, &found, NOW).render()
}

/// [`rsa`] with the chain problem `error`.
fn chain_error(error: &str) -> CertFacts {
    CertFacts {
        chain_error: Some(error.into()),
        ..rsa()
    }
}

/// [`rsa`] with a stapled response saying `status`, due again at `next`.
fn stapled(status: OcspStatus, next: i64) -> CertFacts {
    CertFacts {
        ocsp: Some(Stapled::Response {
            status,
            this_update: NOW - 10 * DAY,
            next_update: Some(next),
        }),
        ..rsa()
    }
}

#[test]
fn certificate_outputs() {
    let sha1_leaf = CertFacts {
        signature: "sha1WithRSAEncryption".into(),
        digest: Some("SHA-1".into()),
        ..rsa()
    };
    let mut md5_intermediate = rsa();
    md5_intermediate.intermediates[0].signature = "md5WithRSAEncryption".into();
    md5_intermediate.intermediates[0].digest = Some("MD5".into());
    let incomplete = CertFacts {
        intermediates: Vec::new(),
        chain_length: 1,
        ..chain_error(
            "incomplete: the server does not send the issuer of CN=www.example.org (CN=Example Intermediate)",
        )
    };
    let unknown_ca = chain_error(
        "from an unknown CA: CN=Example Root, the issuer of CN=Example Intermediate, is not a trusted root",
    );
    let wildcard_miss = CertFacts {
        names: vec!["*.example.org".into()],
        name_matches: false,
        ..rsa()
    };
    let revoked = stapled(
        OcspStatus::Revoked {
            at: NOW - 2 * DAY,
            reason: Some("KeyCompromise".into()),
        },
        NOW + 6 * DAY,
    );
    let stale = stapled(OcspStatus::Good, NOW - 3 * DAY);
    let unstapled = CertFacts {
        ocsp: Some(Stapled::None),
        ..rsa()
    };
    let over_lifetime = CertFacts {
        not_before: NOW - 400 * DAY,
        not_after: NOW + 20 * DAY,
        ..rsa()
    };
    let not_yet = CertFacts {
        not_before: NOW + 2 * DAY,
        ..rsa()
    };
    let cases: Vec<(&str, &str, Vec<CertFacts>)> = vec![
        ("compliant, OCSP good", "ocsp_stapling = true", vec![rsa()]),
        ("SHA-1 leaf", "", vec![sha1_leaf]),
        ("MD5 intermediate", "", vec![md5_intermediate]),
        (
            "P-256 under min_ec_bits 384, with an RSA certificate",
            "min_ec_bits = 384",
            vec![ecdsa("P-256", 256), rsa()],
        ),
        (
            "Ed25519 not in key_types",
            "",
            vec![CertFacts {
                key_type: "Ed25519".into(),
                key_bits: 256,
                ..rsa()
            }],
        ),
        ("incomplete chain", "", vec![incomplete]),
        ("unknown CA", "", vec![unknown_ca]),
        ("wildcard for another name", "", vec![wildcard_miss]),
        ("revoked, stapled", "", vec![revoked]),
        (
            "stale staple, stapling required",
            "ocsp_stapling = true",
            vec![stale],
        ),
        (
            "no staple, stapling required",
            "ocsp_stapling = true",
            vec![unstapled],
        ),
        (
            "staple, stapling forbidden",
            "ocsp_stapling = false",
            vec![rsa()],
        ),
        (
            "over the lifetime cap, expiring",
            "expiry_warning = \"21d\"\nexpiry_critical = \"7d\"",
            vec![over_lifetime],
        ),
        ("not valid yet", "", vec![not_yet]),
    ];
    let mut all = String::new();
    for (name, lines, certs) in cases {
        let _ = writeln!(all, "## {name}\n{}", output(lines, certs));
    }
    insta::assert_snapshot!(all);
}
