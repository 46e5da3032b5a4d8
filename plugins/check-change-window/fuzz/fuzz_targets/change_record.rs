//! Any bytes as a change record, Markdown or a JSON export: never a panic;
//! an error names a line of the input; a record that reads has an id, a
//! summary and a window that ends after it starts, and reading it again
//! gives the same digest (what a reviewer approved stays approved).
#![no_main]

use std::path::Path;

use check_change_window::record::{parse_json, parse_markdown};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A lone CR is a line break to YAML, and so to the parser.
    let lines = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .count()
        .max(1);
    match parse_markdown(Path::new("fuzz.md"), text) {
        Ok(change) => {
            assert!(!change.id.is_empty() && !change.summary.is_empty());
            if let Some(window) = &change.window {
                assert!(window.end.timestamp > window.start.timestamp);
            }
            let again = parse_markdown(Path::new("fuzz.md"), text).expect("reads twice");
            assert_eq!(again.digest, change.digest);
        }
        Err(error) => {
            if let Some(line) = error.line {
                assert!(
                    line >= 1 && line <= lines + 1,
                    "line {line} of {lines}: {error}"
                );
            }
        }
    }
    let records = parse_json(Path::new("fuzz.json"), text);
    for change in &records.changes {
        assert!(!change.id.is_empty() && !change.summary.is_empty());
    }
    for error in &records.broken {
        if let Some(line) = error.line {
            assert!(
                line >= 1 && line <= lines + 1,
                "line {line} of {lines}: {error}"
            );
        }
    }
});
