//! Pinned operator texts: `--help`, and what check-graphite prints for
//! fixed series (OK, WARNING, CRITICAL, UNKNOWN, many series, forecasts),
//! judged by the library as `check` judges a render reply, without a
//! server. A change of wording is then a reviewed diff in
//! `tests/snapshots/`.
//!
//! A changed text fails the test and leaves `<name>.snap.new` beside the
//! snapshot (`cargo insta review` accepts it; without cargo-insta,
//! `INSTA_UPDATE=always cargo test -p check-graphite --test snapshots`
//! rewrites the snapshots, and `git diff` is the review). In CI (`CI=true`)
//! insta writes nothing and a mismatch or a missing snapshot fails.

use std::fmt::Write as _;
use std::process::Command;

use check_graphite::{Args, LABEL};
use clap::Parser as _;
use nightwatch_core::Report;
use nightwatch_graphite::Series;

/// Graphite's clock for every scenario (its `Date` header).
const NOW: i64 = 1_766_678_400;

/// A series with a point a minute, the newest `age` seconds before [`NOW`].
fn series(target: &str, values: &[Option<f64>], age: i64) -> Series {
    let newest = NOW - age;
    let count = i64::try_from(values.len()).expect("a short window");
    Series {
        target: target.to_owned(),
        points: values
            .iter()
            .zip(0..)
            .map(|(&v, i)| (newest - (count - 1 - i) * 60, v))
            .collect(),
    }
}

fn steady(target: &str, value: f64) -> Series {
    series(target, &[Some(value); 5], 30)
}

/// What check-graphite prints for `flags` when Graphite answers `reply`.
fn output(flags: &[&str], reply: &[Series]) -> String {
    let args = Args::try_parse_from(
        ["check-graphite", "--url", "http://127.0.0.1:8080"]
            .iter()
            .chain(flags),
    )
    .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    let report = check_graphite::judge_series(Report::new(LABEL), reply, &args, NOW);
    report.render()
}

const HAM: &str = "christmaspi.temperature.ham";
const OVEN: &str = "christmaspi.temperature.oven";
/// A probe as the shipped Nagios objects check it: a DS18B20 reads
/// -67..257 °F, and two minutes without a reading is UNKNOWN.
fn probe<'a>(target: &'a str, warning: &'a str, critical: &'a str) -> Vec<&'a str> {
    let mut flags = vec!["--target", target, "-w", warning, "-c", critical];
    flags.extend(["--max-age", "2m", "--valid", "-67:257", "--unit", "°F"]);
    flags
}

#[test]
fn outputs() {
    let hosts = |loads: &[f64]| -> Vec<Series> {
        loads
            .iter()
            .enumerate()
            .map(|(i, &load)| steady(&format!("servers.db{:02}.load", i + 1), load))
            .collect()
    };
    let rising = |from: f64, step: f64| -> Vec<Option<f64>> {
        (0..5).map(|i| Some(from + step * f64::from(i))).collect()
    };
    let scenarios: Vec<(&str, Vec<&str>, Vec<Series>)> = vec![
        (
            "OK: the ham resting",
            probe(HAM, "135", "140"),
            vec![steady(HAM, 129.2)],
        ),
        (
            "WARNING: the ham above 135",
            probe(HAM, "135", "140"),
            vec![series(HAM, &rising(134.2, 0.27), 30)],
        ),
        (
            "CRITICAL: the ham above 140",
            probe(HAM, "135", "140"),
            vec![series(HAM, &rising(139.8, 0.25), 30)],
        ),
        (
            "CRITICAL: the oven cold",
            probe(OVEN, "320:", "315:"),
            vec![steady(OVEN, 250.0)],
        ),
        (
            "UNKNOWN: the oven's probe at its limit the whole window",
            probe(OVEN, "320:", "315:"),
            vec![steady(OVEN, 257.0)],
        ),
        (
            "UNKNOWN: nothing for 10 minutes",
            probe(HAM, "135", "140"),
            vec![series(HAM, &[Some(131.0), Some(131.4)], 600)],
        ),
        (
            "OK: a gap at the end is not a zero",
            probe(HAM, "135", "140"),
            vec![series(HAM, &[Some(131.0), Some(131.4), None], 30)],
        ),
        (
            "OK: many series",
            vec!["--target", "servers.*.load", "-w", "4", "-c", "8"],
            hosts(&[0.4, 1.2, 0.9, 2.5, 0.1, 1.7, 0.3, 0.8]),
        ),
        (
            "CRITICAL: many series, two alerting",
            vec!["--target", "servers.*.load", "-w", "4", "-c", "8"],
            hosts(&[0.4, 5.2, 0.9, 9.5, 0.1, 1.7, 0.3, 0.8]),
        ),
        (
            "WARNING: the forecast crosses critical soon",
            [probe(HAM, "135", "140"), vec!["--forecast-warn", "30m"]].concat(),
            vec![series(HAM, &rising(136.0, 0.5), 30)],
        ),
        (
            "OK: the slope per minute",
            vec![
                "--target", HAM, "--agg", "slope", "-w", "~:2", "-c", "~:3", "--unit", "°F",
                "--label", "ham",
            ],
            vec![series(HAM, &rising(120.0, 0.9), 30)],
        ),
    ];
    let mut text = String::new();
    for (title, flags, reply) in &scenarios {
        let _ = write!(
            text,
            "## {title}\n$ check-graphite {}\n{}\n\n",
            flags.join(" "),
            output(flags, reply)
        );
    }
    insta::assert_snapshot!(text);
}

/// `check-graphite <flag>` as an operator sees it: exit 3, on stdout, as
/// the Monitoring Plugins do.
fn help_text(flag: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_check-graphite"))
        .arg(flag)
        .env("COLUMNS", "80")
        .output()
        .expect("runs check-graphite");
    assert_eq!(out.status.code(), Some(3), "{flag}");
    assert!(out.stderr.is_empty(), "{flag} wrote to stderr");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

#[test]
fn help() {
    insta::assert_snapshot!("help", help_text("--help"));
    insta::assert_snapshot!("help-summary", help_text("-h"));
}
