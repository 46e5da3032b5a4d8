//! One HTTP client for every plugin that speaks HTTP: reqwest over rustls
//! (ring), driven on a single-threaded runtime, with timeouts, TLS options,
//! auth and the system proxy.

use std::path::PathBuf;
use std::time::Duration;

use nightwatch_core::Blame;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::reply::{JsonReply, RequestError};
use crate::secret::Secret;

/// The most of a reply we read: a plugin has no business holding more, and
/// a broken server must not make it swap.
pub const DEFAULT_MAX_BODY: usize = 64 << 20;

/// How to authenticate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    Basic {
        user: String,
        password: Option<Secret>,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// Any other header, such as Elasticsearch's `Authorization: ApiKey …`.
    Header { name: String, value: Secret },
}

/// Everything that decides how requests are made.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub timeout: Duration,
    /// Trust only this CA bundle (PEM) instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Skip certificate checks: explicit, never the default.
    pub insecure: bool,
    pub auth: Auth,
    pub user_agent: String,
    pub max_body: usize,
}

impl HttpConfig {
    #[must_use]
    pub fn new(timeout: Duration, user_agent: impl Into<String>) -> HttpConfig {
        HttpConfig {
            timeout,
            ca_file: None,
            insecure: false,
            auth: Auth::None,
            user_agent: user_agent.into(),
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// What went wrong talking HTTP, naming the URL.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot read the CA file {}", path.display())]
    CaFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA file {} holds no PEM certificate", path.display())]
    CaFileEmpty { path: PathBuf },
    #[error("cannot set up the HTTP client")]
    Setup(#[source] reqwest::Error),
    /// A URL no request can be sent to (`htp://…`, no host): the user's
    /// mistake, never an unreachable server.
    #[error("cannot request {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot start the I/O runtime")]
    Runtime(#[source] std::io::Error),
    #[error("no answer from {url} within {}", humanize(*after))]
    Timeout { url: String, after: Duration },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("request to {url} failed: {reason}")]
    Request { url: String, reason: String },
    #[error("the reply from {url} is larger than {}, more than any check needs", size(*limit))]
    TooLarge { url: String, limit: usize },
}

impl HttpError {
    /// The request never got an answer: refused, reset, or too slow.
    #[must_use]
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            HttpError::Connect { .. } | HttpError::Request { .. } | HttpError::Timeout { .. }
        )
    }

    /// Whose fault this is when the server plays the part `server` (the
    /// source of a measurement, or the thing monitored): a bad CA file is
    /// the user's, a runtime that cannot start is ours, the rest the server's.
    #[must_use]
    pub fn blame(&self, server: Blame) -> Blame {
        match self {
            HttpError::CaFile { .. }
            | HttpError::CaFileEmpty { .. }
            | HttpError::Setup(_)
            | HttpError::BadUrl { .. } => Blame::Usage,
            HttpError::Runtime(_) => Blame::Internal,
            HttpError::Timeout { .. }
            | HttpError::Connect { .. }
            | HttpError::Request { .. }
            | HttpError::TooLarge { .. } => server,
        }
    }
}

fn size(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn humanize(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}

/// A reply, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// The server's clock from its `Date` header, if it sent a valid one.
    #[must_use]
    pub fn server_date(&self) -> Option<std::time::SystemTime> {
        let value = self.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        httpdate::parse_http_date(value).ok()
    }

    /// The body as text, invalid UTF-8 replaced.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A ready client; build it once per run.
#[derive(Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    config: HttpConfig,
}

impl HttpClient {
    /// Builds a client for requests to `base_url`. CA roots are loaded only
    /// when it is https: a plain-http check never reads `/etc/ssl`.
    pub fn new(config: HttpConfig, base_url: &reqwest::Url) -> Result<HttpClient, HttpError> {
        // One provider for the process; reqwest then builds on it. Failing
        // only means another part of the process installed one first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        if let Some(reason) = crate::url::unrequestable(base_url) {
            return Err(HttpError::BadUrl {
                url: redact(base_url),
                reason,
            });
        }

        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(3));
        let https = base_url.scheme() == "https";
        if let Some(path) = config.ca_file.as_ref().filter(|_| https) {
            builder = builder.tls_certs_only(read_ca_file(path)?);
        } else if !https {
            builder = builder.tls_certs_only(Vec::new());
        }
        if config.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let client = builder.build().map_err(HttpError::Setup)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(HttpError::Runtime)?;
        Ok(HttpClient {
            client,
            runtime,
            config,
        })
    }

    /// GET `url`.
    pub fn get(&self, url: &reqwest::Url) -> Result<Response, HttpError> {
        self.send(self.client.get(url.clone()), url)
    }

    /// POST `form` to `url` as `application/x-www-form-urlencoded`, for
    /// queries too long for a URL.
    pub fn post_form(
        &self,
        url: &reqwest::Url,
        form: &[(&str, &str)],
    ) -> Result<Response, HttpError> {
        let body = form_urlencode(form);
        let request = self
            .client
            .post(url.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        self.send(request, url)
    }

    /// POST a JSON body (already serialised) to `url`.
    pub fn post_json(&self, url: &reqwest::Url, json: String) -> Result<Response, HttpError> {
        self.send_json(reqwest::Method::POST, url, Some(json))
    }

    /// Sends `method` to `url` with an optional JSON body (already
    /// serialised), asking for JSON back. The media type is plain
    /// `application/json` both ways: `OpenSearch` answers 406 to the
    /// `compatible-with` types the Elasticsearch 8 clients send, and
    /// Elasticsearch 9 refuses those of 8.
    pub fn send_json(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        json: Option<String>,
    ) -> Result<Response, HttpError> {
        let mut request = self
            .client
            .request(method, url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(json) = json {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        self.send(request, url)
    }

    /// The generic JSON request: sends `body` (if any) as JSON and reads a
    /// 2xx answer as `T`. Fails with [`RequestError::Http`] when there is
    /// no answer, [`RequestError::Status`] (the status and the line of the
    /// body that explains it) when the server refuses, and
    /// [`RequestError::BadReply`] when a 2xx answer is not `T`; each says
    /// whose fault it is ([`RequestError::blame`]).
    pub fn request_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        body: Option<&serde_json::Value>,
    ) -> Result<JsonReply<T>, RequestError> {
        let json = body.map(serde_json::Value::to_string);
        self.send_json(method, url, json)?.json(url)
    }

    fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &reqwest::Url,
    ) -> Result<Response, HttpError> {
        let request = self.authorize(request);
        let shown = redact(url);
        let limit = self.config.max_body;
        self.runtime.block_on(async {
            let classify = |source: reqwest::Error| {
                // A builder error is a request that could not be formed
                // (a URL reqwest refuses): nothing was sent anywhere.
                if source.is_builder() {
                    HttpError::BadUrl {
                        url: shown.clone(),
                        reason: root_cause(&source),
                    }
                } else if source.is_timeout() {
                    HttpError::Timeout {
                        url: shown.clone(),
                        after: self.config.timeout,
                    }
                } else if source.is_connect() {
                    HttpError::Connect {
                        url: shown.clone(),
                        reason: root_cause(&source),
                    }
                } else {
                    HttpError::Request {
                        url: shown.clone(),
                        reason: root_cause(&source),
                    }
                }
            };
            let mut response = request.send().await.map_err(classify)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            // A declared length over the limit fails before reading; a declared
            // length under it sizes the buffer once instead of growing it by
            // doubling (a 100-series render is ~600 KiB).
            let declared = response.content_length().unwrap_or(0);
            if declared > limit as u64 {
                return Err(HttpError::TooLarge {
                    url: shown.clone(),
                    limit,
                });
            }
            let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
            while let Some(chunk) = response.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > limit {
                    return Err(HttpError::TooLarge {
                        url: shown.clone(),
                        limit,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Response {
                status,
                headers,
                body,
            })
        })
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.config.auth {
            Auth::None => request,
            Auth::Basic { user, password } => {
                request.basic_auth(user, password.as_ref().map(Secret::expose))
            }
            Auth::Bearer(token) => match bearer(token) {
                Some(value) => request.header(AUTHORIZATION, value),
                None => request,
            },
            Auth::Header { name, value } => match sensitive(value.expose()) {
                Some(value) => request.header(name.as_str(), value),
                None => request,
            },
        }
    }
}

fn bearer(token: &Secret) -> Option<HeaderValue> {
    sensitive(&format!("Bearer {}", token.expose()))
}

/// A header value kept out of reqwest's and hyper's debug output.
fn sensitive(text: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// The largest CA bundle read: Debian's whole system bundle is ~220 KiB, and
/// `--ca-file /dev/zero` must not read until memory runs out.
pub const MAX_CA_FILE: u64 = 4 << 20;

fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, HttpError> {
    let pem = nightwatch_core::file::read_bounded(path, MAX_CA_FILE).map_err(|source| {
        HttpError::CaFile {
            path: path.to_owned(),
            source,
        }
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).unwrap_or_default();
    if certs.is_empty() {
        return Err(HttpError::CaFileEmpty {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The innermost cause of a reqwest error ("Connection refused"): its outer
/// layers repeat the URL and say "error sending request" in four ways.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// The URL for messages: no password, no query string (which can be
/// long, and can hold tokens).
#[must_use]
pub fn redact(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.set_query(None);
    shown.to_string()
}

/// `application/x-www-form-urlencoded`, as browsers and graphite-web read it.
#[must_use]
pub fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("a constant URL parses");
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_what_graphite_targets_hold() {
        let body = form_urlencode(&[("target", "sumSeries(a.b,c#d)+e&f=g h"), ("noCache", "1")]);
        assert_eq!(
            body,
            "target=sumSeries%28a.b%2Cc%23d%29%2Be%26f%3Dg+h&noCache=1"
        );
    }

    #[test]
    fn a_bad_ca_file_is_the_users_fault_and_a_silent_server_the_servers() {
        let connect = HttpError::Connect {
            url: "http://g/render".into(),
            reason: "Connection refused".into(),
        };
        assert!(connect.is_unreachable());
        assert_eq!(connect.blame(Blame::Source), Blame::Source);
        assert_eq!(connect.blame(Blame::Monitored), Blame::Monitored);
        let too_large = HttpError::TooLarge {
            url: "http://g/render".into(),
            limit: DEFAULT_MAX_BODY,
        };
        assert!(!too_large.is_unreachable());
        assert_eq!(too_large.blame(Blame::Source), Blame::Source);
        let ca = HttpError::CaFileEmpty {
            path: "/etc/ca.pem".into(),
        };
        assert!(!ca.is_unreachable());
        assert_eq!(ca.blame(Blame::Monitored), Blame::Usage);
        let runtime = HttpError::Runtime(std::io::Error::other("no epoll"));
        assert_eq!(runtime.blame(Blame::Source), Blame::Internal);
    }

    #[test]
    fn size_caps_read_in_mib_when_whole() {
        assert_eq!(size(DEFAULT_MAX_BODY), "64 MiB");
        assert_eq!(size(1 << 20), "1 MiB");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(size((1 << 20) + 1), "1048577 bytes");
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        let url =
            reqwest::Url::parse("http://admin:hunter2@graphite:8080/render?target=x").unwrap();
        assert_eq!(redact(&url), "http://admin:***@graphite:8080/render");
    }
}
