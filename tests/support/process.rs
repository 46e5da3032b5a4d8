//! Child-process plumbing shared by every service: spawn, log capture,
//! readiness waits, stop, and scratch directories.
//!
//! Three ways a service could outlive its test, and what stops each:
//! - the test ends normally or panics: [`ServiceProcess`]'s `Drop` sends
//!   SIGTERM to the child's whole process group (services that fork, such as
//!   Nagios' workers, go too), then SIGKILL after a grace period;
//! - the test binary is killed, or a `static` service is never dropped: the
//!   child runs under `setpriv --pdeathsig KILL`, so the kernel kills it when
//!   its parent goes. The parent-death signal fires when the *thread* that
//!   forked exits, and test threads exit after every test, so all children
//!   are forked by one spawner thread that lives as long as the process.
//!   The signal is not inherited by the service's own children: a service
//!   that forks long-lived ones into other process groups (Nagios) runs in
//!   a PID namespace of its own ([`ServiceProcess::command_in_pid_namespace`]),
//!   which the kernel empties when its first process dies;
//! - the scratch directory of a killed run: [`scratch_dir`] names each
//!   directory after the pid of its test process and sweeps those of dead
//!   processes on the next run.
//!
//! This needs no `unsafe` (no `pre_exec`): `setpriv` sets the signal and
//! then execs the service, which keeps the pid and the signal.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};
use tempfile::TempDir;

/// How long a service gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How often readiness probes run.
const POLL: Duration = Duration::from_millis(20);
/// How much of each log a failure report shows (its tail).
const LOG_TAIL_BYTES: u64 = 64 * 1024;
const SETPRIV: &str = "/usr/bin/setpriv";
const UNSHARE: &str = "/usr/bin/unshare";

/// Panics with the install hint unless `path` exists: a missing service must
/// fail the test, never skip it.
#[allow(clippy::must_use_candidate)] // mostly called only for the check
pub fn require(path: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "{package} not installed ({} is missing): run scripts/setup",
        path.display()
    );
    path
}

/// A scratch directory under `$TMPDIR/nightwatch-testkit`, removed on drop,
/// named `p<pid>-<name>-…` so that a later run can sweep what a killed run
/// (or a never-dropped `static` service) left behind.
#[must_use]
pub fn scratch_dir(name: &str) -> TempDir {
    let base = std::env::temp_dir().join("nightwatch-testkit");
    fs::create_dir_all(&base)
        .unwrap_or_else(|error| panic!("cannot create {}: {error}", base.display()));
    sweep_dead_scratch_dirs(&base);
    crate::reaper::remove_at_exit(&base);
    tempfile::Builder::new()
        .prefix(&format!("p{}-{name}-", std::process::id()))
        .tempdir_in(&base)
        .unwrap_or_else(|error| {
            panic!("cannot create a scratch dir in {}: {error}", base.display())
        })
}

fn sweep_dead_scratch_dirs(base: &Path) {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| {
        let Ok(entries) = fs::read_dir(base) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|name| name.strip_prefix('p'))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                // Best effort: a dir we cannot remove only costs disk space.
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    });
}

/// Forks every service child from one thread that never exits; see the
/// module docs for why the parent-death signal needs that.
fn spawn_from_keeper_thread(command: Command) -> io::Result<Child> {
    type Job = (Command, mpsc::SyncSender<io::Result<Child>>);
    static KEEPER: OnceLock<Sender<Job>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (jobs, inbox) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("testkit-spawner".into())
            .spawn(move || {
                for (mut command, reply) in inbox {
                    // The requester may have given up; nothing to do then.
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("cannot start the testkit spawner thread");
        jobs
    });
    let (reply, answer) = mpsc::sync_channel(1);
    keeper
        .send((command, reply))
        .expect("the testkit spawner thread is gone");
    answer.recv().expect("the testkit spawner thread is gone")
}

/// One running service: its child process, where its output goes, and the
/// other log files worth showing when a test fails.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    child: Option<Child>,
    command_line: String,
    log: PathBuf,
    extra_logs: Vec<PathBuf>,
}

impl ServiceProcess {
    /// The command to run `program` as a service: under `setpriv --pdeathsig
    /// KILL`, so that it dies with the test process. Add arguments, env and
    /// a working directory, then pass it to [`ServiceProcess::spawn`].
    pub fn command(program: impl AsRef<OsStr>) -> Command {
        require(SETPRIV, "util-linux (setpriv)");
        let mut command = Command::new(SETPRIV);
        command.args(["--pdeathsig", "KILL", "--"]).arg(program);
        command
    }

    /// Like [`ServiceProcess::command`], in a PID namespace of its own
    /// (`unshare --pid --fork --kill-child`): for services whose children
    /// leave the process group and survive their parent, such as Nagios'
    /// workers. The service is PID 1 there; when it dies, for whatever
    /// reason, the kernel kills everything else in the namespace.
    pub fn command_in_pid_namespace(program: impl AsRef<OsStr>) -> Command {
        require(UNSHARE, "util-linux (unshare)");
        let mut command = ServiceProcess::command(UNSHARE);
        command
            .args(["--pid", "--fork", "--kill-child", "--"])
            .arg(program);
        command
    }

    /// Starts `command` (made by [`ServiceProcess::command`]) in its own
    /// process group, with stdin closed and stdout and stderr appended to
    /// `log`.
    #[must_use]
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> ServiceProcess {
        assert_eq!(
            command.get_program(),
            SETPRIV,
            "{name}: build service commands with ServiceProcess::command so they die with the test"
        );
        let command_line = format!("{command:?}");
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|error| panic!("{name}: cannot open log {}: {error}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|error| panic!("{name}: cannot share log {}: {error}", log.display()));
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = spawn_from_keeper_thread(command)
            .unwrap_or_else(|error| panic!("{name}: cannot start {command_line}: {error}"));
        ServiceProcess {
            name: name.to_owned(),
            child: Some(child),
            command_line,
            log: log.to_owned(),
            extra_logs: Vec::new(),
        }
    }

    /// Also shows `path` (a log the service writes itself) on failure.
    pub fn add_log(&mut self, path: impl Into<PathBuf>) {
        self.extra_logs.push(path.into());
    }

    /// The service's name, as used in messages.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's pid (the service itself: `setpriv` execs it).
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The exit status if the service has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().ok().flatten()
    }

    /// Polls `ready` until it returns true; panics naming the service, what
    /// was awaited and its log if the deadline passes or the service exits.
    pub fn wait_until(&mut self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return;
            }
            if let Some(status) = self.exit_status() {
                panic!(
                    "{} exited ({status}) while waiting for {what}\ncommand: {}\nlog: {}",
                    self.name,
                    self.command_line,
                    self.log.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{}: {what} not reached within {timeout:?}\ncommand: {}\nlog: {}",
                self.name,
                self.command_line,
                self.log.display()
            );
            thread::sleep(POLL);
        }
    }

    /// Waits up to `timeout` for the process to exit by itself (one-shot
    /// jobs); `None` if it is still running then.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        poll_until(&format!("{} to exit", self.name), timeout, || {
            self.exit_status()
        })
        .ok()
    }

    /// Waits until the service's output has a line containing `needle` and
    /// returns that line.
    pub fn wait_for_log_line(&mut self, needle: &str, timeout: Duration) -> String {
        let mut found = None;
        let log = self.log.clone();
        self.wait_until(&format!("a log line with {needle:?}"), timeout, || {
            found = read_lossy(&log)
                .lines()
                .find(|line| line.contains(needle))
                .map(str::to_owned);
            found.is_some()
        });
        found.unwrap_or_default()
    }

    /// The service's own output so far.
    #[must_use]
    pub fn output(&self) -> String {
        read_lossy(&self.log)
    }

    /// The tail of every log of this service, each under a header.
    #[must_use]
    pub fn logs(&self) -> String {
        let mut text = format!("==== {}: {}\n", self.name, self.command_line);
        for path in std::iter::once(&self.log).chain(&self.extra_logs) {
            let _ = writeln!(text, "---- {} ----", path.display());
            text.push_str(&read_tail(path, LOG_TAIL_BYTES));
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    }

    /// SIGTERM to the process group, SIGKILL after a grace period, then
    /// reaps the child. Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let group = Pid::from_child(&child);
        if child.try_wait().ok().flatten().is_none() {
            // Errors here mean the group is already gone: nothing to stop.
            let _ = kill_process_group(group, Signal::TERM);
            let deadline = Instant::now() + STOP_GRACE;
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                thread::sleep(POLL);
            }
            let _ = kill_process_group(group, Signal::KILL);
            let _ = child.wait();
        }
        // Children of the service that ignored SIGTERM (workers, a shell's
        // background jobs) share its group and must not linger either.
        let _ = kill_process_group(group, Signal::KILL);
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("{}", self.logs());
        }
        self.stop();
    }
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn read_tail(path: &Path, max: u64) -> String {
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut text = String::new();
        if len > max {
            file.seek(SeekFrom::Start(len - max))?;
            let _ = writeln!(text, "[... {} bytes cut ...]", len - max);
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        text.push_str(&String::from_utf8_lossy(&bytes));
        Ok(text)
    };
    read().unwrap_or_else(|error| format!("[cannot read: {error}]\n"))
}

/// Polls `probe` until it yields a value; `Err` names what was awaited when
/// the deadline passes. For waits that belong to no single process.
pub fn poll_until<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!("{what} not reached within {timeout:?}"));
        }
        thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_kills_the_whole_process_group() {
        let dir = scratch_dir("process-test");
        let log = dir.path().join("sh.log");
        let mut command = ServiceProcess::command("/bin/sh");
        // The background sleep ignores SIGTERM (ignored signals stay ignored
        // across exec): only the group SIGKILL ends it.
        command.args(["-c", "(trap '' TERM; exec sleep 300) & echo child $!; wait"]);
        let mut service = ServiceProcess::spawn("sh", command, &log);
        let line = service.wait_for_log_line("child ", Duration::from_secs(5));
        let grandchild: u32 = line["child ".len()..].trim().parse().expect("a pid");
        service.stop();
        let gone = poll_until(
            "the background sleep to die",
            Duration::from_secs(3),
            || {
                let stat =
                    fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
                // Gone, or a zombie waiting for init to reap it.
                (stat.is_empty() || stat.contains(") Z ")).then_some(())
            },
        );
        assert!(gone.is_ok(), "{gone:?}");
        assert!(
            service.exit_status().is_none(),
            "stopped services have no child"
        );
    }

    #[test]
    fn exit_during_wait_names_the_service_and_its_log() {
        let dir = scratch_dir("process-test");
        let log = dir.path().join("false.log");
        let mut command = ServiceProcess::command("/bin/sh");
        command.args(["-c", "echo about to fail; exit 7"]);
        let mut service = ServiceProcess::spawn("doomed", command, &log);
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            service.wait_until("never", Duration::from_secs(5), || false);
        }))
        .expect_err("wait_until must panic when the service exits");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("doomed exited"), "{message}");
        assert!(message.contains("false.log"), "{message}");
        assert!(
            service.logs().contains("about to fail"),
            "{}",
            service.logs()
        );
    }

    #[test]
    fn scratch_dirs_carry_the_pid() {
        let dir = scratch_dir("naming");
        let name = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("p{}-naming-", std::process::id())),
            "{name}"
        );
    }
}
