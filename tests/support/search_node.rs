//! Real `OpenSearch` and Elasticsearch nodes, one JVM per server version,
//! started once per test process and shared by every test in it.
//!
//! No distribution tarball can be fetched here and there is no Docker, but
//! the servers publish their jars on Maven Central. `scripts/setup-search-nodes`
//! (run by `scripts/setup`) resolves them into `~/.m2`, compiles a small
//! launcher per flavor (`tests/search-nodes/`) and writes the classpath to
//! `target/search-nodes/<flavor>/` (or `$NIGHTWATCH_SEARCH_NODES_DIR`). The
//! launcher starts the server's own `Node` with the Netty4 HTTP module as a
//! classpath plugin (and analysis-common where it is published), bound to
//! loopback, single-node, disk watermarks off; it prints a JSON ready line
//! and exits with its parent. Elasticsearch 8 lacks one published module,
//! `rest-root` (`GET /`): its launcher answers `GET /` from the running
//! server's build info and cluster state (see `Elasticsearch8.java`).
//!
//! | flavor | Java | ready after | RSS ready → after indexing | 406 for a `compatible-with` media type |
//! |---|---|---|---|---|
//! | `OpenSearch` 2.19.6 | 17 | 2.5–2.9 s | 208 → 223 MB | `Content-Type` on a request with a body: yes; `Accept` alone: no (200) |
//! | `OpenSearch` 3.9.0 | 25 | 2.6–3.9 s | 222 → 248 MB | as 2.19.6 |
//! | Elasticsearch 7.17.29 | 17 | 1.7–2.8 s | 196 → 212 MB | no: 200 for any version, 9 too |
//! | Elasticsearch 8.19.21 | 17 | 2.3–2.8 s | 212 → 236 MB | no: 200 for 7 and 8, 400 for 9 |
//!
//! Measured here (2 cores, other builds running) with the options of
//! `SearchFlavor::jvm_options`, one node at a time; all four started at
//! once are each ready after 13–15 s and take 0.9 GB together (the e2e
//! self-test of all four: 15 s). The plain `-Xms512m -Xmx512m` (G1, C2)
//! took 3–4 s and 250–270 MB. `scripts/setup-search-nodes`: 56 s on a
//! cold `~/.m2` (203 MB of jars and Maven plugins), 24–32 s with a warm one
//! after `cargo clean`, 0.4 s when nothing changed.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::http::{self, Response};
use crate::ports::free_port;
use crate::process::{ServiceProcess, scratch_dir};

/// Start-up is a few seconds alone; a loaded CI machine starting all four
/// at once while it compiles can take many times that.
const START_TIMEOUT: Duration = Duration::from_mins(3);
const POLL: Duration = Duration::from_millis(50);
const INSTALL_HINT: &str = "run scripts/setup (or just scripts/setup-search-nodes: it needs a JDK 17 and Maven, and reaches Maven Central)";

/// A server version the harness can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchFlavor {
    OpenSearch2,
    OpenSearch3,
    Elasticsearch7,
    Elasticsearch8,
}

impl SearchFlavor {
    /// Every flavor: `OpenSearch` 2 and 3, then Elasticsearch 7 and 8.
    pub const ALL: [SearchFlavor; 4] = [
        SearchFlavor::OpenSearch2,
        SearchFlavor::OpenSearch3,
        SearchFlavor::Elasticsearch7,
        SearchFlavor::Elasticsearch8,
    ];

    /// Product and version, e.g. `"OpenSearch 2.19.6"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SearchFlavor::OpenSearch2 => "OpenSearch 2.19.6",
            SearchFlavor::OpenSearch3 => "OpenSearch 3.9.0",
            SearchFlavor::Elasticsearch7 => "Elasticsearch 7.17.29",
            SearchFlavor::Elasticsearch8 => "Elasticsearch 8.19.21",
        }
    }

    /// The version its POM pins, which `GET /` must report.
    #[must_use]
    pub fn version(self) -> &'static str {
        match self {
            SearchFlavor::OpenSearch2 => "2.19.6",
            SearchFlavor::OpenSearch3 => "3.9.0",
            SearchFlavor::Elasticsearch7 => "7.17.29",
            SearchFlavor::Elasticsearch8 => "8.19.21",
        }
    }

    /// `"opensearch"` or `"elasticsearch"`.
    #[must_use]
    pub fn distribution(self) -> &'static str {
        match self {
            SearchFlavor::OpenSearch2 | SearchFlavor::OpenSearch3 => "opensearch",
            SearchFlavor::Elasticsearch7 | SearchFlavor::Elasticsearch8 => "elasticsearch",
        }
    }

    /// Its directory under `tests/search-nodes/` and the setup output.
    #[must_use]
    pub fn dir_name(self) -> &'static str {
        match self {
            SearchFlavor::OpenSearch2 => "opensearch2",
            SearchFlavor::OpenSearch3 => "opensearch3",
            SearchFlavor::Elasticsearch7 => "elasticsearch7",
            SearchFlavor::Elasticsearch8 => "elasticsearch8",
        }
    }

    fn index(self) -> usize {
        match self {
            SearchFlavor::OpenSearch2 => 0,
            SearchFlavor::OpenSearch3 => 1,
            SearchFlavor::Elasticsearch7 => 2,
            SearchFlavor::Elasticsearch8 => 3,
        }
    }

    /// The JVM options: a small heap that grows only as needed, the C1
    /// compiler only and the serial collector (faster start-up and fewer
    /// threads on 2 shared cores, and plenty for test-sized indices).
    fn jvm_options(self, tmp: &Path) -> Vec<String> {
        let prefix = match self.distribution() {
            "opensearch" => "opensearch",
            _ => "es",
        };
        let mut options: Vec<String> = [
            "-Xms256m",
            "-Xmx512m",
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-UsePerfData",
            "-Dlog4j2.level=INFO",
        ]
        .map(str::to_owned)
        .into();
        // Netty would otherwise set the processor count once per JVM and
        // refuse a second setting; the servers' own jvm.options say the same.
        options.push(format!(
            "-D{prefix}.set.netty.runtime.available.processors=false"
        ));
        options.push(format!("-Djava.io.tmpdir={}", tmp.display()));
        if self == SearchFlavor::OpenSearch3 {
            // Lucene 10 calls the foreign-function API; say it may, rather
            // than have Java 25 print a warning block into the log.
            options.push("--enable-native-access=ALL-UNNAMED".to_owned());
        }
        options
    }
}

/// A running node of one [`SearchFlavor`], shared by the test process.
#[derive(Debug)]
pub struct SearchNode {
    flavor: SearchFlavor,
    url: String,
    version: String,
    startup: Duration,
    process: ServiceProcess,
    _dir: TempDir,
}

impl SearchNode {
    /// The node of `flavor`, started on first use (a few seconds) and kept
    /// for the rest of the test process. Panics with the reason, every time
    /// it is asked for, if the flavor cannot start here (setup not run, no
    /// Java 21 for `OpenSearch` 3, a start-up error with the node's log).
    #[must_use]
    pub fn shared(flavor: SearchFlavor) -> &'static SearchNode {
        static NODES: [OnceLock<Result<SearchNode, String>>; 4] = [const { OnceLock::new() }; 4];
        match NODES[flavor.index()].get_or_init(|| SearchNode::start(flavor)) {
            Ok(node) => node,
            Err(reason) => panic!("{}: {reason}", flavor.name()),
        }
    }

    fn start(flavor: SearchFlavor) -> Result<SearchNode, String> {
        let launch = Launch::read(&setup_dir(), flavor)?;
        let dir = scratch_dir(flavor.dir_name());
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp)
            .map_err(|error| format!("cannot create {}: {error}", tmp.display()))?;
        let http_port = free_port();
        let mut command = ServiceProcess::command(&launch.java);
        command
            .args(flavor.jvm_options(&tmp))
            .arg("-cp")
            .arg(&launch.classpath)
            .arg(&launch.main)
            .arg("--http-port")
            .arg(http_port.to_string())
            .arg("--transport-port")
            .arg(free_port().to_string())
            .arg("--home")
            .arg(dir.path().join("home"))
            .current_dir(dir.path());
        let started = Instant::now();
        let mut process =
            ServiceProcess::spawn(flavor.dir_name(), command, &dir.path().join("node.log"));
        let ready = loop {
            if let Some(line) = process
                .output()
                .lines()
                .find(|line| line.starts_with("{\"ready\":true"))
            {
                break line.to_owned();
            }
            if let Some(status) = process.exit_status() {
                return Err(format!(
                    "the node exited ({status}) before it was ready\n{}",
                    process.logs()
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "not ready within {START_TIMEOUT:?}\n{}",
                    process.logs()
                ));
            }
            std::thread::sleep(POLL);
        };
        let startup = started.elapsed();
        let url = format!("http://127.0.0.1:{http_port}");
        let root = http::get(&format!("{url}/"))
            .map_err(|error| format!("GET / after the ready line {ready}: {error}"))?;
        if root.status != 200 {
            return Err(format!(
                "GET / answered {}: {}\n{}",
                root.status,
                root.body,
                process.logs()
            ));
        }
        let version = root.json()["version"]["number"]
            .as_str()
            .ok_or_else(|| format!("GET / has no version.number: {}", root.body))?
            .to_owned();
        Ok(SearchNode {
            flavor,
            url,
            version,
            startup,
            process,
            _dir: dir,
        })
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// `version.number` from `GET /`.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Which server this is.
    #[must_use]
    pub fn flavor(&self) -> SearchFlavor {
        self.flavor
    }

    /// From spawning the JVM to its ready line.
    #[must_use]
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The JVM's pid.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The tail of the node's log.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// `method path` with extra headers (an `Accept` or `Content-Type`
    /// among them replaces the default JSON one); panics only if the node
    /// cannot be reached.
    #[must_use]
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Response {
        let url = format!("{}{path}", self.url);
        http::send(method, &url, headers, body)
            .unwrap_or_else(|error| panic!("{}: {error}\n{}", self.flavor.name(), self.logs()))
    }

    /// Indexes `docs` (JSON objects, ids chosen by the server) into `index`
    /// with one `_bulk` request and `refresh=true`, so they are searchable
    /// on return. The index is created with dynamic mapping if missing.
    /// Panics with the server's reply if any document is refused.
    pub fn index_docs(&self, index: &str, docs: &[serde_json::Value]) {
        if docs.is_empty() {
            return;
        }
        let action = serde_json::json!({ "index": { "_index": index } }).to_string();
        let mut body = String::new();
        for doc in docs {
            body.push_str(&action);
            body.push('\n');
            body.push_str(&doc.to_string());
            body.push('\n');
        }
        let reply = self.request("POST", "/_bulk?refresh=true", &[], Some(&body));
        let failed = reply.status != 200
            || serde_json::from_str::<serde_json::Value>(&reply.body).map_or(true, |json| {
                json["errors"] != serde_json::Value::Bool(false)
            });
        assert!(
            !failed,
            "{}: _bulk of {} docs into {index} answered {}: {}",
            self.flavor.name(),
            docs.len(),
            reply.status,
            reply.body
        );
    }

    /// Deletes `index`; an index that does not exist is no error.
    pub fn delete_index(&self, index: &str) {
        let reply = self.request("DELETE", &format!("/{index}"), &[], None);
        assert!(
            reply.status == 200
                || (reply.status == 404 && reply.body.contains("index_not_found_exception")),
            "{}: DELETE /{index} answered {}: {}",
            self.flavor.name(),
            reply.status,
            reply.body
        );
    }

    /// `GET /<index>/_count`.
    #[must_use]
    pub fn count(&self, index: &str) -> u64 {
        let reply = self.request("GET", &format!("/{index}/_count"), &[], None);
        assert_eq!(
            reply.status,
            200,
            "{}: GET /{index}/_count: {}",
            self.flavor.name(),
            reply.body
        );
        reply.json()["count"].as_u64().unwrap_or_else(|| {
            panic!(
                "{}: no count in GET /{index}/_count: {}",
                self.flavor.name(),
                reply.body
            )
        })
    }

    /// `POST /<index>/_search` with `query` as the body; panics unless 200.
    #[must_use]
    pub fn search(&self, index: &str, query: &serde_json::Value) -> serde_json::Value {
        let reply = self.request(
            "POST",
            &format!("/{index}/_search"),
            &[],
            Some(&query.to_string()),
        );
        assert_eq!(
            reply.status,
            200,
            "{}: POST /{index}/_search {query}: {}",
            self.flavor.name(),
            reply.body
        );
        reply.json()
    }
}

/// What `scripts/setup-search-nodes` wrote for one flavor.
struct Launch {
    java: PathBuf,
    classpath: String,
    main: String,
}

impl Launch {
    fn read(setup_dir: &Path, flavor: SearchFlavor) -> Result<Launch, String> {
        let dir = setup_dir.join(flavor.dir_name());
        if let Ok(reason) = std::fs::read_to_string(dir.join("unavailable")) {
            return Err(format!(
                "cannot run on this machine: {} (setup said so in {})",
                reason.trim(),
                dir.display()
            ));
        }
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map(|text| text.trim().to_owned())
                .map_err(|error| {
                    format!(
                        "not set up ({} unreadable: {error}): {INSTALL_HINT}",
                        dir.join(name).display()
                    )
                })
        };
        let launch = Launch {
            java: PathBuf::from(read("java")?),
            classpath: read("classpath")?,
            main: read("main")?,
        };
        if !launch.java.is_file() {
            return Err(format!(
                "{} (named in {}) is missing: {INSTALL_HINT}",
                launch.java.display(),
                dir.join("java").display()
            ));
        }
        if let Some(missing) = launch
            .classpath
            .split(':')
            .find(|entry| !Path::new(entry).exists())
        {
            return Err(format!(
                "{missing} on the classpath is missing (~/.m2 cleaned?): {INSTALL_HINT}"
            ));
        }
        Ok(launch)
    }
}

fn setup_dir() -> PathBuf {
    std::env::var_os("NIGHTWATCH_SEARCH_NODES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/search-nodes"),
        PathBuf::from,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors_are_distinct_and_indexed_in_order() {
        for (position, flavor) in SearchFlavor::ALL.into_iter().enumerate() {
            assert_eq!(flavor.index(), position, "{flavor:?}");
            assert!(flavor.name().ends_with(flavor.version()), "{flavor:?}");
            assert!(
                flavor
                    .name()
                    .to_ascii_lowercase()
                    .starts_with(flavor.distribution()),
                "{flavor:?}"
            );
        }
    }

    #[test]
    fn setup_output_is_read_or_its_absence_named() {
        let root = tempfile::tempdir().unwrap();
        let flavor = SearchFlavor::Elasticsearch7;
        let error = Launch::read(root.path(), flavor).err().unwrap();
        assert!(
            error.contains("not set up") && error.contains("scripts/setup"),
            "{error}"
        );

        let dir = root.path().join(flavor.dir_name());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("unavailable"), "needs Java 99\n").unwrap();
        let error = Launch::read(root.path(), flavor).err().unwrap();
        assert!(
            error.contains("cannot run on this machine: needs Java 99"),
            "{error}"
        );

        std::fs::remove_file(dir.join("unavailable")).unwrap();
        let java = std::env::current_exe().unwrap();
        std::fs::write(dir.join("java"), format!("{}\n", java.display())).unwrap();
        std::fs::write(dir.join("main"), "a.Main\n").unwrap();
        std::fs::write(
            dir.join("classpath"),
            format!("{}:/nonexistent.jar\n", dir.display()),
        )
        .unwrap();
        let error = Launch::read(root.path(), flavor).err().unwrap();
        assert!(
            error.contains("/nonexistent.jar on the classpath is missing"),
            "{error}"
        );

        std::fs::write(dir.join("classpath"), format!("{}\n", dir.display())).unwrap();
        let launch = Launch::read(root.path(), flavor).unwrap();
        assert_eq!((launch.java, launch.main.as_str()), (java, "a.Main"));
    }
}
