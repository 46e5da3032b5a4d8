//! Real Graphite: Debian's carbon-cache (plaintext receiver, whisper files,
//! carbonlink) behind Debian's graphite-web (the render API plugins query).
//!
//! Both run on Debian's `/usr/bin/python3`: the `python3` on PATH may be a
//! pyenv `CPython` without Debian's modules. Retention is per second
//! (`1s:6h,1m:7d`, `xFilesFactor = 0`), so a point sent now is readable about
//! a second later, first from carbon's cache through carbonlink, then from
//! its whisper file. Whisper accepts timestamps from the last 6 h up to now,
//! never in the future.

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::http;
use crate::ports::{free_port, loopback};
use crate::process::{ServiceProcess, poll_until, require, scratch_dir};
use crate::unix_now;

const PYTHON: &str = "/usr/bin/python3";
const CARBON_CACHE: &str = "/usr/bin/carbon-cache";
const GRAPHITE_WEB_SETTINGS: &str = "/usr/lib/python3/dist-packages/graphite/settings.py";
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// What `wait_for` reads: the last hour, well inside the 1-second archive
/// (a longer range would make graphite-web answer from the 1-minute one).
const WAIT_WINDOW_SECS: i64 = 3600;

/// One point as the render API returns it; `None` where the interval has no
/// value (the newest interval often has none yet: real data, not an error).
pub type Point = (i64, Option<f64>);

/// A carbon-cache and a graphite-web sharing one storage directory.
#[derive(Debug)]
pub struct Graphite {
    // Declared first so the processes stop before their directory goes.
    carbon: ServiceProcess,
    web: ServiceProcess,
    line_port: u16,
    web_port: u16,
    dir: TempDir,
}

impl Graphite {
    /// Starts a private instance (for tests that stop carbon or need an
    /// empty store). ~0.5 s; the first one in a process also runs Django's
    /// migrate (~0.9 s) into a template database the others copy.
    #[must_use]
    pub fn start() -> Graphite {
        Graphite::start_in(scratch_dir("graphite"), RenderCache::Off)
    }

    /// A private instance whose graphite-web caches renders for 60 s, as a
    /// production one with memcached does (here Django's in-process cache):
    /// only a request with `noCache=1` sees points newer than a cached render.
    #[must_use]
    pub fn start_with_render_cache() -> Graphite {
        Graphite::start_in(scratch_dir("graphite-cached"), RenderCache::On)
    }

    /// One instance for the whole test process, started on first use: use
    /// unique metric names in each test. It cannot be stopped (`stop_carbon`
    /// needs `&mut`); its processes die with the test binary (parent-death
    /// signal), and its directory is swept by the next run. Its logs are not
    /// printed on failure: call [`Graphite::logs`].
    pub fn shared() -> &'static Graphite {
        static SHARED: OnceLock<Graphite> = OnceLock::new();
        SHARED.get_or_init(|| Graphite::start_in(scratch_dir("graphite-shared"), RenderCache::Off))
    }

    fn start_in(dir: TempDir, cache: RenderCache) -> Graphite {
        require(CARBON_CACHE, "graphite-carbon");
        require(GRAPHITE_WEB_SETTINGS, "graphite-web");
        require(PYTHON, "python3 (Debian's, for graphite)");
        let root = dir.path();
        for sub in [
            "storage/whisper",
            "storage/lists",
            "conf",
            "log",
            "run",
            "webapp",
        ] {
            fs::create_dir_all(root.join(sub)).expect("create graphite dirs");
        }
        let line_port = free_port();
        let cache_query_port = free_port();
        let web_port = free_port();
        write_carbon_conf(root, line_port, free_port(), cache_query_port);
        write_web_settings(&root.join("webapp"), root, cache_query_port, cache);

        // Carbon imports Twisted while the template database is made.
        let carbon = spawn_carbon(root);
        fs::copy(template_db(), root.join("storage/graphite.db")).expect("copy the graphite db");
        let web = spawn_web(root, web_port);
        let mut graphite = Graphite {
            carbon,
            web,
            line_port,
            web_port,
            dir,
        };
        graphite.wait_carbon_ready();
        let url = graphite.url();
        graphite.web.wait_until(
            "GET /render?target=x&format=json answering []",
            START_TIMEOUT,
            || {
                http::get(&format!("{url}/render?target=x&format=json"))
                    .is_ok_and(|r| r.status == 200 && r.body.trim() == "[]")
            },
        );
        graphite
    }

    /// graphite-web's base URL, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.web_port)
    }

    /// carbon-cache's plaintext line receiver.
    #[must_use]
    pub fn carbon_addr(&self) -> SocketAddr {
        loopback(self.line_port)
    }

    /// The instance's directory (config, storage, logs).
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sends points over carbon's plaintext protocol (`name value ts\n`) and
    /// returns once carbon has read them all (it closes after our
    /// half-close). They are readable about a second later: see
    /// [`Graphite::wait_for`]. Panics if carbon does not take them.
    pub fn send(&self, points: &[(&str, f64, i64)]) {
        self.try_send(points).unwrap_or_else(|error| {
            panic!(
                "carbon-cache at {} refused points: {error}; logs in {}",
                self.carbon_addr(),
                self.dir().display()
            )
        });
    }

    /// Like [`Graphite::send`], returning the error (connection refused
    /// while carbon is stopped) instead of panicking.
    pub fn try_send(&self, points: &[(&str, f64, i64)]) -> std::io::Result<()> {
        let mut lines = String::new();
        for &(metric, value, timestamp) in points {
            assert!(
                !metric.is_empty() && !metric.contains(char::is_whitespace),
                "graphite metric names have no whitespace: {metric:?}"
            );
            assert!(
                value.is_finite(),
                "carbon drops non-finite values: {metric} {value}"
            );
            writeln!(lines, "{metric} {value} {timestamp}").expect("write to a String");
        }
        let mut stream = TcpStream::connect_timeout(&self.carbon_addr(), Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.write_all(lines.as_bytes())?;
        stream.shutdown(Shutdown::Write)?;
        // Carbon closes once it has consumed everything we sent.
        stream.read_to_end(&mut Vec::new())?;
        Ok(())
    }

    /// The points of `metric` (any render target) in `[from, until]`, unix
    /// seconds, from `/render?format=json&noCache=1`; empty when graphite
    /// knows no such series.
    #[must_use]
    pub fn points(&self, metric: &str, from: i64, until: i64) -> Vec<Point> {
        self.try_points(metric, from, until)
            .unwrap_or_else(|error| panic!("{error}\nlogs in {}", self.dir().display()))
    }

    /// [`Graphite::points`], with graphite-web's refusals as errors: while
    /// carbon creates a new whisper file, graphite-web can find it before its
    /// header is written and answer 500 ("Unable to read header").
    pub fn try_points(&self, metric: &str, from: i64, until: i64) -> Result<Vec<Point>, String> {
        let url = format!(
            "{}/render?target={}&format=json&noCache=1&from={from}&until={until}",
            self.url(),
            http::encode_query_value(metric)
        );
        let response = http::get(&url).map_err(|error| format!("graphite-web: {error}"))?;
        if response.status != 200 {
            return Err(format!(
                "graphite-web answered {} to {url}: {}",
                response.status, response.body
            ));
        }
        parse_render_json(&response.body).map_err(|error| {
            format!(
                "graphite-web render JSON for {url}: {error}: {}",
                response.body
            )
        })
    }

    /// Polls the last hour of `metric` until `done` accepts its non-null
    /// points (oldest first); returns them. Panics after `timeout`, showing
    /// what graphite had.
    pub fn wait_for(
        &self,
        metric: &str,
        timeout: Duration,
        mut done: impl FnMut(&[(i64, f64)]) -> bool,
    ) -> Vec<(i64, f64)> {
        let mut last = Vec::new();
        let mut refused = None;
        let found = poll_until(&format!("graphite points of {metric}"), timeout, || {
            let now = unix_now();
            // A refusal while carbon creates the file is "not yet", not a failure.
            match self.try_points(metric, now - WAIT_WINDOW_SECS, now) {
                Ok(points) => {
                    last = points
                        .into_iter()
                        .filter_map(|(ts, value)| value.map(|value| (ts, value)))
                        .collect();
                    done(&last).then(|| last.clone())
                }
                Err(error) => {
                    refused = Some(error);
                    None
                }
            }
        });
        found.unwrap_or_else(|error| {
            panic!(
                "{error}; graphite has {last:?}; last refusal: {refused:?}; logs in {}",
                self.dir().display()
            )
        })
    }

    /// Waits until at least `count` non-null points of `metric` are readable.
    #[allow(clippy::must_use_candidate)] // often called only to wait
    pub fn wait_for_count(&self, metric: &str, count: usize, timeout: Duration) -> Vec<(i64, f64)> {
        self.wait_for(metric, timeout, |points| points.len() >= count)
    }

    /// Stops carbon-cache (SIGTERM; carbon-cache 1.1 does not flush its cache first, so points
    /// sent in its last second may be lost, as with a real crash).
    /// graphite-web stays up and serves what is on disk; sending points now
    /// fails with "connection refused", the "refuse" fault.
    pub fn stop_carbon(&mut self) {
        self.carbon.stop();
    }

    /// Starts carbon-cache again on the same ports and storage.
    pub fn start_carbon(&mut self) {
        self.carbon.stop();
        self.carbon = spawn_carbon(self.dir.path());
        self.wait_carbon_ready();
    }

    /// Both services' logs (carbon's console, graphite-web's runserver,
    /// info and exception logs).
    #[must_use]
    pub fn logs(&self) -> String {
        format!("{}{}", self.carbon.logs(), self.web.logs())
    }

    fn wait_carbon_ready(&mut self) {
        let addr = self.carbon_addr();
        self.carbon.wait_until(
            &format!("the line receiver on {addr}"),
            START_TIMEOUT,
            || TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok(),
        );
    }
}

fn write_carbon_conf(root: &Path, line_port: u16, pickle_port: u16, cache_query_port: u16) {
    let dir = root.display();
    // ENABLE_TAGS = False: otherwise carbon posts every new series to a
    // graphite-web it assumes on 127.0.0.1:80.
    let conf = format!(
        "[cache]
STORAGE_DIR = {dir}/storage/
LOCAL_DATA_DIR = {dir}/storage/whisper/
WHITELISTS_DIR = {dir}/storage/lists/
CONF_DIR = {dir}/conf/
LOG_DIR = {dir}/log/
PID_DIR = {dir}/run/
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
ENABLE_TAGS = False
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {line_port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {pickle_port}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {cache_query_port}
"
    );
    fs::write(root.join("conf/carbon.conf"), conf).expect("write carbon.conf");
    fs::write(
        root.join("conf/storage-schemas.conf"),
        "[default]\npattern = .*\nretentions = 1s:6h,1m:7d\n",
    )
    .expect("write storage-schemas.conf");
    fs::write(
        root.join("conf/storage-aggregation.conf"),
        "[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n",
    )
    .expect("write storage-aggregation.conf");
}

/// `test_settings.py` for graphite-web over `root`'s storage (or, for the
/// template, over a database only).
/// Whether graphite-web caches renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RenderCache {
    Off,
    On,
}

fn write_web_settings(webapp: &Path, root: &Path, cache_query_port: u16, cache: RenderCache) {
    let dir = root.display();
    // CARBONLINK_RETRY_DELAY 1: after carbon restarts, graphite-web would
    // otherwise ignore its cache for 15 s. The dummy cache makes plugins
    // (which send no noCache) see fresh data, as a test expects.
    let backend = match cache {
        RenderCache::Off => "django.core.cache.backends.dummy.DummyCache",
        RenderCache::On => "django.core.cache.backends.locmem.LocMemCache",
    };
    let settings = format!(
        r#"from graphite.settings import *
SECRET_KEY = "nightwatch-test"
STORAGE_DIR = "{dir}/storage/"
WHISPER_DIR = "{dir}/storage/whisper/"
STANDARD_DIRS = [WHISPER_DIR]
INDEX_FILE = "{dir}/storage/index"
LOG_DIR = "{dir}/log/"
CARBONLINK_HOSTS = ["127.0.0.1:{cache_query_port}"]
CARBONLINK_RETRY_DELAY = 1
CACHES = {{"default": {{"BACKEND": "{backend}"}}}}
DATABASES = {{"default": {{"NAME": "{dir}/storage/graphite.db", "ENGINE": "django.db.backends.sqlite3"}}}}
ALLOWED_HOSTS = ["*"]
"#
    );
    fs::write(webapp.join("test_settings.py"), settings).expect("write test_settings.py");
}

fn django_env(command: &mut Command, webapp: &Path) {
    command
        .env("PYTHONPATH", webapp)
        .env("DJANGO_SETTINGS_MODULE", "test_settings")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONHOME");
}

/// An empty, migrated graphite-web database, made once per test process.
fn template_db() -> &'static Path {
    static TEMPLATE: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    let (_, db) = TEMPLATE.get_or_init(|| {
        let dir = scratch_dir("graphite-template");
        let webapp = dir.path().join("webapp");
        fs::create_dir_all(dir.path().join("storage/whisper")).expect("create template dirs");
        fs::create_dir_all(dir.path().join("log")).expect("create template dirs");
        fs::create_dir_all(&webapp).expect("create template dirs");
        // Carbonlink is never contacted by migrate; any port will do.
        write_web_settings(&webapp, dir.path(), 9, RenderCache::Off);
        let mut migrate = Command::new(PYTHON);
        migrate.args(["-m", "django", "migrate", "--run-syncdb"]);
        django_env(&mut migrate, &webapp);
        let output = migrate
            .current_dir(dir.path())
            .output()
            .unwrap_or_else(|error| panic!("cannot run {PYTHON} -m django migrate: {error}"));
        assert!(
            output.status.success(),
            "graphite-web's `django migrate --run-syncdb` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let db = dir.path().join("storage/graphite.db");
        (dir, db)
    });
    db
}

fn spawn_carbon(root: &Path) -> ServiceProcess {
    // --nodaemon keeps it in the foreground and logging to stdout (LOG_DIR
    // stays empty); --debug would do the same plus per-point debug noise.
    let mut command = ServiceProcess::command(PYTHON);
    command
        .arg(CARBON_CACHE)
        .arg(format!("--config={}/conf/carbon.conf", root.display()))
        .args(["--nodaemon", "start"])
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .current_dir(root);
    ServiceProcess::spawn("carbon-cache", command, &root.join("log/carbon-cache.log"))
}

fn spawn_web(root: &Path, port: u16) -> ServiceProcess {
    let webapp = root.join("webapp");
    let mut command = ServiceProcess::command(PYTHON);
    command
        .args(["-m", "django", "runserver", "--noreload"])
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(root);
    django_env(&mut command, &webapp);
    let mut web = ServiceProcess::spawn("graphite-web", command, &root.join("log/runserver.log"));
    web.add_log(root.join("log/info.log"));
    web.add_log(root.join("log/exception.log"));
    web
}

/// `[{"target": …, "datapoints": [[value|null, ts], …]}, …]` → the points of
/// the first series (a test asks for one target at a time).
pub(crate) fn parse_render_json(body: &str) -> Result<Vec<Point>, String> {
    let json: serde_json::Value = serde_json::from_str(body).map_err(|error| error.to_string())?;
    let series = json.as_array().ok_or("not a JSON array")?;
    let Some(first) = series.first() else {
        return Ok(Vec::new());
    };
    let datapoints = first["datapoints"]
        .as_array()
        .ok_or("no datapoints array")?;
    datapoints
        .iter()
        .map(|pair| {
            let value = pair.get(0).ok_or("empty datapoint")?;
            let ts = pair
                .get(1)
                .and_then(serde_json::Value::as_i64)
                .ok_or("datapoint without timestamp")?;
            Ok((ts, value.as_f64()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_render_json_with_nulls() {
        let body = r#"[{"target": "a.b", "tags": {"name": "a.b"}, "datapoints": [[1.5, 100], [null, 101], [3, 102]]}]"#;
        assert_eq!(
            parse_render_json(body).unwrap(),
            vec![(100, Some(1.5)), (101, None), (102, Some(3.0))]
        );
        assert_eq!(parse_render_json("[]").unwrap(), vec![]);
        assert!(parse_render_json("{}").is_err());
    }
}
