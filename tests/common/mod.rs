//! Helpers shared by the tests that talk to the mock server over real HTTP
//! (`mock_http`, `mock_folders`, `mock_settings`, ...): a device with its
//! credentials and keys, the Provision handshake, the request bodies more
//! than one of them sends, token-by-token request builders ([`Body`] on one
//! code page, [`W`] across pages), and the round trips several of them
//! make: FolderSync and Sync priming ([`folder_sync`], [`prime`],
//! [`sync_all`], [`full_sync`], [`items`]), one-command Syncs
//! ([`add_request`], [`change_request`]), SendMail ([`send_mail_request`],
//! [`sent_ok`]) and the test hooks ([`hook`]).
//! Request bodies are assembled by hand from the MS-ASWBXML tables, not by
//! eastest's encoder, so the mock is not only checked against itself.

// Each test binary compiles this module on its own and uses a different
// subset of it; what one binary leaves unused is not dead code.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Lines, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use eastest::mock::{MockConfig, MockServer};
use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};
use reqwest::StatusCode;

/// WBXML 1.3, unknown public id, UTF-8, no string table.
pub const HEADER: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];
pub const SWITCH_PAGE: u8 = 0x00;
pub const END: u8 = 0x01;
pub const STR_I: u8 = 0x03;
pub const OPAQUE: u8 = 0xC3;
/// Or'ed into a tag token: the element has content.
pub const CONTENT: u8 = 0x40;

pub const POLICY_TYPE: &str = "MS-EAS-Provisioning-WBXML";

/// An inline string: `STR_I`, the UTF-8 bytes, a terminating NUL.
pub fn str_i(out: &mut Vec<u8>, s: &str) {
    out.push(STR_I);
    out.extend_from_slice(s.as_bytes());
    out.push(0x00);
}

/// OPAQUE content: the `OPAQUE` token, the length as a WBXML multi-byte
/// integer (7 bits a byte, most significant first, the high bit on every
/// byte but the last), then the bytes.
pub fn opaque(out: &mut Vec<u8>, data: &[u8]) {
    out.push(OPAQUE);
    let mut n = data.len();
    let mut len = vec![(n & 0x7F) as u8];
    n >>= 7;
    while n > 0 {
        len.push((n & 0x7F) as u8 | 0x80);
        n >>= 7;
    }
    len.reverse();
    out.extend_from_slice(&len);
    out.extend_from_slice(data);
}

/// A request body, token by token: [`Body::new`] writes the header and opens
/// the command's root element, [`Body::done`] closes it.
pub struct Body(Vec<u8>);

impl Body {
    /// `HEADER`, `SWITCH_PAGE page`, then the root tag `root` with content.
    pub fn new(page: u8, root: u8) -> Body {
        let mut b = HEADER.to_vec();
        b.extend_from_slice(&[SWITCH_PAGE, page, root | CONTENT]);
        Body(b)
    }

    /// A tag with content; close it with [`Body::end`].
    pub fn open(mut self, token: u8) -> Body {
        self.0.push(token | CONTENT);
        self
    }

    pub fn end(mut self) -> Body {
        self.0.push(END);
        self
    }

    /// A tag without content (`<AppliesToInternal/>`).
    pub fn empty(mut self, token: u8) -> Body {
        self.0.push(token);
        self
    }

    /// `<tag>text</tag>`.
    pub fn text(mut self, token: u8, text: &str) -> Body {
        self.0.push(token | CONTENT);
        str_i(&mut self.0, text);
        self.0.push(END);
        self
    }

    /// `<tag>` with opaque content (a 16.x `Mime`).
    pub fn opaque(mut self, token: u8, data: &[u8]) -> Body {
        self.0.push(token | CONTENT);
        opaque(&mut self.0, data);
        self.0.push(END);
        self
    }

    /// Closes the root; the finished body.
    pub fn done(self) -> Vec<u8> {
        self.end().0
    }
}

/// `<FolderSync xmlns="FolderHierarchy:"><SyncKey>key</SyncKey></FolderSync>`
/// (code page 7: FolderSync 0x16, SyncKey 0x12).
pub fn folder_sync_request(key: &str) -> Vec<u8> {
    let mut b = HEADER.to_vec();
    b.extend_from_slice(&[0x00, 0x07, 0x56, 0x52]);
    str_i(&mut b, key);
    b.extend_from_slice(&[0x01, 0x01]);
    b
}

/// Provision phase one, or phase two when `ack` is `Some(temporary key)`
/// (code page 14: Provision 0x05, Policies 0x06, Policy 0x07, PolicyType
/// 0x08, PolicyKey 0x09, Status 0x0B).
pub fn provision_request(ack: Option<&str>) -> Vec<u8> {
    let mut b = HEADER.to_vec();
    // SWITCH_PAGE 14; Provision, Policies, Policy, PolicyType with content.
    b.extend_from_slice(&[0x00, 0x0E, 0x45, 0x46, 0x47, 0x48]);
    str_i(&mut b, POLICY_TYPE);
    b.push(0x01);
    if let Some(key) = ack {
        b.push(0x49); // PolicyKey
        str_i(&mut b, key);
        b.push(0x01);
        b.push(0x4B); // Status
        str_i(&mut b, "1");
        b.push(0x01);
    }
    b.extend_from_slice(&[0x01, 0x01, 0x01]);
    b
}

/// One device: its credentials, id, protocol version, and keys.
pub struct Device {
    pub http: reqwest::Client,
    pub url: String,
    pub user: &'static str,
    pub password: &'static str,
    pub device_id: &'static str,
    pub version: &'static str,
    pub policy_key: Option<String>,
    /// The FolderSync key as the device last received it.
    pub key: String,
}

impl Device {
    /// alice's `device01`, not provisioned.
    pub fn new(server: &MockServer, version: &'static str) -> Device {
        Device::of(server, version, "alice", "device01")
    }

    /// A device of `user` (whose password is `USER-pass`), not provisioned.
    pub fn of(
        server: &MockServer,
        version: &'static str,
        user: &'static str,
        device_id: &'static str,
    ) -> Device {
        let password = match user {
            "alice" => "alice-pass",
            "bob" => "bob-pass",
            other => panic!("no test account {other}"),
        };
        Device {
            http: http(),
            url: server.url(),
            user,
            password,
            device_id,
            version,
            policy_key: None,
            key: "0".to_string(),
        }
    }

    /// A device of `user` (whose password is `USER-pass`), provisioned.
    pub async fn provisioned(
        server: &MockServer,
        version: &'static str,
        user: &'static str,
        device_id: &'static str,
    ) -> Device {
        let mut device = Device::of(server, version, user, device_id);
        device.provision().await;
        device
    }

    /// A `cmd` request with the device's query, credentials, version and
    /// policy key, ready for more headers; [`Device::post`] sends it as is.
    pub fn request(&self, cmd: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.request_with(cmd, "", "application/vnd.ms-sync.wbxml", body)
    }

    /// [`Device::request`] with `params` (`&Name=value...`) after the
    /// request line's own and another `Content-Type` (12.1's raw MIME
    /// SendMail is `message/rfc822`).
    pub fn request_with(
        &self,
        cmd: &str,
        params: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(format!(
                "{}?Cmd={cmd}&User={}&DeviceId={}&DeviceType=TestDevice{params}",
                self.url, self.user, self.device_id
            ))
            .header("Authorization", basic(self.user, self.password))
            .header("MS-ASProtocolVersion", self.version)
            .header("Content-Type", content_type)
            .body(body);
        if let Some(key) = &self.policy_key {
            request = request.header("X-MS-PolicyKey", key);
        }
        request
    }

    pub async fn post(&self, cmd: &str, body: Vec<u8>) -> reqwest::Response {
        self.request(cmd, body)
            .send()
            .await
            .expect("the mock answers")
    }

    /// Posts and decodes a 200 WBXML answer strictly for the device's
    /// version; its root is the command's own.
    pub async fn call(&self, cmd: &str, body: Vec<u8>) -> Element {
        let response = self.post(cmd, body).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{cmd} in {}",
            self.version
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/vnd.ms-sync.wbxml"
        );
        let bytes = response.bytes().await.unwrap();
        let version: ProtocolVersion = self.version.parse().unwrap();
        let root =
            Element::from_wbxml(&bytes, &DecodeOptions::strict(version)).expect("a valid response");
        assert_eq!(root.name, cmd, "the response's root");
        root
    }

    /// Both phases of the Provision handshake; keeps the final key.
    pub async fn provision(&mut self) {
        let phase1 = self.call("Provision", provision_request(None)).await;
        let temporary = policy_of(&phase1)
            .child_text("PolicyKey")
            .expect("a temporary key");
        let phase2 = self
            .call("Provision", provision_request(Some(&temporary)))
            .await;
        let key = policy_of(&phase2)
            .child_text("PolicyKey")
            .expect("a final key");
        assert_ne!(
            key, temporary,
            "the final key differs from the temporary one"
        );
        self.policy_key = Some(key);
    }
}

/// The `Authorization` header value for HTTP Basic.
pub fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
}

/// An OPTIONS request with alice's credentials.
pub async fn options(server: &MockServer) -> reqwest::Response {
    http()
        .request(reqwest::Method::OPTIONS, server.url())
        .header("Authorization", basic("alice", "alice-pass"))
        .send()
        .await
        .unwrap()
}

pub fn policy_of(provision: &Element) -> &Element {
    provision
        .child("Policies")
        .and_then(|p| p.child("Policy"))
        .expect("Policies/Policy")
}

pub async fn start() -> MockServer {
    MockServer::start(MockConfig::default())
        .await
        .expect("the mock starts")
}

/// `eastest serve --listen 127.0.0.1:0 ARGS` as a child process, as a user
/// runs it: its URL (the first stdout line) and the banner after it (up to
/// `stop with Ctrl-C`) already read, stderr drained on a thread so that the
/// server never blocks on a full pipe, and a 60 s watchdog that kills it
/// should it misbehave, so that the test run never hangs.
pub struct ServeProcess {
    pub child: Child,
    pub url: String,
    /// The stdout lines after the URL, up to and with `stop with Ctrl-C`.
    pub banner: Vec<String>,
    /// The rest of stdout.
    pub lines: Lines<BufReader<ChildStdout>>,
    stderr: JoinHandle<String>,
}

impl ServeProcess {
    /// Starts the server with `args` after the listen address and `env` set.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> ServeProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eastest"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
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
        let mut banner = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let done = line == "stop with Ctrl-C";
            banner.push(line);
            if done {
                break;
            }
        }
        ServeProcess {
            child,
            url,
            banner,
            lines,
            stderr,
        }
    }

    /// Sends SIGINT (Ctrl-C) to the server.
    pub fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on the child's pid, which has not been waited for yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    /// Ctrl-C, then checks that the server says `stopping` and exits with
    /// success; its stderr.
    pub fn stop(mut self) -> String {
        self.interrupt();
        let rest: Vec<String> = self.lines.map(|l| l.unwrap()).collect();
        assert_eq!(rest, ["stopping"]);
        assert!(self.child.wait().unwrap().success());
        self.stderr.join().unwrap()
    }
}

/// A WBXML body written token by token that switches code pages as needed:
/// `W::new(page, root)`, then `open`/`text`/`empty`/`end`, then `done`.
pub struct W {
    bytes: Vec<u8>,
    page: u8,
}

impl W {
    /// The header, then the root tag `root` (with content) on `page`.
    pub fn new(page: u8, root: u8) -> W {
        W {
            bytes: vec![
                HEADER[0],
                HEADER[1],
                HEADER[2],
                HEADER[3],
                SWITCH_PAGE,
                page,
                root | CONTENT,
            ],
            page,
        }
    }

    /// `<Sync xmlns="AirSync:">` (code page 0, token 0x05).
    pub fn sync() -> W {
        W::new(0, 0x05)
    }

    fn page(&mut self, page: u8) {
        if page != self.page {
            self.bytes.extend_from_slice(&[SWITCH_PAGE, page]);
            self.page = page;
        }
    }

    /// A tag with content; close it with [`W::end`].
    pub fn open(mut self, page: u8, token: u8) -> W {
        self.page(page);
        self.bytes.push(token | CONTENT);
        self
    }

    /// A tag without content.
    pub fn empty(mut self, page: u8, token: u8) -> W {
        self.page(page);
        self.bytes.push(token);
        self
    }

    /// `<tag>text</tag>`.
    pub fn text(mut self, page: u8, token: u8, text: &str) -> W {
        self.page(page);
        self.bytes.push(token | CONTENT);
        str_i(&mut self.bytes, text);
        self.bytes.push(END);
        self
    }

    /// `<tag>` with opaque content.
    pub fn opaque(mut self, page: u8, token: u8, data: &[u8]) -> W {
        self.page(page);
        self.bytes.push(token | CONTENT);
        opaque(&mut self.bytes, data);
        self.bytes.push(END);
        self
    }

    /// An inline string as (part of) the content of the open element, as
    /// GAL Search's `Query` carries its text.
    pub fn inline(mut self, text: &str) -> W {
        str_i(&mut self.bytes, text);
        self
    }

    /// `<tag>` on `page` with what `content` writes, or nothing at all when
    /// it writes nothing (an optional container such as Search `Options`).
    pub fn optional(mut self, page: u8, token: u8, content: impl FnOnce(W) -> W) -> W {
        self.page(page);
        let before = self.bytes.len();
        let mut w = content(self.open(page, token));
        if w.bytes.len() == before + 1 {
            w.bytes.pop();
            w
        } else {
            w.end()
        }
    }

    pub fn end(mut self) -> W {
        self.bytes.push(END);
        self
    }

    /// `<Collection><SyncKey>key</SyncKey><CollectionId>id</CollectionId>`
    /// (AirSync), left open.
    pub fn collection(self, key: &str, id: &str) -> W {
        self.open(0, 0x0F).text(0, 0x0B, key).text(0, 0x12, id)
    }

    /// Closes the root; the finished body.
    pub fn done(self) -> Vec<u8> {
        self.end().bytes
    }
}

/// An HTTP client for the tests: raw, so that they see exactly what the
/// server sends (no automatic gzip decoding; eastest's client enables
/// reqwest's gzip feature). eastest builds reqwest on rustls with the ring
/// provider (no aws-lc, which needs a C toolchain), so the process's
/// default provider is installed here before reqwest needs one.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("a plain HTTP client")
}

// Code page 0, AirSync: the tokens the shared Sync helpers write.
pub const AIRSYNC: u8 = 0x00;
pub const SYNC_COLLECTIONS: u8 = 0x1C;
pub const SYNC_WINDOW_SIZE: u8 = 0x15;
pub const SYNC_ADD: u8 = 0x07;
pub const SYNC_CHANGE: u8 = 0x08;
pub const SYNC_CLIENT_ID: u8 = 0x0C;
pub const SYNC_SERVER_ID: u8 = 0x0D;
pub const SYNC_COMMANDS: u8 = 0x16;
pub const SYNC_APPLICATION_DATA: u8 = 0x1D;

/// `<Sync><Collections><Collection><SyncKey/><CollectionId/></Collection>
/// </Collections></Sync>`: one collection, nothing else (the window is the
/// server's default, 100 in MS-ASCMD 2.2.3.199).
pub fn sync_request(key: &str, collection_id: &str) -> Vec<u8> {
    W::sync()
        .open(AIRSYNC, SYNC_COLLECTIONS)
        .collection(key, collection_id)
        .end()
        .end()
        .done()
}

/// [`sync_request`] with a `WindowSize` after the `CollectionId`.
pub fn windowed_sync_request(key: &str, collection_id: &str, window: usize) -> Vec<u8> {
    W::sync()
        .open(AIRSYNC, SYNC_COLLECTIONS)
        .collection(key, collection_id)
        .text(AIRSYNC, SYNC_WINDOW_SIZE, &window.to_string())
        .end()
        .end()
        .done()
}

/// A Sync of one collection whose `Commands` hold one client `Add`
/// (MS-ASCMD 2.2.3.7.2): `ClientId`, then an `ApplicationData` with the
/// given (code page, token, text) properties in order.
pub fn add_request(
    key: &str,
    collection_id: &str,
    client_id: &str,
    properties: &[(u8, u8, &str)],
) -> Vec<u8> {
    one_command(
        key,
        collection_id,
        SYNC_ADD,
        (SYNC_CLIENT_ID, client_id),
        properties,
    )
}

/// A Sync of one collection whose `Commands` hold one `Change` of
/// `server_id` (MS-ASCMD 2.2.3.24.2) carrying only the given (code page,
/// token, text) properties.
pub fn change_request(
    key: &str,
    collection_id: &str,
    server_id: &str,
    properties: &[(u8, u8, &str)],
) -> Vec<u8> {
    one_command(
        key,
        collection_id,
        SYNC_CHANGE,
        (SYNC_SERVER_ID, server_id),
        properties,
    )
}

fn one_command(
    key: &str,
    collection_id: &str,
    command: u8,
    (id_token, id): (u8, &str),
    properties: &[(u8, u8, &str)],
) -> Vec<u8> {
    let mut w = W::sync()
        .open(AIRSYNC, SYNC_COLLECTIONS)
        .collection(key, collection_id)
        .open(AIRSYNC, SYNC_COMMANDS)
        .open(AIRSYNC, command)
        .text(AIRSYNC, id_token, id)
        .open(AIRSYNC, SYNC_APPLICATION_DATA);
    for (page, token, text) in properties {
        w = w.text(*page, *token, text);
    }
    // ApplicationData, the command, Commands, Collection, Collections.
    w.end().end().end().end().end().done()
}

/// The only `Collection` of a Sync response (a request for one collection
/// gets exactly one back).
pub fn only_collection(sync: &Element) -> &Element {
    let collections: Vec<&Element> = sync
        .child("Collections")
        .unwrap_or_else(|| panic!("no Collections in {sync:?}"))
        .elements()
        .collect();
    assert_eq!(collections.len(), 1, "{sync:?}");
    collections[0]
}

/// The server's commands of a Sync collection as (command name, ServerId).
pub fn commands(collection: &Element) -> Vec<(String, String)> {
    collection
        .child("Commands")
        .map(|c| c.elements().map(name_and_id).collect())
        .unwrap_or_default()
}

/// A server command (`Add`, `Change`, `Delete`, ...) as (name, ServerId).
pub fn name_and_id(command: &Element) -> (String, String) {
    (
        command.name.clone(),
        command.child_text("ServerId").unwrap_or_default(),
    )
}

/// FolderSync from key 0, which Sync and Ping need first (they only know
/// the folders the device was told of); checks Status 1, the new key.
pub async fn folder_sync(device: &Device) -> String {
    let response = device.call("FolderSync", folder_sync_request("0")).await;
    assert_eq!(
        response.child_text("Status").as_deref(),
        Some("1"),
        "{response:?}"
    );
    response.child_text("SyncKey").expect("a FolderSync key")
}

/// Sync key 0 for `collection_id` (after a FolderSync): Status 1, no items
/// yet (MS-ASCMD 2.2.3.166.4); the collection's first key.
pub async fn prime(device: &Device, collection_id: &str) -> String {
    let response = device.call("Sync", sync_request("0", collection_id)).await;
    let c = only_collection(&response);
    assert_eq!(c.child_text("Status").as_deref(), Some("1"), "{c:?}");
    assert!(c.child("Commands").is_none(), "key 0 sends no items: {c:?}");
    c.child_text("SyncKey").expect("a SyncKey")
}

/// Syncs `collection_id` from `key` until a response brings no command and
/// no `MoreAvailable`, checking Status 1 each time: every server command
/// (`Add`, `Change`, `Delete`, ...) in order, and the last key.
pub async fn sync_all(device: &Device, collection_id: &str, key: &str) -> (Vec<Element>, String) {
    let mut key = key.to_string();
    let mut all = Vec::new();
    loop {
        let response = device.call("Sync", sync_request(&key, collection_id)).await;
        let c = only_collection(&response);
        assert_eq!(c.child_text("Status").as_deref(), Some("1"), "{c:?}");
        key = c.child_text("SyncKey").expect("a SyncKey");
        let before = all.len();
        all.extend(
            c.child("Commands")
                .into_iter()
                .flat_map(|cmds| cmds.elements().cloned()),
        );
        if all.len() == before && c.child("MoreAvailable").is_none() {
            return (all, key);
        }
    }
}

/// [`sync_all`] with each command as (name, ServerId): what a device's
/// list of ServerIds has to follow.
pub async fn drain(
    device: &Device,
    collection_id: &str,
    key: &str,
) -> (Vec<(String, String)>, String) {
    let (commands, key) = sync_all(device, collection_id, key).await;
    (commands.iter().map(name_and_id).collect(), key)
}

/// Each `Add` among `commands`: its ServerId and ApplicationData.
pub fn adds(commands: &[Element]) -> Vec<(String, Element)> {
    commands
        .iter()
        .filter(|e| e.name == "Add")
        .map(|add| {
            (
                add.child_text("ServerId").expect("ServerId"),
                add.child("ApplicationData")
                    .expect("ApplicationData")
                    .clone(),
            )
        })
        .collect()
}

/// Sync key 0 for `collection_id`, then everything there is (see
/// [`sync_all`]): each item's ServerId and ApplicationData, and the key of
/// a device that now holds the whole collection.
pub async fn full_sync(device: &Device, collection_id: &str) -> (Vec<(String, Element)>, String) {
    let key = prime(device, collection_id).await;
    let (commands, key) = sync_all(device, collection_id, &key).await;
    (adds(&commands), key)
}

/// A folder as a device that starts over sees it: FolderSync from 0, then
/// [`full_sync`]; each item's ServerId and ApplicationData.
pub async fn items(device: &Device, collection_id: &str) -> Vec<(String, Element)> {
    folder_sync(device).await;
    full_sync(device, collection_id).await.0
}

/// The item of `items` whose `Subject` is `subject`.
pub fn with_subject<'a>(
    items: &'a [(String, Element)],
    subject: &str,
) -> Option<&'a (String, Element)> {
    items
        .iter()
        .find(|(_, data)| data.child_text("Subject").as_deref() == Some(subject))
}

// Code page 21, ComposeMail.
pub const COMPOSE_MAIL: u8 = 0x15;
pub const SEND_MAIL: u8 = 0x05;
pub const SAVE_IN_SENT_ITEMS: u8 = 0x08;
pub const MIME: u8 = 0x10;
pub const CLIENT_ID: u8 = 0x11;

/// `<SendMail><ClientId/>[<SaveInSentItems/>]<Mime/></SendMail>` (14.0+),
/// the MIME as a string.
pub fn send_mail_request(client_id: &str, save_in_sent_items: bool, mime: &str) -> Vec<u8> {
    let mut b = Body::new(COMPOSE_MAIL, SEND_MAIL).text(CLIENT_ID, client_id);
    if save_in_sent_items {
        b = b.empty(SAVE_IN_SENT_ITEMS);
    }
    b.text(MIME, mime).done()
}

/// Posts a SendMail, SmartReply or SmartForward and checks the spec's
/// success (MS-ASCMD 2.2.1.17): HTTP 200 and no body at all.
pub async fn sent_ok(device: &Device, cmd: &str, body: Vec<u8>) {
    let response = device.post(cmd, body).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{cmd} in {}",
        device.version
    );
    let bytes = response.bytes().await.unwrap();
    assert!(
        bytes.is_empty(),
        "a successful {cmd} has no body: {bytes:?}"
    );
}

/// A mock with the test hooks (`/_eastest/...`) served.
pub async fn hooks_server() -> MockServer {
    MockServer::start(MockConfig {
        test_hooks: true,
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts")
}

/// POSTs `body` to the test hook `path` as `user` (`None`: without
/// credentials); the HTTP status and the body text.
pub async fn hook_as(
    server: &MockServer,
    user: Option<&str>,
    path: &str,
    body: &str,
) -> (StatusCode, String) {
    let mut request = http()
        .post(format!("http://{}{path}", server.addr()))
        .body(body.to_string());
    if let Some(user) = user {
        request = request.header("Authorization", basic(user, &format!("{user}-pass")));
    }
    let response = request.send().await.expect("the mock answers");
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// [`hook_as`] alice.
pub async fn hook(server: &MockServer, path: &str, body: &str) -> (StatusCode, String) {
    hook_as(server, Some("alice"), path, body).await
}
