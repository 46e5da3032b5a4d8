//! check-graphite against real carbon-cache + graphite-web: the ham and oven
//! story, Graphite's own traps, and faults only a broken server shows.

use std::time::Duration;

use nightwatch_testkit::go_graphite::GraphiteLike;
use nightwatch_testkit::plugin_cmd::workspace_bin;
use nightwatch_testkit::unix_now;
use nightwatch_testkit::{
    FakeGarbageServer, FakeHangServer, FakeResetServer, Graphite, PluginRun, State, plugin,
    plugin_at,
};

const SETTLE: Duration = Duration::from_secs(20);

/// Sends `values` one a second, the last `ago` seconds before now, and waits
/// until Graphite serves them all.
fn feed(graphite: &impl GraphiteLike, metric: &str, values: &[f64], ago: i64) {
    let end = unix_now() - ago;
    let count = i64::try_from(values.len()).expect("a short series");
    let start = end - count + 1;
    let points: Vec<(&str, f64, i64)> = values
        .iter()
        .zip(start..)
        .map(|(&v, t)| (metric, v, t))
        .collect();
    graphite.send(&points);
    graphite.wait_for(metric, SETTLE, &mut |seen| {
        seen.iter().filter(|&&(t, _)| t >= start).count() >= values.len()
    });
}

/// A steady reading ending now.
fn steady(graphite: &Graphite, metric: &str, value: f64) {
    feed(graphite, metric, &[value; 30], 1);
}

fn check(graphite: &impl GraphiteLike, target: &str, extra: &[&str]) -> PluginRun {
    let url = graphite.url();
    let mut args = vec!["-U", url.as_str(), "--target", target];
    args.extend_from_slice(extra);
    plugin("check-graphite").args(&args).run()
}

const HAM: &[&str] = &["-w", "135", "-c", "140", "--unit", "°F"];
const OVEN: &[&str] = &["-w", "320:", "-c", "315:", "--unit", "°F"];

#[test]
fn ham_goes_ok_warning_critical_at_the_exact_thresholds() {
    let g = Graphite::shared();
    for (metric, value, state, first_line) in [
        (
            "cg.ham_ok.ham",
            131.2,
            State::Ok,
            "GRAPHITE OK: ham 131.2°F",
        ),
        (
            "cg.ham_boundary.ham",
            135.0,
            State::Ok,
            "GRAPHITE OK: ham 135.0°F",
        ),
        (
            "cg.ham_just_over.ham",
            135.01,
            State::Warning,
            "GRAPHITE WARNING: ham 135.01°F above 135",
        ),
        (
            "cg.ham_warm.ham",
            138.0,
            State::Warning,
            "GRAPHITE WARNING: ham 138.0°F above 135",
        ),
        (
            "cg.ham_at_critical.ham",
            140.0,
            State::Warning,
            "GRAPHITE WARNING: ham 140.0°F above 135",
        ),
        (
            "cg.ham_hot.ham",
            141.2,
            State::Critical,
            "GRAPHITE CRITICAL: ham 141.2°F above 140",
        ),
    ] {
        steady(g, metric, value);
        check(g, metric, HAM)
            .state_is(state)
            .first_line_is(first_line)
            .perfdata_has(&format!("ham={value};135;140"));
    }
}

#[test]
fn oven_goes_ok_warning_critical_below_its_thresholds() {
    let g = Graphite::shared();
    for (metric, value, state, first_line) in [
        (
            "cg.oven_hot.oven",
            330.0,
            State::Ok,
            "GRAPHITE OK: oven 330.0°F",
        ),
        (
            "cg.oven_at_warning.oven",
            320.0,
            State::Ok,
            "GRAPHITE OK: oven 320.0°F",
        ),
        (
            "cg.oven_cooling.oven",
            318.5,
            State::Warning,
            "GRAPHITE WARNING: oven 318.5°F below 320",
        ),
        (
            "cg.oven_cold.oven",
            300.0,
            State::Critical,
            "GRAPHITE CRITICAL: oven 300.0°F below 315",
        ),
    ] {
        steady(g, metric, value);
        check(g, metric, OVEN)
            .state_is(state)
            .first_line_is(first_line)
            .perfdata_has("oven=");
    }
}

#[test]
fn trailing_null_is_neither_alert_nor_unknown() {
    let g = Graphite::shared();
    steady(g, "cg.trailing.ham", 131.0);
    let now = unix_now();
    let raw = g.points("cg.trailing.ham", now - 60, now + 1);
    assert_eq!(
        raw.last().map(|p| p.1),
        Some(None),
        "Graphite ends the window with a null: {raw:?}"
    );
    check(g, "cg.trailing.ham", HAM)
        .state_is(State::Ok)
        .first_line_is("GRAPHITE OK: ham 131.0°F");
}

#[test]
fn a_quiet_pi_is_stale_not_a_temperature() {
    let g = Graphite::shared();
    // The last reading was 10 minutes ago.
    feed(g, "cg.quiet.ham", &[141.5; 20], 600);
    check(g, "cg.quiet.ham", HAM)
        .state_is(State::Unknown)
        .first_line_contains("GRAPHITE UNKNOWN: no data for ham since ")
        .perfdata_has("ham=U");
    let stale = ["--from", "-15min", "--max-age", "2m"];
    check(g, "cg.quiet.ham", &[HAM, &stale].concat())
        .state_is(State::Unknown)
        .first_line_contains("ham is stale: no data for 10m");
    check(
        g,
        "cg.quiet.ham",
        &[HAM, &stale, &["--stale-state", "critical"]].concat(),
    )
    .state_is(State::Critical)
    .first_line_contains("ham is stale");
}

#[test]
fn a_saturated_oven_probe_is_a_sensor_fault_not_a_cold_oven() {
    let g = Graphite::shared();
    steady(g, "cg.saturated.oven", 257.0);
    check(g, "cg.saturated.oven", OVEN).state_is(State::Critical);
    check(
        g,
        "cg.saturated.oven",
        &[OVEN, &["--valid", "-67:257"]].concat(),
    )
    .state_is(State::Unknown)
    .first_line_is("GRAPHITE UNKNOWN: oven probe reads 257.0°F, the edge of its range")
    .perfdata_has("oven=U;320:;315:;-67;257");
    steady(g, "cg.impossible.oven", 300.0);
    check(
        g,
        "cg.impossible.oven",
        &[OVEN, &["--valid", "-67:257"]].concat(),
    )
    .state_is(State::Unknown)
    .first_line_contains("outside its valid range -67:257");
}

#[test]
fn a_wildcard_judges_each_series_and_the_worst_leads() {
    let g = Graphite::shared();
    // Two hams: Graphite lists `back` first, but `front` is worse.
    steady(g, "cg.both.ham.back", 137.0);
    steady(g, "cg.both.ham.front", 141.2);
    let run = check(g, "cg.both.ham.*", HAM);
    run.state_is(State::Critical)
        .first_line_is("GRAPHITE CRITICAL: front 141.2°F above 140")
        .perfdata_has("back=137;135;140")
        .perfdata_has("front=141.2;135;140");
    let lines: Vec<&str> = run.long_text().lines().collect();
    assert!(
        lines[0].starts_with("CRITICAL: front 141.2°F above 140 ("),
        "worst first: {lines:?}"
    );
    assert!(
        lines[1].starts_with("WARNING: back 137.0°F above 135 ("),
        "{lines:?}"
    );
}

#[test]
fn no_match_and_too_few_series_are_unknown() {
    let g = Graphite::shared();
    check(g, "cg.nothing.here", HAM)
        .state_is(State::Unknown)
        .first_line_is("GRAPHITE UNKNOWN: no series matched cg.nothing.here");
    steady(g, "cg.few.a", 1.0);
    check(g, "cg.few.*", &["--min-series", "2"])
        .state_is(State::Unknown)
        .first_line_is("GRAPHITE UNKNOWN: only 1 series matched cg.few.*, expected at least 2");
}

#[test]
fn a_bad_target_names_graphites_exception() {
    let g = Graphite::shared();
    check(g, "nonexistentFunction(cg.x)", HAM)
        .state_is(State::Unknown)
        .first_line_contains("Graphite answered 400")
        .first_line_contains("unknown function: nonexistentFunction");
    steady(g, "cg.badarg.ham", 1.0);
    check(g, "movingAverage(cg.badarg.ham,\"x\")", HAM)
        .state_is(State::Unknown)
        .first_line_contains("Graphite answered 500")
        .first_line_contains("KeyError: 'Invalid offset: x'");
}

#[test]
fn minutes_written_as_m_are_explained_not_sent() {
    let g = Graphite::shared();
    check(g, "cg.any", &["--from", "-5m"])
        .state_is(State::Unknown)
        .first_line_contains(
            "'-5m' is not Graphite time syntax: minutes are 'min' in Graphite (-5min)",
        );
}

#[test]
fn slope_and_forecast_match_the_fed_ramp() {
    let g = Graphite::shared();
    // 0.9 °F a minute, one point a second, ending at 131.2 °F.
    let ramp: Vec<f64> = (0..120)
        .map(|i| 131.2 - 0.015 * f64::from(119 - i))
        .collect();
    feed(g, "cg.ramp.ham", &ramp, 1);
    let run = check(
        g,
        "cg.ramp.ham",
        &["--agg", "slope", "-w", "0.5", "-c", "1", "--unit", "°F"],
    );
    run.state_is(State::Warning)
        .first_line_is("GRAPHITE WARNING: ham +0.9°F/min above 0.5");
    let slope = run.perfdata("ham").value.expect("a slope value");
    assert!((slope - 0.9).abs() < 1e-6, "slope {slope}");

    check(g, "cg.ramp.ham", &[HAM, &["--forecast"]].concat())
        .state_is(State::Ok)
        .first_line_is(
            "GRAPHITE OK: ham 131.2°F, +0.9°F/min: WARNING in ~4 min, CRITICAL in ~10 min",
        );
    check(
        g,
        "cg.ramp.ham",
        &[HAM, &["--forecast-warn", "15min"]].concat(),
    )
    .state_is(State::Warning)
    .first_line_contains("CRITICAL in ~10 min");
    check(
        g,
        "cg.ramp.ham",
        &[HAM, &["--forecast-warn", "5min"]].concat(),
    )
    .state_is(State::Ok);
}

#[test]
fn targets_are_url_encoded_and_long_ones_posted() {
    let g = Graphite::shared();
    steady(g, "cg.encode.ham", 131.0);
    // Function commas, quotes, #, + and & all reach Graphite intact: the
    // alias comes back as the series name.
    check(g, "alias(cg.encode.ham,\"ham #1 + 2 & more\")", &[])
        .state_is(State::Ok)
        .first_line_is("GRAPHITE OK: ham_1_2_more 131.0")
        .perfdata_has("ham_1_2_more=131");
    // Longer than any URL a proxy keeps: sent by POST.
    let long_alias = "x".repeat(3000);
    let target = format!("alias(cg.encode.ham,\"{long_alias}\")");
    check(g, &target, &["--label", "long"])
        .state_is(State::Ok)
        .perfdata_has("long=131");
}

#[test]
fn graphite_infinity_is_read_not_refused() {
    let g = Graphite::shared();
    steady(g, "cg.infinite.ham", 131.0);
    let run = check(
        g,
        "scale(cg.infinite.ham,1e400)",
        &["--label", "ham", "-c", "1000"],
    );
    run.state_is(State::Critical)
        .first_line_is("GRAPHITE CRITICAL: ham +infinity above 1000")
        .perfdata_has("ham=U");
}

#[test]
fn staleness_uses_graphites_clock_not_a_skewed_local_one() {
    let g = Graphite::shared();
    steady(g, "cg.skew.ham", 131.0);
    let url = g.url();
    // The Nagios host's clock is an hour fast; Graphite's Date header is right.
    let faketime = nightwatch_testkit::process::require("/usr/bin/faketime", "faketime");
    let check_graphite = workspace_bin("check-graphite");
    plugin_at(faketime)
        .args(["-f", "+1h"])
        .arg(check_graphite)
        .args(["-U", &url, "--target", "cg.skew.ham", "--max-age", "2m"])
        .run()
        .state_is(State::Ok)
        .first_line_is("GRAPHITE OK: ham 131.0");
}

#[test]
fn graphite_down_is_unknown_in_one_sentence() {
    let port = nightwatch_testkit::ports::free_port();
    let url = format!("http://127.0.0.1:{port}");
    plugin("check-graphite")
        .args(["-U", &url, "--target", "christmaspi.temperature.ham", "-w", "135", "-c", "140"])
        .run()
        .state_is(State::Unknown)
        .first_line_is(&format!(
            "GRAPHITE UNKNOWN: Graphite is unreachable: cannot connect to {url}/render: Connection refused (os error 111)"
        ));
}

#[test]
fn a_hanging_graphite_is_a_timeout_under_timeout_state_naming_the_users_limit() {
    let server = FakeHangServer::start();
    plugin("check-graphite")
        .args(["-U", &server.url(), "--target", "x", "-t", "2s"])
        .run()
        .state_is(State::Unknown)
        .first_line_is(&format!(
            "GRAPHITE UNKNOWN: Graphite did not answer {}/render within the 2s timeout (-t)",
            server.url()
        ));
    // The shipped Pi check pages on a hang, and says so with the limit the
    // user set (decimal seconds, as the Monitoring Plugins take -t).
    plugin("check-graphite")
        .args(["-U", &server.url(), "--target", "x", "-t", "1.5"])
        .args(["--timeout-state", "critical", "--unreachable-state", "ok"])
        .run()
        .state_is(State::Critical)
        .first_line_contains("within the 1.5s timeout (-t)");
    // With so short a limit the guard's own watchdog may speak first
    // ("timed out after 500ms while waiting for Graphite at …"): either
    // way the state is --timeout-state and the limit is the user's.
    plugin("check-graphite")
        .args(["-U", &server.url(), "--target", "x", "-t", "500ms"])
        .args(["--timeout-state", "warning"])
        .run()
        .state_is(State::Warning)
        .first_line_contains("500ms");
}

/// Sends a 200's headers and the start of a body, then stalls with the
/// connection open: a graphite-web worker stuck mid-render. A real
/// Graphite cannot be made to do this on demand.
struct FakeStallAfterHeadersServer {
    addr: std::net::SocketAddr,
}

impl FakeStallAfterHeadersServer {
    fn start() -> FakeStallAfterHeadersServer {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let mut request = [0_u8; 4096];
                    let _ = stream.read(&mut request);
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                          Content-Length: 100000\r\n\r\n[{\"target\": \"x\", \"datapoints\": [",
                    );
                    let _ = stream.flush();
                    // Held open well past the plugin's -t, then dropped.
                    std::thread::sleep(Duration::from_secs(20));
                });
            }
        });
        FakeStallAfterHeadersServer { addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

#[test]
fn a_graphite_that_stalls_after_its_headers_is_a_timeout_too() {
    let server = FakeStallAfterHeadersServer::start();
    plugin("check-graphite")
        .args(["-U", &server.url(), "--target", "x", "-t", "1.5"])
        .args(["--timeout-state", "critical"])
        .run()
        .state_is(State::Critical)
        .first_line_is(&format!(
            "GRAPHITE CRITICAL: Graphite did not answer {}/render within the 1.5s timeout (-t)",
            server.url()
        ));
}

#[test]
fn a_url_that_cannot_be_requested_is_unknown_whatever_the_state_flags_say() {
    // The shipped Pi host check's flags: none of them may turn a typo green.
    let lenient = [
        "--target",
        "christmaspi.temperature.exporter.send.sent",
        "--max-age",
        "1m",
        "--stale-state",
        "critical",
        "--unreachable-state",
        "ok",
        "--timeout-state",
        "ok",
    ];
    for (url, advice) in [
        (
            "htp://graphite.example.internal:8080",
            "the scheme 'htp' is not http or https: write http://graphite.example.internal:8080",
        ),
        (
            "127.0.0.1:8080",
            "it has no scheme: write http://127.0.0.1:8080",
        ),
        (
            "localhost:8080",
            "it has no scheme: write http://localhost:8080",
        ),
        ("http://", "write it as http://HOST:PORT"),
        ("ftp://127.0.0.1/", "the scheme 'ftp' is not http or https"),
    ] {
        plugin("check-graphite")
            .args(["-U", url])
            .args(lenient)
            .run()
            .state_is(State::Unknown)
            .first_line_contains(&format!("'{url}' is not a URL this plugin can request"))
            .first_line_contains(advice);
    }
}

#[test]
fn every_missing_argument_is_named_on_the_first_line() {
    plugin("check-graphite")
        .run()
        .state_is(State::Unknown)
        .first_line_is(
            "GRAPHITE UNKNOWN: the following required arguments were not provided: \
             --url <URL>, --target <TARGET>",
        );
    plugin("check-graphite")
        .args(["--target", "x"])
        .run()
        .state_is(State::Unknown)
        .first_line_is(
            "GRAPHITE UNKNOWN: the following required arguments were not provided: --url <URL>",
        );
}

#[test]
fn decimal_and_huge_timeouts_are_durations_not_crashes() {
    let g = Graphite::shared();
    steady(g, "cg.timeouts.ham", 131.2);
    for timeout in ["1.5", "2.5s", "9223372036854775807", "300000000000years"] {
        check(g, "cg.timeouts.ham", &[HAM, &["-t", timeout]].concat())
            .state_is(State::Ok)
            .first_line_is("GRAPHITE OK: ham 131.2°F")
            .perfdata_has("ham=131.2;135;140");
    }
}

#[test]
fn secret_and_ca_files_are_read_bounded_and_whole() {
    let dir = std::env::temp_dir().join(format!("nightwatch-cg-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let token = dir.join("token");
    std::fs::write(&token, b"abc\0def\n").expect("token file");
    let token = token.to_str().expect("UTF-8 path");
    let endless = [
        (
            vec!["--user", "u", "--password-file", "/dev/zero"],
            "cannot read the secret file /dev/zero: it is larger than 65536 bytes",
        ),
        (
            vec!["--ca-file", "/dev/zero"],
            "cannot read the CA file /dev/zero: it is larger than 4194304 bytes",
        ),
        (
            vec!["--token-file", token],
            "holds a control character (U+0000), which no HTTP header can carry",
        ),
    ];
    for (flags, message) in endless {
        plugin("check-graphite")
            .args(["-U", "https://127.0.0.1:9", "--target", "x"])
            .args(flags)
            .args(["--unreachable-state", "ok"])
            .run()
            .state_is(State::Unknown)
            .first_line_contains(message);
    }
    plugin("check-graphite")
        .args([
            "-U",
            "http://127.0.0.1:9",
            "--target",
            "x",
            "--unreachable-state",
            "ok",
        ])
        .env("GRAPHITE_TOKEN", "line\nbreak")
        .run()
        .state_is(State::Unknown)
        .first_line_contains(
            "the environment variable GRAPHITE_TOKEN holds a control character (U+000A)",
        );
    std::fs::remove_dir_all(&dir).expect("remove temp dir");
}

#[test]
fn a_target_given_twice_is_asked_and_reported_once() {
    let g = Graphite::shared();
    steady(g, "cg.twice.ham", 131.2);
    let run = check(
        g,
        "cg.twice.ham",
        &[HAM, &["--target", "cg.twice.ham"]].concat(),
    );
    run.state_is(State::Ok)
        .first_line_is("GRAPHITE OK: ham 131.2°F")
        .perfdata_has("ham=131.2;135;140");
    assert_eq!(run.parsed().perfdata.len(), 1, "{}", run.stdout());
}

#[test]
fn a_flat_series_is_not_heading_anywhere() {
    let g = Graphite::shared();
    steady(g, "cg.flat.ham", 131.2);
    check(
        g,
        "cg.flat.ham",
        &[HAM, &["--forecast", "--forecast-warn", "30min"]].concat(),
    )
    .state_is(State::Ok)
    .first_line_contains("ham 131.2°F, 0.0°F/min: no threshold ahead");
}

#[test]
fn a_huge_value_reads_in_scientific_notation() {
    let g = Graphite::shared();
    steady(g, "cg.huge.ham", 1e308);
    let run = check(g, "cg.huge.ham", HAM);
    run.state_is(State::Critical)
        .first_line_contains("ham 1.000e308°F");
    assert!(run.first_line().len() < 200, "{}", run.first_line());
}

#[test]
fn a_datapoint_past_the_year_9999_is_shown_not_a_crash() {
    // Graphite cannot store such a point; a broken proxy or a hostile
    // server can send one.
    let server = FakeGarbageServer::http_200(
        r#"[{"target": "x.ham", "datapoints": [[131.2, 253402300800], [131.4, 253402300860]]}]"#,
    );
    plugin("check-graphite")
        .args(["-U", &server.url(), "--target", "x.ham", "--max-age", "2m"])
        .args(HAM)
        .run()
        .state_is(State::Ok)
        .first_line_contains("ham 131.4°F")
        .long_text_contains("unix time 253402300860");
}

#[test]
fn garbage_and_resets_are_unknown_with_what_was_wrong() {
    let garbage = FakeGarbageServer::http_200("{\"oops\": 1}");
    plugin("check-graphite")
        .args(["-U", &garbage.url(), "--target", "x"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("Graphite's reply from")
        .first_line_contains("is unreadable: the reply is not Graphite render JSON");
    let not_http = FakeGarbageServer::new(&b"\x00\x01\x02 SSH-2.0-OpenSSH\r\n"[..]);
    plugin("check-graphite")
        .args(["-U", &not_http.url(), "--target", "x"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("Graphite is unreachable");
    let reset = FakeResetServer::start();
    plugin("check-graphite")
        .args(["-U", &reset.url(), "--target", "x"])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("Graphite is unreachable");
}

#[test]
fn every_render_bypasses_graphites_cache() {
    let g = Graphite::start_with_render_cache();
    steady(&g, "cg.cached.ham", 131.0);
    let plain = format!(
        "{}/render?target=cg.cached.ham&format=json&from=-5min",
        g.url()
    );
    let cached = nightwatch_testkit::http::get(&plain).expect("prime the render cache");
    assert!(cached.body.contains("131.0"), "{}", cached.body);
    feed(&g, "cg.cached.ham", &[141.2; 3], 0);
    let stale = nightwatch_testkit::http::get(&plain).expect("a cached render");
    assert_eq!(
        stale.body, cached.body,
        "graphite-web served the cached render"
    );
    check(&g, "cg.cached.ham", HAM)
        .state_is(State::Critical)
        .first_line_is("GRAPHITE CRITICAL: ham 141.2°F above 140");
}

/// graphite-web behind nginx with TLS from a test CA, basic auth on `/` and
/// a bearer token on `/bearer/`, as sites put it on the network.
struct GuardedGraphite {
    nginx: nightwatch_testkit::Nginx,
    ca: nightwatch_testkit::TestCa,
    dir: tempfile::TempDir,
}

const TOKEN: &str = "s3cret-token";
const PASSWORD: &str = "hunter2";

impl GuardedGraphite {
    fn start(graphite: &Graphite) -> GuardedGraphite {
        let ca = nightwatch_testkit::TestCa::new();
        let leaf = ca.leaf("graphite");
        let dir = tempfile::tempdir().expect("a temp dir");
        let hash = std::process::Command::new("openssl")
            .args(["passwd", "-apr1", PASSWORD])
            .output()
            .expect("openssl passwd");
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(
            &htpasswd,
            format!("nagios:{}", String::from_utf8_lossy(&hash.stdout)),
        )
        .expect("write htpasswd");
        let upstream = graphite.url();
        let snippet = format!(
            "location / {{ auth_basic graphite; auth_basic_user_file {}; proxy_pass {upstream}; }}\n\
             location /bearer/ {{ if ($http_authorization != \"Bearer {TOKEN}\") {{ return 401; }} proxy_pass {upstream}/; }}",
            htpasswd.display()
        );
        let nginx = nightwatch_testkit::Nginx::builder()
            .tls(&leaf)
            .server_snippet(&snippet)
            .start();
        GuardedGraphite { nginx, ca, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.nginx.port())
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write a secret file");
        path.display().to_string()
    }
}

#[test]
fn basic_auth_and_tls_through_the_shared_client() {
    let g = Graphite::shared();
    steady(g, "cg.guarded.ham", 131.0);
    let guarded = GuardedGraphite::start(g);
    let url = guarded.url("/");
    let ca = guarded.ca.cert().display().to_string();
    let target = ["--target", "cg.guarded.ham"];
    let password_file = guarded.file("password", &format!("{PASSWORD}\n"));
    let base = |extra: &[&str]| {
        plugin("check-graphite")
            .args(["-U", url.as_str()])
            .args(target)
            .args(extra)
            .env_remove("GRAPHITE_PASSWORD")
            .env_remove("GRAPHITE_TOKEN")
    };
    base(&[
        "--ca-file",
        &ca,
        "--user",
        "nagios",
        "--password-file",
        &password_file,
    ])
    .run()
    .state_is(State::Ok)
    .first_line_is("GRAPHITE OK: ham 131.0");
    base(&["--ca-file", &ca, "--user", "nagios"])
        .env("GRAPHITE_PASSWORD", PASSWORD)
        .run()
        .state_is(State::Ok);
    base(&["--ca-file", &ca, "--user", "nagios"])
        .env("GRAPHITE_PASSWORD", "wrong")
        .run()
        .state_is(State::Unknown)
        .first_line_contains("Graphite answered 401");
    base(&["--user", "nagios", "--password-file", &password_file])
        .run()
        .state_is(State::Unknown)
        .first_line_contains("Graphite is unreachable")
        .first_line_contains("certificate");
    base(&[
        "--insecure",
        "--user",
        "nagios",
        "--password-file",
        &password_file,
    ])
    .run()
    .state_is(State::Ok);
    base(&["--ca-file", "/nonexistent/ca.pem"])
        .run()
        .state_is(State::Unknown)
        .first_line_is(
            "GRAPHITE UNKNOWN: cannot read the CA file /nonexistent/ca.pem: No such file or directory (os error 2)",
        );
}

#[test]
fn bearer_tokens_from_a_file_or_the_environment() {
    let g = Graphite::shared();
    steady(g, "cg.bearer.ham", 131.0);
    let guarded = GuardedGraphite::start(g);
    let url = guarded.url("/bearer/");
    let ca = guarded.ca.cert().display().to_string();
    let token_file = guarded.file("token", TOKEN);
    let base = || {
        plugin("check-graphite")
            .args([
                "-U",
                url.as_str(),
                "--target",
                "cg.bearer.ham",
                "--ca-file",
                &ca,
            ])
            .env_remove("GRAPHITE_TOKEN")
    };
    base()
        .args(["--token-file", &token_file])
        .run()
        .state_is(State::Ok);
    base()
        .env("GRAPHITE_TOKEN", TOKEN)
        .run()
        .state_is(State::Ok);
    base()
        .run()
        .state_is(State::Unknown)
        .first_line_contains("Graphite answered 401");
}

#[test]
fn the_system_proxy_is_honoured() {
    let g = Graphite::shared();
    steady(g, "cg.proxied.ham", 131.0);
    // An nginx that forwards whatever it is asked for to graphite-web, and a
    // Graphite URL nothing listens on: only through the proxy can it answer.
    let proxy = nightwatch_testkit::Nginx::builder()
        .server_snippet(&format!("location / {{ proxy_pass {}; }}", g.url()))
        .start();
    let unreachable = "http://127.0.0.2:9/";
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let run = |proxy_env: Option<(&str, &str)>| {
        let mut cmd = plugin("check-graphite")
            .args(["-U", unreachable, "--target", "cg.proxied.ham", "-t", "3s"])
            .env_remove("NO_PROXY")
            .env_remove("no_proxy");
        if let Some((key, value)) = proxy_env {
            cmd = cmd.env(key, value);
        }
        cmd.run()
    };
    run(None)
        .state_is(State::Unknown)
        .first_line_contains("cannot connect to http://127.0.0.2:9/render");
    run(Some(("http_proxy", &proxy_url)))
        .state_is(State::Ok)
        .first_line_is("GRAPHITE OK: ham 131.0");
    run(Some(("HTTP_PROXY", &proxy_url))).state_is(State::Ok);
}

#[test]
fn a_reply_over_64_mib_is_refused_whether_declared_or_streamed() {
    // A real nginx serves a render one byte over the client's 64 MiB cap:
    // once with Content-Length (refused before reading), once chunked through
    // sub_filter, which drops the length (refused when the count passes it).
    let dir = tempfile::tempdir().expect("temp dir");
    let huge = dir.path().join("render");
    std::fs::File::create(&huge)
        .and_then(|f| f.set_len((64 << 20) + 1))
        .expect("a sparse 64 MiB file");
    let huge = huge.display();
    let nginx = nightwatch_testkit::Nginx::builder()
        .server_snippet(&format!(
            "location = /declared/render {{ alias {huge}; default_type application/json; }}\n\
             location = /streamed/render {{ alias {huge}; default_type application/json; \
             sub_filter_types *; sub_filter 'never-there' ''; }}"
        ))
        .start();
    for how in ["declared", "streamed"] {
        let url = format!("http://127.0.0.1:{}/{how}", nginx.port());
        plugin("check-graphite")
            .args(["-U", &url, "--target", "cg.huge", "-t", "10s"])
            .run()
            .state_is(State::Unknown)
            .first_line_is(&format!(
                "GRAPHITE UNKNOWN: the reply from {url}/render is larger than 64 MiB, \
                 more than any check needs"
            ));
    }
}

// ---------------------------------------------------------------------------
// The same checks against the render APIs sites run instead of graphite-web:
// carbonapi over go-carbon, and VictoriaMetrics' Graphite API.

mod go_servers {
    use super::{HAM, OVEN, SETTLE, check, feed};
    use nightwatch_testkit::State;
    use nightwatch_testkit::go_graphite::{GoGraphite, GoGraphiteFlavor};

    /// The graphite-web cases each server supports, with its name in the
    /// metric paths so the two never share a series.
    fn the_story_on(flavor: GoGraphiteFlavor) {
        let g = GoGraphite::shared(flavor);
        let p = match flavor {
            GoGraphiteFlavor::CarbonApi => "capi",
            GoGraphiteFlavor::Victoria => "vm",
        };
        let m = |name: &str| format!("{p}.{name}");

        // Thresholds at their exact boundaries.
        for (name, value, state, line) in [
            ("ok.ham", 131.2, State::Ok, "GRAPHITE OK: ham 131.2°F"),
            (
                "edge.ham",
                140.0,
                State::Warning,
                "GRAPHITE WARNING: ham 140.0°F above 135",
            ),
            (
                "hot.ham",
                141.2,
                State::Critical,
                "GRAPHITE CRITICAL: ham 141.2°F above 140",
            ),
        ] {
            feed(g, &m(name), &[value; 20], 1);
            check(g, &m(name), HAM).state_is(state).first_line_is(line);
        }
        // Below-thresholds (the oven) and the perfdata they carry.
        feed(g, &m("cold.oven"), &[318.0; 20], 1);
        check(g, &m("cold.oven"), OVEN)
            .state_is(State::Warning)
            .first_line_is("GRAPHITE WARNING: oven 318.0°F below 320")
            .perfdata_has("oven=318;320:;315:");
        // A source that went quiet is stale, judged on the server's Date.
        feed(g, &m("quiet.ham"), &[131.0; 5], 600);
        check(
            g,
            &m("quiet.ham"),
            &[HAM, &["--max-age", "2m", "--from", "-30min"]].concat(),
        )
        .state_is(State::Unknown)
        .first_line_contains("ham is stale: no data for 10m");
        // No such series; a wildcard judges each series, the worst first.
        check(g, &m("nothing.here"), HAM)
            .state_is(State::Unknown)
            .first_line_is(&format!(
                "GRAPHITE UNKNOWN: no series matched {p}.nothing.here"
            ));
        feed(g, &m("both.ham.back"), &[137.0; 20], 1);
        feed(g, &m("both.ham.front"), &[141.2; 20], 1);
        check(g, &m("both.ham.*"), HAM)
            .state_is(State::Critical)
            .first_line_is("GRAPHITE CRITICAL: front 141.2°F above 140")
            .perfdata_has("back=137;135;140");
        // An unknown function is the user's: UNKNOWN with the server's
        // reason. (carbonapi fetches the series first: around a path that
        // matches nothing it answers [] without looking at the function.)
        check(g, &format!("nonexistentFunction({p}.ok.ham)"), HAM)
            .state_is(State::Unknown)
            .first_line_contains("Graphite answered 4")
            .first_line_contains("nonexistentFunction");
        // A slope fitted over a fed ramp, and its forecast.
        let ramp: Vec<f64> = (0..120)
            .map(|i| 131.2 - 0.015 * f64::from(119 - i))
            .collect();
        feed(g, &m("ramp.ham"), &ramp, 1);
        let run = check(
            g,
            &m("ramp.ham"),
            &["--agg", "slope", "-w", "0.5", "-c", "1", "--unit", "°F"],
        );
        run.state_is(State::Warning)
            .first_line_is("GRAPHITE WARNING: ham +0.9°F/min above 0.5");
        check(g, &m("ramp.ham"), &[HAM, &["--forecast"]].concat())
            .state_is(State::Ok)
            .first_line_is(
                "GRAPHITE OK: ham 131.2°F, +0.9°F/min: WARNING in ~4 min, CRITICAL in ~10 min",
            );
        // Functions: an alias with characters that need encoding comes back
        // as the series name; a target longer than a URL goes by POST.
        check(g, &format!("alias({p}.ok.ham,\"ham #1 + 2 & more\")"), &[])
            .state_is(State::Ok)
            .first_line_is("GRAPHITE OK: ham_1_2_more 131.2");
        let long = m("ok.ham");
        let padded: Vec<String> = (0..60).map(|i| format!("{p}.absent.{i:0>40}")).collect();
        let mut args: Vec<&str> = HAM.to_vec();
        for t in &padded {
            args.extend(["--target", t.as_str()]);
        }
        check(g, &long, &args)
            .state_is(State::Ok)
            .first_line_is("GRAPHITE OK: ham 131.2°F");
    }

    /// The exporter's carbon plaintext stream into the server's own
    /// receiver (go-carbon's, `VictoriaMetrics`' Graphite listener): the
    /// ham set on the simulated probe comes back through check-graphite.
    fn the_exporter_feeds(flavor: GoGraphiteFlavor) {
        use nightwatch_testkit::ServiceProcess;
        use nightwatch_testkit::plugin_cmd::workspace_bin;
        use nightwatch_testkit::process::scratch_dir;

        const HAM_PROBE: &str = "28-0316a2b4c5ff";
        let g = GoGraphite::shared(flavor);
        let dir = scratch_dir(&format!("cg-exporter-{}", flavor.name()));
        let w1 = dir.path().join("w1");
        std::fs::create_dir_all(&w1).expect("create the w1 dir");
        let prefix = format!("cgexp.{}", flavor.name().replace('-', "_"));
        let config = dir.path().join("exporter.toml");
        std::fs::write(
            &config,
            format!(
                "[graphite]\naddress = \"{}\"\nprefix = \"{prefix}\"\n\
                 backoff_min = \"200ms\"\nbackoff_max = \"1s\"\n\n\
                 [probes]\n\"{HAM_PROBE}\" = \"ham\"\n\n\
                 [reading]\ninterval = \"1s\"\nw1_dir = \"{}\"\n\n\
                 [spool]\ndir = \"{}\"\n\n[health]\ninterval = \"1s\"\n",
                g.carbon_addr(),
                w1.display(),
                dir.path().join("spool").display()
            ),
        )
        .expect("write the exporter config");
        let exporter_bin = workspace_bin("pi-probe-exporter");
        let set = |celsius: &str| {
            let out = std::process::Command::new(&exporter_bin)
                .args([
                    "simulate",
                    "set",
                    "--probe",
                    HAM_PROBE,
                    "--celsius",
                    celsius,
                ])
                .arg("--w1-dir")
                .arg(&w1)
                .output()
                .expect("run pi-probe-exporter simulate set");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        set("61");
        let mut command = ServiceProcess::command(&exporter_bin);
        command
            .arg("--config")
            .arg(&config)
            .arg("--assume-clock-synced")
            .env_remove("JOURNAL_STREAM");
        let _exporter = ServiceProcess::spawn(
            "pi-probe-exporter",
            command,
            &dir.path().join("exporter.log"),
        );
        let ham = format!("{prefix}.ham");
        // 61 °C is 141.8 °F; VictoriaMetrics averages within its step, so
        // wait for a point that is all 141.8.
        g.wait_for(&ham, SETTLE, |points| {
            points
                .last()
                .is_some_and(|&(_, v)| (v - 141.8).abs() < 1e-9)
        });
        check(g, &ham, &[HAM, &["--max-age", "2m"]].concat())
            .state_is(State::Critical)
            .first_line_is("GRAPHITE CRITICAL: ham 141.8°F above 140")
            .perfdata_has("ham=141.8;135;140");
        let sent_count = format!("{prefix}.exporter.send.sent");
        g.wait_for(&sent_count, SETTLE, |points| {
            points.iter().any(|&(_, v)| v > 0.0)
        });
    }

    #[test]
    fn the_exporter_streams_into_go_carbon() {
        the_exporter_feeds(GoGraphiteFlavor::CarbonApi);
    }

    #[test]
    fn the_exporter_streams_into_victoria_metrics() {
        the_exporter_feeds(GoGraphiteFlavor::Victoria);
    }

    #[test]
    fn the_story_on_carbonapi_over_go_carbon() {
        the_story_on(GoGraphiteFlavor::CarbonApi);
    }

    #[test]
    fn the_story_on_victoria_metrics() {
        the_story_on(GoGraphiteFlavor::Victoria);
    }
}
