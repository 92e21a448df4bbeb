//! The reports (console, JUnit, JSON) of hand-built run outcomes: a passed
//! suite, a failed one (an expectation and a snapshot diff), a skipped one
//! and one that could not run. They must say the same things, and nothing
//! the outcome does not hold.

use std::path::PathBuf;
use std::time::Duration;

use eastest::report::{console, json, junit};
use eastest::runner::outcome::{
    Exchange, Failure, RunOutcome, SnapshotOutcome, StepOutcome, StepResult, SuiteOutcome,
    SuiteStatus, TargetInfo,
};
use eastest::runner::snapshot::{SnapshotMode, SnapshotStore};
use eastest::suite::Location;
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};

fn loc(line: usize, column: usize) -> Location {
    Location { line, column }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A secret that must never reach a report: the outcome never holds it
/// (the runner keeps credentials out of it), so neither may the reports.
const SECRET: &str = "czNjcjN0";

const OLD_SNAPSHOT: &str = "HTTP 200\ncontent-type: application/vnd.ms-sync.wbxml\n\n<AirSync:Sync>\n  <AirSync:Collections>\n    <AirSync:Collection>\n      <AirSync:SyncKey>[SyncKey]</AirSync:SyncKey>\n      <AirSync:CollectionId>[ServerId 1]</AirSync:CollectionId>\n      <AirSync:Status>1</AirSync:Status>\n    </AirSync:Collection>\n  </AirSync:Collections>\n</AirSync:Sync>";

fn new_snapshot() -> String {
    OLD_SNAPSHOT.replace(
        "<AirSync:Status>1</AirSync:Status>",
        "<AirSync:Status>4</AirSync:Status>",
    )
}

fn exchange(command: &str, response: &str) -> Exchange {
    Exchange {
        request_line: format!("POST {command} (14.1, device main)"),
        request_body: Some(format!("<{command} xmlns=\"AirSync:\"/>")),
        http_status: 200,
        response: response.to_string(),
    }
}

fn outcome() -> RunOutcome {
    let passed = SuiteOutcome {
        id: "folders/hierarchy".into(),
        name: "FolderSync lists the default folders".into(),
        file: PathBuf::from("suites/folders/hierarchy.toml"),
        status: SuiteStatus::Passed,
        steps: vec![
            StepOutcome {
                name: "hierarchy".into(),
                location: loc(8, 1),
                result: StepResult::Passed,
                duration: ms(40),
                exchange: Some(exchange("FolderSync", "HTTP 200\n\n(empty body)")),
                snapshot: SnapshotOutcome::Matched,
            },
            StepOutcome {
                name: "again".into(),
                location: loc(15, 1),
                result: StepResult::Passed,
                duration: ms(30),
                exchange: Some(exchange("FolderSync", "HTTP 200\n\n(empty body)")),
                snapshot: SnapshotOutcome::New {
                    file: PathBuf::from("snapshots/mock/folders/hierarchy/again.snap.new"),
                    written: true,
                },
            },
        ],
        duration: ms(120),
    };
    let failed = SuiteOutcome {
        id: "sync/email/flags".into(),
        name: "Flags round-trip".into(),
        file: PathBuf::from("suites/sync/email/flags.toml"),
        status: SuiteStatus::Failed,
        steps: vec![
            StepOutcome {
                name: "initial sync".into(),
                location: loc(10, 1),
                result: StepResult::Passed,
                duration: ms(50),
                exchange: Some(exchange("Sync", OLD_SNAPSHOT)),
                snapshot: SnapshotOutcome::Matched,
            },
            StepOutcome {
                name: "set flag".into(),
                location: loc(20, 1),
                result: StepResult::Failed(vec![
                    Failure {
                        location: loc(24, 5),
                        expectation: r#"{ path = "//AirSync:Collection/AirSync:Status", status = 1 }"#
                            .into(),
                        message: "Status 4 (ProtocolError)".into(),
                    },
                    Failure {
                        location: loc(20, 1),
                        expectation: "snapshot".into(),
                        message: "the response differs from snapshots/mock/sync/email/flags/set-flag.snap.new".into(),
                    },
                ]),
                duration: ms(60),
                exchange: Some(exchange("Sync", &new_snapshot())),
                snapshot: SnapshotOutcome::Changed {
                    file: PathBuf::from("snapshots/mock/sync/email/flags/set-flag.snap.new"),
                    old: OLD_SNAPSHOT.into(),
                    new: new_snapshot(),
                    written: true,
                },
            },
            StepOutcome {
                name: "check flag".into(),
                location: loc(30, 1),
                result: StepResult::Skipped("an earlier step failed".into()),
                duration: Duration::ZERO,
                exchange: None,
                snapshot: SnapshotOutcome::None,
            },
        ],
        duration: ms(400),
    };
    let skipped = SuiteOutcome {
        id: "find/basic".into(),
        name: "Find".into(),
        file: PathBuf::from("suites/find/basic.toml"),
        status: SuiteStatus::Skipped("needs Find, which the server does not advertise".into()),
        steps: vec![],
        duration: Duration::ZERO,
    };
    let error = SuiteOutcome {
        id: "ping/wake".into(),
        name: "Ping wakes up".into(),
        file: PathBuf::from("suites/ping/wake.toml"),
        status: SuiteStatus::Error("step `ping`: connection refused".into()),
        steps: vec![StepOutcome {
            name: "ping".into(),
            location: loc(5, 1),
            result: StepResult::Error("connection refused".into()),
            duration: ms(3),
            exchange: None,
            snapshot: SnapshotOutcome::None,
        }],
        duration: ms(5),
    };
    RunOutcome {
        target: TargetInfo {
            url: "http://127.0.0.1:8080/Microsoft-Server-ActiveSync".into(),
            profile: "mock".into(),
            version: "14.1".into(),
        },
        suites: vec![passed, failed, skipped, error],
        duration: ms(1430),
        requests: 134,
    }
}

#[test]
fn console_report() {
    let text = console::render(&outcome(), false);
    insta::assert_snapshot!("console", text);
    assert!(!text.contains('\x1b'), "no colour unless asked");
}

/// The runner's snapshot store reads a file insta itself wrote (this test
/// binary's console snapshot) as equal to the same text.
#[test]
fn the_store_reads_snapshots_insta_wrote() {
    let root = std::env::temp_dir().join(format!("eastest-report-{}", std::process::id()));
    let dir = root.join("reports");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let insta_file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/report__console.snap");
    std::fs::copy(&insta_file, dir.join("console.snap")).expect("copy insta's file");
    let store = SnapshotStore::new(root.clone(), SnapshotMode::Check);
    let text = console::render(&outcome(), false);
    let result = store.check(
        "reports",
        std::path::Path::new("tests/report.rs"),
        "console",
        &text,
    );
    let changed = store.check(
        "reports",
        std::path::Path::new("tests/report.rs"),
        "console",
        "other",
    );
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(result.expect("readable"), SnapshotOutcome::Matched);
    assert!(matches!(
        changed.expect("readable"),
        SnapshotOutcome::Changed { .. }
    ));
}

#[test]
fn console_colour_only_when_asked() {
    let text = console::render(&outcome(), true);
    assert!(text.contains("\x1b[32mPASS\x1b[0m"), "{text}");
    assert!(
        text.contains("\x1b[31m-      <AirSync:Status>1</AirSync:Status>\x1b[0m"),
        "{text}"
    );
    assert!(
        text.contains("\x1b[32m+      <AirSync:Status>4</AirSync:Status>\x1b[0m"),
        "{text}"
    );
}

#[test]
fn console_lines_and_summary() {
    let text = console::render(&outcome(), false);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"PASS  folders/hierarchy  2 steps  0.12 s"));
    assert!(lines.contains(&"FAIL  sync/email/flags  3 steps  0.40 s"));
    assert!(lines.contains(&"SKIP  find/basic — needs Find, which the server does not advertise"));
    assert!(lines.contains(&"ERROR ping/wake — step `ping`: connection refused"));
    assert_eq!(
        lines.last(),
        Some(&"1 passed, 1 failed, 1 skipped, 1 errors; 134 requests in 1.4 s")
    );
    // Where the expectation is written, as written, and what came back.
    assert!(
        lines.contains(&"  suites/sync/email/flags.toml:24:5"),
        "{text}"
    );
    assert!(text.contains(
        "    expected: { path = \"//AirSync:Collection/AirSync:Status\", status = 1 }\n    got:      Status 4 (ProtocolError)\n"
    ));
    // The diff, with its hunk header and 3 lines of context.
    assert!(text.contains("  @@ -"), "{text}");
    assert!(text.contains("   </AirSync:Collections>\n"), "{text}");
    assert!(
        !text.contains("   <AirSync:Sync>\n"),
        "4 lines away: outside the context"
    );
}

#[test]
fn junit_report() {
    let xml = junit::render(&outcome());
    let report = Report::deserialize_from_str(&xml).expect("the JUnit XML parses");
    assert_eq!(report.test_suites.len(), 4);
    let by_name = |name: &str| {
        report
            .test_suites
            .iter()
            .find(|s| s.name.as_str() == name)
            .unwrap_or_else(|| panic!("testsuite {name}"))
    };

    let passed = by_name("folders/hierarchy");
    assert_eq!(
        (passed.tests, passed.failures, passed.errors, passed.skipped),
        (2, 0, 0, 0)
    );
    assert!(
        passed
            .test_cases
            .iter()
            .all(|c| c.classname.as_ref().map(|c| c.as_str()) == Some("folders/hierarchy"))
    );
    assert_eq!(passed.test_cases[0].name.as_str(), "hierarchy");
    assert_eq!(passed.test_cases[0].time, Some(ms(40)));

    let failed = by_name("sync/email/flags");
    assert_eq!(
        (failed.tests, failed.failures, failed.errors, failed.skipped),
        (3, 1, 0, 1)
    );
    match &failed.test_cases[1].status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            description,
            ..
        } => {
            assert_eq!(
                message.as_ref().map(|m| m.as_str()),
                Some(
                    r#"expected { path = "//AirSync:Collection/AirSync:Status", status = 1 }, got Status 4 (ProtocolError)"#
                )
            );
            // The same text as the console's.
            let console = console::render(&outcome(), false);
            let description = description.as_ref().expect("a failure text").as_str();
            assert!(console.contains(description.trim_end()), "{description}");
            assert!(description.contains("+      <AirSync:Status>4</AirSync:Status>"));
        }
        other => panic!("set flag: {other:?}"),
    }
    match &failed.test_cases[2].status {
        TestCaseStatus::Skipped { message, .. } => assert_eq!(
            message.as_ref().map(|m| m.as_str()),
            Some("an earlier step failed")
        ),
        other => panic!("check flag: {other:?}"),
    }

    let skipped = by_name("find/basic");
    assert_eq!((skipped.tests, skipped.skipped), (1, 1));
    assert_eq!(skipped.test_cases[0].name.as_str(), "suite");
    assert!(matches!(
        &skipped.test_cases[0].status,
        TestCaseStatus::Skipped { message: Some(m), .. }
            if m.as_str() == "needs Find, which the server does not advertise"
    ));

    let error = by_name("ping/wake");
    assert_eq!((error.tests, error.errors, error.failures), (1, 1, 0));
    assert!(matches!(
        &error.test_cases[0].status,
        TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, message: Some(m), .. }
            if m.as_str() == "connection refused"
    ));
}

#[test]
fn junit_suite_that_could_not_start() {
    let mut o = outcome();
    o.suites = vec![SuiteOutcome {
        id: "bad/suite".into(),
        name: "Bad".into(),
        file: PathBuf::from("suites/bad/suite.toml"),
        status: SuiteStatus::Error("the server is unreachable".into()),
        steps: vec![],
        duration: Duration::ZERO,
    }];
    let report = Report::deserialize_from_str(&junit::render(&o)).expect("parses");
    let s = &report.test_suites[0];
    assert_eq!((s.tests, s.errors), (1, 1));
    assert_eq!(s.test_cases[0].name.as_str(), "suite");
}

#[test]
fn json_report() {
    let text = json::render(&outcome());
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["format"], 1);
    assert_eq!(v["target"]["profile"], "mock");
    assert_eq!(v["target"]["version"], "14.1");
    let summary = &v["summary"];
    assert_eq!(
        (
            &summary["suites"],
            &summary["passed"],
            &summary["failed"],
            &summary["skipped"],
            &summary["errors"],
            &summary["requests"]
        ),
        (
            &4.into(),
            &1.into(),
            &1.into(),
            &1.into(),
            &1.into(),
            &134.into()
        )
    );
    assert_eq!(summary["duration_s"], 1.43);

    let suites = v["suites"].as_array().expect("suites");
    let statuses: Vec<&str> = suites
        .iter()
        .map(|s| s["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(statuses, ["passed", "failed", "skipped", "error"]);
    assert_eq!(
        suites[2]["reason"],
        "needs Find, which the server does not advertise"
    );
    assert_eq!(suites[3]["reason"], "step `ping`: connection refused");

    let step = &suites[1]["steps"][1];
    assert_eq!(step["name"], "set flag");
    assert_eq!(step["status"], "failed");
    assert_eq!(step["location"]["line"], 20);
    assert_eq!(step["failures"][0]["location"]["column"], 5);
    assert_eq!(step["failures"][0]["message"], "Status 4 (ProtocolError)");
    assert_eq!(step["exchange"]["http_status"], 200);
    assert_eq!(
        step["exchange"]["request_line"],
        "POST Sync (14.1, device main)"
    );
    assert_eq!(step["snapshot"]["status"], "changed");
    assert_eq!(step["snapshot"]["written"], true);
    let diff = step["snapshot"]["diff"].as_str().expect("a diff");
    assert!(diff.contains(
        "-      <AirSync:Status>1</AirSync:Status>\n+      <AirSync:Status>4</AirSync:Status>"
    ));
    assert_eq!(suites[1]["steps"][2]["status"], "skipped");
    assert_eq!(suites[0]["steps"][1]["snapshot"]["status"], "new");
    assert_eq!(
        suites[0]["steps"][0]["snapshot"]["file"],
        serde_json::Value::Null
    );
    assert_eq!(suites[3]["steps"][0]["status"], "error");
    assert_eq!(suites[3]["steps"][0]["exchange"], serde_json::Value::Null);

    // The documented field names, and no others.
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v), ["format", "suites", "summary", "target"]);
    assert_eq!(
        keys(&suites[1]),
        [
            "duration_s",
            "file",
            "id",
            "name",
            "reason",
            "status",
            "steps"
        ]
    );
    assert_eq!(
        keys(step),
        [
            "duration_s",
            "exchange",
            "failures",
            "location",
            "name",
            "reason",
            "snapshot",
            "status"
        ]
    );
    assert_eq!(
        keys(&step["exchange"]),
        ["http_status", "request_body", "request_line", "response"]
    );
}

#[test]
fn reports_print_only_what_the_outcome_holds() {
    // Everything a report prints of a step's exchange comes from the fields
    // of `Exchange`; a marker placed in each shows up, so the reports do
    // print them, and the secret, which no field holds, appears nowhere.
    let mut o = outcome();
    let step = &mut o.suites[1].steps[1];
    let x = step.exchange.as_mut().expect("exchange");
    x.request_line = "POST Sync (14.1, device main) [line-marker]".into();
    x.request_body = Some("<Sync xmlns=\"AirSync:\">[body-marker]</Sync>".into());
    for text in [
        console::render(&o, false),
        console::render(&o, true),
        junit::render(&o),
        json::render(&o),
    ] {
        assert!(text.contains("[line-marker]"));
        assert!(!text.contains(SECRET));
        assert!(!text.to_ascii_lowercase().contains("authorization"));
    }
    // The request body is for tools only (JSON), not for the console.
    assert!(json::render(&o).contains("[body-marker]"));
    assert!(!console::render(&o, false).contains("[body-marker]"));
}
