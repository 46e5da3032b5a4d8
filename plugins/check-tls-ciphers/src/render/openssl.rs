//! OpenSSL itself: an openssl.cnf section (the `SSL_CONF` commands every
//! OpenSSL application can load), and the same as `s_server` flags.

use std::fmt::Write as _;

use super::{Plan, RenderError, openssl_version};

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let (oldest, newest) = plan.version_range()?;
    let lists = plan.openssl_lists("#")?;
    let (oldest, newest) = (openssl_version(oldest), openssl_version(newest));
    let mut out = plan.header("#");
    out.push_str(&lists.notes);
    let mut flags = vec![
        format!("-min_protocol {oldest}"),
        format!("-max_protocol {newest}"),
    ];
    let _ = writeln!(
        out,
        "[tls_policy]\nMinProtocol = {oldest}\nMaxProtocol = {newest}"
    );
    if let Some(legacy) = &lists.legacy {
        let _ = writeln!(out, "CipherString = {legacy}");
        flags.push(format!("-cipher '{legacy}'"));
    }
    if let Some(tls13) = &lists.tls13 {
        let _ = writeln!(out, "Ciphersuites = {tls13}");
        flags.push(format!("-ciphersuites '{tls13}'"));
    }
    if let Some(groups) = &lists.groups {
        let _ = writeln!(out, "Groups = {groups}");
        flags.push(format!("-groups {groups}"));
    }
    match plan.policy.server_order {
        Some(true) => {
            out.push_str("Options = ServerPreference\n");
            flags.push("-serverpref".to_owned());
        }
        Some(false) => out.push_str("Options = -ServerPreference\n"),
        None => {}
    }
    let _ = writeln!(out, "# as flags: openssl s_server {}", flags.join(" "));
    Ok(out)
}
