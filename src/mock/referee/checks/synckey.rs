//! Synchronization keys: FolderSync's and each collection's, used in
//! sequence; starting over after Status 3 / 9; FolderSync before syncing
//! again when the server says the hierarchy changed; `Supported` only with
//! SyncKey 0; and fetching the rest after `MoreAvailable`.
//!
//! Sequence: a request carries the key the server issued last for that
//! collection (or FolderSync). The key before it is accepted once more, as
//! the one resend MS-ASCMD 3.1.5.9 allows when a response was lost; sending
//! it a second time is a finding. `0` always starts over and is never a
//! finding of this family.
//!
//! "Never initialised" (a non-zero key for a collection the client never
//! synced with key 0) is judged only in a session the referee saw from its
//! start, a FolderSync with key 0: with `--data`, a device may bring keys
//! from a session before this server started.
//!
//! `MoreAvailable` (MS-ASCMD 2.2.3.116: the client SHOULD keep sending Sync
//! requests until the server has no more changes): after a response with
//! MoreAvailable for a collection, a Ping, a full (non-Partial) Sync that
//! leaves the collection out, or a Sync of it with GetChanges 0, before its
//! changes were fetched, is a finding.

use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::Command;

use super::super::{Check, Severity};
use super::{Observed, Verdict, collections, text_of};

pub static FOLDERSYNC_KEY: Check = Check {
    id: "foldersync.synckey",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.181.2; MS-ASCMD 3.1.5.9",
    message: "Send FolderSync with the SyncKey of the last FolderSync response (the previous one \
              only once, to recover a lost response), or 0",
};

pub static FOLDERSYNC_RESET: Check = Check {
    id: "foldersync.reset-after-status-9",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.177 (FolderSync Status 9)",
    message: "After FolderSync Status 9, start the hierarchy over with FolderSync SyncKey 0",
};

pub static FOLDERSYNC_REQUIRED: Check = Check {
    id: "foldersync.required",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.177 (Sync Status 12, Ping Status 7, FolderSync Status 9)",
    message: "After Sync Status 12, Ping Status 7 or FolderSync Status 9, send FolderSync before \
              the next Sync, Ping or GetItemEstimate",
};

pub static SYNC_KEY: Check = Check {
    id: "sync.synckey",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.181.4; MS-ASCMD 3.1.5.9",
    message: "Send each collection's SyncKey as the last Sync response issued it (the previous one \
              only once, to recover a lost response), or 0",
};

pub static SYNC_RESET: Check = Check {
    id: "sync.reset-after-status-3",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.177.17 (Sync Status 3)",
    message: "After Sync Status 3 for a collection, sync it again from SyncKey 0",
};

pub static UNINITIALISED: Check = Check {
    id: "sync.uninitialised-collection",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.181.4",
    message: "Sync a collection with SyncKey 0 before using any other key for it",
};

pub static SUPPORTED: Check = Check {
    id: "sync.supported-nonzero-key",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.179 (Supported)",
    message: "Send Supported only in the initial Sync of a collection (SyncKey 0); the server \
              ignores it otherwise",
};

pub static MORE_AVAILABLE: Check = Check {
    id: "sync.more-available",
    severity: Severity::Should,
    reference: "MS-ASCMD 2.2.3.116 (MoreAvailable)",
    message: "After a Sync response with MoreAvailable, keep syncing that collection (GetChanges \
              not 0) until the server has no more, before going to Ping",
};

/// The keys of one sequence (FolderSync, or one collection).
#[derive(Debug, Default, Clone)]
struct Keys {
    current: Option<String>,
    previous: Option<String>,
    /// The previous key was already sent again once.
    resent: bool,
    /// Set at a Status 3 / 9: the next request must use 0.
    reset_required: Option<u64>,
}

enum Use {
    Ok,
    Resend,
    SecondResend,
    Stale,
    Unknown,
}

impl Keys {
    fn judge(&mut self, sent: &str) -> Use {
        match (&self.current, &self.previous) {
            (Some(c), _) if c == sent => Use::Ok,
            (_, Some(p)) if p == sent => {
                if self.resent {
                    Use::SecondResend
                } else {
                    self.resent = true;
                    Use::Resend
                }
            }
            (Some(_), _) => Use::Stale,
            (None, _) => Use::Unknown,
        }
    }

    /// The server answered a request that sent `sent` with key `issued`.
    fn issued(&mut self, sent: Option<&str>, issued: String) {
        if self.current.as_deref() == Some(issued.as_str()) {
            return;
        }
        let previous = sent
            .filter(|s| *s != "0")
            .map(str::to_string)
            .or_else(|| self.current.clone());
        if previous != self.previous {
            self.resent = false;
        }
        self.previous = previous;
        self.current = Some(issued);
    }
}

#[derive(Debug, Default)]
pub struct State {
    folders: Keys,
    collections: BTreeMap<String, Keys>,
    /// The referee saw the session start over (FolderSync 0).
    fresh: bool,
    /// Why a FolderSync is due: (exchange, what the server said).
    folder_sync_due: Option<(u64, String)>,
    /// Collections with MoreAvailable in the last response: exchange.
    more: BTreeMap<String, u64>,
}

impl State {
    pub fn request(&mut self, o: &Observed, v: &mut Verdict) {
        let Some(command) = o.command().filter(|_| o.is_post()) else {
            return;
        };
        let seq = o.seq;
        match command {
            Command::FolderSync => {
                self.folder_sync_due = None;
                let Some(key) = o.request.as_ref().and_then(|r| text_of(r, "SyncKey")) else {
                    return;
                };
                if let Some(at) = self.folders.reset_required.take() {
                    v.expect(&FOLDERSYNC_RESET, key == "0", seq, || {
                        format!("exchange #{at} answered FolderSync Status 9; this FolderSync sends key {key}, not 0")
                    });
                }
                if key == "0" {
                    self.fresh = true;
                    return;
                }
                judge_key(
                    &mut self.folders,
                    &key,
                    self.fresh,
                    &FOLDERSYNC_KEY,
                    "FolderSync",
                    seq,
                    v,
                );
            }
            Command::Sync | Command::Ping | Command::GetItemEstimate => {
                if let Some((at, why)) = self.folder_sync_due.take() {
                    v.fail(
                        &FOLDERSYNC_REQUIRED,
                        seq,
                        format!(
                            "exchange #{at} answered {why}; this {command} came before a FolderSync"
                        ),
                    );
                } else if command != Command::GetItemEstimate {
                    v.applies(&FOLDERSYNC_REQUIRED);
                }
                self.more_available(o, command, v);
                if command == Command::Sync {
                    self.sync_request(o, v);
                }
            }
            _ => {}
        }
    }

    fn more_available(&mut self, o: &Observed, command: Command, v: &mut Verdict) {
        if self.more.is_empty() {
            return;
        }
        let seq = o.seq;
        let pending = std::mem::take(&mut self.more);
        match command {
            Command::Ping => {
                for (id, at) in pending {
                    v.fail(
                        &MORE_AVAILABLE,
                        seq,
                        format!("exchange #{at} said MoreAvailable for collection {id}; the client went to Ping instead of fetching the rest"),
                    );
                }
            }
            Command::Sync => {
                let Some(root) = &o.request else {
                    // An empty Sync repeats the cached request, which
                    // holds the collection.
                    v.applies(&MORE_AVAILABLE);
                    return;
                };
                let partial = root.child("Partial").is_some();
                let asked: BTreeMap<String, Option<String>> = collections(root)
                    .into_iter()
                    .filter_map(|c| Some((text_of(c, "CollectionId")?, text_of(c, "GetChanges"))))
                    .collect();
                for (id, at) in pending {
                    match asked.get(&id) {
                        Some(Some(g)) if g == "0" => v.fail(
                            &MORE_AVAILABLE,
                            seq,
                            format!("exchange #{at} said MoreAvailable for collection {id}; this Sync sends GetChanges 0 for it"),
                        ),
                        Some(_) => v.applies(&MORE_AVAILABLE),
                        None if partial => {
                            self.more.insert(id, at);
                        }
                        None => v.fail(
                            &MORE_AVAILABLE,
                            seq,
                            format!("exchange #{at} said MoreAvailable for collection {id}; this Sync leaves it out"),
                        ),
                    }
                }
            }
            _ => self.more = pending,
        }
    }

    fn sync_request(&mut self, o: &Observed, v: &mut Verdict) {
        let Some(root) = &o.request else {
            return;
        };
        let seq = o.seq;
        for c in collections(root) {
            let (Some(id), Some(key)) = (text_of(c, "CollectionId"), text_of(c, "SyncKey")) else {
                continue;
            };
            if c.child("Supported").is_some() {
                v.expect(&SUPPORTED, key == "0", seq, || {
                    format!("collection {id}: Supported with SyncKey {key}")
                });
            }
            let keys = self.collections.entry(id.clone()).or_default();
            if let Some(at) = keys.reset_required.take() {
                v.expect(&SYNC_RESET, key == "0", seq, || {
                    format!("exchange #{at} answered Status 3 for collection {id}; this Sync sends key {key}, not 0")
                });
                // One finding for one mistake: the key is not judged again.
                continue;
            }
            if key == "0" {
                continue;
            }
            if keys.current.is_none() && keys.previous.is_none() {
                if self.fresh {
                    v.fail(
                        &UNINITIALISED,
                        seq,
                        format!("collection {id}: SyncKey {key}, but the client never synced it with SyncKey 0"),
                    );
                }
                continue;
            }
            v.applies(&UNINITIALISED);
            judge_key(
                keys,
                &key,
                true,
                &SYNC_KEY,
                &format!("collection {id}"),
                seq,
                v,
            );
        }
    }

    pub fn response(&mut self, o: &Observed) {
        let Some(command) = o.command().filter(|_| o.is_post()) else {
            return;
        };
        let seq = o.seq;
        let Some(root) = &o.response else {
            return;
        };
        let status = o.response_status();
        match command {
            Command::FolderSync => {
                let sent = o.request.as_ref().and_then(|r| text_of(r, "SyncKey"));
                match status {
                    Some(1) => {
                        if let Some(issued) = text_of(root, "SyncKey") {
                            self.folders.issued(sent.as_deref(), issued);
                        }
                    }
                    Some(9) => {
                        self.folders.reset_required = Some(seq);
                        self.folder_sync_due = Some((seq, "FolderSync Status 9".to_string()));
                    }
                    _ => {}
                }
            }
            Command::Ping if status == Some(7) => {
                self.folder_sync_due = Some((seq, "Ping Status 7".to_string()));
            }
            Command::Sync => {
                if status == Some(12) {
                    self.folder_sync_due = Some((seq, "Sync Status 12".to_string()));
                }
                let sent: BTreeMap<String, String> = o
                    .request
                    .as_ref()
                    .map(|r| {
                        collections(r)
                            .into_iter()
                            .filter_map(|c| {
                                Some((text_of(c, "CollectionId")?, text_of(c, "SyncKey")?))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let mut seen = BTreeSet::new();
                for c in collections(root) {
                    let Some(id) = text_of(c, "CollectionId") else {
                        continue;
                    };
                    seen.insert(id.clone());
                    let keys = self.collections.entry(id.clone()).or_default();
                    match text_of(c, "Status").as_deref() {
                        Some("1") => {
                            if let Some(issued) = text_of(c, "SyncKey") {
                                keys.issued(sent.get(&id).map(String::as_str), issued);
                            }
                            if c.child("MoreAvailable").is_some() {
                                self.more.insert(id, seq);
                            }
                        }
                        Some("3") => {
                            keys.reset_required = Some(seq);
                            keys.current = None;
                            keys.previous = None;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn judge_key(
    keys: &mut Keys,
    sent: &str,
    fresh: bool,
    check: &'static Check,
    what: &str,
    seq: u64,
    v: &mut Verdict,
) {
    match keys.judge(sent) {
        Use::Ok | Use::Resend => v.applies(check),
        Use::SecondResend => v.fail(
            check,
            seq,
            format!("{what}: SyncKey {sent} is the previous key, sent again a second time (one resend recovers a lost response)"),
        ),
        Use::Stale => v.fail(
            check,
            seq,
            format!(
                "{what}: SyncKey {sent}; the server last issued {}",
                keys.current.as_deref().unwrap_or("?")
            ),
        ),
        Use::Unknown if fresh => v.fail(
            check,
            seq,
            format!("{what}: SyncKey {sent}, a key the server never issued in this session"),
        ),
        Use::Unknown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Observed, Tracker, judge};
    use crate::wbxml::Element;

    const A: &str = "AirSync";
    const F: &str = "FolderHierarchy";

    fn sync_req(collections: Vec<Element>) -> Element {
        parent(A, "Sync", vec![parent(A, "Collections", collections)])
    }

    fn coll(key: &str, id: &str, extra: Vec<Element>) -> Element {
        let mut children = vec![leaf(A, "SyncKey", key), leaf(A, "CollectionId", id)];
        children.extend(extra);
        parent(A, "Collection", children)
    }

    fn answer(id: &str, key: &str, status: &str, more: bool) -> Element {
        let mut children = vec![
            leaf(A, "SyncKey", key),
            leaf(A, "CollectionId", id),
            leaf(A, "Status", status),
        ];
        if more {
            children.push(parent(A, "MoreAvailable", vec![]));
        }
        parent(
            A,
            "Sync",
            vec![parent(
                A,
                "Collections",
                vec![parent(A, "Collection", children)],
            )],
        )
    }

    fn sync(seq: u64, key: &str, id: &str, resp: Element) -> Observed {
        post(
            seq,
            "Sync",
            Some(sync_req(vec![coll(key, id, vec![])])),
            Some(resp),
        )
    }

    fn folder_sync(seq: u64, key: &str, issued: &str, status: &str) -> Observed {
        post(
            seq,
            "FolderSync",
            Some(parent(F, "FolderSync", vec![leaf(F, "SyncKey", key)])),
            Some(parent(
                F,
                "FolderSync",
                vec![leaf(F, "Status", status), leaf(F, "SyncKey", issued)],
            )),
        )
    }

    fn ids(t: &mut Tracker, o: &Observed) -> Vec<&'static str> {
        judge(t, o, &limits())
            .findings
            .iter()
            .map(|f| f.check.id)
            .collect()
    }

    #[test]
    fn keys_in_sequence_with_one_resend() {
        let mut t = Tracker::default();
        assert!(ids(&mut t, &folder_sync(1, "0", "1", "1")).is_empty());
        assert!(ids(&mut t, &sync(2, "0", "5", answer("5", "k1", "1", false))).is_empty());
        assert!(ids(&mut t, &sync(3, "k1", "5", answer("5", "k2", "1", false))).is_empty());
        // The response to #3 was lost: k1 once more is the allowed resend.
        assert!(ids(&mut t, &sync(4, "k1", "5", answer("5", "k2", "1", false))).is_empty());
        assert_eq!(
            ids(&mut t, &sync(5, "k1", "5", answer("5", "k2", "1", false))),
            ["sync.synckey"]
        );
        assert!(ids(&mut t, &sync(6, "k2", "5", answer("5", "k3", "1", false))).is_empty());
        assert_eq!(
            ids(
                &mut t,
                &sync(7, "bogus", "5", answer("5", "k3", "3", false))
            ),
            ["sync.synckey"]
        );
        // Status 3: back to 0.
        assert_eq!(
            ids(&mut t, &sync(8, "k3", "5", answer("5", "k3", "3", false))),
            ["sync.reset-after-status-3"]
        );
        assert!(ids(&mut t, &sync(9, "0", "5", answer("5", "n1", "1", false))).is_empty());
    }

    #[test]
    fn uninitialised_collection_and_supported() {
        let mut t = Tracker::default();
        ids(&mut t, &folder_sync(1, "0", "1", "1"));
        assert_eq!(
            ids(&mut t, &sync(2, "77", "9", answer("9", "1", "3", false))),
            ["sync.uninitialised-collection"]
        );
        let supported = post(
            3,
            "Sync",
            Some(sync_req(vec![coll(
                "k",
                "8",
                vec![parent(A, "Supported", vec![])],
            )])),
            None,
        );
        let found = ids(&mut t, &supported);
        assert!(found.contains(&"sync.supported-nonzero-key"), "{found:?}");
    }

    #[test]
    fn folder_sync_after_status_12_and_9() {
        let mut t = Tracker::default();
        ids(&mut t, &folder_sync(1, "0", "1", "1"));
        let twelve = post(
            2,
            "Sync",
            Some(sync_req(vec![coll("0", "1", vec![])])),
            Some(parent(A, "Sync", vec![leaf(A, "Status", "12")])),
        );
        ids(&mut t, &twelve);
        assert_eq!(
            ids(&mut t, &sync(3, "0", "1", answer("1", "a", "1", false))),
            ["foldersync.required"]
        );

        let mut t = Tracker::default();
        ids(&mut t, &folder_sync(1, "0", "1", "1"));
        ids(&mut t, &folder_sync(2, "1", "", "9"));
        assert_eq!(
            ids(&mut t, &folder_sync(3, "1", "2", "1")),
            ["foldersync.reset-after-status-9"]
        );
        assert!(ids(&mut t, &folder_sync(4, "0", "3", "1")).is_empty());
        assert_eq!(
            ids(&mut t, &folder_sync(5, "1", "4", "1")),
            ["foldersync.synckey"]
        );
    }

    #[test]
    fn more_available_then_ping() {
        let mut t = Tracker::default();
        ids(&mut t, &sync(1, "0", "1", answer("1", "a", "1", false)));
        ids(&mut t, &sync(2, "a", "1", answer("1", "b", "1", true)));
        let ping = post(3, "Ping", None, None);
        assert_eq!(ids(&mut t, &ping), ["sync.more-available"]);

        let mut t = Tracker::default();
        ids(&mut t, &sync(1, "0", "1", answer("1", "a", "1", false)));
        ids(&mut t, &sync(2, "a", "1", answer("1", "b", "1", true)));
        assert!(ids(&mut t, &sync(3, "b", "1", answer("1", "c", "1", false))).is_empty());
        assert!(ids(&mut t, &post(4, "Ping", None, None)).is_empty());
    }
}
