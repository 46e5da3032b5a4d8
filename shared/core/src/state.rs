//! The four plugin states and the rule for combining them.

use std::fmt;

/// A plugin's verdict, with the exit code every engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl State {
    /// Every state, in exit-code order.
    pub const ALL: [State; 4] = [State::Ok, State::Warning, State::Critical, State::Unknown];

    /// The exit code of this state: 0, 1, 2 or 3, nothing else.
    #[must_use]
    pub const fn exit_code(self) -> i32 {
        match self {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }
    }

    /// The state an exit code stands for; anything outside 0..=3 is `None`.
    #[must_use]
    pub const fn from_exit_code(code: i32) -> Option<State> {
        match code {
            0 => Some(State::Ok),
            1 => Some(State::Warning),
            2 => Some(State::Critical),
            3 => Some(State::Unknown),
            _ => None,
        }
    }

    /// Severity for combining results: CRITICAL > WARNING > UNKNOWN > OK
    /// (the Monitoring Plugins' `max_state_alt`), so an UNKNOWN on one item
    /// never hides a CRITICAL on another.
    #[must_use]
    pub const fn severity(self) -> u8 {
        match self {
            State::Ok => 0,
            State::Unknown => 1,
            State::Warning => 2,
            State::Critical => 3,
        }
    }

    /// The worse of two states by [`State::severity`].
    #[must_use]
    pub const fn worst(self, other: State) -> State {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// The worst of many states; OK for none.
    pub fn worst_of(states: impl IntoIterator<Item = State>) -> State {
        states.into_iter().fold(State::Ok, State::worst)
    }

    /// The upper-case word engines and people read: `OK`, `WARNING`, ...
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `ok`, `warning`, `critical`, `unknown` (any case; also `0`..`3`),
/// for options such as `--timeout-state` and `--stale-state`.
impl std::str::FromStr for State {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "ok" | "0" => Ok(State::Ok),
            "warning" | "warn" | "1" => Ok(State::Warning),
            "critical" | "crit" | "2" => Ok(State::Critical),
            "unknown" | "3" => Ok(State::Unknown),
            _ => Err(format!(
                "'{text}' is not a state (expected ok, warning, critical or unknown)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::State::{Critical, Ok, Unknown, Warning};
    use super::*;

    #[test]
    fn exit_codes_are_the_nagios_ones() {
        assert_eq!(
            State::ALL.map(State::exit_code),
            [0, 1, 2, 3],
            "OK, WARNING, CRITICAL, UNKNOWN"
        );
        for state in State::ALL {
            assert_eq!(State::from_exit_code(state.exit_code()), Some(state));
        }
        assert_eq!(State::from_exit_code(101), None);
    }

    #[test]
    fn worst_orders_critical_warning_unknown_ok() {
        assert_eq!(Unknown.worst(Critical), Critical);
        assert_eq!(Unknown.worst(Warning), Warning);
        assert_eq!(Ok.worst(Unknown), Unknown);
        assert_eq!(Critical.worst(Warning), Critical);
        assert_eq!(State::worst_of([Ok, Unknown, Warning, Ok]), Warning);
        assert_eq!(State::worst_of([]), Ok);
    }

    #[test]
    fn parses_state_names() {
        assert_eq!(
            "CRITICAL".parse::<State>(),
            std::result::Result::Ok(Critical)
        );
        assert_eq!("unknown".parse::<State>(), std::result::Result::Ok(Unknown));
        assert!("bad".parse::<State>().unwrap_err().contains("'bad'"));
    }
}
