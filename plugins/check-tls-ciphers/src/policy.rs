//! A TLS policy: what a server may accept and what its certificates must be.
//! Mozilla's profiles are policies too, so the verdict, the renderers
//! (`tls-policy render`) and `diff` all read this one shape.

use std::path::PathBuf;
use std::time::Duration;

use crate::suites::Version;

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
    /// Named groups allowed, in preference order.
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
        self.groups.contains(&group)
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
