//! The parsed form of a scenario file (see `docs/scenario-format.md`).

use std::path::PathBuf;

use crate::diagnostic::Span;
use crate::protocol::Command;
use crate::wbxml::VersionSet;

use super::super::state::Wipe;

/// A scenario file, parsed and validated (the engine state lives in
/// [`super::Scenario`]).
#[derive(Debug, Clone)]
pub struct Script {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub references: Vec<String>,
    /// The protocol versions the scenario acts in (`None`: every version);
    /// requests in other versions pass through untouched and uncounted.
    pub versions: Option<VersionSet>,
    /// The DeviceIds it applies to (empty: every device).
    pub devices: Vec<String>,
    pub steps: Vec<Step>,
}

/// One `[[step]]`: when it fires, what the server does, and what the
/// client must do next.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub span: Span,
    /// The `when` table's text.
    pub when_span: Span,
    pub when: Trigger,
    pub action: Action,
    /// How many times the step may fire per device (`once = true`: 1, the
    /// default; `times = N`).
    pub times: u32,
    /// The reaction judged after each firing; `None` for `expect = "none"`.
    pub expect: Option<Expect>,
    /// With a `during` trigger: how long the waiting request has waited
    /// before the server-side change is made.
    pub delay_ms: u64,
}

/// When a step fires. Every trigger but `during` arms the step; it then
/// fires at the first request (at or after the arming one) that its action
/// fits (a `sync-status` needs a Sync, an `http` anything but Provision).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// From the device's `nth` request of `command` on (the `nth` itself
    /// when the action fits it).
    Nth { command: Command, nth: u32 },
    /// While the device's `nth` (or later) request of `command` waits
    /// (Ping, Sync with Wait): the change is made `delay-ms` into the wait.
    During { command: Command, nth: u32 },
    /// After the device's `n`th request of any kind: from request `n + 1` on.
    Requests(u32),
    /// After the step of that name fired (at a later request).
    AfterStep(String),
    /// From the session's start (the device's first request).
    First,
}

/// What the server does when a step fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Every collection of the Sync answered with this `Status`
    /// (MS-ASCMD 2.2.3.177.17); with 3 the collections' state is dropped so
    /// that the mock agrees the key is gone.
    SyncStatus(u8),
    /// FolderSync answered with this `Status`; with 9 the device's
    /// hierarchy state is dropped.
    FolderSyncStatus(u8),
    /// An HTTP error status, optionally with `Retry-After` (seconds).
    Http {
        status: u16,
        retry_after: Option<u32>,
    },
    /// The device's policy key is forgotten and the request answered
    /// HTTP 449 (Status 142 DeviceNotProvisioned from 14.0).
    RequireProvisioning,
    /// A folder is added to the mailbox (a waiting Ping then answers 7).
    HierarchyChange,
    /// Server-side items added to a folder.
    AddItems { folder: FolderRef, count: u32 },
    /// The device is marked for remote wipe.
    RemoteWipe(Wipe),
    /// HTTP 451 with `X-MS-Location` (a URL, or a path on this server).
    Redirect(String),
}

/// Which folder `add-items` fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderRef {
    /// A folder by ServerId (`folder = "1"`).
    Id(String),
    /// The first folder of this type (`folder-type = 2`: the Inbox).
    Type(u8),
}

/// A reaction the protocol requires of the client after a step, each with
/// its spec reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expect {
    SyncKeyReset,
    FolderSyncReset,
    FolderSync,
    ReProvision,
    RetryAfterHonoured,
    AllPagesFetched,
    WipeAcknowledged,
    FollowsRedirect,
}

impl Expect {
    pub const ALL: [Expect; 8] = [
        Expect::SyncKeyReset,
        Expect::FolderSyncReset,
        Expect::FolderSync,
        Expect::ReProvision,
        Expect::RetryAfterHonoured,
        Expect::AllPagesFetched,
        Expect::WipeAcknowledged,
        Expect::FollowsRedirect,
    ];

    /// The name in a scenario file.
    pub fn name(self) -> &'static str {
        match self {
            Expect::SyncKeyReset => "sync-key-reset",
            Expect::FolderSyncReset => "folder-sync-reset",
            Expect::FolderSync => "folder-sync",
            Expect::ReProvision => "re-provision",
            Expect::RetryAfterHonoured => "retry-after-honoured",
            Expect::AllPagesFetched => "all-pages-fetched",
            Expect::WipeAcknowledged => "wipe-acknowledged",
            Expect::FollowsRedirect => "follows-redirect",
        }
    }

    pub fn from_name(name: &str) -> Option<Expect> {
        Expect::ALL.into_iter().find(|e| e.name() == name)
    }

    /// What the client must do, as an instruction to the vendor.
    pub fn requirement(self) -> &'static str {
        match self {
            Expect::SyncKeyReset => {
                "after Sync Status 3, send SyncKey 0 for the collection before syncing it again \
                 (not the old key, not an empty Sync that repeats it)"
            }
            Expect::FolderSyncReset => "after FolderSync Status 9, send FolderSync with SyncKey 0",
            Expect::FolderSync => {
                "after Ping Status 7 (or Sync Status 12), send FolderSync before the next Ping"
            }
            Expect::ReProvision => {
                "after HTTP 449 / Status 142, provision again (Provision phase 1 and the \
                 acknowledgement) before any other command"
            }
            Expect::RetryAfterHonoured => {
                "after HTTP 503 with Retry-After, send nothing before that many seconds passed"
            }
            Expect::AllPagesFetched => {
                "while a Sync response carries MoreAvailable, Sync the collection again until \
                 every item arrived, before going back to Ping"
            }
            Expect::WipeAcknowledged => {
                "after Status 140 RemoteWipeRequested, Provision and acknowledge the RemoteWipe \
                 directive (RemoteWipe Status 1 or 2), not only the policy"
            }
            Expect::FollowsRedirect => {
                "after HTTP 451, send the next requests to the URL in X-MS-Location"
            }
        }
    }

    /// Where the requirement comes from.
    pub fn reference(self) -> &'static str {
        match self {
            Expect::SyncKeyReset => "MS-ASCMD 2.2.3.177.17 (Status (Sync), value 3)",
            Expect::FolderSyncReset => "MS-ASCMD 2.2.3.177 Status (FolderSync), value 9",
            Expect::FolderSync => {
                "MS-ASCMD 2.2.3.177 Status (Ping), value 7; 2.2.3.177.17 Status (Sync), value 12"
            }
            Expect::ReProvision => "MS-ASPROV 3.1.5.1; MS-ASCMD 2.2.2 (Status 142); MS-ASHTTP 449",
            Expect::RetryAfterHonoured => "MS-ASHTTP 2.2.2 (HTTP 503, Retry-After)",
            Expect::AllPagesFetched => "MS-ASCMD 2.2.3.108 MoreAvailable; 2.2.3.199 WindowSize",
            Expect::WipeAcknowledged => "MS-ASPROV 3.1.5.1.2 (RemoteWipe); MS-ASCMD 2.2.2 (140)",
            Expect::FollowsRedirect => "MS-ASHTTP 3.1.5.2.2 (HTTP 451, X-MS-Location)",
        }
    }
}

impl Action {
    /// The key that names the action in a step.
    pub fn key(&self) -> &'static str {
        match self {
            Action::SyncStatus(_) => "sync-status",
            Action::FolderSyncStatus(_) => "folder-sync-status",
            Action::Http { .. } => "http",
            Action::RequireProvisioning => "require-provisioning",
            Action::HierarchyChange => "hierarchy-change",
            Action::AddItems { .. } => "add-items",
            Action::RemoteWipe(_) => "remote-wipe",
            Action::Redirect(_) => "redirect",
        }
    }

    /// The reaction the protocol requires after this action (`None`: the
    /// action creates no situation the client must react to in a way the
    /// engine can judge).
    pub fn natural_expect(&self) -> Option<Expect> {
        match self {
            Action::SyncStatus(3) => Some(Expect::SyncKeyReset),
            Action::SyncStatus(12) => Some(Expect::FolderSync),
            Action::SyncStatus(_) => None,
            Action::FolderSyncStatus(9) => Some(Expect::FolderSyncReset),
            Action::FolderSyncStatus(_) => None,
            Action::Http {
                retry_after: Some(_),
                ..
            } => Some(Expect::RetryAfterHonoured),
            Action::Http { .. } => None,
            Action::RequireProvisioning => Some(Expect::ReProvision),
            Action::HierarchyChange => Some(Expect::FolderSync),
            Action::AddItems { .. } => Some(Expect::AllPagesFetched),
            Action::RemoteWipe(_) => Some(Expect::WipeAcknowledged),
            Action::Redirect(_) => Some(Expect::FollowsRedirect),
        }
    }

    /// The command the action needs the firing request to be, if any.
    pub fn command(&self) -> Option<Command> {
        match self {
            Action::SyncStatus(_) => Some(Command::Sync),
            Action::FolderSyncStatus(_) => Some(Command::FolderSync),
            _ => None,
        }
    }

    /// Whether the action answers the request itself (only one such step
    /// fires per request).
    pub fn answers(&self) -> bool {
        matches!(
            self,
            Action::SyncStatus(_)
                | Action::FolderSyncStatus(_)
                | Action::Http { .. }
                | Action::RequireProvisioning
                | Action::Redirect(_)
        )
    }

    /// Whether the action can fire on a request of `command`.
    pub fn fits(&self, command: Command) -> bool {
        match self.command() {
            Some(c) => c == command,
            // A failure of Provision itself would leave the client no way
            // to recover; the server-side changes fit any request.
            None if self.answers() => command != Command::Provision,
            None => true,
        }
    }
}
