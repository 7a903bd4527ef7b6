//! Reporting findings: text (rustc-style), JSON, SARIF, GitHub annotations, Markdown.

pub mod markdown;
pub mod text;
