//! Every suite in `suites/` as one `cargo test` test (rstest's `#[files]`;
//! `build.rs` makes cargo notice new suite files), run against the embedded
//! mock, or against a lab server when `EASTEST_URL` is set (with
//! `EASTEST_USER`, `EASTEST_PASSWORD` or `EASTEST_PASSWORD_FILE`,
//! `EASTEST_PROFILE`, optionally `EASTEST_VERSION`). Each step's normalised
//! response is compared with insta under `snapshots/<profile>/<version>/`,
//! so `cargo insta review` accepts or rejects changes; with `CI=true`
//! nothing is written and a difference fails.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eastest::embedded::MockTargets;
use eastest::runner::outcome::{RunOutcome, SuiteStatus, TargetInfo};
use eastest::runner::snapshot::slug;
use eastest::runner::{RunOptions, Targets, run_suite};
use eastest::suite::TargetProfile;
use rstest::rstest;

mod lab;
use lab::lab;

/// The protocol versions every suite runs at against the embedded mock
/// (the corpus covers where they differ; a suite limits itself with
/// `versions`). Against a lab server: `EASTEST_VERSION` alone.
const MOCK_VERSIONS: [&str; 3] = ["12.1", "14.1", "16.1"];

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite(
    #[files("suites/**/*.toml")] file: PathBuf,
    #[values(0, 1, 2)] version_index: usize,
) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let suite =
        eastest::suite::load(&file, &root).unwrap_or_else(|e| panic!("{}", e.render(false)));
    let mocks = MockTargets::new();
    let (target, profile, version, run_id) = match lab() {
        Some((target, profile, version)) => {
            // As `eastest run` makes them: always the same length, which
            // the message sizes in snapshots depend on.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let run_id = format!("run{now:010}");
            (target, profile, version, run_id)
        }
        None => (
            mocks
                .target_for(&suite)
                .await
                .expect("the embedded mock starts"),
            "mock".to_string(),
            MOCK_VERSIONS[version_index]
                .parse()
                .expect("a protocol version"),
            eastest::runner::DEFAULT_RUN_ID.to_string(),
        ),
    };
    if lab().is_some() && version_index > 0 {
        // A lab server runs at its one configured version (case 0).
        eprintln!("not run: against a lab server only EASTEST_VERSION is used (case 0)");
        mocks.shutdown().await;
        return;
    }
    let mut options = RunOptions::new(version, &profile);
    options.run_id = run_id;
    // The target profile (`snapshots/<profile>/target.toml`): declared
    // capabilities and known deviations of the server.
    options.target_profile = TargetProfile::find(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        &profile,
    )
    .unwrap_or_else(|e| panic!("{}", e.render(false)))
    .map(Arc::new);
    let (outcome, requests) = run_suite(&suite, &target, &options, None).await;
    mocks.shutdown().await;

    // The steps' snapshots, through insta.
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(&profile)
        .join(version.as_str())
        .join(&suite.id);
    for step in &outcome.steps {
        let Some(exchange) = &step.exchange else {
            continue;
        };
        let disabled = suite
            .steps
            .iter()
            .find(|s| s.name == step.name)
            .is_none_or(|s| s.snapshot.disabled);
        if disabled || exchange.response.is_empty() {
            continue;
        }
        insta::with_settings!({
            snapshot_path => &snapshots,
            prepend_module_to_snapshot => false,
            input_file => &file,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(slug(&step.name), &exchange.response);
        });
    }

    let report = eastest::report::console::render(
        &RunOutcome {
            target: TargetInfo {
                url: target.url.clone(),
                profile,
                version: version.to_string(),
            },
            suites: vec![outcome.clone()],
            duration: outcome.duration,
            requests,
        },
        false,
    );
    match &outcome.status {
        SuiteStatus::Passed => {}
        // Said, not silent: `cargo test -- --nocapture` shows why.
        SuiteStatus::Skipped(why) => eprintln!("skipped: {why}"),
        SuiteStatus::KnownDeviation(why) => eprintln!("expected failure: {why}\n{report}"),
        _ => panic!("{report}"),
    }
}
