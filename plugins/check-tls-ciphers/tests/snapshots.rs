//! Pinned operator texts: `--help` and what check-tls-ciphers prints for
//! fixed scans (compliant, legacy, modern-profile violations, no TLS at
//! all), rendered by the library as `check` renders a real scan. A change
//! of wording is then a reviewed diff in `tests/snapshots/`.
//!
//! A changed text fails and leaves `<name>.snap.new` (`cargo insta review`,
//! or `INSTA_UPDATE=always cargo test -p check-tls-ciphers --test
//! snapshots` and `git diff`). In CI insta writes nothing.

use std::fmt::Write as _;
use std::time::Duration;

use check_tls_ciphers::cert::CertFacts;
use check_tls_ciphers::scan::{Order, Scan, VersionScan};
use check_tls_ciphers::suites::Version;
use check_tls_ciphers::{Args, Found, LABEL, render};
use clap::{CommandFactory as _, Parser as _};
use nightwatch_core::Report;

const NOW: i64 = 1_766_678_400;
const DAY: i64 = 86_400;

fn cert(key_type: &str, bits: u32, curve: Option<&str>, days_left: i64) -> CertFacts {
    CertFacts {
        subject: "CN=www.example.org".into(),
        issuer: "CN=Example CA".into(),
        key_type: key_type.into(),
        key_bits: bits,
        curve: curve.map(str::to_owned),
        signature: "sha256WithRSAEncryption".into(),
        not_before: NOW - 30 * DAY,
        not_after: NOW + days_left * DAY,
        names: vec!["www.example.org".into()],
        name_matches: true,
        chain_error: None,
        chain_length: 2,
        protocol: "TLSv1_3".into(),
    }
}

fn scan(versions: &[(Version, &[u16])], groups: &[u16], order: Option<Order>) -> Scan {
    Scan {
        versions: versions
            .iter()
            .map(|(version, suites)| VersionScan {
                version: *version,
                suites: suites.to_vec(),
            })
            .collect(),
        tls13_groups: groups.to_vec(),
        tls12_groups: groups.iter().copied().filter(|&g| g < 0x100).collect(),
        order,
        ..Scan::default()
    }
}

fn output(flags: &[&str], scan: Scan, certs: Vec<CertFacts>) -> String {
    let args = Args::try_parse_from(
        ["check-tls-ciphers", "-H", "www.example.org"]
            .iter()
            .chain(flags),
    )
    .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    let found = Found {
        target: "192.0.2.10:443".into(),
        scan,
        certs,
        cert_problem: None,
        connections: 19,
        elapsed: Duration::from_millis(12),
    };
    render(Report::new(LABEL), &args, &found, NOW).render()
}

#[test]
fn help() {
    let help = Args::command().term_width(80).render_help().to_string();
    insta::assert_snapshot!(help);
}

#[test]
fn outputs() {
    let mut all = String::new();
    let compliant = scan(
        &[
            (Version::Tls13, &[0x1301, 0x1302, 0x1303]),
            (Version::Tls12, &[0xC02F, 0xC030, 0xCCA8]),
        ],
        &[29, 23, 24],
        Some(Order::Client),
    );
    let legacy = scan(
        &[
            (Version::Tls12, &[0xC02F, 0x0005, 0x000A, 0x002F]),
            (Version::Tls11, &[0x0005, 0x002F]),
            (Version::Tls10, &[0x0005, 0x002F]),
        ],
        &[23, 25],
        Some(Order::Server),
    );
    let cases: Vec<(&str, &[&str], Scan, Vec<CertFacts>)> = vec![
        (
            "intermediate-compliant",
            &[],
            compliant.clone(),
            vec![cert("RSA", 2048, None, 60)],
        ),
        (
            "legacy-server-weak-key-expiring",
            &[],
            legacy,
            vec![cert("RSA", 1024, None, 10)],
        ),
        (
            "modern-profile-on-an-intermediate-server",
            &["--profile", "mozilla-modern"],
            compliant,
            vec![cert("RSA", 2048, None, 60)],
        ),
        (
            "modern-compliant-ecdsa",
            &["--profile", "mozilla-modern"],
            scan(
                &[(Version::Tls13, &[0x1301, 0x1302, 0x1303])],
                &[29, 23],
                Some(Order::Client),
            ),
            vec![cert("ECDSA", 256, Some("P-256"), 40)],
        ),
        (
            "no-tls",
            &[],
            Scan {
                not_tls: Some("record type 83 is not TLS handshake or alert".into()),
                ..Scan::default()
            },
            vec![],
        ),
    ];
    for (name, flags, scan, certs) in cases {
        let _ = writeln!(
            all,
            "=== {name} ({})\n{}\n",
            flags.join(" "),
            output(flags, scan, certs)
        );
    }
    insta::assert_snapshot!(all);
}
