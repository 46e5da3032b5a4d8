//! The plugin contract, as the engines read a plugin's output.
//!
//! Three readers, each re-implemented from its source or spec:
//! - [`nagios_split`]: Nagios Core 4's `parse_check_output()` (base/checks.c):
//!   the first line up to its first `|` is the short output, the text after
//!   that `|` is perfdata; later lines are long output until a line with a
//!   `|`, after which everything is perfdata, lines joined by spaces.
//! - [`sensu_nagios_perfdata`]: Sensu Go's `output_metric_format:
//!   nagios_perfdata` extraction (agent/transformers/nagios.go): split the
//!   whole output on `|` (exactly two parts, or no metrics), split the rest
//!   on single spaces, keep `label=value` before the first `;`, strip every
//!   character of the value but `-`, digits and `.`.
//! - [`parse_perfdata`]: the Monitoring Plugins guidelines' grammar,
//!   `'label'=value[UOM];[warn];[crit];[min];[max]`.
//!
//! [`check_output`] and [`check_run`] put them together into the rules this
//! project's plugins promise (plugin-contract.md): exit 0–3, one first line
//! `LABEL STATE: summary` matching the exit code, at most one `|` and only
//! on the last line, valid perfdata, silent stderr.
//!
//! Two choices where the sources leave room: labels may not contain `=`
//! (the current guidelines forbid it and Sensu would drop the metric), and
//! the UOM is one of those the guidelines list: `s ms us % B KB MB TB c` or
//! none.

use std::collections::HashSet;
use std::fmt;

use nightwatch_core::State;

/// Nagios 4's `MAX_PLUGIN_OUTPUT_LENGTH`: a plugin's whole output must fit.
pub const MAX_PLUGIN_OUTPUT_LENGTH: usize = 8192;

/// The units the guidelines list (empty: a plain number of things).
pub const UNITS: [&str; 10] = ["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"];

/// A broken promise, with what a reviewer needs to see it.
#[derive(Debug, Clone, PartialEq)]
pub enum ContractViolation {
    KilledBySignal(i32),
    BadExitCode(i32),
    NotUtf8,
    Stderr(String),
    EmptyOutput,
    TooLong(usize),
    CarriageReturn,
    BadFirstLine { line: String, reason: String },
    StateMismatch { exit_code: i32, printed: State },
    TooManyPipes(usize),
    MisplacedPipe { line: usize, lines: usize },
    BadPerfdata { entry: String, reason: String },
    DuplicateLabel(String),
}

impl fmt::Display for ContractViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KilledBySignal(signal) => {
                write!(f, "killed by signal {signal} (engines page on that)")
            }
            Self::BadExitCode(code) => write!(
                f,
                "exit code {code} is not 0-3 (Nagios makes it CRITICAL and pages)"
            ),
            Self::NotUtf8 => f.write_str("stdout is not UTF-8"),
            Self::Stderr(text) => write!(
                f,
                "stderr is not empty (Sensu mixes it into the output): {text:?}"
            ),
            Self::EmptyOutput => f.write_str("stdout is empty"),
            Self::TooLong(bytes) => write!(
                f,
                "{bytes} bytes of output; Nagios keeps {MAX_PLUGIN_OUTPUT_LENGTH}"
            ),
            Self::CarriageReturn => f.write_str("output contains \\r"),
            Self::BadFirstLine { line, reason } => write!(f, "first line {line:?}: {reason}"),
            Self::StateMismatch { exit_code, printed } => {
                write!(
                    f,
                    "first line says {printed} but the exit code {exit_code} means {}",
                    exit_state(*exit_code)
                )
            }
            Self::TooManyPipes(count) => write!(
                f,
                "{count} '|' in the output; Sensu needs exactly one (or none)"
            ),
            Self::MisplacedPipe { line, lines } => write!(
                f,
                "'|' on line {line} of {lines}: perfdata goes on the last line (or the first when there is no long text)"
            ),
            Self::BadPerfdata { entry, reason } => write!(f, "perfdata {entry:?}: {reason}"),
            Self::DuplicateLabel(label) => write!(f, "perfdata label {label:?} appears twice"),
        }
    }
}

impl std::error::Error for ContractViolation {}

fn exit_state(code: i32) -> String {
    State::from_exit_code(code).map_or_else(|| "nothing".to_owned(), |state| state.to_string())
}

/// What Nagios 4 stores of a plugin's output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NagiosOutput {
    /// `$SERVICEOUTPUT$`: the first line up to its first `|`, trimmed.
    pub short: String,
    /// `$LONGSERVICEOUTPUT$`, newlines kept (status.dat escapes them).
    pub long: String,
    /// `$SERVICEPERFDATA$`, trimmed.
    pub perf: String,
}

/// Splits raw output the way Nagios 4's `parse_check_output()` does.
#[must_use]
pub fn nagios_split(output: &str) -> NagiosOutput {
    let mut result = NagiosOutput::default();
    let mut perf = String::new();
    let mut in_perf = false;
    // Nagios stops at the last newline: a trailing "\n" adds no line.
    let body = output.strip_suffix('\n').unwrap_or(output);
    if body.is_empty() {
        return result;
    }
    for (index, line) in body.split('\n').enumerate() {
        if index == 0 {
            let (short, rest) = line
                .split_once('|')
                .map_or((line, None), |(s, r)| (s, Some(r)));
            c_strip(short).clone_into(&mut result.short);
            if let Some(rest) = rest.filter(|rest| !rest.is_empty()) {
                perf.push_str(rest);
            }
        } else if in_perf {
            if !perf.is_empty() {
                perf.push(' ');
            }
            perf.push_str(line);
        } else if let Some((text, rest)) = line.split_once('|') {
            in_perf = true;
            if index > 1 {
                result.long.push('\n');
            }
            result.long.push_str(text);
            if !rest.is_empty() {
                if !perf.is_empty() {
                    perf.push(' ');
                }
                perf.push_str(rest);
            }
        } else {
            if index > 1 {
                result.long.push('\n');
            }
            result.long.push_str(line);
        }
    }
    c_strip(&perf).clone_into(&mut result.perf);
    result
}

/// C `isspace()` trimming, as Nagios' `strip()` does it.
fn c_strip(text: &str) -> &str {
    text.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'))
}

/// One metric as Sensu Go's `nagios_perfdata` extracts it.
#[derive(Debug, Clone, PartialEq)]
pub struct SensuMetric {
    pub name: String,
    pub value: f64,
}

/// The metrics Sensu Go would extract from `output`; entries it would log
/// as invalid are left out, as Sensu does.
#[must_use]
pub fn sensu_nagios_perfdata(output: &str) -> Vec<SensuMetric> {
    let parts: Vec<&str> = output.split('|').collect();
    if parts.len() != 2 {
        return Vec::new();
    }
    parts[1]
        .trim()
        .split(' ')
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .filter_map(|token| {
            let before_semicolon = token.split(';').next().unwrap_or_default();
            let pair: Vec<&str> = before_semicolon.split('=').collect();
            let [label, value] = pair.as_slice() else {
                return None;
            };
            let digits: String = value
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '-' || *c == '.')
                .collect();
            // Go's ParseFloat fails (and Sensu skips the metric) where Rust
            // would give infinity: a value too large for an f64.
            let value = digits.parse::<f64>().ok().filter(|v| v.is_finite())?;
            Some(SensuMetric {
                name: label.replace(' ', "_"),
                value,
            })
        })
        .collect()
}

/// One perfdata entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfEntry {
    /// The label, unquoted, `''` turned back into `'`.
    pub label: String,
    /// `None` for `U` (the value could not be determined).
    pub value: Option<f64>,
    pub uom: String,
    /// The warning range as written (`None` when empty).
    pub warn: Option<String>,
    pub crit: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The entry as it appeared in the output.
    pub raw: String,
}

/// Parses a perfdata string (what follows the `|`) by the guidelines'
/// grammar, rejecting anything a strict reader could misread.
pub fn parse_perfdata(perf: &str) -> Result<Vec<PerfEntry>, ContractViolation> {
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    let mut rest = perf.trim_start_matches(' ');
    while !rest.is_empty() {
        let (entry, after) = parse_entry(rest)?;
        if !seen.insert(entry.label.clone()) {
            return Err(ContractViolation::DuplicateLabel(entry.label));
        }
        entries.push(entry);
        rest = after.trim_start_matches(' ');
    }
    Ok(entries)
}

/// One entry from the start of `text`; returns it and the text after it.
fn parse_entry(text: &str) -> Result<(PerfEntry, &str), ContractViolation> {
    let raw_end = raw_entry_end(text);
    let bad = |reason: &str| ContractViolation::BadPerfdata {
        entry: text[..raw_end].to_owned(),
        reason: reason.to_owned(),
    };
    let (label, after_label) = if let Some(quoted) = text.strip_prefix('\'') {
        let mut label = String::new();
        let mut chars = quoted.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(bad("unterminated quoted label")),
                Some((i, '\'')) => {
                    if quoted[i + 1..].starts_with('\'') {
                        label.push('\'');
                        chars.next();
                    } else {
                        break i + 1;
                    }
                }
                Some((_, c)) => label.push(c),
            }
        };
        let after = quoted[end..]
            .strip_prefix('=')
            .ok_or_else(|| bad("no '=' right after the quoted label"))?;
        (label, after)
    } else {
        let eq = text
            .find('=')
            .filter(|&eq| eq < raw_end)
            .ok_or_else(|| bad("no '='"))?;
        let label = &text[..eq];
        if label.contains('\'') {
            return Err(bad("a label with ' must be quoted, with '' for the quote"));
        }
        (label.to_owned(), &text[eq + 1..])
    };
    if label.is_empty() {
        return Err(bad("empty label"));
    }
    if label.contains('=') {
        return Err(bad(
            "labels must not contain '=' (guidelines; Sensu drops the metric)",
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(bad("control character in the label"));
    }
    let data_end = after_label.find(' ').unwrap_or(after_label.len());
    let (data, after) = after_label.split_at(data_end);
    let fields: Vec<&str> = data.split(';').collect();
    if fields.len() > 5 {
        return Err(bad("more than value;warn;crit;min;max"));
    }
    let (value, uom) = if fields[0] == "U" {
        (None, String::new())
    } else {
        let number_end = fields[0]
            .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '.'))
            .unwrap_or(fields[0].len());
        let (number, uom) = fields[0].split_at(number_end);
        let value = parse_number(number).ok_or_else(|| {
            bad(&format!(
                "value {number:?} is not a number of [-0-9.] (or U)"
            ))
        })?;
        if !UNITS.contains(&uom) {
            return Err(bad(&format!(
                "unit {uom:?} is not one of {}",
                UNITS[1..].join(" ")
            )));
        }
        (Some(value), uom.to_owned())
    };
    let field = |i: usize| fields.get(i).copied().filter(|f| !f.is_empty());
    for (i, name) in [(1, "warn"), (2, "crit")] {
        if let Some(range) = field(i) {
            check_range(range)
                .map_err(|reason| bad(&format!("{name} range {range:?}: {reason}")))?;
        }
    }
    let bound = |i: usize, name: &str| -> Result<Option<f64>, ContractViolation> {
        field(i)
            .map(|f| {
                parse_number(f).ok_or_else(|| bad(&format!("{name} {f:?} is not a plain number")))
            })
            .transpose()
    };
    let entry = PerfEntry {
        label,
        value,
        uom,
        warn: field(1).map(str::to_owned),
        crit: field(2).map(str::to_owned),
        min: bound(3, "min")?,
        max: bound(4, "max")?,
        raw: text[..raw_end].to_owned(),
    };
    Ok((entry, after))
}

/// Where the entry starting `text` ends: the first space outside quotes.
fn raw_entry_end(text: &str) -> usize {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => return i,
            _ => {}
        }
    }
    text.len()
}

/// A number as the guidelines allow in perfdata: `-?(digits[.digits]|.digits)`,
/// no `+`, no exponent.
fn parse_number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let well_formed = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
    well_formed.then(|| text.parse().ok()).flatten()
}

/// Checks a threshold range `[@][start:][end]` (`~` for minus infinity as
/// the start; a missing start is 0, a missing end +infinity).
pub fn check_range(range: &str) -> Result<(), String> {
    let body = range.strip_prefix('@').unwrap_or(range);
    if body.is_empty() {
        return Err("empty range".into());
    }
    let (start, end) = match body.split_once(':') {
        Some((start, end)) => {
            if start.is_empty() && end.is_empty() {
                return Err("neither start nor end".into());
            }
            let start = match start {
                "~" => f64::NEG_INFINITY,
                "" => 0.0,
                number => parse_number(number)
                    .ok_or_else(|| format!("start {number:?} is not a number"))?,
            };
            let end = match end {
                "" => f64::INFINITY,
                number => {
                    parse_number(number).ok_or_else(|| format!("end {number:?} is not a number"))?
                }
            };
            (start, end)
        }
        None => (
            0.0,
            parse_number(body).ok_or_else(|| format!("{body:?} is not a number"))?,
        ),
    };
    if start > end {
        return Err(format!("start {start} is above end {end}"));
    }
    Ok(())
}

/// A plugin's output, checked and taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedOutput {
    /// `LABEL` of `LABEL STATE: summary`.
    pub label: String,
    /// `STATE` as printed.
    pub state: State,
    pub summary: String,
    /// Nagios' short output: the first line without its perfdata.
    pub first_line: String,
    pub long_text: String,
    /// Nagios' perfdata string.
    pub perfdata_raw: String,
    pub perfdata: Vec<PerfEntry>,
}

/// Checks everything about `stdout` that does not need the exit code.
pub fn check_output(stdout: &str) -> Result<ParsedOutput, ContractViolation> {
    if stdout.trim().is_empty() {
        return Err(ContractViolation::EmptyOutput);
    }
    if stdout.len() > MAX_PLUGIN_OUTPUT_LENGTH {
        return Err(ContractViolation::TooLong(stdout.len()));
    }
    if stdout.contains('\r') {
        return Err(ContractViolation::CarriageReturn);
    }
    let lines: Vec<&str> = stdout
        .strip_suffix('\n')
        .unwrap_or(stdout)
        .split('\n')
        .collect();
    let pipes = stdout.matches('|').count();
    if pipes > 1 {
        return Err(ContractViolation::TooManyPipes(pipes));
    }
    if let Some(index) = lines.iter().position(|line| line.contains('|'))
        && index + 1 != lines.len()
    {
        return Err(ContractViolation::MisplacedPipe {
            line: index + 1,
            lines: lines.len(),
        });
    }
    let nagios = nagios_split(stdout);
    let (label, state, summary) = parse_first_line(lines[0], &nagios.short)?;
    let perfdata = parse_perfdata(&nagios.perf)?;
    Ok(ParsedOutput {
        label,
        state,
        summary,
        first_line: nagios.short,
        long_text: nagios.long,
        perfdata_raw: nagios.perf,
        perfdata,
    })
}

/// `LABEL STATE: summary`, where LABEL is one or more words without `:`.
fn parse_first_line(line: &str, short: &str) -> Result<(String, State, String), ContractViolation> {
    let bad = |reason: &str| ContractViolation::BadFirstLine {
        line: line.to_owned(),
        reason: reason.to_owned(),
    };
    if line.starts_with(char::is_whitespace) {
        return Err(bad("starts with whitespace"));
    }
    let (head, summary) = short
        .split_once(": ")
        .ok_or_else(|| bad("not `LABEL STATE: summary` (no \": \")"))?;
    let (label, state_word) = head
        .rsplit_once(' ')
        .ok_or_else(|| bad("no LABEL before the state"))?;
    let state = State::ALL
        .into_iter()
        .find(|state| state.as_str() == state_word)
        .ok_or_else(|| {
            bad(&format!(
                "{state_word:?} is not OK, WARNING, CRITICAL or UNKNOWN"
            ))
        })?;
    if label.trim().is_empty() || label != label.trim() {
        return Err(bad("empty or padded LABEL"));
    }
    if summary.trim().is_empty() {
        return Err(bad("empty summary"));
    }
    Ok((label.to_owned(), state, summary.trim().to_owned()))
}

/// Checks a finished plugin run: how it exited, its stderr (unless the test
/// opted in to stderr), then [`check_output`] and that the printed state is
/// the exit code's.
pub fn check_run(
    exit_code: Option<i32>,
    signal: Option<i32>,
    stdout: &[u8],
    stderr: &[u8],
    stderr_allowed: bool,
) -> Result<ParsedOutput, ContractViolation> {
    if let Some(signal) = signal {
        return Err(ContractViolation::KilledBySignal(signal));
    }
    let code = exit_code.unwrap_or(-1);
    let exit_state = State::from_exit_code(code).ok_or(ContractViolation::BadExitCode(code))?;
    if !stderr_allowed && !stderr.is_empty() {
        return Err(ContractViolation::Stderr(
            String::from_utf8_lossy(stderr).into_owned(),
        ));
    }
    let stdout = std::str::from_utf8(stdout).map_err(|_| ContractViolation::NotUtf8)?;
    let parsed = check_output(stdout)?;
    if parsed.state != exit_state {
        return Err(ContractViolation::StateMismatch {
            exit_code: code,
            printed: parsed.state,
        });
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(stdout: &str) -> ContractViolation {
        check_output(stdout).expect_err(&format!("{stdout:?} must be rejected"))
    }

    #[test]
    fn nagios_splits_first_line_perfdata() {
        let out = nagios_split("HAM OK: ham 14.2 | ham=14.2;135;140\n");
        assert_eq!(out.short, "HAM OK: ham 14.2");
        assert_eq!(out.long, "");
        assert_eq!(out.perf, "ham=14.2;135;140");
    }

    #[test]
    fn nagios_joins_perfdata_from_the_first_line_and_after_the_long_text() {
        let out = nagios_split("X OK: a | one=1\nlong 1\nlong 2 | two=2\nthree=3\n");
        assert_eq!(out.short, "X OK: a");
        assert_eq!(out.long, "long 1\nlong 2 ");
        // Nagios joins the parts untrimmed: the double space is real.
        assert_eq!(out.perf, "one=1  two=2 three=3");
    }

    #[test]
    fn nagios_keeps_later_pipes_of_the_first_line_in_perfdata() {
        assert_eq!(nagios_split("a|b|c").perf, "b|c");
        assert_eq!(nagios_split("|x=1").short, "");
        assert_eq!(nagios_split("\nlong").short, "");
        assert_eq!(nagios_split("\nlong").long, "long");
        assert_eq!(nagios_split("a\n\nb").long, "\nb");
    }

    #[test]
    fn sensu_extracts_like_sensu_go() {
        let names = |output: &str| -> Vec<(String, f64)> {
            sensu_nagios_perfdata(output)
                .into_iter()
                .map(|m| (m.name, m.value))
                .collect()
        };
        assert!(names("PING ok - Packet loss = 0%, RTA = 0.80 ms").is_empty());
        assert_eq!(
            names("PING ok | percent_packet_loss=0\n"),
            vec![("percent_packet_loss".into(), 0.0)]
        );
        // The comma is stripped from the value, as Sensu does.
        assert_eq!(
            names("PING ok | percent_packet_loss=0, rta=0.80ms;1;2"),
            vec![("percent_packet_loss".into(), 0.0), ("rta".into(), 0.8)]
        );
        assert_eq!(names("x | a=1 foo b=a"), vec![("a".into(), 1.0)]);
        assert!(
            names("x | a=1 | b=2").is_empty(),
            "two pipes: no metrics at all"
        );
        assert_eq!(
            names("CRITICAL - load | load1=0.010;0.010;0.010;0; load5=0.040;0.010;0.010;0; \n"),
            vec![("load1".into(), 0.01), ("load5".into(), 0.04)]
        );
        // A quoted label with a space is cut at the space.
        assert_eq!(names("x | 'ham temp'=141.2"), vec![("temp'".into(), 141.2)]);
        assert!(names(&format!("x | big={}", "9".repeat(400))).is_empty());
    }

    #[test]
    fn perfdata_grammar_accepts_the_guidelines_forms() {
        let entries = parse_perfdata(
            "ham=141.2;135;140;0;500 'oven temp'=318.5;320:;315: 'it''s'=U load=0.5;;;; pct=5%",
        )
        .unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(entries[0].label, "ham");
        assert_eq!(entries[0].value, Some(141.2));
        assert_eq!(entries[0].warn.as_deref(), Some("135"));
        assert_eq!(entries[0].crit.as_deref(), Some("140"));
        assert_eq!((entries[0].min, entries[0].max), (Some(0.0), Some(500.0)));
        assert_eq!(entries[1].label, "oven temp");
        assert_eq!(entries[1].raw, "'oven temp'=318.5;320:;315:");
        assert_eq!(entries[2].label, "it's");
        assert_eq!(entries[2].value, None);
        assert_eq!(entries[3].warn, None);
        assert_eq!(entries[4].uom, "%");
        for good in [
            "a=-1.5s",
            "a=.5ms",
            "a=3us",
            "a=1B",
            "a=2KB",
            "a=3MB",
            "a=4TB",
            "a=5c",
            "a=1;@10:20;~:5",
            "a=1;-5.5:0;:5.75",
            "a=1;10:",
        ] {
            parse_perfdata(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        assert_eq!(parse_perfdata("").unwrap(), vec![]);
    }

    #[test]
    fn perfdata_grammar_rejects_what_readers_misread() {
        for bad in [
            "a",             // no value
            "=1",            // no label
            "a=",            // empty value
            "a=1,5",         // decimal comma
            "a=1e5",         // exponent
            "a=+1",          // sign
            "a=1 GB",        // space before unit
            "a=1GB",         // unit not in the list
            "a=1F",          // unit not in the list
            "a=1;2;3;4;5;6", // too many fields
            "a=1;x",         // bad warn range
            "a=1;20:10",     // start above end
            "a=1;@",         // bare @
            "a=1;;;zero",    // bad min
            "a=1;;;;1e3",    // bad max
            "'a=1",          // unterminated quote
            "'a'1",          // nothing after the quoted label
            "'a=b'=1",       // '=' in a label
            "it's=1",        // unquoted quote
            "a=1 a=2",       // duplicate label
        ] {
            assert!(parse_perfdata(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn ranges_follow_the_threshold_syntax() {
        for good in [
            "10",
            "10:",
            "~:10",
            "10:20",
            "@10:20",
            "-5.5:0",
            ":5.75",
            "@1:1",
            "~:-95.99",
            "12345678901234567890:",
        ] {
            assert_eq!(check_range(good), Ok(()), "{good}");
        }
        for bad in ["", "@", ":", "20:10", "1e3", "inf", "NaN", "10:x", "~"] {
            assert!(check_range(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn accepts_the_documented_layouts() {
        let one = check_output("HAM OK: ham 14.2 | ham=14.2;135;140\n").unwrap();
        assert_eq!(
            (one.label.as_str(), one.state, one.summary.as_str()),
            ("HAM", State::Ok, "ham 14.2")
        );
        assert_eq!(one.first_line, "HAM OK: ham 14.2");
        let long = check_output("GRAPHITE CRITICAL: ham 141.2 > 140\nham 141.2 > 140\noven 318\n| ham=141.2;135;140 oven=318\n").unwrap();
        assert_eq!(long.state, State::Critical);
        assert_eq!(long.long_text, "ham 141.2 > 140\noven 318\n");
        assert_eq!(long.perfdata.len(), 2);
        let bare = check_output("GRAPHITE UNKNOWN: no data for ham").unwrap();
        assert!(bare.perfdata.is_empty());
        assert_eq!(bare.label, "GRAPHITE");
        let words = check_output("SSL CERT WARNING: expires in 3 days").unwrap();
        assert_eq!(words.label, "SSL CERT");
    }

    #[test]
    fn rejects_broken_layouts() {
        assert_eq!(violation(""), ContractViolation::EmptyOutput);
        assert_eq!(violation(" \n"), ContractViolation::EmptyOutput);
        assert!(matches!(
            violation("OK: no label"),
            ContractViolation::BadFirstLine { .. }
        ));
        assert!(matches!(
            violation("HAM FINE: x"),
            ContractViolation::BadFirstLine { .. }
        ));
        assert!(matches!(
            violation("HAM OK:"),
            ContractViolation::BadFirstLine { .. }
        ));
        assert!(matches!(
            violation(" HAM OK: x"),
            ContractViolation::BadFirstLine { .. }
        ));
        assert!(matches!(
            violation("HAM ok: x"),
            ContractViolation::BadFirstLine { .. }
        ));
        assert_eq!(
            violation("HAM OK: a | x=1 | y=2"),
            ContractViolation::TooManyPipes(2)
        );
        assert_eq!(
            violation("HAM OK: a | x=1\nlong text\n"),
            ContractViolation::MisplacedPipe { line: 1, lines: 2 }
        );
        assert!(matches!(
            violation("HAM OK: a\r\n"),
            ContractViolation::CarriageReturn
        ));
        assert!(matches!(
            violation("HAM OK: a | x=1,5"),
            ContractViolation::BadPerfdata { .. }
        ));
        let long = format!("HAM OK: a\n{}", "x".repeat(MAX_PLUGIN_OUTPUT_LENGTH));
        assert!(matches!(violation(&long), ContractViolation::TooLong(_)));
    }

    #[test]
    fn runs_must_exit_0_to_3_with_a_matching_state_and_quiet_stderr() {
        let ok = b"HAM OK: fine\n";
        assert!(check_run(Some(0), None, ok, b"", false).is_ok());
        assert_eq!(
            check_run(Some(101), None, ok, b"", false),
            Err(ContractViolation::BadExitCode(101))
        );
        assert_eq!(
            check_run(None, Some(9), ok, b"", false),
            Err(ContractViolation::KilledBySignal(9))
        );
        assert_eq!(
            check_run(Some(2), None, ok, b"", false),
            Err(ContractViolation::StateMismatch {
                exit_code: 2,
                printed: State::Ok
            })
        );
        assert!(matches!(
            check_run(Some(0), None, ok, b"debug\n", false),
            Err(ContractViolation::Stderr(_))
        ));
        assert!(check_run(Some(0), None, ok, b"debug\n", true).is_ok());
        assert_eq!(
            check_run(Some(0), None, b"HAM OK: \xff", b"", false),
            Err(ContractViolation::NotUtf8)
        );
    }
}
