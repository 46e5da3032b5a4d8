//! `scripts/demo`'s story, run by CI: the ham through a live Nagios 4, then
//! the security shift in the same Nagios (nagios-config/security/'s
//! `CloudTrail` and change-window services against a real `OpenSearch` node,
//! a change window's downtime from the shipped cron command, the TLS check
//! of nginx and a legacy gnutls-serv). The demo judges itself (the pages it
//! expects, exactly once each; no page during the downtime; no reading
//! lost) and exits non-zero otherwise; this test also reads what it printed.

use std::process::Command;

use crate::nagios_config::plugin_dir;

#[test]
fn the_demo_tells_the_whole_story_and_judges_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_nightwatch-demo"))
        .arg("--bin-dir")
        .arg(plugin_dir())
        .output()
        .expect("run nightwatch-demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the demo failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "PagerDuty events Nagios sent (pd-nagios stand-in, 6 calls)",
        "PROBLEM   aws-account/cloudtrail security groups CRITICAL  CLOUDTRAIL CRITICAL: tcp 22 open to 0.0.0.0/0",
        "web01 https is CRITICAL (HARD) inside the downtime: no page",
        "PROBLEM   web02/observed changes CRITICAL  CHANGE CRITICAL: unplanned change on web02 by mallory",
        "nginx (Mozilla intermediate): TLS OK: mozilla-intermediate compliant",
        "in its own network namespace: TLS CRITICAL: TLS 1.0 accepted",
        "lost  0",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
    assert!(
        !stdout.contains("web01/"),
        "web01 paged during its downtime:\n{stdout}"
    );
}
