//! Long polls and polling rate: Ping's HeartbeatInterval and Sync's Wait /
//! HeartbeatInterval within the server's range, the limit the server
//! returned used after Ping Status 5 / Sync Status 14, and no busy polling.
//!
//! Busy polling (SHOULD; the protocol's long polls exist so that a client
//! does not poll, MS-ASCMD 2.2.1.13 and 2.2.3.198): two identical requests
//! (same command, same request line parameters, same body bytes) from one
//! device whose starts are less than [`super::Limits::min_poll_interval`]
//! apart (default 30 s: half of Exchange's shortest heartbeat; `eastest serve
//! --min-poll-interval`), when the first was answered without changes
//! (Ping Status 1, a Sync with no Commands and no MoreAvailable or an empty
//! Sync response, a FolderSync with no changes, GetItemEstimate estimates all
//! 0). A long poll that ran its heartbeat out is never busy: its start is a
//! heartbeat (at least a minute) before the next.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, SystemTime};

use crate::protocol::Command;
use crate::wbxml::Element;

use super::super::{Check, Severity};
use super::{Limits, Observed, Verdict, collections, text_of};

pub static PING_RANGE: Check = Check {
    id: "ping.heartbeat-range",
    severity: Severity::Should,
    reference: "MS-ASCMD 2.2.3.88.1 (HeartbeatInterval, Ping)",
    message: "Ask for a Ping HeartbeatInterval within the server's range (Exchange: 60 to 3540 s)",
};

pub static PING_AFTER_5: Check = Check {
    id: "ping.after-status-5",
    severity: Severity::Should,
    reference: "MS-ASCMD 2.2.3.177 (Ping Status 5); 2.2.3.88.1",
    message: "After Ping Status 5, send the next Ping with the HeartbeatInterval the response gave \
              (a value within the server's range)",
};

pub static SYNC_WAIT: Check = Check {
    id: "sync.wait-range",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.198 (Wait)",
    message: "Send Wait as 1 to 59 minutes, and never Wait together with HeartbeatInterval",
};

pub static SYNC_RANGE: Check = Check {
    id: "sync.heartbeat-range",
    severity: Severity::Should,
    reference: "MS-ASCMD 2.2.3.88.2 (HeartbeatInterval, Sync); 2.2.3.198",
    message: "Ask for a Sync Wait / HeartbeatInterval within the server's range",
};

pub static SYNC_AFTER_14: Check = Check {
    id: "sync.after-status-14",
    severity: Severity::Should,
    reference: "MS-ASCMD 2.2.3.177.17 (Sync Status 14); 2.2.3.97 (Limit)",
    message: "After Sync Status 14, send the next long-poll Sync with the Limit the response gave \
              (a value within the server's range)",
};

pub static BUSY: Check = Check {
    id: "polling.busy",
    severity: Severity::Should,
    reference: "MS-ASCMD 2.2.1.13 (Ping), 2.2.3.198 (Wait)",
    message: "Do not repeat an identical request that found nothing within seconds: long-poll \
              with Ping or a Sync Wait instead",
};

#[derive(Debug, Default)]
pub struct State {
    /// Ping Status 5: (exchange, the limit it returned).
    ping_limit: Option<(u64, Option<u32>)>,
    /// Sync Status 14: (exchange, the Limit it returned).
    sync_limit: Option<(u64, Option<u32>)>,
    /// Per command: the last request's fingerprint, start, exchange, and
    /// whether it was answered without changes.
    last: BTreeMap<&'static str, (u64, SystemTime, u64, bool)>,
}

fn in_range(secs: u32, range: (u32, u32)) -> bool {
    secs >= range.0 && secs <= range.1
}

fn number(e: &Element, name: &str) -> Option<Result<u32, String>> {
    text_of(e, name).map(|t| t.parse::<u32>().map_err(|_| t))
}

impl State {
    pub fn request(&mut self, o: &Observed, limits: &Limits, v: &mut Verdict) {
        let Some(command) = o.command().filter(|_| o.is_post()) else {
            return;
        };
        let seq = o.seq;
        let range = limits.heartbeat_range;
        match command {
            Command::Ping => {
                let asked = o
                    .request
                    .as_ref()
                    .and_then(|r| number(r, "HeartbeatInterval"));
                let after_5 = self.ping_limit.take();
                if let Some((at, limit)) = after_5 {
                    let ok = matches!(asked, Some(Ok(s)) if in_range(s, range));
                    v.expect(&PING_AFTER_5, ok, seq, || {
                        let given = limit.map(|l| format!(" (it gave {l})")).unwrap_or_default();
                        match &asked {
                            None => format!("exchange #{at} answered Ping Status 5{given}; this Ping sends no HeartbeatInterval"),
                            Some(Ok(s)) => format!("exchange #{at} answered Ping Status 5{given}; this Ping asks for {s} s again"),
                            Some(Err(t)) => format!("exchange #{at} answered Ping Status 5{given}; this Ping sends HeartbeatInterval `{t}`"),
                        }
                    });
                    if !ok {
                        return;
                    }
                }
                if let Some(asked) = asked {
                    let ok = matches!(asked, Ok(s) if in_range(s, range));
                    v.expect(&PING_RANGE, ok, seq, || match asked {
                        Ok(s) => format!(
                            "HeartbeatInterval {s} s; the server allows {} to {} s",
                            range.0, range.1
                        ),
                        Err(t) => format!("HeartbeatInterval `{t}` is not a number of seconds"),
                    });
                }
            }
            Command::Sync => {
                let root = o.request.as_ref();
                let wait = root.and_then(|r| number(r, "Wait"));
                let beat = root.and_then(|r| number(r, "HeartbeatInterval"));
                // In seconds, what the client asked to wait.
                let asked: Option<Result<u32, String>> = match (&wait, &beat) {
                    (Some(w), _) => Some(w.clone().map(|m| m.saturating_mul(60))),
                    (None, Some(b)) => Some(b.clone()),
                    (None, None) => None,
                };
                if let Some((at, limit)) = self.sync_limit.take()
                    && asked.is_some()
                {
                    let ok = matches!(asked, Some(Ok(s)) if in_range(s, range));
                    v.expect(&SYNC_AFTER_14, ok, seq, || {
                        let given = limit.map(|l| format!(" with Limit {l}")).unwrap_or_default();
                        format!("exchange #{at} answered Sync Status 14{given}; this Sync asks for the same out-of-range wait again")
                    });
                    if !ok {
                        return;
                    }
                }
                if let Some(w) = &wait {
                    let ok = matches!(w, Ok(m) if (1..=59).contains(m)) && beat.is_none();
                    v.expect(&SYNC_WAIT, ok, seq, || match (w, &beat) {
                        (_, Some(_)) => "Wait and HeartbeatInterval in the same Sync".to_string(),
                        (Ok(m), None) => format!("Wait {m}: valid values are 1 to 59 minutes"),
                        (Err(t), None) => format!("Wait `{t}` is not a number of minutes"),
                    });
                    if !ok {
                        return;
                    }
                }
                if let Some(a) = asked {
                    let ok = matches!(a, Ok(s) if in_range(s, range));
                    v.expect(&SYNC_RANGE, ok, seq, || match a {
                        Ok(s) => format!(
                            "a wait of {s} s; the server allows {} to {} s",
                            range.0, range.1
                        ),
                        Err(t) => format!("HeartbeatInterval `{t}` is not a number of seconds"),
                    });
                }
            }
            _ => {}
        }
        self.busy(o, command, limits.min_poll_interval, v);
    }

    fn busy(&mut self, o: &Observed, command: Command, min: Duration, v: &mut Verdict) {
        let Some(name) = polled(command) else {
            return;
        };
        let print = fingerprint(o);
        if let Some((last_print, started, at, nothing)) = self.last.get(name)
            && *last_print == print
            && *nothing
        {
            let gap = o.started.duration_since(*started).unwrap_or(Duration::ZERO);
            v.expect(&BUSY, gap >= min, o.seq, || {
                format!(
                    "the same {name} as exchange #{at}, which found nothing, {:.1} s later (at least {} s expected)",
                    gap.as_secs_f64(),
                    min.as_secs()
                )
            });
        }
    }

    pub fn response(&mut self, o: &Observed) {
        let Some(command) = o.command().filter(|_| o.is_post()) else {
            return;
        };
        let status = o.response_status();
        match command {
            Command::Ping if status == Some(5) => {
                let limit = o
                    .response
                    .as_ref()
                    .and_then(|r| number(r, "HeartbeatInterval"))
                    .and_then(Result::ok);
                self.ping_limit = Some((o.seq, limit));
            }
            Command::Sync if status == Some(14) => {
                let limit = o
                    .response
                    .as_ref()
                    .and_then(|r| number(r, "Limit"))
                    .and_then(Result::ok);
                self.sync_limit = Some((o.seq, limit));
            }
            _ => {}
        }
        if let Some(name) = polled(command) {
            let nothing = o.status == 200 && found_nothing(command, o.response.as_ref());
            self.last
                .insert(name, (fingerprint(o), o.started, o.seq, nothing));
        }
    }
}

/// The commands a client might poll with.
fn polled(command: Command) -> Option<&'static str> {
    matches!(
        command,
        Command::Ping | Command::Sync | Command::FolderSync | Command::GetItemEstimate
    )
    .then(|| command.name())
}

fn fingerprint(o: &Observed) -> u64 {
    let mut h = DefaultHasher::new();
    o.command().map(|c| c.name()).hash(&mut h);
    if let Some(q) = o.query() {
        for p in &q.params {
            p.name.as_str().hash(&mut h);
            p.value.hash(&mut h);
        }
    }
    o.body.hash(&mut h);
    h.finish()
}

/// Whether the response reported no change at all.
fn found_nothing(command: Command, response: Option<&Element>) -> bool {
    let status = response.and_then(|r| text_of(r, "Status"));
    match command {
        // An empty Sync response has no body at all.
        Command::Sync => response.is_none_or(|r| {
            status.as_deref().is_none_or(|s| s == "1")
                && collections(r)
                    .iter()
                    .all(|c| c.child("Commands").is_none() && c.child("MoreAvailable").is_none())
        }),
        Command::Ping => status.as_deref() == Some("1"),
        Command::FolderSync => response.is_some_and(|r| {
            status.as_deref() == Some("1")
                && r.child("Changes")
                    .is_none_or(|c| text_of(c, "Count").as_deref().is_none_or(|n| n == "0"))
        }),
        Command::GetItemEstimate => response.is_some_and(|r| {
            let estimates: Vec<String> = r
                .elements_named("Response")
                .filter_map(|resp| {
                    resp.child("Collection")
                        .and_then(|c| text_of(c, "Estimate"))
                })
                .collect();
            !estimates.is_empty() && estimates.iter().all(|e| e == "0")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Observed, Tracker, judge};
    use super::*;
    use crate::wbxml::Element;

    fn ping(seq: u64, beat: Option<&str>, status: &str, limit: Option<&str>) -> Observed {
        let req = beat.map(|b| parent("Ping", "Ping", vec![leaf("Ping", "HeartbeatInterval", b)]));
        let mut resp = vec![leaf("Ping", "Status", status)];
        if let Some(l) = limit {
            resp.push(leaf("Ping", "HeartbeatInterval", l));
        }
        post(seq, "Ping", req, Some(parent("Ping", "Ping", resp)))
    }

    fn ids(t: &mut Tracker, o: &Observed) -> Vec<&'static str> {
        judge(t, o, &limits())
            .findings
            .iter()
            .map(|f| f.check.id)
            .collect()
    }

    #[test]
    fn ping_interval_and_status_5() {
        let mut t = Tracker::default();
        assert_eq!(
            ids(&mut t, &ping(1, Some("5000"), "5", Some("3540"))),
            ["ping.heartbeat-range"]
        );
        assert_eq!(
            ids(&mut t, &ping(2, Some("5000"), "5", Some("3540"))),
            ["ping.after-status-5"]
        );
        assert_eq!(
            ids(&mut t, &ping(3, Some("5000"), "5", Some("3540"))),
            ["ping.after-status-5"]
        );
        assert!(ids(&mut t, &ping(4, Some("3540"), "1", None)).is_empty());
    }

    fn sync_wait(seq: u64, children: Vec<Element>, response: Element) -> Observed {
        post(
            seq,
            "Sync",
            Some(parent("AirSync", "Sync", children)),
            Some(response),
        )
    }

    #[test]
    fn sync_wait_values() {
        let ok = parent("AirSync", "Sync", vec![]);
        let mut t = Tracker::default();
        assert_eq!(
            ids(
                &mut t,
                &sync_wait(1, vec![leaf("AirSync", "Wait", "60")], ok.clone())
            ),
            ["sync.wait-range"]
        );
        assert_eq!(
            ids(
                &mut t,
                &sync_wait(
                    2,
                    vec![
                        leaf("AirSync", "Wait", "5"),
                        leaf("AirSync", "HeartbeatInterval", "300")
                    ],
                    ok.clone()
                )
            ),
            ["sync.wait-range"]
        );
        assert_eq!(
            ids(
                &mut t,
                &sync_wait(
                    3,
                    vec![leaf("AirSync", "HeartbeatInterval", "30")],
                    parent(
                        "AirSync",
                        "Sync",
                        vec![
                            leaf("AirSync", "Status", "14"),
                            leaf("AirSync", "Limit", "60")
                        ]
                    )
                )
            ),
            ["sync.heartbeat-range"]
        );
        assert_eq!(
            ids(
                &mut t,
                &sync_wait(
                    4,
                    vec![leaf("AirSync", "HeartbeatInterval", "30")],
                    ok.clone()
                )
            ),
            ["sync.after-status-14"]
        );
        assert!(
            ids(
                &mut t,
                &sync_wait(5, vec![leaf("AirSync", "HeartbeatInterval", "60")], ok)
            )
            .is_empty()
        );
    }

    #[test]
    fn busy_polling_needs_identical_requests_that_found_nothing() {
        let fs = |seq: u64, secs: u64, count: &str| {
            let mut o = post(
                seq,
                "FolderSync",
                Some(parent(
                    "FolderHierarchy",
                    "FolderSync",
                    vec![leaf("FolderHierarchy", "SyncKey", "1")],
                )),
                Some(parent(
                    "FolderHierarchy",
                    "FolderSync",
                    vec![
                        leaf("FolderHierarchy", "Status", "1"),
                        leaf("FolderHierarchy", "SyncKey", "1"),
                        parent(
                            "FolderHierarchy",
                            "Changes",
                            vec![leaf("FolderHierarchy", "Count", count)],
                        ),
                    ],
                )),
            );
            o.body = axum::body::Bytes::from_static(b"same");
            o.started = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
            o
        };
        let mut t = Tracker::default();
        assert!(ids(&mut t, &fs(1, 100, "0")).is_empty());
        assert_eq!(ids(&mut t, &fs(2, 105, "0")), ["polling.busy"]);
        assert!(ids(&mut t, &fs(3, 200, "2")).is_empty());
        // The previous one found changes: asking again at once is right.
        assert!(ids(&mut t, &fs(4, 201, "0")).is_empty());
    }
}
