//! Parsing Graphite's render API JSON (`format=json`).
//!
//! Graphite writes infinity as `1e9999`, which `serde_json` refuses as out of
//! range, so values are read as raw text and converted by hand.

use serde::Deserialize;
use serde_json::value::RawValue;

/// One series of a render reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' name as Graphite resolved it (`christmaspi.temperature.ham`).
    pub target: String,
    /// `(unix time, value)`, oldest first; `None` is a gap, not a zero.
    pub points: Vec<(i64, Option<f64>)>,
}

impl Series {
    /// The points that hold a value.
    #[must_use = "it is a lazy iterator"]
    pub fn values(&self) -> impl DoubleEndedIterator<Item = (i64, f64)> + '_ {
        self.points.iter().filter_map(|&(t, v)| v.map(|v| (t, v)))
    }

    /// The newest point that holds a value.
    #[must_use]
    pub fn last_value(&self) -> Option<(i64, f64)> {
        self.values().next_back()
    }
}

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderParseError {
    #[error("the reply is not Graphite render JSON ({reason}); it starts with {excerpt:?}")]
    NotJson { reason: String, excerpt: String },
    #[error("series {target:?} has a datapoint value {value:?} that is not a number")]
    BadValue { target: String, value: String },
}

#[derive(Deserialize)]
struct RawSeries {
    target: String,
    datapoints: Points,
}

/// A series' datapoints, parsed straight into the points as the JSON is
/// read: no intermediate list of raw values (a 100-series render is ~30 000
/// points). A value that is not a number is kept as text, since the error
/// names the series and `target` may come after `datapoints`.
struct Points {
    points: Vec<(i64, Option<f64>)>,
    bad_value: Option<String>,
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Points, D::Error> {
        deserializer.deserialize_seq(PointsVisitor)
    }
}

struct PointsVisitor;

impl<'de> serde::de::Visitor<'de> for PointsVisitor {
    type Value = Points;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of [value, time] datapoints")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Points, A::Error> {
        // Capped: the size hint comes from the input.
        let mut points = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let mut bad_value = None;
        while let Some((value, time)) = seq.next_element::<(Option<&'de RawValue>, f64)>()? {
            let value = match value.map(RawValue::get) {
                None | Some("null") => None,
                Some(text) => {
                    let parsed = parse_value(text);
                    if parsed.is_none() && bad_value.is_none() {
                        bad_value = Some(text.to_owned());
                    }
                    parsed
                }
            };
            // Graphite sends whole seconds; a fraction would be a bug
            // upstream, and an absurd time saturates (shown, not trusted).
            #[allow(clippy::cast_possible_truncation)]
            points.push((time as i64, value));
        }
        Ok(Points { points, bad_value })
    }
}

/// Parses a render reply.
pub fn parse_render(body: &[u8]) -> Result<Vec<Series>, RenderParseError> {
    let raw: Vec<RawSeries> =
        serde_json::from_slice(body).map_err(|e| RenderParseError::NotJson {
            reason: e.to_string(),
            excerpt: excerpt(body),
        })?;
    raw.into_iter()
        .map(|series| match series.datapoints.bad_value {
            Some(value) => Err(RenderParseError::BadValue {
                target: series.target,
                value,
            }),
            None => Ok(Series {
                target: series.target,
                points: series.datapoints.points,
            }),
        })
        .collect()
}

/// A JSON number, where `1e9999` is infinity as Graphite means it.
fn parse_value(text: &str) -> Option<f64> {
    let number_like = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if !number_like {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| !v.is_nan())
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(60)]);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_series_gaps_and_infinity() {
        let body = br#"[{"target": "christmaspi.temperature.ham", "tags": {"name": "x"},
            "datapoints": [[131.2, 1700000000], [null, 1700000001], [1e9999, 1700000002], [-1e9999, 1700000003], [7, 1700000004]]}]"#;
        let series = parse_render(body).unwrap();
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].target, "christmaspi.temperature.ham");
        assert_eq!(
            series[0].points,
            vec![
                (1_700_000_000, Some(131.2)),
                (1_700_000_001, None),
                (1_700_000_002, Some(f64::INFINITY)),
                (1_700_000_003, Some(f64::NEG_INFINITY)),
                (1_700_000_004, Some(7.0)),
            ]
        );
        assert_eq!(series[0].last_value(), Some((1_700_000_004, 7.0)));
        assert_eq!(parse_render(b"[]").unwrap(), vec![]);
    }

    #[test]
    fn html_and_garbage_are_named() {
        let err = parse_render(b"<html><title>Server Error</title>").unwrap_err();
        assert!(
            err.to_string().contains("not Graphite render JSON"),
            "{err}"
        );
        assert!(err.to_string().contains("<html>"), "{err}");
        let err = parse_render(br#"[{"target": "a", "datapoints": [["x", 1]]}]"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"series "a" has a datapoint value "\"x\"" that is not a number"#
        );
    }

    fn value_text() -> impl Strategy<Value = (String, Option<f64>)> {
        prop_oneof![
            Just(("null".to_owned(), None)),
            Just(("1e9999".to_owned(), Some(f64::INFINITY))),
            Just(("-1e9999".to_owned(), Some(f64::NEG_INFINITY))),
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(|v| (format!("{v:?}"), Some(v))),
            any::<i32>().prop_map(|v| (v.to_string(), Some(f64::from(v)))),
        ]
    }

    proptest! {
        #[test]
        fn any_render_reply_reads_back(
            series in proptest::collection::vec(
                ("[a-z.*]{1,20}", proptest::collection::vec((value_text(), 0..2_000_000_000i64), 0..40)),
                0..5,
            )
        ) {
            let json: Vec<String> = series.iter().map(|(target, points)| {
                let points: Vec<String> = points.iter().map(|((text, _), t)| format!("[{text}, {t}]")).collect();
                format!(r#"{{"target": "{target}", "datapoints": [{}]}}"#, points.join(", "))
            }).collect();
            let body = format!("[{}]", json.join(", "));
            let parsed = parse_render(body.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.len(), series.len());
            for (got, (target, points)) in parsed.iter().zip(&series) {
                prop_assert_eq!(&got.target, target);
                let expected: Vec<(i64, Option<f64>)> = points.iter().map(|((_, v), t)| (*t, *v)).collect();
                prop_assert_eq!(&got.points, &expected);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_errors_say_what(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            match parse_render(&body) {
                Ok(_) => prop_assert!(body.trim_ascii_start().starts_with(b"["), "{:?}", body),
                Err(e) => {
                    let message = e.to_string();
                    prop_assert!(message.contains("not Graphite render JSON") || message.contains("not a number"), "{}", message);
                }
            }
        }
    }
}
