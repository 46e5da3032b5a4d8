//! Reading series from graphite-web's render API.

use std::time::SystemTime;

use nightwatch_core::Blame;
use nightwatch_http::{
    HttpClient, HttpConfig, HttpError, Url, error_excerpt, form_urlencode, redact, status_blame,
};

use crate::render::{RenderParseError, Series, parse_render};

/// Longest render URL sent as a GET; longer queries are sent by POST, since
/// proxies and web servers cut long request lines.
pub const MAX_GET_URL: usize = 2000;

/// What went wrong reading from Graphite.
#[derive(Debug, thiserror::Error)]
pub enum GraphiteError {
    #[error("Graphite is unreachable")]
    Unreachable(#[source] HttpError),
    /// The client could not be set up (a CA file), or the reply was cut off
    /// at its size cap: Graphite may be reachable, so not [`Unreachable`].
    ///
    /// [`Unreachable`]: GraphiteError::Unreachable
    #[error(transparent)]
    Http(HttpError),
    #[error("Graphite answered {status} for {url}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("Graphite's reply from {url} is unreadable")]
    Reply {
        url: String,
        #[source]
        source: RenderParseError,
    },
}

impl GraphiteError {
    /// Whose fault this is, Graphite being the source of the measurement:
    /// [`HttpError::blame`] without an answer, [`status_blame`] for a
    /// refusal (a bad target is the user's, a 5xx Graphite's), Graphite's
    /// for a reply that is not render JSON.
    #[must_use]
    pub fn blame(&self) -> Blame {
        match self {
            GraphiteError::Unreachable(http) | GraphiteError::Http(http) => {
                http.blame(Blame::Source)
            }
            GraphiteError::Status { status, .. } => status_blame(*status, Blame::Source),
            GraphiteError::Reply { .. } => Blame::Source,
        }
    }

    fn from_http(error: HttpError) -> GraphiteError {
        if error.is_unreachable() {
            GraphiteError::Unreachable(error)
        } else {
            GraphiteError::Http(error)
        }
    }
}

/// A render reply and the server's clock when it answered.
#[derive(Debug, Clone)]
pub struct RenderReply {
    pub series: Vec<Series>,
    /// From the `Date` header: staleness is judged on Graphite's clock, so
    /// a skewed monitoring host does not fake it.
    pub server_time: Option<SystemTime>,
}

/// A render request.
#[derive(Debug, Clone)]
pub struct RenderQuery<'a> {
    pub targets: &'a [String],
    pub from: &'a str,
    pub until: Option<&'a str>,
}

/// A client for one graphite-web.
#[derive(Debug)]
pub struct Graphite {
    http: HttpClient,
    render_url: Url,
}

impl Graphite {
    /// A client for graphite-web at `base` (`http://graphite:8080`, or one
    /// under a path such as `https://example/graphite/`).
    pub fn new(base: &Url, config: HttpConfig) -> Result<Graphite, GraphiteError> {
        let mut root = base.clone();
        if !root.path().ends_with('/') {
            let path = format!("{}/", root.path());
            root.set_path(&path);
        }
        let render_url = root
            .join("render")
            .expect("'render' is a valid relative URL");
        let http = HttpClient::new(config, base).map_err(GraphiteError::from_http)?;
        Ok(Graphite { http, render_url })
    }

    /// The render endpoint, for messages.
    #[must_use]
    pub fn render_url(&self) -> &Url {
        &self.render_url
    }

    /// Fetches the series `query` names. `noCache` is always sent:
    /// graphite-web otherwise serves a render up to 60 s old.
    pub fn render(&self, query: &RenderQuery<'_>) -> Result<RenderReply, GraphiteError> {
        let mut pairs: Vec<(&str, &str)> = query
            .targets
            .iter()
            .map(|t| ("target", t.as_str()))
            .collect();
        pairs.push(("from", query.from));
        if let Some(until) = query.until {
            pairs.push(("until", until));
        }
        pairs.extend([("format", "json"), ("noCache", "1")]);

        let mut get_url = self.render_url.clone();
        get_url.set_query(Some(&form_urlencode(&pairs)));
        let response = if get_url.as_str().len() <= MAX_GET_URL {
            self.http.get(&get_url)
        } else {
            self.http.post_form(&self.render_url, &pairs)
        }
        .map_err(GraphiteError::from_http)?
        .success(&self.render_url)
        .map_err(|refused| GraphiteError::Status {
            url: refused.url,
            status: refused.status,
            message: refused.message,
        })?;

        let shown = redact(&self.render_url);
        let series = parse_render(&response.body)
            .map_err(|source| GraphiteError::Reply { url: shown, source })?;
        Ok(RenderReply {
            series,
            server_time: response.server_date(),
        })
    }
}

/// The one line of an error page that explains it. graphite-web answers a
/// bad target with an HTML page or a Python traceback; its last
/// `SomethingError: …` line is the cause ([`nightwatch_http::error_excerpt`]).
#[must_use]
pub fn error_message(body: &str) -> String {
    error_excerpt(body.as_bytes()).message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_target_is_the_users_a_crash_graphites() {
        let status = |status: u16| GraphiteError::Status {
            url: "http://g/render".into(),
            status,
            message: "m".into(),
        };
        assert_eq!(status(400).blame(), Blame::Usage);
        assert_eq!(status(401).blame(), Blame::Usage);
        assert_eq!(status(500).blame(), Blame::Source);
        let down = GraphiteError::from_http(HttpError::Connect {
            url: "http://g/render".into(),
            reason: "Connection refused".into(),
        });
        assert!(matches!(down, GraphiteError::Unreachable(_)));
        assert_eq!(down.blame(), Blame::Source);
    }

    #[test]
    fn traceback_exception_line_is_the_message() {
        let body = "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: invalid literal for int() with base 10: 'x'\n";
        assert_eq!(
            error_message(body),
            "ValueError: invalid literal for int() with base 10: 'x'"
        );
        let html = "<html><head><title>Bad</title></head><body><pre>InputParameterError: Invalid function &quot;nope&quot;</pre></body></html>";
        assert_eq!(
            error_message(html),
            "InputParameterError: Invalid function \"nope\""
        );
        assert_eq!(
            error_message("<h1>Server Error (500)</h1>"),
            "Server Error (500)"
        );
        assert_eq!(error_message(""), "(empty reply)");
    }
}
