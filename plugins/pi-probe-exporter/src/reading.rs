//! Judging a raw probe value: is it a real temperature, is the sensor pinned
//! at one of its limits, and how is it written in the configured unit.
//!
//! The DS18B20 measures -55 to +125 °C in steps of 1/16 °C. Its
//! temperature register powers up holding +85 °C, so a probe that browned
//! out reads exactly `85000` once (or forever, if its power is bad). That
//! value is only believed when the same probe read near 85 °C just before.

use std::fmt;

use crate::w1::{ParseError, ReadError};

/// The sensor's lowest temperature, millidegrees Celsius.
pub const MIN_MILLI_C: i32 = -55_000;
/// The sensor's highest temperature, millidegrees Celsius.
pub const MAX_MILLI_C: i32 = 125_000;
/// The power-on reset value of the temperature register.
pub const RESET_MILLI_C: i32 = 85_000;
/// How close to 85 °C the previous reading must be for an 85 °C reading to
/// be believed.
pub const RESET_TOLERANCE_MILLI_C: i32 = 5_000;

/// Why a reading was not sent. The `label` is its name in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// The kernel's CRC check failed (`w1_slave` said `NO`).
    Crc,
    /// `w1_slave` had no `t=`.
    NoTemperature,
    /// Empty, cut short, not text, not a number.
    Malformed,
    /// Exactly 85 °C without a plausible reading near it just before.
    PowerOnReset,
    /// Outside the sensor's -55..125 °C.
    OutOfRange,
    /// The file could not be read (I/O error; CRC failure of `temperature`).
    Unreadable,
    /// The probe or its file disappeared.
    Vanished,
}

impl RejectReason {
    /// Every reason, in the order metrics list them.
    pub const ALL: [RejectReason; 7] = [
        RejectReason::Crc,
        RejectReason::NoTemperature,
        RejectReason::Malformed,
        RejectReason::PowerOnReset,
        RejectReason::OutOfRange,
        RejectReason::Unreadable,
        RejectReason::Vanished,
    ];

    /// The reason's name in metric paths and labels.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            RejectReason::Crc => "crc",
            RejectReason::NoTemperature => "no_t",
            RejectReason::Malformed => "malformed",
            RejectReason::PowerOnReset => "reset_85",
            RejectReason::OutOfRange => "out_of_range",
            RejectReason::Unreadable => "unreadable",
            RejectReason::Vanished => "vanished",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which limit a saturated reading sits at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// -55 °C.
    Low,
    /// +125 °C.
    High,
}

/// The outcome of judging one reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A temperature to send; `saturated` when it sits at a sensor limit.
    Accepted {
        /// Millidegrees Celsius.
        milli_c: i32,
        /// `Some` when the value is at the sensor's limit.
        saturated: Option<Limit>,
    },
    /// Not sent.
    Rejected {
        /// The counted reason.
        reason: RejectReason,
        /// A human explanation for the log.
        detail: String,
    },
}

/// Maps a read failure to its counted reason.
#[must_use]
pub fn reason_for(err: &ReadError) -> RejectReason {
    match err {
        ReadError::Vanished { .. } => RejectReason::Vanished,
        ReadError::Unreadable { .. } => RejectReason::Unreadable,
        ReadError::Parse { source, .. } => match source {
            ParseError::CrcFailed => RejectReason::Crc,
            ParseError::MissingTemperature(_) => RejectReason::NoTemperature,
            ParseError::Empty
            | ParseError::Truncated(_)
            | ParseError::NoCrcVerdict(_)
            | ParseError::BadNumber(_)
            | ParseError::Malformed(_)
            | ParseError::ScratchpadMismatch { .. } => RejectReason::Malformed,
        },
    }
}

/// Judges a value given the previous accepted value of the same probe
/// (`None` when the previous attempt failed or there was none).
#[must_use]
pub fn judge_value(previous: Option<i32>, milli_c: i32) -> Verdict {
    if !(MIN_MILLI_C..=MAX_MILLI_C).contains(&milli_c) {
        return Verdict::Rejected {
            reason: RejectReason::OutOfRange,
            detail: format!(
                "{} °C is outside the sensor's -55..125 °C",
                format_celsius(milli_c)
            ),
        };
    }
    if milli_c == RESET_MILLI_C {
        let believable =
            previous.is_some_and(|p| (p - RESET_MILLI_C).abs() <= RESET_TOLERANCE_MILLI_C);
        if !believable {
            let before = previous.map_or_else(
                || "no good reading just before".to_owned(),
                |p| format!("previous reading {} °C", format_celsius(p)),
            );
            return Verdict::Rejected {
                reason: RejectReason::PowerOnReset,
                detail: format!("85 °C is the power-on reset value ({before})"),
            };
        }
    }
    let saturated = match milli_c {
        MIN_MILLI_C => Some(Limit::Low),
        MAX_MILLI_C => Some(Limit::High),
        _ => None,
    };
    Verdict::Accepted { milli_c, saturated }
}

/// Per-probe memory needed to judge the next reading.
#[derive(Debug, Clone, Default)]
pub struct ProbeJudge {
    previous: Option<i32>,
}

impl ProbeJudge {
    /// Judges one read attempt and remembers it for the next.
    pub fn judge(&mut self, read: Result<i32, ReadError>) -> Verdict {
        let verdict = match read {
            Ok(v) => judge_value(self.previous, v),
            Err(e) => Verdict::Rejected {
                reason: reason_for(&e),
                detail: e.to_string(),
            },
        };
        self.previous = match verdict {
            Verdict::Accepted { milli_c, .. } => Some(milli_c),
            Verdict::Rejected { .. } => None,
        };
        verdict
    }
}

/// The unit readings are sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    #[default]
    Fahrenheit,
}

impl Unit {
    /// `C` or `F`.
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Celsius => "C",
            Unit::Fahrenheit => "F",
        }
    }

    /// Parses `C`, `F`, `celsius`, `fahrenheit` (any case).
    #[must_use]
    pub fn parse(s: &str) -> Option<Unit> {
        match s.to_ascii_lowercase().as_str() {
            "c" | "celsius" => Some(Unit::Celsius),
            "f" | "fahrenheit" => Some(Unit::Fahrenheit),
            _ => None,
        }
    }

    /// Writes millidegrees Celsius in this unit, exactly, without trailing
    /// zeros: `57187` is `57.187` in C and `134.9366` in F.
    #[must_use]
    pub fn format(self, milli_c: i32) -> String {
        match self {
            Unit::Celsius => format_celsius(milli_c),
            Unit::Fahrenheit => {
                // °F = °C * 9/5 + 32; in units of 1e-4 °F that is an integer.
                let tenth_milli_f = i64::from(milli_c) * 18 + 320_000;
                format_fixed(tenth_milli_f, 4)
            }
        }
    }

    /// Converts millidegrees Celsius to this unit as a float.
    #[must_use]
    pub fn convert(self, milli_c: i32) -> f64 {
        let c = f64::from(milli_c) / 1000.0;
        match self {
            Unit::Celsius => c,
            Unit::Fahrenheit => c * 9.0 / 5.0 + 32.0,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Millidegrees Celsius as a decimal string without trailing zeros.
#[must_use]
pub fn format_celsius(milli_c: i32) -> String {
    format_fixed(i64::from(milli_c), 3)
}

/// Writes `value / 10^decimals` without trailing zeros.
fn format_fixed(value: i64, decimals: u32) -> String {
    let scale = 10i64.pow(decimals);
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let scale = scale.unsigned_abs();
    let whole = abs / scale;
    let frac = abs % scale;
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let width = usize::try_from(decimals).unwrap_or(4);
    let frac = format!("{frac:0width$}");
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn range_and_saturation() {
        assert_eq!(
            judge_value(None, 125_000),
            Verdict::Accepted {
                milli_c: 125_000,
                saturated: Some(Limit::High)
            }
        );
        assert_eq!(
            judge_value(None, -55_000),
            Verdict::Accepted {
                milli_c: -55_000,
                saturated: Some(Limit::Low)
            }
        );
        assert_eq!(
            judge_value(None, 124_937),
            Verdict::Accepted {
                milli_c: 124_937,
                saturated: None
            }
        );
        for v in [
            125_001,
            125_062,
            -55_001,
            -60_000,
            127_937,
            i32::MAX,
            i32::MIN,
        ] {
            assert!(matches!(
                judge_value(None, v),
                Verdict::Rejected {
                    reason: RejectReason::OutOfRange,
                    ..
                }
            ));
        }
    }

    #[test]
    fn reset_value_needs_a_believable_neighbour() {
        let reset = |prev| judge_value(prev, RESET_MILLI_C);
        assert!(matches!(
            reset(None),
            Verdict::Rejected {
                reason: RejectReason::PowerOnReset,
                ..
            }
        ));
        assert!(matches!(
            reset(Some(21_000)),
            Verdict::Rejected {
                reason: RejectReason::PowerOnReset,
                ..
            }
        ));
        assert!(matches!(reset(Some(84_937)), Verdict::Accepted { .. }));
        assert!(matches!(reset(Some(85_000)), Verdict::Accepted { .. }));
        assert!(matches!(reset(Some(89_000)), Verdict::Accepted { .. }));
        assert!(matches!(reset(Some(79_000)), Verdict::Rejected { .. }));
        // Values merely near 85 are fine on their own.
        assert!(matches!(
            judge_value(None, 85_062),
            Verdict::Accepted { .. }
        ));
    }

    #[test]
    fn judge_remembers_only_accepted_readings() {
        let mut j = ProbeJudge::default();
        // A stuck-at-85 probe is rejected forever.
        for _ in 0..3 {
            assert!(matches!(j.judge(Ok(85_000)), Verdict::Rejected { .. }));
        }
        // A glitch between real readings is rejected.
        assert!(matches!(j.judge(Ok(20_000)), Verdict::Accepted { .. }));
        assert!(matches!(j.judge(Ok(85_000)), Verdict::Rejected { .. }));
        // A real climb through 85 °C is believed, also when it dwells there.
        assert!(matches!(j.judge(Ok(84_875)), Verdict::Accepted { .. }));
        assert!(matches!(j.judge(Ok(85_000)), Verdict::Accepted { .. }));
        assert!(matches!(j.judge(Ok(85_000)), Verdict::Accepted { .. }));
        // A failure in between makes the next 85 suspect again.
        let err = ReadError::Parse {
            file: "w1_slave",
            source: ParseError::CrcFailed,
        };
        assert!(matches!(
            j.judge(Err(err)),
            Verdict::Rejected {
                reason: RejectReason::Crc,
                ..
            }
        ));
        assert!(matches!(j.judge(Ok(85_000)), Verdict::Rejected { .. }));
    }

    #[test]
    fn every_parse_error_maps_to_a_reason() {
        let p = |source| ReadError::Parse {
            file: "w1_slave",
            source,
        };
        assert_eq!(reason_for(&p(ParseError::CrcFailed)), RejectReason::Crc);
        assert_eq!(
            reason_for(&p(ParseError::MissingTemperature(String::new()))),
            RejectReason::NoTemperature
        );
        assert_eq!(reason_for(&p(ParseError::Empty)), RejectReason::Malformed);
        assert_eq!(
            reason_for(&ReadError::Vanished {
                path: "x".into(),
                source: std::io::ErrorKind::NotFound.into()
            }),
            RejectReason::Vanished
        );
    }

    #[test]
    fn formats_units_exactly() {
        assert_eq!(Unit::Celsius.format(23_125), "23.125");
        assert_eq!(Unit::Celsius.format(23_000), "23");
        assert_eq!(Unit::Celsius.format(-500), "-0.5");
        assert_eq!(Unit::Celsius.format(-62), "-0.062");
        assert_eq!(Unit::Fahrenheit.format(125_000), "257");
        assert_eq!(Unit::Fahrenheit.format(-55_000), "-67");
        assert_eq!(Unit::Fahrenheit.format(0), "32");
        assert_eq!(Unit::Fahrenheit.format(57_187), "134.9366");
        assert_eq!(Unit::Fahrenheit.format(61_125), "142.025");
        assert_eq!(Unit::Fahrenheit.format(-17_778), "-0.0004");
    }

    proptest! {
        #[test]
        fn formatted_value_parses_back(m in -55_000i32..=125_000) {
            for unit in [Unit::Celsius, Unit::Fahrenheit] {
                let s = unit.format(m);
                let v: f64 = s.parse().unwrap();
                prop_assert!((v - unit.convert(m)).abs() < 1e-9, "{} vs {}", s, unit.convert(m));
                prop_assert!(!s.contains(' '));
            }
        }

        #[test]
        fn in_range_non_reset_values_are_accepted(m in -55_000i32..=125_000, prev in proptest::option::of(-55_000i32..=125_000)) {
            prop_assume!(m != RESET_MILLI_C);
            let accepted = matches!(judge_value(prev, m), Verdict::Accepted { .. });
            prop_assert!(accepted);
        }
    }
}
