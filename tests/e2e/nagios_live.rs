//! Every service of `nagios-config/security/` run by a live Nagios 4, not
//! only by our expansion of its command lines (`nagios_config.rs` does that):
//! the shipped objects, with the sites' addresses, ports, log path and
//! index prefixes pointed at the harness's real services, checked by
//! Nagios itself, their states read back from `status.dat`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nightwatch_search::Timestamp;
use nightwatch_testkit::fixtures::{cloudtrail_docs, rfc3339};
use nightwatch_testkit::pagerduty::Pager;
use nightwatch_testkit::process::scratch_dir;
use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};
use nightwatch_testkit::shipped_config::{
    SHIPPED_PREFIX, cfg_files, config_dir, password_file, resource_lines, site_resources,
    stage_config,
};
use nightwatch_testkit::{KeyType, Nagios, Nginx, ServiceStatus, State, TestCa, unix_now};

use crate::nagios_config::{SHIPPED_POLICY, plugin_dir, story_policy};

/// Mozilla intermediate for nginx, as the shipped `tls intermediate` expects.
const INTERMEDIATE: &str = "ssl_protocols TLSv1.2 TLSv1.3;\n\
    ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';\n\
    ssl_ecdh_curve X25519:prime256v1:secp384r1;\nssl_prefer_server_ciphers off;";

/// A shipped security file with the site-specific values moved onto the
/// harness: every `address` to loopback, `_TLS_PORT` to the test nginx,
/// the log path and the index patterns to this test's own, the story's
/// TLS policy to the source tree's.
fn rewrite(text: &str, tls_port: u16, auth_log: &Path, prefix: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let line = if let Some(value) = trimmed.strip_prefix("address") {
            format!(
                "{indent}address{}127.0.0.1",
                &value[..value.len() - value.trim_start().len()]
            )
        } else if let Some(value) = trimmed.strip_prefix("_TLS_PORT") {
            format!(
                "{indent}_TLS_PORT{}{tls_port}",
                &value[..value.len() - value.trim_start().len()]
            )
        } else {
            line.replace("/var/log/auth.log", &auth_log.display().to_string())
                .replace("!backups-%Y.%m.%d!", &format!("!{prefix}bk-%Y.%m.%d!"))
                .replace("!logstash-%Y.%m.%d!", &format!("!{prefix}ls-%Y.%m.%d!"))
                .replace(SHIPPED_POLICY, &story_policy().display().to_string())
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `CloudTrail`'s four risky calls, a backup of db01 (files01 never backs
/// up), received a few minutes ago.
fn index_events(node: &SearchNode, prefix: &str) {
    let recent = unix_now() - 300;
    let day = Timestamp::from_second(recent)
        .expect("in range")
        .strftime("%Y.%m.%d")
        .to_string();
    let cloudtrail = cloudtrail_docs(
        &[
            "world_open_ssh",
            "iam_create_user",
            "root_console_login",
            "stop_logging",
        ],
        recent,
    );
    let logstash = format!("{prefix}ls-{day}");
    node.delete_index(&logstash);
    node.index_docs(&logstash, &cloudtrail);
    let backups = format!("{prefix}bk-{day}");
    node.delete_index(&backups);
    node.index_docs(
        &backups,
        &[serde_json::json!({
            "@timestamp": rfc3339(recent),
            "job": "backup",
            "status": "success",
            "host": "db01",
        })],
    );
}

/// Polls `status.dat` until every service of `hosts` has been checked.
fn checked_services(
    nagios: &Nagios,
    hosts: &[&str],
    want: usize,
) -> BTreeMap<String, ServiceStatus> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let services: BTreeMap<String, ServiceStatus> = nagios
            .status()
            .into_iter()
            .filter(|s| hosts.contains(&s.host_name.as_str()) && s.has_been_checked)
            .map(|s| (format!("{}/{}", s.host_name, s.service_description), s))
            .collect();
        if services.len() >= want {
            return services;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {want} security services checked within 90 s: {:?}\n{}",
            services.len(),
            services.keys().collect::<Vec<_>>(),
            nagios.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The site's files the shipped services read: an auth.log with an Ansible
/// run 3 h ago, an empty change-record directory, a password file.
fn site_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let auth_log = dir.join("auth.log");
    fs::write(
        &auth_log,
        format!(
            "{} ansible-host ansible-playbook: Ansible playbook finished on web01\n",
            rfc3339(unix_now() - 3 * 3600)
        ),
    )
    .expect("write auth.log");
    let changes = dir.join("changes");
    fs::create_dir(&changes).expect("mkdir changes");
    let es_password = dir.join("elasticsearch.password");
    fs::write(&es_password, "not-a-real-password\n").expect("write the password file");
    (auth_log, changes, es_password)
}

#[test]
fn nagios_runs_every_shipped_security_service_against_real_services() {
    let node = SearchNode::shared(SearchFlavor::OpenSearch2);
    let prefix = format!("nwlive{}", std::process::id());
    index_events(node, &prefix);

    let ca = TestCa::shared();
    let nginx = Nginx::builder()
        .tls(&ca.leaf_with("nagios-live-www", KeyType::Rsa(2048), 200))
        .server_snippet(INTERMEDIATE)
        .start();
    let dir = scratch_dir("nagios-live");
    let (auth_log, changes, es_password) = site_files(dir.path());

    let pager_dir = dir.path().join("pager");
    fs::create_dir(&pager_dir).expect("mkdir pager");
    let pager = Pager::new(&pager_dir);
    fs::create_dir(dir.path().join("nagios")).expect("mkdir nagios");
    let objects = stage_config(&dir.path().join("nagios"), SHIPPED_PREFIX, &pager, &[]);
    for file in cfg_files(&config_dir().join("security")) {
        let text = fs::read_to_string(&file).expect("read a security cfg");
        let name = file.file_name().expect("name").to_string_lossy();
        fs::write(
            objects.join(format!("security-{name}")),
            rewrite(&text, nginx.port(), &auth_log, &prefix),
        )
        .expect("stage a security cfg");
    }
    let mut users = site_resources(
        &plugin_dir(),
        "http://127.0.0.1:9",
        &password_file(dir.path()),
    );
    users.insert("USER6".into(), node.url());
    users.insert("USER8".into(), es_password.display().to_string());
    users.insert("USER9".into(), changes.display().to_string());
    let mut builder = Nagios::builder()
        .object_dir(&objects)
        .main_cfg("cached_host_check_horizon", "0")
        // The site's CA among the system roots, as an admin adds its own.
        .env("SSL_CERT_FILE", &ca.cert().display().to_string());
    for line in resource_lines(&users) {
        builder = builder.resource_line(line);
    }
    let nagios = builder.start();

    let hosts = ["aws-account", "audit-trails", "www", "api", "web01"];
    let services = checked_services(&nagios, &hosts, 10);
    let expect = [
        (
            "aws-account/cloudtrail security groups",
            State::Critical,
            "tcp 22 open to 0.0.0.0/0",
        ),
        ("aws-account/cloudtrail iam", State::Warning, ""),
        ("aws-account/cloudtrail root", State::Critical, ""),
        ("aws-account/cloudtrail trail", State::Critical, ""),
        ("audit-trails/ansible runs", State::Ok, "web01"),
        ("audit-trails/nightly backups", State::Critical, "files01"),
        (
            "www/tls intermediate",
            State::Ok,
            "mozilla-intermediate compliant",
        ),
        // The story's policy: one suite per protocol, the nginx serves six.
        (
            "api/tls strict",
            State::Critical,
            "TLS_AES_128_GCM_SHA256 accepted and 3 more",
        ),
        ("web01/change window", State::Ok, ""),
        ("web01/observed changes", State::Ok, ""),
    ];
    assert_eq!(
        services.keys().collect::<Vec<_>>(),
        {
            let mut names: Vec<&str> = expect.iter().map(|(n, _, _)| *n).collect();
            names.sort_unstable();
            names
        },
        "the shipped security services"
    );
    for (name, state, text) in expect {
        let service = &services[name];
        assert_eq!(
            service.current_state,
            Some(state),
            "{name}: {}\n{}",
            service.plugin_output,
            service.long_plugin_output
        );
        assert!(
            service.plugin_output.contains(text),
            "{name}: {:?} lacks {text:?}",
            service.plugin_output
        );
    }
    drop(nagios);
    let logstash_day = Timestamp::from_second(unix_now() - 300)
        .expect("in range")
        .strftime("%Y.%m.%d")
        .to_string();
    node.delete_index(&format!("{prefix}ls-{logstash_day}"));
    node.delete_index(&format!("{prefix}bk-{logstash_day}"));
}
