//! Sync (MS-ASCMD 2.2.1.21): items both ways, per device and collection.
//!
//! # State
//!
//! Each device keeps, per collection it initialised, a [`SyncCollection`]:
//! its current key, the *view* (every ServerId the device holds and the
//! revision it holds it at), the ghosting rule fixed by its initial Sync, and
//! its cached options. Server changes are the difference between the view
//! and the folder: items missing from the view are `Add`s, newer ones
//! `Change`s, view entries gone from the folder `Delete`s (`SoftDelete` when
//! the item still exists but left the `FilterType` window). Computing them
//! from the view rather than from a change log makes two devices of one user
//! converge by construction, and keeps a device from getting its own changes
//! echoed back.
//!
//! # Keys
//!
//! Key `0` (re)initialises a collection. A response that changes state
//! (client changes applied or server changes sent) carries a new key; the
//! previous key stays valid for one resend, for a response the client never
//! got: the view is rolled back to what it was after that request's client
//! changes, client `Add`s already applied are answered with the ServerId they
//! got the first time (matched by ClientId) instead of being added again, and
//! deletes already done succeed. Any other key gets Status 3, and the
//! collection's state is dropped (the client must start again from 0).
//!
//! # Ghosting (MS-ASCMD 2.2.3.179, 2.2.3.24)
//!
//! Decided once, by the initial Sync: no `Supported` element, nothing is
//! ghosted; `Supported` with children, everything else is ghosted; an empty
//! `<Supported/>`, everything is ghosted. Only Contacts (Contacts, Contacts2
//! pages) and Calendar properties can be ghosted; in 16.0 and 16.1 every
//! Calendar property is ghosted. A `Change` that omits a ghosted property
//! keeps the server's value; one that omits a non-ghosted property deletes
//! it. `airsyncbase:Body` is never deleted by omission. `Supported` with a
//! non-zero key is ignored (R4551); on a Notes collection it is Status 4
//! (MS-ASNOTE R114); without a `CollectionId` before it, Status 4 (R4545).
//!
//! # Choices where the spec leaves room
//!
//! - Response order inside `Collection`: SyncKey, CollectionId, Status,
//!   Commands, Responses, MoreAvailable (as MS-ASCMD 4.5.8 shows it).
//! - Email items: a `Change` updates only `Read`, `Flag` and `Categories`
//!   and leaves everything else; client `Add`s of messages are refused with
//!   Status 6 (only 16.0+ drafts may be added, in the Drafts folder).
//! - `DeletesAsMoves` (default on) moves deleted messages to Deleted Items;
//!   other classes are deleted.
//! - A folder without a syncable class (Journal, the recipient information
//!   cache), or the Notes folder below 14.0 (the class is new in 14.0), is
//!   Status 4 for its collection.
//! - A collection the device's last FolderSync did not include (or that
//!   no longer exists) makes the whole Sync Status 12.
//! - Commands with key 0 are Status 4; more than 100 collections is Status
//!   15.
//! - A Wait or HeartbeatInterval that expires without changes gets an empty
//!   response (HTTP 200 without a body).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::protocol::EasDateTime;
use crate::wbxml::{Element, Node, ProtocolVersion};

use super::command::{Ctx, Reply};
use super::items::{
    BodyOptions, Class, Item, write_added_application_data, write_application_data,
};
use super::state::{DeviceState, Mailbox};
use super::xml::XmlOut;

/// Sync status values (MS-ASCMD 2.2.3.177.17).
pub mod status {
    pub const SUCCESS: u8 = 1;
    pub const INVALID_SYNC_KEY: u8 = 3;
    pub const PROTOCOL_ERROR: u8 = 4;
    pub const CONVERSION_ERROR: u8 = 6;
    pub const CONFLICT: u8 = 7;
    pub const OBJECT_NOT_FOUND: u8 = 8;
    pub const HIERARCHY_CHANGED: u8 = 12;
    pub const INCOMPLETE_REQUEST: u8 = 13;
    pub const INVALID_INTERVAL: u8 = 14;
    pub const TOO_MANY_COLLECTIONS: u8 = 15;
}
use status::*;

/// The most changes one response carries per collection (MS-ASCMD
/// 2.2.3.199: WindowSize above 512 is read as 512).
pub const MAX_WINDOW: usize = 512;
/// The window when the client names none.
pub const DEFAULT_WINDOW: usize = 100;
/// The most collections one Sync may name.
pub const MAX_COLLECTIONS: usize = 100;

/// One device's sync state for one collection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncCollection {
    pub key: u32,
    /// ServerId -> the item revision the device holds.
    pub view: HashMap<String, u64>,
    pub ghosting: Ghosting,
    pub options: CollectionOptions,
    /// The state the previous key stands for, for one resend.
    pub previous: Option<Box<Previous>>,
}

/// What a resend of the previous key needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Previous {
    pub key: u32,
    /// The view after that request's client changes, before server changes.
    pub view: HashMap<String, u64>,
    /// ClientId -> ServerId of that request's Adds.
    pub added: Vec<(String, String)>,
    /// ServerIds that request deleted.
    pub deleted: Vec<String>,
}

/// Which properties a collection's client manages (MS-ASCMD 2.2.3.179).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Ghosting {
    /// No `Supported` in the initial Sync: nothing is ghosted.
    #[default]
    Nothing,
    /// `Supported` with children: those are not ghosted, the rest are.
    AllBut(#[serde(with = "super::persist::page_names")] Vec<(&'static str, String)>),
    /// An empty `<Supported/>`: everything is ghosted.
    All,
}

/// A collection's `Options` and per-collection settings, kept between
/// requests (a request without `Options` uses the last ones).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CollectionOptions {
    /// FilterType 0-8 (MS-ASCMD 2.2.3.69.2).
    pub filter: u8,
    pub body: BodyOptions,
    /// Conflict: 0 client wins, 1 server wins (the default).
    pub server_wins: bool,
    pub window: usize,
    pub deletes_as_moves: bool,
}

impl Default for CollectionOptions {
    fn default() -> Self {
        CollectionOptions {
            filter: 0,
            body: BodyOptions::default(),
            server_wins: true,
            window: DEFAULT_WINDOW,
            deletes_as_moves: true,
        }
    }
}

/// The last complete request, for empty and partial Syncs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncCache {
    pub collections: Vec<CollectionRequest>,
    pub wait: Option<Duration>,
}

/// One `Collection` of a request, parsed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CollectionRequest {
    pub sync_key: String,
    pub collection_id: String,
    /// `Some` when the request had a `Supported` element.
    #[serde(with = "super::persist::option_page_names")]
    pub supported: Option<Vec<(&'static str, String)>>,
    pub deletes_as_moves: Option<bool>,
    pub get_changes: Option<bool>,
    pub window: Option<usize>,
    #[serde(with = "super::persist::option_elements")]
    pub options: Option<Vec<Element>>,
    #[serde(with = "super::persist::elements")]
    pub commands: Vec<Element>,
}

/// A parsed request, or the Status that ends it.
struct SyncRequest {
    collections: Vec<CollectionRequest>,
    wait: Option<Duration>,
}

pub async fn handle(ctx: &Ctx<'_>, request: Option<&Element>) -> Reply {
    let v = ctx.version;
    let parsed = match parse(ctx, request) {
        Ok(p) => p,
        Err(Failure::Global(status, limit)) => return global_status(v, status, limit),
    };
    let deadline = parsed.wait.map(|w| Instant::now() + w);
    // Only a waiting Sync listens for changes (subscribed before the first
    // look, so a change in between is not missed).
    let mut changes = deadline.map(|_| ctx.store.subscribe(ctx.user));
    let mut first = true;
    loop {
        if let Some(changes) = &mut changes {
            changes.borrow_and_update();
        }
        let outcome = ctx.device(|mailbox, device, _| run(ctx, mailbox, device, &parsed, first));
        first = false;
        match outcome {
            Pass::Respond(reply) => return reply,
            Pass::Nothing => {}
        }
        let (Some(deadline), Some(changes)) = (deadline, &mut changes) else {
            // Nothing to say and no wait: the empty response.
            return Reply::Wbxml(Vec::new());
        };
        match tokio::time::timeout_at(deadline.into(), changes.changed()).await {
            Ok(Ok(())) => continue,
            // Wait expired (or the store went away): no changes.
            _ => return Reply::Wbxml(Vec::new()),
        }
    }
}

enum Failure {
    Global(u8, Option<u32>),
}

enum Pass {
    Respond(Reply),
    /// No collection has anything to report: wait if asked, else answer empty.
    Nothing,
}

fn global_status(v: ProtocolVersion, status: u8, limit: Option<u32>) -> Reply {
    let mut out = XmlOut::new("AirSync", "Sync", &[]);
    out.leaf("Status", status.to_string());
    if let Some(limit) = limit {
        out.leaf("Limit", limit.to_string());
    }
    Reply::from_encoded(out.finish("Sync", v))
}

/// The strict order of a request `Collection`'s children (MS-ASCMD 2.2.3.29.2).
pub(super) const COLLECTION_ORDER: &[&str] = &[
    "Class",
    "SyncKey",
    "CollectionId",
    "Supported",
    "DeletesAsMoves",
    "GetChanges",
    "WindowSize",
    "ConversationMode",
    "Options",
    "Commands",
];

fn parse(ctx: &Ctx, request: Option<&Element>) -> Result<SyncRequest, Failure> {
    let v = ctx.version;
    let protocol = || Failure::Global(PROTOCOL_ERROR, None);
    // An empty request: the cached one, as is.
    let Some(request) = request else {
        let cache = ctx.device(|_, device, _| device.sync_cache.clone());
        return match cache {
            Some(cache) => Ok(SyncRequest {
                collections: cache.collections,
                wait: cache.wait,
            }),
            None => Err(Failure::Global(INCOMPLETE_REQUEST, None)),
        };
    };
    let mut collections = Vec::new();
    let mut wait = None;
    let mut partial = false;
    let mut global_window = None;
    for child in request.elements() {
        match child.name.as_str() {
            "Collections" => {
                for c in child.elements() {
                    if c.name != "Collection" {
                        return Err(protocol());
                    }
                    collections.push(parse_collection(c).ok_or_else(protocol)?);
                }
            }
            "Wait" | "HeartbeatInterval" => {
                if wait.is_some() {
                    // Both, or twice: MS-ASCMD 2.2.3.194 allows one.
                    return Err(protocol());
                }
                let value: u32 = child.text().trim().parse().map_err(|_| protocol())?;
                let (min, max) = ctx.heartbeat_range;
                let seconds = if child.name == "Wait" {
                    // Minutes, 1-59.
                    if !(1..=59).contains(&value) {
                        let limit = if value < 1 { 1 } else { 59 };
                        return Err(Failure::Global(INVALID_INTERVAL, Some(limit)));
                    }
                    value.saturating_mul(60).clamp(min, max)
                } else {
                    if value < min || value > max {
                        let limit = if value < min { min } else { max };
                        return Err(Failure::Global(INVALID_INTERVAL, Some(limit)));
                    }
                    value
                };
                wait = Some(Duration::from_secs(u64::from(seconds)));
            }
            "WindowSize" => {
                global_window = Some(parse_window(&child.text()).ok_or_else(protocol)?);
            }
            "Partial" => partial = true,
            _ => return Err(protocol()),
        }
    }
    if collections.len() > MAX_COLLECTIONS {
        return Err(Failure::Global(TOO_MANY_COLLECTIONS, None));
    }
    if let Some(w) = global_window {
        for c in &mut collections {
            c.window.get_or_insert(w);
        }
    }
    let _ = v;
    if partial || collections.is_empty() {
        // A partial request: the cached collections, overridden by those named.
        let cache = ctx.device(|_, device, _| device.sync_cache.clone());
        let Some(cache) = cache else {
            return Err(Failure::Global(INCOMPLETE_REQUEST, None));
        };
        let mut merged = cache.collections;
        for c in collections {
            match merged
                .iter_mut()
                .find(|m| m.collection_id == c.collection_id)
            {
                Some(slot) => *slot = c,
                None => merged.push(c),
            }
        }
        let wait = wait.or(cache.wait);
        return Ok(SyncRequest {
            collections: merged,
            wait,
        });
    }
    Ok(SyncRequest { collections, wait })
}

/// A WindowSize: 0, and anything above 512, is read as 512 (MS-ASCMD
/// 2.2.3.199).
fn parse_window(text: &str) -> Option<usize> {
    let n: usize = text.trim().parse().ok()?;
    Some(if n == 0 {
        MAX_WINDOW
    } else {
        n.min(MAX_WINDOW)
    })
}

/// One request `Collection`; `None` for a protocol error (order, missing
/// `SyncKey` or `CollectionId`, values outside the schema).
fn parse_collection(c: &Element) -> Option<CollectionRequest> {
    let names = c.child_names();
    let mut last = 0;
    for name in &names {
        let rank = COLLECTION_ORDER.iter().position(|n| n == name)?;
        if rank < last || (rank == last && *name != "Options" && rank != 0) {
            return None;
        }
        last = rank;
    }
    let flag = |name: &str| -> Option<Option<bool>> {
        match c.child(name) {
            None => Some(None),
            Some(e) => match e.text().trim() {
                "" | "1" => Some(Some(true)),
                "0" => Some(Some(false)),
                _ => None,
            },
        }
    };
    let supported = c.child("Supported").map(|s| {
        s.elements()
            .map(|e| (e.namespace, e.name.clone()))
            .collect()
    });
    Some(CollectionRequest {
        sync_key: c.child_text("SyncKey")?.trim().to_string(),
        collection_id: c.child_text("CollectionId")?.trim().to_string(),
        supported,
        deletes_as_moves: flag("DeletesAsMoves")?,
        get_changes: flag("GetChanges")?,
        window: match c.child("WindowSize") {
            None => None,
            Some(w) => Some(parse_window(&w.text())?),
        },
        options: {
            let options: Vec<Element> = c.elements_named("Options").cloned().collect();
            (!options.is_empty()).then_some(options)
        },
        commands: c
            .child("Commands")
            .map(|cmds| cmds.elements().cloned().collect())
            .unwrap_or_default(),
    })
}

/// What one collection answers.
struct CollectionResult {
    key: String,
    id: String,
    status: u8,
    commands: Vec<ServerChange>,
    responses: Vec<ClientResponse>,
    more_available: bool,
    /// Whether this collection has anything worth a response by itself.
    eventful: bool,
}

enum ServerChange {
    Add(Item),
    Change(Item),
    Delete(String),
    SoftDelete(String),
}

enum ClientResponse {
    Add {
        client_id: String,
        server_id: Option<String>,
        status: u8,
    },
    Change {
        server_id: String,
        status: u8,
    },
    Delete {
        server_id: String,
        status: u8,
    },
    Fetch {
        server_id: String,
        status: u8,
        item: Option<Item>,
    },
}

fn run(
    ctx: &Ctx,
    mailbox: &mut Mailbox,
    device: &mut DeviceState,
    request: &SyncRequest,
    first: bool,
) -> Pass {
    let v = ctx.version;
    // Every collection must be one the device's hierarchy knows.
    for c in &request.collections {
        let known = device
            .folder_snapshot
            .iter()
            .any(|f| f.server_id == c.collection_id);
        if !known || mailbox.folder(&c.collection_id).is_none() {
            return Pass::Respond(global_status(v, HIERARCHY_CHANGED, None));
        }
    }
    let mut results = Vec::with_capacity(request.collections.len());
    for c in &request.collections {
        // Commands are applied once: a pass after a wait only looks for
        // server changes.
        let commands: &[Element] = if first { &c.commands } else { &[] };
        results.push(sync_collection(ctx, mailbox, device, c, commands));
    }
    // Keep the request for empty and partial Syncs: the collections with
    // their current keys, without commands.
    if first {
        device.sync_cache = Some(SyncCache {
            collections: request
                .collections
                .iter()
                .zip(&results)
                .filter(|(_, r)| r.status == SUCCESS)
                .map(|(c, r)| CollectionRequest {
                    sync_key: r.key.clone(),
                    collection_id: c.collection_id.clone(),
                    supported: None,
                    deletes_as_moves: c.deletes_as_moves,
                    get_changes: c.get_changes,
                    window: c.window,
                    options: c.options.clone(),
                    // Commands are never repeated from the cache.
                    commands: Vec::new(),
                })
                .collect(),
            wait: request.wait,
        });
    } else if let Some(cache) = &mut device.sync_cache {
        for r in &results {
            if let Some(c) = cache
                .collections
                .iter_mut()
                .find(|c| c.collection_id == r.id)
            {
                c.sync_key = r.key.clone();
            }
        }
    }
    // With a wait (or an empty request), only collections with something
    // to say are answered, and nothing at all is an empty response.
    let waiting = request.wait.is_some();
    let results: Vec<CollectionResult> = if waiting {
        results.into_iter().filter(|r| r.eventful).collect()
    } else {
        results
    };
    if results.is_empty() {
        return Pass::Nothing;
    }
    let mut out = XmlOut::new("AirSync", "Sync", &[]);
    out.open("Collections");
    for r in &results {
        let options = device
            .collections
            .get(&r.id)
            .map(|s| s.options.body.clone())
            .unwrap_or_default();
        write_collection(&mut out, r, &options, v);
    }
    out.close("Collections");
    Pass::Respond(Reply::from_encoded(out.finish("Sync", v)))
}

fn write_collection(
    out: &mut XmlOut,
    r: &CollectionResult,
    body: &BodyOptions,
    v: ProtocolVersion,
) {
    out.open("Collection");
    out.leaf("SyncKey", &r.key);
    out.leaf("CollectionId", &r.id);
    out.leaf("Status", r.status.to_string());
    if !r.commands.is_empty() {
        out.open("Commands");
        for change in &r.commands {
            match change {
                ServerChange::Add(item) | ServerChange::Change(item) => {
                    let name = if matches!(change, ServerChange::Add(_)) {
                        "Add"
                    } else {
                        "Change"
                    };
                    out.open(name);
                    out.leaf("ServerId", &item.server_id);
                    if name == "Add" {
                        write_added_application_data(out, item, body, v);
                    } else {
                        write_application_data(out, item, body, v);
                    }
                    out.close(name);
                }
                ServerChange::Delete(id) | ServerChange::SoftDelete(id) => {
                    let name = if matches!(change, ServerChange::Delete(_)) {
                        "Delete"
                    } else {
                        "SoftDelete"
                    };
                    out.open(name);
                    out.leaf("ServerId", id);
                    out.close(name);
                }
            }
        }
        out.close("Commands");
    }
    if !r.responses.is_empty() {
        out.open("Responses");
        for response in &r.responses {
            match response {
                ClientResponse::Add {
                    client_id,
                    server_id,
                    status,
                } => {
                    out.open("Add");
                    out.leaf("ClientId", client_id);
                    if let Some(id) = server_id {
                        out.leaf("ServerId", id);
                    }
                    out.leaf("Status", status.to_string());
                    out.close("Add");
                }
                ClientResponse::Change { server_id, status } => {
                    out.open("Change");
                    out.leaf("ServerId", server_id);
                    out.leaf("Status", status.to_string());
                    out.close("Change");
                }
                ClientResponse::Delete { server_id, status } => {
                    out.open("Delete");
                    out.leaf("ServerId", server_id);
                    out.leaf("Status", status.to_string());
                    out.close("Delete");
                }
                ClientResponse::Fetch {
                    server_id,
                    status,
                    item,
                } => {
                    out.open("Fetch");
                    out.leaf("ServerId", server_id);
                    out.leaf("Status", status.to_string());
                    if let Some(item) = item {
                        // A fetch returns the whole item: no truncation.
                        let full = BodyOptions {
                            preferences: body
                                .preferences
                                .iter()
                                .map(|p| super::items::BodyPreference {
                                    truncation_size: None,
                                    ..p.clone()
                                })
                                .collect(),
                            ..body.clone()
                        };
                        write_application_data(out, item, &full, v);
                    }
                    out.close("Fetch");
                }
            }
        }
        out.close("Responses");
    }
    if r.more_available {
        out.empty("MoreAvailable");
    }
    out.close("Collection");
}

fn failed(c: &CollectionRequest, key: &str, status: u8) -> CollectionResult {
    CollectionResult {
        key: key.to_string(),
        id: c.collection_id.clone(),
        status,
        commands: Vec::new(),
        responses: Vec::new(),
        more_available: false,
        eventful: true,
    }
}

fn sync_collection(
    ctx: &Ctx,
    mailbox: &mut Mailbox,
    device: &mut DeviceState,
    c: &CollectionRequest,
    commands: &[Element],
) -> CollectionResult {
    let v = ctx.version;
    let Some(class) = mailbox
        .class_of(&c.collection_id)
        // The Notes class (MS-ASNOTE) exists from 14.0 on.
        .filter(|class| *class != Class::Notes || v >= ProtocolVersion::V14_0)
    else {
        return failed(c, &c.sync_key, PROTOCOL_ERROR);
    };
    // Options: parsed (and checked) whenever sent.
    let options = match &c.options {
        Some(options) => match parse_options(options, class) {
            Ok(o) => Some(o),
            Err(_) => return failed(c, &c.sync_key, PROTOCOL_ERROR),
        },
        None => None,
    };

    if c.sync_key == "0" {
        if !commands.is_empty() {
            return failed(c, "0", PROTOCOL_ERROR);
        }
        let ghosting = match &c.supported {
            None => Ghosting::Nothing,
            Some(_) if class == Class::Notes => return failed(c, "0", PROTOCOL_ERROR),
            Some(list) if list.is_empty() => Ghosting::All,
            Some(list) => {
                let pages: &[&str] = match class {
                    Class::Contacts => &["Contacts", "Contacts2"],
                    Class::Calendar => &["Calendar"],
                    // Email and Tasks have nothing to ghost.
                    _ => &[],
                };
                if !pages.is_empty() && list.iter().any(|(ns, _)| !pages.contains(ns)) {
                    return failed(c, "0", PROTOCOL_ERROR);
                }
                Ghosting::AllBut(list.clone())
            }
        };
        let mut collection_options = options.unwrap_or_default();
        apply_settings(&mut collection_options, c);
        device.next_sync_key += 1;
        let key = device.next_sync_key;
        device.collections.insert(
            c.collection_id.clone(),
            SyncCollection {
                key,
                view: HashMap::new(),
                ghosting,
                options: collection_options,
                previous: None,
            },
        );
        return CollectionResult {
            key: key.to_string(),
            id: c.collection_id.clone(),
            status: SUCCESS,
            commands: Vec::new(),
            responses: Vec::new(),
            more_available: false,
            eventful: true,
        };
    }

    let Some(state) = device.collections.get_mut(&c.collection_id) else {
        return failed(c, "0", INVALID_SYNC_KEY);
    };
    let resend = if c.sync_key == state.key.to_string() {
        None
    } else if let Some(previous) = state
        .previous
        .take()
        .filter(|p| p.key.to_string() == c.sync_key)
    {
        state.view = previous.view.clone();
        Some(previous)
    } else {
        device.collections.remove(&c.collection_id);
        return failed(c, "0", INVALID_SYNC_KEY);
    };
    let Some(state) = device.collections.get_mut(&c.collection_id) else {
        return failed(c, "0", INVALID_SYNC_KEY);
    };
    if let Some(o) = options {
        state.options = o;
    }
    apply_settings(&mut state.options, c);

    // Client changes.
    let mut responses = Vec::new();
    let mut added = Vec::new();
    let mut deleted = Vec::new();
    let mut changed_state = false;
    for command in commands {
        let server_id = command.child_text("ServerId").map(|s| s.trim().to_string());
        match command.name.as_str() {
            "Add" => {
                let client_id = command.child_text("ClientId").unwrap_or_default();
                if let Some((_, id)) = resend
                    .as_ref()
                    .and_then(|p| p.added.iter().find(|(cid, _)| *cid == client_id))
                {
                    // Already added by the lost round: the same answer.
                    added.push((client_id.clone(), id.clone()));
                    responses.push(ClientResponse::Add {
                        client_id,
                        server_id: Some(id.clone()),
                        status: SUCCESS,
                    });
                    changed_state = true;
                    continue;
                }
                let status = if client_id.is_empty() {
                    PROTOCOL_ERROR
                } else {
                    match validate_add(command, class, v, &c.collection_id, mailbox) {
                        Ok(data) => {
                            let id = mailbox.add_item(
                                &c.collection_id,
                                Item {
                                    server_id: String::new(),
                                    class,
                                    data,
                                    modseq: 0,
                                    mime: None,
                                    attachments: Vec::new(),
                                },
                            );
                            let modseq = mailbox.revision;
                            state.view.insert(id.clone(), modseq);
                            added.push((client_id.clone(), id.clone()));
                            responses.push(ClientResponse::Add {
                                client_id,
                                server_id: Some(id),
                                status: SUCCESS,
                            });
                            changed_state = true;
                            continue;
                        }
                        Err(status) => status,
                    }
                };
                responses.push(ClientResponse::Add {
                    client_id,
                    server_id: None,
                    status,
                });
            }
            "Change" => {
                let Some(server_id) = server_id else {
                    responses.push(ClientResponse::Change {
                        server_id: String::new(),
                        status: PROTOCOL_ERROR,
                    });
                    continue;
                };
                let Some(current) = mailbox
                    .items_in(&c.collection_id)
                    .iter()
                    .find(|i| i.server_id == server_id)
                else {
                    responses.push(ClientResponse::Change {
                        server_id,
                        status: OBJECT_NOT_FOUND,
                    });
                    continue;
                };
                let seen = state.view.get(&server_id).copied().unwrap_or(0);
                if current.modseq > seen && state.options.server_wins {
                    // Changed on the server since the device's copy: the
                    // server's version wins and is sent below as a Change.
                    responses.push(ClientResponse::Change {
                        server_id,
                        status: CONFLICT,
                    });
                    continue;
                }
                let new_data = match command
                    .child("ApplicationData")
                    .map(|d| class_elements(d, class))
                {
                    Some(Some(data)) => data,
                    _ => {
                        responses.push(ClientResponse::Change {
                            server_id,
                            status: CONVERSION_ERROR,
                        });
                        continue;
                    }
                };
                let merged = merge_change(class, &state.ghosting, v, &current.data, new_data);
                mailbox.update_item(&server_id, |item| item.data = merged);
                state.view.insert(server_id, mailbox.revision);
                changed_state = true;
            }
            "Delete" => {
                let Some(server_id) = server_id else {
                    responses.push(ClientResponse::Delete {
                        server_id: String::new(),
                        status: PROTOCOL_ERROR,
                    });
                    continue;
                };
                let exists = mailbox
                    .items_in(&c.collection_id)
                    .iter()
                    .any(|i| i.server_id == server_id);
                if !exists {
                    let redone = resend
                        .as_ref()
                        .is_some_and(|p| p.deleted.contains(&server_id));
                    if redone {
                        deleted.push(server_id);
                        changed_state = true;
                    } else {
                        responses.push(ClientResponse::Delete {
                            server_id,
                            status: OBJECT_NOT_FOUND,
                        });
                    }
                    continue;
                }
                let to_trash = state.options.deletes_as_moves && class == Class::Email;
                let trash = mailbox
                    .folder_of_type(4)
                    .map(|f| f.server_id.clone())
                    .filter(|t| *t != c.collection_id);
                match (to_trash, trash) {
                    (true, Some(trash)) => {
                        mailbox.move_item(&server_id, &trash);
                    }
                    _ => {
                        mailbox.remove_item(&server_id);
                    }
                }
                state.view.remove(&server_id);
                deleted.push(server_id);
                changed_state = true;
            }
            "Fetch" => {
                let Some(server_id) = server_id else {
                    responses.push(ClientResponse::Fetch {
                        server_id: String::new(),
                        status: PROTOCOL_ERROR,
                        item: None,
                    });
                    continue;
                };
                let item = mailbox
                    .items_in(&c.collection_id)
                    .iter()
                    .find(|i| i.server_id == server_id)
                    .cloned();
                let status = if item.is_none() {
                    OBJECT_NOT_FOUND
                } else {
                    SUCCESS
                };
                responses.push(ClientResponse::Fetch {
                    server_id,
                    status,
                    item,
                });
            }
            _ => {
                return failed(c, &c.sync_key, PROTOCOL_ERROR);
            }
        }
    }
    let view_after_client = state.view.clone();

    // Server changes.
    let mut commands_out = Vec::new();
    let mut more_available = false;
    if c.get_changes.unwrap_or(true) {
        let window = state.options.window;
        let now = now_unix();
        let filter = state.options.filter;
        let items = mailbox.items_in(&c.collection_id);
        let mut pending: Vec<ServerChange> = Vec::new();
        for item in items {
            let inside = in_filter(item, filter, now);
            match state.view.get(&item.server_id) {
                None if inside => pending.push(ServerChange::Add(item.clone())),
                Some(seen) if inside && item.modseq > *seen => {
                    pending.push(ServerChange::Change(item.clone()))
                }
                Some(_) if !inside => {
                    pending.push(ServerChange::SoftDelete(item.server_id.clone()))
                }
                _ => {}
            }
        }
        let present: std::collections::HashSet<&str> =
            items.iter().map(|i| i.server_id.as_str()).collect();
        let mut gone: Vec<&String> = state
            .view
            .keys()
            .filter(|id| !present.contains(id.as_str()))
            .collect();
        gone.sort_by_key(|id| item_number(id));
        pending.extend(gone.into_iter().map(|id| ServerChange::Delete(id.clone())));
        if pending.len() > window {
            more_available = true;
            pending.truncate(window);
        }
        for change in &pending {
            match change {
                ServerChange::Add(item) | ServerChange::Change(item) => {
                    state.view.insert(item.server_id.clone(), item.modseq);
                }
                ServerChange::Delete(id) | ServerChange::SoftDelete(id) => {
                    state.view.remove(id);
                }
            }
        }
        commands_out = pending;
    }

    let state_changed = changed_state || !commands_out.is_empty();
    let key = if state_changed {
        device.next_sync_key += 1;
        let new_key = device.next_sync_key;
        let Some(state) = device.collections.get_mut(&c.collection_id) else {
            return failed(c, "0", INVALID_SYNC_KEY);
        };
        let old_key = match &resend {
            Some(p) => p.key,
            None => state.key,
        };
        state.previous = Some(Box::new(Previous {
            key: old_key,
            view: view_after_client,
            added,
            deleted,
        }));
        state.key = new_key;
        new_key
    } else {
        // Nothing changed: the same key, and a resend's previous state stays.
        let Some(state) = device.collections.get_mut(&c.collection_id) else {
            return failed(c, "0", INVALID_SYNC_KEY);
        };
        if let Some(p) = resend {
            state.previous = Some(p);
        }
        state.key
    };
    let eventful = !responses.is_empty() || !commands_out.is_empty();
    CollectionResult {
        key: key.to_string(),
        id: c.collection_id.clone(),
        status: SUCCESS,
        commands: commands_out,
        responses,
        more_available,
        eventful,
    }
}

/// The request's per-collection settings, over the kept ones.
fn apply_settings(options: &mut CollectionOptions, c: &CollectionRequest) {
    if let Some(w) = c.window {
        options.window = w;
    }
    if let Some(d) = c.deletes_as_moves {
        options.deletes_as_moves = d;
    }
}

/// A collection's `Options` (one per class; the mock keeps those of the
/// collection's class, or the only one).
fn parse_options(options: &[Element], class: Class) -> Result<CollectionOptions, String> {
    let chosen = options
        .iter()
        .find(|o| {
            o.child_text("Class")
                .is_none_or(|c| c.trim() == class.name())
        })
        .ok_or("no Options for the collection's class")?;
    let mut out = CollectionOptions {
        body: BodyOptions::parse(chosen)?,
        ..CollectionOptions::default()
    };
    if let Some(f) = chosen.child_text("FilterType") {
        out.filter = f
            .trim()
            .parse()
            .ok()
            .filter(|f| *f <= 8)
            .ok_or_else(|| format!("FilterType `{f}`"))?;
    }
    if let Some(conflict) = chosen.child_text("Conflict") {
        out.server_wins = match conflict.trim() {
            "0" => false,
            "1" => true,
            other => return Err(format!("Conflict `{other}`")),
        };
    }
    Ok(out)
}

/// The children of `ApplicationData` if every one belongs to the class;
/// `None` for an element of another class (Status 6).
fn class_elements(data: &Element, class: Class) -> Option<Vec<Element>> {
    let pages = class.pages();
    data.children
        .iter()
        .filter_map(|n| match n {
            Node::Element(e) => Some(Some(e)),
            Node::Text(t) if t.trim().is_empty() => None,
            _ => Some(None),
        })
        .map(|e| e.filter(|e| pages.contains(&e.namespace)).cloned())
        .collect()
}

/// A client Add's properties, checked: Status 6 (conversion error) for
/// properties of another class or an impossible item.
fn validate_add(
    command: &Element,
    class: Class,
    v: ProtocolVersion,
    folder_id: &str,
    mailbox: &Mailbox,
) -> Result<Vec<Element>, u8> {
    let data = command
        .child("ApplicationData")
        .ok_or(PROTOCOL_ERROR)
        .and_then(|d| class_elements(d, class).ok_or(CONVERSION_ERROR))?;
    match class {
        Class::Email => {
            let drafts = mailbox
                .folder(folder_id)
                .is_some_and(|f| f.folder_type == 3);
            if v < ProtocolVersion::V16_0 || !drafts {
                return Err(CONVERSION_ERROR);
            }
        }
        Class::Calendar => {
            let text = |name: &str| {
                data.iter()
                    .find(|e| e.namespace == "Calendar" && e.name == name)
                    .map(|e| e.text().trim().to_string())
            };
            match (text("StartTime"), text("EndTime")) {
                (Some(_), None) | (None, Some(_)) => return Err(CONVERSION_ERROR),
                (Some(start), Some(end)) => {
                    match (parse_any_datetime(&start), parse_any_datetime(&end)) {
                        (Some(s), Some(e)) if e >= s => {}
                        _ => return Err(CONVERSION_ERROR),
                    }
                }
                (None, None) => {}
            }
        }
        _ => {}
    }
    Ok(data)
}

/// A client Change's properties merged into the server's (MS-ASCMD 2.2.3.24
/// and the ghosting rules in the module docs).
fn merge_change(
    class: Class,
    ghosting: &Ghosting,
    v: ProtocolVersion,
    old: &[Element],
    new: Vec<Element>,
) -> Vec<Element> {
    if class == Class::Email {
        // Messages: only the flags a client may change.
        let mut merged = old.to_vec();
        for e in new {
            if !matches!(e.name.as_str(), "Read" | "Flag" | "Categories") {
                continue;
            }
            match merged
                .iter_mut()
                .position(|m| m.namespace == e.namespace && m.name == e.name)
            {
                // An empty Flag clears the flag: kept as the empty Flag
                // other devices are then sent (MS-ASEMAIL 2.2.2.34).
                Some(at) => merged[at] = e,
                None => merged.push(e),
            }
        }
        return merged;
    }
    let mut merged = new;
    for e in old {
        if merged
            .iter()
            .any(|m| m.namespace == e.namespace && m.name == e.name)
        {
            continue;
        }
        let keep =
            (e.namespace == "AirSyncBase" && e.name == "Body") || ghosted(class, ghosting, v, e);
        if keep {
            merged.push(e.clone());
        }
    }
    merged
}

/// Whether the property `e` of an item of `class` is ghosted.
pub fn ghosted(class: Class, ghosting: &Ghosting, v: ProtocolVersion, e: &Element) -> bool {
    let ghostable = match class {
        Class::Contacts => matches!(e.namespace, "Contacts" | "Contacts2"),
        Class::Calendar => {
            if v >= ProtocolVersion::V16_0 {
                return true;
            }
            e.namespace == "Calendar"
        }
        _ => false,
    };
    ghostable
        && match ghosting {
            Ghosting::Nothing => false,
            Ghosting::All => true,
            Ghosting::AllBut(list) => !list
                .iter()
                .any(|(ns, name)| *ns == e.namespace && *name == e.name),
        }
}

/// Whether an item is inside the FilterType window (MS-ASCMD 2.2.3.69.2):
/// messages by DateReceived (1 day .. 1 month), calendar items by EndTime
/// (2 weeks .. 6 months; recurring ones always), tasks 8 = incomplete only.
fn in_filter(item: &Item, filter: u8, now: i64) -> bool {
    const DAY: i64 = 86_400;
    let days = match filter {
        0 => return true,
        1 => 1,
        2 => 3,
        3 => 7,
        4 => 14,
        5 => 31,
        6 => 93,
        7 => 186,
        8 => {
            return item.class != Class::Tasks || item.text("Complete").as_deref() != Some("1");
        }
        _ => return true,
    };
    let when = match item.class {
        Class::Email => item.text("DateReceived"),
        Class::Calendar => {
            if item.property("Recurrence").is_some() {
                return true;
            }
            item.text("EndTime")
        }
        _ => return true,
    };
    match when.as_deref().and_then(parse_any_datetime) {
        Some(t) => t >= now - days * DAY,
        None => true,
    }
}

/// Seconds since the epoch of an EAS date-time in either form
/// (`2026-11-09T09:15:00.000Z` or the compact `20261109T091500Z`).
pub fn parse_any_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(t) = EasDateTime::parse(text) {
        return Some(t.unix_seconds());
    }
    let b = text.as_bytes();
    if b.len() == 16 && b[8] == b'T' && b[15] == b'Z' {
        let expanded = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &text[0..4],
            &text[4..6],
            &text[6..8],
            &text[9..11],
            &text[11..13],
            &text[13..15]
        );
        return EasDateTime::parse(&expanded).map(|t| t.unix_seconds());
    }
    None
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The number after the colon of an item ServerId, for a stable order.
fn item_number(server_id: &str) -> u64 {
    server_id
        .rsplit_once(':')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Whether the device's copy of a collection is behind the folder (what Ping
/// reports): `None` if the device never initialised the collection.
pub fn has_changes(mailbox: &Mailbox, device: &DeviceState, collection_id: &str) -> Option<bool> {
    pending_count(mailbox, device, collection_id, None).map(|n| n > 0)
}

/// How many changes the device's next Syncs of a collection would bring
/// (what GetItemEstimate reports): adds, changes, deletes and soft deletes,
/// with `filter` instead of the collection's FilterType when given. `None`
/// if the device never initialised the collection.
pub fn pending_count(
    mailbox: &Mailbox,
    device: &DeviceState,
    collection_id: &str,
    filter: Option<u8>,
) -> Option<usize> {
    let state = device.collections.get(collection_id)?;
    let items = mailbox.items_in(collection_id);
    let now = now_unix();
    let filter = filter.unwrap_or(state.options.filter);
    let changed = items
        .iter()
        .filter(|item| {
            let inside = in_filter(item, filter, now);
            match state.view.get(&item.server_id) {
                None => inside,
                Some(seen) => !inside || item.modseq > *seen,
            }
        })
        .count();
    let present: std::collections::HashSet<&str> =
        items.iter().map(|i| i.server_id.as_str()).collect();
    let gone = state
        .view
        .keys()
        .filter(|id| !present.contains(id.as_str()))
        .count();
    Some(changed + gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(ns: &'static str, name: &str, text: &str) -> Element {
        Element {
            namespace: ns,
            name: name.into(),
            children: vec![Node::Text(text.into())],
        }
    }

    #[test]
    fn ghosting_follows_the_three_rules() {
        let v = ProtocolVersion::V14_1;
        let job = el("Contacts", "JobTitle", "VP");
        let listed = Ghosting::AllBut(vec![("Contacts", "JobTitle".into())]);
        assert!(!ghosted(Class::Contacts, &Ghosting::Nothing, v, &job));
        assert!(!ghosted(Class::Contacts, &listed, v, &job));
        assert!(ghosted(
            Class::Contacts,
            &listed,
            v,
            &el("Contacts", "FirstName", "A")
        ));
        assert!(ghosted(Class::Contacts, &Ghosting::All, v, &job));
        // Tasks have nothing ghostable; 16.0 calendars ghost everything.
        assert!(!ghosted(
            Class::Tasks,
            &Ghosting::All,
            v,
            &el("Tasks", "Subject", "x")
        ));
        assert!(ghosted(
            Class::Calendar,
            &Ghosting::Nothing,
            ProtocolVersion::V16_0,
            &el("Calendar", "Subject", "x")
        ));
    }

    #[test]
    fn a_change_keeps_ghosted_and_drops_unghosted_properties() {
        let v = ProtocolVersion::V14_1;
        let old = vec![
            el("Contacts", "FirstName", "Ann"),
            el("Contacts", "JobTitle", "VP"),
            el("AirSyncBase", "Body", ""),
        ];
        let listed = Ghosting::AllBut(vec![("Contacts", "JobTitle".into())]);
        let merged = merge_change(
            Class::Contacts,
            &listed,
            v,
            &old,
            vec![el("Contacts", "FileAs", "A")],
        );
        let names: Vec<&str> = merged.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["FileAs", "FirstName", "Body"]);
        let merged = merge_change(Class::Contacts, &Ghosting::Nothing, v, &old, vec![]);
        let names: Vec<&str> = merged.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Body"]);
    }

    #[test]
    fn both_datetime_forms_parse() {
        assert_eq!(
            parse_any_datetime("20261109T091500Z"),
            parse_any_datetime("2026-11-09T09:15:00.000Z")
        );
        assert!(parse_any_datetime("2026-11-09").is_none());
    }
}
