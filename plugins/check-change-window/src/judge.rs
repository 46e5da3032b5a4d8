//! The verdict on each change record at one instant: the rules of
//! issue 23, written out where they are decided.
//!
//! Windows are half-open, `[start, end)`: a change may start at its start
//! instant, and at its end instant it is over (an overrun of 0s is none).

use std::time::Duration;

use jiff::Timestamp;
use nightwatch_core::display;
use nightwatch_core::{Finding, State};

use crate::freeze::Calendar;
use crate::record::{Change, Plan, Status};

/// What the rules need besides the records.
#[derive(Debug, Clone)]
pub struct Rules {
    pub now: Timestamp,
    pub horizon: Duration,
    pub overrun_critical: Duration,
    pub require: Vec<Plan>,
}

/// Whether a change carries a valid approval, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalVerdict {
    /// At least one reviewer other than the author approved this plan.
    Valid { by: Vec<String> },
    /// Nobody approved it.
    Missing,
    /// Only the author (or a spelling of the author's name) approved it.
    OnlyAuthor { author: String },
    /// Reviewers approved an earlier plan: the digest no longer matches.
    PlanChanged { by: String },
}

/// Names differing only in case or spaces are the same person.
fn same_person(a: &str, b: &str) -> bool {
    let squash = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    squash(a) == squash(b)
}

/// Judges the approvals. An approval without a digest counts (exports from
/// ticket systems carry none); one with a digest counts only if it matches
/// the plan as it reads now.
#[must_use]
pub fn approval(change: &Change) -> ApprovalVerdict {
    let reviewers: Vec<_> = change
        .approvals
        .iter()
        .filter(|a| !a.by.is_empty())
        .filter(|a| {
            !change
                .author
                .as_deref()
                .is_some_and(|author| same_person(author, &a.by))
        })
        .collect();
    let current: Vec<String> = reviewers
        .iter()
        .filter(|a| a.digest.as_deref().is_none_or(|d| d == change.digest))
        .map(|a| a.by.clone())
        .collect();
    if !current.is_empty() {
        return ApprovalVerdict::Valid { by: current };
    }
    if let Some(stale) = reviewers.first() {
        return ApprovalVerdict::PlanChanged {
            by: stale.by.clone(),
        };
    }
    match (&change.author, change.approvals.is_empty()) {
        (Some(author), false) => ApprovalVerdict::OnlyAuthor {
            author: author.clone(),
        },
        _ => ApprovalVerdict::Missing,
    }
}

/// Approved and still the plan that was approved: may get downtime and
/// covers observed changes.
#[must_use]
pub fn is_approved(change: &Change) -> bool {
    matches!(
        change.status,
        Status::Approved | Status::InProgress | Status::Done | Status::RolledBack
    ) && matches!(approval(change), ApprovalVerdict::Valid { .. })
}

fn span(from: Timestamp, to: Timestamp) -> Duration {
    Duration::try_from(to.duration_since(from).abs()).unwrap_or_default()
}

fn first_lines(text: &str, count: usize) -> String {
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let more = lines.len() > count;
    lines.truncate(count);
    let mut joined = lines.join(" / ");
    if more {
        joined.push_str(" …");
    }
    joined
}

fn stakeholders(change: &Change) -> String {
    if change.stakeholders.is_empty() {
        String::new()
    } else {
        format!(", stakeholders {}", change.stakeholders.join(", "))
    }
}

/// Every finding for one change at `rules.now`; none when it needs no word.
#[must_use]
pub fn judge(change: &Change, rules: &Rules, freeze: &Calendar) -> Vec<Finding> {
    let mut findings = Vec::new();
    let id = &change.id;
    let now = rules.now;
    let verdict = approval(change);
    let active = matches!(change.status, Status::Approved | Status::InProgress);

    if active && let ApprovalVerdict::PlanChanged { by } = &verdict {
        findings.push(
            Finding::new(
                State::Critical,
                format!("{id} plan changed after {by}'s LGTM"),
            )
            .with_detail(format!(
                "{id} plan changed after {by}'s LGTM: the digest is now {} ({})",
                change.digest, change.origin
            )),
        );
    }
    if active {
        let missing: Vec<&str> = rules
            .require
            .iter()
            .filter(|plan| change.plan(**plan).is_none())
            .map(|plan| plan.heading())
            .collect();
        if !missing.is_empty() {
            findings.push(Finding::new(
                State::Warning,
                format!("{id} has no {}", missing.join(", ").to_lowercase()),
            ));
        }
    }

    match change.status {
        Status::InProgress => judge_in_progress(change, rules, freeze, &verdict, &mut findings),
        Status::Approved => {
            if let Some(window) = &change.window {
                let start = window.start.timestamp;
                let end = window.end.timestamp;
                if now >= end {
                    findings.push(Finding::new(
                        State::Warning,
                        format!(
                            "{id} window ended {}, still approved",
                            display::ago(span(end, now))
                        ),
                    ).with_detail(format!(
                        "{id} window ended {} ({}), status still approved: was it done, rolled back or abandoned? {}",
                        display::ago(span(end, now)),
                        window.end,
                        change.origin
                    )));
                } else if !change.freeze_exception {
                    for period in freeze.overlapping(start, end) {
                        findings.push(Finding::new(
                            State::Warning,
                            format!("{id} scheduled inside freeze {}", period.name),
                        ).with_detail(format!(
                            "{id} window {} to {} overlaps freeze {} ({} to {}) without a freeze exception",
                            window.start, window.end, period.name, period.start, period.end
                        )));
                    }
                }
                let approved = matches!(verdict, ApprovalVerdict::Valid { .. });
                if now < end && findings.iter().all(|f| f.state == State::Ok) {
                    if now >= start {
                        findings.push(Finding::new(
                            State::Ok,
                            format!("{id} window open until {}, not started", window.end),
                        ));
                    } else if span(now, start) <= rules.horizon {
                        findings.push(Finding::new(
                            State::Ok,
                            format!(
                                "{id} starts {} ({}){}",
                                display::from_now(span(now, start)),
                                window.start,
                                stakeholders(change)
                            ),
                        ));
                    }
                }
                if !approved && now < end {
                    findings.push(Finding::new(
                        State::Ok,
                        format!("{id} is marked approved but {}: no downtime, covers no observed change", not_approved(&verdict)),
                    ));
                }
            }
        }
        _ => {}
    }
    findings
}

fn not_approved(verdict: &ApprovalVerdict) -> String {
    match verdict {
        ApprovalVerdict::Valid { .. } => "approved".into(),
        ApprovalVerdict::Missing => "has no approval".into(),
        ApprovalVerdict::OnlyAuthor { author } => format!("only its author {author} approved it"),
        ApprovalVerdict::PlanChanged { by } => format!("the plan changed after {by}'s LGTM"),
    }
}

fn judge_in_progress(
    change: &Change,
    rules: &Rules,
    freeze: &Calendar,
    verdict: &ApprovalVerdict,
    findings: &mut Vec<Finding>,
) {
    let id = &change.id;
    let now = rules.now;
    match verdict {
        ApprovalVerdict::Missing => findings.push(Finding::new(
            State::Critical,
            format!("{id} in progress without approval"),
        )),
        ApprovalVerdict::OnlyAuthor { author } => findings.push(Finding::new(
            State::Critical,
            format!("{id} in progress, approved only by its author {author}"),
        )),
        // Already said above, for every active change.
        ApprovalVerdict::PlanChanged { .. } | ApprovalVerdict::Valid { .. } => {}
    }
    if !change.freeze_exception {
        for period in freeze.at(now) {
            findings.push(
                Finding::new(
                    State::Critical,
                    format!(
                        "{id} in progress in freeze {} without an exception",
                        period.name
                    ),
                )
                .with_detail(format!(
                    "{id} in progress in freeze {} ({} to {}) without an approved freeze exception",
                    period.name, period.start, period.end
                )),
            );
        }
    }
    let Some(window) = &change.window else {
        findings.push(Finding::new(
            State::Critical,
            format!("{id} in progress without a window"),
        ));
        return;
    };
    let start = window.start.timestamp;
    let end = window.end.timestamp;
    if now < start {
        findings.push(Finding::new(
            State::Critical,
            format!(
                "{id} in progress {} before its window opens ({})",
                display::duration(span(now, start)),
                window.start
            ),
        ));
    } else if now > end {
        let overrun = span(end, now);
        let state = if overrun > rules.overrun_critical {
            State::Critical
        } else {
            State::Warning
        };
        let rollback = change.plan(Plan::Rollback).map_or_else(
            || "no roll-back plan written".to_owned(),
            |plan| format!("roll back: {}", first_lines(plan, 3)),
        );
        let author = change
            .author
            .as_deref()
            .map_or_else(String::new, |a| format!("; call {a}"));
        findings.push(
            Finding::new(
                state,
                format!("{id} overran its window by {}", display::duration(overrun)),
            )
            .with_detail(format!(
                "{id} overran its window by {} (ended {}): {rollback}{author}{}",
                display::duration(overrun),
                window.end,
                stakeholders(change)
            )),
        );
    } else if findings.is_empty() {
        findings.push(Finding::new(
            State::Ok,
            format!(
                "{id} in progress until {}{}",
                window.end,
                stakeholders(change)
            ),
        ));
    }
}

/// How long from `now` until `at` (zero when it is past).
#[must_use]
pub fn span_until(now: Timestamp, at: Timestamp) -> Duration {
    if at <= now {
        Duration::ZERO
    } else {
        span(now, at)
    }
}
