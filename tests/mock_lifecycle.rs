//! One device's life against the mock, end to end over HTTP, the way a real
//! client lives it: OPTIONS, both Provision phases, FolderSync, Sync of every
//! class both ways, a Ping woken by a change from another device, SendMail
//! arriving in the other user's Inbox (and a meeting invitation answered
//! with MeetingResponse), Search, ItemOperations and MoveItems. Each command
//! has its own detailed tests; this one checks that they fit together.

mod common;

use std::time::Duration;

use common::{
    Device, W, add_request, change_request, commands, folder_sync_request, full_sync,
    only_collection, options, prime, sent_ok, sync_request,
};
use eastest::mock::{MockConfig, MockServer};
use eastest::wbxml::Element;
use rstest::rstest;

const AIRSYNC: u8 = 0;
const CONTACTS: u8 = 1;
const CALENDAR: u8 = 4;
const MOVE: u8 = 5;
const MEETING_RESPONSE: u8 = 8;
const TASKS: u8 = 9;
const PING: u8 = 13;
const SEARCH: u8 = 15;
const ITEM_OPERATIONS: u8 = 20;
const COMPOSE_MAIL: u8 = 21;
const NOTES: u8 = 23;

/// Adds one item with the given (page, token, text) properties: its ServerId
/// and the new key.
async fn add(device: &Device, key: &str, id: &str, props: &[(u8, u8, &str)]) -> (String, String) {
    let r = device
        .call("Sync", add_request(key, id, "new-1", props))
        .await;
    let c = only_collection(&r);
    let response = c.child("Responses").and_then(|r| r.child("Add")).unwrap();
    assert_eq!(
        response.child_text("Status").as_deref(),
        Some("1"),
        "add to {id}"
    );
    (
        response.child_text("ServerId").unwrap(),
        c.child_text("SyncKey").unwrap(),
    )
}

fn text_of(data: &Element, name: &str) -> Option<String> {
    data.child_text(name)
}

async fn send_mail(device: &Device, mime: &str) {
    let body = W::new(COMPOSE_MAIL, 0x05)
        .text(COMPOSE_MAIL, 0x11, &format!("cid-{}", mime.len()))
        .empty(COMPOSE_MAIL, 0x08)
        .opaque(COMPOSE_MAIL, 0x10, mime.as_bytes())
        .done();
    sent_ok(device, "SendMail", body).await;
}

#[rstest]
#[case::v14_1("14.1")]
#[case::v16_1("16.1")]
#[tokio::test]
async fn a_device_lives_its_whole_life(#[case] version: &'static str) {
    let server = MockServer::start(MockConfig {
        heartbeat_range: (1, 3540),
        ..MockConfig::default()
    })
    .await
    .unwrap();

    // OPTIONS: every command a device needs is advertised.
    let response = options(&server).await;
    let commands_header = response.headers()["MS-ASProtocolCommands"]
        .to_str()
        .unwrap()
        .to_string();
    for command in [
        "Sync",
        "FolderSync",
        "Ping",
        "Provision",
        "SendMail",
        "SmartReply",
        "SmartForward",
        "Search",
        "ItemOperations",
        "MoveItems",
        "MeetingResponse",
        "GetItemEstimate",
        "Settings",
        "ResolveRecipients",
        "ValidateCert",
    ] {
        assert!(
            commands_header.split(',').any(|c| c == command),
            "{command} in {commands_header}"
        );
    }

    // Provision (both phases, checked inside), FolderSync.
    let phone = Device::provisioned(&server, version, "alice", "phone").await;
    let tablet = Device::provisioned(&server, version, "alice", "tablet").await;
    let bobs = Device::provisioned(&server, version, "bob", "bobphone").await;
    for device in [&phone, &tablet, &bobs] {
        let r = device.call("FolderSync", folder_sync_request("0")).await;
        assert_eq!(r.child_text("Status").as_deref(), Some("1"));
        let count: usize = r
            .child("Changes")
            .and_then(|c| c.child_text("Count"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(count >= 10, "the standard folders");
    }

    // Sync every class down, and one new item of each (but email) up; the
    // tablet then gets exactly those.
    let mut tablet_keys = Vec::new();
    for (id, seeded) in [("1", 3), ("6", 2), ("7", 2), ("8", 3), ("9", 2)] {
        let (items, _) = full_sync(&tablet, id).await;
        assert_eq!(items.len(), seeded, "folder {id}");
        tablet_keys.push((id, prime(&tablet, id).await));
    }
    // (folder, the new item's properties as (page, token, text), a property
    // the tablet must see)
    type Upload<'a> = (&'a str, Vec<(u8, u8, &'a str)>, &'a str);
    let uploads: [Upload; 4] = [
        (
            "8",
            vec![(CONTACTS, 0x1F, "Grace"), (CONTACTS, 0x29, "Hopper")],
            "FirstName",
        ),
        (
            "7",
            vec![
                (CALENDAR, 0x26, "Design review"),
                (CALENDAR, 0x27, "20261203T140000Z"),
                (CALENDAR, 0x12, "20261203T150000Z"),
            ],
            "Subject",
        ),
        (
            "6",
            vec![(TASKS, 0x20, "Write the report"), (TASKS, 0x0A, "0")],
            "Subject",
        ),
        ("9", vec![(NOTES, 0x05, "Remember the milk")], "Subject"),
    ];
    let mut contact_id = String::new();
    let mut phone_contacts_key = String::new();
    for (id, props, check) in &uploads {
        let (_, key) = full_sync(&phone, id).await;
        let (server_id, key) = add(&phone, &key, id, props).await;
        if *id == "8" {
            contact_id = server_id.clone();
            phone_contacts_key = key;
        }
        let tablet_key = &tablet_keys.iter().find(|(f, _)| f == id).unwrap().1;
        let r = tablet.call("Sync", sync_request(tablet_key, id)).await;
        let c = only_collection(&r);
        // The tablet's key moved on with the seed it received first; what
        // counts is that the new item is there.
        let got = commands(c);
        assert!(
            got.iter()
                .any(|(cmd, sid)| cmd == "Add" && *sid == server_id),
            "{id}: {got:?}"
        );
        let data = c
            .child("Commands")
            .unwrap()
            .elements()
            .find(|e| e.child_text("ServerId").as_deref() == Some(&server_id))
            .and_then(|e| e.child("ApplicationData"))
            .unwrap();
        assert!(text_of(data, check).is_some(), "{id}: {check}");
    }

    // Ping: the tablet watches Contacts; the phone changes the contact.
    let (_, tablet_contacts_key) = full_sync(&tablet, "8").await;
    let _ = tablet_contacts_key;
    let ping = W::new(PING, 0x05)
        .text(PING, 0x08, "30")
        .open(PING, 0x09)
        .open(PING, 0x0A)
        .text(PING, 0x0B, "8")
        .text(PING, 0x0C, "Contacts")
        .end()
        .end()
        .done();
    let waiting = tablet.call("Ping", ping);
    let change = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let body = change_request(
            &phone_contacts_key,
            "8",
            &contact_id,
            &[(CONTACTS, 0x1F, "Grace B."), (CONTACTS, 0x29, "Hopper")],
        );
        phone.call("Sync", body).await
    };
    let (pinged, _) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(waiting, change)
    })
    .await
    .expect("the Ping wakes well before its interval");
    assert_eq!(pinged.child_text("Status").as_deref(), Some("2"));
    assert_eq!(
        pinged
            .child("Folders")
            .and_then(|f| f.child_text("Folder"))
            .as_deref(),
        Some("8")
    );

    // SendMail from alice to bob: in bob's Inbox, and in alice's Sent Items.
    let mime = "From: alice@example.test\r\nTo: bob@example.test\r\n\
                Subject: Lifecycle hello\r\nMIME-Version: 1.0\r\n\
                Content-Type: text/plain; charset=utf-8\r\n\r\nHello Bob.\r\n";
    send_mail(&phone, mime).await;
    let (inbox, _) = full_sync(&bobs, "1").await;
    assert!(
        inbox
            .iter()
            .any(|(_, d)| text_of(d, "Subject").as_deref() == Some("Lifecycle hello")),
        "bob received it"
    );
    let (sent, _) = full_sync(&phone, "4").await;
    assert!(
        sent.iter()
            .any(|(_, d)| text_of(d, "Subject").as_deref() == Some("Lifecycle hello"))
    );

    // A meeting invitation, accepted by bob with MeetingResponse.
    let invite = "From: alice@example.test\r\nTo: bob@example.test\r\n\
                  Subject: Planning\r\nMIME-Version: 1.0\r\n\
                  Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n\
                  BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n\
                  UID:lifecycle-1\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\n\
                  SUMMARY:Planning\r\nORGANIZER:mailto:alice@example.test\r\n\
                  END:VEVENT\r\nEND:VCALENDAR\r\n";
    send_mail(&phone, invite).await;
    let (inbox, _) = full_sync(&bobs, "1").await;
    let (request_id, _) = inbox
        .iter()
        .find(|(_, d)| d.child("MeetingRequest").is_some())
        .expect("a meeting request in bob's Inbox");
    let body = W::new(MEETING_RESPONSE, 0x07)
        .open(MEETING_RESPONSE, 0x09)
        .text(MEETING_RESPONSE, 0x0C, "1")
        .text(MEETING_RESPONSE, 0x06, "1")
        .text(MEETING_RESPONSE, 0x08, request_id)
        .end()
        .done();
    let r = bobs.call("MeetingResponse", body).await;
    let result = r.child("Result").expect("a Result");
    assert_eq!(result.child_text("Status").as_deref(), Some("1"));
    let calendar_id = result.child_text("CalendarId").expect("a CalendarId");
    let (events, _) = full_sync(&bobs, "7").await;
    assert!(events.iter().any(|(id, _)| *id == calendar_id));

    // Search finds a seed message; ItemOperations fetches it whole.
    let body = W::new(SEARCH, 0x05)
        .open(SEARCH, 0x07)
        .text(SEARCH, 0x08, "Mailbox")
        .open(SEARCH, 0x09)
        .open(SEARCH, 0x13)
        .text(AIRSYNC, 0x10, "Email")
        .text(AIRSYNC, 0x12, "1")
        .text(SEARCH, 0x15, "Quarterly")
        .end()
        .end()
        .open(SEARCH, 0x0A)
        .text(SEARCH, 0x0B, "0-9")
        .end()
        .end()
        .done();
    let r = phone.call("Search", body).await;
    let store = r
        .child("Response")
        .and_then(|r| r.child("Store"))
        .expect("Response/Store");
    assert_eq!(store.child_text("Status").as_deref(), Some("1"));
    assert_eq!(store.child_text("Total").as_deref(), Some("1"));
    let result = store.child("Result").unwrap();
    let (folder, server_id) = (
        result.child_text("CollectionId").unwrap(),
        // The mock's LongId is the item's ServerId.
        result.child_text("LongId").unwrap(),
    );
    let body = W::new(ITEM_OPERATIONS, 0x05)
        .open(ITEM_OPERATIONS, 0x06)
        .text(ITEM_OPERATIONS, 0x07, "Mailbox")
        .text(AIRSYNC, 0x12, &folder)
        .text(AIRSYNC, 0x0D, &server_id)
        .end()
        .done();
    let r = phone.call("ItemOperations", body).await;
    let fetch = r
        .child("Response")
        .and_then(|r| r.child("Fetch"))
        .expect("Response/Fetch");
    assert_eq!(fetch.child_text("Status").as_deref(), Some("1"));
    let properties = fetch.child("Properties").unwrap();
    assert_eq!(
        properties.child_text("Subject").as_deref(),
        Some("Quarterly figures")
    );

    // MoveItems: the message goes to Deleted Items; the tablet sees it go.
    let (_, tablet_inbox_key) = full_sync(&tablet, "1").await;
    let body = W::new(MOVE, 0x05)
        .open(MOVE, 0x06)
        .text(MOVE, 0x07, &server_id)
        .text(MOVE, 0x08, "1")
        .text(MOVE, 0x09, "3")
        .end()
        .done();
    let r = phone.call("MoveItems", body).await;
    let response = r.child("Response").unwrap();
    assert_eq!(response.child_text("Status").as_deref(), Some("3"));
    let moved_to = response.child_text("DstMsgId").unwrap();
    assert!(moved_to.starts_with("3:"));
    let r = tablet
        .call("Sync", sync_request(&tablet_inbox_key, "1"))
        .await;
    assert_eq!(
        commands(only_collection(&r)),
        [("Delete".to_string(), server_id.clone())]
    );
}
