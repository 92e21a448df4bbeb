//! The test hooks: the mock's admin interface for tests and suites, so they
//! can trigger server-side events (a remote wipe, a fresh mailbox, items
//! added, changed or deleted on the server, a message delivered) without a
//! second tool. Routed only with `MockConfig::test_hooks`; see the module
//! docs of [`crate::mock`] for the table of routes.
//!
//! Each hook authenticates with the same Basic credentials as EAS requests
//! and acts on the authenticated user's own mailbox and devices only: a
//! device is looked up under that user, so another user's device of the
//! same id is never found (HTTP 404), let alone touched.
//!
//! Item changes go through the store like any EAS change: they get a new
//! revision, so every device sees them in its next Sync and waiting Pings
//! and Syncs of the user wake up. Bodies are bounded by the router's
//! `max_body_bytes` (HTTP 413 above it).
//!
//! # Delivering a message
//!
//! `POST /_eastest/deliver` takes a raw RFC 5322 (822) message and files it
//! in the Inbox as an unread Email item, read exactly as SendMail reads a
//! submission (`mail::delivered_item`: headers, encoded words, multipart
//! bodies, attachments, a meeting invitation), with `DateReceived` from its
//! `Date` (now when it is missing or does not parse). A body that is not a
//! message (no header) is refused with HTTP 400. Unlike SendMail, nothing
//! else happens: no copy elsewhere, no tentative meeting in the Calendar.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::wbxml::{Element, ProtocolVersion};

use super::Shared;
use super::http::{authenticate, unauthorized};
use super::items::{Class, Item, parse_application_data};
use super::state::Wipe;

/// The path prefix of every hook.
pub const PREFIX: &str = "/_eastest";

/// `router` with the hook routes added.
pub fn routes(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    router
        .route(&format!("{PREFIX}/remote-wipe"), post(remote_wipe))
        .route(&format!("{PREFIX}/reset"), post(reset))
        .route(&format!("{PREFIX}/items"), post(add_item))
        .route(&format!("{PREFIX}/items/change"), post(change_item))
        .route(&format!("{PREFIX}/items/delete"), post(delete_item))
        .route(&format!("{PREFIX}/deliver"), post(deliver))
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

/// `POST /_eastest/items?folder=ID`, the body the item's properties (the
/// children of `airsync:ApplicationData` in eastest's XML form, as
/// [`parse_application_data`] reads them): adds an item to the folder, of
/// the folder's class. 201 with the new ServerId as the body.
async fn add_item(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(user) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    let folder_id = match single_param(query.as_deref(), "folder") {
        Ok(f) => f,
        Err((status, why)) => return text(status, &why),
    };
    let data = match properties(body) {
        Ok(data) => data,
        Err((status, why)) => return text(status, &why),
    };
    shared.store.with_mailbox(&user, |mailbox| {
        if mailbox.folder(&folder_id).is_none() {
            return text(
                StatusCode::NOT_FOUND,
                &format!("{user} has no folder `{folder_id}`"),
            );
        }
        let Some(class) = mailbox.class_of(&folder_id) else {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("folder `{folder_id}` holds no items (Journal, recipient cache)"),
            );
        };
        if let Err(why) = fits_class(&data, class) {
            return text(StatusCode::BAD_REQUEST, &why);
        }
        let server_id = mailbox.add_item(
            &folder_id,
            Item {
                server_id: String::new(),
                class,
                data,
                modseq: 0,
                mime: None,
                attachments: Vec::new(),
            },
        );
        (StatusCode::CREATED, server_id).into_response()
    })
}

/// `POST /_eastest/items/change?item=SERVERID`, the body as for
/// [`add_item`]: the item's properties become the body's (a server-side
/// change; its MIME source and attachment contents stay). 204.
async fn change_item(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(user) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    let server_id = match single_param(query.as_deref(), "item") {
        Ok(i) => i,
        Err((status, why)) => return text(status, &why),
    };
    let data = match properties(body) {
        Ok(data) => data,
        Err((status, why)) => return text(status, &why),
    };
    shared.store.with_mailbox(&user, |mailbox| {
        let Some((_, item)) = mailbox.item(&server_id) else {
            return text(
                StatusCode::NOT_FOUND,
                &format!("{user} has no item `{server_id}`"),
            );
        };
        if let Err(why) = fits_class(&data, item.class) {
            return text(StatusCode::BAD_REQUEST, &why);
        }
        mailbox.update_item(&server_id, |item| item.data = data);
        StatusCode::NO_CONTENT.into_response()
    })
}

/// `POST /_eastest/items/delete?item=SERVERID`: deletes the item on the
/// server (every device gets a `Delete`). 204. Takes no body.
async fn delete_item(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(user) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    let server_id = match single_param(query.as_deref(), "item") {
        Ok(i) => i,
        Err((status, why)) => return text(status, &why),
    };
    match shared
        .store
        .with_mailbox(&user, |mailbox| mailbox.remove_item(&server_id))
    {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => text(
            StatusCode::NOT_FOUND,
            &format!("{user} has no item `{server_id}`"),
        ),
    }
}

/// `POST /_eastest/deliver`, the body a raw RFC 822 message: files it in
/// the user's Inbox as a new, unread message (see the module docs). 201
/// with the new ServerId as the body.
async fn deliver(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(user) = authenticate(&shared, &headers) else {
        return unauthorized();
    };
    if query.is_some_and(|q| !q.is_empty()) {
        return text(StatusCode::BAD_REQUEST, "deliver takes no parameters");
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return text(rejection.status(), &rejection.body_text()),
    };
    let item = match message_item(&body) {
        Ok(item) => item,
        Err(why) => return text(StatusCode::BAD_REQUEST, &why),
    };
    shared.store.with_mailbox(&user, |mailbox| {
        let Some(inbox) = mailbox.folder_of_type(2).map(|f| f.server_id.clone()) else {
            return text(StatusCode::NOT_FOUND, &format!("{user} has no Inbox"));
        };
        let server_id = mailbox.add_item(&inbox, item);
        (StatusCode::CREATED, server_id).into_response()
    })
}

/// A refused hook request: the HTTP status and the reason.
type Refusal = (StatusCode, String);

/// The one parameter `name` of a hook's query, percent-decoded and not
/// empty; HTTP 400 otherwise.
fn single_param(query: Option<&str>, name: &str) -> Result<String, Refusal> {
    let mut value = None;
    for pair in query.unwrap_or("").split('&') {
        if pair.is_empty() {
            continue;
        }
        let (key, raw) = pair.split_once('=').unwrap_or((pair, ""));
        if key != name {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("unexpected parameter `{key}` ({name})"),
            ));
        }
        if value.is_some() {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("the {name} parameter is given twice"),
            ));
        }
        let Some(decoded) = percent_decode(raw) else {
            return Err((StatusCode::BAD_REQUEST, "bad percent-encoding".to_string()));
        };
        value = Some(decoded);
    }
    value.filter(|v| !v.is_empty()).ok_or_else(|| {
        (
            StatusCode::BAD_REQUEST,
            format!("the {name} parameter is required"),
        )
    })
}

/// The item properties a hook's body holds; HTTP 400 for a body that is not
/// UTF-8, not in the form [`parse_application_data`] reads, or empty.
fn properties(body: Result<Bytes, BytesRejection>) -> Result<Vec<Element>, Refusal> {
    let body = body.map_err(|r| (r.status(), r.body_text()))?;
    let xml = std::str::from_utf8(&body)
        .map_err(|_| (StatusCode::BAD_REQUEST, "the body is not UTF-8".to_string()))?;
    let data = parse_application_data(xml).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("the body is not ApplicationData content: {e}"),
        )
    })?;
    if data.is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "the body holds no properties".to_string(),
        ));
    }
    Ok(data)
}

/// Whether every top-level property belongs to a page of `class` (a Contacts
/// property in a Calendar folder is a mistake in the test, not an item).
fn fits_class(data: &[Element], class: Class) -> Result<(), String> {
    match data.iter().find(|e| !class.pages().contains(&e.namespace)) {
        Some(e) => Err(format!(
            "{}:{} is not a property of {} items",
            e.namespace,
            e.name,
            class.name()
        )),
        None => Ok(()),
    }
}

/// An Email item for the Inbox from a raw RFC 5322 message: read the way
/// SendMail reads a submission (`mail::delivered_item`).
fn message_item(raw: &[u8]) -> Result<Item, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the message is not UTF-8".to_string())?;
    super::mail::delivered_item(text)
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
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("dev%2001+x").as_deref(), Some("dev 01 x"));
        assert_eq!(percent_decode("%4").as_deref(), None);
        assert_eq!(percent_decode("%zz").as_deref(), None);
        assert_eq!(percent_decode("%+1").as_deref(), None);
        assert_eq!(percent_decode("%FF").as_deref(), None);
    }

    #[test]
    fn a_delivered_message_becomes_an_unread_email() {
        let raw = "From: Carol <carol@example.test>\r\nTo: \"Doe, Ann\" <ann@x.test>,\r\n bob@x.test\r\n\
                   Subject: Hello\r\nDate: Mon, 9 Nov 2026 10:15:00 +0100\r\n\
                   Content-Type: text/plain; charset=\"utf-8\"\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\r\nH=C3=A9 l=\r\nlo\r\n";
        let item = message_item(raw.as_bytes()).unwrap();
        assert_eq!(item.class, Class::Email);
        assert_eq!(
            item.text("To").as_deref(),
            Some("\"Doe, Ann\" <ann@x.test>, bob@x.test")
        );
        assert_eq!(
            item.text("DisplayTo").as_deref(),
            Some("Doe, Ann; bob@x.test")
        );
        assert_eq!(item.text("Subject").as_deref(), Some("Hello"));
        assert_eq!(
            item.text("DateReceived").as_deref(),
            Some("2026-11-09T09:15:00.000Z")
        );
        assert_eq!(item.text("Read").as_deref(), Some("0"));
        assert_eq!(item.body(), Some((1, "Hé llo\r\n".to_string())));
        assert_eq!(item.mime.as_deref(), Some(raw));
        for bad in [&b"no header here"[..], b"\xff\xfe"] {
            assert!(
                message_item(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
