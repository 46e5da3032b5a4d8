//! Pinned operator texts: every `--help` page, what the check prints for
//! the story's records at chosen instants (`--at`), and what the tools
//! print, so that a change of wording is a reviewed diff in
//! `tests/snapshots/`.
//!
//! A changed text fails the test and leaves `<name>.snap.new` beside the
//! snapshot (`cargo insta review` accepts it; without cargo-insta,
//! `INSTA_UPDATE=always cargo test -p check-change-window --test snapshots`
//! rewrites the snapshots, and `git diff` is the review). In CI (`CI=true`)
//! insta writes nothing and a mismatch or a missing snapshot fails.

use std::fmt::Write as _;
use std::process::Command;

/// Runs the binary from the crate's directory, so fixture paths in its
/// output are the same everywhere: exit code, stdout and (if any) stderr.
fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_check-change-window"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", "80")
        .env_remove("TZ")
        .env_remove("ICINGA2_API_PASSWORD")
        .output()
        .expect("runs check-change-window");
    let mut text = format!("exit {}\n", out.status.code().unwrap_or(-1));
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    if !out.stderr.is_empty() {
        let _ = write!(text, "--- stderr\n{}", String::from_utf8_lossy(&out.stderr));
    }
    text
}

#[test]
fn help_pages() {
    insta::assert_snapshot!("help", run(&["--help"]));
    insta::assert_snapshot!("help-digest", run(&["digest", "--help"]));
    insta::assert_snapshot!("help-schedule", run(&["schedule", "--help"]));
}

const CHANGES: &str = "tests/fixtures/changes";

/// One scenario per state and per kind of finding.
const SCENARIOS: &[(&str, &[&str])] = &[
    (
        "CRITICAL: every rule at once, an hour before CMB-42",
        &[
            "--changes",
            CHANGES,
            "--all",
            "--freeze",
            "tests/fixtures/freeze.yaml",
            "--at",
            "2026-12-02 13:00 Europe/Berlin",
        ],
    ),
    (
        "CRITICAL: web01 only (globs included), broken records still warn",
        &[
            "--changes",
            CHANGES,
            "--host",
            "web01",
            "--at",
            "2026-12-02 13:00 Europe/Berlin",
        ],
    ),
    (
        "WARNING: a 10-minute overrun names the roll-back plan and whom to call",
        &[
            "--changes",
            "tests/fixtures/changes/tickets.json",
            "--host",
            "web02",
            "--at",
            "2026-12-02T13:40:00Z",
        ],
    ),
    (
        "WARNING: --require test on a change without a test plan",
        &[
            "--changes",
            "tests/fixtures/changes/tickets.json",
            "--host",
            "web02",
            "--require",
            "test",
            "--at",
            "2026-12-02T13:00:00Z",
        ],
    ),
    (
        "OK: an approved window open but not started",
        &[
            "--changes",
            "tests/fixtures/changes/cmb-42-nginx.md",
            "--host",
            "web05",
            "--at",
            "2026-12-02 14:10 Europe/Berlin",
        ],
    ),
    (
        "OK: nothing due on the host",
        &[
            "--changes",
            "tests/fixtures/changes/cmb-42-nginx.md",
            "--host",
            "mail01",
            "--at",
            "2026-12-02 14:10 Europe/Berlin",
        ],
    ),
    (
        "UNKNOWN: no such directory",
        &["--changes", "tests/fixtures/nowhere", "--all"],
    ),
    (
        "UNKNOWN: an --at the clocks skip",
        &[
            "--changes",
            CHANGES,
            "--all",
            "--at",
            "2026-03-29 02:30 Europe/Berlin",
        ],
    ),
    (
        "UNKNOWN: a source described without --observed",
        &[
            "--changes",
            CHANGES,
            "--all",
            "--path",
            "/var/log/deploys.jsonl",
        ],
    ),
];

#[test]
fn outputs() {
    let mut text = String::new();
    for (title, args) in SCENARIOS {
        let _ = write!(
            text,
            "## {title}\n$ check-change-window {}\n{}\n",
            args.join(" "),
            run(args)
        );
    }
    insta::assert_snapshot!(text);
}

#[test]
fn tools() {
    let at = "2026-12-02 12:00 Europe/Berlin";
    let schedule = |extra: &[&'static str]| -> Vec<&'static str> {
        ["schedule", "--changes", CHANGES, "--at", at]
            .into_iter()
            .chain(extra.iter().copied())
            .collect()
    };
    let mut text = String::new();
    for args in [
        vec!["digest", "tests/fixtures/changes/cmb-42-nginx.md"],
        vec![
            "digest",
            "tests/fixtures/changes/tickets.json",
            "--id",
            "TKT-7",
        ],
        vec!["digest", "tests/fixtures/changes/tickets.json"],
        vec!["digest", "tests/fixtures/changes/cmb-45-broken.md"],
        schedule(&[]),
        schedule(&["--service", "https"]),
        schedule(&["--format", "sensu"]),
        schedule(&["--format", "icinga2"]),
        schedule(&["--icinga2-url", "https://127.0.0.1:5665"]),
        schedule(&[
            "--format",
            "icinga2",
            "--icinga2-url",
            "https://127.0.0.1:5665",
            "--icinga2-user",
            "downtime",
        ]),
    ] {
        let _ = write!(
            text,
            "$ check-change-window {}\n{}\n",
            args.join(" "),
            run(&args)
        );
    }
    insta::assert_snapshot!(text);
}
