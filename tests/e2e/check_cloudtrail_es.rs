//! check-cloudtrail-es against real `OpenSearch` 2 and 3 and Elasticsearch
//! 7.17 and 8 nodes, the same tests on each: `CloudTrail` events written
//! from AWS's documented shapes (`tests/fixtures/cloudtrail/events.json`),
//! shipped the way Logstash does (`@timestamp` some minutes after
//! `eventTime`, `type: cloudtrail`, daily indices), with the window
//! crossing midnight UTC. Faults a real node cannot show (a hang, a reply
//! that is not JSON) use the harness's fakes; refusals come from nginx in
//! front of a real node.

use std::collections::BTreeMap;

use nightwatch_search::Timestamp;
use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};
use nightwatch_testkit::{FakeGarbageServer, FakeHangServer, Nginx, PluginRun, State, plugin};
use serde_json::{Map, Value, json};

/// The check runs at 00:15 UTC with a 30-minute window: 23:45 to 00:15.
const AT: &str = "2026-11-25T00:15:00Z";
/// `CloudTrail`'s delivery plus the Logstash poll.
const DELIVERY_MINUTES: i64 = 6;

/// Every fixture event by name, as AWS records it.
fn fixtures() -> Vec<(String, Value)> {
    nightwatch_testkit::fixtures::cloudtrail_fixtures()
}

/// `eventTime` plus the delivery delay, as Logstash stamps it.
fn received(event: &Value) -> String {
    let time: Timestamp = event["eventTime"]
        .as_str()
        .expect("eventTime")
        .parse()
        .expect("an RFC 3339 eventTime");
    let at = Timestamp::from_second(time.as_second() + DELIVERY_MINUTES * 60).expect("in range");
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `{"a": {"b": 1}}` as `{"a.b": 1}` (arrays keep their objects nested):
/// how some pipelines store events.
fn dotted(value: &Value) -> Value {
    fn walk(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, inner, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.clone());
            }
        }
    }
    let mut out = Map::new();
    walk("", value, &mut out);
    Value::Object(out)
}

/// Loads the fixtures into `<prefix>-YYYY.MM.DD` by the day they were
/// received, and returns the indices written.
fn load(node: &SearchNode, prefix: &str, dotted_names: bool) -> Vec<String> {
    let mut by_day: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (_, event) in fixtures() {
        let stamp = received(&event);
        let day = stamp[..10].replace('-', ".");
        let mut doc = if dotted_names { dotted(&event) } else { event };
        doc["@timestamp"] = json!(stamp);
        doc["type"] = json!("cloudtrail");
        by_day
            .entry(format!("{prefix}-{day}"))
            .or_default()
            .push(doc);
    }
    for (index, docs) in &by_day {
        node.delete_index(index);
        node.index_docs(index, docs);
    }
    by_day.into_keys().collect()
}

/// Runs `test` on every flavor the harness starts, naming it on failure.
fn each_flavor(test: impl Fn(&str, &SearchNode)) {
    for flavor in SearchFlavor::ALL {
        test(flavor.name(), SearchNode::shared(flavor));
    }
}

fn check(node: &SearchNode, prefix: &str, args: &[&str]) -> PluginRun {
    plugin("check-cloudtrail-es")
        .args(["--url", node.url().as_str()])
        .args(["--index", &format!("{prefix}-%Y.%m.%d"), "--at", AT])
        .args(args)
        .run()
}

const AUTHORIZE: [&str; 6] = [
    "--query",
    "Authorize*",
    "--field",
    "eventName",
    "--type",
    "cloudtrail",
];

#[test]
fn world_open_ingress_pages_naming_who_opened_what_across_midnight() {
    each_flavor(|name, node| {
        let indices = load(node, "ct-world", false);
        assert_eq!(
            indices,
            ["ct-world-2026.11.24", "ct-world-2026.11.25"],
            "{name}"
        );
        let run = check(node, "ct-world", &[&AUTHORIZE[..], &["-w", "100"]].concat());
        run.state_is(State::Critical)
            // The newest risky event leads; the RDS call matches Authorize*.
            .first_line_contains("the database port open to 0.0.0.0/0 on legacy-reports by alice (+2 more)")
            .long_text_contains("CRITICAL: tcp 22 open to 0.0.0.0/0: 2026-11-24T23:48:05Z AuthorizeSecurityGroupIngress by arn:aws:iam::123456789012:user/alice from 203.0.113.7 in us-east-1: sg-0a1b2c3d4e5f67890 tcp 22 from 0.0.0.0/0")
            .long_text_contains("tcp 443 open to ::/0: ")
            .long_text_contains("tcp 22 from 10.0.0.0/8, group sg-0bastion000000001; tcp 443 from ::/0, prefix list pl-63a5400a")
            .long_text_contains("sg-0db5e1ec7ab1e0001 tcp 5432 from 198.51.100.23/32")
            .long_text_contains("sg-0db5e1ec7ab1e0001 egress udp 53 to 0.0.0.0/0")
            .long_text_contains("tcp 3389 from 0.0.0.0/0 FAILED Client.UnauthorizedOperation (an attempt, not a change)")
            .long_text_contains("in ct-world-2026.11.24, ct-world-2026.11.25 from 2026-11-24T23:45:00Z to 2026-11-25T00:15:00Z (@timestamp)")
            // 23:20 is before the window: its port 25 is nowhere.
            .stdout_lacks("tcp 25");
        assert_eq!(
            run.perfdata("events").value,
            Some(7.0),
            "{name}: {}",
            run.stdout()
        );
        assert_eq!(
            run.perfdata("world_open_ingress").value,
            Some(3.0),
            "{name}"
        );
        assert_eq!(run.perfdata("approved").value, Some(0.0), "{name}");

        // Only the count, as the Ruby plugin did: the same matches, no verdicts.
        let count = check(
            node,
            "ct-world",
            &[&AUTHORIZE[..], &["--count-only", "-c", "0"]].concat(),
        );
        count
            .state_is(State::Critical)
            .first_line_contains("7 events in the last 30m, above 0");
        assert_eq!(count.perfdata("events").value, Some(7.0), "{name}");
    });
}

#[test]
fn the_security_group_preset_allow_lists_and_approved_automation() {
    each_flavor(|name, node| {
        load(node, "ct-sg", false);
        let run = check(
            node,
            "ct-sg",
            &[
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
        );
        // 22 and 443 may be open; RDS is not EC2; the failed call changed
        // nothing; terraform is approved.
        run.state_is(State::Ok)
            .first_line_contains("6 events in the last 30m: newest ModifySecurityGroupRules by bob on sg-0db5e1ec7ab1e0001")
            .long_text_contains("rule sgr-0bb2 now tcp 5432 with 10.20.0.0/16")
            .long_text_contains("OK: approved automation (arn:aws:sts::*:assumed-role/terraform/*): 2026-11-25T00:08:20Z AuthorizeSecurityGroupIngress by arn:aws:sts::123456789012:assumed-role/terraform/ci-4821")
            .long_text_contains("(1 by approved automation, not counted)")
            .stdout_lacks("AuthorizeDBSecurityGroupIngress");
        assert_eq!(run.perfdata("events").value, Some(6.0), "{name}");
        assert_eq!(run.perfdata("approved").value, Some(1.0), "{name}");
        assert_eq!(
            run.perfdata("world_open_ingress").value,
            Some(0.0),
            "{name}"
        );

        // Without the allow list, 22 and 443 to the world page, whatever -c.
        let strict = check(
            node,
            "ct-sg",
            &[
                "--preset",
                "security-groups",
                "--allow-groups",
                "sg-0other",
                "-c",
                "20",
            ],
        );
        strict
            .state_is(State::Critical)
            .first_line_contains("tcp 443 open to ::/0 on sg-0a1b2c3d4e5f67890 by alice (+1 more)");
        let group_allowed = check(
            node,
            "ct-sg",
            &[
                "--preset",
                "security-groups",
                "--allow-groups",
                "sg-0a1b2c3d4e5f67890",
            ],
        );
        group_allowed.state_is(State::Ok);
        assert_eq!(
            group_allowed.perfdata("world_open_ingress").value,
            Some(0.0),
            "{name}"
        );
    });
}

#[test]
fn iam_root_trail_and_region_presets() {
    each_flavor(|name, node| {
        load(node, "ct-presets", false);
        let run = check(
            node,
            "ct-presets",
            &[
                "--preset",
                "iam,root,trail",
                "--preset",
                "regions",
                "--regions",
                "us-east-1,eu-west-1",
                "-c",
                "0",
            ],
        );
        run.state_is(State::Critical)
            .first_line_contains("RunInstances in ap-southeast-2 by mallory, a region not in use")
            .long_text_contains("ap-southeast-2 is not a region in use: 2026-11-25T00:07:45Z RunInstances by arn:aws:iam::123456789012:user/mallory from 192.0.2.66 in ap-southeast-2 FAILED Client.UnauthorizedOperation")
            .long_text_contains("CRITICAL: 2026-11-25T00:06:02Z StopLogging by arn:aws:iam::123456789012:user/bob from 198.51.100.4 in eu-west-1")
            .long_text_contains("CRITICAL: 2026-11-25T00:05:20Z ConsoleLogin by arn:aws:iam::123456789012:root from 192.0.2.66")
            .long_text_contains("CRITICAL: 2026-11-25T00:04:35Z CreateAccessKey by arn:aws:iam::123456789012:user/alice")
            .long_text_contains("CRITICAL: 2026-11-25T00:04:10Z CreateUser by arn:aws:iam::123456789012:user/alice")
            .stdout_lacks("AuthorizeSecurityGroup");
        assert_eq!(
            run.perfdata("events").value,
            Some(5.0),
            "{name}: {}",
            run.stdout()
        );
        assert_eq!(run.perfdata("outside_regions").value, Some(1.0), "{name}");

        // IAM logs us-east-1 wherever it is used: never flagged for it.
        let elsewhere = check(
            node,
            "ct-presets",
            &["--preset", "iam", "--regions", "eu-west-1", "-w", "5"],
        );
        elsewhere
            .state_is(State::Ok)
            .first_line_contains("2 events in the last 30m: newest CreateAccessKey by alice");
    });
}

#[test]
fn dotted_names_and_event_time_as_the_date_field() {
    each_flavor(|name, node| {
        load(node, "ct-dotted", true);
        let run = check(
            node,
            "ct-dotted",
            &[&AUTHORIZE[..], &["--date-field", "eventTime"]].concat(),
        );
        run.state_is(State::Critical)
            .first_line_contains("the database port open to 0.0.0.0/0 on legacy-reports by alice (+2 more)")
            .long_text_contains("tcp 22 from 10.0.0.0/8, group sg-0bastion000000001; tcp 443 from ::/0, prefix list pl-63a5400a")
            .long_text_contains("from 2026-11-24T23:45:00Z to 2026-11-25T00:15:00Z (eventTime)");
        assert_eq!(
            run.perfdata("events").value,
            Some(7.0),
            "{name}: {}",
            run.stdout()
        );
    });
}

#[test]
fn no_index_in_the_window_is_unknown_never_zero() {
    each_flavor(|name, node| {
        node.delete_index("ct-missing-2026.11.24");
        let run = plugin("check-cloudtrail-es")
            .args([
                "--url",
                node.url().as_str(),
                "--index",
                "ct-missing-%Y.%m.%d",
            ])
            .args([
                "--at",
                "2026-11-24T12:00:00Z",
                "--query",
                "Authorize*",
                "-c",
                "0",
            ])
            .run();
        run.state_is(State::Unknown).first_line_is(
            "CLOUDTRAIL UNKNOWN: no index ct-missing-2026.11.24 exists: is Logstash shipping, and is --index right?",
        );
        assert!(run.parsed().perfdata.is_empty(), "{name}: no zero count");
    });
}

#[test]
fn failed_shards_are_unknown_naming_the_index() {
    each_flavor(|name, node| {
        load(node, "ct-shards", false);
        // Another pipeline stored eventName as a number here: the wildcard
        // on it fails this index's shard, and only this one.
        let broken = "ct-shards-2026.11.25-broken";
        node.delete_index(broken);
        let reply = node.request(
            "PUT",
            &format!("/{broken}"),
            &[],
            Some(r#"{"mappings":{"properties":{"eventName":{"type":"long"}}}}"#),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        node.index_docs(
            broken,
            &[json!({"@timestamp": "2026-11-25T00:05:00Z", "eventName": 42})],
        );
        let run = plugin("check-cloudtrail-es")
            .args(["--url", node.url().as_str(), "--at", AT])
            .args(["--index", "ct-shards-%Y.%m.%d,ct-shards-*-broken"])
            .args(AUTHORIZE)
            .run();
        run.state_is(State::Unknown).first_line_contains(
            "shards failed, so the answer is partial: ct-shards-2026.11.25-broken shard 0",
        );
    });
}

#[test]
fn servers_that_fail_or_refuse_are_unknown_saying_so() {
    let args = [
        "--index",
        "logstash-%Y.%m.%d",
        "--query",
        "Authorize*",
        "-c",
        "0",
    ];
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    plugin("check-cloudtrail-es")
        .args(["-H", "127.0.0.1", "-p", &closed.to_string()])
        .args(args)
        .run()
        .state_is(State::Unknown)
        .first_line_contains(
            "the search server is unreachable: cannot connect to http://127.0.0.1:",
        );

    let hang = FakeHangServer::start();
    plugin("check-cloudtrail-es")
        .args(["--url", &hang.url(), "-t", "2s"])
        .args(args)
        .run()
        .state_is(State::Unknown)
        .first_line_contains("the search server is unreachable: no answer from")
        .first_line_contains("within 1.5s");

    let html = FakeGarbageServer::http_200("<html>It works!</html>");
    plugin("check-cloudtrail-es")
        .args(["--url", &html.url()])
        .args(args)
        .run()
        .state_is(State::Unknown)
        .first_line_contains("is not a search server's");

    let node = SearchNode::shared(SearchFlavor::ALL[0]);
    load(node, "ct-auth", false);
    let dir = tempfile::tempdir().expect("a temp dir");
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, "monitor:{PLAIN}s3cret\n").expect("htpasswd");
    let upstream = node.url().trim_end_matches('/').to_owned();
    let nginx = Nginx::builder()
        .server_snippet(&format!(
            r#"location /basic/ {{ auth_basic "search"; auth_basic_user_file {}; proxy_pass {upstream}/; }}
            location /forbidden/ {{ return 403; }}
            location /overloaded/ {{ return 503 '{{"error":{{"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/1/state not recovered]"}},"status":503}}'; }}"#,
            htpasswd.display()
        ))
        .start();
    let base = format!("http://127.0.0.1:{}", nginx.port());
    let through = |path: &str, password: &str| {
        plugin("check-cloudtrail-es")
            .args(["--url", &format!("{base}/{path}/"), "--user", "monitor"])
            .env("ES_PASSWORD", password)
            .args(["--index", "ct-auth-%Y.%m.%d", "--at", AT])
            .args(AUTHORIZE)
            .run()
    };
    through("basic", "s3cret")
        .state_is(State::Critical)
        .first_line_contains("open to 0.0.0.0/0");
    through("basic", "wrong")
        .state_is(State::Unknown)
        .first_line_contains("answered 401");
    through("forbidden", "s3cret")
        .state_is(State::Unknown)
        .first_line_contains("answered 403");
    through("overloaded", "s3cret")
        .state_is(State::Unknown)
        .first_line_contains("answered 503 (cluster_block_exception)");
}

#[test]
fn mistakes_are_unknown_naming_what_to_fix() {
    plugin("check-cloudtrail-es")
        .args([
            "-H",
            "127.0.0.1",
            "--index",
            "l-%Y.%m.%d",
            "--preset",
            "regions",
        ])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("--preset regions needs --regions");
    plugin("check-cloudtrail-es")
        .args(["-H", "127.0.0.1", "--index", "l-%Y.%m.%d"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("nothing to look for: give --query");
    plugin("check-cloudtrail-es")
        .args([
            "-H",
            "127.0.0.1",
            "--index",
            "l",
            "--query",
            "x",
            "--allow-world-ports",
            "ssh",
        ])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("\"ssh\" is not a port");
}
