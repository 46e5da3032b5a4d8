//! The cross-check: changes observed on the hosts (deploy events in
//! Elasticsearch/OpenSearch, lines of a JSON-lines file, both read through
//! `nightwatch_events`) that no approved, open window covers.

use std::time::Duration;

use clap::ValueEnum;
use jiff::{SignedDuration, Timestamp};
use nightwatch_core::duration::parse_duration;
use nightwatch_core::{Finding, State};
use nightwatch_events::{Event, EventArgs, EventSource, EventsError, Window};
use serde_json::Value;

use crate::judge::is_approved;
use crate::record::Change;

/// Where observed changes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(clippy::doc_markdown)] // the variant docs are --help text, not rustdoc
pub enum Source {
    /// An Elasticsearch or OpenSearch index (--url or -H, --index, --query)
    Es,
    /// A JSON-lines file (--path, --line-format json)
    File,
}

#[derive(Debug, Clone, clap::Args)]
#[allow(clippy::doc_markdown)] // the field docs are --help text, not rustdoc
pub struct ObservedArgs {
    /// Compare with the changes observed in this source: each must fall in
    /// an approved window on its host
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub observed: Option<Source>,

    /// Field naming the host an observed change happened on (a keyword
    /// field for es: host.keyword)
    #[arg(long, value_name = "FIELD", default_value = "host")]
    pub host_field: String,

    /// Field naming who made an observed change
    #[arg(long, value_name = "FIELD", default_value = "user")]
    pub who_field: String,

    /// Field saying what an observed change was
    #[arg(long, value_name = "FIELD", default_value = "message")]
    pub what_field: String,

    /// How far back observed changes are checked
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub lookback: Duration,

    /// Tolerance around a window for an observed change's clock
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub skew: Duration,

    #[command(flatten)]
    pub events: EventArgs,
}

/// At most this many observed changes are read per run; more is said.
const EVENT_LIMIT: usize = 1000;

/// One change seen on a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub at: Timestamp,
    pub host: String,
    pub who: Option<String>,
    pub what: Option<String>,
}

fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) => Some(text.clone()),
        Value::Null => None,
        Value::Object(inner) => inner.get("name").and_then(|v| text_of(Some(v))),
        other => Some(other.to_string()),
    }
}

impl Observed {
    fn from_event(event: &Event, args: &ObservedArgs) -> Option<Observed> {
        let host = event
            .group
            .clone()
            .or_else(|| text_of(event.field(&args.host_field)))?;
        Some(Observed {
            at: event.at,
            host,
            who: text_of(event.field(&args.who_field)),
            what: text_of(event.field(&args.what_field)),
        })
    }
}

/// Whether any user option of the sources was given without `--observed`.
#[must_use]
pub fn source_options_without_source(args: &ObservedArgs) -> bool {
    let events = &args.events;
    args.observed.is_none()
        && (events.path.is_some()
            || events.query.is_some()
            || events.matches.is_some()
            || !events.search.index.is_empty()
            || events.search.url.is_some()
            || events.search.hostname.is_some())
}

/// Reads the observed changes of `hosts` (all hosts when `None`) in the
/// `lookback` before `now`.
pub fn read(
    args: &ObservedArgs,
    source: Source,
    now: Timestamp,
    hosts: Option<&[String]>,
    timeout: Duration,
) -> Result<(Vec<Observed>, bool, String), EventsError> {
    let window = Window::ending_at(now, args.lookback);
    let field = Some(args.host_field.as_str());
    let (events, described) = match source {
        Source::Es => {
            let source = args.events.es_source(
                field,
                timeout,
                concat!("check-change-window/", env!("CARGO_PKG_VERSION")),
            )?;
            (
                source.events_in(&window, hosts, EVENT_LIMIT)?,
                source.describe(),
            )
        }
        Source::File => {
            let source = args.events.file_source(field)?.reading_at(now);
            (
                source.events_in(&window, hosts, EVENT_LIMIT)?,
                source.describe(),
            )
        }
    };
    let observed = events
        .events
        .iter()
        .filter_map(|event| Observed::from_event(event, args))
        .collect();
    Ok((observed, events.more, described))
}

/// Whether an approved change's window on this host covers the instant,
/// `skew` either side.
#[must_use]
pub fn covered_by<'a>(
    observed: &Observed,
    changes: &'a [Change],
    skew: Duration,
) -> Option<&'a Change> {
    let skew = SignedDuration::try_from(skew).unwrap_or(SignedDuration::ZERO);
    changes.iter().find(|change| {
        let Some(window) = &change.window else {
            return false;
        };
        let from = window
            .start
            .timestamp
            .checked_sub(skew)
            .unwrap_or(window.start.timestamp);
        let to = window
            .end
            .timestamp
            .checked_add(skew)
            .unwrap_or(window.end.timestamp);
        is_approved(change)
            && change.hosts.iter().any(|h| h.matches(&observed.host))
            && from <= observed.at
            && observed.at <= to
    })
}

/// A CRITICAL finding for each observed change no approved window covers.
#[must_use]
pub fn judge(observed: &[Observed], changes: &[Change], skew: Duration) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Oldest first: the first unplanned change is where to start looking.
    let mut ordered: Vec<&Observed> = observed.iter().collect();
    ordered.sort_by_key(|o| o.at);
    for change in ordered {
        if covered_by(change, changes, skew).is_some() {
            continue;
        }
        let who = change.who.as_deref().unwrap_or("someone");
        let what = change
            .what
            .as_deref()
            .map_or_else(String::new, |w| format!(": {}", first_line(w)));
        let when = nightwatch_core::display::clock(change.at.as_second());
        findings.push(
            Finding::new(
                State::Critical,
                format!("unplanned change on {} by {who} at {when}", change.host),
            )
            .with_detail(format!(
                "unplanned change on {} by {who} at {when}{what} (no approved window covers it)",
                change.host
            )),
        );
    }
    findings
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::record::{Approval, parse_markdown};
    use crate::when::parse_time;

    fn change(id: &str, hosts: &str, start: &str, end: &str, approved: bool) -> Change {
        let text = format!(
            "---\nid: {id}\nsummary: s\nauthor: alice\nhosts: {hosts}\nstatus: in-progress\nwindow:\n  start: {start}\n  end: {end}\n---\n"
        );
        let mut change = parse_markdown(Path::new("c.md"), &text).unwrap();
        if approved {
            change.approvals.push(Approval {
                by: "bob".into(),
                at: None,
                digest: Some(change.digest.clone()),
            });
        }
        change
    }

    fn seen(host: &str, at: &str) -> Observed {
        Observed {
            at: parse_time(at).unwrap().timestamp,
            host: host.into(),
            who: Some("carol".into()),
            what: Some("deploy\nmore lines".into()),
        }
    }

    const SKEW: Duration = Duration::from_mins(2);

    #[test]
    fn overlapping_windows_on_one_host_each_cover_their_own_time() {
        let changes = [
            change(
                "A",
                "[web01]",
                "2026-12-02T10:00:00Z",
                "2026-12-02T11:00:00Z",
                true,
            ),
            change(
                "B",
                "[\"web*\"]",
                "2026-12-02T10:30:00Z",
                "2026-12-02T12:00:00Z",
                true,
            ),
            change(
                "C",
                "[web01]",
                "2026-12-02T12:00:00Z",
                "2026-12-02T13:00:00Z",
                false,
            ),
        ];
        let id = |at: &str| covered_by(&seen("web01", at), &changes, SKEW).map(|c| c.id.clone());
        assert_eq!(id("2026-12-02T10:15:00Z").as_deref(), Some("A"));
        assert_eq!(id("2026-12-02T11:30:00Z").as_deref(), Some("B"));
        // C is not approved: its window covers nothing.
        assert_eq!(id("2026-12-02T12:30:00Z"), None);
        // The skew is inclusive at both ends, and no wider.
        assert_eq!(id("2026-12-02T09:58:00Z").as_deref(), Some("A"));
        assert_eq!(id("2026-12-02T09:57:59Z"), None);
        assert_eq!(id("2026-12-02T12:02:00Z").as_deref(), Some("B"));
        assert_eq!(id("2026-12-02T12:02:01Z"), None);
        assert_eq!(
            covered_by(&seen("db01", "2026-12-02T10:15:00Z"), &changes, SKEW),
            None
        );
    }

    #[test]
    fn unplanned_changes_name_who_what_and_when_oldest_first() {
        let changes = [change(
            "A",
            "[web01]",
            "2026-12-02T10:00:00Z",
            "2026-12-02T11:00:00Z",
            true,
        )];
        let found = judge(
            &[
                seen("web01", "2026-12-02T12:00:00Z"),
                seen("web01", "2026-12-02T10:30:00Z"),
                seen("web02", "2026-12-02T09:00:00Z"),
            ],
            &changes,
            SKEW,
        );
        let summaries: Vec<_> = found.iter().map(|f| f.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "unplanned change on web02 by carol at 2026-12-02T09:00:00Z",
                "unplanned change on web01 by carol at 2026-12-02T12:00:00Z",
            ]
        );
        assert_eq!(
            found[0].detail.as_deref(),
            Some(
                "unplanned change on web02 by carol at 2026-12-02T09:00:00Z: deploy (no approved window covers it)"
            )
        );
        assert!(found.iter().all(|f| f.state == State::Critical));
    }
}
