//! `nightwatch-serve graphite`: starts the harness's real Graphite for
//! scripts (benchmarks, manual tries), prints where it listens, and stops it
//! when stdin closes or the process is told to stop.
//!
//! Prints `GRAPHITE_URL=http://127.0.0.1:PORT`, `CARBON_ADDR=127.0.0.1:PORT`,
//! `GRAPHITE_DIR=…`, then `READY`.

use std::io::{Read, Write};

use nightwatch_testkit::Graphite;

fn main() {
    let services: Vec<String> = std::env::args().skip(1).collect();
    if services != ["graphite"] {
        eprintln!("usage: nightwatch-serve graphite   (stops when stdin closes)");
        std::process::exit(2);
    }
    let graphite = Graphite::start();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "GRAPHITE_URL={}", graphite.url());
    let _ = writeln!(out, "CARBON_ADDR={}", graphite.carbon_addr());
    let _ = writeln!(out, "GRAPHITE_DIR={}", graphite.dir().display());
    let _ = writeln!(out, "READY");
    let _ = out.flush();
    drop(out);
    // Block until our parent closes the pipe (or dies); Graphite's children
    // carry a parent-death signal, so they go with us in any case.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(graphite);
}
