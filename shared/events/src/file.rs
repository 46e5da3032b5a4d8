//! Events from log files: JSON lines or text lines, read newest first from
//! the end of the live file, then of each rotation (`auth.log`,
//! `auth.log.1`, `auth.log.2.gz`, …), stopping as soon as the answer is
//! known: the lookback's start is passed, the limit is reached, or every
//! group asked for (or the one group of an ungrouped source) is found.
//!
//! Lines are taken as they come. A malformed one (not JSON, no time, a
//! time that is none) is skipped and counted, never fatal. A last line
//! without its newline is being written: skipped and counted apart. A byte
//! order mark is dropped. A `.gz` rotation cannot be read from its end, so
//! it is decompressed whole (they are the older, rarely read files).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use regex::Regex;
use serde_json::{Map, Value};

use crate::time::{TimeContext, leading_time, time_of_value};
use crate::{
    Event, EventSource, Events, EventsError, NewestPerGroup, ReadStats, Tally, Window, field_of,
};

/// Bytes read from a file's end at a time.
const CHUNK: usize = 256 * 1024;

/// How lines become events.
#[derive(Debug, Clone)]
pub enum LineFormat {
    /// One JSON object a line.
    Json {
        /// The time: RFC 3339 text or an epoch number.
        time_field: String,
        /// The group, when grouping.
        group_field: Option<String>,
        /// The event's id, when the lines carry one.
        id_field: Option<String>,
        /// Only lines this matches (on the raw text) are read.
        filter: Option<Regex>,
    },
    /// Text lines this regex matches; its named groups `group`, `time` and
    /// `id` give those (without `time`, the time the line starts with).
    Text { regex: Regex },
}

impl LineFormat {
    /// Text lines matched by `pattern`.
    pub fn text(pattern: &str) -> Result<LineFormat, EventsError> {
        Ok(LineFormat::Text {
            regex: compile(pattern)?,
        })
    }

    /// Whether events have groups.
    #[must_use]
    pub fn groups(&self) -> bool {
        match self {
            LineFormat::Json { group_field, .. } => group_field.is_some(),
            LineFormat::Text { regex } => regex.capture_names().flatten().any(|n| n == "group"),
        }
    }
}

/// A regex for `--match`, refused with the reason when it is none.
pub fn compile(pattern: &str) -> Result<Regex, EventsError> {
    Regex::new(pattern)
        .map_err(|e| EventsError::Usage(format!("--match {pattern:?} is not a regex: {e}")))
}

/// One log file and its rotations.
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    format: LineFormat,
    zone: TimeZone,
    /// The reading instant, for syslog's missing year; `None`: the clock.
    now: Option<Timestamp>,
}

impl FileSource {
    /// `path` (its rotations found beside it), lines read as `format`,
    /// times without an offset in `zone`.
    #[must_use]
    pub fn new(path: PathBuf, format: LineFormat, zone: TimeZone) -> FileSource {
        FileSource {
            path,
            format,
            zone,
            now: None,
        }
    }

    /// Reads year-less syslog times as if now were `now`.
    #[must_use]
    pub fn reading_at(mut self, now: Timestamp) -> FileSource {
        self.now = Some(now);
        self
    }

    fn context(&self) -> TimeContext {
        TimeContext::new(self.now.unwrap_or_else(Timestamp::now), self.zone.clone())
    }

    /// One line (without its newline) as this source reads it, at
    /// `offset` in `file`: `Ok(None)` when the line is no event (no match,
    /// blank), `Err(why)` when it is malformed. For tests and fuzzing.
    pub fn parse_line(
        &self,
        line: &[u8],
        file: &Path,
        offset: u64,
    ) -> Result<Option<Event>, String> {
        match self.parse(line, file, offset, &self.context()) {
            Parsed::Event(event) => Ok(Some(*event)),
            Parsed::Skip => Ok(None),
            Parsed::Malformed(why) => Err(why),
        }
    }

    fn parse(&self, line: &[u8], file: &Path, offset: u64, context: &TimeContext) -> Parsed {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return Parsed::Skip;
        }
        let text = String::from_utf8_lossy(line);
        let fallback_id = || format!("{}:{offset}", file.display());
        match &self.format {
            LineFormat::Json {
                time_field,
                group_field,
                id_field,
                filter,
            } => {
                if filter.as_ref().is_some_and(|f| !f.is_match(&text)) {
                    return Parsed::Skip;
                }
                let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&text) else {
                    return Parsed::Malformed("not a JSON object".into());
                };
                let Some(time) = field_of(&fields, time_field) else {
                    return Parsed::Malformed(format!("no {time_field:?} field"));
                };
                let at = match time_of_value(time, context) {
                    Ok(at) => at,
                    Err(e) => return Parsed::Malformed(e.to_string()),
                };
                let text_of = |name: &Option<String>| {
                    name.as_deref()
                        .and_then(|n| field_of(&fields, n))
                        .and_then(value_text)
                };
                let group = text_of(group_field);
                if group_field.is_some() && group.is_none() {
                    return Parsed::Malformed(format!(
                        "no {:?} field to group by",
                        group_field.as_deref().unwrap_or_default()
                    ));
                }
                let id = text_of(id_field).or_else(|| Some(fallback_id()));
                Parsed::Event(Box::new(Event {
                    at,
                    group,
                    id,
                    fields,
                }))
            }
            LineFormat::Text { regex } => {
                let Some(captures) = regex.captures(&text) else {
                    return Parsed::Skip;
                };
                let at = match captures.name("time") {
                    Some(time) => match crate::time::parse_time(time.as_str(), context) {
                        Ok(at) => at,
                        Err(e) => return Parsed::Malformed(e.to_string()),
                    },
                    None => match leading_time(&text, context) {
                        Some((at, _)) => at,
                        None => {
                            return Parsed::Malformed(
                                "the line starts with no time (name one with (?P<time>…))".into(),
                            );
                        }
                    },
                };
                let mut fields = Map::new();
                for name in regex.capture_names().flatten() {
                    if let Some(m) = captures.name(name) {
                        fields.insert(name.to_owned(), Value::String(m.as_str().to_owned()));
                    }
                }
                fields.insert("message".into(), Value::String(text.clone().into_owned()));
                Parsed::Event(Box::new(Event {
                    at,
                    group: captures.name("group").map(|m| m.as_str().to_owned()),
                    id: Some(
                        captures
                            .name("id")
                            .map_or_else(fallback_id, |m| m.as_str().to_owned()),
                    ),
                    fields,
                }))
            }
        }
    }
}

fn malformed_note(file: &Path, offset: u64, why: &str) {
    nightwatch_core::log::debug!("{}:{offset}: skipped: {why}", file.display());
}

/// A JSON value as a group or id: strings as they are, numbers and
/// booleans printed.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    }
}

enum Parsed {
    Event(Box<Event>),
    Skip,
    Malformed(String),
}

/// `path` and its rotations, newest first: `path`, then `path.1`,
/// `path.1.gz`, `path.2.gz`, … by number. A missing `path` is an error
/// (right after a rotation the live file exists, empty).
pub fn rotated_files(path: &Path) -> Result<Vec<PathBuf>, EventsError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(EventsError::Usage(format!(
                "{} is a directory: give the log file with --path",
                path.display()
            )));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EventsError::NoFile {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(EventsError::Read {
                path: path.to_owned(),
                source,
            });
        }
    }
    let mut files = vec![path.to_owned()];
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Ok(files);
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut rotations: Vec<(u32, PathBuf)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(other) = file_name.to_str() else {
                continue;
            };
            let Some(rest) = other.strip_prefix(name).and_then(|r| r.strip_prefix('.')) else {
                continue;
            };
            let number = rest.strip_suffix(".gz").unwrap_or(rest);
            if let Ok(n) = number.parse::<u32>() {
                rotations.push((n, entry.path()));
            }
        }
    }
    rotations.sort();
    files.extend(rotations.into_iter().map(|(_, p)| p));
    Ok(files)
}

/// Calls `line(offset, bytes)` for each line of `path`, last first, until
/// it returns false; returns whether it never did. In the live file an
/// unterminated last line is skipped (still being written).
fn read_lines_backwards(
    path: &Path,
    stats: &mut ReadStats,
    is_live: bool,
    on_line: impl FnMut(u64, &[u8]) -> bool,
) -> Result<bool, EventsError> {
    read_lines_backwards_by(path, stats, is_live, CHUNK, on_line)
}

/// [`read_lines_backwards`], `chunk` bytes at a time.
fn read_lines_backwards_by(
    path: &Path,
    stats: &mut ReadStats,
    is_live: bool,
    chunk: usize,
    on_line: impl FnMut(u64, &[u8]) -> bool,
) -> Result<bool, EventsError> {
    let read_error = |source| EventsError::Read {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(read_error)?;
    let mut lines = Backwards::new(is_live, on_line);
    if path.extension().is_some_and(|e| e == "gz") {
        let mut compressed = Vec::new();
        file.read_to_end(&mut compressed).map_err(read_error)?;
        stats.bytes_read += compressed.len() as u64;
        let mut data = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[..])
            .read_to_end(&mut data)
            .map_err(read_error)?;
        let keep_going = lines.block(data, 0, true, stats);
        return Ok(keep_going && lines.finish(stats));
    }
    let mut pos = file.seek(SeekFrom::End(0)).map_err(read_error)?;
    let mut buffer = vec![0u8; chunk];
    let mut last = true;
    while pos > 0 {
        #[allow(clippy::cast_possible_truncation)] // at most chunk
        let size = pos.min(chunk as u64) as usize;
        pos -= size as u64;
        file.seek(SeekFrom::Start(pos)).map_err(read_error)?;
        file.read_exact(&mut buffer[..size]).map_err(read_error)?;
        stats.bytes_read += size as u64;
        if !lines.block(buffer[..size].to_vec(), pos, last, stats) {
            return Ok(false);
        }
        last = false;
    }
    Ok(lines.finish(stats))
}

/// Lines cut from blocks read from the end of a file towards its start.
struct Backwards<F> {
    /// The start of a line whose beginning is in a block not read yet.
    carry: Vec<u8>,
    /// The file's last line has no newline: skipped if it is the live file's.
    unterminated: bool,
    /// Whether the file had any byte.
    read_any: bool,
    is_live: bool,
    on_line: F,
}

impl<F: FnMut(u64, &[u8]) -> bool> Backwards<F> {
    fn new(is_live: bool, on_line: F) -> Self {
        Backwards {
            carry: Vec::new(),
            unterminated: false,
            read_any: false,
            is_live,
            on_line,
        }
    }

    fn emit(&mut self, offset: u64, line: &[u8], stats: &mut ReadStats) -> bool {
        stats.lines += 1;
        if std::mem::take(&mut self.unterminated) && self.is_live {
            stats.unterminated += 1;
            return true;
        }
        (self.on_line)(offset, line)
    }

    /// `bytes` from `offset`, just before what was read already; `last`:
    /// the file's end. Emits every line that starts in it after a newline.
    fn block(
        &mut self,
        mut bytes: Vec<u8>,
        offset: u64,
        last: bool,
        stats: &mut ReadStats,
    ) -> bool {
        self.read_any |= !bytes.is_empty();
        if last {
            // The newline ending the file ends its last line: no empty line after it.
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
            } else {
                self.unterminated = !bytes.is_empty();
            }
        }
        bytes.extend_from_slice(&self.carry);
        let mut end = bytes.len();
        while let Some(newline) = bytes[..end].iter().rposition(|&b| b == b'\n') {
            if !self.emit(offset + newline as u64 + 1, &bytes[newline + 1..end], stats) {
                return false;
            }
            end = newline;
        }
        bytes.truncate(end);
        self.carry = bytes;
        true
    }

    /// The file's first line, once its start is reached.
    fn finish(&mut self, stats: &mut ReadStats) -> bool {
        if !self.read_any {
            return true; // an empty file has no line
        }
        let first = std::mem::take(&mut self.carry);
        self.emit(0, &first, stats)
    }
}

impl FileSource {
    fn malformed(stats: &mut ReadStats, file: &Path, offset: u64, why: &str) {
        stats.malformed += 1;
        if stats.first_malformed.is_none() {
            stats.first_malformed = Some(format!("{}:{offset}: {why}", file.display()));
        }
    }

    /// Calls `visit` with each event, newest first, until it returns
    /// false; malformed lines are skipped and counted.
    pub fn scan(&self, mut visit: impl FnMut(Event) -> bool) -> Result<ReadStats, EventsError> {
        let context = self.context();
        let mut stats = ReadStats::default();
        let files = rotated_files(&self.path)?;
        for (index, file) in files.iter().enumerate() {
            stats.files.push(file.clone());
            let mut bad: Vec<(u64, String)> = Vec::new();
            let mut local = ReadStats::default();
            let keep_going = read_lines_backwards(file, &mut local, index == 0, |offset, line| {
                match self.parse(line, file, offset, &context) {
                    Parsed::Event(event) => visit(*event),
                    Parsed::Skip => true,
                    Parsed::Malformed(why) => {
                        malformed_note(file, offset, &why);
                        bad.push((offset, why));
                        true
                    }
                }
            })?;
            stats.bytes_read += local.bytes_read;
            stats.lines += local.lines;
            stats.unterminated += local.unterminated;
            for (offset, why) in bad {
                FileSource::malformed(&mut stats, file, offset, &why);
            }
            if !keep_going {
                break;
            }
        }
        Ok(stats)
    }
}

impl EventSource for FileSource {
    fn newest_per_group(
        &self,
        window: &Window,
        not_after: Timestamp,
        groups: Option<&[String]>,
    ) -> Result<NewestPerGroup, EventsError> {
        let grouped = self.format.groups();
        let mut tally = Tally::default();
        let stats = self.scan(|event| {
            if event.at < window.from {
                // Older than the lookback: logs are in time order, so
                // nothing before it is newer.
                return false;
            }
            if event.at > window.to {
                return true;
            }
            if let (Some(wanted), Some(group)) = (groups, &event.group)
                && !wanted.contains(group)
            {
                return true;
            }
            tally.add(event, not_after);
            match (grouped, groups) {
                (false, _) => !tally.has_newest(None),
                (true, Some(wanted)) => !wanted.iter().all(|g| tally.has_newest(Some(g))),
                (true, None) => true,
            }
        })?;
        Ok(NewestPerGroup {
            groups: tally.into_groups(),
            stats,
        })
    }

    fn events_in(
        &self,
        window: &Window,
        groups: Option<&[String]>,
        limit: usize,
    ) -> Result<Events, EventsError> {
        let mut events = Vec::new();
        let mut more = false;
        let stats = self.scan(|event| {
            if event.at < window.from {
                return false;
            }
            if event.at > window.to {
                return true;
            }
            if let Some(wanted) = groups
                && !event.group.as_ref().is_some_and(|g| wanted.contains(g))
            {
                return true;
            }
            if events.len() == limit {
                more = true;
                return false;
            }
            events.push(event);
            true
        })?;
        Ok(Events {
            events,
            more,
            stats,
        })
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const NOW: &str = "2026-11-24T12:00:00Z";

    fn window() -> Window {
        Window::new(at("2026-11-17T12:00:00Z"), at("2026-11-25T12:00:00Z"))
    }

    fn ansible(dir: &Path, name: &str, text: &str) -> FileSource {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        FileSource::new(
            path,
            LineFormat::text(r"Ansible playbook finished on (?P<group>\S+)").unwrap(),
            TimeZone::UTC,
        )
        .reading_at(at(NOW))
    }

    fn newest(answer: &NewestPerGroup) -> Vec<(String, Timestamp)> {
        answer
            .groups
            .iter()
            .map(|g| {
                (
                    g.group.clone().unwrap_or_default(),
                    g.newest.as_ref().unwrap().at,
                )
            })
            .collect()
    }

    #[test]
    fn the_newest_line_of_each_group_in_syslog_text() {
        let dir = tempfile::tempdir().unwrap();
        let source = ansible(
            dir.path(),
            "auth.log",
            "Nov 24 01:00:00 cm sudo: Ansible playbook finished on db01\n\
             Nov 24 02:00:00 cm sudo: session opened for user root\n\
             Nov 24 03:00:00 cm sudo: Ansible playbook finished on web01\n\
             Nov 24 04:00:00 cm sudo: Ansible playbook finished on db01\n",
        );
        let answer = source.newest_per_group(&window(), at(NOW), None).unwrap();
        assert_eq!(
            newest(&answer),
            [
                ("db01".into(), at("2026-11-24T04:00:00Z")),
                ("web01".into(), at("2026-11-24T03:00:00Z"))
            ]
        );
        assert_eq!(answer.groups[0].count, 2);
        assert_eq!(answer.stats.lines, 4);
        assert_eq!(answer.stats.malformed, 0);
    }

    #[test]
    fn rotations_newest_first_gz_included_and_stopping_when_known() {
        let dir = tempfile::tempdir().unwrap();
        let source = ansible(
            dir.path(),
            "auth.log",
            "Nov 24 05:00:00 cm sudo: unrelated\n",
        );
        std::fs::write(
            dir.path().join("auth.log.1"),
            "Nov 23 05:00:00 cm sudo: Ansible playbook finished on web01\n",
        )
        .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"Nov 20 05:00:00 cm sudo: Ansible playbook finished on db01\n")
            .unwrap();
        std::fs::write(dir.path().join("auth.log.2.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(
            dir.path().join("auth.log.10.gz"),
            b"not gzip at all".as_slice(),
        )
        .unwrap();
        let files = rotated_files(&dir.path().join("auth.log")).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            ["auth.log", "auth.log.1", "auth.log.2.gz", "auth.log.10.gz"]
        );
        // Both groups asked for are found before the broken .10.gz.
        let wanted = ["db01".to_owned(), "web01".to_owned()];
        let answer = source
            .newest_per_group(&window(), at(NOW), Some(&wanted))
            .unwrap();
        assert_eq!(
            newest(&answer),
            [
                ("db01".into(), at("2026-11-20T05:00:00Z")),
                ("web01".into(), at("2026-11-23T05:00:00Z"))
            ]
        );
        assert_eq!(answer.stats.files.len(), 3);
        // Without a closed set, the bad gzip is read and reported.
        let error = source
            .newest_per_group(&window(), at(NOW), None)
            .unwrap_err();
        assert!(error.to_string().contains("auth.log.10.gz"), "{error}");
    }

    #[test]
    fn malformed_truncated_and_bom_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(
            &path,
            "\u{feff}{\"@timestamp\":\"2026-11-24T01:00:00Z\",\"host\":\"db01\",\"id\":\"e1\"}\n\
             not json\n\
             {\"@timestamp\":\"yesterday\",\"host\":\"db01\"}\n\
             {\"@timestamp\":1795500000000,\"host\":\"web01\"}\n\
             {\"@timestamp\":\"2026-11-24T02:00:00Z\",\"host\":\"db0",
        )
        .unwrap();
        let source = FileSource::new(
            path,
            LineFormat::Json {
                time_field: "@timestamp".into(),
                group_field: Some("host".into()),
                id_field: Some("id".into()),
                filter: None,
            },
            TimeZone::UTC,
        )
        .reading_at(at(NOW));
        let answer = source.newest_per_group(&window(), at(NOW), None).unwrap();
        assert_eq!(
            newest(&answer),
            [
                ("db01".into(), at("2026-11-24T01:00:00Z")),
                (
                    "web01".into(),
                    Timestamp::from_millisecond(1_795_500_000_000).unwrap()
                )
            ]
        );
        assert_eq!(
            answer.groups[0].newest.as_ref().unwrap().id.as_deref(),
            Some("e1")
        );
        assert_eq!(answer.stats.malformed, 2);
        assert_eq!(answer.stats.unterminated, 1);
        let first = answer.stats.first_malformed.unwrap();
        assert!(first.contains("is not a time"), "{first}");
    }

    #[test]
    fn reads_only_the_end_of_a_big_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.log");
        let mut file = std::io::BufWriter::new(File::create(&path).unwrap());
        for i in 0..60_000 {
            writeln!(
                file,
                "Nov 24 00:{:02}:00 cm sshd[{i}]: Accepted publickey for deploy",
                i % 60
            )
            .unwrap();
        }
        writeln!(
            file,
            "Nov 24 10:00:00 cm sudo: Ansible playbook finished on db01"
        )
        .unwrap();
        drop(file);
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size > 3_000_000, "{size}");
        let source = FileSource::new(
            path,
            LineFormat::text(r"Ansible playbook finished on db01").unwrap(),
            TimeZone::UTC,
        )
        .reading_at(at(NOW));
        let answer = source.newest_per_group(&window(), at(NOW), None).unwrap();
        assert_eq!(
            answer.groups[0].newest.as_ref().unwrap().at,
            at("2026-11-24T10:00:00Z")
        );
        assert!(
            answer.stats.bytes_read <= CHUNK as u64,
            "{:?}",
            answer.stats
        );
    }

    #[test]
    fn lines_split_across_chunks_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut text = String::new();
        let mut expected = Vec::new();
        for i in 0..20_000 {
            let line = format!("2026-11-24T10:00:00Z job{} {}", i % 7, "x".repeat(i % 97));
            text.push_str(&line);
            text.push('\n');
            expected.push(line);
        }
        std::fs::write(&path, &text).unwrap();
        let source = FileSource::new(
            path,
            LineFormat::text(r"(?P<group>job\d)").unwrap(),
            TimeZone::UTC,
        )
        .reading_at(at(NOW));
        let mut seen = Vec::new();
        source
            .scan(|event| {
                seen.push(event.fields["message"].as_str().unwrap().to_owned());
                true
            })
            .unwrap();
        expected.reverse();
        assert_eq!(seen, expected);
    }

    #[test]
    fn events_in_a_window_newest_first_with_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let source = ansible(
            dir.path(),
            "auth.log",
            "Nov 16 01:00:00 cm sudo: Ansible playbook finished on web01\n\
             Nov 24 01:00:00 cm sudo: Ansible playbook finished on web01\n\
             Nov 24 02:00:00 cm sudo: Ansible playbook finished on db01\n\
             Nov 24 03:00:00 cm sudo: Ansible playbook finished on web01\n",
        );
        let web = ["web01".to_owned()];
        let found = source.events_in(&window(), Some(&web), 10).unwrap();
        let times: Vec<_> = found.events.iter().map(|e| e.at).collect();
        assert_eq!(
            times,
            [at("2026-11-24T03:00:00Z"), at("2026-11-24T01:00:00Z")]
        );
        assert!(!found.more);
        let one = source.events_in(&window(), None, 1).unwrap();
        assert_eq!(one.events.len(), 1);
        assert!(one.more);
        assert!(one.events[0].id.as_deref().unwrap().contains("auth.log:"));
    }

    #[test]
    fn missing_files_and_empty_ones() {
        let dir = tempfile::tempdir().unwrap();
        let missing = FileSource::new(
            dir.path().join("nope.log"),
            LineFormat::text("x").unwrap(),
            TimeZone::UTC,
        );
        let error = missing
            .newest_per_group(&window(), at(NOW), None)
            .unwrap_err();
        assert!(matches!(error, EventsError::NoFile { .. }), "{error}");
        assert_eq!(
            nightwatch_core::CheckError::blame(&error),
            nightwatch_core::Blame::Usage
        );
        let empty = ansible(dir.path(), "empty.log", "");
        assert!(
            empty
                .newest_per_group(&window(), at(NOW), None)
                .unwrap()
                .groups
                .is_empty()
        );
        assert!(LineFormat::text("(").is_err());
    }

    proptest::proptest! {
        /// Whatever the lines and the chunk size, reading from the end gives
        /// every line, last first, at its offset; only an unterminated last
        /// line is left out.
        #[test]
        fn backwards_is_forwards_reversed(
            lines in proptest::collection::vec("[a-z\\r\u{feff}é ]{0,40}", 0..60),
            terminated in proptest::bool::ANY,
            chunk in 1usize..64,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("log");
            let mut text = lines.join("\n");
            if terminated && !lines.is_empty() {
                text.push('\n');
            }
            std::fs::write(&path, &text).unwrap();
            let mut expected: Vec<(u64, Vec<u8>)> = Vec::new();
            let mut offset = 0u64;
            for (i, line) in lines.iter().enumerate() {
                let last = i + 1 == lines.len();
                if terminated || !last {
                    expected.push((offset, line.as_bytes().to_vec()));
                }
                offset += line.len() as u64 + 1;
            }
            expected.reverse();
            let mut seen = Vec::new();
            let mut stats = ReadStats::default();
            read_lines_backwards_by(&path, &mut stats, true, chunk, |offset, line| {
                seen.push((offset, line.to_vec()));
                true
            })
            .unwrap();
            proptest::prop_assert_eq!(seen, expected);
            proptest::prop_assert_eq!(stats.bytes_read, text.len() as u64);
        }
    }
}
