use std::process::ExitCode;

use clap::Parser;
use pi_probe_exporter::cli::{Cli, execute};
use pi_probe_exporter::log::Log;

fn main() -> ExitCode {
    match execute(Cli::parse(), &Log::stderr()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pi-probe-exporter: error: {e}");
            ExitCode::FAILURE
        }
    }
}
