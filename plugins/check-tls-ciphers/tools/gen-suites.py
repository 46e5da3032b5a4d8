#!/usr/bin/env python3
"""Regenerates src/suites/table.rs, the suite registry, from what this
machine's OpenSSL and GnuTLS know (code point, IANA and OpenSSL names) plus
the legacy suites neither Debian 12 library lists any more. Run by hand:
  plugins/check-tls-ciphers/tools/gen-suites.py > plugins/check-tls-ciphers/src/suites/table.rs
"""
import re
import subprocess

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
    if iana.startswith("TLS_") and "_WITH_" not in iana:  # TLS 1.3
        body = iana[4:]
        hash_ = body.rsplit("_", 1)[1]
        return "any", "any", body[: -len(hash_) - 1], "AEAD"
    kxauth, rest = iana[4:].split("_WITH_")
    export = kxauth.endswith("_EXPORT")
    kxauth = kxauth.removesuffix("_EXPORT")
    table = {
        "RSA": ("RSA", "RSA"), "PSK": ("PSK", "PSK"), "RSA_PSK": ("RSAPSK", "RSA"),
        "DHE_PSK": ("DHEPSK", "PSK"), "ECDHE_PSK": ("ECDHEPSK", "PSK"),
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


def main():
    suites = {}
    out = subprocess.run(["openssl", "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        code = int(f[0].replace(",0x", ""), 16)
        iana, openssl, proto = f[2], f[4], f[5]
        if iana.startswith("TLS_AES") or iana.startswith("TLS_CHACHA"):
            openssl = iana
        suites[code] = (iana, openssl, {"TLSv1.3": "Tls13", "TLSv1.2": "Tls12"}.get(proto, "Ssl3"))
    for code, iana, openssl in LEGACY:
        suites.setdefault(code, (iana, openssl, "Ssl3"))
    out = subprocess.run(["gnutls-cli", "-l"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"^(TLS_\S+)\s+0x(..), 0x(..)\s+(\S+)", line)
        if not m or m.group(1).startswith("TLS_GOST"):
            continue
        code = int(m.group(2) + m.group(3), 16)
        if code in suites:
            continue
        iana = m.group(1) if code >> 8 == 0x13 else from_gnutls(m.group(1))
        if iana is None:
            continue
        suites[code] = (iana, "", {"TLS1.3": "Tls13", "TLS1.2": "Tls12"}.get(m.group(4), "Ssl3"))
    print("// @generated by tools/gen-suites.py from OpenSSL 3.0 and GnuTLS 3.7's lists and the")
    print("// legacy suites they dropped. Code point, IANA name, OpenSSL name (\"\" when OpenSSL")
    print("// never had one), key exchange, authentication, encryption, MAC, oldest protocol.")
    print()
    print("use super::MinVersion::{Ssl3, Tls12, Tls13};")
    print("use super::Suite;")
    print()
    print("pub(super) static SUITES: &[Suite] = &[")
    for code in sorted(suites):
        iana, openssl, proto = suites[code]
        kx, auth, enc, mac = parts(iana)
        print(f'    Suite::new(0x{code:04X}, "{iana}", "{openssl}", "{kx}", "{auth}", "{enc}", "{mac}", {proto}),')
    print("];")


main()
