//! check-change-window end to end: the real binary on the story's records
//! at chosen instants, the digest a reviewer approves, downtime scheduled
//! into a real Nagios 4 (it appears in `status.dat`, a CRITICAL during it
//! pages nobody, one after it does) and through a real Icinga 2's REST API
//! (only what is missing, once), and the cross-check of observed changes
//! (deploy events, `CloudTrail` writes) against a real `OpenSearch` node
//! and a JSON-lines file.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nightwatch_testkit::process::{poll_until, scratch_dir};
use nightwatch_testkit::{
    Icinga2, Icinga2Pki, Nagios, SearchFlavor, SearchNode, State, StateType, plugin, unix_now,
};
use serde_json::json;

const BIN: &str = "check-change-window";
const WAIT: Duration = Duration::from_mins(1);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/check-change-window/tests/fixtures")
}

fn changes() -> String {
    fixtures().join("changes").display().to_string()
}

fn clock(unix: i64) -> String {
    nightwatch_core::display::clock(unix)
}

/// `check-change-window digest FILE`, which must succeed.
fn digest(file: &Path) -> String {
    let run = plugin(BIN).arg("digest").arg(file).run_raw();
    assert_eq!(run.exit_code, Some(0), "{}", run.report("digest failed"));
    let text = run.stdout_text().trim().to_owned();
    assert!(text.starts_with("sha256:") && text.len() == 71, "{text}");
    text
}

/// A record by alice, approved by bob for the plan as written now.
fn approved_record(
    dir: &Path,
    id: &str,
    hosts: &str,
    start: i64,
    end: i64,
    status: &str,
) -> PathBuf {
    let file = dir.join(format!("{}.md", id.to_lowercase()));
    let body = format!(
        "---\nid: {id}\nsummary: Renew the certificate\nauthor: alice\nhosts: {hosts}\nstakeholders: [web-team]\nstatus: {status}\napprovals:\n  - by: bob\n    digest: DIGEST\nwindow:\n  start: {}\n  end: {}\n---\n## Change plan\ncertbot renew\n\n## Roll-back plan\nrestore the old certificate\n",
        clock(start),
        clock(end)
    );
    fs::write(&file, &body).expect("write record");
    let approved = body.replace("DIGEST", &digest(&file));
    fs::write(&file, approved).expect("write record");
    file
}

/// A record approved only by its author (bob's LGTM rewritten as alice's,
/// spelt differently): it must get no downtime.
fn self_approved(dir: &Path, id: &str, hosts: &str, start: i64, end: i64) -> PathBuf {
    let file = approved_record(dir, id, hosts, start, end, "approved");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("by: bob", "by: Alice")).unwrap();
    file
}

#[test]
fn the_story_records_judged_at_chosen_instants() {
    let freeze = fixtures().join("freeze.yaml");
    plugin(BIN)
        .args(["--changes", &changes(), "--all", "--freeze"])
        .arg(&freeze)
        .args(["--at", "2026-12-02 13:00 Europe/Berlin"])
        .run()
        .state_is(State::Critical)
        .first_line_contains("CMB-43 in progress, approved only by its author alice")
        .long_text_contains("CMB-44 plan changed after bob's LGTM")
        .long_text_contains("cmb-45-broken.md line 8: window.start: 2026-03-29 02:30 does not exist in Europe/Berlin")
        .long_text_contains("OK: CMB-42 starts in 1h (2026-12-02 14:00 CET), stakeholders web-team, support")
        .perfdata_has("broken_records=2");
    plugin(BIN)
        .args(["--changes", &changes(), "--host", "web02", "--at", "2026-12-02T13:40:00Z"])
        .run()
        .state_is(State::Critical)
        .long_text_contains("TKT-7 overran its window by 10m (ended 2026-12-02 13:30 UTC): roll back: Restore /etc/ssl/web02");
    plugin(BIN)
        .args(["--changes"])
        .arg(fixtures().join("changes/cmb-42-nginx.md"))
        .args([
            "--host",
            "web07",
            "--at",
            "2026-12-02 14:59:59 Europe/Berlin",
        ])
        .run()
        .state_is(State::Ok)
        .first_line_is("CHANGE OK: CMB-42 window open until 2026-12-02 15:00 CET, not started");
    plugin(BIN)
        .args(["--changes"])
        .arg(fixtures().join("changes/cmb-42-nginx.md"))
        .args(["--host", "web07", "--at", "2026-12-02 15:00 Europe/Berlin"])
        .run()
        .state_is(State::Warning)
        .first_line_is("CHANGE WARNING: CMB-42 window ended 0s ago, still approved");
}

#[test]
fn user_mistakes_are_unknown_and_say_what_to_fix() {
    plugin(BIN)
        .args(["--changes", "/nonexistent/changes", "--all"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("cannot read the change records at /nonexistent/changes");
    plugin(BIN)
        .args([
            "--changes",
            &changes(),
            "--all",
            "--at",
            "2026-10-25 02:30 Europe/Berlin",
        ])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("happens twice in Europe/Berlin (fall back): add the offset");
    plugin(BIN)
        .args([
            "--changes",
            &changes(),
            "--all",
            "--at",
            "2026-12-02 13:00 Europe/Berlim",
        ])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("unknown time zone 'Europe/Berlim'");
    plugin(BIN)
        .args(["--changes", &changes()])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("the following required arguments were not provided: <--host");
    let dir = scratch_dir("ccw-freeze");
    let freeze = dir.path().join("freeze.yaml");
    fs::write(
        &freeze,
        "yearly:\n  - name: x\n    from: 12-20\n    to: 01-02\n",
    )
    .unwrap();
    plugin(BIN)
        .args(["--changes", &changes(), "--all", "--freeze"])
        .arg(&freeze)
        .run()
        .state_is(State::Unknown)
        .first_line_contains("freeze.yaml line 2: yearly freeze 'x' names no zone");
}

#[test]
fn a_plan_edited_after_the_lgtm_is_critical_until_re_approved() {
    let dir = scratch_dir("ccw-digest");
    let now = unix_now();
    let file = approved_record(
        dir.path(),
        "CMB-9",
        "[web01]",
        now - 600,
        now + 600,
        "in-progress",
    );
    let changes = dir.path().display().to_string();
    plugin(BIN)
        .args(["--changes", &changes, "--host", "web01"])
        .run()
        .state_is(State::Ok)
        .first_line_contains("CMB-9 in progress until");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("restore the old certificate", "TBD")).unwrap();
    plugin(BIN)
        .args(["--changes", &changes, "--host", "web01"])
        .run()
        .state_is(State::Critical)
        .first_line_is("CHANGE CRITICAL: CMB-9 plan changed after bob's LGTM");
}

// ---- Downtime in a real Nagios ---------------------------------------

const NAGIOS_OBJECTS: &str = "define timeperiod {
    timeperiod_name always
    alias always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}
define command {
    command_name check_dummy
    command_line $USER1$/check_dummy $ARG1$ \"$ARG2$\"
}
define command {
    command_name notify_to_file
    command_line /usr/bin/printf '%s\\n' \"$NOTIFICATIONTYPE$ $HOSTNAME$/$SERVICEDESC$ $SERVICESTATE$ $SERVICEOUTPUT$\" >> @PAGES@
}
define contact {
    contact_name oncall
    host_notifications_enabled 0
    service_notifications_enabled 1
    host_notification_period always
    service_notification_period always
    host_notification_options n
    service_notification_options w,u,c,r
    host_notification_commands notify_to_file
    service_notification_commands notify_to_file
}
define host {
    host_name web01
    address 127.0.0.1
    check_command check_dummy!0!up
    max_check_attempts 1
    check_interval 3600
    check_period always
    contacts oncall
    notification_period always
}
define host {
    host_name web02
    address 127.0.0.1
    check_command check_dummy!0!up
    max_check_attempts 1
    check_interval 3600
    check_period always
    contacts oncall
    notification_period always
}
define service {
    host_name web01
    service_description https
    check_command check_dummy!0!ok
    active_checks_enabled 0
    passive_checks_enabled 1
    check_freshness 0
    max_check_attempts 1
    check_interval 3600
    retry_interval 1
    check_period always
    contacts oncall
    notification_period always
    notification_interval 0
}
";

/// The `hostdowntime`/`servicedowntime` blocks of `status.dat` whose
/// comment is this change's.
fn downtime_blocks(nagios: &Nagios, id: &str) -> Vec<String> {
    let text = fs::read_to_string(nagios.dir().join("status.dat")).unwrap_or_default();
    let key = format!("comment=change {id}:");
    text.split("\n\n")
        .filter(|block| {
            block.trim_start().starts_with("hostdowntime {")
                || block.trim_start().starts_with("servicedowntime {")
        })
        .filter(|block| block.contains(&key))
        .map(str::to_owned)
        .collect()
}

fn downtime_depth(nagios: &Nagios) -> Option<String> {
    nagios
        .status()
        .into_iter()
        .find(|s| s.host_name == "web01" && s.service_description == "https")
        .and_then(|s| s.fields.get("scheduled_downtime_depth").cloned())
}

#[test]
fn schedule_puts_approved_windows_into_real_nagios_downtime() {
    let builder = Nagios::builder().main_cfg("check_result_reaper_frequency", "1");
    let pages = builder.dir().join("pages.log");
    let objects = NAGIOS_OBJECTS.replace("@PAGES@", &pages.display().to_string());
    let nagios = builder.object_text("change-window.cfg", &objects).start();
    nagios.external_command("PROCESS_SERVICE_CHECK_RESULT;web01;https;0;OK: handshake fine");
    nagios.wait_for_service("web01", "https", WAIT, |s| {
        s.current_state == Some(State::Ok)
    });

    let records = scratch_dir("ccw-schedule");
    let now = unix_now();
    // A window open now for 20 s on every web host (a glob, expanded
    // against the hosts Nagios knows) and on db01, which Nagios does not
    // have, and one whose author approved it alone: that one must get no
    // downtime.
    approved_record(
        records.path(),
        "CMB-7",
        "[\"web0*\", db01]",
        now - 60,
        now + 20,
        "approved",
    );
    self_approved(records.path(), "CMB-8", "[web02]", now - 60, now + 600);

    let schedule = || {
        let run = plugin(BIN)
            .args(["schedule", "--changes"])
            .arg(records.path())
            .arg("--command-file")
            .arg(nagios.command_file())
            .arg("--status-file")
            .arg(nagios.dir().join("status.dat"))
            .args(["--service", "https"])
            .run_raw();
        assert_eq!(run.exit_code, Some(0), "{}", run.report("schedule failed"));
        run.stdout_text()
    };
    let first = schedule();
    assert!(first.contains("CMB-7: downtime for web01/https"), "{first}");
    assert!(first.contains("CMB-7: downtime for web02\n"), "{first}");
    assert!(
        first.contains("CMB-7: web02/https left out, Nagios has no such service"),
        "{first}"
    );
    assert!(
        first.contains("CMB-8: no downtime, not approved"),
        "{first}"
    );
    assert!(
        first.contains("CMB-7: db01 left out, Nagios has no such host"),
        "{first}"
    );

    // Running again right away finds the downtime by the change id and
    // adds none: the first run returned once status.dat showed it.
    let again = schedule();
    assert!(
        again.contains("CMB-7: web01/https already in downtime"),
        "{again}"
    );
    assert!(!again.contains("CMB-7: downtime for"), "{again}");

    poll_until("CMB-7's downtime in status.dat", WAIT, || {
        (downtime_blocks(&nagios, "CMB-7").len() == 3
            && downtime_depth(&nagios).as_deref() == Some("1"))
        .then_some(())
    })
    .unwrap_or_else(|error| panic!("{error}\n{}", nagios.logs()));
    assert!(downtime_blocks(&nagios, "CMB-8").is_empty());

    nagios
        .external_command("PROCESS_SERVICE_CHECK_RESULT;web01;https;2;CRITICAL: handshake failed");
    let during = nagios.wait_for_service("web01", "https", WAIT, |s| {
        s.current_state == Some(State::Critical)
    });
    assert_eq!(during.state_type, StateType::Hard);
    assert_eq!(
        downtime_blocks(&nagios, "CMB-7").len(),
        3,
        "no duplicate downtime"
    );
    assert!(
        fs::read_to_string(&pages).unwrap_or_default().is_empty(),
        "a CRITICAL during the downtime paged:\n{}",
        nagios.logs()
    );

    poll_until("the downtime to end with the window", WAIT, || {
        (downtime_depth(&nagios).as_deref() == Some("0")).then_some(())
    })
    .unwrap_or_else(|error| panic!("{error}\n{}", nagios.logs()));
    nagios.external_command(
        "PROCESS_SERVICE_CHECK_RESULT;web01;https;2;CRITICAL: handshake still failing",
    );
    let page = poll_until("a page after the downtime", WAIT, || {
        fs::read_to_string(&pages)
            .ok()
            .filter(|text| !text.is_empty())
    })
    .unwrap_or_else(|error| panic!("{error}\n{}", nagios.logs()));
    assert_eq!(
        page,
        "PROBLEM web01/https CRITICAL CRITICAL: handshake still failing\n"
    );
}

// ---- Downtime through a real Icinga 2 API ------------------------------

const ICINGA2_OBJECTS: &str = r#"
object Host "web01" { check_command = "dummy"; enable_active_checks = false }
object Host "web02" { check_command = "dummy"; enable_active_checks = false }
object Host "web03" { check_command = "dummy"; enable_active_checks = false }
object Service "https" { host_name = "web01"; check_command = "dummy"; enable_active_checks = false }
object Service "ssh" { host_name = "web01"; check_command = "dummy"; enable_active_checks = false }
object Service "https" { host_name = "web03"; check_command = "dummy"; enable_active_checks = false }
"#;

fn stderr(run: &nightwatch_testkit::RawRun) -> String {
    String::from_utf8_lossy(&run.stderr).into_owned()
}

/// (host, service) of every downtime whose comment is this change's,
/// as the API lists them.
fn icinga2_downtime(icinga: &Icinga2, id: &str) -> Vec<String> {
    let answer =
        icinga.api_get("/v1/objects/downtimes?attrs=host_name&attrs=service_name&attrs=comment");
    let key = format!("change {id}:");
    let mut found: Vec<String> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| &r["attrs"])
        .filter(|a| a["comment"].as_str().is_some_and(|c| c.starts_with(&key)))
        .map(|a| {
            format!(
                "{}/{}",
                a["host_name"].as_str().unwrap_or("?"),
                a["service_name"].as_str().unwrap_or("")
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn schedule_sends_only_missing_downtime_to_a_real_icinga2_api() {
    let pki = Icinga2Pki::new();
    let plugins = scratch_dir("ccw-icinga2-plugins");
    // The node is `localhost`: what its certificate names, on loopback.
    let icinga = Icinga2::builder("localhost", plugins.path())
        .text("hosts.conf", ICINGA2_OBJECTS)
        .api(&pki, "nightwatch", "downtime-only")
        .start();

    let records = scratch_dir("ccw-icinga2");
    let now = unix_now();
    approved_record(
        records.path(),
        "CMB-7",
        "[\"web0[12]\"]",
        now - 60,
        now + 600,
        "approved",
    );
    // Approved by its author alone, and a plan edited after bob's LGTM:
    // neither gets downtime.
    self_approved(records.path(), "CMB-8", "[web03]", now - 60, now + 600);
    let edited = approved_record(
        records.path(),
        "CMB-9",
        "[web03]",
        now - 60,
        now + 600,
        "in-progress",
    );
    let text = fs::read_to_string(&edited).unwrap();
    fs::write(
        &edited,
        text.replace("certbot renew", "certbot renew --force"),
    )
    .unwrap();

    let schedule = |url: &str, password: Option<&str>, extra: &[&str]| {
        icinga2_schedule(&icinga, records.path(), url, password, extra)
    };
    let url = icinga.api_url();

    let dry = schedule(&url, Some("downtime-only"), &["--dry-run"]);
    assert_eq!(dry.exit_code, Some(0), "{}", dry.report("dry run failed"));
    assert!(
        dry.stdout_text()
            .contains("CMB-7: would schedule downtime for web01"),
        "{}",
        dry.stdout_text()
    );
    assert!(
        icinga2_downtime(&icinga, "CMB-7").is_empty(),
        "a dry run scheduled downtime"
    );

    let first = schedule(&url, Some("downtime-only"), &[]);
    assert_eq!(
        first.exit_code,
        Some(0),
        "{}",
        first.report("schedule failed")
    );
    let said = first.stdout_text();
    assert!(
        said.contains("CMB-7: downtime for web01 and its 2 services\n"),
        "{said}"
    );
    assert!(said.contains("CMB-7: downtime for web02\n"), "{said}");
    assert!(said.contains("CMB-8: no downtime, not approved"), "{said}");
    assert!(said.contains("CMB-9: no downtime, not approved"), "{said}");
    assert_eq!(
        icinga2_downtime(&icinga, "CMB-7"),
        ["web01/", "web01/https", "web01/ssh", "web02/"],
        "{said}"
    );

    // Again: found by the change id, nothing added.
    let again = schedule(&url, Some("downtime-only"), &[]);
    assert_eq!(
        again.exit_code,
        Some(0),
        "{}",
        again.report("second run failed")
    );
    let said = again.stdout_text();
    assert!(said.contains("CMB-7: web01 already in downtime"), "{said}");
    assert!(said.contains("CMB-7: web02 already in downtime"), "{said}");
    assert!(!said.contains("downtime for"), "{said}");
    assert_eq!(icinga2_downtime(&icinga, "CMB-7").len(), 4);
    for id in ["CMB-8", "CMB-9"] {
        assert!(
            icinga2_downtime(&icinga, id).is_empty(),
            "{id} got downtime"
        );
    }

    refusals_say_whose_fault(&icinga, records.path());
}

/// `schedule --format icinga2` against `icinga`'s API as the test's user,
/// the password (if any) in `$ICINGA2_API_PASSWORD`.
fn icinga2_schedule(
    icinga: &Icinga2,
    records: &Path,
    url: &str,
    password: Option<&str>,
    extra: &[&str],
) -> nightwatch_testkit::RawRun {
    let mut command = plugin(BIN)
        .args(["schedule", "--changes"])
        .arg(records)
        .args(["--format", "icinga2", "--icinga2-url", url])
        .args(["--icinga2-user", "nightwatch", "--ca-file"])
        .arg(icinga.api_ca())
        .args(extra)
        .env_remove("ICINGA2_API_PASSWORD");
    if let Some(password) = password {
        command = command.env("ICINGA2_API_PASSWORD", password);
    }
    command.run_raw()
}

/// A wrong password or none is the user's to fix (exit 2); a closed port
/// is a server out of reach (exit 1).
fn refusals_say_whose_fault(icinga: &Icinga2, records: &Path) {
    let url = icinga.api_url();
    let schedule =
        |url: &str, password: Option<&str>| icinga2_schedule(icinga, records, url, password, &[]);
    let wrong = schedule(&url, Some("guessed"));
    assert_eq!(
        wrong.exit_code,
        Some(2),
        "{}",
        wrong.report("a wrong password")
    );
    let text = stderr(&wrong);
    assert!(
        text.contains("answered 401") && text.contains("$ICINGA2_API_PASSWORD"),
        "{text}"
    );
    let none = schedule(&url, None);
    assert_eq!(none.exit_code, Some(2), "{}", none.report("no password"));
    assert!(
        stderr(&none).contains("no password for the Icinga 2 API user nightwatch"),
        "{}",
        stderr(&none)
    );
    let closed = format!(
        "https://localhost:{}",
        nightwatch_testkit::ports::free_port()
    );
    let down = schedule(&closed, Some("downtime-only"));
    assert_eq!(down.exit_code, Some(1), "{}", down.report("a closed port"));
    assert!(
        stderr(&down).contains("cannot connect to https://localhost:"),
        "{}",
        stderr(&down)
    );
}

// ---- Observed changes ------------------------------------------------

/// Deploys on web01 and web02 around CMB-42's window (14:00-15:00 CET).
fn deploys() -> Vec<serde_json::Value> {
    vec![
        json!({"@timestamp": "2026-12-02T13:05:00Z", "host": "web01", "user": "alice", "message": "nginx 1.26.2-1 installed"}),
        // Two minutes of clock skew before the window opens is tolerated.
        json!({"@timestamp": "2026-12-02T12:58:30Z", "host": "web01", "user": "alice", "message": "drained from the pool"}),
        json!({"@timestamp": "2026-12-02T13:40:00Z", "host": "web01", "user": "mallory", "message": "crontab edited"}),
        json!({"@timestamp": "2026-12-02T14:20:00Z", "host": "web01", "user": "alice", "message": "nginx.conf edited after the window"}),
        json!({"@timestamp": "2026-12-02T14:10:00Z", "host": "web02", "user": "frank", "message": "certificate renewed"}),
    ]
}

/// Only CMB-42 (approved for web01 and web0*), judged at 14:30 UTC.
fn observed_check() -> nightwatch_testkit::PluginCmd {
    plugin(BIN)
        .arg("--changes")
        .arg(fixtures().join("changes/cmb-42-nginx.md"))
        .args(["--at", "2026-12-02T14:30:00Z", "--lookback", "2h"])
}

#[test]
fn observed_changes_in_a_real_search_node_outside_any_window_are_critical() {
    let node = SearchNode::shared(SearchFlavor::OpenSearch2);
    let index = "ccw-deploys-2026.12.02";
    node.delete_index(index);
    node.index_docs(index, &deploys());
    let run = observed_check()
        .args(["--host", "web01", "--observed", "es", "--url", &node.url()])
        .args([
            "--index",
            "ccw-deploys-%Y.%m.%d",
            "--host-field",
            "host.keyword",
        ])
        .run();
    run.state_is(State::Critical)
        .first_line_contains("unplanned change on web01 by alice at 2026-12-02T14:20:00Z")
        .long_text_contains(
            "web01 by alice at 2026-12-02T14:20:00Z: nginx.conf edited after the window",
        )
        .stdout_lacks("mallory")
        .stdout_lacks("drained")
        .long_text_contains("4 observed changes in the last 2h")
        .perfdata_has("unplanned=1");
    // --all reads every host: web02's renewal came after CMB-42's window.
    observed_check()
        .args(["--all", "--observed", "es", "--url", &node.url()])
        .args([
            "--index",
            "ccw-deploys-%Y.%m.%d",
            "--host-field",
            "host.keyword",
        ])
        .run()
        .state_is(State::Critical)
        .long_text_contains(
            "unplanned change on web02 by frank at 2026-12-02T14:10:00Z: certificate renewed",
        )
        .perfdata_has("unplanned=2");
    // The search server down is UNKNOWN: we cannot tell.
    observed_check()
        .args([
            "--host",
            "web01",
            "--observed",
            "es",
            "--url",
            "http://127.0.0.1:9",
        ])
        .args(["--index", "ccw-deploys-%Y.%m.%d"])
        .run()
        .state_is(State::Unknown);
    node.delete_index(index);
}

#[test]
fn observed_changes_in_a_json_lines_file_are_cross_checked_too() {
    let dir = scratch_dir("ccw-observed");
    let file = dir.path().join("deploys.jsonl");
    let lines: Vec<String> = deploys().iter().map(ToString::to_string).collect();
    fs::write(&file, lines.join("\n") + "\n").unwrap();
    observed_check()
        .args([
            "--host",
            "web01",
            "--observed",
            "file",
            "--line-format",
            "json",
            "--path",
        ])
        .arg(&file)
        .run()
        .state_is(State::Critical)
        .first_line_contains("unplanned change on web01 by alice at 2026-12-02T14:20:00Z")
        .stdout_lacks("mallory")
        .perfdata_has("unplanned=1");
    // A wider skew covers the edit 80 minutes after the window ended.
    observed_check()
        .args([
            "--host",
            "web01",
            "--skew",
            "90m",
            "--observed",
            "file",
            "--line-format",
            "json",
            "--path",
        ])
        .arg(&file)
        .run()
        // CMB-42 still reads approved after its window: that alone warns.
        .state_is(State::Warning)
        .first_line_contains("CMB-42 window ended 30m ago, still approved")
        .perfdata_has("unplanned=0");
}

// ---- CloudTrail write events -----------------------------------------

/// 2026-12-02T13:00:00Z.
const TRAIL_HOUR: i64 = 1_796_216_400;

/// `CloudTrail` records as Logstash ships them (`@timestamp` from
/// `eventTime`): writes on two instances, a read, a failed call and a
/// write on no host.
fn trail_events() -> Vec<serde_json::Value> {
    let identity = |user: &str| {
        json!({"type": "IAMUser", "arn": format!("arn:aws:iam::123456789012:user/{user}"),
               "accountId": "123456789012", "userName": user})
    };
    let instance = |id: &str| {
        json!([{"ARN": format!("arn:aws:ec2:eu-west-1:123456789012:instance/{id}"),
                "accountId": "123456789012", "type": "AWS::EC2::Instance"}])
    };
    let event = |at: &str, name: &str, user: &str, read_only: bool| {
        json!({"@timestamp": at, "eventTime": at, "eventName": name, "readOnly": read_only,
               "eventSource": "ec2.amazonaws.com", "awsRegion": "eu-west-1",
               "sourceIPAddress": "203.0.113.7", "userIdentity": identity(user)})
    };
    let mut covered = event("2026-12-02T13:20:00Z", "RebootInstances", "alice", false);
    covered["requestParameters"] = json!({"instancesSet": {"items": [{"instanceId": "i-0aaa"}]}});
    covered["resources"] = instance("i-0aaa");
    let mut unplanned = event("2026-12-02T13:30:00Z", "StopInstances", "mallory", false);
    unplanned["requestParameters"] = json!({"instancesSet": {"items": [{"instanceId": "i-0bbb"}]}});
    unplanned["resources"] = instance("i-0bbb");
    let mut read = event(
        "2026-12-02T13:40:00Z",
        "DescribeInstanceAttribute",
        "carol",
        true,
    );
    read["requestParameters"] = json!({"instanceId": "i-0bbb", "attribute": "userData"});
    let mut failed = event("2026-12-02T13:45:00Z", "TerminateInstances", "eve", false);
    failed["requestParameters"] = json!({"instancesSet": {"items": [{"instanceId": "i-0bbb"}]}});
    failed["errorCode"] = json!("Client.UnauthorizedOperation");
    let mut iam = event("2026-12-02T13:50:00Z", "CreateUser", "dave", false);
    iam["eventSource"] = json!("iam.amazonaws.com");
    vec![covered, unplanned, read, failed, iam]
}

#[test]
fn cloudtrail_writes_in_a_real_search_node_outside_any_window_are_critical() {
    let node = SearchNode::shared(SearchFlavor::OpenSearch2);
    let index = "ccw-cloudtrail-2026.12.02";
    node.delete_index(index);
    node.index_docs(index, &trail_events());
    let records = scratch_dir("ccw-cloudtrail");
    // i-0aaa has an approved window 13:00-14:00 UTC; i-0bbb has none.
    approved_record(
        records.path(),
        "CMB-51",
        "[i-0aaa]",
        TRAIL_HOUR,
        TRAIL_HOUR + 3600,
        "done",
    );
    let check = |host: &str| {
        plugin(BIN)
            .arg("--changes")
            .arg(records.path())
            .args(["--host", host, "--at", "2026-12-02T14:30:00Z"])
            .args(["--lookback", "2h", "--observed", "cloudtrail"])
            .args(["--url", &node.url(), "--index", "ccw-cloudtrail-%Y.%m.%d"])
            .run()
    };
    check("i-0bbb")
        .state_is(State::Critical)
        .first_line_is(
            "CHANGE CRITICAL: unplanned change on i-0bbb by mallory at 2026-12-02T13:30:00Z",
        )
        .long_text_contains(
            "StopInstances by arn:aws:iam::123456789012:user/mallory (ec2.amazonaws.com, eu-west-1) from 203.0.113.7",
        )
        // The read and the failed call on the same instance are no change.
        .stdout_lacks("DescribeInstanceAttribute")
        .stdout_lacks("TerminateInstances")
        .long_text_contains("left out: 1 failed calls (attempts, not changes), 1 write events naming no host")
        .perfdata_has("unplanned=1");
    // The reboot on i-0aaa fell in CMB-51's approved window.
    check("i-0aaa")
        .state_is(State::Ok)
        .long_text_contains("1 observed changes in the last 2h")
        .long_text_contains("ccw-cloudtrail-%Y.%m.%d, 0 unplanned")
        .stdout_lacks("unplanned change")
        .perfdata_has("unplanned=0");
    node.delete_index(index);
}
