//! The cross-check: changes observed on the hosts (deploy events in
//! Elasticsearch/OpenSearch, lines of a JSON-lines file, `CloudTrail`
//! write events, all read through `nightwatch_events`) that no approved,
//! open window covers.
//!
//! A `CloudTrail` event's host is what the call acted on
//! ([`cloudtrail::Event::targets`]: the resources' ARNs and ids, the
//! instances, databases, buckets and functions the request names, the
//! security groups changed), or the field `--host-field` names when
//! given. A record lists such names (`i-0abc…`, an ARN, a glob of them)
//! in `hosts`; one of them in an approved window covers the event.

use std::fmt::Write as _;
use std::time::Duration;

use clap::ValueEnum;
use jiff::{SignedDuration, Timestamp};
use nightwatch_core::duration::parse_duration;
use nightwatch_core::{Finding, State};
use nightwatch_events::cloudtrail;
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
    /// CloudTrail write events in Elasticsearch/OpenSearch (--url or -H,
    /// --index): read-only and failed calls are left out; the host is what
    /// the call acted on (instance id, resource ARN or id), or --host-field
    Cloudtrail,
}

#[derive(Debug, Clone, clap::Args)]
#[allow(clippy::doc_markdown)] // the field docs are --help text, not rustdoc
pub struct ObservedArgs {
    /// Compare with the changes observed in this source: each must fall in
    /// an approved window on its host
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub observed: Option<Source>,

    /// Field naming the host an observed change happened on (a keyword
    /// field for es: host.keyword) [default: host; cloudtrail: what the
    /// call acted on]
    #[arg(long, value_name = "FIELD")]
    pub host_field: Option<String>,

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

/// The host field of es and file sources when `--host-field` is not given.
const DEFAULT_HOST_FIELD: &str = "host";

/// One change seen on a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub at: Timestamp,
    /// The name said in messages.
    pub host: String,
    /// Other names of the same thing (a `CloudTrail` resource's ARN beside
    /// its id): a window on any of them covers the change.
    pub aliases: Vec<String>,
    pub who: Option<String>,
    pub what: Option<String>,
}

/// What a source gave: the changes, whether there were more than were
/// read, the source for messages, and what was left out and why.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub observed: Vec<Observed>,
    pub more: bool,
    pub described: String,
    pub left_out: Vec<String>,
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
        let field = args.host_field.as_deref().unwrap_or(DEFAULT_HOST_FIELD);
        let host = event
            .group
            .clone()
            .or_else(|| text_of(event.field(field)))?;
        Some(Observed {
            at: event.at,
            host,
            aliases: Vec::new(),
            who: text_of(event.field(&args.who_field)),
            what: text_of(event.field(&args.what_field)),
        })
    }

    /// Every name the change is known by.
    fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.host.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// Why a `CloudTrail` document is not an observed change, if it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    NotCloudtrail,
    ReadOnly,
    Failed,
    NoHost,
}

/// A `CloudTrail` document as an observed change: the write, who made it
/// and what it acted on (`host_field`'s values instead, when given).
fn from_cloudtrail(event: &Event, host_field: Option<&str>) -> Result<Observed, Skip> {
    let record = cloudtrail::Event::from_source(&Value::Object(event.fields.clone()))
        .map_err(|_| Skip::NotCloudtrail)?;
    if record.is_read_only() {
        return Err(Skip::ReadOnly);
    }
    if record.failed() {
        return Err(Skip::Failed);
    }
    let mut names = match host_field {
        Some(field) => match event.field(field) {
            Some(Value::Array(values)) => values.iter().filter_map(|v| text_of(Some(v))).collect(),
            value => text_of(value).into_iter().collect(),
        },
        None => record.targets(),
    };
    // The short id leads: `i-0abc…` reads better than its ARN.
    if let Some(short) = names.iter().position(|n| !n.starts_with("arn:")) {
        names.swap(0, short);
    }
    let mut names = names.into_iter();
    let host = names.next().ok_or(Skip::NoHost)?;
    let place: Vec<&str> = [record.source.as_deref(), record.region.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let mut what = format!("{} by {}", record.name, record.principal.identity());
    if !place.is_empty() {
        let _ = write!(what, " ({})", place.join(", "));
    }
    if let Some(ip) = &record.source_ip {
        let _ = write!(what, " from {ip}");
    }
    Ok(Observed {
        at: event.at,
        host,
        aliases: names.collect(),
        who: Some(record.principal.short()),
        what: Some(what),
    })
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

const USER_AGENT: &str = concat!("check-change-window/", env!("CARGO_PKG_VERSION"));

/// Reads the observed changes of `hosts` (all hosts when `None`) in the
/// `lookback` before `now`.
pub fn read(
    args: &ObservedArgs,
    source: Source,
    now: Timestamp,
    hosts: Option<&[String]>,
    timeout: Duration,
) -> Result<Reading, EventsError> {
    let window = Window::ending_at(now, args.lookback);
    let field = Some(args.host_field.as_deref().unwrap_or(DEFAULT_HOST_FIELD));
    let (events, described) = match source {
        Source::Es => {
            let source = args.events.es_source(field, timeout, USER_AGENT)?;
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
        Source::Cloudtrail => return read_cloudtrail(args, &window, hosts, timeout),
    };
    Ok(Reading {
        observed: events
            .events
            .iter()
            .filter_map(|event| Observed::from_event(event, args))
            .collect(),
        more: events.more,
        described,
        left_out: Vec::new(),
    })
}

/// `CloudTrail` write events: the server leaves out what is marked
/// read-only, the record reading the rest (reads by name, failed calls),
/// and the hosts are matched here: an event names several.
fn read_cloudtrail(
    args: &ObservedArgs,
    window: &Window,
    hosts: Option<&[String]>,
    timeout: Duration,
) -> Result<Reading, EventsError> {
    let mut events_args = args.events.clone();
    events_args.query = Some(match args.events.query.as_deref().map(str::trim) {
        Some(query) if !query.is_empty() => format!("({query}) AND {}", cloudtrail::NOT_READ_ONLY),
        _ => cloudtrail::NOT_READ_ONLY.to_owned(),
    });
    let source = events_args.es_source(None, timeout, USER_AGENT)?;
    let events = source.events_in(window, None, EVENT_LIMIT)?;
    let mut reading = Reading {
        more: events.more,
        described: source.describe(),
        ..Reading::default()
    };
    let mut skipped = [0_usize; 4];
    for event in &events.events {
        match from_cloudtrail(event, args.host_field.as_deref()) {
            Ok(observed) => {
                let wanted = hosts.is_none_or(|hosts| {
                    observed
                        .names()
                        .any(|name| hosts.iter().any(|h| h.eq_ignore_ascii_case(name)))
                });
                if wanted {
                    reading.observed.push(observed);
                }
            }
            Err(skip) => skipped[skip as usize] += 1,
        }
    }
    for (count, why) in skipped.into_iter().zip([
        "documents that are not CloudTrail events (no eventName)",
        "read-only calls",
        "failed calls (attempts, not changes)",
        "write events naming no host (IAM, account-wide)",
    ]) {
        if count > 0 {
            reading.left_out.push(format!("{count} {why}"));
        }
    }
    Ok(reading)
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
            && change
                .hosts
                .iter()
                .any(|h| observed.names().any(|name| h.matches(name)))
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
            aliases: Vec::new(),
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

    fn trail(doc: &serde_json::Value) -> Event {
        let serde_json::Value::Object(fields) = doc.clone() else {
            unreachable!()
        };
        Event {
            at: parse_time("2026-12-02T13:20:00Z").unwrap().timestamp,
            group: None,
            id: None,
            fields,
        }
    }

    #[test]
    fn cloudtrail_writes_are_changes_on_what_they_acted_on() {
        let stop = trail(&serde_json::json!({
            "eventName": "StopInstances", "readOnly": false,
            "eventSource": "ec2.amazonaws.com", "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.7",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/mallory"},
            "resources": [{"ARN": "arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaa"}],
        }));
        let observed = from_cloudtrail(&stop, None).unwrap();
        assert_eq!(observed.host, "i-0aaa");
        assert_eq!(
            observed.aliases,
            ["arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaa"]
        );
        assert_eq!(observed.who.as_deref(), Some("mallory"));
        assert_eq!(
            observed.what.as_deref(),
            Some(
                "StopInstances by arn:aws:iam::123456789012:user/mallory (ec2.amazonaws.com, eu-west-1) from 203.0.113.7"
            )
        );
        // A record naming the ARN (or a glob of it) covers the id too.
        let arn_window = change(
            "A",
            "[\"arn:aws:ec2:*:instance/i-0aaa\"]",
            "2026-12-02T13:00:00Z",
            "2026-12-02T14:00:00Z",
            true,
        );
        assert!(covered_by(&observed, std::slice::from_ref(&arn_window), SKEW).is_some());

        let tagged = trail(&serde_json::json!({
            "eventName": "RebootInstances", "tags": {"Name": ["web01", "web01.example"]}}));
        let by_field = from_cloudtrail(&tagged, Some("tags.Name")).unwrap();
        assert_eq!(
            (by_field.host.as_str(), by_field.aliases.len()),
            ("web01", 1)
        );

        for (doc, skip) in [
            (
                serde_json::json!({"eventName": "DescribeInstances"}),
                Skip::ReadOnly,
            ),
            (
                serde_json::json!({"eventName": "StopInstances", "readOnly": true}),
                Skip::ReadOnly,
            ),
            (
                serde_json::json!({"eventName": "StopInstances", "errorCode": "UnauthorizedOperation",
                    "requestParameters": {"instanceId": "i-0aaa"}}),
                Skip::Failed,
            ),
            (serde_json::json!({"eventName": "CreateUser"}), Skip::NoHost),
            (
                serde_json::json!({"message": "not a trail"}),
                Skip::NotCloudtrail,
            ),
        ] {
            assert_eq!(from_cloudtrail(&trail(&doc), None), Err(skip), "{doc}");
        }
    }
}
