//! The spellings of a suite: each configuration dialect's name, and the one
//! entry point that reads a suite (or an OpenSSL cipher string) written in
//! any of them.

use std::collections::HashSet;
use std::sync::OnceLock;

use clap::ValueEnum;

use super::openssl::StringError;
use super::{GROUPS, Suite, erlang, openssl};

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

impl Dialect {
    pub const ALL: [Dialect; 5] = [
        Dialect::Iana,
        Dialect::Openssl,
        Dialect::Gnutls,
        Dialect::Java,
        Dialect::Erlang,
    ];
}

/// A suite or group name, code point or cipher string that matches nothing
/// known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(self))]
pub struct NameError {
    /// What was written (for a cipher string, the word that is wrong, or
    /// the whole string when it is well formed but selects nothing).
    pub spec: String,
    /// The known names nearest to `spec`, closest first.
    pub closest: Vec<String>,
    /// `suite` or `group`.
    pub what: &'static str,
    /// `spec` is a well-formed cipher string or code point that selects no
    /// suite (`eNULL+AESGCM`), rather than a word nothing knows.
    pub selects_nothing: bool,
}

impl NameError {
    fn suite(spec: &str, closest: Vec<String>) -> NameError {
        NameError {
            spec: spec.to_owned(),
            closest,
            what: "suite",
            selects_nothing: false,
        }
    }

    fn nothing(spec: &str) -> NameError {
        NameError {
            selects_nothing: true,
            ..NameError::suite(spec, Vec::new())
        }
    }
}

fn describe(e: &NameError) -> String {
    if e.selects_nothing {
        return format!("unknown suite \"{}\": it selects no suite", e.spec);
    }
    let mut text = format!("unknown {} \"{}\"", e.what, e.spec);
    if !e.closest.is_empty() {
        text.push_str("; closest known: ");
        text.push_str(&e.closest.join(", "));
    }
    text
}

impl Suite {
    /// Erlang/OTP's map spelling
    /// (`#{key_exchange => ecdhe_rsa, cipher => aes_256_gcm, mac => aead, prf => sha384}`),
    /// what `ssl:listen` takes; `None` where OTP has no name for it.
    #[must_use]
    pub fn erlang_map(&self) -> Option<String> {
        super::erlang::map_form(self.erlang)
    }

    /// This suite's name in `dialect`, `None` where that library has none.
    #[must_use]
    pub fn name_in(&self, dialect: Dialect) -> Option<String> {
        let name = match dialect {
            Dialect::Iana => self.iana,
            Dialect::Openssl => self.openssl,
            Dialect::Gnutls => self.gnutls,
            Dialect::Java => self.java,
            Dialect::Erlang => self.erlang,
        };
        (!name.is_empty()).then(|| name.to_owned())
    }
}

/// Every suite `spec` names, in order: one name in any dialect (IANA,
/// OpenSSL, GnuTLS, Java with its `SSL_` prefixes, an Erlang tuple or
/// map), a code point (`0xC0,0x30` or `0xC030`), or an OpenSSL cipher
/// string (`HIGH:!aNULL:!MD5`, expanded as OpenSSL 3 does; see
/// `openssl.rs` for where it is stricter).
pub fn resolve(spec: &str) -> Result<Vec<&'static Suite>, NameError> {
    let spec = spec.trim();
    if let Some(suite) = by_name(spec) {
        return Ok(vec![suite]);
    }
    if let Some(code) = code_point(spec) {
        return super::by_code(code)
            .map(|s| vec![s])
            .ok_or_else(|| NameError::nothing(spec));
    }
    if spec.starts_with('{') || spec.starts_with("#{") {
        return erlang_suite(spec).map(|s| vec![s]);
    }
    openssl::expand(spec, by_name).map_err(|e| match e {
        StringError::Unknown(word) | StringError::Invalid(word) => {
            NameError::suite(&word, closest(&word, suite_names()))
        }
        StringError::Empty => NameError::nothing(spec),
    })
}

/// The suite one name in any dialect names, letter case aside.
fn by_name(name: &str) -> Option<&'static Suite> {
    let same = |known: &str| !known.is_empty() && known.eq_ignore_ascii_case(name);
    let found = super::all()
        .iter()
        .find(|s| same(s.iana) || same(s.openssl) || same(s.gnutls) || same(s.java));
    found.or_else(|| {
        // JSSE's standard names give every SSL 3.0-era suite an `SSL_` name;
        // OpenSSL 1.0 wrote `EDH-` where 1.1 writes `DHE-`.
        let upper = name.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("SSL_") {
            let iana = format!("TLS_{rest}");
            return super::all()
                .iter()
                .find(|s| s.code <= 0x001B && s.iana.eq_ignore_ascii_case(&iana));
        }
        let other = if let Some(rest) = upper.strip_prefix("EDH-") {
            format!("DHE-{rest}")
        } else if let Some(rest) = upper.strip_prefix("DHE-") {
            format!("EDH-{rest}")
        } else {
            return None;
        };
        super::all()
            .iter()
            .find(|s| s.openssl.eq_ignore_ascii_case(&other))
    })
}

/// `0xC0,0x30`, `0xC0, 0x30` or `0xC030`.
fn code_point(spec: &str) -> Option<u16> {
    let byte = |text: &str| -> Option<u16> {
        let hex = text
            .trim()
            .strip_prefix("0x")
            .or_else(|| text.trim().strip_prefix("0X"))?;
        (hex.len() <= 2 && !hex.is_empty())
            .then(|| u8::from_str_radix(hex, 16).ok().map(u16::from))
            .flatten()
    };
    if let Some((high, low)) = spec.split_once(',') {
        return Some(byte(high)? << 8 | byte(low)?);
    }
    let hex = spec
        .strip_prefix("0x")
        .or_else(|| spec.strip_prefix("0X"))?;
    (hex.len() == 4)
        .then(|| u16::from_str_radix(hex, 16).ok())
        .flatten()
}

fn erlang_suite(spec: &str) -> Result<&'static Suite, NameError> {
    let erlang_names = || {
        super::all()
            .iter()
            .filter(|s| !s.erlang.is_empty())
            .map(|s| s.erlang)
    };
    let Some(wanted) = erlang::canonical(spec) else {
        return Err(NameError::suite(spec, closest(spec, erlang_names())));
    };
    let all = super::all();
    if let Some(suite) = all.iter().find(|s| s.erlang == wanted) {
        return Ok(suite);
    }
    // A three-element tuple for a suite with its own PRF, as OTP's old
    // format allowed: fine while only one suite fits.
    let mut fits = all.iter().filter(|s| {
        !s.erlang.is_empty() && erlang::without_prf(s.erlang) == erlang::without_prf(&wanted)
    });
    match (fits.next(), fits.next(), wanted.matches(',').count()) {
        (Some(suite), None, 2) => Ok(suite),
        _ => Err(NameError::suite(spec, closest(&wanted, erlang_names()))),
    }
}

/// The code point of a named group in any dialect: `X25519`/`x25519`,
/// `prime256v1`/`secp256r1`/`P-256`, GnuTLS's `SECP256R1` or
/// `GROUP-SECP256R1`, `ffdhe2048`, or the number (`0x001D`, `29`).
pub fn resolve_group(name: &str) -> Result<u16, NameError> {
    let name = name.trim();
    let upper = name.to_ascii_uppercase();
    let bare = upper
        .strip_prefix("GROUP-")
        .or_else(|| upper.strip_prefix("CURVE-"))
        .unwrap_or(&upper);
    let nist = match bare.replace(' ', "").as_str() {
        "P-256" | "P256" | "NISTP-256" | "NISTP256" | "PRIME256V1" => Some(23),
        "P-384" | "P384" | "NISTP-384" | "NISTP384" => Some(24),
        "P-521" | "P521" | "NISTP-521" | "NISTP521" => Some(25),
        _ => None,
    };
    if let Some(code) = nist {
        return Ok(code);
    }
    let found = GROUPS.iter().find(|g| {
        [g.iana, g.openssl, g.gnutls, g.java, g.erlang]
            .iter()
            .any(|n| !n.is_empty() && n.eq_ignore_ascii_case(bare))
    });
    if let Some(group) = found {
        return Ok(group.code);
    }
    let number = name
        .strip_prefix("0x")
        .or_else(|| name.strip_prefix("0X"))
        .map_or_else(
            || name.parse::<u16>().ok(),
            |hex| u16::from_str_radix(hex, 16).ok(),
        );
    if let Some(code) = number.filter(|&c| GROUPS.iter().any(|g| g.code == c)) {
        return Ok(code);
    }
    let names = GROUPS
        .iter()
        .flat_map(|g| [g.iana, g.openssl, g.gnutls, g.java, g.erlang])
        .filter(|n| !n.is_empty())
        .chain(["P-256", "P-384", "P-521"]);
    Err(NameError {
        spec: name.to_owned(),
        closest: closest(name, names),
        what: "group",
        selects_nothing: false,
    })
}

/// Every suite name in every dialect, and the cipher-string keywords.
/// Each once: JSSE's names are mostly IANA's.
fn suite_names() -> impl Iterator<Item = &'static str> {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut seen = HashSet::new();
            super::all()
                .iter()
                .flat_map(|s| [s.iana, s.openssl, s.gnutls, s.java])
                .chain(openssl::keywords())
                .filter(|n| !n.is_empty() && seen.insert(*n))
                .collect()
        })
        .iter()
        .copied()
}

/// Up to three known names nearest to `spec` (letter case aside), best
/// first (Jaro-Winkler); none when nothing comes within 0.75 of it.
fn closest<'a>(spec: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = spec.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|n| (strsim::jaro_winkler(&wanted, &n.to_ascii_lowercase()), n))
        .filter(|(score, _)| *score >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, name) in scored {
        if !out.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            out.push(name.to_owned());
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(spec: &str) -> u16 {
        let found = resolve(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(found.len(), 1, "{spec}");
        found[0].code
    }

    #[test]
    fn every_dialect_names_the_same_suite() {
        for spec in [
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "tls_ecdhe_rsa_with_aes_256_gcm_sha384",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "TLS_ECDHE_RSA_AES_256_GCM_SHA384",
            "{ecdhe_rsa,aes_256_gcm,aead,sha384}",
            "#{key_exchange => ecdhe_rsa, cipher => aes_256_gcm, mac => aead, prf => sha384}",
            "0xC0,0x30",
            "0xc0, 0x30",
            "0xC030",
            " ECDHE-RSA-AES256-GCM-SHA384 ",
        ] {
            assert_eq!(one(spec), 0xC030, "{spec}");
        }
        assert_eq!(one("SSL_RSA_WITH_3DES_EDE_CBC_SHA"), 0x000A);
        assert_eq!(one("TLS_RSA_WITH_3DES_EDE_CBC_SHA"), 0x000A);
        assert_eq!(one("SSL_RSA_WITH_IDEA_CBC_SHA"), 0x0007);
        assert_eq!(one("{rsa,'3des_ede_cbc',sha}"), 0x000A);
        assert_eq!(one("EDH-RSA-DES-CBC3-SHA"), 0x0016);
        assert_eq!(one("DHE-RSA-DES-CBC3-SHA"), 0x0016);
        assert_eq!(one("TLS_AES_256_GCM_SHA384"), 0x1302);
        assert_eq!(one("{any,aes_256_gcm,aead,sha384}"), 0x1302);
        // Old three-element form for a suite with its own PRF.
        assert_eq!(one("{ecdhe_rsa,aes_256_gcm,aead}"), 0xC030);
    }

    #[test]
    fn name_in_gives_each_librarys_spelling() {
        let s = super::super::by_code(0xC030).unwrap();
        assert_eq!(
            s.name_in(Dialect::Iana).unwrap(),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
        assert_eq!(
            s.name_in(Dialect::Openssl).unwrap(),
            "ECDHE-RSA-AES256-GCM-SHA384"
        );
        assert_eq!(
            s.name_in(Dialect::Gnutls).unwrap(),
            "TLS_ECDHE_RSA_AES_256_GCM_SHA384"
        );
        assert_eq!(
            s.name_in(Dialect::Java).unwrap(),
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        );
        assert_eq!(
            s.name_in(Dialect::Erlang).unwrap(),
            "{ecdhe_rsa,aes_256_gcm,aead,sha384}"
        );
        let rc4 = super::super::by_code(0x0005).unwrap();
        assert_eq!(
            rc4.name_in(Dialect::Java).unwrap(),
            "SSL_RSA_WITH_RC4_128_SHA"
        );
        assert_eq!(
            rc4.name_in(Dialect::Gnutls).unwrap(),
            "TLS_RSA_ARCFOUR_128_SHA1"
        );
        let aria = super::super::by_code(0xC061).unwrap();
        assert_eq!(aria.name_in(Dialect::Gnutls), None);
        assert_eq!(aria.name_in(Dialect::Java), None);
    }

    #[test]
    fn every_registry_name_round_trips_through_every_dialect() {
        let mut names = 0;
        for suite in super::super::all() {
            for dialect in Dialect::ALL {
                if let Some(name) = suite.name_in(dialect) {
                    assert_eq!(one(&name), suite.code, "{dialect:?} {name}");
                    names += 1;
                }
            }
        }
        assert!(names > 700, "{names}");
    }

    #[test]
    fn cipher_strings_expand() {
        let high = resolve("HIGH:!aNULL:!MD5").unwrap();
        assert!(high.len() > 50);
        assert!(high.iter().all(|s| s.auth != "None" && s.mac != "MD5"));
        assert_eq!(resolve("ECDHE+AESGCM").unwrap().len(), 4);
        // OpenSSL's `Ciphersuites` (TLS 1.3) list reads the same way.
        let tls13: Vec<u16> = resolve("TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256")
            .unwrap()
            .iter()
            .map(|s| s.code)
            .collect();
        assert_eq!(tls13, [0x1302, 0x1301]);
        // Names of other dialects may stand in a string too.
        let mixed: Vec<u16> = resolve("TLS_ECDHE_RSA_AES_256_GCM_SHA384:!aNULL:AES128-SHA")
            .unwrap()
            .iter()
            .map(|s| s.code)
            .collect();
        assert_eq!(mixed, [0xC030, 0x002F]);
    }

    #[test]
    fn mistakes_name_the_closest_known() {
        let e = resolve("ECDHE-RSA-AES256-GCM-SHA348").unwrap_err();
        assert_eq!(e.closest[0], "ECDHE-RSA-AES256-GCM-SHA384", "{e}");
        let e = resolve("HIGH:!aNUL").unwrap_err();
        assert_eq!(e.spec, "aNUL");
        assert_eq!(e.closest[0], "aNULL");
        assert!(e.to_string().contains("closest known: aNULL"), "{e}");
        let e = resolve("{ecdhe_rsa,aes_256_gcm,aead,sha348}").unwrap_err();
        assert_eq!(e.closest[0], "{ecdhe_rsa,aes_256_gcm,aead,sha384}");
        let e = resolve("0xFE,0xFE").unwrap_err();
        assert!(e.closest.is_empty());
        assert_eq!(
            e.to_string(),
            "unknown suite \"0xFE,0xFE\": it selects no suite"
        );
        let e = resolve("eNULL+AESGCM").unwrap_err();
        assert!(e.selects_nothing && e.closest.is_empty(), "{e}");
        assert!(
            !resolve("ECDHE-RSA-AES256-GCM-SHA348")
                .unwrap_err()
                .selects_nothing
        );
        assert!(resolve("").is_err());
    }

    #[test]
    fn groups_in_every_spelling() {
        for (name, code) in [
            ("X25519", 29),
            ("x25519", 29),
            ("GROUP-X25519", 29),
            ("prime256v1", 23),
            ("secp256r1", 23),
            ("P-256", 23),
            ("SECP256R1", 23),
            ("GROUP-SECP384R1", 24),
            ("P-521", 25),
            ("X448", 30),
            ("ffdhe2048", 0x100),
            ("FFDHE3072", 0x101),
            ("X25519MLKEM768", 0x11EC),
            ("brainpoolP256r1", 26),
            ("0x001D", 29),
            ("23", 23),
        ] {
            assert_eq!(resolve_group(name), Ok(code), "{name}");
        }
        let e = resolve_group("secp265r1").unwrap_err();
        assert!(
            e.closest
                .iter()
                .any(|n| n.eq_ignore_ascii_case("secp256r1")),
            "{e}"
        );
        assert!(resolve_group("0x9999").is_err());
        for group in GROUPS {
            for dialect in Dialect::ALL {
                if let Some(name) = group.name_in(dialect) {
                    assert_eq!(resolve_group(name), Ok(group.code), "{dialect:?} {name}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn any_name_in_any_dialect_round_trips(
            index in 0..super::super::all().len(),
            dialect in prop::sample::select(Dialect::ALL.to_vec()),
            lower in any::<bool>(),
        ) {
            let suite = &super::super::all()[index];
            if let Some(name) = suite.name_in(dialect) {
                let written = if lower && dialect != Dialect::Erlang { name.to_ascii_lowercase() } else { name };
                let found = resolve(&written).unwrap();
                prop_assert_eq!(found.len(), 1);
                prop_assert_eq!(found[0].code, suite.code);
            }
        }

        #[test]
        fn code_points_in_both_forms(index in 0..super::super::all().len()) {
            let code = super::super::all()[index].code;
            prop_assert_eq!(resolve(&format!("0x{code:04X}")).unwrap()[0].code, code);
            prop_assert_eq!(resolve(&format!("0x{:02X},0x{:02X}", code >> 8, code & 0xFF)).unwrap()[0].code, code);
        }

        #[test]
        fn user_text_never_panics(text in "[ -~]{0,80}") {
            let _ = resolve(&text);
            let _ = resolve_group(&text);
        }

        #[test]
        fn cipher_strings_of_keywords_never_panic(
            words in prop::collection::vec(
                (prop::sample::select(vec!["", "!", "-", "+", "@"]),
                 prop::sample::select(openssl::keywords().collect::<Vec<_>>())),
                1..6,
            )
        ) {
            let text: Vec<String> = words.iter().map(|(op, w)| format!("{op}{w}")).collect();
            if let Ok(list) = resolve(&text.join(":")) {
                let mut codes: Vec<u16> = list.iter().map(|s| s.code).collect();
                codes.sort_unstable();
                codes.dedup();
                prop_assert_eq!(codes.len(), list.len(), "no suite twice");
            }
        }
    }
}
