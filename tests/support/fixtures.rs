//! Test data kept in `tests/fixtures/`, read once here: the `CloudTrail`
//! events (AWS's documented shapes) that the cloudtrail check, the shipped
//! Nagios services, the live-Nagios test and the demo all index.

use std::path::PathBuf;

use nightwatch_search::Timestamp;
use serde_json::Value;

fn cloudtrail_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/cloudtrail/events.json")
}

/// Every `CloudTrail` fixture event by name, as AWS records it.
#[must_use]
pub fn cloudtrail_fixtures() -> Vec<(String, Value)> {
    let path = cloudtrail_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let all: Vec<Value> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    all.into_iter()
        .map(|f| {
            (
                f["fixture"].as_str().expect("a fixture name").to_owned(),
                f["event"].clone(),
            )
        })
        .collect()
}

/// The named fixtures as a Logstash index holds them for the shipped
/// services: received (`@timestamp`) at `received`, `type: cloudtrail`.
/// Panics naming a fixture that does not exist.
#[must_use]
pub fn cloudtrail_docs(names: &[&str], received: i64) -> Vec<Value> {
    let all = cloudtrail_fixtures();
    names
        .iter()
        .map(|name| {
            let mut doc = all
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("no CloudTrail fixture {name}"))
                .1
                .clone();
            doc["@timestamp"] = rfc3339(received).into();
            doc["type"] = "cloudtrail".into();
            doc
        })
        .collect()
}

/// `2026-12-03T13:05:00Z`: seconds since the epoch as the search nodes,
/// change records and log lines write them.
#[must_use]
pub fn rfc3339(seconds: i64) -> String {
    Timestamp::from_second(seconds)
        .expect("a time in range")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
