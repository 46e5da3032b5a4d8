//! The findings one certificate earns against a policy: its key, its
//! dates, its names and its chain.

use std::time::Duration;

use nightwatch_core::display;
use nightwatch_core::{Finding, State};

use crate::cert::CertFacts;
use crate::policy::Policy;

const DAY: i64 = 86_400;

/// Every finding of `cert` under `policy` at `now` (Unix seconds), worst
/// kinds first.
#[must_use]
pub fn judge_cert(policy: &Policy, cert: &CertFacts, now: i64) -> Vec<Finding> {
    let mut findings = Vec::new();
    let which = which(cert);
    if let Some(problem) = key_problem(policy, cert) {
        findings.push(Finding::new(State::Critical, problem));
    }
    if let Some(finding) = expiry(policy, cert, now) {
        findings.push(finding);
    }
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
        findings.push(
            Finding::new(State::Critical, format!("{which} does not name the host")).with_detail(
                format!("{which} names {}, not the host", cert.names.join(", ")),
            ),
        );
    }
    if let Some(error) = &cert.chain_error {
        findings.push(Finding::new(
            State::Warning,
            format!("{which} chain does not verify: {error}"),
        ));
    }
    findings
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

/// Expired, or expiring within the policy's critical or warning time.
fn expiry(policy: &Policy, cert: &CertFacts, now: i64) -> Option<Finding> {
    let which = which(cert);
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

fn secs(seconds: i64) -> Duration {
    Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const NOW: i64 = 1000 * DAY;

    /// A valid leaf for `localhost`, `days_left` from [`NOW`], issued
    /// `lifetime` days before it expires.
    pub(crate) fn cert(key_type: &str, bits: u32, days_left: i64, lifetime: i64) -> CertFacts {
        CertFacts {
            subject: "CN=localhost".into(),
            issuer: "CN=ca".into(),
            key_type: key_type.into(),
            key_bits: bits,
            curve: (key_type == "ECDSA").then(|| format!("P-{bits}")),
            signature: "sha256WithRSAEncryption".into(),
            not_before: NOW + days_left * DAY - lifetime * DAY,
            not_after: NOW + days_left * DAY,
            names: vec!["localhost".into()],
            name_matches: true,
            chain_error: None,
            chain_length: 1,
            protocol: "TLSv1_3".into(),
        }
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

    #[test]
    fn a_good_certificate_has_no_findings() {
        assert!(judge_cert(&intermediate(), &cert("RSA", 2048, 60, 90), NOW).is_empty());
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
    fn key_types_outside_the_policy_are_named() {
        let modern = Policy::profile("mozilla-modern").unwrap();
        assert_eq!(
            summaries(&judge_cert(&modern, &cert("RSA", 4096, 60, 60), NOW)),
            [(
                State::Critical,
                "RSA key of 4096 bits, mozilla-modern wants ECDSA"
            )]
        );
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
            summaries(&judge_cert(&policy, &cert("RSA", 2048, 14, 90), NOW)),
            [(State::Critical, "RSA certificate expires in 14d")]
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
    fn expired_mismatched_and_unverified_certificates() {
        let mut c = cert("ECDSA", 256, -2, 30);
        c.name_matches = false;
        c.chain_error = Some("invalid peer certificate: UnknownIssuer".into());
        let f = judge_cert(&intermediate(), &c, NOW);
        let states: Vec<State> = f.iter().map(|f| f.state).collect();
        assert_eq!(
            states,
            [State::Critical, State::Critical, State::Warning],
            "{f:?}"
        );
        assert!(
            f[0].summary.starts_with("ECDSA certificate expired 2d"),
            "{}",
            f[0].summary
        );
    }
}
