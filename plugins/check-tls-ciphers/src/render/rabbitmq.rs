//! RabbitMQ: `rabbitmq.conf` lines for the TLS listeners, and the
//! `advanced.config` form, which alone can set the groups.

use std::fmt::Write as _;

use super::{Plan, RenderError, erlang};
use crate::suites::Version;

fn version(v: Version) -> &'static str {
    match v {
        Version::Ssl3 => "sslv3",
        Version::Tls10 => "tlsv1",
        Version::Tls11 => "tlsv1.1",
        Version::Tls12 => "tlsv1.2",
        Version::Tls13 => "tlsv1.3",
    }
}

pub(super) fn render(plan: &Plan) -> Result<String, RenderError> {
    let (options, notes) = erlang::options(plan, "                   ")?;
    let legacy = plan.legacy_names("#", erlang::WHY_NOT, |s| {
        erlang::suite(s).map(|e| e.openssl.to_owned())
    })?;
    let tls13 = plan.tls13_names("#", erlang::WHY_NOT, |s| {
        erlang::suite(s).map(|e| e.openssl.to_owned())
    })?;
    let mut out = plan.header("#");
    out.push_str(&legacy.notes());
    out.push_str(&tls13.notes());
    out.push_str("# --- rabbitmq.conf ---\n");
    out.push_str(
        "# rabbitmq.conf has no key for the groups (eccs, supported_groups): with these lines\n\
         # alone Erlang's default groups are on. The advanced.config form below sets everything;\n\
         # use it instead of these lines where the groups matter.\n",
    );
    let (versions, left_out) = erlang::versions(plan, "#")?;
    out.push_str(&left_out);
    for (i, v) in versions.iter().enumerate() {
        let _ = writeln!(out, "ssl_options.versions.{} = {}", i + 1, version(*v));
    }
    let mut ciphers: Vec<&String> = Vec::new();
    if plan.allows_tls13() {
        ciphers.extend(&tls13.names);
    }
    if plan.allows_legacy() {
        ciphers.extend(&legacy.names);
    }
    for (i, c) in ciphers.iter().enumerate() {
        let _ = writeln!(out, "ssl_options.ciphers.{} = {c}", i + 1);
    }
    if let Some(server) = plan.policy.server_order {
        let _ = writeln!(out, "ssl_options.honor_cipher_order = {server}");
    }
    out.push_str("%% --- advanced.config ---\n");
    out.push_str(&notes);
    let _ = writeln!(
        out,
        "[{{rabbit, [{{ssl_options, [{}]}}]}}].",
        options.join(",\n                   ")
    );
    Ok(out)
}
