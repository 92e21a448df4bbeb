//! The mock's state: each user's mailbox and each device's protocol state.
//!
//! In memory by default; with a data directory (`--data DIR`,
//! `MockConfig::data_dir`) every change is also written through to disk
//! before the method making it returns (see [`super::persist`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::accounts::Account;
use super::items::{Class, Item};
use super::persist::{Change, Persist, PersistError};
use super::sync::SyncCollection;
use crate::wbxml::ProtocolVersion;

/// A folder of a mailbox (MS-ASCMD FolderSync `Add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    pub server_id: String,
    /// `0` for a top-level folder.
    pub parent_id: String,
    pub display_name: String,
    /// The folder type (MS-ASCMD 2.2.3.186.3): 2 Inbox, 3 Drafts, 4 Deleted
    /// Items, 5 Sent Items, 6 Outbox, 7 Tasks, 8 Calendar, 9 Contacts,
    /// 10 Notes, 11 Journal; 1 and 12-17 user-created folders; 18 unknown;
    /// 19 the recipient information cache.
    pub folder_type: u8,
}

/// The type of the recipient information cache (MS-ASCMD 2.2.3.186.3).
pub const RECIPIENT_INFO_CACHE: u8 = 19;

impl Folder {
    /// A default folder (types 2-11): clients may neither create, rename,
    /// move nor delete one (MS-ASCMD 2.2.3.186.2, 2.2.3.177.4, .177.6).
    pub fn is_default(&self) -> bool {
        (2..=11).contains(&self.folder_type)
    }

    /// The recipient information cache, also off limits to folder commands.
    pub fn is_recipient_info_cache(&self) -> bool {
        self.folder_type == RECIPIENT_INFO_CACHE
    }
}

/// The ServerId of the folder `id` and of every folder below it in
/// `folders`, `id` first.
pub fn subtree(folders: &[Folder], id: &str) -> Vec<String> {
    let mut ids = vec![id.to_string()];
    let mut i = 0;
    while i < ids.len() {
        let parent = ids[i].clone();
        for f in folders {
            if f.parent_id == parent && !ids.contains(&f.server_id) {
                ids.push(f.server_id.clone());
            }
        }
        i += 1;
    }
    ids
}

/// One user's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub folders: Vec<Folder>,
    /// The number behind the next ServerId handed out; ServerIds are never
    /// reused within a mailbox, so a deleted folder's id stays dead.
    next_folder_id: u32,
    /// Each folder's items (by folder ServerId), oldest first.
    pub items: BTreeMap<String, Vec<Item>>,
    /// The number behind the next item ServerId (`FOLDER:N`), never reused.
    next_item_id: u64,
    /// Counts every change to folders or items: an item's `modseq` is the
    /// revision of its last change, and waiting Pings and Syncs wake when it
    /// moves.
    pub revision: u64,
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
        let mut mailbox = Mailbox {
            folders,
            next_folder_id: 11,
            items: BTreeMap::new(),
            next_item_id: 1,
            revision: 0,
        };
        super::seed::fill(&mut mailbox);
        mailbox
    }

    /// The folder with this ServerId.
    pub fn folder(&self, server_id: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.server_id == server_id)
    }

    /// Whether `parent_id` already holds a folder named `name` other than
    /// `except`. Names compare case-insensitively, as Exchange folder names do.
    pub fn name_taken(&self, parent_id: &str, name: &str, except: Option<&str>) -> bool {
        let name = name.to_lowercase();
        self.folders.iter().any(|f| {
            f.parent_id == parent_id
                && f.display_name.to_lowercase() == name
                && except != Some(f.server_id.as_str())
        })
    }

    /// A ServerId no folder of this mailbox has had.
    pub fn new_server_id(&mut self) -> String {
        let id = self.next_folder_id;
        self.next_folder_id += 1;
        id.to_string()
    }

    /// Records a change: the new revision, for the changed item's `modseq`.
    pub fn touch(&mut self) -> u64 {
        self.revision += 1;
        self.revision
    }

    /// The class of the items of folder `folder_id`, if it exists and holds any.
    pub fn class_of(&self, folder_id: &str) -> Option<Class> {
        self.folder(folder_id)
            .and_then(|f| Class::of_folder_type(f.folder_type))
    }

    /// The first folder of this type (2 Inbox, 4 Deleted Items, 5 Sent Items...).
    pub fn folder_of_type(&self, folder_type: u8) -> Option<&Folder> {
        self.folders.iter().find(|f| f.folder_type == folder_type)
    }

    /// The items of a folder (empty for an unknown folder).
    pub fn items_in(&self, folder_id: &str) -> &[Item] {
        self.items.get(folder_id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The item with this ServerId and the folder holding it.
    pub fn item(&self, server_id: &str) -> Option<(&str, &Item)> {
        let folder = server_id.split_once(':')?.0;
        let (folder_id, items) = self.items.get_key_value(folder)?;
        let item = items.iter().find(|i| i.server_id == server_id)?;
        Some((folder_id.as_str(), item))
    }

    /// The item with this ServerId, to change it (call [`Mailbox::touch`]
    /// and set its `modseq`, or use [`Mailbox::update_item`]).
    pub fn item_mut(&mut self, server_id: &str) -> Option<&mut Item> {
        let folder = server_id.split_once(':')?.0;
        self.items
            .get_mut(folder)?
            .iter_mut()
            .find(|i| i.server_id == server_id)
    }

    /// Changes an item and records the change; false if there is no such item.
    pub fn update_item(&mut self, server_id: &str, f: impl FnOnce(&mut Item)) -> bool {
        let revision = self.revision + 1;
        let Some(item) = self.item_mut(server_id) else {
            return false;
        };
        f(item);
        item.modseq = revision;
        self.revision = revision;
        true
    }

    /// Adds an item to `folder_id` with a new ServerId; returns the ServerId.
    /// The item's own `server_id` and `modseq` are replaced.
    pub fn add_item(&mut self, folder_id: &str, mut item: Item) -> String {
        let server_id = format!("{folder_id}:{}", self.next_item_id);
        self.next_item_id += 1;
        item.server_id = server_id.clone();
        item.modseq = self.touch();
        self.items
            .entry(folder_id.to_string())
            .or_default()
            .push(item);
        server_id
    }

    /// Removes an item; it is gone for every device from now on.
    pub fn remove_item(&mut self, server_id: &str) -> Option<Item> {
        let folder = server_id.split_once(':')?.0.to_string();
        let items = self.items.get_mut(&folder)?;
        let at = items.iter().position(|i| i.server_id == server_id)?;
        let item = items.remove(at);
        self.touch();
        Some(item)
    }

    /// Moves an item to another folder, where it gets a new ServerId (as
    /// Exchange does); the new ServerId.
    pub fn move_item(&mut self, server_id: &str, to_folder: &str) -> Option<String> {
        let item = self.remove_item(server_id)?;
        Some(self.add_item(to_folder, item))
    }
}

/// Where a device is in the two-phase Provision handshake (MS-ASPROV 3.1.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PolicyState {
    /// The temporary key handed out in phase one, awaiting acknowledgement.
    pub temporary: Option<u32>,
    /// The final key the device must send with every command.
    pub current: Option<u32>,
}

/// What the server remembers of one device (user + DeviceId).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeviceState {
    pub policy: PolicyState,
    /// The FolderSync key last handed out; `None` before the first FolderSync.
    pub folder_sync_key: Option<u32>,
    /// The hierarchy as this device knows it at `folder_sync_key`: what
    /// FolderSync sent it, plus its own FolderCreate/Update/Delete changes.
    /// An incremental FolderSync sends the difference to the mailbox.
    pub folder_snapshot: Vec<Folder>,
    /// What the device said about itself (Settings DeviceInformation Set).
    pub device_info: Option<DeviceInfo>,
    /// The recovery password (Settings DevicePassword Set); `None` when cleared.
    pub recovery_password: Option<String>,
    /// A remote wipe ordered for this device (test hook), until the device
    /// acknowledges it with a successful Provision `RemoteWipe` status.
    pub wipe: Option<Wipe>,
    /// The protocol version of the device's last request.
    #[serde(with = "super::persist::option_version")]
    pub last_version: Option<ProtocolVersion>,
    /// Sync state per collection (CollectionId) the device initialised.
    pub collections: HashMap<String, SyncCollection>,
    /// The number behind the next Sync key this device gets; one counter for
    /// all its collections, so that a key sent for the wrong collection is
    /// caught.
    pub next_sync_key: u32,
    /// The last complete Sync request's collections and settings, for empty
    /// and partial Sync requests (MS-ASCMD 2.2.3.126).
    pub sync_cache: Option<super::sync::SyncCache>,
    /// The last Ping's interval and folders, for a Ping without a body or
    /// without some of its parameters (MS-ASCMD 2.2.1.13).
    pub ping_cache: Option<super::ping::PingCache>,
    /// The Find SearchIds this device started, oldest first: a known one
    /// may page anywhere, a new one must start at 0 (MS-ASCMD 2.2.1.23).
    #[serde(default)]
    pub find_searches: std::collections::VecDeque<String>,
}

/// A pending remote wipe (MS-ASPROV 3.2.5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Wipe {
    /// Wipe the whole device (`RemoteWipe`).
    Device,
    /// Remove only this account's data (`AccountOnlyRemoteWipe`, 16.1).
    AccountOnly,
}

/// All mutable state, behind one lock: requests are short and never wait
/// while holding it (with a data directory, a change's disk write happens
/// under the lock too, so writes reach the disk in the order of the changes).
#[derive(Debug, Default)]
pub struct Store {
    inner: Mutex<StoreInner>,
}

#[derive(Debug, Default)]
struct StoreInner {
    mailboxes: HashMap<String, Mailbox>,
    devices: HashMap<(String, String), DeviceState>,
    next_key: u32,
    users: HashMap<String, UserState>,
    /// Per user: the mailbox revision, published after every change.
    watchers: HashMap<String, watch::Sender<u64>>,
    /// The database changes are written through to; `None` in memory.
    persist: Option<Persist>,
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
                users: accounts
                    .iter()
                    .map(|a| (a.user.clone(), UserState::new(&a.email)))
                    .collect(),
                watchers: HashMap::new(),
                persist: None,
            }),
        }
    }

    /// A store kept in `data_dir` (created if missing) with everything a
    /// previous run acknowledged, or [`Store::new`] without one. Accounts
    /// without saved state get the standard mailbox; every user's primary
    /// SMTP address comes from the accounts; saved state of users that are
    /// not accounts any more stays on disk but is not loaded.
    pub fn open(accounts: &[Account], data_dir: Option<&Path>) -> Result<Store, PersistError> {
        let Some(dir) = data_dir else {
            return Ok(Store::new(accounts));
        };
        let (mut persist, mut loaded) = Persist::open(dir)?;
        let mut mailboxes = HashMap::new();
        let mut users = HashMap::new();
        for a in accounts {
            let mailbox = loaded
                .mailboxes
                .remove(&a.user)
                .unwrap_or_else(Mailbox::standard);
            mailboxes.insert(a.user.clone(), mailbox);
            let mut user = loaded
                .users
                .remove(&a.user)
                .unwrap_or_else(|| UserState::new(&a.email));
            user.email.clone_from(&a.email);
            users.insert(a.user.clone(), user);
        }
        let devices: HashMap<(String, String), DeviceState> = loaded
            .devices
            .into_iter()
            .filter(|((user, _), _)| users.contains_key(user))
            .collect();
        // New accounts' mailboxes and changed addresses, on disk before the
        // first request (a no-op for what is already there).
        let changes: Vec<Change> = mailboxes
            .iter()
            .map(|(user, m)| Change::Mailbox(user, m))
            .chain(users.iter().map(|(user, u)| Change::User(user, u)))
            .collect();
        persist.save(&changes)?;
        Ok(Store {
            inner: Mutex::new(StoreInner {
                mailboxes,
                devices,
                next_key: loaded.next_policy_key,
                users,
                watchers: HashMap::new(),
                persist: Some(persist),
            }),
        })
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
        let before = mailbox.revision;
        let result = f(mailbox, device, &mut new_key);
        if let Some(persist) = inner.persist.as_mut() {
            persist.save_or_log(&[
                Change::Mailbox(user, mailbox),
                Change::Device(user, device_id, device),
                Change::NextPolicyKey(inner.next_key),
            ]);
        }
        if mailbox.revision != before {
            let revision = mailbox.revision;
            if let Some(watcher) = inner.watchers.get(user) {
                watcher.send_replace(revision);
            }
        }
        result
    }

    /// Runs `f` on the user's mailbox alone (test hooks, message delivery),
    /// waking the user's waiting requests if it changed anything.
    pub fn with_mailbox<T>(&self, user: &str, f: impl FnOnce(&mut Mailbox) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        let mailbox = inner
            .mailboxes
            .entry(user.to_string())
            .or_insert_with(Mailbox::standard);
        let before = mailbox.revision;
        let result = f(mailbox);
        if let Some(persist) = inner.persist.as_mut() {
            persist.save_or_log(&[Change::Mailbox(user, mailbox)]);
        }
        if mailbox.revision != before {
            let revision = mailbox.revision;
            if let Some(watcher) = inner.watchers.get(user) {
                watcher.send_replace(revision);
            }
        }
        result
    }

    /// A receiver that sees every change to the user's mailbox from now on:
    /// what a long-poll (Ping, Sync with Wait) waits on. Subscribe before
    /// looking at the state, so a change in between is not missed.
    pub fn subscribe(&self, user: &str) -> watch::Receiver<u64> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .watchers
            .entry(user.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }
}

impl Store {
    /// Runs `f` on an existing device of `user` (one that has sent at least
    /// one request); `None`, without creating it, if there is none.
    pub fn with_existing_device<T>(
        &self,
        user: &str,
        device_id: &str,
        f: impl FnOnce(&mut DeviceState) -> T,
    ) -> Option<T> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        let device = inner
            .devices
            .get_mut(&(user.to_string(), device_id.to_string()))?;
        let result = f(device);
        if let Some(persist) = inner.persist.as_mut() {
            persist.save_or_log(&[Change::Device(user, device_id, device)]);
        }
        Some(result)
    }

    /// Puts the user back in the initial state: the standard mailbox, the
    /// default user settings (same address), and no device state at all
    /// (every device of theirs starts over: not provisioned, no FolderSync
    /// key). Policy keys handed out before stay invalid. Other users are
    /// untouched.
    pub fn reset_user(&self, user: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        // The new mailbox continues the old one's revision, so that waiting
        // requests see the reset as a change.
        let revision = inner.mailboxes.get(user).map_or(0, |m| m.revision);
        let mut mailbox = Mailbox::standard();
        mailbox.revision = revision + 1;
        inner.mailboxes.insert(user.to_string(), mailbox);
        let gone: Vec<(String, String)> = inner
            .devices
            .keys()
            .filter(|(owner, _)| owner == user)
            .cloned()
            .collect();
        for key in &gone {
            inner.devices.remove(key);
        }
        if let Some(state) = inner.users.get_mut(user) {
            *state = UserState::new(&state.email);
        }
        if let Some(persist) = inner.persist.as_mut() {
            let mut changes: Vec<Change> = gone
                .iter()
                .map(|(owner, device)| Change::DeviceGone(owner, device))
                .collect();
            if let Some(mailbox) = inner.mailboxes.get(user) {
                changes.push(Change::Mailbox(user, mailbox));
            }
            if let Some(state) = inner.users.get(user) {
                changes.push(Change::User(user, state));
            }
            persist.save_or_log(&changes);
        }
        if let Some(watcher) = inner.watchers.get(user) {
            watcher.send_replace(revision + 1);
        }
    }

    /// Runs `f` on the user's own settings (not tied to a device).
    pub fn with_user<T>(&self, user: &str, f: impl FnOnce(&mut UserState) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let inner = &mut *guard;
        let state = inner
            .users
            .entry(user.to_string())
            .or_insert_with(|| UserState::new(&Account::new(user, "").email));
        let result = f(state);
        if let Some(persist) = inner.persist.as_mut() {
            persist.save_or_log(&[Change::User(user, state)]);
        }
        result
    }

    /// Every user's name and primary SMTP address, ordered by user name:
    /// the directory (GAL) that ResolveRecipients searches.
    pub fn directory(&self) -> Vec<(String, String)> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut users: Vec<(String, String)> = guard
            .users
            .iter()
            .map(|(user, state)| (user.clone(), state.email.clone()))
            .collect();
        users.sort();
        users
    }
}

/// What the server keeps per user, whichever device asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// The primary SMTP address (Settings UserInformation).
    pub email: String,
    pub oof: OofSettings,
    /// The ClientIds of the user's last sent messages, oldest first, to
    /// refuse a resend with status 118 MessagePreviouslySent (MS-ASCMD
    /// 2.2.3.28: the server remembers the last few).
    #[serde(default)]
    pub sent_client_ids: std::collections::VecDeque<String>,
}

impl UserState {
    pub fn new(email: &str) -> UserState {
        UserState {
            email: email.to_string(),
            oof: OofSettings::default(),
            sent_client_ids: Default::default(),
        }
    }
}

/// Out-of-office settings (MS-ASCMD 2.2.3.122 Oof). The default is disabled,
/// with every audience disabled and without a reply message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OofSettings {
    /// OofState: 0 disabled, 1 global, 2 time-based.
    pub state: u8,
    /// The time-based window (StartTime, EndTime), as MS-ASDTYPE datetimes.
    pub window: Option<(String, String)>,
    /// Per audience: internal, known external, unknown external.
    pub messages: [OofMessage; 3],
}

/// The OOF settings for one audience.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OofMessage {
    pub enabled: bool,
    /// The reply message and whether it is HTML (else plain text).
    pub reply: Option<(String, bool)>,
}

/// A device's self-description (MS-ASCMD 2.2.3.45 DeviceInformation): the
/// elements of its last `Set`, by name, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub fields: Vec<(String, String)>,
}
