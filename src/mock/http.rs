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

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use crate::protocol::{ProtocolVersion, RequestQuery};
use crate::wbxml::{DecodeOptions, Element};

use super::Shared;
use super::command::{Ctx, IMPLEMENTED, Reply, dispatch, root_of};
use super::xml::XmlOut;

/// The path EAS clients post to.
pub const PATH: &str = "/Microsoft-Server-ActiveSync";
const WBXML: &str = "application/vnd.ms-sync.wbxml";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(PATH, post(handle_post).options(handle_options))
        // `DefaultBodyLimit` only records the limit; the `Bytes` extractor
        // applies it to the body it is given, which is the inflated one.
        .layer(DefaultBodyLimit::max(shared.config.max_body_bytes))
        // A gzip request body: inflated while read; corrupt data fails the
        // read (HTTP 400), an unsupported coding gets HTTP 415.
        .layer(RequestDecompressionLayer::new().gzip(true))
        // Responses: gzip when asked for, for bodies above 32 bytes (smaller
        // ones would grow).
        .layer(CompressionLayer::new().gzip(true))
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
    let query = match query.as_deref().map(RequestQuery::parse) {
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
    if !body.is_empty() && !content_type.starts_with(WBXML) {
        return http_error(
            &shared,
            400,
            &format!("Content-Type `{content_type}`: expected {WBXML}"),
        );
    }

    let ctx = Ctx {
        version,
        user: &user,
        device_id: &query.device_id,
        store: &shared.store,
    };
    // Failures that the command reports: HTTP 4xx/5xx up to 12.1, a Status
    // element from 14.0 on (MS-ASCMD 2.2.2: common status codes).
    let command_failure = |http: u16, status: u16, why: &str| -> Response {
        if version >= ProtocolVersion::V14_0
            && let Some((ns, root)) = root_of(command)
        {
            log(&shared, &format!("{command}: Status {status}: {why}"));
            let mut out = XmlOut::new(ns, root, &[]);
            out.leaf("Status", status.to_string());
            return reply(&shared, Reply::from_encoded(out.finish(root, version)));
        }
        http_error(&shared, http, why)
    };

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
                return if version >= ProtocolVersion::V14_0 {
                    command_failure(449, 144, "InvalidPolicyKey: the policy key is not current")
                } else {
                    http_error(
                        &shared,
                        449,
                        "the policy key is not current: provision again",
                    )
                };
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
    reply(&shared, dispatch(command, &ctx, &request))
}

fn reply(shared: &Shared, reply: Reply) -> Response {
    match reply {
        Reply::Wbxml(bytes) => {
            let mut response = (StatusCode::OK, bytes).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(WBXML));
            response
        }
        Reply::Http(status, why) => http_error(shared, status, &why),
    }
}

/// The authenticated user, if the request carries valid Basic credentials.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Option<String> {
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

fn unauthorized() -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, "authentication required\n").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"eastest mock\""),
    );
    response
}

fn http_error(shared: &Shared, status: u16, why: &str) -> Response {
    log(shared, &format!("HTTP {status}: {why}"));
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, format!("{why}\n")).into_response()
}

fn log(shared: &Shared, line: &str) {
    if shared.config.log {
        eprintln!("eastest mock: {line}");
    }
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
