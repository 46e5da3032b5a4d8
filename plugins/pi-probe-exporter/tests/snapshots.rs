//! Pinned operator texts: every `--help` page, the effective config
//! `--check-config` prints, and the config error messages, so that a
//! change of wording is a reviewed diff in `tests/snapshots/`.
//!
//! A changed text fails the test and leaves `<name>.snap.new` beside the
//! snapshot (`cargo insta review` accepts it; without cargo-insta,
//! `INSTA_UPDATE=always cargo test -p pi-probe-exporter --test snapshots`
//! rewrites the snapshots, and `git diff` is the review). In CI (`CI=true`)
//! insta writes nothing and a mismatch or a missing snapshot fails.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use pi_probe_exporter::config;

/// What an operator sees for `pi-probe-exporter <args> --help` on an
/// 80-column terminal.
fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_pi-probe-exporter"))
        .args(args)
        .arg("--help")
        .env("COLUMNS", "80")
        .output()
        .expect("runs pi-probe-exporter");
    assert!(out.status.success(), "{args:?} --help: {}", out.status);
    assert!(out.stderr.is_empty(), "help wrote to stderr");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

#[test]
fn help_pages() {
    insta::assert_snapshot!("help", help(&[]));
    insta::assert_snapshot!("help-simulate", help(&["simulate"]));
    insta::assert_snapshot!("help-simulate-set", help(&["simulate", "set"]));
    insta::assert_snapshot!("help-simulate-corrupt", help(&["simulate", "corrupt"]));
    insta::assert_snapshot!("help-simulate-remove", help(&["simulate", "remove"]));
}

#[test]
fn check_config_prints_the_defaults_as_toml() {
    let out = Command::new(env!("CARGO_BIN_EXE_pi-probe-exporter"))
        .arg("--check-config")
        .output()
        .expect("runs pi-probe-exporter");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(String::from_utf8(out.stdout).expect("UTF-8"));
}

/// One wrong config per kind of mistake an operator makes; each message
/// must name the file, the line and the key.
const BAD_CONFIGS: &[(&str, &str)] = &[
    (
        "a typo in a key",
        "[graphite]\naddress = \"g:2003\"\nadress = \"x\"\n",
    ),
    ("a typo in a table", "[grafite]\naddress = \"g:2003\"\n"),
    ("a table that is a value", "reading = 5\n"),
    ("a syntax error", "[graphite]\naddress = \"unterminated\n"),
    (
        "a duration that is not one",
        "[reading]\n\ninterval = \"fast\"\n",
    ),
    (
        "a duration of the wrong type",
        "[reading]\ninterval = true\n",
    ),
    ("a negative duration", "[health]\ninterval = -5\n"),
    ("an interval too short", "[reading]\ninterval = \"10ms\"\n"),
    ("an interval too long", "[reading]\ninterval = \"2h\"\n"),
    ("an unknown unit", "[reading]\nunit = \"K\"\n"),
    ("a size in parsecs", "[spool]\nmax_bytes = \"64 parsecs\"\n"),
    ("a spool too small", "[spool]\nmax_bytes = 100\n"),
    ("a negative size", "[spool]\nmax_bytes = -3\n"),
    (
        "a segment over a quarter of the cap",
        "[spool]\nmax_bytes = \"1MiB\"\nsegment_bytes = \"512KiB\"\n",
    ),
    (
        "a probe id in capitals",
        "[probes]\n\"28-0316A2B4C5FF\" = \"ham\"\n",
    ),
    (
        "a probe name with a space",
        "[probes]\n\"28-0316a2b4c5ff\" = \"my ham\"\n",
    ),
    (
        "a probe name that is a number",
        "[probes]\n\"28-0316a2b4c5ff\" = 5\n",
    ),
    (
        "two probes, one name",
        "[probes]\n\"28-0316a2b4c5ff\" = \"ham\"\n\"28-0316a2b4c6aa\" = \"ham\"\n",
    ),
    (
        "an IPv6 address without brackets",
        "[graphite]\naddress = \"::1:2003\"\n",
    ),
    (
        "a prefix with an empty part",
        "[graphite]\nprefix = \"a..b\"\n",
    ),
    (
        "a replay window shorter than a dead link",
        "[graphite]\nreplay_window = \"5s\"\n",
    ),
    (
        "backoff upside down",
        "[graphite]\nbackoff_min = \"10s\"\nbackoff_max = \"1s\"\n",
    ),
    (
        "a listen address that is none",
        "[health]\nlisten = \"everywhere\"\n",
    ),
];

#[test]
fn config_error_messages() {
    let path = Path::new("/etc/pi-probe-exporter.toml");
    let mut text = String::new();
    for (mistake, src) in BAD_CONFIGS {
        let message = config::parse(path, src).expect_err(mistake).to_string();
        assert!(
            message.starts_with("/etc/pi-probe-exporter.toml:"),
            "{mistake}: {message}"
        );
        let _ = write!(text, "## {mistake}\n{src}=> {message}\n\n");
    }
    insta::assert_snapshot!(text);
}
