//! Erlang/OTP `ssl`: an options term for `ssl:listen/2` (and every
//! application that passes `ssl_options` through, RabbitMQ among them).

use std::fmt::Write as _;

use super::{Plan, RenderError};
use crate::suites::{Group, Suite, Version};

/// Every suite OTP 25's `ssl` implements, as `ssl:cipher_suites(all, V)`
/// for TLS 1.0–1.3 lists them: IANA name, the name `ssl:suite_to_openssl_str`
/// gives (what `rabbitmq.conf` takes), key exchange, cipher, MAC, PRF.
pub(super) const SUPPORTED: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "TLS_AES_128_CCM_8_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
        "any",
        "aes_128_ccm_8",
        "aead",
        "sha256",
    ),
    (
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "any",
        "aes_128_ccm",
        "aead",
        "sha256",
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256",
        "any",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_256_GCM_SHA384",
        "any",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
        "any",
        "chacha20_poly1305",
        "aead",
        "sha256",
    ),
    (
        "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
        "DHE-DSS-DES-CBC3-SHA",
        "dhe_dss",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
        "DHE-DSS-AES128-SHA",
        "dhe_dss",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
        "DHE-DSS-AES128-SHA256",
        "dhe_dss",
        "aes_128_cbc",
        "sha256",
        "default_prf",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
        "DHE-DSS-AES128-GCM-SHA256",
        "dhe_dss",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
        "DHE-DSS-AES256-SHA",
        "dhe_dss",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
        "DHE-DSS-AES256-SHA256",
        "dhe_dss",
        "aes_256_cbc",
        "sha256",
        "default_prf",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
        "DHE-DSS-AES256-GCM-SHA384",
        "dhe_dss",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "EDH-RSA-DES-CBC3-SHA",
        "dhe_rsa",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        "DHE-RSA-AES128-SHA",
        "dhe_rsa",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        "DHE-RSA-AES128-SHA256",
        "dhe_rsa",
        "aes_128_cbc",
        "sha256",
        "default_prf",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "DHE-RSA-AES128-GCM-SHA256",
        "dhe_rsa",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        "DHE-RSA-AES256-SHA",
        "dhe_rsa",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        "DHE-RSA-AES256-SHA256",
        "dhe_rsa",
        "aes_256_cbc",
        "sha256",
        "default_prf",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        "DHE-RSA-AES256-GCM-SHA384",
        "dhe_rsa",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "DHE-RSA-CHACHA20-POLY1305",
        "dhe_rsa",
        "chacha20_poly1305",
        "aead",
        "sha256",
    ),
    (
        "TLS_DHE_RSA_WITH_DES_CBC_SHA",
        "EDH-RSA-DES-CBC-SHA",
        "dhe_rsa",
        "des_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        "ECDHE-ECDSA-DES-CBC3-SHA",
        "ecdhe_ecdsa",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDHE-ECDSA-AES128-SHA",
        "ecdhe_ecdsa",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
        "ecdhe_ecdsa",
        "aes_128_cbc",
        "sha256",
        "sha256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
        "ECDHE-ECDSA-AES128-CCM",
        "ecdhe_ecdsa",
        "aes_128_ccm",
        "aead",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        "ECDHE-ECDSA-AES128-CCM8",
        "ecdhe_ecdsa",
        "aes_128_ccm_8",
        "aead",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ecdhe_ecdsa",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDHE-ECDSA-AES256-SHA",
        "ecdhe_ecdsa",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-ECDSA-AES256-SHA384",
        "ecdhe_ecdsa",
        "aes_256_cbc",
        "sha384",
        "sha384",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
        "ECDHE-ECDSA-AES256-CCM",
        "ecdhe_ecdsa",
        "aes_256_ccm",
        "aead",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        "ECDHE-ECDSA-AES256-CCM8",
        "ecdhe_ecdsa",
        "aes_256_ccm_8",
        "aead",
        "default_prf",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ecdhe_ecdsa",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ecdhe_ecdsa",
        "chacha20_poly1305",
        "aead",
        "sha256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
        "ECDHE-ECDSA-RC4-SHA",
        "ecdhe_ecdsa",
        "rc4_128",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "ECDHE-RSA-DES-CBC3-SHA",
        "ecdhe_rsa",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        "ECDHE-RSA-AES128-SHA",
        "ecdhe_rsa",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-RSA-AES128-SHA256",
        "ecdhe_rsa",
        "aes_128_cbc",
        "sha256",
        "sha256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ecdhe_rsa",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        "ECDHE-RSA-AES256-SHA",
        "ecdhe_rsa",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-RSA-AES256-SHA384",
        "ecdhe_rsa",
        "aes_256_cbc",
        "sha384",
        "sha384",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ecdhe_rsa",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ecdhe_rsa",
        "chacha20_poly1305",
        "aead",
        "sha256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        "ECDHE-RSA-RC4-SHA",
        "ecdhe_rsa",
        "rc4_128",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
        "ECDH-ECDSA-DES-CBC3-SHA",
        "ecdh_ecdsa",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDH-ECDSA-AES128-SHA",
        "ecdh_ecdsa",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDH-ECDSA-AES128-SHA256",
        "ecdh_ecdsa",
        "aes_128_cbc",
        "sha256",
        "sha256",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDH-ECDSA-AES128-GCM-SHA256",
        "ecdh_ecdsa",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDH-ECDSA-AES256-SHA",
        "ecdh_ecdsa",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
        "ECDH-ECDSA-AES256-SHA384",
        "ecdh_ecdsa",
        "aes_256_cbc",
        "sha384",
        "sha384",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDH-ECDSA-AES256-GCM-SHA384",
        "ecdh_ecdsa",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
        "ECDH-ECDSA-RC4-SHA",
        "ecdh_ecdsa",
        "rc4_128",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
        "ECDH-RSA-DES-CBC3-SHA",
        "ecdh_rsa",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
        "ECDH-RSA-AES128-SHA",
        "ecdh_rsa",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
        "ECDH-RSA-AES128-SHA256",
        "ecdh_rsa",
        "aes_128_cbc",
        "sha256",
        "sha256",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
        "ECDH-RSA-AES128-GCM-SHA256",
        "ecdh_rsa",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
        "ECDH-RSA-AES256-SHA",
        "ecdh_rsa",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
        "ECDH-RSA-AES256-SHA384",
        "ecdh_rsa",
        "aes_256_cbc",
        "sha384",
        "sha384",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
        "ECDH-RSA-AES256-GCM-SHA384",
        "ecdh_rsa",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_ECDH_RSA_WITH_RC4_128_SHA",
        "ECDH-RSA-RC4-SHA",
        "ecdh_rsa",
        "rc4_128",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA",
        "RSA-PSK-DES-CBC3-SHA",
        "rsa_psk",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",
        "RSA-PSK-AES128-CBC-SHA",
        "rsa_psk",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
        "RSA-PSK-AES128-CBC-SHA256",
        "rsa_psk",
        "aes_128_cbc",
        "sha256",
        "default_prf",
    ),
    (
        "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
        "RSA-PSK-AES128-GCM-SHA256",
        "rsa_psk",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",
        "RSA-PSK-AES256-CBC-SHA",
        "rsa_psk",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
        "RSA-PSK-AES256-CBC-SHA384",
        "rsa_psk",
        "aes_256_cbc",
        "sha384",
        "sha384",
    ),
    (
        "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
        "RSA-PSK-AES256-GCM-SHA384",
        "rsa_psk",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_RSA_PSK_WITH_RC4_128_SHA",
        "RSA-PSK-RC4-SHA",
        "rsa_psk",
        "rc4_128",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        "DES-CBC3-SHA",
        "rsa",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_AES_128_CBC_SHA",
        "AES128-SHA",
        "rsa",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_AES_128_CBC_SHA256",
        "AES128-SHA256",
        "rsa",
        "aes_128_cbc",
        "sha256",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "AES128-GCM-SHA256",
        "rsa",
        "aes_128_gcm",
        "aead",
        "sha256",
    ),
    (
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "AES256-SHA",
        "rsa",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_AES_256_CBC_SHA256",
        "AES256-SHA256",
        "rsa",
        "aes_256_cbc",
        "sha256",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        "AES256-GCM-SHA384",
        "rsa",
        "aes_256_gcm",
        "aead",
        "sha384",
    ),
    (
        "TLS_RSA_WITH_DES_CBC_SHA",
        "DES-CBC-SHA",
        "rsa",
        "des_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_RC4_128_MD5",
        "RC4-MD5",
        "rsa",
        "rc4_128",
        "md5",
        "default_prf",
    ),
    (
        "TLS_RSA_WITH_RC4_128_SHA",
        "RC4-SHA",
        "rsa",
        "rc4_128",
        "sha",
        "default_prf",
    ),
    (
        "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA",
        "SRP-DSS-DES-CBC3-SHA",
        "srp_dss",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",
        "SRP-DSS-AES128-CBC-SHA",
        "srp_dss",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",
        "SRP-DSS-AES256-CBC-SHA",
        "srp_dss",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA",
        "SRP-RSA-DES-CBC3-SHA",
        "srp_rsa",
        "'3des_ede_cbc'",
        "sha",
        "default_prf",
    ),
    (
        "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
        "SRP-RSA-AES-128-CBC-SHA",
        "srp_rsa",
        "aes_128_cbc",
        "sha",
        "default_prf",
    ),
    (
        "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
        "SRP-RSA-AES-256-CBC-SHA",
        "srp_rsa",
        "aes_256_cbc",
        "sha",
        "default_prf",
    ),
];

/// OTP's own spelling of a suite, when it implements it.
pub(super) struct ErlangSuite {
    pub openssl: &'static str,
    /// `#{key_exchange => ..., cipher => ..., mac => ..., prf => ...}`.
    pub map: String,
}

pub(super) fn suite(suite: &Suite) -> Option<ErlangSuite> {
    SUPPORTED
        .iter()
        .find(|row| row.0 == suite.iana)
        .map(|&(_, openssl, kx, cipher, mac, prf)| ErlangSuite {
            openssl,
            map: format!(
                "#{{key_exchange => {kx}, cipher => {cipher}, mac => {mac}, prf => {prf}}}"
            ),
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
