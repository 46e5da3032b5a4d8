//! One client for Elasticsearch (7, 8) and `OpenSearch` (2, 3), shared by
//! the plugins that read logs and audit events from them.
//!
//! It exists so that each plugin does not get the same things wrong again:
//! - plain `application/json` both ways (`OpenSearch` answers 406 to the
//!   `compatible-with` media types of the Elasticsearch 8 clients; measured
//!   here, Elasticsearch 7.17 and 8 accept them), and no mapping type in
//!   any URL;
//! - `hits.total` read whether a number or `{value, relation}` ([`Total`]);
//! - daily and hourly index patterns expanded in UTC to the indices a time
//!   window touches ([`IndexPattern`], [`Window`]), sent with
//!   `ignore_unavailable` and `allow_no_indices`, so that yesterday's
//!   missing index is no error but *no index at all* is
//!   [`SearchError::NoIndex`], never a silent zero;
//! - failed shards are [`SearchError::ShardsFailed`], naming the indices
//!   and reasons, with the partial answer;
//! - every failure typed and blamed once ([`CheckError::blame`]): a query
//!   the server cannot parse (400) or refused credentials (401/403) are the
//!   user's; no answer, 429 and 5xx the server's.
//!
//! ```no_run
//! use std::time::Duration;
//! use nightwatch_search::{Query, Search, SearchClient, Sort, Window};
//! # fn main() -> Result<(), nightwatch_search::SearchError> {
//! let client = SearchClient::new(
//!     &"http://127.0.0.1:9200".parse().unwrap(),
//!     nightwatch_http::HttpConfig::new(Duration::from_secs(10), "check"),
//! )?;
//! let window = Window::last(Duration::from_secs(30 * 60));
//! let indices = nightwatch_search::resolve(&["logstash-%Y.%m.%d".parse()?], &window)?;
//! let query = Query::all([
//!     Query::query_string("Authorize*", Some("eventName")),
//!     Query::within("@timestamp", &window),
//! ]);
//! let count = client.count(&indices, &query)?.count;
//! let newest = client.search(&indices, &Search::new(query).size(10).sort(Sort::desc("@timestamp")))?;
//! # Ok(()) }
//! ```
//!
//! [`CheckError::blame`]: nightwatch_core::CheckError::blame

pub mod args;
pub mod client;
pub mod index;
pub mod query;
pub mod response;

pub use args::{Scheme, SearchArgs, SearchSecrets};
pub use client::{MAX_PAGES, MAX_REQUEST_TARGET, Partial, SearchClient, SearchError, ServerInfo};
pub use index::{IndexError, IndexPattern, MAX_EXPANSION, Window, resolve};
pub use jiff::Timestamp;
/// The HTTP layer under the client ([`HttpConfig`](nightwatch_http::HttpConfig),
/// [`Auth`](nightwatch_http::Auth)), for plugins that build one by hand.
pub use nightwatch_http as http;
pub use query::{Agg, Order, Query, Search, Sort, TrackTotal};
pub use response::{
    AggError, Aggregations, Bucket, Composite, Count, FailureReason, Hit, Hits, Metric, Relation,
    SearchResponse, ShardFailure, Shards, Terms, Total,
};
