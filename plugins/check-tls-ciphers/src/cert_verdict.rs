//! The findings one certificate earns against a policy: its key, the
//! signatures on it and on the intermediates sent with it, its dates, its
//! names, its chain and its stapled OCSP response. An endpoint with an RSA
//! and an ECDSA certificate has each judged by every rule.

use std::time::Duration;

use nightwatch_core::display;
use nightwatch_core::{Finding, State};

use crate::cert::{CertFacts, OcspStatus, Stapled};
use crate::policy::Policy;

const DAY: i64 = 86_400;

/// Signature digests no client should accept: collisions are practical
/// (SHA-1 since SHAttered, MD5 long before).
const WEAK_DIGESTS: &[&str] = &["SHA-1", "MD5", "MD4", "MD2"];

/// Every finding of `cert` under `policy` at `now` (Unix seconds), in the
/// order the long text lists them.
#[must_use]
pub fn judge_cert(policy: &Policy, cert: &CertFacts, now: i64) -> Vec<Finding> {
    let which = which(cert);
    let mut findings = Vec::new();
    if let Some(problem) = key_problem(policy, cert) {
        findings.push(Finding::new(State::Critical, problem));
    }
    findings.extend(weak_signatures(cert, &which));
    findings.extend(validity(policy, cert, now, &which));
    if let Some(max) = policy.max_lifetime {
        let lifetime_days = (cert.not_after - cert.not_before) / DAY;
        let max_days = i64::try_from(max.as_secs()).unwrap_or(i64::MAX) / DAY;
        if lifetime_days > max_days {
            findings.push(Finding::new(
                State::Warning,
                format!("{which} valid {lifetime_days} days, over {max_days}"),
            ));
        }
    }
    if !cert.name_matches {
        let names = if cert.names.is_empty() {
            "no names (no subjectAltName)".to_owned()
        } else {
            cert.names.join(", ")
        };
        findings.push(
            Finding::new(State::Critical, format!("{which} does not name the host"))
                .with_detail(format!("{which} names {names}, not the host")),
        );
    }
    if let Some(error) = &cert.chain_error {
        findings.push(Finding::new(
            State::Warning,
            format!("{which} chain {error}"),
        ));
    }
    findings.extend(stapling(policy, cert, now, &which));
    findings
}

/// SHA-1 or MD5 in the leaf's signature or an intermediate's; a root's
/// signature on itself is not checked by anyone and not judged.
fn weak_signatures(cert: &CertFacts, which: &str) -> Vec<Finding> {
    let weak = |digest: Option<&String>| {
        digest
            .filter(|d| WEAK_DIGESTS.contains(&d.as_str()))
            .cloned()
    };
    let mut findings = Vec::new();
    if let Some(digest) = weak(cert.digest.as_ref()) {
        findings.push(
            Finding::new(State::Critical, format!("{which} signed with {digest}")).with_detail(
                format!(
                    "{which} {} signed with {} ({digest}): clients refuse it",
                    cert.subject, cert.signature
                ),
            ),
        );
    }
    for intermediate in cert.intermediates.iter().filter(|c| !c.self_signed) {
        if let Some(digest) = weak(intermediate.digest.as_ref()) {
            findings.push(
                Finding::new(
                    State::Critical,
                    format!(
                        "{which} intermediate {} signed with {digest}",
                        intermediate.subject
                    ),
                )
                .with_detail(format!(
                    "{which} intermediate {} signed with {} ({digest}) by {}: clients refuse it",
                    intermediate.subject, intermediate.signature, intermediate.issuer
                )),
            );
        }
    }
    findings
}

/// Not valid yet, expired, or expiring within the policy's critical or
/// warning time.
fn validity(policy: &Policy, cert: &CertFacts, now: i64, which: &str) -> Option<Finding> {
    if cert.not_before > now {
        let when = display::from_now(secs(cert.not_before - now));
        return Some(
            Finding::new(
                State::Critical,
                format!("{which} not valid yet: starts {when}"),
            )
            .with_detail(format!(
                "{which} not valid yet: starts {when} ({})",
                display::clock(cert.not_before)
            )),
        );
    }
    let left = cert.not_after - now;
    let at = display::clock(cert.not_after);
    if left <= 0 {
        let ago = display::ago(secs(-left));
        return Some(
            Finding::new(State::Critical, format!("{which} expired {ago}"))
                .with_detail(format!("{which} expired {ago} ({at})")),
        );
    }
    let remaining = secs(left);
    let state = if remaining <= policy.expiry_critical {
        State::Critical
    } else if remaining <= policy.expiry_warning {
        State::Warning
    } else {
        return None;
    };
    let when = display::from_now(remaining);
    Some(
        Finding::new(state, format!("{which} expires {when}"))
            .with_detail(format!("{which} expires {when} ({at})")),
    )
}

/// The stapled OCSP response: a revoked certificate is CRITICAL whatever
/// the policy says; the policy's `ocsp_stapling` requires (`true`) or
/// forbids (`false`) a staple; a stale, unknown or unusable one warns.
fn stapling(policy: &Policy, cert: &CertFacts, now: i64, which: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let warn = |summary: String| Finding::new(State::Warning, summary);
    let Some(stapled) = &cert.ocsp else {
        if policy.ocsp_stapling.is_some() {
            findings.push(warn(format!(
                "{which}: OCSP stapling not checked over {}",
                cert.protocol
            )));
        }
        return findings;
    };
    match (stapled, policy.ocsp_stapling) {
        (Stapled::None, Some(true)) => findings.push(
            warn(format!("{which}: no OCSP response stapled")).with_detail(format!(
                "{which}: no OCSP response stapled, {} requires one",
                policy.name
            )),
        ),
        (Stapled::Response { .. } | Stapled::Unusable { .. }, Some(false)) => findings.push(
            warn(format!("{which}: OCSP response stapled")).with_detail(format!(
                "{which}: OCSP response stapled, {} forbids stapling",
                policy.name
            )),
        ),
        _ => {}
    }
    match stapled {
        Stapled::Response {
            status,
            next_update,
            ..
        } => {
            match status {
                OcspStatus::Revoked { at, reason } => {
                    let why = reason
                        .as_deref()
                        .map(|r| format!(", reason {r}"))
                        .unwrap_or_default();
                    findings.push(
                        Finding::new(State::Critical, format!("{which} revoked (stapled OCSP)"))
                            .with_detail(format!(
                                "{which} revoked {} ({}){why}, says its stapled OCSP response",
                                display::ago(secs(now - at)),
                                display::clock(*at)
                            )),
                    );
                }
                OcspStatus::Unknown => {
                    findings.push(warn(format!("{which}: stapled OCSP response says unknown")));
                }
                OcspStatus::Good => {}
            }
            if let Some(next) = next_update.filter(|&next| next < now) {
                findings.push(
                    warn(format!(
                        "{which}: stapled OCSP response expired {}",
                        display::ago(secs(now - next))
                    ))
                    .with_detail(format!(
                        "{which}: stapled OCSP response expired {} (next update was due {})",
                        display::ago(secs(now - next)),
                        display::clock(next)
                    )),
                );
            }
        }
        Stapled::Unusable { reason } => findings.push(warn(format!(
            "{which}: stapled OCSP response unusable: {reason}"
        ))),
        Stapled::None => {}
    }
    findings
}

/// What the long text says of the stapled response (`OCSP good`, `no
/// OCSP staple`), for the certificate's line.
#[must_use]
pub fn stapling_note(cert: &CertFacts, now: i64) -> Option<String> {
    Some(match cert.ocsp.as_ref()? {
        Stapled::None => "no OCSP staple".to_owned(),
        Stapled::Unusable { .. } => "OCSP staple unusable".to_owned(),
        Stapled::Response {
            status,
            next_update,
            ..
        } => {
            let status = match status {
                OcspStatus::Good => "good",
                OcspStatus::Revoked { .. } => "revoked",
                OcspStatus::Unknown => "unknown",
            };
            let stale = if next_update.is_some_and(|next| next < now) {
                ", expired"
            } else {
                ""
            };
            format!("OCSP {status}{stale}")
        }
    })
}

/// `RSA certificate`, `ECDSA certificate`: which of an endpoint's
/// certificates a finding is about.
fn which(cert: &CertFacts) -> String {
    match cert.key_type.as_str() {
        "RSA" | "ECDSA" => format!("{} certificate", cert.key_type),
        _ => "certificate".to_owned(),
    }
}

/// Why the key is not one the policy accepts, if it is not.
fn key_problem(policy: &Policy, cert: &CertFacts) -> Option<String> {
    let kind = cert.key_type.as_str();
    let size = match &cert.curve {
        Some(curve) => format!("{curve} ({} bits)", cert.key_bits),
        None => format!("of {} bits", cert.key_bits),
    };
    if !policy.key_types.is_empty() && !policy.key_types.iter().any(|t| t == kind) {
        return Some(format!(
            "{kind} key {size}, {} wants {}",
            policy.name,
            policy.key_types.join(" or ")
        ));
    }
    let minimum = match kind {
        "RSA" | "DSA" => policy.min_rsa_bits,
        "ECDSA" | "Ed25519" | "Ed448" => policy.min_ec_bits,
        _ => return Some(format!("{kind} key: not a key type this check can judge")),
    };
    (cert.key_bits < minimum).then(|| format!("{kind} key {size}, below {minimum}"))
}

fn secs(seconds: i64) -> Duration {
    Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cert::ChainCert;

    pub(crate) const NOW: i64 = 1000 * DAY;

    /// A valid leaf for `localhost`, `days_left` from [`NOW`], issued
    /// `lifetime` days before it expires, signed with SHA-256.
    pub(crate) fn cert(key_type: &str, bits: u32, days_left: i64, lifetime: i64) -> CertFacts {
        CertFacts {
            subject: "CN=localhost".into(),
            issuer: "CN=ca".into(),
            key_type: key_type.into(),
            key_bits: bits,
            curve: (key_type == "ECDSA").then(|| format!("P-{bits}")),
            signature: "sha256WithRSAEncryption".into(),
            digest: Some("SHA-256".into()),
            not_before: NOW + days_left * DAY - lifetime * DAY,
            not_after: NOW + days_left * DAY,
            names: vec!["localhost".into()],
            name_matches: true,
            chain_length: 1,
            ocsp: Some(Stapled::None),
            protocol: "TLSv1_3".into(),
            ..CertFacts::default()
        }
    }

    fn rsa() -> CertFacts {
        cert("RSA", 2048, 60, 90)
    }

    fn intermediate() -> Policy {
        Policy::profile("mozilla-intermediate").unwrap()
    }

    fn summaries(findings: &[Finding]) -> Vec<(State, &str)> {
        findings
            .iter()
            .map(|f| (f.state, f.summary.as_str()))
            .collect()
    }

    fn judged(policy: &Policy, cert: &CertFacts) -> Vec<(State, String)> {
        judge_cert(policy, cert, NOW)
            .into_iter()
            .map(|f| (f.state, f.summary))
            .collect()
    }

    fn critical(text: &str) -> Vec<(State, String)> {
        vec![(State::Critical, text.to_owned())]
    }

    fn warning(text: &str) -> Vec<(State, String)> {
        vec![(State::Warning, text.to_owned())]
    }

    #[test]
    fn a_good_certificate_has_no_findings() {
        assert!(judge_cert(&intermediate(), &rsa(), NOW).is_empty());
        assert!(judge_cert(&intermediate(), &cert("ECDSA", 256, 60, 90), NOW).is_empty());
    }

    #[test]
    fn rsa_minimum_at_its_boundary() {
        let mut policy = intermediate();
        policy.min_rsa_bits = 3072;
        assert!(judge_cert(&policy, &cert("RSA", 3072, 60, 90), NOW).is_empty());
        assert_eq!(
            summaries(&judge_cert(&policy, &cert("RSA", 3071, 60, 90), NOW)),
            [(State::Critical, "RSA key of 3071 bits, below 3072")]
        );
    }

    #[test]
    fn ec_minimum_by_curve_size() {
        let mut policy = intermediate();
        policy.min_ec_bits = 384;
        assert!(judge_cert(&policy, &cert("ECDSA", 384, 60, 90), NOW).is_empty());
        assert!(judge_cert(&policy, &cert("ECDSA", 521, 60, 90), NOW).is_empty());
        assert_eq!(
            judged(&policy, &cert("ECDSA", 256, 60, 90)),
            critical("ECDSA key P-256 (256 bits), below 384")
        );
    }

    #[test]
    fn eddsa_and_dsa_keys_by_their_own_minimums() {
        let mut policy = Policy {
            key_types: Vec::new(),
            ..intermediate()
        };
        assert!(judge_cert(&policy, &cert("Ed25519", 256, 60, 90), NOW).is_empty());
        assert!(judge_cert(&policy, &cert("DSA", 2048, 60, 90), NOW).is_empty());
        policy.min_ec_bits = 384;
        assert_eq!(
            judged(&policy, &cert("Ed25519", 256, 60, 90)),
            critical("Ed25519 key of 256 bits, below 384")
        );
        assert!(judge_cert(&policy, &cert("Ed448", 448, 60, 90), NOW).is_empty());
        assert_eq!(
            judged(&policy, &cert("DSA", 1024, 60, 90)),
            critical("DSA key of 1024 bits, below 2048")
        );
        assert_eq!(
            judged(&policy, &cert("unknown", 0, 60, 90)),
            critical("unknown key: not a key type this check can judge")
        );
    }

    #[test]
    fn key_types_outside_the_policy_are_named() {
        let modern = Policy::profile("mozilla-modern").unwrap();
        assert_eq!(
            judged(&modern, &cert("RSA", 4096, 60, 60)),
            critical("RSA key of 4096 bits, mozilla-modern wants ECDSA")
        );
        assert_eq!(
            judged(&intermediate(), &cert("Ed25519", 256, 60, 90)),
            critical("Ed25519 key of 256 bits, mozilla-intermediate wants RSA or ECDSA")
        );
    }

    #[test]
    fn sha1_and_md5_signatures_are_critical_on_the_leaf() {
        for (digest, signature) in [
            ("SHA-1", "sha1WithRSAEncryption"),
            ("MD5", "md5WithRSAEncryption"),
        ] {
            let mut c = rsa();
            c.digest = Some(digest.into());
            c.signature = signature.into();
            let findings = judge_cert(&intermediate(), &c, NOW);
            assert_eq!(
                summaries(&findings),
                [(
                    State::Critical,
                    format!("RSA certificate signed with {digest}").as_str()
                )]
            );
            assert_eq!(
                findings[0].detail.as_deref(),
                Some(
                    format!(
                        "RSA certificate CN=localhost signed with {signature} ({digest}): clients refuse it"
                    )
                    .as_str()
                )
            );
        }
        let mut c = rsa();
        c.digest = Some("SHA-224".into());
        assert!(judge_cert(&intermediate(), &c, NOW).is_empty());
    }

    #[test]
    fn intermediates_are_judged_but_not_a_roots_self_signature() {
        let link = |subject: &str, digest: &str, self_signed: bool| ChainCert {
            subject: subject.into(),
            issuer: "CN=root".into(),
            signature: "sha1WithRSAEncryption".into(),
            digest: Some(digest.into()),
            self_signed,
        };
        let mut c = rsa();
        c.intermediates = vec![
            link("CN=intermediate", "SHA-1", false),
            link("CN=root", "SHA-1", true),
        ];
        assert_eq!(
            judged(&intermediate(), &c),
            critical("RSA certificate intermediate CN=intermediate signed with SHA-1")
        );
        c.intermediates = vec![
            link("CN=intermediate", "SHA-256", false),
            link("CN=root", "MD5", true),
        ];
        assert!(judge_cert(&intermediate(), &c, NOW).is_empty());
    }

    #[test]
    fn expiry_at_the_policys_boundaries() {
        let policy = intermediate();
        // 30 days left is within the 30-day warning; 31 is not.
        assert!(judge_cert(&policy, &cert("RSA", 2048, 31, 90), NOW).is_empty());
        assert_eq!(
            summaries(&judge_cert(&policy, &cert("RSA", 2048, 30, 90), NOW)),
            [(State::Warning, "RSA certificate expires in 30d")]
        );
        assert_eq!(
            summaries(&judge_cert(&policy, &cert("RSA", 2048, 15, 90), NOW)),
            [(State::Warning, "RSA certificate expires in 15d")]
        );
        assert_eq!(
            summaries(&judge_cert(&policy, &cert("RSA", 2048, 14, 90), NOW)),
            [(State::Critical, "RSA certificate expires in 14d")]
        );
        let tight = Policy {
            expiry_warning: Duration::from_hours(10 * 24),
            expiry_critical: Duration::from_hours(3 * 24),
            ..intermediate()
        };
        assert!(judge_cert(&tight, &cert("RSA", 2048, 11, 90), NOW).is_empty());
        assert_eq!(
            judged(&tight, &cert("RSA", 2048, 3, 90)),
            critical("RSA certificate expires in 3d")
        );
    }

    #[test]
    fn not_yet_valid_is_critical() {
        let mut c = rsa();
        c.not_before = NOW + 2 * DAY;
        assert_eq!(
            judged(&intermediate(), &c),
            critical("RSA certificate not valid yet: starts in 2d")
        );
    }

    #[test]
    fn lifetime_cap_at_its_boundary() {
        let policy = intermediate();
        assert!(judge_cert(&policy, &cert("RSA", 2048, 60, 366), NOW).is_empty());
        assert_eq!(
            summaries(&judge_cert(&policy, &cert("RSA", 2048, 60, 367), NOW)),
            [(State::Warning, "RSA certificate valid 367 days, over 366")]
        );
        let uncapped = Policy {
            max_lifetime: None,
            ..intermediate()
        };
        assert!(judge_cert(&uncapped, &cert("RSA", 2048, 60, 5000), NOW).is_empty());
    }

    #[test]
    fn expired_mismatched_and_incomplete_certificates() {
        let mut c = cert("ECDSA", 256, -2, 30);
        c.name_matches = false;
        c.chain_error =
            Some("incomplete: the server does not send the issuer of CN=localhost (CN=ca)".into());
        let f = judge_cert(&intermediate(), &c, NOW);
        assert_eq!(
            summaries(&f),
            [
                (State::Critical, "ECDSA certificate expired 2d ago"),
                (State::Critical, "ECDSA certificate does not name the host"),
                (
                    State::Warning,
                    "ECDSA certificate chain incomplete: the server does not send the issuer of CN=localhost (CN=ca)"
                ),
            ],
        );
        c.names.clear();
        assert_eq!(
            judge_cert(&intermediate(), &c, NOW)[1].detail.as_deref(),
            Some("ECDSA certificate names no names (no subjectAltName), not the host")
        );
    }

    fn stapled(status: OcspStatus, next_update: Option<i64>) -> Stapled {
        Stapled::Response {
            status,
            this_update: NOW - DAY,
            next_update,
        }
    }

    fn with_ocsp(ocsp: Option<Stapled>) -> CertFacts {
        CertFacts { ocsp, ..rsa() }
    }

    fn stapling_policy(required: Option<bool>) -> Policy {
        Policy {
            ocsp_stapling: required,
            ..intermediate()
        }
    }

    #[test]
    fn stapling_required() {
        let policy = stapling_policy(Some(true));
        assert_eq!(
            judged(&policy, &with_ocsp(Some(Stapled::None))),
            warning("RSA certificate: no OCSP response stapled")
        );
        let good = with_ocsp(Some(stapled(OcspStatus::Good, Some(NOW + DAY))));
        assert!(judge_cert(&policy, &good, NOW).is_empty());
        // Due exactly now is still fresh; a second later it is stale.
        let due_now = with_ocsp(Some(stapled(OcspStatus::Good, Some(NOW))));
        assert!(judge_cert(&policy, &due_now, NOW).is_empty());
        let stale = with_ocsp(Some(stapled(OcspStatus::Good, Some(NOW - 3 * DAY))));
        assert_eq!(
            judged(&policy, &stale),
            warning("RSA certificate: stapled OCSP response expired 3d ago")
        );
        let legacy = with_ocsp(None);
        assert_eq!(
            judged(&policy, &legacy),
            warning("RSA certificate: OCSP stapling not checked over TLSv1_3")
        );
    }

    #[test]
    fn stapling_forbidden() {
        let policy = stapling_policy(Some(false));
        assert!(judge_cert(&policy, &with_ocsp(Some(Stapled::None)), NOW).is_empty());
        assert_eq!(
            judged(&policy, &with_ocsp(Some(stapled(OcspStatus::Good, None)))),
            warning("RSA certificate: OCSP response stapled")
        );
        let unusable = with_ocsp(Some(Stapled::Unusable {
            reason: "not an OCSP response".into(),
        }));
        assert_eq!(judge_cert(&policy, &unusable, NOW).len(), 2);
    }

    #[test]
    fn a_revoked_staple_is_critical_whatever_the_policy() {
        let revoked = with_ocsp(Some(stapled(
            OcspStatus::Revoked {
                at: NOW - 2 * DAY,
                reason: Some("KeyCompromise".into()),
            },
            Some(NOW + DAY),
        )));
        for required in [None, Some(true)] {
            let findings = judge_cert(&stapling_policy(required), &revoked, NOW);
            assert_eq!(
                summaries(&findings),
                [(State::Critical, "RSA certificate revoked (stapled OCSP)")]
            );
            assert!(
                findings[0]
                    .detail
                    .as_deref()
                    .is_some_and(|d| d.contains("2d ago") && d.contains("KeyCompromise")),
                "{findings:?}"
            );
        }
        // Forbidden: revoked and stapled against the policy, both said.
        assert_eq!(
            judge_cert(&stapling_policy(Some(false)), &revoked, NOW).len(),
            2
        );
    }

    #[test]
    fn unknown_and_unusable_staples_warn_and_none_is_fine_unasked() {
        let policy = stapling_policy(None);
        assert!(judge_cert(&policy, &with_ocsp(Some(Stapled::None)), NOW).is_empty());
        assert!(judge_cert(&policy, &with_ocsp(None), NOW).is_empty());
        assert_eq!(
            judged(
                &policy,
                &with_ocsp(Some(stapled(OcspStatus::Unknown, None)))
            ),
            warning("RSA certificate: stapled OCSP response says unknown")
        );
        let unusable = with_ocsp(Some(Stapled::Unusable {
            reason: "the response is about serial 01, not the certificate's 02".into(),
        }));
        assert_eq!(
            judged(&policy, &unusable),
            warning(
                "RSA certificate: stapled OCSP response unusable: the response is about serial 01, not the certificate's 02"
            )
        );
    }

    #[test]
    fn the_long_text_notes_the_staple() {
        assert_eq!(stapling_note(&with_ocsp(None), NOW), None);
        assert_eq!(
            stapling_note(&with_ocsp(Some(Stapled::None)), NOW).as_deref(),
            Some("no OCSP staple")
        );
        assert_eq!(
            stapling_note(
                &with_ocsp(Some(stapled(OcspStatus::Good, Some(NOW - 1)))),
                NOW
            )
            .as_deref(),
            Some("OCSP good, expired")
        );
    }
}
