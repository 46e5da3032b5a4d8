use std::process::ExitCode;

use clap::Parser;
use nightwatch_core::log::{Role, init};
use pi_probe_exporter::cli::{Cli, execute};
use pi_probe_exporter::log::Log;

fn main() -> ExitCode {
    init("pi-probe-exporter", "pi_probe_exporter", Role::Daemon, 0);
    match execute(Cli::parse(), &Log::global()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
