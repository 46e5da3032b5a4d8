//! check-audit-freshness against real `OpenSearch` 2 and 3 and
//! Elasticsearch 7.17 and 8 nodes (60 hosts, past any default terms
//! size), a real Graphite, and log files written here: syslog across New
//! Year, rotated and gzipped files, copytruncate, malformed and unfinished
//! lines, a byte order mark, epoch milliseconds. A 500 comes from nginx in
//! front of a real node; unreachable is a closed port.

use std::io::Write as _;
use std::path::Path;

use nightwatch_search::Timestamp;
use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};
use nightwatch_testkit::{Graphite, Nginx, PluginRun, State, plugin};
use serde_json::{Value, json};

/// The checks run at 12:00 UTC; a day's index boundary is 12 h back.
const AT: &str = "2026-11-24T12:00:00Z";

fn at() -> Timestamp {
    AT.parse().expect("AT is RFC 3339")
}

/// `AT` less `hours` (negative: ahead), as RFC 3339.
fn hours_before(hours: f64) -> String {
    #[allow(clippy::cast_possible_truncation)] // whole seconds
    let seconds = (hours * 3600.0).round() as i64;
    Timestamp::from_second(at().as_second() - seconds)
        .expect("in range")
        .to_string()
}

/// Ansible runs on 60 hosts: `host-07` last ran 30 h ago, every other one
/// within 2 h to 5 h, each also a day earlier; noise for `noise01`.
fn sixty_hosts() -> Vec<Value> {
    let mut docs = Vec::new();
    for n in 0..60 {
        let host = format!("host-{n:02}");
        let newest = if n == 7 { 30.0 } else { 2.0 + f64::from(n % 4) };
        for age in [newest, newest + 24.0] {
            docs.push(json!({
                "@timestamp": hours_before(age),
                "host": host,
                "message": "Ansible playbook finished",
                "user": "ansible",
                "action": "playbook",
            }));
        }
    }
    docs.push(
        json!({"@timestamp": hours_before(1.0), "host": "noise01", "message": "session opened"}),
    );
    docs
}

/// Indexes `docs` into daily indices `{prefix}-%Y.%m.%d` by their time.
fn load(node: &SearchNode, prefix: &str, docs: &[Value]) {
    let mut by_day = std::collections::BTreeMap::<String, Vec<Value>>::new();
    for doc in docs {
        let time: Timestamp = doc["@timestamp"]
            .as_str()
            .expect("a time")
            .parse()
            .expect("RFC 3339");
        let day = time.strftime("%Y.%m.%d").to_string();
        by_day
            .entry(format!("{prefix}-{day}"))
            .or_default()
            .push(doc.clone());
    }
    for (index, docs) in by_day {
        node.delete_index(&index);
        node.index_docs(&index, &docs);
    }
}

fn es(node_url: &str, prefix: &str) -> nightwatch_testkit::PluginCmd {
    plugin("check-audit-freshness").args([
        "--source",
        "es",
        "--url",
        node_url,
        "--index",
        &format!("{prefix}-%Y.%m.%d"),
        "--query",
        "message:\"Ansible playbook finished\"",
        "--group-by",
        "host.keyword",
        "--at",
        AT,
    ])
}

#[test]
fn sixty_hosts_on_every_node_none_cut_and_the_stalest_first() {
    for flavor in SearchFlavor::ALL {
        let node = SearchNode::shared(flavor);
        let prefix = format!("caf60-{}", flavor.dir_name());
        load(node, &prefix, &sixty_hosts());
        let run = es(&node.url(), &prefix)
            .args(["-w", "26h", "-c", "50h", "--expect", "host-00,db99"])
            .run();
        run.state_is(State::Critical)
            .first_line_is("AUDIT CRITICAL: db99: no audit event in 7d")
            .long_text_contains("WARNING: host-07 last seen 30h ago, above 26h")
            .long_text_contains("OK: host-59 last seen 5h ago")
            .stdout_lacks("noise01");
        assert_eq!(
            run.parsed().perfdata.len(),
            61,
            "{}: {}",
            flavor.name(),
            run.stdout()
        );
        assert_eq!(run.perfdata("host-07").value, Some(30.0 * 3600.0));
        // Stalest first: db99 (never), host-07, then the 5 h ones.
        let lines: Vec<&str> = run.long_text().lines().collect();
        assert!(
            lines[0].contains("db99") && lines[1].contains("host-07"),
            "{lines:?}"
        );

        es(&node.url(), &prefix)
            .args(["-w", "31h", "-c", "50h"])
            .run()
            .state_is(State::Ok)
            .first_line_is("AUDIT OK: 60 hosts fresh, the oldest host-07 30h ago");
    }
}

#[test]
fn a_clock_ahead_warns_and_never_makes_a_host_fresh() {
    let node = SearchNode::shared(SearchFlavor::ALL[0]);
    let docs = vec![
        json!({"@timestamp": hours_before(1.0), "host": "web01", "message": "Ansible playbook finished"}),
        json!({"@timestamp": hours_before(-2.0), "host": "web01", "message": "Ansible playbook finished"}),
        json!({"@timestamp": hours_before(40.0), "host": "db01", "message": "Ansible playbook finished"}),
        // Ahead by 3 minutes: within --max-skew, fresh.
        json!({"@timestamp": hours_before(-0.05), "host": "db01", "message": "Ansible playbook finished"}),
        json!({"@timestamp": hours_before(-5.0), "host": "ahead01", "message": "Ansible playbook finished"}),
    ];
    load(node, "cafskew", &docs);
    let run = es(&node.url(), "cafskew")
        .args(["-w", "26h", "-c", "50h"])
        .run();
    run.state_is(State::Critical)
        .first_line_is("AUDIT CRITICAL: ahead01: no audit event in 7d")
        .long_text_contains("WARNING: ahead01: an event stamped 5h ahead")
        .long_text_contains("WARNING: web01: an event stamped 2h ahead")
        .long_text_contains("OK: web01 last seen 1h ago")
        .long_text_contains("OK: db01 last seen 0s ago")
        .stdout_lacks("db01: an event");
}

#[test]
fn required_fields_missing_in_recent_events_warn_with_an_example() {
    let node = SearchNode::shared(SearchFlavor::ALL[1]);
    let mut docs = Vec::new();
    for n in 0..10 {
        let mut doc = json!({"@timestamp": hours_before(f64::from(n) + 1.0), "host": "web01",
                             "message": "Ansible playbook finished", "user": "ansible", "action": "run"});
        if n == 3 {
            doc.as_object_mut().expect("an object").remove("user");
        }
        docs.push(doc);
    }
    load(node, "cafreq", &docs);
    es(&node.url(), "cafreq")
        .args(["-w", "26h", "--require-fields", "user,action,@timestamp"])
        .run()
        .state_is(State::Warning)
        .first_line_contains(
            "1 of 10 recent events (10%) lack one of user, action, @timestamp, e.g. ",
        )
        .first_line_contains(" has no user")
        .perfdata_has("incomplete=10%");
    es(&node.url(), "cafreq")
        .args([
            "-w",
            "26h",
            "--require-fields",
            "user,action",
            "--max-incomplete",
            "10",
        ])
        .run()
        .state_is(State::Ok);
}

#[test]
fn no_index_unreachable_and_500_are_unknown_naming_the_source() {
    let node = SearchNode::shared(SearchFlavor::ALL[0]);
    es(&node.url(), "caf-none-such")
        .args(["-w", "26h"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("none of the indices caf-none-such-");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("an address").port();
    drop(closed);
    es(&format!("http://127.0.0.1:{port}"), "x")
        .args(["-w", "26h"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("the search server is unreachable");
    let nginx = Nginx::builder()
        .server_snippet(r#"location /broken/ { return 500 '{"error":"boom"}'; }"#)
        .start();
    es(&format!("http://127.0.0.1:{}/broken/", nginx.port()), "x")
        .args(["-w", "26h"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("answered 500");
}

fn file(path: &Path) -> nightwatch_testkit::PluginCmd {
    plugin("check-audit-freshness").args([
        "--source".as_ref(),
        "file".as_ref(),
        "--path".as_ref(),
        path.as_os_str(),
        "--log-tz".as_ref(),
        "UTC".as_ref(),
    ])
}

const ANSIBLE: &str = r"Ansible playbook finished on (?P<group>\S+)";

#[test]
fn syslog_lines_across_new_year_rotated_and_gzipped() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("auth.log");
    // Read at 00:30 on New Year's Day: December lines are last year's.
    std::fs::write(
        &log,
        "Dec 31 23:50:00 cm sudo: Ansible playbook finished on web01\n\
         Jan  1 00:10:00 cm sudo: Ansible playbook finished on web02\n",
    )
    .expect("auth.log");
    std::fs::write(
        dir.path().join("auth.log.1"),
        "Dec 31 01:00:00 cm sudo: Ansible playbook finished on db01\n",
    )
    .expect("auth.log.1");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"Dec 28 02:00:00 cm sudo: Ansible playbook finished on db02\n")
        .expect("gzip");
    std::fs::write(dir.path().join("auth.log.2.gz"), gz.finish().expect("gzip")).expect("gz");
    let run = file(&log)
        .args([
            "--match",
            ANSIBLE,
            "--at",
            "2027-01-01T00:30:00Z",
            "-w",
            "26h",
            "-c",
            "3d",
        ])
        .args(["--expect", "web01,web02,db01,db02"])
        .run();
    run.state_is(State::Critical)
        .first_line_is("AUDIT CRITICAL: db02 last seen 3d 22h ago, above 3d")
        .long_text_contains("OK: db01 last seen 23h 30m ago")
        .long_text_contains("OK: web01 last seen 40m ago")
        .long_text_contains("OK: web02 last seen 20m ago");
}

#[test]
fn copytruncate_malformed_unfinished_bom_and_epoch_milliseconds() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("audit.jsonl");
    // copytruncate: the live file was just truncated, its lines are in .1.
    std::fs::write(&log, "").expect("truncated");
    let ms = at().as_millisecond() - 3_600_000;
    std::fs::write(
        dir.path().join("audit.jsonl.1"),
        format!(
            "\u{feff}{{\"ts\":\"{}\",\"host\":\"db01\",\"user\":\"bob\",\"id\":\"a1\"}}\n\
             {{\"ts\":{ms},\"host\":\"web01\",\"user\":\"alice\",\"id\":\"a2\"}}\n\
             this is not json\n\
             {{\"ts\":\"soon\",\"host\":\"web01\"}}\n",
            hours_before(2.0)
        ),
    )
    .expect("audit.jsonl.1");
    let json = |extra: &[&str]| {
        file(&log)
            .args([
                "--line-format",
                "json",
                "--time-field",
                "ts",
                "--group-by",
                "host",
            ])
            .args(["--at", AT, "-w", "26h"])
            .args(extra)
            .run()
    };
    json(&[])
        .state_is(State::Ok)
        .first_line_is("AUDIT OK: 2 hosts fresh, the oldest db01 2h ago")
        .long_text_contains("skipped 2 malformed lines");
    // A line being written when the check runs is skipped, not misread.
    let mut live = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open");
    write!(live, "{{\"ts\":\"{}\",\"host\":\"db0", hours_before(0.0)).expect("write");
    drop(live);
    json(&["--expect", "db0"])
        .state_is(State::Critical)
        .first_line_is("AUDIT CRITICAL: db0: no audit event in 7d")
        .long_text_contains("skipped the unfinished last line");
}

#[test]
fn missing_files_are_unknown_and_empty_ones_never() {
    let dir = tempfile::tempdir().expect("a temp dir");
    file(&dir.path().join("nope.log"))
        .args(["--match", ANSIBLE, "-w", "26h"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("nope.log does not exist");
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").expect("empty");
    file(&empty)
        .args(["--match", "backup done", "-w", "26h", "--what", "backup"])
        .run()
        .state_is(State::Critical)
        .first_line_is("AUDIT CRITICAL: no backup in 7d");
}

#[test]
fn a_nightly_schedule_in_berlin_fresh_all_day_and_late_after_grace() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("backup.log");
    // The backup ran at 02:04 CET (01:04Z) on Dec 2 and not on Dec 3.
    std::fs::write(&log, "2026-12-02T01:04:00Z backup done on db01\n").expect("log");
    let run = |now: &str| -> PluginRun {
        file(&log)
            .args([
                "--match",
                r"backup done on (?P<group>\S+)",
                "--what",
                "backup",
            ])
            .args([
                "--schedule",
                "0 2 * * *",
                "--tz",
                "Europe/Berlin",
                "--grace",
                "30m",
            ])
            .args(["--at", now])
            .run()
    };
    run("2026-12-03T01:29:59Z")
        .state_is(State::Ok)
        .first_line_is("AUDIT OK: db01 backup last seen 24h 25m ago");
    run("2026-12-03T01:30:00Z")
        .state_is(State::Critical)
        .first_line_is("AUDIT CRITICAL: db01 backup missed the run of 2026-12-03 02:00 CET (due by 2026-12-03 02:30 CET), last seen 24h 26m ago");
}

#[test]
fn graphite_series_newest_non_null_points() {
    let graphite = Graphite::shared();
    let now = Timestamp::now().as_second();
    let prefix = format!("caf{}", std::process::id());
    let fresh = format!("{prefix}.db01.last_success");
    let stale = format!("{prefix}.db02.last_success");
    graphite.send(&[(&fresh, 1.0, now - 3600), (&stale, 1.0, now - 30 * 3600)]);
    // wait_for looks at the last hour only: the stale point is older.
    for metric in [&fresh, &stale] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !graphite
            .try_points(metric, now - 31 * 3600, now)
            .is_ok_and(|points| points.iter().any(|(_, v)| v.is_some()))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{metric} never readable"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
    let run = plugin("check-audit-freshness")
        .args(["--source", "graphite", "--url", &graphite.url()])
        .args([
            "--target",
            &format!("{prefix}.*.last_success"),
            "-w",
            "26h",
            "-c",
            "2d",
        ])
        .run();
    run.state_is(State::Warning)
        .first_line_contains(&format!("{stale} last seen 30h"))
        .first_line_contains("above 26h")
        .long_text_contains(&format!("OK: {fresh} last seen 1h"));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("an address").port();
    drop(closed);
    plugin("check-audit-freshness")
        .args([
            "--source",
            "graphite",
            "--url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .args(["--target", "x", "-w", "26h"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("Graphite is unreachable");
}
