//! Any bytes as a server's answer to a ClientHello: never a panic, and an
//! answer read from a prefix is the answer for the whole (reading stops
//! where the answer is complete, whatever follows).
#![no_main]

use check_tls_ciphers::wire::{Progress, parse_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for want_curve in [false, true] {
        if let Ok(Progress::Done(reply)) = parse_reply(data, want_curve) {
            let mut extended = data.to_vec();
            extended.extend_from_slice(&[0x16, 3, 3, 0, 1, 0]);
            assert_eq!(parse_reply(&extended, want_curve), Ok(Progress::Done(reply)));
        }
    }
});
