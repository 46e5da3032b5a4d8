//! The one duration parser for every flag and config value that takes a
//! duration (`-t`, `--max-age`, `--window`, ages in `-w`/`-c`, config files):
//! humantime units (`90s`, `15min`, `26h`, `2d`, `1h 30m`, `500ms`) or plain,
//! possibly fractional, seconds (`120`, `2.5`), as the Monitoring Plugins
//! take `-t 10`.

use std::fmt;
use std::time::Duration;

/// Examples every message ends with, so a refused value shows what works.
const EXAMPLES: &str = "e.g. 90s, 15min, 26h, 2d, 1h 30m, 500ms, or 120 for seconds";

/// Why a text is not a duration; the message names the text and gives
/// examples of what is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a duration: {reason} ({EXAMPLES})")]
pub struct DurationError {
    text: String,
    reason: String,
}

impl DurationError {
    fn new(text: &str, reason: impl Into<String>) -> DurationError {
        DurationError {
            text: text.to_owned(),
            reason: reason.into(),
        }
    }

    /// The text exactly as given.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Parses a duration: humantime units, or plain seconds when the text is
/// only a number. Surrounding whitespace is ignored; negative, NaN and
/// infinite values are refused. Usable as a clap `value_parser`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::new(text, "it is empty"));
    }
    if let Some(seconds) = plain_seconds(trimmed) {
        return seconds_to_duration(seconds).map_err(|reason| DurationError::new(text, reason));
    }
    if trimmed.starts_with('-') {
        return Err(DurationError::new(text, "a duration cannot be negative"));
    }
    humantime::parse_duration(trimmed).map_err(|error| {
        let reason = match error {
            humantime::DurationError::UnknownUnit { unit, .. } => {
                format!("'{unit}' is not a unit")
            }
            humantime::DurationError::NumberOverflow => "it is too large".to_owned(),
            humantime::DurationError::NumberExpected(0) => "it must start with a number".to_owned(),
            humantime::DurationError::NumberExpected(_) => {
                "a number must come before each unit".to_owned()
            }
            humantime::DurationError::InvalidCharacter(at) => format!(
                "'{}' cannot appear in a duration",
                trimmed[at..].chars().next().unwrap_or(' ')
            ),
            humantime::DurationError::Empty => "it is empty".to_owned(),
        };
        DurationError::new(text, reason)
    })
}

/// The value of a text made only of digits and at most one point (`120`,
/// `2.5`, `.5`); `None` for anything with a unit, sign or exponent.
fn plain_seconds(text: &str) -> Option<f64> {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let points = text.bytes().filter(|&b| b == b'.').count();
    (digits > 0 && digits + points == text.len() && points <= 1)
        .then(|| text.parse::<f64>().ok())
        .flatten()
}

/// Seconds as a duration, refusing what `Duration` cannot hold.
fn seconds_to_duration(seconds: f64) -> Result<Duration, String> {
    if seconds.is_sign_negative() && seconds != 0.0 {
        return Err("a duration cannot be negative".into());
    }
    Duration::try_from_secs_f64(seconds.abs()).map_err(|_| "it is too large".into())
}

/// For `#[serde(deserialize_with = "nightwatch_core::duration::deserialize")]`:
/// a string as [`parse_duration`] reads it, or a number of seconds
/// (integer or float).
pub fn deserialize<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

/// [`deserialize`] for an `Option<Duration>` field; pair it with
/// `#[serde(default)]` so a missing key is `None`.
pub fn deserialize_option<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    deserializer.deserialize_option(OptionVisitor)
}

struct DurationVisitor;

impl serde::de::Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a duration ({EXAMPLES})")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
        parse_duration(text).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(seconds))
    }

    fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<Duration, E> {
        u64::try_from(seconds)
            .map(Duration::from_secs)
            .map_err(|_| {
                E::custom(DurationError::new(
                    &seconds.to_string(),
                    "a duration cannot be negative",
                ))
            })
    }

    fn visit_f64<E: serde::de::Error>(self, seconds: f64) -> Result<Duration, E> {
        seconds_to_duration(seconds)
            .map_err(|reason| E::custom(DurationError::new(&seconds.to_string(), reason)))
    }
}

struct OptionVisitor;

impl<'de> serde::de::Visitor<'de> for OptionVisitor {
    type Value = Option<Duration>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a duration ({EXAMPLES})")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        deserialize(d).map(Some)
    }
}

/// A duration written so that [`parse_duration`] reads back exactly the
/// same value, in the largest unit that divides it: `26h`, `2d`, `90s`,
/// `1500ms`. For ranges and flags built in code rather than typed.
#[must_use]
pub fn format_exact(duration: Duration) -> String {
    const UNITS: [(u128, &str); 7] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    let (size, unit) = UNITS
        .into_iter()
        .find(|(size, _)| nanos.is_multiple_of(*size))
        .unwrap_or((1, "ns"));
    format!("{}{unit}", nanos / size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parsed(text: &str) -> Duration {
        parse_duration(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn humantime_units_and_plain_seconds() {
        for (text, expected) in [
            ("90s", Duration::from_secs(90)),
            ("15min", Duration::from_mins(15)),
            ("15m", Duration::from_mins(15)),
            ("26h", Duration::from_hours(26)),
            ("2d", Duration::from_hours(48)),
            ("1h 30m", Duration::from_mins(90)),
            ("1.5h", Duration::from_mins(90)),
            ("500ms", Duration::from_millis(500)),
            ("120", Duration::from_mins(2)),
            ("2.5", Duration::from_millis(2500)),
            (".5", Duration::from_millis(500)),
            ("0", Duration::ZERO),
            (" 10s ", Duration::from_secs(10)),
        ] {
            assert_eq!(parsed(text), expected, "{text}");
        }
    }

    #[test]
    fn errors_name_the_text_and_give_examples() {
        for (text, reason) in [
            ("", "it is empty"),
            ("ten", "it must start with a number"),
            ("10 parsecs", "'parsecs' is not a unit"),
            ("26hours and more", "a number must come before each unit"),
            ("-5", "a duration cannot be negative"),
            ("-5m", "a duration cannot be negative"),
            ("1,5h", "',' cannot appear in a duration"),
            ("99999999999999999999999", "it is too large"),
            ("h", "it must start with a number"),
        ] {
            let message = parse_duration(text).unwrap_err().to_string();
            assert_eq!(
                message,
                format!(
                    "'{text}' is not a duration: {reason} (e.g. 90s, 15min, 26h, 2d, 1h 30m, \
                     500ms, or 120 for seconds)"
                )
            );
        }
    }

    #[test]
    fn exact_format_reads_back() {
        for (duration, text) in [
            (Duration::from_hours(26), "26h"),
            (Duration::from_hours(48), "2d"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(format_exact(duration), text);
            assert_eq!(parsed(text), duration);
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Config {
        #[serde(deserialize_with = "deserialize")]
        interval: Duration,
        #[serde(default, deserialize_with = "deserialize_option")]
        max_age: Option<Duration>,
    }

    fn config(toml_text: &str) -> Result<Config, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn config_values_are_strings_or_seconds() {
        let c = config("interval = \"1h 30m\"\nmax_age = \"2d\"").unwrap();
        assert_eq!(
            (c.interval, c.max_age),
            (Duration::from_mins(90), Some(Duration::from_hours(48)))
        );
        let c = config("interval = 120").unwrap();
        assert_eq!((c.interval, c.max_age), (Duration::from_mins(2), None));
        let c = config("interval = 2.5\nmax_age = 60").unwrap();
        assert_eq!(
            (c.interval, c.max_age),
            (Duration::from_millis(2500), Some(Duration::from_mins(1)))
        );
        for (bad, says) in [
            ("interval = \"ten\"", "'ten' is not a duration"),
            (
                "interval = -3",
                "'-3' is not a duration: a duration cannot be negative",
            ),
            ("interval = -0.5", "'-0.5' is not a duration"),
            ("interval = true", "expected a duration (e.g. 90s"),
        ] {
            let message = config(bad).unwrap_err();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    proptest! {
        #[test]
        fn whole_units_parse_to_their_value(n in 0u64..1_000_000, unit in 0..6usize) {
            let (suffix, seconds) = [("s", 1), ("sec", 1), ("min", 60), ("m", 60), ("h", 3600), ("d", 86_400)][unit];
            prop_assert_eq!(parsed(&format!("{n}{suffix}")), Duration::from_secs(n * seconds));
        }

        #[test]
        fn plain_seconds_match_the_float(n in 0u32..10_000_000, frac in 0u32..1000) {
            let text = format!("{n}.{frac:03}");
            let expected = Duration::from_secs_f64(text.parse::<f64>().unwrap());
            prop_assert_eq!(parsed(&text), expected);
        }

        #[test]
        fn sums_of_units_add_up(h in 0u64..1000, m in 0u64..60, s in 0u64..60) {
            prop_assert_eq!(
                parsed(&format!("{h}h {m}m {s}s")),
                Duration::from_secs(h * 3600 + m * 60 + s)
            );
        }

        #[test]
        fn exact_format_round_trips(nanos in any::<u64>(), scale in 0..4usize) {
            // Whole seconds, minutes and hours are what people write; any
            // nanosecond count must survive too.
            let divisor = [1, 1_000_000_000, 60_000_000_000, 3_600_000_000_000][scale];
            let duration = Duration::from_nanos(nanos / divisor * divisor);
            prop_assert_eq!(parse_duration(&format_exact(duration)), Ok(duration));
        }

        #[test]
        fn any_text_parses_or_names_itself(text in "[0-9a-z .:-]{0,12}|.{0,12}") {
            match parse_duration(&text) {
                Ok(duration) => prop_assert_eq!(parse_duration(&format_exact(duration)), Ok(duration)),
                Err(e) => {
                    let quoted = format!("'{text}' is not a duration: ");
                    prop_assert!(e.to_string().starts_with(&quoted), "{}", e);
                }
            }
        }
    }
}
