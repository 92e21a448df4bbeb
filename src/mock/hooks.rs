//! The test hooks: the mock's admin interface for tests and suites, so they
//! can trigger server-side events (a remote wipe, a fresh mailbox) without a
//! second tool. Routed only with `MockConfig::test_hooks`; see the module
//! docs of [`crate::mock`] for the table of routes.
//!
//! Each hook authenticates with the same Basic credentials as EAS requests
//! and acts on the authenticated user's own mailbox and devices only: a
//! device is looked up under that user, so another user's device of the
//! same id is never found (HTTP 404), let alone touched.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::wbxml::ProtocolVersion;

use super::Shared;
use super::http::{authenticate, unauthorized};
use super::state::Wipe;

/// The path prefix of every hook.
pub const PREFIX: &str = "/_eastest";

/// `router` with the hook routes added.
pub fn routes(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    router
        .route(&format!("{PREFIX}/remote-wipe"), post(remote_wipe))
        .route(&format!("{PREFIX}/reset"), post(reset))
}

/// `POST /_eastest/remote-wipe?device=ID[&account-only=1]`: marks the
/// user's device for remote wipe; its next request gets the signal to
/// provision and its Provision the wipe directive.
async fn remote_wipe(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(user) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    let mut device = None;
    let mut account_only = false;
    for pair in query.as_deref().unwrap_or("").split('&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(value) = percent_decode(value) else {
            return text(StatusCode::BAD_REQUEST, "bad percent-encoding");
        };
        match name {
            "device" if device.is_none() => device = Some(value),
            "account-only" => match value.as_str() {
                "1" => account_only = true,
                "0" => account_only = false,
                _ => return text(StatusCode::BAD_REQUEST, "account-only must be 0 or 1"),
            },
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("unexpected parameter `{name}` (device, account-only)"),
                );
            }
        }
    }
    let Some(device_id) = device.filter(|d| !d.is_empty()) else {
        return text(StatusCode::BAD_REQUEST, "the device parameter is required");
    };
    let wipe = if account_only {
        Wipe::AccountOnly
    } else {
        Wipe::Device
    };
    let outcome = shared
        .store
        .with_existing_device(&user, &device_id, |device| {
            // AccountOnlyRemoteWipe exists in 16.1 only (MS-ASPROV 2.2.2.1).
            if wipe == Wipe::AccountOnly
                && device
                    .last_version
                    .is_some_and(|v| v < ProtocolVersion::V16_1)
            {
                return Err(device.last_version);
            }
            device.wipe = Some(wipe);
            Ok(())
        });
    match outcome {
        None => text(
            StatusCode::NOT_FOUND,
            &format!("{user} has no device `{device_id}`"),
        ),
        Some(Err(version)) => text(
            StatusCode::BAD_REQUEST,
            &format!(
                "an account-only wipe needs protocol 16.1; the device last used {}",
                version.map_or("?", |v| v.as_str())
            ),
        ),
        Some(Ok(())) => StatusCode::NO_CONTENT.into_response(),
    }
}

/// `POST /_eastest/reset`: the user's mailbox, settings and devices back to
/// the initial state. Takes no parameters.
async fn reset(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(user) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    if query.is_some_and(|q| !q.is_empty()) {
        return text(StatusCode::BAD_REQUEST, "reset takes no parameters");
    }
    shared.store.reset_user(&user);
    StatusCode::NO_CONTENT.into_response()
}

fn text(status: StatusCode, why: &str) -> Response {
    (status, format!("{why}\n")).into_response()
}

/// `%XX` escapes and `+` (a space) decoded; `None` if malformed or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("dev%2001+x").as_deref(), Some("dev 01 x"));
        assert_eq!(percent_decode("%4").as_deref(), None);
        assert_eq!(percent_decode("%zz").as_deref(), None);
        assert_eq!(percent_decode("%+1").as_deref(), None);
        assert_eq!(percent_decode("%FF").as_deref(), None);
    }
}
