//! The reader thread: once per interval, find the probes, read each, judge
//! the value, and hand the good ones to the spool writer ([`crate::writer`]).
//! It never touches the network, so a dead link can never stop it, and never
//! waits for the disk, so a slow card cannot delay it either.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::log::Log;
use crate::metrics::Metrics;
use crate::reading::{Limit, ProbeJudge, RejectReason, Unit, Verdict};
use crate::shutdown::Shutdown;
use crate::spool::{NewReading, Stamp};
use crate::w1;
use crate::writer::{Accepted, Batch, SpoolQueue};

/// What the reader reads and how it names it.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// Where the probe directories are.
    pub w1_dir: PathBuf,
    /// Probe id to name; unmapped probes are named by their id.
    pub names: BTreeMap<String, String>,
    /// Metric prefix: readings go to `<prefix>.<name>`.
    pub prefix: String,
    /// Unit of the values sent.
    pub unit: Unit,
    /// Time between readings.
    pub interval: Duration,
}

#[derive(Debug)]
struct ProbeState {
    name: String,
    present: bool,
    judge: ProbeJudge,
    reject_run: Option<(RejectReason, u64)>,
    saturated_run: u64,
}

/// What one tick did, for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickSummary {
    /// Probes listed by the kernel.
    pub probes: usize,
    /// Readings accepted and handed to the spool writer.
    pub accepted: usize,
    /// Readings rejected.
    pub rejected: usize,
}

/// The reader thread's state.
#[derive(Debug)]
pub struct Reader {
    opts: ReaderOptions,
    clock: Arc<dyn Clock>,
    queue: Arc<SpoolQueue>,
    metrics: Arc<Metrics>,
    log: Log,
    shutdown: Arc<Shutdown>,
    /// Reads one probe: [`w1::read_probe`] (tests put a faulty one here).
    read_probe: ReadProbe,
    probes: BTreeMap<String, ProbeState>,
    dir_problem: Option<String>,
    /// Directory names refused as probe ids (each logged once).
    refused: std::collections::BTreeSet<String>,
    /// Probes whose last read has not returned yet: not read again until
    /// it does, so a hung file costs one thread, not one per interval.
    in_flight: BTreeMap<String, Arc<AtomicBool>>,
}

/// How one probe is read.
pub type ReadProbe = fn(&std::path::Path, &str) -> Result<i32, w1::ReadError>;

/// Delay before the first reading so that, with a whole-second interval,
/// readings are taken half-way through a wall-clock second: each lands in
/// its own second in Graphite even with some scheduling jitter.
#[must_use]
pub fn phase_delay(wall_ms: i64, interval: Duration) -> Duration {
    let ms = phase_shift_ms(wall_ms, interval).rem_euclid(1000);
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// The smallest move (-499..=500 ms) that puts `wall_ms` half-way through a
/// second; 0 for intervals that are not whole seconds.
#[must_use]
pub fn phase_shift_ms(wall_ms: i64, interval: Duration) -> i64 {
    if interval.subsec_nanos() != 0 {
        return 0;
    }
    let shift = (500 - wall_ms.rem_euclid(1000)).rem_euclid(1000);
    if shift > 500 { shift - 1000 } else { shift }
}

/// How many whole slots have gone by when the next one is `late` past its
/// start. A slot still inside its own interval is read late rather than
/// skipped: its stamp is its scheduled time, as every reading's is, so one
/// slow round (a probe slow to convert) costs no reading; only slots whose
/// whole interval has passed are skipped.
fn slots_passed(late: Duration, interval_ms: u64) -> u64 {
    u64::try_from(late.as_millis()).unwrap_or(u64::MAX) / interval_ms.max(1)
}

/// The least time a probe's read is given (the interval, when longer):
/// a DS18B20 conversion takes 750 ms, a busy bus a little more.
const PROBE_READ_BOUND: Duration = Duration::from_secs(2);

/// Re-phasing smaller than this is not worth moving a tick for.
const PHASE_SLACK_MS: i64 = 100;

impl Reader {
    /// A reader; configured probes not found are reported at the first tick.
    #[must_use]
    pub fn new(
        opts: ReaderOptions,
        clock: Arc<dyn Clock>,
        queue: Arc<SpoolQueue>,
        metrics: Arc<Metrics>,
        log: Log,
        shutdown: Arc<Shutdown>,
    ) -> Reader {
        Reader {
            opts,
            clock,
            queue,
            metrics,
            log,
            shutdown,
            read_probe: w1::read_probe,
            probes: BTreeMap::new(),
            dir_problem: None,
            refused: std::collections::BTreeSet::new(),
            in_flight: BTreeMap::new(),
        }
    }

    fn name_of(&self, id: &str) -> String {
        self.opts
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// Reads once per interval until shutdown.
    ///
    /// Ticks are scheduled on the boot-time clock at exact multiples of the
    /// interval, and every reading of a tick is stamped with the tick's
    /// scheduled time (not the moment its file was read, which jitters and
    /// takes ~750 ms per probe on real hardware). So consecutive readings
    /// are exactly one interval apart and never share a Graphite second,
    /// also after restamping. With whole-second intervals the schedule is
    /// phased to the middle of a wall-clock second, and phased again when
    /// the clock becomes synchronised.
    pub fn run(mut self) {
        let interval = self.opts.interval;
        let interval_ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        for (id, name) in &self.opts.names {
            self.metrics.probe_seen(id, name, false);
        }
        let now = self.clock.now();
        let delay = phase_delay(now.wall_ms, interval);
        let mut base = Instant::now() + delay;
        let mut base_mono = now.mono_ms + u64::try_from(delay.as_millis()).unwrap_or(0);
        let mut was_synced = now.synced;
        let mut k: u64 = 0;
        let mut first = true;
        loop {
            let at = |k: u64| base + Duration::from_millis(k.saturating_mul(interval_ms));
            if self.shutdown.sleep_until(at(k)) {
                return;
            }
            let scheduled = base_mono + k * interval_ms;
            self.tick_at(Some(scheduled));
            if first {
                first = false;
                self.report_missing_probes();
            }
            k += 1;
            let late = Instant::now().saturating_duration_since(at(k));
            let skipped = slots_passed(late, interval_ms);
            if skipped > 0 {
                k += skipped;
                Metrics::add(&self.metrics.overruns, skipped);
                ::log::warn!(logger: self.log,
                    "reading the probes took longer than the {} interval: skipped {skipped} \
                     reading(s)",
                    humantime::format_duration(interval)
                );
            }
            let clock = self.clock.now();
            if clock.synced && !was_synced {
                // Re-phase against the now trustworthy wall clock, moving
                // the next tick by at most half a second either way (so it
                // still lands in the next wall-clock second).
                let next_mono = base_mono + k * interval_ms;
                let next_wall = next_mono.cast_signed() + clock.offset_ms();
                let shift = phase_shift_ms(next_wall, interval);
                if shift.abs() > PHASE_SLACK_MS {
                    let d = Duration::from_millis(shift.unsigned_abs());
                    let next = at(k);
                    base = if shift > 0 {
                        next + d
                    } else {
                        next.checked_sub(d).unwrap_or(next)
                    };
                    base_mono = next_mono.saturating_add_signed(shift);
                    k = 0;
                }
            }
            was_synced = clock.synced;
        }
    }

    fn report_missing_probes(&self) {
        for (id, name) in &self.opts.names {
            if !self.probes.get(id).is_some_and(|p| p.present) {
                ::log::warn!(logger: self.log,
                    "configured probe {id} ({name}) is not in {}",
                    self.opts.w1_dir.display()
                );
            }
        }
    }

    /// Replaces how a probe is read (tests: a read that panics).
    pub fn set_read_probe(&mut self, read: ReadProbe) {
        self.read_probe = read;
    }

    /// One round now: discover, read, judge, spool.
    pub fn tick(&mut self) -> TickSummary {
        self.tick_at(None)
    }

    /// One round: discover, read, judge, spool. The readings are stamped
    /// with `scheduled` (boot-time ms) when given, else with the time now;
    /// the wall stamp is that plus the clock's current offset.
    pub fn tick_at(&mut self, scheduled: Option<u64>) -> TickSummary {
        let now = self.clock.now();
        let mono_ms = scheduled.unwrap_or(now.mono_ms);
        let ids = self.discover();
        let mut summary = TickSummary {
            probes: ids.len(),
            ..TickSummary::default()
        };

        // Probes that went away since the last tick.
        let gone: Vec<String> = self
            .probes
            .iter()
            .filter(|(id, p)| p.present && !ids.contains(id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            let p = self.probes.get_mut(&id).expect("listed above");
            p.present = false;
            p.judge = ProbeJudge::default();
            self.metrics.rejected(&id, RejectReason::Vanished);
            self.metrics.probe_seen(&id, &p.name, false);
            ::log::warn!(logger: self.log,
                "probe {id} ({}) vanished from {}",
                p.name,
                self.opts.w1_dir.display()
            );
        }

        let raws = self.read_all(&ids);
        let mut readings = Vec::with_capacity(ids.len());
        let mut accepted = Vec::with_capacity(ids.len());
        for (id, raw) in ids.iter().zip(raws) {
            let name = self.name_of(id);
            let p = self.probes.entry(id.clone()).or_insert_with(|| ProbeState {
                name: name.clone(),
                present: false,
                judge: ProbeJudge::default(),
                reject_run: None,
                saturated_run: 0,
            });
            if !p.present {
                p.present = true;
                self.metrics.probe_seen(id, &name, true);
                ::log::info!(logger: self.log, "probe {id} ({name}) appeared");
            }
            let verdict = p.judge.judge(raw);
            match verdict {
                Verdict::Accepted { milli_c, saturated } => {
                    // Counted once it is in the spool.
                    accepted.push(Accepted {
                        id: id.clone(),
                        milli_c,
                        saturated: saturated.is_some(),
                    });
                    note_recovery(&self.log, id, p);
                    note_saturation(&self.log, id, p, saturated, milli_c, self.opts.unit);
                    readings.push(NewReading {
                        metric: format!("{}.{name}", self.opts.prefix),
                        value: self.opts.unit.format(milli_c),
                    });
                }
                Verdict::Rejected { reason, detail } => {
                    summary.rejected += 1;
                    self.metrics.rejected(id, reason);
                    let run = match p.reject_run {
                        Some((r, n)) if r == reason => n + 1,
                        _ => 1,
                    };
                    p.reject_run = Some((reason, run));
                    // Every rejection is counted; a long run of the same one
                    // is logged at 1, 2, 4, 8, ... so the journal stays
                    // readable.
                    if run.is_power_of_two() {
                        let again = if run > 1 {
                            format!(" ({run} in a row)")
                        } else {
                            String::new()
                        };
                        ::log::warn!(logger: self.log,
                            "probe {id} ({name}): rejected reading ({reason}): {detail}{again}"
                        );
                    }
                }
            }
        }

        if !readings.is_empty() {
            let stamp = Stamp {
                boot: self.clock.boot_id(),
                mono_ms,
                wall_ms: mono_ms.cast_signed() + now.offset_ms(),
                synced: now.synced,
            };
            summary.accepted += self.spool_readings(stamp, readings, accepted);
        }
        self.metrics
            .clock_synced
            .store(now.synced, Ordering::Relaxed);
        summary
    }

    /// Hands a tick's readings to the spool writer, never waiting for it;
    /// they count as read (`readings_ok`) only once the writer has them on
    /// disk. Returns how many were taken (a full queue refuses, counts and
    /// logs them).
    fn spool_readings(
        &self,
        stamp: Stamp,
        readings: Vec<NewReading>,
        accepted: Vec<Accepted>,
    ) -> usize {
        let n = readings.len();
        let batch = Batch {
            stamp,
            readings,
            accepted,
        };
        if self.queue.push(batch) { n } else { 0 }
    }

    /// Reads every probe, each in its own thread: on real hardware a
    /// `w1_slave` read waits ~750 ms for the conversion, and with externally
    /// powered probes the kernel releases the bus while it waits, so two
    /// probes take ~750 ms together instead of 1.5 s. A read that does not
    /// return within the bound (a stuck bus, a FIFO) is given up on and its
    /// thread left to finish; that probe is not read again until it has.
    fn read_all(&mut self, ids: &[String]) -> Vec<Result<i32, w1::ReadError>> {
        type Answer = Result<Result<i32, w1::ReadError>, String>;
        let bound = self.opts.interval.max(PROBE_READ_BOUND);
        let deadline = Instant::now() + bound;
        let hung = |id: &str, what: String| {
            Err(w1::ReadError::Unreadable {
                path: self.opts.w1_dir.join(id),
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, what),
            })
        };
        let mut waiting = Vec::with_capacity(ids.len());
        for id in ids {
            if self
                .in_flight
                .get(id)
                .is_some_and(|busy| busy.load(Ordering::Acquire))
            {
                waiting.push(None);
                continue;
            }
            let (tx, rx) = std::sync::mpsc::sync_channel::<Answer>(1);
            let busy = Arc::new(AtomicBool::new(true));
            let done = busy.clone();
            let (dir, id2) = (self.opts.w1_dir.clone(), id.clone());
            let read_probe = self.read_probe;
            let spawned = std::thread::Builder::new()
                .name("probe".into())
                .stack_size(64 * 1024)
                .spawn(move || {
                    // A panic (a bug) is an answer too: without catching it
                    // the probe would stay busy, never read again.
                    let read = std::panic::catch_unwind(|| read_probe(&dir, &id2))
                        .map_err(|e| crate::panic_message(&*e));
                    // Not busy before the answer is seen, so the next tick
                    // reads it again.
                    done.store(false, Ordering::Release);
                    let _ = tx.send(read);
                });
            match spawned {
                Ok(_) => {
                    self.in_flight.insert(id.clone(), busy);
                    waiting.push(Some(rx));
                }
                Err(e) => {
                    ::log::warn!(logger: self.log, "cannot start a thread to read {id}: {e}");
                    waiting.push(None);
                }
            }
        }
        ids.iter()
            .zip(waiting)
            .map(|(id, rx)| match rx {
                None => hung(
                    id,
                    "the previous read has not returned yet (hung); not read again until it does"
                        .into(),
                ),
                Some(rx) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(left) {
                        Ok(Ok(read)) => read,
                        Ok(Err(panic)) => {
                            ::log::error!(logger: self.log,
                                "probe {id}: reading it panicked ({panic}), a bug in the \
                                 exporter; counted as unreadable, read again next interval"
                            );
                            hung(id, format!("the read panicked: {panic}"))
                        }
                        Err(_) => hung(
                            id,
                            format!(
                                "read did not return within {}; given up on",
                                humantime::format_duration(bound)
                            ),
                        ),
                    }
                }
            })
            .collect()
    }

    fn discover(&mut self) -> Vec<String> {
        match w1::discover(&self.opts.w1_dir) {
            Ok(mut ids) => {
                // A name is a metric path and a label: only what the kernel
                // writes for a DS18B20 is let through.
                ids.retain(|id| {
                    let ok = crate::config::is_probe_id(id);
                    if !ok && self.refused.insert(id.clone()) {
                        ::log::error!(logger: self.log,
                            "ignoring {:?} in {}: not a DS18B20 probe id (28- and 12 lowercase \
                             hex digits), so not a safe metric name; it is never read",
                            id,
                            self.opts.w1_dir.display()
                        );
                    }
                    ok
                });
                if self.dir_problem.take().is_some() {
                    ::log::info!(logger: self.log,
                        "{} is readable again",
                        self.opts.w1_dir.display()
                    );
                }
                ids
            }
            Err(e) => {
                let problem = e.to_string();
                if self.dir_problem.as_deref() != Some(&problem) {
                    ::log::warn!(logger: self.log,
                        "cannot list probes in {}: {problem} (is the w1-gpio overlay \
                         enabled?); retrying every interval",
                        self.opts.w1_dir.display()
                    );
                    self.dir_problem = Some(problem);
                }
                Vec::new()
            }
        }
    }
}

fn note_recovery(log: &Log, id: &str, p: &mut ProbeState) {
    if let Some((reason, n)) = p.reject_run.take()
        && n > 1
    {
        ::log::debug!(logger: log,
            "probe {id} ({}): good reading again after {n} rejected ({reason})",
            p.name
        );
    }
}

fn note_saturation(
    log: &Log,
    id: &str,
    p: &mut ProbeState,
    saturated: Option<Limit>,
    milli_c: i32,
    unit: Unit,
) {
    match saturated {
        Some(limit) => {
            p.saturated_run += 1;
            if p.saturated_run == 1 {
                let (which, beyond) = match limit {
                    Limit::High => ("upper", "above"),
                    Limit::Low => ("lower", "below"),
                };
                ::log::warn!(logger: log,
                    "probe {id} ({}) is saturated: {} {unit} is the sensor's {which} limit; \
                     the real temperature may be {beyond} it",
                    p.name,
                    unit.format(milli_c)
                );
            }
        }
        None => {
            if p.saturated_run > 0 {
                ::log::info!(logger: log,
                    "probe {id} ({}) is no longer saturated (after {} readings at the limit)",
                    p.name, p.saturated_run
                );
                p.saturated_run = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{BootId, ClockReading, ManualClock};
    use crate::spool::{Spool, SpoolOptions, SpoolReader};
    use crate::writer::{QUEUE_READINGS, Writer};

    struct Rig {
        w1: tempfile::TempDir,
        _spool_dir: tempfile::TempDir,
        spool: Arc<Spool>,
        metrics: Arc<Metrics>,
        log: Log,
        reader: Reader,
        writer: Writer,
    }

    impl Rig {
        /// One round, then the writer's commit of it: `accepted` counts
        /// what is in the spool.
        fn tick(&mut self) -> TickSummary {
            let mut s = self.reader.tick();
            s.accepted = self.writer.commit_pending().spooled;
            s
        }
    }

    /// The health counters as the sender would export them now.
    fn snapshot(rig: &Rig) -> crate::metrics::Snapshot {
        rig.metrics.snapshot(
            &rig.spool.stats(),
            &ClockReading {
                wall_ms: 0,
                mono_ms: 0,
                synced: true,
            },
            &BootId::parse("0123456789abcdef").unwrap(),
        )
    }

    fn rig() -> Rig {
        let w1 = tempfile::tempdir().unwrap();
        let spool_dir = tempfile::tempdir().unwrap();
        let log = Log::memory();
        let spool = Arc::new(
            Spool::open(
                SpoolOptions {
                    dir: spool_dir.path().into(),
                    max_bytes: 1 << 20,
                    segment_bytes: 1 << 16,
                },
                log.clone(),
            )
            .unwrap(),
        );
        let clock = Arc::new(ManualClock::new(
            ClockReading {
                wall_ms: 1_733_000_000_500,
                mono_ms: 5_000,
                synced: true,
            },
            BootId::parse("0123456789abcdef").unwrap(),
        ));
        let metrics = Arc::new(Metrics::default());
        let mut names = BTreeMap::new();
        names.insert("28-0316a2b4c5ff".to_owned(), "ham".to_owned());
        let (queue, writer) =
            Writer::for_tests(spool.clone(), metrics.clone(), log.clone(), QUEUE_READINGS);
        let reader = Reader::new(
            ReaderOptions {
                w1_dir: w1.path().into(),
                names,
                prefix: "christmaspi.temperature".into(),
                unit: Unit::Fahrenheit,
                interval: Duration::from_secs(1),
            },
            clock,
            queue,
            metrics.clone(),
            log.clone(),
            Arc::new(Shutdown::new()),
        );
        Rig {
            w1,
            _spool_dir: spool_dir,
            spool,
            metrics,
            log,
            reader,
            writer,
        }
    }

    fn spooled(spool: &Spool) -> Vec<(String, String)> {
        let mut r = SpoolReader::new(0, Log::memory());
        let mut out = Vec::new();
        r.read(spool, usize::MAX, &mut out).unwrap();
        out.into_iter()
            .map(|r| (r.metric().to_owned(), r.value().to_owned()))
            .collect()
    }

    #[test]
    fn reads_names_converts_and_spools() {
        let mut rig = rig();
        crate::simulate::set_probe_millis(rig.w1.path(), "28-0316a2b4c5ff", 57_187, true).unwrap();
        crate::simulate::set_probe_millis(rig.w1.path(), "28-0316a2b4c6aa", 125_000, true).unwrap();
        let s = rig.tick();
        assert_eq!(
            s,
            TickSummary {
                probes: 2,
                accepted: 2,
                rejected: 0
            }
        );
        assert_eq!(
            spooled(&rig.spool),
            vec![
                (
                    "christmaspi.temperature.ham".to_owned(),
                    "134.9366".to_owned()
                ),
                (
                    "christmaspi.temperature.28-0316a2b4c6aa".to_owned(),
                    "257".to_owned()
                ),
            ]
        );
        let lines = rig.log.lines();
        assert!(lines.iter().any(|l| l.contains("saturated")), "{lines:?}");
        let snap = snapshot(&rig);
        assert_eq!(snap.probes["28-0316a2b4c6aa"].saturated, 1);
    }

    #[test]
    fn rejects_are_counted_and_never_spooled() {
        let mut rig = rig();
        let id = "28-0316a2b4c5ff";
        crate::simulate::set_probe_millis(rig.w1.path(), id, 20_000, false).unwrap();
        rig.tick();
        crate::simulate::set_probe_millis(rig.w1.path(), id, 85_000, true).unwrap();
        rig.tick();
        crate::simulate::set_probe_millis(rig.w1.path(), id, 130_000, true).unwrap();
        rig.tick();
        crate::simulate::corrupt_probe(rig.w1.path(), id, crate::simulate::Corruption::Truncated)
            .unwrap();
        rig.tick();
        crate::simulate::corrupt_probe(rig.w1.path(), id, crate::simulate::Corruption::NoT)
            .unwrap();
        rig.tick();
        crate::simulate::remove_probe(rig.w1.path(), id).unwrap();
        rig.tick();
        assert!(spooled(&rig.spool).is_empty());
        let snap = snapshot(&rig);
        let p = &snap.probes[id];
        assert_eq!(p.ok, 0);
        for (reason, n) in [
            (RejectReason::Crc, 1),
            (RejectReason::PowerOnReset, 1),
            (RejectReason::OutOfRange, 1),
            (RejectReason::Malformed, 1),
            (RejectReason::NoTemperature, 1),
            (RejectReason::Vanished, 1),
        ] {
            assert_eq!(p.rejected.get(&reason), Some(&n), "{reason}");
        }
        assert!(!p.present);
        let lines = rig.log.lines();
        assert!(lines.iter().any(|l| l.contains("vanished")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("(crc)")), "{lines:?}");
    }

    #[test]
    fn long_runs_of_one_rejection_log_sparsely() {
        let mut rig = rig();
        let id = "28-0316a2b4c5ff";
        crate::simulate::set_probe_millis(rig.w1.path(), id, 20_000, false).unwrap();
        for _ in 0..20 {
            rig.tick();
        }
        let crc_lines = rig
            .log
            .lines()
            .iter()
            .filter(|l| l.contains("(crc)"))
            .count();
        assert_eq!(crc_lines, 5, "1, 2, 4, 8, 16"); // but all 20 counted:
        let snap = snapshot(&rig);
        assert_eq!(snap.probes[id].rejected[&RejectReason::Crc], 20);
    }

    #[test]
    fn missing_w1_dir_is_logged_once_and_survived() {
        let mut rig = rig();
        let w1 = rig.w1.path().to_owned();
        std::fs::remove_dir(&w1).unwrap();
        for _ in 0..3 {
            assert_eq!(rig.tick().probes, 0);
        }
        let n = rig
            .log
            .lines()
            .iter()
            .filter(|l| l.contains("cannot list probes"))
            .count();
        assert_eq!(n, 1);
        std::fs::create_dir(&w1).unwrap();
        crate::simulate::set_probe_millis(&w1, "28-0316a2b4c5ff", 20_000, true).unwrap();
        assert_eq!(rig.tick().accepted, 1);
    }

    #[test]
    fn a_round_that_overruns_reads_the_next_slot_late_and_skips_only_whole_intervals() {
        let ms = Duration::from_millis;
        assert_eq!(slots_passed(Duration::ZERO, 1000), 0);
        assert_eq!(slots_passed(ms(999), 1000), 0);
        assert_eq!(slots_passed(ms(1000), 1000), 1);
        assert_eq!(slots_passed(ms(2500), 1000), 2);
        assert_eq!(slots_passed(ms(2500), 0), 2500);
    }

    #[test]
    fn phase_shift_is_the_nearest_half_second() {
        let s = |w| phase_shift_ms(w, Duration::from_secs(1));
        assert_eq!(s(1_000_000_500), 0);
        assert_eq!(s(1_000_000_501), -1);
        assert_eq!(s(1_000_000_100), 400);
        assert_eq!(s(1_000_000_000), 500);
        assert_eq!(s(1_000_000_999), -499);
        assert_eq!(
            phase_shift_ms(1_000_000_100, Duration::from_millis(1500)),
            0
        );
    }

    #[test]
    fn phase_is_half_a_second() {
        assert_eq!(
            phase_delay(1_000_000_100, Duration::from_secs(1)),
            Duration::from_millis(400)
        );
        assert_eq!(
            phase_delay(1_000_000_900, Duration::from_secs(1)),
            Duration::from_millis(600)
        );
        assert_eq!(
            phase_delay(1_000_000_500, Duration::from_secs(1)),
            Duration::ZERO
        );
        assert_eq!(
            phase_delay(1_000_000_100, Duration::from_millis(250)),
            Duration::ZERO
        );
    }

    #[test]
    fn a_hung_probe_read_stalls_no_other_probe() {
        // A FIFO nobody writes: opening it blocks forever, as a read on a
        // stuck bus does.
        let mut rig = rig();
        let (hung, good) = ("28-0316a2b4c6aa", "28-0316a2b4c5ff");
        crate::simulate::set_probe_millis(rig.w1.path(), good, 21_500, true).unwrap();
        std::fs::create_dir(rig.w1.path().join(hung)).unwrap();
        let fifo = rig.w1.path().join(hung).join("w1_slave");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for _ in 0..3 {
                let s = rig.tick();
                tx.send(s).unwrap();
            }
            rig
        });
        for tick in 0..3 {
            let s = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("tick {tick} stalled behind the hung probe"));
            assert_eq!((s.probes, s.accepted, s.rejected), (2, 1, 1), "tick {tick}");
        }
        let rig = reader.join().unwrap();
        assert_eq!(spooled(&rig.spool).len(), 3, "the good probe's 3 readings");
        let snap = snapshot(&rig);
        assert_eq!(snap.probes[hung].rejected[&RejectReason::Unreadable], 3);
        let lines = rig.log.lines();
        assert!(
            lines
                .iter()
                .any(|l| l.contains(hung) && l.contains("did not return")),
            "{lines:?}"
        );
        // Unblock the hung thread so the test leaves nothing behind.
        drop(std::fs::OpenOptions::new().write(true).open(&fifo));
    }

    #[test]
    fn probe_dirs_that_are_not_safe_metric_names_are_refused_loudly() {
        let mut rig = rig();
        let good = "28-0316a2b4c5ff";
        crate::simulate::set_probe_millis(rig.w1.path(), good, 21_500, true).unwrap();
        let bad = [
            "28-a b",
            "28-\u{fc}n\u{ef}",
            "28-0316a2b4c5ff\nevil.metric 1 1",
            "28-0316A2B4C5FF",
        ];
        for id in bad {
            let dir = rig.w1.path().join(id);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("temperature"), "21500\n").unwrap();
        }
        for _ in 0..3 {
            let s = rig.tick();
            assert_eq!((s.probes, s.accepted), (1, 1));
        }
        let sent = spooled(&rig.spool);
        assert_eq!(
            sent.len(),
            3,
            "readings in: 3 from the good probe; out: {sent:?}"
        );
        assert!(sent.iter().all(|(m, _)| m == "christmaspi.temperature.ham"));
        let lines = rig.log.lines();
        for id in bad {
            let n = lines
                .iter()
                .filter(|l| l.contains(&format!("{id:?}")) && l.contains("not a DS18B20"))
                .count();
            assert_eq!(n, 1, "{id:?} refused once, by name: {lines:?}");
        }
        let snap = snapshot(&rig);
        assert_eq!(snap.probes.len(), 1, "no health metric carries a bad id");
        let text = snap.graphite_lines("christmaspi.temperature", 1);
        assert!(text.lines().all(|l| l.split(' ').count() == 3), "{text}");
    }

    #[test]
    fn readings_that_fail_to_spool_are_not_counted_as_read() {
        let mut rig = rig();
        crate::simulate::set_probe_millis(rig.w1.path(), "28-0316a2b4c5ff", 21_500, true).unwrap();
        // The spool's directory is gone: the append fails.
        std::fs::remove_dir_all(rig.spool.dir()).unwrap();
        let s = rig.tick();
        assert_eq!((s.probes, s.accepted), (1, 0));
        let snap = snapshot(&rig);
        assert_eq!(snap.probes["28-0316a2b4c5ff"].ok, 0);
        assert_eq!(snap.spool_write_errors, 1);
        assert!(rig.log.lines().iter().any(|l| l.contains("they are lost")));
    }

    /// Panics while a file named `panic` is in the probe's directory (no
    /// real file makes `w1::read_probe` panic: this stands for a bug).
    fn read_or_panic(dir: &std::path::Path, id: &str) -> Result<i32, w1::ReadError> {
        assert!(!dir.join(id).join("panic").exists(), "injected bug");
        w1::read_probe(dir, id)
    }

    #[test]
    fn a_panicking_read_is_a_logged_fault_and_the_probe_is_read_next_round() {
        let mut rig = rig();
        rig.reader.set_read_probe(read_or_panic);
        let ham = "28-0316a2b4c5ff";
        crate::simulate::set_probe_millis(rig.w1.path(), ham, 21_500, true).unwrap();
        std::fs::write(rig.w1.path().join(ham).join("panic"), "").unwrap();
        let s = rig.tick();
        assert_eq!((s.probes, s.accepted, s.rejected), (1, 0, 1));
        let snap = snapshot(&rig);
        assert_eq!(
            snap.probes[ham].rejected.get(&RejectReason::Unreadable),
            Some(&1)
        );
        assert!(
            rig.log
                .lines()
                .iter()
                .any(|l| l.contains("panicked") && l.contains("injected bug")),
            "{:?}",
            rig.log.lines()
        );
        // The probe is not left busy: the next round reads it.
        std::fs::remove_file(rig.w1.path().join(ham).join("panic")).unwrap();
        let s = rig.tick();
        assert_eq!(
            (s.probes, s.accepted, s.rejected),
            (1, 1, 0),
            "{:?}",
            rig.log.lines()
        );
        assert_eq!(spooled(&rig.spool).len(), 1);
    }
}
