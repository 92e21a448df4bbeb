//! Determinism: two consecutive runs of the corpus against the same target
//! give identical snapshots, equal to the reviewed set
//! (`snapshots/<profile>/<version>/`), with no failure beyond the target
//! profile's known deviations. Against a lab server (`EASTEST_URL`, as in
//! `tests/suites.rs`) the second run meets the state the first left behind
//! (new DeviceIds, items the cleanup removed), so this shows that the
//! normalisation hides everything a run does not decide (ids, keys,
//! server-stamped times); against the embedded mock it shows the same for
//! the mock and the normaliser. Suites tagged `slow` are left out (a
//! minute of waiting, no snapshot the others lack).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use eastest::embedded::{LabTarget, MockTargets};
use eastest::protocol::ProtocolVersion;
use eastest::runner::outcome::{RunOutcome, SuiteStatus};
use eastest::runner::snapshot::{SnapshotMode, SnapshotStore};
use eastest::runner::{RunOptions, run};
use eastest::suite::{self, Suite, TargetProfile};

mod lab;
use lab::lab;

fn corpus() -> Vec<Suite> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    suite::discover(&root)
        .expect("the suites folder")
        .iter()
        .map(|f| suite::load(f, &root).unwrap_or_else(|e| panic!("{}", e.render(false))))
        .filter(|s| !s.tags.iter().any(|t| t == "slow"))
        .collect()
}

/// Every file below `dir`, by relative path, with its text.
fn read_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("a snapshot folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let text = std::fs::read_to_string(&path).expect("a snapshot file");
                let relative = path.strip_prefix(dir).expect("below dir").to_path_buf();
                files.insert(relative, text);
            }
        }
    }
    files
}

async fn run_once(dir: &Path, run_id: &str) -> RunOutcome {
    let suites = corpus();
    let store = SnapshotStore::new(dir.to_path_buf(), SnapshotMode::Update);
    match lab() {
        Some((target, profile, version)) => {
            let mut options = RunOptions::new(version, &profile);
            options.run_id = run_id.to_string();
            options.target_profile = TargetProfile::find(
                &Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
                &profile,
            )
            .unwrap_or_else(|e| panic!("{}", e.render(false)))
            .map(Arc::new);
            run(suites, Arc::new(LabTarget(target)), options, Some(store)).await
        }
        None => {
            let mut options = RunOptions::new(ProtocolVersion::V16_1, "mock");
            options.run_id = run_id.to_string();
            options.jobs = 2;
            let targets = Arc::new(MockTargets::new());
            let outcome = run(suites, targets.clone(), options, Some(store)).await;
            targets.shutdown().await;
            outcome
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_give_identical_snapshots() {
    let base = std::env::temp_dir().join(format!("eastest-determinism-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (first, second) = (base.join("first"), base.join("second"));
    // Two run ids of the length the reviewed snapshots were made with: the
    // id is in subjects, so its length is in message sizes.
    let ids = match lab() {
        Some(_) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            (format!("run{now:010}"), format!("run{:010}", now + 1))
        }
        None => ("runA".to_string(), "runB".to_string()),
    };
    let a = run_once(&first, &ids.0).await;
    let b = run_once(&second, &ids.1).await;

    // The same suites ended the same way both times.
    let statuses = |o: &RunOutcome| -> Vec<(String, String)> {
        o.suites
            .iter()
            .map(|s| {
                let status = match &s.status {
                    SuiteStatus::Skipped(_) => "skipped".to_string(),
                    other => format!("{other:?}"),
                };
                (s.id.clone(), status)
            })
            .collect()
    };
    assert_eq!(
        statuses(&a),
        statuses(&b),
        "suite results differ between runs"
    );

    let (one, two) = (read_tree(&first), read_tree(&second));
    assert!(
        one.len() > 100,
        "only {} snapshots recorded: did the corpus run?",
        one.len()
    );
    let only_one: Vec<_> = one.keys().filter(|k| !two.contains_key(*k)).collect();
    let only_two: Vec<_> = two.keys().filter(|k| !one.contains_key(*k)).collect();
    assert!(
        only_one.is_empty() && only_two.is_empty(),
        "snapshots of one run only: first {only_one:?}, second {only_two:?}"
    );
    let differing: Vec<String> = one
        .iter()
        .filter(|(k, v)| two.get(*k) != Some(*v))
        .map(|(k, v)| {
            let diff = similar::TextDiff::from_lines(v.as_str(), two[k].as_str());
            format!(
                "{}:\n{}",
                k.display(),
                diff.unified_diff().context_radius(2)
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "{} snapshot(s) differ between two runs:\n{}",
        differing.len(),
        differing.join("\n")
    );

    // Nothing failed beyond the target profile's known deviations, in
    // either run.
    let failing: Vec<String> = a
        .suites
        .iter()
        .chain(&b.suites)
        .filter(|s| s.status.is_failure())
        .map(|s| format!("{}: {:?}", s.id, s.status))
        .collect();
    assert!(failing.is_empty(), "suites failed:\n{}", failing.join("\n"));

    // And the snapshots are the reviewed ones of the target's set (the
    // insta header aside), where that set is committed.
    let committed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots")
        .join(&a.target.profile)
        .join(&a.target.version);
    if committed.is_dir() {
        let reviewed = read_tree(&committed);
        let unreviewed: Vec<String> = one
            .iter()
            .filter(|(k, v)| {
                reviewed
                    .get(*k)
                    .is_none_or(|r| snapshot_body(r) != snapshot_body(v))
            })
            .map(|(k, _)| k.display().to_string())
            .collect();
        assert!(
            unreviewed.is_empty(),
            "{} snapshot(s) differ from or are missing in {}: {}",
            unreviewed.len(),
            committed.display(),
            unreviewed.join(", ")
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}

/// A snapshot file's text without insta's header.
fn snapshot_body(text: &str) -> &str {
    text.strip_prefix("---")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text, |(_, body)| body)
}
