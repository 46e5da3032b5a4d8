//! The `digest` and `schedule` tools. They print data for people and other
//! tools, not a check result: exit 0 when done, 1 when a server could not
//! be reached or failed, 2 for a mistake to fix (bad arguments, records
//! or credentials); the reason on stderr.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use clap::Parser;
use jiff::Timestamp;
use nightwatch_core::Blame;

use crate::args::{Format, ScheduleArgs, Tool, ToolArgs};
use crate::icinga2::{self, Icinga2, Icinga2Error, Step};
use crate::record::{Change, parse_json, parse_markdown, read_records};
use crate::schedule::{self, Downtime, Known, nagios_command, parse_status, sensu_silenced};

/// Why a tool could not do its job, whose fault that is, and what it had
/// done before it stopped.
#[derive(Debug)]
pub struct ToolError {
    pub message: String,
    pub blame: Blame,
    pub done: Vec<String>,
}

impl ToolError {
    fn usage(message: impl Into<String>) -> ToolError {
        ToolError {
            message: message.into(),
            blame: Blame::Usage,
            done: Vec::new(),
        }
    }

    fn failed(message: impl Into<String>) -> ToolError {
        ToolError {
            message: message.into(),
            blame: Blame::Source,
            done: Vec::new(),
        }
    }

    /// 2 for a mistake to fix (arguments, records, credentials), as clap
    /// exits for bad arguments; 1 for a server that could not be reached
    /// or failed.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        if self.blame == Blame::Usage { 2 } else { 1 }
    }
}

impl From<Icinga2Error> for ToolError {
    fn from(error: Icinga2Error) -> ToolError {
        ToolError {
            message: error.to_string(),
            blame: error.blame(),
            done: Vec::new(),
        }
    }
}

/// Parses the tool's arguments, runs it and exits.
pub fn main() -> ! {
    let args = ToolArgs::parse();
    let result = match args.tool {
        Tool::Digest { file, id } => digest(&file, id.as_deref())
            .map(|d| vec![d])
            .map_err(ToolError::usage),
        Tool::Schedule(args) => run_schedule(&args),
    };
    let mut out = std::io::stdout().lock();
    match result {
        Ok(lines) => {
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
            std::process::exit(0)
        }
        Err(error) => {
            for line in &error.done {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
            eprintln!("check-change-window: {}", error.message);
            std::process::exit(error.exit_code())
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

const USER_AGENT: &str = concat!("check-change-window/", env!("CARGO_PKG_VERSION"));

/// Plans the downtime and writes it where `--format` says; returns the
/// lines for stdout.
pub fn run_schedule(args: &ScheduleArgs) -> Result<Vec<String>, ToolError> {
    let now = args
        .at
        .as_ref()
        .map_or_else(Timestamp::now, |at| at.timestamp);
    if args.icinga2.icinga2_url.is_some() && args.format != Format::Icinga2 {
        return Err(ToolError::usage(
            "--icinga2-url sends Icinga 2 requests: add --format icinga2",
        ));
    }
    let records = read_records(&args.changes).map_err(|e| {
        ToolError::usage(format!(
            "cannot read the change records at {}: {e}",
            args.changes.display()
        ))
    })?;
    let notes: Vec<String> = records
        .broken
        .iter()
        .map(|b| format!("broken record left out: {b}"))
        .collect();
    // Notes go to stdout when the data went to a server, else to stderr
    // beside the data on stdout, for another tool.
    let to_server = match args.format {
        Format::Nagios => args.command_file.is_some(),
        Format::Sensu => false,
        Format::Icinga2 => args.icinga2.icinga2_url.is_some(),
    };
    let mut run = Run {
        args,
        changes: &records.changes,
        now,
        out: Vec::new(),
        notes,
    };
    match (args.format, &args.icinga2.icinga2_url) {
        (Format::Icinga2, Some(_)) => {
            if let Err(mut error) = run.icinga2() {
                error.done = run.notes;
                return Err(error);
            }
        }
        (Format::Nagios, _) => run.nagios()?,
        (Format::Sensu | Format::Icinga2, _) => {
            let plan = schedule::plan(run.changes, now, args.horizon, &args.service, None);
            run.notes.extend(plan.notes);
            run.out
                .extend(plan.downtime.iter().map(|d| match args.format {
                    Format::Sensu => sensu_silenced(d, &args.author, &args.namespace).to_string(),
                    _ => icinga2::request(d, &args.author, true).to_string(),
                }));
        }
    }
    let Run { mut out, notes, .. } = run;
    if to_server {
        out.extend(notes);
    } else {
        for note in notes {
            eprintln!("{note}");
        }
    }
    Ok(out)
}

/// One `schedule` run: what it reads, and what it has to say.
struct Run<'a> {
    args: &'a ScheduleArgs,
    changes: &'a [Change],
    now: Timestamp,
    /// Data for stdout: commands or requests not sent.
    out: Vec<String>,
    /// What was done or left out, and why.
    notes: Vec<String>,
}

impl Run<'_> {
    /// Nagios: the commands to the FIFO (or stdout), leaving out what
    /// `status.dat` shows, then waiting until it shows what was written.
    fn nagios(&mut self) -> Result<(), ToolError> {
        let (args, now) = (self.args, self.now);
        let status = match &args.status_file {
            Some(path) => Some(read_status(path)?),
            None => None,
        };
        let plan = schedule::plan(
            self.changes,
            now,
            args.horizon,
            &args.service,
            status.as_ref().map(|s| s.hosts.as_slice()),
        );
        self.notes.extend(plan.notes);
        let mut commands = Vec::new();
        let mut written = Vec::new();
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
            let unknown_host = status
                .as_ref()
                .is_some_and(|s| !s.hosts.iter().any(|h| h == &downtime.host));
            if unknown_host {
                // Nagios rejects the command; said once per host.
                if downtime.service.is_none() {
                    self.notes.push(format!(
                        "{}: {} left out, Nagios has no such host",
                        downtime.change_id, downtime.host
                    ));
                }
            } else if unknown_service {
                self.notes.push(format!(
                    "{}: {what} left out, Nagios has no such service",
                    downtime.change_id
                ));
            } else if status.as_ref().is_some_and(|s| s.has(downtime)) {
                self.notes.push(format!(
                    "{}: {what} already in downtime",
                    downtime.change_id
                ));
            } else {
                commands.push(nagios_command(downtime, &args.author, now));
                written.push(downtime.clone());
                let verb = if args.dry_run {
                    "would schedule downtime"
                } else {
                    "downtime"
                };
                self.notes
                    .push(format!("{}: {verb} for {what}", downtime.change_id));
            }
        }
        match (&args.command_file, &args.status_file) {
            (Some(path), Some(status_file)) if !args.dry_run => {
                write_commands(path, &commands).map_err(ToolError::usage)?;
                confirm(status_file, &written, args.confirm)?;
            }
            _ => self.out.extend(commands),
        }
        Ok(())
    }

    /// Icinga 2: looks up what exists, then sends (or with `--dry-run`
    /// prints) what is missing.
    fn icinga2(&mut self) -> Result<(), ToolError> {
        let args = self.args;
        let api = Icinga2::connect(&args.icinga2, USER_AGENT)?;
        let known = api.known()?;
        let plan = schedule::plan(
            self.changes,
            self.now,
            args.horizon,
            &args.service,
            Some(&known.hosts),
        );
        self.notes.extend(plan.notes);
        for action in icinga2::steps(&plan.downtime, &known, &args.service, &args.author) {
            let id = &action.change_id;
            let what = &action.what;
            match action.step {
                Step::Skip(note) => self.notes.push(note),
                Step::Send(request) if args.dry_run => {
                    self.out.push(request.to_string());
                    self.notes
                        .push(format!("{id}: would schedule downtime for {what}"));
                }
                Step::Send(request) => match api.schedule(&request, what) {
                    Ok(0) => self.notes.push(format!("{id}: downtime for {what}")),
                    Ok(services) => self.notes.push(format!(
                        "{id}: downtime for {what} and its {services} service{}",
                        if services == 1 { "" } else { "s" }
                    )),
                    Err(error) => return Err(error.into()),
                },
            }
        }
        Ok(())
    }
}

fn read_status(path: &Path) -> Result<Known, ToolError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ToolError::usage(format!("cannot read --status-file {}: {e}", path.display()))
    })?;
    parse_status(&text).ok_or_else(|| {
        ToolError::failed(format!(
            "--status-file {} holds no Nagios program status: is Nagios running and is this its status_file?",
            path.display()
        ))
    })
}

/// Waits until `status.dat` shows every downtime written: Nagios rewrites
/// it every `status_update_interval` (10 s by default), and a run that
/// read it before then would schedule the same downtime again.
fn confirm(status_file: &Path, written: &[Downtime], within: Duration) -> Result<(), ToolError> {
    if written.is_empty() || within.is_zero() {
        return Ok(());
    }
    let deadline = Instant::now() + within;
    loop {
        let status = read_status(status_file)?;
        let missing: Vec<&Downtime> = written.iter().filter(|d| !status.has(d)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let names: Vec<String> = missing
                .iter()
                .map(|d| match &d.service {
                    Some(service) => format!("{} {}/{service}", d.change_id, d.host),
                    None => format!("{} {}", d.change_id, d.host),
                })
                .collect();
            return Err(ToolError::failed(format!(
                "the downtime was written to the command file, but {} does not show {} after {}: is Nagios running, and what does its log say?",
                status_file.display(),
                names.join(", "),
                nightwatch_core::display::duration(within)
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
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
