//! `eastest serve`: the mock EAS server on a socket, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use eastest::mock::{
    Account, DATA_FILE_NAME, MockConfig, MockServer, PersistError, Profile, parse_accounts,
};

use super::CliError;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Keep it on loopback: the mock has test accounts
    /// with public passwords.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Accounts file: one `user:password[:email]` per line. Without it, the
    /// built-in accounts alice (password alice-pass) and bob (bob-pass).
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// Do not require the Provision handshake before other commands.
    #[arg(long)]
    no_provisioning: bool,
    /// Serve the test hooks under /_eastest/ (remote wipe, mailbox reset),
    /// authenticated like EAS requests and limited to the caller's own
    /// mailbox. For test labs only.
    #[arg(long)]
    test_hooks: bool,
    /// Keep mailboxes, devices' protocol state and user settings in a
    /// database in DIR (created if missing), so that a restart, even a
    /// crash, loses nothing acknowledged. Without it, state lives in memory
    /// and is gone at exit.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Misbehave like documented server regressions (fault profiles, e.g.
    /// `kb967525`); several compose, comma-separated or repeated. For
    /// showing that suites catch them; see --list-profiles.
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    profile: Vec<String>,
    /// List the fault profiles (name, reference, what goes wrong) and exit.
    #[arg(long)]
    list_profiles: bool,
}

/// The `--list-profiles` table: name, reference, one line each.
pub fn profile_list() -> String {
    let width = Profile::all().map(|p| p.name().len()).max().unwrap_or(0);
    let reference = Profile::all()
        .map(|p| p.reference().len())
        .max()
        .unwrap_or(0);
    Profile::all()
        .map(|p| {
            format!(
                "{:width$}  {:reference$}  {}\n",
                p.name(),
                p.reference(),
                p.summary()
            )
        })
        .collect()
}

/// `--profile` values: every name known, each once, in the order given.
fn parse_profiles(names: &[String]) -> Result<Vec<Profile>, CliError> {
    Profile::parse_list(&names.join(",")).map_err(|e| CliError::usage(e.to_string()))
}

pub fn run(args: ServeArgs) -> Result<(), CliError> {
    if args.list_profiles {
        print!("{}", profile_list());
        return Ok(());
    }
    let profiles = parse_profiles(&args.profile)?;
    let accounts = match &args.users {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
            parse_accounts(&text)
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?
        }
        None => Account::defaults(),
    };
    let builtin = args.users.is_none();
    let config = MockConfig {
        listen: args.listen,
        accounts,
        require_provisioning: !args.no_provisioning,
        test_hooks: args.test_hooks,
        data_dir: args.data.clone(),
        profiles: profiles.clone(),
        ..MockConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let server = MockServer::start(config.clone()).await.map_err(|e| {
            // A data directory that cannot be used is reported as such (the
            // message names the database file), not as a listening problem.
            match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<PersistError>())
            {
                Some(persist) => CliError::usage(persist.to_string()),
                None => CliError::usage(format!("cannot listen on {}: {e}", args.listen)),
            }
        })?;
        println!("eastest mock EAS server: {}", server.url());
        let versions: Vec<&str> = config.versions.iter().map(|v| v.as_str()).collect();
        println!("protocol versions: {}", versions.join(", "));
        for a in &config.accounts {
            if builtin {
                // Built-in fixtures only; passwords from a --users file are never printed.
                println!("account: {} (password {})", a.user, a.password);
            } else {
                println!("account: {}", a.user);
            }
        }
        if !profiles.is_empty() {
            let names: Vec<&str> = profiles.iter().map(|p| p.name()).collect();
            println!(
                "fault profiles: {} (NOT a faithful server: misbehaves on purpose)",
                names.join(", ")
            );
        }
        match &args.data {
            Some(dir) => println!("data: {}", dir.join(DATA_FILE_NAME).display()),
            None => println!("data: in memory (lost at exit; keep it with --data DIR)"),
        }
        // The Ctrl-C handler is installed when the future is first polled:
        // poll it once before inviting Ctrl-C, or an early SIGINT would kill
        // the process without a clean stop.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let early = tokio::select! {
            biased;
            r = &mut ctrl_c => Some(r),
            () = std::future::ready(()) => None,
        };
        println!("stop with Ctrl-C");
        let stopped = match early {
            Some(r) => r,
            None => ctrl_c.await,
        };
        stopped.map_err(|e| CliError::usage(format!("cannot wait for Ctrl-C: {e}")))?;
        println!("stopping");
        server.shutdown().await;
        Ok(())
    })
}
