//! Graphite's time syntax for `from` and `until`, checked before sending:
//! `-5m` is not Graphite (minutes are `min`; `m` is refused), and saying so
//! beats passing on a bare HTTP 400.

/// A `from`/`until` value Graphite would refuse, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not Graphite time syntax: {hint}")]
pub struct TimeSyntaxError {
    pub text: String,
    pub hint: String,
}

/// Checks relative offsets (`-5min`, `-1h`, `-2d`, `-1w`, `-1mon`, `-1y`,
/// also combined `-1d-2h`) and epoch seconds; other absolute forms
/// (`now`, `12:00_20261224`, `yesterday`) are left for Graphite to judge.
pub fn check_time(text: &str) -> Result<(), TimeSyntaxError> {
    let fail = |hint: String| TimeSyntaxError {
        text: text.to_owned(),
        hint,
    };
    if text.is_empty() {
        return Err(fail("it is empty (e.g. -5min, -1h, now)".into()));
    }
    if !text.starts_with(['-', '+']) {
        return Ok(());
    }
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.strip_prefix(['-', '+']).unwrap_or(rest);
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (amount, after) = rest.split_at(digits);
        let letters = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (unit, after) = after.split_at(letters);
        if amount.is_empty() && unit.is_empty() {
            return Err(fail(format!("unexpected {after:?} (e.g. -5min, -1h, -2d)")));
        }
        if unit.is_empty() {
            return Err(fail(format!(
                "{amount} needs a unit: s, min, h, d, w, mon or y (e.g. -{amount}min)"
            )));
        }
        if !unit_is_known(unit) {
            let hint = if unit == "m" || unit == "M" {
                format!("minutes are 'min' in Graphite (-{amount}min); 'm' is refused")
            } else {
                format!("unknown unit '{unit}' (use s, min, h, d, w, mon or y)")
            };
            return Err(fail(hint));
        }
        rest = after;
    }
    Ok(())
}

/// graphite-web's `getUnitString`: a unit is recognised by its prefix.
fn unit_is_known(unit: &str) -> bool {
    let unit = unit.to_ascii_lowercase();
    ["s", "min", "h", "d", "w", "mon", "y"]
        .iter()
        .any(|prefix| unit.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphite_offsets_pass() {
        for ok in [
            "-5min",
            "-1h",
            "-2d",
            "-1w",
            "-1mon",
            "-1y",
            "-30s",
            "-1d-2h",
            "-5minutes",
            "now",
            "1700000000",
            "12:00_20261224",
            "yesterday",
            "+1h",
        ] {
            assert_eq!(check_time(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn minutes_as_m_are_explained() {
        let err = check_time("-5m").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'-5m' is not Graphite time syntax: minutes are 'min' in Graphite (-5min); 'm' is refused"
        );
        assert!(check_time("-5").unwrap_err().hint.contains("needs a unit"));
        assert!(
            check_time("-5q")
                .unwrap_err()
                .hint
                .contains("unknown unit 'q'")
        );
        assert!(check_time("").is_err());
        assert!(check_time("-").is_err());
    }
}
