//! ClientHello bytes built by hand, and the server's first flight read as
//! far as a scan needs: the ServerHello (or HelloRetryRequest), an alert,
//! and in TLS ≤ 1.2 the ServerKeyExchange's curve or DH prime size. Nothing is decrypted or
//! verified: the handshake is never finished.

use std::fmt;

use crate::suites::Version;

const HANDSHAKE: u8 = 22;
const ALERT: u8 = 21;
const CHANGE_CIPHER_SPEC: u8 = 20;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const SERVER_KEY_EXCHANGE: u8 = 12;
const SERVER_HELLO_DONE: u8 = 14;
const RENEGOTIATION_INFO_SCSV: u16 = 0x00FF;
/// Servers reject records longer than this (RFC 8446 5.1).
const MAX_RECORD: usize = 1 << 14;
/// Some middleboxes drop hellos of 256–511 bytes (the F5 bug RFC 7685
/// describes): anything in that band is padded to 512.
const PAD_FROM: usize = 256;
const PAD_TO: usize = 512;

/// SHA-256("HelloRetryRequest"): the random of a ServerHello that is a
/// HelloRetryRequest (RFC 8446 4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

/// Signature schemes offered: every one a server could sign with, so the
/// scan never fails for want of one.
const SIGNATURE_SCHEMES: &[u16] = &[
    0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303,
    0x0301, 0x0302, 0x0402, 0x0502, 0x0602, 0x0203, 0x0201, 0x0202,
];

/// What one probe offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello<'a> {
    pub version: Version,
    pub suites: &'a [u16],
    /// Named groups (curves); empty sends no `supported_groups` extension.
    pub groups: &'a [u16],
    pub sni: Option<&'a str>,
}

impl Hello<'_> {
    /// The record bytes: `0x00FF` is appended to the suites, TLS 1.3 is asked
    /// for with `supported_versions` and an empty `key_share` (the server
    /// answers with a HelloRetryRequest naming its suite and group).
    #[must_use]
    pub fn to_bytes(&self, random: [u8; 32]) -> Vec<u8> {
        let mut body = Vec::with_capacity(600);
        let legacy = if self.version == Version::Tls13 {
            Version::Tls12
        } else {
            self.version
        };
        body.extend_from_slice(&legacy.wire().to_be_bytes());
        body.extend_from_slice(&random);
        // A 32-byte session id: TLS 1.3 middlebox compatibility mode, which
        // some servers expect; harmless below it.
        body.push(32);
        body.extend_from_slice(&random);
        let mut suites: Vec<u16> = self.suites.to_vec();
        suites.retain(|&s| s != RENEGOTIATION_INFO_SCSV);
        suites.push(RENEGOTIATION_INFO_SCSV);
        put_u16(&mut body, suites.len() * 2);
        for suite in suites {
            body.extend_from_slice(&suite.to_be_bytes());
        }
        body.extend_from_slice(&[1, 0]); // compression: null only

        let mut extensions = Vec::new();
        if let Some(host) = self.sni {
            let name = host.as_bytes();
            let mut ext = Vec::new();
            put_u16(&mut ext, name.len() + 3);
            ext.push(0); // host_name
            put_u16(&mut ext, name.len());
            ext.extend_from_slice(name);
            put_extension(&mut extensions, 0, &ext);
        }
        if !self.groups.is_empty() {
            put_extension(&mut extensions, 10, &u16_list(self.groups, 2));
            put_extension(&mut extensions, 11, &[1, 0]); // ec_point_formats: uncompressed
        }
        if self.version >= Version::Tls12 {
            put_extension(&mut extensions, 13, &u16_list(SIGNATURE_SCHEMES, 2));
        }
        if self.version == Version::Tls13 {
            put_extension(&mut extensions, 43, &[2, 0x03, 0x04]);
            put_extension(&mut extensions, 45, &[1, 1]); // psk_dhe_ke
            put_extension(&mut extensions, 51, &[0, 0]); // empty key_share
        }
        // Header sizes: record 5 + handshake 4 + extensions length 2.
        let unpadded = 5 + 4 + body.len() + 2 + extensions.len();
        if (PAD_FROM..PAD_TO).contains(&unpadded) {
            let pad = (PAD_TO - unpadded).saturating_sub(4);
            put_extension(&mut extensions, 21, &vec![0; pad]);
        }
        put_u16(&mut body, extensions.len());
        body.extend_from_slice(&extensions);

        let mut message = vec![CLIENT_HELLO];
        put_u24(&mut message, body.len());
        message.extend_from_slice(&body);
        let mut record = vec![HANDSHAKE, 0x03, 0x01];
        put_u16(&mut record, message.len());
        record.extend_from_slice(&message);
        record
    }
}

fn put_u16(out: &mut Vec<u8>, value: usize) {
    let value = u16::try_from(value).expect("hello fields are far below 64 KiB");
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_u24(out: &mut Vec<u8>, value: usize) {
    let value = u32::try_from(value).expect("hello is far below 16 MiB");
    out.extend_from_slice(&value.to_be_bytes()[1..]);
}

fn u16_list(values: &[u16], length_bytes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    if length_bytes == 2 {
        put_u16(&mut out, values.len() * 2);
    }
    for value in values {
        out.extend_from_slice(&value.to_be_bytes());
    }
    out
}

fn put_extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    put_u16(out, data.len());
    out.extend_from_slice(data);
}

/// The parts of a ServerHello a scan uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version (`supported_versions` when present).
    pub version: u16,
    pub suite: u16,
    /// A HelloRetryRequest rather than a ServerHello.
    pub retry: bool,
    /// The group a HelloRetryRequest selects, or a TLS 1.3 key share's.
    pub group: Option<u16>,
}

/// How the server answered one hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Hello {
        hello: ServerHello,
        /// The named curve of a TLS ≤ 1.2 ECDHE ServerKeyExchange, when
        /// asked for and present.
        curve: Option<u16>,
        /// The size of a TLS ≤ 1.2 DHE ServerKeyExchange's prime, in bits,
        /// when asked for and present.
        dh_bits: Option<u32>,
    },
    /// A fatal alert (or a warning other than `unrecognized_name`).
    Alert { level: u8, description: u8 },
}

/// Why the bytes are not a usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("record type {0} is not TLS handshake or alert")]
    RecordType(u8),
    #[error("record of {0} bytes is longer than TLS allows")]
    RecordTooLong(usize),
    #[error("handshake message type {0} came before the ServerHello")]
    Unexpected(u8),
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// Reading so far: more bytes needed, or the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    NeedMore,
    Done(Reply),
}

/// Reads the server's bytes so far. `want_curve` keeps reading a TLS ≤ 1.2
/// flight past the Certificate to the ServerKeyExchange's curve.
pub fn parse_reply(bytes: &[u8], want_curve: bool) -> Result<Progress, WireError> {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    let mut hello: Option<ServerHello> = None;
    loop {
        // Whole handshake messages are read before each new record.
        let mut messages = handshake.as_slice();
        let mut consumed = 0;
        while messages.len() >= 4 {
            let kind = messages[0];
            let length = u24(&messages[1..4]);
            if messages.len() < 4 + length {
                break;
            }
            let body = &messages[4..4 + length];
            match (kind, hello.clone()) {
                (SERVER_HELLO, None) => {
                    let parsed = parse_server_hello(body)?;
                    let tls13 = parsed.version >= Version::Tls13.wire();
                    if !want_curve || tls13 || parsed.retry {
                        return Ok(Progress::Done(Reply::Hello {
                            hello: parsed,
                            curve: None,
                            dh_bits: None,
                        }));
                    }
                    hello = Some(parsed);
                }
                (_, None) => return Err(WireError::Unexpected(kind)),
                (SERVER_KEY_EXCHANGE, Some(found)) => {
                    let (curve, dh_bits) = key_exchange(found.suite, body);
                    return Ok(Progress::Done(Reply::Hello {
                        hello: found,
                        curve,
                        dh_bits,
                    }));
                }
                (SERVER_HELLO_DONE, Some(found)) => {
                    return Ok(Progress::Done(Reply::Hello {
                        hello: found,
                        curve: None,
                        dh_bits: None,
                    }));
                }
                (_, Some(_)) => {} // Certificate, status and the like
            }
            consumed += 4 + length;
            messages = &messages[4 + length..];
        }
        handshake.drain(..consumed);

        if rest.len() < 5 {
            return Ok(Progress::NeedMore);
        }
        let kind = rest[0];
        let length = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if !matches!(kind, HANDSHAKE | ALERT | CHANGE_CIPHER_SPEC) {
            return Err(WireError::RecordType(kind));
        }
        if length > MAX_RECORD + 2048 {
            return Err(WireError::RecordTooLong(length));
        }
        if rest.len() < 5 + length {
            return Ok(Progress::NeedMore);
        }
        let payload = &rest[5..5 + length];
        rest = &rest[5 + length..];
        match kind {
            HANDSHAKE => handshake.extend_from_slice(payload),
            ALERT => {
                if payload.len() < 2 {
                    return Err(WireError::Malformed("alert"));
                }
                let (level, description) = (payload[0], payload[1]);
                // A warning unrecognized_name may precede a good ServerHello.
                if level == 1 && description == 112 {
                    continue;
                }
                // An alert after the ServerHello while looking for the curve:
                // the hello itself stands.
                if let Some(found) = hello {
                    return Ok(Progress::Done(Reply::Hello {
                        hello: found,
                        curve: None,
                        dh_bits: None,
                    }));
                }
                return Ok(Progress::Done(Reply::Alert { level, description }));
            }
            _ => {} // a middlebox-compatibility ChangeCipherSpec
        }
    }
}

/// What a ServerKeyExchange says of the key exchange: an ECDHE one's named
/// curve, or the bit length of a DHE one's prime (the DH group's size).
fn key_exchange(suite: u16, body: &[u8]) -> (Option<u16>, Option<u32>) {
    let ephemeral_dh = crate::suites::by_code(suite).is_some_and(|s| {
        matches!(s.kx, "DHE" | "DHE_EXPORT") || (s.kx == "DH" && s.auth == "None")
    });
    if ephemeral_dh {
        // ServerDHParams: dh_p<1..2^16-1>, then g and Ys.
        let prime = body.get(..2).and_then(|length| {
            let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
            body.get(2..2 + length)
        });
        let bits = prime.and_then(|p| {
            let first = p.iter().position(|&b| b != 0)?;
            let bytes = u32::try_from(p.len() - first).ok()?;
            Some(bytes * 8 - p[first].leading_zeros())
        });
        return (None, bits);
    }
    // ECParameters: curve_type 3 (named_curve), then the id.
    let curve = (body.len() >= 3 && body[0] == 3).then(|| u16::from_be_bytes([body[1], body[2]]));
    (curve, None)
}

/// The certificate chain of a TLS ≤ 1.2 flight (sent in the clear there),
/// leaf first: `None` until the Certificate message is complete, or when
/// the bytes are not such a flight.
#[must_use]
pub fn certificates(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 5 && rest[0] == HANDSHAKE {
        let length = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let payload = rest.get(5..5 + length)?;
        handshake.extend_from_slice(payload);
        rest = &rest[5 + length..];
    }
    let mut messages = handshake.as_slice();
    while messages.len() >= 4 {
        let length = u24(&messages[1..4]);
        let body = messages.get(4..4 + length)?;
        if messages[0] == 11 {
            let mut r = Reader {
                bytes: body,
                what: "Certificate",
            };
            let total = u24(r.take(3).ok()?);
            let mut list = Reader {
                bytes: r.take(total).ok()?,
                what: "Certificate",
            };
            let mut chain = Vec::new();
            while !list.bytes.is_empty() {
                let n = u24(list.take(3).ok()?);
                chain.push(list.take(n).ok()?.to_vec());
            }
            return Some(chain);
        }
        messages = &messages[4 + length..];
    }
    None
}

fn u24(bytes: &[u8]) -> usize {
    (usize::from(bytes[0]) << 16) | (usize::from(bytes[1]) << 8) | usize::from(bytes[2])
}

/// A cursor that reports a short read as the named structure's fault.
struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.bytes.len() < n {
            return Err(WireError::Malformed(self.what));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

fn parse_server_hello(body: &[u8]) -> Result<ServerHello, WireError> {
    let mut r = Reader {
        bytes: body,
        what: "ServerHello",
    };
    let mut version = r.u16()?;
    let random = r.take(32)?;
    let session = usize::from(r.u8()?);
    r.take(session)?;
    let suite = r.u16()?;
    r.u8()?; // compression
    let retry = random == HRR_RANDOM;
    let mut group = None;
    if !r.bytes.is_empty() {
        let length = usize::from(r.u16()?);
        let mut ext = Reader {
            bytes: r.take(length)?,
            what: "ServerHello extensions",
        };
        while !ext.bytes.is_empty() {
            let kind = ext.u16()?;
            let length = usize::from(ext.u16()?);
            let data = ext.take(length)?;
            match kind {
                43 if data.len() == 2 => version = u16::from_be_bytes([data[0], data[1]]),
                51 if data.len() >= 2 => group = Some(u16::from_be_bytes([data[0], data[1]])),
                43 | 51 => return Err(WireError::Malformed("ServerHello extension")),
                _ => {}
            }
        }
    }
    Ok(ServerHello {
        version,
        suite,
        retry,
        group,
    })
}

/// An alert's description as the RFC names it.
#[must_use]
pub fn alert_name(description: u8) -> AlertName {
    AlertName(description)
}

/// Displays an alert description (`handshake_failure (40)`).
#[derive(Debug, Clone, Copy)]
pub struct AlertName(u8);

impl fmt::Display for AlertName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "close_notify",
            10 => "unexpected_message",
            20 => "bad_record_mac",
            40 => "handshake_failure",
            42 => "bad_certificate",
            47 => "illegal_parameter",
            50 => "decode_error",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            86 => "inappropriate_fallback",
            109 => "missing_extension",
            112 => "unrecognized_name",
            _ => "alert",
        };
        write!(f, "{name} ({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn server_hello(version: u16, random: [u8; 32], suite: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&random);
        body.push(0);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        if !extensions.is_empty() {
            put_u16(&mut body, extensions.len());
            body.extend_from_slice(extensions);
        }
        let mut message = vec![SERVER_HELLO];
        put_u24(&mut message, body.len());
        message.extend_from_slice(&body);
        message
    }

    fn record(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![kind, 3, 3];
        put_u16(&mut out, payload.len());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn a_hello_offers_scsv_sni_and_pads_the_awkward_band() {
        let suites: Vec<u16> = (0xC000..0xC060).collect();
        let hello = Hello {
            version: Version::Tls12,
            suites: &suites,
            groups: &[29, 23],
            sni: Some("localhost"),
        };
        let bytes = hello.to_bytes([7; 32]);
        assert_eq!(&bytes[..3], &[22, 3, 1]);
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[3], bytes[4]])),
            bytes.len() - 5
        );
        assert!(bytes.len() >= PAD_TO, "{} bytes", bytes.len());
        assert!(bytes.windows(2).any(|w| w == [0x00, 0xFF]));
        assert!(bytes.windows(9).any(|w| w == b"localhost"));
        assert!(
            !bytes.windows(2).any(|w| w == [0x56, 0x00]),
            "no fallback SCSV"
        );
        let small = Hello {
            version: Version::Tls10,
            suites: &[0x002F],
            groups: &[],
            sni: None,
        }
        .to_bytes([0; 32]);
        assert!(small.len() < PAD_FROM);
        assert_eq!(&small[9..11], &[3, 1], "TLS 1.0 client version");
    }

    #[test]
    fn hello_retry_request_names_suite_and_group() {
        let ext = [0, 43, 0, 2, 3, 4, 0, 51, 0, 2, 0, 29];
        let bytes = record(HANDSHAKE, &server_hello(0x0303, HRR_RANDOM, 0x1302, &ext));
        let reply = parse_reply(&bytes, false).unwrap();
        assert_eq!(
            reply,
            Progress::Done(Reply::Hello {
                hello: ServerHello {
                    version: 0x0304,
                    suite: 0x1302,
                    retry: true,
                    group: Some(29)
                },
                curve: None,
                dh_bits: None
            })
        );
    }

    #[test]
    fn a_warning_unrecognized_name_is_not_a_refusal_but_a_fatal_alert_is() {
        let mut bytes = record(ALERT, &[1, 112]);
        bytes.extend(record(
            HANDSHAKE,
            &server_hello(0x0301, [1; 32], 0x002F, &[]),
        ));
        assert!(matches!(
            parse_reply(&bytes, false).unwrap(),
            Progress::Done(Reply::Hello { .. })
        ));
        assert_eq!(
            parse_reply(&record(ALERT, &[2, 40]), false).unwrap(),
            Progress::Done(Reply::Alert {
                level: 2,
                description: 40
            })
        );
    }

    #[test]
    fn a_dhe_server_key_exchange_gives_its_primes_size() {
        for (prime, bits) in [
            (vec![0x80; 256], 2048),
            (vec![0x7F; 128], 1023),
            ([vec![0], vec![0xFF; 64]].concat(), 512),
            (vec![0], 0),
        ] {
            let mut ske = u16::try_from(prime.len()).unwrap().to_be_bytes().to_vec();
            ske.extend(&prime);
            ske.extend([0, 1, 2, 0, 1, 5]);
            // DHE-RSA-AES128-GCM-SHA256
            assert_eq!(
                key_exchange(0x009E, &ske),
                (None, Some(bits).filter(|&b| b > 0))
            );
        }
        // Cut short: no size rather than a wrong one.
        assert_eq!(key_exchange(0x009E, &[1, 0, 0xFF]), (None, None));
        // The same bytes under an ECDHE suite are a curve.
        assert_eq!(key_exchange(0xC02F, &[3, 0, 23]), (Some(23), None));
    }

    #[test]
    fn the_curve_comes_from_the_server_key_exchange_across_records() {
        let mut flight = server_hello(0x0303, [1; 32], 0xC02F, &[]);
        flight.extend([11, 0, 0, 3, 0, 0, 0]);
        flight.extend([SERVER_KEY_EXCHANGE, 0, 0, 4, 3, 0, 23, 0]);
        let (a, b) = flight.split_at(10);
        let mut bytes = record(HANDSHAKE, a);
        bytes.extend(record(HANDSHAKE, b));
        for cut in 0..bytes.len() {
            assert_eq!(
                parse_reply(&bytes[..cut], true),
                Ok(Progress::NeedMore),
                "{cut}"
            );
        }
        match parse_reply(&bytes, true).unwrap() {
            Progress::Done(Reply::Hello {
                curve,
                hello,
                dh_bits,
            }) => {
                assert_eq!((curve, dh_bits), (Some(23), None));
                assert_eq!(hello.suite, 0xC02F);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_plaintext_chain_is_read_once_complete() {
        let mut flight = server_hello(0x0301, [1; 32], 0x002F, &[]);
        flight.extend([
            11, 0, 0, 13, 0, 0, 10, 0, 0, 2, 0xAA, 0xBB, 0, 0, 2, 0xCC, 0xDD,
        ]);
        let bytes = record(HANDSHAKE, &flight);
        assert_eq!(certificates(&bytes[..bytes.len() - 1]), None);
        assert_eq!(
            certificates(&bytes),
            Some(vec![vec![0xAA, 0xBB], vec![0xCC, 0xDD]])
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_hang() {
        assert_eq!(
            parse_reply(b"HTTP/1.1 400 Bad Request\r\n", false),
            Err(WireError::RecordType(b'H'))
        );
        let short = record(HANDSHAKE, &[SERVER_HELLO, 0, 0, 3, 3, 3, 0]);
        assert_eq!(
            parse_reply(&short, false),
            Err(WireError::Malformed("ServerHello"))
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600), curve: bool) {
            let _ = parse_reply(&bytes, curve);
        }

        #[test]
        fn any_server_hello_round_trips(version in 0x0300u16..0x0305, suite: u16, session in 0u8..=32, retry: bool) {
            let random = if retry { HRR_RANDOM } else { [9; 32] };
            let mut body = version.to_be_bytes().to_vec();
            body.extend_from_slice(&random);
            body.push(session);
            body.extend(std::iter::repeat_n(0, usize::from(session)));
            body.extend_from_slice(&suite.to_be_bytes());
            body.push(0);
            let mut message = vec![SERVER_HELLO];
            put_u24(&mut message, body.len());
            message.extend_from_slice(&body);
            let bytes = record(HANDSHAKE, &message);
            let parsed = parse_reply(&bytes, false).unwrap();
            prop_assert_eq!(parsed, Progress::Done(Reply::Hello {
                hello: ServerHello { version, suite, retry, group: None },
                curve: None,
                        dh_bits: None,
            }));
        }

        #[test]
        fn any_bytes_give_a_chain_or_none_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = certificates(&bytes);
        }

        #[test]
        fn hellos_stay_in_bounds(n in 1usize..=128, sni in proptest::option::of("[a-z]{1,40}")) {
            let suites: Vec<u16> = (0..u16::try_from(n).unwrap()).collect();
            for version in [Version::Ssl3, Version::Tls12, Version::Tls13] {
                let bytes = Hello { version, suites: &suites, groups: &[29, 23, 24], sni: sni.as_deref() }.to_bytes([1; 32]);
                prop_assert!(!(PAD_FROM..PAD_TO).contains(&bytes.len()), "{} bytes", bytes.len());
                prop_assert_eq!(usize::from(u16::from_be_bytes([bytes[3], bytes[4]])), bytes.len() - 5);
            }
        }
    }
}
