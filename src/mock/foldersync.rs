//! FolderSync (MS-ASCMD 2.2.1.5): the folder hierarchy and its sync key.
//!
//! Each device has its own key and remembers the hierarchy it was last sent
//! ([`DeviceState::folder_snapshot`]). Key 0 sends every folder as an `Add`
//! with a new key. The current key sends the differences between that
//! snapshot and the user's mailbox, as `Update`, `Delete` and `Add` in the
//! schema's order, with a new key when there are any; with none, `Count` 0
//! and the same key (2.2.3.37: Count 0 when nothing changed). Any other key
//! gets Status 9, a missing `SyncKey` Status 10.
//!
//! [`DeviceState::folder_snapshot`]: super::state::DeviceState::folder_snapshot

use crate::wbxml::Element;

use super::command::{Ctx, Reply};
use super::state::Folder;
use super::xml::XmlOut;

/// FolderSync status values (MS-ASCMD 2.2.3.177.5).
const SUCCESS: u8 = 1;
const INVALID_SYNC_KEY: u8 = 9;
const BAD_REQUEST: u8 = 10;

/// What changed between what a device knows and the mailbox.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Folders renamed or moved (their new state).
    pub updates: Vec<Folder>,
    /// ServerIds of folders gone.
    pub deletes: Vec<String>,
    /// New folders, each after its parent if that is new too.
    pub adds: Vec<Folder>,
}

impl Changes {
    /// The whole hierarchy as additions (FolderSync with key 0).
    pub fn everything(current: &[Folder]) -> Changes {
        Changes::between(&[], current)
    }

    /// The differences from `known` to `current`.
    pub fn between(known: &[Folder], current: &[Folder]) -> Changes {
        let find = |set: &[Folder], id: &str| set.iter().position(|f| f.server_id == id);
        let updates = current
            .iter()
            .filter(|f| find(known, &f.server_id).is_some_and(|i| known[i] != **f))
            .cloned()
            .collect();
        let deletes = known
            .iter()
            .filter(|f| find(current, &f.server_id).is_none())
            .map(|f| f.server_id.clone())
            .collect();
        let mut pending: Vec<Folder> = current
            .iter()
            .filter(|f| find(known, &f.server_id).is_none())
            .cloned()
            .collect();
        // Parents before children: a client can then place each folder as it
        // reads it, whatever order the mailbox holds them in.
        let mut adds = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            let ready = pending
                .iter()
                .position(|f| find(&pending, &f.parent_id).is_none())
                .unwrap_or(0);
            adds.push(pending.remove(ready));
        }
        Changes {
            updates,
            deletes,
            adds,
        }
    }

    pub fn count(&self) -> usize {
        self.updates.len() + self.deletes.len() + self.adds.len()
    }
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let v = ctx.version;
    let Some(key) = request.child_text("SyncKey") else {
        return status_only(BAD_REQUEST, ctx);
    };
    let key = key.trim().to_string();
    let result = ctx.device(|mailbox, device, _| {
        let known = device.folder_sync_key;
        if key == "0" {
            let next = next_key(known);
            device.folder_sync_key = Some(next);
            device.folder_snapshot = mailbox.folders.clone();
            Some((next, Changes::everything(&mailbox.folders)))
        } else if let Some(current) = known.filter(|k| k.to_string() == key) {
            let changes = Changes::between(&device.folder_snapshot, &mailbox.folders);
            if changes.count() == 0 {
                return Some((current, changes));
            }
            let next = next_key(known);
            device.folder_sync_key = Some(next);
            device.folder_snapshot = mailbox.folders.clone();
            Some((next, changes))
        } else {
            None
        }
    });
    let Some((new_key, changes)) = result else {
        return status_only(INVALID_SYNC_KEY, ctx);
    };
    let mut out = XmlOut::new("FolderHierarchy", "FolderSync", &[]);
    out.leaf("Status", SUCCESS.to_string());
    out.leaf("SyncKey", new_key.to_string());
    out.open("Changes");
    out.leaf("Count", changes.count().to_string());
    for f in &changes.updates {
        write_folder(&mut out, "Update", f);
    }
    for id in &changes.deletes {
        out.open("Delete");
        out.leaf("ServerId", id);
        out.close("Delete");
    }
    for f in &changes.adds {
        write_folder(&mut out, "Add", f);
    }
    out.close("Changes");
    Reply::from_encoded(out.finish("FolderSync", v))
}

/// The key after `current` (keys start at 1; 0 is the client's "from scratch").
pub fn next_key(current: Option<u32>) -> u32 {
    current.and_then(|k| k.checked_add(1)).unwrap_or(1)
}

fn write_folder(out: &mut XmlOut, element: &str, f: &Folder) {
    out.open(element);
    out.leaf("ServerId", &f.server_id);
    out.leaf("ParentId", &f.parent_id);
    out.leaf("DisplayName", &f.display_name);
    out.leaf("Type", f.folder_type.to_string());
    out.close(element);
}

fn status_only(status: u8, ctx: &Ctx) -> Reply {
    let mut out = XmlOut::new("FolderHierarchy", "FolderSync", &[]);
    out.leaf("Status", status.to_string());
    Reply::from_encoded(out.finish("FolderSync", ctx.version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: &str, parent: &str, name: &str) -> Folder {
        Folder {
            server_id: id.into(),
            parent_id: parent.into(),
            display_name: name.into(),
            folder_type: 12,
        }
    }

    #[test]
    fn differences_are_updates_deletes_and_adds() {
        let known = [f("1", "0", "A"), f("2", "0", "B"), f("3", "1", "C")];
        let current = [f("1", "0", "A"), f("3", "0", "C"), f("4", "1", "D")];
        let c = Changes::between(&known, &current);
        assert_eq!(c.updates, [f("3", "0", "C")]);
        assert_eq!(c.deletes, ["2"]);
        assert_eq!(c.adds, [f("4", "1", "D")]);
        assert_eq!(c.count(), 3);
        assert_eq!(Changes::between(&current, &current).count(), 0);
    }

    #[test]
    fn new_parents_come_before_new_children() {
        let current = [
            f("5", "7", "child"),
            f("6", "5", "grandchild"),
            f("7", "0", "top"),
        ];
        let ids: Vec<String> = Changes::everything(&current)
            .adds
            .into_iter()
            .map(|f| f.server_id)
            .collect();
        assert_eq!(ids, ["7", "5", "6"]);
    }

    #[test]
    fn keys_start_at_one_and_count_up() {
        assert_eq!(next_key(None), 1);
        assert_eq!(next_key(Some(1)), 2);
        assert_eq!(next_key(Some(u32::MAX)), 1);
    }
}
