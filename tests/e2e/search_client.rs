//! nightwatch-search against real servers: every behaviour the plugins
//! rely on, run on each flavor the harness starts (`OpenSearch` 2 and 3,
//! Elasticsearch 7 and 8). Nodes are shared by the whole test process, so
//! every test writes to indices named after itself.
//!
//! The nodes run without a security plugin (the harness starts the server
//! jars, not the distributions), so none can enforce credentials: basic
//! auth, API keys and bearer tokens are proven through nginx in front of a
//! real node, which checks the `Authorization` header the client sends and
//! refuses it as a secured cluster would (401).

use std::time::{Duration, Instant};

use nightwatch_core::{Blame, CheckError};
use nightwatch_search::http::{Auth, HttpConfig, HttpError, Secret, Url};
use nightwatch_search::{
    Agg, IndexPattern, Order, Partial, Query, Relation, Search, SearchClient, SearchError, Sort,
    Timestamp, TrackTotal, Window, resolve,
};
use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};
use nightwatch_testkit::tls::TestCa;
use nightwatch_testkit::{FakeGarbageServer, FakeHangServer, Nginx};
use serde_json::{Value, json};

const TIMEOUT: Duration = Duration::from_secs(20);

fn config() -> HttpConfig {
    HttpConfig::new(TIMEOUT, "nightwatch-e2e")
}

fn client(url: &str) -> SearchClient {
    client_with(url, config())
}

fn client_with(url: &str, config: HttpConfig) -> SearchClient {
    let url = Url::parse(url).expect("a harness URL");
    SearchClient::new(&url, config).expect("a search client")
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|&n| n.to_owned()).collect()
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a test timestamp")
}

/// Runs `test` against every flavor, naming the flavor in any failure.
fn each_flavor(test: impl Fn(SearchFlavor, &SearchNode, SearchClient)) {
    for flavor in SearchFlavor::ALL {
        let node = SearchNode::shared(flavor);
        test(flavor, node, client(&node.url()));
    }
}

fn event(id: &str, time: &str, name: &str, host: &str) -> Value {
    json!({"id": id, "@timestamp": time, "eventName": name, "host": host,
           "message": format!("{name} on {host}")})
}

#[test]
fn the_server_says_which_it_is() {
    each_flavor(|flavor, node, es| {
        let info = es
            .info()
            .unwrap_or_else(|e| panic!("{}: {e}", flavor.name()));
        assert_eq!(info.version, node.version(), "{}", flavor.name());
        assert_eq!(
            info.distribution.to_lowercase(),
            flavor.distribution(),
            "{}",
            flavor.name()
        );
        assert_eq!(info.to_string(), flavor.name());
    });
}

#[test]
fn count_and_search_with_query_string_sort_and_size() {
    each_flavor(|flavor, node, es| {
        let index = "sc-count";
        node.delete_index(index);
        node.index_docs(
            index,
            &[
                event(
                    "e1",
                    "2026-11-24T10:00:00Z",
                    "AuthorizeSecurityGroupIngress",
                    "a",
                ),
                event("e2", "2026-11-24T10:05:00Z", "CreateUser", "a"),
                event(
                    "e3",
                    "2026-11-24T10:10:00Z",
                    "AuthorizeSecurityGroupEgress",
                    "b",
                ),
                event(
                    "e4",
                    "2026-11-24T10:15:00Z",
                    "AuthorizeSecurityGroupIngress",
                    "b",
                ),
                event(
                    "e5",
                    "2026-11-24T10:20:00Z",
                    "RevokeSecurityGroupIngress",
                    "c",
                ),
            ],
        );
        let name = flavor.name();
        let indices = names(&[index]);
        let authorize = Query::query_string("Authorize*", Some("eventName"));
        let count = es
            .count(&indices, &authorize)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(count.count, 3, "{name}");
        assert_eq!(count.shards.failed, 0, "{name}");

        let search = Search::new(authorize)
            .size(2)
            .sort(Sort::desc("@timestamp"));
        let reply = es
            .search(&indices, &search)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ids: Vec<&str> = reply
            .hits
            .hits
            .iter()
            .map(|h| h.source["id"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(ids, ["e4", "e3"], "{name}: newest first, two of three");
        let total = reply.hits.total.expect("a total");
        assert_eq!((total.value, total.relation), (3, Relation::Eq), "{name}");
        assert_eq!(reply.hits.hits[0].index, index, "{name}");
        assert!(!reply.hits.hits[0].sort.is_empty(), "{name}: sort values");

        // A window on the date field, ascending.
        let window = Window::new(at("2026-11-24T10:04:00Z"), at("2026-11-24T10:15:00Z"));
        let within = Search::new(Query::within("@timestamp", &window))
            .size(10)
            .sort(Sort::asc("@timestamp"));
        let reply = es
            .search(&indices, &within)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ids: Vec<&str> = reply
            .hits
            .hits
            .iter()
            .map(|h| h.source["id"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(ids, ["e2", "e3", "e4"], "{name}: both ends included");
    });
}

#[test]
fn terms_with_max_and_top_hits() {
    each_flavor(|flavor, node, es| {
        let index = "sc-terms";
        node.delete_index(index);
        node.index_docs(
            index,
            &[
                event("d1", "2026-11-24T01:00:00Z", "backup", "db01"),
                event("d2", "2026-11-24T02:00:00Z", "backup", "db01"),
                event("d3", "2026-11-23T02:00:00Z", "backup", "db01"),
                event("w1", "2026-11-22T08:00:00Z", "deploy", "web01"),
                event("w2", "2026-11-24T09:00:00Z", "deploy", "web02"),
                event("w3", "2026-11-24T09:30:00Z", "restart", "web02"),
            ],
        );
        let name = flavor.name();
        let search = Search::new(Query::match_all()).agg(
            "by_host",
            Agg::terms("host.keyword", 10)
                .order_by("newest", Order::Asc)
                .sub("newest", Agg::max("@timestamp"))
                .sub(
                    "latest",
                    Agg::top_hits(1, &[Sort::desc("@timestamp")]).source(&["id", "message"]),
                ),
        );
        let reply = es
            .search(&names(&[index]), &search)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(reply.hits.hits.is_empty(), "{name}: size 0 returns no hits");
        let terms = reply
            .aggregations
            .terms("by_host")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(terms.sum_other_doc_count, 0, "{name}");
        let rows: Vec<(String, u64, Option<Timestamp>, String)> = terms
            .buckets
            .iter()
            .map(|b| {
                let newest = b.aggregations.metric("newest").expect("max").as_timestamp();
                let top = b.aggregations.top_hits("latest").expect("top_hits");
                let message = top.hits[0].source["message"].as_str().unwrap_or_default();
                (b.key_text(), b.doc_count, newest, message.to_owned())
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "web01".into(),
                    1,
                    Some(at("2026-11-22T08:00:00Z")),
                    "deploy on web01".into()
                ),
                (
                    "db01".into(),
                    3,
                    Some(at("2026-11-24T02:00:00Z")),
                    "backup on db01".into()
                ),
                (
                    "web02".into(),
                    2,
                    Some(at("2026-11-24T09:30:00Z")),
                    "restart on web02".into()
                ),
            ],
            "{name}: stalest first, each with its newest event"
        );

        // Fewer buckets than groups: the reply says groups were left out.
        let cut = Search::new(Query::match_all()).agg("by_host", Agg::terms("host.keyword", 1));
        let reply = es
            .search(&names(&[index]), &cut)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let terms = reply.aggregations.terms("by_host").expect("terms");
        assert_eq!(terms.buckets.len(), 1, "{name}");
        assert_eq!(
            terms.sum_other_doc_count, 3,
            "{name}: 6 events, 3 in the bucket shown"
        );

        // Composite pages, two groups a page, walk every group.
        let seen: Vec<String> = es
            .composite_buckets(
                &names(&[index]),
                &Query::match_all(),
                &Agg::composite(2, [("host", "host.keyword")])
                    .sub("newest", Agg::max("@timestamp")),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .iter()
            .map(nightwatch_search::Bucket::key_text)
            .collect();
        assert_eq!(seen, ["db01", "web01", "web02"], "{name}");
    });
}

#[test]
fn a_daily_pattern_over_midnight_searches_both_days_and_only_them() {
    each_flavor(|flavor, node, es| {
        let name = flavor.name();
        for day in [
            "sc-daily-2026.11.23",
            "sc-daily-2026.11.24",
            "sc-daily-2026.11.25",
        ] {
            node.delete_index(day);
        }
        node.index_docs(
            "sc-daily-2026.11.23",
            &[event("old", "2026-11-23T23:50:00Z", "x", "a")],
        );
        node.index_docs(
            "sc-daily-2026.11.24",
            &[
                event("before", "2026-11-24T12:00:00Z", "x", "a"),
                event("late", "2026-11-24T23:50:00Z", "x", "a"),
            ],
        );
        node.index_docs(
            "sc-daily-2026.11.25",
            &[event("early", "2026-11-25T00:10:00Z", "x", "a")],
        );
        let pattern: IndexPattern = "sc-daily-%Y.%m.%d".parse().expect("a pattern");
        let window = Window::new(at("2026-11-24T23:40:00Z"), at("2026-11-25T00:20:00Z"));
        let indices = resolve(std::slice::from_ref(&pattern), &window).expect("indices");
        assert_eq!(indices, ["sc-daily-2026.11.24", "sc-daily-2026.11.25"]);
        // Without a time filter: the two indices named, not the day before.
        let all = es
            .count(&indices, &Query::match_all())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(all.count, 3, "{name}");
        let within = es
            .count(&indices, &Query::within("@timestamp", &window))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(within.count, 2, "{name}: late and early");

        // An alias over both days, and a wildcard, are sent as given.
        let alias = node.request(
            "POST",
            "/_aliases",
            &[],
            Some(
                r#"{"actions":[{"add":{"indices":["sc-daily-2026.11.24","sc-daily-2026.11.25"],"alias":"sc-daily-recent"}}]}"#,
            ),
        );
        assert_eq!(alias.status, 200, "{name}: {}", alias.body);
        for given in ["sc-daily-recent", "sc-daily-2026.11.2*"] {
            let pattern: IndexPattern = given.parse().expect("a name");
            let indices = resolve(&[pattern], &window).expect("indices");
            assert_eq!(indices, [given], "{name}");
            let count = es
                .count(&indices, &Query::within("@timestamp", &window))
                .unwrap_or_else(|e| panic!("{name}: {given}: {e}"));
            assert_eq!(count.count, 2, "{name}: {given}");
        }

        // Tomorrow's index does not exist yet: no error, today's counts.
        let next = Window::new(at("2026-11-25T23:50:00Z"), at("2026-11-26T00:10:00Z"));
        let indices = resolve(std::slice::from_ref(&pattern), &next).expect("indices");
        assert_eq!(indices, ["sc-daily-2026.11.25", "sc-daily-2026.11.26"]);
        let count = es
            .count(&indices, &Query::match_all())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(count.count, 1, "{name}");
    });
}

#[test]
fn no_index_at_all_is_no_index_naming_them_never_zero() {
    each_flavor(|flavor, node, es| {
        let name = flavor.name();
        // Other indices on the node hold documents: none may be counted.
        node.index_docs(
            "sc-present",
            &[event("p", "2026-11-24T10:00:00Z", "x", "a")],
        );
        let missing = names(&["sc-absent-2026.11.24", "sc-absent-2026.11.25"]);
        let error = es.count(&missing, &Query::match_all()).unwrap_err();
        assert!(
            matches!(&error, SearchError::NoIndex { indices } if *indices == missing),
            "{name}: {error:?}"
        );
        assert_eq!(
            error.to_string(),
            "none of the indices sc-absent-2026.11.24, sc-absent-2026.11.25 exists",
            "{name}"
        );
        assert_eq!(error.blame(), Blame::Source, "{name}");
        let error = es
            .search(
                &names(&["sc-absent-*"]),
                &Search::new(Query::match_all()).size(5),
            )
            .unwrap_err();
        assert_eq!(error.to_string(), "no index matches sc-absent-*", "{name}");

        // As many names as fit in the request line the client allows: the
        // server reads the line whole (its limit is 4 KiB), so the answer
        // is still "no index", not a refused request.
        let mut many = Vec::new();
        while 1
            + (many.len() + 1) * 20
            + "/_count?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=open".len()
            <= nightwatch_search::MAX_REQUEST_TARGET
        {
            many.push(format!("sc-absent-long-{:04}", many.len()));
        }
        let error = es.count(&many, &Query::match_all()).unwrap_err();
        assert!(
            matches!(&error, SearchError::NoIndex { indices } if indices.len() == many.len()),
            "{name}: {} names: {error}",
            many.len()
        );
        assert!(
            error
                .to_string()
                .ends_with(&format!("and {} more exists", many.len() - 4)),
            "{error}"
        );
        // One more is refused before it is sent, saying what to do.
        many.push("sc-absent-long-extra".into());
        let error = es.count(&many, &Query::match_all()).unwrap_err();
        assert_eq!(error.blame(), Blame::Usage, "{name}: {error}");
        assert!(error.to_string().contains("use a wildcard"), "{error}");
    });
}

#[test]
fn a_query_the_server_cannot_parse_is_the_users_with_its_reason() {
    each_flavor(|flavor, node, es| {
        let name = flavor.name();
        node.index_docs("sc-parse", &[event("p", "2026-11-24T10:00:00Z", "x", "a")]);
        let error = es
            .count(
                &names(&["sc-parse"]),
                &Query::query_string("eventName:(", None),
            )
            .unwrap_err();
        assert_eq!(error.status(), Some(400), "{name}: {error}");
        assert_eq!(error.blame(), Blame::Usage, "{name}");
        let text = error.to_string();
        assert!(
            text.contains("answered 400") && text.contains("eventName:("),
            "{name}: the server's reason names the query: {text}"
        );
        assert!(
            text.ends_with(
                "Failed to parse query [eventName:(]: Encountered \"<EOF>\" at line 1, column 11."
            ),
            "{name}: the parser's own words, on one line: {text}"
        );
        assert!(
            !text.contains("all shards failed"),
            "{name}: the root cause, not the summary: {text}"
        );
    });
}

#[test]
fn both_total_shapes() {
    each_flavor(|flavor, node, es| {
        let name = flavor.name();
        let index = "sc-totals";
        node.delete_index(index);
        let docs: Vec<Value> = (0..5)
            .map(|i| event(&format!("t{i}"), "2026-11-24T10:00:00Z", "x", "a"))
            .collect();
        node.index_docs(index, &docs);
        let indices = names(&[index]);
        let object = es
            .search(&indices, &Search::new(Query::match_all()))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let total = object.hits.total.expect("a total");
        assert_eq!((total.value, total.relation), (5, Relation::Eq), "{name}");
        let capped = es
            .search(
                &indices,
                &Search::new(Query::match_all()).track_total_hits(TrackTotal::UpTo(2)),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let total = capped.hits.total.expect("a total");
        assert_eq!((total.value, total.relation), (2, Relation::Gte), "{name}");
        assert_eq!(total.to_string(), "at least 2", "{name}");
        let number = es
            .search(&indices, &Search::new(Query::match_all()).total_as_int())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let total = number.hits.total.expect("a total");
        assert_eq!((total.value, total.relation), (5, Relation::Eq), "{name}");
        let none = es
            .search(
                &indices,
                &Search::new(Query::match_all()).track_total_hits(TrackTotal::No),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(none.hits.total, None, "{name}");
    });
}

#[test]
fn a_shard_failing_in_one_index_is_a_partial_answer_naming_it() {
    each_flavor(|flavor, node, es| {
        let name = flavor.name();
        for index in ["sc-partial-num", "sc-partial-text"] {
            node.delete_index(index);
        }
        // `n` is a number in one index and text in the other: sorting on
        // `seq`, mapped only in the first, fails the second's shard.
        node.index_docs("sc-partial-num", &[json!({"seq": 1, "n": 5})]);
        node.index_docs("sc-partial-text", &[json!({"n": "abc"})]);
        let indices = names(&["sc-partial-*"]);
        let error = es
            .search(
                &indices,
                &Search::new(Query::match_all())
                    .size(5)
                    .sort(Sort::asc("seq")),
            )
            .unwrap_err();
        let SearchError::ShardsFailed { shards, partial } = &error else {
            panic!("{name}: expected failed shards, got {error:?}");
        };
        assert_eq!(
            shards.failed_indices(),
            ["sc-partial-text"],
            "{name}: {error}"
        );
        assert!(
            shards.failed >= 1 && shards.total > shards.failed,
            "{name}: {shards:?}"
        );
        let text = error.to_string();
        assert!(text.contains("sc-partial-text shard"), "{name}: {text}");
        assert!(
            text.contains("seq"),
            "{name}: the reason names the field: {text}"
        );
        let Partial::Search(partial) = partial else {
            panic!("{name}: a search's partial answer")
        };
        assert_eq!(
            partial.hits.hits.len(),
            1,
            "{name}: the shard that answered"
        );
        assert_eq!(error.blame(), Blame::Source, "{name}");
        // Told what to assume where the field is missing, nothing fails.
        let fine = es.search(
            &indices,
            &Search::new(Query::match_all())
                .size(5)
                .sort(Sort::asc("seq").unmapped_as("long")),
        );
        assert_eq!(
            fine.unwrap_or_else(|e| panic!("{name}: {e}"))
                .hits
                .hits
                .len(),
            2,
            "{name}"
        );
    });
}

/// htpasswd with `{PLAIN}`, which nginx reads as is.
fn proxy_with_auth(node_url: &str, tls: bool) -> (Nginx, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, "monitor:{PLAIN}s3cret\n").expect("write htpasswd");
    let upstream = node_url.trim_end_matches('/');
    let snippet = format!(
        r#"location /basic/ {{ auth_basic "search"; auth_basic_user_file {}; proxy_pass {upstream}/; }}
        location /apikey/ {{
            if ($http_authorization != "ApiKey a2V5OnNlY3JldA==") {{
                return 401 '{{"error":{{"root_cause":[{{"type":"security_exception","reason":"unable to authenticate with provided credentials"}}],"type":"security_exception","reason":"unable to authenticate with provided credentials"}},"status":401}}';
            }}
            proxy_pass {upstream}/;
        }}
        location /bearer/ {{
            if ($http_authorization != "Bearer t0ken") {{ return 403; }}
            proxy_pass {upstream}/;
        }}"#,
        htpasswd.display()
    );
    let mut builder = Nginx::builder().server_snippet(&snippet);
    if tls {
        builder = builder.tls(&TestCa::shared().leaf("localhost"));
    }
    (builder.start(), dir)
}

#[test]
fn credentials_reach_the_server_and_refusals_are_configuration() {
    // One flavor behind the proxy: the client's side of auth does not
    // depend on the server behind it.
    let node = SearchNode::shared(SearchFlavor::ALL[0]);
    node.index_docs("sc-auth", &[event("a", "2026-11-24T10:00:00Z", "x", "a")]);
    let (nginx, _dir) = proxy_with_auth(&node.url(), false);
    let base = format!("http://127.0.0.1:{}", nginx.port());
    let indices = names(&["sc-auth"]);
    let with = |path: &str, auth: Auth| {
        let mut config = config();
        config.auth = auth;
        client_with(&format!("{base}/{path}/"), config).count(&indices, &Query::match_all())
    };
    let basic = |password: &str| Auth::Basic {
        user: "monitor".into(),
        password: Some(Secret::new(password)),
    };
    assert_eq!(
        with("basic", basic("s3cret")).expect("basic auth").count,
        1,
        "{}",
        nginx.logs()
    );
    let refused = with("basic", basic("wrong")).unwrap_err();
    assert_eq!(refused.status(), Some(401), "{refused}");
    assert_eq!(refused.blame(), Blame::Usage);
    let anonymous = with("basic", Auth::None).unwrap_err();
    assert_eq!(anonymous.status(), Some(401), "{anonymous}");

    let key = |key: &str| Auth::Header {
        name: "Authorization".into(),
        value: Secret::new(format!("ApiKey {key}")),
    };
    assert_eq!(
        with("apikey", key("a2V5OnNlY3JldA=="))
            .expect("API key")
            .count,
        1
    );
    let refused = with("apikey", key("bm9wZQ==")).unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "the search server refused: {base}/apikey/sc-auth/_count answered 401 (security_exception): unable to authenticate with provided credentials"
        )
    );
    assert_eq!(refused.blame(), Blame::Usage);

    assert_eq!(
        with("bearer", Auth::Bearer(Secret::new("t0ken")))
            .expect("bearer")
            .count,
        1
    );
    let forbidden = with("bearer", Auth::Bearer(Secret::new("stale"))).unwrap_err();
    assert_eq!(forbidden.status(), Some(403), "{forbidden}");
    assert_eq!(forbidden.blame(), Blame::Usage);
    assert!(
        forbidden.to_string().contains("403 Forbidden"),
        "{forbidden}"
    );
}

#[test]
fn https_with_the_ca_file_or_insecure() {
    let node = SearchNode::shared(SearchFlavor::ALL[0]);
    node.index_docs("sc-tls", &[event("a", "2026-11-24T10:00:00Z", "x", "a")]);
    let (nginx, _dir) = proxy_with_auth(&node.url(), true);
    let base = format!("https://localhost:{}/basic/", nginx.port());
    let auth = Auth::Basic {
        user: "monitor".into(),
        password: Some(Secret::new("s3cret")),
    };
    let indices = names(&["sc-tls"]);
    let mut trusted = config();
    trusted.auth = auth.clone();
    trusted.ca_file = Some(TestCa::shared().cert());
    let count = client_with(&base, trusted)
        .count(&indices, &Query::match_all())
        .unwrap_or_else(|e| panic!("{e}\n{}", nginx.logs()));
    assert_eq!(count.count, 1);
    let mut untrusted = config();
    untrusted.auth = auth.clone();
    let error = client_with(&base, untrusted)
        .count(&indices, &Query::match_all())
        .unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    let mut insecure = config();
    insecure.auth = auth;
    insecure.insecure = true;
    assert_eq!(
        client_with(&base, insecure)
            .count(&indices, &Query::match_all())
            .expect("--insecure")
            .count,
        1
    );
}

#[test]
fn unreachable_slow_and_garbage_servers_are_typed() {
    let indices = names(&["logs"]);
    // A closed port: nothing listens on the port of a dropped listener.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let error = client(&format!("http://127.0.0.1:{closed}"))
        .count(&indices, &Query::match_all())
        .unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    assert_eq!(error.blame(), Blame::Source);
    let text = nightwatch_core::fault::sentence(&error);
    assert!(
        text.starts_with("the search server is unreachable: cannot connect to"),
        "{text}"
    );

    let hang = FakeHangServer::start();
    let mut quick = config();
    quick.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let error = client_with(&hang.url(), quick)
        .count(&indices, &Query::match_all())
        .unwrap_err();
    assert!(
        matches!(&error, SearchError::Unreachable(HttpError::Timeout { .. })),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(error.to_string().contains("unreachable"));

    let not_json = FakeGarbageServer::http_200("<html>It works!</html>");
    let error = client(&not_json.url())
        .count(&indices, &Query::match_all())
        .unwrap_err();
    assert!(
        matches!(&error, SearchError::BadReply { excerpt, .. } if excerpt == "<html>It works!</html>"),
        "{error:?}"
    );
    assert!(!error.is_unreachable());
    assert_eq!(error.blame(), Blame::Source);

    let wrong_json = FakeGarbageServer::http_200(r#"{"count": "many"}"#);
    let error = client(&wrong_json.url())
        .count(&indices, &Query::match_all())
        .unwrap_err();
    assert!(matches!(error, SearchError::BadReply { .. }), "{error:?}");

    let not_http = FakeGarbageServer::new(&b"\x00\x01\x02 SSH-2.0-OpenSSH\r\n"[..]);
    let error = client(&not_http.url())
        .count(&indices, &Query::match_all())
        .unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");

    // Overloaded (429) and failing (503) servers are the server's fault;
    // the proxy page's title is the reason shown.
    for (status, line) in [(429, "Too Many Requests"), (503, "Service Unavailable")] {
        let page =
            format!("<html><head><title>{status} {line}</title></head><body>busy</body></html>");
        let server = FakeGarbageServer::new(format!(
            "HTTP/1.1 {status} {line}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        ));
        let error = client(&server.url())
            .count(&indices, &Query::match_all())
            .unwrap_err();
        assert_eq!(error.status(), Some(status), "{error:?}");
        assert_eq!(error.blame(), Blame::Source, "{status}");
        assert!(
            error.to_string().ends_with(&format!(": {status} {line}")),
            "{error}"
        );
    }
}

#[test]
fn only_plain_json_media_types_are_sent() {
    // OpenSearch refuses the Elasticsearch 8 clients' `compatible-with`
    // type on a request with a body (406), and the client works on it: it
    // never sends one. The refusal is checked too, so this test notices if
    // a server starts accepting the type and the point stops being proven.
    // (Elasticsearch 7.17 and 8 accept it, so they prove nothing here.)
    for flavor in [SearchFlavor::OpenSearch2, SearchFlavor::OpenSearch3] {
        let node = SearchNode::shared(flavor);
        node.delete_index("sc-media");
        node.index_docs("sc-media", &[json!({"a": 1})]);
        let media = "application/vnd.elasticsearch+json; compatible-with=8";
        let refused = node.request(
            "POST",
            "/sc-media/_count",
            &[("Content-Type", media), ("Accept", media)],
            Some(r#"{"query":{"match_all":{}}}"#),
        );
        assert_eq!(refused.status, 406, "{}: {}", flavor.name(), refused.body);
        let count = client(&node.url())
            .count(&names(&["sc-media"]), &Query::match_all())
            .unwrap_or_else(|e| panic!("{}: {e}", flavor.name()));
        assert_eq!(count.count, 1, "{}", flavor.name());
    }
}
