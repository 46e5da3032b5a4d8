//! Any bytes as a spool line: never a panic, and a line that decodes
//! encodes back to exactly itself (so nothing garbled is ever sent).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pi_probe_exporter::record::Record;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Record::decode(data) {
        assert_eq!(r.encode().as_bytes(), data);
    }
});
