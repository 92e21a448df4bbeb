//! The device-client referee (`eastest serve --validate`) over real HTTP:
//! a client that does everything right gets no finding, and each mistake
//! fires exactly the check meant for it. Request bodies are built token by
//! token (tests/common's `Body` and `W`), not with eastest's encoder.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use eastest::mock::referee::{Reaction, ReactionResult, RefereeConfig};
use eastest::mock::{MockConfig, MockServer, Profile};
use eastest::wbxml::Element;
use reqwest::StatusCode;

const UA: &str = "RefereeTestClient/1.0";

async fn server_with(config: MockConfig) -> MockServer {
    MockServer::start(MockConfig {
        referee: Some(RefereeConfig {
            min_poll_interval: Duration::from_secs(30),
            ..RefereeConfig::default()
        }),
        ..config
    })
    .await
    .expect("the mock starts")
}

async fn server() -> MockServer {
    server_with(MockConfig {
        // Pings that expire in a second keep the lifecycle short.
        heartbeat_range: (1, 3540),
        ..MockConfig::default()
    })
    .await
}

/// A request as a careful client sends it: the device's query, version,
/// policy key, and a User-Agent of its own.
async fn send(device: &Device, cmd: &str, body: Vec<u8>) -> reqwest::Response {
    device
        .request(cmd, body)
        .header("User-Agent", UA)
        .send()
        .await
        .expect("the mock answers")
}

async fn call(device: &Device, cmd: &str, body: Vec<u8>) -> Element {
    let response = send(device, cmd, body).await;
    assert_eq!(response.status(), StatusCode::OK, "{cmd}");
    let bytes = response.bytes().await.unwrap();
    if bytes.is_empty() {
        return Element {
            namespace: "AirSync",
            name: cmd.to_string(),
            children: Vec::new(),
        };
    }
    Element::from_wbxml(
        &bytes,
        &eastest::wbxml::DecodeOptions::lenient(device.version.parse().unwrap()),
    )
    .expect("WBXML")
}

/// Both Provision phases, with a User-Agent; keeps the final key.
async fn provision(device: &mut Device) {
    let phase1 = call(device, "Provision", provision_request(None)).await;
    let temporary = policy_of(&phase1).child_text("PolicyKey").unwrap();
    let phase2 = call(device, "Provision", provision_request(Some(&temporary))).await;
    device.policy_key = Some(policy_of(&phase2).child_text("PolicyKey").unwrap());
}

async fn provisioned(server: &MockServer, id: &'static str) -> Device {
    let mut device = Device::of(server, "14.1", "alice", id);
    provision(&mut device).await;
    device
}

/// FolderSync from 0; the new key.
async fn folders(device: &Device) -> String {
    call(device, "FolderSync", folder_sync_request("0"))
        .await
        .child_text("SyncKey")
        .unwrap()
}

/// Sync of one collection with `key`; the collection's new key.
async fn sync(device: &Device, key: &str, id: &str) -> Element {
    call(device, "Sync", sync_request(key, id)).await
}

fn key_of(sync: &Element) -> String {
    only_collection(sync).child_text("SyncKey").unwrap()
}

/// The check ids of every finding of every session.
fn ids(server: &MockServer) -> Vec<&'static str> {
    let referee = server.referee().expect("a referee");
    referee
        .all_findings()
        .iter()
        .map(|(_, f)| f.check.id)
        .collect()
}

fn ping_request(beat: &str, folder: &str) -> Vec<u8> {
    Body::new(13, 0x05)
        .text(0x08, beat)
        .open(0x09)
        .open(0x0A)
        .text(0x0B, folder)
        .text(0x0C, "Email")
        .end()
        .end()
        .done()
}

fn estimate_request(key: &str, id: &str) -> Vec<u8> {
    // GetItemEstimate (page 6): Collections, Collection, airsync:SyncKey
    // first, then CollectionId.
    W::new(6, 0x05)
        .open(6, 0x07)
        .open(6, 0x08)
        .text(0, 0x0B, key)
        .text(6, 0x0A, id)
        .end()
        .end()
        .done()
}

#[tokio::test]
async fn a_correct_client_gets_no_finding() {
    let server = server().await;
    let options = http()
        .request(reqwest::Method::OPTIONS, server.url())
        .header("Authorization", basic("alice", "alice-pass"))
        .header("User-Agent", UA)
        .send()
        .await
        .unwrap();
    assert_eq!(options.status(), StatusCode::OK);
    let device = provisioned(&server, "good1").await;
    let folder_key = folders(&device).await;
    let first = sync(&device, "0", "1").await;
    let mut key = key_of(&first);
    // Fetch until nothing is left.
    loop {
        let answer = sync(&device, &key, "1").await;
        if answer.children.is_empty() {
            break;
        }
        let collection = only_collection(&answer);
        key = key_of(&answer);
        if collection.child("MoreAvailable").is_none() {
            break;
        }
    }
    let estimate = call(&device, "GetItemEstimate", estimate_request(&key, "1")).await;
    assert_eq!(estimate.name, "GetItemEstimate");
    let ping = call(&device, "Ping", ping_request("1", "1")).await;
    assert_eq!(
        ping.child_text("Status").as_deref(),
        Some("1"),
        "the Ping expired"
    );
    let again = call(&device, "FolderSync", folder_sync_request(&folder_key)).await;
    assert_eq!(again.child_text("Status").as_deref(), Some("1"));

    assert_eq!(ids(&server), Vec::<&str>::new());
    let referee = server.referee().unwrap();
    let session = referee
        .sessions()
        .into_iter()
        .find(|s| s.key.device_id.as_deref() == Some("good1"))
        .unwrap();
    let applied: BTreeSet<&str> = session.applied.iter().copied().collect();
    for id in [
        "http.request-line",
        "http.protocol-version",
        "http.content-type",
        "http.policy-key",
        "http.user-agent",
        "wbxml.valid",
        "wbxml.root",
        "wbxml.required-element",
        "wbxml.element-order",
        "provision.phase-order",
        "provision.ack-key",
        "foldersync.synckey",
        "sync.synckey",
        "sync.uninitialised-collection",
        "ping.heartbeat-range",
    ] {
        assert!(applied.contains(id), "{id} applied: {applied:?}");
    }
    server.shutdown().await;
}

/// Runs `mistake` on a provisioned device of a fresh server and returns the
/// ids of every finding.
macro_rules! only {
    ($server:expr, [$($id:expr),*]) => {{
        let found = ids(&$server);
        let expected: Vec<&str> = vec![$($id),*];
        assert_eq!(found, expected, "findings");
        $server.shutdown().await;
    }};
}

#[tokio::test]
async fn no_user_agent() {
    let server = server().await;
    let mut device = Device::of(&server, "14.1", "alice", "noua");
    device.provision().await; // tests/common sends no User-Agent
    let found: BTreeSet<&str> = ids(&server).into_iter().collect();
    assert_eq!(found, BTreeSet::from(["http.user-agent"]));
    server.shutdown().await;
}

#[tokio::test]
async fn no_protocol_version_header() {
    let server = server().await;
    let device = provisioned(&server, "nover").await;
    let response = http()
        .post(format!(
            "{}?Cmd=FolderSync&User=alice&DeviceId=nover&DeviceType=T",
            server.url()
        ))
        .header("Authorization", basic("alice", "alice-pass"))
        .header("Content-Type", "application/vnd.ms-sync.wbxml")
        .header("X-MS-PolicyKey", device.policy_key.clone().unwrap())
        .header("User-Agent", UA)
        .body(folder_sync_request("0"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    only!(server, ["http.protocol-version"]);
}

#[tokio::test]
async fn wrong_content_type() {
    let server = server().await;
    let device = provisioned(&server, "ctype").await;
    let response = device
        .request_with("FolderSync", "", "text/xml", folder_sync_request("0"))
        .header("User-Agent", UA)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    only!(server, ["http.content-type"]);
}

#[tokio::test]
async fn a_stale_policy_key() {
    let server = server().await;
    let mut device = provisioned(&server, "stale").await;
    device.policy_key = Some("12345".to_string());
    let response = send(&device, "FolderSync", folder_sync_request("0")).await;
    assert_eq!(response.status(), StatusCode::OK, "14.1: Status 144");
    only!(server, ["http.policy-key"]);
}

#[tokio::test]
async fn acknowledging_another_key() {
    let server = server().await;
    let device = Device::of(&server, "14.1", "alice", "ackkey");
    call(&device, "Provision", provision_request(None)).await;
    call(&device, "Provision", provision_request(Some("1"))).await;
    only!(server, ["provision.ack-key"]);
}

#[tokio::test]
async fn a_command_after_status_142() {
    let server = server().await;
    let device = Device::of(&server, "14.1", "alice", "no449");
    for _ in 0..2 {
        let answer = call(&device, "FolderSync", folder_sync_request("0")).await;
        assert_eq!(answer.child_text("Status").as_deref(), Some("142"));
    }
    only!(server, ["provision.after-449"]);
}

#[tokio::test]
async fn a_stale_sync_key_then_not_starting_over() {
    let server = server().await;
    let device = provisioned(&server, "keys").await;
    folders(&device).await;
    let key = key_of(&sync(&device, "0", "1").await);
    let answer = sync(&device, "999999", "1").await;
    assert_eq!(
        only_collection(&answer).child_text("Status").as_deref(),
        Some("3")
    );
    sync(&device, &key, "1").await;
    only!(server, ["sync.synckey", "sync.reset-after-status-3"]);
}

#[tokio::test]
async fn a_folder_sync_key_never_issued() {
    let server = server().await;
    let device = provisioned(&server, "fkeys").await;
    folders(&device).await;
    let answer = call(&device, "FolderSync", folder_sync_request("777")).await;
    assert_eq!(answer.child_text("Status").as_deref(), Some("9"));
    only!(server, ["foldersync.synckey"]);
}

#[tokio::test]
async fn supported_with_a_non_zero_key() {
    let server = server().await;
    let device = provisioned(&server, "ghost").await;
    folders(&device).await;
    let key = key_of(&sync(&device, "0", "8").await);
    let body = W::sync()
        .open(0, 0x1C)
        .open(0, 0x0F)
        .text(0, 0x0B, &key)
        .text(0, 0x12, "8")
        .empty(0, 0x20)
        .end()
        .end()
        .done();
    call(&device, "Sync", body).await;
    only!(server, ["sync.supported-nonzero-key"]);
}

#[tokio::test]
async fn wbxml_that_does_not_decode() {
    let server = server().await;
    let device = provisioned(&server, "bad").await;
    let mut body = folder_sync_request("0");
    body.truncate(body.len() - 2); // no END for SyncKey and the root
    send(&device, "FolderSync", body).await;
    only!(server, ["wbxml.valid"]);
}

#[tokio::test]
async fn collection_id_before_sync_key() {
    let server = server().await;
    let device = provisioned(&server, "order").await;
    folders(&device).await;
    let body = W::sync()
        .open(0, 0x1C)
        .open(0, 0x0F)
        .text(0, 0x12, "1")
        .text(0, 0x0B, "0")
        .end()
        .end()
        .done();
    send(&device, "Sync", body).await;
    only!(server, ["wbxml.element-order"]);
}

#[tokio::test]
async fn folder_sync_without_sync_key() {
    let server = server().await;
    let device = provisioned(&server, "nokey").await;
    send(&device, "FolderSync", Body::new(7, 0x16).done()).await;
    only!(server, ["wbxml.required-element"]);
}

#[tokio::test]
async fn the_wrong_root() {
    let server = server().await;
    let device = provisioned(&server, "root").await;
    send(&device, "Sync", folder_sync_request("0")).await;
    only!(server, ["wbxml.root"]);
}

#[tokio::test]
async fn a_heartbeat_out_of_range() {
    let server = server_with(MockConfig::default()).await;
    let device = provisioned(&server, "beat").await;
    folders(&device).await;
    let answer = call(&device, "Ping", ping_request("5", "1")).await;
    assert_eq!(answer.child_text("Status").as_deref(), Some("5"));
    only!(server, ["ping.heartbeat-range"]);
}

#[tokio::test]
async fn not_waiting_out_retry_after() {
    let server = server_with(MockConfig {
        profiles: Profile::parse_list("mis-unavailable").unwrap(),
        ..MockConfig::default()
    })
    .await;
    let device = provisioned(&server, "retry").await;
    for _ in 0..2 {
        let response = send(&device, "FolderSync", folder_sync_request("0")).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    only!(server, ["http.retry-after"]);
}

#[tokio::test]
async fn busy_polling_folder_sync() {
    let server = server().await;
    let device = provisioned(&server, "busy").await;
    let key = folders(&device).await;
    call(&device, "FolderSync", folder_sync_request(&key)).await;
    call(&device, "FolderSync", folder_sync_request(&key)).await;
    only!(server, ["polling.busy"]);
}

#[tokio::test]
async fn secrets_stay_out_of_the_reports_which_are_written() {
    let server = server().await;
    let device = provisioned(&server, "secret").await;
    let final_key = device.policy_key.clone().unwrap();
    // Settings DevicePassword/Set/Password (page 18).
    let settings = Body::new(18, 0x05)
        .open(0x14)
        .open(0x08)
        .text(0x15, "s3cret-device-pw")
        .end()
        .end()
        .done();
    call(&device, "Settings", settings).await;
    // A mistake, so that the JUnit report has a failure with details.
    send(&device, "Sync", folder_sync_request("0")).await;

    let referee = server.referee().unwrap();
    let dir = std::env::temp_dir().join(format!("eastest-referee-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let reaction = Reaction {
        scenario: "demo".into(),
        step: "status-3".into(),
        device_id: "secret".into(),
        expected: "SyncKey 0".into(),
        reference: "MS-ASCMD 2.2.3.177.17".into(),
        result: ReactionResult::NotObserved {
            detail: "the session ended".into(),
        },
    };
    let folders = referee
        .write_reports(&dir, std::slice::from_ref(&reaction))
        .unwrap();
    let folder = dir.join("alice-secret");
    assert!(folders.contains(&folder), "{folders:?}");
    let mut all = String::new();
    for name in ["summary.txt", "junit.xml", "report.json", "trace.txt"] {
        let text = std::fs::read_to_string(folder.join(name)).unwrap();
        assert!(!text.is_empty(), "{name}");
        all.push_str(&text);
    }
    all.push_str(&std::fs::read_to_string(dir.join("index.txt")).unwrap());
    all.push_str(&std::fs::read_to_string(dir.join("index.json")).unwrap());
    let basic_credentials = basic("alice", "alice-pass");
    let encoded = basic_credentials.trim_start_matches("Basic ");
    for secret in [
        "alice-pass",
        encoded,
        "s3cret-device-pw",
        final_key.as_str(),
    ] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
    let trace = std::fs::read_to_string(folder.join("trace.txt")).unwrap();
    assert!(trace.contains("Basic <redacted>"));
    assert!(trace.contains("<Password>[redacted]</Password>"), "{trace}");
    assert!(
        trace.contains("<SyncKey>0</SyncKey>"),
        "the trace holds the decoded XML"
    );
    let junit = std::fs::read_to_string(folder.join("junit.xml")).unwrap();
    assert!(
        junit.contains("wbxml.root") && junit.contains("<failure"),
        "{junit}"
    );
    assert!(junit.contains("reaction: demo / status-3"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(json["findings"][0]["check"]["id"], "wbxml.root");
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
}

#[test]
fn the_cli_lists_checks_and_writes_reports_at_ctrl_c() {
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(["serve", "--list-checks"])
        .output()
        .unwrap();
    assert!(list.status.success());
    let text = String::from_utf8(list.stdout).unwrap();
    for id in [
        "http.policy-key",
        "sync.synckey",
        "polling.busy",
        "provision.wipe-ack",
    ] {
        assert!(text.contains(id), "{id} in --list-checks");
    }

    let dir = std::env::temp_dir().join(format!("eastest-referee-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut serve = ServeProcess::spawn(&["--report", dir.to_str().unwrap()], &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        http()
            .post(format!(
                "{}?Cmd=FolderSync&User=alice&DeviceId=cli1&DeviceType=T",
                serve.url
            ))
            .header("Authorization", basic("alice", "alice-pass"))
            .header("MS-ASProtocolVersion", "14.1")
            .header("Content-Type", "application/vnd.ms-sync.wbxml")
            .body(folder_sync_request("0"))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, StatusCode::OK);
    serve.interrupt();
    let rest: Vec<String> = serve.lines.by_ref().map(|l| l.unwrap()).collect();
    assert!(serve.child.wait().unwrap().success());
    let rest = rest.join("\n");
    assert!(rest.contains("referee: alice-cli1"), "{rest}");
    assert!(rest.contains("http.user-agent"), "{rest}");
    assert!(dir.join("alice-cli1").join("junit.xml").exists());
    assert!(dir.join("index.txt").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
