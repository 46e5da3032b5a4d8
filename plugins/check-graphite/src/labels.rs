//! Clean perfdata labels for series: the last path node by default
//! (`christmaspi.temperature.ham` → `ham`), so Sensu and graphers need no
//! quoting.

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
    let clashing: Vec<bool> = labels
        .iter()
        .map(|label| labels.iter().filter(|other| *other == label).count() > 1)
        .collect();
    for ((label, name), clashes) in labels.iter_mut().zip(names).zip(clashing) {
        if clashes {
            *label = clean_label(name);
        }
    }
    labels
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
        assert_eq!(series_labels(&["it's a \"name\""], None), ["it_s_a_name"]);
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
