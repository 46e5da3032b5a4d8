//! What the operator reads: the first line leads with the worst event
//! (`tcp 22 open to 0.0.0.0/0 on sg-0a1b… by alice`), the long text lists
//! the events one a line, risky first, and names what was searched.
//! Built from judged events alone, so snapshot tests need no server.

use std::time::Duration;

use nightwatch_core::display;
use nightwatch_core::{Finding, Perfdata, Report, State, Thresholds};

use crate::event::{Direction, Event, EventError, Permission};
use crate::judge::{Risk, Verdict};

/// A window shorter than this misses events CloudTrail has not delivered
/// yet (S3 delivery takes about 5 minutes, often up to 15).
pub const SHORT_WINDOW: Duration = Duration::from_mins(10);

/// One fetched document, read and judged.
#[derive(Debug, Clone)]
pub struct Judged {
    /// `index/id`, to find the document again.
    pub place: String,
    pub event: Result<Event, EventError>,
    pub verdict: Verdict,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct Found {
    /// Documents matching in the window, as the server counted them.
    pub total: u64,
    /// Those fetched and judged, newest first; empty with `--count-only`.
    pub judged: Vec<Judged>,
    /// Whether events were fetched at all (not `--count-only`).
    pub listed: bool,
}

/// What was asked, for the long text.
#[derive(Debug, Clone)]
pub struct Asked<'a> {
    pub thresholds: &'a Thresholds,
    pub max_events: usize,
    pub window: Duration,
    /// `2026-11-24T23:40:00Z to 2026-11-25T00:10:00Z`.
    pub window_text: String,
    pub date_field: &'a str,
    pub indices: &'a [String],
    pub query: &'a str,
    pub link: Option<String>,
}

/// The report for what was found.
#[must_use]
pub fn build(mut report: Report, found: &Found, asked: &Asked<'_>) -> Report {
    let approved = found.judged.iter().filter(|j| !j.verdict.counted()).count() as u64;
    let counted = found.total.saturating_sub(approved);
    let judgement = asked.thresholds.judge(counted as f64);
    let risky: Vec<&Judged> = found
        .judged
        .iter()
        .filter(|j| !j.verdict.risks.is_empty())
        .collect();
    let unreadable = found.judged.iter().filter(|j| j.event.is_err()).count();
    let unjudged = found.listed && found.total > found.judged.len() as u64;

    let mut state = judgement.state;
    if !risky.is_empty() {
        state = State::Critical;
    }
    if (unreadable > 0 || unjudged) && state == State::Ok {
        state = State::Unknown;
    }

    let window = display::duration(asked.window);
    let summary = if let Some(first) = risky.first() {
        match risky.len() - 1 {
            0 => risk_summary(first),
            more => format!("{} (+{more} more)", risk_summary(first)),
        }
    } else if state == State::Unknown && unjudged {
        format!(
            "only the newest {} of {} matches judged in the last {window}",
            found.judged.len(),
            found.total
        )
    } else if state == State::Unknown {
        format!("{unreadable} matching documents are not CloudTrail events")
    } else {
        count_summary(
            found,
            counted,
            &window,
            &judgement.violation(counted as f64),
        )
    };

    // Risky first, then newest first (the order fetched), each line its own.
    let mut ordered: Vec<&Judged> = risky.clone();
    ordered.extend(found.judged.iter().filter(|j| j.verdict.risks.is_empty()));
    for judged in ordered.iter().take(asked.max_events) {
        report.add_finding(event_finding(judged, judgement.state));
    }
    let listed = ordered.len().min(asked.max_events);
    if ordered.len() > listed {
        report.add_detail(format!(
            "… {} more events not listed (--max-events {})",
            ordered.len() - listed,
            asked.max_events
        ));
    }
    if unreadable > 0 {
        report.add_detail(format!(
            "{unreadable} matching documents are not CloudTrail events and were not judged"
        ));
    }
    if unjudged {
        report.add_detail(format!(
            "only the newest {} of {} matches were fetched and judged: risks among the rest are not seen (narrow --query, shorten --window or raise --fetch)",
            found.judged.len(),
            found.total
        ));
    }
    let approved_text = if approved > 0 {
        format!(" ({approved} by approved automation, not counted)")
    } else {
        String::new()
    };
    report.add_detail(format!(
        "{counted} counted of {} matches{approved_text} in {} from {} ({})",
        found.total,
        asked.indices.join(", "),
        asked.window_text,
        asked.date_field
    ));
    report.add_detail(format!("query: {}", asked.query));
    if asked.window < SHORT_WINDOW {
        report.add_detail(format!(
            "note: a {window} window is shorter than CloudTrail's delivery delay (5-15 min): events may never be seen; use --window 30m or more"
        ));
    }
    if let Some(link) = &asked.link {
        report.add_detail(format!("search: {link}"));
    }

    add_perfdata(&mut report, found, counted, approved, asked.thresholds);
    report.with_state(state).with_summary(summary)
}

/// `events` counted against the thresholds; with a listing, how many were
/// world-open, outside the regions, and approved.
fn add_perfdata(
    report: &mut Report,
    found: &Found,
    counted: u64,
    approved: u64,
    thresholds: &Thresholds,
) {
    report.add_perfdata(
        Perfdata::new("events", Some(counted as f64))
            .with_thresholds(thresholds)
            .with_min(0.0),
    );
    if found.listed {
        let world = count_risks(found, |r| matches!(r, Risk::WorldOpen { .. }));
        let regions = count_risks(found, |r| matches!(r, Risk::OutsideRegions { .. }));
        for (label, value) in [
            ("world_open_ingress", world),
            ("outside_regions", regions),
            ("approved", approved),
        ] {
            report.add_perfdata(Perfdata::new(label, Some(value as f64)).with_min(0.0));
        }
    }
}

fn count_risks(found: &Found, kind: impl Fn(&Risk) -> bool) -> u64 {
    found
        .judged
        .iter()
        .filter(|j| j.verdict.risks.iter().any(&kind))
        .count() as u64
}

/// `3 events in 30m, above 0: newest AuthorizeSecurityGroupIngress by alice on sg-1`.
fn count_summary(found: &Found, counted: u64, window: &str, violation: &str) -> String {
    let mut text = match counted {
        0 => format!("no event in the last {window}"),
        1 => format!("1 event in the last {window}"),
        n => format!("{n} events in the last {window}"),
    };
    if !violation.is_empty() {
        text.push_str(", ");
        text.push_str(violation);
    }
    let newest = found
        .judged
        .iter()
        .filter(|j| j.verdict.counted())
        .find_map(|j| j.event.as_ref().ok());
    if let Some(event) = newest {
        text.push_str(": newest ");
        text.push_str(&event_brief(event));
    }
    text
}

/// `AuthorizeSecurityGroupIngress by alice on sg-1`.
fn event_brief(event: &Event) -> String {
    let mut text = format!("{} by {}", event.name, event.principal.short());
    if let Some(group) = event.groups.first() {
        text.push_str(" on ");
        text.push_str(group);
    }
    if event.failed() {
        text.push_str(" (failed)");
    }
    text
}

/// The first line for a risky event.
fn risk_summary(judged: &Judged) -> String {
    let Ok(event) = &judged.event else {
        return "an unreadable event".into();
    };
    let by = event.principal.short();
    match judged.verdict.risks.first() {
        Some(Risk::WorldOpen { what, cidr, group }) => match group {
            Some(group) => format!("{what} open to {cidr} on {group} by {by}"),
            None => format!("{what} open to {cidr} by {by}"),
        },
        Some(Risk::OutsideRegions { region }) => {
            format!("{} in {region} by {by}, a region not in use", event.name)
        }
        None => event_brief(event),
    }
}

fn event_finding(judged: &Judged, count_state: State) -> Finding {
    let event = match &judged.event {
        Ok(event) => event,
        Err(error) => {
            return Finding::new(
                State::Unknown,
                format!("{} is not a CloudTrail event: {error}", judged.place),
            );
        }
    };
    let line = event_line(event);
    if !judged.verdict.risks.is_empty() {
        let why: Vec<String> = judged.verdict.risks.iter().map(risk_reason).collect();
        return Finding::new(State::Critical, risk_summary(judged))
            .with_detail(format!("{}: {line}", why.join(", ")));
    }
    if let Some(pattern) = &judged.verdict.approved_by {
        return Finding::new(State::Ok, event_brief(event))
            .with_detail(format!("approved automation ({pattern}): {line}"));
    }
    Finding::new(count_state, event_brief(event)).with_detail(line)
}

fn risk_reason(risk: &Risk) -> String {
    match risk {
        Risk::WorldOpen { what, cidr, .. } => format!("{what} open to {cidr}"),
        Risk::OutsideRegions { region } => format!("{region} is not a region in use"),
    }
}

/// `2026-11-24T23:55:12Z AuthorizeSecurityGroupIngress by arn:… from
/// 203.0.113.7 in us-east-1: sg-1 tcp 22 from 0.0.0.0/0`.
#[must_use]
pub fn event_line(event: &Event) -> String {
    let mut line = String::new();
    if let Some(time) = &event.time {
        line.push_str(time);
        line.push(' ');
    }
    line.push_str(&event.name);
    line.push_str(" by ");
    line.push_str(&event.principal.identity());
    if let Some(ip) = &event.source_ip {
        line.push_str(" from ");
        line.push_str(ip);
    }
    if let Some(region) = &event.region {
        line.push_str(" in ");
        line.push_str(region);
    }
    if !event.groups.is_empty() || !event.permissions.is_empty() {
        line.push_str(": ");
        line.push_str(&event.groups.join(", "));
        let permissions: Vec<String> = event
            .permissions
            .iter()
            .map(|p| permission_text(p, event.revokes()))
            .collect();
        if !permissions.is_empty() {
            if !event.groups.is_empty() {
                line.push(' ');
            }
            line.push_str(&permissions.join("; "));
        }
    }
    if let Some(error) = &event.error {
        line.push_str(" FAILED ");
        line.push_str(&error.code);
        line.push_str(" (an attempt, not a change)");
    }
    line
}

/// `tcp 22 from 0.0.0.0/0, ::/0`, `egress udp 53 to 0.0.0.0/0`,
/// `removes tcp 22 from 10.0.0.0/8`, `rule sgr-1 now tcp 3389 with …`.
fn permission_text(permission: &Permission, revokes: bool) -> String {
    let peers: Vec<String> = permission.peers.iter().map(ToString::to_string).collect();
    let peers = if peers.is_empty() {
        "no address".to_owned()
    } else {
        peers.join(", ")
    };
    let what = permission.what();
    let verb = if revokes { "removes " } else { "" };
    match permission.direction {
        Direction::Ingress => format!("{verb}{what} from {peers}"),
        Direction::Egress => format!("{verb}egress {what} to {peers}"),
        Direction::Unknown => match &permission.rule_id {
            Some(rule) => format!("rule {rule} now {what} with {peers}"),
            None => format!("{what} with {peers}"),
        },
    }
}
