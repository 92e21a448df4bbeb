//! Search (MS-ASCMD 2.2.1.16): finds items in the user's mailbox or entries
//! in the directory (GAL), which for the mock is its accounts.
//!
//! The command's own `Search/Status` is 1 whenever the request could be
//! read at all: what went wrong with the query is the `Store/Status`
//! (2.2.3.177.13), as Exchange does it (MS-ASCMD S14 test suite).
//!
//! # Mailbox
//!
//! The query must be `Query/And` with any of `airsync:Class`,
//! `airsync:CollectionId`, `FreeText`, `ConversationId`, `GreaterThan` and
//! `LessThan` (each comparing `email:DateReceived` with a `Value`). As the
//! spec requires, a second `And`, an `Or`, or one of those elements outside
//! `And` answer Status 8 (too complex); anything else the mailbox query does
//! not have (an `EqualTo`, a property such as `email:To` inside `And`, an
//! unknown class, a bad date) answers Status 2. A `CollectionId` the mailbox
//! does not have answers Status 11 (FolderSync required).
//!
//! `FreeText` is split into terms (a quoted phrase is one term) that must
//! all match, each at the start of a word and ignoring case, in the item's
//! main text fields: subject, body, sender and recipients of messages;
//! subject, location, organizer and attendees of meetings; names,
//! company, title and addresses of contacts; subject and body of tasks and
//! notes. A term may carry a KQL property restriction (`subject:`, `from:`,
//! `to:`, `cc:`, `body:`), which Find (MS-ASCMD 2.2.3.80.1) uses.
//!
//! Without `CollectionId` every folder is searched; with it only those
//! folders, and their subfolders with `DeepTraversal`. Results come newest
//! first (by `DateReceived`, then by arrival; items without one after the
//! messages). Each `Result` has the item's class, its `LongId` (the item's
//! ServerId, which ItemOperations, SmartReply, SmartForward and
//! MeetingResponse can take), its folder and its properties shaped by the
//! request's `BodyPreference` and `MIMESupport`, as Sync sends them.
//!
//! The mock keeps no search folder: every request is evaluated afresh, so
//! `RebuildResults` changes nothing (the spec lets a stored result set
//! lag behind the mailbox, it does not require it to).
//!
//! # GAL
//!
//! The `Query` text is matched, at the start of a word and ignoring case,
//! against each account's display name and alias (both its user name) and
//! its SMTP address (2.2.1.16: prefix-string match on the ANR fields).
//! Entries are sorted by display name. `Properties` holds `gal:DisplayName`,
//! `gal:Alias` and `gal:EmailAddress`; with `Options/Picture` (14.1 and
//! later) each entry also gets `gal:Picture` with Status 173 (no photo):
//! accounts have no photos.
//!
//! # Ranges and empty results
//!
//! `Range` is `m-n` (zero-based, inclusive); without it the range is 0-99,
//! the most a store returns (2.2.3.143.3). A malformed range answers
//! Status 2; one reaching past index 99 answers Status 12 (end of the
//! retrievable range) with the results up to index 99. The response's
//! `Range` gives the indexes returned and `Total` the number of matches.
//! Without matches the `Store` holds one empty `Result` (2.2.3.155.3, as
//! Exchange sends it) and `Total` 0, and no `Range` (there is no `m-n` for
//! nothing).
//!
//! Of several `Store`, `Range`, `DeepTraversal` or `RebuildResults`
//! elements the first counts (Exchange does not fail such requests,
//! MS-ASCMD S14 TC08 to TC10). `DocumentLibrary` searches answer Status 6:
//! the mock has no document libraries.

use crate::wbxml::{Element, Node, ProtocolVersion};

use super::command::{Ctx, Reply};
use super::items::{BodyOptions, Class, Item, mime_text_body, strip_html, write_properties};
use super::state::subtree;
use super::sync::parse_any_datetime;
use super::xml::XmlOut;

const NS: &str = "Search";

/// `Status` values (MS-ASCMD 2.2.3.177.13). As a child of `Search`, only 1
/// (and 3, server error, which the mock never has) occur.
const SUCCESS: u8 = 1;
/// One or more of the search parameters is invalid.
const INVALID_REQUEST: u8 = 2;
/// The resource (document library) was not found.
const NOT_FOUND: u8 = 6;
/// The query is too complex (a second `And`, an `Or`, an `And` child
/// outside `And`).
const TOO_COMPLEX: u8 = 8;
/// The folder hierarchy is out of date (an unknown `CollectionId`).
const FOLDER_SYNC_REQUIRED: u8 = 11;
/// The requested range goes past the results the store can return.
const END_OF_RETRIEVABLE_RANGE: u8 = 12;
/// `gal:Picture/gal:Status`: the entry has no photo (2.2.3.177.13).
const NO_PICTURE: u8 = 173;

/// Mailbox and GAL searches return at most 100 entries; the default range
/// is 0-99 (MS-ASCMD 2.2.3.143.3).
const MAX_RESULTS: usize = 100;
/// A `Value` is at most 1024 bytes (MS-ASCMD 2.2.3.196).
const MAX_VALUE_BYTES: usize = 1024;

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let mut out = XmlOut::new(NS, NS, &[]);
    out.leaf("Status", SUCCESS.to_string());
    out.open("Response");
    out.open("Store");
    let store = request
        .elements()
        .find(|e| e.namespace == NS && e.name == "Store");
    match store {
        Some(store) => {
            if let Err(status) = search_store(ctx, store, &mut out) {
                out.leaf("Status", status.to_string());
            }
        }
        None => {
            out.leaf("Status", INVALID_REQUEST.to_string());
        }
    }
    out.close("Store");
    out.close("Response");
    Reply::from_encoded(out.finish(NS, ctx.version))
}

/// A `Store` request taken apart.
struct StoreRequest<'a> {
    name: String,
    query: &'a Element,
    options: Options,
}

/// `Options` (MS-ASCMD 2.2.3.125.4).
#[derive(Default)]
struct Options {
    range: Option<(usize, usize)>,
    deep_traversal: bool,
    body: BodyOptions,
    picture: bool,
}

/// Answers one `Store`: writes its Status and results, or returns the
/// failure Status (written alone by the caller).
fn search_store(ctx: &Ctx, store: &Element, out: &mut XmlOut) -> Result<(), u8> {
    let request = parse_store(store, ctx.version)?;
    match request.name.as_str() {
        "Mailbox" => search_mailbox(ctx, &request, out),
        "GAL" => search_gal(ctx, &request, out),
        "DocumentLibrary" => Err(NOT_FOUND),
        _ => Err(INVALID_REQUEST),
    }
}

fn parse_store(store: &Element, version: ProtocolVersion) -> Result<StoreRequest<'_>, u8> {
    let mut name = None;
    let mut query = None;
    let mut options = None;
    for child in store.children.iter() {
        let Node::Element(child) = child else {
            return Err(INVALID_REQUEST);
        };
        if child.namespace != NS {
            return Err(INVALID_REQUEST);
        }
        match child.name.as_str() {
            "Name" if name.is_none() => name = Some(leaf_text(child).ok_or(INVALID_REQUEST)?),
            "Query" if query.is_none() => query = Some(child),
            "Options" if options.is_none() => options = Some(parse_options(child, version)?),
            _ => return Err(INVALID_REQUEST),
        }
    }
    Ok(StoreRequest {
        name: name.ok_or(INVALID_REQUEST)?.trim().to_string(),
        query: query.ok_or(INVALID_REQUEST)?,
        options: options.unwrap_or_default(),
    })
}

fn parse_options(options: &Element, version: ProtocolVersion) -> Result<Options, u8> {
    let mut parsed = Options {
        body: BodyOptions::parse(options).map_err(|_| INVALID_REQUEST)?,
        ..Options::default()
    };
    for child in options.elements() {
        match (child.namespace, child.name.as_str()) {
            (NS, "Range") => {
                if parsed.range.is_none() {
                    let text = leaf_text(child).ok_or(INVALID_REQUEST)?;
                    parsed.range = Some(parse_range(&text).ok_or(INVALID_REQUEST)?);
                }
            }
            (NS, "DeepTraversal") => parsed.deep_traversal = true,
            (NS, "RebuildResults") => {}
            (NS, "Picture") if version >= ProtocolVersion::V14_1 => {
                for limit in child.elements() {
                    if !matches!(limit.name.as_str(), "MaxSize" | "MaxPictures")
                        || number(limit).is_none()
                    {
                        return Err(INVALID_REQUEST);
                    }
                }
                parsed.picture = true;
            }
            // Document library credentials: accepted, never used.
            (NS, "UserName" | "Password") => {}
            ("AirSync", "MIMESupport")
            | ("AirSyncBase", "BodyPreference" | "BodyPartPreference") => {}
            _ => return Err(INVALID_REQUEST),
        }
    }
    Ok(parsed)
}

/// `m-n` with `m <= n`, both decimal (MS-ASCMD 2.2.3.143.1 and .3).
pub(super) fn parse_range(text: &str) -> Option<(usize, usize)> {
    let (m, n) = text.trim().split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(m) || !digits(n) {
        return None;
    }
    let (m, n): (usize, usize) = (m.parse().ok()?, n.parse().ok()?);
    (m <= n).then_some((m, n))
}

/// A mailbox query (`Query/And`) taken apart.
#[derive(Default)]
struct MailboxQuery {
    classes: Vec<String>,
    collections: Vec<String>,
    free_text: Option<String>,
    conversation_id: Option<Vec<u8>>,
    /// `GreaterThan` and `LessThan` on `email:DateReceived`, as seconds.
    after: Option<i64>,
    before: Option<i64>,
}

/// The elements that belong inside `And`: outside it they make the query
/// too complex (MS-ASCMD 2.2.3.27.5, 2.2.3.30.5, 2.2.3.80.2, 2.2.3.86).
fn is_and_child(e: &Element) -> bool {
    matches!(
        (e.namespace, e.name.as_str()),
        ("AirSync", "Class" | "CollectionId")
            | (
                NS,
                "FreeText" | "ConversationId" | "GreaterThan" | "LessThan"
            )
    )
}

fn parse_mailbox_query(query: &Element, version: ProtocolVersion) -> Result<MailboxQuery, u8> {
    let mut ands = Vec::new();
    let mut too_complex = false;
    let mut invalid = false;
    for child in query.children.iter() {
        match child {
            Node::Element(e) if e.namespace == NS && e.name == "And" => ands.push(e),
            Node::Element(e) if is_and_child(e) => too_complex = true,
            Node::Element(e) if e.namespace == NS && e.name == "Or" => too_complex = true,
            Node::Text(t) if t.trim().is_empty() => {}
            _ => invalid = true,
        }
    }
    if too_complex || ands.len() > 1 {
        return Err(TOO_COMPLEX);
    }
    let [and] = ands.as_slice() else {
        return Err(INVALID_REQUEST);
    };
    if invalid {
        return Err(INVALID_REQUEST);
    }
    let mut parsed = MailboxQuery::default();
    for child in and.children.iter() {
        let Node::Element(child) = child else {
            return Err(INVALID_REQUEST);
        };
        match (child.namespace, child.name.as_str()) {
            ("AirSync", "Class") => {
                let class = leaf_text(child).ok_or(INVALID_REQUEST)?.trim().to_string();
                let since_14 = version >= ProtocolVersion::V14_0;
                let valid = match class.as_str() {
                    "Email" | "Calendar" | "Contacts" | "Tasks" => true,
                    "Notes" | "SMS" => since_14,
                    _ => false,
                };
                if !valid {
                    return Err(INVALID_REQUEST);
                }
                parsed.classes.push(class);
            }
            ("AirSync", "CollectionId") => {
                let id = leaf_text(child).ok_or(INVALID_REQUEST)?.trim().to_string();
                parsed.collections.push(id);
            }
            (NS, "FreeText") if parsed.free_text.is_none() => {
                parsed.free_text = Some(leaf_text(child).ok_or(INVALID_REQUEST)?);
            }
            (NS, "ConversationId") if parsed.conversation_id.is_none() => {
                let value = match child.opaque() {
                    Some(bytes) => bytes.to_vec(),
                    None => leaf_text(child).ok_or(INVALID_REQUEST)?.into_bytes(),
                };
                parsed.conversation_id = Some(value);
            }
            (NS, "GreaterThan") if parsed.after.is_none() => {
                parsed.after = Some(date_comparison(child)?);
            }
            (NS, "LessThan") if parsed.before.is_none() => {
                parsed.before = Some(date_comparison(child)?);
            }
            (NS, "And" | "Or") => return Err(TOO_COMPLEX),
            _ => return Err(INVALID_REQUEST),
        }
    }
    Ok(parsed)
}

/// `GreaterThan` or `LessThan`: `email:DateReceived` (empty) first, then a
/// `Value` holding a date (MS-ASCMD 2.2.3.86, 2.2.3.96).
fn date_comparison(e: &Element) -> Result<i64, u8> {
    let children: Vec<&Element> = e.elements().collect();
    if e.children.len() != children.len() {
        return Err(INVALID_REQUEST);
    }
    let [property, value] = children.as_slice() else {
        return Err(INVALID_REQUEST);
    };
    if (property.namespace, property.name.as_str()) != ("Email", "DateReceived")
        || !property.text().trim().is_empty()
        || (value.namespace, value.name.as_str()) != (NS, "Value")
    {
        return Err(INVALID_REQUEST);
    }
    let text = leaf_text(value).ok_or(INVALID_REQUEST)?;
    if text.len() > MAX_VALUE_BYTES {
        return Err(INVALID_REQUEST);
    }
    parse_any_datetime(&text).ok_or(INVALID_REQUEST)
}

fn search_mailbox(ctx: &Ctx, request: &StoreRequest, out: &mut XmlOut) -> Result<(), u8> {
    let query = parse_mailbox_query(request.query, ctx.version)?;
    let options = &request.options;
    let v = ctx.version;
    ctx.store.with_mailbox(ctx.user, |mailbox| {
        let folders: Vec<String> = if query.collections.is_empty() {
            mailbox
                .folders
                .iter()
                .map(|f| f.server_id.clone())
                .collect()
        } else {
            let mut ids = Vec::new();
            for id in &query.collections {
                if mailbox.folder(id).is_none() {
                    return Err(FOLDER_SYNC_REQUIRED);
                }
                let scope = if options.deep_traversal {
                    subtree(&mailbox.folders, id)
                } else {
                    vec![id.clone()]
                };
                for id in scope {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
            ids
        };
        let mut matches: Vec<(&str, &Item)> = Vec::new();
        for folder in &folders {
            for item in mailbox.items_in(folder) {
                if matches_query(item, &query) {
                    matches.push((folder.as_str(), item));
                }
            }
        }
        // Newest first; items without DateReceived after the messages;
        // within one second, the later arrival first (modseq), so the order
        // never depends on when the second ticked.
        matches.sort_by_key(|(_, item)| {
            std::cmp::Reverse((
                item.text("DateReceived")
                    .and_then(|d| parse_any_datetime(&d)),
                item.modseq,
            ))
        });
        let (status, page) = page(matches.len(), options.range);
        out.leaf("Status", status.to_string());
        write_page(out, matches.len(), page, |out, i| {
            let (folder, item) = matches[i];
            out.open("Result");
            leaf_ns(out, "Class", "AirSync", item.class.name());
            // LongId (Search) exists from 12.0 (MS-ASCMD 2.2.3.98.3).
            out.leaf("LongId", &item.server_id);
            leaf_ns(out, "CollectionId", "AirSync", folder);
            out.open_ns("Properties", NS);
            write_properties(out, item, &options.body, v);
            out.close("Properties");
            out.close("Result");
        });
        Ok(())
    })
}

/// Which indexes of `total` matches a request for `range` gets, and the
/// Store Status: 12 when the range reaches past the retrievable results.
fn page(total: usize, range: Option<(usize, usize)>) -> (u8, Option<(usize, usize)>) {
    let (first, last) = range.unwrap_or((0, MAX_RESULTS - 1));
    let status = if last >= MAX_RESULTS {
        END_OF_RETRIEVABLE_RANGE
    } else {
        SUCCESS
    };
    let last = last.min(MAX_RESULTS - 1).min(total.saturating_sub(1));
    let page = (total > 0 && first <= last).then_some((first, last));
    (status, page)
}

/// The results of `page` (each written by `result`), or an empty `Result`,
/// then `Range` and `Total`.
fn write_page(
    out: &mut XmlOut,
    total: usize,
    page: Option<(usize, usize)>,
    mut result: impl FnMut(&mut XmlOut, usize),
) {
    match page {
        Some((first, last)) => {
            for i in first..=last {
                result(out, i);
            }
            out.leaf("Range", format!("{first}-{last}"));
        }
        None => {
            out.empty("Result");
        }
    }
    out.leaf("Total", total.to_string());
}

fn matches_query(item: &Item, query: &MailboxQuery) -> bool {
    if !query.classes.is_empty() && !query.classes.iter().any(|c| c == item.class.name()) {
        return false;
    }
    if query.after.is_some() || query.before.is_some() {
        let Some(received) = item
            .text("DateReceived")
            .and_then(|d| parse_any_datetime(&d))
        else {
            return false;
        };
        if query.after.is_some_and(|t| received <= t) || query.before.is_some_and(|t| received >= t)
        {
            return false;
        }
    }
    if let Some(wanted) = &query.conversation_id {
        let Some(id) = item
            .data
            .iter()
            .find(|e| e.namespace == "Email2" && e.name == "ConversationId")
        else {
            return false;
        };
        let have = id
            .opaque()
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| id.text().into_bytes());
        if &have != wanted {
            return false;
        }
    }
    query
        .free_text
        .as_deref()
        .is_none_or(|text| matches_free_text(item, text))
}

/// Which field of an item a free-text term is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Subject,
    From,
    To,
    Cc,
    Body,
    Other,
}

/// Whether `item` matches the free text `text`: every term (words, or
/// quoted phrases) at the start of a word of one of the item's text fields,
/// ignoring case; `subject:`, `from:`, `to:`, `cc:` and `body:` restrict a
/// term to that field (KQL property restrictions). A query without terms
/// matches everything.
pub(super) fn matches_free_text(item: &Item, text: &str) -> bool {
    let fields = text_fields(item);
    terms(text).into_iter().all(|(restriction, term)| {
        fields
            .iter()
            .filter(|(field, _)| restriction.is_none_or(|r| r == *field))
            .any(|(_, value)| word_prefix_match(value, &term))
    })
}

/// The terms of a free-text query, lowercased, each with its property
/// restriction. The KQL operator `AND` between terms is dropped.
fn terms(text: &str) -> Vec<(Option<Field>, String)> {
    let mut terms = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (mut restriction, mut body) = (None, rest);
        if let Some((name, after)) = rest.split_once(':') {
            let field = match name.to_lowercase().as_str() {
                "subject" => Some(Field::Subject),
                "from" => Some(Field::From),
                "to" => Some(Field::To),
                "cc" => Some(Field::Cc),
                "body" => Some(Field::Body),
                _ => None,
            };
            if field.is_some() && !name.contains(char::is_whitespace) {
                restriction = field;
                body = after;
            }
        }
        let (term, remaining) = if let Some(quoted) = body.strip_prefix('"') {
            match quoted.split_once('"') {
                Some((phrase, after)) => (phrase, after),
                None => (quoted, ""),
            }
        } else {
            match body.split_once(char::is_whitespace) {
                Some((word, after)) => (word, after),
                None => (body, ""),
            }
        };
        let term = term.trim().to_lowercase();
        let operator = restriction.is_none() && term == "and";
        if !term.is_empty() && !operator {
            terms.push((restriction, term));
        }
        rest = remaining.trim_start();
    }
    terms
}

/// The text fields of an item that free text is matched against.
fn text_fields(item: &Item) -> Vec<(Field, String)> {
    let mut fields = Vec::new();
    let mut add = |field: Field, name: &str| {
        for e in item.data.iter().filter(|e| e.name == name) {
            let mut text = String::new();
            deep_text(e, &mut text);
            fields.push((field, text));
        }
    };
    match item.class {
        Class::Email => {
            add(Field::Subject, "Subject");
            add(Field::From, "From");
            add(Field::To, "To");
            add(Field::To, "DisplayTo");
            add(Field::Cc, "Cc");
        }
        Class::Calendar => {
            add(Field::Subject, "Subject");
            add(Field::Other, "Location");
            add(Field::From, "OrganizerName");
            add(Field::From, "OrganizerEmail");
            // Attendee names and addresses.
            add(Field::To, "Attendees");
        }
        Class::Contacts => {
            for name in [
                "FileAs",
                "FirstName",
                "MiddleName",
                "LastName",
                "CompanyName",
                "JobTitle",
                "Email1Address",
                "Email2Address",
                "Email3Address",
                "NickName",
            ] {
                add(Field::Other, name);
            }
        }
        Class::Tasks | Class::Notes => add(Field::Subject, "Subject"),
    }
    if let Some(body) = body_text(item) {
        fields.push((Field::Body, body));
    }
    fields
}

/// All the text inside `e`, nested elements' included, each piece
/// followed by a space (so that attendees' names stay separate words).
fn deep_text(e: &Element, out: &mut String) {
    for node in &e.children {
        match node {
            Node::Text(t) => {
                out.push_str(t);
                out.push(' ');
            }
            Node::Element(child) => deep_text(child, out),
            Node::Opaque(_) => {}
        }
    }
}

/// The item's body as plain text: the stored body (HTML tags dropped, MIME
/// headers skipped) or the text of its MIME source.
pub(super) fn body_text(item: &Item) -> Option<String> {
    match item.body() {
        Some((2, html)) => Some(strip_html(&html)),
        Some((4, mime)) => Some(mime_text_body(&mime)),
        Some((_, text)) => Some(text),
        None => item.mime.as_deref().map(mime_text_body),
    }
}

/// Whether `term` (lowercase) occurs in `text` at the start of a word.
fn word_prefix_match(text: &str, term: &str) -> bool {
    let text = text.to_lowercase();
    text.match_indices(term).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

fn search_gal(ctx: &Ctx, request: &StoreRequest, out: &mut XmlOut) -> Result<(), u8> {
    let text = leaf_text(request.query).ok_or(INVALID_REQUEST)?;
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return Err(INVALID_REQUEST);
    }
    let matches = gal_matches(ctx, &text);
    let (status, page) = page(matches.len(), request.options.range);
    let picture = request.options.picture && ctx.version >= ProtocolVersion::V14_1;
    out.leaf("Status", status.to_string());
    write_page(out, matches.len(), page, |out, i| {
        out.open("Result");
        out.open_ns("Properties", NS);
        write_gal_entry(out, &matches[i], picture);
        out.close("Properties");
        out.close("Result");
    });
    Ok(())
}

/// The directory entries (user name, SMTP address) whose display name,
/// alias or address has a word starting with `query` (lowercase), in
/// display-name order (MS-ASCMD 2.2.1.16).
pub(super) fn gal_matches(ctx: &Ctx, query: &str) -> Vec<(String, String)> {
    ctx.store
        .directory()
        .into_iter()
        .filter(|(user, email)| word_prefix_match(user, query) || word_prefix_match(email, query))
        .collect()
}

/// The GAL properties of one entry: display name and alias (the user
/// name), address, and with `picture` a `gal:Picture` saying there is none.
pub(super) fn write_gal_entry(out: &mut XmlOut, (user, email): &(String, String), picture: bool) {
    leaf_ns(out, "DisplayName", "GAL", user);
    leaf_ns(out, "Alias", "GAL", user);
    leaf_ns(out, "EmailAddress", "GAL", email);
    if picture {
        out.open_ns("Picture", "GAL");
        out.leaf("Status", NO_PICTURE.to_string());
        out.close("Picture");
    }
}

/// `<name>text</name>` on the page `namespace`.
pub(super) fn leaf_ns(out: &mut XmlOut, name: &str, namespace: &'static str, text: &str) {
    out.open_ns(name, namespace);
    out.text(text);
    out.close(name);
}

/// The text of an element that holds text only.
pub(super) fn leaf_text(e: &Element) -> Option<String> {
    e.children
        .iter()
        .all(|n| matches!(n, Node::Text(_)))
        .then(|| e.text())
}

/// An unsigned decimal integer.
fn number(e: &Element) -> Option<u32> {
    let text = leaf_text(e)?;
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::items::parse_application_data;

    fn email(subject: &str, from: &str, body: &str) -> Item {
        Item {
            server_id: "1:1".into(),
            class: Class::Email,
            data: parse_application_data(&format!(
                "<email:Subject>{subject}</email:Subject><email:From>{from}</email:From>\
                 <airsyncbase:Body><airsyncbase:Type>2</airsyncbase:Type>\
                 <airsyncbase:Data>{body}</airsyncbase:Data></airsyncbase:Body>"
            ))
            .unwrap(),
            modseq: 1,
            mime: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("0-9"), Some((0, 9)));
        assert_eq!(parse_range(" 5-5 "), Some((5, 5)));
        for bad in ["9-0", "0-", "-9", "a-b", "0 - 9", "0-9-10", "", "+1-2"] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn paging_clips_to_the_retrievable_range() {
        assert_eq!(page(3, None), (SUCCESS, Some((0, 2))));
        assert_eq!(page(3, Some((1, 1))), (SUCCESS, Some((1, 1))));
        assert_eq!(page(3, Some((5, 9))), (SUCCESS, None));
        assert_eq!(page(0, None), (SUCCESS, None));
        assert_eq!(
            page(150, Some((90, 120))),
            (END_OF_RETRIEVABLE_RANGE, Some((90, 99)))
        );
    }

    #[test]
    fn free_text_matches_word_starts_in_any_field() {
        let item = email(
            "Quarterly figures",
            "Carol &lt;carol@x.test&gt;",
            "&lt;p&gt;See the Q3 numbers&lt;/p&gt;",
        );
        assert!(matches_free_text(&item, "figures"));
        assert!(matches_free_text(&item, "QUART"));
        assert!(matches_free_text(&item, "numbers carol"));
        assert!(matches_free_text(&item, "\"the q3\""));
        assert!(!matches_free_text(&item, "gures"), "not at a word start");
        assert!(
            !matches_free_text(&item, "figures lunch"),
            "every term must match"
        );
        assert!(!matches_free_text(&item, "p"), "HTML tags are not text");
        assert!(matches_free_text(&item, "subject:quarterly"));
        assert!(!matches_free_text(&item, "subject:carol"));
        assert!(matches_free_text(&item, "from:carol AND body:numbers"));
        assert!(matches_free_text(&item, "  "));
    }
}
