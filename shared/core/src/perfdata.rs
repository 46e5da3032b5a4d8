//! Performance data: `'label'=value[UOM];[warn];[crit];[min];[max]`.

use std::fmt;

use crate::display::quote_label;
use crate::range::{Range, format_number};
use crate::threshold::Unit;

/// The units of measure the Monitoring Plugins guidelines allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Uom {
    /// A plain number (temperatures, counts of things).
    #[default]
    None,
    Seconds,
    Milliseconds,
    Microseconds,
    Percent,
    Bytes,
    Kilobytes,
    Megabytes,
    Terabytes,
    /// A continuous counter (graphers derive a rate).
    Counter,
}

impl Uom {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Uom::None => "",
            Uom::Seconds => "s",
            Uom::Milliseconds => "ms",
            Uom::Microseconds => "us",
            Uom::Percent => "%",
            Uom::Bytes => "B",
            Uom::Kilobytes => "KB",
            Uom::Megabytes => "MB",
            Uom::Terabytes => "TB",
            Uom::Counter => "c",
        }
    }
}

/// One perfdata entry. Build it with [`Perfdata::new`] and the `with_*`
/// setters; `Display` writes it per the guidelines.
#[derive(Debug, Clone, PartialEq)]
pub struct Perfdata {
    label: String,
    value: Option<f64>,
    uom: Uom,
    warning: Option<Range>,
    critical: Option<Range>,
    min: Option<f64>,
    max: Option<f64>,
}

impl Perfdata {
    /// An entry; a `None`, NaN or infinite value is written `U` (unknown).
    #[must_use]
    pub fn new(label: impl Into<String>, value: Option<f64>) -> Perfdata {
        Perfdata {
            label: label.into(),
            value: value.filter(|v| v.is_finite()),
            uom: Uom::None,
            warning: None,
            critical: None,
            min: None,
            max: None,
        }
    }

    #[must_use]
    pub fn with_uom(mut self, uom: Uom) -> Perfdata {
        self.uom = uom;
        self
    }

    /// The thresholds' ranges; duration thresholds also make the value
    /// seconds (`s`), so an age's entry cannot lose its unit.
    #[must_use]
    pub fn with_thresholds(mut self, thresholds: &crate::Thresholds) -> Perfdata {
        self.warning = thresholds.warning();
        self.critical = thresholds.critical();
        if thresholds.unit() == Unit::Duration {
            self.uom = Uom::Seconds;
        }
        self
    }

    #[must_use]
    pub fn with_min(mut self, min: f64) -> Perfdata {
        self.min = Some(min).filter(|v| v.is_finite());
        self
    }

    #[must_use]
    pub fn with_max(mut self, max: f64) -> Perfdata {
        self.max = Some(max).filter(|v| v.is_finite());
        self
    }

    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    #[must_use]
    pub fn value(&self) -> Option<f64> {
        self.value
    }
}

/// A measured value as it is meant: a computed one such as a fitted slope
/// (`0.8999999999999985`, float noise in its last bits) is printed with
/// fourteen significant digits (`0.9`); a whole number, a counter of any
/// size, is printed exactly.
fn format_measured(value: f64) -> String {
    if value.fract() == 0.0 || !value.is_finite() {
        return format_number(value);
    }
    let rounded = format!("{value:.13e}").parse::<f64>().unwrap_or(value);
    format_number(rounded)
}

impl fmt::Display for Perfdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let optional = |v: Option<String>| v.unwrap_or_default();
        write!(
            f,
            "{}={}{}",
            quote_label(&self.label),
            self.value.map_or_else(|| "U".to_owned(), format_measured),
            if self.value.is_some() {
                self.uom.as_str()
            } else {
                ""
            }
        )?;
        let fields = [
            optional(self.warning.map(|r| r.to_string())),
            optional(self.critical.map(|r| r.to_string())),
            optional(self.min.map(format_number)),
            optional(self.max.map(format_number)),
        ];
        // Trailing empty fields are dropped: `ham=141.2;135;140`.
        let used = fields
            .iter()
            .rposition(|s| !s.is_empty())
            .map_or(0, |i| i + 1);
        for field in &fields[..used] {
            write!(f, ";{field}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Thresholds;
    use proptest::prelude::*;

    #[test]
    fn computed_values_read_as_meant_and_whole_values_stay_whole() {
        let slope = 0.899_999_999_999_998_5; // what the ham's fitted slope came out as
        assert_eq!(Perfdata::new("ham", Some(slope)).to_string(), "ham=0.9");
        assert_eq!(
            Perfdata::new("n", Some(123_456_789_012_345.0)).to_string(),
            "n=123456789012345"
        );
        assert_eq!(Perfdata::new("t", Some(141.2)).to_string(), "t=141.2");
        assert_eq!(Perfdata::new("z", Some(-0.0)).to_string(), "z=0");
    }

    #[test]
    fn writes_the_guidelines_format() {
        let t = Thresholds::new("135".parse().ok(), "140".parse().ok());
        let p = Perfdata::new("ham", Some(141.2)).with_thresholds(&t);
        assert_eq!(p.to_string(), "ham=141.2;135;140");
        let p = Perfdata::new("oven", Some(257.0))
            .with_thresholds(&Thresholds::new("320:".parse().ok(), "315:".parse().ok()))
            .with_min(-67.0)
            .with_max(257.0);
        assert_eq!(p.to_string(), "oven=257;320:;315:;-67;257");
        let p = Perfdata::new("time", Some(0.25))
            .with_uom(Uom::Seconds)
            .with_min(0.0);
        assert_eq!(p.to_string(), "time=0.25s;;;0");
        assert_eq!(
            Perfdata::new("ham", None)
                .with_uom(Uom::Percent)
                .to_string(),
            "ham=U"
        );
        assert_eq!(
            Perfdata::new("inf", Some(f64::INFINITY)).to_string(),
            "inf=U"
        );
    }

    /// Reads a label back the way the guidelines define it.
    fn unquote_label(entry: &str) -> (String, &str) {
        if let Some(rest) = entry.strip_prefix('\'') {
            let mut label = String::new();
            let mut chars = rest.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if rest[i + 1..].starts_with('\'') {
                        label.push('\'');
                        chars.next();
                    } else {
                        return (label, &rest[i + 1..]);
                    }
                } else {
                    label.push(c);
                }
            }
            panic!("unterminated quote in {entry}");
        }
        let (label, _) = entry.split_once('=').expect("an = after the label");
        (label.to_owned(), &entry[label.len()..])
    }

    proptest! {
        #[test]
        fn labels_survive_quoting(label in "[^|=\\p{Cc}]{1,30}", value in -1e9..1e9f64) {
            let entry = Perfdata::new(label.clone(), Some(value)).to_string();
            let (read_back, rest) = unquote_label(&entry);
            prop_assert_eq!(read_back, label);
            prop_assert!(rest.starts_with('='), "{}", entry);
            prop_assert!(!entry.contains('|'));
        }
    }
}
