//! Any bytes in `w1_slave` or `temperature`: never a panic, and anything
//! accepted is a value the file really stated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pi_probe_exporter::reading::{Verdict, judge_value};
use pi_probe_exporter::w1::{parse_temperature, parse_w1_slave};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = parse_w1_slave(data) {
        let text = std::str::from_utf8(data).expect("accepted input is text");
        assert!(text.contains("YES"), "accepted without a YES verdict");
        assert!(text.contains("t="), "accepted without t=");
        let t_at = text.rfind("t=").expect("has t=");
        assert!(text[t_at..].contains('\n'), "accepted a t= line cut short");
        let _ = judge_value(None, v);
    }
    if let Ok(v) = parse_temperature(data) {
        assert!(data.contains(&b'\n'), "accepted a number cut short");
        if let Verdict::Accepted { milli_c, .. } = judge_value(Some(v), v) {
            assert_eq!(milli_c, v);
        }
    }
});
