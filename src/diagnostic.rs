//! Diagnostics for the declarative files eastest reads (suites, target
//! profiles, scenarios): each problem names `file:line:column`, says what
//! is wrong, and usually how to fix it.
//!
//! A [`FileError`] holds **every** problem found in a file, not just the
//! first, sorted by position. Its `Display` is one line, the first problem
//! (`suites/a.toml:7:12: unknown key `expct` in a step; did you mean
//! `expect`?`), followed by ` (and N more errors)` when there are more;
//! [`FileError::lines`] gives each problem as such a line, and
//! [`FileError::render`] the codespan-reporting form with the source
//! excerpt, the span underlined and the hint as a `help:` note, for every
//! problem.
//!
//! The suite loader (`crate::suite`) and the mock's scenario loader
//! (`crate::mock`) both build on this module; neither imports the other.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config, Styles, StylesWriter, termcolor};

/// A byte range in a file's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Span {
        Span {
            start: r.start,
            end: r.end,
        }
    }
}

/// A 1-based line and column (in characters) in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// The line and column of `offset` in `source` (clamped to its end).
pub fn location_in(source: &str, offset: usize) -> Location {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// One problem in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The offending text in the file; `None` when the file could not be
    /// read at all.
    pub span: Option<Span>,
    /// The line and column where `span` starts (1:1 without a span).
    pub location: Location,
    /// What is wrong, one line.
    pub message: String,
    /// How to fix it (`did you mean `expect`?`), one line.
    pub hint: Option<String>,
}

/// Why a file could not be loaded: one or more [`Diagnostic`]s.
#[derive(Debug, Clone)]
pub struct FileError {
    file: PathBuf,
    source: Arc<str>,
    diagnostics: Vec<Diagnostic>,
}

impl FileError {
    /// The problems, sorted by position (never empty).
    pub(crate) fn new(file: &Path, source: Arc<str>, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by_key(|d| d.span.map(|s| (s.start, s.end)));
        diagnostics.dedup();
        FileError {
            file: file.to_path_buf(),
            source,
            diagnostics,
        }
    }

    /// The file could not be read; `what` names it ("suite file").
    pub(crate) fn unreadable(file: &Path, what: &str, err: &std::io::Error) -> Self {
        FileError {
            file: file.to_path_buf(),
            source: Arc::from(""),
            diagnostics: vec![Diagnostic {
                span: None,
                location: Location { line: 1, column: 1 },
                message: format!("cannot read the {what}: {err}"),
                hint: None,
            }],
        }
    }

    /// The file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where the first problem is.
    pub fn location(&self) -> Location {
        self.first().location
    }

    /// The first problem's message.
    pub fn message(&self) -> &str {
        &self.first().message
    }

    /// The first problem's hint.
    pub fn hint(&self) -> Option<&str> {
        self.first().hint.as_deref()
    }

    /// Every problem, in file order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    fn first(&self) -> &Diagnostic {
        // `new` and `unreadable` never build an empty list; this fallback
        // keeps the accessors total all the same.
        static NONE: Diagnostic = Diagnostic {
            span: None,
            location: Location { line: 1, column: 1 },
            message: String::new(),
            hint: None,
        };
        self.diagnostics.first().unwrap_or(&NONE)
    }

    fn line(&self, d: &Diagnostic) -> String {
        let mut s = match d.span {
            Some(_) => format!(
                "{}:{}:{}: {}",
                self.file.display(),
                d.location.line,
                d.location.column,
                d.message
            ),
            None => format!("{}: {}", self.file.display(), d.message),
        };
        if let Some(hint) = &d.hint {
            s.push_str("; ");
            s.push_str(hint);
        }
        s
    }

    /// Every problem as one `file:line:column: message; hint` line.
    pub fn lines(&self) -> Vec<String> {
        self.diagnostics.iter().map(|d| self.line(d)).collect()
    }

    /// Every problem in the codespan-reporting form: `error: message`, the
    /// file and location, the source lines with the span underlined, and
    /// the hint as `= help: ...`. With `color`, ANSI colors.
    pub fn render(&self, color: bool) -> String {
        let name = self.file.display().to_string();
        let files = SimpleFile::new(name, &*self.source);
        let config = Config::default();
        let mut out = String::new();
        for d in &self.diagnostics {
            let mut diag = CsDiagnostic::error().with_message(&d.message);
            if let Some(span) = d.span {
                let end = span.end.min(self.source.len());
                let start = span.start.min(end);
                diag = diag.with_label(Label::primary((), start..end));
            }
            if let Some(hint) = &d.hint {
                diag = diag.with_note(format!("help: {hint}"));
            }
            let rendered = if color {
                let mut buffer = termcolor::Buffer::ansi();
                let styles = Styles::default();
                let mut writer = StylesWriter::new(&mut buffer, &styles);
                term::emit_to_write_style(&mut writer, &config, &files, &diag)
                    .ok()
                    .map(|()| String::from_utf8_lossy(buffer.as_slice()).into_owned())
            } else {
                term::emit_into_string(&config, &files, &diag).ok()
            };
            // Rendering only fails for spans outside the file, which
            // `render` clamps; fall back to the one-line form regardless.
            out.push_str(&rendered.unwrap_or_else(|| format!("{}\n", self.line(d))));
        }
        out
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line(self.first()))?;
        match self.diagnostics.len() {
            0 | 1 => Ok(()),
            2 => f.write_str(" (and 1 more error)"),
            n => write!(f, " (and {} more errors)", n - 1),
        }
    }
}

impl std::error::Error for FileError {}

/// Collects diagnostics while a file is validated.
pub(crate) struct Collector<'s> {
    pub source: &'s str,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'s> Collector<'s> {
    pub fn new(source: &'s str) -> Self {
        Collector {
            source,
            diagnostics: Vec::new(),
        }
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>, hint: Option<String>) {
        self.diagnostics.push(Diagnostic {
            span: Some(span),
            location: location_in(self.source, span.start),
            message: message.into(),
            hint,
        });
    }
}

/// The candidate `word` most likely meant: one equal ignoring case, else
/// the closest by edit distance (at most a third of the word's length, at
/// least 1), else one that starts with `word` or that `word` starts with.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    if let Some(c) = candidates.iter().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(c);
    }
    let limit = (word.chars().count() / 3).max(1);
    let best = candidates
        .iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()),
                *c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    best.or_else(|| {
        (word.len() >= 3)
            .then(|| {
                candidates.iter().copied().find(|c| {
                    let c = c.to_ascii_lowercase();
                    c.starts_with(&lower) || lower.starts_with(&c)
                })
            })
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["expect", "capture", "command", "interval-ms", "delay-ms"];
        assert_eq!(did_you_mean("expct", &keys), Some("expect"));
        assert_eq!(did_you_mean("EXPECT", &keys), Some("expect"));
        assert_eq!(did_you_mean("comand", &keys), Some("command"));
        assert_eq!(did_you_mean("interval", &keys), Some("interval-ms"));
        assert_eq!(did_you_mean("zzz", &keys), None);
    }

    #[test]
    fn locations_count_lines_and_characters() {
        let source = "a = 1\nbé = 2\n";
        assert_eq!(location_in(source, 0), Location { line: 1, column: 1 });
        assert_eq!(location_in(source, 10), Location { line: 2, column: 4 });
        assert_eq!(location_in(source, 999), Location { line: 3, column: 1 });
    }

    #[test]
    fn display_and_lines() {
        let source: Arc<str> = Arc::from("a = 1\nb = 2\n");
        let mut c = Collector::new(&source);
        c.error(Span { start: 6, end: 7 }, "second", Some("fix it".into()));
        c.error(Span { start: 0, end: 1 }, "first", None);
        let e = FileError::new(Path::new("x.toml"), source.clone(), c.diagnostics);
        assert_eq!(e.to_string(), "x.toml:1:1: first (and 1 more error)");
        assert_eq!(e.lines()[1], "x.toml:2:1: second; fix it");
        assert_eq!(e.hint(), None);
        let r = e.render(false);
        assert!(r.contains("b = 2") && r.contains("= help: fix it"), "{r}");
        assert!(e.render(true).contains("\u{1b}["));
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = FileError::unreadable(Path::new("y.toml"), "scenario file", &io);
        assert_eq!(e.to_string(), "y.toml: cannot read the scenario file: gone");
    }
}

/// Walking a TOML document by hand (`toml::de::DeTable`), the way the
/// suite, target profile and scenario loaders do: spans, type names for
/// messages, and unknown keys with a did-you-mean.
pub(crate) mod toml_walk {
    use toml::de::{DeTable, DeValue};

    use super::{Collector, Span, did_you_mean};

    /// The byte range of a spanned TOML key or value.
    pub fn span_of<T>(s: &toml::Spanned<T>) -> Span {
        s.span().into()
    }

    /// "a string", "an integer"...: a value's type as messages name it.
    pub fn kind_of(v: &DeValue<'_>) -> &'static str {
        match v {
            DeValue::String(_) => "a string",
            DeValue::Integer(_) => "an integer",
            DeValue::Float(_) => "a float",
            DeValue::Boolean(_) => "a boolean",
            DeValue::Datetime(_) => "a date-time",
            DeValue::Array(_) => "an array",
            DeValue::Table(_) => "a table",
        }
    }

    /// Reports every key of `table` not in `known`, in file order, with a
    /// did-you-mean or the list of known keys; `place` says where ("in a
    /// step").
    pub fn unknown_keys(c: &mut Collector<'_>, table: &DeTable<'_>, known: &[&str], place: &str) {
        let mut keys: Vec<_> = table.iter().map(|(k, _)| k).collect();
        keys.sort_by_key(|k| k.span().start);
        for k in keys {
            let name = k.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let hint = match did_you_mean(name, known) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known keys {place}: {}", known.join(", ")),
            };
            c.error(
                span_of(k),
                format!("unknown key `{name}` {place}"),
                Some(hint),
            );
        }
    }
}
