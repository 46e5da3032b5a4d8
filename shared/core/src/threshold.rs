//! Warning and critical thresholds, judged critical first, on numbers or on
//! durations (ages, latencies) written the humantime way (`-w 26h -c 2d`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::range::{Range, RangeError};
use crate::state::State;

/// A warning and a critical range; either may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thresholds {
    pub warning: Option<Range>,
    pub critical: Option<Range>,
}

/// The verdict on one value: its state and, when not OK, the range it broke.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    pub state: State,
    pub broken: Option<Range>,
}

impl Judgement {
    /// `above 140` or `below 315` for the first line; empty when OK.
    #[must_use]
    pub fn violation(&self, value: f64) -> String {
        self.broken
            .and_then(|range| range.violation(value))
            .unwrap_or_default()
    }
}

impl Thresholds {
    #[must_use]
    pub fn new(warning: Option<Range>, critical: Option<Range>) -> Thresholds {
        Thresholds { warning, critical }
    }

    /// Duration thresholds, held in seconds.
    #[must_use]
    pub fn from_durations(
        warning: Option<DurationRange>,
        critical: Option<DurationRange>,
    ) -> Thresholds {
        Thresholds {
            warning: warning.map(|d| d.0),
            critical: critical.map(|d| d.0),
        }
    }

    /// Critical is judged before warning, as every Monitoring Plugin does.
    #[must_use]
    pub fn judge(&self, value: f64) -> Judgement {
        let tripped = |range: Option<Range>| range.filter(|r| r.alerts(value));
        if let Some(range) = tripped(self.critical) {
            Judgement {
                state: State::Critical,
                broken: Some(range),
            }
        } else if let Some(range) = tripped(self.warning) {
            Judgement {
                state: State::Warning,
                broken: Some(range),
            }
        } else {
            Judgement {
                state: State::Ok,
                broken: None,
            }
        }
    }

    /// Judges an age or other duration against thresholds built with
    /// [`Thresholds::from_durations`].
    #[must_use]
    pub fn judge_duration(&self, value: Duration) -> Judgement {
        self.judge(value.as_secs_f64())
    }
}

/// A range whose ends are durations: `26h`, `@1h:2h`, `30min:`, `~:5s`.
/// A bare number is seconds. Held as a [`Range`] over seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationRange(pub Range);

fn parse_seconds(text: &str) -> Result<f64, String> {
    if let Ok(seconds) = crate::range::parse_number(text) {
        return Ok(seconds);
    }
    humantime::parse_duration(text)
        .map(|d| d.as_secs_f64())
        .map_err(|e| format!("'{text}' is not a duration ({e}; e.g. 90s, 15min, 26h, 2d)"))
}

fn format_seconds(seconds: f64) -> String {
    if seconds >= 0.0 && seconds.fract() == 0.0 && seconds < 1e15 {
        // Whole seconds print as humantime (`1day 2h`), which reads back.
        humantime::format_duration(Duration::from_secs_f64(seconds)).to_string()
    } else {
        crate::range::format_number(seconds)
    }
}

impl FromStr for DurationRange {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Range::parse_with(text, parse_seconds).map(DurationRange)
    }
}

impl fmt::Display for DurationRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_with(f, format_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::{Critical, Ok, Warning};

    fn thresholds(warning: &str, critical: &str) -> Thresholds {
        Thresholds::new(warning.parse().ok(), critical.parse().ok())
    }

    #[test]
    fn warn_negative_band_inside_wider_critical() {
        let t = thresholds("-10:-2", "-30:20");
        for (value, state) in [
            (-31.0, Critical),
            (-29.0, Warning),
            (-10.0, Ok),
            (-2.0, Ok),
            (-1.0, Warning),
            (21.0, Critical),
        ] {
            assert_eq!(t.judge(value).state, state, "{value}");
        }
    }

    #[test]
    fn over_means_strictly_greater() {
        let t = thresholds("30", "60");
        assert_eq!(t.judge(30.0).state, Ok);
        assert_eq!(t.judge(30.0001).state, Warning);
        assert_eq!(t.judge(69.0).state, Critical);
        assert_eq!(thresholds("1", "").judge(1.0).state, Ok);
    }

    #[test]
    fn the_christmas_ham_and_oven() {
        let ham = thresholds("135", "140");
        assert_eq!(ham.judge(135.0).state, Ok);
        assert_eq!(ham.judge(135.01).state, Warning);
        assert_eq!(ham.judge(140.0).state, Warning);
        let judged = ham.judge(141.2);
        assert_eq!(
            (judged.state, judged.violation(141.2).as_str()),
            (Critical, "above 140")
        );

        let oven = thresholds("320:", "315:");
        assert_eq!(oven.judge(325.0).state, Ok);
        assert_eq!(oven.judge(319.0).state, Warning);
        let judged = oven.judge(257.0);
        assert_eq!(
            (judged.state, judged.violation(257.0).as_str()),
            (Critical, "below 315")
        );
    }

    #[test]
    fn ages_as_durations() {
        let w: DurationRange = "26h".parse().unwrap();
        let c: DurationRange = "2d".parse().unwrap();
        let t = Thresholds::from_durations(Some(w), Some(c));
        assert_eq!(t.judge_duration(Duration::from_hours(1)).state, Ok);
        assert_eq!(t.judge_duration(Duration::from_hours(27)).state, Warning);
        assert_eq!(t.judge_duration(Duration::from_hours(49)).state, Critical);
        assert_eq!(w.to_string(), "1day 2h");
        assert_eq!("1day 2h".parse::<DurationRange>().unwrap(), w);
        assert_eq!(
            "@30min:1h".parse::<DurationRange>().unwrap().to_string(),
            "@30m:1h"
        );
        assert_eq!("90".parse::<DurationRange>().unwrap().to_string(), "1m 30s");
        let err = "26hours and more"
            .parse::<DurationRange>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("'26hours and more'"), "{err}");
    }
}
