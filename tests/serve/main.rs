//! `nightwatch-serve graphite`: starts the harness's real Graphite for
//! scripts (benchmarks, manual tries), prints where it listens, and stops it
//! when stdin closes or the process is told to stop.
//!
//! Prints `GRAPHITE_URL=http://127.0.0.1:PORT`, `CARBON_ADDR=127.0.0.1:PORT`,
//! `GRAPHITE_DIR=…`, then `READY`.
//!
//! `nightwatch-serve search opensearch2` (or `opensearch3`,
//! `elasticsearch7`, `elasticsearch8`): a real search node, as the e2e
//! tests start it; prints `SEARCH_URL=http://127.0.0.1:PORT`, then `READY`.

use std::io::{Read, Write};

use nightwatch_testkit::{Graphite, SearchFlavor, SearchNode};

fn main() {
    let services: Vec<String> = std::env::args().skip(1).collect();
    if let [search, flavor] = services.as_slice()
        && search == "search"
    {
        serve_search(flavor);
        return;
    }
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

fn serve_search(flavor: &str) {
    let Some(flavor) = SearchFlavor::ALL
        .into_iter()
        .find(|f| f.dir_name() == flavor)
    else {
        eprintln!(
            "usage: nightwatch-serve search opensearch2|opensearch3|elasticsearch7|elasticsearch8"
        );
        std::process::exit(2);
    };
    let node = SearchNode::shared(flavor);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "SEARCH_URL={}", node.url());
    let _ = writeln!(out, "READY");
    let _ = out.flush();
    drop(out);
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
