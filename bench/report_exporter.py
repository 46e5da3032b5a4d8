"""bench/exporter's helpers: makes its inputs, measures, writes its report.

Subcommands (bench/exporter runs them in this order):

  selfcheck SPOOL_DIR
      Re-encodes the first line of a spool the real exporter just wrote and
      requires the same bytes: the generator below writes the exporter's
      own format, not an approximation of it.
  steady PID SECONDS METRICS_PORT OUT_JSON
      Resident memory (VmRSS, VmHWM from /proc/PID/status) and CPU
      (utime+stime from /proc/PID/stat) of a running exporter over SECONDS.
  gen SPOOL_DIR LINES_FILE SPOOL_PREFIX LINES_PREFIX N
      N readings of two probes (ham, oven), one tick a second ending two
      minutes ago, as spool segments (seg-*.log, no cursor: all unsent) and
      as the same N carbon plaintext lines under another prefix.
  replay-exporter EXPORTER SPOOL_DIR W1_DIR CARBON GRAPHITE_URL LAST_METRIC LAST_TS N OUT_JSON
  replay-socat LINES_FILE CARBON GRAPHITE_URL LAST_METRIC LAST_TS N OUT_JSON
      Times one replay from process start until carbon has read every byte
      of it (see await_carbon_read_all), and when the client itself had
      written everything; then checks that graphite-web serves the last
      line's point.
  wait-idle GRAPHITE_DIR
      Waits until carbon-cache (found by its config path) has written its
      cache out (below 5 % CPU for a second), so runs do not overlap.
  report WORK_DIR
      Prints the Markdown section.

Debian's /usr/bin/python3, standard library only.
"""

import glob
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from datetime import datetime, timezone

CLK_TCK = os.sysconf("SC_CLK_TCK")
SEGMENT_BYTES = 4 * 1024 * 1024  # the default for the default 64 MiB cap


# ---------------------------------------------------------------- spool format

def spool_line(seq, boot, mono_ms, wall_ms, metric, value):
    """One spool line as the exporter writes it (README "The spool")."""
    body = f"{seq} {boot} {mono_ms} {wall_ms} S {metric} {value}"
    return f"{body} {zlib.crc32(body.encode()):08x}\n"


def fahrenheit(milli_c):
    """pi-probe-exporter's Unit::format for F: exact, no trailing zeros."""
    v = milli_c * 18 + 320_000  # 1e-4 degF
    sign = "-" if v < 0 else ""
    whole, frac = divmod(abs(v), 10_000)
    return f"{sign}{whole}" if frac == 0 else f"{sign}{whole}.{frac:04d}".rstrip("0")


def sensor_millis(celsius):
    """A DS18B20 reading: 1/16 degC steps, as the kernel prints them."""
    raw = max(-880, min(2000, round(celsius * 16)))
    return int(raw * 1000 / 16)


def boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip().replace("-", "")[:16]


def selfcheck(spool_dir):
    seg = sorted(glob.glob(os.path.join(spool_dir, "seg-*.log")))[0]
    with open(seg) as f:
        real = f.readline()
    seq, boot, mono, wall, flag, metric, value, _crc = real.split(" ")
    assert flag == "S", real
    ours = spool_line(int(seq), boot, int(mono), int(wall), metric, value)
    if ours != real:
        sys.exit(f"generator differs from the exporter:\n  exporter: {real!r}\n  ours:     {ours!r}")
    print(f"selfcheck: generator writes the exporter's line byte for byte: {real.strip()}")


def gen(spool_dir, lines_file, spool_prefix, lines_prefix, n):
    n = int(n)
    ticks = n // 2
    os.makedirs(spool_dir, exist_ok=True)
    boot = boot_id()
    end = int(time.time()) - 120
    start = end - ticks + 1
    seg, seg_bytes, seq = None, 0, 0
    with open(lines_file, "w") as lines:
        for i in range(ticks):
            ts = start + i
            hours = i / 3600
            # ham: fridge to 142 degF over the night; oven: room to its cap
            ham = sensor_millis(3.9 + 57.2 * min(1.0, hours / 4))
            oven = sensor_millis(20 + 160 * (1 - 0.5 ** (hours * 6)))
            if seg is None or seg_bytes >= SEGMENT_BYTES:
                if seg:
                    seg.close()
                seg = open(os.path.join(spool_dir, f"seg-{seq:020d}.log"), "w")
                seg_bytes = 0
            for probe, milli in (("ham", ham), ("oven", oven)):
                value = fahrenheit(milli)
                line = spool_line(seq, boot, 1_000_000 + 1000 * i, ts * 1000 + 500,
                                  f"{spool_prefix}.{probe}", value)
                seg.write(line)
                seg_bytes += len(line)
                lines.write(f"{lines_prefix}.{probe} {value} {ts}\n")
                seq += 1
    seg.close()
    print(f"{end}")


# ---------------------------------------------------------------- /proc

def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    return out


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        body = r.read().decode()
    samples = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            samples[series] = float(value)
    return samples


def total(samples, name):
    return sum(v for k, v in samples.items()
               if k == f"pi_probe_exporter_{name}" or k.startswith(f"pi_probe_exporter_{name}{{"))


def steady(pid, seconds, port, out):
    pid, seconds = int(pid), float(seconds)
    m0, st0 = scrape(port), proc_status(pid)
    c0, t0 = proc_cpu_seconds(pid), time.monotonic()
    rss = [st0["VmRSS"]]
    while time.monotonic() - t0 < seconds:
        time.sleep(min(5, seconds - (time.monotonic() - t0)) if seconds > 0 else 0)
        rss.append(proc_status(pid)["VmRSS"])
    c1, t1 = proc_cpu_seconds(pid), time.monotonic()
    st1, m1 = proc_status(pid), scrape(port)
    result = {
        "seconds": t1 - t0,
        "cpu_seconds": c1 - c0,
        "cpu_percent": (c1 - c0) / (t1 - t0) * 100,
        "rss_kib_start": st0["VmRSS"],
        "rss_kib_end": st1["VmRSS"],
        "rss_kib_max_sampled": max(rss),
        "hwm_kib": st1["VmHWM"],
        "threads": st1["Threads"],
        "readings": total(m1, "readings_ok_total") - total(m0, "readings_ok_total"),
        "rejected": total(m1, "readings_rejected_total") - total(m0, "readings_rejected_total"),
        "overruns": total(m1, "reader_overruns_total"),
        "sent": total(m1, "sent_total") - total(m0, "sent_total"),
        "send_errors": total(m1, "send_errors_total"),
        "connected": total(m1, "connected"),
    }
    json.dump(result, open(out, "w"), indent=1)
    print(json.dumps(result))


# ---------------------------------------------------------------- replay

def graphite_has(url, metric, ts):
    q = f"{url}/render?target={metric}&from={ts - 3}&until={ts + 2}&format=json"
    try:
        with urllib.request.urlopen(q, timeout=10) as r:
            series = json.loads(r.read())
    except OSError:
        return False
    return any(v is not None and t == ts for s in series for v, t in s["datapoints"])


def await_graphite(url, metric, ts, timeout=120):
    """Checks (untimed) that graphite-web serves the last line's point."""
    deadline = time.monotonic() + timeout
    while not graphite_has(url, metric, ts):
        if time.monotonic() > deadline:
            sys.exit(f"{metric} at {ts} not in Graphite after {timeout} s")
        time.sleep(0.2)


def sockets(port):
    """(state, recv_q, send_q, local_port, peer_port) of TCP sockets on `port`."""
    out = subprocess.run(["ss", "-Htn", "state", "all", f"( sport = :{port} or dport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 5 or f[0] == "LISTEN":
            continue
        rows.append((f[0], int(f[1]), int(f[2]), int(f[3].rsplit(":", 1)[1]),
                     int(f[4].rsplit(":", 1)[1])))
    return rows


def await_carbon_read_all(carbon_port, writer_done, before, timeout=600):
    """When carbon has read every byte of the one new connection to its line
    port: the writer is done (`writer_done(client_row)`), nothing is left
    in the client's send queue nor in carbon's receive queue (or carbon has
    closed its end, which it does only after reading up to the FIN).
    Polled every 5 ms with ss, which asks the kernel and loads carbon not at
    all (polling graphite-web instead would make carbon pickle its cache
    for every poll, slowing the very ingestion being timed)."""
    deadline = time.monotonic() + timeout
    client_port = None
    while time.monotonic() < deadline:
        rows = sockets(carbon_port)
        if client_port is None:
            new = [r for r in rows if r[4] == carbon_port and r[3] not in before
                   and r[0] != "TIME-WAIT"]
            if new:
                client_port = new[0][3]
        if client_port is not None:
            client = [r for r in rows if r[3] == client_port and r[4] == carbon_port]
            server = [r for r in rows if r[3] == carbon_port and r[4] == client_port]
            sent = not client or client[0][2] == 0
            read = not server or server[0][0] in ("LAST-ACK", "CLOSED") or server[0][1] == 0
            if sent and read and writer_done(client[0] if client else None):
                return time.monotonic()
        time.sleep(0.005)
    sys.exit(f"carbon did not read everything within {timeout} s")


def ports_in_use(carbon_port):
    return {r[3] for r in sockets(carbon_port) if r[4] == carbon_port}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replay_exporter(exporter, spool, w1, carbon, url, metric, ts, n, out):
    ts, n, port = int(ts), int(n), free_port()
    os.makedirs(w1, exist_ok=True)  # no probes: only the backlog is sent
    log = open(os.path.join(os.path.dirname(out), os.path.basename(out) + ".log"), "w")
    cmd = [exporter, "--w1-dir", w1, "--spool-dir", spool, "--graphite", carbon,
           "--assume-clock-synced", "--listen", f"127.0.0.1:{port}"]
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    carbon_port = int(carbon.rsplit(":", 1)[1])
    before = ports_in_use(carbon_port)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=log, stdin=subprocess.DEVNULL, env=env)
    written = {}

    def watch_metrics():  # the exporter's own view: nothing left to write
        while proc.poll() is None:
            try:
                m = scrape(port)
            except OSError:
                time.sleep(0.01)
                continue
            if total(m, "spool_readings") == 0 and total(m, "sent_total") >= n:
                written["t"] = time.monotonic()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=watch_metrics, daemon=True)
    watcher.start()
    t_carbon = await_carbon_read_all(carbon_port, lambda _client: "t" in written, before)
    watcher.join(timeout=60)
    await_graphite(url, metric, ts)
    m = scrape(port)
    cpu = proc_cpu_seconds(proc.pid)
    hwm = proc_status(proc.pid)["VmHWM"]
    proc.terminate()
    proc.wait()
    corrupt = total(m, "spool_corrupt_lines_total")
    if corrupt or total(m, "sent_total") < n or total(m, "spool_dropped_total"):
        sys.exit(f"the exporter did not replay all {n} generated readings cleanly: {m}")
    result = {"contender": "pi-probe-exporter", "readings": n, "seconds": t_carbon - t0,
              "client_seconds": written.get("t", t_carbon) - t0, "cpu_seconds": cpu,
              "hwm_kib": hwm, "sent_total": total(m, "sent_total"), "corrupt_lines": corrupt}
    json.dump(result, open(out, "w"), indent=1)
    print(json.dumps(result))


def replay_socat(lines, carbon, url, metric, ts, n, out):
    ts, n = int(ts), int(n)
    carbon_port = int(carbon.rsplit(":", 1)[1])
    before = ports_in_use(carbon_port)
    t0 = time.monotonic()
    proc = subprocess.Popen(["sh", "-c", 'cat "$1" | socat - "TCP:$2"', "sh", lines, carbon],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    done = {}

    def reap():
        _, status, usage = os.wait4(proc.pid, 0)
        done.update(t=time.monotonic(), status=status, cpu=usage.ru_utime + usage.ru_stime)

    reaper = threading.Thread(target=reap)
    reaper.start()
    # socat has written everything once it has sent its FIN (stdin at EOF).
    t_carbon = await_carbon_read_all(
        carbon_port, lambda client: client is None or client[0] != "ESTAB", before)
    reaper.join()
    await_graphite(url, metric, ts)
    if done["status"] != 0:
        sys.exit(f"cat | socat failed: status {done['status']}")
    result = {"contender": "cat | socat", "readings": n, "seconds": t_carbon - t0,
              "client_seconds": done["t"] - t0, "cpu_seconds": done["cpu"]}
    json.dump(result, open(out, "w"), indent=1)
    print(json.dumps(result))


def wait_idle(graphite_dir):
    needle = f"{graphite_dir}/conf/carbon.conf".encode()
    pid = None
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(path, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline and b"carbon-cache" in cmdline:
            pid = int(path.split("/")[2])
    if pid is None:
        sys.exit(f"no carbon-cache with {needle.decode()}")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        c0 = proc_cpu_seconds(pid)
        time.sleep(1)
        if proc_cpu_seconds(pid) - c0 < 0.05:
            return
    sys.exit("carbon-cache stayed busy for 3 minutes")


# ---------------------------------------------------------------- report

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def ok(good):
    return "yes" if good else "**no**"


def report(work):
    meta = json.load(open(os.path.join(work, "meta.json")))
    s = json.load(open(os.path.join(work, "steady.json")))
    runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(work, "replay-*.json")))]
    ours = [r for r in runs if r["contender"] == "pi-probe-exporter"]
    theirs = [r for r in runs if r["contender"] == "cat | socat"]
    n = ours[0]["readings"]
    med = lambda rs, k: statistics.median(r[k] for r in rs)  # noqa: E731
    o, t = med(ours, "seconds"), med(theirs, "seconds")
    ratio = o / t

    print("## pi-probe-exporter: steady state and spool replay\n")
    when = datetime.fromtimestamp(os.path.getmtime(os.path.join(work, "meta.json")), timezone.utc)
    print(f"Run by `bench/exporter` on {when:%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores ({cpu_model()}), Linux {platform.release()}; "
          f"release build, one local Graphite (carbon-cache {meta['carbon']}) on loopback; "
          f"load average {meta['load_start']} at the start, {meta['load_end']} at the end "
          "(the machine was shared).\n")
    print(f"### Steady state: two simulated probes at 1 Hz for {s['seconds']:.0f} s\n")
    print("Default config (health every 10 s), `--listen` on; the simulators (`simulate "
          "--scenario ham` and `oven`, 60x) run as separate processes and are not counted. "
          "CPU is utime+stime from /proc/PID/stat over the window (all threads, including "
          "the per-read probe threads that have exited; counted in 10 ms clock ticks, so "
          "+-0.02 % over a minute); memory from /proc/PID/status.\n")
    print("| measure | value | target | met |")
    print("|---|---:|---|---|")
    print(f"| resident memory VmRSS (start / end of window) | {s['rss_kib_start'] / 1024:.2f} / "
          f"{s['rss_kib_end'] / 1024:.2f} MiB | < 8 MiB | {ok(s['rss_kib_max_sampled'] < 8192)} |")
    print(f"| peak resident VmHWM | {s['hwm_kib'] / 1024:.2f} MiB | < 8 MiB | {ok(s['hwm_kib'] < 8192)} |")
    print(f"| CPU, % of one core | {s['cpu_percent']:.3f} % ({s['cpu_seconds'] * 1000:.0f} ms "
          f"in {s['seconds']:.1f} s) | < 0.5 % | {ok(s['cpu_percent'] < 0.5)} |")
    print(f"| readings accepted in the window | {s['readings']:.0f} (2 probes) | "
          f"{2 * round(s['seconds'])} | {ok(abs(s['readings'] - 2 * s['seconds']) <= 2)} |")
    print(f"| overruns, send errors | {s['overruns']:.0f}, {s['send_errors']:.0f} | 0, 0 | "
          f"{ok(s['overruns'] == 0 and s['send_errors'] == 0)} |")
    print(f"| threads (reader, writer, sender, /metrics, main) | {s['threads']} | | |\n")

    print(f"### Replay of a {n:,}-reading spool to carbon\n")
    print(f"The spool: two probes, {n // 2:,} one-second ticks (a night offline), written by "
          "`bench/report_exporter.py gen` in the exporter's own line format (checked byte for "
          "byte against a line the release exporter had just spooled; the exporter's CRC check "
          "then accepted every line: 0 corrupt, all sent). The exporter starts on it with no "
          "probes attached and replays it; against it, the same "
          f"{n:,} carbon lines go as `cat lines | socat - TCP:carbon`. Each run writes "
          "new metric names (fresh whisper files); runs alternate, carbon is idle before each. "
          "Time is from process start until carbon has read every byte (the sender has written "
          "everything, its send queue and carbon's receive queue are empty: `ss`, polled every "
          "5 ms). Polling graphite-web for the last point instead would make carbon pickle "
          "its cache on every poll and slow the ingestion being timed, so that is only checked "
          "afterwards, untimed. 'Sender done' is when the sender itself had written "
          "everything (the exporter: `spool_readings` 0 on /metrics; socat: its exit, which "
          f"waits for carbon or 0.5 s). Medians of {len(ours)} runs each.\n")
    print("| contender | carbon has read all | readings/s | sender done | sender CPU |")
    print("|---|---:|---:|---:|---:|")
    for name, rs in (("pi-probe-exporter (replay)", ours), ("cat \\| socat", theirs)):
        sec = med(rs, "seconds")
        print(f"| {name} | {sec:.3f} s | {n / sec:,.0f} | {med(rs, 'client_seconds'):.3f} s | "
              f"{med(rs, 'cpu_seconds') * 1000:.0f} ms |")
    print(f"\n| ratio | value | target | met |")
    print("|---|---:|---|---|")
    print(f"| exporter time / socat time | {ratio:.2f} | within 2x | {ok(ratio <= 2)} |")
    print(f"| exporter readings/s written by the sender itself | "
          f"{n / med(ours, 'client_seconds'):,.0f} | (report; process start included) | |")
    print(f"| exporter peak RSS during the replay | "
          f"{max(r['hwm_kib'] for r in ours) / 1024:.1f} MiB | (report) | |")
    print("\nAll runs, seconds until carbon had read all: " + ", ".join(
        f"{r['contender']} {r['seconds']:.3f}" for r in runs) + ". Carbon-cache is the "
          "bottleneck for both: its receive window stays small because it reads slower than "
          "either sender writes.")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "selfcheck": selfcheck,
        "steady": steady,
        "gen": gen,
        "replay-exporter": replay_exporter,
        "replay-socat": replay_socat,
        "wait-idle": wait_idle,
        "report": report,
    }[cmd](*args)


if __name__ == "__main__":
    main()
