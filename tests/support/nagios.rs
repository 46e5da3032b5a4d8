//! Real Nagios 4 (Debian's nagios4-core), running as root from a temp dir.
//!
//! `interval_length=1` makes every interval a second (`check_interval 5` is
//! 5 s), and `*_inter_check_delay_method=n` schedules every first check at
//! start-up instead of spreading them over minutes, so a result is in
//! `status.dat` about a second after start. Every path Nagios writes,
//! including the query-handler socket (default `/var/lib/nagios4/rw`), is in
//! the temp dir, so instances run side by side.
//!
//! Object files come from the test ([`NagiosBuilder::object_file`],
//! [`NagiosBuilder::object_dir`], [`NagiosBuilder::object_text`]); they must
//! hold one directive per line. `resource.cfg` has
//! `$USER1$=/usr/lib/nagios/plugins` unless a test sets `$USER1$` itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nightwatch_core::State;
use tempfile::TempDir;

use crate::process::{ServiceProcess, poll_until, require, scratch_dir};
use crate::unix_now;

const NAGIOS: &str = "/usr/sbin/nagios4";
const PLUGIN_DIR: &str = "/usr/lib/nagios/plugins";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// SOFT or HARD: notifications (pages) go out only on HARD states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateType {
    Soft,
    Hard,
}

/// One `servicestatus` block of `status.dat`.
#[derive(Debug, Clone)]
pub struct ServiceStatus {
    pub host_name: String,
    pub service_description: String,
    /// `None` only if `status.dat` holds a code outside 0..=3.
    pub current_state: Option<State>,
    pub state_type: StateType,
    pub current_attempt: u32,
    /// False until the first check result arrived (the state is then a placeholder OK).
    pub has_been_checked: bool,
    pub plugin_output: String,
    /// With Nagios' `\n` escapes turned back into newlines.
    pub long_plugin_output: String,
    pub perf_data: String,
    /// Every field of the block, raw.
    pub fields: BTreeMap<String, String>,
}

/// Collects the configuration of a Nagios instance; its temp dir exists
/// from the start, so tests can write object files that point into it
/// (notification logs, scripts) before starting.
#[derive(Debug)]
pub struct NagiosBuilder {
    dir: TempDir,
    cfg_dirs: Vec<PathBuf>,
    cfg_files: Vec<PathBuf>,
    resource_lines: Vec<String>,
    main_overrides: Vec<(String, String)>,
    env: Vec<(String, String)>,
}

/// A running Nagios 4.
#[derive(Debug)]
pub struct Nagios {
    process: ServiceProcess,
    dir: TempDir,
}

impl NagiosBuilder {
    /// The instance's directory; `objects/` in it is always a `cfg_dir`.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Adds a `cfg_dir` (every `*.cfg` below it is read).
    #[must_use]
    pub fn object_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cfg_dirs.push(dir.into());
        self
    }

    /// Adds a `cfg_file`.
    #[must_use]
    pub fn object_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.cfg_files.push(file.into());
        self
    }

    /// Writes `objects/<name>` with `text` (object definitions).
    #[must_use]
    pub fn object_text(self, name: &str, text: &str) -> Self {
        let path = self.dir.path().join("objects").join(name);
        fs::write(&path, text).unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
        self
    }

    /// Adds a line to `resource.cfg`, e.g. `$USER2$=secret`.
    #[must_use]
    pub fn resource_line(mut self, line: impl Into<String>) -> Self {
        self.resource_lines.push(line.into());
        self
    }

    /// Sets `key=value` in `nagios.cfg`, replacing the harness default for
    /// that key (repeatable keys such as `cfg_dir` are only added).
    #[must_use]
    pub fn main_cfg(mut self, key: &str, value: &str) -> Self {
        self.main_overrides.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Sets an environment variable of Nagios, which its checks inherit
    /// (e.g. `SSL_CERT_FILE`: a site's own CA among the system roots).
    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Writes `nagios.cfg` and `resource.cfg` and runs `nagios4 -v`.
    #[must_use]
    pub fn verify(&self) -> NagiosVerify {
        self.write_config();
        verify_config(self.dir.path())
    }

    /// Verifies the configuration (panicking with `nagios4 -v`'s report if it
    /// is broken), starts Nagios in the foreground and waits for its first
    /// `status.dat`.
    #[must_use]
    pub fn start(self) -> Nagios {
        let verify = self.verify();
        assert!(
            verify.ok,
            "nagios4 -v rejects the test configuration:\n{}",
            verify.output
        );
        let root = self.dir.path();
        // Its workers set their own process groups and outlive a killed
        // main process: only a PID namespace takes them all down.
        let mut command = ServiceProcess::command_in_pid_namespace(NAGIOS);
        command.arg(root.join("nagios.cfg")).current_dir(root);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut process = ServiceProcess::spawn("nagios4", command, &root.join("nagios.out"));
        process.add_log(root.join("nagios.log"));
        let status = root.join("status.dat");
        let command_file = root.join("nagios.cmd");
        process.wait_until("status.dat and the command file", START_TIMEOUT, || {
            status.exists() && command_file.exists()
        });
        Nagios {
            process,
            dir: self.dir,
        }
    }

    fn write_config(&self) {
        let root = self.dir.path();
        let mut cfg: Vec<(String, String)> = default_main_cfg(root);
        for (key, value) in &self.main_overrides {
            match cfg.iter_mut().find(|(k, _)| k == key) {
                Some(entry) if key != "cfg_dir" && key != "cfg_file" => entry.1.clone_from(value),
                _ => cfg.push((key.clone(), value.clone())),
            }
        }
        for dir in &self.cfg_dirs {
            cfg.push(("cfg_dir".into(), dir.display().to_string()));
        }
        for file in &self.cfg_files {
            cfg.push(("cfg_file".into(), file.display().to_string()));
        }
        let text = cfg.iter().fold(String::new(), |mut text, (k, v)| {
            let _ = writeln!(text, "{k}={v}");
            text
        });
        fs::write(root.join("nagios.cfg"), text).expect("write nagios.cfg");

        let mut resources = self.resource_lines.clone();
        if !resources.iter().any(|line| line.starts_with("$USER1$=")) {
            resources.insert(0, format!("$USER1$={PLUGIN_DIR}"));
        }
        let text = resources.iter().fold(String::new(), |mut text, line| {
            let _ = writeln!(text, "{line}");
            text
        });
        fs::write(root.join("resource.cfg"), text).expect("write resource.cfg");
    }
}

fn default_main_cfg(root: &Path) -> Vec<(String, String)> {
    let p = |name: &str| root.join(name).display().to_string();
    [
        ("log_file", p("nagios.log")),
        ("cfg_dir", p("objects")),
        ("object_cache_file", p("objects.cache")),
        ("precached_object_file", p("objects.precache")),
        ("resource_file", p("resource.cfg")),
        ("status_file", p("status.dat")),
        ("status_update_interval", "1".into()),
        ("nagios_user", "root".into()),
        ("nagios_group", "root".into()),
        ("check_external_commands", "1".into()),
        ("command_file", p("nagios.cmd")),
        ("query_socket", p("nagios.qh")),
        ("lock_file", p("nagios.lock")),
        ("temp_file", p("nagios.tmp")),
        ("temp_path", p("tmp")),
        ("check_result_path", p("checkresults")),
        ("log_archive_path", p("archives")),
        ("state_retention_file", p("retention.dat")),
        ("debug_file", p("nagios.debug")),
        ("retain_state_information", "0".into()),
        ("use_syslog", "0".into()),
        ("illegal_macro_output_chars", "`~$&|'\"<>".into()),
        ("interval_length", "1".into()),
        ("service_inter_check_delay_method", "n".into()),
        ("host_inter_check_delay_method", "n".into()),
        ("enable_notifications", "1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// What `nagios4 -v` said about a configuration.
#[derive(Debug, Clone)]
pub struct NagiosVerify {
    pub ok: bool,
    pub output: String,
}

fn verify_config(root: &Path) -> NagiosVerify {
    require(NAGIOS, "nagios4-core");
    let output = Command::new(NAGIOS)
        .arg("-v")
        .arg(root.join("nagios.cfg"))
        .current_dir(root)
        .output()
        .unwrap_or_else(|error| panic!("cannot run {NAGIOS} -v: {error}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    NagiosVerify {
        ok: output.status.success() && text.contains("Total Errors:   0"),
        output: text,
    }
}

impl Nagios {
    /// A builder with the harness's `nagios.cfg` defaults.
    #[must_use]
    pub fn builder() -> NagiosBuilder {
        let dir = scratch_dir("nagios");
        for sub in ["objects", "tmp", "checkresults", "archives"] {
            fs::create_dir_all(dir.path().join(sub)).expect("create nagios dirs");
        }
        NagiosBuilder {
            dir,
            cfg_dirs: Vec::new(),
            cfg_files: Vec::new(),
            resource_lines: Vec::new(),
            main_overrides: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Starts Nagios over the given object directories and `resource.cfg`
    /// lines (see [`Nagios::builder`] for more control).
    #[must_use]
    pub fn start(object_cfg_dirs: &[&Path], resource_cfg_lines: &[String]) -> Nagios {
        let builder = object_cfg_dirs
            .iter()
            .fold(Nagios::builder(), |builder, dir| builder.object_dir(*dir));
        resource_cfg_lines
            .iter()
            .fold(builder, |builder, line| builder.resource_line(line.clone()))
            .start()
    }

    /// The instance's directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The external-command FIFO.
    #[must_use]
    pub fn command_file(&self) -> PathBuf {
        self.dir.path().join("nagios.cmd")
    }

    /// Writes `[now] <command>` to the command FIFO, e.g.
    /// `SCHEDULE_FORCED_SVC_CHECK;host;svc;<ts>`.
    pub fn external_command(&self, command: &str) {
        let path = self.command_file();
        let mut fifo = OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap_or_else(|error| panic!("open {}: {error}", path.display()));
        writeln!(fifo, "[{}] {command}", unix_now()).expect("write to the nagios command file");
    }

    /// `nagios4 -v` over the running configuration.
    #[must_use]
    pub fn verify(&self) -> NagiosVerify {
        verify_config(self.dir.path())
    }

    /// The service entries of the current `status.dat` (rewritten every
    /// second, atomically by rename).
    #[must_use]
    pub fn status(&self) -> Vec<ServiceStatus> {
        let text = fs::read_to_string(self.dir.path().join("status.dat")).unwrap_or_default();
        parse_status(&text)
    }

    /// Polls `status.dat` until the service has been checked and `done`
    /// accepts it; panics after `timeout` with its last entry and the logs.
    pub fn wait_for_service(
        &self,
        host: &str,
        service: &str,
        timeout: Duration,
        mut done: impl FnMut(&ServiceStatus) -> bool,
    ) -> ServiceStatus {
        let mut last = None;
        let found = poll_until(&format!("Nagios service {host}/{service}"), timeout, || {
            last = self
                .status()
                .into_iter()
                .find(|s| s.host_name == host && s.service_description == service);
            last.clone().filter(|s| s.has_been_checked && done(s))
        });
        found.unwrap_or_else(|error| {
            panic!("{error}; last status entry: {last:#?}\n{}", self.logs())
        })
    }

    /// `nagios.log` (alerts, notifications, errors) and Nagios' stdout.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }
}

/// Parses the `servicestatus { key=value … }` blocks of `status.dat`.
fn parse_status(text: &str) -> Vec<ServiceStatus> {
    let mut services = Vec::new();
    let mut block: Option<BTreeMap<String, String>> = None;
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("servicestatus {") {
            block = Some(BTreeMap::new());
        } else if line == "}" {
            if let Some(fields) = block.take() {
                services.push(service_from_fields(fields));
            }
        } else if let (Some(fields), Some((key, value))) = (block.as_mut(), line.split_once('=')) {
            fields.insert(key.to_owned(), value.to_owned());
        }
    }
    services
}

fn service_from_fields(fields: BTreeMap<String, String>) -> ServiceStatus {
    let text = |key: &str| fields.get(key).cloned().unwrap_or_default();
    let number = |key: &str| {
        fields
            .get(key)
            .and_then(|v| v.parse::<i32>().ok())
            .unwrap_or(0)
    };
    ServiceStatus {
        host_name: text("host_name"),
        service_description: text("service_description"),
        current_state: State::from_exit_code(number("current_state")),
        state_type: if number("state_type") == 1 {
            StateType::Hard
        } else {
            StateType::Soft
        },
        current_attempt: u32::try_from(number("current_attempt")).unwrap_or(0),
        has_been_checked: number("has_been_checked") == 1,
        plugin_output: text("plugin_output"),
        long_plugin_output: unescape_newlines(&text("long_plugin_output")),
        perf_data: text("performance_data"),
        fields,
    }
}

/// Nagios writes long output with `\n` for newlines and `\\` for `\`.
fn unescape_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_service_blocks() {
        let text = "info {\n\tversion=4.4.6\n\t}\n\nservicestatus {\n\thost_name=pi\n\tservice_description=ham\n\tcurrent_state=2\n\tstate_type=1\n\tcurrent_attempt=1\n\thas_been_checked=1\n\tplugin_output=HAM CRITICAL: ham 141.2 > 140\n\tlong_plugin_output=line 1\\nline \\\\2\n\tperformance_data=ham=141.2;135;140\n\t}\n";
        let services = parse_status(text);
        assert_eq!(services.len(), 1);
        let ham = &services[0];
        assert_eq!(
            (ham.host_name.as_str(), ham.service_description.as_str()),
            ("pi", "ham")
        );
        assert_eq!(ham.current_state, Some(State::Critical));
        assert_eq!(ham.state_type, StateType::Hard);
        assert!(ham.has_been_checked);
        assert_eq!(ham.plugin_output, "HAM CRITICAL: ham 141.2 > 140");
        assert_eq!(ham.long_plugin_output, "line 1\nline \\2");
        assert_eq!(ham.perf_data, "ham=141.2;135;140");
        assert_eq!(ham.fields["current_attempt"], "1");
    }
}
