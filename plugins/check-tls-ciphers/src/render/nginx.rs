//! nginx: the `ssl_*` directives of an `http` or `server` block.

use std::fmt::Write as _;

use super::{
    OPENSSL_TLS13_WHY_NOT, OPENSSL_WHY_NOT, Plan, RenderError, openssl_group, openssl_legacy_name,
    openssl_tls13_name, openssl_version,
};

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let mut out = plan.header("#");
    let protocols: Vec<&str> = plan
        .versions
        .iter()
        .rev()
        .map(|&v| openssl_version(v))
        .collect();
    let _ = writeln!(out, "ssl_protocols {};", protocols.join(" "));
    let legacy = plan.legacy_names("#", OPENSSL_WHY_NOT, openssl_legacy_name)?;
    out.push_str(&legacy.notes());
    if plan.allows_legacy() {
        let _ = writeln!(out, "ssl_ciphers {};", legacy.join(":"));
    }
    let tls13 = plan.tls13_names("#", OPENSSL_TLS13_WHY_NOT, openssl_tls13_name)?;
    out.push_str(&tls13.notes());
    if plan.allows_tls13() {
        // nginx has no directive of its own for TLS 1.3 suites; without
        // this line OpenSSL's default three would be on (nginx ≥ 1.19.4).
        let _ = writeln!(out, "ssl_conf_command Ciphersuites {};", tls13.join(":"));
    }
    if let Some(groups) = plan.group_names("#", openssl_group)? {
        out.push_str(&groups.notes());
        let _ = writeln!(out, "ssl_ecdh_curve {};", groups.join(":"));
    }
    if let Some(server) = plan.policy.server_order {
        let _ = writeln!(
            out,
            "ssl_prefer_server_ciphers {};",
            if server { "on" } else { "off" }
        );
    }
    Ok(out)
}
