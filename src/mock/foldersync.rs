//! FolderSync (MS-ASCMD 2.2.1.5): the folder hierarchy and its sync key.

use crate::wbxml::Element;

use super::command::{Ctx, Reply};
use super::xml::XmlOut;

/// FolderSync status values (MS-ASCMD 2.2.3.177.5).
const SUCCESS: u8 = 1;
const INVALID_SYNC_KEY: u8 = 9;
const BAD_REQUEST: u8 = 10;

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let v = ctx.version;
    let Some(key) = request.child_text("SyncKey") else {
        return status_only(BAD_REQUEST, ctx);
    };
    let key = key.trim().to_string();
    let result = ctx.device(|mailbox, device, _| {
        let known = device.folder_sync_key;
        if key == "0" {
            // A full hierarchy with a new key.
            let next = known.map_or(1, |k| k + 1);
            device.folder_sync_key = Some(next);
            Some((next, mailbox.folders.clone()))
        } else if known.is_some_and(|k| k.to_string() == key) {
            // No change since the client's key (the mock's hierarchy does not
            // change yet): the same key and an empty Changes.
            Some((known.unwrap_or_default(), Vec::new()))
        } else {
            None
        }
    });
    let Some((new_key, folders)) = result else {
        return status_only(INVALID_SYNC_KEY, ctx);
    };
    let mut out = XmlOut::new("FolderHierarchy", "FolderSync", &[]);
    out.leaf("Status", SUCCESS.to_string());
    out.leaf("SyncKey", new_key.to_string());
    out.open("Changes");
    out.leaf("Count", folders.len().to_string());
    for f in &folders {
        out.open("Add");
        out.leaf("ServerId", &f.server_id);
        out.leaf("ParentId", &f.parent_id);
        out.leaf("DisplayName", &f.display_name);
        out.leaf("Type", f.folder_type.to_string());
        out.close("Add");
    }
    out.close("Changes");
    Reply::from_encoded(out.finish("FolderSync", v))
}

fn status_only(status: u8, ctx: &Ctx) -> Reply {
    let mut out = XmlOut::new("FolderHierarchy", "FolderSync", &[]);
    out.leaf("Status", status.to_string());
    Reply::from_encoded(out.finish("FolderSync", ctx.version))
}
