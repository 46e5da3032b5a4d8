//! OpenSSL itself: an openssl.cnf section (the `SSL_CONF` commands every
//! OpenSSL application can load), and the same as `s_server` flags.

use std::fmt::Write as _;

use super::{
    OPENSSL_TLS13_WHY_NOT, OPENSSL_WHY_NOT, Plan, RenderError, openssl_group, openssl_legacy_name,
    openssl_tls13_name, openssl_version,
};

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let (oldest, newest) = plan.version_range()?;
    let mut out = plan.header("#");
    let legacy = plan.legacy_names("#", OPENSSL_WHY_NOT, openssl_legacy_name)?;
    let tls13 = plan.tls13_names("#", OPENSSL_TLS13_WHY_NOT, openssl_tls13_name)?;
    let groups = plan.group_names("#", openssl_group)?;
    out.push_str(&legacy.notes());
    out.push_str(&tls13.notes());
    if let Some(groups) = &groups {
        out.push_str(&groups.notes());
    }
    let mut flags = vec![
        format!("-min_protocol {}", openssl_version(oldest)),
        format!("-max_protocol {}", openssl_version(newest)),
    ];
    out.push_str("[tls_policy]\n");
    let _ = writeln!(out, "MinProtocol = {}", openssl_version(oldest));
    let _ = writeln!(out, "MaxProtocol = {}", openssl_version(newest));
    if plan.allows_legacy() {
        let _ = writeln!(out, "CipherString = {}", legacy.join(":"));
        flags.push(format!("-cipher '{}'", legacy.join(":")));
    }
    if plan.allows_tls13() {
        let _ = writeln!(out, "Ciphersuites = {}", tls13.join(":"));
        flags.push(format!("-ciphersuites '{}'", tls13.join(":")));
    }
    if let Some(groups) = &groups {
        let _ = writeln!(out, "Groups = {}", groups.join(":"));
        flags.push(format!("-groups {}", groups.join(":")));
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
