//! What the referee reports: checks, the findings against them, and the
//! reactions scenarios asked for.

use std::fmt;
use std::time::SystemTime;

use serde::Serialize;

/// How strongly the spec words a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Severity {
    /// MUST / MUST NOT / REQUIRED: a client that breaks it is not
    /// interoperable.
    Must,
    /// SHOULD / SHOULD NOT / RECOMMENDED: works, but costs the server or the
    /// user (battery, load, duplicates).
    Should,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Must => "MUST",
            Severity::Should => "SHOULD",
        })
    }
}

/// One rule a client's requests are held to.
#[derive(Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Check {
    /// Stable, dotted, lower-case: `http.protocol-version`,
    /// `sync.stale-synckey`. Reports and vendors' CI key on it.
    pub id: &'static str,
    pub severity: Severity,
    /// Where the rule comes from: `MS-ASHTTP 2.2.1.1.2.3`, `MS-ASCMD
    /// 2.2.3.166.4`.
    pub reference: &'static str,
    /// What the client must do, as an instruction to the vendor ("Send
    /// MS-ASProtocolVersion with every POST, one of the versions OPTIONS
    /// advertised").
    pub message: &'static str,
}

/// A request that broke a [`Check`].
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: &'static Check,
    /// The exchange (request and its response) in the device's session, by
    /// its sequence number; `None` when the finding is about what did not
    /// happen (a session that ended before a required reaction).
    pub exchange: Option<u64>,
    /// What exactly was wrong in this request ("SyncKey 7 for collection 1;
    /// the server last issued 9").
    pub detail: String,
}

/// How a client reacted to a situation a scenario created.
#[derive(Debug, Clone, Serialize)]
pub struct Reaction {
    /// The scenario's name and the step that created the situation.
    pub scenario: String,
    pub step: String,
    /// The device (`DeviceId`) the step acted on.
    pub device_id: String,
    /// What the protocol requires of the client now ("send SyncKey 0 for
    /// the collection before syncing it again").
    pub expected: String,
    /// Where that requirement comes from.
    pub reference: String,
    pub result: ReactionResult,
}

/// Whether the required reaction happened.
#[derive(Debug, Clone, Serialize)]
pub enum ReactionResult {
    /// The step's situation was created, and the client's next request(s)
    /// did what the protocol requires.
    Met { at: SystemTime },
    /// The client did something else.
    Violated { at: SystemTime, detail: String },
    /// The step fired but the session ended before the client reacted (or
    /// the step never fired: the scenario did not get that far).
    NotObserved { detail: String },
}
