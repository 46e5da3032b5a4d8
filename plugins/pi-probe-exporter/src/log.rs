//! One line per event on stderr, which journald picks up.
//!
//! Under systemd (`JOURNAL_STREAM` is set) each line starts with the
//! syslog priority in angle brackets (`<4>`), which journald turns into the
//! entry's priority and strips; on a terminal the level is spelled out.
//! Tests use [`Log::memory`] to read back what was logged.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// How much an event matters, in syslog's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something is broken and needs a person.
    Error,
    /// A reading was rejected, a connection died: handled, but worth seeing.
    Warning,
    /// A normal but significant change: connected, probe appeared.
    Notice,
    /// Routine.
    Info,
}

impl Level {
    fn syslog_priority(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warning => 4,
            Level::Notice => 5,
            Level::Info => 6,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
            Level::Info => "info",
        }
    }
}

#[derive(Debug)]
enum Sink {
    Stderr { journald: bool },
    Memory(Mutex<Vec<String>>),
}

/// Where event lines go. Cheap to clone (an `Arc` inside).
#[derive(Debug, Clone)]
pub struct Log {
    sink: Arc<Sink>,
}

impl Log {
    /// Lines to stderr, with syslog priority prefixes when run by systemd.
    #[must_use]
    pub fn stderr() -> Self {
        let journald = std::env::var_os("JOURNAL_STREAM").is_some();
        Log {
            sink: Arc::new(Sink::Stderr { journald }),
        }
    }

    /// Lines kept in memory, for tests.
    #[must_use]
    pub fn memory() -> Self {
        Log {
            sink: Arc::new(Sink::Memory(Mutex::new(Vec::new()))),
        }
    }

    /// Lines logged so far to a [`Log::memory`] log (empty for stderr).
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        match &*self.sink {
            Sink::Memory(lines) => lines.lock().map(|l| l.clone()).unwrap_or_default(),
            Sink::Stderr { .. } => Vec::new(),
        }
    }

    /// Logs one event.
    pub fn event(&self, level: Level, args: fmt::Arguments<'_>) {
        match &*self.sink {
            Sink::Stderr { journald } => {
                let line = if *journald {
                    format!("<{}>{args}\n", level.syslog_priority())
                } else {
                    format!("pi-probe-exporter: {}: {args}\n", level.word())
                };
                // One write per line so lines from threads never interleave.
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
            Sink::Memory(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(format!("{}: {args}", level.word()));
                }
            }
        }
    }

    /// Logs an error event.
    pub fn error(&self, args: fmt::Arguments<'_>) {
        self.event(Level::Error, args);
    }

    /// Logs a warning event.
    pub fn warn(&self, args: fmt::Arguments<'_>) {
        self.event(Level::Warning, args);
    }

    /// Logs a notice event.
    pub fn notice(&self, args: fmt::Arguments<'_>) {
        self.event(Level::Notice, args);
    }

    /// Logs an informational event.
    pub fn info(&self, args: fmt::Arguments<'_>) {
        self.event(Level::Info, args);
    }
}
