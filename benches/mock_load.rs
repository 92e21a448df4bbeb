//! Load benchmark of the mock EAS server over real HTTP/1.1 on loopback.
//!
//! ```text
//! cargo bench --bench mock_load -- sync [--devices 64] [--users N] [--seconds 10] [--warmup 2]
//! cargo bench --bench mock_load -- idle-ping [--count 10000] [--users 100] [--settle 3] [--reconnect]
//! cargo bench --bench mock_load                (both, with the defaults)
//! ```
//!
//! # sync
//!
//! The mock runs in-process on a multi-thread tokio runtime (one worker per
//! core) with `require_provisioning` on, as a real deployment has it. The
//! simulated devices run on a single-thread runtime of their own, so that
//! the client never takes more than one core's worth of the CPU the server
//! needs; they speak raw HTTP/1.1 keep-alive (one connection per device)
//! with request bodies built by hand from the MS-ASWBXML token tables
//! (`/work/shared/reference/wbxml-codepages.tsv`), not by eastest's encoder.
//!
//! Each device (one account per device unless `--users` says fewer) does
//! the full handshake: Provision (both phases), FolderSync, Sync key 0 on
//! Contacts (folder 8, with an empty `Supported` so that every property is
//! ghosted, MS-ASCMD 2.2.3.179) and a first Sync that brings the seed. In
//! the measured loop each device sends, one after the other, a Sync that
//! changes one contact's `JobTitle` with its current SyncKey, and takes the
//! new key from the response. Every response is checked (HTTP 200, a Sync
//! root without a `Status`, the collection's `Status` 1, a new `SyncKey`, no
//! failed `Responses` entry); anything else is an error, counted and shown.
//! Latency is measured per request (write to last byte read) into an HDR
//! histogram in µs; requests completed during the warm-up are left out.
//! CPU time is split between the client thread (`RUSAGE_THREAD`) and the
//! rest of the process (the server).
//!
//! # idle-ping
//!
//! The mock runs in this process, the devices in a child process (this
//! binary again, mode `__ping-client`): 10,000 client sockets and 10,000
//! server sockets do not fit under one process's open-file limit (20,000
//! here), and the server's resident memory is then measured alone. The child
//! sets up `--count` devices spread over `--users` accounts (Provision,
//! FolderSync, Sync key 0 and a first Sync on the folder it will watch, so
//! nothing is pending; half of each user's devices watch Contacts, half
//! Calendar), then each sends a Ping with the largest allowed
//! `HeartbeatInterval` on its one folder. After `--settle` seconds the
//! server's VmRSS and VmHWM (`/proc/self/status`) are read and every Ping
//! must still be pending. Then one more device of the first user changes a
//! contact with a Sync: exactly that user's Contacts watchers must answer
//! (Ping Status 2 naming folder 8, MS-ASCMD 2.2.3.177.10), and the wake
//! latency (from writing the change to each Ping answer) is reported; every
//! other Ping must stay pending.
//!
//! The mock serves HTTP/1.1 with its own transport (`src/mock/transport`),
//! which holds no buffer while a connection is idle or its Ping waits:
//! what a held Ping costs is the router's future and the handler's state.
//!
//! Where the memory goes: the readings are also taken after `malloc_trim`
//! (live data, not what the allocator keeps), and a counting global
//! allocator (on in this mode only) shows which block sizes grew, per
//! device, during set-up and while the Pings are held. With `--reconnect`
//! each device closes its set-up connection and opens a fresh one for its
//! Ping, so that the "set up" reading is the devices' state alone and the
//! "held" one the cost of a connection with a Ping waiting on it.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use eastest::mock::{Account, MockConfig, MockServer, PATH};
use hdrhistogram::Histogram;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

/// The protocol version every simulated device speaks.
const PROTOCOL: &str = "14.1";
/// Every benchmark account's password.
const PASSWORD: &str = "load-pass";
/// The seed's Contacts and Calendar folders (`src/mock/seed.rs`).
const CONTACTS: &str = "8";
const CALENDAR: &str = "7";

fn main() {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mock_load: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    raise_open_file_limit();
    let result = match args.mode.as_deref() {
        Some("sync") => sync_bench(&args),
        Some("idle-ping") => idle_ping_bench(&args),
        Some("__ping-client") => ping_client(&args),
        None => sync_bench(&args).and_then(|()| idle_ping_bench(&args)),
        Some(other) => Err(format!("unknown mode `{other}`\n\n{USAGE}")),
    };
    if let Err(e) = result {
        eprintln!("mock_load: {e}");
        std::process::exit(1);
    }
}

const USAGE: &str = "usage: cargo bench --bench mock_load -- [sync|idle-ping] [options]
  sync:      --devices N (64)  --users N (= devices)  --seconds S (10)  --warmup S (2)
  idle-ping: --count N (10000)  --users N (100)  --settle S (3)  --concurrency N (64)  --reconnect";

// ---------------------------------------------------------------------------
// Command line

#[derive(Debug, Clone)]
struct Args {
    mode: Option<String>,
    devices: usize,
    users: Option<usize>,
    seconds: f64,
    warmup: f64,
    count: usize,
    settle: f64,
    concurrency: usize,
    /// The child's: the server to talk to, and the Ping interval.
    addr: Option<SocketAddr>,
    heartbeat: u32,
    /// idle-ping: close each device's set-up connection and open a fresh
    /// one for its Ping, so that idle connections do not count in the
    /// "set up" figure.
    reconnect: bool,
}

impl Args {
    fn parse(args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut a = Args {
            mode: None,
            devices: 64,
            users: None,
            seconds: 10.0,
            warmup: 2.0,
            count: 10_000,
            settle: 3.0,
            concurrency: 64,
            addr: None,
            heartbeat: 3540,
            reconnect: false,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            // `cargo bench` appends `--bench` to every bench binary's arguments.
            if arg == "--bench" {
                continue;
            }
            let Some(flag) = arg.strip_prefix("--") else {
                if a.mode.is_some() {
                    return Err(format!("unexpected argument `{arg}`"));
                }
                a.mode = Some(arg);
                continue;
            };
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (flag.to_string(), None),
            };
            if name == "reconnect" {
                a.reconnect = !matches!(inline.as_deref(), Some("0" | "false"));
                continue;
            }
            let value = match inline.or_else(|| args.next()) {
                Some(v) => v,
                None => return Err(format!("--{name} needs a value")),
            };
            let bad = || format!("--{name}: bad value `{value}`");
            match name.as_str() {
                "devices" => a.devices = value.parse().map_err(|_| bad())?,
                "users" => a.users = Some(value.parse().map_err(|_| bad())?),
                "seconds" => a.seconds = value.parse().map_err(|_| bad())?,
                "warmup" => a.warmup = value.parse().map_err(|_| bad())?,
                "count" => a.count = value.parse().map_err(|_| bad())?,
                "settle" => a.settle = value.parse().map_err(|_| bad())?,
                "concurrency" => a.concurrency = value.parse().map_err(|_| bad())?,
                "addr" => a.addr = Some(value.parse().map_err(|_| format!("--addr `{value}`"))?),
                "heartbeat" => a.heartbeat = value.parse().map_err(|_| bad())?,
                _ => return Err(format!("unknown option --{name}")),
            }
        }
        if a.devices == 0 || a.count == 0 || a.users == Some(0) || a.concurrency == 0 {
            return Err("counts must be at least 1".into());
        }
        if !(a.seconds > 0.0 && a.warmup >= 0.0 && a.settle >= 0.0) {
            return Err("durations must be positive".into());
        }
        Ok(a)
    }
}

// ---------------------------------------------------------------------------
// WBXML by hand (MS-ASWBXML code pages; tokens from wbxml-codepages.tsv)

/// WBXML 1.3, unknown public id, UTF-8, no string table.
const HEADER: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];
const SWITCH_PAGE: u8 = 0x00;
const END: u8 = 0x01;
const STR_I: u8 = 0x03;
const OPAQUE: u8 = 0xC3;
/// Or'ed into a tag token: the element has content.
const CONTENT: u8 = 0x40;

/// Code page 0, AirSync.
mod airsync {
    pub const PAGE: u8 = 0;
    pub const SYNC: u8 = 0x05;
    pub const RESPONSES: u8 = 0x06;
    pub const ADD: u8 = 0x07;
    pub const CHANGE: u8 = 0x08;
    pub const SYNC_KEY: u8 = 0x0B;
    pub const SERVER_ID: u8 = 0x0D;
    pub const STATUS: u8 = 0x0E;
    pub const COLLECTION: u8 = 0x0F;
    pub const COLLECTION_ID: u8 = 0x12;
    pub const COMMANDS: u8 = 0x16;
    pub const COLLECTIONS: u8 = 0x1C;
    pub const APPLICATION_DATA: u8 = 0x1D;
    pub const SUPPORTED: u8 = 0x20;
}

/// Code page 1, Contacts.
mod contacts {
    pub const PAGE: u8 = 1;
    pub const JOB_TITLE: u8 = 0x28;
}

/// Code page 7, FolderHierarchy.
mod folder_hierarchy {
    pub const PAGE: u8 = 7;
    pub const STATUS: u8 = 0x0C;
    pub const SYNC_KEY: u8 = 0x12;
    pub const FOLDER_SYNC: u8 = 0x16;
}

/// Code page 13, Ping.
mod ping {
    pub const PAGE: u8 = 13;
    pub const PING: u8 = 0x05;
    pub const STATUS: u8 = 0x07;
    pub const HEARTBEAT_INTERVAL: u8 = 0x08;
    pub const FOLDERS: u8 = 0x09;
    pub const FOLDER: u8 = 0x0A;
    pub const ID: u8 = 0x0B;
    pub const CLASS: u8 = 0x0C;
    /// Ping Status 2 (MS-ASCMD 2.2.3.177.10): changes in at least one
    /// watched folder.
    pub const CHANGES_FOUND: &str = "2";
}

/// Code page 14, Provision.
mod provision {
    pub const PAGE: u8 = 14;
    pub const PROVISION: u8 = 0x05;
    pub const POLICIES: u8 = 0x06;
    pub const POLICY: u8 = 0x07;
    pub const POLICY_TYPE: u8 = 0x08;
    pub const POLICY_KEY: u8 = 0x09;
    pub const STATUS: u8 = 0x0B;
    pub const POLICY_TYPE_WBXML: &str = "MS-EAS-Provisioning-WBXML";
}

/// A request body, token by token.
struct Body(Vec<u8>);

impl Body {
    /// The header, `SWITCH_PAGE page` and the root tag with content.
    fn new(page: u8, root: u8) -> Body {
        let mut b = HEADER.to_vec();
        b.extend_from_slice(&[SWITCH_PAGE, page, root | CONTENT]);
        Body(b)
    }
    fn page(mut self, page: u8) -> Body {
        self.0.extend_from_slice(&[SWITCH_PAGE, page]);
        self
    }
    fn open(mut self, token: u8) -> Body {
        self.0.push(token | CONTENT);
        self
    }
    fn empty(mut self, token: u8) -> Body {
        self.0.push(token);
        self
    }
    fn text(mut self, token: u8, text: &str) -> Body {
        self.0.push(token | CONTENT);
        self.0.push(STR_I);
        self.0.extend_from_slice(text.as_bytes());
        self.0.extend_from_slice(&[0x00, END]);
        self
    }
    fn end(mut self) -> Body {
        self.0.push(END);
        self
    }
    /// Closes the root.
    fn done(self) -> Vec<u8> {
        self.end().0
    }
}

/// Provision phase one, or phase two acknowledging `ack` with Status 1.
fn provision_request(ack: Option<&str>) -> Vec<u8> {
    use provision::*;
    let b = Body::new(PAGE, PROVISION)
        .open(POLICIES)
        .open(POLICY)
        .text(POLICY_TYPE, POLICY_TYPE_WBXML);
    let b = match ack {
        Some(key) => b.text(POLICY_KEY, key).text(STATUS, "1"),
        None => b,
    };
    b.end().end().done()
}

fn folder_sync_request(key: &str) -> Vec<u8> {
    use folder_hierarchy::*;
    Body::new(PAGE, FOLDER_SYNC).text(SYNC_KEY, key).done()
}

/// Sync key 0 on one collection, with an empty `Supported`: every property
/// ghosted, so a `Change` carrying one property keeps the others.
fn sync_initial_request(collection: &str) -> Vec<u8> {
    use airsync::*;
    Body::new(PAGE, SYNC)
        .open(COLLECTIONS)
        .open(COLLECTION)
        .text(SYNC_KEY, "0")
        .text(COLLECTION_ID, collection)
        .empty(SUPPORTED)
        .end()
        .end()
        .done()
}

/// A Sync without commands: fetches the server's changes.
fn sync_fetch_request(key: &str, collection: &str) -> Vec<u8> {
    use airsync::*;
    Body::new(PAGE, SYNC)
        .open(COLLECTIONS)
        .open(COLLECTION)
        .text(SYNC_KEY, key)
        .text(COLLECTION_ID, collection)
        .end()
        .end()
        .done()
}

/// A Sync that changes one contact's JobTitle, pre-encoded around the
/// SyncKey: `prefix` ends inside the SyncKey's inline string, each `suffix`
/// starts with its terminating NUL. Two suffixes with different titles, so
/// every request really changes the item.
struct ChangeTemplate {
    prefix: Vec<u8>,
    suffixes: [Vec<u8>; 2],
}

impl ChangeTemplate {
    fn new(collection: &str, server_id: &str) -> ChangeTemplate {
        use airsync::*;
        let mut prefix = Body::new(PAGE, SYNC).open(COLLECTIONS).open(COLLECTION).0;
        prefix.extend_from_slice(&[SYNC_KEY | CONTENT, STR_I]);
        let suffix = |title: &str| {
            let mut s = vec![0x00, END];
            let rest = Body(Vec::new())
                .text(COLLECTION_ID, collection)
                .open(COMMANDS)
                .open(CHANGE)
                .text(SERVER_ID, server_id)
                .open(APPLICATION_DATA)
                .page(contacts::PAGE)
                .text(contacts::JOB_TITLE, title)
                .end() // ApplicationData
                .end() // Change
                .end() // Commands
                .end() // Collection
                .end() // Collections
                .done(); // Sync
            s.extend_from_slice(&rest);
            s
        };
        ChangeTemplate {
            prefix,
            suffixes: [suffix("Engineer"), suffix("Senior Engineer")],
        }
    }

    fn body(&self, key: &str, n: u64, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.prefix);
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&self.suffixes[(n % 2) as usize]);
    }
}

/// `<Ping><HeartbeatInterval/><Folders><Folder><Id/><Class/></Folder></Folders></Ping>`.
fn ping_request(heartbeat: u32, folder: &str, class: &str) -> Vec<u8> {
    use ping::*;
    Body::new(PAGE, PING)
        .text(HEARTBEAT_INTERVAL, &heartbeat.to_string())
        .open(FOLDERS)
        .open(FOLDER)
        .text(ID, folder)
        .text(CLASS, class)
        .end()
        .end()
        .done()
}

/// A response, read token by token: every text with the path of tags
/// (code page, token) that leads to it. Enough for the small responses
/// this benchmark checks; attributes, entities and string tables (which the
/// mock never sends) are refused.
struct Doc {
    texts: Vec<(Vec<(u8, u8)>, String)>,
}

impl Doc {
    fn parse(b: &[u8]) -> Result<Doc, String> {
        fn mb_u32(b: &[u8], at: &mut usize) -> Result<usize, String> {
            let mut v: usize = 0;
            for _ in 0..5 {
                let byte = *b.get(*at).ok_or("truncated multi-byte integer")?;
                *at += 1;
                v = (v << 7) | usize::from(byte & 0x7F);
                if byte & 0x80 == 0 {
                    return Ok(v);
                }
            }
            Err("multi-byte integer too long".into())
        }
        let mut at = 1; // version
        if b.is_empty() {
            return Err("empty body".into());
        }
        if mb_u32(b, &mut at)? == 0 {
            mb_u32(b, &mut at)?; // public id as a string table index
        }
        mb_u32(b, &mut at)?; // charset
        let table = mb_u32(b, &mut at)?;
        at += table;
        let mut page = 0u8;
        let mut stack: Vec<(u8, u8)> = Vec::new();
        let mut texts = Vec::new();
        while at < b.len() {
            let token = b[at];
            at += 1;
            match token {
                SWITCH_PAGE => {
                    page = *b.get(at).ok_or("truncated SWITCH_PAGE")?;
                    at += 1;
                }
                END => {
                    stack.pop().ok_or("END without an open element")?;
                }
                STR_I => {
                    let len = b[at..]
                        .iter()
                        .position(|&c| c == 0)
                        .ok_or("unterminated inline string")?;
                    let text = String::from_utf8_lossy(&b[at..at + len]).into_owned();
                    at += len + 1;
                    texts.push((stack.clone(), text));
                }
                OPAQUE => {
                    let len = mb_u32(b, &mut at)?;
                    let data = b.get(at..at + len).ok_or("truncated OPAQUE")?;
                    texts.push((stack.clone(), String::from_utf8_lossy(data).into_owned()));
                    at += len;
                }
                t if t & 0x80 != 0 || matches!(t & 0x3F, 0x00..=0x04) => {
                    return Err(format!("unexpected token 0x{t:02X} at byte {}", at - 1));
                }
                t if t & CONTENT != 0 => stack.push((page, t & 0x3F)),
                t => {
                    // An empty element: recorded as an empty text.
                    let mut path = stack.clone();
                    path.push((page, t));
                    texts.push((path, String::new()));
                }
            }
        }
        if !stack.is_empty() {
            return Err("elements left open".into());
        }
        Ok(Doc { texts })
    }

    /// The first text at exactly this path of (page, token).
    fn find(&self, path: &[(u8, u8)]) -> Option<&str> {
        self.texts
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    }

    fn all<'a>(&'a self, path: &'a [(u8, u8)]) -> impl Iterator<Item = &'a str> + 'a {
        self.texts
            .iter()
            .filter(move |(p, _)| p == path)
            .map(|(_, t)| t.as_str())
    }
}

const fn a(token: u8) -> (u8, u8) {
    (airsync::PAGE, token)
}

/// What a Sync response on one collection says.
struct SyncOutcome {
    key: String,
    /// ServerIds of the server's `Add`s.
    added: Vec<String>,
    /// Server `Change`s (another device of the same user changed something).
    server_changes: usize,
}

/// Checks a one-collection Sync response: no top-level Status, collection
/// Status 1, a SyncKey, and no `Responses` entry with a Status other than 1.
fn check_sync(body: &[u8]) -> Result<SyncOutcome, String> {
    use airsync::*;
    let doc = Doc::parse(body)?;
    if let Some(s) = doc.find(&[a(SYNC), a(STATUS)]) {
        return Err(format!("Sync Status {s}"));
    }
    let collection = [a(SYNC), a(COLLECTIONS), a(COLLECTION)];
    let at = |tail: &[(u8, u8)]| [&collection[..], tail].concat();
    match doc.find(&at(&[a(STATUS)])) {
        Some("1") => {}
        Some(s) => return Err(format!("collection Status {s}")),
        None => return Err("no collection Status".into()),
    }
    let key = doc
        .find(&at(&[a(SYNC_KEY)]))
        .ok_or("no SyncKey")?
        .to_string();
    for command in [ADD, CHANGE, 0x09 /* Delete */, 0x0A /* Fetch */] {
        if let Some(s) = doc
            .all(&at(&[a(RESPONSES), a(command), a(STATUS)]))
            .find(|s| *s != "1")
        {
            return Err(format!("Responses entry with Status {s}"));
        }
    }
    Ok(SyncOutcome {
        key,
        added: doc
            .all(&at(&[a(COMMANDS), a(ADD), a(SERVER_ID)]))
            .map(str::to_string)
            .collect(),
        server_changes: doc
            .all(&at(&[a(COMMANDS), a(CHANGE), a(SERVER_ID)]))
            .count(),
    })
}

// ---------------------------------------------------------------------------
// HTTP/1.1 keep-alive client: one connection per device, no pipelining.
// (tokio's `io-util` is not enabled in this crate: readiness + try_read/write.)

struct Response {
    status: u16,
    body: Vec<u8>,
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads more bytes into `buf`; an error at end of stream. The buffer
    /// only grows once the socket is readable, so an idle connection holds
    /// none.
    async fn fill(&mut self) -> io::Result<()> {
        loop {
            self.stream.readable().await?;
            let len = self.buf.len();
            self.buf.resize(len + 4096, 0);
            match self.stream.try_read(&mut self.buf[len..]) {
                Ok(0) => {
                    self.buf.truncate(len);
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    ));
                }
                Ok(n) => {
                    self.buf.truncate(len + n);
                    return Ok(());
                }
                Err(e) => {
                    self.buf.truncate(len);
                    if e.kind() != io::ErrorKind::WouldBlock {
                        return Err(e);
                    }
                }
            }
        }
    }

    async fn read_response(&mut self) -> io::Result<Response> {
        let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
        loop {
            if let Some(head_end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..head_end])
                    .map_err(|_| bad("response head is not UTF-8"))?;
                let mut lines = head.split("\r\n");
                let status: u16 = lines
                    .next()
                    .and_then(|l| l.split(' ').nth(1))
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad status line"))?;
                let mut length = None;
                let mut chunked = false;
                for line in lines {
                    let Some((name, value)) = line.split_once(':') else {
                        continue;
                    };
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse::<usize>().ok();
                    } else if name.eq_ignore_ascii_case("transfer-encoding") {
                        chunked = value.trim().eq_ignore_ascii_case("chunked");
                    }
                }
                let start = head_end + 4;
                let done = if chunked {
                    dechunk(&self.buf[start..]).map(|(body, used)| (body, start + used))
                } else {
                    let len = length.unwrap_or(0);
                    (self.buf.len() >= start + len)
                        .then(|| (self.buf[start..start + len].to_vec(), start + len))
                };
                if let Some((body, used)) = done {
                    self.buf.drain(..used);
                    return Ok(Response { status, body });
                }
            }
            self.fill().await?;
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> io::Result<Response> {
        self.write_all(request).await?;
        self.read_response().await
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A complete chunked body and the bytes it took, or `None` if incomplete.
fn dechunk(mut b: &[u8]) -> Option<(Vec<u8>, usize)> {
    let total = b.len();
    let mut body = Vec::new();
    loop {
        let line = find(b, b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..line]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line + 2..];
        if size == 0 {
            // No trailers from the mock: just the final CRLF.
            if b.len() < 2 {
                return None;
            }
            return Some((body, total - b.len() + 2));
        }
        if b.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

// ---------------------------------------------------------------------------
// A simulated device

struct Device {
    conn: Conn,
    user: String,
    device_id: String,
    host: String,
    authorization: String,
    policy_key: Option<String>,
    /// The request head for Sync up to `Content-Length: ` (built once
    /// provisioned).
    sync_head: Vec<u8>,
    sync_key: String,
    /// ServerIds the first Sync brought.
    items: Vec<String>,
    /// A reused request buffer.
    out: Vec<u8>,
}

fn user_name(u: usize) -> String {
    format!("load{u:05}")
}

impl Device {
    async fn connect(addr: SocketAddr, user: String, device_id: String) -> Result<Device, String> {
        let conn = Conn::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let authorization = format!(
            "Basic {}",
            BASE64.encode(format!("{user}:{PASSWORD}").as_bytes())
        );
        Ok(Device {
            conn,
            user,
            device_id,
            host: addr.to_string(),
            authorization,
            policy_key: None,
            sync_head: Vec::new(),
            sync_key: String::new(),
            items: Vec::new(),
            out: Vec::new(),
        })
    }

    /// The request head up to and including `Content-Length: `.
    fn head(&self, cmd: &str) -> Vec<u8> {
        let mut h = String::with_capacity(256);
        let _ = write!(
            h,
            "POST {PATH}?Cmd={cmd}&User={}&DeviceId={}&DeviceType=LoadBench HTTP/1.1\r\n\
             Host: {}\r\nAuthorization: {}\r\nMS-ASProtocolVersion: {PROTOCOL}\r\n\
             Content-Type: application/vnd.ms-sync.wbxml\r\n",
            self.user, self.device_id, self.host, self.authorization
        );
        if let Some(key) = &self.policy_key {
            let _ = write!(h, "X-MS-PolicyKey: {key}\r\n");
        }
        h.push_str("Content-Length: ");
        h.into_bytes()
    }

    fn frame(out: &mut Vec<u8>, head: &[u8], body: &[u8]) {
        out.clear();
        out.extend_from_slice(head);
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
    }

    /// Sends a command; the body of an HTTP 200 answer, an error otherwise.
    async fn call(&mut self, cmd: &str, body: &[u8]) -> Result<Vec<u8>, String> {
        let head = self.head(cmd);
        let mut out = std::mem::take(&mut self.out);
        Device::frame(&mut out, &head, body);
        let response = self.conn.exchange(&out).await;
        self.out = out;
        let response = response.map_err(|e| format!("{cmd}: {e}"))?;
        if response.status != 200 {
            return Err(format!(
                "{cmd}: HTTP {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body).trim()
            ));
        }
        Ok(response.body)
    }

    /// Provision (both phases), FolderSync, Sync key 0 and a first Sync on
    /// `collection`: the device is then up to date there.
    async fn set_up(&mut self, collection: &str) -> Result<(), String> {
        use provision as p;
        let policy_key = [
            (p::PAGE, p::PROVISION),
            (p::PAGE, p::POLICIES),
            (p::PAGE, p::POLICY),
            (p::PAGE, p::POLICY_KEY),
        ];
        let body = self.call("Provision", &provision_request(None)).await?;
        let temporary = Doc::parse(&body)?
            .find(&policy_key)
            .ok_or("Provision phase one: no PolicyKey")?
            .to_string();
        let body = self
            .call("Provision", &provision_request(Some(&temporary)))
            .await?;
        let doc = Doc::parse(&body)?;
        match doc.find(&[(p::PAGE, p::PROVISION), (p::PAGE, p::STATUS)]) {
            Some("1") => {}
            other => return Err(format!("Provision phase two: Status {other:?}")),
        }
        self.policy_key = Some(
            doc.find(&policy_key)
                .ok_or("Provision phase two: no PolicyKey")?
                .to_string(),
        );

        use folder_hierarchy as f;
        let body = self.call("FolderSync", &folder_sync_request("0")).await?;
        match Doc::parse(&body)?.find(&[(f::PAGE, f::FOLDER_SYNC), (f::PAGE, f::STATUS)]) {
            Some("1") => {}
            other => return Err(format!("FolderSync: Status {other:?}")),
        }

        let body = self.call("Sync", &sync_initial_request(collection)).await?;
        let initial = check_sync(&body).map_err(|e| format!("Sync key 0: {e}"))?;
        let body = self
            .call("Sync", &sync_fetch_request(&initial.key, collection))
            .await?;
        let first = check_sync(&body).map_err(|e| format!("first Sync: {e}"))?;
        self.sync_key = first.key;
        self.items = first.added;
        self.sync_head = self.head("Sync");
        Ok(())
    }

    /// Sends a Sync body prepared in `body` with the Sync head.
    async fn sync(&mut self, body: &[u8]) -> io::Result<Response> {
        let mut out = std::mem::take(&mut self.out);
        Device::frame(&mut out, &self.sync_head, body);
        let response = self.conn.exchange(&out).await;
        self.out = out;
        response
    }
}

// ---------------------------------------------------------------------------
// Process measurements

/// The system allocator, counting live heap blocks per power-of-two size
/// class once [`heap::TRACK`] is on (idle-ping only, so the Sync figures
/// carry no counting cost): what the server keeps per connection and per
/// Ping, by size.
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};

    pub static TRACK: AtomicBool = AtomicBool::new(false);
    const CLASSES: usize = 48;
    static BLOCKS: [AtomicI64; CLASSES] = [const { AtomicI64::new(0) }; CLASSES];
    static BYTES: [AtomicI64; CLASSES] = [const { AtomicI64::new(0) }; CLASSES];

    pub struct Counting;

    /// Class `c` holds sizes in (2^(c-1), 2^c].
    fn class(size: usize) -> usize {
        ((usize::BITS - size.saturating_sub(1).leading_zeros()) as usize).min(CLASSES - 1)
    }

    fn note(size: usize, sign: i64) {
        if TRACK.load(Relaxed) {
            let c = class(size);
            BLOCKS[c].fetch_add(sign, Relaxed);
            BYTES[c].fetch_add(sign * size as i64, Relaxed);
        }
    }

    // SAFETY: every call goes to the system allocator unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                note(layout.size(), 1);
            }
            p
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                note(layout.size(), 1);
            }
            p
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            note(layout.size(), -1);
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                note(layout.size(), -1);
                note(new_size, 1);
            }
            p
        }
    }

    /// Live (blocks, bytes) per size class.
    pub fn snapshot() -> Vec<(i64, i64)> {
        (0..CLASSES)
            .map(|c| (BLOCKS[c].load(Relaxed), BYTES[c].load(Relaxed)))
            .collect()
    }

    /// The size classes that grew by at least `min_blocks` blocks and 1 MiB
    /// between two snapshots, as table rows, and the total growth in bytes.
    pub fn growth(
        before: &[(i64, i64)],
        after: &[(i64, i64)],
        min_blocks: i64,
    ) -> (Vec<String>, i64) {
        let mut rows = Vec::new();
        let mut total = 0;
        for (c, (b, a)) in before.iter().zip(after).enumerate() {
            let (blocks, bytes) = (a.0 - b.0, a.1 - b.1);
            total += bytes;
            if blocks >= min_blocks && bytes >= 1 << 20 {
                let low = if c == 0 { 0 } else { (1u64 << (c - 1)) + 1 };
                rows.push(format!(
                    "| {low}..={} B | {blocks} | {:.1} |",
                    1u64 << c,
                    bytes as f64 / 1024.0 / 1024.0
                ));
            }
        }
        (rows, total)
    }
}

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

/// VmRSS after giving the allocator's free memory back (glibc
/// `malloc_trim`): what is live, as opposed to kept by the allocator.
fn trimmed_rss_kib() -> u64 {
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
    memory_kib().0
}

/// VmRSS and VmHWM of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// User + system CPU time in µs, of the process or of the calling thread.
fn cpu_micros(who: libc::c_int) -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return 0;
    }
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

/// Lifts the soft open-file limit to the hard one: one socket per device.
fn raise_open_file_limit() {
    // SAFETY: plain system calls on a local struct.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn open_file_limit() -> u64 {
    // SAFETY: as above.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur
    }
}

fn server_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("server runtime: {e}"))
}

fn client_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("client runtime: {e}"))
}

fn accounts(users: usize) -> Vec<Account> {
    (0..users)
        .map(|u| Account::new(&user_name(u), PASSWORD))
        .collect()
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

// ---------------------------------------------------------------------------
// sync

#[derive(Default, Debug, Clone)]
struct Errors {
    io: u64,
    http: u64,
    eas: u64,
    /// The first few error messages, to show.
    samples: Vec<String>,
}

impl Errors {
    fn total(&self) -> u64 {
        self.io + self.http + self.eas
    }
    fn note(&mut self, message: String) {
        if self.samples.len() < 5 {
            self.samples.push(message);
        }
    }
    fn merge(&mut self, other: Errors) {
        self.io += other.io;
        self.http += other.http;
        self.eas += other.eas;
        for s in other.samples {
            self.note(s);
        }
    }
}

struct DeviceRun {
    histogram: Histogram<u64>,
    measured: u64,
    total: u64,
    errors: Errors,
    server_changes: u64,
    /// The device stopped early on an error.
    stopped: bool,
}

struct SyncReport {
    devices: usize,
    users: usize,
    setup: Duration,
    window: Duration,
    histogram: Histogram<u64>,
    measured: u64,
    total: u64,
    errors: Errors,
    server_changes: u64,
    stopped: usize,
    process_cpu_us: u64,
    client_cpu_us: u64,
}

fn sync_bench(args: &Args) -> Result<(), String> {
    let devices = args.devices;
    let users = args.users.unwrap_or(devices).clamp(1, devices);
    // Each device of a user changes its own contact (the seed has three):
    // two devices changing one contact would conflict (Status 7) by design.
    if devices.div_ceil(users) > 3 {
        return Err(format!(
            "{devices} devices on {users} users: at most 3 devices per user (one seed contact each)"
        ));
    }
    let load_start = load_average();
    let server_rt = server_runtime()?;
    let config = MockConfig {
        accounts: accounts(users),
        require_provisioning: true,
        ..MockConfig::default()
    };
    let server = server_rt
        .block_on(MockServer::start(config))
        .map_err(|e| format!("starting the mock: {e}"))?;
    let addr = server.addr();
    let (warmup, seconds) = (args.warmup, args.seconds);
    let client = std::thread::Builder::new()
        .name("load-client".into())
        .spawn(move || {
            client_runtime()?.block_on(sync_client(addr, devices, users, warmup, seconds))
        })
        .map_err(|e| format!("client thread: {e}"))?;
    let report = client
        .join()
        .map_err(|_| "the client thread panicked".to_string())??;
    let load_end = load_average();
    drop(server);
    server_rt.shutdown_background();
    print_sync_report(&report, &load_start, &load_end);
    if report.errors.total() > 0 || report.stopped > 0 {
        return Err(format!(
            "{} errors, {} devices stopped",
            report.errors.total(),
            report.stopped
        ));
    }
    Ok(())
}

async fn sync_client(
    addr: SocketAddr,
    devices: usize,
    users: usize,
    warmup: f64,
    seconds: f64,
) -> Result<SyncReport, String> {
    // Set-up: every device concurrently, at most 32 at a time.
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(32));
    let mut setups = Vec::with_capacity(devices);
    for i in 0..devices {
        let permits = permits.clone();
        setups.push(tokio::spawn(async move {
            let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
            let mut d = Device::connect(addr, user_name(i % users), format!("bench{i}")).await?;
            d.set_up(CONTACTS)
                .await
                .map_err(|e| format!("device bench{i}: {e}"))?;
            Ok::<_, String>(d)
        }));
    }
    let mut ready = Vec::with_capacity(devices);
    for s in setups {
        ready.push(s.await.map_err(|e| e.to_string())??);
    }
    let setup = started.elapsed();

    let measure_start = Instant::now() + Duration::from_secs_f64(warmup);
    let end = measure_start + Duration::from_secs_f64(seconds);
    let mut runs = Vec::with_capacity(devices);
    for (i, d) in ready.into_iter().enumerate() {
        // Devices of one user change different contacts where they can, so
        // that they do not conflict with each other.
        let Some(contact) = d.items.get((i / users) % d.items.len().max(1)).cloned() else {
            return Err(format!(
                "device bench{i}: the first Sync brought no contact"
            ));
        };
        runs.push(tokio::spawn(sync_device(d, contact, measure_start, end)));
    }
    // CPU at the window's edges, from this (the client's only) thread.
    tokio::time::sleep_until(measure_start.into()).await;
    let (process0, client0) = (
        cpu_micros(libc::RUSAGE_SELF),
        cpu_micros(libc::RUSAGE_THREAD),
    );
    tokio::time::sleep_until(end.into()).await;
    let (process1, client1) = (
        cpu_micros(libc::RUSAGE_SELF),
        cpu_micros(libc::RUSAGE_THREAD),
    );
    let window = end - measure_start;

    let mut report = SyncReport {
        devices,
        users,
        setup,
        window,
        histogram: new_histogram(),
        measured: 0,
        total: 0,
        errors: Errors::default(),
        server_changes: 0,
        stopped: 0,
        process_cpu_us: process1 - process0,
        client_cpu_us: client1 - client0,
    };
    for r in runs {
        let run = r.await.map_err(|e| e.to_string())?;
        report
            .histogram
            .add(&run.histogram)
            .map_err(|e| e.to_string())?;
        report.measured += run.measured;
        report.total += run.total;
        report.server_changes += run.server_changes;
        report.stopped += usize::from(run.stopped);
        report.errors.merge(run.errors);
    }
    Ok(report)
}

/// One device's loop: change, read the new key, again, until `end`.
async fn sync_device(
    mut d: Device,
    contact: String,
    measure_start: Instant,
    end: Instant,
) -> DeviceRun {
    let template = ChangeTemplate::new(CONTACTS, &contact);
    let mut run = DeviceRun {
        histogram: new_histogram(),
        measured: 0,
        total: 0,
        errors: Errors::default(),
        server_changes: 0,
        stopped: false,
    };
    let mut body = Vec::with_capacity(256);
    let mut n = 0u64;
    while Instant::now() < end {
        template.body(&d.sync_key, n, &mut body);
        n += 1;
        let sent = Instant::now();
        let response = d.sync(&body).await;
        let done = Instant::now();
        run.total += 1;
        let failure = match response {
            Err(e) => {
                run.errors.io += 1;
                Some(format!("I/O: {e}"))
            }
            Ok(r) if r.status != 200 => {
                run.errors.http += 1;
                Some(format!(
                    "HTTP {}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body).trim()
                ))
            }
            Ok(r) => match check_sync(&r.body) {
                Err(e) => {
                    run.errors.eas += 1;
                    Some(e)
                }
                Ok(outcome) if outcome.key == d.sync_key => {
                    run.errors.eas += 1;
                    Some("the SyncKey did not change after a client change".into())
                }
                Ok(outcome) => {
                    d.sync_key = outcome.key;
                    run.server_changes += outcome.server_changes as u64;
                    None
                }
            },
        };
        if let Some(why) = failure {
            // The device's state is unknown after a failure: it stops.
            run.errors.note(format!("{}: {why}", d.device_id));
            run.stopped = true;
            break;
        }
        if done >= measure_start && done <= end {
            run.measured += 1;
            let micros = (done - sent).as_micros().max(1) as u64;
            let _ = run.histogram.record(micros);
        }
    }
    run
}

fn print_sync_report(r: &SyncReport, load_start: &str, load_end: &str) {
    let secs = r.window.as_secs_f64();
    let rps = r.measured as f64 / secs;
    let h = &r.histogram;
    let q = |q: f64| h.value_at_quantile(q);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server_cpu = r.process_cpu_us.saturating_sub(r.client_cpu_us);
    let per_request = |us: u64| us as f64 / r.measured.max(1) as f64;
    println!();
    println!(
        "mock_load sync: {} devices ({} users), protocol {PROTOCOL}, provisioning required; \
         one Sync = a JobTitle Change on one contact",
        r.devices, r.users
    );
    println!(
        "set-up (Provision x2, FolderSync, Sync x2 per device): {:.2} s; measured {secs:.1} s \
         after warm-up; load average {load_start} -> {load_end} ({cores} cores)",
        r.setup.as_secs_f64()
    );
    println!(
        "| devices | Sync/s | p50 µs | p99 µs | p99.9 µs | max µs | mean µs | errors | \
         server CPU µs/req | client CPU µs/req |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {rps:.0} | {} | {} | {} | {} | {:.0} | {} | {:.1} | {:.1} |",
        r.devices,
        q(0.50),
        q(0.99),
        q(0.999),
        h.max(),
        h.mean(),
        r.errors.total(),
        per_request(server_cpu),
        per_request(r.client_cpu_us),
    );
    println!(
        "requests: {} measured, {} in all; errors: {} I/O, {} HTTP, {} EAS; devices stopped: {}; \
         server changes received: {}; server used {:.2} of {cores} cores",
        r.measured,
        r.total,
        r.errors.io,
        r.errors.http,
        r.errors.eas,
        r.stopped,
        r.server_changes,
        server_cpu as f64 / 1e6 / secs,
    );
    for s in &r.errors.samples {
        println!("  error: {s}");
    }
    println!(
        "RESULT sync devices={} users={} rps={rps:.0} p50_us={} p99_us={} p999_us={} max_us={} \
         errors={} load=\"{load_start}\"",
        r.devices,
        r.users,
        q(0.50),
        q(0.99),
        q(0.999),
        h.max(),
        r.errors.total()
    );
}

// ---------------------------------------------------------------------------
// idle-ping: the server side (this process)

/// The child process that plays the devices, driven line by line.
struct PingClient {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PingClient {
    fn send(&mut self, line: &str) -> Result<(), String> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the client: {e}"))
    }

    /// The next line starting with `tag`, split in words after it. Other
    /// lines are progress or diagnostics and are echoed.
    fn expect(&mut self, tag: &str) -> Result<Vec<String>, String> {
        loop {
            let mut line = String::new();
            let n = self
                .stdout
                .read_line(&mut line)
                .map_err(|e| format!("reading the client: {e}"))?;
            if n == 0 {
                return Err(format!("the client ended before `{tag}`"));
            }
            let line = line.trim_end();
            if let Some(rest) = line.strip_prefix(tag) {
                return Ok(rest.split_whitespace().map(str::to_string).collect());
            }
            if let Some(fatal) = line.strip_prefix("FATAL ") {
                return Err(format!("client: {fatal}"));
            }
            println!("  client: {line}");
        }
    }
}

fn field<T: std::str::FromStr>(words: &[String], name: &str) -> Result<T, String> {
    words
        .iter()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("client line without {name}: {words:?}"))
}

fn idle_ping_bench(args: &Args) -> Result<(), String> {
    let count = args.count;
    let users = args.users.unwrap_or(100).clamp(1, count);
    // One socket per Ping in each process (this one and the client's).
    let limit = open_file_limit();
    if count as u64 + 64 > limit {
        return Err(format!(
            "{count} Pings need {} open files per process; the limit is {limit}",
            count + 64
        ));
    }
    let load_start = load_average();
    let (rss_empty, _) = memory_kib();
    heap::TRACK.store(true, std::sync::atomic::Ordering::Relaxed);
    let server_rt = server_runtime()?;
    let config = MockConfig {
        accounts: accounts(users),
        require_provisioning: true,
        ..MockConfig::default()
    };
    let heartbeat = config.heartbeat_range.1;
    let server = server_rt
        .block_on(MockServer::start(config))
        .map_err(|e| format!("starting the mock: {e}"))?;
    let (rss_started, _) = memory_kib();
    let heap_started = heap::snapshot();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args([
            "__ping-client".to_string(),
            format!("--addr={}", server.addr()),
            format!("--count={count}"),
            format!("--users={users}"),
            format!("--heartbeat={heartbeat}"),
            format!("--concurrency={}", args.concurrency),
            format!("--reconnect={}", args.reconnect),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting the client process: {e}"))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err("the client's pipes".into());
    };
    let mut client = PingClient {
        child,
        stdin,
        stdout: BufReader::new(stdout),
    };
    let result = drive_ping_client(&mut client, args, &server_rt);
    // The Pings would hold a graceful shutdown for the whole heartbeat: the
    // client is killed and the runtime dropped without waiting.
    let _ = client.child.kill();
    let _ = client.child.wait();
    drop(server);
    server_rt.shutdown_background();
    let r = result?;
    let load_end = load_average();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!();
    println!(
        "mock_load idle-ping: {count} Pings (HeartbeatInterval {heartbeat} s, one folder each) \
         from {count} devices of {users} users, protocol {PROTOCOL}; load average {load_start} \
         -> {load_end}"
    );
    println!(
        "set-up of {count} devices (Provision x2, FolderSync, Sync x2 each; {} at a time): \
         {:.1} s; Pings sent in {:.2} s; {} server tasks alive while held",
        args.concurrency, r.setup_secs, r.sent_secs, r.tasks_held
    );
    let connections = if args.reconnect {
        "set-up connections closed"
    } else {
        "connections open and idle"
    };
    println!("| server process | VmRSS MiB | after malloc_trim MiB |");
    println!("|---|---:|---:|");
    println!("| before the mock started | {:.1} | |", mib(rss_empty));
    println!("| mock started, no device | {:.1} | |", mib(rss_started));
    println!(
        "| {count} devices set up, {connections} | {:.1} | {:.1} |",
        mib(r.rss_setup),
        mib(r.rss_setup_trimmed)
    );
    println!(
        "| {count} Pings held (after {:.0} s) | {:.1} | {:.1} |",
        args.settle,
        mib(r.rss_held),
        mib(r.rss_held_trimmed)
    );
    println!("| peak (VmHWM) | {:.1} | |", mib(r.hwm_held));
    let per = |kib: u64| kib as f64 / count as f64;
    // Live heap by size class: what set-up left per device, what the held
    // Pings added; only classes that grew by at least a block per two devices.
    let min = (count / 2) as i64;
    for (what, before, after) in [
        ("set-up", &heap_started, &r.heap_setup),
        ("Pings held", &r.heap_setup, &r.heap_held),
    ] {
        let (rows, total) = heap::growth(before, after, min);
        println!(
            "live heap growth, {what}: {:.1} MiB ({:.1} KiB per device); size classes with \
             at least {min} more blocks and 1 MiB:",
            total as f64 / 1024.0 / 1024.0,
            total as f64 / 1024.0 / count as f64
        );
        println!("| size | blocks | MiB |");
        println!("|---|---:|---:|");
        for row in rows {
            println!("{row}");
        }
    }
    println!(
        "per device: {:.1} KiB set up ({connections}), {:.1} KiB more with its Ping held \
         (live, after malloc_trim: {:.1} and {:.1}); still pending after {:.0} s: {} of {count}",
        per(r.rss_setup.saturating_sub(rss_started)),
        per(r.rss_held.saturating_sub(r.rss_setup)),
        per(r.rss_setup_trimmed.saturating_sub(rss_started)),
        per(r.rss_held_trimmed.saturating_sub(r.rss_setup_trimmed)),
        args.settle,
        count - r.returned_early,
    );
    println!(
        "wake: one contact changed by another device of {}: {} of {} expected Pings answered \
         (Status 2, folder {CONTACTS}), {} other answers; latency from the change's request: \
         p50 {} µs, max {} µs (change's own Sync took {} µs); still pending afterwards: {} \
         (expected {})",
        user_name(0),
        r.woken,
        r.expected,
        r.wrong,
        r.wake_p50,
        r.wake_max,
        r.change_us,
        r.still,
        count - r.expected
    );
    println!(
        "RESULT idle-ping count={count} users={users} reconnect={} rss_setup_mib={:.1} \
         rss_held_mib={:.1} rss_held_trimmed_mib={:.1} hwm_mib={:.1} early={} woken={}/{} \
         wake_p50_us={} wake_max_us={} load=\"{load_start}\"",
        args.reconnect,
        mib(r.rss_setup),
        mib(r.rss_held),
        mib(r.rss_held_trimmed),
        mib(r.hwm_held),
        r.returned_early,
        r.woken,
        r.expected,
        r.wake_p50,
        r.wake_max
    );
    let ok = r.returned_early == 0
        && r.woken == r.expected
        && r.wrong == 0
        && r.still == count - r.expected;
    if !ok {
        return Err("idle-ping: Pings answered early, not woken, or woken wrongly".into());
    }
    Ok(())
}

struct PingReport {
    setup_secs: f64,
    sent_secs: f64,
    rss_setup: u64,
    rss_setup_trimmed: u64,
    rss_held: u64,
    rss_held_trimmed: u64,
    heap_setup: Vec<(i64, i64)>,
    heap_held: Vec<(i64, i64)>,
    hwm_held: u64,
    tasks_held: usize,
    returned_early: usize,
    expected: usize,
    woken: usize,
    wrong: usize,
    still: usize,
    wake_p50: u64,
    wake_max: u64,
    change_us: u64,
}

fn drive_ping_client(
    client: &mut PingClient,
    args: &Args,
    server_rt: &tokio::runtime::Runtime,
) -> Result<PingReport, String> {
    let setup = client.expect("SETUP")?;
    let setup_secs = field(&setup, "secs")?;
    let (rss_setup, _) = memory_kib();
    let rss_setup_trimmed = trimmed_rss_kib();
    let heap_setup = heap::snapshot();
    client.send("PING")?;
    let sent = client.expect("SENT")?;
    let sent_secs = field(&sent, "secs")?;
    std::thread::sleep(Duration::from_secs_f64(args.settle));
    let (rss_held, hwm_held) = memory_kib();
    let rss_held_trimmed = trimmed_rss_kib();
    let heap_held = heap::snapshot();
    let tasks_held = server_rt.metrics().num_alive_tasks();
    client.send("CHECK")?;
    let check = client.expect("RETURNED")?;
    let returned_early: usize = field(&check, "n")?;
    if returned_early > 0 {
        println!("  Pings answered before any change: {check:?}");
    }
    client.send("WAKE")?;
    let wake = client.expect("WOKEN")?;
    Ok(PingReport {
        setup_secs,
        sent_secs,
        rss_setup,
        rss_setup_trimmed,
        rss_held,
        rss_held_trimmed,
        hwm_held,
        heap_setup,
        heap_held,
        tasks_held,
        returned_early,
        expected: field(&wake, "expected")?,
        woken: field(&wake, "woken")?,
        wrong: field(&wake, "wrong")?,
        still: field(&wake, "still")?,
        wake_p50: field(&wake, "p50_us")?,
        wake_max: field(&wake, "max_us")?,
        change_us: field(&wake, "change_us")?,
    })
}

// ---------------------------------------------------------------------------
// idle-ping: the devices (the child process)

/// A Ping's answer: its Status and the folders it names, or what went wrong
/// (I/O, HTTP status, undecodable body).
type PingAnswer = Result<(String, Vec<String>), String>;

/// What a device task tells the child's main task.
enum Event {
    SetUp(Result<(), String>),
    Sent,
    /// A Ping answered: when, the HTTP status, the Ping Status, the folders.
    Answered {
        device: usize,
        at: Instant,
        outcome: PingAnswer,
    },
}

fn ping_client(args: &Args) -> Result<(), String> {
    let result = client_runtime()?.block_on(ping_client_main(args.clone()));
    if let Err(e) = &result {
        println!("FATAL {e}");
    }
    result
}

/// The folder device `i` watches: per user, even devices Contacts, odd ones
/// Calendar.
fn watched(i: usize, users: usize) -> (&'static str, &'static str) {
    if (i / users).is_multiple_of(2) {
        (CONTACTS, "Contacts")
    } else {
        (CALENDAR, "Calendar")
    }
}

async fn ping_client_main(args: Args) -> Result<(), String> {
    let addr = args.addr.ok_or("--addr missing")?;
    let (count, users) = (args.count, args.users.unwrap_or(1));
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let say = |line: String| {
        println!("{line}");
        let _ = io::stdout().flush();
    };
    let next_line = async |lines: &mut mpsc::UnboundedReceiver<String>| {
        lines
            .recv()
            .await
            .ok_or("the bench closed stdin".to_string())
    };

    // The device that makes the change: user 0's, not pinging.
    let mut changer = Device::connect(addr, user_name(0), "changer".into()).await?;
    changer.set_up(CONTACTS).await?;
    let contact = changer
        .items
        .first()
        .cloned()
        .ok_or("the changer's first Sync brought no contact")?;

    let started = Instant::now();
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let (go_tx, go) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(args.concurrency));
    let heartbeat = args.heartbeat;
    let reconnect = args.reconnect;
    for i in 0..count {
        let events = events_tx.clone();
        let permits = permits.clone();
        let mut go = go.clone();
        tokio::spawn(async move {
            let (folder, class) = watched(i, users);
            let device = async {
                let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
                let mut d = Device::connect(addr, user_name(i % users), format!("ping{i}")).await?;
                d.set_up(folder)
                    .await
                    .map_err(|e| format!("ping{i}: {e}"))?;
                // Idle from here on: no buffers held.
                d.conn.buf = Vec::new();
                d.out = Vec::new();
                d.items = Vec::new();
                Ok::<_, String>(d)
            }
            .await;
            let (head, conn) = match device {
                Ok(d) => {
                    let _ = events.send(Event::SetUp(Ok(())));
                    // With --reconnect the set-up connection closes here.
                    let head = d.head("Ping");
                    (head, (!reconnect).then_some(d.conn))
                }
                Err(e) => {
                    let _ = events.send(Event::SetUp(Err(e)));
                    return;
                }
            };
            if go.wait_for(|go| *go).await.is_err() {
                return;
            }
            let mut conn = match conn {
                Some(c) => c,
                None => match Conn::connect(addr).await {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = events.send(Event::Sent);
                        let _ = events.send(Event::Answered {
                            device: i,
                            at: Instant::now(),
                            outcome: Err(format!("connecting for the Ping: {e}")),
                        });
                        return;
                    }
                },
            };
            let body = ping_request(heartbeat, folder, class);
            let mut out = Vec::new();
            Device::frame(&mut out, &head, &body);
            drop((head, body));
            if let Err(e) = conn.write_all(&out).await {
                let _ = events.send(Event::Sent);
                let _ = events.send(Event::Answered {
                    device: i,
                    at: Instant::now(),
                    outcome: Err(format!("writing the Ping: {e}")),
                });
                return;
            }
            drop(out);
            let _ = events.send(Event::Sent);
            let response = conn.read_response().await;
            let at = Instant::now();
            let outcome = match response {
                Err(e) => Err(format!("I/O: {e}")),
                Ok(r) if r.status != 200 => Err(format!(
                    "HTTP {}: {}",
                    r.status,
                    String::from_utf8_lossy(&r.body).trim()
                )),
                Ok(r) => Doc::parse(&r.body).map(|doc| {
                    use ping::*;
                    let status = doc
                        .find(&[(PAGE, PING), (PAGE, STATUS)])
                        .unwrap_or("none")
                        .to_string();
                    let folders = doc
                        .all(&[(PAGE, PING), (PAGE, FOLDERS), (PAGE, FOLDER)])
                        .map(str::to_string)
                        .collect();
                    (status, folders)
                }),
            };
            let _ = events.send(Event::Answered {
                device: i,
                at,
                outcome,
            });
        });
    }
    drop(events_tx);

    let mut set_up = 0;
    let mut failures = Vec::new();
    let mut answered: Vec<(usize, Instant, PingAnswer)> = Vec::new();
    while set_up + failures.len() < count {
        match events.recv().await {
            Some(Event::SetUp(Ok(()))) => set_up += 1,
            Some(Event::SetUp(Err(e))) => failures.push(e),
            Some(_) => {}
            None => break,
        }
    }
    if !failures.is_empty() {
        return Err(format!(
            "{} of {count} devices failed to set up; first: {}",
            failures.len(),
            failures[0]
        ));
    }
    say(format!(
        "SETUP secs={:.2} devices={set_up}",
        started.elapsed().as_secs_f64()
    ));

    if next_line(&mut lines).await? != "PING" {
        return Err("expected PING".into());
    }
    let sending = Instant::now();
    let _ = go_tx.send(true);
    let mut sent = 0;
    while sent < count {
        match events.recv().await {
            Some(Event::Sent) => sent += 1,
            Some(Event::Answered {
                device,
                at,
                outcome,
            }) => {
                // Answered while the others were still being sent.
                answered.push((device, at, outcome));
            }
            Some(Event::SetUp(_)) => {}
            None => break,
        }
    }
    say(format!(
        "SENT secs={:.3} n={sent}",
        sending.elapsed().as_secs_f64()
    ));

    // Until CHECK: collect whatever comes back early.
    loop {
        tokio::select! {
            line = next_line(&mut lines) => {
                if line? != "CHECK" { return Err("expected CHECK".into()); }
                break;
            }
            Some(Event::Answered { device, at, outcome }) = events.recv() => {
                answered.push((device, at, outcome));
            }
        }
    }
    let early = answered.len();
    let mut sample = String::new();
    for (device, _, outcome) in answered.iter().take(3) {
        let _ = write!(sample, " ping{device}:{outcome:?}");
    }
    if let Some((_, _, Err(e))) = answered.first()
        && e.contains("HTTP 501")
    {
        sample.push_str(" (Ping is not implemented in the mock yet)");
    }
    say(format!("RETURNED n={early}{sample}"));

    if next_line(&mut lines).await? != "WAKE" {
        return Err("expected WAKE".into());
    }
    let expected = (0..count)
        .filter(|&i| i % users == 0 && watched(i, users).0 == CONTACTS)
        .filter(|i| !answered.iter().any(|(d, _, _)| d == i))
        .count();
    let template = ChangeTemplate::new(CONTACTS, &contact);
    let mut body = Vec::new();
    template.body(&changer.sync_key, 0, &mut body);
    let change_sent = Instant::now();
    let response = changer
        .sync(&body)
        .await
        .map_err(|e| format!("the change: {e}"))?;
    let change_us = change_sent.elapsed().as_micros() as u64;
    if response.status != 200 {
        return Err(format!("the change: HTTP {}", response.status));
    }
    check_sync(&response.body).map_err(|e| format!("the change: {e}"))?;

    let mut woken = new_histogram();
    let mut wrong = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut quiet_until = None;
    loop {
        let until = quiet_until.unwrap_or(deadline).min(deadline);
        let (device, at, outcome) = match tokio::time::timeout_at(until, events.recv()).await {
            Ok(Some(Event::Answered {
                device,
                at,
                outcome,
            })) => (device, at, outcome),
            Ok(Some(_)) => continue,
            // The time is up, or every device task has ended.
            Err(_) | Ok(None) => break,
        };
        let (folder, _) = watched(device, users);
        let right = device % users == 0
            && folder == CONTACTS
            && matches!(&outcome, Ok((status, folders))
                if status == ping::CHANGES_FOUND && folders.iter().any(|f| f == CONTACTS));
        if right {
            let _ = woken.record((at - change_sent).as_micros().max(1) as u64);
        } else {
            wrong.push(format!("ping{device}: {outcome:?}"));
        }
        answered.push((device, at, outcome));
        if woken.len() as usize == expected && quiet_until.is_none() {
            // All woken: one more second to see that nobody else answers.
            quiet_until = Some(tokio::time::Instant::now() + Duration::from_secs(1));
        }
    }
    if woken.len() as usize == expected && quiet_until.is_none() {
        // None expected (or all before the loop): still watch for a second.
        tokio::time::sleep(Duration::from_secs(1)).await;
        while let Ok(Event::Answered {
            device, outcome, ..
        }) = events.try_recv()
        {
            wrong.push(format!("ping{device}: {outcome:?}"));
        }
    }
    for w in wrong.iter().take(3) {
        say(format!("wrong answer: {w}"));
    }
    let (rss, _) = memory_kib();
    say(format!("client VmRSS {:.1} MiB", rss as f64 / 1024.0));
    let still = count - answered.len();
    say(format!(
        "WOKEN woken={} expected={expected} wrong={} still={still} p50_us={} max_us={} \
         change_us={change_us}",
        woken.len(),
        wrong.len(),
        woken.value_at_quantile(0.5),
        woken.max(),
    ));
    // The bench kills this process; wait for it.
    let _ = next_line(&mut lines).await;
    Ok(())
}
