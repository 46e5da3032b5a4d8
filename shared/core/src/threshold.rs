//! Warning and critical thresholds, judged critical first, on numbers or on
//! durations (ages, lateness) written the humantime way (`-w 26h -c 2d`).
//!
//! Duration thresholds know they are durations: a violation reads
//! `above 26h` as the user wrote it, and perfdata built with them is in
//! seconds with the `s` unit. A plugin cannot forget either, because both
//! come from the [`Thresholds`] value, not from the plugin.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::duration::{format_exact, parse_duration};
use crate::range::{Range, RangeError, format_number, parse_number};
use crate::state::State;

/// What a threshold's numbers measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// Plain numbers: temperatures, counts.
    #[default]
    Number,
    /// Durations, held in seconds.
    Duration,
}

/// A warning and a critical range; either may be absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Thresholds {
    warning: Option<Limit>,
    critical: Option<Limit>,
    unit: Unit,
}

/// One range, with its text as written when that is not how a number
/// prints (durations: `26h` stays `26h`, not `93600`).
#[derive(Debug, Clone, PartialEq)]
struct Limit {
    range: Range,
    written: Option<String>,
}

/// The verdict on one value: its state and, when not OK, the range it broke.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub state: State,
    pub broken: Option<Range>,
    written: Option<String>,
}

impl Judgement {
    /// `above 140`, `below 315`, `above 26h` for the first line; empty when
    /// OK. Duration ends read as they were written.
    #[must_use]
    pub fn violation(&self, value: f64) -> String {
        let Some(range) = self.broken.filter(|r| r.alerts(value)) else {
            return String::new();
        };
        let Some(written) = &self.written else {
            return range.violation(value).unwrap_or_default();
        };
        let body = written.strip_prefix('@').unwrap_or(written);
        // The grammar splits on the first colon, and no duration has one.
        let (start, end) = body.split_once(':').unwrap_or(("", body));
        if range.alerts_inside() {
            format!("inside {body}")
        } else if value > range.end() {
            format!("above {end}")
        } else if value < range.start() {
            format!("below {}", if start.is_empty() { "0s" } else { start })
        } else {
            "is not a number".to_owned()
        }
    }
}

impl Thresholds {
    /// Thresholds on plain numbers.
    #[must_use]
    pub fn new(warning: Option<Range>, critical: Option<Range>) -> Thresholds {
        let limit = |range: Option<Range>| {
            range.map(|range| Limit {
                range,
                written: None,
            })
        };
        Thresholds {
            warning: limit(warning),
            critical: limit(critical),
            unit: Unit::Number,
        }
    }

    /// Thresholds on durations, held in seconds and shown as written.
    #[must_use]
    pub fn from_durations(
        warning: Option<DurationRange>,
        critical: Option<DurationRange>,
    ) -> Thresholds {
        let limit = |range: Option<DurationRange>| {
            range.map(|d| Limit {
                range: d.range,
                written: Some(d.text),
            })
        };
        Thresholds {
            warning: limit(warning),
            critical: limit(critical),
            unit: Unit::Duration,
        }
    }

    /// The warning range (in seconds for durations).
    #[must_use]
    pub fn warning(&self) -> Option<Range> {
        self.warning.as_ref().map(|l| l.range)
    }

    /// The critical range (in seconds for durations).
    #[must_use]
    pub fn critical(&self) -> Option<Range> {
        self.critical.as_ref().map(|l| l.range)
    }

    /// Whether the ranges hold numbers or durations.
    #[must_use]
    pub fn unit(&self) -> Unit {
        self.unit
    }

    /// Critical is judged before warning, as every Monitoring Plugin does.
    /// For duration thresholds `value` is in seconds.
    #[must_use]
    pub fn judge(&self, value: f64) -> Judgement {
        let tripped =
            |limit: &Option<Limit>| limit.as_ref().filter(|l| l.range.alerts(value)).cloned();
        let (state, limit) = if let Some(limit) = tripped(&self.critical) {
            (State::Critical, Some(limit))
        } else if let Some(limit) = tripped(&self.warning) {
            (State::Warning, Some(limit))
        } else {
            (State::Ok, None)
        };
        Judgement {
            state,
            broken: limit.as_ref().map(|l| l.range),
            written: limit.and_then(|l| l.written),
        }
    }

    /// Judges an age or other duration.
    #[must_use]
    pub fn judge_duration(&self, value: Duration) -> Judgement {
        self.judge(value.as_secs_f64())
    }
}

/// A range whose ends are durations: `26h`, `@1h:2d`, `30min:`, `~:5s`; a
/// bare number is seconds and a leading `-` makes an end negative (early
/// rather than late). Held over seconds; printed as it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationRange {
    range: Range,
    text: String,
}

impl DurationRange {
    /// A range over seconds built in code, printed in the largest unit that
    /// divides each end (`26h`, `2d`, `90s`); fractions as plain seconds.
    #[must_use]
    pub fn new(range: Range) -> DurationRange {
        struct Canonical(Range);
        impl fmt::Display for Canonical {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_with(f, format_seconds)
            }
        }
        DurationRange {
            range,
            text: Canonical(range).to_string(),
        }
    }

    /// The range over seconds.
    #[must_use]
    pub fn range(&self) -> Range {
        self.range
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    if let Ok(seconds) = parse_number(text) {
        return Ok(seconds);
    }
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text),
    };
    parse_duration(unsigned)
        .map(|d| sign * d.as_secs_f64())
        .map_err(|e| e.to_string())
}

fn format_seconds(seconds: f64) -> String {
    if seconds.fract() == 0.0 && seconds.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // whole, in range
        let whole = format_exact(Duration::from_secs(seconds.abs() as u64));
        if seconds < 0.0 {
            format!("-{whole}")
        } else {
            whole
        }
    } else {
        format_number(seconds)
    }
}

impl FromStr for DurationRange {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Range::parse_with(text, parse_seconds).map(|range| DurationRange {
            range,
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for DurationRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `-w`/`-c` on numbers, for a plugin to `#[command(flatten)]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ThresholdArgs {
    /// Warning range (Nagios syntax: 135 is above 135, 320: is below 320)
    #[arg(short = 'w', long, value_name = "RANGE", allow_hyphen_values = true)]
    pub warning: Option<Range>,

    /// Critical range, judged before warning
    #[arg(short = 'c', long, value_name = "RANGE", allow_hyphen_values = true)]
    pub critical: Option<Range>,
}

impl ThresholdArgs {
    #[must_use]
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::new(self.warning, self.critical)
    }
}

/// `-w`/`-c` on ages, lateness and other durations, for a plugin to
/// `#[command(flatten)]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AgeThresholdArgs {
    /// Warning above this age (26h, 2d, 90m, 120 for seconds; Nagios range
    /// syntax, e.g. 1h:26h)
    #[arg(short = 'w', long, value_name = "DURATION", allow_hyphen_values = true)]
    pub warning: Option<DurationRange>,

    /// Critical above this age, judged before warning
    #[arg(short = 'c', long, value_name = "DURATION", allow_hyphen_values = true)]
    pub critical: Option<DurationRange>,
}

impl AgeThresholdArgs {
    #[must_use]
    pub fn thresholds(&self) -> Thresholds {
        Thresholds::from_durations(self.warning.clone(), self.critical.clone())
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // parsed ends are exact
mod tests {
    use super::*;
    use State::{Critical, Ok, Warning};
    use proptest::prelude::*;

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
        let t = Thresholds::from_durations(Some(w.clone()), Some(c));
        assert_eq!(t.unit(), Unit::Duration);
        assert_eq!(t.judge_duration(Duration::from_hours(1)).state, Ok);
        assert_eq!(t.judge_duration(Duration::from_hours(27)).state, Warning);
        assert_eq!(t.judge_duration(Duration::from_hours(49)).state, Critical);
        // Printed as written (this used to read "1day 2h").
        assert_eq!(w.to_string(), "26h");
        assert_eq!(w.range().end(), 93_600.0);
        assert_eq!(
            "@30min:1h".parse::<DurationRange>().unwrap().to_string(),
            "@30min:1h"
        );
        assert_eq!("90".parse::<DurationRange>().unwrap().range().end(), 90.0);
        assert_eq!(
            "1h 30m:".parse::<DurationRange>().unwrap().range().start(),
            5400.0
        );
        let err = "26hours and more"
            .parse::<DurationRange>()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid range '26hours and more': "),
            "{err}"
        );
    }

    #[test]
    fn a_late_host_reads_in_the_units_given() {
        let t = Thresholds::from_durations("26h".parse().ok(), "2d".parse().ok());
        let age = Duration::from_hours(27);
        let judged = t.judge_duration(age);
        let line = format!(
            "db01 last seen {}, {}",
            crate::display::ago(age),
            judged.violation(age.as_secs_f64())
        );
        assert_eq!(line, "db01 last seen 27h ago, above 26h");
        let judged = t.judge_duration(Duration::from_hours(50));
        assert_eq!(judged.violation(180_000.0), "above 2d");

        let t = Thresholds::from_durations("30min:".parse().ok(), "@1h:2h".parse().ok());
        assert_eq!(t.judge(60.0).violation(60.0), "below 30min");
        assert_eq!(t.judge(5400.0).violation(5400.0), "inside 1h:2h");
        let t = Thresholds::from_durations("-5m:5m".parse().ok(), None);
        assert_eq!(t.judge(-600.0).violation(-600.0), "below -5m");
        assert_eq!(t.judge(0.0).violation(0.0), "");
    }

    #[test]
    fn duration_perfdata_is_seconds_with_its_unit() {
        let t = Thresholds::from_durations("26h".parse().ok(), "2d".parse().ok());
        let p = crate::Perfdata::new("db01_age", Some(97_200.0)).with_thresholds(&t);
        assert_eq!(p.to_string(), "db01_age=97200s;93600;172800");
        let numeric = Thresholds::new("135".parse().ok(), None);
        let p = crate::Perfdata::new("ham", Some(1.0)).with_thresholds(&numeric);
        assert_eq!(p.to_string(), "ham=1;135");
    }

    #[derive(Debug, clap::Parser)]
    struct Numbers {
        #[command(flatten)]
        thresholds: ThresholdArgs,
    }

    #[derive(Debug, clap::Parser)]
    struct Ages {
        #[command(flatten)]
        thresholds: AgeThresholdArgs,
    }

    #[test]
    fn flattened_arguments_take_negative_values() {
        use clap::Parser as _;
        let args = Numbers::try_parse_from(["x", "-w", "-10:-2", "--critical", "-30:20"]).unwrap();
        let t = args.thresholds.thresholds();
        assert_eq!(
            (t.judge(-29.0).state, t.judge(21.0).state),
            (Warning, Critical)
        );
        let args = Ages::try_parse_from(["x", "-w", "26h", "-c", "2d"]).unwrap();
        let t = args.thresholds.thresholds();
        assert_eq!(t.unit(), Unit::Duration);
        assert_eq!(
            t.judge_duration(Duration::from_hours(27))
                .violation(97_200.0),
            "above 26h"
        );
        let args = Ages::try_parse_from(["x", "-w", "-5m:5m"]).unwrap();
        assert_eq!(args.thresholds.warning.unwrap().range().start(), -300.0);
        let err = Ages::try_parse_from(["x", "-c", "2 days-ish"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid range '2 days-ish'"), "{err}");
        let err = Numbers::try_parse_from(["x", "-c", "26h"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid range '26h'"), "{err}");
    }

    #[test]
    fn help_fits_80_columns() {
        use clap::CommandFactory as _;
        for command in [Numbers::command(), Ages::command()] {
            let help = command.term_width(80).render_help().to_string();
            for line in help.lines() {
                assert!(line.chars().count() <= 80, "{line:?}");
            }
            assert!(help.contains("-w, --warning <"), "{help}");
        }
    }

    proptest! {
        #[test]
        fn duration_ranges_print_then_parse_to_the_same_range(
            a in -1e7..1e7f64, b in -1e7..1e7f64, whole in any::<bool>(), inside in any::<bool>(), open in 0..4u8,
        ) {
            let (a, b) = if whole { (a.trunc(), b.trunc()) } else { (a, b) };
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let lo = if open & 1 == 1 { f64::NEG_INFINITY } else { lo };
            let hi = if open & 2 == 2 { f64::INFINITY } else { hi };
            let range = Range::new(lo, hi, inside);
            let text = DurationRange::new(range).to_string();
            let back: DurationRange = text.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(back.range(), range, "printed as {}", text);
            prop_assert_eq!(back.to_string(), text);
        }

        #[test]
        fn written_durations_judge_as_their_seconds(n in 0u64..100_000, unit in 0..4usize, age in 0u64..10_000_000) {
            let (suffix, size) = [("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)][unit];
            let t = Thresholds::from_durations(format!("{n}{suffix}").parse().ok(), None);
            let numeric = Thresholds::new(Some(Range::new(0.0, (n * size) as f64, false)), None);
            let age = age as f64;
            prop_assert_eq!(t.judge(age).state, numeric.judge(age).state);
            if age > (n * size) as f64 {
                prop_assert_eq!(t.judge(age).violation(age), format!("above {n}{suffix}"));
            }
        }
    }
}
