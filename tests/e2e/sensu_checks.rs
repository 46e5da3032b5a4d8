//! sensu-checks/: every document parses as YAML, is a `core/v2` resource,
//! uses only fields Sensu Go knows (with the types it expects) and passes
//! the checks Sensu Go's own `Validate()` makes; every check command, with
//! its entity tokens substituted from the proxy entity its `proxy_requests`
//! match, runs check-graphite against a Graphite fed with the story; the
//! `PagerDuty` handler maps UNKNOWN to "error" and takes its token from a
//! secret.
//!
//! Sensu Go cannot be installed here, so its rules are held below, taken
//! from its protobuf definitions in the public sensu/sensu-go repository at
//! commit 7b866d1fd1205aaddef8670de3328860526193a6 (the last one with
//! `api/core/v2/*.proto`; the API moved to the sensu/core module after it).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_norway::Value;

use nightwatch_testkit::contract::sensu_nagios_perfdata;
use nightwatch_testkit::process::scratch_dir;
use nightwatch_testkit::{Graphite, PluginRun, State, plugin_at};

use crate::nagios_config::{
    SHIPPED_POLICY, Story, feed, plugin_dir, repo_root, story_policy, unique_prefix,
};

// ---------------------------------------------------------------- what Sensu Go knows

// The type a field must have in YAML.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    // uint32 / int64: a YAML integer, never a quoted string.
    Int,
    Bool,
    StrList,
    // `map<string, string>`: every value a YAML string (`"140"`, not `140`).
    StrMap,
    // A nested message with its own field list.
    Message(&'static [(&'static str, Kind)]),
    // A list of a nested message.
    Messages(&'static [(&'static str, Kind)]),
    // A field Sensu knows whose content these files do not use; allowed,
    // not checked further.
    Opaque,
}

use Kind::{Bool, Int, Message, Messages, Opaque, Str, StrList, StrMap};

// api/core/v2/meta.proto, message ObjectMeta.
const OBJECT_META: &[(&str, Kind)] = &[
    ("name", Str),
    ("namespace", Str),
    ("labels", StrMap),
    ("annotations", StrMap),
    ("created_by", Str),
];

// api/core/v2/secret.proto, message Secret.
const SECRET: &[(&str, Kind)] = &[("name", Str), ("secret", Str)];

// api/core/v2/check.proto, message ProxyRequests.
const PROXY_REQUESTS: &[(&str, Kind)] = &[
    ("entity_attributes", StrList),
    ("splay", Bool),
    ("splay_coverage", Int),
];

// api/core/v2/check.proto, message CheckConfig (metadata is the wrapper's;
// `scheduler` and ExtendedAttributes are `json:"-"`).
const CHECK_CONFIG: &[(&str, Kind)] = &[
    ("command", Str),
    ("handlers", StrList),
    ("high_flap_threshold", Int),
    ("interval", Int),
    ("low_flap_threshold", Int),
    ("publish", Bool),
    ("runtime_assets", StrList),
    ("subscriptions", StrList),
    ("proxy_entity_name", Str),
    ("check_hooks", Opaque),
    ("stdin", Bool),
    ("subdue", Opaque),
    ("cron", Str),
    ("ttl", Int),
    ("timeout", Int),
    ("proxy_requests", Message(PROXY_REQUESTS)),
    ("round_robin", Bool),
    ("output_metric_format", Str),
    ("output_metric_handlers", StrList),
    ("env_vars", StrList),
    ("max_output_size", Int),
    ("discard_output", Bool),
    ("secrets", Messages(SECRET)),
    ("output_metric_tags", Opaque),
    ("pipelines", Opaque),
    ("output_metric_thresholds", Opaque),
    ("subdues", Opaque),
];

// api/core/v2/handler.proto, message HandlerSocket.
const HANDLER_SOCKET: &[(&str, Kind)] = &[("host", Str), ("port", Int)];

// api/core/v2/handler.proto, message Handler.
const HANDLER: &[(&str, Kind)] = &[
    ("type", Str),
    ("mutator", Str),
    ("command", Str),
    ("timeout", Int),
    ("socket", Message(HANDLER_SOCKET)),
    ("handlers", StrList),
    ("filters", StrList),
    ("env_vars", StrList),
    ("runtime_assets", StrList),
    ("secrets", Messages(SECRET)),
];

// api/core/v2/asset.proto, message AssetBuild.
const ASSET_BUILD: &[(&str, Kind)] = &[
    ("url", Str),
    ("sha512", Str),
    ("filters", StrList),
    ("headers", StrMap),
];

// api/core/v2/asset.proto, message Asset.
const ASSET: &[(&str, Kind)] = &[
    ("url", Str),
    ("sha512", Str),
    ("filters", StrList),
    ("builds", Messages(ASSET_BUILD)),
    ("headers", StrMap),
];

// api/core/v2/entity.proto, message Deregistration.
const DEREGISTRATION: &[(&str, Kind)] = &[("handler", Str)];

// api/core/v2/entity.proto, message Entity.
const ENTITY: &[(&str, Kind)] = &[
    ("entity_class", Str),
    ("system", Opaque),
    ("subscriptions", StrList),
    ("last_seen", Int),
    ("deregister", Bool),
    ("deregistration", Message(DEREGISTRATION)),
    ("user", Str),
    ("redact", StrList),
    ("sensu_agent_version", Str),
    ("keepalive_handlers", StrList),
];

// api/core/v2/filter.proto, message EventFilter.
const EVENT_FILTER: &[(&str, Kind)] = &[
    ("action", Str),
    ("expressions", StrList),
    ("when", Opaque),
    ("runtime_assets", StrList),
];

// The wrapper every resource file uses: types/wrapper.go (`type` and
// `api_version` from meta.proto's TypeMeta, `metadata`, `spec`).
const WRAPPER: &[&str] = &["type", "api_version", "metadata", "spec"];

fn spec_fields(kind: &str) -> &'static [(&'static str, Kind)] {
    match kind {
        "CheckConfig" => CHECK_CONFIG,
        "Handler" => HANDLER,
        "Asset" => ASSET,
        "Entity" => ENTITY,
        "EventFilter" => EVENT_FILTER,
        other => panic!("a core/v2 {other} is not a resource these files should hold"),
    }
}

// Filters Sensu Go has built in (backend/pipeline/filter).
const BUILTIN_FILTERS: &[&str] = &["is_incident", "not_silenced", "has_metrics"];
// Bonsai assets the resources use; docs/sensu-go.md must say how
// to add each one.
// api/core/v2/check.go, OutputMetricFormats.
const OUTPUT_METRIC_FORMATS: &[&str] = &[
    "nagios_perfdata",
    "graphite_plaintext",
    "opentsdb_line",
    "influxdb_line",
    "prometheus_text",
];
const BONSAI_ASSETS: &[&str] = &[
    "sensu/sensu-pagerduty-handler",
    "sensu/sensu-go-fatigue-check-filter",
];

// ---------------------------------------------------------------- loading

#[derive(Debug, Clone)]
struct Resource {
    kind: String,
    name: String,
    metadata: Value,
    spec: Value,
    at: String,
}

fn yaml_files() -> Vec<PathBuf> {
    let dir = repo_root().join("sensu-checks");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    for file in &files {
        // `sensuctl create -f sensu-checks/` parses every file at the top of
        // the directory as resources, whatever its name (cli/resource/process.go).
        assert!(
            file.extension().is_some_and(|e| e == "yaml" || e == "yml"),
            "{}: sensuctl create -f sensu-checks/ would parse this as a resource; keep only YAML there",
            file.display()
        );
    }
    files.sort();
    assert!(!files.is_empty(), "no YAML in {}", dir.display());
    files
}

fn resources() -> Vec<Resource> {
    yaml_files()
        .iter()
        .flat_map(|file| {
            let text = fs::read_to_string(file).expect("read yaml");
            sensuctl_resources(&text, &file.display().to_string())
        })
        .collect()
}

/// What `sensuctl create -f` makes of one file, or fails with.
fn sensuctl_resources(text: &str, origin: &str) -> Vec<Resource> {
    sensuctl_documents(text)
        .iter()
        .enumerate()
        .map(|(index, chunk)| {
            let at = format!("{origin} document {}", index + 1);
            let value: Value =
                serde_norway::from_str(chunk).unwrap_or_else(|e| panic!("{at}: not YAML: {e}"));
            assert!(
                !value.is_null(),
                "{at}: sensuctl reads every block between `---` lines as a resource, and this one \
                 holds none (sensuctl create fails the whole file: \"api not found\")"
            );
            go_yaml_reads_the_same_strings(&value, chunk, &at);
            resource(&value, at)
        })
        .collect()
}

/// The documents as sensuctl splits them (cli/resource/parse.go,
/// splitResources): at every line that starts with `---`, keeping any
/// non-empty block, even one of comments only.
fn sensuctl_documents(text: &str) -> Vec<String> {
    let mut documents = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("---") {
            if !current.is_empty() {
                documents.push(std::mem::take(&mut current));
            }
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if !current.is_empty() {
        documents.push(current);
    }
    documents
}

/// sensuctl reads YAML with go-yaml v2 (YAML 1.1): a plain `0000…`, `yes`
/// or `off` is a number or a boolean there, where `serde_norway` (YAML 1.2)
/// may keep a string. Such a string must be quoted in the file.
fn go_yaml_reads_the_same_strings(value: &Value, source: &str, at: &str) {
    match value {
        Value::String(text) if yaml11_non_string(text) => assert!(
            source.contains(&format!("\"{text}\"")) || source.contains(&format!("'{text}'")),
            "{at}: {text:?} must be quoted: sensuctl's YAML 1.1 reads it as a number or boolean"
        ),
        Value::Sequence(items) => {
            for item in items {
                go_yaml_reads_the_same_strings(item, source, at);
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map {
                go_yaml_reads_the_same_strings(key, source, at);
                go_yaml_reads_the_same_strings(item, source, at);
            }
        }
        _ => {}
    }
}

/// Plain scalars YAML 1.1 resolves to something other than a string.
fn yaml11_non_string(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "",
        ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN",
    ];
    let number = text.trim_start_matches(['-', '+']);
    let radix = |prefix: &str, digit: fn(&char) -> bool| {
        number
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c == '_' || digit(&c)))
    };
    WORDS.contains(&text)
        || (number.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && (number.parse::<f64>().is_ok()
                || number.chars().all(|c| c.is_ascii_digit() || c == '_')
                || radix("0x", char::is_ascii_hexdigit)
                || radix("0b", |c| matches!(c, '0' | '1'))))
}

fn resource(value: &Value, at: String) -> Resource {
    let map = value
        .as_mapping()
        .unwrap_or_else(|| panic!("{at}: not a mapping"));
    for key in map.keys() {
        let key = key
            .as_str()
            .unwrap_or_else(|| panic!("{at}: a non-string key"));
        assert!(
            WRAPPER.contains(&key),
            "{at}: {key} is not a resource field ({WRAPPER:?})"
        );
    }
    assert_eq!(
        value["api_version"].as_str(),
        Some("core/v2"),
        "{at}: api_version"
    );
    let kind = value["type"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: no type"))
        .to_owned();
    let metadata = value["metadata"].clone();
    check_fields(&metadata, OBJECT_META, &format!("{at} metadata"));
    let name = metadata["name"]
        .as_str()
        .unwrap_or_else(|| panic!("{at}: metadata.name"))
        .to_owned();
    let spec = value["spec"].clone();
    check_fields(&spec, spec_fields(&kind), &format!("{at} spec"));
    Resource {
        kind,
        name,
        metadata,
        spec,
        at,
    }
}

fn check_fields(value: &Value, fields: &[(&str, Kind)], at: &str) {
    let map = value
        .as_mapping()
        .unwrap_or_else(|| panic!("{at}: not a mapping"));
    for (key, item) in map {
        let key = key
            .as_str()
            .unwrap_or_else(|| panic!("{at}: a non-string key"));
        let (_, kind) = fields
            .iter()
            .find(|(name, _)| *name == key)
            .unwrap_or_else(|| panic!("{at}: Sensu Go knows no field {key:?} here"));
        check_kind(item, *kind, &format!("{at}.{key}"));
    }
}

fn check_kind(value: &Value, kind: Kind, at: &str) {
    let strings = |seq: &Value| {
        for item in seq
            .as_sequence()
            .unwrap_or_else(|| panic!("{at}: not a list"))
        {
            assert!(item.is_string(), "{at}: {item:?} is not a string");
        }
    };
    match kind {
        Str => assert!(value.is_string(), "{at}: {value:?} is not a string"),
        Int => assert!(
            value.is_u64() || value.is_i64(),
            "{at}: {value:?} is not an integer"
        ),
        Bool => assert!(value.is_bool(), "{at}: {value:?} is not true/false"),
        StrList => strings(value),
        StrMap => {
            for (k, v) in value
                .as_mapping()
                .unwrap_or_else(|| panic!("{at}: not a mapping"))
            {
                assert!(
                    k.is_string() && v.is_string(),
                    "{at}: {k:?}: {v:?} must be a string (quote it)"
                );
            }
        }
        Message(fields) => check_fields(value, fields, at),
        Messages(fields) => {
            for (i, item) in value
                .as_sequence()
                .unwrap_or_else(|| panic!("{at}: not a list"))
                .iter()
                .enumerate()
            {
                check_fields(item, fields, &format!("{at}[{i}]"));
            }
        }
        Opaque => {}
    }
}

fn strs(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- Sensu Go's Validate()

// `\A[\w\.\-\:]+\z` (api/core/v2/validators.go, NameRegex).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_.-:".contains(c))
}

// `[\w\/\_\.\-\:]+` (api/core/v2/asset.go, AssetNameRegexStr).
fn valid_asset_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "/_.-:".contains(c))
}

// What the resources may refer to: their own names, Sensu Go's built-in
// filters and the Bonsai assets the README tells how to add.
struct Names {
    all: Vec<(String, String)>,
    readme: String,
}

impl Names {
    fn new(all: &[Resource]) -> Names {
        Names {
            all: all
                .iter()
                .map(|r| (r.kind.clone(), r.name.clone()))
                .collect(),
            readme: fs::read_to_string(repo_root().join("docs/sensu-go.md"))
                .expect("docs/sensu-go.md"),
        }
    }

    fn has(&self, kind: &str, name: &str) -> bool {
        self.all.iter().any(|(k, n)| k == kind && n == name)
    }

    fn asset(&self, name: &str) -> bool {
        self.has("Asset", name)
            || (BONSAI_ASSETS.contains(&name)
                && self.readme.contains(&format!("sensuctl asset add {name}")))
    }
}

fn non_empty(value: &Value) -> bool {
    value.as_str().is_some_and(|c| !c.trim().is_empty())
}

// The rules every resource shares: names, assets, secrets, env vars.
fn validate_common(r: &Resource, names: &Names) {
    let (at, spec) = (&r.at, &r.spec);
    if r.kind == "Asset" {
        assert!(valid_asset_name(&r.name), "{at}: asset name {:?}", r.name);
    } else {
        assert!(valid_name(&r.name), "{at}: name {:?}", r.name);
    }
    for asset in strs(&spec["runtime_assets"]) {
        assert!(
            valid_asset_name(&asset) && names.asset(&asset),
            "{at}: runtime asset {asset} is defined nowhere"
        );
    }
    for secret in spec["secrets"].as_sequence().into_iter().flatten() {
        let env = secret["name"].as_str().expect("secret name");
        assert!(
            env.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "{at}: secret name {env} is an environment variable name"
        );
        assert!(
            valid_name(secret["secret"].as_str().expect("secret")),
            "{at}"
        );
    }
    for var in strs(&spec["env_vars"]) {
        let (k, v) = var.split_once('=').unwrap_or_default();
        assert!(
            !k.is_empty() && !v.is_empty(),
            "{at}: env var {var} is not FOO=BAR"
        );
    }
}

// CheckConfig.Validate (api/core/v2/check_config.go).
fn validate_check(r: &Resource, names: &Names) {
    let (at, spec) = (&r.at, &r.spec);
    let interval = spec["interval"].as_u64().unwrap_or(0);
    let cron = spec["cron"].as_str().unwrap_or("");
    assert!(
        (interval > 0) == cron.is_empty(),
        "{at}: an interval or a cron schedule, not both"
    );
    if let Some(ttl) = spec["ttl"].as_u64() {
        assert!(
            ttl > interval,
            "{at}: ttl must be greater than the interval"
        );
    }
    if let Some(format) = spec["output_metric_format"].as_str() {
        assert!(
            OUTPUT_METRIC_FORMATS.contains(&format),
            "{at}: output_metric_format {format}"
        );
    }
    for subscription in strs(&spec["subscriptions"]) {
        assert!(!subscription.is_empty(), "{at}: empty subscription");
    }
    for handler in strs(&spec["handlers"]) {
        assert!(
            names.has("Handler", &handler),
            "{at}: handler {handler} is defined nowhere"
        );
    }
    assert!(non_empty(&spec["command"]), "{at}: no command");
}

// Handler.Validate (api/core/v2/handler.go).
fn validate_handler(r: &Resource, names: &Names) {
    let (at, spec) = (&r.at, &r.spec);
    let kind = spec["type"].as_str().unwrap_or("");
    assert!(
        ["pipe", "set", "tcp", "udp"].contains(&kind),
        "{at}: handler type {kind:?}"
    );
    if kind == "pipe" {
        assert!(non_empty(&spec["command"]), "{at}: no command");
    }
    for filter in strs(&spec["filters"]) {
        assert!(
            BUILTIN_FILTERS.contains(&filter.as_str()) || names.has("EventFilter", &filter),
            "{at}: filter {filter} is defined nowhere"
        );
    }
}

// Asset.Validate (api/core/v2/asset.go), plus the filters this suite's
// binaries need.
fn validate_asset(r: &Resource) {
    let (at, spec) = (&r.at, &r.spec);
    let sha = spec["sha512"].as_str().unwrap_or("");
    assert!(
        sha.len() == 128 && sha.chars().all(|c| c.is_ascii_hexdigit()),
        "{at}: sha512 must be 128 hex digits"
    );
    assert!(
        spec["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")),
        "{at}: url"
    );
    let filters = strs(&spec["filters"]);
    for want in [
        "entity.system.os == 'linux'",
        "entity.system.arch == 'amd64'",
    ] {
        assert!(filters.iter().any(|f| f == want), "{at}: no filter {want}");
    }
}

#[test]
fn every_document_is_a_core_v2_resource_sensu_go_accepts() {
    let all = resources();
    let names = Names::new(&all);
    for kind in ["Entity", "CheckConfig", "Handler", "Asset", "EventFilter"] {
        assert!(
            all.iter().any(|r| r.kind == kind),
            "no {kind} in sensu-checks/"
        );
    }
    let mut seen = BTreeMap::new();
    for r in &all {
        let (at, spec) = (&r.at, &r.spec);
        if let Some(first) = seen.insert((r.kind.clone(), r.name.clone()), at.clone()) {
            panic!("{at}: {} {} is also defined in {first}", r.kind, r.name);
        }
        validate_common(r, &names);
        match r.kind.as_str() {
            "CheckConfig" => validate_check(r, &names),
            "Handler" => validate_handler(r, &names),
            "Asset" => validate_asset(r),
            // Entity.Validate (api/core/v2/entity.go)
            "Entity" => assert!(
                spec["entity_class"].as_str().is_some_and(valid_name),
                "{at}: entity_class"
            ),
            // EventFilter.Validate (api/core/v2/filter.go)
            "EventFilter" => {
                let action = spec["action"].as_str().unwrap_or("");
                assert!(
                    ["allow", "deny"].contains(&action),
                    "{at}: action {action:?}"
                );
                assert!(
                    !strs(&spec["expressions"]).is_empty(),
                    "{at}: no expressions"
                );
            }
            _ => unreachable!("resource() accepts no other type"),
        }
    }
}

// ---------------------------------------------------------------- the PagerDuty handler

// Splits a command line as `sh` would (quotes, backslashes; no expansions:
// the handler commands hold none).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.push(chars.next().unwrap_or('\\')),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn the_pagerduty_handler_pages_unknown_as_error_with_a_secret_token() {
    let all = resources();
    let handler = all
        .iter()
        .find(|r| r.kind == "Handler" && r.name == "pagerduty")
        .expect("a pagerduty Handler");
    let command = handler.spec["command"].as_str().expect("command");
    let words = shell_words(command);
    assert_eq!(words[0], "sensu-pagerduty-handler", "{command}");
    let option = |name: &str| {
        words
            .iter()
            .position(|w| w == name)
            .and_then(|i| words.get(i + 1))
            .unwrap_or_else(|| panic!("no {name} in {command}"))
    };
    let map: BTreeMap<String, Vec<u32>> =
        serde_json::from_str(option("--status-map")).expect("--status-map is JSON");
    let severity = |status: u32| -> &str {
        map.iter()
            .find(|(_, statuses)| statuses.contains(&status))
            .map_or("(unmapped: the handler's default)", |(s, _)| s.as_str())
    };
    for severity_name in map.keys() {
        assert!(
            ["info", "warning", "error", "critical"].contains(&severity_name.as_str()),
            "the handler refuses severity {severity_name}"
        );
    }
    assert_eq!(severity(0), "info");
    assert_eq!(severity(1), "warning");
    assert_eq!(severity(2), "critical");
    assert_eq!(severity(3), "error", "UNKNOWN is not a warning");
    assert!(option("--dedup-key-template").contains("{{.Check.Name}}"));
    // The token: from a secret, never on the command line.
    for word in &words {
        assert!(
            !["--token", "-t"].contains(&word.as_str()),
            "a token on the command line: {command}"
        );
    }
    let secrets = handler.spec["secrets"].as_sequence().expect("secrets");
    assert!(
        secrets.iter().any(|s| s["name"] == "PAGERDUTY_TOKEN"),
        "PAGERDUTY_TOKEN must come from a secret"
    );
    assert!(
        strs(&handler.spec["runtime_assets"]).contains(&"sensu/sensu-pagerduty-handler".to_owned())
    );
    for check in all.iter().filter(|r| r.kind == "CheckConfig") {
        assert!(
            strs(&check.spec["handlers"]).contains(&"pagerduty".to_owned()),
            "{}: check {} does not page",
            check.at,
            check.name
        );
    }
}

// ---------------------------------------------------------------- tokens and proxy entities

// `entity.<path> == '<value>'`, the one form of entity_attributes these
// files use; any other expression fails the test (extend this).
fn matches_attribute(entity: &Resource, expression: &str) -> bool {
    let (path, value) = expression
        .split_once("==")
        .unwrap_or_else(|| panic!("unsupported entity_attributes expression {expression:?}"));
    let path = path
        .trim()
        .strip_prefix("entity.")
        .unwrap_or_else(|| panic!("{expression:?}"));
    let value = value.trim();
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{expression:?}: compare with a 'quoted' value"));
    entity_attribute(entity, path).as_deref() == Some(value)
}

// A path of the synthesized entity: ObjectMeta's fields at the top
// (`name`, `labels.x`, `annotations.x`), then the spec's.
fn entity_attribute(entity: &Resource, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut value = if OBJECT_META.iter().any(|(name, _)| *name == first) {
        entity.metadata.get(first)?
    } else {
        entity.spec.get(first)?
    };
    for part in parts {
        value = value.get(part)?;
    }
    value.as_str().map(str::to_owned)
}

// Substitutes `{{ .path }}` and `{{ .path | default "x" }}` as Sensu Go's
// token substitution does; a token it could not resolve is an error there
// and a failure here.
fn substitute_tokens(command: &str, entity: &Resource, at: &str) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .unwrap_or_else(|| panic!("{at}: unterminated token in {command}"))
            + start;
        let inner = rest[start + 2..end].trim();
        let (path, default) = match inner.split_once('|') {
            Some((path, filter)) => {
                let literal = filter
                    .trim()
                    .strip_prefix("default")
                    .map(str::trim)
                    .and_then(|d| d.strip_prefix('"'))
                    .and_then(|d| d.strip_suffix('"'))
                    .unwrap_or_else(|| {
                        panic!("{at}: only `| default \"x\"` is supported: {inner}")
                    });
                (path.trim(), Some(literal))
            }
            None => (inner, None),
        };
        let path = path
            .strip_prefix('.')
            .unwrap_or_else(|| panic!("{at}: a token path starts with '.': {inner}"));
        let value = entity_attribute(entity, path)
            .or_else(|| default.map(str::to_owned))
            .unwrap_or_else(|| panic!("{at}: unmatched token {inner} for entity {}", entity.name));
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

// Each check with the entities it runs for and its substituted command.
fn scheduled_commands(all: &[Resource]) -> Vec<(String, String, String)> {
    let entities: Vec<&Resource> = all.iter().filter(|r| r.kind == "Entity").collect();
    let mut out = Vec::new();
    for check in all.iter().filter(|r| r.kind == "CheckConfig") {
        let at = &check.at;
        let command = check.spec["command"].as_str().expect("command");
        assert!(
            check.spec["round_robin"].as_bool() == Some(true),
            "{at}: a proxy check runs once, on one agent of its subscription: round_robin"
        );
        let expressions = strs(&check.spec["proxy_requests"]["entity_attributes"]);
        let targets: Vec<&Resource> = if expressions.is_empty() {
            let name = check.spec["proxy_entity_name"].as_str().unwrap_or_else(|| {
                panic!("{at}: a check of a thing without an agent needs proxy_requests or proxy_entity_name")
            });
            assert!(
                !command.contains("{{"),
                "{at}: with a bare proxy_entity_name, tokens resolve against the agent, not {name}"
            );
            entities
                .iter()
                .copied()
                .filter(|e| e.name == name)
                .collect()
        } else {
            entities
                .iter()
                .copied()
                .filter(|e| expressions.iter().all(|x| matches_attribute(e, x)))
                .collect()
        };
        assert!(
            !targets.is_empty(),
            "{at}: {} matches no entity in sensu-checks/",
            check.name
        );
        for entity in targets {
            assert_eq!(
                entity.spec["entity_class"], "proxy",
                "{}: the Pi runs no agent",
                entity.at
            );
            out.push((
                check.name.clone(),
                entity.name.clone(),
                substitute_tokens(command, entity, at),
            ));
        }
    }
    out
}

// Runs every check command for the proxy entity `christmas-pi`, with its
// annotations pointed at the test's Graphite and `prefix` (and `extra`
// annotations), as the asset puts `bin/` on PATH and the secret sets
// GRAPHITE_PASSWORD.
fn run_every_check(
    graphite: &Graphite,
    prefix: &str,
    extra: &[(&str, &str)],
) -> BTreeMap<String, PluginRun> {
    let mut all = resources();
    let entity = all
        .iter_mut()
        .find(|r| r.kind == "Entity" && r.name == "christmas-pi")
        .expect("the christmas-pi Entity");
    assert_eq!(
        entity.metadata["annotations"]["graphite_prefix"].as_str(),
        Some("christmaspi.temperature"),
        "{}",
        entity.at
    );
    let annotations = entity.metadata["annotations"]
        .as_mapping_mut()
        .expect("annotations");
    annotations.insert("graphite_url".into(), graphite.url().into());
    annotations.insert("graphite_prefix".into(), prefix.into());
    for (key, value) in extra {
        annotations.insert((*key).into(), (*value).into());
    }
    let path = format!(
        "{}:{}",
        plugin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut runs = BTreeMap::new();
    // The Pi's checks; security.yaml's run in the test after these.
    for (check, _, command) in scheduled_commands(&all)
        .into_iter()
        .filter(|(_, entity, _)| entity == "christmas-pi")
    {
        assert!(command.starts_with("check-graphite "), "{check}: {command}");
        assert!(
            command.contains(&graphite.url()),
            "{check}: the URL is not the entity's: {command}"
        );
        assert!(
            !command.contains("christmaspi.temperature"),
            "{check}: a prefix not from the entity: {command}"
        );
        // Sensu Go runs check commands with `sh -c` on Linux.
        let run = plugin_at("/bin/sh")
            .args(["-c", &command])
            .env("PATH", &path)
            .env("GRAPHITE_PASSWORD", "not-a-real-password")
            .run();
        runs.insert(check, run);
    }
    assert_eq!(runs.len(), 5, "{:?}", runs.keys().collect::<Vec<_>>());
    runs
}

// security.yaml: every other plugin's checks, for every proxy entity they
// match, with the entities' annotations pointed at closed loopback ports
// (and the auth.log at an absent temp file): each command, tokens
// substituted as the backend does, runs as the agent runs it (`sh -c`, the
// asset's bin/ on PATH, the secret in $ES_PASSWORD) and answers about that
// port or file, which it can only do once its parser accepted every flag.
#[test]
fn every_other_check_command_is_accepted_by_its_plugin() {
    let closed = nightwatch_testkit::ports::free_port();
    let url = format!("http://127.0.0.1:{closed}");
    let dir = scratch_dir("sensu-checks-lines");
    let auth_log = dir.path().join("auth.log");
    let changes = dir.path().join("changes");
    fs::create_dir(&changes).expect("mkdir changes");
    let mut all = resources();
    for entity in all
        .iter_mut()
        .filter(|r| r.kind == "Entity" && r.name != "christmas-pi")
    {
        let annotations = entity.metadata["annotations"]
            .as_mapping_mut()
            .expect("annotations");
        for (key, value) in [
            ("search_url", url.clone()),
            ("tls_host", "127.0.0.1".to_owned()),
            ("tls_port", closed.to_string()),
            ("auth_log", auth_log.display().to_string()),
            ("change_records", changes.display().to_string()),
            ("tls_policy_file", story_policy().display().to_string()),
        ] {
            if annotations.contains_key(key) {
                annotations.insert(key.into(), value.into());
            }
        }
    }
    let path = format!(
        "{}:{}",
        plugin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let refused = format!("cannot connect to {url}/");
    let mut ran = Vec::new();
    for (check, entity, command) in scheduled_commands(&all)
        .into_iter()
        .filter(|(_, entity, _)| entity != "christmas-pi")
    {
        let run = plugin_at("/bin/sh")
            .args(["-c", &command])
            .env("PATH", &path)
            .env("ES_PASSWORD", "not-a-real-password")
            .run();
        for usage in [
            "Usage:",
            "--help",
            "unexpected argument",
            "invalid value",
            "required arguments",
        ] {
            assert!(
                !run.stdout().contains(usage),
                "{check} for {entity}: the plugin refuses {command}:\n{}",
                run.stdout()
            );
        }
        match check.as_str() {
            "tls-intermediate" | "tls-strict" => {
                // tls-strict reads its policy file first: a missing one
                // would be UNKNOWN.
                if check == "tls-strict" {
                    let policy = format!("--policy '{}'", story_policy().display());
                    assert!(command.contains(&policy), "{check}: {command}");
                }
                run.state_is(State::Critical)
                    .first_line_contains(&format!("cannot connect to 127.0.0.1:{closed}"));
            }
            "ansible-runs" => {
                run.state_is(State::Unknown).first_line_contains(&format!(
                    "the log file {} does not exist",
                    auth_log.display()
                ));
            }
            "change-window" => {
                run.state_is(State::Ok).first_line_contains(&format!(
                    "no change in progress or due within 24h on {entity}"
                ));
            }
            _ => {
                run.state_is(State::Unknown).first_line_contains(&refused);
            }
        }
        ran.push(format!("{check}@{entity}"));
    }
    ran.sort();
    assert_eq!(
        ran,
        [
            "ansible-runs@audit-trails",
            "change-window@web01",
            "cloudtrail-iam@aws-account",
            "cloudtrail-root@aws-account",
            "cloudtrail-security-groups@aws-account",
            "cloudtrail-trail@aws-account",
            "nightly-backups@audit-trails",
            "observed-changes@web01",
            "tls-intermediate@www",
            "tls-strict@api",
        ]
    );
}

// tls-strict judges against the policy file the entity's annotation
// names, by default where the Debian package installs the story's.
#[test]
fn the_strict_tls_check_judges_against_the_installed_story_policy() {
    let mut all = resources();
    let strict = |all: &[Resource]| -> Vec<String> {
        scheduled_commands(all)
            .into_iter()
            .filter(|(check, _, _)| check == "tls-strict")
            .map(|(_, entity, command)| format!("{entity}: {command}"))
            .collect()
    };
    let want = format!(
        "api: check-tls-ciphers --host 'api.example.org' --port '443' --policy '{SHIPPED_POLICY}' --warning 21d --critical 7d"
    );
    assert_eq!(strict(&all), std::slice::from_ref(&want));
    let api = all
        .iter_mut()
        .find(|r| r.kind == "Entity" && r.name == "api")
        .expect("the api Entity");
    api.metadata["annotations"]
        .as_mapping_mut()
        .expect("annotations")
        .remove("tls_policy_file")
        .expect("api names its policy file");
    assert_eq!(strict(&all), [want], "the command's default");
}

// Every new check pages through the fatigue filter on its second
// occurrence in a row (the story's occurrences: 2), the change checks on
// the first (an unapproved change is news at once).
#[test]
fn the_other_checks_page_on_their_second_occurrence() {
    for check in resources()
        .iter()
        .filter(|r| r.kind == "CheckConfig" && !r.name.starts_with("christmas-pi"))
    {
        let occurrences = check.metadata["annotations"]["fatigue_check/occurrences"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no fatigue_check/occurrences", check.at));
        let want = if check.name.contains("change") {
            "1"
        } else {
            "2"
        };
        assert_eq!(occurrences, want, "{}", check.at);
        assert_eq!(
            check.spec["output_metric_format"].as_str(),
            Some("nagios_perfdata"),
            "{}",
            check.at
        );
        assert_eq!(
            check.spec["round_robin"].as_bool(),
            Some(true),
            "{}",
            check.at
        );
    }
}

// The metrics Sensu's nagios_perfdata extraction gets from a run.
fn metrics(run: &PluginRun) -> Vec<String> {
    sensu_nagios_perfdata(run.stdout())
        .into_iter()
        .map(|m| m.name)
        .collect()
}

#[test]
fn every_check_command_judges_a_healthy_pi() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("sensuok");
    feed(graphite, &prefix, &Story::HEALTHY);
    let runs = run_every_check(graphite, &prefix, &[]);
    runs["christmas-pi-heartbeat"].state_is(State::Ok);
    runs["christmas-pi-ham"]
        .state_is(State::Ok)
        .first_line_contains("120.5°F");
    assert_eq!(
        metrics(&runs["christmas-pi-ham"]),
        ["ham"],
        "Sensu's metric from the ham check"
    );
    runs["christmas-pi-oven"]
        .state_is(State::Unknown)
        .first_line_contains("the edge of its range");
    runs["christmas-pi-exporter-spool"].state_is(State::Ok);
    assert_eq!(
        metrics(&runs["christmas-pi-exporter-spool"]),
        ["spool_readings"]
    );
    runs["christmas-pi-exporter-rejected"].state_is(State::Ok);
    assert_eq!(
        metrics(&runs["christmas-pi-exporter-rejected"]),
        ["rejected.ham", "rejected.oven"]
    );
}

#[test]
fn every_check_command_judges_a_burning_ham() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("sensubad");
    feed(graphite, &prefix, &Story::BURNING);
    let runs = run_every_check(graphite, &prefix, &[]);
    runs["christmas-pi-heartbeat"].state_is(State::Ok);
    runs["christmas-pi-ham"]
        .state_is(State::Critical)
        .first_line_contains("ham 141.2°F above 140");
    runs["christmas-pi-oven"]
        .state_is(State::Critical)
        .first_line_contains("oven 250.0°F below 315");
    runs["christmas-pi-exporter-spool"].state_is(State::Critical);
    runs["christmas-pi-exporter-rejected"].state_is(State::Critical);
}

#[test]
fn a_silent_pi_is_its_own_finding() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("sensusilent");
    feed(graphite, &prefix, &Story::SILENT);
    let runs = run_every_check(graphite, &prefix, &[]);
    runs["christmas-pi-heartbeat"]
        .state_is(State::Critical)
        .first_line_contains("exporter is stale");
    runs["christmas-pi-ham"]
        .state_is(State::Unknown)
        .first_line_contains("ham is stale");
}

#[test]
fn an_entity_annotation_overrides_a_threshold() {
    let graphite = Graphite::shared();
    let prefix = unique_prefix("sensuover");
    feed(graphite, &prefix, &Story::HEALTHY);
    // A smaller ham that is done at 118 °F: the same check pages at 120.5.
    let runs = run_every_check(
        graphite,
        &prefix,
        &[("ham_warning", "115"), ("ham_critical", "118")],
    );
    runs["christmas-pi-ham"]
        .state_is(State::Critical)
        .first_line_contains("above 118");
}

// The plugins (plugins/check-*) of the test's build, stripped: a debug
// build's 60 MB of debug info would make gzip the slowest part of the test.
fn stripped_plugins(dir: &Path) -> PathBuf {
    let bin = dir.join("stripped");
    fs::create_dir_all(&bin).expect("mkdir");
    for entry in fs::read_dir(repo_root().join("plugins")).expect("plugins/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.starts_with("check-") {
            let status = std::process::Command::new("strip")
                .arg("-o")
                .arg(bin.join(&name))
                .arg(plugin_dir().join(&name))
                .status()
                .expect("run strip");
            assert!(status.success(), "strip {name}");
        }
    }
    bin
}

fn build_asset(from: &Path, out: &Path) -> String {
    let run = std::process::Command::new(repo_root().join("scripts/build-sensu-asset"))
        .arg("--from")
        .arg(from)
        .arg("--out")
        .arg(out)
        .arg("--url-base")
        .arg("https://assets.example.org/nightwatch/")
        .output()
        .expect("run scripts/build-sensu-asset");
    assert!(
        run.status.success(),
        "scripts/build-sensu-asset failed ({}):\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout).expect("utf-8")
}

#[test]
fn the_asset_script_packs_bin_prints_its_sha512_and_writes_the_asset() {
    // Packaging the test's own build (--from): the release build for musl
    // takes minutes and is the same code path from the `cargo build` on.
    let dir = scratch_dir("sensu-asset");
    let from = stripped_plugins(dir.path());
    let stdout = build_asset(&from, &dir.path().join("a"));
    let sha512 = stdout.trim_end();
    assert!(
        stdout.lines().count() == 1 && sha512.len() == 128,
        "stdout must be the sha512 alone: {stdout:?}"
    );
    // A debug build links glibc dynamically: the asset says so.
    let name = "nightwatch-plugins_0.1.0_linux_amd64_glibc";
    let tarball = dir.path().join(format!("a/{name}.tar.gz"));
    let summed = std::process::Command::new("sha512sum")
        .arg(&tarball)
        .output()
        .expect("sha512sum");
    assert!(String::from_utf8_lossy(&summed.stdout).starts_with(sha512));
    let listing = std::process::Command::new("tar")
        .arg("-tzf")
        .arg(&tarball)
        .output()
        .expect("tar -t");
    // Every plugin of the suite, as the other checks' runtime_assets expect.
    let mut plugins: Vec<String> = fs::read_dir(&from)
        .expect("stripped/")
        .map(|e| format!("bin/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    plugins.sort();
    for plugin in [
        "check-audit-freshness",
        "check-change-window",
        "check-cloudtrail-es",
        "check-graphite",
        "check-tls-ciphers",
    ] {
        assert!(
            plugins.contains(&format!("bin/{plugin}")),
            "{plugin} is not in plugins/: {plugins:?}"
        );
    }
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout),
        format!("bin/\n{}\n", plugins.join("\n"))
    );
    let unpacked = dir.path().join("unpacked");
    fs::create_dir_all(&unpacked).expect("mkdir");
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("tar -x");
    assert!(status.success());
    plugin_at(unpacked.join("bin/check-graphite"))
        .args(["--url", "http://127.0.0.1:9", "--target", "x", "-t", "2s"])
        .run()
        .state_is(State::Unknown);

    let yaml = fs::read_to_string(dir.path().join(format!("a/{name}.yaml"))).expect("the Asset");
    let documents = sensuctl_resources(&yaml, "the written Asset");
    assert_eq!(documents.len(), 1, "{yaml}");
    let asset = &documents[0];
    validate_asset(asset);
    assert_eq!(
        asset.name, "nightwatch-plugins",
        "the name the checks' runtime_assets use"
    );
    assert_eq!(asset.spec["sha512"].as_str(), Some(sha512));
    assert_eq!(
        asset.spec["url"].as_str(),
        Some(format!("https://assets.example.org/nightwatch/{name}.tar.gz").as_str())
    );
    assert!(
        strs(&asset.spec["filters"]).contains(&"entity.system.libc_type == 'glibc'".to_owned())
    );

    // Reproducible: the same binaries give the same sha512.
    assert_eq!(build_asset(&from, &dir.path().join("b")), stdout);
}
