//! Log lines through the [`log`] facade, ours and the libraries'
//! (rustls' handshake, reqwest's connections), on stderr only.
//!
//! A plugin logs only when asked: Sensu mixes a check's stderr into its
//! output, so without `-v` no logger is installed and nothing is written
//! (the facade's level stays `Off`, so a disabled line costs one load and
//! compare). A daemon always logs its own events.
//!
//! | who | flags | our crates | libraries |
//! |---|---|---|---|
//! | plugin | none | nothing | nothing |
//! | plugin | `-v` | debug | info |
//! | plugin | `-vv` | debug | debug |
//! | plugin | `-vvv` | trace | trace |
//! | daemon | — | debug | warn |
//!
//! "Our crates" are `nightwatch_*` and the program's own crate.
//!
//! A line reads `check-graphite: debug: render ham from -10min`; a
//! library's line names its module after the level
//! (`check-graphite: debug: rustls::client::hs: ...`). When stderr is the
//! journal (`JOURNAL_STREAM` names it, as systemd sets it for a service),
//! a line is `<7>render ham from -10min` instead: journald takes the
//! syslog priority in angle brackets as the entry's priority and strips it.
//!
//! Plugins log with the facade's macros, re-exported here
//! (`nightwatch_core::log::debug!`), so they need no dependency of their own.

use std::io::Write as _;
use std::sync::OnceLock;

use ::log::{Level, LevelFilter, Metadata, Record};
pub use ::log::{debug, error, info, trace, warn};

/// Who is logging, which decides what is shown by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A check run by a scheduler: silent unless `-v`.
    Plugin,
    /// A long-running service: its own events always, libraries' warnings.
    Daemon,
}

/// The levels shown for our crates and for libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    pub ours: LevelFilter,
    pub libraries: LevelFilter,
}

impl Levels {
    /// What `verbosity` (the number of `-v`) shows for `role`; see the
    /// module's table.
    #[must_use]
    pub fn for_role(role: Role, verbosity: u8) -> Levels {
        let (ours, libraries) = match (role, verbosity) {
            (Role::Plugin, 0) => (LevelFilter::Off, LevelFilter::Off),
            (Role::Plugin, 1) => (LevelFilter::Debug, LevelFilter::Info),
            (Role::Plugin, 2) => (LevelFilter::Debug, LevelFilter::Debug),
            (Role::Daemon, 0) => (LevelFilter::Debug, LevelFilter::Warn),
            (Role::Daemon, 1) => (LevelFilter::Trace, LevelFilter::Info),
            _ => (LevelFilter::Trace, LevelFilter::Trace),
        };
        Levels { ours, libraries }
    }

    fn max(self) -> LevelFilter {
        self.ours.max(self.libraries)
    }
}

/// The stderr logger; one per process.
#[derive(Debug)]
struct StderrLogger {
    /// Leads each line on a terminal or in a file: `check-graphite`.
    program: String,
    /// The program's own crate, as `log` targets spell it: `check_graphite`.
    own_crate: String,
    levels: Levels,
    /// Stderr is the journal: lines start with `<priority>`.
    journal: bool,
}

impl StderrLogger {
    fn is_ours(&self, target: &str) -> bool {
        let krate = target.split("::").next().unwrap_or(target);
        krate == self.own_crate || krate.starts_with("nightwatch_")
    }

    fn line(&self, record: &Record<'_>) -> String {
        let target = if self.is_ours(record.target()) {
            String::new()
        } else {
            format!("{}: ", record.target())
        };
        if self.journal {
            format!("<{}>{target}{}\n", priority(record.level()), record.args())
        } else {
            format!(
                "{}: {}: {target}{}\n",
                self.program,
                word(record.level()),
                record.args()
            )
        }
    }
}

impl ::log::Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let limit = if self.is_ours(metadata.target()) {
            self.levels.ours
        } else {
            self.levels.libraries
        };
        metadata.level() <= limit
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            // One write per line, so lines from threads never interleave.
            // A closed stderr cannot be reported anywhere.
            let _ = std::io::stderr()
                .lock()
                .write_all(self.line(record).as_bytes());
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

static LOGGER: OnceLock<StderrLogger> = OnceLock::new();

/// Installs the stderr logger for `program` (`check-graphite`), whose own
/// crate is `own_crate` (`check_graphite`, as in `module_path!()`).
///
/// A plugin without `-v` gets no logger at all. A second call changes
/// nothing: the facade takes one logger per process.
pub fn init(program: &str, own_crate: &str, role: Role, verbosity: u8) {
    let levels = Levels::for_role(role, verbosity);
    if levels.max() == LevelFilter::Off {
        return;
    }
    let logger = LOGGER.get_or_init(|| StderrLogger {
        program: program.to_owned(),
        own_crate: own_crate.to_owned(),
        levels,
        journal: stderr_is_journal(),
    });
    if ::log::set_logger(logger).is_ok() {
        ::log::set_max_level(levels.max());
    }
}

/// For the guard: the plugin's name from its arguments' clap command, its
/// crate from the arguments' type path.
pub(crate) fn init_plugin<A: clap::CommandFactory>(verbosity: u8) {
    if verbosity == 0 {
        // Building the clap command costs; a quiet run needs nothing.
        return;
    }
    let command = A::command();
    let own_crate = std::any::type_name::<A>()
        .split("::")
        .next()
        .unwrap_or_default();
    init(command.get_name(), own_crate, Role::Plugin, verbosity);
}

/// systemd sets `JOURNAL_STREAM=<dev>:<inode>` for a service whose stderr
/// is the journal. Children inherit the variable even when their stderr is
/// a pipe (a plugin run by an agent that runs under systemd), so it only
/// counts when it names the stream stderr really is.
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    // stat() of the /proc link is the stat of the open file (a socket).
    let Ok(stderr) = std::fs::metadata("/proc/self/fd/2") else {
        return false;
    };
    journal_stream_matches(&stream.to_string_lossy(), stderr.dev(), stderr.ino())
}

fn journal_stream_matches(stream: &str, dev: u64, ino: u64) -> bool {
    stream
        .split_once(':')
        .and_then(|(d, i)| Some((d.parse::<u64>().ok()?, i.parse::<u64>().ok()?)))
        == Some((dev, ino))
}

/// Syslog's numbers, as journald reads them.
fn priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

fn word(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::log::Log as _;

    fn logger(journal: bool) -> StderrLogger {
        StderrLogger {
            program: "check-graphite".into(),
            own_crate: "check_graphite".into(),
            levels: Levels::for_role(Role::Plugin, 1),
            journal,
        }
    }

    fn line(logger: &StderrLogger, target: &str, level: Level, text: &str) -> String {
        logger.line(
            &Record::builder()
                .target(target)
                .level(level)
                .args(format_args!("{text}"))
                .build(),
        )
    }

    fn enabled(logger: &StderrLogger, target: &str, level: Level) -> bool {
        logger.enabled(&Metadata::builder().target(target).level(level).build())
    }

    #[test]
    fn a_quiet_plugin_logs_nothing_and_a_daemon_its_own_events() {
        let quiet = Levels::for_role(Role::Plugin, 0);
        assert_eq!(quiet.max(), LevelFilter::Off);
        let daemon = Levels::for_role(Role::Daemon, 0);
        assert_eq!(daemon.ours, LevelFilter::Debug);
        assert_eq!(daemon.libraries, LevelFilter::Warn);
        assert_eq!(Levels::for_role(Role::Plugin, 9).max(), LevelFilter::Trace);
    }

    #[test]
    fn one_v_shows_our_debug_lines_and_the_libraries_info() {
        let logger = logger(false);
        assert!(enabled(&logger, "check_graphite", Level::Debug));
        assert!(enabled(&logger, "nightwatch_http::client", Level::Debug));
        assert!(!enabled(&logger, "check_graphite", Level::Trace));
        assert!(enabled(&logger, "rustls::client::hs", Level::Info));
        assert!(!enabled(&logger, "rustls::client::hs", Level::Debug));
        // A crate whose name only starts like ours is a library.
        assert!(!enabled(&logger, "check_graphite_extra", Level::Debug));
    }

    #[test]
    fn lines_name_the_program_level_and_a_library_s_module() {
        let logger = logger(false);
        assert_eq!(
            line(&logger, "check_graphite::judge", Level::Debug, "render ham"),
            "check-graphite: debug: render ham\n"
        );
        assert_eq!(
            line(&logger, "rustls::client::hs", Level::Info, "TLS 1.3"),
            "check-graphite: info: rustls::client::hs: TLS 1.3\n"
        );
    }

    #[test]
    fn journal_lines_start_with_the_syslog_priority() {
        let logger = logger(true);
        assert_eq!(
            line(&logger, "check_graphite", Level::Warn, "spool full"),
            "<4>spool full\n"
        );
        assert_eq!(
            line(&logger, "reqwest::connect", Level::Error, "refused"),
            "<3>reqwest::connect: refused\n"
        );
        assert_eq!(priority(Level::Info), 6);
        assert_eq!(priority(Level::Trace), 7);
    }

    #[test]
    fn journal_stream_counts_only_when_it_names_stderr() {
        assert!(journal_stream_matches("8:12345", 8, 12345));
        assert!(!journal_stream_matches("8:12345", 8, 999));
        assert!(!journal_stream_matches("garbage", 8, 12345));
        assert!(!journal_stream_matches("", 0, 0));
    }
}
