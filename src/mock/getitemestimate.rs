//! GetItemEstimate (MS-ASCMD 2.2.1.9): how many changes the device's next
//! Syncs of each collection would bring, without changing any state (the
//! SyncKey is not advanced, 2.2.3.181.3).
//!
//! # Request shape, per version (MS-ASCMD 6.20, 2.2.3.68.1)
//!
//! - 14.0 and later: `Collection(airsync:SyncKey, CollectionId,
//!   airsync:ConversationMode?, airsync:Options{0,2})`, each `Options`
//!   holding `airsync:Class?`, `airsync:FilterType?`, `airsync:MaxItems?`.
//! - 12.1: `Collection(Class?, CollectionId, airsync:FilterType,
//!   airsync:SyncKey)`, with this page's own `Class` and the `FilterType`
//!   required.
//!
//! Children must come in the schema's order. A request that breaks the
//! schema (a missing, repeated, misplaced or unknown element, no
//! `Collection` or more than [`MAX_COLLECTIONS`], a FilterType outside
//! 0-8, an unknown Class) fails as a whole: HTTP 400 up to 12.1, the common
//! status 103 InvalidXML at the root from 14.0 (MS-ASCMD 2.2.2).
//!
//! # Per collection (MS-ASCMD 2.2.3.177.7)
//!
//! Each `Collection` gets a `Response(Status, Collection(CollectionId,
//! Estimate))`, in the request's order; `Estimate` only with Status 1.
//! Status 2 for a folder the mailbox does not have, one that holds no
//! syncable items (Journal, the recipient information cache), or a `Class`
//! other than the folder's; Status 3 when the device never initialised the
//! collection with a Sync key 0; Status 4 when the SyncKey is not the
//! collection's current one.
//!
//! # Choices where the spec leaves room
//!
//! - The estimate counts what the next Syncs would send: adds, changes,
//!   deletes and soft deletes ([`sync::pending_count`]), with the
//!   request's `FilterType`. Without one, no filter (MS-ASCMD 2.2.3.125.2:
//!   without `Options` every item is enumerated); it is not capped.
//! - An `Options` with `Class` `SMS` is accepted on an Email folder and
//!   adds nothing (the mock keeps no SMS items); `MaxItems` is accepted
//!   and ignored. `ConversationMode` on a collection that holds no email is
//!   Status 103 for the whole request (MS-ASCMD 2.2.3.36.1: it applies to
//!   email only; the Interop suite's S07_TC13 checks this); on an email
//!   collection it changes nothing, as the mock keeps no conversations apart.

use crate::wbxml::{Element, ProtocolVersion};

use super::command::{Ctx, Reply};
use super::items::Class;
use super::sync;
use super::xml::XmlOut;

/// GetItemEstimate status values (MS-ASCMD 2.2.3.177.7).
pub mod status {
    /// Success: the estimate follows.
    pub const SUCCESS: u8 = 1;
    /// A collection was invalid or not found.
    pub const INVALID_COLLECTION: u8 = 2;
    /// The sync state has not been primed (no Sync with key 0 yet).
    pub const SYNC_STATE_NOT_PRIMED: u8 = 3;
    /// The SyncKey is not the collection's current one.
    pub const INVALID_SYNC_KEY: u8 = 4;
    /// Common status (MS-ASCMD 2.2.2): the request breaks the schema (14.0+).
    pub const INVALID_XML: u16 = 103;
}
use status::*;

/// The most `Collection` elements one request may hold (MS-ASCMD 2.2.3.31.1).
pub const MAX_COLLECTIONS: usize = 300;

/// One request `Collection`, parsed.
#[derive(Debug, PartialEq, Eq)]
struct EstimateRequest {
    sync_key: String,
    collection_id: String,
    /// The FilterType for the folder's own class (`None`: no filter).
    filter: Option<u8>,
    /// The classes the request names (`SMS` included).
    classes: Vec<String>,
    /// Whether it carries `ConversationMode` (14.0+).
    conversation_mode: bool,
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let v = ctx.version;
    let collections = match parse(request, v) {
        Ok(c) => c,
        Err(why) => return invalid(ctx, &why),
    };
    let email_only = ctx.device(|mailbox, _, _| {
        collections.iter().all(|c| {
            !c.conversation_mode || mailbox.class_of(&c.collection_id) == Some(Class::Email)
        })
    });
    if !email_only {
        return invalid(ctx, "ConversationMode on a collection that holds no email");
    }
    let results: Vec<(String, u8, usize)> = ctx.device(|mailbox, device, _| {
        collections
            .iter()
            .map(|c| {
                let id = c.collection_id.clone();
                let Some(class) = mailbox.class_of(&c.collection_id) else {
                    return (id, INVALID_COLLECTION, 0);
                };
                let class_ok = c
                    .classes
                    .iter()
                    .all(|n| n == class.name() || (n == "SMS" && class == Class::Email));
                if !class_ok {
                    return (id, INVALID_COLLECTION, 0);
                }
                let Some(state) = device.collections.get(&c.collection_id) else {
                    return (id, SYNC_STATE_NOT_PRIMED, 0);
                };
                if state.key.to_string() != c.sync_key {
                    return (id, INVALID_SYNC_KEY, 0);
                }
                let filter = Some(c.filter.unwrap_or(0));
                match sync::pending_count(mailbox, device, &c.collection_id, filter) {
                    Some(n) => (id, SUCCESS, n),
                    None => (id, SYNC_STATE_NOT_PRIMED, 0),
                }
            })
            .collect()
    });
    let mut out = XmlOut::new("GetItemEstimate", "GetItemEstimate", &[]);
    for (id, status, estimate) in &results {
        out.open("Response");
        out.leaf("Status", status.to_string());
        out.open("Collection");
        out.leaf("CollectionId", id);
        if *status == SUCCESS {
            out.leaf("Estimate", estimate.to_string());
        }
        out.close("Collection");
        out.close("Response");
    }
    Reply::from_encoded(out.finish("GetItemEstimate", v))
}

/// A request that breaks the schema: HTTP 400 up to 12.1, Status 103 from 14.0.
fn invalid(ctx: &Ctx, why: &str) -> Reply {
    if ctx.version < ProtocolVersion::V14_0 {
        return Reply::Http(400, format!("GetItemEstimate: {why}"));
    }
    let mut out = XmlOut::new("GetItemEstimate", "GetItemEstimate", &[]);
    out.leaf("Status", INVALID_XML.to_string());
    Reply::from_encoded(out.finish("GetItemEstimate", ctx.version))
}

fn parse(request: &Element, v: ProtocolVersion) -> Result<Vec<EstimateRequest>, String> {
    let mut elements = request.elements();
    let collections = match (elements.next(), elements.next()) {
        (Some(c), None) if c.name == "Collections" => c,
        _ => return Err("the request holds exactly one Collections".to_string()),
    };
    let mut out = Vec::new();
    for c in collections.elements() {
        if c.name != "Collection" {
            return Err(format!("`{}` inside Collections", c.name));
        }
        out.push(if v >= ProtocolVersion::V14_0 {
            parse_collection(c)?
        } else {
            parse_collection_12(c)?
        });
    }
    if out.is_empty() {
        return Err("Collections holds no Collection".to_string());
    }
    if out.len() > MAX_COLLECTIONS {
        return Err(format!("more than {MAX_COLLECTIONS} collections"));
    }
    Ok(out)
}

/// The children of `c` checked against `order` (name, may repeat, required);
/// each child's rank in `order`.
fn check_order<'a>(
    c: &'a Element,
    order: &[(&str, bool, bool)],
) -> Result<Vec<(usize, &'a Element)>, String> {
    let mut ranked = Vec::new();
    let mut last: Option<usize> = None;
    for e in c.elements() {
        let rank = order
            .iter()
            .position(|(name, _, _)| *name == e.name)
            .ok_or_else(|| format!("unexpected `{}` in Collection", e.name))?;
        if let Some(l) = last
            && (rank < l || (rank == l && !order[rank].1))
        {
            return Err(format!(
                "`{}` repeated or out of order in Collection",
                e.name
            ));
        }
        last = Some(rank);
        ranked.push((rank, e));
    }
    for (rank, (name, _, required)) in order.iter().enumerate() {
        if *required && !ranked.iter().any(|(r, _)| *r == rank) {
            return Err(format!("Collection without {name}"));
        }
    }
    Ok(ranked)
}

/// The 14.0+ form: SyncKey, CollectionId, ConversationMode?, Options{0,2}.
fn parse_collection(c: &Element) -> Result<EstimateRequest, String> {
    let ranked = check_order(
        c,
        &[
            ("SyncKey", false, true),
            ("CollectionId", false, true),
            ("ConversationMode", false, false),
            ("Options", true, false),
        ],
    )?;
    let mut request = EstimateRequest {
        sync_key: String::new(),
        collection_id: String::new(),
        filter: None,
        classes: Vec::new(),
        conversation_mode: false,
    };
    let mut options = 0;
    for (_, e) in ranked {
        match e.name.as_str() {
            "SyncKey" => request.sync_key = e.text().trim().to_string(),
            "CollectionId" => request.collection_id = collection_id(e)?,
            "ConversationMode" => {
                if !matches!(e.text().trim(), "" | "0" | "1") {
                    return Err("ConversationMode is 0 or 1".to_string());
                }
                request.conversation_mode = true;
            }
            _ => {
                options += 1;
                if options > 2 {
                    return Err("more than two Options".to_string());
                }
                let (class, filter) = parse_options(e)?;
                let sms = class.as_deref() == Some("SMS");
                if let Some(class) = class {
                    request.classes.push(class);
                }
                if !sms && filter.is_some() {
                    request.filter = filter;
                }
            }
        }
    }
    Ok(request)
}

/// An `airsync:Options`: its Class and FilterType. At least one child.
fn parse_options(options: &Element) -> Result<(Option<String>, Option<u8>), String> {
    let mut class = None;
    let mut filter = None;
    let mut any = false;
    for e in options.elements() {
        any = true;
        match e.name.as_str() {
            "Class" if class.is_none() => class = Some(class_name(e)?),
            "FilterType" if filter.is_none() => filter = Some(filter_type(e)?),
            "MaxItems" => {
                e.text()
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| "MaxItems is a number".to_string())?;
            }
            other => return Err(format!("unexpected `{other}` in Options")),
        }
    }
    if !any {
        return Err("an empty Options".to_string());
    }
    Ok((class, filter))
}

/// The 12.1 form: Class?, CollectionId, FilterType, SyncKey.
fn parse_collection_12(c: &Element) -> Result<EstimateRequest, String> {
    let ranked = check_order(
        c,
        &[
            ("Class", false, false),
            ("CollectionId", false, true),
            ("FilterType", false, true),
            ("SyncKey", false, true),
        ],
    )?;
    let mut request = EstimateRequest {
        sync_key: String::new(),
        collection_id: String::new(),
        filter: None,
        classes: Vec::new(),
        conversation_mode: false,
    };
    for (_, e) in ranked {
        match e.name.as_str() {
            "Class" => request.classes.push(class_name(e)?),
            "CollectionId" => request.collection_id = collection_id(e)?,
            "FilterType" => request.filter = Some(filter_type(e)?),
            _ => request.sync_key = e.text().trim().to_string(),
        }
    }
    Ok(request)
}

fn collection_id(e: &Element) -> Result<String, String> {
    let id = e.text().trim().to_string();
    // MS-ASCMD 2.2.3.30.2: up to 64 characters.
    if id.is_empty() || id.chars().count() > 64 {
        return Err("CollectionId is 1 to 64 characters".to_string());
    }
    Ok(id)
}

fn class_name(e: &Element) -> Result<String, String> {
    let name = e.text().trim().to_string();
    match name.as_str() {
        "Email" | "Calendar" | "Contacts" | "Tasks" | "Notes" | "SMS" => Ok(name),
        _ => Err(format!("unknown Class `{name}`")),
    }
}

/// FilterType 0-8 (MS-ASCMD 2.2.3.68.1).
fn filter_type(e: &Element) -> Result<u8, String> {
    let text = e.text();
    text.trim()
        .parse::<u8>()
        .ok()
        .filter(|f| *f <= 8)
        .ok_or_else(|| format!("FilterType `{}`", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::Node;

    fn el(ns: &'static str, name: &str, children: Vec<Node>) -> Node {
        Node::Element(Element {
            namespace: ns,
            name: name.into(),
            children,
        })
    }

    fn leaf(ns: &'static str, name: &str, text: &str) -> Node {
        el(ns, name, vec![Node::Text(text.into())])
    }

    fn request(collection: Vec<Node>) -> Element {
        Element {
            namespace: "GetItemEstimate",
            name: "GetItemEstimate".into(),
            children: vec![el(
                "GetItemEstimate",
                "Collections",
                vec![el("GetItemEstimate", "Collection", collection)],
            )],
        }
    }

    #[test]
    fn both_version_forms_parse() {
        let v14 = request(vec![
            leaf("AirSync", "SyncKey", "3"),
            leaf("GetItemEstimate", "CollectionId", "1"),
            el(
                "AirSync",
                "Options",
                vec![
                    leaf("AirSync", "Class", "Email"),
                    leaf("AirSync", "FilterType", "3"),
                ],
            ),
            el(
                "AirSync",
                "Options",
                vec![
                    leaf("AirSync", "Class", "SMS"),
                    leaf("AirSync", "FilterType", "1"),
                ],
            ),
        ]);
        let parsed = parse(&v14, ProtocolVersion::V14_1).unwrap();
        assert_eq!(
            parsed,
            [EstimateRequest {
                sync_key: "3".into(),
                collection_id: "1".into(),
                filter: Some(3),
                classes: vec!["Email".into(), "SMS".into()],
                conversation_mode: false,
            }]
        );
        let v12 = request(vec![
            leaf("GetItemEstimate", "Class", "Email"),
            leaf("GetItemEstimate", "CollectionId", "1"),
            leaf("AirSync", "FilterType", "0"),
            leaf("AirSync", "SyncKey", "3"),
        ]);
        let parsed = parse(&v12, ProtocolVersion::V12_1).unwrap();
        assert_eq!(parsed[0].filter, Some(0));
        assert_eq!(parsed[0].sync_key, "3");
        // Each form is wrong in the other version.
        assert!(parse(&v12, ProtocolVersion::V14_0).is_err());
        assert!(parse(&v14, ProtocolVersion::V12_1).is_err());
    }

    #[test]
    fn schema_violations_are_refused() {
        let bad = [
            // CollectionId before SyncKey.
            request(vec![
                leaf("GetItemEstimate", "CollectionId", "1"),
                leaf("AirSync", "SyncKey", "3"),
            ]),
            // No SyncKey.
            request(vec![leaf("GetItemEstimate", "CollectionId", "1")]),
            // FilterType out of range, empty Options, three Options.
            request(vec![
                leaf("AirSync", "SyncKey", "3"),
                leaf("GetItemEstimate", "CollectionId", "1"),
                el(
                    "AirSync",
                    "Options",
                    vec![leaf("AirSync", "FilterType", "9")],
                ),
            ]),
            request(vec![
                leaf("AirSync", "SyncKey", "3"),
                leaf("GetItemEstimate", "CollectionId", "1"),
                el("AirSync", "Options", vec![]),
            ]),
            request(vec![
                leaf("AirSync", "SyncKey", "3"),
                leaf("GetItemEstimate", "CollectionId", "1"),
                el(
                    "AirSync",
                    "Options",
                    vec![leaf("AirSync", "FilterType", "1")],
                ),
                el(
                    "AirSync",
                    "Options",
                    vec![leaf("AirSync", "FilterType", "1")],
                ),
                el(
                    "AirSync",
                    "Options",
                    vec![leaf("AirSync", "FilterType", "1")],
                ),
            ]),
            // An unknown class.
            request(vec![
                leaf("AirSync", "SyncKey", "3"),
                leaf("GetItemEstimate", "CollectionId", "1"),
                el(
                    "AirSync",
                    "Options",
                    vec![leaf("AirSync", "Class", "Journal")],
                ),
            ]),
        ];
        for r in bad {
            assert!(parse(&r, ProtocolVersion::V16_1).is_err(), "{r:?}");
        }
        let empty = Element {
            namespace: "GetItemEstimate",
            name: "GetItemEstimate".into(),
            children: vec![el("GetItemEstimate", "Collections", vec![])],
        };
        assert!(parse(&empty, ProtocolVersion::V16_1).is_err());
    }
}
