//! KB923164 (Exchange Server 2003 SP2, fixed by a Massync.dll hotfix): an
//! event sink registered on the user's Calendar folder modifies new items
//! as they are saved (`OnSyncSave` writes a property), so the mailbox
//! server's DAV answer lacks the `ResourceTag` header; the device gets
//! SYNC_5 and every later attempt creates another duplicate calendar item
//! on the server.
//!
//! In EAS terms, for a Sync collection on a Calendar folder that carries
//! client `Add` or `Change` commands:
//!
//! - the handler saves them as the clean mock does;
//! - the sink then modifies each saved item: it adds the category
//!   [`SINK_CATEGORY`] (`calendar:Categories`), an EAS-visible stand-in for
//!   the KB's `urn:schemas:exchint:someinfo`;
//! - a `Change` is saved as a new item too (without the resource tag the
//!   server cannot tell it saved the existing one): one duplicate per try;
//! - the collection answers Status 5 (ServerError) with the key the client
//!   sent, and the device's state for the collection is put back as it was
//!   before the request, so the retry with the same key is a new request:
//!   its `Add`s are saved again (the clean mock's lost-response logic, which
//!   answers a resent `Add` with the ServerId it got the first time, never
//!   sees them).

use std::collections::HashSet;

use crate::protocol::Command;
use crate::wbxml::{Element, Node};

use super::super::items::Class;
use super::super::sync::SyncCollection;
use super::edit::{
    class_of, collections, commands, decode, encode, failed_collection, response_collection,
    text_of,
};
use super::{Answer, Before, Call, Fault, Memo};

/// Sync status 5, ServerError (MS-ASCMD 2.2.3.177.17): SYNC_5.
const SERVER_ERROR: u8 = 5;

/// The category the event sink adds to every calendar item it sees saved.
pub const SINK_CATEGORY: &str = "Some Extra Info";

pub struct CalendarEventSink;

/// One calendar collection of the request, before the handler ran.
struct Saved {
    id: String,
    key: String,
    /// The ServerIds the client's `Change`s name.
    changed: Vec<String>,
    /// The device's state for the collection.
    state: Option<SyncCollection>,
    /// The folder's ServerIds.
    items: HashSet<String>,
}

impl Fault for CalendarEventSink {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        if call.command != Command::Sync {
            return Before::Continue(None);
        }
        let Some(request) = call.request.as_ref() else {
            return Before::Continue(None);
        };
        let mut touched: Vec<(String, String, Vec<String>)> = Vec::new();
        for c in collections(request) {
            let id = text_of(c, "CollectionId");
            let writes: Vec<&Element> = commands(c)
                .filter(|e| e.name == "Add" || e.name == "Change")
                .collect();
            if writes.is_empty() || class_of(call.ctx, &id) != Some(Class::Calendar) {
                continue;
            }
            let changed = writes
                .iter()
                .filter(|e| e.name == "Change")
                .map(|e| text_of(e, "ServerId"))
                .collect();
            touched.push((id, text_of(c, "SyncKey"), changed));
        }
        if touched.is_empty() {
            return Before::Continue(None);
        }
        let saved: Vec<Saved> = call.ctx.device(|mailbox, device, _| {
            touched
                .into_iter()
                .map(|(id, key, changed)| Saved {
                    state: device.collections.get(&id).cloned(),
                    items: mailbox
                        .items_in(&id)
                        .iter()
                        .map(|i| i.server_id.clone())
                        .collect(),
                    id,
                    key,
                    changed,
                })
                .collect()
        });
        Before::Continue(Some(Box::new(saved)))
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        let Some(saved) = memo.and_then(|m| m.downcast::<Vec<Saved>>().ok()) else {
            return answer;
        };
        let v = call.ctx.version;
        let Some(mut root) = decode(&answer.reply, v) else {
            return answer;
        };
        // Only what the handler saved: a collection it failed (a bad key,
        // say) never reached the store, nor the sink.
        let saved: Vec<Saved> = saved
            .into_iter()
            .filter(|s| {
                response_collection(&mut root, &s.id).is_some_and(|c| text_of(c, "Status") == "1")
            })
            .collect();
        if saved.is_empty() {
            return answer;
        }
        call.ctx.device(|mailbox, device, _| {
            for s in saved.iter() {
                // The sink modifies what was saved: the new items...
                let added: Vec<String> = mailbox
                    .items_in(&s.id)
                    .iter()
                    .map(|i| i.server_id.clone())
                    .filter(|id| !s.items.contains(id))
                    .collect();
                for id in &added {
                    mailbox.update_item(id, add_sink_category);
                }
                // ...and the changed ones, each saved once more as a new item.
                for id in &s.changed {
                    if !mailbox.update_item(id, add_sink_category) {
                        continue;
                    }
                    if let Some((_, item)) = mailbox.item(id) {
                        let copy = item.clone();
                        mailbox.add_item(&s.id, copy);
                    }
                }
                // The device never got an answer it can use: its state for
                // the collection is what it was before the request.
                match &s.state {
                    Some(state) => {
                        device.collections.insert(s.id.clone(), state.clone());
                    }
                    None => {
                        device.collections.remove(&s.id);
                    }
                }
            }
        });
        for s in &saved {
            if let Some(c) = response_collection(&mut root, &s.id) {
                *c = failed_collection(&s.key, &s.id, SERVER_ERROR);
            }
        }
        Answer {
            reply: encode(&root, v),
            headers: answer.headers,
        }
    }
}

/// What the sink's `OnSyncSave` does to an item: one more category.
fn add_sink_category(item: &mut super::super::items::Item) {
    let category = Element {
        namespace: "Calendar",
        name: "Category".into(),
        children: vec![Node::Text(SINK_CATEGORY.into())],
    };
    match item
        .data
        .iter_mut()
        .find(|e| e.namespace == "Calendar" && e.name == "Categories")
    {
        Some(categories) => categories.children.push(Node::Element(category)),
        None => item.data.push(Element {
            namespace: "Calendar",
            name: "Categories".into(),
            children: vec![Node::Element(category)],
        }),
    }
}
