//! `eastest run --html FILE`: one self-contained page with the summary, the
//! filters, each suite and step with its result, request and response, and a
//! side-by-side diff for a changed snapshot. Checked for its structure, and
//! loaded in headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs; the test fails without it): no console error, and the failing
//! step's diff is in the rendered page.

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eastest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("suites")).unwrap();
    dir
}

fn eastest(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(dir)
        .arg("run")
        .args(["--snapshots", "snaps", "--protocol", "14.1"])
        .args(args)
        .env_remove("CI")
        .env_remove("EASTEST_URL")
        .env_remove("EASTEST_PROFILE")
        .env_remove("EASTEST_VERSION")
        .output()
        .unwrap()
}

/// The `data-status` of the suite section with this id.
fn section_status<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(
            "<section class=\"suite\" id=\"suite-{id}\" data-status=\""
        ))
        .unwrap_or_else(|| panic!("no section for {id}"));
    let rest = &html[start..];
    let value = &rest[rest.find("data-status=\"").unwrap() + 13..];
    &value[..value.find('"').unwrap()]
}

#[test]
fn the_html_report_shows_results_exchanges_and_a_side_by_side_diff() {
    let dir = temp_dir("html");
    let suite = |name: &str, text: &str| {
        std::fs::write(dir.join(format!("suites/{name}.toml")), text).unwrap();
    };
    suite(
        "passes",
        "name = \"passes\"\n[[step]]\ncommand = \"OPTIONS\"\nsnapshot = false\n",
    );
    suite(
        "fails",
        "name = \"fails <on purpose>\"\n[[step]]\ncommand = \"OPTIONS\"\nhttp = 404\nsnapshot = false\n",
    );
    suite(
        "skipped",
        "name = \"skipped\"\nversions = \"16.1\"\n[[step]]\ncommand = \"OPTIONS\"\n",
    );
    suite(
        "changed",
        "name = \"changed\"\n[[step]]\nname = \"list folders\"\ncommand = \"FolderSync\"\nbody = \"\"\"\n<FolderSync xmlns=\"FolderHierarchy\"><SyncKey>0</SyncKey></FolderSync>\n\"\"\"\n",
    );
    // Record the snapshot, then alter the recorded text so the next run
    // finds it changed.
    let out = eastest(&dir, &["--update-snapshots", "--filter", "changed"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let snap = dir.join("snaps/mock/14.1/changed/list-folders.snap");
    let recorded = std::fs::read_to_string(&snap).unwrap();
    assert!(recorded.contains("Inbox"), "{recorded}");
    std::fs::write(&snap, recorded.replace("Inbox", "Old Inbox")).unwrap();

    let out = eastest(&dir, &["--html", "report.html"]);
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();

    // One page that needs nothing else: no script, no external resource.
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<meta charset=\"utf-8\">"));
    for outside in ["<script", "<link", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(outside), "{outside} in the page");
    }
    // Balanced structure.
    for tag in [
        "html", "body", "section", "details", "div", "table", "pre", "tr",
    ] {
        assert_eq!(
            html.matches(&format!("<{tag}")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}> not balanced"
        );
    }
    // The summary and the filters.
    assert!(
        html.contains(
            "<p id=\"summary\" class=\"summary\">1 passed, 2 failed, 1 skipped, 0 errors"
        ),
        "{html}"
    );
    assert!(html.contains("id=\"show-failed\"") && html.contains("id=\"show-skipped\""));
    assert!(html.contains("failed (2)") && html.contains("skipped (1)"));
    assert!(html.contains("body:has(#show-failed:checked)"));

    // Each suite with its status; text escaped.
    assert_eq!(section_status(&html, "passes"), "passed");
    assert_eq!(section_status(&html, "fails"), "failed");
    assert_eq!(section_status(&html, "skipped"), "skipped");
    assert_eq!(section_status(&html, "changed"), "failed");
    assert!(html.contains("fails &lt;on purpose&gt;"));
    assert!(!html.contains("<on purpose>"));
    // The failing expectation, as the console says it.
    assert!(html.contains("got HTTP 200"), "{html}");

    // The request and the decoded response of the FolderSync step.
    assert!(html.contains("&lt;FolderSync xmlns=&quot;FolderHierarchy&quot;&gt;&lt;SyncKey&gt;0"));
    assert!(html.contains("<summary>response (HTTP 200)</summary>"));

    // The side-by-side diff: the recorded line on the left, the new one on
    // the right, in the same row.
    let table = &html[html.find("<table class=\"diff\">").expect("no diff table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let row = table
        .lines()
        .find(|l| l.contains("Old Inbox"))
        .expect("no row with the recorded line");
    let (left, right) = row.split_at(row.find("class=\"ins\"").expect("no new line in the row"));
    assert!(
        left.contains("class=\"del\"") && left.contains("Old Inbox"),
        "{row}"
    );
    assert!(
        right.contains("Inbox") && !right.contains("Old Inbox"),
        "{row}"
    );
    // Shown once, side by side: not also as the console's unified diff.
    assert!(!html.contains("-      &lt;FolderHierarchy:DisplayName&gt;Old Inbox"));

    // In a real browser, offline: it loads without console errors and the
    // rendered document shows the failing step's diff.
    let page = dir.join("report.html");
    let profile = dir.join("chromium-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (Debian: apt-get install chromium)");
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert!(dom.contains("<table class=\"diff\">"), "{dom}");
    assert!(dom.contains("Old Inbox"), "{dom}");
    assert!(dom.contains("id=\"show-failed\""), "{dom}");
    let _ = std::fs::remove_dir_all(&dir);
}
