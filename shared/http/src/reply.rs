//! What a server's answer means: a success, a refusal with a status and
//! the one line of its error body that explains it, or a reply that is not
//! what was asked for. Every HTTP client in the suite (Graphite's render
//! API, Elasticsearch and `OpenSearch`) reads answers here, so a 401 is
//! everyone's configuration problem and a 503 everyone's server problem.

use nightwatch_core::Blame;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::{HttpError, Response, redact};

/// The longest error excerpt kept: one line of a page, not the page.
pub const EXCERPT_CHARS: usize = 200;

/// A server answered, but with a status outside 2xx.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url} answered {status}{}: {message}", kind.as_deref().map(|k| format!(" ({k})")).unwrap_or_default())]
pub struct StatusError {
    /// The URL asked, redacted (no password, no query string).
    pub url: String,
    pub status: u16,
    /// The error's type when the body names one (Elasticsearch's
    /// `parsing_exception`, `security_exception`, …).
    pub kind: Option<String>,
    /// The line of the body that explains the refusal ([`error_excerpt`]).
    pub message: String,
}

impl StatusError {
    /// The refusal `response` holds, read from its body.
    #[must_use]
    pub fn new(url: &reqwest::Url, response: &Response) -> StatusError {
        let excerpt = error_excerpt(&response.body);
        StatusError {
            url: redact(url),
            status: response.status,
            kind: excerpt.kind,
            message: excerpt.message,
        }
    }

    /// Whose fault the refusal is: [`status_blame`].
    #[must_use]
    pub fn blame(&self, server: Blame) -> Blame {
        status_blame(self.status, server)
    }
}

/// Whose fault an error status is, when the server plays the part
/// `server`. Decided here once for every client:
/// - 401, 403 (credentials, permissions), 404 (a path that does not
///   exist: a wrong URL prefix), 400 and the other 4xx (a query or
///   request the server cannot take): the user's configuration;
/// - 406 and 415 (the media type we send): ours, a bug;
/// - 408, 429 (rejected under load), 5xx, and anything else: the
///   server's.
#[must_use]
pub fn status_blame(status: u16, server: Blame) -> Blame {
    match status {
        406 | 415 => Blame::Internal,
        408 | 429 => server,
        400..=499 => Blame::Usage,
        _ => server,
    }
}

/// What went wrong with a request whose answer is read as JSON.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No answer: refused, reset, too slow ([`HttpError::is_unreachable`]),
    /// or the client could not be set up, or the reply was over its size cap.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The server answered with an error status.
    #[error(transparent)]
    Status(#[from] StatusError),
    /// A 2xx answer that is not the JSON expected.
    #[error("the reply from {url} is not the JSON expected ({reason}); it starts with {excerpt:?}")]
    BadReply {
        url: String,
        status: u16,
        reason: String,
        excerpt: String,
    },
}

impl RequestError {
    /// The request got no answer at all: see [`HttpError::is_unreachable`].
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        matches!(self, RequestError::Http(http) if http.is_unreachable())
    }

    /// Whose fault this is when the server plays the part `server`: see
    /// [`HttpError::blame`] and [`StatusError::blame`]; a reply that is not
    /// the JSON expected is the server's.
    #[must_use]
    pub fn blame(&self, server: Blame) -> Blame {
        match self {
            RequestError::Http(http) => http.blame(server),
            RequestError::Status(status) => status.blame(server),
            RequestError::BadReply { .. } => server,
        }
    }

    /// The status the server answered with, if it answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            RequestError::Http(_) => None,
            RequestError::Status(error) => Some(error.status),
            RequestError::BadReply { status, .. } => Some(*status),
        }
    }
}

/// A successful JSON answer.
#[derive(Debug, Clone)]
pub struct JsonReply<T> {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: T,
}

impl Response {
    /// This response if its status is 2xx, else the refusal it holds.
    pub fn success(self, url: &reqwest::Url) -> Result<Response, StatusError> {
        if (200..300).contains(&self.status) {
            Ok(self)
        } else {
            Err(StatusError::new(url, &self))
        }
    }

    /// A 2xx response's body read as `T`; any other status is a
    /// [`StatusError`], a body that does not read as `T` a `BadReply`.
    pub fn json<T: DeserializeOwned>(
        self,
        url: &reqwest::Url,
    ) -> Result<JsonReply<T>, RequestError> {
        let response = self.success(url)?;
        match serde_json::from_slice(&response.body) {
            Ok(body) => Ok(JsonReply {
                status: response.status,
                headers: response.headers,
                body,
            }),
            Err(error) => Err(RequestError::BadReply {
                url: redact(url),
                status: response.status,
                reason: error.to_string(),
                excerpt: text_excerpt(&String::from_utf8_lossy(&response.body), 80),
            }),
        }
    }
}

/// The part of an error body that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorExcerpt {
    /// The error's type, when a JSON body names one.
    pub kind: Option<String>,
    /// One line, at most [`EXCERPT_CHARS`] characters.
    pub message: String,
}

/// The line of an error body that explains it:
/// - JSON as Elasticsearch and `OpenSearch` write it: the first root cause's
///   `reason` (the parse error, not "all shards failed"), else
///   `error.reason`; with its `type`. Other JSON APIs: `error` as a string,
///   `message`, `msg`.
/// - A Python traceback (graphite-web): its last `SomethingError: …` line.
/// - HTML (a proxy's 502 page, Django's debug page): the text of the
///   first element that holds some, tags stripped, entities decoded.
/// - Anything else: its first non-blank line; an empty body says so.
#[must_use]
pub fn error_excerpt(body: &[u8]) -> ErrorExcerpt {
    let text = String::from_utf8_lossy(body);
    if let Ok(json) = serde_json::from_str::<Value>(&text)
        && let Some(excerpt) = json_error(&json)
    {
        return excerpt;
    }
    ErrorExcerpt {
        kind: None,
        message: text_error(&text),
    }
}

fn json_error(json: &Value) -> Option<ErrorExcerpt> {
    let string = |v: &Value| v.as_str().map(str::to_owned);
    let error = &json["error"];
    let cause = error["root_cause"]
        .get(0)
        .filter(|c| c["reason"].is_string())
        .unwrap_or(error);
    let (kind, message) = if let Some(reason) = string(&cause["reason"]) {
        (string(&cause["type"]), reason)
    } else if let Some(message) = string(error) {
        (None, message)
    } else if let Some(message) = string(&json["message"]).or_else(|| string(&json["msg"])) {
        (
            string(&json["type"]).or_else(|| string(&json["code"])),
            message,
        )
    } else {
        return None;
    };
    // The root cause names the query ("Failed to parse query [foo:(]");
    // the innermost `caused_by` says what is wrong with it. `OpenSearch`
    // nests it under the error, Elasticsearch under the failed shard.
    let detail = [
        &error["caused_by"],
        &error["failed_shards"][0]["reason"]["caused_by"],
    ]
    .into_iter()
    .find(|cause| cause.is_object())
    .map(|mut inner| {
        while inner["caused_by"].is_object() {
            inner = &inner["caused_by"];
        }
        inner
    })
    .and_then(|inner| inner["reason"].as_str())
    // The parser's first line; the rest lists every token it expected.
    .and_then(|reason| reason.lines().next())
    .map(str::trim);
    let message = match detail {
        Some(detail) if !detail.is_empty() && !message.contains(detail) => {
            format!("{message}: {detail}")
        }
        _ => message,
    };
    Some(ErrorExcerpt {
        kind,
        message: text_excerpt(&message, EXCERPT_CHARS),
    })
}

fn text_error(body: &str) -> String {
    let text = strip_tags(body);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let exception = lines.iter().rev().find(|line| {
        line.split_once(": ").is_some_and(|(name, _)| {
            !name.contains(' ') && (name.ends_with("Error") || name.ends_with("Exception"))
        })
    });
    let line = exception
        .or(lines.first())
        .copied()
        .unwrap_or("(empty reply)");
    text_excerpt(&decode_entities(line), EXCERPT_CHARS)
}

/// `text` on one line (runs of whitespace become one space), cut at
/// `chars` characters with a trailing `…`.
#[must_use]
pub fn text_excerpt(text: &str, chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(chars * 4));
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            if count == chars {
                out.push('…');
                return out;
            }
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count == chars {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push('\n');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn decode_entities(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> String {
        error_excerpt(body.as_bytes()).message
    }

    #[test]
    fn elasticsearch_root_cause_beats_all_shards_failed() {
        // Elasticsearch 7.17's answer to `query_string: "foo:("`.
        let body = r#"{"error":{"root_cause":[{"type":"query_shard_exception","reason":"Failed to parse query [foo:(]","index_uuid":"x","index":"logs"}],"type":"search_phase_execution_exception","reason":"all shards failed","phase":"query","grouped":true,"failed_shards":[]},"status":400}"#;
        assert_eq!(
            error_excerpt(body.as_bytes()),
            ErrorExcerpt {
                kind: Some("query_shard_exception".into()),
                message: "Failed to parse query [foo:(]".into()
            }
        );
    }

    /// Bodies as the real servers sent them (the nodes of
    /// `tests/e2e/search_client.rs`, `query_string: "eventName:("`).
    #[test]
    fn the_innermost_cause_says_what_is_wrong_with_the_query() {
        let expected = ErrorExcerpt {
            kind: Some("query_shard_exception".into()),
            message:
                "Failed to parse query [eventName:(]: Encountered \"<EOF>\" at line 1, column 11."
                    .into(),
        };
        for body in [
            include_str!("../testdata/opensearch-2.19.6-query-parse-error.json"),
            include_str!("../testdata/elasticsearch-8.19.21-query-parse-error.json"),
        ] {
            assert_eq!(error_excerpt(body.as_bytes()), expected);
        }
        let fielddata = error_excerpt(include_bytes!(
            "../testdata/elasticsearch-8.19.21-fielddata-error.json"
        ));
        assert_eq!(
            fielddata.kind.as_deref(),
            Some("illegal_argument_exception")
        );
        assert!(
            fielddata
                .message
                .starts_with("Fielddata is disabled on [n] in [sc-cap-b]. Text fields"),
            "{fielddata:?}"
        );
        assert_eq!(fielddata.message.chars().count(), EXCERPT_CHARS + 1);
    }

    #[test]
    fn json_errors_of_other_shapes() {
        // Elasticsearch's security plugin: no root cause with a reason.
        let security = r#"{"error":{"root_cause":[],"type":"security_exception","reason":"missing authentication credentials for REST request [/_search]"},"status":401}"#;
        let excerpt = error_excerpt(security.as_bytes());
        assert_eq!(excerpt.kind.as_deref(), Some("security_exception"));
        assert!(excerpt.message.starts_with("missing authentication"));
        // OpenSearch's security plugin and its 406 on compatible-with.
        assert_eq!(
            message(r#"{"error":"Unauthorized","status":401}"#),
            "Unauthorized"
        );
        assert_eq!(
            message(
                r#"{"error":"Content-Type header [application/vnd.elasticsearch+json; compatible-with=8] is not supported","status":406}"#
            ),
            "Content-Type header [application/vnd.elasticsearch+json; compatible-with=8] is not supported"
        );
        // AWS's managed OpenSearch behind IAM.
        assert_eq!(
            message(r#"{"message":"User: anonymous is not authorized to perform: es:ESHttpGet"}"#),
            "User: anonymous is not authorized to perform: es:ESHttpGet"
        );
        // JSON that says nothing about an error is shown as text.
        assert_eq!(message(r#"{"ok":false}"#), r#"{"ok":false}"#);
    }

    #[test]
    fn proxy_pages_and_tracebacks() {
        let nginx = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(message(nginx), "502 Bad Gateway");
        let traceback =
            "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: bad 'x'\n";
        assert_eq!(message(traceback), "ValueError: bad 'x'");
        assert_eq!(message(""), "(empty reply)");
        assert_eq!(message("  \n"), "(empty reply)");
    }

    #[test]
    fn excerpts_are_one_line_and_cut_on_characters() {
        assert_eq!(text_excerpt("a\n  b\tc", 10), "a b c");
        assert_eq!(text_excerpt("ééééé", 3), "ééé…");
        assert_eq!(text_excerpt("ab cd", 2), "ab…");
        assert_eq!(text_excerpt("ab", 2), "ab");
        let long = "x".repeat(500);
        assert_eq!(message(&long).chars().count(), EXCERPT_CHARS + 1);
    }

    fn status(code: u16) -> StatusError {
        StatusError {
            url: "http://es:9200/logs/_search".into(),
            status: code,
            kind: None,
            message: "m".into(),
        }
    }

    #[test]
    fn whose_fault_each_status_is() {
        for code in [400, 401, 403, 404, 413] {
            assert_eq!(status(code).blame(Blame::Source), Blame::Usage, "{code}");
        }
        for code in [406, 415] {
            assert_eq!(status(code).blame(Blame::Source), Blame::Internal, "{code}");
        }
        for code in [408, 429, 500, 502, 503, 504, 302] {
            assert_eq!(status(code).blame(Blame::Source), Blame::Source, "{code}");
            assert_eq!(
                status(code).blame(Blame::Monitored),
                Blame::Monitored,
                "{code}"
            );
        }
        let error = RequestError::from(status(503));
        assert!(!error.is_unreachable());
        assert_eq!(error.status(), Some(503));
    }

    #[test]
    fn status_errors_name_url_status_and_kind() {
        let mut error = status(400);
        error.kind = Some("parsing_exception".into());
        assert_eq!(
            error.to_string(),
            "http://es:9200/logs/_search answered 400 (parsing_exception): m"
        );
        assert_eq!(
            status(503).to_string(),
            "http://es:9200/logs/_search answered 503: m"
        );
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn json_replies_refusals_and_garbage() {
        let url = reqwest::Url::parse("http://u:pw@es:9200/x/_count?q=1").unwrap();
        let reply: JsonReply<Value> = response(200, r#"{"count":3}"#).json(&url).unwrap();
        assert_eq!(reply.body["count"], 3);
        let refused = response(401, r#"{"error":"Unauthorized"}"#)
            .json::<Value>(&url)
            .unwrap_err();
        assert_eq!(refused.blame(Blame::Source), Blame::Usage);
        assert!(
            refused
                .to_string()
                .contains("http://u:***@es:9200/x/_count answered 401"),
            "{refused}"
        );
        let garbage = response(200, "<html>hello</html>")
            .json::<Value>(&url)
            .unwrap_err();
        assert!(
            matches!(garbage, RequestError::BadReply { status: 200, ref excerpt, .. } if excerpt == "<html>hello</html>"),
            "{garbage:?}"
        );
        assert_eq!(garbage.blame(Blame::Source), Blame::Source);
        assert!(!garbage.is_unreachable());
    }
}
