//! The item test hooks over real HTTP (`/_eastest/items`,
//! `/_eastest/items/change`, `/_eastest/items/delete`, `/_eastest/deliver`):
//! each route's success and error answers, what a device's Sync then sees,
//! that each user reaches only their own mailbox, and HTTP 404 without
//! `test_hooks`. Sync bodies are written token by token from the
//! MS-ASWBXML tables (code page 0 AirSync).

mod common;

use common::{
    Device, folder_sync, full_sync, hook, hook_as, hooks_server, only_collection, prime,
    windowed_sync_request,
};
use eastest::mock::MockServer;
use eastest::wbxml::Element;
use reqwest::StatusCode;

/// A device of alice that synced `collection_id` up to date; its key.
async fn synced(server: &MockServer, collection_id: &str) -> (Device, String) {
    let device = Device::provisioned(server, "14.1", "alice", "dev1").await;
    folder_sync(&device).await;
    let (_, key) = full_sync(&device, collection_id).await;
    (device, key)
}

/// The next Sync's server commands: (command, ServerId, ApplicationData).
async fn next_changes(
    device: &Device,
    key: &mut String,
    collection_id: &str,
) -> Vec<(String, String, Option<Element>)> {
    let response = device
        .call("Sync", windowed_sync_request(key, collection_id, 100))
        .await;
    let c = only_collection(&response);
    *key = c.child_text("SyncKey").unwrap();
    c.child("Commands")
        .map(|commands| {
            commands
                .elements()
                .map(|e| {
                    (
                        e.name.clone(),
                        e.child_text("ServerId").unwrap_or_default(),
                        e.child("ApplicationData").cloned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn hooks_are_not_served_without_test_hooks() {
    let server = common::start().await;
    for path in [
        "/_eastest/items?folder=1",
        "/_eastest/items/change?item=1:1",
        "/_eastest/items/delete?item=1:1",
        "/_eastest/deliver",
    ] {
        let (status, _) = hook(&server, path, "<email:Subject>x</email:Subject>").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn an_added_item_reaches_the_device() {
    let server = hooks_server().await;
    let (device, mut key) = synced(&server, "8").await;
    let (status, server_id) = hook(
        &server,
        "/_eastest/items?folder=8",
        "<contacts:FileAs>Hook, Hannah</contacts:FileAs>\
         <contacts:FirstName>Hannah</contacts:FirstName>",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(server_id.starts_with("8:"), "{server_id}");
    let changes = next_changes(&device, &mut key, "8").await;
    assert_eq!(changes.len(), 1);
    let (command, id, data) = &changes[0];
    assert_eq!((command.as_str(), id.as_str()), ("Add", server_id.as_str()));
    let data = data.as_ref().expect("ApplicationData");
    assert_eq!(data.child_text("FirstName").as_deref(), Some("Hannah"));
}

#[tokio::test]
async fn adding_refuses_bad_requests() {
    let server = hooks_server().await;
    let subject = "<email:Subject>x</email:Subject>";
    let cases = [
        ("/_eastest/items", subject, StatusCode::BAD_REQUEST),
        ("/_eastest/items?folder=", subject, StatusCode::BAD_REQUEST),
        (
            "/_eastest/items?folder=1&x=2",
            subject,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/_eastest/items?folder=1&folder=2",
            subject,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/_eastest/items?folder=%zz",
            subject,
            StatusCode::BAD_REQUEST,
        ),
        ("/_eastest/items?folder=99", subject, StatusCode::NOT_FOUND),
        // Journal holds no items.
        (
            "/_eastest/items?folder=10",
            subject,
            StatusCode::BAD_REQUEST,
        ),
        ("/_eastest/items?folder=1", "", StatusCode::BAD_REQUEST),
        (
            "/_eastest/items?folder=1",
            "<email:Subject>",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/_eastest/items?folder=1",
            "<email:NoSuchTag>x</email:NoSuchTag>",
            StatusCode::BAD_REQUEST,
        ),
        // A contact's property in the Inbox.
        (
            "/_eastest/items?folder=1",
            "<contacts:FileAs>x</contacts:FileAs>",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, body, expected) in cases {
        let (status, why) = hook(&server, path, body).await;
        assert_eq!(status, expected, "{path} {body}");
        assert!(!why.trim().is_empty(), "{path}: a reason");
    }
    let (status, _) = hook_as(&server, None, "/_eastest/items?folder=1", subject).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_changed_item_reaches_the_device() {
    let server = hooks_server().await;
    let (device, mut key) = synced(&server, "1").await;
    let (status, _) = hook(
        &server,
        "/_eastest/items/change?item=1:2",
        "<email:Subject>Rescheduled</email:Subject><email:Read>1</email:Read>",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let changes = next_changes(&device, &mut key, "1").await;
    assert_eq!(changes.len(), 1);
    let (command, id, data) = &changes[0];
    assert_eq!((command.as_str(), id.as_str()), ("Change", "1:2"));
    // An Email change carries what changed on the device's side (Read);
    // the new Subject is in the item, as a fresh device sees.
    let data = data.as_ref().expect("ApplicationData");
    assert_eq!(data.child_text("Read").as_deref(), Some("1"));
    let fresh = Device::provisioned(&server, "14.1", "alice", "dev2").await;
    folder_sync(&fresh).await;
    let mut fresh_key = prime(&fresh, "1").await;
    let adds = next_changes(&fresh, &mut fresh_key, "1").await;
    let changed = adds
        .iter()
        .find(|(_, id, _)| id == "1:2")
        .and_then(|(_, _, data)| data.as_ref())
        .expect("1:2 comes down");
    assert_eq!(
        changed.child_text("Subject").as_deref(),
        Some("Rescheduled")
    );
}

#[tokio::test]
async fn changing_refuses_bad_requests() {
    let server = hooks_server().await;
    let subject = "<email:Subject>x</email:Subject>";
    let cases = [
        ("/_eastest/items/change", subject, StatusCode::BAD_REQUEST),
        (
            "/_eastest/items/change?folder=1",
            subject,
            StatusCode::BAD_REQUEST,
        ),
        (
            "/_eastest/items/change?item=1:999",
            subject,
            StatusCode::NOT_FOUND,
        ),
        (
            "/_eastest/items/change?item=nonsense",
            subject,
            StatusCode::NOT_FOUND,
        ),
        (
            "/_eastest/items/change?item=1:1",
            "",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/_eastest/items/change?item=1:1",
            "not xml <",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/_eastest/items/change?item=1:1",
            "<tasks:Subject>x</tasks:Subject>",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, body, expected) in cases {
        let (status, _) = hook(&server, path, body).await;
        assert_eq!(status, expected, "{path} {body}");
    }
}

#[tokio::test]
async fn a_deleted_item_is_deleted_on_the_device() {
    let server = hooks_server().await;
    let (device, mut key) = synced(&server, "9").await;
    let (status, server_id) = hook(
        &server,
        "/_eastest/items?folder=9",
        "<notes:Subject>Short-lived</notes:Subject>",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let changes = next_changes(&device, &mut key, "9").await;
    assert_eq!(changes[0].0, "Add");
    let path = format!("/_eastest/items/delete?item={server_id}");
    let (status, _) = hook(&server, &path, "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let changes = next_changes(&device, &mut key, "9").await;
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (changes[0].0.as_str(), changes[0].1.as_str()),
        ("Delete", server_id.as_str())
    );
    // Gone: a second delete finds nothing.
    let (status, _) = hook(&server, &path, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = hook(&server, "/_eastest/items/delete", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn each_user_reaches_only_their_own_mailbox() {
    let server = hooks_server().await;
    let (status, bobs) = hook_as(
        &server,
        Some("bob"),
        "/_eastest/items?folder=9",
        "<notes:Subject>Bob's</notes:Subject>",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // The same ServerId does not exist in alice's mailbox.
    for path in [
        format!("/_eastest/items/delete?item={bobs}"),
        format!("/_eastest/items/change?item={bobs}"),
    ] {
        let (status, _) = hook(&server, &path, "<notes:Subject>x</notes:Subject>").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let path = format!("/_eastest/items/delete?item={bobs}");
    let (status, _) = hook_as(&server, Some("bob"), &path, "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_delivered_message_arrives_unread_in_the_inbox() {
    let server = hooks_server().await;
    let (device, mut key) = synced(&server, "1").await;
    let message = "From: Bob Example <bob@eastest.invalid>\r\n\
                   To: Alice <alice@eastest.invalid>, carol@example.test\r\n\
                   Cc: Dave <dave@example.test>\r\n\
                   Subject: Status report\r\n\
                   Date: Tue, 10 Nov 2026 16:30:00 +0200\r\n\
                   MIME-Version: 1.0\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\r\n\
                   All green.\r\n";
    let (status, server_id) = hook(&server, "/_eastest/deliver", message).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(server_id.starts_with("1:"), "{server_id}");
    let changes = next_changes(&device, &mut key, "1").await;
    assert_eq!(changes.len(), 1);
    let (command, id, data) = &changes[0];
    assert_eq!((command.as_str(), id.as_str()), ("Add", server_id.as_str()));
    let data = data.as_ref().expect("ApplicationData");
    let text = |name: &str| data.child_text(name);
    assert_eq!(
        text("From").as_deref(),
        Some("Bob Example <bob@eastest.invalid>")
    );
    assert_eq!(
        text("To").as_deref(),
        Some("\"Alice\" <alice@eastest.invalid>, carol@example.test")
    );
    assert_eq!(text("Cc").as_deref(), Some("\"Dave\" <dave@example.test>"));
    assert_eq!(
        text("DisplayTo").as_deref(),
        Some("Alice; carol@example.test")
    );
    assert_eq!(text("Subject").as_deref(), Some("Status report"));
    assert_eq!(
        text("DateReceived").as_deref(),
        Some("2026-11-10T14:30:00.000Z")
    );
    assert_eq!(text("Read").as_deref(), Some("0"));
    let body = data.child("Body").expect("a Body");
    assert_eq!(body.child_text("Data").as_deref(), Some("All green.\r\n"));
}

#[tokio::test]
async fn delivering_refuses_what_it_cannot_file() {
    let server = hooks_server().await;
    let cases = [
        ("/_eastest/deliver", "just some text, no header"),
        ("/_eastest/deliver", ""),
        ("/_eastest/deliver?folder=1", "Subject: x\r\n\r\nx"),
    ];
    for (path, body) in cases {
        let (status, why) = hook(&server, path, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        assert!(!why.trim().is_empty());
    }
    let (status, _) = hook_as(&server, None, "/_eastest/deliver", "Subject: x\r\n\r\nx").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
