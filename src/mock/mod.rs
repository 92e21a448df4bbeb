//! The embedded mock EAS server: a stateful endpoint that speaks EAS over real
//! HTTP and real WBXML, on loopback.
//!
//! Started in-process with [`MockServer::start`] (tests bind 127.0.0.1:0) or
//! from the command line with `eastest serve`. It shares the codec and the
//! protocol model with the rest of eastest, and never imports the runner, the
//! suites or the client.
//!
//! Implemented so far: the HTTP layer (Basic auth, OPTIONS, plain and base64
//! request lines, version negotiation, content type, body limit, the
//! version-dependent failure signalling: HTTP 4xx/449 up to 12.1, Status 1xx
//! from 14.0), the two-phase Provision handshake with policy key enforcement,
//! the folder hierarchy: FolderSync (incremental, per device) and
//! FolderCreate, FolderUpdate, FolderDelete on a per-user mailbox, and
//! Settings (Oof, DeviceInformation, DevicePassword, UserInformation,
//! RightsManagementInformation), ResolveRecipients against the accounts, and
//! gzip request and response bodies, remote wipe (full and, in 16.1,
//! account-only) and device information inside Provision. Other commands
//! answer HTTP 501 and are not advertised.
//!
//! # Test hooks
//!
//! With [`MockConfig::test_hooks`] (`eastest serve --test-hooks`; for test
//! labs only), tests and suites can trigger server-side events over HTTP on
//! the same listener. The routes are authenticated with the same Basic
//! credentials as EAS requests and act on the authenticated user's own
//! mailbox and devices only. Without `test_hooks` they answer HTTP 404 like
//! any unknown path.
//!
//! | Route | Effect |
//! |---|---|
//! | `POST /_eastest/remote-wipe?device=ID[&account-only=1]` | marks the user's device `ID` for remote wipe (account-only: 16.1 devices only) |
//! | `POST /_eastest/reset` | puts the user's mailbox, settings and all their devices' state back to the initial state |
//!
//! Answers: 204 on success, 404 for a device the user does not have (one
//! that never sent a request), 400 for bad parameters, 401 without valid
//! credentials; errors carry a short text reason.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use eastest::mock::{MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::default()).await?;
//! println!("EAS endpoint: {}", server.url());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod accounts;
mod command;
mod find;
mod folders;
mod foldersync;
mod getattachment;
mod getitemestimate;
mod hooks;
mod http;
mod itemoperations;
mod items;
mod mail;
mod meetingresponse;
mod moveitems;
mod ping;
mod provision;
mod resolverecipients;
mod search;
mod seed;
mod settings;
mod state;
mod sync;
mod validatecert;
mod xml;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use accounts::{Account, AccountsError, parse_accounts};
pub use http::PATH;
pub use provision::POLICY_TYPE;

use crate::wbxml::{ProtocolVersion, VersionSet};

/// How the mock server behaves.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Who may log in.
    pub accounts: Vec<Account>,
    /// The protocol versions offered (OPTIONS `MS-ASProtocolVersions`).
    pub versions: VersionSet,
    /// Whether commands need a current policy key (Provision first).
    pub require_provisioning: bool,
    /// Request bodies above this size get HTTP 413.
    pub max_body_bytes: usize,
    /// Serve the test hooks under `/_eastest/` (see the module docs). For
    /// test labs only: any user can then wipe their own devices and reset
    /// their own mailbox.
    pub test_hooks: bool,
    /// The allowed Ping and Sync `HeartbeatInterval` in seconds (Exchange:
    /// 60 to 3540). Outside it, Ping answers Status 5 and Sync Status 14,
    /// with the nearest limit. Tests lower the minimum to see expiry quickly.
    pub heartbeat_range: (u32, u32),
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            accounts: Account::defaults(),
            versions: VersionSet::range(ProtocolVersion::V12_1, ProtocolVersion::V16_1),
            require_provisioning: true,
            max_body_bytes: 16 * 1024 * 1024,
            test_hooks: false,
            heartbeat_range: (60, 3540),
        }
    }
}

/// State shared by all requests.
struct Shared {
    config: MockConfig,
    store: state::Store,
    /// Every account's user name.
    users: Vec<String>,
}

/// A running mock server. Dropping it without [`MockServer::shutdown`] stops
/// it too (the task ends when the runtime does).
pub struct MockServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl MockServer {
    /// Binds and starts serving in the background of the current tokio runtime.
    pub async fn start(config: MockConfig) -> io::Result<MockServer> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store: state::Store::new(&config.accounts),
            users: config.accounts.iter().map(|a| a.user.clone()).collect(),
            config,
        });
        let app = http::router(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(MockServer {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The EAS endpoint, e.g. `http://127.0.0.1:41234/Microsoft-Server-ActiveSync`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, PATH)
    }

    /// Stops accepting connections, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
