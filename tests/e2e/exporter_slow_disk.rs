//! pi-probe-exporter on a slow SD card: every `fsync`/`fdatasync` the
//! exporter makes is delayed by an `LD_PRELOAD` shim (`slowfsync.c` below,
//! compiled here with the machine's gcc), or held while a gate file exists.
//!
//! Why a shim and not `dm-delay`: dm-delay needs root, device-mapper and a
//! loop device, and delays every read and write, while a slow card's real
//! cost to the exporter is the flush. The shim delays exactly the calls that
//! wait for the card, in the exporter only (carbon and the tests run at full
//! speed), and runs on any glibc machine; the exporter links libc
//! dynamically and std's `sync_all`/`sync_data` call `fsync`/`fdatasync`.
//!
//! Readings are counted in (the spool, tailed by the [`Ledger`]; the
//! exporter's own `readings_ok_total`) and out (real carbon + graphite-web),
//! as in `pi_probe_exporter.rs`.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use nightwatch_testkit::Graphite;
use nightwatch_testkit::ports::{free_port, loopback};
use nightwatch_testkit::process::require;

use crate::pi_probe_exporter::{
    HAM, Hole, Ledger, OVEN, Pi, RECOVER, View, await_exactly, await_ledger, by_metric, holes,
    logged_skips, must, probe_labels, sample, scrape, ticks,
};

/// Delays `fsync` and `fdatasync` by `$SLOW_FSYNC_MS` milliseconds, then
/// holds them while the file `$SLOW_FSYNC_GATE` exists (a card that stops
/// answering), then calls the real one.
const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void slow(void) {
    const char *ms = getenv("SLOW_FSYNC_MS");
    const char *gate = getenv("SLOW_FSYNC_GATE");
    if (ms) {
        long n = atol(ms);
        struct timespec t = { n / 1000, (n % 1000) * 1000000L };
        while (nanosleep(&t, &t) != 0) {}
    }
    if (gate) {
        struct timespec t = { 0, 10 * 1000000L };
        while (access(gate, F_OK) == 0) nanosleep(&t, NULL);
    }
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow();
    return real(fd);
}
"#;

/// Compiles the shim into `dir`; returns the library's path.
pub(crate) fn build_shim(dir: &Path) -> PathBuf {
    let gcc = require("/usr/bin/gcc", "gcc");
    let src = dir.join("slowfsync.c");
    let lib = dir.join("libslowfsync.so");
    fs::write(&src, SHIM).expect("write the shim's source");
    let out = Command::new(gcc)
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&lib)
        .arg(&src)
        .arg("-ldl")
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc could not build the fsync shim: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lib
}

/// Ticks of `metric` with no hole but the one after `dead_from` (the
/// second of the last reading before a kill), if given.
fn unexplained_holes(ticks: &[i64], dead_from: Option<i64>) -> Vec<Hole> {
    holes(ticks)
        .into_iter()
        .filter(|h| Some(h.0) != dead_from)
        .collect()
}

fn ok_counts(body: &str) -> (f64, f64) {
    (
        must(body, "readings_ok_total", &probe_labels("ham", HAM)),
        must(body, "readings_ok_total", &probe_labels("oven", OVEN)),
    )
}

/// Two probes at 1 Hz on a card whose every flush takes 500 ms, with small
/// segments so that starting one (a directory fsync, then the data's) comes
/// every few seconds. No reading is skipped; the exporter is killed -9 in
/// the middle and restarted, and every reading it had counted as spooled
/// is in the spool afterwards and reaches Graphite, exactly.
#[test]
fn slow_fsyncs_skip_no_reading_and_kill_9_loses_nothing_acknowledged() {
    slow_disk_run("slowdisk", "500");
}

/// The same on a card three times slower: with the fsync on the reader
/// thread, a third of the readings were skipped (each round took 1.5 s).
#[test]
fn fsyncs_longer_than_the_interval_skip_no_reading_either() {
    slow_disk_run("slowerdisk", "1500");
}

fn slow_disk_run(name: &str, fsync_ms: &str) {
    let g = Graphite::shared();
    let pi = Pi::new(name, g.carbon_addr(), "segment_bytes = \"1KiB\"");
    let shim = build_shim(pi.dir.path());
    let env: [(&str, &OsStr); 2] = [
        ("LD_PRELOAD", shim.as_os_str()),
        ("SLOW_FSYNC_MS", OsStr::new(fsync_ms)),
    ];
    let _ham = pi.simulate("ham", "200");
    let _oven = pi.simulate("oven", "200");
    let ledger = Ledger::watch(&pi.spool);
    let port = free_port();
    let listen = loopback(port).to_string();
    let mut first = pi.start_with_env("exporter-1", &["--listen", &listen], &env);
    await_ledger(&ledger, 2 * 20, Duration::from_mins(1));
    let page = scrape(port);
    let acked = ok_counts(&page);
    first.kill_9();
    let before_kill = ledger.readings();
    let second = pi.start_with_env("exporter-2", &["--listen", &listen], &env);
    await_ledger(&ledger, before_kill.len() + 2 * 15, Duration::from_mins(1));
    let readings = ledger.readings();
    assert_eq!(
        readings[..before_kill.len()],
        before_kill[..],
        "the restart changed what the killed process had spooled"
    );

    let skipped = logged_skips(&first.log()) + logged_skips(&second.log());
    for (metric, acked) in [(pi.metric("ham"), acked.0), (pi.metric("oven"), acked.1)] {
        let spooled = ticks(&before_kill, &metric);
        assert!(
            spooled.len() as f64 >= acked,
            "{metric}: {acked} counted as spooled before the kill, {} in the spool",
            spooled.len()
        );
        let last_before = spooled.last().copied();
        let lost = unexplained_holes(&ticks(&readings, &metric), last_before);
        assert!(
            lost.is_empty() && skipped == 0,
            "{metric}: readings skipped with {fsync_ms} ms fsyncs: holes (second before, \
             count) {lost:?}; {skipped} logged as skipped\n{}",
            first.log()
        );
    }
    let all = by_metric(&readings);
    await_exactly(g, &all, &all, &View::new(), RECOVER);
    eprintln!(
        "slow disk, {fsync_ms} ms fsyncs: {} readings spooled, all delivered exactly; {} + {} \
         counted as spooled before the kill, all there; {skipped} skipped",
        readings.len(),
        acked.0,
        acked.1
    );
}

/// A card that stops answering: every fsync hangs while a gate file exists.
/// Readings go on being taken on time (they wait in the writer's queue,
/// shown on `/metrics`, not counted as spooled), `/metrics` answers, and
/// once the card answers again all of them are spooled and delivered,
/// with no hole.
#[test]
fn a_hung_fsync_stops_neither_the_readings_nor_metrics() {
    let g = Graphite::shared();
    let pi = Pi::new("stuckdisk", g.carbon_addr(), "");
    let shim = build_shim(pi.dir.path());
    let gate = pi.dir.path().join("gate");
    let env: [(&str, &OsStr); 2] = [
        ("LD_PRELOAD", shim.as_os_str()),
        ("SLOW_FSYNC_GATE", gate.as_os_str()),
    ];
    let _ham = pi.simulate("ham", "200");
    let _oven = pi.simulate("oven", "200");
    let ledger = Ledger::watch(&pi.spool);
    let port = free_port();
    let exporter = pi.start_with_env("exporter", &["--listen", &loopback(port).to_string()], &env);
    await_ledger(&ledger, 2 * 4, Duration::from_mins(1));

    let spooled_before = ledger.readings().len();
    fs::write(&gate, "").expect("create the gate");
    thread::sleep(Duration::from_secs(3));
    let stuck = scrape(port);
    thread::sleep(Duration::from_secs(3));
    let later = scrape(port);
    fs::remove_file(&gate).expect("open the gate");

    let queued = |page: &str| sample(page, "spool_queue_readings", &[]).unwrap_or(-1.0);
    assert_eq!(
        ok_counts(&stuck),
        ok_counts(&later),
        "readings counted as spooled while no fsync could finish"
    );
    assert!(
        queued(&later) > queued(&stuck) && queued(&stuck) > 0.0,
        "readings did not wait in the queue: {} then {}",
        queued(&stuck),
        queued(&later)
    );
    // Six seconds behind the gate: twelve readings at least, then more.
    let readings = await_ledger(&ledger, spooled_before + 2 * 8, Duration::from_mins(1));
    for metric in [pi.metric("ham"), pi.metric("oven")] {
        let lost = unexplained_holes(&ticks(&readings, &metric), None);
        assert!(
            lost.is_empty(),
            "{metric}: readings lost to a hung fsync: {lost:?}\n{}",
            exporter.log()
        );
    }
    assert_eq!(logged_skips(&exporter.log()), 0, "{}", exporter.log());
    let all = by_metric(&readings);
    await_exactly(g, &all, &all, &View::new(), RECOVER);
    eprintln!(
        "hung fsync: {} readings queued after 6 s, {} spooled and delivered exactly",
        queued(&later),
        readings.len()
    );
}
