//! The runner end to end: a server regression shows up as a failed
//! expectation that names the status and as a snapshot diff; no secret
//! reaches any output; the CLI's exit codes.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use eastest::client::Secret;
use eastest::mock::{Account, MockConfig, MockServer};
use eastest::protocol::ProtocolVersion;
use eastest::report;
use eastest::runner::outcome::{RunOutcome, SnapshotOutcome, StepResult, SuiteStatus, TargetInfo};
use eastest::runner::snapshot::{SnapshotMode, SnapshotStore};
use eastest::runner::{RunOptions, Target, run_suite};
use eastest::wbxml::{DecodeOptions, Element, EncodeOptions, ProtocolVersion as V, encode};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(id: &str) -> eastest::suite::Suite {
    let root = repo().join("suites");
    eastest::suite::load(&root.join(format!("{id}.toml")), &root)
        .unwrap_or_else(|e| panic!("{}", e.render(false)))
}

/// A proxy in front of the mock that behaves like Exchange 2007 SP1 after
/// KB967525's regression: a Sync whose collection carries `<Supported>` is
/// answered with Status 4; everything else passes through.
async fn start_regressed_proxy(mock: &MockServer) -> String {
    #[derive(Clone)]
    struct Upstream {
        base: String,
        http: reqwest::Client,
    }
    async fn forward(
        State(up): State<Upstream>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let is_sync = uri.query().is_some_and(|q| q.contains("Cmd=Sync"));
        if is_sync
            && let Ok(request) =
                Element::from_wbxml(&body, &DecodeOptions::lenient(ProtocolVersion::V16_1))
            && let Some(collection) = request
                .child("Collections")
                .and_then(|c| c.child("Collection"))
            && collection.child("Supported").is_some()
        {
            let id = collection.child_text("CollectionId").unwrap_or_default();
            let xml = format!(
                "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>0</SyncKey>\
                 <CollectionId>{id}</CollectionId><Status>4</Status></Collection>\
                 </Collections></Sync>"
            );
            let wbxml = encode(&xml, &EncodeOptions::strict(V::V16_1)).unwrap();
            return Response::builder()
                .status(200)
                .header("content-type", "application/vnd.ms-sync.wbxml")
                .body(Body::from(wbxml))
                .unwrap();
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = up.http.request(method, format!("{}{path}", up.base));
        for (name, value) in &headers {
            if name != "host" && name != "content-length" {
                request = request.header(name, value);
            }
        }
        let answer = request.body(body).send().await.unwrap();
        let mut response = Response::builder().status(answer.status().as_u16());
        for (name, value) in answer.headers() {
            if name != "content-length" && name != "transfer-encoding" {
                response = response.header(name, value);
            }
        }
        response
            .body(Body::from(answer.bytes().await.unwrap()))
            .unwrap()
    }
    let base = format!("http://{}", mock.addr());
    let app = Router::new().fallback(forward).with_state(Upstream {
        base,
        http: common::http(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}{}", eastest::mock::PATH)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regressed_server_fails_with_the_status_named_and_a_snapshot_diff() {
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let url = start_regressed_proxy(&mock).await;
    let suite = load("regressions/kb967525-supported-ghosting");
    let target = Target {
        url,
        user: "alice".into(),
        password: Secret::new("alice-pass"),
        test_hooks: false,
    };
    let options = RunOptions::new(ProtocolVersion::V16_1, "mock");
    // The committed snapshots of the mock, compared without writing.
    let store = SnapshotStore::new(repo().join("snapshots/mock/16.1"), SnapshotMode::Check);
    let (outcome, requests) = run_suite(&suite, &target, &options, Some(&store)).await;
    assert_eq!(outcome.status, SuiteStatus::Failed);
    let step = outcome
        .steps
        .iter()
        .find(|s| s.name == "initial sync with Supported")
        .unwrap();
    let StepResult::Failed(failures) = &step.result else {
        panic!("the Supported step fails: {:?}", step.result);
    };
    assert!(
        failures
            .iter()
            .any(|f| f.message == "got Status 4 (ProtocolError), expected Status 1 (Success)"),
        "{failures:?}"
    );
    let SnapshotOutcome::Changed {
        old, new, written, ..
    } = &step.snapshot
    else {
        panic!("the snapshot changed: {:?}", step.snapshot);
    };
    assert!(!written, "checking writes nothing");
    assert!(old.contains("<AirSync:Status>1</AirSync:Status>"));
    assert!(new.contains("<AirSync:Status>4</AirSync:Status>"));
    // The later steps did not run.
    assert!(
        outcome
            .steps
            .iter()
            .skip_while(|s| s.name != "add a contact")
            .all(|s| matches!(s.result, StepResult::Skipped(_)))
    );
    let console = report::console::render(
        &RunOutcome {
            target: TargetInfo {
                url: "proxy".into(),
                profile: "mock".into(),
                version: "16.1".into(),
            },
            suites: vec![outcome],
            duration: std::time::Duration::ZERO,
            requests,
        },
        false,
    );
    assert!(
        console.contains("-      <AirSync:Status>1</AirSync:Status>"),
        "{console}"
    );
    assert!(
        console.contains("+      <AirSync:Status>4</AirSync:Status>"),
        "{console}"
    );
    assert!(
        console.contains("kb967525-supported-ghosting.toml:"),
        "{console}"
    );
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_any_output() {
    const PASSWORD: &str = "Zq9-very-secret-Pw";
    let mock = MockServer::start(MockConfig {
        accounts: vec![Account::new("carol", PASSWORD)],
        test_hooks: true,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let target = Target {
        url: mock.url(),
        user: "carol".into(),
        password: Secret::new(PASSWORD),
        test_hooks: true,
    };
    let options = RunOptions::new(ProtocolVersion::V14_1, "secrets");
    let dir = std::env::temp_dir().join(format!("eastest-secrets-{}", std::process::id()));
    let store = SnapshotStore::new(dir.clone(), SnapshotMode::Update);
    let mut suites = Vec::new();
    let mut requests = 0;
    for id in [
        "provision/two-phase",
        "regressions/kb967525-supported-ghosting",
        "http/options",
    ] {
        let (outcome, n) = run_suite(&load(id), &target, &options, Some(&store)).await;
        assert_eq!(outcome.status, SuiteStatus::Passed, "{id}");
        suites.push(outcome);
        requests += n;
    }
    let run = RunOutcome {
        target: TargetInfo {
            url: target.url.clone(),
            profile: "secrets".into(),
            version: "14.1".into(),
        },
        suites,
        duration: std::time::Duration::ZERO,
        requests,
    };
    let mut outputs = vec![
        report::console::render(&run, false),
        report::junit::render(&run),
        report::json::render(&run),
        format!("{run:?}"),
        format!("{target:?}"),
    ];
    for file in walk(&dir) {
        outputs.push(std::fs::read_to_string(file).unwrap());
    }
    let basic = BASE64.encode(format!("carol:{PASSWORD}"));
    for output in &outputs {
        assert!(!output.contains(PASSWORD));
        assert!(!output.contains(&basic));
        assert!(!output.to_ascii_lowercase().contains("authorization"));
    }
    // The policy keys the mock handed out are redacted in snapshots.
    assert!(outputs.iter().any(|o| o.contains("[PolicyKey]")));
    let _ = std::fs::remove_dir_all(&dir);
    mock.shutdown().await;
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn the_cli_runs_the_suites_and_sets_its_exit_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(repo())
        .args(["run", "suites/http", "suites/regressions", "--jobs", "2"])
        .env("CI", "true")
        .env_remove("EASTEST_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("PASS  regressions/kb967525-supported-ghosting"),
        "{stdout}"
    );
    // Version-gated suites are skipped, with their reason, at 16.1.
    assert!(stdout.contains(" passed, 0 failed, "), "{stdout}");
    assert!(stdout.contains(" skipped, 0 errors"), "{stdout}");
    assert!(
        stdout.contains("SKIP  http/unprovisioned-449 — applies to protocol versions <=12.1"),
        "{stdout}"
    );

    // --skip-tag leaves the slow suite out: nothing else matches here.
    let out = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(repo())
        .args([
            "run",
            "suites/ping",
            "--filter",
            "heartbeat",
            "--skip-tag",
            "slow",
        ])
        .env("CI", "true")
        .env_remove("EASTEST_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no suite matches"));

    // A broken suite: exit 2 with file:line:column, and nothing run.
    let dir = std::env::temp_dir().join(format!("eastest-cli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("suites")).unwrap();
    std::fs::write(
        dir.join("suites/bad.toml"),
        "name = \"bad\"\n[[step]]\ncomand = \"FolderSync\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(&dir)
        .args(["run"])
        .env("CI", "true")
        .env_remove("EASTEST_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.toml:3:1"), "{stderr}");
    assert!(stderr.contains("command"), "did you mean: {stderr}");

    // A failing suite against the mock (a wrong expectation): exit 1, and
    // with CI=true a missing snapshot is a failure too.
    std::fs::write(
        dir.join("suites/bad.toml"),
        "name = \"wrong\"\n[[step]]\ncommand = \"OPTIONS\"\nhttp = 404\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eastest"))
        .current_dir(&dir)
        .args(["run", "--junit", "junit.xml"])
        .env("CI", "true")
        .env_remove("EASTEST_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("got HTTP 200"), "{stdout}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_suite_creates_is_removed_so_it_can_run_again() {
    // One server for both runs, as a lab account would be.
    let mock = MockServer::start(MockConfig::default()).await.unwrap();
    let target = Target {
        url: mock.url(),
        user: "alice".into(),
        password: Secret::new("alice-pass"),
        test_hooks: false,
    };
    let suite = load("regressions/kb967525-supported-ghosting");
    for run in ["1", "2"] {
        let mut options = RunOptions::new(ProtocolVersion::V14_1, "lab");
        options.run_id = run.to_string();
        let (outcome, _) = run_suite(&suite, &target, &options, None).await;
        assert_eq!(
            outcome.status,
            SuiteStatus::Passed,
            "run {run}: {outcome:?}"
        );
        assert!(outcome.steps.iter().all(|s| s.name != "cleanup"));
    }
    // A new device sees only the seed contacts: both runs' contacts are gone.
    let device = common::Device::provisioned(&mock, "14.1", "alice", "checker").await;
    device
        .call("FolderSync", common::folder_sync_request("0"))
        .await;
    let sync = |key: &str| {
        common::W::sync()
            .open(0, 0x1C)
            .collection(key, "8")
            .end()
            .end()
            .done()
    };
    let r = device.call("Sync", sync("0")).await;
    let key = r
        .child("Collections")
        .and_then(|c| c.child("Collection"))
        .and_then(|c| c.child_text("SyncKey"))
        .unwrap();
    let r = device.call("Sync", sync(&key)).await;
    let adds = r
        .child("Collections")
        .and_then(|c| c.child("Collection"))
        .and_then(|c| c.child("Commands"))
        .map_or(0, |c| c.elements_named("Add").count());
    assert_eq!(adds, 3, "only the seed contacts are left");
    mock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tag_gives_a_snapshot_that_shows_it_and_a_failed_check() {
    // A server whose FolderSync answer carries a tag page 7 does not have.
    async fn answer() -> Response {
        let body = vec![
            0x03, 0x01, 0x6A, 0x00, // WBXML 1.3, UTF-8
            0x00, 0x07, 0x56, // FolderHierarchy, <FolderSync>
            0x4C, 0x03, b'1', 0x00, 0x01, // <Status>1</Status>
            0x7F, 0x03, b'x', 0x00, 0x01, // token 0x3F: not on page 7
            0x01,
        ];
        Response::builder()
            .status(200)
            .header("content-type", "application/vnd.ms-sync.wbxml")
            .body(Body::from(body))
            .unwrap()
    }
    let app = Router::new().fallback(answer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let suite = eastest::suite::parse(
        "name = \"unknown tag\"\n\
         [[step]]\n\
         name = \"hierarchy\"\n\
         command = \"FolderSync\"\n\
         body = '<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>'\n\
         expect = [{ path = \"/FolderHierarchy:FolderSync/FolderHierarchy:Status\", status = 1 }]\n",
        Path::new("inline.toml"),
        "inline",
    )
    .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let target = Target {
        url: format!("http://{addr}/Microsoft-Server-ActiveSync"),
        user: "alice".into(),
        password: Secret::new("alice-pass"),
        test_hooks: false,
    };
    let options = RunOptions::new(ProtocolVersion::V16_1, "odd");
    let (outcome, _) = run_suite(&suite, &target, &options, None).await;
    assert_eq!(outcome.status, SuiteStatus::Failed);
    let step = &outcome.steps[0];
    let StepResult::Failed(failures) = &step.result else {
        panic!("{:?}", step.result);
    };
    assert_eq!(
        failures.len(),
        1,
        "the Status expectation itself holds: {failures:?}"
    );
    assert!(
        failures[0].message.starts_with("not valid WBXML for 16.1"),
        "{failures:?}"
    );
    let snapshot = &step.exchange.as_ref().unwrap().response;
    assert!(snapshot.contains("wbxml:unknown"), "{snapshot}");
    assert!(snapshot.contains("0x3F"), "{snapshot}");
}

#[test]
fn a_named_target_from_the_config_file_runs_the_suites_against_a_lab_server() {
    let server = common::ServeProcess::spawn(&[], &[]);
    let dir = std::env::temp_dir().join(format!("eastest-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("password"), "alice-pass\n").unwrap();
    std::fs::write(
        dir.join("eastest.toml"),
        format!(
            "[targets.lab]\nurl = \"{}\"\nuser = \"alice\"\npassword-file = \"{}\"\nprotocol = \"14.1\"\n",
            server.url,
            dir.join("password").display()
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_eastest"))
            .current_dir(&dir)
            .arg("run")
            // Folders and their cleanup on one shared server, as on a lab.
            .arg(repo().join("suites/folders"))
            .arg(repo().join("suites/http/options.toml"))
            .args(["--snapshots", "snaps", "--update-snapshots"])
            .args(extra)
            .env_remove("CI")
            .env_remove("EASTEST_URL")
            .env_remove("EASTEST_PASSWORD")
            .env_remove("EASTEST_PASSWORD_FILE")
            .output()
            .unwrap()
    };
    let out = run(&["--target", "lab"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("profile lab, protocol 14.1"), "{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    // Snapshots under the target's name and version.
    assert!(
        dir.join("snaps/lab/14.1/http/options/options.snap")
            .is_file()
    );

    let out = run(&["--target", "staging"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("no target `staging` (known: lab)"),
        "{stderr}"
    );

    std::fs::write(
        dir.join("eastest.toml"),
        "[targets.lab]\nurl = \"http://127.0.0.1:9/x\"\npassword = \"hunter2\"\n",
    )
    .unwrap();
    let out = run(&["--target", "lab"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("keep passwords out of config files"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"));
    let _ = std::fs::remove_dir_all(&dir);
    server.stop();
}

/// `empty-ok`: a server that answers "nothing to report" with an empty
/// Sync response (MS-ASCMD 2.2.1.21.2) passes a step that allows it, with
/// the captures keeping their values, and fails one that does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_sync_response_passes_only_where_the_step_allows_it() {
    let app = Router::new()
        .fallback(|| async { Response::builder().status(200).body(Body::empty()).unwrap() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let suite = eastest::suite::parse(
        r#"
name = "empty answers"
[vars]
key = "7"
[[step]]
name = "allowed"
command = "Sync"
empty-ok = true
body = '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{{key}}</SyncKey><CollectionId>1</CollectionId></Collection></Collections></Sync>'
expect = [{ path = "//AirSync:Collection/AirSync:Status", status = 1 }]
capture = { key = "//AirSync:Collection/AirSync:SyncKey" }
[[step]]
name = "not allowed"
command = "Sync"
body = '<Sync xmlns="AirSync:"><Collections><Collection><SyncKey>{{key}}</SyncKey><CollectionId>1</CollectionId></Collection></Collections></Sync>'
expect = [{ path = "//AirSync:Collection/AirSync:Status", status = 1 }]
"#,
        Path::new("suites/empty.toml"),
        "empty",
    )
    .unwrap_or_else(|e| panic!("{}", e.render(false)));
    let target = Target {
        url: format!("http://{addr}{}", eastest::mock::PATH),
        user: "alice".into(),
        password: Secret::new("alice-pass"),
        test_hooks: false,
    };
    let options = RunOptions::new(ProtocolVersion::V14_1, "lab");
    let (outcome, _) = run_suite(&suite, &target, &options, None).await;
    assert_eq!(outcome.status, SuiteStatus::Failed, "{outcome:?}");
    assert!(
        matches!(outcome.steps[0].result, StepResult::Passed),
        "{:?}",
        outcome.steps[0]
    );
    match &outcome.steps[1].result {
        StepResult::Failed(failures) => assert!(
            failures[0].message.contains("no WBXML body"),
            "{failures:?}"
        ),
        other => panic!("{other:?}"),
    }
    // The capture kept its value: the second request still carried key 7.
    let sent = outcome.steps[1]
        .exchange
        .as_ref()
        .and_then(|e| e.request_body.clone())
        .unwrap_or_default();
    assert!(sent.contains("<SyncKey>7</SyncKey>"), "{sent}");
}
