//! The MS-ASCMD commands a client sends to the EAS URL (`Cmd=` in the
//! request line), with what the harness needs to know about each one: its
//! name, its one-byte code in the base64 query form, the protocol versions
//! that define it, and what kind of request body it carries.
//!
//! Sources (facts only; the tables below are ours):
//! - Command codes: MS-ASHTTP 2.2.1.1.1.1.2 "Command Codes", which lists
//!   0-4 and 9-22. It gives **no** code to GetHierarchy or Find, so
//!   [`Command::code`] returns `None` for them (see the note on
//!   [`Command::GetHierarchy`]).
//! - Versions: the "Protocol Versions" table of each command (or of its
//!   top-level element) in MS-ASCMD: GetAttachment 2.5-12.1 (2.2.1.7),
//!   GetHierarchy 2.5-12.1 (Folders/Folder (GetHierarchy) elements),
//!   ItemOperations 12.0+ (2.2.3.94), Settings 12.0+ (2.2.3.168.2),
//!   FolderCreate and ValidateCert all versions; Find 16.1 only (MS-ASCMD
//!   requirement spec rows R10032015-R10032019). Commands not named here
//!   exist in every version from 2.5 to 16.1.
//! - Autodiscover is left out on purpose: it is plain XML sent to
//!   `autodiscover/autodiscover.xml`, not a command on the EAS URL.

use std::fmt;
use std::str::FromStr;

use super::{ProtocolVersion, VersionSet};

/// An ActiveSync command, named as in `Cmd=<Name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    /// Synchronizes the items of one or more folders.
    Sync,
    /// Sends a new message.
    SendMail,
    /// Forwards a message without downloading it first.
    SmartForward,
    /// Replies to a message without downloading it first.
    SmartReply,
    /// Fetches an attachment by name (2.5-12.1; ItemOperations replaces it).
    GetAttachment,
    /// Lists the folder hierarchy (2.5-12.1; FolderSync replaces it).
    ///
    /// MS-ASHTTP's code table has a gap at 5-8, and the OPTIONS example in
    /// MS-ASHTTP lists `GetHierarchy` right after `GetAttachment` (4), so 5
    /// is a likely historical code; no current source states it, and the
    /// Interop test suites and Z-Push give it none, so we give it none.
    GetHierarchy,
    /// Synchronizes the folder hierarchy.
    FolderSync,
    /// Creates a folder.
    FolderCreate,
    /// Deletes a folder.
    FolderDelete,
    /// Renames or moves a folder.
    FolderUpdate,
    /// Moves items between folders.
    MoveItems,
    /// Estimates how many items a Sync would return.
    GetItemEstimate,
    /// Accepts, tentatively accepts or declines a meeting request.
    MeetingResponse,
    /// Searches the GAL, the mailbox or a document library.
    Search,
    /// Gets and sets account settings (OOF, device information, ...).
    Settings,
    /// Long-polls for changes in a set of folders.
    Ping,
    /// Fetches, moves or empties items and attachments.
    ItemOperations,
    /// Downloads and acknowledges the security policy.
    Provision,
    /// Resolves recipients, optionally with certificates and free/busy.
    ResolveRecipients,
    /// Validates S/MIME certificates.
    ValidateCert,
    /// Searches the mailbox or the GAL with KQL (16.1 only).
    Find,
}

/// What a command's HTTP POST body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestBody {
    /// No body: everything travels in the query (GetAttachment).
    None,
    /// A WBXML document that must be present.
    Wbxml,
    /// A WBXML document that may be left out: an empty Sync or Ping asks the
    /// server to reuse the request it cached from the last full one.
    OptionalWbxml,
    /// A raw MIME message (`Content-Type: message/rfc822`): SendMail,
    /// SmartForward and SmartReply before 14.0, whose WBXML form needs the
    /// ComposeMail code page that only 14.0 introduced.
    Mime,
}

impl Command {
    /// Every command, in command-code order (uncoded ones where their
    /// functions sit in the protocol's history, Find last).
    pub const ALL: [Command; 21] = [
        Command::Sync,
        Command::SendMail,
        Command::SmartForward,
        Command::SmartReply,
        Command::GetAttachment,
        Command::GetHierarchy,
        Command::FolderSync,
        Command::FolderCreate,
        Command::FolderDelete,
        Command::FolderUpdate,
        Command::MoveItems,
        Command::GetItemEstimate,
        Command::MeetingResponse,
        Command::Search,
        Command::Settings,
        Command::Ping,
        Command::ItemOperations,
        Command::Provision,
        Command::ResolveRecipients,
        Command::ValidateCert,
        Command::Find,
    ];

    /// The `Cmd=` value, spelt as servers expect it (case matters).
    pub const fn name(self) -> &'static str {
        match self {
            Command::Sync => "Sync",
            Command::SendMail => "SendMail",
            Command::SmartForward => "SmartForward",
            Command::SmartReply => "SmartReply",
            Command::GetAttachment => "GetAttachment",
            Command::GetHierarchy => "GetHierarchy",
            Command::FolderSync => "FolderSync",
            Command::FolderCreate => "FolderCreate",
            Command::FolderDelete => "FolderDelete",
            Command::FolderUpdate => "FolderUpdate",
            Command::MoveItems => "MoveItems",
            Command::GetItemEstimate => "GetItemEstimate",
            Command::MeetingResponse => "MeetingResponse",
            Command::Search => "Search",
            Command::Settings => "Settings",
            Command::Ping => "Ping",
            Command::ItemOperations => "ItemOperations",
            Command::Provision => "Provision",
            Command::ResolveRecipients => "ResolveRecipients",
            Command::ValidateCert => "ValidateCert",
            Command::Find => "Find",
        }
    }

    /// The command code of the base64 query form (MS-ASHTTP
    /// 2.2.1.1.1.1.2), or `None` for the commands that table leaves out
    /// (GetHierarchy, Find), which can then only be sent in plain form.
    pub const fn code(self) -> Option<u8> {
        match self {
            Command::Sync => Some(0),
            Command::SendMail => Some(1),
            Command::SmartForward => Some(2),
            Command::SmartReply => Some(3),
            Command::GetAttachment => Some(4),
            Command::GetHierarchy => None,
            Command::FolderSync => Some(9),
            Command::FolderCreate => Some(10),
            Command::FolderDelete => Some(11),
            Command::FolderUpdate => Some(12),
            Command::MoveItems => Some(13),
            Command::GetItemEstimate => Some(14),
            Command::MeetingResponse => Some(15),
            Command::Search => Some(16),
            Command::Settings => Some(17),
            Command::Ping => Some(18),
            Command::ItemOperations => Some(19),
            Command::Provision => Some(20),
            Command::ResolveRecipients => Some(21),
            Command::ValidateCert => Some(22),
            Command::Find => None,
        }
    }

    /// The protocol versions that define this command (sources in the
    /// module docs).
    pub const fn versions(self) -> VersionSet {
        use ProtocolVersion as V;
        match self {
            Command::GetAttachment | Command::GetHierarchy => VersionSet::range(V::V2_5, V::V12_1),
            Command::ItemOperations | Command::Settings => VersionSet::since(V::V12_0),
            Command::Find => VersionSet::since(V::V16_1),
            _ => VersionSet::ALL,
        }
    }

    /// Whether `version` defines this command.
    pub const fn is_supported_in(self, version: ProtocolVersion) -> bool {
        self.versions().contains(version)
    }

    /// What the request body carries under `version`.
    pub const fn request_body(self, version: ProtocolVersion) -> RequestBody {
        match self {
            Command::GetAttachment => RequestBody::None,
            Command::Sync | Command::Ping => RequestBody::OptionalWbxml,
            Command::SendMail | Command::SmartForward | Command::SmartReply => {
                if (version as u8) < (ProtocolVersion::V14_0 as u8) {
                    RequestBody::Mime
                } else {
                    RequestBody::Wbxml
                }
            }
            _ => RequestBody::Wbxml,
        }
    }

    /// Whether a server that enforces provisioning expects a policy key
    /// (`X-MS-PolicyKey`, or the base64 form's Policy key field) with this
    /// command. Only Provision goes without: it is how a client gets a key.
    /// (MS-ASPROV: the initial Provision request carries no policy key.)
    pub const fn requires_policy_key(self) -> bool {
        !matches!(self, Command::Provision)
    }

    /// The command named exactly `name` (case-sensitive, as servers are).
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// For a name [`Command::from_name`] rejects, the command it most likely
    /// meant: the one whose name matches ignoring ASCII case. `None` when
    /// the name is exact already or matches nothing.
    pub fn suggest(name: &str) -> Option<Command> {
        if Command::from_name(name).is_some() {
            return None;
        }
        Command::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The command with base64 command code `code`.
    pub fn from_code(code: u8) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.code() == Some(code))
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The error of parsing a [`Command`] from a name: says what was given and,
/// when only the case is off, which command was meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown command `{name}`{}", did_you_mean(*.suggestion))]
pub struct UnknownCommand {
    /// The name as given.
    pub name: String,
    /// The command whose name matches ignoring case, if any.
    pub suggestion: Option<Command>,
}

fn did_you_mean(suggestion: Option<Command>) -> String {
    match suggestion {
        Some(c) => format!(" (did you mean `{c}`? command names are case-sensitive)"),
        None => String::new(),
    }
}

impl UnknownCommand {
    /// The error for `name`, with its suggestion filled in.
    pub fn new(name: &str) -> UnknownCommand {
        UnknownCommand {
            name: name.to_string(),
            suggestion: Command::suggest(name),
        }
    }
}

impl FromStr for Command {
    type Err = UnknownCommand;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Command::from_name(s).ok_or_else(|| UnknownCommand::new(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_match_the_mshttp_table() {
        let mut seen = HashSet::new();
        for c in Command::ALL {
            if let Some(code) = c.code() {
                assert!(seen.insert(code), "duplicate code {code} ({c})");
                assert_eq!(Command::from_code(code), Some(c));
            }
        }
        // MS-ASHTTP 2.2.1.1.1.1.2 lists exactly 0-4 and 9-22.
        let expected: HashSet<u8> = (0..=4).chain(9..=22).collect();
        assert_eq!(seen, expected);
        for gap in [5u8, 6, 7, 8, 23, 24, 255] {
            assert_eq!(Command::from_code(gap), None, "code {gap}");
        }
    }

    #[test]
    fn spot_check_codes() {
        assert_eq!(Command::Sync.code(), Some(0));
        assert_eq!(Command::FolderSync.code(), Some(9));
        assert_eq!(Command::Ping.code(), Some(18));
        assert_eq!(Command::Provision.code(), Some(20));
        assert_eq!(Command::ValidateCert.code(), Some(22));
        assert_eq!(Command::GetHierarchy.code(), None);
        assert_eq!(Command::Find.code(), None);
    }

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for c in Command::ALL {
            assert!(seen.insert(c.name()));
            assert_eq!(Command::from_name(c.name()), Some(c));
            assert_eq!(c.name().parse::<Command>(), Ok(c));
            assert_eq!(c.to_string(), c.name());
        }
        assert_eq!(seen.len(), 21);
    }

    #[test]
    fn names_are_case_sensitive_with_a_suggestion() {
        assert_eq!(Command::from_name("sync"), None);
        assert_eq!(Command::suggest("sync"), Some(Command::Sync));
        assert_eq!(Command::suggest("FOLDERSYNC"), Some(Command::FolderSync));
        assert_eq!(Command::suggest("Sync"), None);
        assert_eq!(Command::suggest("Frobnicate"), None);
        let err = "itemoperations".parse::<Command>().unwrap_err();
        assert_eq!(err.suggestion, Some(Command::ItemOperations));
        assert!(
            err.to_string().contains("did you mean `ItemOperations`"),
            "{err}"
        );
        let err = "Autodiscover".parse::<Command>().unwrap_err();
        assert_eq!(err.to_string(), "unknown command `Autodiscover`");
    }

    #[test]
    fn versions() {
        use ProtocolVersion as V;
        assert_eq!(
            Command::GetAttachment.versions().to_string(),
            "2.5, 12.0, 12.1"
        );
        assert_eq!(
            Command::GetHierarchy.versions(),
            Command::GetAttachment.versions()
        );
        assert!(!Command::GetAttachment.is_supported_in(V::V14_0));
        assert_eq!(Command::Find.versions().to_string(), "16.1");
        assert!(!Command::Find.is_supported_in(V::V16_0));
        assert!(!Command::ItemOperations.is_supported_in(V::V2_5));
        assert!(Command::ItemOperations.is_supported_in(V::V12_0));
        assert!(!Command::Settings.is_supported_in(V::V2_5));
        assert_eq!(Command::Sync.versions(), VersionSet::ALL);
        assert_eq!(Command::FolderCreate.versions(), VersionSet::ALL);
        for c in Command::ALL {
            assert!(!c.versions().is_empty(), "{c}");
        }
    }

    #[test]
    fn bodies_and_policy_keys() {
        use ProtocolVersion as V;
        assert_eq!(
            Command::GetAttachment.request_body(V::V12_1),
            RequestBody::None
        );
        assert_eq!(
            Command::Ping.request_body(V::V14_0),
            RequestBody::OptionalWbxml
        );
        assert_eq!(Command::SendMail.request_body(V::V12_1), RequestBody::Mime);
        assert_eq!(Command::SendMail.request_body(V::V14_0), RequestBody::Wbxml);
        assert_eq!(Command::SmartReply.request_body(V::V2_5), RequestBody::Mime);
        assert_eq!(
            Command::FolderSync.request_body(V::V2_5),
            RequestBody::Wbxml
        );
        assert!(!Command::Provision.requires_policy_key());
        assert!(Command::Sync.requires_policy_key());
        assert_eq!(
            Command::ALL
                .iter()
                .filter(|c| !c.requires_policy_key())
                .count(),
            1
        );
    }
}
