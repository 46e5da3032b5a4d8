//! From what the source saw to findings: each group's age against the
//! thresholds or the schedule, the expected groups never seen, and clocks
//! ahead. Pure: the snapshots judge fixed data with it.

use std::time::Duration;

use jiff::Timestamp;
use nightwatch_core::display::{ago, duration};
use nightwatch_core::{Finding, Perfdata, Report, State, Thresholds, Uom};
use nightwatch_events::GroupNewest;

use crate::schedule::Schedule;

/// How groups are judged.
#[derive(Debug, Clone)]
pub struct Rules {
    pub thresholds: Thresholds,
    pub schedule: Option<Schedule>,
    pub late_state: State,
    pub max_skew: Duration,
    pub lookback: Duration,
    /// What the events are (`backup`), for messages.
    pub what: Option<String>,
    /// What the groups are, plural (`hosts`), for the all-fresh phrase.
    pub noun: String,
}

/// What the source saw, and what was expected.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub groups: Vec<GroupNewest>,
    pub expected: Vec<String>,
    pub retired: Vec<String>,
    /// Whether the source groups at all.
    pub grouped: bool,
}

/// One row: a group and its newest times.
struct Row {
    name: Option<String>,
    newest: Option<Timestamp>,
    future: Option<Timestamp>,
}

/// Judges every group into `report`.
pub fn judge(observed: &Observed, rules: &Rules, now: Timestamp, report: &mut Report) {
    let retired = |name: &Option<String>| {
        name.as_ref()
            .is_some_and(|n| observed.retired.iter().any(|r| r == n))
    };
    let mut rows: Vec<Row> = observed
        .groups
        .iter()
        .map(|g| Row {
            name: g.group.clone(),
            newest: g.newest.as_ref().map(|e| e.at),
            future: g.future.as_ref().map(|e| e.at),
        })
        .collect();
    for name in &observed.expected {
        if !rows.iter().any(|r| r.name.as_deref() == Some(name)) {
            rows.push(Row {
                name: Some(name.clone()),
                newest: None,
                future: None,
            });
        }
    }
    let (retired_rows, mut rows): (Vec<Row>, Vec<Row>) =
        rows.into_iter().partition(|r| retired(&r.name));
    if rows.is_empty() {
        judge_nothing(observed, &retired_rows, rules, now, report);
        return;
    }
    // Stalest first: never seen, then the oldest.
    rows.sort_by(|a, b| a.newest.cmp(&b.newest).then_with(|| a.name.cmp(&b.name)));
    let due = rules
        .schedule
        .as_ref()
        .and_then(|s| s.due(now, rules.max_skew).map(|d| (s, d)));
    let mut stalest: Option<(String, Duration)> = None;
    for row in &rows {
        let subject = subject(row.name.as_deref(), rules.what.as_deref());
        let Some(newest) = row.newest else {
            let what = rules.what.as_deref().unwrap_or("audit event");
            let label = row.name.as_deref().unwrap_or("the source");
            report.add_finding(Finding::new(
                State::Critical,
                format!("{label}: no {what} in {}", duration(rules.lookback)),
            ));
            report.add_perfdata(age_perfdata(row.name.as_deref(), None, rules));
            add_future(row, now, rules, report);
            continue;
        };
        // Whole seconds: an age reads "31h ago", perfdata has no use for ns.
        let age = Duration::from_secs(
            now.duration_since(newest)
                .try_into()
                .unwrap_or(Duration::ZERO)
                .as_secs(),
        );
        let judged = rules.thresholds.judge_duration(age);
        let mut state = judged.state;
        let mut summary = format!("{subject} last seen {}", ago(age));
        let violation = judged.violation(age.as_secs_f64());
        if !violation.is_empty() {
            summary = format!("{summary}, {violation}");
        }
        if let Some((schedule, due)) = &due
            && newest < due.required_from
        {
            state = state.worst(rules.late_state);
            summary = format!(
                "{subject} missed the run of {} (due by {}), last seen {}",
                schedule.local(due.run),
                schedule.local(due.deadline),
                ago(age)
            );
        }
        if stalest.is_none() {
            stalest = Some((row.name.clone().unwrap_or_default(), age));
        }
        report.add_finding(Finding::new(state, summary));
        report.add_perfdata(age_perfdata(row.name.as_deref(), Some(age), rules));
        add_future(row, now, rules, report);
    }
    if let Some((name, age)) = stalest {
        let worst = if name.is_empty() {
            format!("the oldest {}", ago(age))
        } else {
            format!("the oldest {name} {}", ago(age))
        };
        let things = format!("{} fresh", rules.noun);
        *report = std::mem::replace(report, Report::new("")).with_all_ok_summary(&things, &worst);
    }
    add_retired(&retired_rows, now, report);
}

/// Nothing left to judge: no event at all, or only retired groups.
fn judge_nothing(
    observed: &Observed,
    retired_rows: &[Row],
    rules: &Rules,
    now: Timestamp,
    report: &mut Report,
) {
    let what = rules.what.as_deref().unwrap_or("audit event");
    let summary = if observed.grouped && !retired_rows.is_empty() {
        "every group seen is retired: nothing to judge".to_owned()
    } else if observed.grouped {
        format!("no {what} from any group in {}", duration(rules.lookback))
    } else {
        format!("no {what} in {}", duration(rules.lookback))
    };
    let state = if retired_rows.is_empty() {
        State::Critical
    } else {
        State::Ok
    };
    report.add_finding(Finding::new(state, summary));
    report.add_perfdata(age_perfdata(None, None, rules));
    add_retired(retired_rows, now, report);
}

/// `db01 backup`, `db01`, `backup`, `the newest event`.
fn subject(name: Option<&str>, what: Option<&str>) -> String {
    match (name, what) {
        (Some(name), Some(what)) => format!("{name} {what}"),
        (Some(name), None) => name.to_owned(),
        (None, Some(what)) => what.to_owned(),
        (None, None) => "the newest event".to_owned(),
    }
}

/// A clock ahead: an event beyond --max-skew in the future. It never
/// makes the group fresh (it was not counted as its newest).
fn add_future(row: &Row, now: Timestamp, rules: &Rules, report: &mut Report) {
    let Some(future) = row.future else {
        return;
    };
    let ahead: Duration = future.duration_since(now).try_into().unwrap_or_default();
    let name = row.name.as_deref().unwrap_or("an event");
    report.add_finding(Finding::new(
        State::Warning,
        format!(
            "{name}: an event stamped {} ahead ({future:.0}), beyond --max-skew {}: a clock is wrong",
            duration(ahead),
            duration(rules.max_skew)
        ),
    ));
}

fn add_retired(rows: &[Row], now: Timestamp, report: &mut Report) {
    if rows.is_empty() {
        return;
    }
    let list: Vec<String> = rows
        .iter()
        .map(|r| {
            let name = r.name.as_deref().unwrap_or_default();
            match r.newest {
                Some(at) => format!(
                    "{name} (last seen {})",
                    ago(now.duration_since(at).try_into().unwrap_or_default())
                ),
                None => format!("{name} (not seen)"),
            }
        })
        .collect();
    report.add_detail(format!("retired, not judged: {}", list.join(", ")));
}

/// One age in seconds per group; `U` for one never seen.
fn age_perfdata(name: Option<&str>, age: Option<Duration>, rules: &Rules) -> Perfdata {
    Perfdata::new(name.unwrap_or("age"), age.map(|a| a.as_secs_f64()))
        .with_uom(Uom::Seconds)
        .with_thresholds(&rules.thresholds)
        .with_min(0.0)
}

/// `--require-fields`: the share of the sampled events missing one.
#[derive(Debug, Clone, PartialEq)]
pub struct Completeness {
    pub sampled: usize,
    pub incomplete: usize,
    /// The first incomplete event: its id and the fields it lacks.
    pub example: Option<(String, Vec<String>)>,
}

/// Adds the WARNING (above `max_percent`) and the perfdata for it.
pub fn judge_completeness(
    completeness: &Completeness,
    required: &[String],
    max_percent: f64,
    report: &mut Report,
) {
    if completeness.sampled == 0 {
        return;
    }
    let share = 100.0 * completeness.incomplete as f64 / completeness.sampled as f64;
    let state = if share > max_percent {
        State::Warning
    } else {
        State::Ok
    };
    let mut summary = format!(
        "{} of {} recent events ({}%) lack one of {}",
        completeness.incomplete,
        completeness.sampled,
        nightwatch_core::format_number((share * 10.0).round() / 10.0),
        required.join(", ")
    );
    if let Some((id, missing)) = &completeness.example {
        summary = format!("{summary}, e.g. {id} has no {}", missing.join(", "));
    }
    if state == State::Ok {
        // A detail, not a finding: "40 hosts fresh" counts hosts.
        report.add_detail(summary);
    } else {
        report.add_finding(Finding::new(state, summary));
    }
    report.add_perfdata(
        Perfdata::new("incomplete", Some((share * 100.0).round() / 100.0))
            .with_uom(Uom::Percent)
            .with_min(0.0)
            .with_max(100.0),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use nightwatch_core::AgeThresholdArgs;
    use nightwatch_events::Event;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn rules(warning: &str, critical: &str) -> Rules {
        Rules {
            thresholds: AgeThresholdArgs {
                warning: warning.parse().ok(),
                critical: critical.parse().ok(),
            }
            .thresholds(),
            schedule: None,
            late_state: State::Critical,
            max_skew: Duration::from_mins(5),
            lookback: Duration::from_hours(7 * 24),
            what: None,
            noun: "hosts".into(),
        }
    }

    fn seen(group: &str, newest: &str) -> GroupNewest {
        GroupNewest {
            group: Some(group.into()),
            newest: Some(Event {
                at: at(newest),
                group: Some(group.into()),
                id: None,
                fields: serde_json::Map::new(),
            }),
            future: None,
            count: 1,
        }
    }

    fn state_at(age_from: &str) -> State {
        let observed = Observed {
            groups: vec![seen("db01", age_from)],
            grouped: true,
            ..Observed::default()
        };
        let mut report = Report::new("AUDIT");
        judge(
            &observed,
            &rules("26h", "50h"),
            at("2026-12-03T12:00:00Z"),
            &mut report,
        );
        report.state()
    }

    #[test]
    fn the_exact_boundary_ages() {
        // 26h exactly is still fresh; a second more is not (Nagios: above).
        assert_eq!(state_at("2026-12-02T10:00:00Z"), State::Ok);
        assert_eq!(state_at("2026-12-02T09:59:59Z"), State::Warning);
        assert_eq!(state_at("2026-12-01T10:00:00Z"), State::Warning);
        assert_eq!(state_at("2026-12-01T09:59:59Z"), State::Critical);
        // Within --max-skew ahead reads as just now.
        assert_eq!(state_at("2026-12-03T12:04:00Z"), State::Ok);
    }

    #[test]
    fn expected_never_seen_retired_and_nothing_at_all() {
        let now = at("2026-12-03T12:00:00Z");
        let observed = Observed {
            groups: vec![
                seen("web01", "2026-12-03T11:00:00Z"),
                seen("old01", "2026-11-01T00:00:00Z"),
            ],
            expected: vec!["web01".into(), "db01".into(), "gone01".into()],
            retired: vec!["gone01".into(), "old01".into()],
            grouped: true,
        };
        let mut report = Report::new("AUDIT");
        judge(&observed, &rules("26h", "50h"), now, &mut report);
        let text = report.render();
        assert!(
            text.starts_with("AUDIT CRITICAL: db01: no audit event in 7d\n"),
            "{text}"
        );
        assert!(
            text.contains("retired, not judged: old01 (last seen 32d 12h ago), gone01 (not seen)"),
            "{text}"
        );
        assert!(!text.contains("CRITICAL: gone01"), "{text}");

        let mut empty = Report::new("AUDIT");
        judge(
            &Observed {
                grouped: true,
                ..Observed::default()
            },
            &rules("26h", ""),
            now,
            &mut empty,
        );
        assert_eq!(empty.state(), State::Critical);
        assert!(
            empty
                .render()
                .contains("no audit event from any group in 7d")
        );
    }

    #[test]
    fn completeness_above_the_share_warns() {
        let mut report = Report::new("AUDIT");
        let sample = Completeness {
            sampled: 200,
            incomplete: 3,
            example: Some(("ev-9".into(), vec!["user".into()])),
        };
        judge_completeness(&sample, &["user".into(), "action".into()], 1.0, &mut report);
        assert_eq!(report.state(), State::Warning);
        assert!(report.render().contains(
            "3 of 200 recent events (1.5%) lack one of user, action, e.g. ev-9 has no user"
        ));
        let mut fine = Report::new("AUDIT");
        judge_completeness(&sample, &["user".into()], 1.5, &mut fine);
        assert_eq!(fine.state(), State::Ok);
    }
}
