//! Ping (MS-ASCMD 2.2.1.13): the long-poll that tells a device which of the
//! folders it watches have changes waiting, so that it Syncs only those.
//!
//! # Parameters and the cache
//!
//! A request names a `HeartbeatInterval` (seconds) and `Folders` of
//! `Folder(Id, Class)`, in any order (the schema's `xs:all`). Either may be
//! left out when the device's last accepted Ping had it: the server keeps
//! both per device ([`PingCache`], MS-ASCMD 2.2.3.88.1), and an empty body
//! repeats the cached Ping as is. Without a cached value for what is left
//! out: Status 3. The cache is written only when the request's parameters
//! are all acceptable (interval in range, not too many folders), also when
//! the hierarchy then makes it Status 7: the parameters themselves were fine.
//!
//! # Statuses (MS-ASCMD 2.2.3.177, Status (Ping))
//!
//! - 4: a malformed request: an unknown element, `HeartbeatInterval` or
//!   `Folders` twice or not a number, `Folders` without a `Folder`, a
//!   `Folder` without exactly one `Id` and one `Class`, a `Class` other than
//!   `Email`, `Calendar`, `Contacts`, `Tasks`, `Notes` (the schema's list).
//! - 5: the interval is outside [`Ctx::heartbeat_range`] (Exchange: 60 to
//!   3540 s); the response's `HeartbeatInterval` is the nearest limit.
//! - 6: more than [`MAX_FOLDERS`] folders (Exchange's default limit); the
//!   response's `MaxFolders` says how many.
//! - 7: a watched folder the device's hierarchy does not know (not in its
//!   last FolderSync, or since deleted), or the mailbox's hierarchy differs
//!   from what the device's last FolderSync gave it. Checked again whenever
//!   the mailbox changes while waiting, so a folder created by another
//!   device ends a waiting Ping with 7.
//! - 2: at least one watched folder has changes for this device; the
//!   response lists those folders (in the request's order).
//! - 1: the interval expired without changes.
//!
//! # Choices where the spec leaves room
//!
//! - A watched folder the device never initialised with Sync (key 0) has
//!   changes when it holds any item: the device has none of them yet, and
//!   Exchange likewise sends such a folder back so that the client syncs it.
//!   An empty, never-synced folder has changes once an item arrives.
//! - The `Class` of a watched folder is checked against the schema's values
//!   only, not against the folder's type (Exchange watches the folder).
//! - The same folder named twice is watched once and counted once.
//! - Two Pings of one device at the same time both wait; each answers on
//!   its own (Exchange ends the older one; nothing in the spec requires it).
//!
//! # Waiting
//!
//! The handler subscribes to the user's mailbox changes before it looks at
//! the state (so a change in between is not missed), decides under the store
//! lock, and waits on the watch channel without it: an idle Ping holds no
//! lock and no thread. Every wake-up re-checks; a change that concerns no
//! watched folder (an unwatched folder, the device's own Sync) goes back to
//! waiting until the same deadline.

use std::time::{Duration, Instant};

use crate::wbxml::Element;

use super::command::{Ctx, Reply};
use super::foldersync::Changes;
use super::items::Class;
use super::state::{DeviceState, Mailbox};
use super::sync;
use super::xml::XmlOut;

/// Ping status values (MS-ASCMD 2.2.3.177, Status (Ping)).
pub mod status {
    /// The heartbeat interval expired before any change.
    pub const EXPIRED: u8 = 1;
    /// Changes occurred in at least one watched folder.
    pub const CHANGES_OCCURRED: u8 = 2;
    /// Required parameters missing (and none cached).
    pub const MISSING_PARAMETERS: u8 = 3;
    /// A syntax error in the request.
    pub const SYNTAX_ERROR: u8 = 4;
    /// The heartbeat interval is outside the allowed range.
    pub const INVALID_INTERVAL: u8 = 5;
    /// More folders than the server watches.
    pub const TOO_MANY_FOLDERS: u8 = 6;
    /// The folder hierarchy is out of date: FolderSync first.
    pub const FOLDER_SYNC_REQUIRED: u8 = 7;
}
use status::*;

/// The most folders one Ping may watch (answered in `MaxFolders` with
/// Status 6): Exchange's default.
pub const MAX_FOLDERS: usize = 300;

/// What a device's last accepted Ping asked for, for a Ping without a body
/// or without some of its parameters (MS-ASCMD 2.2.3.88.1, 2.2.3.75.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PingCache {
    /// `HeartbeatInterval`, in seconds.
    pub interval: Option<u32>,
    /// The watched folders, each once, in the order first named.
    pub folders: Option<Vec<WatchedFolder>>,
}

/// One `Folder` of a Ping request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WatchedFolder {
    pub id: String,
    pub class: Class,
}

/// What a request asked for, as sent (either part may be missing).
#[derive(Debug, Default, PartialEq, Eq)]
struct PingRequest {
    interval: Option<u32>,
    folders: Option<Vec<WatchedFolder>>,
}

pub async fn handle(ctx: &Ctx<'_>, request: Option<&Element>) -> Reply {
    let asked = match request {
        Some(request) => match parse(request) {
            Some(asked) => asked,
            None => return status_only(ctx, SYNTAX_ERROR),
        },
        None => PingRequest::default(),
    };
    let (min, max) = ctx.heartbeat_range;
    if let Some(interval) = asked.interval
        && !(min..=max).contains(&interval)
    {
        let limit = if interval < min { min } else { max };
        let mut out = XmlOut::new("Ping", "Ping", &[]);
        out.leaf("Status", INVALID_INTERVAL.to_string());
        out.leaf("HeartbeatInterval", limit.to_string());
        return Reply::from_encoded(out.finish("Ping", ctx.version));
    }
    if asked
        .folders
        .as_ref()
        .is_some_and(|f| f.len() > MAX_FOLDERS)
    {
        let mut out = XmlOut::new("Ping", "Ping", &[]);
        out.leaf("Status", TOO_MANY_FOLDERS.to_string());
        out.leaf("MaxFolders", MAX_FOLDERS.to_string());
        return Reply::from_encoded(out.finish("Ping", ctx.version));
    }
    // Complete the request from the cache, and cache what it named.
    let complete = ctx.device(|_, device, _| {
        let cache = device.ping_cache.clone().unwrap_or_default();
        let interval = asked.interval.or(cache.interval)?;
        let folders = asked.folders.clone().or(cache.folders)?;
        device.ping_cache = Some(PingCache {
            interval: Some(interval),
            folders: Some(folders.clone()),
        });
        Some((interval, folders))
    });
    let Some((interval, folders)) = complete else {
        return status_only(ctx, MISSING_PARAMETERS);
    };
    // The request as sent is not needed while waiting (`folders` is the
    // complete list): freed before a wait that can last an hour, times
    // thousands of devices.
    drop(asked);

    let deadline = Instant::now() + Duration::from_secs(u64::from(interval));
    // Subscribe before the first look, so that no change is missed.
    let mut changes = ctx.store.subscribe(ctx.user);
    loop {
        changes.borrow_and_update();
        match ctx.device(|mailbox, device, _| check(mailbox, device, &folders)) {
            Check::HierarchyChanged => return status_only(ctx, FOLDER_SYNC_REQUIRED),
            Check::Changed(ids) => {
                let mut out = XmlOut::new("Ping", "Ping", &[]);
                out.leaf("Status", CHANGES_OCCURRED.to_string());
                out.open("Folders");
                for id in &ids {
                    out.leaf("Folder", id);
                }
                out.close("Folders");
                return Reply::from_encoded(out.finish("Ping", ctx.version));
            }
            Check::Quiet => {}
        }
        match tokio::time::timeout_at(deadline.into(), changes.changed()).await {
            Ok(Ok(())) => continue,
            // The interval expired (or the store is going away): no changes.
            _ => return status_only(ctx, EXPIRED),
        }
    }
}

/// What one look at the state found.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    /// The device must FolderSync first (Status 7).
    HierarchyChanged,
    /// These watched folders have changes for the device (Status 2).
    Changed(Vec<String>),
    /// Nothing yet: keep waiting.
    Quiet,
}

fn check(mailbox: &Mailbox, device: &DeviceState, folders: &[WatchedFolder]) -> Check {
    let known = |id: &str| {
        device.folder_snapshot.iter().any(|f| f.server_id == id) && mailbox.folder(id).is_some()
    };
    if folders.iter().any(|f| !known(&f.id))
        || Changes::between(&device.folder_snapshot, &mailbox.folders).count() > 0
    {
        return Check::HierarchyChanged;
    }
    let changed: Vec<String> = folders
        .iter()
        .filter(|f| match sync::has_changes(mailbox, device, &f.id) {
            Some(changed) => changed,
            // Never synced: everything in it is news to the device.
            None => !mailbox.items_in(&f.id).is_empty(),
        })
        .map(|f| f.id.clone())
        .collect();
    if changed.is_empty() {
        Check::Quiet
    } else {
        Check::Changed(changed)
    }
}

/// The request's parameters; `None` for a syntax error (Status 4).
fn parse(request: &Element) -> Option<PingRequest> {
    let mut asked = PingRequest::default();
    for child in request.elements() {
        match child.name.as_str() {
            "HeartbeatInterval" if asked.interval.is_none() => {
                let text = child.text();
                let text = text.trim();
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // Digits too many for a u32 are far above any limit.
                asked.interval = Some(text.parse().unwrap_or(u32::MAX));
            }
            "Folders" if asked.folders.is_none() => {
                let mut folders: Vec<WatchedFolder> = Vec::new();
                for folder in child.elements() {
                    if folder.name != "Folder" {
                        return None;
                    }
                    let folder = parse_folder(folder)?;
                    if !folders.iter().any(|f| f.id == folder.id) {
                        folders.push(folder);
                    }
                }
                if folders.is_empty() {
                    return None;
                }
                asked.folders = Some(folders);
            }
            _ => return None,
        }
    }
    Some(asked)
}

/// A request `Folder`: exactly one `Id` and one `Class`, in either order.
fn parse_folder(folder: &Element) -> Option<WatchedFolder> {
    let mut id = None;
    let mut class = None;
    for e in folder.elements() {
        match e.name.as_str() {
            "Id" if id.is_none() => {
                let text = e.text().trim().to_string();
                // MS-ASCMD 2.2.3.90: a ServerId of up to 64 characters.
                if text.is_empty() || text.chars().count() > 64 {
                    return None;
                }
                id = Some(text);
            }
            "Class" if class.is_none() => {
                class = Some(match e.text().trim() {
                    "Email" => Class::Email,
                    "Calendar" => Class::Calendar,
                    "Contacts" => Class::Contacts,
                    "Tasks" => Class::Tasks,
                    "Notes" => Class::Notes,
                    _ => return None,
                });
            }
            _ => return None,
        }
    }
    Some(WatchedFolder {
        id: id?,
        class: class?,
    })
}

fn status_only(ctx: &Ctx, status: u8) -> Reply {
    let mut out = XmlOut::new("Ping", "Ping", &[]);
    out.leaf("Status", status.to_string());
    Reply::from_encoded(out.finish("Ping", ctx.version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Node;

    fn el(name: &str, children: Vec<Node>) -> Element {
        Element {
            namespace: "Ping",
            name: name.into(),
            children,
        }
    }

    fn leaf(name: &str, text: &str) -> Node {
        Node::Element(el(name, vec![Node::Text(text.into())]))
    }

    fn folder(id: &str, class: &str) -> Node {
        Node::Element(el("Folder", vec![leaf("Id", id), leaf("Class", class)]))
    }

    fn ping(children: Vec<Node>) -> Element {
        el("Ping", children)
    }

    #[test]
    fn parameters_parse_in_any_order_and_folders_dedupe() {
        let request = ping(vec![
            Node::Element(el(
                "Folders",
                vec![
                    folder("1", "Email"),
                    folder("1", "Email"),
                    folder("7", "Calendar"),
                ],
            )),
            leaf("HeartbeatInterval", "480"),
        ]);
        let asked = parse(&request).expect("valid");
        assert_eq!(asked.interval, Some(480));
        let ids: Vec<&str> = asked
            .folders
            .as_ref()
            .unwrap()
            .iter()
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(ids, ["1", "7"]);
        assert_eq!(parse(&ping(vec![])), Some(PingRequest::default()));
    }

    #[test]
    fn malformed_requests_are_syntax_errors() {
        let bad = [
            ping(vec![leaf("HeartbeatInterval", "abc")]),
            ping(vec![leaf("HeartbeatInterval", "-5")]),
            ping(vec![
                leaf("HeartbeatInterval", "60"),
                leaf("HeartbeatInterval", "60"),
            ]),
            ping(vec![Node::Element(el("Folders", vec![]))]),
            ping(vec![Node::Element(el("Folders", vec![folder("1", "SMS")]))]),
            ping(vec![Node::Element(el(
                "Folders",
                vec![Node::Element(el("Folder", vec![leaf("Id", "1")]))],
            ))]),
            ping(vec![Node::Element(el(
                "Folders",
                vec![Node::Element(el(
                    "Folder",
                    vec![leaf("Id", "1"), leaf("Id", "2"), leaf("Class", "Email")],
                ))],
            ))]),
            ping(vec![leaf("MaxFolders", "3")]),
        ];
        for request in bad {
            assert_eq!(parse(&request), None, "{request:?}");
        }
        // Huge numbers are read as out of range, not as errors.
        let huge = parse(&ping(vec![leaf("HeartbeatInterval", "99999999999")])).unwrap();
        assert_eq!(huge.interval, Some(u32::MAX));
    }

    #[test]
    fn never_synced_folders_have_changes_when_not_empty() {
        let mailbox = Mailbox::standard();
        let device = DeviceState {
            folder_snapshot: mailbox.folders.clone(),
            ..Default::default()
        };
        let watch = |id: &str| WatchedFolder {
            id: id.into(),
            class: Class::Email,
        };
        assert_eq!(
            check(&mailbox, &device, &[watch("1"), watch("2")]),
            Check::Changed(vec!["1".into()])
        );
        assert_eq!(check(&mailbox, &device, &[watch("2")]), Check::Quiet);
        assert_eq!(
            check(&mailbox, &device, &[watch("99")]),
            Check::HierarchyChanged
        );
        let stale = DeviceState::default();
        assert_eq!(
            check(&mailbox, &stale, &[watch("2")]),
            Check::HierarchyChanged
        );
    }
}
