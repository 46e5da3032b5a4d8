//! `nagios-config/` as shipped, staged for a test Nagios: the object files
//! copied with only the paths a test must change rewritten, `resource.cfg`
//! lines from `resource.cfg.example` pointed at the test's plugin
//! directory, Graphite and password file.
//!
//! Every rewrite must find the text it replaces: when the shipped files
//! change, a test fails naming the text, instead of silently testing
//! something else.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::Nagios;
use crate::pagerduty::Pager;

/// The real path of the `PagerDuty` Agent's script, as pagerduty.cfg names it.
pub const PD_NAGIOS: &str = "/usr/share/pdagent-integrations/bin/pd-nagios";
/// The real path of the older Perl script, as pagerduty.cfg names it.
pub const PD_PERL: &str = "/usr/local/bin/pagerduty_nagios.pl";
/// What christmas-pi.cfg sets `_GRAPHITE_PREFIX` to.
pub const SHIPPED_PREFIX: &str = "christmaspi.temperature";
/// Debian's nagios.cfg (and the harness's): stripped from `$SERVICEOUTPUT$`
/// and friends before a notification command sees them.
pub const ILLEGAL_MACRO_OUTPUT_CHARS: &str = "`~$&|'\"<>";

/// The workspace root.
#[must_use]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

/// `nagios-config/`.
#[must_use]
pub fn config_dir() -> PathBuf {
    repo_root().join("nagios-config")
}

/// The `*.cfg` files of `dir`, sorted.
#[must_use]
pub fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "cfg"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.cfg in {}", dir.display());
    files
}

/// `$USERn$=value` lines of resource.cfg.example, by macro name (`USER1`).
#[must_use]
pub fn resource_example() -> BTreeMap<String, String> {
    let path = config_dir().join("resource.cfg.example");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut users = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .strip_prefix('$')
            .and_then(|rest| rest.split_once("$="))
            .unwrap_or_else(|| panic!("{}: not a `$USERn$=value` line: {line}", path.display()));
        assert!(
            name.strip_prefix("USER")
                .and_then(|n| n.parse::<u16>().ok())
                .is_some_and(|n| (1..=256).contains(&n)),
            "{}: {name} is not USER1..USER256",
            path.display()
        );
        users.insert(name.to_owned(), value.to_owned());
    }
    users
}

/// resource.cfg for a test: the example's lines, with the plugin directory
/// (`$USER1$`), the Graphite URL (`$USER2$`) and the password file
/// (`$USER4$`) pointed at the test's.
#[must_use]
pub fn site_resources(
    plugin_dir: &Path,
    graphite_url: &str,
    password_file: &Path,
) -> BTreeMap<String, String> {
    let mut users = resource_example();
    for (key, value) in [
        ("USER1", plugin_dir.display().to_string()),
        ("USER2", graphite_url.to_owned()),
        ("USER4", password_file.display().to_string()),
    ] {
        assert!(
            users.contains_key(key),
            "resource.cfg.example sets no ${key}$"
        );
        users.insert(key.to_owned(), value);
    }
    users
}

/// `$KEY$=value` lines for [`crate::NagiosBuilder::resource_line`].
#[must_use]
pub fn resource_lines(users: &BTreeMap<String, String>) -> Vec<String> {
    users.iter().map(|(k, v)| format!("${k}$={v}")).collect()
}

/// Writes `dir/graphite.password` (a Graphite without authentication
/// ignores it, but commands.cfg needs the file) and returns its path.
#[must_use]
pub fn password_file(dir: &Path) -> PathBuf {
    let path = dir.join("graphite.password");
    fs::write(&path, "not-a-real-password\n").expect("write the password file");
    path
}

/// nagios-config/ copied into `dir/nightwatch` with only the paths a test
/// must change rewritten (the `PagerDuty` scripts become `pager`'s stand-ins,
/// the host's `_GRAPHITE_PREFIX` becomes `prefix`), plus any `extra`
/// replacements. Each rewrite must find what it replaces. Returns the
/// directory, for [`crate::NagiosBuilder::object_dir`].
#[must_use]
pub fn stage_config(dir: &Path, prefix: &str, pager: &Pager, extra: &[(&str, &str)]) -> PathBuf {
    let objects = dir.join("nightwatch");
    fs::create_dir_all(&objects).expect("mkdir");
    let pd = pager.dir().join("pd-nagios").display().to_string();
    let perl = pager
        .dir()
        .join("pagerduty_nagios.pl")
        .display()
        .to_string();
    let prefix_line = format!("_GRAPHITE_PREFIX                {SHIPPED_PREFIX}\n");
    let new_prefix_line = format!("_GRAPHITE_PREFIX                {prefix}\n");
    let mut replacements: Vec<(&str, &str)> = vec![
        (PD_NAGIOS, &pd),
        (PD_PERL, &perl),
        (&prefix_line, &new_prefix_line),
    ];
    replacements.extend_from_slice(extra);
    let mut found = vec![false; replacements.len()];
    for file in cfg_files(&config_dir()) {
        let mut text = fs::read_to_string(&file).expect("read cfg");
        for (i, (from, to)) in replacements.iter().enumerate() {
            if text.contains(from) {
                found[i] = true;
                text = text.replace(from, to);
            }
        }
        fs::write(objects.join(file.file_name().expect("name")), text).expect("write cfg");
    }
    for ((from, _), found) in replacements.iter().zip(found) {
        assert!(found, "nagios-config/ no longer contains {from:?}");
    }
    objects
}

/// Starts Nagios over `objects` with `users` as resource.cfg and `main`
/// as extra nagios.cfg settings.
#[must_use]
pub fn start_nagios(
    objects: &Path,
    users: &BTreeMap<String, String>,
    main: &[(&str, &str)],
) -> Nagios {
    // With interval_length=1 a retry is due after a second, inside the 15 s
    // for which Nagios reuses a host check result by default; at Debian's
    // interval_length=60 the horizon is shorter than any retry.
    let mut builder = Nagios::builder()
        .object_dir(objects)
        .main_cfg("cached_host_check_horizon", "0");
    for line in resource_lines(users) {
        builder = builder.resource_line(line);
    }
    for (key, value) in main {
        builder = builder.main_cfg(key, value);
    }
    builder.start()
}

/// `hoststatus` fields of `host` in status.dat.
#[must_use]
pub fn host_status(nagios: &Nagios, host: &str) -> Option<BTreeMap<String, String>> {
    let text = fs::read_to_string(nagios.dir().join("status.dat")).ok()?;
    let mut block: Option<BTreeMap<String, String>> = None;
    for line in text.lines().map(str::trim_start) {
        if line.starts_with("hoststatus {") {
            block = Some(BTreeMap::new());
        } else if line == "}" {
            if let Some(fields) = block.take()
                && fields.get("host_name").map(String::as_str) == Some(host)
            {
                return Some(fields);
            }
        } else if let (Some(fields), Some((k, v))) = (block.as_mut(), line.split_once('=')) {
            fields.insert(k.to_owned(), v.to_owned());
        }
    }
    None
}
