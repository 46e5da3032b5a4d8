//! `tls-policy render`: one [`Policy`] written in each server stack's own
//! configuration language.
//!
//! Two rules hold for every target. A render never widens the policy: a
//! suite or group the target cannot write is left out, with a comment
//! saying so. And where leaving something out would make the target fall
//! back to its own default (an empty list meaning "all"), the render is
//! refused with a [`RenderError`] naming why, instead of printing a snippet
//! that quietly accepts more than the policy.
//!
//! What a target can write is what the version Debian 12 ships knows
//! (OpenSSL 3.0, GnuTLS 3.7, OpenJDK 17, Erlang/OTP 25, RabbitMQ 3.10,
//! jruby-openssl 0.14): the snippets are proven against those servers.

mod apache;
mod erlang;
mod gnutls;
mod haproxy;
mod java;
mod jruby;
mod nginx;
mod openssl;
mod rabbitmq;

use std::fmt;
use std::fmt::Write as _;

use clap::ValueEnum;

use crate::policy::Policy;
use crate::suites::{GROUPS, Group, Suite, Version};

/// A stack `render --for` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum Target {
    /// `ssl_protocols`, `ssl_ciphers`, `ssl_conf_command Ciphersuites`, `ssl_ecdh_curve`.
    Nginx,
    /// `SSLProtocol`, `SSLCipherSuite` (and its TLSv1.3 form), `SSLOpenSSLConfCmd Curves`.
    Apache,
    /// `ssl-default-bind-ciphers`, `-ciphersuites`, `-options ssl-min-ver`.
    Haproxy,
    /// An openssl.cnf section: cipher string, ciphersuites, protocols, groups.
    Openssl,
    /// A GnuTLS priority string.
    Gnutls,
    /// JSSE system properties and Tomcat's `SSLHostConfig` attributes.
    Java,
    /// JRuby's `OpenSSL::SSL::SSLContext` settings (jruby-openssl).
    Jruby,
    /// An Erlang/OTP `ssl` options term.
    Erlang,
    /// `rabbitmq.conf` `ssl_options.*` lines and the `advanced.config` form.
    Rabbitmq,
}

impl Target {
    /// Every target, in the order the README lists them.
    pub const ALL: [Target; 9] = [
        Target::Nginx,
        Target::Apache,
        Target::Haproxy,
        Target::Openssl,
        Target::Gnutls,
        Target::Java,
        Target::Jruby,
        Target::Erlang,
        Target::Rabbitmq,
    ];

    /// The name `--for` takes.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Target::Nginx => "nginx",
            Target::Apache => "apache",
            Target::Haproxy => "haproxy",
            Target::Openssl => "openssl",
            Target::Gnutls => "gnutls",
            Target::Java => "java",
            Target::Jruby => "jruby",
            Target::Erlang => "erlang",
            Target::Rabbitmq => "rabbitmq",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A policy the target cannot hold without accepting more than it allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot render {policy} for {target}: {reason}")]
pub struct RenderError {
    pub target: Target,
    /// The policy's name (profile or file).
    pub policy: String,
    pub reason: String,
}

/// `policy` as a snippet for `target`, ready to paste.
pub fn render(policy: &Policy, target: Target) -> Result<String, RenderError> {
    let plan = Plan::new(policy, target)?;
    match target {
        Target::Nginx => nginx::render(&plan),
        Target::Apache => apache::render(&plan),
        Target::Haproxy => haproxy::render(&plan),
        Target::Openssl => openssl::render(&plan),
        Target::Gnutls => gnutls::render(&plan),
        Target::Java => java::render(&plan),
        Target::Jruby => jruby::render(&plan),
        Target::Erlang => erlang::render(&plan),
        Target::Rabbitmq => rabbitmq::render(&plan),
    }
}

/// How `target` writes `suite`, `None` where it cannot (`explain` lists
/// these).
#[must_use]
pub fn suite_name(suite: &Suite, target: Target) -> Option<String> {
    let tls13 = suite.offered_for(Version::Tls13);
    match target {
        Target::Nginx | Target::Apache | Target::Haproxy | Target::Openssl if tls13 => {
            openssl_tls13_name(suite)
        }
        Target::Nginx | Target::Apache | Target::Haproxy | Target::Openssl => {
            openssl_legacy_name(suite)
        }
        Target::Gnutls => gnutls::parts(suite).map(|_| {
            suite
                .name_in(crate::suites::Dialect::Gnutls)
                .unwrap_or_else(|| suite.iana.to_owned())
        }),
        Target::Java => java::name(suite),
        Target::Jruby => jruby::name(suite),
        Target::Erlang => erlang::suite(suite).map(|e| e.map),
        Target::Rabbitmq => erlang::suite(suite).map(|e| e.openssl.to_owned()),
    }
}

/// The policy split the way every stack configures it: protocols, the
/// suites of TLS 1.2 and older (one list in every library), the TLS 1.3
/// suites, and the groups.
pub(crate) struct Plan<'a> {
    pub policy: &'a Policy,
    pub target: Target,
    /// Allowed protocols, newest first.
    pub versions: Vec<Version>,
    /// Suites for TLS 1.2 and older, in preference order.
    pub legacy: Vec<&'static Suite>,
    /// TLS 1.3 suites, in preference order.
    pub tls13: Vec<&'static Suite>,
    /// Groups, in preference order.
    pub groups: Vec<&'static Group>,
}

impl<'a> Plan<'a> {
    fn new(policy: &'a Policy, target: Target) -> Result<Plan<'a>, RenderError> {
        let versions: Vec<Version> = Version::ALL
            .into_iter()
            .filter(|&v| policy.allows_version(v))
            .collect();
        let mut legacy: Vec<&'static Suite> = Vec::new();
        for &code in &policy.suites {
            let Some(suite) = crate::suites::by_code(code) else {
                continue;
            };
            let old = versions
                .iter()
                .any(|&v| v != Version::Tls13 && suite.offered_for(v));
            if old && !legacy.contains(&suite) {
                legacy.push(suite);
            }
        }
        let tls13 = policy
            .suites_for(Version::Tls13)
            .into_iter()
            .filter_map(crate::suites::by_code)
            .collect();
        let groups = policy
            .groups
            .iter()
            .filter_map(|&code| GROUPS.iter().find(|g| g.code == code))
            .collect();
        let plan = Plan {
            policy,
            target,
            versions,
            legacy,
            tls13,
            groups,
        };
        if plan.versions.is_empty() {
            return Err(plan.refuse("the policy allows no protocol version".to_owned()));
        }
        Ok(plan)
    }

    pub fn refuse(&self, reason: String) -> RenderError {
        RenderError {
            target: self.target,
            policy: self.policy.name.clone(),
            reason,
        }
    }

    pub fn allows_tls13(&self) -> bool {
        self.versions.contains(&Version::Tls13)
    }

    /// Whether any protocol older than TLS 1.3 is allowed.
    pub fn allows_legacy(&self) -> bool {
        self.versions.iter().any(|&v| v != Version::Tls13)
    }

    /// The allowed protocols as one range, oldest and newest, for targets
    /// that only take a minimum and a maximum; refused when the policy
    /// skips a version in between, which such a range would let in.
    pub fn version_range(&self) -> Result<(Version, Version), RenderError> {
        let newest = self.versions[0];
        let oldest = *self.versions.last().unwrap_or(&newest);
        let between: Vec<Version> = Version::ALL
            .into_iter()
            .filter(|&v| v >= oldest && v <= newest)
            .collect();
        if between.len() == self.versions.len() {
            Ok((oldest, newest))
        } else {
            let missing: Vec<&str> = between
                .iter()
                .rev()
                .filter(|v| !self.versions.contains(v))
                .map(|v| v.name())
                .collect();
            Err(self.refuse(format!(
                "{} takes only a lowest and a highest protocol version, and {oldest}..{newest} would also allow {}, which the policy does not",
                self.target,
                missing.join(", ")
            )))
        }
    }

    /// The TLS ≤ 1.2 suites as `name` writes them, and a comment line for
    /// each left out. Refused when the policy allows an old protocol but
    /// no suite of it can be written, since every target then falls back
    /// to its default list.
    pub fn legacy_names(
        &self,
        comment: &str,
        why_not: &str,
        name: impl Fn(&Suite) -> Option<String>,
    ) -> Result<Named, RenderError> {
        self.names(false, comment, why_not, name)
    }

    /// The TLS 1.3 suites as `name` writes them; refused like
    /// [`Plan::legacy_names`].
    pub fn tls13_names(
        &self,
        comment: &str,
        why_not: &str,
        name: impl Fn(&Suite) -> Option<String>,
    ) -> Result<Named, RenderError> {
        self.names(true, comment, why_not, name)
    }

    fn names(
        &self,
        tls13: bool,
        comment: &str,
        why_not: &str,
        name: impl Fn(&Suite) -> Option<String>,
    ) -> Result<Named, RenderError> {
        let (suites, allowed, which) = if tls13 {
            (&self.tls13, self.allows_tls13(), "TLS 1.3".to_owned())
        } else {
            (&self.legacy, self.allows_legacy(), self.legacy_versions())
        };
        let named = Named::split(suites, comment, why_not, name);
        if allowed && named.names.is_empty() {
            return Err(self.refuse(format!(
                "none of the policy's {which} suites can be written for {} ({why_not}), and an empty list would mean {}'s default suites",
                self.target, self.target
            )));
        }
        Ok(named)
    }

    /// The three lists every OpenSSL-based server takes, each `None` where
    /// the policy leaves it out (no TLS 1.3, no older version, any group),
    /// and the comment lines for what was left out.
    pub fn openssl_lists(&self, comment: &str) -> Result<OpensslLists, RenderError> {
        let legacy = self.legacy_names(comment, OPENSSL_WHY_NOT, openssl_legacy_name)?;
        let tls13 = self.tls13_names(comment, OPENSSL_TLS13_WHY_NOT, openssl_tls13_name)?;
        let groups = self.group_names(comment, openssl_group)?;
        let mut notes = legacy.notes() + &tls13.notes();
        if let Some(groups) = &groups {
            notes.push_str(&groups.notes());
        }
        Ok(OpensslLists {
            legacy: self.allows_legacy().then(|| legacy.join(":")),
            tls13: self.allows_tls13().then(|| tls13.join(":")),
            groups: groups.map(|g| g.join(":")),
            notes,
        })
    }

    /// The groups as `name` writes them; `None` when the policy allows any
    /// group (the setting is then left out). Refused when none is left,
    /// since leaving the setting out means the target's default groups.
    pub fn group_names(
        &self,
        comment: &str,
        name: impl Fn(&Group) -> Result<String, &'static str>,
    ) -> Result<Option<Named>, RenderError> {
        if self.policy.groups.is_empty() {
            return Ok(None);
        }
        let mut named = Named::default();
        for group in &self.groups {
            match name(group) {
                Ok(n) => named.names.push(n),
                Err(why) => named
                    .notes
                    .push(format!("{comment} left out group {}: {why}", group.iana)),
            }
        }
        if named.names.is_empty() {
            return Err(self.refuse(format!(
                "none of the policy's groups ({}) can be written for {}, and without the setting {} would use its default groups",
                self.groups
                    .iter()
                    .map(|g| g.iana)
                    .collect::<Vec<_>>()
                    .join(", "),
                self.target,
                self.target
            )));
        }
        Ok(Some(named))
    }

    fn legacy_versions(&self) -> String {
        self.versions
            .iter()
            .filter(|&&v| v != Version::Tls13)
            .map(|v| v.name())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The first lines of every render: what policy, for what.
    pub fn header(&self, comment: &str) -> String {
        let mut header = format!(
            "{comment} {}: policy {}, rendered by tls-policy\n",
            self.target, self.policy.name
        );
        // GnuTLS starts from NONE, so it lists every group instead.
        if self.policy.groups.is_empty() && self.target != Target::Gnutls {
            let _ = writeln!(
                header,
                "{comment} the policy allows any group, so {}'s own are left as they are",
                self.target
            );
        }
        header
    }
}

/// An OpenSSL-based server's lists, colon-separated.
pub(crate) struct OpensslLists {
    pub legacy: Option<String>,
    pub tls13: Option<String>,
    pub groups: Option<String>,
    pub notes: String,
}

/// Names a target can write, and the comment lines for what it cannot.
#[derive(Debug, Default)]
pub(crate) struct Named {
    pub names: Vec<String>,
    pub notes: Vec<String>,
}

impl Named {
    fn split(
        suites: &[&'static Suite],
        comment: &str,
        why_not: &str,
        name: impl Fn(&Suite) -> Option<String>,
    ) -> Named {
        let mut named = Named::default();
        for suite in suites {
            match name(suite) {
                Some(n) => named.names.push(n),
                None => named.notes.push(format!(
                    "{comment} left out {}: {why_not}",
                    suite.display_name()
                )),
            }
        }
        named
    }

    /// The names joined by `sep`.
    pub fn join(&self, sep: &str) -> String {
        self.names.join(sep)
    }

    /// The comment lines, each ending in a newline.
    pub fn notes(&self) -> String {
        self.notes.iter().fold(String::new(), |mut out, note| {
            out.push_str(note);
            out.push('\n');
            out
        })
    }
}

/// OpenSSL's spelling of a protocol (`TLSv1.2`), which nginx, Apache,
/// HAProxy and Java share.
pub(crate) fn openssl_version(version: Version) -> &'static str {
    match version {
        Version::Ssl3 => "SSLv3",
        Version::Tls10 => "TLSv1",
        Version::Tls11 => "TLSv1.1",
        Version::Tls12 => "TLSv1.2",
        Version::Tls13 => "TLSv1.3",
    }
}

/// A TLS ≤ 1.2 suite's name for a library built on OpenSSL.
pub(crate) fn openssl_legacy_name(suite: &Suite) -> Option<String> {
    (!suite.openssl.is_empty()).then(|| suite.openssl.to_owned())
}

/// The TLS 1.3 suites OpenSSL's `Ciphersuites` takes (it has no others).
pub(crate) fn openssl_tls13_name(suite: &Suite) -> Option<String> {
    (0x1301..=0x1305)
        .contains(&suite.code)
        .then(|| suite.iana.to_owned())
}

/// A group's name for OpenSSL 3.0's group lists.
pub(crate) fn openssl_group(group: &Group) -> Result<String, &'static str> {
    match group.code {
        0x11EC => Err("OpenSSL knows it from 3.5 on, and 3.0 rejects the whole list"),
        _ => Ok(group.openssl.to_owned()),
    }
}

pub(crate) const OPENSSL_WHY_NOT: &str = "OpenSSL has no name for it";
pub(crate) const OPENSSL_TLS13_WHY_NOT: &str =
    "OpenSSL's Ciphersuites takes only the five RFC 8446 suites";

#[cfg(test)]
mod tests {
    use super::*;

    fn story() -> Policy {
        Policy {
            name: "story".to_owned(),
            protocols: vec![Version::Tls13, Version::Tls12],
            suites: vec![0xC030, 0x1302],
            ..Policy::profile("mozilla-intermediate").unwrap()
        }
    }

    #[test]
    fn a_plan_splits_suites_by_protocol_in_preference_order() {
        let policy = Policy::profile("mozilla-intermediate").unwrap();
        let plan = Plan::new(&policy, Target::Nginx).unwrap();
        let legacy: Vec<u16> = plan.legacy.iter().map(|s| s.code).collect();
        assert_eq!(legacy, [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8]);
        let tls13: Vec<u16> = plan.tls13.iter().map(|s| s.code).collect();
        assert_eq!(tls13, [0x1301, 0x1302, 0x1303]);
        assert_eq!(plan.groups.len(), 4);
        assert_eq!(
            plan.version_range().unwrap(),
            (Version::Tls12, Version::Tls13)
        );
    }

    #[test]
    fn a_range_with_a_hole_is_refused_by_name() {
        let policy = Policy {
            protocols: vec![Version::Tls13, Version::Tls10],
            ..story()
        };
        let plan = Plan::new(&policy, Target::Haproxy).unwrap();
        let err = plan.version_range().unwrap_err();
        assert!(err.to_string().contains("TLS 1.1, TLS 1.2"), "{err}");
    }

    #[test]
    fn no_protocol_at_all_is_refused() {
        let policy = Policy {
            protocols: Vec::new(),
            ..story()
        };
        let err = render(&policy, Target::Nginx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot render story for nginx: the policy allows no protocol version"
        );
    }

    /// The names a render lists for suites, by target, as the stack reads
    /// them back: OpenSSL/IANA/jruby-openssl names, split off their lines.
    fn listed_names(target: Target, text: &str) -> Vec<String> {
        let prefixes: &[(&str, char)] = match target {
            Target::Nginx => &[
                ("ssl_ciphers ", ':'),
                ("ssl_conf_command Ciphersuites ", ':'),
            ],
            Target::Apache => &[("SSLCipherSuite TLSv1.3 ", ':'), ("SSLCipherSuite ", ':')],
            Target::Haproxy => &[
                ("    ssl-default-bind-ciphers ", ':'),
                ("    ssl-default-bind-ciphersuites ", ':'),
            ],
            Target::Openssl => &[("CipherString = ", ':'), ("Ciphersuites = ", ':')],
            Target::Java => &[("-Djdk.tls.server.cipherSuites=", ',')],
            Target::Jruby => &[("ctx.ciphers = ", ':')],
            Target::Rabbitmq => &[("ssl_options.ciphers.", '\n')],
            Target::Gnutls | Target::Erlang => &[],
        };
        let mut names = Vec::new();
        for line in text.lines() {
            if let Some((prefix, sep)) = prefixes.iter().find(|(p, _)| line.starts_with(p)) {
                let value = &line[prefix.len()..];
                let value = if target == Target::Rabbitmq {
                    value.split_once(" = ").map_or("", |(_, v)| v)
                } else {
                    value.trim_end_matches(';').trim_matches('"')
                };
                names.extend(
                    value
                        .split(*sep)
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        names
    }

    proptest::proptest! {
        /// Whatever the policy, a render either refuses or lists only
        /// suites the policy allows, and every allowed suite the target
        /// can write is listed.
        #[test]
        fn a_render_never_widens_and_drops_only_what_it_cannot_write(
            picks in proptest::collection::vec(0..crate::suites::all().len(), 1..10),
            versions in proptest::collection::vec(proptest::bool::ANY, 5),
        ) {
            let suites: Vec<u16> = picks.iter().map(|&i| crate::suites::all()[i].code).collect();
            let protocols: Vec<Version> = Version::ALL
                .into_iter()
                .zip(&versions)
                .filter(|(_, on)| **on)
                .map(|(v, _)| v)
                .collect();
            let policy = Policy {
                name: "random".to_owned(),
                protocols,
                suites,
                ..Policy::profile("mozilla-intermediate").unwrap()
            };
            for target in Target::ALL {
                let Ok(text) = render(&policy, target) else { continue };
                let listed = listed_names(target, &text);
                let mut codes = Vec::new();
                for name in &listed {
                    // RabbitMQ takes Erlang's own OpenSSL-style names,
                    // some of which OpenSSL never used.
                    let name = erlang::OTP_OPENSSL_NAMES
                        .iter()
                        .find(|(_, otp)| target == Target::Rabbitmq && otp == name)
                        .map_or(name.as_str(), |(iana, _)| iana);
                    let found = crate::suites::resolve(name)
                        .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{target}: {name}: {e}\n{text}")))?;
                    proptest::prop_assert_eq!(found.len(), 1, "{}: {}", target, name);
                    let code = found[0].code;
                    proptest::prop_assert!(
                        policy.protocols.iter().any(|&v| policy.allows_suite(v, code)),
                        "{} lists {} which the policy does not allow:\n{}", target, name, text
                    );
                    codes.push(code);
                }
                if !listed.is_empty() {
                    for version in &policy.protocols {
                        for code in policy.suites_for(*version) {
                            let suite = crate::suites::by_code(code).unwrap();
                            if suite_name(suite, target).is_some() {
                                proptest::prop_assert!(codes.contains(&code), "{} dropped {}:\n{}", target, suite.iana, text);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The stacks' own tables here (read from OTP 25, GnuTLS 3.7, JDK 17)
    /// and the registry's dialect names agree on what each library has.
    #[test]
    fn the_stack_tables_agree_with_the_registrys_dialects() {
        use crate::suites::Dialect;
        for suite in crate::suites::all() {
            if let Some(jsse) = java::name(suite) {
                assert_eq!(suite.name_in(Dialect::Java), Some(jsse), "{}", suite.iana);
            }
            if erlang::suite(suite).is_some() {
                assert!(
                    suite.name_in(Dialect::Erlang).is_some(),
                    "erlang: {}",
                    suite.iana
                );
            }
            if gnutls::parts(suite).is_some() {
                assert!(
                    suite.name_in(Dialect::Gnutls).is_some(),
                    "gnutls: {}",
                    suite.iana
                );
            }
        }
    }

    #[test]
    fn every_target_renders_the_profiles_and_the_story() {
        for target in Target::ALL {
            for policy in [
                Policy::profile("mozilla-intermediate").unwrap(),
                Policy::profile("mozilla-modern").unwrap(),
                story(),
            ] {
                let text = render(&policy, target)
                    .unwrap_or_else(|e| panic!("{target} {}: {e}", policy.name));
                assert!(text.contains(&policy.name), "{target}: {text}");
            }
        }
    }
}
