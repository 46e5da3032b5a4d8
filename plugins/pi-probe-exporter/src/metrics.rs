//! The exporter's own health: counters kept by the reader and the sender,
//! written as Graphite lines under `<prefix>.exporter.` and as Prometheus
//! text for `/metrics`.
//!
//! Counters count since the process started (use `nonNegativeDerivative`
//! in Graphite, `rate()` in Prometheus).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::clock::{BootId, ClockReading};
use crate::reading::RejectReason;
use crate::spool::SpoolStats;

/// Counters of one probe.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProbeCounters {
    /// The probe's name in metric paths (mapped name, or its id).
    pub name: String,
    /// Readings accepted (and spooled).
    pub ok: u64,
    /// Readings rejected, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Accepted readings at a sensor limit.
    pub saturated: u64,
    /// The last accepted value, millidegrees Celsius.
    pub last_milli_c: Option<i32>,
    /// Whether the probe is listed by the kernel right now.
    pub present: bool,
}

impl ProbeCounters {
    /// All rejections.
    #[must_use]
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// Shared counters. Every field is updated without blocking the reader for
/// long (atomics, or a short mutex).
#[derive(Debug, Default)]
pub struct Metrics {
    probes: Mutex<BTreeMap<String, ProbeCounters>>,
    /// Lines written to carbon, replays included.
    pub sent: AtomicU64,
    /// Connection attempts that failed and connections that died.
    pub send_errors: AtomicU64,
    /// Whether a connection to carbon is open.
    pub connected: AtomicBool,
    /// Appends to the spool that failed (those readings are lost).
    pub spool_write_errors: AtomicU64,
    /// Unreadable spool lines skipped.
    pub spool_corrupt_lines: AtomicU64,
    /// Readings taken and waiting for the spool writer (the commit in
    /// progress included): not yet on disk, not yet counted as read.
    pub spool_queue_readings: AtomicU64,
    /// Readings refused because the writer's queue was full (lost).
    pub spool_queue_full: AtomicU64,
    /// Group commits to the spool (write + fdatasync), failed ones too.
    pub spool_commits: AtomicU64,
    /// Time spent in them, microseconds.
    pub spool_commit_micros: AtomicU64,
    /// How long the last one took, microseconds.
    pub spool_commit_last_micros: AtomicU64,
    /// Readings from an earlier boot whose clock never synced: their true
    /// time is unknown, so they are dropped rather than misfiled.
    pub unstampable: AtomicU64,
    /// Reading intervals skipped because reading the probes took too long.
    pub overruns: AtomicU64,
    /// Whether the wall clock is synchronised.
    pub clock_synced: AtomicBool,
    /// The seq of the next reading the sender will write.
    pub sender_position: AtomicU64,
    oldest_pending: Mutex<Option<(BootId, u64, i64)>>,
}

/// Everything the health outputs show, at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Per probe, by id.
    pub probes: BTreeMap<String, ProbeCounters>,
    /// See [`Metrics::sent`].
    pub sent: u64,
    /// See [`Metrics::send_errors`].
    pub send_errors: u64,
    /// See [`Metrics::connected`].
    pub connected: bool,
    /// Readings in the spool not yet written to carbon.
    pub spool_readings: u64,
    /// Bytes of spool on disk.
    pub spool_bytes: u64,
    /// Segment files.
    pub spool_segments: u64,
    /// Age of the oldest reading not yet written, seconds (0 when none);
    /// readings held back in an unreadable segment count, as at least as
    /// old as the segment's last change.
    pub spool_oldest_age_seconds: f64,
    /// Readings held back in spool segments that cannot be read.
    pub spool_held_back: u64,
    /// Readings deleted by the spool cap before they were ever sent.
    pub spool_dropped: u64,
    /// Readings deleted by the spool cap after they were sent, while still
    /// in the replay window.
    pub spool_dropped_unconfirmed: u64,
    /// See [`Metrics::spool_corrupt_lines`].
    pub spool_corrupt_lines: u64,
    /// See [`Metrics::spool_write_errors`].
    pub spool_write_errors: u64,
    /// See [`Metrics::spool_queue_readings`].
    pub spool_queue_readings: u64,
    /// See [`Metrics::spool_queue_full`].
    pub spool_queue_full: u64,
    /// See [`Metrics::spool_commits`].
    pub spool_commits: u64,
    /// Seconds spent in spool commits.
    pub spool_commit_seconds: f64,
    /// Seconds the last spool commit took.
    pub spool_commit_last_seconds: f64,
    /// Files in the spool directory set aside as not what their name says.
    pub spool_set_aside: u64,
    /// See [`Metrics::unstampable`].
    pub unstampable: u64,
    /// See [`Metrics::overruns`].
    pub overruns: u64,
    /// See [`Metrics::clock_synced`].
    pub clock_synced: bool,
}

fn add(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    fn probes(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ProbeCounters>> {
        self.probes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes sure a probe is listed, with its name.
    pub fn probe_seen(&self, id: &str, name: &str, present: bool) {
        let mut p = self.probes();
        let c = p.entry(id.to_owned()).or_default();
        name.clone_into(&mut c.name);
        c.present = present;
    }

    /// Counts an accepted reading.
    pub fn accepted(&self, id: &str, milli_c: i32, saturated: bool) {
        let mut p = self.probes();
        let c = p.entry(id.to_owned()).or_default();
        c.ok += 1;
        c.last_milli_c = Some(milli_c);
        if saturated {
            c.saturated += 1;
        }
    }

    /// Counts a rejected reading.
    pub fn rejected(&self, id: &str, reason: RejectReason) {
        let mut p = self.probes();
        *p.entry(id.to_owned())
            .or_default()
            .rejected
            .entry(reason)
            .or_default() += 1;
    }

    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        add(counter, n);
    }

    /// Records the oldest reading not yet written (None: all written).
    pub fn set_oldest_pending(&self, oldest: Option<(BootId, u64, i64)>) {
        *self
            .oldest_pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = oldest;
    }

    /// Takes a snapshot; `now` and `boot` age the oldest pending reading.
    #[must_use]
    pub fn snapshot(&self, spool: &SpoolStats, now: &ClockReading, boot: &BootId) -> Snapshot {
        let position = self
            .sender_position
            .load(Ordering::Relaxed)
            .max(spool.committed);
        let oldest = *self
            .oldest_pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let age_ms = match oldest {
            None => 0,
            Some((b, mono, _)) if &b == boot => {
                i64::try_from(now.mono_ms.saturating_sub(mono)).unwrap_or(i64::MAX)
            }
            Some((_, _, wall)) => (now.wall_ms - wall).max(0),
        };
        let held_age_ms = spool
            .held_back_since_wall_ms
            .map_or(0, |since| (now.wall_ms - since).max(0));
        let age_ms = age_ms.max(held_age_ms);
        Snapshot {
            probes: self.probes().clone(),
            sent: self.sent.load(Ordering::Relaxed),
            send_errors: self.send_errors.load(Ordering::Relaxed),
            connected: self.connected.load(Ordering::Relaxed),
            spool_readings: spool.next_seq.saturating_sub(position),
            spool_bytes: spool.bytes,
            spool_segments: spool.segments as u64,
            spool_oldest_age_seconds: age_ms as f64 / 1000.0,
            spool_held_back: spool.held_back,
            spool_dropped: spool.dropped,
            spool_dropped_unconfirmed: spool.dropped_unconfirmed,
            spool_corrupt_lines: self.spool_corrupt_lines.load(Ordering::Relaxed),
            spool_write_errors: self.spool_write_errors.load(Ordering::Relaxed),
            spool_queue_readings: self.spool_queue_readings.load(Ordering::Relaxed),
            spool_queue_full: self.spool_queue_full.load(Ordering::Relaxed),
            spool_commits: self.spool_commits.load(Ordering::Relaxed),
            spool_commit_seconds: micros_to_seconds(
                self.spool_commit_micros.load(Ordering::Relaxed),
            ),
            spool_commit_last_seconds: micros_to_seconds(
                self.spool_commit_last_micros.load(Ordering::Relaxed),
            ),
            spool_set_aside: spool.set_aside,
            unstampable: self.unstampable.load(Ordering::Relaxed),
            overruns: self.overruns.load(Ordering::Relaxed),
            clock_synced: self.clock_synced.load(Ordering::Relaxed),
        }
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "microseconds below 2^53 (285 years) are exact in f64"
)]
fn micros_to_seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

fn flag(b: bool) -> u8 {
    u8::from(b)
}

impl Snapshot {
    /// Carbon plaintext lines under `<prefix>.exporter.`, stamped `ts`.
    #[must_use]
    pub fn graphite_lines(&self, prefix: &str, ts: i64) -> String {
        let mut out = String::with_capacity(2048);
        let mut line = |path: &str, value: &dyn std::fmt::Display| {
            let _ = writeln!(out, "{prefix}.exporter.{path} {value} {ts}");
        };
        for c in self.probes.values() {
            let p = format!("probe.{}", c.name);
            line(&format!("{p}.readings_ok"), &c.ok);
            line(&format!("{p}.readings_rejected"), &c.rejected_total());
            for r in RejectReason::ALL {
                let n = c.rejected.get(&r).copied().unwrap_or(0);
                line(&format!("{p}.rejected.{}", r.label()), &n);
            }
            line(&format!("{p}.saturated"), &c.saturated);
            line(&format!("{p}.present"), &flag(c.present));
        }
        line("spool.readings", &self.spool_readings);
        line("spool.bytes", &self.spool_bytes);
        line("spool.segments", &self.spool_segments);
        line("spool.oldest_age_seconds", &self.spool_oldest_age_seconds);
        line("spool.held_back", &self.spool_held_back);
        line("spool.dropped", &self.spool_dropped);
        line("spool.dropped_unconfirmed", &self.spool_dropped_unconfirmed);
        line("spool.corrupt_lines", &self.spool_corrupt_lines);
        line("spool.write_errors", &self.spool_write_errors);
        line("spool.set_aside", &self.spool_set_aside);
        line("spool.queue_readings", &self.spool_queue_readings);
        line("spool.queue_full", &self.spool_queue_full);
        line("spool.commits", &self.spool_commits);
        line("spool.commit_seconds", &self.spool_commit_seconds);
        line("spool.commit_last_seconds", &self.spool_commit_last_seconds);
        line("send.sent", &self.sent);
        line("send.errors", &self.send_errors);
        line("send.connected", &flag(self.connected));
        line("clock.synced", &flag(self.clock_synced));
        line("clock.unstampable", &self.unstampable);
        line("reader.overruns", &self.overruns);
        out
    }

    fn probe_families(&self, out: &mut String) {
        let labels = |id: &str, c: &ProbeCounters| {
            format!("probe=\"{}\",id=\"{}\"", escape(&c.name), escape(id))
        };
        let mut family =
            |name: &str, kind: &str, help: &str, samples: &mut dyn Iterator<Item = String>| {
                let _ = writeln!(out, "# HELP pi_probe_exporter_{name} {help}");
                let _ = writeln!(out, "# TYPE pi_probe_exporter_{name} {kind}");
                for sample in samples {
                    let _ = writeln!(out, "pi_probe_exporter_{name}{sample}");
                }
            };
        let probes = &self.probes;
        family(
            "readings_ok_total",
            "counter",
            "Readings accepted and spooled.",
            &mut probes
                .iter()
                .map(|(id, c)| format!("{{{}}} {}", labels(id, c), c.ok)),
        );
        family(
            "readings_rejected_total",
            "counter",
            "Readings rejected, by reason.",
            &mut probes.iter().flat_map(|(id, c)| {
                RejectReason::ALL.into_iter().map(move |r| {
                    let n = c.rejected.get(&r).copied().unwrap_or(0);
                    format!("{{{},reason=\"{}\"}} {n}", labels(id, c), r.label())
                })
            }),
        );
        family(
            "saturated_total",
            "counter",
            "Accepted readings at the sensor's -55 or +125 C limit.",
            &mut probes
                .iter()
                .map(|(id, c)| format!("{{{}}} {}", labels(id, c), c.saturated)),
        );
        family(
            "temperature_celsius",
            "gauge",
            "The last accepted reading.",
            &mut probes.iter().filter_map(|(id, c)| {
                c.last_milli_c.map(|m| {
                    format!(
                        "{{{}}} {}",
                        labels(id, c),
                        crate::reading::format_celsius(m)
                    )
                })
            }),
        );
        family(
            "probe_present",
            "gauge",
            "1 while the kernel lists the probe.",
            &mut probes
                .iter()
                .map(|(id, c)| format!("{{{}}} {}", labels(id, c), flag(c.present))),
        );
    }

    /// The families of the spool, its writer and its directory.
    /// The families of the spool's writer thread.
    fn writer_families(&self, out: &mut String) {
        single(
            out,
            "spool_queue_readings",
            "gauge",
            "Readings taken and waiting to be written and fsynced to the spool.",
            &self.spool_queue_readings,
        );
        single(
            out,
            "spool_queue_full_total",
            "counter",
            "Readings lost because the spool writer's queue was full.",
            &self.spool_queue_full,
        );
        single(
            out,
            "spool_commits_total",
            "counter",
            "Group commits to the spool (write and fdatasync).",
            &self.spool_commits,
        );
        single(
            out,
            "spool_commit_seconds_total",
            "counter",
            "Time spent in spool commits.",
            &self.spool_commit_seconds,
        );
        single(
            out,
            "spool_commit_last_seconds",
            "gauge",
            "How long the last spool commit took.",
            &self.spool_commit_last_seconds,
        );
    }

    fn spool_families(&self, out: &mut String) {
        single(
            out,
            "spool_readings",
            "gauge",
            "Readings in the spool not yet written to carbon.",
            &self.spool_readings,
        );
        single(
            out,
            "spool_bytes",
            "gauge",
            "Bytes of spool on disk.",
            &self.spool_bytes,
        );
        single(
            out,
            "spool_segments",
            "gauge",
            "Spool segment files.",
            &self.spool_segments,
        );
        single(
            out,
            "spool_oldest_age_seconds",
            "gauge",
            "Age of the oldest reading not yet written to carbon.",
            &self.spool_oldest_age_seconds,
        );
        single(
            out,
            "spool_held_back",
            "gauge",
            "Readings held back in spool segments that cannot be read.",
            &self.spool_held_back,
        );
        single(
            out,
            "spool_dropped_total",
            "counter",
            "Unsent readings deleted because the spool reached its cap.",
            &self.spool_dropped,
        );
        single(
            out,
            "spool_dropped_unconfirmed_total",
            "counter",
            "Sent readings deleted by the cap while still in the replay window.",
            &self.spool_dropped_unconfirmed,
        );
        single(
            out,
            "spool_corrupt_lines_total",
            "counter",
            "Unreadable spool lines skipped.",
            &self.spool_corrupt_lines,
        );
        single(
            out,
            "spool_write_errors_total",
            "counter",
            "Failed appends to the spool.",
            &self.spool_write_errors,
        );
        single(
            out,
            "spool_set_aside_total",
            "counter",
            "Files in the spool directory set aside (renamed *.set-aside) as not what their name says.",
            &self.spool_set_aside,
        );
        self.writer_families(out);
    }

    /// Prometheus text exposition format (version 0.0.4).
    #[must_use]
    pub fn prometheus(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.probe_families(&mut out);
        self.spool_families(&mut out);
        single(
            &mut out,
            "sent_total",
            "counter",
            "Lines written to carbon, replays included.",
            &self.sent,
        );
        single(
            &mut out,
            "send_errors_total",
            "counter",
            "Failed connection attempts and dead connections.",
            &self.send_errors,
        );
        single(
            &mut out,
            "connected",
            "gauge",
            "1 while connected to carbon.",
            &flag(self.connected),
        );
        single(
            &mut out,
            "clock_synced",
            "gauge",
            "1 while the wall clock is synchronised.",
            &flag(self.clock_synced),
        );
        single(
            &mut out,
            "unstampable_total",
            "counter",
            "Readings dropped because their boot's clock never synced.",
            &self.unstampable,
        );
        single(
            &mut out,
            "reader_overruns_total",
            "counter",
            "Reading intervals skipped because reading took too long.",
            &self.overruns,
        );
        out
    }
}

/// One family with one unlabelled sample.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: &dyn std::fmt::Display) {
    let _ = writeln!(out, "# HELP pi_probe_exporter_{name} {help}");
    let _ = writeln!(out, "# TYPE pi_probe_exporter_{name} {kind}");
    let _ = writeln!(out, "pi_probe_exporter_{name} {value}");
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        let m = Metrics::default();
        m.probe_seen("28-0316a2b4c5ff", "ham", true);
        m.accepted("28-0316a2b4c5ff", 57_187, false);
        m.accepted("28-0316a2b4c5ff", 125_000, true);
        m.rejected("28-0316a2b4c5ff", RejectReason::Crc);
        m.rejected("28-0316a2b4c5ff", RejectReason::Crc);
        m.rejected("28-0316a2b4c5ff", RejectReason::PowerOnReset);
        let boot = BootId::parse("0123456789abcdef").unwrap();
        m.set_oldest_pending(Some((boot, 10_000, 0)));
        m.sender_position.store(5, Ordering::Relaxed);
        let spool = SpoolStats {
            next_seq: 12,
            committed: 3,
            bytes: 900,
            segments: 2,
            dropped: 4,
            dropped_unconfirmed: 1,
            first_seq: 3,
            set_aside: 2,
            ..SpoolStats::default()
        };
        let now = ClockReading {
            wall_ms: 1,
            mono_ms: 12_500,
            synced: true,
        };
        m.snapshot(&spool, &now, &boot)
    }

    #[test]
    fn graphite_names() {
        let s = snapshot();
        assert_eq!(s.spool_readings, 7);
        assert!((s.spool_oldest_age_seconds - 2.5).abs() < 1e-9);
        let text = s.graphite_lines("christmaspi.temperature", 1_700_000_000);
        for want in [
            "christmaspi.temperature.exporter.probe.ham.readings_ok 2 1700000000\n",
            "christmaspi.temperature.exporter.probe.ham.readings_rejected 3 1700000000\n",
            "christmaspi.temperature.exporter.probe.ham.rejected.crc 2 1700000000\n",
            "christmaspi.temperature.exporter.probe.ham.rejected.reset_85 1 1700000000\n",
            "christmaspi.temperature.exporter.probe.ham.rejected.vanished 0 1700000000\n",
            "christmaspi.temperature.exporter.probe.ham.saturated 1 1700000000\n",
            "christmaspi.temperature.exporter.spool.readings 7 1700000000\n",
            "christmaspi.temperature.exporter.spool.dropped 4 1700000000\n",
            "christmaspi.temperature.exporter.spool.set_aside 2 1700000000\n",
            "christmaspi.temperature.exporter.spool.oldest_age_seconds 2.5 1700000000\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        for line in text.lines() {
            assert_eq!(line.split(' ').count(), 3, "{line}");
        }
    }

    #[test]
    fn prometheus_text() {
        let text = snapshot().prometheus();
        for want in [
            "pi_probe_exporter_readings_ok_total{probe=\"ham\",id=\"28-0316a2b4c5ff\"} 2\n",
            "pi_probe_exporter_readings_rejected_total{probe=\"ham\",id=\"28-0316a2b4c5ff\",reason=\"crc\"} 2\n",
            "pi_probe_exporter_temperature_celsius{probe=\"ham\",id=\"28-0316a2b4c5ff\"} 125\n",
            "# TYPE pi_probe_exporter_spool_dropped_total counter\n",
            "pi_probe_exporter_spool_dropped_total 4\n",
            "# TYPE pi_probe_exporter_spool_set_aside_total counter\n",
            "pi_probe_exporter_spool_set_aside_total 2\n",
            "# TYPE pi_probe_exporter_spool_queue_readings gauge\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(name.starts_with("pi_probe_exporter_"), "{line}");
        }
        // HELP/TYPE once per family.
        assert_eq!(
            text.matches("# TYPE pi_probe_exporter_readings_ok_total")
                .count(),
            1
        );
    }
}
