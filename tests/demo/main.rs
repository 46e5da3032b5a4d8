//! `nightwatch-demo`: the ham story end to end on loopback, printed as a
//! timeline of the `PagerDuty` events Nagios would send. `scripts/demo` runs
//! it after a release build (and `scripts/setup` when something is missing).
//!
//! Simulated probes (`pi-probe-exporter simulate`: the ham roasting 30×
//! faster than real time, the oven probe pinned at its 125 °C limit) →
//! `pi-probe-exporter` → carbon-cache + graphite-web → Nagios 4 running
//! nagios-config/ as shipped (see tests/support/story.rs for the few
//! rewrites and why) → the `pd-nagios` stand-in. In the middle the Pi's
//! Wi-Fi drops for 20 s (carbon-cache stopped); at the end the exporter's
//! count of readings taken is compared with the points Graphite stored.
//!
//! Everything it starts runs as a child under a parent-death signal, in its
//! own process group (Nagios in its own PID namespace), so nothing outlives
//! the demo, even if it is killed. With `--stop-on-stdin-eof` (what
//! `scripts/demo` passes, keeping the other end of a pipe) it also stops
//! cleanly when stdin closes: every service is stopped and the temp dir
//! removed. `scripts/demo` closes it on Ctrl-C. Run by hand without the
//! flag, Ctrl-C kills the demo and its services die with it; its temp dir
//! under `$TMPDIR/nightwatch-testkit` is swept by the next run.
//!
//! Usage: `nightwatch-demo [--bin-dir DIR] [--stop-on-stdin-eof]`; DIR holds
//! check-graphite and pi-probe-exporter (default: this binary's directory).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod security;

use security::SecurityShift;

use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};
use nightwatch_testkit::story::{
    ExporterMetrics, HAM_ID, OVEN_ID, PROBE_LIMIT_C, Page, Story, StoryOptions, fahrenheit,
};
use nightwatch_testkit::{ServiceProcess, State, unix_now};

/// Set when stdin closes (with `--stop-on-stdin-eof`).
static STOP: AtomicBool = AtomicBool::new(false);

/// Simulated seconds per real second while the ham roasts.
const SPEED: f64 = 30.0;
/// Where the roast starts: 3 h 10 min into 4 h, 133.7 °F; it passes 135 °F
/// about 14 s later and 140 °F about 72 s later (at 30×).
const ROAST_AT: &str = "3h10m";
/// The Wi-Fi drops when the ham reaches this, so that it crosses 140 °F
/// while the Pi is offline.
const DROP_AT_F: f64 = 139.0;
const DROP_FOR: Duration = Duration::from_secs(20);
/// Resting ham, after it comes out of the oven.
const RESTING_C: f64 = 54.0;
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
const TICK: Duration = Duration::from_millis(250);

enum Halt {
    Interrupted,
    Failed(String),
}

struct Demo {
    story: Story,
    shift: Option<SecurityShift>,
    t0: Instant,
    t0_unix: f64,
    pages_shown: usize,
}

fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    format!("+{}:{:02}", s / 60, s % 60)
}

fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

fn page_line(page: &Page, t0_unix: f64) -> String {
    let at = Duration::from_secs_f64((page.at - t0_unix).max(0.0));
    format!(
        "[{}]  PAGE  {:<9} {:<18} {:<9} {}",
        elapsed(at),
        page.kind,
        page.subject(),
        page.state,
        page.output
    )
}

impl Demo {
    fn say(&self, text: &str) {
        out(&format!("[{}]  {text}", elapsed(self.t0.elapsed())));
    }

    /// Time since the demo started of a unix timestamp.
    fn since_t0(&self, ts: i64) -> Duration {
        #[allow(clippy::cast_precision_loss)] // timestamps are far below 2^52
        Duration::from_secs_f64((ts as f64 - self.t0_unix).max(0.0))
    }

    fn latest(&self, path: &str) -> Option<f64> {
        self.story.points(path).last().map(|&(_, v)| v)
    }

    fn metrics(&self) -> ExporterMetrics {
        self.story.exporter_metrics().unwrap_or_default()
    }

    fn nagios_state(&self, service: &str) -> String {
        self.story.service(service).map_or_else(
            || "not checked yet".to_owned(),
            |s| {
                format!(
                    "{} {:?}",
                    s.current_state.map_or("?", State::as_str),
                    s.state_type
                )
                .to_uppercase()
            },
        )
    }

    fn ham_status(&self) -> String {
        let graphite = self
            .latest("ham")
            .map_or_else(|| "no reading yet".to_owned(), |v| format!("{v:.1} °F"));
        let probe = self
            .metrics()
            .get("temperature_celsius", Some("ham"))
            .map_or_else(String::new, |c| format!(", probe {:.1} °F", fahrenheit(c)));
        let nagios = if self.story.service("ham").is_some() {
            format!(", Nagios ham {}", self.nagios_state("ham"))
        } else {
            String::new()
        };
        format!("ham in Graphite {graphite}{probe}{nagios}")
    }

    /// Prints pages recorded since the last call.
    fn show_new_pages(&mut self) -> Result<(), Halt> {
        let pages = self.story.pages().map_err(Halt::Failed)?;
        for page in pages.iter().skip(self.pages_shown) {
            out(&page_line(page, self.t0_unix));
        }
        self.pages_shown = pages.len();
        Ok(())
    }

    fn check_services(&mut self) -> Result<(), Halt> {
        if let Some(status) = self.story.exporter().and_then(ServiceProcess::exit_status) {
            return Err(Halt::Failed(format!("pi-probe-exporter exited ({status})")));
        }
        Ok(())
    }

    /// Polls `probe` until it yields, printing new pages as they come and a
    /// progress line (`what`, and `status`) every few seconds.
    fn wait_for<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        status: impl Fn(&Demo) -> String,
        mut probe: impl FnMut(&mut Demo) -> Option<T>,
    ) -> Result<T, Halt> {
        let start = Instant::now();
        let mut next_progress = start + PROGRESS_EVERY;
        loop {
            if STOP.load(Ordering::Relaxed) {
                return Err(Halt::Interrupted);
            }
            self.show_new_pages()?;
            self.check_services()?;
            if let Some(value) = probe(self) {
                self.show_new_pages()?;
                return Ok(value);
            }
            let now = Instant::now();
            if now.duration_since(start) > timeout {
                return Err(Halt::Failed(format!(
                    "{what}: not within {}s ({})",
                    timeout.as_secs(),
                    status(self)
                )));
            }
            if now >= next_progress {
                self.say(&format!("  … waiting for {what}: {}", status(self)));
                next_progress += PROGRESS_EVERY;
            }
            std::thread::sleep(TICK);
        }
    }

    fn pause(
        &mut self,
        what: &str,
        d: Duration,
        status: impl Fn(&Demo) -> String,
    ) -> Result<(), Halt> {
        let until = Instant::now() + d;
        self.wait_for(what, d + Duration::from_secs(5), status, |_| {
            (Instant::now() >= until).then_some(())
        })
    }

    fn page_of(&self, subject: &str, kind: &str, state: &str) -> Option<Page> {
        self.story
            .pages()
            .ok()?
            .into_iter()
            .find(|p| p.subject() == subject && p.kind == kind && p.state == state)
    }
}

struct Args {
    bin_dir: PathBuf,
    stop_on_stdin_eof: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut bin_dir = None;
    let mut stop_on_stdin_eof = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bin-dir" => bin_dir = Some(PathBuf::from(args.next().ok_or("--bin-dir DIR")?)),
            "--stop-on-stdin-eof" => stop_on_stdin_eof = true,
            "-h" | "--help" => {
                return Err(String::new());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let bin_dir = match bin_dir {
        Some(dir) => dir,
        None => std::env::current_exe()
            .map_err(|e| format!("current_exe: {e}"))?
            .parent()
            .ok_or("this binary has no directory")?
            .to_owned(),
    };
    Ok(Args {
        bin_dir,
        stop_on_stdin_eof,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("nightwatch-demo: {error}");
            }
            eprintln!("usage: nightwatch-demo [--bin-dir DIR] [--stop-on-stdin-eof]");
            return ExitCode::from(2);
        }
    };
    if args.stop_on_stdin_eof {
        std::thread::spawn(|| {
            // Nothing is ever written: only the end of the pipe matters.
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            STOP.store(true, Ordering::Relaxed);
        });
    }
    let t0 = Instant::now();
    let result = run(&args, t0);
    remove_own_scratch_dirs();
    let stopped = elapsed(t0.elapsed());
    match result {
        Ok(()) => {
            out(&format!(
                "[{stopped}]  stopped everything it started (Nagios, exporter, simulator, carbon-cache, graphite-web, OpenSearch, nginx, gnutls-serv) and removed its temp dir"
            ));
            ExitCode::SUCCESS
        }
        Err(Halt::Interrupted) => {
            out(&format!(
                "[{stopped}]  interrupted: stopped everything it started and removed its temp dir"
            ));
            ExitCode::from(130)
        }
        Err(Halt::Failed(why)) => {
            out(&format!("[{stopped}]  DEMO FAILED: {why}"));
            out("stopped everything it started");
            ExitCode::FAILURE
        }
    }
}

/// Removes what is left of this process under `$TMPDIR/nightwatch-testkit`
/// (the harness names its scratch dirs `p<pid>-…`): Graphite's template
/// database lives in a `static` and is never dropped.
fn remove_own_scratch_dirs() {
    let base = std::env::temp_dir().join("nightwatch-testkit");
    let prefix = format!("p{}-", std::process::id());
    for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            // Best effort: what stays is swept by the next run.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The story; everything it started is stopped when its `Story` drops,
/// which happens here on every path out, failures and Ctrl-C included.
fn run(args: &Args, t0: Instant) -> Result<(), Halt> {
    out("nightwatch demo: the Christmas ham, end to end, on 127.0.0.1 only");
    out("  simulated DS18B20 probes -> pi-probe-exporter -> carbon-cache + graphite-web");
    out("  -> Nagios 4 running nagios-config/ -> the PagerDuty events it would send;");
    out("  then the security shift in the same Nagios: TLS policy, CloudTrail in OpenSearch,");
    out("  an approved change window's downtime and an unplanned change");
    out("");
    let opts = StoryOptions {
        bin_dir: args.bin_dir.clone(),
        max_ages: None,
        health_interval: "2s",
        backoff_max: "2s",
    };
    let t0_unix = nightwatch_testkit::story::unix_now_f64() - t0.elapsed().as_secs_f64();
    out(&format!(
        "[{}]  starting Graphite (carbon-cache + graphite-web)",
        elapsed(t0.elapsed())
    ));
    // OpenSearch takes the longest to start: boot it beside Graphite.
    out(&format!(
        "[{}]  starting OpenSearch 2 for the security shift, beside Graphite",
        elapsed(t0.elapsed())
    ));
    let opensearch = std::thread::spawn(|| {
        std::panic::catch_unwind(|| SearchNode::shared(SearchFlavor::OpenSearch2).url()).is_ok()
    });
    let story = Story::new(opts);
    if !opensearch.join().unwrap_or(false) {
        return Err(Halt::Failed(
            "OpenSearch 2 did not start: run scripts/setup (scripts/setup-search-nodes)".into(),
        ));
    }
    let mut demo = Demo {
        story,
        shift: None,
        t0,
        t0_unix,
        pages_shown: 0,
    };
    let result = the_story(&mut demo);
    // Logs help only when something went wrong; the temp dir goes.
    if let Err(Halt::Failed(why)) = &result {
        let path = std::env::temp_dir().join("nightwatch-demo-failure.log");
        let text = format!("{why}\n\n{}", demo.story.logs());
        match std::fs::write(&path, text) {
            Ok(()) => demo.say(&format!("the services' logs are in {}", path.display())),
            Err(e) => demo.say(&format!("cannot write {}: {e}", path.display())),
        }
    }
    drop(demo);
    result
}

#[allow(clippy::too_many_lines)] // one story, told in order
fn the_story(demo: &mut Demo) -> Result<(), Halt> {
    demo.say(&format!(
        "Graphite ready: {} (carbon {})",
        demo.story.graphite().url(),
        demo.story.carbon_addr()
    ));
    demo.say(
        "nagios-config/ as shipped, except: $USER1$/$USER2$/$USER4$ (plugin dir, Graphite, \
         password file), pd-nagios -> a stand-in that records each event,",
    );
    demo.say(
        "  interval_length=1 (checks every second, not minute), notification_interval \
         30 -> 1800 (still 30 minutes)",
    );

    let bin_dir = demo.story.options().bin_dir.clone();
    let shift = SecurityShift::prepare(&mut demo.story, &bin_dir).map_err(Halt::Failed)?;
    demo.shift = Some(shift);
    demo.say(
        "security shift staged beside the ham: nagios-config/security/cloudtrail.cfg and \
         change-window.cfg as shipped ($USER6$ the demo's OpenSearch, $USER9$ its change records), \
         web01's HTTPS on the demo's nginx, and web02",
    );

    demo.story.set_probe(OVEN_ID, PROBE_LIMIT_C);
    demo.say("oven preheated to 180 °C: its DS18B20 reads its limit, 125 °C (257 °F)");
    demo.story.start_ham_roast(ROAST_AT, SPEED);
    demo.say(&format!(
        "ham in the oven: {ROAST_AT} into a 4 h roast (simulate --scenario ham --speed {SPEED}: \
         1 s here is {SPEED} s of cooking)"
    ));
    demo.story.start_exporter();
    demo.say("pi-probe-exporter started: a reading a second per probe, spooled to disk first");
    demo.wait_for(
        "the exporter's first readings and heartbeats in Graphite",
        Duration::from_secs(40),
        Demo::ham_status,
        |d| d.story.heartbeat_ready().then_some(()),
    )?;
    demo.story.start_nagios();
    demo.say(
        "Nagios 4 started: ham WARNING above 135 °F, CRITICAL above 140 °F, each HARD (paged) \
         after 3 checks",
    );

    let warning = demo.wait_for(
        "the ham to pass 135 °F (WARNING)",
        Duration::from_mins(1),
        Demo::ham_status,
        |d| d.page_of("christmas-pi/ham", "PROBLEM", "WARNING"),
    )?;
    drop(warning);
    demo.wait_for(
        &format!("the ham to reach {DROP_AT_F} °F"),
        Duration::from_secs(90),
        Demo::ham_status,
        |d| d.latest("ham").filter(|&v| v >= DROP_AT_F),
    )?;

    // The Wi-Fi drops.
    let before = demo.metrics();
    let sent_before = before.get("sent_total", None).unwrap_or_default();
    demo.story.stop_carbon();
    let dropped_at = Instant::now();
    demo.say(&format!(
        "Wi-Fi drops for {} s (carbon-cache stopped): the exporter keeps reading into its spool",
        DROP_FOR.as_secs()
    ));
    let drop_start = unix_now();
    demo.pause(
        "the Wi-Fi to come back",
        DROP_FOR.saturating_sub(dropped_at.elapsed()),
        |d| {
            let m = d.metrics();
            format!(
                "{:.0} readings queued in the spool, probe ham {:.1} °F; newest ham in Graphite {:.1} °F",
                m.get("spool_readings", None).unwrap_or_default(),
                m.get("temperature_celsius", Some("ham"))
                    .map_or(f64::NAN, fahrenheit),
                d.latest("ham").unwrap_or(f64::NAN)
            )
        },
    )?;
    let backlog = demo
        .metrics()
        .get("spool_readings", None)
        .unwrap_or_default();
    demo.story.start_carbon();
    let drop_end = unix_now();
    demo.say(&format!(
        "Wi-Fi back after {:.0} s (carbon-cache started): {backlog:.0} readings to send, those taken \
         offline and, again, the minute before (carbon acknowledges nothing)",
        dropped_at.elapsed().as_secs_f64()
    ));
    demo.wait_for(
        "the exporter to reconnect and empty its spool",
        Duration::from_secs(30),
        |d| {
            let m = d.metrics();
            format!(
                "{:.0} readings in the spool, connected {:.0}",
                m.get("spool_readings", None).unwrap_or(f64::NAN),
                m.get("connected", None).unwrap_or(f64::NAN)
            )
        },
        |d| {
            let m = d.metrics();
            (m.get("connected", None) == Some(1.0)
                && m.get("spool_readings", None) == Some(0.0)
                && m.get("sent_total", None).unwrap_or_default() > sent_before)
                .then_some(())
        },
    )?;
    demo.say("spool replayed: every reading taken offline is in Graphite at its own time");

    let critical = demo.wait_for(
        "the ham to pass 140 °F (CRITICAL)",
        Duration::from_mins(1),
        Demo::ham_status,
        |d| d.page_of("christmas-pi/ham", "PROBLEM", "CRITICAL"),
    )?;
    drop(critical);
    if let Some((ts, v)) = demo
        .story
        .points("ham")
        .into_iter()
        .find(|&(_, v)| v > 140.0)
    {
        let when = if (drop_start..=drop_end).contains(&ts) {
            "while the Wi-Fi was down: it reached Graphite from the spool"
        } else {
            "with the Wi-Fi up"
        };
        demo.say(&format!(
            "the first reading above 140 °F ({v:.1} °F) was taken at {}, {when}",
            elapsed(demo.since_t0(ts))
        ));
    }

    demo.pause(
        "the cook to take the ham out",
        Duration::from_secs(3),
        Demo::ham_status,
    )?;
    demo.story.stop_simulator();
    demo.story.set_probe(HAM_ID, RESTING_C);
    demo.say(&format!(
        "ham out of the oven, resting at {RESTING_C} °C ({:.1} °F)",
        fahrenheit(RESTING_C)
    ));
    demo.wait_for(
        "the ham to recover",
        Duration::from_secs(30),
        Demo::ham_status,
        |d| d.page_of("christmas-pi/ham", "RECOVERY", "OK"),
    )?;
    demo.pause("any late page", Duration::from_secs(3), Demo::ham_status)?;
    security_shift(demo)?;
    let pages = demo.story.pages().map_err(Halt::Failed)?;

    // Dinner: the probes are unplugged, so the exporter stops taking
    // readings and its count is final. Nagios stops first: it would page
    // the vanished probes.
    demo.story.stop_nagios();
    demo.story.remove_probe(HAM_ID);
    demo.story.remove_probe(OVEN_ID);
    demo.say("dinner: Nagios stopped, both probes unplugged; counting the readings");
    let final_metrics = demo.wait_for(
        "the exporter's counts to settle and its spool to empty",
        Duration::from_secs(20),
        |d| {
            format!(
                "{:.0} readings in the spool",
                d.metrics().get("spool_readings", None).unwrap_or(f64::NAN)
            )
        },
        |d| {
            let a = d.metrics();
            std::thread::sleep(Duration::from_millis(1500));
            let b = d.metrics();
            (a.get("spool_readings", None) == Some(0.0)
                && a.get("readings_ok_total", None) == b.get("readings_ok_total", None)
                && b.get("readings_ok_total", None).is_some())
            .then_some(b)
        },
    )?;
    // Graphite shows a point about a second after it arrives.
    demo.pause(
        "Graphite to show the last points",
        Duration::from_secs(2),
        |_| String::new(),
    )?;

    summary(demo, &pages, &final_metrics)
}

/// The TLS policy check, a `CloudTrail` page and a change window, told
/// after the ham (Nagios has been checking all of them since it started).
fn security_shift(demo: &mut Demo) -> Result<(), Halt> {
    // Owned here, so the waits may borrow the demo; put back at the end so
    // its servers live until the demo stops.
    let mut shift = demo.shift.take().expect("prepared before Nagios started");
    demo.say(
        "security shift: the same Nagios watches CloudTrail, change windows and web01's HTTPS",
    );
    tls_act(demo, &shift)?;
    cloudtrail_act(demo, &shift)?;
    change_window_act(demo, &mut shift)?;
    demo.shift = Some(shift);
    Ok(())
}

fn tls_act(demo: &Demo, shift: &SecurityShift) -> Result<(), Halt> {
    let compliant = shift.check_compliant();
    demo.say(&format!(
        "  nginx (Mozilla intermediate): {}",
        compliant.first_line()
    ));
    let legacy = shift.check_legacy();
    demo.say(&format!(
        "  gnutls-serv from 2015, in its own network namespace: {}",
        legacy.first_line()
    ));
    for line in legacy.stdout().lines().skip(1).take(3) {
        demo.say(&format!("      {line}"));
    }
    if compliant.state() != State::Ok || legacy.state() != State::Critical {
        return Err(Halt::Failed(format!(
            "TLS: nginx {:?} (expected OK), legacy gnutls-serv {:?} (expected CRITICAL)",
            compliant.state(),
            legacy.state()
        )));
    }
    Ok(())
}

fn cloudtrail_act(demo: &mut Demo, shift: &SecurityShift) -> Result<(), Halt> {
    shift.open_ssh_to_the_world();
    demo.say(
        "CloudTrail: alice runs AuthorizeSecurityGroupIngress, tcp 22 from 0.0.0.0/0; \
         the event lands in OpenSearch",
    );
    demo.wait_for(
        "Nagios to page about the security group",
        Duration::from_secs(40),
        |_| String::new(),
        |d| {
            d.page_of(
                "aws-account/cloudtrail security groups",
                "PROBLEM",
                "CRITICAL",
            )
        },
    )?;

    Ok(())
}

fn change_window_act(demo: &mut Demo, shift: &mut SecurityShift) -> Result<(), Halt> {
    let nagios = demo.story.nagios();
    let scheduled = shift
        .schedule_downtime(&nagios.command_file(), &nagios.dir().join("status.dat"))
        .map_err(Halt::Failed)?;
    demo.say(&format!(
        "{} (approved by bob, plan unchanged since) becomes downtime: check-change-window schedule \
         (the shipped cron line) says: {}",
        security::CHANGE_ID,
        scheduled.lines().next().unwrap_or_default()
    ));
    demo.wait_for(
        "web01's downtime to start",
        Duration::from_secs(20),
        |_| String::new(),
        |d| {
            d.story
                .host_of("web01")
                .and_then(|h| h.get("scheduled_downtime_depth").cloned())
                .filter(|depth| depth != "0")
        },
    )?;
    shift.observe_restart("web01", "alice", "systemctl restart nginx (CMB-7)");
    shift.stop_nginx();
    demo.say("planned: alice stops web01's nginx for the restart (CMB-7's window)");
    let https = |d: &Demo| {
        d.story
            .service_of("web01", "https")
            .map_or_else(|| "not checked".into(), |s| s.plugin_output)
    };
    demo.wait_for(
        "web01's https to be a HARD CRITICAL",
        Duration::from_secs(30),
        https,
        |d| {
            d.story.service_of("web01", "https").filter(|s| {
                s.current_state == Some(State::Critical)
                    && s.state_type == nightwatch_testkit::StateType::Hard
            })
        },
    )?;
    demo.say("  web01 https is CRITICAL (HARD) inside the downtime: no page");
    shift.start_nginx();
    demo.wait_for(
        "web01's https to recover",
        Duration::from_secs(30),
        https,
        |d| {
            d.story
                .service_of("web01", "https")
                .filter(|s| s.current_state == Some(State::Ok))
        },
    )?;
    demo.say("  nginx back: web01 https OK again, still no page");

    shift.observe_restart("web02", "mallory", "systemctl restart postgresql");
    demo.say("unplanned: mallory restarts postgresql on web02, which has no approved change");
    demo.wait_for(
        "Nagios to page about web02's unplanned change",
        Duration::from_secs(40),
        |_| String::new(),
        |d| d.page_of("web02/observed changes", "PROBLEM", "CRITICAL"),
    )?;
    Ok(())
}

fn summary(demo: &Demo, pages: &[Page], metrics: &ExporterMetrics) -> Result<(), Halt> {
    let mut problems = Vec::new();
    out("");
    out(&format!(
        "PagerDuty events Nagios sent (pd-nagios stand-in, {} calls):",
        pages.len()
    ));
    for page in pages {
        out(&format!("  {}", page_line(page, demo.t0_unix)));
    }
    let expected = [
        ("christmas-pi/oven", "PROBLEM", "UNKNOWN"),
        ("christmas-pi/ham", "PROBLEM", "WARNING"),
        ("christmas-pi/ham", "PROBLEM", "CRITICAL"),
        ("christmas-pi/ham", "RECOVERY", "OK"),
        (
            "aws-account/cloudtrail security groups",
            "PROBLEM",
            "CRITICAL",
        ),
        ("web02/observed changes", "PROBLEM", "CRITICAL"),
    ];
    for (subject, kind, state) in expected {
        let n = pages
            .iter()
            .filter(|p| p.subject() == subject && p.kind == kind && p.state == state)
            .count();
        if n != 1 {
            problems.push(format!(
                "{n} {kind} {state} pages for {subject}, expected 1"
            ));
        }
    }
    if pages.len() != expected.len() {
        problems.push(format!(
            "{} pages, expected {}",
            pages.len(),
            expected.len()
        ));
    }
    if let Some(web01) = pages.iter().find(|p| p.host == "web01") {
        problems.push(format!(
            "web01 paged during its approved downtime: {}",
            web01.output
        ));
    }
    if let Some(cold) = pages.iter().find(|p| p.output.contains("below")) {
        problems.push(format!("a too-cold page: {}", cold.output));
    }

    out("");
    out("Readings over the demo (the exporter's count vs the points Graphite stored):");
    for probe in ["ham", "oven"] {
        let taken = metrics
            .get("readings_ok_total", Some(probe))
            .unwrap_or_default();
        let stored = demo.story.points(probe).len() as f64;
        let saturated = metrics
            .get("saturated_total", Some(probe))
            .unwrap_or_default();
        let mut line = format!(
            "  {probe:<5} taken {taken:>4.0}   in Graphite {stored:>4.0}   lost {:>2.0}",
            taken - stored
        );
        if saturated > 0.0 {
            let _ = write!(
                line,
                "   ({saturated:.0} at the probe's limit, counted as saturated)"
            );
        }
        out(&line);
        if (taken - stored).abs() > 0.5 || taken < 1.0 {
            problems.push(format!(
                "{probe}: {taken} readings taken, {stored} in Graphite"
            ));
        }
    }
    let dropped = metrics.get("spool_dropped_total", None).unwrap_or_default();
    let errors = metrics.get("send_errors_total", None).unwrap_or_default();
    out(&format!(
        "  spool: {dropped:.0} readings dropped by its cap; {errors:.0} failed connects while the Wi-Fi was down"
    ));
    if dropped > 0.0 {
        problems.push(format!("{dropped} readings dropped by the spool cap"));
    }
    if pages.iter().all(|p| p.service.is_some()) {
        out("  host christmas-pi: no page (a 20 s drop is under the shipped 1-minute max age)");
    }
    out("");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Halt::Failed(problems.join("; ")))
    }
}
