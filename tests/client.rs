//! The EAS client against the mock (provisioning, query forms, OPTIONS,
//! hooks) and against small loopback servers started here (451 redirects,
//! timeouts, oversized bodies, TLS with a test CA).
//!
//! Request bodies are built by hand from the token tables, so the client is
//! not only checked with eastest's own encoder.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::any;
use base64::Engine as _;
use eastest::client::{
    ClientConfig, ClientError, EasClient, QueryForm, Request, RequestBody, Secret,
};
use eastest::mock::{Account, MockConfig, MockServer};
use eastest::protocol::{Command, ProtocolVersion};
use eastest::wbxml::{DecodeOptions, Element};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A password that must never show up in any output.
const PASSWORD: &str = "Zebra-Quokka-5531";
const USER: &str = "carol";

/// `<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>`,
/// from the tokens: page 7, FolderSync 0x16 | content 0x40, SyncKey 0x12.
const FOLDER_SYNC_0: &[u8] = &[
    0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, b'0', 0x00, 0x01, 0x01,
];

async fn mock(test_hooks: bool) -> MockServer {
    MockServer::start(MockConfig {
        accounts: vec![Account::new(USER, PASSWORD)],
        test_hooks,
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts")
}

fn config(url: &str, version: ProtocolVersion) -> ClientConfig {
    ClientConfig::new(url, USER, Secret::new(PASSWORD), "CLIENT01", version)
}

fn client_for(server: &MockServer, version: ProtocolVersion, form: QueryForm) -> EasClient {
    let mut c = config(&server.url(), version);
    c.query_form = form;
    EasClient::new(c).expect("a client")
}

fn folder_sync() -> Request {
    Request::wbxml(Command::FolderSync, FOLDER_SYNC_0.to_vec())
}

fn decode(body: &[u8], version: ProtocolVersion) -> Element {
    Element::from_wbxml(body, &DecodeOptions::strict(version)).expect("a valid WBXML answer")
}

fn status(root: &Element) -> Option<String> {
    root.child_text("Status")
}

/// Asserts that nothing in `text` gives the password away.
fn assert_no_secret(text: &str) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
    assert!(!text.contains(&basic), "credentials leaked: {text}");
}

// --- against the mock -----------------------------------------------------

#[tokio::test]
async fn options_lists_versions_and_commands() {
    let server = mock(false).await;
    let client = client_for(&server, ProtocolVersion::V14_1, QueryForm::Plain);
    let response = client.options().await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.requests, 1);
    assert!(
        response
            .headers
            .iter()
            .all(|(name, _)| *name == name.to_ascii_lowercase())
    );
    let info = EasClient::server_info(&response);
    assert_eq!(info.versions, ["12.1", "14.0", "14.1", "16.0", "16.1"]);
    for command in ["Sync", "FolderSync", "Provision", "Ping", "ItemOperations"] {
        assert!(info.commands.iter().any(|c| c == command), "{command}");
    }
    assert_eq!(info.server_version.as_deref(), Some("16.1"));
    server.shutdown().await;
}

#[tokio::test]
async fn http_449_in_12_1_provisions_and_retries() {
    let server = mock(false).await;
    let v = ProtocolVersion::V12_1;
    let client = client_for(&server, v, QueryForm::Plain);
    assert_eq!(client.policy_key(), None);
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!(response.status, 200);
    assert!(response.provisioned);
    // FolderSync (449), Provision twice, FolderSync again.
    assert_eq!(response.requests, 4);
    assert_eq!(response.redirected_to, None);
    let root = decode(&response.body, v);
    assert_eq!(root.name, "FolderSync");
    assert_eq!(status(&root).as_deref(), Some("1"));
    assert!(client.policy_key().is_some());

    // The key is kept: the next request goes straight through.
    let again = client.send(folder_sync()).await.unwrap();
    assert_eq!(
        (again.status, again.requests, again.provisioned),
        (200, 1, false)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn status_142_in_14_1_provisions_and_retries() {
    let server = mock(false).await;
    let v = ProtocolVersion::V14_1;
    let client = client_for(&server, v, QueryForm::Plain);
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (200, 4));
    assert!(response.provisioned);
    let root = decode(&response.body, v);
    assert_eq!(status(&root).as_deref(), Some("1"));
    assert!(root.child("Changes").is_some(), "the folder hierarchy");
    server.shutdown().await;
}

#[tokio::test]
async fn explicit_provision_then_the_key_is_used() {
    let server = mock(false).await;
    let v = ProtocolVersion::V16_1;
    let client = client_for(&server, v, QueryForm::Plain);
    client.provision().await.unwrap();
    let key = client.policy_key().expect("a final key");
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (200, 1));
    assert!(!response.provisioned);
    assert_eq!(status(&decode(&response.body, v)).as_deref(), Some("1"));
    // Provisioning again gives a new key.
    client.provision().await.unwrap();
    assert_ne!(client.policy_key(), Some(key));
    server.shutdown().await;
}

#[tokio::test]
async fn base64_query_form_end_to_end() {
    let server = mock(false).await;
    let v = ProtocolVersion::V14_1;
    let client = client_for(&server, v, QueryForm::Base64);
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (200, 4));
    assert!(response.provisioned);
    assert_eq!(status(&decode(&response.body, v)).as_deref(), Some("1"));
    // The key travels inside the base64 query.
    let again = client.send(folder_sync()).await.unwrap();
    assert_eq!((again.status, again.requests), (200, 1));

    // A parameter the base64 form has no tag for is refused before sending.
    let bad = folder_sync().param("Foo", "1");
    let e = client.send(bad).await.unwrap_err();
    assert!(matches!(e, ClientError::NoBase64Tag { .. }), "{e}");
    assert!(e.to_string().contains("plain form"), "{e}");
    server.shutdown().await;
}

#[tokio::test]
async fn without_auto_provision_the_answer_is_returned() {
    let server = mock(false).await;
    for (v, http) in [(ProtocolVersion::V12_1, 449), (ProtocolVersion::V14_1, 200)] {
        let client = client_for(&server, v, QueryForm::Plain);
        let request = Request {
            auto_provision: false,
            ..folder_sync()
        };
        let response = client.send(request).await.unwrap();
        assert_eq!(response.status, http, "{v}");
        assert_eq!(response.requests, 1);
        assert!(!response.provisioned);
        if http == 200 {
            assert_eq!(status(&decode(&response.body, v)).as_deref(), Some("142"));
        }
        assert_eq!(client.policy_key(), None);
    }
    server.shutdown().await;
}

/// A hand-built Provision body (page 14: Provision 0x05, Policies 0x06,
/// Policy 0x07, PolicyType 0x08, PolicyKey 0x09, Status 0x0B; 0x40 = has
/// content), phase two when `ack` holds the temporary key.
fn provision_body(ack: Option<&str>) -> Vec<u8> {
    fn str_i(b: &mut Vec<u8>, s: &str) {
        b.push(0x03);
        b.extend_from_slice(s.as_bytes());
        b.push(0x00);
    }
    let mut b = vec![0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x46, 0x47, 0x48];
    str_i(&mut b, "MS-EAS-Provisioning-WBXML");
    b.push(0x01);
    if let Some(key) = ack {
        b.push(0x49);
        str_i(&mut b, key);
        b.push(0x01);
        b.push(0x4B);
        str_i(&mut b, "1");
        b.push(0x01);
    }
    b.extend_from_slice(&[0x01, 0x01, 0x01]);
    b
}

#[tokio::test]
async fn a_handshake_sent_by_hand_leaves_the_final_key() {
    let server = mock(false).await;
    let v = ProtocolVersion::V14_1;
    // Base64: the X-MS-PolicyKey header moves into the query.
    let client = client_for(&server, v, QueryForm::Base64);
    let one = client
        .send(Request::wbxml(Command::Provision, provision_body(None)))
        .await
        .unwrap();
    assert_eq!((one.status, one.requests, one.provisioned), (200, 1, false));
    let temporary = decode(&one.body, v)
        .child("Policies")
        .and_then(|p| p.child("Policy"))
        .and_then(|p| p.child_text("PolicyKey"))
        .expect("a temporary key");
    assert_eq!(client.policy_key(), None, "a phase-one key is temporary");
    let two = client
        .send(
            Request::wbxml(Command::Provision, provision_body(Some(&temporary)))
                .header("X-MS-PolicyKey", temporary.clone()),
        )
        .await
        .unwrap();
    assert_eq!(two.status, 200);
    let key = client.policy_key().expect("the final key is kept");
    assert_ne!(key.to_string(), temporary);
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (200, 1));
    assert_eq!(status(&decode(&response.body, v)).as_deref(), Some("1"));
    server.shutdown().await;
}

#[tokio::test]
async fn a_reset_device_is_provisioned_again() {
    let server = mock(true).await;
    let v = ProtocolVersion::V14_1;
    let client = client_for(&server, v, QueryForm::Plain);
    client.provision().await.unwrap();
    let hook = client.hook("reset", Vec::new()).await.unwrap();
    assert_eq!(hook.status, 204);
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (200, 4));
    assert!(response.provisioned);
    server.shutdown().await;
}

#[tokio::test]
async fn a_remote_wipe_is_never_acknowledged_silently() {
    let server = mock(true).await;

    // 14.1: Status 140 is returned as it is.
    let v = ProtocolVersion::V14_1;
    let client = client_for(&server, v, QueryForm::Plain);
    client.provision().await.unwrap();
    let hook = client
        .hook("/remote-wipe?device=CLIENT01", Vec::new())
        .await
        .unwrap();
    assert_eq!(
        hook.status,
        204,
        "{:?}",
        String::from_utf8_lossy(&hook.body)
    );
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (200, 1));
    assert_eq!(status(&decode(&response.body, v)).as_deref(), Some("140"));

    // 12.1: HTTP 449 leads to a Provision that carries the directive.
    let mut c = config(&server.url(), ProtocolVersion::V12_1);
    c.device_id = "CLIENT02".into();
    let client = EasClient::new(c).unwrap();
    client.provision().await.unwrap();
    client
        .hook("remote-wipe?device=CLIENT02", Vec::new())
        .await
        .unwrap();
    let e = client.send(folder_sync()).await.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::RemoteWipeRequested {
                account_only: false
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("remote wipe"), "{e}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_password_fails_provisioning_without_showing_it() {
    let server = mock(false).await;
    let mut c = config(&server.url(), ProtocolVersion::V14_1);
    c.password = Secret::new("not-the-password");
    let client = EasClient::new(c).unwrap();
    // FolderSync gets 401 (not a provisioning signal): returned as is.
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (401, 1));
    let e = client.provision().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(text.contains("password"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn gzip_answers_are_inflated() {
    let server = mock(false).await;
    let v = ProtocolVersion::V14_1;
    let client = client_for(&server, v, QueryForm::Plain);
    client.provision().await.unwrap();
    // A first FolderSync answer is well above the mock's 32-byte gzip
    // threshold; it arrives gzip-compressed and is handed over inflated.
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!(response.status, 200);
    assert!(response.body.len() > 32);
    assert_eq!(&response.body[..2], &[0x03, 0x01]);
    assert_eq!(response.header("content-encoding"), None);
    server.shutdown().await;
}

// --- small loopback servers -----------------------------------------------

/// What a recording server saw.
#[derive(Default, Clone)]
struct Seen {
    requests: Arc<Mutex<Vec<(String, HeaderMap)>>>,
}

/// A server answering every request with `answer(seen so far)`.
async fn serve<F>(answer: F) -> (SocketAddr, Seen)
where
    F: Fn(usize) -> axum::response::Response + Clone + Send + Sync + 'static,
{
    let seen = Seen::default();
    let record = seen.clone();
    let app = Router::new().fallback(any(move |uri: axum::http::Uri, headers: HeaderMap| {
        let record = record.clone();
        let answer = answer.clone();
        async move {
            let n = {
                let mut requests = record.requests.lock().unwrap();
                requests.push((uri.to_string(), headers));
                requests.len()
            };
            answer(n)
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

fn eas_url(addr: SocketAddr) -> String {
    format!("http://{addr}/Microsoft-Server-ActiveSync")
}

fn redirect_to(url: String) -> impl Fn(usize) -> axum::response::Response + Clone {
    move |_| {
        (
            StatusCode::from_u16(451).unwrap(),
            [("X-MS-Location", url.clone())],
        )
            .into_response()
    }
}

fn ok(_: usize) -> axum::response::Response {
    (StatusCode::OK, "fine").into_response()
}

#[tokio::test]
async fn plain_requests_carry_the_ms_ashttp_headers() {
    let (addr, seen) = serve(ok).await;
    let mut c = config(&eas_url(addr), ProtocolVersion::V14_1);
    c.device_type = "TestPhone".into();
    let client = EasClient::new(c).unwrap();
    let request = folder_sync().param("CollectionId", "5");
    let response = client.send(request).await.unwrap();
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"fine"[..])
    );
    let (uri, headers) = seen.requests.lock().unwrap()[0].clone();
    assert_eq!(
        uri,
        "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=carol&DeviceId=CLIENT01\
         &DeviceType=TestPhone&CollectionId=5"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(headers["authorization"], format!("Basic {basic}").as_str());
    assert_eq!(headers["ms-asprotocolversion"], "14.1");
    assert_eq!(headers["content-type"], "application/vnd.ms-sync.wbxml");
    assert!(
        headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("eastest/")
    );
    assert!(
        headers["accept-encoding"]
            .to_str()
            .unwrap()
            .contains("gzip")
    );
    // Not provisioned: no policy key header.
    assert!(headers.get("x-ms-policykey").is_none());

    // A raw body keeps its own content type; no body, no content type.
    let raw = Request {
        body: RequestBody::Raw {
            content_type: "message/rfc822".into(),
            bytes: b"Subject: hi\r\n\r\nbody".to_vec(),
        },
        ..Request::new(Command::SendMail)
    };
    client.send(raw).await.unwrap();
    client.send(Request::new(Command::Ping)).await.unwrap();
    let requests = seen.requests.lock().unwrap();
    assert_eq!(requests[1].1["content-type"], "message/rfc822");
    assert!(requests[2].1.get("content-type").is_none());
}

#[tokio::test]
async fn a_451_is_followed_and_remembered() {
    let (target, target_seen) = serve(ok).await;
    let (first, first_seen) = serve(redirect_to(eas_url(target))).await;
    let client = EasClient::new(config(&eas_url(first), ProtocolVersion::V14_1)).unwrap();
    let response = client.send(folder_sync()).await.unwrap();
    assert_eq!((response.status, response.requests), (200, 2));
    assert_eq!(response.redirected_to, Some(eas_url(target)));
    assert_eq!(client.endpoint(), eas_url(target));
    // The retry has the full request line on the new endpoint.
    {
        let seen = target_seen.requests.lock().unwrap();
        assert!(
            seen[0].0.contains("Cmd=FolderSync&User=carol"),
            "{}",
            seen[0].0
        );
    }
    // Later requests go straight to the new endpoint, OPTIONS too.
    let again = client.send(folder_sync()).await.unwrap();
    assert_eq!((again.requests, again.redirected_to), (1, None));
    let options = client.options().await.unwrap();
    assert_eq!((options.status, options.requests), (200, 1));
    assert_eq!(first_seen.requests.lock().unwrap().len(), 1);
    assert_eq!(target_seen.requests.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn two_451s_in_a_row_are_an_error() {
    let (loop_b, _) = serve(|_| (StatusCode::from_u16(451).unwrap(), "").into_response()).await;
    let (first, _) = serve(redirect_to(eas_url(loop_b))).await;
    let client = EasClient::new(config(&eas_url(first), ProtocolVersion::V14_1)).unwrap();
    let e = client.send(folder_sync()).await.unwrap_err();
    assert!(matches!(e, ClientError::Redirect { .. }), "{e}");
    assert!(e.to_string().contains("two redirects in a row"), "{e}");
    assert_no_secret(&e.to_string());

    // A 451 without a location, and one to a non-HTTP URL.
    let e = EasClient::new(config(&eas_url(loop_b), ProtocolVersion::V14_1))
        .unwrap()
        .send(folder_sync())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no X-MS-Location"), "{e}");
    let (ftp, _) = serve(redirect_to("ftp://127.0.0.1/x".into())).await;
    let e = EasClient::new(config(&eas_url(ftp), ProtocolVersion::V14_1))
        .unwrap()
        .send(folder_sync())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("only http and https"), "{e}");
}

/// A server that accepts connections and never answers.
async fn silent_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

#[tokio::test]
async fn a_silent_server_times_out_in_time() {
    let addr = silent_server().await;
    let mut c = config(&eas_url(addr), ProtocolVersion::V14_1);
    c.timeout = Duration::from_millis(300);
    let client = EasClient::new(c).unwrap();
    let started = Instant::now();
    let e = client.send(folder_sync()).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(e.to_string().contains("0.3s"), "{e}");

    // A per-request timeout overrides the config's.
    let mut c = config(&eas_url(addr), ProtocolVersion::V14_1);
    c.timeout = Duration::from_secs(60);
    let client = EasClient::new(c).unwrap();
    let started = Instant::now();
    let request = Request {
        timeout: Some(Duration::from_millis(200)),
        ..folder_sync()
    };
    let e = client.send(request).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = EasClient::new(config(&eas_url(addr), ProtocolVersion::V14_1)).unwrap();
    let e = client.options().await.unwrap_err();
    assert!(matches!(e, ClientError::ConnectionRefused { .. }), "{e}");
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
    assert_no_secret(&e.to_string());
    assert_no_secret(&format!("{e:?}"));
}

/// A server that answers with 100 MB, with or without announcing the
/// length, and counts what it managed to write.
async fn huge_server(announce_length: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    const TOTAL: usize = 100 * 1024 * 1024;
    let written = Arc::new(AtomicUsize::new(0));
    let count = written.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = if announce_length {
            format!("HTTP/1.1 200 OK\r\nContent-Length: {TOTAL}\r\n\r\n")
        } else {
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string()
        };
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'x'; 64 * 1024];
        while count.load(Ordering::Relaxed) < TOTAL {
            if socket.write_all(&chunk).await.is_err() {
                return;
            }
            count.fetch_add(chunk.len(), Ordering::Relaxed);
        }
    });
    (addr, written)
}

#[tokio::test]
async fn an_oversized_body_is_not_read_in_full() {
    for announce in [true, false] {
        let (addr, written) = huge_server(announce).await;
        let mut c = config(&eas_url(addr), ProtocolVersion::V14_1);
        c.max_response_bytes = 1024 * 1024;
        let client = EasClient::new(c).unwrap();
        let e = client.send(folder_sync()).await.unwrap_err();
        assert!(
            matches!(e, ClientError::ResponseTooLarge { limit, .. } if limit == 1024 * 1024),
            "{e}"
        );
        assert!(e.to_string().contains("max_response_bytes"), "{e}");
        drop(client);
        // The connection is gone: the server stops long before 100 MB.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = written.load(Ordering::Relaxed);
        assert!(
            n < 40 * 1024 * 1024,
            "announce {announce}: the server wrote {n} bytes"
        );
    }
}

// --- configuration and secrets ---------------------------------------------

#[test]
fn config_debug_and_errors_never_show_the_password() {
    let mut c = config(
        "http://127.0.0.1:1/Microsoft-Server-ActiveSync",
        ProtocolVersion::V14_1,
    );
    let debug = format!("{c:?}");
    assert_no_secret(&debug);
    assert!(debug.contains("[redacted]"), "{debug}");
    assert_eq!(c.device_type, "eastest");
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.max_response_bytes, 32 * 1024 * 1024);
    assert!(c.user_agent.starts_with("eastest/"));

    let client = EasClient::new(c.clone()).unwrap();
    assert_no_secret(&format!("{client:?}"));

    // A URL with the password in it is refused without echoing it.
    c.url = format!("http://{USER}:{PASSWORD}@127.0.0.1/x");
    let e = EasClient::new(c.clone()).unwrap_err();
    assert!(e.to_string().contains("credentials"), "{e}");
    assert_no_secret(&e.to_string());
    assert_no_secret(&format!("{e:?}"));
    c.url = format!("ht tp://{USER}:{PASSWORD}@bad url");
    let e = EasClient::new(c.clone()).unwrap_err();
    assert_no_secret(&e.to_string());
    c.url = "http://127.0.0.1/x?Cmd=Sync".into();
    assert!(EasClient::new(c.clone()).is_err());
    c.url = "http://127.0.0.1/x".into();
    c.timeout = Duration::ZERO;
    assert!(
        EasClient::new(c)
            .unwrap_err()
            .to_string()
            .contains("timeout")
    );
}

fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("eastest-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn a_bad_ca_cert_file_is_a_clear_error() {
    let mut c = config(
        "https://127.0.0.1:1/Microsoft-Server-ActiveSync",
        ProtocolVersion::V14_1,
    );
    c.ca_cert = Some(temp_file("garbage.pem", b"this is not a certificate\n"));
    let e = EasClient::new(c.clone()).unwrap_err();
    assert!(matches!(e, ClientError::CaCert { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("garbage.pem") && text.contains("no certificate"),
        "{text}"
    );

    c.ca_cert = Some(temp_file(
        "broken.pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ));
    let e = EasClient::new(c.clone()).unwrap_err();
    assert!(e.to_string().contains("broken.pem"), "{e}");

    c.ca_cert = Some(std::env::temp_dir().join("eastest-surely-missing.pem"));
    let e = EasClient::new(c).unwrap_err();
    assert!(e.to_string().contains("eastest-surely-missing.pem"), "{e}");
}

#[test]
fn secrets_from_env_and_file() {
    let path = temp_file("password", format!("{PASSWORD}\n").as_bytes());
    let secret = Secret::from_file(&path).unwrap();
    assert_eq!(secret.expose(), PASSWORD);
    assert_eq!(format!("{secret:?} {secret}"), "[redacted] [redacted]");
    let e = Secret::from_env("EASTEST_CLIENT_TEST_UNSET_VAR").unwrap_err();
    assert!(
        e.to_string().contains("EASTEST_CLIENT_TEST_UNSET_VAR"),
        "{e}"
    );
}

// --- TLS ----------------------------------------------------------------------

/// A test CA and a leaf for 127.0.0.1 and localhost signed by it (ECDSA
/// P-256, valid 2000-2100), made with openssl for these tests only.
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBZjCCAQ2gAwIBAgIBATAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9lYXN0ZXN0
IHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBoxGDAW
BgNVBAMMD2Vhc3Rlc3QgdGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
BEmxmEXYSmNtfbwsjLK9UPBhI/M85CdLYjNwfj+TyWzDbzsOEdxEygQeGAgle+tJ
gJwdcUwG0lqeDl5FcWU/3OyjQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/
BAQDAgEGMB0GA1UdDgQWBBTWS2nwoOzgKTR/HciVc1d554SrzTAKBggqhkjOPQQD
AgNHADBEAiAVPsyQ324JeZP+eFiqnhJ+cPAEKxGQbgm8yxTzIH6zjQIgM8zXYYU0
AvoCU7dydlnU8DtBCEiAtxseERvGVFgQ0aI=
-----END CERTIFICATE-----
";

const LEAF_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBszCCAVigAwIBAgIBAjAKBggqhkjOPQQDAjAaMRgwFgYDVQQDDA9lYXN0ZXN0
IHRlc3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQ
BgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABOs3MQfK
CY0UUv60g72TspckzYW/pAAMoMwk3AsVJH/FZV5nfwfIWCYzgEnMzudPztUhRsZI
b41mrVDFx1R6TIajgZIwgY8wDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4Aw
EwYDVR0lBAwwCgYIKwYBBQUHAwEwGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0
MB8GA1UdIwQYMBaAFNZLafCg7OApNH8dyJVzV3nnhKvNMB0GA1UdDgQWBBT4Ar/C
aRohzJKsU8o8nucjAZCJPDAKBggqhkjOPQQDAgNJADBGAiEA9229Rq5R/bL8QXAF
jgoyGScVBvR1AnJGOIIRAPcSj/cCIQDT9HTsYjLC2kLhT3qam2KXM1hlAHpJNbxc
kOyUf7p63g==
-----END CERTIFICATE-----
";

const LEAF_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmwUFBdo+uYfqsRw6
nn34tQyrsApUrsUw50Tmaoi1VzuhRANCAATrNzEHygmNFFL+tIO9k7KXJM2Fv6QA
DKDMJNwLFSR/xWVeZ38HyFgmM4BJzM7nT87VIUbGSG+NZq1QxcdUekyG
-----END PRIVATE KEY-----
";

/// An HTTPS server on a thread (rustls, blocking): each connection gets one
/// `200` answer with an OPTIONS-like header, then is closed. Failed
/// handshakes are skipped.
fn tls_server() -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(LEAF_PEM.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(LEAF_KEY_PEM.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(connection, stream);
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            if request.windows(4).any(|w| w == b"\r\n\r\n") {
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\nMS-ASProtocolVersions: 14.1\r\n\
                      Content-Length: 0\r\nConnection: close\r\n\r\n",
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });
    addr
}

#[tokio::test]
async fn tls_with_the_lab_ca_without_it_and_insecure() {
    let addr = tls_server();
    let url = format!("https://{addr}/Microsoft-Server-ActiveSync");

    let mut trusted = config(&url, ProtocolVersion::V14_1);
    trusted.ca_cert = Some(temp_file("lab-ca.pem", CA_PEM.as_bytes()));
    let response = EasClient::new(trusted).unwrap().options().await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(EasClient::server_info(&response).versions, ["14.1"]);

    let untrusted = EasClient::new(config(&url, ProtocolVersion::V14_1)).unwrap();
    let e = untrusted.options().await.unwrap_err();
    assert!(matches!(e, ClientError::Tls { .. }), "{e}");
    assert!(e.to_string().contains("ca_cert"), "{e}");
    assert_no_secret(&e.to_string());

    let mut insecure = config(&url, ProtocolVersion::V14_1);
    insecure.insecure = true;
    let response = EasClient::new(insecure).unwrap().options().await.unwrap();
    assert_eq!(response.status, 200);
}
