//! The mock's HTTP/1.1 transport and HTTPS (`src/mock/transport`), over
//! raw sockets on 127.0.0.1 (so that framing, keep-alive and errors are
//! seen byte for byte) and with reqwest for TLS.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use eastest::mock::{MockConfig, MockServer, PATH, Timeouts, TlsError, TlsSetup};
use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const WBXML: &str = "application/vnd.ms-sync.wbxml";
/// How long a test waits for any one answer.
const PATIENCE: Duration = Duration::from_secs(20);

// Code page 13, Ping.
const PING_PAGE: u8 = 0x0D;
const PING: u8 = 0x05;
const PING_HEARTBEAT_INTERVAL: u8 = 0x08;
const PING_FOLDERS: u8 = 0x09;
const PING_FOLDER: u8 = 0x0A;
const PING_ID: u8 = 0x0B;
const PING_CLASS: u8 = 0x0C;
/// The seed's Notes folder; once synced, a Ping on it waits.
const NOTES: &str = "9";

async fn server_with(change: impl FnOnce(&mut MockConfig)) -> MockServer {
    let mut config = MockConfig::default();
    change(&mut config);
    MockServer::start(config).await.expect("the mock starts")
}

/// A response as read off the wire.
#[derive(Debug)]
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.split("\r\n").skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn closes(&self) -> bool {
        self.header("Connection") == Some("close")
    }
}

/// One client connection, plain or TLS.
struct Raw<S> {
    stream: S,
    buf: Vec<u8>,
}

impl Raw<TcpStream> {
    async fn connect(server: &MockServer) -> Raw<TcpStream> {
        let stream = TcpStream::connect(server.addr()).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Raw<S> {
    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    /// Reads more; false at end of stream (or a reset).
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(PATIENCE, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => false,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(_) => panic!("no answer within {PATIENCE:?}"),
        }
    }

    /// The next response (the mock frames every body with Content-Length);
    /// `None` if the connection ends first.
    async fn try_response(&mut self) -> Option<Response> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.buf[..end].to_vec()).expect("an ASCII head");
                let status: u16 = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("a status line");
                let mut response = Response {
                    status,
                    head,
                    body: Vec::new(),
                };
                let length: usize = response
                    .header("Content-Length")
                    .map(|v| v.parse().expect("a numeric Content-Length"))
                    .unwrap_or(0);
                assert!(
                    response.header("Transfer-Encoding").is_none(),
                    "{}",
                    response.head
                );
                while self.buf.len() < end + 4 + length {
                    assert!(self.fill().await, "the body was cut short");
                }
                response.body = self.buf[end + 4..end + 4 + length].to_vec();
                self.buf.drain(..end + 4 + length);
                return Some(response);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    async fn response(&mut self) -> Response {
        self.try_response()
            .await
            .expect("a response before the connection closed")
    }

    /// True when the server closes the connection with nothing more sent.
    async fn closed(&mut self) -> bool {
        !self.fill().await && self.buf.is_empty()
    }
}

/// An authenticated OPTIONS request head, with `extra` header lines.
fn options(extra: &str) -> String {
    format!(
        "OPTIONS {PATH} HTTP/1.1\r\nHost: mock\r\nAuthorization: {}\r\n{extra}\r\n",
        basic("alice", "alice-pass")
    )
}

/// A POST request head for `device`, without the blank line (add framing
/// fields, then `\r\n`).
fn post_head(device: &Device, cmd: &str, version: &str) -> String {
    format!(
        "POST {PATH}?Cmd={cmd}&User={}&DeviceId={}&DeviceType=TestDevice {version}\r\n\
         Host: mock\r\nAuthorization: {}\r\nMS-ASProtocolVersion: {}\r\n\
         X-MS-PolicyKey: {}\r\nContent-Type: {WBXML}\r\n",
        device.user,
        device.device_id,
        basic(device.user, device.password),
        device.version,
        device.policy_key.as_deref().unwrap_or("0"),
    )
}

fn with_length(head: String, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{head}Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Decodes a 200 WBXML answer whose root is `root`.
fn decode(response: &Response, root: &str) -> Element {
    assert_eq!(response.status, 200, "{}", response.head);
    assert_eq!(response.header("Content-Type"), Some(WBXML));
    let element = Element::from_wbxml(
        &response.body,
        &DecodeOptions::strict(ProtocolVersion::V14_1),
    )
    .expect("a valid WBXML answer");
    assert_eq!(element.name, root);
    element
}

fn ping_request(interval: u32, folder: &str, class: &str) -> Vec<u8> {
    Body::new(PING_PAGE, PING)
        .text(PING_HEARTBEAT_INTERVAL, &interval.to_string())
        .open(PING_FOLDERS)
        .open(PING_FOLDER)
        .text(PING_ID, folder)
        .text(PING_CLASS, class)
        .end()
        .end()
        .done()
}

/// A provisioned 14.1 device of alice that has done its FolderSync and
/// synced the Notes folder (so that a Ping on it waits).
async fn ready_device(server: &MockServer) -> Device {
    let device = Device::provisioned(server, "14.1", "alice", "transport1").await;
    folder_sync(&device).await;
    full_sync(&device, NOTES).await;
    device
}

#[tokio::test]
async fn one_connection_carries_several_requests() {
    let server = start().await;
    let mut conn = Raw::connect(&server).await;
    for _ in 0..3 {
        conn.send(options("").as_bytes()).await;
        let r = conn.response().await;
        assert_eq!(r.status, 200, "{}", r.head);
        assert!(r.head.starts_with("HTTP/1.1 200 OK\r\n"), "{}", r.head);
        assert!(r.header("MS-ASProtocolVersions").is_some(), "{}", r.head);
        assert!(r.header("Date").is_some_and(|d| d.ends_with(" GMT")));
        assert_eq!(r.header("Content-Length"), Some("0"));
        assert!(!r.closes(), "{}", r.head);
    }
    // A POST with a body, on the same connection.
    let device = ready_device(&server).await;
    let head = post_head(&device, "FolderSync", "HTTP/1.1");
    conn.send(&with_length(head, &folder_sync_request("0")))
        .await;
    let r = conn.response().await;
    let root = decode(&r, "FolderSync");
    assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    server.shutdown().await;
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = start().await;
    let device = ready_device(&server).await;
    let mut conn = Raw::connect(&server).await;
    let mut burst = options("").into_bytes();
    burst.extend(with_length(
        post_head(&device, "FolderSync", "HTTP/1.1"),
        &folder_sync_request("0"),
    ));
    burst.extend(options("Connection: close\r\n").into_bytes());
    conn.send(&burst).await;
    let first = conn.response().await;
    assert_eq!(first.status, 200);
    assert!(first.header("MS-ASProtocolCommands").is_some());
    decode(&conn.response().await, "FolderSync");
    let last = conn.response().await;
    assert_eq!(last.status, 200);
    assert!(last.closes(), "{}", last.head);
    assert!(conn.closed().await);
    server.shutdown().await;
}

#[tokio::test]
async fn a_chunked_body_is_decoded() {
    let server = start().await;
    let device = ready_device(&server).await;
    let body = folder_sync_request("0");
    let (a, b) = body.split_at(5);
    let mut conn = Raw::connect(&server).await;
    let head = post_head(&device, "FolderSync", "HTTP/1.1");
    conn.send(format!("{head}Transfer-Encoding: chunked\r\n\r\n").as_bytes())
        .await;
    // In pieces, with an extension and a trailer.
    conn.send(format!("{:x};piece=1\r\n", a.len()).as_bytes())
        .await;
    conn.send(a).await;
    conn.send(format!("\r\n{:X}\r\n", b.len()).as_bytes()).await;
    conn.send(b).await;
    conn.send(b"\r\n0\r\nX-Checksum: none\r\n\r\n").await;
    let root = decode(&conn.response().await, "FolderSync");
    assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    // The connection is still usable.
    conn.send(options("").as_bytes()).await;
    assert_eq!(conn.response().await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_that_comes_after_its_head_is_streamed() {
    let server = start().await;
    let device = ready_device(&server).await;
    let body = folder_sync_request("0");
    let mut conn = Raw::connect(&server).await;
    for _ in 0..2 {
        let head = post_head(&device, "FolderSync", "HTTP/1.1");
        conn.send(format!("{head}Content-Length: {}\r\n\r\n", body.len()).as_bytes())
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        conn.send(&body[..3]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        conn.send(&body[3..]).await;
        let root = decode(&conn.response().await, "FolderSync");
        assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn expect_100_continue_gets_100_before_the_body() {
    let server = start().await;
    let device = ready_device(&server).await;
    let body = folder_sync_request("0");
    let mut conn = Raw::connect(&server).await;
    let head = post_head(&device, "FolderSync", "HTTP/1.1");
    conn.send(
        format!(
            "{head}Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await;
    let interim = conn.response().await;
    assert_eq!(interim.status, 100, "{}", interim.head);
    conn.send(&body).await;
    decode(&conn.response().await, "FolderSync");
    server.shutdown().await;
}

#[tokio::test]
async fn connection_close_and_http_1_0_close_after_the_answer() {
    let server = start().await;
    let mut conn = Raw::connect(&server).await;
    conn.send(options("Connection: close\r\n").as_bytes()).await;
    let r = conn.response().await;
    assert_eq!(r.status, 200);
    assert!(r.closes(), "{}", r.head);
    assert!(conn.closed().await, "the server closes");

    // HTTP/1.0: closed unless keep-alive is asked for.
    let ten = |extra: &str| options(extra).replacen("HTTP/1.1", "HTTP/1.0", 1);
    let mut conn = Raw::connect(&server).await;
    conn.send(ten("").as_bytes()).await;
    let r = conn.response().await;
    assert_eq!(r.status, 200);
    assert!(r.closes(), "{}", r.head);
    assert!(conn.closed().await);

    let mut conn = Raw::connect(&server).await;
    for _ in 0..2 {
        conn.send(ten("Connection: keep-alive\r\n").as_bytes())
            .await;
        let r = conn.response().await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Connection"), Some("keep-alive"), "{}", r.head);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_malformed_head_gets_400_and_the_connection_closes() {
    let server = start().await;
    for garbage in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"POST /x HTTP/1.1\r\nBad Header\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"\x00\x01\x02\r\n\r\n",
    ] {
        let mut conn = Raw::connect(&server).await;
        conn.send(garbage).await;
        let r = conn.response().await;
        assert_eq!(
            r.status,
            400,
            "{:?}: {}",
            String::from_utf8_lossy(garbage),
            r.head
        );
        assert!(r.closes());
        assert!(conn.closed().await);
    }
    // An unknown transfer coding: 501.
    let mut conn = Raw::connect(&server).await;
    conn.send(b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
        .await;
    assert_eq!(conn.response().await.status, 501);
    server.shutdown().await;
}

#[tokio::test]
async fn an_oversized_head_gets_431() {
    let server = start().await;
    let mut conn = Raw::connect(&server).await;
    let big = format!("X-Filler: {}\r\n", "a".repeat(70 * 1024));
    conn.send(options(&big).as_bytes()).await;
    let r = conn.response().await;
    assert_eq!(r.status, 431, "{}", r.head);
    assert!(r.closes());

    // Too many fields, each small.
    let mut conn = Raw::connect(&server).await;
    let many: String = (0..150).map(|i| format!("X-F{i}: {i}\r\n")).collect();
    conn.send(options(&many).as_bytes()).await;
    assert_eq!(conn.response().await.status, 431);
    server.shutdown().await;
}

#[tokio::test]
async fn an_oversized_body_gets_413_without_being_read() {
    let server = server_with(|c| c.max_body_bytes = 1024).await;
    let device = ready_device(&server).await;

    // Content-Length above the limit: answered at once, no body sent.
    let mut conn = Raw::connect(&server).await;
    let head = post_head(&device, "FolderSync", "HTTP/1.1");
    conn.send(format!("{head}Content-Length: 1000000\r\n\r\n").as_bytes())
        .await;
    let r = conn.response().await;
    assert_eq!(r.status, 413, "{}", r.head);
    assert!(r.closes());

    // With Expect: no 100 Continue, the 413 straight away.
    let mut conn = Raw::connect(&server).await;
    let head = post_head(&device, "FolderSync", "HTTP/1.1");
    conn.send(format!("{head}Expect: 100-continue\r\nContent-Length: 1000000\r\n\r\n").as_bytes())
        .await;
    assert_eq!(conn.response().await.status, 413);

    // Chunked: 413 once the data passes the limit, though it never ends.
    let mut conn = Raw::connect(&server).await;
    let head = post_head(&device, "FolderSync", "HTTP/1.1");
    conn.send(format!("{head}Transfer-Encoding: chunked\r\n\r\n").as_bytes())
        .await;
    for _ in 0..4 {
        conn.send(format!("200\r\n{}\r\n", "x".repeat(0x200)).as_bytes())
            .await;
    }
    let r = conn.response().await;
    assert_eq!(r.status, 413, "{}", r.head);
    assert!(r.closes());
    server.shutdown().await;
}

#[tokio::test]
async fn a_slow_head_times_out_with_408() {
    let server = server_with(|c| {
        c.timeouts = Timeouts {
            head: Duration::from_millis(300),
            ..Timeouts::default()
        }
    })
    .await;
    let mut conn = Raw::connect(&server).await;
    let started = Instant::now();
    conn.send(b"OPTIONS /Microsoft-Server-ActiveSync HTTP/1.1\r\nHost: ")
        .await;
    let r = conn.response().await;
    assert_eq!(r.status, 408, "{}", r.head);
    assert!(r.closes());
    assert!(started.elapsed() < Duration::from_secs(5));
    server.shutdown().await;
}

#[tokio::test]
async fn a_stalled_body_closes_the_connection() {
    let server = server_with(|c| {
        c.timeouts = Timeouts {
            io: Duration::from_millis(300),
            ..Timeouts::default()
        }
    })
    .await;
    let device = ready_device(&server).await;
    let mut conn = Raw::connect(&server).await;
    let head = post_head(&device, "FolderSync", "HTTP/1.1");
    conn.send(format!("{head}Content-Length: 100\r\n\r\n0123456789").as_bytes())
        .await;
    let started = Instant::now();
    assert!(conn.closed().await, "closed, without an answer");
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(started.elapsed() < Duration::from_secs(5));
    server.shutdown().await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let server = server_with(|c| {
        c.timeouts = Timeouts {
            idle: Duration::from_millis(300),
            ..Timeouts::default()
        }
    })
    .await;
    let mut conn = Raw::connect(&server).await;
    conn.send(options("").as_bytes()).await;
    assert_eq!(conn.response().await.status, 200);
    let started = Instant::now();
    assert!(conn.closed().await, "closed without an answer");
    assert!(started.elapsed() >= Duration::from_millis(250));
    server.shutdown().await;
}

#[tokio::test]
async fn a_held_ping_is_answered_and_the_connection_goes_on() {
    let server = server_with(|c| c.heartbeat_range = (1, 3540)).await;
    let device = ready_device(&server).await;
    let mut conn = Raw::connect(&server).await;
    let started = Instant::now();
    conn.send(&with_length(
        post_head(&device, "Ping", "HTTP/1.1"),
        &ping_request(1, NOTES, "Notes"),
    ))
    .await;
    let root = decode(&conn.response().await, "Ping");
    // Status 1: the interval expired without changes.
    assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    assert!(started.elapsed() >= Duration::from_millis(900));
    conn.send(options("").as_bytes()).await;
    assert_eq!(conn.response().await.status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_leaving_drops_its_held_ping() {
    let server = start().await;
    let device = ready_device(&server).await;
    let mut conn = Raw::connect(&server).await;
    conn.send(&with_length(
        post_head(&device, "Ping", "HTTP/1.1"),
        &ping_request(3540, NOTES, "Notes"),
    ))
    .await;
    // Let the Ping start waiting, then leave.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(conn);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Shutdown waits for requests in flight: were the Ping still held, it
    // would wait for its hour.
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("the held Ping was dropped with its connection");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn shutdown_lets_requests_in_flight_finish() {
    let server = server_with(|c| c.heartbeat_range = (1, 3540)).await;
    let device = ready_device(&server).await;
    let addr = server.addr();
    let mut idle = Raw::connect(&server).await;
    idle.send(options("").as_bytes()).await;
    assert_eq!(idle.response().await.status, 200);

    let mut conn = Raw::connect(&server).await;
    conn.send(&with_length(
        post_head(&device, "Ping", "HTTP/1.1"),
        &ping_request(2, NOTES, "Notes"),
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shutdown = tokio::spawn(server.shutdown());
    // The idle connection is closed at once, new ones are refused...
    assert!(idle.closed().await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer accepting"
    );
    assert!(!shutdown.is_finished(), "the Ping is still in flight");
    // ...and the Ping in flight gets its answer, then the connection closes.
    let r = conn.response().await;
    let root = decode(&r, "Ping");
    assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    assert!(r.closes(), "{}", r.head);
    assert!(conn.closed().await);
    tokio::time::timeout(PATIENCE, shutdown)
        .await
        .expect("shutdown ends once the Ping is answered")
        .unwrap();
}

#[tokio::test]
async fn reqwest_keeps_working_over_the_transport() {
    // Keep-alive and a 449 (12.1: HTTP status) through reqwest's own client.
    let server = start().await;
    let mut device = Device::new(&server, "12.1");
    let r = device.post("FolderSync", folder_sync_request("0")).await;
    assert_eq!(r.status().as_u16(), 449);
    device.provision().await;
    for _ in 0..3 {
        let root = device.call("FolderSync", folder_sync_request("0")).await;
        assert_eq!(root.child_text("Status").as_deref(), Some("1"));
    }
    server.shutdown().await;
}

// ---------------------------------------------------------------------------
// TLS

/// A reqwest client trusting exactly `der`.
fn trusting(der: &[u8]) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_gzip()
        .tls_certs_only([reqwest::Certificate::from_der(der).unwrap()])
        .build()
        .unwrap()
}

#[tokio::test]
async fn tls_with_a_generated_certificate_serves_options_and_sync() {
    let server = server_with(|c| {
        c.tls = Some(TlsSetup::SelfSigned {
            names: vec!["eas.lab.example".into()],
        })
    })
    .await;
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    let cert = server
        .certificate()
        .expect("a TLS server has a certificate");
    let fingerprint = cert.sha256_fingerprint();
    assert_eq!(fingerprint.len(), 95, "{fingerprint}");
    assert!(
        fingerprint.split(':').all(|b| b.len() == 2
            && b.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())),
        "{fingerprint}"
    );
    assert!(
        cert.generated_names()
            .contains(&"eas.lab.example".to_string())
    );
    let http = trusting(cert.der());

    let r = http
        .request(reqwest::Method::OPTIONS, server.url())
        .header("Authorization", basic("alice", "alice-pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().contains_key("ms-asprotocolversions"));

    let mut device = Device::new(&server, "14.1");
    device.http = http;
    device.provision().await;
    folder_sync(&device).await;
    let key = prime(&device, "1").await;
    let (commands, _) = sync_all(&device, "1", &key).await;
    assert_eq!(commands.len(), 3, "the seed's three messages over TLS");
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_fails_the_handshake() {
    let server = server_with(|c| c.tls = Some(TlsSetup::SelfSigned { names: Vec::new() })).await;
    // Trusting another certificate, not this one.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let http = trusting(other.cert.der());
    let e = http
        .request(reqwest::Method::OPTIONS, server.url())
        .send()
        .await
        .expect_err("the handshake fails");
    assert!(e.is_connect(), "{e:?}");
    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut conn = Raw::connect(&server).await;
    conn.send(options("").as_bytes()).await;
    assert!(conn.try_response().await.is_none());
    server.shutdown().await;
}

/// A temporary directory, removed at drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "eastest-transport-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn tls_with_certificate_and_key_files() {
    let dir = TempDir::new("files");
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.0.join("cert.pem");
    let key = dir.0.join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    let server = server_with(|c| {
        c.tls = Some(TlsSetup::Files {
            cert: cert.clone(),
            key: key.clone(),
        })
    })
    .await;
    let served = server.certificate().unwrap();
    assert_eq!(served.der(), generated.cert.der().as_ref());
    assert!(served.generated_names().is_empty());
    let url = server.url().replace("127.0.0.1", "localhost");
    let r = trusting(generated.cert.der())
        .request(reqwest::Method::OPTIONS, &url)
        .header("Authorization", basic("alice", "alice-pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    server.shutdown().await;
}

#[tokio::test]
async fn bad_certificate_or_key_files_are_reported_by_name() {
    let dir = TempDir::new("bad");
    let one = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let two = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = dir.0.join("cert.pem");
    let key = dir.0.join("key.pem");
    let other_key = dir.0.join("other-key.pem");
    let garbage = dir.0.join("garbage.pem");
    let missing = dir.0.join("missing.pem");
    std::fs::write(&cert, one.cert.pem()).unwrap();
    std::fs::write(&key, one.signing_key.serialize_pem()).unwrap();
    std::fs::write(&other_key, two.signing_key.serialize_pem()).unwrap();
    std::fs::write(&garbage, "this is not PEM\n").unwrap();

    let failure = |cert: &PathBuf, key: &PathBuf| {
        let (cert, key) = (cert.clone(), key.clone());
        async move {
            let config = MockConfig {
                tls: Some(TlsSetup::Files { cert, key }),
                ..MockConfig::default()
            };
            let e = match MockServer::start(config).await {
                Ok(_) => panic!("the server started with bad TLS files"),
                Err(e) => e,
            };
            e.get_ref()
                .and_then(|inner| inner.downcast_ref::<TlsError>())
                .cloned()
                .expect("a TlsError")
        }
    };
    let e = failure(&missing, &key).await;
    assert_eq!(e.path.as_ref(), Some(&missing));
    assert!(e.message.contains("cannot read"), "{e}");
    let e = failure(&garbage, &key).await;
    assert_eq!(e.path.as_ref(), Some(&garbage));
    assert!(e.to_string().contains("garbage.pem"), "{e}");
    let e = failure(&cert, &garbage).await;
    assert_eq!(e.path.as_ref(), Some(&garbage));
    assert!(e.message.contains("private key"), "{e}");
    let e = failure(&cert, &other_key).await;
    assert_eq!(e.path.as_ref(), Some(&other_key));
    assert!(e.message.contains("does not fit"), "{e}");
    // A good pair still works.
    let server = MockServer::start(MockConfig {
        tls: Some(TlsSetup::Files { cert, key }),
        ..MockConfig::default()
    })
    .await
    .unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn serve_tls_prints_the_fingerprint_and_writes_the_certificate() {
    let dir = TempDir::new("serve");
    let out = dir.0.join("device-cert.pem");
    let out_arg = out.to_str().unwrap().to_string();
    let server = tokio::task::spawn_blocking(move || {
        ServeProcess::spawn(
            &[
                "--tls",
                "--tls-name",
                "eas.lab.example",
                "--tls-cert-out",
                &out_arg,
            ],
            &[],
        )
    })
    .await
    .unwrap();
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let fingerprint = server
        .banner
        .iter()
        .find_map(|l| l.strip_prefix("TLS certificate SHA-256: "))
        .unwrap_or_else(|| panic!("no fingerprint in {:?}", server.banner))
        .to_string();
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.contains(out.to_str().unwrap()) && l.contains("eas.lab.example")),
        "{:?}",
        server.banner
    );
    // The written certificate is the one served, and its fingerprint the
    // one printed.
    let pem = std::fs::read(&out).unwrap();
    use rustls::pki_types::pem::PemObject as _;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(fingerprint, hex.join(":"));
    let r = trusting(&der)
        .request(reqwest::Method::OPTIONS, &server.url)
        .header("Authorization", basic("alice", "alice-pass"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
}

#[tokio::test]
async fn serve_reports_a_bad_certificate_file_by_name() {
    let dir = TempDir::new("serve-bad");
    let cert = dir.0.join("broken-cert.pem");
    std::fs::write(&cert, "not a certificate\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_eastest"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken-cert.pem"), "{stderr}");
    assert!(stderr.contains("CERTIFICATE"), "{stderr}");
}
