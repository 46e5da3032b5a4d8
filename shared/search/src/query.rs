//! What to ask: queries, sorts, aggregations and a whole `_search` body,
//! built as the JSON both Elasticsearch (7, 8) and `OpenSearch` (1–3) read.
//! Only what the plugins use is typed; [`Query::raw`] and [`Agg::raw`] take
//! anything else.

use serde_json::{Map, Value, json};

use crate::index::Window;

/// A query clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Query(Value);

impl Query {
    /// Every document.
    #[must_use]
    pub fn match_all() -> Query {
        Query(json!({"match_all": {}}))
    }

    /// Lucene syntax (`eventName:Authorize*`), searched in `default_field`
    /// when a term names no field. A `/` starts a regex in this syntax:
    /// quote CIDRs and paths.
    #[must_use]
    pub fn query_string(query: &str, default_field: Option<&str>) -> Query {
        let mut body = json!({"query": query});
        if let Some(field) = default_field {
            body["default_field"] = json!(field);
        }
        Query(json!({"query_string": body}))
    }

    /// `field` is exactly `value` (use the `.keyword` field of text).
    #[must_use]
    pub fn term(field: &str, value: impl Into<Value>) -> Query {
        Query(json!({"term": {field: value.into()}}))
    }

    /// `field` is one of `values`.
    #[must_use]
    pub fn terms<V: Into<Value>>(field: &str, values: impl IntoIterator<Item = V>) -> Query {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        Query(json!({"terms": {field: values}}))
    }

    /// `field` has a value.
    #[must_use]
    pub fn exists(field: &str) -> Query {
        Query(json!({"exists": {"field": field}}))
    }

    /// The date `field` is within `window`, both ends included. Sent as
    /// epoch milliseconds, which every date mapping reads whatever its own
    /// format.
    #[must_use]
    pub fn within(field: &str, window: &Window) -> Query {
        Query(json!({"range": {field: {
            "gte": window.from.as_millisecond(),
            "lte": window.to.as_millisecond(),
            "format": "epoch_millis",
        }}}))
    }

    /// Every one of `queries` matches (a `bool` filter: no scoring).
    #[must_use]
    pub fn all(queries: impl IntoIterator<Item = Query>) -> Query {
        let filter: Vec<Value> = queries.into_iter().map(|q| q.0).collect();
        Query(json!({"bool": {"filter": filter}}))
    }

    /// At least one of `queries` matches.
    #[must_use]
    pub fn any(queries: impl IntoIterator<Item = Query>) -> Query {
        let should: Vec<Value> = queries.into_iter().map(|q| q.0).collect();
        Query(json!({"bool": {"should": should, "minimum_should_match": 1}}))
    }

    /// `query` does not match.
    #[must_use]
    #[allow(clippy::should_implement_trait, clippy::needless_pass_by_value)] // reads as the bool clause it builds
    pub fn not(query: Query) -> Query {
        Query(json!({"bool": {"must_not": [query.0]}}))
    }

    /// Any other query clause, as JSON.
    #[must_use]
    pub fn raw(json: Value) -> Query {
        Query(json)
    }

    /// The clause as JSON.
    #[must_use]
    pub fn to_json(&self) -> &Value {
        &self.0
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub field: String,
    pub order: Order,
    /// The type to assume in indices where `field` is not mapped; without
    /// it each such index fails its shards ("No mapping found for \[field\]
    /// in order to sort on").
    pub unmapped_type: Option<String>,
}

impl Sort {
    #[must_use]
    pub fn asc(field: &str) -> Sort {
        Sort {
            field: field.to_owned(),
            order: Order::Asc,
            unmapped_type: None,
        }
    }

    /// Newest first, for a date field.
    #[must_use]
    pub fn desc(field: &str) -> Sort {
        Sort {
            field: field.to_owned(),
            order: Order::Desc,
            unmapped_type: None,
        }
    }

    /// The same, assuming `kind` (`date`, `long`, `keyword`) where `field`
    /// is not mapped.
    #[must_use]
    pub fn unmapped_as(mut self, kind: &str) -> Sort {
        self.unmapped_type = Some(kind.to_owned());
        self
    }

    fn to_json(&self) -> Value {
        let mut spec = json!({"order": self.order.as_str()});
        if let Some(kind) = &self.unmapped_type {
            spec["unmapped_type"] = json!(kind);
        }
        json!({ self.field.as_str(): spec })
    }
}

fn sorts(sort: &[Sort]) -> Value {
    Value::Array(sort.iter().map(Sort::to_json).collect())
}

/// An aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct Agg {
    kind: &'static str,
    body: Map<String, Value>,
    aggs: Vec<(String, Agg)>,
}

impl Agg {
    fn new(kind: &'static str, body: Value) -> Agg {
        let Value::Object(body) = body else {
            unreachable!("aggregation bodies are built as objects")
        };
        Agg {
            kind,
            body,
            aggs: Vec::new(),
        }
    }

    /// One bucket per value of `field` (a keyword), the `size` biggest. A
    /// reply with a nonzero [`Terms::sum_other_doc_count`] left groups out.
    ///
    /// [`Terms::sum_other_doc_count`]: crate::Terms::sum_other_doc_count
    #[must_use]
    pub fn terms(field: &str, size: u32) -> Agg {
        Agg::new("terms", json!({"field": field, "size": size}))
    }

    /// Order a terms aggregation's buckets by a sub-aggregation's value
    /// (`order_by("newest", Order::Asc)`: stalest group first).
    #[must_use]
    pub fn order_by(mut self, sub: &str, order: Order) -> Agg {
        self.body
            .insert("order".into(), json!({ sub: order.as_str() }));
        self
    }

    /// Pages of buckets over `sources` (name, field), `size` a page, for
    /// more groups than one terms aggregation should return; continue with
    /// [`after`](Agg::after) and the reply's `after_key`.
    #[must_use]
    pub fn composite<'a>(size: u32, sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Agg {
        let sources: Vec<Value> = sources
            .into_iter()
            .map(|(name, field)| json!({ name: {"terms": {"field": field}} }))
            .collect();
        Agg::new("composite", json!({"size": size, "sources": sources}))
    }

    /// The page of a composite aggregation after `key`.
    #[must_use]
    pub fn after(mut self, key: Value) -> Agg {
        self.body.insert("after".into(), key);
        self
    }

    /// The largest value of `field` (for a date: the newest, in epoch ms).
    #[must_use]
    pub fn max(field: &str) -> Agg {
        Agg::new("max", json!({"field": field}))
    }

    /// The smallest value of `field`.
    #[must_use]
    pub fn min(field: &str) -> Agg {
        Agg::new("min", json!({"field": field}))
    }

    /// The first `size` documents of each bucket by `sort`.
    #[must_use]
    pub fn top_hits(size: u32, sort: &[Sort]) -> Agg {
        Agg::new("top_hits", json!({"size": size, "sort": sorts(sort)}))
    }

    /// Only these fields of each document's `_source` (top hits).
    #[must_use]
    pub fn source(mut self, fields: &[&str]) -> Agg {
        self.body.insert("_source".into(), json!(fields));
        self
    }

    /// Any other aggregation: `kind` (`cardinality`) and its body.
    #[must_use]
    pub fn raw(kind: &'static str, body: Value) -> Agg {
        match body {
            Value::Object(body) => Agg {
                kind,
                body,
                aggs: Vec::new(),
            },
            other => Agg::new(kind, json!({"value": other})),
        }
    }

    /// A sub-aggregation computed in each bucket.
    #[must_use]
    pub fn sub(mut self, name: &str, agg: Agg) -> Agg {
        self.aggs.push((name.to_owned(), agg));
        self
    }

    /// The aggregation as JSON.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert(self.kind.into(), Value::Object(self.body.clone()));
        if !self.aggs.is_empty() {
            out.insert("aggs".into(), aggs(&self.aggs));
        }
        Value::Object(out)
    }
}

fn aggs(aggs: &[(String, Agg)]) -> Value {
    Value::Object(
        aggs.iter()
            .map(|(name, agg)| (name.clone(), agg.to_json()))
            .collect(),
    )
}

/// How far to count the hits ([`Search::track_total_hits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackTotal {
    /// Exactly, however many (slower on big indices).
    Exact,
    /// Up to this many, then "at least" (Elasticsearch's default: 10 000).
    UpTo(u32),
    /// Not at all: the reply has no total.
    No,
}

/// A `_search` request body, and how its reply should count.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub query: Query,
    pub sort: Vec<Sort>,
    /// Hits returned (0: only the total and the aggregations).
    pub size: u32,
    /// Only these fields of each hit's `_source`.
    pub source: Option<Vec<String>>,
    pub aggs: Vec<(String, Agg)>,
    pub track_total_hits: Option<TrackTotal>,
    /// Ask for `hits.total` as a plain number
    /// (`rest_total_hits_as_int`), the shape of Elasticsearch 6 and older.
    pub total_as_int: bool,
}

impl Search {
    /// `query`, returning no hits until [`size`](Search::size) is given.
    #[must_use]
    pub fn new(query: Query) -> Search {
        Search {
            query,
            sort: Vec::new(),
            size: 0,
            source: None,
            aggs: Vec::new(),
            track_total_hits: None,
            total_as_int: false,
        }
    }

    #[must_use]
    pub fn size(mut self, size: u32) -> Search {
        self.size = size;
        self
    }

    #[must_use]
    pub fn sort(mut self, sort: Sort) -> Search {
        self.sort.push(sort);
        self
    }

    #[must_use]
    pub fn source(mut self, fields: &[&str]) -> Search {
        self.source = Some(fields.iter().map(|&f| f.to_owned()).collect());
        self
    }

    #[must_use]
    pub fn agg(mut self, name: &str, agg: Agg) -> Search {
        self.aggs.push((name.to_owned(), agg));
        self
    }

    #[must_use]
    pub fn track_total_hits(mut self, track: TrackTotal) -> Search {
        self.track_total_hits = Some(track);
        self
    }

    #[must_use]
    pub fn total_as_int(mut self) -> Search {
        self.total_as_int = true;
        self
    }

    /// The request body.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut body = json!({"query": self.query.0, "size": self.size});
        if !self.sort.is_empty() {
            body["sort"] = sorts(&self.sort);
        }
        if let Some(fields) = &self.source {
            body["_source"] = json!(fields);
        }
        if !self.aggs.is_empty() {
            body["aggs"] = aggs(&self.aggs);
        }
        match self.track_total_hits {
            Some(TrackTotal::Exact) => body["track_total_hits"] = json!(true),
            Some(TrackTotal::No) => body["track_total_hits"] = json!(false),
            Some(TrackTotal::UpTo(n)) => body["track_total_hits"] = json!(n),
            None => {}
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_body_as_the_servers_read_it() {
        let window = Window::new(
            "2026-11-24T10:00:00Z".parse().unwrap(),
            "2026-11-24T10:30:00Z".parse().unwrap(),
        );
        let search = Search::new(Query::all([
            Query::query_string("Authorize*", Some("eventName")),
            Query::within("@timestamp", &window),
            Query::not(Query::term("type.keyword", "noise")),
        ]))
        .size(5)
        .sort(Sort::desc("@timestamp").unmapped_as("date"))
        .source(&["eventName", "userIdentity"])
        .agg(
            "by_host",
            Agg::terms("host.keyword", 100)
                .order_by("newest", Order::Asc)
                .sub("newest", Agg::max("@timestamp"))
                .sub(
                    "latest",
                    Agg::top_hits(1, &[Sort::desc("@timestamp")]).source(&["message"]),
                ),
        )
        .track_total_hits(TrackTotal::Exact);
        assert_eq!(
            search.to_json(),
            json!({
                "query": {"bool": {"filter": [
                    {"query_string": {"query": "Authorize*", "default_field": "eventName"}},
                    {"range": {"@timestamp": {"gte": 1_795_514_400_000_i64, "lte": 1_795_516_200_000_i64, "format": "epoch_millis"}}},
                    {"bool": {"must_not": [{"term": {"type.keyword": "noise"}}]}},
                ]}},
                "size": 5,
                "sort": [{"@timestamp": {"order": "desc", "unmapped_type": "date"}}],
                "_source": ["eventName", "userIdentity"],
                "aggs": {"by_host": {
                    "terms": {"field": "host.keyword", "size": 100, "order": {"newest": "asc"}},
                    "aggs": {
                        "newest": {"max": {"field": "@timestamp"}},
                        "latest": {"top_hits": {"size": 1, "sort": [{"@timestamp": {"order": "desc"}}], "_source": ["message"]}},
                    },
                }},
                "track_total_hits": true,
            })
        );
    }

    #[test]
    fn composite_pages_and_plain_queries() {
        let page = Agg::composite(500, [("host", "host.keyword")]).after(json!({"host": "web07"}));
        assert_eq!(
            page.to_json(),
            json!({"composite": {"size": 500, "sources": [{"host": {"terms": {"field": "host.keyword"}}}], "after": {"host": "web07"}}})
        );
        assert_eq!(
            Search::new(Query::match_all()).to_json(),
            json!({"query": {"match_all": {}}, "size": 0})
        );
        assert_eq!(
            Query::any([Query::exists("a"), Query::terms("b", ["x", "y"])]).to_json(),
            &json!({"bool": {"should": [{"exists": {"field": "a"}}, {"terms": {"b": ["x", "y"]}}], "minimum_should_match": 1}})
        );
        assert_eq!(
            Search::new(Query::query_string("x", None))
                .track_total_hits(TrackTotal::UpTo(2))
                .to_json()["track_total_hits"],
            json!(2)
        );
    }
}
