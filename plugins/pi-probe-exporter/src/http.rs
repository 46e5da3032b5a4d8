//! A tiny std-only HTTP/1.1 responder for `GET /metrics`.
//!
//! One connection at a time, `Connection: close`, short timeouts: it serves
//! a scraper every few seconds, nothing more.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::log::Log;

/// Parses `--listen`: a bare port means loopback (`9101` is
/// `127.0.0.1:9101`); anything else must be `ADDR:PORT`.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let port: u16 = s
            .parse()
            .map_err(|_| format!("{s:?} is not a port number"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        format!(
            "{s:?} is neither a port (9101) nor an address with a port (127.0.0.1:9101, [::1]:9101)"
        )
    })
}

const MAX_REQUEST: usize = 8192;

/// Reads the request head; returns (method, path).
fn read_request(stream: &mut TcpStream) -> io::Result<Option<(String, String)>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        if buf.len() > MAX_REQUEST {
            return Ok(None);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let first = head.lines().next().unwrap_or("");
    let mut parts = first.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(m), Some(p)) => Ok(Some((m.to_owned(), p.to_owned()))),
        _ => Ok(None),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
    head_only: bool,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(body);
    }
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

/// Answers one connection.
pub fn handle(mut stream: TcpStream, render: &dyn Fn() -> String) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let Some((method, path)) = read_request(&mut stream)? else {
        return respond(
            &mut stream,
            "400 Bad Request",
            "text/plain",
            "bad request\n",
            false,
        );
    };
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n",
            false,
        );
    }
    let path = path.split('?').next().unwrap_or("");
    match path {
        "/metrics" => respond(
            &mut stream,
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            &render(),
            head_only,
        ),
        "/" => respond(
            &mut stream,
            "200 OK",
            "text/plain; charset=utf-8",
            "pi-probe-exporter: see /metrics\n",
            head_only,
        ),
        _ => respond(
            &mut stream,
            "404 Not Found",
            "text/plain",
            "not found\n",
            head_only,
        ),
    }
}

/// Serves until the process ends.
pub fn serve(listener: &TcpListener, render: &dyn Fn() -> String, log: &Log) {
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                if let Err(e) = handle(s, render) {
                    ::log::debug!(logger: log, "/metrics: client error: {e}");
                }
            }
            Err(e) => {
                ::log::warn!(logger: log, "/metrics: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(
            parse_listen("9101").unwrap(),
            "127.0.0.1:9101".parse().unwrap()
        );
        assert_eq!(
            parse_listen("0.0.0.0:9101").unwrap(),
            "0.0.0.0:9101".parse().unwrap()
        );
        assert_eq!(
            parse_listen("[::1]:9101").unwrap(),
            "[::1]:9101".parse().unwrap()
        );
        assert!(parse_listen("99999").is_err());
        assert!(parse_listen("localhost").is_err());
        assert!(parse_listen("").is_err());
    }

    fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn serves_metrics_and_404() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            serve(
                &listener,
                &|| "pi_probe_exporter_up 1\n".to_owned(),
                &Log::memory(),
            );
        });
        let r = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("Content-Type: text/plain; version=0.0.4"));
        assert!(r.ends_with("\r\n\r\npi_probe_exporter_up 1\n"), "{r}");
        let r = get(addr, "GET /nope HTTP/1.0\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        let r = get(addr, "POST /metrics HTTP/1.1\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 405"), "{r}");
        let r = get(addr, "HEAD /metrics HTTP/1.1\r\n\r\n");
        assert!(
            r.starts_with("HTTP/1.1 200") && r.ends_with("\r\n\r\n"),
            "{r}"
        );
        let r = get(addr, "garbage\r\n\r\n");
        assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    }
}
