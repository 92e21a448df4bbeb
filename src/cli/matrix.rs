//! `eastest matrix`: the catch matrix. Runs the corpus against the clean
//! mock, then against a fresh mock per suite with each fault profile
//! (`eastest serve --list-profiles`), and prints which suites catch each
//! profile and what the first failure shows.
//!
//! The clean mock must pass every suite, and every profile must be caught
//! by at least one suite: otherwise the exit code is 1 (2 for a usage or
//! suite error).
//!
//! Snapshots: by default the matrix checks **expectations only**. An
//! expectation failure states what the spec requires (`got Status 4
//! (ProtocolError), expected Status 1 (Success)`), so it is the evidence
//! the matrix wants; snapshots add noise (a profile that delays an item
//! by an hour changes a redacted date-time, nothing a diff shows) and
//! tie the matrix to the snapshot sets of the versions run. With
//! `--snapshots DIR` the responses are also compared, in check mode
//! (nothing written), with `DIR/mock/<version>/`: a snapshot-only
//! difference then counts as a catch too, marked `(snapshot only)`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use eastest::embedded::{Catch, Evidence, MatrixOptions, run_matrix_row};
use eastest::mock::Profile;
use eastest::protocol::ProtocolVersion;
use eastest::suite::{self, Suite};

use super::CliError;

/// Exit code when the clean mock fails a suite or a profile is caught by
/// none.
const EXIT_FAILED: u8 = 1;
/// Exit code for invalid suites.
const EXIT_ERROR: u8 = 2;
/// The versions run by default: the ones `cargo test` runs every suite at.
const DEFAULT_VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V12_1,
    ProtocolVersion::V14_1,
    ProtocolVersion::V16_1,
];
/// Suites listed per profile before "+N more".
const LISTED: usize = 4;

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Suite files or folders (searched for *.toml). Default: `suites`.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Protocol versions to run at (repeat or comma-separate). Default:
    /// 12.1, 14.1 and 16.1.
    #[arg(long = "protocol", value_name = "VERSION", value_delimiter = ',')]
    protocols: Vec<ProtocolVersion>,
    /// Only these fault profiles (comma-separated or repeated). Default:
    /// all of them.
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    profile: Vec<String>,
    /// Suites run at once in each run (each against its own mock; mostly
    /// waiting, so more than the CPUs).
    #[arg(long, value_name = "N", default_value_t = 16)]
    jobs: usize,
    /// Per-request timeout in seconds: a faulty mock leaves long-polls
    /// (Ping, Sync Wait) waiting for changes that failed steps never made.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
    /// Also compare responses with the snapshots in DIR/mock/VERSION
    /// (check mode: nothing written). Default: expectations only.
    #[arg(long, value_name = "DIR")]
    snapshots: Option<PathBuf>,
}

pub fn run(args: MatrixArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: MatrixArgs) -> Result<(), CliError> {
    let profiles = if args.profile.is_empty() {
        Profile::all().collect()
    } else {
        Profile::parse_list(&args.profile.join(",")).map_err(|e| CliError::usage(e.to_string()))?
    };
    let suites = load(&args.paths)?;
    let options = MatrixOptions {
        versions: if args.protocols.is_empty() {
            DEFAULT_VERSIONS.to_vec()
        } else {
            args.protocols.clone()
        },
        jobs: args.jobs,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        snapshots: args.snapshots.as_ref().map(|dir| dir.join("mock")),
    };
    let versions: Vec<&str> = options.versions.iter().map(|v| v.as_str()).collect();

    let clean = run_matrix_row(&suites, &[], &options).await;
    if clean.is_empty() {
        println!(
            "clean mock: {} suite(s) at {}: all pass",
            suites.len(),
            versions.join(", ")
        );
    } else {
        println!("clean mock: {} failure(s):", clean.len());
        for c in &clean {
            println!("  {} @{}: {}", c.suite, c.version, c.describe());
        }
    }
    println!();

    let mut rows = Vec::new();
    for &profile in &profiles {
        let catches = run_matrix_row(&suites, &[profile], &options).await;
        rows.push((profile, catches));
    }
    print!("{}", render(&rows));

    let uncaught: Vec<&str> = rows
        .iter()
        .filter(|(_, c)| c.is_empty())
        .map(|(p, _)| p.name())
        .collect();
    let mut problems = Vec::new();
    if !clean.is_empty() {
        problems.push(format!("the clean mock fails {} suite run(s)", clean.len()));
    }
    if !uncaught.is_empty() {
        problems.push(format!("no suite catches {}", uncaught.join(", ")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError {
            code: EXIT_FAILED,
            message: problems.join("; "),
        })
    }
}

/// The matrix as a Markdown table: profile, reference, the suites that
/// catch it (with the versions), the first failure of the best catch.
pub fn render(rows: &[(Profile, Vec<Catch>)]) -> String {
    let mut out =
        String::from("| profile | KB | caught by | what the diff shows |\n|---|---|---|---|\n");
    for (profile, catches) in rows {
        let mut by_suite: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for c in catches {
            by_suite
                .entry(&c.suite)
                .or_default()
                .push(c.version.as_str());
        }
        let mut listed: Vec<String> = by_suite
            .iter()
            .map(|(suite, versions)| format!("{suite} ({})", versions.join(", ")))
            .collect();
        if listed.len() > LISTED {
            let more = listed.len() - LISTED;
            listed.truncate(LISTED);
            listed.push(format!("+{more} more"));
        }
        let caught = if listed.is_empty() {
            "**none**".to_string()
        } else {
            listed.join("; ")
        };
        let shows = best(*profile, catches).map_or_else(
            || "—".to_string(),
            |c| {
                let only = if c.evidence == Evidence::Snapshot {
                    " (snapshot only)"
                } else {
                    ""
                };
                format!("{} @{}: {}{only}", c.suite, c.version, c.describe())
            },
        );
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            profile.name(),
            cell(profile.reference()),
            cell(&caught),
            cell(&shows)
        ));
    }
    out
}

/// The catch to show: an expectation failure over a snapshot over an
/// error; a suite named after the profile first (it says what changed most
/// directly); then the highest version.
fn best(profile: Profile, catches: &[Catch]) -> Option<&Catch> {
    catches.iter().min_by_key(|c| {
        (
            c.evidence,
            !c.suite.contains(profile.name()),
            std::cmp::Reverse(c.version),
        )
    })
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Every suite under `paths` (default `suites`); ids relative to the
/// `suites` folder a file lies in, as the snapshot sets name them.
fn load(paths: &[PathBuf]) -> Result<Vec<Suite>, CliError> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from("suites")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for path in &paths {
        if path.is_dir() {
            files
                .extend(suite::discover(path).map_err(|e| {
                    CliError::usage(format!("cannot read {}: {e}", path.display()))
                })?);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(CliError::usage(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    let mut suites = Vec::new();
    let mut errors = 0;
    for file in files {
        match suite::load(&file, &suites_root(&file)) {
            Ok(s) => suites.push(s),
            Err(e) => {
                eprint!("{}", e.render(false));
                errors += 1;
            }
        }
    }
    if errors > 0 {
        return Err(CliError {
            code: EXIT_ERROR,
            message: format!("{errors} suite file(s) are invalid; nothing was run"),
        });
    }
    if suites.is_empty() {
        return Err(CliError::usage("no suite found"));
    }
    Ok(suites)
}

/// The `suites` folder a file lies in (its ancestor of that name), or its
/// own folder.
fn suites_root(file: &Path) -> PathBuf {
    file.ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "suites"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| file.parent().map(Path::to_path_buf).unwrap_or_default())
}
