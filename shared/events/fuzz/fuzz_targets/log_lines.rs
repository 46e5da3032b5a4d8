//! Any bytes as a log line, JSON or text, and as a time: never a panic,
//! and an event read from a line has a time the line states.
#![no_main]

use std::path::Path;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use nightwatch_events::time::{TimeContext, leading_time, parse_time};
use nightwatch_events::{FileSource, LineFormat};

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_second(1_795_514_400).expect("in range");
    let zone = TimeZone::get("Europe/Berlin").expect("a bundled zone");
    let json = FileSource::new(
        "fuzz.jsonl".into(),
        LineFormat::Json {
            time_field: "@timestamp".into(),
            group_field: Some("host".into()),
            id_field: Some("id".into()),
            filter: None,
        },
        zone.clone(),
    )
    .reading_at(now);
    let text = FileSource::new(
        "auth.log".into(),
        LineFormat::text(r"playbook finished on (?P<group>\S+)(?: at (?P<time>\S+))?")
            .expect("a regex"),
        zone.clone(),
    )
    .reading_at(now);
    for line in data.split(|&b| b == b'\n') {
        if let Ok(Some(event)) = json.parse_line(line, Path::new("fuzz.jsonl"), 0) {
            assert!(event.group.is_some(), "a JSON event without its group");
        }
        let _ = text.parse_line(line, Path::new("auth.log"), 0);
    }
    if let Ok(line) = std::str::from_utf8(data) {
        let context = TimeContext::new(now, zone);
        let _ = parse_time(line, &context);
        if let Some((_, end)) = leading_time(line, &context) {
            assert!(line.is_char_boundary(end) && end <= line.len());
        }
    }
});
