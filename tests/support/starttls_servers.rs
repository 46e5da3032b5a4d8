//! Servers that upgrade a plaintext session to TLS, for check-tls-ciphers
//! `--starttls`: Postfix (SMTP), Dovecot (IMAP and POP3), vsftpd (FTP),
//! PostgreSQL and slapd (LDAP), all Debian's, each with its whole state in
//! a scratch dir and listening only on loopback.
//!
//! The harness runs as root, so the daemons are started as root with their
//! usual privilege drops (Postfix's `postfix` user, Dovecot's `dovenull`);
//! PostgreSQL refuses root and runs as the `postgres` user, its scratch dir
//! handed to that user. Servers that fork (Postfix, Dovecot, PostgreSQL,
//! vsftpd) run in a PID namespace of their own, so nothing outlives the
//! test even if it is killed.
//!
//! | server | ready after (measured here, 2 cores shared with other builds) |
//! |---|---|
//! | Postfix (`postfix start-fg`: postfix-script checks and creates the queue first) | 2.9–3.7 s |
//! | Dovecot | 20–350 ms |
//! | vsftpd | 25–125 ms |
//! | PostgreSQL (`initdb` and start) | 1.3–2.3 s |
//! | slapd | 40–65 ms |

// Product and protocol names (PostgreSQL, StartTLS) are words here, not code.
#![allow(clippy::doc_markdown)]

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::ports::{free_port, loopback};
use crate::process::{ServiceProcess, require, scratch_dir};
use crate::tls::Leaf;

const POSTFIX: &str = "/usr/sbin/postfix";
const POSTFIX_MASTER: &str = "/usr/lib/postfix/sbin/master";
const DOVECOT: &str = "/usr/sbin/dovecot";
const DOVECOT_IMAP: &str = "/usr/lib/dovecot/imap";
const DOVECOT_POP3: &str = "/usr/lib/dovecot/pop3";
/// Debian's DH parameters, which its own 10-ssl.conf names: without them
/// Dovecot 2.3 closes the connection whenever OpenSSL picks a DHE suite.
const DOVECOT_DH: &str = "/usr/share/dovecot/dh.pem";
const VSFTPD: &str = "/usr/sbin/vsftpd";
const SLAPD: &str = "/usr/sbin/slapd";
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const SETPRIV: &str = "/usr/bin/setpriv";
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Copies the leaf's certificate and key into `dir` (the servers read them
/// after dropping privileges, or insist on owning the key) and returns
/// their paths.
fn install_leaf(leaf: &Leaf, dir: &Path) -> (String, String) {
    let cert = dir.join("server.crt");
    let key = dir.join("server.key");
    fs::copy(&leaf.cert, &cert).expect("copy the leaf certificate");
    fs::copy(&leaf.key, &key).expect("copy the leaf key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).expect("chmod the key");
    (cert.display().to_string(), key.display().to_string())
}

/// Lets the daemons' unprivileged users into the scratch dir.
fn open_dir(dir: &Path) {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", dir.display()));
}

fn chown(path: &Path, user: &str) {
    let status = Command::new("/bin/chown")
        .args(["-R", user])
        .arg(path)
        .status()
        .expect("run chown");
    assert!(
        status.success(),
        "chown -R {user} {} failed",
        path.display()
    );
}

fn wait_for_port(process: &mut ServiceProcess, port: u16) {
    let addr = loopback(port);
    process.wait_until(&format!("a listener on {addr}"), START_TIMEOUT, || {
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    });
}

/// One running server: its main port and, for Dovecot and slapd, a second.
#[derive(Debug)]
pub struct StarttlsServer {
    process: ServiceProcess,
    port: u16,
    other_port: Option<u16>,
    _dir: TempDir,
}

impl StarttlsServer {
    /// The port of the protocol it was started for (Dovecot's IMAP).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Dovecot's POP3 port; slapd's `ldaps://` port when it serves TLS.
    #[must_use]
    pub fn other_port(&self) -> Option<u16> {
        self.other_port
    }

    /// Its output, log and configuration, for a failing test's message.
    #[must_use]
    pub fn logs(&self) -> String {
        self.process.logs()
    }

    /// Postfix's smtpd on a loopback port, through its own master
    /// (`postfix -c DIR start-fg`), offering STARTTLS with the leaf, or with
    /// no TLS at all (`None`: EHLO does not list STARTTLS).
    #[must_use]
    pub fn postfix(leaf: Option<&Leaf>) -> StarttlsServer {
        require(POSTFIX, "postfix");
        require(POSTFIX_MASTER, "postfix");
        let dir = scratch_dir("postfix");
        let root = dir.path();
        open_dir(root);
        let port = free_port();
        let conf = root.join("conf");
        let data = root.join("data");
        fs::create_dir_all(&conf).expect("create the postfix config dir");
        fs::create_dir_all(root.join("queue")).expect("create the postfix queue dir");
        fs::create_dir_all(&data).expect("create the postfix data dir");
        // master takes its lock in data_directory as the mail owner.
        chown(&data, "postfix");
        let tls = match leaf {
            Some(leaf) => {
                let (cert, key) = install_leaf(leaf, root);
                format!(
                    "smtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}\nsmtpd_tls_security_level = may\n"
                )
            }
            None => "smtpd_tls_security_level = none\n".to_owned(),
        };
        let r = root.display();
        // compatibility_level and the empty destination keep it from
        // warning or accepting mail; the log goes to master's stdout.
        let main_cf = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {r}/queue\n\
             data_directory = {r}/data\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             inet_interfaces = 127.0.0.1\n\
             inet_protocols = ipv4\n\
             myhostname = mail.nightwatch.test\n\
             mydestination =\n\
             local_recipient_maps =\n\
             maillog_file = /dev/stdout\n\
             biff = no\n\
             {tls}"
        );
        // Only what smtpd needs before mail is sent: proxymap and anvil
        // for its lookups and limits, tlsmgr for its session cache; no
        // chroot (the jail would need a copy of /etc).
        let master_cf = format!(
            "127.0.0.1:{port} inet n - n - - smtpd\n\
             proxymap unix - - n - - proxymap\n\
             anvil unix - - n - 1 anvil\n\
             tlsmgr unix - - n 1000? 1 tlsmgr\n\
             postlog unix-dgram n - n - 1 postlogd\n"
        );
        fs::write(conf.join("main.cf"), main_cf).expect("write main.cf");
        fs::write(conf.join("master.cf"), master_cf).expect("write master.cf");
        let mut command = ServiceProcess::command_in_pid_namespace(POSTFIX);
        command.arg("-c").arg(&conf).arg("start-fg");
        let mut process = ServiceProcess::spawn("postfix", command, &root.join("postfix.log"));
        process.add_log(conf.join("main.cf"));
        wait_for_port(&mut process, port);
        StarttlsServer {
            process,
            port,
            other_port: None,
            _dir: dir,
        }
    }

    /// Dovecot serving IMAP and POP3 on loopback ports, STARTTLS/STLS with the
    /// leaf, or with `ssl = no` (`None`).
    #[must_use]
    pub fn dovecot(leaf: Option<&Leaf>) -> StarttlsServer {
        require(DOVECOT, "dovecot-core");
        require(DOVECOT_IMAP, "dovecot-imapd");
        require(DOVECOT_POP3, "dovecot-pop3d");
        let dir = scratch_dir("dovecot");
        let root = dir.path();
        open_dir(root);
        let (imap_port, pop3_port) = (free_port(), free_port());
        let ssl = match leaf {
            Some(leaf) => {
                let (cert, key) = install_leaf(leaf, root);
                format!("ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\nssl_dh = <{DOVECOT_DH}\n")
            }
            None => "ssl = no\n".to_owned(),
        };
        let r = root.display();
        // The login processes never authenticate anyone here; the static
        // passdb only keeps the config valid. instance_name keeps doveadm
        // of a system Dovecot away from this one.
        let conf = format!(
            "base_dir = {r}/run\n\
             state_dir = {r}/state\n\
             instance_name = nightwatch-{imap_port}\n\
             protocols = imap pop3\n\
             listen = 127.0.0.1\n\
             log_path = {r}/dovecot.log\n\
             {ssl}\
             auth_mechanisms = plain\n\
             passdb {{\n  driver = static\n  args = password=unused\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={r}/home\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {imap_port}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
             service pop3-login {{\n  inet_listener pop3 {{\n    address = 127.0.0.1\n    port = {pop3_port}\n  }}\n  inet_listener pop3s {{\n    port = 0\n  }}\n}}\n"
        );
        let conf_path = root.join("dovecot.conf");
        fs::write(&conf_path, conf).expect("write dovecot.conf");
        let mut command = ServiceProcess::command_in_pid_namespace(DOVECOT);
        command.arg("-F").arg("-c").arg(&conf_path);
        let mut process = ServiceProcess::spawn("dovecot", command, &root.join("dovecot.out"));
        process.add_log(root.join("dovecot.log"));
        wait_for_port(&mut process, imap_port);
        wait_for_port(&mut process, pop3_port);
        StarttlsServer {
            process,
            port: imap_port,
            other_port: Some(pop3_port),
            _dir: dir,
        }
    }

    /// vsftpd on a loopback port with `ssl_enable=YES` and the leaf, or
    /// without TLS (`None`: AUTH TLS is refused).
    #[must_use]
    pub fn vsftpd(leaf: Option<&Leaf>) -> StarttlsServer {
        require(VSFTPD, "vsftpd");
        let dir = scratch_dir("vsftpd");
        let root = dir.path();
        let port = free_port();
        let empty = root.join("empty");
        fs::create_dir_all(&empty).expect("create vsftpd's empty dir");
        let ssl = match leaf {
            Some(leaf) => {
                let (cert, key) = install_leaf(leaf, root);
                format!(
                    "ssl_enable=YES\nallow_anon_ssl=YES\nrsa_cert_file={cert}\nrsa_private_key_file={key}\n"
                )
            }
            None => "ssl_enable=NO\n".to_owned(),
        };
        // vsftpd refuses to start with both anonymous and local logins
        // off; anonymous it is, rooted in an empty dir. seccomp would
        // kill it under the harness' setpriv.
        let conf = format!(
            "listen=YES\nlisten_ipv6=NO\nlisten_address=127.0.0.1\nlisten_port={port}\n\
             background=NO\nrun_as_launching_user=YES\nseccomp_sandbox=NO\n\
             anonymous_enable=YES\nno_anon_password=YES\nanon_root={e}\nlocal_enable=NO\n\
             secure_chroot_dir={e}\nxferlog_enable=NO\nvsftpd_log_file={r}/vsftpd.log\n{ssl}",
            e = empty.display(),
            r = root.display(),
        );
        let conf_path = root.join("vsftpd.conf");
        fs::write(&conf_path, conf).expect("write vsftpd.conf");
        let mut command = ServiceProcess::command_in_pid_namespace(VSFTPD);
        command.arg(&conf_path);
        let mut process = ServiceProcess::spawn("vsftpd", command, &root.join("vsftpd.out"));
        process.add_log(conf_path);
        wait_for_port(&mut process, port);
        StarttlsServer {
            process,
            port,
            other_port: None,
            _dir: dir,
        }
    }

    /// PostgreSQL 15 (a fresh `initdb`) on a loopback port, `ssl = on` with the
    /// leaf or `ssl = off` (`None`: SSLRequest is answered `N`). Runs as the
    /// `postgres` user, which Debian's package creates.
    #[must_use]
    pub fn postgres(leaf: Option<&Leaf>) -> StarttlsServer {
        let initdb = require(&format!("{PG_BIN}/initdb"), "postgresql");
        let postgres = require(&format!("{PG_BIN}/postgres"), "postgresql");
        let dir = scratch_dir("postgres");
        let root = dir.path();
        let port = free_port();
        let ssl = match leaf {
            Some(leaf) => {
                let (cert, key) = install_leaf(leaf, root);
                vec![
                    "ssl=on".to_owned(),
                    format!("ssl_cert_file={cert}"),
                    format!("ssl_key_file={key}"),
                ]
            }
            None => vec!["ssl=off".to_owned()],
        };
        chown(root, "postgres");
        let data = root.join("data");
        let as_postgres = [
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ];
        let out = Command::new(SETPRIV)
            .args(as_postgres)
            .arg(&initdb)
            .arg("-D")
            .arg(&data)
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "--no-instructions",
            ])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut command = ServiceProcess::command_in_pid_namespace(SETPRIV);
        command
            .args(as_postgres)
            .arg(&postgres)
            .arg("-D")
            .arg(&data);
        for setting in [
            "listen_addresses=127.0.0.1".to_owned(),
            format!("port={port}"),
            format!("unix_socket_directories={}", root.display()),
            "fsync=off".to_owned(),
        ]
        .into_iter()
        .chain(ssl)
        {
            command.arg("-c").arg(setting);
        }
        let mut process = ServiceProcess::spawn("postgres", command, &root.join("postgres.log"));
        process.wait_for_log_line(
            "database system is ready to accept connections",
            START_TIMEOUT,
        );
        StarttlsServer {
            process,
            port,
            other_port: None,
            _dir: dir,
        }
    }

    /// slapd with one empty mdb database, serving `ldap://` (StartTLS) and,
    /// with a leaf, `ldaps://` on a second port from the same TLS settings, so
    /// a scanner without LDAP StartTLS can read the same TLS directly.
    #[must_use]
    pub fn slapd(leaf: Option<&Leaf>) -> StarttlsServer {
        require(SLAPD, "slapd");
        let dir = scratch_dir("slapd");
        let root = dir.path();
        let port = free_port();
        let db = root.join("db");
        fs::create_dir_all(&db).expect("create slapd's db dir");
        let (tls, ldaps_port) = match leaf {
            Some(leaf) => {
                let (cert, key) = install_leaf(leaf, root);
                (
                    format!("TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n"),
                    Some(free_port()),
                )
            }
            None => (String::new(), None),
        };
        let r = root.display();
        let conf = format!(
            "include /etc/ldap/schema/core.schema\n\
             pidfile {r}/slapd.pid\n\
             argsfile {r}/slapd.args\n\
             modulepath /usr/lib/ldap\n\
             moduleload back_mdb\n\
             {tls}\
             database mdb\n\
             suffix \"dc=nightwatch,dc=test\"\n\
             directory {r}/db\n"
        );
        let conf_path = root.join("slapd.conf");
        fs::write(&conf_path, conf).expect("write slapd.conf");
        let urls = match ldaps_port {
            Some(ldaps) => format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps}/"),
            None => format!("ldap://127.0.0.1:{port}/"),
        };
        // -d 0: stay in the foreground, log nothing but errors.
        let mut command = ServiceProcess::command(SLAPD);
        command
            .args(["-d", "0", "-h"])
            .arg(&urls)
            .arg("-f")
            .arg(&conf_path);
        let mut process = ServiceProcess::spawn("slapd", command, &root.join("slapd.log"));
        process.add_log(conf_path);
        wait_for_port(&mut process, port);
        if let Some(ldaps) = ldaps_port {
            wait_for_port(&mut process, ldaps);
        }
        StarttlsServer {
            process,
            port,
            other_port: ldaps_port,
            _dir: dir,
        }
    }
}
