//! Instants as change records and flags write them: RFC 3339 with an offset
//! (`2026-12-02T13:00:00Z`), or a local time with an IANA zone
//! (`2026-12-02 14:00 Europe/Berlin`), optionally with the offset that picks
//! one of the two readings of a fall-back hour
//! (`2026-10-25 02:30 +01:00 Europe/Berlin`, or RFC 9557's
//! `2026-10-25T02:30+01:00[Europe/Berlin]`).
//!
//! Nothing is ever assumed: a time without a zone or offset, an unknown
//! zone, a local time the clocks skip and an ambiguous one without an offset
//! are all errors. The trackers this replaces shift "now" by today's offset
//! or know only the server's zone; here every instant keeps its own zone.

use std::fmt;
use std::str::FromStr;

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
use jiff::{Timestamp, Zoned};

/// An exact instant and the zone it was written in (for display).
#[derive(Debug, Clone, PartialEq)]
pub struct When {
    pub timestamp: Timestamp,
    pub zone: TimeZone,
}

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("no time given")]
    Empty,
    #[error(
        "'{0}' is not a time: write RFC 3339 (2026-12-02T13:00:00Z) or a local time and an IANA zone (2026-12-02 14:00 Europe/Berlin)"
    )]
    Syntax(String),
    #[error("'{0}' has no zone or offset: add an IANA zone (Europe/Berlin) or an offset (+01:00)")]
    NoZone(String),
    #[error("unknown time zone '{0}' (not in the system's tz database)")]
    UnknownZone(String),
    #[error(
        "{time} does not exist in {zone}: the clocks skip from {before} to {after} (spring forward)"
    )]
    Nonexistent {
        time: String,
        zone: String,
        before: String,
        after: String,
    },
    #[error(
        "{time} happens twice in {zone} (fall back): add the offset, {first} for the first or {second} for the second"
    )]
    Ambiguous {
        time: String,
        zone: String,
        first: String,
        second: String,
    },
    #[error("{time} is not at offset {offset} in {zone} (it is {actual} there then)")]
    WrongOffset {
        time: String,
        offset: String,
        zone: String,
        actual: String,
    },
}

impl When {
    /// The instant in its own zone: `2026-12-02 14:00 CET`.
    #[must_use]
    pub fn local(&self) -> String {
        let zoned = self.timestamp.to_zoned(self.zone.clone());
        let pattern = if zoned.second() == 0 {
            "%Y-%m-%d %H:%M %Z"
        } else {
            "%Y-%m-%d %H:%M:%S %Z"
        };
        zoned.strftime(pattern).to_string()
    }

    /// The instant as it goes into digests: RFC 3339 in UTC and the zone's name.
    #[must_use]
    pub fn canonical(&self) -> String {
        match self.zone.iana_name() {
            Some(name) => format!("{} {name}", self.timestamp),
            None => self.timestamp.to_string(),
        }
    }

    #[must_use]
    pub fn zoned(&self) -> Zoned {
        self.timestamp.to_zoned(self.zone.clone())
    }
}

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.local())
    }
}

impl FromStr for When {
    type Err = TimeError;

    fn from_str(text: &str) -> Result<When, TimeError> {
        parse_time(text)
    }
}

/// Reads a text field with `parse` inside the deserializer's own string
/// visitor, so YAML and JSON errors point at the value itself (its line and
/// field path), not at the mapping that holds it.
pub fn deserialize_parsed<'de, D, T, E>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    E: fmt::Display,
{
    struct Visitor<T, E> {
        expecting: &'static str,
        parse: fn(&str) -> Result<T, E>,
    }
    impl<T, E: fmt::Display> serde::de::Visitor<'_> for Visitor<T, E> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<R: serde::de::Error>(self, text: &str) -> Result<T, R> {
            (self.parse)(text).map_err(R::custom)
        }
        fn visit_i64<R: serde::de::Error>(self, n: i64) -> Result<T, R> {
            (self.parse)(&n.to_string()).map_err(R::custom)
        }
        fn visit_u64<R: serde::de::Error>(self, n: u64) -> Result<T, R> {
            (self.parse)(&n.to_string()).map_err(R::custom)
        }
    }
    deserializer.deserialize_str(Visitor { expecting, parse })
}

impl<'de> serde::Deserialize<'de> for When {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<When, D::Error> {
        deserialize_parsed(deserializer, "a time", parse_time)
    }
}

/// Looks a zone up in the system's tz database; `UTC` and `Z` are zones too.
pub fn zone(name: &str) -> Result<TimeZone, TimeError> {
    if name.eq_ignore_ascii_case("utc") || name == "Z" {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|_| TimeError::UnknownZone(name.to_owned()))
}

fn looks_like_zone(token: &str) -> bool {
    token.contains('/') || token.eq_ignore_ascii_case("utc")
}

fn looks_like_offset(token: &str) -> bool {
    token == "Z"
        || token == "z"
        || ((token.starts_with('+') || token.starts_with('-'))
            && token.len() > 1
            && token[1..].chars().all(|c| c.is_ascii_digit() || c == ':'))
}

/// Reads one instant; see the module docs for the forms accepted.
pub fn parse_time(text: &str) -> Result<When, TimeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(TimeError::Empty);
    }
    // RFC 9557: 2026-10-25T02:30+01:00[Europe/Berlin]
    let (body, bracket_zone) = match text.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
        Some((body, name)) => (body.trim(), Some(name.trim_start_matches('!'))),
        None => (text, None),
    };
    let mut tokens: Vec<&str> = body.split_whitespace().collect();
    let zone_name = match bracket_zone {
        Some(name) => Some(name),
        None if tokens.len() > 1 && tokens.last().is_some_and(|t| looks_like_zone(t)) => {
            tokens.pop()
        }
        None => None,
    };
    let tz = zone_name.map(zone).transpose()?;
    // An offset written apart (`02:30 +01:00`) joins the time it belongs to.
    let offset_token = match tokens.last() {
        Some(last) if tokens.len() > 1 && looks_like_offset(last) => tokens.pop(),
        _ => None,
    };
    let civil_text = tokens.join("T");
    let with_offset = format!("{civil_text}{}", offset_token.unwrap_or(""));
    if let Ok(timestamp) = Timestamp::from_str(&with_offset) {
        let Some(tz) = tz else {
            let offset = parse_offset(offset_of(&with_offset)).unwrap_or(Offset::UTC);
            return Ok(When {
                timestamp,
                zone: TimeZone::fixed(offset),
            });
        };
        let actual = tz.to_offset(timestamp);
        let given = parse_offset(offset_of(&with_offset)).unwrap_or(actual);
        if given != actual {
            return Err(TimeError::WrongOffset {
                time: text.to_owned(),
                offset: given.to_string(),
                zone: zone_name.unwrap_or_default().to_owned(),
                actual: actual.to_string(),
            });
        }
        return Ok(When {
            timestamp,
            zone: tz,
        });
    }
    let civil = DateTime::from_str(&civil_text).map_err(|_| TimeError::Syntax(text.to_owned()))?;
    if offset_token.is_some() {
        // The civil part read but time and offset together did not.
        return Err(TimeError::Syntax(text.to_owned()));
    }
    let Some(tz) = tz else {
        return Err(TimeError::NoZone(text.to_owned()));
    };
    let name = zone_name.unwrap_or_default().to_owned();
    let ambiguous = tz.to_ambiguous_timestamp(civil);
    match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } => Ok(When {
            timestamp: offset
                .to_timestamp(civil)
                .map_err(|_| TimeError::Syntax(text.to_owned()))?,
            zone: tz,
        }),
        AmbiguousOffset::Gap { before, after } => {
            let (skipped_from, skipped_to) = gap_clocks(&tz, civil, before, after);
            Err(TimeError::Nonexistent {
                time: civil_text.replace('T', " "),
                zone: name,
                before: skipped_from,
                after: skipped_to,
            })
        }
        AmbiguousOffset::Fold { before, after } => Err(TimeError::Ambiguous {
            time: civil_text.replace('T', " "),
            zone: name,
            first: before.to_string(),
            second: after.to_string(),
        }),
    }
}

/// `+01:00`, `-0500`, `+02` as an offset.
fn parse_offset(text: &str) -> Option<Offset> {
    let sign: i32 = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(char::is_ascii_digit).collect();
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

/// The offset part of an RFC 3339 text (`Z`, `+01:00`), after the time.
fn offset_of(text: &str) -> &str {
    if text.ends_with(['Z', 'z']) {
        return "+00:00";
    }
    let time_start = text.find(['T', 't']).unwrap_or(0);
    match text[time_start..].rfind(['+', '-']) {
        Some(at) => &text[time_start + at..],
        None => "+00:00",
    }
}

/// The wall-clock times either side of the spring-forward gap `civil`
/// falls in (`02:00`, `03:00`), from the zone's own transition.
fn gap_clocks(tz: &TimeZone, civil: DateTime, before: Offset, after: Offset) -> (String, String) {
    let transition = before
        .to_timestamp(civil)
        .ok()
        .and_then(|late| late.checked_add(jiff::SignedDuration::from_secs(1)).ok())
        .and_then(|late| tz.preceding(late).next())
        .map(|t| t.timestamp());
    let clock = |offset: Offset| {
        transition.map_or_else(String::new, |t| {
            t.to_zoned(TimeZone::fixed(offset))
                .strftime("%H:%M")
                .to_string()
        })
    };
    (clock(before), clock(after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> String {
        parse_time(text).unwrap().timestamp.to_string()
    }

    #[test]
    fn rfc3339_and_local_times_read_as_the_same_instant() {
        assert_eq!(utc("2026-12-02T13:00:00Z"), "2026-12-02T13:00:00Z");
        assert_eq!(utc("2026-12-02T14:00:00+01:00"), "2026-12-02T13:00:00Z");
        assert_eq!(
            utc("2026-12-02 14:00 Europe/Berlin"),
            "2026-12-02T13:00:00Z"
        );
        assert_eq!(
            utc("2026-12-02T14:00 Europe/Berlin"),
            "2026-12-02T13:00:00Z"
        );
        assert_eq!(
            utc("2026-07-02 14:00 Europe/Berlin"),
            "2026-07-02T12:00:00Z"
        );
        assert_eq!(utc("2026-12-02 14:00 UTC"), "2026-12-02T14:00:00Z");
        assert_eq!(
            parse_time("2026-12-02 14:00 Europe/Berlin")
                .unwrap()
                .local(),
            "2026-12-02 14:00 CET"
        );
    }

    #[test]
    fn an_unknown_zone_is_an_error_never_utc() {
        assert_eq!(
            parse_time("2026-12-02 14:00 Europe/Berlim"),
            Err(TimeError::UnknownZone("Europe/Berlim".into()))
        );
        assert!(matches!(
            parse_time("2026-12-02 14:00"),
            Err(TimeError::NoZone(_))
        ));
        assert!(matches!(parse_time("tomorrow"), Err(TimeError::Syntax(_))));
    }

    #[test]
    fn spring_forward_times_do_not_exist() {
        let err = parse_time("2026-03-29 02:30 Europe/Berlin").unwrap_err();
        assert_eq!(
            err.to_string(),
            "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks skip from 02:00 to 03:00 (spring forward)"
        );
        let err = parse_time("2026-03-08 02:15 America/New_York").unwrap_err();
        assert!(matches!(err, TimeError::Nonexistent { .. }), "{err}");
        // The minute before and the hour after are fine.
        assert_eq!(
            utc("2026-03-29 01:59 Europe/Berlin"),
            "2026-03-29T00:59:00Z"
        );
        assert_eq!(
            utc("2026-03-29 03:00 Europe/Berlin"),
            "2026-03-29T01:00:00Z"
        );
    }

    #[test]
    fn fall_back_times_need_an_offset() {
        let err = parse_time("2026-10-25 02:30 Europe/Berlin").unwrap_err();
        assert_eq!(
            err.to_string(),
            "2026-10-25 02:30 happens twice in Europe/Berlin (fall back): add the offset, +02 for the first or +01 for the second"
        );
        assert_eq!(
            utc("2026-10-25 02:30 +02:00 Europe/Berlin"),
            "2026-10-25T00:30:00Z"
        );
        assert_eq!(
            utc("2026-10-25 02:30 +01:00 Europe/Berlin"),
            "2026-10-25T01:30:00Z"
        );
        assert_eq!(
            utc("2026-10-25T02:30+01:00[Europe/Berlin]"),
            "2026-10-25T01:30:00Z"
        );
        let err = parse_time("2026-10-25 02:30 +03:00 Europe/Berlin").unwrap_err();
        assert!(matches!(err, TimeError::WrongOffset { .. }), "{err}");
        let err = parse_time("2026-11-01 01:30 America/New_York").unwrap_err();
        assert!(matches!(err, TimeError::Ambiguous { .. }), "{err}");
        assert_eq!(
            utc("2026-11-01 01:30 -05:00 America/New_York"),
            "2026-11-01T06:30:00Z"
        );
    }

    mod properties {
        use jiff::civil::date;
        use proptest::prelude::*;

        use super::super::*;

        const ZONES: [&str; 6] = [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "Pacific/Chatham",
            "UTC",
        ];

        proptest! {
            /// A local time reads back as itself in its zone, or is
            /// rejected as skipped or doubled: never silently moved.
            #[test]
            fn local_times_round_trip_or_are_rejected(
                days in 0_i32..(366 * 3),
                minute in 0_i32..(24 * 60),
                zone_index in 0_usize..ZONES.len(),
            ) {
                let day = date(2025, 1, 1).checked_add(jiff::Span::new().days(days)).unwrap();
                let civil = day.at(i8::try_from(minute / 60).unwrap(), i8::try_from(minute % 60).unwrap(), 0, 0);
                let name = ZONES[zone_index];
                let text = format!("{} {name}", civil.strftime("%Y-%m-%d %H:%M"));
                match parse_time(&text) {
                    Ok(when) => {
                        let back = when.timestamp.to_zoned(TimeZone::get(name).unwrap()).datetime();
                        prop_assert_eq!(back, civil, "{}", text);
                    }
                    Err(TimeError::Nonexistent { .. } | TimeError::Ambiguous { .. }) => {
                        let tz = TimeZone::get(name).unwrap();
                        let ambiguous = tz.to_ambiguous_timestamp(civil);
                        prop_assert!(ambiguous.is_ambiguous(), "{} rejected but unambiguous", text);
                    }
                    Err(other) => prop_assert!(false, "{}: {}", text, other),
                }
            }

            /// Every instant written as RFC 3339, with any offset, reads
            /// back as the same instant.
            #[test]
            fn rfc3339_round_trips(seconds in 0_i64..4_102_444_800, offset_minutes in -14_i32 * 60..=14 * 60) {
                let timestamp = Timestamp::from_second(seconds).unwrap();
                let offset = Offset::from_seconds(offset_minutes * 60).unwrap();
                let text = timestamp.to_zoned(TimeZone::fixed(offset)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
                prop_assert_eq!(parse_time(&text).unwrap().timestamp, timestamp, "{}", text);
            }

            /// No text makes the parser panic.
            #[test]
            fn no_text_panics(text in ".{0,60}") {
                let _ = parse_time(&text);
            }

            /// Either offset of a doubled hour picks one instant, an hour
            /// apart from the other.
            #[test]
            fn offsets_pick_one_of_a_doubled_hour(minute in 0_i8..60) {
                let first = parse_time(&format!("2026-10-25 02:{minute:02} +02:00 Europe/Berlin")).unwrap();
                let second = parse_time(&format!("2026-10-25 02:{minute:02} +01:00 Europe/Berlin")).unwrap();
                prop_assert_eq!(second.timestamp.as_second() - first.timestamp.as_second(), 3600);
            }
        }
    }
}
