//! The options of the es and file sources, for a plugin to
//! `#[command(flatten)]`. Which source is read (`--source`, `--observed`)
//! and the group field (`--group-by`, `--host-field`) are the plugin's own
//! options; the constructors take the field.
//!
//! ```
//! use clap::Parser;
//! use nightwatch_events::EventArgs;
//!
//! #[derive(Debug, Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     events: EventArgs,
//! }
//!
//! let args = Args::parse_from(["check", "--path", "/var/log/auth.log",
//!     "--match", r"Ansible playbook finished on (?P<group>\S+)", "--log-tz", "Europe/Berlin"]);
//! assert!(args.events.file_source(None).is_ok());
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use jiff::tz::TimeZone;
use nightwatch_search::SearchArgs;
use regex::Regex;

use crate::EventsError;
use crate::es::EsSource;
use crate::file::{FileSource, LineFormat};

/// `--line-format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LineFormatArg {
    /// Text lines matched by --match; its named groups give group, time, id
    #[default]
    Text,
    /// One JSON object a line, the time in --time-field
    Json,
}

/// Where events are read: a search server (`--url`/`-H`, `--index`,
/// `--query`) or a log file (`--path`, `--match`, `--line-format`).
#[derive(Debug, Clone, clap::Args)]
#[allow(clippy::doc_markdown)] // the field docs are --help text, not rustdoc
pub struct EventArgs {
    #[command(flatten)]
    pub search: SearchArgs,

    /// Lucene query the events match (es source) [default: every document]
    #[arg(long, value_name = "QUERY")]
    pub query: Option<String>,

    /// The event time: the date field (es) or the JSON key, a dotted path
    /// for nested objects (json lines)
    #[arg(long, value_name = "FIELD", default_value = "@timestamp")]
    pub time_field: String,

    /// Log file to read (file source); its rotations FILE.1, FILE.2.gz, …
    /// are read after it
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,

    /// How the file's lines read
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LineFormatArg::Text)]
    pub line_format: LineFormatArg,

    // The help is an attribute, not a doc comment: rustdoc reads `<group>` as HTML.
    #[arg(long = "match", value_name = "REGEX", value_parser = parse_regex,
          help = "Regex a line must match (file source). Text lines: the named groups \
                  (?P<group>…), (?P<time>…) and (?P<id>…) give those; without a time \
                  group, the time the line starts with (syslog or RFC 3339)")]
    pub matches: Option<Regex>,

    /// JSON key of an event's id (json lines) [default: file:byte-offset]
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,

    /// Zone of file times written without an offset (syslog's Nov 24
    /// 00:15:23), an IANA name [default: this host's zone]
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    pub log_tz: Option<TimeZone>,
}

impl EventArgs {
    /// The es source these options name, grouped by `group_field`.
    pub fn es_source(
        &self,
        group_field: Option<&str>,
        timeout: Duration,
        user_agent: &str,
    ) -> Result<EsSource, EventsError> {
        if self.path.is_some() || self.matches.is_some() {
            return Err(EventsError::Usage(
                "--path and --match read a file: drop them to search the server".into(),
            ));
        }
        if self.search.index.is_empty() {
            return Err(EventsError::Usage(
                "no index to search: give one with --index (such as --index 'logstash-%Y.%m.%d')"
                    .into(),
            ));
        }
        let client = self.search.client(timeout, user_agent)?;
        Ok(EsSource::new(
            client,
            self.search.index.clone(),
            self.query.clone(),
            &self.time_field,
            group_field,
        ))
    }

    /// The file source these options name; `group_field` is the JSON key
    /// of the group (text lines take it from the regex).
    pub fn file_source(&self, group_field: Option<&str>) -> Result<FileSource, EventsError> {
        let Some(path) = &self.path else {
            return Err(EventsError::Usage(
                "no log file given: name it with --path (such as --path /var/log/auth.log)".into(),
            ));
        };
        if self.query.is_some() || !self.search.index.is_empty() {
            return Err(EventsError::Usage(
                "--query and --index search a server: use --match to pick lines of a file".into(),
            ));
        }
        let format = match self.line_format {
            LineFormatArg::Json => LineFormat::Json {
                time_field: self.time_field.clone(),
                group_field: group_field.map(str::to_owned),
                id_field: self.id_field.clone(),
                filter: self.matches.clone(),
            },
            LineFormatArg::Text => {
                let Some(regex) = self.matches.clone() else {
                    return Err(EventsError::Usage(
                        "text lines need --match REGEX (such as --match 'playbook finished on (?P<group>\\S+)'), or give --line-format json".into(),
                    ));
                };
                if group_field.is_some() {
                    return Err(EventsError::Usage(
                        "text lines are grouped by the regex's (?P<group>…), not by a field".into(),
                    ));
                }
                LineFormat::Text { regex }
            }
        };
        let zone = match &self.log_tz {
            Some(zone) => zone.clone(),
            // Never a silent UTC: a host whose zone cannot be told says so.
            None => TimeZone::try_system().map_err(|e| {
                EventsError::Usage(format!(
                    "cannot tell this host's time zone ({e}): give --log-tz ZONE"
                ))
            })?,
        };
        Ok(FileSource::new(path.clone(), format, zone))
    }
}

fn parse_regex(text: &str) -> Result<Regex, String> {
    Regex::new(text).map_err(|e| format!("not a regex: {e}"))
}

/// An IANA zone from the tz database; an unknown name is an error, never
/// UTC.
pub fn parse_zone(text: &str) -> Result<TimeZone, String> {
    TimeZone::get(text).map_err(|e| {
        format!("{text:?} is not a time zone of the tz database (such as Europe/Berlin, America/New_York, UTC): {e}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        events: EventArgs,
    }

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("check").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn unknown_zones_and_bad_regexes_are_argument_errors() {
        let zone = parse(&["--log-tz", "Europe/Berlín"]).unwrap_err();
        assert!(zone.contains("not a time zone"), "{zone}");
        let regex = parse(&["--match", "(unclosed"]).unwrap_err();
        assert!(regex.contains("not a regex"), "{regex}");
        assert!(parse(&["--line-format", "xml"]).is_err());
    }

    #[test]
    fn each_source_says_what_it_lacks() {
        let none = parse(&[]).unwrap().events;
        let file = none.file_source(None).unwrap_err().to_string();
        assert!(file.contains("--path"), "{file}");
        let es = none
            .es_source(None, Duration::from_secs(1), "t")
            .unwrap_err()
            .to_string();
        assert!(es.contains("--index"), "{es}");
        let no_regex = parse(&["--path", "/x"]).unwrap().events;
        let text = no_regex.file_source(None).unwrap_err().to_string();
        assert!(text.contains("--match"), "{text}");
        let mixed = parse(&["--path", "/x", "--match", "x", "--index", "a"])
            .unwrap()
            .events;
        assert!(mixed.file_source(None).is_err());
        let json = parse(&["--path", "/x", "--line-format", "json"])
            .unwrap()
            .events;
        assert!(json.file_source(Some("host")).is_ok());
    }
}
