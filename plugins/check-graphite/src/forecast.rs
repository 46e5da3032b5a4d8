//! When will the value cross a threshold at the current rate?

use std::time::Duration;

use nightwatch_core::Range;

/// Time until a value moving at `rate_per_second` first trips `range`;
/// `Some(ZERO)` when it already does, `None` when it never will.
#[must_use]
pub fn time_to_alert(range: &Range, value: f64, rate_per_second: f64) -> Option<Duration> {
    if range.alerts(value) {
        return Some(Duration::ZERO);
    }
    // The boundary the value is heading for: leaving the range through an
    // end, or, for an `@` range, entering it.
    let boundary = match (range.alerts_inside(), rate_per_second > 0.0) {
        (false, true) => range.end(),
        (false, false) => range.start(),
        (true, true) if value < range.start() => range.start(),
        (true, false) if value > range.end() => range.end(),
        _ => return None,
    };
    if rate_per_second == 0.0 || !boundary.is_finite() {
        return None;
    }
    let seconds = (boundary - value) / rate_per_second;
    // Outside-ranges alert strictly past the end, so the crossing itself is
    // the moment; a few seconds either way does not change a page. A
    // crossing more than a year out is no forecast from a window of
    // minutes: the series is not heading anywhere.
    if !(0.0..=HORIZON.as_secs_f64()).contains(&seconds) {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

/// The furthest a forecast looks ahead.
pub const HORIZON: Duration = Duration::from_hours(365 * 24);

#[cfg(test)]
mod tests {
    use super::*;
    use nightwatch_core::display::approximately;

    fn range(text: &str) -> Range {
        text.parse().unwrap()
    }

    #[test]
    fn rising_ham_reaches_warning_then_critical() {
        // 131.2 °F rising 0.9 °F/min: 135 in 4.2 min, 140 in 9.8 min.
        let rate = 0.9 / 60.0;
        let warning = time_to_alert(&range("135"), 131.2, rate).unwrap();
        let critical = time_to_alert(&range("140"), 131.2, rate).unwrap();
        assert_eq!(approximately(warning), "~4 min");
        assert_eq!(approximately(critical), "~10 min");
        assert!(
            (critical.as_secs_f64() - 586.666).abs() < 0.01,
            "{critical:?}"
        );
    }

    #[test]
    fn falling_oven_and_ranges_never_reached() {
        let rate = -2.0 / 60.0;
        let until = time_to_alert(&range("320:"), 330.0, rate).unwrap();
        assert_eq!(until.as_secs(), 300);
        let cooling = time_to_alert(&range("~:140"), 120.0, -0.1);
        assert_eq!(cooling, None, "cooling ham never pages");
        // `140` is 0..140 in Nagios terms: falling below zero alerts too.
        let freezing = time_to_alert(&range("140"), 120.0, -0.1);
        assert_eq!(freezing, Some(Duration::from_mins(20)));
        assert_eq!(time_to_alert(&range("140"), 120.0, 0.0), None);
        assert_eq!(
            time_to_alert(&range("140"), 141.0, 0.1),
            Some(Duration::ZERO)
        );
        assert_eq!(
            time_to_alert(&range("@10:20"), 5.0, 1.0),
            Some(Duration::from_secs(5))
        );
        assert_eq!(time_to_alert(&range("@10:20"), 25.0, 1.0), None);
    }

    #[test]
    fn round_off_rates_and_huge_gaps_are_not_forecasts() {
        assert_eq!(time_to_alert(&range("135"), 131.2, 1e-17), None);
        assert_eq!(time_to_alert(&range("1e308"), 0.0, f64::MIN_POSITIVE), None);
        assert_eq!(time_to_alert(&range("~:1e308"), -1e308, 1e-300), None);
    }
}
