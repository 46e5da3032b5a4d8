//! Command-line options, parsed straight into domain values: a bad port
//! list, region or preset is an argument error, never a late surprise.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use nightwatch_core::duration::parse_duration;
use nightwatch_core::{CommonArgs, PluginArgs, ThresholdArgs};
use nightwatch_search::SearchArgs;

use crate::judge::{PortAllow, PrincipalPattern};

/// A ready-made selection of risky CloudTrail events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Preset {
    /// Security-group changes on EC2: Authorize*, Revoke*,
    /// CreateSecurityGroup, ModifySecurityGroupRules
    SecurityGroups,
    /// New IAM users, keys, roles and policies
    Iam,
    /// Any activity by the account's root user
    Root,
    /// Someone blinding the audit: StopLogging, DeleteTrail, UpdateTrail,
    /// PutEventSelectors
    Trail,
    /// Any event outside --regions
    Regions,
}

impl Preset {
    /// The name as given on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::SecurityGroups => "security-groups",
            Preset::Iam => "iam",
            Preset::Root => "root",
            Preset::Trail => "trail",
            Preset::Regions => "regions",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "check-cloudtrail-es",
    version,
    max_term_width = 80,
    about = "Who opened what to whom: risky AWS CloudTrail events in \
             Elasticsearch or OpenSearch",
    long_about = "Who opened what to whom: risky AWS CloudTrail events in \
        Elasticsearch or OpenSearch.\n\n\
        Lists the matching events (who, what, from where, in which region) and \
        judges each permission of each security-group change itself: ingress \
        open to 0.0.0.0/0 or ::/0 is CRITICAL whatever the count thresholds.\n\n\
        CloudTrail reaches the index minutes after the call (S3 delivery, \
        typically 5-15 min, plus the Logstash poll): an event is seen only if \
        --window is longer than that delay plus the check interval.",
    after_help = "Example (page on any security-group change in the last 30 minutes):\n  \
        check-cloudtrail-es -H es.example --index 'logstash-%Y.%m.%d' \\\n    \
        --window 30m --type cloudtrail --preset security-groups -c 0"
)]
#[allow(clippy::struct_excessive_bools)] // independent switches
pub struct Args {
    #[command(flatten)]
    pub search: SearchArgs,

    /// How far back to search (30m, 1h); CloudTrail arrives 5-15 min late,
    /// so keep it above that delay plus the check interval
    #[arg(long, value_name = "DURATION", value_parser = parse_window,
          default_value = "30m", conflicts_with = "minutes_previous")]
    pub window: Duration,

    /// The Ruby plugin's spelling of --window: a number of minutes
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..))]
    pub minutes_previous: Option<u32>,

    /// End the window at this UTC time instead of now
    /// (2026-11-25T00:15:00Z), to replay what a past run saw
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<nightwatch_search::Timestamp>,

    /// The date field the window applies to (@timestamp, or eventTime)
    #[arg(long, value_name = "FIELD", default_value = "@timestamp")]
    pub date_field: String,

    /// Lucene query_string selecting events (Authorize*); quote CIDRs, as a
    /// / starts a regex
    #[arg(short = 'q', long, value_name = "QUERY")]
    pub query: Option<String>,

    /// Field searched by --query terms that name none (eventName)
    #[arg(short = 'f', long, value_name = "FIELD")]
    pub field: Option<String>,

    /// Only documents whose `type` field (set by Logstash) is this;
    /// never a mapping type
    #[arg(long = "type", value_name = "TYPE")]
    pub doc_type: Option<String>,

    /// Ready-made selections, combined with --query (repeatable, or a comma
    /// list)
    #[arg(long, value_enum, value_name = "PRESET", value_delimiter = ',')]
    pub preset: Vec<Preset>,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    /// Ports that may be open to the world (443, 8000-8100, icmp)
    #[arg(long, value_name = "PORTS", value_delimiter = ',')]
    pub allow_world_ports: Vec<PortAllow>,

    /// Security groups (id or name) that may be open to the world
    #[arg(long, value_name = "GROUPS", value_delimiter = ',')]
    pub allow_groups: Vec<String>,

    /// Approved automation (an ARN glob such as
    /// 'arn:aws:sts::*:assumed-role/terraform/*'): listed, not counted
    /// (repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub allow_principal: Vec<PrincipalPattern>,

    /// Regions in use (us-east-1,eu-west-1): an event elsewhere is CRITICAL
    /// (global services logged in us-east-1 excepted)
    #[arg(long, value_name = "REGIONS", value_delimiter = ',', value_parser = parse_region)]
    pub regions: Vec<String>,

    /// Events listed in the long text, risky ones first, then newest
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_events: usize,

    /// Events fetched and judged at most, newest first
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub fetch: u32,

    /// Only count the matches (no listing, no per-event judging): the Ruby
    /// plugin's behaviour, at the cost of a _count
    #[arg(long, conflicts_with_all = ["allow_world_ports", "allow_groups", "allow_principal"])]
    pub count_only: bool,

    /// A Kibana or OpenSearch Dashboards URL for the long text; {query},
    /// {from}, {to} and {index} are filled in (URL-encoded)
    #[arg(long, value_name = "URL")]
    pub link_template: Option<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl PluginArgs for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

impl Args {
    /// The window searched, from --window or --minutes-previous.
    #[must_use]
    pub fn window_length(&self) -> Duration {
        self.minutes_previous.map_or(self.window, |minutes| {
            Duration::from_secs(u64::from(minutes) * 60)
        })
    }
}

fn parse_window(text: &str) -> Result<Duration, String> {
    let window = parse_duration(text).map_err(|e| e.to_string())?;
    if window.is_zero() {
        return Err("the window must be more than zero".into());
    }
    Ok(window)
}

fn parse_time(text: &str) -> Result<nightwatch_search::Timestamp, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("{text:?} is not a UTC time such as 2026-11-25T00:15:00Z: {e}"))
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`.
fn parse_region(text: &str) -> Result<String, String> {
    let region = text.trim().to_ascii_lowercase();
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if well_formed {
        Ok(region)
    } else {
        Err(format!(
            "{text:?} is not an AWS region: expected a name such as us-east-1 or eu-west-1"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::try_parse_from(
            ["check-cloudtrail-es", "-H", "es", "--index", "l-%Y.%m.%d"]
                .iter()
                .chain(args),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn the_issue_command_line_parses() {
        let args = parse(&[
            "--window",
            "30m",
            "--type",
            "cloudtrail",
            "--query",
            "Authorize*",
            "--field",
            "eventName",
            "-c",
            "0",
        ])
        .unwrap();
        assert_eq!(args.window_length(), Duration::from_mins(30));
        assert_eq!(args.doc_type.as_deref(), Some("cloudtrail"));
        assert_eq!(args.thresholds.critical.unwrap().to_string(), "0");
    }

    #[test]
    fn minutes_previous_is_minutes_not_seconds() {
        let args = parse(&["--minutes-previous", "30"]).unwrap();
        assert_eq!(args.window_length(), Duration::from_mins(30));
        let both = parse(&["--minutes-previous", "30", "--window", "1h"]).unwrap_err();
        assert!(both.contains("cannot be used with"), "{both}");
        assert!(parse(&["--window", "0s"]).is_err());
    }

    #[test]
    fn presets_regions_and_ports_are_checked_when_parsed() {
        let args = parse(&[
            "--preset",
            "security-groups,iam",
            "--preset",
            "trail",
            "--regions",
            "us-east-1,EU-west-1",
            "--allow-world-ports",
            "443,8000-8100,icmp",
        ])
        .unwrap();
        assert_eq!(
            args.preset,
            [Preset::SecurityGroups, Preset::Iam, Preset::Trail]
        );
        assert_eq!(args.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(args.allow_world_ports.len(), 3);
        let region = parse(&["--regions", "us-east"]).unwrap_err();
        assert!(region.contains("is not an AWS region"), "{region}");
        let ports = parse(&["--allow-world-ports", "22-"]).unwrap_err();
        assert!(ports.contains("not a port"), "{ports}");
        let preset = parse(&["--preset", "s3"]).unwrap_err();
        assert!(preset.contains("security-groups"), "{preset}");
        let count = parse(&["--count-only", "--allow-groups", "sg-1"]).unwrap_err();
        assert!(count.contains("cannot be used with"), "{count}");
        // --preset regions needs the regions even when only counting.
        assert!(
            parse(&[
                "--count-only",
                "--preset",
                "regions",
                "--regions",
                "us-east-1"
            ])
            .is_ok()
        );
    }
}
