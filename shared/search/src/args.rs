//! The options every search plugin takes, flattened into its arguments:
//!
//! ```
//! use clap::Parser;
//! use nightwatch_search::SearchArgs;
//!
//! #[derive(Debug, Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     search: SearchArgs,
//! }
//!
//! let args = Args::parse_from(["check", "-H", "es.example", "--index", "logstash-%Y.%m.%d"]);
//! assert_eq!(args.search.base_url().unwrap().as_str(), "http://es.example:9200/");
//! ```
//!
//! The server is `-H/--hostname` with `-p/--port` (9200) and `--scheme`, or
//! `--url` (which may carry a path, for a proxy); `--index` is repeatable
//! and takes comma lists. Credentials: `--user` with `--password-file` or
//! `$ES_PASSWORD`; `--api-key-file` or `$ES_API_KEY`; `--token-file` or
//! `$ES_TOKEN`; none needs the command line. TLS: `--ca-file`,
//! `--insecure`. A malformed URL, host or pattern is a usage error that
//! says what to write.

use std::time::Duration;

use clap::ValueEnum;
use nightwatch_http::{HttpArgs, HttpConfig, SecretNames, Url};

use crate::client::{SearchClient, SearchError};
use crate::index::{IndexPattern, Window, resolve};

/// The environment variables of [`SearchArgs`] by default.
#[derive(Debug, Clone, Default)]
pub struct SearchSecrets;

impl SecretNames for SearchSecrets {
    const PASSWORD_ENV: &'static str = "ES_PASSWORD";
    const TOKEN_ENV: &'static str = "ES_TOKEN";
    const API_KEY_ENV: Option<&'static str> = Some("ES_API_KEY");
}

/// `--scheme`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

/// Where the search server is, which indices to search, and how to log in.
#[derive(Debug, Clone, clap::Args)]
#[allow(clippy::doc_markdown)] // the field docs are --help text, not rustdoc
pub struct SearchArgs<S: SecretNames = SearchSecrets> {
    /// Elasticsearch or OpenSearch host name or address
    #[arg(short = 'H', long, value_name = "HOST", value_parser = parse_host, conflicts_with = "url")]
    pub hostname: Option<String>,

    /// Port of the host given with -H
    #[arg(short = 'p', long, value_name = "PORT", default_value_t = 9200,
          value_parser = clap::value_parser!(u16).range(1..), conflicts_with = "url")]
    pub port: u16,

    /// Scheme for the host given with -H
    #[arg(long, value_enum, default_value_t = Scheme::Http, conflicts_with = "url")]
    pub scheme: Scheme,

    /// The server's URL instead of -H/-p/--scheme (e.g. https://proxy/es/)
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub url: Option<Url>,

    /// Index, alias, wildcard or daily/hourly pattern such as
    /// logstash-%Y.%m.%d (UTC); repeatable, or a comma list
    #[arg(long = "index", value_name = "PATTERN", value_delimiter = ',',
          value_parser = parse_index, action = clap::ArgAction::Append)]
    pub index: Vec<IndexPattern>,

    #[command(flatten)]
    pub http: HttpArgs<S>,
}

impl<S: SecretNames> SearchArgs<S> {
    /// The server's base URL.
    pub fn base_url(&self) -> Result<Url, SearchError> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        let Some(host) = &self.hostname else {
            return Err(SearchError::Usage(
                "no search server given: name it with -H HOST (and -p PORT) or --url URL".into(),
            ));
        };
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        let text = format!("{scheme}://{}:{}/", bracketed(host), self.port);
        Url::parse(&text).map_err(|e| SearchError::Usage(format!("{text} is not a URL: {e}")))
    }

    /// Every index `--index` names in `window`.
    pub fn indices(&self, window: &Window) -> Result<Vec<String>, SearchError> {
        if self.index.is_empty() {
            return Err(SearchError::Usage(
                "no index to search: give one with --index (such as --index 'logstash-%Y.%m.%d')"
                    .into(),
            ));
        }
        Ok(resolve(&self.index, window)?)
    }

    /// The HTTP configuration: reads secret files and variables now.
    pub fn config(&self, timeout: Duration, user_agent: &str) -> Result<HttpConfig, SearchError> {
        Ok(self.http.config(timeout, user_agent)?)
    }

    /// A client for the server these options name.
    pub fn client(&self, timeout: Duration, user_agent: &str) -> Result<SearchClient, SearchError> {
        SearchClient::new(&self.base_url()?, self.config(timeout, user_agent)?)
    }
}

/// An IPv6 address needs brackets in a URL.
fn bracketed(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

fn parse_host(text: &str) -> Result<String, String> {
    if text.contains("://") {
        return Err(format!(
            "-H takes a host name or address, not a URL: write --url {text}"
        ));
    }
    if text.is_empty()
        || text
            .chars()
            .any(|c| c.is_whitespace() || "/?#@".contains(c))
    {
        return Err("expected a host name or address, such as es.example or 10.0.0.5".into());
    }
    Url::parse(&format!("http://{}:9200/", bracketed(text)))
        .map(|_| text.to_owned())
        .map_err(|e| format!("{e}: expected a host name or address, such as es.example"))
}

/// The shared base-URL rule (a scheme and a host, with what to write when
/// either is wrong), plus one of the search server's own: a query or
/// fragment would be lost on every request path appended to it.
fn parse_url(text: &str) -> Result<Url, String> {
    let url = nightwatch_http::parse_base_url(text).map_err(|e| e.to_string())?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "'{text}': a query or fragment has no place in the search server's URL: \
             write it as {}://HOST:PORT",
            url.scheme()
        ));
    }
    Ok(url)
}

fn parse_index(text: &str) -> Result<IndexPattern, String> {
    text.trim()
        .parse()
        .map_err(|e: crate::IndexError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};
    use nightwatch_http::Auth;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        search: SearchArgs,
    }

    fn parse(args: &[&str]) -> Result<Cli, String> {
        Cli::try_parse_from(std::iter::once("check").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn host_port_and_scheme_or_a_url() {
        let url = |args: &[&str]| parse(args).unwrap().search.base_url().unwrap().to_string();
        assert_eq!(url(&["-H", "es.example"]), "http://es.example:9200/");
        assert_eq!(
            url(&["-H", "10.0.0.5", "-p", "9201", "--scheme", "https"]),
            "https://10.0.0.5:9201/"
        );
        assert_eq!(url(&["-H", "::1"]), "http://[::1]:9200/");
        assert_eq!(
            url(&["--url", "https://proxy.example/es/"]),
            "https://proxy.example/es/"
        );
        let none = parse(&[]).unwrap().search.base_url().unwrap_err();
        assert!(none.to_string().contains("-H HOST"), "{none}");
    }

    #[test]
    fn malformed_servers_are_usage_errors_saying_what_to_write() {
        let both = parse(&["-H", "es", "--url", "http://es:9200"]).unwrap_err();
        assert!(both.contains("cannot be used with"), "{both}");
        let with_port = parse(&["--url", "http://es:9200", "-p", "9300"]).unwrap_err();
        assert!(with_port.contains("cannot be used with"), "{with_port}");
        let url_as_host = parse(&["-H", "http://es:9200"]).unwrap_err();
        assert!(
            url_as_host.contains("write --url http://es:9200"),
            "{url_as_host}"
        );
        let no_scheme = parse(&["--url", "es.example:9200"]).unwrap_err();
        assert!(
            no_scheme.contains("write http://es.example:9200"),
            "{no_scheme}"
        );
        let ftp = parse(&["--url", "ftp://es.example"]).unwrap_err();
        assert!(ftp.contains("is not http or https"), "{ftp}");
        let scheme = parse(&["-H", "es", "--scheme", "htps"]).unwrap_err();
        assert!(scheme.contains("possible values: http, https"), "{scheme}");
        assert!(parse(&["-H", "es", "-p", "0"]).is_err());
        assert!(parse(&["-H", "es", "-p", "http"]).is_err());
        assert!(parse(&["--url", "http://es:9200/?pretty"]).is_err());
    }

    #[test]
    fn indices_repeat_and_take_comma_lists() {
        let cli = parse(&[
            "-H",
            "es",
            "--index",
            "logstash-%Y.%m.%d,cloudtrail",
            "--index",
            "logs-*",
        ])
        .unwrap();
        let window = Window::new(
            "2026-11-24T23:50:00Z".parse().unwrap(),
            "2026-11-25T00:20:00Z".parse().unwrap(),
        );
        assert_eq!(
            cli.search.indices(&window).unwrap(),
            [
                "logstash-2026.11.24",
                "logstash-2026.11.25",
                "cloudtrail",
                "logs-*"
            ]
        );
        let bad = parse(&["--index", "logs-%Y.%m.%d.%M"]).unwrap_err();
        assert!(bad.contains("more often than hourly"), "{bad}");
        let none = parse(&["-H", "es"])
            .unwrap()
            .search
            .indices(&window)
            .unwrap_err();
        assert!(none.to_string().contains("--index"), "{none}");
    }

    #[test]
    fn credentials_never_need_the_command_line() {
        let help = Cli::command().render_help().to_string();
        for needed in [
            "$ES_PASSWORD",
            "$ES_API_KEY",
            "$ES_TOKEN",
            "--ca-file",
            "--insecure",
        ] {
            assert!(help.contains(needed), "{needed} missing from\n{help}");
        }
        let dir =
            std::env::temp_dir().join(format!("nightwatch-search-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key");
        std::fs::write(&key, "abc==\n").unwrap();
        let cli = parse(&["-H", "es", "--api-key-file", key.to_str().unwrap()]).unwrap();
        let config = cli.search.config(Duration::from_secs(1), "t").unwrap();
        assert!(
            matches!(&config.auth, Auth::Header { name, value } if name == "Authorization" && value.expose() == "ApiKey abc=="),
            "{:?}",
            config.auth
        );
        let missing = parse(&["-H", "es", "--token-file", "/nonexistent/token"])
            .unwrap()
            .search
            .client(Duration::from_secs(1), "t")
            .unwrap_err();
        assert_eq!(
            nightwatch_core::CheckError::blame(&missing),
            nightwatch_core::Blame::Usage
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
