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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::record::parse_markdown;
    use crate::when::parse_time;

    const FREEZE: &str =
        "zone: Europe/Berlin\nyearly:\n  - name: year-end\n    from: 12-20\n    to: 01-02\n";

    /// A change by alice on web01; `front` adds or overrides front matter.
    fn change(front: &str, approved_by: &str) -> Change {
        let text = format!(
            "---\nid: C-1\nsummary: swap disks\nauthor: alice\nhosts: [web01]\nstakeholders: [web-team]\n{front}\n---\n## Roll-back plan\nput the old disk back\nreboot\ncheck md0\nwatch it\n"
        );
        let mut change = parse_markdown(Path::new("c-1.md"), &text).unwrap();
        if !approved_by.is_empty() {
            change.approvals.push(crate::record::Approval {
                by: approved_by.into(),
                at: None,
                digest: Some(change.digest.clone()),
            });
        }
        change
    }

    fn rules(at: &str) -> Rules {
        Rules {
            now: parse_time(at).unwrap().timestamp,
            horizon: Duration::from_hours(24),
            overrun_critical: Duration::from_mins(30),
            require: Vec::new(),
        }
    }

    fn verdict(change: &Change, at: &str) -> Vec<(State, String)> {
        let freeze = Calendar::parse("freeze.yaml", FREEZE).unwrap();
        judge(change, &rules(at), &freeze)
            .into_iter()
            .map(|f| (f.state, f.summary))
            .collect()
    }

    fn worst(change: &Change, at: &str) -> State {
        State::worst_of(verdict(change, at).into_iter().map(|(s, _)| s))
    }

    const WINDOW: &str =
        "window:\n  start: 2026-12-02 14:00 Europe/Berlin\n  end: 2026-12-02 15:00 Europe/Berlin";

    #[test]
    fn in_progress_needs_someone_other_than_the_author() {
        let at = "2026-12-02 14:30 Europe/Berlin";
        let front = format!("status: in-progress\n{WINDOW}");
        assert_eq!(worst(&change(&front, "bob"), at), State::Ok);
        assert_eq!(
            verdict(&change(&front, ""), at),
            [(State::Critical, "C-1 in progress without approval".into())]
        );
        for spelling in ["alice", "Alice", " a lice ", "ALICE"] {
            assert_eq!(
                verdict(&change(&front, spelling), at),
                [(
                    State::Critical,
                    "C-1 in progress, approved only by its author alice".into()
                )],
                "{spelling:?}"
            );
        }
    }

    #[test]
    fn a_plan_edited_after_its_lgtm_is_critical() {
        let mut edited = change(&format!("status: approved\n{WINDOW}"), "bob");
        edited.digest = "sha256:changed".into();
        let found = verdict(&edited, "2026-12-02 10:00 Europe/Berlin");
        assert_eq!(
            found[0],
            (State::Critical, "C-1 plan changed after bob's LGTM".into())
        );
        // A second reviewer who read the new plan makes it valid again.
        edited.approvals.push(crate::record::Approval {
            by: "carol".into(),
            at: None,
            digest: Some("sha256:changed".into()),
        });
        assert_eq!(worst(&edited, "2026-12-02 10:00 Europe/Berlin"), State::Ok);
    }

    #[test]
    fn window_boundaries_are_exact() {
        let c = change(&format!("status: in-progress\n{WINDOW}"), "bob");
        assert_eq!(
            worst(&c, "2026-12-02 13:59:59 Europe/Berlin"),
            State::Critical
        );
        assert_eq!(
            verdict(&c, "2026-12-02 13:59:59 Europe/Berlin")[0].1,
            "C-1 in progress 1s before its window opens (2026-12-02 14:00 CET)"
        );
        assert_eq!(worst(&c, "2026-12-02 14:00 Europe/Berlin"), State::Ok);
        assert_eq!(worst(&c, "2026-12-02 15:00 Europe/Berlin"), State::Ok);
        assert_eq!(
            worst(&c, "2026-12-02 15:00:01 Europe/Berlin"),
            State::Warning
        );
        assert_eq!(worst(&c, "2026-12-02 15:30 Europe/Berlin"), State::Warning);
        assert_eq!(
            worst(&c, "2026-12-02 15:30:01 Europe/Berlin"),
            State::Critical
        );
        let freeze = Calendar::default();
        let overrun = judge(&c, &rules("2026-12-02 15:10 Europe/Berlin"), &freeze);
        assert_eq!(overrun[0].summary, "C-1 overran its window by 10m");
        assert_eq!(
            overrun[0].detail.as_deref(),
            Some(
                "C-1 overran its window by 10m (ended 2026-12-02 15:00 CET): roll back: put the old disk back / reboot / check md0 …; call alice, stakeholders web-team"
            )
        );
    }

    #[test]
    fn freezes_stop_work_unless_excepted() {
        let window = "window:\n  start: 2026-12-21 10:00 Europe/Berlin\n  end: 2026-12-21 11:00 Europe/Berlin";
        let at = "2026-12-21 10:30 Europe/Berlin";
        let running = change(&format!("status: in-progress\n{window}"), "bob");
        assert_eq!(
            verdict(&running, at),
            [(
                State::Critical,
                "C-1 in progress in freeze year-end without an exception".into()
            )]
        );
        let excepted = change(
            &format!("status: in-progress\nfreeze_exception: true\n{window}"),
            "bob",
        );
        assert_eq!(worst(&excepted, at), State::Ok);
        let planned = change(&format!("status: approved\n{window}"), "bob");
        assert_eq!(
            verdict(&planned, "2026-12-01 10:00 Europe/Berlin"),
            [(
                State::Warning,
                "C-1 scheduled inside freeze year-end".into()
            )]
        );
        // A window ending as the freeze starts is not inside it.
        let before = "window:\n  start: 2026-12-19 23:00 Europe/Berlin\n  end: 2026-12-20 00:00 Europe/Berlin";
        let planned = change(&format!("status: approved\n{before}"), "bob");
        assert_eq!(worst(&planned, "2026-12-19 10:00 Europe/Berlin"), State::Ok);
    }

    #[test]
    fn an_ended_window_that_stayed_approved_warns() {
        let c = change(&format!("status: approved\n{WINDOW}"), "bob");
        assert_eq!(worst(&c, "2026-12-02 14:59:59 Europe/Berlin"), State::Ok);
        assert_eq!(
            verdict(&c, "2026-12-02 17:00 Europe/Berlin"),
            [(
                State::Warning,
                "C-1 window ended 2h ago, still approved".into()
            )]
        );
        let done = change(&format!("status: done\n{WINDOW}"), "bob");
        assert!(verdict(&done, "2026-12-02 17:00 Europe/Berlin").is_empty());
    }

    #[test]
    fn required_plans_and_the_horizon() {
        let c = change(&format!("status: approved\n{WINDOW}"), "bob");
        let mut strict = rules("2026-12-01 14:00 Europe/Berlin");
        strict.require = vec![Plan::Rollback, Plan::Test];
        let found = judge(&c, &strict, &Calendar::default());
        assert_eq!(found[0].summary, "C-1 has no test plan");
        assert_eq!(found[0].state, State::Warning);
        assert_eq!(
            verdict(&c, "2026-12-01 14:00 Europe/Berlin"),
            [(
                State::Ok,
                "C-1 starts in 24h (2026-12-02 14:00 CET), stakeholders web-team".into()
            )]
        );
        assert!(
            verdict(&c, "2026-12-01 13:59:59 Europe/Berlin").is_empty(),
            "beyond the horizon"
        );
    }

    #[test]
    fn windows_across_dst_midnight_and_new_year() {
        // Berlin falls back inside this window: 01:30 to 03:30 is 3 hours.
        let fall = "window:\n  start: 2026-10-25 01:30 Europe/Berlin\n  end: 2026-10-25 03:30 Europe/Berlin";
        let c = change(&format!("status: in-progress\n{fall}"), "bob");
        assert_eq!(worst(&c, "2026-10-25T02:29:00Z"), State::Ok, "03:29 CET");
        assert_eq!(worst(&c, "2026-10-25T02:30:01Z"), State::Warning);
        // New York springs forward inside this one: 01:30 to 03:30 is 1 hour.
        let spring = "window:\n  start: 2026-03-08 01:30 America/New_York\n  end: 2026-03-08 03:30 America/New_York";
        let c = change(&format!("status: in-progress\n{spring}"), "bob");
        assert_eq!(
            worst(&c, "2026-03-08T07:30:00Z"),
            State::Ok,
            "03:30 EDT is the end"
        );
        assert_eq!(worst(&c, "2026-03-08T07:30:01Z"), State::Warning);
        // Berlin springs forward inside this one: 01:30 to 03:30 is 1 hour.
        let spring = "window:\n  start: 2026-03-29 01:30 Europe/Berlin\n  end: 2026-03-29 03:30 Europe/Berlin";
        let c = change(&format!("status: in-progress\n{spring}"), "bob");
        assert_eq!(
            worst(&c, "2026-03-29T01:30:00Z"),
            State::Ok,
            "03:30 CEST is the end"
        );
        assert_eq!(worst(&c, "2026-03-29T01:30:01Z"), State::Warning);
        // New York falls back inside this one: 00:30 to 01:30 EST is 2 hours;
        // the end needs its offset, the second 01:30.
        let fall = "window:\n  start: 2026-11-01 00:30 America/New_York\n  end: 2026-11-01 01:30 -05:00 America/New_York";
        let c = change(&format!("status: in-progress\n{fall}"), "bob");
        assert_eq!(worst(&c, "2026-11-01T06:30:00Z"), State::Ok);
        assert_eq!(worst(&c, "2026-11-01T06:30:01Z"), State::Warning);
        // Across midnight and New Year, in Tokyo.
        let year = "window:\n  start: 2026-12-31 23:00 Asia/Tokyo\n  end: 2027-01-01 01:00 Asia/Tokyo\nfreeze_exception: true";
        let c = change(&format!("status: in-progress\n{year}"), "bob");
        assert_eq!(worst(&c, "2027-01-01 00:59 Asia/Tokyo"), State::Ok);
        assert_eq!(worst(&c, "2026-12-31 22:59 Asia/Tokyo"), State::Critical);
        assert_eq!(worst(&c, "2027-01-01 01:31 Asia/Tokyo"), State::Critical);
    }
}
