//! Diagnostics: what every stage reports, with the place to fix it.
//!
//! Modelled on cargo-deny's diagnostics: a stable code, a severity, a message,
//! the source location, the object and the field. Rendering to text, JSON, SARIF and GitHub
//! annotations lives in `report`.

pub mod codes;
pub mod suggest;

use crate::manifest::{Location, ObjectId};
pub use codes::Code;
use serde::Serialize;
use std::fmt;

/// How serious a finding is. Ordered from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks rendering (exit 1 for policy findings, 2 for input errors).
    Error,
    /// Shown, never blocks.
    Warning,
    /// Shown on request (policy `Audit`).
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One finding, pointing at a file, line and column where possible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// Stable kebab-case code from the registry ([`codes`]), or a policy's name.
    pub code: Code,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is.
    pub location: Option<Location>,
    /// Which object it concerns.
    pub object: Option<ObjectId>,
    /// Which field, as a path like `spec.ports[1].number`.
    pub field: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places involved (the other duplicate, say).
    pub related: Vec<(Location, String)>,
}

impl Diagnostic {
    /// An error with a code and message.
    pub fn error(code: impl Into<Code>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    /// A warning with a code and message.
    pub fn warning(code: impl Into<Code>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    /// A finding of any severity.
    pub fn new(severity: Severity, code: impl Into<Code>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code: code.into(),
            message: message.into(),
            location: None,
            object: None,
            field: None,
            help: None,
            related: Vec::new(),
        }
    }

    /// Sets the location.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets the object.
    pub fn on(mut self, object: ObjectId) -> Self {
        self.object = Some(object);
        self
    }

    /// Sets the field path.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a related location.
    pub fn related(mut self, location: Location, note: impl Into<String>) -> Self {
        self.related.push((location, note.into()));
        self
    }

    /// Sort key that makes output independent of discovery order.
    pub fn sort_key(&self) -> (Option<&Location>, Severity, &str, &str) {
        (
            self.location.as_ref(),
            self.severity,
            self.code.as_str(),
            &self.message,
        )
    }
}

impl fmt::Display for Diagnostic {
    /// One line: `file:line:col: error[code]: <object> field: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = &self.location {
            write!(f, "{l}: ")?;
        }
        write!(f, "{}[{}]: ", self.severity, self.code)?;
        if let Some(o) = &self.object {
            write!(f, "{o}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        for (loc, note) in &self.related {
            write!(f, " ({note} at {loc})")?;
        }
        Ok(())
    }
}

/// `n` and a noun in the number it needs: `count(1, "policy", "policies")` is `1 policy`,
/// `count(10, "policy", "policies")` is `10 policies`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Sorts and de-duplicates diagnostics so output is stable.
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup();
}

/// True if any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| d.severity == Severity::Error)
}
