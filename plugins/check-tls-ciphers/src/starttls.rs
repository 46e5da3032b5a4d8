//! STARTTLS: the plaintext a protocol speaks before its TLS handshake
//! (`--starttls`), run on every connection before the hand-built hello or
//! the rustls handshake.
//!
//! Every read is bounded: a reply may hold at most [`MAX_REPLY`] bytes and a
//! line [`MAX_LINE`], so a server that streams without end is an error, not
//! a growing buffer. The parsers take the bytes read so far and say "need
//! more", "here is the reply and how many bytes it took", or why the bytes
//! are not the protocol; they are pure, for the unit, property and fuzz
//! tests.

use std::fmt;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The most bytes one reply may take (Postfix's EHLO reply is ~200 bytes;
/// a capability list or an LDAP referral list stays well under this).
pub const MAX_REPLY: usize = 16 * 1024;
/// The longest line (SMTP allows 512 bytes, RFC 5321 4.5.3.1.5; IMAP
/// capability lines run longer).
pub const MAX_LINE: usize = 4096;
/// How much of a server's reply an error quotes.
const QUOTE_CHARS: usize = 200;
/// The IMAP tag of the one command sent.
const IMAP_TAG: &str = "a001";
/// PostgreSQL's SSLRequest: length 8, then the code 1234/5679.
pub const PG_SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// LDAP's StartTLS extended operation (RFC 4511 4.14.1).
pub const LDAP_STARTTLS_OID: &str = "1.3.6.1.4.1.1466.20037";
/// The message ID of the one LDAP request sent.
const LDAP_MESSAGE_ID: u32 = 1;

/// A protocol whose plaintext session is upgraded to TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// SMTP: EHLO, STARTTLS (RFC 3207); port 25
    Smtp,
    /// IMAP: STARTTLS (RFC 3501); port 143
    Imap,
    /// POP3: STLS (RFC 2595); port 110
    Pop3,
    /// FTP: AUTH TLS (RFC 4217); port 21
    Ftp,
    /// PostgreSQL: SSLRequest; port 5432
    Postgres,
    /// LDAP: the StartTLS extended operation (RFC 4511); port 389
    Ldap,
}

impl Protocol {
    pub const ALL: [Protocol; 6] = [
        Protocol::Smtp,
        Protocol::Imap,
        Protocol::Pop3,
        Protocol::Ftp,
        Protocol::Postgres,
        Protocol::Ldap,
    ];

    /// The name people write (`PostgreSQL`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Smtp => "SMTP",
            Protocol::Imap => "IMAP",
            Protocol::Pop3 => "POP3",
            Protocol::Ftp => "FTP",
            Protocol::Postgres => "PostgreSQL",
            Protocol::Ldap => "LDAP",
        }
    }

    /// The port `-p` defaults to: the plaintext port the upgrade happens on
    /// (SMTP's 25, where servers relay, not the 587 of submission).
    #[must_use]
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Smtp => 25,
            Protocol::Imap => 143,
            Protocol::Pop3 => 110,
            Protocol::Ftp => 21,
            Protocol::Postgres => 5432,
            Protocol::Ldap => 389,
        }
    }

    /// [`Protocol::default_port`] as clap's `default_value_ifs` takes it.
    #[must_use]
    pub fn default_port_text(self) -> &'static str {
        match self {
            Protocol::Smtp => "25",
            Protocol::Imap => "143",
            Protocol::Pop3 => "110",
            Protocol::Ftp => "21",
            Protocol::Postgres => "5432",
            Protocol::Ldap => "389",
        }
    }

    /// The value `--starttls` takes (`postgres`).
    #[must_use]
    pub fn arg(self) -> &'static str {
        match self {
            Protocol::Smtp => "smtp",
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Ftp => "ftp",
            Protocol::Postgres => "postgres",
            Protocol::Ldap => "ldap",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the plaintext preamble did not end in a TLS handshake. A reply is
/// quoted as the server sent it, made printable and cut short.
#[derive(Debug, thiserror::Error)]
pub enum StarttlsError {
    #[error("the server refused the session: {reply}")]
    Greeting { reply: String },
    #[error("the server refused {command}: {reply}")]
    Refused {
        command: &'static str,
        reply: String,
    },
    #[error("the server does not offer STARTTLS; its EHLO reply: {reply}")]
    NotOffered { reply: String },
    #[error("no {what} within {}", nightwatch_core::display::duration(*.waited))]
    Timeout {
        what: &'static str,
        waited: Duration,
    },
    #[error("the server closed the connection before its {what}{}", received(.reply))]
    Closed { what: &'static str, reply: String },
    #[error("the {what} is not {protocol}: {reason}: {reply}")]
    Malformed {
        what: &'static str,
        protocol: Protocol,
        reason: ReplyError,
        reply: String,
    },
    #[error("the server sent more than {MAX_REPLY} bytes as its {what}")]
    TooLong { what: &'static str },
    #[error("the connection failed while waiting for the {what}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl StarttlsError {
    /// The server answered, and its answer was no (or not the protocol):
    /// a finding about the server, not a failure to reach it.
    #[must_use]
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StarttlsError::Greeting { .. }
                | StarttlsError::Refused { .. }
                | StarttlsError::NotOffered { .. }
                | StarttlsError::Malformed { .. }
                | StarttlsError::TooLong { .. }
        )
    }
}

fn received(reply: &str) -> String {
    if reply == "\"\"" {
        String::new()
    } else {
        format!(" was complete (received {reply})")
    }
}

/// Why bytes are not a reply of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("a line is longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("a reply line does not start with a three-digit code")]
    NoCode,
    #[error("expected {expected}")]
    Unexpected { expected: &'static str },
    #[error("BER: {0}")]
    Ber(&'static str),
    #[error("the server sent bytes after its answer, before the TLS handshake")]
    Trailing,
}

/// What a parser made of the bytes so far.
pub type Parsed<T> = Result<Option<(T, usize)>, ReplyError>;

/// An SMTP or FTP reply: its code and its lines (without line ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl CodedReply {
    /// Whether an EHLO reply lists the STARTTLS extension.
    #[must_use]
    pub fn offers_starttls(&self) -> bool {
        self.lines.iter().skip(1).any(|line| {
            line.get(4..)
                .and_then(|text| text.split_ascii_whitespace().next())
                .is_some_and(|word| word.eq_ignore_ascii_case("STARTTLS"))
        })
    }
}

/// One line ending in LF (a CR before it is dropped): the line and the
/// bytes it took, `None` until the LF arrives.
pub fn parse_line(bytes: &[u8]) -> Parsed<String> {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(end) if end > MAX_LINE => Err(ReplyError::LineTooLong),
        Some(end) => {
            let line = bytes[..end].strip_suffix(b"\r").unwrap_or(&bytes[..end]);
            Ok(Some((String::from_utf8_lossy(line).into_owned(), end + 1)))
        }
        None if bytes.len() > MAX_LINE => Err(ReplyError::LineTooLong),
        None => Ok(None),
    }
}

/// An SMTP (RFC 5321 4.2) or FTP (RFC 959 4.2) reply, one line
/// (`220 ready`) or several (`250-first` … `250 last`). FTP's lines between
/// the first and the last need not carry the code; the last is the one
/// that starts with the first's code and a space.
pub fn parse_coded_reply(bytes: &[u8]) -> Parsed<CodedReply> {
    let mut lines = Vec::new();
    let mut used = 0;
    let mut code = None;
    loop {
        let Some((line, taken)) = parse_line(&bytes[used..])? else {
            return Ok(None);
        };
        used += taken;
        let head = line.as_bytes();
        let last = match code {
            None => {
                if head.len() < 3 || !head[..3].iter().all(u8::is_ascii_digit) {
                    return Err(ReplyError::NoCode);
                }
                let found = u16::from(head[0] - b'0') * 100
                    + u16::from(head[1] - b'0') * 10
                    + u16::from(head[2] - b'0');
                code = Some(found);
                match head.get(3) {
                    None | Some(b' ') => true,
                    Some(b'-') => false,
                    Some(_) => return Err(ReplyError::NoCode),
                }
            }
            Some(code) => {
                let prefix = format!("{code:03}");
                line.starts_with(&prefix) && matches!(head.get(3), None | Some(b' '))
            }
        };
        lines.push(line);
        if last {
            let code = code.unwrap_or_default();
            return Ok(Some((CodedReply { code, lines }, used)));
        }
    }
}

/// A POP3 status line: `+OK …` is `true`, `-ERR …` is `false`.
pub fn parse_pop3_status(bytes: &[u8]) -> Parsed<(bool, String)> {
    let Some((line, used)) = parse_line(bytes)? else {
        return Ok(None);
    };
    let ok = if starts_with_word(&line, "+OK") {
        true
    } else if starts_with_word(&line, "-ERR") {
        false
    } else {
        return Err(ReplyError::Unexpected {
            expected: "+OK or -ERR",
        });
    };
    Ok(Some(((ok, line), used)))
}

/// How an IMAP server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapLine {
    /// `* OK` / `* PREAUTH` greeting.
    Ready,
    /// `* BYE`: the server will not talk.
    Bye,
    /// Another untagged line, read past while waiting for the tag.
    Untagged,
    /// `a001 OK`.
    TaggedOk,
    /// `a001 NO` or `a001 BAD`.
    TaggedRefused,
}

/// One IMAP response line (RFC 3501 7), judged.
pub fn parse_imap_line(bytes: &[u8]) -> Parsed<(ImapLine, String)> {
    let Some((line, used)) = parse_line(bytes)? else {
        return Ok(None);
    };
    let kind = if let Some(rest) = line.strip_prefix("* ") {
        if starts_with_word(rest, "OK") || starts_with_word(rest, "PREAUTH") {
            ImapLine::Ready
        } else if starts_with_word(rest, "BYE") {
            ImapLine::Bye
        } else {
            ImapLine::Untagged
        }
    } else if let Some(rest) = line
        .strip_prefix(IMAP_TAG)
        .and_then(|r| r.strip_prefix(' '))
    {
        if starts_with_word(rest, "OK") {
            ImapLine::TaggedOk
        } else if starts_with_word(rest, "NO") || starts_with_word(rest, "BAD") {
            ImapLine::TaggedRefused
        } else {
            return Err(ReplyError::Unexpected {
                expected: "OK, NO or BAD after the tag",
            });
        }
    } else {
        return Err(ReplyError::Unexpected {
            expected: "an untagged (*) or tagged (a001) response",
        });
    };
    Ok(Some(((kind, line), used)))
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.get(..word.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(word))
        && matches!(text.as_bytes().get(word.len()), None | Some(b' '))
}

/// PostgreSQL's answer to SSLRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgAnswer {
    /// `S`: go ahead with TLS.
    Ssl,
    /// `N`: the server does not do SSL.
    NoSsl,
    /// An ErrorResponse (`E`), as servers before protocol 3 answer: its
    /// severity and message.
    Error(String),
}

/// PostgreSQL's one-byte answer to SSLRequest, or the ErrorResponse a
/// server sends instead (protocol 3, section 55.2.10).
pub fn parse_pg_answer(bytes: &[u8]) -> Parsed<PgAnswer> {
    match bytes.first() {
        None => Ok(None),
        Some(b'S') => Ok(Some((PgAnswer::Ssl, 1))),
        Some(b'N') => Ok(Some((PgAnswer::NoSsl, 1))),
        Some(b'E') => {
            let Some(length) = bytes.get(1..5) else {
                return Ok(None);
            };
            let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]);
            let length = usize::try_from(length).unwrap_or(usize::MAX);
            if !(4..=MAX_REPLY).contains(&length) {
                return Err(ReplyError::Unexpected {
                    expected: "an ErrorResponse of 4 to 16384 bytes",
                });
            }
            let Some(body) = bytes.get(5..1 + length) else {
                return Ok(None);
            };
            let fields: Vec<String> = body
                .split(|&b| b == 0)
                .filter(|field| field.len() > 1)
                .filter(|field| matches!(field[0], b'S' | b'C' | b'M'))
                .map(|field| String::from_utf8_lossy(&field[1..]).into_owned())
                .collect();
            Ok(Some((PgAnswer::Error(fields.join(" ")), 1 + length)))
        }
        Some(_) => Err(ReplyError::Unexpected {
            expected: "S, N or an ErrorResponse",
        }),
    }
}

/// The LDAP StartTLS request: an ExtendedRequest (RFC 4511 4.12) naming
/// [`LDAP_STARTTLS_OID`], message ID 1, in BER.
#[must_use]
pub fn ldap_starttls_request() -> Vec<u8> {
    let oid = LDAP_STARTTLS_OID.as_bytes();
    // requestName [0] LDAPOID, inside [APPLICATION 23], inside the
    // LDAPMessage SEQUENCE with messageID INTEGER 1: all short lengths.
    let mut name = vec![0x80, len_u8(oid.len())];
    name.extend_from_slice(oid);
    let mut op = vec![0x77, len_u8(name.len())];
    op.extend_from_slice(&name);
    let mut body = vec![0x02, 0x01, len_u8(LDAP_MESSAGE_ID as usize)];
    body.extend_from_slice(&op);
    let mut message = vec![0x30, len_u8(body.len())];
    message.extend_from_slice(&body);
    message
}

fn len_u8(len: usize) -> u8 {
    u8::try_from(len).unwrap_or(u8::MAX)
}

/// An LDAP ExtendedResponse's LDAPResult.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapResult {
    /// 1 for the answer to our request; 0 for an unsolicited notification
    /// (a notice of disconnection, RFC 4511 4.4.1).
    pub message_id: u32,
    pub code: u32,
    pub diagnostic: String,
}

impl LdapResult {
    /// `unavailable (52) "TLS not configured"`.
    #[must_use]
    pub fn describe(&self) -> String {
        let name = ldap_result_name(self.code).map_or_else(
            || format!("result code {}", self.code),
            |name| format!("{name} ({})", self.code),
        );
        if self.diagnostic.is_empty() {
            name
        } else {
            format!("{name} {}", quote(self.diagnostic.as_bytes()))
        }
    }
}

/// The names of the result codes a StartTLS answer may carry (RFC 4511
/// appendix A).
fn ldap_result_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => return None,
    })
}

/// One BER element's tag, the start of its content and its end.
fn ber_element(bytes: &[u8], at: usize) -> Result<Option<(u8, usize, usize)>, ReplyError> {
    let Some(&tag) = bytes.get(at) else {
        return Ok(None);
    };
    let Some(&first) = bytes.get(at + 1) else {
        return Ok(None);
    };
    let (length, start) = if first < 0x80 {
        (usize::from(first), at + 2)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 {
            return Err(ReplyError::Ber("indefinite length (not allowed in LDAP)"));
        }
        if count > 3 {
            return Err(ReplyError::Ber("a length of more than three bytes"));
        }
        let Some(digits) = bytes.get(at + 2..at + 2 + count) else {
            return Ok(None);
        };
        let length = digits
            .iter()
            .fold(0usize, |acc, &d| (acc << 8) | usize::from(d));
        (length, at + 2 + count)
    };
    if length > MAX_REPLY {
        return Err(ReplyError::Ber("an element longer than 16384 bytes"));
    }
    Ok(Some((tag, start, start + length)))
}

/// A BER element that must lie within `end` and carry `tag`.
fn ber_inner(
    bytes: &[u8],
    at: usize,
    end: usize,
    tag: u8,
    what: &'static str,
) -> Result<(usize, usize), ReplyError> {
    match ber_element(&bytes[..end], at)? {
        Some((found, start, stop)) if found == tag && stop <= end => Ok((start, stop)),
        Some((found, _, stop)) if found == tag && stop > end => {
            Err(ReplyError::Ber("an element overruns its parent"))
        }
        Some(_) => Err(ReplyError::Ber(what)),
        None => Err(ReplyError::Ber("an element overruns its parent")),
    }
}

fn ber_uint(bytes: &[u8]) -> Result<u32, ReplyError> {
    if bytes.is_empty() || bytes.len() > 4 {
        return Err(ReplyError::Ber("an integer of 1 to 4 bytes"));
    }
    Ok(bytes.iter().fold(0u32, |acc, &d| (acc << 8) | u32::from(d)))
}

/// An LDAPMessage holding an ExtendedResponse (RFC 4511 4.12): its message
/// ID and LDAPResult; whatever follows the diagnostic message (referral,
/// responseName, responseValue) is not needed.
pub fn parse_ldap_response(bytes: &[u8]) -> Parsed<LdapResult> {
    let Some((tag, start, end)) = ber_element(bytes, 0)? else {
        return Ok(None);
    };
    if tag != 0x30 {
        return Err(ReplyError::Ber("an LDAPMessage is a SEQUENCE (0x30)"));
    }
    if bytes.len() < end {
        return Ok(None);
    }
    let (id_start, id_end) = ber_inner(
        bytes,
        start,
        end,
        0x02,
        "the messageID is an INTEGER (0x02)",
    )?;
    let message_id = ber_uint(&bytes[id_start..id_end])?;
    let (op_start, op_end) = ber_inner(
        bytes,
        id_end,
        end,
        0x78,
        "the protocolOp is an ExtendedResponse ([APPLICATION 24], 0x78)",
    )?;
    let (code_start, code_end) = ber_inner(
        bytes,
        op_start,
        op_end,
        0x0a,
        "the resultCode is an ENUMERATED (0x0a)",
    )?;
    let code = ber_uint(&bytes[code_start..code_end])?;
    let (_, dn_end) = ber_inner(
        bytes,
        code_end,
        op_end,
        0x04,
        "the matchedDN is an OCTET STRING (0x04)",
    )?;
    let (text_start, text_end) = ber_inner(
        bytes,
        dn_end,
        op_end,
        0x04,
        "the diagnosticMessage is an OCTET STRING (0x04)",
    )?;
    let diagnostic = String::from_utf8_lossy(&bytes[text_start..text_end]).into_owned();
    Ok(Some((
        LdapResult {
            message_id,
            code,
            diagnostic,
        },
        end,
    )))
}

/// A server reply made fit for one line of plugin output, in double
/// quotes: lines joined with ` / `, control characters and `|` escaped,
/// cut to about 200 characters.
#[must_use]
pub fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::from("\"");
    let mut count = 0;
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    let lines = match lines.split_last() {
        Some((&"", rest)) => rest,
        _ => &lines[..],
    };
    'lines: for (index, line) in lines.iter().enumerate() {
        if index > 0 {
            if count >= QUOTE_CHARS {
                out.push('…');
                break;
            }
            out.push_str(" / ");
            count += 1;
        }
        for c in line.chars() {
            if count >= QUOTE_CHARS {
                out.push('…');
                break 'lines;
            }
            match c {
                '|' => out.push('¦'),
                '"' => out.push_str("\\\""),
                c if c.is_control() => out.extend(c.escape_default()),
                c => out.push(c),
            }
            count += 1;
        }
    }
    out.push('"');
    out
}

/// The session with the server up to the handshake. Each exchange (the
/// greeting, or a command and all its reply lines, untagged IMAP lines
/// included) gets `timeout` and [`MAX_REPLY`] bytes in all, so a server
/// trickling or streaming lines cannot hold the check.
struct Session<'a> {
    stream: &'a mut TcpStream,
    protocol: Protocol,
    buffer: Vec<u8>,
    timeout: Duration,
    /// When the current exchange's answer must be complete.
    deadline: Instant,
    /// Bytes of the current exchange's answer already consumed.
    taken: usize,
}

impl Session<'_> {
    fn send(&mut self, bytes: &[u8], what: &'static str) -> Result<(), StarttlsError> {
        self.deadline = Instant::now() + self.timeout;
        self.taken = 0;
        let _ = self.stream.set_write_timeout(Some(self.timeout));
        self.stream
            .write_all(bytes)
            .map_err(|source| StarttlsError::Io { what, source })
    }

    /// Reads until `parse` has a reply; the bytes it took are consumed.
    fn read<T>(
        &mut self,
        what: &'static str,
        parse: impl Fn(&[u8]) -> Parsed<T>,
    ) -> Result<T, StarttlsError> {
        let mut chunk = [0u8; 2048];
        loop {
            match parse(&self.buffer) {
                Ok(Some((value, used))) => {
                    self.buffer.drain(..used);
                    self.taken += used;
                    return Ok(value);
                }
                Ok(None) => {}
                Err(reason) => {
                    return Err(StarttlsError::Malformed {
                        what,
                        protocol: self.protocol,
                        reason,
                        reply: quote(&self.buffer),
                    });
                }
            }
            let room = MAX_REPLY
                .saturating_sub(self.taken + self.buffer.len())
                .min(chunk.len());
            if room == 0 {
                return Err(StarttlsError::TooLong { what });
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            let timeout = StarttlsError::Timeout {
                what,
                waited: self.timeout,
            };
            if left.is_zero() || self.stream.set_read_timeout(Some(left)).is_err() {
                return Err(timeout);
            }
            match self.stream.read(&mut chunk[..room]) {
                Ok(0) => {
                    return Err(StarttlsError::Closed {
                        what,
                        reply: quote(&self.buffer),
                    });
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(timeout);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => return Err(StarttlsError::Io { what, source }),
            }
        }
    }

    /// After the go-ahead the next bytes are the server's TLS; any plaintext
    /// still buffered would be a reply injected before the handshake.
    fn ready(&self, what: &'static str) -> Result<(), StarttlsError> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(StarttlsError::Malformed {
                what,
                protocol: self.protocol,
                reason: ReplyError::Trailing,
                reply: quote(&self.buffer),
            })
        }
    }

    /// Best effort: a polite goodbye after a refusal.
    fn quit(&mut self, command: &[u8]) {
        let _ = self.stream.write_all(command);
    }
}

/// Speaks `protocol`'s preamble on `stream` until the server is ready for
/// the TLS handshake; each reply must come within `timeout`.
pub fn negotiate(
    stream: &mut TcpStream,
    protocol: Protocol,
    timeout: Duration,
) -> Result<(), StarttlsError> {
    let local = stream.local_addr().ok();
    let mut session = Session {
        stream,
        protocol,
        buffer: Vec::new(),
        timeout,
        deadline: Instant::now() + timeout,
        taken: 0,
    };
    match protocol {
        Protocol::Smtp => smtp(&mut session, local),
        Protocol::Ftp => ftp(&mut session),
        Protocol::Imap => imap(&mut session),
        Protocol::Pop3 => pop3(&mut session),
        Protocol::Postgres => postgres(&mut session),
        Protocol::Ldap => ldap(&mut session),
    }
}

/// The EHLO argument: the client's own address as an address literal
/// (RFC 5321 4.1.3), since a prober has no host name of its own to claim.
fn ehlo_name(local: Option<SocketAddr>) -> String {
    match local {
        Some(SocketAddr::V4(addr)) => format!("[{}]", addr.ip()),
        Some(SocketAddr::V6(addr)) => format!("[IPv6:{}]", addr.ip()),
        None => "[127.0.0.1]".to_owned(),
    }
}

fn joined(reply: &CodedReply) -> String {
    quote(reply.lines.join("\n").as_bytes())
}

fn smtp(session: &mut Session<'_>, local: Option<SocketAddr>) -> Result<(), StarttlsError> {
    let greeting = session.read("greeting", parse_coded_reply)?;
    if greeting.code != 220 {
        return Err(StarttlsError::Greeting {
            reply: joined(&greeting),
        });
    }
    session.send(
        format!("EHLO {}\r\n", ehlo_name(local)).as_bytes(),
        "EHLO reply",
    )?;
    let ehlo = session.read("EHLO reply", parse_coded_reply)?;
    if ehlo.code != 250 {
        session.quit(b"QUIT\r\n");
        return Err(StarttlsError::Refused {
            command: "EHLO",
            reply: joined(&ehlo),
        });
    }
    if !ehlo.offers_starttls() {
        session.quit(b"QUIT\r\n");
        return Err(StarttlsError::NotOffered {
            reply: joined(&ehlo),
        });
    }
    session.send(b"STARTTLS\r\n", "STARTTLS reply")?;
    let answer = session.read("STARTTLS reply", parse_coded_reply)?;
    if answer.code != 220 {
        session.quit(b"QUIT\r\n");
        return Err(StarttlsError::Refused {
            command: "STARTTLS",
            reply: joined(&answer),
        });
    }
    session.ready("STARTTLS reply")
}

fn ftp(session: &mut Session<'_>) -> Result<(), StarttlsError> {
    let mut greeting = session.read("greeting", parse_coded_reply)?;
    // 120: "ready in nnn minutes", then the real greeting follows.
    if greeting.code == 120 {
        greeting = session.read("greeting", parse_coded_reply)?;
    }
    if greeting.code != 220 {
        return Err(StarttlsError::Greeting {
            reply: joined(&greeting),
        });
    }
    session.send(b"AUTH TLS\r\n", "AUTH TLS reply")?;
    let answer = session.read("AUTH TLS reply", parse_coded_reply)?;
    if answer.code != 234 {
        session.quit(b"QUIT\r\n");
        return Err(StarttlsError::Refused {
            command: "AUTH TLS",
            reply: joined(&answer),
        });
    }
    session.ready("AUTH TLS reply")
}

fn imap(session: &mut Session<'_>) -> Result<(), StarttlsError> {
    let (kind, line) = session.read("greeting", parse_imap_line)?;
    if kind != ImapLine::Ready {
        return Err(StarttlsError::Greeting {
            reply: quote(line.as_bytes()),
        });
    }
    session.send(
        format!("{IMAP_TAG} STARTTLS\r\n").as_bytes(),
        "STARTTLS reply",
    )?;
    loop {
        let (kind, line) = session.read("STARTTLS reply", parse_imap_line)?;
        match kind {
            ImapLine::TaggedOk => return session.ready("STARTTLS reply"),
            ImapLine::TaggedRefused | ImapLine::Bye => {
                session.quit(b"a002 LOGOUT\r\n");
                return Err(StarttlsError::Refused {
                    command: "STARTTLS",
                    reply: quote(line.as_bytes()),
                });
            }
            // Untagged data (a CAPABILITY line) may come first.
            ImapLine::Ready | ImapLine::Untagged => {}
        }
    }
}

fn pop3(session: &mut Session<'_>) -> Result<(), StarttlsError> {
    let (ok, line) = session.read("greeting", parse_pop3_status)?;
    if !ok {
        return Err(StarttlsError::Greeting {
            reply: quote(line.as_bytes()),
        });
    }
    session.send(b"STLS\r\n", "STLS reply")?;
    let (ok, line) = session.read("STLS reply", parse_pop3_status)?;
    if !ok {
        session.quit(b"QUIT\r\n");
        return Err(StarttlsError::Refused {
            command: "STLS",
            reply: quote(line.as_bytes()),
        });
    }
    session.ready("STLS reply")
}

fn postgres(session: &mut Session<'_>) -> Result<(), StarttlsError> {
    session.send(&PG_SSL_REQUEST, "SSLRequest answer")?;
    match session.read("SSLRequest answer", parse_pg_answer)? {
        PgAnswer::Ssl => session.ready("SSLRequest answer"),
        PgAnswer::NoSsl => Err(StarttlsError::Refused {
            command: "SSLRequest",
            reply: "\"N\" (the server has ssl = off)".to_owned(),
        }),
        PgAnswer::Error(text) => Err(StarttlsError::Refused {
            command: "SSLRequest",
            reply: quote(text.as_bytes()),
        }),
    }
}

fn ldap(session: &mut Session<'_>) -> Result<(), StarttlsError> {
    session.send(&ldap_starttls_request(), "StartTLS response")?;
    let result = session.read("StartTLS response", parse_ldap_response)?;
    if result.message_id != LDAP_MESSAGE_ID || result.code != 0 {
        return Err(StarttlsError::Refused {
            command: "StartTLS",
            reply: result.describe(),
        });
    }
    session.ready("StartTLS response")
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;
    use proptest::prelude::*;

    fn coded(text: &str) -> Parsed<CodedReply> {
        parse_coded_reply(text.as_bytes())
    }

    #[test]
    fn smtp_replies_of_one_and_many_lines() {
        let (reply, used) = coded("220 mail.example ESMTP\r\nEXTRA").unwrap().unwrap();
        assert_eq!((reply.code, used), (220, 24));
        assert_eq!(reply.lines, ["220 mail.example ESMTP"]);
        let ehlo = "250-mail.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 CHUNKING\r\n";
        let (reply, used) = coded(ehlo).unwrap().unwrap();
        assert_eq!((reply.code, reply.lines.len(), used), (250, 4, ehlo.len()));
        assert!(reply.offers_starttls());
        // Not until the last line has come.
        assert_eq!(coded("250-mail.example\r\n250-PIPELINING\r\n"), Ok(None));
        assert_eq!(coded("250 mail"), Ok(None));
        // A bare code is a whole reply; LF alone ends a line too.
        assert_eq!(coded("220\n").unwrap().unwrap().0.code, 220);
    }

    #[test]
    fn starttls_is_offered_only_as_an_ehlo_keyword() {
        let offers = |text: &str| coded(text).unwrap().unwrap().0.offers_starttls();
        assert!(offers("250-mx\r\n250 starttls\r\n"));
        assert!(!offers("250-mx\r\n250-STARTTLSX\r\n250 SIZE\r\n"));
        // The greeting line (the server's name) is not a keyword.
        assert!(!offers("250 STARTTLS\r\n"));
        assert!(!offers("250-mx\r\n250 AUTH STARTTLS\r\n"));
    }

    #[test]
    fn ftp_multi_line_replies_may_have_uncoded_lines() {
        let text = "220-Welcome\r\n  no code here\r\n220-still\r\n220 ready\r\n";
        let (reply, used) = coded(text).unwrap().unwrap();
        assert_eq!((reply.code, reply.lines.len(), used), (220, 4, text.len()));
        // Another code followed by a space does not end it.
        let text = "220-Welcome\r\n230 not the end\r\n220 end\r\n";
        assert_eq!(coded(text).unwrap().unwrap().0.lines.len(), 3);
    }

    #[test]
    fn coded_replies_reject_what_is_not_one() {
        assert_eq!(coded("HTTP/1.1 400\r\n"), Err(ReplyError::NoCode));
        assert_eq!(coded("22 x\r\n"), Err(ReplyError::NoCode));
        assert_eq!(coded("220x\r\n"), Err(ReplyError::NoCode));
        let long = "2".repeat(MAX_LINE + 1);
        assert_eq!(coded(&long), Err(ReplyError::LineTooLong));
        assert_eq!(coded(&format!("{long}\n")), Err(ReplyError::LineTooLong));
    }

    #[test]
    fn pop3_and_imap_status_lines() {
        let (answer, used) = parse_pop3_status(b"+OK Begin TLS\r\n").unwrap().unwrap();
        assert_eq!((answer.0, used), (true, 15));
        assert!(!parse_pop3_status(b"-ERR no\r\n").unwrap().unwrap().0.0);
        assert!(parse_pop3_status(b"+OKAY\r\n").is_err());
        assert_eq!(parse_pop3_status(b"+OK"), Ok(None));

        let kind = |text: &str| parse_imap_line(text.as_bytes()).map(|p| p.map(|((k, _), _)| k));
        assert_eq!(
            kind("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
            Ok(Some(ImapLine::Ready))
        );
        assert_eq!(kind("* PREAUTH hi\r\n"), Ok(Some(ImapLine::Ready)));
        assert_eq!(kind("* BYE busy\r\n"), Ok(Some(ImapLine::Bye)));
        assert_eq!(
            kind("* CAPABILITY IMAP4rev1\r\n"),
            Ok(Some(ImapLine::Untagged))
        );
        assert_eq!(
            kind("a001 OK Begin TLS negotiation now.\r\n"),
            Ok(Some(ImapLine::TaggedOk))
        );
        assert_eq!(
            kind("a001 BAD TLS support isn't enabled.\r\n"),
            Ok(Some(ImapLine::TaggedRefused))
        );
        assert!(kind("a002 OK\r\n").is_err());
        assert!(kind("a001 MAYBE\r\n").is_err());
    }

    #[test]
    fn postgres_answers() {
        assert_eq!(parse_pg_answer(b""), Ok(None));
        assert_eq!(parse_pg_answer(b"S"), Ok(Some((PgAnswer::Ssl, 1))));
        assert_eq!(parse_pg_answer(b"Nxyz"), Ok(Some((PgAnswer::NoSsl, 1))));
        let mut error = b"E\0\0\0\x1bSFATAL\0C08P01\0Mno SSL\0\0".to_vec();
        let length = u8::try_from(error.len() - 1).unwrap();
        error[4] = length;
        assert_eq!(
            parse_pg_answer(&error),
            Ok(Some((
                PgAnswer::Error("FATAL 08P01 no SSL".into()),
                error.len()
            )))
        );
        assert_eq!(parse_pg_answer(&error[..10]), Ok(None));
        assert!(parse_pg_answer(b"E\xff\xff\xff\xff").is_err());
        assert!(parse_pg_answer(b"H").is_err());
    }

    #[test]
    fn the_ldap_request_is_the_ber_of_rfc_4511() {
        let request = ldap_starttls_request();
        let mut expected = vec![0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16];
        expected.extend_from_slice(LDAP_STARTTLS_OID.as_bytes());
        assert_eq!(request, expected);
    }

    /// slapd's answers, as read from the wire.
    const SLAPD_OK: &[u8] = &[
        0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
    ];

    fn ldap_response(id: u8, code: u8, text: &[u8]) -> Vec<u8> {
        let mut op = vec![0x0a, 0x01, code, 0x04, 0x00, 0x04, len_u8(text.len())];
        op.extend_from_slice(text);
        let mut body = vec![0x02, 0x01, id, 0x78, len_u8(op.len())];
        body.extend_from_slice(&op);
        let mut message = vec![0x30, len_u8(body.len())];
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn ldap_responses() {
        assert_eq!(
            parse_ldap_response(SLAPD_OK),
            Ok(Some((
                LdapResult {
                    message_id: 1,
                    code: 0,
                    diagnostic: String::new()
                },
                SLAPD_OK.len()
            )))
        );
        for cut in 0..SLAPD_OK.len() {
            assert_eq!(
                parse_ldap_response(&SLAPD_OK[..cut]),
                Ok(None),
                "cut at {cut}"
            );
        }
        let refused = ldap_response(1, 52, b"Could not initialize TLS");
        let (result, _) = parse_ldap_response(&refused).unwrap().unwrap();
        assert_eq!(
            result.describe(),
            "unavailable (52) \"Could not initialize TLS\""
        );
        // A long-form length is read the same.
        let mut long = vec![0x30, 0x81, 0x0c];
        long.extend_from_slice(&SLAPD_OK[2..]);
        assert_eq!(parse_ldap_response(&long).unwrap().unwrap().0.code, 0);
        assert!(parse_ldap_response(&[0x31, 0x00]).is_err());
        assert!(parse_ldap_response(&[0x30, 0x80]).is_err());
        assert!(parse_ldap_response(&[0x30, 0x84, 1, 0, 0, 0]).is_err());
        // A bind response (0x61) is not the ExtendedResponse asked for.
        let mut bind = SLAPD_OK.to_vec();
        bind[5] = 0x61;
        assert!(parse_ldap_response(&bind).is_err());
        // An element claiming more than its parent holds.
        let mut overrun = SLAPD_OK.to_vec();
        overrun[6] = 0x09;
        assert!(parse_ldap_response(&overrun).is_err());
    }

    #[test]
    fn quotes_are_one_printable_line_cut_short() {
        assert_eq!(
            quote(b"454 4.7.0 TLS not available\r\n"),
            "\"454 4.7.0 TLS not available\""
        );
        assert_eq!(quote(b"250-a\r\n250 b\r\n"), "\"250-a / 250 b\"");
        assert_eq!(quote(b"a|b\x1b[31m\"c\""), "\"a¦b\\u{1b}[31m\\\"c\\\"\"");
        let long = quote("x".repeat(500).as_bytes());
        assert_eq!(long.chars().count(), QUOTE_CHARS + 3);
        assert!(long.ends_with("…\""));
        assert_eq!(quote(b""), "\"\"");
    }

    #[test]
    fn errors_read_as_what_happened() {
        let timeout = StarttlsError::Timeout {
            what: "greeting",
            waited: Duration::from_secs(5),
        };
        assert_eq!(timeout.to_string(), "no greeting within 5s");
        let closed = StarttlsError::Closed {
            what: "EHLO reply",
            reply: quote(b""),
        };
        assert_eq!(
            closed.to_string(),
            "the server closed the connection before its EHLO reply"
        );
        let cut = StarttlsError::Closed {
            what: "EHLO reply",
            reply: quote(b"250-mx\r\n"),
        };
        assert_eq!(
            cut.to_string(),
            "the server closed the connection before its EHLO reply was complete (received \"250-mx\")"
        );
        let malformed = StarttlsError::Malformed {
            what: "greeting",
            protocol: Protocol::Smtp,
            reason: ReplyError::NoCode,
            reply: quote(b"HTTP/1.1 400 Bad Request\r\n"),
        };
        assert_eq!(
            malformed.to_string(),
            "the greeting is not SMTP: a reply line does not start with a three-digit code: \"HTTP/1.1 400 Bad Request\""
        );
    }

    #[test]
    fn ehlo_names_the_client_by_its_address_literal() {
        assert_eq!(
            ehlo_name(Some("127.0.0.1:4000".parse().unwrap())),
            "[127.0.0.1]"
        );
        assert_eq!(ehlo_name(Some("[::1]:4000".parse().unwrap())), "[IPv6:::1]");
    }

    #[test]
    fn the_port_defaults_to_the_protocols() {
        use clap::Parser as _;
        let port = |extra: &[&str]| {
            let args = ["check-tls-ciphers", "-H", "localhost"].iter().chain(extra);
            crate::args::Args::try_parse_from(args).unwrap().port
        };
        assert_eq!(port(&[]), 443);
        for protocol in Protocol::ALL {
            assert_eq!(
                port(&["--starttls", protocol.arg()]),
                protocol.default_port()
            );
        }
        assert_eq!(port(&["--starttls", "smtp", "-p", "587"]), 587);
    }

    /// A peer on loopback that plays `script` (wait for a line from the
    /// client, or send bytes) then closes: for the faults no real server
    /// shows on demand (injected bytes, endless replies, a cut reply).
    struct FakePreambleServer {
        port: u16,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    enum Step {
        Send(Vec<u8>),
        AwaitLine,
    }

    impl FakePreambleServer {
        fn start(script: Vec<Step>) -> FakePreambleServer {
            use std::io::BufRead as _;
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let thread = std::thread::spawn(move || {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                for step in script {
                    match step {
                        Step::Send(bytes) => {
                            if writer.write_all(&bytes).is_err() {
                                return;
                            }
                        }
                        Step::AwaitLine => {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                        }
                    }
                }
            });
            FakePreambleServer {
                port,
                thread: Some(thread),
            }
        }

        fn negotiate(mut self, protocol: Protocol) -> Result<(), StarttlsError> {
            let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
            let result = negotiate(&mut stream, protocol, Duration::from_secs(5));
            drop(stream);
            if let Some(thread) = self.thread.take() {
                thread.join().unwrap();
            }
            result
        }
    }

    fn send(bytes: &[u8]) -> Step {
        Step::Send(bytes.to_vec())
    }

    #[test]
    fn smtp_goes_ahead_after_220_and_refusals_are_quoted() {
        let ok = FakePreambleServer::start(vec![
            send(b"220-mx ESMTP\r\n220 ready\r\n"),
            Step::AwaitLine,
            send(b"250-mx\r\n250-STARTTLS\r\n250 SIZE\r\n"),
            Step::AwaitLine,
            send(b"220 2.0.0 Ready to start TLS\r\n"),
        ]);
        ok.negotiate(Protocol::Smtp).unwrap();
        let refused = FakePreambleServer::start(vec![send(b"554 5.7.1 no service\r\n")]);
        assert_eq!(
            refused.negotiate(Protocol::Smtp).unwrap_err().to_string(),
            "the server refused the session: \"554 5.7.1 no service\""
        );
        let not_now = FakePreambleServer::start(vec![
            send(b"220 mx\r\n"),
            Step::AwaitLine,
            send(b"250-mx\r\n250 STARTTLS\r\n"),
            Step::AwaitLine,
            send(b"454 4.7.0 TLS not available due to local problem\r\n"),
            Step::AwaitLine,
        ]);
        assert_eq!(
            not_now.negotiate(Protocol::Smtp).unwrap_err().to_string(),
            "the server refused STARTTLS: \"454 4.7.0 TLS not available due to local problem\""
        );
    }

    #[test]
    fn bytes_after_the_go_ahead_are_an_injection_not_tls() {
        let injected = FakePreambleServer::start(vec![
            send(b"+OK ready\r\n"),
            Step::AwaitLine,
            send(b"+OK Begin TLS\r\n-ERR injected\r\n"),
        ]);
        let error = injected.negotiate(Protocol::Pop3).unwrap_err();
        assert!(
            matches!(
                error,
                StarttlsError::Malformed {
                    reason: ReplyError::Trailing,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("\"-ERR injected\""), "{error}");
    }

    #[test]
    fn an_endless_reply_stops_at_the_bound_and_a_cut_one_says_so() {
        let line = format!("250-{}\r\n", "x".repeat(100));
        let endless = FakePreambleServer::start(vec![
            send(b"220 mx\r\n"),
            Step::AwaitLine,
            send(line.repeat(MAX_REPLY / line.len() + 10).as_bytes()),
        ]);
        assert!(matches!(
            endless.negotiate(Protocol::Smtp),
            Err(StarttlsError::TooLong { what: "EHLO reply" })
        ));
        let cut = FakePreambleServer::start(vec![send(b"220-ftp.example\r\n220-still")]);
        assert_eq!(
            cut.negotiate(Protocol::Ftp).unwrap_err().to_string(),
            "the server closed the connection before its greeting was complete (received \"220-ftp.example / 220-still\")"
        );
    }

    #[test]
    fn endless_untagged_imap_lines_stop_at_the_bound() {
        let flood = FakePreambleServer::start(vec![
            send(b"* OK ready\r\n"),
            Step::AwaitLine,
            send(b"* NO still busy\r\n".repeat(MAX_REPLY / 10).as_slice()),
        ]);
        assert!(matches!(
            flood.negotiate(Protocol::Imap),
            Err(StarttlsError::TooLong {
                what: "STARTTLS reply"
            })
        ));
    }

    #[test]
    fn imap_skips_untagged_lines_and_ldap_reads_its_ber() {
        let imap = FakePreambleServer::start(vec![
            send(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
            Step::AwaitLine,
            send(b"* CAPABILITY IMAP4rev1 STARTTLS\r\na001 OK Begin TLS\r\n"),
        ]);
        imap.negotiate(Protocol::Imap).unwrap();
        // LDAP's request is not a line: the fake answers without reading.
        let ldap =
            FakePreambleServer::start(vec![send(&ldap_response(1, 53, b"TLS already started"))]);
        assert_eq!(
            ldap.negotiate(Protocol::Ldap).unwrap_err().to_string(),
            "the server refused StartTLS: unwillingToPerform (53) \"TLS already started\""
        );
        let postgres = FakePreambleServer::start(vec![send(b"S")]);
        postgres.negotiate(Protocol::Postgres).unwrap();
    }

    #[test]
    fn protocols_have_their_ports_and_names() {
        let ports: Vec<u16> = Protocol::ALL.iter().map(|p| p.default_port()).collect();
        assert_eq!(ports, [25, 143, 110, 21, 5432, 389]);
        for protocol in Protocol::ALL {
            use clap::ValueEnum as _;
            let value = protocol.to_possible_value().unwrap();
            assert_eq!(value.get_name(), protocol.arg());
            assert_eq!(
                protocol.default_port_text(),
                protocol.default_port().to_string()
            );
        }
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_coded_reply(&bytes);
            let _ = parse_imap_line(&bytes);
            let _ = parse_pop3_status(&bytes);
            let _ = parse_pg_answer(&bytes);
            let _ = parse_ldap_response(&bytes);
            let _ = quote(&bytes);
        }

        #[test]
        fn a_reply_read_from_a_prefix_is_the_reply_of_the_whole(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
            extra in proptest::collection::vec(any::<u8>(), 0..50),
        ) {
            let mut whole = bytes.clone();
            whole.extend_from_slice(&extra);
            if let Ok(Some(reply)) = parse_coded_reply(&bytes) {
                prop_assert_eq!(parse_coded_reply(&whole), Ok(Some(reply)));
            }
            if let Ok(Some(result)) = parse_ldap_response(&bytes) {
                prop_assert_eq!(parse_ldap_response(&whole), Ok(Some(result)));
            }
        }

        #[test]
        fn any_multi_line_reply_round_trips(
            code in 100u16..600,
            texts in proptest::collection::vec("[ -~]{0,40}", 1..8),
            crlf: bool,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let last = texts.len() - 1;
            let mut text = String::new();
            for (i, t) in texts.iter().enumerate() {
                let mark = if i == last { ' ' } else { '-' };
                let _ = write!(text, "{code}{mark}{t}{end}");
            }
            let (reply, used) = parse_coded_reply(text.as_bytes()).unwrap().unwrap();
            prop_assert_eq!(used, text.len());
            prop_assert_eq!(reply.code, code);
            prop_assert_eq!(reply.lines.len(), texts.len());
            // Cut anywhere before its end, it is not complete yet.
            for cut in 0..text.len() {
                prop_assert_eq!(parse_coded_reply(&text.as_bytes()[..cut]), Ok(None));
            }
        }

        #[test]
        fn any_ldap_result_round_trips(id: u8, code: u8, text in proptest::collection::vec(any::<u8>(), 0..100)) {
            let bytes = ldap_response(id, code, &text);
            let (result, used) = parse_ldap_response(&bytes).unwrap().unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(result.message_id, u32::from(id));
            prop_assert_eq!(result.code, u32::from(code));
            prop_assert_eq!(result.diagnostic, String::from_utf8_lossy(&text).into_owned());
        }

        #[test]
        fn quotes_stay_short_and_on_one_line(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let quoted = quote(&bytes);
            prop_assert!(!quoted.contains(['\n', '\r', '|']));
            prop_assert!(quoted.chars().count() <= QUOTE_CHARS * 10 + 3);
        }
    }
}
