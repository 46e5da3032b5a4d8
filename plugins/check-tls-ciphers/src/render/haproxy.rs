//! HAProxy: `global` section defaults for every `bind ... ssl` line.

use std::fmt::Write as _;

use super::{Plan, RenderError, openssl_version};
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
    let lists = plan.openssl_lists("#")?;
    let mut out = plan.header("#");
    out.push_str(&lists.notes);
    out.push_str("global\n");
    if let Some(legacy) = &lists.legacy {
        let _ = writeln!(out, "    ssl-default-bind-ciphers {legacy}");
    }
    if let Some(tls13) = &lists.tls13 {
        let _ = writeln!(out, "    ssl-default-bind-ciphersuites {tls13}");
    }
    let mut options = format!(
        "ssl-min-ver {} ssl-max-ver {}",
        version(oldest),
        version(newest)
    );
    match plan.policy.server_order {
        Some(false) => options.push_str(" prefer-client-ciphers"),
        Some(true) => {
            out.push_str("    # suite order: HAProxy prefers its own unless told otherwise\n");
        }
        None => {}
    }
    let _ = writeln!(out, "    ssl-default-bind-options {options}");
    if let Some(groups) = &lists.groups {
        // HAProxy 2.6 has no global default for curves (2.8 adds
        // ssl-default-bind-curves): every bind line carries them.
        let _ = writeln!(
            out,
            "# and on every bind line, e.g.:\n#   bind :443 ssl crt /etc/haproxy/site.pem curves {groups}"
        );
    }
    Ok(out)
}
