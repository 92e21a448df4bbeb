//! The HTTP layer (MS-ASHTTP): authentication, the request line, protocol
//! version, content type, body decoding, the policy key check, and the
//! version-dependent way of reporting failures.
//!
//! Bodies may be gzip-compressed both ways (MS-ASHTTP's `Accept-Encoding`
//! and `Content-Encoding` headers): a request body sent with
//! `Content-Encoding: gzip` is inflated as it is read, and a client that sends
//! `Accept-Encoding: gzip` gets a gzip response body (tower-http's
//! compression and decompression layers). The body size limit applies to the
//! inflated body: the decompression layer wraps the body before the handler's
//! extractor reads it through `http_body_util::Limited`, which stops reading
//! (HTTP 413) as soon as the inflated bytes pass `max_body_bytes`, so a small
//! gzip bomb is never inflated in full.
//!
//! Every request gets one `tracing` event (target `eastest::mock::http`):
//! INFO when it succeeds, WARN when it fails (HTTP 4xx/5xx or an EAS Status
//! other than 1), with the method, command, user, device id, protocol
//! version, whether a policy key came along, the HTTP and EAS status, the
//! reason of a failure and the time taken. Never the `Authorization` header,
//! a password, a policy key's value or a body. The library only emits the
//! events; whoever embeds it installs (or not) a subscriber.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tracing::Level;

use crate::protocol::{Command, ProtocolVersion, RequestBody, RequestQuery};
use crate::wbxml::{DecodeOptions, Element};

use super::Shared;
use super::command::{Ctx, IMPLEMENTED, Reply, root_of};
use super::faults;
use super::xml::XmlOut;

/// The path EAS clients post to.
pub const PATH: &str = "/Microsoft-Server-ActiveSync";
const WBXML: &str = "application/vnd.ms-sync.wbxml";

pub fn router(shared: Arc<Shared>) -> Router {
    let routes = Router::new().route(PATH, post(handle_post).options(handle_options));
    // A scenario may redirect a device (HTTP 451 with `X-MS-Location`) to a
    // second path on this listener; requests there are the same EAS
    // endpoint, marked so the scenario sees that the client moved.
    let routes = if shared.config.scenario.is_some() {
        routes.route(
            super::scenario::REDIRECTED_PATH,
            post(
                |state: State<Arc<Shared>>,
                 query: RawQuery,
                 headers: HeaderMap,
                 body: Result<Bytes, BytesRejection>| {
                    super::scenario::at_redirected_location(handle_post(
                        state, query, headers, body,
                    ))
                },
            )
            .options(handle_options),
        )
    } else {
        routes
    };
    // Without `test_hooks` the hook paths are not routed at all: HTTP 404
    // like any unknown path.
    let routes = if shared.config.test_hooks {
        super::hooks::routes(routes)
    } else {
        routes
    };
    routes
        // The referee (`--validate`): innermost, so that it sees inflated
        // request bodies, uncompressed responses and the body limit below;
        // without a referee it passes every request straight on.
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            super::referee::observe,
        ))
        // `DefaultBodyLimit` only records the limit; the `Bytes` extractor
        // applies it to the body it is given, which is the inflated one.
        .layer(DefaultBodyLimit::max(shared.config.max_body_bytes))
        // A gzip request body: inflated while read; corrupt data fails the
        // read (HTTP 400), an unsupported coding gets HTTP 415.
        .layer(RequestDecompressionLayer::new().gzip(true))
        // Responses: gzip when asked for, for bodies above 32 bytes (smaller
        // ones would grow).
        .layer(CompressionLayer::new().gzip(true))
        // Outermost, so that it also sees what the layers refuse (HTTP 413,
        // 415) and times the whole exchange.
        .layer(middleware::from_fn(log_request))
        .with_state(shared)
}

/// OPTIONS: the versions and commands this server offers.
async fn handle_options(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if authenticate(&shared, &headers).is_none() {
        return unauthorized();
    }
    let versions: Vec<&str> = shared.config.versions.iter().map(|v| v.as_str()).collect();
    let commands: Vec<&str> = IMPLEMENTED.iter().map(|c| c.name()).collect();
    let mut response = StatusCode::OK.into_response();
    let h = response.headers_mut();
    h.insert("MS-Server-ActiveSync", HeaderValue::from_static("16.1"));
    h.insert("MS-ASProtocolVersions", header_value(&versions.join(",")));
    h.insert("MS-ASProtocolCommands", header_value(&commands.join(",")));
    h.insert(header::ALLOW, HeaderValue::from_static("OPTIONS,POST"));
    response
}

async fn handle_post(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Over the limit (HTTP 413, counted after inflating), or unreadable, such
    // as corrupt gzip (HTTP 400).
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return http_error(&shared, rejection.status().as_u16(), &rejection.body_text());
        }
    };
    let Some(user) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    let mut query = match query.as_deref().map(RequestQuery::parse) {
        None => {
            return http_error(
                &shared,
                400,
                "the request has no query (Cmd, User, DeviceId, DeviceType)",
            );
        }
        Some(Err(e)) => return http_error(&shared, 400, &format!("bad request line: {e}")),
        Some(Ok(q)) => q,
    };
    // The plain form asks for multipart responses with a header, the
    // base64 form with a bit of its Options byte (MS-ASHTTP 2.2.1.1.2.5).
    if headers
        .get("MS-ASAcceptMultiPart")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("T"))
    {
        query.accept_multipart = true;
    }
    // The base64 form carries the version; the plain form needs the header.
    let header_version = headers
        .get("MS-ASProtocolVersion")
        .and_then(|v| v.to_str().ok());
    let version = match (query.protocol_version, header_version) {
        (Some(v), _) => v,
        (None, Some(text)) => match text.parse::<ProtocolVersion>() {
            Ok(v) => v,
            Err(e) => return http_error(&shared, 400, &e.to_string()),
        },
        (None, None) => return http_error(&shared, 400, "MS-ASProtocolVersion header missing"),
    };
    if !shared.config.versions.contains(version) {
        return http_error(
            &shared,
            400,
            &format!("protocol version {version} is not offered by this server"),
        );
    }
    let command = query.command;
    if !IMPLEMENTED.contains(&command) || !command.is_supported_in(version) {
        return http_error(
            &shared,
            501,
            &format!("{command} is not available in protocol {version} on this server"),
        );
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let body_kind = command.request_body(version);
    let expected = match body_kind {
        RequestBody::Mime => "message/rfc822",
        _ => WBXML,
    };
    if !body.is_empty() && !content_type.starts_with(expected) {
        return http_error(
            &shared,
            400,
            &format!("Content-Type `{content_type}`: expected {expected}"),
        );
    }

    let ctx = Ctx {
        version,
        user: &user,
        device_id: &query.device_id,
        store: &shared.store,
        heartbeat_range: shared.config.heartbeat_range,
        query: &query,
        body: &body,
    };
    // Failures that the command reports: HTTP 4xx/5xx up to 12.1, a Status
    // element from 14.0 on (MS-ASCMD 2.2.2: common status codes).
    let command_failure = |http: u16, status: u16, why: &str| -> Response {
        if version >= ProtocolVersion::V14_0
            && let Some((ns, root)) = root_of(command)
        {
            let mut out = XmlOut::new(ns, root, &[]);
            out.leaf("Status", status.to_string());
            let mut response = reply(&shared, Reply::from_encoded(out.finish(root, version)));
            let outcome = Outcome::of(&mut response);
            outcome.eas_status = Some(status);
            outcome.reason = Some(why.to_string());
            return response;
        }
        http_error(&shared, http, why)
    };

    // A remote wipe ordered for this device (test hook): every command but
    // Provision is refused with the signal to provision (MS-ASPROV 3.1.5.1),
    // whatever the policy key. The device's version is remembered for the
    // hook, which refuses an account-only wipe below 16.1.
    let wipe = ctx.device(|_, device, _| {
        device.last_version = Some(version);
        device.wipe
    });
    if command != Command::Provision
        && let Some(wipe) = wipe
        && super::provision::wipe_expressible(wipe, version)
    {
        return command_failure(449, 140, "RemoteWipeRequested: provision to be wiped");
    }

    if shared.config.require_provisioning && command.requires_policy_key() {
        let sent = query.policy_key.or_else(|| {
            headers
                .get("X-MS-PolicyKey")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        });
        let current = ctx.device(|_, device, _| device.policy.current);
        match (current, sent) {
            (Some(c), Some(s)) if c == s => {}
            (Some(_), Some(s)) if s != 0 => {
                let mut response = if version >= ProtocolVersion::V14_0 {
                    command_failure(449, 144, "InvalidPolicyKey: the policy key is not current")
                } else {
                    http_error(
                        &shared,
                        449,
                        "the policy key is not current: provision again",
                    )
                };
                Outcome::of(&mut response).policy_key = Some("stale");
                return response;
            }
            _ => {
                return if version >= ProtocolVersion::V14_0 {
                    command_failure(449, 142, "DeviceNotProvisioned: provision first")
                } else {
                    http_error(&shared, 449, "the device is not provisioned")
                };
            }
        }
    }

    // Read for the last time above: freed now rather than kept (about
    // 1 KiB) for as long as the handler runs, which for a Ping is its whole
    // long-poll.
    drop(headers);
    let not_wbxml = matches!(body_kind, RequestBody::None | RequestBody::Mime);
    let request = if not_wbxml || (body.is_empty() && body_kind == RequestBody::OptionalWbxml) {
        None
    } else {
        let request = match Element::from_wbxml(&body, &DecodeOptions::strict(version)) {
            Ok(r) => r,
            Err(e) => return command_failure(400, 102, &format!("InvalidWBXML: {e}")),
        };
        if let Some((ns, root)) = root_of(command)
            && (request.namespace != ns || request.name != root)
        {
            let why = format!(
                "InvalidXML: a {command} request's root is {ns}:{root}, not {}:{}",
                request.namespace, request.name
            );
            return command_failure(400, 103, &why);
        }
        Some(request)
    };
    // The one call into the handlers, through the fault profiles'
    // interceptors (`super::faults`; with no profile configured, the
    // handler's `dispatch` alone). A profile may add HTTP headers
    // (`Retry-After`).
    let answer = faults::dispatch(&shared.faults, command, &ctx, request.as_ref()).await;
    let mut response = reply(&shared, answer.reply);
    for (name, value) in answer.headers {
        response.headers_mut().insert(name, header_value(&value));
    }
    response
}

fn reply(shared: &Shared, reply: Reply) -> Response {
    match reply {
        Reply::Wbxml(bytes) => {
            // The response's own Status, for the request log; decoded only
            // when someone listens.
            let eas_status = if tracing::enabled!(Level::WARN) {
                eas_status(&bytes)
            } else {
                None
            };
            let mut response = (StatusCode::OK, bytes).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(WBXML));
            Outcome::of(&mut response).eas_status = eas_status;
            response
        }
        Reply::Http(status, why) => http_error(shared, status, &why),
        Reply::Raw {
            content_type,
            bytes,
        } => {
            let mut response = (StatusCode::OK, bytes).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, header_value(&content_type));
            response
        }
    }
}

/// The authenticated user, if the request carries valid Basic credentials.
pub(super) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = BASE64.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    // Exchange accepts DOMAIN\user; the mock's users have no domain.
    let user = user.rsplit('\\').next().unwrap_or(user);
    shared
        .config
        .accounts
        .iter()
        .find(|a| a.user == user && a.password == password)
        .map(|a| a.user.clone())
}

pub(super) fn unauthorized() -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"eastest mock\""),
    );
    Outcome::of(&mut response).reason =
        Some("no valid Basic credentials (none, an unknown user or a wrong password)".to_string());
    response
}

fn http_error(_shared: &Shared, status: u16, why: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (code, format!("{why}\n")).into_response();
    Outcome::of(&mut response).reason = Some(why.to_string());
    response
}

/// What the handler knows about a request that the request log reports:
/// carried in the response's extensions (which never go on the wire) to
/// [`log_request`], which takes it out.
#[derive(Debug, Clone, Default)]
struct Outcome {
    /// The EAS Status the response carries at its root.
    eas_status: Option<u16>,
    /// Why the request failed.
    reason: Option<String>,
    /// Overrides `present` when the handler found the key stale.
    policy_key: Option<&'static str>,
}

impl Outcome {
    fn of(response: &mut Response) -> &mut Outcome {
        response.extensions_mut().get_or_insert_default::<Outcome>()
    }
}

/// The root's `Status` in a WBXML response, if it has one.
fn eas_status(wbxml: &[u8]) -> Option<u16> {
    let root = Element::from_wbxml(wbxml, &DecodeOptions::lenient(ProtocolVersion::V16_1)).ok()?;
    root.child_text("Status")?.trim().parse().ok()
}

/// One event per request: INFO if it succeeded, WARN if it failed (HTTP
/// 4xx/5xx, or an EAS Status other than 1). What it reads of the request is
/// the method and the request line (the query), whether the
/// `MS-ASProtocolVersion` and `X-MS-PolicyKey` headers are there, and what
/// the handler left in [`Outcome`]: never the `Authorization` header, a
/// password, a policy key's value or a body.
async fn log_request(request: Request, next: Next) -> Response {
    if !tracing::enabled!(Level::WARN) {
        let mut response = next.run(request).await;
        response.extensions_mut().remove::<Outcome>();
        return response;
    }
    let started = Instant::now();
    let method = request.method().clone();
    // Only when it is not the EAS endpoint (test hooks, unknown paths).
    let path = (request.uri().path() != PATH).then(|| request.uri().path().to_string());
    let query = request
        .uri()
        .query()
        .and_then(|q| RequestQuery::parse(q).ok());
    let headers = request.headers();
    // Only a version that parses (an unknown one is in the reason).
    let version = query.as_ref().and_then(|q| q.protocol_version).or_else(|| {
        headers
            .get("MS-ASProtocolVersion")
            .and_then(|v| v.to_str().ok()?.parse::<ProtocolVersion>().ok())
    });
    let key_sent = query.as_ref().is_some_and(|q| q.policy_key.is_some())
        || headers.contains_key("X-MS-PolicyKey");
    // The user as the request line names it (any text: logged quoted and
    // escaped); the command and device id are tokens the parser checked.
    let command = query.as_ref().map(|q| q.command);
    let user = query.as_ref().and_then(|q| q.user.clone());
    let device_id = query.as_ref().map(|q| q.device_id.clone());

    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let outcome = response
        .extensions_mut()
        .remove::<Outcome>()
        .unwrap_or_default();
    let http_status = response.status().as_u16();
    // Said for EAS commands (and whenever a key came), not for OPTIONS.
    let policy_key = outcome.policy_key.or(match (key_sent, &command) {
        (true, _) => Some("present"),
        (false, Some(_)) => Some("absent"),
        (false, None) => None,
    });
    let failed = http_status >= 400 || outcome.eas_status.is_some_and(|s| s != 1);
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                $level,
                method = %method,
                path = path.as_deref(),
                command = command.map(tracing::field::display),
                user = user.as_deref(),
                device_id = device_id.as_deref().map(tracing::field::display),
                version = version.map(|v| tracing::field::display(v.as_str())),
                policy_key = policy_key.map(tracing::field::display),
                http_status,
                eas_status = outcome.eas_status,
                reason = outcome.reason.as_deref(),
                ?elapsed,
                "request"
            )
        };
    }
    if failed {
        event!(Level::WARN);
    } else {
        event!(Level::INFO);
    }
    response
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
