//! nginx: the `ssl_*` directives of an `http` or `server` block.

use std::fmt::Write as _;

use super::{Plan, RenderError, openssl_version};

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let lists = plan.openssl_lists("#")?;
    let mut out = plan.header("#");
    out.push_str(&lists.notes);
    let protocols: Vec<&str> = plan
        .versions
        .iter()
        .rev()
        .map(|&v| openssl_version(v))
        .collect();
    let _ = writeln!(out, "ssl_protocols {};", protocols.join(" "));
    if let Some(legacy) = &lists.legacy {
        let _ = writeln!(out, "ssl_ciphers {legacy};");
    }
    if let Some(tls13) = &lists.tls13 {
        // nginx has no directive of its own for TLS 1.3 suites; without
        // this line OpenSSL's default three would be on (nginx ≥ 1.19.4).
        let _ = writeln!(out, "ssl_conf_command Ciphersuites {tls13};");
    }
    if let Some(groups) = &lists.groups {
        let _ = writeln!(out, "ssl_ecdh_curve {groups};");
    }
    if let Some(server) = plan.policy.server_order {
        let on = if server { "on" } else { "off" };
        let _ = writeln!(out, "ssl_prefer_server_ciphers {on};");
    }
    Ok(out)
}
