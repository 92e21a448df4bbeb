//! Settings (MS-ASCMD 2.2.1.18): out-of-office settings, device information,
//! the device recovery password, the user's addresses and the rights
//! management templates.
//!
//! The request names properties (`Oof`, `DeviceInformation`,
//! `DevicePassword`, `UserInformation`, `RightsManagementInformation`), each
//! with one action (`Get` or `Set`, as the property allows). They run in
//! request order and each answers with its own `Status`, in the same order,
//! after the command's `Status`.
//!
//! Two levels of failure (MS-ASCMD 2.2.3.177.15):
//! - A request the server cannot take apart into operations (a child that is
//!   not a property, a property without its one valid action, an element out
//!   of place, a required element missing, e.g. a DevicePassword `Set`
//!   without `Password`) gets the command `Status` 2 (protocol error) alone:
//!   no operation runs and no property answers.
//! - Otherwise each operation answers 1 (success), 2 (protocol error: e.g. a
//!   `StartTime` without an `EndTime`, a `ReplyMessage` without a `BodyType`;
//!   also, the mock's choice where the spec says nothing, `OofState` 2 when
//!   no window was sent now or stored before) or 5 (invalid arguments: e.g.
//!   an `OofState` other than 0-2, a `BodyType` other than Text or HTML, a
//!   malformed datetime). A failed `Set` changes nothing.

use crate::protocol::EasDateTime;
use crate::wbxml::{Element, Node, ProtocolVersion};

use super::command::{Ctx, Reply};
use super::state::{DeviceInfo, OofMessage, OofSettings};
use super::xml::XmlOut;

/// Settings status values (MS-ASCMD 2.2.3.177.15).
const SUCCESS: u8 = 1;
const PROTOCOL_ERROR: u8 = 2;
const INVALID_ARGUMENTS: u8 = 5;

const NS: &str = "Settings";
const RM: &str = "RightsManagement";

/// The OOF audiences, in the order the mock reports them; their index is the
/// index into [`OofSettings::messages`].
const AUDIENCES: [&str; 3] = [
    "AppliesToInternal",
    "AppliesToExternalKnown",
    "AppliesToExternalUnknown",
];

/// The children of a DeviceInformation `Set` (MS-ASCMD 2.2.3.45); the codec
/// already refuses those the session's version does not have.
const DEVICE_FIELDS: [&str; 9] = [
    "Model",
    "IMEI",
    "FriendlyName",
    "OS",
    "OSLanguage",
    "PhoneNumber",
    "UserAgent",
    "EnableOutboundSMS",
    "MobileOperator",
];

/// The maximum length of a recovery password (MS-ASCMD 2.2.3.132.3).
const MAX_PASSWORD_CHARS: usize = 255;

/// One operation of the request, checked for shape.
enum Op<'a> {
    OofGet { body_type: String },
    OofSet(&'a Element),
    DeviceInformationSet(&'a Element),
    DevicePasswordSet { password: String },
    UserInformationGet,
    RightsManagementGet,
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let v = ctx.version;
    let Some(ops) = operations(request) else {
        let mut out = XmlOut::new(NS, "Settings", &[]);
        out.leaf("Status", PROTOCOL_ERROR.to_string());
        return Reply::from_encoded(out.finish("Settings", v));
    };
    let rights = ops.iter().any(|op| matches!(op, Op::RightsManagementGet));
    let mut out = XmlOut::new(NS, "Settings", if rights { &[RM] } else { &[] });
    out.leaf("Status", SUCCESS.to_string());
    for op in ops {
        match op {
            Op::OofGet { body_type } => oof_get(ctx, &body_type, &mut out),
            Op::OofSet(set) => {
                let status = oof_set(ctx, set);
                property_status(&mut out, "Oof", status);
            }
            Op::DeviceInformationSet(set) => {
                let status = device_information_set(ctx, set);
                property_status(&mut out, "DeviceInformation", status);
            }
            Op::DevicePasswordSet { password } => {
                let status = device_password_set(ctx, password);
                property_status(&mut out, "DevicePassword", status);
            }
            Op::UserInformationGet => user_information_get(ctx, &mut out),
            Op::RightsManagementGet => {
                out.open("RightsManagementInformation");
                out.leaf("Status", SUCCESS.to_string());
                // The mock has no rights management templates: an empty list.
                out.open("Get");
                out.empty(&format!("{RM}:RightsManagementTemplates"));
                out.close("Get");
                out.close("RightsManagementInformation");
            }
        }
    }
    Reply::from_encoded(out.finish("Settings", v))
}

/// The request's operations, or `None` if it is not a well-formed Settings
/// request (then nothing runs).
fn operations(request: &Element) -> Option<Vec<Op<'_>>> {
    let mut ops = Vec::new();
    for property in request.elements_only_in(NS)? {
        let action = only_child(property)?;
        let op = match (property.name.as_str(), action.name.as_str()) {
            ("Oof", "Get") => {
                check_children(action, &["BodyType"])?;
                // BodyType is required in an Oof Get (MS-ASCMD 2.2.3.17).
                let body_type = leaf_text(action.child("BodyType")?)?;
                Op::OofGet { body_type }
            }
            ("Oof", "Set") => {
                check_set_children(action)?;
                Op::OofSet(action)
            }
            ("DeviceInformation", "Set") => {
                check_children(action, &DEVICE_FIELDS)?;
                for field in action.elements_only_in(NS)? {
                    leaf_text(field)?;
                }
                Op::DeviceInformationSet(action)
            }
            ("DevicePassword", "Set") => {
                check_children(action, &["Password"])?;
                // Password is required; an empty one clears the password.
                let password = leaf_text(action.child("Password")?)?;
                Op::DevicePasswordSet { password }
            }
            ("UserInformation", "Get") if action.children.is_empty() => Op::UserInformationGet,
            ("RightsManagementInformation", "Get") if action.children.is_empty() => {
                Op::RightsManagementGet
            }
            _ => return None,
        };
        ops.push(op);
    }
    Some(ops)
}

/// An Oof `Set`: OofState, StartTime and EndTime at most once each, then up
/// to three OofMessage, each with at most one audience element.
fn check_set_children(set: &Element) -> Option<()> {
    let mut messages = 0;
    for child in set.elements_only_in(NS)? {
        match child.name.as_str() {
            "OofState" | "StartTime" | "EndTime" => {
                leaf_text(child)?;
                if set.elements_named(&child.name).count() > 1 {
                    return None;
                }
            }
            "OofMessage" => {
                messages += 1;
                check_message(child)?;
            }
            _ => return None,
        }
    }
    (messages <= AUDIENCES.len()).then_some(())
}

fn check_message(message: &Element) -> Option<()> {
    let mut audiences = 0;
    for child in message.elements_only_in(NS)? {
        let name = child.name.as_str();
        if AUDIENCES.contains(&name) {
            // An empty tag; the audiences are mutually exclusive.
            if !child.children.is_empty() {
                return None;
            }
            audiences += 1;
        } else if matches!(name, "Enabled" | "ReplyMessage" | "BodyType") {
            leaf_text(child)?;
        } else {
            return None;
        }
        if message.elements_named(name).count() > 1 {
            return None;
        }
    }
    (audiences <= 1).then_some(())
}

/// `Some(())` if every child of `e` is a Settings element named in `allowed`,
/// each at most once.
fn check_children(e: &Element, allowed: &[&str]) -> Option<()> {
    for child in e.elements_only_in(NS)? {
        if !allowed.contains(&child.name.as_str()) || e.elements_named(&child.name).count() > 1 {
            return None;
        }
    }
    Some(())
}

/// The one child of `e`.
fn only_child(e: &Element) -> Option<&Element> {
    match e.elements_only_in(NS)?.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

/// The text of an element that holds text only.
fn leaf_text(e: &Element) -> Option<String> {
    e.children
        .iter()
        .all(|n| matches!(n, Node::Text(_)))
        .then(|| e.text())
}

fn property_status(out: &mut XmlOut, property: &str, status: u8) {
    out.open(property);
    out.leaf("Status", status.to_string());
    out.close(property);
}

/// Oof Get (MS-ASCMD 2.2.3.122): the state, the window when time-based, and
/// one OofMessage per audience, with the messages in the requested format.
fn oof_get(ctx: &Ctx, body_type: &str, out: &mut XmlOut) {
    out.open("Oof");
    let Some(html) = parse_body_type(body_type) else {
        out.leaf("Status", INVALID_ARGUMENTS.to_string());
        out.close("Oof");
        return;
    };
    let oof = ctx.store.with_user(ctx.user, |u| u.oof.clone());
    out.leaf("Status", SUCCESS.to_string());
    out.open("Get");
    out.leaf("OofState", oof.state.to_string());
    if oof.state == 2
        && let Some((start, end)) = &oof.window
    {
        out.leaf("StartTime", start);
        out.leaf("EndTime", end);
    }
    for (audience, message) in AUDIENCES.iter().zip(&oof.messages) {
        out.open("OofMessage");
        out.empty(audience);
        out.leaf("Enabled", if message.enabled { "1" } else { "0" });
        if let Some((text, stored_html)) = &message.reply {
            let text = match (stored_html, html) {
                (false, true) => text_to_html(text),
                (true, false) => html_to_text(text),
                _ => text.clone(),
            };
            out.leaf("ReplyMessage", text);
            // BodyType is required whenever ReplyMessage is present.
            out.leaf("BodyType", if html { "HTML" } else { "Text" });
        }
        out.close("OofMessage");
    }
    out.close("Get");
    out.close("Oof");
}

/// Oof Set: validates everything first, then stores, so a failure changes
/// nothing.
fn oof_set(ctx: &Ctx, set: &Element) -> u8 {
    let state = match set.child_text("OofState") {
        None => None,
        Some(s) => match s.trim() {
            "0" => Some(0),
            "1" => Some(1),
            "2" => Some(2),
            _ => return INVALID_ARGUMENTS,
        },
    };
    // Both times or neither (MS-ASCMD 2.2.3.176.2: Status 2 otherwise).
    let window = match (set.child_text("StartTime"), set.child_text("EndTime")) {
        (None, None) => None,
        (Some(start), Some(end)) => {
            let (Some(start), Some(end)) = (parse_datetime(&start), parse_datetime(&end)) else {
                return INVALID_ARGUMENTS;
            };
            if end <= start {
                return INVALID_ARGUMENTS;
            }
            Some((start, end))
        }
        _ => return PROTOCOL_ERROR,
    };
    let mut messages: Vec<(usize, OofMessage)> = Vec::new();
    for message in set.elements_named("OofMessage") {
        let Some(audience) = AUDIENCES.iter().position(|a| message.child(a).is_some()) else {
            return PROTOCOL_ERROR;
        };
        let enabled = match message.child_text("Enabled").as_deref().map(str::trim) {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return INVALID_ARGUMENTS,
        };
        let body_type = message.child_text("BodyType");
        let html = match body_type.as_deref().map(parse_body_type) {
            None => None,
            Some(None) => return INVALID_ARGUMENTS,
            Some(Some(html)) => Some(html),
        };
        let reply = match (message.child_text("ReplyMessage"), html) {
            (None, _) => None,
            (Some(text), Some(html)) => Some((text, html)),
            // A ReplyMessage needs its BodyType (MS-ASCMD 2.2.3.149).
            (Some(_), None) => return PROTOCOL_ERROR,
        };
        messages.push((audience, OofMessage { enabled, reply }));
    }
    ctx.store.with_user(ctx.user, |user| {
        let oof: &mut OofSettings = &mut user.oof;
        let new_state = state.unwrap_or(oof.state);
        // The times are kept only with OofState 2 (MS-ASCMD 2.2.3.124); a
        // time-based OOF needs a window, sent now or stored before.
        if new_state == 2 {
            match window {
                Some(w) => oof.window = Some(w),
                None if oof.window.is_none() => return PROTOCOL_ERROR,
                None => {}
            }
        }
        oof.state = new_state;
        // Each OofMessage replaces its audience's settings.
        for (audience, message) in messages {
            oof.messages[audience] = message;
        }
        SUCCESS
    })
}

/// DeviceInformation Set: stores the device's description. At least one
/// element is needed.
fn device_information_set(ctx: &Ctx, set: &Element) -> u8 {
    let fields: Vec<(String, String)> =
        set.elements().map(|e| (e.name.clone(), e.text())).collect();
    if fields.is_empty() {
        return PROTOCOL_ERROR;
    }
    ctx.device(|_, device, _| device.device_info = Some(DeviceInfo { fields }));
    SUCCESS
}

/// DevicePassword Set: stores the recovery password; an empty one clears it.
fn device_password_set(ctx: &Ctx, password: String) -> u8 {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return INVALID_ARGUMENTS;
    }
    let password = (!password.is_empty()).then_some(password);
    ctx.device(|_, device, _| device.recovery_password = password);
    SUCCESS
}

/// UserInformation Get (MS-ASCMD 2.2.3.192): the user's addresses. Up to
/// 14.0 `EmailAddresses` is a child of `Get`; from 14.1 it is inside
/// `Accounts/Account` and also names the primary address (2.2.3.57).
fn user_information_get(ctx: &Ctx, out: &mut XmlOut) {
    let email = ctx.store.with_user(ctx.user, |u| u.email.clone());
    out.open("UserInformation");
    out.leaf("Status", SUCCESS.to_string());
    out.open("Get");
    if ctx.version >= ProtocolVersion::V14_1 {
        // The primary account has no AccountId (MS-ASCMD 2.2.3.3.2).
        out.open("Accounts").open("Account");
        out.leaf("UserDisplayName", ctx.user);
        out.open("EmailAddresses");
        out.leaf("SMTPAddress", &email);
        out.leaf("PrimarySmtpAddress", &email);
        out.close("EmailAddresses");
        out.close("Account").close("Accounts");
    } else {
        out.open("EmailAddresses");
        out.leaf("SMTPAddress", &email);
        out.close("EmailAddresses");
    }
    out.close("Get");
    out.close("UserInformation");
}

/// `Some(true)` for HTML, `Some(false)` for Text (MS-ASCMD 2.2.3.17),
/// ignoring ASCII case as Exchange does.
fn parse_body_type(value: &str) -> Option<bool> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("HTML") {
        Some(true)
    } else if value.eq_ignore_ascii_case("Text") {
        Some(false)
    } else {
        None
    }
}

/// An MS-ASDTYPE datetime (see [`EasDateTime::parse`] for the accepted
/// forms), normalized to three fraction digits, so that normalized values
/// compare as strings.
fn parse_datetime(value: &str) -> Option<String> {
    EasDateTime::parse(value).map(|t| t.to_string())
}

/// A plain-text message as HTML: escaped, line breaks as `<br>`.
fn text_to_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len());
    for c in text.replace("\r\n", "\n").chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\n' => html.push_str("<br>"),
            c => html.push(c),
        }
    }
    html
}

/// An HTML message as plain text: tags dropped (`<br>` and paragraph ends as
/// line breaks), the common entities resolved.
fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        if tag.starts_with("br") || tag == "/p" || tag == "/div" {
            text.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    text.trim_end_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::accounts::Account;
    use crate::mock::state::Store;
    use crate::wbxml::{DecodeOptions, EncodeOptions, decode, encode};

    fn request(xml: &str, v: ProtocolVersion) -> Element {
        let bytes = encode(xml, &EncodeOptions::strict(v)).unwrap();
        Element::from_wbxml(&bytes, &DecodeOptions::strict(v)).unwrap()
    }

    #[test]
    fn device_information_and_password_are_stored_per_device() {
        let store = Store::new(&Account::defaults());
        let v = ProtocolVersion::V14_1;
        let ctx = |device_id| Ctx::for_test(&store, "alice", device_id, v);
        let set = request(
            "<Settings xmlns=\"Settings:\"><DeviceInformation><Set><Model>M1</Model>\
             <OS>OS 1</OS></Set></DeviceInformation><DevicePassword><Set>\
             <Password>secret</Password></Set></DevicePassword></Settings>",
            v,
        );
        assert!(matches!(handle(&ctx("d1"), &set), Reply::Wbxml(_)));
        let (info, password) =
            ctx("d1").device(|_, d, _| (d.device_info.clone(), d.recovery_password.clone()));
        let fields = info.expect("stored").fields;
        assert_eq!(
            fields,
            [
                ("Model".to_string(), "M1".to_string()),
                ("OS".to_string(), "OS 1".to_string())
            ]
        );
        assert_eq!(password.as_deref(), Some("secret"));
        assert!(ctx("d2").device(|_, d, _| d.device_info.is_none()));
        // An empty Password clears it.
        let clear = request(
            "<Settings xmlns=\"Settings:\"><DevicePassword><Set><Password></Password>\
             </Set></DevicePassword></Settings>",
            v,
        );
        handle(&ctx("d1"), &clear);
        assert_eq!(
            ctx("d1").device(|_, d, _| d.recovery_password.clone()),
            None
        );
    }

    #[test]
    fn audiences_and_empty_template_list_are_tags_without_content() {
        let store = Store::new(&Account::defaults());
        let v = ProtocolVersion::V16_1;
        let ctx = Ctx::for_test(&store, "alice", "d1", v);
        let get = request(
            "<Settings xmlns=\"Settings:\"><Oof><Get><BodyType>Text</BodyType></Get></Oof>\
             <RightsManagementInformation><Get/></RightsManagementInformation></Settings>",
            v,
        );
        let Reply::Wbxml(bytes) = handle(&ctx, &get) else {
            panic!("a WBXML answer");
        };
        let xml = decode(&bytes, &DecodeOptions::strict(v)).unwrap();
        for audience in AUDIENCES {
            assert!(xml.contains(&format!("<{audience}/>")), "{xml}");
        }
        assert!(
            xml.contains("<RightsManagement:RightsManagementTemplates/>"),
            "{xml}"
        );
    }

    #[test]
    fn datetimes() {
        assert_eq!(
            parse_datetime("2026-05-08T10:00:00.000Z").as_deref(),
            Some("2026-05-08T10:00:00.000Z")
        );
        assert_eq!(
            parse_datetime("2026-05-08T10:00:00Z").as_deref(),
            Some("2026-05-08T10:00:00.000Z")
        );
        assert_eq!(
            parse_datetime("2024-02-29T23:59:59.5Z").as_deref(),
            Some("2024-02-29T23:59:59.500Z")
        );
        for bad in [
            "2026-05-08T10:00:00.000",
            "2026-05-08 10:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-05-08T24:00:00Z",
            "2026-05-08T10:00:00.0000Z",
            "2026-05-08T10:00:00.Z",
            "soon",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn body_conversion() {
        assert_eq!(text_to_html("a < b & c\nd"), "a &lt; b &amp; c<br>d");
        assert_eq!(
            html_to_text("<p>Away &amp; back</p><p>Monday</p>"),
            "Away & back\nMonday"
        );
        assert_eq!(html_to_text(&text_to_html("x <y>\nz")), "x <y>\nz");
    }
}
