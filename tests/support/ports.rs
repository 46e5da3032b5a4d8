//! Free loopback ports, picked at run time.
//!
//! The kernel hands out a free port for `127.0.0.1:0`; we release it and give
//! its number to a service that binds it a moment later. Another process
//! could grab it in between, but the kernel cycles through the ephemeral
//! range, so that is rare; within this process we also never hand the same
//! port out twice, because parallel tests start services at the same time.
//! Every listener the harness opens gets its port here, so none of them
//! takes a port promised to a service that is still starting.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Mutex, OnceLock};

/// The loopback address every service and fake server binds.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A loopback TCP port that nothing listens on right now and that this
/// process has not handed out before.
#[must_use]
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(Mutex::default);
    for _ in 0..100 {
        let port = TcpListener::bind((LOOPBACK, 0))
            .and_then(|listener| listener.local_addr())
            .map_or_else(
                |error| panic!("cannot bind 127.0.0.1:0 to find a free port: {error}"),
                |addr| addr.port(),
            );
        if given
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(port)
        {
            return port;
        }
    }
    panic!("no unused loopback port found in 100 tries");
}

/// `127.0.0.1:port`.
#[must_use]
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((LOOPBACK, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_bindable() {
        let ports: HashSet<u16> = (0..20).map(|_| free_port()).collect();
        assert_eq!(ports.len(), 20, "free_port handed out a port twice");
        let port = free_port();
        TcpListener::bind(loopback(port)).expect("a free port can be bound");
    }
}
