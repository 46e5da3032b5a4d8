//! Java (JSSE): the `jdk.tls.*` system properties every `SSLServerSocket`
//! and `SSLEngine` of the JVM starts from, and Tomcat's `SSLHostConfig`
//! attributes, which set the same for one connector.

use std::fmt::Write as _;

use super::{Plan, RenderError, openssl_version};
use crate::suites::{Dialect, Group, Suite};

/// The suites OpenJDK 17's JSSE implements (`getSupportedCipherSuites`):
/// a name outside it is skipped by the JVM without a word.
const SUPPORTED: &[&str] = &[
    "TLS_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
];

/// A suite's JSSE name, when this JDK implements it.
pub(super) fn name(suite: &Suite) -> Option<String> {
    let name = suite
        .name_in(Dialect::Java)
        .unwrap_or_else(|| suite.iana.to_owned());
    SUPPORTED.contains(&name.as_str()).then_some(name)
}

/// A group's name in `jdk.tls.namedGroups`.
pub(super) fn group(group: &Group) -> Result<String, &'static str> {
    match group.code {
        29 => Ok("x25519".to_owned()),
        30 => Ok("x448".to_owned()),
        23 | 24 | 25 | 0x0100..=0x0104 => Ok(group.iana.to_owned()),
        0x11EC => Err("OpenJDK knows it from 24 on; 17 does not"),
        _ => Err("OpenJDK 17's JSSE does not implement it"),
    }
}

pub(super) const WHY_NOT: &str = "OpenJDK 17's JSSE does not implement it";

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let legacy = plan.legacy_names("#", WHY_NOT, name)?;
    let tls13 = plan.tls13_names("#", WHY_NOT, name)?;
    let groups = plan.group_names("#", group)?;
    // One list for every protocol: TLS 1.3 suites first, as the JDK's own
    // default list has them.
    let mut suites: Vec<String> = Vec::new();
    if plan.allows_tls13() {
        suites.extend(tls13.names.iter().cloned());
    }
    if plan.allows_legacy() {
        suites.extend(legacy.names.iter().cloned());
    }
    let protocols: Vec<&str> = plan.versions.iter().map(|&v| openssl_version(v)).collect();
    let mut out = plan.header("#");
    out.push_str(&legacy.notes());
    out.push_str(&tls13.notes());
    if let Some(groups) = &groups {
        out.push_str(&groups.notes());
    }
    out.push_str("# JVM options (java -D..., or in JDK_JAVA_OPTIONS):\n");
    let _ = writeln!(out, "-Djdk.tls.server.protocols={}", protocols.join(","));
    let _ = writeln!(out, "-Djdk.tls.server.cipherSuites={}", suites.join(","));
    if let Some(groups) = &groups {
        let _ = writeln!(out, "-Djdk.tls.namedGroups={}", groups.join(","));
    }
    let mut tomcat = format!(
        "<SSLHostConfig protocols=\"{}\" ciphers=\"{}\"",
        protocols.join(","),
        suites.join(",")
    );
    if let Some(server) = plan.policy.server_order {
        let _ = write!(tomcat, " honorCipherOrder=\"{server}\"");
    }
    tomcat.push('>');
    out.push_str(
        "# Tomcat server.xml, on the <Connector> (its groups come from jdk.tls.namedGroups above):\n",
    );
    out.push_str(&tomcat);
    out.push('\n');
    if let Some(server) = plan.policy.server_order {
        // JSSE has no system property for it: the application decides.
        let _ = writeln!(
            out,
            "# suite order: the server calls SSLParameters.setUseCipherSuitesOrder({server})"
        );
    }
    Ok(out)
}
