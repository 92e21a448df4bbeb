//! Reports of a run: console, JUnit, JSON.
//!
//! All three render the same [`RunOutcome`] and say the same things: a
//! suite's status and why, each failed expectation (where it is written,
//! what it expected, what came back), snapshot changes as unified diffs.
//! The failure text of a step is built once ([`step_problem`]) and used by
//! the console and as the JUnit failure's text.
//!
//! Reports print only what the outcome holds, and of a step's exchange only
//! the request line, the HTTP status and the normalised response (the
//! console and JUnit), plus the request body (JSON). None of these carries
//! credentials: the request line names the command, version and device,
//! and the snapshot never keeps `Authorization` or cookies (see
//! [`crate::runner::normalize`]).

pub mod console;
pub mod html;
pub mod json;
pub mod junit;

use std::fmt::Write as _;
use std::time::Duration;

use similar::{ChangeTag, TextDiff};

use crate::runner::outcome::{
    RunOutcome, SnapshotOutcome, StepOutcome, StepResult, SuiteOutcome, SuiteStatus,
};

/// Lines of context around each change in a snapshot diff.
pub const DIFF_CONTEXT: usize = 3;

/// The `expectation` text the runner gives the failure it adds for a
/// changed snapshot; reports show the diff instead of repeating it.
pub(crate) const SNAPSHOT_FAILURE: &str = "snapshot";

/// How many lines of a response a failure shows (the snapshot file has all).
const RESPONSE_LINES: usize = 40;

/// Counts of suites by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub errors: usize,
    /// Expected failures: known deviations of the target from the spec.
    pub known_deviations: usize,
}

impl Totals {
    pub fn of(outcome: &RunOutcome) -> Totals {
        let mut t = Totals::default();
        for s in &outcome.suites {
            match s.status {
                SuiteStatus::Passed => t.passed += 1,
                SuiteStatus::Failed => t.failed += 1,
                SuiteStatus::Skipped(_) => t.skipped += 1,
                SuiteStatus::Error(_) => t.errors += 1,
                SuiteStatus::KnownDeviation(_) => t.known_deviations += 1,
                // The record is out of date: fails the run like a failure.
                SuiteStatus::DeviationFixed(_) => t.failed += 1,
            }
        }
        t
    }
}

/// `12 passed, 1 failed, 2 skipped, 0 errors; 134 requests in 1.4 s`.
pub fn summary_line(outcome: &RunOutcome) -> String {
    let t = Totals::of(outcome);
    let deviations = match t.known_deviations {
        0 => String::new(),
        n => format!(", {n} known deviations"),
    };
    format!(
        "{} passed, {} failed, {} skipped, {} errors{deviations}; {} requests in {:.1} s",
        t.passed,
        t.failed,
        t.skipped,
        t.errors,
        outcome.requests,
        outcome.duration.as_secs_f64()
    )
}

/// Seconds with two decimals (`0.12 s`).
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Whether the step counts as failed: an expectation did not hold or its
/// snapshot changed.
pub(crate) fn step_failed(step: &StepOutcome) -> bool {
    matches!(step.result, StepResult::Failed(_))
        || matches!(step.snapshot, SnapshotOutcome::Changed { .. })
}

/// ANSI colours, only when asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paint(pub bool);

impl Paint {
    pub fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    pub fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn cyan(self, s: &str) -> String {
        self.wrap("36", s)
    }
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// A unified diff of two snapshot texts, [`DIFF_CONTEXT`] lines of context,
/// removed lines red and added lines green when `color`.
pub fn unified_diff(old: &str, new: &str, color: bool) -> String {
    let paint = Paint(color);
    let old = format!("{}\n", old.trim_end_matches('\n'));
    let new = format!("{}\n", new.trim_end_matches('\n'));
    let diff = TextDiff::from_lines(&old, &new);
    let mut out = String::new();
    for hunk in diff
        .unified_diff()
        .context_radius(DIFF_CONTEXT)
        .iter_hunks()
    {
        out.push_str(&paint.cyan(&hunk.header().to_string()));
        out.push('\n');
        for change in hunk.iter_changes() {
            let line = change.value().trim_end_matches('\n');
            let text = match change.tag() {
                ChangeTag::Delete => paint.red(&format!("-{line}")),
                ChangeTag::Insert => paint.green(&format!("+{line}")),
                ChangeTag::Equal => format!(" {line}"),
            };
            out.push_str(&text);
            out.push('\n');
        }
    }
    out
}

/// What went wrong with a step, as the console prints it under the suite
/// and JUnit carries as the failure's text; `None` when nothing did (a
/// passed step with a matching or new snapshot).
///
/// ```text
/// step "initial sync" at suites/sync/x.toml:12:1
///   sent: POST Sync (14.1, device main) -> HTTP 200
///   suites/sync/x.toml:15:5
///     expected: { path = "//AirSync:Collection/AirSync:Status", status = 1 }
///     got:      Status 4 (ProtocolError)
///   snapshot changed (written for review: snapshots/mock/sync/x/initial-sync.snap.new)
///   @@ -5,7 +5,7 @@
///   ...
/// ```
pub fn step_problem(suite: &SuiteOutcome, step: &StepOutcome, color: bool) -> Option<String> {
    let paint = Paint(color);
    let changed = matches!(step.snapshot, SnapshotOutcome::Changed { .. });
    let file = suite.file.display();
    let mut out = String::new();
    let header = |out: &mut String| {
        let _ = writeln!(
            out,
            "step \"{}\" at {}:{}:{}",
            step.name, file, step.location.line, step.location.column
        );
        if let Some(x) = &step.exchange {
            let _ = writeln!(out, "  sent: {} -> HTTP {}", x.request_line, x.http_status);
        }
    };
    match &step.result {
        StepResult::Passed | StepResult::Skipped(_) if !changed => return None,
        StepResult::Passed | StepResult::Skipped(_) => header(&mut out),
        StepResult::Error(why) => {
            header(&mut out);
            let _ = writeln!(out, "  {} {why}", paint.red("error:"));
        }
        StepResult::Failed(failures) => {
            header(&mut out);
            let mut shown = 0;
            for f in failures {
                if changed && f.expectation == SNAPSHOT_FAILURE {
                    continue;
                }
                shown += 1;
                let _ = writeln!(out, "  {}:{}:{}", file, f.location.line, f.location.column);
                let _ = writeln!(out, "    expected: {}", f.expectation);
                let _ = writeln!(out, "    got:      {}", paint.red(&f.message));
            }
            // The response, when an expectation (not only the snapshot)
            // failed and no diff will show it.
            if let (true, false, Some(x)) = (shown > 0, changed, &step.exchange) {
                let _ = writeln!(out, "  response:");
                let lines: Vec<&str> = x.response.lines().collect();
                for line in lines.iter().take(RESPONSE_LINES) {
                    let _ = writeln!(out, "    {line}");
                }
                if lines.len() > RESPONSE_LINES {
                    let _ = writeln!(out, "    ... {} more lines", lines.len() - RESPONSE_LINES);
                }
            }
        }
    }
    if let SnapshotOutcome::Changed {
        file,
        old,
        new,
        written,
    } = &step.snapshot
    {
        let how = if *written {
            "written for review"
        } else {
            "not written"
        };
        let _ = writeln!(
            out,
            "  {} ({how}: {})",
            paint.red("snapshot changed"),
            file.display()
        );
        for line in unified_diff(old, new, color).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    Some(out)
}

/// The note for a snapshot recorded for the first time, if any.
pub fn new_snapshot_note(step: &StepOutcome) -> Option<String> {
    match &step.snapshot {
        SnapshotOutcome::New {
            file,
            written: true,
        } => Some(format!(
            "step \"{}\": new snapshot written to {}",
            step.name,
            file.display()
        )),
        SnapshotOutcome::New {
            file,
            written: false,
        } => Some(format!(
            "step \"{}\": no recorded snapshot ({}); not written",
            step.name,
            file.display()
        )),
        _ => None,
    }
}
