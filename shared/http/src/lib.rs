//! The HTTP client nightwatch plugins share (reqwest over rustls with ring):
//! timeouts, `--ca-file`, an explicit `--insecure`, basic and bearer auth
//! with secrets from a file or the environment, and the system proxy
//! (`http_proxy`, `https_proxy`, `no_proxy`).

pub mod args;
pub mod client;
pub mod secret;

pub use args::{HttpArgs, SecretNames};
pub use client::{Auth, HttpClient, HttpConfig, HttpError, Response, form_urlencode, redact};
pub use reqwest::Url;
pub use secret::{Secret, SecretError};
