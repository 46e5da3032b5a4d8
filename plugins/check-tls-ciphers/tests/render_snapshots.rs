//! Pinned renders: every `tls-policy render` target for Mozilla
//! intermediate, Mozilla modern and the story's policy (TLS 1.2
//! `ECDHE-RSA-AES256-GCM-SHA384` plus TLS 1.3 `TLS_AES_256_GCM_SHA384`,
//! RSA ≥ 2048), `explain`, `diff`, the refusals, and `--help`. A change to what
//! an operator pastes into a server's configuration is then a reviewed
//! diff in `tests/snapshots/`.
//!
//! A changed text fails the test and leaves `<name>.snap.new` beside the
//! snapshot (`cargo insta review` accepts it; without cargo-insta,
//! `INSTA_UPDATE=always cargo test -p check-tls-ciphers --test
//! render_snapshots` rewrites them, and `git diff` is the review). In CI
//! insta writes nothing and a mismatch or a missing snapshot fails.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use check_tls_ciphers::policy::Policy;
use check_tls_ciphers::policy_cli;
use check_tls_ciphers::render::{Target, render};

/// The story's policy as its README example writes it.
pub const STORY: &str = r#"name = "story"
protocols = ["TLS1.2", "TLS1.3"]
suites = ["ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384"]
min_rsa_bits = 2048
"#;

fn story() -> Policy {
    Policy::parse(STORY, Path::new("story.toml")).expect("the story policy parses")
}

fn policies() -> Vec<Policy> {
    vec![
        Policy::profile("mozilla-intermediate").unwrap(),
        Policy::profile("mozilla-modern").unwrap(),
        story(),
    ]
}

#[test]
fn every_render_of_every_policy() {
    for policy in policies() {
        for target in Target::ALL {
            let text = render(&policy, target)
                .unwrap_or_else(|e| panic!("{} for {target}: {e}", policy.name));
            insta::assert_snapshot!(format!("render-{}-{target}", policy.name), text);
        }
    }
}

/// A policy that decides the suite order: each target's order setting.
#[test]
fn server_order_in_every_target() {
    let mut text = String::new();
    for (name, order) in [("server-order", "true"), ("client-order", "false")] {
        let policy = Policy::parse(
            &format!("extends = \"mozilla-intermediate\"\nserver_order = {order}\n"),
            Path::new(&format!("{name}.toml")),
        )
        .unwrap();
        for target in Target::ALL {
            let render = render(&policy, target).unwrap();
            let lines: Vec<&str> = render
                .lines()
                .filter(|l| {
                    let l = l.to_ascii_lowercase();
                    l.contains("order") || l.contains("prefer") || l.contains("precedence")
                })
                .collect();
            let _ = writeln!(text, "{name} {target}:");
            for line in lines {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    insta::assert_snapshot!("server-order", text);
}

/// Renders refused because the stack would fall back to its own defaults
/// or allow a version the policy skips.
#[test]
fn refusals_name_why() {
    let cases = [
        (
            "only-chacha-legacy",
            // jruby-openssl has no mapping for the TLS 1.2 ChaCha20 suites.
            "protocols = [\"TLS1.2\"]\nsuites = [\"ECDHE-RSA-CHACHA20-POLY1305\"]\n",
            Target::Jruby,
        ),
        (
            "hole",
            "protocols = [\"TLS1.0\", \"TLS1.2\"]\nsuites = [\"ECDHE-RSA-AES128-SHA\"]\n",
            Target::Haproxy,
        ),
        (
            "only-x25519-tls12",
            // OTP 25's eccs cannot hold x25519: Erlang would use its own curves.
            "protocols = [\"TLS1.2\"]\nsuites = [\"ECDHE-RSA-AES128-GCM-SHA256\"]\ngroups = [\"X25519\"]\n",
            Target::Erlang,
        ),
        (
            "ssl3-only",
            "protocols = [\"SSL3\"]\nsuites = [\"AES128-SHA\"]\n",
            Target::Erlang,
        ),
        (
            "camellia-for-java",
            "protocols = [\"TLS1.2\"]\nsuites = [\"DHE-RSA-CAMELLIA256-SHA\"]\n",
            Target::Java,
        ),
    ];
    let mut text = String::new();
    for (name, toml, target) in cases {
        let policy = Policy::parse(toml, Path::new(&format!("{name}.toml")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let err = render(&policy, target).expect_err(name);
        text.push_str(&err.to_string());
        text.push('\n');
    }
    insta::assert_snapshot!("refusals", text);
}

#[test]
fn explain_and_diff() {
    for (name, spec) in [
        ("openssl-name", "ECDHE-RSA-AES256-GCM-SHA384"),
        ("tls13", "TLS_AES_256_GCM_SHA384"),
        ("static-rsa-cbc", "0x00,0x2F"),
    ] {
        let text = policy_cli::explain(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        insta::assert_snapshot!(format!("explain-{name}"), text);
    }
    let intermediate = Policy::profile("mozilla-intermediate").unwrap();
    let modern = Policy::profile("mozilla-modern").unwrap();
    insta::assert_snapshot!(
        "diff-intermediate-story",
        policy_cli::diff(&intermediate, &story())
    );
    insta::assert_snapshot!("diff-modern-story", policy_cli::diff(&modern, &story()));
}

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tls-policy"))
        .args(args)
        .env("COLUMNS", "80")
        .output()
        .expect("tls-policy runs");
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&["--help"]));
    insta::assert_snapshot!("help-render", help(&["render", "--help"]));
}

/// The binary's exit codes: 0 done, 2 with one line on stderr.
#[test]
fn exit_codes() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tls-policy"))
            .args(args)
            .output()
            .expect("tls-policy runs")
    };
    let ok = run(&["render", "--profile", "mozilla-modern", "--for", "nginx"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ssl_protocols TLSv1.3;"));
    let missing = run(&[
        "render",
        "--policy",
        "/nonexistent/p.toml",
        "--for",
        "nginx",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("tls-policy: policy /nonexistent/p.toml"),
        "{stderr}"
    );
    let usage = run(&["render", "--for", "nginx"]);
    assert_eq!(usage.status.code(), Some(2));
    let unknown = run(&["explain", "NO-SUCH-SUITE"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown suite"));
}
