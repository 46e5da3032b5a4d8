//! The ham story, end to end: simulated probes (`pi-probe-exporter
//! simulate set`) → `pi-probe-exporter` → a real Graphite → a real Nagios 4
//! running nagios-config/ as shipped → the `pd-nagios` stand-in, which
//! records every `PagerDuty` event. tests/support/story.rs sets it up and
//! lists, with reasons, the few things it changes in the shipped config
//! (paths, `interval_length=1` with `notification_interval` scaled to keep
//! 30 minutes, and here shorter `--max-age`s: host 10 s, probes 20 s).
//!
//! - The ham goes OK → WARNING → CRITICAL → OK, driven by fixed probe
//!   values; each HARD change pages exactly once, with the right host,
//!   service, state and first line, and the cooled ham is a RECOVERY.
//! - A probe pinned at its 125 °C limit (the oven) pages its sensor fault
//!   (UNKNOWN), never "too cold".
//! - A killed exporter is a silent Pi: the host pages DOWN once, the ham
//!   reports that it is stale rather than a temperature, and no probe pages.

use std::time::Duration;

use nightwatch_testkit::process::poll_until;
use nightwatch_testkit::story::{
    HAM_ID, HOST, OVEN_ID, PROBE_LIMIT_C, Page, Story, StoryOptions, as_paged, unix_now_f64,
};
use nightwatch_testkit::{ServiceStatus, State, StateType};

use crate::nagios_config::plugin_dir;

const WAIT: Duration = Duration::from_secs(30);

// The exporter and Graphite are up and Graphite holds what the checks need
// before Nagios starts: a Pi that has been running a while.
fn running_pi(ham_celsius: f64, oven_celsius: f64) -> Story {
    let mut story = Story::new(StoryOptions::for_test(plugin_dir()));
    story.set_probe(HAM_ID, ham_celsius);
    story.set_probe(OVEN_ID, oven_celsius);
    story.start_exporter();
    if let Err(e) = poll_until("the exporter's readings and heartbeats", WAIT, || {
        story.heartbeat_ready().then_some(())
    }) {
        panic!("{e}\n{}", story.logs());
    }
    story.start_nagios();
    story
}

// Waits until christmas-pi/`service` is HARD in `state` and `done` accepts it.
fn wait_hard(
    story: &Story,
    service: &str,
    state: State,
    mut done: impl FnMut(&ServiceStatus) -> bool,
) -> ServiceStatus {
    story.nagios().wait_for_service(HOST, service, WAIT, |s| {
        s.state_type == StateType::Hard && s.current_state == Some(state) && done(s)
    })
}

// Waits for the `n`th page (1-based) about `subject` and returns it.
fn wait_page(story: &Story, subject: &str, n: usize) -> Page {
    let found = poll_until(&format!("page {n} about {subject}"), WAIT, || {
        let pages = story.pages().unwrap_or_else(|e| panic!("{e}"));
        pages
            .into_iter()
            .filter(|p| p.subject() == subject)
            .nth(n - 1)
    });
    found.unwrap_or_else(|e| {
        panic!(
            "{e}; pages so far: {:#?}\n{}",
            story.pages(),
            story.nagios().logs()
        )
    })
}

fn pages_about(story: &Story, subject: &str) -> Vec<Page> {
    story
        .pages()
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|p| p.subject() == subject)
        .collect()
}

// A page as expected: pd-nagios got the key from $USER5$, and the text is
// the plugin's first line as Nagios passes it on.
fn assert_page(story: &Story, page: &Page, kind: &str, state: &str, first_line: &str) {
    assert_eq!(
        (page.kind.as_str(), page.state.as_str(), page.host.as_str()),
        (kind, state, HOST),
        "{page:#?}"
    );
    assert_eq!(page.output, as_paged(first_line), "{page:#?}");
    assert_eq!(
        page.key,
        story.users()["USER5"],
        "the key comes from $USER5$"
    );
}

// Every page, (kind, state) in order, per subject; nothing else paged (the
// exporter's own services, a re-send).
fn assert_pages(story: &Story, expected: &[(&str, &[(&str, &str)])]) {
    let all = story.pages().unwrap_or_else(|e| panic!("{e}"));
    for (subject, pages) in expected {
        let got: Vec<(&str, &str)> = all
            .iter()
            .filter(|p| p.subject() == *subject)
            .map(|p| (p.kind.as_str(), p.state.as_str()))
            .collect();
        assert_eq!(got, *pages, "pages about {subject}: {all:#?}");
    }
    let count: usize = expected.iter().map(|(_, pages)| pages.len()).sum();
    assert_eq!(all.len(), count, "unexpected pages: {all:#?}");
}

#[test]
fn the_ham_story_pages_once_per_hard_change_and_a_silent_pi_once() {
    let started = std::time::Instant::now();
    let mut story = running_pi(50.0, PROBE_LIMIT_C);
    let ham = "christmas-pi/ham";

    // 50 °C: a ham that is cooking, and OK. Nagios starts in OK, so no page.
    let ok = wait_hard(&story, "ham", State::Ok, |s| {
        s.plugin_output.contains("ham 122.0°F")
    });
    assert_eq!(ok.plugin_output, "GRAPHITE OK: ham 122.0°F", "{ok:#?}");

    // The oven's probe sits at its limit from the start: its sensor fault
    // pages (UNKNOWN), not a cold oven.
    let oven = wait_hard(&story, "oven", State::Unknown, |_| true);
    assert_eq!(
        oven.plugin_output, "GRAPHITE UNKNOWN: oven probe reads 257.0°F, the edge of its range",
        "{oven:#?}"
    );
    let oven_page = wait_page(&story, "christmas-pi/oven", 1);
    assert_page(
        &story,
        &oven_page,
        "PROBLEM",
        "UNKNOWN",
        &oven.plugin_output,
    );

    // 58 °C = 136.4 °F: WARNING, HARD after three checks, one page.
    story.set_probe(HAM_ID, 58.0);
    let warning = wait_hard(&story, "ham", State::Warning, |_| true);
    assert_eq!(
        warning.plugin_output, "GRAPHITE WARNING: ham 136.4°F above 135",
        "{warning:#?}"
    );
    let page = wait_page(&story, ham, 1);
    assert_page(&story, &page, "PROBLEM", "WARNING", &warning.plugin_output);

    // 61 °C = 141.8 °F: from a HARD WARNING, CRITICAL is HARD at once.
    story.set_probe(HAM_ID, 61.0);
    let critical = wait_hard(&story, "ham", State::Critical, |_| true);
    assert_eq!(
        critical.plugin_output, "GRAPHITE CRITICAL: ham 141.8°F above 140",
        "{critical:#?}"
    );
    let page = wait_page(&story, ham, 2);
    assert_page(
        &story,
        &page,
        "PROBLEM",
        "CRITICAL",
        &critical.plugin_output,
    );

    // Out of the oven, back to 50 °C: RECOVERY.
    story.set_probe(HAM_ID, 50.0);
    let recovered = wait_hard(&story, "ham", State::Ok, |_| true);
    let page = wait_page(&story, ham, 3);
    assert_page(&story, &page, "RECOVERY", "OK", &recovered.plugin_output);
    assert_eq!(recovered.plugin_output, "GRAPHITE OK: ham 122.0°F");

    // The Pi goes silent: the host is DOWN (one page), the ham says it is
    // stale, and the DOWN host holds the probes' pages.
    let killed_at = unix_now_f64();
    story.kill_exporter();
    let down = wait_page(&story, HOST, 1);
    assert_eq!(
        (down.kind.as_str(), down.state.as_str()),
        ("PROBLEM", "DOWN")
    );
    assert!(
        down.output
            .starts_with("GRAPHITE CRITICAL: exporter is stale: no data for "),
        "{down:#?}"
    );
    assert!(down.at > killed_at, "{down:#?}");
    let stale = wait_hard(&story, "ham", State::Unknown, |_| true);
    assert!(
        stale
            .plugin_output
            .starts_with("GRAPHITE UNKNOWN: ham is stale: no data for "),
        "a silent Pi reports no temperature: {stale:#?}"
    );
    assert!(
        stale.plugin_output.contains("(newest 122.0°F at "),
        "{stale:#?}"
    );
    // Give Nagios a few more checks to page wrongly.
    std::thread::sleep(Duration::from_secs(3));

    // Exactly these pages, in this order per subject: one per HARD change.
    assert_pages(
        &story,
        &[
            (
                ham,
                &[
                    ("PROBLEM", "WARNING"),
                    ("PROBLEM", "CRITICAL"),
                    ("RECOVERY", "OK"),
                ],
            ),
            // The oven pages its probe once, and never too cold.
            ("christmas-pi/oven", &[("PROBLEM", "UNKNOWN")]),
            (HOST, &[("PROBLEM", "DOWN")]),
        ],
    );
    eprintln!("ham story: {:.1} s", started.elapsed().as_secs_f64());
}

// Regression: check-graphite once judged a probe at its limit against the
// thresholds until the whole --from window sat at the limit, so a saturated
// oven probe after a 1 s dip paged "oven 257.0°F below 315".
#[test]
fn a_probe_back_at_its_limit_after_a_dip_pages_no_too_cold() {
    let story = running_pi(50.0, PROBE_LIMIT_C);
    wait_hard(&story, "oven", State::Unknown, |_| true);
    // The oven door opens for a second: one reading below the limit, then
    // the probe is pinned at 257 °F again. Shipped, Nagios checks once a
    // minute and no check sees the dip itself; here it checks every second,
    // so its checks pause while the dip happens.
    story
        .nagios()
        .external_command(&format!("DISABLE_SVC_CHECK;{HOST};oven"));
    story.set_probe(OVEN_ID, 121.0);
    std::thread::sleep(Duration::from_millis(1200));
    story.set_probe(OVEN_ID, PROBE_LIMIT_C);
    std::thread::sleep(Duration::from_secs(3));
    story
        .nagios()
        .external_command(&format!("ENABLE_SVC_CHECK;{HOST};oven"));
    std::thread::sleep(Duration::from_secs(8));
    let status = story.service("oven").expect("oven in status.dat");
    // The UNKNOWN page for the probe's limit may land at any time here (the
    // stand-in records it a moment after Nagios goes HARD); only a page
    // that is not about the limit is wrong.
    let too_cold: Vec<Page> = pages_about(&story, "christmas-pi/oven")
        .into_iter()
        .filter(|page| !page.output.contains("the edge of its range"))
        .collect();
    assert!(
        too_cold.is_empty(),
        "a probe reading its limit paged the oven too cold: {too_cold:#?}\nnow: {}",
        status.plugin_output
    );
    assert!(
        status.plugin_output.contains("the edge of its range"),
        "{status:#?}"
    );
}
