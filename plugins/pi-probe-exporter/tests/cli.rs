//! The binary as an operator runs it: errors, `--check-config`, the
//! simulator, and the spool surviving SIGKILL while Graphite is down.
//! (Sending to a real carbon is tested in the workspace's tests/e2e.)

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use pi_probe_exporter::log::Log;
use pi_probe_exporter::record::Record;
use pi_probe_exporter::spool::{Spool, SpoolOptions, SpoolReader};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pi-probe-exporter"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A loopback port nothing listens on (connections are refused).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spooled(dir: &Path) -> Vec<Record> {
    let spool = Spool::open(
        SpoolOptions {
            dir: dir.to_owned(),
            max_bytes: 1 << 30,
            segment_bytes: 1 << 20,
        },
        Log::memory(),
    )
    .unwrap();
    let mut r = SpoolReader::new(0, Log::memory());
    let mut out = Vec::new();
    r.read(&spool, usize::MAX, &mut out).unwrap();
    out
}

#[test]
fn a_bad_config_is_one_line_naming_file_line_and_key_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("exporter.toml");
    std::fs::write(
        &cfg,
        "[graphite]\naddress = \"g:2003\"\nadress = \"typo\"\n",
    )
    .unwrap();
    let out = run(&["--config", cfg.to_str().unwrap(), "--check-config"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "pi-probe-exporter: error: {}:3: key `graphite.adress`: unknown key",
            cfg.display()
        )),
        "{err}"
    );
    let out = run(&["--config", "/nonexistent/x.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/x.toml: cannot read"));
}

#[test]
fn check_config_prints_the_effective_config_with_overrides() {
    let out = run(&[
        "--check-config",
        "--w1-dir",
        "/tmp/w1",
        "--graphite",
        "carbon.example",
        "--interval",
        "2s",
        "--listen",
        "9101",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    for want in [
        "address = \"carbon.example:2003\"",
        "w1_dir = \"/tmp/w1\"",
        "interval = \"2s\"",
        "listen = \"127.0.0.1:9101\"",
        "max_bytes = 67108864",
    ] {
        assert!(t.contains(want), "{want} not in\n{t}");
    }
    let out = run(&["--interval", "fast"]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

#[test]
fn simulate_set_corrupt_remove() {
    let dir = tempfile::tempdir().unwrap();
    let w1 = dir.path().to_str().unwrap();
    let id = "28-0316a2b4c5ff";
    let out = run(&[
        "simulate",
        "set",
        "--w1-dir",
        w1,
        "--probe",
        id,
        "--celsius",
        "57.2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{id} t=57187\n"));
    assert_eq!(
        pi_probe_exporter::w1::read_probe(dir.path(), id).unwrap(),
        57_187
    );
    let out = run(&[
        "simulate", "set", "--w1-dir", w1, "--probe", id, "--millis", "85000",
    ]);
    assert!(out.status.success());
    assert_eq!(
        pi_probe_exporter::w1::read_probe(dir.path(), id).unwrap(),
        85_000
    );
    let out = run(&[
        "simulate",
        "corrupt",
        "--w1-dir",
        w1,
        "--probe",
        id,
        "--kind",
        "truncated",
    ]);
    assert!(out.status.success());
    assert!(pi_probe_exporter::w1::read_probe(dir.path(), id).is_err());
    let out = run(&["simulate", "remove", "--w1-dir", w1, "--probe", id]);
    assert!(out.status.success());
    assert!(!dir.path().join(id).exists());
    let out = run(&[
        "simulate",
        "set",
        "--w1-dir",
        w1,
        "--probe",
        "../x",
        "--celsius",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&[
        "simulate",
        "--w1-dir",
        w1,
        "--scenario",
        "all",
        "--once",
        "--at",
        "2h",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        pi_probe_exporter::w1::discover(dir.path()).unwrap().len(),
        4
    );
}

#[test]
fn readings_are_spooled_while_graphite_is_down_and_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let w1 = dir.path().join("w1");
    let spool = dir.path().join("spool");
    for (id, c) in [("28-0316a2b4c5ff", 20.0), ("28-0316a2b4c6aa", 125.0)] {
        pi_probe_exporter::simulate::set_probe_celsius(
            &w1,
            id,
            c,
            true,
            pi_probe_exporter::simulate::FileFormat::W1Slave,
        )
        .unwrap();
    }
    let graphite = format!("127.0.0.1:{}", closed_port());
    let args = |extra: &[&str]| {
        let mut a = vec![
            "--w1-dir".to_owned(),
            w1.display().to_string(),
            "--spool-dir".to_owned(),
            spool.display().to_string(),
            "--graphite".to_owned(),
            graphite.clone(),
            "--assume-clock-synced".to_owned(),
        ];
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    };

    // First run: killed with SIGKILL while Graphite is unreachable.
    let mut child = bin().args(args(&[])).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(3200));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first = spooled(&spool);
    assert!(first.len() >= 4, "{} readings", first.len());

    // Second run: picks up the spool and keeps numbering.
    let out = bin().args(args(&["--run-for", "2500ms"])).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all = spooled(&spool);
    assert!(
        all.len() >= first.len() + 2,
        "{} then {}",
        first.len(),
        all.len()
    );
    assert_eq!(&all[..first.len()], &first[..], "nothing lost or changed");
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.seq, i as u64, "contiguous");
    }
    assert!(
        all.iter()
            .any(|r| r.metric() == "christmaspi.temperature.28-0316a2b4c6aa" && r.value() == "257")
    );
    assert!(
        all.iter()
            .any(|r| r.metric() == "christmaspi.temperature.28-0316a2b4c5ff" && r.value() == "68")
    );
    let err = text(&out.stderr);
    assert!(err.contains("cannot connect to graphite"), "{err}");
    assert!(err.contains("is saturated"), "{err}");
}

/// Runs the exporter with stderr going to a file and `JOURNAL_STREAM` set
/// by `journal(dev, inode of that file)`; returns what it wrote there.
fn stderr_under(journal: impl Fn(u64, u64) -> String, args: &[&str]) -> String {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stderr");
    let file = std::fs::File::create(&path).unwrap();
    let meta = file.metadata().unwrap();
    let status = bin()
        .args(args)
        .env("JOURNAL_STREAM", journal(meta.dev(), meta.ino()))
        .stdout(Stdio::null())
        .stderr(file)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn under_systemd_lines_carry_their_syslog_priority_for_journald() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("exporter.toml");
    std::fs::write(&cfg, "[reading]\nunit = \"K\"\n").unwrap();
    let args = ["--config", cfg.to_str().unwrap(), "--check-config"];
    // systemd names the stream stderr is: priority prefix, no name.
    let err = stderr_under(|dev, ino| format!("{dev}:{ino}"), &args);
    assert_eq!(
        err,
        format!(
            "<3>{}:2: key `reading.unit`: \"K\": use \"F\" or \"C\"\n",
            cfg.display()
        )
    );
    // Inherited from a parent whose stderr was the journal, but ours is
    // not: a plain line.
    let err = stderr_under(|dev, ino| format!("{dev}:{}", ino + 1), &args);
    assert!(err.starts_with("pi-probe-exporter: error: "), "{err}");
}
