//! The findings a scan earns against a policy (a policy file, or one of
//! Mozilla's profiles): protocols, suites, forward secrecy, groups, the DH
//! group's size, who orders the suites; certificates are `cert_verdict`'s.

use clap::ValueEnum;
use nightwatch_core::{Finding, State};

use crate::cert::CertFacts;
use crate::policy::{Policy, forward_secret};
use crate::scan::{Order, Scan};
use crate::suites::{self, Dialect, Version};

/// A profile `--profile` names: Mozilla's guidelines 6.0, as
/// [`Policy::profile`] defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// TLS 1.2 and 1.3, six ECDHE AEAD suites, RSA ≥ 2048 or ECDSA, ≤ 366 days
    MozillaIntermediate,
    /// TLS 1.3 only, ECDSA P-256/P-384, ≤ 90 days
    MozillaModern,
}

impl Profile {
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Profile::MozillaIntermediate => "mozilla-intermediate",
            Profile::MozillaModern => "mozilla-modern",
        }
    }

    /// The profile as a policy.
    #[must_use]
    pub fn policy(self) -> Policy {
        Policy::profile(self.name())
            .unwrap_or_else(|| unreachable!("{} is in PROFILES", self.name()))
    }
}

/// How suites are spelt in the output: `None` is IANA's name with
/// OpenSSL's in brackets (the default), `Some` one dialect (`--names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Names(pub Option<Dialect>);

impl Names {
    /// A suite's name for the long text and details.
    #[must_use]
    pub fn full(self, code: u16) -> String {
        match (self.0, suites::by_code(code)) {
            (None, _) => suites::name_of(code),
            (Some(dialect), Some(suite)) => suite.name_in(dialect).unwrap_or_else(|| {
                format!(
                    "{} (IANA; {} has no name for it)",
                    suite.iana,
                    dialect_name(dialect)
                )
            }),
            (Some(_), None) => format!("0x{code:04X}"),
        }
    }

    /// A suite's name for the first line: OpenSSL's (else IANA's) by
    /// default, else the dialect's (IANA's where it has none).
    #[must_use]
    pub fn short(self, code: u16) -> String {
        match (self.0, suites::by_code(code)) {
            (None, Some(suite)) => suite.short_name().to_owned(),
            (Some(dialect), Some(suite)) => suite
                .name_in(dialect)
                .unwrap_or_else(|| suite.iana.to_owned()),
            (_, None) => format!("0x{code:04X}"),
        }
    }
}

/// A dialect as people call it.
#[must_use]
pub fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Iana => "IANA",
        Dialect::Openssl => "OpenSSL",
        Dialect::Gnutls => "GnuTLS",
        Dialect::Java => "Java",
        Dialect::Erlang => "Erlang",
    }
}

/// Every finding of one scan against one policy, in the order the long
/// text lists them: protocols, suites, groups, the DH group, the order,
/// then each certificate's.
#[must_use]
pub fn judge(
    policy: &Policy,
    scan: &Scan,
    certs: &[CertFacts],
    names: Names,
    now: i64,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // Protocols first: the first line leads with them.
    for entry in scan.versions.iter().rev() {
        if !policy.allows_version(entry.version) {
            findings.push(Finding::new(
                State::Critical,
                format!("{} accepted", entry.version),
            ));
        }
    }
    findings.extend(judge_suites(policy, scan, names));
    for &group in scan.tls13_groups.iter().chain(&scan.tls12_groups) {
        if !policy.allows_group(group) {
            let name = suites::group_name(group);
            let finding = Finding::new(State::Warning, format!("group {name} accepted"));
            if !findings.iter().any(|f| f.summary == finding.summary) {
                findings.push(finding);
            }
        }
    }
    if let Some(bits) = scan.dh_bits
        && bits < policy.min_dh_bits
    {
        findings.push(Finding::new(
            State::Critical,
            format!("DH group of {bits} bits, below {}", policy.min_dh_bits),
        ));
    }
    let order = match (policy.server_order, scan.order) {
        (Some(true), Some(Order::Client)) => Some(("the client", "the server's")),
        (Some(false), Some(Order::Server)) => Some(("the server", "the client's")),
        _ => None,
    };
    if let Some((who, wanted)) = order {
        findings.push(Finding::new(
            State::Warning,
            format!(
                "{who} decides the suite order, {} wants {wanted}",
                policy.name
            ),
        ));
    }
    for cert in certs {
        findings.extend(crate::cert_verdict::judge_cert(policy, cert, now));
    }
    findings
}

/// One finding per suite outside the policy, naming every version that
/// accepts it; then allowed suites without forward secrecy where the
/// policy requires it (only a hand-built policy allows such a suite: a
/// file that does is refused).
fn judge_suites(policy: &Policy, scan: &Scan, names: Names) -> Vec<Finding> {
    let mut outside: Vec<(u16, Vec<Version>)> = Vec::new();
    let mut not_secret: Vec<(u16, Vec<Version>)> = Vec::new();
    for entry in &scan.versions {
        for &code in &entry.suites {
            let list = if !policy.allows_suite(entry.version, code) {
                &mut outside
            } else if policy.forward_secrecy && !suites::by_code(code).is_some_and(forward_secret) {
                &mut not_secret
            } else {
                continue;
            };
            match list.iter_mut().find(|(c, _)| *c == code) {
                Some((_, versions)) => versions.push(entry.version),
                None => list.push((code, vec![entry.version])),
            }
        }
    }
    let in_versions = |versions: &[Version]| {
        versions
            .iter()
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut findings = Vec::new();
    for (code, versions) in outside {
        findings.push(
            Finding::new(State::Critical, format!("{} accepted", names.short(code))).with_detail(
                format!(
                    "suite {} accepted in {}, not in {}",
                    names.full(code),
                    in_versions(&versions),
                    policy.name
                ),
            ),
        );
    }
    for (code, versions) in not_secret {
        findings.push(
            Finding::new(
                State::Critical,
                format!("{} accepted without forward secrecy", names.short(code)),
            )
            .with_detail(format!(
                "suite {} accepted in {}: no forward secrecy, which {} requires",
                names.full(code),
                in_versions(&versions),
                policy.name
            )),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::VersionScan;

    use crate::cert_verdict::tests::{NOW, cert};

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

    fn intermediate() -> Policy {
        Profile::MozillaIntermediate.policy()
    }

    /// The story's policy: TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384, TLS 1.3
    /// TLS_AES_256_GCM_SHA384, RSA ≥ 2048.
    fn story() -> Policy {
        Policy::parse(
            "name = \"story\"\nprotocols = [\"TLS1.2\", \"TLS1.3\"]\n\
             suites = [\"ECDHE-RSA-AES256-GCM-SHA384\", \"TLS_AES_256_GCM_SHA384\"]\n\
             min_rsa_bits = 2048\n",
            std::path::Path::new("story.toml"),
        )
        .unwrap()
    }

    fn summaries(findings: &[Finding]) -> Vec<(State, &str)> {
        findings
            .iter()
            .map(|f| (f.state, f.summary.as_str()))
            .collect()
    }

    fn judged(policy: &Policy, scan: &Scan) -> Vec<Finding> {
        judge(
            policy,
            scan,
            &[cert("RSA", 2048, 60, 90)],
            Names::default(),
            NOW,
        )
    }

    #[test]
    fn a_compliant_server_has_no_findings() {
        let s = scan(&[
            (Version::Tls13, &[0x1301, 0x1302]),
            (Version::Tls12, &[0xC02F, 0xC030]),
        ]);
        let f = judged(&intermediate(), &s);
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn old_protocols_weak_suites_keys_and_dates_each_count() {
        let s = scan(&[
            (Version::Tls12, &[0xC02F, 0x0005]),
            (Version::Tls10, &[0x002F]),
        ]);
        let f = judge(
            &intermediate(),
            &s,
            &[cert("RSA", 1024, 10, 400)],
            Names::default(),
            NOW,
        );
        let summaries = summaries(&f);
        assert!(
            summaries.contains(&(State::Critical, "RC4-SHA accepted")),
            "{summaries:?}"
        );
        assert!(summaries.contains(&(State::Critical, "TLS 1.0 accepted")));
        assert!(summaries.contains(&(State::Critical, "AES128-SHA accepted")));
        assert!(
            summaries.contains(&(State::Critical, "RSA certificate expires in 10d")),
            "{summaries:?}"
        );
    }

    #[test]
    fn modern_wants_tls13() {
        let s = scan(&[(Version::Tls13, &[0x1301]), (Version::Tls12, &[0xC02F])]);
        let f = judged(&Profile::MozillaModern.policy(), &s);
        assert!(f.iter().any(|f| f.summary == "TLS 1.2 accepted"));
        let ok = judge(
            &Profile::MozillaModern.policy(),
            &scan(&[(Version::Tls13, &[0x1301])]),
            &[cert("ECDSA", 256, 60, 60)],
            Names::default(),
            NOW,
        );
        assert!(ok.is_empty(), "{ok:?}");
    }

    #[test]
    fn the_story_policy_at_its_boundaries() {
        let policy = story();
        // Exactly the two suites: compliant, whatever the groups.
        let exact = Scan {
            tls12_groups: vec![25, 30],
            ..scan(&[(Version::Tls13, &[0x1302]), (Version::Tls12, &[0xC030])])
        };
        assert!(judged(&policy, &exact).is_empty());
        // One more suite in either version: that suite, critical.
        let more = scan(&[
            (Version::Tls13, &[0x1302, 0x1301]),
            (Version::Tls12, &[0xC030, 0xC02F]),
        ]);
        let f = judged(&policy, &more);
        assert_eq!(
            summaries(&f),
            [
                (State::Critical, "TLS_AES_128_GCM_SHA256 accepted"),
                (State::Critical, "ECDHE-RSA-AES128-GCM-SHA256 accepted")
            ]
        );
        assert_eq!(
            f[1].detail.as_deref(),
            Some(
                "suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (ECDHE-RSA-AES128-GCM-SHA256) accepted in TLS 1.2, not in story"
            )
        );
        // The allowed TLS 1.2 suite in TLS 1.1 is still outside.
        let old = scan(&[(Version::Tls12, &[0xC030]), (Version::Tls11, &[0xC014])]);
        assert_eq!(
            summaries(&judged(&policy, &old)),
            [
                (State::Critical, "TLS 1.1 accepted"),
                (State::Critical, "ECDHE-RSA-AES256-SHA accepted")
            ]
        );
    }

    #[test]
    fn forward_secrecy_is_judged_on_suites_a_policy_allows() {
        let mut policy = story();
        policy.suites.push(0x009D); // AES256-GCM-SHA384: static RSA
        let s = scan(&[(Version::Tls12, &[0xC030, 0x009D])]);
        assert!(judged(&policy, &s).is_empty());
        policy.forward_secrecy = true;
        let f = judged(&policy, &s);
        assert_eq!(
            summaries(&f),
            [(
                State::Critical,
                "AES256-GCM-SHA384 accepted without forward secrecy"
            )]
        );
        // ECDHE, DHE and every TLS 1.3 suite have it.
        policy.suites.extend([0x009F, 0x1302]);
        let s = scan(&[
            (Version::Tls13, &[0x1302]),
            (Version::Tls12, &[0xC030, 0x009F]),
        ]);
        assert!(judged(&policy, &s).is_empty());
    }

    #[test]
    fn the_dh_group_counts_from_its_minimum() {
        let mut policy = story();
        policy.min_dh_bits = 2048;
        let mut s = scan(&[(Version::Tls12, &[0xC030])]);
        s.dh_bits = Some(2048);
        assert!(judged(&policy, &s).is_empty());
        s.dh_bits = Some(2047);
        assert_eq!(
            summaries(&judged(&policy, &s)),
            [(State::Critical, "DH group of 2047 bits, below 2048")]
        );
        s.dh_bits = None;
        assert!(judged(&policy, &s).is_empty());
    }

    #[test]
    fn server_order_is_judged_only_when_the_policy_asks_and_the_scan_knows() {
        let mut policy = story();
        let mut s = scan(&[(Version::Tls12, &[0xC030])]);
        for order in [None, Some(Order::Client), Some(Order::Server)] {
            s.order = order;
            assert!(judged(&policy, &s).is_empty(), "{order:?}");
        }
        policy.server_order = Some(true);
        s.order = Some(Order::Client);
        assert_eq!(
            summaries(&judged(&policy, &s)),
            [(
                State::Warning,
                "the client decides the suite order, story wants the server's"
            )]
        );
        s.order = None;
        assert!(judged(&policy, &s).is_empty());
        s.order = Some(Order::Server);
        assert!(judged(&policy, &s).is_empty());
        policy.server_order = Some(false);
        assert_eq!(
            summaries(&judged(&policy, &s)),
            [(
                State::Warning,
                "the server decides the suite order, story wants the client's"
            )]
        );
    }

    #[test]
    fn groups_are_judged_against_the_policys_list_and_an_empty_list_allows_any() {
        let mut policy = story();
        let s = Scan {
            tls12_groups: vec![29, 25],
            ..scan(&[(Version::Tls12, &[0xC030])])
        };
        assert!(judged(&policy, &s).is_empty());
        policy.groups = vec![29, 23];
        assert_eq!(
            summaries(&judged(&policy, &s)),
            [(State::Warning, "group secp521r1 accepted")]
        );
    }

    #[test]
    fn names_follow_the_dialect_and_say_when_they_fall_back() {
        let names = Names(Some(Dialect::Openssl));
        assert_eq!(names.full(0xC030), "ECDHE-RSA-AES256-GCM-SHA384");
        assert_eq!(
            Names(Some(Dialect::Iana)).short(0xC030),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
        // A suite OpenSSL never had: IANA's, said so.
        let unnamed = suites::all().iter().find(|s| s.openssl.is_empty()).unwrap();
        assert_eq!(
            names.full(unnamed.code),
            format!("{} (IANA; OpenSSL has no name for it)", unnamed.iana)
        );
        assert_eq!(names.short(unnamed.code), unnamed.iana);
        assert_eq!(
            Names::default().full(0x0005),
            "TLS_RSA_WITH_RC4_128_SHA (RC4-SHA)"
        );
        assert_eq!(Names::default().short(0xFEFE), "0xFEFE");
    }
}
