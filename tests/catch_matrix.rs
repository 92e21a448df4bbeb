//! The catch matrix as a test (what `eastest matrix` prints): the clean
//! mock passes every suite in `suites/`, and every fault profile is caught
//! by at least one suite of `suites/regressions/`, with the failure naming
//! what changed.
//!
//! Kept fast on purpose: the clean run covers the whole corpus, each
//! profile runs only `suites/regressions/` (one suite or more per profile
//! lives there), expectations only (snapshots are `tests/suites.rs`'
//! business), with a short request timeout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use eastest::embedded::{Catch, Evidence, MatrixOptions, run_matrix_row};
use eastest::mock::Profile;
use eastest::protocol::ProtocolVersion;
use eastest::suite::Suite;

fn suites_under(folder: &str) -> Vec<Suite> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let files: Vec<PathBuf> =
        eastest::suite::discover(&root.join(folder)).expect("the suites folder reads");
    assert!(!files.is_empty(), "no suite under suites/{folder}");
    files
        .iter()
        .map(|f| eastest::suite::load(f, &root).unwrap_or_else(|e| panic!("{}", e.render(false))))
        .collect()
}

fn options() -> MatrixOptions {
    MatrixOptions {
        versions: vec![
            ProtocolVersion::V12_1,
            ProtocolVersion::V14_1,
            ProtocolVersion::V16_1,
        ],
        jobs: 16,
        snapshots: None,
        timeout: Duration::from_secs(10),
    }
}

fn list(catches: &[Catch]) -> String {
    catches
        .iter()
        .map(|c| format!("  {} @{}: {}", c.suite, c.version, c.describe()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_clean_mock_passes_and_every_profile_is_caught() {
    let options = options();
    let everything = suites_under("");
    let clean = run_matrix_row(&everything, &[], &options).await;
    assert!(
        clean.is_empty(),
        "the clean mock fails suites:\n{}",
        list(&clean)
    );

    let regressions = suites_under("regressions");
    let mut uncaught = Vec::new();
    for profile in Profile::all() {
        let catches = run_matrix_row(&regressions, &[profile], &options).await;
        if catches.is_empty() {
            uncaught.push(profile.name());
            continue;
        }
        // Every profile has a suite named after it that catches it on an
        // expectation (the evidence that says what the spec requires).
        assert!(
            catches
                .iter()
                .any(|c| c.suite.contains(profile.name()) && c.evidence == Evidence::Expectation),
            "{profile}: not caught by its own regression suite:\n{}",
            list(&catches)
        );
        match profile {
            Profile::Kb967525 => {
                let c = catches
                    .iter()
                    .find(|c| c.suite == "regressions/kb967525-supported-ghosting")
                    .expect("the KB967525 suite catches it");
                assert_eq!(c.step, "initial sync with Supported");
                assert!(
                    c.message.contains("Status 4 (ProtocolError)")
                        && c.message.contains("Status 1 (Success)"),
                    "{}",
                    c.describe()
                );
            }
            Profile::Kb923164 => {
                let status = catches
                    .iter()
                    .find(|c| c.suite == "regressions/kb923164-calendar-add-succeeds")
                    .expect("the add suite catches it");
                assert!(
                    status.message.contains("Status 5 (ServerError)"),
                    "{}",
                    status.describe()
                );
                let duplicates = catches
                    .iter()
                    .find(|c| c.suite == "regressions/kb923164-calendar-resend-no-duplicate")
                    .expect("the resend suite catches it");
                assert_eq!(duplicates.step, "reader: the appointment exists once");
                assert!(
                    duplicates.message.contains("2 element(s)")
                        && duplicates.message.contains("expected 1"),
                    "the duplicate shows: {}",
                    duplicates.describe()
                );
            }
            _ => {}
        }
    }
    assert!(uncaught.is_empty(), "no suite catches {uncaught:?}");
}
