//! Find (MS-ASCMD 2.2.1.2; protocol 16.1 only, the HTTP layer answers 501
//! in other versions): searches the user's messages or the directory (GAL).
//!
//! # Mailbox (`MailBoxSearchCriterion`)
//!
//! `Query` holds `FreeText` (required), optionally `airsync:Class` (only
//! `Email` is supported, 2.2.3.27.1) and `airsync:CollectionId`. The free
//! text is matched as for Search (see [`super::search`]): every term at the
//! start of a word of the subject, body, sender or recipients, with the KQL
//! property restrictions `subject:`, `from:`, `to:`, `cc:` and `body:`.
//! Without `CollectionId` every mail folder is searched; with it that folder,
//! and its subfolders with `DeepTraversal` (2.2.3.41.1). Results come newest
//! first. Each `Result` has `airsync:Class`, `airsync:ServerId`,
//! `airsync:CollectionId` and `Properties` with, as the message has them,
//! `email:Subject`, `email:DateReceived`, `email:DisplayTo`, `DisplayCc`,
//! `DisplayBcc` (display names from the Cc and Bcc lines, joined with
//! `; `), `email:Importance`, `email:Read`, `email2:IsDraft`, `Preview`
//! (the first 255 characters of the text body), `HasAttachments` and
//! `email:From` (2.2.3.139.1).
//!
//! # GAL (`GALSearchCriterion`)
//!
//! The query text (the `Query` text itself, as Exchange's test suite sends
//! it, or a `FreeText` inside it) is matched as Search GAL matches it;
//! `Properties` holds `gal:DisplayName`, `gal:Alias`, `gal:EmailAddress`,
//! and `gal:Picture` with Status 173 when `Options/Picture` asks for photos.
//!
//! # Statuses (2.2.3.177.2)
//!
//! - `Find/Status` 2: the request cannot be taken apart (no or empty
//!   `SearchId`, a `SearchId` that is not a GUID, no `ExecuteSearch`, an
//!   unknown element, a class other than `Email`, no `FreeText`, a malformed
//!   range or one past index 999, `DeepTraversal` in a GAL search);
//! - `Find/Status` 3: a `CollectionId` the mailbox does not have (the
//!   device's hierarchy is out of date);
//! - `Response/Status` 4: the range does not start at 0 while the
//!   `SearchId` is new (a client pages with the `SearchId` of its first
//!   request, 2.2.3.160; the mock remembers the last 1024 per device).
//!
//! `itemoperations:Store` is `Mailbox` in every response (2.2.3.178.1).
//! The default range is 0-99, like Search's mailbox default. Without
//! matches the `Response` has no `Result` (2.2.3.155.1), `Total` 0 and no
//! `Range`.

use crate::wbxml::{Element, Node};

use super::command::{Ctx, Reply};
use super::items::{Class, Item, exists_in};
use super::search::{
    body_text, gal_matches, leaf_ns, leaf_text, matches_free_text, parse_range, write_gal_entry,
};
use super::state::subtree;
use super::sync::parse_any_datetime;
use super::xml::XmlOut;

const NS: &str = "Find";

/// `Status` values (MS-ASCMD 2.2.3.177.2).
const SUCCESS: u8 = 1;
/// One or more of the search parameters is invalid.
const INVALID_REQUEST: u8 = 2;
/// The folder hierarchy is out of date.
const FOLDER_SYNC_REQUIRED: u8 = 3;
/// `Response/Status`: the requested range does not begin with 0.
const START_WITH_RANGE_ZERO: u8 = 4;

/// `0 <= m <= n <= 999` (MS-ASCMD 2.2.3.143.1).
const MAX_INDEX: usize = 999;
/// Without `Range`, the Mailbox default 0-99 applies (2.2.3.143.1).
const DEFAULT_LAST: usize = 99;
/// `Preview` holds up to 255 characters (MS-ASCMD 2.2.3.137).
const PREVIEW_CHARS: usize = 255;
/// How many SearchIds the mock remembers per device.
const REMEMBERED_SEARCHES: usize = 1024;

/// A Find request taken apart.
struct FindRequest {
    search_id: String,
    criterion: Criterion,
    range: Option<(usize, usize)>,
    deep_traversal: bool,
    picture: bool,
}

enum Criterion {
    Mailbox {
        collection: Option<String>,
        free_text: String,
    },
    Gal {
        query: String,
    },
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let mut out = XmlOut::new(NS, NS, &[]);
    let request = match parse(request) {
        Ok(r) => r,
        Err(status) => {
            out.leaf("Status", status.to_string());
            return Reply::from_encoded(out.finish(NS, ctx.version));
        }
    };
    let (first, last) = request.range.unwrap_or((0, DEFAULT_LAST));
    let range_allowed = register(ctx, &request.search_id, first);
    match &request.criterion {
        Criterion::Mailbox {
            collection,
            free_text,
        } => {
            let result = ctx.store.with_mailbox(ctx.user, |mailbox| {
                let folders: Vec<String> = match collection {
                    Some(id) if mailbox.folder(id).is_none() => return Err(FOLDER_SYNC_REQUIRED),
                    Some(id) if request.deep_traversal => subtree(&mailbox.folders, id),
                    Some(id) => vec![id.clone()],
                    None => mailbox
                        .folders
                        .iter()
                        .map(|f| f.server_id.clone())
                        .collect(),
                };
                let mut matches: Vec<(String, Item)> = folders
                    .iter()
                    .flat_map(|folder| {
                        mailbox
                            .items_in(folder)
                            .iter()
                            .filter(|i| i.class == Class::Email)
                            .filter(|i| matches_free_text(i, free_text))
                            .map(move |i| (folder.clone(), i.clone()))
                    })
                    .collect();
                matches.sort_by_key(|(_, item)| {
                    std::cmp::Reverse(
                        item.text("DateReceived")
                            .and_then(|d| parse_any_datetime(&d)),
                    )
                });
                Ok(matches)
            });
            let matches = match result {
                Ok(m) => m,
                Err(status) => {
                    out.leaf("Status", status.to_string());
                    return Reply::from_encoded(out.finish(NS, ctx.version));
                }
            };
            respond(
                &mut out,
                range_allowed,
                first,
                last,
                matches.len(),
                |out, i| {
                    let (folder, item) = &matches[i];
                    out.open("Result");
                    leaf_ns(out, "Class", "AirSync", item.class.name());
                    leaf_ns(out, "ServerId", "AirSync", &item.server_id);
                    leaf_ns(out, "CollectionId", "AirSync", folder);
                    out.open_ns("Properties", NS);
                    write_message_properties(out, item);
                    out.close("Properties");
                    out.close("Result");
                },
            );
        }
        Criterion::Gal { query } => {
            let matches = gal_matches(ctx, &query.to_lowercase());
            respond(
                &mut out,
                range_allowed,
                first,
                last,
                matches.len(),
                |out, i| {
                    out.open("Result");
                    out.open_ns("Properties", NS);
                    write_gal_entry(out, &matches[i], request.picture);
                    out.close("Properties");
                    out.close("Result");
                },
            );
        }
    }
    Reply::from_encoded(out.finish(NS, ctx.version))
}

/// Writes `Status` 1 and the `Response`: its Store and Status, the results
/// `first..=last` of `total` (each by `result`), `Range` and `Total`; or
/// Status 4 when the range is not allowed (a new search not starting at 0).
fn respond(
    out: &mut XmlOut,
    range_allowed: bool,
    first: usize,
    last: usize,
    total: usize,
    mut result: impl FnMut(&mut XmlOut, usize),
) {
    out.leaf("Status", SUCCESS.to_string());
    out.open("Response");
    leaf_ns(out, "Store", "ItemOperations", "Mailbox");
    if !range_allowed {
        out.leaf("Status", START_WITH_RANGE_ZERO.to_string());
        out.close("Response");
        return;
    }
    out.leaf("Status", SUCCESS.to_string());
    let last = last.min(total.saturating_sub(1));
    if total > 0 && first <= last {
        for i in first..=last {
            result(out, i);
        }
        out.leaf("Range", format!("{first}-{last}"));
    }
    out.leaf("Total", total.to_string());
    out.close("Response");
}

/// The Find properties of a message (MS-ASCMD 2.2.3.139.1), in the order the
/// spec lists them.
fn write_message_properties(out: &mut XmlOut, item: &Item) {
    let copy = |out: &mut XmlOut, namespace: &'static str, name: &str| {
        if let Some(e) = item
            .data
            .iter()
            .find(|e| e.namespace == namespace && e.name == name)
            && exists_in(namespace, name, crate::wbxml::ProtocolVersion::V16_1)
        {
            out.element(e);
        }
    };
    copy(out, "Email", "Subject");
    copy(out, "Email", "DateReceived");
    copy(out, "Email", "DisplayTo");
    if let Some(cc) = item.text("Cc").filter(|c| !c.trim().is_empty()) {
        out.leaf("DisplayCc", display_names(&cc));
    }
    if let Some(bcc) = item.text("Bcc").filter(|c| !c.trim().is_empty()) {
        out.leaf("DisplayBcc", display_names(&bcc));
    }
    copy(out, "Email", "Importance");
    copy(out, "Email", "Read");
    copy(out, "Email2", "IsDraft");
    if let Some(text) = body_text(item) {
        let preview: String = text.chars().take(PREVIEW_CHARS).collect();
        if !preview.is_empty() {
            out.leaf("Preview", preview);
        }
    }
    let has_attachments = !item.attachments.is_empty()
        || item
            .data
            .iter()
            .any(|e| e.name == "Attachments" && e.elements().next().is_some());
    out.leaf("HasAttachments", if has_attachments { "1" } else { "0" });
    copy(out, "Email", "From");
}

/// The display names of an address list (`"Carol Jones" <carol@x>, dave@y`
/// gives `Carol Jones; dave@y`).
fn display_names(list: &str) -> String {
    let mut names = Vec::new();
    let mut quoted = false;
    let mut current = String::new();
    for c in list.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' | ';' if !quoted => names.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    names.push(current);
    names
        .iter()
        .map(|address| {
            let address = address.trim();
            match address.split_once('<') {
                Some((name, _)) if !name.trim().is_empty() => {
                    name.trim().trim_matches('"').trim().to_string()
                }
                Some((_, rest)) => rest.trim_end_matches('>').trim().to_string(),
                None => address.to_string(),
            }
        })
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

fn parse(find: &Element) -> Result<FindRequest, u8> {
    let mut search_id = None;
    let mut execute = None;
    for child in own_children(find)? {
        match child.name.as_str() {
            "SearchId" if search_id.is_none() => {
                search_id = Some(leaf_text(child).ok_or(INVALID_REQUEST)?)
            }
            "ExecuteSearch" if execute.is_none() => execute = Some(child),
            _ => return Err(INVALID_REQUEST),
        }
    }
    let search_id = search_id.ok_or(INVALID_REQUEST)?.trim().to_string();
    if !is_guid(&search_id) {
        return Err(INVALID_REQUEST);
    }
    let criteria = own_children(execute.ok_or(INVALID_REQUEST)?)?;
    let [criterion] = criteria.as_slice() else {
        return Err(INVALID_REQUEST);
    };
    let mailbox = match criterion.name.as_str() {
        "MailBoxSearchCriterion" => true,
        "GalSearchCriterion" | "GALSearchCriterion" => false,
        _ => return Err(INVALID_REQUEST),
    };
    let mut query = None;
    let mut options = None;
    for child in own_children(criterion)? {
        match child.name.as_str() {
            "Query" if query.is_none() => query = Some(child),
            "Options" if options.is_none() => options = Some(child),
            _ => return Err(INVALID_REQUEST),
        }
    }
    let query = query.ok_or(INVALID_REQUEST)?;
    let mut request = FindRequest {
        search_id,
        criterion: Criterion::Gal {
            query: String::new(),
        },
        range: None,
        deep_traversal: false,
        picture: false,
    };
    if let Some(options) = options {
        for option in own_children(options)? {
            match option.name.as_str() {
                "Range" if request.range.is_none() => {
                    let text = leaf_text(option).ok_or(INVALID_REQUEST)?;
                    let range = parse_range(&text).ok_or(INVALID_REQUEST)?;
                    if range.1 > MAX_INDEX {
                        return Err(INVALID_REQUEST);
                    }
                    request.range = Some(range);
                }
                "DeepTraversal" if mailbox && !request.deep_traversal => {
                    request.deep_traversal = true;
                }
                "Picture" if !request.picture => {
                    for limit in own_children(option)? {
                        let text = leaf_text(limit).ok_or(INVALID_REQUEST)?;
                        let valid = matches!(limit.name.as_str(), "MaxSize" | "MaxPictures")
                            && text.trim().parse::<u32>().is_ok();
                        if !valid {
                            return Err(INVALID_REQUEST);
                        }
                    }
                    request.picture = true;
                }
                _ => return Err(INVALID_REQUEST),
            }
        }
    }
    request.criterion = if mailbox {
        parse_mailbox_query(query)?
    } else {
        Criterion::Gal {
            query: gal_query(query)?,
        }
    };
    Ok(request)
}

/// `Query` of a mailbox search: `airsync:Class`? (Email only),
/// `airsync:CollectionId`?, `FreeText` (MS-ASCMD 2.2.3.142.1).
fn parse_mailbox_query(query: &Element) -> Result<Criterion, u8> {
    let mut class = None;
    let mut collection = None;
    let mut free_text = None;
    for child in query.children.iter() {
        let Node::Element(child) = child else {
            return Err(INVALID_REQUEST);
        };
        let text = leaf_text(child).ok_or(INVALID_REQUEST)?;
        let slot = match (child.namespace, child.name.as_str()) {
            ("AirSync", "Class") => &mut class,
            ("AirSync", "CollectionId") => &mut collection,
            (NS, "FreeText") => &mut free_text,
            _ => return Err(INVALID_REQUEST),
        };
        if slot.replace(text).is_some() {
            return Err(INVALID_REQUEST);
        }
    }
    if class.is_some_and(|c| c.trim() != "Email") {
        return Err(INVALID_REQUEST);
    }
    let free_text = free_text.ok_or(INVALID_REQUEST)?;
    if free_text.trim().is_empty() {
        return Err(INVALID_REQUEST);
    }
    Ok(Criterion::Mailbox {
        collection: collection.map(|c| c.trim().to_string()),
        free_text,
    })
}

/// The text of a GAL `Query`: its own text, or its `FreeText`.
fn gal_query(query: &Element) -> Result<String, u8> {
    let text = match leaf_text(query) {
        Some(text) => text,
        None => {
            let children = own_children(query)?;
            match children.as_slice() {
                [free_text] if free_text.name == "FreeText" => {
                    leaf_text(free_text).ok_or(INVALID_REQUEST)?
                }
                _ => return Err(INVALID_REQUEST),
            }
        }
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(INVALID_REQUEST);
    }
    Ok(text)
}

/// The element children of `e`, all on the Find page; `Err` for text or
/// another page's element.
fn own_children(e: &Element) -> Result<Vec<&Element>, u8> {
    e.elements_only_in(NS).ok_or(INVALID_REQUEST)
}

/// A GUID (MS-ASDTYPE 2.7.4): 32 hex digits in groups of 8-4-4-4-12,
/// optionally in braces.
fn is_guid(text: &str) -> bool {
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a request of this device for `search_id` may start at index
/// `first`: a known search may page anywhere, a new one must start at 0
/// and is then recorded in the device's state.
fn register(ctx: &Ctx, search_id: &str, first: usize) -> bool {
    let id = search_id.to_ascii_lowercase();
    ctx.device(|_, device, _| {
        let ids = &mut device.find_searches;
        if ids.contains(&id) {
            return true;
        }
        if first != 0 {
            return false;
        }
        if ids.len() == REMEMBERED_SEARCHES {
            ids.pop_front();
        }
        ids.push_back(id);
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids() {
        assert!(is_guid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(is_guid("{0F8FAD5B-D9CB-469F-A165-70867728950E}"));
        for bad in [
            "",
            "abc",
            "0f8fad5b-d9cb-469f-a165-70867728950",
            "0f8fad5bd9cb469fa16570867728950e",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
    }

    #[test]
    fn display_names_of_address_lists() {
        assert_eq!(
            display_names("\"Jones, Carol\" <carol@x.test>, dave@y.test; Erin <erin@z.test>"),
            "Jones, Carol; dave@y.test; Erin"
        );
        assert_eq!(display_names("<a@b.test>"), "a@b.test");
    }
}
