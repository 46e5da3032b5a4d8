//! Events in Elasticsearch or `OpenSearch`: a Lucene query over index
//! patterns, a date field, and an optional keyword field to group by.
//!
//! The newest event per group is a composite aggregation (paged, so no
//! group is cut however many there are: `ElastAlert`'s terms query stops
//! at 50) with two `max` sub-aggregations: the newest event at or before
//! `not_after` (a `filter` on the date) and the newest overall. Listing
//! events is a sorted search.

use jiff::Timestamp;
use nightwatch_search::{
    Agg, Hit, IndexPattern, Query, Search, SearchClient, Sort, TrackTotal, resolve,
};
use serde_json::{Map, Value};

use crate::time::{TimeContext, time_of_value};
use crate::{Event, EventSource, Events, EventsError, NewestPerGroup, Tally, Window, field_of};

/// Groups a composite page holds by default: a page that comes back full
/// costs one more request to learn it was the last, so pages are large
/// (well under the servers' `search.max_buckets`, 10 000 and more).
pub const PAGE: u32 = 5000;

/// The most events [`EventSource::events_in`] lists (the servers'
/// `index.max_result_window`).
pub const MAX_LIST: usize = 10_000;

/// Events in a search cluster.
#[derive(Debug)]
pub struct EsSource {
    client: SearchClient,
    indices: Vec<IndexPattern>,
    query: Option<String>,
    time_field: String,
    group_field: Option<String>,
    page: u32,
}

impl EsSource {
    /// Documents of `indices` matching `query` (Lucene syntax; `None`:
    /// all), timed by `time_field`, grouped by `group_field` (a keyword
    /// field such as `host.keyword`) when given.
    #[must_use]
    pub fn new(
        client: SearchClient,
        indices: Vec<IndexPattern>,
        query: Option<String>,
        time_field: &str,
        group_field: Option<&str>,
    ) -> EsSource {
        EsSource {
            client,
            indices,
            query,
            time_field: time_field.to_owned(),
            group_field: group_field.map(str::to_owned),
            page: PAGE,
        }
    }

    /// Pages of `groups` groups instead of [`PAGE`] (at least 1).
    #[must_use]
    pub fn with_page_size(mut self, groups: u32) -> EsSource {
        self.page = groups.max(1);
        self
    }

    fn query(&self, window: &Window, groups: Option<&[String]>) -> Query {
        let mut clauses = vec![Query::within(&self.time_field, window)];
        if let Some(text) = self.query.as_deref().filter(|q| !q.trim().is_empty()) {
            clauses.insert(0, Query::query_string(text, None));
        }
        if let (Some(field), Some(groups)) = (&self.group_field, groups) {
            clauses.push(Query::terms(field, groups.iter().map(String::as_str)));
        }
        Query::all(clauses)
    }

    /// The newest time of each group (or of all, ungrouped) matching
    /// `query`, with its count: a `max` per composite bucket, paged.
    fn latest(&self, indices: &[String], query: &Query) -> Result<Vec<Latest>, EventsError> {
        let max = Agg::max(&self.time_field);
        let Some(field) = self.group_field.as_deref() else {
            let search = Search::new(query.clone())
                .track_total_hits(TrackTotal::Exact)
                .agg("latest", max);
            let reply = self.client.search(indices, &search)?;
            let count = reply.hits.total.map_or(0, |t| t.value);
            return Ok(if count > 0 {
                vec![(None, count, max_at(&reply.aggregations.0, &["latest"]))]
            } else {
                Vec::new()
            });
        };
        let agg = Agg::composite(self.page, [("group", field)]).sub("latest", max);
        // The first page alone: most sources have fewer groups than a
        // page, and then one request answers. More pages go through the
        // client's paging, from where this one ended.
        let first = self.client.search(
            indices,
            &Search::new(query.clone()).agg("pages", agg.clone()),
        )?;
        let page = first
            .aggregations
            .composite("pages")
            .map_err(|e| EventsError::BadSource(format!("{}: {e}", self.client.base_url())))?;
        let full = page.buckets.len() >= self.page as usize;
        let mut buckets = page.buckets;
        if let (true, Some(key)) = (full, page.after_key) {
            buckets.extend(
                self.client
                    .composite_buckets(indices, query, &agg.after(key))?,
            );
        }
        Ok(buckets
            .into_iter()
            .map(|b| {
                let at = max_at(&b.aggregations.0, &["latest"]);
                (Some(b.key_text()), b.doc_count, at)
            })
            .collect())
    }

    /// Where a group's value is in `_source`: `host.keyword` is the
    /// keyword sub-field of `host`.
    fn group_of(&self, source: &Value) -> Option<String> {
        let field = self.group_field.as_deref()?;
        let path = field.strip_suffix(".keyword").unwrap_or(field);
        let Value::Object(fields) = source else {
            return None;
        };
        match field_of(fields, path)? {
            Value::String(text) => Some(text.clone()),
            Value::Array(values) => values.first().and_then(|v| v.as_str().map(str::to_owned)),
            other => Some(other.to_string()),
        }
    }
}

/// A group, its count of events, and its newest time.
type Latest = (Option<String>, u64, Option<Timestamp>);

/// A `max` of a date in an aggregation result, in epoch ms.
fn max_at(aggs: &Map<String, Value>, path: &[&str]) -> Option<Timestamp> {
    let mut value = aggs.get(path[0])?;
    for step in &path[1..] {
        value = value.get(step)?;
    }
    let millis = value.get("value")?.as_f64()?;
    #[allow(clippy::cast_possible_truncation)] // whole milliseconds, checked by jiff's range
    Timestamp::from_millisecond(millis.round() as i64).ok()
}

fn bare_event(at: Timestamp, group: Option<String>) -> Event {
    Event {
        at,
        group,
        id: None,
        fields: Map::new(),
    }
}

impl EventSource for EsSource {
    fn newest_per_group(
        &self,
        window: &Window,
        not_after: Timestamp,
        groups: Option<&[String]>,
    ) -> Result<NewestPerGroup, EventsError> {
        let indices =
            resolve(&self.indices, window).map_err(nightwatch_search::SearchError::from)?;
        // One max per group; only groups whose newest event is ahead of
        // `not_after` (a wrong clock, rare) are asked again, up to it.
        let mut tally = Tally::default();
        let mut ahead: Vec<(Option<String>, Timestamp)> = Vec::new();
        for (group, count, latest) in self.latest(&indices, &self.query(window, groups))? {
            let mut entry = crate::GroupNewest {
                group: group.clone(),
                newest: None,
                future: None,
                count,
            };
            match latest {
                Some(at) if at > not_after => {
                    entry.future = Some(bare_event(at, group.clone()));
                    ahead.push((group, at));
                }
                at => entry.newest = at.map(|at| bare_event(at, group)),
            }
            tally.insert(entry);
        }
        if !ahead.is_empty() {
            let names: Vec<String> = ahead.iter().filter_map(|(g, _)| g.clone()).collect();
            let until = Window::new(window.from, not_after.max(window.from));
            let narrowed = self.group_field.as_ref().map(|_| names.as_slice());
            for (group, _, newest) in self.latest(&indices, &self.query(&until, narrowed))? {
                if let Some(at) = newest {
                    tally.set_newest(group.as_deref(), bare_event(at, group.clone()));
                }
            }
        }
        Ok(NewestPerGroup {
            groups: tally.into_groups(),
            stats: crate::ReadStats::default(),
        })
    }

    fn events_in(
        &self,
        window: &Window,
        groups: Option<&[String]>,
        limit: usize,
    ) -> Result<Events, EventsError> {
        if limit > MAX_LIST {
            return Err(EventsError::Usage(format!(
                "at most {MAX_LIST} events can be listed from a search server, not {limit}"
            )));
        }
        let indices =
            resolve(&self.indices, window).map_err(nightwatch_search::SearchError::from)?;
        // One more than asked says whether there were more.
        let size = u32::try_from(limit + 1).unwrap_or(u32::MAX);
        let search = Search::new(self.query(window, groups))
            .size(size)
            .sort(Sort::desc(&self.time_field).unmapped_as("date"))
            .track_total_hits(TrackTotal::No);
        let reply = self.client.search(&indices, &search)?;
        let context = TimeContext::utc(window.to);
        let mut events = Vec::new();
        for hit in reply.hits.hits {
            events.push(self.event_of(hit, &context)?);
        }
        let more = events.len() > limit;
        events.truncate(limit);
        Ok(Events {
            events,
            more,
            stats: crate::ReadStats::default(),
        })
    }

    fn describe(&self) -> String {
        let indices: Vec<&str> = self.indices.iter().map(IndexPattern::as_str).collect();
        format!("{} {}", self.client.base_url(), indices.join(","))
    }
}

impl EsSource {
    fn event_of(&self, hit: Hit, context: &TimeContext) -> Result<Event, EventsError> {
        // The sort value is the date as the server indexed it, in ms.
        let at = hit
            .sort
            .first()
            .and_then(Value::as_f64)
            .and_then(crate::time::epoch)
            .or_else(|| {
                let Value::Object(fields) = &hit.source else {
                    return None;
                };
                time_of_value(field_of(fields, &self.time_field)?, context).ok()
            })
            .ok_or_else(|| {
                EventsError::BadSource(format!(
                    "the document {}/{} has no {} date",
                    hit.index, hit.id, self.time_field
                ))
            })?;
        let group = self.group_of(&hit.source);
        let fields = match hit.source {
            Value::Object(fields) => fields,
            _ => Map::new(),
        };
        Ok(Event {
            at,
            group,
            id: Some(hit.id),
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn max_dates_of_aggregation_results() {
        let Value::Object(found) = json!({
            "newest": {"doc_count": 2, "at": {"value": 1.795_514_4e12, "value_as_string": "2026-11-24T10:00:00.000Z"}},
            "latest": {"value": null},
        }) else {
            unreachable!()
        };
        assert_eq!(
            max_at(&found, &["newest", "at"]),
            Some("2026-11-24T10:00:00Z".parse().unwrap())
        );
        assert_eq!(max_at(&found, &["latest"]), None);
        assert_eq!(max_at(&found, &["nope"]), None);
    }
}
