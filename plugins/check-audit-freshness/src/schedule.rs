//! `--schedule CRON --tz ZONE --grace DURATION`: instead of a fixed age,
//! the newest event must be from the last scheduled run on, once that run
//! is past its grace. A nightly `0 2 * * *` job with `--grace 30m` is fresh
//! all day after it ran, and late from 02:30 until it runs.
//!
//! croner matches the pattern against local (civil) times; jiff and the tz
//! database turn those into instants. The DST rule: every local time the
//! pattern names is expected exactly once, at the instant jiff's
//! "compatible" rule gives it (RFC 5545's, Temporal's):
//! - a local time that does not exist (spring forward: 02:30 on the last
//!   Sunday of March in Europe/Berlin) is expected once, the gap's length
//!   later (03:30 CEST), as Vixie cron runs it right after the change;
//! - a local time that occurs twice (fall back: 02:30 on the last Sunday of
//!   October) is expected once, at its first occurrence (02:30 CEST); the
//!   repeated hour expects nothing again.

use std::str::FromStr as _;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use croner::Cron;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// How far around "now" local times are searched for runs: more than any
/// DST shift, so a run the clock change moved is never missed.
const SHIFT_MARGIN: SignedDuration = SignedDuration::from_hours(3);

/// Runs looked at before giving up (a pattern such as `0 0 30 2 *` never
/// matches).
const MAX_STEPS: usize = 1000;

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    text: String,
    zone: TimeZone,
    grace: Duration,
}

/// Which run the newest event must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The scheduled instant of that run.
    pub run: Timestamp,
    /// Events from this instant on count for it: the run less the
    /// tolerated early clock (`--max-skew`).
    pub required_from: Timestamp,
    /// The run's deadline: the run plus grace.
    pub deadline: Timestamp,
}

impl Schedule {
    /// `pattern` (five fields: minute hour day month weekday; six with
    /// seconds first) in `zone`.
    pub fn new(pattern: &str, zone: TimeZone, grace: Duration) -> Result<Schedule, String> {
        let cron = Cron::from_str(pattern)
            .map_err(|e| format!("--schedule {pattern:?} is not a cron pattern: {e}"))?;
        Ok(Schedule {
            cron,
            text: pattern.to_owned(),
            zone,
            grace,
        })
    }

    /// The pattern as given.
    #[must_use]
    pub fn pattern(&self) -> &str {
        &self.text
    }

    /// The zone's name, for messages.
    #[must_use]
    pub fn zone_name(&self) -> &str {
        self.zone.iana_name().unwrap_or("the local zone")
    }

    /// `2026-12-03 02:00 CET`: an instant in the schedule's zone.
    #[must_use]
    pub fn local(&self, at: Timestamp) -> String {
        at.to_zoned(self.zone.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// The newest scheduled run at or before `now`.
    #[must_use]
    pub fn previous_run(&self, now: Timestamp) -> Option<Timestamp> {
        let civil = |t: Timestamp| t.to_zoned(self.zone.clone()).datetime();
        let mut cursor = civil(now.checked_add(SHIFT_MARGIN).ok()?);
        let floor = civil(now.checked_sub(SHIFT_MARGIN).ok()?);
        let mut best: Option<Timestamp> = None;
        for _ in 0..MAX_STEPS {
            let found = self
                .cron
                .find_previous_occurrence(&to_chrono(cursor)?, true)
                .ok()?;
            let local = from_chrono(found)?;
            let instant = self
                .zone
                .to_ambiguous_zoned(local)
                .compatible()
                .ok()?
                .timestamp();
            if instant <= now && best.is_none_or(|b| instant > b) {
                best = Some(instant);
            }
            // Past the margin, no earlier local time maps after this one.
            if best.is_some() && local < floor {
                return best;
            }
            cursor = local.checked_sub(SignedDuration::from_secs(1)).ok()?;
        }
        best
    }

    /// The run the newest event must answer at `now`: the newest run
    /// whose grace has ended, or, within a run's grace, the one before.
    /// `early` is how much earlier than the run an event may be (a clock
    /// a little fast) and still count.
    #[must_use]
    pub fn due(&self, now: Timestamp, early: Duration) -> Option<Due> {
        let grace = SignedDuration::try_from(self.grace).ok()?;
        let latest = self.previous_run(now)?;
        let run = if now < latest.checked_add(grace).ok()? {
            self.previous_run(latest.checked_sub(SignedDuration::from_secs(1)).ok()?)?
        } else {
            latest
        };
        Some(Due {
            run,
            required_from: run
                .checked_sub(SignedDuration::try_from(early).ok()?)
                .ok()?,
            deadline: run.checked_add(grace).ok()?,
        })
    }
}

/// A local time handed to croner as if in UTC: croner only matches its
/// fields; the zone is applied by jiff.
fn to_chrono(civil: DateTime) -> Option<chrono::DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(
        i32::from(civil.year()),
        u32::try_from(civil.month()).ok()?,
        u32::try_from(civil.day()).ok()?,
    )?;
    let time = date.and_hms_opt(
        u32::try_from(civil.hour()).ok()?,
        u32::try_from(civil.minute()).ok()?,
        u32::try_from(civil.second()).ok()?,
    )?;
    Some(time.and_utc())
}

fn from_chrono(at: chrono::DateTime<Utc>) -> Option<DateTime> {
    use chrono::{Datelike as _, Timelike as _};
    DateTime::new(
        i16::try_from(at.year()).ok()?,
        i8::try_from(at.month()).ok()?,
        i8::try_from(at.day()).ok()?,
        i8::try_from(at.hour()).ok()?,
        i8::try_from(at.minute()).ok()?,
        i8::try_from(at.second()).ok()?,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn schedule(pattern: &str, zone: &str, grace_minutes: u64) -> Schedule {
        Schedule::new(
            pattern,
            TimeZone::get(zone).unwrap(),
            Duration::from_mins(grace_minutes),
        )
        .unwrap()
    }

    #[test]
    fn a_nightly_job_is_fresh_all_day_and_late_after_its_grace() {
        let nightly = schedule("0 2 * * *", "Europe/Berlin", 30);
        // 02:00 CET is 01:00Z in December.
        let due = nightly
            .due(at("2026-12-03T12:00:00Z"), Duration::ZERO)
            .unwrap();
        assert_eq!(due.run, at("2026-12-03T01:00:00Z"));
        assert_eq!(due.deadline, at("2026-12-03T01:30:00Z"));
        // Within the grace (02:29:59 local), yesterday's run is the one due.
        let early = nightly
            .due(at("2026-12-03T01:29:59Z"), Duration::ZERO)
            .unwrap();
        assert_eq!(early.run, at("2026-12-02T01:00:00Z"));
        // At exactly 02:30 the grace is over.
        let late = nightly
            .due(at("2026-12-03T01:30:00Z"), Duration::ZERO)
            .unwrap();
        assert_eq!(late.run, at("2026-12-03T01:00:00Z"));
        // An event a minute before the run counts with --max-skew 5m.
        let skewed = nightly
            .due(at("2026-12-03T12:00:00Z"), Duration::from_mins(5))
            .unwrap();
        assert_eq!(skewed.required_from, at("2026-12-03T00:55:00Z"));
    }

    #[test]
    fn around_midnight_and_new_year() {
        let midnight = schedule("0 0 * * *", "UTC", 10);
        let due = midnight
            .due(at("2027-01-01T00:05:00Z"), Duration::ZERO)
            .unwrap();
        assert_eq!(due.run, at("2026-12-31T00:00:00Z"));
        let due = midnight
            .due(at("2027-01-01T00:10:00Z"), Duration::ZERO)
            .unwrap();
        assert_eq!(due.run, at("2027-01-01T00:00:00Z"));
        let late_evening = schedule("55 23 * * *", "UTC", 10);
        let due = late_evening
            .due(at("2027-01-01T00:04:59Z"), Duration::ZERO)
            .unwrap();
        assert_eq!(due.run, at("2026-12-30T23:55:00Z"));
        let due = late_evening
            .due(at("2027-01-01T00:05:00Z"), Duration::ZERO)
            .unwrap();
        assert_eq!(due.run, at("2026-12-31T23:55:00Z"));
    }

    #[test]
    fn spring_forward_a_missing_local_time_is_expected_once_after_the_gap() {
        // Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST.
        let berlin = schedule("30 2 * * *", "Europe/Berlin", 0);
        let runs: Vec<_> = [
            "2026-03-29T01:00:00Z",
            "2026-03-29T01:29:59Z",
            "2026-03-29T01:30:00Z",
            "2026-03-30T00:29:59Z",
            "2026-03-30T00:30:00Z",
        ]
        .iter()
        .map(|now| berlin.previous_run(at(now)).unwrap())
        .collect();
        assert_eq!(
            runs,
            [
                at("2026-03-28T01:30:00Z"), // 02:30 CET the day before
                at("2026-03-28T01:30:00Z"),
                at("2026-03-29T01:30:00Z"), // 03:30 CEST: the gap's length later
                at("2026-03-29T01:30:00Z"),
                at("2026-03-30T00:30:00Z"), // 02:30 CEST
            ]
        );
        // America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT.
        let new_york = schedule("30 2 * * *", "America/New_York", 0);
        assert_eq!(
            new_york.previous_run(at("2026-03-08T08:00:00Z")).unwrap(),
            at("2026-03-08T07:30:00Z") // 03:30 EDT
        );
        assert_eq!(
            new_york.previous_run(at("2026-03-08T07:29:59Z")).unwrap(),
            at("2026-03-07T07:30:00Z") // 02:30 EST the day before
        );
    }

    #[test]
    fn fall_back_a_doubled_local_time_is_expected_once_at_its_first() {
        // Europe/Berlin, 2026-10-25: 03:00 CEST becomes 02:00 CET.
        let berlin = schedule("30 2 * * *", "Europe/Berlin", 0);
        // 02:30 CEST is 00:30Z; 02:30 CET (the second) would be 01:30Z.
        assert_eq!(
            berlin.previous_run(at("2026-10-25T00:30:00Z")).unwrap(),
            at("2026-10-25T00:30:00Z")
        );
        // During the repeated hour (02:10 CET, local time behind the run):
        // still the first 02:30, never yesterday's.
        assert_eq!(
            berlin.previous_run(at("2026-10-25T01:10:00Z")).unwrap(),
            at("2026-10-25T00:30:00Z")
        );
        // After the second 02:30: no second run.
        assert_eq!(
            berlin.previous_run(at("2026-10-25T01:45:00Z")).unwrap(),
            at("2026-10-25T00:30:00Z")
        );
        // America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST.
        let new_york = schedule("30 1 * * *", "America/New_York", 0);
        assert_eq!(
            new_york.previous_run(at("2026-11-01T06:45:00Z")).unwrap(), // 01:45 EST
            at("2026-11-01T05:30:00Z")                                  // 01:30 EDT
        );
        let hourly = schedule("0 * * * *", "America/New_York", 0);
        // 01:00 EST (06:00Z) repeats 01:00 EDT (05:00Z): not expected again.
        assert_eq!(
            hourly.previous_run(at("2026-11-01T06:30:00Z")).unwrap(),
            at("2026-11-01T05:00:00Z")
        );
        assert_eq!(
            hourly.previous_run(at("2026-11-01T07:00:00Z")).unwrap(),
            at("2026-11-01T07:00:00Z")
        );
    }

    #[test]
    fn bad_patterns_and_never_matching_ones() {
        let bad = Schedule::new("0 25 * * *", TimeZone::UTC, Duration::ZERO).unwrap_err();
        assert!(bad.contains("is not a cron pattern"), "{bad}");
        assert!(Schedule::new("nightly", TimeZone::UTC, Duration::ZERO).is_err());
        let never = schedule("0 0 30 2 *", "UTC", 0);
        assert_eq!(never.previous_run(at("2026-12-03T00:00:00Z")), None);
    }

    #[test]
    fn local_times_for_messages() {
        let nightly = schedule("0 2 * * *", "Europe/Berlin", 30);
        assert_eq!(
            nightly.local(at("2026-12-03T01:00:00Z")),
            "2026-12-03 02:00 CET"
        );
        assert_eq!(nightly.zone_name(), "Europe/Berlin");
    }
}
