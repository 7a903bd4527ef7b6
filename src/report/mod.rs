//! Reporting findings: text (rustc-style), JSON, SARIF, GitHub annotations, Markdown.

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;
