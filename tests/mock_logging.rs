//! `eastest serve`'s request log (stderr, `EASTEST_LOG`): one line per
//! request, and never a secret: no password, no `Authorization` value, no
//! policy key.

mod common;

use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Device, ServeProcess, folder_sync_request, policy_of, provision_request};
use reqwest::StatusCode;

/// alice's device on the server at `url`, with `password`.
fn device(url: &str, password: &'static str) -> Device {
    Device {
        http: common::http(),
        url: url.to_string(),
        user: "alice",
        password,
        device_id: "logdevice01",
        version: "14.1",
        policy_key: None,
        key: "0".to_string(),
    }
}

#[tokio::test]
async fn serve_logs_each_request_without_secrets() {
    let server = ServeProcess::spawn(&[], &[("EASTEST_LOG", "debug")]);
    let url = server.url.clone();

    // A wrong password: 401.
    let intruder = device(&url, "wrong-secret-7");
    let r = intruder.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The right one: Provision (both phases), then FolderSync with the key.
    let mut alice = device(&url, "alice-pass");
    let phase1 = alice.call("Provision", provision_request(None)).await;
    let temporary = policy_of(&phase1).child_text("PolicyKey").unwrap();
    let phase2 = alice
        .call("Provision", provision_request(Some(&temporary)))
        .await;
    let key = policy_of(&phase2).child_text("PolicyKey").unwrap();
    alice.policy_key = Some(key.clone());
    let sync = alice.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(sync.child_text("Status").as_deref(), Some("1"));
    // A stale key (the temporary one): Status 144.
    alice.policy_key = Some(temporary.clone());
    let stale = alice.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(stale.child_text("Status").as_deref(), Some("144"));

    let log = server.stop();

    let requests: Vec<&str> = log.lines().filter(|l| l.contains("request")).collect();
    assert_eq!(requests.len(), 5, "one line per request:\n{log}");
    let [denied, p1, p2, synced, refused] = requests[..] else {
        unreachable!()
    };
    for (line, level, wanted) in [
        (
            denied,
            "WARN",
            &[
                "command=FolderSync",
                "user=\"alice\"",
                "device_id=logdevice01",
                "version=14.1",
                "http_status=401",
                "no valid Basic credentials",
            ][..],
        ),
        (
            p1,
            "INFO",
            &[
                "command=Provision",
                "policy_key=absent",
                "http_status=200",
                "eas_status=1",
            ][..],
        ),
        (p2, "INFO", &["command=Provision", "http_status=200"][..]),
        (
            synced,
            "INFO",
            &[
                "command=FolderSync",
                "policy_key=present",
                "http_status=200",
                "eas_status=1",
                "elapsed=",
            ][..],
        ),
        (
            refused,
            "WARN",
            &[
                "command=FolderSync",
                "policy_key=stale",
                "http_status=200",
                "eas_status=144",
                "InvalidPolicyKey",
            ][..],
        ),
    ] {
        assert!(line.contains(level), "{level} in {line}");
        for w in wanted {
            assert!(line.contains(w), "`{w}` in {line}");
        }
    }

    // No secrets, in any form.
    for secret in [
        "alice-pass".to_string(),
        "wrong-secret-7".to_string(),
        BASE64.encode("alice:alice-pass"),
        BASE64.encode("alice:wrong-secret-7"),
        "Authorization".to_string(),
        temporary,
        key,
    ] {
        assert!(!log.contains(&secret), "`{secret}` in the log:\n{log}");
    }
}

#[test]
fn other_commands_stay_quiet_without_eastest_log() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(["wbxml", "decode"])
        .env_remove("EASTEST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&folder_sync_request("0")).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("<SyncKey>0</SyncKey>"));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
}
