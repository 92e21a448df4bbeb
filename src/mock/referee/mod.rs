//! The conformance referee (`eastest serve --validate`): the mock records
//! each device's session and checks every request a device client sends
//! against the protocol, so that a vendor learns what to fix before the
//! client meets a customer's Exchange.
//!
//! The referee only observes: it never changes what the mock answers (the
//! scripted server side of a session is a scenario's job, `super::scenario`).
//! Each rule it applies is a [`Check`] with a stable id, a severity taken
//! from the spec's wording (MUST / SHOULD), a spec reference and a message
//! that says what to fix; each time a request breaks one, the device's
//! session gets a [`Finding`]. [`catalogue`] lists them all (`eastest serve
//! --list-checks`).
//!
//! Scenarios lead a client into situations where the protocol requires a
//! reaction (start a collection over after Status 3, provision again after
//! HTTP 449, wait out a `Retry-After`); how the client reacted is a
//! [`Reaction`], reported beside the findings.
//!
//! # Observation
//!
//! An axum middleware (`observe`) inside the compression and
//! decompression layers of `super::http::router` sees each request's
//! inflated body and each uncompressed response. It buffers the request body
//! through the same extractor the handler uses (so the body limit and its
//! HTTP 413 / 400 are the handler's own), passes the request on, buffers the
//! response, and records the exchange before the response leaves, so a
//! finding exists by the time the client has its answer. The test hooks
//! under `/_eastest/` are not observed.
//!
//! Sessions are keyed by the authenticated user (Basic credentials; none
//! for a request that did not authenticate) and the request line's
//! DeviceId; a request with no parsable DeviceId (OPTIONS, a broken request
//! line) goes to that user's "unidentified" session.
//!
//! # Memory
//!
//! Each session keeps every finding and the set of checks that applied, but
//! the full decoded trace of only its last [`RefereeConfig::trace_limit`]
//! exchanges (default 200; older ones are counted, not kept), each body's
//! text cut at 64 KiB ([`trace::MAX_BODY_TEXT`]). Raw bodies are dropped as
//! soon as the exchange is judged.
//!
//! # Reports
//!
//! [`Referee::write_reports`] writes one folder per session,
//! `DIR/<user>-<deviceid>/` with `summary.txt`, `junit.xml`, `report.json`
//! and `trace.txt`, plus `DIR/index.txt` and `DIR/index.json`.
//! `eastest serve --validate` prints each finding on stderr as one line
//! when it happens, and the summary on stdout at Ctrl-C.

mod check;
mod checks;
mod report;
pub mod trace;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub use check::{Check, Finding, Reaction, ReactionResult, Severity};
pub use checks::Observed;
pub use report::{ReportError, SessionReport};

use crate::protocol::{ProtocolVersion, RequestBody, RequestQuery};
use crate::wbxml::{DecodeOptions, Element, VersionSet};

use super::Shared;

/// How the referee judges (`MockConfig::referee`).
#[derive(Debug, Clone)]
pub struct RefereeConfig {
    /// The exchanges of each session whose full decoded text is kept.
    pub trace_limit: usize,
    /// Two identical requests that found nothing closer than this are busy
    /// polling (`polling.busy`).
    pub min_poll_interval: Duration,
    /// Print each finding on stderr as it happens.
    pub live: bool,
}

impl Default for RefereeConfig {
    fn default() -> Self {
        RefereeConfig {
            trace_limit: 200,
            min_poll_interval: Duration::from_secs(30),
            live: false,
        }
    }
}

/// Every check the referee applies.
pub fn catalogue() -> &'static [&'static Check] {
    checks::CATALOGUE
}

/// The check with this id.
pub fn check(id: &str) -> Option<&'static Check> {
    checks::by_id(id)
}

/// The `--list-checks` table: id, severity, reference, message.
pub fn list_checks() -> String {
    let id = catalogue().iter().map(|c| c.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    let covered: Vec<&str> = checks::schema_commands().iter().map(|c| c.name()).collect();
    for c in catalogue() {
        out.push_str(&format!(
            "{:id$}  {:6}  {}\n{:id$}          {}\n",
            c.id,
            c.severity.to_string(),
            c.reference,
            "",
            c.message
        ));
    }
    out.push_str(&format!(
        "\nwbxml.required-element and wbxml.element-order cover: {}\n",
        covered.join(", ")
    ));
    out
}

/// One exchange as the trace shows it (decoded, secrets redacted).
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// The exchange's number in its session, from 1.
    pub seq: u64,
    pub at: SystemTime,
    pub elapsed_ms: u64,
    pub method: String,
    pub path: String,
    /// The request line (a base64 one shown parsed; see [`trace`]).
    pub request_line: String,
    pub command: Option<String>,
    pub version: Option<String>,
    pub request_headers: Vec<(String, String)>,
    pub request_body: String,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SessionKey {
    /// The authenticated user; `None` when the request did not authenticate.
    pub user: Option<String>,
    /// The request line's DeviceId; `None`: the "unidentified" session.
    pub device_id: Option<String>,
}

impl SessionKey {
    /// `alice-dev1`, `alice-unidentified`, `anonymous-dev1`.
    pub fn name(&self) -> String {
        format!(
            "{}-{}",
            self.user.as_deref().unwrap_or("anonymous"),
            self.device_id.as_deref().unwrap_or("unidentified")
        )
    }
}

/// One device's session: what it sent, what broke which check.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub key: SessionKey,
    /// The DeviceType of its last request that named one.
    pub device_type: Option<String>,
    /// Exchanges seen (all of them, also those no longer in `trace`).
    pub exchanges: u64,
    /// Every finding, in order.
    pub findings: Vec<Finding>,
    /// The ids of the checks whose preconditions this session met.
    pub applied: Vec<&'static str>,
    /// The last [`RefereeConfig::trace_limit`] exchanges.
    pub trace: std::collections::VecDeque<Exchange>,
}

struct Live {
    session: Session,
    tracker: checks::Tracker,
}

/// The referee of one mock server: every session it saw.
pub struct Referee {
    config: RefereeConfig,
    limits: checks::Limits,
    sessions: Mutex<BTreeMap<SessionKey, Live>>,
}

impl std::fmt::Debug for Referee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Referee")
            .field("config", &self.config)
            .finish()
    }
}

impl Referee {
    /// A referee for a server offering `versions` with this heartbeat range.
    pub fn new(
        config: RefereeConfig,
        versions: VersionSet,
        heartbeat_range: (u32, u32),
    ) -> Referee {
        let limits = checks::Limits {
            versions,
            heartbeat_range,
            min_poll_interval: config.min_poll_interval,
        };
        Referee {
            config,
            limits,
            sessions: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<SessionKey, Live>> {
        // A panic while holding the lock leaves consistent data (each
        // exchange is recorded whole or not at all): keep going.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of every session, in key order.
    pub fn sessions(&self) -> Vec<Session> {
        self.lock().values().map(|l| l.session.clone()).collect()
    }

    /// The findings of every session of the device `device_id` (any user).
    pub fn findings(&self, device_id: &str) -> Vec<Finding> {
        self.lock()
            .values()
            .filter(|l| l.session.key.device_id.as_deref() == Some(device_id))
            .flat_map(|l| l.session.findings.clone())
            .collect()
    }

    /// Every finding of every session.
    pub fn all_findings(&self) -> Vec<(SessionKey, Finding)> {
        self.lock()
            .values()
            .flat_map(|l| {
                l.session
                    .findings
                    .iter()
                    .map(|f| (l.session.key.clone(), f.clone()))
            })
            .collect()
    }

    /// Judges an exchange that `user` made and adds it to its session; the
    /// findings it gave. The exchange's `seq` is set here (the session's next
    /// number). Public so that tests and scenarios can feed exchanges built
    /// by hand.
    pub fn record(&self, user: Option<String>, mut o: Observed) -> Vec<Finding> {
        let query = o.query();
        let key = SessionKey {
            user,
            device_id: query.map(|q| q.device_id.clone()),
        };
        let device_type = query.map(|q| q.device_type.clone());
        let exchange_text = |o: &Observed| Exchange {
            seq: o.seq,
            at: o.started,
            elapsed_ms: o
                .finished
                .duration_since(o.started)
                .unwrap_or_default()
                .as_millis() as u64,
            method: o.method.clone(),
            path: o.path.clone(),
            request_line: trace::request_line(o.raw_query.as_deref(), o.query.as_ref()),
            command: o.command().map(|c| c.name().to_string()),
            version: o.version.map(|v| v.as_str().to_string()),
            request_headers: trace::redact_headers(&o.request_headers),
            request_body: trace::body_text(&o.body, request_is_wbxml(o), o.version),
            status: o.status,
            response_headers: trace::redact_headers(&o.response_headers),
            response_body: trace::body_text(&o.response_body, response_is_wbxml(o), o.version),
        };
        let mut sessions = self.lock();
        let live = sessions.entry(key.clone()).or_insert_with(|| Live {
            session: Session {
                key: key.clone(),
                device_type: None,
                exchanges: 0,
                findings: Vec::new(),
                applied: Vec::new(),
                trace: Default::default(),
            },
            tracker: checks::Tracker::default(),
        });
        live.session.exchanges += 1;
        o.seq = live.session.exchanges;
        if device_type.is_some() {
            live.session.device_type = device_type;
        }
        let verdict = checks::judge(&mut live.tracker, &o, &self.limits);
        for c in &verdict.applied {
            if !live.session.applied.contains(&c.id) {
                live.session.applied.push(c.id);
            }
        }
        live.session
            .findings
            .extend(verdict.findings.iter().cloned());
        if self.config.trace_limit > 0 {
            if live.session.trace.len() >= self.config.trace_limit {
                live.session.trace.pop_front();
            }
            live.session.trace.push_back(exchange_text(&o));
        }
        drop(sessions);
        if self.config.live {
            for f in &verdict.findings {
                eprintln!("{}", live_line(&key, f));
            }
        }
        verdict.findings
    }

    /// The console summary: one block per session.
    pub fn summary(&self, reactions: &[Reaction]) -> String {
        report::summary(&self.sessions(), reactions)
    }

    /// Writes the reports into `dir` (created if missing): one folder per
    /// session and an index. The folders written.
    pub fn write_reports(
        &self,
        dir: &std::path::Path,
        reactions: &[Reaction],
    ) -> Result<Vec<std::path::PathBuf>, ReportError> {
        report::write(dir, &self.sessions(), reactions)
    }
}

/// The line a finding prints as it happens.
pub fn live_line(key: &SessionKey, f: &Finding) -> String {
    format!(
        "referee: {} #{} {} {}: {}",
        key.name(),
        f.exchange
            .map(|e| e.to_string())
            .unwrap_or_else(|| "-".into()),
        f.check.severity,
        f.check.id,
        f.detail
    )
}

fn request_is_wbxml(o: &Observed) -> bool {
    match (o.command(), o.version) {
        (Some(c), Some(v)) => matches!(
            c.request_body(v),
            RequestBody::Wbxml | RequestBody::OptionalWbxml
        ),
        _ => o
            .header("Content-Type")
            .is_some_and(|t| t.starts_with("application/vnd.ms-sync")),
    }
}

fn response_is_wbxml(o: &Observed) -> bool {
    o.response_header("Content-Type")
        .is_some_and(|t| t.starts_with("application/vnd.ms-sync"))
}

/// The middleware that records every exchange when the referee is on (see
/// the module docs); with it off, it passes the request straight on.
pub(in crate::mock) async fn observe(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(referee) = shared.referee.clone() else {
        return next.run(request).await;
    };
    if request.uri().path().starts_with("/_eastest/") {
        return next.run(request).await;
    }
    let started = SystemTime::now();
    let (parts, body) = request.into_parts();
    // The handler's own extractor, under the limit `DefaultBodyLimit` set:
    // the same bytes, and the same refusal, as the handler would get.
    let body = match Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => bytes,
        Err(rejection) => {
            return (rejection.status(), format!("{}\n", rejection.body_text())).into_response();
        }
    };
    let user = super::http::authenticate(&shared, &parts.headers);
    let raw_query = parts.uri.query().map(str::to_string);
    let query = raw_query
        .as_deref()
        .map(|q| RequestQuery::parse(q).map_err(|e| e.to_string()));
    let version = query
        .as_ref()
        .and_then(|q| q.as_ref().ok())
        .and_then(|q| q.protocol_version)
        .or_else(|| {
            parts
                .headers
                .get("MS-ASProtocolVersion")
                .and_then(|v| v.to_str().ok()?.trim().parse::<ProtocolVersion>().ok())
        });
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let request_headers = parts.headers.clone();

    let response = next
        .run(Request::from_parts(parts, Body::from(body.clone())))
        .await;
    let finished = SystemTime::now();
    let (response_parts, response_body) = response.into_parts();
    let Ok(response_bytes) = to_bytes(response_body, usize::MAX).await else {
        return Response::from_parts(response_parts, Body::empty());
    };

    let mut o = Observed {
        seq: 0,
        started,
        finished,
        method,
        path,
        host,
        raw_query,
        query,
        request_headers,
        version,
        body,
        request: None,
        strict_error: None,
        status: response_parts.status.as_u16(),
        response_headers: response_parts.headers.clone(),
        response: None,
        response_body: response_bytes.clone(),
    };
    decode(&mut o);
    referee.record(user, o);
    Response::from_parts(response_parts, Body::from(response_bytes))
}

/// Fills in the decoded request (strictly, then leniently if that fails)
/// and response.
pub fn decode(o: &mut Observed) {
    let v = o.version.unwrap_or(ProtocolVersion::V16_1);
    if !o.body.is_empty() && request_is_wbxml(o) {
        match Element::from_wbxml(&o.body, &DecodeOptions::strict(v)) {
            Ok(e) => o.request = Some(e),
            Err(e) => {
                o.strict_error = Some(e.to_string());
                o.request = Element::from_wbxml(&o.body, &DecodeOptions::lenient(v)).ok();
            }
        }
    }
    if !o.response_body.is_empty() && response_is_wbxml(o) {
        o.response = Element::from_wbxml(&o.response_body, &DecodeOptions::lenient(v)).ok();
    }
}
