//! What comes back: hits and their total, shards, and aggregation buckets,
//! typed where a plugin judges them; documents stay `serde_json::Value`.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// How many shards answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Shards {
    /// 0 when no index was searched at all.
    pub total: u32,
    pub successful: u32,
    #[serde(default)]
    pub skipped: u32,
    pub failed: u32,
    #[serde(default)]
    pub failures: Vec<ShardFailure>,
}

impl Shards {
    /// `logs-a shard 0: failed to create query: …; logs-b shard 2: …`, one
    /// entry per distinct index and reason.
    #[must_use]
    pub fn describe_failures(&self) -> String {
        let mut seen: Vec<String> = Vec::new();
        for failure in &self.failures {
            let text = failure.to_string();
            if !seen.contains(&text) {
                seen.push(text);
            }
        }
        if seen.is_empty() {
            "the server gave no reason".to_owned()
        } else {
            seen.join("; ")
        }
    }

    /// The indices with a failed shard, each once.
    #[must_use]
    pub fn failed_indices(&self) -> Vec<&str> {
        let mut indices: Vec<&str> = Vec::new();
        for index in self.failures.iter().filter_map(|f| f.index.as_deref()) {
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        indices
    }
}

/// One failed shard (`_shards.failures[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShardFailure {
    #[serde(default)]
    pub index: Option<String>,
    #[serde(default)]
    pub shard: Option<i64>,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub reason: FailureReason,
}

impl fmt::Display for ShardFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.index, self.shard) {
            (Some(index), Some(shard)) => write!(f, "{index} shard {shard}: ")?,
            (Some(index), None) => write!(f, "{index}: ")?,
            (None, _) => {}
        }
        f.write_str(&self.reason.text())
    }
}

/// Why a shard failed: Elasticsearch's `{type, reason, caused_by}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FailureReason {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub caused_by: Option<Box<FailureReason>>,
}

impl FailureReason {
    /// The reason, or its cause's, or its type: the most specific text sent.
    #[must_use]
    pub fn text(&self) -> String {
        let reason = self
            .reason
            .clone()
            .or_else(|| self.caused_by.as_ref().map(|c| c.text()))
            .or_else(|| self.kind.clone())
            .unwrap_or_else(|| "no reason given".to_owned());
        nightwatch_http::text_excerpt(&reason, nightwatch_http::reply::EXCERPT_CHARS)
    }
}

/// Whether a total is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Relation {
    /// Exactly this many.
    #[serde(rename = "eq")]
    Eq,
    /// At least this many: the server stopped counting
    /// ([`TrackTotal`](crate::TrackTotal)).
    #[serde(rename = "gte")]
    Gte,
}

/// `hits.total`: a plain number (Elasticsearch 6, or
/// `rest_total_hits_as_int`) or `{value, relation}` (7 and later,
/// `OpenSearch`). Both read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub value: u64,
    pub relation: Relation,
}

impl<'de> Deserialize<'de> for Total {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Total, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Number(u64),
            Object { value: u64, relation: Relation },
        }
        Ok(match Shape::deserialize(deserializer)? {
            Shape::Number(value) => Total {
                value,
                relation: Relation::Eq,
            },
            Shape::Object { value, relation } => Total { value, relation },
        })
    }
}

impl fmt::Display for Total {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.relation {
            Relation::Eq => write!(f, "{}", self.value),
            Relation::Gte => write!(f, "at least {}", self.value),
        }
    }
}

/// One document found.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Hit {
    #[serde(rename = "_index")]
    pub index: String,
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "_score", default)]
    pub score: Option<f64>,
    /// The document; `Null` when `_source` was filtered away entirely.
    #[serde(rename = "_source", default)]
    pub source: Value,
    /// The sort values of this hit (`search_after` continues from them).
    #[serde(default)]
    pub sort: Vec<Value>,
}

/// `hits`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Hits {
    /// `None` when the search asked not to count
    /// ([`TrackTotal::No`](crate::TrackTotal::No)).
    #[serde(default)]
    pub total: Option<Total>,
    #[serde(default)]
    pub max_score: Option<f64>,
    #[serde(default)]
    pub hits: Vec<Hit>,
}

/// A `_search` reply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SearchResponse {
    #[serde(default)]
    pub took: Option<u64>,
    #[serde(default)]
    pub timed_out: bool,
    #[serde(rename = "_shards")]
    pub shards: Shards,
    #[serde(default)]
    pub hits: Hits,
    #[serde(default)]
    pub aggregations: Aggregations,
}

/// A `_count` reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Count {
    pub count: u64,
    #[serde(rename = "_shards")]
    pub shards: Shards,
}

/// Why an aggregation's result could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggError {
    #[error("the reply has no aggregation named {0:?}")]
    Missing(String),
    #[error("the aggregation {name:?} is not a {expected} result: {reason}")]
    Shape {
        name: String,
        expected: &'static str,
        reason: String,
    },
}

/// The aggregation results of a reply or a bucket, by name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Aggregations(pub Map<String, Value>);

impl Aggregations {
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        expected: &'static str,
    ) -> Result<T, AggError> {
        let value = self
            .0
            .get(name)
            .ok_or_else(|| AggError::Missing(name.to_owned()))?;
        T::deserialize(value).map_err(|e| AggError::Shape {
            name: name.to_owned(),
            expected,
            reason: e.to_string(),
        })
    }

    /// A `terms` aggregation's buckets.
    pub fn terms(&self, name: &str) -> Result<Terms, AggError> {
        self.read(name, "terms")
    }

    /// A `composite` aggregation's page of buckets.
    pub fn composite(&self, name: &str) -> Result<Composite, AggError> {
        self.read(name, "composite")
    }

    /// A single-value metric (`max`, `min`).
    pub fn metric(&self, name: &str) -> Result<Metric, AggError> {
        self.read(name, "metric")
    }

    /// A `top_hits` aggregation's documents.
    pub fn top_hits(&self, name: &str) -> Result<Hits, AggError> {
        #[derive(Deserialize)]
        struct TopHits {
            hits: Hits,
        }
        self.read::<TopHits>(name, "top_hits").map(|t| t.hits)
    }
}

/// A `terms` aggregation's result.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Terms {
    pub buckets: Vec<Bucket>,
    /// Documents in groups not returned: nonzero means groups were cut
    /// (raise the size, or page with a composite aggregation).
    #[serde(default)]
    pub sum_other_doc_count: u64,
    #[serde(default)]
    pub doc_count_error_upper_bound: i64,
}

/// A `composite` aggregation's page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Composite {
    pub buckets: Vec<Bucket>,
    /// Where the next page starts; `None` after the last.
    #[serde(default)]
    pub after_key: Option<Value>,
}

/// One group.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Bucket {
    /// A string or number (terms), an object of sources (composite).
    pub key: Value,
    #[serde(default)]
    pub key_as_string: Option<String>,
    pub doc_count: u64,
    /// Sub-aggregations by name.
    #[serde(flatten)]
    pub aggregations: Aggregations,
}

impl Bucket {
    /// The key as text: `key_as_string` when sent (dates), else the key.
    #[must_use]
    pub fn key_text(&self) -> String {
        if let Some(text) = &self.key_as_string {
            return text.clone();
        }
        match &self.key {
            Value::String(text) => text.clone(),
            Value::Object(sources) if sources.len() == 1 => sources
                .values()
                .next()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_default(),
            other => other.to_string(),
        }
    }
}

/// A `max` or `min` result.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Metric {
    /// `None` when no document of the bucket has the field.
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub value_as_string: Option<String>,
}

impl Metric {
    /// The value of a date field's max or min (epoch milliseconds).
    #[must_use]
    pub fn as_timestamp(&self) -> Option<Timestamp> {
        #[allow(clippy::cast_possible_truncation)] // whole milliseconds, checked by jiff's range
        let millis = self.value?.round() as i64;
        Timestamp::from_millisecond(millis).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_total_shapes_read_the_same() {
        let object: SearchResponse = serde_json::from_str(
            r#"{"took":3,"timed_out":false,"_shards":{"total":2,"successful":2,"skipped":0,"failed":0},
               "hits":{"total":{"value":10000,"relation":"gte"},"max_score":null,"hits":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            object.hits.total,
            Some(Total {
                value: 10000,
                relation: Relation::Gte
            })
        );
        assert_eq!(object.hits.total.unwrap().to_string(), "at least 10000");
        // Elasticsearch 6, or rest_total_hits_as_int=true.
        let number: SearchResponse = serde_json::from_str(
            r#"{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"failed":0},
               "hits":{"total":7,"max_score":1.0,"hits":[]}}"#,
        )
        .unwrap();
        assert_eq!(
            number.hits.total,
            Some(Total {
                value: 7,
                relation: Relation::Eq
            })
        );
        // track_total_hits: false
        let none: SearchResponse = serde_json::from_str(
            r#"{"_shards":{"total":1,"successful":1,"failed":0},"hits":{"max_score":null,"hits":[]}}"#,
        )
        .unwrap();
        assert_eq!(none.hits.total, None);
        assert!(
            serde_json::from_str::<Total>(r#"{"value":1,"relation":"lt"}"#).is_err(),
            "an unknown relation is not read as exact"
        );
    }

    #[test]
    fn hits_keep_their_documents_and_sort_values() {
        let reply: SearchResponse = serde_json::from_str(
            r#"{"took":2,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},
               "hits":{"total":{"value":2,"relation":"eq"},"max_score":null,"hits":[
                 {"_index":"logstash-2026.11.24","_id":"a1","_score":null,"_source":{"eventName":"AuthorizeSecurityGroupIngress","userIdentity":{"arn":"arn:aws:iam::1:user/bob"}},"sort":[1795514400000]},
                 {"_index":"logstash-2026.11.24","_type":"_doc","_id":"a2","_score":null,"_source":{"eventName":"CreateUser"},"sort":[1795514300000]}]}}"#,
        )
        .unwrap();
        let hits = &reply.hits.hits;
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].id, "a1");
        assert_eq!(
            hits[0].source["userIdentity"]["arn"],
            "arn:aws:iam::1:user/bob"
        );
        assert_eq!(hits[1].sort, [serde_json::json!(1_795_514_300_000_i64)]);
        assert_eq!(hits[0].score, None);
    }

    #[test]
    fn shard_failures_name_index_shard_and_reason() {
        // Elasticsearch 7.17: a query_string on a long field in one index.
        let reply: Count = serde_json::from_str(
            r#"{"count":3,"_shards":{"total":2,"successful":1,"skipped":0,"failed":1,"failures":[
              {"shard":0,"index":"nw-num","node":"q1","reason":{"type":"query_shard_exception",
               "reason":"failed to create query: For input string: \"abc\"","index_uuid":"u","index":"nw-num",
               "caused_by":{"type":"number_format_exception","reason":"For input string: \"abc\""}}}]}}"#,
        )
        .unwrap();
        assert_eq!(reply.count, 3);
        assert_eq!(reply.shards.failed, 1);
        assert_eq!(reply.shards.failed_indices(), ["nw-num"]);
        assert_eq!(
            reply.shards.describe_failures(),
            "nw-num shard 0: failed to create query: For input string: \"abc\""
        );
        let bare = Shards {
            total: 1,
            failed: 1,
            failures: vec![ShardFailure {
                index: None,
                shard: None,
                node: None,
                reason: FailureReason {
                    kind: Some("x".into()),
                    reason: None,
                    caused_by: Some(Box::new(FailureReason {
                        kind: None,
                        reason: Some("disk".into()),
                        caused_by: None,
                    })),
                },
            }],
            ..Shards::default()
        };
        assert_eq!(bare.describe_failures(), "disk");
        assert_eq!(
            Shards::default().describe_failures(),
            "the server gave no reason"
        );
    }

    /// As Elasticsearch 7.17 sent it (`tests/e2e/search_client.rs`): a sort
    /// on a field one of two indices does not map.
    #[test]
    fn a_real_partial_answer() {
        let reply: SearchResponse = serde_json::from_str(include_str!(
            "../testdata/elasticsearch-7.17.29-sort-on-unmapped-field.json"
        ))
        .unwrap();
        assert_eq!((reply.shards.total, reply.shards.failed), (2, 1));
        assert_eq!(reply.shards.failed_indices(), ["sc-cap-b"]);
        assert_eq!(
            reply.shards.describe_failures(),
            "sc-cap-b shard 0: No mapping found for [seq] in order to sort on"
        );
        assert_eq!(reply.hits.hits.len(), 1);
        assert_eq!(reply.hits.hits[0].index, "sc-cap-a");
    }

    #[test]
    fn terms_buckets_with_max_and_top_hits() {
        let reply: SearchResponse = serde_json::from_str(
            r#"{"took":5,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},
               "hits":{"total":{"value":3,"relation":"eq"},"max_score":null,"hits":[]},
               "aggregations":{"by_host":{"doc_count_error_upper_bound":0,"sum_other_doc_count":4,"buckets":[
                 {"key":"db01","doc_count":2,
                  "newest":{"value":1.795514400e12,"value_as_string":"2026-11-24T10:00:00.000Z"},
                  "latest":{"hits":{"total":{"value":2,"relation":"eq"},"max_score":null,"hits":[
                    {"_index":"l","_id":"x","_score":null,"_source":{"message":"Ansible playbook finished"},"sort":[1795514400000]}]}}},
                 {"key":"web01","doc_count":1,"newest":{"value":null},"latest":{"hits":{"total":{"value":0,"relation":"eq"},"max_score":null,"hits":[]}}}]}}}"#,
        )
        .unwrap();
        let terms = reply.aggregations.terms("by_host").unwrap();
        assert_eq!(terms.sum_other_doc_count, 4);
        let db = &terms.buckets[0];
        assert_eq!(db.key_text(), "db01");
        assert_eq!(db.doc_count, 2);
        let newest = db.aggregations.metric("newest").unwrap();
        assert_eq!(
            newest.as_timestamp(),
            Some("2026-11-24T10:00:00Z".parse().unwrap())
        );
        let latest = db.aggregations.top_hits("latest").unwrap();
        assert_eq!(
            latest.hits[0].source["message"],
            "Ansible playbook finished"
        );
        let web = &terms.buckets[1];
        assert_eq!(
            web.aggregations.metric("newest").unwrap().as_timestamp(),
            None
        );
        assert_eq!(
            reply.aggregations.terms("nope").unwrap_err().to_string(),
            "the reply has no aggregation named \"nope\""
        );
        let wrong = db.aggregations.terms("newest").unwrap_err().to_string();
        assert!(wrong.contains("is not a terms result"), "{wrong}");
    }

    #[test]
    fn composite_pages_and_keys() {
        let reply: SearchResponse = serde_json::from_str(
            r#"{"_shards":{"total":1,"successful":1,"failed":0},"hits":{"hits":[]},
               "aggregations":{"groups":{"after_key":{"host":"web02"},"buckets":[
                 {"key":{"host":"web01"},"doc_count":3},{"key":{"host":"web02"},"doc_count":1}]}}}"#,
        )
        .unwrap();
        let page = reply.aggregations.composite("groups").unwrap();
        assert_eq!(page.after_key, Some(serde_json::json!({"host": "web02"})));
        assert_eq!(page.buckets[0].key_text(), "web01");
        let numeric = Bucket {
            key: serde_json::json!(42),
            key_as_string: None,
            doc_count: 1,
            aggregations: Aggregations::default(),
        };
        assert_eq!(numeric.key_text(), "42");
    }
}
