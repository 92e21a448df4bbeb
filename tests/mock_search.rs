//! The mock's Search command (MS-ASCMD 2.2.1.16) over real HTTP: mailbox
//! and GAL searches against the seed mailbox and the default accounts.
//! Request bodies are assembled by hand from the MS-ASWBXML code pages 15
//! (Search), 0 (AirSync), 2 (Email) and 17 (AirSyncBase), not by eastest's
//! encoder.

mod common;

use common::{Device, W};
use eastest::wbxml::Element;

// Code page 0, AirSync.
const AIRSYNC: u8 = 0x00;
const CLASS: u8 = 0x10;
const COLLECTION_ID: u8 = 0x12;
// Code page 2, Email.
const EMAIL: u8 = 0x02;
const DATE_RECEIVED: u8 = 0x0F;
const TO: u8 = 0x16;
// Code page 15, Search.
const SEARCH: u8 = 0x0F;
const SEARCH_ROOT: u8 = 0x05;
const STORE: u8 = 0x07;
const NAME: u8 = 0x08;
const QUERY: u8 = 0x09;
const OPTIONS: u8 = 0x0A;
const RANGE: u8 = 0x0B;
const VALUE: u8 = 0x12;
const AND: u8 = 0x13;
const OR: u8 = 0x14;
const FREE_TEXT: u8 = 0x15;
const DEEP_TRAVERSAL: u8 = 0x17;
const REBUILD_RESULTS: u8 = 0x19;
const GREATER_THAN: u8 = 0x1B;
const PICTURE: u8 = 0x21;
// Code page 17, AirSyncBase.
const AIRSYNCBASE: u8 = 0x11;
const BODY_PREFERENCE: u8 = 0x05;
const TYPE: u8 = 0x06;
const TRUNCATION_SIZE: u8 = 0x07;

/// `Search/Store` with `Name` and a `Query` whose content `query` writes,
/// then `Options` with what `options` writes (left out if it writes
/// nothing).
fn search(name: &str, query: impl FnOnce(W) -> W, options: impl FnOnce(W) -> W) -> Vec<u8> {
    let w = W::new(SEARCH, SEARCH_ROOT)
        .open(SEARCH, STORE)
        .text(SEARCH, NAME, name)
        .open(SEARCH, QUERY);
    query(w)
        .end()
        .optional(SEARCH, OPTIONS, options)
        .end()
        .done()
}

/// A mailbox search: `Query/And` with `and`'s content.
fn mailbox(and: impl FnOnce(W) -> W, options: impl FnOnce(W) -> W) -> Vec<u8> {
    search("Mailbox", |w| and(w.open(SEARCH, AND)).end(), options)
}

fn no_options(w: W) -> W {
    w
}

/// The `Search/Response/Store` of a response, checking that the command's
/// own Status is 1.
fn store(response: &Element) -> &Element {
    assert_eq!(response.namespace, "Search");
    assert_eq!(
        response.child_names(),
        ["Status", "Response"],
        "{response:?}"
    );
    assert_eq!(response.child_text("Status").as_deref(), Some("1"));
    let store = response
        .child("Response")
        .and_then(|r| r.child("Store"))
        .expect("Response/Store");
    assert_eq!(store.child_names().first(), Some(&"Status"), "{store:?}");
    store
}

fn store_status(response: &Element) -> String {
    store(response).child_text("Status").unwrap()
}

/// Each Result's subject (mailbox) and its Class and CollectionId.
fn results(response: &Element) -> Vec<(String, String, String)> {
    store(response)
        .elements_named("Result")
        .map(|r| {
            let properties = r.child("Properties").expect("Properties");
            let subject = properties
                .child_text("Subject")
                .or_else(|| properties.child_text("FileAs"))
                .unwrap_or_default();
            (
                subject,
                r.child_text("Class").unwrap(),
                r.child_text("CollectionId").unwrap(),
            )
        })
        .collect()
}

fn subjects(response: &Element) -> Vec<String> {
    results(response).into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn a_subject_word_finds_its_message() {
    let server = common::start().await;
    for version in ["12.1", "14.0", "14.1", "16.0", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "dev1").await;
        let body = mailbox(
            |w| {
                w.text(AIRSYNC, CLASS, "Email")
                    .text(AIRSYNC, COLLECTION_ID, "1")
                    .text(SEARCH, FREE_TEXT, "FIGURES")
            },
            |w| w.text(SEARCH, RANGE, "0-9").empty(SEARCH, DEEP_TRAVERSAL),
        );
        let response = device.call("Search", body).await;
        let store = store(&response);
        assert_eq!(store.child_text("Status").as_deref(), Some("1"));
        assert_eq!(
            results(&response),
            [("Quarterly figures".into(), "Email".into(), "1".into())],
            "{version}"
        );
        let result = store.child("Result").unwrap();
        let long_id = result.child_text("LongId");
        // LongId (Search) exists from 12.0 (MS-ASCMD 2.2.3.98.3).
        assert_eq!(
            result.child_names(),
            ["Class", "LongId", "CollectionId", "Properties"]
        );
        assert!(long_id.is_some_and(|id| id.starts_with("1:")), "{version}");
        let properties = result.child("Properties").unwrap();
        assert_eq!(
            properties.child_text("From").as_deref(),
            Some("Carol Jones <carol@example.test>")
        );
        assert!(properties.child("Body").is_some(), "{version}");
        assert_eq!(store.child_text("Range").as_deref(), Some("0-0"));
        assert_eq!(store.child_text("Total").as_deref(), Some("1"));
        assert_eq!(
            store.child_names(),
            ["Status", "Result", "Range", "Total"],
            "{version}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn body_text_and_senders_are_searched_too() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    // "corner" is only in the body of "Lunch on Friday?".
    let body = mailbox(|w| w.text(SEARCH, FREE_TEXT, "corner"), no_options);
    let response = device.call("Search", body).await;
    assert_eq!(subjects(&response), ["Lunch on Friday?"]);
    // "erin" is the sender of "Welcome to the team" and a contact.
    let body = mailbox(|w| w.text(SEARCH, FREE_TEXT, "erin"), no_options);
    let response = device.call("Search", body).await;
    let mut found = results(&response);
    found.sort();
    assert_eq!(
        found,
        [
            ("Brown, Erin".into(), "Contacts".into(), "8".into()),
            ("Welcome to the team".into(), "Email".into(), "1".into()),
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn range_pages_through_newest_first_with_the_total() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let all_inbox = |range: &'static str| {
        mailbox(
            |w| w.text(AIRSYNC, COLLECTION_ID, "1"),
            move |w| w.text(SEARCH, RANGE, range).empty(SEARCH, REBUILD_RESULTS),
        )
    };
    let response = device.call("Search", all_inbox("0-1")).await;
    assert_eq!(
        subjects(&response),
        ["Welcome to the team", "Lunch on Friday?"]
    );
    assert_eq!(store(&response).child_text("Range").as_deref(), Some("0-1"));
    assert_eq!(store(&response).child_text("Total").as_deref(), Some("3"));

    let response = device.call("Search", all_inbox("2-9")).await;
    assert_eq!(subjects(&response), ["Quarterly figures"]);
    assert_eq!(store(&response).child_text("Range").as_deref(), Some("2-2"));
    assert_eq!(store(&response).child_text("Total").as_deref(), Some("3"));

    // Without Range: the default 0-99 returns all.
    let body = mailbox(|w| w.text(AIRSYNC, COLLECTION_ID, "1"), no_options);
    let response = device.call("Search", body).await;
    assert_eq!(subjects(&response).len(), 3);
    assert_eq!(store(&response).child_text("Range").as_deref(), Some("0-2"));

    // Past the retrievable 100 results: Status 12, with what there is.
    let response = device.call("Search", all_inbox("0-100")).await;
    assert_eq!(store_status(&response), "12");
    assert_eq!(subjects(&response).len(), 3);
    server.shutdown().await;
}

#[tokio::test]
async fn class_and_collection_restrict_the_search() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    // "carol" is in a message (sender), a meeting (attendee) and a contact.
    let body = mailbox(|w| w.text(SEARCH, FREE_TEXT, "carol"), no_options);
    let response = device.call("Search", body).await;
    let mut classes: Vec<String> = results(&response).into_iter().map(|r| r.1).collect();
    classes.sort();
    assert_eq!(classes, ["Calendar", "Contacts", "Email"]);

    let body = mailbox(
        |w| {
            w.text(AIRSYNC, CLASS, "Contacts")
                .text(SEARCH, FREE_TEXT, "carol")
        },
        no_options,
    );
    let response = device.call("Search", body).await;
    assert_eq!(
        results(&response),
        [("Jones, Carol".into(), "Contacts".into(), "8".into())]
    );

    let body = mailbox(
        |w| {
            w.text(AIRSYNC, COLLECTION_ID, "7")
                .text(SEARCH, FREE_TEXT, "carol")
        },
        no_options,
    );
    let response = device.call("Search", body).await;
    assert_eq!(
        results(&response),
        [("Team stand-up".into(), "Calendar".into(), "7".into())]
    );

    // Two classes at once.
    let body = mailbox(
        |w| {
            w.text(AIRSYNC, CLASS, "Email")
                .text(AIRSYNC, CLASS, "Calendar")
                .text(SEARCH, FREE_TEXT, "carol")
        },
        no_options,
    );
    let response = device.call("Search", body).await;
    assert_eq!(results(&response).len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn date_received_bounds_filter_messages() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let body = mailbox(
        |w| {
            w.text(AIRSYNC, CLASS, "Email")
                .open(SEARCH, GREATER_THAN)
                .empty(EMAIL, DATE_RECEIVED)
                .text(SEARCH, VALUE, "2026-11-03T00:00:00.000Z")
                .end()
        },
        no_options,
    );
    let response = device.call("Search", body).await;
    assert_eq!(
        subjects(&response),
        ["Welcome to the team", "Lunch on Friday?"]
    );
    // A Value that is not a date is an invalid request.
    let body = mailbox(
        |w| {
            w.open(SEARCH, GREATER_THAN)
                .empty(EMAIL, DATE_RECEIVED)
                .text(SEARCH, VALUE, "yesterday")
                .end()
        },
        no_options,
    );
    assert_eq!(store_status(&device.call("Search", body).await), "2");
    server.shutdown().await;
}

#[tokio::test]
async fn body_preference_shapes_the_properties() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let body = mailbox(
        |w| w.text(SEARCH, FREE_TEXT, "lunch"),
        |w| {
            w.open(AIRSYNCBASE, BODY_PREFERENCE)
                .text(AIRSYNCBASE, TYPE, "1")
                .text(AIRSYNCBASE, TRUNCATION_SIZE, "5")
                .end()
        },
    );
    let response = device.call("Search", body).await;
    let result = store(&response).child("Result").expect("a result");
    let body = result.child("Properties").unwrap().child("Body").unwrap();
    assert_eq!(body.child_text("Type").as_deref(), Some("1"));
    assert_eq!(body.child_text("Truncated").as_deref(), Some("1"));
    assert_eq!(body.child_text("Data").as_deref(), Some("Shall"));
    server.shutdown().await;
}

#[tokio::test]
async fn no_hits_give_an_empty_result_and_total_zero() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    let body = mailbox(
        |w| {
            w.text(AIRSYNC, CLASS, "Email")
                .text(AIRSYNC, COLLECTION_ID, "1")
                .text(SEARCH, FREE_TEXT, "zebra")
        },
        |w| w.text(SEARCH, RANGE, "0-9"),
    );
    let response = device.call("Search", body).await;
    let store = store(&response);
    assert_eq!(store.child_names(), ["Status", "Result", "Total"]);
    assert_eq!(store.child_text("Status").as_deref(), Some("1"));
    assert!(store.child("Result").unwrap().children.is_empty());
    assert_eq!(store.child_text("Total").as_deref(), Some("0"));
    // A word's middle does not match.
    let body = mailbox(|w| w.text(SEARCH, FREE_TEXT, "gures"), no_options);
    let response = device.call("Search", body).await;
    assert_eq!(store_status(&response), "1");
    assert_eq!(
        crate::store(&response).child_text("Total").as_deref(),
        Some("0")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_queries_get_their_status() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "Class outside And",
            search(
                "Mailbox",
                |w| {
                    w.text(AIRSYNC, CLASS, "Email")
                        .open(SEARCH, AND)
                        .text(SEARCH, FREE_TEXT, "x")
                        .end()
                },
                no_options,
            ),
            "8",
        ),
        (
            "FreeText outside And",
            search("Mailbox", |w| w.text(SEARCH, FREE_TEXT, "x"), no_options),
            "8",
        ),
        (
            "two And",
            search(
                "Mailbox",
                |w| {
                    w.open(SEARCH, AND)
                        .text(SEARCH, FREE_TEXT, "x")
                        .end()
                        .open(SEARCH, AND)
                        .text(SEARCH, FREE_TEXT, "y")
                        .end()
                },
                no_options,
            ),
            "8",
        ),
        (
            "Or",
            search(
                "Mailbox",
                |w| w.open(SEARCH, OR).text(SEARCH, FREE_TEXT, "x").end(),
                no_options,
            ),
            "8",
        ),
        (
            "email:To inside And",
            mailbox(
                |w| {
                    w.text(EMAIL, TO, "bob@example.test")
                        .text(SEARCH, FREE_TEXT, "x")
                },
                no_options,
            ),
            "2",
        ),
        (
            "unknown class",
            mailbox(|w| w.text(AIRSYNC, CLASS, "Journal"), no_options),
            "2",
        ),
        (
            "range backwards",
            mailbox(
                |w| w.text(SEARCH, FREE_TEXT, "x"),
                |w| w.text(SEARCH, RANGE, "9-0"),
            ),
            "2",
        ),
        (
            "range not m-n",
            mailbox(
                |w| w.text(SEARCH, FREE_TEXT, "x"),
                |w| w.text(SEARCH, RANGE, "ten"),
            ),
            "2",
        ),
        (
            "unknown store",
            search("Archive", |w| w.text(SEARCH, FREE_TEXT, "x"), no_options),
            "2",
        ),
        (
            "unknown folder",
            mailbox(
                |w| {
                    w.text(AIRSYNC, COLLECTION_ID, "99")
                        .text(SEARCH, FREE_TEXT, "x")
                },
                no_options,
            ),
            "11",
        ),
        ("GAL without text", search("GAL", |w| w, no_options), "2"),
    ];
    for (what, body, expected) in cases {
        let response = device.call("Search", body).await;
        assert_eq!(store_status(&response), expected, "{what}");
        assert_eq!(
            store(&response).child_names(),
            ["Status"],
            "{what}: a failed store has its Status only"
        );
    }
    // Notes is a Search class from 14.0 on only.
    let old = Device::provisioned(&server, "12.1", "alice", "dev2").await;
    let body = mailbox(|w| w.text(AIRSYNC, CLASS, "Notes"), no_options);
    assert_eq!(store_status(&old.call("Search", body.clone()).await), "2");
    let response = device.call("Search", body).await;
    assert_eq!(store_status(&response), "1");
    assert_eq!(subjects(&response).len(), 2, "the two seed notes");
    server.shutdown().await;
}

#[tokio::test]
async fn gal_search_finds_accounts_by_prefix() {
    let server = common::start().await;
    for version in ["12.1", "14.1", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "dev1").await;
        let body = search("GAL", |w| w.inline("bob"), no_options);
        let response = device.call("Search", body).await;
        let store = store(&response);
        assert_eq!(store.child_text("Status").as_deref(), Some("1"));
        let found: Vec<&Element> = store.elements_named("Result").collect();
        assert_eq!(found.len(), 1, "{version}");
        let properties = found[0].child("Properties").unwrap();
        assert_eq!(
            properties.child_names(),
            ["DisplayName", "Alias", "EmailAddress"]
        );
        assert_eq!(properties.child_text("DisplayName").as_deref(), Some("bob"));
        assert_eq!(
            properties.child_text("EmailAddress").as_deref(),
            Some("bob@example.test")
        );
        assert_eq!(store.child_text("Range").as_deref(), Some("0-0"));
        assert_eq!(store.child_text("Total").as_deref(), Some("1"));
    }

    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    // The address domain is a word of every address: both accounts, by name.
    let body = search(
        "GAL",
        |w| w.inline("EXAMPLE"),
        |w| w.text(SEARCH, RANGE, "0-0"),
    );
    let response = device.call("Search", body).await;
    let found = store(&response);
    assert_eq!(found.elements_named("Result").count(), 1);
    assert_eq!(found.child_text("Range").as_deref(), Some("0-0"));
    assert_eq!(found.child_text("Total").as_deref(), Some("2"));
    let first = found.child("Result").unwrap().child("Properties").unwrap();
    assert_eq!(first.child_text("DisplayName").as_deref(), Some("alice"));

    // Photos asked for: none, Status 173 each.
    let body = search("GAL", |w| w.inline("alice"), |w| w.empty(SEARCH, PICTURE));
    let response = device.call("Search", body).await;
    let picture = store(&response)
        .child("Result")
        .and_then(|r| r.child("Properties"))
        .and_then(|p| p.child("Picture"))
        .expect("gal:Picture");
    assert_eq!(picture.namespace, "GAL");
    assert_eq!(picture.child_text("Status").as_deref(), Some("173"));

    // No entry starts with "ob".
    let body = search("GAL", |w| w.inline("ob"), no_options);
    let response = device.call("Search", body).await;
    assert_eq!(store(&response).child_text("Total").as_deref(), Some("0"));
    server.shutdown().await;
}
