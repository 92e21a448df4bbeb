//! The JSON report, for tools. Its field names are a contract: new fields
//! may be added, existing ones keep their name and meaning
//! (`format` changes if they ever do not).
//!
//! ```json
//! {
//!   "format": 1,
//!   "target": { "url": "http://127.0.0.1:8080/Microsoft-Server-ActiveSync", "profile": "mock", "version": "14.1" },
//!   "summary": { "suites": 3, "passed": 1, "failed": 1, "skipped": 1, "errors": 0,
//!                "requests": 12, "duration_s": 1.4 },
//!   "suites": [{
//!     "id": "sync/email/flags", "name": "...", "file": "suites/sync/email/flags.toml",
//!     "status": "failed",          // passed | failed | skipped | error
//!     "reason": null,              // why, for skipped and error
//!     "duration_s": 0.4,
//!     "steps": [{
//!       "name": "set flag", "location": { "line": 20, "column": 1 },
//!       "status": "failed",        // passed | failed | error | skipped
//!       "reason": null,            // why, for error and skipped
//!       "duration_s": 0.1,
//!       "failures": [{ "location": { "line": 24, "column": 5 },
//!                      "expectation": "{ path = ..., status = 1 }",
//!                      "message": "Status 4 (ProtocolError)" }],
//!       "exchange": { "request_line": "POST Sync (14.1, device main)",
//!                     "request_body": "<Sync ...>", "http_status": 200,
//!                     "response": "HTTP 200\n..." },   // or null
//!       "snapshot": { "status": "changed",  // none | matched | new | changed
//!                     "file": "snapshots/mock/...snap.new", "written": true,
//!                     "diff": "@@ -1,3 +1,3 @@\n..." }  // file/written/diff null when not applicable
//!     }]
//!   }]
//! }
//! ```
//!
//! A step whose snapshot changed has `"status": "failed"` even when every
//! expectation held, as in the console and JUnit reports. Durations are in
//! seconds (floating point). The `exchange` holds what the runner put
//! there: the request line and body and the normalised response, never
//! credentials.

use serde::Serialize;

use super::{Totals, step_failed, unified_diff};
use crate::runner::outcome::{
    Exchange, Failure, RunOutcome, SnapshotOutcome, StepOutcome, StepResult, SuiteOutcome,
    SuiteStatus,
};
use crate::suite::Location;

/// The version of the JSON layout.
pub const FORMAT: u32 = 1;

/// The report, pretty-printed.
pub fn render(outcome: &RunOutcome) -> String {
    let report = JsonReport::from(outcome);
    // Plain strings, numbers and booleans: serialising cannot fail.
    serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot write the JSON report: {e}\"}}"))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format: u32,
    target: Target<'a>,
    summary: Summary,
    suites: Vec<Suite<'a>>,
}

#[derive(Serialize)]
struct Target<'a> {
    url: &'a str,
    profile: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct Summary {
    suites: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    errors: usize,
    requests: usize,
    duration_s: f64,
}

#[derive(Serialize)]
struct Suite<'a> {
    id: &'a str,
    name: &'a str,
    file: String,
    status: &'static str,
    reason: Option<&'a str>,
    duration_s: f64,
    steps: Vec<Step<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    name: &'a str,
    location: Loc,
    status: &'static str,
    reason: Option<&'a str>,
    duration_s: f64,
    failures: Vec<JsonFailure<'a>>,
    exchange: Option<JsonExchange<'a>>,
    snapshot: Snapshot,
}

#[derive(Serialize)]
struct Loc {
    line: usize,
    column: usize,
}

impl From<Location> for Loc {
    fn from(l: Location) -> Loc {
        Loc {
            line: l.line,
            column: l.column,
        }
    }
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    location: Loc,
    expectation: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonExchange<'a> {
    request_line: &'a str,
    request_body: Option<&'a str>,
    http_status: u16,
    response: &'a str,
}

#[derive(Serialize)]
struct Snapshot {
    status: &'static str,
    file: Option<String>,
    written: Option<bool>,
    diff: Option<String>,
}

impl<'a> From<&'a RunOutcome> for JsonReport<'a> {
    fn from(o: &'a RunOutcome) -> Self {
        let t = Totals::of(o);
        JsonReport {
            format: FORMAT,
            target: Target {
                url: &o.target.url,
                profile: &o.target.profile,
                version: &o.target.version,
            },
            summary: Summary {
                suites: o.suites.len(),
                passed: t.passed,
                failed: t.failed,
                skipped: t.skipped,
                errors: t.errors,
                requests: o.requests,
                duration_s: o.duration.as_secs_f64(),
            },
            suites: o.suites.iter().map(suite).collect(),
        }
    }
}

fn suite(s: &SuiteOutcome) -> Suite<'_> {
    let (status, reason) = match &s.status {
        SuiteStatus::Passed => ("passed", None),
        SuiteStatus::Failed => ("failed", None),
        SuiteStatus::Skipped(why) => ("skipped", Some(why.as_str())),
        SuiteStatus::Error(why) => ("error", Some(why.as_str())),
        SuiteStatus::KnownDeviation(why) => ("known-deviation", Some(why.as_str())),
        SuiteStatus::DeviationFixed(why) => ("deviation-fixed", Some(why.as_str())),
    };
    Suite {
        id: &s.id,
        name: &s.name,
        file: s.file.display().to_string(),
        status,
        reason,
        duration_s: s.duration.as_secs_f64(),
        steps: s.steps.iter().map(step).collect(),
    }
}

fn step(s: &StepOutcome) -> Step<'_> {
    let (status, reason, failures): (_, _, &[Failure]) = match &s.result {
        StepResult::Error(why) => ("error", Some(why.as_str()), &[]),
        StepResult::Failed(f) => ("failed", None, f),
        _ if step_failed(s) => ("failed", None, &[]),
        StepResult::Skipped(why) => ("skipped", Some(why.as_str()), &[]),
        StepResult::Passed => ("passed", None, &[]),
    };
    Step {
        name: &s.name,
        location: s.location.into(),
        status,
        reason,
        duration_s: s.duration.as_secs_f64(),
        failures: failures
            .iter()
            .map(|f| JsonFailure {
                location: f.location.into(),
                expectation: &f.expectation,
                message: &f.message,
            })
            .collect(),
        exchange: s.exchange.as_ref().map(exchange),
        snapshot: snapshot(&s.snapshot),
    }
}

fn exchange(x: &Exchange) -> JsonExchange<'_> {
    JsonExchange {
        request_line: &x.request_line,
        request_body: x.request_body.as_deref(),
        http_status: x.http_status,
        response: &x.response,
    }
}

fn snapshot(s: &SnapshotOutcome) -> Snapshot {
    match s {
        SnapshotOutcome::None => Snapshot {
            status: "none",
            file: None,
            written: None,
            diff: None,
        },
        SnapshotOutcome::Matched => Snapshot {
            status: "matched",
            file: None,
            written: None,
            diff: None,
        },
        SnapshotOutcome::New { file, written } => Snapshot {
            status: "new",
            file: Some(file.display().to_string()),
            written: Some(*written),
            diff: None,
        },
        SnapshotOutcome::Changed {
            file,
            old,
            new,
            written,
        } => Snapshot {
            status: "changed",
            file: Some(file.display().to_string()),
            written: Some(*written),
            diff: Some(unified_diff(old, new, false)),
        },
    }
}
