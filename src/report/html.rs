//! The HTML report (`eastest run --html FILE`): one self-contained page for
//! people, typically a CI artifact opened from the job's summary.
//!
//! The page holds everything inline (styles; no script, no font, no image,
//! no link to anything outside it), so it opens offline and from a zip.
//! It shows:
//!
//! - a summary (the same line as the console) and the target;
//! - filters for all / failed / skipped suites: radio buttons and CSS
//!   `:has()` rules, so filtering works without JavaScript (and so the page
//!   cannot raise a script error);
//! - per suite (`<section class="suite" data-status=...>`, failed ones
//!   open) and per step (`<div class="step" data-status=...>`): the result,
//!   the failure text the console prints ([`super::step_problem`]), the
//!   request (line and XML body) and the response (the normalised snapshot
//!   text: decoded XML);
//! - for a changed snapshot, a side-by-side diff (`<table class="diff">`,
//!   recorded on the left, new on the right, [`DIFF_CONTEXT`] lines of
//!   context around each change).
//!
//! Like the other reports it prints only what the outcome holds, which
//! never carries credentials (see [`crate::report`]); every text is
//! HTML-escaped.

use std::fmt::Write as _;

use similar::{DiffTag, TextDiff};

use super::{DIFF_CONTEXT, Totals, seconds, step_failed, step_problem, summary_line};
use crate::runner::outcome::{
    RunOutcome, SnapshotOutcome, StepOutcome, StepResult, SuiteOutcome, SuiteStatus,
};

/// Where [`step_problem`] starts its snapshot diff (uncoloured).
const SNAPSHOT_CHANGED: &str = "\n  snapshot changed (";

/// The page's styles, inline so the page needs nothing else.
const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 0 1.5em 2em; color: #222; }
h1 { font-size: 1.4em; margin: .8em 0 .2em; }
.summary { font-weight: bold; }
nav.filters { margin: .6em 0 1em; }
nav.filters label { margin-right: 1em; cursor: pointer; }
section.suite { border: 1px solid #ccc; border-left-width: 6px; margin: .4em 0; padding: 0 .6em; }
section.suite > details > summary { cursor: pointer; padding: .3em 0; }
[data-status=passed] { border-left-color: #2a7; }
[data-status=failed], [data-status=error], [data-status=xpass] { border-left-color: #c33; }
[data-status=skipped], [data-status=xfail] { border-left-color: #c90; }
.badge { display: inline-block; min-width: 3.5em; font-weight: bold; }
.badge.passed { color: #2a7; } .badge.failed, .badge.error, .badge.xpass { color: #c33; } .badge.skipped, .badge.xfail { color: #c90; }
.muted { color: #777; }
div.step { border-left: 4px solid #ccc; margin: .5em 0 .5em .5em; padding-left: .6em; }
pre { background: #f6f6f6; padding: .5em; overflow-x: auto; margin: .3em 0; }
table.diff { border-collapse: collapse; width: 100%; table-layout: fixed; font: 12px/1.3 monospace; }
table.diff td { vertical-align: top; white-space: pre-wrap; word-break: break-all; padding: 0 .4em; }
table.diff th { text-align: left; background: #eee; padding: .2em .4em; }
table.diff td.num { width: 3em; color: #999; text-align: right; }
td.del { background: #fdd; } td.ins { background: #dfd; } tr.hunk td { background: #eef; color: #557; }
body:has(#show-failed:checked) section.suite:not([data-status=failed]):not([data-status=error]):not([data-status=xpass]) { display: none; }
body:has(#show-skipped:checked) section.suite:not([data-status=skipped]) { display: none; }
"#;

/// The report page.
pub fn render(outcome: &RunOutcome) -> String {
    let totals = Totals::of(outcome);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>eastest: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&summary_line(outcome))
    );
    let _ = writeln!(out, "<header>\n<h1>eastest report</h1>");
    let _ = writeln!(
        out,
        "<p class=\"target\">target {} (profile {}, protocol {})</p>",
        escape(&outcome.target.url),
        escape(&outcome.target.profile),
        escape(&outcome.target.version)
    );
    let _ = writeln!(
        out,
        "<p id=\"summary\" class=\"summary\">{}</p>",
        escape(&summary_line(outcome))
    );
    let _ = writeln!(
        out,
        "<nav class=\"filters\">show: \
         <label><input type=\"radio\" name=\"show\" id=\"show-all\" checked> all ({})</label>\
         <label><input type=\"radio\" name=\"show\" id=\"show-failed\"> failed ({})</label>\
         <label><input type=\"radio\" name=\"show\" id=\"show-skipped\"> skipped ({})</label>\
         </nav>\n</header>\n<main>",
        outcome.suites.len(),
        totals.failed + totals.errors,
        totals.skipped
    );
    for suite in &outcome.suites {
        render_suite(&mut out, suite);
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// `passed`, `failed`, `skipped`, `error`, `xfail` (a known deviation),
/// `xpass` (a recorded deviation that passed): the `data-status` and badge
/// class.
fn suite_status(status: &SuiteStatus) -> &'static str {
    match status {
        SuiteStatus::Passed => "passed",
        SuiteStatus::Failed => "failed",
        SuiteStatus::Skipped(_) => "skipped",
        SuiteStatus::Error(_) => "error",
        SuiteStatus::KnownDeviation(_) => "xfail",
        SuiteStatus::DeviationFixed(_) => "xpass",
    }
}

fn step_status(step: &StepOutcome) -> &'static str {
    match &step.result {
        StepResult::Error(_) => "error",
        StepResult::Skipped(_) => "skipped",
        _ if step_failed(step) => "failed",
        _ => "passed",
    }
}

fn badge(status: &str) -> String {
    let text = match status {
        "passed" => "PASS",
        "failed" => "FAIL",
        "skipped" => "SKIP",
        "xfail" => "XFAIL",
        "xpass" => "XPASS",
        _ => "ERROR",
    };
    format!("<span class=\"badge {status}\">{text}</span>")
}

fn render_suite(out: &mut String, suite: &SuiteOutcome) {
    let status = suite_status(&suite.status);
    let open = if matches!(status, "failed" | "error" | "xpass") {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<section class=\"suite\" id=\"suite-{}\" data-status=\"{status}\">\n<details{open}>\n\
         <summary>{} <strong>{}</strong> {} <span class=\"muted\">{} &middot; {} step(s) &middot; {}</span></summary>",
        escape(&anchor(&suite.id)),
        badge(status),
        escape(&suite.id),
        escape(&suite.name),
        escape(&suite.file.display().to_string()),
        suite.steps.len(),
        seconds(suite.duration)
    );
    match &suite.status {
        SuiteStatus::Skipped(why) | SuiteStatus::Error(why) | SuiteStatus::DeviationFixed(why) => {
            let _ = writeln!(out, "<p class=\"reason\">{}</p>", escape(why));
        }
        SuiteStatus::KnownDeviation(why) => {
            let _ = writeln!(
                out,
                "<p class=\"reason\">known deviation of the target from the spec: {}</p>",
                escape(why)
            );
        }
        SuiteStatus::Passed | SuiteStatus::Failed => {}
    }
    for step in &suite.steps {
        render_step(out, suite, step);
    }
    out.push_str("</details>\n</section>\n");
}

fn render_step(out: &mut String, suite: &SuiteOutcome, step: &StepOutcome) {
    let status = step_status(step);
    let _ = writeln!(
        out,
        "<div class=\"step\" data-status=\"{status}\">\n<h3>{} {} <span class=\"muted\">line {} &middot; {}</span></h3>",
        badge(status),
        escape(&step.name),
        step.location.line,
        seconds(step.duration)
    );
    if let StepResult::Skipped(why) = &step.result {
        let _ = writeln!(out, "<p class=\"reason\">{}</p>", escape(why));
    }
    if let Some(problem) = step_problem(suite, step, false) {
        // The console's unified diff is replaced by the side-by-side one below.
        let problem = match problem.find(SNAPSHOT_CHANGED) {
            Some(i) => &problem[..i],
            None => &problem,
        };
        let _ = writeln!(out, "<pre class=\"problem\">{}</pre>", escape(problem));
    }
    if let SnapshotOutcome::Changed { file, old, new, .. } = &step.snapshot {
        let _ = writeln!(
            out,
            "<p>snapshot changed: <code>{}</code></p>",
            escape(&file.display().to_string())
        );
        side_by_side(out, old, new);
    }
    if let Some(x) = &step.exchange {
        let mut request = x.request_line.clone();
        if let Some(body) = &x.request_body {
            request.push('\n');
            request.push_str(body);
        }
        let _ = writeln!(
            out,
            "<details class=\"request\"><summary>request</summary><pre class=\"xml\">{}</pre></details>",
            escape(&request)
        );
        let _ = writeln!(
            out,
            "<details class=\"response\"><summary>response (HTTP {})</summary><pre class=\"xml\">{}</pre></details>",
            x.http_status,
            escape(&x.response)
        );
    }
    out.push_str("</div>\n");
}

/// A two-column diff of a snapshot: the recorded text on the left, the new
/// one on the right, changed lines paired row by row.
fn side_by_side(out: &mut String, old: &str, new: &str) {
    // Normalised like the unified diff, so line numbers agree with it.
    let old = format!("{}\n", old.trim_end_matches('\n'));
    let new = format!("{}\n", new.trim_end_matches('\n'));
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let diff = TextDiff::from_lines(&old, &new);
    out.push_str(
        "<table class=\"diff\">\n<colgroup><col style=\"width:3em\"><col><col style=\"width:3em\"><col></colgroup>\n\
         <tr><th colspan=\"2\">recorded</th><th colspan=\"2\">new</th></tr>\n",
    );
    let cell = |out: &mut String, lines: &[&str], index: Option<usize>, class: &str| match index
        .and_then(|i| lines.get(i).map(|l| (i, l)))
    {
        Some((i, line)) => {
            let _ = write!(
                out,
                "<td class=\"num\">{}</td><td class=\"{class}\">{}</td>",
                i + 1,
                escape(line)
            );
        }
        None => out.push_str("<td class=\"num\"></td><td></td>"),
    };
    for group in diff.grouped_ops(DIFF_CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (old_start, new_start) = (first.old_range().start, first.new_range().start);
        let _ = writeln!(
            out,
            "<tr class=\"hunk\"><td colspan=\"4\">@@ -{},{} +{},{} @@</td></tr>",
            old_start + 1,
            last.old_range().end - old_start,
            new_start + 1,
            last.new_range().end - new_start
        );
        for op in &group {
            let (tag, old_range, new_range) = op.as_tag_tuple();
            let rows = old_range.len().max(new_range.len());
            let (old_class, new_class) = match tag {
                DiffTag::Equal => ("eq", "eq"),
                _ => ("del", "ins"),
            };
            for row in 0..rows {
                out.push_str("<tr>");
                let o = (row < old_range.len()).then_some(old_range.start + row);
                let n = (row < new_range.len()).then_some(new_range.start + row);
                cell(out, &old_lines, o, old_class);
                cell(out, &new_lines, n, new_class);
                out.push_str("</tr>\n");
            }
        }
    }
    out.push_str("</table>\n");
}

/// A suite id as an HTML id (`sync/email/flags` -> `sync-email-flags`).
fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Escapes text for HTML element content and double-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_changed_line_is_paired_side_by_side() {
        let mut out = String::new();
        side_by_side(&mut out, "a\nb\nc\n", "a\nB\nc\n");
        assert!(
            out.contains("<td class=\"num\">2</td><td class=\"del\">b</td><td class=\"num\">2</td><td class=\"ins\">B</td>"),
            "{out}"
        );
        assert!(out.contains("@@ -1,3 +1,3 @@"), "{out}");
    }
}
