//! A tiny HTTP/1.1 client for talking to the harness's own services.
//!
//! The harness must not share code with the plugins it tests (a bug in the
//! plugins' HTTP stack would then hide itself), and it only ever talks to
//! loopback, so a blocking std-only client with `Connection: close` is all
//! it needs. It refuses any host but loopback.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A response: status code and body (headers are not needed by the harness).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Response {
    /// The body parsed as JSON; panics with the body when it is not.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| {
            panic!(
                "HTTP {} body is not JSON ({error}): {}",
                self.status, self.body
            )
        })
    }
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, String> {
    send("GET", url, &[], None)
}

/// `method url` with a JSON body (`Content-Type: application/json`).
pub fn send_json(method: &str, url: &str, body: &str) -> Result<Response, String> {
    send(method, url, &[], Some(body))
}

/// Percent-encodes a query-string value (RFC 3986 unreserved kept as is).
#[must_use]
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `method url` with extra `headers`; an `Accept` or `Content-Type` among
/// them replaces the default `application/json` one (media-type tests).
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response, String> {
    let (authority, path) = url
        .strip_prefix("http://")
        .map(|rest| rest.split_at(rest.find('/').unwrap_or(rest.len())))
        .ok_or_else(|| format!("only http:// URLs are supported: {url}"))?;
    let path = if path.is_empty() { "/" } else { path };
    let addr = loopback_addr(authority)?;
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|error| format!("connect {addr}: {error}"))?;
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|error| format!("{addr}: {error}"))?;
    let given = |name: &str| {
        headers
            .iter()
            .any(|(key, _)| key.eq_ignore_ascii_case(name))
    };
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    if !given("Accept") {
        head.push_str("Accept: application/json\r\n");
    }
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    if let Some(body) = body {
        if !given("Content-Type") {
            head.push_str("Content-Type: application/json\r\n");
        }
        let _ = write!(head, "Content-Length: {}\r\n", body.len());
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.unwrap_or_default().as_bytes()))
        .map_err(|error| format!("{method} {url}: write: {error}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|error| format!("{method} {url}: read: {error}"))?;
    parse_response(&raw).map_err(|error| format!("{method} {url}: {error}"))
}

fn loopback_addr(authority: &str) -> Result<SocketAddr, String> {
    let addr = authority
        .to_socket_addrs()
        .map_err(|error| format!("bad host:port {authority:?}: {error}"))?
        .next()
        .ok_or_else(|| format!("{authority} resolves to nothing"))?;
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => Ok(addr),
        IpAddr::V6(ip) if ip.is_loopback() => Ok(addr),
        _ => Err(format!(
            "the test harness only talks to loopback, not {addr}"
        )),
    }
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or("no end of headers in the response")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut payload = &raw[split + 4..];
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let mut body = Vec::new();
    if chunked {
        loop {
            let end = payload
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or("truncated chunk size")?;
            let size_text = String::from_utf8_lossy(&payload[..end]);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size_text:?}"))?;
            payload = &payload[end + 2..];
            if size == 0 {
                break;
            }
            let chunk = payload.get(..size).ok_or("truncated chunk")?;
            body.extend_from_slice(chunk);
            payload = payload.get(size + 2..).ok_or("truncated chunk end")?;
        }
    } else {
        body.extend_from_slice(payload);
    }
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_anything_but_loopback() {
        let error = get("http://192.0.2.1:80/").unwrap_err();
        assert!(error.contains("only talks to loopback"), "{error}");
    }

    #[test]
    fn decodes_chunked_and_plain_bodies() {
        let plain = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]").unwrap();
        assert_eq!((plain.status, plain.body.as_str()), (200, "[]"));
        let chunked = parse_response(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((chunked.status, chunked.body.as_str()), (404, "abcde"));
    }

    #[test]
    fn encodes_graphite_targets() {
        assert_eq!(
            encode_query_value("sumSeries(a.*.b, \"x y\")"),
            "sumSeries%28a.%2A.b%2C%20%22x%20y%22%29"
        );
    }
}
