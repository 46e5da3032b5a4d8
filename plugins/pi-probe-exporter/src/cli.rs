//! The command line of `pi-probe-exporter`, here in the library so man pages
//! and completions are generated from it (`nightwatch-docgen`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::clock::SyncSource;
use crate::log::Log;
use crate::simulate::{self, Corruption, FileFormat, Scenario, ScenarioOptions};
use crate::{DaemonOptions, Error, Overrides};

const EXAMPLES: &str = "\
Example:
  pi-probe-exporter --config /etc/pi-probe-exporter.toml --listen 9101

Demo without a Pi (one simulated minute per second):
  pi-probe-exporter simulate --w1-dir /tmp/w1 --scenario all --speed 60 &
  pi-probe-exporter --w1-dir /tmp/w1 --spool-dir /tmp/spool \\
      --graphite 127.0.0.1:2003 --assume-clock-synced";

/// Sends DS18B20 1-wire temperatures to Graphite; spools to disk while
/// Graphite is unreachable.
#[derive(Debug, Parser)]
#[command(
    name = "pi-probe-exporter",
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    term_width = 80
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Args)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent command-line flags"
)]
pub struct RunArgs {
    /// TOML config file (default: built-in defaults)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of 1-wire devices [default: /sys/bus/w1/devices]
    #[arg(long, value_name = "DIR")]
    w1_dir: Option<PathBuf>,
    /// Carbon plaintext address (overrides graphite.address)
    #[arg(long, value_name = "HOST:PORT")]
    graphite: Option<String>,
    /// Spool directory (overrides spool.dir)
    #[arg(long, value_name = "DIR")]
    spool_dir: Option<PathBuf>,
    /// Time between readings, e.g. 1s (overrides reading.interval)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    interval: Option<Duration>,
    /// Serve Prometheus /metrics; a bare port means 127.0.0.1
    #[arg(long, value_name = "[ADDR:]PORT", value_parser = listen)]
    listen: Option<SocketAddr>,
    /// Trust the wall clock without asking adjtimex (boards with an RTC)
    #[arg(long)]
    assume_clock_synced: bool,
    /// Stop after this long, sending what is spooled first (for tests)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    run_for: Option<Duration>,
    /// Print the effective configuration and exit
    #[arg(long)]
    check_config: bool,
    /// Testing: the clock counts as synced only while FILE exists
    #[arg(
        long,
        value_name = "FILE",
        hide = true,
        conflicts_with = "assume_clock_synced"
    )]
    clock_sync_file: Option<PathBuf>,
    /// Testing: add SECONDS to the wall clock while it is unsynced
    #[arg(
        long,
        value_name = "SECONDS",
        hide = true,
        allow_negative_numbers = true
    )]
    unsynced_clock_offset: Option<i64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a synthetic 1-wire tree for demos and tests
    Simulate(SimulateArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SimulateArgs {
    #[command(subcommand)]
    action: Option<SimAction>,
    /// Directory to write probe directories into
    #[arg(long, value_name = "DIR", required = true)]
    w1_dir: Option<PathBuf>,
    /// ham, oven, crc, glitch, vanish, or all (ham+oven+crc+glitch)
    #[arg(long, default_value = "all", value_parser = scenario)]
    scenario: Scenario,
    /// Simulated seconds per real second
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Real time between writes
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = duration)]
    interval: Duration,
    #[arg(
        long,
        default_value = "w1_slave",
        value_parser = file_format,
        help = "Files to write: w1_slave, temperature or both"
    )]
    format: FileFormat,
    /// Stop after this long (real time)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    run_for: Option<Duration>,
    /// Write one frame and exit
    #[arg(long)]
    once: bool,
    /// Simulated time of the first frame, e.g. 2h
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = duration)]
    at: Duration,
}

#[derive(Debug, Subcommand)]
pub enum SimAction {
    /// Write a fixed temperature to one probe
    #[command(
        group(ArgGroup::new("value").required(true).args(["celsius", "millis"])),
        override_usage = "pi-probe-exporter simulate set --w1-dir <DIR> --probe <ID>\n       \
                          <--celsius <C>|--millis <N>> [--crc-fail] [--format <FORMAT>]"
    )]
    Set {
        /// Directory to write the probe directory into
        #[arg(long, value_name = "DIR")]
        w1_dir: PathBuf,
        /// Probe id, e.g. 28-0316a2b4c5ff
        #[arg(long, value_name = "ID")]
        probe: String,
        /// Temperature, quantised to 1/16 °C like the sensor
        #[arg(long, value_name = "C", allow_negative_numbers = true)]
        celsius: Option<f64>,
        /// Exact t= value in millidegrees, e.g. 85000
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        millis: Option<i32>,
        /// Make the kernel's CRC check say NO
        #[arg(long)]
        crc_fail: bool,
        #[arg(
            long,
            default_value = "w1_slave",
            value_parser = file_format,
            help = "Files to write: w1_slave, temperature or both"
        )]
        format: FileFormat,
    },
    #[command(
        about = "Write a bad w1_slave: truncated, no-t, garbage or empty",
        override_usage = "pi-probe-exporter simulate corrupt --w1-dir <DIR> --probe <ID>\n       \
                          --kind <KIND>"
    )]
    Corrupt {
        /// Directory holding the probe directory
        #[arg(long, value_name = "DIR")]
        w1_dir: PathBuf,
        /// Probe id
        #[arg(long, value_name = "ID")]
        probe: String,
        /// truncated, no-t, garbage or empty
        #[arg(long, value_parser = corruption)]
        kind: Corruption,
    },
    /// Remove a probe, as if unplugged
    Remove {
        /// Directory holding the probe directory
        #[arg(long, value_name = "DIR")]
        w1_dir: PathBuf,
        /// Probe id
        #[arg(long, value_name = "ID")]
        probe: String,
    },
}

fn duration(s: &str) -> Result<Duration, String> {
    nightwatch_core::duration::parse_duration(s).map_err(|e| e.to_string())
}

fn listen(s: &str) -> Result<SocketAddr, String> {
    crate::http::parse_listen(s)
}

fn scenario(s: &str) -> Result<Scenario, String> {
    Scenario::parse(s).ok_or_else(|| "use ham, oven, crc, glitch, vanish or all".into())
}

fn file_format(s: &str) -> Result<FileFormat, String> {
    FileFormat::parse(s).ok_or_else(|| "use w1_slave, temperature or both".into())
}

fn corruption(s: &str) -> Result<Corruption, String> {
    Corruption::parse(s).ok_or_else(|| "use truncated, no-t, garbage or empty".into())
}

fn run(a: RunArgs, log: &Log) -> Result<(), Error> {
    let overrides = Overrides {
        w1_dir: a.w1_dir,
        graphite: a.graphite,
        spool_dir: a.spool_dir,
        interval: a.interval,
        listen: a.listen,
    };
    if a.check_config {
        let cfg = crate::effective_config(a.config.as_deref(), &overrides)?;
        print!("{}", cfg.to_toml());
        return Ok(());
    }
    let sync = match (a.assume_clock_synced, a.clock_sync_file) {
        (true, _) => SyncSource::Assume,
        (false, Some(f)) => SyncSource::File(f),
        (false, None) => SyncSource::Kernel,
    };
    let opts = DaemonOptions {
        config: a.config,
        overrides,
        sync,
        unsynced_clock_offset_ms: a.unsynced_clock_offset.unwrap_or(0).saturating_mul(1000),
        run_for: a.run_for,
    };
    crate::run_daemon(&opts, log)
}

fn simulate(a: SimulateArgs, log: &Log) -> Result<(), Error> {
    use crate::{check_probe_arg, simulate_io};
    match a.action {
        None => {
            let w1_dir = a.w1_dir.expect("clap requires --w1-dir");
            crate::run_simulation(
                &ScenarioOptions {
                    w1_dir,
                    scenario: a.scenario,
                    speed: a.speed,
                    interval: a.interval,
                    format: a.format,
                    run_for: a.run_for,
                    once: a.once,
                    start_at: a.at,
                },
                log,
            )
        }
        Some(SimAction::Set {
            w1_dir,
            probe,
            celsius,
            millis,
            crc_fail,
            format,
        }) => {
            check_probe_arg(&probe)?;
            let written = match (celsius, millis) {
                (Some(c), _) => simulate::set_probe_celsius(&w1_dir, &probe, c, !crc_fail, format)
                    .map_err(simulate_io(&w1_dir))?,
                (None, Some(m)) => {
                    simulate::write_probe(&w1_dir, &probe, m, !crc_fail, format)
                        .map_err(simulate_io(&w1_dir))?;
                    m
                }
                (None, None) => unreachable!("clap requires --celsius or --millis"),
            };
            println!("{probe} t={written}");
            Ok(())
        }
        Some(SimAction::Corrupt {
            w1_dir,
            probe,
            kind,
        }) => {
            check_probe_arg(&probe)?;
            simulate::corrupt_probe(&w1_dir, &probe, kind).map_err(simulate_io(&w1_dir))
        }
        Some(SimAction::Remove { w1_dir, probe }) => {
            check_probe_arg(&probe)?;
            simulate::remove_probe(&w1_dir, &probe).map_err(simulate_io(&w1_dir))
        }
    }
}

/// Runs what the command line asks for.
pub fn execute(cli: Cli, log: &Log) -> Result<(), Error> {
    match cli.command {
        Some(Command::Simulate(s)) => simulate(s, log),
        None => run(cli.run, log),
    }
}
