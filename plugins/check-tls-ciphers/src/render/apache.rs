//! Apache httpd (mod_ssl): directives for the server config or a
//! `<VirtualHost>`.

use std::fmt::Write as _;

use super::{Plan, RenderError, openssl_version};

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let lists = plan.openssl_lists("#")?;
    let mut out = plan.header("#");
    out.push_str(&lists.notes);
    let protocols: Vec<String> = plan
        .versions
        .iter()
        .rev()
        .map(|&v| format!("+{}", openssl_version(v)))
        .collect();
    let _ = writeln!(out, "SSLProtocol -all {}", protocols.join(" "));
    if let Some(legacy) = &lists.legacy {
        let _ = writeln!(out, "SSLCipherSuite {legacy}");
    }
    if let Some(tls13) = &lists.tls13 {
        let _ = writeln!(out, "SSLCipherSuite TLSv1.3 {tls13}");
    }
    if let Some(groups) = &lists.groups {
        let _ = writeln!(out, "SSLOpenSSLConfCmd Curves {groups}");
    }
    if let Some(server) = plan.policy.server_order {
        let on = if server { "on" } else { "off" };
        let _ = writeln!(out, "SSLHonorCipherOrder {on}");
    }
    Ok(out)
}
