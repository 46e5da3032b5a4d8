//! nagios-config/icinga2/ under a real Icinga 2 (Debian's icinga2-bin).
//!
//! - `icinga2 daemon -C` accepts the shipped files as they are, with
//!   constants.conf.example as the site's constants.
//! - Every flag a `CheckCommand` passes is one its plugin's parser knows.
//! - A running Icinga 2 on the shipped files (intervals shortened, paths
//!   and addresses pointed at the test's) runs every applied service: the
//!   ham goes WARNING then CRITICAL in a real Graphite and the `PagerDuty`
//!   stand-in is called once per state change; every other service's
//!   answer reaches the stand-in as the plugin gave it (never a usage
//!   error).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nightwatch_testkit::pagerduty::Pager;
use nightwatch_testkit::process::{poll_until, scratch_dir};
use nightwatch_testkit::shipped_config::repo_root;
use nightwatch_testkit::{Graphite, Icinga2, Icinga2Builder, Icinga2Pki};

use crate::nagios_config::{Story, feed, plugin_dir, unique_prefix};

// The shipped files, in the order a site includes them.
const SHIPPED: [&str; 6] = [
    "constants.conf.example",
    "templates.conf",
    "commands.conf",
    "hosts.conf",
    "services.conf",
    "pagerduty.conf",
];

fn icinga_dir() -> PathBuf {
    repo_root().join("nagios-config").join("icinga2")
}

fn shipped(builder: Icinga2Builder) -> Icinga2Builder {
    SHIPPED
        .iter()
        .fold(builder, |b, name| b.include(icinga_dir().join(name)))
}

// The shipped files copied into the builder's dir with `replacements`
// (file, from, to) applied; each must find what it replaces.
fn staged(builder: Icinga2Builder, replacements: &[(&str, &str, String)]) -> Icinga2Builder {
    staged_files(builder, &SHIPPED, replacements)
}

// Like `staged`, for only the files `names`.
fn staged_files(
    mut builder: Icinga2Builder,
    names: &[&str],
    replacements: &[(&str, &str, String)],
) -> Icinga2Builder {
    let replacements: Vec<&(&str, &str, String)> = replacements
        .iter()
        .filter(|(file, _, _)| names.contains(file))
        .collect();
    let mut found = vec![false; replacements.len()];
    for &name in names {
        let mut text = fs::read_to_string(icinga_dir().join(name)).expect("read icinga2 config");
        for (i, (file, from, to)) in replacements.iter().enumerate() {
            if *file == name && text.contains(from) {
                found[i] = true;
                text = text.replace(from, to);
            }
        }
        builder = builder.text(name, &text);
    }
    for ((file, from, _), found) in replacements.into_iter().zip(found) {
        assert!(
            found,
            "nagios-config/icinga2/{file} no longer contains {from:?}"
        );
    }
    builder
}

#[test]
fn icinga2_accepts_the_shipped_files() {
    let validate = shipped(Icinga2::builder("master", &plugin_dir())).validate();
    assert!(
        validate.ok,
        "icinga2 daemon -C rejects nagios-config/icinga2/:\n{}",
        validate.output
    );
    for (count, what) in [
        (6, "Hosts"),
        (14, "Services"),
        (15, "Notifications"),
        (1, "User"),
        (2, "NotificationCommands"),
        (14, "CheckCommands"),
    ] {
        assert!(
            validate
                .output
                .contains(&format!("Instantiated {count} {what}.")),
            "expected {count} {what}:\n{}",
            validate.output
        );
    }
    assert!(
        !validate.output.contains("warning/"),
        "icinga2 daemon -C warns:\n{}",
        validate.output
    );
}

// `object CheckCommand "name" { ... }` and `template CheckCommand` blocks
// of commands.conf: name → (imports, plugin binary, flags).
#[derive(Debug, Default)]
struct CommandBlock {
    imports: Vec<String>,
    binary: Option<String>,
    flags: Vec<String>,
}

fn command_blocks(text: &str) -> BTreeMap<String, CommandBlock> {
    // A block ends where the next begins.
    let mut out = BTreeMap::new();
    let mut name: Option<String> = None;
    let mut block = CommandBlock::default();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed
            .strip_prefix("object CheckCommand \"")
            .or_else(|| trimmed.strip_prefix("template CheckCommand \""))
        {
            if let Some(done) = name.take() {
                out.insert(done, std::mem::take(&mut block));
            }
            name = Some(rest.split('"').next().expect("a name").to_owned());
            continue;
        }
        if name.is_none() {
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("import \"") {
            block.imports.push(rest.trim_end_matches('"').to_owned());
        } else if let Some(rest) = trimmed.strip_prefix("command = [ PluginDir + \"/") {
            block.binary = Some(rest.split('"').next().expect("a binary").to_owned());
        } else if trimmed.starts_with("\"-") && trimmed.ends_with("= {") {
            block
                .flags
                .push(trimmed.split('"').nth(1).expect("a flag").to_owned());
        }
    }
    if let Some(done) = name {
        out.insert(done, block);
    }
    out
}

// A block's flags with those of the templates it imports.
fn all_flags(name: &str, blocks: &BTreeMap<String, CommandBlock>) -> Vec<String> {
    let block = &blocks[name];
    let mut flags = block.flags.clone();
    for import in &block.imports {
        assert!(
            blocks.contains_key(import),
            "{name} imports unknown {import}"
        );
        flags.extend(all_flags(import, blocks));
    }
    flags
}

#[test]
fn every_checkcommand_flag_is_one_its_plugin_knows() {
    let text = fs::read_to_string(icinga_dir().join("commands.conf")).expect("commands.conf");
    let blocks = command_blocks(&text);
    let mut binaries = Vec::new();
    for (name, block) in &blocks {
        let Some(binary) = &block.binary else {
            continue;
        };
        let help = std::process::Command::new(plugin_dir().join(binary))
            .arg("--help")
            .output()
            .unwrap_or_else(|e| panic!("{name}: cannot run {binary} --help: {e}"));
        let help = String::from_utf8_lossy(&help.stdout);
        let flags = all_flags(name, &blocks);
        assert!(flags.len() > 3, "{name}: {flags:?}");
        for flag in flags {
            assert!(
                help.contains(&format!("{flag} <")) || help.contains(&format!("{flag}\n")),
                "{name}: {binary} --help does not list {flag}"
            );
        }
        binaries.push(binary.clone());
    }
    binaries.sort();
    assert_eq!(
        binaries,
        [
            "check-audit-freshness",
            "check-change-window",
            "check-cloudtrail-es",
            "check-graphite",
            "check-tls-ciphers"
        ],
        "a CheckCommand for every plugin"
    );
}

// What the stand-in recorded about `service`, oldest first.
fn pages_about(pager: &Pager, service: &str) -> Vec<serde_json::Value> {
    let events = pager.events();
    if let Some(bad) = events.iter().find(|e| e.get("rejected").is_some()) {
        panic!("pd-nagios was called wrongly: {bad}");
    }
    events
        .into_iter()
        .filter(|e| e["n"] == "service" && e["fields"]["SERVICEDESC"] == service)
        .collect()
}

fn wait_for_page(pager: &Pager, icinga: &Icinga2, service: &str, state: &str) -> serde_json::Value {
    poll_until(
        &format!("a PROBLEM page for {service} in {state}"),
        Duration::from_mins(1),
        || {
            pages_about(pager, service)
                .into_iter()
                .find(|e| e["t"] == "PROBLEM" && e["fields"]["SERVICESTATE"] == state)
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "{e}; pages so far: {:#?}\n{}",
            pager.events(),
            icinga.logs()
        )
    })
}

// Every other service's first page carries its plugin's own answer
// about the closed port or the missing file: Icinga built a command line
// the plugin accepted.
fn every_other_service_pages_its_plugins_answer(pager: &Pager, icinga: &Icinga2, closed_url: &str) {
    let refused = format!("cannot connect to {closed_url}/");
    for (service, state, says) in [
        ("cloudtrail security groups", "UNKNOWN", refused.as_str()),
        ("cloudtrail iam", "UNKNOWN", refused.as_str()),
        ("cloudtrail root", "UNKNOWN", refused.as_str()),
        ("cloudtrail trail", "UNKNOWN", refused.as_str()),
        ("nightly backups", "UNKNOWN", refused.as_str()),
        ("observed changes", "UNKNOWN", refused.as_str()),
        ("ansible runs", "UNKNOWN", "does not exist"),
        (
            "tls intermediate",
            "CRITICAL",
            "cannot connect to 127.0.0.1:",
        ),
        // The host's policy file, read before any connection.
        ("tls strict", "UNKNOWN", "no-such-policy.toml: cannot read"),
    ] {
        let page = wait_for_page(pager, icinga, service, state);
        let output = page["fields"]["SERVICEOUTPUT"].as_str().unwrap_or_default();
        assert!(output.contains(says), "{service}: {page}");
    }
}

#[test]
fn a_real_icinga2_runs_every_service_and_pages_the_ham_once_per_state_change() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("icinga");
    let warm = Story {
        ham: 137.0,
        ..Story::HEALTHY
    };
    feed(graphite, &prefix, &warm);

    let dir = scratch_dir("icinga2-run");
    let pager = Pager::new(dir.path());
    let password = dir.path().join("password");
    fs::write(&password, "not-a-real-password\n").expect("password file");
    let changes = dir.path().join("changes");
    fs::create_dir(&changes).expect("mkdir changes");
    let auth_log = dir.path().join("auth.log");
    let closed = nightwatch_testkit::ports::free_port();
    let closed_url = format!("http://127.0.0.1:{closed}");
    let missing_policy = dir.path().join("no-such-policy.toml");
    let pd = pager.dir().join("pd-nagios");
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let c = "constants.conf.example";
    let replacements: Vec<(&str, &str, String)> = vec![
        (
            c,
            "\"http://graphite.example.internal:8080\"",
            format!("{:?}", graphite.url()),
        ),
        (c, "\"/etc/icinga2/graphite.password\"", q(&password)),
        (
            c,
            "\"http://elasticsearch.example.internal:9200\"",
            format!("{closed_url:?}"),
        ),
        (c, "\"/etc/icinga2/elasticsearch.password\"", q(&password)),
        (c, "\"/srv/changes\"", q(&changes)),
        (
            c,
            "\"/usr/share/pdagent-integrations/bin/pd-nagios\"",
            q(&pd),
        ),
        // Seconds instead of minutes: the story in seconds.
        (
            "templates.conf",
            "check_interval = 1m",
            "check_interval = 1s".into(),
        ),
        (
            "templates.conf",
            "retry_interval = 1m",
            "retry_interval = 1s".into(),
        ),
        (
            "hosts.conf",
            "vars.graphite_prefix = \"christmaspi.temperature\"",
            format!("vars.graphite_prefix = {prefix:?}"),
        ),
        ("hosts.conf", "\"www.example.org\"", "\"127.0.0.1\"".into()),
        ("hosts.conf", "\"api.example.org\"", "\"127.0.0.1\"".into()),
        (
            "hosts.conf",
            "vars.tls_port = \"443\"",
            format!("vars.tls_port = \"{closed}\""),
        ),
        ("hosts.conf", "\"/var/log/auth.log\"", q(&auth_log)),
        // A policy path that does not exist: the plugin names it in its
        // UNKNOWN, which proves Icinga passed `--policy` with the host's
        // tls_policy_file (a closed port alone reads the same with or
        // without it). The policy itself is judged against real nginx
        // servers in nagios_config.rs, by the same path.
        (
            "hosts.conf",
            "\"/etc/nightwatch/tls/story.toml\"",
            q(&missing_policy),
        ),
    ];
    let icinga = staged(Icinga2::builder("master", &plugin_dir()), &replacements).start();

    // The ham above 135: WARNING, paged once it is HARD.
    let warning = wait_for_page(&pager, &icinga, "ham", "WARNING");
    assert_eq!(warning["fields"]["HOSTNAME"], "christmas-pi");
    let output = warning["fields"]["SERVICEOUTPUT"]
        .as_str()
        .unwrap_or_default();
    assert!(output.contains("137.0°F"), "{warning}");

    // Above 140: CRITICAL, paged again (a new state), once.
    feed(graphite, &prefix, &Story { ham: 141.2, ..warm });
    let critical = wait_for_page(&pager, &icinga, "ham", "CRITICAL");
    let output = critical["fields"]["SERVICEOUTPUT"]
        .as_str()
        .unwrap_or_default();
    assert!(output.contains("ham 141.2°F above 140"), "{critical}");

    every_other_service_pages_its_plugins_answer(&pager, &icinga, &closed_url);

    // By now the ham was checked many more times (every second), still
    // CRITICAL: no repeat page, only the two state changes.
    let ham: Vec<String> = pages_about(&pager, "ham")
        .iter()
        .map(|e| format!("{} {}", e["t"], e["fields"]["SERVICESTATE"]))
        .collect();
    assert_eq!(
        ham,
        ["\"PROBLEM\" \"WARNING\"", "\"PROBLEM\" \"CRITICAL\""],
        "{:#?}",
        pager.events()
    );
    healthy_things_never_paged(&pager);
}

// Healthy services never paged; the Pi's host check is UP. (The oven pages
// UNKNOWN: its DS18B20 reads 257 °F, the edge of its range.)
fn healthy_things_never_paged(pager: &Pager) {
    for quiet in [
        "exporter spool",
        "exporter rejected readings",
        "change window",
    ] {
        assert!(
            pages_about(pager, quiet).is_empty(),
            "{quiet} paged: {:#?}",
            pager.events()
        );
    }
    assert!(
        !pager.events().iter().any(|e| e["n"] == "host"),
        "a host paged: {:#?}",
        pager.events()
    );
}

// README.md's zone layout: the master and one satellite in a child zone;
// the master connects to the satellite.
fn zones_conf(satellite_port: u16) -> String {
    format!(
        "object Endpoint \"master\" {{ }}\n\
         object Endpoint \"satellite\" {{ host = \"127.0.0.1\"; port = \"{satellite_port}\" }}\n\
         object Zone \"master\" {{ endpoints = [ \"master\" ] }}\n\
         object Zone \"satellite\" {{ endpoints = [ \"satellite\" ]; parent = \"master\" }}\n"
    )
}

// The API on a loopback port; a satellite runs what its master sends.
fn api_conf(port: u16, accept_commands: bool) -> String {
    format!(
        "object ApiListener \"api\" {{ bind_host = \"127.0.0.1\"; bind_port = {port}; accept_commands = {accept_commands}; accept_config = false }}\n"
    )
}

// The zone layout of README.md on two real daemons: a master and a
// satellite in a child zone, each with its own certificate from one
// `icinga2 pki` CA, talking over the API on loopback ports. The Pi's host
// says `vars.nightwatch_command_endpoint = "satellite"`: the master
// schedules its services, the satellite runs them (its PluginDir), and the
// results flow back to the master, which pages with them.
#[test]
fn a_satellite_runs_the_pis_checks_for_the_master() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("icingasat");
    let warm = Story {
        ham: 137.0,
        ..Story::HEALTHY
    };
    feed(graphite, &prefix, &warm);

    let dir = scratch_dir("icinga2-zones");
    let pager = Pager::new(dir.path());
    let password = dir.path().join("password");
    fs::write(&password, "not-a-real-password\n").expect("password file");
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let c = "constants.conf.example";
    let pd = pager.dir().join("pd-nagios");
    let replacements: Vec<(&str, &str, String)> = vec![
        (
            c,
            "\"http://graphite.example.internal:8080\"",
            format!("{:?}", graphite.url()),
        ),
        (c, "\"/etc/icinga2/graphite.password\"", q(&password)),
        (
            c,
            "\"/usr/share/pdagent-integrations/bin/pd-nagios\"",
            q(&pd),
        ),
        (
            "templates.conf",
            "check_interval = 1m",
            "check_interval = 1s".into(),
        ),
        (
            "templates.conf",
            "retry_interval = 1m",
            "retry_interval = 1s".into(),
        ),
        (
            "hosts.conf",
            "\"/var/log/auth.log\"",
            q(&dir.path().join("auth.log")),
        ),
        (
            "hosts.conf",
            "vars.graphite_prefix = \"christmaspi.temperature\"",
            format!(
                "vars.graphite_prefix = {prefix:?}\n  vars.nightwatch_command_endpoint = \"satellite\""
            ),
        ),
    ];
    let master_port = nightwatch_testkit::ports::free_port();
    let satellite_port = nightwatch_testkit::ports::free_port();
    let zones = zones_conf(satellite_port);
    let pki = Icinga2Pki::new();

    // The satellite: the commands and the site's constants, no hosts of its
    // own; it runs what the master sends (accept_commands).
    let satellite = staged_files(
        Icinga2::builder("satellite", &plugin_dir()),
        &["constants.conf.example", "commands.conf"],
        &replacements,
    )
    .text("zones.conf", &zones)
    .text("api.conf", &api_conf(satellite_port, true));
    pki.issue("satellite", &satellite);
    let satellite = satellite.start();

    // The master: everything; the Pi's services are delegated, the rest
    // (and the Pi's host check) run here.
    let master = staged(Icinga2::builder("master", &plugin_dir()), &replacements)
        .text("zones.conf", &zones)
        .text("api.conf", &api_conf(master_port, false));
    pki.issue("master", &master);
    let master = master.start();

    let warning = wait_for_page(&pager, &master, "ham", "WARNING");
    assert_eq!(
        warning["fields"]["SERVICECHECKSOURCE"],
        "satellite",
        "{warning}\n{}",
        satellite.logs()
    );
    assert!(
        warning["fields"]["SERVICEOUTPUT"]
            .as_str()
            .is_some_and(|o| o.contains("137.0°F")),
        "{warning}"
    );
    feed(graphite, &prefix, &Story { ham: 141.2, ..warm });
    let critical = wait_for_page(&pager, &master, "ham", "CRITICAL");
    assert_eq!(
        critical["fields"]["SERVICECHECKSOURCE"], "satellite",
        "{critical}"
    );
    assert!(
        critical["fields"]["SERVICEOUTPUT"]
            .as_str()
            .is_some_and(|o| o.contains("ham 141.2°F above 140")),
        "{critical}"
    );
    // The services of hosts without the variable ran on the master.
    let local = wait_for_page(&pager, &master, "ansible runs", "UNKNOWN");
    assert_eq!(local["fields"]["SERVICECHECKSOURCE"], "master", "{local}");
}
