//! What a command handler gets and gives back, and the table of commands the
//! mock implements.

use crate::protocol::{Command, RequestQuery};
use crate::wbxml::{Element, EncodeError, ProtocolVersion};

use super::state::{DeviceState, Mailbox, Store};
use super::{
    find, folders, foldersync, getattachment, getitemestimate, itemoperations, mail,
    meetingresponse, moveitems, ping, provision, resolverecipients, search, settings, sync,
    validatecert,
};

/// The context of one request, after HTTP-level checks passed.
pub struct Ctx<'a> {
    pub version: ProtocolVersion,
    pub user: &'a str,
    pub device_id: &'a str,
    pub store: &'a Store,
    /// The allowed Ping and Sync HeartbeatInterval, in seconds (min, max).
    pub heartbeat_range: (u32, u32),
    /// The request line: command parameters (ItemId, CollectionId,
    /// AttachmentName, SaveInSent...) for the commands that take them.
    pub query: &'a RequestQuery,
    /// The raw request body (after gzip), for the commands whose body is
    /// not WBXML: SendMail, SmartReply, SmartForward in 12.1 (MIME).
    pub body: &'a [u8],
}

#[cfg(test)]
impl<'a> Ctx<'a> {
    /// A context for unit tests: no query parameters, no raw body.
    pub fn for_test(
        store: &'a Store,
        user: &'a str,
        device_id: &'a str,
        version: ProtocolVersion,
    ) -> Ctx<'a> {
        static QUERY: std::sync::OnceLock<RequestQuery> = std::sync::OnceLock::new();
        let query = QUERY.get_or_init(|| {
            RequestQuery::parse("Cmd=Sync&User=test&DeviceId=test&DeviceType=Test")
                .expect("a valid test query")
        });
        Ctx {
            version,
            user,
            device_id,
            store,
            heartbeat_range: (60, 3540),
            query,
            body: &[],
        }
    }
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
    /// A non-WBXML body with HTTP 200 (GetAttachment's attachment content).
    Raw {
        content_type: String,
        bytes: Vec<u8>,
    },
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
    Command::Sync,
    Command::GetItemEstimate,
    Command::Ping,
    Command::ItemOperations,
    Command::MoveItems,
    Command::SendMail,
    Command::SmartReply,
    Command::SmartForward,
    Command::Search,
    Command::MeetingResponse,
    Command::ValidateCert,
    Command::Find,
    Command::GetAttachment,
];

/// Runs the handler of `command`. `request` is the decoded WBXML body;
/// `None` for an empty Sync or Ping body (repeat the cached request) and for
/// commands whose body is not WBXML in this version (see
/// [`Command::request_body`]), which read [`Ctx::body`] and [`Ctx::query`].
pub async fn dispatch(command: Command, ctx: &Ctx<'_>, request: Option<&Element>) -> Reply {
    match command {
        Command::Sync => return sync::handle(ctx, request).await,
        Command::Ping => return ping::handle(ctx, request).await,
        Command::GetAttachment => return getattachment::handle(ctx),
        Command::SendMail | Command::SmartReply | Command::SmartForward => {
            return mail::handle(command, ctx, request);
        }
        _ => {}
    }
    let Some(request) = request else {
        return Reply::Http(400, format!("a {command} request needs a body"));
    };
    match command {
        Command::Provision => provision::handle(ctx, request),
        Command::FolderSync => foldersync::handle(ctx, request),
        Command::FolderCreate => folders::create(ctx, request),
        Command::FolderUpdate => folders::update(ctx, request),
        Command::FolderDelete => folders::delete(ctx, request),
        Command::Settings => settings::handle(ctx, request),
        Command::ResolveRecipients => resolverecipients::handle(ctx, request),
        Command::GetItemEstimate => getitemestimate::handle(ctx, request),
        Command::ItemOperations => itemoperations::handle(ctx, request),
        Command::MoveItems => moveitems::handle(ctx, request),
        Command::Search => search::handle(ctx, request),
        Command::MeetingResponse => meetingresponse::handle(ctx, request),
        Command::ValidateCert => validatecert::handle(ctx, request),
        Command::Find => find::handle(ctx, request),
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
