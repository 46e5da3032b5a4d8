//! Any bytes as a search hit's `_source`: never a panic, and an event read
//! is judged, listed and read for check-change-window (writes, targets)
//! without one either.
#![no_main]

use check_cloudtrail_es::event::Event;
use check_cloudtrail_es::judge::{Rules, judge};
use check_cloudtrail_es::report::event_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::parse(data) else {
        return;
    };
    assert!(!event.name.is_empty(), "an event without a name was accepted");
    let rules = Rules {
        world_ports: vec!["443".parse().expect("a port")],
        groups: vec!["sg-allowed".into()],
        principals: vec!["arn:aws:sts::*:assumed-role/terraform/*".parse().expect("a glob")],
        regions: vec!["eu-west-1".into()],
    };
    let verdict = judge(&event, &rules);
    let line = event_line(&event);
    assert!(line.contains(&event.name), "the line names the event");
    for permission in &event.permissions {
        if let Some((low, high)) = permission.ports {
            assert!(low <= high, "ports read backwards");
        }
    }
    let _ = verdict.counted();
    // What check-change-window reads of the same record.
    let _ = event.is_read_only();
    assert!(
        event.targets().iter().all(|t| !t.is_empty()),
        "an empty name for what the call acted on"
    );
});
