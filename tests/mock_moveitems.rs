//! MoveItems against the mock over real HTTP: a move that a second device
//! sees as a Delete in the source and an Add in the destination, and each
//! status of MS-ASCMD 2.2.3.177.10. Request bodies are assembled by hand
//! from the MS-ASWBXML tables (page 5 Move, page 0 AirSync for Sync).

mod common;

use common::{
    CONTENT, Device, END, HEADER, SWITCH_PAGE, drain, folder_sync, full_sync, start, str_i,
};
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code page 5, Move.
const PAGE_MOVE: u8 = 5;
const MOVE_ITEMS: u8 = 0x05;
const MOVE: u8 = 0x06;
const SRC_MSG_ID: u8 = 0x07;
const SRC_FLD_ID: u8 = 0x08;
const DST_FLD_ID: u8 = 0x09;
/// `<tag>text</tag>` on the current page.
fn leaf(b: &mut Vec<u8>, tag: u8, text: &str) {
    b.push(tag | CONTENT);
    str_i(b, text);
    b.push(END);
}

/// A MoveItems body: one `Move` per entry, each with its SrcMsgId,
/// SrcFldId and every DstFldId given.
fn move_items(moves: &[(&str, &str, &[&str])]) -> Vec<u8> {
    let mut b = HEADER.to_vec();
    b.extend_from_slice(&[SWITCH_PAGE, PAGE_MOVE, MOVE_ITEMS | CONTENT]);
    for (src, from, to) in moves {
        b.push(MOVE | CONTENT);
        leaf(&mut b, SRC_MSG_ID, src);
        leaf(&mut b, SRC_FLD_ID, from);
        for dst in *to {
            leaf(&mut b, DST_FLD_ID, dst);
        }
        b.push(END);
    }
    b.push(END);
    b
}

/// Each Response's (SrcMsgId, Status, DstMsgId).
fn responses(root: &Element) -> Vec<(String, String, Option<String>)> {
    root.elements()
        .map(|r| {
            assert_eq!(r.name, "Response");
            (
                r.child_text("SrcMsgId").expect("SrcMsgId"),
                r.child_text("Status").expect("Status"),
                r.child_text("DstMsgId"),
            )
        })
        .collect()
}

/// FolderSync, then every collection in `collections` initialised and
/// fully synced: their keys.
async fn synced(device: &Device, collections: &[&str]) -> Vec<String> {
    folder_sync(device).await;
    let mut keys = Vec::new();
    for c in collections {
        keys.push(full_sync(device, c).await.1);
    }
    keys
}

#[tokio::test]
async fn a_move_reaches_other_devices_as_delete_and_add() {
    let server = start().await;
    let dev1 = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let dev2 = Device::provisioned(&server, "14.1", "alice", "dev2").await;
    let keys1 = synced(&dev1, &["1", "3"]).await;
    let keys2 = synced(&dev2, &["1", "3"]).await;

    let root = dev1
        .call("MoveItems", move_items(&[("1:2", "1", &["3"])]))
        .await;
    let got = responses(&root);
    assert_eq!(got.len(), 1);
    let (src, status, dst) = &got[0];
    assert_eq!((src.as_str(), status.as_str()), ("1:2", "3"));
    let dst = dst.clone().expect("a DstMsgId");
    assert!(
        dst.starts_with("3:") && dst != "3:2",
        "a new ServerId: {dst}"
    );
    assert_eq!(
        root.elements().next().unwrap().child_names(),
        ["SrcMsgId", "Status", "DstMsgId"]
    );

    let (inbox, _) = drain(&dev2, "1", &keys2[0]).await;
    assert_eq!(inbox, [("Delete".to_string(), "1:2".to_string())]);
    let (deleted_items, _) = drain(&dev2, "3", &keys2[1]).await;
    assert_eq!(deleted_items, [("Add".to_string(), dst.clone())]);

    // The moving device already knows: nothing comes back to it.
    let (inbox, _) = drain(&dev1, "1", &keys1[0]).await;
    assert!(inbox.is_empty(), "{inbox:?}");
    let (deleted_items, _) = drain(&dev1, "3", &keys1[1]).await;
    assert!(deleted_items.is_empty(), "{deleted_items:?}");

    // Moving it on again works from its new ServerId, not the old one.
    let root = dev1
        .call(
            "MoveItems",
            move_items(&[("1:2", "3", &["1"]), (&dst, "3", &["1"])]),
        )
        .await;
    let statuses: Vec<String> = responses(&root).into_iter().map(|r| r.1).collect();
    assert_eq!(statuses, ["1", "3"]);
}

#[tokio::test]
async fn each_status_of_moveitems() {
    let server = start().await;
    for version in ["12.1", "14.1", "16.1"] {
        let device = Device::provisioned(&server, version, "bob", "dev1").await;
        let body = move_items(&[
            ("1:999", "1", &["3"]),    // no such item: 1
            ("1:1", "99", &["3"]),     // no such source folder: 1
            ("6:9", "1", &["3"]),      // the item is in another folder: 1
            ("1:1", "1", &["99"]),     // no such destination: 2
            ("1:1", "1", &["1"]),      // same folder: 4
            ("1:1", "1", &["3", "4"]), // two destinations: 5
            ("1:1", "1", &["7"]),      // a message into Calendar: 5
            ("8:6", "8", &["1"]),      // a contact into Inbox: 5
        ]);
        let got = responses(&device.call("MoveItems", body).await);
        let statuses: Vec<&str> = got.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(
            statuses,
            ["1", "1", "1", "2", "4", "5", "5", "5"],
            "{version}"
        );
        assert!(got.iter().all(|r| r.2.is_none()), "no DstMsgId on failure");
    }
}

#[tokio::test]
async fn a_malformed_moveitems_is_refused_whole() {
    let server = start().await;
    // No Move at all: HTTP 400 in 12.1, Status 103 (InvalidXML) from 14.0.
    let old = Device::provisioned(&server, "12.1", "alice", "dev1").await;
    let response = old.post("MoveItems", move_items(&[])).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let new = Device::provisioned(&server, "14.1", "alice", "dev2").await;
    let root = new.call("MoveItems", move_items(&[])).await;
    assert_eq!(root.child_names(), ["Status"]);
    assert_eq!(root.child_text("Status").as_deref(), Some("103"));
    // A Move without DstFldId, in 14.1.
    let root = new
        .call("MoveItems", move_items(&[("1:1", "1", &[])]))
        .await;
    assert_eq!(root.child_text("Status").as_deref(), Some("103"));
}
