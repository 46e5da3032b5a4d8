//! The `digest` and `schedule` tools. They print data for people and other
//! tools, not a check result: exit 0 when done, 1 when they could not do
//! it (the reason on stderr), 2 for bad arguments.

use std::io::Write as _;
use std::path::Path;

use clap::Parser;
use jiff::Timestamp;

use crate::args::{Format, ScheduleArgs, Tool, ToolArgs};
use crate::record::{parse_json, parse_markdown, read_records};
use crate::schedule::{self, icinga2_request, nagios_command, parse_status, sensu_silenced};

/// Parses the tool's arguments, runs it and exits.
pub fn main() -> ! {
    let args = ToolArgs::parse();
    let result = match args.tool {
        Tool::Digest { file, id } => digest(&file, id.as_deref()).map(|d| vec![d]),
        Tool::Schedule(args) => run_schedule(&args),
    };
    match result {
        Ok(lines) => {
            let mut out = std::io::stdout().lock();
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            std::process::exit(0)
        }
        Err(message) => {
            eprintln!("check-change-window: {message}");
            std::process::exit(1)
        }
    }
}

/// The digest of the record in `file` (`id` picks one of a JSON export).
pub fn digest(file: &Path, id: Option<&str>) -> Result<String, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if !is_json {
        return parse_markdown(file, &text)
            .map(|change| change.digest)
            .map_err(|e| e.to_string());
    }
    let records = parse_json(file, &text);
    let found: Vec<_> = records
        .changes
        .iter()
        .filter(|c| id.is_none_or(|id| c.id == id))
        .collect();
    match (found.as_slice(), id) {
        ([one], _) => Ok(one.digest.clone()),
        ([], Some(id)) => Err(match records.broken.first() {
            Some(broken) => format!("no valid record {id} in {} ({broken})", file.display()),
            None => format!("no record {id} in {}", file.display()),
        }),
        ([], None) => Err(format!("no valid record in {}", file.display())),
        (_, _) => Err(format!(
            "{} holds {} records: say which with --id",
            file.display(),
            found.len()
        )),
    }
}

/// Plans the downtime and writes it where `--format` says; returns the
/// lines for stdout.
pub fn run_schedule(args: &ScheduleArgs) -> Result<Vec<String>, String> {
    let now = args
        .at
        .as_ref()
        .map_or_else(Timestamp::now, |at| at.timestamp);
    let records = read_records(&args.changes).map_err(|e| {
        format!(
            "cannot read the change records at {}: {e}",
            args.changes.display()
        )
    })?;
    let status = match &args.status_file {
        Some(path) => Some(parse_status(&std::fs::read_to_string(path).map_err(
            |e| format!("cannot read --status-file {}: {e}", path.display()),
        )?)),
        None => None,
    };
    let plan = schedule::plan(
        &records.changes,
        now,
        args.horizon,
        &args.service,
        status.as_ref().map(|s| s.hosts.as_slice()),
    );
    let mut out = Vec::new();
    let mut notes: Vec<String> = records
        .broken
        .iter()
        .map(|b| format!("broken record left out: {b}"))
        .collect();
    notes.extend(plan.notes);
    match args.format {
        Format::Nagios => {
            let mut commands = Vec::new();
            for downtime in &plan.downtime {
                let what = match &downtime.service {
                    Some(service) => format!("{}/{service}", downtime.host),
                    None => downtime.host.clone(),
                };
                let unknown_service = downtime.service.as_deref().is_some_and(|service| {
                    status
                        .as_ref()
                        .is_some_and(|s| !s.knows(&downtime.host, service))
                });
                if unknown_service {
                    notes.push(format!(
                        "{}: {what} left out, Nagios has no such service",
                        downtime.change_id
                    ));
                } else if status.as_ref().is_some_and(|s| s.has(downtime)) {
                    notes.push(format!(
                        "{}: {what} already in downtime",
                        downtime.change_id
                    ));
                } else {
                    commands.push(nagios_command(downtime, &args.author, now));
                    notes.push(format!("{}: downtime for {what}", downtime.change_id));
                }
            }
            match &args.command_file {
                Some(path) => write_commands(path, &commands)?,
                None => out.extend(commands),
            }
        }
        Format::Sensu => out.extend(
            plan.downtime
                .iter()
                .map(|d| sensu_silenced(d, &args.author, &args.namespace).to_string()),
        ),
        Format::Icinga2 => out.extend(
            plan.downtime
                .iter()
                .map(|d| icinga2_request(d, &args.author).to_string()),
        ),
    }
    // Notes go to stderr when stdout carries data for another tool.
    if args.format == Format::Nagios && args.command_file.is_some() {
        out.extend(notes);
    } else {
        for note in notes {
            eprintln!("{note}");
        }
    }
    Ok(out)
}

/// Writes to Nagios' command FIFO, one command per write so Nagios never
/// reads half a line.
fn write_commands(path: &Path, commands: &[String]) -> Result<(), String> {
    if commands.is_empty() {
        return Ok(());
    }
    let mut fifo = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| {
            format!(
                "cannot open the Nagios command file {}: {e}",
                path.display()
            )
        })?;
    for command in commands {
        fifo.write_all(format!("{command}\n").as_bytes())
            .map_err(|e| format!("cannot write to {}: {e}", path.display()))?;
    }
    Ok(())
}
