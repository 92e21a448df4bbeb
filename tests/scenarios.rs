//! Scenarios (`eastest serve --scenario FILE`, `src/mock/scenario/`): for
//! each file in `scenarios/`, a client scripted by hand over HTTP that reacts
//! as the protocol requires (reaction `Met`) and one that does not
//! (`Violated`, or `NotObserved` at the end), with what the server did;
//! the diagnostics of broken files; and a run of eastest's own runner
//! against a mock with a scenario.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use eastest::client::Secret;
use eastest::mock::referee::{ReactionResult, RefereeConfig};
use eastest::mock::scenario::{Action, Expect, REDIRECTED_PATH, Trigger};
use eastest::mock::{MockConfig, MockServer, Scenario};
use eastest::protocol::ProtocolVersion;
use eastest::runner::outcome::SuiteStatus;
use eastest::runner::{RunOptions, Target, run_suite};
use eastest::wbxml::Element;
use reqwest::StatusCode;

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

fn from_file(name: &str) -> Arc<Scenario> {
    let file = scenarios_dir().join(name);
    Arc::new(Scenario::load(&file).unwrap_or_else(|e| panic!("{}", e.render(false))))
}

fn from_text(text: &str) -> Arc<Scenario> {
    Arc::new(
        Scenario::parse(text, Path::new("test.toml"))
            .unwrap_or_else(|e| panic!("{}", e.render(false))),
    )
}

async fn serve(scenario: &Arc<Scenario>) -> MockServer {
    let server = MockServer::start(MockConfig {
        scenario: Some(Arc::clone(scenario)),
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts");
    scenario.set_server_url(&server.url());
    server
}

/// The one reaction of `device` (panics if there is not exactly one).
fn reaction(scenario: &Scenario, device: &str) -> ReactionResult {
    let all: Vec<_> = scenario
        .reactions()
        .into_iter()
        .filter(|r| r.device_id == device)
        .collect();
    assert_eq!(all.len(), 1, "{all:#?}");
    all[0].result.clone()
}

fn assert_met(result: &ReactionResult) {
    assert!(matches!(result, ReactionResult::Met { .. }), "{result:#?}");
}

fn assert_violated(result: &ReactionResult, says: &str) {
    match result {
        ReactionResult::Violated { detail, .. } => assert!(detail.contains(says), "{detail}"),
        other => panic!("not violated: {other:#?}"),
    }
}

fn assert_not_observed(result: &ReactionResult) {
    assert!(
        matches!(result, ReactionResult::NotObserved { .. }),
        "{result:#?}"
    );
}

// Sync (code page 0): Collection 0x0F, SyncKey 0x0B, CollectionId 0x12,
// WindowSize 0x15. Ping (page 13): Ping 0x05, HeartbeatInterval 0x08,
// Folders 0x09, Folder 0x0A, Id 0x0B, Class 0x0C. Provision (page 14):
// Provision 0x05, RemoteWipe 0x0C, Status 0x0B.

fn sync_body(key: &str, id: &str, window: Option<&str>) -> Vec<u8> {
    let w = W::sync()
        .open(AIRSYNC, SYNC_COLLECTIONS)
        .collection(key, id);
    let w = match window {
        Some(n) => w.text(AIRSYNC, SYNC_WINDOW_SIZE, n),
        None => w,
    };
    w.end().end().done()
}

fn ping_inbox() -> Vec<u8> {
    W::new(13, 0x05)
        .text(13, 0x08, "60")
        .open(13, 0x09)
        .open(13, 0x0A)
        .text(13, 0x0B, "1")
        .text(13, 0x0C, "Email")
        .end()
        .end()
        .done()
}

fn wipe_ack(status: &str) -> Vec<u8> {
    W::new(14, 0x05)
        .open(14, 0x0C)
        .text(14, 0x0B, status)
        .end()
        .done()
}

fn collection(sync: &Element) -> &Element {
    sync.child("Collections")
        .and_then(|c| c.child("Collection"))
        .expect("Sync/Collections/Collection")
}

fn text(e: &Element, name: &str) -> String {
    e.child_text(name).unwrap_or_default().trim().to_string()
}

/// A Sync of one collection; the response's collection.
async fn sync(device: &Device, key: &str, id: &str) -> Element {
    collection(&device.call("Sync", sync_body(key, id, None)).await).clone()
}

/// FolderSync 0, then the Inbox started and fully synced: its key.
async fn inbox_synced(device: &Device) -> String {
    let fs = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(text(&fs, "Status"), "1");
    let first = sync(device, "0", "1").await;
    let second = sync(device, &text(&first, "SyncKey"), "1").await;
    assert_eq!(text(&second, "Status"), "1");
    text(&second, "SyncKey")
}

#[test]
fn every_scenario_file_parses_with_description_and_references() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{}", e.render(false)));
            let script = scenario.script();
            assert!(!script.description.is_empty(), "{}", path.display());
            assert!(!script.references.is_empty(), "{}", path.display());
            assert!(
                script.steps.iter().all(|s| s.expect.is_some()),
                "every shipped step judges a reaction: {}",
                path.display()
            );
            names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    names.sort();
    assert_eq!(
        names,
        [
            "hierarchy-change-during-ping.toml",
            "paging-500-items.toml",
            "provisioning-after-5-requests.toml",
            "redirect-451.toml",
            "remote-wipe.toml",
            "sync-status-3.toml",
            "unavailable-503-retry-after.toml",
        ]
    );
    // The redirect goes where the mock answers a second EAS location.
    let redirect = from_file("redirect-451.toml");
    assert_eq!(
        redirect.script().steps[0].action,
        Action::Redirect(REDIRECTED_PATH.to_string())
    );
}

#[tokio::test]
async fn sync_status_3_on_the_third_sync_and_a_client_that_starts_over() {
    let scenario = from_file("sync-status-3.toml");
    let server = serve(&scenario).await;

    let good = Device::provisioned(&server, "14.1", "alice", "good").await;
    let key = inbox_synced(&good).await; // Syncs 1 and 2
    let third = sync(&good, &key, "1").await;
    assert_eq!(text(&third, "Status"), "3", "the third Sync fails");
    assert_eq!(text(&third, "SyncKey"), "0");
    let again = sync(&good, "0", "1").await;
    assert_eq!(text(&again, "Status"), "1");
    assert_met(&reaction(&scenario, "good"));

    let bad = Device::provisioned(&server, "14.1", "alice", "bad").await;
    let key = inbox_synced(&bad).await;
    assert_eq!(text(&sync(&bad, &key, "1").await, "Status"), "3");
    // Retrying the old key: the server's state agrees it is gone.
    let retry = sync(&bad, &key, "1").await;
    assert_eq!(text(&retry, "Status"), "3");
    assert_violated(&reaction(&scenario, "bad"), &format!("SyncKey {key}"));
    server.shutdown().await;
}

#[tokio::test]
async fn provisioning_after_five_requests() {
    let scenario = from_file("provisioning-after-5-requests.toml");
    let server = serve(&scenario).await;

    // 14.1: Provision x2, FolderSync, Sync x2 are the five; the sixth gets
    // Status 142, and so does the next, from the HTTP layer.
    let mut good = Device::provisioned(&server, "14.1", "alice", "good").await;
    let key = inbox_synced(&good).await;
    let sixth = good.call("Sync", sync_body(&key, "1", None)).await;
    assert_eq!(text(&sixth, "Status"), "142");
    let seventh = good.call("Sync", sync_body(&key, "1", None)).await;
    assert_eq!(text(&seventh, "Status"), "142");
    assert_not_observed(&reaction(&scenario, "good"));
    good.provision().await;
    assert_met(&reaction(&scenario, "good"));
    let after = sync(&good, &key, "1").await;
    assert_eq!(text(&after, "Status"), "1", "synced again with the new key");

    // 12.1: HTTP 449; a client that never provisions again.
    let bad = Device::provisioned(&server, "12.1", "alice", "bad").await;
    inbox_synced(&bad).await;
    for _ in 0..3 {
        let r = bad.post("FolderSync", folder_sync_request("0")).await;
        assert_eq!(r.status().as_u16(), 449);
    }
    assert_not_observed(&reaction(&scenario, "bad"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_folder_created_during_a_ping_answers_status_7() {
    let scenario = from_file("hierarchy-change-during-ping.toml");
    let server = serve(&scenario).await;

    let good = Device::provisioned(&server, "14.1", "alice", "good").await;
    inbox_synced(&good).await;
    let started = Instant::now();
    let ping = good.call("Ping", ping_inbox()).await;
    assert_eq!(text(&ping, "Status"), "7");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(30),
        "answered while waiting, after the change: {waited:?}"
    );
    assert_not_observed(&reaction(&scenario, "good"));
    let fs = good.call("FolderSync", folder_sync_request("0")).await;
    let names: Vec<String> = fs
        .child("Changes")
        .into_iter()
        .flat_map(|c| c.elements_named("Add"))
        .map(|a| text(a, "DisplayName"))
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("Scenario folder")),
        "{names:?}"
    );
    assert_met(&reaction(&scenario, "good"));

    let bad = Device::provisioned(&server, "14.1", "alice", "bad").await;
    // This device's hierarchy already has the new folder; its own Ping
    // gets its own change.
    inbox_synced(&bad).await;
    let ping = bad.call("Ping", ping_inbox()).await;
    assert_eq!(text(&ping, "Status"), "7");
    let ping = bad.call("Ping", ping_inbox()).await;
    assert_eq!(text(&ping, "Status"), "7", "still out of date");
    assert_violated(&reaction(&scenario, "bad"), "without FolderSync");
    server.shutdown().await;
}

#[tokio::test]
async fn five_hundred_items_arrive_over_several_windows() {
    let scenario = from_file("paging-500-items.toml");
    let server = serve(&scenario).await;

    let good = Device::provisioned(&server, "14.1", "alice", "good").await;
    good.call("FolderSync", folder_sync_request("0")).await;
    let mut key = text(&sync(&good, "0", "1").await, "SyncKey");
    let (mut windows, mut items) = (0, 0);
    loop {
        let c = collection(&good.call("Sync", sync_body(&key, "1", Some("100"))).await).clone();
        assert_eq!(text(&c, "Status"), "1");
        let adds = c
            .child("Commands")
            .map_or(0, |cmds| cmds.elements_named("Add").count());
        assert!(adds <= 100, "a window holds at most WindowSize items");
        items += adds;
        windows += 1;
        key = text(&c, "SyncKey");
        if c.child("MoreAvailable").is_none() {
            break;
        }
        assert!(windows < 20, "paging ends");
        if windows == 3 {
            assert_not_observed(&reaction(&scenario, "good"));
        }
    }
    assert_eq!(items, 503, "the 3 seed messages and the 500 added");
    assert_eq!(windows, 6);
    assert_met(&reaction(&scenario, "good"));

    // Another device of the same user: the scenario adds 500 more at its
    // start; it goes to Ping after the first window.
    let bad = Device::provisioned(&server, "14.1", "alice", "bad").await;
    bad.call("FolderSync", folder_sync_request("0")).await;
    let key = text(&sync(&bad, "0", "1").await, "SyncKey");
    let c = collection(&bad.call("Sync", sync_body(&key, "1", Some("100"))).await).clone();
    assert!(c.child("MoreAvailable").is_some());
    let ping = bad.call("Ping", ping_inbox()).await;
    assert_eq!(text(&ping, "Status"), "2", "changes are waiting");
    assert_violated(&reaction(&scenario, "bad"), "100 of 500");
    server.shutdown().await;
}

#[tokio::test]
async fn http_503_with_retry_after_once() {
    // The shipped file: Retry-After 30, and a client that retries at once.
    let scenario = from_file("unavailable-503-retry-after.toml");
    let server = serve(&scenario).await;
    let bad = Device::provisioned(&server, "14.1", "alice", "bad").await;
    bad.call("FolderSync", folder_sync_request("0")).await;
    let key = text(&sync(&bad, "0", "1").await, "SyncKey");
    let r = bad.post("Sync", sync_body(&key, "1", None)).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "30");
    let retry = sync(&bad, &key, "1").await;
    assert_eq!(text(&retry, "Status"), "1", "only once");
    assert_violated(&reaction(&scenario, "bad"), "Retry-After asked for 30 s");
    server.shutdown().await;

    // The same with a wait a test can afford, and a client that waits.
    let scenario = from_text(
        &std::fs::read_to_string(scenarios_dir().join("unavailable-503-retry-after.toml"))
            .unwrap()
            .replace("retry-after = 30", "retry-after = 2"),
    );
    let server = serve(&scenario).await;
    let good = Device::provisioned(&server, "14.1", "alice", "good").await;
    good.call("FolderSync", folder_sync_request("0")).await;
    let key = text(&sync(&good, "0", "1").await, "SyncKey");
    let r = good.post("Sync", sync_body(&key, "1", None)).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "2");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(text(&sync(&good, &key, "1").await, "Status"), "1");
    assert_met(&reaction(&scenario, "good"));
    server.shutdown().await;
}

#[tokio::test]
async fn remote_wipe_acknowledged_or_not() {
    let scenario = from_file("remote-wipe.toml");
    let server = serve(&scenario).await;

    // Provision x2, FolderSync, Sync: four; the fifth (a Sync) orders it.
    let good = Device::provisioned(&server, "14.1", "alice", "good").await;
    let key = inbox_synced(&good).await;
    let next = good.call("Sync", sync_body(&key, "1", None)).await;
    assert_eq!(text(&next, "Status"), "140", "RemoteWipeRequested");
    let phase1 = good.call("Provision", provision_request(None)).await;
    assert!(phase1.child("RemoteWipe").is_some(), "the wipe directive");
    assert_not_observed(&reaction(&scenario, "good"));
    let ack = good.call("Provision", wipe_ack("1")).await;
    assert_eq!(text(&ack, "Status"), "1");
    assert_met(&reaction(&scenario, "good"));

    let bad = Device::provisioned(&server, "14.1", "alice", "bad").await;
    let key = inbox_synced(&bad).await;
    assert_eq!(
        text(
            &bad.call("Sync", sync_body(&key, "1", None)).await,
            "Status"
        ),
        "140"
    );
    let phase1 = bad.call("Provision", provision_request(None)).await;
    let temporary = policy_of(&phase1).child_text("PolicyKey").expect("a key");
    bad.call("Provision", provision_request(Some(&temporary)))
        .await;
    assert_violated(&reaction(&scenario, "bad"), "RemoteWipe directive was not");
    server.shutdown().await;
}

#[tokio::test]
async fn redirect_451_names_the_new_location() {
    let scenario = from_file("redirect-451.toml");
    let server = serve(&scenario).await;
    let device = Device::provisioned(&server, "14.1", "alice", "bad").await;
    let r = device.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(r.status().as_u16(), 451);
    let location = format!("http://{}{REDIRECTED_PATH}", server.addr());
    assert_eq!(r.headers()["x-ms-location"], location.as_str());
    assert_not_observed(&reaction(&scenario, "bad"));
    // Back to the old location: flagged.
    let fs = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(text(&fs, "Status"), "1", "only the first FolderSync");
    assert_violated(&reaction(&scenario, "bad"), "old location");
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_follows_the_451_redirect_is_met_there() {
    let scenario = from_file("redirect-451.toml");
    let server = serve(&scenario).await;
    let mut device = Device::provisioned(&server, "14.1", "alice", "good").await;
    let r = device.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(r.status().as_u16(), 451);
    let location = r.headers()["x-ms-location"]
        .to_str()
        .expect("a header value")
        .to_string();
    // The device moves to the new location; the mock answers there as the
    // same EAS endpoint.
    device.url = location;
    let fs = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(text(&fs, "Status"), "1");
    assert_met(&reaction(&scenario, "good"));
    server.shutdown().await;
}

#[tokio::test]
async fn each_device_runs_its_own_copy_and_the_filter_applies() {
    let scenario = from_text(
        r#"
name = "filtered"
description = "only deva"
references = ["MS-ASCMD 2.2.3.177.17"]
devices = ["deva"]

[[step]]
name = "fail the first Sync"
when = { command = "Sync", nth = 1 }
sync-status = 3
"#,
    );
    let server = serve(&scenario).await;
    let a = Device::provisioned(&server, "14.1", "alice", "deva").await;
    let b = Device::provisioned(&server, "14.1", "alice", "devb").await;
    a.call("FolderSync", folder_sync_request("0")).await;
    b.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(text(&sync(&a, "0", "1").await, "Status"), "3");
    assert_eq!(text(&sync(&b, "0", "1").await, "Status"), "1");
    let all = scenario.reactions();
    assert_eq!(all.len(), 1, "devb is not in the scenario: {all:#?}");
    assert_eq!(all[0].device_id, "deva");
    assert_eq!(all[0].reference, Expect::SyncKeyReset.reference());
    server.shutdown().await;
}

#[test]
fn broken_files_report_every_problem_with_line_column_and_a_hint() {
    let text = r#"name = "broken"
description = "x"
references = ["MS-ASCMD"]

[[step]]
name = "one"
when = { comand = "Sync", nth = 3 }
sync-status = 3
expct = "sync-key-reset"

[[step]]
name = "two"
when = { command = "Snyc", nth = "3" }
sync-status = 2

[[step]]
name = "three"
when = { after-step = "on" }
http = 503
retry-after = "30"
expect = "folder-sync"
"#;
    let e = Scenario::parse(text, Path::new("broken.toml")).expect_err("broken");
    let lines = e.lines();
    let has = |needle: &str| {
        assert!(
            lines.iter().any(|l| l.contains(needle)),
            "no `{needle}` in {lines:#?}"
        )
    };
    has("broken.toml:7:10: unknown key `comand` in `when`; did you mean `command`?");
    has("broken.toml:9:1: unknown key `expct` in a step; did you mean `expect`?");
    has("broken.toml:13:20: unknown command `Snyc`; did you mean `Sync`?");
    has("broken.toml:13:34: `nth` must be an integer, got a string; remove the quotes: `nth = 3`");
    has("broken.toml:14:15: `sync-status = 2` is not a failure status of that command");
    has("broken.toml:18:8: no step is named `on`; did you mean `one`?");
    has("broken.toml:20:15: `retry-after` must be an integer, got a string");
    has("broken.toml:21:10: `folder-sync` does not follow from `http`");
    // Every problem, each rendered with its excerpt.
    assert!(e.diagnostics().len() >= 8, "{lines:#?}");
    let rendered = e.render(false);
    assert!(rendered.contains("when = { comand"), "{rendered}");
    assert!(
        rendered.contains("= help: did you mean `command`?"),
        "{rendered}"
    );

    let e = Scenario::parse("name = \"x\n", Path::new("syntax.toml")).expect_err("TOML");
    assert!(e.to_string().starts_with("syntax.toml:1:"), "{e}");
    assert!(e.message().contains("TOML syntax"), "{e}");

    let e = Scenario::parse(
        "name = \"x\"\ndescription = \"y\"\nreferences = []\n[[step]]\nname = \"s\"\nwhen = { first = true }\n",
        Path::new("noaction.toml"),
    )
    .expect_err("no action");
    assert_eq!(e.location().line, 4, "{e}");
    assert!(e.message().contains("has no action"), "{e}");

    let missing = Scenario::load(Path::new("/nonexistent/scenario.toml")).expect_err("no file");
    assert!(
        missing
            .message()
            .starts_with("cannot read the scenario file"),
        "{missing}"
    );
}

#[test]
fn triggers_and_defaults_parse_as_documented() {
    let s = from_text(
        r#"
name = "t"
description = "d"
references = ["r"]
versions = "14.0+"

[[step]]
name = "a"
when = { requests = 5 }
require-provisioning = true

[[step]]
name = "b"
when = { after-step = "a" }
http = 503
times = 2

[[step]]
name = "c"
when = { command = "Ping", during = true }
remote-wipe = "account-only"
expect = "none"
"#,
    );
    let steps = &s.script().steps;
    assert_eq!(steps[0].when, Trigger::Requests(5));
    assert_eq!(steps[0].expect, Some(Expect::ReProvision));
    assert_eq!(steps[0].times, 1);
    assert_eq!(steps[1].when, Trigger::AfterStep("a".into()));
    assert_eq!(
        steps[1].expect, None,
        "503 without Retry-After judges nothing"
    );
    assert_eq!(steps[1].times, 2);
    assert!(matches!(steps[2].when, Trigger::During { nth: 1, .. }));
    assert_eq!(steps[2].expect, None);
    let versions = s.script().versions.expect("versions");
    assert!(!versions.contains(ProtocolVersion::V12_1));
    assert!(versions.contains(ProtocolVersion::V14_0) && versions.contains(ProtocolVersion::V16_1));
}

/// eastest's own runner against a mock that requires provisioning again
/// after five requests: its client provisions again by itself on Status
/// 142, the suite passes, the scenario sees the reaction, and the referee
/// finds nothing to object to.
#[tokio::test]
async fn eastest_runner_reprovisions_by_itself() {
    let scenario = from_file("provisioning-after-5-requests.toml");
    let server = MockServer::start(MockConfig {
        scenario: Some(Arc::clone(&scenario)),
        referee: Some(RefereeConfig::default()),
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts");
    let mut suite_text = String::from(
        "name = \"hierarchy, six times\"\n\
         description = \"FolderSync with key 0, six times in a row\"\n\
         references = [\"MS-ASCMD 2.2.1.5\"]\n",
    );
    for n in 1..=6 {
        suite_text.push_str(&format!(
            "\n[[step]]\nname = \"folder sync {n}\"\ncommand = \"FolderSync\"\n\
             body = '<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>'\n\
             expect = [{{ path = \"/FolderHierarchy:FolderSync/FolderHierarchy:Status\", status = 1 }}]\n"
        ));
    }
    let suite = eastest::suite::parse(&suite_text, Path::new("inline.toml"), "inline")
        .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let target = Target {
        url: server.url(),
        user: "alice".into(),
        password: Secret::new("alice-pass"),
        test_hooks: false,
    };
    let options = RunOptions::new(ProtocolVersion::V14_1, "mock");
    let (outcome, _) = run_suite(&suite, &target, &options, None).await;
    assert_eq!(outcome.status, SuiteStatus::Passed, "{outcome:#?}");
    let reactions = scenario.reactions();
    assert_eq!(reactions.len(), 1, "{reactions:#?}");
    assert_met(&reactions[0].result);
    // And the referee found nothing wrong in eastest's own client.
    let referee = server.referee().expect("the referee runs");
    let findings = referee.all_findings();
    assert!(findings.is_empty(), "{findings:#?}");
    server.shutdown().await;
}

/// `eastest serve --scenario` with a broken file: every problem on stderr,
/// exit 2, no server.
#[test]
fn serve_refuses_a_broken_scenario_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("eastest-scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.toml");
    std::fs::write(
        &file,
        "name = \"b\"\ndescription = \"d\"\nreferences = [\"r\"]\n\n[[step]]\nname = \"s\"\n\
         when = { comand = \"Sync\" }\nsync-status = 3\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(["serve", "--listen", "127.0.0.1:0", "--scenario"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .expect("eastest runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.toml:7:10"), "{stderr}");
    assert!(stderr.contains("did you mean `command`?"), "{stderr}");
    assert!(stderr.contains("is invalid"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).is_empty(),
        "no server started"
    );
}
