//! Host names and globs (`web0*`, `db[12]`) as change records list them.

use std::fmt;

/// A host name, or a glob over host names.
#[derive(Debug, Clone)]
pub struct HostPattern {
    text: String,
    glob: Option<glob::Pattern>,
}

impl PartialEq for HostPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl HostPattern {
    /// Reads a name or glob; a glob that cannot be read is an error naming it.
    pub fn new(text: &str) -> Result<HostPattern, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an empty host name".into());
        }
        let glob = if text.contains(['*', '?', '[']) {
            Some(glob::Pattern::new(text).map_err(|e| format!("bad host glob '{text}': {e}"))?)
        } else {
            None
        };
        Ok(HostPattern {
            text: text.to_owned(),
            glob,
        })
    }

    /// Whether `host` is this name or matches this glob; host names are
    /// compared without regard to case, as DNS does.
    #[must_use]
    pub fn matches(&self, host: &str) -> bool {
        match &self.glob {
            Some(glob) => glob.matches_with(
                host,
                glob::MatchOptions {
                    case_sensitive: false,
                    require_literal_separator: false,
                    require_literal_leading_dot: false,
                },
            ),
            None => self.text.eq_ignore_ascii_case(host),
        }
    }

    /// A plain name (not a glob): the only kind downtime can be set on
    /// without a list of hosts to expand against.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.glob.is_none().then_some(self.text.as_str())
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_globs() {
        let web = HostPattern::new("web0*").unwrap();
        assert!(web.matches("web01") && web.matches("WEB09") && !web.matches("web10"));
        assert_eq!(web.name(), None);
        let db = HostPattern::new("db[12]").unwrap();
        assert!(db.matches("db1") && !db.matches("db3"));
        let one = HostPattern::new("Web01").unwrap();
        assert!(one.matches("web01") && !one.matches("web011"));
        assert_eq!(one.name(), Some("Web01"));
        assert!(HostPattern::new("web[").is_err());
        assert!(HostPattern::new(" ").is_err());
    }
}
