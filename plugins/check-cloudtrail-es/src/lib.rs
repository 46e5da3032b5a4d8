//! check-cloudtrail-es: who opened what to whom, read from CloudTrail
//! events that Logstash ships into Elasticsearch or `OpenSearch`.
//!
//! It replaces a Sensu check that only counted `Authorize*` matches (and,
//! with `--invert`, paged when nobody touched a security group): this one
//! lists each event (when, who, what, from where, which region, whether the
//! call failed), judges every permission of every security-group change on
//! its own (world-open ingress is CRITICAL whatever the count), and says
//! UNKNOWN, never zero, when there is no index to search.

// AWS API names (CloudTrail, StopLogging) are prose in these docs, and the
// argument docs are --help text: backticks would show there.
#![allow(clippy::doc_markdown)]

pub mod args;
/// The CloudTrail record reading, shared with check-change-window.
pub use nightwatch_events::cloudtrail as event;
pub mod judge;
pub mod report;
pub mod selection;

use std::time::Duration;

use nightwatch_core::{Blame, CheckError, Context, Report};
use nightwatch_search::{Query, Search, SearchError, Sort, Timestamp, TrackTotal, Window};
use serde_json::Value;

pub use args::{Args, Preset};
use event::{Event, SOURCE_FIELDS};
use judge::{Rules, judge};
use report::{Asked, Found, Judged};
use selection::SelectionError;

/// The word that leads every line this plugin prints.
pub const LABEL: &str = "CLOUDTRAIL";

/// Why the check could not judge anything.
#[derive(Debug, thiserror::Error)]
pub enum CloudtrailError {
    #[error(transparent)]
    Search(SearchError),
    /// No index in the window: Logstash is not shipping, or the pattern is
    /// wrong; never a count of zero.
    #[error("{0}: is Logstash shipping, and is --index right?")]
    NoIndex(SearchError),
    #[error(transparent)]
    Selection(#[from] SelectionError),
}

impl From<SearchError> for CloudtrailError {
    fn from(error: SearchError) -> CloudtrailError {
        match error {
            SearchError::NoIndex { .. } => CloudtrailError::NoIndex(error),
            other => CloudtrailError::Search(other),
        }
    }
}

impl CheckError for CloudtrailError {
    fn blame(&self) -> Blame {
        match self {
            CloudtrailError::Search(error) | CloudtrailError::NoIndex(error) => error.blame(),
            CloudtrailError::Selection(_) => Blame::Usage,
        }
    }
}

/// Time kept back from the request so the plugin's own message, not the
/// watchdog's, reports a slow server.
const REPLY_MARGIN: Duration = Duration::from_millis(500);

/// Searches the window and judges what it finds.
pub fn check(args: &Args, context: &Context) -> Result<Report, CloudtrailError> {
    let now = args.at.unwrap_or_else(Timestamp::now);
    let query_text = selection::query_text(
        args.query.as_deref(),
        &args.preset,
        &args.regions,
        args.doc_type.as_deref(),
    )?;
    let window = Window::ending_at(now, args.window_length());
    let indices = args.search.indices(&window)?;
    let request_timeout = context
        .remaining()
        .saturating_sub(REPLY_MARGIN)
        .max(Duration::from_millis(100));
    let client = args.search.client(
        request_timeout,
        concat!("check-cloudtrail-es/", env!("CARGO_PKG_VERSION")),
    )?;
    let query = Query::all([
        Query::query_string(&query_text, args.field.as_deref()),
        Query::within(&args.date_field, &window),
    ]);
    context.doing(format!(
        "waiting for {} to search {}",
        client.base_url(),
        indices.join(",")
    ));
    nightwatch_core::log::debug!(
        "searching {} from {} in {} for {query_text}",
        args.date_field,
        window.describe(),
        indices.join(",")
    );

    let found = if args.count_only {
        Found {
            total: client.count(&indices, &query)?.count,
            judged: Vec::new(),
            listed: false,
        }
    } else {
        let search = Search::new(query)
            .size(args.fetch)
            .sort(Sort::desc(&args.date_field).unmapped_as("date"))
            .source(SOURCE_FIELDS)
            .track_total_hits(TrackTotal::Exact);
        let reply = client.search(&indices, &search)?;
        let judged = judge_documents(
            reply
                .hits
                .hits
                .iter()
                .map(|hit| (format!("{}/{}", hit.index, hit.id), &hit.source)),
            &Rules::from_args(args),
        );
        Found {
            total: reply.hits.total.map_or(judged.len() as u64, |t| t.value),
            judged,
            listed: true,
        }
    };
    nightwatch_core::log::debug!("{} matches, {} judged", found.total, found.judged.len());

    Ok(render(
        args,
        context.report(),
        &found,
        &window,
        &indices,
        &query_text,
    ))
}

/// Reads each document (`index/id`, `_source`) as a CloudTrail event and
/// judges it.
pub fn judge_documents<'a>(
    documents: impl IntoIterator<Item = (String, &'a Value)>,
    rules: &Rules,
) -> Vec<Judged> {
    documents
        .into_iter()
        .map(|(place, source)| {
            let event = Event::from_source(source);
            let verdict = event.as_ref().map(|e| judge(e, rules)).unwrap_or_default();
            Judged {
                place,
                event,
                verdict,
            }
        })
        .collect()
}

/// The report on what was found in `indices` over `window` for
/// `query_text`, as `args` ask for it.
#[must_use]
pub fn render(
    args: &Args,
    report: Report,
    found: &Found,
    window: &Window,
    indices: &[String],
    query_text: &str,
) -> Report {
    let thresholds = args.thresholds.thresholds();
    let link = args
        .link_template
        .as_deref()
        .map(|template| selection::link(template, query_text, window, indices));
    let asked = Asked {
        thresholds: &thresholds,
        max_events: args.max_events,
        window: window.length(),
        window_text: window.describe(),
        date_field: &args.date_field,
        indices,
        query: query_text,
        link,
    };
    report::build(report, found, &asked)
}
