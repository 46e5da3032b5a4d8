//! A plugin that misbehaves on request (panics, hangs, fails), so the
//! guard's tests can show each ends as one UNKNOWN line and exit 3.

use nightwatch_core::{Blame, CheckError, CommonArgs, FaultStates, Finding, PluginArgs, State};

#[derive(Debug, clap::Parser)]
#[command(
    name = "nightwatch-guard-probe",
    version,
    about = "Misbehaves on request"
)]
struct Args {
    /// ok, critical, panic, hang, source-down, monitored-down, stderr
    #[arg(long)]
    mode: String,

    #[command(flatten)]
    common: CommonArgs,
}

impl PluginArgs for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the probe's source at 127.0.0.1:9 refused the connection")]
struct ProbeError(Blame);

impl CheckError for ProbeError {
    fn blame(&self) -> Blame {
        self.0
    }
}

fn main() {
    nightwatch_core::guard::run(
        "PROBE",
        FaultStates::default(),
        |args: &Args, context| match args.mode.as_str() {
            "ok" => Ok(context
                .report()
                .with_state(State::Ok)
                .with_summary("all fine")),
            "critical" => {
                let mut report = context.report();
                report.add_finding(Finding::new(State::Critical, "ham 141.2 above 140"));
                Ok(report)
            }
            "panic" => panic!("the probe was asked to panic"),
            "hang" => {
                context.doing("reading from a server that never answers");
                std::thread::sleep(std::time::Duration::from_hours(1));
                unreachable!("the watchdog exits first")
            }
            "source-down" => Err(ProbeError(Blame::Source)),
            "monitored-down" => Err(ProbeError(Blame::Monitored)),
            other => panic!("unknown mode {other}"),
        },
    )
}
