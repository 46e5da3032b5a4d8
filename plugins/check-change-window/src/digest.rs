//! The digest a reviewer puts in their approval: SHA-256 over the plan as
//! they read it. Status and approvals are left out (they move on without
//! changing the plan); everything a reviewer judged is in: summary, author,
//! hosts, stakeholders, window, freeze exception and every plan section.
//! Times enter as exact instants with their zone, so re-writing
//! `14:00 Europe/Berlin` as `13:00:00Z` changes the digest (the zone is
//! part of what was approved) but re-indenting the YAML does not.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::record::Change;

/// `sha256:<64 hex digits>` of the change's plan.
#[must_use]
pub fn plan_digest(change: &Change) -> String {
    let plans: BTreeMap<&str, &str> = change
        .plans
        .iter()
        .map(|(plan, text)| (plan.key(), text.as_str()))
        .collect();
    // serde_json writes object keys in sorted order (no preserve_order
    // feature), so the text is canonical.
    let canonical: Value = json!({
        "id": change.id,
        "summary": change.summary,
        "author": change.author,
        "hosts": change.hosts.iter().map(crate::hosts::HostPattern::as_str).collect::<Vec<_>>(),
        "stakeholders": change.stakeholders,
        "window": change.window.as_ref().map(|w| json!({
            "start": w.start.canonical(),
            "end": w.end.canonical(),
        })),
        "freeze_exception": change.freeze_exception,
        "plans": plans,
    });
    let hash = Sha256::digest(canonical.to_string().as_bytes());
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in hash {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::record::parse_markdown;

    fn digest(text: &str) -> String {
        parse_markdown(Path::new("c.md"), text).unwrap().digest
    }

    const BASE: &str =
        "---\nid: C-1\nsummary: s\nauthor: alice\nstatus: draft\n---\n## Roll-back plan\nundo\n";

    #[test]
    fn status_and_approvals_do_not_change_the_digest_the_plan_does() {
        let base = digest(BASE);
        assert_eq!(base.len(), 7 + 64);
        let moved = BASE.replace(
            "status: draft",
            "status: in-progress\napprovals: [{by: bob}]",
        );
        assert_eq!(digest(&moved), base);
        let spaced = BASE.replace("undo\n", "undo   \r\n\n\n");
        assert_eq!(digest(&spaced), base);
        assert_ne!(digest(&BASE.replace("undo", "undo twice")), base);
        assert_ne!(digest(&BASE.replace("author: alice", "author: eve")), base);
        assert_ne!(digest(&format!("{BASE}## Risks\nfire\n")), base);
    }
}
