//! Pinned operator texts: `--help`, what check-tls-ciphers prints for
//! fixed scans (compliant, legacy, modern-profile violations, no TLS at
//! all, the story's policy kept and broken, names in a dialect), rendered
//! by the library as `check` renders a real scan, and what a broken policy
//! file is told. A change of wording is then a reviewed diff in
//! `tests/snapshots/`.
//!
//! A changed text fails and leaves `<name>.snap.new` (`cargo insta review`,
//! or `INSTA_UPDATE=always cargo test -p check-tls-ciphers --test
//! snapshots` and `git diff`). In CI insta writes nothing.

use std::fmt::Write as _;
use std::time::Duration;

use std::path::{Path, PathBuf};

use check_tls_ciphers::cert::CertFacts;
use check_tls_ciphers::policy::Policy;
use check_tls_ciphers::scan::{Order, Scan, VersionScan};
use check_tls_ciphers::suites::Version;
use check_tls_ciphers::{Args, Found, LABEL, policy_for, render};
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
        ..CertFacts::default()
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

/// Stands for the shipped story policy's path in a case's flags.
const STORY: &str = "@story";

fn output(flags: &[&str], scan: Scan, certs: Vec<CertFacts>) -> String {
    let args = Args::try_parse_from(
        ["check-tls-ciphers", "-H", "www.example.org"]
            .iter()
            .chain(flags),
    )
    .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    let policy = policy_for(&args).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    let found = Found {
        target: "192.0.2.10:443".into(),
        scan,
        certs,
        cert_problem: None,
        connections: 19,
        elapsed: Duration::from_millis(12),
    };
    render(Report::new(LABEL), &args, &policy, &found, NOW).render()
}

/// The story's policy as shipped.
fn story() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/story.toml")
}

#[test]
fn help() {
    let help = Args::command().term_width(80).render_help().to_string();
    insta::assert_snapshot!(help);
}

#[test]
fn outputs() {
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
    let cases: Vec<Case<'_>> = vec![
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
    let all = shown(cases);
    insta::assert_snapshot!(all);
}

type Case<'a> = (&'a str, &'a [&'a str], Scan, Vec<CertFacts>);

/// Each case's flags and output, the story policy's path shown as shipped.
fn shown(cases: Vec<Case<'_>>) -> String {
    let mut all = String::new();
    let story = story();
    for (name, flags, scan, certs) in cases {
        let flags: Vec<&str> = flags
            .iter()
            .map(|&f| {
                if f == STORY {
                    story.to_str().unwrap()
                } else {
                    f
                }
            })
            .collect();
        let shown = flags
            .join(" ")
            .replace(story.to_str().unwrap(), "policies/story.toml");
        let _ = writeln!(
            all,
            "=== {name} ({shown})\n{}\n",
            output(&flags, scan, certs)
        );
    }
    all
}

/// The story's policy kept and broken, and names in a dialect.
#[test]
fn policy_outputs() {
    let cases: Vec<Case<'_>> = vec![
        (
            "story-policy-kept",
            &["--policy", STORY],
            scan(
                &[(Version::Tls13, &[0x1302]), (Version::Tls12, &[0xC030])],
                &[29, 23, 25],
                None,
            ),
            vec![cert("RSA", 2048, None, 60)],
        ),
        (
            "story-policy-broken-by-an-intermediate-server-dhe-and-a-small-key",
            &["--policy", STORY, "-w", "90d", "-c", "65d"],
            Scan {
                dh_bits: Some(1024),
                ..scan(
                    &[
                        (Version::Tls13, &[0x1302, 0x1301]),
                        (Version::Tls12, &[0xC030, 0xC02F, 0x009F]),
                    ],
                    &[29, 23],
                    Some(Order::Server),
                )
            },
            vec![cert("RSA", 1024, None, 60)],
        ),
        (
            "legacy-server-in-gnutls-names",
            &["--names", "gnutls"],
            scan(
                &[(Version::Tls12, &[0xC02F, 0x0005, 0x0003])],
                &[23],
                Some(Order::Server),
            ),
            vec![cert("RSA", 2048, None, 60)],
        ),
    ];
    insta::assert_snapshot!(shown(cases));
}

/// What a policy file is told when it is wrong: the file, the line, the
/// key, and what to fix.
#[test]
fn policy_errors() {
    let story = std::fs::read_to_string(story()).expect("the shipped story policy");
    let cases: Vec<(&str, String)> = vec![
        (
            "a misspelt key",
            "protocols = [\"TLS1.2\"]\nsuits = [\"TLS_AES_256_GCM_SHA384\"]\n".into(),
        ),
        (
            "an unknown suite",
            story.replace("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA385"),
        ),
        (
            "a suite allowed and forbidden",
            format!("{story}forbid_suites = [\"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\"]\n"),
        ),
        (
            "a TLS 1.3 suite in a TLS 1.2 policy",
            story.replace("\"TLS1.2\", \"TLS1.3\"", "\"TLS1.2\""),
        ),
        (
            "a protocol no suite works in",
            story.replace(
                "\"TLS1.2\", \"TLS1.3\"",
                "\"TLS1.1\", \"TLS1.2\", \"TLS1.3\"",
            ),
        ),
        (
            "no forward secrecy",
            story.replace(
                "\"TLS_AES_256_GCM_SHA384\",",
                "\"TLS_AES_256_GCM_SHA384\", \"AES256-GCM-SHA384\",",
            ),
        ),
        (
            "critical longer than warning",
            story.replace("expiry_critical = \"14d\"", "expiry_critical = \"31d\""),
        ),
        ("an unknown profile", "extends = \"mozilla-old\"\n".into()),
        (
            "an unknown group",
            "extends = \"mozilla-intermediate\"\ngroups = [\"X25519\", \"P-255\"]\n".into(),
        ),
        (
            "an unknown protocol",
            "extends = \"mozilla-intermediate\"\nprotocols = [\"TLS1.2\", \"QUIC\"]\n".into(),
        ),
        (
            "a bad duration",
            "extends = \"mozilla-intermediate\"\nmax_lifetime = \"1 year-ish\"\n".into(),
        ),
        (
            "a wrong type",
            "extends = \"mozilla-intermediate\"\nmin_rsa_bits = \"2048\"\n".into(),
        ),
        (
            "no protocols without extends",
            "suites = [\"TLS_AES_256_GCM_SHA384\"]\n".into(),
        ),
        ("not TOML", "protocols = [\"TLS1.2\"\n".into()),
    ];
    let mut all = String::new();
    for (name, text) in cases {
        let error = Policy::parse(&text, Path::new("policies/story.toml"))
            .expect_err(name)
            .to_string();
        let _ = writeln!(all, "=== {name}\n{error}\n");
    }
    insta::assert_snapshot!(all);
}
