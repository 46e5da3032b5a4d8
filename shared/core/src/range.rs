//! Nagios threshold ranges: `[@]start:end`, both ends inclusive.
//!
//! The grammar and its edge cases follow the Monitoring Plugins' C library
//! (`lib/utils_base.c` and its tests), not the 3.x `mp_check_range()`, which
//! treats the end of `~:X` as exclusive.

use std::fmt;
use std::str::FromStr;

/// A parsed range. A value "alerts" when it lies outside `start..=end`, or
/// inside it when the range was written with a leading `@`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    start: f64,
    end: f64,
    inside: bool,
}

/// Why a range did not parse; the message names the text it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid range '{text}': {reason}")]
pub struct RangeError {
    /// The text exactly as given.
    pub text: String,
    /// What was wrong with it, in a phrase.
    pub reason: String,
}

impl Range {
    /// A range from explicit ends; `start` may be `-inf`, `end` may be `+inf`.
    ///
    /// # Panics
    /// When either end is NaN or `start > end`: that is a programming error,
    /// user text goes through [`FromStr`].
    #[must_use]
    pub fn new(start: f64, end: f64, inside: bool) -> Range {
        assert!(
            !start.is_nan() && !end.is_nan() && start <= end,
            "invalid range ends {start}..{end}"
        );
        Range { start, end, inside }
    }

    /// The lower end (`-inf` for `~`).
    #[must_use]
    pub fn start(&self) -> f64 {
        self.start
    }

    /// The upper end (`+inf` when omitted after the colon).
    #[must_use]
    pub fn end(&self) -> f64 {
        self.end
    }

    /// True for `@` ranges, which alert inside.
    #[must_use]
    pub fn alerts_inside(&self) -> bool {
        self.inside
    }

    /// Does `value` trip this range? NaN always does: a value that is not a
    /// number cannot be said to be fine.
    #[must_use]
    pub fn alerts(&self, value: f64) -> bool {
        if value.is_nan() {
            return true;
        }
        let within = self.start <= value && value <= self.end;
        within == self.inside
    }

    /// Parses a range whose ends are written in another syntax (durations,
    /// for example); `parse_end` turns one end's text into a number.
    pub fn parse_with(
        text: &str,
        parse_end: impl Fn(&str) -> Result<f64, String>,
    ) -> Result<Range, RangeError> {
        let fail = |reason: String| RangeError {
            text: text.to_owned(),
            reason,
        };
        let (inside, body) = match text.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if body.is_empty() {
            return Err(fail(if inside {
                "'@' needs a range after it".into()
            } else {
                "empty".into()
            }));
        }
        let (start, end) = match body.split_once(':') {
            None => (0.0, parse_end(body).map_err(&fail)?),
            Some((start_text, end_text)) => {
                let start = match start_text {
                    "" => 0.0,
                    "~" => f64::NEG_INFINITY,
                    _ => parse_end(start_text).map_err(&fail)?,
                };
                let end = if end_text.is_empty() {
                    f64::INFINITY
                } else {
                    parse_end(end_text).map_err(&fail)?
                };
                (start, end)
            }
        };
        if start > end {
            return Err(fail(format!(
                "start {} is greater than end {}",
                format_number(start),
                format_number(end)
            )));
        }
        Ok(Range { start, end, inside })
    }

    /// How `value` breaks this range, in a few words for the first line:
    /// `above 140`, `below 315`, `inside 10:20`; `None` when it does not.
    /// Words, not `>` and `<`: Nagios strips those from `$SERVICEOUTPUT$`
    /// (`illegal_macro_output_chars`), so a page would read "141.2  140".
    #[must_use]
    pub fn violation(&self, value: f64) -> Option<String> {
        if !self.alerts(value) {
            return None;
        }
        Some(if self.inside {
            format!(
                "inside {}",
                Range {
                    inside: false,
                    ..*self
                }
            )
        } else if value > self.end {
            format!("above {}", format_number(self.end))
        } else if value < self.start {
            format!("below {}", format_number(self.start))
        } else {
            "is not a number".to_owned()
        })
    }

    /// Writes the range with `write_end` for finite ends, in canonical form.
    pub(crate) fn fmt_with(
        &self,
        f: &mut fmt::Formatter<'_>,
        write_end: impl Fn(f64) -> String,
    ) -> fmt::Result {
        if self.inside {
            f.write_str("@")?;
        }
        match (self.start, self.end) {
            (s, e) if s == 0.0 && e.is_finite() => f.write_str(&write_end(e)),
            (s, e) if s == f64::NEG_INFINITY && e == f64::INFINITY => f.write_str("~:"),
            (s, e) if s == f64::NEG_INFINITY => write!(f, "~:{}", write_end(e)),
            (s, e) if e == f64::INFINITY => write!(f, "{}:", write_end(s)),
            (s, e) => write!(f, "{}:{}", write_end(s), write_end(e)),
        }
    }
}

/// Parses one end as a plain decimal number: digits, sign, point, exponent.
/// `inf`, `nan` and friends are refused, though Rust's float parser takes
/// them, because no Nagios plugin accepts them.
pub(crate) fn parse_number(text: &str) -> Result<f64, String> {
    let plausible = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && text.bytes().any(|b| b.is_ascii_digit());
    match text.parse::<f64>() {
        Ok(value) if plausible && value.is_finite() => Ok(value),
        Ok(_) if plausible => Err(format!("'{text}' is too large")),
        _ => Err(format!("'{text}' is not a number")),
    }
}

/// A number as plugins print it: `.` as decimal point, no exponent, no
/// thousands separator, the shortest text that reads back to the same value.
#[must_use]
pub fn format_number(value: f64) -> String {
    if value == 0.0 {
        // Avoids "-0", which some graphing add-ons refuse.
        return "0".into();
    }
    format!("{value}")
}

impl FromStr for Range {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Range::parse_with(text, parse_number)
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_with(f, format_number)
    }
}

#[cfg(test)]
// Parsed ends are compared exactly on purpose: parsing must not round.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn range(text: &str) -> Range {
        text.parse()
            .unwrap_or_else(|e| panic!("{text} should parse: {e}"))
    }

    fn ends(text: &str) -> (f64, f64, bool) {
        let r = range(text);
        (r.start(), r.end(), r.alerts_inside())
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn the_table_in_the_contract() {
        assert_eq!(ends("10"), (0.0, 10.0, false));
        assert_eq!(ends("10:"), (10.0, INF, false));
        assert_eq!(ends("~:10"), (-INF, 10.0, false));
        assert_eq!(ends("10:20"), (10.0, 20.0, false));
        assert_eq!(ends("@10:20"), (10.0, 20.0, true));
        assert_eq!(ends("-5.5:0"), (-5.5, 0.0, false));
        assert_eq!(ends(":5.75"), (0.0, 5.75, false));
        assert_eq!(ends("+3e2:4E+2"), (300.0, 400.0, false));
        assert_eq!(ends("~:"), (-INF, INF, false));

        let r = range("10");
        assert!(r.alerts(-0.1) && r.alerts(10.01));
        assert!(!r.alerts(0.0) && !r.alerts(10.0));
        assert!(range("10:").alerts(9.99) && !range("10:").alerts(1e300));
        assert!(range("@10:20").alerts(10.0) && range("@10:20").alerts(20.0));
        assert!(!range("@10:20").alerts(9.0) && !range("@10:20").alerts(21.0));
    }

    #[test]
    fn monitoring_plugins_edge_cases() {
        let r = range("~:0");
        assert!(r.alerts(0.5));
        assert!(!r.alerts(-10.0) && !r.alerts(0.0));

        let r = range("@0:657.8210567");
        assert!(r.alerts(0.0) && r.alerts(32.88) && r.alerts(657.821_056_7));
        assert!(!r.alerts(-2.0));

        let r = range("@1:1");
        assert!(r.alerts(1.0) && !r.alerts(0.99) && !r.alerts(1.01));
        let r = range("1:1");
        assert!(!r.alerts(1.0) && r.alerts(0.99) && r.alerts(1.01));

        assert_eq!(ends("~:-95.99"), (-INF, -95.99, false));
        assert_eq!(ends("-7:23"), (-7.0, 23.0, false));
        assert_eq!(
            ends("12345678901234567890:").0,
            12_345_678_901_234_567_890.0
        );
    }

    #[test]
    fn errors_name_the_text() {
        for bad in [
            "", "@", "10:5", "nan", "inf", "~:inf", "10x", "1:2:3", "abc", "10 ", " 10", "~",
            "10:~", "+", "-", ".", "1e999",
        ] {
            let err = bad.parse::<Range>().expect_err(bad);
            assert!(
                err.to_string().contains(&format!("'{bad}'")),
                "{bad:?} gave {err}"
            );
        }
        assert_eq!(
            "10:5".parse::<Range>().unwrap_err().to_string(),
            "invalid range '10:5': start 10 is greater than end 5"
        );
    }

    #[test]
    fn violations_read_as_comparisons() {
        assert_eq!(range("140").violation(141.2).as_deref(), Some("above 140"));
        assert_eq!(range("315:").violation(257.0).as_deref(), Some("below 315"));
        assert_eq!(
            range("@10:20").violation(15.0).as_deref(),
            Some("inside 10:20")
        );
        assert_eq!(range("140").violation(135.0), None);
    }

    #[test]
    fn displays_canonically() {
        for (given, shown) in [
            ("10", "10"),
            ("0:10", "10"),
            (":10", "10"),
            ("10:", "10:"),
            ("~:10", "~:10"),
            ("@10:20", "@10:20"),
            ("+5.50", "5.5"),
            ("1e2:", "100:"),
            ("~:", "~:"),
            ("0:", "0:"),
            ("-0:1", "1"),
        ] {
            assert_eq!(range(given).to_string(), shown, "{given}");
        }
    }

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            -1e6..1e6f64,
            any::<i32>().prop_map(f64::from),
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
        ]
    }

    fn any_range() -> impl Strategy<Value = Range> {
        (finite(), finite(), any::<bool>(), 0..4u8).prop_map(|(a, b, inside, open)| {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let lo = if open & 1 == 1 { f64::NEG_INFINITY } else { lo };
            let hi = if open & 2 == 2 { f64::INFINITY } else { hi };
            Range::new(lo, hi, inside)
        })
    }

    proptest! {
        #[test]
        fn print_then_parse_is_identity(r in any_range()) {
            let text = r.to_string();
            let back: Range = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(back, r, "printed as {}", text);
        }

        #[test]
        fn alerts_outside_unless_at(r in any_range(), v in finite()) {
            let within = r.start() <= v && v <= r.end();
            prop_assert_eq!(r.alerts(v), within == r.alerts_inside());
        }

        #[test]
        fn any_text_parses_to_a_round_trip_or_an_error_naming_it(text in "[@~:0-9.eE+-]{0,12}|.{0,12}") {
            match text.parse::<Range>() {
                Ok(r) => prop_assert_eq!(r.to_string().parse::<Range>(), Ok(r)),
                Err(e) => {
                    let quoted = format!("'{text}'");
                    prop_assert!(e.to_string().contains(&quoted), "{} lacks {}", e, quoted);
                }
            }
        }
    }
}
