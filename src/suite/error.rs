//! Errors of loading a suite file: each names `file:line:column`, says what
//! is wrong, and usually how to fix it.
//!
//! A [`SuiteError`] holds **every** problem found in the file, not just the
//! first (TOML syntax errors excepted: after one, nothing else is checked),
//! sorted by position. Its `Display` is one line, the first problem
//! (`suites/a.toml:7:12: unknown key `expct` in a step; did you mean
//! `expect`?`), followed by ` (and N more errors)` when there are more;
//! [`SuiteError::lines`] gives each problem as such a line, and
//! [`SuiteError::render`] the codespan-reporting form with the source
//! excerpt, the span underlined and the hint as a `help:` note, for every
//! problem.

use std::path::Path;

pub use crate::diagnostic::Diagnostic;
pub(crate) use crate::diagnostic::{Collector, did_you_mean};

/// Why a suite file could not be loaded: one or more [`Diagnostic`]s (the
/// file-level error of [`crate::diagnostic`], shared with the other
/// declarative files eastest reads).
pub type SuiteError = crate::diagnostic::FileError;

impl SuiteError {
    /// The suite file could not be read.
    pub(crate) fn io(file: &Path, err: &std::io::Error) -> Self {
        SuiteError::unreadable(file, "suite file", err)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::suite::model::Span;

    #[test]
    fn suite_errors_keep_their_names_and_wording() {
        let source: Arc<str> = Arc::from("a = 1\n");
        let mut c = Collector::new(&source);
        c.error(Span { start: 0, end: 1 }, "first", Some("fix it".into()));
        let e = SuiteError::new(Path::new("x.toml"), source.clone(), c.diagnostics);
        assert_eq!(e.to_string(), "x.toml:1:1: first; fix it");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = SuiteError::io(Path::new("y.toml"), &io);
        assert_eq!(e.message(), "cannot read the suite file: gone");
        assert_eq!(did_you_mean("expct", &["expect"]), Some("expect"));
    }
}
