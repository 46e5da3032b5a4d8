//! Clean perfdata labels for series: the last path node by default
//! (`christmaspi.temperature.ham` → `ham`), so Sensu and graphers need no
//! quoting.

use std::collections::HashMap;

use nightwatch_core::display::clean_label;

/// One label per series name, in order. `wanted` overrides: with one
/// series it is the label; with several it prefixes each node.
#[must_use]
pub fn series_labels(names: &[&str], wanted: Option<&str>) -> Vec<String> {
    let nodes: Vec<String> = names.iter().map(|name| short_name(name)).collect();
    let mut labels: Vec<String> = match (wanted, names.len()) {
        (Some(label), 1) => vec![label.to_owned()],
        (Some(label), _) => nodes.iter().map(|node| format!("{label}.{node}")).collect(),
        (None, _) => nodes,
    };
    // Two series with one last node (a.x, b.x) keep their full names.
    // Counted once, so 100 000 series cost a hash each, not a scan each.
    let clashing: Vec<bool> = {
        let counts = counts(&labels);
        labels
            .iter()
            .map(|label| counts[label.as_str()] > 1)
            .collect()
    };
    for ((label, name), clashes) in labels.iter_mut().zip(names).zip(clashing) {
        if clashes {
            *label = clean_label(name);
        }
    }
    // Series whose cleaned names still match (Graphite may send one name
    // twice) are told apart by their place: `x`, `x_2`, `x_3`.
    let mut taken: HashMap<String, usize> = HashMap::with_capacity(labels.len());
    for label in &mut labels {
        let seen = taken.entry(label.clone()).or_insert(0);
        *seen += 1;
        if *seen > 1 {
            let mut suffix = *seen;
            let mut candidate = format!("{label}_{suffix}");
            while taken.contains_key(&candidate) {
                suffix += 1;
                candidate = format!("{label}_{suffix}");
            }
            taken.insert(candidate.clone(), 1);
            *label = candidate;
        }
    }
    labels
}

fn counts(labels: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::with_capacity(labels.len());
    for label in labels {
        *counts.entry(label.as_str()).or_insert(0) += 1;
    }
    counts
}

/// The last node of a plain path; a function's series name is cleaned whole.
fn short_name(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
    match name.rsplit('.').next() {
        Some(node) if plain && !node.is_empty() => node.to_owned(),
        _ => clean_label(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_node_by_default() {
        assert_eq!(
            series_labels(
                &[
                    "christmaspi.temperature.ham",
                    "christmaspi.temperature.oven"
                ],
                None
            ),
            ["ham", "oven"]
        );
    }

    #[test]
    fn functions_and_clashes_are_cleaned_whole() {
        assert_eq!(
            series_labels(&["sumSeries(christmaspi.temperature.*)"], None),
            ["sumSeries_christmaspi.temperature"]
        );
        assert_eq!(series_labels(&["a.x", "b.x"], None), ["a.x", "b.x"]);
        assert_eq!(
            series_labels(&["a.x", "a.x", "a.x", "a.x_2"], None),
            ["a.x", "a.x_2", "a.x_3", "x_2"]
        );
        assert_eq!(series_labels(&["it's a \"name\""], None), ["it_s_a_name"]);
    }

    #[test]
    fn a_hundred_thousand_series_get_distinct_labels() {
        let names: Vec<String> = (0..100_000).map(|i| format!("host{i}.cpu.load")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let labels = series_labels(&refs, None);
        assert_eq!(labels[7], "host7.cpu.load");
        let distinct: std::collections::HashSet<&String> = labels.iter().collect();
        assert_eq!(distinct.len(), labels.len());
    }

    #[test]
    fn override_labels_one_or_prefixes_many() {
        assert_eq!(series_labels(&["a.b.c"], Some("ham_core")), ["ham_core"]);
        assert_eq!(
            series_labels(&["p.ham", "p.oven"], Some("pi")),
            ["pi.ham", "pi.oven"]
        );
    }
}
