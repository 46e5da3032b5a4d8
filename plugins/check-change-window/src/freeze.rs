//! The freeze calendar (`--freeze FILE`): yearly ranges by month-day in a
//! zone (`12-20` to `01-02` Europe/Berlin, both days whole) and one-off
//! ranges between two instants.
//!
//! ```yaml
//! zone: Europe/Berlin            # for yearly ranges that name none
//! yearly:
//!   - name: year-end
//!     from: 12-20
//!     to: 01-02
//! once:
//!   - name: Black Friday
//!     start: 2026-11-27 00:00 America/New_York
//!     end: 2026-11-30 06:00 America/New_York
//! ```

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde::de::Deserializer;

#[cfg(test)]
use crate::when::parse_time;
use crate::when::{When, zone};

/// One stretch of frozen time.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub name: String,
    pub start: When,
    pub end: When,
}

#[derive(Debug, Clone)]
struct Yearly {
    name: String,
    from: (i8, i8),
    to: (i8, i8),
    zone: TimeZone,
}

/// A parsed freeze calendar.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    yearly: Vec<Yearly>,
    once: Vec<Period>,
}

/// Why the freeze calendar could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FreezeError {
    #[error("cannot read the freeze calendar {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("freeze calendar {file} line {line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    #[serde(default)]
    zone: Option<String>,
    #[serde(default)]
    yearly: Vec<RawYearly>,
    #[serde(default)]
    once: Vec<RawOnce>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYearly {
    name: String,
    #[serde(deserialize_with = "month_day")]
    from: (i8, i8),
    #[serde(deserialize_with = "month_day")]
    to: (i8, i8),
    #[serde(default)]
    zone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnce {
    name: String,
    start: When,
    end: When,
}

/// `MM-DD`, checked against a leap year so `02-29` is allowed.
fn month_day<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(i8, i8), D::Error> {
    crate::when::deserialize_parsed(deserializer, "a month-day (MM-DD)", |text| {
        parse_month_day(text)
            .ok_or_else(|| format!("'{text}' is not a month-day: write MM-DD, e.g. 12-20"))
    })
}

fn parse_month_day(text: &str) -> Option<(i8, i8)> {
    let (month, day) = text.trim().split_once('-')?;
    let month: i8 = month.parse().ok()?;
    let day: i8 = day.parse().ok()?;
    Date::new(2000, month, day).ok()?;
    Some((month, day))
}

/// The date of a month-day in `year`; 02-29 is 02-28 in other years.
fn date_in(year: i16, (month, day): (i8, i8)) -> Option<Date> {
    Date::new(year, month, day)
        .or_else(|_| Date::new(year, month, day - 1))
        .ok()
}

/// Midnight starting `date` in `zone` (a midnight the clocks skip is the
/// first instant of that day).
fn day_start(date: Date, zone: &TimeZone) -> Option<When> {
    let zoned = date.to_zoned(zone.clone()).ok()?;
    Some(When {
        timestamp: zoned.timestamp(),
        zone: zone.clone(),
    })
}

impl Calendar {
    /// Reads a calendar file.
    pub fn load(path: &Path) -> Result<Calendar, FreezeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FreezeError::Read {
            file: file.clone(),
            source,
        })?;
        Calendar::parse(&file, &text)
    }

    /// Reads a calendar from its text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Calendar, FreezeError> {
        let invalid = |line: usize, message: String| FreezeError::Invalid {
            file: file.to_owned(),
            line,
            message,
        };
        let raw: RawCalendar = if text.trim().is_empty() {
            RawCalendar {
                zone: None,
                yearly: Vec::new(),
                once: Vec::new(),
            }
        } else {
            serde_norway::from_str(text).map_err(|error| {
                let line = error.location().map_or(1, |l| l.line());
                invalid(line, crate::record::without_position(error.to_string()))
            })?
        };
        let default_zone = raw
            .zone
            .as_deref()
            .map(zone)
            .transpose()
            .map_err(|e| invalid(line_of(text, "zone:"), e.to_string()))?;
        let mut yearly = Vec::new();
        for entry in raw.yearly {
            let zone = match entry.zone.as_deref() {
                Some(name) => zone(name).map_err(|e| {
                    invalid(line_of(text, &format!("name: {}", entry.name)), e.to_string())
                })?,
                None => default_zone.clone().ok_or_else(|| {
                    invalid(
                        line_of(text, &format!("name: {}", entry.name)),
                        format!(
                            "yearly freeze '{}' names no zone (give it `zone:` or the calendar a top-level `zone:`)",
                            entry.name
                        ),
                    )
                })?,
            };
            yearly.push(Yearly {
                name: entry.name,
                from: entry.from,
                to: entry.to,
                zone,
            });
        }
        let mut once = Vec::new();
        for entry in raw.once {
            if entry.end.timestamp <= entry.start.timestamp {
                return Err(invalid(
                    line_of(text, &format!("name: {}", entry.name)),
                    format!("freeze '{}' ends before it starts", entry.name),
                ));
            }
            once.push(Period {
                name: entry.name,
                start: entry.start,
                end: entry.end,
            });
        }
        Ok(Calendar { yearly, once })
    }

    /// Every freeze period that overlaps `[from, to)`.
    #[must_use]
    pub fn overlapping(&self, from: Timestamp, to: Timestamp) -> Vec<Period> {
        let mut periods: Vec<Period> = self
            .once
            .iter()
            .filter(|p| p.start.timestamp < to && from < p.end.timestamp)
            .cloned()
            .collect();
        for yearly in &self.yearly {
            let first = from.to_zoned(yearly.zone.clone()).year();
            let last = to.to_zoned(yearly.zone.clone()).year();
            // A range that crosses New Year starts in the year before.
            for year in (first - 1)..=last {
                if let Some(period) = yearly.period_starting_in(year)
                    && period.start.timestamp < to
                    && from < period.end.timestamp
                {
                    periods.push(period);
                }
            }
        }
        periods.sort_by_key(|p| p.start.timestamp);
        periods
    }

    /// The freeze periods in force at `at`.
    #[must_use]
    pub fn at(&self, at: Timestamp) -> Vec<Period> {
        let next = at
            .checked_add(jiff::SignedDuration::from_nanos(1))
            .unwrap_or(at);
        self.overlapping(at, next)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.yearly.is_empty() && self.once.is_empty()
    }
}

impl Yearly {
    fn period_starting_in(&self, year: i16) -> Option<Period> {
        let start_date = date_in(year, self.from)?;
        let crosses_new_year = self.to < self.from;
        let end_year = if crosses_new_year {
            year.checked_add(1)?
        } else {
            year
        };
        // `to` is a whole day: the freeze ends at the next midnight.
        let end_date = date_in(end_year, self.to)?.tomorrow().ok()?;
        Some(Period {
            name: self.name.clone(),
            start: day_start(start_date, &self.zone)?,
            end: day_start(end_date, &self.zone)?,
        })
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|line| line.contains(needle))
        .map_or(1, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALENDAR: &str = "zone: Europe/Berlin
yearly:
  - name: year-end
    from: 12-20
    to: 01-02
  - name: summer
    from: 07-01
    to: 07-01
    zone: America/New_York
once:
  - name: Black Friday
    start: 2026-11-27 00:00 America/New_York
    end: 2026-11-30 06:00 America/New_York
";

    fn at(text: &str) -> Vec<String> {
        let calendar = Calendar::parse("freeze.yaml", CALENDAR).unwrap();
        calendar
            .at(parse_time(text).unwrap().timestamp)
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    #[test]
    fn yearly_ranges_cross_new_year_in_their_zone() {
        assert_eq!(
            at("2026-12-19 23:59:59 Europe/Berlin"),
            Vec::<String>::new()
        );
        assert_eq!(at("2026-12-20 00:00 Europe/Berlin"), ["year-end"]);
        assert_eq!(at("2026-12-19T23:30:00Z"), ["year-end"], "00:30 in Berlin");
        assert_eq!(at("2027-01-01 12:00 Europe/Berlin"), ["year-end"]);
        assert_eq!(at("2027-01-02 23:59:59 Europe/Berlin"), ["year-end"]);
        assert_eq!(at("2027-01-03 00:00 Europe/Berlin"), Vec::<String>::new());
        assert_eq!(at("2026-07-01 23:00 America/New_York"), ["summer"]);
        assert_eq!(
            at("2026-07-02 00:00 America/New_York"),
            Vec::<String>::new()
        );
        assert_eq!(at("2026-11-28 12:00 UTC"), ["Black Friday"]);
    }

    #[test]
    fn a_window_overlapping_a_freeze_is_found() {
        let calendar = Calendar::parse("f", CALENDAR).unwrap();
        let from = parse_time("2026-12-19 23:00 Europe/Berlin")
            .unwrap()
            .timestamp;
        let to = parse_time("2026-12-20 00:00 Europe/Berlin")
            .unwrap()
            .timestamp;
        assert!(
            calendar.overlapping(from, to).is_empty(),
            "ends as the freeze starts"
        );
        let to = parse_time("2026-12-20 00:01 Europe/Berlin")
            .unwrap()
            .timestamp;
        assert_eq!(calendar.overlapping(from, to).len(), 1);
    }

    #[test]
    fn errors_name_the_line() {
        let err = Calendar::parse(
            "f.yaml",
            "yearly:\n  - name: x\n    from: 13-01\n    to: 01-02\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "freeze calendar f.yaml line 3: yearly[0].from: '13-01' is not a month-day"
            ),
            "{err}"
        );
        let err = Calendar::parse(
            "f.yaml",
            "yearly:\n  - name: x\n    from: 12-01\n    to: 01-02\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 2: yearly freeze 'x' names no zone"),
            "{err}"
        );
        let err = Calendar::parse("f.yaml", "zone: Mars/Olympus\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 1: unknown time zone 'Mars/Olympus'"),
            "{err}"
        );
    }
}
