//! Pinned operator texts: `--help`, and what check-audit-freshness prints
//! for fixed log files judged at a fixed instant (`--at`), through the
//! whole `check` as the binary runs it. A change of wording is then a
//! reviewed diff in `tests/snapshots/`.
//!
//! A changed text fails the test and leaves `<name>.snap.new` beside the
//! snapshot (`cargo insta review` accepts it; without cargo-insta,
//! `INSTA_UPDATE=always cargo test -p check-audit-freshness --test
//! snapshots` rewrites them, and `git diff` is the review). In CI
//! (`CI=true`) insta writes nothing and a mismatch fails.

use std::fmt::Write as _;
use std::path::Path;

use check_audit_freshness::{Args, LABEL, check};
use clap::{CommandFactory as _, Parser as _};
use nightwatch_core::{Context, FaultStates};

const AT: &str = "2026-12-03T12:00:00Z";

/// The Ansible runs of four hosts and one retired, as auth.log has them.
const AUTH_LOG: &str = "\
Dec  1 09:00:00 cm sudo: Ansible playbook finished on db02
Dec  2 04:00:00 cm sudo: Ansible playbook finished on db01
Dec  3 01:04:00 cm sudo: Ansible playbook finished on web02
Dec  3 06:00:00 cm sudo: pam_unix(sudo:session): session closed for user root
Dec  3 09:30:00 cm sudo: Ansible playbook finished on web01
Dec  3 11:58:00 cm sudo: Ansible playbook finished on web03
Dec  3 14:00:00 cm sudo: Ansible playbook finished on web04
";

/// Audit events as JSON lines, one lacking its user.
const AUDIT_JSONL: &str = r#"{"@timestamp":"2026-12-03T10:00:00Z","host":"db01","user":"bob","action":"restore","id":"ev-1"}
{"@timestamp":"2026-12-03T10:30:00Z","host":"db01","action":"backup","id":"ev-2"}
{"@timestamp":"2026-12-03T11:00:00Z","host":"web01","user":"alice","action":"deploy","id":"ev-3"}
{"@timestamp":"2026-12-03T11:30:00Z","host":"web01","user":"alice","action":"deploy","id":"ev-4"}
"#;

fn output(dir: &Path, file: &str, flags: &[&str]) -> String {
    let path = dir.join(file);
    let args = Args::try_parse_from(
        [
            "check-audit-freshness",
            "--source",
            "file",
            "--path",
            path.to_str().expect("a UTF-8 path"),
            "--log-tz",
            "UTC",
            "--at",
            AT,
        ]
        .iter()
        .chain(flags),
    )
    .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    let context = Context::new(LABEL, &args.common, FaultStates::default());
    match check(&args, &context) {
        Ok(report) => report.render(),
        Err(error) => format!("error: {error}"),
    }
    .replace(dir.to_str().expect("a UTF-8 path"), "<dir>")
}

#[test]
fn outputs() {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("auth.log"), AUTH_LOG).expect("auth.log");
    std::fs::write(dir.path().join("audit.jsonl"), AUDIT_JSONL).expect("audit.jsonl");
    let ansible = r"Ansible playbook finished on (?P<group>\S+)";
    let scenarios: &[(&str, &str, &[&str])] = &[
        (
            "OK: every host fresh, as one phrase",
            "auth.log",
            &[
                "--match",
                ansible,
                "-w",
                "3d",
                "-c",
                "4d",
                "--retired",
                "db02",
                "--max-skew",
                "3h",
            ],
        ),
        (
            "WARNING and CRITICAL: a stale host, an expected one never seen, a clock ahead",
            "auth.log",
            &[
                "--match",
                ansible,
                "-w",
                "26h",
                "-c",
                "50h",
                "--expect",
                "web01,db01,db03",
                "--retired",
                "db02",
            ],
        ),
        (
            "CRITICAL: a nightly job that missed its run in Berlin",
            "auth.log",
            &[
                "--match",
                ansible,
                "--what",
                "playbook",
                "--schedule",
                "0 9 * * *",
                "--tz",
                "Europe/Berlin",
                "--grace",
                "30m",
                "--retired",
                "db02,web04",
            ],
        ),
        (
            "WARNING: recent events missing who or what",
            "audit.jsonl",
            &[
                "--line-format",
                "json",
                "--group-by",
                "host",
                "-w",
                "26h",
                "--require-fields",
                "user,action",
            ],
        ),
        (
            "CRITICAL: an ungrouped job never seen",
            "auth.log",
            &[
                "--match",
                "backup finished",
                "--what",
                "backup",
                "-w",
                "26h",
            ],
        ),
        (
            "UNKNOWN: --expect without groups",
            "auth.log",
            &["--match", "Ansible playbook finished", "--expect", "db01"],
        ),
    ];
    let mut text = String::new();
    for (title, file, flags) in scenarios {
        writeln!(
            text,
            "## {title}\n$ check-audit-freshness --source file --path {file} {}\n{}\n",
            flags.join(" "),
            output(dir.path(), file, flags)
        )
        .expect("a String");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn help() {
    let help = Args::command().render_help().to_string();
    insta::assert_snapshot!(help);
}
