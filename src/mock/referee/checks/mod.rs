//! The checks, one module per family, and the catalogue that lists them all
//! (`eastest serve --list-checks`).
//!
//! Each family keeps the per-session state it needs (the keys the server
//! issued, what the last response asked of the client) and judges every
//! exchange in two steps: the request against the state *before* it, then
//! the response updates the state. A check "applies" to a session once one
//! of its preconditions was met (a JUnit test case is written for it then).

mod http;
mod polling;
mod provision;
mod synckey;
mod wbxml;

use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::http::HeaderMap;

use crate::protocol::{Command, RequestQuery};
use crate::wbxml::{Element, ProtocolVersion, VersionSet};

use super::{Check, Finding};

/// Every check, grouped by family.
pub static CATALOGUE: &[&Check] = &[
    &http::REQUEST_LINE,
    &http::PROTOCOL_VERSION,
    &http::VERSION_OFFERED,
    &http::CONTENT_TYPE,
    &provision::POLICY_KEY,
    &http::USER_AGENT,
    &http::RETRY_AFTER,
    &http::REDIRECT,
    &wbxml::VALID,
    &wbxml::ROOT,
    &wbxml::REQUIRED,
    &wbxml::ORDER,
    &provision::PHASE_ORDER,
    &provision::ACK_KEY,
    &provision::AFTER_449,
    &provision::WIPE_ACK,
    &synckey::FOLDERSYNC_KEY,
    &synckey::FOLDERSYNC_RESET,
    &synckey::FOLDERSYNC_REQUIRED,
    &synckey::SYNC_KEY,
    &synckey::SYNC_RESET,
    &synckey::UNINITIALISED,
    &synckey::SUPPORTED,
    &synckey::MORE_AVAILABLE,
    &polling::PING_RANGE,
    &polling::PING_AFTER_5,
    &polling::SYNC_WAIT,
    &polling::SYNC_RANGE,
    &polling::SYNC_AFTER_14,
    &polling::BUSY,
];

/// The commands whose required elements and order are checked.
pub fn schema_commands() -> Vec<Command> {
    wbxml::covered()
}

/// The check with this id.
pub fn by_id(id: &str) -> Option<&'static Check> {
    CATALOGUE.iter().copied().find(|c| c.id == id)
}

/// One request and its response as the referee saw them, with everything
/// the checks read. Held only while the exchange is judged; the trace keeps
/// a redacted text form instead.
#[derive(Debug, Clone)]
pub struct Observed {
    pub seq: u64,
    /// When the request arrived and when its response was ready.
    pub started: SystemTime,
    pub finished: SystemTime,
    pub method: String,
    pub path: String,
    /// The `Host` header (or the URI's authority).
    pub host: Option<String>,
    /// The query as sent (for the trace, which redacts it).
    pub raw_query: Option<String>,
    /// `None`: no query at all; `Some(Err)`: the parser's message.
    pub query: Option<Result<RequestQuery, String>>,
    pub request_headers: HeaderMap,
    /// From the base64 request line or the `MS-ASProtocolVersion` header.
    pub version: Option<ProtocolVersion>,
    /// The inflated request body.
    pub body: Bytes,
    /// The body decoded leniently (WBXML commands with a body only).
    pub request: Option<Element>,
    /// Why the body does not decode strictly for `version`.
    pub strict_error: Option<String>,
    pub status: u16,
    pub response_headers: HeaderMap,
    /// The response body decoded leniently, when it is WBXML.
    pub response: Option<Element>,
    /// The uncompressed response body.
    pub response_body: Bytes,
}

impl Observed {
    pub fn query(&self) -> Option<&RequestQuery> {
        self.query.as_ref()?.as_ref().ok()
    }

    pub fn command(&self) -> Option<Command> {
        self.query().map(|q| q.command)
    }

    pub fn is_post(&self) -> bool {
        self.method == "POST"
    }

    /// A POST of `command`.
    pub fn is(&self, command: Command) -> bool {
        self.is_post() && self.command() == Some(command)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.request_headers.get(name)?.to_str().ok()
    }

    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers.get(name)?.to_str().ok()
    }

    /// The response's top-level `Status` (the command's root), if any.
    pub fn response_status(&self) -> Option<u32> {
        self.response
            .as_ref()?
            .child_text("Status")?
            .trim()
            .parse()
            .ok()
    }
}

/// What the checks compare against: the server's configuration and the
/// referee's thresholds.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The versions OPTIONS advertises.
    pub versions: VersionSet,
    /// The allowed Ping / Sync HeartbeatInterval, in seconds.
    pub heartbeat_range: (u32, u32),
    /// The shortest interval between two identical requests answered
    /// without changes before it counts as busy polling.
    pub min_poll_interval: Duration,
}

/// The state of one session that the checks keep.
#[derive(Debug, Default)]
pub struct Tracker {
    http: http::State,
    provision: provision::State,
    keys: synckey::State,
    polling: polling::State,
}

/// What judging one exchange gave.
#[derive(Debug, Default)]
pub struct Verdict {
    /// The checks whose precondition this exchange met (each once).
    pub applied: Vec<&'static Check>,
    pub findings: Vec<Finding>,
}

impl Verdict {
    fn applies(&mut self, check: &'static Check) {
        if !self.applied.iter().any(|c| c.id == check.id) {
            self.applied.push(check);
        }
    }

    /// A finding against `check` for exchange `seq` (the check applies too).
    fn fail(&mut self, check: &'static Check, seq: u64, detail: impl Into<String>) {
        self.applies(check);
        self.findings.push(Finding {
            check,
            exchange: Some(seq),
            detail: detail.into(),
        });
    }

    /// `fail` when `ok` is false, `applies` otherwise.
    fn expect(
        &mut self,
        check: &'static Check,
        ok: bool,
        seq: u64,
        detail: impl FnOnce() -> String,
    ) {
        if ok {
            self.applies(check);
        } else {
            self.fail(check, seq, detail());
        }
    }
}

/// Judges one exchange of a session: its request against what the session
/// showed so far, then records what its response asks of the client next.
pub fn judge(tracker: &mut Tracker, o: &Observed, limits: &Limits) -> Verdict {
    let mut v = Verdict::default();
    tracker.http.request(o, limits, &mut v);
    tracker.provision.request(o, &mut v);
    wbxml::request(o, &mut v);
    tracker.keys.request(o, &mut v);
    tracker.polling.request(o, limits, &mut v);

    tracker.http.response(o);
    tracker.provision.response(o);
    tracker.keys.response(o);
    tracker.polling.response(o);
    v
}

/// The trimmed text of `parent`'s child `name`.
fn text_of(parent: &Element, name: &str) -> Option<String> {
    parent.child_text(name).map(|t| t.trim().to_string())
}

/// The `Collection` elements under `root/Collections`.
fn collections(root: &Element) -> Vec<&Element> {
    root.child("Collections")
        .map(|c| c.elements_named("Collection").collect())
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Exchanges built by hand, for the trackers' unit tests.

    use super::*;
    use crate::wbxml::{Node, ProtocolVersion};

    pub fn el(ns: &'static str, name: &str, children: Vec<Node>) -> Element {
        Element {
            namespace: ns,
            name: name.to_string(),
            children,
        }
    }

    /// An element whose children are all elements.
    pub fn parent(ns: &'static str, name: &str, children: Vec<Element>) -> Element {
        el(ns, name, children.into_iter().map(Node::Element).collect())
    }

    pub fn leaf(ns: &'static str, name: &str, text: &str) -> Element {
        el(ns, name, vec![Node::Text(text.to_string())])
    }

    pub fn limits() -> Limits {
        Limits {
            versions: VersionSet::range(ProtocolVersion::V12_1, ProtocolVersion::V16_1),
            heartbeat_range: (60, 3540),
            min_poll_interval: Duration::from_secs(30),
        }
    }

    /// A well-formed 14.1 POST of `cmd` with a policy key header and a
    /// User-Agent, answered HTTP 200 with `response`.
    pub fn post(
        seq: u64,
        cmd: &str,
        request: Option<Element>,
        response: Option<Element>,
    ) -> Observed {
        let query = RequestQuery::parse(&format!(
            "Cmd={cmd}&User=alice&DeviceId=dev1&DeviceType=Test"
        ))
        .map_err(|e| e.to_string());
        let mut headers = HeaderMap::new();
        headers.insert("MS-ASProtocolVersion", "14.1".parse().unwrap());
        headers.insert("User-Agent", "TestClient/1.0".parse().unwrap());
        headers.insert(
            "Content-Type",
            "application/vnd.ms-sync.wbxml".parse().unwrap(),
        );
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + seq * 100);
        Observed {
            seq,
            started: at,
            finished: at + Duration::from_millis(10),
            method: "POST".to_string(),
            path: crate::mock::PATH.to_string(),
            host: Some("127.0.0.1:8080".to_string()),
            raw_query: None,
            query: Some(query),
            request_headers: headers,
            version: Some(ProtocolVersion::V14_1),
            body: Bytes::new(),
            request,
            strict_error: None,
            status: 200,
            response_headers: HeaderMap::new(),
            response,
            response_body: Bytes::new(),
        }
    }
}
