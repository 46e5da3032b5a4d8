//! Capped exponential backoff with jitter, for reconnecting to Graphite.
//!
//! Attempt `n` (from 0) waits a random time in `[d/2, d]` where
//! `d = min(max, min * 2^n)` ("equal jitter"): never less than half the
//! nominal delay, so a down server is not hammered, and spread out so many
//! exporters that lost the same server do not come back in lockstep.

use std::time::Duration;

/// A small xorshift generator: jitter needs no cryptographic quality.
#[derive(Debug, Clone)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    /// Seeded from the clock and the process id.
    #[must_use]
    pub fn from_entropy() -> Jitter {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Jitter::seeded(u64::from(t) ^ (u64::from(std::process::id()) << 32))
    }

    /// A fixed seed, for tests.
    #[must_use]
    pub fn seeded(seed: u64) -> Jitter {
        Jitter {
            state: seed | 1, // xorshift must not start at zero
        }
    }

    /// A uniform value in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        // The top 53 bits make an exact f64 in [0, 1).
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Reconnect delays.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
    jitter: Jitter,
}

impl Backoff {
    /// Delays from `min` doubling up to `max`.
    #[must_use]
    pub fn new(min: Duration, max: Duration, jitter: Jitter) -> Backoff {
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
            jitter,
        }
    }

    /// The delay before the next attempt, without jitter.
    #[must_use]
    pub fn nominal(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(30));
        self.min.saturating_mul(factor).min(self.max)
    }

    /// The delay to wait before the next attempt; counts the attempt.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.nominal();
        self.attempt = self.attempt.saturating_add(1);
        d.mul_f64(0.5 + 0.5 * self.jitter.next_unit())
    }

    /// A connection worked: start again from `min`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// How many attempts since the last reset.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_then_caps() {
        let mut b = Backoff::new(
            Duration::from_millis(500),
            Duration::from_secs(30),
            Jitter::seeded(7),
        );
        let nominal: Vec<_> = (0..10)
            .map(|_| {
                let n = b.nominal();
                b.next_delay();
                n.as_millis()
            })
            .collect();
        assert_eq!(
            nominal,
            [
                500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000
            ]
        );
        b.reset();
        assert_eq!(b.nominal(), Duration::from_millis(500));
        // Many attempts never overflow.
        for _ in 0..1000 {
            assert!(b.next_delay() <= Duration::from_secs(30));
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut j = Jitter::seeded(1);
        let v: Vec<f64> = (0..1000).map(|_| j.next_unit()).collect();
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = v.iter().sum::<f64>() / 1000.0;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }

    proptest! {
        #[test]
        fn every_delay_is_within_half_to_full_nominal(seed in any::<u64>(), min_ms in 1u64..5000, max_ms in 1u64..120_000, n in 0usize..40) {
            let min = Duration::from_millis(min_ms);
            let max = Duration::from_millis(max_ms);
            let mut b = Backoff::new(min, max, Jitter::seeded(seed));
            for _ in 0..n {
                let nominal = b.nominal();
                let d = b.next_delay();
                prop_assert!(d <= nominal);
                prop_assert!(d >= nominal / 2);
                prop_assert!(d <= max.max(min));
                prop_assert!(d >= min.min(max) / 2);
            }
        }
    }
}
