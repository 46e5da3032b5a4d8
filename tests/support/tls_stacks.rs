//! The TLS stacks a `tls-policy render` is proven on, each started with a
//! configuration text (the render, pasted where that stack reads it) and a
//! certificate, on a free loopback port: Apache httpd with `mod_ssl`,
//! `openssl s_server` configured by an openssl.cnf section,
//! `HAProxy`, a JSSE `SSLServerSocket` program, an Erlang `ssl:listen`
//! escript, `RabbitMQ` and a `JRuby` server through jruby-openssl. nginx and
//! gnutls-serv are in [`crate::tls`].
//!
//! The programs are in `tests/tls-stacks/`; the Java one is compiled once
//! per test process with the JDK 17 `javac` (~1 s). A failing test shows
//! each server's output and the configuration it was given; the Java,
//! Erlang and `JRuby` servers also print the settings they applied.
//!
//! | stack | ready after (measured here, 2 cores) |
//! |---|---|
//! | Apache (`-X`, one process), `HAProxy` (`-db`) | 50–150 ms |
//! | Erlang escript | ~0.5 s |
//! | Java (after the one `javac`) | ~0.5 s |
//! | `JRuby` | ~5 s |
//! | `RabbitMQ` (a node of its own: name, epmd port, dirs) | ~6 s |

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::ports::free_port;
use crate::process::{ServiceProcess, require, scratch_dir};
use crate::tls::Leaf;

const APACHE: &str = "/usr/sbin/apache2";
const APACHE_MODULES: &str = "/usr/lib/apache2/modules";
const HAPROXY: &str = "/usr/sbin/haproxy";
/// The JDK the Java server is compiled and run with (Debian's, which
/// `scripts/setup` installs for the search nodes too).
pub const JDK17: &str = "/usr/lib/jvm/java-17-openjdk-amd64";
const ESCRIPT: &str = "/usr/bin/escript";
const JRUBY: &str = "/usr/bin/jruby";
const OPENSSL: &str = "/usr/bin/openssl";
/// Debian's server script, not `/usr/sbin/rabbitmq-server`: that wrapper
/// switches to the `rabbitmq` user and its system-wide directories.
const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

const FAST_START: Duration = Duration::from_secs(15);
/// `JRuby` and `RabbitMQ` take ~5 s alone; several at once on two cores, more.
const SLOW_START: Duration = Duration::from_secs(90);

/// The directory of the server programs (`tests/tls-stacks`).
#[must_use]
pub fn sources_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tls-stacks")
}

/// One running TLS server of any stack.
#[derive(Debug)]
pub struct StackServer {
    process: ServiceProcess,
    port: u16,
    _dir: TempDir,
}

impl StackServer {
    /// The loopback port it serves TLS on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's output, logs and configuration.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }
}

/// Apache httpd 2.4 with `mod_ssl`: its own `ServerRoot`, `PidFile` and
/// error log in a scratch dir, one process (`-X`), one TLS virtual host on
/// `127.0.0.1:PORT`. `snippet` goes inside that host (`SSLProtocol`,
/// `SSLCipherSuite`, `SSLOpenSSLConfCmd Curves`…).
#[must_use]
pub fn apache(leaf: &Leaf, snippet: &str) -> StackServer {
    require(APACHE, "apache2");
    require(&format!("{APACHE_MODULES}/mod_ssl.so"), "apache2 (mod_ssl)");
    let dir = scratch_dir("apache");
    let root = dir.path();
    let port = free_port();
    let conf = format!(
        r"ServerRoot {root}
ServerName localhost
PidFile {root}/httpd.pid
DefaultRuntimeDir {root}
Mutex file:{root} default
ErrorLog {root}/error.log
LogLevel info ssl:info
LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so
LoadModule socache_shmcb_module {APACHE_MODULES}/mod_socache_shmcb.so
LoadModule ssl_module {APACHE_MODULES}/mod_ssl.so
SSLSessionCache shmcb:{root}/ssl_scache(512000)
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
SSLEngine on
SSLCertificateFile {cert}
SSLCertificateKeyFile {key}
# ---- the policy ----
{snippet}
# ---- end of the policy ----
</VirtualHost>
",
        root = root.display(),
        cert = leaf.cert.display(),
        key = leaf.key.display(),
    );
    let conf_path = root.join("httpd.conf");
    fs::write(&conf_path, conf).expect("write httpd.conf");
    let mut command = ServiceProcess::command(APACHE);
    command
        .args(["-X", "-DFOREGROUND", "-f"])
        .arg(&conf_path)
        .current_dir(root);
    let mut process = ServiceProcess::spawn("apache2", command, &root.join("apache2.out"));
    process.add_log(root.join("error.log"));
    process.add_log(&conf_path);
    wait_for_port(&mut process, port, FAST_START);
    StackServer {
        process,
        port,
        _dir: dir,
    }
}

/// `HAProxy` in the foreground (`-db`) with one `ssl` bind on
/// `127.0.0.1:PORT` answering 200 itself. `config` starts the file: the
/// render's `global` section (`ssl-default-bind-ciphers`, `-ciphersuites`,
/// `-options ssl-min-ver …`); `bind_options` go at the end of the bind line
/// (`curves …`, which the render gives per bind).
#[must_use]
pub fn haproxy(leaf: &Leaf, config: &str, bind_options: &str) -> StackServer {
    require(HAPROXY, "haproxy");
    let dir = scratch_dir("haproxy");
    let root = dir.path();
    let port = free_port();
    // HAProxy wants the certificate and its key in one file.
    let pem = root.join("leaf.pem");
    let mut both = fs::read(&leaf.cert).expect("read the leaf certificate");
    both.extend(fs::read(&leaf.key).expect("read the leaf key"));
    fs::write(&pem, both).expect("write leaf.pem");
    let conf = format!(
        r#"# ---- the policy ----
{config}
# ---- end of the policy ----
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend tls
    bind 127.0.0.1:{port} ssl crt {pem} {bind_options}
    http-request return status 200 content-type text/plain string "nightwatch-testkit haproxy"
"#,
        pem = pem.display(),
    );
    let conf_path = root.join("haproxy.cfg");
    fs::write(&conf_path, conf).expect("write haproxy.cfg");
    let mut command = ServiceProcess::command(HAPROXY);
    command
        .args(["-db", "-f"])
        .arg(&conf_path)
        .current_dir(root);
    let mut process = ServiceProcess::spawn("haproxy", command, &root.join("haproxy.out"));
    process.add_log(&conf_path);
    wait_for_port(&mut process, port, FAST_START);
    StackServer {
        process,
        port,
        _dir: dir,
    }
}

/// The Java server (`tests/tls-stacks/TlsStackServer.java`, JDK 17) run
/// with `jvm_options`: the render's `-Djdk.tls.server.protocols=…`,
/// `-Djdk.tls.server.cipherSuites=…` and `-Djdk.tls.namedGroups=…`. The JDK
/// applies them, and the program passes the two lists to
/// `setEnabledProtocols` and `setEnabledCipherSuites` too (which refuse
/// unknown names); without them it refuses to start.
#[must_use]
pub fn java(leaf: &Leaf, jvm_options: &[String]) -> StackServer {
    let classes = java_classes();
    let dir = scratch_dir("java-tls");
    let root = dir.path();
    let port = free_port();
    let options_path = root.join("jvm-options");
    fs::write(&options_path, jvm_options.join("\n")).expect("write jvm-options");
    let mut command = ServiceProcess::command(format!("{JDK17}/bin/java"));
    command
        // A small heap and no JIT tiers beyond C1: it serves a few dozen
        // handshakes.
        .args(["-Xmx64m", "-XX:TieredStopAtLevel=1"])
        .args(jvm_options)
        .arg("-cp")
        .arg(classes)
        .arg("TlsStackServer")
        .arg(port.to_string())
        .arg(&leaf.cert)
        .arg(&leaf.key)
        .current_dir(root);
    listening(
        "java TlsStackServer",
        command,
        dir,
        "java.out",
        &options_path,
        port,
    )
}

/// `TlsStackServer.class`, compiled once per test process.
fn java_classes() -> &'static Path {
    static CLASSES: OnceLock<TempDir> = OnceLock::new();
    CLASSES
        .get_or_init(|| {
            let javac = format!("{JDK17}/bin/javac");
            require(&javac, "openjdk-17-jdk-headless");
            let dir = scratch_dir("java-tls-classes");
            let output = std::process::Command::new(&javac)
                .arg("-d")
                .arg(dir.path())
                .arg(sources_dir().join("TlsStackServer.java"))
                .output()
                .unwrap_or_else(|error| panic!("cannot run {javac}: {error}"));
            assert!(
                output.status.success(),
                "javac TlsStackServer.java failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            dir
        })
        .path()
}

/// The Erlang/OTP server (`tests/tls-stacks/tls_stack_server.escript`):
/// `options` is an ssl options list term (`[{versions, …}, {ciphers,
/// [#{…}]}, {eccs, …}].`), given to `ssl:listen` after the certificate.
/// The escript's node is not distributed, so it starts no epmd.
#[must_use]
pub fn erlang(leaf: &Leaf, options: &str) -> StackServer {
    require(ESCRIPT, "erlang-base");
    let dir = scratch_dir("erlang-tls");
    let root = dir.path();
    let port = free_port();
    let options_path = root.join("ssl-options.config");
    fs::write(&options_path, options).expect("write ssl-options.config");
    let mut command = ServiceProcess::command(ESCRIPT);
    command
        .arg(sources_dir().join("tls_stack_server.escript"))
        .arg(port.to_string())
        .arg(&leaf.cert)
        .arg(&leaf.key)
        .arg(&options_path)
        .current_dir(root);
    listening(
        "erlang ssl:listen",
        command,
        dir,
        "erlang.out",
        &options_path,
        port,
    )
}

/// The `JRuby` server (`tests/tls-stacks/tls_stack_server.rb`, Debian's
/// jruby with its jruby-openssl, on JDK 17): `code` is the render, Ruby
/// that makes an `SSLContext` named `ctx` (and may set
/// `jdk.tls.namedGroups` first), evaluated as is before the certificate is
/// added.
#[must_use]
pub fn jruby(leaf: &Leaf, code: &str) -> StackServer {
    require(JRUBY, "jruby");
    let dir = scratch_dir("jruby-tls");
    let root = dir.path();
    let port = free_port();
    let settings_path = root.join("tls-context.rb");
    fs::write(&settings_path, code).expect("write tls-context.rb");
    // jruby-openssl 0.14 reads a PKCS#8 EC key as an RSA one; the
    // traditional PEM form (BEGIN RSA/EC PRIVATE KEY) it reads right.
    let key = root.join("leaf-traditional.key");
    let output = std::process::Command::new(OPENSSL)
        .args(["pkey", "-traditional", "-in"])
        .arg(&leaf.key)
        .arg("-out")
        .arg(&key)
        .output()
        .expect("run openssl pkey");
    assert!(
        output.status.success(),
        "openssl pkey -traditional {} failed: {}",
        leaf.key.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut command = ServiceProcess::command(JRUBY);
    command
        // --dev: the JIT off and C1 only, for a quicker start.
        .arg("--dev")
        .arg(sources_dir().join("tls_stack_server.rb"))
        .arg(port.to_string())
        .arg(&leaf.cert)
        .arg(&key)
        .arg(&settings_path)
        .env("JAVA_HOME", JDK17)
        .current_dir(root);
    listening("jruby", command, dir, "jruby.out", &settings_path, port)
}

/// `openssl s_server -www` whose only TLS settings come from an
/// openssl.cnf: `section` (the render's `[name]` section and its
/// `MinProtocol`, `CipherString`, `Ciphersuites`, `Groups` lines) is
/// appended to a file that makes it the `system_default` of every SSL
/// context, given as `OPENSSL_CONF`.
#[must_use]
pub fn openssl_conf(leaf: &Leaf, section: &str) -> StackServer {
    require(OPENSSL, "openssl");
    let name = section
        .lines()
        .find_map(|line| line.trim().strip_prefix('[')?.strip_suffix(']'))
        .unwrap_or_else(|| panic!("no [section] in the openssl.cnf text:\n{section}"))
        .trim()
        .to_owned();
    let dir = scratch_dir("openssl-conf");
    let root = dir.path();
    let port = free_port();
    let conf_path = root.join("openssl.cnf");
    fs::write(
        &conf_path,
        format!(
            "openssl_conf = nightwatch_init\n[nightwatch_init]\nssl_conf = nightwatch_ssl\n\
             [nightwatch_ssl]\nsystem_default = {name}\n# ---- the policy ----\n{section}\n"
        ),
    )
    .expect("write openssl.cnf");
    let mut command = ServiceProcess::command(OPENSSL);
    command
        .args(["s_server", "-www", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&leaf.cert)
        .arg("-key")
        .arg(&leaf.key)
        .env("OPENSSL_CONF", &conf_path)
        .current_dir(root);
    let mut process = ServiceProcess::spawn(
        "openssl s_server (openssl.cnf)",
        command,
        &root.join("s_server.log"),
    );
    process.add_log(&conf_path);
    // It prints ACCEPT once listening; probing the port would log a failed
    // handshake for every probe.
    process.wait_for_log_line("ACCEPT", FAST_START);
    StackServer {
        process,
        port,
        _dir: dir,
    }
}

/// How a `RabbitMQ` node gets its TLS settings.
#[derive(Debug, Clone, Copy)]
pub enum RabbitTls<'a> {
    /// `ssl_options.*` lines for `rabbitmq.conf` (added after the listener
    /// and certificate lines).
    Conf(&'a str),
    /// A whole `advanced.config` (`[{rabbit, [{ssl_options, [...]}]}].`):
    /// the certificate and key are put first in its `ssl_options`, because
    /// advanced.config's `ssl_options` replaces every `ssl_options.*` line
    /// of `rabbitmq.conf` (it is not merged with them).
    Advanced(&'a str),
}

/// A `RabbitMQ` node (Debian's rabbitmq-server) of its own: node name,
/// Erlang cookie (`HOME`), mnesia, log, config and plugin files in a
/// scratch dir, no plugins, no plain AMQP listener, and one TLS listener
/// on `127.0.0.1:PORT`. Its distribution port and epmd (on a port of its
/// own, loopback only) are free ports too; it runs in a PID namespace so
/// epmd, which daemonizes, dies with it.
#[must_use]
pub fn rabbitmq(leaf: &Leaf, tls: RabbitTls<'_>) -> StackServer {
    require(RABBITMQ_SERVER, "rabbitmq-server");
    let dir = scratch_dir("rabbitmq");
    let root = dir.path();
    let port = free_port();
    let (dist_port, epmd_port) = (free_port(), free_port());
    for sub in ["home", "mnesia", "log"] {
        fs::create_dir_all(root.join(sub)).expect("create the RabbitMQ dirs");
    }
    let cert = leaf.cert.display();
    let key = leaf.key.display();
    let mut conf = format!(
        "listeners.tcp = none\nlisteners.ssl.default = 127.0.0.1:{port}\n\
         # No management or other plugins: nothing else listens.\n"
    );
    let advanced = match tls {
        RabbitTls::Conf(lines) => {
            let _ = write!(
                conf,
                "ssl_options.certfile = {cert}\nssl_options.keyfile = {key}\n\
                 # ---- the policy ----\n{lines}\n# ---- end of the policy ----\n"
            );
            "[].\n".to_owned()
        }
        RabbitTls::Advanced(config) => {
            let anchor = "{ssl_options, [";
            let at = config.find(anchor).unwrap_or_else(|| {
                panic!("the advanced.config has no `{anchor}` to add the certificate to:\n{config}")
            }) + anchor.len();
            format!(
                "{}{{certfile, \"{cert}\"}}, {{keyfile, \"{key}\"}},\n{}",
                &config[..at],
                &config[at..]
            )
        }
    };
    let conf_path = root.join("rabbitmq.conf");
    let advanced_path = root.join("advanced.config");
    fs::write(&conf_path, conf).expect("write rabbitmq.conf");
    fs::write(&advanced_path, advanced).expect("write advanced.config");
    fs::write(root.join("enabled_plugins"), "[].\n").expect("write enabled_plugins");
    fs::write(root.join("rabbitmq-env.conf"), "").expect("write rabbitmq-env.conf");
    let path = |name: &str| root.join(name);
    let mut command = ServiceProcess::command_in_pid_namespace(RABBITMQ_SERVER);
    command
        .env("HOME", path("home"))
        .env("RABBITMQ_NODENAME", format!("nightwatch-{port}@localhost"))
        .env("RABBITMQ_CONF_ENV_FILE", path("rabbitmq-env.conf"))
        .env("RABBITMQ_CONFIG_FILE", &conf_path)
        .env("RABBITMQ_ADVANCED_CONFIG_FILE", &advanced_path)
        .env("RABBITMQ_MNESIA_BASE", path("mnesia"))
        .env("RABBITMQ_LOG_BASE", path("log"))
        .env("RABBITMQ_LOGS", "-")
        .env("RABBITMQ_ENABLED_PLUGINS_FILE", path("enabled_plugins"))
        .env("RABBITMQ_PLUGINS_EXPAND_DIR", path("plugins-expand"))
        .env("RABBITMQ_PID_FILE", path("rabbitmq.pid"))
        .env("RABBITMQ_DIST_PORT", dist_port.to_string())
        .env("ERL_EPMD_PORT", epmd_port.to_string())
        .env("ERL_EPMD_ADDRESS", "127.0.0.1")
        .env(
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
            "-kernel inet_dist_use_interface {127,0,0,1}",
        )
        .current_dir(root);
    let mut process = ServiceProcess::spawn("rabbitmq-server", command, &root.join("rabbitmq.out"));
    process.add_log(&conf_path);
    process.add_log(&advanced_path);
    wait_for_port(&mut process, port, SLOW_START);
    StackServer {
        process,
        port,
        _dir: dir,
    }
}

/// Starts one of the harness's own servers (`tests/tls-stacks/`), which
/// print `LISTENING <port>` once they accept; `settings` (the render it
/// was given) goes into its logs.
fn listening(
    name: &str,
    command: std::process::Command,
    dir: TempDir,
    log: &str,
    settings: &Path,
    port: u16,
) -> StackServer {
    let mut process = ServiceProcess::spawn(name, command, &dir.path().join(log));
    process.add_log(settings);
    process.wait_for_log_line(&format!("LISTENING {port}"), SLOW_START);
    StackServer {
        process,
        port,
        _dir: dir,
    }
}

fn wait_for_port(process: &mut ServiceProcess, port: u16, timeout: Duration) {
    let addr = crate::ports::loopback(port);
    process.wait_until(&format!("a listener on {addr}"), timeout, || {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
}
