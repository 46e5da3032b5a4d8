//! Fault servers for what real servers will not do on demand: hang, answer
//! garbage, or reset mid-answer.
//!
//! Each listens on a free loopback port, serves from std threads, reads the
//! request first (so the client is past "connected" and waiting for an
//! answer), and stops on drop: the accept thread is woken by a connection
//! to itself, and open connections close within one poll interval. A
//! connection lives at most [`MAX_CONNECTION_LIFETIME`], so a forgotten
//! client cannot keep a test hanging.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::ports::{LOOPBACK, free_port};

/// The longest a fake server keeps one connection open.
pub const MAX_CONNECTION_LIFETIME: Duration = Duration::from_mins(2);
/// How long a request may take to arrive before the server acts anyway.
const REQUEST_WAIT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(20);

/// What a fake server does with each connection once the request is read.
#[derive(Debug, Clone)]
enum Behaviour {
    /// Keep the connection open, answer nothing.
    Hang,
    /// Write these bytes, then close normally (FIN).
    Answer(Vec<u8>),
    /// Write these bytes, then abort the connection (RST).
    Reset(Vec<u8>),
}

/// The listener, its accept thread and its connection threads.
#[derive(Debug)]
struct FakeServer {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeServer {
    fn start(behaviour: Behaviour) -> FakeServer {
        // Through free_port, so no service still starting up loses the port
        // it was promised to a fake server's bind.
        let listener = (0..20)
            .find_map(|_| TcpListener::bind((LOOPBACK, free_port())).ok())
            .expect("bind a loopback port for a fake server");
        let addr = listener.local_addr().expect("fake server address");
        let stopping = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let acceptor = {
            let stopping = Arc::clone(&stopping);
            let accepted = Arc::clone(&accepted);
            thread::Builder::new()
                .name(format!("fake-server-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &behaviour, &stopping, &accepted))
                .expect("start a fake server thread")
        };
        FakeServer {
            addr,
            stopping,
            accepted,
            acceptor: Some(acceptor),
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    behaviour: &Behaviour,
    stopping: &Arc<AtomicBool>,
    accepted: &AtomicUsize,
) {
    let mut connections = Vec::new();
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        accepted.fetch_add(1, Ordering::SeqCst);
        let behaviour = behaviour.clone();
        let stopping = Arc::clone(stopping);
        connections.push(thread::spawn(move || serve(stream, &behaviour, &stopping)));
        connections.retain(|c: &JoinHandle<()>| !c.is_finished());
    }
    for connection in connections {
        let _ = connection.join();
    }
}

fn serve(mut stream: TcpStream, behaviour: &Behaviour, stopping: &AtomicBool) {
    read_request(&mut stream, stopping);
    match behaviour {
        Behaviour::Hang => {
            let until = Instant::now() + MAX_CONNECTION_LIFETIME;
            // Keep draining so a client that keeps writing does not block,
            // and notice when it gives up.
            let _ = stream.set_read_timeout(Some(POLL));
            let mut sink = [0_u8; 4096];
            while !stopping.load(Ordering::SeqCst) && Instant::now() < until {
                match stream.read(&mut sink) {
                    Ok(0) => return,
                    Err(error)
                        if !matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                    {
                        return;
                    }
                    _ => {}
                }
            }
        }
        Behaviour::Answer(bytes) => {
            let _ = stream.write_all(bytes);
            let _ = stream.flush();
            let _ = stream.shutdown(Shutdown::Write);
            // Let the client read before the socket goes.
            linger_until_closed(&mut stream, stopping);
        }
        Behaviour::Reset(bytes) => {
            let _ = stream.write_all(bytes);
            let _ = stream.flush();
            // Give the client a moment to read the partial answer, as it
            // would from a server that crashes mid-response.
            thread::sleep(Duration::from_millis(100));
            // SO_LINGER 0: close() sends RST instead of FIN.
            let _ = rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO));
        }
    }
}

/// Reads until the end of HTTP headers, EOF, or [`REQUEST_WAIT`]: enough
/// for the client to have sent its request, whatever the protocol.
fn read_request(stream: &mut TcpStream, stopping: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(POLL));
    let until = Instant::now() + REQUEST_WAIT;
    let mut request = Vec::new();
    let mut buf = [0_u8; 4096];
    while !stopping.load(Ordering::SeqCst) && Instant::now() < until {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                request.extend_from_slice(&buf[..n]);
                if request.windows(4).any(|w| w == b"\r\n\r\n") {
                    return;
                }
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

fn linger_until_closed(stream: &mut TcpStream, stopping: &AtomicBool) {
    let until = Instant::now() + Duration::from_secs(10);
    let mut sink = [0_u8; 4096];
    while !stopping.load(Ordering::SeqCst) && Instant::now() < until {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Err(error) if !matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return;
            }
            _ => {}
        }
    }
}

macro_rules! fake_server_accessors {
    ($name:ident) => {
        impl $name {
            /// Its loopback address.
            #[must_use]
            pub fn addr(&self) -> SocketAddr {
                self.0.addr
            }

            /// Its loopback port.
            #[must_use]
            pub fn port(&self) -> u16 {
                self.0.addr.port()
            }

            /// `http://127.0.0.1:PORT`.
            #[must_use]
            pub fn url(&self) -> String {
                format!("http://{}", self.0.addr)
            }

            /// How many connections it has accepted so far.
            #[must_use]
            pub fn connections(&self) -> usize {
                self.0.accepted.load(Ordering::SeqCst)
            }
        }
    };
}

/// Accepts, reads the request, never answers (until dropped, or
/// [`MAX_CONNECTION_LIFETIME`]): a check's own timeout must fire.
#[derive(Debug)]
pub struct FakeHangServer(FakeServer);

impl FakeHangServer {
    #[must_use]
    pub fn start() -> FakeHangServer {
        FakeHangServer(FakeServer::start(Behaviour::Hang))
    }
}

/// Answers every request with fixed raw bytes and closes: a non-HTTP reply,
/// an HTTP 200 with a body that is not JSON, a truncated status line.
#[derive(Debug)]
pub struct FakeGarbageServer(FakeServer);

impl FakeGarbageServer {
    #[must_use]
    pub fn new(bytes: impl Into<Vec<u8>>) -> FakeGarbageServer {
        FakeGarbageServer(FakeServer::start(Behaviour::Answer(bytes.into())))
    }

    /// A well-formed `HTTP/1.1 200 OK` with a JSON content type and `body`
    /// (which need not be JSON: that is the point).
    #[must_use]
    pub fn http_200(body: &str) -> FakeGarbageServer {
        FakeGarbageServer::new(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    }
}

/// Sends an HTTP status line and part of the headers and body, then resets
/// the connection (RST via `SO_LINGER 0`): a server dying mid-response.
#[derive(Debug)]
pub struct FakeResetServer(FakeServer);

impl FakeResetServer {
    /// `HTTP/1.1 200 OK`, a `Content-Length` far larger than what follows,
    /// and the start of a render-API JSON body; then RST.
    #[must_use]
    pub fn start() -> FakeResetServer {
        FakeResetServer::with_prefix(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n[{\"target\": \"ham\", \"datapoints\": [[1",
        )
    }

    /// Sends `prefix` before the reset.
    #[must_use]
    pub fn with_prefix(prefix: impl Into<Vec<u8>>) -> FakeResetServer {
        FakeResetServer(FakeServer::start(Behaviour::Reset(prefix.into())))
    }
}

fake_server_accessors!(FakeHangServer);
fake_server_accessors!(FakeGarbageServer);
fake_server_accessors!(FakeResetServer);
