#!/usr/bin/env python3
"""Regenerates src/suites/table.rs, the suite registry, from the authoritative
tables on this machine: OpenSSL's (`openssl ciphers -V -stdname`, code point,
IANA and OpenSSL names, and the classes its cipher strings select by),
GnuTLS's (`gnutls-cli -l`), the JDK's supported suites (java 17, compiled and
run here) and Erlang/OTP ssl's (`ssl_cipher_format:suite_bin_to_map`), plus
the legacy suites Debian 12's libraries dropped. Run by hand:
  plugins/check-tls-ciphers/tools/gen-suites.py > plugins/check-tls-ciphers/src/suites/table.rs
"""
import os
import re
import subprocess
import tempfile

# Legacy suites Debian 12's OpenSSL 3 no longer lists: (code, IANA, OpenSSL 1.0 name).
LEGACY = [
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "EXP-RC4-MD5"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA"),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5", "EXP-RC2-CBC-MD5"),
    (0x0007, "TLS_RSA_WITH_IDEA_CBC_SHA", "IDEA-CBC-SHA"),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-DES-CBC-SHA"),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA", "DES-CBC-SHA"),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA"),
    (0x000D, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA", "DH-DSS-DES-CBC3-SHA"),
    (0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA", "DH-RSA-DES-CBC3-SHA"),
    (0x0011, "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA", "EXP-EDH-DSS-DES-CBC-SHA"),
    (0x0012, "TLS_DHE_DSS_WITH_DES_CBC_SHA", "EDH-DSS-DES-CBC-SHA"),
    (0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA", "EDH-DSS-DES-CBC3-SHA"),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", "EXP-EDH-RSA-DES-CBC-SHA"),
    (0x0015, "TLS_DHE_RSA_WITH_DES_CBC_SHA", "EDH-RSA-DES-CBC-SHA"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", "EDH-RSA-DES-CBC3-SHA"),
    (0x0017, "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5", "EXP-ADH-RC4-MD5"),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5", "ADH-RC4-MD5"),
    (0x0019, "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", "EXP-ADH-DES-CBC-SHA"),
    (0x001A, "TLS_DH_anon_WITH_DES_CBC_SHA", "ADH-DES-CBC-SHA"),
    (0x001B, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", "ADH-DES-CBC3-SHA"),
    (0x008A, "TLS_PSK_WITH_RC4_128_SHA", "PSK-RC4-SHA"),
    (0x008B, "TLS_PSK_WITH_3DES_EDE_CBC_SHA", "PSK-3DES-EDE-CBC-SHA"),
    (0x008E, "TLS_DHE_PSK_WITH_RC4_128_SHA", "DHE-PSK-RC4-SHA"),
    (0x008F, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA", "DHE-PSK-3DES-EDE-CBC-SHA"),
    (0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA", "RSA-PSK-RC4-SHA"),
    (0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA", "RSA-PSK-3DES-EDE-CBC-SHA"),
    (0xC002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA", "ECDH-ECDSA-RC4-SHA"),
    (0xC003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDH-ECDSA-DES-CBC3-SHA"),
    (0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA-RC4-SHA"),
    (0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-ECDSA-DES-CBC3-SHA"),
    (0xC00C, "TLS_ECDH_RSA_WITH_RC4_128_SHA", "ECDH-RSA-RC4-SHA"),
    (0xC00D, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA", "ECDH-RSA-DES-CBC3-SHA"),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA"),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA"),
    (0xC016, "TLS_ECDH_anon_WITH_RC4_128_SHA", "AECDH-RC4-SHA"),
    (0xC017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA", "AECDH-DES-CBC3-SHA"),
    (0xC01A, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA", "SRP-3DES-EDE-CBC-SHA"),
    (0xC01B, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA", "SRP-RSA-3DES-EDE-CBC-SHA"),
    (0xC01C, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA", "SRP-DSS-3DES-EDE-CBC-SHA"),
    (0xC033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA", "ECDHE-PSK-RC4-SHA"),
    (0xC034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA", "ECDHE-PSK-3DES-EDE-CBC-SHA"),
    # Static ECDH, which OpenSSL 1.1 dropped and the JDK still implements.
    (0xC001, "TLS_ECDH_ECDSA_WITH_NULL_SHA", "ECDH-ECDSA-NULL-SHA"),
    (0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA", "ECDH-ECDSA-AES128-SHA"),
    (0xC005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA", "ECDH-ECDSA-AES256-SHA"),
    (0xC00B, "TLS_ECDH_RSA_WITH_NULL_SHA", "ECDH-RSA-NULL-SHA"),
    (0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA", "ECDH-RSA-AES128-SHA"),
    (0xC00F, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA", "ECDH-RSA-AES256-SHA"),
    (0xC025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", "ECDH-ECDSA-AES128-SHA256"),
    (0xC026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384", "ECDH-ECDSA-AES256-SHA384"),
    (0xC029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", "ECDH-RSA-AES128-SHA256"),
    (0xC02A, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384", "ECDH-RSA-AES256-SHA384"),
    (0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", "ECDH-ECDSA-AES128-GCM-SHA256"),
    (0xC02E, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", "ECDH-ECDSA-AES256-GCM-SHA384"),
    (0xC031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", "ECDH-RSA-AES128-GCM-SHA256"),
    (0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", "ECDH-RSA-AES256-GCM-SHA384"),
]

KX = ["ECDHE_ECDSA", "ECDHE_RSA", "ECDHE_PSK", "ECDH_ECDSA", "ECDH_RSA", "ECDH_anon",
      "DHE_DSS", "DHE_RSA", "DHE_PSK", "DH_DSS", "DH_RSA", "DH_anon", "RSA_PSK",
      "SRP_SHA_RSA", "SRP_SHA_DSS", "SRP_SHA", "PSK", "RSA"]


def from_gnutls(name):
    body = name[len("TLS_"):].replace("DH_ANON", "DH_anon").replace("ECDH_ANON", "ECDH_anon")
    for kx in KX:
        if body.startswith(kx + "_"):
            rest = body[len(kx) + 1:]
            rest = rest.replace("ARCFOUR_128", "RC4_128")
            rest = re.sub(r"_SHA1$", "_SHA", rest)
            if rest.endswith("CHACHA20_POLY1305"):
                rest += "_SHA256"
            return f"TLS_{kx}_WITH_{rest}"
    return None


def parts(iana):
    if iana.startswith("TLS_GOSTR341112_256_WITH_"):
        return "GOST", "GOST12", iana.split("_WITH_")[1].removesuffix("_IMIT"), "IMIT"
    if iana.startswith("TLS_") and "_WITH_" not in iana:  # TLS 1.3
        body = iana[4:]
        hash_ = body.rsplit("_", 1)[1]
        return "any", "any", body[: -len(hash_) - 1], "AEAD"
    kxauth, rest = iana[4:].split("_WITH_")
    export = kxauth.endswith("_EXPORT")
    kxauth = kxauth.removesuffix("_EXPORT")
    table = {
        "RSA": ("RSA", "RSA"), "PSK": ("PSK", "PSK"), "RSA_PSK": ("RSAPSK", "RSA"),
        "DHE_PSK": ("DHEPSK", "PSK"), "PSK_DHE": ("DHEPSK", "PSK"), "ECDHE_PSK": ("ECDHEPSK", "PSK"),
        "SRP_SHA": ("SRP", "SRP"), "SRP_SHA_RSA": ("SRP", "RSA"), "SRP_SHA_DSS": ("SRP", "DSS"),
    }
    if kxauth in table:
        kx, auth = table[kxauth]
    else:
        kx, auth = kxauth.split("_", 1)
        auth = "None" if auth == "anon" else auth
    if export:
        kx += "_EXPORT"
    aead = any(t in rest for t in ("GCM", "CCM", "POLY1305"))
    if aead:
        m = re.match(r"(.*?)(_SHA256|_SHA384)?$", rest)
        return kx, auth, m.group(1), "AEAD"
    enc, mac = rest.rsplit("_", 1)
    return kx, auth, enc, {"SHA": "SHA1"}.get(mac, mac)



JAVA_HOME = os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")
JAVA_SOURCE = """
public class Suites {
    public static void main(String[] args) throws Exception {
        // Every suite the JDK implements, not only those its security policy enables.
        java.security.Security.setProperty("jdk.tls.disabledAlgorithms", "");
        javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
        c.init(null, null, null);
        for (String s : c.getSupportedSSLParameters().getCipherSuites()) System.out.println(s);
    }
}
"""

# OpenSSL's strength classes, as its cipher strings select them.
CLASSES = {"HIGH": "HIGH", "MEDIUM": "MEDIUM", "LOW": "LOW", "FIPS": "FIPS", "COMPLEMENTOFDEFAULT": "NOT_DEFAULT"}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw).stdout


def openssl_codes(rule):
    r = subprocess.run(["openssl", "ciphers", "-ciphersuites", "", "-V", rule + ":@SECLEVEL=0"],
                       capture_output=True, text=True)
    return {int(l.split()[0].replace(",0x", ""), 16) for l in r.stdout.splitlines() if r.returncode == 0}


def java_names():
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "Suites.java"), "w") as f:
            f.write(JAVA_SOURCE)
        run([f"{JAVA_HOME}/bin/javac", "-d", d, os.path.join(d, "Suites.java")])
        return run([f"{JAVA_HOME}/bin/java", "-cp", d, "Suites"]).split()


def erlang_tuples(codes):
    """OTP's spelling of each code point it knows: the old-style tuple, a
    3-tuple when the suite uses the default PRF."""
    expr = ("[try ssl_cipher_format:suite_bin_to_map(<<C:16>>) of "
            "#{key_exchange := K, cipher := Ci, mac := M, prf := P} when K =/= null -> "
            "T = case P of default_prf -> {K, Ci, M}; _ -> {K, Ci, M, P} end, "
            "io:format(\"~.16B ~w~n\", [C, T]); _ -> ok catch _:_ -> ok end || C <- [%s]], halt()."
            % ",".join(str(c) for c in codes))
    out = run(["erl", "-noshell", "-eval", expr])
    return {int(l.split()[0], 16): l.split()[1] for l in out.splitlines()}


def erlang_offered():
    """(code, IANA name) of every suite OTP's ssl offers for some version."""
    expr = ("Vs = ['tlsv1.3', 'tlsv1.2', 'tlsv1.1', tlsv1], "
            "All = lists:usort(lists:append([ssl:cipher_suites(F, V) || F <- [all, anonymous, exclusive], V <- Vs])), "
            "[io:format(\"~s ~s~n\", [binary:encode_hex(ssl_cipher_format:suite_map_to_bin(S)), ssl:suite_to_str(S)]) "
            "|| S <- All], halt().")
    return [(int(l.split()[0], 16), l.split()[1]) for l in run(["erl", "-noshell", "-eval", expr]).splitlines()]


def legacy_openssl(code, iana, openssl):
    """Classes OpenSSL 1.1 gave the suites OpenSSL 3 here no longer has."""
    kx, auth, enc, mac = parts(iana)
    bits = {"RC4_40": 40, "RC2_CBC_40": 40, "DES40_CBC": 40, "DES_CBC": 56, "3DES_EDE_CBC": 112,
            "NULL": 0}.get(enc, 256 if "256" in enc else 128)
    classes = []
    if kx.endswith("_EXPORT"):
        classes.append("EXPORT")
    elif enc == "DES_CBC":
        classes.append("LOW")
    elif enc.startswith("AES"):
        classes.append("HIGH")
    elif enc != "NULL":
        classes.append("MEDIUM")
    if enc.startswith("RC4") or auth == "None":
        classes.append("NOT_DEFAULT")
    tls1 = code >= 0xC000 or 0x8A <= code <= 0x95
    return legacy_min(iana, "Tls10" if tls1 else "Ssl3"), bits, classes


def legacy_min(iana, older):
    """SHA-2 MACs and AEADs came with TLS 1.2."""
    return "Tls12" if re.search(r"(_SHA256|_SHA384|GCM_SHA\d+)$", iana) else older


def main():
    suites = {}
    ossl = {}
    out = run(["openssl", "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
    classes = {name: openssl_codes(rule) for rule, name in CLASSES.items()}
    for line in out.splitlines():
        f = line.split()
        code = int(f[0].replace(",0x", ""), 16)
        iana, openssl, proto = f[2], f[4], f[5]
        if iana.startswith("TLS_AES") or iana.startswith("TLS_CHACHA"):
            openssl = iana
        suites[code] = (iana, openssl, {"TLSv1.3": "Tls13", "TLSv1.2": "Tls12"}.get(proto, "Ssl3"))
        enc_bits = int(re.search(r"Enc=\S*?\((\d+)\)", line).group(1)) if "Enc=None" not in line else 0
        bits = 112 if "Enc=3DES" in line else enc_bits
        ossl[code] = ({"TLSv1.3": "Tls13", "TLSv1.2": "Tls12", "TLSv1": "Tls10", "SSLv3": "Ssl3"}[proto],
                      bits, [n for n, codes in classes.items() if code in codes], True)
    for code, iana, openssl in LEGACY:
        if code not in suites:
            suites[code] = (iana, openssl, {"Tls12": "Tls12"}.get(legacy_min(iana, "Ssl3"), "Ssl3"))
            ossl[code] = (*legacy_openssl(code, iana, openssl), False)
    gnutls = {}
    for line in run(["gnutls-cli", "-l"]).splitlines():
        m = re.match(r"^(TLS_\S+)\s+0x(..), 0x(..)\s+(\S+)", line)
        if not m:
            continue
        code = int(m.group(2) + m.group(3), 16)
        gnutls[code] = m.group(1)
        if code in suites:
            continue
        if m.group(1).startswith("TLS_GOSTR341112_256_"):
            iana = "TLS_GOSTR341112_256_WITH_" + m.group(1)[len("TLS_GOSTR341112_256_"):]
        elif code >> 8 == 0x13:
            iana = m.group(1)
        else:
            iana = from_gnutls(m.group(1))
        if iana is None:
            raise SystemExit(f"no IANA name for GnuTLS's {m.group(1)}")
        suites[code] = (iana, "", {"TLS1.3": "Tls13", "TLS1.2": "Tls12"}.get(m.group(4), "Ssl3"))
    for code, iana in erlang_offered():
        # RFC 8442's ECDHE_PSK AEAD suites: only OTP has them here.
        suites.setdefault(code, (iana, "", legacy_min(iana, "Ssl3")))
    by_iana = {v[0]: c for c, v in suites.items()}
    java = {}
    for name in java_names():
        if name.endswith("_SCSV"):
            continue
        iana = "TLS_" + name[4:] if name.startswith("SSL_") else name
        if iana not in by_iana:
            raise SystemExit(f"the JDK's {name} is not in the registry")
        java[by_iana[iana]] = name
    erlang = erlang_tuples(sorted(suites))
    print("// @generated by tools/gen-suites.py from OpenSSL 3.0, GnuTLS 3.7, OpenJDK 17 and")
    print("// Erlang/OTP 25 ssl's tables, and the legacy suites they dropped. Code point,")
    print("// IANA, OpenSSL, GnuTLS, Java and Erlang names (\"\" where the library has none),")
    print("// key exchange, authentication, encryption, MAC, oldest protocol, and how")
    print("// OpenSSL's cipher strings see it (oldest protocol, strength bits, classes,")
    print("// whether this OpenSSL 3 still has it).")
    print()
    print("use super::MinVersion::{Ssl3, Tls12, Tls13};")
    print("use super::Suite;")
    print("use super::openssl::Class::{Export, Fips, High, Low, Medium, NotDefault};")
    print("use super::openssl::{Attrs, Proto};")
    print()
    print("#[rustfmt::skip]")
    print("pub(super) static SUITES: &[Suite] = &[")
    names = {"HIGH": "High", "MEDIUM": "Medium", "LOW": "Low", "FIPS": "Fips", "NOT_DEFAULT": "NotDefault", "EXPORT": "Export"}
    for code in sorted(suites):
        iana, openssl, proto = suites[code]
        kx, auth, enc, mac = parts(iana)
        if code in ossl:
            omin, bits, cls, known = ossl[code]
            attrs = f'Some(Attrs::new(Proto::{omin}, {bits}, &[{", ".join(names[c] for c in cls)}], {"true" if known else "false"}))'
        else:
            attrs = "None"
        print(f'    Suite::new(0x{code:04X}, "{iana}", "{openssl}", "{gnutls.get(code, "")}", '
              f'"{java.get(code, "")}", "{erlang.get(code, "")}", "{kx}", "{auth}", "{enc}", "{mac}", {proto}, {attrs}),')
    print("];")


main()
