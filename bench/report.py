"""Turns bench/work (hyperfine JSON + RSS medians) into bench/RESULTS.md."""

import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime, timezone

work = sys.argv[1]
runs = {r["command"]: r for r in json.load(open(os.path.join(work, "graphite.json")))["results"]}
rss = {}
for line in open(os.path.join(work, "rss.txt")):
    name, _, kib = line.strip().rpartition(" ")
    rss[name] = int(kib)
server = {}
for line in open(os.path.join(work, "server.txt")):
    name, _, milliseconds = line.strip().rpartition(" ")
    server[name] = float(milliseconds)


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def row(name):
    r = runs[name]
    wall = statistics.median(r["times"])
    cpu = r["user"] + r["system"]  # hyperfine reports means of user/system
    return wall, cpu, rss[name]


print("# Benchmarks\n")
print(f"Run by `bench/run` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
      f"{os.cpu_count()} cores ({cpu_model()}), Linux {platform.release()}; "
      f"{len(next(iter(runs.values()))['times'])} runs each after 3 warm-ups, "
      "all against one local Graphite on loopback.\n")
print("## check-graphite: one render of 300 points (same render URL, same Graphite)\n")
print("| command | wall median ms | CPU ms (user+sys, mean) | peak RSS MiB |")
print("|---|---:|---:|---:|")
for name in runs:
    wall, cpu, kib = row(name)
    print(f"| {name} | {ms(wall)} | {ms(cpu)} | {kib / 1024:.1f} |")

ours, theirs, floor = row("check-graphite"), row("check_graphite"), row("check_http")
many = row("check-graphite 100 series")
many_floor = row("check_http 100 series")
print("\n| ratio | wall | CPU | RSS | target |")
print("|---|---:|---:|---:|---|")
print(f"| check-graphite / check_http | {ours[0] / floor[0]:.2f} | {ours[1] / floor[1]:.2f} | "
      f"{ours[2] / floor[2]:.2f} ({(ours[2] - floor[2]) / 1024:+.1f} MiB) | wall ≤ 1.2, CPU ≤ 1, RSS ≤ +2 MiB |")
print(f"| check-graphite / check_graphite | {ours[0] / theirs[0]:.2f} | {ours[1] / theirs[1]:.2f} | "
      f"{ours[2] / theirs[2]:.2f} | (report) |")
print(f"| 100 series / 1 series | {many[0] / ours[0]:.2f} | {many[1] / ours[1]:.2f} | "
      f"{many[2] / ours[2]:.2f} | wall < 2 |")
print(f"| 100 series: check-graphite / check_http | {many[0] / many_floor[0]:.2f} | "
      f"{many[1] / many_floor[1]:.2f} | {many[2] / many_floor[2]:.2f} | CPU ≤ 1.5 (wall: graphite-web's render time, the floor) |")

one, hundred = server["1 series"], server["100 series"]
print("\n### graphite-web's own render time\n")
print("The render view called in process through Django's test client (no HTTP, no client "
      "process; `bench/graphite_web_render.py`), median of the same number of runs:\n")
print("| render | graphite-web ms | check-graphite wall ms | check-graphite minus graphite-web ms |")
print("|---|---:|---:|---:|")
print(f"| 1 series × 300 points | {one:.1f} | {ms(ours[0])} | {ours[0] * 1000 - one:.1f} |")
print(f"| 100 series × 300 points | {hundred:.1f} | {ms(many[0])} | {many[0] * 1000 - hundred:.1f} |")
print(f"\ngraphite-web alone takes {hundred / one:.1f}× as long for 100 series as for one, "
      "so no client's 100-series check can stay under 2× its single-series time on this "
      "server; what check-graphite adds on top of graphite-web's render is in the last column.")

# bench/exporter writes its own section; keep it when this report is redone.
exporter = os.path.join(os.path.dirname(work.rstrip("/")), "RESULTS-exporter.md")
if os.path.exists(exporter):
    print("\n<!-- bench/exporter: begin -->")
    print(open(exporter).read().rstrip())
    print("<!-- bench/exporter: end -->")
