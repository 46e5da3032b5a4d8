//! The sender thread: reads the spool forward and writes carbon plaintext
//! (`name value timestamp\n`), each reading with its own timestamp.
//!
//! Carbon never acknowledges anything, and bytes the kernel accepted just
//! before a link died are lost without an error. So the sender remembers
//! when it wrote each batch, and only after `replay_window` without an
//! error does it move the spool's cursor past it. After any connection
//! error it goes back to the oldest batch still in the window and writes
//! everything again from there: the readings most recently written to the
//! dead connection and then the spool. Carbon keeps the last value for a
//! repeated timestamp, so the overlap is harmless.
//!
//! The window only works if a dead link is noticed in bounded time:
//! `TCP_USER_TIMEOUT` (`unacked_timeout`) makes the kernel give up on data
//! unacknowledged that long, and a write timeout bounds a full send
//! buffer. The window must be longer than both together, which the
//! configuration checks.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::backoff::{Backoff, Jitter};
use crate::clock::{BootId, Clock, ClockReading};
use crate::config::GraphiteConfig;
use crate::log::Log;
use crate::metrics::Metrics;
use crate::record::Record;
use crate::shutdown::Shutdown;
use crate::spool::{Spool, SpoolReader};

/// How the sender talks to carbon.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// Where and how to reach carbon (`[graphite]`).
    pub graphite: GraphiteConfig,
    /// How often health lines are sent.
    pub health_interval: Duration,
    /// Most readings per write batch.
    pub batch: usize,
    /// How long to keep sending after shutdown (for `--run-for`).
    pub drain_timeout: Duration,
}

/// How long a connection must work before the backoff starts over.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);
/// How often the cursor file is rewritten (when it changed).
const PERSIST_EVERY: Duration = Duration::from_secs(2);
/// Longest idle sleep, so clock and shutdown are looked at regularly.
const IDLE_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Connection {
    writer: BufWriter<TcpStream>,
    peer: SocketAddr,
    since: Instant,
}

/// What to do with one record now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamped {
    /// Send with this Unix timestamp (seconds).
    Ready(i64),
    /// The clock is not synced yet: keep it in the spool.
    Hold,
    /// From an earlier boot whose clock never synced: its time is unknown.
    Drop,
}

/// Decides the timestamp of a record: its own wall time when the clock was
/// synced, else its boot time plus the offset of that boot's clock.
///
/// `offset_for_boot` gives `wall - boot time` for an earlier boot, found in
/// a later, synced record of that boot.
pub fn stamp_record(
    rec: &Record,
    now: &ClockReading,
    this_boot: &BootId,
    offset_for_boot: &mut dyn FnMut(&Record) -> Option<i64>,
) -> Stamped {
    let secs = |ms: i64| Stamped::Ready(ms.div_euclid(1000));
    if rec.synced {
        return secs(rec.wall_ms);
    }
    let mono = i64::try_from(rec.mono_ms).unwrap_or(i64::MAX);
    if &rec.boot == this_boot {
        if now.synced {
            secs(mono + now.offset_ms())
        } else {
            Stamped::Hold
        }
    } else {
        match offset_for_boot(rec) {
            Some(offset) => secs(mono + offset),
            None => Stamped::Drop,
        }
    }
}

/// Looks forward in the spool from `rec` for a synced record of the same
/// boot, whose `wall - mono` is that boot's clock offset.
fn find_boot_offset(spool: &Spool, rec: &Record, log: &Log) -> Option<i64> {
    let mut reader = SpoolReader::new(rec.seq, log.clone());
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        reader.read(spool, 4096, &mut buf).ok()?;
        if buf.is_empty() {
            return None;
        }
        for r in &buf {
            if r.boot != rec.boot {
                return None; // that boot ended without a synced clock
            }
            if r.synced {
                return Some(r.wall_ms - i64::try_from(r.mono_ms).unwrap_or(i64::MAX));
            }
        }
    }
}

/// The sender thread's state.
#[derive(Debug)]
pub struct Sender {
    opts: SenderOptions,
    spool: Arc<Spool>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    log: Log,
    shutdown: Arc<Shutdown>,
    reader: SpoolReader,
    pending: VecDeque<Record>,
    window: VecDeque<(Instant, u64)>,
    conn: Option<Connection>,
    backoff: Backoff,
    next_attempt: Instant,
    boot: BootId,
    boot_offsets: HashMap<BootId, Option<i64>>,
    unstampable_counted_to: u64,
    holding: bool,
    written_high: u64,
    last_health: Option<Instant>,
    last_persist: Instant,
    gave_up: bool,
}

impl Sender {
    /// A sender starting at the spool's cursor.
    #[must_use]
    pub fn new(
        opts: SenderOptions,
        spool: Arc<Spool>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        log: Log,
        shutdown: Arc<Shutdown>,
    ) -> Sender {
        let start = spool.committed();
        let backoff = Backoff::new(
            opts.graphite.backoff_min,
            opts.graphite.backoff_max,
            Jitter::from_entropy(),
        );
        let boot = clock.boot_id();
        Sender {
            reader: SpoolReader::new(start, log.clone()),
            opts,
            spool,
            clock,
            metrics,
            log,
            shutdown,
            pending: VecDeque::new(),
            window: VecDeque::new(),
            conn: None,
            backoff,
            next_attempt: Instant::now(),
            boot,
            boot_offsets: HashMap::new(),
            unstampable_counted_to: 0,
            holding: false,
            written_high: start,
            last_health: None,
            last_persist: Instant::now(),
            gave_up: false,
        }
    }

    /// The seq of the next reading to be written.
    fn position(&self) -> u64 {
        self.pending
            .front()
            .map_or(self.reader.position(), |r| r.seq)
    }

    fn drained(&self) -> bool {
        self.pending.is_empty() && self.reader.position() >= self.spool.stats().next_seq
    }

    /// Runs until shutdown (then drains for up to `drain_timeout`).
    pub fn run(mut self) {
        let mut drain_deadline = None;
        loop {
            if self.shutdown.is_set() {
                let deadline =
                    *drain_deadline.get_or_insert_with(|| Instant::now() + self.opts.drain_timeout);
                // Drain while carbon answers; one failed attempt after the
                // stop is enough to give up (the spool keeps the rest).
                if self.drained() || Instant::now() >= deadline || self.gave_up {
                    break;
                }
            }
            self.step();
        }
        self.commit_window();
        if let Err(e) = self.spool.persist_cursor() {
            ::log::error!(logger: self.log, "spool: cannot write the cursor: {e}");
        }
        if !self.drained() {
            ::log::warn!(logger: self.log,
                "stopping with {} readings not yet sent; they stay in the spool",
                self.spool.stats().next_seq.saturating_sub(self.position())
            );
        }
    }

    /// One turn of the loop: commit, read, maybe connect, maybe write,
    /// else wait.
    pub fn step(&mut self) {
        self.commit_window();
        self.maybe_persist();
        if self.pending.len() < self.opts.batch / 2 {
            self.fill();
        }
        let now = self.clock.now();
        self.metrics
            .clock_synced
            .store(now.synced, Ordering::Relaxed);
        self.publish_position();

        let health_due = now.synced
            && self
                .last_health
                .is_none_or(|t| t.elapsed() >= self.opts.health_interval);
        let have_readings = !self.pending.is_empty();
        if !have_readings && !health_due {
            if self.spool.stats().next_seq > self.reader.position() {
                // Readings exist that could not be read just now (an I/O
                // error, a segment deleted behind our back): do not spin.
                self.shutdown.sleep(Duration::from_millis(200));
            } else {
                let wait = self.idle_wait();
                self.spool.wait_for(self.reader.position(), wait);
            }
            return;
        }
        if self.conn.is_none() {
            if Instant::now() < self.next_attempt && !self.shutdown.is_set() {
                let until = self.next_attempt.min(Instant::now() + IDLE_WAIT);
                self.shutdown.sleep_until(until);
                return;
            }
            self.try_connect();
            if self.conn.is_none() {
                return;
            }
        }
        match self.write_batch(&now, health_due) {
            Ok(BatchOutcome::Wrote) => {}
            Ok(BatchOutcome::Held) => {
                self.shutdown.sleep(IDLE_WAIT);
            }
            Err(e) => self.connection_failed("write failed", &e),
        }
    }

    fn idle_wait(&self) -> Duration {
        let mut wait = IDLE_WAIT;
        if let Some(t) = self.last_health {
            wait = wait.min(self.opts.health_interval.saturating_sub(t.elapsed()));
        }
        if let Some(&(t, _)) = self.window.front() {
            wait = wait.min(self.opts.graphite.replay_window.saturating_sub(t.elapsed()));
        }
        wait.max(Duration::from_millis(10))
    }

    fn fill(&mut self) {
        // While disconnected, hold just the oldest reading (for its age):
        // what stays on disk is what the cap accounts for exactly.
        let limit = if self.conn.is_some() {
            self.opts.batch
        } else {
            1
        };
        let room = limit.saturating_sub(self.pending.len());
        if room == 0 {
            return;
        }
        let mut buf = Vec::with_capacity(room.min(4096));
        match self.reader.read(&self.spool, room, &mut buf) {
            Ok(bad) => Metrics::add(&self.metrics.spool_corrupt_lines, bad),
            Err(e) => {
                ::log::error!(logger: self.log, "spool: read failed: {e}; retrying");
                self.shutdown.sleep(IDLE_WAIT);
            }
        }
        self.pending.extend(buf);
        self.spool
            .note_sender(self.written_high, self.reader.position());
    }

    fn publish_position(&self) {
        self.metrics
            .sender_position
            .store(self.position(), Ordering::Relaxed);
        self.metrics
            .set_oldest_pending(self.pending.front().map(|r| (r.boot, r.mono_ms, r.wall_ms)));
    }

    /// Moves the cursor past batches written longer than the window ago.
    fn commit_window(&mut self) {
        while let Some(&(t, _)) = self.window.front() {
            if t.elapsed() >= self.opts.graphite.replay_window {
                self.window.pop_front();
            } else {
                break;
            }
        }
        let safe = self
            .window
            .front()
            .map_or_else(|| self.position(), |&(_, seq)| seq);
        self.spool.commit(safe);
    }

    fn maybe_persist(&mut self) {
        if self.last_persist.elapsed() >= PERSIST_EVERY {
            self.last_persist = Instant::now();
            if let Err(e) = self.spool.persist_cursor() {
                ::log::error!(logger: self.log, "spool: cannot write the cursor: {e}");
            }
        }
    }

    fn try_connect(&mut self) {
        match connect(&self.opts) {
            Ok((stream, peer)) => {
                let backlog = self.spool.stats().next_seq.saturating_sub(self.position());
                ::log::info!(logger: self.log,
                    "connected to graphite {} ({peer}); {backlog} readings to send",
                    self.opts.graphite.address
                );
                self.conn = Some(Connection {
                    writer: BufWriter::with_capacity(64 * 1024, stream),
                    peer,
                    since: Instant::now(),
                });
                self.metrics.connected.store(true, Ordering::Relaxed);
            }
            Err(e) => {
                Metrics::add(&self.metrics.send_errors, 1);
                self.gave_up = self.shutdown.is_set();
                let delay = self.backoff.next_delay();
                self.next_attempt = Instant::now() + delay;
                ::log::warn!(logger: self.log,
                    "cannot connect to graphite {}: {e}; retry in {:.1}s (attempt {})",
                    self.opts.graphite.address,
                    delay.as_secs_f64(),
                    self.backoff.attempts()
                );
            }
        }
    }

    fn connection_failed(&mut self, what: &str, e: &io::Error) {
        Metrics::add(&self.metrics.send_errors, 1);
        self.metrics.connected.store(false, Ordering::Relaxed);
        let peer = self.conn.take().map_or_else(
            || self.opts.graphite.address.clone(),
            |c| c.peer.to_string(),
        );
        // Everything in the window may have been lost with the connection.
        let from = self
            .window
            .front()
            .map_or_else(|| self.position(), |&(_, seq)| seq);
        let replay = self.position().saturating_sub(from);
        // Readings held in memory whose segment the cap has deleted since
        // cannot be read again: they are lost now.
        let first_on_disk = self.spool.stats().first_seq;
        let discarded = self
            .pending
            .iter()
            .filter(|r| r.seq < first_on_disk && r.seq >= self.written_high)
            .count() as u64;
        self.spool.note_discarded(discarded);
        self.window.clear();
        self.pending.clear();
        self.reader.seek(from);
        self.spool.note_sender(self.written_high, from);
        let delay = self.backoff.next_delay();
        self.next_attempt = Instant::now() + delay;
        ::log::warn!(logger: self.log,
            "graphite {peer}: {what}: {e}; reconnecting in {:.1}s, then replaying from \
             reading {from} ({replay} already written may have been lost)",
            delay.as_secs_f64()
        );
    }

    fn write_batch(&mut self, now: &ClockReading, health_due: bool) -> io::Result<BatchOutcome> {
        let conn = self.conn.as_mut().expect("connected");
        if peer_closed(conn.writer.get_ref()) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "carbon closed the connection",
            ));
        }
        let mut lines = 0u64;
        let mut consumed = 0usize;
        let mut held = false;
        let mut dropped = 0u64;
        let spool = &self.spool;
        let log = &self.log;
        let boot_offsets = &mut self.boot_offsets;
        let mut offset_for = |rec: &Record| {
            *boot_offsets
                .entry(rec.boot)
                .or_insert_with(|| find_boot_offset(spool, rec, log))
        };
        let mut restamp_shift = None;
        let mut line_buf = Vec::with_capacity(128);
        for rec in &self.pending {
            match stamp_record(rec, now, &self.boot, &mut offset_for) {
                Stamped::Ready(ts) => {
                    line_buf.clear();
                    rec.carbon_line_into(ts, &mut line_buf);
                    conn.writer.write_all(&line_buf)?;
                    lines += 1;
                    if !rec.synced && restamp_shift.is_none() {
                        restamp_shift = Some(ts - rec.wall_ms.div_euclid(1000));
                    }
                }
                Stamped::Hold => {
                    held = true;
                    break;
                }
                Stamped::Drop => {
                    if rec.seq >= self.unstampable_counted_to {
                        dropped += 1;
                        self.unstampable_counted_to = rec.seq + 1;
                        if dropped == 1 {
                            ::log::warn!(logger: self.log,
                                "reading {} (boot {}) was taken before the clock synced and \
                                 that boot never synced: its time is unknown, dropping it and \
                                 any others like it",
                                rec.seq, rec.boot
                            );
                        }
                    }
                }
            }
            consumed += 1;
        }
        let mut health_lines = 0;
        if health_due {
            let snap = self.metrics.snapshot(&self.spool.stats(), now, &self.boot);
            let text =
                snap.graphite_lines(&self.opts.graphite.prefix, now.wall_ms.div_euclid(1000));
            health_lines = text.lines().count() as u64;
            conn.writer.write_all(text.as_bytes())?;
        }
        if lines == 0 && health_lines == 0 && consumed == 0 {
            self.note_holding(held, now);
            return Ok(BatchOutcome::Held);
        }
        conn.writer.flush()?;
        let healthy = conn.since.elapsed() >= HEALTHY_AFTER;
        if health_due {
            self.last_health = Some(Instant::now());
        }
        let first = self.pending.front().map(|r| r.seq);
        if let Some(first) = first
            && consumed > 0
        {
            self.window.push_back((Instant::now(), first));
        }
        self.pending.drain(..consumed);
        self.written_high = self.written_high.max(self.position());
        self.spool
            .note_sender(self.written_high, self.reader.position());
        Metrics::add(&self.metrics.sent, lines + health_lines);
        Metrics::add(&self.metrics.unstampable, dropped);
        if healthy {
            self.backoff.reset();
        }
        if let Some(shift) = restamp_shift
            && self.holding
        {
            ::log::info!(logger: self.log,
                "clock synchronised: sending held readings restamped by {shift:+}s"
            );
        }
        self.note_holding(held, now);
        Ok(if held && consumed == 0 {
            BatchOutcome::Held
        } else {
            BatchOutcome::Wrote
        })
    }

    fn note_holding(&mut self, held: bool, now: &ClockReading) {
        if held && !self.holding {
            ::log::warn!(logger: self.log,
                "clock not synchronised: keeping readings from reading {} on in the spool \
                 until it is, to restamp them then",
                self.position()
            );
        }
        if !held && self.holding && now.synced {
            ::log::debug!(logger: self.log, "all held readings restamped and sent");
        }
        self.holding = held;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BatchOutcome {
    Wrote,
    Held,
}

/// Resolves `opts.graphite.address` and connects to the first address that answers.
fn connect(opts: &SenderOptions) -> io::Result<(TcpStream, SocketAddr)> {
    let addrs: Vec<SocketAddr> = opts.graphite.address.to_socket_addrs()?.collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, opts.graphite.connect_timeout) {
            Ok(stream) => {
                stream.set_write_timeout(Some(opts.graphite.write_timeout))?;
                stream.set_nodelay(true)?;
                socket2::SockRef::from(&stream)
                    .set_tcp_user_timeout(Some(opts.graphite.unacked_timeout))?;
                return Ok((stream, addr));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("the address resolved to nothing")))
}

/// Whether carbon has closed its end (it never sends anything, so a
/// readable socket means EOF or an error).
fn peer_closed(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut buf = [0u8; 256];
    let r = stream.peek(&mut buf);
    let _ = stream.set_nonblocking(false);
    match r {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != io::ErrorKind::WouldBlock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::spool::{NewReading, SpoolOptions, Stamp};
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::Mutex;
    use std::sync::mpsc;

    fn boot(s: &str) -> BootId {
        BootId::parse(s).unwrap()
    }

    fn rec(seq: u64, boot_id: &str, mono_ms: u64, wall_ms: i64, synced: bool) -> Record {
        Record::new(seq, boot(boot_id), mono_ms, wall_ms, synced, "p.ham", "1")
    }

    const B1: &str = "1111111111111111";
    const B2: &str = "2222222222222222";

    #[test]
    fn synced_records_keep_their_own_time() {
        let now = ClockReading {
            wall_ms: 9_000_000,
            mono_ms: 5,
            synced: false,
        };
        let r = rec(0, B1, 100, 1_700_000_000_999, true);
        assert_eq!(
            stamp_record(&r, &now, &boot(B1), &mut |_| None),
            Stamped::Ready(1_700_000_000)
        );
    }

    #[test]
    fn unsynced_records_wait_then_are_restamped_by_the_measured_offset() {
        // Booted with the clock at 2021 (a stale image); readings at boot
        // time 60 s and 61 s.
        let r0 = rec(0, B1, 60_000, 1_609_459_260_000, false);
        let r1 = rec(1, B1, 61_000, 1_609_459_261_000, false);
        let unsynced = ClockReading {
            wall_ms: 1_609_459_300_000,
            mono_ms: 100_000,
            synced: false,
        };
        assert_eq!(
            stamp_record(&r0, &unsynced, &boot(B1), &mut |_| None),
            Stamped::Hold
        );
        // NTP: at boot time 100 s it is really 1_733_080_000 s.
        let synced = ClockReading {
            wall_ms: 1_733_080_000_000,
            mono_ms: 100_000,
            synced: true,
        };
        assert_eq!(
            stamp_record(&r0, &synced, &boot(B1), &mut |_| None),
            Stamped::Ready(1_733_079_960)
        );
        assert_eq!(
            stamp_record(&r1, &synced, &boot(B1), &mut |_| None),
            Stamped::Ready(1_733_079_961)
        );
    }

    #[test]
    fn earlier_boots_use_their_own_offset_or_are_dropped() {
        let now = ClockReading {
            wall_ms: 1_733_090_000_000,
            mono_ms: 1_000,
            synced: true,
        };
        let old = rec(0, B1, 60_000, 5, false);
        // That boot synced later: offset from its synced record.
        assert_eq!(
            stamp_record(&old, &now, &boot(B2), &mut |_| Some(1_733_000_000_000)),
            Stamped::Ready(1_733_000_060)
        );
        assert_eq!(
            stamp_record(&old, &now, &boot(B2), &mut |_| None),
            Stamped::Drop
        );
    }

    #[test]
    fn boot_offset_is_found_in_a_later_synced_record() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(
            SpoolOptions {
                dir: dir.path().into(),
                max_bytes: 1 << 20,
                segment_bytes: 1 << 20,
            },
            Log::memory(),
        )
        .unwrap();
        let r = |m: &str| {
            vec![NewReading {
                metric: m.into(),
                value: "1".into(),
            }]
        };
        let st = |b: &str, mono: u64, wall: i64, synced| Stamp {
            boot: boot(b),
            mono_ms: mono,
            wall_ms: wall,
            synced,
        };
        spool.append(&st(B1, 1_000, 50, false), &r("a")).unwrap();
        spool.append(&st(B1, 2_000, 60, false), &r("a")).unwrap();
        spool
            .append(&st(B1, 3_000, 1_733_000_003_000, true), &r("a"))
            .unwrap();
        spool.append(&st(B2, 500, 70, false), &r("a")).unwrap();
        let first = rec(0, B1, 1_000, 50, false);
        assert_eq!(
            find_boot_offset(&spool, &first, &Log::memory()),
            Some(1_733_000_000_000)
        );
        let b2 = rec(3, B2, 500, 70, false);
        assert_eq!(find_boot_offset(&spool, &b2, &Log::memory()), None);
    }

    /// A fake carbon: a loopback listener that collects lines, and can be
    /// told to drop its connections.
    struct FakeCarbon {
        addr: SocketAddr,
        lines: Arc<Mutex<Vec<String>>>,
        kick: mpsc::Sender<()>,
    }

    impl FakeCarbon {
        fn start() -> FakeCarbon {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let lines = Arc::new(Mutex::new(Vec::new()));
            let (kick, kicked) = mpsc::channel::<()>();
            let kicked = Arc::new(Mutex::new(kicked));
            {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    for stream in listener.incoming() {
                        let Ok(stream) = stream else { return };
                        let lines = lines.clone();
                        let kicked = kicked.clone();
                        let closer = stream.try_clone().unwrap();
                        std::thread::spawn(move || {
                            // Closing on a kick, as carbon does when stopped.
                            if kicked.lock().unwrap().recv().is_ok() {
                                let _ = closer.shutdown(std::net::Shutdown::Both);
                            }
                        });
                        std::thread::spawn(move || {
                            for line in BufReader::new(stream).lines() {
                                let Ok(line) = line else { return };
                                lines.lock().unwrap().push(line);
                            }
                        });
                    }
                });
            }
            FakeCarbon { addr, lines, kick }
        }

        fn readings(&self) -> Vec<String> {
            self.lines
                .lock()
                .unwrap()
                .iter()
                .filter(|l| !l.contains(".exporter."))
                .cloned()
                .collect()
        }
    }

    fn opts(addr: String) -> SenderOptions {
        SenderOptions {
            graphite: GraphiteConfig {
                address: addr,
                prefix: "p".into(),
                connect_timeout: Duration::from_secs(1),
                write_timeout: Duration::from_secs(1),
                unacked_timeout: Duration::from_secs(1),
                replay_window: Duration::from_secs(3),
                backoff_min: Duration::from_millis(20),
                backoff_max: Duration::from_millis(100),
            },
            health_interval: Duration::from_hours(1),
            batch: 64,
            drain_timeout: Duration::from_secs(2),
        }
    }

    fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
        let start = Instant::now();
        while !f() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "timed out: {what}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    struct Rig {
        _dir: tempfile::TempDir,
        spool: Arc<Spool>,
        clock: Arc<ManualClock>,
        metrics: Arc<Metrics>,
        shutdown: Arc<Shutdown>,
        thread: Option<std::thread::JoinHandle<()>>,
        log: Log,
    }

    impl Rig {
        fn start(addr: String, synced: bool) -> Rig {
            let dir = tempfile::tempdir().unwrap();
            let log = Log::memory();
            let spool = Arc::new(
                Spool::open(
                    SpoolOptions {
                        dir: dir.path().into(),
                        max_bytes: 1 << 20,
                        segment_bytes: 4096,
                    },
                    log.clone(),
                )
                .unwrap(),
            );
            let clock = Arc::new(ManualClock::new(
                ClockReading {
                    wall_ms: 1_000_000_000,
                    mono_ms: 10_000,
                    synced,
                },
                boot(B1),
            ));
            let metrics = Arc::new(Metrics::default());
            let shutdown = Arc::new(Shutdown::new());
            let sender = Sender::new(
                opts(addr),
                spool.clone(),
                clock.clone(),
                metrics.clone(),
                log.clone(),
                shutdown.clone(),
            );
            let thread = Some(std::thread::spawn(move || sender.run()));
            Rig {
                _dir: dir,
                spool,
                clock,
                metrics,
                shutdown,
                thread,
                log,
            }
        }

        fn read(&self, i: u64) {
            let now = self.clock.now();
            self.spool
                .append(
                    &Stamp {
                        boot: boot(B1),
                        mono_ms: now.mono_ms,
                        wall_ms: now.wall_ms,
                        synced: now.synced,
                    },
                    &[NewReading {
                        metric: "p.ham".into(),
                        value: format!("{i}"),
                    }],
                )
                .unwrap();
            self.clock.advance_ms(1000);
        }

        fn stop(mut self) -> Log {
            self.shutdown.trigger();
            self.spool.wake();
            self.thread.take().unwrap().join().unwrap();
            self.log.clone()
        }
    }

    fn distinct_values(lines: &[String]) -> std::collections::BTreeSet<u64> {
        lines
            .iter()
            .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn sends_in_order_with_own_timestamps() {
        let carbon = FakeCarbon::start();
        let rig = Rig::start(carbon.addr.to_string(), true);
        for i in 0..5 {
            rig.read(i);
        }
        wait_until("5 lines", || carbon.readings().len() >= 5);
        let lines = carbon.readings();
        assert_eq!(
            lines,
            (0..5)
                .map(|i| format!("p.ham {i} {}", 1_000_000 + i))
                .collect::<Vec<_>>()
        );
        rig.stop();
    }

    #[test]
    fn replays_the_window_after_the_connection_dies() {
        let carbon = FakeCarbon::start();
        let rig = Rig::start(carbon.addr.to_string(), true);
        for i in 0..10 {
            rig.read(i);
        }
        wait_until("10 lines", || carbon.readings().len() >= 10);
        // Carbon drops the connection; the sender notices and replays.
        carbon.kick.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        for i in 10..20 {
            rig.read(i);
        }
        wait_until("all 20 again", || {
            distinct_values(&carbon.readings()).len() >= 20
        });
        let lines = carbon.readings();
        // Everything arrived; the first ten (in the window) twice.
        assert_eq!(distinct_values(&lines), (0..20).collect());
        assert!(lines.len() >= 20 + 10 - 1, "{} lines", lines.len());
        let log = rig.stop();
        assert!(log.lines().iter().any(|l| l.contains("replaying from")));
    }

    #[test]
    fn outage_then_recovery_loses_nothing() {
        // Nothing listens: pick a port, free it.
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addr = format!("127.0.0.1:{port}");
        let rig = Rig::start(addr.clone(), true);
        for i in 0..30 {
            rig.read(i);
        }
        wait_until("connect errors", || {
            rig.metrics.send_errors.load(Ordering::Relaxed) >= 2
        });
        // Carbon comes back on the same port.
        let listener = TcpListener::bind(&addr).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        {
            let got = got.clone();
            std::thread::spawn(move || {
                let (s, _) = listener.accept().unwrap();
                for line in BufReader::new(s).lines() {
                    let Ok(line) = line else { return };
                    if !line.contains(".exporter.") {
                        got.lock().unwrap().push(line);
                    }
                }
            });
        }
        wait_until("30 lines", || got.lock().unwrap().len() >= 30);
        std::thread::sleep(Duration::from_millis(200));
        let lines = got.lock().unwrap().clone();
        assert_eq!(lines.len(), 30, "{lines:?} {:?}", rig.log.lines());
        assert_eq!(distinct_values(&lines), (0..30).collect());
        let ts: Vec<i64> = lines
            .iter()
            .map(|l| l.split(' ').nth(2).unwrap().parse().unwrap())
            .collect();
        assert_eq!(ts, (1_000_000..1_000_030).collect::<Vec<_>>());
        rig.stop();
    }

    #[test]
    fn holds_unsynced_readings_until_the_clock_syncs() {
        let carbon = FakeCarbon::start();
        let rig = Rig::start(carbon.addr.to_string(), false);
        for i in 0..3 {
            rig.read(i); // mono 10 s, 11 s, 12 s; wall "1_000_000 s" (wrong)
        }
        std::thread::sleep(Duration::from_millis(300));
        assert!(carbon.readings().is_empty(), "sent before the clock synced");
        // NTP: at mono 13 s the real time is 1_733_000_000 s.
        rig.clock.sync_to(1_733_000_000_000);
        wait_until("3 lines", || carbon.readings().len() >= 3);
        let ts: Vec<String> = carbon
            .readings()
            .iter()
            .map(|l| l.split(' ').nth(2).unwrap().to_owned())
            .collect();
        assert_eq!(ts, ["1732999997", "1732999998", "1732999999"]);
        let log = rig.stop();
        assert!(
            log.lines().iter().any(|l| l.contains("not synchronised")),
            "{:?}",
            log.lines()
        );
    }
}
