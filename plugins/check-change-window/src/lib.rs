//! check-change-window: lightweight change management as a monitoring
//! state. Change records (Markdown with YAML front matter, or a JSON export)
//! say what may change, where, when and who approved it; the check pages on
//! a change in progress without a valid approval, outside its window, in a
//! freeze or overrunning it, and on observed changes no approved window
//! covers. Every instant keeps the zone its record was written in.
//!
//! Beside the check, two tools: `digest` prints the digest a reviewer puts
//! in their approval, and `schedule` turns approved windows into Nagios,
//! Sensu or Icinga 2 downtime.

pub mod args;
pub mod digest;
pub mod freeze;
pub mod hosts;
pub mod icinga2;
pub mod judge;
pub mod observed;
pub mod record;
pub mod schedule;
pub mod tools;
pub mod when;

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use nightwatch_core::{Blame, CheckError, Context, FaultStates, Finding, Perfdata, Report, State};

pub use args::Args;

use crate::freeze::{Calendar, FreezeError};
use crate::judge::Rules;
use crate::record::{Change, Records, read_records};

/// The word that leads every line this plugin prints.
pub const LABEL: &str = "CHANGE";

/// Why the check could not judge anything.
#[derive(Debug, thiserror::Error)]
pub enum ChangeWindowError {
    #[error("cannot read the change records at {path}: {source}")]
    Changes {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Freeze(#[from] FreezeError),
    #[error(transparent)]
    Observed(#[from] nightwatch_events::EventsError),
    #[error("{0}")]
    Usage(String),
}

impl CheckError for ChangeWindowError {
    fn blame(&self) -> Blame {
        match self {
            // The records and calendar are the user's configuration.
            ChangeWindowError::Changes { .. }
            | ChangeWindowError::Freeze(_)
            | ChangeWindowError::Usage(_) => Blame::Usage,
            ChangeWindowError::Observed(error) => error.blame(),
        }
    }
}

/// The binary's entry point: the check, or one of its tools.
pub fn main() -> ! {
    let first = std::env::args_os().nth(1);
    match first.as_ref().and_then(|a| a.to_str()) {
        Some("digest" | "schedule") => tools::main(),
        _ => nightwatch_core::guard::run::<Args, _>(LABEL, FaultStates::default(), check),
    }
}

/// The whole command line, the check with its tools as subcommands, for
/// man pages and completions (tools/docgen).
#[must_use]
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    args::Args::command().subcommands(args::ToolArgs::command().get_subcommands().cloned())
}

/// Whether a change concerns the hosts asked about.
fn concerns(change: &Change, args: &Args) -> bool {
    args.all
        || change
            .hosts
            .iter()
            .any(|pattern| args.host.iter().any(|host| pattern.matches(host)))
}

/// Reads the records and the calendar and judges every change at `--at`.
pub fn check(args: &Args, context: &Context) -> Result<Report, ChangeWindowError> {
    let now = args
        .at
        .as_ref()
        .map_or_else(Timestamp::now, |at| at.timestamp);
    context.doing(format!(
        "reading change records in {}",
        args.changes.display()
    ));
    let records = read_records(&args.changes).map_err(|source| ChangeWindowError::Changes {
        path: args.changes.clone(),
        source,
    })?;
    let freeze = match &args.freeze {
        Some(path) => Calendar::load(path)?,
        None => Calendar::default(),
    };
    if observed::source_options_without_source(&args.observed) {
        return Err(ChangeWindowError::Usage(
            "a source of observed changes was described but not asked for: add --observed es, file or cloudtrail".into(),
        ));
    }
    let observed = match args.observed.observed {
        Some(source) => {
            context.doing(format!("reading observed changes ({source:?})"));
            let hosts = (!args.all).then_some(args.host.as_slice());
            let timeout = context
                .remaining()
                .saturating_sub(REPLY_MARGIN)
                .max(Duration::from_millis(100));
            Some(observed::read(&args.observed, source, now, hosts, timeout)?)
        }
        None => None,
    };
    let rules = Rules {
        now,
        horizon: args.horizon,
        overrun_critical: args.overrun_critical,
        require: args.require.clone(),
    };
    let mut report = judge_all(&records, &rules, &freeze, args, context);
    if let Some(reading) = observed {
        let observed::Reading {
            observed: seen,
            more,
            described,
            left_out,
        } = reading;
        let unplanned = observed::judge(&seen, &records.changes, args.observed.skew);
        let count = unplanned.len();
        for finding in unplanned {
            report.add_finding(finding);
        }
        report.add_detail(format!(
            "{} observed changes in the last {} in {described}, {count} unplanned{}",
            seen.len(),
            nightwatch_core::display::duration(args.observed.lookback),
            if more {
                " (more than the first 1000 not read)"
            } else {
                ""
            }
        ));
        if !left_out.is_empty() {
            report.add_detail(format!("left out: {}", left_out.join(", ")));
        }
        report.add_perfdata(Perfdata::new("unplanned", Some(count as f64)).with_min(0.0));
    }
    Ok(report)
}

/// Time kept back from a search request so the plugin's own message, not
/// the watchdog's, reports a slow server.
const REPLY_MARGIN: Duration = Duration::from_millis(500);

fn judge_all(
    records: &Records,
    rules: &Rules,
    freeze: &Calendar,
    args: &Args,
    context: &Context,
) -> Report {
    let mut report = context.report();
    let mut in_progress = 0_u32;
    let mut upcoming = 0_u32;
    let mut judged = 0_u32;
    for change in records.changes.iter().filter(|c| concerns(c, args)) {
        judged += 1;
        if change.status == record::Status::InProgress {
            in_progress += 1;
        }
        if change.status == record::Status::Approved
            && change.window.as_ref().is_some_and(|w| {
                w.start.timestamp > rules.now
                    && judge::span_until(rules.now, w.start.timestamp) <= rules.horizon
            })
        {
            upcoming += 1;
        }
        for finding in judge::judge(change, rules, freeze) {
            report.add_finding(finding);
        }
    }
    for broken in &records.broken {
        report.add_finding(
            Finding::new(
                State::Warning,
                format!("broken record {}", short_place(broken)),
            )
            .with_detail(format!("broken record {broken}")),
        );
    }
    if report.findings().is_empty() {
        let scope = if args.all {
            String::new()
        } else {
            format!(" on {}", args.host.join(", "))
        };
        report.add_finding(Finding::new(
            State::Ok,
            format!(
                "no change in progress or due within {}{scope}",
                nightwatch_core::display::duration(rules.horizon)
            ),
        ));
    }
    report.add_detail(format!(
        "{judged} change record{} judged at {}",
        if judged == 1 { "" } else { "s" },
        nightwatch_core::display::clock(rules.now.as_second())
    ));
    report.add_perfdata(Perfdata::new("in_progress", Some(f64::from(in_progress))).with_min(0.0));
    report.add_perfdata(Perfdata::new("upcoming", Some(f64::from(upcoming))).with_min(0.0));
    report.add_perfdata(
        Perfdata::new("broken_records", Some(records.broken.len() as f64)).with_min(0.0),
    );
    report
}

/// `cmb-42.md line 9` for the first line; the full error goes below.
fn short_place(error: &record::RecordError) -> String {
    let name = error.file.file_name().map_or_else(
        || error.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match (error.line, &error.field) {
        (Some(line), Some(field)) => format!("{name} line {line} ({field})"),
        (Some(line), None) => format!("{name} line {line}"),
        (None, Some(field)) => format!("{name} ({field})"),
        (None, None) => name,
    }
}
