//! Whatever goes wrong in a plugin, the guard prints exactly one plugin
//! line on stdout and exits 0–3 within the timeout plus a second.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn probe(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_nightwatch-guard-probe"))
        .args(args)
        .output()
        .expect("the probe runs");
    (output, started.elapsed())
}

/// Exit code, the whole stdout, and stderr, checked against the contract.
fn run(args: &[&str]) -> (i32, String, Duration) {
    let (output, elapsed) = probe(args);
    let code = output
        .status
        .code()
        .expect("exited, not killed by a signal");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    assert!((0..=3).contains(&code), "exit {code}: {stdout}");
    assert!(
        output.stderr.is_empty(),
        "stderr must stay silent: {:?}",
        String::from_utf8_lossy(&output.stderr)
    );
    (code, stdout, elapsed)
}

fn assert_one_unknown_line(stdout: &str, starting: &str) {
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with(starting), "first line {first:?}");
    assert_eq!(
        stdout.matches("PROBE ").count(),
        1,
        "one plugin line: {stdout}"
    );
    assert!(
        !stdout.contains("panicked") && !stdout.contains("RUST_BACKTRACE"),
        "{stdout}"
    );
}

#[test]
fn ok_and_critical_exit_with_their_codes() {
    assert_eq!(run(&["--mode", "ok"]).0, 0);
    let (code, stdout, _) = run(&["--mode", "critical"]);
    assert_eq!(
        (code, stdout.as_str()),
        (2, "PROBE CRITICAL: ham 141.2 above 140\n")
    );
}

#[test]
fn a_panic_is_one_unknown_line_not_exit_101() {
    let (code, stdout, _) = run(&["--mode", "panic"]);
    assert_eq!(code, 3);
    assert_one_unknown_line(
        &stdout,
        "PROBE UNKNOWN: internal error (a bug, please report it): the probe was asked to panic at ",
    );
    assert_eq!(stdout.lines().count(), 1);
}

#[test]
fn a_hang_ends_on_time_and_says_what_hung() {
    let (code, stdout, elapsed) = run(&["--mode", "hang", "-t", "1s"]);
    assert_eq!(code, 3);
    assert_eq!(
        stdout,
        "PROBE UNKNOWN: timed out after 1s while reading from a server that never answers\n"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn timeout_state_overrides_unknown() {
    let (code, stdout, _) = run(&["--mode", "hang", "-t", "1", "--timeout-state", "critical"]);
    assert_eq!(code, 2);
    assert!(
        stdout.starts_with("PROBE CRITICAL: timed out after 1s"),
        "{stdout}"
    );
}

#[test]
fn a_bad_flag_is_unknown_on_stdout_not_clap_exit_2() {
    let (code, stdout, _) = run(&["--mode", "ok", "--no-such-flag"]);
    assert_eq!(code, 3);
    assert_one_unknown_line(
        &stdout,
        "PROBE UNKNOWN: unexpected argument '--no-such-flag' found",
    );
    let (code, stdout, _) = run(&["--mode", "ok", "-t", "soon"]);
    assert_eq!(code, 3);
    assert_one_unknown_line(
        &stdout,
        "PROBE UNKNOWN: invalid value 'soon' for '--timeout <DURATION>'",
    );
    let (code, stdout, _) = run(&[]);
    assert_eq!(code, 3);
    assert_one_unknown_line(
        &stdout,
        "PROBE UNKNOWN: the following required arguments were not provided: --mode <MODE>",
    );
}

#[test]
fn errors_map_by_whose_fault() {
    let (code, stdout, _) = run(&["--mode", "source-down"]);
    assert_eq!(code, 3);
    assert_eq!(
        stdout,
        "PROBE UNKNOWN: the probe's source at 127.0.0.1:9 refused the connection\n"
    );
    assert_eq!(run(&["--mode", "monitored-down"]).0, 2);
    assert_eq!(
        run(&["--mode", "source-down", "--unreachable-state", "critical"]).0,
        2
    );
}

#[test]
fn help_and_version_exit_3_on_stdout() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, 3);
    assert!(stdout.contains("--timeout <DURATION>"), "{stdout}");
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, 3);
    assert!(stdout.starts_with("nightwatch-guard-probe "), "{stdout}");
}

#[test]
fn verbose_panics_explain_on_stderr_only() {
    let (output, _) = probe(&["--mode", "panic", "-v"]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("debug: panic: the probe was asked to panic"),
        "{stderr}"
    );
}
