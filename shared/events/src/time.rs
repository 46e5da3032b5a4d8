//! Event times as logs write them: RFC 3339 (with or without an offset),
//! epoch seconds or milliseconds, and syslog's `Nov 24 00:15:23`, which has
//! no year and no zone.
//!
//! Rules, where the text leaves the answer open:
//! - A time without an offset is in the log's zone ([`TimeContext::zone`]:
//!   `--log-tz`, the system's zone by default).
//! - Epoch numbers of 100 000 000 000 and more are milliseconds (as seconds
//!   that is the year 5138; as milliseconds, 1973), smaller ones seconds;
//!   a fraction is kept.
//! - A syslog time takes the year of "now" in the log's zone, unless that
//!   puts it more than [`SYSLOG_FUTURE`] ahead of now: then it is last
//!   year's (a December line read in January). A clock a few minutes fast
//!   still reads as the future, so skew stays visible.

use std::time::Duration;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// How far ahead of now a year-less syslog time may be before it is taken
/// as last year's.
pub const SYSLOG_FUTURE: Duration = Duration::from_hours(7 * 24);

/// Epoch numbers at or above this are milliseconds.
const MILLIS_FROM: f64 = 1e11;

/// What a time without a year or zone is read against.
#[derive(Debug, Clone)]
pub struct TimeContext {
    /// The reading instant: a year-less syslog time is placed before it.
    pub now: Timestamp,
    /// The zone of times written without an offset.
    pub zone: TimeZone,
}

impl TimeContext {
    #[must_use]
    pub fn new(now: Timestamp, zone: TimeZone) -> TimeContext {
        TimeContext { now, zone }
    }

    /// Now, in UTC: for tests and logs that write offsets.
    #[must_use]
    pub fn utc(now: Timestamp) -> TimeContext {
        TimeContext::new(now, TimeZone::UTC)
    }
}

/// Why a text is not a time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not a time (expected RFC 3339 such as 2026-11-24T00:15:23Z, epoch seconds or milliseconds, or syslog's Nov 24 00:15:23)"
)]
pub struct TimeError {
    pub text: String,
}

/// Parses any of the supported forms.
pub fn parse_time(text: &str, context: &TimeContext) -> Result<Timestamp, TimeError> {
    let trimmed = text.trim();
    let error = || TimeError {
        text: trimmed.chars().take(60).collect(),
    };
    if trimmed.is_empty() {
        return Err(error());
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let number: f64 = trimmed.parse().map_err(|_| error())?;
        return epoch(number).ok_or_else(error);
    }
    if trimmed.as_bytes()[0].is_ascii_digit() {
        if let Ok(at) = trimmed.parse::<Timestamp>() {
            return Ok(at);
        }
        // No offset: a civil time in the log's zone.
        let civil: DateTime = trimmed.parse().map_err(|_| error())?;
        return civil
            .to_zoned(context.zone.clone())
            .map(|z| z.timestamp())
            .map_err(|_| error());
    }
    syslog(trimmed, context).ok_or_else(error)
}

/// A JSON value as a time: a string in any supported form, or an epoch
/// number.
pub fn time_of_value(
    value: &serde_json::Value,
    context: &TimeContext,
) -> Result<Timestamp, TimeError> {
    match value {
        serde_json::Value::String(text) => parse_time(text, context),
        serde_json::Value::Number(number) => {
            number.as_f64().and_then(epoch).ok_or_else(|| TimeError {
                text: number.to_string(),
            })
        }
        other => Err(TimeError {
            text: other.to_string().chars().take(60).collect(),
        }),
    }
}

/// Epoch seconds or milliseconds (by size) as a timestamp.
#[must_use]
pub fn epoch(number: f64) -> Option<Timestamp> {
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    let millis = if number >= MILLIS_FROM {
        number
    } else {
        number * 1000.0
    };
    if millis > 253_402_300_799_000.0 {
        return None; // past the year 9999
    }
    #[allow(clippy::cast_possible_truncation)] // bounded just above
    Timestamp::from_millisecond(millis.round() as i64).ok()
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Nov 24 00:15:23` (the day may be space-padded, the seconds may carry a
/// fraction), placed in the year that is not more than [`SYSLOG_FUTURE`]
/// after now.
fn syslog(text: &str, context: &TimeContext) -> Option<Timestamp> {
    let mut parts = text.split_ascii_whitespace();
    let month = parts.next()?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
    let day: i8 = parts.next()?.parse().ok()?;
    let clock = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let time: Time = clock.parse().ok()?;
    let now = context.now.to_zoned(context.zone.clone());
    let month = i8::try_from(month + 1).ok()?;
    let limit = context.now.checked_add(SYSLOG_FUTURE).ok()?;
    // This year unless that is too far ahead; Feb 29 looks back for a leap year.
    for year in (now.year() - 4..=now.year()).rev() {
        let Ok(date) = Date::new(year, month, day) else {
            continue;
        };
        let zoned: Zoned = date.to_datetime(time).to_zoned(context.zone.clone()).ok()?;
        if zoned.timestamp() <= limit {
            return Some(zoned.timestamp());
        }
    }
    None
}

/// The time a text log line starts with, and where its rest begins: an
/// RFC 3339 first word (`2026-11-24T00:15:23.123+01:00 host sudo: …`, the
/// high-precision format of rsyslog) or a syslog prefix
/// (`Nov 24 00:15:23 host sudo: …`).
#[must_use]
pub fn leading_time(line: &str, context: &TimeContext) -> Option<(Timestamp, usize)> {
    let first = line.split_ascii_whitespace().next()?;
    if first.as_bytes().first()?.is_ascii_digit() {
        let at = parse_time(first, context).ok()?;
        let end = line.find(first)? + first.len();
        return Some((at, end));
    }
    // `Nov 24 00:15:23` or `Nov  4 00:15:23`: three words.
    let mut end = 0;
    let mut words = 0;
    let bytes = line.as_bytes();
    while words < 3 {
        while end < bytes.len() && bytes[end] == b' ' {
            end += 1;
        }
        if end == bytes.len() {
            return None;
        }
        while end < bytes.len() && bytes[end] != b' ' {
            end += 1;
        }
        words += 1;
    }
    let at = syslog(line.get(..end)?, context)?;
    Some((at, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn utc(now: &str) -> TimeContext {
        TimeContext::utc(at(now))
    }

    #[test]
    fn rfc3339_with_and_without_offsets() {
        let context = TimeContext::new(
            at("2026-11-24T12:00:00Z"),
            TimeZone::get("Europe/Berlin").unwrap(),
        );
        assert_eq!(
            parse_time("2026-11-24T00:15:23+01:00", &context).unwrap(),
            at("2026-11-23T23:15:23Z")
        );
        assert_eq!(
            parse_time("2026-11-24T00:15:23.5Z", &context).unwrap(),
            at("2026-11-24T00:15:23.5Z")
        );
        // No offset: in the log's zone (Berlin is UTC+1 in November).
        assert_eq!(
            parse_time("2026-11-24 00:15:23", &context).unwrap(),
            at("2026-11-23T23:15:23Z")
        );
    }

    #[test]
    fn epoch_seconds_and_milliseconds_by_size() {
        let context = utc("2026-11-24T12:00:00Z");
        assert_eq!(
            parse_time("1795514400", &context).unwrap(),
            at("2026-11-24T10:00:00Z")
        );
        assert_eq!(
            parse_time("1795514400123", &context).unwrap(),
            at("2026-11-24T10:00:00.123Z")
        );
        assert_eq!(
            parse_time("1795514400.25", &context).unwrap(),
            at("2026-11-24T10:00:00.25Z")
        );
        assert_eq!(
            time_of_value(&serde_json::json!(1_795_514_400_000_i64), &context).unwrap(),
            at("2026-11-24T10:00:00Z")
        );
        assert!(time_of_value(&serde_json::json!(true), &context).is_err());
        assert!(parse_time("1.2.3", &context).is_err());
        assert!(parse_time("", &context).is_err());
    }

    #[test]
    fn syslog_times_take_the_year_that_is_not_ahead() {
        let context = utc("2026-11-24T12:00:00Z");
        assert_eq!(
            parse_time("Nov 24 00:15:23", &context).unwrap(),
            at("2026-11-24T00:15:23Z")
        );
        assert_eq!(
            parse_time("Nov  4 00:15:23", &context).unwrap(),
            at("2026-11-04T00:15:23Z")
        );
        // A December line read in January is last year's.
        let january = utc("2027-01-01T00:05:00Z");
        assert_eq!(
            parse_time("Dec 31 23:59:58", &january).unwrap(),
            at("2026-12-31T23:59:58Z")
        );
        assert_eq!(
            parse_time("Jan  1 00:04:00", &january).unwrap(),
            at("2027-01-01T00:04:00Z")
        );
        // A clock ten minutes fast stays in the future, to be seen as skew.
        assert_eq!(
            parse_time("Jan  1 00:15:00", &january).unwrap(),
            at("2027-01-01T00:15:00Z")
        );
        // Feb 29 in a year without one: the last leap year.
        assert_eq!(
            parse_time("Feb 29 10:00:00", &january).unwrap(),
            at("2024-02-29T10:00:00Z")
        );
        assert!(parse_time("Foo 24 00:15:23", &context).is_err());
        assert!(parse_time("Nov 31 00:15:23", &context).is_err());
    }

    #[test]
    fn syslog_times_are_in_the_logs_zone() {
        let context = TimeContext::new(
            at("2026-07-01T12:00:00Z"),
            TimeZone::get("America/New_York").unwrap(),
        );
        assert_eq!(
            parse_time("Jul  1 08:00:00", &context).unwrap(),
            at("2026-07-01T12:00:00Z")
        );
    }

    #[test]
    fn leading_times_of_log_lines() {
        let context = utc("2026-11-24T12:00:00Z");
        let line = "Nov 24 00:15:23 db01 sudo: Ansible playbook finished";
        let (time, end) = leading_time(line, &context).unwrap();
        assert_eq!(time, at("2026-11-24T00:15:23Z"));
        assert_eq!(&line[end..], " db01 sudo: Ansible playbook finished");
        let precise = "2026-11-24T00:15:23.123456+01:00 db01 sudo: x";
        let (time, end) = leading_time(precise, &context).unwrap();
        assert_eq!(time, at("2026-11-23T23:15:23.123456Z"));
        assert_eq!(&precise[end..], " db01 sudo: x");
        assert_eq!(leading_time("garbage here", &context), None);
        assert_eq!(leading_time("Nov 24", &context), None);
        assert_eq!(leading_time("", &context), None);
    }

    proptest! {
        #[test]
        fn no_text_panics(text in "\\PC{0,40}") {
            let context = utc("2026-11-24T12:00:00Z");
            let _ = parse_time(&text, &context);
            let _ = leading_time(&text, &context);
        }

        #[test]
        fn rfc3339_round_trips(seconds in 0i64..4_000_000_000, millis in 0i64..1000) {
            let time = Timestamp::from_millisecond(seconds * 1000 + millis).unwrap();
            let context = utc("2026-11-24T12:00:00Z");
            prop_assert_eq!(parse_time(&time.to_string(), &context).unwrap(), time);
            prop_assert_eq!(parse_time(&(seconds * 1000 + millis).to_string(), &context).unwrap(),
                            if seconds * 1000 + millis >= 100_000_000_000 { time } else {
                                Timestamp::from_second(seconds * 1000 + millis).unwrap() });
        }

        #[test]
        fn syslog_never_more_than_a_week_ahead(day in 1i8..=28, month in 1usize..=12, hour in 0u8..24) {
            let context = utc("2027-01-01T00:05:00Z");
            let text = format!("{} {day:2} {hour:02}:00:00", MONTHS[month - 1]);
            let time = parse_time(&text, &context).unwrap();
            prop_assert!(time <= context.now.checked_add(SYSLOG_FUTURE).unwrap());
            prop_assert!(time > context.now.checked_sub(jiff::SignedDuration::from_hours(366 * 24)).unwrap());
        }
    }
}
