#![no_main]
//! Any bytes: the parser returns series or an error, never panics, and what
//! it returns is consistent (a parsed reply is a JSON array).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(series) = nightwatch_graphite::parse_render(body) {
        assert!(body.trim_ascii_start().starts_with(b"["));
        for s in &series {
            assert!(s.values().all(|(_, v)| !v.is_nan()));
        }
    }
});
