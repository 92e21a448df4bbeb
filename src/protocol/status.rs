//! Status code tables, so a report can say `Status 4 (ProtocolError)`
//! rather than a bare number.
//!
//! Each command defines its own `Status` values; on top of those, MS-ASCMD
//! 2.2.2 "Common Status Codes" defines 101-184, which any command may
//! return from protocol 14.0 on (2.5-12.1 servers signal the same failures
//! with HTTP 4xx/5xx instead). [`lookup`] therefore falls back to the
//! common table for a code in 101..=184 that the command's own table lacks;
//! it takes no version, so callers judging a pre-14.0 exchange should treat
//! a common code as itself a finding.
//!
//! Sources (facts only; names and wording are ours):
//! - Sync, FolderSync, Ping: MS-ASCMD 2.2.3.177.17, .177.5 and the Ping
//!   status section, as extracted from the MS-ASCMD requirement spec v26.3
//!   (rows R4420, R4071, R4231).
//! - FolderCreate, FolderDelete, FolderUpdate: MS-ASCMD 2.2.3.177.3, .177.4
//!   and .177.6, from the same requirement spec (rows R4008-R5797,
//!   R4042-R5800, R4097-R5806), checked against the current published
//!   sections. The spec's cause for FolderDelete's 10 says "FolderCreate";
//!   read as FolderDelete.
//! - Provision and Policy: MS-ASPROV 2.2.2.54.1 and 3.1.5.2 (requirement
//!   spec v21.1). Provision's 139, 141 and 145 reuse the common names.
//! - Common codes: MS-ASCMD 2.2.2, names as the requirement spec spells
//!   them, with its two typos fixed: 155 is printed "oveCommand..." (the
//!   M dropped) and 118 "Message PreviouslySent" (a stray space).
//!
//! GetItemEstimate and MoveItems have tables of their own in MS-ASCMD, but
//! only partial copies could be checked, so they are left out rather than
//! guessed; their codes resolve through the common table only.

use std::fmt;

use super::Command;

/// Which table a status code is read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusScope {
    /// `Status` in a Sync response (collection, item or top level).
    Sync,
    /// `Status` in a FolderSync response.
    FolderSync,
    /// `Status` in a FolderCreate response.
    FolderCreate,
    /// `Status` in a FolderDelete response.
    FolderDelete,
    /// `Status` in a FolderUpdate response.
    FolderUpdate,
    /// `Status` in a Ping response.
    Ping,
    /// The top-level `Status` of a Provision response.
    Provision,
    /// `Status` inside a Provision response's `Policy` element.
    ProvisionPolicy,
    /// Only the common codes 101-184.
    Common,
}

impl StatusScope {
    /// Every scope.
    pub const ALL: [StatusScope; 9] = [
        StatusScope::Sync,
        StatusScope::FolderSync,
        StatusScope::FolderCreate,
        StatusScope::FolderDelete,
        StatusScope::FolderUpdate,
        StatusScope::Ping,
        StatusScope::Provision,
        StatusScope::ProvisionPolicy,
        StatusScope::Common,
    ];

    /// The scope's name as used in messages.
    pub const fn name(self) -> &'static str {
        match self {
            StatusScope::Sync => "Sync",
            StatusScope::FolderSync => "FolderSync",
            StatusScope::FolderCreate => "FolderCreate",
            StatusScope::FolderDelete => "FolderDelete",
            StatusScope::FolderUpdate => "FolderUpdate",
            StatusScope::Ping => "Ping",
            StatusScope::Provision => "Provision",
            StatusScope::ProvisionPolicy => "Provision Policy",
            StatusScope::Common => "common",
        }
    }

    /// The scope of a command's top-level `Status`, or [`StatusScope::Common`]
    /// for commands without a table here.
    pub const fn for_command(command: Command) -> StatusScope {
        match command {
            Command::Sync => StatusScope::Sync,
            Command::FolderSync => StatusScope::FolderSync,
            Command::FolderCreate => StatusScope::FolderCreate,
            Command::FolderDelete => StatusScope::FolderDelete,
            Command::FolderUpdate => StatusScope::FolderUpdate,
            Command::Ping => StatusScope::Ping,
            Command::Provision => StatusScope::Provision,
            _ => StatusScope::Common,
        }
    }

    /// The scope's own table (without the common fallback).
    pub const fn table(self) -> &'static [StatusInfo] {
        match self {
            StatusScope::Sync => SYNC,
            StatusScope::FolderSync => FOLDER_SYNC,
            StatusScope::FolderCreate => FOLDER_CREATE,
            StatusScope::FolderDelete => FOLDER_DELETE,
            StatusScope::FolderUpdate => FOLDER_UPDATE,
            StatusScope::Ping => PING,
            StatusScope::Provision => PROVISION,
            StatusScope::ProvisionPolicy => PROVISION_POLICY,
            StatusScope::Common => COMMON,
        }
    }
}

impl fmt::Display for StatusScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// One status value: its number, a CamelCase name, what it means and, where
/// the spec gives one, what the client should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusInfo {
    /// The value of the `Status` element.
    pub code: u32,
    /// A CamelCase name (the spec's own for common codes).
    pub name: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// What the client is expected to do, if the spec says.
    pub resolution: Option<&'static str>,
}

/// The range of the common status codes.
pub const COMMON_RANGE: std::ops::RangeInclusive<u32> = 101..=184;

/// The entry for `code` in `scope`, falling back to the common table for
/// 101..=184 (see the module docs).
pub fn lookup(scope: StatusScope, code: u32) -> Option<&'static StatusInfo> {
    find(scope.table(), code).or_else(|| {
        if COMMON_RANGE.contains(&code) {
            find(COMMON, code)
        } else {
            None
        }
    })
}

/// A printable status: `Status 4 (ProtocolError)`, or
/// `Status 99 (unknown Sync status)` when no table knows the code.
pub fn describe(scope: StatusScope, code: u32) -> StatusName {
    StatusName {
        scope,
        code,
        info: lookup(scope, code),
    }
}

/// A status code with what [`lookup`] found for it; see [`describe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusName {
    /// The scope it was looked up in.
    pub scope: StatusScope,
    /// The code.
    pub code: u32,
    /// The entry, if known.
    pub info: Option<&'static StatusInfo>,
}

impl fmt::Display for StatusName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.info {
            Some(info) => write!(f, "Status {} ({})", self.code, info.name),
            None => write!(f, "Status {} (unknown {} status)", self.code, self.scope),
        }
    }
}

fn find(table: &'static [StatusInfo], code: u32) -> Option<&'static StatusInfo> {
    table.iter().find(|s| s.code == code)
}

const fn s(
    code: u32,
    name: &'static str,
    meaning: &'static str,
    resolution: Option<&'static str>,
) -> StatusInfo {
    StatusInfo {
        code,
        name,
        meaning,
        resolution,
    }
}

const SUCCESS: &str = "The server completed the command.";
const TRANSIENT: &str =
    "Server misconfiguration, a temporary server problem or a bad item; often transient.";

static SYNC: &[StatusInfo] = &[
    s(1, "Success", SUCCESS, None),
    s(
        3,
        "InvalidSyncKey",
        "The synchronization key is invalid or mismatched, or the server's sync state is corrupt.",
        Some("Return to SyncKey 0 for the collection and resynchronize."),
    ),
    s(
        4,
        "ProtocolError",
        "The request is semantically wrong or does not follow the spec.",
        Some("Check the request against the spec and retry."),
    ),
    s(
        5,
        "ServerError",
        TRANSIENT,
        Some("Retry; if it persists, consider SyncKey 0."),
    ),
    s(
        6,
        "ConversionError",
        "The client sent an item the server cannot convert (malformed or invalid).",
        Some("Stop sending that item; the error is not transient."),
    ),
    s(
        7,
        "Conflict",
        "The client changed an item the server also changed, and the server's version wins.",
        Some("Tell the user the change was overwritten."),
    ),
    s(
        8,
        "ObjectNotFound",
        "A Fetch or Change names an item that no longer exists on the server.",
        Some("Sync again and drop the item locally."),
    ),
    s(
        9,
        "CannotComplete",
        "The Sync command cannot be completed; the account may be out of disk space.",
        Some("Free mailbox space and retry."),
    ),
    s(
        12,
        "FolderHierarchyChanged",
        "The folder hierarchy changed; the client's folders are out of date.",
        Some("Run FolderSync, then retry the Sync."),
    ),
    s(
        13,
        "IncompleteRequest",
        "An empty or partial Sync arrived and the server has no cached full request to complete it.",
        Some("Send a full Sync request."),
    ),
    s(
        14,
        "InvalidWaitOrHeartbeatInterval",
        "Wait or HeartbeatInterval is outside the server's range; Limit gives the allowed bound.",
        Some("Adjust the interval to Limit and resend."),
    ),
    s(
        15,
        "InvalidSyncCommand",
        "The Sync request names more collections than the server allows.",
        Some("Sync fewer folders per request."),
    ),
    s(
        16,
        "Retry",
        "A retriable server-side problem occurred.",
        Some("Resend the request."),
    ),
];

static FOLDER_SYNC: &[StatusInfo] = &[
    s(1, "Success", SUCCESS, None),
    s(
        6,
        "ServerError",
        TRANSIENT,
        Some("Retry; if it persists, consider SyncKey 0."),
    ),
    s(
        9,
        "InvalidSyncKey",
        "The synchronization key is invalid or mismatched, or the server's sync state is corrupt.",
        Some("Drop local hierarchy changes and return to SyncKey 0."),
    ),
    s(
        10,
        "IncorrectlyFormattedRequest",
        "The FolderSync request has a syntactic or semantic error.",
        Some("Check the request against the spec."),
    ),
    s(11, "UnknownError", TRANSIENT, Some("Retry.")),
    s(12, "CodeUnknown", "An unusual back-end problem.", None),
];

static FOLDER_CREATE: &[StatusInfo] = &[
    s(1, "Success", SUCCESS, None),
    s(
        2,
        "FolderExists",
        "The parent folder already holds a folder of that name.",
        Some("Pick a unique name."),
    ),
    s(
        3,
        "SpecialParentFolder",
        "The parent is a special system folder: the recipient information cache.",
        Some("Create the folder under another parent."),
    ),
    s(
        5,
        "ParentNotFound",
        "The parent folder does not exist on the server (deleted or renamed, perhaps).",
        Some("Run FolderSync for the new hierarchy and pick a new parent."),
    ),
    s(
        6,
        "ServerError",
        TRANSIENT,
        Some("Retry; if it persists, consider FolderSync key 0."),
    ),
    s(
        9,
        "InvalidSyncKey",
        "The FolderSync key is malformed or mismatched, or the server's sync state is corrupt.",
        Some("Drop folders added since the last sync and return to FolderSync key 0."),
    ),
    s(
        10,
        "MalformedRequest",
        "The request has a semantic error, or asks to create a default folder (Inbox, Outbox, Contacts...).",
        Some("Check the request against the spec."),
    ),
    s(11, "UnknownError", "An unknown error occurred.", None),
    s(12, "CodeUnknown", "An unusual back-end problem.", None),
];

static FOLDER_DELETE: &[StatusInfo] = &[
    s(1, "Success", SUCCESS, None),
    s(
        3,
        "SpecialFolder",
        "The folder is a special system folder (Inbox, Outbox, Contacts, Drafts, recipient information cache...), which the client cannot delete.",
        None,
    ),
    s(
        4,
        "FolderNotFound",
        "The folder does not exist.",
        Some("Run FolderSync for the new hierarchy."),
    ),
    s(
        6,
        "ServerError",
        TRANSIENT,
        Some("Retry; if it persists, consider FolderSync key 0."),
    ),
    s(
        9,
        "InvalidSyncKey",
        "The FolderSync key is malformed or mismatched, or the server's sync state is corrupt.",
        Some("Run FolderSync with key 0."),
    ),
    s(
        10,
        "IncorrectlyFormattedRequest",
        "The FolderDelete request has a syntactic or semantic error.",
        Some("Check the request against the spec."),
    ),
    s(
        11,
        "UnknownError",
        "An unknown error occurred: an unusual back-end problem.",
        None,
    ),
];

static FOLDER_UPDATE: &[StatusInfo] = &[
    s(1, "Success", SUCCESS, None),
    s(
        2,
        "FolderExistsOrSpecialFolder",
        "The parent already holds a folder of that name, or the folder is a special folder (Inbox, Outbox, Contacts, Drafts...), which cannot be updated.",
        None,
    ),
    s(
        3,
        "RecipientInformationFolder",
        "The folder is the recipient information cache, which the client cannot update.",
        None,
    ),
    s(
        4,
        "FolderNotFound",
        "The folder does not exist.",
        Some("Run FolderSync for the new hierarchy."),
    ),
    s(
        5,
        "ParentNotFound",
        "The parent folder does not exist.",
        Some("Run FolderSync for the new hierarchy."),
    ),
    s(
        6,
        "ServerError",
        TRANSIENT,
        Some("Retry; if it persists, consider FolderSync key 0."),
    ),
    s(
        9,
        "InvalidSyncKey",
        "The FolderSync key is malformed or mismatched, or the server's sync state is corrupt.",
        Some("Run FolderSync with key 0."),
    ),
    s(
        10,
        "IncorrectlyFormattedRequest",
        "The FolderUpdate request has a semantic error.",
        Some("Check the request against the spec."),
    ),
    s(
        11,
        "UnknownError",
        "An unknown error occurred: an unusual back-end problem.",
        None,
    ),
];

static PING: &[StatusInfo] = &[
    s(
        1,
        "HeartbeatExpired",
        "The heartbeat interval ended with no changes in the monitored folders.",
        Some("Ping again."),
    ),
    s(
        2,
        "ChangesOccurred",
        "At least one monitored folder changed; the response lists them.",
        Some("Sync the listed folders."),
    ),
    s(
        3,
        "MissingParameters",
        "The Ping lacks required parameters (heartbeat interval and folder list must be sent at least once).",
        Some("Send a full Ping request."),
    ),
    s(
        4,
        "SyntaxError",
        "The Ping request has a syntax error, often badly formed WBXML.",
        Some("Check the request against the spec."),
    ),
    s(
        5,
        "InvalidHeartbeatInterval",
        "The heartbeat interval is out of range; the response gives the nearest allowed value.",
        Some("Use the returned interval."),
    ),
    s(
        6,
        "TooManyFolders",
        "More folders than the server monitors; the response gives MaxFolders.",
        Some("Monitor at most MaxFolders folders."),
    ),
    s(
        7,
        "FolderSyncRequired",
        "The folder hierarchy is out of date.",
        Some("Run FolderSync, then Ping again."),
    ),
    s(8, "ServerError", TRANSIENT, Some("Retry.")),
];

static PROVISION: &[StatusInfo] = &[
    s(
        1,
        "Success",
        "The Policies element holds the policy information.",
        None,
    ),
    s(
        2,
        "ProtocolError",
        "The Provision request has a syntax error.",
        Some("Check the request against the spec."),
    ),
    s(3, "ServerError", TRANSIENT, Some("Retry.")),
    s(
        139,
        "DeviceNotFullyProvisionable",
        "The client acknowledged with partial compliance (Policy Status 2) and the server rejects partially compliant clients.",
        None,
    ),
    s(
        141,
        "LegacyDeviceOnStrictPolicy",
        "The device is not provisionable: it sent no policy key and the server requires one.",
        None,
    ),
    s(
        145,
        "ExternallyManagedDevicesNotAllowed",
        "The client claims external management (Policy Status 4) and the server does not allow it.",
        None,
    ),
];

static PROVISION_POLICY: &[StatusInfo] = &[
    s(1, "Success", "The requested policy data is included.", None),
    s(2, "NoPolicy", "There is no policy for this client.", None),
    s(
        3,
        "UnknownPolicyType",
        "The PolicyType value is not one the server knows.",
        Some("Request a supported PolicyType (MS-EAS-Provisioning-WBXML)."),
    ),
    s(
        4,
        "PolicyDataCorrupted",
        "The policy data on the server is corrupted (possibly tampered with).",
        None,
    ),
    s(
        5,
        "WrongPolicyKey",
        "The client acknowledged a policy key that is out of date or invalid.",
        Some("Restart provisioning with an initial Provision request."),
    ),
];

const REPROVISION: Option<&str> = Some("Send a Provision request to get the current policy.");

static COMMON: &[StatusInfo] = &[
    s(
        101,
        "InvalidContent",
        "The request body is not what the content type or command expects.",
        None,
    ),
    s(
        102,
        "InvalidWBXML",
        "The request body is not well-formed WBXML.",
        None,
    ),
    s(
        103,
        "InvalidXML",
        "The request's XML does not match the command's schema.",
        None,
    ),
    s(
        104,
        "InvalidDateTime",
        "A date-time value in the request is invalid.",
        None,
    ),
    s(
        105,
        "InvalidCombinationOfIDs",
        "The request combines IDs that may not be used together.",
        None,
    ),
    s(
        106,
        "InvalidIDs",
        "One or more IDs in the request are invalid.",
        None,
    ),
    s(
        107,
        "InvalidMIME",
        "The MIME content of the request is invalid.",
        None,
    ),
    s(
        108,
        "DeviceIdMissingOrInvalid",
        "The DeviceId is missing or invalid.",
        None,
    ),
    s(
        109,
        "DeviceTypeMissingOrInvalid",
        "The DeviceType is missing or invalid.",
        None,
    ),
    s(
        110,
        "ServerError",
        "The server failed to process the request.",
        None,
    ),
    s(
        111,
        "ServerErrorRetryLater",
        "The server failed temporarily.",
        Some("Retry later."),
    ),
    s(
        112,
        "ActiveDirectoryAccessDenied",
        "The server could not access the directory on the user's behalf.",
        None,
    ),
    s(
        113,
        "MailboxQuotaExceeded",
        "The mailbox is over its quota.",
        None,
    ),
    s(
        114,
        "MailboxServerOffline",
        "The mailbox server is offline.",
        None,
    ),
    s(
        115,
        "SendQuotaExceeded",
        "The user's send quota is exceeded.",
        None,
    ),
    s(
        116,
        "MessageRecipientUnresolved",
        "A recipient could not be resolved.",
        None,
    ),
    s(
        117,
        "MessageReplyNotAllowed",
        "Replying to this message is not allowed.",
        None,
    ),
    s(
        118,
        "MessagePreviouslySent",
        "A message with this ClientId was already sent.",
        None,
    ),
    s(
        119,
        "MessageHasNoRecipient",
        "The message has no recipient.",
        None,
    ),
    s(
        120,
        "MailSubmissionFailed",
        "The message could not be submitted for delivery.",
        None,
    ),
    s(
        121,
        "MessageReplyFailed",
        "The reply could not be created.",
        None,
    ),
    s(
        122,
        "AttachmentIsTooLarge",
        "An attachment is too large.",
        None,
    ),
    s(123, "UserHasNoMailbox", "The user has no mailbox.", None),
    s(
        124,
        "UserCannotBeAnonymous",
        "The request must be authenticated.",
        None,
    ),
    s(
        125,
        "UserPrincipalCouldNotBeFound",
        "The user could not be found in the directory.",
        None,
    ),
    s(
        126,
        "UserDisabledForSync",
        "ActiveSync is disabled for this user.",
        None,
    ),
    s(
        127,
        "UserOnNewMailboxCannotSync",
        "The user's mailbox is on a newer server this server cannot sync.",
        None,
    ),
    s(
        128,
        "UserOnLegacyMailboxCannotSync",
        "The user's mailbox is on an older server this server cannot sync.",
        None,
    ),
    s(
        129,
        "DeviceIsBlockedForThisUser",
        "This device is blocked for this user.",
        None,
    ),
    s(130, "AccessDenied", "Access is denied.", None),
    s(131, "AccountDisabled", "The account is disabled.", None),
    s(
        132,
        "SyncStateNotFound",
        "The server has no sync state for this request.",
        None,
    ),
    s(
        133,
        "SyncStateLocked",
        "The sync state is locked by another request.",
        Some("Retry later."),
    ),
    s(134, "SyncStateCorrupt", "The sync state is corrupt.", None),
    s(
        135,
        "SyncStateAlreadyExists",
        "The sync state already exists.",
        None,
    ),
    s(
        136,
        "SyncStateVersionInvalid",
        "The sync state has an invalid version.",
        None,
    ),
    s(
        137,
        "CommandNotSupported",
        "The server does not support the command.",
        None,
    ),
    s(
        138,
        "VersionNotSupported",
        "The server does not support the protocol version.",
        None,
    ),
    s(
        139,
        "DeviceNotFullyProvisionable",
        "The device cannot fully apply the policy and the server requires it to.",
        None,
    ),
    s(
        140,
        "RemoteWipeRequested",
        "An administrator requested a remote wipe.",
        REPROVISION,
    ),
    s(
        141,
        "LegacyDeviceOnStrictPolicy",
        "The device cannot be provisioned under the server's policy.",
        None,
    ),
    s(
        142,
        "DeviceNotProvisioned",
        "The device is not provisioned.",
        REPROVISION,
    ),
    s(
        143,
        "PolicyRefresh",
        "The policy changed since the device was provisioned.",
        REPROVISION,
    ),
    s(
        144,
        "InvalidPolicyKey",
        "The policy key sent is not the current one.",
        REPROVISION,
    ),
    s(
        145,
        "ExternallyManagedDevicesNotAllowed",
        "Externally managed devices are not allowed.",
        None,
    ),
    s(
        146,
        "NoRecurrenceInCalendar",
        "The calendar item has no recurrence.",
        None,
    ),
    s(
        147,
        "UnexpectedItemClass",
        "The item class is not the one the request or folder expects.",
        None,
    ),
    s(
        148,
        "RemoteServerHasNoSSL",
        "The remote server has no SSL.",
        None,
    ),
    s(
        149,
        "InvalidStoredRequest",
        "The cached request the server stored is invalid.",
        Some("Send a full request."),
    ),
    s(150, "ItemNotFound", "The item was not found.", None),
    s(
        151,
        "TooManyFolders",
        "The mailbox has too many folders.",
        None,
    ),
    s(152, "NoFoldersFound", "No folders were found.", None),
    s(
        153,
        "ItemsLostAfterMove",
        "Items were lost after a move.",
        None,
    ),
    s(
        154,
        "FailureInMoveOperation",
        "The move operation failed.",
        None,
    ),
    s(
        155,
        "MoveCommandDisallowedForNonPersistentMoveAction",
        "Move is not allowed for a non-persistent move action.",
        None,
    ),
    s(
        156,
        "MoveCommandInvalidDestinationFolder",
        "The move destination folder is invalid.",
        None,
    ),
    s(
        160,
        "AvailabilityTooManyRecipients",
        "Free/busy was requested for too many recipients.",
        None,
    ),
    s(
        161,
        "AvailabilityDLLimitReached",
        "A distribution list is too large for a free/busy lookup.",
        None,
    ),
    s(
        162,
        "AvailabilityTransientFailure",
        "The free/busy lookup failed temporarily.",
        Some("Retry later."),
    ),
    s(
        163,
        "AvailabilityFailure",
        "The free/busy lookup failed.",
        None,
    ),
    s(
        164,
        "BodyPartPreferenceTypeNotSupported",
        "The BodyPartPreference type is not supported.",
        None,
    ),
    s(
        165,
        "DeviceInformationRequired",
        "The request must include device information.",
        None,
    ),
    s(166, "InvalidAccountId", "The AccountId is invalid.", None),
    s(
        167,
        "AccountSendDisabled",
        "Sending is disabled for the account.",
        None,
    ),
    s(
        168,
        "IRM_FeatureDisabled",
        "Information Rights Management is disabled.",
        None,
    ),
    s(
        169,
        "IRM_TransientError",
        "A temporary Information Rights Management error.",
        Some("Retry later."),
    ),
    s(
        170,
        "IRM_PermanentError",
        "A permanent Information Rights Management error.",
        None,
    ),
    s(
        171,
        "IRM_InvalidTemplateID",
        "The rights-management template ID is invalid.",
        None,
    ),
    s(
        172,
        "IRM_OperationNotPermitted",
        "The rights-management template does not permit the operation.",
        None,
    ),
    s(173, "NoPicture", "The contact has no picture.", None),
    s(
        174,
        "PictureTooLarge",
        "The picture is larger than requested.",
        None,
    ),
    s(
        175,
        "PictureLimitReached",
        "More pictures than requested.",
        None,
    ),
    s(
        176,
        "BodyPart_ConversationTooLarge",
        "The conversation is too large for a body part.",
        None,
    ),
    s(
        177,
        "MaximumDevicesReached",
        "The user has reached the maximum number of devices.",
        None,
    ),
    s(
        178,
        "InvalidMimeBodyCombination",
        "The MIME and body elements of the request do not fit together.",
        None,
    ),
    s(
        179,
        "InvalidSmartForwardParameters",
        "The SmartForward parameters are invalid.",
        None,
    ),
    s(
        183,
        "InvalidRecipients",
        "One or more recipients are invalid.",
        None,
    ),
    s(
        184,
        "OneOrMoreExceptionsFailed",
        "One or more exceptions of a recurring item failed.",
        None,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tables_hold_exactly_the_spec_codes() {
        let codes =
            |scope: StatusScope| -> Vec<u32> { scope.table().iter().map(|s| s.code).collect() };
        assert_eq!(
            codes(StatusScope::Sync),
            [1, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16]
        );
        assert_eq!(codes(StatusScope::FolderSync), [1, 6, 9, 10, 11, 12]);
        assert_eq!(
            codes(StatusScope::FolderCreate),
            [1, 2, 3, 5, 6, 9, 10, 11, 12]
        );
        assert_eq!(codes(StatusScope::FolderDelete), [1, 3, 4, 6, 9, 10, 11]);
        assert_eq!(
            codes(StatusScope::FolderUpdate),
            [1, 2, 3, 4, 5, 6, 9, 10, 11]
        );
        assert_eq!(codes(StatusScope::Ping), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(codes(StatusScope::Provision), [1, 2, 3, 139, 141, 145]);
        assert_eq!(codes(StatusScope::ProvisionPolicy), [1, 2, 3, 4, 5]);
        let common: Vec<u32> = (101..=156).chain(160..=179).chain(183..=184).collect();
        assert_eq!(codes(StatusScope::Common), common);
    }

    #[test]
    fn every_entry_is_found_by_lookup_and_well_formed() {
        for scope in StatusScope::ALL {
            let mut seen = HashSet::new();
            for info in scope.table() {
                assert!(seen.insert(info.code), "{scope}: duplicate {}", info.code);
                assert_eq!(lookup(scope, info.code), Some(info));
                assert!(
                    !info.name.is_empty() && !info.name.contains(' '),
                    "{}",
                    info.name
                );
                assert!(info.name.starts_with(|c: char| c.is_ascii_uppercase()));
                assert!(!info.meaning.is_empty());
            }
        }
    }

    #[test]
    fn common_names_match_the_spec_spelling() {
        let name = |code| lookup(StatusScope::Common, code).map(|s| s.name);
        assert_eq!(name(142), Some("DeviceNotProvisioned"));
        assert_eq!(name(144), Some("InvalidPolicyKey"));
        assert_eq!(name(118), Some("MessagePreviouslySent"));
        assert_eq!(
            name(155),
            Some("MoveCommandDisallowedForNonPersistentMoveAction")
        );
        assert_eq!(name(168), Some("IRM_FeatureDisabled"));
        assert_eq!(name(157), None);
        assert_eq!(name(180), None);
        assert_eq!(name(1), None);
    }

    #[test]
    fn describe_formats() {
        assert_eq!(
            describe(StatusScope::Sync, 4).to_string(),
            "Status 4 (ProtocolError)"
        );
        assert_eq!(
            describe(StatusScope::Sync, 99).to_string(),
            "Status 99 (unknown Sync status)"
        );
        assert_eq!(
            describe(StatusScope::ProvisionPolicy, 9).to_string(),
            "Status 9 (unknown Provision Policy status)"
        );
        assert_eq!(
            describe(StatusScope::Common, 2).to_string(),
            "Status 2 (unknown common status)"
        );
        assert_eq!(
            describe(StatusScope::Ping, 2).to_string(),
            "Status 2 (ChangesOccurred)"
        );
        assert_eq!(
            describe(StatusScope::FolderDelete, 3).to_string(),
            "Status 3 (SpecialFolder)"
        );
        assert_eq!(
            describe(StatusScope::FolderUpdate, 12).to_string(),
            "Status 12 (unknown FolderUpdate status)"
        );
    }

    #[test]
    fn common_codes_fall_back_but_own_codes_win() {
        let info = lookup(StatusScope::Sync, 142).unwrap();
        assert_eq!(info.name, "DeviceNotProvisioned");
        assert_eq!(
            describe(StatusScope::Sync, 142).to_string(),
            "Status 142 (DeviceNotProvisioned)"
        );
        assert_eq!(
            lookup(StatusScope::FolderSync, 144).unwrap().name,
            "InvalidPolicyKey"
        );
        // Provision's own 141 has its own meaning, not the common one.
        let own = lookup(StatusScope::Provision, 141).unwrap();
        assert!(std::ptr::eq(own, &PROVISION[4]));
        assert!(!std::ptr::eq(
            own,
            lookup(StatusScope::Common, 141).unwrap()
        ));
        // Gaps and out-of-range codes do not fall back.
        assert_eq!(lookup(StatusScope::Sync, 158), None);
        assert_eq!(lookup(StatusScope::Sync, 185), None);
        assert_eq!(lookup(StatusScope::Sync, 2), None);
        assert_eq!(lookup(StatusScope::Ping, 100), None);
    }

    #[test]
    fn scope_for_command() {
        assert_eq!(StatusScope::for_command(Command::Sync), StatusScope::Sync);
        assert_eq!(
            StatusScope::for_command(Command::Provision),
            StatusScope::Provision
        );
        assert_eq!(
            StatusScope::for_command(Command::FolderCreate),
            StatusScope::FolderCreate
        );
        assert_eq!(
            StatusScope::for_command(Command::FolderDelete),
            StatusScope::FolderDelete
        );
        assert_eq!(
            StatusScope::for_command(Command::FolderUpdate),
            StatusScope::FolderUpdate
        );
        assert_eq!(
            StatusScope::for_command(Command::MoveItems),
            StatusScope::Common
        );
    }
}
