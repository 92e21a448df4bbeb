//! The mock's Find command (MS-ASCMD 2.2.1.2, protocol 16.1 only) over real
//! HTTP. Request bodies are assembled by hand from the MS-ASWBXML code pages
//! 25 (Find) and 0 (AirSync), not by eastest's encoder.

mod common;

use common::{Device, W};
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code page 0, AirSync.
const AIRSYNC: u8 = 0x00;
const CLASS: u8 = 0x10;
const COLLECTION_ID: u8 = 0x12;
// Code page 25, Find.
const FIND: u8 = 0x19;
const FIND_ROOT: u8 = 0x05;
const SEARCH_ID: u8 = 0x06;
const EXECUTE_SEARCH: u8 = 0x07;
const MAILBOX_SEARCH_CRITERION: u8 = 0x08;
const QUERY: u8 = 0x09;
const FREE_TEXT: u8 = 0x0B;
const OPTIONS: u8 = 0x0C;
const RANGE: u8 = 0x0D;
const DEEP_TRAVERSAL: u8 = 0x0E;
const GAL_SEARCH_CRITERION: u8 = 0x19;

const SEARCH_ID_1: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const SEARCH_ID_2: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// A mailbox Find: `Query(Class Email, CollectionId?, FreeText)` and
/// `Options(Range?, DeepTraversal?)`.
fn find_mail(
    search_id: &str,
    class: &str,
    collection: Option<&str>,
    free_text: &str,
    range: Option<&str>,
) -> Vec<u8> {
    let mut w = W::new(FIND, FIND_ROOT)
        .text(FIND, SEARCH_ID, search_id)
        .open(FIND, EXECUTE_SEARCH)
        .open(FIND, MAILBOX_SEARCH_CRITERION)
        .open(FIND, QUERY)
        .text(AIRSYNC, CLASS, class);
    if let Some(id) = collection {
        w = w.text(AIRSYNC, COLLECTION_ID, id);
    }
    w = w.text(FIND, FREE_TEXT, free_text).end().open(FIND, OPTIONS);
    if let Some(range) = range {
        w = w.text(FIND, RANGE, range);
    }
    w.empty(FIND, DEEP_TRAVERSAL).end().end().end().done()
}

/// A GAL Find whose `Query` is the text itself (as Exchange's test suite
/// sends it).
fn find_gal(search_id: &str, query: &str, range: &str) -> Vec<u8> {
    W::new(FIND, FIND_ROOT)
        .text(FIND, SEARCH_ID, search_id)
        .open(FIND, EXECUTE_SEARCH)
        .open(FIND, GAL_SEARCH_CRITERION)
        .text(FIND, QUERY, query)
        .open(FIND, OPTIONS)
        .text(FIND, RANGE, range)
        .end()
        .end()
        .end()
        .done()
}

/// `Find/Status` and the `Response`, if any.
fn parts(find: &Element) -> (String, Option<&Element>) {
    assert_eq!(find.namespace, "Find");
    (find.child_text("Status").unwrap(), find.child("Response"))
}

#[tokio::test]
async fn find_returns_matching_messages_with_their_summary() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    let response = device
        .call(
            "Find",
            find_mail(SEARCH_ID_1, "Email", Some("1"), "figures", Some("0-9")),
        )
        .await;
    let (status, response) = parts(&response);
    assert_eq!(status, "1");
    let response = response.expect("Response");
    assert_eq!(
        response.child_names(),
        ["Store", "Status", "Result", "Range", "Total"]
    );
    let store = response.child("Store").unwrap();
    assert_eq!(store.namespace, "ItemOperations");
    assert_eq!(store.text(), "Mailbox");
    assert_eq!(response.child_text("Status").as_deref(), Some("1"));
    let result = response.child("Result").unwrap();
    assert_eq!(
        result.child_names(),
        ["Class", "ServerId", "CollectionId", "Properties"]
    );
    assert_eq!(result.child_text("Class").as_deref(), Some("Email"));
    assert!(result.child_text("ServerId").unwrap().starts_with("1:"));
    assert_eq!(result.child_text("CollectionId").as_deref(), Some("1"));
    let properties = result.child("Properties").unwrap();
    assert_eq!(
        properties.child_names(),
        [
            "Subject",
            "DateReceived",
            "DisplayTo",
            "Importance",
            "Read",
            "Preview",
            "HasAttachments",
            "From"
        ]
    );
    assert_eq!(
        properties.child_text("Subject").as_deref(),
        Some("Quarterly figures")
    );
    assert_eq!(
        properties.child_text("HasAttachments").as_deref(),
        Some("1")
    );
    assert!(
        properties
            .child_text("Preview")
            .unwrap()
            .contains("the Q3 figures are attached")
    );
    assert_eq!(response.child_text("Range").as_deref(), Some("0-0"));
    assert_eq!(response.child_text("Total").as_deref(), Some("1"));

    // Everywhere (no CollectionId), with a KQL property restriction.
    let response = device
        .call(
            "Find",
            find_mail(SEARCH_ID_2, "Email", None, "from:dave", None),
        )
        .await;
    let response = parts(&response).1.unwrap();
    let results: Vec<String> = response
        .elements_named("Result")
        .map(|r| {
            r.child("Properties")
                .unwrap()
                .child_text("Subject")
                .unwrap()
        })
        .collect();
    assert_eq!(results, ["Lunch on Friday?"]);
    let properties = response
        .child("Result")
        .unwrap()
        .child("Properties")
        .unwrap();
    assert_eq!(
        properties.child_text("HasAttachments").as_deref(),
        Some("0")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn paging_needs_the_same_search_id() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    // A new search that does not start at 0: Response Status 4.
    let response = device
        .call(
            "Find",
            find_mail(SEARCH_ID_1, "Email", Some("1"), "the", Some("2-5")),
        )
        .await;
    let (status, response) = parts(&response);
    assert_eq!(status, "1");
    let response = response.unwrap();
    assert_eq!(response.child_names(), ["Store", "Status"]);
    assert_eq!(response.child_text("Status").as_deref(), Some("4"));

    // "the" is in all three messages: page through them.
    let first = device
        .call(
            "Find",
            find_mail(SEARCH_ID_1, "Email", Some("1"), "the", Some("0-1")),
        )
        .await;
    let first = parts(&first).1.unwrap();
    assert_eq!(first.elements_named("Result").count(), 2);
    assert_eq!(first.child_text("Range").as_deref(), Some("0-1"));
    assert_eq!(first.child_text("Total").as_deref(), Some("3"));
    let next = device
        .call(
            "Find",
            find_mail(SEARCH_ID_1, "Email", Some("1"), "the", Some("2-5")),
        )
        .await;
    let next = parts(&next).1.unwrap();
    assert_eq!(next.child_text("Status").as_deref(), Some("1"));
    assert_eq!(next.elements_named("Result").count(), 1);
    assert_eq!(next.child_text("Range").as_deref(), Some("2-2"));
    assert_eq!(next.child_text("Total").as_deref(), Some("3"));
    server.shutdown().await;
}

#[tokio::test]
async fn no_hits_have_no_result() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    let response = device
        .call(
            "Find",
            find_mail(SEARCH_ID_1, "Email", Some("1"), "zebra", Some("0-5")),
        )
        .await;
    let response = parts(&response).1.unwrap();
    assert_eq!(response.child_names(), ["Store", "Status", "Total"]);
    assert_eq!(response.child_text("Total").as_deref(), Some("0"));
    server.shutdown().await;
}

#[tokio::test]
async fn bad_requests_get_their_status() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    let cases = [
        (
            "empty SearchId",
            find_mail("", "Email", Some("1"), "x", None),
            "2",
        ),
        (
            "SearchId not a GUID",
            find_mail("search-1", "Email", None, "x", None),
            "2",
        ),
        (
            "range past 999",
            find_mail(SEARCH_ID_1, "Email", None, "x", Some("0-1000")),
            "2",
        ),
        (
            "range backwards",
            find_mail(SEARCH_ID_1, "Email", None, "x", Some("5-2")),
            "2",
        ),
        (
            "class not Email",
            find_mail(SEARCH_ID_1, "Calendar", None, "x", None),
            "2",
        ),
        (
            "unknown folder",
            find_mail(SEARCH_ID_1, "Email", Some("-1"), "x", None),
            "3",
        ),
    ];
    for (what, body, expected) in cases {
        let response = device.call("Find", body).await;
        assert_eq!(response.child_names(), ["Status"], "{what}");
        assert_eq!(
            response.child_text("Status").as_deref(),
            Some(expected),
            "{what}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn gal_find_finds_bob() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    let response = device
        .call("Find", find_gal(SEARCH_ID_1, "bob", "0-5"))
        .await;
    let (status, response) = parts(&response);
    assert_eq!(status, "1");
    let response = response.unwrap();
    assert_eq!(response.child_text("Status").as_deref(), Some("1"));
    let found: Vec<&Element> = response.elements_named("Result").collect();
    assert_eq!(found.len(), 1);
    let properties = found[0].child("Properties").unwrap();
    assert_eq!(properties.child_text("DisplayName").as_deref(), Some("bob"));
    assert_eq!(
        properties.child_text("EmailAddress").as_deref(),
        Some("bob@example.test")
    );
    assert_eq!(properties.child("EmailAddress").unwrap().namespace, "GAL");
    assert_eq!(response.child_text("Total").as_deref(), Some("1"));
    server.shutdown().await;
}

#[tokio::test]
async fn find_is_16_1_only() {
    let server = common::start().await;
    for version in ["14.1", "16.0"] {
        let device = Device::provisioned(&server, version, "alice", "dev1").await;
        let response = device
            .post(
                "Find",
                find_mail(SEARCH_ID_1, "Email", Some("1"), "figures", None),
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED, "{version}");
    }
    server.shutdown().await;
}
