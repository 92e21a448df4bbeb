//! The suite format (`docs/suite-format.md`): loading TOML suite files into
//! a validated [`Suite`], with errors that name file:line:column.
//!
//! - [`load`] / [`parse`]: a file or text -> [`Suite`] or [`SuiteError`]
//!   (every problem of the file, each with its span and usually a hint).
//! - [`discover`]: the suite files below a folder.
//! - [`Path`]: the XPath subset expectations and captures use.
//! - [`Template`]: `{{name}}` interpolation.
//!
//! Everything that can be checked without a server is checked at load
//! time, so a suite fails before it sends anything:
//!
//! - TOML syntax; unknown keys at every level (with did-you-mean); value
//!   types and ranges (`http` 100-599, `retry.times` 1-100,
//!   `retry.interval-ms` <= 60000 (default 1000), `delay-ms` <= 600000).
//! - `name` (required, one line); `versions` (see [`parse_versions`]);
//!   `requires` (command names, `provisioning`, `test-hooks`); `devices`
//!   and each step's `device`; `hook:` steps need `requires = ["test-hooks"]`.
//! - Steps: `command` required and known (case-sensitive, as servers
//!   are); step names unique, since they name the snapshot files; `body`
//!   or `mime`, not both; no body on `OPTIONS`; no `Authorization`
//!   header; no `Cmd`/`User`/`DeviceId`/`DeviceType` param (eastest sets
//!   them).
//! - Expectations: a `path` and exactly one predicate; paths and regexes
//!   compile, with errors pointing inside the string.
//! - `{{var}}`: every placeholder (in `body`, `mime`, `params`, `headers`,
//!   the hook path, and the texts of `equals`, `contains`, `excludes` and
//!   `only`, which the runner interpolates too) names a `vars` entry, a
//!   capture of an earlier step, or a built-in (`user`, `device_id`,
//!   `version`, `run_id`); neither `vars` nor captures may take a
//!   built-in's name. `matches` is compiled as a regex at load time, so it
//!   is not interpolated (and `{` is a regex metacharacter anyway).
//! - `body`: with placeholders replaced by `0`, it must encode strictly
//!   (`EncodeOptions::strict`) for every version the suite applies to, so
//!   a tag that exists only in some versions makes the suite say so in its
//!   `versions`. The encoder's position is mapped into the file when the
//!   body's text is written verbatim up to there (literal strings, basic
//!   strings without escapes before it); otherwise the error points at the
//!   `body` key and gives the line and column inside the body.

mod error;
mod model;
mod parse;
mod path;
mod target;
mod template;
mod versions;

use std::path::{Path as FsPath, PathBuf};

pub use error::{Diagnostic, SuiteError};
pub use model::*;
pub use parse::DEFAULT_RETRY_INTERVAL_MS;
pub use path::{Path, PathError};
pub use target::{Deviation, TARGET_FILE, TargetProfile};
pub use template::{BUILTIN_VARIABLES, UnknownVariable, is_variable_name};
pub use versions::{RUN_VERSIONS, VersionsError, parse_versions, versions_text};

/// Reads and parses the suite file `file`, found below the suites folder
/// `root`: its id is its path relative to `root`, without `.toml`, with
/// `/` separators (a file outside `root` keeps its path as given).
pub fn load(file: &FsPath, root: &FsPath) -> Result<Suite, SuiteError> {
    let source = std::fs::read_to_string(file).map_err(|e| SuiteError::io(file, &e))?;
    parse(&source, file, &suite_id(file, root))
}

/// Parses a suite's text; `file` is used in locations, `id` becomes
/// [`Suite::id`].
pub fn parse(source: &str, file: &FsPath, id: &str) -> Result<Suite, SuiteError> {
    parse::parse(source, file, id)
}

fn suite_id(file: &FsPath, root: &FsPath) -> String {
    let relative = file.strip_prefix(root).unwrap_or(file);
    let relative = relative.with_extension("");
    relative
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every `*.toml` file below `root` (folders nest freely), sorted. Hidden
/// entries (names starting with `.`) are skipped.
pub fn discover(root: &FsPath) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_relative_slash_separated_without_extension() {
        let root = FsPath::new("suites");
        assert_eq!(
            suite_id(
                &root.join("sync").join("contacts").join("ghosting.toml"),
                root
            ),
            "sync/contacts/ghosting"
        );
        assert_eq!(suite_id(FsPath::new("other/x.toml"), root), "other/x");
    }
}
