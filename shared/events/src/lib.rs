//! Where the plugins find *what happened*: audit events, deploys, backups
//! and job runs, from Elasticsearch/`OpenSearch`, log files and Graphite.
//! check-audit-freshness asks when each group (host, job) was last seen;
//! check-change-window lists what changed on a host in a time range.
//! Both read the same sources through this one crate.
//!
//! # The API
//!
//! Every source answers two questions, newest first:
//!
//! - [`EventSource::newest_per_group`]`(window, not_after, groups)`: for
//!   each group seen in `window`, its newest event at or before
//!   `not_after` ([`GroupNewest::newest`]) and its newest event after it
//!   ([`GroupNewest::future`]: a clock ahead of ours), with a count. No
//!   group is cut: Elasticsearch is paged through with a composite
//!   aggregation. `groups` (exact names) narrows the search; `None` finds
//!   every group. Ungrouped sources answer one entry whose group is `None`.
//! - [`EventSource::events_in`]`(window, groups, limit)`: the events in
//!   `window`, of those groups only when given, newest first, at most
//!   `limit`.
//!
//! Each [`Event`] has its time ([`Event::at`], a [`jiff::Timestamp`]), its
//! group, an id when the source has one (the document `_id`; a JSON line's
//! id field, else `file:byte-offset`) and its fields (the `_source`
//! document, the JSON line, or the text regex's named captures).
//!
//! The sources:
//! - [`EsSource`]: a Lucene query over strftime index patterns
//!   (`logstash-%Y.%m.%d`, expanded over the window), the date field and an
//!   optional group field (a keyword: `host.keyword`).
//! - [`FileSource`]: JSON lines (the time in a named field) or text lines
//!   matched by a regex whose named groups give `group`, optionally `time`
//!   and `id` (without `time`, the time the line starts with). Rotated
//!   files (`auth.log`, `auth.log.1`, `auth.log.2.gz`) are read newest
//!   first, each from its end, and reading stops as soon as the answer is
//!   known. Malformed lines are skipped and counted ([`ReadStats`]). Times:
//!   [`time`].
//! - [`graphite::newest_per_series`]: the newest non-null point of each
//!   series, as one event per series.
//!
//! [`cloudtrail`] reads a `CloudTrail` record (a document of the indices
//! Logstash ships `CloudTrail` into): who, what, when, whether it wrote
//! anything, what it acted on. check-cloudtrail-es judges them,
//! check-change-window cross-checks the writes against change windows.
//!
//! [`EventArgs`] holds the command-line options of the es and file sources
//! for a plugin to `#[command(flatten)]`; the group field is the plugin's
//! own option (`--group-by`, `--host-field`), passed to the constructors.
//!
//! ```no_run
//! use nightwatch_events::{EventSource, FileSource, LineFormat, Window};
//! use std::time::Duration;
//! # fn main() -> Result<(), nightwatch_events::EventsError> {
//! let now = jiff::Timestamp::now();
//! let source = FileSource::new(
//!     "/var/log/auth.log".into(),
//!     LineFormat::text(r"Ansible playbook finished on (?P<group>\S+)")?,
//!     jiff::tz::TimeZone::system(),
//! );
//! let window = Window::ending_at(now, Duration::from_secs(7 * 86_400));
//! let answer = source.newest_per_group(&window, now, None)?;
//! for group in &answer.groups {
//!     println!("{:?} {:?}", group.group, group.newest.as_ref().map(|e| e.at));
//! }
//! # Ok(()) }
//! ```

pub mod args;
pub mod cloudtrail;
pub mod es;
pub mod file;
pub mod graphite;
pub mod time;

use std::path::PathBuf;

use jiff::Timestamp;
use nightwatch_core::{Blame, CheckError};
use serde_json::{Map, Value};

pub use args::{EventArgs, LineFormatArg};
pub use es::EsSource;
pub use file::{FileSource, LineFormat, rotated_files};
pub use nightwatch_search::Window;
pub use time::{TimeContext, TimeError, parse_time};

/// One thing that happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: Timestamp,
    /// The host or job, when the source groups.
    pub group: Option<String>,
    /// The document `_id`, a JSON line's id field, or `file:byte-offset`.
    pub id: Option<String>,
    /// The document, the JSON line, or the named captures of a text line.
    pub fields: Map<String, Value>,
}

impl Event {
    /// The value of `name` in the fields: a key as written (`@timestamp`,
    /// `host.name` when the key holds the dot), else a dotted path into
    /// nested objects (`user.name`).
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&Value> {
        field_of(&self.fields, name)
    }
}

/// `name` in `fields`: the key itself, else a dotted path.
#[must_use]
pub fn field_of<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = fields.get(name) {
        return Some(value);
    }
    let (head, rest) = name.split_once('.')?;
    match fields.get(head)? {
        Value::Object(inner) => field_of(inner, rest),
        _ => None,
    }
}

/// The newest events of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupNewest {
    /// `None` for an ungrouped source.
    pub group: Option<String>,
    /// The newest event at or before `not_after`.
    pub newest: Option<Event>,
    /// The newest event after `not_after`: a clock ahead.
    pub future: Option<Event>,
    /// Events of the group seen (for a file: read before stopping).
    pub count: u64,
}

/// What reading cost and what it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Bytes read from disk (compressed bytes for `.gz`).
    pub bytes_read: u64,
    pub lines: u64,
    /// Lines skipped: not JSON, no time, a time that is none.
    pub malformed: u64,
    /// The first malformed line seen (newest), where and why, for messages.
    pub first_malformed: Option<String>,
    /// An unterminated last line, skipped as still being written.
    pub unterminated: u64,
    /// The files read, newest first.
    pub files: Vec<PathBuf>,
}

/// The answer to [`EventSource::newest_per_group`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewestPerGroup {
    /// Sorted by group.
    pub groups: Vec<GroupNewest>,
    /// Files only.
    pub stats: ReadStats,
}

/// The answer to [`EventSource::events_in`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Events {
    /// Newest first.
    pub events: Vec<Event>,
    /// Whether more events matched than `limit`.
    pub more: bool,
    /// Files only.
    pub stats: ReadStats,
}

/// A source of events.
pub trait EventSource {
    /// The newest event of each group seen in `window`, split at
    /// `not_after`; only `groups` when given.
    fn newest_per_group(
        &self,
        window: &Window,
        not_after: Timestamp,
        groups: Option<&[String]>,
    ) -> Result<NewestPerGroup, EventsError>;

    /// Events in `window`, newest first, of `groups` when given, at most
    /// `limit`.
    fn events_in(
        &self,
        window: &Window,
        groups: Option<&[String]>,
        limit: usize,
    ) -> Result<Events, EventsError>;

    /// What is read, for messages: `http://es:9200 logstash-*`,
    /// `/var/log/auth.log`.
    fn describe(&self) -> String;
}

/// What went wrong reading events.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error(transparent)]
    Search(#[from] nightwatch_search::SearchError),
    #[error(transparent)]
    Graphite(#[from] nightwatch_graphite::GraphiteError),
    #[error(transparent)]
    Secret(#[from] nightwatch_http::SecretError),
    /// A wrong option: says what to write.
    #[error("{0}")]
    Usage(String),
    #[error("the log file {} does not exist", path.display())]
    NoFile { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A reply or file whose content cannot be used at all.
    #[error("{0}")]
    BadSource(String),
}

/// A missing or unreadable file and a wrong option are the user's to fix;
/// a server that does not answer, or answers nonsense, is the source's.
impl CheckError for EventsError {
    fn blame(&self) -> Blame {
        match self {
            EventsError::Search(e) => e.blame(),
            EventsError::Graphite(
                nightwatch_graphite::GraphiteError::Unreachable(http)
                | nightwatch_graphite::GraphiteError::Http(http),
            ) => http.blame(Blame::Source),
            EventsError::Graphite(_) | EventsError::BadSource(_) => Blame::Source,
            EventsError::Secret(_) | EventsError::Usage(_) | EventsError::NoFile { .. } => {
                Blame::Usage
            }
            EventsError::Read { source, .. } => match source.kind() {
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::IsADirectory => {
                    Blame::Usage
                }
                _ => Blame::Source,
            },
        }
    }
}

/// Keeps, per group, the newest event at or before `not_after` and the
/// newest after it: one rule for every source.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    groups: std::collections::BTreeMap<Option<String>, GroupNewest>,
}

impl Tally {
    pub(crate) fn add(&mut self, event: Event, not_after: Timestamp) {
        let entry = self
            .groups
            .entry(event.group.clone())
            .or_insert_with(|| GroupNewest {
                group: event.group.clone(),
                newest: None,
                future: None,
                count: 0,
            });
        entry.count += 1;
        let slot = if event.at > not_after {
            &mut entry.future
        } else {
            &mut entry.newest
        };
        if slot.as_ref().is_none_or(|kept| event.at > kept.at) {
            *slot = Some(event);
        }
    }

    /// A group already judged whole, by a server.
    pub(crate) fn insert(&mut self, group: GroupNewest) {
        self.groups.insert(group.group.clone(), group);
    }

    /// The newest event of a group already inserted.
    pub(crate) fn set_newest(&mut self, group: Option<&str>, event: Event) {
        if let Some(entry) = self.groups.get_mut(&group.map(str::to_owned)) {
            entry.newest = Some(event);
        }
    }

    pub(crate) fn has_newest(&self, group: Option<&str>) -> bool {
        self.groups
            .get(&group.map(str::to_owned))
            .is_some_and(|g| g.newest.is_some())
    }

    pub(crate) fn into_groups(self) -> Vec<GroupNewest> {
        self.groups.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_by_key_or_dotted_path() {
        let Value::Object(fields) =
            json!({"@timestamp": "x", "host.name": "a", "user": {"name": "bob"}})
        else {
            unreachable!()
        };
        assert_eq!(field_of(&fields, "@timestamp"), Some(&json!("x")));
        assert_eq!(field_of(&fields, "host.name"), Some(&json!("a")));
        assert_eq!(field_of(&fields, "user.name"), Some(&json!("bob")));
        assert_eq!(field_of(&fields, "user.id"), None);
        assert_eq!(field_of(&fields, "nope"), None);
    }

    #[test]
    fn the_tally_splits_at_not_after() {
        let at = |s: &str| -> Timestamp { s.parse().unwrap() };
        let event = |t: &str, g: &str| Event {
            at: at(t),
            group: Some(g.into()),
            id: None,
            fields: Map::new(),
        };
        let now = at("2026-11-24T12:00:00Z");
        let mut tally = Tally::default();
        tally.add(event("2026-11-24T10:00:00Z", "a"), now);
        tally.add(event("2026-11-24T11:00:00Z", "a"), now);
        tally.add(event("2026-11-24T12:10:00Z", "a"), now);
        tally.add(event("2026-11-24T12:00:00Z", "b"), now);
        assert!(tally.has_newest(Some("a")));
        assert!(!tally.has_newest(Some("c")));
        let groups = tally.into_groups();
        assert_eq!(groups.len(), 2);
        assert_eq!(
            groups[0].newest.as_ref().unwrap().at,
            at("2026-11-24T11:00:00Z")
        );
        assert_eq!(
            groups[0].future.as_ref().unwrap().at,
            at("2026-11-24T12:10:00Z")
        );
        assert_eq!(groups[0].count, 3);
        // Exactly at not_after is not the future.
        assert!(groups[1].newest.is_some() && groups[1].future.is_none());
    }
}
