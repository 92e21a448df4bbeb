//! The JUnit XML report, for CI systems (quick-junit).
//!
//! - one `<testsuite>` per suite, named by the suite id, with the target's
//!   URL, profile and protocol version as properties;
//! - one `<testcase>` per step: `classname` = suite id, `name` = step name,
//!   `time` = the step's duration;
//! - `<failure>` when an expectation did not hold or the snapshot changed
//!   (the server answered, differently), `<error>` when the step could not
//!   be carried out, `<skipped>` with the reason for a step not run;
//! - a skipped suite is one testcase `suite`, skipped with the reason; a
//!   suite that errored without any step carrying the error (it could not
//!   start) is one testcase `suite` with the error.
//!
//! The failure's text is the console's ([`super::step_problem`], without
//! colour); its `message` is the first thing that went wrong.

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{step_failed, step_problem};
use crate::runner::outcome::{RunOutcome, SnapshotOutcome, StepResult, SuiteStatus};

/// The testcase name of a suite-level result.
pub const SUITE_CASE: &str = "suite";

/// The report as an XML document.
pub fn render(outcome: &RunOutcome) -> String {
    let mut report = Report::new("eastest");
    report.set_time(outcome.duration);
    for suite in &outcome.suites {
        let mut ts = TestSuite::new(suite.id.as_str());
        ts.set_time(suite.duration);
        ts.add_property(Property::new("target", outcome.target.url.as_str()));
        ts.add_property(Property::new("profile", outcome.target.profile.as_str()));
        ts.add_property(Property::new("protocol", outcome.target.version.as_str()));
        ts.add_property(Property::new("file", suite.file.display().to_string()));

        match &suite.status {
            SuiteStatus::Skipped(why) => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(why.as_str());
                ts.add_test_case(case(&suite.id, SUITE_CASE, status));
            }
            SuiteStatus::Error(why)
                if !suite
                    .steps
                    .iter()
                    .any(|s| matches!(s.result, StepResult::Error(_))) =>
            {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(why.as_str());
                ts.add_test_case(case(&suite.id, SUITE_CASE, status));
            }
            SuiteStatus::DeviationFixed(why) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(why.as_str());
                ts.add_test_case(case(&suite.id, SUITE_CASE, status));
            }
            _ => {}
        }
        // An expected failure: JUnit has no such result, so the failing
        // step is reported as skipped with the recorded reason (as pytest
        // reports xfail), and CI gating on JUnit does not fail on it.
        let known = match &suite.status {
            SuiteStatus::KnownDeviation(why) => Some(why.as_str()),
            _ => None,
        };

        for step in &suite.steps {
            let text = step_problem(suite, step, false);
            let status = match &step.result {
                StepResult::Error(_) | StepResult::Failed(_) if known.is_some() => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(format!(
                        "expected failure, known deviation: {}",
                        known.unwrap_or_default()
                    ));
                    if let Some(t) = text {
                        s.set_description(t);
                    }
                    s
                }
                StepResult::Error(why) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(why.as_str());
                    if let Some(t) = text {
                        s.set_description(t);
                    }
                    s
                }
                StepResult::Skipped(why) if !step_failed(step) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(why.as_str());
                    s
                }
                _ if step_failed(step) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(first_failure(step));
                    if let Some(t) = text {
                        s.set_description(t);
                    }
                    s
                }
                _ => TestCaseStatus::success(),
            };
            let mut tc = case(&suite.id, &step.name, status);
            tc.set_time(step.duration);
            ts.add_test_case(tc);
        }
        report.add_test_suite(ts);
    }
    // Serialising an in-memory report only fails on a writer error, which a
    // String cannot have; say so in the document rather than panic.
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot write the JUnit report: {e} -->\n"))
}

fn case(classname: &str, name: &str, status: TestCaseStatus) -> TestCase {
    let mut tc = TestCase::new(name, status);
    tc.set_classname(classname);
    tc
}

/// The first thing that went wrong, for the failure's `message`.
fn first_failure(step: &crate::runner::outcome::StepOutcome) -> String {
    if let StepResult::Failed(failures) = &step.result
        && let Some(f) = failures
            .iter()
            .find(|f| f.expectation != super::SNAPSHOT_FAILURE)
    {
        return format!("expected {}, got {}", f.expectation, f.message);
    }
    match &step.snapshot {
        SnapshotOutcome::Changed { file, .. } => {
            format!("snapshot changed: {}", file.display())
        }
        _ => "failed".to_string(),
    }
}
