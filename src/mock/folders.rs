//! FolderCreate, FolderUpdate and FolderDelete (MS-ASCMD 2.2.1.3, 2.2.1.6,
//! 2.2.1.4): changing the user's folder hierarchy.
//!
//! Each request carries the device's current FolderSync key. A success
//! changes the mailbox, applies the same change to the device's snapshot
//! (so its next FolderSync does not send it back, while changes made
//! meanwhile by other devices still come), and answers Status 1 with a new
//! key (FolderCreate adds the new ServerId). A failure answers the Status
//! alone: no SyncKey, no ServerId, and the key stays valid (2.2.3.181.1).
//!
//! Status values, checked in this order:
//! - 10: a required element missing, repeated, not a plain value, or an
//!   element the request does not have (a `Status` in a FolderUpdate
//!   request gets 10, 2.2.1.6); a DisplayName outside 1-256 characters
//!   (2.2.3.49.3); a FolderCreate `Type` that is not a number.
//! - 9: the SyncKey is not the device's current FolderSync key (an empty
//!   key included; a device that never ran FolderSync has none).
//! - FolderCreate: Type 19 (recipient information cache) 3; any Type other
//!   than 1 and 12-17 (2-11 are default folders, 18 unknown) 10; parent
//!   missing 5; parent the recipient information cache 3; name taken under
//!   the parent 2.
//! - FolderUpdate: folder missing 4; the recipient information cache 3; a
//!   default folder 2; new parent missing 5; new parent the recipient
//!   information cache 3 (the spec forbids it without naming a code); the
//!   folder itself or one of its subfolders as new parent 10 (the mock's
//!   choice: the spec names no code); name taken under the new parent 2.
//! - FolderDelete: folder missing 4; a default folder or the recipient
//!   information cache 3. Deleting a folder deletes its subfolders.
//!
//! Names are unique per parent, compared case-insensitively.

use crate::protocol::Command;
use crate::wbxml::Element;

use super::command::{Ctx, Reply, root_of};
use super::foldersync::next_key;
use super::state::{DeviceState, Folder, Mailbox, subtree};
use super::xml::XmlOut;

/// Status values shared by the three commands (MS-ASCMD 2.2.3.177.3, .4, .6).
const SUCCESS: u8 = 1;
/// FolderCreate/FolderUpdate: the name exists; FolderUpdate: a special folder.
const EXISTS_OR_SPECIAL: u8 = 2;
/// FolderCreate: the parent is the recipient information cache; FolderDelete:
/// a special folder; FolderUpdate: the recipient information cache.
const SPECIAL: u8 = 3;
const NOT_FOUND: u8 = 4;
const PARENT_NOT_FOUND: u8 = 5;
const INVALID_SYNC_KEY: u8 = 9;
const MALFORMED: u8 = 10;

/// The folder types a client may create (MS-ASCMD 2.2.3.186.2).
fn creatable(folder_type: u8) -> bool {
    folder_type == 1 || (12..=17).contains(&folder_type)
}

/// The longest DisplayName, in characters (MS-ASCMD 2.2.3.49.3).
const MAX_NAME: usize = 256;

/// A successful change: the new FolderSync key and, for FolderCreate, the
/// new folder's ServerId.
type Outcome = Result<(u32, Option<String>), u8>;

pub fn create(ctx: &Ctx, request: &Element) -> Reply {
    let command = Command::FolderCreate;
    let Some([key, parent_id, name, folder_type]) =
        fields(request, ["SyncKey", "ParentId", "DisplayName", "Type"])
    else {
        return failure(ctx, command, MALFORMED);
    };
    let Ok(folder_type) = folder_type.trim().parse::<u8>() else {
        return failure(ctx, command, MALFORMED);
    };
    if !name_ok(&name) {
        return failure(ctx, command, MALFORMED);
    }
    let outcome = change(ctx, &key, |mailbox, device| {
        if folder_type == super::state::RECIPIENT_INFO_CACHE {
            return Err(SPECIAL);
        }
        if !creatable(folder_type) {
            return Err(MALFORMED);
        }
        check_parent(mailbox, &parent_id, SPECIAL)?;
        if mailbox.name_taken(&parent_id, &name, None) {
            return Err(EXISTS_OR_SPECIAL);
        }
        let folder = Folder {
            server_id: mailbox.new_server_id(),
            parent_id: parent_id.clone(),
            display_name: name.clone(),
            folder_type,
        };
        let id = folder.server_id.clone();
        mailbox.folders.push(folder.clone());
        mailbox.touch();
        device.folder_snapshot.push(folder);
        Ok(Some(id))
    });
    respond(ctx, command, outcome)
}

pub fn update(ctx: &Ctx, request: &Element) -> Reply {
    let command = Command::FolderUpdate;
    let Some([key, server_id, parent_id, name]) =
        fields(request, ["SyncKey", "ServerId", "ParentId", "DisplayName"])
    else {
        return failure(ctx, command, MALFORMED);
    };
    if !name_ok(&name) {
        return failure(ctx, command, MALFORMED);
    }
    let outcome = change(ctx, &key, |mailbox, device| {
        let folder = mailbox.folder(&server_id).ok_or(NOT_FOUND)?;
        if folder.is_recipient_info_cache() {
            return Err(SPECIAL);
        }
        if folder.is_default() {
            return Err(EXISTS_OR_SPECIAL);
        }
        check_parent(mailbox, &parent_id, SPECIAL)?;
        if subtree(&mailbox.folders, &server_id).contains(&parent_id) {
            return Err(MALFORMED);
        }
        if mailbox.name_taken(&parent_id, &name, Some(&server_id)) {
            return Err(EXISTS_OR_SPECIAL);
        }
        for f in mailbox
            .folders
            .iter_mut()
            .chain(device.folder_snapshot.iter_mut())
            .filter(|f| f.server_id == server_id)
        {
            f.parent_id = parent_id.clone();
            f.display_name = name.clone();
        }
        mailbox.touch();
        Ok(None)
    });
    respond(ctx, command, outcome)
}

pub fn delete(ctx: &Ctx, request: &Element) -> Reply {
    let command = Command::FolderDelete;
    let Some([key, server_id]) = fields(request, ["SyncKey", "ServerId"]) else {
        return failure(ctx, command, MALFORMED);
    };
    let outcome = change(ctx, &key, |mailbox, device| {
        let folder = mailbox.folder(&server_id).ok_or(NOT_FOUND)?;
        if folder.is_default() || folder.is_recipient_info_cache() {
            return Err(SPECIAL);
        }
        let gone = subtree(&mailbox.folders, &server_id);
        mailbox.folders.retain(|f| !gone.contains(&f.server_id));
        // The folders' items go with them, for every device.
        for id in &gone {
            mailbox.items.remove(id);
            device.collections.remove(id);
        }
        mailbox.touch();
        // The device learns of the subfolders it knows there; a subfolder
        // another device moved there meanwhile still reaches it as a Delete.
        let known = subtree(&device.folder_snapshot, &server_id);
        device
            .folder_snapshot
            .retain(|f| !known.contains(&f.server_id));
        Ok(None)
    });
    respond(ctx, command, outcome)
}

/// The request's children named `names`, each present once as a plain
/// value, and nothing else; `None` if the request is malformed.
fn fields<const N: usize>(request: &Element, names: [&str; N]) -> Option<[String; N]> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    for child in request.elements() {
        let i = names.iter().position(|n| *n == child.name)?;
        let plain = child.namespace == request.namespace && child.elements().next().is_none();
        if !plain || values[i].is_some() {
            return None;
        }
        values[i] = Some(child.text());
    }
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, value) in out.iter_mut().zip(values) {
        *slot = value?;
    }
    Some(out)
}

fn name_ok(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.chars().count())
}

/// Fails with 5 if `parent_id` is neither the root (`0`) nor a folder, and
/// with `cache_status` if it is the recipient information cache.
fn check_parent(mailbox: &Mailbox, parent_id: &str, cache_status: u8) -> Result<(), u8> {
    if parent_id == "0" {
        return Ok(());
    }
    match mailbox.folder(parent_id) {
        None => Err(PARENT_NOT_FOUND),
        Some(p) if p.is_recipient_info_cache() => Err(cache_status),
        Some(_) => Ok(()),
    }
}

/// Checks the key, then runs `apply`; on success advances the device's key.
fn change(
    ctx: &Ctx,
    key: &str,
    apply: impl FnOnce(&mut Mailbox, &mut DeviceState) -> Result<Option<String>, u8>,
) -> Outcome {
    let key = key.trim();
    ctx.device(|mailbox, device, _| {
        let current = device.folder_sync_key.filter(|k| k.to_string() == key);
        if current.is_none() {
            return Err(INVALID_SYNC_KEY);
        }
        let server_id = apply(mailbox, device)?;
        let next = next_key(current);
        device.folder_sync_key = Some(next);
        Ok((next, server_id))
    })
}

fn respond(ctx: &Ctx, command: Command, outcome: Outcome) -> Reply {
    let (key, server_id) = match outcome {
        Ok(done) => done,
        Err(status) => return failure(ctx, command, status),
    };
    let (ns, root) = root_of(command).expect("folder commands have a root element");
    let mut out = XmlOut::new(ns, root, &[]);
    out.leaf("Status", SUCCESS.to_string());
    out.leaf("SyncKey", key.to_string());
    if let Some(id) = server_id {
        out.leaf("ServerId", id);
    }
    Reply::from_encoded(out.finish(root, ctx.version))
}

fn failure(ctx: &Ctx, command: Command, status: u8) -> Reply {
    let (ns, root) = root_of(command).expect("folder commands have a root element");
    let mut out = XmlOut::new(ns, root, &[]);
    out.leaf("Status", status.to_string());
    Reply::from_encoded(out.finish(root, ctx.version))
}
