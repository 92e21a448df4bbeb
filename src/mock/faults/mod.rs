//! Fault profiles: the mock misbehaving exactly like a documented server
//! regression, so that the corpus can be shown to catch it (`eastest
//! matrix`).
//!
//! The clean mock (every other module of [`crate::mock`]) is the spec; the
//! regressions live here, apart from it, as **interceptors around command
//! dispatch**. Each profile is a [`Fault`]: [`Fault::before`] sees the
//! decoded request before the handler and may answer instead of it or
//! rewrite the request it gets; [`Fault::after`] sees the handler's answer
//! and may rewrite it or adjust the store (a profile is inside
//! `crate::mock`, so it reaches [`Store`](super::state::Store),
//! `DeviceState` and `Mailbox`). Profiles compose as layers of an onion, in
//! the order given: the first profile's `before` runs first and its `after`
//! last; a profile that answers instead of the handler still has the
//! `after`s of the profiles outside it applied.
//!
//! Without profiles, [`dispatch`] is the handler's own dispatch, untouched.
//!
//! | Profile | Source | What the server does wrong |
//! |---|---|---|
//! | `kb967525` | KB967525 (Exchange 2007 SP1) | a Sync collection that carries `<Supported>` gets Status 4 |
//! | `kb923164` | KB923164 (Exchange 2003, calendar event sink) | a client Add/Change to a calendar item is saved and modified by the sink, the collection answers Status 5, and every retry adds another duplicate |
//! | `kb810018` | KB810018 (Exchange 2000 ICS) | a Change to a task whose `tasks:Categories` is denied aborts the whole collection (Status 5) instead of the one item |
//! | `mis-version` | MIS_2 SYNC_STATUS_CODE_PROTOCOL_VER | every command but Provision: protocol version not supported (HTTP 400; Status 138 from 14.0) |
//! | `mis-restore` | MIS_3 SYNC_STATUS_CODE_SYNCKEY | the server was restored: each device's sync state is gone at its first non-zero key (Sync Status 3, FolderSync 9) |
//! | `mis-protocol` | MIS_4 SYNC_STATUS_CODE_PROTOCOL | every Sync collection with client changes gets Status 4 |
//! | `mis-unavailable` | MIS_5 SYNC_STATUS_CODE_SYNC_SERVER | every command but Provision: HTTP 503 with `Retry-After` |
//! | `mis-conversion` | MIS_6 SYNC_STATUS_CODE_CONVERSION | every client Add and Change: Status 6, not saved |
//! | `mis-conflict` | MIS_7 SYNC_STATUS_CODE_CONFLICT | every client Change: Status 7, the server's version kept |
//! | `mis-not-found` | MIS_8 SYNC_STATUS_CODE_OBJ_NOT_FOUND | Sync of the Inbox, Calendar or Contacts folder: Status 8 |
//! | `mis-quota` | MIS_9 SYNC_STATUS_CODE_DISK_SPACE | every client Add and Change: Status 9; SendMail, SmartReply, SmartForward: HTTP 507 (Status 113 from 14.0) |
//! | `ur4-accepted-domains` | KB933314 (Update Rollup 4 for Exchange 2007) | SendMail, SmartReply, SmartForward fail: HTTP 500 (Status 120 from 14.0) |
//! | `ur4-wa-timezone` | KB932561 (Update Rollup 4) | a calendar item in the Western Australia time zone (with its 2006-2009 daylight rule) is saved one hour late during daylight time |
//! | `ur4-nz-dst` | KB937656 (Update Rollup 4) | a calendar item in the New Zealand time zone dated in the weeks the 2007 DST change moved is saved one hour late |
//!
//! The per-family modules document each choice made where the source
//! document leaves room.

/// Tree surgery, also used by the scenario engine (`super::scenario`).
pub(super) mod edit;
mod kb810018;
mod kb923164;
mod kb967525;
mod mis;
mod tz;
mod ur4;

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use crate::protocol::Command;
use crate::wbxml::Element;

use super::command::{self, Ctx, Reply};

/// A fault profile: one documented server regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    Kb967525,
    Kb923164,
    Kb810018,
    MisVersion,
    MisRestore,
    MisProtocol,
    MisUnavailable,
    MisConversion,
    MisConflict,
    MisNotFound,
    MisQuota,
    Ur4AcceptedDomains,
    Ur4WaTimezone,
    Ur4NzDst,
}

/// One registry entry: how a profile is named on the command line, where it
/// comes from, and what it does.
struct Entry {
    profile: Profile,
    name: &'static str,
    reference: &'static str,
    summary: &'static str,
    make: fn() -> Box<dyn Fault>,
}

/// The registry, in the order `--list-profiles` shows.
const REGISTRY: &[Entry] = &[
    Entry {
        profile: Profile::Kb967525,
        name: "kb967525",
        reference: "KB967525",
        summary: "Exchange 2007 SP1: a Sync collection carrying <Supported> answers Status 4",
        make: || Box::new(kb967525::SupportedIsProtocolError),
    },
    Entry {
        profile: Profile::Kb923164,
        name: "kb923164",
        reference: "KB923164",
        summary: "Exchange 2003 calendar event sink: a calendar Add/Change is modified on save, \
                  answers Status 5, and every retry adds a duplicate",
        make: || Box::new(kb923164::CalendarEventSink),
    },
    Entry {
        profile: Profile::Kb810018,
        name: "kb810018",
        reference: "KB810018",
        summary: "Exchange 2000 ICS: a Change to a task whose Categories are denied aborts \
                  the whole collection (Status 5)",
        make: || Box::new(kb810018::DeniedPropertyAbortsCollection),
    },
    Entry {
        profile: Profile::MisVersion,
        name: "mis-version",
        reference: "MIS_2",
        summary: "protocol version not supported: HTTP 400 (Status 138 from 14.0) for every \
                  command but Provision",
        make: || Box::new(mis::VersionNotSupported),
    },
    Entry {
        profile: Profile::MisRestore,
        name: "mis-restore",
        reference: "MIS_3",
        summary: "server restored from a backup: each device's first non-zero sync key is \
                  unknown (Sync Status 3, FolderSync 9)",
        make: || Box::new(mis::Restored::default()),
    },
    Entry {
        profile: Profile::MisProtocol,
        name: "mis-protocol",
        reference: "MIS_4",
        summary: "server software error: a Sync collection with client changes answers Status 4",
        make: || Box::new(mis::ProtocolError),
    },
    Entry {
        profile: Profile::MisUnavailable,
        name: "mis-unavailable",
        reference: "MIS_5",
        summary: "the Exchange server is not available: HTTP 503 with Retry-After for every \
                  command but Provision",
        make: || Box::new(mis::Unavailable),
    },
    Entry {
        profile: Profile::MisConversion,
        name: "mis-conversion",
        reference: "MIS_6",
        summary: "conversion error: every client Add and Change answers Status 6 and is not saved",
        make: || Box::new(mis::Conversion),
    },
    Entry {
        profile: Profile::MisConflict,
        name: "mis-conflict",
        reference: "MIS_7",
        summary: "conflict: every client Change answers Status 7 and the server keeps its version",
        make: || Box::new(mis::Conflict),
    },
    Entry {
        profile: Profile::MisNotFound,
        name: "mis-not-found",
        reference: "MIS_8",
        summary: "object not found: Sync of the Inbox, Calendar or Contacts answers Status 8",
        make: || Box::new(mis::NotFound),
    },
    Entry {
        profile: Profile::MisQuota,
        name: "mis-quota",
        reference: "MIS_9",
        summary: "mailbox over quota: client Adds and Changes answer Status 9; sending \
                  answers HTTP 507 (Status 113 from 14.0)",
        make: || Box::new(mis::OverQuota),
    },
    Entry {
        profile: Profile::Ur4AcceptedDomains,
        name: "ur4-accepted-domains",
        reference: "KB933314 (Exchange 2007 UR4)",
        summary: "over a thousand accepted domains: SendMail, SmartReply and SmartForward \
                  fail (HTTP 500; Status 120 from 14.0)",
        make: || Box::new(ur4::AcceptedDomains),
    },
    Entry {
        profile: Profile::Ur4WaTimezone,
        name: "ur4-wa-timezone",
        reference: "KB932561 (Exchange 2007 UR4)",
        summary: "Western Australia time zone: appointments in daylight time are saved one \
                  hour late",
        make: || Box::new(ur4::WesternAustralia),
    },
    Entry {
        profile: Profile::Ur4NzDst,
        name: "ur4-nz-dst",
        reference: "KB937656 (Exchange 2007 UR4)",
        summary: "New Zealand 2007 DST change: appointments in the weeks it moved are saved \
                  one hour late",
        make: || Box::new(ur4::NewZealandDst),
    },
];

impl Profile {
    /// Every profile, in registry order.
    pub fn all() -> impl Iterator<Item = Profile> {
        REGISTRY.iter().map(|e| e.profile)
    }

    fn entry(self) -> &'static Entry {
        REGISTRY
            .iter()
            .find(|e| e.profile == self)
            .expect("every profile is in the registry")
    }

    /// The command-line name (`kb967525`, `mis-restore`).
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// The document it reproduces (`KB967525`, `MIS_3`).
    pub fn reference(self) -> &'static str {
        self.entry().reference
    }

    /// One line: what the server does wrong.
    pub fn summary(self) -> &'static str {
        self.entry().summary
    }

    /// A comma-separated list (`kb967525,mis-quota`); duplicates are kept
    /// once. An empty list is no profile.
    pub fn parse_list(text: &str) -> Result<Vec<Profile>, UnknownProfile> {
        let mut profiles = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let profile: Profile = name.parse()?;
            if !profiles.contains(&profile) {
                profiles.push(profile);
            }
        }
        Ok(profiles)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A profile name the registry does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault profile `{name}`{}; see --list-profiles", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownProfile {
    pub name: String,
    /// The nearest known name, when one is close.
    pub suggestion: Option<&'static str>,
}

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(text: &str) -> Result<Profile, UnknownProfile> {
        let wanted = text.trim().to_ascii_lowercase();
        if let Some(e) = REGISTRY.iter().find(|e| e.name == wanted) {
            return Ok(e.profile);
        }
        // The nearest name within a third of its length (typos, a missing
        // dash), else one that contains what was typed (`restore`).
        let suggestion = REGISTRY
            .iter()
            .map(|e| (strsim::levenshtein(&wanted, e.name), e.name))
            .filter(|(d, name)| *d <= name.len().div_ceil(3))
            .min()
            .map(|(_, name)| name)
            .or_else(|| {
                (wanted.len() >= 3)
                    .then(|| REGISTRY.iter().find(|e| e.name.contains(&wanted)))
                    .flatten()
                    .map(|e| e.name)
            });
        Err(UnknownProfile {
            name: text.trim().to_string(),
            suggestion,
        })
    }
}

/// What a profile keeps between its `before` and its `after` for one
/// request.
pub type Memo = Option<Box<dyn Any + Send>>;

/// What [`Fault::before`] decides.
pub enum Before {
    /// Go on (with the request as the profile left it), keeping a memo for
    /// [`Fault::after`].
    Continue(Memo),
    /// Answer instead of the handler (and of the profiles inside this one).
    Answer(Answer),
}

/// A response on its way out: the handler's [`Reply`] and any extra HTTP
/// headers a profile adds (`Retry-After`).
pub struct Answer {
    pub reply: Reply,
    pub headers: Vec<(&'static str, String)>,
}

impl From<Reply> for Answer {
    fn from(reply: Reply) -> Answer {
        Answer {
            reply,
            headers: Vec::new(),
        }
    }
}

/// One request as the profiles see it.
pub struct Call<'a, 'c> {
    pub command: Command,
    pub ctx: &'a Ctx<'c>,
    /// The decoded request, which `before` may rewrite; `None` for an empty
    /// Sync or Ping and for bodies that are not WBXML.
    pub request: Option<Element>,
}

/// A profile's interceptors. Both default to doing nothing.
pub trait Fault: Send + Sync {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        let _ = call;
        Before::Continue(None)
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, memo: Memo) -> Answer {
        let _ = (call, memo);
        answer
    }

    /// A server-side change made while the handler runs (a Ping or a Sync
    /// that waits): the future runs beside the handler and is dropped,
    /// unfinished or not, when the handler answers. Called after every
    /// `before`, for layers that did not answer.
    fn during<'f>(
        &'f self,
        call: &'f Call<'_, '_>,
    ) -> Option<Pin<Box<dyn Future<Output = ()> + Send + 'f>>> {
        let _ = call;
        None
    }
}

/// The interceptors a server runs with, built once from the configuration
/// (some keep state across requests: `mis-restore`, a scenario): the
/// scenario ([`MockConfig::scenario`](super::MockConfig::scenario)) as the
/// outermost layer, so that it sees every request first and its answers
/// are its own, then the [`MockConfig::profiles`](super::MockConfig::profiles).
#[derive(Default)]
pub struct Faults {
    layers: Vec<Box<dyn Fault>>,
}

impl Faults {
    pub fn new(profiles: &[Profile]) -> Faults {
        Faults {
            layers: profiles.iter().map(|p| (p.entry().make)()).collect(),
        }
    }

    /// The scenario and the profiles of `config`.
    pub fn for_config(config: &super::MockConfig) -> Faults {
        let mut faults = Faults::new(&config.profiles);
        if let Some(scenario) = &config.scenario {
            faults.layers.insert(0, Box::new(Arc::clone(scenario)));
        }
        faults
    }
}

/// Runs `command` through the profiles' interceptors around the handler
/// ([`command::dispatch`]). With no profile, that is the handler alone.
pub async fn dispatch(
    faults: &Faults,
    command: Command,
    ctx: &Ctx<'_>,
    request: Option<&Element>,
) -> Answer {
    if faults.layers.is_empty() {
        return command::dispatch(command, ctx, request).await.into();
    }
    let mut call = Call {
        command,
        ctx,
        request: request.cloned(),
    };
    let mut memos = Vec::with_capacity(faults.layers.len());
    let mut answered = None;
    for layer in &faults.layers {
        match layer.before(&mut call) {
            Before::Continue(memo) => memos.push(memo),
            Before::Answer(answer) => {
                answered = Some(answer);
                break;
            }
        }
    }
    let entered = memos.len();
    let mut answer = match answered {
        Some(answer) => answer,
        None => {
            let handler = command::dispatch(command, ctx, call.request.as_ref());
            let during: Vec<_> = faults
                .layers
                .iter()
                .filter_map(|layer| layer.during(&call))
                .collect();
            if during.is_empty() {
                handler.await.into()
            } else {
                beside(handler, during).await.into()
            }
        }
    };
    for (layer, memo) in faults.layers[..entered].iter().zip(memos).rev() {
        answer = layer.after(&call, answer, memo);
    }
    answer
}

/// Runs the `during` futures (one after the other) beside the handler, and
/// drops whatever is left of them when the handler answers.
async fn beside<T>(
    handler: impl Future<Output = T>,
    during: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>>,
) -> T {
    let side = async move {
        for f in during {
            f.await;
        }
    };
    tokio::pin!(handler);
    tokio::pin!(side);
    let mut side_done = false;
    loop {
        tokio::select! {
            biased;
            reply = &mut handler => return reply,
            () = &mut side, if !side_done => side_done = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_has_a_unique_name_and_parses_back() {
        let mut names: Vec<&str> = Profile::all().map(Profile::name).collect();
        for p in Profile::all() {
            assert_eq!(p.name().parse::<Profile>(), Ok(p));
            assert!(!p.summary().is_empty() && !p.reference().is_empty());
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
    }

    #[test]
    fn lists_compose_and_unknown_names_suggest_the_nearest() {
        assert_eq!(
            Profile::parse_list("kb967525, mis-quota,kb967525"),
            Ok(vec![Profile::Kb967525, Profile::MisQuota])
        );
        assert_eq!(Profile::parse_list(""), Ok(vec![]));
        let e = Profile::parse_list("kb967252").unwrap_err();
        assert_eq!(e.suggestion, Some("kb967525"));
        assert!(e.to_string().contains("did you mean `kb967525`?"), "{e}");
        let e = "restore".parse::<Profile>().unwrap_err();
        assert_eq!(e.suggestion, Some("mis-restore"));
        let e = "zzzzzzzz".parse::<Profile>().unwrap_err();
        assert_eq!(e.suggestion, None);
        assert!(!e.to_string().contains("did you mean"));
    }
}
