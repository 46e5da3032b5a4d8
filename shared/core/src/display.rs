//! How values read for the on-call engineer: numbers, durations, clock
//! times, labels, and the one phrase for many items that are all fine.
//! Every plugin writes these the same way, so they live here once.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A value for people: at most two decimals (a DS18B20 reads in 0.1125 °F
/// steps), at least one; six for tiny values so they do not read as zero.
#[must_use]
pub fn readable(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "not a number".into()
        } else if value > 0.0 {
            "+infinity".into()
        } else {
            "-infinity".into()
        };
    }
    let magnitude = value.abs();
    // Fixed notation would print 1e308 as 309 digits on a first line.
    if magnitude >= 1e15 {
        return format!("{value:.3e}");
    }
    let decimals = if magnitude != 0.0 && magnitude < 0.01 {
        6
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    while text.ends_with('0') && !text.ends_with(".0") {
        text.pop();
    }
    if text == "-0.0" { "0.0".into() } else { text }
}

/// [`readable`] with a `+` on positive values, for rates and changes.
#[must_use]
pub fn signed(value: f64) -> String {
    let text = readable(value);
    if value > 0.0 {
        format!("+{text}")
    } else {
        text
    }
}

/// A duration for people, in its two largest units, cut (not rounded) to
/// the smaller: `27h`, `2h 10m`, `10m 2s`, `45s`, `1.5s`, `500ms`. Hours
/// run up to two days (`31h` reads better than `1d 7h` for an age), days
/// beyond.
#[must_use]
pub fn duration(duration: Duration) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let seconds = duration.as_secs();
    let two_units = |major: u64, major_unit: &str, minor: u64, minor_unit: &str| {
        if minor == 0 {
            format!("{major}{major_unit}")
        } else {
            format!("{major}{major_unit} {minor}{minor_unit}")
        }
    };
    if duration.is_zero() {
        "0s".into()
    } else if seconds == 0 {
        format!("{}ms", duration.as_millis())
    } else if seconds < MINUTE {
        let tenths = duration.subsec_millis() / 100;
        if tenths == 0 {
            format!("{seconds}s")
        } else {
            format!("{seconds}.{tenths}s")
        }
    } else if seconds < HOUR {
        two_units(seconds / MINUTE, "m", seconds % MINUTE, "s")
    } else if seconds < 2 * DAY {
        two_units(seconds / HOUR, "h", seconds % HOUR / MINUTE, "m")
    } else {
        two_units(seconds / DAY, "d", seconds % DAY / HOUR, "h")
    }
}

/// `31h ago`: how long since something happened.
#[must_use]
pub fn ago(elapsed: Duration) -> String {
    format!("{} ago", duration(elapsed))
}

/// `in 2h 10m`: how long until something happens.
#[must_use]
pub fn from_now(remaining: Duration) -> String {
    format!("in {}", duration(remaining))
}

/// `~4 min`, `~2 h`, `~45 s`: a forecast is a rough thing and reads as one.
#[must_use]
pub fn approximately(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds < 90.0 {
        format!("~{} s", seconds.round())
    } else if seconds < 90.0 * 60.0 {
        format!("~{} min", (seconds / 60.0).round())
    } else if seconds < 48.0 * 3600.0 {
        format!("~{} h", (seconds / 3600.0).round())
    } else {
        format!("~{} d", (seconds / 86_400.0).round())
    }
}

/// A unix time as people on call read it, in UTC: `2026-12-01T19:03:21Z`.
/// Times before 1970 (a broken clock or source) print as the raw number.
#[must_use]
pub fn clock(unix: i64) -> String {
    u64::try_from(unix).map_or_else(
        |_| unix.to_string(),
        |secs| clock_at(UNIX_EPOCH + Duration::from_secs(secs)),
    )
}

/// [`clock`] for a `SystemTime`: `2026-12-01T19:03:21Z`.
#[must_use]
pub fn clock_at(time: SystemTime) -> String {
    // RFC 3339 stops at 9999-12-31 (humantime's Display fails past it, a
    // panic in `to_string`); a server can send any timestamp.
    const YEAR_10000: u64 = 253_402_300_800;
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) if since.as_secs() >= YEAR_10000 => format!("unix time {}", since.as_secs()),
        _ => humantime::format_rfc3339_seconds(time).to_string(),
    }
}

/// A name made fit to be a perfdata label that needs no quoting: keeps
/// `[A-Za-z0-9_.-/:]`, and runs of anything else become one `_`
/// (`it's a "name"` → `it_s_a_name`); `value` when nothing is left.
#[must_use]
pub fn clean_label(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':') {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_matches(['_', '.']);
    if trimmed.is_empty() {
        "value".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A label as perfdata writes it, keeping what the user chose where the
/// guidelines allow: quoted when it has a space or `'` (a `'` doubled).
/// The guidelines forbid `=` in labels (Sensu drops such a metric), so it
/// becomes `_`; a `|` would end the perfdata for Nagios and Sensu, so it
/// becomes `¦`; control characters become spaces.
#[must_use]
pub fn quote_label(label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| match c {
            '|' => '¦',
            '=' => '_',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let clean = if clean.is_empty() {
        "value".to_owned()
    } else {
        clean
    };
    if clean.contains([' ', '\'']) {
        format!("'{}'", clean.replace('\'', "''"))
    } else {
        clean
    }
}

/// The one phrase for many items that are all fine, instead of the first
/// few listed: `all_ok(40, "hosts fresh", "the oldest db07 2h ago")` is
/// `40 hosts fresh, the oldest db07 2h ago`. `worst` may be empty.
#[must_use]
pub fn all_ok(count: usize, things: &str, worst: &str) -> String {
    if worst.is_empty() {
        format!("{count} {things}")
    } else {
        format!("{count} {things}, {worst}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_values() {
        assert_eq!(readable(135.162), "135.16");
        assert_eq!(readable(257.0), "257.0");
        assert_eq!(readable(135.01), "135.01");
        assert_eq!(readable(-0.0), "0.0");
        assert_eq!(readable(0.000_12), "0.00012");
        assert_eq!(readable(f64::INFINITY), "+infinity");
        assert_eq!(readable(f64::NEG_INFINITY), "-infinity");
        assert_eq!(readable(f64::NAN), "not a number");
        assert_eq!(readable(1e308), "1.000e308");
        assert_eq!(readable(-2.5e15), "-2.500e15");
        assert_eq!(clock(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(clock(253_402_300_800), "unix time 253402300800");
        assert_eq!(clock(i64::MAX), format!("unix time {}", i64::MAX));
        assert_eq!(signed(0.9), "+0.9");
        assert_eq!(signed(-2.0), "-2.0");
        assert_eq!(signed(0.0), "0.0");
    }

    #[test]
    fn durations_for_people() {
        let secs = Duration::from_secs;
        for (d, text) in [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(500), "500ms"),
            (Duration::from_millis(1500), "1.5s"),
            (secs(45), "45s"),
            (secs(602), "10m 2s"),
            (secs(600), "10m"),
            (secs(2 * 3600 + 10 * 60 + 59), "2h 10m"),
            (secs(27 * 3600), "27h"),
            (secs(31 * 3600 + 5), "31h"),
            (secs(47 * 3600 + 59 * 60), "47h 59m"),
            (secs(48 * 3600), "2d"),
            (secs(9 * 86_400 + 3 * 3600 + 7), "9d 3h"),
        ] {
            assert_eq!(duration(d), text, "{d:?}");
        }
        assert_eq!(ago(secs(31 * 3600)), "31h ago");
        assert_eq!(from_now(secs(2 * 3600 + 600)), "in 2h 10m");
    }

    #[test]
    fn approximate_wording() {
        assert_eq!(approximately(Duration::from_secs(45)), "~45 s");
        assert_eq!(approximately(Duration::from_secs(252)), "~4 min");
        assert_eq!(approximately(Duration::from_hours(2)), "~2 h");
        assert_eq!(approximately(Duration::from_hours(72)), "~3 d");
    }

    #[test]
    fn clock_times_in_utc() {
        assert_eq!(clock(1000), "1970-01-01T00:16:40Z");
        assert_eq!(clock(1_796_151_801), "2026-12-01T19:03:21Z");
        assert_eq!(clock(-5), "-5");
    }

    #[test]
    fn labels() {
        assert_eq!(clean_label("it's a \"name\""), "it_s_a_name");
        assert_eq!(
            clean_label("sumSeries(christmaspi.temperature.*)"),
            "sumSeries_christmaspi.temperature"
        );
        assert_eq!(clean_label("/var/log:1"), "/var/log:1");
        assert_eq!(clean_label("***"), "value");
        assert_eq!(
            quote_label("christmaspi.temperature.ham"),
            "christmaspi.temperature.ham"
        );
        assert_eq!(quote_label("/var/log"), "/var/log");
        assert_eq!(quote_label("free space"), "'free space'");
        assert_eq!(quote_label("a=b"), "a_b");
        assert_eq!(quote_label("it's"), "'it''s'");
        assert_eq!(quote_label("a|b"), "a¦b");
        assert_eq!(quote_label(""), "value");
    }

    #[test]
    fn many_items_all_fine_in_one_phrase() {
        assert_eq!(
            all_ok(40, "hosts fresh", "the oldest db07 2h ago"),
            "40 hosts fresh, the oldest db07 2h ago"
        );
        assert_eq!(all_ok(3, "rules met", ""), "3 rules met");
    }
}
