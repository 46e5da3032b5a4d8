//! JRuby: `OpenSSL::SSL::SSLContext` settings for jruby-openssl, which
//! runs on the JVM's JSSE and translates OpenSSL names through its own
//! table (`CipherStrings.java`). A name missing from that table is
//! dropped without a word, and the server takes whatever is left: so the
//! render keeps only names the table maps, and names the ones it dropped.

use std::fmt::Write as _;

use super::{Plan, RenderError, java};
use crate::suites::{Suite, Version};

/// jruby-openssl 0.14's `SuiteToOSSL` entries (JSSE name → its OpenSSL
/// name) whose name it also defines (`CipherNames`), read from
/// src/main/java/org/jruby/ext/openssl/CipherStrings.java at commit
/// 484a0c9 (unchanged since 0.14.0, what Debian 12's jruby ships).
const MAPPED: &[(&str, &str)] = &[
    ("SSL_CK_RC4_128_EXPORT40_WITH_MD5", "EXP-RC4-MD5"),
    ("SSL_CK_RC4_128_WITH_MD5", "RC4-MD5"),
    (
        "SSL_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-EDH-DSS-DES-CBC-SHA",
    ),
    ("SSL_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "EDH-DSS-DES-CBC3-SHA"),
    ("SSL_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA"),
    (
        "SSL_DHE_DSS_WITH_AES_128_CBC_SHA256",
        "DHE-DSS-AES128-SHA256",
    ),
    (
        "SSL_DHE_DSS_WITH_AES_128_GCM_SHA256",
        "DHE-DSS-AES128-GCM-SHA256",
    ),
    ("SSL_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA"),
    (
        "SSL_DHE_DSS_WITH_AES_256_CBC_SHA256",
        "DHE-DSS-AES256-SHA256",
    ),
    (
        "SSL_DHE_DSS_WITH_AES_256_GCM_SHA384",
        "DHE-DSS-AES256-GCM-SHA384",
    ),
    (
        "SSL_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-EDH-RSA-DES-CBC-SHA",
    ),
    ("SSL_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA"),
    ("SSL_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA"),
    (
        "SSL_DHE_RSA_WITH_AES_128_CBC_SHA256",
        "DHE-RSA-AES128-SHA256",
    ),
    (
        "SSL_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "DHE-RSA-AES128-GCM-SHA256",
    ),
    ("SSL_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA"),
    (
        "SSL_DHE_RSA_WITH_AES_256_CBC_SHA256",
        "DHE-RSA-AES256-SHA256",
    ),
    (
        "SSL_DHE_RSA_WITH_AES_256_GCM_SHA384",
        "DHE-RSA-AES256-GCM-SHA384",
    ),
    ("SSL_DHE_RSA_WITH_DES_CBC_SHA", "EDH-RSA-DES-CBC-SHA"),
    (
        "SSL_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-ADH-DES-CBC-SHA",
    ),
    ("SSL_DH_anon_EXPORT_WITH_RC4_40_MD5", "EXP-ADH-RC4-MD5"),
    ("SSL_DH_anon_WITH_3DES_EDE_CBC_SHA", "ADH-DES-CBC3-SHA"),
    ("SSL_DH_anon_WITH_AES_128_CBC_SHA", "ADH-AES128-SHA"),
    ("SSL_DH_anon_WITH_AES_256_CBC_SHA", "ADH-AES256-SHA"),
    ("SSL_DH_anon_WITH_DES_CBC_SHA", "ADH-DES-CBC-SHA"),
    ("SSL_DH_anon_WITH_RC4_128_MD5", "ADH-RC4-MD5"),
    (
        "SSL_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDHE-ECDSA-AES128-SHA",
    ),
    (
        "SSL_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
    ),
    (
        "SSL_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
    ),
    (
        "SSL_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDHE-ECDSA-AES256-SHA",
    ),
    (
        "SSL_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-ECDSA-AES256-SHA384",
    ),
    (
        "SSL_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
    ),
    ("SSL_ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE-ECDSA-NULL-SHA"),
    ("SSL_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"),
    (
        "SSL_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-RSA-AES128-SHA256",
    ),
    (
        "SSL_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ),
    ("SSL_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"),
    (
        "SSL_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ),
    ("SSL_ECDHE_RSA_WITH_NULL_SHA", "ECDHE-RSA-NULL-SHA"),
    (
        "SSL_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDH-ECDSA-AES128-SHA",
    ),
    (
        "SSL_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDH-ECDSA-AES128-SHA256",
    ),
    (
        "SSL_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDH-ECDSA-AES128-GCM-SHA256",
    ),
    (
        "SSL_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDH-ECDSA-AES256-SHA",
    ),
    (
        "SSL_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
        "ECDH-ECDSA-AES256-SHA384",
    ),
    (
        "SSL_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDH-ECDSA-AES256-GCM-SHA384",
    ),
    ("SSL_ECDH_ECDSA_WITH_NULL_SHA", "ECDH-ECDSA-NULL-SHA"),
    ("SSL_ECDH_RSA_WITH_AES_128_CBC_SHA", "ECDH-RSA-AES128-SHA"),
    (
        "SSL_ECDH_RSA_WITH_AES_128_CBC_SHA256",
        "ECDH-RSA-AES128-SHA256",
    ),
    (
        "SSL_ECDH_RSA_WITH_AES_128_GCM_SHA256",
        "ECDH-RSA-AES128-GCM-SHA256",
    ),
    ("SSL_ECDH_RSA_WITH_AES_256_CBC_SHA", "ECDH-RSA-AES256-SHA"),
    (
        "SSL_ECDH_RSA_WITH_AES_256_CBC_SHA384",
        "ECDH-RSA-AES256-SHA384",
    ),
    (
        "SSL_ECDH_RSA_WITH_AES_256_GCM_SHA384",
        "ECDH-RSA-AES256-GCM-SHA384",
    ),
    ("SSL_ECDH_RSA_WITH_NULL_SHA", "ECDH-RSA-NULL-SHA"),
    ("SSL_ECDH_anon_WITH_AES_128_CBC_SHA", "AECDH-AES128-SHA"),
    ("SSL_ECDH_anon_WITH_AES_256_CBC_SHA", "AECDH-AES256-SHA"),
    ("SSL_ECDH_anon_WITH_NULL_SHA", "AECDH-NULL-SHA"),
    ("SSL_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-DES-CBC-SHA"),
    ("SSL_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "EXP-RC2-CBC-MD5"),
    ("SSL_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5"),
    ("SSL_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"),
    ("SSL_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
    ("SSL_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"),
    ("SSL_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"),
    ("SSL_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"),
    ("SSL_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256"),
    ("SSL_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"),
    ("SSL_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA"),
    ("SSL_RSA_WITH_IDEA_CBC_SHA", "IDEA-CBC-SHA"),
    ("SSL_RSA_WITH_NULL_MD5", "NULL-MD5"),
    ("SSL_RSA_WITH_NULL_SHA", "NULL-SHA"),
    ("SSL_RSA_WITH_RC4_128_MD5", "RC4-MD5"),
    ("SSL_RSA_WITH_RC4_128_SHA", "RC4-SHA"),
    ("TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256"),
    ("TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_SHA256"),
    ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
    ("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
    ),
    (
        "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA",
        "EXP1024-DHE-DSS-DES-CBC-SHA",
    ),
    (
        "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA",
        "EXP1024-DHE-DSS-RC4-SHA",
    ),
    (
        "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-EDH-DSS-DES-CBC-SHA",
    ),
    ("TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "EDH-DSS-DES-CBC3-SHA"),
    ("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", "DHE-DSS-AES128-SHA"),
    (
        "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
        "DHE-DSS-AES128-SHA256",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
        "DHE-DSS-AES128-GCM-SHA256",
    ),
    ("TLS_DHE_DSS_WITH_AES_256_CBC_SHA", "DHE-DSS-AES256-SHA"),
    (
        "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
        "DHE-DSS-AES256-SHA256",
    ),
    (
        "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
        "DHE-DSS-AES256-GCM-SHA384",
    ),
    ("TLS_DHE_DSS_WITH_RC4_128_SHA", "DHE-DSS-RC4-SHA"),
    (
        "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-EDH-RSA-DES-CBC-SHA",
    ),
    ("TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA"),
    ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA"),
    (
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        "DHE-RSA-AES128-SHA256",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        "DHE-RSA-AES128-GCM-SHA256",
    ),
    ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA"),
    (
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        "DHE-RSA-AES256-SHA256",
    ),
    (
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        "DHE-RSA-AES256-GCM-SHA384",
    ),
    ("TLS_DHE_RSA_WITH_DES_CBC_SHA", "EDH-RSA-DES-CBC-SHA"),
    ("TLS_DH_DSS_WITH_AES_128_CBC_SHA", "DH-DSS-AES128-SHA"),
    ("TLS_DH_DSS_WITH_AES_256_CBC_SHA", "DH-DSS-AES256-SHA"),
    ("TLS_DH_RSA_WITH_AES_128_CBC_SHA", "DH-RSA-AES128-SHA"),
    ("TLS_DH_RSA_WITH_AES_256_CBC_SHA", "DH-RSA-AES256-SHA"),
    (
        "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
        "EXP-ADH-DES-CBC-SHA",
    ),
    ("TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", "EXP-ADH-RC4-MD5"),
    ("TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", "ADH-DES-CBC3-SHA"),
    ("TLS_DH_anon_WITH_AES_128_CBC_SHA", "ADH-AES128-SHA"),
    ("TLS_DH_anon_WITH_AES_256_CBC_SHA", "ADH-AES256-SHA"),
    ("TLS_DH_anon_WITH_DES_CBC_SHA", "ADH-DES-CBC-SHA"),
    ("TLS_DH_anon_WITH_RC4_128_MD5", "ADH-RC4-MD5"),
    (
        "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        "ECDHE-ECDSA-DES-CBC3-SHA",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDHE-ECDSA-AES128-SHA",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-ECDSA-AES128-SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDHE-ECDSA-AES256-SHA",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-ECDSA-AES256-SHA384",
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
    ),
    ("TLS_ECDHE_ECDSA_WITH_NULL_SHA", "ECDHE-ECDSA-NULL-SHA"),
    ("TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"),
    (
        "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        "ECDHE-RSA-DES-CBC3-SHA",
    ),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        "ECDHE-RSA-AES128-SHA256",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "ECDHE-RSA-AES256-SHA384",
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
    ),
    ("TLS_ECDHE_RSA_WITH_NULL_SHA", "ECDHE-RSA-NULL-SHA"),
    ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"),
    (
        "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
        "ECDH-ECDSA-DES-CBC3-SHA",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
        "ECDH-ECDSA-AES128-SHA",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
        "ECDH-ECDSA-AES128-SHA256",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDH-ECDSA-AES128-GCM-SHA256",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
        "ECDH-ECDSA-AES256-SHA",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
        "ECDH-ECDSA-AES256-SHA384",
    ),
    (
        "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
        "ECDH-ECDSA-AES256-GCM-SHA384",
    ),
    ("TLS_ECDH_ECDSA_WITH_NULL_SHA", "ECDH-ECDSA-NULL-SHA"),
    ("TLS_ECDH_ECDSA_WITH_RC4_128_SHA", "ECDH-ECDSA-RC4-SHA"),
    (
        "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
        "ECDH-RSA-DES-CBC3-SHA",
    ),
    ("TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", "ECDH-RSA-AES128-SHA"),
    (
        "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
        "ECDH-RSA-AES128-SHA256",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
        "ECDH-RSA-AES128-GCM-SHA256",
    ),
    ("TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", "ECDH-RSA-AES256-SHA"),
    (
        "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
        "ECDH-RSA-AES256-SHA384",
    ),
    (
        "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
        "ECDH-RSA-AES256-GCM-SHA384",
    ),
    ("TLS_ECDH_RSA_WITH_NULL_SHA", "ECDH-RSA-NULL-SHA"),
    ("TLS_ECDH_RSA_WITH_RC4_128_SHA", "ECDH-RSA-RC4-SHA"),
    ("TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", "AECDH-DES-CBC3-SHA"),
    ("TLS_ECDH_anon_WITH_AES_128_CBC_SHA", "AECDH-AES128-SHA"),
    ("TLS_ECDH_anon_WITH_AES_256_CBC_SHA", "AECDH-AES256-SHA"),
    ("TLS_ECDH_anon_WITH_NULL_SHA", "AECDH-NULL-SHA"),
    ("TLS_ECDH_anon_WITH_RC4_128_SHA", "AECDH-RC4-SHA"),
    ("TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", "EXP1024-DES-CBC-SHA"),
    ("TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", "EXP1024-RC4-SHA"),
    ("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-DES-CBC-SHA"),
    ("TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "EXP-RC2-CBC-MD5"),
    ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5"),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"),
    ("TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256"),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"),
    ("TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"),
    ("TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256"),
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"),
    ("TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA"),
    ("TLS_RSA_WITH_IDEA_CBC_SHA", "IDEA-CBC-SHA"),
    ("TLS_RSA_WITH_NULL_MD5", "NULL-MD5"),
    ("TLS_RSA_WITH_NULL_SHA", "NULL-SHA"),
    ("TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5"),
    ("TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"),
];

/// The name jruby-openssl takes for `suite`: the JVM must implement it
/// and jruby-openssl's table must map its JSSE name.
pub(super) fn name(suite: &Suite) -> Option<String> {
    let jsse = java::name(suite)?;
    MAPPED
        .iter()
        .find(|(j, _)| *j == jsse)
        .map(|(_, ossl)| (*ossl).to_owned())
}

fn version(v: Version) -> &'static str {
    match v {
        Version::Ssl3 => "OpenSSL::SSL::SSL3_VERSION",
        Version::Tls10 => "OpenSSL::SSL::TLS1_VERSION",
        Version::Tls11 => "OpenSSL::SSL::TLS1_1_VERSION",
        Version::Tls12 => "OpenSSL::SSL::TLS1_2_VERSION",
        Version::Tls13 => "OpenSSL::SSL::TLS1_3_VERSION",
    }
}

const WHY_NOT: &str = "jruby-openssl 0.14's cipher table does not map it on OpenJDK 17, and would drop the name silently";

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let (oldest, newest) = plan.version_range()?;
    let legacy = plan.legacy_names("#", WHY_NOT, name)?;
    let tls13 = plan.tls13_names("#", WHY_NOT, name)?;
    let groups = plan.group_names("#", java::group)?;
    let mut ciphers: Vec<String> = Vec::new();
    if plan.allows_tls13() {
        ciphers.extend(tls13.names.iter().cloned());
    }
    if plan.allows_legacy() {
        ciphers.extend(legacy.names.iter().cloned());
    }
    let mut out = plan.header("#");
    out.push_str(&legacy.notes());
    out.push_str(&tls13.notes());
    if let Some(groups) = &groups {
        out.push_str(&groups.notes());
    }
    if let Some(groups) = &groups {
        // jruby-openssl has no setting for the groups; JSSE reads this
        // property once, when its first TLS context is made.
        out.push_str(
            "# the groups are the JVM's: set them before the first TLS use (or JRUBY_OPTS=-J-Djdk.tls.namedGroups=...)\n",
        );
        let _ = writeln!(
            out,
            "java.lang.System.set_property(\"jdk.tls.namedGroups\", \"{}\")",
            groups.join(",")
        );
    }
    if plan.policy.server_order.is_some() {
        out.push_str(
            "# suite order: jruby-openssl has no setting (it defines OP_CIPHER_SERVER_PREFERENCE but never applies it); the JDK's default decides\n",
        );
    }
    out.push_str("ctx = OpenSSL::SSL::SSLContext.new\n");
    let _ = writeln!(out, "ctx.min_version = {}", version(oldest));
    let _ = writeln!(out, "ctx.max_version = {}", version(newest));
    let _ = writeln!(out, "ctx.ciphers = \"{}\"", ciphers.join(":"));
    Ok(out)
}
