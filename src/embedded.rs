//! The embedded target: a fresh mock server for every suite, so that suites
//! never see each other's items and their snapshots do not depend on what
//! ran before or beside them. The glue between [`crate::runner`] and
//! [`crate::mock`], which must not know each other: the runner gets URLs.
//!
//! Also the engine of the **catch matrix** (`eastest matrix`,
//! `tests/catch_matrix.rs`): [`run_matrix_row`] runs the corpus against
//! mocks with a fault profile ([`crate::mock::Profile`]) and reports which
//! suites fail, with their first failure.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::client::Secret;
use crate::mock::{Account, MockConfig, MockServer, Profile};
use crate::protocol::ProtocolVersion;
use crate::runner::outcome::{SnapshotOutcome, StepResult, SuiteOutcome, SuiteStatus};
use crate::runner::snapshot::{SnapshotMode, SnapshotStore};
use crate::runner::{RunOptions, Target, Targets, run};
use crate::suite::Suite;

/// Starts one mock per suite (alice's account, test hooks on) and stops
/// them all in [`MockTargets::shutdown`].
#[derive(Default)]
pub struct MockTargets {
    servers: Mutex<Vec<MockServer>>,
    /// The fault profiles every mock runs with (none: the clean mock).
    profiles: Vec<Profile>,
}

impl MockTargets {
    pub fn new() -> MockTargets {
        MockTargets::default()
    }

    /// Mocks that misbehave like these fault profiles (`eastest matrix`
    /// shows which suites catch them).
    pub fn with_profiles(profiles: Vec<Profile>) -> MockTargets {
        MockTargets {
            profiles,
            ..MockTargets::default()
        }
    }

    /// Stops every mock started so far.
    pub async fn shutdown(&self) {
        let servers: Vec<MockServer> =
            std::mem::take(&mut *self.servers.lock().unwrap_or_else(|p| p.into_inner()));
        for server in servers {
            server.shutdown().await;
        }
    }
}

impl Targets for MockTargets {
    async fn target_for(&self, _suite: &Suite) -> Result<Target, String> {
        let server = MockServer::start(MockConfig {
            test_hooks: true,
            profiles: self.profiles.clone(),
            ..MockConfig::default()
        })
        .await
        .map_err(|e| format!("the embedded mock did not start: {e}"))?;
        let alice = Account::defaults()
            .into_iter()
            .next()
            .ok_or("the mock has no default account")?;
        let target = Target {
            url: server.url(),
            user: alice.user.clone(),
            password: Secret::new(alice.password.clone()),
            test_hooks: true,
        };
        self.servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(server);
        Ok(target)
    }
}

/// The same lab server for every suite.
pub struct LabTarget(pub Target);

impl Targets for LabTarget {
    async fn target_for(&self, _suite: &Suite) -> Result<Target, String> {
        Ok(self.0.clone())
    }
}

/// How a suite showed that a server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Evidence {
    /// An expectation did not hold: the best evidence, since it states what
    /// the spec requires.
    Expectation,
    /// Only a snapshot differs (when snapshots are compared).
    Snapshot,
    /// A step could not be carried out (the server broke the exchange).
    Error,
}

/// One suite failing at one protocol version, and why.
#[derive(Debug, Clone)]
pub struct Catch {
    pub suite: String,
    pub version: ProtocolVersion,
    pub evidence: Evidence,
    /// The first failing step.
    pub step: String,
    /// The expectation as written (`{ path = "...", status = 1 }`), or
    /// `snapshot`, or empty for an error.
    pub expectation: String,
    /// What came back (`got Status 4 (ProtocolError), expected Status 1
    /// (Success)`), the first changed snapshot line, or the error.
    pub message: String,
}

impl Catch {
    /// `step `x`: EXPECTATION: MESSAGE`, on one line.
    pub fn describe(&self) -> String {
        let what = if self.expectation.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.expectation, self.message)
        };
        format!(
            "step `{}`: {}",
            self.step,
            what.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    }
}

/// How [`run_matrix_row`] runs the corpus.
#[derive(Debug, Clone)]
pub struct MatrixOptions {
    pub versions: Vec<ProtocolVersion>,
    /// Suites at once in each run.
    pub jobs: usize,
    /// Compare snapshots (check mode, nothing written) in this set, e.g.
    /// `snapshots/mock` (its `<version>/` folders); `None`: expectations
    /// only.
    pub snapshots: Option<PathBuf>,
    /// Per request: a faulty server often leaves a long-poll (a Ping
    /// waiting for a change a failed step never made) to run until this.
    pub timeout: std::time::Duration,
}

/// The tag of suites the matrix leaves out: they wait out a timer (a Ping
/// heartbeat of a minute) and show no profile anything the others do not.
pub const SLOW_TAG: &str = "slow";

/// Runs `suites` against fresh mocks with `profiles` (none: the clean
/// mock) at each version of `options`: the suites that fail, each with its
/// first failure (an expectation failure first, then a snapshot
/// difference, then an error). Skipped suites are neither caught nor
/// failed; suites tagged [`SLOW_TAG`] are not run.
pub async fn run_matrix_row(
    suites: &[Suite],
    profiles: &[Profile],
    options: &MatrixOptions,
) -> Vec<Catch> {
    let suites: Vec<Suite> = suites
        .iter()
        .filter(|s| !s.tags.iter().any(|t| t == SLOW_TAG))
        .cloned()
        .collect();
    let suites = suites.as_slice();
    let mut catches = Vec::new();
    for &version in &options.versions {
        let mut run_options = RunOptions::new(version, "mock");
        run_options.jobs = options.jobs.max(1);
        run_options.target_label = "embedded mock".to_string();
        run_options.timeout = options.timeout;
        let store = options
            .snapshots
            .as_ref()
            .map(|dir| SnapshotStore::new(dir.join(version.as_str()), SnapshotMode::Check));
        let targets = Arc::new(MockTargets::with_profiles(profiles.to_vec()));
        let outcome = run(suites.to_vec(), targets.clone(), run_options, store).await;
        targets.shutdown().await;
        for suite in &outcome.suites {
            if let Some(c) = first_failure(suite, version) {
                catches.push(c);
            }
        }
    }
    catches
}

fn first_failure(suite: &SuiteOutcome, version: ProtocolVersion) -> Option<Catch> {
    let catch = |evidence, step: &str, expectation: &str, message: String| Catch {
        suite: suite.id.clone(),
        version,
        evidence,
        step: step.to_string(),
        expectation: expectation.to_string(),
        message,
    };
    match &suite.status {
        SuiteStatus::Passed | SuiteStatus::Skipped(_) | SuiteStatus::KnownDeviation(_) => {
            return None;
        }
        SuiteStatus::Failed | SuiteStatus::Error(_) | SuiteStatus::DeviationFixed(_) => {}
    }
    let mut found: Option<Catch> = None;
    for step in &suite.steps {
        let this = match &step.result {
            StepResult::Failed(failures) => {
                match failures.iter().find(|f| f.expectation != "snapshot") {
                    Some(f) => catch(
                        Evidence::Expectation,
                        &step.name,
                        &f.expectation,
                        f.message.clone(),
                    ),
                    None => catch(
                        Evidence::Snapshot,
                        &step.name,
                        "snapshot",
                        snapshot_change(&step.snapshot)
                            .or_else(|| failures.first().map(|f| f.message.clone()))
                            .unwrap_or_default(),
                    ),
                }
            }
            StepResult::Error(why) => catch(Evidence::Error, &step.name, "", why.clone()),
            StepResult::Passed | StepResult::Skipped(_) => continue,
        };
        if found.as_ref().is_none_or(|f| this.evidence < f.evidence) {
            found = Some(this);
        }
        if found
            .as_ref()
            .is_some_and(|f| f.evidence == Evidence::Expectation)
        {
            break;
        }
    }
    Some(found.unwrap_or_else(|| {
        let why = match &suite.status {
            SuiteStatus::Error(why) | SuiteStatus::DeviationFixed(why) => why.clone(),
            _ => "failed".to_string(),
        };
        catch(Evidence::Error, "", "", why)
    }))
}

/// The first line a changed snapshot lost and the one it gained.
fn snapshot_change(snapshot: &SnapshotOutcome) -> Option<String> {
    let SnapshotOutcome::Changed { old, new, .. } = snapshot else {
        return None;
    };
    let (old, new): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let at = old
        .iter()
        .zip(&new)
        .position(|(a, b)| a != b)
        .unwrap_or(old.len().min(new.len()));
    Some(format!(
        "`{}` became `{}`",
        old.get(at).map_or("", |l| l.trim()),
        new.get(at).map_or("", |l| l.trim())
    ))
}
