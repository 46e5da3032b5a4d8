//! The spool writer thread: makes readings durable in group commits.
//!
//! The reader hands each tick's accepted readings to a bounded in-memory
//! queue ([`SpoolQueue`]) and goes back to its schedule. This thread takes
//! everything queued and appends it to the spool as one commit (one write,
//! one `fdatasync`, [`Spool::append_group`]); only then are the readings
//! counted as read (`readings_ok`) and visible to the sender. So a reading
//! is acknowledged only once it is on disk, as before, but the reader never
//! waits for the card, and `/metrics` never waits for this thread (it reads
//! counters, and the spool's lock is not held across an fsync).
//!
//! On a slow card (hundreds of milliseconds per fsync) the readings taken
//! during one commit go together in the next: the slower the card, the
//! fewer fsyncs per reading. If the card is so slow, or stuck, that
//! [`QUEUE_READINGS`] readings are waiting, the queue is full: a tick that
//! does not fit is refused, its readings counted (`spool.queue_full`) and
//! logged, never silently dropped; memory stays bounded. A reading waiting
//! in the queue is not acknowledged: `kill -9` or a power cut loses it as it
//! would have lost a reading whose fsync had not returned.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::log::Log;
use crate::metrics::Metrics;
use crate::spool::{NewReading, Spool, Stamp};

/// Readings that may wait for the writer (the commit in progress
/// included): at two probes a second, 8½ minutes of a stuck card, about
/// 200 KiB of memory.
pub const QUEUE_READINGS: usize = 1024;

/// A slow commit is logged at most this often.
const SLOW_LOG_EVERY: Duration = Duration::from_mins(1);

/// An accepted reading, counted as read once it is spooled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The probe's id.
    pub id: String,
    /// Its value, millidegrees Celsius.
    pub milli_c: i32,
    /// Whether it is at a sensor limit.
    pub saturated: bool,
}

/// One tick's accepted readings, waiting to be spooled.
#[derive(Debug, Clone)]
pub struct Batch {
    /// When they were taken.
    pub stamp: Stamp,
    /// What goes into the spool.
    pub readings: Vec<NewReading>,
    /// What is counted once they are there (one per reading).
    pub accepted: Vec<Accepted>,
}

#[derive(Debug, Default)]
struct QueueState {
    batches: VecDeque<Batch>,
    /// Readings queued or in the commit in progress.
    readings: usize,
    /// No more pushes: the writer ends once it has spooled the rest.
    closed: bool,
    /// Readings refused in the current run of a full queue.
    refused_run: u64,
}

/// The bounded queue between the reader and the writer.
#[derive(Debug)]
pub struct SpoolQueue {
    state: Mutex<QueueState>,
    ready: Condvar,
    capacity: usize,
    metrics: Arc<Metrics>,
    log: Log,
}

impl SpoolQueue {
    /// A queue with room for `capacity` readings.
    #[must_use]
    pub fn new(capacity: usize, metrics: Arc<Metrics>, log: Log) -> SpoolQueue {
        SpoolQueue {
            state: Mutex::new(QueueState::default()),
            ready: Condvar::new(),
            capacity,
            metrics,
            log,
        }
    }

    fn state(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a tick's readings; never waits. When they do not fit, they
    /// are refused: counted in `spool_queue_full` and logged (the 1st, 2nd,
    /// 4th, ... refusal of a run), and `false` is returned.
    pub fn push(&self, batch: Batch) -> bool {
        let n = batch.readings.len();
        let mut st = self.state();
        if st.readings + n > self.capacity {
            st.refused_run += n as u64;
            let run = st.refused_run;
            let waiting = st.readings;
            drop(st);
            Metrics::add(&self.metrics.spool_queue_full, n as u64);
            if (run / n.max(1) as u64).is_power_of_two() {
                ::log::error!(logger: self.log,
                    "spool: {waiting} readings are waiting for the storage to take them (room \
                     for {}): {n} reading(s) refused and lost ({run} in this run); the card is \
                     too slow or not answering",
                    self.capacity
                );
            }
            return false;
        }
        if st.refused_run > 0 {
            ::log::warn!(logger: self.log,
                "spool: the storage caught up; readings are queued again after {} were refused",
                st.refused_run
            );
            st.refused_run = 0;
        }
        st.readings += n;
        st.batches.push_back(batch);
        self.metrics
            .spool_queue_readings
            .store(st.readings as u64, Ordering::Relaxed);
        drop(st);
        self.ready.notify_one();
        true
    }

    /// No more pushes; the writer ends once the queue is empty.
    pub fn close(&self) {
        self.state().closed = true;
        self.ready.notify_all();
    }

    /// Readings queued or being committed.
    #[must_use]
    pub fn readings(&self) -> usize {
        self.state().readings
    }

    /// Takes every queued batch, first waiting for one if `wait` (a push
    /// or [`SpoolQueue::close`] wakes it). `None` once closed and empty.
    fn take(&self, wait: bool) -> Option<Vec<Batch>> {
        let mut st = self.state();
        while wait && st.batches.is_empty() && !st.closed {
            st = self.ready.wait(st).unwrap_or_else(PoisonError::into_inner);
        }
        if st.batches.is_empty() && st.closed {
            return None;
        }
        Some(st.batches.drain(..).collect())
    }

    /// The commit of `n` readings is over (done or failed).
    fn done(&self, n: usize) {
        let mut st = self.state();
        st.readings = st.readings.saturating_sub(n);
        self.metrics
            .spool_queue_readings
            .store(st.readings as u64, Ordering::Relaxed);
    }
}

/// What one commit did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Committed {
    /// Readings now in the spool.
    pub spooled: usize,
    /// Readings whose append failed (lost).
    pub failed: usize,
}

/// The writer thread's state.
#[derive(Debug)]
pub struct Writer {
    spool: Arc<Spool>,
    queue: Arc<SpoolQueue>,
    metrics: Arc<Metrics>,
    log: Log,
    /// The reading interval: a commit longer than this is slow.
    interval: Duration,
    last_slow_log: Option<Instant>,
}

impl Writer {
    /// A writer spooling what `queue` holds.
    #[must_use]
    pub fn new(
        spool: Arc<Spool>,
        queue: Arc<SpoolQueue>,
        metrics: Arc<Metrics>,
        log: Log,
        interval: Duration,
    ) -> Writer {
        Writer {
            spool,
            queue,
            metrics,
            log,
            interval,
            last_slow_log: None,
        }
    }

    /// Commits whatever is queued, again and again, until the queue is
    /// closed and empty.
    pub fn run(mut self) {
        while let Some(batches) = self.queue.take(true) {
            if !batches.is_empty() {
                self.commit(&batches);
            }
        }
    }

    /// A writer on a fresh queue of `capacity` readings, a 1 s interval
    /// (tests drive it with [`Writer::commit_pending`]).
    #[cfg(test)]
    pub(crate) fn for_tests(
        spool: Arc<Spool>,
        metrics: Arc<Metrics>,
        log: Log,
        capacity: usize,
    ) -> (Arc<SpoolQueue>, Writer) {
        let queue = Arc::new(SpoolQueue::new(capacity, metrics.clone(), log.clone()));
        let writer = Writer::new(spool, queue.clone(), metrics, log, Duration::from_secs(1));
        (queue, writer)
    }

    /// One commit of everything queued now (for tests; the thread runs
    /// [`Writer::run`]).
    pub fn commit_pending(&mut self) -> Committed {
        match self.queue.take(false) {
            Some(batches) if !batches.is_empty() => self.commit(&batches),
            _ => Committed::default(),
        }
    }

    fn commit(&mut self, batches: &[Batch]) -> Committed {
        let n: usize = batches.iter().map(|b| b.readings.len()).sum();
        let group: Vec<(&Stamp, &[NewReading])> = batches
            .iter()
            .map(|b| (&b.stamp, b.readings.as_slice()))
            .collect();
        let started = Instant::now();
        let result = self.spool.append_group(&group);
        let took = started.elapsed();
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        Metrics::add(&self.metrics.spool_commits, 1);
        Metrics::add(&self.metrics.spool_commit_micros, micros);
        self.metrics
            .spool_commit_last_micros
            .store(micros, Ordering::Relaxed);
        let outcome = match result {
            Ok(_) => {
                for a in batches.iter().flat_map(|b| &b.accepted) {
                    self.metrics.accepted(&a.id, a.milli_c, a.saturated);
                }
                Committed {
                    spooled: n,
                    failed: 0,
                }
            }
            Err(e) => {
                Metrics::add(&self.metrics.spool_write_errors, batches.len() as u64);
                ::log::error!(logger: self.log,
                    "spool: cannot append {n} reading(s) to {}: {e}; they are lost",
                    self.spool.dir().display()
                );
                Committed {
                    spooled: 0,
                    failed: n,
                }
            }
        };
        self.queue.done(n);
        if took > self.interval
            && self
                .last_slow_log
                .is_none_or(|t| t.elapsed() >= SLOW_LOG_EVERY)
        {
            self.last_slow_log = Some(Instant::now());
            ::log::warn!(logger: self.log,
                "spool: writing and fsyncing {n} reading(s) took {:.1} s, longer than the {} \
                 interval: the storage is slow; readings wait in memory meanwhile ({} now, room \
                 for {QUEUE_READINGS}) and none is counted before it is on disk",
                took.as_secs_f64(),
                humantime::format_duration(self.interval),
                self.queue.readings()
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::BootId;
    use crate::spool::{SpoolOptions, SpoolReader};

    fn batch(i: u64, probes: usize) -> Batch {
        let stamp = Stamp {
            boot: BootId::parse("0123456789abcdef").unwrap(),
            mono_ms: 1000 * i,
            wall_ms: 1_700_000_000_000 + 1000 * i64::try_from(i).unwrap(),
            synced: true,
        };
        let ids: Vec<String> = (0..probes).map(|p| format!("28-00000000000{p}")).collect();
        Batch {
            stamp,
            readings: ids
                .iter()
                .map(|id| NewReading {
                    metric: format!("t.{id}"),
                    value: format!("{i}"),
                })
                .collect(),
            accepted: ids
                .iter()
                .map(|id| Accepted {
                    id: id.clone(),
                    milli_c: 1000,
                    saturated: false,
                })
                .collect(),
        }
    }

    struct Rig {
        _dir: tempfile::TempDir,
        spool: Arc<Spool>,
        metrics: Arc<Metrics>,
        queue: Arc<SpoolQueue>,
        writer: Writer,
        log: Log,
    }

    fn rig(capacity: usize) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::memory();
        let spool = Arc::new(
            Spool::open(
                SpoolOptions {
                    dir: dir.path().into(),
                    max_bytes: 1 << 20,
                    segment_bytes: 1 << 16,
                },
                log.clone(),
            )
            .unwrap(),
        );
        let metrics = Arc::new(Metrics::default());
        let (queue, writer) =
            Writer::for_tests(spool.clone(), metrics.clone(), log.clone(), capacity);
        Rig {
            _dir: dir,
            spool,
            metrics,
            queue,
            writer,
            log,
        }
    }

    fn ok_total(m: &Metrics) -> u64 {
        let spool = crate::spool::SpoolStats::default();
        let now = crate::clock::ClockReading {
            wall_ms: 0,
            mono_ms: 0,
            synced: true,
        };
        m.snapshot(&spool, &now, &BootId::parse("0123456789abcdef").unwrap())
            .probes
            .values()
            .map(|c| c.ok)
            .sum()
    }

    fn spooled(spool: &Spool) -> Vec<String> {
        let mut r = SpoolReader::new(0, Log::memory());
        let mut out = Vec::new();
        r.read(spool, usize::MAX, &mut out).unwrap();
        out.iter().map(|r| r.value().to_owned()).collect()
    }

    #[test]
    fn queued_readings_are_counted_and_visible_only_after_their_commit() {
        let mut rig = rig(QUEUE_READINGS);
        for i in 0..3 {
            assert!(rig.queue.push(batch(i, 2)));
        }
        assert_eq!(rig.queue.readings(), 6);
        assert_eq!(ok_total(&rig.metrics), 0, "nothing is acknowledged yet");
        assert!(
            spooled(&rig.spool).is_empty(),
            "the sender sees nothing yet"
        );
        assert_eq!(rig.metrics.spool_queue_readings.load(Ordering::Relaxed), 6);
        let done = rig.writer.commit_pending();
        assert_eq!(
            done,
            Committed {
                spooled: 6,
                failed: 0
            }
        );
        assert_eq!(ok_total(&rig.metrics), 6);
        assert_eq!(spooled(&rig.spool), ["0", "0", "1", "1", "2", "2"]);
        assert_eq!(
            rig.metrics.spool_commits.load(Ordering::Relaxed),
            1,
            "one commit for three ticks"
        );
        assert_eq!(rig.metrics.spool_queue_readings.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_queue_refuses_counts_and_logs_and_recovers() {
        let mut rig = rig(5);
        assert!(rig.queue.push(batch(0, 2)));
        assert!(rig.queue.push(batch(1, 2)));
        assert!(!rig.queue.push(batch(2, 2)), "6 readings do not fit in 5");
        assert!(!rig.queue.push(batch(3, 2)));
        assert_eq!(rig.metrics.spool_queue_full.load(Ordering::Relaxed), 4);
        let lines = rig.log.lines();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("refused and lost"))
                .count(),
            2,
            "{lines:?}"
        );
        assert_eq!(rig.writer.commit_pending().spooled, 4);
        assert!(rig.queue.push(batch(4, 2)));
        assert!(rig.log.lines().iter().any(|l| l.contains("caught up")));
        rig.writer.commit_pending();
        assert_eq!(spooled(&rig.spool), ["0", "0", "1", "1", "4", "4"]);
        assert_eq!(ok_total(&rig.metrics), 6);
    }

    #[test]
    fn a_failed_commit_counts_nothing_as_read_and_says_they_are_lost() {
        let mut rig = rig(QUEUE_READINGS);
        rig.queue.push(batch(0, 2));
        rig.queue.push(batch(1, 2));
        std::fs::remove_dir_all(rig.spool.dir()).unwrap();
        assert_eq!(
            rig.writer.commit_pending(),
            Committed {
                spooled: 0,
                failed: 4
            }
        );
        assert_eq!(ok_total(&rig.metrics), 0);
        assert_eq!(rig.metrics.spool_write_errors.load(Ordering::Relaxed), 2);
        assert!(rig.log.lines().iter().any(|l| l.contains("they are lost")));
        assert_eq!(rig.queue.readings(), 0);
    }

    #[test]
    fn the_thread_spools_everything_queued_before_close_then_ends() {
        let rig = rig(QUEUE_READINGS);
        let Rig {
            spool,
            queue,
            writer,
            metrics,
            _dir,
            ..
        } = rig;
        let t = std::thread::spawn(move || writer.run());
        for i in 0..20 {
            assert!(queue.push(batch(i, 2)));
        }
        queue.close();
        t.join().unwrap();
        assert_eq!(spooled(&spool).len(), 40);
        assert_eq!(ok_total(&metrics), 40);
    }
}
