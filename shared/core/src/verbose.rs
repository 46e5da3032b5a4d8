//! Debug logging to stderr, silent unless `-v` asked: Sensu mixes stderr
//! into a check's output, so a quiet plugin writes nothing there.

use std::sync::atomic::{AtomicU8, Ordering};

static LEVEL: AtomicU8 = AtomicU8::new(0);

pub(crate) fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// How many `-v` were given.
#[must_use]
pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// Writes a debug line to stderr when at least `min` `-v` were given.
/// Prefer the [`debug!`](crate::debug) macro, which formats lazily.
pub fn log(min: u8, message: std::fmt::Arguments<'_>) {
    if level() >= min {
        eprintln!("debug: {message}");
    }
}

/// `debug!("GET {url}")`: one stderr line, only with `-v`.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::verbose::level() >= 1 {
            $crate::verbose::log(1, format_args!($($arg)*));
        }
    };
}
