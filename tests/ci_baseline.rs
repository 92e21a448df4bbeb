//! Baselines and gating: `--update-baseline` records the suites that fail
//! today in `snapshots/<set>/<version>/baseline.toml`; with
//! `--fail-on new-failures` a run exits 1 only for failures that file does
//! not list, while known failures are still reported.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn eastest(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(dir)
        .arg("run")
        .args(["--snapshots", "snaps", "--protocol", "14.1"])
        .args(args)
        // Not CI: snapshots are written for review, so a missing one is not
        // a failure and only the expectations below decide.
        .env_remove("CI")
        .env_remove("EASTEST_URL")
        .env_remove("EASTEST_PROFILE")
        .env_remove("EASTEST_VERSION")
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A suite against the mock whose OPTIONS expects `http`: 200 passes,
/// anything else fails.
fn suite(dir: &Path, name: &str, http: u16) {
    std::fs::write(
        dir.join(format!("suites/{name}.toml")),
        format!("name = \"{name}\"\n[[step]]\ncommand = \"OPTIONS\"\nhttp = {http}\n"),
    )
    .unwrap();
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eastest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("suites")).unwrap();
    dir
}

#[test]
fn only_failures_new_since_the_baseline_fail_the_run() {
    let dir = temp_dir("baseline");
    suite(&dir, "good", 200);
    suite(&dir, "known", 404);

    // No baseline yet: every failure is new.
    let r = eastest(&dir, &["--fail-on", "new-failures"]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("no such file"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("1 new failure(s) since the baseline: known"),
        "{}",
        r.stderr
    );

    // Accept today's failures: the file lists the failing suite only.
    let r = eastest(&dir, &["--update-baseline", "--fail-on", "new-failures"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let file = dir.join("snaps/mock/14.1/baseline.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let table: toml::Table = text.parse().unwrap();
    assert_eq!(
        table["known-failures"],
        toml::Value::Array(vec![toml::Value::String("known".into())]),
        "{text}"
    );

    // The known failure is still reported, but no longer fails the run...
    let r = eastest(&dir, &["--fail-on", "new-failures"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FAIL  known"), "{}", r.stdout);
    assert!(r.stdout.contains("got HTTP 200"), "{}", r.stdout);
    assert!(
        r.stdout.contains("known failures (baseline"),
        "{}",
        r.stdout
    );
    // ... while without --fail-on it still does.
    let r = eastest(&dir, &[]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);

    // A new failure fails the run, and only it is named as new.
    suite(&dir, "regressed", 500);
    let r = eastest(&dir, &["--fail-on", "new-failures"]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("1 new failure(s) since the baseline: regressed"),
        "{}",
        r.stderr
    );

    // A known failure that now passes is pointed out.
    suite(&dir, "regressed", 200);
    suite(&dir, "known", 200);
    let r = eastest(&dir, &["--fail-on", "new-failures"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("known failures that now pass (drop them with --update-baseline): known"),
        "{}",
        r.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_partial_run_keeps_the_baseline_entries_of_suites_it_did_not_run() {
    let dir = temp_dir("baseline-partial");
    for name in ["a", "b", "c", "d"] {
        suite(&dir, name, 404);
    }
    // Shard 1 of 2 (a, c) then shard 2 (b, d): together, all four.
    let r = eastest(&dir, &["--update-baseline", "--shard", "1/2"]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let r = eastest(&dir, &["--update-baseline", "--shard", "2/2"]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    let text = std::fs::read_to_string(dir.join("snaps/mock/14.1/baseline.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let known: Vec<&str> = table["known-failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(known, ["a", "b", "c", "d"], "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn baseline_names_the_snapshot_set_to_compare_against() {
    let dir = temp_dir("baseline-named");
    std::fs::write(
        dir.join("suites/snap.toml"),
        "name = \"snap\"\n[[step]]\ncommand = \"OPTIONS\"\n",
    )
    .unwrap();
    suite(&dir, "bad", 404);
    // Record the accepted set under the name `accepted`.
    let r = eastest(
        &dir,
        &[
            "--baseline",
            "accepted",
            "--update-snapshots",
            "--update-baseline",
        ],
    );
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(dir.join("snaps/accepted/14.1/snap/step-1.snap").is_file());
    assert!(dir.join("snaps/accepted/14.1/baseline.toml").is_file());
    assert!(!dir.join("snaps/mock").exists());

    // Compared with it (in CI mode a missing snapshot would fail), gated by
    // its baseline.toml.
    let out = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(&dir)
        .args(["run", "--snapshots", "snaps", "--protocol", "14.1"])
        .args(["--baseline", "accepted", "--fail-on", "new-failures"])
        .env("CI", "true")
        .env_remove("EASTEST_URL")
        .env_remove("EASTEST_PROFILE")
        .env_remove("EASTEST_VERSION")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("PASS  snap"), "{stdout}");
    assert!(stdout.contains("FAIL  bad"), "{stdout}");

    // A broken baseline file is a usage error, not a silent pass.
    std::fs::write(
        dir.join("snaps/accepted/14.1/baseline.toml"),
        "known-failures = \"bad\"\n",
    )
    .unwrap();
    let r = eastest(
        &dir,
        &["--baseline", "accepted", "--fail-on", "new-failures"],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("baseline.toml: known-failures must be an array"),
        "{}",
        r.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
