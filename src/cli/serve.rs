//! `eastest serve`: the mock EAS server on a socket, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use eastest::mock::{Account, MockConfig, MockServer, parse_accounts};

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
}

pub fn run(args: ServeArgs) -> Result<(), CliError> {
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
        ..MockConfig::default()
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::usage(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let server = MockServer::start(config.clone())
            .await
            .map_err(|e| CliError::usage(format!("cannot listen on {}: {e}", args.listen)))?;
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
        println!("stop with Ctrl-C");
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| CliError::usage(format!("cannot wait for Ctrl-C: {e}")))?;
        println!("stopping");
        server.shutdown().await;
        Ok(())
    })
}
