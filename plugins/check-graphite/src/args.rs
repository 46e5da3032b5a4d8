//! Command-line options, parsed straight into domain values: a bad range or
//! time is an argument error, never a late surprise.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use nightwatch_core::duration::parse_duration;
use nightwatch_core::{CommonArgs, PluginArgs, Range, State, ThresholdArgs};
use nightwatch_http::{HttpArgs, SecretNames, Url, parse_base_url};

/// Where check-graphite reads its secrets from.
#[derive(Debug, Clone)]
pub struct GraphiteSecrets;

impl SecretNames for GraphiteSecrets {
    const PASSWORD_ENV: &'static str = "GRAPHITE_PASSWORD";
    const TOKEN_ENV: &'static str = "GRAPHITE_TOKEN";
}

/// How a series' window becomes the one number judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Aggregation {
    /// The newest non-null point
    Last,
    /// The mean of the non-null points
    Avg,
    Min,
    Max,
    Sum,
    Median,
    /// The rate of change per minute, fitted over the window
    Slope,
}

impl Aggregation {
    /// The name as given on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Last => "last",
            Aggregation::Avg => "avg",
            Aggregation::Min => "min",
            Aggregation::Max => "max",
            Aggregation::Sum => "sum",
            Aggregation::Median => "median",
            Aggregation::Slope => "slope",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "check-graphite",
    version,
    max_term_width = 80,
    about = "Judge Graphite metrics against Nagios thresholds",
    after_help = "Example (warn above 135°F, page above 140°F; silent for 2 min is UNKNOWN):\n  \
        check-graphite -U http://graphite:8080 --target christmaspi.temperature.ham \\\n    \
        -w 135 -c 140 --max-age 2m --unit °F"
)]
pub struct Args {
    /// graphite-web base URL
    #[arg(short = 'U', long, value_name = "URL", value_parser = parse_base_url)]
    pub url: Url,

    /// Graphite target: a path, a wildcard or a function (repeatable)
    #[arg(long, value_name = "TARGET", required = true)]
    pub target: Vec<String>,

    /// Start of the window, Graphite time syntax
    #[arg(long, value_name = "TIME", default_value = "-5min", value_parser = graphite_time,
          allow_hyphen_values = true)]
    pub from: String,

    /// End of the window, Graphite time syntax [default: now]
    #[arg(long, value_name = "TIME", value_parser = graphite_time, allow_hyphen_values = true)]
    pub until: Option<String>,

    #[command(flatten)]
    pub thresholds: ThresholdArgs,

    /// What to judge from each series' window
    #[arg(long, value_enum, default_value_t = Aggregation::Last)]
    pub agg: Aggregation,

    /// A series whose newest point is older than this is stale
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_age: Option<Duration>,

    /// State of a stale series
    #[arg(long, value_name = "STATE", default_value = "unknown")]
    pub stale_state: State,

    /// Physically plausible values: outside, or at an edge for the whole
    /// window, is a sensor fault (UNKNOWN), not judged
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    pub valid: Option<Range>,

    /// Perfdata label and name in messages [default: the series' last path node]
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,

    /// Unit shown after values in messages (°F); perfdata stays unitless
    #[arg(
        long,
        value_name = "UNIT",
        default_value = "",
        hide_default_value = true
    )]
    pub unit: String,

    /// Fewer matching series than this is UNKNOWN
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_series: usize,

    /// Say when the value will cross the thresholds at the current rate
    #[arg(long)]
    pub forecast: bool,

    /// WARNING now if the forecast crosses the critical threshold within
    /// this long (implies --forecast)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub forecast_warn: Option<Duration>,

    #[command(flatten)]
    pub http: HttpArgs<GraphiteSecrets>,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl PluginArgs for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

fn graphite_time(text: &str) -> Result<String, String> {
    nightwatch_graphite::check_time(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // parsed ends are exact
mod tests {
    use super::*;

    #[test]
    fn the_story_command_lines_parse() {
        let args = Args::try_parse_from([
            "check-graphite",
            "--url",
            "http://graphite:8080",
            "--target",
            "christmaspi.temperature.oven",
            "-w",
            "320:",
            "-c",
            "315:",
        ])
        .unwrap();
        assert_eq!(args.thresholds.warning.unwrap().to_string(), "320:");
        assert_eq!(args.from, "-5min");
        let err = Args::try_parse_from([
            "check-graphite",
            "-U",
            "http://g",
            "--target",
            "x",
            "--from",
            "-5m",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("minutes are 'min' in Graphite"), "{err}");
        let err = Args::try_parse_from([
            "check-graphite",
            "-U",
            "http://g",
            "--target",
            "x",
            "-c",
            "10:5",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("invalid range '10:5'"), "{err}");
    }

    #[test]
    fn negative_ranges_are_values_not_flags() {
        let args = Args::try_parse_from([
            "check-graphite",
            "-U",
            "http://g",
            "--target",
            "x",
            "-w",
            "-10:-2",
            "--valid",
            "-67:257",
        ])
        .unwrap();
        assert_eq!(args.thresholds.warning.unwrap().start(), -10.0);
        assert_eq!(args.valid.unwrap().to_string(), "-67:257");
    }

    #[test]
    fn durations_take_units_or_plain_seconds() {
        let parse = |max_age: &str| {
            Args::try_parse_from([
                "check-graphite",
                "-U",
                "http://g",
                "--target",
                "x",
                "--max-age",
                max_age,
                "--forecast-warn",
                "15min",
            ])
        };
        for (given, seconds) in [("120", 120), ("2m", 120), ("1h 30m", 5400), ("2.5", 2)] {
            let args = parse(given).unwrap();
            assert_eq!(args.max_age.map(|d| d.as_secs()), Some(seconds), "{given}");
            assert_eq!(args.forecast_warn, Some(Duration::from_mins(15)));
        }
        let err = parse("two minutes").unwrap_err().to_string();
        assert!(err.contains("'two minutes' is not a duration"), "{err}");
    }
}
