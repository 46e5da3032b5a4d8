//! pi-probe-exporter end to end: simulated DS18B20 probes (the exporter's
//! own `simulate`, writing a w1 sysfs tree) → the real exporter binary →
//! real carbon-cache + graphite-web → `check-graphite`.
//!
//! # The ledger
//!
//! "Nothing is lost" is only checkable against a record of what was taken.
//! The exporter keeps one: every accepted reading is appended (and
//! fdatasynced) to its spool before anything is sent, one CRC-guarded line
//! per reading with its seq and its wall-clock stamp. [`Ledger`] tails the
//! spool's `seg-*.log` files from outside every 100 ms, read-only, and keeps
//! every complete line it sees, so it still has the readings the cap or the
//! cursor later deletes (a segment lives for seconds at least). Seqs count
//! up by one per reading across segments and restarts, so a missed segment
//! shows as a gap and fails the test instead of shrinking the ledger.
//!
//! Each reading goes to Graphite at `floor(wall_ms / 1000)`. Ticks are
//! scheduled exactly one interval apart on the boot-time clock, phased to
//! the middle of a wall-clock second, so at `--interval 1s` every reading of
//! a probe has its own second and a probe read on every tick has one reading
//! in every second. (A round late by a whole interval makes the reader skip
//! a tick, which it logs and counts as `reader.overruns`; the tests count
//! such skips too, they do not assume there are none.) Comparing Graphite
//! with the ledger, second by second and value by value, over the span the
//! ledger covers, is therefore exact: no tolerance.
//!
//! The probes' values move (the `ham` scenario runs at 200× speed), so a
//! reading filed under the wrong second would also show as a wrong value.
//!
//! This machine's kernel clock reports `TIME_ERROR`, so every run passes
//! `--assume-clock-synced`. Only loopback addresses are used.

#![allow(
    clippy::float_cmp,
    reason = "counters, and sensor values in 1/16 °C steps, are exact in f64: compared exactly on purpose"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nightwatch_testkit::plugin_cmd::workspace_bin;
use nightwatch_testkit::ports::{free_port, loopback};
use nightwatch_testkit::process::scratch_dir;
use nightwatch_testkit::{Graphite, ServiceProcess, State, http, plugin};
use rustix::process::{Pid, Signal, kill_process};
use tempfile::TempDir;

/// The ham probe of the simulator (`--scenario ham`).
pub(crate) const HAM: &str = "28-0316a2b4c5ff";
/// The oven probe of the simulator (`--scenario oven`).
pub(crate) const OVEN: &str = "28-0316a2b4c6aa";
/// How long a reading may take to become readable in Graphite.
pub(crate) const SETTLE: Duration = Duration::from_secs(20);
/// How long recovery after an outage may take: reconnect (backoff capped
/// at 1 s here), replay, carbon writing, graphite-web reading.
pub(crate) const RECOVER: Duration = Duration::from_secs(45);

pub(crate) fn exporter_bin() -> PathBuf {
    workspace_bin("pi-probe-exporter")
}

pub(crate) fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since.as_millis()).expect("a sane clock")
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

/// Polls `probe` every 100 ms until it yields a value; panics naming
/// `what` after `timeout`.
fn poll<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------
// The simulated Pi: a w1 tree, a spool, a config, the exporter.

/// One simulated Pi: its w1 tree, spool and config in a scratch dir, with
/// metrics under a prefix of its own (`nwe2e.ppe.<name>`).
pub(crate) struct Pi {
    pub(crate) dir: TempDir,
    prefix: String,
    w1: PathBuf,
    pub(crate) spool: PathBuf,
    config: PathBuf,
}

impl Pi {
    /// `spool_toml`: extra lines for the `[spool]` table.
    pub(crate) fn new(name: &str, carbon: SocketAddr, spool_toml: &str) -> Pi {
        let dir = scratch_dir(&format!("ppe-{name}"));
        let prefix = format!("nwe2e.ppe.{name}");
        let w1 = dir.path().join("w1");
        let spool = dir.path().join("spool");
        let config = dir.path().join("exporter.toml");
        fs::create_dir_all(&w1).expect("create the w1 dir");
        // backoff_max 1s: production's 30 s would only make the tests wait
        // for the reconnect; it changes nothing about what gets delivered.
        // health every second, so counters reach Graphite quickly.
        let toml = format!(
            "[graphite]\naddress = \"{carbon}\"\nprefix = \"{prefix}\"\n\
             backoff_min = \"200ms\"\nbackoff_max = \"1s\"\n\n\
             [probes]\n\"{HAM}\" = \"ham\"\n\"{OVEN}\" = \"oven\"\n\n\
             [reading]\ninterval = \"1s\"\nw1_dir = \"{}\"\n\n\
             [spool]\ndir = \"{}\"\n{spool_toml}\n\n\
             [health]\ninterval = \"1s\"\n",
            w1.display(),
            spool.display()
        );
        fs::write(&config, toml).expect("write the exporter config");
        Pi {
            dir,
            prefix,
            w1,
            spool,
            config,
        }
    }

    pub(crate) fn metric(&self, probe: &str) -> String {
        format!("{}.{probe}", self.prefix)
    }

    fn health(&self, path: &str) -> String {
        format!("{}.exporter.{path}", self.prefix)
    }

    /// Runs `pi-probe-exporter simulate <args> --w1-dir <w1>`; its stdout.
    fn simulate_once(&self, args: &[&str]) -> String {
        let out = Command::new(exporter_bin())
            .arg("simulate")
            .args(args)
            .arg("--w1-dir")
            .arg(&self.w1)
            .output()
            .expect("run pi-probe-exporter simulate");
        assert!(
            out.status.success(),
            "simulate {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sets a probe to a fixed temperature; returns the `t=` millidegrees
    /// the simulated sensor shows (quantised to 1/16 °C).
    fn set_celsius(&self, id: &str, celsius: f64) -> i32 {
        let out = self.simulate_once(&["set", "--probe", id, "--celsius", &celsius.to_string()]);
        out.trim()
            .rsplit_once("t=")
            .and_then(|(_, m)| m.parse().ok())
            .unwrap_or_else(|| panic!("simulate set printed {out:?}"))
    }

    /// Runs a simulator scenario in the background until dropped.
    pub(crate) fn simulate(&self, scenario: &str, speed: &str) -> ServiceProcess {
        let mut command = ServiceProcess::command(exporter_bin());
        command
            .args([
                "simulate",
                "--scenario",
                scenario,
                "--speed",
                speed,
                "--w1-dir",
            ])
            .arg(&self.w1);
        let log = self.dir.path().join(format!("simulate-{scenario}.log"));
        let mut sim = ServiceProcess::spawn("simulate", command, &log);
        let ham = self.w1.join(HAM).join("w1_slave");
        sim.wait_until("the first frame", Duration::from_secs(10), || ham.exists());
        sim
    }

    /// Starts the exporter (`name` names its log); waits for its start line.
    pub(crate) fn start(&self, name: &str, extra: &[&str]) -> Exporter {
        self.start_with_env(name, extra, &[])
    }

    /// [`Pi::start`] with extra environment variables (an `LD_PRELOAD` shim).
    pub(crate) fn start_with_env(
        &self,
        name: &str,
        extra: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Exporter {
        let log = self.dir.path().join(format!("{name}.log"));
        let mut command = ServiceProcess::command(exporter_bin());
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--assume-clock-synced")
            .args(extra)
            .env_remove("JOURNAL_STREAM")
            .envs(env.iter().copied());
        let mut process = ServiceProcess::spawn(name, command, &log);
        process.wait_until("its start line", Duration::from_secs(10), || {
            read_lossy(&log).contains(": starting ")
        });
        Exporter { process, log }
    }
}

/// A running exporter and its log (stderr).
pub(crate) struct Exporter {
    process: ServiceProcess,
    log: PathBuf,
}

impl Exporter {
    pub(crate) fn log(&self) -> String {
        read_lossy(&self.log)
    }

    pub(crate) fn log_count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Waits until the log has `n` lines containing `needle`.
    pub(crate) fn wait_log(&mut self, needle: &str, n: usize, timeout: Duration) {
        let log = self.log.clone();
        self.process
            .wait_until(&format!("{n} log line(s) with {needle:?}"), timeout, || {
                read_lossy(&log)
                    .lines()
                    .filter(|l| l.contains(needle))
                    .count()
                    >= n
            });
    }

    /// SIGKILL, as the OOM killer or a power cut would; waits for the exit.
    pub(crate) fn kill_9(&mut self) {
        let pid = self.process.pid().expect("the exporter is running");
        let pid = Pid::from_raw(i32::try_from(pid).expect("a pid")).expect("a non-zero pid");
        kill_process(pid, Signal::KILL).expect("kill -9 the exporter");
        let status = self.process.wait_exit(Duration::from_secs(5));
        assert!(status.is_some(), "the exporter outlived SIGKILL");
    }
}

// ---------------------------------------------------------------------------
// The ledger: the spool, tailed from outside.

/// One spooled reading as its spool line says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reading {
    pub(crate) seq: u64,
    /// The Graphite second: `floor(wall_ms / 1000)`.
    pub(crate) ts: i64,
    pub(crate) metric: String,
    pub(crate) value: f64,
}

#[derive(Debug, Default)]
struct LedgerState {
    /// Bytes of each segment already taken (complete lines only).
    offsets: BTreeMap<String, u64>,
    readings: BTreeMap<u64, Reading>,
    bad_lines: Vec<String>,
}

/// Tails a spool directory in a background thread; see the module docs.
pub(crate) struct Ledger {
    dir: PathBuf,
    state: Arc<Mutex<LedgerState>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ledger {
    pub(crate) fn watch(dir: &Path) -> Ledger {
        let dir = dir.to_owned();
        let state = Arc::new(Mutex::new(LedgerState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (dir, state, stop) = (dir.clone(), state.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    tail_spool(
                        &dir,
                        &mut state.lock().unwrap_or_else(PoisonError::into_inner),
                    );
                    thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Ledger {
            dir,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// Every reading spooled so far, in seq order; panics if the seqs have
    /// a gap (a segment deleted before it was read) or a line was bad.
    pub(crate) fn readings(&self) -> Vec<Reading> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        tail_spool(&self.dir, &mut state);
        assert!(
            state.bad_lines.is_empty(),
            "complete spool lines that do not decode: {:?}",
            state.bad_lines
        );
        let readings: Vec<Reading> = state.readings.values().cloned().collect();
        for pair in readings.windows(2) {
            assert_eq!(
                pair[1].seq,
                pair[0].seq + 1,
                "the ledger has a gap after seq {}: a segment went before it was read",
                pair[0].seq
            );
        }
        readings
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn tail_spool(dir: &Path, state: &mut LedgerState) {
    let Ok(entries) = fs::read_dir(dir) else {
        return; // not created yet
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            n.strip_prefix("seg-")
                .and_then(|n| n.strip_suffix(".log"))
                .is_some()
        })
        .collect();
    names.sort();
    for name in names {
        let offset = state.offsets.get(&name).copied().unwrap_or(0);
        // A segment can vanish (cap, cursor) between listing and opening.
        let Ok(mut file) = fs::File::open(dir.join(&name)) else {
            continue;
        };
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(offset)).is_err() || file.read_to_end(&mut bytes).is_err() {
            continue;
        }
        // Only complete lines: the exporter may be mid-append.
        let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        for line in bytes[..=end].split_inclusive(|&b| b == b'\n') {
            match decode_spool_line(line) {
                Some(reading) => {
                    state.readings.insert(reading.seq, reading);
                }
                None => state
                    .bad_lines
                    .push(format!("{name}: {}", String::from_utf8_lossy(line))),
            }
        }
        state.offsets.insert(name, offset + end as u64 + 1);
    }
}

/// `<seq> <boot> <mono_ms> <wall_ms> S <metric> <value> <crc32>\n`, the
/// CRC-32 (IEEE) of everything before the space ahead of it (README).
fn decode_spool_line(line: &[u8]) -> Option<Reading> {
    let text = std::str::from_utf8(line.strip_suffix(b"\n")?).ok()?;
    let (content, crc) = text.rsplit_once(' ')?;
    if u32::from_str_radix(crc, 16).ok()? != crc32(content.as_bytes()) {
        return None;
    }
    let fields: Vec<&str> = content.split(' ').collect();
    let [seq, _boot, _mono, wall, "S", metric, value] = fields[..] else {
        return None; // "U" would mean an unsynced stamp: not in these tests
    };
    Some(Reading {
        seq: seq.parse().ok()?,
        ts: wall.parse::<i64>().ok()?.div_euclid(1000),
        metric: metric.to_owned(),
        value: value.parse().ok()?,
    })
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ---------------------------------------------------------------------------
// Graphite against the ledger.

/// Per metric, second → value.
pub(crate) type View = BTreeMap<String, BTreeMap<i64, f64>>;

pub(crate) fn by_metric<'a>(readings: impl IntoIterator<Item = &'a Reading>) -> View {
    let mut view = View::new();
    for r in readings {
        let old = view
            .entry(r.metric.clone())
            .or_default()
            .insert(r.ts, r.value);
        assert!(
            old.is_none(),
            "two readings of {} in second {}: the exporter's one-reading-a-second rule broke",
            r.metric,
            r.ts
        );
    }
    view
}

/// What Graphite has for each metric of `span`, over the seconds from that
/// metric's first to its last reading in `span`.
fn graphite_view(g: &Graphite, span: &View) -> View {
    span.iter()
        .map(|(metric, points)| {
            let (first, last) = (
                *points.keys().next().expect("a metric has readings"),
                *points.keys().next_back().expect("a metric has readings"),
            );
            // The render range (from, until] is exclusive at `from`.
            let seen = g
                .points(metric, first - 2, last + 1)
                .into_iter()
                .filter(|&(ts, _)| (first..=last).contains(&ts))
                .filter_map(|(ts, v)| v.map(|v| (ts, v)))
                .collect();
            (metric.clone(), seen)
        })
        .collect()
}

/// How `actual` differs from `expected`; empty when they are the same.
fn view_diff(expected: &View, actual: &View) -> String {
    let mut out = String::new();
    for (metric, want) in expected {
        let empty = BTreeMap::new();
        let have = actual.get(metric).unwrap_or(&empty);
        let missing: Vec<i64> = want
            .keys()
            .filter(|t| !have.contains_key(t))
            .copied()
            .collect();
        let extra: Vec<i64> = have
            .keys()
            .filter(|t| !want.contains_key(t))
            .copied()
            .collect();
        let wrong: Vec<String> = want
            .iter()
            .filter_map(|(t, v)| {
                let h = have.get(t)?;
                (!same_value(*v, *h)).then(|| format!("{t}: {h} instead of {v}"))
            })
            .collect();
        if !missing.is_empty() || !extra.is_empty() || !wrong.is_empty() {
            let _ = writeln!(
                out,
                "{metric}: {} expected, {} in Graphite; missing {}; unexpected {}; wrong values {:?}",
                want.len(),
                have.len(),
                seconds(&missing),
                seconds(&extra),
                &wrong[..wrong.len().min(10)]
            );
        }
    }
    out
}

/// `[100..=104, 107]`: seconds as ranges.
fn seconds(ts: &[i64]) -> String {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &t in ts {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == t => *end = t,
            _ => runs.push((t, t)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..={b}")
            }
        })
        .collect();
    format!("[{}] ({})", parts.join(", "), ts.len())
}

/// Polls Graphite every 500 ms until, over each metric's span in `span`,
/// it holds exactly `expected`, not looking at the seconds in `unsure`;
/// panics with the difference after `timeout`.
pub(crate) fn await_exactly(
    g: &Graphite,
    span: &View,
    expected: &View,
    unsure: &View,
    timeout: Duration,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let mut actual = graphite_view(g, span);
        for (metric, points) in unsure {
            if let Some(have) = actual.get_mut(metric) {
                have.retain(|t, _| !points.contains_key(t));
            }
        }
        let diff = view_diff(expected, &actual);
        if diff.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Graphite does not match the exporter's spool after {timeout:?}:\n{diff}"
        );
        thread::sleep(Duration::from_millis(500));
    }
}

/// The newest value of a health metric once `done` accepts it.
fn await_health(g: &Graphite, metric: &str, done: impl Fn(f64) -> bool) -> f64 {
    let points = g.wait_for(metric, SETTLE, |pts| {
        pts.last().is_some_and(|&(_, v)| done(v))
    });
    points.last().expect("wait_for returned points").1
}

/// The seconds of `metric`'s readings, in order.
pub(crate) fn ticks(readings: &[Reading], metric: &str) -> Vec<i64> {
    readings
        .iter()
        .filter(|r| r.metric == metric)
        .map(|r| r.ts)
        .collect()
}

/// Ticks the reader skipped because a round took longer than the
/// interval, as its log says ("skipped N reading(s)"); `reader.overruns`.
pub(crate) fn logged_skips(log: &str) -> i64 {
    log.lines()
        .filter_map(|l| {
            l.split("skipped ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<i64>()
                .ok()
        })
        .sum()
}

/// A run of seconds without a reading: (the second before it, how many).
pub(crate) type Hole = (i64, i64);

/// Runs of seconds missing between consecutive ticks.
pub(crate) fn holes(ticks: &[i64]) -> Vec<Hole> {
    ticks
        .windows(2)
        .filter(|w| w[1] - w[0] > 1)
        .map(|w| (w[0], w[1] - w[0] - 1))
        .collect()
}

// ---------------------------------------------------------------------------
// /metrics.

pub(crate) fn scrape(port: u16) -> String {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let response = http::get(&url).unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(response.status, 200, "GET {url}: {}", response.body);
    response.body
}

/// The value of the sample `name{labels}` (exactly these labels).
pub(crate) fn sample(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (n, have) = match series.split_once('{') {
                Some((n, rest)) => (n, parse_labels(rest.strip_suffix('}')?)),
                None => (series, BTreeMap::new()),
            };
            let wanted = n == format!("pi_probe_exporter_{name}")
                && have.len() == labels.len()
                && labels
                    .iter()
                    .all(|&(k, v)| have.get(k).map(String::as_str) == Some(v));
            wanted.then(|| value.parse().ok()).flatten()
        })
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((
                k.to_owned(),
                v.strip_prefix('"')?.strip_suffix('"')?.to_owned(),
            ))
        })
        .collect()
}

/// A sample that must be there.
pub(crate) fn must(body: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(body, name, labels)
        .unwrap_or_else(|| panic!("/metrics has no {name}{labels:?}:\n{body}"))
}

pub(crate) fn probe_labels<'a>(name: &'a str, id: &'a str) -> [(&'a str, &'a str); 2] {
    [("probe", name), ("id", id)]
}

/// Scrapes until `done` accepts the page; returns it.
fn await_scrape(port: u16, what: &str, done: impl Fn(&str) -> bool) -> String {
    poll(&format!("/metrics showing {what}"), SETTLE, || {
        let body = scrape(port);
        done(&body).then_some(body)
    })
}

// ---------------------------------------------------------------------------
// The tests.

/// (a) The whole chain decides the page: the sensor's quantised value,
/// converted to °F by the exporter, read back by check-graphite.
#[test]
fn ham_probe_through_graphite_makes_check_graphite_go_ok_warning_critical() {
    let g = Graphite::shared();
    let pi = Pi::new("thresholds", g.carbon_addr(), "");
    pi.set_celsius(HAM, 50.0);
    let _exporter = pi.start("exporter", &[]);
    let ham = pi.metric("ham");
    let url = g.url();
    for (celsius, millis, fahrenheit, state, first_line) in [
        (50.0, 50_000, 122.0, State::Ok, "GRAPHITE OK: ham 122.0°F"),
        // 57.22 °C is 134.996 °F, just under the warning line, but the
        // DS18B20 counts 1/16 °C: it reads 916/16 = 57.25 °C = 135.05 °F.
        (
            57.22,
            57_250,
            135.05,
            State::Warning,
            "GRAPHITE WARNING: ham 135.05°F above 135",
        ),
        (
            58.0,
            58_000,
            136.4,
            State::Warning,
            "GRAPHITE WARNING: ham 136.4°F above 135",
        ),
        (
            61.0,
            61_000,
            141.8,
            State::Critical,
            "GRAPHITE CRITICAL: ham 141.8°F above 140",
        ),
    ] {
        assert_eq!(pi.set_celsius(HAM, celsius), millis, "{celsius} °C");
        g.wait_for(&ham, SETTLE, |pts| {
            pts.last().is_some_and(|&(_, v)| same_value(v, fahrenheit))
        });
        plugin("check-graphite")
            .args(["-U", &url, "--target", &ham, "-w", "135", "-c", "140"])
            .args(["--unit", "°F", "--max-age", "2m"])
            .run()
            .state_is(state)
            .first_line_is(first_line)
            .perfdata_has(&format!("ham={fahrenheit};135;140"));
    }
}

/// (b) Carbon stopped for 15 s while the exporter reads four probes at
/// 1 Hz: afterwards Graphite holds every spooled reading, each in its own
/// second with its own value, and nothing else.
///
/// Why the count is exact: the ledger is the spool itself (module docs),
/// and the comparison is second by second over the whole run, so the
/// outage's readings are counted one by one, not estimated. The only
/// tolerance is in *which* readings are called "during the outage": the
/// marks are taken just before `stop_carbon` and after `start_carbon`
/// returns, and a tick at either edge may fall on either side; the test
/// asks only for at least `OUTAGE - 1` of them per probe, as a check that
/// the outage really spanned that many readings. A reading written into
/// carbon's dying connection, or received by carbon in the last second
/// before it stopped (carbon-cache 1.1.7 writes its cache once a second
/// and does not flush it on SIGTERM: the tick just before the stop is
/// regularly lost), is the exporter's to replay from its replay window,
/// and must be there too.
#[test]
fn carbon_outage_every_reading_arrives_at_its_own_second() {
    const OUTAGE: Duration = Duration::from_secs(15);
    let mut g = Graphite::start();
    let pi = Pi::new("outage", g.carbon_addr(), "");
    let _sim = pi.simulate("all", "200");
    let ledger = Ledger::watch(&pi.spool);
    let mut exporter = pi.start("exporter", &[]);
    let ham = pi.metric("ham");
    g.wait_for_count(&ham, 3, SETTLE);

    let stopped = now_ms();
    g.stop_carbon();
    let on_disk = graphite_view(&g, &by_metric(&ledger.readings()));
    thread::sleep(OUTAGE);
    g.start_carbon();
    let back = now_ms();
    exporter.wait_log("connected to graphite", 2, RECOVER);
    let readings = ledger.readings();

    assert!(
        exporter.log_count("cannot connect to graphite") >= 1,
        "the exporter never saw the outage:\n{}",
        exporter.log()
    );
    let outage = (stopped.div_euclid(1000) + 1)..back.div_euclid(1000);
    for metric in [pi.metric("ham"), pi.metric("oven")] {
        let during = ticks(&readings, &metric)
            .into_iter()
            .filter(|t| outage.contains(t))
            .count();
        assert!(
            during as u64 + 1 >= OUTAGE.as_secs(),
            "{metric}: only {during} readings spooled during a {OUTAGE:?} outage"
        );
        // A round that overran its second skips a tick, and says so.
        let missing: i64 = holes(&ticks(&readings, &metric)).iter().map(|h| h.1).sum();
        assert_eq!(
            missing,
            logged_skips(&exporter.log()),
            "{metric} lost a tick unlogged"
        );
    }
    let all = by_metric(&readings);
    await_exactly(&g, &all, &all, &View::new(), RECOVER);
    let sent_before: Vec<&Reading> = readings.iter().filter(|r| r.ts < stopped / 1000).collect();
    let carbon_lost = sent_before
        .iter()
        .filter(|r| {
            !on_disk
                .get(&r.metric)
                .is_some_and(|m| m.contains_key(&r.ts))
        })
        .count();
    eprintln!(
        "outage: {} readings of {} probes delivered exactly ({carbon_lost} of them lost by \
         carbon's shutdown and replayed), {} of ham's during the outage",
        readings.len(),
        all.len(),
        ticks(&readings, &ham)
            .iter()
            .filter(|t| outage.contains(t))
            .count()
    );
}

/// (c) The exporter is `SIGKILLed` five seconds into a carbon outage and
/// restarted on the same spool four seconds later; carbon comes back five
/// seconds after that. Everything either process spooled reaches Graphite
/// exactly (as in (b)); the only seconds without a reading are the ones
/// in which no exporter was running.
///
/// The dead stretch is measured from the SIGKILL to the restart, `dead`
/// seconds. The killed process's last tick is at most a second before the
/// kill (or two, if the kill lands between reading the probes and
/// appending the result), and the new one's first tick comes after its
/// start plus up to a second of phasing to mid-second: so the missing
/// ticks number more than `dead - 1` and fewer than `dead + 4` (one second
/// of slack for the process start on a loaded machine).
#[test]
fn sigkill_mid_outage_loses_only_the_seconds_the_exporter_was_dead() {
    let mut g = Graphite::start();
    let pi = Pi::new("sigkill", g.carbon_addr(), "");
    let _sim = pi.simulate("all", "200");
    let ledger = Ledger::watch(&pi.spool);
    let mut first = pi.start("exporter-1", &[]);
    let ham = pi.metric("ham");
    g.wait_for_count(&ham, 3, SETTLE);

    g.stop_carbon();
    thread::sleep(Duration::from_secs(5));
    first.kill_9();
    let killed = now_ms();
    let before_kill = ledger.readings();
    thread::sleep(Duration::from_secs(4));
    let restarted = now_ms();
    let mut second = pi.start("exporter-2", &[]);
    thread::sleep(Duration::from_secs(5));
    g.start_carbon();
    second.wait_log("connected to graphite", 1, RECOVER);
    let readings = ledger.readings();

    assert_eq!(
        readings[..before_kill.len()],
        before_kill[..],
        "the restart changed what the killed process had spooled"
    );
    let spooled_line = second
        .log()
        .lines()
        .find(|l| l.contains(": starting "))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(
        !spooled_line.contains("(0 readings to send"),
        "the restarted exporter found no backlog: {spooled_line}"
    );
    // Apart from the dead stretch, ham misses only ticks a round overran
    // (logged as skipped; normally none).
    let gaps = holes(&ticks(&readings, &ham));
    let last_before = *ticks(&before_kill, &ham)
        .last()
        .expect("ham readings before the kill");
    let skipped = logged_skips(&first.log()) + logged_skips(&second.log());
    let (dead_gaps, other): (Vec<Hole>, Vec<Hole>) = gaps.iter().partition(|g| g.0 == last_before);
    let missing = dead_gaps.first().map_or(0, |g| g.1);
    let unexplained: i64 = other.iter().map(|g| g.1).sum();
    assert!(
        unexplained <= skipped,
        "ham lost ticks: {gaps:?}, {skipped} logged skipped"
    );
    let dead = (restarted - killed) as f64 / 1000.0;
    assert!(
        (missing as f64) > dead - 1.0 && (missing as f64) < dead + 4.0 + skipped as f64,
        "{missing} seconds missing after the kill for {dead:.1} s dead: {gaps:?}"
    );
    let all = by_metric(&readings);
    await_exactly(&g, &all, &all, &View::new(), RECOVER);
    eprintln!(
        "sigkill: {} readings delivered exactly; {missing} s missing for {dead:.1} s dead",
        readings.len()
    );
}

/// Waits until the ledger holds at least `n` readings.
pub(crate) fn await_ledger(ledger: &Ledger, n: usize, timeout: Duration) -> Vec<Reading> {
    let deadline = Instant::now() + timeout;
    loop {
        let readings = ledger.readings();
        if readings.len() >= n {
            return readings;
        }
        assert!(
            Instant::now() < deadline,
            "only {} readings spooled after {timeout:?}",
            readings.len()
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// A tmpfs mounted on `dir` for one test (root, as CI runs); unmounted
/// when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(dir: &Path, kib: u32) -> SmallDisk {
        fs::create_dir_all(dir).expect("create the mount point");
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount(8) runs (util-linux)");
        assert!(ok.success(), "mount a {kib} KiB tmpfs on {}", dir.display());
        SmallDisk(dir.to_owned())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_then_sigkill_then_space_freed_every_spooled_reading_arrives_once() {
    // The trial: the spool's disk fills while carbon is down, the
    // exporter is killed, space is freed, a new exporter starts. Every
    // reading the spool holds reaches Graphite in its own second with its
    // own value; none is shadowed by a failed append's leftover.
    let mut g = Graphite::start();
    let pi = Pi::new("diskfull", g.carbon_addr(), "");
    let _disk = SmallDisk::mount(&pi.spool, 64);
    let filler = pi.spool.join("filler");
    let _sim = pi.simulate("all", "200");
    let ledger = Ledger::watch(&pi.spool);
    g.stop_carbon();
    // Room for about 20 s of two probes' readings, as a cheap card has
    // before it is full.
    let free_kib = 3;
    fs::write(&filler, vec![b'x'; (64 - 4 - free_kib) * 1024]).expect("fill the tmpfs");
    let mut first = pi.start("exporter-1", &[]);
    first.wait_log("they are lost", 3, Duration::from_secs(90));
    first.kill_9();
    fs::remove_file(&filler).expect("free the space");
    let before = ledger.readings();
    let mut second = pi.start("exporter-2", &[]);
    await_ledger(&ledger, before.len() + 10, Duration::from_secs(30));
    g.start_carbon();
    second.wait_log("connected to graphite", 1, RECOVER);
    let readings = ledger.readings();
    let all = by_metric(&readings);
    await_exactly(&g, &all, &all, &View::new(), RECOVER);
    let lost = first.log_count("they are lost");
    eprintln!(
        "disk full: {} readings spooled and delivered exactly, {lost} failed appends reported",
        readings.len()
    );
}

#[test]
fn a_spool_it_does_not_recognise_is_reported_kept_and_delivered() {
    // A cursor past the data, an empty segment, a directory named like a
    // segment and a directory where the lock file goes: the exporter
    // starts anyway, names each, and sends every spooled reading.
    let mut g = Graphite::start();
    let pi = Pi::new("badspool", g.carbon_addr(), "");
    let _sim = pi.simulate("all", "200");
    let ledger = Ledger::watch(&pi.spool);
    g.stop_carbon();
    let mut first = pi.start("exporter-1", &[]);
    await_ledger(&ledger, 30, Duration::from_mins(1));
    first.kill_9();
    let spooled = ledger.readings();
    let next = spooled.last().expect("readings").seq + 1;
    fs::write(pi.spool.join("cursor"), "999999\n").expect("write the cursor");
    fs::write(pi.spool.join(format!("seg-{next:020}.log")), "").expect("an empty segment");
    fs::create_dir(pi.spool.join(format!("seg-{:020}.log", 1))).expect("a directory segment");
    fs::remove_file(pi.spool.join("lock")).expect("remove the lock file");
    fs::create_dir(pi.spool.join("lock")).expect("a directory lock");

    g.start_carbon();
    let mut second = pi.start("exporter-2", &[]);
    second.wait_log("connected to graphite", 1, RECOVER);
    let log = second.log();
    for want in [
        "does not match this spool",
        "not a lock file",
        "is a directory, not a segment",
        "is empty",
    ] {
        assert!(log.contains(want), "no {want:?} in\n{log}");
    }
    assert!(
        !log.contains("(0 readings to send"),
        "the spooled readings were taken for sent:\n{log}"
    );
    // The directory segment and the directory lock, counted.
    await_health(&g, &pi.health("spool.set_aside"), |n| n == 2.0);
    let readings = ledger.readings();
    assert_eq!(readings[..spooled.len()], spooled[..]);
    let all = by_metric(&readings);
    await_exactly(&g, &all, &all, &View::new(), RECOVER);
    eprintln!(
        "unrecognised spool: {} readings from before the restart and {} after, all delivered",
        spooled.len(),
        readings.len() - spooled.len()
    );
}

/// The seqs of the "dropped the N oldest unsent readings (seq a..b)" log
/// lines, checking that each line's N is its range's length.
fn logged_drops(log: &str) -> Vec<Range<u64>> {
    log.lines()
        .filter_map(|line| {
            let rest = line.split("dropped the ").nth(1)?;
            let (n, rest) = rest.split_once(' ')?;
            let n: u64 = n.parse().ok()?;
            let range = rest.split("(seq ").nth(1)?.split(')').next()?;
            let (a, b) = range.split_once("..")?;
            let range = a.parse().ok()?..b.parse().ok()?;
            assert_eq!(
                n,
                range.end - range.start,
                "the count disagrees with its range: {line}"
            );
            Some(range)
        })
        .collect()
}

/// (d) A 4 KiB spool cap and an outage longer than it holds: the exporter
/// deletes the oldest readings it never sent, logs how many and which
/// (by seq), exports the count as `spool.dropped` (Graphite) and
/// `spool_dropped_total` (/metrics), and exactly those are missing from
/// Graphite: everything before them (delivered before the outage) and
/// after them (replayed) is there.
///
/// The one exception, which the README documents: readings sent just
/// before carbon stopped but lost by carbon (carbon-cache 1.1.7 writes its
/// cache to whisper once a second and does not flush it on SIGTERM, so
/// the last second it received is gone; a write into its dying connection
/// would be the same). The exporter cannot know (carbon acknowledges
/// nothing) and would replay them from its replay window, but the cap
/// deletes them first, as the oldest, and counts them as
/// `dropped_unconfirmed`, not `dropped`. What carbon had on disk when it
/// stopped is read back right then, so these readings are told apart
/// exactly rather than tolerated.
#[test]
fn spool_cap_drops_only_the_oldest_unsent_readings_and_counts_them() {
    let mut g = Graphite::start();
    let pi = Pi::new("spool_cap", g.carbon_addr(), "max_bytes = 4096");
    let _sim = pi.simulate("all", "200");
    let ledger = Ledger::watch(&pi.spool);
    let port = free_port();
    let listen = loopback(port).to_string();
    let mut exporter = pi.start("exporter", &["--listen", &listen]);
    let ham = pi.metric("ham");
    g.wait_for_count(&ham, 3, SETTLE);

    let stopped = now_ms();
    g.stop_carbon();
    let delivered_before = graphite_view(&g, &by_metric(&ledger.readings()));
    // Hold the outage until the cap has dropped readings for a few seconds.
    exporter.wait_log("oldest unsent readings", 1, Duration::from_mins(1));
    thread::sleep(Duration::from_secs(4));
    g.start_carbon();
    exporter.wait_log("connected to graphite", 2, RECOVER);
    let readings = ledger.readings();

    let ranges = logged_drops(&exporter.log());
    let dropped: BTreeSet<u64> = ranges.iter().flat_map(Clone::clone).collect();
    let total: u64 = ranges.iter().map(|r| r.end - r.start).sum();
    assert_eq!(
        dropped.len() as u64,
        total,
        "overlapping drop ranges: {ranges:?}"
    );
    let (first, last) = (*dropped.first().unwrap(), *dropped.last().unwrap());
    assert_eq!(
        last - first + 1,
        total,
        "the dropped seqs are one run: {ranges:?}"
    );
    let stopped_s = stopped.div_euclid(1000);
    for r in &readings {
        if r.seq < first {
            assert!(
                r.ts <= stopped_s + 1,
                "{r:?} is older than what was dropped"
            );
        } else if dropped.contains(&r.seq) {
            assert!(
                r.ts >= stopped_s,
                "{r:?} was dropped but taken before the outage"
            );
        }
    }

    // Graphite: exactly the spool minus the dropped run, except readings
    // sent before the outage that carbon did not have when it stopped:
    // the cap deleted them (they are older than the dropped run) unless the
    // sender still held one in memory, so they may or may not arrive; they
    // are left out of the exact comparison and counted against
    // dropped_unconfirmed instead.
    let span = by_metric(&readings);
    let unsure: Vec<&Reading> = readings
        .iter()
        .filter(|r| r.seq < first)
        .filter(|r| {
            !delivered_before
                .get(&r.metric)
                .is_some_and(|m| m.contains_key(&r.ts))
        })
        .collect();
    let unsure_view = by_metric(unsure.iter().copied());
    let expected = by_metric(
        readings
            .iter()
            .filter(|r| !dropped.contains(&r.seq) && !unsure.contains(r)),
    );
    await_exactly(&g, &span, &expected, &unsure_view, RECOVER);
    let arrived = graphite_view(&g, &span);
    let never_arrived: Vec<&&Reading> = unsure
        .iter()
        .filter(|r| {
            !arrived
                .get(&r.metric)
                .is_some_and(|m| m.contains_key(&r.ts))
        })
        .collect();

    let dropped_graphite = await_health(&g, &pi.health("spool.dropped"), |v| v > 0.0);
    let body = scrape(port);
    let unconfirmed = must(&body, "spool_dropped_unconfirmed_total", &[]);
    assert_eq!(dropped_graphite, total as f64, "spool.dropped in Graphite");
    assert_eq!(
        must(&body, "spool_dropped_total", &[]),
        total as f64,
        "/metrics"
    );
    assert!(
        never_arrived.len() as f64 <= unconfirmed,
        "{} readings written before the outage never arrived, but only {unconfirmed} \
         are counted as dropped_unconfirmed: {never_arrived:?}",
        never_arrived.len()
    );
    eprintln!(
        "spool cap: {} readings, {total} dropped (seq {first}..={last}), {unconfirmed} \
         dropped_unconfirmed, {} sent before the outage but lost by carbon",
        readings.len(),
        never_arrived.len()
    );
    if !never_arrived.is_empty() {
        eprintln!(
            "note: {} reading(s) sent just before the outage were lost by carbon and then \
             deleted by the cap (counted in dropped_unconfirmed): {never_arrived:?}",
            never_arrived.len()
        );
    }
}

/// (e) An oven probe pinned at the DS18B20's +125 °C: sent as 257 °F,
/// counted as saturated in the exporter's health, and check-graphite with
/// `--valid -67:257` calls it a sensor at the edge of its range (UNKNOWN)
/// instead of paging for a cold oven.
#[test]
fn saturated_oven_is_counted_and_check_graphite_calls_it_the_edge_not_cold() {
    let g = Graphite::shared();
    let pi = Pi::new("saturated", g.carbon_addr(), "");
    assert_eq!(pi.set_celsius(OVEN, 125.0), 125_000);
    pi.set_celsius(HAM, 20.0);
    let exporter = pi.start("exporter", &[]);
    let oven = pi.metric("oven");
    let points = g.wait_for_count(&oven, 4, SETTLE);
    assert!(
        points.iter().all(|&(_, v)| same_value(v, 257.0)),
        "{points:?}"
    );

    // Counters, as Graphite has them: per health timestamp, every accepted
    // oven reading was saturated, and no ham reading was. Stamps before the
    // first reading (all zero) prove nothing and the newest is left out:
    // its lines may be from two batches sent in one second.
    let saturated = pi.health("probe.oven.saturated");
    g.wait_for(&saturated, SETTLE, |pts| {
        pts.len() >= 3 && pts[pts.len() - 2].1 >= 2.0
    });
    let now = nightwatch_testkit::unix_now();
    let series = |m: &str| -> BTreeMap<i64, f64> {
        g.points(m, now - 600, now)
            .into_iter()
            .filter_map(|(t, v)| Some((t, v?)))
            .collect()
    };
    let (sat, ok) = (
        series(&saturated),
        series(&pi.health("probe.oven.readings_ok")),
    );
    let ham_sat = series(&pi.health("probe.ham.saturated"));
    let stamps: Vec<i64> = sat
        .keys()
        .filter(|t| ok.get(t).is_some_and(|&n| n >= 1.0))
        .copied()
        .collect();
    assert!(stamps.len() >= 2, "{sat:?} {ok:?}");
    for t in &stamps[..stamps.len() - 1] {
        assert_eq!(
            sat[t], ok[t],
            "at {t}: saturated {sat:?} vs readings_ok {ok:?}"
        );
        assert_eq!(ham_sat.get(t), Some(&0.0), "ham at {t}: {ham_sat:?}");
    }
    assert!(
        exporter.log().contains(&format!(
            "probe {OVEN} (oven) is saturated: 257 F is the sensor's upper limit"
        )),
        "{}",
        exporter.log()
    );

    let url = g.url();
    let check = |extra: &[&str]| {
        plugin("check-graphite")
            .args(["-U", &url, "--target", &oven, "-w", "320:", "-c", "315:"])
            .args(["--unit", "°F"])
            .args(extra)
            .run()
    };
    // Without --valid, a pinned sensor looks like a cold oven: a page.
    check(&[])
        .state_is(State::Critical)
        .first_line_is("GRAPHITE CRITICAL: oven 257.0°F below 315");
    check(&["--valid", "-67:257"])
        .state_is(State::Unknown)
        .first_line_is("GRAPHITE UNKNOWN: oven probe reads 257.0°F, the edge of its range")
        .perfdata_has("oven=U;320:;315:;-67;257");
}

/// (f) One probe goes through every kind of bad reading, each held until
/// the exporter has rejected it at least once and separated by good
/// readings: none of them reaches Graphite (every ham point there is the
/// good 20 °C = 68 °F), and each is counted under its reason.
///
/// The counts are checked against the spool, not taken on trust: the
/// probe is read on every tick and ticks are one second apart, so each
/// rejected tick is one missing second between accepted readings. The
/// phases are separated by good readings, so the holes in the spool, in
/// order, are the phases, and each hole's length must be the step of that
/// phase's counter (a tick skipped by an overrun, which a loaded machine
/// can cause, is one more missing second, counted as such).
#[test]
fn bad_readings_never_reach_graphite_and_are_counted_by_reason() {
    let g = Graphite::shared();
    let pi = Pi::new("bad_readings", g.carbon_addr(), "");
    pi.set_celsius(HAM, 20.0);
    let ledger = Ledger::watch(&pi.spool);
    let port = free_port();
    let exporter = pi.start("exporter", &["--listen", &loopback(port).to_string()]);
    let labels = probe_labels("ham", HAM);
    let ok = |body: &str| sample(body, "readings_ok_total", &labels).unwrap_or(0.0);
    let rejected = |body: &str, reason: &str| {
        let [p, i] = labels;
        sample(body, "readings_rejected_total", &[p, i, ("reason", reason)]).unwrap_or(0.0)
    };
    await_scrape(port, "2 good readings", |b| ok(b) >= 2.0);

    let phases: [(&str, &[&str]); 7] = [
        // The t= says 99 °C, but the kernel's CRC check says NO.
        ("crc", &["set", "--millis", "99000", "--crc-fail"]),
        ("reset_85", &["set", "--millis", "85000"]),
        ("out_of_range", &["set", "--millis", "130000"]),
        ("malformed", &["corrupt", "--kind", "garbage"]),
        ("no_t", &["corrupt", "--kind", "no-t"]),
        ("malformed", &["corrupt", "--kind", "truncated"]),
        ("malformed", &["corrupt", "--kind", "empty"]),
    ];
    // Per phase, how many ticks the exporter rejected (its counter's step).
    let mut counted = Vec::new();
    for (reason, args) in phases {
        let before = rejected(&scrape(port), reason);
        pi.simulate_once(&[args, &["--probe", HAM]].concat());
        await_scrape(port, &format!("a {reason} rejection"), |b| {
            rejected(b, reason) > before
        });
        pi.set_celsius(HAM, 20.0);
        let good = ok(&scrape(port));
        let body = await_scrape(port, "a good reading again", |b| ok(b) > good);
        counted.push(rejected(&body, reason) - before);
    }

    let readings = ledger.readings();
    let ham = pi.metric("ham");
    let gaps: Vec<f64> = holes(&ticks(&readings, &ham))
        .iter()
        .map(|&(_, n)| n as f64)
        .collect();
    let body = scrape(port);
    // A round late by a whole second (a loaded machine) skips a tick:
    // one more missing second, counted as an overrun instead.
    let overruns = must(&body, "reader_overruns_total", &[]);
    assert_eq!(
        gaps.iter().sum::<f64>(),
        counted.iter().sum::<f64>() + overruns,
        "every missing second is a counted rejection or overrun: holes {gaps:?}, \
         rejections {counted:?}, {overruns} overruns"
    );
    if overruns == 0.0 {
        assert_eq!(gaps, counted, "the holes, in order, are the phases");
    }
    let mut expected: BTreeMap<&str, f64> = BTreeMap::new();
    for ((reason, _), n) in phases.iter().zip(&counted) {
        *expected.entry(reason).or_default() += n;
    }
    for reason in [
        "crc",
        "no_t",
        "malformed",
        "reset_85",
        "out_of_range",
        "unreadable",
        "vanished",
    ] {
        let want = expected.get(reason).copied().unwrap_or(0.0);
        assert_eq!(rejected(&body, reason), want, "/metrics {reason}");
        let path = pi.health(&format!("probe.ham.rejected.{reason}"));
        assert_eq!(await_health(g, &path, |v| v >= want), want, "{path}");
    }
    let total = pi.health("probe.ham.readings_rejected");
    let sum: f64 = counted.iter().sum();
    assert_eq!(await_health(g, &total, |v| v >= sum), sum, "{total}");
    for r in &readings {
        assert!(same_value(r.value, 68.0), "a bad value was spooled: {r:?}");
    }
    let span = by_metric(&readings);
    await_exactly(g, &span, &span, &View::new(), SETTLE);
    eprintln!("bad readings: holes {gaps:?}, rejections {counted:?}, {overruns} overruns");
    let log = exporter.log();
    for reason in ["crc", "reset_85", "out_of_range", "malformed", "no_t"] {
        assert!(
            log.contains(&format!("rejected reading ({reason})")),
            "{log}"
        );
    }
}

/// An HTTP/1.1 GET over a plain socket: (head, body).
fn raw_get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(loopback(port)).expect("connect to /metrics");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set a timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("send a request");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read the answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    (head.to_owned(), body.to_owned())
}

/// Every family has `# HELP` then `# TYPE`, then only its own samples;
/// counters end in `_total`. Returns the family names.
fn check_exposition_format(body: &str) -> BTreeSet<String> {
    let mut families = BTreeSet::new();
    let mut current: Option<String> = None;
    let mut lines = body.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default().to_owned();
            let kind = lines
                .next()
                .and_then(|t| t.strip_prefix(&format!("# TYPE {name} ")))
                .unwrap_or_else(|| panic!("no # TYPE after # HELP {name}"));
            assert!(matches!(kind, "counter" | "gauge"), "{name}: type {kind}");
            assert_eq!(
                kind == "counter",
                name.ends_with("_total"),
                "{name} is a {kind}"
            );
            assert!(families.insert(name.clone()), "{name} twice");
            current = Some(name);
        } else {
            let family = current
                .as_deref()
                .unwrap_or_else(|| panic!("a sample before any # HELP: {line}"));
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
            assert!(
                series == family || series.starts_with(&format!("{family}{{")),
                "{line} under {family}"
            );
            assert!(value.parse::<f64>().is_ok(), "not a number: {line}");
        }
    }
    families
}

/// Every family `/metrics` serves, labelled or not.
const FAMILIES: [&str; 26] = [
    "readings_ok_total",
    "readings_rejected_total",
    "saturated_total",
    "temperature_celsius",
    "probe_present",
    "spool_readings",
    "spool_bytes",
    "spool_segments",
    "spool_oldest_age_seconds",
    "spool_held_back",
    "spool_dropped_total",
    "spool_dropped_unconfirmed_total",
    "spool_corrupt_lines_total",
    "spool_write_errors_total",
    "spool_set_aside_total",
    "spool_queue_readings",
    "spool_queue_full_total",
    "spool_commits_total",
    "spool_commit_seconds_total",
    "spool_commit_last_seconds",
    "sent_total",
    "send_errors_total",
    "connected",
    "clock_synced",
    "unstampable_total",
    "reader_overruns_total",
];

/// (g) `--listen` on a free loopback port serves the health counters as
/// Prometheus text: well-formed, with per-probe labels, and moving.
#[test]
fn metrics_endpoint_serves_prometheus_text_with_the_counters() {
    let g = Graphite::shared();
    let pi = Pi::new("prometheus", g.carbon_addr(), "");
    assert_eq!(pi.set_celsius(HAM, 57.2), 57_187);
    pi.set_celsius(OVEN, 125.0);
    let port = free_port();
    let _exporter = pi.start("exporter", &["--listen", &loopback(port).to_string()]);
    let (ham, oven) = (probe_labels("ham", HAM), probe_labels("oven", OVEN));
    let first = await_scrape(port, "2 ham readings sent", |b| {
        sample(b, "readings_ok_total", &ham).is_some_and(|n| n >= 2.0)
            && sample(b, "sent_total", &[]).is_some_and(|n| n >= 2.0)
    });

    let (head, body) = raw_get(port, "/metrics");
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    let families = check_exposition_format(&body);
    for name in FAMILIES {
        assert!(
            families.contains(&format!("pi_probe_exporter_{name}")),
            "no {name}:\n{body}"
        );
    }
    assert_eq!(must(&body, "temperature_celsius", &ham), 57.187);
    assert_eq!(must(&body, "temperature_celsius", &oven), 125.0);
    assert_eq!(must(&body, "saturated_total", &ham), 0.0);
    assert_eq!(
        must(&body, "saturated_total", &oven),
        must(&body, "readings_ok_total", &oven),
        "every oven reading is at +125 °C"
    );
    for labels in [ham, oven] {
        assert_eq!(must(&body, "probe_present", &labels), 1.0);
        for reason in [
            "crc",
            "no_t",
            "malformed",
            "reset_85",
            "out_of_range",
            "unreadable",
            "vanished",
        ] {
            let [p, i] = labels;
            assert_eq!(
                must(
                    &body,
                    "readings_rejected_total",
                    &[p, i, ("reason", reason)]
                ),
                0.0
            );
        }
    }
    for (name, value) in [
        ("connected", 1.0),
        ("clock_synced", 1.0),
        ("spool_dropped_total", 0.0),
        ("spool_write_errors_total", 0.0),
        ("spool_set_aside_total", 0.0),
        ("spool_queue_full_total", 0.0),
        ("reader_overruns_total", 0.0),
    ] {
        assert_eq!(must(&body, name, &[]), value, "{name}");
    }
    // Counters move, and what they count reached Graphite.
    let counted = must(&first, "readings_ok_total", &ham);
    await_scrape(port, "more readings", |b| {
        sample(b, "readings_ok_total", &ham).is_some_and(|n| n > counted)
            && sample(b, "sent_total", &[]) > sample(&first, "sent_total", &[])
    });
    let points = g.wait_for(&pi.metric("ham"), SETTLE, |pts| pts.len() as f64 >= counted);
    assert!(
        points.iter().all(|&(_, v)| same_value(v, 134.9366)),
        "{points:?}"
    );
    let (head, _) = raw_get(port, "/nothing-here");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
}
