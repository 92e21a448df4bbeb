//! Tree surgery shared by the profiles: reading a Sync request's
//! collections, decoding and re-encoding the handler's WBXML answer, failing
//! whole collections, refusing single client commands, and the
//! version-dependent way of failing a command (HTTP up to 12.1, the root's
//! `Status` from 14.0, as `http.rs` does for the clean mock).

use crate::protocol::Command;
use crate::wbxml::{DecodeOptions, Element, Node, ProtocolVersion};

use super::super::command::{Ctx, Reply, root_of};
use super::super::items::Class;
use super::super::xml::XmlOut;
use super::{Answer, Before, Call, Memo};

/// A command-level failure: HTTP `http` up to 12.1, from 14.0 the command's
/// root with `Status` `status` (MS-ASCMD 2.2.2, R7461/R7462).
pub fn command_failure(
    version: ProtocolVersion,
    command: Command,
    http: u16,
    status: u16,
    why: &str,
) -> Reply {
    if version >= ProtocolVersion::V14_0
        && let Some((ns, root)) = root_of(command)
    {
        let mut out = XmlOut::new(ns, root, &[]);
        out.leaf("Status", status.to_string());
        return Reply::from_encoded(out.finish(root, version));
    }
    Reply::Http(http, why.to_string())
}

/// The `Collection` elements of a Sync request.
pub fn collections(request: &Element) -> impl Iterator<Item = &Element> {
    request
        .child("Collections")
        .into_iter()
        .flat_map(|c| c.elements_named("Collection"))
}

pub fn text_of(e: &Element, name: &str) -> String {
    e.child_text(name)
        .map(|t| t.trim().to_string())
        .unwrap_or_default()
}

/// The client commands (`Add`, `Change`, ...) of a request collection.
pub fn commands(collection: &Element) -> impl Iterator<Item = &Element> {
    collection
        .child("Commands")
        .into_iter()
        .flat_map(|c| c.elements())
}

/// The item class of a collection's folder in the user's mailbox.
pub fn class_of(ctx: &Ctx, collection_id: &str) -> Option<Class> {
    ctx.store
        .with_mailbox(ctx.user, |m| m.class_of(collection_id))
}

pub fn leaf(name: &str, text: impl Into<String>) -> Element {
    Element {
        namespace: "AirSync",
        name: name.to_string(),
        children: vec![Node::Text(text.into())],
    }
}

pub fn node(name: &str, children: Vec<Element>) -> Element {
    Element {
        namespace: "AirSync",
        name: name.to_string(),
        children: children.into_iter().map(Node::Element).collect(),
    }
}

/// The handler's WBXML answer as a tree (`None` for any other reply).
pub fn decode(reply: &Reply, version: ProtocolVersion) -> Option<Element> {
    match reply {
        Reply::Wbxml(bytes) => Element::from_wbxml(bytes, &DecodeOptions::strict(version)).ok(),
        _ => None,
    }
}

/// A tree encoded back for `version` (strictly, like every mock answer).
pub fn encode(root: &Element, version: ProtocolVersion) -> Reply {
    let mut out = XmlOut::new(root.namespace, &root.name, &[]);
    for child in &root.children {
        match child {
            Node::Element(e) => {
                out.element(e);
            }
            Node::Text(t) => {
                out.text(t);
            }
            Node::Opaque(_) => {}
        }
    }
    Reply::from_encoded(out.finish(&root.name, version))
}

/// Mutable children named `name`.
pub fn children_mut<'a>(
    e: &'a mut Element,
    name: &'a str,
) -> impl Iterator<Item = &'a mut Element> {
    e.children.iter_mut().filter_map(move |n| match n {
        Node::Element(c) if c.name == name => Some(c),
        _ => None,
    })
}

/// The first child named `name`, created at the end when missing.
pub fn child_or_insert<'a>(e: &'a mut Element, name: &str, at: usize) -> &'a mut Element {
    let index = match e
        .children
        .iter()
        .position(|n| matches!(n, Node::Element(c) if c.name == name))
    {
        Some(i) => i,
        None => {
            let at = at.min(e.children.len());
            e.children.insert(at, Node::Element(node(name, Vec::new())));
            at
        }
    };
    match &mut e.children[index] {
        Node::Element(c) => c,
        _ => unreachable!("the index points at an element"),
    }
}

/// A collection that failed as a whole: `SyncKey` (the one sent: the
/// client's state is unchanged), `CollectionId`, `Status`.
pub fn failed_collection(key: &str, id: &str, status: u8) -> Element {
    node(
        "Collection",
        vec![
            leaf("SyncKey", key),
            leaf("CollectionId", id),
            leaf("Status", status.to_string()),
        ],
    )
}

/// The response's collection for `id`.
pub fn response_collection<'a>(root: &'a mut Element, id: &str) -> Option<&'a mut Element> {
    let collections = root.children.iter_mut().find_map(|n| match n {
        Node::Element(c) if c.name == "Collections" => Some(c),
        _ => None,
    })?;
    children_mut(collections, "Collection").find(|c| text_of(c, "CollectionId") == id)
}

/// Fails whole collections of a Sync: those for which `status_for` gives a
/// status answer it with that status; the others go on to the handler (in a
/// request without the failed ones) and the failed collections are added to
/// its answer. If every collection fails, the profile answers alone.
pub fn fail_collections(
    call: &mut Call<'_, '_>,
    mut status_for: impl FnMut(&Call<'_, '_>, &Element) -> Option<u8>,
) -> Before {
    if call.command != Command::Sync {
        return Before::Continue(None);
    }
    let Some(request) = call.request.as_ref() else {
        return Before::Continue(None);
    };
    let mut failed = Vec::new();
    let mut kept = 0;
    for c in collections(request) {
        match status_for(call, c) {
            Some(status) => failed.push(failed_collection(
                &text_of(c, "SyncKey"),
                &text_of(c, "CollectionId"),
                status,
            )),
            None => kept += 1,
        }
    }
    if failed.is_empty() {
        return Before::Continue(None);
    }
    if kept == 0 {
        let root = Element {
            namespace: "AirSync",
            name: "Sync".into(),
            children: vec![Node::Element(node("Collections", failed))],
        };
        return Before::Answer(encode(&root, call.ctx.version).into());
    }
    let failed_ids: Vec<String> = failed.iter().map(|c| text_of(c, "CollectionId")).collect();
    if let Some(request) = call.request.as_mut()
        && let Some(Node::Element(list)) = request
            .children
            .iter_mut()
            .find(|n| matches!(n, Node::Element(e) if e.name == "Collections"))
    {
        list.children.retain(
            |n| !matches!(n, Node::Element(c) if failed_ids.contains(&text_of(c, "CollectionId"))),
        );
    }
    Before::Continue(Some(Box::new(FailedCollections(failed))))
}

/// [`fail_collections`]' memo.
struct FailedCollections(Vec<Element>);

/// The `after` half of [`fail_collections`]: puts the failed collections
/// into the handler's answer.
pub fn add_failed_collections(call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
    let Some(failed) = memo.and_then(|m| m.downcast::<FailedCollections>().ok()) else {
        return answer;
    };
    let v = call.ctx.version;
    let Some(mut root) = decode(&answer.reply, v) else {
        return answer;
    };
    // A Sync answer carries Collections unless it is a global failure.
    if root.child("Status").is_some() && root.child("Collections").is_none() {
        return answer;
    }
    let list = child_or_insert(&mut root, "Collections", usize::MAX);
    list.children
        .extend(failed.0.into_iter().map(Node::Element));
    Answer {
        reply: encode(&root, v),
        headers: answer.headers,
    }
}

/// One client command refused with a per-item status.
struct Refused {
    collection_id: String,
    key: String,
    /// `Add` (answered with its ClientId) or `Change` (its ServerId).
    kind: String,
    id: String,
    status: u8,
}

/// [`refuse_commands`]' memo.
struct RefusedCommands(Vec<Refused>);

/// Refuses client commands of a Sync: those for which `status_for` gives a
/// status are taken out of the request (nothing is saved) and answered in
/// `Responses` with that status.
pub fn refuse_commands(
    call: &mut Call<'_, '_>,
    mut status_for: impl FnMut(&Ctx, &Element, &Element) -> Option<u8>,
) -> Before {
    if call.command != Command::Sync {
        return Before::Continue(None);
    }
    let ctx = call.ctx;
    let Some(request) = call.request.as_mut() else {
        return Before::Continue(None);
    };
    let mut refused = Vec::new();
    for list in children_mut(request, "Collections") {
        for c in children_mut(list, "Collection") {
            let id = text_of(c, "CollectionId");
            let key = text_of(c, "SyncKey");
            let snapshot = c.clone();
            for commands in children_mut(c, "Commands") {
                commands.children.retain(|n| {
                    let Node::Element(command) = n else {
                        return true;
                    };
                    let Some(status) = status_for(ctx, &snapshot, command) else {
                        return true;
                    };
                    let handle = if command.name == "Add" {
                        "ClientId"
                    } else {
                        "ServerId"
                    };
                    refused.push(Refused {
                        collection_id: id.clone(),
                        key: key.clone(),
                        kind: command.name.clone(),
                        id: text_of(command, handle),
                        status,
                    });
                    false
                });
            }
            // A Commands element left empty goes: the handler would call
            // an empty one a protocol error.
            c.children.retain(
                |n| !matches!(n, Node::Element(e) if e.name == "Commands" && e.children.is_empty()),
            );
        }
    }
    if refused.is_empty() {
        Before::Continue(None)
    } else {
        Before::Continue(Some(Box::new(RefusedCommands(refused))))
    }
}

/// The `after` half of [`refuse_commands`]: the refused commands' results
/// in their collections' `Responses` (after `Commands`, before
/// `MoreAvailable`, the order of MS-ASCMD 2.2.3.29.2).
pub fn answer_refused(call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
    let Some(refused) = memo.and_then(|m| m.downcast::<RefusedCommands>().ok()) else {
        return answer;
    };
    let v = call.ctx.version;
    let Some(mut root) = decode(&answer.reply, v) else {
        return answer;
    };
    if root.child("Status").is_some() && root.child("Collections").is_none() {
        return answer;
    }
    for r in refused.0 {
        let handle = if r.kind == "Add" {
            "ClientId"
        } else {
            "ServerId"
        };
        let result = node(
            &r.kind,
            vec![
                leaf(handle, r.id.as_str()),
                leaf("Status", r.status.to_string()),
            ],
        );
        if response_collection(&mut root, &r.collection_id).is_none() {
            let list = child_or_insert(&mut root, "Collections", usize::MAX);
            let c = failed_collection(&r.key, &r.collection_id, 1);
            list.children.push(Node::Element(c));
        }
        let Some(c) = response_collection(&mut root, &r.collection_id) else {
            continue;
        };
        let at = c
            .children
            .iter()
            .position(|n| matches!(n, Node::Element(e) if e.name == "MoreAvailable"))
            .unwrap_or(c.children.len());
        child_or_insert(c, "Responses", at)
            .children
            .push(Node::Element(result));
    }
    Answer {
        reply: encode(&root, v),
        headers: answer.headers,
    }
}
