//! The harness's real search nodes (`tests/support/search_node.rs`) answer
//! as their servers do: the banner, indexing, counting, a `terms`
//! aggregation on dynamic mapping's `.keyword` subfield, refused documents,
//! and how each server treats Elasticsearch's `compatible-with` media types
//! (the header a plugin could send and a server could refuse).

use std::panic::{AssertUnwindSafe, catch_unwind};

use nightwatch_testkit::{SearchFlavor, SearchNode};
use serde_json::json;

const COMPAT_8: &str = "application/vnd.elasticsearch+json; compatible-with=8";
const COMPAT_9: &str = "application/vnd.elasticsearch+json; compatible-with=9";

/// How a server answers `_count` with a `compatible-with` media type:
/// `(accept_only, content_type_and_accept)` status codes.
fn compat_statuses(node: &SearchNode, index: &str, media_type: &str) -> (u16, u16) {
    let path = format!("/{index}/_count");
    let accept_only = node.request("GET", &path, &[("Accept", media_type)], None);
    let with_body = node.request(
        "POST",
        &path,
        &[("Accept", media_type), ("Content-Type", media_type)],
        Some(r#"{"query":{"match_all":{}}}"#),
    );
    (accept_only.status, with_body.status)
}

fn self_test(flavor: SearchFlavor) {
    let node = SearchNode::shared(flavor);
    let name = flavor.name();

    let root = node.request("GET", "/", &[], None);
    assert_eq!(root.status, 200, "{name}: GET /: {}", root.body);
    let root = root.json();
    assert_eq!(
        root["version"]["number"],
        flavor.version(),
        "{name}: {root}"
    );
    assert_eq!(node.version(), flavor.version());
    if flavor.distribution() == "opensearch" {
        assert_eq!(root["version"]["distribution"], "opensearch", "{root}");
    } else {
        assert!(
            root["version"].get("distribution").is_none(),
            "{name}: {root}"
        );
        assert_eq!(root["tagline"], "You Know, for Search", "{name}: {root}");
    }
    assert!(
        root["cluster_uuid"]
            .as_str()
            .is_some_and(|uuid| uuid.len() > 10),
        "{name}: {root}"
    );

    let index = format!("selftest-{}", flavor.dir_name());
    node.delete_index(&index);
    node.index_docs(
        &index,
        &[
            json!({"host": "web-1", "ms": 12}),
            json!({"host": "web-2", "ms": 30}),
            json!({"host": "web-1", "ms": 7}),
        ],
    );
    assert_eq!(node.count(&index), 3, "{name}");
    let found = node.search(
        &index,
        &json!({"size": 0, "aggs": {"hosts": {"terms": {"field": "host.keyword"}}}}),
    );
    assert_eq!(
        found["aggregations"]["hosts"]["buckets"],
        json!([{"key": "web-1", "doc_count": 2}, {"key": "web-2", "doc_count": 1}]),
        "{name}: {found}"
    );
    let matched = node.search(
        &index,
        &json!({"query": {"match": {"host": {"query": "web-2", "operator": "and"}}}}),
    );
    assert_eq!(
        (
            &matched["hits"]["total"]["value"],
            &matched["hits"]["hits"][0]["_source"]["ms"]
        ),
        (&json!(1), &json!(30)),
        "{name}: full-text match on the text field: {matched}"
    );

    // `ms` is a long now: a string there is refused, and index_docs says so.
    let refused = catch_unwind(AssertUnwindSafe(|| {
        node.index_docs(&index, &[json!({"host": "web-3", "ms": "slow"})]);
    }))
    .expect_err("a refused document must panic");
    let message = refused
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("parsing_exception") && message.contains("slow"),
        "{name}: {message}"
    );

    // Which servers refuse Elasticsearch's versioned media types, and how.
    let compat_8 = compat_statuses(node, &index, COMPAT_8);
    let compat_9 = compat_statuses(node, &index, COMPAT_9);
    let expected = match flavor {
        // OpenSearch ignores an Accept it does not know but refuses to
        // parse a body of that Content-Type.
        SearchFlavor::OpenSearch2 | SearchFlavor::OpenSearch3 => ((200, 406), (200, 406)),
        // 7.17 accepts any compatible-with; 8.x knows 7 and 8 and answers
        // 400 (media_type_header_exception), not 406, for 9.
        SearchFlavor::Elasticsearch7 => ((200, 200), (200, 200)),
        SearchFlavor::Elasticsearch8 => ((200, 200), (400, 400)),
    };
    assert_eq!(
        (compat_8, compat_9),
        expected,
        "{name}: (accept only, content-type and accept) for compatible-with 8 and 9"
    );

    node.delete_index(&index);
    let gone = node.request("GET", &format!("/{index}/_count"), &[], None);
    assert_eq!(
        gone.status, 404,
        "{name}: after delete_index: {}",
        gone.body
    );
    node.delete_index(&index);
}

#[test]
fn opensearch_2_answers_as_opensearch() {
    self_test(SearchFlavor::OpenSearch2);
}

#[test]
fn opensearch_3_answers_as_opensearch() {
    self_test(SearchFlavor::OpenSearch3);
}

#[test]
fn elasticsearch_7_answers_as_elasticsearch() {
    self_test(SearchFlavor::Elasticsearch7);
}

#[test]
fn elasticsearch_8_answers_as_elasticsearch() {
    self_test(SearchFlavor::Elasticsearch8);
}

#[test]
fn a_node_is_shared_not_restarted() {
    let first = SearchNode::shared(SearchFlavor::OpenSearch2);
    let again = SearchNode::shared(SearchFlavor::OpenSearch2);
    assert!(std::ptr::eq(first, again));
    assert_eq!(first.pid(), again.pid());
    assert!(first.pid().is_some());
}
