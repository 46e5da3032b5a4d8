//! nightwatch-events' search source against real nodes: the newest event
//! of 1 500 groups (pages of 1 000 here, so more than one: paged, none
//! cut), split at `not_after`; and events in a window listed newest first,
//! of one group, with a limit, as check-change-window lists the changes on
//! a host.

use std::time::Duration;

use nightwatch_events::{EsSource, EventSource, Window};
use nightwatch_search::{SearchClient, Timestamp};
use nightwatch_testkit::search_node::{SearchFlavor, SearchNode};
use serde_json::json;

const AT: &str = "2026-11-24T12:00:00Z";

fn at(text: &str) -> Timestamp {
    text.parse().expect("RFC 3339")
}

/// Pages of 1 000 groups, so that 1 500 take two.
fn source(node: &SearchNode, index: &str, group: Option<&str>) -> EsSource {
    let client = SearchClient::new(
        &node.url().parse().expect("a URL"),
        nightwatch_search::http::HttpConfig::new(Duration::from_secs(20), "events-e2e"),
    )
    .expect("a client");
    EsSource::new(
        client,
        vec![index.parse().expect("an index name")],
        Some("tags:deploy".into()),
        "@timestamp",
        group,
    )
    .with_page_size(1000)
}

#[test]
fn fifteen_hundred_groups_paged_none_cut_on_the_oldest_and_newest_nodes() {
    let now = at(AT);
    for flavor in [SearchFlavor::ALL[0], SearchFlavor::ALL[3]] {
        let node = SearchNode::shared(flavor);
        let index = format!("ev1500-{}", flavor.dir_name());
        node.delete_index(&index);
        let mut docs = Vec::new();
        for n in 0..1500 {
            let minutes = i64::from(n % 600) + 1;
            let time = Timestamp::from_second(now.as_second() - minutes * 60).expect("in range");
            docs.push(json!({"@timestamp": time.to_string(), "host": format!("h{n:04}"), "tags": ["deploy"]}));
        }
        // One host ahead by an hour, one host only seen by other events.
        docs.push(
            json!({"@timestamp": "2026-11-24T13:00:00Z", "host": "h0001", "tags": ["deploy"]}),
        );
        docs.push(
            json!({"@timestamp": "2026-11-24T11:00:00Z", "host": "quiet", "tags": ["login"]}),
        );
        node.index_docs(&index, &docs);
        let window = Window::new(at("2026-11-17T12:00:00Z"), at("2026-11-26T12:00:00Z"));
        let answer = source(node, &index, Some("host.keyword"))
            .newest_per_group(&window, now, None)
            .expect("an answer");
        assert_eq!(answer.groups.len(), 1500, "{}", flavor.name());
        let h1 = &answer.groups[1];
        assert_eq!(h1.group.as_deref(), Some("h0001"));
        assert_eq!(h1.count, 2);
        assert_eq!(
            h1.newest.as_ref().expect("newest").at,
            at("2026-11-24T11:58:00Z")
        );
        assert_eq!(
            h1.future.as_ref().expect("future").at,
            at("2026-11-24T13:00:00Z")
        );
        assert!(
            answer
                .groups
                .iter()
                .all(|g| g.group.as_deref() != Some("quiet"))
        );
        // Narrowed to two groups.
        let two = ["h0002".to_owned(), "h1499".to_owned()];
        let narrowed = source(node, &index, Some("host.keyword"))
            .newest_per_group(&window, now, Some(&two))
            .expect("an answer");
        let names: Vec<_> = narrowed
            .groups
            .iter()
            .filter_map(|g| g.group.clone())
            .collect();
        assert_eq!(names, two);
    }
}

#[test]
fn events_of_a_host_in_a_window_newest_first_with_a_limit() {
    let node = SearchNode::shared(SearchFlavor::ALL[2]);
    let index = "evlist";
    node.delete_index(index);
    let docs: Vec<_> = (0..6)
        .map(|n| {
            json!({"@timestamp": format!("2026-11-24T0{n}:30:00Z"), "host": if n % 2 == 0 { "web01" } else { "db01" },
                   "tags": "deploy", "user": {"name": "alice"}, "n": n})
        })
        .collect();
    node.index_docs(index, &docs);
    let window = Window::new(at("2026-11-24T01:00:00Z"), at("2026-11-24T12:00:00Z"));
    let web = ["web01".to_owned()];
    let listed = source(node, index, Some("host.keyword"))
        .events_in(&window, Some(&web), 10)
        .expect("events");
    let times: Vec<_> = listed.events.iter().map(|e| e.at).collect();
    assert_eq!(
        times,
        [at("2026-11-24T04:30:00Z"), at("2026-11-24T02:30:00Z")]
    );
    assert!(!listed.more);
    let event = &listed.events[0];
    assert_eq!(event.group.as_deref(), Some("web01"));
    assert_eq!(event.field("user.name"), Some(&json!("alice")));
    assert!(event.id.as_deref().is_some_and(|id| !id.is_empty()));
    let limited = source(node, index, None)
        .events_in(&window, None, 3)
        .expect("events");
    assert_eq!(limited.events.len(), 3);
    assert!(limited.more);
    assert_eq!(limited.events[0].field("n"), Some(&json!(5)));
}
