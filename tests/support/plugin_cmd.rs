//! Running a plugin the way an engine does, with the contract checked first.
//!
//! ```no_run
//! use nightwatch_testkit::{State, plugin};
//! plugin("check-graphite")
//!     .args(["--url", "http://127.0.0.1:8080", "-w", "135", "-c", "140"])
//!     .run()
//!     .state_is(State::Critical)
//!     .first_line_contains("ham 141.2")
//!     .perfdata_has("ham=");
//! ```
//!
//! Every [`PluginCmd::run`] checks [`contract::check_run`] before returning:
//! a plugin that exits 101, prints two `|` or writes to stderr fails the test
//! whatever it was asserting, with its whole stdout, stderr and exit code.
//!
//! Plugins are bin targets of other workspace packages, so Cargo gives this
//! crate no `CARGO_BIN_EXE_*`: the first [`plugin`] call runs
//! `cargo build --workspace --bins` with the test's profile and takes the
//! binary from the same target dir. `NIGHTWATCH_PLUGIN_DIR=/some/dir` skips
//! the build and runs the binaries found there (installed packages, a
//! release build).

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use nightwatch_core::State;
use rustix::process::{Pid, Signal, kill_process_group};

use crate::contract::{self, ParsedOutput, PerfEntry};
use crate::tls::netns_command;

/// How long a plugin may run before the harness kills it; a plugin's own
/// `--timeout` (10 s by default) must always fire first.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the pipes may stay open after the plugin exited.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// The workspace bin target `name` (e.g. `check-graphite`), built on first
/// use; see the module docs.
pub fn plugin(name: &str) -> PluginCmd {
    plugin_at(workspace_bin(name))
}

/// Any executable as a plugin: Debian's `/usr/lib/nagios/plugins/check_*`,
/// a script written by a test.
pub fn plugin_at(path: impl Into<PathBuf>) -> PluginCmd {
    PluginCmd {
        program: path.into(),
        args: Vec::new(),
        envs: Vec::new(),
        timeout: DEFAULT_TIMEOUT,
        stderr_allowed: false,
        netns: None,
    }
}

/// A plugin invocation being put together.
#[derive(Debug, Clone)]
#[must_use]
pub struct PluginCmd {
    program: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    timeout: Duration,
    stderr_allowed: bool,
    netns: Option<PathBuf>,
}

impl PluginCmd {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.envs.push((key.as_ref().to_owned(), None));
        self
    }

    /// Kills the plugin and fails the test after `timeout` (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Lets the plugin write to stderr (tests of `-vvv` debug logging).
    pub fn allow_stderr(mut self) -> Self {
        self.stderr_allowed = true;
        self
    }

    /// Runs the plugin inside a network namespace (`GnutlsServ::netns`).
    pub fn in_netns(mut self, netns: &Path) -> Self {
        self.netns = Some(netns.to_owned());
        self
    }

    /// Runs the plugin; panics with everything it printed if it breaks the
    /// contract or outlives the timeout.
    #[must_use]
    pub fn run(&self) -> PluginRun {
        self.try_run().unwrap_or_else(|report| panic!("{report}"))
    }

    /// Like [`PluginCmd::run`], but returns the failure report instead of
    /// panicking.
    pub fn try_run(&self) -> Result<PluginRun, String> {
        let raw = self.execute()?;
        let parsed = contract::check_run(
            raw.exit_code,
            raw.signal,
            &raw.stdout,
            &raw.stderr,
            self.stderr_allowed,
        )
        .map_err(|violation| raw.report(&format!("plugin contract violated: {violation}")))?;
        Ok(PluginRun {
            report: raw.report("assertion failed"),
            stdout: String::from_utf8_lossy(&raw.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&raw.stderr).into_owned(),
            exit_code: raw.exit_code.unwrap_or(-1),
            elapsed: raw.elapsed,
            parsed,
        })
    }

    /// Runs the plugin WITHOUT the contract check: only for `--help` and
    /// `--version` (whose text is no check result) and for tests of the
    /// checker itself. Panics only if it cannot run or outlives the timeout.
    #[must_use]
    pub fn run_raw(&self) -> RawRun {
        self.execute().unwrap_or_else(|report| panic!("{report}"))
    }

    fn execute(&self) -> Result<RawRun, String> {
        let mut command = match &self.netns {
            Some(netns) => netns_command(netns, &self.program),
            None => Command::new(&self.program),
        };
        command.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        // Its own process group, so a timeout kills whatever it started too.
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let command_line = self.command_line();
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot run {command_line}: {error}"))?;
        let group = Pid::from_child(&child);
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let kill_group = || {
            // ESRCH only means nothing is left to kill.
            let _ = kill_process_group(group, Signal::KILL);
        };
        let status = loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|error| format!("{command_line}: {error}"))?
            {
                break status;
            }
            if started.elapsed() > self.timeout {
                kill_group();
                let _ = child.wait();
                return Err(format!(
                    "{command_line}\nstill running after {:?}: killed (a plugin's own --timeout must fire first)",
                    self.timeout
                ));
            }
            thread::sleep(Duration::from_millis(2));
        };
        let elapsed = started.elapsed();
        // A process the plugin left behind keeps the pipes open: engines then
        // wait for it too (Nagios until its service_check_timeout).
        let mut run = RawRun {
            command_line,
            exit_code: status.code(),
            signal: status.signal(),
            elapsed,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        match (
            stdout.recv_timeout(PIPE_GRACE),
            stderr.recv_timeout(PIPE_GRACE),
        ) {
            (Ok(out), Ok(err)) => {
                run.stdout = out;
                run.stderr = err;
                Ok(run)
            }
            (out, err) => {
                kill_group();
                run.stdout = out
                    .or_else(|_| stdout.recv_timeout(PIPE_GRACE))
                    .unwrap_or_default();
                run.stderr = err
                    .or_else(|_| stderr.recv_timeout(PIPE_GRACE))
                    .unwrap_or_default();
                Err(run.report(
                    "the plugin exited but left a process running that held its stdout or stderr open (now killed)",
                ))
            }
        }
    }

    fn command_line(&self) -> String {
        let mut words = Vec::new();
        if let Some(netns) = &self.netns {
            words.push(format!("nsenter --net={} --", netns.display()));
        }
        words.push(shell_quote(self.program.as_os_str()));
        words.extend(self.args.iter().map(|arg| shell_quote(arg)));
        words.join(" ")
    }
}

fn shell_quote(word: &OsStr) -> String {
    let text = word.to_string_lossy();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Reads a pipe on its own thread, so a chatty plugin never blocks on a
/// full pipe while we wait for it; the bytes arrive once the pipe closes.
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        // The receiver may have given up on a pipe held open too long.
        let _ = sender.send(bytes);
    });
    receiver
}

/// A finished run, unchecked (see [`PluginCmd::run_raw`]).
#[derive(Debug, Clone)]
pub struct RawRun {
    pub command_line: String,
    /// `None` when killed by a signal.
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub elapsed: Duration,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl RawRun {
    /// stdout as text (lossy).
    #[must_use]
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The run, for failure messages.
    #[must_use]
    pub fn report(&self, problem: &str) -> String {
        let exit = match (self.exit_code, self.signal) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "no exit status".to_owned(),
        };
        format!(
            "{problem}\ncommand: {}\nexit: {exit}\nelapsed: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.command_line,
            self.elapsed,
            String::from_utf8_lossy(&self.stdout),
            String::from_utf8_lossy(&self.stderr)
        )
    }
}

/// A finished run that kept the contract; assertions chain and panic with
/// the full run on failure.
///
/// The assertions return `&Self` only for chaining, so they are not
/// `#[must_use]`: a chain ends with `;`.
#[derive(Debug, Clone)]
pub struct PluginRun {
    report: String,
    stdout: String,
    stderr: String,
    exit_code: i32,
    elapsed: Duration,
    parsed: ParsedOutput,
}

#[allow(clippy::must_use_candidate)]
impl PluginRun {
    fn check(&self, ok: bool, what: impl FnOnce() -> String) -> &Self {
        assert!(ok, "{}\n{}", what(), self.report);
        self
    }

    pub fn state_is(&self, state: State) -> &Self {
        self.check(self.parsed.state == state, || {
            format!(
                "expected state {state}, got {} (exit {})",
                self.parsed.state, self.exit_code
            )
        })
    }

    /// The first line (without perfdata) contains `text`.
    pub fn first_line_contains(&self, text: &str) -> &Self {
        self.check(self.parsed.first_line.contains(text), || {
            format!("first line does not contain {text:?}")
        })
    }

    /// The first line (without perfdata) is exactly `text`.
    pub fn first_line_is(&self, text: &str) -> &Self {
        self.check(self.parsed.first_line == text, || {
            format!("first line is not {text:?}")
        })
    }

    pub fn long_text_contains(&self, text: &str) -> &Self {
        self.check(self.parsed.long_text.contains(text), || {
            format!("long text does not contain {text:?}")
        })
    }

    /// stdout nowhere contains `text` (a secret, a stack trace).
    pub fn stdout_lacks(&self, text: &str) -> &Self {
        self.check(!self.stdout.contains(text), || {
            format!("stdout contains {text:?}")
        })
    }

    /// Some perfdata entry, as written, starts with `prefix` (`"ham="`,
    /// `"'oven temp'=318"`).
    pub fn perfdata_has(&self, prefix: &str) -> &Self {
        self.check(
            self.parsed
                .perfdata
                .iter()
                .any(|e| e.raw.starts_with(prefix)),
            || format!("no perfdata entry starts with {prefix:?}"),
        )
    }

    /// The parsed perfdata entry labelled `label` (unquoted).
    #[must_use]
    pub fn perfdata(&self, label: &str) -> &PerfEntry {
        let entry = self.parsed.perfdata.iter().find(|e| e.label == label);
        self.check(entry.is_some(), || format!("no perfdata label {label:?}"));
        entry.expect("checked above")
    }

    #[must_use]
    pub fn state(&self) -> State {
        self.parsed.state
    }

    #[must_use]
    pub fn stdout(&self) -> &str {
        &self.stdout
    }

    #[must_use]
    pub fn stderr(&self) -> &str {
        &self.stderr
    }

    #[must_use]
    pub fn first_line(&self) -> &str {
        &self.parsed.first_line
    }

    #[must_use]
    pub fn long_text(&self) -> &str {
        &self.parsed.long_text
    }

    /// The whole parsed output.
    #[must_use]
    pub fn parsed(&self) -> &ParsedOutput {
        &self.parsed
    }

    /// Wall time from spawn to exit.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

/// The path of the bin target `name` of some workspace package, in this
/// test binary's target dir and profile, built on first use (or taken from
/// `NIGHTWATCH_PLUGIN_DIR`): for tests that need the file itself, such as
/// Nagios command definitions.
#[must_use]
pub fn workspace_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<BuildLayout, String>> = OnceLock::new();
    if let Some(dir) = std::env::var_os("NIGHTWATCH_PLUGIN_DIR") {
        let path = Path::new(&dir).join(name);
        assert!(
            path.is_file(),
            "NIGHTWATCH_PLUGIN_DIR has no {name}: {} is missing",
            path.display()
        );
        return path;
    }
    let layout = BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().map_err(|error| format!("current_exe: {error}"))?;
            let layout = BuildLayout::from_test_exe(&exe)?;
            layout.build()?;
            Ok(layout)
        })
        .as_ref()
        .unwrap_or_else(|error| panic!("cannot build the workspace plugins: {error}"));
    let path = layout.profile_dir.join(name);
    assert!(
        path.is_file(),
        "no plugin binary {}: is `{name}` a [[bin]] of a workspace package? Build it with: {}",
        path.display(),
        layout.build_command_line()
    );
    path
}

/// Where Cargo put this test binary, and so where the plugins go.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BuildLayout {
    target_dir: PathBuf,
    profile_dir: PathBuf,
    /// `dev` for `debug/`, else the directory's name.
    profile: String,
    /// `Some(triple)` for `target/<triple>/<profile>/`.
    triple: Option<String>,
}

impl BuildLayout {
    /// `target[/<triple>]/<profile>/deps/e2e-<hash>` → its parts.
    fn from_test_exe(exe: &Path) -> Result<BuildLayout, String> {
        let unexpected = || {
            format!(
                "test binary {} is not in <target>/<profile>/deps/",
                exe.display()
            )
        };
        let deps = exe
            .parent()
            .filter(|d| d.ends_with("deps"))
            .ok_or_else(unexpected)?;
        let profile_dir = deps.parent().ok_or_else(unexpected)?;
        let profile_name = profile_dir
            .file_name()
            .ok_or_else(unexpected)?
            .to_string_lossy();
        let above = profile_dir.parent().ok_or_else(unexpected)?;
        // Cargo keeps its rustc cache (.rustc_info.json) in the target dir
        // itself, and marks it with CACHEDIR.TAG when it creates it (not when
        // scripts/setup made `target/` first); a triple directory between it
        // and the profile has neither.
        let (target_dir, triple) =
            if above.join(".rustc_info.json").exists() || above.join("CACHEDIR.TAG").exists() {
                (above.to_owned(), None)
            } else {
                let target = above.parent().ok_or_else(unexpected)?;
                (
                    target.to_owned(),
                    above.file_name().map(|t| t.to_string_lossy().into_owned()),
                )
            };
        Ok(BuildLayout {
            target_dir,
            profile_dir: profile_dir.to_owned(),
            profile: if profile_name == "debug" {
                "dev".into()
            } else {
                profile_name.into_owned()
            },
            triple,
        })
    }

    fn build_args(&self) -> Vec<OsString> {
        let workspace_manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ is inside the workspace")
            .join("Cargo.toml");
        let mut args: Vec<OsString> = ["build", "--workspace", "--bins", "--manifest-path"]
            .map(OsString::from)
            .into();
        args.push(workspace_manifest.into());
        args.push("--target-dir".into());
        args.push(self.target_dir.clone().into());
        args.push("--profile".into());
        args.push(self.profile.clone().into());
        if let Some(triple) = &self.triple {
            args.push("--target".into());
            args.push(triple.into());
        }
        args
    }

    fn cargo() -> OsString {
        std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
    }

    fn build_command_line(&self) -> String {
        std::iter::once(Self::cargo())
            .chain(self.build_args())
            .map(|word| shell_quote(&word))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn build(&self) -> Result<(), String> {
        let output = Command::new(Self::cargo())
            .args(self.build_args())
            .stdin(Stdio::null())
            .output()
            .map_err(|error| format!("cannot run {}: {error}", self.build_command_line()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{}` failed ({}):\n{}",
                self.build_command_line(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_build_layout_from_the_test_binary() {
        let target = tempfile::tempdir().unwrap();
        std::fs::write(target.path().join("CACHEDIR.TAG"), "").unwrap();
        let exe = target.path().join("debug/deps/e2e-0123abcd");
        let layout = BuildLayout::from_test_exe(&exe).unwrap();
        assert_eq!(layout.target_dir, target.path());
        assert_eq!(layout.profile_dir, target.path().join("debug"));
        assert_eq!(layout.profile, "dev");
        assert_eq!(layout.triple, None);

        let exe = target
            .path()
            .join("x86_64-unknown-linux-gnu/release/deps/e2e-0123abcd");
        let layout = BuildLayout::from_test_exe(&exe).unwrap();
        assert_eq!(layout.target_dir, target.path());
        assert_eq!(layout.profile, "release");
        assert_eq!(layout.triple.as_deref(), Some("x86_64-unknown-linux-gnu"));
        assert!(
            layout
                .build_command_line()
                .contains("--target x86_64-unknown-linux-gnu")
        );

        assert!(BuildLayout::from_test_exe(Path::new("/usr/bin/e2e")).is_err());
    }

    #[test]
    fn a_target_dir_that_setup_made_before_cargo_is_still_the_target_dir() {
        // scripts/setup-search-nodes writes target/search-nodes/ first, so
        // Cargo never tags the directory; its rustc cache is there anyway.
        let target = tempfile::tempdir().unwrap();
        std::fs::write(target.path().join(".rustc_info.json"), "{}").unwrap();
        let layout =
            BuildLayout::from_test_exe(&target.path().join("debug/deps/e2e-0123abcd")).unwrap();
        assert_eq!(layout.target_dir, target.path());
        assert_eq!(layout.triple, None);
        assert!(!layout.build_command_line().contains("--target "));
    }

    #[test]
    fn quotes_command_lines_for_copy_and_paste() {
        assert_eq!(shell_quote(OsStr::new("-w")), "-w");
        assert_eq!(shell_quote(OsStr::new("ham temp")), "'ham temp'");
        assert_eq!(shell_quote(OsStr::new("it's")), r"'it'\''s'");
        assert_eq!(shell_quote(OsStr::new("")), "''");
    }
}
