//! Index patterns: which indices a time window touches.
//!
//! Logstash and Beats write one index per day (`logstash-%Y.%m.%d`) or per
//! hour. Searching `logstash-*` makes the server open every index kept;
//! naming the indices the window touches opens only those. A pattern with
//! strftime specifiers is expanded in UTC (Logstash names indices by the
//! event's UTC date) to every index the window `[from, to]` touches, oldest
//! first; literal names, aliases and wildcards are sent as given.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan};

/// The most indices one dated pattern may expand to: an hourly pattern over
/// a year (8760) is a mistake, not a search.
pub const MAX_EXPANSION: usize = 1000;

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("the index pattern is empty")]
    Empty,
    #[error(
        "the index pattern {pattern:?} holds {found:?}, which no index name may hold (write names, aliases or wildcards such as logstash-%Y.%m.%d or logs-*)"
    )]
    BadCharacter { pattern: String, found: char },
    #[error("the index pattern {pattern:?} is not a valid strftime pattern: {reason}")]
    BadFormat { pattern: String, reason: String },
    #[error(
        "the index pattern {pattern:?} changes with %{spec}, more often than hourly: index names use %Y, %m, %d and %H"
    )]
    TooFine { pattern: String, spec: char },
    #[error(
        "the index pattern {pattern:?} names more than {MAX_EXPANSION} indices over {window}: use a wildcard (such as {wildcard}) or a shorter window"
    )]
    TooMany {
        pattern: String,
        window: String,
        wildcard: String,
    },
}

/// How often a dated pattern's name changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Hour,
    Day,
    Month,
    Year,
}

/// One `--index` value: a strftime pattern, or a name, alias or wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPattern {
    text: String,
    /// `None` for a literal name (no specifier but `%%`).
    step: Option<Step>,
}

impl FromStr for IndexPattern {
    type Err = IndexError;

    fn from_str(text: &str) -> Result<IndexPattern, IndexError> {
        if text.is_empty() {
            return Err(IndexError::Empty);
        }
        // What Elasticsearch refuses in an index name and what would break
        // the URL path; `*`, `-` (exclusion) and `:` (remote cluster) stay.
        if let Some(found) = text
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || "\\/?\"<>|#,".contains(*c))
        {
            return Err(IndexError::BadCharacter {
                pattern: text.to_owned(),
                found,
            });
        }
        let step = step_of(text)?;
        let pattern = IndexPattern {
            text: text.to_owned(),
            step,
        };
        // jiff refuses unknown specifiers: find them now, not mid-check.
        if step.is_some() || text.contains('%') {
            pattern.format(DateTime::constant(2026, 11, 24, 13, 0, 0, 0))?;
        }
        Ok(pattern)
    }
}

impl fmt::Display for IndexPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The finest specifier of a pattern, `None` when it has none.
fn step_of(text: &str) -> Result<Option<Step>, IndexError> {
    let mut finest: Option<Step> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        // Flags, width, precision and `:` modifiers come before the
        // conversion character (`%-d`, `%_3j`, `%:z`).
        let spec = chars
            .by_ref()
            .find(|c| !matches!(c, '-' | '_' | '0'..='9' | '^' | '#' | '.' | ':'));
        let Some(spec) = spec else {
            return Err(IndexError::BadFormat {
                pattern: text.to_owned(),
                reason: "it ends with a lone %".into(),
            });
        };
        let step = match spec {
            'H' | 'I' | 'k' | 'l' | 'p' | 'P' => Step::Hour,
            'd' | 'e' | 'j' | 'a' | 'A' | 'u' | 'w' | 'D' | 'F' | 'x' | 'U' | 'W' | 'V' | 'g'
            | 'G' => Step::Day,
            'm' | 'b' | 'B' | 'h' => Step::Month,
            'Y' | 'y' | 'C' => Step::Year,
            // Literal `%`, and zone names, constant in UTC.
            '%' | 'z' | 'Z' | 'Q' => continue,
            'M' | 'S' | 's' | 'f' | 'N' | 'T' | 'R' | 'r' | 'X' | 'c' => {
                return Err(IndexError::TooFine {
                    pattern: text.to_owned(),
                    spec,
                });
            }
            other => {
                return Err(IndexError::BadFormat {
                    pattern: text.to_owned(),
                    reason: format!("%{other} is not a date specifier"),
                });
            }
        };
        finest = Some(finest.map_or(step, |f| f.min(step)));
    }
    Ok(finest)
}

impl IndexPattern {
    /// The pattern as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern names indices by date.
    #[must_use]
    pub fn is_dated(&self) -> bool {
        self.step.is_some()
    }

    /// The pattern with each date specifier made a `*`
    /// (`logstash-%Y.%m.%d` → `logstash-*.*.*`): every index it can name.
    #[must_use]
    pub fn wildcard(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut chars = self.text.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let spec = chars
                .by_ref()
                .find(|c| !matches!(c, '-' | '_' | '0'..='9' | '^' | '#' | '.' | ':'));
            match spec {
                Some('%') => out.push('%'),
                _ if out.ends_with('*') => {}
                _ => out.push('*'),
            }
        }
        out
    }

    fn format(&self, at: DateTime) -> Result<String, IndexError> {
        let zoned = at
            .to_zoned(TimeZone::UTC)
            .map_err(|e| self.bad_format(&e))?;
        jiff::fmt::strtime::format(&self.text, &zoned).map_err(|e| self.bad_format(&e))
    }

    fn bad_format(&self, error: &jiff::Error) -> IndexError {
        IndexError::BadFormat {
            pattern: self.text.clone(),
            reason: error.to_string(),
        }
    }

    /// Every index this pattern names in `window`, oldest first, each once;
    /// a literal pattern is itself.
    pub fn expand(&self, window: &Window) -> Result<Vec<String>, IndexError> {
        let Some(step) = self.step else {
            // `%%` is the only specifier: format it to a plain `%`.
            return Ok(vec![if self.text.contains('%') {
                self.format(DateTime::constant(2000, 1, 1, 0, 0, 0, 0))?
            } else {
                self.text.clone()
            }]);
        };
        let utc = |t: Timestamp| t.to_zoned(TimeZone::UTC).datetime();
        let end = utc(window.to);
        let mut at = floor(utc(window.from), step);
        let span = match step {
            Step::Hour => 1.hour(),
            Step::Day => 1.day(),
            Step::Month => 1.month(),
            Step::Year => 1.year(),
        };
        let mut names: Vec<String> = Vec::new();
        while at <= end {
            let name = self.format(at)?;
            // Names repeat when the finest specifier is coarser than the
            // step (`%Y.%W`: seven days a week) and only then, in a run.
            if names.last() != Some(&name) {
                if names.len() == MAX_EXPANSION {
                    return Err(IndexError::TooMany {
                        pattern: self.text.clone(),
                        window: window.describe(),
                        wildcard: self.wildcard(),
                    });
                }
                names.push(name);
            }
            at = match at.checked_add(span) {
                Ok(next) => next,
                Err(_) => break, // the end of jiff's calendar, year 9999
            };
        }
        Ok(names)
    }
}

/// The start of the hour, day, month or year `at` is in.
fn floor(at: DateTime, step: Step) -> DateTime {
    let date = at.date();
    match step {
        Step::Hour => date.to_datetime(Time::constant(at.hour(), 0, 0, 0)),
        Step::Day => date.to_datetime(Time::midnight()),
        Step::Month => date.first_of_month().to_datetime(Time::midnight()),
        Step::Year => date.first_of_year().to_datetime(Time::midnight()),
    }
}

/// Every index `patterns` name in `window`, in the order given, each once.
pub fn resolve(patterns: &[IndexPattern], window: &Window) -> Result<Vec<String>, IndexError> {
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for pattern in patterns {
        for name in pattern.expand(window)? {
            if seen.insert(name.clone()) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// A span of time searched, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Window {
    /// `[from, to]`, in whichever order they are given.
    #[must_use]
    pub fn new(a: Timestamp, b: Timestamp) -> Window {
        Window {
            from: a.min(b),
            to: a.max(b),
        }
    }

    /// The `length` before `now`: `[now - length, now]`.
    #[must_use]
    pub fn ending_at(now: Timestamp, length: Duration) -> Window {
        let from = i64::try_from(length.as_secs())
            .ok()
            .and_then(|secs| Span::new().try_seconds(secs).ok())
            .and_then(|span| now.checked_sub(span).ok())
            .unwrap_or(Timestamp::MIN);
        Window::new(from, now)
    }

    /// The `length` before this host's clock.
    #[must_use]
    pub fn last(length: Duration) -> Window {
        Window::ending_at(Timestamp::now(), length)
    }

    /// Its length.
    #[must_use]
    pub fn length(&self) -> Duration {
        self.to
            .duration_since(self.from)
            .try_into()
            .unwrap_or_default()
    }

    /// `2026-11-24T13:00:00Z to 2026-11-25T13:00:00Z`, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        let show = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        format!("{} to {}", show(self.from), show(self.to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn expand(pattern: &str, from: &str, to: &str) -> Vec<String> {
        let pattern: IndexPattern = pattern.parse().unwrap();
        pattern.expand(&Window::new(at(from), at(to))).unwrap()
    }

    #[test]
    fn a_daily_pattern_over_midnight_names_both_days() {
        assert_eq!(
            expand(
                "logstash-%Y.%m.%d",
                "2026-11-24T23:40:00Z",
                "2026-11-25T00:10:00Z"
            ),
            ["logstash-2026.11.24", "logstash-2026.11.25"]
        );
        assert_eq!(
            expand(
                "logstash-%Y.%m.%d",
                "2026-11-24T00:00:00Z",
                "2026-11-24T23:59:59Z"
            ),
            ["logstash-2026.11.24"]
        );
        // The end is included: a window ending at midnight touches the new day.
        assert_eq!(
            expand(
                "logstash-%Y.%m.%d",
                "2026-11-24T23:30:00Z",
                "2026-11-25T00:00:00Z"
            ),
            ["logstash-2026.11.24", "logstash-2026.11.25"]
        );
    }

    #[test]
    fn month_and_year_boundaries_and_leap_days() {
        assert_eq!(
            expand("l-%Y.%m.%d", "2026-12-31T22:00:00Z", "2027-01-01T02:00:00Z"),
            ["l-2026.12.31", "l-2027.01.01"]
        );
        assert_eq!(
            expand("l-%Y.%m.%d", "2028-02-28T12:00:00Z", "2028-03-01T01:00:00Z"),
            ["l-2028.02.28", "l-2028.02.29", "l-2028.03.01"]
        );
        assert_eq!(
            expand("l-%Y.%m.%d", "2027-02-28T12:00:00Z", "2027-03-01T01:00:00Z"),
            ["l-2027.02.28", "l-2027.03.01"]
        );
        assert_eq!(
            expand("l-%Y.%m", "2026-11-30T00:00:00Z", "2027-02-01T00:00:00Z"),
            ["l-2026.11", "l-2026.12", "l-2027.01", "l-2027.02"]
        );
        assert_eq!(
            expand("audit-%Y", "2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z"),
            ["audit-2026", "audit-2027"]
        );
        // Day of the year and ISO weeks, across the new year.
        assert_eq!(
            expand("l-%Y-%j", "2026-12-31T10:00:00Z", "2027-01-01T10:00:00Z"),
            ["l-2026-365", "l-2027-001"]
        );
        assert_eq!(
            expand("w-%G-%V", "2026-12-27T00:00:00Z", "2027-01-05T00:00:00Z"),
            ["w-2026-52", "w-2026-53", "w-2027-01"]
        );
    }

    #[test]
    fn hourly_patterns_step_by_the_hour() {
        assert_eq!(
            expand(
                "logs-%Y.%m.%d.%H",
                "2026-11-24T22:59:59Z",
                "2026-11-25T01:00:00Z"
            ),
            [
                "logs-2026.11.24.22",
                "logs-2026.11.24.23",
                "logs-2026.11.25.00",
                "logs-2026.11.25.01"
            ]
        );
        let day = Window::new(at("2026-11-24T00:00:00Z"), at("2026-11-24T23:59:59Z"));
        let hourly: IndexPattern = "logs-%Y%m%d%H".parse().unwrap();
        assert_eq!(hourly.expand(&day).unwrap().len(), 24);
    }

    #[test]
    fn literal_names_aliases_and_wildcards_pass_as_given() {
        let window = Window::last(Duration::from_hours(1));
        for literal in ["cloudtrail", "logs-*", "-logs-old", "remote:logs-*", "a%%b"] {
            let pattern: IndexPattern = literal.parse().unwrap();
            assert!(!pattern.is_dated(), "{literal}");
            let expected = literal.replace("%%", "%");
            assert_eq!(pattern.expand(&window).unwrap(), [expected]);
        }
        let both = resolve(
            &[
                "logs-%Y.%m.%d".parse().unwrap(),
                "logs-*".parse().unwrap(),
                "logs-%Y.%m.%d".parse().unwrap(),
            ],
            &Window::new(at("2026-11-24T10:00:00Z"), at("2026-11-24T11:00:00Z")),
        )
        .unwrap();
        assert_eq!(both, ["logs-2026.11.24", "logs-*"]);
    }

    #[test]
    fn bad_patterns_say_what_to_write() {
        let error = |text: &str| text.parse::<IndexPattern>().unwrap_err().to_string();
        assert_eq!(error(""), "the index pattern is empty");
        assert!(
            error("logs /x").contains("holds ' '"),
            "{}",
            error("logs /x")
        );
        assert!(error("a,b").contains("holds ','"));
        assert!(error("logs-%Y.%m.%d.%M").contains("more often than hourly"));
        assert!(error("logs-%Y.%q").contains("%q is not a date specifier"));
        assert!(error("logs-%").contains("lone %"));
    }

    #[test]
    fn an_absurd_expansion_is_refused_with_a_way_out() {
        let hourly: IndexPattern = "logs-%Y.%m.%d.%H".parse().unwrap();
        let year = Window::ending_at(at("2026-11-24T10:00:00Z"), Duration::from_hours(365 * 24));
        let error = hourly.expand(&year).unwrap_err().to_string();
        assert_eq!(
            error,
            "the index pattern \"logs-%Y.%m.%d.%H\" names more than 1000 indices over \
             2025-11-24T10:00:00Z to 2026-11-24T10:00:00Z: use a wildcard (such as logs-*.*.*.*) or a shorter window"
        );
        let daily: IndexPattern = "logs-%Y.%m.%d".parse().unwrap();
        assert_eq!(daily.expand(&year).unwrap().len(), 366);
        let forever = Window::ending_at(at("2026-11-24T10:00:00Z"), Duration::MAX);
        assert!(daily.expand(&forever).is_err());
    }

    #[test]
    fn wildcards_of_dated_patterns() {
        let w = |text: &str| text.parse::<IndexPattern>().unwrap().wildcard();
        assert_eq!(w("logstash-%Y.%m.%d"), "logstash-*.*.*");
        assert_eq!(w("logs-%Y%m%d"), "logs-*");
        assert_eq!(w("a%%-%-d"), "a%-*");
    }

    proptest! {
        /// Brute force: every second of the window is in an index named, and
        /// every index named holds a second of the window.
        #[test]
        fn expansion_is_exactly_the_indices_the_window_touches(
            start in 946_684_800i64..4_102_444_800,
            length in 0i64..(40 * 86400),
            pattern in prop::sample::select(vec![
                "l-%Y.%m.%d", "l-%Y.%m.%d.%H", "l-%Y.%m", "l-%Y", "l-%y%j", "l-%G.%V", "l-%Y.%m.%d-%H",
            ]),
        ) {
            let from = Timestamp::from_second(start).unwrap();
            let to = Timestamp::from_second(start + length).unwrap();
            let pattern: IndexPattern = pattern.parse().unwrap();
            let names = pattern.expand(&Window::new(from, to)).unwrap();
            let unique: HashSet<&String> = names.iter().collect();
            prop_assert_eq!(unique.len(), names.len(), "duplicates in {:?}", names);
            // Every hour boundary inside the window, and both ends.
            let name_at = |t: i64| {
                let dt = Timestamp::from_second(t).unwrap().to_zoned(TimeZone::UTC).datetime();
                pattern.format(dt).unwrap()
            };
            let mut touched = vec![name_at(start)];
            let mut t = (start / 3600 + 1) * 3600;
            while t <= start + length {
                let name = name_at(t);
                if touched.last() != Some(&name) {
                    touched.push(name);
                }
                t += 3600;
            }
            let last = name_at(start + length);
            if touched.last() != Some(&last) {
                touched.push(last);
            }
            prop_assert_eq!(names, touched);
        }

        #[test]
        fn any_printable_name_without_specifiers_is_itself(name in "[a-z0-9_.*-]{1,40}") {
            let pattern: IndexPattern = name.parse().unwrap();
            prop_assert!(!pattern.is_dated());
            prop_assert_eq!(pattern.expand(&Window::last(Duration::from_mins(1))).unwrap(), vec![name]);
        }
    }
}
