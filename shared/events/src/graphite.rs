//! The newest non-null point of each Graphite series, as an event: a
//! backup job that writes `backups.db01.last_success` every run is seen
//! when its series last got a value.

use std::time::{SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use nightwatch_graphite::{Graphite, RenderQuery};
use serde_json::{Map, Value};

use crate::{Event, EventsError, GroupNewest, NewestPerGroup, Tally};

/// Graphite's answer, and its clock.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesNewest {
    /// One group per series (named by the series), `newest` its newest
    /// point at or before `not_after`, `future` a newer one. A series
    /// with no value in the window has neither.
    pub answer: NewestPerGroup,
    /// Graphite's clock (the `Date` header), when sent.
    pub server_time: Option<Timestamp>,
}

/// The newest non-null point of each series `targets` match from `from`
/// (Graphite time syntax, `-7d`) until now.
pub fn newest_per_series(
    graphite: &Graphite,
    targets: &[String],
    from: &str,
    not_after: Option<Timestamp>,
) -> Result<SeriesNewest, EventsError> {
    let reply = graphite.render(&RenderQuery {
        targets,
        from,
        until: None,
    })?;
    let server_time = reply.server_time.and_then(|t| {
        let since = t.duration_since(UNIX_EPOCH).ok()?;
        Timestamp::from_second(i64::try_from(since.as_secs()).ok()?).ok()
    });
    let not_after = not_after
        .or(server_time)
        .unwrap_or_else(|| to_timestamp(SystemTime::now()));
    let mut tally = Tally::default();
    for series in &reply.series {
        let group = Some(series.target.clone());
        let points: Vec<(i64, f64)> = series.values().collect();
        let mut entry = GroupNewest {
            group: group.clone(),
            newest: None,
            future: None,
            count: points.len() as u64,
        };
        for &(time, value) in points.iter().rev() {
            let Ok(at) = Timestamp::from_second(time) else {
                continue;
            };
            let mut fields = Map::new();
            if let Some(number) = serde_json::Number::from_f64(value) {
                fields.insert("value".into(), Value::Number(number));
            }
            let event = Event {
                at,
                group: group.clone(),
                id: None,
                fields,
            };
            if at > not_after {
                if entry.future.is_none() {
                    entry.future = Some(event);
                }
            } else {
                entry.newest = Some(event);
                break;
            }
        }
        tally.insert(entry);
    }
    Ok(SeriesNewest {
        answer: NewestPerGroup {
            groups: tally.into_groups(),
            stats: crate::ReadStats::default(),
        },
        server_time,
    })
}

fn to_timestamp(time: SystemTime) -> Timestamp {
    Timestamp::try_from(time).unwrap_or(Timestamp::UNIX_EPOCH)
}
