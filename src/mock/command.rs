//! What a command handler gets and gives back, and the table of commands the
//! mock implements.

use crate::protocol::Command;
use crate::wbxml::{Element, EncodeError, ProtocolVersion};

use super::state::{DeviceState, Mailbox, Store};
use super::{folders, foldersync, provision, resolverecipients, settings};

/// The context of one request, after HTTP-level checks passed.
pub struct Ctx<'a> {
    pub version: ProtocolVersion,
    pub user: &'a str,
    pub device_id: &'a str,
    pub store: &'a Store,
}

impl Ctx<'_> {
    /// Runs `f` on this user's mailbox and this device's state.
    pub fn device<T>(
        &self,
        f: impl FnOnce(&mut Mailbox, &mut DeviceState, &mut dyn FnMut() -> u32) -> T,
    ) -> T {
        self.store.with_device(self.user, self.device_id, f)
    }
}

/// A handler's answer.
#[derive(Debug)]
pub enum Reply {
    /// A WBXML body with HTTP 200.
    Wbxml(Vec<u8>),
    /// An HTTP error status with a short reason (for the log and the body).
    Http(u16, String),
}

impl Reply {
    /// The encoded response, or HTTP 500 if the mock built a document its own
    /// codec rejects (a bug in the mock, reported rather than hidden).
    pub fn from_encoded(result: Result<Vec<u8>, EncodeError>) -> Reply {
        match result {
            Ok(bytes) => Reply::Wbxml(bytes),
            Err(e) => Reply::Http(500, format!("mock built an invalid response: {e}")),
        }
    }
}

/// The commands the mock answers today; OPTIONS advertises exactly these.
pub const IMPLEMENTED: &[Command] = &[
    Command::FolderSync,
    Command::Provision,
    Command::FolderCreate,
    Command::FolderDelete,
    Command::FolderUpdate,
    Command::Settings,
    Command::ResolveRecipients,
];

/// Runs the handler of `command`.
pub fn dispatch(command: Command, ctx: &Ctx, request: &Element) -> Reply {
    match command {
        Command::Provision => provision::handle(ctx, request),
        Command::FolderSync => foldersync::handle(ctx, request),
        Command::FolderCreate => folders::create(ctx, request),
        Command::FolderUpdate => folders::update(ctx, request),
        Command::FolderDelete => folders::delete(ctx, request),
        Command::Settings => settings::handle(ctx, request),
        Command::ResolveRecipients => resolverecipients::handle(ctx, request),
        other => Reply::Http(501, format!("the mock does not implement {other} yet")),
    }
}

/// The root element of a command's request and response: its code page and
/// name. A `Status` child of this element carries command-level failures.
pub fn root_of(command: Command) -> Option<(&'static str, &'static str)> {
    Some(match command {
        Command::Sync => ("AirSync", "Sync"),
        Command::FolderSync => ("FolderHierarchy", "FolderSync"),
        Command::FolderCreate => ("FolderHierarchy", "FolderCreate"),
        Command::FolderDelete => ("FolderHierarchy", "FolderDelete"),
        Command::FolderUpdate => ("FolderHierarchy", "FolderUpdate"),
        Command::GetItemEstimate => ("GetItemEstimate", "GetItemEstimate"),
        Command::MoveItems => ("Move", "MoveItems"),
        Command::MeetingResponse => ("MeetingResponse", "MeetingResponse"),
        Command::Search => ("Search", "Search"),
        Command::Settings => ("Settings", "Settings"),
        Command::Ping => ("Ping", "Ping"),
        Command::ItemOperations => ("ItemOperations", "ItemOperations"),
        Command::Provision => ("Provision", "Provision"),
        Command::ResolveRecipients => ("ResolveRecipients", "ResolveRecipients"),
        Command::ValidateCert => ("ValidateCert", "ValidateCert"),
        Command::SendMail => ("ComposeMail", "SendMail"),
        Command::SmartForward => ("ComposeMail", "SmartForward"),
        Command::SmartReply => ("ComposeMail", "SmartReply"),
        Command::Find => ("Find", "Find"),
        Command::GetAttachment | Command::GetHierarchy => return None,
    })
}
