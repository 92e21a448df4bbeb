//! The request body: well-formed WBXML valid for the negotiated version
//! (strict decoding), the command's root element, and, for the commands in
//! [`SCHEMA`], the required elements present and in the order MS-ASCMD
//! prescribes.
//!
//! Covered by the schema table: FolderSync, Sync, Ping, Provision,
//! GetItemEstimate, MoveItems, ItemOperations. Only the rules MS-ASCMD /
//! MS-ASPROV state (an element "required", "1...1", or "MUST precede") are
//! in it; optional elements are not required, and an element the table does
//! not name is never flagged here (strict decoding already rejects elements
//! that do not exist in the version).

use crate::mock::command::root_of;
use crate::protocol::{Command, RequestBody};
use crate::wbxml::{Element, ProtocolVersion};

use super::super::{Check, Severity};
use super::{Observed, Verdict};

pub static VALID: Check = Check {
    id: "wbxml.valid",
    severity: Severity::Must,
    reference: "MS-ASWBXML 2.1; MS-ASCMD 2.2.2 (Status 102 InvalidWBXML)",
    message: "Send well-formed WBXML using only the tags of the code pages that exist in the \
              negotiated protocol version",
};

pub static ROOT: Check = Check {
    id: "wbxml.root",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.1 (each command's top-level element); MS-ASCMD 2.2.2 (Status 103)",
    message: "Make the request's root element the command's own (Cmd=Sync: AirSync:Sync)",
};

pub static REQUIRED: Check = Check {
    id: "wbxml.required-element",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3 (element tables: Number allowed 1...1); MS-ASPROV 2.2.2",
    message: "Include every element the command's request requires",
};

pub static ORDER: Check = Check {
    id: "wbxml.element-order",
    severity: Severity::Must,
    reference: "MS-ASCMD 2.2.3.29.2, 2.2.3.181.3; MS-ASPROV 2.2.2.41",
    message: "Send the elements of a request in the order the protocol prescribes",
};

/// One rule: the elements at `path` below the root (`[]`: the root itself)
/// must have the `required` children (`A|B`: one of them) and keep the
/// children named in `order` in that relative order.
struct Rule {
    command: Command,
    path: &'static [&'static str],
    required: &'static [&'static str],
    order: &'static [&'static str],
    /// The first version the rule holds in.
    since: ProtocolVersion,
    reference: &'static str,
}

const ALL: ProtocolVersion = ProtocolVersion::V12_1;

static SCHEMA: &[Rule] = &[
    Rule {
        command: Command::FolderSync,
        path: &[],
        required: &["SyncKey"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.3.181.2",
    },
    Rule {
        command: Command::Sync,
        path: &[],
        required: &["Collections|Partial"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.3.131",
    },
    Rule {
        command: Command::Sync,
        path: &["Collections", "Collection"],
        required: &["SyncKey", "CollectionId"],
        // The sequence of the request's Collection (the mock enforces it
        // too: Status 4 out of order).
        order: crate::mock::sync::COLLECTION_ORDER,
        since: ALL,
        reference: "MS-ASCMD 2.2.3.29.2, 2.2.3.181.4",
    },
    Rule {
        command: Command::Sync,
        path: &["Collections", "Collection", "Commands", "Add"],
        required: &["ClientId", "ApplicationData"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.21 (Add)",
    },
    Rule {
        command: Command::Sync,
        path: &["Collections", "Collection", "Commands", "Change"],
        required: &["ServerId", "ApplicationData"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.21 (Change)",
    },
    Rule {
        command: Command::Sync,
        path: &["Collections", "Collection", "Commands", "Delete"],
        required: &["ServerId"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.21 (Delete)",
    },
    Rule {
        command: Command::Sync,
        path: &["Collections", "Collection", "Commands", "Fetch"],
        required: &["ServerId"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.21 (Fetch)",
    },
    Rule {
        command: Command::Ping,
        path: &["Folders", "Folder"],
        required: &["Id", "Class"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.13 (Folder)",
    },
    Rule {
        command: Command::Provision,
        path: &["Policies", "Policy"],
        required: &["PolicyType"],
        order: &["PolicyKey", "Status"],
        since: ALL,
        reference: "MS-ASPROV 2.2.2.41",
    },
    Rule {
        command: Command::Provision,
        path: &["RemoteWipe"],
        required: &["Status"],
        order: &[],
        since: ALL,
        reference: "MS-ASPROV 3.1.5.1.2.2",
    },
    Rule {
        command: Command::GetItemEstimate,
        path: &[],
        required: &["Collections"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.9",
    },
    Rule {
        command: Command::GetItemEstimate,
        path: &["Collections", "Collection"],
        required: &["SyncKey", "CollectionId"],
        // "SyncKey is the first child element of the Collection element."
        order: &["SyncKey", "CollectionId", "ConversationMode", "Options"],
        since: ProtocolVersion::V14_0,
        reference: "MS-ASCMD 2.2.3.181.3",
    },
    Rule {
        command: Command::MoveItems,
        path: &[],
        required: &["Move"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.12",
    },
    Rule {
        command: Command::MoveItems,
        path: &["Move"],
        required: &["SrcMsgId", "SrcFldId", "DstFldId"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.12 (Move)",
    },
    Rule {
        command: Command::ItemOperations,
        path: &[],
        required: &["Fetch|EmptyFolderContents|Move"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.10",
    },
    Rule {
        command: Command::ItemOperations,
        path: &["Fetch"],
        required: &["Store"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.10 (Fetch)",
    },
    Rule {
        command: Command::ItemOperations,
        path: &["EmptyFolderContents"],
        required: &["CollectionId"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.10 (EmptyFolderContents)",
    },
    Rule {
        command: Command::ItemOperations,
        path: &["Move"],
        required: &["ConversationId", "DstFldId"],
        order: &[],
        since: ALL,
        reference: "MS-ASCMD 2.2.1.10 (Move)",
    },
];

/// The commands the schema table covers.
pub fn covered() -> Vec<Command> {
    let mut out: Vec<Command> = Vec::new();
    for r in SCHEMA {
        if !out.contains(&r.command) {
            out.push(r.command);
        }
    }
    out
}

pub fn request(o: &Observed, v: &mut Verdict) {
    let (Some(command), Some(version)) = (o.command(), o.version) else {
        return;
    };
    if !o.is_post() || o.body.is_empty() {
        return;
    }
    if matches!(
        command.request_body(version),
        RequestBody::None | RequestBody::Mime
    ) {
        return;
    }
    if let Some(error) = &o.strict_error {
        v.fail(
            &VALID,
            o.seq,
            format!("not valid WBXML for {version}: {error}"),
        );
        return;
    }
    v.applies(&VALID);
    let Some(root) = &o.request else {
        return;
    };
    if let Some((ns, name)) = root_of(command) {
        let ok = root.namespace == ns && root.name == name;
        v.expect(&ROOT, ok, o.seq, || {
            format!(
                "the root is {}:{}; a {command} request's is {ns}:{name}",
                root.namespace, root.name
            )
        });
        if !ok {
            return;
        }
    }
    for rule in SCHEMA
        .iter()
        .filter(|r| r.command == command && version >= r.since)
    {
        let mut at = Vec::new();
        descend(root, rule.path, &mut at);
        for element in at {
            check_element(element, rule, o.seq, v);
        }
    }
}

fn descend<'a>(element: &'a Element, path: &'static [&'static str], out: &mut Vec<&'a Element>) {
    match path.split_first() {
        None => out.push(element),
        Some((first, rest)) => {
            for child in element.elements_named(first) {
                descend(child, rest, out);
            }
        }
    }
}

fn check_element(element: &Element, rule: &Rule, seq: u64, v: &mut Verdict) {
    let names = element.child_names();
    let where_ = if rule.path.is_empty() {
        element.name.clone()
    } else {
        rule.path.join("/")
    };
    for required in rule.required {
        let any = required.split('|').any(|n| names.contains(&n));
        v.expect(&REQUIRED, any, seq, || {
            let what = required.replace('|', " or ");
            format!("{where_} has no {what} ({})", rule.reference)
        });
    }
    if !rule.order.is_empty() {
        let ranks: Vec<(usize, &str)> = names
            .iter()
            .filter_map(|n| rule.order.iter().position(|o| o == n).map(|r| (r, *n)))
            .collect();
        let wrong = ranks.windows(2).find(|w| w[1].0 < w[0].0);
        v.expect(&ORDER, wrong.is_none(), seq, || {
            let w = wrong.map(|w| (w[0].1, w[1].1)).unwrap_or_default();
            format!(
                "in {where_}, {} comes after {}; the order is {} ({})",
                w.1,
                w.0,
                rule.order.join(", "),
                rule.reference
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn run(cmd: &str, root: Element) -> Vec<(&'static str, String)> {
        let mut o = post(1, cmd, Some(root), None);
        o.body = axum::body::Bytes::from_static(b"x");
        let mut v = Verdict::default();
        request(&o, &mut v);
        v.findings
            .iter()
            .map(|f| (f.check.id, f.detail.clone()))
            .collect()
    }

    #[test]
    fn sync_collection_required_and_order() {
        let good = parent(
            "AirSync",
            "Sync",
            vec![parent(
                "AirSync",
                "Collections",
                vec![parent(
                    "AirSync",
                    "Collection",
                    vec![
                        leaf("AirSync", "SyncKey", "0"),
                        leaf("AirSync", "CollectionId", "1"),
                    ],
                )],
            )],
        );
        assert!(run("Sync", good).is_empty());
        let swapped = parent(
            "AirSync",
            "Sync",
            vec![parent(
                "AirSync",
                "Collections",
                vec![parent(
                    "AirSync",
                    "Collection",
                    vec![
                        leaf("AirSync", "CollectionId", "1"),
                        leaf("AirSync", "SyncKey", "0"),
                    ],
                )],
            )],
        );
        let f = run("Sync", swapped);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "wbxml.element-order");
        let missing = parent(
            "AirSync",
            "Sync",
            vec![parent(
                "AirSync",
                "Collections",
                vec![parent(
                    "AirSync",
                    "Collection",
                    vec![leaf("AirSync", "SyncKey", "0")],
                )],
            )],
        );
        let f = run("Sync", missing);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "wbxml.required-element");
        assert!(f[0].1.contains("CollectionId"), "{}", f[0].1);
    }

    #[test]
    fn alternatives_and_wrong_root() {
        let empty_ops = parent("ItemOperations", "ItemOperations", vec![]);
        let f = run("ItemOperations", empty_ops);
        assert_eq!(f[0].0, "wbxml.required-element");
        assert!(f[0].1.contains("Fetch or EmptyFolderContents or Move"));
        let wrong = parent(
            "FolderHierarchy",
            "FolderSync",
            vec![leaf("FolderHierarchy", "SyncKey", "0")],
        );
        assert_eq!(run("Sync", wrong)[0].0, "wbxml.root");
    }

    #[test]
    fn the_table_covers_the_briefed_commands() {
        let c = covered();
        for cmd in [
            Command::FolderSync,
            Command::Sync,
            Command::Ping,
            Command::Provision,
            Command::GetItemEstimate,
            Command::MoveItems,
            Command::ItemOperations,
        ] {
            assert!(c.contains(&cmd), "{cmd}");
        }
    }
}
