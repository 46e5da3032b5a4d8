//! check-graphite: Nagios thresholds on Graphite series that an on-call
//! engineer can trust. Gaps are not zeros, a quiet source is not a cold
//! ham, a probe at its limit is a sensor fault, and Graphite being down is
//! UNKNOWN, never a page about the thing it measures.

pub mod aggregate;
pub mod args;
pub mod forecast;
pub mod judge;
pub mod labels;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nightwatch_core::{Blame, CheckError, Context, Report, State};
use nightwatch_graphite::{Graphite, GraphiteError, RenderQuery, Series};
use nightwatch_http::{HttpError, SecretError};

pub use args::{Aggregation, Args};

/// The word that leads every line this plugin prints.
pub const LABEL: &str = "GRAPHITE";

/// Why the check could not judge anything.
#[derive(Debug, thiserror::Error)]
pub enum CheckGraphiteError {
    #[error(transparent)]
    Graphite(#[from] GraphiteError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Usage(String),
}

impl CheckError for CheckGraphiteError {
    fn blame(&self) -> Blame {
        match self {
            CheckGraphiteError::Graphite(error) => error.blame(),
            CheckGraphiteError::Secret(_) | CheckGraphiteError::Usage(_) => Blame::Usage,
        }
    }
}

/// Time kept back from the request so the plugin's own message, not the
/// watchdog's, reports a slow Graphite: a quarter of the limit, at most this.
const REPLY_MARGIN: Duration = Duration::from_millis(500);

/// Queries Graphite and judges every series the targets match.
pub fn check(args: &Args, context: &Context) -> Result<Report, CheckGraphiteError> {
    if args.agg == Aggregation::Slope && (args.forecast || args.forecast_warn.is_some()) {
        return Err(CheckGraphiteError::Usage(
            "--forecast extrapolates the value; it cannot be combined with --agg slope".into(),
        ));
    }
    let remaining = context.remaining();
    let request_timeout = remaining.saturating_sub(REPLY_MARGIN.min(remaining / 4));
    let config = args.http.config(
        request_timeout,
        concat!("check-graphite/", env!("CARGO_PKG_VERSION")),
    )?;
    let graphite = Graphite::new(&args.url, config)?;
    context.doing(format!("waiting for Graphite at {}", graphite.render_url()));
    nightwatch_core::log::debug!(
        "render {} from {} until {} at {}",
        args.target.join(", "),
        args.from,
        args.until.as_deref().unwrap_or("now"),
        graphite.render_url()
    );
    // `--target a.ham --target a.ham` asks once: the same series twice
    // would be two perfdata entries with one label.
    let mut seen = std::collections::HashSet::new();
    let targets: Vec<String> = args
        .target
        .iter()
        .filter(|target| seen.insert(target.as_str()))
        .cloned()
        .collect();
    let reply = match graphite.render(&RenderQuery {
        targets: &targets,
        from: &args.from,
        until: args.until.as_deref(),
    }) {
        Ok(reply) => reply,
        // A hang is a timeout, judged by --timeout-state like the guard's
        // own, and named with the limit the user set, not the request's
        // share of it.
        Err(GraphiteError::Unreachable(HttpError::Timeout { url, .. })) => {
            return Ok(context
                .report()
                .with_state(args.common.timeout_state)
                .with_summary(format!(
                    "Graphite did not answer {url} within the {} timeout (-t)",
                    nightwatch_core::display::duration(args.common.timeout)
                )));
        }
        Err(error) => return Err(error.into()),
    };

    nightwatch_core::log::debug!(
        "Graphite sent {} series, server time {}",
        reply.series.len(),
        reply
            .server_time
            .map_or_else(|| "unknown".to_owned(), nightwatch_core::display::clock_at)
    );
    let report = context.report();
    let targets = targets.join(", ");
    if reply.series.len() < args.min_series {
        let summary = match reply.series.len() {
            0 => format!("no series matched {targets}"),
            n => format!(
                "only {n} series matched {targets}, expected at least {}",
                args.min_series
            ),
        };
        return Ok(report.with_state(State::Unknown).with_summary(summary));
    }
    let (now, clock_note) = match reply.server_time {
        Some(time) => (time, None),
        None => (
            SystemTime::now(),
            Some("Graphite sent no Date header: ages use this host's clock"),
        ),
    };
    let now = i64::try_from(now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
        .unwrap_or(i64::MAX);

    let mut report = judge_series(report, &reply.series, args, now);
    if let Some(note) = clock_note {
        report.add_detail(note);
    }
    Ok(report)
}

/// Judges every series Graphite sent into `report`: one finding and one
/// perfdata entry each, and one phrase for many healthy series. `now` is
/// the server's time in unix seconds.
#[must_use]
pub fn judge_series(mut report: Report, series: &[Series], args: &Args, now: i64) -> Report {
    let rules = judge::Rules::from_args(args);
    let names: Vec<&str> = series.iter().map(|s| s.target.as_str()).collect();
    let labels = labels::series_labels(&names, args.label.as_deref());
    let mut judged = Vec::with_capacity(labels.len());
    for (series, label) in series.iter().zip(&labels) {
        let verdict = judge::judge(series, label, &rules, now);
        judged.push((label.as_str(), verdict.perfdata.value()));
        report.add_finding(verdict.finding);
        report.add_perfdata(verdict.perfdata);
    }
    if judged.len() > 2
        && let Some(nearest) = nearest_to_trouble(&judged, &rules)
    {
        // Many healthy series read as one phrase naming the one nearest a
        // threshold, not as the first few of a list.
        report = report.with_all_ok_summary("series within thresholds", &nearest);
    }
    report
}

/// `the highest servers.db04.load 2.5`: the series nearest its thresholds,
/// the highest when they bound values from above (the usual case), the
/// lowest when they only bound them from below (`-w 320: -c 315:`).
fn nearest_to_trouble(judged: &[(&str, Option<f64>)], rules: &judge::Rules<'_>) -> Option<String> {
    let thresholds = &rules.thresholds;
    let ranges = [thresholds.warning(), thresholds.critical()];
    let bounded_above = ranges.iter().flatten().any(|r| r.end().is_finite());
    let bounded_below = ranges
        .iter()
        .flatten()
        .any(|r| r.start().is_finite() && r.start() != 0.0);
    let lowest = bounded_below && !bounded_above;
    let valued = judged
        .iter()
        .filter_map(|&(label, value)| value.map(|v| (label, v)));
    let (label, value) = if lowest {
        valued.min_by(|a, b| a.1.total_cmp(&b.1))
    } else {
        valued.max_by(|a, b| a.1.total_cmp(&b.1))
    }?;
    let which = if lowest { "lowest" } else { "highest" };
    Some(format!("the {which} {label} {}", rules.show(value)))
}
