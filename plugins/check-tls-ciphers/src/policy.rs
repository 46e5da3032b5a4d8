//! A TLS policy: what a server may accept and what its certificates must be.
//! Mozilla's profiles are policies too, so the verdict, the renderers
//! (`tls-policy render`) and `diff` all read this one shape.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::suites::{self, GROUPS, Version};

const DAY: u64 = 86_400;

/// Mozilla's TLS 1.3 suites (every profile).
const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];
/// Mozilla intermediate's TLS 1.2 suites, in its order.
const INTERMEDIATE_TLS12_SUITES: &[u16] = &[0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8];
/// X25519MLKEM768, X25519, prime256v1, secp384r1.
const MOZILLA_GROUPS: &[u16] = &[0x11EC, 29, 23, 24];

/// Everything a policy decides, resolved: allow-lists after `extends` and
/// forbid-lists are applied, every suite as its code point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// A profile's name, or the policy file's path: how findings cite it.
    pub name: String,
    /// Protocols allowed, newest first.
    pub protocols: Vec<Version>,
    /// Suites allowed, in preference order (TLS 1.3 and older mixed; a
    /// suite is allowed only in the protocols it works with).
    pub suites: Vec<u16>,
    /// Named groups allowed, in preference order; empty means any.
    pub groups: Vec<u16>,
    pub min_rsa_bits: u32,
    pub min_dh_bits: u32,
    pub min_ec_bits: u32,
    /// Certificate key types allowed (`RSA`, `ECDSA`, `Ed25519`…); empty
    /// means any.
    pub key_types: Vec<String>,
    /// Only suites with ephemeral key exchange.
    pub forward_secrecy: bool,
    /// `Some(true)`: the server must choose the suite; `Some(false)`: the
    /// client must; `None`: not judged.
    pub server_order: Option<bool>,
    pub max_lifetime: Option<Duration>,
    pub expiry_warning: Duration,
    pub expiry_critical: Duration,
    /// `Some(true)`: a stapled OCSP response is required; `Some(false)`:
    /// forbidden; `None`: not judged.
    pub ocsp_stapling: Option<bool>,
    /// Trust anchors for the chain; `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
}

/// The profiles a policy may extend, and `--profile` accepts.
pub const PROFILES: &[&str] = &["mozilla-intermediate", "mozilla-modern"];

impl Policy {
    /// One of [`PROFILES`], as Mozilla's server-side TLS guidelines 6.0
    /// define it.
    #[must_use]
    pub fn profile(name: &str) -> Option<Policy> {
        let intermediate = Policy {
            name: "mozilla-intermediate".to_owned(),
            protocols: vec![Version::Tls13, Version::Tls12],
            suites: TLS13_SUITES
                .iter()
                .chain(INTERMEDIATE_TLS12_SUITES)
                .copied()
                .collect(),
            groups: MOZILLA_GROUPS.to_vec(),
            min_rsa_bits: 2048,
            min_dh_bits: 2048,
            min_ec_bits: 256,
            key_types: vec!["RSA".to_owned(), "ECDSA".to_owned()],
            forward_secrecy: true,
            server_order: None,
            max_lifetime: Some(Duration::from_secs(366 * DAY)),
            expiry_warning: Duration::from_secs(30 * DAY),
            expiry_critical: Duration::from_secs(14 * DAY),
            ocsp_stapling: None,
            ca_file: None,
        };
        match name {
            "mozilla-intermediate" => Some(intermediate),
            "mozilla-modern" => Some(Policy {
                name: "mozilla-modern".to_owned(),
                protocols: vec![Version::Tls13],
                suites: TLS13_SUITES.to_vec(),
                key_types: vec!["ECDSA".to_owned()],
                max_lifetime: Some(Duration::from_secs(90 * DAY)),
                ..intermediate
            }),
            _ => None,
        }
    }

    #[must_use]
    pub fn allows_version(&self, version: Version) -> bool {
        self.protocols.contains(&version)
    }

    /// Whether `suite` may be accepted in `version`.
    #[must_use]
    pub fn allows_suite(&self, version: Version, suite: u16) -> bool {
        self.allows_version(version)
            && self.suites.contains(&suite)
            && crate::suites::by_code(suite).is_some_and(|s| s.offered_for(version))
    }

    #[must_use]
    pub fn allows_group(&self, group: u16) -> bool {
        self.groups.is_empty() || self.groups.contains(&group)
    }

    /// The allowed suites that work in `version`, in preference order.
    #[must_use]
    pub fn suites_for(&self, version: Version) -> Vec<u16> {
        if !self.allows_version(version) {
            return Vec::new();
        }
        self.suites
            .iter()
            .copied()
            .filter(|&code| crate::suites::by_code(code).is_some_and(|s| s.offered_for(version)))
            .collect()
    }
}

/// A policy file is a few hundred bytes; `--policy /dev/zero` must not
/// fill memory.
const MAX_POLICY_FILE: u64 = 1 << 20;

/// Certificate key types a policy may name, as the certificate reader
/// reports them.
const KEY_TYPES: &[&str] = &["RSA", "ECDSA", "DSA", "Ed25519", "Ed448"];

/// Why a policy file cannot be used: the file, the line when known, the
/// key, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy {}: cannot read: {message}", path.display())]
    Read { path: PathBuf, message: String },
    #[error("policy {origin}{}: {message}", line_suffix(*.line))]
    Invalid {
        /// The file as given on the command line.
        origin: String,
        /// 1-based, when the problem has a place.
        line: Option<usize>,
        message: String,
    },
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

/// One list entry: a name in any dialect, or a bare TOML integer (a code
/// point: `0xC030`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Entry {
    Text(String),
    Code(i64),
}

type List = Option<Spanned<Vec<Spanned<Entry>>>>;

/// The file as written; every value keeps its place for messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Option<Spanned<String>>,
    extends: Option<Spanned<String>>,
    protocols: List,
    forbid_protocols: List,
    suites: List,
    forbid_suites: List,
    groups: List,
    forbid_groups: List,
    key_types: List,
    min_rsa_bits: Option<Spanned<u32>>,
    min_dh_bits: Option<Spanned<u32>>,
    min_ec_bits: Option<Spanned<u32>>,
    forward_secrecy: Option<Spanned<bool>>,
    server_order: Option<Spanned<bool>>,
    ocsp_stapling: Option<Spanned<bool>>,
    max_lifetime: Option<Spanned<String>>,
    expiry_warning: Option<Spanned<String>>,
    expiry_critical: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
}

impl Policy {
    /// A policy that judges nothing but what a file then sets: the base
    /// of a file without `extends`. Expiry days are the plugin's -w/-c
    /// defaults.
    fn blank() -> Policy {
        Policy {
            name: String::new(),
            protocols: Vec::new(),
            suites: Vec::new(),
            groups: Vec::new(),
            min_rsa_bits: 0,
            min_dh_bits: 0,
            min_ec_bits: 0,
            key_types: Vec::new(),
            forward_secrecy: false,
            server_order: None,
            max_lifetime: None,
            expiry_warning: Duration::from_secs(30 * DAY),
            expiry_critical: Duration::from_secs(14 * DAY),
            ocsp_stapling: None,
            ca_file: None,
        }
    }

    /// Reads and checks a policy file (`--policy`).
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let read_error = |message: String| PolicyError::Read {
            path: path.to_owned(),
            message,
        };
        let bytes = nightwatch_core::file::read_bounded(path, MAX_POLICY_FILE)
            .map_err(|e| read_error(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| read_error(format!("it is not UTF-8 text ({e})")))?;
        Policy::parse(&text, path)
    }

    /// Checks policy text; `path` names the policy in messages (its stem is
    /// the default `name`) and anchors a relative `ca_file`.
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let cx = Ctx {
            origin: path.display().to_string(),
            text,
        };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| cx.toml(&e))?;
        let mut policy = match &raw.extends {
            Some(name) => Policy::profile(name.get_ref()).ok_or_else(|| {
                cx.at(
                    name.span(),
                    "extends",
                    format!(
                        "unknown profile \"{}\"; known: {}",
                        name.get_ref(),
                        PROFILES.join(", ")
                    ),
                )
            })?,
            None => Policy::blank(),
        };
        policy.name = match &raw.name {
            Some(name) => name.get_ref().clone(),
            None => path
                .file_stem()
                .map_or_else(|| cx.origin.clone(), |s| s.to_string_lossy().into_owned()),
        };
        cx.scalars(&raw, &mut policy, path)?;
        cx.protocols(&raw, &mut policy)?;
        cx.suites(&raw, &mut policy)?;
        cx.groups(&raw, &mut policy)?;
        cx.key_types(&raw, &mut policy)?;
        Ok(policy)
    }
}

/// Whether `suite` uses an ephemeral key exchange (TLS 1.3 always does).
#[must_use]
pub fn forward_secret(suite: &suites::Suite) -> bool {
    suite.kx == "any" || suite.kx.starts_with("ECDHE") || suite.kx.starts_with("DHE")
}

/// `TLS 1.2`, `TLS1.2`, `TLSv1.2`, `tls1_2`, `SSLv3`…: a protocol as
/// people and stacks write it.
fn parse_version(text: &str) -> Option<Version> {
    let text: String = text
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '.' | '-'))
        .collect();
    let (tls, number) = match (text.strip_prefix("tls"), text.strip_prefix("ssl")) {
        (Some(rest), _) => (true, rest),
        (_, Some(rest)) => (false, rest),
        _ => return None,
    };
    let number = number.strip_prefix('v').unwrap_or(number);
    match (tls, number) {
        (true, "1" | "10") => Some(Version::Tls10),
        (true, "11") => Some(Version::Tls11),
        (true, "12") => Some(Version::Tls12),
        (true, "13") => Some(Version::Tls13),
        (false, "3" | "30") => Some(Version::Ssl3),
        _ => None,
    }
}

/// `a TLS 1.3 suite`: which protocols a suite works in, for messages.
fn suite_range(suite: &suites::Suite) -> &'static str {
    match suite.min_version {
        suites::MinVersion::Tls13 => "a TLS 1.3 suite",
        suites::MinVersion::Tls12 => "a TLS 1.2 suite",
        suites::MinVersion::Ssl3 => "an SSL 3.0 to TLS 1.2 suite",
    }
}

fn names(versions: &[Version]) -> String {
    versions
        .iter()
        .map(|v| v.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text being checked, for placing messages.
struct Ctx<'a> {
    origin: String,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text
            .get(..offset.min(self.text.len()))
            .map_or(0, |head| head.matches('\n').count())
            + 1
    }

    fn at(&self, span: Range<usize>, key: &str, message: impl std::fmt::Display) -> PolicyError {
        PolicyError::Invalid {
            origin: self.origin.clone(),
            line: Some(self.line(span.start)),
            message: format!("{key}: {message}"),
        }
    }

    /// A problem of the whole file (a key missing): no line to name.
    fn whole(&self, key: &str, message: impl std::fmt::Display) -> PolicyError {
        PolicyError::Invalid {
            origin: self.origin.clone(),
            line: None,
            message: format!("{key}: {message}"),
        }
    }

    fn toml(&self, error: &toml::de::Error) -> PolicyError {
        let message = error.message().trim();
        let line = error.span().map(|s| self.line(s.start));
        // serde's words for a misspelt key, in the file's words; a wrong
        // value is told its key, read from the line it starts.
        let message = match message.strip_prefix("unknown field ") {
            Some(rest) => format!(
                "unknown key {}",
                rest.replacen(", expected one of", "; known keys:", 1)
            ),
            None => line
                .and_then(|l| self.text.lines().nth(l - 1))
                .and_then(|l| l.split_once('='))
                .map(|(key, _)| key.trim())
                .filter(|key| {
                    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                .map_or_else(|| message.to_owned(), |key| format!("{key}: {message}")),
        };
        PolicyError::Invalid {
            origin: self.origin.clone(),
            line,
            message,
        }
    }

    /// An entry as text: names as written, integers as code points.
    fn text(&self, entry: &Spanned<Entry>, key: &str) -> Result<String, PolicyError> {
        match entry.get_ref() {
            Entry::Text(text) => Ok(text.clone()),
            Entry::Code(code) => u16::try_from(*code)
                .map(|code| format!("0x{code:04X}"))
                .map_err(|_| self.at(entry.span(), key, format!("{code} is not a code point"))),
        }
    }

    fn duration(&self, value: &Spanned<String>, key: &str) -> Result<Duration, PolicyError> {
        nightwatch_core::duration::parse_duration(value.get_ref())
            .map_err(|e| self.at(value.span(), key, e))
    }

    fn scalars(
        &self,
        raw: &RawPolicy,
        policy: &mut Policy,
        path: &Path,
    ) -> Result<(), PolicyError> {
        for (value, field) in [
            (&raw.min_rsa_bits, &mut policy.min_rsa_bits),
            (&raw.min_dh_bits, &mut policy.min_dh_bits),
            (&raw.min_ec_bits, &mut policy.min_ec_bits),
        ] {
            if let Some(value) = value {
                *field = *value.get_ref();
            }
        }
        if let Some(value) = &raw.forward_secrecy {
            policy.forward_secrecy = *value.get_ref();
        }
        if let Some(value) = &raw.server_order {
            policy.server_order = Some(*value.get_ref());
        }
        if let Some(value) = &raw.ocsp_stapling {
            policy.ocsp_stapling = Some(*value.get_ref());
        }
        if let Some(value) = &raw.max_lifetime {
            policy.max_lifetime = Some(self.duration(value, "max_lifetime")?);
        }
        if let Some(value) = &raw.expiry_warning {
            policy.expiry_warning = self.duration(value, "expiry_warning")?;
        }
        if let Some(value) = &raw.expiry_critical {
            policy.expiry_critical = self.duration(value, "expiry_critical")?;
        }
        if policy.expiry_critical > policy.expiry_warning {
            let (span, key) = match (&raw.expiry_critical, &raw.expiry_warning) {
                (Some(c), _) => (c.span(), "expiry_critical"),
                (None, Some(w)) => (w.span(), "expiry_warning"),
                (None, None) => (0..0, "expiry_critical"),
            };
            return Err(self.at(
                span,
                key,
                format!(
                    "expiry_critical ({}) is longer than expiry_warning ({}): critical comes closer to expiry",
                    nightwatch_core::display::duration(policy.expiry_critical),
                    nightwatch_core::display::duration(policy.expiry_warning)
                ),
            ));
        }
        if let Some(value) = &raw.ca_file {
            // Relative to the policy file, so a policy and its bundle move
            // together.
            let file = Path::new(value.get_ref());
            policy.ca_file = Some(match path.parent() {
                Some(dir) if file.is_relative() => dir.join(file),
                _ => file.to_owned(),
            });
        }
        Ok(())
    }

    /// The versions a list names, each with its place.
    fn versions(
        &self,
        list: &List,
        key: &str,
    ) -> Result<Vec<(Version, Range<usize>)>, PolicyError> {
        let mut out = Vec::new();
        for entry in list.iter().flat_map(Spanned::get_ref) {
            let version = match entry.get_ref() {
                Entry::Text(text) => parse_version(text),
                Entry::Code(code) => u16::try_from(*code).ok().and_then(Version::from_wire),
            };
            let version = version.ok_or_else(|| {
                self.at(
                    entry.span(),
                    key,
                    format!(
                        "unknown protocol {}; known: TLS1.3, TLS1.2, TLS1.1, TLS1.0, SSLv3",
                        self.text(entry, key).unwrap_or_default()
                    ),
                )
            })?;
            out.push((version, entry.span()));
        }
        Ok(out)
    }

    fn protocols(&self, raw: &RawPolicy, policy: &mut Policy) -> Result<(), PolicyError> {
        let allowed = self.versions(&raw.protocols, "protocols")?;
        if raw.protocols.is_some() {
            policy.protocols = allowed.iter().map(|(v, _)| *v).collect();
        }
        for (version, span) in self.versions(&raw.forbid_protocols, "forbid_protocols")? {
            if let Some((_, also)) = allowed.iter().find(|(v, _)| *v == version) {
                return Err(self.at(
                    span,
                    "forbid_protocols",
                    format!(
                        "{version} is forbidden here and allowed in protocols (line {})",
                        self.line(also.start)
                    ),
                ));
            }
            policy.protocols.retain(|&v| v != version);
        }
        policy.protocols.sort_by(|a, b| b.cmp(a));
        policy.protocols.dedup();
        if policy.protocols.is_empty() {
            return Err(match raw.protocols.as_ref().or(raw.forbid_protocols.as_ref()) {
                Some(list) => self.at(list.span(), "protocols", "no protocol is left allowed"),
                None => self.whole(
                    "protocols",
                    "missing: a policy without `extends` lists its protocols (protocols = [\"TLS1.2\", \"TLS1.3\"])",
                ),
            });
        }
        Ok(())
    }

    fn suites(&self, raw: &RawPolicy, policy: &mut Policy) -> Result<(), PolicyError> {
        let fs = policy.forward_secrecy;
        let protocols = policy.protocols.clone();
        let usable = |s: &suites::Suite| {
            (!fs || forward_secret(s)) && protocols.iter().any(|&v| s.offered_for(v))
        };
        // Suites named one by one, with their place: the ones a forbid list
        // may not remove, and a rule may not silently drop.
        let mut named: Vec<(u16, Range<usize>)> = Vec::new();
        if let Some(list) = &raw.suites {
            let mut codes = Vec::new();
            for entry in list.get_ref() {
                let spec = self.text(entry, "suites")?;
                let found =
                    suites::resolve(&spec).map_err(|e| self.at(entry.span(), "suites", e))?;
                if let [suite] = found.as_slice() {
                    self.named_suite(&spec, suite, entry.span(), fs, &protocols)?;
                    named.push((suite.code, entry.span()));
                    codes.push(suite.code);
                    continue;
                }
                // A cipher string: what of it this policy can use.
                let before = codes.len();
                codes.extend(found.iter().filter(|s| usable(s)).map(|s| s.code));
                if codes.len() == before {
                    return Err(self.at(
                        entry.span(),
                        "suites",
                        format!(
                            "\"{spec}\" names {} suites, none usable in {}{}",
                            found.len(),
                            names(&protocols),
                            if fs { " with forward secrecy" } else { "" }
                        ),
                    ));
                }
            }
            let mut seen = Vec::new();
            codes.retain(|c| {
                let first = !seen.contains(c);
                seen.push(*c);
                first
            });
            policy.suites = codes;
        } else {
            // A profile's suites, narrowed by the file's protocols and
            // forward secrecy.
            policy
                .suites
                .retain(|&c| suites::by_code(c).is_some_and(&usable));
        }
        for entry in raw.forbid_suites.iter().flat_map(Spanned::get_ref) {
            let spec = self.text(entry, "forbid_suites")?;
            let found =
                suites::resolve(&spec).map_err(|e| self.at(entry.span(), "forbid_suites", e))?;
            for suite in found {
                if let Some((_, also)) = named.iter().find(|(c, _)| *c == suite.code) {
                    return Err(self.at(
                        entry.span(),
                        "forbid_suites",
                        format!(
                            "{} is forbidden here and allowed in suites (line {})",
                            suite.iana,
                            self.line(also.start)
                        ),
                    ));
                }
                policy.suites.retain(|&c| c != suite.code);
            }
        }
        let place = raw
            .suites
            .as_ref()
            .or(raw.forbid_suites.as_ref())
            .map(Spanned::span);
        if policy.suites.is_empty() {
            return Err(match place {
                Some(span) => self.at(span, "suites", "no suite is left allowed"),
                None => self.whole(
                    "suites",
                    "missing: a policy without `extends` lists its suites (suites = [\"ECDHE-RSA-AES256-GCM-SHA384\", \"TLS_AES_256_GCM_SHA384\"])",
                ),
            });
        }
        self.every_protocol_has_a_suite(raw, policy, place.as_ref())
    }

    /// A suite named alone must be one the policy can use: with forward
    /// secrecy when required, in an allowed protocol.
    fn named_suite(
        &self,
        spec: &str,
        suite: &suites::Suite,
        span: Range<usize>,
        fs: bool,
        protocols: &[Version],
    ) -> Result<(), PolicyError> {
        let called = if spec.trim() == suite.iana {
            spec.trim().to_owned()
        } else {
            format!("{} ({})", spec.trim(), suite.iana)
        };
        if fs && !forward_secret(suite) {
            return Err(self.at(
                span,
                "suites",
                format!("{called} has no forward secrecy, which forward_secrecy = true forbids"),
            ));
        }
        if !protocols.iter().any(|&v| suite.offered_for(v)) {
            return Err(self.at(
                span,
                "suites",
                format!(
                    "{called} is {}, and protocols allows only {}",
                    suite_range(suite),
                    names(protocols)
                ),
            ));
        }
        Ok(())
    }

    /// Each allowed protocol needs a suite: a server could not follow the
    /// policy otherwise.
    fn every_protocol_has_a_suite(
        &self,
        raw: &RawPolicy,
        policy: &Policy,
        place: Option<&Range<usize>>,
    ) -> Result<(), PolicyError> {
        for &version in &policy.protocols {
            if policy.suites_for(version).is_empty() {
                let span = raw
                    .protocols
                    .iter()
                    .flat_map(Spanned::get_ref)
                    .find(|e| matches!(e.get_ref(), Entry::Text(t) if parse_version(t) == Some(version)))
                    .map(Spanned::span)
                    .or(place.cloned())
                    .unwrap_or(0..0);
                return Err(self.at(
                    span,
                    "protocols",
                    format!("{version} is allowed, but no allowed suite works in it"),
                ));
            }
        }
        Ok(())
    }

    /// The groups a list names, each with its place.
    fn group_list(&self, list: &List, key: &str) -> Result<Vec<(u16, Range<usize>)>, PolicyError> {
        let mut out = Vec::new();
        for entry in list.iter().flat_map(Spanned::get_ref) {
            let text = self.text(entry, key)?;
            let code = suites::resolve_group(&text).map_err(|e| self.at(entry.span(), key, e))?;
            out.push((code, entry.span()));
        }
        Ok(out)
    }

    fn groups(&self, raw: &RawPolicy, policy: &mut Policy) -> Result<(), PolicyError> {
        let allowed = self.group_list(&raw.groups, "groups")?;
        if raw.groups.is_some() {
            policy.groups = Vec::new();
            for (code, _) in &allowed {
                if !policy.groups.contains(code) {
                    policy.groups.push(*code);
                }
            }
        }
        let forbidden = self.group_list(&raw.forbid_groups, "forbid_groups")?;
        if !forbidden.is_empty() && policy.groups.is_empty() {
            // "Any group but these": every known one, less the forbidden.
            policy.groups = GROUPS.iter().map(|g| g.code).collect();
        }
        for (code, span) in forbidden {
            if let Some((_, also)) = allowed.iter().find(|(c, _)| *c == code) {
                return Err(self.at(
                    span,
                    "forbid_groups",
                    format!(
                        "{} is forbidden here and allowed in groups (line {})",
                        suites::group_name(code),
                        self.line(also.start)
                    ),
                ));
            }
            policy.groups.retain(|&g| g != code);
        }
        if policy.groups.is_empty() && (raw.groups.is_some() || raw.forbid_groups.is_some()) {
            let span = raw
                .groups
                .as_ref()
                .or(raw.forbid_groups.as_ref())
                .map_or(0..0, Spanned::span);
            return Err(self.at(span, "groups", "no group is left allowed"));
        }
        Ok(())
    }

    fn key_types(&self, raw: &RawPolicy, policy: &mut Policy) -> Result<(), PolicyError> {
        let Some(list) = &raw.key_types else {
            return Ok(());
        };
        policy.key_types = Vec::new();
        for entry in list.get_ref() {
            let text = self.text(entry, "key_types")?;
            let wanted = if text.trim().eq_ignore_ascii_case("EC") {
                "ECDSA"
            } else {
                text.trim()
            };
            let kind = KEY_TYPES
                .iter()
                .find(|k| k.eq_ignore_ascii_case(wanted))
                .ok_or_else(|| {
                    self.at(
                        entry.span(),
                        "key_types",
                        format!(
                            "unknown key type \"{text}\"; known: {}",
                            KEY_TYPES.join(", ")
                        ),
                    )
                })?;
            if !policy.key_types.iter().any(|k| k == kind) {
                policy.key_types.push((*kind).to_owned());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiles_match_mozillas_guidelines() {
        let intermediate = Policy::profile("mozilla-intermediate").unwrap();
        assert_eq!(intermediate.suites_for(Version::Tls12).len(), 6);
        assert_eq!(intermediate.suites_for(Version::Tls13).len(), 3);
        assert!(intermediate.suites_for(Version::Tls11).is_empty());
        assert!(intermediate.allows_suite(Version::Tls12, 0xC030));
        assert!(!intermediate.allows_suite(Version::Tls12, 0x1301));
        assert!(!intermediate.allows_suite(Version::Tls13, 0xC030));
        let modern = Policy::profile("mozilla-modern").unwrap();
        assert_eq!(modern.protocols, [Version::Tls13]);
        assert!(!modern.allows_suite(Version::Tls12, 0xC030));
        assert!(Policy::profile("mozilla-old").is_none());
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use proptest::prelude::*;

    const STORY: &str = r#"
name = "story"
protocols = ["TLS1.2", "TLS1.3"]
suites = ["ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384"]
min_rsa_bits = 2048
"#;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, Path::new("/etc/nightwatch/p.toml"))
    }

    /// The message and line of a refused policy.
    fn refused(text: &str) -> (Option<usize>, String) {
        match parse(text) {
            Err(PolicyError::Invalid { line, message, .. }) => (line, message),
            other => panic!("{text}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_story_policy_reads_as_written() {
        let p = parse(STORY).unwrap();
        assert_eq!(p.name, "story");
        assert_eq!(p.protocols, [Version::Tls13, Version::Tls12]);
        assert_eq!(p.suites, [0xC030, 0x1302]);
        assert_eq!(p.suites_for(Version::Tls12), [0xC030]);
        assert_eq!(p.min_rsa_bits, 2048);
        // Without `extends` nothing else is judged: any group, any key type.
        assert!(p.groups.is_empty() && p.allows_group(25));
        assert!(p.key_types.is_empty());
        assert!(!p.forward_secrecy);
        assert_eq!(p.server_order, None);
        assert_eq!(p.max_lifetime, None);
        assert_eq!(p.expiry_warning, Duration::from_secs(30 * DAY));
    }

    #[test]
    fn the_issue_example_extends_a_profile_and_every_key_lands() {
        let p = parse(
            r#"
extends = "mozilla-intermediate"
protocols = ["TLS1.2", "TLS1.3"]
suites = ["ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384"]
groups = ["X25519", "prime256v1"]
min_rsa_bits = 3072
min_dh_bits = 4096
min_ec_bits = 384
key_types = ["rsa", "EC"]
forward_secrecy = true
server_order = false
max_lifetime = "398d"
expiry_warning = "30d"
expiry_critical = "7d"
ocsp_stapling = true
ca_file = "ca.pem"
"#,
        )
        .unwrap();
        assert_eq!(p.name, "p");
        assert_eq!(p.groups, [29, 23]);
        assert_eq!(
            (p.min_rsa_bits, p.min_dh_bits, p.min_ec_bits),
            (3072, 4096, 384)
        );
        assert_eq!(p.key_types, ["RSA", "ECDSA"]);
        assert_eq!(p.server_order, Some(false));
        assert_eq!(p.max_lifetime, Some(Duration::from_secs(398 * DAY)));
        assert_eq!(p.expiry_critical, Duration::from_secs(7 * DAY));
        assert_eq!(p.ocsp_stapling, Some(true));
        assert_eq!(p.ca_file, Some(PathBuf::from("/etc/nightwatch/ca.pem")));
    }

    #[test]
    fn extends_alone_is_the_profile_and_forbid_lists_narrow_it() {
        let mut p = parse("extends = \"mozilla-intermediate\"").unwrap();
        let mut profile = Policy::profile("mozilla-intermediate").unwrap();
        p.name.clear();
        profile.name.clear();
        assert_eq!(p, profile);
        let p = parse(
            "extends = \"mozilla-intermediate\"\nforbid_protocols = [\"TLS1.2\"]\nforbid_groups = [\"X25519MLKEM768\"]",
        )
        .unwrap();
        assert_eq!(p.protocols, [Version::Tls13]);
        // The TLS 1.2 suites go with their protocol.
        assert_eq!(p.suites, [0x1301, 0x1302, 0x1303]);
        assert_eq!(p.groups, [29, 23, 24]);
        let p = parse("extends = \"mozilla-intermediate\"\nforbid_suites = [\"TLS_CHACHA20_POLY1305_SHA256\", \"ECDHE-ECDSA-CHACHA20-POLY1305\"]\nforbid_groups = [0x11EC]").unwrap();
        assert!(!p.suites.contains(&0x1303) && !p.suites.contains(&0xCCA9));
        assert!(p.suites.contains(&0xCCA8));
        assert_eq!(p.groups, [29, 23, 24]);
    }

    #[test]
    fn protocols_and_groups_in_the_spellings_people_use() {
        for spelling in ["TLS1.2", "TLSv1.2", "TLS 1.2", "tls1_2", "TLS12"] {
            assert_eq!(parse_version(spelling), Some(Version::Tls12), "{spelling}");
        }
        assert_eq!(parse_version("SSLv3"), Some(Version::Ssl3));
        assert_eq!(parse_version("TLSv1"), Some(Version::Tls10));
        assert_eq!(parse_version("TLS1.4"), None);
        assert_eq!(parse_version("DTLS1.2"), None);
        let p = parse(
            "extends = \"mozilla-intermediate\"\n\
             groups = [\"prime256v1\", \"secp256r1\", \"P-384\", \"x25519\", \"0x001D\", 29, \"ffdhe2048\"]",
        )
        .unwrap();
        assert_eq!(p.groups, [23, 24, 29, 0x100]);
    }

    #[test]
    fn mistakes_name_their_line_and_key() {
        let (line, message) = refused("protocols = [\"TLS1.2\"]\nsuits = []\n");
        assert_eq!(line, Some(2));
        assert!(
            message.starts_with("unknown key `suits`; known keys: `name`"),
            "{message}"
        );

        let (line, message) = refused(
            "protocols = [\"TLS1.2\"]\nsuites = [\n  \"ECDHE-RSA-AES256-GCM-SHA384\",\n  \"ECDHE-RSA-AES256-GCM-SHA385\",\n]\n",
        );
        assert_eq!(line, Some(4));
        assert!(
            message.starts_with("suites: unknown suite \"ECDHE-RSA-AES256-GCM-SHA385\""),
            "{message}"
        );

        let (line, message) = refused("extends = \"mozilla-old\"");
        assert_eq!(
            (line, message.as_str()),
            (
                Some(1),
                "extends: unknown profile \"mozilla-old\"; known: mozilla-intermediate, mozilla-modern"
            )
        );

        let (line, message) = refused(&format!("{STORY}\nprotocols = [\"TLS1.4\"]"));
        assert!(
            line.is_some() && message.contains("duplicate key"),
            "{message}"
        );

        let (line, message) =
            refused("extends = \"mozilla-intermediate\"\n\nprotocols = [\"TLS1.2\", \"TLS 1.4\"]");
        assert_eq!(line, Some(3));
        assert!(
            message.starts_with("protocols: unknown protocol TLS 1.4;"),
            "{message}"
        );

        let (line, message) =
            refused("extends = \"mozilla-intermediate\"\ngroups = [\"X25519\", \"curve25519\"]");
        assert_eq!(line, Some(2));
        assert!(
            message.starts_with("groups: unknown group \"curve25519\"; closest known: X25519"),
            "{message}"
        );

        let (line, message) = refused("extends = \"mozilla-intermediate\"\nmin_rsa_bits = -1");
        assert_eq!(line, Some(2));
        assert!(message.contains("-1"), "{message}");

        let (line, message) =
            refused("extends = \"mozilla-intermediate\"\nmax_lifetime = \"a year\"");
        assert_eq!(line, Some(2));
        assert!(
            message.starts_with("max_lifetime: 'a year' is not a duration"),
            "{message}"
        );

        let (line, message) =
            refused("extends = \"mozilla-intermediate\"\nkey_types = [\"RSA\", \"ECDH\"]");
        assert_eq!(line, Some(2));
        assert!(
            message.starts_with("key_types: unknown key type \"ECDH\""),
            "{message}"
        );

        let (line, message) = refused("protocols = [\"TLS1.2\"\n");
        assert!(line.is_some(), "{message}");
    }

    #[test]
    fn contradictions_are_refused_at_their_line() {
        // A suite allowed and forbidden.
        let (line, message) = refused(&format!(
            "{STORY}forbid_suites = [\"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\"]\n"
        ));
        assert_eq!(line, Some(6));
        assert_eq!(
            message,
            "forbid_suites: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 is forbidden here and allowed in suites (line 4)"
        );
        // A TLS 1.3 suite for a TLS 1.2-only policy.
        let (line, message) = refused(
            "protocols = [\"TLS1.2\"]\nsuites = [\"ECDHE-RSA-AES256-GCM-SHA384\",\n  \"TLS_AES_256_GCM_SHA384\"]",
        );
        assert_eq!(line, Some(3));
        assert_eq!(
            message,
            "suites: TLS_AES_256_GCM_SHA384 is a TLS 1.3 suite, and protocols allows only TLS 1.2"
        );
        // A TLS 1.2 suite for a TLS 1.3-only one.
        let (line, message) = refused(
            "protocols = [\"TLS1.3\"]\nsuites = [\"TLS_AES_256_GCM_SHA384\", \"ECDHE-RSA-AES256-GCM-SHA384\"]",
        );
        assert_eq!(line, Some(2));
        assert!(message.starts_with("suites: ECDHE-RSA-AES256-GCM-SHA384 (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) is a TLS 1.2 suite"), "{message}");
        // A protocol no allowed suite works in.
        let (line, message) = refused(
            "protocols = [\"TLS1.2\",\n \"TLS1.3\"]\nsuites = [\"ECDHE-RSA-AES256-GCM-SHA384\"]",
        );
        assert_eq!(line, Some(2));
        assert_eq!(
            message,
            "protocols: TLS 1.3 is allowed, but no allowed suite works in it"
        );
        // Static RSA under forward secrecy.
        let (line, message) = refused(
            "extends = \"mozilla-intermediate\"\nsuites = [\"TLS_AES_128_GCM_SHA256\", \"AES128-GCM-SHA256\"]",
        );
        assert_eq!(line, Some(2));
        assert!(
            message.ends_with("has no forward secrecy, which forward_secrecy = true forbids"),
            "{message}"
        );
        // Critical further out than warning, from the file or the profile.
        let (line, message) = refused(&format!(
            "{STORY}expiry_warning = \"14d\"\nexpiry_critical = \"20d\"\n"
        ));
        assert_eq!(line, Some(7));
        assert_eq!(
            message,
            "expiry_critical: expiry_critical (20d) is longer than expiry_warning (14d): critical comes closer to expiry"
        );
        let (line, _) = refused(&format!("{STORY}expiry_warning = \"13d\"\n"));
        assert_eq!(line, Some(6));
        // A protocol or group allowed and forbidden.
        let (line, message) = refused(
            "extends = \"mozilla-intermediate\"\nprotocols = [\"TLS1.3\"]\nforbid_protocols = [\"TLSv1.3\"]",
        );
        assert_eq!(
            (line, message.as_str()),
            (
                Some(3),
                "forbid_protocols: TLS 1.3 is forbidden here and allowed in protocols (line 2)"
            )
        );
        let (line, message) = refused(
            "extends = \"mozilla-intermediate\"\ngroups = [\"X25519\"]\nforbid_groups = [\"x25519\"]",
        );
        assert_eq!(
            (line, message.as_str()),
            (
                Some(3),
                "forbid_groups: x25519 is forbidden here and allowed in groups (line 2)"
            )
        );
        // Nothing left.
        let (line, message) =
            refused("extends = \"mozilla-modern\"\nforbid_protocols = [\"TLS1.3\"]");
        assert_eq!(
            (line, message.as_str()),
            (Some(2), "protocols: no protocol is left allowed")
        );
    }

    #[test]
    fn a_cipher_string_is_narrowed_by_the_policy_not_refused() {
        let p = parse(
            "protocols = [\"TLS1.2\"]\nsuites = [\"HIGH\"]\nforward_secrecy = true\n\
             forbid_suites = [\"ECDHE-RSA-AES128-SHA\"]",
        )
        .unwrap();
        assert!(p.suites.len() > 20, "{}", p.suites.len());
        assert!(!p.suites.contains(&0xC013), "the forbidden one is out");
        for &code in &p.suites {
            let suite = suites::by_code(code).unwrap();
            assert!(
                forward_secret(suite) && suite.offered_for(Version::Tls12),
                "{suite:?}"
            );
        }
        // HIGH's static-RSA suites are dropped quietly; named alone, refused.
        assert!(!p.suites.contains(&0x009D));
        // Nothing of it usable: refused at its line.
        let (line, message) = refused(
            "protocols = [\"TLS1.3\"]\nsuites = [\"TLS_AES_128_GCM_SHA256\",\n \"aRSA+AES256\"]",
        );
        assert_eq!(line, Some(3));
        assert!(message.contains("none usable in TLS 1.3"), "{message}");
    }

    #[test]
    fn a_file_without_extends_must_name_protocols_and_suites() {
        let (line, message) = refused("suites = [\"TLS_AES_256_GCM_SHA384\"]");
        assert_eq!(line, None);
        assert!(message.starts_with("protocols: missing"), "{message}");
        let (line, message) = refused("protocols = [\"TLS1.3\"]");
        assert_eq!(line, None);
        assert!(message.starts_with("suites: missing"), "{message}");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let error = Policy::parse("suits = 1", Path::new("story.toml")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("policy story.toml:1: unknown key `suits`"),
            "{error}"
        );
        let error = Policy::load(Path::new("/nonexistent/policy.toml")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("policy /nonexistent/policy.toml: cannot read:"),
            "{error}"
        );
    }

    const KEYS: &[&str] = &[
        "name",
        "extends",
        "protocols",
        "forbid_protocols",
        "suites",
        "forbid_suites",
        "groups",
        "forbid_groups",
        "key_types",
        "min_rsa_bits",
        "min_dh_bits",
        "min_ec_bits",
        "forward_secrecy",
        "server_order",
        "ocsp_stapling",
        "max_lifetime",
        "expiry_warning",
        "expiry_critical",
        "ca_file",
        "bogus",
    ];
    const VALUES: &[&str] = &[
        "\"mozilla-intermediate\"",
        "\"mozilla-modern\"",
        "[\"TLS1.2\", \"TLS1.3\"]",
        "[\"TLS1.3\"]",
        "[\"TLS1.0\"]",
        "[\"ECDHE-RSA-AES256-GCM-SHA384\", \"TLS_AES_256_GCM_SHA384\"]",
        "[\"HIGH:!aNULL\"]",
        "[0xC030, 0x1301]",
        "[-5]",
        "[\"X25519\"]",
        "[]",
        "2048",
        "-1",
        "0",
        "true",
        "false",
        "\"30d\"",
        "\"7d\"",
        "\"x\"",
        "\"\"",
        "[\"RSA\"]",
        "{ a = 1 }",
    ];

    proptest! {
        #[test]
        fn any_text_is_a_policy_or_a_placed_error_never_a_panic(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn any_mix_of_keys_and_values_is_a_policy_or_an_error(
            lines in proptest::collection::vec((0..KEYS.len(), 0..VALUES.len()), 0..8)
        ) {
            let text = lines
                .iter()
                .map(|&(k, v)| [KEYS[k], " = ", VALUES[v], "\n"].concat())
                .collect::<String>();
            match parse(&text) {
                Ok(policy) => {
                    // A policy that parses is one a server can follow.
                    prop_assert!(!policy.protocols.is_empty());
                    for &version in &policy.protocols {
                        prop_assert!(!policy.suites_for(version).is_empty(), "{text}");
                    }
                    prop_assert!(policy.expiry_critical <= policy.expiry_warning);
                }
                Err(PolicyError::Invalid { line, .. }) => {
                    prop_assert!(line.is_none_or(|l| l >= 1 && l <= lines.len().max(1)), "{text}");
                }
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
    }
}

#[cfg(test)]
mod dialect_tests {
    use super::*;

    /// The story's two suites as each stack writes them.
    const SPELLINGS: &[(&str, &str)] = &[
        (
            "iana",
            r#""TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384""#,
        ),
        (
            "java",
            r#""TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384""#,
        ),
        (
            "openssl",
            r#""ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384""#,
        ),
        (
            "gnutls",
            r#""TLS_ECDHE_RSA_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384""#,
        ),
        (
            "erlang tuple",
            r#""{ecdhe_rsa,aes_256_gcm,aead,sha384}", "{any,aes_256_gcm,aead,sha384}""#,
        ),
        (
            "erlang map",
            r##""#{key_exchange => ecdhe_rsa, cipher => aes_256_gcm, mac => aead, prf => sha384}", "#{key_exchange => any, cipher => aes_256_gcm, mac => aead, prf => sha384}""##,
        ),
        ("code point", r#""0xC0,0x30", "0x13,0x02""#),
        ("toml integer", "0xC030, 0x1302"),
    ];

    #[test]
    fn the_story_policy_reads_the_same_in_every_dialect() {
        for (dialect, suites) in SPELLINGS {
            let text = format!("protocols = [\"TLS1.2\", \"TLS1.3\"]\nsuites = [{suites}]\n");
            let policy = Policy::parse(&text, Path::new("story.toml"))
                .unwrap_or_else(|e| panic!("{dialect}: {e}"));
            assert_eq!(policy.suites, [0xC030, 0x1302], "{dialect}");
        }
    }
}
