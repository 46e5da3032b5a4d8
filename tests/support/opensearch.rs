//! An OpenSearch-compatible server: osmem-server from `PyPI`, in memory.
//!
//! pip puts no `osmem-server` on PATH: the binary sits in the package's
//! `bin/` (or `$OSMEM_SERVER_BIN`). It prints `{"url": …}` once it listens.
//! It could pick its own port (`-addr 127.0.0.1:0`), but ports come from
//! [`free_port`] so that it cannot take one promised to a service still
//! starting. `-parent-pid` makes it exit with the test process as well.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::http;
use crate::ports::free_port;
use crate::process::{ServiceProcess, scratch_dir};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const INSTALL_HINT: &str = "osmem-server not installed (pip install osmem-server with the python3 on PATH): run scripts/setup";

/// A running osmem-server.
#[derive(Debug)]
pub struct OpenSearch {
    process: ServiceProcess,
    url: String,
    _dir: TempDir,
}

impl OpenSearch {
    /// Starts an empty server (~0.1 s).
    #[must_use]
    pub fn start() -> OpenSearch {
        let dir = scratch_dir("osmem");
        let mut command = ServiceProcess::command(osmem_binary());
        command
            .arg("-addr")
            .arg(format!("127.0.0.1:{}", free_port()))
            .args(["-no-stdin-watch", "-no-ja", "-parent-pid"])
            .arg(std::process::id().to_string())
            .current_dir(dir.path());
        let mut process =
            ServiceProcess::spawn("osmem-server", command, &dir.path().join("osmem.log"));
        let line = process.wait_for_log_line("\"url\"", START_TIMEOUT);
        let url = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|ready| ready["url"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("osmem-server's ready line has no url: {line}"));
        OpenSearch {
            process,
            url,
            _dir: dir,
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Indexes one JSON document with `refresh=true` (searchable at once)
    /// and returns the server's answer.
    #[allow(clippy::must_use_candidate)] // the answer is rarely needed
    pub fn index_doc(&self, index: &str, json: &str) -> serde_json::Value {
        let url = format!("{}/{index}/_doc?refresh=true", self.url);
        let response = http::send_json("POST", &url, json)
            .unwrap_or_else(|error| panic!("osmem-server: {error}"));
        assert!(
            (200..300).contains(&response.status),
            "osmem-server answered {} to POST {url}: {}\n{}",
            response.status,
            response.body,
            self.process.logs()
        );
        response.json()
    }

    /// `GET /<index>/_count`.
    #[must_use]
    pub fn count(&self, index: &str) -> u64 {
        let url = format!("{}/{index}/_count", self.url);
        let response = http::get(&url).unwrap_or_else(|error| panic!("osmem-server: {error}"));
        assert_eq!(response.status, 200, "GET {url}: {}", response.body);
        response.json()["count"]
            .as_u64()
            .unwrap_or_else(|| panic!("GET {url}: no count in {}", response.body))
    }

    /// The server's output.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }
}

/// Where pip put the server binary, asked once of the `python3` on PATH.
fn osmem_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("OSMEM_SERVER_BIN") {
                return PathBuf::from(path);
            }
            let output = Command::new("python3")
                .args([
                    "-c",
                    "import osmem_server, os; print(os.path.join(os.path.dirname(osmem_server.__file__), 'bin', 'osmem-server'))",
                ])
                .output()
                .unwrap_or_else(|error| panic!("cannot run python3 to find osmem-server ({error}); {INSTALL_HINT}"));
            assert!(
                output.status.success(),
                "{INSTALL_HINT}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            assert!(path.is_file(), "{INSTALL_HINT} ({} is missing)", path.display());
            path
        })
        .clone()
}
