//! The mock with a data directory (`MockConfig::data_dir`, `eastest serve
//! --data DIR`): a restart, clean or after SIGKILL, loses nothing that was
//! acknowledged. Everything is checked over HTTP with request bodies written
//! token by token from the MS-ASWBXML tables.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{
    Device, ServeProcess, W, add_request, basic, folder_sync, folder_sync_request, full_sync,
    only_collection, prime, sync_all,
};
use eastest::mock::{DATA_FILE_NAME, MockConfig, MockServer};
use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};

// Code pages.
const CONTACTS: u8 = 1;
const FOLDER_HIERARCHY: u8 = 7;
const SETTINGS: u8 = 18;

// Contacts tokens.
const FILE_AS: u8 = 0x1E;
const FIRST_NAME: u8 = 0x1F;
const LAST_NAME: u8 = 0x29;

// FolderHierarchy tokens.
const DISPLAY_NAME: u8 = 0x07;
const PARENT_ID: u8 = 0x09;
const TYPE: u8 = 0x0A;
const FH_SYNC_KEY: u8 = 0x12;
const FOLDER_CREATE: u8 = 0x13;

// Settings tokens.
const SETTINGS_ROOT: u8 = 0x05;
const GET: u8 = 0x07;
const SET: u8 = 0x08;
const OOF: u8 = 0x09;
const OOF_STATE: u8 = 0x0A;
const OOF_MESSAGE: u8 = 0x0D;
const APPLIES_TO_INTERNAL: u8 = 0x0E;
const ENABLED: u8 = 0x11;
const REPLY_MESSAGE: u8 = 0x12;
const BODY_TYPE: u8 = 0x13;

/// A Sync that adds the contact `first` Doe to Contacts (`8`).
fn add_contact(key: &str, client_id: &str, first: &str) -> Vec<u8> {
    add_request(
        key,
        "8",
        client_id,
        &[
            (CONTACTS, FILE_AS, &format!("Doe, {first}")),
            (CONTACTS, FIRST_NAME, first),
            (CONTACTS, LAST_NAME, "Doe"),
        ],
    )
}

fn folder_create(key: &str, name: &str, folder_type: &str) -> Vec<u8> {
    W::new(FOLDER_HIERARCHY, FOLDER_CREATE)
        .text(FOLDER_HIERARCHY, FH_SYNC_KEY, key)
        .text(FOLDER_HIERARCHY, PARENT_ID, "0")
        .text(FOLDER_HIERARCHY, DISPLAY_NAME, name)
        .text(FOLDER_HIERARCHY, TYPE, folder_type)
        .done()
}

/// Oof Set: global, with an internal reply.
fn oof_set_global(reply: &str) -> Vec<u8> {
    W::new(SETTINGS, SETTINGS_ROOT)
        .open(SETTINGS, OOF)
        .open(SETTINGS, SET)
        .text(SETTINGS, OOF_STATE, "1")
        .open(SETTINGS, OOF_MESSAGE)
        .empty(SETTINGS, APPLIES_TO_INTERNAL)
        .text(SETTINGS, ENABLED, "1")
        .text(SETTINGS, REPLY_MESSAGE, reply)
        .text(SETTINGS, BODY_TYPE, "Text")
        .end()
        .end()
        .end()
        .done()
}

fn oof_get() -> Vec<u8> {
    W::new(SETTINGS, SETTINGS_ROOT)
        .open(SETTINGS, OOF)
        .open(SETTINGS, GET)
        .text(SETTINGS, BODY_TYPE, "Text")
        .end()
        .end()
        .done()
}

/// Every contact of `id` as a fresh Sync sees it: (ServerId, FirstName).
async fn first_names(device: &Device, id: &str) -> Vec<(String, Option<String>)> {
    let (items, _) = full_sync(device, id).await;
    items
        .into_iter()
        .map(|(server_id, data)| (server_id, data.child_text("FirstName")))
        .collect()
}

/// A data directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    /// A fresh path (not created: the server creates it).
    fn new(tag: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TempDir(std::env::temp_dir().join(format!(
            "eastest-persist-{tag}-{}-{nanos}",
            std::process::id()
        )))
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn file(&self) -> PathBuf {
        self.0.join(DATA_FILE_NAME)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_in(dir: &Path, test_hooks: bool) -> MockServer {
    MockServer::start(MockConfig {
        data_dir: Some(dir.to_path_buf()),
        test_hooks,
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts with a data directory")
}

/// A device of alice on a server known only by its URL (a child process).
fn alice_at(url: &str, device_id: &'static str) -> Device {
    Device {
        http: common::http(),
        url: url.to_string(),
        user: "alice",
        password: "alice-pass",
        device_id,
        version: "14.1",
        policy_key: None,
        key: "0".to_string(),
    }
}

#[tokio::test]
async fn a_restart_keeps_mailbox_devices_and_settings() {
    let dir = TempDir::new("restart");
    let server = start_in(dir.path(), true).await;
    assert!(
        dir.file().is_file(),
        "the data directory and file are created"
    );

    let mut dev1 = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let key = folder_sync(&dev1).await;
    let r = dev1
        .call("FolderCreate", folder_create(&key, "Projects", "14"))
        .await;
    assert_eq!(r.child_text("Status").as_deref(), Some("1"));
    let folder_key = r.child_text("SyncKey").unwrap();
    let folder_id = r.child_text("ServerId").unwrap();

    let sync_key = prime(&dev1, "8").await;
    let r = dev1
        .call("Sync", add_contact(&sync_key, "c1", "Jane"))
        .await;
    let c = only_collection(&r);
    assert_eq!(c.child_text("Status").as_deref(), Some("1"), "{c:?}");
    let add = c
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .expect("Responses/Add");
    assert_eq!(add.child_text("Status").as_deref(), Some("1"));
    let contact_id = add.child_text("ServerId").unwrap();
    let sync_key = c.child_text("SyncKey").unwrap();

    let r = dev1.call("Settings", oof_set_global("Away")).await;
    assert_eq!(r.child_text("Status").as_deref(), Some("1"));

    // A device marked for remote wipe stays marked.
    let mut dev3 = Device::provisioned(&server, "14.1", "alice", "dev3").await;
    let wipe = dev3
        .http
        .post(format!(
            "http://{}/_eastest/remote-wipe?device=dev3",
            server.addr()
        ))
        .header("Authorization", basic("alice", "alice-pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(wipe.status(), reqwest::StatusCode::NO_CONTENT);

    server.shutdown().await;
    let server = start_in(dir.path(), true).await;
    dev1.url = server.url();
    dev3.url = server.url();

    // Same policy key, FolderSync key continues: Status 1 (not 108 or 9),
    // and the device's own FolderCreate is not sent back to it.
    let r = dev1
        .call("FolderSync", folder_sync_request(&folder_key))
        .await;
    assert_eq!(r.child_text("Status").as_deref(), Some("1"), "{r:?}");
    let changes = r.child("Changes");
    assert!(
        changes.is_none_or(|c| c.child_text("Count").as_deref() == Some("0")),
        "{r:?}"
    );

    // The Sync key continues (Status 1, not 3), and the view too: the
    // contact the device added is not sent back to it.
    let (commands, _) = sync_all(&dev1, "8", &sync_key).await;
    assert!(commands.is_empty(), "{commands:?}");

    // The pending wipe survives.
    let r = dev3.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let r = Element::from_wbxml(&bytes, &DecodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
    assert_eq!(r.child_text("Status").as_deref(), Some("140"), "{r:?}");

    // A second device sees the folder and the contact.
    let dev2 = Device::provisioned(&server, "14.1", "alice", "dev2").await;
    assert_ne!(
        dev2.policy_key, dev1.policy_key,
        "policy keys are never handed out twice, restart or not"
    );
    let r = dev2.call("FolderSync", folder_sync_request("0")).await;
    let added: Vec<(String, String)> = r
        .child("Changes")
        .unwrap()
        .elements_named("Add")
        .map(|a| {
            (
                a.child_text("ServerId").unwrap(),
                a.child_text("DisplayName").unwrap(),
            )
        })
        .collect();
    assert!(
        added.contains(&(folder_id.clone(), "Projects".to_string())),
        "{added:?}"
    );
    let adds = first_names(&dev2, "8").await;
    assert!(
        adds.contains(&(contact_id.clone(), Some("Jane".to_string()))),
        "{adds:?}"
    );

    // The user's Oof settings survive.
    let r = dev2.call("Settings", oof_get()).await;
    let get = r
        .child("Oof")
        .and_then(|o| o.child("Get"))
        .expect("Oof/Get");
    assert_eq!(get.child_text("OofState").as_deref(), Some("1"));
    let internal = get
        .elements_named("OofMessage")
        .find(|m| m.child("AppliesToInternal").is_some())
        .expect("the internal message");
    assert_eq!(internal.child_text("ReplyMessage").as_deref(), Some("Away"));

    server.shutdown().await;
}

#[tokio::test]
async fn sigkill_loses_nothing_acknowledged() {
    let dir = TempDir::new("sigkill");
    let data = dir.path().to_str().unwrap().to_string();
    let mut server = ServeProcess::spawn(&["--data", &data], &[]);
    let file = dir.file().display().to_string();
    assert!(
        server.banner.contains(&format!("data: {file}")),
        "{:?}",
        server.banner
    );

    let mut dev1 = alice_at(&server.url, "dev1");
    dev1.provision().await;
    folder_sync(&dev1).await;
    let key = prime(&dev1, "8").await;
    let r = dev1.call("Sync", add_contact(&key, "k1", "Kim")).await;
    let c = only_collection(&r);
    assert_eq!(c.child_text("Status").as_deref(), Some("1"), "{c:?}");
    let contact_id = c
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .and_then(|a| a.child_text("ServerId"))
        .expect("the new contact's ServerId");
    let key = c.child_text("SyncKey").unwrap();

    // No clean shutdown: the process dies right after the answer.
    let pid = libc::pid_t::try_from(server.child.id()).unwrap();
    // SAFETY: kill(2) on our child's pid, which has not been waited for yet.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    server.child.wait().unwrap();

    let server = ServeProcess::spawn(&["--data", &data], &[]);
    dev1.url = server.url.clone();
    let (commands, _) = sync_all(&dev1, "8", &key).await;
    assert!(commands.is_empty(), "{commands:?}");

    let mut dev2 = alice_at(&server.url, "dev2");
    dev2.provision().await;
    folder_sync(&dev2).await;
    let adds = first_names(&dev2, "8").await;
    assert!(
        adds.contains(&(contact_id, Some("Kim".to_string()))),
        "{adds:?}"
    );
    server.stop();
}

#[tokio::test]
async fn a_corrupt_database_is_a_clear_startup_error() {
    let dir = TempDir::new("corrupt");
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(
        dir.file(),
        b"this is not a redb database, just text".repeat(200),
    )
    .unwrap();
    let file = dir.file().display().to_string();

    let err = MockServer::start(MockConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..MockConfig::default()
    })
    .await
    .err()
    .expect("a corrupt database stops the start");
    assert!(err.to_string().contains(&file), "{err}");

    let o = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(&file), "{stderr}");
    assert!(!stderr.contains("cannot listen"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(o.stdout.is_empty(), "nothing served");
}

#[tokio::test]
async fn without_data_the_banner_says_in_memory() {
    let server = ServeProcess::spawn(&[], &[]);
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.starts_with("data: in memory")),
        "{:?}",
        server.banner
    );
    server.stop();
}
