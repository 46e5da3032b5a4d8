//! One connection per hello: connect, send it, read until the reply is
//! known, close. Counts connections for perfdata.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::starttls::{self, Protocol, StarttlsError};
use crate::wire::{Hello, Progress, Reply, WireError, parse_reply};

/// How one probe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Answer(Reply),
    /// The server closed or reset the connection before answering.
    Closed,
    /// No answer within the read timeout.
    Silent,
    /// Bytes that are not TLS, or a TLS message cut short.
    Garbage(WireError),
}

/// The connection itself failed: the port is closed or unreachable, or
/// the plaintext preamble of `--starttls` did not end in a go-ahead.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to {addr}")]
    Tcp {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{protocol} STARTTLS with {addr} failed: {source}")]
    Starttls {
        addr: SocketAddr,
        protocol: Protocol,
        #[source]
        source: StarttlsError,
    },
}

/// Sends hellos to one server.
#[derive(Debug)]
pub struct Prober {
    pub addr: SocketAddr,
    pub sni: Option<String>,
    /// Longest wait for one connection or reply.
    pub read_timeout: Duration,
    /// Pause between connections, for servers that rate-limit.
    pub delay: Duration,
    /// The plaintext preamble every connection speaks first.
    pub starttls: Option<Protocol>,
    connections: u32,
    last: Option<Instant>,
    /// The slowest first byte of an answer so far.
    slowest: Option<Duration>,
}

/// Once a server has answered, a silence this many times its slowest
/// answer (but at least [`MIN_PATIENCE`]) is taken as a refusal: some
/// servers never answer a hello they dislike, and the scan should not wait
/// the full read timeout on each.
const PATIENCE_FACTOR: u32 = 10;
const MIN_PATIENCE: Duration = Duration::from_secs(1);

impl Prober {
    #[must_use]
    pub fn new(
        addr: SocketAddr,
        sni: Option<String>,
        read_timeout: Duration,
        delay: Duration,
    ) -> Prober {
        Prober {
            addr,
            sni,
            read_timeout,
            delay,
            starttls: None,
            connections: 0,
            last: None,
            slowest: None,
        }
    }

    /// The same prober, speaking `protocol`'s preamble (`--starttls`)
    /// before every hello and handshake.
    #[must_use]
    pub fn with_starttls(mut self, protocol: Option<Protocol>) -> Prober {
        self.starttls = protocol;
        self
    }

    /// A prober for the same server and settings with its own count, for
    /// a second thread.
    #[must_use]
    pub fn fork(&self) -> Prober {
        Prober::new(self.addr, self.sni.clone(), self.read_timeout, self.delay)
            .with_starttls(self.starttls)
    }

    /// Adds the connections a fork made.
    pub fn absorb(&mut self, fork: &Prober) {
        self.connections += fork.connections;
    }

    /// How long to wait for an answer: the read timeout until the server
    /// has answered once, then ten times its slowest answer (at least 1 s).
    #[must_use]
    pub fn patience(&self) -> Duration {
        self.slowest.map_or(self.read_timeout, |slowest| {
            (slowest * PATIENCE_FACTOR)
                .max(MIN_PATIENCE)
                .min(self.read_timeout)
        })
    }

    /// Connections made so far (the certificate handshakes add theirs).
    #[must_use]
    pub fn connections(&self) -> u32 {
        self.connections
    }

    /// Opens a connection, honouring `--delay`; counted. With `--starttls`
    /// the stream comes back after the server's go-ahead, ready for the
    /// ClientHello, so hand-built hellos and rustls alike start there.
    pub fn connect(&mut self) -> Result<TcpStream, ConnectError> {
        if let Some(last) = self.last {
            let wait = self.delay.saturating_sub(last.elapsed());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
        self.last = Some(Instant::now());
        self.connections += 1;
        let mut stream =
            TcpStream::connect_timeout(&self.addr, self.read_timeout).map_err(|source| {
                ConnectError::Tcp {
                    addr: self.addr,
                    source,
                }
            })?;
        // Hellos are single writes; Nagle would only delay them.
        let _ = stream.set_nodelay(true);
        if let Some(protocol) = self.starttls {
            starttls::negotiate(&mut stream, protocol, self.read_timeout).map_err(|source| {
                ConnectError::Starttls {
                    addr: self.addr,
                    protocol,
                    source,
                }
            })?;
        }
        Ok(stream)
    }

    /// Sends `hello` and reads the answer; `want_curve` reads a TLS ≤ 1.2
    /// flight on to the ServerKeyExchange.
    pub fn probe(&mut self, hello: &Hello<'_>, want_curve: bool) -> Result<Outcome, ConnectError> {
        let mut outcome = None;
        let bytes = self.exchange(hello, |buffer| match parse_reply(buffer, want_curve) {
            Ok(Progress::Done(reply)) => {
                outcome = Some(Outcome::Answer(reply));
                true
            }
            Ok(Progress::NeedMore) => false,
            Err(error) => {
                outcome = Some(Outcome::Garbage(error));
                true
            }
        })?;
        Ok(match (outcome, bytes) {
            (Some(outcome), _) => outcome,
            (None, Ended::Closed(bytes)) if bytes.is_empty() => Outcome::Closed,
            (None, Ended::Closed(_)) => Outcome::Garbage(WireError::Malformed("reply cut short")),
            (None, Ended::Reset) => Outcome::Closed,
            (None, Ended::Silent) => Outcome::Silent,
            (None, Ended::Done(_)) => unreachable!("done only when an outcome was set"),
        })
    }

    /// Sends `hello` and reads until `done` says the bytes so far suffice,
    /// the server closes, or the read timeout.
    pub fn exchange(
        &mut self,
        hello: &Hello<'_>,
        mut done: impl FnMut(&[u8]) -> bool,
    ) -> Result<Ended, ConnectError> {
        let mut stream = self.connect()?;
        if stream.write_all(&hello.to_bytes(random())).is_err() {
            return Ok(Ended::Reset);
        }
        let sent = Instant::now();
        let deadline = sent + self.patience();
        let mut buffer = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
                return Ok(Ended::Silent);
            }
            match stream.read(&mut chunk) {
                Ok(0) => return Ok(Ended::Closed(buffer)),
                Ok(n) => {
                    if buffer.is_empty() {
                        let took = sent.elapsed();
                        self.slowest = Some(self.slowest.map_or(took, |s| s.max(took)));
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    if done(&buffer) {
                        return Ok(Ended::Done(buffer));
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(Ended::Silent);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Ok(Ended::Reset),
            }
        }
    }
}

/// How reading a reply ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The bytes were enough.
    Done(Vec<u8>),
    /// The server closed after sending these.
    Closed(Vec<u8>),
    Reset,
    Silent,
}

/// Client randoms need not be secret here (the handshake never finishes),
/// only different per probe.
fn random() -> [u8; 32] {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(Instant::now().elapsed().as_nanos());
        chunk.copy_from_slice(&hasher.finish().to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fork_speaks_the_same_preamble() {
        let addr = SocketAddr::from(([127, 0, 0, 1], 25));
        let prober = Prober::new(addr, None, Duration::from_secs(1), Duration::ZERO)
            .with_starttls(Some(Protocol::Smtp));
        assert_eq!(prober.fork().starttls, Some(Protocol::Smtp));
    }

    #[test]
    fn a_refused_preamble_names_the_protocol_and_the_server() {
        let error = ConnectError::Starttls {
            addr: SocketAddr::from(([127, 0, 0, 1], 21)),
            protocol: Protocol::Ftp,
            source: StarttlsError::Refused {
                command: "AUTH TLS",
                reply: "\"530 Please login with USER and PASS.\"".into(),
            },
        };
        assert_eq!(
            nightwatch_core::fault::sentence(&error),
            "FTP STARTTLS with 127.0.0.1:21 failed: the server refused AUTH TLS: \"530 Please login with USER and PASS.\""
        );
    }
}
