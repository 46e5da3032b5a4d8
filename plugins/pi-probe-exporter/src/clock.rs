//! Time, and whether to trust it.
//!
//! A Raspberry Pi has no battery-backed clock: until NTP syncs, the wall
//! clock is whatever the last boot saved, or the image's build date. Carbon
//! drops points stamped in the future and files points stamped in the past
//! at the wrong place, so a reading taken while the clock is unsynchronised
//! is kept with its *boot-time* clock (`CLOCK_BOOTTIME`-like milliseconds,
//! which counts steadily from boot) and restamped once the clock is synced:
//! `true wall = reading's boot time + (wall now - boot time now)`.
//!
//! Whether the kernel clock is synced is what `adjtimex(2)` says (the
//! `STA_UNSYNC` status bit, or a `TIME_ERROR` return); NTP daemons
//! (systemd-timesyncd, chrony, ntpd) clear it when they have synced.
//! [`SyncSource`] makes that injectable so tests can play
//! "unsynchronised, then synchronised".

use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A short stable id of one boot of the machine (16 lowercase hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BootId([u8; 16]);

impl BootId {
    /// Parses 16 lowercase hex digits.
    #[must_use]
    pub fn parse(s: &str) -> Option<BootId> {
        BootId::from_bytes(s.as_bytes())
    }

    /// Parses 16 lowercase hex digits given as bytes.
    #[must_use]
    pub fn from_bytes(b: &[u8]) -> Option<BootId> {
        let arr: [u8; 16] = b.try_into().ok()?;
        arr.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .then_some(BootId(arr))
    }

    /// Derives a boot id from the kernel's UUID (`/proc/sys/kernel/random/boot_id`).
    #[must_use]
    pub fn from_uuid(uuid: &str) -> Option<BootId> {
        let hex: String = uuid
            .trim()
            .chars()
            .filter(char::is_ascii_hexdigit)
            .map(|c| c.to_ascii_lowercase())
            .take(16)
            .collect();
        BootId::parse(&hex)
    }

    /// The id as written in the spool.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits get in (see `from_bytes`).
        std::str::from_utf8(&self.0).unwrap_or("????????????????")
    }
}

impl fmt::Display for BootId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One look at the clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// Wall clock, milliseconds since the Unix epoch (possibly wrong).
    pub wall_ms: i64,
    /// Milliseconds since boot; never jumps.
    pub mono_ms: u64,
    /// Whether the wall clock is known to be right.
    pub synced: bool,
}

impl ClockReading {
    /// `wall - mono`: add to a boot-time stamp to get a wall-clock stamp.
    #[must_use]
    pub fn offset_ms(&self) -> i64 {
        self.wall_ms - i64::try_from(self.mono_ms).unwrap_or(i64::MAX)
    }
}

/// A source of time. `Send + Sync` because the reader, the sender and the
/// metrics responder all ask it.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Reads wall time, boot time and sync state together.
    fn now(&self) -> ClockReading;
    /// This boot's id.
    fn boot_id(&self) -> BootId;
}

/// Where the "is the clock synced" answer comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncSource {
    /// The kernel, through `adjtimex(2)`.
    Kernel,
    /// Always synced (`--assume-clock-synced`: a board with a real-time
    /// clock, or a container where adjtimex says nothing useful).
    Assume,
    /// Synced while this file exists (`--clock-sync-file`, for tests).
    File(PathBuf),
}

/// The real clocks.
#[derive(Debug)]
pub struct SystemClock {
    anchor: Instant,
    anchor_mono_ms: u64,
    boot: BootId,
    sync: SyncSource,
    unsynced_offset_ms: i64,
}

impl SystemClock {
    /// Real clocks. `unsynced_offset_ms` is added to the wall clock while it
    /// is unsynchronised (0 in production; tests use it to fake a Pi that
    /// booted with a stale clock).
    #[must_use]
    pub fn new(sync: SyncSource, unsynced_offset_ms: i64) -> SystemClock {
        let anchor = Instant::now();
        let anchor_mono_ms = read_uptime_ms().unwrap_or(0);
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .and_then(|s| BootId::from_uuid(&s))
            .unwrap_or_else(fallback_boot_id);
        SystemClock {
            anchor,
            anchor_mono_ms,
            boot,
            sync,
            unsynced_offset_ms,
        }
    }

    fn synced(&self) -> bool {
        match &self.sync {
            SyncSource::Kernel => kernel_clock_synced().unwrap_or(false),
            SyncSource::Assume => true,
            SyncSource::File(path) => path.exists(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> ClockReading {
        let synced = self.synced();
        let elapsed = u64::try_from(self.anchor.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut wall_ms = wall_now_ms();
        if !synced {
            wall_ms += self.unsynced_offset_ms;
        }
        ClockReading {
            wall_ms,
            mono_ms: self.anchor_mono_ms.saturating_add(elapsed),
            synced,
        }
    }

    fn boot_id(&self) -> BootId {
        self.boot
    }
}

/// The system wall clock in milliseconds since the epoch.
#[must_use]
pub fn wall_now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// `/proc/uptime`'s first field (`CLOCK_BOOTTIME`, 10 ms resolution).
fn read_uptime_ms() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/uptime").ok()?;
    let first = s.split_whitespace().next()?;
    let (secs, frac) = first.split_once('.').unwrap_or((first, "0"));
    let secs: u64 = secs.parse().ok()?;
    let frac = format!("{frac:0<3}");
    let ms: u64 = frac.get(..3)?.parse().ok()?;
    Some(secs * 1000 + ms)
}

fn fallback_boot_id() -> BootId {
    // Without /proc every start looks like a new boot: unsynced readings of
    // an earlier run can then not be restamped and are dropped, counted.
    let seed = crate::crc::crc32(format!("{}-{}", wall_now_ms(), std::process::id()).as_bytes());
    BootId::parse(&format!("ffffffff{seed:08x}")).expect("16 hex digits")
}

/// `TIME_ERROR` from `<sys/timex.h>`: the clock is not synchronised.
const TIME_ERROR: libc::c_int = 5;
/// `STA_UNSYNC` status bit.
const STA_UNSYNC: libc::c_int = 0x0040;

/// Asks the kernel whether its clock is synchronised.
#[allow(unsafe_code, reason = "adjtimex(2) has no safe wrapper in std")]
pub fn kernel_clock_synced() -> std::io::Result<bool> {
    // SAFETY: `timex` is a plain C struct of integers, for which all-zero
    // bytes are a valid value; `modes == 0` makes adjtimex read-only (it
    // fills the struct and changes nothing). The pointer is to a live,
    // exclusively borrowed local for the duration of the call.
    let (rc, status) = unsafe {
        let mut tx: libc::timex = std::mem::zeroed();
        let rc = libc::adjtimex(&raw mut tx);
        (rc, tx.status)
    };
    if rc == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(rc != TIME_ERROR && status & STA_UNSYNC == 0)
}

/// A clock tests set by hand.
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<(ClockReading, BootId)>,
}

impl ManualClock {
    /// Starts at the given reading, in boot `boot`.
    #[must_use]
    pub fn new(reading: ClockReading, boot: BootId) -> ManualClock {
        ManualClock {
            state: Mutex::new((reading, boot)),
        }
    }

    /// Moves both clocks forward.
    pub fn advance_ms(&self, ms: u64) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.0.mono_ms += ms;
        s.0.wall_ms += i64::try_from(ms).unwrap_or(i64::MAX);
    }

    /// NTP arrived: the wall clock jumps to `wall_ms` and is synced.
    pub fn sync_to(&self, wall_ms: i64) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.0.wall_ms = wall_ms;
        s.0.synced = true;
    }

    /// A reboot: boot time restarts, the wall clock goes wherever it goes.
    pub fn reboot(&self, boot: BootId, reading: ClockReading) {
        let mut s = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *s = (reading, boot);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> ClockReading {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
    }

    fn boot_id(&self) -> BootId {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_id_from_kernel_uuid() {
        let b = BootId::from_uuid("d92b9439-653e-4587-9cda-3aeb277fbccd\n").unwrap();
        assert_eq!(b.as_str(), "d92b9439653e4587");
        assert!(BootId::parse("xyz").is_none());
        assert!(BootId::parse("D92B9439653E4587").is_none());
    }

    #[test]
    fn system_clock_reads_something_sane() {
        let c = SystemClock::new(SyncSource::Assume, 0);
        let a = c.now();
        assert!(a.synced);
        assert!(a.wall_ms > 1_600_000_000_000);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = c.now();
        assert!(b.mono_ms >= a.mono_ms + 15);
        // The kernel answers (this machine may or may not be synced).
        assert!(kernel_clock_synced().is_ok());
    }

    #[test]
    fn sync_file_and_unsynced_offset() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("synced");
        let c = SystemClock::new(SyncSource::File(flag.clone()), -86_400_000);
        let before = c.now();
        assert!(!before.synced);
        assert!(before.wall_ms < wall_now_ms() - 86_000_000);
        std::fs::write(&flag, "").unwrap();
        let after = c.now();
        assert!(after.synced);
        assert!((after.wall_ms - wall_now_ms()).abs() < 5_000);
    }
}
