//! Snapshot files, in insta's `.snap` format so `cargo insta review` (and
//! `cargo insta accept`/`reject`) work on them.
//!
//! A file is `snapshots/<profile>/<suite id>/<step slug>.snap`:
//!
//! ```text
//! ---
//! source: suites/sync/contacts/ghosting.toml
//! description: "sync/contacts/ghosting: initial sync"
//! expression: initial sync
//! input_file: suites/sync/contacts/ghosting.toml
//! ---
//! HTTP 200
//! ...
//! ```
//!
//! The header is insta's YAML metadata, written the way insta's own emitter
//! writes it (same keys, same quoting), so insta reads it back; the content
//! follows the second `---` and ends with one newline. Contents compare the
//! way insta compares file snapshots: trailing whitespace trimmed, CRLF read
//! as LF, so a snapshot written here and one written by
//! `insta::assert_snapshot!` with the same name and text are equal.
//!
//! A pending snapshot (`.snap.new`, [`SnapshotMode::Review`]) is a complete
//! snapshot file next to the `.snap`; insta's review pairs the two by name.
//! insta also writes an `assertion_line` there, for showing the assertion
//! in the review; it is optional and a suite step has no Rust line, so it
//! is left out.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::runner::outcome::SnapshotOutcome;

/// What to do with snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// CI: write nothing; a mismatch or a missing snapshot fails.
    Check,
    /// Write `.snap.new` next to the `.snap` for review (insta's pending form).
    Review,
    /// Write `.snap` directly (`--update-snapshots`).
    Update,
}

/// The snapshots of one profile (`snapshots/<profile>`).
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    root: PathBuf,
    mode: SnapshotMode,
}

impl SnapshotStore {
    pub fn new(root: PathBuf, mode: SnapshotMode) -> Self {
        SnapshotStore { root, mode }
    }

    /// The mode the store was made with.
    pub fn mode(&self) -> SnapshotMode {
        self.mode
    }

    /// `root/<suite id>/<step slug>.snap`. The suite id's `/`-separated
    /// segments become folders (a segment that could leave the root, `..`
    /// or empty, is slugged); the step name is slugged (see [`slug`]).
    pub fn file_for(&self, suite_id: &str, step_name: &str) -> PathBuf {
        let mut path = self.root.clone();
        for segment in suite_id.split('/') {
            if segment.is_empty()
                || segment == "."
                || segment == ".."
                || segment.contains(['\\', ':', '\0'])
            {
                path.push(slug(segment));
            } else {
                path.push(segment);
            }
        }
        path.push(format!("{}.snap", slug(step_name)));
        path
    }

    /// Compares `text` with the recorded snapshot of this step and, by the
    /// mode, records it. `suite_file` goes into the metadata (`source`,
    /// `input_file`), so the review shows where the step is written.
    pub fn check(
        &self,
        suite_id: &str,
        suite_file: &Path,
        step_name: &str,
        text: &str,
    ) -> io::Result<SnapshotOutcome> {
        let file = self.file_for(suite_id, step_name);
        let pending = pending_path(&file);
        let new = normalize_contents(text);
        let old = match fs::read_to_string(&file) {
            Ok(s) => Some(read_contents(&s).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a snapshot file (no `---` header)",
                        file.display()
                    ),
                )
            })?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if old.as_deref() == Some(new.as_str()) {
            // A stale pending snapshot would otherwise show up in review.
            if self.mode != SnapshotMode::Check {
                remove_if_exists(&pending)?;
            }
            return Ok(SnapshotOutcome::Matched);
        }
        let contents = serialize(suite_id, suite_file, step_name, &new);
        let written = match self.mode {
            SnapshotMode::Check => false,
            SnapshotMode::Review => {
                write(&pending, &contents)?;
                true
            }
            SnapshotMode::Update => {
                write(&file, &contents)?;
                remove_if_exists(&pending)?;
                true
            }
        };
        let shown = if self.mode == SnapshotMode::Review {
            pending
        } else {
            file
        };
        Ok(match old {
            None => SnapshotOutcome::New {
                file: shown,
                written,
            },
            Some(old) => SnapshotOutcome::Changed {
                file: shown,
                old,
                new,
                written,
            },
        })
    }
}

/// A step name as a file name: lowercase ASCII letters and digits, every
/// other run of characters collapsed to one `-`, no `-` at either end;
/// `step` when nothing is left.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("step");
    }
    out
}

/// `x.snap` -> `x.snap.new`.
fn pending_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn write(path: &Path, contents: &str) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, contents)
}

/// Contents as insta compares them: trailing whitespace trimmed, CRLF as LF.
fn normalize_contents(text: &str) -> String {
    text.trim_end().replace("\r\n", "\n")
}

/// The contents of a snapshot file: everything after the metadata's
/// closing `---` line, read line by line as insta does. `None` when the
/// file does not start with a `---` line.
fn read_contents(file: &str) -> Option<String> {
    let mut lines = file.lines();
    if lines.next()?.trim_end() != "---" {
        return None;
    }
    for line in lines.by_ref() {
        if line.trim_end() == "---" {
            break;
        }
    }
    Some(normalize_contents(&lines.collect::<Vec<_>>().join("\n")))
}

/// A whole snapshot file.
fn serialize(suite_id: &str, suite_file: &Path, step_name: &str, contents: &str) -> String {
    let source = suite_file.to_string_lossy().replace('\\', "/");
    let mut out = String::from("---\n");
    for (key, value) in [
        ("source", source.as_str()),
        ("description", &format!("{suite_id}: {step_name}")),
        ("expression", step_name),
        ("input_file", source.as_str()),
    ] {
        out.push_str(key);
        out.push_str(": ");
        yaml_scalar(&mut out, value);
        out.push('\n');
    }
    out.push_str("---\n");
    out.push_str(contents);
    out.push('\n');
    out
}

/// A YAML scalar the way insta's emitter writes it: plain when that reads
/// back as the same string, double-quoted with escapes otherwise.
fn yaml_scalar(out: &mut String, s: &str) {
    if !needs_quotes(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// insta's (yaml-rust's) rule for quoting a string.
fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@', '.'])
        || s.contains(|c: char| {
            matches!(
                c,
                ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\' | '\0'
                    ..='\x1f' | '\x7f'
            )
        })
        || [
            "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE",
            "false", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
        ]
        .contains(&s)
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Initial sync, with a Supported list!"),
            "initial-sync-with-a-supported-list"
        );
        assert_eq!(slug("--"), "step");
        assert_eq!(slug("step-3"), "step-3");
    }

    #[test]
    fn file_names_stay_under_the_root() {
        let store = SnapshotStore::new(PathBuf::from("/s/mock"), SnapshotMode::Check);
        assert_eq!(
            store.file_for("sync/contacts/ghosting", "Initial Sync"),
            PathBuf::from("/s/mock/sync/contacts/ghosting/initial-sync.snap")
        );
        assert_eq!(
            store.file_for("../x", "a"),
            PathBuf::from("/s/mock/step/x/a.snap")
        );
    }

    #[test]
    fn yaml_quoting_follows_insta() {
        let mut s = String::new();
        yaml_scalar(&mut s, "sync/a: step \"1\"");
        assert_eq!(s, r#""sync/a: step \"1\"""#);
        s.clear();
        yaml_scalar(&mut s, "hierarchy");
        assert_eq!(s, "hierarchy");
        assert!(needs_quotes("12"));
        assert!(needs_quotes("-x"));
    }

    #[test]
    fn contents_after_the_header() {
        let file = "---\nsource: a\n---\nHTTP 200\n\n(empty body)\n";
        assert_eq!(
            read_contents(file).as_deref(),
            Some("HTTP 200\n\n(empty body)")
        );
        assert_eq!(read_contents("HTTP 200"), None);
    }
}
