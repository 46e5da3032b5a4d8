//! One TLS policy, every stack (issue 25): `tls-policy render --for TARGET`
//! pasted into a real server of each stack, then `check-tls-ciphers` with
//! the same policy must say OK, and the suites the server accepts (its
//! `--json`) must be exactly the policy's suites that the server's library
//! can use with the test's RSA certificate, per protocol.
//!
//! Two policies: Mozilla intermediate (`--profile mozilla-intermediate`),
//! served once with an RSA and once with an ECDSA P-256 key (each key type
//! has its own half of the suites), and the story's strict one (TLS 1.2
//! `ECDHE-RSA-AES256-GCM-SHA384`, TLS 1.3 `TLS_AES_256_GCM_SHA384`;
//! `--policy plugins/check-tls-ciphers/policies/story.toml`, RSA only).
//!
//! nginx, `openssl s_server` (from the render's openssl.cnf section, and
//! from its flags), Apache, `HAProxy`, gnutls-serv (in its own network
//! namespace) and Erlang `ssl:listen` start in well under a second: one
//! test per stack, every case side by side. Java, `JRuby` and `RabbitMQ`
//! are the slow group, started all at once in one test;
//! `NIGHTWATCH_SKIP_SLOW_STACKS=1` skips that test on a developer's machine
//! and is refused when `CI=true`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;

use nightwatch_testkit::plugin_cmd::workspace_bin;
use nightwatch_testkit::tls::netns_command;
use nightwatch_testkit::tls_stacks::{self, RabbitTls, StackServer};
use nightwatch_testkit::{GnutlsServ, KeyType, Leaf, Nginx, OpensslServer, State, TestCa, plugin};

/// The variable that skips the slow group locally.
const SKIP_SLOW: &str = "NIGHTWATCH_SKIP_SLOW_STACKS";

const TLS13: &str = "TLSv1.3";
const TLS12: &str = "TLSv1.2";

/// `openssl s_server` started with the flags of an openssl render (its
/// `# as flags:` line) instead of its openssl.cnf section.
const OPENSSL_FLAGS: &str = "openssl-flags";

/// `RabbitMQ` configured with the `rabbitmq.conf` lines of its render
/// instead of the `advanced.config` form.
const RABBITMQ_CONF: &str = "rabbitmq.conf";

/// A policy under test: how `tls-policy` and `check-tls-ciphers` are told
/// about it, and its suites an RSA certificate can serve.
struct PolicyCase {
    name: &'static str,
    /// `--profile NAME` or `--policy FILE`, for both binaries.
    args: Vec<String>,
    /// (protocol, code point) of every suite the policy allows that works
    /// with an RSA key (its ECDSA suites cannot be negotiated with one).
    rsa_suites: BTreeSet<(String, u16)>,
    /// The same for an ECDSA key; `None`: the policy forbids ECDSA keys.
    ecdsa_suites: Option<BTreeSet<(String, u16)>>,
    /// The policy allows any group.
    any_group: bool,
}

fn suites(list: &[(&str, u16)]) -> BTreeSet<(String, u16)> {
    list.iter()
        .map(|&(version, code)| (version.to_owned(), code))
        .collect()
}

fn intermediate() -> PolicyCase {
    PolicyCase {
        name: "mozilla-intermediate",
        args: vec!["--profile".into(), "mozilla-intermediate".into()],
        rsa_suites: suites(&[
            (TLS13, 0x1301),
            (TLS13, 0x1302),
            (TLS13, 0x1303),
            (TLS12, 0xC02F),
            (TLS12, 0xC030),
            (TLS12, 0xCCA8),
        ]),
        ecdsa_suites: Some(suites(&[
            (TLS13, 0x1301),
            (TLS13, 0x1302),
            (TLS13, 0x1303),
            (TLS12, 0xC02B),
            (TLS12, 0xC02C),
            (TLS12, 0xCCA9),
        ])),
        any_group: false,
    }
}

/// The story's policy as the project ships it
/// (`plugins/check-tls-ciphers/policies/story.toml`): TLS 1.2
/// `ECDHE-RSA-AES256-GCM-SHA384` and TLS 1.3 `TLS_AES_256_GCM_SHA384`.
fn strict() -> PolicyCase {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/check-tls-ciphers/policies/story.toml");
    assert!(
        file.is_file(),
        "the story's policy is missing: {}",
        file.display()
    );
    PolicyCase {
        name: "story (strict)",
        args: vec!["--policy".into(), file.display().to_string()],
        rsa_suites: suites(&[(TLS13, 0x1302), (TLS12, 0xC030)]),
        ecdsa_suites: None,
        any_group: true,
    }
}

/// What a stack's TLS library cannot do of the policies here, with why.
fn library_lacks(target: &str) -> BTreeSet<(String, u16)> {
    match target {
        // jruby-openssl 0.14's OpenSSL-to-JSSE name table has no
        // ECDHE-RSA-CHACHA20-POLY1305 or ECDHE-ECDSA-CHACHA20-POLY1305,
        // though the JDK under it has both: the render drops them (and
        // says so).
        "jruby" => suites(&[(TLS12, 0xCCA8), (TLS12, 0xCCA9)]),
        _ => BTreeSet::new(),
    }
}

/// Whether the stack can serve with an ECDSA key at all.
fn serves_ecdsa(target: &str) -> bool {
    // jruby-openssl 0.14 on OpenJDK 17 handshakes with no suite when its
    // key is EC ("no cipher suites in common" in TLS 1.2, "No available
    // authentication scheme" in TLS 1.3), so its ECDSA suites are not
    // proven.
    target != "jruby"
}

/// `tls-policy render … --for target`.
fn render(policy: &PolicyCase, target: &str) -> String {
    let bin = workspace_bin("tls-policy");
    let output = Command::new(&bin)
        .arg("render")
        .args(&policy.args)
        .args(["--for", target])
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", bin.display()));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "tls-policy render {} --for {target} failed ({}):\n{text}{}",
        policy.args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

/// The test certificate's key.
#[derive(Debug, Clone, Copy)]
enum Key {
    Rsa,
    /// P-256: the policy's ECDSA suites, which an RSA key cannot serve.
    Ecdsa,
}

/// A running server of any stack.
enum Server {
    Nginx(Nginx),
    Openssl(OpensslServer),
    Gnutls(GnutlsServ),
    Stack(StackServer),
}

/// A server started with a render, and where to reach it.
struct Deployed {
    target: &'static str,
    key: Key,
    port: u16,
    /// gnutls-serv's network namespace (it listens on every interface).
    netns: Option<PathBuf>,
    server: Server,
}

impl Deployed {
    fn logs(&self) -> String {
        match &self.server {
            Server::Nginx(server) => server.logs(),
            Server::Openssl(server) => server.logs(),
            Server::Gnutls(server) => server.logs(),
            Server::Stack(server) => server.logs(),
        }
    }
}

/// Renders `policy` for `target` and starts that server with it.
fn deploy(target: &'static str, policy: &PolicyCase, key: Key) -> Deployed {
    let render_for = match target {
        RABBITMQ_CONF => "rabbitmq",
        OPENSSL_FLAGS => "openssl",
        _ => target,
    };
    let snippet = render(policy, render_for);
    let leaf: Leaf = match key {
        Key::Rsa => TestCa::shared().leaf(render_for),
        Key::Ecdsa => TestCa::shared().leaf_with(render_for, KeyType::EcP256, 30),
    };
    let (port, netns, server) = match target {
        "nginx" => {
            let server = Nginx::builder().tls(&leaf).server_snippet(&snippet).start();
            (server.port(), None, Server::Nginx(server))
        }
        OPENSSL_FLAGS => {
            let flags = openssl_flags(&snippet);
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let server = OpensslServer::start(&leaf, &flags);
            (server.port(), None, Server::Openssl(server))
        }
        "gnutls" => {
            let priority = gnutls_priority(&snippet);
            let server = GnutlsServ::start(&leaf, &["--priority", &priority]);
            let netns = Some(server.netns().to_owned());
            (server.port(), netns, Server::Gnutls(server))
        }
        _ => {
            let server = match target {
                "apache" => tls_stacks::apache(&leaf, &snippet),
                "openssl" => tls_stacks::openssl_conf(&leaf, &snippet),
                "haproxy" => tls_stacks::haproxy(&leaf, &snippet, &haproxy_bind_options(&snippet)),
                "java" => tls_stacks::java(&leaf, &java_options(&snippet)),
                "erlang" => tls_stacks::erlang(&leaf, &snippet),
                "jruby" => tls_stacks::jruby(&leaf, &snippet),
                RABBITMQ_CONF => {
                    tls_stacks::rabbitmq(&leaf, RabbitTls::Conf(rabbit_conf(&snippet)))
                }
                "rabbitmq" => {
                    tls_stacks::rabbitmq(&leaf, RabbitTls::Advanced(rabbit_advanced(&snippet)))
                }
                other => panic!("no stack {other}"),
            };
            (server.port(), None, Server::Stack(server))
        }
    };
    Deployed {
        target,
        key,
        port,
        netns,
        server,
    }
}

/// The priority string of a gnutls render (its one line that is not a
/// comment).
fn gnutls_priority(render: &str) -> String {
    let lines: Vec<&str> = render
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "a gnutls render is one priority string:\n{render}"
    );
    lines[0].to_owned()
}

/// A rabbitmq render's `advanced.config` form: everything after its
/// `%% --- advanced.config ---` line (the `rabbitmq.conf` lines before it
/// cannot set the groups, so they never pass a policy with groups).
fn rabbit_advanced(render: &str) -> &str {
    let marker = "%% --- advanced.config ---";
    let at = render
        .find(marker)
        .unwrap_or_else(|| panic!("a rabbitmq render has an {marker} part:\n{render}"));
    &render[at + marker.len()..]
}

/// A rabbitmq render's `rabbitmq.conf` lines: those before its
/// `advanced.config` part.
fn rabbit_conf(render: &str) -> &str {
    let marker = "%% --- advanced.config ---";
    let at = render
        .find(marker)
        .unwrap_or_else(|| panic!("a rabbitmq render has an {marker} part:\n{render}"));
    &render[..at]
}

/// The options a haproxy render asks for on each bind line: what follows
/// `crt FILE` in its example `#   bind … ssl crt FILE curves …` (none when
/// it has no example, as when the policy leaves the groups alone).
fn haproxy_bind_options(render: &str) -> String {
    render
        .lines()
        .filter_map(|line| line.trim_start_matches(['#', ' ']).strip_prefix("bind "))
        .find_map(|bind| {
            let mut words = bind.split_whitespace().skip_while(|word| *word != "crt");
            words.nth(1)?;
            Some(words.collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default()
}

/// The `openssl s_server` flags of an openssl render's `# as flags:
/// openssl s_server …` line, single quotes removed as a shell would.
fn openssl_flags(render: &str) -> Vec<String> {
    let line = render
        .lines()
        .find_map(|line| line.strip_prefix("# as flags: openssl s_server "))
        .unwrap_or_else(|| panic!("an openssl render has an `# as flags:` line:\n{render}"));
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes in {line}");
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A java render's JVM options (its `-D…` lines).
fn java_options(render: &str) -> Vec<String> {
    let options: Vec<String> = render
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("-D"))
        .map(str::to_owned)
        .collect();
    assert!(!options.is_empty(), "a java render has -D lines:\n{render}");
    options
}

/// The accepted suites per protocol, from the check's `--json`.
fn accepted(deployed: &Deployed, policy: &PolicyCase) -> BTreeSet<(String, u16)> {
    let bin = workspace_bin("check-tls-ciphers");
    let mut command = match &deployed.netns {
        Some(netns) => netns_command(netns, &bin),
        None => Command::new(&bin),
    };
    let output = command
        .args([
            "-H",
            "localhost",
            "-p",
            &deployed.port.to_string(),
            "--json",
        ])
        .args(&policy.args)
        .arg("--ca-file")
        .arg(TestCa::shared().cert())
        .output()
        .expect("run check-tls-ciphers --json");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "--json is JSON ({error}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut found = BTreeSet::new();
    for entry in doc["scan"]["versions"].as_array().expect("scan.versions") {
        let version = entry["version"].as_str().expect("a version").to_owned();
        for suite in entry["suites"].as_array().expect("suites") {
            let code = suite["code"].as_str().expect("a code point");
            let code = u16::from_str_radix(code.trim_start_matches("0x"), 16).expect("hex");
            found.insert((version.clone(), code));
        }
    }
    found
}

/// Checks one deployed server against `policy`; `Err` says what is wrong,
/// with the render and the server's logs.
fn prove(deployed: &Deployed, policy: &PolicyCase) -> Result<(), String> {
    let for_key = match deployed.key {
        Key::Rsa => Some(&policy.rsa_suites),
        Key::Ecdsa => policy.ecdsa_suites.as_ref(),
    };
    let for_key =
        for_key.unwrap_or_else(|| panic!("{} forbids {:?} keys", policy.name, deployed.key));
    let mut cmd = plugin("check-tls-ciphers")
        .args(["-H", "localhost", "-p", &deployed.port.to_string()])
        .args(&policy.args)
        // Test leaves live 30 days.
        .args(["-w", "5d", "-c", "2d", "--ca-file"])
        .arg(TestCa::shared().cert());
    if let Some(netns) = &deployed.netns {
        cmd = cmd.in_netns(netns);
    }
    let run = cmd.run();
    let mut problems = String::new();
    if run.state() != State::Ok {
        let _ = writeln!(
            problems,
            "check-tls-ciphers {} is {:?}, not OK:\n{}",
            policy.args.join(" "),
            run.state(),
            run.stdout()
        );
    }
    let lacks = library_lacks(deployed.target);
    let expected: BTreeSet<_> = for_key.difference(&lacks).cloned().collect();
    let found = accepted(deployed, policy);
    if found != expected {
        let _ = writeln!(
            problems,
            "accepted suites {} differ from the policy's the library has {}: extra {}, missing {}",
            show(&found),
            show(&expected),
            show(&found.difference(&expected).cloned().collect()),
            show(&expected.difference(&found).cloned().collect()),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} ({:?} key) with the {} policy:\n{problems}---- server ----\n{}",
            deployed.target,
            deployed.key,
            policy.name,
            deployed.logs()
        ))
    }
}

fn show(set: &BTreeSet<(String, u16)>) -> String {
    let items: Vec<String> = set
        .iter()
        .map(|(version, code)| format!("{version} 0x{code:04X}"))
        .collect();
    format!("[{}]", items.join(", "))
}

/// Deploys every (target, policy) pair at once, then proves each; panics
/// listing every failure.
fn prove_all(targets: &[&'static str]) {
    let policies = [intermediate(), strict()];
    let cases: Vec<(&'static str, &PolicyCase, Key)> = targets
        .iter()
        .flat_map(|&target| {
            policies.iter().flat_map(move |policy| {
                let ecdsa =
                    (policy.ecdsa_suites.is_some() && serves_ecdsa(target)).then_some(Key::Ecdsa);
                [Some(Key::Rsa), ecdsa]
                    .into_iter()
                    .flatten()
                    .map(move |key| (target, policy, key))
            })
        })
        // rabbitmq.conf cannot set the groups (the render says so): that
        // form is proven where the policy leaves them open.
        .filter(|(target, policy, _)| *target != RABBITMQ_CONF || policy.any_group)
        .collect();
    let deployed: Vec<(Deployed, &PolicyCase)> = thread::scope(|scope| {
        let handles: Vec<_> = cases
            .into_iter()
            .map(|(target, policy, key)| scope.spawn(move || (deploy(target, policy, key), policy)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let failures: Vec<String> = deployed
        .iter()
        .filter_map(|(server, policy)| prove(server, policy).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn nginx_honours_rendered_policies() {
    prove_all(&["nginx"]);
}

#[test]
fn openssl_s_server_honours_rendered_policies_as_conf_and_flags() {
    prove_all(&["openssl", OPENSSL_FLAGS]);
}

#[test]
fn apache_honours_rendered_policies() {
    prove_all(&["apache"]);
}

#[test]
fn haproxy_honours_rendered_policies() {
    prove_all(&["haproxy"]);
}

#[test]
fn gnutls_serv_honours_rendered_policies() {
    prove_all(&["gnutls"]);
}

#[test]
fn erlang_ssl_listen_honours_rendered_policies() {
    prove_all(&["erlang"]);
}

/// Java, `JRuby` and `RabbitMQ`, all started at once. `RabbitMQ` reads its
/// TLS settings only when it boots, so each policy gets a node: the render's
/// `advanced.config` form for both, its `rabbitmq.conf` lines for the story's
/// policy (which leaves the groups open) on a third node.
#[test]
fn slow_stacks_java_jruby_rabbitmq_honour_rendered_policies() {
    if skip_slow_stacks() {
        return;
    }
    prove_all(&["java", "jruby", "rabbitmq", RABBITMQ_CONF]);
}

/// Whether a developer asked to skip the slow group; refused in CI, which
/// always runs it.
fn skip_slow_stacks() -> bool {
    let asked = std::env::var(SKIP_SLOW).is_ok_and(|value| value == "1");
    if asked {
        assert!(
            std::env::var("CI").map_or(true, |ci| ci != "true"),
            "{SKIP_SLOW}=1 is refused when CI=true: CI always proves the slow stacks"
        );
        eprintln!("{SKIP_SLOW}=1: Java, JRuby and RabbitMQ not proven in this run");
    }
    asked
}

/// The proof can fail: nginx with the intermediate render is not the
/// story's server (CRITICAL, and suites the story does not allow).
#[test]
fn a_server_wider_than_the_policy_fails_the_proof() {
    let server = deploy("nginx", &intermediate(), Key::Rsa);
    let failure = prove(&server, &strict()).expect_err("intermediate nginx passed as the story's");
    assert!(failure.contains("not OK"), "{failure}");
    assert!(
        failure.contains("extra [TLSv1.2 0xC02F, TLSv1.2 0xCCA8, TLSv1.3 0x1301, TLSv1.3 0x1303]"),
        "{failure}"
    );
}
