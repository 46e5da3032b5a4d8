//! The registry: every cipher suite and named group the scan can offer, with
//! each name a configuration dialect uses. Data, so later renderers (one per
//! server stack) read the same table the scanner offers from.

mod dialect;
mod erlang;
mod openssl;
mod table;

pub use dialect::{Dialect, NameError, resolve, resolve_group};

use std::fmt;

use serde::Serialize;

/// A protocol version the scanner can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Version {
    #[serde(rename = "SSLv3")]
    Ssl3,
    #[serde(rename = "TLSv1.0")]
    Tls10,
    #[serde(rename = "TLSv1.1")]
    Tls11,
    #[serde(rename = "TLSv1.2")]
    Tls12,
    #[serde(rename = "TLSv1.3")]
    Tls13,
}

impl Version {
    /// Newest first, the order a scan probes and a report lists them.
    pub const ALL: [Version; 5] = [
        Version::Tls13,
        Version::Tls12,
        Version::Tls11,
        Version::Tls10,
        Version::Ssl3,
    ];

    /// The version number on the wire.
    #[must_use]
    pub fn wire(self) -> u16 {
        match self {
            Version::Ssl3 => 0x0300,
            Version::Tls10 => 0x0301,
            Version::Tls11 => 0x0302,
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }

    #[must_use]
    pub fn from_wire(value: u16) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.wire() == value)
    }

    /// The name people write: `TLS 1.2`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Version::Ssl3 => "SSL 3.0",
            Version::Tls10 => "TLS 1.0",
            Version::Tls11 => "TLS 1.1",
            Version::Tls12 => "TLS 1.2",
            Version::Tls13 => "TLS 1.3",
        }
    }

    /// The perfdata label part: `tls1_2`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Version::Ssl3 => "ssl3",
            Version::Tls10 => "tls1_0",
            Version::Tls11 => "tls1_1",
            Version::Tls12 => "tls1_2",
            Version::Tls13 => "tls1_3",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The oldest protocol a suite works with (newer ones up to TLS 1.2 too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinVersion {
    Ssl3,
    Tls12,
    Tls13,
}

/// One cipher suite and its spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    /// The IANA registry's name (also Java's, NSS's and Go's).
    pub iana: &'static str,
    /// OpenSSL's name (nginx, Apache, HAProxy, RabbitMQ); empty when OpenSSL
    /// never knew the suite. TLS 1.3 suites use the IANA name.
    pub openssl: &'static str,
    /// GnuTLS's name (`TLS_ECDHE_RSA_AES_256_GCM_SHA384`); empty when
    /// GnuTLS 3.7 does not implement the suite.
    pub gnutls: &'static str,
    /// The JDK's name: IANA's, with `SSL_` for the oldest suites; empty when
    /// OpenJDK 17 does not implement the suite.
    pub java: &'static str,
    /// Erlang/OTP ssl's old-style tuple (`{ecdhe_rsa,aes_256_gcm,aead,sha384}`,
    /// three elements when the suite uses the default PRF); empty when OTP 25
    /// does not know the suite.
    pub erlang: &'static str,
    /// Key exchange: `ECDHE`, `DHE`, `RSA` (static), `any` for TLS 1.3.
    pub kx: &'static str,
    /// Authentication: `RSA`, `ECDSA`, `None` (anonymous), `any` for TLS 1.3.
    pub auth: &'static str,
    /// Bulk encryption as IANA writes it: `AES_128_GCM`, `3DES_EDE_CBC`.
    pub enc: &'static str,
    /// `AEAD`, or the HMAC hash: `SHA1`, `SHA256`, `MD5`.
    pub mac: &'static str,
    pub min_version: MinVersion,
    /// How OpenSSL's cipher strings see it; `None` when OpenSSL never had it.
    openssl_attrs: Option<openssl::Attrs>,
}

impl Suite {
    #[allow(clippy::too_many_arguments)] // one row of the generated table
    const fn new(
        code: u16,
        iana: &'static str,
        openssl: &'static str,
        gnutls: &'static str,
        java: &'static str,
        erlang: &'static str,
        kx: &'static str,
        auth: &'static str,
        enc: &'static str,
        mac: &'static str,
        min_version: MinVersion,
        openssl_attrs: Option<openssl::Attrs>,
    ) -> Suite {
        Suite {
            code,
            iana,
            openssl,
            gnutls,
            java,
            erlang,
            kx,
            auth,
            enc,
            mac,
            min_version,
            openssl_attrs,
        }
    }

    /// Whether Debian 12's OpenSSL 3 (the one the registry was generated
    /// from) still has this suite, rather than only older OpenSSL releases.
    #[must_use]
    pub fn in_openssl3(&self) -> bool {
        self.openssl_attrs.is_some_and(|a| a.known)
    }

    /// Whether a ClientHello for `version` should offer it.
    #[must_use]
    pub fn offered_for(&self, version: Version) -> bool {
        match (self.min_version, version) {
            (MinVersion::Tls13, v) => v == Version::Tls13,
            (_, Version::Tls13) => false,
            (MinVersion::Tls12, v) => v == Version::Tls12,
            (MinVersion::Ssl3, _) => true,
        }
    }

    /// Uses ephemeral (EC)DH: forward secrecy.
    #[must_use]
    pub fn is_ecdhe(&self) -> bool {
        self.kx.starts_with("ECDHE")
    }

    /// `TLS_RSA_WITH_RC4_128_SHA (RC4-SHA)`: the IANA name with OpenSSL's.
    #[must_use]
    pub fn display_name(&self) -> String {
        if self.openssl.is_empty() || self.openssl == self.iana {
            self.iana.to_owned()
        } else {
            format!("{} ({})", self.iana, self.openssl)
        }
    }

    /// The shortest name for a first line: OpenSSL's, else IANA's.
    #[must_use]
    pub fn short_name(&self) -> &'static str {
        if self.openssl.is_empty() {
            self.iana
        } else {
            self.openssl
        }
    }
}

/// Every suite known, ordered by code point.
#[must_use]
pub fn all() -> &'static [Suite] {
    table::SUITES
}

/// The suite with this code point.
#[must_use]
pub fn by_code(code: u16) -> Option<&'static Suite> {
    table::SUITES
        .binary_search_by_key(&code, |s| s.code)
        .ok()
        .map(|i| &table::SUITES[i])
}

/// A suite's display name, or its code point when unknown.
#[must_use]
pub fn name_of(code: u16) -> String {
    by_code(code).map_or_else(|| format!("0x{code:04X}"), Suite::display_name)
}

/// Order in which a scan offers suites: what servers commonly accept first,
/// so the first 128-suite chunk usually holds all of a server's suites and
/// the second is refused at once.
#[must_use]
pub fn scan_order(version: Version) -> Vec<u16> {
    let mut suites: Vec<&Suite> = all().iter().filter(|s| s.offered_for(version)).collect();
    suites.sort_by_key(|s| (rarity(s), s.code));
    suites.iter().map(|s| s.code).collect()
}

fn rarity(suite: &Suite) -> u8 {
    let common_kx = matches!(suite.kx, "ECDHE" | "DHE" | "RSA" | "any");
    let common_auth = matches!(suite.auth, "RSA" | "ECDSA" | "any");
    let common_enc = suite.enc.starts_with("AES")
        || suite.enc.starts_with("CHACHA20")
        || suite.enc.starts_with("3DES")
        || suite.enc.starts_with("RC4")
        || suite.enc.starts_with("CAMELLIA");
    u8::from(!common_kx) + u8::from(!common_auth) + u8::from(!common_enc)
}

/// A named group (curve or finite-field group, or a hybrid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub code: u16,
    /// The IANA name (`secp256r1`, `X25519MLKEM768`).
    pub iana: &'static str,
    /// OpenSSL's name where it differs (`prime256v1`), else the IANA name.
    pub openssl: &'static str,
    /// GnuTLS's (`SECP256R1`, priority strings write `GROUP-SECP256R1`);
    /// empty where GnuTLS 3.7 lacks it (`gnutls-cli -l`).
    pub gnutls: &'static str,
    /// The JDK's (`jdk.tls.namedGroups`); empty where the JDK lacks it.
    pub java: &'static str,
    /// Erlang/OTP ssl's atom (`supported_groups`, `eccs`); empty where OTP
    /// lacks it.
    pub erlang: &'static str,
    /// Usable for TLS ≤ 1.2 ECDHE (not finite-field or post-quantum).
    pub ec_tls12: bool,
}

/// The groups offered, in order. Names as `gnutls-cli -l`, the JDK 25's
/// `SSLParameters::getNamedGroups`, OTP 25's `ssl:groups()` and
/// `ssl:eccs()` list them (tests/e2e/tls_registry.rs checks them).
pub static GROUPS: &[Group] = &[
    Group {
        code: 0x11EC,
        iana: "X25519MLKEM768",
        openssl: "X25519MLKEM768",
        gnutls: "",
        java: "",
        erlang: "",
        ec_tls12: false,
    },
    Group {
        code: 29,
        iana: "x25519",
        openssl: "X25519",
        gnutls: "X25519",
        java: "x25519",
        erlang: "x25519",
        ec_tls12: true,
    },
    Group {
        code: 23,
        iana: "secp256r1",
        openssl: "prime256v1",
        gnutls: "SECP256R1",
        java: "secp256r1",
        erlang: "secp256r1",
        ec_tls12: true,
    },
    Group {
        code: 24,
        iana: "secp384r1",
        openssl: "secp384r1",
        gnutls: "SECP384R1",
        java: "secp384r1",
        erlang: "secp384r1",
        ec_tls12: true,
    },
    Group {
        code: 25,
        iana: "secp521r1",
        openssl: "secp521r1",
        gnutls: "SECP521R1",
        java: "secp521r1",
        erlang: "secp521r1",
        ec_tls12: true,
    },
    Group {
        code: 30,
        iana: "x448",
        openssl: "X448",
        gnutls: "X448",
        java: "x448",
        erlang: "x448",
        ec_tls12: true,
    },
    Group {
        code: 26,
        iana: "brainpoolP256r1",
        openssl: "brainpoolP256r1",
        gnutls: "",
        java: "",
        erlang: "brainpoolP256r1",
        ec_tls12: true,
    },
    Group {
        code: 27,
        iana: "brainpoolP384r1",
        openssl: "brainpoolP384r1",
        gnutls: "",
        java: "",
        erlang: "brainpoolP384r1",
        ec_tls12: true,
    },
    Group {
        code: 28,
        iana: "brainpoolP512r1",
        openssl: "brainpoolP512r1",
        gnutls: "",
        java: "",
        erlang: "brainpoolP512r1",
        ec_tls12: true,
    },
    Group {
        code: 22,
        iana: "secp256k1",
        openssl: "secp256k1",
        gnutls: "",
        java: "",
        erlang: "secp256k1",
        ec_tls12: true,
    },
    Group {
        code: 21,
        iana: "secp224r1",
        openssl: "secp224r1",
        gnutls: "SECP224R1",
        java: "",
        erlang: "secp224r1",
        ec_tls12: true,
    },
    Group {
        code: 0x0100,
        iana: "ffdhe2048",
        openssl: "ffdhe2048",
        gnutls: "FFDHE2048",
        java: "ffdhe2048",
        erlang: "ffdhe2048",
        ec_tls12: false,
    },
    Group {
        code: 0x0101,
        iana: "ffdhe3072",
        openssl: "ffdhe3072",
        gnutls: "FFDHE3072",
        java: "ffdhe3072",
        erlang: "ffdhe3072",
        ec_tls12: false,
    },
    Group {
        code: 0x0102,
        iana: "ffdhe4096",
        openssl: "ffdhe4096",
        gnutls: "FFDHE4096",
        java: "ffdhe4096",
        erlang: "ffdhe4096",
        ec_tls12: false,
    },
    Group {
        code: 0x0103,
        iana: "ffdhe6144",
        openssl: "ffdhe6144",
        gnutls: "FFDHE6144",
        java: "ffdhe6144",
        erlang: "ffdhe6144",
        ec_tls12: false,
    },
    Group {
        code: 0x0104,
        iana: "ffdhe8192",
        openssl: "ffdhe8192",
        gnutls: "FFDHE8192",
        java: "ffdhe8192",
        erlang: "ffdhe8192",
        ec_tls12: false,
    },
];

impl Group {
    /// This group's name in `dialect`, `None` where that library lacks it.
    #[must_use]
    pub fn name_in(&self, dialect: Dialect) -> Option<&'static str> {
        let name = match dialect {
            Dialect::Iana => self.iana,
            Dialect::Openssl => self.openssl,
            Dialect::Gnutls => self.gnutls,
            Dialect::Java => self.java,
            Dialect::Erlang => self.erlang,
        };
        (!name.is_empty()).then_some(name)
    }
}

/// A group's name, or its code point when unknown.
#[must_use]
pub fn group_name(code: u16) -> String {
    GROUPS
        .iter()
        .find(|g| g.code == code)
        .map_or_else(|| format!("0x{code:04X}"), |g| g.iana.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_unique_and_names_are_consistent() {
        let codes: Vec<u16> = all().iter().map(|s| s.code).collect();
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        for suite in all() {
            assert!(suite.iana.starts_with("TLS_"), "{suite:?}");
            assert!(!suite.kx.is_empty() && !suite.enc.is_empty(), "{suite:?}");
        }
        let s = by_code(0xC030).unwrap();
        assert_eq!(s.iana, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(s.openssl, "ECDHE-RSA-AES256-GCM-SHA384");
        assert_eq!(
            (s.kx, s.auth, s.enc, s.mac),
            ("ECDHE", "RSA", "AES_256_GCM", "AEAD")
        );
        let rc4 = by_code(0x0005).unwrap();
        assert_eq!((rc4.openssl, rc4.mac), ("RC4-SHA", "SHA1"));
        assert_eq!(name_of(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(name_of(0xFEFE), "0xFEFE");
    }

    #[test]
    fn scan_lists_fit_two_chunks_and_hold_only_suites_of_their_version() {
        for version in Version::ALL {
            let list = scan_order(version);
            assert!(!list.is_empty());
            assert!(list.len() <= 256, "{version}: {}", list.len());
            assert!(
                list.iter()
                    .all(|&c| by_code(c).unwrap().offered_for(version))
            );
        }
        assert_eq!(scan_order(Version::Tls13).len(), 5);
        assert!(!scan_order(Version::Tls10).contains(&0xC030));
    }
}
