//! MoveItems (MS-ASCMD 2.2.1.12): moves items from one folder to another.
//!
//! Each `Move` (SrcMsgId, SrcFldId, DstFldId) is answered by its own
//! `Response` (SrcMsgId, Status, DstMsgId), in request order, as in
//! MS-ASCMD 4.15. The item really moves in the mailbox and gets a new
//! ServerId in the destination, as Exchange does ([`Mailbox::move_item`]),
//! so every other device sees a `Delete` in the source and an `Add` in the
//! destination on its next Sync.
//!
//! The moving device already knows about its own move: the old ServerId
//! leaves its Sync view of the source and the new one enters its view of the
//! destination (where it has initialised those collections), so its next
//! Sync does not echo the move back to it, the way sync.rs never echoes a
//! device's own changes.
//!
//! Statuses, checked in this order (MS-ASCMD 2.2.3.177.10):
//! - 1: the source folder does not exist, or the item is not in it;
//! - 5: more than one `DstFldId` in one `Move`;
//! - 2: the destination folder does not exist (or is the recipient
//!   information cache, which holds no items a client may move);
//! - 4: source and destination are the same folder;
//! - 5: the destination holds items of another class (a message into
//!   Calendar, a contact into Inbox...). The spec's status 5 is the move the
//!   server refuses for the item itself; status 2 is kept for a destination
//!   id the server does not know;
//! - 3: success, with `DstMsgId`.
//!
//! 7 (locked) never happens: the mock's store is behind one lock.
//!
//! A request without any `Move`, or a `Move` without `SrcMsgId`, `SrcFldId`
//! or `DstFldId`, does not follow the schema: HTTP 400 up to 12.1, the
//! common status 103 (InvalidXML) as `MoveItems/Status` from 14.0 (MS-ASCMD
//! 2.2.2, 2.2.3.177.10: Status is an optional child of MoveItems).

use crate::wbxml::{Element, ProtocolVersion};

use super::command::{Ctx, Reply};
use super::state::{DeviceState, Mailbox};
use super::xml::XmlOut;

const NS: &str = "Move";

/// MoveItems status values (MS-ASCMD 2.2.3.177.10).
pub mod status {
    /// Invalid source collection ID or invalid source item ID.
    pub const INVALID_SOURCE: u8 = 1;
    /// Invalid destination collection ID.
    pub const INVALID_DESTINATION: u8 = 2;
    pub const SUCCESS: u8 = 3;
    /// Source and destination collection IDs are the same.
    pub const SAME_FOLDER: u8 = 4;
    /// More than one destination, an item that cannot go there, or a lock.
    pub const FAILURE: u8 = 5;
    /// Source or destination item was locked (transient); the mock's single
    /// lock never produces it.
    #[allow(dead_code)]
    pub const LOCKED: u8 = 7;
}

/// The common status for a request that does not follow the schema
/// (MS-ASCMD 2.2.2, InvalidXML).
const INVALID_XML: u16 = 103;

/// One `Move` of the request.
struct MoveRequest {
    src_msg_id: String,
    src_fld_id: String,
    /// Every `DstFldId` given (more than one is status 5).
    dst_fld_ids: Vec<String>,
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let Some(moves) = parse(request) else {
        return invalid_xml(
            ctx.version,
            "MoveItems needs Move elements with SrcMsgId, SrcFldId and DstFldId",
        );
    };
    let results: Vec<(String, u8, Option<String>)> = ctx.device(|mailbox, device, _| {
        moves
            .iter()
            .map(|m| {
                let (status, dst) = move_one(mailbox, device, m);
                (m.src_msg_id.clone(), status, dst)
            })
            .collect()
    });
    let mut out = XmlOut::new(NS, "MoveItems", &[]);
    for (src_msg_id, status, dst_msg_id) in &results {
        out.open("Response");
        out.leaf("SrcMsgId", src_msg_id);
        out.leaf("Status", status.to_string());
        if let Some(dst) = dst_msg_id {
            out.leaf("DstMsgId", dst);
        }
        out.close("Response");
    }
    Reply::from_encoded(out.finish("MoveItems", ctx.version))
}

/// The request's `Move`s; `None` if there are none or one lacks a child.
fn parse(request: &Element) -> Option<Vec<MoveRequest>> {
    let mut moves = Vec::new();
    for m in request.elements() {
        if m.name != "Move" {
            return None;
        }
        let mut src_msg_id = None;
        let mut src_fld_id = None;
        let mut dst_fld_ids = Vec::new();
        for child in m.elements() {
            let text = child.text();
            match child.name.as_str() {
                "SrcMsgId" if src_msg_id.is_none() => src_msg_id = Some(text),
                "SrcFldId" if src_fld_id.is_none() => src_fld_id = Some(text),
                "DstFldId" => dst_fld_ids.push(text),
                _ => return None,
            }
        }
        if dst_fld_ids.is_empty() {
            return None;
        }
        moves.push(MoveRequest {
            src_msg_id: src_msg_id?,
            src_fld_id: src_fld_id?,
            dst_fld_ids,
        });
    }
    (!moves.is_empty()).then_some(moves)
}

/// Moves one item; its status and, on success, its new ServerId.
fn move_one(
    mailbox: &mut Mailbox,
    device: &mut DeviceState,
    m: &MoveRequest,
) -> (u8, Option<String>) {
    let in_source = mailbox.folder(&m.src_fld_id).is_some()
        && mailbox
            .item(&m.src_msg_id)
            .is_some_and(|(folder, _)| folder == m.src_fld_id);
    if !in_source {
        return (status::INVALID_SOURCE, None);
    }
    let [dst_fld_id] = m.dst_fld_ids.as_slice() else {
        return (status::FAILURE, None);
    };
    match mailbox.folder(dst_fld_id) {
        None => return (status::INVALID_DESTINATION, None),
        Some(f) if f.is_recipient_info_cache() => return (status::INVALID_DESTINATION, None),
        Some(_) => {}
    }
    if *dst_fld_id == m.src_fld_id {
        return (status::SAME_FOLDER, None);
    }
    let item_class = mailbox.item(&m.src_msg_id).map(|(_, item)| item.class);
    if mailbox.class_of(dst_fld_id) != item_class {
        return (status::FAILURE, None);
    }
    match mailbox.move_item(&m.src_msg_id, dst_fld_id) {
        Some(new_id) => {
            forget(device, &m.src_fld_id, &m.src_msg_id);
            learn(mailbox, device, dst_fld_id, &new_id);
            (status::SUCCESS, Some(new_id))
        }
        None => (status::INVALID_SOURCE, None),
    }
}

/// The device removed `server_id` from `folder` itself: drop it from the
/// device's Sync view, so its next Sync does not send it a `Delete`.
pub(super) fn forget(device: &mut DeviceState, folder: &str, server_id: &str) {
    if let Some(collection) = device.collections.get_mut(folder) {
        collection.view.remove(server_id);
    }
}

/// The device put `server_id` into `folder` itself: record it in the
/// device's Sync view at its current revision, so its next Sync does not
/// send it an `Add` of what it already has.
pub(super) fn learn(mailbox: &Mailbox, device: &mut DeviceState, folder: &str, server_id: &str) {
    let Some((_, item)) = mailbox.item(server_id) else {
        return;
    };
    if let Some(collection) = device.collections.get_mut(folder) {
        collection.view.insert(server_id.to_string(), item.modseq);
    }
}

/// A request that does not follow the schema: HTTP 400 up to 12.1, the
/// common status 103 at the root from 14.0 (MS-ASCMD 2.2.2).
fn invalid_xml(version: ProtocolVersion, why: &str) -> Reply {
    if version < ProtocolVersion::V14_0 {
        return Reply::Http(400, why.to_string());
    }
    let mut out = XmlOut::new(NS, "MoveItems", &[]);
    out.leaf("Status", INVALID_XML.to_string());
    Reply::from_encoded(out.finish("MoveItems", version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::accounts::Account;
    use crate::mock::state::Store;
    use crate::wbxml::{DecodeOptions, EncodeOptions, encode};

    fn request(xml: &str) -> Element {
        let xml = format!("<MoveItems xmlns=\"Move:\">{xml}</MoveItems>");
        let v = ProtocolVersion::V14_1;
        let wbxml = encode(&xml, &EncodeOptions::strict(v)).unwrap();
        Element::from_wbxml(&wbxml, &DecodeOptions::strict(v)).unwrap()
    }

    fn responses(reply: Reply) -> Vec<Element> {
        let Reply::Wbxml(bytes) = reply else {
            panic!("expected WBXML, got {reply:?}");
        };
        let root =
            Element::from_wbxml(&bytes, &DecodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
        root.elements().cloned().collect()
    }

    fn mv(src: &str, from: &str, to: &str) -> String {
        format!(
            "<Move><SrcMsgId>{src}</SrcMsgId><SrcFldId>{from}</SrcFldId><DstFldId>{to}</DstFldId></Move>"
        )
    }

    #[test]
    fn each_move_gets_its_status_in_order() {
        let store = Store::new(&Account::defaults());
        let ctx = Ctx::for_test(&store, "alice", "dev", ProtocolVersion::V14_1);
        let body = [
            mv("1:1", "1", "3"),  // success
            mv("1:1", "1", "3"),  // already moved: invalid source
            mv("1:2", "99", "3"), // unknown source folder
            mv("1:2", "1", "99"), // unknown destination
            mv("1:2", "1", "1"),  // same folder
            mv("1:2", "1", "7"),  // a message into Calendar
        ]
        .concat();
        let got = responses(handle(&ctx, &request(&body)));
        let statuses: Vec<String> = got
            .iter()
            .map(|r| r.child_text("Status").unwrap())
            .collect();
        assert_eq!(statuses, ["3", "1", "1", "2", "4", "5"]);
        let new_id = got[0].child_text("DstMsgId").unwrap();
        assert!(new_id.starts_with("3:"), "{new_id}");
        assert!(got[1..].iter().all(|r| r.child("DstMsgId").is_none()));
        store.with_mailbox("alice", |m| {
            assert!(m.item("1:1").is_none());
            assert_eq!(m.item(&new_id).map(|(f, _)| f), Some("3"));
        });
    }

    #[test]
    fn two_destinations_are_status_5() {
        let store = Store::new(&Account::defaults());
        let ctx = Ctx::for_test(&store, "alice", "dev", ProtocolVersion::V14_1);
        let body = "<Move><SrcMsgId>1:1</SrcMsgId><SrcFldId>1</SrcFldId>\
                    <DstFldId>3</DstFldId><DstFldId>4</DstFldId></Move>";
        let got = responses(handle(&ctx, &request(body)));
        assert_eq!(got[0].child_text("Status").as_deref(), Some("5"));
        store.with_mailbox("alice", |m| assert!(m.item("1:1").is_some()));
    }

    #[test]
    fn a_move_without_its_ids_is_invalid_xml() {
        let store = Store::new(&Account::defaults());
        let ctx = Ctx::for_test(&store, "alice", "dev", ProtocolVersion::V14_1);
        let got = responses(handle(
            &ctx,
            &request("<Move><SrcMsgId>1:1</SrcMsgId><DstFldId>3</DstFldId></Move>"),
        ));
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].name.as_str(), got[0].text().as_str()),
            ("Status", "103")
        );
        let ctx = Ctx::for_test(&store, "alice", "dev", ProtocolVersion::V12_1);
        assert!(matches!(handle(&ctx, &request("")), Reply::Http(400, _)));
    }
}
