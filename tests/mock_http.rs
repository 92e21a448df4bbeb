//! The mock server over real HTTP, as a device would meet it. Request bodies
//! are assembled by hand from the MS-ASWBXML tables (not by eastest's
//! encoder), so the mock is not only checked against itself.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{
    Device, POLICY_TYPE, basic, folder_sync_request, options, policy_of, provision_request, start,
};
use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};
use reqwest::StatusCode;

#[tokio::test]
async fn options_advertise_versions_and_commands() {
    let server = start().await;
    let http = common::http();
    let anonymous = http
        .request(reqwest::Method::OPTIONS, server.url())
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let r = options(&server).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["ms-asprotocolversions"],
        "12.1,14.0,14.1,16.0,16.1"
    );
    let commands = r.headers()["ms-asprotocolcommands"].to_str().unwrap();
    assert!(commands.split(',').any(|c| c == "Provision"), "{commands}");
    assert!(commands.split(',').any(|c| c == "FolderSync"), "{commands}");
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_401() {
    let server = start().await;
    let mut device = Device::new(&server, "14.1");
    device.password = "wrong";
    assert_eq!(
        device
            .post("FolderSync", folder_sync_request("0"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    device.user = "mallory";
    assert_eq!(
        device
            .post("FolderSync", folder_sync_request("0"))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    server.shutdown().await;
}

#[tokio::test]
async fn provision_then_folder_sync_in_14_1() {
    let server = start().await;
    let mut device = Device::new(&server, "14.1");

    // Before provisioning: Status 142 DeviceNotProvisioned, in the command's root.
    let refused = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(refused.name, "FolderSync");
    assert_eq!(refused.child_text("Status").as_deref(), Some("142"));

    // Phase one: the policy document, valid for 14.1, with a temporary key.
    let phase1 = device.call("Provision", provision_request(None)).await;
    assert_eq!(phase1.child_text("Status").as_deref(), Some("1"));
    let policy = policy_of(&phase1);
    assert_eq!(
        policy.child_text("PolicyType").as_deref(),
        Some(POLICY_TYPE)
    );
    assert_eq!(policy.child_text("Status").as_deref(), Some("1"));
    let doc = policy
        .child("Data")
        .and_then(|d| d.child("EASProvisionDoc"))
        .expect("EASProvisionDoc");
    assert!(doc.child("DevicePasswordEnabled").is_some());
    assert!(
        doc.child("MaxDevicePasswordFailedAttempts").is_some(),
        "exists up to 16.0"
    );
    let temporary = policy.child_text("PolicyKey").unwrap();

    // Acknowledging a wrong key: policy Status 5.
    let wrong = device
        .call("Provision", provision_request(Some("12345")))
        .await;
    assert_eq!(policy_of(&wrong).child_text("Status").as_deref(), Some("5"));
    assert!(policy_of(&wrong).child("PolicyKey").is_none());

    // The temporary key is not a policy key for other commands: 142 without a final key.
    device.policy_key = Some(temporary.clone());
    let early = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(early.child_text("Status").as_deref(), Some("142"));

    // Phase two: the final key.
    let phase2 = device
        .call("Provision", provision_request(Some(&temporary)))
        .await;
    let final_key = policy_of(&phase2).child_text("PolicyKey").unwrap();
    device.policy_key = Some(final_key.clone());

    // FolderSync from key 0: the standard folders.
    let sync = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(sync.child_text("Status").as_deref(), Some("1"));
    let key = sync.child_text("SyncKey").unwrap();
    assert_ne!(key, "0");
    let changes = sync.child("Changes").unwrap();
    let adds: Vec<_> = changes.elements_named("Add").collect();
    assert_eq!(changes.child_text("Count"), Some(adds.len().to_string()));
    let types: Vec<String> = adds.iter().map(|a| a.child_text("Type").unwrap()).collect();
    for t in ["2", "3", "4", "5", "6", "7", "8", "9"] {
        assert!(
            types.iter().any(|x| x == t),
            "folder type {t} missing: {types:?}"
        );
    }
    assert_eq!(
        adds[0].child_names(),
        ["ServerId", "ParentId", "DisplayName", "Type"]
    );

    // The current key again: no changes.
    let again = device.call("FolderSync", folder_sync_request(&key)).await;
    assert_eq!(again.child_text("Status").as_deref(), Some("1"));
    assert_eq!(
        again
            .child("Changes")
            .and_then(|c| c.child_text("Count"))
            .as_deref(),
        Some("0")
    );

    // An unknown key: Status 9.
    let bad = device
        .call("FolderSync", folder_sync_request("987654"))
        .await;
    assert_eq!(bad.child_text("Status").as_deref(), Some("9"));

    // A stale policy key after re-provisioning: Status 144 InvalidPolicyKey.
    device.provision().await;
    let stale_device = Device {
        policy_key: Some(final_key),
        ..Device::new(&server, "14.1")
    };
    let stale = stale_device
        .call("FolderSync", folder_sync_request("0"))
        .await;
    assert_eq!(stale.child_text("Status").as_deref(), Some("144"));
    server.shutdown().await;
}

#[tokio::test]
async fn version_12_1_signals_with_http_status() {
    let server = start().await;
    let mut device = Device::new(&server, "12.1");
    assert_eq!(
        device
            .post("FolderSync", folder_sync_request("0"))
            .await
            .status()
            .as_u16(),
        449
    );
    device.provision().await;
    let sync = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(sync.child_text("Status").as_deref(), Some("1"));
    // Malformed WBXML: HTTP 400 up to 12.1.
    let r = device
        .post("FolderSync", vec![0x03, 0x01, 0x6A, 0x00, 0x45])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    server.shutdown().await;
}

#[tokio::test]
async fn base64_request_line() {
    let server = start().await;
    let mut device = Device::new(&server, "14.1");
    device.provision().await;
    let key: u32 = device.policy_key.as_deref().unwrap().parse().unwrap();
    // MS-ASHTTP 2.2.1.1.1.1, by hand: version 141, command 9 (FolderSync),
    // locale 0x0409, DeviceId, policy key (4 bytes), DeviceType.
    let mut q = vec![141u8, 9, 0x09, 0x04];
    q.push(8);
    q.extend_from_slice(b"device01");
    q.push(4);
    q.extend_from_slice(&key.to_le_bytes());
    q.push(10);
    q.extend_from_slice(b"TestDevice");
    let url = format!("{}?{}", server.url(), BASE64.encode(&q));
    let r = common::http()
        .post(url)
        .header("Authorization", basic("alice", "alice-pass"))
        .header("Content-Type", "application/vnd.ms-sync.wbxml")
        .body(folder_sync_request("0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let root = Element::from_wbxml(&bytes, &DecodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
    assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    server.shutdown().await;
}

#[tokio::test]
async fn bad_requests() {
    let server = start().await;
    let mut device = Device::new(&server, "14.1");
    device.provision().await;
    let http = common::http();
    let auth = basic("alice", "alice-pass");

    // No query at all.
    let r = http
        .post(server.url())
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A version the server does not offer, or no version header.
    let mut old = Device::new(&server, "2.5");
    old.policy_key = device.policy_key.clone();
    assert_eq!(
        old.post("FolderSync", folder_sync_request("0"))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let r = http
        .post(format!(
            "{}?Cmd=FolderSync&User=alice&DeviceId=device01&DeviceType=T",
            server.url()
        ))
        .header("Authorization", &auth)
        .body(folder_sync_request("0"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("MS-ASProtocolVersion"));

    // A command the mock does not implement (GetHierarchy, 12.1 only, long
    // replaced by FolderSync): 501, never a fake answer.
    assert_eq!(
        device.post("GetHierarchy", Vec::new()).await.status(),
        StatusCode::NOT_IMPLEMENTED
    );

    // Wrong content type.
    let r = http
        .post(format!(
            "{}?Cmd=FolderSync&User=alice&DeviceId=device01&DeviceType=T",
            server.url()
        ))
        .header("Authorization", &auth)
        .header("MS-ASProtocolVersion", "14.1")
        .header("X-MS-PolicyKey", device.policy_key.clone().unwrap())
        .header("Content-Type", "text/xml")
        .body("<FolderSync/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Malformed WBXML from 14.0: Status 102 InvalidWBXML.
    let malformed = device
        .call("FolderSync", vec![0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56])
        .await;
    assert_eq!(malformed.child_text("Status").as_deref(), Some("102"));

    // A well-formed body with the wrong root: Status 103 InvalidXML.
    let wrong_root = device.call("FolderSync", provision_request(None)).await;
    assert_eq!(wrong_root.child_text("Status").as_deref(), Some("103"));

    // A body over the limit: 413.
    let r = device.post("FolderSync", vec![0u8; 17 * 1024 * 1024]).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    server.shutdown().await;
}
