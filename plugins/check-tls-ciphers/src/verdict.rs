//! Mozilla's server-side TLS profiles (guidelines 6.0) and the findings a
//! scan earns against one.

use std::time::Duration;

use clap::ValueEnum;
use nightwatch_core::{Finding, State};

use crate::cert::CertFacts;
use crate::policy::Policy;
use crate::scan::Scan;
use crate::suites::{self, Version};

/// A policy to judge against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// TLS 1.2 and 1.3, six ECDHE AEAD suites, RSA ≥ 2048 or ECDSA, ≤ 366 days
    MozillaIntermediate,
    /// TLS 1.3 only, ECDSA P-256/P-384, ≤ 90 days
    MozillaModern,
}

const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];
const INTERMEDIATE_TLS12_SUITES: &[u16] = &[0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8];
/// X25519MLKEM768, X25519, prime256v1, secp384r1.
const GROUPS: &[u16] = &[0x11EC, 29, 23, 24];

impl Profile {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Profile::MozillaIntermediate => "mozilla-intermediate",
            Profile::MozillaModern => "mozilla-modern",
        }
    }

    fn versions(self) -> &'static [Version] {
        match self {
            Profile::MozillaIntermediate => &[Version::Tls12, Version::Tls13],
            Profile::MozillaModern => &[Version::Tls13],
        }
    }

    /// Whether the profile allows `suite` in `version`.
    #[must_use]
    pub fn allows_suite(self, version: Version, suite: u16) -> bool {
        match version {
            Version::Tls13 => TLS13_SUITES.contains(&suite),
            Version::Tls12 => {
                self == Profile::MozillaIntermediate && INTERMEDIATE_TLS12_SUITES.contains(&suite)
            }
            _ => false,
        }
    }

    #[must_use]
    pub fn allows_version(self, version: Version) -> bool {
        self.versions().contains(&version)
    }

    #[must_use]
    pub fn allows_group(self, group: u16) -> bool {
        GROUPS.contains(&group)
    }
}

/// Days before expiry that warn and page.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryThresholds {
    pub warning: Duration,
    pub critical: Duration,
}

/// Every finding of one scan against one profile, worst first within each
/// kind, in the order the long text lists them.
#[must_use]
pub fn judge(
    profile: Profile,
    scan: &Scan,
    certs: &[CertFacts],
    expiry: ExpiryThresholds,
    now: i64,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Protocols first: the first line leads with them.
    for entry in scan.versions.iter().rev() {
        if !profile.allows_version(entry.version) {
            findings.push(Finding::new(
                State::Critical,
                format!("{} accepted", entry.version),
            ));
        }
    }
    // One finding per suite, naming every version that accepts it.
    let mut outside: Vec<(u16, Vec<Version>)> = Vec::new();
    for entry in &scan.versions {
        for &code in &entry.suites {
            if profile.allows_suite(entry.version, code) {
                continue;
            }
            match outside.iter_mut().find(|(c, _)| *c == code) {
                Some((_, versions)) => versions.push(entry.version),
                None => outside.push((code, vec![entry.version])),
            }
        }
    }
    for (code, versions) in outside {
        let short = suites::by_code(code)
            .map_or_else(|| format!("0x{code:04X}"), |s| s.short_name().to_owned());
        let versions: Vec<&str> = versions.iter().map(|v| v.name()).collect();
        findings.push(
            Finding::new(State::Critical, format!("{short} accepted")).with_detail(format!(
                "suite {} accepted in {}, not in {}",
                suites::name_of(code),
                versions.join(", "),
                profile.name()
            )),
        );
    }
    for &group in scan.tls13_groups.iter().chain(&scan.tls12_groups) {
        if !profile.allows_group(group) {
            let name = suites::group_name(group);
            let finding = Finding::new(State::Warning, format!("group {name} accepted"));
            if !findings.iter().any(|f| f.summary == finding.summary) {
                findings.push(finding);
            }
        }
    }
    // Certificates are judged by cert_verdict against the profile's policy,
    // with the -w/-c expiry times.
    if let Some(policy) = Policy::profile(profile.name()) {
        let policy = Policy {
            expiry_warning: expiry.warning,
            expiry_critical: expiry.critical,
            ..policy
        };
        for cert in certs {
            findings.extend(crate::cert_verdict::judge_cert(&policy, cert, now));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::VersionScan;

    const DAY: i64 = 86_400;

    fn cert(key_type: &str, bits: u32, days_left: i64, lifetime: i64) -> CertFacts {
        CertFacts {
            subject: "CN=localhost".into(),
            issuer: "CN=ca".into(),
            key_type: key_type.into(),
            key_bits: bits,
            curve: (key_type == "ECDSA").then(|| "P-256".into()),
            signature: "sha256WithRSAEncryption".into(),
            not_before: 1000 * DAY + days_left * DAY - lifetime * DAY,
            not_after: 1000 * DAY + days_left * DAY,
            names: vec!["localhost".into()],
            name_matches: true,
            chain_error: None,
            chain_length: 1,
            protocol: "TLSv1_3".into(),
        }
    }

    const EXPIRY: ExpiryThresholds = ExpiryThresholds {
        warning: Duration::from_hours(30 * 24),
        critical: Duration::from_hours(14 * 24),
    };

    fn scan(versions: &[(Version, &[u16])]) -> Scan {
        Scan {
            versions: versions
                .iter()
                .map(|(version, suites)| VersionScan {
                    version: *version,
                    suites: suites.to_vec(),
                })
                .collect(),
            tls13_groups: vec![29, 23],
            ..Scan::default()
        }
    }

    #[test]
    fn a_compliant_server_has_no_findings() {
        let s = scan(&[
            (Version::Tls13, &[0x1301, 0x1302]),
            (Version::Tls12, &[0xC02F, 0xC030]),
        ]);
        let f = judge(
            Profile::MozillaIntermediate,
            &s,
            &[cert("RSA", 2048, 60, 90)],
            EXPIRY,
            1000 * DAY,
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn old_protocols_weak_suites_keys_and_dates_each_count() {
        let s = scan(&[
            (Version::Tls12, &[0xC02F, 0x0005]),
            (Version::Tls10, &[0x002F]),
        ]);
        let f = judge(
            Profile::MozillaIntermediate,
            &s,
            &[cert("RSA", 1024, 10, 400)],
            EXPIRY,
            1000 * DAY,
        );
        let summaries: Vec<(State, &str)> =
            f.iter().map(|f| (f.state, f.summary.as_str())).collect();
        assert!(
            summaries.contains(&(State::Critical, "RC4-SHA accepted")),
            "{summaries:?}"
        );
        assert!(summaries.contains(&(State::Critical, "TLS 1.0 accepted")));
        assert!(summaries.contains(&(State::Critical, "AES128-SHA accepted")));
        assert!(summaries.contains(&(State::Critical, "RSA key of 1024 bits, below 2048")));
        assert!(
            summaries.contains(&(State::Critical, "RSA certificate expires in 10d")),
            "{summaries:?}"
        );
        assert!(summaries.contains(&(State::Warning, "RSA certificate valid 400 days, over 366")));
    }

    #[test]
    fn modern_wants_tls13_and_ecdsa() {
        let s = scan(&[(Version::Tls13, &[0x1301]), (Version::Tls12, &[0xC02F])]);
        let f = judge(
            Profile::MozillaModern,
            &s,
            &[cert("RSA", 4096, 60, 60)],
            EXPIRY,
            1000 * DAY,
        );
        assert!(f.iter().any(|f| f.summary == "TLS 1.2 accepted"));
        assert!(
            f.iter().any(|f| f
                .summary
                .starts_with("RSA key of 4096 bits, mozilla-modern wants ECDSA")),
            "{f:?}"
        );
        let ok = judge(
            Profile::MozillaModern,
            &scan(&[(Version::Tls13, &[0x1301])]),
            &[cert("ECDSA", 256, 60, 60)],
            EXPIRY,
            1000 * DAY,
        );
        assert!(ok.is_empty(), "{ok:?}");
    }
}
