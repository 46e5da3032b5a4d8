//! nagios-config/ under a real Nagios 4 and a real Graphite, and
//! scripts/install into temp prefixes.
//!
//! - `nagios4 -v` accepts the object files as shipped, alone (they need
//!   nothing of Debian's samples) and next to Debian's sample objects (no
//!   name clashes), with resource.cfg.example's lines and only the paths
//!   rewritten.
//! - Every check command a host or service uses is expanded the way Nagios
//!   expands it (`$ARGn$`, `$USERn$`, custom host macros) and run against
//!   check-graphite and a Graphite fed with the story's series; each run
//!   keeps the plugin contract and judges the story as the story says.
//! - Every command line of security/ (the other plugins) runs with its
//!   servers at a closed port and answers about it (never a usage error);
//!   the `CloudTrail` and audit services judge real events (`OpenSearch`
//!   2, a log file); the change-window cron line writes downtime for an
//!   approved change.
//! - A running Nagios pages through pagerduty.cfg's commands, the active
//!   (`pd-nagios`) and the alternative (`pagerduty_nagios.pl`) form, each
//!   replaced by a stand-in that accepts only what the real script accepts.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use nightwatch_testkit::pagerduty::Pager;
use nightwatch_testkit::process::scratch_dir;
use nightwatch_testkit::shipped_config::{
    ILLEGAL_MACRO_OUTPUT_CHARS, SHIPPED_PREFIX, cfg_files, config_dir, host_status, password_file,
    resource_lines, site_resources, stage_config, start_nagios,
};
use nightwatch_testkit::unix_now;
use nightwatch_testkit::{
    Graphite, Nagios, NagiosBuilder, PluginRun, State, StateType, plugin, plugin_at,
};

// ---------------------------------------------------------------- paths

// The workspace root: in tests/support (shipped_config), re-exported for
// sensu_checks.
pub(crate) use nightwatch_testkit::shipped_config::repo_root;

// The directory of the built workspace binaries (what `$USER1$` and a
// Sensu asset's `bin/` become in these tests).
pub(crate) fn plugin_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("NIGHTWATCH_PLUGIN_DIR") {
            return PathBuf::from(dir);
        }
        // The harness builds every workspace binary on its first run; an
        // unreachable Graphite (loopback's discard port) is the cheapest
        // run that keeps the contract.
        plugin("check-graphite")
            .args(["--url", "http://127.0.0.1:9", "--target", "x", "-t", "2s"])
            .run()
            .state_is(State::Unknown);
        let exe = std::env::current_exe().expect("current_exe");
        // <target>/<profile>/deps/e2e-<hash> → <target>/<profile>
        exe.parent()
            .and_then(Path::parent)
            .expect("the test binary is in <profile>/deps")
            .to_owned()
    })
    .clone()
}

// Where the example "tls strict" services name the story's policy: where
// the Debian package and scripts/install put it.
pub(crate) const SHIPPED_POLICY: &str = "/etc/nightwatch/tls/story.toml";

// The story's policy in the source tree: what the tests pass instead of
// SHIPPED_POLICY, which need not exist on the test machine.
pub(crate) fn story_policy() -> PathBuf {
    let file = repo_root().join("plugins/check-tls-ciphers/policies/story.toml");
    assert!(file.is_file(), "{} is missing", file.display());
    file
}

// ---------------------------------------------------------------- objects

// One `define <kind> { … }` block.
#[derive(Debug, Clone)]
struct Object {
    kind: String,
    directives: Vec<(String, String)>,
    // `file:line` of its `define`.
    at: String,
}

impl Object {
    fn get(&self, key: &str) -> Option<&str> {
        self.directives
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn registered(&self) -> bool {
        self.get("register") != Some("0")
    }
}

// `;` starts a comment anywhere (unless written `\;`), `#` at a line's start.
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b';' && (i == 0 || bytes[i - 1] != b'\\') {
            return &line[..i];
        }
    }
    line
}

// Parses an object file, holding it to one directive per line: `define
// <kind> {` alone on its line, `}` alone on its line, one `key value` per
// line in between, no key twice.
fn parse_objects(path: &Path) -> Vec<Object> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut objects = Vec::new();
    let mut current: Option<Object> = None;
    for (index, raw) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), index + 1);
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("define ") {
            assert!(current.is_none(), "{at}: `define` inside a definition");
            let kind = rest
                .strip_suffix('{')
                .unwrap_or_else(|| panic!("{at}: `define <type> {{` must end its line: {line}"))
                .trim();
            assert!(
                !kind.is_empty() && !kind.contains(char::is_whitespace),
                "{at}: bad object type in {line:?}"
            );
            current = Some(Object {
                kind: kind.to_owned(),
                directives: Vec::new(),
                at,
            });
        } else if line == "}" {
            objects.push(
                current
                    .take()
                    .unwrap_or_else(|| panic!("{at}: `}}` outside a definition")),
            );
        } else {
            let object = current
                .as_mut()
                .unwrap_or_else(|| panic!("{at}: text outside a definition: {line}"));
            assert!(
                !line.contains('{') && !line.contains('}'),
                "{at}: one directive per line, no braces beside it: {line}"
            );
            let (key, value) = line
                .split_once(char::is_whitespace)
                .unwrap_or_else(|| panic!("{at}: `{line}` has no value"));
            assert!(
                object.get(key).is_none(),
                "{at}: {key} given twice in the {} starting at {}",
                object.kind,
                object.at
            );
            object
                .directives
                .push((key.to_owned(), value.trim().to_owned()));
        }
    }
    assert!(
        current.is_none(),
        "{}: a definition is not closed",
        path.display()
    );
    objects
}

// Every object of every `*.cfg` at nagios-config/'s top: the ham story
// (what the paging tests and the demo run in a live Nagios).
fn shipped_objects() -> Vec<Object> {
    cfg_files(&config_dir())
        .iter()
        .flat_map(|f| parse_objects(f))
        .collect()
}

// nagios-config/security/: the other plugins' commands and example
// services, loaded next to the top's files (Nagios' cfg_dir recurses).
fn security_dir() -> PathBuf {
    config_dir().join("security")
}

// Every object Nagios loads from nagios-config/ (top and security/).
fn every_shipped_object() -> Vec<Object> {
    let mut objects = shipped_objects();
    objects.extend(
        cfg_files(&security_dir())
            .iter()
            .flat_map(|f| parse_objects(f)),
    );
    objects
}

// resource.cfg for a test: the example's lines, with the plugin directory,
// the Graphite URL and the password file pointed at the test's.
fn test_resources(graphite_url: &str, password_file: &Path) -> BTreeMap<String, String> {
    site_resources(&plugin_dir(), graphite_url, password_file)
}

// ---------------------------------------------------------------- macros

// Replaces `$NAME$` as Nagios does (`$$` is a `$`); an unknown macro is a
// test failure, not an empty string.
fn expand(text: &str, macros: &BTreeMap<String, String>, at: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after
            .find('$')
            .unwrap_or_else(|| panic!("{at}: unterminated macro in {text}"));
        let name = &after[..end];
        if name.is_empty() {
            out.push('$');
        } else {
            out.push_str(
                macros
                    .get(name)
                    .unwrap_or_else(|| panic!("{at}: ${name}$ is not defined here, in {text}")),
            );
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

// `name!arg1!arg2` → name and args (`\!` is a literal `!`).
fn split_check_command(check_command: &str) -> (String, Vec<String>) {
    let mut parts = vec![String::new()];
    let mut chars = check_command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'!') => {
                parts.last_mut().expect("one part").push('!');
                chars.next();
            }
            '!' => parts.push(String::new()),
            _ => parts.last_mut().expect("one part").push(c),
        }
    }
    let name = parts.remove(0);
    (name, parts)
}

// A directive of `object` or of the templates it `use`s.
fn inherited<'a>(object: &'a Object, objects: &'a [Object], key: &str) -> Option<&'a str> {
    let mut current = object;
    for _ in 0..16 {
        if let Some(value) = current.get(key) {
            return Some(value);
        }
        let template = current.get("use")?;
        current = objects
            .iter()
            .find(|o| o.kind == current.kind && o.get("name") == Some(template))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no {} template named {template}",
                    current.at, current.kind
                )
            });
    }
    panic!("{}: `use` chain too deep", object.at)
}

// A host or service check, as Nagios would run it.
#[derive(Debug, Clone)]
struct CheckLine {
    host: String,
    // `None` for the host check.
    service: Option<String>,
    command_name: String,
    line: String,
}

impl CheckLine {
    fn name(&self) -> String {
        match &self.service {
            Some(service) => format!("{}/{service}", self.host),
            None => format!("host {}", self.host),
        }
    }
}

fn host_macros(
    host: &Object,
    objects: &[Object],
    users: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let name = host.get("host_name").expect("host_name").to_owned();
    let mut macros = users.clone();
    macros.insert("HOSTNAME".into(), name.clone());
    macros.insert(
        "HOSTALIAS".into(),
        inherited(host, objects, "alias")
            .unwrap_or(&name)
            .to_owned(),
    );
    macros.insert(
        "HOSTADDRESS".into(),
        inherited(host, objects, "address")
            .unwrap_or(&name)
            .to_owned(),
    );
    for (key, value) in &host.directives {
        if let Some(var) = key.strip_prefix('_') {
            macros.insert(format!("_HOST{}", var.to_uppercase()), value.clone());
        }
    }
    macros
}

fn command_line(
    check_command: &str,
    commands: &BTreeMap<String, String>,
    macros: &BTreeMap<String, String>,
    at: &str,
) -> (String, String) {
    let (name, args) = split_check_command(check_command);
    let template = commands
        .get(&name)
        .unwrap_or_else(|| panic!("{at}: check_command {name} is not defined"));
    let mut all = macros.clone();
    for (i, arg) in args.iter().enumerate() {
        // Nagios expands macros inside arguments too ($USERn$, $_HOST…$).
        all.insert(format!("ARG{}", i + 1), expand(arg, macros, at));
    }
    (name, expand(template, &all, at))
}

// Every registered host's and service's check command, expanded.
fn check_lines(objects: &[Object], users: &BTreeMap<String, String>) -> Vec<CheckLine> {
    let commands: BTreeMap<String, String> = objects
        .iter()
        .filter(|o| o.kind == "command")
        .map(|o| {
            (
                o.get("command_name").expect("command_name").to_owned(),
                o.get("command_line").expect("command_line").to_owned(),
            )
        })
        .collect();
    let hosts: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind == "host" && o.registered())
        .collect();
    let mut lines = Vec::new();
    for host in &hosts {
        let macros = host_macros(host, objects, users);
        // A host without a check_command is always UP for Nagios: the
        // examples leave reachability to the site's own checks.
        let Some(check) = inherited(host, objects, "check_command") else {
            continue;
        };
        let (command_name, line) = command_line(check, &commands, &macros, &host.at);
        lines.push(CheckLine {
            host: macros["HOSTNAME"].clone(),
            service: None,
            command_name,
            line,
        });
    }
    for service in objects
        .iter()
        .filter(|o| o.kind == "service" && o.registered())
    {
        let host_name = inherited(service, objects, "host_name").expect("host_name");
        let host = hosts
            .iter()
            .find(|h| h.get("host_name") == Some(host_name))
            .unwrap_or_else(|| panic!("{}: no host {host_name}", service.at));
        let mut macros = host_macros(host, objects, users);
        let description = service
            .get("service_description")
            .expect("service_description");
        macros.insert("SERVICEDESC".into(), description.to_owned());
        let check = inherited(service, objects, "check_command").expect("check_command");
        let (command_name, line) = command_line(check, &commands, &macros, &service.at);
        lines.push(CheckLine {
            host: host_name.to_owned(),
            service: Some(description.to_owned()),
            command_name,
            line,
        });
    }
    lines
}

// Runs a command line through `/bin/sh -c`, as Nagios does for a line with
// quotes in it, with the plugin contract checked.
fn run_line(line: &str) -> PluginRun {
    plugin_at("/bin/sh").args(["-c", line]).run()
}

// ---------------------------------------------------------------- the story in Graphite

// What the Pi sent, for one test: its probes' values, the exporter's health
// and how long ago it went quiet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Story {
    pub ham: f64,
    pub oven: f64,
    // Readings in the spool (`exporter.spool.readings`).
    pub spool: f64,
    // Readings each probe rejected per 10 s health interval.
    pub rejects_per_10s: f64,
    // Seconds since the last thing the Pi sent (0: sending now).
    pub silent_for: i64,
}

impl Story {
    // A ham cooking, the oven hot enough to pin its DS18B20 at 257 °F, the
    // exporter keeping up.
    pub(crate) const HEALTHY: Story = Story {
        ham: 120.5,
        oven: 257.0,
        spool: 4.0,
        rejects_per_10s: 0.2,
        silent_for: 0,
    };
    // Everything past its critical threshold, the Pi still talking.
    pub(crate) const BURNING: Story = Story {
        ham: 141.2,
        oven: 250.0,
        spool: 5000.0,
        rejects_per_10s: 40.0,
        silent_for: 0,
    };
    // A healthy Pi that stopped sending 150 s ago.
    pub(crate) const SILENT: Story = Story {
        silent_for: 150,
        ..Story::HEALTHY
    };
}

// A Graphite prefix no other test uses: `nw<pid>x<tag>.temperature`.
pub(crate) fn unique_prefix(tag: &str) -> String {
    format!("nw{}x{tag}.temperature", std::process::id())
}

// Sends three minutes of the story under `prefix`, as the exporter would
// (probes every second, health every 10 s), and waits until Graphite
// serves the newest point of every series.
pub(crate) fn feed(graphite: &Graphite, prefix: &str, story: &Story) {
    let end = unix_now() - story.silent_for;
    let start = end - 179;
    let names = [
        format!("{prefix}.ham"),
        format!("{prefix}.oven"),
        format!("{prefix}.exporter.send.sent"),
        format!("{prefix}.exporter.spool.readings"),
        format!("{prefix}.exporter.probe.ham.readings_rejected"),
        format!("{prefix}.exporter.probe.oven.readings_rejected"),
    ];
    let mut points: Vec<(&str, f64, i64)> = Vec::new();
    for ts in start..=end {
        points.push((&names[0], story.ham, ts));
        points.push((&names[1], story.oven, ts));
    }
    let mut health_ts = Vec::new();
    let mut ts = end;
    while ts >= start {
        health_ts.push(ts);
        ts -= 10;
    }
    health_ts.reverse();
    for (n, &ts) in health_ts.iter().enumerate() {
        let n = n as f64;
        points.push((&names[2], 1000.0 + 20.0 * n, ts));
        points.push((&names[3], story.spool, ts));
        points.push((
            &names[4],
            (10.0 * n * story.rejects_per_10s).round() / 10.0,
            ts,
        ));
        points.push((
            &names[5],
            (10.0 * n * story.rejects_per_10s).round() / 10.0,
            ts,
        ));
    }
    graphite.send(&points);
    for name in &names {
        graphite.wait_for(name, Duration::from_secs(15), |pts| {
            pts.last().is_some_and(|&(t, _)| t >= end)
        });
    }
}

// ---------------------------------------------------------------- nagios -v

#[test]
fn nagios_accepts_the_shipped_objects_alone() {
    let dir = scratch_dir("nagios-config-v");
    let users = test_resources("http://127.0.0.1:9", &password_file(dir.path()));
    let builder = resource_lines(&users).into_iter().fold(
        Nagios::builder().object_dir(config_dir()),
        NagiosBuilder::resource_line,
    );
    let verify = builder.verify();
    assert!(
        verify.ok,
        "nagios4 -v rejects nagios-config/:\n{}",
        verify.output
    );
    assert!(
        verify.output.contains("Total Warnings: 0"),
        "nagios4 -v warns about nagios-config/:\n{}",
        verify.output
    );
    // The ham story (4 services, 1 host) and security/: 4 CloudTrail, 2
    // TLS, 2 audit and 2 change-window services on 5 hosts.
    for (what, count) in [
        ("services", 14),
        ("hosts", 6),
        ("contacts", 1),
        ("contact groups", 1),
    ] {
        assert!(
            verify.output.contains(&format!("Checked {count} {what}.")),
            "expected {count} {what}:\n{}",
            verify.output
        );
    }
}

#[test]
fn nagios_accepts_the_shipped_objects_next_to_debians_samples() {
    let debian = [
        "/etc/nagios4/objects/commands.cfg",
        "/etc/nagios4/objects/contacts.cfg",
        "/etc/nagios4/objects/timeperiods.cfg",
        "/etc/nagios4/objects/templates.cfg",
        "/etc/nagios4/objects/localhost.cfg",
    ];
    let dir = scratch_dir("nagios-config-debian");
    let users = test_resources("http://127.0.0.1:9", &password_file(dir.path()));
    let mut builder = Nagios::builder().object_dir(config_dir());
    for file in debian {
        assert!(
            Path::new(file).exists(),
            "{file} is missing: apt-get install nagios4-core"
        );
        builder = builder.object_file(file);
    }
    builder = builder.object_dir("/etc/nagios-plugins/config");
    let builder = resource_lines(&users)
        .into_iter()
        .fold(builder, NagiosBuilder::resource_line);
    let verify = builder.verify();
    assert!(
        verify.ok,
        "nagios-config/ clashes with Debian's sample objects:\n{}",
        verify.output
    );
}

#[test]
fn the_objects_are_one_directive_per_line_and_self_contained() {
    let objects = every_shipped_object();
    let names = |kind: &str, key: &str| -> Vec<String> {
        objects
            .iter()
            .filter(|o| o.kind == kind)
            .filter_map(|o| o.get(key).map(str::to_owned))
            .collect()
    };
    // Everything we name is ours: no clash with a site's own objects.
    for (kind, key) in [
        ("timeperiod", "timeperiod_name"),
        ("host", "name"),
        ("service", "name"),
    ] {
        for name in names(kind, key) {
            assert!(
                name.starts_with("nightwatch-"),
                "{kind} {name} is not prefixed nightwatch-"
            );
        }
    }
    // No password, token or key in an object file: only $USERn$ macros.
    for object in &objects {
        for (key, value) in &object.directives {
            // A password flag (ps shows it), the example's key placeholder,
            // the key pasted where $USER5$ belongs.
            for secret in [
                "--password ",
                "--password=",
                "REPLACE-WITH",
                "-k $CONTACTPAGER$",
            ] {
                assert!(
                    !value.contains(secret),
                    "{}: {key} holds a secret ({secret:?}): {value}",
                    object.at
                );
            }
        }
        assert!(
            object.get("pager").is_none(),
            "{}: the integration key belongs in resource.cfg",
            object.at
        );
    }
    // Every check command is used, so the next test runs every one.
    let used: Vec<String> = objects
        .iter()
        .filter_map(|o| o.get("check_command"))
        .map(|c| split_check_command(c).0)
        .collect();
    for command in names("command", "command_name") {
        if command.starts_with("check_") {
            assert!(
                used.contains(&command),
                "check command {command} is defined but never used"
            );
        }
    }
    // Services page on w,u,c,r and hosts on d,r: never f or s, which
    // pd-nagios would refuse (FLAPPINGSTART, DOWNTIMESTART).
    for object in objects
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "service" | "host" | "contact"))
    {
        for key in [
            "notification_options",
            "service_notification_options",
            "host_notification_options",
        ] {
            if let Some(options) = object.get(key) {
                for option in options.split(',') {
                    assert!(
                        ["w", "u", "c", "r", "d"].contains(&option.trim()),
                        "{}: {key} {options} sends notification types pd-nagios refuses",
                        object.at
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- every command, against Graphite

// Expands every check command for `prefix` and runs it.
fn run_every_check(graphite: &Graphite, prefix: &str, dir: &Path) -> BTreeMap<String, PluginRun> {
    let users = test_resources(&graphite.url(), &password_file(dir));
    let mut objects = shipped_objects();
    let mut rewritten = false;
    for object in &mut objects {
        for (key, value) in &mut object.directives {
            if key == "_GRAPHITE_PREFIX" {
                assert_eq!(value, SHIPPED_PREFIX, "{}", object.at);
                prefix.clone_into(value);
                rewritten = true;
            }
        }
    }
    assert!(rewritten, "no host sets _GRAPHITE_PREFIX");
    let lines = check_lines(&objects, &users);
    assert_eq!(lines.len(), 5, "a host check and four services: {lines:#?}");
    let plugin = plugin_dir().join("check-graphite");
    let mut runs = BTreeMap::new();
    for check in lines {
        assert!(
            check.line.starts_with(&format!("{} ", plugin.display())),
            "{} ({}) does not run $USER1$/check-graphite: {}",
            check.name(),
            check.command_name,
            check.line
        );
        assert!(
            !check.line.contains(SHIPPED_PREFIX),
            "{}: prefix not from the host: {}",
            check.name(),
            check.line
        );
        let run = run_line(&check.line);
        runs.insert(check.name(), run);
    }
    runs
}

#[test]
fn every_check_command_judges_a_healthy_pi() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("nagok");
    feed(graphite, &prefix, &Story::HEALTHY);
    let dir = scratch_dir("nagios-config-ok");
    let runs = run_every_check(graphite, &prefix, dir.path());
    runs["host christmas-pi"]
        .state_is(State::Ok)
        .first_line_contains("exporter");
    runs["christmas-pi/ham"]
        .state_is(State::Ok)
        .first_line_contains("120.5°F")
        .perfdata_has("ham=120.5");
    // A DS18B20 in a hot oven: the probe is the news, not the oven.
    runs["christmas-pi/oven"]
        .state_is(State::Unknown)
        .first_line_contains("oven probe reads 257.0°F, the edge of its range");
    runs["christmas-pi/exporter spool"]
        .state_is(State::Ok)
        .perfdata_has("spool_readings=4");
    runs["christmas-pi/exporter rejected readings"]
        .state_is(State::Ok)
        .perfdata_has("rejected.ham=")
        .perfdata_has("rejected.oven=");
}

#[test]
fn every_check_command_judges_a_burning_ham() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("nagbad");
    feed(graphite, &prefix, &Story::BURNING);
    let dir = scratch_dir("nagios-config-bad");
    let runs = run_every_check(graphite, &prefix, dir.path());
    runs["host christmas-pi"].state_is(State::Ok);
    runs["christmas-pi/ham"]
        .state_is(State::Critical)
        .first_line_contains("ham 141.2°F above 140");
    runs["christmas-pi/oven"]
        .state_is(State::Critical)
        .first_line_contains("oven 250.0°F below 315");
    runs["christmas-pi/exporter spool"].state_is(State::Critical);
    runs["christmas-pi/exporter rejected readings"].state_is(State::Critical);
}

#[test]
fn a_silent_pi_is_its_own_finding() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("nagsilent");
    feed(graphite, &prefix, &Story::SILENT);
    let dir = scratch_dir("nagios-config-silent");
    let runs = run_every_check(graphite, &prefix, dir.path());
    // The host check says the Pi is gone (DOWN for Nagios)...
    runs["host christmas-pi"]
        .state_is(State::Critical)
        .first_line_contains("exporter is stale");
    // ...and no old value is judged as new.
    for probe in ["ham", "oven"] {
        runs[&format!("christmas-pi/{probe}")]
            .state_is(State::Unknown)
            .first_line_contains(&format!("{probe} is stale"));
    }
}

// ---------------------------------------------------------------- every line, every plugin

// A usage error (a flag the plugin does not know, a value it refuses) is
// UNKNOWN like an unreachable server: only the text tells them apart.
fn assert_not_a_usage_error(name: &str, line: &str, run: &PluginRun) {
    for usage in [
        "Usage:",
        "--help",
        "unexpected argument",
        "invalid value",
        "required arguments",
        "cannot be used with",
    ] {
        assert!(
            !run.stdout().contains(usage),
            "{name}: the plugin refuses the command line ({usage:?}):\n{line}\n{}",
            run.stdout()
        );
    }
}

// Every shipped object with its servers at the closed loopback port
// `closed`, the auth.log at `auth_log` and the story's policy at the
// source tree's: each rewrite must find what it rewrites.
fn objects_at_closed_ports(closed: u16, auth_log: &Path) -> Vec<Object> {
    let mut objects = every_shipped_object();
    let mut rewrites = BTreeMap::<&str, usize>::new();
    for object in &mut objects {
        for (key, value) in &mut object.directives {
            if key == "address" {
                "127.0.0.1".clone_into(value);
                *rewrites.entry("address").or_default() += 1;
            } else if key == "_TLS_PORT" {
                *value = closed.to_string();
                *rewrites.entry("_TLS_PORT").or_default() += 1;
            } else if key == "check_command" && value.contains("/var/log/auth.log") {
                *value = value.replace("/var/log/auth.log", &auth_log.display().to_string());
                *rewrites.entry("auth.log").or_default() += 1;
            } else if key == "check_command" && value.contains(SHIPPED_POLICY) {
                *value = value.replace(SHIPPED_POLICY, &story_policy().display().to_string());
                *rewrites.entry("policy").or_default() += 1;
            }
        }
    }
    assert_eq!(rewrites.get("_TLS_PORT"), Some(&2), "{rewrites:?}");
    assert_eq!(rewrites.get("auth.log"), Some(&1), "{rewrites:?}");
    assert_eq!(rewrites.get("policy"), Some(&1), "{rewrites:?}");
    objects
}

// Every host and service check of nagios-config/ (the ham story and
// security/), expanded as Nagios expands it, run by the real binary with
// every server it names on a closed loopback port: each keeps the plugin
// contract and answers about that port (or its file), which it can only do
// once its parser accepted every flag the definition passes.
#[test]
fn every_command_line_is_accepted_by_its_plugin() {
    let dir = scratch_dir("nagios-config-lines");
    let closed = nightwatch_testkit::ports::free_port();
    let url = format!("http://127.0.0.1:{closed}");
    let mut users = test_resources(&url, &password_file(dir.path()));
    let es_password = dir.path().join("elasticsearch.password");
    fs::write(&es_password, "not-a-real-password\n").expect("write the password file");
    let changes = dir.path().join("changes");
    fs::create_dir(&changes).expect("mkdir changes");
    for (key, value) in [
        ("USER6", url.clone()),
        ("USER8", es_password.display().to_string()),
        ("USER9", changes.display().to_string()),
    ] {
        assert!(
            users.contains_key(key),
            "resource.cfg.example sets no ${key}$"
        );
        users.insert(key.to_owned(), value);
    }
    // Hosts at the closed port; the log file in the temp dir, absent.
    let auth_log = dir.path().join("auth.log");
    let objects = objects_at_closed_ports(closed, &auth_log);
    let lines = check_lines(&objects, &users);
    assert_eq!(
        lines.len(),
        15,
        "the ham story's host check and 4 services, and security/'s 10 services: {lines:#?}"
    );
    let refused = format!("cannot connect to {url}/");
    let mut used = Vec::new();
    for check in &lines {
        let name = check.name();
        let binary = check.line.split_whitespace().next().unwrap_or_default();
        assert!(
            Path::new(binary).starts_with(plugin_dir()),
            "{name} ({}) does not run a plugin from $USER1$: {}",
            check.command_name,
            check.line
        );
        let run = run_line(&check.line);
        assert_not_a_usage_error(&name, &check.line, &run);
        let command = check.command_name.as_str();
        match command {
            // --unreachable-state ok: an unreachable Graphite is not the
            // Pi's fault.
            "check_graphite_fresh" => {
                run.state_is(State::Ok).first_line_contains(&refused);
            }
            "check_tls_ciphers" | "check_tls_policy" => {
                // The server under test is down: CRITICAL by default (the
                // policy file read first: a bad one would be UNKNOWN).
                run.state_is(State::Critical)
                    .first_line_contains(&format!("cannot connect to 127.0.0.1:{closed}"));
            }
            "check_audit_file" => {
                run.state_is(State::Unknown).first_line_contains(&format!(
                    "the log file {} does not exist",
                    auth_log.display()
                ));
            }
            "check_change_window" => {
                run.state_is(State::Ok)
                    .first_line_contains("no change in progress or due within 24h on web01");
            }
            _ => {
                // The data source is unreachable: UNKNOWN naming the URL,
                // with the index pattern expanded (--index understood).
                run.state_is(State::Unknown).first_line_contains(&refused);
                if command.starts_with("check_cloudtrail") || command.contains("observed") {
                    run.first_line_contains("/logstash-");
                } else if command == "check_audit_es_schedule" {
                    run.first_line_contains("/backups-");
                } else {
                    assert!(
                        command.starts_with("check_graphite"),
                        "{name}: no expectation for {command}"
                    );
                    run.first_line_contains("/render");
                }
            }
        }
        used.push(check.command_name.clone());
    }
    for object in objects.iter().filter(|o| o.kind == "command") {
        let command = object.get("command_name").expect("command_name");
        if command.starts_with("check_") {
            assert!(used.iter().any(|u| u == command), "{command} was never run");
        }
    }
}

// security/cloudtrail.cfg's four services against a real OpenSearch 2 node
// holding CloudTrail events received 10 minutes ago (AWS's documented
// shapes, tests/fixtures/cloudtrail): the lines as Nagios expands them,
// only the index prefix made the test's own.
#[test]
fn the_cloudtrail_services_judge_real_events_in_opensearch() {
    use nightwatch_search::Timestamp;
    use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};

    let node = SearchNode::shared(SearchFlavor::OpenSearch2);
    let received = Timestamp::from_second(unix_now() - 600).expect("in range");
    let prefix = format!("nwct{}", std::process::id());
    let index = format!("{prefix}-{}", received.strftime("%Y.%m.%d"));
    let docs = nightwatch_testkit::fixtures::cloudtrail_docs(
        &[
            "world_open_ssh",
            "iam_create_user",
            "root_console_login",
            "stop_logging",
        ],
        received.as_second(),
    );
    node.delete_index(&index);
    node.index_docs(&index, &docs);

    let dir = scratch_dir("nagios-config-cloudtrail");
    let mut users = test_resources("http://127.0.0.1:9", &password_file(dir.path()));
    let es_password = dir.path().join("elasticsearch.password");
    fs::write(&es_password, "not-a-real-password\n").expect("write the password file");
    users.insert("USER6".into(), node.url());
    users.insert("USER8".into(), es_password.display().to_string());
    let mut objects = every_shipped_object();
    for object in &mut objects {
        for (key, value) in &mut object.directives {
            if key == "check_command" && value.starts_with("check_cloudtrail") {
                assert!(value.contains("!logstash-%Y.%m.%d!"), "{}", object.at);
                *value = value.replace("!logstash-%Y.%m.%d!", &format!("!{prefix}-%Y.%m.%d!"));
            }
        }
    }
    let runs: BTreeMap<String, PluginRun> = check_lines(&objects, &users)
        .into_iter()
        .filter(|c| c.command_name.starts_with("check_cloudtrail"))
        .map(|c| (c.name(), run_line(&c.line)))
        .collect();
    assert_eq!(runs.len(), 4, "{:?}", runs.keys().collect::<Vec<_>>());
    // The story: SSH opened to the world pages at once, naming who.
    runs["aws-account/cloudtrail security groups"]
        .state_is(State::Critical)
        .first_line_contains("tcp 22 open to 0.0.0.0/0")
        .first_line_contains("alice");
    // One new IAM user: a warning (-w 0 -c 5).
    runs["aws-account/cloudtrail iam"].state_is(State::Warning);
    // The root user and a stopped trail page on any event.
    runs["aws-account/cloudtrail root"].state_is(State::Critical);
    runs["aws-account/cloudtrail trail"].state_is(State::Critical);
    node.delete_index(&index);
}

// security/audit.cfg's services on real data: an auth.log with Ansible
// runs, and backup events in a real OpenSearch 2 node where one of the
// two expected hosts never backed up.
#[test]
fn the_audit_services_judge_a_real_log_and_real_backup_events() {
    use nightwatch_search::Timestamp;
    use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};

    let node = SearchNode::shared(SearchFlavor::OpenSearch2);
    let recent = Timestamp::from_second(unix_now() - 300).expect("in range");
    let prefix = format!("nwbk{}", std::process::id());
    let index = format!("{prefix}-{}", recent.strftime("%Y.%m.%d"));
    node.delete_index(&index);
    node.index_docs(
        &index,
        &[serde_json::json!({
            "@timestamp": recent.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "job": "backup",
            "status": "success",
            "host": "db01",
        })],
    );
    let dir = scratch_dir("nagios-config-audit");
    let auth_log = dir.path().join("auth.log");
    let ran = Timestamp::from_second(unix_now() - 3 * 3600).expect("in range");
    fs::write(
        &auth_log,
        format!(
            "{} ansible-host ansible-playbook: Ansible playbook finished on web01\n",
            ran.strftime("%Y-%m-%dT%H:%M:%SZ")
        ),
    )
    .expect("write auth.log");
    let mut users = test_resources("http://127.0.0.1:9", &password_file(dir.path()));
    let es_password = dir.path().join("elasticsearch.password");
    fs::write(&es_password, "not-a-real-password\n").expect("write the password file");
    users.insert("USER6".into(), node.url());
    users.insert("USER8".into(), es_password.display().to_string());
    let mut objects = every_shipped_object();
    for object in &mut objects {
        for (key, value) in &mut object.directives {
            if key == "check_command" {
                *value = value
                    .replace("/var/log/auth.log", &auth_log.display().to_string())
                    .replace("!backups-%Y.%m.%d!", &format!("!{prefix}-%Y.%m.%d!"));
            }
        }
    }
    let runs: BTreeMap<String, PluginRun> = check_lines(&objects, &users)
        .into_iter()
        .filter(|c| c.command_name.starts_with("check_audit"))
        .map(|c| (c.name(), run_line(&c.line)))
        .collect();
    assert_eq!(runs.len(), 2, "{:?}", runs.keys().collect::<Vec<_>>());
    runs["audit-trails/ansible runs"]
        .state_is(State::Ok)
        .first_line_contains("web01");
    // db01 backed up after the last 02:00 run; files01 never did.
    runs["audit-trails/nightly backups"]
        .state_is(State::Critical)
        .first_line_contains("files01");
    node.delete_index(&index);
}

// security/tls.cfg's services against a real nginx configured as Mozilla
// intermediate asks (TLS 1.2 and 1.3, ECDHE AEAD suites, RSA 2048, 200
// days): `tls intermediate` passes, the strict policy (the story's
// story.toml: one suite per protocol) does not, for the suites it
// accepts beyond the policy's. Then against an nginx configured from
// `tls-policy render --policy story.toml --for nginx`: the strict
// service passes. The test CA is trusted the way a site adds its own,
// through the system roots (`SSL_CERT_FILE`), so the lines run as
// shipped, only the policy's path moved to the source tree's file.
#[test]
fn the_tls_services_judge_a_real_nginx() {
    use nightwatch_testkit::{KeyType, Nginx, TestCa};

    const INTERMEDIATE: &str = "ssl_protocols TLSv1.2 TLSv1.3;\n\
        ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';\n\
        ssl_ecdh_curve X25519:prime256v1:secp384r1;\nssl_prefer_server_ciphers off;";
    let ca = TestCa::shared();
    let leaf = ca.leaf_with("nagios-config-www", KeyType::Rsa(2048), 200);
    let intermediate = Nginx::builder()
        .tls(&leaf)
        .server_snippet(INTERMEDIATE)
        .start();
    let render = Command::new(plugin_dir().join("tls-policy"))
        .args(["render", "--policy"])
        .arg(story_policy())
        .args(["--for", "nginx"])
        .output()
        .expect("run tls-policy render");
    assert!(
        render.status.success(),
        "tls-policy render --for nginx: {}",
        String::from_utf8_lossy(&render.stderr)
    );
    let story = Nginx::builder()
        .tls(&leaf)
        .server_snippet(&String::from_utf8(render.stdout).expect("utf-8"))
        .start();
    let dir = scratch_dir("nagios-config-tls");
    let users = test_resources("http://127.0.0.1:9", &password_file(dir.path()));
    // Every TLS service, as Nagios would run it against the nginx at `port`.
    let run_at = |port: u16| -> BTreeMap<String, PluginRun> {
        let mut objects = every_shipped_object();
        for object in &mut objects {
            for (key, value) in &mut object.directives {
                if key == "address" {
                    *value = "127.0.0.1".to_owned();
                } else if key == "_TLS_PORT" {
                    *value = port.to_string();
                } else if key == "check_command" {
                    *value = value.replace(SHIPPED_POLICY, &story_policy().display().to_string());
                }
            }
        }
        check_lines(&objects, &users)
            .into_iter()
            .filter(|c| c.command_name.starts_with("check_tls_"))
            .map(|c| {
                let run = plugin_at("/bin/sh")
                    .args(["-c", &c.line])
                    .env("SSL_CERT_FILE", ca.cert())
                    .run();
                (c.name(), run)
            })
            .collect()
    };

    let runs = run_at(intermediate.port());
    assert_eq!(runs.len(), 2, "{:?}", runs.keys().collect::<Vec<_>>());
    runs["www/tls intermediate"]
        .state_is(State::Ok)
        .first_line_contains("mozilla-intermediate compliant: TLS 1.3 and TLS 1.2, 6 suites");
    // TLS 1.2 and 1.3 are the policy's, the RSA 2048 key too: only the
    // four suites beyond its one per protocol are wrong.
    runs["api/tls strict"]
        .state_is(State::Critical)
        .first_line_is("TLS CRITICAL: TLS_AES_128_GCM_SHA256 accepted and 3 more")
        .long_text_contains(
            "CRITICAL: suite TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (ECDHE-RSA-AES128-GCM-SHA256) \
             accepted in TLS 1.2, not in story",
        )
        .stdout_lacks("TLS 1.2 accepted")
        .perfdata_has("violations=4;");

    let runs = run_at(story.port());
    runs["api/tls strict"]
        .state_is(State::Ok)
        .first_line_contains("story compliant: TLS 1.3 and TLS 1.2, 2 suites");
}

// change-window.cron: a cron.d line (five time fields, a user, the
// command) whose `schedule` run writes downtime to Nagios' command file.
// Run as written, with only its paths moved into a temp dir.
#[test]
fn the_change_window_cron_line_runs() {
    let path = security_dir().join("change-window.cron");
    let text = fs::read_to_string(&path).expect("read change-window.cron");
    let entries: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(entries.len(), 1, "{}: one cron.d entry", path.display());
    // m h dom mon dow user command...
    let words: Vec<&str> = entries[0].split_whitespace().collect();
    assert!(
        words.len() > 6,
        "{}: m h dom mon dow user command",
        path.display()
    );
    for field in &words[..5] {
        assert!(
            field
                .chars()
                .all(|c| c.is_ascii_digit() || "*/,-".contains(c)),
            "{}: {field} is not a cron time field",
            path.display()
        );
    }
    assert_eq!(
        words[5], "nagios",
        "runs as the user that may write nagios.cmd"
    );
    let dir = scratch_dir("nagios-config-cron");
    let changes = dir.path().join("changes");
    fs::create_dir(&changes).expect("mkdir");
    // A real Nagios with the shipped objects (web01 among them): the cron
    // line writes to its command file and waits for its status.dat.
    let users = test_resources("http://127.0.0.1:9", &password_file(dir.path()));
    let nagios = start_nagios(&config_dir(), &users, &[]);
    let command_file = nagios.command_file();
    let status_file = nagios.dir().join("status.dat");
    let mut line = words[6..].join(" ");
    for (from, to) in [
        ("/usr/lib/nagios/plugins", plugin_dir()),
        ("/srv/changes", changes.clone()),
        ("/var/lib/nagios4/rw/nagios.cmd", command_file.clone()),
        ("/var/lib/nagios4/status.dat", status_file.clone()),
    ] {
        assert!(
            line.contains(from),
            "{}: no {from} in {line}",
            path.display()
        );
        line = line.replace(from, &to.display().to_string());
    }
    // A change to web01, approved (by the digest of its plan as written),
    // its window starting within the cron line's 24 h horizon.
    let now = unix_now();
    let record = changes.join("chg-1.md");
    let body = format!(
        "---\nid: CHG-1\nsummary: Restart nginx\nauthor: alice\nhosts: [web01]\nstakeholders: [web-team]\nstatus: approved\napprovals:\n  - by: bob\n    digest: DIGEST\nwindow:\n  start: {}\n  end: {}\n---\n## Change plan\nsystemctl restart nginx\n\n## Roll-back plan\nnone needed\n",
        nightwatch_core::display::clock(now + 3600),
        nightwatch_core::display::clock(now + 7200)
    );
    fs::write(&record, &body).expect("write record");
    let digest = Command::new(plugin_dir().join("check-change-window"))
        .arg("digest")
        .arg(&record)
        .output()
        .expect("check-change-window digest");
    assert!(digest.status.success(), "digest: {digest:?}");
    let digest = String::from_utf8_lossy(&digest.stdout).trim().to_owned();
    fs::write(&record, body.replace("DIGEST", &digest)).expect("write record");

    let output = Command::new("/bin/sh")
        .args(["-c", &line])
        .output()
        .expect("run the cron line");
    assert!(
        output.status.success(),
        "{line}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("CHG-1: downtime for web01"), "{line}: {said}");
    // The line returns once status.dat shows what it wrote.
    let status = fs::read_to_string(&status_file).expect("read status.dat");
    let downtime: Vec<&str> = status
        .split("\n\n")
        .filter(|block| block.trim_start().starts_with("hostdowntime {"))
        .filter(|block| {
            block.contains("host_name=web01") && block.contains("comment=change CHG-1:")
        })
        .collect();
    assert_eq!(
        downtime.len(),
        1,
        "one downtime for web01's approved window:\n{status}\n{}",
        nagios.logs()
    );
}

// ---------------------------------------------------------------- a running Nagios pages

#[test]
fn a_burning_ham_pages_through_pd_nagios_and_is_acknowledged_and_resolved() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("nagpage");
    feed(graphite, &prefix, &Story::BURNING);
    let dir = scratch_dir("nagios-config-page");
    let pager = Pager::new(dir.path());
    let objects = stage_config(dir.path(), &prefix, &pager, &[]);
    let users = test_resources(&graphite.url(), &password_file(dir.path()));
    let nagios = start_nagios(&objects, &users, &[]);

    let ham = nagios.wait_for_service("christmas-pi", "ham", Duration::from_secs(20), |s| {
        s.state_type == StateType::Hard && s.current_state == Some(State::Critical)
    });
    assert!(
        ham.plugin_output.contains("ham 141.2°F above 140"),
        "{ham:#?}"
    );
    let page = pager.wait_for(&nagios, "PROBLEM", Some("ham"));
    assert_eq!(page["script"], "pd-nagios");
    assert_eq!(page["k"], users["USER5"], "the key comes from $USER5$");
    assert_eq!(page["fields"]["HOSTNAME"], "christmas-pi");
    assert_eq!(page["fields"]["SERVICESTATE"], "CRITICAL");
    // The page carries the first line, minus illegal_macro_output_chars
    // (Debian's strips `<`, `>` and the shell's specials): check-graphite
    // says "above", so nothing the page needs is lost.
    let output = page["fields"]["SERVICEOUTPUT"]
        .as_str()
        .expect("SERVICEOUTPUT");
    let stripped: String = ham
        .plugin_output
        .chars()
        .filter(|c| !ILLEGAL_MACRO_OUTPUT_CHARS.contains(*c))
        .collect();
    assert_eq!(output, stripped, "the page shows the first line");
    assert!(output.contains("ham 141.2°F above 140"), "{output}");
    let host = host_status(&nagios, "christmas-pi").expect("christmas-pi in status.dat");
    assert_eq!(
        host["current_state"], "0",
        "the Pi is talking: UP\n{host:#?}"
    );

    nagios.external_command(
        "ACKNOWLEDGE_SVC_PROBLEM;christmas-pi;ham;1;1;0;nightwatch-test;taking it out",
    );
    pager.wait_for(&nagios, "ACKNOWLEDGEMENT", Some("ham"));

    // The ham comes out of the oven: the next check recovers, and the page
    // resolves.
    let now = unix_now();
    let name = format!("{prefix}.ham");
    graphite.send(&[(&name, 128.0, now - 1), (&name, 128.0, now)]);
    nagios.wait_for_service("christmas-pi", "ham", Duration::from_secs(20), |s| {
        s.current_state == Some(State::Ok)
    });
    let resolved = pager.wait_for(&nagios, "RECOVERY", Some("ham"));
    assert_eq!(resolved["fields"]["SERVICESTATE"], "OK");
    for event in pager.events() {
        assert_eq!(
            event["script"], "pd-nagios",
            "only the active form pages: {event}"
        );
    }
}

#[test]
fn a_silent_pi_pages_once_about_the_host() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("nagdown");
    feed(graphite, &prefix, &Story::SILENT);
    let dir = scratch_dir("nagios-config-down");
    let pager = Pager::new(dir.path());
    let objects = stage_config(dir.path(), &prefix, &pager, &[]);
    let users = test_resources(&graphite.url(), &password_file(dir.path()));
    let nagios = start_nagios(&objects, &users, &[]);

    let page = pager.wait_for(&nagios, "PROBLEM", None);
    assert_eq!(page["fields"]["HOSTSTATE"], "DOWN");
    let output = page["fields"]["HOSTOUTPUT"].as_str().expect("HOSTOUTPUT");
    assert!(output.contains("exporter is stale"), "{output}");
    // The probes are stale too, and HARD, but a DOWN host holds their pages.
    for probe in ["ham", "oven"] {
        nagios.wait_for_service("christmas-pi", probe, Duration::from_secs(20), |s| {
            s.state_type == StateType::Hard && s.current_state == Some(State::Unknown)
        });
    }
    std::thread::sleep(Duration::from_secs(2));
    let service_pages: Vec<_> = pager
        .events()
        .into_iter()
        .filter(|e| e["n"] == "service")
        .collect();
    assert!(
        service_pages.is_empty(),
        "a silent Pi paged per service: {service_pages:#?}"
    );
}

#[test]
fn the_perl_form_pages_when_switched_on_as_documented() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("nagperl");
    feed(graphite, &prefix, &Story::BURNING);
    let dir = scratch_dir("nagios-config-perl");
    let pager = Pager::new(dir.path());
    // The switch pagerduty.cfg describes: the contact's two commands.
    let objects = stage_config(
        dir.path(),
        &prefix,
        &pager,
        &[
            (
                "service_notification_commands   notify-service-by-pagerduty\n",
                "service_notification_commands   notify-service-by-pagerduty-perl\n",
            ),
            (
                "host_notification_commands      notify-host-by-pagerduty\n",
                "host_notification_commands      notify-host-by-pagerduty-perl\n",
            ),
        ],
    );
    let users = test_resources(&graphite.url(), &password_file(dir.path()));
    let nagios = start_nagios(&objects, &users, &[("enable_environment_macros", "1")]);
    let page = pager.wait_for(&nagios, "PROBLEM", Some("ham"));
    assert_eq!(page["script"], "pagerduty_nagios.pl");
    assert_eq!(
        page["k"], users["USER5"],
        "the key comes from $USER5$, not the contact"
    );
    assert_eq!(page["fields"]["SERVICESTATE"], "CRITICAL");
    assert_eq!(page["fields"]["HOSTNAME"], "christmas-pi");
}

// ---------------------------------------------------------------- scripts/install

fn run_install(args: &[&str]) -> String {
    let output = Command::new(repo_root().join("scripts/install"))
        .args(args)
        .arg("--from")
        .arg(plugin_dir())
        .output()
        .expect("run scripts/install");
    assert!(
        output.status.success(),
        "scripts/install {args:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

fn assert_executable(path: &Path) {
    let mode = fs::metadata(path)
        .unwrap_or_else(|e| panic!("{} was not installed: {e}", path.display()))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "{} has mode {mode:o}", path.display());
}

// What an install must have put under `root` for a prefix `prefix` and
// plugin dir `plugindir` (both as the files name them).
fn assert_installed(root: &Path, prefix: &str, plugindir: &str, sysconfdir: &str) {
    let under = |path: &str| root.join(path.trim_start_matches('/'));
    let check_graphite = under(&format!("{plugindir}/check-graphite"));
    assert_executable(&check_graphite);
    plugin_at(&check_graphite)
        .args(["--url", "http://127.0.0.1:9", "--target", "x", "-t", "2s"])
        .run()
        .state_is(State::Unknown);
    assert_executable(&under(&format!("{prefix}/bin/pi-probe-exporter")));

    let unit = fs::read_to_string(under(&format!(
        "{prefix}/lib/systemd/system/pi-probe-exporter.service"
    )))
    .expect("the systemd unit");
    assert!(
        unit.lines()
            .any(|l| l.starts_with(&format!("ExecStart={prefix}/bin/pi-probe-exporter"))),
        "the unit must start the installed binary:\n{unit}"
    );
    assert!(
        unit.contains(&format!("--config {sysconfdir}/pi-probe-exporter.toml")),
        "the unit must read the config beside the installed example:\n{unit}"
    );
    let example = fs::read(under(&format!(
        "{sysconfdir}/pi-probe-exporter.toml.example"
    )))
    .expect("the example config");
    assert_eq!(
        example,
        fs::read(repo_root().join("plugins/pi-probe-exporter/pi-probe-exporter.toml.example"))
            .expect("source")
    );

    // The story's TLS policy, where tls.cfg's `tls strict` names it (below
    // the install's sysconfdir), as shipped.
    let policy = format!("{sysconfdir}/nightwatch/tls/story.toml");
    assert_eq!(
        fs::read(under(&policy))
            .unwrap_or_else(|e| panic!("the story's policy is not installed as {policy}: {e}")),
        fs::read(story_policy()).expect("source"),
    );

    for (name, section) in [("check-graphite", "1"), ("pi-probe-exporter", "8")] {
        let page = under(&format!("{prefix}/share/man/man{section}/{name}.{section}"));
        let text = fs::read_to_string(&page).unwrap_or_else(|e| {
            panic!(
                "no man page {} ({e}): nightwatch-docgen writes pages only for the binaries \
                 in tools/docgen's binaries()",
                page.display()
            )
        });
        assert!(
            text.contains(&format!(".TH {name} {section}")),
            "{} is no man page:\n{text}",
            page.display()
        );
        let bash = under(&format!(
            "{prefix}/share/bash-completion/completions/{name}"
        ));
        let loaded = Command::new("bash")
            .arg("-c")
            .arg(format!("source '{}' && complete -p {name}", bash.display()))
            .output()
            .expect("run bash");
        assert!(
            loaded.status.success() && String::from_utf8_lossy(&loaded.stdout).contains(name),
            "bash cannot load {}: {}",
            bash.display(),
            String::from_utf8_lossy(&loaded.stderr)
        );
        let zsh = fs::read_to_string(under(&format!("{prefix}/share/zsh/site-functions/_{name}")))
            .expect("zsh");
        assert!(zsh.starts_with(&format!("#compdef {name}")), "{zsh}");
        let fish = fs::read_to_string(under(&format!(
            "{prefix}/share/fish/vendor_completions.d/{name}.fish"
        )))
        .expect("fish");
        assert!(fish.contains(&format!("complete -c {name}")), "{fish}");
    }
    for example in shipped_files(&["nagios-config", "sensu-checks"]) {
        let copy = under(&format!("{prefix}/share/nightwatch/{example}"));
        assert!(
            copy.exists(),
            "{example} (subdirectories too) must be installed as {}",
            copy.display()
        );
    }
    let manifest = fs::read_to_string(under(&format!(
        "{prefix}/share/nightwatch/install-manifest"
    )))
    .expect("manifest");
    for line in manifest.lines() {
        assert!(
            under(line).exists(),
            "the manifest lists {line}, which is not installed"
        );
    }
    assert!(
        manifest.lines().any(|l| l == policy),
        "the manifest lacks {policy}:\n{manifest}"
    );
}

// Every file under these repository directories, relative to the root.
fn shipped_files(dirs: &[&str]) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                let relative = path.strip_prefix(root).expect("under the root");
                out.push(relative.to_str().expect("utf-8").to_owned());
            }
        }
    }
    let root = repo_root();
    let mut files = Vec::new();
    for dir in dirs {
        walk(&root.join(dir), &root, &mut files);
    }
    assert!(files.iter().any(|f| f.contains("/security/")), "{files:?}");
    files
}

#[test]
fn install_into_a_private_prefix_needs_no_root() {
    let dir = scratch_dir("install-prefix");
    let prefix = dir.path().join("nightwatch");
    let prefix = prefix.to_str().expect("utf-8 path");
    let listed = run_install(&["--prefix", prefix]);
    assert!(
        listed.contains(&format!("{prefix}/lib/nagios/plugins/check-graphite")),
        "{listed}"
    );
    assert_installed(
        Path::new("/"),
        prefix,
        &format!("{prefix}/lib/nagios/plugins"),
        &format!("{prefix}/etc"),
    );
}

#[test]
fn install_stages_the_default_layout_under_a_destdir() {
    let dir = scratch_dir("install-destdir");
    let stage = dir.path().to_str().expect("utf-8 path");
    let listed = run_install(&["--destdir", stage]);
    assert!(
        listed.contains("/usr/lib/nagios/plugins/check-graphite"),
        "{listed}"
    );
    assert_installed(dir.path(), "/usr/local", "/usr/lib/nagios/plugins", "/etc");
}

// A TLS policy is config: installing again over an edited one keeps the
// edit and puts the shipped policy beside it as .dist; an unedited one is
// simply replaced.
#[test]
fn install_keeps_an_edited_tls_policy() {
    let dir = scratch_dir("install-policy");
    let stage = dir.path().to_str().expect("utf-8 path");
    run_install(&["--destdir", stage]);
    let policy = dir.path().join("etc/nightwatch/tls/story.toml");
    let dist = dir.path().join("etc/nightwatch/tls/story.toml.dist");
    run_install(&["--destdir", stage]);
    assert!(!dist.exists(), "an unedited policy needs no .dist");

    let edited = "# the site's own\nname = \"story\"\nprotocols = [\"TLS1.3\"]\n";
    fs::write(&policy, edited).expect("edit the policy");
    let listed = run_install(&["--destdir", stage]);
    assert_eq!(fs::read_to_string(&policy).expect("policy"), edited);
    assert_eq!(
        fs::read(&dist).expect("the shipped policy as .dist"),
        fs::read(story_policy()).expect("source")
    );
    assert!(
        listed
            .lines()
            .any(|l| l == "/etc/nightwatch/tls/story.toml.dist"),
        "{listed}"
    );
}
