//! The mock's state: each user's mailbox and each device's protocol state.
//!
//! In memory for now; a persistent store (`--data DIR`) is still to come.

use std::collections::HashMap;
use std::sync::Mutex;

use super::accounts::Account;

/// A folder of a mailbox (MS-ASCMD FolderSync `Add`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub server_id: String,
    /// `0` for a top-level folder.
    pub parent_id: String,
    pub display_name: String,
    /// The folder type (MS-ASCMD 2.2.3.186.3): 2 Inbox, 3 Drafts, 4 Deleted
    /// Items, 5 Sent Items, 6 Outbox, 7 Tasks, 8 Calendar, 9 Contacts,
    /// 10 Notes, 11 Journal.
    pub folder_type: u8,
}

/// One user's mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub folders: Vec<Folder>,
}

impl Mailbox {
    /// The standard folders every Exchange mailbox has.
    pub fn standard() -> Mailbox {
        let folders = [
            ("1", "Inbox", 2),
            ("2", "Drafts", 3),
            ("3", "Deleted Items", 4),
            ("4", "Sent Items", 5),
            ("5", "Outbox", 6),
            ("6", "Tasks", 7),
            ("7", "Calendar", 8),
            ("8", "Contacts", 9),
            ("9", "Notes", 10),
            ("10", "Journal", 11),
        ]
        .into_iter()
        .map(|(id, name, folder_type)| Folder {
            server_id: id.to_string(),
            parent_id: "0".to_string(),
            display_name: name.to_string(),
            folder_type,
        })
        .collect();
        Mailbox { folders }
    }
}

/// Where a device is in the two-phase Provision handshake (MS-ASPROV 3.1.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PolicyState {
    /// The temporary key handed out in phase one, awaiting acknowledgement.
    pub temporary: Option<u32>,
    /// The final key the device must send with every command.
    pub current: Option<u32>,
}

/// What the server remembers of one device (user + DeviceId).
#[derive(Debug, Clone, Default)]
pub struct DeviceState {
    pub policy: PolicyState,
    /// The FolderSync key last handed out; `None` before the first FolderSync.
    pub folder_sync_key: Option<u32>,
}

/// All mutable state, behind one lock: requests are short and never wait
/// while holding it.
#[derive(Debug, Default)]
pub struct Store {
    inner: Mutex<StoreInner>,
}

#[derive(Debug, Default)]
struct StoreInner {
    mailboxes: HashMap<String, Mailbox>,
    devices: HashMap<(String, String), DeviceState>,
    next_key: u32,
}

impl Store {
    /// A store with the standard mailbox for each account.
    pub fn new(accounts: &[Account]) -> Store {
        let mailboxes = accounts
            .iter()
            .map(|a| (a.user.clone(), Mailbox::standard()))
            .collect();
        Store {
            inner: Mutex::new(StoreInner {
                mailboxes,
                devices: HashMap::new(),
                next_key: 0,
            }),
        }
    }

    /// Runs `f` on the user's mailbox and the device's state.
    pub fn with_device<T>(
        &self,
        user: &str,
        device_id: &str,
        f: impl FnOnce(&mut Mailbox, &mut DeviceState, &mut dyn FnMut() -> u32) -> T,
    ) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        let mailbox = inner
            .mailboxes
            .entry(user.to_string())
            .or_insert_with(Mailbox::standard);
        let device = inner
            .devices
            .entry((user.to_string(), device_id.to_string()))
            .or_default();
        let next_key = &mut inner.next_key;
        // Policy keys: non-zero and never handed out twice, so a client that
        // reuses a stale key or another device's key is caught.
        let mut new_key = || {
            *next_key += 1;
            0x3B9A_CA00_u32.wrapping_add(next_key.wrapping_mul(7919))
        };
        f(mailbox, device, &mut new_key)
    }
}
