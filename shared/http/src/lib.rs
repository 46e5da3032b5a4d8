//! The HTTP client nightwatch plugins share (reqwest over rustls with ring):
//! timeouts, `--ca-file`, an explicit `--insecure`, basic and bearer auth
//! with secrets from a file or the environment, and the system proxy
//! (`http_proxy`, `https_proxy`, `no_proxy`); and what an answer means
//! ([`reply`]): a status error with the line of its body that explains it,
//! and whose fault it is, decided once for every client.

pub mod args;
pub mod client;
pub mod reply;
pub mod secret;
pub mod url;

pub use args::{HttpArgs, SecretNames};
pub use client::{Auth, HttpClient, HttpConfig, HttpError, Response, form_urlencode, redact};
pub use reply::{
    ErrorExcerpt, JsonReply, RequestError, StatusError, error_excerpt, status_blame, text_excerpt,
};
pub use reqwest::{Method, Url};
pub use secret::{Secret, SecretError};
pub use url::{UrlError, parse_base_url};
