//! Any bytes in `w1_slave` or `temperature`: never a panic, and anything
//! accepted is a value the file really stated (and, in `w1_slave`, one its
//! scratchpad's temperature register agrees with, when it has one).
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
        let line_start = text[..t_at].rfind('\n').map_or(0, |i| i + 1);
        let pad: Vec<&str> = text[line_start..t_at].split_ascii_whitespace().collect();
        if let [lsb, msb, ..] = pad[..] {
            let raw = i16::from_le_bytes([
                u8::from_str_radix(lsb, 16).expect("accepted scratchpad is hex"),
                u8::from_str_radix(msb, 16).expect("accepted scratchpad is hex"),
            ]);
            // Within the coarsest (9-bit) step of the register.
            let diff = (i64::from(v) * 16 - i64::from(raw) * 1000).abs();
            assert!(diff < 8000, "t={v} accepted against register {raw}");
        }
        let _ = judge_value(None, v);
    }
    if let Ok(v) = parse_temperature(data) {
        assert!(data.contains(&b'\n'), "accepted a number cut short");
        if let Verdict::Accepted { milli_c, .. } = judge_value(Some(v), v) {
            assert_eq!(milli_c, v);
        }
    }
});
