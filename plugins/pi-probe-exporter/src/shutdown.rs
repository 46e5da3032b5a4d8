//! A stop flag threads can sleep on.
//!
//! The daemon itself never needs it: it is killed by a signal, and every
//! reading it has counted is already on disk. `--run-for` and tests use it
//! to stop the threads: the reader first, then (once the writer has spooled
//! what was queued) the sender, which drains.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Set once; wakes every sleeper.
#[derive(Debug, Default)]
pub struct Shutdown {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Shutdown {
    /// A flag not yet set.
    #[must_use]
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Sets the flag and wakes sleepers.
    pub fn trigger(&self) {
        *self.flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cv.notify_all();
    }

    /// Whether the flag is set.
    #[must_use]
    pub fn is_set(&self) -> bool {
        *self.flag.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps until `deadline` or the flag; returns whether the flag is set.
    pub fn sleep_until(&self, deadline: Instant) -> bool {
        let mut set = self.flag.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if *set {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            set = self
                .cv
                .wait_timeout(set, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Sleeps for `d` or until the flag; returns whether the flag is set.
    pub fn sleep(&self, d: Duration) -> bool {
        self.sleep_until(Instant::now() + d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn trigger_wakes_a_sleeper() {
        let s = Arc::new(Shutdown::new());
        let t = {
            let s = s.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                assert!(s.sleep(Duration::from_secs(30)));
                start.elapsed()
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        s.trigger();
        assert!(t.join().unwrap() < Duration::from_secs(5));
        assert!(!Shutdown::new().sleep(Duration::from_millis(1)));
    }
}
