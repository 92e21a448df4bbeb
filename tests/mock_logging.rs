//! `eastest serve`'s request log (stderr, `EASTEST_LOG`): one line per
//! request, and never a secret: no password, no `Authorization` value, no
//! policy key.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Device, folder_sync_request, policy_of, provision_request};
use reqwest::StatusCode;

/// alice's device on the server at `url`, with `password`.
fn device(url: &str, password: &'static str) -> Device {
    Device {
        http: reqwest::Client::new(),
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("EASTEST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eastest serve starts");
    // Never hang the test run if the server misbehaves: kill it after 60 s.
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        // SAFETY: kill(2) on the child's pid; harmless if it already exited.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    // Drain stderr on a thread so that the server never blocks on a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        stderr.read_to_string(&mut text).unwrap();
        text
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    let url = first
        .strip_prefix("eastest mock EAS server: ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    for line in lines.by_ref() {
        if line.unwrap() == "stop with Ctrl-C" {
            break;
        }
    }

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

    // SAFETY: kill(2) on the child's pid, which has not been waited for yet.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(rest, ["stopping"]);
    assert!(child.wait().unwrap().success());
    let log = stderr.join().unwrap();

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
