//! ItemOperations (MS-ASCMD 2.2.1.10): `Fetch`, `EmptyFolderContents` and
//! (14.0+) `Move` of a conversation, batched in one request and answered in
//! request order inside `Response`, after the command's `Status`.
//!
//! # Fetch (2.2.3.67.1)
//!
//! `Store` must be `Mailbox` (any case); any other store, such as
//! `DocumentLibrary` with a `LinkId`, is Status 9: the mock has no document
//! libraries. In the mailbox a Fetch names exactly one of:
//! - an item, by `airsync:ServerId` (with or without `airsync:CollectionId`):
//!   `Fetch(Status, CollectionId, ServerId, Class, Properties)` with every
//!   property of the item, version-pruned as Sync writes them, and the body
//!   shaped by the Fetch's own `Options` (`BodyPreference`, `MIMESupport`).
//!   Without a `TruncationSize` nothing is truncated: a fetch is how a
//!   client gets the whole item. `Schema` limits the properties to those it
//!   lists. An unknown item, or one not in the named collection: Status 6
//!   (what Exchange answers, Interop S08_TC04);
//! - an attachment, by `airsyncbase:FileReference`:
//!   `Fetch(Status, FileReference, Properties(ContentType, [Range, Total],
//!   Data))` with the content in base64. `Range` (`m-n`, zero-based, both
//!   ends included) returns those bytes, the served `Range` and the `Total`
//!   size: a range starting past the end is Status 8, one longer than
//!   [`MAX_FETCH_BYTES`] Status 11 (Interop S08_TC14, TC16), an end past the
//!   last byte is cut there. An unknown FileReference: Status 15 (S08_TC17);
//! - a `search:LongId`: the mock's Search results name items by ServerId, so
//!   a LongId resolves like a ServerId (answered with `LongId`, `Class`,
//!   `Properties`); anything else is Status 6.
//!
//! Multipart delivery (MS-ASCMD 2.2.1.10, "Delivery of Content Requested by
//! Fetch"): when the request line asks for it (the base64 form's
//! AcceptMultiPart option bit), attachment content leaves the WBXML: each
//! `Data` becomes `Part` (its index) and the response is the multipart
//! structure (`application/vnd.ms-sync.multipart`: the part count, then each
//! part's offset and length, all little-endian 32-bit, then the parts, the
//! WBXML first). Item bodies stay inline in the WBXML either way. The
//! plain form's `MS-ASAcceptMultiPart: T` header does not reach command
//! handlers yet (the HTTP layer would have to set
//! `RequestQuery::accept_multipart` from it), so plain requests get inline
//! data.
//!
//! # EmptyFolderContents (2.2.3.58)
//!
//! Deletes every item of `airsync:CollectionId`, and with
//! `Options/DeleteSubFolders` every folder below it (with their items).
//! Exchange allows it on any folder, Inbox included (Interop S08_TC01,
//! TC10), so the mock does too; items are deleted, not moved to Deleted
//! Items. An unknown folder is Status 6; the recipient information cache
//! (folder type 19, or Exchange's fixed id `RI`) is Status 16, access denied
//! (S08_TC20).
//!
//! # Move (2.2.3.117.1, MS-ASCON 2.2.2)
//!
//! Moves every message whose `email2:ConversationId` equals `ConversationId`
//! (compared byte for byte, opaque or text) from every folder but Sent Items
//! and the destination into `DstFldId`. `MoveAlways` must be set (2.2.3.118),
//! else Status 155 and nothing moves; an unknown destination or a
//! conversation without messages is Status 6, the recipient information
//! cache 105, a destination that is not a mail folder 156 (S08_TC19). That
//! *future* messages of the conversation also move is accepted but not
//! remembered: mail delivery would need to consult it.
//!
//! # Changes and other devices
//!
//! Deletions and moves change the mailbox (`remove_item`, `move_item`), so
//! every other device sees them on its next Sync. The requesting device
//! knows them already: they leave (or, for moves, enter) its own Sync view,
//! so its next Sync does not echo them (Exchange answers a Sync of an
//! emptied folder with nothing, S08_TC10).
//!
//! # Malformed requests
//!
//! Status 2 for the whole command (no `Response`), as Exchange does
//! (S08_TC02, TC18): an unknown operation or none, a Fetch without `Store`
//! or without a target or with two (two FileReferences...), an option that
//! does not parse or does not belong to the Fetch (`Range` for an item),
//! EmptyFolderContents or Move without their ids.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::wbxml::{Element, ProtocolVersion};

use super::command::{Ctx, Reply};
use super::getattachment;
use super::items::{BodyOptions, Class, Item, write_properties};
use super::moveitems::{forget, learn};
use super::state::{DeviceState, Mailbox, RECIPIENT_INFO_CACHE, subtree};
use super::xml::XmlOut;

const NS: &str = "ItemOperations";

/// ItemOperations status values (MS-ASCMD 2.2.3.177.8), with the common
/// status codes the Move operation uses (2.2.2).
#[allow(dead_code)] // the whole table; some codes need document libraries
pub mod status {
    pub const SUCCESS: u8 = 1;
    /// Protocol error: protocol violation or XML validation error.
    pub const PROTOCOL_ERROR: u8 = 2;
    pub const SERVER_ERROR: u8 = 3;
    /// Document library access: the specified URI is bad.
    pub const BAD_URI: u8 = 4;
    /// Document library: access denied.
    pub const DOCUMENT_LIBRARY_ACCESS_DENIED: u8 = 5;
    /// The object was not found or access denied.
    pub const OBJECT_NOT_FOUND: u8 = 6;
    /// Document library: failed to connect to the server.
    pub const CONNECTION_FAILED: u8 = 7;
    /// The byte-range is invalid or too large.
    pub const INVALID_RANGE: u8 = 8;
    /// The store is unknown or unsupported.
    pub const UNKNOWN_STORE: u8 = 9;
    /// The file is empty.
    pub const EMPTY_FILE: u8 = 10;
    /// The requested data size is too large.
    pub const DATA_TOO_LARGE: u8 = 11;
    /// Failed to download the file because of an I/O failure.
    pub const IO_FAILURE: u8 = 12;
    /// Mailbox fetch provider: the item failed conversion.
    pub const CONVERSION_FAILED: u8 = 14;
    /// Attachment fetch provider: attachment or attachment ID is invalid.
    pub const INVALID_ATTACHMENT: u8 = 15;
    /// Access to the resource is denied.
    pub const RESOURCE_ACCESS_DENIED: u8 = 16;
    /// Partial success: the command completed partially.
    pub const PARTIAL_SUCCESS: u8 = 17;
    pub const CREDENTIALS_REQUIRED: u8 = 18;
    /// Common status InvalidCombinationOfIDs: a move into the recipient
    /// information cache (MS-ASCON 2.2.2.10).
    pub const INVALID_COMBINATION_OF_IDS: u8 = 105;
    /// Common status MoveCommandDisallowedForNonPersistentMoveAction: a
    /// conversation Move without `MoveAlways` (MS-ASCMD 2.2.3.118).
    pub const MOVE_WITHOUT_MOVE_ALWAYS: u8 = 155;
    /// Common status MoveCommandInvalidDestinationFolder: the destination
    /// is not a mail folder (MS-ASCON 2.2.2.10).
    pub const INVALID_DESTINATION_FOLDER: u8 = 156;
}

use status::*;

/// The largest byte range one Fetch may ask for. Exchange refuses the
/// Interop suite's `0-10240000` with Status 11; the mock draws the line at
/// 10,240,000 bytes.
pub const MAX_FETCH_BYTES: u64 = 10_240_000;

/// Exchange's fixed CollectionId of the recipient information cache.
const RECIPIENT_INFO_CACHE_ID: &str = "RI";

/// One operation of the request, checked.
enum Operation {
    Fetch(Fetch),
    Empty {
        collection_id: String,
        delete_subfolders: bool,
    },
    Move {
        /// The `ConversationId` element as sent (echoed in the response).
        conversation: Element,
        dst_fld_id: String,
        move_always: bool,
    },
}

struct Fetch {
    /// Whether `Store` names the mailbox (else Status 9).
    mailbox_store: bool,
    target: Target,
    body: BodyOptions,
    /// `Range` as (first, last) byte, both included.
    range: Option<(u64, u64)>,
    /// `Schema`: the (page, name) of the properties wanted.
    schema: Option<Vec<(&'static str, String)>>,
}

enum Target {
    Item {
        collection_id: Option<String>,
        server_id: String,
    },
    LongId(String),
    File(String),
    /// A `documentlibrary:LinkId` (never found: no document libraries).
    Link,
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let operations = match parse(request) {
        Ok(operations) => operations,
        Err(_why) => return global_status(ctx.version, PROTOCOL_ERROR),
    };
    let multipart = ctx.query.accept_multipart;
    let mut out = XmlOut::new(NS, "ItemOperations", &[]);
    out.leaf("Status", SUCCESS.to_string());
    out.open("Response");
    let mut parts: Vec<Vec<u8>> = Vec::new();
    ctx.device(|mailbox, device, _| {
        for op in &operations {
            match op {
                Operation::Fetch(fetch) => {
                    write_fetch(
                        &mut out,
                        mailbox,
                        fetch,
                        ctx.version,
                        multipart.then_some(&mut parts),
                    );
                }
                Operation::Empty {
                    collection_id,
                    delete_subfolders,
                } => {
                    let status = empty_folder(mailbox, device, collection_id, *delete_subfolders);
                    out.open("EmptyFolderContents");
                    out.leaf("Status", status.to_string());
                    leaf_ns(&mut out, "AirSync", "CollectionId", collection_id);
                    out.close("EmptyFolderContents");
                }
                Operation::Move {
                    conversation,
                    dst_fld_id,
                    move_always,
                } => {
                    let status =
                        move_conversation(mailbox, device, conversation, dst_fld_id, *move_always);
                    out.open("Move");
                    out.leaf("Status", status.to_string());
                    out.element(conversation);
                    out.close("Move");
                }
            }
        }
    });
    out.close("Response");
    let wbxml = match out.finish("ItemOperations", ctx.version) {
        Ok(bytes) => bytes,
        Err(e) => return Reply::Http(500, format!("mock built an invalid response: {e}")),
    };
    if multipart {
        Reply::Raw {
            content_type: "application/vnd.ms-sync.multipart".to_string(),
            bytes: multipart_body(wbxml, parts),
        }
    } else {
        Reply::Wbxml(wbxml)
    }
}

/// The command failed as a whole: `ItemOperations/Status` alone.
fn global_status(version: ProtocolVersion, status: u8) -> Reply {
    let mut out = XmlOut::new(NS, "ItemOperations", &[]);
    out.leaf("Status", status.to_string());
    Reply::from_encoded(out.finish("ItemOperations", version))
}

fn parse(request: &Element) -> Result<Vec<Operation>, String> {
    let mut operations = Vec::new();
    for op in request.elements() {
        operations.push(match op.name.as_str() {
            "Fetch" => Operation::Fetch(parse_fetch(op)?),
            "EmptyFolderContents" => parse_empty(op)?,
            "Move" => parse_move(op)?,
            other => return Err(format!("unknown operation {other}")),
        });
    }
    if operations.is_empty() {
        return Err("no operation".to_string());
    }
    Ok(operations)
}

/// Puts `value` in `slot`, failing if it is already there.
fn once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("more than one {name}"));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_fetch(fetch: &Element) -> Result<Fetch, String> {
    let mut store = None;
    let mut collection_id = None;
    let mut server_id = None;
    let mut long_id = None;
    let mut file_reference = None;
    let mut link_id = None;
    let mut options = None;
    for child in fetch.elements() {
        let text = child.text();
        match (child.namespace, child.name.as_str()) {
            (NS, "Store") => once(&mut store, text, "Store")?,
            ("AirSync", "CollectionId") => once(&mut collection_id, text, "CollectionId")?,
            ("AirSync", "ServerId") => once(&mut server_id, text, "ServerId")?,
            ("Search", "LongId") => once(&mut long_id, text, "LongId")?,
            ("AirSyncBase", "FileReference") => once(&mut file_reference, text, "FileReference")?,
            ("DocumentLibrary", "LinkId") => once(&mut link_id, text, "LinkId")?,
            (NS, "Options") => once(&mut options, child, "Options")?,
            // Asks to strip IRM protection; the mock has no protected items.
            ("RightsManagement", "RemoveRightsManagementProtection") => {}
            (ns, name) => return Err(format!("{ns}:{name} in Fetch")),
        }
    }
    let store = store.ok_or("Fetch without Store")?;
    let target = match (server_id, long_id, file_reference, link_id) {
        (Some(server_id), None, None, None) => Target::Item {
            collection_id,
            server_id,
        },
        (None, Some(long_id), None, None) if collection_id.is_none() => Target::LongId(long_id),
        (None, None, Some(file), None) if collection_id.is_none() => Target::File(file),
        (None, None, None, Some(_)) if collection_id.is_none() => Target::Link,
        _ => return Err("a Fetch names exactly one item, attachment or link".to_string()),
    };
    let mut fetch = Fetch {
        mailbox_store: store.trim().eq_ignore_ascii_case("Mailbox"),
        target,
        body: BodyOptions::default(),
        range: None,
        schema: None,
    };
    if let Some(options) = options {
        fetch.body = BodyOptions::parse(options)?;
        for option in options.elements() {
            match option.name.as_str() {
                "Range" => {
                    if matches!(fetch.target, Target::Item { .. } | Target::LongId(_)) {
                        return Err("Range applies to attachments and documents".to_string());
                    }
                    fetch.range = Some(parse_range(&option.text()).ok_or("bad Range")?);
                }
                "Schema" => {
                    fetch.schema = Some(
                        option
                            .elements()
                            .map(|e| (e.namespace, e.name.clone()))
                            .collect(),
                    );
                }
                "BodyPreference"
                | "MIMESupport"
                | "UserName"
                | "Password"
                | "BodyPartPreference"
                | "RightsManagementSupport" => {}
                other => return Err(format!("option {other} in Fetch")),
            }
        }
    }
    Ok(fetch)
}

/// `m-n` with m <= n (MS-ASCMD 2.2.3.140.1).
fn parse_range(text: &str) -> Option<(u64, u64)> {
    let (first, last) = text.trim().split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(last) {
        return None;
    }
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last).then_some((first, last))
}

fn parse_empty(op: &Element) -> Result<Operation, String> {
    let mut collection_id = None;
    let mut delete_subfolders = false;
    for child in op.elements() {
        match (child.namespace, child.name.as_str()) {
            ("AirSync", "CollectionId") => once(&mut collection_id, child.text(), "CollectionId")?,
            (NS, "Options") => {
                for option in child.elements() {
                    match option.name.as_str() {
                        "DeleteSubFolders" => delete_subfolders = true,
                        other => return Err(format!("option {other} in EmptyFolderContents")),
                    }
                }
            }
            (ns, name) => return Err(format!("{ns}:{name} in EmptyFolderContents")),
        }
    }
    Ok(Operation::Empty {
        collection_id: collection_id.ok_or("EmptyFolderContents without CollectionId")?,
        delete_subfolders,
    })
}

fn parse_move(op: &Element) -> Result<Operation, String> {
    let mut conversation = None;
    let mut dst_fld_id = None;
    let mut move_always = false;
    for child in op.elements() {
        match child.name.as_str() {
            "ConversationId" => once(&mut conversation, child.clone(), "ConversationId")?,
            "DstFldId" => once(&mut dst_fld_id, child.text(), "DstFldId")?,
            "Options" => {
                for option in child.elements() {
                    match option.name.as_str() {
                        "MoveAlways" => move_always = true,
                        other => return Err(format!("option {other} in Move")),
                    }
                }
            }
            other => return Err(format!("{other} in Move")),
        }
    }
    Ok(Operation::Move {
        conversation: conversation.ok_or("Move without ConversationId")?,
        dst_fld_id: dst_fld_id.ok_or("Move without DstFldId")?,
        move_always,
    })
}

/// `<name>` on another page, with text.
fn leaf_ns(out: &mut XmlOut, ns: &'static str, name: &str, text: &str) {
    out.open_ns(name, ns);
    out.text(text);
    out.close_ns(name);
}

/// Writes one Fetch's `Fetch` element. With `parts`, attachment content
/// goes there (multipart delivery) instead of into `Data`.
fn write_fetch(
    out: &mut XmlOut,
    mailbox: &Mailbox,
    fetch: &Fetch,
    version: ProtocolVersion,
    parts: Option<&mut Vec<Vec<u8>>>,
) {
    out.open("Fetch");
    if !fetch.mailbox_store {
        out.leaf("Status", UNKNOWN_STORE.to_string());
        out.close("Fetch");
        return;
    }
    match &fetch.target {
        Target::Item {
            collection_id,
            server_id,
        } => {
            let found = mailbox
                .item(server_id)
                .filter(|(folder, _)| collection_id.as_deref().is_none_or(|c| c == *folder));
            match found {
                Some((folder, item)) => {
                    out.leaf("Status", SUCCESS.to_string());
                    leaf_ns(out, "AirSync", "CollectionId", folder);
                    leaf_ns(out, "AirSync", "ServerId", server_id);
                    write_item(out, item, fetch, version);
                }
                None => {
                    out.leaf("Status", OBJECT_NOT_FOUND.to_string());
                    if let Some(c) = collection_id {
                        leaf_ns(out, "AirSync", "CollectionId", c);
                    }
                    leaf_ns(out, "AirSync", "ServerId", server_id);
                }
            }
        }
        Target::LongId(long_id) => {
            let found = mailbox.item(long_id);
            out.leaf(
                "Status",
                if found.is_some() {
                    SUCCESS
                } else {
                    OBJECT_NOT_FOUND
                }
                .to_string(),
            );
            leaf_ns(out, "Search", "LongId", long_id);
            if let Some((_, item)) = found {
                write_item(out, item, fetch, version);
            }
        }
        Target::File(file_reference) => {
            write_attachment(out, mailbox, file_reference, fetch.range, parts);
        }
        Target::Link => {
            out.leaf("Status", UNKNOWN_STORE.to_string());
        }
    }
    out.close("Fetch");
}

/// `airsync:Class` and `Properties` of a fetched item.
fn write_item(out: &mut XmlOut, item: &Item, fetch: &Fetch, version: ProtocolVersion) {
    leaf_ns(out, "AirSync", "Class", item.class.name());
    out.open("Properties");
    match &fetch.schema {
        Some(schema) => {
            let mut wanted = item.clone();
            wanted.data.retain(|e| {
                schema
                    .iter()
                    .any(|(ns, name)| *ns == e.namespace && *name == e.name)
            });
            write_properties(out, &wanted, &fetch.body, version);
        }
        None => write_properties(out, item, &fetch.body, version),
    }
    out.close("Properties");
}

/// Status, FileReference and Properties of a fetched attachment.
fn write_attachment(
    out: &mut XmlOut,
    mailbox: &Mailbox,
    file_reference: &str,
    range: Option<(u64, u64)>,
    parts: Option<&mut Vec<Vec<u8>>>,
) {
    let Some(attachment) = getattachment::find(mailbox, file_reference) else {
        out.leaf("Status", INVALID_ATTACHMENT.to_string());
        leaf_ns(out, "AirSyncBase", "FileReference", file_reference);
        return;
    };
    let content = &attachment.content;
    let total = content.len() as u64;
    let served = match range {
        None => Ok(None),
        Some((first, _)) if first >= total => Err(INVALID_RANGE),
        Some((first, last)) if last - first + 1 > MAX_FETCH_BYTES => Err(DATA_TOO_LARGE),
        Some((first, last)) => Ok(Some((first, last.min(total - 1)))),
    };
    let served = match served {
        Ok(served) => served,
        Err(status) => {
            out.leaf("Status", status.to_string());
            leaf_ns(out, "AirSyncBase", "FileReference", file_reference);
            return;
        }
    };
    let bytes = match served {
        // The bounds were checked against `total` above.
        Some((first, last)) => &content[first as usize..=last as usize],
        None => &content[..],
    };
    out.leaf("Status", SUCCESS.to_string());
    leaf_ns(out, "AirSyncBase", "FileReference", file_reference);
    out.open("Properties");
    leaf_ns(out, "AirSyncBase", "ContentType", &attachment.content_type);
    if let Some((first, last)) = served {
        out.leaf("Range", format!("{first}-{last}"));
        out.leaf("Total", total.to_string());
    }
    match parts {
        Some(parts) => {
            parts.push(bytes.to_vec());
            // Part 0 is the WBXML itself.
            out.leaf("Part", parts.len().to_string());
        }
        None => {
            out.leaf("Data", BASE64.encode(bytes));
        }
    }
    out.close("Properties");
}

/// Whether `id` names the recipient information cache.
fn is_recipient_info_cache(mailbox: &Mailbox, id: &str) -> bool {
    id == RECIPIENT_INFO_CACHE_ID
        || mailbox
            .folder(id)
            .is_some_and(|f| f.folder_type == RECIPIENT_INFO_CACHE)
}

/// Empties a folder (and drops its subfolders when asked); the status.
fn empty_folder(
    mailbox: &mut Mailbox,
    device: &mut DeviceState,
    collection_id: &str,
    delete_subfolders: bool,
) -> u8 {
    if is_recipient_info_cache(mailbox, collection_id) {
        return RESOURCE_ACCESS_DENIED;
    }
    if mailbox.folder(collection_id).is_none() {
        return OBJECT_NOT_FOUND;
    }
    let ids: Vec<String> = mailbox
        .items_in(collection_id)
        .iter()
        .map(|i| i.server_id.clone())
        .collect();
    for id in &ids {
        mailbox.remove_item(id);
        forget(device, collection_id, id);
    }
    if delete_subfolders {
        let below: Vec<String> = subtree(&mailbox.folders, collection_id)
            .into_iter()
            .skip(1)
            .collect();
        if !below.is_empty() {
            mailbox.folders.retain(|f| !below.contains(&f.server_id));
            for id in &below {
                mailbox.items.remove(id);
                device.collections.remove(id);
            }
            mailbox.touch();
        }
    }
    SUCCESS
}

/// The bytes that identify a conversation: opaque content, else the text.
fn conversation_bytes(element: &Element) -> Vec<u8> {
    match element.opaque() {
        Some(bytes) => bytes.to_vec(),
        None => element.text().into_bytes(),
    }
}

/// Moves a conversation's messages (MS-ASCON 2.2.2.8); the status.
fn move_conversation(
    mailbox: &mut Mailbox,
    device: &mut DeviceState,
    conversation: &Element,
    dst_fld_id: &str,
    move_always: bool,
) -> u8 {
    if is_recipient_info_cache(mailbox, dst_fld_id) {
        return INVALID_COMBINATION_OF_IDS;
    }
    let Some(destination) = mailbox.folder(dst_fld_id) else {
        return OBJECT_NOT_FOUND;
    };
    if Class::of_folder_type(destination.folder_type) != Some(Class::Email) {
        return INVALID_DESTINATION_FOLDER;
    }
    if !move_always {
        return MOVE_WITHOUT_MOVE_ALWAYS;
    }
    let wanted = conversation_bytes(conversation);
    let sent_items = mailbox.folder_of_type(5).map(|f| f.server_id.clone());
    let members: Vec<(String, String)> = mailbox
        .items
        .iter()
        .filter(|(folder, _)| folder.as_str() != dst_fld_id && Some(*folder) != sent_items.as_ref())
        .flat_map(|(folder, items)| items.iter().map(move |i| (folder, i)))
        .filter(|(_, item)| {
            item.class == Class::Email
                && item.data.iter().any(|e| {
                    e.namespace == "Email2"
                        && e.name == "ConversationId"
                        && conversation_bytes(e) == wanted
                })
        })
        .map(|(folder, item)| (folder.clone(), item.server_id.clone()))
        .collect();
    if members.is_empty() {
        return OBJECT_NOT_FOUND;
    }
    for (folder, id) in &members {
        if let Some(new_id) = mailbox.move_item(id, dst_fld_id) {
            forget(device, folder, id);
            learn(mailbox, device, dst_fld_id, &new_id);
        }
    }
    SUCCESS
}

/// The multipart response (MS-ASCMD MultiPartResponse): PartsCount,
/// then each part's Offset and Length from the start of the structure (all
/// 32-bit little-endian), then the parts; the WBXML is part 0.
fn multipart_body(wbxml: Vec<u8>, data: Vec<Vec<u8>>) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = std::iter::once(wbxml).chain(data).collect();
    let header = 4 + 8 * parts.len();
    let mut out = Vec::with_capacity(header + parts.iter().map(Vec::len).sum::<usize>());
    let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    let mut offset = header;
    for part in &parts {
        for n in [offset, part.len()] {
            out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        }
        offset += part.len();
    }
    for part in parts {
        out.extend_from_slice(&part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::accounts::Account;
    use crate::mock::state::Store;
    use crate::wbxml::{DecodeOptions, EncodeOptions, Node, encode};

    const V: ProtocolVersion = ProtocolVersion::V14_1;

    fn request(xml: &str) -> Element {
        let xml = format!(
            "<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\" \
             xmlns:airsyncbase=\"AirSyncBase:\">{xml}</ItemOperations>"
        );
        let wbxml = encode(&xml, &EncodeOptions::strict(V)).unwrap();
        Element::from_wbxml(&wbxml, &DecodeOptions::strict(V)).unwrap()
    }

    fn decode(reply: Reply) -> Element {
        let Reply::Wbxml(bytes) = reply else {
            panic!("expected WBXML, got {reply:?}");
        };
        Element::from_wbxml(&bytes, &DecodeOptions::strict(V)).unwrap()
    }

    fn with_conversation(store: &Store, folder: &str, id: &[u8]) -> String {
        store.with_mailbox("alice", |m| {
            let mut item = m.item("1:2").unwrap().1.clone();
            item.data.push(Element {
                namespace: "Email2",
                name: "ConversationId".into(),
                children: vec![Node::Opaque(id.to_vec())],
            });
            m.add_item(folder, item)
        })
    }

    #[test]
    fn a_conversation_moves_from_every_folder_but_sent_items() {
        let store = Store::new(&Account::defaults());
        let in_inbox = with_conversation(&store, "1", b"conv-1");
        let in_sent = with_conversation(&store, "4", b"conv-1");
        let other = with_conversation(&store, "1", b"conv-2");
        let ctx = Ctx::for_test(&store, "alice", "dev", V);
        let body = "<Move><ConversationId opaque=\"base64\">Y29udi0x</ConversationId>\
                    <DstFldId>3</DstFldId><Options><MoveAlways/></Options></Move>";
        let root = decode(handle(&ctx, &request(body)));
        let mv = root
            .child("Response")
            .and_then(|r| r.child("Move"))
            .unwrap();
        assert_eq!(mv.child_text("Status").as_deref(), Some("1"));
        assert_eq!(
            mv.child("ConversationId").and_then(Element::opaque),
            Some(&b"conv-1"[..])
        );
        store.with_mailbox("alice", |m| {
            assert!(m.item(&in_inbox).is_none(), "moved out of Inbox");
            assert!(m.item(&in_sent).is_some(), "Sent Items keeps its copy");
            assert!(m.item(&other).is_some(), "another conversation stays");
            assert_eq!(m.items_in("3").len(), 1);
        });
    }

    #[test]
    fn conversation_move_statuses() {
        let store = Store::new(&Account::defaults());
        with_conversation(&store, "1", b"c");
        let ctx = Ctx::for_test(&store, "alice", "dev", V);
        let mv = |dst: &str, always: bool| {
            let options = if always {
                "<Options><MoveAlways/></Options>"
            } else {
                ""
            };
            format!(
                "<Move><ConversationId>c</ConversationId><DstFldId>{dst}</DstFldId>{options}</Move>"
            )
        };
        let body = [
            mv("99", true),
            mv("RI", true),
            mv("9", true),
            mv("3", false),
        ]
        .concat();
        let root = decode(handle(&ctx, &request(&body)));
        let statuses: Vec<String> = root
            .child("Response")
            .unwrap()
            .elements()
            .map(|m| m.child_text("Status").unwrap())
            .collect();
        assert_eq!(statuses, ["6", "105", "156", "155"]);
        store.with_mailbox("alice", |m| assert_eq!(m.items_in("1").len(), 4));
    }

    #[test]
    fn empty_folder_contents_drops_subfolders_only_when_asked() {
        let store = Store::new(&Account::defaults());
        let sub = store.with_mailbox("alice", |m| {
            let id = m.new_server_id();
            m.folders.push(crate::mock::state::Folder {
                server_id: id.clone(),
                parent_id: "1".into(),
                display_name: "Sub".into(),
                folder_type: 12,
            });
            let item = m.item("1:1").unwrap().1.clone();
            m.add_item(&id, item);
            id
        });
        let ctx = Ctx::for_test(&store, "alice", "dev", V);
        let empty = |options: &str| {
            format!(
                "<EmptyFolderContents><airsync:CollectionId>1</airsync:CollectionId>{options}</EmptyFolderContents>"
            )
        };
        let root = decode(handle(&ctx, &request(&empty(""))));
        assert_eq!(root.child_text("Status").as_deref(), Some("1"));
        store.with_mailbox("alice", |m| {
            assert!(m.items_in("1").is_empty());
            assert!(m.folder(&sub).is_some());
            assert_eq!(m.items_in(&sub).len(), 1);
        });
        decode(handle(
            &ctx,
            &request(&empty("<Options><DeleteSubFolders/></Options>")),
        ));
        store.with_mailbox("alice", |m| {
            assert!(m.folder(&sub).is_none());
            assert!(m.items_in(&sub).is_empty());
        });
    }

    #[test]
    fn ranges_parse_strictly() {
        assert_eq!(parse_range("0-0"), Some((0, 0)));
        assert_eq!(parse_range("3-10"), Some((3, 10)));
        for bad in ["", "-", "1-", "-1", "5-3", "a-b", "+1-2", "1-2-3"] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn multipart_offsets_point_at_the_parts() {
        let body = multipart_body(b"WBXML".to_vec(), vec![b"abc".to_vec()]);
        let u32_at = |i: usize| u32::from_le_bytes(body[i..i + 4].try_into().unwrap()) as usize;
        assert_eq!(u32_at(0), 2);
        assert_eq!((u32_at(4), u32_at(8)), (20, 5));
        assert_eq!((u32_at(12), u32_at(16)), (25, 3));
        assert_eq!(&body[20..25], b"WBXML");
        assert_eq!(&body[25..], b"abc");
    }
}
