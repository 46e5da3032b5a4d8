//! The Graphite render APIs many sites run instead of graphite-web, real and
//! on loopback: carbonapi in front of go-carbon (carbon plaintext receiver,
//! whisper, carbonserver), and `VictoriaMetrics`' single node (Graphite
//! plaintext listener and `/render`). `scripts/setup-go-graphite` builds all
//! three from the Go module proxy.
//!
//! Both are configured as the graphite-web harness is: per-second points
//! (whisper `1s:6h,1m:7d`; `VictoriaMetrics`' Graphite step 1 s) and no
//! caches, so a point sent now is readable a second or two later.

use std::fmt::Write as _;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::graphite::Point;
use crate::http;
use crate::ports::{free_port, loopback};
use crate::process::{ServiceProcess, poll_until, require, scratch_dir};
use crate::unix_now;

const GO_CARBON: &str = "/usr/local/bin/go-carbon";
const CARBONAPI: &str = "/usr/local/bin/carbonapi";
const VICTORIA_METRICS: &str = "/usr/local/bin/victoria-metrics";
const INSTALL: &str = "scripts/setup-go-graphite (part of scripts/setup)";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the points seen so far are what a test waits for.
pub type Accept<'a> = dyn FnMut(&[(i64, f64)]) -> bool + 'a;

/// What a test that feeds points and checks them needs from any Graphite
/// (graphite-web's [`Graphite`](crate::Graphite) or a [`GoGraphite`]), so
/// one test body runs against each.
pub trait GraphiteLike {
    /// The render API's base URL.
    fn url(&self) -> String;
    /// Sends points over carbon's plaintext protocol.
    fn send(&self, points: &[(&str, f64, i64)]);
    /// Polls `metric` until `done` accepts its non-null points.
    fn wait_for(&self, metric: &str, timeout: Duration, done: &mut Accept<'_>) -> Vec<(i64, f64)>;
}

impl GraphiteLike for crate::Graphite {
    fn url(&self) -> String {
        crate::Graphite::url(self)
    }
    fn send(&self, points: &[(&str, f64, i64)]) {
        crate::Graphite::send(self, points);
    }
    fn wait_for(&self, metric: &str, timeout: Duration, done: &mut Accept<'_>) -> Vec<(i64, f64)> {
        crate::Graphite::wait_for(self, metric, timeout, done)
    }
}

impl GraphiteLike for GoGraphite {
    fn url(&self) -> String {
        GoGraphite::url(self)
    }
    fn send(&self, points: &[(&str, f64, i64)]) {
        GoGraphite::send(self, points);
    }
    fn wait_for(&self, metric: &str, timeout: Duration, done: &mut Accept<'_>) -> Vec<(i64, f64)> {
        GoGraphite::wait_for(self, metric, timeout, done)
    }
}

/// Which server answers `/render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoGraphiteFlavor {
    /// carbonapi 0.17 over go-carbon 0.18's carbonserver.
    CarbonApi,
    /// `VictoriaMetrics` 1.151 single node.
    Victoria,
}

impl GoGraphiteFlavor {
    /// Its name in messages and scratch directories.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            GoGraphiteFlavor::CarbonApi => "carbonapi",
            GoGraphiteFlavor::Victoria => "victoria-metrics",
        }
    }
}

/// A running render API and the plaintext receiver that feeds it.
#[derive(Debug)]
pub struct GoGraphite {
    // Declared first so the processes stop before their directory goes.
    services: Vec<ServiceProcess>,
    flavor: GoGraphiteFlavor,
    line_port: u16,
    web_port: u16,
    dir: TempDir,
}

impl GoGraphite {
    /// One instance per flavor for the whole test process, started on first
    /// use: use unique metric names in each test.
    #[must_use]
    pub fn shared(flavor: GoGraphiteFlavor) -> &'static GoGraphite {
        static CARBONAPI_SHARED: OnceLock<GoGraphite> = OnceLock::new();
        static VICTORIA_SHARED: OnceLock<GoGraphite> = OnceLock::new();
        let cell = match flavor {
            GoGraphiteFlavor::CarbonApi => &CARBONAPI_SHARED,
            GoGraphiteFlavor::Victoria => &VICTORIA_SHARED,
        };
        cell.get_or_init(|| GoGraphite::start(flavor))
    }

    /// Starts a private instance.
    #[must_use]
    pub fn start(flavor: GoGraphiteFlavor) -> GoGraphite {
        let dir = scratch_dir(flavor.name());
        let line_port = free_port();
        let web_port = free_port();
        let services = match flavor {
            GoGraphiteFlavor::CarbonApi => start_carbonapi(dir.path(), line_port, web_port),
            GoGraphiteFlavor::Victoria => vec![start_victoria(dir.path(), line_port, web_port)],
        };
        let mut graphite = GoGraphite {
            services,
            flavor,
            line_port,
            web_port,
            dir,
        };
        let url = graphite.url();
        let addr = graphite.carbon_addr();
        let front = graphite.services.last_mut().expect("a render service");
        front.wait_until(
            &format!("GET /render answering [] and the line receiver on {addr}"),
            START_TIMEOUT,
            || {
                TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                    && http::get(&format!("{url}/render?target=x&format=json"))
                        .is_ok_and(|r| r.status == 200 && r.body.trim() == "[]")
            },
        );
        graphite
    }

    #[must_use]
    pub fn flavor(&self) -> GoGraphiteFlavor {
        self.flavor
    }

    /// The render API's base URL, `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.web_port)
    }

    /// The carbon plaintext line receiver.
    #[must_use]
    pub fn carbon_addr(&self) -> SocketAddr {
        loopback(self.line_port)
    }

    /// Sends points as carbon plaintext (`name value ts\n`); panics if the
    /// receiver does not take them.
    pub fn send(&self, points: &[(&str, f64, i64)]) {
        let mut lines = String::new();
        for &(metric, value, timestamp) in points {
            writeln!(lines, "{metric} {value} {timestamp}").expect("write to a String");
        }
        let sent = (|| -> std::io::Result<()> {
            let mut stream =
                TcpStream::connect_timeout(&self.carbon_addr(), Duration::from_secs(5))?;
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            stream.write_all(lines.as_bytes())?;
            stream.shutdown(Shutdown::Write)?;
            // Both close once they have consumed everything we sent.
            let _ = stream.read_to_end(&mut Vec::new());
            Ok(())
        })();
        sent.unwrap_or_else(|error| {
            panic!(
                "{} at {} refused points: {error}\n{}",
                self.flavor.name(),
                self.carbon_addr(),
                self.logs()
            )
        });
    }

    /// Polls the last hour of `metric` until `done` accepts its non-null
    /// points (oldest first); returns them. Panics after `timeout`.
    pub fn wait_for(
        &self,
        metric: &str,
        timeout: Duration,
        mut done: impl FnMut(&[(i64, f64)]) -> bool,
    ) -> Vec<(i64, f64)> {
        let mut last = Vec::new();
        let found = poll_until(
            &format!("{} points of {metric}", self.flavor.name()),
            timeout,
            || {
                let now = unix_now();
                let url = format!(
                    "{}/render?target={}&format=json&noCache=1&from={}&until={now}",
                    self.url(),
                    http::encode_query_value(metric),
                    now - 3600
                );
                let response = http::get(&url).ok().filter(|r| r.status == 200)?;
                let points: Vec<Point> = crate::graphite::parse_render_json(&response.body).ok()?;
                last = points
                    .into_iter()
                    .filter_map(|(ts, value)| value.map(|value| (ts, value)))
                    .collect();
                done(&last).then(|| last.clone())
            },
        );
        found.unwrap_or_else(|error| {
            panic!(
                "{error}; {} has {last:?}\n{}",
                self.flavor.name(),
                self.logs()
            )
        })
    }

    /// Every service's log.
    #[must_use]
    pub fn logs(&self) -> String {
        self.services.iter().map(ServiceProcess::logs).collect()
    }

    /// The instance's directory (config, storage, logs).
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn start_carbonapi(root: &Path, line_port: u16, web_port: u16) -> Vec<ServiceProcess> {
    require(GO_CARBON, INSTALL);
    require(CARBONAPI, INSTALL);
    let server_port = free_port();
    write_carbonapi_confs(root, line_port, server_port, web_port);
    let mut carbon = ServiceProcess::command(GO_CARBON);
    carbon
        .arg("-config")
        .arg(root.join("go-carbon.conf"))
        .current_dir(root);
    let mut carbon = ServiceProcess::spawn("go-carbon", carbon, &root.join("go-carbon.log"));
    let server = loopback(server_port);
    carbon.wait_until(&format!("carbonserver on {server}"), START_TIMEOUT, || {
        TcpStream::connect_timeout(&server, Duration::from_millis(200)).is_ok()
    });
    let mut api_command = ServiceProcess::command(CARBONAPI);
    api_command
        .arg("-config")
        .arg(root.join("carbonapi.yaml"))
        .current_dir(root);
    let api = ServiceProcess::spawn("carbonapi", api_command, &root.join("carbonapi.log"));
    vec![carbon, api]
}

/// go-carbon's and carbonapi's configuration. carbonapi answers a target
/// that matches nothing with `[]` and 200, as graphite-web does (its
/// default `notFoundStatusCode`, written out here; a site that sets 404
/// gets "Graphite answered 404", UNKNOWN).
fn write_carbonapi_confs(root: &Path, line_port: u16, server_port: u16, web_port: u16) {
    let dir = root.display();
    fs::create_dir_all(root.join("whisper")).expect("create the whisper dir");
    fs::write(
        root.join("storage-schemas.conf"),
        "[default]\npattern = .*\nretentions = 1s:6h,1m:7d\n",
    )
    .expect("write storage-schemas.conf");
    fs::write(
        root.join("storage-aggregation.conf"),
        "[default]\npattern = .*\nxFilesFactor = 0\naggregationMethod = average\n",
    )
    .expect("write storage-aggregation.conf");
    // No caches, and the index updated as metrics arrive (realtime-index,
    // cache-scan): a new metric is found before its file is scanned.
    let conf = format!(
        r#"[common]
user = ""
metric-endpoint = "local"
metric-interval = "1h0m0s"
max-cpu = 1
[whisper]
data-dir = "{dir}/whisper"
schemas-file = "{dir}/storage-schemas.conf"
aggregation-file = "{dir}/storage-aggregation.conf"
workers = 1
enabled = true
[cache]
max-size = 1000000
write-strategy = "noop"
[udp]
enabled = false
[tcp]
listen = "127.0.0.1:{line_port}"
enabled = true
[pickle]
enabled = false
[carbonlink]
enabled = false
[grpc]
enabled = false
[tags]
enabled = false
[carbonserver]
listen = "127.0.0.1:{server_port}"
enabled = true
query-cache-enabled = false
find-cache-enabled = false
glob-cache-enabled = false
trigram-index = false
trie-index = true
concurrent-index = true
realtime-index = 1000
cache-scan = true
scan-frequency = "1s"
empty-result-ok = true
[dump]
enabled = false
[pprof]
enabled = false
[[logging]]
logger = ""
file = "stderr"
level = "warn"
"#
    );
    fs::write(root.join("go-carbon.conf"), conf).expect("write go-carbon.conf");
    let api = format!(
        r#"listen: "127.0.0.1:{web_port}"
concurency: 20
cache:
  type: "null"
cpus: 1
notFoundStatusCode: 200
upstreams:
  buckets: 10
  timeouts:
    find: "5s"
    render: "10s"
    connect: "200ms"
  backendsv2:
    backends:
      - groupName: "go-carbon"
        protocol: "carbonapi_v3_pb"
        lbMethod: "broadcast"
        maxTries: 1
        servers:
          - "http://127.0.0.1:{server_port}"
logger:
  - logger: ""
    file: "stderr"
    level: "warn"
    encoding: "console"
"#
    );
    fs::write(root.join("carbonapi.yaml"), api).expect("write carbonapi.yaml");
}

fn start_victoria(root: &Path, line_port: u16, web_port: u16) -> ServiceProcess {
    require(VICTORIA_METRICS, INSTALL);
    let mut command = ServiceProcess::command(VICTORIA_METRICS);
    // latencyOffset 0: by default the newest 30 s are held back as "maybe
    // incomplete"; a check of a per-second source wants them. The Graphite
    // step of 1 s matches the whisper retention of the other harnesses.
    command
        .arg(format!("-storageDataPath={}", root.join("data").display()))
        .arg(format!("-httpListenAddr=127.0.0.1:{web_port}"))
        .arg(format!("-graphiteListenAddr=127.0.0.1:{line_port}"))
        .args([
            "-retentionPeriod=1d",
            "-search.latencyOffset=0s",
            "-search.disableCache",
            "-search.graphiteStorageStep=1s",
            "-loggerLevel=WARN",
        ])
        .current_dir(root);
    ServiceProcess::spawn(
        "victoria-metrics",
        command,
        &root.join("victoria-metrics.log"),
    )
}
