//! The TOML configuration: defaults, parsing, and errors that name the
//! file, the line and the key.
//!
//! ```toml
//! [graphite]
//! address = "graphite.example:2003"   # re-resolved on every reconnect
//! prefix = "christmaspi.temperature"
//! [probes]                            # unmapped probes use their id
//! "28-0316a2b4c5ff" = "ham"
//! "28-0316a2b4c6aa" = "oven"
//! [reading]
//! unit = "F"                          # or "C"
//! interval = "1s"                     # "500ms", "2m", or seconds: 1
//! [spool]
//! dir = "/var/lib/pi-probe-exporter"
//! max_bytes = "64MiB"
//! ```
//!
//! Every key is optional; unknown keys are errors (a typo must not silently
//! fall back to a default).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::reading::Unit;

/// `[graphite]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphiteConfig {
    /// Carbon's plaintext listener, `host:port`.
    pub address: String,
    /// Readings go to `<prefix>.<probe name>`, health to `<prefix>.exporter.*`.
    pub prefix: String,
    /// Per address tried.
    pub connect_timeout: Duration,
    /// A write blocked this long fails.
    pub write_timeout: Duration,
    /// `TCP_USER_TIMEOUT`: data unacknowledged this long kills the link.
    pub unacked_timeout: Duration,
    /// How long written readings stay eligible for replay after an error.
    pub replay_window: Duration,
    /// First reconnect delay.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
}

/// `[reading]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingConfig {
    /// Unit of the values sent.
    pub unit: Unit,
    /// Time between readings.
    pub interval: Duration,
    /// Where the kernel lists 1-wire devices.
    pub w1_dir: PathBuf,
}

/// `[spool]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The spool directory.
    pub dir: PathBuf,
    /// Cap on the spool's size.
    pub max_bytes: u64,
    /// Size at which a new segment file is started.
    pub segment_bytes: u64,
}

/// `[health]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// How often `<prefix>.exporter.*` is sent.
    pub interval: Duration,
    /// Where `/metrics` is served, if anywhere.
    pub listen: Option<SocketAddr>,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[graphite]`.
    pub graphite: GraphiteConfig,
    /// `[probes]`: probe id to name.
    pub probes: BTreeMap<String, String>,
    /// `[reading]`.
    pub reading: ReadingConfig,
    /// `[spool]`.
    pub spool: SpoolConfig,
    /// `[health]`.
    pub health: HealthConfig,
}

/// Default spool cap.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Smallest spool cap accepted.
pub const MIN_MAX_BYTES: u64 = 4096;
/// Smallest segment size accepted.
pub const MIN_SEGMENT_BYTES: u64 = 256;

/// The segment size used when none is configured: a sixteenth of the cap
/// (so the cap drops at most ~6 % at a time), between 256 B and 4 MiB.
#[must_use]
pub fn default_segment_bytes(max_bytes: u64) -> u64 {
    (max_bytes / 16).clamp(MIN_SEGMENT_BYTES, 4 * 1024 * 1024)
}

/// The replay window used when none is configured.
#[must_use]
pub fn default_replay_window(unacked: Duration, write: Duration) -> Duration {
    unacked + write + Duration::from_secs(30)
}

impl Default for Config {
    fn default() -> Config {
        let unacked = Duration::from_secs(20);
        let write = Duration::from_secs(10);
        Config {
            graphite: GraphiteConfig {
                address: "localhost:2003".into(),
                prefix: "christmaspi.temperature".into(),
                connect_timeout: Duration::from_secs(5),
                write_timeout: write,
                unacked_timeout: unacked,
                replay_window: default_replay_window(unacked, write),
                backoff_min: Duration::from_millis(500),
                backoff_max: Duration::from_secs(30),
            },
            probes: BTreeMap::new(),
            reading: ReadingConfig {
                unit: Unit::Fahrenheit,
                interval: Duration::from_secs(1),
                w1_dir: crate::w1::DEFAULT_W1_DIR.into(),
            },
            spool: SpoolConfig {
                dir: "/var/lib/pi-probe-exporter".into(),
                max_bytes: DEFAULT_MAX_BYTES,
                segment_bytes: default_segment_bytes(DEFAULT_MAX_BYTES),
            },
            health: HealthConfig {
                interval: Duration::from_secs(10),
                listen: None,
            },
        }
    }
}

/// A configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {message}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// What the kernel said.
        message: String,
    },
    /// Something in the file is wrong.
    #[error("{}", render_invalid(path, *line, key.as_deref(), message))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// Dotted key, when known (`graphite.address`).
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A command-line override is wrong.
    #[error("{option}: {message}")]
    Option {
        /// The option (`--interval`).
        option: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn render_invalid(path: &Path, line: Option<usize>, key: Option<&str>, message: &str) -> String {
    use std::fmt::Write as _;
    let mut s = path.display().to_string();
    if let Some(line) = line {
        let _ = write!(s, ":{line}");
    }
    s.push_str(": ");
    if let Some(key) = key {
        let _ = write!(s, "key `{key}`: ");
    }
    s.push_str(message);
    s
}

/// 1-based line of a byte offset.
fn line_of(src: &str, offset: usize) -> usize {
    src.get(..offset.min(src.len()))
        .map_or(0, |head| head.matches('\n').count())
        + 1
}

/// The path to a value as the file spells its key (`graphite.adress`),
/// without the fields toml's [`Spanned`] wraps a value in.
fn dotted_key(path: &serde_path_to_error::Path) -> Option<String> {
    let key = path
        .iter()
        .map(ToString::to_string)
        .filter(|segment| !segment.starts_with("$__"))
        .collect::<Vec<_>>()
        .join(".");
    (!key.is_empty()).then_some(key)
}

/// Turns toml's "unknown field `x`, expected ..." into operator words.
fn tidy_message(m: &str) -> String {
    let m = m.trim();
    if let Some(rest) = m.strip_prefix("unknown field `")
        && let Some((_, expected)) = rest.split_once("`, ")
    {
        return format!("unknown key; {expected}");
    }
    m.to_owned()
}

/// A duration as every nightwatch flag and config value takes one
/// (`"1s"`, `"500ms"`, or a number of seconds), read by the shared parser;
/// a newtype so it can sit in a [`Spanned`] for the line of a range error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dur(Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        nightwatch_core::duration::deserialize(d).map(Dur)
    }
}

/// A size: `"64MiB"` or a plain number of bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SizeValue {
    Text(String),
    Bytes(i64),
}

impl<'de> Deserialize<'de> for SizeValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SizeValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"64MiB\" or a number of bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SizeValue, E> {
                Ok(SizeValue::Text(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SizeValue, E> {
                Ok(SizeValue::Bytes(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SizeValue, E> {
                Ok(SizeValue::Bytes(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A listen address: `"127.0.0.1:9101"` or a bare port.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListenValue {
    Text(String),
    Port(i64),
}

impl<'de> Deserialize<'de> for ListenValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = ListenValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port (9101) or an address with a port (\"127.0.0.1:9101\")")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ListenValue, E> {
                Ok(ListenValue::Text(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ListenValue, E> {
                Ok(ListenValue::Port(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ListenValue, E> {
                Ok(ListenValue::Port(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}

type S<T> = Option<Spanned<T>>;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawConfig {
    graphite: Option<RawGraphite>,
    probes: Option<BTreeMap<String, Spanned<String>>>,
    reading: Option<RawReading>,
    spool: Option<RawSpool>,
    health: Option<RawHealth>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawGraphite {
    address: S<String>,
    prefix: S<String>,
    connect_timeout: S<Dur>,
    write_timeout: S<Dur>,
    unacked_timeout: S<Dur>,
    replay_window: S<Dur>,
    backoff_min: S<Dur>,
    backoff_max: S<Dur>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawReading {
    unit: S<String>,
    interval: S<Dur>,
    w1_dir: S<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawSpool {
    dir: S<String>,
    max_bytes: S<SizeValue>,
    segment_bytes: S<SizeValue>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a table")]
struct RawHealth {
    interval: S<Dur>,
    listen: S<ListenValue>,
}

/// Parses a size: `4096`, `"64MiB"`, `"1.5 GB"`, `"10k"`. `k`/`KB` are
/// 1000, `KiB` is 1024 (likewise M, G, T), as `bytesize` reads them.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bytes = s
        .trim()
        .parse::<bytesize::ByteSize>()
        .map_err(|_| {
            format!("{s:?} is not a size such as \"64MiB\" (units B, KiB, MiB, GiB, KB, MB, GB)")
        })?
        .as_u64();
    // bytesize saturates what does not fit.
    if bytes == u64::MAX {
        return Err(format!("{s:?} is too large"));
    }
    Ok(bytes)
}

/// Whether `s` is a Graphite path: dot-separated components of letters,
/// digits, `_` and `-`.
#[must_use]
pub fn is_metric_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// Whether `s` is a DS18B20 probe id as the kernel writes it.
#[must_use]
pub fn is_probe_id(s: &str) -> bool {
    s.strip_prefix(crate::w1::FAMILY_PREFIX)
        .is_some_and(|serial| {
            serial.len() == 12
                && serial
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// Checks a Graphite address: `host:port`, `[v6]:port`, or a bare host
/// (port 2003). Returns it with the port.
pub fn check_address(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.parse::<SocketAddr>().is_ok() {
        return Ok(s.to_owned());
    }
    if s.is_empty() {
        return Err("empty address".into());
    }
    match s.rsplit_once(':') {
        None => Ok(format!("{s}:2003")),
        Some((host, port)) => {
            let bracketed = host.starts_with('[') && host.ends_with(']');
            if host.is_empty() || (host.contains(':') && !bracketed) {
                return Err(format!(
                    "{s:?} is not host:port (write IPv6 addresses as [::1]:2003)"
                ));
            }
            match port.parse::<u16>() {
                Ok(p) if p > 0 => Ok(s.to_owned()),
                _ => Err(format!("{s:?}: {port:?} is not a port number")),
            }
        }
    }
}

struct Ctx<'a> {
    path: &'a Path,
    src: &'a str,
}

impl Ctx<'_> {
    fn at(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            line: Some(line_of(self.src, span.start)),
            key: Some(key.to_owned()),
            message: message.into(),
        }
    }

    fn duration(
        &self,
        v: Option<&Spanned<Dur>>,
        key: &str,
        min: Duration,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        let d = v.get_ref().0;
        if d < min {
            return Err(self.at(
                v.span(),
                key,
                format!("must be at least {}", humantime::format_duration(min)),
            ));
        }
        Ok(Some(d))
    }

    fn size(&self, v: Option<&Spanned<SizeValue>>, key: &str) -> Result<Option<u64>, ConfigError> {
        let Some(v) = v else { return Ok(None) };
        let n = match v.get_ref() {
            SizeValue::Text(t) => parse_size(t).map_err(|m| self.at(v.span(), key, m))?,
            SizeValue::Bytes(b) => {
                u64::try_from(*b).map_err(|_| self.at(v.span(), key, "must not be negative"))?
            }
        };
        Ok(Some(n))
    }
}

/// A config is a few kilobytes; `--config /dev/zero` must not fill memory.
const MAX_CONFIG_FILE: u64 = 1 << 20;

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let read_error = |message: String| ConfigError::Read {
        path: path.to_owned(),
        message,
    };
    let bytes = nightwatch_core::file::read_bounded(path, MAX_CONFIG_FILE)
        .map_err(|e| read_error(e.to_string()))?;
    let src =
        String::from_utf8(bytes).map_err(|e| read_error(format!("it is not UTF-8 text ({e})")))?;
    parse(path, &src)
}

/// Checks config text; `path` is only used in messages.
pub fn parse(path: &Path, src: &str) -> Result<Config, ConfigError> {
    let invalid = |e: &toml::de::Error, key: Option<String>| ConfigError::Invalid {
        path: path.to_owned(),
        line: e.span().map(|s| line_of(src, s.start)),
        key,
        message: tidy_message(e.message()),
    };
    let document = toml::Deserializer::parse(src).map_err(|e| invalid(&e, None))?;
    // toml's error has the span (so the line); serde_path_to_error the key.
    let raw: RawConfig = serde_path_to_error::deserialize(document)
        .map_err(|e| invalid(e.inner(), dotted_key(e.path())))?;
    let cx = Ctx { path, src };
    let mut c = Config::default();
    cx.graphite(&raw.graphite.unwrap_or_default(), &mut c.graphite)?;
    cx.probes(raw.probes.unwrap_or_default(), &mut c.probes)?;
    cx.reading(&raw.reading.unwrap_or_default(), &mut c.reading)?;
    cx.spool(&raw.spool.unwrap_or_default(), &mut c.spool)?;
    cx.health(&raw.health.unwrap_or_default(), &mut c.health)?;
    Ok(c)
}

fn span_of<T>(v: Option<&Spanned<T>>) -> Range<usize> {
    v.map(Spanned::span).unwrap_or_default()
}

const MS: fn(u64) -> Duration = Duration::from_millis;

impl Ctx<'_> {
    fn graphite(&self, raw: &RawGraphite, out: &mut GraphiteConfig) -> Result<(), ConfigError> {
        if let Some(a) = &raw.address {
            out.address =
                check_address(a.get_ref()).map_err(|m| self.at(a.span(), "graphite.address", m))?;
        }
        if let Some(p) = &raw.prefix {
            let prefix = p.get_ref().trim().to_owned();
            if !is_metric_path(&prefix) {
                return Err(self.at(
                    p.span(),
                    "graphite.prefix",
                    format!(
                        "{prefix:?} is not a Graphite path (dot-separated letters, digits, _ and -)"
                    ),
                ));
            }
            out.prefix = prefix;
        }
        let durations = [
            (
                &raw.connect_timeout,
                "graphite.connect_timeout",
                MS(10),
                &mut out.connect_timeout,
            ),
            (
                &raw.write_timeout,
                "graphite.write_timeout",
                MS(10),
                &mut out.write_timeout,
            ),
            (
                &raw.unacked_timeout,
                "graphite.unacked_timeout",
                MS(100),
                &mut out.unacked_timeout,
            ),
            (
                &raw.backoff_min,
                "graphite.backoff_min",
                MS(10),
                &mut out.backoff_min,
            ),
            (
                &raw.backoff_max,
                "graphite.backoff_max",
                MS(1),
                &mut out.backoff_max,
            ),
        ];
        for (value, key, min, slot) in durations {
            if let Some(d) = self.duration(value.as_ref(), key, min)? {
                *slot = d;
            }
        }
        out.replay_window = default_replay_window(out.unacked_timeout, out.write_timeout);
        if let Some(w) =
            self.duration(raw.replay_window.as_ref(), "graphite.replay_window", MS(1))?
        {
            let floor = out.unacked_timeout + out.write_timeout;
            if w < floor {
                return Err(self.at(
                    span_of(raw.replay_window.as_ref()),
                    "graphite.replay_window",
                    format!(
                        "must be at least unacked_timeout + write_timeout ({}): a dead link can \
                         swallow that much before the kernel reports it",
                        humantime::format_duration(floor)
                    ),
                ));
            }
            out.replay_window = w;
        }
        if out.backoff_max < out.backoff_min {
            return Err(self.at(
                span_of(raw.backoff_max.as_ref().or(raw.backoff_min.as_ref())),
                "graphite.backoff_max",
                "must not be less than backoff_min",
            ));
        }
        Ok(())
    }

    fn probes(
        &self,
        raw: BTreeMap<String, Spanned<String>>,
        out: &mut BTreeMap<String, String>,
    ) -> Result<(), ConfigError> {
        let mut names_seen: BTreeMap<String, String> = BTreeMap::new();
        for (id, name) in raw {
            // A key and its value share a line: the value's span names it.
            let key = format!("probes.{id}");
            if !is_probe_id(&id) {
                return Err(self.at(
                    name.span(),
                    &key,
                    "not a DS18B20 probe id: expected 28- and 12 lowercase hex digits, as in \
                     /sys/bus/w1/devices (28-0316a2b4c5ff)",
                ));
            }
            let n = name.get_ref().trim().to_owned();
            if !is_metric_path(&n) || n.split('.').next() == Some("exporter") {
                return Err(self.at(
                    name.span(),
                    &key,
                    format!(
                        "{n:?} is not a usable probe name (letters, digits, _ and -; \"exporter\" \
                         is reserved for the exporter's own metrics)"
                    ),
                ));
            }
            if let Some(other) = names_seen.insert(n.clone(), id.clone()) {
                return Err(self.at(
                    name.span(),
                    &key,
                    format!("name {n:?} is already used by {other}: their readings would mix"),
                ));
            }
            out.insert(id, n);
        }
        Ok(())
    }

    fn reading(&self, raw: &RawReading, out: &mut ReadingConfig) -> Result<(), ConfigError> {
        if let Some(u) = &raw.unit {
            out.unit = Unit::parse(u.get_ref().trim()).ok_or_else(|| {
                self.at(
                    u.span(),
                    "reading.unit",
                    format!("{:?}: use \"F\" or \"C\"", u.get_ref()),
                )
            })?;
        }
        if let Some(i) = self.duration(raw.interval.as_ref(), "reading.interval", MS(100))? {
            if i > Duration::from_hours(1) {
                return Err(self.at(
                    span_of(raw.interval.as_ref()),
                    "reading.interval",
                    "must be at most 1h",
                ));
            }
            out.interval = i;
        }
        if let Some(d) = &raw.w1_dir {
            if d.get_ref().trim().is_empty() {
                return Err(self.at(d.span(), "reading.w1_dir", "must not be empty"));
            }
            out.w1_dir = PathBuf::from(&d.get_ref());
        }
        Ok(())
    }

    fn spool(&self, raw: &RawSpool, out: &mut SpoolConfig) -> Result<(), ConfigError> {
        if let Some(d) = &raw.dir {
            if d.get_ref().trim().is_empty() {
                return Err(self.at(d.span(), "spool.dir", "must not be empty"));
            }
            out.dir = PathBuf::from(&d.get_ref());
        }
        if let Some(m) = self.size(raw.max_bytes.as_ref(), "spool.max_bytes")? {
            if m < MIN_MAX_BYTES {
                return Err(self.at(
                    span_of(raw.max_bytes.as_ref()),
                    "spool.max_bytes",
                    format!("must be at least {MIN_MAX_BYTES} bytes"),
                ));
            }
            out.max_bytes = m;
        }
        out.segment_bytes = default_segment_bytes(out.max_bytes);
        if let Some(seg) = self.size(raw.segment_bytes.as_ref(), "spool.segment_bytes")? {
            if seg < MIN_SEGMENT_BYTES || seg > out.max_bytes / 4 {
                return Err(self.at(
                    span_of(raw.segment_bytes.as_ref()),
                    "spool.segment_bytes",
                    format!(
                        "must be between {MIN_SEGMENT_BYTES} bytes and a quarter of max_bytes ({})",
                        out.max_bytes / 4
                    ),
                ));
            }
            out.segment_bytes = seg;
        }
        Ok(())
    }

    fn health(&self, raw: &RawHealth, out: &mut HealthConfig) -> Result<(), ConfigError> {
        if let Some(i) = self.duration(raw.interval.as_ref(), "health.interval", MS(100))? {
            out.interval = i;
        }
        if let Some(l) = &raw.listen {
            let text = match l.get_ref() {
                ListenValue::Text(t) => t.clone(),
                ListenValue::Port(p) => p.to_string(),
            };
            out.listen = Some(
                crate::http::parse_listen(&text)
                    .map_err(|m| self.at(l.span(), "health.listen", m))?,
            );
        }
        Ok(())
    }
}

impl Config {
    /// The configuration as TOML, for `--check-config`.
    #[must_use]
    pub fn to_toml(&self) -> String {
        use std::fmt::Write as _;
        let d = |d: Duration| format!("\"{}\"", humantime::format_duration(d));
        let q = |s: &str| format!("{s:?}");
        let g = &self.graphite;
        let mut out = String::new();
        let _ = writeln!(out, "[graphite]");
        let _ = writeln!(out, "address = {}", q(&g.address));
        let _ = writeln!(out, "prefix = {}", q(&g.prefix));
        let _ = writeln!(out, "connect_timeout = {}", d(g.connect_timeout));
        let _ = writeln!(out, "write_timeout = {}", d(g.write_timeout));
        let _ = writeln!(out, "unacked_timeout = {}", d(g.unacked_timeout));
        let _ = writeln!(out, "replay_window = {}", d(g.replay_window));
        let _ = writeln!(out, "backoff_min = {}", d(g.backoff_min));
        let _ = writeln!(out, "backoff_max = {}", d(g.backoff_max));
        let _ = writeln!(out, "\n[probes]");
        for (id, name) in &self.probes {
            let _ = writeln!(out, "{} = {}", q(id), q(name));
        }
        let r = &self.reading;
        let _ = writeln!(out, "\n[reading]");
        let _ = writeln!(out, "unit = {}", q(r.unit.symbol()));
        let _ = writeln!(out, "interval = {}", d(r.interval));
        let _ = writeln!(out, "w1_dir = {}", q(&r.w1_dir.display().to_string()));
        let sp = &self.spool;
        let _ = writeln!(out, "\n[spool]");
        let _ = writeln!(out, "dir = {}", q(&sp.dir.display().to_string()));
        let _ = writeln!(out, "max_bytes = {}", sp.max_bytes);
        let _ = writeln!(out, "segment_bytes = {}", sp.segment_bytes);
        let _ = writeln!(out, "\n[health]");
        let _ = writeln!(out, "interval = {}", d(self.health.interval));
        if let Some(l) = self.health.listen {
            let _ = writeln!(out, "listen = {}", q(&l.to_string()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse(Path::new("/etc/pi-probe-exporter.toml"), src)
            .unwrap_err()
            .to_string()
    }

    const EXAMPLE: &str = r#"
[graphite]
address = "graphite.example:2003"   # re-resolved on every reconnect
prefix = "christmaspi.temperature"
[probes]                            # unmapped probes use their id
"28-0316a2b4c5ff" = "ham"
"28-0316a2b4c6aa" = "oven"
[reading]
unit = "F"                          # or "C"
interval = "1s"                     # humantime
[spool]
dir = "/var/lib/pi-probe-exporter"
max_bytes = "64MiB"
"#;

    #[test]
    fn an_endless_or_binary_config_is_refused_not_read_whole() {
        let endless = load(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(
            endless.starts_with("/dev/zero: cannot read: it is larger than 1048576 bytes"),
            "{endless}"
        );
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("exporter.toml");
        std::fs::write(&binary, b"interval = \"1s\"\xff\n").unwrap();
        let message = load(&binary).unwrap_err().to_string();
        assert!(
            message.contains("cannot read: it is not UTF-8 text"),
            "{message}"
        );
    }

    #[test]
    fn the_issue_example_parses() {
        let c = parse(Path::new("x.toml"), EXAMPLE).unwrap();
        assert_eq!(c.graphite.address, "graphite.example:2003");
        assert_eq!(c.probes["28-0316a2b4c5ff"], "ham");
        assert_eq!(c.probes["28-0316a2b4c6aa"], "oven");
        assert_eq!(c.reading.unit, Unit::Fahrenheit);
        assert_eq!(c.reading.interval, Duration::from_secs(1));
        assert_eq!(c.spool.max_bytes, 64 << 20);
        assert_eq!(c.spool.segment_bytes, 4 << 20);
        // Round trip through --check-config's output.
        assert_eq!(parse(Path::new("y.toml"), &c.to_toml()).unwrap(), c);
    }

    #[test]
    fn durations_are_humantime_or_plain_seconds_as_on_the_command_line() {
        let c = parse(
            Path::new("x"),
            "[reading]\ninterval = 2\n[health]\ninterval = 0.5\n\
             [graphite]\nconnect_timeout = \"1m 30s\"\nbackoff_max = \"90\"\n",
        )
        .unwrap();
        assert_eq!(c.reading.interval, Duration::from_secs(2));
        assert_eq!(c.health.interval, Duration::from_millis(500));
        assert_eq!(c.graphite.connect_timeout, Duration::from_secs(90));
        assert_eq!(c.graphite.backoff_max, Duration::from_secs(90));
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(parse(Path::new("x"), "").unwrap(), Config::default());
        assert_eq!(
            Config::default().graphite.replay_window,
            Duration::from_mins(1)
        );
    }

    #[test]
    fn the_example_file_in_the_repo_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pi-probe-exporter.toml.example");
        let c = load(&path).unwrap();
        assert_eq!(c.probes.len(), 2);
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        assert_eq!(
            err("[graphite]\naddress = \"g:2003\"\nadress = \"x\"\n"),
            "/etc/pi-probe-exporter.toml:3: key `graphite.adress`: unknown key; expected one of \
             `address`, `prefix`, `connect_timeout`, `write_timeout`, `unacked_timeout`, \
             `replay_window`, `backoff_min`, `backoff_max`"
        );
        let e = err("[grafite]\naddress = 1\n");
        assert!(
            e.starts_with("/etc/pi-probe-exporter.toml:1: key `grafite`: unknown key"),
            "{e}"
        );
        let e = err("[spool]\ndir = \"/x\"\n\n[reading]\nunits = \"C\"\n");
        assert!(
            e.starts_with("/etc/pi-probe-exporter.toml:5: key `reading.units`: unknown key"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_and_values_name_line_and_key() {
        let e = err("[reading]\ninterval = true\n");
        assert!(
            e.starts_with("/etc/pi-probe-exporter.toml:2: key `reading.interval`: "),
            "{e}"
        );
        assert!(e.contains("expected a duration"), "{e}");
        let e = err("[reading]\n\ninterval = \"fast\"\n");
        assert!(
            e.starts_with(
                "/etc/pi-probe-exporter.toml:3: key `reading.interval`: 'fast' is not a duration"
            ),
            "{e}"
        );
        let e = err("[health]\ninterval = -5\n");
        assert!(
            e.starts_with("/etc/pi-probe-exporter.toml:2: key `health.interval`: "),
            "{e}"
        );
        assert!(e.contains("cannot be negative"), "{e}");
        let e = err("[reading]\nunit = \"K\"\n");
        assert_eq!(
            e,
            "/etc/pi-probe-exporter.toml:2: key `reading.unit`: \"K\": use \"F\" or \"C\""
        );
        let e = err("[spool]\nmax_bytes = \"64 parsecs\"\n");
        assert!(
            e.starts_with("/etc/pi-probe-exporter.toml:2: key `spool.max_bytes`: "),
            "{e}"
        );
        let e = err("[probes]\n\"28-0316A2B4C5FF\" = \"ham\"\n");
        assert!(
            e.starts_with(
                "/etc/pi-probe-exporter.toml:2: key `probes.28-0316A2B4C5FF`: not a DS18B20"
            ),
            "{e}"
        );
        let e = err("[probes]\n\"28-0316a2b4c5ff\" = \"ham\"\n\"28-0316a2b4c6aa\" = \"ham\"\n");
        assert!(
            e.contains(":3: key `probes.28-0316a2b4c6aa`: name \"ham\" is already used"),
            "{e}"
        );
        let e = err("[probes]\n\"28-0316a2b4c5ff\" = \"my ham\"\n");
        assert!(
            e.contains(":2: key `probes.28-0316a2b4c5ff`: \"my ham\" is not a usable"),
            "{e}"
        );
        let e = err("[graphite]\naddress = \"::1:2003\"\n");
        assert!(e.contains(":2: key `graphite.address`:"), "{e}");
        let e = err("[graphite]\nprefix = \"a..b\"\n");
        assert!(e.contains(":2: key `graphite.prefix`:"), "{e}");
        let e = err("[graphite]\nreplay_window = \"5s\"\n");
        assert!(
            e.contains(":2: key `graphite.replay_window`: must be at least"),
            "{e}"
        );
        let e = err("[spool]\nmax_bytes = 100\n");
        assert!(
            e.contains(":2: key `spool.max_bytes`: must be at least 4096"),
            "{e}"
        );
        let e = err("[health]\nlisten = \"everywhere\"\n");
        assert!(e.contains(":2: key `health.listen`:"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = err("[graphite]\naddress = \"unterminated\n");
        assert!(e.starts_with("/etc/pi-probe-exporter.toml:2: "), "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64 MiB"), Ok(64 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("10k"), Ok(10_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("12 bananas").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }

    proptest::proptest! {
        #[test]
        fn whole_sizes_read_back_exactly(
            n in 0u64..1 << 30,
            (unit, factor) in proptest::sample::select(vec![
                ("", 1u64), ("B", 1), ("KB", 1000), ("k", 1000), ("KiB", 1024),
                ("MB", 1_000_000), ("MiB", 1 << 20), ("GiB", 1 << 30),
            ]),
            space in proptest::bool::ANY,
        ) {
            let text = format!("{n}{}{unit}", if space && !unit.is_empty() { " " } else { "" });
            proptest::prop_assert_eq!(parse_size(&text), Ok(n * factor));
        }

        #[test]
        fn sizes_never_panic(text in "\\PC{0,12}") {
            let _ = parse_size(&text);
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(
            check_address("graphite.example").unwrap(),
            "graphite.example:2003"
        );
        assert_eq!(check_address("127.0.0.1:2003").unwrap(), "127.0.0.1:2003");
        assert_eq!(check_address("[::1]:2003").unwrap(), "[::1]:2003");
        assert!(check_address("g:0").is_err());
        assert!(check_address("g:http").is_err());
        assert!(check_address(":2003").is_err());
    }

    #[test]
    fn listen_and_segments() {
        let c = parse(
            Path::new("x"),
            "[health]\nlisten = 9101\n[spool]\nmax_bytes = \"1MiB\"\nsegment_bytes = 1024\n",
        )
        .unwrap();
        assert_eq!(c.health.listen, Some("127.0.0.1:9101".parse().unwrap()));
        assert_eq!(c.spool.segment_bytes, 1024);
        assert_eq!(default_segment_bytes(4096), 256);
        assert_eq!(default_segment_bytes(1 << 40), 4 << 20);
    }
}
