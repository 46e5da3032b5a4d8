//! A server's base URL as a user types it. A URL the client cannot request
//! (`htp://…`, `127.0.0.1:8080`, `http://`) is the user's mistake, refused
//! when the arguments are read with what to write instead, never reported
//! later as an unreachable server (which `--unreachable-state ok` would
//! turn into a green check).

use reqwest::Url;

/// Why a text is not an `http://` or `https://` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a URL this plugin can request: {reason}")]
pub struct UrlError {
    text: String,
    reason: String,
}

impl UrlError {
    fn new(text: &str, reason: impl Into<String>) -> UrlError {
        UrlError {
            text: text.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Parses a server's base URL: `http` or `https`, with a host. A missing
/// or misspelt scheme is refused with the URL the user most likely meant.
/// Usable as a clap `value_parser`.
pub fn parse_base_url(text: &str) -> Result<Url, UrlError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(UrlError::new(text, "it is empty"));
    }
    let Some((scheme, rest)) = trimmed.split_once("://") else {
        // `127.0.0.1:8080` fails to parse and `localhost:8080` parses as
        // the scheme `localhost`: either way the scheme is missing.
        return Err(UrlError::new(
            text,
            format!("it has no scheme: write http://{trimmed} (or https://{trimmed})"),
        ));
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(UrlError::new(
            text,
            format!("the scheme '{scheme}' is not http or https: write http://{rest}"),
        ));
    }
    let url = Url::parse(trimmed)
        .map_err(|e| UrlError::new(text, format!("{e}: write it as {scheme}://HOST:PORT")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::new(
            text,
            format!("it names no host: write it as {scheme}://HOST:PORT"),
        ));
    }
    if url.cannot_be_a_base() {
        return Err(UrlError::new(text, "it cannot be a base URL"));
    }
    Ok(url)
}

/// Whether the client can send a request to `url` at all; the reason when
/// it cannot. [`HttpClient::new`](crate::HttpClient::new) asks this so a
/// library caller that skipped [`parse_base_url`] gets a usage error too.
pub(crate) fn unrequestable(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!(
            "the scheme '{}' is not http or https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some("it names no host".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mistyped_urls_say_what_to_write() {
        let err = |text: &str| parse_base_url(text).unwrap_err().to_string();
        assert_eq!(
            err("htp://graphite.example.internal:8080"),
            "'htp://graphite.example.internal:8080' is not a URL this plugin can request: \
             the scheme 'htp' is not http or https: write http://graphite.example.internal:8080"
        );
        assert!(
            err("127.0.0.1:8080").contains("write http://127.0.0.1:8080"),
            "{}",
            err("127.0.0.1:8080")
        );
        assert!(err("localhost:8080").contains("write http://localhost:8080"));
        assert!(err("http://").contains("empty host"), "{}", err("http://"));
        assert!(err("").contains("it is empty"));
        assert!(err("ftp://g/").contains("'ftp' is not http or https"));
    }

    #[test]
    fn good_urls_parse_as_given() {
        for text in [
            "http://127.0.0.1:8080",
            "https://graphite.example/graphite/",
            "HTTP://[::1]:80",
            " http://g:1 ",
        ] {
            let url = parse_base_url(text).unwrap();
            assert!(unrequestable(&url).is_none(), "{text}");
        }
        let odd = Url::parse("htp://g/").unwrap();
        assert_eq!(
            unrequestable(&odd).as_deref(),
            Some("the scheme 'htp' is not http or https")
        );
    }

    proptest! {
        /// Whatever is typed, the result is requestable or an error that
        /// names the text; and a host:port without a scheme is refused with
        /// a suggestion that itself parses.
        #[test]
        fn every_text_is_requestable_or_refused(text in "\\PC{0,40}") {
            match parse_base_url(&text) {
                Ok(url) => prop_assert!(unrequestable(&url).is_none()),
                Err(error) => {
                    let quoted = format!("'{text}'");
                    prop_assert!(error.to_string().contains(&quoted));
                }
            }
        }

        #[test]
        fn a_host_and_port_gets_a_working_suggestion(
            host in "[a-z][a-z0-9-]{0,20}(\\.[a-z][a-z0-9]{0,9}){0,3}",
            port in 1u16..,
        ) {
            let text = format!("{host}:{port}");
            let message = parse_base_url(&text).unwrap_err().to_string();
            let suggested = format!("http://{text}");
            prop_assert!(message.contains(&format!("write {suggested}")), "{}", message);
            prop_assert!(parse_base_url(&suggested).is_ok());
        }
    }
}
