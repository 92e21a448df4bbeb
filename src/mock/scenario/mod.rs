//! Scenarios (`eastest serve --scenario FILE`): the scripted server side of
//! a device's session, for vendors validating a device client.
//!
//! A scenario file (`scenarios/*.toml`, format in `docs/scenario-format.md`)
//! lists steps: **when** (the device's Nth Sync, after its Nth request,
//! while its Ping waits, after another step, from the start), **what the
//! server does** (answer a Sync with Status 3, a FolderSync with 9, HTTP
//! 503 with `Retry-After`, forget the policy key, add a folder, add items,
//! order a remote wipe, redirect with HTTP 451), and **what the client must
//! do next** ([`Expect`], each with its spec reference). Each device (user +
//! DeviceId) runs its own copy.
//!
//! The engine is one more interceptor layer around command dispatch, like
//! the fault profiles (`super::faults`), outside them: it sees every
//! request that reached dispatch, after authentication, version and the
//! policy key check. Requests the HTTP layer refused (HTTP 449 for a
//! missing or forgotten policy key, 140 for a pending wipe) are not seen;
//! the reactions are judged on what comes through.
//!
//! # Judging reactions
//!
//! Each firing of a step with an expected reaction is judged from the
//! requests that follow, and reported as a [`Reaction`]
//! ([`Scenario::reactions`]):
//!
//! | Reaction | Met | Violated |
//! |---|---|---|
//! | `sync-key-reset` | the next Sync naming the collection sends SyncKey 0 | it sends another key, or an empty Sync (which repeats the cached key) |
//! | `folder-sync-reset` | the next FolderSync sends SyncKey 0 | it sends another key |
//! | `folder-sync` | a FolderSync comes | a Ping comes after the device was told (Ping 7, Sync 12) and before a FolderSync |
//! | `re-provision` | a Provision leaves the device with a current policy key | a command other than Provision reaches dispatch (only when the server does not require provisioning: otherwise the HTTP layer refuses it unseen) |
//! | `retry-after-honoured` | the next request comes at least `retry-after` seconds later | it comes sooner |
//! | `all-pages-fetched` | a Sync response for the folder without MoreAvailable, once at least `count` items came | a Ping while MoreAvailable was pending |
//! | `wipe-acknowledged` | a Provision acknowledges the RemoteWipe directive (Status 1 or 2) | a Provision acknowledges the policy without it |
//! | `follows-redirect` | the next request comes to the redirected location | it comes to the old one |
//!
//! Anything else leaves the reaction pending: `NotObserved` when the
//! report is made (as is a step that never fired).
//!
//! # Choices
//!
//! - A trigger arms its step; the step fires at the first request its
//!   action fits (a Sync for `sync-status`, any command but Provision for
//!   the answering actions, any request for the server-side changes). A
//!   `nth` trigger fires only on requests of its command.
//! - Only one answering step fires per request (the first in file order);
//!   server-side changes of other steps due at the same request also
//!   happen.
//! - `sync-status = 3` drops the collections' state in the store and
//!   answers `SyncKey` 0, as the clean handler does for an unknown key, so
//!   an old key stays invalid afterwards. `sync-status = 12` (hierarchy
//!   changed) is answered at the root, the other statuses per collection
//!   with the key the client sent.
//! - `folder-sync-status = 9` forgets the device's hierarchy key.
//! - `require-provisioning` forgets the device's policy key and answers
//!   the firing request HTTP 449 (Status 142 DeviceNotProvisioned from
//!   14.0) itself; later requests get the same from the HTTP layer.
//! - `hierarchy-change` adds a top-level user mail folder (type 12),
//!   `Scenario folder N`.
//! - `add-items` adds messages (mail folders), contacts, tasks or notes,
//!   numbered, dated 2026-11-10 a second apart.
//! - A `redirect` path is made absolute with the server's URL when it is
//!   known ([`Scenario::set_server_url`]); the redirected location is
//!   recognised by requests served inside [`at_redirected_location`] (the
//!   router serves [`REDIRECTED_PATH`] that way).

mod model;
mod parse;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::diagnostic::FileError;
use crate::protocol::Command;
use crate::wbxml::Element;

use super::command::{Ctx, Reply};
use super::faults::edit::{collections, command_failure, decode, text_of};
use super::faults::{Answer, Before, Call, Fault, Memo};
use super::items::{Class, Item, parse_application_data};
use super::referee::{Reaction, ReactionResult};
use super::state::{Folder, Store};
use super::xml::XmlOut;

pub use model::{Action, Expect, FolderRef, Script, Step, Trigger};
pub use parse::DEFAULT_DELAY_MS;

/// The second EAS path a redirect may point to: the same server, another
/// location, so that a client's move is visible.
pub const REDIRECTED_PATH: &str = "/eas-redirected/Microsoft-Server-ActiveSync";

/// Ping status 7: the folder hierarchy is out of date (MS-ASCMD 2.2.3.177,
/// Status (Ping)).
const PING_FOLDER_SYNC_REQUIRED: u16 = 7;
/// Sync status 3 (invalid synchronization key) and 12 (hierarchy changed),
/// MS-ASCMD 2.2.3.177.17.
const SYNC_INVALID_KEY: u8 = 3;
const SYNC_HIERARCHY_CHANGED: u8 = 12;
/// FolderSync status 9: invalid synchronization key.
const FOLDER_SYNC_INVALID_KEY: u8 = 9;
/// Common status 142 DeviceNotProvisioned (MS-ASCMD 2.2.2).
const DEVICE_NOT_PROVISIONED: u16 = 142;
/// A user-created mail folder (MS-ASCMD 2.2.3.186.3).
const USER_MAIL_FOLDER: u8 = 12;

tokio::task_local! {
    static REDIRECTED: ();
}

/// Runs `f` (the EAS request handler) as a request to the redirected
/// location: the router wraps [`REDIRECTED_PATH`]'s handler in this.
pub async fn at_redirected_location<F: Future>(f: F) -> F::Output {
    REDIRECTED.scope((), f).await
}

/// Whether the current request came to the redirected location.
fn at_redirected() -> bool {
    REDIRECTED.try_with(|_| ()).is_ok()
}

/// A loaded scenario and every device's progress through it.
pub struct Scenario {
    script: Script,
    sessions: Mutex<HashMap<(String, String), Session>>,
    /// `http://host:port` of the server, for redirects given as a path.
    origin: OnceLock<String>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.script.name)
            .field("file", &self.script.file)
            .field("steps", &self.script.steps.len())
            .finish_non_exhaustive()
    }
}

/// One device's progress.
#[derive(Default)]
struct Session {
    /// Requests seen, per command and in all.
    counts: HashMap<Command, u32>,
    total: u32,
    /// Per step: how often it fired, and at which request last.
    fired: Vec<(u32, u32)>,
    judgements: Vec<Judgement>,
}

/// One firing's reaction, pending or decided.
struct Judgement {
    step: usize,
    expect: Expect,
    watch: Watch,
    result: Option<ReactionResult>,
}

/// What a pending reaction waits for.
enum Watch {
    SyncKeyReset {
        collections: Vec<String>,
    },
    FolderSyncReset,
    FolderSync {
        told: bool,
    },
    ReProvision,
    RetryAfter {
        at: Instant,
        secs: u32,
    },
    AllPages {
        folder: String,
        count: u32,
        delivered: u32,
        more_seen: bool,
    },
    Wipe,
    Redirect {
        location: String,
    },
}

fn met() -> Option<ReactionResult> {
    Some(ReactionResult::Met {
        at: SystemTime::now(),
    })
}

fn violated(detail: String) -> Option<ReactionResult> {
    Some(ReactionResult::Violated {
        at: SystemTime::now(),
        detail,
    })
}

impl Scenario {
    /// Reads and validates a scenario file; every problem is in the error.
    pub fn load(file: &Path) -> Result<Scenario, FileError> {
        parse::load(file).map(Scenario::new)
    }

    /// Parses scenario text (`file` names it in diagnostics).
    pub fn parse(source: &str, file: &Path) -> Result<Scenario, FileError> {
        parse::parse(source, file).map(Scenario::new)
    }

    fn new(script: Script) -> Scenario {
        Scenario {
            script,
            sessions: Mutex::new(HashMap::new()),
            origin: OnceLock::new(),
        }
    }

    /// The parsed file.
    pub fn script(&self) -> &Script {
        &self.script
    }

    pub fn name(&self) -> &str {
        &self.script.name
    }

    /// Tells the scenario where the server listens (its EAS URL), so that
    /// a `redirect` given as a path becomes an absolute URL. Only the first
    /// call counts.
    pub fn set_server_url(&self, url: &str) {
        let origin = match url.find("://") {
            Some(i) => match url[i + 3..].find('/') {
                Some(j) => &url[..i + 3 + j],
                None => url,
            },
            None => url,
        };
        let _ = self.origin.set(origin.to_string());
    }

    fn location(&self, target: &str) -> String {
        match (target.starts_with('/'), self.origin.get()) {
            (true, Some(origin)) => format!("{origin}{target}"),
            _ => target.to_string(),
        }
    }

    /// How every device reacted to every step with an expected reaction,
    /// devices in name order, steps in file order. A step that never fired
    /// for a device, and a reaction still pending, are `NotObserved`; with
    /// no device at all, each step is reported once, for no device.
    pub fn reactions(&self) -> Vec<Reaction> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<&(String, String)> = sessions.keys().collect();
        keys.sort();
        let mut out = Vec::new();
        let reaction = |step: &Step, expect: Expect, device: &str, result| Reaction {
            scenario: self.script.name.clone(),
            step: step.name.clone(),
            device_id: device.to_string(),
            expected: expect.requirement().to_string(),
            reference: expect.reference().to_string(),
            result,
        };
        if keys.is_empty() {
            for step in &self.script.steps {
                if let Some(expect) = step.expect {
                    let detail = "no device sent a request the scenario applies to".to_string();
                    out.push(reaction(
                        step,
                        expect,
                        "",
                        ReactionResult::NotObserved { detail },
                    ));
                }
            }
            return out;
        }
        for key in keys {
            let session = &sessions[key];
            for (i, step) in self.script.steps.iter().enumerate() {
                let Some(expect) = step.expect else {
                    continue;
                };
                let mut any = false;
                for j in session.judgements.iter().filter(|j| j.step == i) {
                    any = true;
                    let result = j
                        .result
                        .clone()
                        .unwrap_or_else(|| ReactionResult::NotObserved {
                            detail: format!(
                                "the step fired; the session has not shown the reaction ({}) yet",
                                j.expect.name()
                            ),
                        });
                    out.push(reaction(step, j.expect, &key.1, result));
                }
                if !any {
                    let detail = format!(
                        "the step never fired for this device ({} requests seen)",
                        session.total
                    );
                    out.push(reaction(
                        step,
                        expect,
                        &key.1,
                        ReactionResult::NotObserved { detail },
                    ));
                }
            }
        }
        out
    }

    /// Whether the scenario acts on this request at all.
    fn applies(&self, ctx: &Ctx) -> bool {
        self.script.versions.is_none_or(|v| v.contains(ctx.version))
            && (self.script.devices.is_empty()
                || self.script.devices.iter().any(|d| d == ctx.device_id))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether step `i` is armed for the request that is the session's
    /// `total`th, of `command`.
    fn armed(&self, session: &Session, i: usize, command: Command) -> bool {
        let step = &self.script.steps[i];
        if session.fired[i].0 >= step.times {
            return false;
        }
        match &step.when {
            Trigger::Nth { command: c, nth } => {
                *c == command && session.counts.get(c).copied().unwrap_or(0) >= *nth
            }
            Trigger::During { .. } => false,
            Trigger::Requests(n) => session.total > *n,
            Trigger::AfterStep(name) => self
                .script
                .steps
                .iter()
                .position(|s| &s.name == name)
                .is_some_and(|j| session.fired[j].0 > 0 && session.fired[j].1 < session.total),
            Trigger::First => true,
        }
    }

    /// Makes step `i`'s server-side change or answer for this request.
    /// `None` for the watch when the action could not apply (a Sync with no
    /// collections to fail).
    fn apply(&self, i: usize, call: &Call<'_, '_>) -> Option<(Option<Answer>, Watch)> {
        let step = &self.script.steps[i];
        let ctx = call.ctx;
        let v = ctx.version;
        let why = format!("scenario `{}`, step `{}`", self.script.name, step.name);
        match &step.action {
            Action::SyncStatus(status) => {
                let sent: Vec<(String, String)> = match call.request.as_ref() {
                    Some(r) => collections(r)
                        .map(|c| (text_of(c, "CollectionId"), text_of(c, "SyncKey")))
                        .collect(),
                    None => ctx.device(|_, device, _| {
                        device.sync_cache.as_ref().map_or_else(Vec::new, |cache| {
                            cache
                                .collections
                                .iter()
                                .map(|c| (c.collection_id.clone(), c.sync_key.clone()))
                                .collect()
                        })
                    }),
                };
                if sent.is_empty() {
                    return None;
                }
                let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
                let mut out = XmlOut::new("AirSync", "Sync", &[]);
                if *status == SYNC_HIERARCHY_CHANGED {
                    out.leaf("Status", status.to_string());
                } else {
                    if *status == SYNC_INVALID_KEY {
                        ctx.device(|_, device, _| {
                            for id in &ids {
                                device.collections.remove(id);
                            }
                        });
                    }
                    out.open("Collections");
                    for (id, key) in &sent {
                        let key = if *status == SYNC_INVALID_KEY {
                            "0"
                        } else {
                            key
                        };
                        out.open("Collection");
                        out.leaf("SyncKey", key);
                        out.leaf("CollectionId", id);
                        out.leaf("Status", status.to_string());
                        out.close("Collection");
                    }
                    out.close("Collections");
                }
                let answer = Reply::from_encoded(out.finish("Sync", v)).into();
                let watch = if *status == SYNC_HIERARCHY_CHANGED {
                    Watch::FolderSync { told: true }
                } else {
                    Watch::SyncKeyReset { collections: ids }
                };
                Some((Some(answer), watch))
            }
            Action::FolderSyncStatus(status) => {
                if *status == FOLDER_SYNC_INVALID_KEY {
                    ctx.device(|_, device, _| device.folder_sync_key = None);
                }
                let mut out = XmlOut::new("FolderHierarchy", "FolderSync", &[]);
                out.leaf("Status", status.to_string());
                let answer = Reply::from_encoded(out.finish("FolderSync", v)).into();
                Some((Some(answer), Watch::FolderSyncReset))
            }
            Action::Http {
                status,
                retry_after,
            } => {
                let headers = retry_after
                    .map(|s| vec![("Retry-After", s.to_string())])
                    .unwrap_or_default();
                let answer = Answer {
                    reply: Reply::Http(*status, why),
                    headers,
                };
                let watch = Watch::RetryAfter {
                    at: Instant::now(),
                    secs: retry_after.unwrap_or(0),
                };
                Some((Some(answer), watch))
            }
            Action::RequireProvisioning => {
                ctx.device(|_, device, _| device.policy = Default::default());
                let why = format!("DeviceNotProvisioned: provision again ({why})");
                let reply = command_failure(v, call.command, 449, DEVICE_NOT_PROVISIONED, &why);
                Some((Some(reply.into()), Watch::ReProvision))
            }
            Action::Redirect(target) => {
                let location = self.location(target);
                let answer = Answer {
                    reply: Reply::Http(451, format!("redirected to {location} ({why})")),
                    headers: vec![("X-MS-Location", location.clone())],
                };
                Some((Some(answer), Watch::Redirect { location }))
            }
            Action::HierarchyChange | Action::AddItems { .. } | Action::RemoteWipe(_) => self
                .change(ctx.store, ctx.user, ctx.device_id, &step.action)
                .map(|watch| (None, watch)),
        }
    }

    /// The server-side changes (also made from a `during` future, which
    /// has no request to answer). `None` when the change cannot be made
    /// (`add-items` into a folder the mailbox does not have).
    fn change(&self, store: &Store, user: &str, device_id: &str, action: &Action) -> Option<Watch> {
        match action {
            Action::HierarchyChange => {
                store.with_mailbox(user, |m| {
                    let id = m.new_server_id();
                    m.folders.push(Folder {
                        display_name: format!("Scenario folder {id}"),
                        server_id: id,
                        parent_id: "0".into(),
                        folder_type: USER_MAIL_FOLDER,
                    });
                    m.touch();
                });
                Some(Watch::FolderSync { told: false })
            }
            Action::AddItems { folder, count } => {
                let folder = store.with_mailbox(user, |m| {
                    let f = match folder {
                        FolderRef::Id(id) => m.folder(id),
                        FolderRef::Type(t) => m.folder_of_type(*t),
                    }?;
                    let id = f.server_id.clone();
                    let class = m.class_of(&id)?;
                    let items: Vec<Item> = (0..*count)
                        .filter_map(|n| generated_item(class, n))
                        .collect();
                    if items.is_empty() {
                        return None;
                    }
                    for item in items {
                        m.add_item(&id, item);
                    }
                    Some(id)
                })?;
                Some(Watch::AllPages {
                    folder,
                    count: *count,
                    delivered: 0,
                    more_seen: false,
                })
            }
            Action::RemoteWipe(wipe) => {
                store.with_device(user, device_id, |_, device, _| device.wipe = Some(*wipe));
                Some(Watch::Wipe)
            }
            _ => None,
        }
    }

    fn record(&self, session: &mut Session, i: usize, watch: Watch) {
        session.fired[i] = (session.fired[i].0 + 1, session.total);
        if let Some(expect) = self.script.steps[i].expect {
            session.judgements.push(Judgement {
                step: i,
                expect,
                watch,
                result: None,
            });
        }
    }

    /// The `during` steps due while this request waits.
    fn due_during(&self, call: &Call<'_, '_>) -> Vec<usize> {
        if !self.applies(call.ctx) {
            return Vec::new();
        }
        let mut sessions = self.lock();
        let session = session_of(&mut sessions, call.ctx, self.script.steps.len());
        (0..self.script.steps.len())
            .filter(|&i| {
                let step = &self.script.steps[i];
                matches!(&step.when, Trigger::During { command, nth }
                    if *command == call.command
                        && session.counts.get(command).copied().unwrap_or(0) >= *nth)
                    && session.fired[i].0 < step.times
            })
            .collect()
    }
}

fn session_of<'a>(
    sessions: &'a mut HashMap<(String, String), Session>,
    ctx: &Ctx,
    steps: usize,
) -> &'a mut Session {
    sessions
        .entry((ctx.user.to_string(), ctx.device_id.to_string()))
        .or_insert_with(|| Session {
            fired: vec![(0, 0); steps],
            ..Session::default()
        })
}

/// Item `n` of an `add-items` batch, of the folder's class (`None` for
/// Calendar: an appointment needs a time zone and more; not generated).
fn generated_item(class: Class, n: u32) -> Option<Item> {
    let n1 = n + 1;
    let date = format!(
        "2026-11-10T{:02}:{:02}:{:02}.000Z",
        8 + n / 3600,
        (n / 60) % 60,
        n % 60
    );
    let xml = match class {
        Class::Email => format!(
            "<email:To>Alice &lt;alice@example.test&gt;</email:To>\
             <email:From>Scenario &lt;scenario@example.test&gt;</email:From>\
             <email:Subject>Scenario message {n1}</email:Subject>\
             <email:DateReceived>{date}</email:DateReceived>\
             <email:DisplayTo>Alice</email:DisplayTo>\
             <email:Importance>1</email:Importance>\
             <email:Read>0</email:Read>\
             <airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
             <airsyncbase:Data>Message {n1} of a scenario batch.</airsyncbase:Data></airsyncbase:Body>\
             <email:MessageClass>IPM.Note</email:MessageClass>\
             <email:InternetCPID>65001</email:InternetCPID>"
        ),
        Class::Contacts => format!(
            "<contacts:FileAs>Contact {n1}, Scenario</contacts:FileAs>\
             <contacts:FirstName>Scenario</contacts:FirstName>\
             <contacts:LastName>Contact {n1}</contacts:LastName>"
        ),
        Class::Tasks => format!(
            "<tasks:Subject>Scenario task {n1}</tasks:Subject><tasks:Complete>0</tasks:Complete>"
        ),
        Class::Notes => format!(
            "<notes:Subject>Scenario note {n1}</notes:Subject>\
             <airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
             <airsyncbase:Data>Note {n1}.</airsyncbase:Data></airsyncbase:Body>\
             <notes:MessageClass>IPM.StickyNote</notes:MessageClass>"
        ),
        Class::Calendar => return None,
    };
    let data = parse_application_data(&xml).ok()?;
    let mime = (class == Class::Email).then(|| {
        format!(
            "From: Scenario <scenario@example.test>\r\nTo: Alice <alice@example.test>\r\n\
             Subject: Scenario message {n1}\r\nDate: {}\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\nMessage {n1} of a scenario batch.\r\n",
            date.replace(".000Z", "Z")
        )
    });
    Some(Item {
        server_id: String::new(),
        class,
        data,
        modseq: 0,
        mime,
        attachments: Vec::new(),
    })
}

/// Judges a pending reaction on a request before the handler sees it.
fn judge_before(
    watch: &Watch,
    command: Command,
    request: Option<&Element>,
) -> Option<ReactionResult> {
    match watch {
        Watch::SyncKeyReset { collections: ids } if command == Command::Sync => {
            let Some(r) = request else {
                return violated(format!(
                    "an empty Sync, which repeats the cached SyncKey of collection {}",
                    ids.join(", ")
                ));
            };
            let named: Vec<(String, String)> = collections(r)
                .map(|c| (text_of(c, "CollectionId"), text_of(c, "SyncKey")))
                .filter(|(id, _)| ids.contains(id))
                .collect();
            if named.is_empty() {
                return None;
            }
            let bad: Vec<String> = named
                .iter()
                .filter(|(_, key)| key != "0")
                .map(|(id, key)| format!("collection {id}: SyncKey {key}"))
                .collect();
            if bad.is_empty() {
                met()
            } else {
                violated(format!("{}, not 0", bad.join("; ")))
            }
        }
        Watch::FolderSyncReset if command == Command::FolderSync => {
            let key = request.map(|r| text_of(r, "SyncKey")).unwrap_or_default();
            if key == "0" {
                met()
            } else {
                violated(format!("FolderSync with SyncKey {key}, not 0"))
            }
        }
        Watch::FolderSync { .. } if command == Command::FolderSync => met(),
        Watch::FolderSync { told: true } if command == Command::Ping => {
            violated("a Ping after the hierarchy was reported changed, without FolderSync".into())
        }
        Watch::ReProvision if command != Command::Provision => violated(format!(
            "{command} without provisioning again after HTTP 449 / Status 142"
        )),
        Watch::RetryAfter { at, secs } => {
            let waited = at.elapsed();
            if waited >= Duration::from_secs(u64::from(*secs)) {
                met()
            } else {
                violated(format!(
                    "the next request ({command}) came {:.1} s later; Retry-After asked for {secs} s",
                    waited.as_secs_f64()
                ))
            }
        }
        Watch::AllPages {
            count,
            delivered,
            more_seen: true,
            ..
        } if command == Command::Ping && delivered < count => violated(format!(
            "a Ping while MoreAvailable was pending: {delivered} of {count} items fetched"
        )),
        Watch::Wipe if command == Command::Provision => {
            let r = request?;
            let ack = ["RemoteWipe", "AccountOnlyRemoteWipe"]
                .into_iter()
                .find_map(|name| r.child(name).and_then(|w| w.child_text("Status")));
            if ack.is_some() {
                return met();
            }
            let policy_ack = r
                .child("Policies")
                .and_then(|p| p.child("Policy"))
                .is_some_and(|p| p.child("PolicyKey").is_some());
            policy_ack.then(|| ReactionResult::Violated {
                at: SystemTime::now(),
                detail: "the policy was acknowledged, the RemoteWipe directive was not".into(),
            })
        }
        Watch::Redirect { location } => {
            if at_redirected() {
                met()
            } else {
                violated(format!(
                    "{command} came to the old location, not to {location}"
                ))
            }
        }
        _ => None,
    }
}

/// Judges a pending reaction on the answer a request got.
fn judge_after(
    watch: &mut Watch,
    call: &Call<'_, '_>,
    answer: &Answer,
    root: &mut Option<Option<Element>>,
) -> Option<ReactionResult> {
    let mut root = |answer: &Answer| -> Option<Element> {
        root.get_or_insert_with(|| decode(&answer.reply, call.ctx.version))
            .clone()
    };
    match watch {
        Watch::ReProvision if call.command == Command::Provision => {
            let current = call.ctx.device(|_, device, _| device.policy.current);
            current.is_some().then(|| ReactionResult::Met {
                at: SystemTime::now(),
            })
        }
        Watch::FolderSync { told } if matches!(call.command, Command::Ping | Command::Sync) => {
            let status: Option<u16> = root(answer)
                .and_then(|r| r.child_text("Status"))
                .and_then(|s| s.trim().parse().ok());
            let says = match call.command {
                Command::Ping => PING_FOLDER_SYNC_REQUIRED,
                _ => u16::from(SYNC_HIERARCHY_CHANGED),
            };
            if status == Some(says) {
                *told = true;
            }
            None
        }
        Watch::AllPages {
            folder,
            count,
            delivered,
            more_seen,
        } if call.command == Command::Sync => {
            let root = root(answer)?;
            let c = root
                .child("Collections")?
                .elements_named("Collection")
                .find(|c| text_of(c, "CollectionId") == *folder)?;
            let adds = c
                .child("Commands")
                .map_or(0, |cmds| cmds.elements_named("Add").count());
            *delivered += u32::try_from(adds).unwrap_or(u32::MAX);
            if c.child("MoreAvailable").is_some() {
                *more_seen = true;
                None
            } else if *delivered >= *count {
                met()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The future a `during` step runs beside the waiting handler.
type During<'f> = Pin<Box<dyn Future<Output = ()> + Send + 'f>>;

impl Fault for std::sync::Arc<Scenario> {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        if !self.applies(call.ctx) {
            return Before::Continue(None);
        }
        let command = call.command;
        let mut sessions = self.lock();
        let session = session_of(&mut sessions, call.ctx, self.script.steps.len());
        session.total += 1;
        *session.counts.entry(command).or_insert(0) += 1;
        for j in session.judgements.iter_mut().filter(|j| j.result.is_none()) {
            j.result = judge_before(&j.watch, command, call.request.as_ref());
        }
        let mut answered: Option<Answer> = None;
        for i in 0..self.script.steps.len() {
            let action = &self.script.steps[i].action;
            if !self.armed(session, i, command)
                || !action.fits(command)
                || (action.answers() && answered.is_some())
            {
                continue;
            }
            if let Some((answer, watch)) = self.apply(i, call) {
                self.record(session, i, watch);
                if answer.is_some() {
                    answered = answer;
                }
            }
        }
        match answered {
            Some(answer) => Before::Answer(answer),
            None => Before::Continue(None),
        }
    }

    fn during<'f>(&'f self, call: &'f Call<'_, '_>) -> Option<During<'f>> {
        let due = self.due_during(call);
        if due.is_empty() {
            return None;
        }
        let ctx = call.ctx;
        Some(Box::pin(async move {
            for i in due {
                let step = &self.script.steps[i];
                tokio::time::sleep(Duration::from_millis(step.delay_ms)).await;
                let mut sessions = self.lock();
                let session = session_of(&mut sessions, ctx, self.script.steps.len());
                if session.fired[i].0 >= step.times {
                    continue;
                }
                if let Some(watch) = self.change(ctx.store, ctx.user, ctx.device_id, &step.action) {
                    self.record(session, i, watch);
                }
            }
        }))
    }

    fn after(&self, call: &Call<'_, '_>, answer: Answer, _memo: Memo) -> Answer {
        if !self.applies(call.ctx) {
            return answer;
        }
        let mut sessions = self.lock();
        let session = session_of(&mut sessions, call.ctx, self.script.steps.len());
        let mut root = None;
        for j in session.judgements.iter_mut().filter(|j| j.result.is_none()) {
            j.result = judge_after(&mut j.watch, call, &answer, &mut root);
        }
        answer
    }
}

#[cfg(test)]
mod tests;
