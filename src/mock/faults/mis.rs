//! The Mobile Information Server sync status codes MIS_2 to MIS_9 (the
//! Server ActiveSync status list of the MIS 2002 documentation), each as
//! the condition it names, mapped to what a current EAS server answers for
//! it:
//!
//! | Profile | MIS code | EAS answer |
//! |---|---|---|
//! | `mis-version` | MIS_2 PROTOCOL_VER: the device's sync software version is not supported | HTTP 400 up to 12.1, Status 138 VersionNotSupported from 14.0 (MS-ASCMD 2.2.2), for every command but Provision |
//! | `mis-restore` | MIS_3 SYNCKEY: the account was restored or moved, the server's sync state is older than the device's | the device's state is dropped at its first request with a non-zero key; the clean handlers then answer Sync Status 3 and FolderSync Status 9 |
//! | `mis-protocol` | MIS_4 PROTOCOL: a server software error | Sync Status 4 for each collection that carries client commands |
//! | `mis-unavailable` | MIS_5 SYNC_SERVER: the Exchange server is not available | HTTP 503 with `Retry-After: 30` (MS-ASHTTP 2.2.2; any version), for every command but Provision |
//! | `mis-conversion` | MIS_6 CONVERSION | every client Add and Change: Status 6 in `Responses`, nothing saved |
//! | `mis-conflict` | MIS_7 CONFLICT | every client Change: Status 7 in `Responses`, the server's version kept |
//! | `mis-not-found` | MIS_8 OBJ_NOT_FOUND: the server cannot open the Inbox (also Calendar, Contacts) | Sync Status 8 for a collection on the default Inbox, Calendar or Contacts folder |
//! | `mis-quota` | MIS_9 DISK_SPACE: not enough space in the mailbox | every client Add and Change: Status 9 in `Responses`, nothing saved (deletes still work); SendMail, SmartReply, SmartForward: HTTP 507 up to 12.1, Status 113 MailboxQuotaExceeded from 14.0 |
//!
//! Provision is left alone by the profiles that fail every command, so that
//! a client still provisions and the failure shows on the command under
//! test (a real server in that state refuses Provision too).

use std::collections::HashSet;
use std::sync::Mutex;

use crate::protocol::Command;
use crate::wbxml::Element;

use super::super::command::Reply;
use super::edit::{
    add_failed_collections, answer_refused, collections, command_failure, commands,
    fail_collections, refuse_commands, text_of,
};
use super::{Answer, Before, Call, Fault, Memo};

/// Common status 138 VersionNotSupported (MS-ASCMD 2.2.2).
const VERSION_NOT_SUPPORTED: u16 = 138;
/// Common status 113 MailboxQuotaExceeded (MS-ASCMD 2.2.2).
const MAILBOX_QUOTA_EXCEEDED: u16 = 113;
/// Sync statuses (MS-ASCMD 2.2.3.177.17).
const PROTOCOL_ERROR: u8 = 4;
const CONVERSION_ERROR: u8 = 6;
const CONFLICT: u8 = 7;
const OBJECT_NOT_FOUND: u8 = 8;
const OUT_OF_SPACE: u8 = 9;
/// What `mis-unavailable` asks the client to wait, in seconds.
pub const RETRY_AFTER_SECONDS: u32 = 30;
/// Folder types (MS-ASCMD 2.2.3.186.3) MIS_8 names: Inbox, Calendar, Contacts.
const NOT_FOUND_TYPES: [u8; 3] = [2, 8, 9];

fn is_send(command: Command) -> bool {
    matches!(
        command,
        Command::SendMail | Command::SmartReply | Command::SmartForward
    )
}

/// MIS_2.
pub struct VersionNotSupported;

impl Fault for VersionNotSupported {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        if call.command == Command::Provision {
            return Before::Continue(None);
        }
        let v = call.ctx.version;
        let why = format!("protocol version {v} is not supported (MIS_2)");
        Before::Answer(command_failure(v, call.command, 400, VERSION_NOT_SUPPORTED, &why).into())
    }
}

/// MIS_3: the devices this server has seen since its restore.
#[derive(Default)]
pub struct Restored {
    /// (user, device id) whose state was already dropped.
    dropped: Mutex<HashSet<(String, String)>>,
}

impl Fault for Restored {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        // A non-zero key is state the server had before its restore; an
        // empty Sync repeats cached keys.
        let presents_key = match (call.command, call.request.as_ref()) {
            (Command::FolderSync, Some(r)) => text_of(r, "SyncKey") != "0",
            (Command::Sync, Some(r)) => collections(r).any(|c| text_of(c, "SyncKey") != "0"),
            (Command::Sync, None) => true,
            _ => false,
        };
        if !presents_key {
            return Before::Continue(None);
        }
        let who = (call.ctx.user.to_string(), call.ctx.device_id.to_string());
        let first = self
            .dropped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(who);
        if first {
            call.ctx.device(|_, device, _| {
                device.folder_sync_key = None;
                device.collections.clear();
                device.sync_cache = None;
            });
        }
        Before::Continue(None)
    }
}

/// MIS_4.
pub struct ProtocolError;

impl Fault for ProtocolError {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        fail_collections(call, |_, c: &Element| {
            commands(c).next().map(|_| PROTOCOL_ERROR)
        })
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        add_failed_collections(call, answer, memo)
    }
}

/// MIS_5.
pub struct Unavailable;

impl Fault for Unavailable {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        if call.command == Command::Provision {
            return Before::Continue(None);
        }
        Before::Answer(Answer {
            reply: Reply::Http(503, "the Exchange server is not available (MIS_5)".into()),
            headers: vec![("Retry-After", RETRY_AFTER_SECONDS.to_string())],
        })
    }
}

/// MIS_6.
pub struct Conversion;

impl Fault for Conversion {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        refuse_commands(call, |_, _, command| {
            matches!(command.name.as_str(), "Add" | "Change").then_some(CONVERSION_ERROR)
        })
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        answer_refused(call, answer, memo)
    }
}

/// MIS_7.
pub struct Conflict;

impl Fault for Conflict {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        refuse_commands(call, |_, _, command| {
            (command.name == "Change").then_some(CONFLICT)
        })
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        answer_refused(call, answer, memo)
    }
}

/// MIS_8.
pub struct NotFound;

impl Fault for NotFound {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        fail_collections(call, |call, c: &Element| {
            let id = text_of(c, "CollectionId");
            let folder_type = call
                .ctx
                .store
                .with_mailbox(call.ctx.user, |m| m.folder(&id).map(|f| f.folder_type));
            folder_type
                .is_some_and(|t| NOT_FOUND_TYPES.contains(&t))
                .then_some(OBJECT_NOT_FOUND)
        })
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        add_failed_collections(call, answer, memo)
    }
}

/// MIS_9.
pub struct OverQuota;

impl Fault for OverQuota {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        if is_send(call.command) {
            let v = call.ctx.version;
            let why = "the mailbox is over its quota (MIS_9)";
            return Before::Answer(
                command_failure(v, call.command, 507, MAILBOX_QUOTA_EXCEEDED, why).into(),
            );
        }
        refuse_commands(call, |_, _, command| {
            matches!(command.name.as_str(), "Add" | "Change").then_some(OUT_OF_SPACE)
        })
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        answer_refused(call, answer, memo)
    }
}
