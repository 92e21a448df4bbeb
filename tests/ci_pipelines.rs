//! The ready pipelines in `ci/` stay usable: each has the shape its CI
//! needs (schedule and manual triggers, a matrix, JUnit, artifacts), and
//! every `eastest` command in them is accepted by the real CLI, once for
//! each value of the matrix variables it uses.
//!
//! No YAML crate: the check reads the files line by line. A command is a
//! line (of a `run: |` or `script:` block) whose first word, after
//! `NAME=value` assignments and a list dash, is `eastest`, joined with its
//! `\` continuation lines. It is run by `sh` as the CI would, with `eastest`
//! on the PATH, `${{ matrix.X }}` replaced by each value of the matrix's
//! `X: [...]` list, and shell variables set from the file (a list or a
//! literal) or, for those that come from secrets, a sample value. It runs in
//! an empty folder: when the CLI accepts every option and value it stops at
//! the missing `suites` folder, before any network access; an unknown
//! option or a bad value is a clap error instead, and fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const GITHUB: &str = "ci/github/eastest-nightly.yml";
const GITLAB: &str = "ci/gitlab/eastest-nightly.gitlab-ci.yml";

/// Values for variables the pipelines take from secrets.
const SAMPLES: &[(&str, &str)] = &[
    (
        "EASTEST_URL",
        "https://lab.invalid/Microsoft-Server-ActiveSync",
    ),
    ("EASTEST_USER", "alice"),
    ("EASTEST_PASSWORD", "not-a-secret"),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(file: &str) -> String {
    std::fs::read_to_string(repo().join(file)).unwrap()
}

/// An `eastest` command of a pipeline, with the line it starts on.
#[derive(Debug)]
struct PipelineCommand {
    line: usize,
    text: String,
}

/// The text of a line without a trailing comment (a `#` after a space; the
/// pipelines put no `#` inside their quoted strings).
fn code(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') {
        return "";
    }
    match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Whether a line starts a command whose first word is `eastest`.
fn starts_eastest(line: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("- ").unwrap_or(line);
    let line = line.strip_prefix("run: ").unwrap_or(line);
    for word in line.split_whitespace() {
        if word == "eastest" {
            return true;
        }
        let is_assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if !is_assignment {
            return false;
        }
    }
    false
}

/// Every `eastest` command of a pipeline file, continuation lines joined.
fn commands(yaml: &str) -> Vec<PipelineCommand> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = code(lines[i]);
        if starts_eastest(line) {
            let start = i;
            let mut text = String::new();
            let mut current = line.trim_end();
            while let Some(rest) = current.strip_suffix('\\') {
                text.push_str(rest.trim());
                text.push(' ');
                i += 1;
                current = lines.get(i).map_or("", |l| code(l).trim_end());
            }
            text.push_str(current.trim());
            let text = text
                .trim()
                .trim_start_matches("- ")
                .trim_start_matches("run: ");
            found.push(PipelineCommand {
                line: start + 1,
                text: text.to_string(),
            });
        }
        i += 1;
    }
    found
}

/// The values a file gives `name`: a flow list `name: [a, "b"]` (a matrix
/// axis), or a literal `name: value` without expressions; else the sample
/// value for secrets; `None` when unknown.
fn values(yaml: &str, name: &str) -> Option<Vec<String>> {
    for line in yaml.lines().map(code) {
        let line = line.trim_start();
        let line = line.strip_prefix("- ").unwrap_or(line).trim();
        let Some(value) = line.strip_prefix(name).and_then(|r| r.strip_prefix(':')) else {
            continue;
        };
        let value = value.trim();
        let unquote = |v: &str| v.trim().trim_matches('"').trim_matches('\'').to_string();
        if let Some(list) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            return Some(list.split(',').map(unquote).collect());
        }
        if !value.is_empty() && !value.contains('$') {
            return Some(vec![unquote(value)]);
        }
    }
    SAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| vec![v.to_string()])
}

/// The names of the shell variables (`$NAME`, `${NAME}`) a command uses.
fn shell_variables(command: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?").unwrap();
    let mut names: Vec<String> = re
        .captures_iter(command)
        .map(|c| c[1].to_string())
        .collect();
    names.dedup();
    names
}

/// A command line ready for `sh`, and the shell variables to set for it.
type Variant = (String, Vec<(String, String)>);

/// Each variant of a command: `${{ matrix.X }}` and shell variables bound to
/// the i-th value of their list (lists shorter than the longest repeat), so
/// every listed value is tried at least once.
fn variants(yaml: &str, command: &str) -> Result<Vec<Variant>, String> {
    let expression = regex::Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").unwrap();
    let mut matrix: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in expression.captures_iter(command) {
        let Some(axis) = c[1].strip_prefix("matrix.") else {
            return Err(format!(
                "`{}`: only matrix values may be interpolated into an eastest command",
                &c[0]
            ));
        };
        let list = values(yaml, axis).ok_or_else(|| format!("no matrix axis `{axis}`"))?;
        matrix.insert(axis.to_string(), list);
    }
    let plain = expression.replace_all(command, "").to_string();
    let mut env: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in shell_variables(&plain) {
        let list = values(yaml, &name)
            .ok_or_else(|| format!("the variable `{name}` is defined nowhere in the file"))?;
        env.insert(name, list);
    }
    let count = matrix
        .values()
        .chain(env.values())
        .map(Vec::len)
        .max()
        .unwrap_or(1);
    Ok((0..count)
        .map(|i| {
            let text = expression
                .replace_all(command, |c: &regex::Captures| {
                    let axis = c[1].trim_start_matches("matrix.");
                    let list = &matrix[axis];
                    list[i % list.len()].clone()
                })
                .to_string();
            let vars = env
                .iter()
                .map(|(n, list)| (n.clone(), list[i % list.len()].clone()))
                .collect();
            (text, vars)
        })
        .collect())
}

/// Runs a command as the CI would (with `sh`, eastest on the PATH, in an
/// empty folder); `Err` with what the CLI said when it did not accept it.
fn check(yaml: &str, command: &PipelineCommand, scratch: &Path) -> Result<usize, String> {
    let bin = scratch.join("bin");
    let work = scratch.join("work");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let link = bin.join("eastest");
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_eastest"), &link).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let variants = variants(yaml, &command.text)
        .map_err(|e| format!("line {}: {e}: {}", command.line, command.text))?;
    for (text, vars) in &variants {
        let mut sh = Command::new("sh");
        sh.arg("-c").arg(text).current_dir(&work).env("PATH", &path);
        for (name, _) in std::env::vars() {
            if name.starts_with("EASTEST_") {
                sh.env_remove(name);
            }
        }
        sh.envs(vars.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let out = sh.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Accepted: the run got as far as looking for the suites.
        let accepted = out.status.code() == Some(2)
            && stderr.starts_with("eastest: error: ")
            && stderr.contains("suites: no such file or folder");
        if !accepted {
            return Err(format!(
                "line {}: `{text}` (with {vars:?}) is not accepted by the CLI \
                 (exit {:?}):\n{stderr}",
                command.line,
                out.status.code()
            ));
        }
    }
    Ok(variants.len())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eastest-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The YAML shape the line-based reading relies on: spaces only, and the
/// given keys present.
fn assert_shape(file: &str, yaml: &str, keys: &[&str]) {
    for (i, line) in yaml.lines().enumerate() {
        assert!(!line.contains('\t'), "{file}:{}: a tab", i + 1);
        let indent = line.len() - line.trim_start().len();
        assert!(indent % 2 == 0, "{file}:{}: odd indentation", i + 1);
    }
    let code: Vec<&str> = yaml.lines().map(code).collect();
    for key in keys {
        assert!(code.iter().any(|l| l.contains(key)), "{file}: no `{key}`");
    }
}

/// Every line of a file that runs eastest is one the extraction found (so a
/// command written some other way cannot escape the check).
fn assert_all_found(file: &str, yaml: &str, found: &[PipelineCommand]) {
    let invocation = regex::Regex::new(r"(^|[\s;&|(])eastest\s+[a-z]").unwrap();
    for (i, line) in yaml.lines().enumerate() {
        if invocation.is_match(code(line)) {
            assert!(
                found.iter().any(|c| c.line == i + 1),
                "{file}:{}: runs eastest in a form the check does not read: {line}",
                i + 1
            );
        }
    }
}

fn check_pipeline(file: &str, keys: &[&str]) {
    let yaml = read(file);
    assert_shape(file, &yaml, keys);
    let found = commands(&yaml);
    assert_all_found(file, &yaml, &found);
    let runs: Vec<&PipelineCommand> = found
        .iter()
        .filter(|c| c.text.contains("eastest run"))
        .collect();
    assert_eq!(runs.len(), 1, "{file}: {found:?}");
    // The run is the nightly one the README describes.
    for option in [
        "--target",
        "--profile",
        "--protocol",
        "--shard",
        "--junit",
        "--json",
        "--html",
        "--fail-on new-failures",
    ] {
        assert!(runs[0].text.contains(option), "{file}: no {option}");
    }
    let dir = scratch(&format!("pipeline-{}", file.replace('/', "-")));
    let mut variants = 0;
    for command in &found {
        variants += check(&yaml, command, &dir).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    // Every protocol version of the matrix went through the parser.
    assert!(variants >= 2, "{file}: {variants} variant(s)");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_github_workflow_runs_commands_the_cli_has() {
    check_pipeline(
        GITHUB,
        &[
            "on:",
            "schedule:",
            "cron:",
            "workflow_dispatch:",
            "matrix:",
            "protocol:",
            "secrets[",
            "EASTEST_PASSWORD:",
            "action-junit-report",
            "actions/upload-artifact",
            "snapshots/**/*.snap.new",
            "reports/",
        ],
    );
}

#[test]
fn the_gitlab_pipeline_runs_commands_the_cli_has() {
    check_pipeline(
        GITLAB,
        &[
            "rules:",
            "$CI_PIPELINE_SOURCE == \"schedule\"",
            "parallel:",
            "matrix:",
            "PROTOCOL:",
            "EASTEST_PASSWORD=",
            "artifacts:",
            "when: always",
            "junit: reports/junit.xml",
            "snapshots/**/*.snap.new",
        ],
    );
}

#[test]
fn the_check_rejects_options_and_values_the_cli_does_not_have() {
    let dir = scratch("pipeline-negative");
    let bad = [
        // An option eastest run does not have.
        "run: eastest run --no-such-option",
        // A protocol version of the matrix that eastest does not know.
        "protocol: [\"14.1\", \"9.9\"]\nrun: eastest run --protocol \"${{ matrix.protocol }}\"",
        // A shard out of range.
        "SHARDS: \"2\"\nSHARD: [\"1\", \"3\"]\nscript:\n  - eastest run --shard \"$SHARD/$SHARDS\"",
        // A subcommand that does not exist.
        "script:\n  - eastest nightly",
    ];
    for yaml in bad {
        let found = commands(yaml);
        assert_eq!(found.len(), 1, "{yaml}");
        let result = check(yaml, &found[0], &dir);
        assert!(result.is_err(), "accepted: {yaml}");
    }
    // And a good one passes, continuation lines and assignments included.
    let good = "protocol: [\"12.1\", \"16.1\"]\nrun: |\n  CI=false eastest run \\\n    --protocol \"${{ matrix.protocol }}\" --base64\n";
    let found = commands(good);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].text,
        "CI=false eastest run --protocol \"${{ matrix.protocol }}\" --base64"
    );
    assert_eq!(check(good, &found[0], &dir), Ok(2));
    let _ = std::fs::remove_dir_all(&dir);
}
