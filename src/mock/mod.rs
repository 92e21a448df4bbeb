//! The embedded mock EAS server: a stateful endpoint that speaks EAS over real
//! HTTP and real WBXML, on loopback.
//!
//! Started in-process with [`MockServer::start`] (tests bind 127.0.0.1:0) or
//! from the command line with `eastest serve`. It shares the codec and the
//! protocol model with the rest of eastest, and never imports the runner, the
//! suites or the client.
//!
//! What it does, and where:
//!
//! | Module | What |
//! |---|---|
//! | `http` | MS-ASHTTP: Basic auth, OPTIONS, plain and base64 request lines, version negotiation, content types, the body limit, gzip both ways, the policy key check, failures as HTTP 4xx/449 up to 12.1 and Status 1xx from 14.0 |
//! | `provision` | the two-phase Provision handshake, the policy document, remote wipe (full; account-only in 16.1), DeviceInformation |
//! | `foldersync`, `folders` | FolderSync (incremental, per device), FolderCreate, FolderUpdate, FolderDelete |
//! | `sync` | Sync: per device and collection keys and views, client Add/Change/Delete/Fetch, windowing, FilterType, BodyPreference, MIMESupport, conflicts, ghosting (`Supported`), Wait/HeartbeatInterval, empty and partial requests |
//! | `ping`, `getitemestimate` | the Ping long-poll (no thread per waiting Ping) and GetItemEstimate |
//! | `itemoperations`, `moveitems`, `getattachment` | Fetch (items, attachments, ranges, multipart), EmptyFolderContents, conversation Move; MoveItems; GetAttachment (12.1) |
//! | `mail`, `mime`, `meetingresponse` | SendMail, SmartReply, SmartForward (WBXML, and raw MIME in 12.1) delivering to the accounts' Inboxes; meeting invitations and MeetingResponse |
//! | `search`, `find`, `resolverecipients`, `validatecert`, `settings` | Search (Mailbox, GAL), Find (16.1), ResolveRecipients, ValidateCert, Settings |
//! | `items`, `seed` | the five item classes, version pruning, body shaping; the seed every mailbox starts with |
//! | `faults` | fault profiles ([`MockConfig::profiles`]): documented server regressions as interceptors around dispatch, apart from the handlers |
//! | `scenario` | scenarios ([`MockConfig::scenario`]): the scripted server side of a device's session (Sync Status 3, 449, Ping 7, paging, 503, wipe, 451) and how the client reacted |
//! | `referee` | the device-client referee ([`MockConfig::referee`], `eastest serve --validate`): records each device's session and checks every request (catalogue: `--list-checks`); [`MockServer::referee`] |
//! | `state`, `persist` | the store (one lock; in memory, or a redb database with `data_dir`) |
//! | `transport` | the connections: a lean HTTP/1.1 server (no buffer held by an idle connection or a waiting Ping), timeouts ([`MockConfig::timeouts`]), HTTPS with rustls ([`MockConfig::tls`]) |
//!
//! Every command of MS-ASCMD is answered except GetHierarchy (12.1 only,
//! replaced by FolderSync), which gets HTTP 501 and is not advertised.
//! Each handler's module documents the choices it makes where the spec
//! leaves room.
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
//! | `POST /_eastest/items?folder=ID` | adds an item to folder `ID`, of the folder's class; the body is its properties, the children of `ApplicationData` in eastest's XML form (`<email:Subject>Hi</email:Subject>`, prefixes `email:`, `email2:`, `calendar:`, `contacts:`, `contacts2:`, `tasks:`, `notes:`, `airsyncbase:`); 201 with the new ServerId as the body |
//! | `POST /_eastest/items/change?item=SERVERID` | replaces the item's properties with the body's (same form): a server-side change every device sees |
//! | `POST /_eastest/items/delete?item=SERVERID` | deletes the item on the server |
//! | `POST /_eastest/deliver` | delivers the body, a raw RFC 822 message, to the Inbox as an unread message, read as SendMail reads one (`Date` becomes `DateReceived`); 201 with the new ServerId as the body |
//!
//! Item changes wake the user's waiting Ping and Sync requests like any
//! other change. Answers: 204 (201 for the routes that create an item) on
//! success, 404 for a device, folder or item the user does not have (a
//! device that never sent a request), 400 for bad parameters or a body the
//! route cannot use (not UTF-8, not in the form above, properties of
//! another class, a body that is not a message), 401 without valid credentials,
//! 413 for a body above `max_body_bytes`; errors carry a short text reason.
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
mod faults;
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
mod mime;
mod moveitems;
mod persist;
mod ping;
mod provision;
pub mod referee;
mod resolverecipients;
pub mod scenario;
mod search;
mod seed;
mod settings;
mod state;
mod sync;
mod transport;
mod validatecert;
mod xml;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use accounts::{Account, AccountsError, parse_accounts};
pub use faults::{Profile, UnknownProfile};
pub use http::PATH;
pub use persist::{FILE_NAME as DATA_FILE_NAME, PersistError};
pub use provision::POLICY_TYPE;
pub use scenario::Scenario;
pub use transport::{Certificate, Timeouts, TlsError, TlsSetup};

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
    /// Keep the state (mailboxes, devices' protocol state, user settings)
    /// in the database [`DATA_FILE_NAME`] in this directory, created if
    /// missing, and load it at start: a restart, even a crash, then loses
    /// nothing that was acknowledged. `None` (the default): in memory only.
    pub data_dir: Option<std::path::PathBuf>,
    /// Fault profiles: misbehave like these documented server regressions
    /// (`faults` module; `eastest serve --profile`, `--list-profiles`).
    /// Empty (the default): the spec-faithful server.
    pub profiles: Vec<Profile>,
    /// Serve HTTPS with this certificate (`transport::tls`; `eastest serve
    /// --tls`). `None` (the default): plain HTTP.
    pub tls: Option<TlsSetup>,
    /// The transport's timeouts for slow and idle clients (`transport`).
    pub timeouts: Timeouts,
    /// Judge every device client's requests (`referee` module; `eastest
    /// serve --validate`). `None` (the default): no referee, no overhead.
    pub referee: Option<referee::RefereeConfig>,
    /// A scenario (`scenario` module; `eastest serve --scenario FILE`): the
    /// scripted server side of each device's session, whose reactions
    /// [`Scenario::reactions`] reports. `None` (the default): no script.
    pub scenario: Option<Arc<Scenario>>,
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
            data_dir: None,
            profiles: Vec::new(),
            tls: None,
            timeouts: Timeouts::default(),
            referee: None,
            scenario: None,
        }
    }
}

/// State shared by all requests.
struct Shared {
    config: MockConfig,
    store: state::Store,
    /// The interceptors of `config.profiles` (none: the clean handlers).
    faults: faults::Faults,
    /// With [`MockConfig::referee`]: the sessions it judges.
    referee: Option<Arc<referee::Referee>>,
}

/// A running mock server. Dropping it without [`MockServer::shutdown`] stops
/// it too (the task ends when the runtime does).
pub struct MockServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
    /// With TLS: the certificate served.
    certificate: Option<Certificate>,
    /// With a data directory: to see when the last request's state, and
    /// with it the open database, is gone.
    shared: Option<std::sync::Weak<Shared>>,
    referee: Option<Arc<referee::Referee>>,
}

impl MockServer {
    /// Loads the data directory if any, binds and starts serving in the
    /// background of the current tokio runtime. A data directory that cannot
    /// be used fails with an error wrapping a [`PersistError`] (before
    /// binding).
    pub async fn start(config: MockConfig) -> io::Result<MockServer> {
        // Certificate problems are reported (a [`TlsError`] naming the
        // file) before anything else happens.
        let tls = match &config.tls {
            Some(setup) => {
                Some(transport::tls::acceptor(setup, config.listen).map_err(io::Error::other)?)
            }
            None => None,
        };
        let (acceptor, certificate) = tls.unzip();
        let limits = transport::Limits {
            timeouts: config.timeouts,
            max_body: config.max_body_bytes,
        };
        let store = state::Store::open(&config.accounts, config.data_dir.as_deref())
            .map_err(io::Error::other)?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let faults = faults::Faults::for_config(&config);
        let referee = config.referee.clone().map(|r| {
            Arc::new(referee::Referee::new(
                r,
                config.versions,
                config.heartbeat_range,
            ))
        });
        let shared_referee = referee.clone();
        let shared = Arc::new(Shared {
            store,
            config,
            faults,
            referee,
        });
        let weak = shared
            .config
            .data_dir
            .is_some()
            .then(|| Arc::downgrade(&shared));
        let app = http::router(shared);
        let (stop, stopped) = oneshot::channel::<()>();
        // The connections share this one router (a clone is a reference
        // count).
        let task = tokio::spawn(transport::serve(listener, app, acceptor, limits, stopped));
        Ok(MockServer {
            addr,
            stop: Some(stop),
            task,
            certificate,
            shared: weak,
            referee: shared_referee,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// With [`MockConfig::tls`]: the certificate served (DER, PEM, SHA-256
    /// fingerprint), for clients to trust or pin.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// The referee, when [`MockConfig::referee`] is set: each device's
    /// session, its findings, and the reports
    /// ([`referee::Referee::write_reports`]).
    pub fn referee(&self) -> Option<Arc<referee::Referee>> {
        self.referee.clone()
    }

    /// The EAS endpoint, e.g. `http://127.0.0.1:41234/Microsoft-Server-ActiveSync`
    /// (`https://` with [`MockConfig::tls`]).
    pub fn url(&self) -> String {
        let scheme = if self.certificate.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}{}", self.addr, PATH)
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// waits; with a data directory, also (up to 5 s) until the database is
    /// closed, so that a new server can open it at once.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        for _ in 0..250 {
            if self.shared.as_ref().is_none_or(|s| s.strong_count() == 0) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
