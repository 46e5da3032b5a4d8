//! The client: `_count` and `_search` over a list of indices, with every
//! way it can fail typed and blamed once.

use nightwatch_core::{Blame, CheckError};
use nightwatch_http::{
    HttpClient, HttpConfig, HttpError, Method, RequestError, SecretError, StatusError, Url, redact,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::index::IndexError;
use crate::query::{Agg, Query, Search};
use crate::response::{AggError, Bucket, Count, SearchResponse, Shards};

/// The longest request target (path and query) sent: Elasticsearch and
/// `OpenSearch` refuse a request line over 4 KiB
/// (`http.max_initial_line_length`), and index lists are long.
pub const MAX_REQUEST_TARGET: usize = 4000;

/// The most pages [`SearchClient::composite_buckets`] reads.
pub const MAX_PAGES: usize = 1000;

/// Indices named in a message before "… and N more".
const SHOWN_INDICES: usize = 4;

/// What a partial answer held when shards failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Partial {
    Count(u64),
    Search(Box<SearchResponse>),
}

/// What went wrong asking Elasticsearch or `OpenSearch`.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// An impossible request: no index given, too many to name.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// No answer: refused, reset, or too slow.
    #[error("the search server is unreachable")]
    Unreachable(#[source] HttpError),
    /// The client could not be set up (a CA file), or the reply was over
    /// its size cap.
    #[error(transparent)]
    Http(HttpError),
    /// The server answered with an error status (a query it cannot parse,
    /// credentials it refuses, an overload).
    #[error("the search server refused: {0}")]
    Refused(StatusError),
    /// A 2xx answer that is not what Elasticsearch or `OpenSearch` send.
    #[error("the reply from {url} is not a search server's ({reason}); it starts with {excerpt:?}")]
    BadReply {
        url: String,
        reason: String,
        excerpt: String,
    },
    /// None of the indices searched exists: not a count of zero.
    #[error("{}", no_index_message(indices))]
    NoIndex { indices: Vec<String> },
    /// Some shards failed: the answer, in `partial`, is incomplete.
    #[error(
        "{} of {} shards failed, so the answer is partial: {}",
        shards.failed,
        shards.total,
        shards.describe_failures()
    )]
    ShardsFailed { shards: Shards, partial: Partial },
}

fn no_index_message(indices: &[String]) -> String {
    match indices {
        [one] if one.contains('*') => format!("no index matches {one}"),
        [one] => format!("no index {one} exists"),
        _ => format!("none of the indices {} exists", list(indices)),
    }
}

/// `a, b, c, d and 3 more`.
fn list(indices: &[String]) -> String {
    if indices.len() <= SHOWN_INDICES {
        indices.join(", ")
    } else {
        format!(
            "{} and {} more",
            indices[..SHOWN_INDICES].join(", "),
            indices.len() - SHOWN_INDICES
        )
    }
}

impl SearchError {
    /// The server did not answer at all.
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        matches!(self, SearchError::Unreachable(_))
    }

    /// The status the server refused with.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            SearchError::Refused(refused) => Some(refused.status),
            _ => None,
        }
    }

    fn from_request(error: RequestError) -> SearchError {
        match error {
            RequestError::Http(http) if http.is_unreachable() => SearchError::Unreachable(http),
            RequestError::Http(http) => SearchError::Http(http),
            RequestError::Status(refused) => SearchError::Refused(refused),
            RequestError::BadReply {
                url,
                reason,
                excerpt,
                ..
            } => SearchError::BadReply {
                url,
                reason,
                excerpt,
            },
        }
    }

    fn from_agg(url: &Url, error: &AggError) -> SearchError {
        SearchError::BadReply {
            url: redact(url),
            reason: error.to_string(),
            excerpt: String::new(),
        }
    }
}

/// Whose fault: the search server is the *source* of a measurement. A
/// query it cannot parse (400), credentials it refuses (401/403) and bad
/// index patterns are the user's; no answer, a 5xx or 429, no index and
/// failed shards are the server's (UNKNOWN by default, or
/// `--unreachable-state`).
impl CheckError for SearchError {
    fn blame(&self) -> Blame {
        match self {
            SearchError::Usage(_) | SearchError::Index(_) | SearchError::Secret(_) => Blame::Usage,
            SearchError::Unreachable(http) | SearchError::Http(http) => http.blame(Blame::Source),
            SearchError::Refused(refused) => refused.blame(Blame::Source),
            SearchError::BadReply { .. }
            | SearchError::NoIndex { .. }
            | SearchError::ShardsFailed { .. } => Blame::Source,
        }
    }
}

/// Which server answered `GET /`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `Elasticsearch` or `OpenSearch`.
    pub distribution: String,
    /// `7.17.29`, `2.19.1`.
    pub version: String,
}

impl std::fmt::Display for ServerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.distribution, self.version)
    }
}

/// A client for one Elasticsearch or `OpenSearch` cluster.
#[derive(Debug)]
pub struct SearchClient {
    http: HttpClient,
    base: Url,
}

impl SearchClient {
    /// A client for the cluster at `base` (`http://es:9200`, or one under
    /// a path such as `https://proxy/es/`).
    pub fn new(base: &Url, config: HttpConfig) -> Result<SearchClient, SearchError> {
        let mut base = base.clone();
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        let http = HttpClient::new(config, &base)
            .map_err(|e| SearchError::from_request(RequestError::Http(e)))?;
        Ok(SearchClient { http, base })
    }

    /// The cluster's base URL.
    #[must_use]
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Which server this is (`GET /`).
    pub fn info(&self) -> Result<ServerInfo, SearchError> {
        let reply: Value = self.call(Method::GET, &self.base, None)?;
        let version = &reply["version"];
        let Some(number) = version["number"].as_str() else {
            return Err(SearchError::BadReply {
                url: redact(&self.base),
                reason: "no version.number".into(),
                excerpt: nightwatch_http::text_excerpt(&reply.to_string(), 80),
            });
        };
        let distribution = match version["distribution"].as_str() {
            Some("opensearch") => "OpenSearch",
            _ => "Elasticsearch",
        };
        Ok(ServerInfo {
            distribution: distribution.into(),
            version: number.into(),
        })
    }

    /// How many documents in `indices` match `query`.
    pub fn count(&self, indices: &[String], query: &Query) -> Result<Count, SearchError> {
        let url = self.endpoint(indices, "_count", &[])?;
        let count: Count =
            self.call(Method::POST, &url, Some(&json!({"query": query.to_json()})))?;
        check_shards(indices, &count.shards, || Partial::Count(count.count))?;
        Ok(count)
    }

    /// The hits and aggregations of `search` in `indices`.
    pub fn search(
        &self,
        indices: &[String],
        search: &Search,
    ) -> Result<SearchResponse, SearchError> {
        let extra: &[(&str, &str)] = if search.total_as_int {
            &[("rest_total_hits_as_int", "true")]
        } else {
            &[]
        };
        let url = self.endpoint(indices, "_search", extra)?;
        let reply: SearchResponse = self.call(Method::POST, &url, Some(&search.to_json()))?;
        // Each aggregation asked for must be there, in its shape, before a
        // plugin judges it: a proxy or an old server could drop one.
        for (name, _) in &search.aggs {
            if !reply.aggregations.0.contains_key(name) && reply.shards.total > 0 {
                return Err(SearchError::from_agg(
                    &url,
                    &AggError::Missing(name.clone()),
                ));
            }
        }
        check_shards(indices, &reply.shards, || {
            Partial::Search(Box::new(reply.clone()))
        })?;
        Ok(reply)
    }

    /// Every bucket of the composite aggregation `agg` over the documents
    /// of `indices` matching `query`, page after page: no group is cut, however
    /// many there are. Stops with an error past [`MAX_PAGES`] pages.
    pub fn composite_buckets(
        &self,
        indices: &[String],
        query: &Query,
        agg: &Agg,
    ) -> Result<Vec<Bucket>, SearchError> {
        const NAME: &str = "pages";
        let mut buckets = Vec::new();
        let mut next = agg.clone();
        for _ in 0..MAX_PAGES {
            let search = Search::new(query.clone()).agg(NAME, next.clone());
            let reply = self.search(indices, &search)?;
            let page = reply
                .aggregations
                .composite(NAME)
                .map_err(|e| SearchError::from_agg(&self.base, &e))?;
            let done = page.buckets.is_empty();
            buckets.extend(page.buckets);
            match page.after_key {
                Some(key) if !done => next = agg.clone().after(key),
                _ => return Ok(buckets),
            }
        }
        Err(SearchError::Usage(format!(
            "more than {MAX_PAGES} pages of groups: group by a field with fewer values"
        )))
    }

    fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<T, SearchError> {
        self.http
            .request_json(method, url, body)
            .map(|reply| reply.body)
            .map_err(SearchError::from_request)
    }

    /// `{base}/{a,b,c}/{api}?ignore_unavailable=true&…`: a missing index
    /// is skipped, a wildcard that matches nothing is no error, and
    /// wildcards open only open indices; `_shards.total` then tells
    /// whether anything was searched at all.
    fn endpoint(
        &self,
        indices: &[String],
        api: &str,
        extra: &[(&str, &str)],
    ) -> Result<Url, SearchError> {
        if indices.is_empty() {
            return Err(SearchError::Usage(
                "no index to search: give one with --index".into(),
            ));
        }
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has a path")
            .pop_if_empty()
            .push(&indices.join(","))
            .push(api);
        url.query_pairs_mut()
            .extend_pairs([
                ("ignore_unavailable", "true"),
                ("allow_no_indices", "true"),
                ("expand_wildcards", "open"),
            ])
            .extend_pairs(extra);
        let target = url.path().len() + url.query().map_or(0, |q| q.len() + 1);
        if target > MAX_REQUEST_TARGET {
            return Err(SearchError::Usage(format!(
                "{} indices ({}) are too many to name in one request ({target} bytes, over the {MAX_REQUEST_TARGET} a server reads): use a wildcard or a shorter window",
                indices.len(),
                list(indices)
            )));
        }
        Ok(url)
    }
}

fn check_shards(
    indices: &[String],
    shards: &Shards,
    partial: impl FnOnce() -> Partial,
) -> Result<(), SearchError> {
    if shards.total == 0 {
        return Err(SearchError::NoIndex {
            indices: indices.to_vec(),
        });
    }
    if shards.failed > 0 {
        return Err(SearchError::ShardsFailed {
            shards: shards.clone(),
            partial: partial(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn client(base: &str) -> SearchClient {
        let config = HttpConfig::new(Duration::from_secs(1), "test");
        SearchClient::new(&Url::parse(base).unwrap(), config).unwrap()
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    #[test]
    fn urls_name_the_indices_and_never_a_mapping_type() {
        let es = client("http://es:9200");
        let url = es
            .endpoint(&names(&["logstash-2026.11.24", "logs-*"]), "_count", &[])
            .unwrap();
        assert_eq!(
            url.as_str(),
            "http://es:9200/logstash-2026.11.24,logs-*/_count?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=open"
        );
        let proxied = client("https://proxy.example/es?x=1");
        let url = proxied
            .endpoint(
                &names(&["a%b"]),
                "_search",
                &[("rest_total_hits_as_int", "true")],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://proxy.example/es/a%25b/_search?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=open&rest_total_hits_as_int=true"
        );
    }

    #[test]
    fn no_index_or_too_many_is_a_usage_error() {
        let es = client("http://es:9200");
        let none = es.endpoint(&[], "_count", &[]).unwrap_err();
        assert_eq!(none.blame(), Blame::Usage);
        assert!(none.to_string().contains("--index"), "{none}");
        let many: Vec<String> = (0..300)
            .map(|i| format!("logs-2026.11.24.{i:03}"))
            .collect();
        let long = es.endpoint(&many, "_count", &[]).unwrap_err().to_string();
        assert!(
            long.starts_with("300 indices (logs-2026.11.24.000, logs-2026.11.24.001, logs-2026.11.24.002, logs-2026.11.24.003 and 296 more) are too many"),
            "{long}"
        );
    }

    #[test]
    fn no_index_names_what_was_tried() {
        let check = |indices: &[&str]| {
            check_shards(&names(indices), &Shards::default(), || Partial::Count(0))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            check(&["logstash-2026.11.24"]),
            "no index logstash-2026.11.24 exists"
        );
        assert_eq!(check(&["logs-*"]), "no index matches logs-*");
        assert_eq!(
            check(&["l-1", "l-2", "l-3", "l-4", "l-5", "l-6"]),
            "none of the indices l-1, l-2, l-3, l-4 and 2 more exists"
        );
        let error =
            check_shards(&names(&["x"]), &Shards::default(), || Partial::Count(0)).unwrap_err();
        assert_eq!(error.blame(), Blame::Source);
    }

    #[test]
    fn failed_shards_are_a_partial_answer_that_says_which() {
        let shards: Shards = serde_json::from_str(
            r#"{"total":2,"successful":1,"skipped":0,"failed":1,"failures":[{"shard":0,"index":"nw-num","node":"n","reason":{"type":"query_shard_exception","reason":"failed to create query: For input string: \"abc\""}}]}"#,
        )
        .unwrap();
        let error = check_shards(&names(&["nw-*"]), &shards, || Partial::Count(3)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "1 of 2 shards failed, so the answer is partial: nw-num shard 0: failed to create query: For input string: \"abc\""
        );
        assert!(matches!(
            error,
            SearchError::ShardsFailed {
                partial: Partial::Count(3),
                ..
            }
        ));
        assert_eq!(error.blame(), Blame::Source);
    }

    #[test]
    fn refusals_are_blamed_by_status() {
        let refused = |status: u16| {
            SearchError::from_request(RequestError::Status(StatusError {
                url: "http://es:9200/x/_search".into(),
                status,
                kind: Some("k".into()),
                message: "m".into(),
            }))
        };
        assert_eq!(refused(400).blame(), Blame::Usage);
        assert_eq!(refused(401).blame(), Blame::Usage);
        assert_eq!(refused(403).blame(), Blame::Usage);
        assert_eq!(refused(406).blame(), Blame::Internal);
        assert_eq!(refused(429).blame(), Blame::Source);
        assert_eq!(refused(503).blame(), Blame::Source);
        assert_eq!(refused(503).status(), Some(503));
        assert_eq!(
            refused(400).to_string(),
            "the search server refused: http://es:9200/x/_search answered 400 (k): m"
        );
        let down = SearchError::from_request(RequestError::Http(HttpError::Connect {
            url: "http://es:9200/".into(),
            reason: "Connection refused".into(),
        }));
        assert!(down.is_unreachable());
        assert_eq!(down.blame(), Blame::Source);
        assert_eq!(
            nightwatch_core::fault::sentence(&down),
            "the search server is unreachable: cannot connect to http://es:9200/: Connection refused"
        );
    }
}
