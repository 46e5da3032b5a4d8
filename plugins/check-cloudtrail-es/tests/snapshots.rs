//! Pinned operator texts: the `--help` page and what check-cloudtrail-es
//! prints for the `CloudTrail` fixtures (`tests/fixtures/cloudtrail/`),
//! read, judged and reported by the library as `check` does with a
//! search reply, without a server. A change of wording is then a reviewed
//! diff in `tests/snapshots/`.
//!
//! A changed text fails the test and leaves `<name>.snap.new` beside the
//! snapshot (`cargo insta review` accepts it; without cargo-insta,
//! `INSTA_UPDATE=always cargo test -p check-cloudtrail-es --test snapshots`
//! rewrites the snapshots, and `git diff` is the review). In CI (`CI=true`)
//! insta writes nothing and a mismatch or a missing snapshot fails.

use std::fmt::Write as _;

use check_cloudtrail_es::judge::Rules;
use check_cloudtrail_es::report::Found;
use check_cloudtrail_es::{Args, LABEL, judge_documents, render, selection};
use clap::Parser as _;
use nightwatch_core::Report;
use nightwatch_search::Window;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/cloudtrail/events.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let all: Vec<Value> = serde_json::from_str(&text).expect("fixtures are JSON");
    all.into_iter()
        .find(|f| f["fixture"] == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))["event"]
        .clone()
}

/// What check-cloudtrail-es prints for `flags` when the server finds the
/// fixtures `hits` (newest first) of `total` matches.
fn output(flags: &[&str], hits: &[&str], total: u64) -> String {
    let args = Args::try_parse_from(
        [
            "check-cloudtrail-es",
            "-H",
            "es",
            "--index",
            "logstash-%Y.%m.%d",
        ]
        .iter()
        .chain(flags),
    )
    .unwrap_or_else(|e| panic!("{flags:?}: {e}"));
    let sources: Vec<Value> = hits
        .iter()
        .map(|name| match *name {
            "not-cloudtrail" => serde_json::json!({"message": "GET /healthz 200"}),
            name => fixture(name),
        })
        .collect();
    let judged = judge_documents(
        sources
            .iter()
            .enumerate()
            .map(|(i, source)| (format!("logstash-2026.11.25/doc{i}"), source)),
        &Rules::from_args(&args),
    );
    let found = Found {
        total,
        judged: if args.count_only { Vec::new() } else { judged },
        listed: !args.count_only,
    };
    let query = selection::query_text(
        args.query.as_deref(),
        &args.preset,
        &args.regions,
        args.doc_type.as_deref(),
    )
    .expect("a selection");
    let window = Window::ending_at(
        "2026-11-25T00:15:00Z".parse().expect("a time"),
        args.window_length(),
    );
    let indices = args.search.indices(&window).expect("indices");
    render(&args, Report::new(LABEL), &found, &window, &indices, &query).render()
}

const AUTHORIZE: [&str; 6] = [
    "--query",
    "Authorize*",
    "--field",
    "eventName",
    "--type",
    "cloudtrail",
];

/// The fixtures `Authorize*` matches in the window, newest first.
const AUTHORIZE_HITS: [&str; 7] = [
    "approved_automation",
    "rds_db_security_group",
    "failed_call",
    "egress_rule",
    "ipv6_ingress",
    "slash32_ingress",
    "world_open_ssh",
];

#[test]
fn help_page() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_check-cloudtrail-es"))
        .arg("--help")
        .output()
        .expect("run check-cloudtrail-es --help");
    assert_eq!(out.status.code(), Some(3), "help exits UNKNOWN");
    insta::assert_snapshot!("help", String::from_utf8(out.stdout).expect("UTF-8"));
}

#[test]
fn outputs() {
    let sg_hits = [
        "approved_automation",
        "rule_set_modification",
        "failed_call",
        "egress_rule",
        "ipv6_ingress",
        "slash32_ingress",
        "world_open_ssh",
    ];
    let scenarios: Vec<(&str, Vec<&str>, Vec<&str>, u64)> = vec![
        (
            "CRITICAL: ports open to the world (the Ruby plugin's query)",
            [&AUTHORIZE[..], &["-w", "100"]].concat(),
            AUTHORIZE_HITS.to_vec(),
            7,
        ),
        (
            "OK: the security-group preset with allow lists and approved automation",
            vec![
                "--preset",
                "security-groups",
                "--allow-world-ports",
                "22,443",
                "--allow-principal",
                "arn:aws:sts::*:assumed-role/terraform/*",
                "-w",
                "10",
                "-c",
                "20",
            ],
            sg_hits.to_vec(),
            7,
        ),
        (
            "CRITICAL: IAM, root, trail and an unused region",
            vec![
                "--preset",
                "iam,root,trail,regions",
                "--regions",
                "us-east-1,eu-west-1",
                "-c",
                "0",
            ],
            vec![
                "unused_region",
                "stop_logging",
                "root_console_login",
                "iam_create_access_key",
                "iam_create_user",
            ],
            5,
        ),
        (
            "WARNING: the count alone, listing capped",
            vec![
                "--preset",
                "security-groups",
                "--allow-world-ports",
                "22,443",
                "-w",
                "3",
                "--max-events",
                "2",
            ],
            sg_hits.to_vec(),
            7,
        ),
        (
            "CRITICAL: --count-only -c 0, as check-es-query-count did without --invert",
            [&AUTHORIZE[..], &["--count-only", "-c", "0"]].concat(),
            vec![],
            7,
        ),
        (
            "OK: nothing happened, with a Kibana link",
            vec![
                "--preset",
                "trail",
                "-c",
                "0",
                "--link-template",
                "https://kibana.example/app/discover#/?_g=(time:(from:'{from}',to:'{to}'))&_a=(query:(language:lucene,query:'{query}'))",
            ],
            vec![],
            0,
        ),
        (
            "UNKNOWN: more matches than fetched, and a window too short",
            vec![
                "--query",
                "eventSource:\"ec2.amazonaws.com\"",
                "--window",
                "5m",
                "--fetch",
                "2",
                "-c",
                "5000",
            ],
            vec!["egress_rule", "not-cloudtrail"],
            1234,
        ),
    ];
    let mut text = String::new();
    for (title, flags, hits, total) in &scenarios {
        let _ = write!(
            text,
            "## {title}\n$ check-cloudtrail-es {}\n{}\n\n",
            flags.join(" "),
            output(flags, hits, *total)
        );
    }
    insta::assert_snapshot!(text);
}
