//! A synthetic 1-wire tree for demos and tests.
//!
//! Probes are written the way the kernel shows them: a directory
//! `28-<serial>` holding `w1_slave` (a realistic scratchpad with a correct
//! Dallas CRC-8, the kernel's `YES`/`NO` verdict, and `t=`), and with
//! `--format temperature`/`both` the newer `temperature` file. Values are
//! quantised to the DS18B20's 1/16 °C steps and converted to millidegrees
//! the way the kernel does (`raw * 1000 / 16`, truncating).
//!
//! Every file is written atomically (a temporary file, then `rename`), and
//! a new probe directory appears whole (built under a dot-name, then
//! renamed), so a reader never sees half a file — except for
//! [`Corruption::Truncated`], which writes half a file on purpose.
//!
//! Scenarios (ids are fixed so a config can name them):
//!
//! | scenario | probe id          | what it does |
//! |----------|-------------------|--------------|
//! | `ham`    | `28-0316a2b4c5ff` | from the fridge (3.9 °C / 39 °F) to 61.1 °C / 142 °F over 4 simulated hours, then holds |
//! | `oven`   | `28-0316a2b4c6aa` | room to a 180 °C oven (10-minute time constant); saturates at 125 °C / 257 °F after ~11 simulated minutes |
//! | `crc`    | `28-00000000c2c0` | ~21.5 °C; in every 4th real second the CRC fails, every 10th the file is truncated, every 13th it lacks `t=` |
//! | `glitch` | `28-0000000085c0` | ~19 °C; every 15th real second it reads the 85 °C power-on reset value |
//! | `vanish` | `28-00000000dead` | ~20 °C; present for 20 real seconds, gone for 10 |
//! | `all`    |                   | ham, oven, crc and glitch together |

use std::fmt::{self, Write as _};
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::crc::crc8_maxim;
use crate::log::Log;
use crate::reading::{Unit, format_celsius};
use crate::shutdown::Shutdown;

/// The ham probe's id (matches the example config).
pub const HAM_ID: &str = "28-0316a2b4c5ff";
/// The oven probe's id (matches the example config).
pub const OVEN_ID: &str = "28-0316a2b4c6aa";
/// The probe with CRC failures and torn files.
pub const CRC_ID: &str = "28-00000000c2c0";
/// The probe with power-on reset glitches.
pub const GLITCH_ID: &str = "28-0000000085c0";
/// The probe that comes and goes.
pub const VANISH_ID: &str = "28-00000000dead";

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The ham heating curve.
    Ham,
    /// The oven heating and saturating.
    Oven,
    /// CRC failures, truncated files, missing `t=`.
    Crc,
    /// 85 °C power-on reset glitches.
    Glitch,
    /// A probe that vanishes and comes back.
    Vanish,
    /// Ham, oven, crc and glitch.
    All,
}

impl Scenario {
    /// Parses a scenario name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Scenario> {
        Some(match s {
            "ham" => Scenario::Ham,
            "oven" => Scenario::Oven,
            "crc" => Scenario::Crc,
            "glitch" => Scenario::Glitch,
            "vanish" => Scenario::Vanish,
            "all" => Scenario::All,
            _ => return None,
        })
    }

    fn includes(self, other: Scenario) -> bool {
        self == other
            || (self == Scenario::All
                && matches!(
                    other,
                    Scenario::Ham | Scenario::Oven | Scenario::Crc | Scenario::Glitch
                ))
    }
}

/// Which files a probe directory gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// Only `w1_slave` (older kernels).
    #[default]
    W1Slave,
    /// Only `temperature`.
    Temperature,
    /// Both, as newer kernels have (the exporter prefers `temperature`).
    Both,
}

impl FileFormat {
    /// Parses `w1_slave`, `temperature` or `both`.
    #[must_use]
    pub fn parse(s: &str) -> Option<FileFormat> {
        Some(match s {
            "w1_slave" => FileFormat::W1Slave,
            "temperature" => FileFormat::Temperature,
            "both" => FileFormat::Both,
            _ => return None,
        })
    }
}

/// Deliberately bad file contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// Half a file, written non-atomically.
    Truncated,
    /// A `w1_slave` whose second line has no `t=`.
    NoT,
    /// Random-looking bytes.
    Garbage,
    /// An empty file.
    Empty,
}

impl Corruption {
    /// Parses `truncated`, `no-t`, `garbage`, `empty`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Corruption> {
        Some(match s {
            "truncated" => Corruption::Truncated,
            "no-t" => Corruption::NoT,
            "garbage" => Corruption::Garbage,
            "empty" => Corruption::Empty,
            _ => return None,
        })
    }
}

/// The sensor's raw register value for a temperature (1/16 °C steps).
#[must_use]
pub fn raw_from_celsius(celsius: f64) -> i16 {
    let raw = (celsius * 16.0).round().clamp(-2048.0, 2047.0);
    #[allow(
        clippy::cast_possible_truncation,
        reason = "clamped to the 12-bit range"
    )]
    let raw = raw as i16;
    raw
}

/// What the kernel prints for a raw value: `raw * 1000 / 16`.
#[must_use]
pub fn millis_from_raw(raw: i16) -> i32 {
    i32::from(raw) * 1000 / 16
}

/// The raw value nearest to millidegrees (for a scratchpad to match `t=`).
#[must_use]
pub fn raw_from_millis(millis: i32) -> i16 {
    // Not clamped to the sensor's 12 bits: an out-of-range reading is
    // simulated as a register that says so, as `t=` does.
    let raw = (f64::from(millis) * 16.0 / 1000.0)
        .round()
        .clamp(f64::from(i16::MIN), f64::from(i16::MAX));
    #[allow(clippy::cast_possible_truncation, reason = "clamped to i16")]
    let raw = raw as i16;
    raw
}

/// A `w1_slave` file as the kernel writes it.
#[must_use]
pub fn w1_slave_contents(raw: i16, millis: i32, crc_ok: bool) -> String {
    let [lsb, msb] = raw.to_le_bytes();
    // TH, TL, config (12-bit), reserved, reserved, reserved.
    let mut pad = [lsb, msb, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0];
    pad[8] = crc8_maxim(&pad[..8]);
    if !crc_ok {
        pad[8] ^= 0x5a; // what a bit error on the bus looks like to the kernel
    }
    let hex = pad.iter().fold(String::with_capacity(27), |mut s, b| {
        let _ = write!(s, "{b:02x} ");
        s
    });
    format!(
        "{hex}: crc={:02x} {}\n{hex}t={millis}\n",
        pad[8],
        if crc_ok { "YES" } else { "NO" }
    )
}

/// Writes `bytes` to `path` through a temporary file and `rename`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("no file name"))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
    }
    fs::rename(&tmp, path)
}

fn probe_dir(w1_dir: &Path, id: &str) -> io::Result<PathBuf> {
    let dir = w1_dir.join(id);
    if dir.is_dir() {
        return Ok(dir);
    }
    // Build it under a dot-name, then rename: it appears whole.
    fs::create_dir_all(w1_dir)?;
    let tmp = w1_dir.join(format!(".{id}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir(&tmp)?;
    Ok(tmp)
}

fn finish_dir(w1_dir: &Path, id: &str, dir: &Path) -> io::Result<()> {
    let final_dir = w1_dir.join(id);
    if dir != final_dir {
        fs::rename(dir, &final_dir)?;
    }
    Ok(())
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes a probe reading `millis` (exactly, as `t=`), in `format`.
pub fn write_probe(
    w1_dir: &Path,
    id: &str,
    millis: i32,
    crc_ok: bool,
    format: FileFormat,
) -> io::Result<()> {
    let dir = probe_dir(w1_dir, id)?;
    let raw = raw_from_millis(millis);
    let w1 = dir.join("w1_slave");
    let t = dir.join("temperature");
    if matches!(format, FileFormat::W1Slave | FileFormat::Both) {
        write_atomic(&w1, w1_slave_contents(raw, millis, crc_ok).as_bytes())?;
    } else {
        remove_if_exists(&w1)?;
    }
    if matches!(format, FileFormat::Temperature | FileFormat::Both) {
        // The kernel fails the read when the CRC fails; a regular file
        // cannot, so a CRC failure here is an empty file (malformed).
        let text = if crc_ok {
            format!("{millis}\n")
        } else {
            String::new()
        };
        write_atomic(&t, text.as_bytes())?;
    } else {
        remove_if_exists(&t)?;
    }
    finish_dir(w1_dir, id, &dir)
}

/// Writes a fixed reading in `w1_slave` format: `millis` exactly as `t=`.
pub fn set_probe_millis(w1_dir: &Path, id: &str, millis: i32, crc_ok: bool) -> io::Result<()> {
    write_probe(w1_dir, id, millis, crc_ok, FileFormat::W1Slave)
}

/// Writes a fixed temperature, quantised as the sensor would
/// (57.2 °C reads as 57187). Returns the millidegrees written.
pub fn set_probe_celsius(
    w1_dir: &Path,
    id: &str,
    celsius: f64,
    crc_ok: bool,
    format: FileFormat,
) -> io::Result<i32> {
    let millis = millis_from_raw(raw_from_celsius(celsius));
    write_probe(w1_dir, id, millis, crc_ok, format)?;
    Ok(millis)
}

/// Writes a deliberately bad `w1_slave` (and removes `temperature`).
pub fn corrupt_probe(w1_dir: &Path, id: &str, kind: Corruption) -> io::Result<()> {
    let dir = probe_dir(w1_dir, id)?;
    remove_if_exists(&dir.join("temperature"))?;
    let good = w1_slave_contents(raw_from_celsius(21.5), 21_500, true);
    let path = dir.join("w1_slave");
    match kind {
        Corruption::Truncated => {
            // Non-atomic on purpose: truncate, then write part of it.
            let cut = good.len() * 2 / 3;
            let mut f = fs::File::create(&path)?;
            f.write_all(&good.as_bytes()[..cut])?;
        }
        Corruption::NoT => {
            let first = good.lines().next().unwrap_or_default();
            let hex = first.split(':').next().unwrap_or_default();
            write_atomic(&path, format!("{first}\n{hex}\n").as_bytes())?;
        }
        Corruption::Garbage => {
            write_atomic(&path, b"\x8f\x00\xffw1 bus master reset\x01\n\x13\n")?;
        }
        Corruption::Empty => write_atomic(&path, b"")?,
    }
    finish_dir(w1_dir, id, &dir)
}

/// Removes a probe, as if unplugged (the directory disappears at once).
pub fn remove_probe(w1_dir: &Path, id: &str) -> io::Result<()> {
    let dir = w1_dir.join(id);
    if !dir.exists() {
        return Ok(());
    }
    let gone = w1_dir.join(format!(".{id}.gone-{}", std::process::id()));
    let _ = fs::remove_dir_all(&gone);
    fs::rename(&dir, &gone)?;
    fs::remove_dir_all(&gone)
}

/// The ham's core temperature after `sim` of cooking, °C.
#[must_use]
pub fn ham_celsius(sim: Duration) -> f64 {
    const FRIDGE: f64 = 3.9; // 39 °F
    const DONE: f64 = 61.111; // 142 °F
    const HOURS: f64 = 4.0;
    const TAU: f64 = 2.0;
    let h = sim.as_secs_f64() / 3600.0;
    if h >= HOURS {
        return DONE;
    }
    let shape = (1.0 - (-h / TAU).exp()) / (1.0 - (-HOURS / TAU).exp());
    FRIDGE + (DONE - FRIDGE) * shape
}

/// The oven's air temperature after `sim`, °C (not limited to the sensor).
#[must_use]
pub fn oven_celsius(sim: Duration) -> f64 {
    const ROOM: f64 = 20.0;
    const SET: f64 = 180.0;
    SET - (SET - ROOM) * (-sim.as_secs_f64() / 600.0).exp()
}

/// What one probe shows in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFrame {
    /// A reading.
    Reading {
        /// Millidegrees as `t=`.
        millis: i32,
        /// Whether the CRC passes.
        crc_ok: bool,
    },
    /// A bad file.
    Corrupt(Corruption),
    /// No probe directory.
    Absent,
}

fn sensor_millis(celsius: f64) -> i32 {
    // The DS18B20 cannot report beyond its range: it sits at the limit.
    millis_from_raw(raw_from_celsius(celsius.clamp(-55.0, 125.0)))
}

/// The probes of `scenario` at simulated time `sim`, in real second `i`
/// of the run (the failure patterns follow `i`).
#[must_use]
pub fn frame(scenario: Scenario, sim: Duration, i: u64) -> Vec<(&'static str, ProbeFrame)> {
    let mut out = Vec::new();
    let wave = (sim.as_secs_f64() / 60.0).sin();
    let ok = |millis| ProbeFrame::Reading {
        millis,
        crc_ok: true,
    };
    if scenario.includes(Scenario::Ham) {
        out.push((HAM_ID, ok(sensor_millis(ham_celsius(sim)))));
    }
    if scenario.includes(Scenario::Oven) {
        out.push((OVEN_ID, ok(sensor_millis(oven_celsius(sim)))));
    }
    if scenario.includes(Scenario::Crc) {
        let millis = sensor_millis(21.5 + 0.5 * wave);
        let f = if i % 10 == 7 {
            ProbeFrame::Corrupt(Corruption::Truncated)
        } else if i % 13 == 12 {
            ProbeFrame::Corrupt(Corruption::NoT)
        } else if i % 4 == 3 {
            ProbeFrame::Reading {
                millis,
                crc_ok: false,
            }
        } else {
            ok(millis)
        };
        out.push((CRC_ID, f));
    }
    if scenario.includes(Scenario::Glitch) {
        let f = if i % 15 == 14 {
            ok(crate::reading::RESET_MILLI_C)
        } else {
            ok(sensor_millis(19.0 + 0.25 * wave))
        };
        out.push((GLITCH_ID, f));
    }
    if scenario.includes(Scenario::Vanish) {
        let f = if i % 30 < 20 {
            ok(sensor_millis(20.0 + 0.25 * wave))
        } else {
            ProbeFrame::Absent
        };
        out.push((VANISH_ID, f));
    }
    out
}

/// Writes one frame to `w1_dir`.
pub fn apply_frame(
    w1_dir: &Path,
    frame: &[(&str, ProbeFrame)],
    format: FileFormat,
) -> io::Result<()> {
    for (id, f) in frame {
        match *f {
            ProbeFrame::Reading { millis, crc_ok } => {
                write_probe(w1_dir, id, millis, crc_ok, format)?;
            }
            ProbeFrame::Corrupt(kind) => corrupt_probe(w1_dir, id, kind)?,
            ProbeFrame::Absent => remove_probe(w1_dir, id)?,
        }
    }
    Ok(())
}

/// How to run a scenario.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// The tree to write (created if missing).
    pub w1_dir: PathBuf,
    /// What to simulate.
    pub scenario: Scenario,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Real time between writes.
    pub interval: Duration,
    /// Which files to write.
    pub format: FileFormat,
    /// Stop after this long (real time).
    pub run_for: Option<Duration>,
    /// Write one frame and stop.
    pub once: bool,
    /// Simulated time of the first frame.
    pub start_at: Duration,
}

struct FrameLine<'a>(&'a [(&'static str, ProbeFrame)], Duration);

impl fmt::Display for FrameLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.1.as_secs();
        write!(
            f,
            "sim {:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        for (id, frame) in self.0 {
            match frame {
                ProbeFrame::Reading { millis, crc_ok } => write!(
                    f,
                    "  {id} {} °C ({} °F){}",
                    format_celsius(*millis),
                    Unit::Fahrenheit.format(*millis),
                    if *crc_ok { "" } else { " crc NO" }
                )?,
                ProbeFrame::Corrupt(kind) => write!(f, "  {id} {kind:?}")?,
                ProbeFrame::Absent => write!(f, "  {id} absent")?,
            }
        }
        Ok(())
    }
}

/// Writes frames until `run_for`, `once` or shutdown.
pub fn run_scenario(opts: &ScenarioOptions, log: &Log, shutdown: &Shutdown) -> io::Result<()> {
    fs::create_dir_all(&opts.w1_dir)?;
    let start = Instant::now();
    let mut next = start;
    loop {
        let elapsed = start.elapsed();
        let sim = opts.start_at + elapsed.mul_f64(opts.speed.max(0.0));
        // Failures follow whole real seconds, so a reader polling once a
        // second sees each of them whatever the write interval.
        let f = frame(opts.scenario, sim, elapsed.as_secs());
        apply_frame(&opts.w1_dir, &f, opts.format)?;
        ::log::debug!(logger: log, "{}", FrameLine(&f, sim));
        if opts.once {
            return Ok(());
        }
        next += opts.interval;
        if opts.run_for.is_some_and(|d| next.duration_since(start) > d) {
            return Ok(());
        }
        if shutdown.sleep_until(next) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::w1::{ParseError, ReadError, parse_w1_slave, read_probe};

    #[test]
    fn scratchpads_look_like_the_kernels() {
        assert_eq!(
            w1_slave_contents(0x0172, 23_125, true),
            "72 01 4b 46 7f ff 0c 10 c6 : crc=c6 YES\n72 01 4b 46 7f ff 0c 10 c6 t=23125\n"
        );
        let reset = w1_slave_contents(raw_from_millis(85_000), 85_000, true);
        assert!(
            reset.starts_with("50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n"),
            "{reset}"
        );
        // The exporter's parser agrees.
        assert_eq!(parse_w1_slave(reset.as_bytes()), Ok(85_000));
        let bad = w1_slave_contents(0x0172, 23_125, false);
        assert_eq!(parse_w1_slave(bad.as_bytes()), Err(ParseError::CrcFailed));
    }

    #[test]
    fn quantised_like_the_sensor() {
        assert_eq!(millis_from_raw(raw_from_celsius(57.2)), 57_187);
        assert_eq!(millis_from_raw(raw_from_celsius(-10.125)), -10_125);
        assert_eq!(millis_from_raw(raw_from_celsius(-0.0625)), -62);
        assert_eq!(millis_from_raw(raw_from_celsius(125.0)), 125_000);
    }

    #[test]
    fn set_and_corrupt_and_remove() {
        let d = tempfile::tempdir().unwrap();
        let w = d.path();
        assert_eq!(
            set_probe_celsius(w, HAM_ID, 57.2, true, FileFormat::Both).unwrap(),
            57_187
        );
        assert_eq!(read_probe(w, HAM_ID).unwrap(), 57_187);
        assert_eq!(
            fs::read_to_string(w.join(HAM_ID).join("temperature")).unwrap(),
            "57187\n"
        );
        set_probe_millis(w, HAM_ID, 20_000, true).unwrap();
        assert!(!w.join(HAM_ID).join("temperature").exists());
        assert_eq!(read_probe(w, HAM_ID).unwrap(), 20_000);
        for kind in [
            Corruption::Truncated,
            Corruption::NoT,
            Corruption::Garbage,
            Corruption::Empty,
        ] {
            corrupt_probe(w, HAM_ID, kind).unwrap();
            assert!(
                matches!(read_probe(w, HAM_ID), Err(ReadError::Parse { .. })),
                "{kind:?}"
            );
        }
        remove_probe(w, HAM_ID).unwrap();
        assert!(crate::w1::discover(w).unwrap().is_empty());
        // No temporary leftovers are visible as probes.
        assert!(fs::read_dir(w).unwrap().next().is_none());
    }

    #[test]
    fn curves_do_what_the_story_says() {
        let h = |s| ham_celsius(Duration::from_secs(s));
        assert!((h(0) - 3.9).abs() < 0.01);
        assert!((h(4 * 3600) - 61.111).abs() < 0.01);
        assert!(h(3600) < h(7200));
        assert_eq!(
            Unit::Fahrenheit.format(sensor_millis(h(5 * 3600))),
            "142.0250"
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_owned()
        );
        // The oven saturates at 257 °F a little after 10 simulated minutes.
        assert!(sensor_millis(oven_celsius(Duration::from_mins(10))) < 125_000);
        assert_eq!(
            sensor_millis(oven_celsius(Duration::from_secs(700))),
            125_000
        );
        assert_eq!(Unit::Fahrenheit.format(125_000), "257");
    }

    #[test]
    fn frames_cycle_through_the_failures() {
        let frames: Vec<_> = (0..30)
            .map(|i| frame(Scenario::All, Duration::from_secs(i), i))
            .collect();
        assert!(frames.iter().all(|f| f.len() == 4));
        let crc_of = |i: usize| frames[i].iter().find(|(id, _)| *id == CRC_ID).unwrap().1;
        assert!(matches!(
            crc_of(3),
            ProbeFrame::Reading { crc_ok: false, .. }
        ));
        assert_eq!(crc_of(7), ProbeFrame::Corrupt(Corruption::Truncated));
        assert_eq!(crc_of(12), ProbeFrame::Corrupt(Corruption::NoT));
        let glitch_of = |i: usize| frames[i].iter().find(|(id, _)| *id == GLITCH_ID).unwrap().1;
        assert_eq!(
            glitch_of(14),
            ProbeFrame::Reading {
                millis: 85_000,
                crc_ok: true
            }
        );
        let v = frame(Scenario::Vanish, Duration::ZERO, 25);
        assert_eq!(v, vec![(VANISH_ID, ProbeFrame::Absent)]);
    }

    #[test]
    fn run_once_writes_a_tree() {
        let d = tempfile::tempdir().unwrap();
        let opts = ScenarioOptions {
            w1_dir: d.path().join("w1"),
            scenario: Scenario::All,
            speed: 60.0,
            interval: Duration::from_millis(10),
            format: FileFormat::W1Slave,
            run_for: None,
            once: true,
            start_at: Duration::from_hours(1),
        };
        run_scenario(&opts, &Log::memory(), &Shutdown::new()).unwrap();
        let ids = crate::w1::discover(&opts.w1_dir).unwrap();
        assert_eq!(ids.len(), 4);
        assert_eq!(read_probe(&opts.w1_dir, OVEN_ID).unwrap(), 125_000);
    }
}
