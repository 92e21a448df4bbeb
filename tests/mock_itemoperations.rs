//! ItemOperations against the mock over real HTTP: Fetch of items (body
//! preferences, MIME) and attachments (ranges), EmptyFolderContents seen by
//! a second device, conversation Move statuses, and the statuses for
//! unknown or malformed requests. Request bodies are assembled by hand from
//! the MS-ASWBXML tables (pages 0 AirSync, 17 AirSyncBase, 20
//! ItemOperations), not by eastest's encoder.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Device, W, drain, folder_sync, full_sync, prime, start, sync_all};
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code page 0, AirSync.
const AIRSYNC: u8 = 0;
const SERVER_ID: u8 = 0x0D;
const COLLECTION_ID: u8 = 0x12;
const MIME_SUPPORT: u8 = 0x22;
// Code page 17, AirSyncBase.
const AIRSYNCBASE: u8 = 17;
const BODY_PREFERENCE: u8 = 0x05;
const TYPE: u8 = 0x06;
const TRUNCATION_SIZE: u8 = 0x07;
const FILE_REFERENCE: u8 = 0x11;
// Code page 20, ItemOperations.
const ITEMOPS: u8 = 20;
const ITEM_OPERATIONS: u8 = 0x05;
const FETCH: u8 = 0x06;
const STORE: u8 = 0x07;
const OPTIONS: u8 = 0x08;
const RANGE: u8 = 0x09;
const EMPTY_FOLDER_CONTENTS: u8 = 0x12;
const DELETE_SUB_FOLDERS: u8 = 0x13;
const MOVE: u8 = 0x16;
const DST_FLD_ID: u8 = 0x17;
const CONVERSATION_ID: u8 = 0x18;
const MOVE_ALWAYS: u8 = 0x19;

/// The seed message with an attachment, and the attachment.
const SEED_MESSAGE: &str = "1:1";
const SEED_FILE_REFERENCE: &str = "att-17";
const SEED_ATTACHMENT: &[u8] = b"quarter,revenue\r\nQ3,1200\r\n";
const SEED_BODY: &str = "Hi,\r\n\r\nthe Q3 figures are attached.\r\n\r\nCarol\r\n";

/// `ItemOperations` with one `Fetch` of `ServerId` in `CollectionId`;
/// `options` adds children to a `Fetch/Options`.
fn fetch_item(collection: &str, server_id: &str, options: impl FnOnce(W) -> W) -> Vec<u8> {
    let wb = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, FETCH)
        .text(ITEMOPS, STORE, "Mailbox")
        .text(AIRSYNC, COLLECTION_ID, collection)
        .text(AIRSYNC, SERVER_ID, server_id)
        .open(ITEMOPS, OPTIONS);
    options(wb).end().end().done()
}

/// `ItemOperations` with one `Fetch` of an attachment; `range` as sent.
fn fetch_file(file_reference: &str, range: Option<&str>) -> Vec<u8> {
    let mut wb = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, FETCH)
        .text(ITEMOPS, STORE, "Mailbox")
        .text(AIRSYNCBASE, FILE_REFERENCE, file_reference);
    if let Some(range) = range {
        wb = wb.open(ITEMOPS, OPTIONS).text(ITEMOPS, RANGE, range).end();
    }
    wb.end().done()
}

fn empty_folder(collection: &str, delete_subfolders: bool) -> Vec<u8> {
    let mut wb = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, EMPTY_FOLDER_CONTENTS)
        .text(AIRSYNC, COLLECTION_ID, collection);
    if delete_subfolders {
        wb = wb
            .open(ITEMOPS, OPTIONS)
            .empty(ITEMOPS, DELETE_SUB_FOLDERS)
            .end();
    }
    wb.end().done()
}

fn status(e: &Element) -> String {
    e.child_text("Status").expect("a Status")
}

/// The operations of a successful response, in order.
fn operations(root: &Element) -> Vec<Element> {
    assert_eq!(status(root), "1", "the command's Status");
    assert_eq!(root.child_names(), ["Status", "Response"]);
    root.child("Response")
        .unwrap()
        .elements()
        .cloned()
        .collect()
}

/// The one `Fetch` of a response.
fn the_fetch(root: &Element) -> Element {
    let ops = operations(root);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].name, "Fetch");
    ops[0].clone()
}

fn body_of(fetch: &Element) -> Element {
    fetch
        .child("Properties")
        .and_then(|p| p.child("Body"))
        .expect("Properties/Body")
        .clone()
}

/// Initialises `collection` and takes everything in it: the key and the
/// ServerIds.
async fn server_ids(device: &Device, collection: &str) -> (String, Vec<String>) {
    let (items, key) = full_sync(device, collection).await;
    (key, items.into_iter().map(|(id, _)| id).collect())
}

#[tokio::test]
async fn seed_server_ids_are_what_sync_hands_out() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    folder_sync(&device).await;
    let (_, ids) = server_ids(&device, "1").await;
    assert_eq!(ids, ["1:1", "1:2", "1:3"]);
    let fetch = the_fetch(
        &device
            .call("ItemOperations", fetch_item("1", "1:1", |o| o))
            .await,
    );
    let subject = fetch.child("Properties").unwrap().child_text("Subject");
    assert_eq!(subject.as_deref(), Some("Quarterly figures"));
}

#[tokio::test]
async fn fetch_returns_the_whole_item_untruncated() {
    let server = start().await;
    for version in ["12.1", "14.1", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "dev1").await;
        let root = device
            .call("ItemOperations", fetch_item("1", SEED_MESSAGE, |o| o))
            .await;
        let fetch = the_fetch(&root);
        assert_eq!(
            fetch.child_names(),
            ["Status", "CollectionId", "ServerId", "Class", "Properties"],
            "{version}"
        );
        assert_eq!(status(&fetch), "1");
        assert_eq!(fetch.child_text("CollectionId").as_deref(), Some("1"));
        assert_eq!(fetch.child_text("ServerId").as_deref(), Some(SEED_MESSAGE));
        assert_eq!(fetch.child_text("Class").as_deref(), Some("Email"));
        let body = body_of(&fetch);
        assert_eq!(body.child_text("Type").as_deref(), Some("1"));
        assert_eq!(body.child_text("Data").as_deref(), Some(SEED_BODY));
        assert!(body.child("Truncated").is_none());
        let attachment = fetch
            .child("Properties")
            .and_then(|p| p.child("Attachments"))
            .and_then(|a| a.child("Attachment"))
            .expect("the attachment's metadata");
        assert_eq!(
            attachment.child_text("FileReference").as_deref(),
            Some(SEED_FILE_REFERENCE)
        );
    }
}

#[tokio::test]
async fn fetch_honours_body_preference_and_mime_support() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let truncated = fetch_item("1", SEED_MESSAGE, |o| {
        o.open(AIRSYNCBASE, BODY_PREFERENCE)
            .text(AIRSYNCBASE, TYPE, "1")
            .text(AIRSYNCBASE, TRUNCATION_SIZE, "10")
            .end()
    });
    let body = body_of(&the_fetch(&device.call("ItemOperations", truncated).await));
    assert_eq!(body.child_text("Truncated").as_deref(), Some("1"));
    assert_eq!(body.child_text("Data").as_deref(), Some(&SEED_BODY[..10]));
    assert_eq!(
        body.child_text("EstimatedDataSize"),
        Some(SEED_BODY.len().to_string())
    );

    let mime = fetch_item("1", SEED_MESSAGE, |o| {
        o.text(AIRSYNC, MIME_SUPPORT, "2")
            .open(AIRSYNCBASE, BODY_PREFERENCE)
            .text(AIRSYNCBASE, TYPE, "4")
            .end()
    });
    let body = body_of(&the_fetch(&device.call("ItemOperations", mime).await));
    assert_eq!(body.child_text("Type").as_deref(), Some("4"));
    let data = body.child_text("Data").expect("the MIME source");
    assert!(data.starts_with("From: Carol Jones"), "{data}");
    assert!(data.contains("Content-Disposition: attachment; filename=\"q3-figures.csv\""));
}

#[tokio::test]
async fn fetch_of_an_attachment_returns_its_bytes() {
    let server = start().await;
    for version in ["12.1", "14.1"] {
        let device = Device::provisioned(&server, version, "alice", "dev1").await;
        let root = device
            .call("ItemOperations", fetch_file(SEED_FILE_REFERENCE, None))
            .await;
        let fetch = the_fetch(&root);
        assert_eq!(
            fetch.child_names(),
            ["Status", "FileReference", "Properties"]
        );
        assert_eq!(status(&fetch), "1");
        assert_eq!(
            fetch.child_text("FileReference").as_deref(),
            Some(SEED_FILE_REFERENCE)
        );
        let properties = fetch.child("Properties").unwrap();
        assert_eq!(properties.child_names(), ["ContentType", "Data"]);
        assert_eq!(
            properties.child_text("ContentType").as_deref(),
            Some("text/csv")
        );
        let data = BASE64
            .decode(properties.child_text("Data").unwrap())
            .expect("base64 data");
        assert_eq!(data, SEED_ATTACHMENT, "{version}");
    }
}

#[tokio::test]
async fn fetch_ranges_of_an_attachment() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let total = SEED_ATTACHMENT.len();
    let fetch = the_fetch(
        &device
            .call(
                "ItemOperations",
                fetch_file(SEED_FILE_REFERENCE, Some("0-6")),
            )
            .await,
    );
    let properties = fetch.child("Properties").unwrap();
    assert_eq!(
        properties.child_names(),
        ["ContentType", "Range", "Total", "Data"]
    );
    assert_eq!(properties.child_text("Range").as_deref(), Some("0-6"));
    assert_eq!(properties.child_text("Total"), Some(total.to_string()));
    let data = BASE64
        .decode(properties.child_text("Data").unwrap())
        .unwrap();
    assert_eq!(data, b"quarter");

    // An end past the last byte is cut there.
    let fetch = the_fetch(
        &device
            .call(
                "ItemOperations",
                fetch_file(SEED_FILE_REFERENCE, Some("17-999")),
            )
            .await,
    );
    let properties = fetch.child("Properties").unwrap();
    assert_eq!(
        properties.child_text("Range"),
        Some(format!("17-{}", total - 1))
    );
    let data = BASE64
        .decode(properties.child_text("Data").unwrap())
        .unwrap();
    assert_eq!(data, &SEED_ATTACHMENT[17..]);

    // A start past the end: 8; more than the server serves at once: 11.
    for (range, expected) in [("99-99", "8"), ("0-10240000", "11")] {
        let fetch = the_fetch(
            &device
                .call(
                    "ItemOperations",
                    fetch_file(SEED_FILE_REFERENCE, Some(range)),
                )
                .await,
        );
        assert_eq!(status(&fetch), expected, "Range {range}");
        assert!(fetch.child("Properties").is_none());
    }
}

#[tokio::test]
async fn unknown_items_attachments_and_stores_get_their_statuses() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    // An unknown item, and a known one in the wrong collection: 6.
    for (collection, id) in [
        ("1", "1:999"),
        ("1", "InvalidServerID"),
        ("6", SEED_MESSAGE),
    ] {
        let fetch = the_fetch(
            &device
                .call("ItemOperations", fetch_item(collection, id, |o| o))
                .await,
        );
        assert_eq!(status(&fetch), "6", "{collection} {id}");
        assert!(fetch.child("Properties").is_none());
    }
    // An unknown attachment: 15.
    let fetch = the_fetch(
        &device
            .call("ItemOperations", fetch_file("att-1", None))
            .await,
    );
    assert_eq!(status(&fetch), "15");
    assert_eq!(fetch.child_text("FileReference").as_deref(), Some("att-1"));
    // A store the server does not have: 9.
    let body = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, FETCH)
        .text(ITEMOPS, STORE, "InvalidStore")
        .text(AIRSYNC, COLLECTION_ID, "1")
        .text(AIRSYNC, SERVER_ID, SEED_MESSAGE)
        .end()
        .done();
    let fetch = the_fetch(&device.call("ItemOperations", body).await);
    assert_eq!(status(&fetch), "9");
}

#[tokio::test]
async fn malformed_requests_are_status_2_for_the_whole_command() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let two_files = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, FETCH)
        .text(ITEMOPS, STORE, "Mailbox")
        .text(AIRSYNCBASE, FILE_REFERENCE, SEED_FILE_REFERENCE)
        .text(AIRSYNCBASE, FILE_REFERENCE, SEED_FILE_REFERENCE)
        .end()
        .done();
    let no_store = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, FETCH)
        .text(AIRSYNCBASE, FILE_REFERENCE, SEED_FILE_REFERENCE)
        .end()
        .done();
    let no_collection = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, EMPTY_FOLDER_CONTENTS)
        .end()
        .done();
    let nothing = W::new(ITEMOPS, ITEM_OPERATIONS).done();
    let bodies = [
        ("two FileReferences", two_files),
        ("no Store", no_store),
        ("an empty Range", fetch_file(SEED_FILE_REFERENCE, Some(""))),
        (
            "a reversed Range",
            fetch_file(SEED_FILE_REFERENCE, Some("5-1")),
        ),
        (
            "a Range for an item",
            fetch_item("1", SEED_MESSAGE, |o| o.text(ITEMOPS, RANGE, "0-1")),
        ),
        (
            "a BodyPreference without Type",
            fetch_item("1", SEED_MESSAGE, |o| {
                o.open(AIRSYNCBASE, BODY_PREFERENCE)
                    .text(AIRSYNCBASE, TRUNCATION_SIZE, "5")
                    .end()
            }),
        ),
        ("EmptyFolderContents without CollectionId", no_collection),
        ("no operation", nothing),
    ];
    for (what, body) in bodies {
        let root = device.call("ItemOperations", body).await;
        assert_eq!(root.child_names(), ["Status"], "{what}");
        assert_eq!(status(&root), "2", "{what}");
    }
}

#[tokio::test]
async fn empty_folder_contents_reaches_other_devices_as_deletes() {
    let server = start().await;
    let dev1 = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let dev2 = Device::provisioned(&server, "14.1", "alice", "dev2").await;
    folder_sync(&dev1).await;
    folder_sync(&dev2).await;
    let (key1, _) = server_ids(&dev1, "1").await;
    let (key2, ids) = server_ids(&dev2, "1").await;
    assert_eq!(ids.len(), 3);

    let ops = operations(&dev1.call("ItemOperations", empty_folder("1", false)).await);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].name, "EmptyFolderContents");
    assert_eq!(ops[0].child_names(), ["Status", "CollectionId"]);
    assert_eq!(status(&ops[0]), "1");
    assert_eq!(ops[0].child_text("CollectionId").as_deref(), Some("1"));

    let (commands, _) = drain(&dev2, "1", &key2).await;
    let mut deleted: Vec<String> = commands
        .iter()
        .map(|(cmd, id)| {
            assert_eq!(cmd, "Delete");
            id.clone()
        })
        .collect();
    deleted.sort();
    assert_eq!(deleted, ids);
    // The device that emptied the folder is not told what it did.
    let (commands, _) = drain(&dev1, "1", &key1).await;
    assert!(commands.is_empty(), "{commands:?}");
    // The seed attachment went with its message.
    let fetch = the_fetch(
        &dev1
            .call("ItemOperations", fetch_file(SEED_FILE_REFERENCE, None))
            .await,
    );
    assert_eq!(status(&fetch), "15");
}

#[tokio::test]
async fn empty_folder_contents_statuses() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let mut body = W::new(ITEMOPS, ITEM_OPERATIONS);
    for id in ["99", "RI", "9"] {
        body = body
            .open(ITEMOPS, EMPTY_FOLDER_CONTENTS)
            .text(AIRSYNC, COLLECTION_ID, id)
            .open(ITEMOPS, OPTIONS)
            .empty(ITEMOPS, DELETE_SUB_FOLDERS)
            .end()
            .end();
    }
    let ops = operations(&device.call("ItemOperations", body.done()).await);
    let got: Vec<(String, String)> = ops
        .iter()
        .map(|o| (o.child_text("CollectionId").unwrap(), status(o)))
        .collect();
    let expected =
        [("99", "6"), ("RI", "16"), ("9", "1")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(got, expected);
    // Notes (9) is empty now: its two seed notes are gone.
    folder_sync(&device).await;
    let (_, ids) = server_ids(&device, "9").await;
    assert!(ids.is_empty(), "{ids:?}");
}

#[tokio::test]
async fn conversation_move_statuses() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let mv = |dst: &str, always: bool| {
        let mut wb = W::new(ITEMOPS, ITEM_OPERATIONS)
            .open(ITEMOPS, MOVE)
            .text(ITEMOPS, CONVERSATION_ID, "no-such-conversation")
            .text(ITEMOPS, DST_FLD_ID, dst);
        if always {
            wb = wb.open(ITEMOPS, OPTIONS).empty(ITEMOPS, MOVE_ALWAYS).end();
        }
        wb.end().done()
    };
    for (dst, always, expected) in [
        ("3", true, "6"),    // no message in that conversation
        ("99", true, "6"),   // no such folder
        ("9", true, "156"),  // Notes is not a mail folder
        ("RI", true, "105"), // the recipient information cache
        ("3", false, "155"), // MoveAlways is required
    ] {
        let ops = operations(&device.call("ItemOperations", mv(dst, always)).await);
        assert_eq!(ops[0].name, "Move");
        assert_eq!(ops[0].child_names(), ["Status", "ConversationId"]);
        assert_eq!(status(&ops[0]), expected, "to {dst}, MoveAlways {always}");
    }
    // Move does not exist in 12.1: its tokens are not in that version's
    // code page, so the body is not valid 12.1 WBXML.
    let old = Device::provisioned(&server, "12.1", "alice", "dev2").await;
    let response = old.post("ItemOperations", mv("3", true)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_conversation_moves_as_a_whole() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "conv").await;
    folder_sync(&device).await;
    let (items, key) = full_sync(&device, "1").await;
    let (_, seed) = items
        .iter()
        .find(|(id, _)| id == SEED_MESSAGE)
        .expect("the seed message");
    let conversation = seed
        .child("ConversationId")
        .and_then(Element::opaque)
        .expect("messages carry an email2:ConversationId in 14.1")
        .to_vec();
    let body = W::new(ITEMOPS, ITEM_OPERATIONS)
        .open(ITEMOPS, MOVE)
        .opaque(ITEMOPS, CONVERSATION_ID, &conversation)
        .text(ITEMOPS, DST_FLD_ID, "3")
        .open(ITEMOPS, OPTIONS)
        .empty(ITEMOPS, MOVE_ALWAYS)
        .end()
        .end()
        .done();
    let ops = operations(&device.call("ItemOperations", body).await);
    assert_eq!(status(&ops[0]), "1");
    // The moving device's Inbox shows nothing (its view followed the move);
    // a second device sees the message leave the Inbox.
    let other = Device::provisioned(&server, "14.1", "alice", "conv2").await;
    folder_sync(&other).await;
    let k2 = prime(&other, "1").await;
    let (commands, _) = sync_all(&other, "1", &k2).await;
    let ids: Vec<String> = commands
        .iter()
        .filter_map(|e| e.child_text("ServerId"))
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&SEED_MESSAGE.to_string()));
    let _ = key;
}

/// The MS-ASHTTP base64 request line for ItemOperations (command code 19)
/// in 14.1 with the AcceptMultiPart option bit (Options parameter, tag 7,
/// value 0x02); the policy key travels in the `X-MS-PolicyKey` header.
fn multipart_query(device_id: &str) -> String {
    let mut q = vec![141, 19, 0x09, 0x04];
    q.push(u8::try_from(device_id.len()).unwrap());
    q.extend_from_slice(device_id.as_bytes());
    q.push(0); // no policy key in the query
    let device_type = b"TestDevice";
    q.push(u8::try_from(device_type.len()).unwrap());
    q.extend_from_slice(device_type);
    q.extend_from_slice(&[7, 1, 0x02]);
    BASE64
        .encode(q)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

#[tokio::test]
async fn accept_multipart_puts_attachment_content_in_its_own_part() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let response = device
        .http
        .post(format!(
            "{}?{}",
            device.url,
            multipart_query(device.device_id)
        ))
        .header("Authorization", common::basic("alice", "alice-pass"))
        .header("X-MS-PolicyKey", device.policy_key.clone().unwrap())
        .header("Content-Type", "application/vnd.ms-sync.wbxml")
        .body(fetch_file(SEED_FILE_REFERENCE, None))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.ms-sync.multipart"
    );
    let body = response.bytes().await.unwrap();
    let int_at = |i: usize| u32::from_le_bytes(body[i..i + 4].try_into().unwrap()) as usize;
    assert_eq!(int_at(0), 2, "PartsCount: the WBXML and the attachment");
    let (wbxml_at, wbxml_len) = (int_at(4), int_at(8));
    let (data_at, data_len) = (int_at(12), int_at(16));
    assert_eq!(wbxml_at, 20, "the parts follow the metadata");
    assert_eq!(data_at, wbxml_at + wbxml_len);
    assert_eq!(data_at + data_len, body.len());
    assert_eq!(&body[data_at..], SEED_ATTACHMENT);
    let v = "14.1".parse().unwrap();
    let root = Element::from_wbxml(
        &body[wbxml_at..wbxml_at + wbxml_len],
        &eastest::wbxml::DecodeOptions::strict(v),
    )
    .expect("the first part is the WBXML response");
    let properties = the_fetch(&root).child("Properties").unwrap().clone();
    assert_eq!(properties.child_names(), ["ContentType", "Part"]);
    assert_eq!(properties.child_text("Part").as_deref(), Some("1"));
}

#[tokio::test]
async fn fetch_by_long_id_uses_what_search_hands_out() {
    // Code page 15, Search: LongId. The mock's Search names results by
    // their ServerId.
    const SEARCH: u8 = 15;
    const LONG_ID: u8 = 0x18;
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let fetch = |long_id: &str| {
        W::new(ITEMOPS, ITEM_OPERATIONS)
            .open(ITEMOPS, FETCH)
            .text(ITEMOPS, STORE, "Mailbox")
            .text(SEARCH, LONG_ID, long_id)
            .end()
            .done()
    };
    let found = the_fetch(&device.call("ItemOperations", fetch(SEED_MESSAGE)).await);
    assert_eq!(
        found.child_names(),
        ["Status", "LongId", "Class", "Properties"]
    );
    assert_eq!(status(&found), "1");
    assert_eq!(found.child_text("LongId").as_deref(), Some(SEED_MESSAGE));
    let missing = the_fetch(&device.call("ItemOperations", fetch("RgAAAAD")).await);
    assert_eq!(status(&missing), "6");
    assert!(missing.child("Properties").is_none());
}
