//! `eastest run`: the suites against a lab server, or against the embedded
//! mock (a fresh one per suite) when no target is given.

use std::collections::BTreeSet;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use eastest::client::{ClientConfig, EasClient, QueryForm, Secret};
use eastest::embedded::{LabTarget, MockTargets};
use eastest::protocol::ProtocolVersion;
use eastest::report;
use eastest::runner::outcome::{RunOutcome, SuiteStatus};
use eastest::runner::snapshot::{SnapshotMode, SnapshotStore};
use eastest::runner::{OnSuiteDone, RunOptions, Target, run};
use eastest::suite::{self, Suite};

use super::CliError;

/// Exit code when a suite failed (an expectation or a snapshot).
const EXIT_FAILED: u8 = 1;
/// Exit code for a suite or configuration error (and a suite that could
/// not run).
const EXIT_ERROR: u8 = 2;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Suite files or folders (searched for *.toml). Default: `suites`.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The EAS endpoint of a lab server
    /// (`https://lab.example/Microsoft-Server-ActiveSync`), or the name of a
    /// target in the config file; also EASTEST_URL. Without one, the
    /// embedded mock.
    #[arg(long, value_name = "URL|NAME", env = "EASTEST_URL")]
    target: Option<String>,
    /// The config file with named targets (see README).
    #[arg(long, value_name = "FILE", default_value = "eastest.toml")]
    config: PathBuf,
    /// The target's name: its snapshots live in `snapshots/NAME/VERSION/`;
    /// also EASTEST_PROFILE. Default `mock` for the embedded mock; required
    /// with --target.
    #[arg(long, value_name = "NAME", env = "EASTEST_PROFILE")]
    profile: Option<String>,
    /// The account on the lab server; also EASTEST_USER. The password comes
    /// from EASTEST_PASSWORD or the file in EASTEST_PASSWORD_FILE (never a
    /// command-line argument).
    #[arg(long, value_name = "USER", env = "EASTEST_USER")]
    user: Option<String>,
    /// The protocol version to speak. Default: 16.1 with the mock; with a
    /// lab server, the highest version it advertises that eastest knows.
    #[arg(long = "protocol", value_name = "VERSION", env = "EASTEST_VERSION")]
    protocol: Option<ProtocolVersion>,
    /// Use the base64 request-line form (MS-ASHTTP 2.2.1.1.1.1).
    #[arg(long)]
    base64: bool,
    /// Suites run at once. Default: the number of CPUs with the mock, 1
    /// with a lab server.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Only suites with one of these tags.
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Leave out suites with this tag (e.g. `slow`: the Ping heartbeat
    /// suite waits a minute).
    #[arg(long = "skip-tag", value_name = "TAG")]
    skip_tags: Vec<String>,
    /// Only suites whose id or name contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a JSON report.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Accept new and changed snapshots (write .snap files). Without it,
    /// they are written as .snap.new for `cargo insta review`; with CI=true
    /// nothing is written and any difference fails.
    #[arg(long)]
    update_snapshots: bool,
    /// Where snapshot sets live.
    #[arg(long, value_name = "DIR", default_value = "snapshots")]
    snapshots: PathBuf,
    /// A PEM file with the lab's CA certificate(s), trusted besides the
    /// system's roots.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Do not verify the server's TLS certificate (a warning is printed).
    #[arg(long)]
    insecure: bool,
    /// Sharding, baselines and the HTML report: the nightly CI options
    /// (boxed: they would make `RunArgs` much larger than the other
    /// subcommands' arguments).
    #[command(flatten)]
    nightly: Box<NightlyArgs>,
}

/// The options for nightly CI jobs (README, "Nightly CI").
#[derive(Debug, Args)]
struct NightlyArgs {
    /// Run only shard K of N (1-based), for spreading a big run over CI
    /// machines: the selected suites, sorted by id, are dealt round-robin
    /// (the first to shard 1, the second to shard 2, ...), so the N shards
    /// together run each selected suite exactly once.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// The snapshot set to compare against: `snapshots/NAME/VERSION/`
    /// instead of the profile's own, whose `baseline.toml` lists the
    /// known failures for `--fail-on new-failures`. Default: the profile.
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// What makes the exit code 1: `any` failure (the default), or only
    /// `new-failures`, suites that fail or error and are not listed in the
    /// baseline's `baseline.toml` (known failures are still reported).
    #[arg(long, value_name = "WHAT", value_enum, default_value_t = FailOn::Any)]
    fail_on: FailOn,
    /// Accept this run's failures as the baseline: write the suites that
    /// failed or could not run to the baseline's `baseline.toml` (entries of
    /// suites this run did not select are kept).
    #[arg(long)]
    update_baseline: bool,
    /// Write a self-contained HTML report (works offline).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// `--shard K/N`: the K-th of N shards, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1..=count.
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| "not K/N (for example 2/4: the second of four shards)".to_string())?;
        let number = |text: &str, what: &str| {
            text.trim()
                .parse::<usize>()
                .map_err(|_| format!("the {what} `{text}` is not a whole number"))
        };
        let (index, count) = (number(k, "shard")?, number(n, "shard count")?);
        if count == 0 {
            return Err("the shard count must be at least 1".to_string());
        }
        if index == 0 || index > count {
            return Err(format!(
                "shard {index} is out of range: shards are numbered 1 to {count}"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// This shard's suites: round-robin over the suites sorted by id. Sorting
    /// first makes the split independent of the order the files were found
    /// in, so every machine computes the same split from the same selection.
    fn select(self, mut suites: Vec<Suite>) -> Vec<Suite> {
        suites.sort_by(|a, b| a.id.cmp(&b.id));
        suites
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index - 1)
            .map(|(_, s)| s)
            .collect()
    }
}

/// `--fail-on`: which failures make the exit code non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any failed suite exits 1, any suite that could not run exits 2.
    Any,
    /// Only suites not listed in the baseline's `baseline.toml`.
    NewFailures,
}

pub fn run_command(args: RunArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_async(args))
}

async fn run_async(mut args: RunArgs) -> Result<(), CliError> {
    // `--target NAME`: a target of the config file, whose settings fill in
    // what the command line leaves out.
    let named = match &args.target {
        Some(t) if !t.contains("://") => Some(named_target(&args.config, t)?),
        _ => None,
    };
    if let (Some(n), Some(name)) = (&named, args.target.clone()) {
        args.profile = args.profile.take().or(Some(name));
        args.user = args.user.take().or_else(|| n.user.clone());
        args.protocol = args.protocol.or(n.protocol);
        args.ca_cert = args.ca_cert.take().or_else(|| n.ca_cert.clone());
        args.insecure |= n.insecure;
    }
    let mut suites = load_suites(&args)?;
    if let Some(shard) = args.nightly.shard {
        let selected = suites.len();
        suites = shard.select(suites);
        eprintln!(
            "eastest: shard {}/{}: {} of {selected} selected suites",
            shard.index,
            shard.count,
            suites.len()
        );
    }
    // A progress bar on stderr for runs long enough to want one.
    let progress = (std::io::stderr().is_terminal() && suites.len() > 10).then(|| {
        let bar = indicatif::ProgressBar::new(suites.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} suites {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let on_suite_done = progress.clone().map(|bar| {
        OnSuiteDone(Arc::new(
            move |suite: &eastest::runner::outcome::SuiteOutcome| {
                bar.inc(1);
                bar.set_message(suite.id.clone());
            },
        ))
    });
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let mode = if ci {
        SnapshotMode::Check
    } else if args.update_snapshots {
        SnapshotMode::Update
    } else {
        SnapshotMode::Review
    };
    let outcome = match &args.target {
        None => {
            let profile = args.profile.clone().unwrap_or_else(|| "mock".to_string());
            let version = args.protocol.unwrap_or(ProtocolVersion::V16_1);
            let mut options = RunOptions::new(version, &profile);
            options.on_suite_done = on_suite_done.clone();
            options.target_label = "embedded mock".to_string();
            options.jobs = args
                .jobs
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
            options.query_form = query_form(&args);
            options.target_profile = target_profile(&args.snapshots, &profile)?;
            let store = SnapshotStore::new(
                args.snapshots
                    .join(args.nightly.baseline.as_deref().unwrap_or(&profile))
                    .join(version.as_str()),
                mode,
            );
            let targets = Arc::new(MockTargets::new());
            let outcome = run(suites, targets.clone(), options, Some(store)).await;
            targets.shutdown().await;
            outcome
        }
        Some(target) => {
            let url = named.as_ref().map_or(target.as_str(), |n| n.url.as_str());
            let profile = args.profile.clone().ok_or_else(|| {
                CliError::usage(
                    "name the target's snapshot set with --profile NAME (or EASTEST_PROFILE)",
                )
            })?;
            let user = args.user.clone().ok_or_else(|| {
                CliError::usage("give the lab account with --user USER (or EASTEST_USER)")
            })?;
            let password = match named.as_ref().and_then(|n| n.password.as_ref()) {
                Some(source) => source.read()?,
                None => password()?,
            };
            let version = match args.protocol {
                Some(v) => v,
                None => negotiate(url, &user, &password, &args).await?,
            };
            if args.insecure {
                eprintln!("eastest: warning: TLS certificate verification is off (--insecure)");
            }
            let mut options = RunOptions::new(version, &profile);
            options.on_suite_done = on_suite_done.clone();
            options.target_label = url.to_string();
            options.jobs = args.jobs.unwrap_or(1);
            options.query_form = query_form(&args);
            options.target_profile = target_profile(&args.snapshots, &profile)?;
            options.ca_cert = args.ca_cert.clone();
            options.insecure = args.insecure;
            // Fresh DeviceIds per run: a lab account keeps device state
            // between runs.
            // Always 13 characters: the run id is in subjects, so its
            // length is in the message sizes snapshots show.
            options.run_id = format!(
                "run{:010}",
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            );
            let store = SnapshotStore::new(
                args.snapshots
                    .join(args.nightly.baseline.as_deref().unwrap_or(&profile))
                    .join(version.as_str()),
                mode,
            );
            let target = Target {
                url: url.to_string(),
                user,
                password,
                test_hooks: false,
            };
            run(suites, Arc::new(LabTarget(target)), options, Some(store)).await
        }
    };
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    print!("{}", report::console::render(&outcome, color));
    if let Some(file) = &args.junit {
        write(file, &report::junit::render(&outcome))?;
    }
    if let Some(file) = &args.json {
        write(file, &report::json::render(&outcome))?;
    }
    if let Some(file) = &args.nightly.html {
        write(file, &report::html::render(&outcome))?;
    }
    if args.nightly.fail_on == FailOn::Any && !args.nightly.update_baseline {
        return exit_for(&outcome);
    }
    let set = args
        .nightly
        .baseline
        .as_deref()
        .unwrap_or(&outcome.target.profile);
    let file = args
        .snapshots
        .join(set)
        .join(&outcome.target.version)
        .join(BASELINE_FILE);
    let mut known = read_baseline(&file)?;
    if args.nightly.update_baseline {
        let accepted = accept_baseline(known.unwrap_or_default(), &outcome);
        write_baseline(&file, &accepted)?;
        println!(
            "baseline {} written: {} known failure(s)",
            file.display(),
            accepted.len()
        );
        known = Some(accepted);
    }
    match args.nightly.fail_on {
        FailOn::Any => exit_for(&outcome),
        FailOn::NewFailures => {
            if known.is_none() {
                println!(
                    "baseline {}: no such file, so every failure is new (write one with --update-baseline)",
                    file.display()
                );
            }
            exit_for_new(&outcome, &known.unwrap_or_default(), &file)
        }
    }
}

/// The file of a snapshot set that lists its known failures.
const BASELINE_FILE: &str = "baseline.toml";

/// The key of [`BASELINE_FILE`] with the known-failing suite ids.
const KNOWN_FAILURES: &str = "known-failures";

/// Whether a suite counts as failing for a baseline: it failed or could not run.
fn failing(status: &SuiteStatus) -> bool {
    status.is_failure()
}

/// Reads a baseline file (`known-failures = ["suite/id", ...]`); `None`
/// when there is none.
fn read_baseline(file: &Path) -> Result<Option<BTreeSet<String>>, CliError> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::usage(format!(
                "cannot read {}: {e}",
                file.display()
            )));
        }
    };
    let bad = |why: String| CliError::usage(format!("{}: {why}", file.display()));
    let table: toml::Table = text.parse().map_err(|e| bad(format!("{e}")))?;
    if let Some(other) = table.keys().find(|k| k.as_str() != KNOWN_FAILURES) {
        return Err(bad(format!(
            "unknown key `{other}` (only `{KNOWN_FAILURES}`)"
        )));
    }
    let mut known = BTreeSet::new();
    match table.get(KNOWN_FAILURES) {
        None => {}
        Some(toml::Value::Array(ids)) => {
            for id in ids {
                let id = id.as_str().ok_or_else(|| {
                    bad(format!("{KNOWN_FAILURES} must hold suite ids (strings)"))
                })?;
                known.insert(id.to_string());
            }
        }
        Some(_) => return Err(bad(format!("{KNOWN_FAILURES} must be an array"))),
    }
    Ok(Some(known))
}

/// The baseline after accepting this run: the failing suites of the run,
/// plus the entries of suites it did not run (another shard's, or outside
/// `--tag`/`--filter`), so a partial run never forgets them.
fn accept_baseline(old: BTreeSet<String>, outcome: &RunOutcome) -> BTreeSet<String> {
    let ran: BTreeSet<&str> = outcome.suites.iter().map(|s| s.id.as_str()).collect();
    old.into_iter()
        .filter(|id| !ran.contains(id.as_str()))
        .chain(
            outcome
                .suites
                .iter()
                .filter(|s| failing(&s.status))
                .map(|s| s.id.clone()),
        )
        .collect()
}

fn write_baseline(file: &Path, known: &BTreeSet<String>) -> Result<(), CliError> {
    let mut table = toml::Table::new();
    table.insert(
        KNOWN_FAILURES.to_string(),
        toml::Value::Array(known.iter().cloned().map(toml::Value::String).collect()),
    );
    let body = toml::to_string_pretty(&table)
        .map_err(|e| CliError::usage(format!("cannot write {}: {e}", file.display())))?;
    let text = format!(
        "# The suites known to fail against this snapshot set: with\n\
         # `eastest run --fail-on new-failures` they are reported but do not fail\n\
         # the run. Written by `eastest run --update-baseline`; review it like a\n\
         # snapshot before committing.\n{body}"
    );
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::usage(format!("cannot create {}: {e}", dir.display())))?;
    }
    write(file, &text)
}

/// The exit code of `--fail-on new-failures`: 2 when a suite the baseline
/// does not list could not run, 1 when one failed, else 0; known failures
/// and known failures that now pass are listed on stdout.
fn exit_for_new(
    outcome: &RunOutcome,
    known: &BTreeSet<String>,
    file: &Path,
) -> Result<(), CliError> {
    let still: Vec<&str> = outcome
        .suites
        .iter()
        .filter(|s| failing(&s.status) && known.contains(&s.id))
        .map(|s| s.id.as_str())
        .collect();
    let fixed: Vec<&str> = outcome
        .suites
        .iter()
        .filter(|s| s.status == SuiteStatus::Passed && known.contains(&s.id))
        .map(|s| s.id.as_str())
        .collect();
    if !still.is_empty() {
        println!(
            "known failures (baseline {}): {}",
            file.display(),
            still.join(", ")
        );
    }
    if !fixed.is_empty() {
        println!(
            "known failures that now pass (drop them with --update-baseline): {}",
            fixed.join(", ")
        );
    }
    let new = |error: bool| -> Vec<&str> {
        outcome
            .suites
            .iter()
            .filter(|s| !known.contains(&s.id))
            .filter(|s| match &s.status {
                SuiteStatus::Error(_) => error,
                SuiteStatus::Failed | SuiteStatus::DeviationFixed(_) => !error,
                _ => false,
            })
            .map(|s| s.id.as_str())
            .collect()
    };
    let (errors, failed) = (new(true), new(false));
    if !errors.is_empty() {
        return Err(CliError {
            code: EXIT_ERROR,
            message: format!(
                "{} suite(s) could not run that the baseline does not list: {}",
                errors.len(),
                errors.join(", ")
            ),
        });
    }
    if !failed.is_empty() {
        return Err(CliError {
            code: EXIT_FAILED,
            message: format!(
                "{} new failure(s) since the baseline: {}",
                failed.len(),
                failed.join(", ")
            ),
        });
    }
    Ok(())
}

fn query_form(args: &RunArgs) -> QueryForm {
    if args.base64 {
        QueryForm::Base64
    } else {
        QueryForm::Plain
    }
}

/// A target of the config file (`[targets.NAME]`).
#[derive(Debug, Default)]
struct NamedTarget {
    url: String,
    user: Option<String>,
    password: Option<PasswordSource>,
    protocol: Option<ProtocolVersion>,
    ca_cert: Option<PathBuf>,
    insecure: bool,
}

/// Where a named target's password comes from: never the file itself.
#[derive(Debug)]
enum PasswordSource {
    Env(String),
    File(PathBuf),
}

impl PasswordSource {
    fn read(&self) -> Result<Secret, CliError> {
        match self {
            PasswordSource::Env(var) => Secret::from_env(var),
            PasswordSource::File(file) => Secret::from_file(file),
        }
        .map_err(|e| CliError::usage(e.to_string()))
    }
}

/// Reads `[targets.NAME]` from the config file:
///
/// ```toml
/// [targets.lab]
/// url = "https://lab.example/Microsoft-Server-ActiveSync"
/// user = "alice"
/// password-file = "/etc/eastest/lab-password"   # or password-env = "LAB_PASSWORD"
/// protocol = "14.1"                             # optional
/// ca-cert = "lab-ca.pem"                        # optional
/// insecure = false                              # optional
/// ```
fn named_target(config: &Path, name: &str) -> Result<NamedTarget, CliError> {
    let text = std::fs::read_to_string(config).map_err(|e| {
        CliError::usage(format!(
            "--target {name}: not a URL, and the config file {} cannot be read: {e}",
            config.display()
        ))
    })?;
    let bad = |why: String| CliError::usage(format!("{}: {why}", config.display()));
    let table: toml::Table = text.parse().map_err(|e| bad(format!("{e}")))?;
    let targets = table
        .get("targets")
        .and_then(|t| t.as_table())
        .ok_or_else(|| bad("no [targets.NAME] tables".to_string()))?;
    let Some(entry) = targets.get(name).and_then(|t| t.as_table()) else {
        let known: Vec<&str> = targets.keys().map(String::as_str).collect();
        return Err(bad(format!(
            "no target `{name}` (known: {})",
            known.join(", ")
        )));
    };
    let string = |key: &str| -> Result<Option<String>, CliError> {
        match entry.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("targets.{name}.{key} must be a string"))),
        }
    };
    let mut target = NamedTarget::default();
    for key in entry.keys() {
        match key.as_str() {
            "url" | "user" | "password-file" | "password-env" | "protocol" | "ca-cert"
            | "insecure" => {}
            "password" => {
                return Err(bad(format!(
                    "targets.{name}.password: keep passwords out of config files; \
                     use password-file = \"FILE\" or password-env = \"VARIABLE\""
                )));
            }
            other => return Err(bad(format!("targets.{name}: unknown key `{other}`"))),
        }
    }
    target.url = string("url")?.ok_or_else(|| bad(format!("targets.{name} needs a url")))?;
    target.user = string("user")?;
    target.password = match (string("password-file")?, string("password-env")?) {
        (Some(file), None) => Some(PasswordSource::File(PathBuf::from(file))),
        (None, Some(var)) => Some(PasswordSource::Env(var)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(bad(format!(
                "targets.{name}: give password-file or password-env, not both"
            )));
        }
    };
    target.protocol = string("protocol")?
        .map(|v| v.parse::<ProtocolVersion>())
        .transpose()
        .map_err(|e| bad(format!("targets.{name}.protocol: {e}")))?;
    target.ca_cert = string("ca-cert")?.map(PathBuf::from);
    target.insecure = match entry.get("insecure") {
        None => false,
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => {
            return Err(bad(format!(
                "targets.{name}.insecure must be true or false"
            )));
        }
    };
    Ok(target)
}

/// EASTEST_PASSWORD, or the first line of the file in EASTEST_PASSWORD_FILE.
fn password() -> Result<Secret, CliError> {
    if std::env::var_os("EASTEST_PASSWORD").is_some() {
        return Secret::from_env("EASTEST_PASSWORD").map_err(|e| CliError::usage(e.to_string()));
    }
    match std::env::var_os("EASTEST_PASSWORD_FILE") {
        Some(file) => {
            Secret::from_file(Path::new(&file)).map_err(|e| CliError::usage(e.to_string()))
        }
        None => Err(CliError::usage(
            "set EASTEST_PASSWORD, or EASTEST_PASSWORD_FILE to a file holding the password",
        )),
    }
}

/// The highest protocol version both the server (OPTIONS) and eastest know.
async fn negotiate(
    url: &str,
    user: &str,
    password: &Secret,
    args: &RunArgs,
) -> Result<ProtocolVersion, CliError> {
    let mut config = ClientConfig::new(
        url.to_string(),
        user.to_string(),
        password.clone(),
        "eastestprobe".to_string(),
        ProtocolVersion::V14_1,
    );
    config.ca_cert = args.ca_cert.clone();
    config.insecure = args.insecure;
    let client = EasClient::new(config).map_err(|e| CliError::usage(e.to_string()))?;
    let response = client
        .options()
        .await
        .map_err(|e| CliError::usage(format!("OPTIONS {url}: {e}")))?;
    let info = EasClient::server_info(&response);
    info.versions
        .iter()
        .filter_map(|v| v.parse::<ProtocolVersion>().ok())
        .filter(|v| *v >= ProtocolVersion::V12_1)
        .max()
        .ok_or_else(|| {
            CliError::usage(format!(
                "{url} advertises no protocol version eastest speaks ({}); pick one with --protocol",
                info.versions.join(", ")
            ))
        })
}

/// Every suite under the given paths, filtered; all load errors at once.
/// The target profile of the snapshot set `profile`
/// (`snapshots/<profile>/target.toml`), if it has one: its declared
/// capabilities and known deviations.
fn target_profile(
    snapshots: &Path,
    profile: &str,
) -> Result<Option<Arc<suite::TargetProfile>>, CliError> {
    match suite::TargetProfile::find(snapshots, profile) {
        Ok(found) => Ok(found.map(Arc::new)),
        Err(e) => {
            eprint!("{}", e.render(std::io::stderr().is_terminal()));
            Err(CliError {
                code: EXIT_ERROR,
                message: format!("the target profile {} is invalid", e.file().display()),
            })
        }
    }
}

fn load_suites(args: &RunArgs) -> Result<Vec<Suite>, CliError> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("suites")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    for path in &paths {
        if path.is_dir() {
            let found = suite::discover(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            let root = suites_root(path);
            files.extend(found.into_iter().map(|f| (f, root.clone())));
        } else if path.is_file() {
            files.push((path.clone(), suites_root(path)));
        } else {
            return Err(CliError::usage(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut suites = Vec::new();
    let mut errors = 0;
    for (file, root) in files {
        match suite::load(&file, &root) {
            Ok(s) => suites.push(s),
            Err(e) => {
                eprint!("{}", e.render(color));
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
    suites.retain(|s| {
        (args.tags.is_empty() || s.tags.iter().any(|t| args.tags.contains(t)))
            && !s.tags.iter().any(|t| args.skip_tags.contains(t))
            && args
                .filter
                .as_ref()
                .is_none_or(|f| s.id.contains(f.as_str()) || s.name.contains(f.as_str()))
    });
    if suites.is_empty() {
        return Err(CliError::usage("no suite matches"));
    }
    Ok(suites)
}

/// The `suites` folder a file or folder lies in (itself or its nearest
/// ancestor of that name), or else a folder itself and a file's folder:
/// suite ids (and so snapshot paths) are relative to it, so
/// `eastest run suites/sync` and `eastest run` name a suite the same way.
fn suites_root(path: &Path) -> PathBuf {
    let start = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    start
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "suites"))
        .unwrap_or(start)
        .to_path_buf()
}

fn write(file: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(file, text)
        .map_err(|e| CliError::usage(format!("cannot write {}: {e}", file.display())))
}

fn exit_for(outcome: &RunOutcome) -> Result<(), CliError> {
    let errors = outcome
        .suites
        .iter()
        .filter(|s| matches!(s.status, SuiteStatus::Error(_)))
        .count();
    let failed = outcome
        .suites
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                SuiteStatus::Failed | SuiteStatus::DeviationFixed(_)
            )
        })
        .count();
    if errors > 0 {
        return Err(CliError {
            code: EXIT_ERROR,
            message: format!("{errors} suite(s) could not run"),
        });
    }
    if failed > 0 {
        return Err(CliError {
            code: EXIT_FAILED,
            message: format!("{failed} suite(s) failed"),
        });
    }
    Ok(())
}
