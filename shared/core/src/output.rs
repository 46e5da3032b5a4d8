//! The plugin's output: a report of findings rendered in the one layout that
//! Nagios 4, Icinga 2 and Sensu Go's `nagios_perfdata` all read.
//!
//! ```text
//! LABEL STATE: summary
//! long text, one line per item, worst first
//! | perfdata entries
//! ```

use std::fmt::Write as _;

use crate::perfdata::Perfdata;
use crate::state::State;

/// Bytes of output kept by default: well under Nagios 4's 8192 (and the
/// byte a plugin's trailing newline takes), leaving room for NRPE v3.
pub const DEFAULT_OUTPUT_BUDGET: usize = 4096;

/// The smallest budget that still holds a useful first line.
pub const MIN_OUTPUT_BUDGET: usize = 256;

/// The first line may take at most 1/this of the budget.
const FIRST_LINE_SHARE: usize = 2;

/// Bytes kept free for the "… N more" line.
const CUT_NOTE_ROOM: usize = 48;

/// One judged item: a series, a host, a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub state: State,
    /// A few words for the first line: `ham 141.2°F above 140`.
    pub summary: String,
    /// The long-text line; the summary when `None`.
    pub detail: Option<String>,
}

impl Finding {
    #[must_use]
    pub fn new(state: State, summary: impl Into<String>) -> Finding {
        Finding {
            state,
            summary: summary.into(),
            detail: None,
        }
    }

    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Finding {
        self.detail = Some(detail.into());
        self
    }
}

/// What a check found, ready to print.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    label: String,
    state: Option<State>,
    summary: Option<String>,
    /// What the items are and the worst of them, for [`Report::with_all_ok_summary`].
    all_ok: Option<(String, String)>,
    findings: Vec<Finding>,
    details: Vec<String>,
    perfdata: Vec<Perfdata>,
    budget: usize,
}

impl Report {
    /// An empty report for the plugin whose label (`GRAPHITE`) leads the line.
    #[must_use]
    pub fn new(label: impl Into<String>) -> Report {
        Report {
            label: label.into(),
            state: None,
            summary: None,
            all_ok: None,
            findings: Vec::new(),
            details: Vec::new(),
            perfdata: Vec::new(),
            budget: DEFAULT_OUTPUT_BUDGET,
        }
    }

    /// A report of one state and one sentence, as for errors.
    #[must_use]
    pub fn single(label: impl Into<String>, state: State, summary: impl Into<String>) -> Report {
        Report::new(label).with_state(state).with_summary(summary)
    }

    /// Forces the state; otherwise it is the worst finding's (OK for none).
    #[must_use]
    pub fn with_state(mut self, state: State) -> Report {
        self.state = Some(state);
        self
    }

    /// Forces the first line's text; otherwise the worst findings make it.
    #[must_use]
    pub fn with_summary(mut self, summary: impl Into<String>) -> Report {
        self.summary = Some(summary.into());
        self
    }

    /// The first line when there are several findings and all are OK: one
    /// phrase for all of them instead of the first few listed, e.g.
    /// `with_all_ok_summary("hosts fresh", "the oldest db07 2h ago")` reads
    /// `40 hosts fresh, the oldest db07 2h ago`. A single finding keeps its
    /// own summary; any other state leads with the worst findings as usual.
    #[must_use]
    pub fn with_all_ok_summary(mut self, things: &str, worst: &str) -> Report {
        self.all_ok = Some((things.to_owned(), worst.to_owned()));
        self
    }

    /// Caps the rendered output at `bytes` (never below [`MIN_OUTPUT_BUDGET`]).
    #[must_use]
    pub fn with_budget(mut self, bytes: usize) -> Report {
        self.budget = bytes.max(MIN_OUTPUT_BUDGET);
        self
    }

    pub fn add_finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// A long-text line printed after the findings' lines.
    pub fn add_detail(&mut self, line: impl Into<String>) {
        self.details.push(line.into());
    }

    pub fn add_perfdata(&mut self, perfdata: Perfdata) {
        self.perfdata.push(perfdata);
    }

    /// The state the plugin exits with.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
            .unwrap_or_else(|| State::worst_of(self.findings.iter().map(|f| f.state)))
    }

    #[must_use]
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Findings worst first, keeping the plugin's order among equals.
    fn ranked_findings(&self) -> Vec<&Finding> {
        let mut ranked: Vec<&Finding> = self.findings.iter().collect();
        ranked.sort_by_key(|f| std::cmp::Reverse(f.state.severity()));
        ranked
    }

    fn summary_text(&self) -> String {
        if let Some(summary) = &self.summary {
            return summary.clone();
        }
        let state = self.state();
        if let Some((things, worst)) = &self.all_ok
            && state == State::Ok
            && self.findings.len() > 1
        {
            return crate::display::all_ok(self.findings.len(), things, worst);
        }
        let leading: Vec<&str> = self
            .ranked_findings()
            .into_iter()
            .filter(|f| f.state == state)
            .map(|f| f.summary.as_str())
            .collect();
        match leading.as_slice() {
            [] => "no findings".to_owned(),
            [only] => (*only).to_owned(),
            many => join_within(many, 60),
        }
    }

    /// The text to print on stdout, without the final newline, within budget.
    #[must_use]
    pub fn render(&self) -> String {
        // The newline println! adds counts against the engine's buffer too.
        let budget = self.budget - 1;
        let first_line = truncate(
            &format!(
                "{} {}: {}",
                self.label,
                self.state(),
                one_line(&self.summary_text())
            ),
            budget / FIRST_LINE_SHARE,
        );
        let mut lines: Vec<String> = Vec::new();
        if self.findings.len() > 1 || self.findings.iter().any(|f| f.detail.is_some()) {
            for finding in self.ranked_findings() {
                let text = finding.detail.as_deref().unwrap_or(&finding.summary);
                lines.push(format!("{}: {}", finding.state, one_line(text)));
            }
        }
        lines.extend(self.details.iter().map(|line| one_line(line)));
        let entries: Vec<String> = self.perfdata.iter().map(ToString::to_string).collect();

        // Perfdata is kept whole, entry by entry, before long text: a graph
        // with a gap is worse than a cut explanation.
        let mut room = budget.saturating_sub(first_line.len() + CUT_NOTE_ROOM);
        let mut kept_entries = Vec::new();
        for entry in &entries {
            let cost = entry.len() + if kept_entries.is_empty() { 3 } else { 1 };
            if cost > room {
                break;
            }
            room -= cost;
            kept_entries.push(entry.as_str());
        }
        let mut kept_lines = Vec::new();
        for line in &lines {
            let cost = line.len() + 1;
            if cost > room {
                break;
            }
            room -= cost;
            kept_lines.push(line.as_str());
        }

        let mut out = first_line;
        let cut_lines = lines.len() - kept_lines.len();
        let cut_entries = entries.len() - kept_entries.len();
        for line in &kept_lines {
            out.push('\n');
            out.push_str(line);
        }
        if cut_lines > 0 || cut_entries > 0 {
            let note = match (cut_lines, cut_entries) {
                (lines, 0) => format!("{lines} more"),
                (0, entries) => format!("{entries} more perfdata entries"),
                (lines, entries) => format!("{lines} more, {entries} more perfdata entries"),
            };
            out.push_str("\n… ");
            out.push_str(&note);
        }
        if !kept_entries.is_empty() {
            out.push_str(if out.contains('\n') { "\n| " } else { " | " });
            out.push_str(&kept_entries.join(" "));
        }
        out
    }
}

/// Text fit for one line of plugin output: no `|` (it would start perfdata
/// for Nagios and split Sensu's parse) and no line breaks.
#[must_use]
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '|' => '¦',
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Joins items with `, ` while the result stays within about `width`
/// characters, then says how many were left out.
fn join_within(items: &[&str], width: usize) -> String {
    let mut out = String::new();
    for (shown, item) in items.iter().enumerate() {
        if shown > 0 && out.chars().count() + item.chars().count() > width {
            let _ = write!(out, " and {} more", items.len() - shown);
            return out;
        }
        if shown > 0 {
            out.push_str(", ");
        }
        out.push_str(item);
    }
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary, ending in `…`.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let ellipsis = "…";
    let mut end = max.saturating_sub(ellipsis.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ellipsis}", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Thresholds;
    use State::{Critical, Ok, Unknown, Warning};
    use proptest::prelude::*;

    fn ham_report() -> Report {
        let mut report = Report::new("GRAPHITE");
        let t = Thresholds::new("135".parse().ok(), "140".parse().ok());
        report.add_finding(Finding::new(Warning, "oven 319 below 320"));
        report.add_finding(Finding::new(Critical, "ham 141.2 above 140"));
        report.add_perfdata(Perfdata::new("ham", Some(141.2)).with_thresholds(&t));
        report.add_perfdata(Perfdata::new("oven", Some(319.0)));
        report
    }

    #[test]
    fn worst_finding_leads_and_long_text_lists_all() {
        let report = ham_report();
        assert_eq!(report.state(), Critical);
        assert_eq!(
            report.render(),
            "GRAPHITE CRITICAL: ham 141.2 above 140\n\
             CRITICAL: ham 141.2 above 140\n\
             WARNING: oven 319 below 320\n\
             | ham=141.2;135;140 oven=319"
        );
    }

    #[test]
    fn one_finding_is_one_line() {
        let mut report = Report::new("GRAPHITE");
        report.add_finding(Finding::new(Ok, "ham 120.5"));
        report.add_perfdata(Perfdata::new("ham", Some(120.5)));
        assert_eq!(report.render(), "GRAPHITE OK: ham 120.5 | ham=120.5");
        let report = Report::single(
            "GRAPHITE",
            Unknown,
            "Graphite at http://x | y is down\nreally",
        );
        assert_eq!(
            report.render(),
            "GRAPHITE UNKNOWN: Graphite at http://x ¦ y is down really"
        );
    }

    #[test]
    fn unknown_never_hides_critical() {
        let mut report = Report::new("X");
        report.add_finding(Finding::new(Unknown, "a: no data"));
        report.add_finding(Finding::new(Critical, "b 9 > 5"));
        report.add_finding(Finding::new(Critical, "c 7 > 5"));
        assert_eq!(report.state(), Critical);
        assert!(
            report
                .render()
                .starts_with("X CRITICAL: b 9 > 5, c 7 > 5\n")
        );
    }

    #[test]
    fn long_text_is_cut_with_a_count_and_perfdata_kept() {
        let mut report = Report::new("GRAPHITE").with_budget(600);
        for i in 0..100 {
            report.add_finding(Finding::new(
                Warning,
                format!("series{i:03} is a bit warm today"),
            ));
        }
        for i in 0..5 {
            report.add_perfdata(Perfdata::new(format!("s{i}"), Some(f64::from(i))));
        }
        let out = report.render();
        assert!(out.len() < 600, "{}", out.len());
        assert!(out.ends_with("| s0=0 s1=1 s2=2 s3=3 s4=4"), "{out}");
        let note = out.lines().rev().nth(1).unwrap();
        assert!(note.starts_with("… ") && note.ends_with(" more"), "{note}");
        let shown = out.lines().filter(|l| l.starts_with("WARNING: ")).count();
        assert_eq!(note, format!("… {} more", 100 - shown));
    }

    #[test]
    fn many_items_all_ok_read_as_one_phrase() {
        let hosts = |ages: &[(&str, u64)]| {
            let mut report = Report::new("FRESHNESS")
                .with_all_ok_summary("hosts fresh", "the oldest db07 2h ago");
            for (host, hours) in ages {
                let state = if *hours > 26 { Warning } else { Ok };
                report.add_finding(Finding::new(
                    state,
                    format!("{host} last seen {hours}h ago"),
                ));
            }
            report
        };
        let out = hosts(&[("db01", 1), ("db07", 2), ("web3", 0)]).render();
        assert_eq!(
            out,
            "FRESHNESS OK: 3 hosts fresh, the oldest db07 2h ago\n\
             OK: db01 last seen 1h ago\n\
             OK: db07 last seen 2h ago\n\
             OK: web3 last seen 0h ago"
        );
        let out = hosts(&[("db01", 27), ("db07", 2)]).render();
        assert!(
            out.starts_with("FRESHNESS WARNING: db01 last seen 27h ago\n"),
            "{out}"
        );
        let out = hosts(&[("db07", 2)]).render();
        assert_eq!(out, "FRESHNESS OK: db07 last seen 2h ago");
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["[ -~]{0,40}", ".{0,40}", "[|\n]{0,5}"]
    }

    proptest! {
        #[test]
        fn rendered_output_fits_budget_and_has_at_most_one_pipe(
            budget in 0usize..3000,
            summary in proptest::option::of(text()),
            findings in proptest::collection::vec((0..4i32, text()), 0..60),
            details in proptest::collection::vec(text(), 0..10),
            labels in proptest::collection::vec((text(), proptest::option::of(-1e12..1e12f64)), 0..60),
        ) {
            let mut report = Report::new("LABEL").with_budget(budget);
            if let Some(summary) = summary {
                report = report.with_summary(summary);
            }
            for (code, text) in findings {
                report.add_finding(Finding::new(State::from_exit_code(code).unwrap(), text));
            }
            for line in details {
                report.add_detail(line);
            }
            for (label, value) in labels {
                report.add_perfdata(Perfdata::new(label, value));
            }
            let out = report.render();
            prop_assert!(out.len() < budget.max(MIN_OUTPUT_BUDGET), "{} bytes", out.len());
            prop_assert!(out.matches('|').count() <= 1, "{}", out);
            let first = out.lines().next().unwrap_or_default();
            let expected = format!("LABEL {}: ", report.state());
            prop_assert!(first.starts_with(&expected), "{}", first);
            if let Some(pipe) = out.find('|') {
                prop_assert!(!out[pipe..].contains('\n'), "perfdata on the last line");
            }
        }
    }
}
