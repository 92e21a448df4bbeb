//! The mock's folder hierarchy over real HTTP: FolderCreate, FolderUpdate,
//! FolderDelete and incremental FolderSync, across two devices of one user.
//! Request bodies are assembled by hand from the MS-ASWBXML tables (code
//! page 7, FolderHierarchy), not by eastest's encoder.

mod common;

use common::{
    CONTENT, Device, END, HEADER, STR_I, SWITCH_PAGE, folder_sync_request, options, start,
};
use eastest::mock::MockServer;
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code page 7, FolderHierarchy.
const PAGE_FOLDER_HIERARCHY: u8 = 7;
const DISPLAY_NAME: u8 = 0x07;
const SERVER_ID: u8 = 0x08;
const PARENT_ID: u8 = 0x09;
const TYPE: u8 = 0x0A;
const STATUS: u8 = 0x0C;
const SYNC_KEY: u8 = 0x12;
const FOLDER_CREATE: u8 = 0x13;
const FOLDER_DELETE: u8 = 0x14;
const FOLDER_UPDATE: u8 = 0x15;

/// A FolderHierarchy document: `root` holding one leaf per `(tag, text)`;
/// `None` text writes the tag without content (an empty element).
fn doc(root: u8, leaves: &[(u8, Option<&str>)]) -> Vec<u8> {
    let mut b = HEADER.to_vec();
    b.extend_from_slice(&[SWITCH_PAGE, PAGE_FOLDER_HIERARCHY, root | CONTENT]);
    for (tag, text) in leaves {
        match text {
            Some(text) => {
                b.extend_from_slice(&[tag | CONTENT, STR_I]);
                b.extend_from_slice(text.as_bytes());
                b.extend_from_slice(&[0x00, END]);
            }
            None => b.push(*tag),
        }
    }
    b.push(END);
    b
}

fn folder_create(key: &str, parent: &str, name: &str, folder_type: &str) -> Vec<u8> {
    doc(
        FOLDER_CREATE,
        &[
            (SYNC_KEY, Some(key)),
            (PARENT_ID, Some(parent)),
            (DISPLAY_NAME, Some(name)),
            (TYPE, Some(folder_type)),
        ],
    )
}

fn folder_update(key: &str, id: &str, parent: &str, name: &str) -> Vec<u8> {
    doc(
        FOLDER_UPDATE,
        &[
            (SYNC_KEY, Some(key)),
            (SERVER_ID, Some(id)),
            (PARENT_ID, Some(parent)),
            (DISPLAY_NAME, Some(name)),
        ],
    )
}

fn folder_delete(key: &str, id: &str) -> Vec<u8> {
    doc(
        FOLDER_DELETE,
        &[(SYNC_KEY, Some(key)), (SERVER_ID, Some(id))],
    )
}

/// The folder commands of one device, which keeps its FolderSync key.
impl Device {
    /// FolderSync from the device's key; keeps the key it gets.
    async fn sync(&mut self) -> Element {
        let r = self
            .call("FolderSync", folder_sync_request(&self.key))
            .await;
        assert_eq!(status(&r), 1, "FolderSync from key {}", self.key);
        self.key = r.child_text("SyncKey").expect("a SyncKey");
        r
    }

    /// A folder command that must succeed: checks the response's shape and
    /// the new key, keeps the key, and returns the response.
    async fn must(&mut self, cmd: &str, body: Vec<u8>) -> Element {
        let r = self.call(cmd, body).await;
        assert_eq!(status(&r), 1, "{cmd}");
        let key = r.child_text("SyncKey").expect("a new SyncKey");
        assert_ne!(key, self.key, "{cmd} hands out a new key");
        self.key = key;
        r
    }

    /// A folder command that must fail with `expected`: the Status alone,
    /// no SyncKey and no ServerId (MS-ASCMD 2.2.3.181.1).
    async fn refused(&self, cmd: &str, body: Vec<u8>, expected: u32) {
        let r = self.call(cmd, body).await;
        assert_eq!(status(&r), expected, "{cmd}");
        assert_eq!(r.child_names(), ["Status"], "{cmd} Status {expected}");
    }

    async fn create(&mut self, parent: &str, name: &str) -> String {
        let r = self
            .must(
                "FolderCreate",
                folder_create(&self.key.clone(), parent, name, "12"),
            )
            .await;
        assert_eq!(r.child_names(), ["Status", "SyncKey", "ServerId"]);
        r.child_text("ServerId").unwrap()
    }
}

fn status(root: &Element) -> u32 {
    root.child_text("Status")
        .expect("a Status")
        .parse()
        .expect("a numeric Status")
}

/// One folder of a FolderSync Add or Update.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    id: String,
    parent: String,
    name: String,
    folder_type: String,
}

fn seen(e: &Element) -> Seen {
    assert_eq!(
        e.child_names(),
        ["ServerId", "ParentId", "DisplayName", "Type"]
    );
    Seen {
        id: e.child_text("ServerId").unwrap(),
        parent: e.child_text("ParentId").unwrap(),
        name: e.child_text("DisplayName").unwrap(),
        folder_type: e.child_text("Type").unwrap(),
    }
}

/// A FolderSync response's changes, checked against its Count.
struct Delta {
    names: Vec<String>,
    updates: Vec<Seen>,
    deletes: Vec<String>,
    adds: Vec<Seen>,
}

fn delta(sync: &Element) -> Delta {
    let changes = sync.child("Changes").expect("Changes");
    let names: Vec<String> = changes
        .child_names()
        .into_iter()
        .map(String::from)
        .collect();
    let updates: Vec<Seen> = changes.elements_named("Update").map(seen).collect();
    let deletes: Vec<String> = changes
        .elements_named("Delete")
        .map(|d| {
            assert_eq!(d.child_names(), ["ServerId"]);
            d.child_text("ServerId").unwrap()
        })
        .collect();
    let adds: Vec<Seen> = changes.elements_named("Add").map(seen).collect();
    let count: usize = changes.child_text("Count").expect("Count").parse().unwrap();
    assert_eq!(count, updates.len() + deletes.len() + adds.len(), "Count");
    Delta {
        names,
        updates,
        deletes,
        adds,
    }
}

fn id_of(adds: &[Seen], name: &str) -> String {
    adds.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no folder {name}"))
        .id
        .clone()
}

/// Two provisioned devices of alice, each after FolderSync 0, and the
/// ServerId of the Inbox.
async fn two_devices(server: &MockServer, version: &'static str) -> (Device, Device, String) {
    let mut a = Device::of(server, version, "alice", "deviceA");
    let mut b = Device::of(server, version, "alice", "deviceB");
    a.provision().await;
    b.provision().await;
    let all = delta(&a.sync().await).adds;
    let inbox = all
        .iter()
        .find(|f| f.folder_type == "2")
        .unwrap()
        .id
        .clone();
    assert_eq!(
        delta(&b.sync().await).adds,
        all,
        "same mailbox, same folders"
    );
    (a, b, inbox)
}

#[tokio::test]
async fn options_advertise_the_folder_commands() {
    let server = start().await;
    let r = options(&server).await;
    let commands = r.headers()["ms-asprotocolcommands"].to_str().unwrap();
    for c in ["FolderCreate", "FolderUpdate", "FolderDelete", "FolderSync"] {
        assert!(commands.split(',').any(|x| x == c), "{c} in {commands}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn create_reaches_other_devices_but_not_its_own() {
    let server = start().await;
    let (mut a, mut b, inbox) = two_devices(&server, "14.1").await;
    let before = a.key.clone();
    let standard: Vec<String> = (1..=10).map(|i| i.to_string()).collect();

    // Type 12 (user-created mail folder) under the Inbox.
    let projects = a.create(&inbox, "Projects").await;
    assert!(
        !standard.contains(&projects),
        "a fresh ServerId: {projects}"
    );

    // The same name under the same parent: 2, case-insensitively.
    let key = a.key.clone();
    a.refused(
        "FolderCreate",
        folder_create(&key, &inbox, "Projects", "12"),
        2,
    )
    .await;
    a.refused(
        "FolderCreate",
        folder_create(&key, &inbox, "PROJECTS", "12"),
        2,
    )
    .await;
    // The same name under another parent is fine, and gets another id.
    let top = a.create("0", "Projects").await;
    assert_ne!(top, projects);

    // The creating device already knows: no changes, the same key.
    let r = a.sync().await;
    let d = delta(&r);
    assert_eq!(d.names, ["Count"], "no changes for the creating device");
    assert_eq!(r.child_text("SyncKey").unwrap(), a.key);
    // The key the device had before creating is stale now.
    let stale = a.call("FolderSync", folder_sync_request(&before)).await;
    assert_eq!(status(&stale), 9);

    // The other device sees both folders as Adds, with a new key.
    let b_key = b.key.clone();
    let d = delta(&b.sync().await);
    assert_ne!(b.key, b_key, "changes come with a new key");
    assert!(d.updates.is_empty() && d.deletes.is_empty());
    assert_eq!(
        d.adds,
        [
            Seen {
                id: projects.clone(),
                parent: inbox.clone(),
                name: "Projects".into(),
                folder_type: "12".into(),
            },
            Seen {
                id: top.clone(),
                parent: "0".into(),
                name: "Projects".into(),
                folder_type: "12".into(),
            },
        ]
    );
    // And then nothing more.
    let again = b.key.clone();
    assert_eq!(delta(&b.sync().await).names, ["Count"]);
    assert_eq!(b.key, again);

    // A full resync lists the new folders with the same ServerIds.
    b.key = "0".into();
    let all = delta(&b.sync().await).adds;
    assert_eq!(all.len(), 12);
    assert_eq!(id_of(&all, "Inbox"), inbox);
    assert!(all.iter().any(|f| f.id == projects && f.parent == inbox));

    // Another user's mailbox is untouched.
    let mut bob = Device::provisioned(&server, "14.1", "bob", "bobphone").await;
    let bobs = delta(&bob.sync().await).adds;
    assert_eq!(bobs.len(), 10);
    assert!(bobs.iter().all(|f| f.name != "Projects"));
    server.shutdown().await;
}

#[tokio::test]
async fn own_changes_stay_out_but_concurrent_ones_come() {
    let server = start().await;
    let (mut a, mut b, inbox) = two_devices(&server, "14.1").await;
    let from_b = b.create(&inbox, "From B").await;
    let from_a = a.create(&inbox, "From A").await;
    let d = delta(&a.sync().await);
    assert_eq!(d.adds.len(), 1, "only the other device's folder");
    assert_eq!(d.adds[0].id, from_b);
    let d = delta(&b.sync().await);
    assert_eq!(d.adds.len(), 1);
    assert_eq!(d.adds[0].id, from_a);
    server.shutdown().await;
}

#[tokio::test]
async fn update_renames_and_moves() {
    let server = start().await;
    let (mut a, mut b, inbox) = two_devices(&server, "14.1").await;
    let work = a.create(&inbox, "Work").await;
    let other = a.create(&inbox, "Other").await;
    let sub = a.create(&work, "Sub").await;
    assert_eq!(delta(&b.sync().await).adds.len(), 3);

    // Rename: the response is Status and SyncKey only.
    let key = a.key.clone();
    let r = a
        .must("FolderUpdate", folder_update(&key, &work, &inbox, "Jobs"))
        .await;
    assert_eq!(r.child_names(), ["Status", "SyncKey"]);
    let d = delta(&b.sync().await);
    assert_eq!(d.names, ["Count", "Update"]);
    assert_eq!(
        d.updates,
        [Seen {
            id: work.clone(),
            parent: inbox.clone(),
            name: "Jobs".into(),
            folder_type: "12".into(),
        }]
    );

    // Move to the root: the subfolder moves along without an Update of its own.
    let key = a.key.clone();
    a.must("FolderUpdate", folder_update(&key, &work, "0", "Jobs"))
        .await;
    let d = delta(&b.sync().await);
    assert_eq!(d.updates.len(), 1);
    assert_eq!(d.updates[0].parent, "0");
    assert_eq!(d.updates[0].id, work);
    // The mover itself hears nothing back.
    assert_eq!(delta(&a.sync().await).names, ["Count"]);

    // Failures, each leaving the key as it was.
    let key = a.key.clone();
    let cases: [(Vec<u8>, u32, &str); 7] = [
        (folder_update(&key, "999", "0", "X"), 4, "no such folder"),
        (folder_update(&key, &other, "999", "X"), 5, "no such parent"),
        (folder_update(&key, &inbox, "0", "Mail"), 2, "the Inbox"),
        (folder_update(&key, &other, "0", "jobs"), 2, "name taken"),
        (
            folder_update(&key, &work, &sub, "Jobs"),
            10,
            "under its own subfolder",
        ),
        (
            folder_update(&key, &work, &work, "Jobs"),
            10,
            "under itself",
        ),
        (folder_update("12345", &other, "0", "X"), 9, "stale key"),
    ];
    for (body, expected, why) in cases {
        let r = a.call("FolderUpdate", body).await;
        assert_eq!(status(&r), expected, "{why}");
        assert_eq!(r.child_names(), ["Status"], "{why}");
    }
    // A Status element in the request, or no SyncKey: 10 (MS-ASCMD 2.2.1.6).
    let with_status = doc(
        FOLDER_UPDATE,
        &[
            (SYNC_KEY, Some(&key)),
            (SERVER_ID, Some(&other)),
            (PARENT_ID, Some("0")),
            (DISPLAY_NAME, Some("X")),
            (STATUS, Some("1")),
        ],
    );
    a.refused("FolderUpdate", with_status, 10).await;
    let without_key = doc(
        FOLDER_UPDATE,
        &[
            (SERVER_ID, Some(&other)),
            (PARENT_ID, Some("0")),
            (DISPLAY_NAME, Some("X")),
        ],
    );
    a.refused("FolderUpdate", without_key, 10).await;
    // Renaming to its own name in another case is no clash with itself.
    a.must("FolderUpdate", folder_update(&key, &other, &inbox, "OTHER"))
        .await;
    server.shutdown().await;
}

#[tokio::test]
async fn delete_removes_subtrees() {
    let server = start().await;
    let (mut a, mut b, inbox) = two_devices(&server, "14.1").await;
    let parent = a.create(&inbox, "Parent").await;
    let child = a.create(&parent, "Child").await;
    let keep = a.create(&inbox, "Keep").await;
    assert_eq!(delta(&b.sync().await).adds.len(), 3);

    let key = a.key.clone();
    a.refused("FolderDelete", folder_delete(&key, &inbox), 3)
        .await;
    a.refused("FolderDelete", folder_delete(&key, "999"), 4)
        .await;
    a.refused("FolderDelete", folder_delete("12345", &parent), 9)
        .await;
    a.refused(
        "FolderDelete",
        doc(
            FOLDER_DELETE,
            &[(SYNC_KEY, None), (SERVER_ID, Some(&parent))],
        ),
        9,
    )
    .await;
    a.refused(
        "FolderDelete",
        doc(FOLDER_DELETE, &[(SERVER_ID, Some(&parent))]),
        10,
    )
    .await;
    let r = a.must("FolderDelete", folder_delete(&key, &parent)).await;
    assert_eq!(r.child_names(), ["Status", "SyncKey"]);

    // Gone with its subfolder; a second delete finds nothing.
    let key = a.key.clone();
    a.refused("FolderDelete", folder_delete(&key, &child), 4)
        .await;
    a.refused(
        "FolderCreate",
        folder_create(&key, &parent, "Orphan", "12"),
        5,
    )
    .await;
    assert_eq!(delta(&a.sync().await).names, ["Count"]);

    let d = delta(&b.sync().await);
    let mut deleted = d.deletes.clone();
    deleted.sort();
    let mut expected = vec![parent.clone(), child.clone()];
    expected.sort();
    assert_eq!(deleted, expected);
    assert!(d.adds.is_empty() && d.updates.is_empty());

    // ServerIds are not reused.
    let again = a.create(&inbox, "Parent").await;
    assert!(![parent, child, keep].contains(&again));
    server.shutdown().await;
}

#[tokio::test]
async fn create_is_validated() {
    let server = start().await;
    let (mut a, _b, inbox) = two_devices(&server, "14.1").await;
    let key = a.key.clone();
    let long = "x".repeat(257);
    let cases: [(Vec<u8>, u32, &str); 10] = [
        (
            folder_create(&key, &inbox, "A", "2"),
            10,
            "a default type (Inbox)",
        ),
        (
            folder_create(&key, &inbox, "A", "11"),
            10,
            "a default type (Journal)",
        ),
        (
            folder_create(&key, &inbox, "A", "18"),
            10,
            "the unknown type",
        ),
        (
            folder_create(&key, &inbox, "A", "19"),
            3,
            "a recipient information cache",
        ),
        (
            folder_create(&key, &inbox, "A", "mail"),
            10,
            "a non-numeric type",
        ),
        (folder_create(&key, "999", "A", "12"), 5, "no such parent"),
        (folder_create(&key, &inbox, "", "12"), 10, "an empty name"),
        (
            folder_create(&key, &inbox, &long, "12"),
            10,
            "a 257-character name",
        ),
        (folder_create("12345", &inbox, "A", "12"), 9, "a wrong key"),
        (folder_create("0", &inbox, "A", "12"), 9, "key 0"),
    ];
    for (body, expected, why) in cases {
        let r = a.call("FolderCreate", body).await;
        assert_eq!(status(&r), expected, "{why}");
        assert_eq!(r.child_names(), ["Status"], "{why}");
    }
    let missing_type = doc(
        FOLDER_CREATE,
        &[
            (SYNC_KEY, Some(&key)),
            (PARENT_ID, Some(&inbox)),
            (DISPLAY_NAME, Some("A")),
        ],
    );
    a.refused("FolderCreate", missing_type, 10).await;
    let twice = doc(
        FOLDER_CREATE,
        &[
            (SYNC_KEY, Some(&key)),
            (PARENT_ID, Some(&inbox)),
            (DISPLAY_NAME, Some("A")),
            (DISPLAY_NAME, Some("B")),
            (TYPE, Some("12")),
        ],
    );
    a.refused("FolderCreate", twice, 10).await;

    // The key survived every failure; the other creatable types work, and
    // 256 characters is still a valid name.
    for t in ["1", "13", "14", "15", "16", "17"] {
        let key = a.key.clone();
        let r = a
            .must(
                "FolderCreate",
                folder_create(&key, "0", &format!("T{t}"), t),
            )
            .await;
        assert!(r.child("ServerId").is_some());
    }
    a.create(&inbox, &"y".repeat(256)).await;

    // A provisioned device that never ran FolderSync has no key to match.
    let mut fresh = Device::of(&server, "14.1", "alice", "deviceC");
    fresh.provision().await;
    fresh
        .refused("FolderCreate", folder_create("1", &inbox, "A", "12"), 9)
        .await;
    server.shutdown().await;
}

#[tokio::test]
async fn changes_come_in_schema_order_parents_first() {
    let server = start().await;
    let (mut a, mut b, inbox) = two_devices(&server, "16.1").await;
    let renamed = a.create(&inbox, "Renamed").await;
    let doomed = a.create(&inbox, "Doomed").await;
    b.sync().await;

    // Created before its parent, then moved under it: the parent's Add
    // must still come first.
    let child = a.create(&inbox, "Child").await;
    let parent = a.create("0", "Parent").await;
    let key = a.key.clone();
    a.must(
        "FolderUpdate",
        folder_update(&key, &child, &parent, "Child"),
    )
    .await;
    let key = a.key.clone();
    a.must(
        "FolderUpdate",
        folder_update(&key, &renamed, &inbox, "New name"),
    )
    .await;
    let key = a.key.clone();
    a.must("FolderDelete", folder_delete(&key, &doomed)).await;

    let d = delta(&b.sync().await);
    assert_eq!(d.names, ["Count", "Update", "Delete", "Add", "Add"]);
    assert_eq!(d.updates[0].id, renamed);
    assert_eq!(d.deletes, [doomed]);
    let ids: Vec<&str> = d.adds.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, [parent.as_str(), child.as_str()]);
    assert_eq!(d.adds[1].parent, parent);
    server.shutdown().await;
}

#[tokio::test]
async fn failures_outside_the_command_by_version() {
    let server = start().await;
    // 14.1: the common status codes, inside the command's own root.
    let mut modern = Device::of(&server, "14.1", "alice", "modern");
    let r = modern
        .call("FolderCreate", folder_create("1", "0", "A", "12"))
        .await;
    assert_eq!(status(&r), 142, "DeviceNotProvisioned");
    modern.provision().await;
    modern.sync().await;
    let r = modern
        .call(
            "FolderDelete",
            vec![0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x54],
        )
        .await;
    assert_eq!(status(&r), 102, "InvalidWBXML");
    let r = modern.call("FolderUpdate", folder_sync_request("0")).await;
    assert_eq!(status(&r), 103, "InvalidXML: a FolderSync body");

    // 12.1: the same failures as HTTP statuses.
    let mut old = Device::of(&server, "12.1", "alice", "old");
    let r = old
        .post("FolderCreate", folder_create("1", "0", "A", "12"))
        .await;
    assert_eq!(r.status().as_u16(), 449);
    old.provision().await;
    let r = old
        .post(
            "FolderDelete",
            vec![0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x54],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = old.post("FolderUpdate", folder_sync_request("0")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The commands' own statuses are the same in 12.1.
    let mut a = old;
    let all = delta(&a.sync().await).adds;
    let inbox = id_of(&all, "Inbox");
    let id = a.create(&inbox, "Old").await;
    let key = a.key.clone();
    a.refused("FolderCreate", folder_create(&key, &inbox, "Old", "12"), 2)
        .await;
    a.refused("FolderDelete", folder_delete(&key, &inbox), 3)
        .await;
    a.refused("FolderUpdate", folder_update("777", &id, "0", "X"), 9)
        .await;
    a.must("FolderUpdate", folder_update(&key, &id, "0", "Older"))
        .await;
    let key = a.key.clone();
    a.must("FolderDelete", folder_delete(&key, &id)).await;
    // 14.1 and 12.1 devices of one user share the mailbox.
    let d = delta(&modern.sync().await);
    assert!(
        d.adds.is_empty() && d.updates.is_empty(),
        "created and gone"
    );
    assert!(d.deletes.is_empty(), "never seen, so no Delete either");
    server.shutdown().await;
}

#[tokio::test]
async fn delete_tells_of_subfolders_moved_in_meanwhile() {
    let server = start().await;
    let (mut a, mut b, inbox) = two_devices(&server, "14.1").await;
    let box_id = a.create(&inbox, "Box").await;
    let loose = a.create(&inbox, "Loose").await;
    b.sync().await;
    // B moves Loose into Box; A, not yet told, deletes Box.
    let key = b.key.clone();
    b.must(
        "FolderUpdate",
        folder_update(&key, &loose, &box_id, "Loose"),
    )
    .await;
    let key = a.key.clone();
    a.must("FolderDelete", folder_delete(&key, &box_id)).await;
    // A still believes Loose sits under the Inbox: it must hear it is gone.
    let d = delta(&a.sync().await);
    assert_eq!(d.names, ["Count", "Delete"]);
    assert_eq!(d.deletes, std::slice::from_ref(&loose));
    // B knew both: both gone.
    let mut gone = delta(&b.sync().await).deletes;
    gone.sort();
    let mut expected = vec![box_id, loose];
    expected.sort();
    assert_eq!(gone, expected);
    server.shutdown().await;
}
