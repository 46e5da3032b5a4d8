//! OpenSSL cipher strings (`HIGH:!aNULL:!MD5`, `ECDHE+AESGCM`, `DEFAULT`),
//! expanded the way OpenSSL 3's `ssl_create_cipher_list` expands them: the
//! same starting order, the same aliases, the same `+`/`-`/`!`/`@STRENGTH`
//! moves, so the list a policy names is the list nginx or Apache would get.
//!
//! Differences, all on purpose: suites that Debian 12's OpenSSL 3 dropped
//! (RC4, DES, 3DES, export, static (EC)DH) still take part, with the
//! classes OpenSSL 1.1 gave them, so `!RC4` or `kRSA` in a policy still
//! reach them; a word OpenSSL does not know is an error naming the closest
//! known ones (OpenSSL skips it silently, hiding typos such as `!aNUL`),
//! except the keywords of older OpenSSL releases (`!EXP`, `!SSLv2`,
//! `!KRB5`...), which match what they matched or nothing; a suite name in
//! any dialect may stand where OpenSSL takes its own names.

use std::sync::OnceLock;

use super::Suite;

/// The oldest protocol OpenSSL lists for a suite (`TLSv1`, `SSLv3`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Proto {
    Ssl3,
    Tls10,
    Tls12,
    Tls13,
}

/// OpenSSL's strength classes and flags (`HIGH`, `COMPLEMENTOFDEFAULT`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    High,
    Medium,
    Low,
    Export,
    Fips,
    NotDefault,
}

/// What OpenSSL's cipher strings select a suite by, beyond its algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Attrs {
    proto: Proto,
    /// Strength bits (`@STRENGTH` sorts by them; 3DES counts 112).
    bits: u16,
    classes: &'static [Class],
    /// This machine's OpenSSL 3 still has it (else: an OpenSSL 1.x suite).
    pub(super) known: bool,
}

impl Attrs {
    pub(super) const fn new(
        proto: Proto,
        bits: u16,
        classes: &'static [Class],
        known: bool,
    ) -> Attrs {
        Attrs {
            proto,
            bits,
            classes,
            known,
        }
    }
}

// Algorithm bits, one set per column of OpenSSL's SSL_CIPHER. Values are
// ours; only the matching rules (any shared bit) follow OpenSSL.
const K_RSA: u32 = 1;
const K_DHE: u32 = 1 << 1;
const K_ECDHE: u32 = 1 << 2;
const K_PSK: u32 = 1 << 3;
const K_RSAPSK: u32 = 1 << 4;
const K_ECDHEPSK: u32 = 1 << 5;
const K_DHEPSK: u32 = 1 << 6;
const K_SRP: u32 = 1 << 7;
const K_GOST: u32 = 1 << 8;
const K_DH_STATIC: u32 = 1 << 9;
const K_ECDH_STATIC: u32 = 1 << 10;
const K_ALL_PSK: u32 = K_PSK | K_RSAPSK | K_ECDHEPSK | K_DHEPSK;

const A_RSA: u32 = 1;
const A_DSS: u32 = 1 << 1;
const A_NULL: u32 = 1 << 2;
const A_ECDSA: u32 = 1 << 3;
const A_PSK: u32 = 1 << 4;
const A_SRP: u32 = 1 << 5;
const A_GOST: u32 = 1 << 6;

const E_DES: u32 = 1;
const E_3DES: u32 = 1 << 1;
const E_RC4: u32 = 1 << 2;
const E_RC2: u32 = 1 << 3;
const E_IDEA: u32 = 1 << 4;
const E_NULL: u32 = 1 << 5;
const E_AES128: u32 = 1 << 6;
const E_AES256: u32 = 1 << 7;
const E_CAMELLIA128: u32 = 1 << 8;
const E_CAMELLIA256: u32 = 1 << 9;
const E_SEED: u32 = 1 << 10;
const E_AES128GCM: u32 = 1 << 11;
const E_AES256GCM: u32 = 1 << 12;
const E_AES128CCM: u32 = 1 << 13;
const E_AES256CCM: u32 = 1 << 14;
const E_AES128CCM8: u32 = 1 << 15;
const E_AES256CCM8: u32 = 1 << 16;
const E_CHACHA20: u32 = 1 << 17;
const E_ARIA128GCM: u32 = 1 << 18;
const E_ARIA256GCM: u32 = 1 << 19;
const E_GOST: u32 = 1 << 20;
const E_OTHER: u32 = 1 << 21;
const E_AESGCM: u32 = E_AES128GCM | E_AES256GCM;
const E_AESCCM: u32 = E_AES128CCM | E_AES256CCM | E_AES128CCM8 | E_AES256CCM8;
const E_AES: u32 = E_AES128 | E_AES256 | E_AESGCM | E_AESCCM;

const M_MD5: u32 = 1;
const M_SHA1: u32 = 1 << 1;
const M_SHA256: u32 = 1 << 2;
const M_SHA384: u32 = 1 << 3;
const M_AEAD: u32 = 1 << 4;
const M_GOST: u32 = 1 << 5;

const S_LOW: u32 = 1 << 1;
const S_MEDIUM: u32 = 1 << 2;
const S_HIGH: u32 = 1 << 3;
const S_FIPS: u32 = 1 << 4;
const S_NOT_DEFAULT: u32 = 1 << 5;
const S_EXPORT: u32 = 1 << 6;
const STRONG_MASK: u32 = S_LOW | S_MEDIUM | S_HIGH | S_FIPS | S_EXPORT;
const DEFAULT_MASK: u32 = S_NOT_DEFAULT;

/// A bit no suite has: the aliases of older OpenSSL releases for things no
/// suite in the registry is (Kerberos, Fortezza, SSL 2).
const NOTHING: u32 = 1 << 31;

const V_SSL3: u8 = 1;
const V_TLS10: u8 = 2;
const V_TLS12: u8 = 3;
const V_SSL2: u8 = 9;

/// OpenSSL 3's `OSSL_default_cipher_list()`.
const DEFAULT_RULES: &str = "ALL:!COMPLEMENTOFDEFAULT:!eNULL";

/// One suite as the cipher-string machinery sees it.
#[derive(Debug, Clone, Copy)]
struct Cipher {
    suite: &'static Suite,
    mkey: u32,
    auth: u32,
    enc: u32,
    mac: u32,
    min_tls: u8,
    strength: u32,
    bits: u16,
    /// TLS 1.3 suites are no part of OpenSSL's cipher strings; they are
    /// reached only by name.
    named_only: bool,
}

/// What a rule selects: zero means "any" (OpenSSL's convention).
#[derive(Debug, Clone, Copy, Default)]
struct Pattern {
    code: Option<u16>,
    mkey: u32,
    auth: u32,
    enc: u32,
    mac: u32,
    min_tls: u8,
    strength: u32,
}

impl Pattern {
    const fn alias(mkey: u32, auth: u32, enc: u32, mac: u32, min_tls: u8, strength: u32) -> Self {
        Pattern {
            code: None,
            mkey,
            auth,
            enc,
            mac,
            min_tls,
            strength,
        }
    }

    fn matches(&self, c: &Cipher) -> bool {
        if c.named_only && self.code.is_none() {
            return false;
        }
        if self.code.is_some_and(|code| code != c.suite.code) {
            return false;
        }
        let any = |want: u32, have: u32| want == 0 || want & have != 0;
        any(self.mkey, c.mkey)
            && any(self.auth, c.auth)
            && any(self.enc, c.enc)
            && any(self.mac, c.mac)
            && (self.min_tls == 0 || self.min_tls == c.min_tls)
            && (self.strength & STRONG_MASK == 0 || self.strength & STRONG_MASK & c.strength != 0)
            && (self.strength & DEFAULT_MASK == 0 || self.strength & DEFAULT_MASK & c.strength != 0)
    }
}

/// OpenSSL 3's aliases (ssl/ssl_ciph.c `cipher_aliases`), then the ones
/// older releases had.
const ALIASES: &[(&str, Pattern)] = &[
    ("ALL", Pattern::alias(0, 0, !E_NULL, 0, 0, 0)),
    ("COMPLEMENTOFALL", Pattern::alias(0, 0, E_NULL, 0, 0, 0)),
    (
        "COMPLEMENTOFDEFAULT",
        Pattern::alias(0, 0, 0, 0, 0, S_NOT_DEFAULT),
    ),
    ("kRSA", Pattern::alias(K_RSA, 0, 0, 0, 0, 0)),
    ("kEDH", Pattern::alias(K_DHE, 0, 0, 0, 0, 0)),
    ("kDHE", Pattern::alias(K_DHE, 0, 0, 0, 0, 0)),
    ("DH", Pattern::alias(K_DHE, 0, 0, 0, 0, 0)),
    ("kEECDH", Pattern::alias(K_ECDHE, 0, 0, 0, 0, 0)),
    ("kECDHE", Pattern::alias(K_ECDHE, 0, 0, 0, 0, 0)),
    ("ECDH", Pattern::alias(K_ECDHE, 0, 0, 0, 0, 0)),
    ("kPSK", Pattern::alias(K_PSK, 0, 0, 0, 0, 0)),
    ("kRSAPSK", Pattern::alias(K_RSAPSK, 0, 0, 0, 0, 0)),
    ("kECDHEPSK", Pattern::alias(K_ECDHEPSK, 0, 0, 0, 0, 0)),
    ("kDHEPSK", Pattern::alias(K_DHEPSK, 0, 0, 0, 0, 0)),
    ("kSRP", Pattern::alias(K_SRP, 0, 0, 0, 0, 0)),
    ("kGOST", Pattern::alias(K_GOST, 0, 0, 0, 0, 0)),
    ("aRSA", Pattern::alias(0, A_RSA, 0, 0, 0, 0)),
    ("aDSS", Pattern::alias(0, A_DSS, 0, 0, 0, 0)),
    ("DSS", Pattern::alias(0, A_DSS, 0, 0, 0, 0)),
    ("aNULL", Pattern::alias(0, A_NULL, 0, 0, 0, 0)),
    ("aECDSA", Pattern::alias(0, A_ECDSA, 0, 0, 0, 0)),
    ("ECDSA", Pattern::alias(0, A_ECDSA, 0, 0, 0, 0)),
    ("aPSK", Pattern::alias(0, A_PSK, 0, 0, 0, 0)),
    ("aGOST01", Pattern::alias(0, A_GOST, 0, 0, 0, 0)),
    ("aGOST12", Pattern::alias(0, A_GOST, 0, 0, 0, 0)),
    ("aGOST", Pattern::alias(0, A_GOST, 0, 0, 0, 0)),
    ("aSRP", Pattern::alias(0, A_SRP, 0, 0, 0, 0)),
    ("EDH", Pattern::alias(K_DHE, !A_NULL, 0, 0, 0, 0)),
    ("DHE", Pattern::alias(K_DHE, !A_NULL, 0, 0, 0, 0)),
    ("EECDH", Pattern::alias(K_ECDHE, !A_NULL, 0, 0, 0, 0)),
    ("ECDHE", Pattern::alias(K_ECDHE, !A_NULL, 0, 0, 0, 0)),
    ("NULL", Pattern::alias(0, 0, E_NULL, 0, 0, 0)),
    ("RSA", Pattern::alias(K_RSA, A_RSA, 0, 0, 0, 0)),
    ("ADH", Pattern::alias(K_DHE, A_NULL, 0, 0, 0, 0)),
    ("AECDH", Pattern::alias(K_ECDHE, A_NULL, 0, 0, 0, 0)),
    ("PSK", Pattern::alias(K_ALL_PSK, 0, 0, 0, 0, 0)),
    ("SRP", Pattern::alias(K_SRP, 0, 0, 0, 0, 0)),
    ("3DES", Pattern::alias(0, 0, E_3DES, 0, 0, 0)),
    ("RC4", Pattern::alias(0, 0, E_RC4, 0, 0, 0)),
    ("RC2", Pattern::alias(0, 0, E_RC2, 0, 0, 0)),
    ("IDEA", Pattern::alias(0, 0, E_IDEA, 0, 0, 0)),
    ("SEED", Pattern::alias(0, 0, E_SEED, 0, 0, 0)),
    ("eNULL", Pattern::alias(0, 0, E_NULL, 0, 0, 0)),
    ("GOST89", Pattern::alias(0, 0, E_GOST, 0, 0, 0)),
    (
        "AES128",
        Pattern::alias(
            0,
            0,
            E_AES128 | E_AES128GCM | E_AES128CCM | E_AES128CCM8,
            0,
            0,
            0,
        ),
    ),
    (
        "AES256",
        Pattern::alias(
            0,
            0,
            E_AES256 | E_AES256GCM | E_AES256CCM | E_AES256CCM8,
            0,
            0,
            0,
        ),
    ),
    ("AES", Pattern::alias(0, 0, E_AES, 0, 0, 0)),
    ("AESGCM", Pattern::alias(0, 0, E_AESGCM, 0, 0, 0)),
    ("AESCCM", Pattern::alias(0, 0, E_AESCCM, 0, 0, 0)),
    (
        "AESCCM8",
        Pattern::alias(0, 0, E_AES128CCM8 | E_AES256CCM8, 0, 0, 0),
    ),
    ("CAMELLIA128", Pattern::alias(0, 0, E_CAMELLIA128, 0, 0, 0)),
    ("CAMELLIA256", Pattern::alias(0, 0, E_CAMELLIA256, 0, 0, 0)),
    (
        "CAMELLIA",
        Pattern::alias(0, 0, E_CAMELLIA128 | E_CAMELLIA256, 0, 0, 0),
    ),
    ("CHACHA20", Pattern::alias(0, 0, E_CHACHA20, 0, 0, 0)),
    (
        "ARIA",
        Pattern::alias(0, 0, E_ARIA128GCM | E_ARIA256GCM, 0, 0, 0),
    ),
    (
        "ARIAGCM",
        Pattern::alias(0, 0, E_ARIA128GCM | E_ARIA256GCM, 0, 0, 0),
    ),
    ("ARIA128", Pattern::alias(0, 0, E_ARIA128GCM, 0, 0, 0)),
    ("ARIA256", Pattern::alias(0, 0, E_ARIA256GCM, 0, 0, 0)),
    (
        "CBC",
        Pattern::alias(
            0,
            0,
            E_DES
                | E_3DES
                | E_RC2
                | E_IDEA
                | E_AES128
                | E_AES256
                | E_CAMELLIA128
                | E_CAMELLIA256
                | E_SEED,
            0,
            0,
            0,
        ),
    ),
    ("MD5", Pattern::alias(0, 0, 0, M_MD5, 0, 0)),
    ("SHA1", Pattern::alias(0, 0, 0, M_SHA1, 0, 0)),
    ("SHA", Pattern::alias(0, 0, 0, M_SHA1, 0, 0)),
    ("GOST94", Pattern::alias(0, 0, 0, NOTHING, 0, 0)),
    ("GOST89MAC", Pattern::alias(0, 0, 0, M_GOST, 0, 0)),
    ("SHA256", Pattern::alias(0, 0, 0, M_SHA256, 0, 0)),
    ("SHA384", Pattern::alias(0, 0, 0, M_SHA384, 0, 0)),
    ("GOST12", Pattern::alias(0, 0, 0, NOTHING, 0, 0)),
    ("SSLv3", Pattern::alias(0, 0, 0, 0, V_SSL3, 0)),
    ("TLSv1", Pattern::alias(0, 0, 0, 0, V_TLS10, 0)),
    ("TLSv1.0", Pattern::alias(0, 0, 0, 0, V_TLS10, 0)),
    ("TLSv1.2", Pattern::alias(0, 0, 0, 0, V_TLS12, 0)),
    ("LOW", Pattern::alias(0, 0, 0, 0, 0, S_LOW)),
    ("MEDIUM", Pattern::alias(0, 0, 0, 0, 0, S_MEDIUM)),
    ("HIGH", Pattern::alias(0, 0, 0, 0, 0, S_HIGH)),
    ("FIPS", Pattern::alias(0, 0, !E_NULL, 0, 0, S_FIPS)),
    // Older releases' words, still found in configurations.
    ("EXP", Pattern::alias(0, 0, 0, 0, 0, S_EXPORT)),
    ("EXPORT", Pattern::alias(0, 0, 0, 0, 0, S_EXPORT)),
    ("EXPORT40", Pattern::alias(0, 0, 0, 0, 0, S_EXPORT)),
    ("EXPORT56", Pattern::alias(0, 0, 0, 0, 0, NOTHING)),
    ("DES", Pattern::alias(0, 0, E_DES, 0, 0, 0)),
    ("kDH", Pattern::alias(K_DH_STATIC, 0, 0, 0, 0, 0)),
    ("kDHr", Pattern::alias(K_DH_STATIC, A_RSA, 0, 0, 0, 0)),
    ("kDHd", Pattern::alias(K_DH_STATIC, A_DSS, 0, 0, 0, 0)),
    ("aDH", Pattern::alias(K_DH_STATIC, 0, 0, 0, 0, 0)),
    ("kECDH", Pattern::alias(K_ECDH_STATIC, 0, 0, 0, 0, 0)),
    ("kECDHr", Pattern::alias(K_ECDH_STATIC, A_RSA, 0, 0, 0, 0)),
    ("kECDHe", Pattern::alias(K_ECDH_STATIC, A_ECDSA, 0, 0, 0, 0)),
    ("aECDH", Pattern::alias(K_ECDH_STATIC, 0, 0, 0, 0, 0)),
    ("SSLv2", Pattern::alias(0, 0, 0, 0, V_SSL2, 0)),
    ("KRB5", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
    ("kKRB5", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
    ("aKRB5", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
    ("FZA", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
    ("kFZA", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
    ("aFZA", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
    ("eFZA", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
    // Only a leading DEFAULT expands; elsewhere OpenSSL finds no such alias.
    ("DEFAULT", Pattern::alias(NOTHING, 0, 0, 0, 0, 0)),
];

/// Every keyword a cipher string may use (for "closest known" hints).
pub(super) fn keywords() -> impl Iterator<Item = &'static str> {
    ALIASES.iter().map(|(name, _)| *name).chain([
        "@STRENGTH",
        "@SECLEVEL=0",
        "SUITEB128",
        "SUITEB192",
    ])
}

/// Why a cipher string could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StringError {
    /// A word that is no alias and no suite name.
    Unknown(String),
    /// A character OpenSSL does not take (`HIGH:!(aNULL)`), or a bad `@` command.
    Invalid(String),
    /// Well formed, but selects no suite.
    Empty,
}

/// Expands `rules` into suites, in OpenSSL's order. `lookup` finds a suite
/// by a name in any dialect (after OpenSSL's own names).
pub(super) fn expand(
    rules: &str,
    lookup: impl Fn(&str) -> Option<&'static Suite>,
) -> Result<Vec<&'static Suite>, StringError> {
    // The starting order is the same for every string: arranged once.
    static START: OnceLock<List> = OnceLock::new();
    let mut list = START.get_or_init(List::new).clone();
    let rules = suite_b(rules);
    let rest = if let Some(rest) = rules.strip_prefix("DEFAULT") {
        list.process(DEFAULT_RULES, &lookup)?;
        rest.strip_prefix(':').unwrap_or(rest)
    } else {
        rules
    };
    list.process(rest, &lookup)?;
    let out: Vec<&'static Suite> = list
        .order
        .iter()
        .filter(|&&i| list.active[i])
        .map(|&i| list.ciphers[i].suite)
        .collect();
    if out.is_empty() {
        Err(StringError::Empty)
    } else {
        Ok(out)
    }
}

/// OpenSSL's Suite B shortcuts replace the whole string.
fn suite_b(rules: &str) -> &str {
    const BOTH: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384";
    for (prefix, replacement) in [
        ("SUITEB128ONLY", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("SUITEB128C2", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("SUITEB128", BOTH),
        ("SUITEB192", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ] {
        if rules.starts_with(prefix) {
            return replacement;
        }
    }
    rules
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Kill,
    Del,
    Ord,
    Bump,
}

/// OpenSSL's linked list of ciphers, as a vector of indices into
/// `ciphers`, with the active flags beside it.
#[derive(Clone)]
struct List {
    ciphers: Vec<Cipher>,
    order: Vec<usize>,
    active: Vec<bool>,
}

impl List {
    /// The ciphers in OpenSSL's starting order (highest code point first),
    /// arranged by its default preferences and then all disabled, as
    /// `ssl_create_cipher_list` leaves them before reading the rules.
    fn new() -> List {
        let mut ciphers: Vec<Cipher> = super::all().iter().filter_map(cipher).collect();
        ciphers.sort_by_key(|c| std::cmp::Reverse(c.suite.code));
        let n = ciphers.len();
        let mut list = List {
            ciphers,
            order: (0..n).collect(),
            active: vec![false; n],
        };
        let p = Pattern::alias;
        // Prefer ECDHE, ECDSA before RSA.
        list.apply(Op::Add, &p(K_ECDHE, A_ECDSA, 0, 0, 0, 0));
        list.apply(Op::Add, &p(K_ECDHE, 0, 0, 0, 0, 0));
        list.apply(Op::Del, &p(K_ECDHE, 0, 0, 0, 0, 0));
        // GCM before ChaCha20, then the rest of AES.
        list.apply(Op::Add, &p(0, 0, E_AESGCM, 0, 0, 0));
        list.apply(Op::Add, &p(0, 0, E_CHACHA20, 0, 0, 0));
        list.apply(Op::Add, &p(0, 0, E_AES & !E_AESGCM, 0, 0, 0));
        list.apply(Op::Add, &Pattern::default());
        // MD5, anonymous, static RSA, PSK and RC4 to the end.
        list.apply(Op::Ord, &p(0, 0, 0, M_MD5, 0, 0));
        list.apply(Op::Ord, &p(0, A_NULL, 0, 0, 0, 0));
        list.apply(Op::Ord, &p(K_RSA, 0, 0, 0, 0, 0));
        list.apply(Op::Ord, &p(K_PSK, 0, 0, 0, 0, 0));
        list.apply(Op::Ord, &p(0, 0, E_RC4, 0, 0, 0));
        list.strength_sort();
        // (EC)DHE + AEAD > (EC)DHE > AEAD > rest, TLS 1.2 first within.
        list.apply(Op::Bump, &p(0, 0, 0, 0, V_TLS12, 0));
        list.apply(Op::Bump, &p(0, 0, 0, M_AEAD, 0, 0));
        list.apply(Op::Bump, &p(K_DHE | K_ECDHE, 0, 0, 0, 0, 0));
        list.apply(Op::Bump, &p(K_DHE | K_ECDHE, 0, 0, M_AEAD, 0, 0));
        list.apply(Op::Del, &Pattern::default());
        list
    }

    fn apply(&mut self, op: Op, pattern: &Pattern) {
        self.apply_where(op, |c| pattern.matches(c));
    }

    fn apply_where(&mut self, op: Op, selected: impl Fn(&Cipher) -> bool) {
        let snapshot = self.order.clone();
        let reverse = matches!(op, Op::Del | Op::Bump);
        let walk: Box<dyn Iterator<Item = &usize>> = if reverse {
            Box::new(snapshot.iter().rev())
        } else {
            Box::new(snapshot.iter())
        };
        for &i in walk {
            if !selected(&self.ciphers[i]) {
                continue;
            }
            let active = self.active[i];
            match op {
                Op::Add if !active => {
                    self.move_to(i, false);
                    self.active[i] = true;
                }
                Op::Ord if active => self.move_to(i, false),
                Op::Del if active => {
                    self.move_to(i, true);
                    self.active[i] = false;
                }
                Op::Bump if active => self.move_to(i, true),
                Op::Kill => {
                    self.order.retain(|&j| j != i);
                    self.active[i] = false;
                }
                _ => {}
            }
        }
    }

    fn move_to(&mut self, i: usize, head: bool) {
        self.order.retain(|&j| j != i);
        if head {
            self.order.insert(0, i);
        } else {
            self.order.push(i);
        }
    }

    /// `@STRENGTH`: strongest first, keeping the order within equal strength.
    fn strength_sort(&mut self) {
        let mut bits: Vec<u16> = self
            .order
            .iter()
            .filter(|&&i| self.active[i])
            .map(|&i| self.ciphers[i].bits)
            .collect();
        bits.sort_unstable_by(|a, b| b.cmp(a));
        bits.dedup();
        for b in bits {
            self.apply_where(Op::Ord, |c| c.bits == b);
        }
    }

    fn process(
        &mut self,
        rules: &str,
        lookup: &impl Fn(&str) -> Option<&'static Suite>,
    ) -> Result<(), StringError> {
        let separator = |c: char| matches!(c, ':' | ' ' | ';' | ',');
        for item in rules.split(separator).filter(|i| !i.is_empty()) {
            let (op, body) = match item.as_bytes()[0] {
                b'-' => (Some(Op::Del), &item[1..]),
                b'+' => (Some(Op::Ord), &item[1..]),
                b'!' => (Some(Op::Kill), &item[1..]),
                b'@' => (None, &item[1..]),
                _ => (Some(Op::Add), item),
            };
            let Some(op) = op else {
                self.special(body)?;
                continue;
            };
            if let Some(pattern) = self.pattern(body, item, lookup)? {
                self.apply(op, &pattern);
            }
        }
        Ok(())
    }

    fn special(&mut self, command: &str) -> Result<(), StringError> {
        if command == "STRENGTH" {
            self.strength_sort();
            return Ok(());
        }
        // The security level filters at handshake time, not the list.
        let level = command.strip_prefix("SECLEVEL=");
        if level.is_some_and(|l| l.len() == 1 && matches!(l.as_bytes()[0], b'0'..=b'5')) {
            return Ok(());
        }
        Err(StringError::Invalid(format!("@{command}")))
    }

    /// The selection `body` (`ECDHE+AESGCM`) stands for, combined as OpenSSL
    /// does: the intersection of its parts; `None` when that is empty (OpenSSL
    /// then skips the item).
    fn pattern(
        &self,
        body: &str,
        item: &str,
        lookup: &impl Fn(&str) -> Option<&'static Suite>,
    ) -> Result<Option<Pattern>, StringError> {
        let mut combined = Pattern::default();
        let mut first = true;
        for word in body.split('+') {
            if word.is_empty()
                || !word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '=' | '_'))
            {
                return Err(StringError::Invalid(item.to_owned()));
            }
            let part = self.word(word, lookup)?;
            match merge(combined, part, first) {
                Some(merged) => combined = merged,
                None => return Ok(None),
            }
            first = false;
        }
        Ok(Some(combined))
    }

    fn word(
        &self,
        word: &str,
        lookup: &impl Fn(&str) -> Option<&'static Suite>,
    ) -> Result<Pattern, StringError> {
        if let Some(c) = self.ciphers.iter().find(|c| c.suite.openssl == word) {
            return Ok(exact(c));
        }
        if let Some((_, pattern)) = ALIASES.iter().find(|(name, _)| *name == word) {
            return Ok(*pattern);
        }
        if let Some(c) =
            lookup(word).and_then(|s| self.ciphers.iter().find(|c| c.suite.code == s.code))
        {
            return Ok(exact(c));
        }
        Err(StringError::Unknown(word.to_owned()))
    }
}

/// A suite named in a rule: itself, with its own algorithms (which count in
/// a `+` combination) but not its protocol version.
fn exact(c: &Cipher) -> Pattern {
    Pattern {
        code: Some(c.suite.code),
        mkey: c.mkey,
        auth: c.auth,
        enc: c.enc,
        mac: c.mac,
        min_tls: 0,
        strength: c.strength,
    }
}

/// `a+b`: each column intersected where both name it, as
/// `ssl_cipher_process_rulestr` does; `None` when a column comes out empty.
fn merge(a: Pattern, b: Pattern, first: bool) -> Option<Pattern> {
    if first {
        return Some(b);
    }
    let column = |x: u32, y: u32| -> Option<u32> {
        match (x, y) {
            (0, y) => Some(y),
            (x, 0) => Some(x),
            (x, y) => Some(x & y).filter(|&v| v != 0),
        }
    };
    let strong = column(a.strength & STRONG_MASK, b.strength & STRONG_MASK)?;
    let default = column(a.strength & DEFAULT_MASK, b.strength & DEFAULT_MASK)?;
    let min_tls = match (a.min_tls, b.min_tls) {
        (0, v) | (v, 0) => v,
        (x, y) if x == y => x,
        _ => return None,
    };
    Some(Pattern {
        code: b.code.or(a.code),
        mkey: column(a.mkey, b.mkey)?,
        auth: column(a.auth, b.auth)?,
        enc: column(a.enc, b.enc)?,
        mac: column(a.mac, b.mac)?,
        min_tls,
        strength: strong | default,
    })
}

/// The cipher-string view of a registry suite; `None` for suites OpenSSL
/// never had (no OpenSSL name), which no OpenSSL string can select.
fn cipher(suite: &'static Suite) -> Option<Cipher> {
    let attrs = suite.openssl_attrs?;
    if suite.openssl.is_empty() {
        return None;
    }
    let anonymous = suite.auth == "None";
    let mkey = match suite.kx {
        "RSA" | "RSA_EXPORT" => K_RSA,
        "DHE" | "DHE_EXPORT" => K_DHE,
        "DH" | "DH_EXPORT" if anonymous => K_DHE,
        "DH" | "DH_EXPORT" => K_DH_STATIC,
        "ECDHE" => K_ECDHE,
        "ECDH" if anonymous => K_ECDHE,
        "ECDH" => K_ECDH_STATIC,
        "PSK" => K_PSK,
        "RSAPSK" => K_RSAPSK,
        "DHEPSK" => K_DHEPSK,
        "ECDHEPSK" => K_ECDHEPSK,
        "SRP" => K_SRP,
        "GOST" => K_GOST,
        _ => 0,
    };
    let auth = match suite.auth {
        "RSA" => A_RSA,
        "DSS" => A_DSS,
        "ECDSA" => A_ECDSA,
        "None" => A_NULL,
        "PSK" => A_PSK,
        "SRP" => A_SRP,
        "GOST12" => A_GOST,
        _ => 0,
    };
    let enc = match suite.enc {
        "NULL" => E_NULL,
        "RC4_40" | "RC4_128" => E_RC4,
        "RC2_CBC_40" => E_RC2,
        "IDEA_CBC" => E_IDEA,
        "DES40_CBC" | "DES_CBC" => E_DES,
        "3DES_EDE_CBC" => E_3DES,
        "AES_128_CBC" => E_AES128,
        "AES_256_CBC" => E_AES256,
        "AES_128_GCM" => E_AES128GCM,
        "AES_256_GCM" => E_AES256GCM,
        "AES_128_CCM" => E_AES128CCM,
        "AES_256_CCM" => E_AES256CCM,
        "AES_128_CCM_8" => E_AES128CCM8,
        "AES_256_CCM_8" => E_AES256CCM8,
        "CAMELLIA_128_CBC" => E_CAMELLIA128,
        "CAMELLIA_256_CBC" => E_CAMELLIA256,
        "ARIA_128_GCM" => E_ARIA128GCM,
        "ARIA_256_GCM" => E_ARIA256GCM,
        "SEED_CBC" => E_SEED,
        "CHACHA20_POLY1305" => E_CHACHA20,
        "28147_CNT" => E_GOST,
        _ => E_OTHER,
    };
    let mac = match suite.mac {
        "MD5" => M_MD5,
        "SHA1" => M_SHA1,
        "SHA256" => M_SHA256,
        "SHA384" => M_SHA384,
        "AEAD" => M_AEAD,
        _ => M_GOST,
    };
    let strength = attrs.classes.iter().fold(0, |acc, class| {
        acc | match class {
            Class::High => S_HIGH,
            Class::Medium => S_MEDIUM,
            Class::Low => S_LOW,
            Class::Export => S_EXPORT,
            Class::Fips => S_FIPS,
            Class::NotDefault => S_NOT_DEFAULT,
        }
    });
    let min_tls = match attrs.proto {
        Proto::Ssl3 => V_SSL3,
        Proto::Tls10 => V_TLS10,
        Proto::Tls12 | Proto::Tls13 => V_TLS12,
    };
    Some(Cipher {
        suite,
        mkey,
        auth,
        enc,
        mac,
        min_tls,
        strength,
        bits: attrs.bits,
        named_only: attrs.proto == Proto::Tls13,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(rules: &str) -> Vec<&'static str> {
        expand(rules, |_| None)
            .unwrap()
            .iter()
            .map(|s| s.openssl)
            .collect()
    }

    #[test]
    fn aliases_select_what_openssl_selects() {
        assert!(
            names("ECDHE+AESGCM")
                .iter()
                .all(|n| n.starts_with("ECDHE-") && n.contains("GCM"))
        );
        assert_eq!(names("ECDHE+AESGCM").len(), 4);
        assert_eq!(
            names("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
            ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"]
        );
        let high = names("HIGH:!aNULL:!MD5");
        assert!(high.contains(&"ECDHE-RSA-AES256-GCM-SHA384"));
        assert!(
            !high
                .iter()
                .any(|n| n.starts_with("ADH-") || n.starts_with("AECDH-"))
        );
        assert!(!names("ALL").contains(&"NULL-MD5"));
        assert!(names("COMPLEMENTOFALL").contains(&"NULL-MD5"));
    }

    #[test]
    fn the_default_order_puts_ecdhe_aead_first() {
        let all = names("ALL");
        assert_eq!(all[0], "ECDHE-ECDSA-AES256-GCM-SHA384");
        assert_eq!(all[1], "ECDHE-RSA-AES256-GCM-SHA384");
    }

    #[test]
    fn moves_kill_delete_and_reorder() {
        let plus = names("ECDHE+AESGCM:+AES128");
        assert!(plus.last().unwrap().contains("AES128"));
        assert!(plus.first().unwrap().contains("AES256"));
        // `-` removes but a later rule may add back; `!` is for good.
        assert_eq!(names("AESGCM+ECDHE:-ECDSA:ECDSA+AESGCM+ECDHE").len(), 4);
        assert_eq!(
            expand("AESGCM+ECDHE:!ECDSA:ECDSA+AESGCM+ECDHE", |_| None)
                .unwrap()
                .len(),
            2
        );
        let strength = names("AES128-SHA:AES256-SHA:@STRENGTH");
        assert_eq!(strength, ["AES256-SHA", "AES128-SHA"]);
    }

    #[test]
    fn legacy_suites_answer_their_old_keywords() {
        assert!(names("RC4").contains(&"RC4-SHA"));
        assert!(names("EXP").contains(&"EXP-RC4-MD5"));
        assert!(
            !names("DEFAULT").contains(&"RC4-SHA"),
            "RC4 was never DEFAULT"
        );
        assert!(expand("KRB5", |_| None) == Err(StringError::Empty));
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(
            expand("HIGH:!aNUL", |_| None),
            Err(StringError::Unknown("aNUL".into()))
        );
        assert_eq!(
            expand("HIGH:!(aNULL)", |_| None),
            Err(StringError::Invalid("!(aNULL)".into()))
        );
        assert_eq!(
            expand("HIGH:@FOO", |_| None),
            Err(StringError::Invalid("@FOO".into()))
        );
        assert_eq!(expand("eNULL+AESGCM", |_| None), Err(StringError::Empty));
        assert_eq!(expand("", |_| None), Err(StringError::Empty));
    }

    fn keyword() -> impl Strategy<Value = &'static str> {
        prop::sample::select(
            ALIASES
                .iter()
                .map(|(n, _)| *n)
                .filter(|n| *n != "DEFAULT")
                .collect::<Vec<_>>(),
        )
    }

    proptest! {
        #[test]
        fn separators_are_interchangeable(
            words in prop::collection::vec((prop::sample::select(vec!["", "!", "-", "+"]), keyword()), 1..6),
            separator in prop::sample::select(vec![":", ",", " ", ";", ": "]),
        ) {
            let items: Vec<String> = words.iter().map(|(op, w)| format!("{op}{w}")).collect();
            prop_assert_eq!(
                expand(&items.join(":"), |_| None),
                expand(&items.join(separator), |_| None)
            );
        }

        #[test]
        fn a_kill_removes_for_good(
            first in prop::collection::vec(keyword(), 1..4),
            killed in keyword(),
            after in prop::collection::vec(keyword(), 0..3),
        ) {
            let rules = format!("{}:!{killed}:{}", first.join(":"), after.join(":"));
            let Ok(gone) = expand(killed, |_| None) else { return Ok(()) };
            if let Ok(list) = expand(&rules, |_| None) {
                prop_assert!(list.iter().all(|s| !gone.contains(s)), "{rules}");
            }
        }

        #[test]
        fn a_plus_combination_is_within_each_part(a in keyword(), b in keyword()) {
            let Ok(both) = expand(&format!("{a}+{b}"), |_| None) else { return Ok(()) };
            let first = expand(a, |_| None).unwrap_or_default();
            let second = expand(b, |_| None).unwrap_or_default();
            prop_assert!(both.iter().all(|s| first.contains(s) && second.contains(s)));
        }
    }

    #[test]
    fn tls13_suites_come_only_by_name() {
        assert!(
            !names("ALL:COMPLEMENTOFALL")
                .iter()
                .any(|n| n.starts_with("TLS_"))
        );
        let named = expand("TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256", |n| {
            super::super::all().iter().find(|s| s.iana == n)
        })
        .unwrap();
        assert_eq!(named[0].code, 0x1301);
        assert_eq!(named[1].code, 0xC02F);
    }
}
