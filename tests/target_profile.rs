//! Target profiles (`snapshots/<profile>/target.toml`): declared
//! capabilities skip what does not apply, with the reason; known deviations
//! turn the recorded failure into an expected one, while a failure
//! elsewhere stays a failure and a recorded deviation that passes fails the
//! run. Driven through the real CLI against the embedded mock, plus a check
//! that every committed profile names suites and steps that exist.

use std::path::{Path, PathBuf};
use std::process::Command;

use eastest::protocol::ProtocolVersion;
use eastest::suite::{self, TargetProfile};

struct Run {
    code: Option<i32>,
    stdout: String,
    json: serde_json::Value,
}

fn eastest(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(dir)
        .arg("run")
        .args([
            "--snapshots",
            "snaps",
            "--profile",
            "lab",
            "--json",
            "out.json",
        ])
        .args(args)
        .env_remove("CI")
        .env_remove("EASTEST_URL")
        .env_remove("EASTEST_PROFILE")
        .env_remove("EASTEST_VERSION")
        .output()
        .expect("eastest runs");
    let json = std::fs::read_to_string(dir.join("out.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        json,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eastest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("suites")).expect("temp dir");
    std::fs::create_dir_all(dir.join("snaps/lab")).expect("temp dir");
    dir
}

/// Two steps: `options` expects HTTP `first`, `again` expects `second`.
fn suite(dir: &Path, name: &str, first: u16, second: u16) {
    std::fs::write(
        dir.join(format!("suites/{name}.toml")),
        format!(
            "name = \"{name}\"\n\
             [[step]]\nname = \"options\"\ncommand = \"OPTIONS\"\nhttp = {first}\n\
             [[step]]\nname = \"again\"\ncommand = \"OPTIONS\"\nhttp = {second}\n"
        ),
    )
    .expect("suite written");
}

fn profile(dir: &Path, text: &str) {
    std::fs::write(dir.join("snaps/lab/target.toml"), text).expect("profile written");
}

fn status_of<'a>(run: &'a Run, id: &str) -> (&'a str, &'a str) {
    let suite = run.json["suites"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["id"] == id))
        .unwrap_or_else(|| panic!("{id} not in the report:\n{}", run.stdout));
    (
        suite["status"].as_str().unwrap_or(""),
        suite["reason"].as_str().unwrap_or(""),
    )
}

#[test]
fn a_recorded_deviation_is_an_expected_failure_and_only_at_its_step() {
    let dir = temp_dir("target-deviation");
    suite(&dir, "known", 404, 200); // fails at `options`
    suite(&dir, "elsewhere", 200, 404); // fails at `again`
    suite(&dir, "good", 200, 200);
    profile(
        &dir,
        r#"name = "Lab server 1.0"

[[deviation]]
suite = "known"
step = "options"
reason = "answers OPTIONS with 200 where the suite wants 404"
reference = "MS-ASHTTP 2.2.3"

[[deviation]]
suite = "elsewhere"
step = "options"
reason = "recorded for the first step"
reference = "MS-ASHTTP 2.2.3"
"#,
    );
    let run = eastest(&dir, &[]);
    // `elsewhere` fails at another step than recorded: a new failure.
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let (status, reason) = status_of(&run, "known");
    assert_eq!(status, "known-deviation");
    assert!(
        reason.contains("answers OPTIONS with 200") && reason.contains("MS-ASHTTP 2.2.3"),
        "{reason}"
    );
    assert!(
        reason.contains("target.toml:3"),
        "the entry's line: {reason}"
    );
    assert_eq!(status_of(&run, "elsewhere").0, "failed");
    assert_eq!(status_of(&run, "good").0, "passed");
    assert!(run.stdout.contains("XFAIL known"), "{}", run.stdout);
    assert!(run.stdout.contains("1 known deviations"), "{}", run.stdout);

    // Without the new failure, the known one alone does not fail the run.
    std::fs::remove_file(dir.join("suites/elsewhere.toml")).expect("removed");
    let run = eastest(&dir, &["--junit", "out.xml"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let junit = std::fs::read_to_string(dir.join("out.xml")).expect("junit written");
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(
        junit.contains("expected failure, known deviation: answers OPTIONS"),
        "{junit}"
    );
}

#[test]
fn a_recorded_deviation_that_passes_fails_the_run() {
    let dir = temp_dir("target-fixed");
    suite(&dir, "fixed", 200, 200);
    profile(
        &dir,
        r#"name = "Lab"
[[deviation]]
suite = "fixed"
reason = "used to answer 500"
reference = "MS-ASHTTP 2.2.3"
"#,
    );
    let run = eastest(&dir, &[]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    let (status, reason) = status_of(&run, "fixed");
    assert_eq!(status, "deviation-fixed");
    assert!(reason.contains("remove the entry"), "{reason}");
    assert!(run.stdout.contains("XPASS fixed"), "{}", run.stdout);
}

#[test]
fn declared_capabilities_skip_with_the_reason() {
    let dir = temp_dir("target-capabilities");
    suite(&dir, "plain", 200, 200);
    std::fs::write(
        dir.join("suites/needs-provisioning.toml"),
        "name = \"p\"\nrequires = [\"provisioning\"]\n[[step]]\ncommand = \"OPTIONS\"\n",
    )
    .expect("suite written");
    profile(
        &dir,
        "name = \"Lab\"\nversions = \"12.1, 14.0, 14.1\"\nprovisioning = false\n",
    );
    let run = eastest(&dir, &["--protocol", "14.1"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(status_of(&run, "plain").0, "passed");
    let (status, reason) = status_of(&run, "needs-provisioning");
    assert_eq!(status, "skipped");
    assert!(
        reason.contains("enforces provisioning") && reason.contains("target.toml"),
        "{reason}"
    );

    let run = eastest(&dir, &["--protocol", "16.1"]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let (status, reason) = status_of(&run, "plain");
    assert_eq!(status, "skipped");
    assert!(reason.contains("does not offer protocol 16.1"), "{reason}");
}

#[test]
fn a_broken_profile_stops_the_run_with_its_location() {
    let dir = temp_dir("target-broken");
    suite(&dir, "plain", 200, 200);
    profile(&dir, "name = \"Lab\"\nprovisoning = false\n");
    let out = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(&dir)
        .args(["run", "--snapshots", "snaps", "--profile", "lab"])
        .env_remove("CI")
        .env_remove("EASTEST_URL")
        .output()
        .expect("eastest runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("target.toml:2:1") && stderr.contains("did you mean `provisioning`?"),
        "{stderr}"
    );
}

/// Every committed profile loads, and its deviations name suites that exist
/// and steps those suites have, at versions the suites run at: a renamed
/// suite or step cannot leave a stale record behind.
#[test]
fn committed_profiles_name_real_suites_and_steps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suites_root = root.join("suites");
    let suites: Vec<suite::Suite> = suite::discover(&suites_root)
        .expect("suites folder")
        .iter()
        .map(|f| suite::load(f, &suites_root).unwrap_or_else(|e| panic!("{}", e.render(false))))
        .collect();
    let mut profiles = 0;
    for entry in std::fs::read_dir(root.join("snapshots")).expect("snapshots folder") {
        let entry = entry.expect("entry");
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(profile) = TargetProfile::find(&root.join("snapshots"), &name)
            .unwrap_or_else(|e| panic!("{}", e.render(false)))
        else {
            continue;
        };
        profiles += 1;
        for (suite, _) in &profile.skips {
            assert!(
                suites.iter().any(|s| &s.id == suite),
                "{}: skip of a suite that does not exist: `{suite}`",
                profile.file.display()
            );
        }
        for d in &profile.deviations {
            let s = suites
                .iter()
                .find(|s| s.id == d.suite)
                .unwrap_or_else(|| panic!("{}: no suite `{}`", profile.file.display(), d.suite));
            if let Some(step) = &d.step {
                assert!(
                    s.steps.iter().any(|x| &x.name == step),
                    "{}: suite `{}` has no step `{step}`",
                    profile.file.display(),
                    d.suite
                );
            }
            assert!(
                d.versions
                    .iter()
                    .any(|v: ProtocolVersion| s.versions.contains(v)),
                "{}: `{}` never runs at the recorded versions",
                profile.file.display(),
                d.suite
            );
        }
    }
    // The mock has none; the SOGo lab's is committed with its snapshots.
    assert!(profiles >= 1, "no target profile under snapshots/");
}

/// A known deviation does not hide a changed answer: when the recorded
/// step's snapshot no longer matches the reviewed one, the suite fails.
#[test]
fn a_changed_snapshot_at_the_recorded_step_is_not_hidden() {
    let dir = temp_dir("target-snapshot");
    suite(&dir, "known", 404, 200);
    profile(
        &dir,
        r#"name = "Lab"
[[deviation]]
suite = "known"
step = "options"
reason = "answers 200"
reference = "MS-ASHTTP 2.2.3"
"#,
    );
    let run = eastest(&dir, &["--protocol", "14.1", "--update-snapshots"]);
    assert_eq!(
        status_of(&run, "known").0,
        "known-deviation",
        "{}",
        run.stdout
    );
    let snap = dir.join("snaps/lab/14.1/known/options.snap");
    let text = std::fs::read_to_string(&snap).expect("the step's snapshot was recorded");
    std::fs::write(
        &snap,
        text.replace("HTTP 200", "HTTP 200\nx-reviewed: other"),
    )
    .expect("snapshot edited");
    let run = eastest(&dir, &["--protocol", "14.1"]);
    assert_eq!(status_of(&run, "known").0, "failed", "{}", run.stdout);
    assert_eq!(run.code, Some(1));
}
