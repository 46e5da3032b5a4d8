//! Any bytes as a server's plaintext reply before STARTTLS (SMTP/FTP coded
//! replies, IMAP and POP3 status lines, PostgreSQL's SSLRequest answer,
//! LDAP's BER ExtendedResponse): never a panic, a reply read from a prefix
//! is the reply for the whole, a reply never claims more bytes than it
//! was given, and a quote of any bytes stays on one line.
#![no_main]

use check_tls_ciphers::starttls::{
    Parsed, parse_coded_reply, parse_imap_line, parse_ldap_response, parse_pg_answer,
    parse_pop3_status, quote,
};
use libfuzzer_sys::fuzz_target;

fn stable<T: PartialEq + std::fmt::Debug>(data: &[u8], parse: fn(&[u8]) -> Parsed<T>) {
    if let Ok(Some((reply, used))) = parse(data) {
        assert!(used <= data.len(), "{used} bytes used of {}", data.len());
        let mut extended = data.to_vec();
        extended.extend_from_slice(b"250 more\r\n\x30\x00");
        assert_eq!(parse(&extended), Ok(Some((reply, used))));
    }
}

fuzz_target!(|data: &[u8]| {
    stable(data, parse_coded_reply);
    stable(data, parse_imap_line);
    stable(data, parse_pop3_status);
    stable(data, parse_pg_answer);
    stable(data, parse_ldap_response);
    let quoted = quote(data);
    assert!(!quoted.contains(['\n', '\r', '|']));
});
