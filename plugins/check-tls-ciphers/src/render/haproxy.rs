//! HAProxy: `global` section defaults for every `bind ... ssl` line.

use std::fmt::Write as _;

use super::{
    OPENSSL_TLS13_WHY_NOT, OPENSSL_WHY_NOT, Plan, RenderError, openssl_group, openssl_legacy_name,
    openssl_tls13_name, openssl_version,
};
use crate::suites::Version;

/// HAProxy writes TLS 1.0 as `TLSv1.0`, unlike OpenSSL.
fn version(v: Version) -> &'static str {
    match v {
        Version::Tls10 => "TLSv1.0",
        v => openssl_version(v),
    }
}

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let (oldest, newest) = plan.version_range()?;
    let mut out = plan.header("#");
    out.push_str("global\n");
    let legacy = plan.legacy_names("    #", OPENSSL_WHY_NOT, openssl_legacy_name)?;
    out.push_str(&legacy.notes());
    if plan.allows_legacy() {
        let _ = writeln!(out, "    ssl-default-bind-ciphers {}", legacy.join(":"));
    }
    let tls13 = plan.tls13_names("    #", OPENSSL_TLS13_WHY_NOT, openssl_tls13_name)?;
    out.push_str(&tls13.notes());
    if plan.allows_tls13() {
        let _ = writeln!(out, "    ssl-default-bind-ciphersuites {}", tls13.join(":"));
    }
    let mut options = format!(
        "ssl-min-ver {} ssl-max-ver {}",
        version(oldest),
        version(newest)
    );
    if plan.policy.server_order == Some(false) {
        // HAProxy prefers its own order unless told otherwise.
        options.push_str(" prefer-client-ciphers");
    }
    let _ = writeln!(out, "    ssl-default-bind-options {options}");
    if let Some(groups) = plan.group_names("#", openssl_group)? {
        out.push_str(&groups.notes());
        // HAProxy 2.6 has no global default for curves (2.8 adds
        // ssl-default-bind-curves): every bind line carries them.
        let _ = writeln!(
            out,
            "# and on every bind line, e.g.:\n#   bind :443 ssl crt /etc/haproxy/site.pem curves {}",
            groups.join(":")
        );
    }
    Ok(out)
}
