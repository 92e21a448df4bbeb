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
//! in the Inbox as an unread Email item: `From`, `To`, `Cc` and `Subject`
//! as sent (header lines unfolded; encoded words are not decoded),
//! `DisplayTo` from the display names of `To`, `DateReceived` from `Date`
//! (now when it is missing or does not parse), `Importance` 1, `Read` 0,
//! `MessageClass` `IPM.Note`, the body as a plain text (`text/plain` or no
//! `Content-Type`) or HTML (`text/html`) `airsyncbase:Body`, decoded from
//! base64 or quoted-printable, and the whole message kept as its MIME
//! source. Multipart messages and other encodings are refused (HTTP 400):
//! the hook delivers single-part text messages only.

use std::sync::Arc;

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::wbxml::{Element, Node, ProtocolVersion};

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
    let item = match message_item(&body, now_unix()) {
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

/// An Email item for the Inbox from a raw single-part text message.
fn message_item(raw: &[u8], now: i64) -> Result<Item, String> {
    let mime = std::str::from_utf8(raw).map_err(|_| "the message is not UTF-8".to_string())?;
    let (head, body) = split_message(mime);
    let fields = header_fields(head)?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let content_type = field("Content-Type").unwrap_or("text/plain");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let body_type = match media.as_str() {
        "text/plain" => "1",
        "text/html" => "2",
        other => {
            return Err(format!(
                "Content-Type `{other}`: only single-part text/plain or text/html messages can be delivered"
            ));
        }
    };
    let charset = parameter(content_type, "charset").map(|c| c.to_ascii_lowercase());
    if let Some(charset) = &charset
        && !matches!(charset.as_str(), "utf-8" | "us-ascii")
    {
        return Err(format!("charset `{charset}`: only UTF-8 and US-ASCII"));
    }
    let encoding = field("Content-Transfer-Encoding")
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let text = match encoding.as_str() {
        "7bit" | "8bit" | "binary" => body.to_string(),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = BASE64
                .decode(compact)
                .map_err(|e| format!("the base64 body does not decode: {e}"))?;
            String::from_utf8(bytes).map_err(|_| "the decoded body is not UTF-8".to_string())?
        }
        "quoted-printable" => quoted_printable(body)?,
        other => return Err(format!("Content-Transfer-Encoding `{other}`")),
    };
    let received = field("Date").and_then(rfc2822_to_unix).unwrap_or(now);
    let leaf = |namespace: &'static str, name: &str, value: &str| Element {
        namespace,
        name: name.to_string(),
        children: vec![Node::Text(value.to_string())],
    };
    let mut data = Vec::new();
    if let Some(to) = field("To") {
        data.push(leaf("Email", "To", to));
    }
    if let Some(cc) = field("Cc") {
        data.push(leaf("Email", "Cc", cc));
    }
    if let Some(from) = field("From") {
        data.push(leaf("Email", "From", from));
    }
    data.push(leaf("Email", "Subject", field("Subject").unwrap_or("")));
    data.push(leaf("Email", "DateReceived", &eas_datetime(received)));
    if let Some(to) = field("To") {
        data.push(leaf("Email", "DisplayTo", &display_names(to)));
    }
    data.push(leaf("Email", "Importance", "1"));
    data.push(leaf("Email", "Read", "0"));
    data.push(Element {
        namespace: "AirSyncBase",
        name: "Body".to_string(),
        children: vec![
            Node::Element(leaf("AirSyncBase", "Type", body_type)),
            Node::Element(leaf("AirSyncBase", "Data", &text)),
        ],
    });
    data.push(leaf("Email", "MessageClass", "IPM.Note"));
    data.push(leaf("Email", "InternetCPID", "65001"));
    data.push(super::items::conversation_id(
        field("Subject").unwrap_or_default(),
    ));
    Ok(Item {
        server_id: String::new(),
        class: Class::Email,
        data,
        modseq: 0,
        mime: Some(mime.to_string()),
        attachments: Vec::new(),
    })
}

/// The header block and the body: split at the first empty line (CRLF or
/// LF line ends); no empty line, no body.
fn split_message(mime: &str) -> (&str, &str) {
    let crlf = mime.find("\r\n\r\n").map(|i| (i, 4));
    let lf = mime.find("\n\n").map(|i| (i, 2));
    let split = match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    match split {
        Some((at, len)) => (&mime[..at], &mime[at + len..]),
        None => (mime, ""),
    }
}

/// The header fields, unfolded (RFC 5322 2.2.3); `Err` for a line that is
/// neither a field nor a continuation, or no field at all.
fn header_fields(head: &str) -> Result<Vec<(String, String)>, String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = fields.last_mut() else {
                return Err("the message starts with a continuation line".to_string());
            };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .filter(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && b != b':'))
            .ok_or_else(|| format!("not an RFC 822 header line: `{line}`"))?;
        fields.push((name.to_string(), value.trim().to_string()));
    }
    if fields.is_empty() {
        return Err("the message has no header".to_string());
    }
    Ok(fields)
}

/// A `; name=value` parameter of a header value, unquoted.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Quoted-printable (RFC 2045 6.7) decoded: `=XX` escapes, `=` soft line breaks.
fn quoted_printable(body: &str) -> Result<String, String> {
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'=' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let rest = &bytes[i + 1..];
        if rest.starts_with(b"\r\n") {
            i += 3;
        } else if rest.starts_with(b"\n") {
            i += 2;
        } else {
            let hex = body
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| "a bad quoted-printable escape".to_string())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
            i += 3;
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded body is not UTF-8".to_string())
}

/// The display names of an address list (`Ann <a@x>, "Doe, Bob" <b@x>,
/// c@x` -> `Ann; Doe, Bob; c@x`), as Exchange fills `DisplayTo`.
fn display_names(list: &str) -> String {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut angle = false;
    for c in list.chars() {
        match c {
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                names.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    names.push(current);
    names
        .iter()
        .filter_map(|address| {
            let address = address.trim();
            let name = match address.find('<') {
                Some(at) if at > 0 => address[..at].trim().trim_matches('"').trim(),
                Some(_) => address.trim_matches(['<', '>']),
                None => address,
            };
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Seconds since the epoch of an RFC 5322 date (3.3): `[Day,] DD Mon YYYY
/// HH:MM[:SS] zone`, the zone `+HHMM`/`-HHMM` or an obsolete name (UT, GMT,
/// Z, EST, EDT, CST, CDT, MST, MDT, PST, PDT); comments dropped.
fn rfc2822_to_unix(date: &str) -> Option<i64> {
    let mut clean = String::new();
    let mut depth = 0u32;
    for c in date.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => clean.push(c),
            _ => {}
        }
    }
    let clean = match clean.split_once(',') {
        Some((_, rest)) => rest.to_string(),
        None => clean,
    };
    let parts: Vec<&str> = clean.split_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    let day: i64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month))
        .map(|m| m as i64 + 1)?;
    let year: i64 = year.parse().ok()?;
    // Obsolete two-digit years (RFC 5322 4.3).
    let year = match year {
        0..=49 => 2000 + year,
        50..=999 => 1900 + year,
        y => y,
    };
    let mut hms = time.split(':');
    let hour: i64 = hms.next()?.parse().ok().filter(|h| (0..24).contains(h))?;
    let minute: i64 = hms.next()?.parse().ok().filter(|m| (0..60).contains(m))?;
    let second: i64 = match hms.next() {
        Some(s) => s.parse().ok().filter(|s| (0..=60).contains(s))?,
        None => 0,
    };
    if hms.next().is_some() {
        return None;
    }
    let offset_minutes: i64 = match zone.to_ascii_uppercase().as_str() {
        "UT" | "GMT" | "Z" => 0,
        "EDT" => -4 * 60,
        "EST" | "CDT" => -5 * 60,
        "CST" | "MDT" => -6 * 60,
        "MST" | "PDT" => -7 * 60,
        "PST" => -8 * 60,
        z => {
            let (sign, digits) = match z.as_bytes().first()? {
                b'+' => (1, &z[1..]),
                b'-' => (-1, &z[1..]),
                _ => return None,
            };
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hh: i64 = digits[..2].parse().ok()?;
            let mm: i64 = digits[2..].parse().ok()?;
            sign * (hh * 60 + mm)
        }
    };
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(local - offset_minutes * 60)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of
/// [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An EAS date-time (`2026-11-09T09:15:00.000Z`) of seconds since the epoch.
fn eas_datetime(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    let seconds = unix.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        seconds / 3_600,
        seconds % 3_600 / 60,
        seconds % 60
    )
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
    fn rfc2822_dates_become_eas_datetimes() {
        let t = rfc2822_to_unix("Mon, 9 Nov 2026 10:15:00 +0100 (CET)").unwrap();
        assert_eq!(eas_datetime(t), "2026-11-09T09:15:00.000Z");
        let t = rfc2822_to_unix("29 Feb 2028 23:30 -0230").unwrap();
        assert_eq!(eas_datetime(t), "2028-03-01T02:00:00.000Z");
        assert_eq!(
            rfc2822_to_unix("Sun, 22 Nov 2026 01:00:00 GMT"),
            rfc2822_to_unix("Sat, 21 Nov 2026 17:00:00 PST")
        );
        for bad in [
            "",
            "yesterday",
            "32 Nov 2026 10:00 +0000",
            "1 Foo 2026 10:00 +0000",
            "1 Nov 2026 25:00 +0000",
            "1 Nov 2026 10:00 +01",
        ] {
            assert_eq!(rfc2822_to_unix(bad), None, "{bad}");
        }
        assert_eq!(eas_datetime(0), "1970-01-01T00:00:00.000Z");
        for days in [-1000, 0, 59, 365 * 30 + 7, 20_779] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn a_delivered_message_becomes_an_unread_email() {
        let raw = "From: Carol <carol@example.test>\r\nTo: \"Doe, Ann\" <ann@x.test>,\r\n bob@x.test\r\n\
                   Subject: Hello\r\nDate: Mon, 9 Nov 2026 10:15:00 +0100\r\n\
                   Content-Type: text/plain; charset=\"utf-8\"\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\r\nH=C3=A9 l=\r\nlo\r\n";
        let item = message_item(raw.as_bytes(), 0).unwrap();
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
        // No Date: now.
        let item = message_item(b"Subject: x\n\nbody", 86_400).unwrap();
        assert_eq!(
            item.text("DateReceived").as_deref(),
            Some("1970-01-02T00:00:00.000Z")
        );
        assert_eq!(item.body(), Some((1, "body".to_string())));
        for bad in [
            &b"no header here"[..],
            b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b--",
            b"Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!",
            b"Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nx",
            b"\xff\xfe",
        ] {
            assert!(
                message_item(bad, 0).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
