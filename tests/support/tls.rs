//! TLS peers for the TLS plugin: a test CA, nginx, `openssl s_server` and
//! gnutls-serv, plus private network namespaces and an `openssl s_client`
//! handshake check.
//!
//! Certificates are made with the openssl CLI. The leaf is a real end-entity
//! certificate (`CA:FALSE`, `serverAuth`, SAN `DNS:localhost,IP:127.0.0.1`)
//! signed by the CA: rustls/webpki refuses a self-signed `CA:TRUE`
//! certificate as a server's (`CaUsedAsEndEntity`).
//!
//! gnutls-serv has no bind option and listens on every interface, so
//! [`GnutlsServ`] runs it in a network namespace of its own (`unshare -n`)
//! where only loopback exists; clients join that namespace with `nsenter`
//! ([`netns_command`], `PluginCmd::in_netns`).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tempfile::TempDir;

use crate::ports::free_port;
use crate::process::{ServiceProcess, require, scratch_dir};

const OPENSSL: &str = "/usr/bin/openssl";
const NGINX: &str = "/usr/sbin/nginx";
const GNUTLS_SERV: &str = "/usr/bin/gnutls-serv";
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The key of a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// RSA with this many bits (1024 for the weak-key case).
    Rsa(u32),
    /// ECDSA on P-256.
    EcP256,
    /// ECDSA on P-384.
    EcP384,
    /// Ed25519 (TLS 1.3 only, in OpenSSL).
    Ed25519,
}

/// How [`TestCa::leaf_spec`] makes a leaf.
#[derive(Debug, Clone)]
pub struct LeafSpec {
    pub key: KeyType,
    /// Valid this many days from its start…
    pub days: u32,
    /// …which is this many days ago (signed under `faketime`).
    pub days_ago: u32,
    /// The subjectAltName, e.g. `DNS:*.example.org`.
    pub san: String,
    /// The CA's signature digest as `openssl x509` spells it: `sha256`,
    /// `sha1`, `md5`.
    pub digest: &'static str,
}

impl Default for LeafSpec {
    fn default() -> Self {
        LeafSpec {
            key: KeyType::Rsa(2048),
            days: 30,
            days_ago: 0,
            san: "DNS:localhost,IP:127.0.0.1".to_owned(),
            digest: "sha256",
        }
    }
}

/// How [`TestCa`] signs one certificate.
#[derive(Debug, Clone, Copy)]
struct Signing<'a> {
    serial: u64,
    days: u32,
    days_ago: u32,
    digest: &'a str,
}

/// Whether an OCSP response calls the leaf good or revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspAnswer {
    Good,
    Revoked,
}

/// A leaf certificate and its key (PEM files in the CA's directory: keep
/// the [`TestCa`] alive while they are used).
#[derive(Debug, Clone)]
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Leaf {
    /// `ssl_certificate …; ssl_certificate_key …;` for an nginx server block.
    #[must_use]
    pub fn nginx_directives(&self) -> String {
        format!(
            "ssl_certificate {};\nssl_certificate_key {};\n",
            self.cert.display(),
            self.key.display()
        )
    }
}

/// A throw-away certificate authority (RSA 2048, valid 30 days). Its key,
/// certificate and leaves live in its scratch dir, removed on drop.
#[derive(Debug)]
pub struct TestCa {
    dir: TempDir,
}

impl TestCa {
    /// Makes the CA key and its self-signed `CA:TRUE` certificate.
    #[must_use]
    pub fn new() -> TestCa {
        require(OPENSSL, "openssl");
        let dir = scratch_dir("test-ca");
        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "30",
                "-subj",
                "/CN=nightwatch test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        TestCa { dir }
    }

    /// The CA certificate, what a check gets as `--ca-file`.
    #[must_use]
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// One CA for the whole test process (making one costs ~0.4 s), for
    /// tests that do not need a CA of their own.
    pub fn shared() -> &'static TestCa {
        static SHARED: OnceLock<TestCa> = OnceLock::new();
        SHARED.get_or_init(TestCa::new)
    }

    /// An RSA 2048 leaf for `localhost`/`127.0.0.1`, valid 30 days.
    #[must_use]
    pub fn leaf(&self, name: &str) -> Leaf {
        self.leaf_with(name, KeyType::Rsa(2048), 30)
    }

    /// A leaf with the given key type and validity (from now). Files are
    /// `<name>-<serial>.crt` and `.key`.
    #[must_use]
    pub fn leaf_with(&self, name: &str, key: KeyType, days: u32) -> Leaf {
        self.leaf_custom(name, key, days, 0, "DNS:localhost,IP:127.0.0.1")
    }

    /// A leaf valid `days` from `days_ago` days in the past (signed under
    /// `faketime`, so `days_ago > days` makes an expired one) naming `san`
    /// (`DNS:other.example` for a host-name mismatch).
    #[must_use]
    pub fn leaf_custom(
        &self,
        name: &str,
        key: KeyType,
        days: u32,
        days_ago: u32,
        san: &str,
    ) -> Leaf {
        self.leaf_spec(
            name,
            &LeafSpec {
                key,
                days,
                days_ago,
                san: san.to_owned(),
                ..LeafSpec::default()
            },
        )
    }

    /// A leaf made as `spec` says (key, dates, names, signature digest).
    #[must_use]
    pub fn leaf_spec(&self, name: &str, spec: &LeafSpec) -> Leaf {
        let LeafSpec {
            key,
            days,
            days_ago,
            ref san,
            digest,
        } = *spec;
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
            "leaf names are file names: {name:?}"
        );
        let dir = self.dir.path();
        // The serial makes file names unique too: tests sharing one CA may
        // ask for leaves of the same name at the same time.
        let serial = unique_serial();
        let name = format!("{name}-{serial:x}");
        let (newkey, key_usage) = match key {
            KeyType::Rsa(bits) => (format!("rsa:{bits}"), "digitalSignature,keyEncipherment"),
            KeyType::EcP256 | KeyType::EcP384 => ("ec".to_owned(), "digitalSignature"),
            KeyType::Ed25519 => ("ed25519".to_owned(), "digitalSignature"),
        };
        let key_file = format!("{name}.key");
        let csr_file = format!("{name}.csr");
        let mut request = vec![
            "req",
            "-new",
            "-newkey",
            &newkey,
            "-nodes",
            "-keyout",
            &key_file,
            "-out",
            &csr_file,
            "-subj",
            "/CN=localhost",
        ];
        match key {
            KeyType::EcP256 => request.extend(["-pkeyopt", "ec_paramgen_curve:P-256"]),
            KeyType::EcP384 => request.extend(["-pkeyopt", "ec_paramgen_curve:P-384"]),
            KeyType::Rsa(_) | KeyType::Ed25519 => {}
        }
        openssl(dir, &request);
        let ext_file = format!("{name}.ext");
        fs::write(
            dir.join(&ext_file),
            format!(
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,{key_usage}\nextendedKeyUsage=serverAuth\nsubjectAltName={san}\n"
            ),
        )
        .expect("write leaf extensions");
        let cert_file = format!("{name}.crt");
        self.sign(
            &dir.join(csr_file),
            &dir.join(ext_file),
            &dir.join(&cert_file),
            Signing {
                serial,
                days,
                days_ago,
                digest,
            },
        );
        Leaf {
            cert: dir.join(cert_file),
            key: dir.join(key_file),
        }
    }

    /// Signs the request `csr` with the extensions in `ext` into `out`.
    fn sign(&self, csr: &Path, ext: &Path, out: &Path, signing: Signing<'_>) {
        // An explicit serial: -CAcreateserial would race on ca.srl when
        // parallel tests sign with one CA.
        let serial = format!("0x{:x}", signing.serial);
        let days = signing.days.to_string();
        let digest = format!("-{}", signing.digest);
        let path = |p: &Path| p.display().to_string();
        let (csr, ext, out) = (path(csr), path(ext), path(out));
        openssl_days_ago(
            signing.days_ago,
            self.dir.path(),
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                &serial,
                "-out",
                &out,
                "-days",
                &days,
                &digest,
                "-extfile",
                &ext,
            ],
        );
    }

    /// An intermediate CA signed by this one (RSA 2048, SHA-256, 30 days),
    /// `CN=nightwatch test <name>`. The leaves it makes name it as their
    /// issuer; a server sends it only in [`TestCa::chain`]'s file.
    #[must_use]
    pub fn intermediate(&self, name: &str) -> TestCa {
        self.intermediate_signed(name, "sha256")
    }

    /// [`TestCa::intermediate`] signed with `digest` (`sha1`, `md5`).
    #[must_use]
    pub fn intermediate_signed(&self, name: &str, digest: &str) -> TestCa {
        let sub = scratch_dir("test-ca");
        let subject = format!("/CN=nightwatch test {name}");
        openssl(
            sub.path(),
            &[
                "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.csr", "-subj", &subject,
            ],
        );
        fs::write(
            sub.path().join("ca.ext"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
        )
        .expect("write CA extensions");
        self.sign(
            &sub.path().join("ca.csr"),
            &sub.path().join("ca.ext"),
            &sub.path().join("ca.crt"),
            Signing {
                serial: unique_serial(),
                days: 30,
                days_ago: 0,
                digest,
            },
        );
        TestCa { dir: sub }
    }

    /// `leaf` with this CA's certificate after it in one file: what a server
    /// configured with the whole chain sends.
    #[must_use]
    pub fn chain(&self, leaf: &Leaf) -> Leaf {
        let mut pem = fs::read(&leaf.cert).expect("read the leaf");
        pem.extend(fs::read(self.cert()).expect("read the CA certificate"));
        let cert = leaf.cert.with_extension("chain.crt");
        fs::write(&cert, pem).expect("write the chain");
        Leaf {
            cert,
            key: leaf.key.clone(),
        }
    }

    /// A DER OCSP response about `leaf` (one of this CA's), signed by this
    /// CA as its own responder with `openssl ocsp` offline (an index file,
    /// no server), produced `days_ago` days ago and valid for `days` from
    /// then: `days_ago > days` makes a stale one. The file is in the CA's
    /// directory (`s_server -status_file` reads it at every handshake):
    /// keep the CA alive while it is served.
    #[must_use]
    pub fn ocsp_response(
        &self,
        leaf: &Leaf,
        answer: OcspAnswer,
        days_ago: u32,
        days: u32,
    ) -> PathBuf {
        let dir = self.dir.path();
        let output = Command::new(OPENSSL)
            .args(["x509", "-noout", "-serial", "-in"])
            .arg(&leaf.cert)
            .output()
            .expect("run openssl x509 -serial");
        let serial = String::from_utf8_lossy(&output.stdout)
            .trim()
            .trim_start_matches("serial=")
            .to_owned();
        assert!(!serial.is_empty(), "no serial in {}", leaf.cert.display());
        let name = format!("ocsp-{serial}-{:x}", unique_serial());
        // openssl ca's index: status, expiry, revocation, serial, file, subject.
        let line = match answer {
            OcspAnswer::Good => format!("V\t491231235959Z\t\t{serial}\tunknown\t/CN=localhost\n"),
            OcspAnswer::Revoked => format!(
                "R\t491231235959Z\t250101000000Z,keyCompromise\t{serial}\tunknown\t/CN=localhost\n"
            ),
        };
        fs::write(dir.join(format!("{name}.index")), line).expect("write the OCSP index");
        let leaf_path = leaf.cert.display().to_string();
        let (request, response, index) = (
            format!("{name}.req"),
            format!("{name}.der"),
            format!("{name}.index"),
        );
        openssl(
            dir,
            &[
                "ocsp",
                "-issuer",
                "ca.crt",
                "-cert",
                &leaf_path,
                "-no_nonce",
                "-reqout",
                &request,
            ],
        );
        let days = days.to_string();
        openssl_days_ago(
            days_ago,
            dir,
            &[
                "ocsp", "-index", &index, "-rsigner", "ca.crt", "-rkey", "ca.key", "-CA", "ca.crt",
                "-reqin", &request, "-respout", &response, "-ndays", &days,
            ],
        );
        dir.join(response)
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

fn unique_serial() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let secs = u64::try_from(crate::unix_now()).unwrap_or(0);
    (secs << 20) | (COUNTER.fetch_add(1, Ordering::Relaxed) & 0xf_ffff)
}

fn openssl(dir: &Path, args: &[&str]) {
    openssl_via(&[], dir, args);
}

/// `openssl args` with the clock `days_ago` days back (under `faketime`),
/// for certificates and OCSP responses that start in the past.
fn openssl_days_ago(days_ago: u32, dir: &Path, args: &[&str]) {
    if days_ago == 0 {
        return openssl(dir, args);
    }
    require("/usr/bin/faketime", "faketime");
    let faked = format!("{days_ago} days ago");
    openssl_via(&["/usr/bin/faketime", &faked], dir, args);
}

/// `openssl args`, run through `wrapper` (`faketime -40d`) when given.
fn openssl_via(wrapper: &[&str], dir: &Path, args: &[&str]) {
    let mut command = match wrapper {
        [program, rest @ ..] => {
            let mut command = Command::new(program);
            command.args(rest).arg(OPENSSL);
            command
        }
        [] => Command::new(OPENSSL),
    };
    let output = command
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| panic!("cannot run openssl: {error}"));
    assert!(
        output.status.success(),
        "openssl {} failed ({}):\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Collects an nginx configuration: one `server` block on a free loopback
/// port, with TLS when [`NginxBuilder::tls`] gives it a certificate.
#[derive(Debug)]
pub struct NginxBuilder {
    dir: TempDir,
    port: u16,
    leaf: Option<Leaf>,
    server_snippets: Vec<String>,
}

/// A running nginx (single process: `master_process off`).
#[derive(Debug)]
pub struct Nginx {
    process: ServiceProcess,
    port: u16,
    _dir: TempDir,
}

impl NginxBuilder {
    /// Serves TLS with this certificate (`listen … ssl`).
    #[must_use]
    pub fn tls(mut self, leaf: &Leaf) -> Self {
        self.leaf = Some(leaf.clone());
        self
    }

    /// Adds directives inside the `server` block, e.g. `ssl_protocols
    /// TLSv1 TLSv1.1;` and `ssl_ciphers '…:@SECLEVEL=0';`. The block already
    /// has `location /nightwatch-testkit/` (answers 200); add others freely.
    #[must_use]
    pub fn server_snippet(mut self, snippet: &str) -> Self {
        self.server_snippets.push(snippet.to_owned());
        self
    }

    /// Listens on `port` instead of a fresh one: a restarted server keeps
    /// the address its monitors know.
    #[must_use]
    pub fn on_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The port it will listen on (known before start, for snippets).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Writes `nginx.conf`, starts nginx and waits until the port accepts.
    #[must_use]
    pub fn start(self) -> Nginx {
        require(NGINX, "nginx-light");
        let root = self.dir.path();
        let dir = root.display();
        let port = self.port;
        let (ssl, certs) = match &self.leaf {
            Some(leaf) => (" ssl", leaf.nginx_directives()),
            None => ("", String::new()),
        };
        let snippets = self.server_snippets.join("\n");
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    # nginx 1.22's default lacks TLSv1.3; a server_snippet's ssl_protocols
    # overrides this one.
    ssl_protocols TLSv1.2 TLSv1.3;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port}{ssl};
        server_name localhost;
        {certs}
        {snippets}
        location /nightwatch-testkit/ {{ default_type text/plain; return 200 "nightwatch-testkit nginx\n"; }}
    }}
}}
"#
        );
        fs::create_dir_all(root.join("tmp")).expect("create nginx temp dir");
        fs::write(root.join("nginx.conf"), conf).expect("write nginx.conf");
        let mut command = ServiceProcess::command(NGINX);
        command
            .arg("-p")
            .arg(root)
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-e")
            .arg(root.join("error.log"));
        let mut process = ServiceProcess::spawn("nginx", command, &root.join("nginx.out"));
        process.add_log(root.join("error.log"));
        process.add_log(root.join("nginx.conf"));
        wait_for_port(&mut process, port);
        Nginx {
            process,
            port,
            _dir: self.dir,
        }
    }
}

impl Nginx {
    /// A builder on a fresh free port.
    #[must_use]
    pub fn builder() -> NginxBuilder {
        NginxBuilder {
            dir: scratch_dir("nginx"),
            port: free_port(),
            leaf: None,
            server_snippets: Vec::new(),
        }
    }

    /// The loopback port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// nginx's output, error log and configuration.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }
}

fn wait_for_port(process: &mut ServiceProcess, port: u16) {
    let addr = crate::ports::loopback(port);
    process.wait_until(&format!("a listener on {addr}"), START_TIMEOUT, || {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
}

/// `openssl s_server -www` on a free loopback port.
#[derive(Debug)]
pub struct OpensslServer {
    process: ServiceProcess,
    port: u16,
    _dir: TempDir,
}

impl OpensslServer {
    /// Serves `leaf`; `extra_args` go to `s_server` (`-tls1_2`, `-cipher …`).
    #[must_use]
    pub fn start(leaf: &Leaf, extra_args: &[&str]) -> OpensslServer {
        require(OPENSSL, "openssl");
        let dir = scratch_dir("openssl-s-server");
        let port = free_port();
        let mut command = ServiceProcess::command(OPENSSL);
        command
            .args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&leaf.cert)
            .arg("-key")
            .arg(&leaf.key)
            .arg("-www")
            .args(extra_args);
        let mut process = ServiceProcess::spawn(
            "openssl s_server",
            command,
            &dir.path().join("s_server.log"),
        );
        // It prints ACCEPT once listening; probing the port would log a
        // failed handshake for every probe.
        process.wait_for_log_line("ACCEPT", START_TIMEOUT);
        OpensslServer {
            process,
            port,
            _dir: dir,
        }
    }

    /// The loopback port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What `s_server` printed.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }
}

/// gnutls-serv in a private network namespace: it listens on 0.0.0.0 and
/// `[::]` of a namespace that has nothing but loopback, so it can never be
/// reached from outside. Run clients with [`GnutlsServ::command_in_netns`]
/// or `PluginCmd::in_netns(gnutls.netns())`.
#[derive(Debug)]
pub struct GnutlsServ {
    process: ServiceProcess,
    port: u16,
    netns: PathBuf,
    _dir: TempDir,
}

impl GnutlsServ {
    /// Serves `leaf` over `--http`; `extra_args` go to gnutls-serv, e.g.
    /// `["--priority", "NORMAL:+3DES-CBC:+VERS-TLS1.0:-VERS-TLS1.3"]`.
    #[must_use]
    pub fn start(leaf: &Leaf, extra_args: &[&str]) -> GnutlsServ {
        require(GNUTLS_SERV, "gnutls-bin");
        require_netns_tools();
        let dir = scratch_dir("gnutls-serv");
        // Any port is free in a fresh namespace; a free host port keeps
        // messages unambiguous when several run.
        let port = free_port();
        let mut command = ServiceProcess::command("/usr/bin/unshare");
        // exec keeps the pid (and the parent-death signal) of the whole
        // setpriv -> unshare -> sh -> gnutls-serv chain.
        command
            .args(["-n", "/bin/sh", "-c"])
            .arg(format!(
                "ip link set lo up && cert=$1 && key=$2 && shift 2 && exec {GNUTLS_SERV} --http --port {port} --x509certfile \"$cert\" --x509keyfile \"$key\" \"$@\""
            ))
            .arg("gnutls-serv")
            .arg(&leaf.cert)
            .arg(&leaf.key)
            .args(extra_args);
        let mut process =
            ServiceProcess::spawn("gnutls-serv", command, &dir.path().join("gnutls-serv.log"));
        process.wait_for_log_line(&format!("IPv4 0.0.0.0 port {port}...done"), START_TIMEOUT);
        let pid = process.pid().expect("gnutls-serv has a pid");
        GnutlsServ {
            process,
            port,
            netns: PathBuf::from(format!("/proc/{pid}/ns/net")),
            _dir: dir,
        }
    }

    /// Its port, inside its namespace.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its network namespace (valid while it runs).
    #[must_use]
    pub fn netns(&self) -> &Path {
        &self.netns
    }

    /// A command that runs `program` inside the server's namespace.
    #[must_use]
    pub fn command_in_netns(&self, program: impl AsRef<OsStr>) -> Command {
        netns_command(&self.netns, program)
    }

    /// What gnutls-serv printed.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }
}

/// `nsenter --net=<netns> -- program`: runs a client inside a namespace made
/// by [`GnutlsServ`] or [`in_private_netns`]'s caller. Needs root.
#[must_use]
pub fn netns_command(netns: &Path, program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new("/usr/bin/nsenter");
    command
        .arg(format!("--net={}", netns.display()))
        .arg("--")
        .arg(program);
    command
}

fn require_netns_tools() {
    require("/usr/bin/unshare", "util-linux (unshare)");
    require("/usr/bin/nsenter", "util-linux (nsenter)");
    require("/usr/sbin/ip", "iproute2");
}

/// Runs `script` with `/bin/sh` in a fresh network namespace whose only
/// interface is loopback (brought up first), for one-shot server-and-client
/// scenarios: `gnutls-serv … & sleep 0.2; openssl s_client …`.
///
/// Limits: the namespace has no route anywhere but to itself (which is the
/// point); it needs root; it also runs in a PID namespace of its own, so
/// everything the script starts is killed when the script ends or after
/// `timeout` (and `$!` is a pid of that namespace); files it writes are in
/// the normal filesystem. Returns the exit status (`None` on timeout) and
/// the combined stdout and stderr.
#[must_use]
pub fn in_private_netns(script: &str, timeout: Duration) -> (Option<ExitStatus>, String) {
    require_netns_tools();
    let dir = scratch_dir("netns");
    // A PID namespace too: background jobs of the script then die with it
    // even when the test process is killed.
    let mut command = ServiceProcess::command_in_pid_namespace("/usr/bin/unshare");
    command
        .args(["-n", "/bin/sh", "-c"])
        .arg(format!("ip link set lo up || exit 99\n{script}"))
        .current_dir(dir.path());
    let mut process =
        ServiceProcess::spawn("netns script", command, &dir.path().join("script.log"));
    let status = process.wait_exit(timeout);
    let output = process.output();
    process.stop();
    (status, output)
}

/// Handshakes with `openssl s_client` on `127.0.0.1:port` (inside `netns`
/// when given), verifying the chain against `ca` and the name `localhost`.
/// `Ok` carries the negotiated protocol (`TLSv1.3`); `Err` the client's
/// whole output.
pub fn s_client_handshake(port: u16, ca: &Path, netns: Option<&Path>) -> Result<String, String> {
    let mut command = match netns {
        Some(netns) => netns_command(netns, "/usr/bin/timeout"),
        None => Command::new("/usr/bin/timeout"),
    };
    command
        .args(["10", OPENSSL, "s_client", "-brief", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args([
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(ca)
        .stdin(std::process::Stdio::null());
    let output = command
        .output()
        .map_err(|error| format!("cannot run openssl s_client: {error}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let protocol = text
        .lines()
        .find_map(|line| line.strip_prefix("Protocol version: "))
        .map(str::to_owned);
    match protocol {
        Some(protocol) if output.status.success() && text.contains("Verification: OK") => {
            Ok(protocol)
        }
        _ => Err(format!("openssl s_client ({}):\n{text}", output.status)),
    }
}

/// Host names that resolve to 127.0.0.1 for one program: a script that runs
/// it in a private mount namespace where a scratch hosts file is
/// bind-mounted over `/etc/hosts` (needs root; nothing outside sees it).
/// For names a certificate must match (`www.example.org`) that still lead
/// only to loopback.
#[derive(Debug)]
pub struct LoopbackHosts {
    dir: TempDir,
}

impl LoopbackHosts {
    /// A hosts file naming `names` (and `localhost`) as 127.0.0.1.
    #[must_use]
    pub fn new(names: &[&str]) -> LoopbackHosts {
        require("/usr/bin/unshare", "util-linux (unshare)");
        let dir = scratch_dir("hosts");
        fs::write(
            dir.path().join("hosts"),
            format!("127.0.0.1 localhost {}\n", names.join(" ")),
        )
        .expect("write the hosts file");
        LoopbackHosts { dir }
    }

    /// An executable script that runs `program` with its arguments under
    /// these names (for `plugin_at`).
    #[must_use]
    pub fn wrap(&self, program: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let script = self.dir.path().join("run");
        let hosts = self.dir.path().join("hosts");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\nexec /usr/bin/unshare -m /bin/sh -c 'mount --bind \"$0\" /etc/hosts && exec \"$@\"' '{}' '{}' \"$@\"\n",
                hosts.display(),
                program.display()
            ),
        )
        .expect("write the wrapper");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod the wrapper");
        script
    }
}
