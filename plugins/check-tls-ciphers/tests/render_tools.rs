//! Every render read back by the stack's own tool on this machine: what
//! OpenSSL, GnuTLS, the JDK, jruby-openssl and Erlang make of the rendered
//! lists is exactly the policy's suites, and nginx, Apache and HAProxy
//! accept the snippets in a configuration test. (That real servers then
//! accept exactly those suites is proven in tests/e2e/tls_policy_stacks.rs.)
//!
//! A missing tool fails with the package to install, never skips.

// Product names (GnuTLS, HAProxy) are words here, not code.
#![allow(clippy::doc_markdown)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use check_tls_ciphers::policy::Policy;
use check_tls_ciphers::render::{Target, render};
use check_tls_ciphers::suites::{self, Version};

const STORY: &str = r#"name = "story"
protocols = ["TLS1.2", "TLS1.3"]
suites = ["ECDHE-RSA-AES256-GCM-SHA384", "TLS_AES_256_GCM_SHA384"]
min_rsa_bits = 2048
"#;

fn policies() -> Vec<Policy> {
    vec![
        Policy::profile("mozilla-intermediate").unwrap(),
        Policy::profile("mozilla-modern").unwrap(),
        Policy::parse(STORY, Path::new("story.toml")).unwrap(),
    ]
}

/// A scratch directory with a self-signed RSA certificate (`cert.pem`,
/// `key.pem`, and both in `both.pem` for HAProxy), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tls-policy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        must(
            "openssl",
            "openssl",
            Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args(["-subj", "/CN=localhost", "-keyout"])
                .arg(dir.join("key.pem"))
                .arg("-out")
                .arg(dir.join("cert.pem")),
            "a test certificate",
        );
        let both = std::fs::read_to_string(dir.join("cert.pem")).unwrap()
            + &std::fs::read_to_string(dir.join("key.pem")).unwrap();
        std::fs::write(dir.join("both.pem"), both).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `cmd`; a missing program fails naming the Debian package.
fn run(program: &str, package: &str, cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {program} ({e}): apt-get install {package} (scripts/setup installs it)")
    })
}

/// Runs `cmd` and requires success; the failure shows its output and
/// `context`.
fn must(program: &str, package: &str, cmd: &mut Command, context: &str) -> Output {
    let out = run(program, package, cmd);
    assert!(out.status.success(), "{program}: {}\n{context}", text(&out));
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The value after `key` on the render's line that starts with it.
fn line_value<'a>(render: &'a str, key: &str) -> Option<&'a str> {
    render
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().trim_end_matches(';'))
}

/// The policy's suites for TLS 1.3 and for the older versions, by code.
fn policy_codes(policy: &Policy) -> (BTreeSet<u16>, BTreeSet<u16>) {
    let tls13 = policy.suites_for(Version::Tls13).into_iter().collect();
    let legacy = [
        Version::Tls12,
        Version::Tls11,
        Version::Tls10,
        Version::Ssl3,
    ]
    .into_iter()
    .flat_map(|v| policy.suites_for(v))
    .collect();
    (tls13, legacy)
}

/// Codes for names in any dialect.
fn codes<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<u16> {
    names
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(|n| {
            let found = suites::resolve(n).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(found.len(), 1, "{n}");
            found[0].code
        })
        .collect()
}

#[test]
fn openssl_lists_exactly_the_policys_suites() {
    for policy in policies() {
        let render = render(&policy, Target::Openssl).unwrap();
        let (tls13, legacy) = policy_codes(&policy);
        let listed = |args: &[&str]| {
            let out = must(
                "openssl",
                "openssl",
                Command::new("openssl").arg("ciphers").arg("-s").args(args),
                &policy.name,
            );
            codes(String::from_utf8_lossy(&out.stdout).trim().split(':'))
        };
        match line_value(&render, "Ciphersuites =") {
            Some(suites) => assert_eq!(listed(&["-tls1_3", "-ciphersuites", suites]), tls13),
            None => assert!(!policy.allows_version(Version::Tls13), "{}", policy.name),
        }
        match line_value(&render, "CipherString =") {
            Some(string) => {
                assert_eq!(listed(&["-tls1_2", "-ciphersuites", "", string]), legacy);
            }
            None => assert!(legacy.is_empty(), "{}", policy.name),
        }
    }
}

#[test]
fn gnutls_enables_exactly_the_policys_suites() {
    for policy in policies() {
        let render = render(&policy, Target::Gnutls).unwrap();
        let priority = render.lines().last().unwrap();
        let out = run(
            "gnutls-cli",
            "gnutls-bin",
            Command::new("gnutls-cli").args(["-l", "--priority", priority]),
        );
        assert!(out.status.success(), "{priority}: {}", text(&out));
        // "TLS_AES_256_GCM_SHA384    0x13, 0x02    TLS1.3"
        let listed: BTreeSet<u16> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut hex = l.split_whitespace().filter(|w| w.starts_with("0x"));
                let hi = u16::from_str_radix(
                    hex.next()?.trim_start_matches("0x").trim_end_matches(','),
                    16,
                )
                .ok()?;
                let lo = u16::from_str_radix(hex.next()?.trim_start_matches("0x"), 16).ok()?;
                Some(hi << 8 | lo)
            })
            .collect();
        let (tls13, legacy) = policy_codes(&policy);
        let want: BTreeSet<u16> = tls13.union(&legacy).copied().collect();
        assert_eq!(listed, want, "{}: {priority}", policy.name);
    }
}

/// Policies whose parts GnuTLS would combine into more suites: the render
/// leaves suites out until what `gnutls-cli` enables is inside the policy.
#[test]
fn gnutls_never_enables_a_suite_the_policy_does_not_allow() {
    for (name, toml, dropped) in [
        (
            "cross",
            "protocols = [\"TLS1.2\"]\nsuites = [\"ECDHE-RSA-AES256-GCM-SHA384\", \"ECDHE-ECDSA-AES128-GCM-SHA256\"]\n",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        ),
        (
            "aead-from-tls13",
            "protocols = [\"TLS1.2\", \"TLS1.3\"]\nsuites = [\"TLS_AES_128_GCM_SHA256\", \"ECDHE-RSA-AES128-SHA\", \"ECDHE-RSA-AES128-GCM-SHA256\", \"ECDHE-ECDSA-AES128-SHA\"]\n",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        ),
    ] {
        let policy = Policy::parse(toml, Path::new(&format!("{name}.toml"))).unwrap();
        let render = render(&policy, Target::Gnutls).unwrap();
        let priority = render.lines().last().unwrap();
        let out = run(
            "gnutls-cli",
            "gnutls-bin",
            Command::new("gnutls-cli").args(["-l", "--priority", priority]),
        );
        assert!(out.status.success(), "{priority}: {}", text(&out));
        let listed: Vec<&str> = std::str::from_utf8(&out.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("TLS_") && l.contains("0x"))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(!listed.is_empty(), "{render}");
        for suite in &listed {
            let code = suites::resolve(suite).unwrap()[0].code;
            assert!(
                policy
                    .protocols
                    .iter()
                    .any(|&v| policy.allows_suite(v, code)),
                "{name}: GnuTLS enables {suite}:\n{render}"
            );
        }
        if !dropped.is_empty() {
            assert!(
                render.contains(&format!("# left out {dropped}")),
                "{render}"
            );
        }
    }
}

#[test]
fn nginx_accepts_the_render() {
    let scratch = Scratch::new("nginx");
    for policy in policies() {
        let snippet = render(&policy, Target::Nginx).unwrap();
        let conf = format!(
            "daemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  server {{\n    listen 127.0.0.1:1 ssl;\n    ssl_certificate {dir}/cert.pem;\n    ssl_certificate_key {dir}/key.pem;\n{snippet}  }}\n}}\n",
            dir = scratch.0.display()
        );
        let path = scratch.write("nginx.conf", &conf);
        must(
            "nginx",
            "nginx-light",
            Command::new("nginx")
                .arg("-t")
                .arg("-p")
                .arg(&scratch.0)
                .arg("-e")
                .arg(scratch.path("error.log"))
                .arg("-c")
                .arg(&path),
            &format!("{}\n{conf}", policy.name),
        );
    }
}

#[test]
fn apache_accepts_the_render() {
    let scratch = Scratch::new("apache");
    let modules = Path::new("/usr/lib/apache2/modules");
    assert!(
        modules.join("mod_ssl.so").exists(),
        "no mod_ssl: apt-get install apache2 (scripts/setup installs it)"
    );
    for policy in policies() {
        let snippet = render(&policy, Target::Apache).unwrap();
        let conf = format!(
            "ServerRoot {dir}\nServerName localhost\nPidFile {dir}/httpd.pid\nErrorLog {dir}/error.log\n\
             Mutex file:{dir} default\n\
             LoadModule mpm_event_module {m}/mod_mpm_event.so\nLoadModule ssl_module {m}/mod_ssl.so\n\
             Listen 127.0.0.1:1\n<VirtualHost 127.0.0.1:1>\n  SSLEngine on\n  SSLCertificateFile {dir}/cert.pem\n  SSLCertificateKeyFile {dir}/key.pem\n{snippet}</VirtualHost>\n",
            dir = scratch.0.display(),
            m = modules.display()
        );
        let path = scratch.write("httpd.conf", &conf);
        must(
            "apache2",
            "apache2",
            Command::new("apache2").arg("-t").arg("-f").arg(&path),
            &format!("{}\n{conf}", policy.name),
        );
    }
}

#[test]
fn haproxy_accepts_the_render() {
    let scratch = Scratch::new("haproxy");
    for policy in policies() {
        let snippet = render(&policy, Target::Haproxy).unwrap();
        // The render's example bind line, pointed at the test certificate.
        let bind = snippet
            .lines()
            .find_map(|l| l.strip_prefix("#   bind :443 ssl crt /etc/haproxy/site.pem"))
            .unwrap_or("");
        let conf = format!(
            "{snippet}\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
             frontend tls\n    bind 127.0.0.1:1 ssl crt {dir}/both.pem{bind}\n    default_backend none\n\
             backend none\n    server none 127.0.0.1:2\n",
            dir = scratch.0.display()
        );
        let path = scratch.write("haproxy.cfg", &conf);
        must(
            "haproxy",
            "haproxy",
            Command::new("haproxy").arg("-c").arg("-f").arg(&path),
            &format!("{}\n{conf}", policy.name),
        );
    }
}

/// Runs `ssl:listen/2` with the options term in `file` (Erlang's render,
/// or RabbitMQ's advanced.config) and prints the suites it enabled.
fn erlang_listen(scratch: &Scratch, file: &Path, rabbit: bool) -> BTreeSet<u16> {
    let unwrap = if rabbit {
        "{ok, [[{rabbit, [{ssl_options, Opts}]}]]} = file:consult(File)"
    } else {
        "{ok, [Opts]} = file:consult(File)"
    };
    let program = format!(
        "File = \"{file}\", {unwrap}, ok = ssl:start(), \
         {{ok, L}} = ssl:listen(0, [{{certfile, \"{dir}/cert.pem\"}}, {{keyfile, \"{dir}/key.pem\"}} | Opts]), \
         Versions = proplists:get_value(versions, Opts), \
         All = lists:append([ssl:cipher_suites(all, V) || V <- Versions]), \
         Ciphers = proplists:get_value(ciphers, Opts), \
         [true = lists:member(C, All) || C <- Ciphers], \
         [io:format(\"~s~n\", [ssl:suite_to_str(C)]) || C <- Ciphers], \
         ok = ssl:close(L), halt().",
        file = file.display(),
        dir = scratch.0.display()
    );
    let out = run(
        "erl",
        "erlang-base erlang-ssl",
        Command::new("erl").args(["-noshell", "-eval", &program]),
    );
    assert!(out.status.success(), "{}", text(&out));
    codes(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .collect::<Vec<_>>(),
    )
}

#[test]
fn erlang_and_rabbitmq_terms_listen_with_exactly_the_policys_suites() {
    let scratch = Scratch::new("erlang");
    for policy in policies() {
        let (tls13, legacy) = policy_codes(&policy);
        let want: BTreeSet<u16> = tls13.union(&legacy).copied().collect();
        let term = render(&policy, Target::Erlang).unwrap();
        let file = scratch.write("ssl.options", &term);
        assert_eq!(
            erlang_listen(&scratch, &file, false),
            want,
            "{}: {term}",
            policy.name
        );
        let rabbit = render(&policy, Target::Rabbitmq).unwrap();
        let advanced = rabbit
            .split_once("%% --- advanced.config ---\n")
            .expect("an advanced.config part")
            .1;
        let file = scratch.write("advanced.config", advanced);
        assert_eq!(
            erlang_listen(&scratch, &file, true),
            want,
            "{}: {advanced}",
            policy.name
        );
        // rabbitmq.conf names the same suites.
        let conf: Vec<&str> = rabbit
            .lines()
            .filter(|l| l.starts_with("ssl_options.ciphers."))
            .filter_map(|l| l.split_once(" = ").map(|(_, v)| v))
            .collect();
        assert_eq!(codes(conf), want, "{}: {rabbit}", policy.name);
    }
}

#[test]
fn the_jdk_enables_exactly_the_rendered_suites() {
    let scratch = Scratch::new("java");
    let source = scratch.write(
        "Enabled.java",
        "import javax.net.ssl.*;\n\
         public class Enabled { public static void main(String[] a) throws Exception {\n\
           SSLEngine e = SSLContext.getDefault().createSSLEngine();\n\
           e.setUseClientMode(false);\n\
           System.out.println(String.join(\":\", e.getEnabledCipherSuites()));\n\
           System.out.println(String.join(\":\", e.getEnabledProtocols()));\n\
         }}\n",
    );
    for policy in policies() {
        let render = render(&policy, Target::Java).unwrap();
        let options: Vec<&str> = render.lines().filter(|l| l.starts_with("-D")).collect();
        let out = run(
            "java",
            "openjdk-17-jdk-headless",
            Command::new("java").args(&options).arg(&source),
        );
        assert!(out.status.success(), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut lines = stdout.lines();
        let enabled = codes(lines.next().unwrap().split(':'));
        let (tls13, legacy) = policy_codes(&policy);
        assert_eq!(
            enabled,
            tls13.union(&legacy).copied().collect(),
            "{}",
            policy.name
        );
        let protocols: BTreeSet<&str> = lines.next().unwrap().split(':').collect();
        let want: BTreeSet<&str> = policy
            .protocols
            .iter()
            .map(|v| match v {
                Version::Tls13 => "TLSv1.3",
                Version::Tls12 => "TLSv1.2",
                Version::Tls11 => "TLSv1.1",
                Version::Tls10 => "TLSv1",
                Version::Ssl3 => "SSLv3",
            })
            .collect();
        assert_eq!(protocols, want, "{}", policy.name);
    }
}

/// jruby-openssl keeps every rendered name; and a name its table lacks is
/// dropped without an error, which is why the render leaves such suites
/// out and says so.
#[test]
fn jruby_openssl_keeps_every_rendered_name() {
    let scratch = Scratch::new("jruby");
    let mut script = String::from("require 'openssl'\n");
    let mut wants = Vec::new();
    for policy in policies() {
        let render = render(&policy, Target::Jruby).unwrap();
        let ciphers = line_value(&render, "ctx.ciphers = ")
            .unwrap()
            .trim_matches('"');
        script.push_str("ctx = OpenSSL::SSL::SSLContext.new\n");
        script.push_str("ctx.ciphers = \"");
        script.push_str(ciphers);
        script.push_str("\"\n");
        script.push_str("puts ctx.ciphers.map(&:first).join(':')\n");
        wants.push((policy.name.clone(), ciphers.to_owned()));
    }
    script.push_str(
        "ctx = OpenSSL::SSL::SSLContext.new\nctx.ciphers = 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305'\nputs ctx.ciphers.map(&:first).join(':')\n",
    );
    let path = scratch.write("ciphers.rb", &script);
    let out = run("jruby", "jruby", Command::new("jruby").arg(&path));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), wants.len() + 1, "{stdout}");
    for ((name, want), got) in wants.iter().zip(&lines) {
        let want: BTreeSet<&str> = want.split(':').collect();
        let got: BTreeSet<&str> = got.split(':').collect();
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(
        lines[wants.len()],
        "ECDHE-RSA-AES256-GCM-SHA384",
        "the unmapped name is dropped silently"
    );
}
