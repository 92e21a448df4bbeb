//! The mock's fault profiles (`MockConfig::profiles`, `eastest serve
//! --profile`) over real HTTP: each misbehaves the way its source document
//! says, the clean mock does not, profiles compose, and the command line
//! lists them and refuses unknown names with a suggestion. Request bodies
//! are built by hand from the MS-ASWBXML token tables.

mod common;

use common::{Device, W, folder_sync_request};
use eastest::mock::{MockConfig, MockServer, Profile};
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code page 0, AirSync.
const AS: u8 = 0;
const ADD: u8 = 0x07;
const CHANGE: u8 = 0x08;
const CLIENT_ID: u8 = 0x0C;
const SERVER_ID: u8 = 0x0D;
const COMMANDS: u8 = 0x16;
const COLLECTIONS: u8 = 0x1C;
const APPLICATION_DATA: u8 = 0x1D;
const SUPPORTED: u8 = 0x20;
const WINDOW_SIZE: u8 = 0x15;
// Code page 1, Contacts.
const CONTACTS: u8 = 1;
const FILE_AS: u8 = 0x1E;
const JOB_TITLE: u8 = 0x28;
// Code page 4, Calendar.
const CAL: u8 = 4;
const TIMEZONE: u8 = 0x05;
const END_TIME: u8 = 0x12;
const CAL_SUBJECT: u8 = 0x26;
const START_TIME: u8 = 0x27;
// Code page 9, Tasks.
const TASKS: u8 = 9;
const TASK_CATEGORIES: u8 = 0x08;
const TASK_CATEGORY: u8 = 0x09;
const TASK_SUBJECT: u8 = 0x20;
// Code page 21, ComposeMail.
const COMPOSE: u8 = 21;

// The mock's standard folders (src/mock/seed.rs).
const INBOX: &str = "1";
const TASKS_FOLDER: &str = "6";
const CALENDAR: &str = "7";
const CONTACTS_FOLDER: &str = "8";

/// TIME_ZONE_INFORMATION blobs (MS-ASDTYPE 2.7): Western Australia with
/// its 2006-2009 daylight rule, and New Zealand.
const WA: &str = "IP7//1cALgAgAEEAdQBzAHQAcgBhAGwAaQBhACAAUwB0AGEAbgBkAGEAcgBkACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAMAAAAFAAIAAAAAAAAAAAAAAFcALgAgAEEAdQBzAHQAcgBhAGwAaQBhACAARABhAHkAbABpAGcAaAB0ACAAVABpAG0AZQAAAAAAAAAAAAAAAAAAAAoAAAAFAAIAAAAAAAAAxP///w==";
const NZ: &str = "MP3//04AZQB3ACAAWgBlAGEAbABhAG4AZAAgAFMAdABhAG4AZABhAHIAZAAgAFQAaQBtAGUAAAAAAAAAAAAAAAAAAAAAAAQAAAABAAIAAAAAAAAAAAAAAE4AZQB3ACAAWgBlAGEAbABhAG4AZAAgAEQAYQB5AGwAaQBnAGgAdAAgAFQAaQBtAGUAAAAAAAAAAAAAAAAAAAAAAAkAAAAFAAIAAAAAAAAAxP///w==";

async fn start(profiles: &str) -> MockServer {
    MockServer::start(MockConfig {
        profiles: Profile::parse_list(profiles).expect("known profiles"),
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts")
}

/// A provisioned device that has synchronised the hierarchy.
async fn device(server: &MockServer, version: &'static str, id: &'static str) -> Device {
    let device = Device::provisioned(server, version, "alice", id).await;
    let fs = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(fs.child_text("Status").as_deref(), Some("1"));
    device
}

fn collections(sync: &Element) -> Vec<&Element> {
    sync.child("Collections")
        .map(|c| c.elements_named("Collection").collect())
        .unwrap_or_default()
}

fn collection<'a>(sync: &'a Element, id: &str) -> &'a Element {
    collections(sync)
        .into_iter()
        .find(|c| c.child_text("CollectionId").as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no collection {id} in {sync:?}"))
}

fn status(e: &Element) -> String {
    e.child_text("Status").unwrap_or_default()
}

/// Sync key 0 for `id`; the new key.
async fn init(device: &Device, id: &str) -> String {
    let sync = device
        .call(
            "Sync",
            W::sync()
                .open(AS, COLLECTIONS)
                .collection("0", id)
                .end()
                .end()
                .done(),
        )
        .await;
    let c = collection(&sync, id);
    assert_eq!(status(c), "1");
    c.child_text("SyncKey").expect("a key")
}

/// A Sync of one collection with `commands` (a function writing the
/// Commands' children).
async fn sync_commands(
    device: &Device,
    id: &str,
    key: &str,
    commands: impl FnOnce(W) -> W,
) -> Element {
    let body = commands(
        W::sync()
            .open(AS, COLLECTIONS)
            .collection(key, id)
            .open(AS, COMMANDS),
    )
    .end()
    .end()
    .end()
    .done();
    device.call("Sync", body).await
}

/// Everything a fresh device gets from `id` (all of it, in one window).
async fn read_all(device: &Device, id: &str) -> Element {
    let key = init(device, id).await;
    let body = W::sync()
        .open(AS, COLLECTIONS)
        .collection(&key, id)
        .text(AS, WINDOW_SIZE, "512")
        .end()
        .end()
        .done();
    device.call("Sync", body).await
}

/// The ApplicationData of the server Adds whose `page`/`subject` text is `subject`.
fn with_subject<'a>(sync: &'a Element, name: &str, subject: &str) -> Vec<&'a Element> {
    let mut found = Vec::new();
    for c in collections(sync) {
        for commands in c.elements_named("Commands") {
            for add in commands.elements_named("Add") {
                if let Some(data) = add.child("ApplicationData")
                    && data.child_text(name).as_deref() == Some(subject)
                {
                    found.push(data);
                }
            }
        }
    }
    found
}

fn add_contact(w: W, client_id: &str, file_as: &str) -> W {
    w.open(AS, ADD)
        .text(AS, CLIENT_ID, client_id)
        .open(AS, APPLICATION_DATA)
        .text(CONTACTS, FILE_AS, file_as)
        .text(CONTACTS, JOB_TITLE, "Editor")
        .end()
        .end()
}

fn add_appointment(
    w: W,
    client_id: &str,
    tz: Option<&str>,
    start: &str,
    end: &str,
    subject: &str,
) -> W {
    let w = w
        .open(AS, ADD)
        .text(AS, CLIENT_ID, client_id)
        .open(AS, APPLICATION_DATA);
    let w = match tz {
        Some(tz) => w.text(CAL, TIMEZONE, tz),
        None => w,
    };
    w.text(CAL, START_TIME, start)
        .text(CAL, END_TIME, end)
        .text(CAL, CAL_SUBJECT, subject)
        .end()
        .end()
}

#[tokio::test]
async fn kb967525_fails_only_the_collection_that_carries_supported() {
    for (profiles, want) in [("", "1"), ("kb967525", "4")] {
        let server = start(profiles).await;
        let d = device(&server, "14.1", "dev1").await;
        let body = W::sync()
            .open(AS, COLLECTIONS)
            .collection("0", CONTACTS_FOLDER)
            .open(AS, SUPPORTED)
            .empty(CONTACTS, JOB_TITLE)
            .end()
            .end()
            .collection("0", CALENDAR)
            .end()
            .end()
            .done();
        let sync = d.call("Sync", body).await;
        let contacts = collection(&sync, CONTACTS_FOLDER);
        assert_eq!(status(contacts), want, "profiles `{profiles}`");
        if want == "4" {
            // The key sent comes back: nothing changed for the client.
            assert_eq!(contacts.child_text("SyncKey").as_deref(), Some("0"));
        }
        assert_eq!(
            status(collection(&sync, CALENDAR)),
            "1",
            "the other collection syncs"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn kb923164_answers_status_5_and_duplicates_at_every_retry() {
    let server = start("kb923164").await;
    let d = device(&server, "14.1", "dev1").await;
    let key = init(&d, CALENDAR).await;
    for attempt in 1..=2 {
        let sync = sync_commands(&d, CALENDAR, &key, |w| {
            add_appointment(
                w,
                "sink-1",
                None,
                "20990412T080000Z",
                "20990412T083000Z",
                "sink test",
            )
        })
        .await;
        let c = collection(&sync, CALENDAR);
        assert_eq!(status(c), "5", "attempt {attempt}: SYNC_5");
        assert_eq!(
            c.child_text("SyncKey").as_deref(),
            Some(key.as_str()),
            "the key sent"
        );
        assert!(c.child("Responses").is_none());
    }
    let reader = device(&server, "14.1", "reader").await;
    let seen = read_all(&reader, CALENDAR).await;
    let copies = with_subject(&seen, "Subject", "sink test");
    assert_eq!(copies.len(), 2, "one calendar item per attempt: {seen:?}");
    for copy in copies {
        let categories = copy.child("Categories").expect("the sink's category");
        assert_eq!(
            categories.child_text("Category").as_deref(),
            Some("Some Extra Info")
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn kb810018_aborts_the_collection_for_a_task_with_denied_categories() {
    let server = start("kb810018").await;
    let d = device(&server, "14.1", "dev1").await;
    let key = init(&d, TASKS_FOLDER).await;
    let sync = sync_commands(&d, TASKS_FOLDER, &key, |w| {
        w.open(AS, ADD)
            .text(AS, CLIENT_ID, "t1")
            .open(AS, APPLICATION_DATA)
            .open(TASKS, TASK_CATEGORIES)
            .text(TASKS, TASK_CATEGORY, "Workflow")
            .end()
            .text(TASKS, TASK_SUBJECT, "with categories")
            .end()
            .end()
    })
    .await;
    let c = collection(&sync, TASKS_FOLDER);
    assert_eq!(status(c), "1", "adding is not affected");
    let key = c.child_text("SyncKey").unwrap();
    let task = c
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .and_then(|a| a.child_text("ServerId"))
        .expect("the new task's ServerId");
    let sync = sync_commands(&d, TASKS_FOLDER, &key, |w| {
        w.open(AS, CHANGE)
            .text(AS, SERVER_ID, &task)
            .open(AS, APPLICATION_DATA)
            .text(TASKS, TASK_SUBJECT, "renamed")
            .end()
            .end()
    })
    .await;
    let c = collection(&sync, TASKS_FOLDER);
    assert_eq!(status(c), "5", "the whole collection fails");
    assert_eq!(c.child_text("SyncKey").as_deref(), Some(key.as_str()));
    server.shutdown().await;
}

#[tokio::test]
async fn mis_version_refuses_every_command_but_provision() {
    let server = start("mis-version").await;
    let d = Device::provisioned(&server, "12.1", "alice", "old").await;
    let response = d.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let d = Device::provisioned(&server, "14.1", "alice", "new").await;
    let fs = d.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(status(&fs), "138", "VersionNotSupported");
    server.shutdown().await;
}

#[tokio::test]
async fn mis_restore_loses_each_devices_keys_once() {
    let server = start("mis-restore").await;
    let d = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let fs = d.call("FolderSync", folder_sync_request("0")).await;
    let key = fs.child_text("SyncKey").unwrap();
    let fs = d.call("FolderSync", folder_sync_request(&key)).await;
    assert_eq!(status(&fs), "9", "the key predates the restore");
    let fs = d.call("FolderSync", folder_sync_request("0")).await;
    let key = fs.child_text("SyncKey").unwrap();
    let fs = d.call("FolderSync", folder_sync_request(&key)).await;
    assert_eq!(status(&fs), "1", "keys given after the restore work");
    let key = init(&d, CONTACTS_FOLDER).await;
    let sync = d
        .call(
            "Sync",
            W::sync()
                .open(AS, COLLECTIONS)
                .collection(&key, CONTACTS_FOLDER)
                .end()
                .end()
                .done(),
        )
        .await;
    assert_eq!(status(collection(&sync, CONTACTS_FOLDER)), "1");
    server.shutdown().await;
}

#[tokio::test]
async fn mis_restore_answers_sync_status_3() {
    let server = start("mis-restore").await;
    let d = device(&server, "14.1", "dev1").await;
    let key = init(&d, CONTACTS_FOLDER).await;
    let sync = d
        .call(
            "Sync",
            W::sync()
                .open(AS, COLLECTIONS)
                .collection(&key, CONTACTS_FOLDER)
                .end()
                .end()
                .done(),
        )
        .await;
    assert_eq!(status(collection(&sync, CONTACTS_FOLDER)), "3");
    server.shutdown().await;
}

#[tokio::test]
async fn mis_unavailable_is_http_503_with_retry_after() {
    let server = start("mis-unavailable").await;
    let d = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    let response = d.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "30");
    server.shutdown().await;
}

#[tokio::test]
async fn mis_conversion_and_quota_refuse_adds_per_item() {
    for (profile, want) in [("mis-conversion", "6"), ("mis-quota", "9"), ("", "1")] {
        let server = start(profile).await;
        let d = device(&server, "12.1", "dev1").await;
        let key = init(&d, CONTACTS_FOLDER).await;
        let sync = sync_commands(&d, CONTACTS_FOLDER, &key, |w| {
            add_contact(w, "c1", "Doe, Jo")
        })
        .await;
        let c = collection(&sync, CONTACTS_FOLDER);
        assert_eq!(status(c), "1", "{profile}: the collection itself is fine");
        let add = c
            .child("Responses")
            .and_then(|r| r.child("Add"))
            .expect("the Add's result");
        assert_eq!(add.child_text("ClientId").as_deref(), Some("c1"));
        assert_eq!(status(add), want, "{profile}");
        assert_eq!(
            add.child("ServerId").is_some(),
            want == "1",
            "{profile}: saved or not"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn mis_conflict_answers_every_change_with_status_7_and_keeps_the_server_version() {
    let server = start("mis-conflict").await;
    let d = device(&server, "14.1", "dev1").await;
    let key = init(&d, CONTACTS_FOLDER).await;
    let sync = sync_commands(&d, CONTACTS_FOLDER, &key, |w| {
        add_contact(w, "c1", "Roe, Al")
    })
    .await;
    let c = collection(&sync, CONTACTS_FOLDER);
    let key = c.child_text("SyncKey").unwrap();
    let id = c
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .and_then(|a| a.child_text("ServerId"))
        .unwrap();
    let sync = sync_commands(&d, CONTACTS_FOLDER, &key, |w| {
        w.open(AS, CHANGE)
            .text(AS, SERVER_ID, &id)
            .open(AS, APPLICATION_DATA)
            .text(CONTACTS, FILE_AS, "Roe, Al")
            .text(CONTACTS, JOB_TITLE, "Chief")
            .end()
            .end()
    })
    .await;
    let change = collection(&sync, CONTACTS_FOLDER)
        .child("Responses")
        .and_then(|r| r.child("Change"))
        .expect("a Change result");
    assert_eq!(change.child_text("ServerId").as_deref(), Some(id.as_str()));
    assert_eq!(status(change), "7");
    let reader = device(&server, "14.1", "reader").await;
    let seen = read_all(&reader, CONTACTS_FOLDER).await;
    let contact = with_subject(&seen, "FileAs", "Roe, Al");
    assert_eq!(contact.len(), 1);
    assert_eq!(contact[0].child_text("JobTitle").as_deref(), Some("Editor"));
    server.shutdown().await;
}

#[tokio::test]
async fn mis_not_found_fails_the_inbox() {
    let server = start("mis-not-found").await;
    let d = device(&server, "16.1", "dev1").await;
    let body = W::sync()
        .open(AS, COLLECTIONS)
        .collection("0", INBOX)
        .end()
        .collection("0", TASKS_FOLDER)
        .end()
        .end()
        .done();
    let sync = d.call("Sync", body).await;
    assert_eq!(status(collection(&sync, INBOX)), "8");
    assert_eq!(
        status(collection(&sync, TASKS_FOLDER)),
        "1",
        "Tasks is not one MIS_8 names"
    );
    server.shutdown().await;
}

/// `<SendMail><ClientId/><Mime/></SendMail>` (ComposeMail, 14.0+).
fn send_mail(client_id: &str) -> Vec<u8> {
    W::new(COMPOSE, 0x05)
        .text(COMPOSE, 0x11, client_id)
        .text(
            COMPOSE,
            0x10,
            "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nHello\r\n",
        )
        .done()
}

#[tokio::test]
async fn sending_fails_over_quota_and_with_a_thousand_accepted_domains() {
    for (profile, want) in [("mis-quota", "113"), ("ur4-accepted-domains", "120")] {
        let server = start(profile).await;
        let d = Device::provisioned(&server, "14.1", "alice", "dev1").await;
        let answer = d.call("SendMail", send_mail("m1")).await;
        assert_eq!(status(&answer), want, "{profile}");
        server.shutdown().await;
    }
    let server = start("").await;
    let d = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let response = d.post("SendMail", send_mail("m1")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.bytes().await.unwrap().is_empty(),
        "the clean mock sends"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn time_zone_profiles_save_appointments_an_hour_late() {
    let cases = [
        (
            "ur4-wa-timezone",
            WA,
            "20070115T010000Z",
            "20070115T020000Z",
        ),
        ("ur4-nz-dst", NZ, "20071001T210000Z", "20071001T220000Z"),
    ];
    for (profile, tz, start_time, late) in cases {
        for (profiles, want) in [(profile, late), ("", start_time)] {
            let server = start(profiles).await;
            let d = device(&server, "14.1", "dev1").await;
            let key = init(&d, CALENDAR).await;
            let sync = sync_commands(&d, CALENDAR, &key, |w| {
                add_appointment(w, "a1", Some(tz), start_time, late, "tz test")
            })
            .await;
            assert_eq!(status(collection(&sync, CALENDAR)), "1");
            let reader = device(&server, "14.1", "reader").await;
            let seen = read_all(&reader, CALENDAR).await;
            let item = with_subject(&seen, "Subject", "tz test");
            assert_eq!(item.len(), 1);
            assert_eq!(
                item[0].child_text("StartTime").as_deref(),
                Some(want),
                "`{profiles}`"
            );
            server.shutdown().await;
        }
    }
    // Outside the changed weeks, the NZ profile is harmless.
    let server = start("ur4-nz-dst").await;
    let d = device(&server, "14.1", "dev1").await;
    let key = init(&d, CALENDAR).await;
    sync_commands(&d, CALENDAR, &key, |w| {
        add_appointment(
            w,
            "a1",
            Some(NZ),
            "20071101T210000Z",
            "20071101T220000Z",
            "november",
        )
    })
    .await;
    let reader = device(&server, "14.1", "reader").await;
    let seen = read_all(&reader, CALENDAR).await;
    assert_eq!(
        with_subject(&seen, "Subject", "november")[0]
            .child_text("StartTime")
            .as_deref(),
        Some("20071101T210000Z")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn profiles_compose() {
    // The outer profile answers before the inner one is consulted.
    let server = start("mis-unavailable,kb967525").await;
    let d = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let response = d.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    server.shutdown().await;

    // Both apply to one Sync: Supported fails its collection, the Add in the
    // other is refused for lack of space.
    let server = start("kb967525,mis-quota").await;
    let d = device(&server, "14.1", "dev1").await;
    let key = init(&d, CALENDAR).await;
    let body = W::sync()
        .open(AS, COLLECTIONS)
        .collection("0", CONTACTS_FOLDER)
        .open(AS, SUPPORTED)
        .empty(CONTACTS, JOB_TITLE)
        .end()
        .end()
        .collection(&key, CALENDAR)
        .open(AS, COMMANDS);
    let body = add_appointment(
        body,
        "a1",
        None,
        "20990101T100000Z",
        "20990101T110000Z",
        "x",
    )
    .end()
    .end()
    .end()
    .done();
    let sync = d.call("Sync", body).await;
    assert_eq!(status(collection(&sync, CONTACTS_FOLDER)), "4");
    let calendar = collection(&sync, CALENDAR);
    assert_eq!(status(calendar), "1");
    let add = calendar
        .child("Responses")
        .and_then(|r| r.child("Add"))
        .expect("the Add");
    assert_eq!(status(add), "9");
    server.shutdown().await;
}

fn eastest(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(args)
        .output()
        .expect("eastest runs")
}

#[test]
fn list_profiles_names_each_with_its_reference() {
    let out = eastest(&["serve", "--list-profiles"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), Profile::all().count(), "{text}");
    for (line, profile) in lines.iter().zip(Profile::all()) {
        assert!(line.starts_with(profile.name()), "{line}");
        assert!(line.contains(profile.reference()), "{line}");
        assert!(line.contains(profile.summary()), "{line}");
    }
    assert!(text.contains("kb967525") && text.contains("KB967525") && text.contains("Status 4"));
}

#[test]
fn an_unknown_profile_is_refused_with_a_suggestion() {
    let out = eastest(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--profile",
        "kb967525,mis-quto",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unknown fault profile `mis-quto`"), "{err}");
    assert!(err.contains("did you mean `mis-quota`?"), "{err}");
}
