//! The accepted suites per protocol version, as sslscan finds them and as
//! check-tls-ciphers' `--json` reports them, in one shape for comparing:
//! `(version name, code point)`, e.g. `("TLSv1.2", 0xC02F)`.

use std::collections::BTreeSet;
use std::process::Command;

use crate::process::require;

/// Where Debian's sslscan lives.
pub const SSLSCAN: &str = "/usr/bin/sslscan";

/// One accepted suite: the version as sslscan and `--json` name it
/// (`TLSv1.0` … `TLSv1.3`) and the suite's code point.
pub type Accepted = (String, u16);

/// Runs `sslscan` (`command` is sslscan itself, or a wrapper such as a
/// network-namespace `nsenter` around it) with `flags` (`--starttls-smtp`)
/// on 127.0.0.1:`port`, SNI `localhost`, and reads its XML.
#[must_use]
pub fn sslscan_suites(mut command: Command, flags: &[&str], port: u16) -> BTreeSet<Accepted> {
    require(SSLSCAN, "sslscan");
    let out = command
        .args(["--no-colour", "--xml=-", "--sni-name=localhost"])
        .args(flags)
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .expect("run sslscan");
    let text = String::from_utf8_lossy(&out.stdout);
    let attr = |line: &str, name: &str| {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        line[start..].split('"').next().map(str::to_owned)
    };
    text.lines()
        .filter(|l| l.trim_start().starts_with("<cipher "))
        .filter_map(|l| {
            let version = attr(l, "sslversion")?;
            let version = if version == "TLSv1" {
                "TLSv1.0".to_owned()
            } else {
                version
            };
            let id = u16::from_str_radix(attr(l, "id")?.trim_start_matches("0x"), 16).ok()?;
            Some((version, id))
        })
        .collect()
}

/// The same set from a check-tls-ciphers `--json` document.
#[must_use]
pub fn json_suites(doc: &serde_json::Value) -> BTreeSet<Accepted> {
    let mut set = BTreeSet::new();
    for entry in doc["scan"]["versions"].as_array().expect("versions") {
        let version = entry["version"].as_str().expect("a version").to_owned();
        for suite in entry["suites"].as_array().expect("suites") {
            let code = suite["code"].as_str().expect("a code point");
            let code = u16::from_str_radix(code.trim_start_matches("0x"), 16).expect("hex");
            set.insert((version.clone(), code));
        }
    }
    set
}
