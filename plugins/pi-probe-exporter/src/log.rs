//! Where the exporter's event lines go: through the `log` crate's facade.
//!
//! `main` installs nightwatch-core's stderr logger as a daemon
//! ([`nightwatch_core::log`]): every event of ours, libraries' warnings,
//! one line each on stderr, which journald picks up. Under systemd
//! (stderr is the journal) a line starts with its syslog priority instead
//! of `pi-probe-exporter: <level>:`.
//!
//! The threads log with the facade's macros through a [`Log`] handle
//! (`::log::warn!(logger: self.log, ...)`) rather than the global logger, so
//! a test hands each component a [`Log::memory`] and reads back its own
//! lines while other tests run in parallel.
//!
//! Levels, in syslog's terms: `error!` something needs a person, `warn!` a
//! reading rejected or a connection lost (handled, worth seeing), `info!` a
//! significant change (connected, a probe appeared), `debug!` routine.

use std::sync::{Arc, Mutex};

use ::log::{LevelFilter, Metadata, Record};

/// Where a component's event lines go. Cheap to clone (an `Arc` inside).
#[derive(Debug, Clone, Default)]
pub struct Log {
    /// `None`: the process's logger; `Some`: kept in memory (tests).
    memory: Option<Arc<Mutex<Vec<String>>>>,
}

impl Log {
    /// Lines to whatever logger the process installed (see `main`).
    #[must_use]
    pub fn global() -> Self {
        Log { memory: None }
    }

    /// Lines kept in memory, for tests, as `warn: text`.
    ///
    /// The facade's macros drop lines above its global level before any
    /// logger sees them, and with no logger installed that level is `Off`:
    /// raising it lets every line reach this one (a process with no logger
    /// still prints nothing).
    #[must_use]
    pub fn memory() -> Self {
        ::log::set_max_level(LevelFilter::Trace);
        Log {
            memory: Some(Arc::default()),
        }
    }

    /// Lines logged so far to a [`Log::memory`] log (empty otherwise).
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.memory
            .as_ref()
            .and_then(|lines| lines.lock().ok().map(|l| l.clone()))
            .unwrap_or_default()
    }
}

impl ::log::Log for Log {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        match &self.memory {
            None => ::log::logger().enabled(metadata),
            Some(_) => true,
        }
    }

    fn log(&self, record: &Record<'_>) {
        match &self.memory {
            None => ::log::logger().log(record),
            Some(lines) => {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(format!(
                        "{}: {}",
                        record.level().as_str().to_lowercase(),
                        record.args()
                    ));
                }
            }
        }
    }

    fn flush(&self) {
        if self.memory.is_none() {
            ::log::logger().flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_log_keeps_its_own_lines_only() {
        let (a, b) = (Log::memory(), Log::memory());
        ::log::warn!(logger: a, "carbon at {} refused", "127.0.0.1:2003");
        ::log::debug!(logger: a.clone(), "routine");
        assert_eq!(
            a.lines(),
            ["warn: carbon at 127.0.0.1:2003 refused", "debug: routine"]
        );
        assert!(b.lines().is_empty());
        assert!(Log::global().lines().is_empty());
    }
}
