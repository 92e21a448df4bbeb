//! The console report: what a person reads after a run.
//!
//! ```text
//! target http://127.0.0.1:8080/Microsoft-Server-ActiveSync (profile mock, protocol 14.1)
//!
//! PASS  sync/contacts/ghosting  5 steps  0.12 s
//! FAIL  sync/email/flags  3 steps  0.40 s
//! SKIP  find/basic — needs Find, which the server does not advertise
//! ERROR ping/wake — step `ping`: connection refused
//! XFAIL sync/keys — known deviation: answers SyncKey -1 (MS-ASCMD 2.2.3.166.4; snapshots/lab/target.toml:7)
//!
//! FAIL sync/email/flags (suites/sync/email/flags.toml)
//! step "set flag" at suites/sync/email/flags.toml:20:1
//!   sent: POST Sync (14.1, device main) -> HTTP 200
//!   ...
//!
//! 12 passed, 1 failed, 2 skipped, 1 errors, 1 known deviations; 134 requests in 1.4 s
//! ```
//!
//! One line per suite (`XFAIL`: a failure the target profile records as a
//! known deviation of the server; `XPASS`: a recorded deviation that no
//! longer shows, which fails the run), then the details of each failed or
//! errored suite
//! ([`super::step_problem`]), notes on snapshots recorded for the first
//! time, and the summary. Colour (ANSI) only when the caller asks, which it
//! decides from the terminal and `NO_COLOR`.

use std::fmt::Write as _;

use super::{Paint, new_snapshot_note, seconds, step_problem, summary_line};
use crate::runner::outcome::{RunOutcome, SuiteStatus};

/// The report as text (ends with a newline).
pub fn render(outcome: &RunOutcome, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    let t = &outcome.target;
    let _ = writeln!(
        out,
        "target {} (profile {}, protocol {})\n",
        t.url, t.profile, t.version
    );

    for suite in &outcome.suites {
        let steps = match suite.steps.len() {
            1 => "1 step".to_string(),
            n => format!("{n} steps"),
        };
        let line = match &suite.status {
            SuiteStatus::Passed => format!(
                "{}  {}  {steps}  {}",
                paint.green("PASS"),
                suite.id,
                seconds(suite.duration)
            ),
            SuiteStatus::Failed => format!(
                "{}  {}  {steps}  {}",
                paint.red("FAIL"),
                suite.id,
                seconds(suite.duration)
            ),
            SuiteStatus::Skipped(why) => format!("{}  {} — {why}", paint.yellow("SKIP"), suite.id),
            SuiteStatus::Error(why) => format!("{} {} — {why}", paint.red("ERROR"), suite.id),
            SuiteStatus::KnownDeviation(why) => format!(
                "{} {} — known deviation: {why}",
                paint.yellow("XFAIL"),
                suite.id
            ),
            SuiteStatus::DeviationFixed(why) => {
                format!("{} {} — {why}", paint.red("XPASS"), suite.id)
            }
        };
        let _ = writeln!(out, "{line}");
    }

    for suite in &outcome.suites {
        let label = match suite.status {
            SuiteStatus::Failed => "FAIL",
            SuiteStatus::Error(_) => "ERROR",
            _ => continue,
        };
        let _ = writeln!(
            out,
            "\n{}",
            paint.bold(&format!("{label} {} ({})", suite.id, suite.file.display()))
        );
        if let SuiteStatus::Error(why) = &suite.status {
            let _ = writeln!(out, "{why}");
        }
        for step in &suite.steps {
            if let Some(problem) = step_problem(suite, step, color) {
                out.push_str(&problem);
            }
        }
    }

    let notes: Vec<String> = outcome
        .suites
        .iter()
        .flat_map(|s| {
            s.steps
                .iter()
                .filter_map(move |step| new_snapshot_note(step).map(|n| format!("{}: {n}", s.id)))
        })
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "{n}");
        }
    }

    let _ = writeln!(out, "\n{}", summary_line(outcome));
    out
}
