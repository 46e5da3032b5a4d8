//! Judging one series: gaps, staleness, sensor faults, then thresholds and
//! the forecast, into one finding and one perfdata entry.

use std::time::Duration;

use nightwatch_core::display::{approximately, clock, duration, readable, signed};
use nightwatch_core::{Finding, Perfdata, Range, State, Thresholds};
use nightwatch_graphite::Series;

use crate::aggregate::{aggregate, fit};
use crate::args::{Aggregation, Args};
use crate::forecast::time_to_alert;

/// What judging needs from the arguments.
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    pub thresholds: Thresholds,
    pub aggregation: Aggregation,
    pub max_age: Option<Duration>,
    pub stale_state: State,
    pub valid: Option<Range>,
    pub unit: &'a str,
    pub forecast: bool,
    pub forecast_warn: Option<Duration>,
}

impl<'a> Rules<'a> {
    #[must_use]
    pub fn from_args(args: &'a Args) -> Rules<'a> {
        Rules {
            thresholds: args.thresholds.thresholds(),
            aggregation: args.agg,
            max_age: args.max_age,
            stale_state: args.stale_state,
            valid: args.valid,
            unit: &args.unit,
            forecast: args.forecast || args.forecast_warn.is_some(),
            forecast_warn: args.forecast_warn,
        }
    }

    /// A value with its unit: `141.2°F`; a slope per minute: `+0.9°F/min`.
    pub(crate) fn show(&self, value: f64) -> String {
        if self.aggregation == Aggregation::Slope {
            format!("{}{}/min", signed(value), self.unit)
        } else {
            format!("{}{}", readable(value), self.unit)
        }
    }
}

/// The verdict on one series.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub finding: Finding,
    pub perfdata: Perfdata,
}

/// Judges `series`, shown as `name`, at server time `now` (unix seconds).
#[must_use]
pub fn judge(series: &Series, name: &str, rules: &Rules<'_>, now: i64) -> Verdict {
    let points: Vec<(i64, f64)> = series.values().collect();
    let unknown_perfdata = || {
        let mut perfdata = Perfdata::new(name, None).with_thresholds(&rules.thresholds);
        if let Some(valid) = rules.valid {
            perfdata = with_valid_bounds(perfdata, valid);
        }
        perfdata
    };
    let verdict = |finding: Finding, perfdata: Perfdata| Verdict { finding, perfdata };

    let Some(&(newest_time, newest)) = points.last() else {
        let since = series
            .points
            .first()
            .map_or_else(|| "the window's start".to_owned(), |&(t, _)| clock(t));
        let summary = format!("no data for {name} since {since}");
        return verdict(
            Finding::new(State::Unknown, summary.clone()).with_detail(format!(
                "{summary} (series {}: every point is null)",
                series.target
            )),
            unknown_perfdata(),
        );
    };

    let age = Duration::from_secs(u64::try_from(now.saturating_sub(newest_time)).unwrap_or(0));
    if let Some(max_age) = rules.max_age.filter(|max| age > *max) {
        let summary = format!(
            "{name} is stale: no data for {} (newest {} at {})",
            duration(age),
            rules.show_raw(newest),
            clock(newest_time)
        );
        return verdict(
            Finding::new(rules.stale_state, summary.clone()).with_detail(format!(
                "{summary}, older than --max-age {}",
                duration(max_age)
            )),
            unknown_perfdata(),
        );
    }

    if let Some(valid) = rules.valid
        && let Some(fault) = sensor_fault(&points, valid, name, rules)
    {
        {
            return verdict(
                Finding::new(State::Unknown, fault.clone()).with_detail(format!(
                    "{fault}: a sensor fault, not judged against the thresholds"
                )),
                unknown_perfdata(),
            );
        }
    }

    let Some(value) = aggregate(rules.aggregation, &points) else {
        let summary = format!("{name} has one point, too few for a slope");
        return verdict(Finding::new(State::Unknown, summary), unknown_perfdata());
    };

    let judged = rules.thresholds.judge(value);
    let mut state = judged.state;
    let violation = judged.violation(value);
    let mut summary = if violation.is_empty() {
        format!("{name} {}", rules.show(value))
    } else {
        format!("{name} {} {violation}", rules.show(value))
    };
    if rules.forecast && rules.aggregation != Aggregation::Slope {
        let (forecast, critical_soon) = forecast_text(&points, value, rules);
        summary.push_str(&forecast);
        if critical_soon && state == State::Ok {
            state = State::Warning;
        }
    }
    let first = points.first().map_or(newest_time, |&(t, _)| t);
    let detail = format!(
        "{summary} ({} of {} points {}–{}, series {})",
        rules.aggregation.as_str(),
        points.len(),
        clock(first),
        clock(newest_time),
        series.target
    );
    let mut perfdata = Perfdata::new(name, Some(value)).with_thresholds(&rules.thresholds);
    if let (Some(valid), false) = (rules.valid, rules.aggregation == Aggregation::Slope) {
        perfdata = with_valid_bounds(perfdata, valid);
    }
    verdict(Finding::new(state, summary).with_detail(detail), perfdata)
}

impl Rules<'_> {
    fn show_raw(&self, value: f64) -> String {
        format!("{}{}", readable(value), self.unit)
    }
}

/// A sensor fault rather than a measurement: the newest reading outside
/// the plausible range; every reading of the window stuck at one of its
/// edges; or the newest at an edge when the verdict would depend on the
/// true value beyond it (a DS18B20 pinned at 257 °F says nothing about
/// whether the oven has reached 315 °F, but does say the ham is above 140).
fn sensor_fault(
    points: &[(i64, f64)],
    valid: Range,
    name: &str,
    rules: &Rules<'_>,
) -> Option<String> {
    let &(_, newest) = points.last()?;
    if valid.alerts(newest) {
        return Some(format!(
            "{name} probe reads {}, outside its valid range {valid}",
            rules.show_raw(newest)
        ));
    }
    let at = |value: f64, edge: f64| {
        edge.is_finite() && (value - edge).abs() <= 1e-9 * edge.abs().max(1.0)
    };
    let (edge, upper) = [(valid.start(), false), (valid.end(), true)]
        .into_iter()
        .find(|&(edge, _)| at(newest, edge))?;
    let whole_window = points.iter().all(|&(_, v)| at(v, edge));
    let unknowable = rules.aggregation == Aggregation::Last
        && !verdict_is_certain(&rules.thresholds, edge, upper);
    (whole_window || unknowable).then(|| {
        format!(
            "{name} probe reads {}, the edge of its range",
            rules.show_raw(newest)
        )
    })
}

/// Would every true value from `edge` outwards (upwards when `upper`) get
/// the verdict the edge itself gets? The verdict only changes at a range's
/// ends, so those, their neighbours and infinity are all that need asking.
fn verdict_is_certain(thresholds: &Thresholds, edge: f64, upper: bool) -> bool {
    let beyond = |v: f64| if upper { v >= edge } else { v <= edge };
    let mut samples = vec![if upper {
        f64::INFINITY
    } else {
        f64::NEG_INFINITY
    }];
    for range in [thresholds.warning(), thresholds.critical()]
        .into_iter()
        .flatten()
    {
        for end in [range.start(), range.end()] {
            if end.is_finite() {
                samples.extend([end.next_down(), end, end.next_up()]);
            }
        }
    }
    let at_edge = thresholds.judge(edge).state;
    samples
        .into_iter()
        .filter(|&v| beyond(v))
        .all(|v| thresholds.judge(v).state == at_edge)
}

/// `, +0.9°F/min: WARNING in ~4 min, CRITICAL in ~10 min`, and whether the
/// critical crossing falls within `--forecast-warn`.
fn forecast_text(points: &[(i64, f64)], value: f64, rules: &Rules<'_>) -> (String, bool) {
    let Some(trend) = fit(points) else {
        return (", no trend yet".to_owned(), false);
    };
    let rate = trend.rate_per_second;
    let mut ahead = Vec::new();
    let mut critical_soon = false;
    for (state, range) in [
        (State::Warning, rules.thresholds.warning()),
        (State::Critical, rules.thresholds.critical()),
    ] {
        let Some(until) = range.and_then(|r| time_to_alert(&r, value, rate)) else {
            continue;
        };
        if until.is_zero() {
            continue;
        }
        if state == State::Critical && rules.forecast_warn.is_some_and(|within| until <= within) {
            critical_soon = true;
        }
        ahead.push(format!("{state} in {}", approximately(until)));
    }
    let per_minute = format!("{}{}/min", signed(trend.per_minute()), rules.unit);
    let outlook = if ahead.is_empty() {
        "no threshold ahead".to_owned()
    } else {
        ahead.join(", ")
    };
    (format!(", {per_minute}: {outlook}"), critical_soon)
}

fn with_valid_bounds(perfdata: Perfdata, valid: Range) -> Perfdata {
    perfdata.with_min(valid.start()).with_max(valid.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(warning: &str, critical: &str) -> Rules<'static> {
        Rules {
            thresholds: Thresholds::new(warning.parse().ok(), critical.parse().ok()),
            aggregation: Aggregation::Last,
            max_age: Some(Duration::from_mins(2)),
            stale_state: State::Unknown,
            valid: "-67:257".parse().ok(),
            unit: "°F",
            forecast: false,
            forecast_warn: None,
        }
    }

    fn end_of(values: &[f64]) -> i64 {
        1000 + i64::try_from(values.len()).expect("a short window")
    }

    fn series(values: &[f64]) -> Series {
        let points = values.iter().zip(1000..).map(|(&v, t)| (t, Some(v)));
        Series {
            target: "christmaspi.temperature.x".into(),
            points: points.chain([(end_of(values), None)]).collect(),
        }
    }

    fn verdict(values: &[f64], rules: &Rules<'_>, name: &str) -> (State, String) {
        let now = end_of(values);
        let v = judge(&series(values), name, rules, now);
        (v.finding.state, v.finding.summary)
    }

    #[test]
    fn an_oven_that_just_reached_its_probes_limit_is_a_sensor_fault() {
        // Heating, then pinned at 257 °F: the window is not all at the edge,
        // but below 315 cannot be told from above 320 at the probe's limit.
        let oven = rules("320:", "315:");
        let (state, summary) = verdict(&[240.0, 250.0, 256.0, 257.0], &oven, "oven");
        assert_eq!(
            (state, summary.as_str()),
            (
                State::Unknown,
                "oven probe reads 257.0°F, the edge of its range"
            )
        );
        let (state, _) = verdict(&[250.0, 256.0], &oven, "oven");
        assert_eq!(
            state,
            State::Critical,
            "below the edge the oven is measured, and cold"
        );
    }

    #[test]
    fn a_ham_at_the_probes_limit_is_certainly_above_140() {
        let ham = rules("135", "140");
        let (state, summary) = verdict(&[250.0, 257.0], &ham, "ham");
        assert_eq!(
            (state, summary.as_str()),
            (State::Critical, "ham 257.0°F above 140")
        );
        let (state, _) = verdict(&[257.0, 257.0], &ham, "ham");
        assert_eq!(
            state,
            State::Unknown,
            "stuck at the edge the whole window: a fault"
        );
    }

    #[test]
    fn outside_the_valid_range_and_gaps_and_staleness() {
        let ham = rules("135", "140");
        let (state, summary) = verdict(&[300.0], &ham, "ham");
        assert_eq!(state, State::Unknown);
        assert_eq!(
            summary,
            "ham probe reads 300.0°F, outside its valid range -67:257"
        );
        let empty = Series {
            target: "t".into(),
            points: vec![(1000, None), (1001, None)],
        };
        let v = judge(&empty, "ham", &ham, 1002);
        assert_eq!(
            v.finding.summary,
            "no data for ham since 1970-01-01T00:16:40Z"
        );
        let v = judge(&series(&[120.0]), "ham", &ham, 1002 + 600);
        assert_eq!(v.finding.state, State::Unknown);
        assert!(
            v.finding
                .summary
                .starts_with("ham is stale: no data for 10m 2s"),
            "{}",
            v.finding.summary
        );
    }
}
