//! Persistence of the mock's state (`eastest serve --data DIR`,
//! [`MockConfig::data_dir`](super::MockConfig::data_dir)).
//!
//! The state lives in memory as always; with a data directory, every
//! [`Store`](super::state::Store) method that can change it writes the
//! records it touched through to an embedded database (redb) before it
//! returns, so before the HTTP response that acknowledges the change goes
//! out. A restart, even after SIGKILL or a power cut, loses nothing that was
//! acknowledged.
//!
//! # Layout
//!
//! One file, `DIR/eastest-mock.redb` ([`FILE_NAME`]), with four tables; each
//! record is one JSON document:
//!
//! | Table | Key | Value |
//! |---|---|---|
//! | `mailboxes` | user | the mailbox: folders, items (with MIME source and attachments), the id counters, the revision |
//! | `devices` | (user, DeviceId) | the device's protocol state: policy keys, FolderSync key and snapshot, Sync collections, caches, device information, recovery password, pending wipe |
//! | `users` | user | the user's settings (Oof, primary SMTP address) |
//! | `meta` | name | `format` (this layout's version, [`FORMAT`]) and `next_policy_key` |
//!
//! Element trees (item properties, cached Sync requests) are written as a
//! small JSON tree, `{"ns": page, "name": .., "children": [{"e": ..},
//! {"t": text}, {"o": base64}]}`; the codec's `Element` has a `&'static str`
//! code page name, which reading maps back through the code page table.
//! Binary content (attachments, opaque data) is base64.
//!
//! # Write-through
//!
//! A change is written in one write transaction with immediate durability
//! (redb's default: the commit returns once the data is on disk). Only
//! records whose serialized form differs from what was last written are
//! written, so a request that changes nothing costs a serialization and a
//! comparison, no disk write. The write happens under the store's lock, so
//! records reach the disk in the order the changes happened. Without a data
//! directory none of this runs: not even a serialization.
//!
//! A failed write (disk full, I/O error) is logged with `tracing` at error
//! level and the change stays in memory; the record is written again with
//! the next change to it, since the comparison is against what last reached
//! the disk. The request itself is still answered normally (the mock has no
//! way to take a change back once the handler has made it).
//!
//! # Opening
//!
//! A data directory that does not exist is created. The whole database is
//! read at start (and checked: redb verifies every page's checksum), so a
//! damaged or foreign file, or a record that does not parse, is an error
//! naming the file before the server listens. Records of users that are not
//! in the accounts any more stay on disk untouched but are not loaded; a
//! user's primary SMTP address always comes from the accounts.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use redb::{Database, ReadableTable, TableDefinition};
use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::state::{DeviceState, Mailbox, UserState};
use crate::wbxml::{Element, Node, ProtocolVersion, code_page_by_uri};

/// The database file inside the data directory.
pub const FILE_NAME: &str = "eastest-mock.redb";

/// The version of the layout above; a file with another one is refused
/// rather than misread.
pub const FORMAT: u64 = 1;

const MAILBOXES: TableDefinition<&str, &[u8]> = TableDefinition::new("mailboxes");
const DEVICES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("devices");
const USERS: TableDefinition<&str, &[u8]> = TableDefinition::new("users");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const META_FORMAT: &str = "format";
const META_NEXT_POLICY_KEY: &str = "next_policy_key";

/// Why the database could not be opened or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mock database {}: {reason}", path.display())]
pub struct PersistError {
    /// The database file (or the data directory, if it could not be created).
    pub path: PathBuf,
    pub reason: String,
}

/// Everything read from the database at start.
#[derive(Debug, Default)]
pub struct Loaded {
    pub mailboxes: HashMap<String, Mailbox>,
    pub devices: HashMap<(String, String), DeviceState>,
    pub users: HashMap<String, UserState>,
    /// The policy-key counter (see `Store::with_device`).
    pub next_policy_key: u32,
}

/// One record a store method may have changed.
pub enum Change<'a> {
    Mailbox(&'a str, &'a Mailbox),
    Device(&'a str, &'a str, &'a DeviceState),
    /// The device's state was dropped (a reset of its user).
    DeviceGone(&'a str, &'a str),
    User(&'a str, &'a UserState),
    NextPolicyKey(u32),
}

/// The open database and what was last written to it.
pub struct Persist {
    db: Database,
    path: PathBuf,
    written: Written,
}

impl fmt::Debug for Persist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Persist").field("path", &self.path).finish()
    }
}

/// The serialized form of each record as it is on disk.
#[derive(Default)]
struct Written {
    mailboxes: HashMap<String, Vec<u8>>,
    devices: HashMap<(String, String), Vec<u8>>,
    users: HashMap<String, Vec<u8>>,
    next_policy_key: u32,
}

/// A record to write, serialized.
enum Pending {
    Mailbox(String, Vec<u8>),
    Device(String, String, Vec<u8>),
    DeviceGone(String, String),
    User(String, Vec<u8>),
    NextPolicyKey(u32),
}

impl Persist {
    /// Opens (or creates) the database in `dir` and reads all of it.
    pub fn open(dir: &Path) -> Result<(Persist, Loaded), PersistError> {
        std::fs::create_dir_all(dir).map_err(|e| PersistError {
            path: dir.to_path_buf(),
            reason: format!("cannot create the data directory: {e}"),
        })?;
        let path = dir.join(FILE_NAME);
        let fail = |reason: String| PersistError {
            path: path.clone(),
            reason,
        };
        // redb may panic on a file damaged outside redb unless the integrity
        // check runs; catch what slips through anyway, so the answer is
        // always a message naming the file.
        let opened = std::panic::catch_unwind(|| {
            Database::builder()
                .set_check_integrity_on_open(true)
                .create(&path)
        });
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => return Err(fail(format!("cannot open: {e}"))),
            Err(_) => return Err(fail("cannot open: the file is damaged".to_string())),
        };
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load(&db)));
        let (loaded, written) = match read {
            Ok(result) => result.map_err(fail)?,
            Err(_) => return Err(fail("cannot read: the file is damaged".to_string())),
        };
        Ok((Persist { db, path, written }, loaded))
    }

    /// Writes the records among `changes` that differ from what is on disk,
    /// in one durable transaction.
    pub fn save(&mut self, changes: &[Change]) -> Result<(), PersistError> {
        let pending = self.pending(changes).map_err(|reason| self.error(reason))?;
        if pending.is_empty() {
            return Ok(());
        }
        self.write(&pending).map_err(|reason| self.error(reason))?;
        for p in pending {
            match p {
                Pending::Mailbox(user, bytes) => {
                    self.written.mailboxes.insert(user, bytes);
                }
                Pending::Device(user, device, bytes) => {
                    self.written.devices.insert((user, device), bytes);
                }
                Pending::DeviceGone(user, device) => {
                    self.written.devices.remove(&(user, device));
                }
                Pending::User(user, bytes) => {
                    self.written.users.insert(user, bytes);
                }
                Pending::NextPolicyKey(key) => self.written.next_policy_key = key,
            }
        }
        Ok(())
    }

    /// [`Persist::save`], logging a failure (see the module docs: the change
    /// stays in memory and is written with the next change to the record).
    pub fn save_or_log(&mut self, changes: &[Change]) {
        if let Err(e) = self.save(changes) {
            tracing::error!("{e}; the change is kept in memory only for now");
        }
    }

    fn error(&self, reason: String) -> PersistError {
        PersistError {
            path: self.path.clone(),
            reason,
        }
    }

    /// The changed records, serialized.
    fn pending(&self, changes: &[Change]) -> Result<Vec<Pending>, String> {
        let json = |what: &str, r: serde_json::Result<Vec<u8>>| {
            r.map_err(|e| format!("cannot serialize {what}: {e}"))
        };
        let mut pending = Vec::new();
        for change in changes {
            match *change {
                Change::Mailbox(user, mailbox) => {
                    let bytes = json("a mailbox", serde_json::to_vec(mailbox))?;
                    if self.written.mailboxes.get(user) != Some(&bytes) {
                        pending.push(Pending::Mailbox(user.to_string(), bytes));
                    }
                }
                Change::Device(user, device, state) => {
                    let bytes = json("a device", serde_json::to_vec(state))?;
                    let key = (user.to_string(), device.to_string());
                    if self.written.devices.get(&key) != Some(&bytes) {
                        pending.push(Pending::Device(key.0, key.1, bytes));
                    }
                }
                Change::DeviceGone(user, device) => {
                    let key = (user.to_string(), device.to_string());
                    if self.written.devices.contains_key(&key) {
                        pending.push(Pending::DeviceGone(key.0, key.1));
                    }
                }
                Change::User(user, state) => {
                    let bytes = json("user settings", serde_json::to_vec(state))?;
                    if self.written.users.get(user) != Some(&bytes) {
                        pending.push(Pending::User(user.to_string(), bytes));
                    }
                }
                Change::NextPolicyKey(key) => {
                    if self.written.next_policy_key != key {
                        pending.push(Pending::NextPolicyKey(key));
                    }
                }
            }
        }
        Ok(pending)
    }

    fn write(&self, pending: &[Pending]) -> Result<(), String> {
        let txn = self.db.begin_write().map_err(|e| e.to_string())?;
        {
            let mut mailboxes = txn.open_table(MAILBOXES).map_err(|e| e.to_string())?;
            let mut devices = txn.open_table(DEVICES).map_err(|e| e.to_string())?;
            let mut users = txn.open_table(USERS).map_err(|e| e.to_string())?;
            let mut meta = txn.open_table(META).map_err(|e| e.to_string())?;
            for p in pending {
                let done = match p {
                    Pending::Mailbox(user, bytes) => {
                        mailboxes.insert(user.as_str(), bytes.as_slice()).map(drop)
                    }
                    Pending::Device(user, device, bytes) => devices
                        .insert((user.as_str(), device.as_str()), bytes.as_slice())
                        .map(drop),
                    Pending::DeviceGone(user, device) => {
                        devices.remove((user.as_str(), device.as_str())).map(drop)
                    }
                    Pending::User(user, bytes) => {
                        users.insert(user.as_str(), bytes.as_slice()).map(drop)
                    }
                    Pending::NextPolicyKey(key) => {
                        meta.insert(META_NEXT_POLICY_KEY, u64::from(*key)).map(drop)
                    }
                };
                done.map_err(|e| e.to_string())?;
            }
        }
        txn.commit().map_err(|e| e.to_string())
    }
}

/// Reads every table (creating missing ones in a new file) and checks the
/// format.
fn load(db: &Database) -> Result<(Loaded, Written), String> {
    let txn = db.begin_write().map_err(|e| format!("cannot read: {e}"))?;
    let mut loaded = Loaded::default();
    let mut written = Written::default();
    {
        let storage = |e: redb::StorageError| format!("cannot read: {e}");
        let table = |e: redb::TableError| format!("cannot read: {e}");
        let mut meta = txn.open_table(META).map_err(table)?;
        let format = meta.get(META_FORMAT).map_err(storage)?.map(|v| v.value());
        match format {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "written in format {other}, this eastest reads format {FORMAT}"
                ));
            }
            None => {
                meta.insert(META_FORMAT, FORMAT).map_err(storage)?;
            }
        }
        let key = meta
            .get(META_NEXT_POLICY_KEY)
            .map_err(storage)?
            .map_or(0, |v| v.value());
        loaded.next_policy_key =
            u32::try_from(key).map_err(|_| format!("bad {META_NEXT_POLICY_KEY} {key}"))?;
        written.next_policy_key = loaded.next_policy_key;

        let mailboxes = txn.open_table(MAILBOXES).map_err(table)?;
        for entry in mailboxes.iter().map_err(storage)? {
            let (user, bytes) = entry.map_err(storage)?;
            let (user, bytes) = (user.value().to_string(), bytes.value().to_vec());
            let mailbox = serde_json::from_slice(&bytes)
                .map_err(|e| format!("the mailbox of {user:?} does not parse: {e}"))?;
            loaded.mailboxes.insert(user.clone(), mailbox);
            written.mailboxes.insert(user, bytes);
        }
        let devices = txn.open_table(DEVICES).map_err(table)?;
        for entry in devices.iter().map_err(storage)? {
            let (key, bytes) = entry.map_err(storage)?;
            let (user, device) = key.value();
            let key = (user.to_string(), device.to_string());
            let bytes = bytes.value().to_vec();
            let state = serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "the state of device {:?} of {:?} does not parse: {e}",
                    key.1, key.0
                )
            })?;
            loaded.devices.insert(key.clone(), state);
            written.devices.insert(key, bytes);
        }
        let users = txn.open_table(USERS).map_err(table)?;
        for entry in users.iter().map_err(storage)? {
            let (user, bytes) = entry.map_err(storage)?;
            let (user, bytes) = (user.value().to_string(), bytes.value().to_vec());
            let state = serde_json::from_slice(&bytes)
                .map_err(|e| format!("the settings of {user:?} do not parse: {e}"))?;
            loaded.users.insert(user.clone(), state);
            written.users.insert(user, bytes);
        }
    }
    txn.commit().map_err(|e| format!("cannot write: {e}"))?;
    Ok((loaded, written))
}

/// The `&'static str` name of the code page `ns` (as the codec's `Element`
/// holds it).
fn page_name(ns: &str) -> Result<&'static str, String> {
    code_page_by_uri(ns)
        .map(|p| p.namespace)
        .ok_or_else(|| format!("unknown code page {ns:?}"))
}

/// Writes an element as `{"ns", "name", "children"}` without copying it.
struct ElementOut<'a>(&'a Element);

impl Serialize for ElementOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Element", 3)?;
        out.serialize_field("ns", self.0.namespace)?;
        out.serialize_field("name", &self.0.name)?;
        out.serialize_field("children", &NodesOut(&self.0.children))?;
        out.end()
    }
}

struct NodesOut<'a>(&'a [Node]);

impl Serialize for NodesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(NodeOut))
    }
}

struct NodeOut<'a>(&'a Node);

impl Serialize for NodeOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Node::Element(e) => s.serialize_newtype_variant("Node", 0, "e", &ElementOut(e)),
            Node::Text(t) => s.serialize_newtype_variant("Node", 1, "t", t),
            Node::Opaque(o) => s.serialize_newtype_variant("Node", 2, "o", &BASE64.encode(o)),
        }
    }
}

/// The element as read back, before its code page is mapped.
#[derive(Deserialize)]
struct ElementIn {
    ns: String,
    name: String,
    #[serde(default)]
    children: Vec<NodeIn>,
}

#[derive(Deserialize)]
enum NodeIn {
    #[serde(rename = "e")]
    Element(ElementIn),
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "o")]
    Opaque(String),
}

impl ElementIn {
    fn into_element(self) -> Result<Element, String> {
        let children = self
            .children
            .into_iter()
            .map(|n| {
                Ok(match n {
                    NodeIn::Element(e) => Node::Element(e.into_element()?),
                    NodeIn::Text(t) => Node::Text(t),
                    NodeIn::Opaque(o) => Node::Opaque(
                        BASE64
                            .decode(o)
                            .map_err(|e| format!("bad opaque data: {e}"))?,
                    ),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Element {
            namespace: page_name(&self.ns)?,
            name: self.name,
            children,
        })
    }
}

/// (code page, element name) pairs such as Sync `Supported` children.
type PagePairs = Vec<(&'static str, String)>;

/// `#[serde(with)]` for `Vec<Element>`.
pub mod elements {
    use super::*;

    pub fn serialize<S: Serializer>(elements: &[Element], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(elements.iter().map(ElementOut))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Element>, D::Error> {
        Vec::<ElementIn>::deserialize(d)?
            .into_iter()
            .map(ElementIn::into_element)
            .collect::<Result<_, _>>()
            .map_err(D::Error::custom)
    }
}

/// `#[serde(with)]` for `Option<Vec<Element>>`.
pub mod option_elements {
    use super::*;

    pub fn serialize<S: Serializer>(
        elements: &Option<Vec<Element>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match elements {
            Some(elements) => s.serialize_some(&ElementsOut(elements)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Element>>, D::Error> {
        Option::<Vec<ElementIn>>::deserialize(d)?
            .map(|v| {
                v.into_iter()
                    .map(ElementIn::into_element)
                    .collect::<Result<_, _>>()
            })
            .transpose()
            .map_err(D::Error::custom)
    }

    struct ElementsOut<'a>(&'a [Element]);

    impl Serialize for ElementsOut<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::elements::serialize(self.0, s)
        }
    }
}

/// `#[serde(with)]` for `Vec<(&'static str, String)>`: (code page, element
/// name) pairs such as Sync `Supported` children.
pub mod page_names {
    use super::*;

    pub fn serialize<S: Serializer>(
        pairs: &[(&'static str, String)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(pairs.iter().map(|(ns, name)| (*ns, name.as_str())))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PagePairs, D::Error> {
        Vec::<(String, String)>::deserialize(d)?
            .into_iter()
            .map(|(ns, name)| Ok((page_name(&ns)?, name)))
            .collect::<Result<_, String>>()
            .map_err(D::Error::custom)
    }
}

/// `#[serde(with)]` for `Option<Vec<(&'static str, String)>>`.
pub mod option_page_names {
    use super::*;

    pub fn serialize<S: Serializer>(pairs: &Option<PagePairs>, s: S) -> Result<S::Ok, S::Error> {
        match pairs {
            Some(pairs) => s.serialize_some(&PairsOut(pairs)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PagePairs>, D::Error> {
        Option::<Vec<(String, String)>>::deserialize(d)?
            .map(|v| {
                v.into_iter()
                    .map(|(ns, name)| Ok((page_name(&ns)?, name)))
                    .collect::<Result<_, String>>()
            })
            .transpose()
            .map_err(D::Error::custom)
    }

    struct PairsOut<'a>(&'a [(&'static str, String)]);

    impl Serialize for PairsOut<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::page_names::serialize(self.0, s)
        }
    }
}

/// `#[serde(with)]` for `Option<ProtocolVersion>`, as `"14.1"`.
pub mod option_version {
    use super::*;

    pub fn serialize<S: Serializer>(
        version: &Option<ProtocolVersion>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match version {
            Some(v) => s.serialize_some(v.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<ProtocolVersion>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|v| v.parse().map_err(D::Error::custom))
            .transpose()
    }
}

/// `#[serde(with)]` for binary content (`Vec<u8>`), as base64 text: a third
/// of the size of JSON's array of numbers.
pub mod base64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        BASE64
            .decode(String::deserialize(d)?)
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::super::items::{Attachment, BodyOptions, BodyPreference};
    use super::super::state::{DeviceInfo, OofMessage, PolicyState, Wipe};
    use super::super::sync::{
        CollectionOptions, CollectionRequest, Ghosting, Previous, SyncCache, SyncCollection,
    };
    use super::*;

    /// A fresh directory under the temp dir, removed when dropped.
    struct Dir(PathBuf);

    impl Dir {
        fn new(tag: &str) -> Dir {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            Dir(std::env::temp_dir().join(format!(
                "eastest-persist-unit-{tag}-{}-{nanos}",
                std::process::id()
            )))
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn el(ns: &'static str, name: &str, children: Vec<Node>) -> Element {
        Element {
            namespace: ns,
            name: name.to_string(),
            children,
        }
    }

    /// A device state with every field set, `&'static str` pages included.
    fn busy_device() -> DeviceState {
        let options = el(
            "AirSync",
            "Options",
            vec![Node::Element(el(
                "AirSyncBase",
                "BodyPreference",
                vec![Node::Element(el(
                    "AirSyncBase",
                    "Type",
                    vec![Node::Text("2".into())],
                ))],
            ))],
        );
        let mut collections = HashMap::new();
        collections.insert(
            "8".to_string(),
            SyncCollection {
                key: 7,
                view: HashMap::from([("8:1".to_string(), 3), ("8:2".to_string(), 5)]),
                ghosting: Ghosting::AllBut(vec![("Contacts", "FirstName".into())]),
                options: CollectionOptions {
                    filter: 3,
                    body: BodyOptions {
                        preferences: vec![BodyPreference {
                            kind: 2,
                            truncation_size: Some(512),
                            all_or_none: true,
                            preview: Some(100),
                        }],
                        mime_support: 2,
                    },
                    server_wins: false,
                    window: 25,
                    deletes_as_moves: false,
                },
                previous: Some(Box::new(Previous {
                    key: 6,
                    view: HashMap::from([("8:1".to_string(), 3)]),
                    added: vec![("c1".into(), "8:2".into())],
                    deleted: vec!["8:9".into()],
                })),
            },
        );
        DeviceState {
            policy: PolicyState {
                temporary: None,
                current: Some(1_000_007_919),
            },
            folder_sync_key: Some(4),
            folder_snapshot: Mailbox::standard().folders,
            device_info: Some(DeviceInfo {
                fields: vec![("Model".into(), "Test".into())],
            }),
            recovery_password: Some("secret".into()),
            wipe: Some(Wipe::AccountOnly),
            last_version: Some(ProtocolVersion::V16_1),
            collections,
            next_sync_key: 8,
            find_searches: ["0f8fad5b-d9cb-469f-a165-70867728950e".to_string()].into(),
            sync_cache: Some(SyncCache {
                collections: vec![CollectionRequest {
                    sync_key: "7".into(),
                    collection_id: "8".into(),
                    supported: Some(vec![("Contacts", "FirstName".into())]),
                    deletes_as_moves: Some(false),
                    get_changes: None,
                    window: Some(25),
                    options: Some(vec![options]),
                    commands: vec![el("AirSync", "Fetch", vec![])],
                }],
                wait: Some(Duration::from_secs(120)),
            }),
            ping_cache: Some(super::super::ping::PingCache::default()),
        }
    }

    #[test]
    fn a_seeded_mailbox_round_trips_with_mime_and_attachments() {
        let mut mailbox = Mailbox::standard();
        let id = mailbox.add_item(
            "1",
            super::super::items::Item {
                server_id: String::new(),
                class: super::super::items::Class::Email,
                data: vec![el(
                    "Email",
                    "Subject",
                    vec![Node::Text("binary".into()), Node::Opaque(vec![0, 1, 255])],
                )],
                modseq: 0,
                mime: Some("Subject: binary\r\n\r\nhi".into()),
                attachments: vec![Attachment {
                    file_reference: "att-x".into(),
                    content_type: "application/octet-stream".into(),
                    content: vec![0, 159, 146, 150],
                }],
            },
        );
        let json = serde_json::to_vec(&mailbox).unwrap();
        let back: Mailbox = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, mailbox);
        let (_, item) = back.item(&id).unwrap();
        assert_eq!(item.attachments[0].content, [0, 159, 146, 150]);
        // The page names are the code page table's own `&'static str`s.
        assert_eq!(item.data[0].namespace, "Email");
        // Counters survive too: the next ids continue, never reuse.
        let item = item.clone();
        let mut back = back;
        let next = back.add_item("1", item);
        assert_ne!(next, id);
        assert!(back.new_server_id().parse::<u32>().unwrap() >= 11);
    }

    #[test]
    fn a_device_state_round_trips() {
        let device = busy_device();
        let json = serde_json::to_string(&device).unwrap();
        let back: DeviceState = serde_json::from_str(&json).unwrap();
        assert_eq!(back.policy, device.policy);
        assert_eq!(back.collections, device.collections);
        assert_eq!(back.sync_cache, device.sync_cache);
        assert_eq!(back.last_version, device.last_version);
        assert_eq!(back.wipe, device.wipe);
        assert_eq!(back.folder_snapshot, device.folder_snapshot);
        assert_eq!(back.device_info, device.device_info);
        assert_eq!(back.recovery_password, device.recovery_password);
        assert_eq!(back.ping_cache, device.ping_cache);
        assert_eq!(
            (back.folder_sync_key, back.next_sync_key),
            (device.folder_sync_key, device.next_sync_key)
        );
    }

    #[test]
    fn an_unknown_code_page_does_not_parse() {
        let json = r#"[{"ns":"NoSuchPage","name":"X","children":[]}]"#;
        let mut d = serde_json::Deserializer::from_str(json);
        let err = elements::deserialize(&mut d).expect_err("an error");
        assert!(err.to_string().contains("NoSuchPage"), "{err}");
    }

    #[test]
    fn save_writes_only_changes_and_reopen_reads_them() {
        let dir = Dir::new("save");
        let (mut persist, loaded) = Persist::open(&dir.0).unwrap();
        assert!(loaded.mailboxes.is_empty() && loaded.devices.is_empty());
        assert_eq!(persist.path, dir.0.join(FILE_NAME));

        let mailbox = Mailbox::standard();
        let device = busy_device();
        let mut user = UserState::new("alice@example.com");
        user.oof.state = 1;
        user.oof.messages[0] = OofMessage {
            enabled: true,
            reply: Some(("Away".into(), false)),
        };
        let all = [
            Change::Mailbox("alice", &mailbox),
            Change::Device("alice", "dev1", &device),
            Change::Device("alice", "dev2", &device),
            Change::User("alice", &user),
            Change::NextPolicyKey(9),
        ];
        persist.save(&all).unwrap();
        assert!(
            persist.pending(&all).unwrap().is_empty(),
            "nothing left to write"
        );
        persist
            .save(&[Change::DeviceGone("alice", "dev2")])
            .unwrap();
        drop(persist);

        let (persist, loaded) = Persist::open(&dir.0).unwrap();
        assert_eq!(loaded.mailboxes["alice"], mailbox);
        assert_eq!(loaded.users["alice"], user);
        assert_eq!(loaded.next_policy_key, 9);
        let keys: Vec<_> = loaded.devices.keys().cloned().collect();
        assert_eq!(keys, [("alice".to_string(), "dev1".to_string())]);
        assert_eq!(
            loaded.devices[&("alice".to_string(), "dev1".to_string())].collections,
            device.collections
        );
        // What was read counts as written.
        assert!(persist.pending(&all[..1]).unwrap().is_empty());
    }

    #[test]
    fn a_second_open_of_the_same_directory_is_refused() {
        let dir = Dir::new("twice");
        let (_first, _) = Persist::open(&dir.0).unwrap();
        let err = Persist::open(&dir.0).expect_err("the file is locked");
        assert_eq!(err.path, dir.0.join(FILE_NAME));
    }

    #[test]
    fn damage_and_foreign_formats_are_errors_naming_the_file() {
        let dir = Dir::new("damage");
        std::fs::create_dir_all(&dir.0).unwrap();
        let file = dir.0.join(FILE_NAME);
        std::fs::write(&file, vec![0xA5; 8192]).unwrap();
        let err = Persist::open(&dir.0).expect_err("garbage is refused");
        assert_eq!(err.path, file);
        assert!(err.to_string().contains(&file.display().to_string()));

        std::fs::remove_file(&file).unwrap();
        {
            let db = Database::create(&file).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(META_FORMAT, 99)
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Persist::open(&dir.0).expect_err("another format");
        assert!(err.reason.contains("format 99"), "{err}");

        std::fs::remove_file(&file).unwrap();
        {
            let db = Database::create(&file).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(MAILBOXES)
                .unwrap()
                .insert("alice", b"{not json".as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Persist::open(&dir.0).expect_err("a bad record");
        assert!(err.reason.contains("mailbox of \"alice\""), "{err}");
    }
}
