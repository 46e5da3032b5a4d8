//! Downtime for approved windows, so planned work does not page: Nagios
//! external commands, Sensu Go silenced entries, Icinga 2 API requests
//! (sent by [`crate::icinga2`]).
//!
//! Only changes that are approved by someone other than their author, whose
//! digest still matches, and whose window has not ended and starts within
//! the horizon get downtime. The change id is in every comment
//! (`change CMB-42: …`); downtime already in Nagios' `status.dat` or
//! Icinga 2 for that change and host is not scheduled again, and Sensu entries are named per
//! host and check so `sensuctl create` replaces rather than duplicates.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use crate::judge::{is_approved, span_until};
use crate::record::{Change, Status};

/// One downtime to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downtime {
    pub change_id: String,
    pub host: String,
    pub service: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub comment: String,
}

/// What `schedule` decided: the downtime to set, and what it left out and why.
#[derive(Debug, Default)]
pub struct Plan {
    pub downtime: Vec<Downtime>,
    pub notes: Vec<String>,
}

/// The comment every downtime carries; its prefix, up to the colon, is how
/// a later run finds it.
#[must_use]
pub fn comment_for(change: &Change) -> String {
    let text = format!("{}: {}", key_for(&change.id), change.summary);
    // Nagios splits commands on ';' and lines on '\n'.
    text.replace([';', '\n', '\r'], " ")
}

/// `change CMB-42:`, the key that marks a downtime as this change's.
#[must_use]
pub fn key_for(id: &str) -> String {
    format!("change {id}")
}

/// The downtime the records call for at `now`. `known_hosts`, when given,
/// expands host globs; without it a glob is left out with a note.
#[must_use]
pub fn plan(
    changes: &[Change],
    now: Timestamp,
    horizon: Duration,
    services: &[String],
    known_hosts: Option<&[String]>,
) -> Plan {
    let mut plan = Plan::default();
    for change in changes {
        let Some(window) = &change.window else {
            continue;
        };
        if !matches!(change.status, Status::Approved | Status::InProgress)
            || window.end.timestamp <= now
            || span_until(now, window.start.timestamp) > horizon
        {
            continue;
        }
        if !is_approved(change) {
            plan.notes.push(format!(
                "{}: no downtime, not approved by someone other than its author for this plan",
                change.id
            ));
            continue;
        }
        let mut hosts = BTreeSet::new();
        for pattern in &change.hosts {
            match (pattern.name(), known_hosts) {
                (Some(name), _) => {
                    hosts.insert(name.to_owned());
                }
                (None, Some(known)) => {
                    let matched: Vec<&String> =
                        known.iter().filter(|h| pattern.matches(h)).collect();
                    if matched.is_empty() {
                        plan.notes
                            .push(format!("{}: no known host matches {pattern}", change.id));
                    }
                    hosts.extend(matched.into_iter().cloned());
                }
                (None, None) => plan.notes.push(format!(
                    "{}: host glob {pattern} left out (no host list to expand it against)",
                    change.id
                )),
            }
        }
        if change.hosts.is_empty() {
            plan.notes.push(format!(
                "{}: no downtime, the record names no hosts",
                change.id
            ));
        }
        for host in hosts {
            let base = Downtime {
                change_id: change.id.clone(),
                host: host.clone(),
                service: None,
                start: window.start.timestamp,
                end: window.end.timestamp,
                comment: comment_for(change),
            };
            for service in services {
                plan.downtime.push(Downtime {
                    service: Some(service.clone()),
                    ..base.clone()
                });
            }
            plan.downtime.push(base);
        }
    }
    plan
}

/// What the monitoring system has: its hosts, its services, and the
/// downtime already set (host, service, comment), from Nagios'
/// `status.dat` or the Icinga 2 API.
#[derive(Debug, Default, Clone)]
pub struct Known {
    pub hosts: Vec<String>,
    /// (host, service) of every service Nagios knows.
    pub services: Vec<(String, String)>,
    pub downtime: Vec<(String, Option<String>, String)>,
}

/// Reads the host names and downtime blocks of `status.dat`; `None` when
/// it holds no `programstatus` block, which Nagios always writes: an empty
/// or foreign file must not read as "Nagios has none of these hosts".
#[must_use]
pub fn parse_status(text: &str) -> Option<Known> {
    let mut status = Known::default();
    let mut from_nagios = false;
    let mut block: Option<(String, Vec<(String, String)>)> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(kind) = line.strip_suffix(" {") {
            block = Some((kind.to_owned(), Vec::new()));
        } else if line == "}" {
            if let Some((kind, fields)) = block.take() {
                let get = |key: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| v.clone())
                };
                match kind.as_str() {
                    "programstatus" => from_nagios = true,
                    "hoststatus" => status.hosts.extend(get("host_name")),
                    "servicestatus" => {
                        if let (Some(host), Some(service)) =
                            (get("host_name"), get("service_description"))
                        {
                            status.services.push((host, service));
                        }
                    }
                    "hostdowntime" | "servicedowntime" => {
                        if let (Some(host), Some(comment)) = (get("host_name"), get("comment")) {
                            status
                                .downtime
                                .push((host, get("service_description"), comment));
                        }
                    }
                    _ => {}
                }
            }
        } else if let (Some((_, fields)), Some((key, value))) =
            (block.as_mut(), line.split_once('='))
        {
            fields.push((key.to_owned(), value.to_owned()));
        }
    }
    from_nagios.then_some(status)
}

impl Known {
    /// Whether this service exists on this host: downtime for a service
    /// Nagios does not know is an external command it rejects.
    #[must_use]
    pub fn knows(&self, host: &str, service: &str) -> bool {
        self.services.iter().any(|(h, s)| h == host && s == service)
    }

    /// Whether this change's downtime for this host (and service) exists.
    #[must_use]
    pub fn has(&self, downtime: &Downtime) -> bool {
        let key = format!("{}:", key_for(&downtime.change_id));
        self.downtime.iter().any(|(host, service, comment)| {
            host == &downtime.host && service == &downtime.service && comment.starts_with(&key)
        })
    }
}

/// One Nagios external command line, with its `[now]` prefix.
#[must_use]
pub fn nagios_command(downtime: &Downtime, author: &str, now: Timestamp) -> String {
    let start = downtime.start.as_second();
    let end = downtime.end.as_second();
    let duration = end - start;
    let author = author.replace([';', '\n'], " ");
    let mut line = format!("[{}] ", now.as_second());
    match &downtime.service {
        Some(service) => {
            let _ = write!(
                line,
                "SCHEDULE_SVC_DOWNTIME;{};{service};{start};{end};1;0;{duration};{author};{}",
                downtime.host, downtime.comment
            );
        }
        None => {
            let _ = write!(
                line,
                "SCHEDULE_HOST_DOWNTIME;{};{start};{end};1;0;{duration};{author};{}",
                downtime.host, downtime.comment
            );
        }
    }
    line
}

/// A Sensu Go silenced entry (`sensuctl create` reads a stream of them).
/// Its name is `entity:<host>:<check or *>`, so running again replaces it.
#[must_use]
pub fn sensu_silenced(downtime: &Downtime, author: &str, namespace: &str) -> serde_json::Value {
    let subscription = format!("entity:{}", downtime.host);
    let check = downtime.service.clone().unwrap_or_else(|| "*".to_owned());
    let begin = downtime.start.as_second();
    let expire = downtime.end.as_second() - begin;
    let mut spec = json!({
        "subscription": subscription,
        "begin": begin,
        // Seconds from `begin`: Sensu Go's store sets expire_at to
        // begin + expire when begin is given.
        "expire": expire,
        "expire_on_resolve": false,
        "creator": author,
        "reason": downtime.comment,
    });
    if downtime.service.is_some() {
        spec["check"] = json!(check);
    }
    json!({
        "type": "Silenced",
        "api_version": "core/v2",
        "metadata": {
            "name": format!("{subscription}:{check}"),
            "namespace": namespace,
            "labels": { "change": downtime.change_id },
        },
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape Nagios 4.4 writes (blocks trimmed to the fields read).
    const STATUS: &str = "info {\n\tversion=4.4.6\n\t}\n\nprogramstatus {\n\tnagios_pid=42\n\t}\n\n\
        hoststatus {\n\thost_name=web01\n\tcurrent_state=0\n\t}\n\n\
        servicestatus {\n\thost_name=web01\n\tservice_description=https\n\t}\n\n\
        servicedowntime {\n\thost_name=web01\n\tservice_description=https\n\tcomment=change CMB-7: nginx\n\t}\n";

    #[test]
    fn status_dat_gives_hosts_services_and_downtime() {
        let known = parse_status(STATUS).expect("a Nagios status.dat");
        assert_eq!(known.hosts, ["web01"]);
        assert!(known.knows("web01", "https"));
        assert!(!known.knows("web01", "ssh"));
        assert_eq!(
            known.downtime,
            [(
                "web01".to_owned(),
                Some("https".to_owned()),
                "change CMB-7: nginx".to_owned()
            )]
        );
    }

    #[test]
    fn an_empty_or_foreign_status_file_is_not_nagios_knowing_no_hosts() {
        assert!(parse_status("").is_none());
        assert!(parse_status("hoststatus {\n\thost_name=web01\n\t}\n").is_none());
        assert!(parse_status("[global]\nkey=value\n").is_none());
    }
}
