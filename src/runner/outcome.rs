//! What a run found: the values the runner produces and the reporters
//! (console, JUnit, JSON) render. Plain data, so every reporter says the
//! same thing.

use std::path::PathBuf;
use std::time::Duration;

use crate::suite::Location;

/// A whole run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The target as reports show it: its URL without credentials, the
    /// snapshot profile, the protocol version used.
    pub target: TargetInfo,
    pub suites: Vec<SuiteOutcome>,
    pub duration: Duration,
    /// HTTP requests sent (retries and automatic provisioning included).
    pub requests: usize,
}

#[derive(Debug, Clone)]
pub struct TargetInfo {
    pub url: String,
    pub profile: String,
    pub version: String,
}

/// One suite's result.
#[derive(Debug, Clone)]
pub struct SuiteOutcome {
    /// `sync/contacts/ghosting`.
    pub id: String,
    pub name: String,
    pub file: PathBuf,
    pub status: SuiteStatus,
    pub steps: Vec<StepOutcome>,
    pub duration: Duration,
}

/// How a suite ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuiteStatus {
    /// Every step passed.
    Passed,
    /// At least one expectation failed or a snapshot changed.
    Failed,
    /// It does not apply to the target; the reason says why.
    Skipped(String),
    /// It could not run (bad suite, unreachable server, invalid body...).
    Error(String),
    /// It failed where the target profile records a known deviation of the
    /// server from the spec: an expected failure. The text is the recorded
    /// reason and reference. It does not fail the run.
    KnownDeviation(String),
    /// It passed, but the target profile records it as a known deviation:
    /// the server was fixed, or the suite changed. It fails the run until
    /// the entry is removed; the text says which entry.
    DeviationFixed(String),
}

impl SuiteStatus {
    /// Whether this status makes a run fail: a failure, an error, or a
    /// recorded deviation that no longer shows.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            SuiteStatus::Failed | SuiteStatus::Error(_) | SuiteStatus::DeviationFixed(_)
        )
    }
}

/// One step's result.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub name: String,
    /// Where the step starts in its suite file.
    pub location: Location,
    pub result: StepResult,
    pub duration: Duration,
    /// What was sent and what came back, for reports (secrets redacted).
    pub exchange: Option<Exchange>,
    pub snapshot: SnapshotOutcome,
}

#[derive(Debug, Clone)]
pub enum StepResult {
    Passed,
    /// Expectations that did not hold (and snapshot changes).
    Failed(Vec<Failure>),
    /// The step could not be carried out (connection, encoding, interpolation).
    Error(String),
    /// Not run, because an earlier step of the suite failed or errored.
    Skipped(String),
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where the expectation is written.
    pub location: Location,
    /// The expectation as written (`{ path = "...", status = 1 }`).
    pub expectation: String,
    /// What came back instead (`Status 4 (ProtocolError)`).
    pub message: String,
}

/// The request and response of a step, as reports show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `POST Sync (14.1, device main)`.
    pub request_line: String,
    /// The request body as XML (the interpolated template), if any.
    pub request_body: Option<String>,
    pub http_status: u16,
    /// The normalised snapshot text of the response.
    pub response: String,
}

/// What became of a step's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// `snapshot = false`, or the step did not get a response.
    None,
    /// Equal to the recorded one.
    Matched,
    /// No recorded snapshot yet: the new one was written for review
    /// (`.snap.new`) or, with `--update-snapshots`, accepted.
    New { file: PathBuf, written: bool },
    /// Differs from the recorded one.
    Changed {
        file: PathBuf,
        old: String,
        new: String,
        written: bool,
    },
}
