//! check-tls-ciphers: every protocol version, cipher suite and group a TLS
//! server accepts, found with hand-built ClientHellos (so suites no modern
//! library offers are still seen), the certificate read through a real
//! rustls handshake, all judged against a policy: a `--policy` file, or
//! one of Mozilla's profiles.

// TLS message names (ServerHello, HelloRetryRequest) are words here, not code.
#![allow(clippy::doc_markdown)]

pub mod args;
pub mod cert;
pub mod cert_verdict;
pub mod policy;
pub mod policy_cli;
pub mod probe;
pub mod render;
pub mod scan;
pub mod starttls;
pub mod suites;
pub mod verdict;
pub mod wire;

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nightwatch_core::{Blame, CheckError, Context, Finding, Perfdata, Report, State, Uom};

pub use args::Args;
use cert::{CertError, CertFacts, Want};
use policy::{Policy, PolicyError};
use probe::{ConnectError, Prober};
use scan::{Order, Scan};
use suites::Version;
use verdict::Names;

/// The word that leads every line this plugin prints.
pub const LABEL: &str = "TLS";

/// Time kept back from the timeout so the plugin's own message, not the
/// watchdog's, reports a slow server.
const REPLY_MARGIN: Duration = Duration::from_millis(300);
/// Longest wait for one reply: a silent server must not eat the whole
/// timeout on the first probe.
const MAX_READ_WAIT: Duration = Duration::from_secs(5);

/// Why the check could not judge anything.
#[derive(Debug, thiserror::Error)]
pub enum CheckTlsError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("cannot resolve {host}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Cert(CertError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Usage(String),
}

impl CheckError for CheckTlsError {
    fn blame(&self) -> Blame {
        match self {
            CheckTlsError::Connect(_)
            | CheckTlsError::Cert(CertError::Connect(_) | CertError::Handshake { .. }) => {
                Blame::Monitored
            }
            CheckTlsError::Resolve { .. }
            | CheckTlsError::Usage(_)
            | CheckTlsError::Policy(_)
            | CheckTlsError::Cert(CertError::CaFile { .. }) => Blame::Usage,
            CheckTlsError::Cert(CertError::Parse(_)) => Blame::Monitored,
            CheckTlsError::Cert(CertError::Setup(_)) => Blame::Internal,
        }
    }
}

/// Everything found, as `--json` prints it.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub host: String,
    pub port: u16,
    pub sni: Option<String>,
    /// The plaintext protocol upgraded first (`--starttls`), if any.
    pub starttls: Option<starttls::Protocol>,
    /// The policy's name (a profile's, or the file's `name`).
    pub policy: String,
    pub state: String,
    pub scan: Scan,
    pub certificates: Vec<CertFacts>,
    pub findings: Vec<String>,
    pub connections: u32,
    pub elapsed_seconds: f64,
}

/// Scans the server and judges it.
pub fn check(args: &Args, context: &Context) -> Result<Report, CheckTlsError> {
    let started = Instant::now();
    let policy = policy_for(args)?;
    let roots = cert::roots(policy.ca_file.as_deref()).map_err(CheckTlsError::Cert)?;
    let addr = resolve(&args.host, args.port)?;
    let sni = match (&args.sni, args.host.parse::<IpAddr>()) {
        (Some(sni), _) => Some(sni.clone()),
        (None, Ok(_)) => None,
        (None, Err(_)) => Some(args.host.clone()),
    };
    let read_timeout = context
        .remaining()
        .saturating_sub(REPLY_MARGIN)
        .clamp(Duration::from_millis(100), MAX_READ_WAIT);
    let mut prober =
        Prober::new(addr, sni.clone(), read_timeout, args.delay).with_starttls(args.starttls);
    context.doing(format!("scanning {addr}"));
    // A policy that judges no groups needs no walk through them: that is
    // what keeps a verdict on its compliant server to a few connections.
    let all_groups = !policy.groups.is_empty();
    let scan = match scan::scan(&mut prober, args.max_parallel > 1, all_groups) {
        // A server that answers "no" to STARTTLS was reached: its refusal
        // is the finding, whatever --unreachable-state says.
        Err(error) if matches!(&error, ConnectError::Starttls { source, .. } if source.is_refusal()) =>
        {
            return Ok(context
                .report()
                .with_state(State::Critical)
                .with_summary(nightwatch_core::fault::sentence(&error)));
        }
        scan => scan?,
    };

    let (certs, cert_problem) = if scan.versions.is_empty() {
        (Vec::new(), None)
    } else {
        context.doing(format!("reading the certificate of {addr}"));
        read_certs(&mut prober, &scan, &args.host, &roots)?
    };

    let found = Found {
        target: addr.to_string(),
        scan,
        certs,
        cert_problem,
        connections: prober.connections(),
        elapsed: started.elapsed(),
    };
    let now = unix_now();
    if args.json {
        let (state, findings) = judged(args, &policy, &found, now);
        let outcome = Outcome {
            host: args.host.clone(),
            port: args.port,
            sni,
            starttls: args.starttls,
            policy: policy.name.clone(),
            state: state.to_string(),
            findings,
            scan: found.scan,
            certificates: found.certs,
            connections: found.connections,
            elapsed_seconds: found.elapsed.as_secs_f64(),
        };
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, &outcome);
        let _ = writeln!(stdout);
        let _ = stdout.flush();
        // For machines: the document alone, with the verdict's exit code.
        std::process::exit(state.exit_code());
    }
    Ok(render(context.report(), args, &policy, &found, now))
}

/// The policy to judge against: `--policy`'s file or `--profile`'s
/// profile, with `-w`/`-c`/`--ca-file` given on the command line taking
/// the place of the policy's own.
pub fn policy_for(args: &Args) -> Result<Policy, CheckTlsError> {
    let mut policy = match &args.policy {
        Some(path) => Policy::load(path)?,
        None => args.profile.policy(),
    };
    if let Some(warning) = args.warning {
        policy.expiry_warning = warning;
    }
    if let Some(critical) = args.critical {
        policy.expiry_critical = critical;
    }
    if let Some(ca_file) = &args.ca_file {
        policy.ca_file = Some(ca_file.clone());
    }
    if policy.expiry_critical > policy.expiry_warning {
        let source = |flag: bool, option: &str, key: &str| {
            if flag {
                option.to_owned()
            } else {
                format!("the policy's {key}")
            }
        };
        return Err(CheckTlsError::Usage(format!(
            "{} ({}) must not be longer than {} ({}): critical comes closer to expiry",
            source(args.critical.is_some(), "-c", "expiry_critical"),
            nightwatch_core::display::duration(policy.expiry_critical),
            source(args.warning.is_some(), "-w", "expiry_warning"),
            nightwatch_core::display::duration(policy.expiry_warning)
        )));
    }
    Ok(policy)
}

/// What a scan found, ready to judge.
#[derive(Debug, Clone)]
pub struct Found {
    /// `127.0.0.1:443`, for "no TLS on …".
    pub target: String,
    pub scan: Scan,
    pub certs: Vec<CertFacts>,
    /// Why no certificate could be read, when the hellos found TLS.
    pub cert_problem: Option<String>,
    pub connections: u32,
    pub elapsed: Duration,
}

/// Every finding of `found` under `policy`.
fn findings(args: &Args, policy: &Policy, found: &Found, now: i64) -> Vec<Finding> {
    let names = Names(args.names);
    let mut findings = verdict::judge(policy, &found.scan, &found.certs, names, now);
    if found.scan.versions.is_empty() {
        let why = found.scan.not_tls.as_deref().map_or_else(
            || "no protocol version was accepted".to_owned(),
            |e| format!("it answered with {e}"),
        );
        findings.insert(
            0,
            Finding::new(
                State::Critical,
                format!("no TLS on {}: {why}", found.target),
            ),
        );
    }
    if let Some(problem) = &found.cert_problem {
        findings.push(Finding::new(State::Warning, problem.clone()));
    }
    findings
}

/// The worst state and each finding's long text, for `--json`.
fn judged(args: &Args, policy: &Policy, found: &Found, now: i64) -> (State, Vec<String>) {
    let findings = findings(args, policy, found, now);
    let state = State::worst_of(findings.iter().map(|f| f.state));
    let texts = findings
        .into_iter()
        .map(|f| f.detail.unwrap_or(f.summary))
        .collect();
    (state, texts)
}

/// The plugin output for `found`, judged against `policy` (from
/// [`policy_for`]) at `now` (public for the snapshot tests, which pin it
/// for fixed scans).
#[must_use]
pub fn render(mut report: Report, args: &Args, policy: &Policy, found: &Found, now: i64) -> Report {
    let findings = findings(args, policy, found, now);
    let count = findings.len();
    for finding in findings {
        report.add_finding(finding);
    }
    if count == 0 {
        report = report.with_summary(ok_summary(policy, &found.scan, &found.certs, now));
    }
    for line in long_text(policy, Names(args.names), &found.scan, &found.certs, now) {
        report.add_detail(line);
    }
    add_perfdata(&mut report, found, policy, now);
    report
}

/// The certificates (one per key type the suites show), or why none was
/// read: a failed handshake is a finding, not an error, when the hellos
/// already proved the server speaks TLS.
fn read_certs(
    prober: &mut Prober,
    scan: &Scan,
    host: &str,
    roots: &std::sync::Arc<rustls::RootCertStore>,
) -> Result<(Vec<CertFacts>, Option<String>), CheckTlsError> {
    let mut certs = Vec::new();
    let mut problem = None;
    let legacy_only = scan.versions.iter().all(|v| v.version < Version::Tls12);
    for want in cert_wants(scan) {
        match cert::fetch(prober, host, roots, want) {
            Ok(facts) => certs.push(facts),
            Err(CertError::Handshake { .. }) if legacy_only => {
                let newest = &scan.versions[0];
                match cert::fetch_legacy(prober, newest.version, &newest.suites, host, roots) {
                    Ok(facts) => certs.push(facts),
                    Err(CertError::Handshake { source, .. }) => {
                        problem = Some(format!("certificate not read: {source}"));
                    }
                    Err(error) => return Err(CheckTlsError::Cert(error)),
                }
            }
            Err(CertError::Handshake { source, .. }) => {
                problem = Some(format!(
                    "certificate not read: the rustls handshake failed: {source}"
                ));
            }
            Err(error) => return Err(CheckTlsError::Cert(error)),
        }
    }
    // Two keys of the same type are the same certificate read twice.
    certs.dedup_by(|a, b| a.key_type == b.key_type && a.not_after == b.not_after);
    Ok((certs, problem))
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
    )
    .unwrap_or(i64::MAX)
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, CheckTlsError> {
    let resolve_error = |source| CheckTlsError::Resolve {
        host: host.to_owned(),
        source,
    };
    (host, port)
        .to_socket_addrs()
        .map_err(resolve_error)?
        .next()
        .ok_or_else(|| resolve_error(std::io::Error::other("no address")))
}

/// One handshake, or one per key type when the suites show the server has
/// both an RSA and an ECDSA certificate.
fn cert_wants(scan: &Scan) -> Vec<Want> {
    let auths: Vec<&str> = scan
        .versions
        .iter()
        .flat_map(|v| v.suites.iter())
        .filter_map(|&c| suites::by_code(c).map(|s| s.auth))
        .collect();
    if auths.contains(&"RSA") && auths.contains(&"ECDSA") {
        vec![Want::Ecdsa, Want::Rsa]
    } else {
        vec![Want::Any]
    }
}

fn ok_summary(policy: &Policy, scan: &Scan, certs: &[CertFacts], now: i64) -> String {
    let versions: Vec<&str> = scan.versions.iter().map(|v| v.version.name()).collect();
    let suites: usize = scan.versions.iter().map(|v| v.suites.len()).sum();
    let expiry = certs
        .iter()
        .map(|c| c.not_after)
        .min()
        .map(|at| {
            format!(
                ", certificate expires {}",
                nightwatch_core::display::from_now(Duration::from_secs(
                    u64::try_from(at - now).unwrap_or(0)
                ))
            )
        })
        .unwrap_or_default();
    format!(
        "{} compliant: {}, {suites} suites{expiry}",
        policy.name,
        versions.join(" and ")
    )
}

fn long_text(
    policy: &Policy,
    names: Names,
    scan: &Scan,
    certs: &[CertFacts],
    now: i64,
) -> Vec<String> {
    let mut lines = Vec::new();
    for entry in &scan.versions {
        let names: Vec<String> = entry
            .suites
            .iter()
            .map(|&c| {
                let mark = if policy.allows_suite(entry.version, c) {
                    ""
                } else {
                    " ✗"
                };
                format!("{}{mark}", names.full(c))
            })
            .collect();
        lines.push(format!("{}: {}", entry.version, names.join(", ")));
    }
    let group_list = |groups: &[u16]| {
        groups
            .iter()
            .map(|&g| {
                let mark = if policy.allows_group(g) { "" } else { " ✗" };
                format!("{}{mark}", suites::group_name(g))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if policy.groups.is_empty() && !scan.versions.is_empty() {
        let first = scan
            .tls13_groups
            .first()
            .map(|&g| format!(" (TLS 1.3's first choice: {})", suites::group_name(g)))
            .unwrap_or_default();
        lines.push(format!(
            "groups: not enumerated, {} judges none{first}",
            policy.name
        ));
    } else if !scan.tls13_groups.is_empty() {
        lines.push(format!(
            "TLS 1.3 groups: {}",
            group_list(&scan.tls13_groups)
        ));
    }
    if !scan.tls12_groups.is_empty() && !policy.groups.is_empty() {
        lines.push(format!(
            "ECDHE curves (TLS ≤ 1.2): {}",
            group_list(&scan.tls12_groups)
        ));
    }
    if let Some(bits) = scan.dh_bits {
        let mark = if bits < policy.min_dh_bits {
            " ✗"
        } else {
            ""
        };
        lines.push(format!("DHE group (TLS ≤ 1.2): {bits} bits{mark}"));
    }
    match scan.order {
        Some(Order::Server) => lines.push("suite order: the server decides".into()),
        Some(Order::Client) => lines.push("suite order: the client decides".into()),
        None => {}
    }
    for cert in certs {
        let key = match &cert.curve {
            Some(curve) => format!("{} {curve}", cert.key_type),
            None => format!("{} {} bits", cert.key_type, cert.key_bits),
        };
        let ocsp = cert_verdict::stapling_note(cert, now)
            .map(|note| format!(", {note}"))
            .unwrap_or_default();
        lines.push(format!(
            "certificate: {}, {key}, {}, valid {} to {}, names {}, issuer {}, chain {}{ocsp} ({})",
            cert.subject,
            cert.signature,
            nightwatch_core::display::clock(cert.not_before),
            nightwatch_core::display::clock(cert.not_after),
            cert.names.join(", "),
            cert.issuer,
            cert.chain_error.as_deref().unwrap_or("verified"),
            cert.protocol,
        ));
    }
    lines
}

fn add_perfdata(report: &mut Report, found: &Found, policy: &Policy, now: i64) {
    let (scan, certs) = (&found.scan, &found.certs);
    let (connections, elapsed) = (found.connections, found.elapsed);
    if let Some(cert) = certs.iter().min_by_key(|c| c.not_after) {
        let days = (cert.not_after - now) as f64 / 86_400.0;
        let warn = policy.expiry_warning.as_secs_f64() / 86_400.0;
        let crit = policy.expiry_critical.as_secs_f64() / 86_400.0;
        let thresholds = nightwatch_core::Thresholds::new(
            Some(nightwatch_core::Range::new(warn, f64::INFINITY, false)),
            Some(nightwatch_core::Range::new(crit, f64::INFINITY, false)),
        );
        report.add_perfdata(
            Perfdata::new("days_left", Some((days * 10.0).round() / 10.0))
                .with_thresholds(&thresholds),
        );
    }
    if let Some(bits) = certs.iter().map(|c| c.key_bits).min() {
        report.add_perfdata(Perfdata::new("key_bits", Some(f64::from(bits))));
    }
    if let Some(bits) = scan.dh_bits {
        report.add_perfdata(Perfdata::new("dh_bits", Some(f64::from(bits))));
    }
    for version in Version::ALL {
        let count = scan.suites_for(version).len();
        report.add_perfdata(
            Perfdata::new(format!("suites_{}", version.label()), Some(count as f64)).with_min(0.0),
        );
    }
    let violations = report
        .findings()
        .iter()
        .filter(|f| f.state != State::Ok)
        .count();
    report.add_perfdata(Perfdata::new("violations", Some(violations as f64)).with_min(0.0));
    report.add_perfdata(Perfdata::new("connections", Some(f64::from(connections))).with_min(0.0));
    report.add_perfdata(
        Perfdata::new(
            "time",
            Some((elapsed.as_secs_f64() * 1000.0).round() / 1000.0),
        )
        .with_uom(Uom::Seconds)
        .with_min(0.0),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn policy(flags: &[&str]) -> Result<Policy, CheckTlsError> {
        let story = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/story.toml");
        let args = Args::try_parse_from(
            ["check-tls-ciphers", "-H", "localhost", "--policy", story]
                .iter()
                .chain(flags),
        )
        .unwrap();
        policy_for(&args)
    }

    #[test]
    fn flags_win_over_the_policys_expiry_and_ca_file() {
        let day = |d: u64| Duration::from_secs(d * 86_400);
        let p = policy(&[]).unwrap();
        assert_eq!((p.expiry_warning, p.expiry_critical), (day(30), day(14)));
        assert_eq!(p.ca_file, None);
        let p = policy(&["-w", "5d", "-c", "2d", "--ca-file", "/etc/ca.pem"]).unwrap();
        assert_eq!((p.expiry_warning, p.expiry_critical), (day(5), day(2)));
        assert_eq!(
            p.ca_file.as_deref(),
            Some(std::path::Path::new("/etc/ca.pem"))
        );
        // One flag alone meets the policy's other value.
        let p = policy(&["-c", "30d"]).unwrap();
        assert_eq!((p.expiry_warning, p.expiry_critical), (day(30), day(30)));
        let error = policy(&["-c", "31d"]).unwrap_err().to_string();
        assert_eq!(
            error,
            "-c (31d) must not be longer than the policy's expiry_warning (30d): critical comes closer to expiry"
        );
        let error = policy(&["-w", "10d"]).unwrap_err().to_string();
        assert!(
            error
                .starts_with("the policy's expiry_critical (14d) must not be longer than -w (10d)"),
            "{error}"
        );
    }

    #[test]
    fn policy_and_profile_exclude_each_other() {
        let error = Args::try_parse_from([
            "check-tls-ciphers",
            "-H",
            "localhost",
            "--policy",
            "story.toml",
            "--profile",
            "mozilla-modern",
        ])
        .unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
