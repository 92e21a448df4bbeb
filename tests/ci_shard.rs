//! `eastest run --shard K/N`: the shards of a run split the selected suites
//! between CI machines, each suite in exactly one shard, and a shard number
//! out of range is a usage error (exit 2) that says what is wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn eastest(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(dir)
        .arg("run")
        .args(args)
        // The minute-long Ping heartbeat suite would only make every run
        // here a minute longer; the split is the same without it.
        .args(["--skip-tag", "slow"])
        .env("CI", "true")
        .env_remove("EASTEST_URL")
        .env_remove("EASTEST_PROFILE")
        .env_remove("EASTEST_VERSION")
        .output()
        .unwrap()
}

/// The suite ids of a JSON report.
fn suite_ids(report: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(report).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eastest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_shards_together_run_every_suite_exactly_once() {
    let out_dir = temp_dir("shards");
    // The whole corpus, unsharded: the reference selection.
    let all_report = out_dir.join("all.json");
    let out = eastest(&repo(), &["--json", all_report.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all = suite_ids(&all_report);
    all.sort();
    assert!(all.len() > 10, "{all:?}");

    const SHARDS: usize = 3;
    let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut sizes = Vec::new();
    for k in 1..=SHARDS {
        let report = out_dir.join(format!("shard-{k}.json"));
        let shard = format!("{k}/{SHARDS}");
        let out = eastest(
            &repo(),
            &["--shard", &shard, "--json", report.to_str().unwrap()],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "shard {shard}: {stderr}");
        let ids = suite_ids(&report);
        assert!(
            stderr.contains(&format!(
                "shard {shard}: {} of {} selected suites",
                ids.len(),
                all.len()
            )),
            "{stderr}"
        );
        sizes.push(ids.len());
        for id in ids {
            seen.entry(id).or_default().push(k);
        }
    }
    // Every suite exactly once, and nothing else.
    let twice: Vec<_> = seen.iter().filter(|(_, k)| k.len() > 1).collect();
    assert!(twice.is_empty(), "in more than one shard: {twice:?}");
    assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), all);
    // Round-robin over the sorted ids: the shards differ by at most one.
    let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!(max - min <= 1, "{sizes:?}");

    // Deterministic: the same shard again selects the same suites.
    let again = out_dir.join("again.json");
    let out = eastest(
        &repo(),
        &["--shard", "2/3", "--json", again.to_str().unwrap()],
    );
    assert!(out.status.success());
    assert_eq!(suite_ids(&again), suite_ids(&out_dir.join("shard-2.json")));
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn a_shard_out_of_range_is_a_usage_error() {
    for (shard, why) in [
        ("4/3", "shard 4 is out of range: shards are numbered 1 to 3"),
        ("0/3", "shard 0 is out of range: shards are numbered 1 to 3"),
        ("1/0", "the shard count must be at least 1"),
        ("2", "not K/N"),
        ("a/3", "the shard `a` is not a whole number"),
    ] {
        let out = eastest(&repo(), &["--shard", shard]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--shard {shard}: {stderr}");
        assert!(stderr.contains("--shard"), "--shard {shard}: {stderr}");
        assert!(stderr.contains(why), "--shard {shard}: {stderr}");
        // Nothing ran.
        assert!(out.stdout.is_empty(), "--shard {shard}");
    }
}

#[test]
fn a_shard_with_no_suites_passes_and_still_writes_its_reports() {
    // Two suites, five shards: shard 5 is empty, and a CI job for it must
    // neither fail nor lose its (empty) reports.
    let dir = temp_dir("shard-empty");
    std::fs::create_dir_all(dir.join("suites")).unwrap();
    for name in ["a", "b"] {
        std::fs::write(
            dir.join(format!("suites/{name}.toml")),
            format!("name = \"{name}\"\n[[step]]\ncommand = \"OPTIONS\"\nsnapshot = false\n"),
        )
        .unwrap();
    }
    let out = eastest(&dir, &["--shard", "5/5", "--junit", "junit.xml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("shard 5/5: 0 of 2 selected suites"),
        "{stderr}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("tests=\"0\""), "{junit}");
    let out = eastest(&dir, &["--shard", "2/5", "--json", "r.json"]);
    assert!(out.status.success());
    assert_eq!(suite_ids(&dir.join("r.json")), ["b"]);
    let _ = std::fs::remove_dir_all(&dir);
}
