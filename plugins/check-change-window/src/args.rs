//! Command-line options, parsed straight into domain values: a bad time,
//! zone or duration is an argument error, never a late surprise.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use nightwatch_core::duration::parse_duration;
use nightwatch_core::{CommonArgs, PluginArgs};

use crate::record::Plan;
use crate::when::When;

const CHECK_EXAMPLES: &str = "\
Examples:
  check-change-window --changes /srv/changes --host web01
  check-change-window --changes /srv/changes --all --freeze /srv/freeze.yaml \\
    --require rollback,test --at '2026-12-03 03:00 Europe/Berlin'
  check-change-window --changes /srv/changes --host web01 --observed es \\
    --url http://es:9200 --index 'logstash-%Y.%m.%d' --query 'tags:deploy' \\
    --host-field host.keyword

Tools (not checks; see their --help):
  check-change-window digest FILE       the digest a reviewer approves
  check-change-window schedule --changes DIR   downtime for approved windows";

#[derive(Debug, Parser)]
#[command(
    name = "check-change-window",
    version,
    max_term_width = 80,
    about = "Page on unplanned, unapproved or runaway changes",
    after_help = CHECK_EXAMPLES,
    group(ArgGroup::new("scope").required(true).args(["host", "all"])),
)]
pub struct Args {
    /// Directory of change records (*.md, *.json exports), or one file
    #[arg(long, value_name = "PATH")]
    pub changes: PathBuf,

    /// Judge the changes that name this host (or a glob matching it);
    /// repeatable
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,

    /// Judge every change, whatever its hosts
    #[arg(long)]
    pub all: bool,

    /// Freeze calendar (YAML: yearly month-day ranges, one-off ranges)
    #[arg(long, value_name = "FILE")]
    pub freeze: Option<PathBuf>,

    /// Evaluate at this instant instead of now: RFC 3339, or a local time
    /// and an IANA zone ('2026-12-03 03:00 Europe/Berlin')
    #[arg(long, value_name = "TIME")]
    pub at: Option<When>,

    /// Name what starts within this long
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub horizon: Duration,

    /// An overrun longer than this is CRITICAL (shorter: WARNING)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub overrun_critical: Duration,

    /// Plans an approved change must have (comma list)
    #[arg(long, value_name = "PLANS", value_enum, value_delimiter = ',')]
    pub require: Vec<Plan>,

    #[command(flatten)]
    pub observed: crate::observed::ObservedArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl PluginArgs for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

/// The tools beside the check: they print data, not a check result.
#[derive(Debug, Parser)]
#[command(name = "check-change-window", version, max_term_width = 80)]
pub struct ToolArgs {
    #[command(subcommand)]
    pub tool: Tool,
}

#[derive(Debug, Subcommand)]
pub enum Tool {
    /// Print the digest of a change's plan, for a reviewer's approval
    #[command(
        after_help = "Example:\n  check-change-window digest /srv/changes/cmb-42.md\n  \
        sha256:6f1c…   (put it in your approval: `digest: sha256:6f1c…`)"
    )]
    Digest {
        /// A change record (*.md), or a JSON export with --id
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Which record of a JSON export
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
    /// Turn approved windows starting within --horizon into downtime
    #[command(after_help = "Examples:\n  \
        check-change-window schedule --changes /srv/changes \\\n    \
        --command-file /var/lib/nagios4/rw/nagios.cmd --status-file /var/lib/nagios4/status.dat\n  \
        check-change-window schedule --changes /srv/changes --format sensu | sensuctl create\n  \
        ICINGA2_API_PASSWORD=… check-change-window schedule --changes /srv/changes \\\n    \
        --format icinga2 --icinga2-url https://icinga:5665 --icinga2-user downtime \\\n    \
        --ca-file /var/lib/icinga2/certs/ca.crt\n\n\
        Exit status: 0 done, 1 a server could not be reached or failed, 2 a mistake\n\
        to fix (arguments, records, credentials).")]
    Schedule(Box<ScheduleArgs>),
}

/// Where downtime goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Nagios external commands (`SCHEDULE_HOST_DOWNTIME`, `SCHEDULE_SVC_DOWNTIME`)
    Nagios,
    /// Sensu Go silenced entries, for `sensuctl create`
    Sensu,
    /// Icinga 2 API schedule-downtime requests: sent with --icinga2-url,
    /// else printed one JSON object a line
    Icinga2,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    /// Directory of change records (*.md, *.json exports), or one file
    #[arg(long, value_name = "PATH")]
    pub changes: PathBuf,

    /// Windows starting within this long get downtime
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    pub horizon: Duration,

    /// Schedule as if it were this instant
    #[arg(long, value_name = "TIME")]
    pub at: Option<When>,

    #[arg(long, value_enum, default_value_t = Format::Nagios)]
    pub format: Format,

    /// Nagios: write the commands to this command file (FIFO) instead of
    /// stdout
    #[arg(long, value_name = "PATH", requires = "status_file")]
    pub command_file: Option<PathBuf>,

    /// Nagios: status.dat, to skip downtime already scheduled for a change
    /// and to expand host globs
    #[arg(long, value_name = "PATH")]
    pub status_file: Option<PathBuf>,

    /// Nagios: wait up to this long for status.dat to show the downtime
    /// written, so that a run right after this one finds it (0: do not
    /// wait)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub confirm: Duration,

    /// Look up what exists, then print what would be sent instead of
    /// writing to the command file or the Icinga 2 API
    #[arg(long)]
    pub dry_run: bool,

    /// Also put these services in downtime on each host (repeatable);
    /// without it the hosts go in downtime, which silences their services'
    /// notifications too
    #[arg(long, value_name = "SERVICE")]
    pub service: Vec<String>,

    /// Author of the downtime
    #[arg(long, value_name = "NAME", default_value = "check-change-window")]
    pub author: String,

    /// Sensu namespace of the silenced entries
    #[arg(long, value_name = "NAMESPACE", default_value = "default")]
    pub namespace: String,

    #[command(flatten)]
    pub icinga2: crate::icinga2::Icinga2Args,
}
