//! The mock's test hooks (`/_eastest/remote-wipe`, `/_eastest/reset`), remote
//! wipe through Provision (MS-ASPROV 3.1.5.1.2, 3.2.5.1.2) and
//! `settings:DeviceInformation` inside Provision, over real HTTP. Request
//! bodies are assembled by hand from the MS-ASWBXML tables (code page 14
//! Provision, 18 Settings, 7 FolderHierarchy).

mod common;

use common::{
    CONTENT, Device, END, HEADER, POLICY_TYPE, STR_I, SWITCH_PAGE, basic, folder_sync_request,
    str_i,
};
use eastest::mock::{MockConfig, MockServer};
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code page 14, Provision.
const PAGE_PROVISION: u8 = 0x0E;
const PROVISION: u8 = 0x05;
const POLICIES: u8 = 0x06;
const POLICY: u8 = 0x07;
const POLICY_TYPE_TAG: u8 = 0x08;
const STATUS: u8 = 0x0B;
const REMOTE_WIPE: u8 = 0x0C;
const ACCOUNT_ONLY_REMOTE_WIPE: u8 = 0x3B;
// Code page 18, Settings.
const PAGE_SETTINGS: u8 = 0x12;
const SETTINGS_SET: u8 = 0x08;
const DEVICE_INFORMATION: u8 = 0x16;
const MODEL: u8 = 0x17;
const FRIENDLY_NAME: u8 = 0x19;
// Code page 7, FolderHierarchy.
const PAGE_FOLDER_HIERARCHY: u8 = 0x07;
const DISPLAY_NAME: u8 = 0x07;
const PARENT_ID: u8 = 0x09;
const TYPE: u8 = 0x0A;
const SYNC_KEY: u8 = 0x12;
const FOLDER_CREATE: u8 = 0x13;

async fn start_with_hooks() -> MockServer {
    MockServer::start(MockConfig {
        test_hooks: true,
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts")
}

/// POSTs to `path` (with its query) as `user`; the status and the body text.
async fn hook(server: &MockServer, user: &str, path: &str) -> (StatusCode, String) {
    let password = format!("{user}-pass");
    let response = common::http()
        .post(format!("http://{}{path}", server.addr()))
        .header("Authorization", basic(user, &password))
        .send()
        .await
        .expect("the mock answers");
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// `<Provision/>`: a tag without content, what a device sends after
/// Status 140 / HTTP 449 (MS-ASPROV 3.1.5.1.1).
fn empty_provision() -> Vec<u8> {
    let mut b = HEADER.to_vec();
    b.extend_from_slice(&[SWITCH_PAGE, PAGE_PROVISION, PROVISION]);
    b
}

/// `<Provision><RemoteWipe><Status>status</Status></RemoteWipe></Provision>`,
/// or with `AccountOnlyRemoteWipe` when `tag` says so.
fn wipe_ack(tag: u8, status: &str) -> Vec<u8> {
    let mut b = HEADER.to_vec();
    b.extend_from_slice(&[
        SWITCH_PAGE,
        PAGE_PROVISION,
        PROVISION | CONTENT,
        tag | CONTENT,
        STATUS | CONTENT,
    ]);
    str_i(&mut b, status);
    b.extend_from_slice(&[END, END, END]);
    b
}

/// Provision phase one preceded by `settings:DeviceInformation/Set` with a
/// Model and a FriendlyName.
fn provision_with_device_information() -> Vec<u8> {
    let mut b = HEADER.to_vec();
    b.extend_from_slice(&[SWITCH_PAGE, PAGE_PROVISION, PROVISION | CONTENT]);
    b.extend_from_slice(&[
        SWITCH_PAGE,
        PAGE_SETTINGS,
        DEVICE_INFORMATION | CONTENT,
        SETTINGS_SET | CONTENT,
        MODEL | CONTENT,
    ]);
    str_i(&mut b, "Test Phone");
    b.extend_from_slice(&[END, FRIENDLY_NAME | CONTENT]);
    str_i(&mut b, "Alice's phone");
    b.extend_from_slice(&[END, END, END]);
    b.extend_from_slice(&[
        SWITCH_PAGE,
        PAGE_PROVISION,
        POLICIES | CONTENT,
        POLICY | CONTENT,
        POLICY_TYPE_TAG | CONTENT,
    ]);
    str_i(&mut b, POLICY_TYPE);
    b.extend_from_slice(&[END, END, END, END]);
    b
}

/// FolderCreate of a user folder (type 12) named `name` at the top level.
fn folder_create(key: &str, name: &str) -> Vec<u8> {
    let mut b = HEADER.to_vec();
    b.extend_from_slice(&[SWITCH_PAGE, PAGE_FOLDER_HIERARCHY, FOLDER_CREATE | CONTENT]);
    for (tag, text) in [
        (SYNC_KEY, key),
        (PARENT_ID, "0"),
        (DISPLAY_NAME, name),
        (TYPE, "12"),
    ] {
        b.extend_from_slice(&[tag | CONTENT, STR_I]);
        b.extend_from_slice(text.as_bytes());
        b.extend_from_slice(&[0x00, END]);
    }
    b.push(END);
    b
}

/// The display names a full FolderSync lists.
fn folder_names(folder_sync: &Element) -> Vec<String> {
    let changes = folder_sync.child("Changes").expect("Changes");
    changes
        .elements_named("Add")
        .map(|a| a.child_text("DisplayName").expect("DisplayName"))
        .collect()
}

async fn folder_sync_status(device: &Device) -> String {
    let r = device.call("FolderSync", folder_sync_request("0")).await;
    r.child_text("Status").expect("Status")
}

#[tokio::test]
async fn hooks_are_404_when_disabled_like_any_unknown_path() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let unknown = hook(&server, "alice", "/no-such-path").await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND);
    for path in ["/_eastest/remote-wipe?device=device01", "/_eastest/reset"] {
        assert_eq!(hook(&server, "alice", path).await, unknown, "{path}");
    }
    // And nothing happened: the device still syncs.
    assert_eq!(folder_sync_status(&device).await, "1");
    server.shutdown().await;
}

#[tokio::test]
async fn remote_wipe_hook_checks_credentials_device_and_parameters() {
    let server = start_with_hooks().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;

    let anonymous = common::http()
        .post(format!(
            "http://{}/_eastest/remote-wipe?device=device01",
            server.addr()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let (status, why) = hook(&server, "alice", "/_eastest/remote-wipe?device=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(why.contains("nope"), "{why}");

    for bad in [
        "/_eastest/remote-wipe",
        "/_eastest/remote-wipe?device=",
        "/_eastest/remote-wipe?device=device01&account-only=yes",
        "/_eastest/remote-wipe?device=device01&colour=red",
        "/_eastest/remote-wipe?device=device%zz",
        "/_eastest/reset?everything=1",
    ] {
        let (status, why) = hook(&server, "alice", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(!why.trim().is_empty(), "{bad}: a reason");
    }
    // None of them marked the device.
    assert_eq!(folder_sync_status(&device).await, "1");

    // An account-only wipe needs 16.1; this device speaks 14.1.
    let (status, why) = hook(
        &server,
        "alice",
        "/_eastest/remote-wipe?device=device01&account-only=1",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(why.contains("16.1"), "{why}");
    assert_eq!(folder_sync_status(&device).await, "1");
    server.shutdown().await;
}

#[tokio::test]
async fn remote_wipe_in_14_1() {
    let server = start_with_hooks().await;
    let mut device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    assert_eq!(folder_sync_status(&device).await, "1");

    let (status, body) = hook(&server, "alice", "/_eastest/remote-wipe?device=device01").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, "");

    // Any command now gets Status 140 RemoteWipeRequested, even with a
    // current policy key.
    let refused = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(refused.child_names(), ["Status"]);
    assert_eq!(refused.child_text("Status").as_deref(), Some("140"));

    // A device asking for the policy gets it, with the directive after it.
    let asked = device
        .call("Provision", common::provision_request(None))
        .await;
    assert_eq!(asked.child_names(), ["Status", "Policies", "RemoteWipe"]);

    // The empty Provision gets Status 1 and <RemoteWipe/> only.
    let directive = device.call("Provision", empty_provision()).await;
    assert_eq!(directive.child_names(), ["Status", "RemoteWipe"]);
    assert_eq!(directive.child_text("Status").as_deref(), Some("1"));
    let wipe = directive.child("RemoteWipe").unwrap();
    assert!(wipe.children.is_empty(), "an empty RemoteWipe: {wipe:?}");

    // A failed wipe: Status 2 and the directive again; still pending.
    let failed = device.call("Provision", wipe_ack(REMOTE_WIPE, "2")).await;
    assert_eq!(failed.child_names(), ["Status", "RemoteWipe"]);
    assert_eq!(failed.child_text("Status").as_deref(), Some("2"));
    assert_eq!(folder_sync_status(&device).await, "140");

    // A malformed acknowledgement: protocol error.
    let bad = device.call("Provision", wipe_ack(REMOTE_WIPE, "7")).await;
    assert_eq!(bad.child_names(), ["Status"]);
    assert_eq!(bad.child_text("Status").as_deref(), Some("2"));
    // AccountOnlyRemoteWipe is not a 14.1 tag at all: InvalidWBXML.
    let other = device
        .call("Provision", wipe_ack(ACCOUNT_ONLY_REMOTE_WIPE, "1"))
        .await;
    assert_eq!(other.child_text("Status").as_deref(), Some("102"));
    assert_eq!(folder_sync_status(&device).await, "140");

    // Wiped: Status 1, nothing else; the wipe is cleared.
    let done = device.call("Provision", wipe_ack(REMOTE_WIPE, "1")).await;
    assert_eq!(done.child_names(), ["Status"]);
    assert_eq!(done.child_text("Status").as_deref(), Some("1"));

    // The device starts over: its old key is gone (142), an empty Provision
    // is a protocol error again, and a normal handshake works.
    assert_eq!(folder_sync_status(&device).await, "142");
    let empty = device.call("Provision", empty_provision()).await;
    assert_eq!(empty.child_names(), ["Status"]);
    assert_eq!(empty.child_text("Status").as_deref(), Some("2"));
    device.provision().await;
    let synced = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(synced.child_text("Status").as_deref(), Some("1"));
    assert_eq!(folder_names(&synced).len(), 10);

    // A second acknowledgement, with nothing pending: protocol error.
    let stray = device.call("Provision", wipe_ack(REMOTE_WIPE, "1")).await;
    assert_eq!(stray.child_text("Status").as_deref(), Some("2"));
    server.shutdown().await;
}

#[tokio::test]
async fn remote_wipe_in_12_1_is_http_449() {
    let server = start_with_hooks().await;
    let mut device = Device::provisioned(&server, "12.1", "alice", "device01").await;
    let (status, _) = hook(&server, "alice", "/_eastest/remote-wipe?device=device01").await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let refused = device.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(refused.status().as_u16(), 449);

    let directive = device.call("Provision", empty_provision()).await;
    assert_eq!(directive.child_names(), ["Status", "RemoteWipe"]);
    let done = device.call("Provision", wipe_ack(REMOTE_WIPE, "1")).await;
    assert_eq!(done.child_text("Status").as_deref(), Some("1"));

    device.provision().await;
    let synced = device.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(synced.status(), StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn account_only_remote_wipe_in_16_1() {
    let server = start_with_hooks().await;
    let mut device = Device::provisioned(&server, "16.1", "alice", "device01").await;
    let (status, _) = hook(
        &server,
        "alice",
        "/_eastest/remote-wipe?device=device01&account-only=1",
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    assert_eq!(folder_sync_status(&device).await, "140");
    let directive = device.call("Provision", empty_provision()).await;
    assert_eq!(directive.child_names(), ["Status", "AccountOnlyRemoteWipe"]);
    assert_eq!(directive.child_text("Status").as_deref(), Some("1"));

    // A full-wipe acknowledgement does not answer an account-only wipe.
    let wrong = device.call("Provision", wipe_ack(REMOTE_WIPE, "1")).await;
    assert_eq!(wrong.child_text("Status").as_deref(), Some("2"));
    assert_eq!(folder_sync_status(&device).await, "140");

    let done = device
        .call("Provision", wipe_ack(ACCOUNT_ONLY_REMOTE_WIPE, "1"))
        .await;
    assert_eq!(done.child_names(), ["Status"]);
    assert_eq!(done.child_text("Status").as_deref(), Some("1"));
    device.provision().await;
    assert_eq!(folder_sync_status(&device).await, "1");
    server.shutdown().await;
}

#[tokio::test]
async fn another_user_cannot_wipe_alices_device() {
    let server = start_with_hooks().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let (status, _) = hook(&server, "bob", "/_eastest/remote-wipe?device=device01").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "bob has no device01");

    // Once bob has a device01 of his own, his wipe reaches his device only.
    let bob = Device::provisioned(&server, "14.1", "bob", "device01").await;
    let (status, _) = hook(&server, "bob", "/_eastest/remote-wipe?device=device01").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(folder_sync_status(&bob).await, "140");
    assert_eq!(folder_sync_status(&alice).await, "1");
    server.shutdown().await;
}

#[tokio::test]
async fn reset_restores_the_standard_folders_for_that_user_only() {
    let server = start_with_hooks().await;
    let mut alice = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let bob = Device::provisioned(&server, "14.1", "bob", "device01").await;
    for device in [&alice, &bob] {
        let synced = device.call("FolderSync", folder_sync_request("0")).await;
        let key = synced.child_text("SyncKey").expect("SyncKey");
        let created = device
            .call("FolderCreate", folder_create(&key, "Projects"))
            .await;
        assert_eq!(created.child_text("Status").as_deref(), Some("1"));
    }
    let before = alice.call("FolderSync", folder_sync_request("0")).await;
    assert!(folder_names(&before).contains(&"Projects".to_string()));

    let (status, body) = hook(&server, "alice", "/_eastest/reset").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, "");

    // alice's devices start over: not provisioned any more.
    assert_eq!(folder_sync_status(&alice).await, "142");
    alice.provision().await;
    let after = alice.call("FolderSync", folder_sync_request("0")).await;
    let names = folder_names(&after);
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(!names.contains(&"Projects".to_string()), "{names:?}");
    assert!(names.contains(&"Inbox".to_string()), "{names:?}");

    // bob keeps his folder and his provisioning.
    let bobs = bob.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(bobs.child_text("Status").as_deref(), Some("1"));
    assert!(folder_names(&bobs).contains(&"Projects".to_string()));
    server.shutdown().await;
}

#[tokio::test]
async fn reset_clears_a_pending_wipe() {
    let server = start_with_hooks().await;
    let mut device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    hook(&server, "alice", "/_eastest/remote-wipe?device=device01").await;
    assert_eq!(folder_sync_status(&device).await, "140");
    let (status, _) = hook(&server, "alice", "/_eastest/reset").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    device.provision().await;
    assert_eq!(folder_sync_status(&device).await, "1");
    server.shutdown().await;
}

#[tokio::test]
async fn device_information_in_provision_from_14_1() {
    let server = common::start().await;
    for version in ["14.1", "16.0", "16.1"] {
        let device = Device::of(&server, version, "alice", "device01");
        let r = device
            .call("Provision", provision_with_device_information())
            .await;
        // settings:DeviceInformation first, then Status and Policies
        // (MS-ASPROV 3.2.5.1.1).
        assert_eq!(
            r.child_names(),
            ["DeviceInformation", "Status", "Policies"],
            "{version}"
        );
        let info = r.child("DeviceInformation").unwrap();
        assert_eq!(info.namespace, "Settings", "{version}");
        assert_eq!(info.child_names(), ["Status"], "{version}");
        assert_eq!(info.child_text("Status").as_deref(), Some("1"), "{version}");
        assert!(
            common::policy_of(&r).child_text("PolicyKey").is_some(),
            "{version}: the handshake goes on"
        );
    }
    // Not in Provision before 14.1 (MS-ASPROV 2.2.2.53): a protocol error.
    for version in ["12.1", "14.0"] {
        let device = Device::of(&server, version, "alice", "device01");
        let r = device
            .call("Provision", provision_with_device_information())
            .await;
        assert_eq!(r.child_names(), ["Status"], "{version}");
        assert_eq!(r.child_text("Status").as_deref(), Some("2"), "{version}");
    }
    server.shutdown().await;
}
