//! The ham story, end to end, shared by `tests/e2e/ham_story.rs` and the
//! `nightwatch-demo` binary (`scripts/demo`):
//!
//! simulated DS18B20 probes (`pi-probe-exporter simulate`) →
//! `pi-probe-exporter` → a real Graphite (carbon-cache + graphite-web) → a
//! real Nagios 4 running `nagios-config/` as shipped → the `pd-nagios`
//! stand-in ([`Pager`]), which records the `PagerDuty` events Nagios would
//! send.
//!
//! What is changed in the shipped configuration, and why it does not change
//! what is tested ([`Story::rewrites`] lists them):
//!
//! - `resource.cfg`: `$USER1$` is the built plugin directory, `$USER2$` the
//!   story's graphite-web, `$USER4$` a password file in its temp dir; the
//!   rest is `resource.cfg.example` as shipped. These are the site settings
//!   an admin fills in.
//! - `pagerduty.cfg`: the path of `pd-nagios` (and of
//!   `pagerduty_nagios.pl`) points at the stand-ins; the command line
//!   around it, its macros and its quoting are the shipped ones.
//! - `nagios.cfg` (the harness's, not shipped): `interval_length=1`, so the
//!   shipped `check_interval 1`/`retry_interval 1` are a second instead of
//!   a minute and `max_check_attempts` (3 for services, 2 for the host)
//!   turns a state HARD in seconds; `cached_host_check_horizon=0` because a
//!   second is inside Nagios' default 15 s reuse of a host result.
//! - `templates.cfg`: `notification_interval 30` becomes `1800`. It is in
//!   units of `interval_length` too: left alone, a problem would be re-sent
//!   every 30 seconds instead of every 30 minutes, and "one page per HARD
//!   state change" could not be judged. 1800 keeps the shipped 30 minutes.
//! - Only with [`StoryOptions::max_ages`] (the test): the host's
//!   `--max-age 1m` and the probes' `2m` become shorter (the test uses 10 s
//!   and 20 s), so a silent Pi is found in seconds. The order the shipped
//!   config relies on is kept: the host is stale before the probes, so the
//!   host is DOWN first and holds the probes' pages.
//!
//! The exporter runs with `--assume-clock-synced` (this machine's kernel
//! clock reports unsynchronised), its `[probes]` naming the simulator's ham
//! and oven ids as in `pi-probe-exporter.toml.example`, and
//! `health.interval` of [`StoryOptions::health_interval`]: Nagios checks
//! every second here, and `check_graphite_rate` needs two heartbeats for a
//! slope, so a 10 s heartbeat would leave "exporter rejected readings"
//! UNKNOWN for its first three checks and page.

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

use crate::graphite::Graphite;
use crate::nagios::{Nagios, ServiceStatus};
use crate::pagerduty::Pager;
use crate::ports::free_port;
use crate::process::{ServiceProcess, scratch_dir};
use crate::shipped_config::{
    ILLEGAL_MACRO_OUTPUT_CHARS, SHIPPED_PREFIX, host_status, password_file, site_resources,
    stage_config, start_nagios,
};
use crate::{http, unix_now};

/// The host christmas-pi.cfg defines.
pub const HOST: &str = "christmas-pi";
/// The simulator's ham probe (`simulate --scenario ham`).
pub const HAM_ID: &str = "28-0316a2b4c5ff";
/// The simulator's oven probe (`simulate --scenario oven`).
pub const OVEN_ID: &str = "28-0316a2b4c6aa";
/// A DS18B20's upper limit, °C (257 °F).
pub const PROBE_LIMIT_C: f64 = 125.0;

/// The shipped host check's max age of the exporter's heartbeat.
const SHIPPED_HOST_CHECK: &str = "!$_HOSTGRAPHITE_PREFIX$.exporter.send.sent!1m!exporter";
/// The shipped ham and oven checks, up to and including their max age.
const SHIPPED_HAM_CHECK: &str = "!$_HOSTGRAPHITE_PREFIX$.ham!135!140!2m!";
const SHIPPED_OVEN_CHECK: &str = "!$_HOSTGRAPHITE_PREFIX$.oven!320:!315:!2m!";
/// templates.cfg's re-notification interval (twice: host and service).
const SHIPPED_NOTIFICATION_INTERVAL: &str = "notification_interval           30\n";
const SCALED_NOTIFICATION_INTERVAL: &str = "notification_interval           1800\n";

/// How the story is set up.
#[derive(Debug, Clone)]
pub struct StoryOptions {
    /// Where `check-graphite` and `pi-probe-exporter` are (`$USER1$`).
    pub bin_dir: PathBuf,
    /// `Some((host, probes))`: `--max-age` for the host check and for the
    /// ham and oven checks instead of the shipped `1m` and `2m`.
    pub max_ages: Option<(&'static str, &'static str)>,
    /// The exporter's `health.interval` (its heartbeat).
    pub health_interval: &'static str,
    /// The exporter's `graphite.backoff_max` (default 30 s): how long it may
    /// wait before reconnecting to carbon.
    pub backoff_max: &'static str,
}

/// Everything the story runs, stopped (in this order) on drop: Nagios, the
/// simulator, the exporter, Graphite; then the temp dir goes.
#[derive(Debug)]
pub struct Story {
    nagios: Option<Nagios>,
    simulator: Option<ServiceProcess>,
    exporter: Option<ServiceProcess>,
    graphite: Graphite,
    pager: Pager,
    objects: PathBuf,
    users: BTreeMap<String, String>,
    opts: StoryOptions,
    metrics_port: u16,
    started_at: i64,
    dir: TempDir,
}

/// One event the `pd-nagios` stand-in recorded: what `PagerDuty` would get.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Unix time of the call, fractional.
    pub at: f64,
    /// `PROBLEM`, `ACKNOWLEDGEMENT` or `RECOVERY`.
    pub kind: String,
    pub host: String,
    /// `None` for the host.
    pub service: Option<String>,
    /// `SERVICESTATE` or `HOSTSTATE` (`WARNING`, `DOWN`, …).
    pub state: String,
    /// `SERVICEOUTPUT` or `HOSTOUTPUT`: the plugin's first line, minus
    /// Nagios' `illegal_macro_output_chars`.
    pub output: String,
    /// The integration key it was sent with.
    pub key: String,
}

impl Page {
    /// `christmas-pi/ham`, or `christmas-pi` for the host.
    #[must_use]
    pub fn subject(&self) -> String {
        match &self.service {
            Some(service) => format!("{}/{service}", self.host),
            None => self.host.clone(),
        }
    }

    fn from_event(event: &serde_json::Value) -> Result<Page, String> {
        if event.get("rejected").is_some() {
            return Err(format!("a PagerDuty script was called wrongly: {event}"));
        }
        let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
        let fields = &event["fields"];
        let service = event["n"] == "service";
        Ok(Page {
            at: event["at"].as_f64().unwrap_or_default(),
            kind: text(&event["t"]),
            host: text(&fields["HOSTNAME"]),
            service: service.then(|| text(&fields["SERVICEDESC"])),
            state: text(&fields[if service { "SERVICESTATE" } else { "HOSTSTATE" }]),
            output: text(
                &fields[if service {
                    "SERVICEOUTPUT"
                } else {
                    "HOSTOUTPUT"
                }],
            ),
            key: text(&event["k"]),
        })
    }
}

/// What a plugin's first line becomes in a page: Nagios strips its
/// `illegal_macro_output_chars` from `$SERVICEOUTPUT$`.
#[must_use]
pub fn as_paged(first_line: &str) -> String {
    first_line
        .chars()
        .filter(|c| !ILLEGAL_MACRO_OUTPUT_CHARS.contains(*c))
        .collect()
}

/// °C → °F, as the exporter sends it.
#[must_use]
pub fn fahrenheit(celsius: f64) -> f64 {
    celsius * 9.0 / 5.0 + 32.0
}

/// The exporter's Prometheus `/metrics`, by `name{labels}`.
#[derive(Debug, Clone, Default)]
pub struct ExporterMetrics(pub BTreeMap<String, f64>);

impl ExporterMetrics {
    fn parse(text: &str) -> ExporterMetrics {
        ExporterMetrics(
            text.lines()
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| line.rsplit_once(' '))
                .filter_map(|(key, value)| Some((key.to_owned(), value.parse().ok()?)))
                .collect(),
        )
    }

    /// `pi_probe_exporter_<name>`, of `probe` if given (summed over any
    /// other labels, such as rejection reasons).
    #[must_use]
    pub fn get(&self, name: &str, probe: Option<&str>) -> Option<f64> {
        let full = format!("pi_probe_exporter_{name}");
        let mut found = None;
        for (key, value) in &self.0 {
            let (key_name, labels) = key.split_once('{').unwrap_or((key, ""));
            if key_name != full {
                continue;
            }
            if let Some(probe) = probe
                && !labels.contains(&format!("probe=\"{probe}\""))
            {
                continue;
            }
            *found.get_or_insert(0.0) += value;
        }
        found
    }
}

impl StoryOptions {
    /// What the e2e test uses: the silent Pi is found in seconds.
    #[must_use]
    pub fn for_test(bin_dir: PathBuf) -> StoryOptions {
        StoryOptions {
            bin_dir,
            max_ages: Some(("10s", "20s")),
            health_interval: "2s",
            backoff_max: "2s",
        }
    }
}

impl Story {
    /// Starts Graphite, writes the stand-ins, stages the shipped Nagios
    /// configuration and the exporter's config. Nothing of the Pi runs yet.
    #[must_use]
    pub fn new(mut opts: StoryOptions) -> Story {
        // $USER1$ must be absolute: Nagios runs in its own directory.
        opts.bin_dir = fs::canonicalize(&opts.bin_dir)
            .unwrap_or_else(|e| panic!("{}: {e}", opts.bin_dir.display()));
        for bin in ["check-graphite", "pi-probe-exporter"] {
            let path = opts.bin_dir.join(bin);
            assert!(
                path.is_file(),
                "{} is missing: build the workspace (cargo build --bins)",
                path.display()
            );
        }
        let dir = scratch_dir("ham-story");
        for sub in ["pager", "w1", "spool", "nagios"] {
            fs::create_dir_all(dir.path().join(sub)).expect("create story dirs");
        }
        let started_at = unix_now();
        let graphite = Graphite::start();
        let pager = Pager::new(&dir.path().join("pager"));
        let rewrites = Story::rewrites(&opts);
        let extra: Vec<(&str, &str)> = rewrites
            .iter()
            .map(|(from, to, _)| (from.as_str(), to.as_str()))
            .collect();
        let objects = stage_config(&dir.path().join("nagios"), SHIPPED_PREFIX, &pager, &extra);
        let users = site_resources(&opts.bin_dir, &graphite.url(), &password_file(dir.path()));
        let metrics_port = free_port();
        let story = Story {
            nagios: None,
            simulator: None,
            exporter: None,
            graphite,
            pager,
            objects,
            users,
            opts,
            metrics_port,
            started_at,
            dir,
        };
        story.write_exporter_config();
        story
    }

    /// The object-file rewrites beyond paths: (shipped text, replacement,
    /// why).
    #[must_use]
    pub fn rewrites(opts: &StoryOptions) -> Vec<(String, String, &'static str)> {
        let mut rewrites = vec![(
            SHIPPED_NOTIFICATION_INTERVAL.to_owned(),
            SCALED_NOTIFICATION_INTERVAL.to_owned(),
            "interval_length=1 makes it seconds: re-send after 30 minutes, as shipped",
        )];
        if let Some((host, probes)) = opts.max_ages {
            rewrites.push((
                SHIPPED_HOST_CHECK.to_owned(),
                SHIPPED_HOST_CHECK.replace("!1m!", &format!("!{host}!")),
                "a silent Pi is DOWN in seconds",
            ));
            for check in [SHIPPED_HAM_CHECK, SHIPPED_OVEN_CHECK] {
                rewrites.push((
                    check.to_owned(),
                    check.replace("!2m!", &format!("!{probes}!")),
                    "a probe is stale in seconds, still after the host",
                ));
            }
        }
        rewrites
    }

    fn write_exporter_config(&self) {
        let config = format!(
            "# pi-probe-exporter for the ham story (see tests/support/story.rs)\n\
             [graphite]\n\
             prefix = \"{SHIPPED_PREFIX}\"\n\
             backoff_max = \"{backoff}\"\n\n\
             [probes]\n\
             \"{HAM_ID}\" = \"ham\"\n\
             \"{OVEN_ID}\" = \"oven\"\n\n\
             [health]\n\
             interval = \"{health}\"\n",
            backoff = self.opts.backoff_max,
            health = self.opts.health_interval,
        );
        fs::write(self.exporter_config(), config).expect("write the exporter config");
    }

    fn exporter_config(&self) -> PathBuf {
        self.dir.path().join("pi-probe-exporter.toml")
    }

    fn exporter_bin(&self) -> PathBuf {
        self.opts.bin_dir.join("pi-probe-exporter")
    }

    /// The simulated 1-wire tree (what `/sys/bus/w1/devices` is on a Pi).
    #[must_use]
    pub fn w1_dir(&self) -> PathBuf {
        self.dir.path().join("w1")
    }

    /// The exporter's spool.
    #[must_use]
    pub fn spool_dir(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    /// The story's temp dir.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Unix time when the story began (before Graphite started).
    #[must_use]
    pub fn started_at(&self) -> i64 {
        self.started_at
    }

    /// The options it runs with.
    #[must_use]
    pub fn options(&self) -> &StoryOptions {
        &self.opts
    }

    /// resource.cfg's `$USERn$` values, by name (`USER5`: the key).
    #[must_use]
    pub fn users(&self) -> &BTreeMap<String, String> {
        &self.users
    }

    fn simulate(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new(self.exporter_bin())
            .arg("simulate")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run pi-probe-exporter simulate: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text.trim().to_owned())
        } else {
            Err(format!(
                "pi-probe-exporter simulate {args:?} failed ({}): {text}",
                output.status
            ))
        }
    }

    /// `pi-probe-exporter simulate set --probe <id> --celsius <c>`: the
    /// probe reads `celsius` (quantised to 1/16 °C) until changed.
    pub fn set_probe(&self, id: &str, celsius: f64) {
        let w1 = self.w1_dir().display().to_string();
        let c = celsius.to_string();
        self.simulate(&["set", "--w1-dir", &w1, "--probe", id, "--celsius", &c])
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// `pi-probe-exporter simulate remove`: the probe is unplugged.
    pub fn remove_probe(&self, id: &str) {
        let w1 = self.w1_dir().display().to_string();
        self.simulate(&["remove", "--w1-dir", &w1, "--probe", id])
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Runs `pi-probe-exporter simulate --scenario ham --at <at> --speed
    /// <speed>` (the ham roasting, `speed` simulated seconds a second)
    /// until [`Story::stop_simulator`].
    pub fn start_ham_roast(&mut self, at: &str, speed: f64) {
        self.stop_simulator();
        let mut command = ServiceProcess::command(self.exporter_bin());
        command
            .arg("simulate")
            .arg("--w1-dir")
            .arg(self.w1_dir())
            .args(["--scenario", "ham", "--at", at, "--speed"])
            .arg(speed.to_string());
        self.simulator = Some(ServiceProcess::spawn(
            "simulate --scenario ham",
            command,
            &self.dir.path().join("simulate.log"),
        ));
    }

    /// Stops the scenario simulator; the probes keep their last reading.
    pub fn stop_simulator(&mut self) {
        if let Some(mut simulator) = self.simulator.take() {
            simulator.stop();
        }
    }

    /// Whether the simulator still runs.
    pub fn simulator_running(&mut self) -> bool {
        self.simulator
            .as_mut()
            .is_some_and(|s| s.exit_status().is_none())
    }

    /// Starts `pi-probe-exporter` on the simulated tree, sending to carbon.
    pub fn start_exporter(&mut self) {
        assert!(self.exporter.is_none(), "the exporter already runs");
        let mut command = ServiceProcess::command(self.exporter_bin());
        command
            .arg("--config")
            .arg(self.exporter_config())
            .arg("--w1-dir")
            .arg(self.w1_dir())
            .arg("--spool-dir")
            .arg(self.spool_dir())
            .arg("--graphite")
            .arg(self.graphite.carbon_addr().to_string())
            .args(["--interval", "1s", "--assume-clock-synced", "--listen"])
            .arg(self.metrics_port.to_string());
        self.exporter = Some(ServiceProcess::spawn(
            "pi-probe-exporter",
            command,
            &self.dir.path().join("exporter.log"),
        ));
    }

    /// Kills the exporter (SIGTERM to its process group, SIGKILL after a
    /// grace period): the Pi goes silent. It has no shutdown step.
    pub fn kill_exporter(&mut self) {
        if let Some(mut exporter) = self.exporter.take() {
            exporter.stop();
        }
    }

    /// The exporter's process, while it runs.
    pub fn exporter(&mut self) -> Option<&mut ServiceProcess> {
        self.exporter.as_mut()
    }

    /// The exporter's `/metrics` (`--listen`, on 127.0.0.1), if it answers.
    #[must_use]
    pub fn exporter_metrics(&self) -> Option<ExporterMetrics> {
        let url = format!("http://127.0.0.1:{}/metrics", self.metrics_port);
        let response = http::get(&url).ok()?;
        (response.status == 200).then(|| ExporterMetrics::parse(&response.body))
    }

    /// The Graphite the story runs.
    #[must_use]
    pub fn graphite(&self) -> &Graphite {
        &self.graphite
    }

    /// Carbon's line receiver, as the exporter is given it.
    #[must_use]
    pub fn carbon_addr(&self) -> SocketAddr {
        self.graphite.carbon_addr()
    }

    /// Stops carbon-cache: the Pi's network is gone (connection refused).
    pub fn stop_carbon(&mut self) {
        self.graphite.stop_carbon();
    }

    /// Starts carbon-cache again on the same port and storage.
    pub fn start_carbon(&mut self) {
        self.graphite.start_carbon();
    }

    /// The non-null points of `<prefix>.<path>` since the story began; none
    /// while graphite-web refuses a series carbon is still creating (its
    /// callers poll).
    #[must_use]
    pub fn points(&self, path: &str) -> Vec<(i64, f64)> {
        let metric = format!("{SHIPPED_PREFIX}.{path}");
        self.graphite
            .try_points(&metric, self.started_at - 1, unix_now() + 1)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(ts, v)| v.map(|v| (ts, v)))
            .collect()
    }

    /// Graphite has what the shipped checks need to judge a healthy Pi from
    /// the first check: both probes' readings and two heartbeats (the rate
    /// check needs two points for a slope).
    #[must_use]
    pub fn heartbeat_ready(&self) -> bool {
        ["ham", "oven"]
            .iter()
            .all(|probe| !self.points(probe).is_empty())
            && [
                "exporter.send.sent",
                "exporter.probe.ham.readings_rejected",
                "exporter.probe.oven.readings_rejected",
            ]
            .iter()
            .all(|path| self.points(path).len() >= 2)
    }

    /// Adds an object file beside the staged configuration, for Nagios to
    /// load when it starts (the demo's security shift adds
    /// `nagios-config/security/` files and its own hosts this way).
    pub fn add_objects(&self, name: &str, text: &str) {
        assert!(self.nagios.is_none(), "add objects before start_nagios");
        fs::write(self.objects.join(name), text)
            .unwrap_or_else(|e| panic!("write {name} into the staged objects: {e}"));
    }

    /// Sets a `$USERn$` macro of resource.cfg (before Nagios starts).
    pub fn set_user(&mut self, key: &str, value: String) {
        assert!(self.nagios.is_none(), "set $USERn$ before start_nagios");
        self.users.insert(key.to_owned(), value);
    }

    /// `service` of `host` in status.dat, once it has been checked.
    #[must_use]
    pub fn service_of(&self, host: &str, service: &str) -> Option<ServiceStatus> {
        self.nagios
            .as_ref()?
            .status()
            .into_iter()
            .find(|s| s.host_name == host && s.service_description == service && s.has_been_checked)
    }

    /// `hoststatus` fields of any host.
    #[must_use]
    pub fn host_of(&self, host: &str) -> Option<BTreeMap<String, String>> {
        host_status(self.nagios.as_ref()?, host)
    }

    /// Verifies and starts Nagios over the staged configuration.
    pub fn start_nagios(&mut self) {
        assert!(self.nagios.is_none(), "Nagios already runs");
        self.nagios = Some(start_nagios(&self.objects, &self.users, &[]));
    }

    /// Stops Nagios (no more checks, no more pages).
    pub fn stop_nagios(&mut self) {
        self.nagios = None;
    }

    /// The running Nagios.
    #[must_use]
    pub fn nagios(&self) -> &Nagios {
        self.nagios.as_ref().expect("start_nagios first")
    }

    /// The staged object directory.
    #[must_use]
    pub fn objects(&self) -> &Path {
        &self.objects
    }

    /// `service` of christmas-pi in status.dat, once it has been checked.
    #[must_use]
    pub fn service(&self, service: &str) -> Option<ServiceStatus> {
        self.service_of(HOST, service)
    }

    /// christmas-pi's `hoststatus` fields.
    #[must_use]
    pub fn host(&self) -> Option<BTreeMap<String, String>> {
        self.host_of(HOST)
    }

    /// Every page so far, oldest first; `Err` if Nagios called a stand-in
    /// in a way the real script refuses.
    pub fn pages(&self) -> Result<Vec<Page>, String> {
        self.pager.events().iter().map(Page::from_event).collect()
    }

    /// The pager stand-ins.
    #[must_use]
    pub fn pager(&self) -> &Pager {
        &self.pager
    }

    /// Every service's logs, for a failure report.
    #[must_use]
    pub fn logs(&self) -> String {
        let mut text = String::new();
        if let Some(nagios) = &self.nagios {
            text.push_str(&nagios.logs());
        }
        for process in [&self.exporter, &self.simulator].into_iter().flatten() {
            text.push_str(&process.logs());
        }
        text.push_str(&self.graphite.logs());
        text
    }
}

/// Seconds since the epoch, fractional: to compare with [`Page::at`].
#[must_use]
pub fn unix_now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prometheus_text() {
        let metrics = ExporterMetrics::parse(
            "# HELP pi_probe_exporter_readings_ok_total x\n\
             pi_probe_exporter_readings_ok_total{probe=\"ham\",id=\"28-1\"} 12\n\
             pi_probe_exporter_readings_ok_total{probe=\"oven\",id=\"28-2\"} 11\n\
             pi_probe_exporter_readings_rejected_total{probe=\"ham\",id=\"28-1\",reason=\"crc\"} 2\n\
             pi_probe_exporter_readings_rejected_total{probe=\"ham\",id=\"28-1\",reason=\"no_t\"} 1\n\
             pi_probe_exporter_spool_readings 0\n",
        );
        assert_eq!(metrics.get("readings_ok_total", Some("ham")), Some(12.0));
        assert_eq!(metrics.get("readings_ok_total", None), Some(23.0));
        assert_eq!(
            metrics.get("readings_rejected_total", Some("ham")),
            Some(3.0)
        );
        assert_eq!(metrics.get("spool_readings", None), Some(0.0));
        assert_eq!(metrics.get("spool_dropped_total", None), None);
    }

    #[test]
    fn pages_strip_what_nagios_strips() {
        assert_eq!(
            as_paged("GRAPHITE CRITICAL: ham 141.8°F > 140 <x> 'y' \"z\""),
            "GRAPHITE CRITICAL: ham 141.8°F  140 x y z"
        );
    }

    #[test]
    fn the_rewrites_keep_the_host_stale_before_the_probes() {
        let opts = StoryOptions::for_test(PathBuf::from("/nonexistent"));
        let rewrites = Story::rewrites(&opts);
        assert_eq!(rewrites.len(), 4, "{rewrites:#?}");
        assert!(rewrites[1].1.contains("!10s!exporter"), "{rewrites:#?}");
        assert!(rewrites[2].1.ends_with("!20s!"), "{rewrites:#?}");
        let plain = StoryOptions {
            max_ages: None,
            ..opts
        };
        assert_eq!(Story::rewrites(&plain).len(), 1);
    }
}
