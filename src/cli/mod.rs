//! Command-line parsing and dispatch. Each subcommand lives in its own module.

mod serve;
mod wbxml;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exchange ActiveSync conformance test harness.
///
/// eastest replays declarative suites against an EAS server (a lab server or
/// its embedded mock) and snapshots every decoded response. Today it offers
/// the MS-ASWBXML codec; see README.md for what is coming.
#[derive(Debug, Parser)]
#[command(name = "eastest", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode and encode EAS WBXML (MS-ASWBXML).
    #[command(subcommand)]
    Wbxml(wbxml::WbxmlCommand),
    /// Run the embedded mock EAS server on loopback (in progress: Provision,
    /// folder commands, Settings, ResolveRecipients).
    Serve(serve::ServeArgs),
}

/// Exit code for a run that found the input invalid (bad WBXML or XML).
pub(crate) const EXIT_INVALID_INPUT: u8 = 1;
/// Exit code for a usage or I/O problem.
pub(crate) const EXIT_USAGE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Wbxml(cmd) => wbxml::run(cmd),
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("eastest: error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
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
