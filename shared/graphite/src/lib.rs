//! Graphite for nightwatch: the render API client the check plugins read
//! series with, and the carbon plaintext lines that feed it.

pub mod client;
pub mod render;
pub mod time;

pub use client::{Graphite, GraphiteError, RenderQuery, RenderReply, error_message};
pub use render::{RenderParseError, Series, parse_render};
pub use time::{TimeSyntaxError, check_time};
