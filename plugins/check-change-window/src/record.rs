//! Change records: one Markdown file per change (YAML front matter and
//! `## ` sections), or a JSON array of the same records exported from a
//! ticket system with the sections as string fields.
//!
//! A broken record never hides the others: reading a directory returns
//! every good record and, beside them, every broken one with its file, line
//! and field.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::Deserializer;

use crate::digest::plan_digest;
use crate::hosts::HostPattern;
use crate::when::When;

/// Where a change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Draft,
    Approved,
    InProgress,
    Done,
    RolledBack,
    Abandoned,
}

impl Status {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Approved => "approved",
            Status::InProgress => "in-progress",
            Status::Done => "done",
            Status::RolledBack => "rolled-back",
            Status::Abandoned => "abandoned",
        }
    }
}

/// A plan section of a change record; the Summary lives in the front matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Plan {
    Description,
    /// The change plan
    Change,
    /// The test plan
    Test,
    /// The roll-back plan
    Rollback,
    /// The roll-back verification plan
    RollbackVerification,
    Risks,
}

impl Plan {
    pub const ALL: [Plan; 6] = [
        Plan::Description,
        Plan::Change,
        Plan::Test,
        Plan::Rollback,
        Plan::RollbackVerification,
        Plan::Risks,
    ];

    /// The section heading, as people write it.
    #[must_use]
    pub fn heading(self) -> &'static str {
        match self {
            Plan::Description => "Description",
            Plan::Change => "Change plan",
            Plan::Test => "Test plan",
            Plan::Rollback => "Roll-back plan",
            Plan::RollbackVerification => "Roll-back verification plan",
            Plan::Risks => "Risks",
        }
    }

    /// The field name in a JSON export and in the digest.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Plan::Description => "description",
            Plan::Change => "change_plan",
            Plan::Test => "test_plan",
            Plan::Rollback => "rollback_plan",
            Plan::RollbackVerification => "rollback_verification_plan",
            Plan::Risks => "risks",
        }
    }

    /// Which plan a `## ` heading names: case, hyphens and spaces do not
    /// matter (`Rollback plan`, `Roll-back Plan`).
    #[must_use]
    pub fn from_heading(heading: &str) -> Option<Plan> {
        let squashed: String = heading
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Plan::ALL.into_iter().find(|plan| {
            let want: String = plan
                .heading()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            squashed == want
        })
    }
}

/// One reviewer's LGTM.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub by: String,
    pub at: Option<When>,
    /// `sha256:…` of the plan as the reviewer read it.
    pub digest: Option<String>,
}

/// When the change may happen.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub start: When,
    pub end: When,
}

/// A valid change record.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The file it came from, and for a JSON export its position.
    pub origin: String,
    pub id: String,
    pub summary: String,
    pub author: Option<String>,
    pub hosts: Vec<HostPattern>,
    pub stakeholders: Vec<String>,
    pub status: Status,
    pub approvals: Vec<Approval>,
    pub window: Option<Window>,
    pub freeze_exception: bool,
    /// The plans present: a missing, empty, "TBD" or "n/a" one is absent.
    pub plans: BTreeMap<Plan, String>,
    /// The digest of the plan as it reads now.
    pub digest: String,
}

impl Change {
    #[must_use]
    pub fn plan(&self, plan: Plan) -> Option<&str> {
        self.plans.get(&plan).map(String::as_str)
    }
}

/// A record that could not be read, located as closely as the parser can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RecordError {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// The field at fault, as a path (`window.start`, `approvals[0].by`).
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every record of a directory or file: the good ones and the broken ones.
#[derive(Debug, Default)]
pub struct Records {
    pub changes: Vec<Change>,
    pub broken: Vec<RecordError>,
}

/// The front matter's keys, which are the contract (unknown keys are
/// errors: a misspelt `freeze_exeption` must not silently read as false).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    #[serde(deserialize_with = "scalar_text")]
    id: String,
    summary: String,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    hosts: Vec<HostPattern>,
    #[serde(default)]
    stakeholders: Vec<String>,
    #[serde(default = "draft")]
    status: Status,
    #[serde(default)]
    approvals: Vec<RawApproval>,
    #[serde(default)]
    window: Option<RawWindow>,
    #[serde(default)]
    freeze_exception: bool,
    // The sections as fields, as a ticket system exports them.
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    change_plan: Option<String>,
    #[serde(default)]
    test_plan: Option<String>,
    #[serde(default)]
    rollback_plan: Option<String>,
    #[serde(default)]
    rollback_verification_plan: Option<String>,
    #[serde(default)]
    risks: Option<String>,
}

fn draft() -> Status {
    Status::Draft
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    by: String,
    #[serde(default)]
    at: Option<When>,
    #[serde(default)]
    digest: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    start: When,
    end: When,
}

/// An id may be written bare (`id: 42`): it is text all the same.
fn scalar_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Number(i64),
    }
    match Scalar::deserialize(deserializer)? {
        Scalar::Text(text) => Ok(text),
        Scalar::Number(n) => Ok(n.to_string()),
    }
}

impl<'de> Deserialize<'de> for HostPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<HostPattern, D::Error> {
        crate::when::deserialize_parsed(deserializer, "a host name or glob", HostPattern::new)
    }
}

/// A section's text, or `None` when it counts as absent.
fn present(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let word = trimmed.trim_end_matches('.').to_ascii_lowercase();
    if trimmed.is_empty() || matches!(word.as_str(), "tbd" | "n/a" | "na" | "-" | "none") {
        None
    } else {
        Some(normalise_text(trimmed))
    }
}

/// Line ends and trailing spaces do not change what a plan says.
fn normalise_text(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

impl RawRecord {
    fn into_change(
        self,
        origin: String,
        body_sections: BTreeMap<Plan, String>,
    ) -> Result<Change, (String, String)> {
        if self.id.trim().is_empty() {
            return Err(("id".into(), "is empty".into()));
        }
        if self.summary.trim().is_empty() {
            return Err((
                "summary".into(),
                "is empty (the Summary is mandatory)".into(),
            ));
        }
        if let Some(window) = &self.window
            && window.end.timestamp <= window.start.timestamp
        {
            return Err((
                "window.end".into(),
                format!(
                    "{} is not after the start {}",
                    window.end.local(),
                    window.start.local()
                ),
            ));
        }
        let mut plans = BTreeMap::new();
        for (plan, field) in [
            (Plan::Description, self.description),
            (Plan::Change, self.change_plan),
            (Plan::Test, self.test_plan),
            (Plan::Rollback, self.rollback_plan),
            (Plan::RollbackVerification, self.rollback_verification_plan),
            (Plan::Risks, self.risks),
        ] {
            if let Some(text) = field.as_deref().and_then(present) {
                if body_sections.contains_key(&plan) {
                    return Err((
                        plan.key().into(),
                        format!(
                            "given both as a field and as a '## {}' section",
                            plan.heading()
                        ),
                    ));
                }
                plans.insert(plan, text);
            }
        }
        plans.extend(body_sections);
        let mut change = Change {
            origin,
            id: self.id.trim().to_owned(),
            summary: self.summary.trim().to_owned(),
            author: self.author.map(|a| a.trim().to_owned()),
            hosts: self.hosts,
            stakeholders: self.stakeholders,
            status: self.status,
            approvals: self
                .approvals
                .into_iter()
                .map(|a| Approval {
                    by: a.by.trim().to_owned(),
                    at: a.at,
                    digest: a.digest.map(|d| d.trim().to_owned()),
                })
                .collect(),
            window: self.window.map(|w| Window {
                start: w.start,
                end: w.end,
            }),
            freeze_exception: self.freeze_exception,
            plans,
            digest: String::new(),
        };
        change.digest = plan_digest(&change);
        Ok(change)
    }
}

/// Reads one Markdown record (`text` is the file's content).
pub fn parse_markdown(file: &Path, text: &str) -> Result<Change, RecordError> {
    let fail = |line: Option<usize>, field: Option<String>, message: String| RecordError {
        file: file.to_owned(),
        line,
        field,
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // YAML counts a lone CR as a line break: so do we, or the lines named
    // in errors would not be the lines an editor shows.
    let normalised;
    let text = if text.contains('\r') {
        normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        normalised.as_str()
    } else {
        text
    };
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(fail(
            Some(1),
            None,
            "no front matter: the record must start with a line '---', then YAML, then '---'"
                .into(),
        ));
    }
    let mut front = String::new();
    let mut closed_at = None;
    let mut line_no = 1;
    let mut consumed = first.len();
    for line in lines.by_ref() {
        line_no += 1;
        consumed += line.len();
        if matches!(line.trim_end(), "---" | "...") {
            closed_at = Some(line_no);
            break;
        }
        front.push_str(line);
    }
    let Some(closed_at) = closed_at else {
        return Err(fail(
            Some(1),
            None,
            "the front matter that starts here never ends (no closing '---' line)".into(),
        ));
    };
    let body = &text[consumed..];
    let sections = parse_sections(body, closed_at)
        .map_err(|(line, message)| fail(Some(line), None, message))?;
    let raw: RawRecord = serde_norway::from_str(&front).map_err(|error| {
        // Line 1 of the YAML is line 2 of the file.
        let line = error.location().map(|l| l.line() + 1);
        let (field, message) = split_yaml_error(&error);
        fail(line.or(Some(2)), field, message)
    })?;
    let origin = file.display().to_string();
    raw.into_change(origin, sections)
        .map_err(|(field, message)| {
            let line = key_line(&front, &field).map(|l| l + 1);
            fail(line, Some(field), message)
        })
}

/// A YAML or JSON parser's message without the position it appends
/// (` at line 3 column 7`): the caller names the line in the file itself.
pub(crate) fn without_position(mut message: String) -> String {
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    message
}

/// `serde_norway`'s message without its trailing position, and the field
/// path it names (`window.start: …`).
fn split_yaml_error(error: &serde_norway::Error) -> (Option<String>, String) {
    let text = without_position(error.to_string());
    match text.split_once(": ") {
        Some((path, message))
            if !path.is_empty()
                && !path.contains(' ')
                && path != "."
                && path
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_.[]-".contains(c)) =>
        {
            (Some(path.to_owned()), message.to_owned())
        }
        _ => (None, text),
    }
}

/// The line (1-based, in the YAML) of the first key of a dotted field
/// path, for errors found after parsing.
fn key_line(yaml: &str, field: &str) -> Option<usize> {
    let mut wanted = field
        .split('.')
        .map(|part| part.split('[').next().unwrap_or(part));
    let mut key = wanted.next()?;
    let mut found = None;
    for (index, line) in yaml.lines().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if trimmed.starts_with(&format!("{key}:")) {
            found = Some(index + 1);
            match wanted.next() {
                Some(next) => key = next,
                None => return found,
            }
        }
    }
    found
}

/// The `## ` sections after the front matter, by plan; other headings are
/// kept out of the plan (they are the author's notes).
fn parse_sections(
    body: &str,
    lines_before: usize,
) -> Result<BTreeMap<Plan, String>, (usize, String)> {
    let mut sections = BTreeMap::new();
    let mut current: Option<(Plan, usize, String)> = None;
    let finish = |current: Option<(Plan, usize, String)>,
                  sections: &mut BTreeMap<Plan, String>|
     -> Result<(), (usize, String)> {
        if let Some((plan, line, text)) = current {
            if sections.contains_key(&plan) {
                return Err((line, format!("a second '## {}' section", plan.heading())));
            }
            if let Some(text) = present(&text) {
                sections.insert(plan, text);
            } else {
                // Recorded as absent, but still a duplicate if repeated.
                sections.insert(plan, String::new());
            }
        }
        Ok(())
    };
    let mut in_fence = false;
    for (index, line) in body.lines().enumerate() {
        let number = lines_before + index + 1;
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        let heading = (!in_fence)
            .then(|| line.strip_prefix("## "))
            .flatten()
            .or_else(|| (!in_fence && line.starts_with("# ")).then_some(""));
        match heading {
            Some(title) => {
                finish(current.take(), &mut sections)?;
                current =
                    Plan::from_heading(title.trim()).map(|plan| (plan, number, String::new()));
            }
            None => {
                if let Some((_, _, text)) = current.as_mut() {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    finish(current.take(), &mut sections)?;
    sections.retain(|_, text| !text.is_empty());
    Ok(sections)
}

/// Reads a JSON array of records; each element is judged on its own, so
/// one bad element is one broken record.
#[must_use]
pub fn parse_json(file: &Path, text: &str) -> Records {
    let mut records = Records::default();
    let fail = |line: Option<usize>, field: Option<String>, message: String| RecordError {
        file: file.to_owned(),
        line,
        field,
        message,
    };
    let elements: Vec<&serde_json::value::RawValue> = match serde_json::from_str(text) {
        Ok(elements) => elements,
        Err(error) => {
            records.broken.push(fail(
                Some(error.line()),
                None,
                format!("not a JSON array of change records: {error}"),
            ));
            return records;
        }
    };
    for (index, element) in elements.into_iter().enumerate() {
        let raw_text = element.get();
        // The element borrows from `text`: its offset gives its line.
        let offset = (raw_text.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
        let first_line = text[..offset.min(text.len())].matches('\n').count() + 1;
        let deserializer = &mut serde_json::Deserializer::from_str(raw_text);
        let parsed: Result<RawRecord, _> = serde_path_to_error::deserialize(deserializer);
        let origin = format!("{}[{index}]", file.display());
        let result = match parsed {
            Ok(raw) => raw
                .into_change(origin, BTreeMap::new())
                .map_err(|(field, message)| {
                    fail(
                        Some(first_line),
                        Some(format!("[{index}].{field}")),
                        message,
                    )
                }),
            Err(error) => {
                let path = error.path().to_string();
                let inner = error.into_inner();
                let message = without_position(inner.to_string());
                let field = if path == "." {
                    format!("[{index}]")
                } else {
                    format!("[{index}].{path}")
                };
                Err(fail(
                    Some(first_line + inner.line() - 1),
                    Some(field),
                    message,
                ))
            }
        };
        match result {
            Ok(change) => records.changes.push(change),
            Err(error) => records.broken.push(error),
        }
    }
    records
}

/// Reads `path`: a directory of `*.md` records and `*.json` exports (not
/// descending), or one such file. Unreadable files are broken records.
pub fn read_records(path: &Path) -> Result<Records, std::io::Error> {
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let file = entry.path();
            let wanted = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("json"));
            let name = entry.file_name();
            let hidden = name.to_string_lossy().starts_with('.');
            // README.md beside the records explains them; it is no record.
            let readme = name.eq_ignore_ascii_case("readme.md");
            if wanted && !hidden && !readme && file.is_file() {
                files.push(file);
            }
        }
        files.sort();
    } else {
        // A missing path is the user's mistake, said as such by the caller.
        std::fs::metadata(path)?;
        files.push(path.to_owned());
    }
    let mut records = Records::default();
    for file in files {
        let text = match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(error) => {
                    let bad = error.utf8_error().valid_up_to();
                    let line = String::from_utf8_lossy(&error.as_bytes()[..bad])
                        .lines()
                        .count()
                        .max(1)
                        + 1;
                    records.broken.push(RecordError {
                        file,
                        line: Some(line),
                        field: None,
                        message: "not UTF-8 text".into(),
                    });
                    continue;
                }
            },
            Err(error) => {
                records.broken.push(RecordError {
                    file,
                    line: None,
                    field: None,
                    message: format!("cannot be read: {error}"),
                });
                continue;
            }
        };
        let is_json = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            let more = parse_json(&file, &text);
            records.changes.extend(more.changes);
            records.broken.extend(more.broken);
        } else {
            match parse_markdown(&file, &text) {
                Ok(change) => records.changes.push(change),
                Err(error) => records.broken.push(error),
            }
        }
    }
    reject_duplicate_ids(&mut records);
    Ok(records)
}

/// Two records with one id: the later (by file name) is broken, since
/// approvals and downtime are keyed by id.
fn reject_duplicate_ids(records: &mut Records) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut kept = Vec::with_capacity(records.changes.len());
    for change in std::mem::take(&mut records.changes) {
        if let Some(first) = seen.get(&change.id) {
            records.broken.push(RecordError {
                file: PathBuf::from(&change.origin),
                line: None,
                field: Some("id".into()),
                message: format!("{} is also the id of {first}", change.id),
            });
        } else {
            seen.insert(change.id.clone(), change.origin.clone());
            kept.push(change);
        }
    }
    records.changes = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "---
id: CMB-42
summary: Upgrade nginx on the web tier
author: alice
hosts: [web01, \"web0*\"]
stakeholders: [web-team, support]
status: approved
approvals:
  - by: bob
    at: 2026-12-01T10:00:00Z
    digest: sha256:00
window:
  start: 2026-12-02 14:00 Europe/Berlin
  end: 2026-12-02 15:00 Europe/Berlin
freeze_exception: false
---
## Change plan
apt install nginx=1.26

## Test plan
TBD

## Roll-back plan
apt install nginx=1.24
systemctl restart nginx

## Risks
n/a
";

    fn md(text: &str) -> Result<Change, RecordError> {
        parse_markdown(Path::new("changes/cmb-42.md"), text)
    }

    #[test]
    fn a_full_record_reads_with_absent_sections_left_out() {
        let change = md(GOOD).unwrap();
        assert_eq!(change.id, "CMB-42");
        assert_eq!(change.status, Status::Approved);
        assert_eq!(change.hosts.len(), 2);
        assert_eq!(change.approvals[0].by, "bob");
        assert_eq!(
            change.plan(Plan::Rollback),
            Some("apt install nginx=1.24\nsystemctl restart nginx")
        );
        assert_eq!(change.plan(Plan::Test), None, "TBD is absent");
        assert_eq!(change.plan(Plan::Risks), None, "n/a is absent");
        assert_eq!(change.plan(Plan::RollbackVerification), None);
        assert_eq!(
            change.window.unwrap().start.timestamp.to_string(),
            "2026-12-02T13:00:00Z"
        );
        assert!(change.digest.starts_with("sha256:"));
    }

    #[test]
    fn only_id_and_summary_are_mandatory() {
        let change = md("---\nid: 7\nsummary: reboot\n---\n").unwrap();
        assert_eq!((change.id.as_str(), change.status), ("7", Status::Draft));
        let err = md("---\nid: CMB-1\n---\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "changes/cmb-42.md line 2: missing field `summary`"
        );
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let text = GOOD.replace("start: 2026-12-02 14:00", "start: 2026-03-29 02:30");
        let err = md(&text).unwrap_err();
        assert_eq!(err.line, Some(13), "{err}");
        assert_eq!(err.field.as_deref(), Some("window.start"), "{err}");
        assert!(
            err.message.contains("does not exist in Europe/Berlin"),
            "{err}"
        );

        let text = GOOD.replace("status: approved", "status: aproved");
        let err = md(&text).unwrap_err();
        assert_eq!(
            (err.line, err.field.as_deref()),
            (Some(7), Some("status")),
            "{err}"
        );
        assert!(err.message.contains("unknown variant `aproved`"), "{err}");

        let text = GOOD.replace("freeze_exception", "freeze_exeption");
        let err = md(&text).unwrap_err();
        assert_eq!(err.line, Some(15), "{err}");
        assert!(
            err.message.contains("unknown field `freeze_exeption`"),
            "{err}"
        );

        let text = GOOD.replace("end: 2026-12-02 15:00", "end: 2026-12-02 13:00");
        let err = md(&text).unwrap_err();
        assert_eq!(
            (err.line, err.field.as_deref()),
            (Some(14), Some("window.end")),
            "{err}"
        );

        let err = md("id: x\n").unwrap_err();
        assert_eq!(err.line, Some(1));
        let err = md("---\nid: x\nsummary: y\n").unwrap_err();
        assert!(err.message.contains("never ends"), "{err}");
    }

    #[test]
    fn lines_count_as_yaml_counts_them_whatever_the_line_ends() {
        let bad = "---\nid: a\nsummary: b\nstatus: nope\n---\n";
        for text in [
            bad.to_owned(),
            bad.replace('\n', "\r\n"),
            bad.replace('\n', "\r"),
        ] {
            let err = md(&text).unwrap_err();
            assert_eq!(
                (err.line, err.field.as_deref()),
                (Some(4), Some("status")),
                "{text:?}"
            );
        }
        // The fuzzer's find: lone CRs inside the front matter.
        let err = md("---\n\"&& 00\r\r\r [}\n---\nz ").unwrap_err();
        assert!(err.line.is_some_and(|line| line <= 6), "{err}");
    }

    #[test]
    fn a_repeated_section_is_an_error_at_its_line() {
        let err = md("---\nid: a\nsummary: b\n---\n## Risks\nfire\n## risks\nflood\n").unwrap_err();
        assert_eq!(err.line, Some(7), "{err}");
    }

    #[test]
    fn json_exports_judge_each_element_alone() {
        let text = r#"[
  {"id": "T-1", "summary": "one", "rollback_plan": "undo it"},
  {"id": "T-2",
   "summary": "two",
   "window": {"start": "2026-13-01 10:00 UTC", "end": "2026-12-01 11:00 UTC"}},
  {"id": "T-3", "summary": "three", "status": "in-progress"}
]"#;
        let records = parse_json(Path::new("export.json"), text);
        let ids: Vec<_> = records.changes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["T-1", "T-3"]);
        assert_eq!(records.changes[0].plan(Plan::Rollback), Some("undo it"));
        let err = &records.broken[0];
        assert_eq!(err.field.as_deref(), Some("[1].window.start"), "{err}");
        assert_eq!(err.line, Some(5), "{err}");
        let broken = parse_json(Path::new("export.json"), "{\"id\": 1}");
        assert_eq!(broken.broken.len(), 1);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::when::parse_time;

        proptest! {
            /// A record's window is exactly the two instants its texts
            /// name; a window that does not end after it starts, or a time
            /// that does not read, makes the record broken at that field,
            /// never a window of another length.
            #[test]
            fn windows_read_as_written(
                start_minutes in 0_i64..(2 * 366 * 24 * 60),
                length_minutes in -120_i64..(3 * 24 * 60),
                zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"]),
            ) {
                let base = jiff::civil::date(2026, 1, 1).at(0, 0, 0, 0);
                let start = base.checked_add(jiff::Span::new().minutes(start_minutes)).unwrap();
                let end = start.checked_add(jiff::Span::new().minutes(length_minutes)).unwrap();
                let start_text = format!("{} {zone}", start.strftime("%Y-%m-%d %H:%M"));
                let end_text = format!("{} {zone}", end.strftime("%Y-%m-%d %H:%M"));
                let text = format!("---\nid: P-1\nsummary: p\nwindow:\n  start: {start_text}\n  end: {end_text}\n---\n");
                let parsed = parse_markdown(Path::new("p.md"), &text);
                match (parse_time(&start_text), parse_time(&end_text)) {
                    (Ok(s), Ok(e)) if e.timestamp > s.timestamp => {
                        let window = parsed.unwrap().window.unwrap();
                        prop_assert_eq!(window.start.timestamp, s.timestamp);
                        prop_assert_eq!(window.end.timestamp, e.timestamp);
                    }
                    (Ok(_), Ok(_)) => {
                        let err = parsed.unwrap_err();
                        prop_assert_eq!(err.field.as_deref(), Some("window.end"));
                        prop_assert_eq!(err.line, Some(6));
                    }
                    (Err(_), _) => {
                        let err = parsed.unwrap_err();
                        prop_assert_eq!(err.field.as_deref(), Some("window.start"));
                        prop_assert_eq!(err.line, Some(5));
                    }
                    (Ok(_), Err(_)) => {
                        let err = parsed.unwrap_err();
                        prop_assert_eq!(err.field.as_deref(), Some("window.end"));
                        prop_assert_eq!(err.line, Some(6));
                    }
                }
            }

            /// No front matter and body make the record reader panic.
            #[test]
            fn no_text_panics(front in "[a-z_:\\[\\]{}\"' \n-]{0,80}", body in "(## [A-Za-z -]{0,12}\n[a-z \n]{0,20}){0,4}") {
                let _ = parse_markdown(Path::new("x.md"), &format!("---\n{front}\n---\n{body}"));
                let _ = parse_json(Path::new("x.json"), &front);
            }
        }
    }
}
