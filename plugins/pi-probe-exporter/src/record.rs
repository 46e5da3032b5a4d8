//! One reading as it is kept in the spool: one text line.
//!
//! ```text
//! <seq> <boot> <mono_ms> <wall_ms> <S|U> <metric> <value> <crc32>\n
//! 1042 d92b9439653e4587 433410 1733080000500 S christmaspi.temperature.ham 134.9366 5f0e2a11
//! ```
//!
//! - `seq`: position in the spool, one more than the line before it;
//! - `boot`: which boot of the machine took the reading;
//! - `mono_ms`: milliseconds since that boot (used to restamp);
//! - `wall_ms`: the wall clock when it was read (right only if `S`);
//! - `S`/`U`: the wall clock was synchronised / unsynchronised;
//! - `metric` and `value`: what carbon gets;
//! - `crc32`: of everything before the space that precedes it, in hex.
//!
//! A line that is cut short, has a bad checksum or the wrong number of
//! fields is rejected: that is how a torn write after a crash is found.

use std::fmt::Write as _;

use crate::clock::BootId;

/// A reading in the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position in the spool.
    pub seq: u64,
    /// Boot in which the reading was taken.
    pub boot: BootId,
    /// Milliseconds since that boot.
    pub mono_ms: u64,
    /// Wall clock at the reading, ms since the epoch.
    pub wall_ms: i64,
    /// Whether the wall clock was synchronised.
    pub synced: bool,
    /// `metric value`, as in the line (one allocation per record).
    point: String,
    /// Where the space in `point` is.
    split: usize,
}

/// Why a spool line is not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// No newline at the end: the write was torn.
    #[error("line has no newline (torn write)")]
    Torn,
    /// The checksum does not match.
    #[error("checksum mismatch")]
    Checksum,
    /// The fields are not what a record has.
    #[error("malformed line: {0}")]
    Malformed(&'static str),
}

/// True when `s` can be a metric path or value in carbon's line protocol.
#[must_use]
pub fn is_protocol_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Appends one spool line, newline included.
#[allow(clippy::too_many_arguments, reason = "the fields of one line")]
pub fn encode_line(
    seq: u64,
    boot: BootId,
    mono_ms: u64,
    wall_ms: i64,
    synced: bool,
    metric: &str,
    value: &str,
    out: &mut String,
) {
    let start = out.len();
    let flag = if synced { 'S' } else { 'U' };
    let _ = write!(
        out,
        "{seq} {boot} {mono_ms} {wall_ms} {flag} {metric} {value}"
    );
    let crc = crate::crc::crc32(&out.as_bytes()[start..]);
    let _ = writeln!(out, " {crc:08x}");
}

impl Record {
    /// A record (metric and value must be protocol tokens: no spaces).
    #[must_use]
    pub fn new(
        seq: u64,
        boot: BootId,
        mono_ms: u64,
        wall_ms: i64,
        synced: bool,
        metric: &str,
        value: &str,
    ) -> Record {
        Record {
            seq,
            boot,
            mono_ms,
            wall_ms,
            synced,
            point: format!("{metric} {value}"),
            split: metric.len(),
        }
    }

    /// Full Graphite path.
    #[must_use]
    pub fn metric(&self) -> &str {
        &self.point[..self.split]
    }

    /// Value as sent.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.point[self.split + 1..]
    }

    /// Appends the spool line for this record, newline included.
    pub fn encode_into(&self, out: &mut String) {
        encode_line(
            self.seq,
            self.boot,
            self.mono_ms,
            self.wall_ms,
            self.synced,
            self.metric(),
            self.value(),
            out,
        );
    }

    /// The spool line for this record.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(96);
        self.encode_into(&mut s);
        s
    }

    /// Parses one spool line (with its newline).
    pub fn decode(line: &[u8]) -> Result<Record, RecordError> {
        let Some(body) = line.strip_suffix(b"\n") else {
            return Err(RecordError::Torn);
        };
        if body.len() < 10 || body[body.len() - 9] != b' ' {
            return Err(RecordError::Malformed("no checksum"));
        }
        let (content, crc_field) = body.split_at(body.len() - 9);
        let want = parse_hex32(&crc_field[1..]).ok_or(RecordError::Malformed("checksum"))?;
        if crate::crc::crc32(content) != want {
            return Err(RecordError::Checksum);
        }
        let mut f = content.split(|&b| b == b' ');
        let mut next = |what: &'static str| f.next().ok_or(RecordError::Malformed(what));
        let seq = parse_u64(next("seq")?).ok_or(RecordError::Malformed("seq"))?;
        let boot = BootId::from_bytes(next("boot")?).ok_or(RecordError::Malformed("boot"))?;
        let mono_ms = parse_u64(next("mono")?).ok_or(RecordError::Malformed("mono"))?;
        let wall_ms = parse_i64(next("wall")?).ok_or(RecordError::Malformed("wall"))?;
        let synced = match next("sync flag")? {
            b"S" => true,
            b"U" => false,
            _ => return Err(RecordError::Malformed("sync flag")),
        };
        let metric = next("metric")?;
        let value = next("value")?;
        if f.next().is_some() {
            return Err(RecordError::Malformed("too many fields"));
        }
        if !is_token(metric) || !is_token(value) {
            return Err(RecordError::Malformed("metric or value"));
        }
        // Both are ASCII (checked just above) and adjacent in the line.
        let start = content.len() - metric.len() - 1 - value.len();
        let point = std::str::from_utf8(&content[start..])
            .map_err(|_| RecordError::Malformed("not text"))?
            .to_owned();
        Ok(Record {
            seq,
            boot,
            mono_ms,
            wall_ms,
            synced,
            point,
            split: metric.len(),
        })
    }

    /// Appends `metric value timestamp\n` (carbon's plaintext protocol).
    pub fn carbon_line_into(&self, ts: i64, out: &mut Vec<u8>) {
        out.extend_from_slice(self.point.as_bytes());
        out.push(b' ');
        push_i64(ts, out);
        out.push(b'\n');
    }
}

fn is_token(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_graphic)
}

fn parse_hex32(b: &[u8]) -> Option<u32> {
    if b.len() != 8 {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | u32::from(d))
    })
}

/// Decimal digits only: no sign, no leading zero, no overflow (so a line
/// that decodes is exactly the line that encoding gives).
pub(crate) fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        if c.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        } else {
            None
        }
    })
}

fn parse_i64(b: &[u8]) -> Option<i64> {
    match b.strip_prefix(b"-") {
        Some(digits) => {
            let v = parse_u64(digits)?;
            if v == 0 {
                return None; // "-0"
            }
            0i64.checked_sub_unsigned(v)
        }
        None => i64::try_from(parse_u64(b)?).ok(),
    }
}

fn push_i64(v: i64, out: &mut Vec<u8>) {
    if v < 0 {
        out.push(b'-');
    }
    let mut n = v.unsigned_abs();
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(seq: u64) -> Record {
        Record::new(
            seq,
            BootId::parse("d92b9439653e4587").unwrap(),
            433_410,
            1_733_080_000_500,
            true,
            "christmaspi.temperature.ham",
            "134.9366",
        )
    }

    #[test]
    fn round_trip() {
        let r = rec(1042);
        assert_eq!(r.metric(), "christmaspi.temperature.ham");
        assert_eq!(r.value(), "134.9366");
        let line = r.encode();
        assert!(line.starts_with(
            "1042 d92b9439653e4587 433410 1733080000500 S christmaspi.temperature.ham 134.9366 "
        ));
        assert_eq!(Record::decode(line.as_bytes()), Ok(r));
    }

    #[test]
    fn carbon_lines_and_number_parsing() {
        let mut out = Vec::new();
        rec(1).carbon_line_into(1_733_080_000, &mut out);
        rec(2).carbon_line_into(-5, &mut out);
        rec(3).carbon_line_into(0, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "christmaspi.temperature.ham 134.9366 1733080000\n\
             christmaspi.temperature.ham 134.9366 -5\n\
             christmaspi.temperature.ham 134.9366 0\n"
        );
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"+1"), None);
        assert_eq!(parse_u64(b"007"), None);
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_hex32(b"cbf43926"), Some(0xCBF4_3926));
        assert_eq!(parse_hex32(b"CBF43926"), None);
    }

    #[test]
    fn torn_and_corrupt_lines_are_rejected() {
        let line = rec(7).encode();
        let b = line.as_bytes();
        for cut in 0..b.len() {
            assert!(Record::decode(&b[..cut]).is_err(), "prefix {cut} decoded");
        }
        let mut flipped = b.to_vec();
        flipped[3] ^= 0x01;
        assert_eq!(Record::decode(&flipped), Err(RecordError::Checksum));
        assert!(Record::decode(&[0u8; 40]).is_err());
        assert!(Record::decode(b"\n").is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..150)) {
            let _ = Record::decode(&bytes);
        }

        #[test]
        fn what_decodes_encodes_back_to_the_same_bytes(
            seq in any::<u64>(), mono in any::<u64>(), wall in any::<i64>(), synced in any::<bool>(),
            metric in "[!-~]{1,40}", value in "[!-~]{1,12}"
        ) {
            let boot = BootId::parse("0123456789abcdef").unwrap();
            let r = Record::new(seq, boot, mono, wall, synced, &metric, &value);
            let line = r.encode();
            let back = Record::decode(line.as_bytes()).unwrap();
            prop_assert_eq!(back.encode(), line);
            prop_assert_eq!(back, r);
        }

        #[test]
        fn any_single_byte_change_is_caught(pos in 0usize..90, byte in any::<u8>()) {
            let line = rec(99).encode().into_bytes();
            let pos = pos % line.len();
            prop_assume!(line[pos] != byte);
            let mut bad = line.clone();
            bad[pos] = byte;
            prop_assert!(Record::decode(&bad).is_err());
        }
    }
}
