//! The guard every plugin's `main` goes through: arguments, timeout, panics
//! and errors all end as one plugin line on stdout and an exit code 0–3.

use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::error::ErrorKind;

use crate::display::duration;
use crate::duration::parse_duration;
use crate::fault::{CheckError, FaultStates, sentence};
use crate::output::{DEFAULT_OUTPUT_BUDGET, Report};
use crate::state::State;

/// Options every plugin takes; `#[command(flatten)]` them into its arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Give up after this long (e.g. 10s, 1m) and report UNKNOWN, or the
    /// --timeout-state
    #[arg(short = 't', long, value_name = "DURATION", default_value = "10s",
          value_parser = parse_timeout)]
    pub timeout: Duration,

    /// State to report on timeout
    #[arg(long, value_name = "STATE", default_value = "unknown")]
    pub timeout_state: State,

    /// State to report when the data source or monitored server cannot be
    /// reached [default: unknown for a data source, critical for a server
    /// under test]
    #[arg(long, value_name = "STATE")]
    pub unreachable_state: Option<State>,

    /// Cap the output at this many bytes (Nagios 4 keeps 8192, NRPE v2 1024)
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_OUTPUT_BUDGET,
          value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(256..), usize::from))]
    pub output_limit: usize,

    /// More detail in the long text; debug lines on stderr (repeatable)
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// A duration as every flag takes one (`10`, `10s`, `1m`), more than zero:
/// a zero timeout would report UNKNOWN before the check could start.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("the timeout must be more than zero".into());
    }
    Ok(duration)
}

/// A plugin's parsed arguments, which hold the [`CommonArgs`].
pub trait PluginArgs: clap::Parser {
    fn common(&self) -> &CommonArgs;
}

/// What a running check knows about its limits, and the report it fills.
#[derive(Debug)]
pub struct Context {
    label: &'static str,
    deadline: Instant,
    faults: FaultStates,
    output_limit: usize,
}

impl Context {
    /// A context for calling a check directly, as tests do; `label` leads
    /// every line (`GRAPHITE`).
    #[must_use]
    pub fn new(label: &'static str, common: &CommonArgs, faults: FaultStates) -> Context {
        Context {
            label,
            // `-t 9223372036854775807` is past what an Instant holds: such
            // a deadline is as good as none.
            deadline: Instant::now()
                .checked_add(common.timeout)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(u64::from(u32::MAX))),
            faults: faults.unreachable_as(common.unreachable_state),
            output_limit: common.output_limit,
        }
    }

    /// An empty report with the plugin's label and output budget, so a
    /// check names neither again.
    #[must_use]
    pub fn report(&self) -> Report {
        Report::new(self.label).with_budget(self.output_limit)
    }

    /// Time left before the guard gives up; network calls should use less.
    #[must_use]
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Says what the check is doing, so a timeout can name what hung.
    pub fn doing(&self, what: impl Into<String>) {
        *lock(&PHASE) = Some(what.into());
    }

    /// The state for an error, by whose fault it is.
    pub fn state_for(&self, error: &dyn CheckError) -> State {
        self.faults.state_for(error.blame())
    }
}

static PHASE: Mutex<Option<String>> = Mutex::new(None);
static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);
static EMITTED: AtomicBool = AtomicBool::new(false);

/// Locks a mutex even if a panicking thread poisoned it: the guard must
/// still print its line.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Parses the arguments, runs `check` within the timeout, prints its
/// report (or the UNKNOWN line for whatever went wrong) and exits 0–3.
///
/// `label` leads every line (`GRAPHITE`); `faults` are the plugin's default
/// states for an unreachable monitored server or data source.
pub fn run<A, E>(
    label: &'static str,
    faults: FaultStates,
    check: impl FnOnce(&A, &Context) -> Result<Report, E>,
) -> !
where
    A: PluginArgs,
    E: CheckError,
{
    install_panic_hook();
    let args = match A::try_parse() {
        Ok(args) => args,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            // As the Monitoring Plugins do: help and version exit UNKNOWN.
            emit(error.render().to_string().trim_end(), State::Unknown)
        }
        Err(error) => emit_report(&usage_report(label, &error)),
    };
    let common = args.common();
    crate::log::init_plugin::<A>(common.verbose);
    let context = Context::new(label, common, faults);
    start_watchdog(
        label,
        common.timeout,
        common.timeout_state,
        context.output_limit,
    );

    let report = match panic::catch_unwind(AssertUnwindSafe(|| check(&args, &context))) {
        Ok(Ok(report)) => report,
        Ok(Err(error)) => context
            .report()
            .with_state(context.state_for(&error))
            .with_summary(sentence(&error)),
        Err(_) => context
            .report()
            .with_state(State::Unknown)
            .with_summary(panic_summary()),
    };
    emit_report(&report)
}

/// A parse error as one UNKNOWN line followed by clap's usage hint.
fn usage_report(label: &str, error: &clap::Error) -> Report {
    let rendered = error.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut summary = lines
        .next()
        .unwrap_or("bad arguments")
        .trim_start_matches("error: ")
        .to_owned();
    // "the following required arguments were not provided:" lists them on
    // the next line; a page needs both on the first.
    let mut rest: Vec<&str> = lines.collect();
    if summary.ends_with(':') {
        // Every missing argument, each on its own line in clap's text:
        // the first line is all a page shows.
        let listed = rest
            .iter()
            .take_while(|l| l.starts_with('-') || l.starts_with('<'))
            .count()
            .max(1)
            .min(rest.len());
        summary.push(' ');
        summary.push_str(&rest.drain(..listed).collect::<Vec<_>>().join(", "));
    }
    let mut report = Report::single(label, State::Unknown, summary);
    for line in rest {
        report.add_detail(line);
    }
    report
}

fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let text = format!("{message}{location}");
        crate::log::debug!("panic: {text}");
        *lock(&PANIC_MESSAGE) = Some(text);
    }));
}

fn panic_summary() -> String {
    let message = lock(&PANIC_MESSAGE)
        .take()
        .unwrap_or_else(|| "unknown cause".into());
    format!("internal error (a bug, please report it): {message}")
}

/// A thread that prints the timeout line and exits on time, even if the
/// check is stuck in a read that ignores its own timeouts.
fn start_watchdog(label: &'static str, timeout: Duration, state: State, budget: usize) {
    let spawned = std::thread::Builder::new()
        .name("timeout".into())
        .spawn(move || {
            std::thread::sleep(timeout);
            let doing = lock(&PHASE).clone();
            let summary = match doing {
                Some(doing) => format!("timed out after {} while {doing}", duration(timeout)),
                None => format!("timed out after {}", duration(timeout)),
            };
            emit_report(&Report::single(label, state, summary).with_budget(budget));
        });
    if spawned.is_err() {
        emit_report(&Report::single(
            label,
            State::Unknown,
            "cannot start the timeout thread",
        ));
    }
}

fn emit_report(report: &Report) -> ! {
    emit(&report.render(), report.state())
}

/// Prints `text` once, however many threads race to, and exits with the
/// state's code.
fn emit(text: &str, state: State) -> ! {
    if EMITTED.swap(true, Ordering::SeqCst) {
        // Another thread is printing and will exit the process.
        loop {
            std::thread::park();
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A closed stdout cannot be reported anywhere; the exit code still tells.
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
    std::process::exit(state.exit_code());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_take_seconds_or_humantime() {
        assert_eq!(parse_timeout("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_timeout("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_timeout("1m"), Ok(Duration::from_mins(1)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(
            parse_timeout("0").unwrap_err(),
            "the timeout must be more than zero"
        );
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("ten").unwrap_err().contains("'ten'"));
    }

    #[test]
    fn the_context_gives_the_report_its_label_and_budget() {
        use clap::Parser as _;
        #[derive(Debug, clap::Parser)]
        struct Args {
            #[command(flatten)]
            common: CommonArgs,
        }
        let args = Args::try_parse_from(["x", "--output-limit", "300"]).unwrap();
        let context = Context::new("PROBE", &args.common, FaultStates::default());
        let mut report = context.report();
        for i in 0..50 {
            report.add_finding(crate::Finding::new(
                State::Warning,
                format!("item {i} is warm"),
            ));
        }
        let out = report.render();
        assert!(out.starts_with("PROBE WARNING: item 0 is warm, "), "{out}");
        assert!(out.len() < 300, "{} bytes", out.len());
    }
}
