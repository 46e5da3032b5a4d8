//! Judging one series: gaps, staleness, sensor faults, then thresholds and
//! the forecast, into one finding and one perfdata entry.

use std::time::{Duration, UNIX_EPOCH};

use nightwatch_core::{Finding, Perfdata, Range, State, Thresholds};
use nightwatch_graphite::Series;

use crate::aggregate::{aggregate, fit};
use crate::args::{Aggregation, Args};
use crate::forecast::{approximately, time_to_alert};

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
            thresholds: Thresholds::new(args.warning, args.critical),
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
    fn show(&self, value: f64) -> String {
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

    let age = Duration::from_secs(u64::try_from(now - newest_time).unwrap_or(0));
    if let Some(max_age) = rules.max_age.filter(|max| age > *max) {
        let summary = format!(
            "{name} is stale: no data for {} (newest {} at {})",
            humantime::format_duration(age),
            rules.show_raw(newest),
            clock(newest_time)
        );
        return verdict(
            Finding::new(rules.stale_state, summary.clone()).with_detail(format!(
                "{summary}, older than --max-age {}",
                humantime::format_duration(max_age)
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

/// A newest reading outside the plausible range, or every reading of the
/// window stuck at one of its edges (a DS18B20 at 257 °F): the probe, not
/// the oven, is the news.
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
    let at = |edge: f64| {
        edge.is_finite()
            && points
                .iter()
                .all(|&(_, v)| (v - edge).abs() <= 1e-9 * edge.abs().max(1.0))
    };
    [valid.start(), valid.end()]
        .into_iter()
        .find(|&edge| at(edge))
        .map(|_| {
            format!(
                "{name} probe reads {}, the edge of its range",
                rules.show_raw(newest)
            )
        })
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
        (State::Warning, rules.thresholds.warning),
        (State::Critical, rules.thresholds.critical),
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

/// A value for people: at most three decimals, at least one.
#[must_use]
pub fn readable(value: f64) -> String {
    if !value.is_finite() {
        return if value > 0.0 {
            "+infinity".into()
        } else {
            "-infinity".into()
        };
    }
    let magnitude = value.abs();
    let decimals = if magnitude != 0.0 && magnitude < 0.01 {
        6
    } else {
        3
    };
    let mut text = format!("{value:.decimals$}");
    while text.ends_with('0') && !text.ends_with(".0") {
        text.pop();
    }
    if text == "-0.0" { "0.0".into() } else { text }
}

fn signed(value: f64) -> String {
    let text = readable(value);
    if value > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// A unix time as people on call read it: `2026-12-01T19:03:21Z`.
fn clock(unix: i64) -> String {
    u64::try_from(unix).map_or_else(
        |_| unix.to_string(),
        |secs| {
            humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
        },
    )
}
