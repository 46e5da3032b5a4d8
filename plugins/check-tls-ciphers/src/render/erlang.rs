//! Erlang/OTP `ssl`: an options term for `ssl:listen/2` (and every
//! application that passes `ssl_options` through, RabbitMQ among them).

use std::fmt::Write as _;

use super::{Plan, RenderError};
use crate::suites::{Group, Suite, Version};

/// The suites OTP 25's `ssl` implements, as `ssl:cipher_suites(all, V)`
/// lists them for TLS 1.0–1.3 (IANA names): a suite outside it makes
/// `ssl:listen` refuse the whole options list. Their tuples are the
/// registry's Erlang names.
const SUPPORTED: &[&str] = &[
    "TLS_AES_128_CCM_8_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_RSA_WITH_DES_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDH_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",
    "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",
    "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
    "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_PSK_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_DES_CBC_SHA",
    "TLS_RSA_WITH_RC4_128_MD5",
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA",
    "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",
    "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",
    "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
    "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
];

/// Where `ssl:suite_to_openssl_str` (what `rabbitmq.conf` takes) differs
/// from OpenSSL's own name for a suite: (IANA name, OTP's string).
pub(super) const OTP_OPENSSL_NAMES: &[(&str, &str)] = &[
    ("TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "DHE-DSS-DES-CBC3-SHA"),
    ("TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA", "RSA-PSK-DES-CBC3-SHA"),
    (
        "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA",
        "SRP-DSS-DES-CBC3-SHA",
    ),
    (
        "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",
        "SRP-DSS-AES128-CBC-SHA",
    ),
    (
        "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",
        "SRP-DSS-AES256-CBC-SHA",
    ),
    (
        "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA",
        "SRP-RSA-DES-CBC3-SHA",
    ),
];

/// OTP's own spelling of a suite, when it implements it.
pub(super) struct ErlangSuite {
    pub openssl: &'static str,
    /// `#{key_exchange => ..., cipher => ..., mac => ..., prf => ...}`.
    pub map: String,
}

pub(super) fn suite(suite: &Suite) -> Option<ErlangSuite> {
    if !SUPPORTED.contains(&suite.iana) {
        return None;
    }
    let openssl = OTP_OPENSSL_NAMES
        .iter()
        .find(|(iana, _)| *iana == suite.iana)
        .map_or(
            // TLS 1.3 suites go by their IANA names (OpenSSL has no other
            // for the CCM ones).
            if suite.openssl.is_empty() {
                suite.iana
            } else {
                suite.openssl
            },
            |(_, otp)| otp,
        );
    Some(ErlangSuite {
        openssl,
        map: suite.erlang_map()?,
    })
}

pub(super) const WHY_NOT: &str = "Erlang/OTP 25's ssl does not implement it";

/// A group for `eccs`, the curves of TLS 1.2 and older ECDHE: OTP 25 takes
/// only the X9.62/SEC curves there, not x25519 or x448.
fn ecc(group: &Group) -> Result<String, &'static str> {
    match group.code {
        21..=28 => Ok(group.iana.to_owned()),
        29 | 30 => Err(
            "OTP 25's eccs has no Montgomery curves (it drops them without a word); TLS 1.2 ECDHE uses the others",
        ),
        _ => Err("not an elliptic curve OTP 25 offers in TLS 1.2"),
    }
}

/// A group for `supported_groups`, TLS 1.3's key exchange.
fn tls13_group(group: &Group) -> Result<String, &'static str> {
    match group.code {
        29 => Ok("x25519".to_owned()),
        30 => Ok("x448".to_owned()),
        23..=25 | 0x0100..=0x0104 => Ok(group.iana.to_owned()),
        0x11EC => Err("OTP knows it from 28 on; 25 does not"),
        _ => Err("OTP 25 does not offer it in TLS 1.3"),
    }
}

/// The policy's protocols OTP 25 implements (it refuses `sslv3` outright),
/// and a comment line for SSL 3.0 when left out.
pub(super) fn versions(plan: &Plan, comment: &str) -> Result<(Vec<Version>, String), RenderError> {
    let kept: Vec<Version> = plan
        .versions
        .iter()
        .copied()
        .filter(|&v| v != Version::Ssl3)
        .collect();
    if kept.is_empty() {
        return Err(plan.refuse(
            "OTP 25's ssl does not implement SSL 3.0, the only protocol the policy allows"
                .to_owned(),
        ));
    }
    let note = if kept.len() < plan.versions.len() {
        format!("{comment} left out SSL 3.0: OTP 25's ssl does not implement it\n")
    } else {
        String::new()
    };
    Ok((kept, note))
}

fn version(v: Version) -> &'static str {
    match v {
        Version::Ssl3 => "sslv3",
        Version::Tls10 => "tlsv1",
        Version::Tls11 => "'tlsv1.1'",
        Version::Tls12 => "'tlsv1.2'",
        Version::Tls13 => "'tlsv1.3'",
    }
}

/// The options, one per element, and the comment lines for what was left
/// out; `indent` goes before every continued line.
pub(super) fn options(plan: &Plan, indent: &str) -> Result<(Vec<String>, String), RenderError> {
    let legacy = plan.legacy_names("%%", WHY_NOT, |s| suite(s).map(|e| e.map))?;
    let tls13 = plan.tls13_names("%%", WHY_NOT, |s| suite(s).map(|e| e.map))?;
    let mut notes = legacy.notes() + &tls13.notes();
    let (versions, left_out) = versions(plan, "%%")?;
    notes.push_str(&left_out);
    let versions: Vec<&str> = versions.into_iter().map(version).collect();
    let mut options = vec![format!("{{versions, [{}]}}", versions.join(", "))];
    let mut ciphers: Vec<String> = Vec::new();
    if plan.allows_tls13() {
        ciphers.extend(tls13.names.iter().cloned());
    }
    if plan.allows_legacy() {
        ciphers.extend(legacy.names.iter().cloned());
    }
    let sep = format!(",\n{indent}           ");
    options.push(format!("{{ciphers, [{}]}}", ciphers.join(&sep)));
    let ecdhe = plan.allows_legacy() && plan.legacy.iter().any(|s| s.kx.starts_with("ECDH"));
    if ecdhe && let Some(eccs) = plan.group_names("%%", ecc)? {
        notes.push_str(&eccs.notes());
        options.push(format!("{{eccs, [{}]}}", eccs.join(", ")));
    }
    if plan.allows_tls13()
        && let Some(groups) = plan.group_names("%%", tls13_group)?
    {
        notes.push_str(&groups.notes());
        options.push(format!("{{supported_groups, [{}]}}", groups.join(", ")));
    }
    if let Some(server) = plan.policy.server_order {
        options.push(format!("{{honor_cipher_order, {server}}}"));
    }
    Ok((options, notes))
}

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let (options, notes) = options(plan, " ")?;
    let mut out = plan.header("%%");
    out.push_str(&notes);
    out.push_str(
        "%% ssl:listen(Port, [{certfile, ...}, {keyfile, ...} | Options]), with Options =\n",
    );
    let _ = writeln!(out, "[{}].", options.join(",\n "));
    Ok(out)
}
