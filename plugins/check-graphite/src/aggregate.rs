//! Turning a window of points into the number judged, and fitting a line
//! through it for slopes and forecasts.

use crate::args::Aggregation;

/// A least-squares line through a window: `value = intercept + rate * t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Change per second.
    pub rate_per_second: f64,
}

impl Trend {
    #[must_use]
    pub fn per_minute(&self) -> f64 {
        self.rate_per_second * 60.0
    }
}

/// Fits a line through `(unix time, value)` points; `None` for fewer than
/// two distinct times.
#[must_use]
pub fn fit(points: &[(i64, f64)]) -> Option<Trend> {
    let (&(t0, v0), _) = points.split_first()?;
    // Times relative to the first keep the sums small and exact; values
    // relative to the first make a flat series' rate exactly zero, where
    // raw sums of 131.2 leave a round-off slope that "crosses" in 10^13 days.
    let n = points.len() as f64;
    let mean_time = points
        .iter()
        .map(|&(t, _)| seconds_between(t0, t))
        .sum::<f64>()
        / n;
    let (mut spread, mut covariance) = (0.0, 0.0);
    for &(t, v) in points {
        let dt = seconds_between(t0, t) - mean_time;
        spread += dt * dt;
        covariance += dt * (v - v0);
    }
    if spread < f64::EPSILON {
        return None;
    }
    let rate_per_second = covariance / spread;
    rate_per_second
        .is_finite()
        .then_some(Trend { rate_per_second })
}

/// `later - earlier` in seconds, for any two timestamps a server sends.
#[allow(clippy::cast_precision_loss)] // a window of seconds is far below 2^52
fn seconds_between(earlier: i64, later: i64) -> f64 {
    (i128::from(later) - i128::from(earlier)) as f64
}

/// The aggregate of `points` (nulls already dropped, oldest first), or
/// `None` when there are too few: none, or one for a slope.
#[must_use]
pub fn aggregate(aggregation: Aggregation, points: &[(i64, f64)]) -> Option<f64> {
    let values = || points.iter().map(|&(_, v)| v);
    let (_, last) = *points.last()?;
    Some(match aggregation {
        Aggregation::Last => last,
        Aggregation::Avg => values().sum::<f64>() / points.len() as f64,
        Aggregation::Min => values().fold(f64::INFINITY, f64::min),
        Aggregation::Max => values().fold(f64::NEG_INFINITY, f64::max),
        Aggregation::Sum => values().sum(),
        Aggregation::Median => {
            let mut sorted: Vec<f64> = values().collect();
            sorted.sort_by(f64::total_cmp);
            let middle = sorted.len() / 2;
            if sorted.len().is_multiple_of(2) {
                f64::midpoint(sorted[middle - 1], sorted[middle])
            } else {
                sorted[middle]
            }
        }
        Aggregation::Slope => fit(points)?.per_minute(),
    })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // the windows below have exact answers
mod tests {
    use super::*;
    use Aggregation::{Avg, Last, Max, Median, Min, Slope, Sum};

    const WINDOW: [(i64, f64); 4] = [(100, 4.0), (101, 1.0), (102, 3.0), (103, 2.0)];

    #[test]
    fn aggregates_of_a_window() {
        assert_eq!(aggregate(Last, &WINDOW), Some(2.0));
        assert_eq!(aggregate(Avg, &WINDOW), Some(2.5));
        assert_eq!(aggregate(Min, &WINDOW), Some(1.0));
        assert_eq!(aggregate(Max, &WINDOW), Some(4.0));
        assert_eq!(aggregate(Sum, &WINDOW), Some(10.0));
        assert_eq!(aggregate(Median, &WINDOW), Some(2.5));
        assert_eq!(aggregate(Median, &WINDOW[..3]), Some(3.0));
        assert_eq!(aggregate(Last, &[]), None);
        assert_eq!(aggregate(Slope, &WINDOW[..1]), None);
    }

    #[test]
    fn a_flat_series_has_no_slope_at_all() {
        let flat: Vec<(i64, f64)> = (0..300).map(|i| (1_700_000_000 + i * 10, 131.2)).collect();
        assert_eq!(fit(&flat).unwrap().rate_per_second, 0.0);
        let extremes = [(i64::MIN, 1.0), (i64::MAX, 2.0)];
        assert!(fit(&extremes).unwrap().rate_per_second > 0.0);
    }

    #[test]
    fn slope_is_per_minute() {
        // 0.9 °F a minute, sampled each second: the misplaced ham probe.
        let ramp: Vec<(i64, f64)> = (0..300)
            .map(|s| (1_000 + s, 120.0 + 0.015 * s as f64))
            .collect();
        let slope = aggregate(Slope, &ramp).unwrap();
        assert!((slope - 0.9).abs() < 1e-9, "{slope}");
        let flat = [(0, 5.0), (60, 5.0)];
        assert_eq!(aggregate(Slope, &flat), Some(0.0));
        assert_eq!(fit(&[(5, 1.0), (5, 2.0)]), None, "one instant has no slope");
    }
}
