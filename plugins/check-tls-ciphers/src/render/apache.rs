//! Apache httpd (mod_ssl): directives for the server config or a
//! `<VirtualHost>`.

use std::fmt::Write as _;

use super::{
    OPENSSL_TLS13_WHY_NOT, OPENSSL_WHY_NOT, Plan, RenderError, openssl_group, openssl_legacy_name,
    openssl_tls13_name, openssl_version,
};

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let mut out = plan.header("#");
    let protocols: Vec<String> = plan
        .versions
        .iter()
        .rev()
        .map(|&v| format!("+{}", openssl_version(v)))
        .collect();
    let _ = writeln!(out, "SSLProtocol -all {}", protocols.join(" "));
    let legacy = plan.legacy_names("#", OPENSSL_WHY_NOT, openssl_legacy_name)?;
    out.push_str(&legacy.notes());
    if plan.allows_legacy() {
        let _ = writeln!(out, "SSLCipherSuite {}", legacy.join(":"));
    }
    let tls13 = plan.tls13_names("#", OPENSSL_TLS13_WHY_NOT, openssl_tls13_name)?;
    out.push_str(&tls13.notes());
    if plan.allows_tls13() {
        let _ = writeln!(out, "SSLCipherSuite TLSv1.3 {}", tls13.join(":"));
    }
    if let Some(groups) = plan.group_names("#", openssl_group)? {
        out.push_str(&groups.notes());
        let _ = writeln!(out, "SSLOpenSSLConfCmd Curves {}", groups.join(":"));
    }
    if let Some(server) = plan.policy.server_order {
        let _ = writeln!(
            out,
            "SSLHonorCipherOrder {}",
            if server { "on" } else { "off" }
        );
    }
    Ok(out)
}
