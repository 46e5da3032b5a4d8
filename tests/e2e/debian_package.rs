//! The Debian package (scripts/build-deb): built from the harness's
//! binaries, installed on this machine with `dpkg -i`, a plugin run from its
//! installed path, then removed and purged with nothing left behind.
//!
//! This changes the machine's package database, so it runs as root only
//! (as scripts/test does) and purges the package even when an assertion
//! fails.

use std::path::Path;
use std::process::{Command, Output};

use nightwatch_testkit::process::scratch_dir;
use nightwatch_testkit::{State, plugin_at};

use crate::nagios_config::{SHIPPED_POLICY, plugin_dir, repo_root, story_policy};

const PACKAGE: &str = "nightwatch";

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
}

fn must(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn installed() -> bool {
    let out = run("dpkg-query", &["-W", "-f=${db:Status-Status}", PACKAGE]);
    out.status.success() && String::from_utf8_lossy(&out.stdout) == "installed"
}

/// Purges the package when the test ends, however it ends.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = run("dpkg", &["--purge", PACKAGE]);
    }
}

/// What the package holds, and which of it dpkg keeps as conffiles.
fn assert_contents(deb: &str, scratch: &Path) {
    let listing = must("dpkg-deb", &["--contents", deb]);
    for path in [
        "./usr/lib/nagios/plugins/check-graphite",
        "./usr/lib/nagios/plugins/check-tls-ciphers",
        "./usr/bin/pi-probe-exporter",
        "./usr/lib/systemd/system/pi-probe-exporter.service",
        "./usr/lib/sysusers.d/pi-probe-exporter.conf",
        "./usr/share/man/man1/check-graphite.1",
        "./usr/share/man/man8/pi-probe-exporter.8",
        "./usr/share/bash-completion/completions/check-graphite",
        "./usr/share/doc/nightwatch/examples/nagios-config/security/tls.cfg",
        "./usr/share/doc/nightwatch/examples/nagios-config/icinga2/commands.conf",
        "./usr/share/doc/nightwatch/examples/sensu-checks/security.yaml",
        "./etc/pi-probe-exporter.toml.example",
        "./etc/nightwatch/tls/story.toml",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(path)),
            "the package lacks {path}:\n{listing}"
        );
    }
    // The admin's to edit, kept on upgrade and remove: conffiles.
    let control = scratch.join("control");
    must(
        "dpkg-deb",
        &["--control", deb, control.to_str().expect("utf-8")],
    );
    let conffiles = std::fs::read_to_string(control.join("conffiles")).expect("DEBIAN/conffiles");
    for conffile in [
        "/etc/pi-probe-exporter.toml.example",
        "/etc/nightwatch/tls/story.toml",
    ] {
        assert!(
            conffiles.lines().any(|l| l == conffile),
            "{conffile} is not a conffile:\n{conffiles}"
        );
    }
}

/// The story's policy where tls.cfg's `tls strict` names it, as shipped,
/// a conffile for dpkg, and read by the installed plugin.
fn assert_the_story_policy_is_installed() {
    let policy = Path::new(SHIPPED_POLICY);
    assert_eq!(
        std::fs::read(policy).expect("the installed policy"),
        std::fs::read(story_policy()).expect("source")
    );
    let conffiles = must("dpkg-query", &["-W", "-f=${Conffiles}", PACKAGE]);
    assert!(
        conffiles.contains(&format!(" {SHIPPED_POLICY} ")),
        "dpkg does not track {SHIPPED_POLICY} as a conffile:\n{conffiles}"
    );
    plugin_at("/usr/lib/nagios/plugins/check-tls-ciphers")
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            "9",
            "--policy",
            SHIPPED_POLICY,
        ])
        .run()
        .state_is(State::Critical)
        .first_line_contains("cannot connect to 127.0.0.1:9");
}

#[test]
fn the_debian_package_installs_runs_and_purges_cleanly() {
    assert_eq!(
        must("id", &["-u"]).trim(),
        "0",
        "dpkg -i needs root: run scripts/test as root (as CI does)"
    );
    for tool in ["dpkg-deb", "dpkg-shlibdeps", "fakeroot"] {
        assert!(
            Path::new("/usr/bin").join(tool).exists(),
            "{tool} is missing: run scripts/setup (apt-get install dpkg-dev fakeroot)"
        );
    }
    let out = scratch_dir("deb");
    let deb = must(
        repo_root()
            .join("scripts/build-deb")
            .to_str()
            .expect("utf-8"),
        &[
            "--from",
            plugin_dir().to_str().expect("utf-8"),
            "--out",
            out.path().to_str().expect("utf-8"),
        ],
    );
    let deb = deb.trim();
    assert!(
        Path::new(deb).extension().is_some_and(|e| e == "deb") && Path::new(deb).exists(),
        "{deb}"
    );

    assert_contents(deb, out.path());
    let control = must("dpkg-deb", &["--field", deb, "Depends"]);
    assert!(
        control.contains("libc6"),
        "Depends from dpkg-shlibdeps: {control}"
    );

    let _purge = Purge;
    must("dpkg", &["-i", deb]);
    assert!(installed(), "dpkg says {PACKAGE} is not installed");

    let plugin = Path::new("/usr/lib/nagios/plugins/check-graphite");
    plugin_at(plugin)
        .args(["--url", "http://127.0.0.1:9", "--target", "x", "-t", "2s"])
        .run()
        .state_is(State::Unknown);
    let user = must("getent", &["passwd", "pi-probe-exporter"]);
    assert!(
        user.contains("/var/lib/pi-probe-exporter"),
        "the system user's home is the unit's StateDirectory: {user}"
    );
    assert_the_story_policy_is_installed();
    let version = must("/usr/bin/pi-probe-exporter", &["--version"]);
    assert!(version.starts_with("pi-probe-exporter "), "{version}");

    must("dpkg", &["--remove", PACKAGE]);
    assert!(!plugin.exists(), "dpkg --remove left {}", plugin.display());
    assert!(
        Path::new("/etc/pi-probe-exporter.toml.example").exists(),
        "a conffile stays until purge"
    );
    let policy = Path::new(SHIPPED_POLICY);
    assert!(policy.exists(), "a conffile stays until purge");
    must("dpkg", &["--purge", PACKAGE]);
    assert!(!Path::new("/etc/pi-probe-exporter.toml.example").exists());
    assert!(!policy.exists(), "purge removes {}", policy.display());
    assert!(
        !Path::new("/etc/nightwatch").exists(),
        "purge leaves no empty /etc/nightwatch"
    );
    assert!(!Path::new("/usr/share/doc/nightwatch").exists());
    let status = run("dpkg-query", &["-W", PACKAGE]);
    assert!(!status.status.success(), "purged, dpkg forgets it");
    assert!(!installed());
}
