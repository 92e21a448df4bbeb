//! GetItemEstimate against the mock over HTTP (MS-ASCMD 2.2.1.9): each
//! per-collection status, estimates that follow Syncs, server-side changes
//! and FilterType, both request shapes (12.1 and 14.0+), and malformed
//! requests. Request bodies are written token by token from the MS-ASWBXML
//! tables (code pages 6 GetItemEstimate, 0 AirSync).

mod common;

use common::{Device, W, folder_sync, hook, hooks_server, prime, sync_all};
use eastest::mock::MockServer;
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code pages.
const AIRSYNC: u8 = 0x00;
const GIE: u8 = 0x06;

// GetItemEstimate tokens.
const GET_ITEM_ESTIMATE: u8 = 0x05;
const GIE_COLLECTIONS: u8 = 0x07;
const GIE_COLLECTION: u8 = 0x08;
const GIE_CLASS: u8 = 0x09;
const GIE_COLLECTION_ID: u8 = 0x0A;

// AirSync tokens.
const SYNC_KEY: u8 = 0x0B;
const CLASS: u8 = 0x10;
const OPTIONS: u8 = 0x17;
const FILTER_TYPE: u8 = 0x18;

/// One 14.0+ `Collection`: SyncKey, CollectionId, then an `Options` with
/// the given Class and FilterType when either is given.
struct Ask<'a> {
    key: &'a str,
    id: &'a str,
    class: Option<&'a str>,
    filter: Option<&'a str>,
}

fn ask<'a>(key: &'a str, id: &'a str) -> Ask<'a> {
    Ask {
        key,
        id,
        class: None,
        filter: None,
    }
}

fn estimate_request(collections: &[Ask]) -> Vec<u8> {
    let mut w = W::new(GIE, GET_ITEM_ESTIMATE).open(GIE, GIE_COLLECTIONS);
    for c in collections {
        w = w
            .open(GIE, GIE_COLLECTION)
            .text(AIRSYNC, SYNC_KEY, c.key)
            .text(GIE, GIE_COLLECTION_ID, c.id);
        if c.class.is_some() || c.filter.is_some() {
            w = w.open(AIRSYNC, OPTIONS);
            if let Some(class) = c.class {
                w = w.text(AIRSYNC, CLASS, class);
            }
            if let Some(filter) = c.filter {
                w = w.text(AIRSYNC, FILTER_TYPE, filter);
            }
            w = w.end();
        }
        w = w.end();
    }
    w.end().done()
}

/// Each `Response`: (Status, CollectionId, Estimate).
fn responses(root: &Element) -> Vec<(String, String, Option<String>)> {
    root.elements_named("Response")
        .map(|r| {
            let c = r.child("Collection").expect("Response/Collection");
            (
                r.child_text("Status").expect("a Status"),
                c.child_text("CollectionId").expect("a CollectionId"),
                c.child_text("Estimate"),
            )
        })
        .collect()
}

/// The one response's (Status, Estimate).
async fn estimate(device: &Device, a: Ask<'_>) -> (String, Option<String>) {
    let id = a.id.to_string();
    let root = device.call("GetItemEstimate", estimate_request(&[a])).await;
    let mut got = responses(&root);
    assert_eq!(got.len(), 1);
    let (status, collection_id, estimate) = got.remove(0);
    assert_eq!(collection_id, id);
    (status, estimate)
}

/// A provisioned device of alice that has done its first FolderSync.
async fn ready(server: &MockServer, version: &'static str, id: &'static str) -> Device {
    let device = Device::provisioned(server, version, "alice", id).await;
    folder_sync(&device).await;
    device
}

fn success(n: usize) -> (String, Option<String>) {
    ("1".to_string(), Some(n.to_string()))
}

#[tokio::test]
async fn an_unprimed_collection_is_status_3_then_the_estimate_follows_syncs() {
    let server = hooks_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    // No Sync with key 0 yet, whatever the key.
    for key in ["0", "1"] {
        let got = estimate(&device, ask(key, "1")).await;
        assert_eq!(got, ("3".to_string(), None), "key {key}");
    }
    // Primed: the three seed messages are still to come.
    let key = prime(&device, "1").await;
    assert_eq!(estimate(&device, ask(&key, "1")).await, success(3));
    // The estimate changes no state: the same answer again.
    assert_eq!(estimate(&device, ask(&key, "1")).await, success(3));
    // After the Sync that brings them, nothing.
    let newer = sync_all(&device, "1", &key).await.1;
    assert_eq!(estimate(&device, ask(&newer, "1")).await, success(0));
    // A server-side change and a new message: two.
    let (status, _) = hook(
        &server,
        "/_eastest/items/change?item=1:1",
        "<email:Subject>Changed</email:Subject>",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = hook(&server, "/_eastest/deliver", "Subject: New\r\n\r\nx").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(estimate(&device, ask(&newer, "1")).await, success(2));
    let newest = sync_all(&device, "1", &newer).await.1;
    assert_eq!(estimate(&device, ask(&newest, "1")).await, success(0));
}

#[tokio::test]
async fn a_key_other_than_the_current_one_is_status_4() {
    let server = common::start().await;
    let device = ready(&server, "16.1", "dev1").await;
    let first = prime(&device, "8").await;
    let current = sync_all(&device, "8", &first).await.1;
    assert_ne!(first, current);
    for key in [first.as_str(), "0", "999", "junk"] {
        let got = estimate(&device, ask(key, "8")).await;
        assert_eq!(got, ("4".to_string(), None), "key {key}");
    }
    assert_eq!(estimate(&device, ask(&current, "8")).await, success(0));
}

#[tokio::test]
async fn unknown_or_unsyncable_collections_and_wrong_classes_are_status_2() {
    let server = common::start().await;
    let device = ready(&server, "14.0", "dev1").await;
    let key = prime(&device, "1").await;
    // No such folder; Journal holds nothing syncable.
    for id in ["99", "10"] {
        assert_eq!(
            estimate(&device, ask("1", id)).await,
            ("2".to_string(), None)
        );
    }
    // A class other than the folder's.
    let wrong = Ask {
        class: Some("Calendar"),
        ..ask(&key, "1")
    };
    assert_eq!(estimate(&device, wrong).await, ("2".to_string(), None));
    let right = Ask {
        class: Some("Email"),
        filter: Some("0"),
        ..ask(&key, "1")
    };
    assert_eq!(estimate(&device, right).await, success(3));
}

#[tokio::test]
async fn several_collections_answer_in_order_each_with_its_status() {
    let server = common::start().await;
    let device = ready(&server, "14.1", "dev1").await;
    let inbox = prime(&device, "1").await;
    let contacts = prime(&device, "8").await;
    let contacts = sync_all(&device, "8", &contacts).await.1;
    let root = device
        .call(
            "GetItemEstimate",
            estimate_request(&[
                ask(&contacts, "8"),
                ask("5", "99"),
                ask(&inbox, "1"),
                ask("1", "7"),
                ask("12345", "1"),
            ]),
        )
        .await;
    let got = responses(&root);
    let expected = [
        ("1", "8", Some("0")),
        ("2", "99", None),
        ("1", "1", Some("3")),
        ("3", "7", None),
        ("4", "1", None),
    ];
    let expected: Vec<(String, String, Option<String>)> = expected
        .iter()
        .map(|(s, id, e)| (s.to_string(), id.to_string(), e.map(str::to_string)))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn filter_type_limits_the_estimate() {
    let server = hooks_server().await;
    let device = ready(&server, "14.1", "dev1").await;
    // An Inbox of two messages: one from 2000, one received now.
    for id in ["1:1", "1:2", "1:3"] {
        let (status, _) = hook(&server, &format!("/_eastest/items/delete?item={id}"), "").await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    for message in [
        "Subject: Old\r\nDate: Sat, 1 Jan 2000 10:00:00 +0000\r\n\r\nold",
        "Subject: New\r\n\r\nnew",
    ] {
        let (status, _) = hook(&server, "/_eastest/deliver", message).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let key = prime(&device, "1").await;
    let with = |filter| Ask {
        filter: Some(filter),
        ..ask(&key, "1")
    };
    assert_eq!(estimate(&device, with("0")).await, success(2));
    assert_eq!(estimate(&device, with("1")).await, success(1));
    assert_eq!(estimate(&device, with("5")).await, success(1));
    // Without a FilterType: no filter.
    assert_eq!(estimate(&device, ask(&key, "1")).await, success(2));
}

#[tokio::test]
async fn version_12_1_uses_its_own_collection_shape() {
    let server = common::start().await;
    let device = ready(&server, "12.1", "dev1").await;
    let key = prime(&device, "1").await;
    let body = |key: &str| {
        W::new(GIE, GET_ITEM_ESTIMATE)
            .open(GIE, GIE_COLLECTIONS)
            .open(GIE, GIE_COLLECTION)
            .text(GIE, GIE_CLASS, "Email")
            .text(GIE, GIE_COLLECTION_ID, "1")
            .text(AIRSYNC, FILTER_TYPE, "0")
            .text(AIRSYNC, SYNC_KEY, key)
            .end()
            .end()
            .done()
    };
    let root = device.call("GetItemEstimate", body(&key)).await;
    assert_eq!(
        responses(&root),
        [("1".to_string(), "1".to_string(), Some("3".to_string()))]
    );
    let root = device.call("GetItemEstimate", body("77")).await;
    assert_eq!(responses(&root)[0].0, "4");
    // The 14.0 shape is not 12.1's: HTTP 400, as 12.1 reports failures.
    let response = device
        .post("GetItemEstimate", estimate_request(&[ask(&key, "1")]))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn malformed_requests_are_status_103_from_14_0() {
    let server = common::start().await;
    let device = ready(&server, "14.1", "dev1").await;
    let no_sync_key = W::new(GIE, GET_ITEM_ESTIMATE)
        .open(GIE, GIE_COLLECTIONS)
        .open(GIE, GIE_COLLECTION)
        .text(GIE, GIE_COLLECTION_ID, "1")
        .end()
        .end()
        .done();
    let no_collection = W::new(GIE, GET_ITEM_ESTIMATE)
        .open(GIE, GIE_COLLECTIONS)
        .end()
        .done();
    let bad_filter = estimate_request(&[Ask {
        filter: Some("9"),
        ..ask("1", "1")
    }]);
    let too_many: Vec<Ask> = (0..301).map(|_| ask("1", "1")).collect();
    for (i, body) in [
        no_sync_key,
        no_collection,
        bad_filter,
        estimate_request(&too_many),
    ]
    .into_iter()
    .enumerate()
    {
        let root = device.call("GetItemEstimate", body).await;
        assert_eq!(
            root.child_text("Status").as_deref(),
            Some("103"),
            "body {i}"
        );
        assert!(root.child("Response").is_none(), "body {i}");
    }
}
