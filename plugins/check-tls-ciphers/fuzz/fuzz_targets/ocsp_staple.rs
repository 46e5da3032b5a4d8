//! Any bytes as the OCSP response a server staples to its certificate:
//! never a panic, and a response about one serial is never read as about
//! another.
#![no_main]

use check_tls_ciphers::cert::{Stapled, read_stapled};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the certificate's serial length, the next ones
    // the serial; the rest is the stapled response.
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let len = usize::from(len % 8).min(rest.len());
    let (serial, response) = rest.split_at(len);
    let read = read_stapled(response, serial);
    if response.is_empty() {
        assert_eq!(read, Stapled::None);
    }
});
