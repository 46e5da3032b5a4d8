//! check-audit-freshness: pages on silence, when a job or host stops
//! leaving its audit trail. It handles the three cases the usual tools
//! miss: a group *expected but never seen* (`--expect`), a *clock ahead*
//! (an event from the future never makes a group fresh, and is a WARNING),
//! and *group truncation* (every group is paged through, never cut at a
//! terms aggregation's size).
//!
//! The events come from `nightwatch_events` (Elasticsearch/`OpenSearch`,
//! log files with their rotations, Graphite); ages are judged with the
//! shared duration thresholds, or against a cron `--schedule` in a real
//! time zone ([`schedule`]).

pub mod args;
pub mod judge;
pub mod schedule;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use nightwatch_core::{Blame, CheckError, Context, Report};
use nightwatch_events::{
    Event, EventSource, EventsError, NewestPerGroup, ReadStats, Window, graphite::newest_per_series,
};

pub use args::{Args, SourceKind};
use judge::{Completeness, Observed, Rules};
use schedule::Schedule;

/// The word that leads every line this plugin prints.
pub const LABEL: &str = "AUDIT";

const USER_AGENT: &str = concat!("check-audit-freshness/", env!("CARGO_PKG_VERSION"));

/// Time kept back from a request so the plugin's own message, not the
/// watchdog's, reports a slow server.
const REPLY_MARGIN: Duration = Duration::from_millis(500);

/// How far ahead events are looked for, to see clocks that are wrong: a
/// daily index named by a future event's date is searched too.
const FUTURE_LOOKAHEAD: SignedDuration = SignedDuration::from_hours(48);

/// Why the check could not judge anything.
#[derive(Debug, thiserror::Error)]
pub enum FreshnessError {
    #[error(transparent)]
    Events(#[from] EventsError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot read the --expect-file {}: {source}", path.display())]
    ExpectFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CheckError for FreshnessError {
    fn blame(&self) -> Blame {
        match self {
            FreshnessError::Events(e) => e.blame(),
            FreshnessError::Usage(_) | FreshnessError::ExpectFile { .. } => Blame::Usage,
        }
    }
}

/// Reads the newest events and judges every group.
pub fn check(args: &Args, context: &Context) -> Result<Report, FreshnessError> {
    let grouped = grouped(args)?;
    let expected = expected(args)?;
    if !expected.is_empty() && !grouped {
        return Err(FreshnessError::Usage(
            "--expect names groups, but the events have none: give --group-by FIELD (es, json lines) or a (?P<group>…) in --match".into(),
        ));
    }
    if !args.require_fields.is_empty() && args.source == SourceKind::Graphite {
        return Err(FreshnessError::Usage(
            "--require-fields checks events' fields: Graphite points have none".into(),
        ));
    }
    let schedule = match &args.schedule {
        Some(pattern) => Some(
            Schedule::new(pattern, schedule_zone(args)?, args.grace)
                .map_err(FreshnessError::Usage)?,
        ),
        None => None,
    };
    let timeout = context
        .remaining()
        .saturating_sub(REPLY_MARGIN)
        .max(Duration::from_millis(100));
    let skew = SignedDuration::try_from(args.max_skew).unwrap_or(SignedDuration::MAX);

    let (answer, now, sample) = match args.source {
        SourceKind::Graphite => {
            let (answer, now) = read_graphite(args, timeout)?;
            (answer, now, None)
        }
        SourceKind::Es | SourceKind::File => {
            let now = args.at.unwrap_or_else(Timestamp::now);
            let source: Box<dyn EventSource> = if args.source == SourceKind::Es {
                Box::new(
                    args.events
                        .es_source(args.group_by.as_deref(), timeout, USER_AGENT)?,
                )
            } else {
                Box::new(
                    args.events
                        .file_source(args.group_by.as_deref())?
                        .reading_at(now),
                )
            };
            context.doing(format!("reading {}", source.describe()));
            let from = now
                .checked_sub(SignedDuration::try_from(args.lookback).unwrap_or(SignedDuration::MAX))
                .unwrap_or(Timestamp::MIN);
            let to = now.checked_add(FUTURE_LOOKAHEAD).unwrap_or(Timestamp::MAX);
            let not_after = now.checked_add(skew).unwrap_or(Timestamp::MAX);
            let answer = source.newest_per_group(&Window::new(from, to), not_after, None)?;
            let sample = if args.require_fields.is_empty() {
                None
            } else {
                let recent =
                    source.events_in(&Window::new(from, not_after), None, args.sample as usize)?;
                Some(completeness(&recent.events, &args.require_fields))
            };
            (answer, now, sample)
        }
    };
    log_stats(&answer.stats);

    let rules = Rules {
        thresholds: args.thresholds.thresholds(),
        schedule,
        late_state: args.late_state,
        max_skew: args.max_skew,
        lookback: args.lookback,
        what: args.what.clone(),
        noun: noun(args).to_owned(),
    };
    let observed = Observed {
        groups: answer.groups,
        expected,
        retired: args.retired.clone(),
        grouped,
    };
    let mut report = context.report();
    judge::judge(&observed, &rules, now, &mut report);
    if let Some(sample) = sample {
        judge::judge_completeness(
            &sample,
            &args.require_fields,
            args.max_incomplete,
            &mut report,
        );
    }
    add_skipped(&answer.stats, &mut report);
    Ok(report)
}

/// Whether the events have groups.
fn grouped(args: &Args) -> Result<bool, FreshnessError> {
    Ok(match args.source {
        SourceKind::Graphite => {
            if args.group_by.is_some() {
                return Err(FreshnessError::Usage(
                    "--group-by has no meaning for Graphite: each series is a group".into(),
                ));
            }
            true
        }
        SourceKind::Es => args.group_by.is_some(),
        SourceKind::File => match args.events.line_format {
            nightwatch_events::LineFormatArg::Json => args.group_by.is_some(),
            nightwatch_events::LineFormatArg::Text => args
                .events
                .matches
                .as_ref()
                .is_some_and(|r| r.capture_names().flatten().any(|n| n == "group")),
        },
    })
}

/// `--expect` and the lines of `--expect-file`.
fn expected(args: &Args) -> Result<Vec<String>, FreshnessError> {
    let mut expected: Vec<String> = args
        .expect
        .iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    if let Some(path) = &args.expect_file {
        expected.extend(read_expect_file(path)?);
    }
    expected.dedup();
    Ok(expected)
}

fn read_expect_file(path: &Path) -> Result<Vec<String>, FreshnessError> {
    let text = std::fs::read_to_string(path).map_err(|source| FreshnessError::ExpectFile {
        path: path.to_owned(),
        source,
    })?;
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect())
}

/// `--tz`, else this host's zone; a host whose zone cannot be told is an
/// error, never silent UTC.
fn schedule_zone(args: &Args) -> Result<TimeZone, FreshnessError> {
    match &args.tz {
        Some(zone) => Ok(zone.clone()),
        None => TimeZone::try_system().map_err(|e| {
            FreshnessError::Usage(format!(
                "cannot tell this host's time zone ({e}): give --tz ZONE with --schedule"
            ))
        }),
    }
}

fn read_graphite(
    args: &Args,
    timeout: Duration,
) -> Result<(NewestPerGroup, Timestamp), FreshnessError> {
    if args.target.is_empty() {
        return Err(FreshnessError::Usage(
            "--source graphite needs --target (such as --target 'backups.*.last_success')".into(),
        ));
    }
    let url = args.events.search.base_url().map_err(EventsError::from)?;
    let config = args
        .events
        .search
        .config(timeout, USER_AGENT)
        .map_err(EventsError::from)?;
    let graphite = nightwatch_graphite::Graphite::new(&url, config).map_err(EventsError::from)?;
    let skew = SignedDuration::try_from(args.max_skew).unwrap_or(SignedDuration::MAX);
    let not_after = args.at.and_then(|at| at.checked_add(skew).ok());
    let from = format!("-{}s", args.lookback.as_secs());
    let found = newest_per_series(&graphite, &args.target, &from, not_after)?;
    let now = args.at.or(found.server_time).unwrap_or_else(Timestamp::now);
    Ok((found.answer, now))
}

/// What the groups are called in the all-fresh phrase.
fn noun(args: &Args) -> &'static str {
    match (&args.source, args.group_by.as_deref()) {
        (SourceKind::Graphite, _) => "series",
        (_, Some(field)) if field.contains("host") => "hosts",
        (_, Some(field)) if field.contains("job") => "jobs",
        _ => "groups",
    }
}

/// The share of `events` missing a required field (absent, null or empty).
#[must_use]
pub fn completeness(events: &[Event], required: &[String]) -> Completeness {
    let mut incomplete = 0;
    let mut example = None;
    for event in events {
        let missing: Vec<String> = required
            .iter()
            .filter(|field| {
                // The time is the event's own: sources always give one.
                let value = event.field(field);
                value.is_none_or(|v| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()))
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            incomplete += 1;
            if example.is_none() {
                let id = event
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("{:.0}", event.at));
                example = Some((id, missing));
            }
        }
    }
    Completeness {
        sampled: events.len(),
        incomplete,
        example,
    }
}

fn log_stats(stats: &ReadStats) {
    if !stats.files.is_empty() {
        nightwatch_core::log::debug!(
            "read {} bytes, {} lines of {}",
            stats.bytes_read,
            stats.lines,
            stats
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Malformed and unfinished lines are skipped, never fatal, and said.
fn add_skipped(stats: &ReadStats, report: &mut Report) {
    if stats.malformed > 0 {
        let first = stats.first_malformed.as_deref().unwrap_or_default();
        report.add_detail(format!(
            "skipped {} malformed line{} (the newest: {first})",
            stats.malformed,
            if stats.malformed == 1 { "" } else { "s" }
        ));
    }
    if stats.unterminated > 0 {
        report.add_detail("skipped the unfinished last line (still being written)");
    }
}
