//! Ping against the mock over HTTP (MS-ASCMD 2.2.1.13): every status a
//! client can provoke, the long poll woken by another device's Sync, by a
//! server-side change and by a delivered message, the parameter cache, and
//! concurrent Pings. Request bodies are written token by token from the
//! MS-ASWBXML tables (code pages 13 Ping, 0 AirSync, 1 Contacts, 7
//! FolderHierarchy), not by eastest's encoder.

mod common;

use std::time::{Duration, Instant};

use common::{
    Device, W, add_request, folder_sync, folder_sync_request, full_sync, hook, only_collection,
};
use eastest::mock::{MockConfig, MockServer};
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code pages.
const CONTACTS: u8 = 0x01;
const FOLDER_HIERARCHY: u8 = 0x07;
const PING: u8 = 0x0D;

// Ping tokens.
const PING_ROOT: u8 = 0x05;
const PING_STATUS: u8 = 0x07;
const HEARTBEAT_INTERVAL: u8 = 0x08;
const FOLDERS: u8 = 0x09;
const FOLDER: u8 = 0x0A;
const ID: u8 = 0x0B;
const CLASS: u8 = 0x0C;

// Contacts tokens.
const FILE_AS: u8 = 0x1E;
const FIRST_NAME: u8 = 0x1F;

// FolderHierarchy tokens.
const DISPLAY_NAME: u8 = 0x07;
const PARENT_ID: u8 = 0x09;
const TYPE: u8 = 0x0A;
const FH_SYNC_KEY: u8 = 0x12;
const FOLDER_CREATE: u8 = 0x13;

/// `<Ping>[<HeartbeatInterval>]<Folders><Folder><Id/><Class/></Folder>...`.
fn ping(interval: Option<&str>, folders: &[(&str, &str)]) -> Vec<u8> {
    let mut w = W::new(PING, PING_ROOT);
    if let Some(interval) = interval {
        w = w.text(PING, HEARTBEAT_INTERVAL, interval);
    }
    if !folders.is_empty() {
        w = w.open(PING, FOLDERS);
        for (id, class) in folders {
            w = w
                .open(PING, FOLDER)
                .text(PING, ID, id)
                .text(PING, CLASS, class)
                .end();
        }
        w = w.end();
    }
    w.done()
}

/// The response's Status and the ids in its `Folders`.
fn outcome(response: &Element) -> (String, Vec<String>) {
    let status = response.child_text("Status").expect("a Status");
    let folders = response
        .child("Folders")
        .map(|f| f.elements_named("Folder").map(Element::text).collect())
        .unwrap_or_default();
    (status, folders)
}

/// A mock whose heartbeat may be as short as 1 s, with the test hooks.
async fn quick_server() -> MockServer {
    MockServer::start(MockConfig {
        heartbeat_range: (1, 3540),
        test_hooks: true,
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts")
}

/// A provisioned device of alice that has done its first FolderSync.
async fn ready(server: &MockServer, version: &'static str, id: &'static str) -> Device {
    let mut device = Device::provisioned(server, version, "alice", id).await;
    device.key = folder_sync(&device).await;
    device
}

/// A client Add of a contact through Sync.
async fn add_contact(device: &Device, key: &str, collection_id: &str, name: &str) {
    let body = add_request(
        key,
        collection_id,
        "c1",
        &[(CONTACTS, FILE_AS, name), (CONTACTS, FIRST_NAME, name)],
    );
    let response = device.call("Sync", body).await;
    let add = only_collection(&response)
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .expect("Responses/Add");
    assert_eq!(add.child_text("Status").as_deref(), Some("1"));
}

/// Starts a Ping in the background; its response and how long it took.
fn spawn_ping(
    device: Device,
    body: Vec<u8>,
) -> tokio::task::JoinHandle<((String, Vec<String>), Duration)> {
    tokio::spawn(async move {
        let started = Instant::now();
        let response = device.call("Ping", body).await;
        (outcome(&response), started.elapsed())
    })
}

/// Long enough for a spawned Ping to be waiting.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn missing_parameters_without_a_cache_are_status_3() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    // An empty body with nothing cached.
    let response = device.call("Ping", Vec::new()).await;
    assert_eq!(outcome(&response), ("3".to_string(), vec![]));
    // Folders without an interval, an interval without folders.
    let response = device.call("Ping", ping(None, &[("2", "Email")])).await;
    assert_eq!(outcome(&response).0, "3");
    let response = device.call("Ping", ping(Some("1"), &[])).await;
    assert_eq!(outcome(&response).0, "3");
    // Still nothing cached: a rejected request is not remembered.
    let response = device.call("Ping", Vec::new()).await;
    assert_eq!(outcome(&response).0, "3");
}

#[tokio::test]
async fn intervals_outside_the_range_are_status_5_with_the_nearest_limit() {
    let server = common::start().await;
    let device = ready(&server, "14.1", "dev1").await;
    for (asked, limit) in [
        ("59", "60"),
        ("0", "60"),
        ("3541", "3540"),
        ("99999999999", "3540"),
    ] {
        let response = device
            .call("Ping", ping(Some(asked), &[("2", "Email")]))
            .await;
        assert_eq!(outcome(&response).0, "5", "interval {asked}");
        assert_eq!(
            response.child_text("HeartbeatInterval").as_deref(),
            Some(limit),
            "interval {asked}"
        );
    }
}

#[tokio::test]
async fn malformed_requests_are_status_4() {
    let server = quick_server().await;
    let device = ready(&server, "12.1", "dev1").await;
    let missing_class = W::new(PING, PING_ROOT)
        .text(PING, HEARTBEAT_INTERVAL, "1")
        .open(PING, FOLDERS)
        .open(PING, FOLDER)
        .text(PING, ID, "2")
        .end()
        .end()
        .done();
    let stray_status = W::new(PING, PING_ROOT).text(PING, PING_STATUS, "1").done();
    let empty_folders = W::new(PING, PING_ROOT)
        .text(PING, HEARTBEAT_INTERVAL, "1")
        .open(PING, FOLDERS)
        .end()
        .done();
    let bodies = [
        missing_class,
        stray_status,
        empty_folders,
        ping(Some("1"), &[("2", "Journal")]),
        ping(Some("soon"), &[("2", "Email")]),
    ];
    for (i, body) in bodies.into_iter().enumerate() {
        let response = device.call("Ping", body).await;
        assert_eq!(outcome(&response).0, "4", "body {i}");
    }
}

#[tokio::test]
async fn too_many_folders_are_status_6_with_max_folders() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    let ids: Vec<String> = (1..=301).map(|i| i.to_string()).collect();
    let folders: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "Email")).collect();
    let response = device.call("Ping", ping(Some("1"), &folders)).await;
    assert_eq!(outcome(&response).0, "6");
    assert_eq!(response.child_text("MaxFolders").as_deref(), Some("300"));
}

#[tokio::test]
async fn an_unknown_folder_or_a_changed_hierarchy_is_status_7() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    let response = device
        .call("Ping", ping(Some("1"), &[("99", "Email")]))
        .await;
    assert_eq!(outcome(&response).0, "7");
    // A device that never did FolderSync knows no folder.
    let fresh = Device::provisioned(&server, "14.1", "alice", "devfresh").await;
    let response = fresh.call("Ping", ping(Some("1"), &[("2", "Email")])).await;
    assert_eq!(outcome(&response).0, "7");

    // A waiting Ping ends with 7 when another device creates a folder.
    let other = ready(&server, "14.1", "dev2").await;
    let policy_key = device.policy_key.clone();
    let waiting = spawn_ping(device, ping(Some("30"), &[("2", "Email")]));
    settle().await;
    let create = W::new(FOLDER_HIERARCHY, FOLDER_CREATE)
        .text(FOLDER_HIERARCHY, FH_SYNC_KEY, &other.key)
        .text(FOLDER_HIERARCHY, PARENT_ID, "0")
        .text(FOLDER_HIERARCHY, DISPLAY_NAME, "Projects")
        .text(FOLDER_HIERARCHY, TYPE, "12")
        .done();
    let created = other.call("FolderCreate", create).await;
    assert_eq!(created.child_text("Status").as_deref(), Some("1"));
    let ((status, _), took) = waiting.await.unwrap();
    assert_eq!(status, "7");
    assert!(took < Duration::from_secs(10), "{took:?}");

    // Until dev1 has done its FolderSync, every Ping is 7; after it, not.
    let mut device = Device::of(&server, "14.1", "alice", "dev1");
    device.policy_key = policy_key;
    let response = device
        .call("Ping", ping(Some("1"), &[("2", "Email")]))
        .await;
    assert_eq!(outcome(&response).0, "7");
    let response = device.call("FolderSync", folder_sync_request("1")).await;
    device.key = response.child_text("SyncKey").unwrap();
    let response = device
        .call("Ping", ping(Some("1"), &[("2", "Email")]))
        .await;
    assert_eq!(outcome(&response).0, "1");
}

#[tokio::test]
async fn a_quiet_interval_expires_with_status_1() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    // Drafts (2) and Sent Items (4) are empty and never synced: no changes.
    let started = Instant::now();
    let response = device
        .call("Ping", ping(Some("1"), &[("2", "Email"), ("4", "Email")]))
        .await;
    let took = started.elapsed();
    assert_eq!(outcome(&response), ("1".to_string(), vec![]));
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn pending_changes_answer_status_2_at_once() {
    let server = quick_server().await;
    let device = ready(&server, "12.1", "dev1").await;
    // The Inbox holds messages the device was never sent; Drafts is empty.
    let started = Instant::now();
    let response = device
        .call("Ping", ping(Some("30"), &[("2", "Email"), ("1", "Email")]))
        .await;
    assert_eq!(outcome(&response), ("2".to_string(), vec!["1".to_string()]));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Once synced, the Inbox is quiet.
    full_sync(&device, "1").await;
    let response = device
        .call("Ping", ping(Some("1"), &[("1", "Email")]))
        .await;
    assert_eq!(outcome(&response).0, "1");
}

#[tokio::test]
async fn a_sync_add_from_another_device_wakes_the_ping() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    full_sync(&device, "8").await;
    let waiting = spawn_ping(
        device,
        ping(Some("30"), &[("8", "Contacts"), ("2", "Email")]),
    );
    settle().await;
    let other = ready(&server, "14.1", "dev2").await;
    let key = full_sync(&other, "8").await.1;
    add_contact(&other, &key, "8", "Zoe").await;
    let ((status, folders), took) = waiting.await.unwrap();
    assert_eq!((status.as_str(), folders), ("2", vec!["8".to_string()]));
    assert!(took >= Duration::from_millis(250), "it waited: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn a_server_side_change_wakes_the_ping() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    full_sync(&device, "1").await;
    let waiting = spawn_ping(device, ping(Some("30"), &[("1", "Email")]));
    settle().await;
    let (status, _) = hook(
        &server,
        "/_eastest/items/change?item=1:1",
        "<email:Subject>Changed on the server</email:Subject><email:Read>1</email:Read>",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ((status, folders), took) = waiting.await.unwrap();
    assert_eq!((status.as_str(), folders), ("2", vec!["1".to_string()]));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn a_delivered_message_wakes_the_ping() {
    let server = quick_server().await;
    let device = ready(&server, "16.1", "dev1").await;
    full_sync(&device, "1").await;
    let waiting = spawn_ping(device, ping(Some("30"), &[("1", "Email"), ("2", "Email")]));
    settle().await;
    let (status, server_id) = hook(
        &server,
        "/_eastest/deliver",
        "From: Bob <bob@eastest.invalid>\r\nTo: Alice <alice@eastest.invalid>\r\n\
         Subject: Ping me\r\n\r\nHello\r\n",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(server_id.starts_with("1:"), "{server_id}");
    let ((status, folders), took) = waiting.await.unwrap();
    assert_eq!((status.as_str(), folders), ("2", vec!["1".to_string()]));
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn a_change_in_an_unwatched_folder_does_not_wake_the_ping() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    full_sync(&device, "8").await;
    let waiting = spawn_ping(device, ping(Some("2"), &[("8", "Contacts")]));
    settle().await;
    let (status, _) = hook(
        &server,
        "/_eastest/items?folder=9",
        "<notes:Subject>Not watched</notes:Subject>",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = hook(
        &server,
        "/_eastest/deliver",
        "Subject: Inbox is not watched either\r\n\r\nx",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let ((status, folders), took) = waiting.await.unwrap();
    assert_eq!((status.as_str(), folders), ("1", vec![]));
    assert!(took >= Duration::from_millis(1900), "{took:?}");
}

#[tokio::test]
async fn an_empty_or_partial_ping_reuses_the_cached_parameters() {
    let server = quick_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    let response = device
        .call("Ping", ping(Some("1"), &[("2", "Email")]))
        .await;
    assert_eq!(outcome(&response).0, "1");
    // An empty body: the same interval and folders.
    let started = Instant::now();
    let response = device.call("Ping", Vec::new()).await;
    assert_eq!(outcome(&response).0, "1");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // A message in Drafts: the cached Ping now reports it.
    let (status, _) = hook(
        &server,
        "/_eastest/items?folder=2",
        "<email:Subject>Draft</email:Subject>",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let response = device.call("Ping", Vec::new()).await;
    assert_eq!(outcome(&response), ("2".to_string(), vec!["2".to_string()]));
    // New folders with the cached interval: Sent Items is quiet.
    let started = Instant::now();
    let response = device.call("Ping", ping(None, &[("4", "Email")])).await;
    assert_eq!(outcome(&response).0, "1");
    assert!(started.elapsed() < Duration::from_secs(5));
    // ... and those folders are cached in turn.
    let response = device.call("Ping", ping(Some("1"), &[])).await;
    assert_eq!(outcome(&response), ("1".to_string(), vec![]));
}

#[tokio::test]
async fn concurrent_pings_each_wake() {
    let server = quick_server().await;
    let mut waiting = Vec::new();
    for id in ["dev1", "dev2", "dev3"] {
        let device = ready(&server, "14.1", id).await;
        full_sync(&device, "8").await;
        waiting.push(spawn_ping(device, ping(Some("30"), &[("8", "Contacts")])));
    }
    settle().await;
    let (status, _) = hook(
        &server,
        "/_eastest/items?folder=8",
        "<contacts:FileAs>New, Contact</contacts:FileAs>",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    for ping in waiting {
        let ((status, folders), took) = ping.await.unwrap();
        assert_eq!((status.as_str(), folders), ("2", vec!["8".to_string()]));
        assert!(took < Duration::from_secs(10), "{took:?}");
    }
}
