//! Sync against the mock over HTTP: the key state machine, items of every
//! class both ways, windowing, ghosting, conflicts, body preferences, long
//! polls and every Sync status a client can provoke. Request bodies are
//! written token by token from the MS-ASWBXML tables.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{
    Device, W, add_request, change_request, commands, drain, folder_sync_request, only_collection,
    prime, start, sync_request, windowed_sync_request,
};
use eastest::mock::{MockConfig, MockServer};
use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};
use reqwest::StatusCode;

// Code pages.
const AIRSYNC: u8 = 0;
const CONTACTS: u8 = 1;
const EMAIL: u8 = 2;
const CALENDAR: u8 = 4;
const NOTES: u8 = 23;
const BASE: u8 = 17;

// AirSync tokens.
const DELETE: u8 = 0x09;
const FETCH: u8 = 0x0A;
const SYNC_KEY: u8 = 0x0B;
const SERVER_ID: u8 = 0x0D;
const COLLECTION: u8 = 0x0F;
const COLLECTION_ID: u8 = 0x12;
const COMMANDS: u8 = 0x16;
const OPTIONS: u8 = 0x17;
const FILTER_TYPE: u8 = 0x18;
const COLLECTIONS: u8 = 0x1C;
const DELETES_AS_MOVES: u8 = 0x1E;
const SUPPORTED: u8 = 0x20;
const MIME_SUPPORT: u8 = 0x22;
const PARTIAL: u8 = 0x26;
const HEARTBEAT_INTERVAL: u8 = 0x29;

// Contacts tokens.
const FILE_AS: u8 = 0x1E;
const FIRST_NAME: u8 = 0x1F;
const JOB_TITLE: u8 = 0x28;
const LAST_NAME: u8 = 0x29;

// AirSyncBase tokens.
const BODY_PREFERENCE: u8 = 0x05;
const TYPE: u8 = 0x06;
const TRUNCATION_SIZE: u8 = 0x07;

fn key_of(collection: &Element) -> String {
    collection.child_text("SyncKey").expect("a SyncKey")
}

fn status_of(collection: &Element) -> String {
    collection.child_text("Status").expect("a Status")
}

fn application_data<'a>(collection: &'a Element, server_id: &str) -> &'a Element {
    collection
        .child("Commands")
        .and_then(|c| {
            c.elements()
                .find(|e| e.child_text("ServerId").as_deref() == Some(server_id))
        })
        .and_then(|e| e.child("ApplicationData"))
        .unwrap_or_else(|| panic!("no ApplicationData for {server_id}"))
}

/// FolderSync from 0, then Sync key 0 for `id`: the collection's first key.
async fn init(device: &Device, id: &str) -> String {
    device.call("FolderSync", folder_sync_request("0")).await;
    prime(device, id).await
}

/// Adds a contact from `device`: (its ServerId, the new key).
async fn add_contact(device: &Device, key: &str, client_id: &str, first: &str) -> (String, String) {
    let (id, key, _) = add_contact_seeing(device, key, client_id, first).await;
    (id, key)
}

/// Adds a contact from `device`: its ServerId, the new key, and the server
/// changes that came in the same response.
async fn add_contact_seeing(
    device: &Device,
    key: &str,
    client_id: &str,
    first: &str,
) -> (String, String, Vec<(String, String)>) {
    let body = add_request(
        key,
        "8",
        client_id,
        &[
            (CONTACTS, FILE_AS, &format!("Doe, {first}")),
            (CONTACTS, FIRST_NAME, first),
            (CONTACTS, LAST_NAME, "Doe"),
            (CONTACTS, JOB_TITLE, "Engineer"),
        ],
    );
    let r = device.call("Sync", body).await;
    let c = only_collection(&r);
    assert_eq!(status_of(c), "1");
    let add = c
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .expect("Responses/Add");
    assert_eq!(add.child_text("ClientId").as_deref(), Some(client_id));
    assert_eq!(add.child_text("Status").as_deref(), Some("1"));
    (
        add.child_text("ServerId").expect("a ServerId"),
        key_of(c),
        commands(c),
    )
}

/// Applies server commands to a device's list of ServerIds.
fn apply(list: &mut Vec<String>, got: Vec<(String, String)>) {
    for (cmd, id) in got {
        match cmd.as_str() {
            "Add" => list.push(id),
            "Delete" => list.retain(|x| *x != id),
            _ => {}
        }
    }
}

/// A Change of contact `server_id` carrying only the given Contacts properties.
fn change_contact(key: &str, server_id: &str, properties: &[(u8, &str)]) -> Vec<u8> {
    let properties: Vec<(u8, u8, &str)> = properties
        .iter()
        .map(|&(token, value)| (CONTACTS, token, value))
        .collect();
    change_request(key, "8", server_id, &properties)
}

fn property_names(data: &Element) -> Vec<String> {
    data.elements().map(|e| e.name.clone()).collect()
}

async fn provisioned(server: &MockServer, version: &'static str, device: &'static str) -> Device {
    Device::provisioned(server, version, "alice", device).await
}

#[tokio::test]
async fn every_class_comes_down_after_key_zero() {
    let server = start().await;
    for version in ["12.1", "14.1", "16.1"] {
        let device = provisioned(&server, version, "classes").await;
        device.call("FolderSync", folder_sync_request("0")).await;
        for (id, count, class_page) in [
            ("1", 3, "Email"),
            ("7", 2, "Calendar"),
            ("8", 3, "Contacts"),
            ("6", 2, "Tasks"),
            ("9", 2, "Notes"),
        ] {
            if version == "12.1" && class_page == "Notes" {
                // The Notes class is new in 14.0: a 12.1 Sync of the Notes
                // folder is a protocol error.
                let r = device.call("Sync", sync_request("0", id)).await;
                assert_eq!(status_of(only_collection(&r)), "4");
                continue;
            }
            let key = prime(&device, id).await;
            let r = device.call("Sync", sync_request(&key, id)).await;
            let c = only_collection(&r);
            assert_eq!(status_of(c), "1", "{version} {id}");
            let got = commands(c);
            assert_eq!(got.len(), count, "{version} folder {id}");
            assert!(
                got.iter()
                    .all(|(cmd, sid)| cmd == "Add" && sid.starts_with(&format!("{id}:")))
            );
            let new_key = key_of(c);
            assert_ne!(new_key, key, "sending items changes the key");
            let data = application_data(c, &got[0].1);
            assert!(
                data.elements().any(|e| e.namespace == class_page),
                "{version}: {class_page} properties in {data:?}"
            );
            // Nothing more: the same key back, no commands.
            let again = device.call("Sync", sync_request(&new_key, id)).await;
            let c = only_collection(&again);
            assert_eq!(key_of(c), new_key, "no change, no new key");
            assert!(commands(c).is_empty());
        }
    }
}

#[tokio::test]
async fn calendar_items_carry_the_time_zone_blob_recurrence_and_exceptions() {
    let server = start().await;
    let device = provisioned(&server, "14.1", "cal").await;
    let key = init(&device, "7").await;
    let r = device.call("Sync", sync_request(&key, "7")).await;
    let c = only_collection(&r);
    let first = &commands(c)[0].1;
    let data = application_data(c, first);
    let blob = BASE64
        .decode(data.child_text("Timezone").expect("Timezone"))
        .unwrap();
    assert_eq!(blob.len(), 172, "MS-ASDTYPE TimeZone layout");
    assert_eq!(i32::from_le_bytes(blob[0..4].try_into().unwrap()), -60);
    let recurrence = data.child("Recurrence").expect("Recurrence");
    assert_eq!(recurrence.child_text("Type").as_deref(), Some("1"));
    let exception = data
        .child("Exceptions")
        .and_then(|e| e.child("Exception"))
        .expect("an exception");
    assert_eq!(
        exception.child_text("ExceptionStartTime").as_deref(),
        Some("20261111T090000Z")
    );
    assert_eq!(data.child("Attendees").unwrap().elements().count(), 2);
    // 14.1 has calendar:Location; 16.1 does not (it moved to AirSyncBase).
    assert!(data.child("Location").is_some());
    let new = provisioned(&server, "16.1", "cal16").await;
    let key = init(&new, "7").await;
    let r = new.call("Sync", sync_request(&key, "7")).await;
    let c = only_collection(&r);
    let data = application_data(c, first);
    assert!(
        data.elements()
            .all(|e| !(e.namespace == "Calendar" && e.name == "Location")),
        "no 14.1-only tag in a 16.1 response"
    );
}

#[tokio::test]
async fn client_changes_reach_other_devices_and_never_echo() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "phoneA").await;
    let b = provisioned(&server, "14.1", "phoneB").await;
    let ka = init(&a, "8").await;
    let kb = init(&b, "8").await;
    let (_, ka) = drain(&a, "8", &ka).await;
    let (seed, kb) = drain(&b, "8", &kb).await;
    assert_eq!(seed.len(), 3);

    let (id, ka) = add_contact(&a, &ka, "c1", "Jane").await;
    // The adding device gets no echo of its own Add.
    let (echo, ka) = drain(&a, "8", &ka).await;
    assert!(echo.is_empty(), "{echo:?}");
    // The other device gets it.
    let r = b.call("Sync", sync_request(&kb, "8")).await;
    let c = only_collection(&r);
    assert_eq!(commands(c), [("Add".to_string(), id.clone())]);
    let data = application_data(c, &id);
    assert_eq!(data.child_text("FirstName").as_deref(), Some("Jane"));
    let kb = key_of(c);

    // A Change, then a Delete, travel the same way.
    let r = a
        .call(
            "Sync",
            change_contact(&ka, &id, &[(FILE_AS, "Doe, Janet"), (FIRST_NAME, "Janet")]),
        )
        .await;
    let c = only_collection(&r);
    assert!(
        c.child("Responses").is_none(),
        "a successful Change has no response"
    );
    let ka = key_of(c);
    let r = b.call("Sync", sync_request(&kb, "8")).await;
    let c = only_collection(&r);
    assert_eq!(commands(c), [("Change".to_string(), id.clone())]);
    assert_eq!(
        application_data(c, &id).child_text("FirstName").as_deref(),
        Some("Janet")
    );
    let kb = key_of(c);
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection(&ka, "8")
        .open(AIRSYNC, COMMANDS)
        .open(AIRSYNC, DELETE)
        .text(AIRSYNC, SERVER_ID, &id)
        .end()
        .end()
        .end()
        .end()
        .done();
    let r = a.call("Sync", body).await;
    assert_eq!(status_of(only_collection(&r)), "1");
    let (deletes, _) = drain(&b, "8", &kb).await;
    assert_eq!(deletes, [("Delete".to_string(), id)]);
}

#[tokio::test]
async fn sync_keys_follow_the_state_machine() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "keys").await;
    let b = provisioned(&server, "14.1", "keysB").await;
    let k1 = init(&a, "8").await;
    let kb = init(&b, "8").await;
    let (_, kb) = drain(&b, "8", &kb).await;

    // A key the server never gave: Status 3, and the collection is reset.
    let r = a.call("Sync", sync_request("999999", "8")).await;
    assert_eq!(status_of(only_collection(&r)), "3");
    let r = a.call("Sync", sync_request(&k1, "8")).await;
    assert_eq!(
        status_of(only_collection(&r)),
        "3",
        "state dropped after Status 3"
    );

    // Start over; the response to an Add is "lost": the client resends
    // with the previous key.
    let k1 = prime(&a, "8").await;
    let (_, k2) = drain(&a, "8", &k1).await;
    let (id, k3) = add_contact(&a, &k2, "lost-1", "Lost").await;
    let (again, k3b) = add_contact(&a, &k2, "lost-1", "Lost").await;
    assert_eq!(
        again, id,
        "the resend gets the same ServerId, not a duplicate"
    );
    assert_ne!(k3b, k3);
    // The superseded key is dead now.
    let r = a.call("Sync", sync_request(&k3, "8")).await;
    assert_eq!(status_of(only_collection(&r)), "3");
    // The other device sees exactly one new contact.
    let (got, _) = drain(&b, "8", &kb).await;
    assert_eq!(got, [("Add".to_string(), id)]);
}

#[tokio::test]
async fn a_lost_response_with_server_changes_is_sent_again() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "resendA").await;
    let k1 = init(&a, "9").await;
    // The response with the two notes is lost; the resend gets them again.
    let first = a.call("Sync", sync_request(&k1, "9")).await;
    let second = a.call("Sync", sync_request(&k1, "9")).await;
    let (c1, c2) = (only_collection(&first), only_collection(&second));
    assert_eq!(commands(c1).len(), 2);
    assert_eq!(commands(c1), commands(c2));
}

#[tokio::test]
async fn windows_page_through_a_large_folder() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "filler").await;
    let b = provisioned(&server, "14.1", "pager").await;
    let mut ka = init(&a, "8").await;
    (_, ka) = drain(&a, "8", &ka).await;
    for i in 0..120 {
        (_, ka) = add_contact(&a, &ka, &format!("c{i}"), &format!("P{i}")).await;
    }
    let mut kb = init(&b, "8").await;
    let mut pages = Vec::new();
    let mut ids = Vec::new();
    loop {
        let r = b.call("Sync", windowed_sync_request(&kb, "8", 50)).await;
        let c = only_collection(&r);
        let got = commands(c);
        pages.push((got.len(), c.child("MoreAvailable").is_some()));
        ids.extend(got.into_iter().map(|(_, id)| id));
        kb = key_of(c);
        if c.child("MoreAvailable").is_none() {
            break;
        }
    }
    assert_eq!(pages, [(50, true), (50, true), (23, false)]);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 123, "every item once");
}

#[tokio::test]
async fn supported_decides_what_a_change_may_leave_out() {
    // MS-ASCMD 2.2.3.179: the three rules, checked through a second device.
    let server = start().await;
    let writer = provisioned(&server, "14.1", "writer").await;
    let reader = provisioned(&server, "14.1", "reader").await;
    let mut kr = init(&reader, "8").await;
    (_, kr) = drain(&reader, "8", &kr).await;

    // (the Supported list (tokens), properties the change omits that must
    // survive, those that must be deleted)
    type Case<'a> = (Option<&'a [u8]>, &'a [&'a str], &'a [&'a str]);
    let cases: [Case; 3] = [
        (None, &[], &["FirstName", "LastName", "JobTitle"]),
        (
            Some(&[JOB_TITLE]),
            &["FirstName", "LastName"],
            &["JobTitle"],
        ),
        (Some(&[]), &["FirstName", "LastName", "JobTitle"], &[]),
    ];
    for (n, (supported, kept, gone)) in cases.into_iter().enumerate() {
        writer.call("FolderSync", folder_sync_request("0")).await;
        let mut w = W::sync().open(AIRSYNC, COLLECTIONS).collection("0", "8");
        if let Some(list) = supported {
            if list.is_empty() {
                w = w.empty(AIRSYNC, SUPPORTED);
            } else {
                w = w.open(AIRSYNC, SUPPORTED);
                for token in list {
                    w = w.empty(CONTACTS, *token);
                }
                w = w.end();
            }
        }
        let r = writer.call("Sync", w.end().end().done()).await;
        let mut kw = key_of(only_collection(&r));
        (_, kw) = drain(&writer, "8", &kw).await;
        let (id, kw) = add_contact(&writer, &kw, &format!("g{n}"), "Ann").await;
        let r = writer
            .call("Sync", change_contact(&kw, &id, &[(FILE_AS, "Ann D.")]))
            .await;
        assert_eq!(status_of(only_collection(&r)), "1");
        let r = reader.call("Sync", sync_request(&kr, "8")).await;
        let c = only_collection(&r);
        kr = key_of(c);
        let names = property_names(application_data(c, &id));
        assert!(names.contains(&"FileAs".to_string()));
        for k in kept {
            assert!(
                names.contains(&k.to_string()),
                "case {n}: {k} kept in {names:?}"
            );
        }
        for g in gone {
            assert!(
                !names.contains(&g.to_string()),
                "case {n}: {g} deleted in {names:?}"
            );
        }
    }
}

#[tokio::test]
async fn supported_is_ignored_after_key_zero_and_refused_where_the_spec_says() {
    let server = start().await;
    let device = provisioned(&server, "14.1", "supported").await;
    let key = init(&device, "8").await;
    // With a non-zero key: ignored (R4551), the Sync succeeds.
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection(&key, "8")
        .open(AIRSYNC, SUPPORTED)
        .empty(CONTACTS, JOB_TITLE)
        .end()
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    assert_eq!(status_of(only_collection(&r)), "1");
    // On a Notes collection: Status 4 (MS-ASNOTE R114).
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection("0", "9")
        .empty(AIRSYNC, SUPPORTED)
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    assert_eq!(status_of(only_collection(&r)), "4");
    // Before CollectionId (R4545: strictly ordered): Status 4.
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .open(AIRSYNC, COLLECTION)
        .text(AIRSYNC, SYNC_KEY, "0")
        .empty(AIRSYNC, SUPPORTED)
        .text(AIRSYNC, COLLECTION_ID, "8")
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    assert_eq!(r.child_text("Status").as_deref(), Some("4"));
    // A Calendar property in a Contacts Supported list: Status 4.
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection("0", "8")
        .open(AIRSYNC, SUPPORTED)
        .empty(CALENDAR, 0x26)
        .end()
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    assert_eq!(status_of(only_collection(&r)), "4");
}

#[tokio::test]
async fn a_conflicting_change_loses_to_the_server_with_status_7() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "confA").await;
    let b = provisioned(&server, "14.1", "confB").await;
    let (seed, ka) = drain(&a, "8", &init(&a, "8").await).await;
    let (_, kb) = drain(&b, "8", &init(&b, "8").await).await;
    let id = &seed[0].1;
    let r = a
        .call("Sync", change_contact(&ka, id, &[(FILE_AS, "From A")]))
        .await;
    assert_eq!(status_of(only_collection(&r)), "1");
    let r = b
        .call("Sync", change_contact(&kb, id, &[(FILE_AS, "From B")]))
        .await;
    let c = only_collection(&r);
    let response = c
        .child("Responses")
        .and_then(|r| r.child("Change"))
        .expect("Responses/Change");
    assert_eq!(response.child_text("Status").as_deref(), Some("7"));
    // The server's version comes down in the same response.
    assert_eq!(
        application_data(c, id).child_text("FileAs").as_deref(),
        Some("From A")
    );
}

#[tokio::test]
async fn missing_items_are_status_8() {
    let server = start().await;
    let device = provisioned(&server, "14.1", "missing").await;
    let (_, key) = drain(&device, "8", &init(&device, "8").await).await;
    let r = device
        .call("Sync", change_contact(&key, "8:9999", &[(FILE_AS, "x")]))
        .await;
    let c = only_collection(&r);
    let change = c
        .child("Responses")
        .and_then(|r| r.child("Change"))
        .unwrap();
    assert_eq!(change.child_text("Status").as_deref(), Some("8"));
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection(&key_of(c), "8")
        .open(AIRSYNC, COMMANDS)
        .open(AIRSYNC, FETCH)
        .text(AIRSYNC, SERVER_ID, "8:9999")
        .end()
        .open(AIRSYNC, DELETE)
        .text(AIRSYNC, SERVER_ID, "8:9998")
        .end()
        .end()
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    let responses = only_collection(&r).child("Responses").unwrap();
    for name in ["Fetch", "Delete"] {
        assert_eq!(
            responses
                .child(name)
                .unwrap()
                .child_text("Status")
                .as_deref(),
            Some("8"),
            "{name}"
        );
    }
}

#[tokio::test]
async fn hierarchy_and_request_level_statuses() {
    let server = start().await;
    let device = provisioned(&server, "14.1", "statuses").await;
    // Before any FolderSync: the hierarchy is not synchronized (12).
    let r = device.call("Sync", sync_request("0", "8")).await;
    assert_eq!(r.child_text("Status").as_deref(), Some("12"));
    device.call("FolderSync", folder_sync_request("0")).await;
    let r = device.call("Sync", sync_request("0", "4711")).await;
    assert_eq!(
        r.child_text("Status").as_deref(),
        Some("12"),
        "unknown folder"
    );
    // An empty Sync with nothing cached: 13.
    let fresh = provisioned(&server, "14.1", "fresh").await;
    let r = fresh.call("Sync", Vec::new()).await;
    assert_eq!(r.child_text("Status").as_deref(), Some("13"));
    // HeartbeatInterval out of range: 14 with the nearest limit.
    for (interval, limit) in [("10", "60"), ("4000", "3540")] {
        let body = W::sync()
            .open(AIRSYNC, COLLECTIONS)
            .collection("0", "8")
            .end()
            .end()
            .text(AIRSYNC, HEARTBEAT_INTERVAL, interval)
            .done();
        let r = device.call("Sync", body).await;
        assert_eq!(r.child_text("Status").as_deref(), Some("14"));
        assert_eq!(r.child_text("Limit").as_deref(), Some(limit));
    }
    // Too many collections: 15.
    let mut w = W::sync().open(AIRSYNC, COLLECTIONS);
    for _ in 0..101 {
        w = w.collection("0", "8").end();
    }
    let r = device.call("Sync", w.end().done()).await;
    assert_eq!(r.child_text("Status").as_deref(), Some("15"));
    // Commands with key 0: a protocol error (4).
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection("0", "8")
        .open(AIRSYNC, COMMANDS)
        .open(AIRSYNC, DELETE)
        .text(AIRSYNC, SERVER_ID, "8:1")
        .end()
        .end()
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    assert_eq!(status_of(only_collection(&r)), "4");
    // WindowSize 0 is read as 512 (MS-ASCMD 2.2.3.199), not an error.
    let r = device
        .call("Sync", windowed_sync_request("0", "8", 0))
        .await;
    assert_eq!(status_of(only_collection(&r)), "1");
}

#[tokio::test]
async fn unconvertible_items_are_status_6() {
    let server = start().await;
    let device = provisioned(&server, "14.1", "convert").await;
    let key = init(&device, "7").await;
    // A calendar item with a start but no end.
    let body = add_request(
        &key,
        "7",
        "e1",
        &[
            (CALENDAR, 0x27, "20261201T100000Z"),
            (CALENDAR, 0x26, "No end"),
        ],
    );
    let r = device.call("Sync", body).await;
    let add = only_collection(&r)
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .unwrap();
    assert_eq!(add.child_text("Status").as_deref(), Some("6"));
    assert!(add.child("ServerId").is_none());
    // A contact property inside a Notes item.
    let key = prime(&device, "9").await;
    let body = add_request(
        &key,
        "9",
        "n1",
        &[
            (NOTES, 0x05, "A note"),
            (CONTACTS, FIRST_NAME, "Wrong class"),
        ],
    );
    let r = device.call("Sync", body).await;
    let add = only_collection(&r)
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .unwrap();
    assert_eq!(add.child_text("Status").as_deref(), Some("6"));
}

#[tokio::test]
async fn bodies_follow_body_preference_and_mime_support() {
    let server = start().await;
    let device = provisioned(&server, "14.1", "bodies").await;
    device.call("FolderSync", folder_sync_request("0")).await;
    // Plain text truncated to 10 bytes.
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection("0", "1")
        .open(AIRSYNC, OPTIONS)
        .open(BASE, BODY_PREFERENCE)
        .text(BASE, TYPE, "1")
        .text(BASE, TRUNCATION_SIZE, "10")
        .end()
        .end()
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    let key = key_of(only_collection(&r));
    let r = device.call("Sync", sync_request(&key, "1")).await;
    let c = only_collection(&r);
    let first = &commands(c)[0].1;
    let b = application_data(c, first).child("Body").expect("a Body");
    assert_eq!(b.child_text("Type").as_deref(), Some("1"));
    assert_eq!(b.child_text("Truncated").as_deref(), Some("1"));
    let data = b.child_text("Data").unwrap();
    assert!(data.len() <= 10, "{data:?}");
    let full: usize = b.child_text("EstimatedDataSize").unwrap().parse().unwrap();
    assert!(full > 10);
    // MIME with MIMESupport 2 (options kept from key 0 unless sent again).
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection("0", "1")
        .open(AIRSYNC, OPTIONS)
        .text(AIRSYNC, MIME_SUPPORT, "2")
        .open(BASE, BODY_PREFERENCE)
        .text(BASE, TYPE, "4")
        .end()
        .end()
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    let key = key_of(only_collection(&r));
    let r = device.call("Sync", sync_request(&key, "1")).await;
    let c = only_collection(&r);
    let b = application_data(c, first).child("Body").unwrap();
    assert_eq!(b.child_text("Type").as_deref(), Some("4"));
    let mime = b.child_text("Data").unwrap();
    assert!(mime.contains("Subject: Quarterly figures"), "{mime}");
}

#[tokio::test]
async fn read_state_and_flags_sync_and_deletes_move_to_deleted_items() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "mailA").await;
    let b = provisioned(&server, "14.1", "mailB").await;
    let (seed, ka) = drain(&a, "1", &init(&a, "1").await).await;
    let (_, kb) = drain(&b, "1", &init(&b, "1").await).await;
    let unread = &seed[1].1;
    let body = change_request(&ka, "1", unread, &[(EMAIL, 0x15, "1")]);
    let r = a.call("Sync", body).await;
    let ka = key_of(only_collection(&r));
    let r = b.call("Sync", sync_request(&kb, "1")).await;
    let c = only_collection(&r);
    let data = application_data(c, unread);
    assert_eq!(data.child_text("Read").as_deref(), Some("1"));
    assert_eq!(
        data.child_text("Subject").as_deref(),
        Some("Lunch on Friday?"),
        "a read-flag change keeps the message"
    );
    let kb = key_of(c);
    // Delete (DeletesAsMoves on by default): into Deleted Items (3).
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection(&ka, "1")
        .text(AIRSYNC, DELETES_AS_MOVES, "1")
        .open(AIRSYNC, COMMANDS)
        .open(AIRSYNC, DELETE)
        .text(AIRSYNC, SERVER_ID, unread)
        .end()
        .end()
        .end()
        .end()
        .done();
    a.call("Sync", body).await;
    let (got, _) = drain(&b, "1", &kb).await;
    assert_eq!(got, [("Delete".to_string(), unread.clone())]);
    let (trash, _) = drain(&b, "3", &prime(&b, "3").await).await;
    assert_eq!(trash.len(), 1);
    assert!(trash[0].1.starts_with("3:"));
}

/// A compact EAS date `days` days from now.
fn days_from_now(days: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t = now + days * 86_400;
    let (d, s) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = d + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = if month <= 2 { y + 1 } else { y };
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

#[tokio::test]
async fn filter_type_limits_calendar_items_by_their_end() {
    let server = start().await;
    let writer = provisioned(&server, "14.1", "calw").await;
    let mut kw = init(&writer, "7").await;
    (_, kw) = drain(&writer, "7", &kw).await;
    let mut added = Vec::new();
    for (n, days) in [(0, -3), (1, -60)] {
        let body = add_request(
            &kw,
            "7",
            &format!("ev{n}"),
            &[
                (CALENDAR, 0x26, &format!("Event {n}")),
                (CALENDAR, 0x27, &days_from_now(days)),
                (CALENDAR, 0x12, &days_from_now(days + 1)),
            ],
        );
        let r = writer.call("Sync", body).await;
        let c = only_collection(&r);
        added.push(
            c.child("Responses")
                .and_then(|r| r.child("Add"))
                .and_then(|a| a.child_text("ServerId"))
                .unwrap(),
        );
        kw = key_of(c);
    }
    let (recent, old) = (&added[0], &added[1]);
    // FilterType 4 (two weeks): the recent event and the recurring seed
    // meeting (recurring items are always in), not the 60-day-old event.
    let reader = provisioned(&server, "14.1", "calr").await;
    reader.call("FolderSync", folder_sync_request("0")).await;
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection("0", "7")
        .open(AIRSYNC, OPTIONS)
        .text(AIRSYNC, FILTER_TYPE, "4")
        .end()
        .end()
        .end()
        .done();
    let r = reader.call("Sync", body).await;
    let (got, _) = drain(&reader, "7", &key_of(only_collection(&r))).await;
    let ids: Vec<&str> = got.iter().map(|(_, id)| id.as_str()).collect();
    assert!(ids.contains(&recent.as_str()), "{ids:?}");
    assert!(
        ids.contains(&"7:4"),
        "the recurring meeting is always in: {ids:?}"
    );
    assert!(!ids.contains(&old.as_str()), "{ids:?}");
    // Without a filter, the old event comes too.
    let (all, _) = drain(&writer, "7", &prime(&writer, "7").await).await;
    assert!(all.iter().any(|(_, id)| id == old));
    let _ = kw;
}

#[tokio::test]
async fn heartbeat_sync_waits_for_a_change_or_answers_empty() {
    let server = MockServer::start(MockConfig {
        heartbeat_range: (1, 3540),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let a = provisioned(&server, "14.1", "waiter").await;
    let b = provisioned(&server, "14.1", "changer").await;
    let (_, ka) = drain(&a, "8", &init(&a, "8").await).await;
    let (_, kb) = drain(&b, "8", &init(&b, "8").await).await;
    let waiting = |key: &str| {
        W::sync()
            .open(AIRSYNC, COLLECTIONS)
            .collection(key, "8")
            .end()
            .end()
            .text(AIRSYNC, HEARTBEAT_INTERVAL, "2")
            .done()
    };
    // Nothing changes: an empty response after the interval.
    let started = Instant::now();
    let r = a.post("Sync", waiting(&ka)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().is_empty());
    assert!(started.elapsed() >= Duration::from_millis(1900));
    // A change from the other device ends the wait early.
    let started = Instant::now();
    let request = a.post("Sync", waiting(&ka));
    let change = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        add_contact(&b, &kb, "w1", "Woken").await
    };
    let (response, (id, _)) = tokio::join!(request, change);
    assert!(started.elapsed() < Duration::from_millis(1900));
    let bytes = response.bytes().await.unwrap();
    let root = Element::from_wbxml(&bytes, &DecodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
    assert_eq!(commands(only_collection(&root)), [("Add".to_string(), id)]);
}

#[tokio::test]
async fn empty_and_partial_syncs_reuse_the_cached_request() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "partial").await;
    let b = provisioned(&server, "14.1", "partialB").await;
    a.call("FolderSync", folder_sync_request("0")).await;
    // One full request for two collections.
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection("0", "8")
        .end()
        .collection("0", "9")
        .end()
        .end()
        .done();
    let r = a.call("Sync", body).await;
    assert_eq!(r.child("Collections").unwrap().elements().count(), 2);
    // An empty request repeats it with the current keys: the seed comes.
    let r = a.call("Sync", Vec::new()).await;
    let ids: Vec<String> = r
        .child("Collections")
        .unwrap()
        .elements()
        .map(|c| c.child_text("CollectionId").unwrap())
        .collect();
    assert_eq!(ids, ["8", "9"]);
    let notes_key = r
        .child("Collections")
        .unwrap()
        .elements()
        .find(|c| c.child_text("CollectionId").as_deref() == Some("9"))
        .map(key_of)
        .unwrap();
    // A change to notes from elsewhere; a partial request naming only notes
    // still covers both collections.
    let kb = init(&b, "9").await;
    let body = add_request(&kb, "9", "p1", &[(NOTES, 0x05, "Partial")]);
    b.call("Sync", body).await;
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .collection(&notes_key, "9")
        .end()
        .end()
        .empty(AIRSYNC, PARTIAL)
        .done();
    let r = a.call("Sync", body).await;
    let collections: Vec<&Element> = r.child("Collections").unwrap().elements().collect();
    assert_eq!(collections.len(), 2);
    let notes = collections
        .iter()
        .find(|c| c.child_text("CollectionId").as_deref() == Some("9"))
        .unwrap();
    assert_eq!(commands(notes).len(), 1);
}

#[tokio::test]
async fn two_devices_converge_after_interleaved_changes() {
    let server = start().await;
    let a = provisioned(&server, "14.1", "convA").await;
    let b = provisioned(&server, "14.1", "convB").await;
    let (seed_a, mut ka) = drain(&a, "8", &init(&a, "8").await).await;
    let (_, mut kb) = drain(&b, "8", &init(&b, "8").await).await;
    let mut on_a: Vec<String> = seed_a.into_iter().map(|(_, id)| id).collect();
    let mut on_b = on_a.clone();
    // Interleaved adds; each response may carry the other device's changes.
    for round in 0..5 {
        let (id, k, got) = add_contact_seeing(&a, &ka, &format!("a{round}"), "A").await;
        ka = k;
        on_a.push(id);
        apply(&mut on_a, got);
        let (id, k, got) = add_contact_seeing(&b, &kb, &format!("b{round}"), "B").await;
        kb = k;
        on_b.push(id);
        apply(&mut on_b, got);
    }
    for (device, key, list) in [(&a, &mut ka, &mut on_a), (&b, &mut kb, &mut on_b)] {
        let (got, k) = drain(device, "8", key).await;
        *key = k;
        apply(list, got);
        list.sort();
    }
    assert_eq!(on_a, on_b);
    assert_eq!(on_a.len(), 13);
}

#[tokio::test]
async fn malformed_sync_bodies_are_refused_without_harm() {
    let server = start().await;
    let device = provisioned(&server, "14.1", "malformed").await;
    device.call("FolderSync", folder_sync_request("0")).await;
    // Truncated WBXML: 400 with 14.1's Status 102 in the body? The HTTP
    // layer answers InvalidWBXML for the command.
    let mut body = sync_request("0", "8");
    body.truncate(body.len() - 3);
    let r = device.call("Sync", body).await;
    assert_eq!(r.child_text("Status").as_deref(), Some("102"));
    // A Collection without a CollectionId: Status 4.
    let body = W::sync()
        .open(AIRSYNC, COLLECTIONS)
        .open(AIRSYNC, COLLECTION)
        .text(AIRSYNC, SYNC_KEY, "0")
        .end()
        .end()
        .done();
    let r = device.call("Sync", body).await;
    assert_eq!(r.child_text("Status").as_deref(), Some("4"));
    // The device can go on syncing.
    init(&device, "8").await;
}
