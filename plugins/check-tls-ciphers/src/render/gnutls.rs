//! GnuTLS: one priority string (`gnutls-serv --priority`, Exim's
//! `tls_require_ciphers`, an application's `gnutls_priority_init`).
//!
//! A priority string cannot list suites: it lists key exchanges, ciphers
//! and MACs, and GnuTLS enables every suite that combines them. So the
//! render picks the policy's parts, computes that product, and leaves out
//! (from the end of the preference order) any suite whose parts would let
//! in a suite the policy does not allow. It starts from `NONE`, so
//! nothing else is on.

use std::fmt::Write as _;

use super::{Plan, RenderError};
use crate::suites::{Dialect, Group, Suite, Version};

/// A suite's parts as GnuTLS names them: key exchange (none in TLS 1.3),
/// cipher, MAC.
pub(super) fn parts(suite: &Suite) -> Option<(Option<&'static str>, &'static str, &'static str)> {
    // The registry's GnuTLS names are `gnutls-cli -l`'s: what 3.7 implements.
    suite.name_in(Dialect::Gnutls)?;
    let kx = match (suite.kx, suite.auth) {
        ("any", _) => None,
        ("ECDHE", "RSA") => Some("ECDHE-RSA"),
        ("ECDHE", "ECDSA") => Some("ECDHE-ECDSA"),
        ("DHE", "RSA") => Some("DHE-RSA"),
        ("DHE", "DSS") => Some("DHE-DSS"),
        ("RSA", "RSA") => Some("RSA"),
        ("DH", "None") => Some("ANON-DH"),
        ("ECDH", "None") => Some("ANON-ECDH"),
        ("PSK", "PSK") => Some("PSK"),
        ("DHEPSK", "PSK") => Some("DHE-PSK"),
        ("ECDHEPSK", "PSK") => Some("ECDHE-PSK"),
        ("RSAPSK", "RSA") => Some("RSA-PSK"),
        ("SRP", "SRP") => Some("SRP"),
        ("SRP", "RSA") => Some("SRP-RSA"),
        ("SRP", "DSS") => Some("SRP-DSS"),
        _ => return None,
    };
    let cipher = match suite.enc {
        "AES_128_GCM" => "AES-128-GCM",
        "AES_256_GCM" => "AES-256-GCM",
        "CHACHA20_POLY1305" => "CHACHA20-POLY1305",
        "AES_128_CCM" => "AES-128-CCM",
        "AES_256_CCM" => "AES-256-CCM",
        "AES_128_CCM_8" => "AES-128-CCM-8",
        "AES_256_CCM_8" => "AES-256-CCM-8",
        "AES_128_CBC" => "AES-128-CBC",
        "AES_256_CBC" => "AES-256-CBC",
        "CAMELLIA_128_CBC" => "CAMELLIA-128-CBC",
        "CAMELLIA_256_CBC" => "CAMELLIA-256-CBC",
        "CAMELLIA_128_GCM" => "CAMELLIA-128-GCM",
        "CAMELLIA_256_GCM" => "CAMELLIA-256-GCM",
        "3DES_EDE_CBC" => "3DES-CBC",
        "RC4_128" => "ARCFOUR-128",
        "NULL" => "NULL",
        _ => return None,
    };
    let mac = match suite.mac {
        "AEAD" => "AEAD",
        "SHA1" => "SHA1",
        "SHA256" => "SHA256",
        "SHA384" => "SHA384",
        "MD5" => "MD5",
        _ => return None,
    };
    Some((kx, cipher, mac))
}

fn group(group: &Group) -> Result<String, &'static str> {
    let name = match group.code {
        29 => "X25519",
        30 => "X448",
        23 => "SECP256R1",
        24 => "SECP384R1",
        25 => "SECP521R1",
        21 => "SECP224R1",
        0x0100 => "FFDHE2048",
        0x0101 => "FFDHE3072",
        0x0102 => "FFDHE4096",
        0x0103 => "FFDHE6144",
        0x0104 => "FFDHE8192",
        _ => return Err("GnuTLS 3.7 does not implement it"),
    };
    Ok(format!("+GROUP-{name}"))
}

fn version(v: Version) -> &'static str {
    match v {
        Version::Ssl3 => "+VERS-SSL3.0",
        Version::Tls10 => "+VERS-TLS1.0",
        Version::Tls11 => "+VERS-TLS1.1",
        Version::Tls12 => "+VERS-TLS1.2",
        Version::Tls13 => "+VERS-TLS1.3",
    }
}

/// The key exchanges, ciphers and MACs of `suites`, each in order of first
/// use.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts {
    kx: Vec<&'static str>,
    ciphers: Vec<&'static str>,
    macs: Vec<&'static str>,
}

impl Parts {
    fn of(suites: &[&'static Suite]) -> Parts {
        let mut parts = Parts::default();
        for suite in suites {
            let Some((kx, cipher, mac)) = super::gnutls::parts(suite) else {
                continue;
            };
            if let Some(kx) = kx {
                push_new(&mut parts.kx, kx);
            }
            push_new(&mut parts.ciphers, cipher);
            push_new(&mut parts.macs, mac);
        }
        parts
    }

    /// Every (version, suite) GnuTLS would enable with these parts.
    fn product(&self, versions: &[Version]) -> Vec<(Version, &'static Suite)> {
        let mut on = Vec::new();
        for &v in versions {
            for suite in crate::suites::all() {
                let Some((kx, cipher, mac)) = parts(suite) else {
                    continue;
                };
                let kx_on = kx.is_none_or(|k| self.kx.contains(&k));
                if suite.offered_for(v)
                    && kx_on
                    && self.ciphers.contains(&cipher)
                    && self.macs.contains(&mac)
                {
                    on.push((v, suite));
                }
            }
        }
        on
    }
}

fn push_new(list: &mut Vec<&'static str>, item: &'static str) {
    if !list.contains(&item) {
        list.push(item);
    }
}

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    const WHY_NOT: &str = "GnuTLS 3.7 does not implement it";
    let mut notes = String::new();
    let mut legacy: Vec<&'static Suite> = Vec::new();
    let mut tls13: Vec<&'static Suite> = Vec::new();
    for (from, into) in [(&plan.legacy, &mut legacy), (&plan.tls13, &mut tls13)] {
        for &suite in from {
            if parts(suite).is_some() {
                into.push(suite);
            } else {
                let _ = writeln!(notes, "# left out {}: {WHY_NOT}", suite.display_name());
            }
        }
    }
    // Drop suites from the least preferred end until the product of the
    // parts stays inside the policy; TLS 1.3 suites go last, since they
    // bring only a cipher.
    let parts = loop {
        let chosen: Vec<&'static Suite> = tls13.iter().chain(&legacy).copied().collect();
        let parts = Parts::of(&chosen);
        let wider: Vec<(Version, &'static Suite)> = parts
            .product(&plan.versions)
            .into_iter()
            .filter(|(v, s)| !plan.policy.allows_suite(*v, s.code))
            .collect();
        let Some((v, extra)) = wider.first() else {
            break parts;
        };
        let dropped = if legacy.is_empty() {
            tls13.pop()
        } else {
            legacy.pop()
        };
        let Some(dropped) = dropped else {
            break parts;
        };
        let _ = writeln!(
            notes,
            "# left out {}: with the other suites' key exchanges, ciphers and MACs it would also enable {} in {v}, which the policy does not allow",
            dropped.display_name(),
            extra.display_name()
        );
    };
    if plan.allows_legacy() && legacy.is_empty() {
        return Err(plan.refuse(
            "no suite of the policy for TLS 1.2 and older can be written as GnuTLS priority parts without enabling suites it does not allow".to_owned(),
        ));
    }
    if plan.allows_tls13() && tls13.is_empty() {
        return Err(
            plan.refuse("no TLS 1.3 suite of the policy is one GnuTLS 3.7 implements".to_owned())
        );
    }
    // GnuTLS starts from NONE here: a policy that allows any group gets
    // every group GnuTLS has.
    let groups = plan
        .group_names("#", group)?
        .unwrap_or_else(|| super::Named {
            names: [
                "X25519",
                "SECP256R1",
                "SECP384R1",
                "SECP521R1",
                "X448",
                "FFDHE2048",
                "FFDHE3072",
                "FFDHE4096",
                "FFDHE6144",
                "FFDHE8192",
            ]
            .iter()
            .map(|g| format!("+GROUP-{g}"))
            .collect(),
            notes: Vec::new(),
        });
    let mut items: Vec<String> = vec!["NONE".to_owned()];
    items.extend(plan.versions.iter().map(|&v| version(v).to_owned()));
    items.extend(parts.kx.iter().map(|k| format!("+{k}")));
    items.extend(parts.ciphers.iter().map(|c| format!("+{c}")));
    items.extend(parts.macs.iter().map(|m| format!("+{m}")));
    items.extend(groups.names.iter().cloned());
    // Signature algorithms and compression are not the policy's business;
    // without them no handshake completes.
    items.extend(["+SIGN-ALL".to_owned(), "+COMP-NULL".to_owned()]);
    if plan.policy.server_order == Some(true) {
        items.push("%SERVER_PRECEDENCE".to_owned());
    }
    let mut out = plan.header("#");
    if plan.policy.groups.is_empty() {
        out.push_str("# the policy allows any group: every group GnuTLS 3.7 has\n");
    }
    out.push_str(&notes);
    out.push_str(&groups.notes());
    out.push_str("# GnuTLS orders suites by its own rules within these parts\n");
    out.push_str(&items.join(":"));
    out.push('\n');
    Ok(out)
}
