//! The parsed form of a suite file (see `docs/suite-format.md`): what the
//! runner executes and the reports describe. Every piece that can fail at
//! run time keeps the [`Span`] of its source text, so a failure names
//! `file:line:column`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::protocol::{Command, VersionSet};

use super::path::Path;

/// Byte ranges and line:column positions in a suite file: the generic ones
/// of [`crate::diagnostic`], shared with the other declarative files.
pub use crate::diagnostic::{Location, Span, location_in};

/// One suite file, parsed and validated.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The file, as given (relative to the working directory or absolute).
    pub file: PathBuf,
    /// The suite's id: its path below the suites root without `.toml`,
    /// with `/` separators (`sync/contacts/ghosting`); names its snapshots.
    pub id: String,
    /// The file's text, for locations and excerpts.
    pub source: Arc<str>,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    /// The protocol versions the suite applies to (`versions`), and the
    /// requirement as written, for the skip reason.
    pub versions: VersionSet,
    pub versions_text: String,
    pub requires: Vec<Requirement>,
    /// `vars`, in file order.
    pub vars: Vec<(String, String)>,
    /// Extra devices of the same user (`devices`); `main` always exists.
    pub devices: Vec<String>,
    pub steps: Vec<Step>,
}

impl Suite {
    /// The line and column of a byte offset in this suite's source.
    pub fn location(&self, offset: usize) -> Location {
        location_in(&self.source, offset)
    }
}

/// What a suite needs of its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// The server must advertise this command in OPTIONS.
    Command(Command),
    /// The server enforces provisioning (`provisioning`).
    Provisioning,
    /// The eastest mock's test hooks (`test-hooks`).
    TestHooks,
    /// A server feature OPTIONS does not advertise (`notes`, `oof`).
    Feature(Feature),
}

/// What a server may lack although it advertises the command: a target
/// profile lists the ones its server lacks (`without`), and suites that
/// require them are skipped there with the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// A Notes folder (FolderSync type 10, MS-ASNOTE).
    Notes,
    /// Out of Office settings stored and returned (Settings `Oof`).
    Oof,
}

impl Feature {
    pub const ALL: [Feature; 2] = [Feature::Notes, Feature::Oof];

    /// The name in `requires` and `without`.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Notes => "notes",
            Feature::Oof => "oof",
        }
    }

    /// What it is, for skip reasons.
    pub fn describe(self) -> &'static str {
        match self {
            Feature::Notes => "a Notes folder",
            Feature::Oof => "Out of Office settings",
        }
    }

    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What a step sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// An EAS command (POST with the command's request line).
    Command(Command),
    /// `OPTIONS` on the endpoint.
    Options,
    /// `hook:PATH`: a POST to the mock's `/_eastest/PATH` (with its query).
    Hook(String),
}

/// A text with `{{var}}` placeholders, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub text: String,
    pub span: Span,
}

/// One `[[step]]`.
#[derive(Debug, Clone)]
pub struct Step {
    /// `name`, or `step-N` (1-based).
    pub name: String,
    pub span: Span,
    pub action: Action,
    /// `main` or one of the suite's `devices`.
    pub device: String,
    pub params: Vec<(String, Template)>,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Body>,
    /// Automatic provisioning when the server asks (default true).
    pub provision: bool,
    /// Which credentials go with the request (`auth`; default the account's).
    pub auth: Auth,
    /// The expected HTTP status (default 200).
    pub http: u16,
    pub http_span: Span,
    pub expect: Vec<Expectation>,
    pub captures: Vec<Capture>,
    pub snapshot: SnapshotOptions,
    pub retry: Option<Retry>,
    pub background: bool,
    pub delay_ms: u64,
    /// An empty HTTP 200 body is an acceptable answer too: the expectations
    /// are not evaluated and the captures keep their values. For Sync, whose
    /// server may answer "nothing to report" that way (MS-ASCMD 2.2.1.21.2,
    /// empty Sync response).
    pub empty_ok: bool,
}

/// The credentials a step sends: the suite never holds any, it can only
/// ask for none or wrong ones, to see HTTP 401 (MS-ASHTTP 3.2.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// The account's (the default).
    #[default]
    Account,
    /// No `Authorization` header at all (`auth = "none"`).
    None,
    /// The account's user with a password that is not its own
    /// (`auth = "wrong"`).
    Wrong,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `body`: XML in eastest's form, encoded for the run's version.
    Xml(Template),
    /// `mime`: sent as is (after interpolation).
    Raw(Template),
}

/// One expectation: a path and what must hold of what it selects.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub path: Path,
    pub predicate: Predicate,
    /// The whole inline table, for reports.
    pub span: Span,
}

/// What must hold of the elements a path selects.
#[derive(Debug, Clone)]
pub enum Predicate {
    Exists(bool),
    Equals(String),
    Matches(regex::Regex),
    Count(usize),
    /// An EAS status value; reports name it (`Status 4 (ProtocolError)`).
    Status(u32),
    Contains(Vec<String>),
    Excludes(Vec<String>),
    Only(Vec<String>),
}

/// `variable = "path"`.
#[derive(Debug, Clone)]
pub struct Capture {
    pub variable: String,
    pub path: Path,
    pub span: Span,
}

/// A step's snapshot settings.
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    /// `snapshot = false` turns it off.
    pub disabled: bool,
    /// Extra paths whose text is redacted.
    pub redact: Vec<Path>,
}

/// `retry = { times = N, interval-ms = M }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub times: u32,
    pub interval_ms: u64,
}
