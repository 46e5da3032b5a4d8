//! check-tls-ciphers' suite registry against every TLS library on the
//! machine: each suite OpenSSL, `GnuTLS`, the JDK and Erlang/OTP list is in
//! the registry under the same name in that library's dialect (and each
//! name the registry gives a library, the library has), and OpenSSL cipher
//! strings expand exactly as `openssl ciphers` expands them, order included.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::Command;

use check_tls_ciphers::suites::{self, Dialect, GROUPS, Suite};
use nightwatch_testkit::ports::free_port;
use nightwatch_testkit::process::{require, scratch_dir};

const OPENSSL: &str = "/usr/bin/openssl";
const GNUTLS_CLI: &str = "/usr/bin/gnutls-cli";
const JAVA_HOME: &str = "/usr/lib/jvm/java-17-openjdk-amd64";
const ERL: &str = "/usr/bin/erl";

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `0xC0,0x30` as `openssl ciphers -V` and `gnutls-cli -l` print it.
fn code_of(text: &str) -> u16 {
    let bytes: Vec<u16> = text
        .split(',')
        .map(|b| u16::from_str_radix(b.trim().trim_start_matches("0x"), 16).expect("hex"))
        .collect();
    bytes[0] << 8 | bytes[1]
}

fn registry(code: u16) -> &'static Suite {
    suites::by_code(code).unwrap_or_else(|| panic!("0x{code:04X} is not in the registry"))
}

/// Every registry name `dialect` gives must be among `listed` (the
/// library's own names), and the other way round.
fn same_names(dialect: Dialect, listed: &BTreeMap<u16, String>) {
    for (&code, name) in listed {
        assert_eq!(
            registry(code).name_in(dialect).as_deref(),
            Some(name.as_str()),
            "{dialect:?} 0x{code:04X}"
        );
        let found = suites::resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(found[0].code, code, "{name}");
    }
    let ours: BTreeSet<u16> = suites::all()
        .iter()
        .filter(|s| s.name_in(dialect).is_some())
        .map(|s| s.code)
        .collect();
    let theirs: BTreeSet<u16> = listed.keys().copied().collect();
    assert_eq!(
        ours, theirs,
        "{dialect:?}: the registry names exactly the library's suites"
    );
}

#[test]
fn openssl_lists_every_suite_under_the_registrys_names() {
    require(OPENSSL, "openssl");
    let out = run(
        OPENSSL,
        &[
            "ciphers",
            "-V",
            "-stdname",
            "ALL:COMPLEMENTOFALL:@SECLEVEL=0",
        ],
    );
    let mut openssl = BTreeMap::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (code, iana, name) = (code_of(fields[0]), fields[2], fields[4]);
        let suite = registry(code);
        assert_eq!(suite.iana, iana, "0x{code:04X}");
        assert!(
            suite.in_openssl3(),
            "{iana} is marked as gone from OpenSSL 3"
        );
        openssl.insert(code, name.to_owned());
    }
    assert!(openssl.len() > 150, "{}", openssl.len());
    // OpenSSL 3 spells its TLS 1.3 suites as IANA does; the suites only
    // older OpenSSL releases had keep their old names in the registry.
    let current: BTreeSet<u16> = suites::all()
        .iter()
        .filter(|s| s.in_openssl3())
        .map(|s| s.code)
        .collect();
    assert_eq!(current, openssl.keys().copied().collect());
    for (&code, name) in &openssl {
        assert_eq!(
            registry(code).name_in(Dialect::Openssl).as_deref(),
            Some(name.as_str())
        );
        assert_eq!(suites::resolve(name).unwrap()[0].code, code, "{name}");
    }
}

/// Whether this OpenSSL takes `groups` as a group list: `s_client` parses
/// it before connecting (to a closed loopback port: nothing is sent).
fn openssl_takes_groups(groups: &str, port: u16) -> bool {
    let out = Command::new(OPENSSL)
        .args([
            "s_client",
            "-groups",
            groups,
            "-connect",
            &format!("127.0.0.1:{port}"),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl s_client");
    !String::from_utf8_lossy(&out.stderr).contains("SSL_CONF_cmd(-groups")
}

#[test]
fn openssl_takes_the_registrys_group_names() {
    require(OPENSSL, "openssl");
    let port = free_port();
    assert!(
        !openssl_takes_groups("bogus", port),
        "the probe tells names apart"
    );
    for group in GROUPS {
        let name = group
            .name_in(Dialect::Openssl)
            .expect("OpenSSL names every group");
        // Hybrid ML-KEM groups came with OpenSSL 3.5; Debian 12 has 3.0.
        let expected = name != "X25519MLKEM768";
        assert_eq!(openssl_takes_groups(name, port), expected, "{name}");
    }
    for (spelling, code) in [
        ("P-256", 23),
        ("secp256r1", 23),
        ("P-384", 24),
        ("P-521", 25),
    ] {
        assert!(openssl_takes_groups(spelling, port), "{spelling}");
        assert_eq!(suites::resolve_group(spelling), Ok(code), "{spelling}");
    }
}

#[test]
fn gnutls_lists_every_suite_and_group_under_the_registrys_names() {
    require(GNUTLS_CLI, "gnutls-bin");
    let out = run(GNUTLS_CLI, &["-l"]);
    let mut listed = BTreeMap::new();
    let mut groups = BTreeSet::new();
    for line in out.lines() {
        if let Some(list) = line.strip_prefix("Groups: ") {
            groups.extend(
                list.split(", ")
                    .map(|g| g.trim_start_matches("GROUP-").to_owned()),
            );
        }
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if fields.len() == 3 && fields[0].starts_with("TLS_") {
            listed.insert(code_of(fields[1]), fields[0].to_owned());
        }
    }
    assert!(listed.len() > 150, "{}", listed.len());
    same_names(Dialect::Gnutls, &listed);
    for group in GROUPS {
        if let Some(name) = group.name_in(Dialect::Gnutls) {
            assert!(
                groups.contains(name),
                "GnuTLS has no group {name}: {groups:?}"
            );
        }
    }
    // The groups GnuTLS has that the registry lacks: legacy and GOST curves.
    let missing: BTreeSet<&str> = groups
        .iter()
        .map(String::as_str)
        .filter(|g| suites::resolve_group(g).is_err())
        .collect();
    assert_eq!(missing, BTreeSet::from(["GC256B", "GC512A", "SECP192R1"]));
}

const JAVA_SUITES: &str = r#"
public class Suites {
    public static void main(String[] args) throws Exception {
        // Every suite the JDK implements, not only those its policy enables.
        java.security.Security.setProperty("jdk.tls.disabledAlgorithms", "");
        javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
        c.init(null, null, null);
        for (String s : c.getSupportedSSLParameters().getCipherSuites()) System.out.println(s);
    }
}
"#;

/// Builds a `ClientHello` with `jdk.tls.namedGroups` set to one name: JSSE
/// refuses when it has no such group (the JDK 17 has no API listing them).
const JAVA_GROUP: &str = r#"
public class Group {
    public static void main(String[] args) throws Exception {
        System.setProperty("jdk.tls.namedGroups", args[0]);
        javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
        c.init(null, null, null);
        javax.net.ssl.SSLEngine e = c.createSSLEngine("localhost", 443);
        e.setUseClientMode(true);
        e.beginHandshake();
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(java.nio.ByteBuffer.allocate(0), out);
    }
}
"#;

#[test]
fn the_jdk_lists_every_suite_under_the_registrys_java_names() {
    let javac = format!("{JAVA_HOME}/bin/javac");
    let java = format!("{JAVA_HOME}/bin/java");
    require(&javac, "openjdk-17-jdk-headless");
    let dir = scratch_dir("tls-registry-java");
    let source = dir.path().join("Suites.java");
    fs::write(&source, JAVA_SUITES).expect("write Suites.java");
    let group_source = dir.path().join("Group.java");
    fs::write(&group_source, JAVA_GROUP).expect("write Group.java");
    let classes = dir.path().to_str().expect("UTF-8 path");
    run(
        &javac,
        &[
            "-d",
            classes,
            source.to_str().expect("UTF-8 path"),
            group_source.to_str().expect("UTF-8 path"),
        ],
    );
    let out = run(&java, &["-cp", classes, "Suites"]);
    let mut listed = BTreeMap::new();
    for name in out.lines() {
        // A signal in the suite list, not a suite (the scan always sends it).
        if name == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV" {
            continue;
        }
        let suite = suites::resolve(name).unwrap_or_else(|e| panic!("the JDK's {name}: {e}"));
        listed.insert(suite[0].code, name.to_owned());
    }
    assert!(listed.len() > 80, "{}", listed.len());
    assert!(
        listed.values().any(|n| n.starts_with("SSL_")),
        "JSSE's legacy names"
    );
    same_names(Dialect::Java, &listed);

    // Each group by the registry's Java name (its IANA name where the
    // registry says the JDK lacks it): JSSE takes exactly the former.
    let tries: Vec<(&str, bool, std::process::Child)> = GROUPS
        .iter()
        .map(|g| {
            let name = g.name_in(Dialect::Java).unwrap_or(g.iana);
            let child = Command::new(&java)
                .args(["-cp", classes, "Group", name])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("run java Group");
            (name, g.name_in(Dialect::Java).is_some(), child)
        })
        .collect();
    for (name, has, mut child) in tries {
        let ok = child.wait().expect("wait for java").success();
        assert_eq!(ok, has, "the JDK and the registry disagree on group {name}");
    }
}

/// Every suite OTP's ssl offers for any version and filter, printed as
/// `code map tuple`.
const ERLANG_SUITES: &str = "Vs = ['tlsv1.3', 'tlsv1.2', 'tlsv1.1', tlsv1], \
    All = lists:usort(lists:append([ssl:cipher_suites(F, V) || F <- [all, anonymous, exclusive], V <- Vs])), \
    [begin \
        #{key_exchange := K, cipher := C, mac := M, prf := P} = S, \
        T = case P of default_prf -> {K, C, M}; _ -> {K, C, M, P} end, \
        io:format(\"~s ~w ~w~n\", [binary:encode_hex(ssl_cipher_format:suite_map_to_bin(S)), S, T]) \
     end || S <- All], \
    io:format(\"groups ~w~n\", [ssl:groups() ++ ssl:eccs()]), \
    halt().";

#[test]
fn erlang_ssl_lists_every_suite_under_the_registrys_tuples() {
    require(ERL, "erlang-base");
    require("/usr/share/doc/erlang-ssl/copyright", "erlang-ssl");
    let out = run(ERL, &["-noshell", "-eval", ERLANG_SUITES]);
    let mut listed = BTreeMap::new();
    let mut groups = String::new();
    for line in out.lines() {
        if let Some(list) = line.strip_prefix("groups ") {
            groups = list.to_owned();
            continue;
        }
        let (code, rest) = line.split_once(' ').expect("code map tuple");
        let (map, tuple) = rest.rsplit_once(' ').expect("map tuple");
        let code = u16::from_str_radix(code, 16).expect("hex code");
        // The map as OTP prints it names the same suite.
        let by_map = suites::resolve(map).unwrap_or_else(|e| panic!("{map}: {e}"));
        assert_eq!(by_map[0].code, code, "{map}");
        listed.insert(code, tuple.to_owned());
    }
    assert!(listed.len() > 100, "{}", listed.len());
    // OTP knows more suites than it offers (RC4, DES...): those must carry
    // the registry's tuple too, but need not be listed.
    for (&code, tuple) in &listed {
        assert_eq!(
            registry(code).name_in(Dialect::Erlang).as_deref(),
            Some(tuple.as_str()),
            "0x{code:04X}"
        );
        assert_eq!(suites::resolve(tuple).unwrap()[0].code, code, "{tuple}");
    }
    let offered: BTreeSet<&str> = groups.trim_matches(['[', ']']).split(',').collect();
    for group in GROUPS {
        if let Some(name) = group.name_in(Dialect::Erlang) {
            assert!(offered.contains(name), "OTP has no group {name}: {groups}");
        }
    }
    for group in [
        "x25519",
        "x448",
        "secp256r1",
        "secp384r1",
        "secp521r1",
        "ffdhe2048",
    ] {
        assert!(offered.contains(group), "{groups}");
        assert!(suites::resolve_group(group).is_ok(), "{group}");
    }
}

/// Cipher strings as configurations write them: keywords, `+`, `-`, `!`,
/// `@STRENGTH`, suite names, and strings OpenSSL refuses.
const CIPHER_STRINGS: &[&str] = &[
    "ALL",
    "COMPLEMENTOFALL",
    "ALL:COMPLEMENTOFALL",
    "DEFAULT",
    "DEFAULT:!RSA",
    "COMPLEMENTOFDEFAULT",
    "HIGH",
    "HIGH:!aNULL:!MD5",
    "HIGH:MEDIUM:!MD5:!RC4:!3DES",
    "ECDHE+AESGCM",
    "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL",
    "EECDH+AESGCM:EDH+AESGCM",
    "kEECDH:kRSA:!aNULL",
    "aRSA:!kRSA",
    "kRSA",
    "ECDHE",
    "DHE:!aNULL",
    "AES:!SHA1",
    "AESGCM:CHACHA20",
    "AES256:AES128:@STRENGTH",
    "SHA256:SHA384",
    "MD5",
    "eNULL",
    "NULL:aNULL",
    "CAMELLIA:ARIA:SEED",
    "PSK",
    "kPSK:kDHEPSK:kECDHEPSK:kRSAPSK",
    "SRP",
    "TLSv1.2",
    "SSLv3",
    "TLSv1",
    "ALL:!ADH:@STRENGTH",
    "ALL:+RSA",
    "ALL:-AES:AES128",
    "ALL:!COMPLEMENTOFDEFAULT",
    "FIPS",
    "ECDSA+SHA384",
    "RSA+AES:-SHA1",
    "SUITEB128",
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
    "AES256-SHA:AES128-SHA:@STRENGTH",
    "ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA",
    "HIGH:!aNULL:!MD5:@SECLEVEL=0",
    "LOW",
    "RC4",
    "3DES:EXP",
    "HIGH !aNULL !MD5",
    "HIGH,!aNULL;!MD5",
    "ALL:@STRENGTH",
    "ALL:COMPLEMENTOFALL:+aNULL:+eNULL",
    "ALL:ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE:!ECDSA:+AES256",
    "AES128+SHA256:AES256+SHA384",
    "HIGH:-HIGH:+HIGH",
    "HIGH:-ALL:DHE-RSA-AES128-SHA",
    "DEFAULT:@SECLEVEL=2",
    "kRSA+AESGCM:kRSA+CHACHA20:-kRSA",
    "ECDHE-RSA-AES256-GCM-SHA384+AESGCM",
    "!ALL:HIGH",
];

/// What `openssl ciphers` makes of `rules` (TLS 1.2 and older; TLS 1.3
/// suites are OpenSSL's separate `Ciphersuites`), `None` when it refuses.
fn openssl_expands(rules: &str) -> Option<Vec<u16>> {
    let out = Command::new(OPENSSL)
        .args(["ciphers", "-ciphersuites", "", "-V", rules])
        .output()
        .expect("run openssl ciphers");
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| code_of(line.split_whitespace().next().expect("code")))
            .collect()
    })
}

#[test]
fn cipher_strings_expand_as_openssl_expands_them() {
    require(OPENSSL, "openssl");
    let (mut compared, mut refused) = (0, 0);
    for rules in CIPHER_STRINGS {
        // Suites only older OpenSSL releases had take part in ours (so
        // `!RC4` reaches RC4); OpenSSL 3 here cannot show them.
        let ours: Vec<u16> = suites::resolve(rules).map_or_else(
            |_| Vec::new(),
            |list| {
                list.iter()
                    .filter(|s| s.in_openssl3())
                    .map(|s| s.code)
                    .collect()
            },
        );
        if let Some(theirs) = openssl_expands(rules) {
            assert_eq!(
                ours.iter().map(|&c| suites::name_of(c)).collect::<Vec<_>>(),
                theirs
                    .iter()
                    .map(|&c| suites::name_of(c))
                    .collect::<Vec<_>>(),
                "{rules}"
            );
            compared += 1;
        } else {
            assert!(
                ours.is_empty(),
                "OpenSSL refuses {rules}, we gave {ours:04X?}"
            );
            refused += 1;
        }
    }
    // Most strings select suites; a few select none here (RC4, DES...
    // are gone from Debian's OpenSSL 3) and both sides must refuse them.
    assert!(
        compared >= 50 && refused >= 4,
        "{compared} compared, {refused} refused"
    );
}
