//! TLS faults a real server cannot be made to show, for check-tls-ciphers:
//! each fake reads the start of a `ClientHello`, then misbehaves.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// How a fake answers each hello.
#[derive(Debug, Clone)]
enum Fault {
    /// RST after reading part of the hello.
    Reset,
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// Nothing, until the client gives up.
    Silence,
    /// These bytes to the first connection, silence to every other.
    Once(Vec<u8>),
}

#[derive(Debug)]
struct FakeTls {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
}

impl FakeTls {
    fn start(fault: Fault) -> FakeTls {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = stopping.clone();
        thread::spawn(move || {
            let mut first = true;
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let fault = match &fault {
                            Fault::Once(bytes) if first => {
                                first = false;
                                Fault::Bytes(bytes.clone())
                            }
                            Fault::Once(_) => Fault::Silence,
                            other => other.clone(),
                        };
                        let stop = stop.clone();
                        thread::spawn(move || serve(stream, &fault, &stop));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeTls { addr, stopping }
    }
}

impl Drop for FakeTls {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}

fn serve(mut stream: TcpStream, fault: &Fault, stopping: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    // The record header and a little of the hello: "mid-hello".
    let mut head = [0u8; 16];
    let _ = stream.read_exact(&mut head);
    match fault {
        Fault::Reset => {
            let _ = rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO));
        }
        Fault::Bytes(bytes) => {
            let _ = stream.write_all(bytes);
            // Closing with the rest of the hello unread would send RST and
            // discard these bytes at the client: half-close, then drain.
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut sink = [0u8; 4096];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        }
        Fault::Silence | Fault::Once(_) => {
            let mut sink = [0u8; 4096];
            for _ in 0..30 {
                if stopping.load(Ordering::SeqCst) || matches!(stream.read(&mut sink), Ok(0)) {
                    break;
                }
            }
        }
    }
}

macro_rules! fake_tls {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(FakeTls);

        impl $name {
            /// Its loopback port.
            #[must_use]
            pub fn port(&self) -> u16 {
                self.0.addr.port()
            }
        }
    };
}

fake_tls!(
    /// Resets the connection (RST) in the middle of reading the hello.
    FakeTlsResetServer
);
fake_tls!(
    /// Answers a hello with bytes that are not TLS.
    FakeTlsGarbageServer
);
fake_tls!(
    /// Reads the hello and says nothing.
    FakeTlsSilentServer
);
fake_tls!(
    /// Sends a `ServerHello` record cut short, then closes.
    FakeTlsTruncatedServer
);
fake_tls!(
    /// Answers the first hello with a TLS 1.2 `ServerHello`, then never
    /// answers again: a server that goes quiet on hellos it dislikes.
    FakeTlsQuietServer
);

impl FakeTlsQuietServer {
    #[must_use]
    pub fn start() -> Self {
        // ServerHello: TLS 1.2, a random, no session id,
        // ECDHE-RSA-AES128-GCM-SHA256, no compression.
        let mut hello = vec![2, 0, 0, 38, 3, 3];
        hello.extend([0x5A; 32]);
        hello.extend([0, 0xC0, 0x2F, 0]);
        let mut record = vec![22, 3, 3, 0, 42];
        record.extend(hello);
        Self(FakeTls::start(Fault::Once(record)))
    }
}

impl FakeTlsResetServer {
    #[must_use]
    pub fn start() -> Self {
        Self(FakeTls::start(Fault::Reset))
    }
}

impl FakeTlsGarbageServer {
    #[must_use]
    pub fn start() -> Self {
        Self(FakeTls::start(Fault::Bytes(
            b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".to_vec(),
        )))
    }
}

impl FakeTlsSilentServer {
    #[must_use]
    pub fn start() -> Self {
        Self(FakeTls::start(Fault::Silence))
    }
}

impl FakeTlsTruncatedServer {
    #[must_use]
    pub fn start() -> Self {
        // A handshake record announcing 74 bytes, holding a ServerHello
        // header and 10 bytes of it.
        let mut bytes = vec![22, 3, 3, 0, 74, 2, 0, 0, 70, 3, 3];
        bytes.extend([0xAB; 8]);
        Self(FakeTls::start(Fault::Bytes(bytes)))
    }
}
