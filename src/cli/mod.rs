//! Command-line parsing and dispatch. Each subcommand lives in its own module.

mod matrix;
mod run;
mod serve;
mod wbxml;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Exchange ActiveSync conformance test harness.
///
/// eastest replays declarative suites against an EAS server (a lab server or
/// its embedded mock) and snapshots every decoded response; it also serves
/// the mock on its own and decodes and encodes WBXML. See README.md.
#[derive(Debug, Parser)]
#[command(
    name = "eastest",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = AFTER_HELP,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run suites against a lab server, or against the embedded mock.
    Run(Box<run::RunArgs>),
    /// Decode and encode EAS WBXML (MS-ASWBXML).
    #[command(subcommand)]
    Wbxml(wbxml::WbxmlCommand),
    /// Run the embedded mock EAS server on loopback. Logs one line per
    /// request on stderr (level: EASTEST_LOG, default info).
    Serve(serve::ServeArgs),
    /// The catch matrix: which suites catch each fault profile of the mock.
    Matrix(matrix::MatrixArgs),
}

const AFTER_HELP: &str = "\
Environment:
  EASTEST_LOG  What to log on stderr, as a tracing filter: a level (error, warn,
               info, debug, trace) or directives such as eastest::mock=debug.
               Default: info for `serve` (one line per request), nothing for
               the other commands. Credentials and policy keys are never logged.";

/// The environment variable with the log filter.
const LOG_ENV: &str = "EASTEST_LOG";

/// Exit code for a run that found the input invalid (bad WBXML or XML).
pub(crate) const EXIT_INVALID_INPUT: u8 = 1;
/// Exit code for a usage or I/O problem.
pub(crate) const EXIT_USAGE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_filter = match cli.command {
        Command::Serve(_) => Some("info"),
        Command::Wbxml(_) | Command::Run(_) | Command::Matrix(_) => None,
    };
    init_logging(default_filter);
    let result = match cli.command {
        Command::Wbxml(cmd) => wbxml::run(cmd),
        Command::Serve(args) => serve::run(args),
        Command::Run(args) => run::run_command(*args),
        Command::Matrix(args) => matrix::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eastest: error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// Installs the process's one `tracing` subscriber: compact lines on stderr,
/// filtered by `EASTEST_LOG`, or by `default` when it is unset (no
/// subscriber at all when both are missing, so the command stays quiet).
fn init_logging(default: Option<&str>) {
    let filter = match std::env::var(LOG_ENV) {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!("eastest: warning: ignoring {LOG_ENV}={spec:?}: {e}");
                match default {
                    Some(d) => EnvFilter::new(d),
                    None => return,
                }
            }
        },
        _ => match default {
            Some(d) => EnvFilter::new(d),
            None => return,
        },
    };
    tracing_subscriber::fmt()
        .compact()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .init();
}

/// An error to report on stderr, with the process exit code.
#[derive(Debug)]
pub(crate) struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn invalid(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_INVALID_INPUT,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }
}
