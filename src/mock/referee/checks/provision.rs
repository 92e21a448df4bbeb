//! MS-ASPROV: the two-phase handshake, the policy key on every later
//! request, provisioning again when the server asks for it, and the remote
//! wipe acknowledgment.
//!
//! The referee follows the keys the server issued in the Provision
//! responses it observed: the temporary key of phase 1 and the final key of
//! phase 2. Keys never appear in findings (they are secrets of the device's
//! session); a finding names the exchange that issued the key instead.

use crate::protocol::Command;
use crate::wbxml::Element;

use super::super::{Check, Severity};
use super::{Observed, Verdict, text_of};

pub static POLICY_KEY: Check = Check {
    id: "http.policy-key",
    severity: Severity::Must,
    reference: "MS-ASHTTP 2.2.1.1.2.8; MS-ASPROV 3.1.5.1.2.1",
    message: "Once provisioned, send the final policy key of the last Provision acknowledgment \
              with every command (X-MS-PolicyKey, or the base64 request line's Policy key)",
};

pub static PHASE_ORDER: Check = Check {
    id: "provision.phase-order",
    severity: Severity::Must,
    reference: "MS-ASPROV 3.1.5.1.1, 3.1.5.1.2.1",
    message: "Acknowledge a policy (Provision with PolicyKey and Status) only after the server \
              sent it in answer to an initial Provision request",
};

pub static ACK_KEY: Check = Check {
    id: "provision.ack-key",
    severity: Severity::Must,
    reference: "MS-ASPROV 3.1.5.1.2.1",
    message: "In the acknowledgment, set PolicyKey to the temporary key of the server's response \
              to the initial Provision request",
};

pub static AFTER_449: Check = Check {
    id: "provision.after-449",
    severity: Severity::Must,
    reference: "MS-ASPROV 3.1.5.1; MS-ASCMD 2.2.2 (Status 140, 142, 143, 144)",
    message: "After HTTP 449 or Status 140/142/143/144, send Provision before any other command",
};

pub static WIPE_ACK: Check = Check {
    id: "provision.wipe-ack",
    severity: Severity::Must,
    reference: "MS-ASPROV 3.1.5.1.2.2",
    message: "After a Provision response with RemoteWipe (or AccountOnlyRemoteWipe), acknowledge \
              it with a Provision request carrying RemoteWipe/Status before anything else",
};

/// Status codes that send the client back to Provision (MS-ASCMD 2.2.2).
const PROVISION_AGAIN: &[u32] = &[140, 142, 143, 144];

#[derive(Debug, Default)]
pub struct State {
    /// The temporary key of the last phase 1 response, and its exchange.
    temporary: Option<(u64, String)>,
    /// The final key of the last acknowledgment, and its exchange.
    final_key: Option<(u64, String)>,
    /// The exchange whose response asked for Provision, and why.
    must_provision: Option<(u64, String)>,
    /// The exchange whose response ordered a wipe.
    wipe: Option<u64>,
}

/// What a Provision request is.
enum Phase {
    /// Policies/Policy without a key: asks for the policy.
    Initial,
    /// Policies/Policy with PolicyKey (and Status): acknowledges it.
    Acknowledge(Option<String>),
    /// RemoteWipe or AccountOnlyRemoteWipe with a Status.
    WipeAck,
    Other,
}

fn phase(request: Option<&Element>) -> Phase {
    let Some(root) = request else {
        return Phase::Other;
    };
    if ["RemoteWipe", "AccountOnlyRemoteWipe"]
        .iter()
        .any(|n| root.child(n).is_some_and(|w| w.child("Status").is_some()))
    {
        return Phase::WipeAck;
    }
    let Some(policy) = root.child("Policies").and_then(|p| p.child("Policy")) else {
        return Phase::Other;
    };
    if policy.child("PolicyKey").is_some() || policy.child("Status").is_some() {
        Phase::Acknowledge(text_of(policy, "PolicyKey"))
    } else {
        Phase::Initial
    }
}

/// Keys compare as numbers when both are (they SHOULD be 32-bit unsigned
/// integers, MS-ASPROV 2.2.2.42), else as text.
fn same_key(a: &str, b: &str) -> bool {
    match (a.trim().parse::<u32>(), b.trim().parse::<u32>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

impl State {
    pub fn request(&mut self, o: &Observed, v: &mut Verdict) {
        if !o.is_post() {
            return;
        }
        let Some(command) = o.command() else {
            return;
        };
        let seq = o.seq;
        let provision = command == Command::Provision;
        let phase = if provision {
            phase(o.request.as_ref())
        } else {
            Phase::Other
        };

        if let Some(at) = self.wipe.take() {
            v.expect(&WIPE_ACK, matches!(phase, Phase::WipeAck), seq, || {
                format!(
                    "exchange #{at} ordered a remote wipe; this request is {} instead of its \
                     acknowledgment",
                    command
                )
            });
        }
        if let Some((at, why)) = self.must_provision.take() {
            v.expect(&AFTER_449, provision, seq, || {
                format!("exchange #{at} answered {why}; this request is {command}, not Provision")
            });
        }

        if provision {
            if let Phase::Acknowledge(key) = &phase {
                match &self.temporary {
                    None => v.fail(
                        &PHASE_ORDER,
                        seq,
                        "an acknowledgment with no initial Provision response before it",
                    ),
                    Some((at, temporary)) => {
                        v.applies(&PHASE_ORDER);
                        let at = *at;
                        let ok = key.as_deref().is_some_and(|k| same_key(k, temporary));
                        v.expect(&ACK_KEY, ok, seq, || match key {
                            None => "the acknowledgment has no PolicyKey".to_string(),
                            Some(_) => format!(
                                "the acknowledged PolicyKey is not the temporary key exchange \
                                 #{at} issued"
                            ),
                        });
                    }
                }
            }
            return;
        }

        if command.requires_policy_key()
            && let Some((at, key)) = &self.final_key
        {
            let sent = o
                .query()
                .and_then(|q| q.policy_key.map(|k| k.to_string()))
                .or_else(|| o.header("X-MS-PolicyKey").map(str::to_string));
            let at = *at;
            let ok = sent.as_deref().is_some_and(|s| same_key(s, key));
            v.expect(&POLICY_KEY, ok, seq, || match sent {
                None => format!("no policy key, though exchange #{at} completed provisioning"),
                Some(_) => {
                    format!("the policy key sent is not the final key exchange #{at} issued")
                }
            });
        }
    }

    pub fn response(&mut self, o: &Observed) {
        if !o.is_post() {
            return;
        }
        let seq = o.seq;
        if o.status == 449 {
            self.must_provision = Some((seq, "HTTP 449".to_string()));
        } else if o.command() != Some(Command::Provision)
            && let Some(status) = o.response_status()
            && PROVISION_AGAIN.contains(&status)
        {
            self.must_provision = Some((seq, format!("Status {status}")));
        }
        if o.command() != Some(Command::Provision) || o.status != 200 {
            return;
        }
        let Some(root) = &o.response else {
            return;
        };
        if root.child("RemoteWipe").is_some() || root.child("AccountOnlyRemoteWipe").is_some() {
            self.wipe = Some(seq);
        }
        let issued = root
            .child("Policies")
            .and_then(|p| p.child("Policy"))
            .filter(|p| text_of(p, "Status").as_deref() == Some("1"))
            .and_then(|p| text_of(p, "PolicyKey"));
        let Some(issued) = issued else {
            return;
        };
        match phase(o.request.as_ref()) {
            Phase::Initial => self.temporary = Some((seq, issued)),
            Phase::Acknowledge(_) => {
                self.temporary = None;
                self.final_key = Some((seq, issued));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Tracker, judge};
    use crate::wbxml::Element;

    const P: &str = "Provision";

    fn policy(children: Vec<Element>) -> Element {
        parent(
            P,
            "Provision",
            vec![parent(P, "Policies", vec![parent(P, "Policy", children)])],
        )
    }

    fn initial() -> Element {
        policy(vec![leaf(P, "PolicyType", "MS-EAS-Provisioning-WBXML")])
    }

    fn ack(key: &str) -> Element {
        policy(vec![
            leaf(P, "PolicyType", "MS-EAS-Provisioning-WBXML"),
            leaf(P, "PolicyKey", key),
            leaf(P, "Status", "1"),
        ])
    }

    fn issued(key: &str) -> Element {
        parent(
            P,
            "Provision",
            vec![
                leaf(P, "Status", "1"),
                parent(
                    P,
                    "Policies",
                    vec![parent(
                        P,
                        "Policy",
                        vec![
                            leaf(P, "PolicyType", "MS-EAS-Provisioning-WBXML"),
                            leaf(P, "Status", "1"),
                            leaf(P, "PolicyKey", key),
                        ],
                    )],
                ),
            ],
        )
    }

    fn ids(t: &mut Tracker, o: &super::Observed) -> Vec<&'static str> {
        judge(t, o, &limits())
            .findings
            .iter()
            .map(|f| f.check.id)
            .collect()
    }

    fn fs(seq: u64, key: Option<&str>) -> super::Observed {
        let mut o = post(
            seq,
            "FolderSync",
            Some(parent(
                "FolderHierarchy",
                "FolderSync",
                vec![leaf("FolderHierarchy", "SyncKey", "0")],
            )),
            None,
        );
        if let Some(k) = key {
            o.request_headers
                .insert("X-MS-PolicyKey", k.parse().unwrap());
        }
        o
    }

    #[test]
    fn the_handshake_and_the_final_key() {
        let mut t = Tracker::default();
        assert!(ids(&mut t, &post(1, P, Some(initial()), Some(issued("111")))).is_empty());
        assert!(ids(&mut t, &post(2, P, Some(ack("111")), Some(issued("222")))).is_empty());
        assert!(ids(&mut t, &fs(3, Some("222"))).is_empty());
        assert_eq!(ids(&mut t, &fs(4, Some("111"))), ["http.policy-key"]);
        assert_eq!(ids(&mut t, &fs(5, None)), ["http.policy-key"]);
    }

    #[test]
    fn acknowledging_the_wrong_key_or_out_of_order() {
        let mut t = Tracker::default();
        assert_eq!(
            ids(&mut t, &post(1, P, Some(ack("5")), None)),
            ["provision.phase-order"]
        );
        let mut t = Tracker::default();
        ids(&mut t, &post(1, P, Some(initial()), Some(issued("111"))));
        assert_eq!(
            ids(&mut t, &post(2, P, Some(ack("112")), None)),
            ["provision.ack-key"]
        );
    }

    #[test]
    fn after_449_or_status_142_the_next_request_is_provision() {
        let mut t = Tracker::default();
        let mut refused = fs(1, None);
        refused.status = 449;
        assert!(ids(&mut t, &refused).is_empty());
        assert_eq!(ids(&mut t, &fs(2, None)), ["provision.after-449"]);

        let mut t = Tracker::default();
        let mut refused = fs(1, None);
        refused.response = Some(parent(
            "FolderHierarchy",
            "FolderSync",
            vec![leaf("FolderHierarchy", "Status", "142")],
        ));
        ids(&mut t, &refused);
        assert!(ids(&mut t, &post(2, P, Some(initial()), Some(issued("1")))).is_empty());
    }

    #[test]
    fn a_wipe_order_is_acknowledged_first() {
        let mut t = Tracker::default();
        let wipe = parent(
            P,
            "Provision",
            vec![leaf(P, "Status", "1"), parent(P, "RemoteWipe", vec![])],
        );
        ids(&mut t, &post(1, P, Some(initial()), Some(wipe.clone())));
        assert_eq!(ids(&mut t, &fs(2, None)), ["provision.wipe-ack"]);

        let mut t = Tracker::default();
        ids(&mut t, &post(1, P, Some(initial()), Some(wipe)));
        let ack = parent(
            P,
            "Provision",
            vec![parent(P, "RemoteWipe", vec![leaf(P, "Status", "1")])],
        );
        assert!(ids(&mut t, &post(2, P, Some(ack), None)).is_empty());
    }
}
