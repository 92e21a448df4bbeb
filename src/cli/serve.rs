//! `eastest serve`: the mock EAS server on a socket, until Ctrl-C.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use eastest::mock::{
    Account, DATA_FILE_NAME, MockConfig, MockServer, PersistError, Profile, Scenario, TlsError,
    TlsSetup, parse_accounts,
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
    /// Referee device clients: record each device's session and check every
    /// request; each finding is printed on stderr as it happens, and a
    /// summary on stdout at Ctrl-C. See --list-checks.
    #[arg(long)]
    validate: bool,
    /// With the referee: write per-device reports (summary, JUnit, JSON,
    /// decoded trace) into DIR at Ctrl-C. Implies --validate.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// List the referee's checks (id, severity, spec reference, what to fix)
    /// and exit.
    #[arg(long)]
    list_checks: bool,
    /// Referee: two identical requests that found nothing closer than this
    /// many seconds apart count as busy polling.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    min_poll_interval: u64,
    /// Referee: keep the full decoded trace of this many exchanges per device.
    #[arg(long, value_name = "N", default_value_t = 200)]
    trace_limit: usize,
    /// Run a scenario (`scenarios/*.toml`, see docs/scenario-format.md):
    /// script the server side of each device's session (Sync Status 3,
    /// HTTP 449, Ping 7, paging, 503 with Retry-After, remote wipe, 451) and
    /// judge how the client reacts. Implies --validate: the reactions join
    /// the referee's summary and reports. A file with errors is reported and
    /// the server does not start (exit 2).
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Serve HTTPS (real devices refuse plain HTTP). With --tls-cert and
    /// --tls-key, that certificate; without, a self-signed one generated at
    /// start (for localhost, 127.0.0.1, ::1, the --listen address and every
    /// --tls-name), written as PEM to --tls-cert-out so that it can be
    /// installed on a device. Its SHA-256 fingerprint is printed either
    /// way, for pinning.
    #[arg(long)]
    tls: bool,
    /// The certificate chain to serve (PEM, leaf first); implies --tls.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, RSA or EC).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Another name (host name or IP address) for the generated
    /// certificate, such as the name the device connects to; repeatable.
    #[arg(long, value_name = "NAME", conflicts_with = "tls_cert")]
    tls_name: Vec<String>,
    /// Where to write the generated certificate (PEM). A new one is
    /// generated at every start: reinstall it on the device, or pass a
    /// fixed pair with --tls-cert/--tls-key.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "eastest-mock-cert.pem",
        conflicts_with = "tls_cert"
    )]
    tls_cert_out: PathBuf,
}

/// `--tls`, `--tls-cert`/`--tls-key`, `--tls-name`: the TLS setup, if any.
fn tls_setup(args: &ServeArgs) -> Option<TlsSetup> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsSetup::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ if args.tls || !args.tls_name.is_empty() => Some(TlsSetup::SelfSigned {
            names: args.tls_name.clone(),
        }),
        _ => None,
    }
}

/// Loads `--scenario`; an invalid file prints every problem and exits 2.
fn load_scenario(file: &Path) -> Result<Scenario, CliError> {
    Scenario::load(file).map_err(|e| {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        eprint!("{}", e.render(color));
        CliError {
            code: 2,
            message: format!("the scenario file {} is invalid", file.display()),
        }
    })
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
    if args.list_checks {
        print!("{}", eastest::mock::referee::list_checks());
        return Ok(());
    }
    // A scenario is judged by the referee: `--scenario` implies `--validate`.
    let validate = args.validate || args.report.is_some() || args.scenario.is_some();
    let referee = validate.then(|| eastest::mock::referee::RefereeConfig {
        trace_limit: args.trace_limit,
        min_poll_interval: std::time::Duration::from_secs(args.min_poll_interval),
        live: true,
    });
    let profiles = parse_profiles(&args.profile)?;
    let scenario = match &args.scenario {
        Some(file) => Some(Arc::new(load_scenario(file)?)),
        None => None,
    };
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
        referee,
        scenario: scenario.clone(),
        tls: tls_setup(&args),
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
                // A certificate or key file that cannot be used: named.
                None => match e.get_ref().and_then(|i| i.downcast_ref::<TlsError>()) {
                    Some(tls) => CliError::usage(tls.to_string()),
                    None => CliError::usage(format!("cannot listen on {}: {e}", args.listen)),
                },
            }
        })?;
        println!("eastest mock EAS server: {}", server.url());
        if let Some(cert) = server.certificate() {
            println!("TLS certificate SHA-256: {}", cert.sha256_fingerprint());
            if !cert.generated_names().is_empty() {
                let out = &args.tls_cert_out;
                std::fs::write(out, cert.pem()).map_err(|e| {
                    CliError::usage(format!(
                        "cannot write the certificate to {}: {e}",
                        out.display()
                    ))
                })?;
                println!(
                    "TLS certificate: {} (self-signed, for {})",
                    out.display(),
                    cert.generated_names().join(", ")
                );
            }
        }
        if let Some(scenario) = &scenario {
            scenario.set_server_url(&server.url());
            println!(
                "scenario: {} ({}, {} steps)",
                scenario.name(),
                scenario.script().file.display(),
                scenario.script().steps.len()
            );
        }
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
        let referee = server.referee();
        server.shutdown().await;
        // The scenario's reactions join the referee's report.
        let reactions = scenario.as_ref().map(|s| s.reactions()).unwrap_or_default();
        if let Some(referee) = referee {
            print!("{}", referee.summary(&reactions));
            if let Some(dir) = &args.report {
                referee
                    .write_reports(dir, &reactions)
                    .map_err(|e| CliError::usage(e.to_string()))?;
                println!("referee reports: {}", dir.display());
            }
        }
        Ok(())
    })
}
