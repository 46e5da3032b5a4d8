//! Removes this test process's scratch directories once it has exited.
//!
//! Shared services live in `static`s, which Rust never drops, so their
//! directories (Graphite's whisper files, `OpenSearch`'s data: ~90 MB a
//! run) outlived every run until the next one swept them. A watcher
//! started beside the first scratch directory waits for this process to
//! end however it ends (tests done, panic, Ctrl-C, SIGKILL), gives the
//! services their parent-death signal's moment to exit, and removes
//! `p<pid>-*` under the scratch base.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Seconds between the test process's exit and the removal: services die
/// by `PDEATHSIG` at once, but a dying Java or Python may still flush.
const GRACE_SECONDS: u32 = 3;

/// Starts the watcher once per process; later calls do nothing. Best
/// effort: without `setsid` or `sh` the next run's sweep still cleans up.
pub fn remove_at_exit(base: &Path) {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| watch(std::process::id(), base));
}

/// Removes `p<pid>-*` under `base` once process `pid` has exited.
fn watch(pid: u32, base: &Path) {
    // `setsid` puts the watcher in its own session, so the terminal's
    // Ctrl-C to the test's process group does not stop it; null stdio, so
    // cargo and CI do not wait for it to close their pipes. The base itself
    // stays: the next test binary may be creating its first dir in it.
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; sleep {GRACE_SECONDS}; \
         rm -rf -- \"$0\"/p{pid}-*; exit 0"
    );
    let _ = Command::new("setsid")
        .args(["sh", "-c", &script])
        .arg(base)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_finished_process_leaves_no_scratch_dirs() {
        let base = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new("sleep").arg("1").spawn().expect("sleep");
        let pid = child.id();
        let mine = base.path().join(format!("p{pid}-graphite-shared-x"));
        let others = base.path().join("p1-opensearch2-y");
        std::fs::create_dir_all(mine.join("whisper")).expect("scratch dir");
        std::fs::create_dir_all(&others).expect("another run's dir");
        watch(pid, base.path());
        child.wait().expect("sleep ends");
        // Polls for the outcome; how long the watcher takes is not asserted.
        let until = Instant::now() + Duration::from_secs(30);
        while mine.exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!mine.exists(), "{} outlived its process", mine.display());
        assert!(others.exists(), "another process's dir was removed");
    }
}
