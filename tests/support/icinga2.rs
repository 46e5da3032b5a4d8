//! Real Icinga 2 (Debian's icinga2-bin), running as root from a temp dir.
//!
//! Each instance has its own main config, `-D` paths (cache, log, spool,
//! data, run) and state in the temp dir, so instances run side by side and
//! nothing of `/etc/icinga2` or `/var/lib/icinga2` is read or written. The
//! main config defines what Debian's `constants.conf` would (`PluginDir`,
//! `ZoneName`, `NodeName`), includes the ITL, a `CheckerComponent` and a
//! `NotificationComponent`, then the test's files in order.
//!
//! The daemon runs in a PID namespace of its own: its process-spawn helper
//! and the plugins it runs die with it.
//!
//! [`Icinga2Builder::api`] turns on the REST API (an `ApiListener` on a
//! free loopback port, one `ApiUser`, a certificate from an
//! [`Icinga2Pki`]); [`Icinga2::api_url`] and [`Icinga2::api_ca`] are what a
//! client needs.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::process::{ServiceProcess, require, scratch_dir};

const ICINGA2: &str = "/usr/sbin/icinga2";
const INSTALL: &str = "icinga2-bin icinga2-common (scripts/setup)";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What `icinga2 daemon -C` said about a configuration.
#[derive(Debug, Clone)]
pub struct Icinga2Validate {
    pub ok: bool,
    pub output: String,
}

/// An Icinga 2 configuration being put together.
#[derive(Debug)]
pub struct Icinga2Builder {
    dir: TempDir,
    node: String,
    zone: String,
    plugin_dir: PathBuf,
    // Files included by the main config, in order.
    includes: Vec<PathBuf>,
    // Written into the main config after the includes.
    extra: String,
    // The REST API's port and user, when `api` turned it on.
    api_port: Option<u16>,
    api_user: Option<(String, String)>,
}

/// A running Icinga 2.
#[derive(Debug)]
pub struct Icinga2 {
    process: ServiceProcess,
    dir: TempDir,
    node: String,
    api_port: Option<u16>,
    api_user: Option<(String, String)>,
}

/// The `-D` settings that keep every path Icinga writes in `root`.
fn defines(root: &Path) -> Vec<String> {
    let mut args = vec![
        "-DRunAsUser=root".to_owned(),
        "-DRunAsGroup=root".to_owned(),
    ];
    for (name, sub) in [
        ("CacheDir", "cache"),
        ("LogDir", "log"),
        ("SpoolDir", "spool"),
        ("DataDir", "data"),
        ("InitRunDir", "run"),
    ] {
        args.push(format!("-D{name}={}", root.join(sub).display()));
    }
    args
}

impl Icinga2 {
    /// A configuration for node `node` in zone `node`, running plugins from
    /// `plugin_dir` (its `PluginDir`).
    #[must_use]
    pub fn builder(node: &str, plugin_dir: &Path) -> Icinga2Builder {
        require(ICINGA2, INSTALL);
        let dir = scratch_dir(&format!("icinga2-{node}"));
        for sub in ["cache", "log", "spool", "data", "run", "conf"] {
            fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        Icinga2Builder {
            dir,
            node: node.to_owned(),
            zone: node.to_owned(),
            plugin_dir: plugin_dir.to_owned(),
            includes: Vec::new(),
            extra: String::new(),
            api_port: None,
            api_user: None,
        }
    }

    /// The temp dir holding its config and state.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Its console output (the daemon's log).
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// The REST API's base URL, `https://<node>:<port>` (the node's name is
    /// what its certificate names: build a node `localhost` to reach it
    /// on loopback with verification). Panics without [`Icinga2Builder::api`].
    #[must_use]
    pub fn api_url(&self) -> String {
        let port = self.api_port.expect("Icinga2Builder::api was not called");
        format!("https://{}:{port}", self.node)
    }

    /// The REST API's port.
    #[must_use]
    pub fn api_port(&self) -> Option<u16> {
        self.api_port
    }

    /// GETs `path` (with its query) from the REST API as the
    /// [`Icinga2Builder::api`] user, through curl (the harness shares no
    /// HTTP code with the plugins), verifying the certificate; the JSON
    /// answer, or a panic with what curl said.
    #[must_use]
    pub fn api_get(&self, path: &str) -> serde_json::Value {
        let (user, password) = self
            .api_user
            .as_ref()
            .expect("Icinga2Builder::api was not called");
        let output = Command::new(require("/usr/bin/curl", "curl"))
            .args(["--silent", "--show-error", "--fail-with-body", "--cacert"])
            .arg(self.api_ca())
            .args(["--user", &format!("{user}:{password}")])
            .args(["-H", "Accept: application/json"])
            .arg(format!("{}{path}", self.api_url()))
            .output()
            .expect("run curl");
        let body = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "GET {path} failed: {body}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
    }

    /// The CA certificate that signed the API's certificate.
    #[must_use]
    pub fn api_ca(&self) -> PathBuf {
        self.dir.path().join("data").join("certs").join("ca.crt")
    }
}

/// Runs `icinga2 <args>` as root (pki and other tools; by default they
/// drop to the nagios user), panicking with its output on failure.
#[allow(clippy::must_use_candidate)] // run for what it writes
pub fn icinga2_tool(args: &[&str]) -> String {
    require(ICINGA2, INSTALL);
    let output = Command::new(ICINGA2)
        .args(args)
        .args(["-DRunAsUser=root", "-DRunAsGroup=root"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run icinga2 {args:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "icinga2 {args:?} failed:\n{text}");
    text
}

impl Icinga2Builder {
    /// The temp dir its config and state go to.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sets the zone this node belongs to (default: a zone named like the
    /// node).
    #[must_use]
    pub fn zone(mut self, zone: &str) -> Self {
        zone.clone_into(&mut self.zone);
        self
    }

    /// Includes `path` (after the ones before it).
    #[must_use]
    pub fn include(mut self, path: impl Into<PathBuf>) -> Self {
        self.includes.push(path.into());
        self
    }

    /// Writes `text` to `conf/<name>` in the temp dir and includes it.
    #[must_use]
    pub fn text(self, name: &str, text: &str) -> Self {
        let path = self.dir.path().join("conf").join(name);
        fs::write(&path, text).expect("write icinga2 config");
        self.include(path)
    }

    /// Appends `text` to the main config, after the includes.
    #[must_use]
    pub fn main(mut self, text: &str) -> Self {
        self.extra.push_str(text);
        self.extra.push('\n');
        self
    }

    /// Turns on the REST API: the node's own `Endpoint` and `Zone` (so do
    /// not add a zones.conf), an `ApiListener` on a free loopback port, and
    /// an `ApiUser` `user` with `password` and every permission; the node's
    /// certificate from `pki`. [`Icinga2Builder::start`] then waits for the
    /// listener.
    #[must_use]
    pub fn api(mut self, pki: &Icinga2Pki, user: &str, password: &str) -> Self {
        let port = crate::ports::free_port();
        pki.issue(&self.node, &self);
        self.api_port = Some(port);
        self.api_user = Some((user.to_owned(), password.to_owned()));
        let text = format!(
            "object Endpoint NodeName {{ }}\n\
             object Zone ZoneName {{ endpoints = [ NodeName ] }}\n\
             object ApiListener \"api\" {{ bind_host = \"127.0.0.1\"; bind_port = {port}; accept_commands = false; accept_config = false }}\n\
             object ApiUser {user:?} {{ password = {password:?}; permissions = [ \"*\" ] }}\n"
        );
        self.text("api.conf", &text)
    }

    fn write_main(&self) -> PathBuf {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "const PluginDir = {:?}\nconst ZoneName = {:?}\nconst NodeName = {:?}\n\
             include <itl>\n\
             object CheckerComponent \"checker\" {{ }}\n\
             object NotificationComponent \"notification\" {{ }}",
            self.plugin_dir.display().to_string(),
            self.zone,
            self.node
        );
        for path in &self.includes {
            let _ = writeln!(text, "include {:?}", path.display().to_string());
        }
        text.push_str(&self.extra);
        let path = self.dir.path().join("icinga2.conf");
        fs::write(&path, text).expect("write icinga2.conf");
        path
    }

    /// `icinga2 daemon -C` on the configuration.
    #[must_use]
    pub fn validate(&self) -> Icinga2Validate {
        let main = self.write_main();
        let root = self.dir.path();
        let output = Command::new(ICINGA2)
            .args(["daemon", "-C", "-c"])
            .arg(&main)
            .args(defines(root))
            .current_dir(root)
            .output()
            .expect("run icinga2 daemon -C");
        Icinga2Validate {
            ok: output.status.success(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }

    /// Validates, then starts the daemon; returns once it has activated its
    /// objects.
    #[must_use]
    pub fn start(self) -> Icinga2 {
        let validate = self.validate();
        assert!(
            validate.ok,
            "icinga2 daemon -C rejects the test configuration:\n{}",
            validate.output
        );
        let root = self.dir.path();
        let mut command = ServiceProcess::command_in_pid_namespace(ICINGA2);
        command
            .args(["daemon", "-c"])
            .arg(root.join("icinga2.conf"))
            .args(defines(root))
            .current_dir(root);
        let mut process = ServiceProcess::spawn(
            &format!("icinga2 {}", self.node),
            command,
            &root.join("icinga2.out"),
        );
        process.wait_for_log_line("Activated all objects", START_TIMEOUT);
        if let Some(port) = self.api_port {
            process.wait_until("the API listener", START_TIMEOUT, || {
                std::net::TcpStream::connect(crate::ports::loopback(port)).is_ok()
            });
        }
        Icinga2 {
            process,
            dir: self.dir,
            node: self.node,
            api_port: self.api_port,
            api_user: self.api_user,
        }
    }
}

/// A certificate authority from `icinga2 pki new-ca`, in a temp dir, that
/// signs each node's certificate (`pki new-cert`, `pki sign-csr`).
#[derive(Debug)]
pub struct Icinga2Pki {
    dir: TempDir,
}

impl Icinga2Pki {
    /// A new CA.
    #[must_use]
    pub fn new() -> Icinga2Pki {
        let dir = scratch_dir("icinga2-pki");
        icinga2_tool(&["pki", "new-ca", &data_define(dir.path())]);
        Icinga2Pki { dir }
    }

    /// Issues a certificate for `node` (its common name) and puts it, its
    /// key and the CA certificate where the node's `ApiListener` looks:
    /// `<DataDir>/certs/`.
    pub fn issue(&self, node: &str, builder: &Icinga2Builder) {
        let certs = builder.dir().join("data").join("certs");
        fs::create_dir_all(&certs).expect("mkdir certs");
        let key = certs.join(format!("{node}.key"));
        let csr = certs.join(format!("{node}.csr"));
        let crt = certs.join(format!("{node}.crt"));
        let (key, csr, crt) = (
            key.display().to_string(),
            csr.display().to_string(),
            crt.display().to_string(),
        );
        icinga2_tool(&[
            "pki", "new-cert", "--cn", node, "--key", &key, "--csr", &csr,
        ]);
        icinga2_tool(&[
            "pki",
            "sign-csr",
            "--csr",
            &csr,
            "--cert",
            &crt,
            &data_define(self.dir.path()),
        ]);
        fs::copy(
            self.dir.path().join("ca").join("ca.crt"),
            certs.join("ca.crt"),
        )
        .expect("copy ca.crt");
    }
}

impl Default for Icinga2Pki {
    fn default() -> Self {
        Self::new()
    }
}

fn data_define(dir: &Path) -> String {
    format!("-DDataDir={}", dir.display())
}
