//! `pi-probe-exporter`: reads DS18B20 1-wire temperature probes on a
//! Raspberry Pi and sends them to Graphite without losing readings.
//!
//! It replaces two copies of a Python loop that died whenever the phone
//! hotspot moved rooms. The shape that makes it not lose readings:
//!
//! - a **reader** thread ([`reader`]) reads the probes once per interval,
//!   judges each value ([`reading`]) and queues the good ones for the
//!   **writer** thread ([`writer`]), which appends them to an on-disk
//!   write-ahead **spool** ([`spool`]) in group commits (one fdatasync for
//!   whatever is queued); a reading counts as read only once it is on disk.
//!   The reader never touches the network nor waits for the disk;
//! - a **sender** thread ([`sender`]) reads the spool forward from a
//!   persisted cursor and writes carbon's plaintext protocol, each reading
//!   with its own timestamp; after any connection error it replays a window
//!   of what it wrote recently, because carbon never acknowledges anything;
//! - readings taken while the Pi's wall clock is unsynchronised are held in
//!   the spool and restamped from their boot-time clock once NTP has synced
//!   ([`clock`]);
//! - the exporter's own health goes to `<prefix>.exporter.*` and, with
//!   `--listen`, to a Prometheus `/metrics` page ([`metrics`], [`http`]).
//!
//! [`simulate`] writes a synthetic 1-wire tree for demos and tests.

pub mod backoff;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crc;
pub mod http;
pub mod log;
pub mod metrics;
pub mod reader;
pub mod reading;
pub mod record;
pub mod sender;
pub mod shutdown;
pub mod simulate;
pub mod spool;
pub mod w1;
pub mod writer;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::clock::{Clock, SyncSource, SystemClock};
use crate::config::{Config, ConfigError};
use crate::log::Log;
use crate::metrics::Metrics;
use crate::reader::{Reader, ReaderOptions};
use crate::sender::{Sender, SenderOptions};
use crate::shutdown::Shutdown;
use crate::spool::{Spool, SpoolError, SpoolOptions};
use crate::writer::{QUEUE_READINGS, SpoolQueue, Writer};

/// Everything that stops the exporter.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The spool cannot be opened.
    #[error("spool: {0}")]
    Spool(#[from] SpoolError),
    /// `/metrics` cannot listen where asked.
    #[error("cannot listen on {addr} for /metrics: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// What the kernel said.
        source: io::Error,
    },
    /// A thread could not be started.
    #[error("cannot start the {name} thread: {source}")]
    Spawn {
        /// Which thread.
        name: &'static str,
        /// What the kernel said.
        source: io::Error,
    },
    /// A thread ended, which only a bug does (systemd restarts us).
    #[error("the {name} thread stopped unexpectedly: {message}")]
    Thread {
        /// Which thread.
        name: &'static str,
        /// Its panic message, if any.
        message: String,
    },
    /// The simulator could not write its tree.
    #[error("simulate: {path}: {source}")]
    Simulate {
        /// The w1 directory.
        path: PathBuf,
        /// What the kernel said.
        source: io::Error,
    },
    /// A command-line value is wrong.
    #[error("{0}")]
    Usage(String),
}

/// Command-line values that override the config file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--w1-dir`.
    pub w1_dir: Option<PathBuf>,
    /// `--graphite`.
    pub graphite: Option<String>,
    /// `--spool-dir`.
    pub spool_dir: Option<PathBuf>,
    /// `--interval`.
    pub interval: Option<Duration>,
    /// `--listen`.
    pub listen: Option<SocketAddr>,
}

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// Command-line overrides.
    pub overrides: Overrides,
    /// Where "is the clock synced" comes from.
    pub sync: SyncSource,
    /// Added to the wall clock while unsynced (testing only).
    pub unsynced_clock_offset_ms: i64,
    /// Stop after this long, draining the spool to carbon first.
    pub run_for: Option<Duration>,
}

/// The config file (or defaults) with command-line overrides applied.
pub fn effective_config(path: Option<&Path>, o: &Overrides) -> Result<Config, Error> {
    let mut c = match path {
        Some(p) => config::load(p)?,
        None => Config::default(),
    };
    if let Some(d) = &o.w1_dir {
        c.reading.w1_dir.clone_from(d);
    }
    if let Some(a) = &o.graphite {
        c.graphite.address = config::check_address(a).map_err(|message| ConfigError::Option {
            option: "--graphite",
            message,
        })?;
    }
    if let Some(d) = &o.spool_dir {
        c.spool.dir.clone_from(d);
    }
    if let Some(i) = o.interval {
        if i < Duration::from_millis(100) || i > Duration::from_hours(1) {
            return Err(ConfigError::Option {
                option: "--interval",
                message: "must be between 100ms and 1h".into(),
            }
            .into());
        }
        c.reading.interval = i;
    }
    if let Some(l) = o.listen {
        c.health.listen = Some(l);
    }
    Ok(c)
}

/// Sends a thread's name when it ends, however it ends.
struct ExitNotice(&'static str, mpsc::Sender<&'static str>);

impl Drop for ExitNotice {
    fn drop(&mut self) {
        let _ = self.1.send(self.0);
    }
}

fn spawn(
    name: &'static str,
    exits: &mpsc::Sender<&'static str>,
    f: impl FnOnce() + Send + 'static,
) -> Result<std::thread::JoinHandle<()>, Error> {
    let notice = ExitNotice(name, exits.clone());
    std::thread::Builder::new()
        .name(name.into())
        .stack_size(512 * 1024)
        .spawn(move || {
            let _notice = notice;
            f();
        })
        .map_err(|source| Error::Spawn { name, source })
}

pub(crate) fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

fn log_start(cfg: &Config, source: &SyncSource, stats: spool::SpoolStats, log: &Log) {
    let sync = match source {
        SyncSource::Kernel => "kernel (adjtimex)".to_owned(),
        SyncSource::Assume => "assumed synced".to_owned(),
        SyncSource::File(p) => format!("synced while {} exists", p.display()),
    };
    ::log::info!(logger: log,
        "starting {}: reading {} every {} in °{}, {} named probe(s); sending to {} as {}.*; \
         spool {} ({} readings to send, cap {} bytes); clock: {sync}{}",
        env!("CARGO_PKG_VERSION"),
        cfg.reading.w1_dir.display(),
        humantime::format_duration(cfg.reading.interval),
        cfg.reading.unit,
        cfg.probes.len(),
        cfg.graphite.address,
        cfg.graphite.prefix,
        cfg.spool.dir.display(),
        stats.next_seq - stats.committed,
        cfg.spool.max_bytes,
        cfg.health
            .listen
            .map(|a| format!("; /metrics on http://{a}/metrics"))
            .unwrap_or_default(),
    );
    if *source == SyncSource::Kernel {
        match clock::kernel_clock_synced() {
            Ok(true) => {}
            Ok(false) => ::log::info!(logger: log,
                "the kernel says the clock is not synchronised yet (adjtimex: STA_UNSYNC); \
                 readings are kept in the spool and restamped once NTP has synced"
            ),
            Err(e) => ::log::error!(logger: log,
                "cannot ask the kernel whether the clock is synchronised (adjtimex: {e}); \
                 every reading is held until it answers. A seccomp filter without adjtimex \
                 (systemd ProtectClock=yes) does this; on a board with a real-time clock \
                 use --assume-clock-synced"
            ),
        }
    }
    if cfg.reading.interval < Duration::from_secs(1) {
        ::log::warn!(logger: log,
            "interval {} is under a second: carbon keeps one value per second, so \
             readings in the same second overwrite each other",
            humantime::format_duration(cfg.reading.interval)
        );
    }
}

fn reader_options(cfg: &Config) -> ReaderOptions {
    ReaderOptions {
        w1_dir: cfg.reading.w1_dir.clone(),
        names: cfg.probes.clone(),
        prefix: cfg.graphite.prefix.clone(),
        unit: cfg.reading.unit,
        interval: cfg.reading.interval,
    }
}

fn sender_options(cfg: &Config) -> SenderOptions {
    let g = &cfg.graphite;
    SenderOptions {
        graphite: g.clone(),
        health_interval: cfg.health.interval,
        batch: 4096,
        drain_timeout: g.connect_timeout + g.write_timeout,
    }
}

fn join(name: &'static str, h: std::thread::JoinHandle<()>) -> Result<(), Error> {
    h.join().map_err(|e| Error::Thread {
        name,
        message: panic_message(&*e),
    })
}

/// Runs the exporter: until killed, or for `run_for`.
pub fn run_daemon(opts: &DaemonOptions, log: &Log) -> Result<(), Error> {
    let cfg = effective_config(opts.config.as_deref(), &opts.overrides)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new(
        opts.sync.clone(),
        opts.unsynced_clock_offset_ms,
    ));
    let spool = Arc::new(Spool::open(
        SpoolOptions {
            dir: cfg.spool.dir.clone(),
            max_bytes: cfg.spool.max_bytes,
            segment_bytes: cfg.spool.segment_bytes,
        },
        log.clone(),
    )?);
    let listener = match cfg.health.listen {
        Some(addr) => {
            Some(TcpListener::bind(addr).map_err(|source| Error::Listen { addr, source })?)
        }
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    // Reading stops first; the sender, which drains, once every reading
    // taken is spooled.
    let stop_reading = Arc::new(Shutdown::new());
    let shutdown = Arc::new(Shutdown::new());
    let queue = Arc::new(SpoolQueue::new(
        QUEUE_READINGS,
        metrics.clone(),
        log.clone(),
    ));

    log_start(&cfg, &opts.sync, spool.stats(), log);

    let (exits_tx, exits) = mpsc::channel();
    let reader = Reader::new(
        reader_options(&cfg),
        clock.clone(),
        queue.clone(),
        metrics.clone(),
        log.clone(),
        stop_reading.clone(),
    );
    let writer = Writer::new(
        spool.clone(),
        queue.clone(),
        metrics.clone(),
        log.clone(),
        cfg.reading.interval,
    );
    let sender = Sender::new(
        sender_options(&cfg),
        spool.clone(),
        clock.clone(),
        metrics.clone(),
        log.clone(),
        shutdown.clone(),
    );
    let reader_thread = spawn("reader", &exits_tx, move || reader.run())?;
    let writer_thread = spawn("writer", &exits_tx, move || writer.run())?;
    let sender_thread = spawn("sender", &exits_tx, move || sender.run())?;
    if let Some(listener) = listener {
        let (metrics, spool, clock, log) =
            (metrics.clone(), spool.clone(), clock.clone(), log.clone());
        spawn("metrics", &exits_tx, move || {
            let boot = clock.boot_id();
            let page = || {
                metrics
                    .snapshot(&spool.stats(), &clock.now(), &boot)
                    .prometheus()
            };
            http::serve(&listener, &page, &log);
        })?;
    }
    drop(exits_tx);

    let early = match opts.run_for {
        Some(d) => exits.recv_timeout(d).ok(),
        None => exits.recv().ok(),
    };
    if let Some(name) = early {
        let handle = match name {
            "reader" => Some(reader_thread),
            "writer" => Some(writer_thread),
            "sender" => Some(sender_thread),
            _ => None,
        };
        let message = handle
            .and_then(|h| h.join().err())
            .map_or_else(|| "it returned".to_owned(), |e| panic_message(&*e));
        return Err(Error::Thread { name, message });
    }
    stop_reading.trigger();
    let read = join("reader", reader_thread);
    queue.close();
    let written = join("writer", writer_thread);
    shutdown.trigger();
    spool.wake();
    let sent = join("sender", sender_thread);
    read.and(written).and(sent)?;
    let s = spool.stats();
    ::log::info!(logger: log,
        "stopped after --run-for: {} reading(s) spooled in all, {} dropped by the cap",
        s.next_seq, s.dropped
    );
    Ok(())
}

/// Runs a simulation scenario until it ends.
pub fn run_simulation(opts: &simulate::ScenarioOptions, log: &Log) -> Result<(), Error> {
    simulate::run_scenario(opts, log, &Shutdown::new()).map_err(|source| Error::Simulate {
        path: opts.w1_dir.clone(),
        source,
    })
}

/// Checks a probe id given on the command line (`28-...`, no slashes).
pub fn check_probe_arg(id: &str) -> Result<(), Error> {
    if id.starts_with(w1::FAMILY_PREFIX) && id.len() > 3 && !id.contains(['/', '\0']) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--probe {id:?}: a DS18B20 id starts with 28- (e.g. {})",
            simulate::HAM_ID
        )))
    }
}

/// Wraps a simulator write error with its directory.
pub fn simulate_io(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Simulate {
        path: path.to_owned(),
        source,
    }
}
