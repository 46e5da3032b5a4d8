//! The demo's security shift, beside the ham in the same Nagios: the TLS
//! policy check of a compliant nginx and of a legacy `GnuTLS` server (in a
//! network namespace of its own), a `CloudTrail` event in a real `OpenSearch`
//! node that opens SSH to the world, and an approved change window whose
//! downtime silences a planned nginx restart while an unplanned change on
//! another host pages.
//!
//! Nagios loads `nagios-config/security/cloudtrail.cfg` and
//! `change-window.cfg` as shipped, with `$USER6$` (Elasticsearch URL),
//! `$USER8$` (its password file) and `$USER9$` (the change records) set to
//! the demo's, plus `demo-security.cfg`: a second change-managed host
//! (`web02`, a copy of `web01`'s observed-changes service) and `web01`'s
//! HTTPS endpoint (the demo's nginx, judged against the test CA).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use nightwatch_search::Timestamp;
use nightwatch_testkit::fixtures::{cloudtrail_docs, rfc3339 as iso};
use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};
use nightwatch_testkit::shipped_config::repo_root;
use nightwatch_testkit::story::Story;
use nightwatch_testkit::{
    GnutlsServ, Leaf, Nginx, PluginCmd, PluginRun, TestCa, plugin_at, unix_now,
};

/// Mozilla intermediate, as an nginx `server` block says it.
const INTERMEDIATE_NGINX: &str = "ssl_protocols TLSv1.2 TLSv1.3;\n\
    ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';\n\
    ssl_ecdh_curve X25519:prime256v1:secp384r1;\nssl_prefer_server_ciphers off;";
/// A server left behind in 2015: TLS 1.0, RC4, 3DES and static RSA.
const LEGACY_GNUTLS: &str =
    "NORMAL:+3DES-CBC:+ARCFOUR-128:+VERS-TLS1.0:+VERS-TLS1.1:+RSA:-VERS-TLS1.3";
/// The change the demo approves: web01's nginx restart.
pub const CHANGE_ID: &str = "CMB-7";

/// Everything the security shift started; dropped with the demo.
pub struct SecurityShift {
    node: &'static SearchNode,
    index: String,
    changes: PathBuf,
    leaf: Leaf,
    nginx: Option<Nginx>,
    nginx_port: u16,
    legacy: GnutlsServ,
    bin_dir: PathBuf,
}

/// `logstash-YYYY.MM.DD` of now, in UTC, as the shipped services search.
fn todays_index() -> String {
    let now = Timestamp::from_second(unix_now()).expect("now is in range");
    format!("logstash-{}", now.strftime("%Y.%m.%d"))
}

impl SecurityShift {
    /// Starts `OpenSearch`, nginx and gnutls-serv, writes the approved change,
    /// and stages the security objects and macros into the story's Nagios
    /// (which must not be running yet).
    pub fn prepare(story: &mut Story, bin_dir: &Path) -> Result<SecurityShift, String> {
        let node = std::panic::catch_unwind(|| SearchNode::shared(SearchFlavor::OpenSearch2))
            .map_err(|_| "OpenSearch 2 did not start (run scripts/setup)".to_owned())?;
        let index = todays_index();
        node.delete_index(&index);
        // A quiet account: one read-only call, so the index exists and the
        // `CloudTrail` services start OK.
        node.index_docs(
            &index,
            &[serde_json::json!({
                "@timestamp": iso(unix_now() - 60),
                "type": "cloudtrail",
                "eventTime": iso(unix_now() - 60),
                "eventSource": "ec2.amazonaws.com",
                "eventName": "DescribeSecurityGroups",
                "awsRegion": "us-east-1",
                "readOnly": true,
                "userIdentity": {"type": "IAMUser", "userName": "nagios",
                                 "arn": "arn:aws:iam::123456789012:user/nagios"},
            })],
        );

        let changes = story.dir().join("changes");
        fs::create_dir_all(&changes).map_err(|e| format!("mkdir changes: {e}"))?;
        write_approved_change(&changes, bin_dir)?;
        let es_password = story.dir().join("elasticsearch.password");
        fs::write(&es_password, "demo-not-a-secret\n").map_err(|e| e.to_string())?;

        let leaf = TestCa::shared().leaf("web01");
        let nginx = Nginx::builder()
            .tls(&leaf)
            .server_snippet(INTERMEDIATE_NGINX)
            .start();
        let nginx_port = nginx.port();
        let legacy = GnutlsServ::start(
            &TestCa::shared().leaf("legacy"),
            &["--priority", LEGACY_GNUTLS],
        );

        let security = repo_root().join("nagios-config/security");
        for file in ["cloudtrail.cfg", "change-window.cfg"] {
            let text = fs::read_to_string(security.join(file))
                .map_err(|e| format!("read nagios-config/security/{file}: {e}"))?;
            story.add_objects(&format!("security-{file}"), &text);
        }
        story.add_objects(
            "demo-security.cfg",
            &demo_objects(nginx_port, &TestCa::shared().cert()),
        );
        story.set_user("USER6", node.url());
        story.set_user("USER8", es_password.display().to_string());
        story.set_user("USER9", changes.display().to_string());
        Ok(SecurityShift {
            node,
            index,
            changes,
            leaf,
            nginx: Some(nginx),
            nginx_port,
            legacy,
            bin_dir: bin_dir.to_owned(),
        })
    }

    fn tls_check(&self, port: u16) -> PluginCmd {
        plugin_at(self.bin_dir.join("check-tls-ciphers"))
            .args(["-H", "localhost", "-p", &port.to_string()])
            .args(["-w", "5d", "-c", "2d", "--ca-file"])
            .arg(TestCa::shared().cert())
    }

    /// check-tls-ciphers on the compliant nginx.
    pub fn check_compliant(&self) -> PluginRun {
        self.tls_check(self.nginx_port).run()
    }

    /// check-tls-ciphers on the legacy server, inside its namespace.
    pub fn check_legacy(&self) -> PluginRun {
        self.tls_check(self.legacy.port())
            .in_netns(self.legacy.netns())
            .run()
    }

    /// alice opens SSH to the world: AWS's documented event, stamped now.
    pub fn open_ssh_to_the_world(&self) {
        let mut event = cloudtrail_docs(&["world_open_ssh"], unix_now()).remove(0);
        // Made just now, not when AWS's example was.
        event["eventTime"] = iso(unix_now()).into();
        self.node.index_docs(&self.index, &[event]);
    }

    /// `check-change-window schedule`, as the shipped cron line runs it.
    pub fn schedule_downtime(
        &self,
        command_file: &Path,
        status_file: &Path,
    ) -> Result<String, String> {
        let output = Command::new(self.bin_dir.join("check-change-window"))
            .arg("schedule")
            .arg("--changes")
            .arg(&self.changes)
            .args(["--horizon", "24h", "--command-file"])
            .arg(command_file)
            .arg("--status-file")
            .arg(status_file)
            .output()
            .map_err(|e| format!("run check-change-window schedule: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        if output.status.success() {
            Ok(text)
        } else {
            Err(format!(
                "check-change-window schedule failed ({}): {text} {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    /// A deploy tool's log line of a restart on `host` by `user`.
    pub fn observe_restart(&self, host: &str, user: &str, what: &str) {
        self.node.index_docs(
            &self.index,
            &[serde_json::json!({
                "@timestamp": iso(unix_now()),
                "host": host,
                "user": user,
                "message": what,
                "tags": ["restart"],
            })],
        );
    }

    /// The planned restart begins: nginx goes away.
    pub fn stop_nginx(&mut self) {
        self.nginx = None;
    }

    /// nginx is back, on the address its monitors know.
    pub fn start_nginx(&mut self) {
        self.nginx = Some(
            Nginx::builder()
                .on_port(self.nginx_port)
                .tls(&self.leaf)
                .server_snippet(INTERMEDIATE_NGINX)
                .start(),
        );
    }
}

/// CMB-7: alice restarts web01's nginx, bob approved the plan as written,
/// its window open from a minute ago for 20 minutes.
fn write_approved_change(changes: &Path, bin_dir: &Path) -> Result<(), String> {
    let now = unix_now();
    let record = changes.join("cmb-7.md");
    let body = format!(
        "---\nid: {CHANGE_ID}\nsummary: Restart nginx on web01 for the renewed certificate\n\
         author: alice\nhosts: [web01]\nstakeholders: [web-team, support]\nstatus: approved\n\
         approvals:\n  - by: bob\n    at: {approved}\n    digest: DIGEST\n\
         window:\n  start: {start}\n  end: {end}\n---\n\
         ## Change plan\nsystemctl restart nginx\n\n\
         ## Test plan\ncheck-tls-ciphers -H web01 must stay OK\n\n\
         ## Roll-back plan\nrestore the previous certificate and restart nginx\n",
        approved = iso(now - 3600),
        start = iso(now - 60),
        end = iso(now + 1200),
    );
    fs::write(&record, &body).map_err(|e| e.to_string())?;
    let digest = Command::new(bin_dir.join("check-change-window"))
        .arg("digest")
        .arg(&record)
        .output()
        .map_err(|e| format!("check-change-window digest: {e}"))?;
    if !digest.status.success() {
        return Err(format!("check-change-window digest: {digest:?}"));
    }
    let digest = String::from_utf8_lossy(&digest.stdout).trim().to_owned();
    fs::write(&record, body.replace("DIGEST", &digest)).map_err(|e| e.to_string())
}

/// web01's HTTPS endpoint (the demo's nginx) and a second change-managed
/// host, web02, watched for observed changes as web01 is.
fn demo_objects(nginx_port: u16, ca: &Path) -> String {
    format!(
        "# The demo's own objects (tests/demo/security.rs), beside the shipped ones.\n\
         define command {{\n\
         \x20   command_name                    check_demo_https\n\
         \x20   command_line                    $USER1$/check-tls-ciphers --host localhost --port {nginx_port} --ca-file {ca} --warning 5d --critical 2d\n\
         }}\n\
         define service {{\n\
         \x20   use                             nightwatch-service\n\
         \x20   host_name                       web01\n\
         \x20   service_description             https\n\
         \x20   check_command                   check_demo_https\n\
         }}\n\
         define host {{\n\
         \x20   use                             nightwatch-host\n\
         \x20   host_name                       web02\n\
         \x20   alias                           Web server 02 (change-managed)\n\
         \x20   address                         web02.example.internal\n\
         }}\n\
         define service {{\n\
         \x20   use                             nightwatch-service\n\
         \x20   host_name                       web02\n\
         \x20   service_description             observed changes\n\
         \x20   max_check_attempts              1\n\
         \x20   check_command                   check_change_window_observed!test,rollback!logstash-%Y.%m.%d!tags:deploy OR tags:restart!1h\n\
         }}\n",
        ca = ca.display()
    )
}
