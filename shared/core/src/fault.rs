//! Whose fault a failure is, and so which state it earns: decided here, in
//! one place, for every plugin (plugin-contract.md, "Whose fault is it?").

use crate::state::State;

/// Who failed when a check could not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The thing being monitored did not answer (a TLS server under test):
    /// that is the finding, CRITICAL by default.
    Monitored,
    /// The source of the measurement did not answer (Graphite,
    /// Elasticsearch, a missing log): we cannot tell, UNKNOWN by default.
    Source,
    /// The user asked for something impossible: always UNKNOWN.
    Usage,
    /// A bug or an unexpected condition in the plugin: always UNKNOWN.
    Internal,
}

/// An error a check returns: its message is the sentence an on-call
/// engineer reads, and it says whose fault it is.
pub trait CheckError: std::error::Error {
    fn blame(&self) -> Blame;
}

/// The states failures map to, overridable from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultStates {
    pub monitored: State,
    pub source: State,
}

impl Default for FaultStates {
    fn default() -> Self {
        FaultStates {
            monitored: State::Critical,
            source: State::Unknown,
        }
    }
}

impl FaultStates {
    /// The same, with every unreachable party mapped to `state`, as
    /// `--unreachable-state` asks.
    #[must_use]
    pub fn unreachable_as(self, state: Option<State>) -> FaultStates {
        match state {
            Some(state) => FaultStates {
                monitored: state,
                source: state,
            },
            None => self,
        }
    }

    #[must_use]
    pub fn state_for(&self, blame: Blame) -> State {
        match blame {
            Blame::Monitored => self.monitored,
            Blame::Source => self.source,
            Blame::Usage | Blame::Internal => State::Unknown,
        }
    }
}

/// The error's message followed by each of its causes that adds something,
/// on one line: `Graphite did not answer: error sending request: connection refused`.
pub fn sentence(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let part = inner.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("Graphite at http://127.0.0.1:9 did not answer")]
    struct Down(#[source] std::io::Error);

    #[test]
    fn source_down_is_unknown_monitored_down_is_critical() {
        let states = FaultStates::default();
        assert_eq!(states.state_for(Blame::Source), State::Unknown);
        assert_eq!(states.state_for(Blame::Monitored), State::Critical);
        assert_eq!(states.state_for(Blame::Usage), State::Unknown);
        let overridden = states.unreachable_as(Some(State::Warning));
        assert_eq!(overridden.state_for(Blame::Source), State::Warning);
        assert_eq!(overridden.state_for(Blame::Internal), State::Unknown);
    }

    #[test]
    fn sentence_adds_causes_once() {
        let err = Down(std::io::Error::other("connection refused"));
        assert_eq!(
            sentence(&err),
            "Graphite at http://127.0.0.1:9 did not answer: connection refused"
        );
    }
}
