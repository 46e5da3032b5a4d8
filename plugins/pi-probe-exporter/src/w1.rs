//! The kernel's 1-wire sysfs files: finding DS18B20 probes and parsing what
//! they say.
//!
//! Each probe is a directory `28-<serial>` under `/sys/bus/w1/devices`
//! (`28` is the DS18B20's family code). Older kernels offer only `w1_slave`:
//!
//! ```text
//! 72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//! 72 01 4b 46 7f ff 0e 10 57 t=23125
//! ```
//!
//! the scratchpad bytes, the kernel's CRC verdict (`YES`/`NO`), and the
//! temperature in millidegrees Celsius. Newer kernels add `temperature`,
//! which holds just `23125\n` and fails to read when the CRC fails.
//!
//! The parsers are strict on purpose: the kernel always ends both files with
//! a newline, so a file without one was cut short (a truncated `t=23125`
//! would otherwise read as `t=23`, 0.023 °C, and be sent as real).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Directory names of DS18B20 probes start with their family code.
pub const FAMILY_PREFIX: &str = "28-";

/// The default place the kernel lists 1-wire devices.
pub const DEFAULT_W1_DIR: &str = "/sys/bus/w1/devices";

/// Why the contents of a probe file are not a temperature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The file was empty.
    #[error("empty file")]
    Empty,
    /// The file ended before its last newline: it was cut short.
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// The kernel's CRC check of the scratchpad failed (`crc=.. NO`).
    #[error("CRC check failed (crc line ends in NO)")]
    CrcFailed,
    /// The CRC line carries neither `YES` nor `NO`.
    #[error("CRC line has no YES/NO verdict: {0:?}")]
    NoCrcVerdict(String),
    /// The second line of `w1_slave` has no `t=`.
    #[error("no t= on the temperature line: {0:?}")]
    MissingTemperature(String),
    /// The number is not a decimal integer.
    #[error("not a temperature in millidegrees: {0:?}")]
    BadNumber(String),
    /// Something other than text, or more lines than the kernel writes.
    #[error("malformed: {0}")]
    Malformed(String),
    /// `t=` is not the temperature the scratchpad bytes before it hold:
    /// the file was not written by the kernel from one conversion.
    #[error(
        "t={t} disagrees with the scratchpad's temperature bytes ({raw} sixteenths of a degree)"
    )]
    ScratchpadMismatch {
        /// The `t=` value, millidegrees.
        t: i32,
        /// The scratchpad's raw temperature register.
        raw: i16,
    },
}

/// Why a probe could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The probe's directory or file is gone (unplugged, or the bus lost it).
    #[error("vanished: {path}: {source}")]
    Vanished {
        /// The file that was to be read.
        path: PathBuf,
        /// What the kernel said.
        source: io::Error,
    },
    /// Reading failed for another reason (for `temperature`: a CRC failure
    /// or a bus error surfaces as EIO).
    #[error("unreadable: {path}: {source}")]
    Unreadable {
        /// The file that was to be read.
        path: PathBuf,
        /// What the kernel said.
        source: io::Error,
    },
    /// The file was read but its contents are not a valid temperature.
    #[error("{file}: {source}")]
    Parse {
        /// `w1_slave` or `temperature`.
        file: &'static str,
        /// What was wrong with it.
        source: ParseError,
    },
}

/// Limits a probe file to this many bytes: the kernel's are under 100.
const MAX_FILE_BYTES: u64 = 4096;

fn trimmed_preview(s: &str) -> String {
    const MAX: usize = 60;
    let s = s.trim();
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}...")
    } else {
        s.to_owned()
    }
}

fn as_text(bytes: &[u8]) -> Result<&str, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ParseError::Malformed("not text (invalid UTF-8)".into()))?;
    if text.contains('\0') {
        return Err(ParseError::Malformed("contains NUL bytes".into()));
    }
    Ok(text)
}

/// Parses a decimal millidegree value: optional sign, then digits only.
fn parse_millis(s: &str) -> Result<i32, ParseError> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::BadNumber(trimmed_preview(s)));
    }
    s.parse::<i32>()
        .map_err(|_| ParseError::BadNumber(trimmed_preview(s)))
}

/// Parses the contents of a `w1_slave` file into millidegrees Celsius.
pub fn parse_w1_slave(bytes: &[u8]) -> Result<i32, ParseError> {
    let text = as_text(bytes)?;
    let Some((crc_line, rest)) = text.split_once('\n') else {
        return Err(ParseError::Truncated("only part of the CRC line"));
    };
    let crc_line = crc_line.trim_end_matches('\r').trim_end();
    if rest.is_empty() {
        return Err(ParseError::Truncated("no temperature line"));
    }
    let Some((t_line, after)) = rest.split_once('\n') else {
        return Err(ParseError::Truncated("temperature line has no newline"));
    };
    if !after.trim().is_empty() {
        return Err(ParseError::Malformed(format!(
            "unexpected third line {:?}",
            trimmed_preview(after)
        )));
    }
    if crc_line.ends_with("NO") {
        return Err(ParseError::CrcFailed);
    }
    if !crc_line.ends_with("YES") || !crc_line.contains("crc=") {
        return Err(ParseError::NoCrcVerdict(trimmed_preview(crc_line)));
    }
    let t_line = t_line.trim_end_matches('\r');
    let Some(idx) = t_line.rfind("t=") else {
        return Err(ParseError::MissingTemperature(trimmed_preview(t_line)));
    };
    let t = parse_millis(t_line[idx + 2..].trim_end())?;
    check_scratchpad(&t_line[..idx], t)?;
    Ok(t)
}

/// Checks `t` against the scratchpad bytes the kernel prints before it
/// (`72 01 4b 46 7f ff 0e 10 57 `): bytes 0-1 are the temperature register
/// in sixteenths of a degree, byte 4 the resolution (9-12 bits; the kernel
/// may clear the bits below it). A line with no bytes is not checked.
fn check_scratchpad(bytes: &str, t: i32) -> Result<(), ParseError> {
    let fields: Vec<&str> = bytes.split_ascii_whitespace().collect();
    if fields.is_empty() {
        return Ok(());
    }
    let pad: Option<Vec<u8>> = fields
        .iter()
        .map(|f| {
            (f.len() == 2)
                .then(|| u8::from_str_radix(f, 16).ok())
                .flatten()
        })
        .collect();
    let Some(pad) = pad.filter(|p| p.len() == 9) else {
        return Err(ParseError::Malformed(format!(
            "scratchpad is not 9 hex bytes: {:?}",
            trimmed_preview(bytes)
        )));
    };
    let raw = i16::from_le_bytes([pad[0], pad[1]]);
    let resolution = 9 + u32::from((pad[4] >> 5) & 0b11);
    // One step of the configured resolution, in 1/16000 of a degree.
    let step = 1000i64 << (12 - resolution);
    let diff = (i64::from(t) * 16 - i64::from(raw) * 1000).abs();
    if diff < step {
        Ok(())
    } else {
        Err(ParseError::ScratchpadMismatch { t, raw })
    }
}

/// Parses the contents of a `temperature` file into millidegrees Celsius.
pub fn parse_temperature(bytes: &[u8]) -> Result<i32, ParseError> {
    let text = as_text(bytes)?;
    let Some((value, after)) = text.split_once('\n') else {
        return Err(ParseError::Truncated("no newline"));
    };
    if !after.trim().is_empty() {
        return Err(ParseError::Malformed(format!(
            "unexpected second line {:?}",
            trimmed_preview(after)
        )));
    }
    parse_millis(value.trim_end_matches('\r').trim())
}

/// Lists the DS18B20 probe ids (`28-...`) in `dir`, sorted.
pub fn discover(dir: &Path) -> io::Result<Vec<String>> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !name.starts_with(FAMILY_PREFIX) || name.len() <= FAMILY_PREFIX.len() {
            continue;
        }
        // sysfs entries are symlinks to the device directory; follow them.
        if entry.path().is_dir() {
            ids.push(name);
        }
    }
    ids.sort();
    Ok(ids)
}

/// Which file a reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFile {
    /// The newer one-number file.
    Temperature,
    /// The classic two-line file with the CRC verdict.
    W1Slave,
}

impl SourceFile {
    /// The file's name in the probe directory.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SourceFile::Temperature => "temperature",
            SourceFile::W1Slave => "w1_slave",
        }
    }
}

impl fmt::Display for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn read_limited(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut buf = Vec::with_capacity(128);
    file.take(MAX_FILE_BYTES).read_to_end(&mut buf)?;
    Ok(buf)
}

fn io_error(path: PathBuf, source: io::Error) -> ReadError {
    if source.kind() == io::ErrorKind::NotFound {
        ReadError::Vanished { path, source }
    } else {
        ReadError::Unreadable { path, source }
    }
}

/// Reads one probe: `temperature` when the kernel offers it, else
/// `w1_slave`. Returns millidegrees Celsius.
pub fn read_probe(w1_dir: &Path, id: &str) -> Result<i32, ReadError> {
    let dir = w1_dir.join(id);
    let temperature = dir.join(SourceFile::Temperature.name());
    let (file, path) = if temperature.exists() {
        (SourceFile::Temperature, temperature)
    } else {
        (SourceFile::W1Slave, dir.join(SourceFile::W1Slave.name()))
    };
    let bytes = read_limited(&path).map_err(|e| io_error(path, e))?;
    let parsed = match file {
        SourceFile::Temperature => parse_temperature(&bytes),
        SourceFile::W1Slave => parse_w1_slave(&bytes),
    };
    parsed.map_err(|source| ReadError::Parse {
        file: file.name(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &[u8] =
        b"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n";

    /// A `w1_slave` whose scratchpad holds the register nearest `millis`.
    fn w1_slave(millis: i32, verdict: &str) -> String {
        let [lsb, msb] = crate::simulate::raw_from_millis(millis).to_le_bytes();
        format!(
            "{lsb:02x} {msb:02x} 4b 46 7f ff 0e 10 57 : crc=57 {verdict}\n\
             {lsb:02x} {msb:02x} 4b 46 7f ff 0e 10 57 t={millis}\n"
        )
    }

    #[test]
    fn t_that_disagrees_with_the_scratchpad_is_a_fault() {
        // 0x0172 is 23.125 degrees; t= says 99.999.
        let forged =
            b"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=99999\n";
        assert_eq!(
            parse_w1_slave(forged),
            Err(ParseError::ScratchpadMismatch {
                t: 99_999,
                raw: 0x0172
            })
        );
        // Negative, and at 9 bits the kernel may clear the 3 low bits.
        let neg = b"5e ff 4b 46 7f ff 0e 10 57 : crc=57 YES\n5e ff 4b 46 7f ff 0e 10 57 t=-10125\n";
        assert_eq!(parse_w1_slave(neg), Ok(-10_125));
        let nine_bit =
            b"77 01 4b 46 1f ff 0e 10 57 : crc=57 YES\n77 01 4b 46 1f ff 0e 10 57 t=23000\n";
        assert_eq!(parse_w1_slave(nine_bit), Ok(23_000));
        let short = b"72 01 4b : crc=57 YES\n72 01 4b t=23125\n";
        assert!(matches!(
            parse_w1_slave(short),
            Err(ParseError::Malformed(_))
        ));
    }

    #[test]
    fn parses_real_w1_slave() {
        assert_eq!(parse_w1_slave(GOOD), Ok(23125));
    }

    #[test]
    fn parses_negative_and_zero() {
        assert_eq!(
            parse_w1_slave(w1_slave(-10125, "YES").as_bytes()),
            Ok(-10125)
        );
        assert_eq!(parse_w1_slave(w1_slave(0, "YES").as_bytes()), Ok(0));
        assert_eq!(parse_w1_slave(w1_slave(-62, "YES").as_bytes()), Ok(-62));
    }

    #[test]
    fn crc_no_is_rejected_even_with_a_temperature() {
        assert_eq!(
            parse_w1_slave(w1_slave(23125, "NO").as_bytes()),
            Err(ParseError::CrcFailed)
        );
    }

    #[test]
    fn missing_t_is_rejected() {
        let s = b"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57\n";
        assert!(matches!(
            parse_w1_slave(s),
            Err(ParseError::MissingTemperature(_))
        ));
    }

    #[test]
    fn truncations_are_rejected() {
        for cut in 0..GOOD.len() {
            let r = parse_w1_slave(&GOOD[..cut]);
            assert!(r.is_err(), "prefix of {cut} bytes parsed as {r:?}");
        }
        assert_eq!(parse_w1_slave(b""), Err(ParseError::Empty));
        // The dangerous one: "t=23125" cut to "t=23".
        let cut = b"72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23";
        assert!(matches!(parse_w1_slave(cut), Err(ParseError::Truncated(_))));
    }

    #[test]
    fn garbage_is_rejected() {
        for g in [
            &b"hello\nworld\n"[..],
            b"\0\0\0\0\0\0",
            b"\xff\xfe\n\n",
            b": crc=57 YES\nt=\n",
            b": crc=57 YES\nt=12a\n",
            b": crc=57 YES\nt=--5\n",
            b": crc=57 YES\nt=99999999999\n",
            b": crc=57 YES\nt=1\nextra\n",
            b": crc=57 MAYBE\nt=1000\n",
        ] {
            assert!(parse_w1_slave(g).is_err(), "{g:?} parsed");
        }
    }

    #[test]
    fn parses_temperature_file() {
        assert_eq!(parse_temperature(b"23125\n"), Ok(23125));
        assert_eq!(parse_temperature(b"-55000\n"), Ok(-55000));
        assert_eq!(parse_temperature(b""), Err(ParseError::Empty));
        assert!(matches!(
            parse_temperature(b"23125"),
            Err(ParseError::Truncated(_))
        ));
        assert!(matches!(
            parse_temperature(b"abc\n"),
            Err(ParseError::BadNumber(_))
        ));
        assert!(parse_temperature(b"1\n2\n").is_err());
    }

    #[test]
    fn discover_lists_only_probe_dirs_and_read_prefers_temperature() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("28-0316a2b4c5ff")).unwrap();
        std::fs::create_dir(d.join("28-0316a2b4c6aa")).unwrap();
        std::fs::create_dir(d.join("w1_bus_master1")).unwrap();
        std::fs::write(d.join("28-notadir"), "x").unwrap();
        assert_eq!(
            discover(d).unwrap(),
            vec!["28-0316a2b4c5ff", "28-0316a2b4c6aa"]
        );

        std::fs::write(d.join("28-0316a2b4c5ff/w1_slave"), GOOD).unwrap();
        assert_eq!(read_probe(d, "28-0316a2b4c5ff").unwrap(), 23125);
        std::fs::write(d.join("28-0316a2b4c5ff/temperature"), "21000\n").unwrap();
        assert_eq!(read_probe(d, "28-0316a2b4c5ff").unwrap(), 21000);

        assert!(matches!(
            read_probe(d, "28-0316a2b4c6aa"),
            Err(ReadError::Vanished { .. })
        ));
        assert!(matches!(
            read_probe(d, "28-gone"),
            Err(ReadError::Vanished { .. })
        ));
        // A directory where the file should be cannot be read.
        std::fs::create_dir(d.join("28-0316a2b4c6aa/w1_slave")).unwrap();
        assert!(matches!(
            read_probe(d, "28-0316a2b4c6aa"),
            Err(ReadError::Unreadable { .. })
        ));
    }

    proptest! {
        #[test]
        fn w1_slave_round_trips(millis in -55_000i32..=125_000) {
            prop_assert_eq!(parse_w1_slave(w1_slave(millis, "YES").as_bytes()), Ok(millis));
            prop_assert_eq!(parse_temperature(format!("{millis}\n").as_bytes()), Ok(millis));
        }

        #[test]
        fn no_strict_prefix_of_a_valid_file_parses(millis in -55_000i32..=125_000, cut in 0usize..200) {
            let full = w1_slave(millis, "YES");
            let cut = cut % full.len();
            prop_assert!(parse_w1_slave(&full.as_bytes()[..cut]).is_err());
            let t = format!("{millis}\n");
            let cut_t = cut % t.len();
            prop_assert!(parse_temperature(&t.as_bytes()[..cut_t]).is_err());
        }

        #[test]
        fn crc_no_never_parses(millis in any::<i32>()) {
            prop_assert_eq!(parse_w1_slave(w1_slave(millis, "NO").as_bytes()), Err(ParseError::CrcFailed));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_w1_slave(&bytes);
            let _ = parse_temperature(&bytes);
        }

        #[test]
        fn arbitrary_text_lines_never_panic(a in "[ -~]{0,60}", b in "[ -~]{0,60}") {
            let s = format!("{a}\n{b}\n");
            if let Ok(v) = parse_w1_slave(s.as_bytes()) {
                // Anything accepted must have said YES and carried t=<v>.
                prop_assert!(a.trim_end().ends_with("YES"));
                let t_value = format!("t={v}");
                prop_assert!(b.trim_end().ends_with(&t_value)
                    || b.contains("t=+") || b.contains("t=0") || b.contains("t=-0"));
            }
        }

        #[test]
        fn flipping_a_byte_never_yields_a_different_value_silently(
            millis in -55_000i32..=125_000, pos in 0usize..100, byte in any::<u8>()
        ) {
            // Corruption of the t= digits can produce another number: that is
            // what the kernel's CRC is for. But corruption of the framing
            // (verdict, newlines) must be caught.
            let mut full = w1_slave(millis, "YES").into_bytes();
            let pos = pos % full.len();
            let t_at = full.windows(2).rposition(|w| w == b"t=").unwrap();
            if pos < t_at {
                let yes_at = full.windows(3).position(|w| w == b"YES").unwrap();
                let old = full[pos];
                full[pos] = byte;
                let r = parse_w1_slave(&full);
                if (yes_at..yes_at + 4).contains(&pos) && old != byte {
                    prop_assert!(r.is_err(), "verdict corrupted but parsed {:?}", r);
                }
                if let Ok(v) = r { prop_assert_eq!(v, millis); }
            }
        }
    }
}
