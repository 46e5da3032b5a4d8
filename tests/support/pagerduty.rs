//! Stand-ins for `PagerDuty`'s two Nagios scripts, recording what Nagios
//! would have sent to `PagerDuty`.
//!
//! `pd-nagios` (the `PagerDuty` Agent's) accepts exactly the options and
//! fields of the real one; `pagerduty_nagios.pl` its `enqueue`/`flush`
//! modes, `-f KEY=VALUE` and the `NAGIOS_*` environment it reads. Each call
//! appends one JSON line to `events.jsonl`: `script`, `n` (service or host),
//! `k` (the integration key), `t` (PROBLEM, ACKNOWLEDGEMENT, RECOVERY),
//! `fields` and `at` (unix seconds, fractional); or a `rejected` line, and
//! the script exits 2, where the real script would refuse the call.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Nagios;
use crate::process::poll_until;

/// The stand-ins for `PagerDuty`'s scripts in a directory, and what they
/// recorded.
#[derive(Debug)]
pub struct Pager {
    dir: PathBuf,
}

impl Pager {
    /// Writes `dir/pd-nagios` (accepts exactly the options and fields of
    /// `PagerDuty`'s pd-nagios: -n service|host, -k, -t
    /// PROBLEM|ACKNOWLEDGEMENT|RECOVERY, -f KEY=VALUE with the required
    /// fields) and `dir/pagerduty_nagios.pl` (enqueue|flush, -f KEY=VALUE,
    /// and the `NAGIOS_*` environment it reads). Each records one JSON line
    /// per event in `dir/events.jsonl`, or a `rejected` line and exit 2.
    #[must_use]
    pub fn new(dir: &Path) -> Pager {
        let log = dir.join("events.jsonl");
        let common = format!(
            r#"import json, os, sys, time
LOG = {log:?}
def record(event):
    event["at"] = time.time()
    with open(LOG, "a") as f:
        f.write(json.dumps(event) + "\n")
def reject(why):
    record({{"rejected": why, "argv": sys.argv}})
    sys.exit(2)
def fields(values):
    out = {{}}
    for f in values or []:
        parts = f.split("=", 2)
        # pd-nagios builds a dict from split("=", 2): a value with "=" breaks it
        if len(parts) != 2:
            reject("field not KEY=VALUE: " + f)
        out[parts[0]] = parts[1]
    return out
"#,
            log = log.display().to_string()
        );
        let pd_nagios = format!(
            r#"#!/usr/bin/python3
{common}
import argparse
class Parser(argparse.ArgumentParser):
    def error(self, message):
        reject(message)
p = Parser()
p.add_argument("-k", "--service-key", required=True)
p.add_argument("-t", "--event-type", required=True, choices=["PROBLEM", "ACKNOWLEDGEMENT", "RECOVERY"])
p.add_argument("-i", "--incident-key")
p.add_argument("-f", "--field", action="append", dest="fields")
p.add_argument("-n", "--notification-type", required=True, choices=["service", "host"])
a = p.parse_args()
d = fields(a.fields)
need = {{"service": ["HOSTNAME", "SERVICEDESC", "SERVICESTATE"], "host": ["HOSTNAME", "HOSTSTATE"]}}[a.notification_type]
missing = [k for k in need if not d.get(k)]
if missing:
    reject("missing fields " + ",".join(missing))
if not a.service_key:
    reject("empty key")
record({{"script": "pd-nagios", "n": a.notification_type, "k": a.service_key, "t": a.event_type, "fields": d}})
"#
        );
        let perl = format!(
            r#"#!/usr/bin/python3
{common}
args = sys.argv[1:]
if not args or args[0] not in ("enqueue", "flush"):
    reject("usage: enqueue|flush")
mode, rest, extra = args[0], args[1:], []
while rest:
    if rest[0] in ("-f", "--field") and len(rest) > 1:
        extra.append(rest[1]); rest = rest[2:]
    else:
        reject("unknown option " + rest[0])
d = fields(extra)
env = {{k[len("NAGIOS_"):]: v for k, v in os.environ.items() if k.startswith("NAGIOS_")}}
if mode == "enqueue":
    if d.get("pd_nagios_object") not in ("service", "host"):
        reject("pd_nagios_object must be service or host")
    if not env.get("NOTIFICATIONTYPE"):
        reject("no NAGIOS_* environment: enable_environment_macros=1 is needed")
    env.update(d)
    record({{"script": "pagerduty_nagios.pl", "n": d["pd_nagios_object"], "k": env.get("CONTACTPAGER"), "t": env["NOTIFICATIONTYPE"], "fields": env}})
"#
        );
        for (name, text) in [("pd-nagios", pd_nagios), ("pagerduty_nagios.pl", perl)] {
            let path = dir.join(name);
            fs::write(&path, text).expect("write a PagerDuty stand-in");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Pager {
            dir: dir.to_owned(),
        }
    }

    /// The directory holding the scripts and `events.jsonl`.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every recorded call so far, oldest first.
    #[must_use]
    pub fn events(&self) -> Vec<serde_json::Value> {
        fs::read_to_string(self.dir.join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    /// Waits for an event of `kind` (PROBLEM…) about `service` (a service
    /// description, or `None` for the host); panics on any rejected call.
    #[allow(clippy::must_use_candidate)] // often called only to wait
    pub fn wait_for(
        &self,
        nagios: &Nagios,
        kind: &str,
        service: Option<&str>,
    ) -> serde_json::Value {
        let found = poll_until(
            &format!("a {kind} page for {service:?}"),
            Duration::from_secs(20),
            || {
                let events = self.events();
                if let Some(bad) = events.iter().find(|e| e.get("rejected").is_some()) {
                    panic!(
                        "a PagerDuty script was called wrongly: {bad}\n{}",
                        nagios.logs()
                    );
                }
                events.into_iter().find(|e| {
                    e["t"] == kind
                        && match service {
                            Some(s) => e["n"] == "service" && e["fields"]["SERVICEDESC"] == s,
                            None => e["n"] == "host",
                        }
                })
            },
        );
        found.unwrap_or_else(|e| {
            panic!("{e}; pages so far: {:#?}\n{}", self.events(), nagios.logs())
        })
    }
}
