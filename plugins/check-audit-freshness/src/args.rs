//! Command-line options, parsed straight into domain values: a bad
//! duration, zone, regex or schedule is an argument error, never a late
//! surprise.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use nightwatch_core::duration::parse_duration;
use nightwatch_core::{AgeThresholdArgs, CommonArgs, PluginArgs, State};
use nightwatch_events::EventArgs;
use nightwatch_events::args::parse_zone;

/// Where the events are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(clippy::doc_markdown)] // the variant docs are --help text
pub enum SourceKind {
    /// Elasticsearch or OpenSearch (--url or -H, --index, --query)
    Es,
    /// A log file and its rotations (--path, --match, --line-format)
    File,
    /// The newest non-null point of each Graphite series (--url, --target)
    Graphite,
}

#[derive(Debug, Parser)]
#[command(
    name = "check-audit-freshness",
    version,
    max_term_width = 80,
    about = "Page on silence: when a job or host stops leaving its audit trail",
    after_help = "Examples:\n  \
        check-audit-freshness --source es --url http://es:9200 --index 'logstash-%Y.%m.%d' \\\n    \
        --query 'message:\"Ansible playbook finished\"' --group-by host.keyword \\\n    \
        --expect web01,web02,db01 -w 26h -c 50h\n  \
        check-audit-freshness --source file --path /var/log/auth.log \\\n    \
        --match 'Ansible playbook finished on (?P<group>\\S+)' -w 26h -c 2d\n  \
        check-audit-freshness --source graphite --url http://graphite:8080 \\\n    \
        --target 'backups.*.last_success' --schedule '0 2 * * *' --tz Europe/Berlin --grace 30m"
)]
#[allow(clippy::struct_excessive_bools)]
pub struct Args {
    /// Where the events are
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub source: SourceKind,

    #[command(flatten)]
    pub events: EventArgs,

    // The help is an attribute, not a doc comment: rustdoc reads `<group>` as HTML.
    #[arg(
        long,
        value_name = "FIELD",
        help = "Field to group by: a keyword field (es: host.keyword) or a JSON key \
                  (json lines); text lines group by the regex's (?P<group>…)"
    )]
    pub group_by: Option<String>,

    /// Graphite target: a path, a wildcard or a function (repeatable)
    #[arg(long, value_name = "TARGET")]
    pub target: Vec<String>,

    /// How far back to look for events
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = positive_duration)]
    pub lookback: Duration,

    /// Groups that must appear (comma list): one never seen within the
    /// lookback is CRITICAL
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub expect: Vec<String>,

    /// File of groups that must appear, one a line (# comments)
    #[arg(long, value_name = "FILE")]
    pub expect_file: Option<PathBuf>,

    /// Groups that may fall silent (comma list): never judged
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub retired: Vec<String>,

    #[command(flatten)]
    pub thresholds: AgeThresholdArgs,

    /// Cron pattern of the job's runs (0 2 * * *): the newest event must be
    /// from the last run on, once that run's grace is over
    #[arg(long, value_name = "CRON")]
    pub schedule: Option<String>,

    /// Zone of --schedule, an IANA name [default: this host's zone]
    #[arg(long, value_name = "ZONE", value_parser = parse_zone, requires = "schedule")]
    pub tz: Option<TimeZone>,

    /// How long after a scheduled run its event may take
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub grace: Duration,

    /// State of a run missed (--schedule)
    #[arg(long, value_name = "STATE", default_value = "critical")]
    pub late_state: State,

    /// An event further in the future than this is a wrong clock (WARNING);
    /// an event this much before a scheduled run still counts for it
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub max_skew: Duration,

    /// Fields every event must have (comma list: user,action,@timestamp;
    /// es and JSON lines)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub require_fields: Vec<String>,

    /// Share of recent events that may lack a required field, in percent
    #[arg(long, value_name = "PERCENT", default_value_t = 0.0, value_parser = percent)]
    pub max_incomplete: f64,

    /// Recent events checked for --require-fields
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub sample: u32,

    /// What the events are, for messages (backup, audit event)
    #[arg(long, value_name = "WORDS")]
    pub what: Option<String>,

    /// Judge as if now were this instant (RFC 3339) [default: the clock;
    /// Graphite's clock for --source graphite]
    #[arg(long, value_name = "TIME")]
    pub at: Option<Timestamp>,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl PluginArgs for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(duration)
}

fn percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage (such as 5 or 0.5%)"))?;
    if !(0.0..=100.0).contains(&value) {
        return Err(format!("{text} is not between 0 and 100"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::try_parse_from(std::iter::once("check-audit-freshness").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_issue_command_lines_parse() {
        let es = parse(&[
            "--source",
            "es",
            "--url",
            "http://es:9200",
            "--index",
            "logstash-%Y.%m.%d",
            "--query",
            "message:\"Ansible playbook finished\"",
            "--group-by",
            "host.keyword",
            "--expect",
            "web01,web02,db01",
            "-w",
            "26h",
            "-c",
            "50h",
        ])
        .unwrap();
        assert_eq!(es.expect, ["web01", "web02", "db01"]);
        assert_eq!(es.lookback, Duration::from_hours(7 * 24));
        assert_eq!(es.thresholds.warning.unwrap().to_string(), "26h");
        let file = parse(&[
            "--source",
            "file",
            "--path",
            "/var/log/auth.log",
            "--match",
            r"Ansible playbook finished on (?P<group>\S+)",
            "-w",
            "26h",
            "-c",
            "2d",
        ])
        .unwrap();
        assert!(file.events.matches.is_some());
        let graphite = parse(&[
            "--source",
            "graphite",
            "--url",
            "http://g:8080",
            "--target",
            "backups.*.last_success",
            "--schedule",
            "0 2 * * *",
            "--tz",
            "Europe/Berlin",
            "--grace",
            "30m",
        ])
        .unwrap();
        assert_eq!(graphite.grace, Duration::from_mins(30));
    }

    #[test]
    fn mistakes_are_argument_errors() {
        let zone = parse(&[
            "--source",
            "file",
            "--schedule",
            "0 2 * * *",
            "--tz",
            "Mars/Olympus",
        ])
        .unwrap_err();
        assert!(zone.contains("not a time zone"), "{zone}");
        let tz_alone = parse(&["--source", "file", "--tz", "UTC"]).unwrap_err();
        assert!(tz_alone.contains("--schedule"), "{tz_alone}");
        assert!(parse(&["--source", "s3"]).is_err());
        assert!(parse(&["--source", "file", "--lookback", "0"]).is_err());
        assert!(parse(&["--source", "file", "--max-incomplete", "150"]).is_err());
        assert!(parse(&["--source", "file", "-w", "yesterday"]).is_err());
        let pct = parse(&["--source", "file", "--max-incomplete", "2.5%"]).unwrap();
        assert!((pct.max_incomplete - 2.5).abs() < 1e-9);
    }
}
