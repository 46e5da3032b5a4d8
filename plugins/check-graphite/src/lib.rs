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
use nightwatch_graphite::{Graphite, GraphiteError, RenderQuery};
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
    let mut report = context.report();
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

    let rules = judge::Rules::from_args(args);
    let names: Vec<&str> = reply.series.iter().map(|s| s.target.as_str()).collect();
    let labels = labels::series_labels(&names, args.label.as_deref());
    for (series, label) in reply.series.iter().zip(&labels) {
        let verdict = judge::judge(series, label, &rules, now);
        report.add_finding(verdict.finding);
        report.add_perfdata(verdict.perfdata);
    }
    if let Some(note) = clock_note {
        report.add_detail(note);
    }
    Ok(report)
}
