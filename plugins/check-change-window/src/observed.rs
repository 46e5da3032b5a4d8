//! The cross-check: changes observed on the hosts (deploy events in
//! Elasticsearch/OpenSearch, lines of a JSON-lines file) that no approved,
//! open window covers.

use std::time::Duration;

use clap::ValueEnum;
use jiff::Timestamp;
use nightwatch_core::duration::parse_duration;

/// Where observed changes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// An Elasticsearch or OpenSearch index
    Es,
    /// A JSON-lines file
    File,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ObservedArgs {
    /// Compare with changes observed in this source
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub observed: Option<Source>,

    /// Tolerance around a window for an observed change's clock
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub skew: Duration,
}

/// One change seen on a host.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub at: Timestamp,
    pub host: String,
    pub who: Option<String>,
    pub what: String,
}
