//! The write-ahead spool: every reading is appended here first, and the
//! sender reads forward from a persisted cursor.
//!
//! On disk, in the spool directory:
//!
//! - `seg-<first seq, 20 digits>.log`: segments of [`Record`] lines, in
//!   order; a segment holds the records from its first seq up to the next
//!   segment's first seq. Only the newest segment is ever appended to, and
//!   only by this process (a `lock` file is held with `flock`).
//! - `cursor`: the first seq not yet known to be delivered, written
//!   atomically (write `cursor.tmp`, fsync, rename).
//! - `lock`: held while a process uses the spool.
//!
//! Crash safety:
//!
//! - Records are appended and `fdatasync`ed in groups (one commit for
//!   whatever the writer thread found queued, see [`crate::writer`]) before
//!   the sender may see them, so a reading the sender has sent is on disk,
//!   and a reading on disk survives `kill -9` and power loss (a new
//!   segment's directory entry is fsynced too). The write and the fsync run
//!   without the spool's lock held: the sender and `/metrics` only ever see
//!   the bytes and numbers of completed commits, so a slow card delays
//!   neither.
//! - A crash can leave the last segment with a torn last line. On open it
//!   is found (no newline, bad checksum, wrong fields), logged and cut off;
//!   any other unreadable line is skipped by the reader with a log line.
//!   Each line carries a CRC-32, so garbage is never sent as a reading.
//! - A new process never appends to an old segment: it starts a new one,
//!   numbered from the last good record, so a torn tail is never followed
//!   by good data in the same file.
//! - The cursor lags behind what was sent (see the sender's replay window)
//!   and may be lost or stale after a crash; then the sender replays more
//!   than needed. Carbon keeps the last value for a repeated timestamp, so a
//!   replay duplicates nothing visible. Nothing is deleted before the cursor
//!   has passed it, except by the cap.
//! - The cap (`max_bytes`) deletes whole oldest segments, counting the
//!   not-yet-delivered readings in them, which are logged and exported.

use std::collections::{BTreeSet, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::BootId;
use crate::log::Log;
use crate::record::Record;

/// Where the spool lives and how big it may grow.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    /// The spool directory (created if missing).
    pub dir: PathBuf,
    /// Cap on all segments together; the oldest go first.
    pub max_bytes: u64,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
}

/// Problems opening the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Another process holds the spool's lock.
    #[error("{0}: in use by another process (lock held)")]
    Locked(PathBuf),
    /// A filesystem call failed.
    #[error("{path}: {source}")]
    Io {
        /// What was being touched.
        path: PathBuf,
        /// What the kernel said.
        source: io::Error,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    }
}

/// When and where a batch of readings was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Boot the readings were taken in.
    pub boot: BootId,
    /// Milliseconds since boot.
    pub mono_ms: u64,
    /// Wall clock, ms since the epoch.
    pub wall_ms: i64,
    /// Whether the wall clock was synchronised.
    pub synced: bool,
}

/// A reading to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReading {
    /// Full Graphite path.
    pub metric: String,
    /// Value as sent.
    pub value: String,
}

/// A moment's view of the spool, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SpoolStats {
    /// The seq the next appended reading gets.
    pub next_seq: u64,
    /// The first seq not known to be delivered.
    pub committed: u64,
    /// Bytes in all segments.
    pub bytes: u64,
    /// Number of segment files.
    pub segments: usize,
    /// Readings deleted by the cap, never written to carbon, since the
    /// spool was opened.
    pub dropped: u64,
    /// Readings deleted by the cap that had been written to carbon but were
    /// still in the replay window (probably delivered; not replayable).
    pub dropped_unconfirmed: u64,
    /// The oldest seq still on disk.
    pub first_seq: u64,
    /// Readings in segments that cannot be read (at most this many: the
    /// count of an unreadable file is bounded by its size).
    pub held_back: u64,
    /// Files in the spool directory set aside (renamed `*.set-aside`)
    /// since the spool was opened: not what their name says, never read.
    pub set_aside: u64,
    /// Wall clock (ms since the epoch) of the last change to the oldest
    /// unreadable segment: its readings are at least this old.
    pub held_back_since_wall_ms: Option<i64>,
}

#[derive(Debug)]
struct Segment {
    first_seq: u64,
    path: PathBuf,
    /// Bytes known to be complete (and fsynced, for this run's segments).
    bytes: u64,
    /// No more appends: the reader may move past its end.
    sealed: bool,
    /// Why it cannot be read, when it cannot: its readings are held back
    /// (kept on disk, the cursor not moved past them) and the rest is sent.
    unreadable: Option<String>,
}

#[derive(Debug)]
struct Inner {
    segments: VecDeque<Segment>,
    next_seq: u64,
    /// The cursor: the first seq not known to be delivered. Never past an
    /// unreadable segment, so a restart tries it again.
    committed: u64,
    /// How far the sender has delivered, unreadable segments aside.
    delivered: u64,
    persisted: Option<u64>,
    total_bytes: u64,
    dropped: u64,
    dropped_unconfirmed: u64,
    /// One past the highest seq the sender has written to a connection.
    written: u64,
    /// One past the highest seq the sender holds in memory.
    loaded: u64,
    last_unconfirmed_log: Option<std::time::Instant>,
    set_aside: u64,
}

/// The segment being appended to, owned by whoever appends (one at a time:
/// the writer thread). Kept out of [`Inner`] so that writing and fsyncing
/// it never holds the lock the sender and `/metrics` take.
#[derive(Debug, Default)]
struct Appender {
    /// The open segment and its first seq.
    file: Option<(u64, File)>,
}

/// The spool. Shared by the reader thread (appends) and the sender thread
/// (reads, commits).
#[derive(Debug)]
pub struct Spool {
    opts: SpoolOptions,
    log: Log,
    inner: Mutex<Inner>,
    /// Taken before `inner`, never after it.
    appender: Mutex<Appender>,
    data: Condvar,
    _lock: File,
}

/// Where a seq is, as [`Spool::locate`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// In this segment (or, after a torn line, in a later one).
    Segment {
        first_seq: u64,
        path: PathBuf,
        limit: u64,
        sealed: bool,
        next_first: Option<u64>,
        unreadable: bool,
    },
    /// Deleted by the cap; the oldest seq still here.
    Gap(u64),
    /// Not written yet.
    End,
}

const CURSOR: &str = "cursor";
const CURSOR_TMP: &str = "cursor.tmp";

fn segment_name(first_seq: u64) -> String {
    format!("seg-{first_seq:020}.log")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The shortest line a record can be: every field at its smallest. An
/// unreadable segment of `n` bytes holds at most `n / MIN_LINE` readings.
const MIN_LINE: u64 = "0 0123456789abcdef 0 0 S a b 00000000\n".len() as u64;

/// A cursor above this is corrupt: at a reading a millisecond it would take
/// 285 000 years to get there.
const MAX_SANE_SEQ: u64 = 1 << 53;

/// Reads at most `len` bytes of `path` from `start` (a file may be a device
/// that never ends, or grow while read).
fn read_bounded(path: &Path, start: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    file.seek(io::SeekFrom::Start(start))?;
    let mut buf = Vec::with_capacity(usize::try_from(len.saturating_sub(start)).unwrap_or(0));
    file.take(len.saturating_sub(start)).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Finds a segment's last good record. Returns (its seq, the byte offset
/// just past it, the bytes after it). Only the tail is read unless it
/// holds no good record; never more than `len` bytes.
fn scan_tail(path: &Path, len: u64) -> io::Result<(Option<u64>, u64, u64)> {
    const CHUNK: u64 = 64 * 1024;
    let start = len.saturating_sub(CHUNK);
    let buf = read_bounded(path, start, len)?;
    let len = start + buf.len() as u64;
    let mut pos = 0;
    if start > 0 {
        // The chunk starts inside a line; begin after it.
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => pos = i + 1,
            None => return scan_tail_from(&buf, 0, len, start, true, path),
        }
    }
    scan_tail_from(&buf, pos, len, start, start > 0, path)
}

fn scan_tail_from(
    buf: &[u8],
    mut pos: usize,
    len: u64,
    start: u64,
    partial: bool,
    path: &Path,
) -> io::Result<(Option<u64>, u64, u64)> {
    let mut last = None;
    let mut good_end = start;
    while let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') {
        let end = pos + nl + 1;
        if let Ok(r) = Record::decode(&buf[pos..end]) {
            last = Some(r.seq);
            good_end = start + end as u64;
        }
        pos = end;
    }
    if last.is_none() && partial {
        // Nothing good in the tail: look at the whole file.
        let whole = read_bounded(path, 0, len)?;
        return scan_tail_from(&whole, 0, len, 0, false, path);
    }
    Ok((last, good_end, len - good_end))
}

/// The byte offset of the first line in `path` (of `len` bytes) whose seq
/// is `seq` or more.
fn offset_of_seq(path: &Path, len: u64, seq: u64) -> io::Result<Option<u64>> {
    let buf = read_bounded(path, 0, len)?;
    let mut pos = 0;
    for line in buf.split_inclusive(|&b| b == b'\n') {
        if leading_seq(line).is_some_and(|s| s >= seq) {
            return Ok(Some(pos));
        }
        pos += line.len() as u64;
    }
    Ok(None)
}

/// Cuts `path` to `len` bytes, durably.
fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}

/// Renames something in the spool directory that is not what its name
/// says out of the way (to `<name>.set-aside[-n]`), so that it is kept for
/// a person to look at and never read again. Returns the new name.
fn set_aside(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut n = 0u32;
    loop {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let to = path.with_file_name(format!("{name}.set-aside{suffix}"));
        if fs::symlink_metadata(&to).is_err() {
            fs::rename(path, &to)?;
            return Ok(to);
        }
        n += 1;
    }
}

/// What a non-regular file is, for a log line.
fn file_kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn mtime_ms(path: &Path) -> Option<i64> {
    let t = fs::symlink_metadata(path).ok()?.modified().ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

/// Opens the lock file, setting aside whatever holds its name if that
/// cannot be a lock file (a directory, a file we may not write); says
/// whether it did.
fn open_lock(dir: &Path, log: &Log) -> Result<(File, bool), SpoolError> {
    let path = dir.join("lock");
    let open = || {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
    };
    let bad = match fs::symlink_metadata(&path) {
        Ok(meta) if !meta.file_type().is_file() => Some(file_kind(&meta).to_owned()),
        _ => match open() {
            Ok(f) => return Ok((f, false)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(io_at(&path)(e)),
            Err(e) => Some(format!("cannot be opened for writing ({e})")),
        },
    };
    let why = bad.unwrap_or_default();
    let to = set_aside(&path).map_err(io_at(&path))?;
    ::log::error!(logger: log,
        "spool: {} is {why}, not a lock file; set aside as {} and a new one made",
        path.display(),
        to.display()
    );
    open().map(|f| (f, true)).map_err(io_at(&path))
}

impl Spool {
    /// Opens (creating if needed) the spool in `opts.dir`: recovers the
    /// cursor, cuts torn tails and the leftovers of failed appends, sets
    /// aside what is not a segment, holds back what cannot be read, and
    /// applies the cap. Every one of these is logged.
    ///
    /// One rule keeps readings from being skipped: a sequence number is
    /// never given twice. The next one is past every number any file in the
    /// spool may hold (readable or not, empty or set aside) and past a
    /// believable cursor.
    #[allow(
        clippy::too_many_lines,
        reason = "one pass of recovery steps, in order"
    )]
    pub fn open(opts: SpoolOptions, log: Log) -> Result<Spool, SpoolError> {
        let dir = opts.dir.clone();
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let (lock, lock_set_aside) = open_lock(&dir, &log)?;
        let mut set_aside_count = u64::from(lock_set_aside);
        let lock_path = dir.join("lock");
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(SpoolError::Locked(dir)),
            Err(fs::TryLockError::Error(e)) => return Err(io_at(&lock_path)(e)),
        }

        // No number at or below `floor` may be given again.
        let mut floor = 0u64;
        let mut found = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_at(&dir))? {
            let entry = entry.map_err(io_at(&dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(first) = parse_segment_name(name) else {
                continue;
            };
            let path = entry.path();
            floor = floor.max(first);
            let meta = fs::symlink_metadata(&path).map_err(io_at(&path))?;
            if !meta.file_type().is_file() {
                // Its name promises a reading numbered `first`, never read
                // now: that number is not given again either.
                floor = floor.max(first.saturating_add(1));
                let kind = file_kind(&meta);
                match set_aside(&path) {
                    Ok(to) => {
                        set_aside_count += 1;
                        ::log::error!(logger: log,
                            "spool: {} is {kind}, not a segment; set aside as {}",
                            path.display(),
                            to.display()
                        );
                    }
                    Err(e) => ::log::error!(logger: log,
                        "spool: {} is {kind}, not a segment; ignored (cannot rename it: {e})",
                        path.display()
                    ),
                }
                continue;
            }
            if meta.len() == 0 {
                ::log::warn!(logger: log,
                    "spool: {} is empty (a segment started just before a crash or a full \
                     disk); removed, it held no readings",
                    path.display()
                );
                if let Err(e) = fs::remove_file(&path) {
                    ::log::error!(logger: log, "spool: cannot remove {}: {e}", path.display());
                }
                continue;
            }
            found.push(Segment {
                first_seq: first,
                path,
                bytes: meta.len(),
                sealed: true,
                unreadable: None,
            });
        }
        found.sort_by_key(|s| s.first_seq);
        let mut segments: VecDeque<Segment> = found.into();

        // Each segment's last good record; what lies past it (a torn line,
        // or whole lines of an append that failed and was followed by a new
        // segment) is cut off.
        let mut last_good_of_last = None;
        let count = segments.len();
        for i in 0..count {
            let next_first = segments.get(i + 1).map(|s| s.first_seq);
            let seg = &mut segments[i];
            let scanned = scan_tail(&seg.path, seg.bytes).and_then(|(last, end, torn)| {
                match last {
                    Some(l) if next_first.is_some_and(|nf| l >= nf) => {
                        let nf = next_first.unwrap_or(u64::MAX);
                        let cut = offset_of_seq(&seg.path, seg.bytes, nf)?.unwrap_or(end);
                        ::log::warn!(logger: log,
                            "spool: {} holds readings {nf}..={l}, which belong to the next \
                             segment (an append that failed, e.g. on a full disk, and was \
                             reported lost); cut off",
                            seg.path.display()
                        );
                        truncate(&seg.path, cut)?;
                        seg.bytes = cut;
                        // What is left ends before the next segment.
                        Ok(Some(nf - 1))
                    }
                    _ => {
                        if torn > 0 {
                            ::log::warn!(logger: log,
                                "spool: torn tail in {}: {torn} bytes after the last complete \
                                 reading (crash or failed write); cut off",
                                seg.path.display()
                            );
                            truncate(&seg.path, end)?;
                            seg.bytes = end;
                        }
                        Ok(last)
                    }
                }
            });
            match scanned {
                Ok(last) => {
                    if let Some(l) = last {
                        floor = floor.max(l.saturating_add(1));
                    }
                    if i + 1 == count {
                        last_good_of_last = Some(last);
                    }
                }
                Err(e) => {
                    // Cannot read it: it may hold up to this many readings,
                    // whose numbers must not be given again.
                    let most = seg.bytes / MIN_LINE;
                    floor = floor.max(seg.first_seq.saturating_add(most));
                    let why = e.to_string();
                    ::log::error!(logger: log,
                        "spool: cannot read {}: {why}; holding back its readings (seq {}..{}) \
                         and sending the rest; restart the exporter once it is readable",
                        seg.path.display(),
                        seg.first_seq,
                        next_first.unwrap_or(seg.first_seq.saturating_add(most))
                    );
                    seg.unreadable = Some(why);
                }
            }
        }
        if let Some(None) = last_good_of_last
            && let Some(last) = segments.pop_back()
        {
            ::log::warn!(logger: log,
                "spool: {} holds no complete reading; removed",
                last.path.display()
            );
            if let Err(e) = fs::remove_file(&last.path) {
                ::log::error!(logger: log, "spool: cannot remove {}: {e}", last.path.display());
            }
        }

        let data_end = floor;
        let cursor = read_cursor(&dir, &log);
        let first_on_disk = segments.front().map(|s| s.first_seq);
        let (next_seq, committed) = match (cursor, first_on_disk) {
            (None, first) => (data_end, first.unwrap_or(data_end)),
            (Some(c), Some(first)) if c > data_end => {
                ::log::error!(logger: log,
                    "spool: the cursor ({c}) is past the last reading in the spool ({}); it \
                     does not match this spool, so it is ignored and every spooled reading is \
                     sent from the oldest (seq {first})",
                    data_end.saturating_sub(1)
                );
                (data_end, first)
            }
            (Some(c), Some(_)) => (data_end, c),
            (Some(c), None) if c > MAX_SANE_SEQ => {
                ::log::error!(logger: log,
                    "spool: the cursor ({c}) is not a believable position; ignored, numbering \
                     continues from {data_end}"
                );
                (data_end, data_end)
            }
            // Everything was delivered: the cursor is where numbering goes on.
            (Some(c), None) => (data_end.max(c), data_end.max(c)),
        };
        let total_bytes = segments.iter().map(|s| s.bytes).sum();
        let spool = Spool {
            opts,
            log,
            inner: Mutex::new(Inner {
                segments,
                next_seq,
                committed,
                delivered: committed,
                persisted: cursor,
                total_bytes,
                dropped: 0,
                dropped_unconfirmed: 0,
                written: committed,
                loaded: committed,
                last_unconfirmed_log: None,
                set_aside: set_aside_count,
            }),
            appender: Mutex::new(Appender::default()),
            data: Condvar::new(),
            _lock: lock,
        };
        {
            let mut inner = spool.lock();
            spool.hold_cursor(&mut inner);
            spool.delete_committed(&mut inner);
            spool.enforce_cap(&mut inner);
        }
        Ok(spool)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The spool directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.opts.dir
    }

    /// The first seq not yet known to be delivered (where a sender starts).
    #[must_use]
    pub fn committed(&self) -> u64 {
        self.lock().committed
    }

    /// Counts for metrics.
    #[must_use]
    pub fn stats(&self) -> SpoolStats {
        let inner = self.lock();
        SpoolStats {
            next_seq: inner.next_seq,
            committed: inner.committed,
            bytes: inner.total_bytes,
            segments: inner.segments.len(),
            dropped: inner.dropped,
            dropped_unconfirmed: inner.dropped_unconfirmed,
            first_seq: inner
                .segments
                .front()
                .map_or(inner.next_seq, |s| s.first_seq),
            held_back: held_back(&inner),
            set_aside: inner.set_aside,
            held_back_since_wall_ms: inner
                .segments
                .iter()
                .find(|s| s.unreadable.is_some())
                .and_then(|s| mtime_ms(&s.path)),
        }
    }

    /// Appends a batch of readings taken at `stamp` and fsyncs them.
    /// Returns the seqs they got.
    pub fn append(&self, stamp: &Stamp, readings: &[NewReading]) -> io::Result<Range<u64>> {
        self.append_group(&[(stamp, readings)])
    }

    fn appender(&self) -> MutexGuard<'_, Appender> {
        self.appender.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends several batches (each taken at its own stamp) as one commit:
    /// one write, one `fdatasync`. Returns the seqs they got, in order;
    /// on an error none of them is in the spool and no number was used.
    ///
    /// The spool's lock is held only to look and, once the data is durable,
    /// to publish it (new `next_seq`, the segment's length); the write and
    /// the fsync run without it, so the sender and `/metrics` never wait
    /// for the card. Only what a completed commit published is visible to
    /// readers: they read a segment up to its published length.
    pub fn append_group(&self, batches: &[(&Stamp, &[NewReading])]) -> io::Result<Range<u64>> {
        let mut app = self.appender();
        let (first, reuse) = {
            let inner = self.lock();
            let reuse = app.file.as_ref().is_some_and(|(seg_first, _)| {
                inner.segments.back().is_some_and(|s| {
                    s.first_seq == *seg_first
                        && !s.sealed
                        && s.unreadable.is_none()
                        && s.bytes < self.opts.segment_bytes
                })
            });
            (inner.next_seq, reuse)
        };
        let n: u64 = batches.iter().map(|(_, r)| r.len() as u64).sum();
        if n == 0 {
            return Ok(first..first);
        }
        if !reuse {
            self.start_segment(&mut app, first)?;
        }
        let mut buf = String::with_capacity(usize::try_from(n).unwrap_or(0) * 96);
        let mut seq = first;
        for (stamp, readings) in batches {
            for r in *readings {
                crate::record::encode_line(
                    seq,
                    stamp.boot,
                    stamp.mono_ms,
                    stamp.wall_ms,
                    stamp.synced,
                    &r.metric,
                    &r.value,
                    &mut buf,
                );
                seq += 1;
            }
        }
        let (seg_first, file) = app.file.as_mut().expect("a segment was just started");
        let seg_first = *seg_first;
        let written = file
            .write_all(buf.as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            self.undo_append(&mut app, seg_first, &e);
            return Err(e);
        }
        let len = buf.len() as u64;
        let mut inner = self.lock();
        inner.next_seq += n;
        inner.total_bytes += len;
        if let Some(seg) = inner
            .segments
            .iter_mut()
            .rfind(|s| s.first_seq == seg_first)
        {
            seg.bytes += len;
        }
        self.enforce_cap(&mut inner);
        drop(inner);
        drop(app);
        self.data.notify_all();
        Ok(first..first + n)
    }

    /// Leaves the spool as if a failed append never happened: the segment
    /// is cut back to its last complete commit (an empty new one is
    /// removed) and no sequence number is used, so none is ever given
    /// twice. Should the cut fail too, the next start finds the leftover
    /// past the next segment's start and cuts it then.
    fn undo_append(&self, app: &mut Appender, seg_first: u64, e: &io::Error) {
        app.file = None;
        let (path, bytes) = {
            let mut inner = self.lock();
            let Some(seg) = inner
                .segments
                .iter_mut()
                .rfind(|s| s.first_seq == seg_first)
            else {
                return;
            };
            seg.sealed = true;
            (seg.path.clone(), seg.bytes)
        };
        let undone = if bytes == 0 {
            fs::remove_file(&path).and_then(|()| fsync_dir(&self.opts.dir))
        } else {
            truncate(&path, bytes)
        };
        if bytes == 0 && undone.is_ok() {
            let mut inner = self.lock();
            if inner
                .segments
                .back()
                .is_some_and(|s| s.first_seq == seg_first && s.bytes == 0)
            {
                inner.segments.pop_back();
            }
        }
        if let Err(e2) = undone {
            ::log::error!(logger: self.log,
                "spool: append to {} failed ({e}) and cutting it back to {bytes} bytes failed \
                 too ({e2}); the next start cuts it",
                path.display()
            );
        }
    }

    /// Starts the segment whose first reading will be `first` (the next
    /// seq). The file is created and its directory entry fsynced without
    /// the spool's lock; it is listed only then.
    fn start_segment(&self, app: &mut Appender, first: u64) -> io::Result<()> {
        app.file = None;
        let path = self.opts.dir.join(segment_name(first));
        {
            let mut inner = self.lock();
            if let Some(seg) = inner.segments.back_mut() {
                seg.sealed = true;
            }
            // An empty leftover of the same name (from a failed write) goes.
            if inner.segments.back().is_some_and(|s| s.first_seq == first)
                && let Some(old) = inner.segments.pop_back()
            {
                inner.total_bytes -= old.bytes;
                let _ = fs::remove_file(&path);
            }
        }
        // An empty file of this name left by a failed start goes too.
        if fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            let _ = fs::remove_file(&path);
        }
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)?;
        if let Err(e) = fsync_dir(&self.opts.dir) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        self.lock().segments.push_back(Segment {
            first_seq: first,
            path,
            bytes: 0,
            sealed: false,
            unreadable: None,
        });
        app.file = Some((first, file));
        Ok(())
    }

    fn remove_front(&self, inner: &mut Inner) -> Option<Segment> {
        let seg = inner.segments.pop_front()?;
        inner.total_bytes -= seg.bytes;
        if let Err(e) = fs::remove_file(&seg.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            ::log::error!(logger: self.log,
                "spool: cannot delete {}: {e}",
                seg.path.display()
            );
        }
        Some(seg)
    }

    /// Deletes segments whose every record was delivered; unreadable ones
    /// stay (held back, for the next start to try again).
    fn delete_committed(&self, inner: &mut Inner) {
        let mut i = 0;
        while i < inner.segments.len() {
            let seg = &inner.segments[i];
            let end = inner
                .segments
                .get(i + 1)
                .map_or(inner.next_seq, |s| s.first_seq);
            // The active segment stays while it can still grow.
            if end > inner.delivered || !seg.sealed {
                return;
            }
            if seg.unreadable.is_some() {
                i += 1;
                continue;
            }
            // While the cursor is held back, the newest segment is what
            // tells the next start where numbering goes on.
            if i + 1 == inner.segments.len() && i > 0 {
                return;
            }
            if i == 0 {
                self.remove_front(inner);
            } else if let Some(seg) = inner.segments.remove(i) {
                inner.total_bytes -= seg.bytes;
                if let Err(e) = fs::remove_file(&seg.path)
                    && e.kind() != io::ErrorKind::NotFound
                {
                    ::log::error!(logger: self.log,
                        "spool: cannot delete {}: {e}",
                        seg.path.display()
                    );
                }
            }
        }
    }

    /// Keeps the cursor at the first unreadable segment, so the readings
    /// held back there are tried again at the next start.
    fn hold_cursor(&self, inner: &mut Inner) {
        let _ = self;
        inner.committed = inner.delivered;
        if let Some(seg) = inner.segments.iter().find(|s| s.unreadable.is_some()) {
            inner.committed = inner.committed.min(seg.first_seq);
        }
    }

    /// Marks the segment starting at `first_seq` unreadable (the sender
    /// could not read it): its readings are held back, the rest is sent.
    pub fn hold(&self, first_seq: u64, why: &io::Error) {
        let mut inner = self.lock();
        let next_seq = inner.next_seq;
        let Some(i) = inner.segments.iter().position(|s| s.first_seq == first_seq) else {
            return;
        };
        let end = inner.segments.get(i + 1).map_or(next_seq, |s| s.first_seq);
        let seg = &mut inner.segments[i];
        if seg.unreadable.is_some() {
            return;
        }
        seg.unreadable = Some(why.to_string());
        seg.sealed = true;
        ::log::error!(logger: self.log,
            "spool: cannot read {}: {why}; holding back its {} readings (seq {first_seq}..{end}) \
             and sending the rest; restart the exporter once it is readable",
            seg.path.display(),
            end - first_seq
        );
        // Were it being appended to, the next append starts a new one
        // (the appender looks at `sealed`).
        self.hold_cursor(&mut inner);
    }

    /// Deletes whole oldest segments while over the cap. A deleted reading
    /// counts as *dropped* when the sender never wrote it and does not hold
    /// it in memory (those it holds are counted by the sender if it has to
    /// discard them), and as *unconfirmed* when it was written but was still
    /// inside the replay window.
    fn enforce_cap(&self, inner: &mut Inner) {
        let count = |from: u64, to: u64| to.saturating_sub(from);
        let mut lost = 0u64;
        let mut lost_range: Option<(u64, u64)> = None;
        let mut unconfirmed = 0u64;
        while inner.total_bytes > self.opts.max_bytes && inner.segments.len() > 1 {
            let Some(seg) = self.remove_front(inner) else {
                break;
            };
            let end = inner
                .segments
                .front()
                .map_or(inner.next_seq, |s| s.first_seq);
            let from = if seg.unreadable.is_some() {
                seg.first_seq.max(inner.committed)
            } else {
                seg.first_seq.max(inner.delivered)
            };
            unconfirmed += count(from, end.min(inner.written));
            let never_sent_from = from.max(inner.written).max(inner.loaded);
            let n = count(never_sent_from, end);
            if n > 0 {
                lost += n;
                let start = lost_range.map_or(never_sent_from, |r| r.0);
                lost_range = Some((start, end));
            }
            inner.delivered = inner.delivered.max(end);
            self.hold_cursor(inner);
        }
        inner.dropped += lost;
        inner.dropped_unconfirmed += unconfirmed;
        if let Some((a, b)) = lost_range {
            ::log::warn!(logger: self.log,
                "spool full (cap {} bytes): dropped the {lost} oldest unsent readings \
                 (seq {a}..{b}); {} dropped since start",
                self.opts.max_bytes, inner.dropped
            );
        }
        if unconfirmed > 0
            && inner
                .last_unconfirmed_log
                .is_none_or(|t| t.elapsed() >= Duration::from_mins(1))
        {
            inner.last_unconfirmed_log = Some(std::time::Instant::now());
            ::log::debug!(logger: self.log,
                "spool full (cap {} bytes): deleted {} already-sent readings still inside the \
                 replay window ({} since start); a cap this small cannot replay what a dying \
                 connection swallows",
                self.opts.max_bytes, unconfirmed, inner.dropped_unconfirmed
            );
        }
    }

    /// The sender reports how far it has written (`written`) and how far it
    /// has read into memory (`loaded`), for the cap's accounting.
    pub fn note_sender(&self, written: u64, loaded: u64) {
        let mut inner = self.lock();
        inner.written = inner.written.max(written);
        inner.loaded = loaded.max(inner.written);
    }

    /// Readings the sender held in memory but had to discard after their
    /// segment was deleted: dropped after all.
    pub fn note_discarded(&self, n: u64) {
        if n == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.dropped += n;
        ::log::warn!(logger: self.log,
            "spool full (cap {} bytes): {n} readings held for sending were lost with a failed \
             connection, their spool segment already deleted; {} dropped since start",
            self.opts.max_bytes, inner.dropped
        );
    }

    /// Marks everything below `seq` as delivered; fully delivered segments
    /// are deleted. Call [`Spool::persist_cursor`] now and then.
    pub fn commit(&self, seq: u64) {
        let mut inner = self.lock();
        let seq = seq.min(inner.next_seq);
        if seq > inner.delivered {
            inner.delivered = seq;
            self.hold_cursor(&mut inner);
            self.delete_committed(&mut inner);
        }
    }

    /// Writes the cursor file if it changed.
    pub fn persist_cursor(&self) -> io::Result<()> {
        let committed = {
            let inner = self.lock();
            if inner.persisted == Some(inner.committed) {
                return Ok(());
            }
            inner.committed
        };
        let tmp = self.opts.dir.join(CURSOR_TMP);
        {
            let mut f = File::create(&tmp)?;
            writeln!(f, "{committed}")?;
            f.sync_data()?;
        }
        fs::rename(&tmp, self.opts.dir.join(CURSOR))?;
        self.lock().persisted = Some(committed);
        Ok(())
    }

    fn locate(&self, seq: u64) -> Location {
        let inner = self.lock();
        if seq >= inner.next_seq {
            return Location::End;
        }
        let Some(front) = inner.segments.front() else {
            return Location::End;
        };
        if seq < front.first_seq {
            return Location::Gap(front.first_seq);
        }
        let idx = inner
            .segments
            .partition_point(|s| s.first_seq <= seq)
            .saturating_sub(1);
        let seg = &inner.segments[idx];
        Location::Segment {
            first_seq: seg.first_seq,
            path: seg.path.clone(),
            limit: seg.bytes,
            sealed: seg.sealed,
            next_first: inner.segments.get(idx + 1).map(|s| s.first_seq),
            unreadable: seg.unreadable.is_some(),
        }
    }

    /// Waits up to `timeout` for a reading with seq `seq` or later to be
    /// appended. Returns whether one is there.
    pub fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let inner = self.lock();
        if inner.next_seq > seq {
            return true;
        }
        let (inner, _) = self
            .data
            .wait_timeout(inner, timeout)
            .unwrap_or_else(PoisonError::into_inner);
        inner.next_seq > seq
    }

    /// Wakes every [`Spool::wait_for`] (for shutdown).
    pub fn wake(&self) {
        self.data.notify_all();
    }
}

/// How many readings unreadable segments may hold.
fn held_back(inner: &Inner) -> u64 {
    let mut n = 0;
    for (i, seg) in inner.segments.iter().enumerate() {
        if seg.unreadable.is_some() {
            let end = inner
                .segments
                .get(i + 1)
                .map_or(inner.next_seq, |s| s.first_seq);
            n += end.saturating_sub(seg.first_seq.max(inner.committed));
        }
    }
    n
}

fn read_cursor(dir: &Path, log: &Log) -> Option<u64> {
    let path = dir.join(CURSOR);
    // A number and a newline; more is not a cursor (and the file may be a
    // device that never ends).
    let read = File::open(&path).and_then(|f| {
        let mut buf = Vec::new();
        f.take(64).read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    });
    let text = match read {
        Ok(s) => s,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            ::log::warn!(logger: log,
                "spool: cannot read {}: {e}; replaying every spooled reading",
                path.display()
            );
            return None;
        }
    };
    let parsed = text.trim().parse().ok();
    if parsed.is_none() {
        ::log::warn!(logger: log,
            "spool: {} is unreadable ({:?}); replaying every spooled reading",
            path.display(),
            text.chars().take(40).collect::<String>()
        );
    }
    parsed
}

#[derive(Debug)]
struct OpenSegment {
    first_seq: u64,
    reader: BufReader<File>,
    offset: u64,
}

/// Reads records forward from a position. Owned by one thread.
#[derive(Debug)]
pub struct SpoolReader {
    next_seq: u64,
    open: Option<OpenSegment>,
    line: Vec<u8>,
    seen_bad: BTreeSet<(u64, u64)>,
    log: Log,
}

/// The seq at the start of a spool line, without checking the rest.
fn leading_seq(line: &[u8]) -> Option<u64> {
    let end = line.iter().position(|&b| b == b' ')?;
    std::str::from_utf8(&line[..end]).ok()?.parse().ok()
}

impl SpoolReader {
    /// A reader whose next record is `seq` (or the first after it).
    #[must_use]
    pub fn new(seq: u64, log: Log) -> SpoolReader {
        SpoolReader {
            next_seq: seq,
            open: None,
            line: Vec::with_capacity(128),
            seen_bad: BTreeSet::new(),
            log,
        }
    }

    /// The seq the next record read will have (at least).
    #[must_use]
    pub fn position(&self) -> u64 {
        self.next_seq
    }

    /// Moves to `seq`, backwards (replay) or forwards.
    pub fn seek(&mut self, seq: u64) {
        if seq < self.next_seq {
            self.open = None;
        }
        self.next_seq = seq;
    }

    /// Appends up to `max` records to `out`, as many as are there now.
    /// Unreadable lines are logged once and skipped; returns how many were
    /// found for the first time.
    pub fn read(&mut self, spool: &Spool, max: usize, out: &mut Vec<Record>) -> io::Result<u64> {
        let start = out.len();
        let mut bad = 0;
        let mut missing_retry = None;
        while out.len() - start < max {
            let (first_seq, path, limit, sealed, next_first) = match spool.locate(self.next_seq) {
                Location::End => break,
                Location::Gap(first) => {
                    self.next_seq = first;
                    self.open = None;
                    continue;
                }
                Location::Segment {
                    next_first,
                    unreadable: true,
                    ..
                } => {
                    // Held back: what comes after it is still sent.
                    if self.skip_to(next_first) {
                        continue;
                    }
                    break;
                }
                Location::Segment {
                    first_seq,
                    path,
                    limit,
                    sealed,
                    next_first,
                    unreadable: false,
                } => (first_seq, path, limit, sealed, next_first),
            };
            if self.open.as_ref().map(|o| o.first_seq) != Some(first_seq) {
                match File::open(&path) {
                    Ok(f) => {
                        self.open = Some(OpenSegment {
                            first_seq,
                            reader: BufReader::with_capacity(64 * 1024, f),
                            offset: 0,
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        // Deleted since `locate` (cap): look again; if it is
                        // still listed, something else removed it.
                        if missing_retry == Some(first_seq) {
                            ::log::error!(logger: self.log,
                                "spool: {} disappeared; skipping its readings",
                                path.display()
                            );
                            if !self.skip_to(next_first) {
                                break;
                            }
                        }
                        missing_retry = Some(first_seq);
                        continue;
                    }
                    Err(e) => {
                        spool.hold(first_seq, &e);
                        continue;
                    }
                }
            }
            let mut open = self.open.take().expect("opened above");
            let mut at_end = false;
            let mut failed = false;
            while out.len() - start < max {
                if open.offset >= limit {
                    at_end = true;
                    break;
                }
                self.line.clear();
                let n = match (&mut open.reader)
                    .take(limit - open.offset)
                    .read_until(b'\n', &mut self.line)
                {
                    Ok(n) => n as u64,
                    Err(e) => {
                        // An I/O error inside a segment (a failing card):
                        // hold it back like one that cannot be opened.
                        spool.hold(first_seq, &e);
                        failed = true;
                        break;
                    }
                };
                if n == 0 {
                    at_end = true;
                    break;
                }
                let at = open.offset;
                open.offset += n;
                if leading_seq(&self.line).is_some_and(|s| s < self.next_seq) {
                    continue;
                }
                bad += self.take_line(first_seq, at, next_first, &path, out);
            }
            if !failed {
                self.open = Some(open);
            }
            if !at_end {
                break;
            }
            if !sealed || !self.skip_to(next_first) {
                break;
            }
        }
        Ok(bad)
    }

    /// Moves on to the segment starting at `next_first`; false if there is
    /// none.
    fn skip_to(&mut self, next_first: Option<u64>) -> bool {
        self.open = None;
        match next_first {
            Some(nf) => {
                self.next_seq = self.next_seq.max(nf);
                true
            }
            None => false,
        }
    }

    /// Takes the line just read (at byte `at` of the segment starting at
    /// `first_seq`) into `out` if it is the next record; returns 1 if it is
    /// a bad line seen for the first time.
    fn take_line(
        &mut self,
        first_seq: u64,
        at: u64,
        next_first: Option<u64>,
        path: &Path,
        out: &mut Vec<Record>,
    ) -> u64 {
        match Record::decode(&self.line) {
            // A record past the next segment's start is a leftover of a
            // failed append; that number belongs to the next segment's
            // reading.
            Ok(rec) if next_first.is_some_and(|nf| rec.seq >= nf) => {
                if self.seen_bad.insert((first_seq, at)) {
                    ::log::warn!(logger: self.log,
                        "spool: skipping reading {} in {} at byte {at}: it is past the next \
                         segment's start (left by a failed append)",
                        rec.seq,
                        path.display()
                    );
                    return 1;
                }
            }
            Ok(rec) => {
                if rec.seq >= self.next_seq {
                    self.next_seq = rec.seq + 1;
                    out.push(rec);
                }
            }
            Err(e) => {
                if self.seen_bad.insert((first_seq, at)) {
                    ::log::warn!(logger: self.log,
                        "spool: skipping unreadable line in {} at byte {at}: {e}",
                        path.display()
                    );
                    return 1;
                }
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot() -> BootId {
        BootId::parse("0123456789abcdef").unwrap()
    }

    fn stamp(i: u64) -> Stamp {
        Stamp {
            boot: boot(),
            mono_ms: 1000 * i,
            wall_ms: 1_700_000_000_000 + 1000 * i64::try_from(i).unwrap(),
            synced: true,
        }
    }

    fn reading(i: u64) -> Vec<NewReading> {
        vec![NewReading {
            metric: "t.ham".into(),
            value: format!("{i}"),
        }]
    }

    fn opts(dir: &Path, max: u64, seg: u64) -> SpoolOptions {
        SpoolOptions {
            dir: dir.to_owned(),
            max_bytes: max,
            segment_bytes: seg,
        }
    }

    fn read_all(spool: &Spool, from: u64) -> Vec<Record> {
        let mut r = SpoolReader::new(from, Log::memory());
        let mut out = Vec::new();
        r.read(spool, usize::MAX, &mut out).unwrap();
        out
    }

    fn values(recs: &[Record]) -> Vec<u64> {
        recs.iter().map(|r| r.value().parse().unwrap()).collect()
    }

    #[test]
    fn append_read_commit_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(opts(dir.path(), 1 << 20, 200), Log::memory()).unwrap();
        for i in 0..20 {
            assert_eq!(spool.append(&stamp(i), &reading(i)).unwrap(), i..i + 1);
        }
        let s = spool.stats();
        assert_eq!(s.next_seq, 20);
        assert!(s.segments > 3, "{s:?}");
        assert_eq!(values(&read_all(&spool, 0)), (0..20).collect::<Vec<_>>());
        assert_eq!(values(&read_all(&spool, 13)), (13..20).collect::<Vec<_>>());

        spool.commit(15);
        let s2 = spool.stats();
        assert!(s2.segments < s.segments);
        assert!(s2.bytes < s.bytes);
        // Everything from the cursor on is still there.
        assert_eq!(values(&read_all(&spool, 15)), (15..20).collect::<Vec<_>>());
        // Reading from before the cursor gives what is left (no panic).
        assert!(read_all(&spool, 0).len() >= 5);
    }

    #[test]
    fn survives_drop_without_close_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 300), Log::memory()).unwrap();
            for i in 0..10 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
            spool.commit(4);
            spool.persist_cursor().unwrap();
            spool.commit(6); // not persisted: as if killed before the next persist
            // The spool has no close step: dropping it only closes its file
            // descriptors, which is all the kernel does after kill -9.
            drop(spool);
        }
        let spool = Spool::open(opts(dir.path(), 1 << 20, 300), Log::memory()).unwrap();
        // The persisted cursor wins; segments deleted after it (because
        // 4 and 5 were delivered) are simply gone, and reading starts at the
        // oldest still there: nothing undelivered is missing.
        assert_eq!(spool.committed(), 4);
        let recs = read_all(&spool, spool.committed());
        let first = values(&recs)[0];
        assert!(first <= 6, "{first}");
        assert_eq!(values(&recs), (first..10).collect::<Vec<_>>());
        // New readings continue the sequence.
        assert_eq!(spool.append(&stamp(10), &reading(10)).unwrap(), 10..11);
        assert_eq!(
            values(&read_all(&spool, 4)),
            (first..11).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_second_process_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _a = Spool::open(opts(dir.path(), 1 << 20, 300), Log::memory()).unwrap();
        assert!(matches!(
            Spool::open(opts(dir.path(), 1 << 20, 300), Log::memory()),
            Err(SpoolError::Locked(_))
        ));
    }

    #[test]
    fn torn_tail_is_cut_logged_and_never_sent() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), Log::memory()).unwrap();
            for i in 0..5 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
        }
        // A crash in the middle of writing reading 5.
        let seg = dir.path().join(segment_name(0));
        let torn = Record::new(5, boot(), 5000, 1, true, "t.ham", "5").encode();
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&torn.as_bytes()[..20]).unwrap();
        drop(f);

        let log = Log::memory();
        let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), log.clone()).unwrap();
        assert!(
            log.lines().iter().any(|l| l.contains("torn tail")),
            "{:?}",
            log.lines()
        );
        assert_eq!(values(&read_all(&spool, 0)), vec![0, 1, 2, 3, 4]);
        assert_eq!(spool.append(&stamp(5), &reading(55)).unwrap(), 5..6);
        assert_eq!(values(&read_all(&spool, 0)), vec![0, 1, 2, 3, 4, 55]);
    }

    #[test]
    fn torn_tail_of_a_big_segment_is_found_from_its_end() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 24, 1 << 23), Log::memory()).unwrap();
            for batch in 0..30 {
                let readings: Vec<_> = (0..100).flat_map(|i| reading(batch * 100 + i)).collect();
                spool.append(&stamp(batch), &readings).unwrap();
            }
        }
        let seg = dir.path().join(segment_name(0));
        assert!(fs::metadata(&seg).unwrap().len() > 128 * 1024);
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(b"3000 0123456789abcdef 30000").unwrap();
        drop(f);
        let log = Log::memory();
        let spool = Spool::open(opts(dir.path(), 1 << 24, 1 << 23), log.clone()).unwrap();
        assert!(log.lines().iter().any(|l| l.contains("torn tail")));
        assert_eq!(
            spool.append(&stamp(3000), &reading(3000)).unwrap(),
            3000..3001
        );
        assert_eq!(read_all(&spool, 0).len(), 3001);
    }

    #[test]
    fn garbage_in_the_middle_is_skipped_once_with_a_log_line() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), Log::memory()).unwrap();
            for i in 0..3 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
        }
        // Zeroes where a line was, as ext4 can leave after power loss, then
        // more good lines from a second segment.
        let seg = dir.path().join(segment_name(0));
        let mut bytes = fs::read(&seg).unwrap();
        let first_nl = bytes.iter().position(|&b| b == b'\n').unwrap();
        for b in &mut bytes[first_nl + 1..first_nl + 30] {
            *b = 0;
        }
        fs::write(&seg, &bytes).unwrap();
        let log = Log::memory();
        let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), log.clone()).unwrap();
        let mut r = SpoolReader::new(0, log.clone());
        let mut out = Vec::new();
        assert_eq!(r.read(&spool, 100, &mut out).unwrap(), 1);
        assert_eq!(values(&out), vec![0, 2]);
        r.seek(0);
        out.clear();
        assert_eq!(
            r.read(&spool, 100, &mut out).unwrap(),
            0,
            "logged only once"
        );
        assert_eq!(values(&out), vec![0, 2]);
        assert_eq!(
            log.lines()
                .iter()
                .filter(|l| l.contains("unreadable line"))
                .count(),
            1
        );
    }

    #[test]
    fn cap_drops_oldest_whole_segments_and_counts_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let log = Log::memory();
        // Each line is ~60 bytes; 4 lines per segment; cap ~ 3 segments.
        let line_len = Record::new(10, boot(), 10_000, 1_700_000_010_000, true, "t.ham", "10")
            .encode()
            .len() as u64;
        let spool = Spool::open(
            opts(dir.path(), line_len * 12, line_len * 4 - 1),
            log.clone(),
        )
        .unwrap();
        for i in 10..50 {
            spool.append(&stamp(i), &reading(i)).unwrap();
            assert!(spool.stats().bytes <= line_len * 12 + 8);
        }
        let stats = spool.stats();
        let kept = read_all(&spool, 0);
        let kept_vals = values(&kept);
        // What is kept is the newest, contiguous, ending at the last.
        assert_eq!(*kept_vals.last().unwrap(), 49);
        let first_kept = kept_vals[0];
        assert_eq!(kept_vals, (first_kept..50).collect::<Vec<_>>());
        // Dropped + kept = written, exactly.
        assert_eq!(stats.dropped + kept.len() as u64, 40);
        assert_eq!(stats.committed, kept[0].seq);
        let logged: u64 = log
            .lines()
            .iter()
            .filter_map(|l| {
                l.split("dropped the ")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .sum();
        assert_eq!(logged, stats.dropped);
    }

    #[test]
    fn cap_counts_only_undelivered_readings() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(opts(dir.path(), 600, 150), Log::memory()).unwrap();
        for i in 0..6 {
            spool.append(&stamp(i), &reading(i)).unwrap();
        }
        // Readings 0..4 were delivered; commit them only up to 4, then keep
        // writing far past the cap.
        spool.commit(4);
        let before = spool.stats();
        for i in 6..40 {
            spool.append(&stamp(i), &reading(i)).unwrap();
        }
        let after = spool.stats();
        let kept = read_all(&spool, after.committed);
        assert_eq!(before.dropped, 0);
        assert_eq!(after.dropped + kept.len() as u64, 40 - 4);
    }

    #[test]
    fn cap_tells_never_sent_from_sent_and_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(opts(dir.path(), 4096, 256), Log::memory()).unwrap();
        let line = Record::new(10, boot(), 10_000, 1_700_000_010_000, true, "t.ham", "10")
            .encode()
            .len() as u64;
        // Readings 0..10 written to carbon (in the window, not committed),
        // 10..12 held in memory by the sender.
        for i in 0..12 {
            spool.append(&stamp(i), &reading(i)).unwrap();
        }
        spool.note_sender(10, 12);
        let cap_lines = 4096 / line;
        for i in 12..(12 + cap_lines + 20) {
            spool.append(&stamp(i), &reading(i)).unwrap();
        }
        let s = spool.stats();
        let gone = s.first_seq;
        assert!(gone > 12, "{s:?}");
        assert_eq!(s.dropped_unconfirmed, 10);
        assert_eq!(
            s.dropped,
            gone - 12,
            "in-memory readings are not dropped yet"
        );
        // The sender then loses the two it held: counted now.
        spool.note_discarded(2);
        assert_eq!(spool.stats().dropped, gone - 10);
    }

    #[test]
    fn reader_waits_for_durable_data_and_sees_new_segments() {
        let dir = tempfile::tempdir().unwrap();
        let spool = std::sync::Arc::new(
            Spool::open(opts(dir.path(), 1 << 20, 120), Log::memory()).unwrap(),
        );
        let mut r = SpoolReader::new(0, Log::memory());
        let mut out = Vec::new();
        r.read(&spool, 10, &mut out).unwrap();
        assert!(out.is_empty());
        assert!(!spool.wait_for(0, Duration::from_millis(10)));
        let writer = {
            let spool = spool.clone();
            std::thread::spawn(move || {
                for i in 0..60 {
                    spool.append(&stamp(i), &reading(i)).unwrap();
                }
            })
        };
        while out.len() < 60 {
            spool.wait_for(r.position(), Duration::from_millis(100));
            r.read(&spool, 7, &mut out).unwrap();
        }
        writer.join().unwrap();
        assert_eq!(values(&out), (0..60).collect::<Vec<_>>());
    }

    #[test]
    fn lost_cursor_replays_everything() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), Log::memory()).unwrap();
            for i in 0..4 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
            spool.commit(3);
            spool.persist_cursor().unwrap();
        }
        fs::write(dir.path().join(CURSOR), "\0\0garbage").unwrap();
        let log = Log::memory();
        let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), log.clone()).unwrap();
        assert_eq!(spool.committed(), 0);
        assert!(log.lines().iter().any(|l| l.contains("cursor")));
        assert_eq!(read_all(&spool, 0).len(), 4);
    }

    #[test]
    fn everything_delivered_leaves_an_empty_spool_that_continues_numbering() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 100), Log::memory()).unwrap();
            for i in 0..10 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
            spool.commit(10);
            spool.persist_cursor().unwrap();
        }
        let spool = Spool::open(opts(dir.path(), 1 << 20, 100), Log::memory()).unwrap();
        assert_eq!(spool.stats().segments, 0, "delivered segments are deleted");
        assert_eq!(spool.append(&stamp(10), &reading(10)).unwrap(), 10..11);
    }

    /// A tmpfs of `kib` KiB mounted for one test (the tests run as root, as
    /// CI does); unmounted when dropped.
    struct Tmpfs {
        dir: tempfile::TempDir,
    }

    impl Tmpfs {
        fn new(kib: u32) -> Tmpfs {
            let dir = tempfile::tempdir().unwrap();
            let ok = std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
                .arg(dir.path())
                .status()
                .expect("mount(8) runs (util-linux)");
            assert!(ok.success(), "mount a tmpfs (needs root)");
            Tmpfs { dir }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }
    }

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg(self.dir.path())
                .status();
        }
    }

    fn two_probes(i: u64) -> Vec<NewReading> {
        ["ham", "oven"]
            .iter()
            .map(|p| NewReading {
                metric: format!("t.{p}"),
                value: format!("{i}"),
            })
            .collect()
    }

    /// Every record from `from`, checked to have distinct, rising numbers.
    fn read_checked(spool: &Spool, from: u64) -> Vec<Record> {
        let recs = read_all(spool, from);
        for w in recs.windows(2) {
            assert!(w[0].seq < w[1].seq, "{:?} then {:?}", w[0], w[1]);
        }
        recs
    }

    fn logged(log: &Log, what: &str) -> bool {
        log.lines().iter().any(|l| l.contains(what))
    }

    #[test]
    fn disk_full_then_kill_then_space_freed_loses_and_reuses_nothing() {
        // The trial, many times over: 2 probes a tick on a 64 KiB
        // tmpfs that fills, the process dies (no close step), space comes
        // back, it restarts and reads on. Every reading whose append
        // returned Ok is read back exactly once, with the value it was
        // given; no failed one comes back under a number a later reading
        // was given.
        for trial in 0..6u64 {
            let fs = Tmpfs::new(64);
            let dir = fs.path().join("spool");
            let filler = fs.path().join("filler");
            // Leave ~8 KiB + a few lines free.
            fs::write(
                &filler,
                vec![b'x'; 56 * 1024 - 37 * usize::try_from(trial).unwrap()],
            )
            .unwrap();
            let mut acked: Vec<(String, String)> = Vec::new();
            let mut tick = 0u64;
            let mut failures = 0;
            {
                let spool = Spool::open(opts(&dir, 1 << 20, 1 << 20), Log::memory()).unwrap();
                while failures < 3 {
                    let batch = two_probes(tick);
                    match spool.append(&stamp(tick), &batch) {
                        Ok(r) => {
                            assert_eq!(r.end - r.start, 2);
                            acked.extend(batch.into_iter().map(|b| (b.metric, b.value)));
                        }
                        Err(_) => failures += 1,
                    }
                    tick += 1;
                }
                drop(spool); // kill -9: nothing more is written
            }
            fs::remove_file(&filler).unwrap();
            let log = Log::memory();
            let spool = Spool::open(opts(&dir, 1 << 20, 1 << 20), log.clone()).unwrap();
            for _ in 0..5 {
                let batch = two_probes(tick);
                spool.append(&stamp(tick), &batch).unwrap();
                acked.extend(batch.into_iter().map(|b| (b.metric, b.value)));
                tick += 1;
            }
            let got: Vec<(String, String)> = read_checked(&spool, 0)
                .iter()
                .map(|r| (r.metric().to_owned(), r.value().to_owned()))
                .collect();
            assert_eq!(
                got,
                acked,
                "trial {trial}: readings in {} / out {}; log {:?}",
                acked.len(),
                got.len(),
                log.lines()
            );
        }
    }

    #[test]
    fn leftovers_of_a_failed_append_and_an_empty_segment_reuse_no_number() {
        // The disk-full state the issue found, written by hand: readings 39
        // and 40 of a failed append left in the old segment, and the empty
        // segment the next try created.
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), Log::memory()).unwrap();
            for i in 0..39 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
        }
        let seg0 = dir.path().join(segment_name(0));
        let mut f = OpenOptions::new().append(true).open(&seg0).unwrap();
        for i in 39..41 {
            let line = Record::new(i, boot(), 1000 * i, 1, true, "t.ham", "lost").encode();
            f.write_all(line.as_bytes()).unwrap();
        }
        drop(f);
        fs::write(dir.path().join(segment_name(39)), "").unwrap();

        let log = Log::memory();
        let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), log.clone()).unwrap();
        assert!(logged(&log, "is empty"), "{:?}", log.lines());
        let r = spool.append(&stamp(41), &reading(4141)).unwrap();
        assert!(r.start >= 41, "number {} given twice", r.start);
        let recs = read_checked(&spool, 0);
        assert_eq!(
            recs.last().unwrap().value(),
            "4141",
            "the new reading is read"
        );
        assert_eq!(
            recs.len(),
            42,
            "39 good + 2 leftovers (numbers kept) + 1 new"
        );

        // The same leftovers before a non-empty next segment are cut, and
        // the reading that owns the number is the one read.
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), Log::memory()).unwrap();
            for i in 0..39 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
        }
        let seg0 = dir.path().join(segment_name(0));
        let mut f = OpenOptions::new().append(true).open(&seg0).unwrap();
        let mut next = String::new();
        for i in 39..41 {
            Record::new(i, boot(), 1000 * i, 1, true, "t.ham", "lost")
                .encode_into(&mut String::new());
            f.write_all(
                Record::new(i, boot(), 1, 1, true, "t.ham", "lost")
                    .encode()
                    .as_bytes(),
            )
            .unwrap();
            Record::new(i, boot(), 1, 1, true, "t.ham", &format!("{i}")).encode_into(&mut next);
        }
        drop(f);
        fs::write(dir.path().join(segment_name(39)), next).unwrap();
        let log = Log::memory();
        let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), log.clone()).unwrap();
        assert!(
            logged(&log, "belong to the next segment"),
            "{:?}",
            log.lines()
        );
        assert_eq!(
            values(&read_checked(&spool, 0)),
            (0..41).collect::<Vec<_>>()
        );
        assert_eq!(spool.append(&stamp(41), &reading(41)).unwrap(), 41..42);
    }

    #[test]
    fn a_cursor_past_the_data_is_reported_and_the_spool_sent_from_its_start() {
        for cursor in ["999999", "18446744073709551615"] {
            let dir = tempfile::tempdir().unwrap();
            {
                let spool = Spool::open(opts(dir.path(), 1 << 20, 1000), Log::memory()).unwrap();
                for i in 0..50 {
                    spool.append(&stamp(i), &reading(i)).unwrap();
                }
            }
            fs::write(dir.path().join(CURSOR), format!("{cursor}\n")).unwrap();
            let log = Log::memory();
            let spool = Spool::open(opts(dir.path(), 1 << 20, 1000), log.clone()).unwrap();
            assert!(
                logged(&log, "does not match this spool"),
                "{:?}",
                log.lines()
            );
            assert_eq!(spool.committed(), 0, "cursor {cursor}");
            assert_eq!(
                values(&read_checked(&spool, 0)),
                (0..50).collect::<Vec<_>>()
            );
            assert_eq!(spool.append(&stamp(50), &reading(50)).unwrap(), 50..51);
        }
        // With nothing spooled, an impossible cursor cannot wrap numbering.
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CURSOR), "18446744073709551615\n").unwrap();
        let log = Log::memory();
        let spool = Spool::open(opts(dir.path(), 1 << 20, 1000), log.clone()).unwrap();
        assert!(
            logged(&log, "not a believable position"),
            "{:?}",
            log.lines()
        );
        for i in 0..3 {
            spool.append(&stamp(i), &reading(i)).unwrap();
        }
        assert_eq!(
            values(&read_checked(&spool, spool.committed())),
            vec![0, 1, 2]
        );
    }

    /// Runs `f` on a thread that is `nobody` (uids and capabilities are per
    /// thread to the kernel; only libc's setuid changes them all), as the
    /// exporter runs under systemd.
    fn as_nobody<T: Send>(f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                rustix::thread::set_thread_uid(rustix::process::Uid::from_raw(65534))
                    .expect("drop this thread to nobody (needs root)");
                f()
            })
            .join()
            .unwrap()
        })
    }

    fn give_to_nobody(path: &Path) {
        std::os::unix::fs::chown(path, Some(65534), Some(65534)).unwrap();
    }

    #[test]
    fn an_unreadable_segment_is_held_back_and_the_rest_delivered() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        give_to_nobody(dir.path());
        let spool_dir = dir.path().join("spool");
        as_nobody(|| {
            let spool = Spool::open(opts(&spool_dir, 1 << 20, 200), Log::memory()).unwrap();
            for i in 0..12 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
        });
        // A middle segment becomes root's, mode 600.
        let mut firsts: Vec<u64> = fs::read_dir(&spool_dir)
            .unwrap()
            .filter_map(|e| parse_segment_name(e.unwrap().file_name().to_str()?))
            .collect();
        firsts.sort_unstable();
        assert!(firsts.len() >= 3, "{firsts:?}");
        let (a, b) = (firsts[1], firsts[2]);
        let middle = spool_dir.join(segment_name(a));
        fs::set_permissions(&middle, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&middle, Some(0), Some(0)).unwrap();
        let log = Log::memory();
        as_nobody(|| {
            let spool = Spool::open(opts(&spool_dir, 1 << 20, 200), log.clone()).unwrap();
            assert!(logged(&log, "holding back"), "{:?}", log.lines());
            let recs = read_checked(&spool, spool.committed());
            let rest: Vec<u64> = (0..a).chain(b..12).collect();
            assert_eq!(values(&recs), rest);
            let stats = spool.stats();
            assert_eq!(stats.held_back, b - a);
            assert!(
                stats.held_back_since_wall_ms.is_some(),
                "the age counts them"
            );
            // Everything else is delivered: the cursor stays at the held
            // segment, which is kept for the next start.
            spool.commit(stats.next_seq);
            spool.persist_cursor().unwrap();
            assert_eq!(spool.committed(), a);
            assert!(middle.exists());
            assert_eq!(
                spool.stats().segments,
                2,
                "the held one and the newest, which carries the numbering"
            );
        });
        // Readable again: the next start sends the held readings.
        give_to_nobody(&middle);
        let log = Log::memory();
        as_nobody(|| {
            let spool = Spool::open(opts(&spool_dir, 1 << 20, 200), log.clone()).unwrap();
            // Sent now, and nothing else was left to send.
            let got = values(&read_checked(&spool, spool.committed()));
            assert_eq!(
                got[..usize::try_from(b - a).unwrap()],
                (a..b).collect::<Vec<_>>()
            );
            assert_eq!(got.last(), Some(&11), "then a replay of the newest segment");
            assert_eq!(spool.stats().held_back, 0);
            assert_eq!(spool.append(&stamp(12), &reading(12)).unwrap(), 12..13);
        });
    }

    #[test]
    fn an_unreadable_last_segment_is_held_back_and_numbering_goes_past_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        give_to_nobody(dir.path());
        let spool_dir = dir.path().join("spool");
        as_nobody(|| {
            let spool = Spool::open(opts(&spool_dir, 1 << 20, 1 << 20), Log::memory()).unwrap();
            for i in 0..5 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
        });
        let seg = spool_dir.join(segment_name(0));
        fs::set_permissions(&seg, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&seg, Some(0), Some(0)).unwrap();
        let log = Log::memory();
        as_nobody(|| {
            let spool = Spool::open(opts(&spool_dir, 1 << 20, 1 << 20), log.clone()).unwrap();
            assert!(logged(&log, "holding back"), "{:?}", log.lines());
            let r = spool.append(&stamp(5), &reading(55)).unwrap();
            assert!(
                r.start >= 5,
                "{r:?} may be a number the unreadable file holds"
            );
            assert_eq!(values(&read_checked(&spool, 0)), vec![55]);
        });
    }

    #[test]
    fn what_is_not_a_segment_or_a_lock_is_set_aside_and_start_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(opts(dir.path(), 1 << 20, 1 << 20), Log::memory()).unwrap();
            for i in 0..3 {
                spool.append(&stamp(i), &reading(i)).unwrap();
            }
        }
        fs::remove_file(dir.path().join("lock")).unwrap();
        fs::create_dir(dir.path().join("lock")).unwrap();
        fs::create_dir(dir.path().join(segment_name(7))).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(segment_name(9))).unwrap();
        fs::write(dir.path().join(segment_name(2)), "").unwrap();

        let log = Log::memory();
        let (tx, rx) = std::sync::mpsc::channel();
        let (d, l) = (dir.path().to_owned(), log.clone());
        std::thread::spawn(move || {
            let _ = tx.send(Spool::open(opts(&d, 1 << 20, 1 << 20), l));
        });
        let spool = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("open does not hang on a segment that is /dev/zero")
            .unwrap();
        for want in [
            "lock is a directory",
            "is a directory, not a segment",
            "is a symbolic link, not a segment",
            "is empty",
        ] {
            assert!(logged(&log, want), "{want}: {:?}", log.lines());
        }
        assert!(dir.path().join("lock.set-aside").is_dir());
        assert_eq!(
            spool.stats().set_aside,
            3,
            "the lock, the directory and the symlink are counted"
        );
        assert!(
            dir.path()
                .join(format!("{}.set-aside", segment_name(7)))
                .is_dir()
        );
        assert_eq!(values(&read_checked(&spool, 0)), vec![0, 1, 2]);
        let r = spool.append(&stamp(3), &reading(3)).unwrap();
        assert!(
            r.start >= 10,
            "{r:?}: past every name that was in the spool"
        );
        assert_eq!(values(&read_checked(&spool, 0)), vec![0, 1, 2, 3]);
    }
}
