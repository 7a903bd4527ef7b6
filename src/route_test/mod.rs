//! Route tests (docs/route-tests.md): cases of a request, a caller and the outcome it expects,
//! run through the trace engine against a render. `meshform test` runs them, `meshform check`
//! reports their failures as findings, and `meshform diff` shows the requests whose outcome a
//! change alters.

pub mod changes;
pub mod format;
pub mod run;

pub use format::{misplaced, Case, API_VERSION, GROUP, KIND};

use crate::diag::Diagnostic;
use crate::manifest::SourceText;

/// The cases of every file, in file order, or every problem of every file.
pub fn parse_all(files: &[SourceText]) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match format::parse(f) {
            Ok(c) => cases.extend(c),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        crate::diag::normalize(&mut errors);
        Err(errors)
    }
}
