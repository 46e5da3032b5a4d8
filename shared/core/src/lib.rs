//! The Nagios plugin contract as a small library every nightwatch plugin
//! uses: states, threshold ranges, perfdata, output rendering, and the
//! guard that turns bad arguments, timeouts, errors and panics into one
//! UNKNOWN line and an exit code of 0–3.
//!
//! The shape follows Python's nagiosplugin: a plugin measures, judges each
//! value against [`Thresholds`] into a [`Finding`], and a [`Report`] renders
//! the findings; [`guard::run`] wraps it all and hands the check its
//! [`Context`], whose [`Context::report`] is already labelled and within
//! the output budget.
//!
//! Shared by every plugin so none writes them again: [`duration`], the one
//! parser for durations in flags and config files; [`ThresholdArgs`] and
//! [`AgeThresholdArgs`], the `-w`/`-c` options on numbers and on ages; and
//! [`display`], how numbers, durations, times and labels read.

pub mod display;
pub mod duration;
pub mod fault;
pub mod file;
pub mod guard;
pub mod log;
pub mod output;
pub mod perfdata;
pub mod range;
pub mod state;
pub mod threshold;

pub use fault::{Blame, CheckError, FaultStates};
pub use guard::{CommonArgs, Context, PluginArgs};
pub use output::{Finding, Report};
pub use perfdata::{Perfdata, Uom};
pub use range::{Range, RangeError, format_number};
pub use state::State;
pub use threshold::{AgeThresholdArgs, DurationRange, Judgement, ThresholdArgs, Thresholds, Unit};
