//! The harness tests itself: every service starts, answers and stops; the
//! fault servers misbehave as named; the plugin runner enforces the
//! contract; the golden outputs read the same to our checker and to Sensu.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nightwatch_testkit::contract::{check_output, sensu_nagios_perfdata};
use nightwatch_testkit::nagios::StateType;
use nightwatch_testkit::tls::{in_private_netns, s_client_handshake};
use nightwatch_testkit::{
    FakeGarbageServer, FakeHangServer, FakeResetServer, GnutlsServ, Graphite, KeyType, Nagios,
    Nginx, OpenSearch, OpensslServer, State, TestCa, http, plugin_at, process, unix_now,
};

const WAIT: Duration = Duration::from_secs(20);

fn panic_message(result: std::thread::Result<()>) -> String {
    let payload = result.expect_err("expected a panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

// ---- Graphite ---------------------------------------------------------

#[test]
fn graphite_reads_back_sent_points() {
    let graphite = Graphite::shared();
    let metric = format!("selftest.p{}.readback.ham", std::process::id());
    let now = unix_now();
    graphite.send(&[
        (&metric, 1.5, now - 3),
        (&metric, 2.5, now - 2),
        (&metric, 141.2, now - 1),
    ]);
    let points = graphite.wait_for_count(&metric, 3, WAIT);
    assert_eq!(
        points,
        vec![(now - 3, 1.5), (now - 2, 2.5), (now - 1, 141.2)]
    );
    // The same points through an explicit window, nulls included.
    let window = graphite.points(&metric, now - 5, now);
    assert!(window.contains(&(now - 1, Some(141.2))), "{window:?}");
    assert!(
        window.iter().any(|(_, v)| v.is_none()),
        "intervals without a point are null: {window:?}"
    );
    assert!(
        graphite
            .points("selftest.no.such.metric", now - 60, now)
            .is_empty()
    );
    let render = http::get(&format!(
        "{}/render?target={metric}&format=json&from=-10s",
        graphite.url()
    ))
    .unwrap();
    assert_eq!(
        render.status, 200,
        "plugins' render requests work too: {}",
        render.body
    );
}

#[test]
fn graphite_outage_refuses_points_and_recovers_on_the_same_ports() {
    let mut graphite = Graphite::start();
    let metric = "selftest.outage.oven";
    let now = unix_now();
    graphite.send(&[(metric, 325.0, now - 2)]);
    graphite.wait_for_count(metric, 1, WAIT);

    graphite.stop_carbon();
    let refused = graphite.try_send(&[(metric, 1.0, now - 1)]);
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.kind() == ErrorKind::ConnectionRefused),
        "carbon must refuse points while stopped: {refused:?}"
    );
    let still_served = graphite.points(metric, now - 10, now);
    assert!(
        still_served.contains(&(now - 2, Some(325.0))),
        "graphite-web serves what carbon flushed: {still_served:?}"
    );

    let carbon_before = graphite.carbon_addr();
    graphite.start_carbon();
    assert_eq!(graphite.carbon_addr(), carbon_before);
    let later = unix_now();
    graphite.send(&[(metric, 318.0, later)]);
    let points = graphite.wait_for(metric, WAIT, |points| points.contains(&(later, 318.0)));
    assert!(
        points.contains(&(now - 2, 325.0)),
        "old points survive the restart: {points:?}"
    );
}

// ---- Nagios -----------------------------------------------------------

const NAGIOS_OBJECTS: &str = "define timeperiod {
    timeperiod_name always
    alias always
    sunday 00:00-24:00
    monday 00:00-24:00
    tuesday 00:00-24:00
    wednesday 00:00-24:00
    thursday 00:00-24:00
    friday 00:00-24:00
    saturday 00:00-24:00
}
define command {
    command_name check_dummy
    command_line $USER1$/check_dummy $ARG1$ \"$ARG2$\"
}
define command {
    command_name notify_to_file
    command_line /usr/bin/printf '%s\\n' \"$NOTIFICATIONTYPE$ $HOSTNAME$/$SERVICEDESC$ $SERVICESTATE$ $SERVICEOUTPUT$\" >> @PAGES@
}
define contact {
    contact_name oncall
    host_notifications_enabled 0
    service_notifications_enabled 1
    host_notification_period always
    service_notification_period always
    host_notification_options n
    service_notification_options w,u,c,r
    host_notification_commands notify_to_file
    service_notification_commands notify_to_file
}
define host {
    host_name pi
    address 127.0.0.1
    check_command check_dummy!0!up
    max_check_attempts 1
    check_period always
    contacts oncall
    notification_period always
}
define service {
    host_name pi
    service_description ham
    check_command check_dummy!2!ham 141.2 > 140
    max_check_attempts 1
    check_interval 60
    retry_interval 1
    check_period always
    contacts oncall
    notification_period always
    notification_interval 0
}
";

#[test]
fn nagios_runs_check_dummy_to_a_hard_critical_and_pages() {
    let builder = Nagios::builder();
    let pages = builder.dir().join("pages.log");
    let objects = NAGIOS_OBJECTS.replace("@PAGES@", &pages.display().to_string());
    let nagios = builder.object_text("selftest.cfg", &objects).start();
    assert!(nagios.verify().ok);
    let ham = nagios.wait_for_service("pi", "ham", WAIT, |s| {
        s.current_state == Some(State::Critical)
    });
    assert_eq!(ham.state_type, StateType::Hard);
    assert_eq!(ham.plugin_output, "CRITICAL: ham 141.2 > 140");
    assert!(nagios.command_file().exists());
    let page = process::poll_until("the page to be written", WAIT, || {
        fs::read_to_string(&pages)
            .ok()
            .filter(|text| !text.is_empty())
    })
    .unwrap_or_else(|error| panic!("{error}\n{}", nagios.logs()));
    // Nagios strips illegal_macro_output_chars (here `~$&|'"<> and the
    // backtick) from macros in notification commands: a page loses the ">".
    assert_eq!(page, "PROBLEM pi/ham CRITICAL CRITICAL: ham 141.2  140\n");
}

#[test]
fn nagios_verify_reports_broken_objects() {
    let builder =
        Nagios::builder().object_text("broken.cfg", "define service {\n    host_name nowhere\n}\n");
    let verify = builder.verify();
    assert!(!verify.ok, "{}", verify.output);
    assert!(verify.output.contains("Error"), "{}", verify.output);
}

// ---- OpenSearch (osmem-server) ----------------------------------------

#[test]
fn opensearch_indexes_and_counts_documents() {
    let search = OpenSearch::start();
    assert!(
        search.url().starts_with("http://127.0.0.1:"),
        "{}",
        search.url()
    );
    search.index_doc(
        "nightwatch-logs",
        r#"{"host": "pi", "message": "ham too hot", "@timestamp": "2026-12-24T18:00:00Z"}"#,
    );
    let answer = search.index_doc("nightwatch-logs", r#"{"host": "pi", "message": "oven ok"}"#);
    assert_eq!(answer["result"], "created", "{answer}");
    assert_eq!(search.count("nightwatch-logs"), 2);
    let info = http::get(&search.url()).unwrap().json();
    assert_eq!(info["version"]["distribution"], "opensearch", "{info}");
}

// ---- TLS --------------------------------------------------------------

fn openssl_text(cert: &Path) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn test_ca_signs_end_entity_leaves() {
    let ca = TestCa::new();
    let rsa = ca.leaf("rsa");
    let text = openssl_text(&rsa.cert);
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(
        text.contains("DNS:localhost, IP Address:127.0.0.1"),
        "{text}"
    );
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert_ne!(ca.leaf("rsa").cert, rsa.cert, "same name, distinct files");
    let ec = ca.leaf_with("ec", KeyType::EcP256, 2);
    assert!(openssl_text(&ec.cert).contains("prime256v1"));
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(ca.cert())
        .arg(&rsa.cert)
        .arg(&ec.cert)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

#[test]
fn nginx_serves_tls_with_the_test_ca() {
    let ca = TestCa::new();
    let leaf = ca.leaf("nginx");
    let nginx = Nginx::builder().tls(&leaf).start();
    assert_eq!(
        s_client_handshake(nginx.port(), &ca.cert(), None),
        Ok("TLSv1.3".to_owned())
    );
    let tls12 = Nginx::builder()
        .tls(&leaf)
        .server_snippet("ssl_protocols TLSv1.2;")
        .start();
    assert_eq!(
        s_client_handshake(tls12.port(), &ca.cert(), None),
        Ok("TLSv1.2".to_owned())
    );
    // Verification really happens: another CA's certificate is refused.
    let stranger = TestCa::new();
    assert!(s_client_handshake(nginx.port(), &stranger.cert(), None).is_err());
}

#[test]
fn nginx_serves_plain_http() {
    let nginx = Nginx::builder().start();
    let response = http::get(&format!(
        "http://127.0.0.1:{}/nightwatch-testkit/",
        nginx.port()
    ))
    .unwrap();
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "nightwatch-testkit nginx\n")
    );
}

#[test]
fn openssl_s_server_handshakes() {
    let ca = TestCa::shared();
    let server = OpensslServer::start(&ca.leaf("s_server"), &["-tls1_2"]);
    assert_eq!(
        s_client_handshake(server.port(), &ca.cert(), None),
        Ok("TLSv1.2".to_owned())
    );
}

#[test]
fn gnutls_serv_handshakes_inside_its_private_netns_only() {
    let ca = TestCa::new();
    let server = GnutlsServ::start(&ca.leaf("gnutls"), &[]);
    assert_eq!(
        s_client_handshake(server.port(), &ca.cert(), Some(server.netns())),
        Ok("TLSv1.3".to_owned())
    );
    let from_host = TcpStream::connect_timeout(
        &([127, 0, 0, 1], server.port()).into(),
        Duration::from_secs(1),
    );
    assert!(
        from_host.is_err(),
        "gnutls-serv must not be reachable from the host namespace"
    );
    let interfaces = server
        .command_in_netns("/usr/sbin/ip")
        .args(["-o", "link", "show"])
        .output()
        .unwrap();
    let interfaces = String::from_utf8_lossy(&interfaces.stdout).into_owned();
    assert_eq!(
        interfaces.lines().count(),
        1,
        "only loopback in its namespace: {interfaces}"
    );
}

#[test]
fn private_netns_scripts_see_only_loopback_and_leave_nothing_behind() {
    // A sleep this process can recognise: its argument carries our pid.
    let marker = format!("300.{}", std::process::id());
    let (status, output) = in_private_netns(
        &format!("ip -o link show | wc -l\nsleep {marker} &\necho started\n"),
        Duration::from_secs(10),
    );
    assert!(status.is_some_and(|s| s.success()), "{output}");
    assert_eq!(output, "1\nstarted\n");
    let gone = process::poll_until(
        "the background sleep to die",
        Duration::from_secs(3),
        || {
            let alive = fs::read_dir("/proc").unwrap().flatten().any(|entry| {
                let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
                let stat = fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
                String::from_utf8_lossy(&cmdline).contains(&marker) && !stat.contains(") Z ")
            });
            (!alive).then_some(())
        },
    );
    assert!(gone.is_ok(), "{gone:?}");
}

// ---- Fault servers ----------------------------------------------------

fn send_request(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    stream
        .write_all(b"GET /render?target=ham&format=json HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream
}

#[test]
fn fake_hang_server_accepts_and_never_answers() {
    let server = FakeHangServer::start();
    let mut stream = send_request(server.addr());
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let error = stream.read(&mut [0; 16]).expect_err("no answer may come");
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error}"
    );
    assert_eq!(server.connections(), 1);
    let dropped = Instant::now();
    drop(server);
    assert!(
        dropped.elapsed() < Duration::from_secs(2),
        "drop must not wait for clients"
    );
}

#[test]
fn fake_garbage_server_answers_fixed_bytes() {
    let not_json = FakeGarbageServer::http_200("<html>not json{");
    let response = http::get(&format!("{}/render?target=ham&format=json", not_json.url())).unwrap();
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "<html>not json{")
    );

    let not_http = FakeGarbageServer::new("SSH-2.0-OpenSSH_9.2p1\r\n");
    let mut stream = send_request(not_http.addr());
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert_eq!(answer, "SSH-2.0-OpenSSH_9.2p1\r\n");
    assert!(http::get(&not_http.url()).is_err(), "not an HTTP answer");
}

#[test]
fn fake_reset_server_resets_mid_answer() {
    let server = FakeResetServer::start();
    let mut stream = send_request(server.addr());
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut received = Vec::new();
    let mut buf = [0; 1024];
    let error = loop {
        match stream.read(&mut buf) {
            Ok(0) => panic!(
                "a clean EOF instead of a reset after {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(error) => break error,
        }
    };
    assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}");
    assert!(
        received.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&received)
    );
}

// ---- The plugin runner ------------------------------------------------

/// A shell one-liner as a plugin (sh -c, so no executable file is written:
/// that would race with concurrent forks, ETXTBSY).
fn script(body: &str) -> nightwatch_testkit::PluginCmd {
    plugin_at("/bin/sh").args(["-c", body])
}

#[test]
fn plugin_runner_accepts_a_contract_keeping_run_and_chains_assertions() {
    let run = script(
        "printf 'HAM CRITICAL: ham 141.2 > 140 (%s)\\nham 141.2 > 140\\n| ham=141.2;135;140 oven=325;320:;315:\\n' \"$PROBE\"; exit 2",
    )
    .env("PROBE", "kitchen")
    .run();
    run.state_is(State::Critical)
        .first_line_is("HAM CRITICAL: ham 141.2 > 140 (kitchen)")
        .first_line_contains("ham 141.2")
        .long_text_contains("ham 141.2 > 140")
        .perfdata_has("ham=141.2;135")
        .stdout_lacks("secret");
    let oven = run.perfdata("oven");
    assert_eq!(
        (oven.value, oven.warn.as_deref(), oven.crit.as_deref()),
        (Some(325.0), Some("320:"), Some("315:"))
    );
    assert!(run.elapsed() < Duration::from_secs(5));
    assert_eq!(run.stderr(), "");

    let removed = script("echo \"HAM OK: probe=${PROBE:-unset}\"")
        .env("PROBE", "x")
        .env_remove("PROBE")
        .run();
    removed.first_line_is("HAM OK: probe=unset");
    script("echo debug >&2; echo 'HAM OK: fine'")
        .allow_stderr()
        .run()
        .state_is(State::Ok);
}

#[test]
fn plugin_runner_rejects_contract_breakers() {
    for (body, expected) in [
        ("echo 'HAM OK: fine'; exit 101", "exit code 101"),
        ("echo 'HAM OK: a | x=1 | y=2'", "2 '|'"),
        (
            "echo 'HAM OK: fine'; exit 2",
            "first line says OK but the exit code 2 means CRITICAL",
        ),
        ("echo 'HAM OK: fine'; echo oops >&2", "stderr is not empty"),
        ("echo 'HAM OK: fine'; kill -9 $$", "killed by signal 9"),
        ("exit 3", "stdout is empty"),
        ("echo 'HAM OK: fine | ham=1,5'", "perfdata \"ham=1,5\""),
    ] {
        let report = script(body).try_run().expect_err(body);
        assert!(report.contains(expected), "{body}: {report}");
        assert!(
            report.contains("--- stdout ---"),
            "reports show the run: {report}"
        );
    }
    let lingering = script("sleep 30 & echo 'HAM OK: done'");
    let started = Instant::now();
    let report = lingering
        .try_run()
        .expect_err("a left-behind process must be reported");
    assert!(report.contains("left a process running"), "{report}");
    assert!(
        report.contains("HAM OK: done"),
        "the report shows what it printed: {report}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let slow = script("sleep 5; echo 'HAM OK: late'").timeout(Duration::from_millis(300));
    let started = Instant::now();
    let report = slow.try_run().expect_err("must time out");
    assert!(report.contains("still running after 300ms"), "{report}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn plugin_runner_runs_help_text_unchecked() {
    let raw = script("echo 'check-ham 0.1.0'; exit 3").run_raw();
    assert_eq!((raw.exit_code, raw.signal), (Some(3), None));
    assert_eq!(raw.stdout_text(), "check-ham 0.1.0\n");
    assert!(
        script("echo 'check-ham 0.1.0'; exit 3").try_run().is_err(),
        "run() would reject it"
    );
}

#[test]
fn plugin_assertions_fail_with_the_whole_run() {
    let run = script("echo 'HAM CRITICAL: ham 141.2 > 140 | ham=141.2'; exit 2").run();
    let message = panic_message(std::panic::catch_unwind(|| {
        run.state_is(State::Ok);
    }));
    assert!(
        message.contains("expected state OK, got CRITICAL"),
        "{message}"
    );
    assert!(
        message.contains("HAM CRITICAL: ham 141.2 > 140 | ham=141.2"),
        "{message}"
    );
    let message = panic_message(std::panic::catch_unwind(|| {
        let _ = run.perfdata("oven");
    }));
    assert!(message.contains("no perfdata label \"oven\""), "{message}");
}

#[test]
fn missing_services_fail_loudly_with_the_install_command() {
    let message = panic_message(std::panic::catch_unwind(|| {
        process::require("/nonexistent/sbin/nagios4", "nagios4-core");
    }));
    assert_eq!(
        message,
        "nagios4-core not installed (/nonexistent/sbin/nagios4 is missing): run scripts/setup"
    );
}

// ---- Golden outputs ---------------------------------------------------

/// What a `.expect` file says its `.txt` must read as.
#[derive(Debug, Default)]
struct Expectation {
    state: Option<State>,
    labels: Vec<String>,
    sensu: Vec<(String, f64)>,
}

fn parse_expectation(text: &str) -> Expectation {
    let mut expect = Expectation::default();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "state" => expect.state = Some(rest.parse().unwrap()),
            "label" => expect.labels.push(rest.to_owned()),
            "sensu" => {
                let (name, value) = rest.rsplit_once(' ').expect("sensu NAME VALUE");
                expect.sensu.push((name.to_owned(), value.parse().unwrap()));
            }
            _ => panic!("unknown expectation line {line:?}"),
        }
    }
    expect
}

#[test]
fn golden_outputs_keep_the_contract_and_read_the_same_in_sensu() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "txt") {
            continue;
        }
        let output = fs::read_to_string(&path).unwrap();
        let expect_path = path.with_extension("expect");
        let expect =
            parse_expectation(&fs::read_to_string(&expect_path).unwrap_or_else(|e| {
                panic!("{} needs {}: {e}", path.display(), expect_path.display())
            }));
        let parsed =
            check_output(&output).unwrap_or_else(|v| panic!("{}: {v}\n{output}", path.display()));
        assert_eq!(Some(parsed.state), expect.state, "{}", path.display());
        let labels: Vec<_> = parsed.perfdata.iter().map(|e| e.label.clone()).collect();
        assert_eq!(labels, expect.labels, "{}", path.display());
        let sensu: Vec<_> = sensu_nagios_perfdata(&output)
            .into_iter()
            .map(|m| (m.name, m.value))
            .collect();
        assert_eq!(sensu, expect.sensu, "{}", path.display());
        checked += 1;
    }
    assert!(
        checked >= 5,
        "golden files went missing from {}",
        dir.display()
    );
}
