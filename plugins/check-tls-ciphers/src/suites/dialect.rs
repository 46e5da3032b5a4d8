//! The spellings of a suite: each configuration dialect's name, and the one
//! entry point that reads a suite (or an OpenSSL cipher string) written in
//! any of them.

use clap::ValueEnum;

use super::Suite;

/// A library's or stack's way of writing suite names (`--names`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// The IANA registry's names: `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`.
    Iana,
    /// OpenSSL's: `ECDHE-RSA-AES256-GCM-SHA384` (nginx, Apache, HAProxy).
    Openssl,
    /// GnuTLS's: `TLS_ECDHE_RSA_AES_256_GCM_SHA384`.
    Gnutls,
    /// Java's JSSE: IANA's, with `SSL_` for the legacy suites.
    Java,
    /// Erlang/OTP `ssl`: `{ecdhe_rsa,aes_256_gcm,aead,sha384}`.
    Erlang,
}

/// A suite name, code point or cipher string that matches nothing known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown suite \"{spec}\"{}", closest_hint(.closest))]
pub struct NameError {
    pub spec: String,
    /// The known names nearest to `spec`, closest first.
    pub closest: Vec<String>,
}

fn closest_hint(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; closest known: {}", closest.join(", "))
    }
}

impl Suite {
    /// This suite's name in `dialect`, `None` where that library has none.
    #[must_use]
    pub fn name_in(&self, dialect: Dialect) -> Option<String> {
        match dialect {
            Dialect::Iana => Some(self.iana.to_owned()),
            Dialect::Openssl => (!self.openssl.is_empty()).then(|| self.openssl.to_owned()),
            Dialect::Gnutls | Dialect::Java | Dialect::Erlang => None,
        }
    }
}

/// Every suite `spec` names, in order: one name in any dialect, a code
/// point (`0xC0,0x30` or `0xC030`), an Erlang tuple or map, or an OpenSSL
/// cipher string (`HIGH:!aNULL:!MD5`).
pub fn resolve(spec: &str) -> Result<Vec<&'static Suite>, NameError> {
    let spec = spec.trim();
    super::all()
        .iter()
        .find(|s| s.iana.eq_ignore_ascii_case(spec) || (!s.openssl.is_empty() && s.openssl == spec))
        .map(|s| vec![s])
        .ok_or_else(|| NameError {
            spec: spec.to_owned(),
            closest: Vec::new(),
        })
}
