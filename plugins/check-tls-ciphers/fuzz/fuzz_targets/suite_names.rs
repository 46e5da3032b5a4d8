//! Any text as a suite in a policy file: a name in any dialect, a code
//! point, an Erlang tuple or map, or an OpenSSL cipher string. Never a
//! panic; what resolves names each suite once; resolving the same text
//! twice gives the same suites (the expansion is deterministic); and every
//! suite found resolves back from each of its own names.
#![no_main]

use check_tls_ciphers::suites::{Dialect, resolve, resolve_group};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = resolve_group(text);
    let Ok(found) = resolve(text) else {
        return;
    };
    let mut codes: Vec<u16> = found.iter().map(|s| s.code).collect();
    assert_eq!(resolve(text).unwrap(), found);
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), found.len(), "a suite twice");
    for suite in found.iter().take(3) {
        for dialect in Dialect::ALL {
            if let Some(name) = suite.name_in(dialect) {
                assert_eq!(resolve(&name).unwrap()[0].code, suite.code, "{name}");
            }
        }
    }
});
