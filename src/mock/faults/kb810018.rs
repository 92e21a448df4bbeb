//! KB810018 (Exchange 2000 Server SP3, fixed by the March 2003 post-SP3
//! rollup): Incremental Change Synchronization saves an item by deleting
//! all its properties and setting them again. When a program (a workflow
//! process) has set a Deny ACE on one of the item's properties, the delete
//! is refused, and ICS quits the whole operation instead of replacing just
//! the properties it may touch: the synchronisation of every change fails,
//! not only that item's.
//!
//! The denied property chosen here: **`tasks:Categories`** (the workflow
//! keeps a task's state in its categories and denies everyone else writing
//! them). A client Sync whose collection is a Tasks folder and carries a
//! `Change` to a task that has categories on the server fails as a whole:
//! `Collection/Status` 5 (ServerError, the transient "server error" the
//! client retries), its SyncKey echoed, none of its commands applied, not
//! even those to other tasks. The fixed server (the clean mock) applies the
//! change. Other collections of the request go on normally.

use crate::wbxml::Element;

use super::super::items::Class;
use super::edit::{add_failed_collections, class_of, commands, fail_collections, text_of};
use super::{Answer, Before, Call, Fault, Memo};

/// Sync status 5 (MS-ASCMD 2.2.3.177.17).
const SERVER_ERROR: u8 = 5;

/// The property the workflow denies: `Categories` on the Tasks page.
pub const DENIED_PROPERTY: (&str, &str) = ("Tasks", "Categories");

pub struct DeniedPropertyAbortsCollection;

impl Fault for DeniedPropertyAbortsCollection {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        fail_collections(call, |call, c: &Element| {
            let id = text_of(c, "CollectionId");
            let changed: Vec<String> = commands(c)
                .filter(|e| e.name == "Change")
                .map(|e| text_of(e, "ServerId"))
                .collect();
            if changed.is_empty() || class_of(call.ctx, &id) != Some(Class::Tasks) {
                return None;
            }
            let denied = call.ctx.store.with_mailbox(call.ctx.user, |m| {
                changed.iter().any(|server_id| {
                    m.item(server_id).is_some_and(|(_, item)| {
                        item.data.iter().any(|p| {
                            (p.namespace, p.name.as_str()) == DENIED_PROPERTY
                                && p.elements().next().is_some()
                        })
                    })
                })
            });
            denied.then_some(SERVER_ERROR)
        })
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        add_failed_collections(call, answer, memo)
    }
}
