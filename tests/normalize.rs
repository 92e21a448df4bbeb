//! The normaliser: snapshot texts that are identical across runs against
//! the same server, aliases stable across steps, lenient decoding, decode
//! errors, header filtering, and no secrets.

use eastest::runner::normalize::{Normalizer, ResponseView, SERVER_RELEASE_HEADERS, Snapshot};
use eastest::suite::Path;
use eastest::wbxml::{EncodeOptions, ProtocolVersion, encode};

mod common;

const V: ProtocolVersion = ProtocolVersion::V14_1;
const WBXML: &str = "application/vnd.ms-sync.wbxml";

fn wbxml(xml: &str) -> Vec<u8> {
    encode(xml, &EncodeOptions::strict(V)).expect("test XML encodes")
}

fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn shot(n: &mut Normalizer, status: u16, hdrs: &[(&str, &str)], body: &[u8]) -> Snapshot {
    let headers = headers(hdrs);
    n.snapshot(
        &ResponseView {
            status,
            headers: &headers,
            body,
        },
        V,
        &[],
    )
}

/// The answers of one suite-like sequence (FolderSync, Sync, MoveItems) as
/// one run of a server gives them; `run` changes every value a server
/// picks anew each run (keys, ids, times).
fn server_run(run: u32) -> Vec<Vec<u8>> {
    let inbox = format!("f{run}7");
    let sub = format!("f{run}9");
    let item = format!("{inbox}:{run}5");
    let moved = format!("{sub}:{run}1");
    vec![
        wbxml(&format!(
            r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>fk-{run}</SyncKey>
            <Changes><Count>2</Count>
              <Add><ServerId>{inbox}</ServerId><ParentId>0</ParentId><DisplayName>Inbox</DisplayName><Type>2</Type></Add>
              <Add><ServerId>{sub}</ServerId><ParentId>{inbox}</ParentId><DisplayName>Sub</DisplayName><Type>12</Type></Add>
            </Changes></FolderSync>"#
        )),
        wbxml(&format!(
            r#"<Sync xmlns="AirSync:" xmlns:E="Email:" xmlns:C="Calendar:"><Collections><Collection>
              <SyncKey>sk-{run}</SyncKey><CollectionId>{inbox}</CollectionId><Status>1</Status>
              <Commands><Add><ServerId>{item}</ServerId><ApplicationData>
                <E:Subject>Hello</E:Subject><E:DateReceived>2026-05-0{run}T10:00:00.000Z</E:DateReceived>
                <C:StartTime>20260601T090000Z</C:StartTime>
              </ApplicationData></Add></Commands>
            </Collection></Collections></Sync>"#
        )),
        wbxml(&format!(
            r#"<MoveItems xmlns="Move:"><Response><SrcMsgId>{item}</SrcMsgId><Status>3</Status>
              <DstMsgId>{moved}</DstMsgId></Response></MoveItems>"#
        )),
    ]
}

fn texts(bodies: &[Vec<u8>]) -> Vec<String> {
    let mut n = Normalizer::new();
    bodies
        .iter()
        .map(|b| shot(&mut n, 200, &[("Content-Type", WBXML), ("Date", "now")], b).text)
        .collect()
}

#[test]
fn two_runs_give_equal_snapshots() {
    let first = texts(&server_run(1));
    // The same server again: the same values.
    assert_eq!(first, texts(&server_run(1)));
    // Another run in which the server picked other keys, ids and times.
    assert_eq!(first, texts(&server_run(2)));
    // But a real difference shows.
    let mut other = server_run(2);
    other[2] = wbxml(
        r#"<MoveItems xmlns="Move:"><Response><SrcMsgId>f27:25</SrcMsgId><Status>1</Status>
        </Response></MoveItems>"#,
    );
    assert_ne!(first, texts(&other));
}

#[test]
fn layout_and_aliases_stable_across_steps() {
    let t = texts(&server_run(1));
    assert_eq!(
        t[0],
        "HTTP 200\n\
         content-type: application/vnd.ms-sync.wbxml\n\
         \n\
         <FolderHierarchy:FolderSync>\n\
         \x20 <FolderHierarchy:Status>1</FolderHierarchy:Status>\n\
         \x20 <FolderHierarchy:SyncKey>[SyncKey]</FolderHierarchy:SyncKey>\n\
         \x20 <FolderHierarchy:Changes>\n\
         \x20   <FolderHierarchy:Count>2</FolderHierarchy:Count>\n\
         \x20   <FolderHierarchy:Add>\n\
         \x20     <FolderHierarchy:ServerId>[ServerId 1]</FolderHierarchy:ServerId>\n\
         \x20     <FolderHierarchy:ParentId>0</FolderHierarchy:ParentId>\n\
         \x20     <FolderHierarchy:DisplayName>Inbox</FolderHierarchy:DisplayName>\n\
         \x20     <FolderHierarchy:Type>2</FolderHierarchy:Type>\n\
         \x20   </FolderHierarchy:Add>\n\
         \x20   <FolderHierarchy:Add>\n\
         \x20     <FolderHierarchy:ServerId>[ServerId 2]</FolderHierarchy:ServerId>\n\
         \x20     <FolderHierarchy:ParentId>[ServerId 1]</FolderHierarchy:ParentId>\n\
         \x20     <FolderHierarchy:DisplayName>Sub</FolderHierarchy:DisplayName>\n\
         \x20     <FolderHierarchy:Type>12</FolderHierarchy:Type>\n\
         \x20   </FolderHierarchy:Add>\n\
         \x20 </FolderHierarchy:Changes>\n\
         </FolderHierarchy:FolderSync>"
    );
    // The folder's ServerId comes back as the CollectionId of the next
    // step: same alias. The item's ServerId is new.
    assert!(
        t[1].contains("<AirSync:CollectionId>[ServerId 1]</AirSync:CollectionId>"),
        "{}",
        t[1]
    );
    assert!(
        t[1].contains("<AirSync:ServerId>[ServerId 3]</AirSync:ServerId>"),
        "{}",
        t[1]
    );
    // Server-stamped time redacted; the suite's own StartTime kept.
    assert!(
        t[1].contains("<Email:DateReceived>[timestamp]</Email:DateReceived>"),
        "{}",
        t[1]
    );
    assert!(
        t[1].contains("<Calendar:StartTime>20260601T090000Z</Calendar:StartTime>"),
        "{}",
        t[1]
    );
    // The item moved: its ServerId as SrcMsgId keeps its alias; the new id
    // is named after the element it first appears in.
    assert!(
        t[2].contains("<Move:SrcMsgId>[ServerId 3]</Move:SrcMsgId>"),
        "{}",
        t[2]
    );
    assert!(
        t[2].contains("<Move:DstMsgId>[DstMsgId 1]</Move:DstMsgId>"),
        "{}",
        t[2]
    );
}

#[test]
fn the_tree_is_unredacted() {
    let mut n = Normalizer::new();
    let s = shot(&mut n, 200, &[("Content-Type", WBXML)], &server_run(1)[1]);
    assert!(s.text.contains("[SyncKey]"));
    assert!(s.decode_error.is_none());
    let tree = s.tree.expect("a tree");
    let collection = tree
        .child("Collections")
        .and_then(|c| c.child("Collection"))
        .expect("Collection");
    assert_eq!(collection.child_text("SyncKey").as_deref(), Some("sk-1"));
    assert_eq!(
        collection.child_text("CollectionId").as_deref(),
        Some("f17")
    );
}

#[test]
fn other_volatile_values_are_redacted() {
    let body = wbxml(
        r#"<Provision xmlns="Provision:"><Status>1</Status><Policies><Policy>
        <PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status>
        <PolicyKey>3942919513</PolicyKey></Policy></Policies></Provision>"#,
    );
    let s = shot(
        &mut Normalizer::new(),
        200,
        &[("Content-Type", WBXML)],
        &body,
    );
    assert!(
        s.text
            .contains("<Provision:PolicyKey>[PolicyKey]</Provision:PolicyKey>"),
        "{}",
        s.text
    );
    assert!(!s.text.contains("3942919513"));

    let body = wbxml(
        r#"<Sync xmlns="AirSync:" xmlns:E2="Email2:" xmlns:B="AirSyncBase:"><Collections><Collection>
        <SyncKey>1</SyncKey><CollectionId>1</CollectionId><Status>1</Status>
        <Commands><Add><ServerId>1:1</ServerId><ApplicationData>
          <B:Attachments><B:Attachment><B:FileReference>att-17</B:FileReference></B:Attachment></B:Attachments>
          <E2:ConversationId opaque="base64">AAECAwQFBgcICQoLDA0ODw==</E2:ConversationId>
          <E2:ConversationIndex opaque="base64">AQID</E2:ConversationIndex>
        </ApplicationData></Add></Commands></Collection></Collections></Sync>"#,
    );
    let s = shot(
        &mut Normalizer::new(),
        200,
        &[("Content-Type", WBXML)],
        &body,
    );
    for expected in [
        "<AirSyncBase:FileReference>[FileReference 1]</AirSyncBase:FileReference>",
        "<Email2:ConversationId>[ConversationId]</Email2:ConversationId>",
        "<Email2:ConversationIndex>[ConversationIndex]</Email2:ConversationIndex>",
    ] {
        assert!(s.text.contains(expected), "{expected} in\n{}", s.text);
    }
    assert!(!s.text.contains("att-17"));
}

#[test]
fn opaque_data_is_shown_as_hex() {
    let body = wbxml(
        r#"<ItemOperations xmlns="ItemOperations:" xmlns:B="AirSyncBase:"><Status>1</Status>
        <Response><Fetch><Status>1</Status><Properties><Data opaque="base64">AAEC/w==</Data></Properties>
        </Fetch></Response></ItemOperations>"#,
    );
    let s = shot(
        &mut Normalizer::new(),
        200,
        &[("Content-Type", WBXML)],
        &body,
    );
    assert!(
        s.text
            .contains("<ItemOperations:Data>[opaque 4 bytes: 000102ff]</ItemOperations:Data>"),
        "{}",
        s.text
    );
}

#[test]
fn lenient_decoding_keeps_unknown_tags_visible() {
    // AirSync:Sync { unknown token 0x3E on page 0 { "x" }, Status "1" }.
    let body = [
        0x03, 0x01, 0x6A, 0x00, // header
        0x45, // Sync, with content
        0x7E, 0x03, b'x', 0x00, 0x01, // unknown 0x3E
        0x4E, 0x03, b'1', 0x00, 0x01, // Status
        0x01,
    ];
    let s = shot(
        &mut Normalizer::new(),
        200,
        &[("Content-Type", WBXML)],
        &body,
    );
    assert_eq!(s.decode_error, None);
    assert!(
        s.text.contains(
            "  <wbxml:unknown page=\"0\" token=\"0x3E\">x</wbxml:unknown>\n  <AirSync:Status>1</AirSync:Status>"
        ),
        "{}",
        s.text
    );
    // Expectations still see the rest of the document.
    let tree = s.tree.expect("a tree despite the unknown tag");
    assert_eq!(tree.child_text("Status").as_deref(), Some("1"));

    // A tag the version does not define (AppointmentReplyTime is 14.0+),
    // decoded for 12.1: shown, not an error.
    let body = encode(
        r#"<Sync xmlns="AirSync:" xmlns:C="Calendar:"><C:AppointmentReplyTime>x</C:AppointmentReplyTime></Sync>"#,
        &EncodeOptions::lenient(ProtocolVersion::V14_1),
    )
    .expect("encodes");
    let headers = headers(&[("Content-Type", WBXML)]);
    let s = Normalizer::new().snapshot(
        &ResponseView {
            status: 200,
            headers: &headers,
            body: &body,
        },
        ProtocolVersion::V12_1,
        &[],
    );
    assert_eq!(s.decode_error, None);
    assert!(
        s.text.contains("<Calendar:AppointmentReplyTime>"),
        "{}",
        s.text
    );
}

#[test]
fn a_body_that_does_not_decode() {
    // The Sync element is opened and never closed.
    let body = [0x03, 0x01, 0x6A, 0x00, 0x45, 0x4E, 0x03, b'1', 0x00, 0x01];
    let s = shot(
        &mut Normalizer::new(),
        200,
        &[("Content-Type", WBXML)],
        &body,
    );
    let error = s.decode_error.expect("a decode error");
    assert!(error.contains("byte 10"), "{error}");
    assert!(s.tree.is_none());
    assert!(
        s.text.contains(&format!("WBXML decode error: {error}\n")),
        "{}",
        s.text
    );
    assert!(
        s.text.contains("0000  03 01 6a 00 45 4e 03 31 00 01 "),
        "{}",
        s.text
    );
}

#[test]
fn headers_are_filtered_and_sorted() {
    let mut n = Normalizer::new();
    let s = shot(
        &mut n,
        200,
        &[
            ("Server", "Microsoft-IIS/10.0"),
            ("MS-Server-ActiveSync", "15.1"),
            ("Date", "Fri, 08 May 2026 10:00:00 GMT"),
            ("Content-Length", "0"),
            ("Set-Cookie", "session=abc"),
            ("MS-ASProtocolVersions", "2.5,12.0,12.1,14.0,14.1"),
            ("MS-ASProtocolCommands", "Sync,FolderSync"),
            ("Allow", "OPTIONS,POST"),
        ],
        b"",
    );
    assert_eq!(
        s.text,
        "HTTP 200\n\
         ms-asprotocolcommands: Sync,FolderSync\n\
         ms-asprotocolversions: 2.5,12.0,12.1,14.0,14.1\n\
         ms-server-activesync: 15.1\n\
         \n\
         (empty body)"
    );

    // A profile comparing releases blanks the release.
    let mut n = Normalizer::new().redact_headers(SERVER_RELEASE_HEADERS);
    let s = shot(&mut n, 200, &[("MS-Server-ActiveSync", "15.1")], b"");
    assert!(
        s.text.contains("ms-server-activesync: [redacted]"),
        "{}",
        s.text
    );
}

#[test]
fn authorization_never_appears() {
    let secret = "Basic YWxpY2U6czNjcjN0";
    let list = [
        ("Authorization", secret),
        ("WWW-Authenticate", "Basic realm=\"eas\""),
        ("Content-Type", "text/plain"),
    ];
    // Even a profile asking for it does not get it shown.
    for mut n in [
        Normalizer::new(),
        Normalizer::new().redact_headers(&["authorization"]),
    ] {
        let s = shot(&mut n, 401, &list, b"denied");
        assert!(!s.text.to_ascii_lowercase().contains("authorization"));
        assert!(!s.text.contains("YWxpY2U6czNjcjN0"));
        assert_eq!(
            s.text,
            "HTTP 401\ncontent-type: text/plain\nwww-authenticate: Basic realm=\"eas\"\n\ndenied"
        );
    }
}

#[test]
fn other_bodies() {
    let mut n = Normalizer::new();
    let s = shot(
        &mut n,
        200,
        &[("Content-Type", "application/vnd.ms-sync.multipart")],
        &[0xDE, 0xAD, 0xBE, 0xEF],
    );
    assert!(
        s.text
            .ends_with("\n\n<4 bytes of application/vnd.ms-sync.multipart>\ndeadbeef"),
        "{}",
        s.text
    );
    assert!(s.tree.is_none() && s.decode_error.is_none());

    let s = shot(
        &mut n,
        500,
        &[("Content-Type", "text/plain; charset=utf-8")],
        b"a\r\nb",
    );
    assert!(s.text.ends_with("\n\na\nb"), "{}", s.text);

    // No Content-Type but a WBXML header: decoded.
    let body = wbxml(r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status></FolderSync>"#);
    let s = shot(&mut n, 200, &[], &body);
    assert!(
        s.text
            .contains("<FolderHierarchy:Status>1</FolderHierarchy:Status>"),
        "{}",
        s.text
    );
}

#[test]
fn extra_redactions_blank_what_the_paths_select() {
    let body = &server_run(1)[1];
    let headers = headers(&[("Content-Type", WBXML)]);
    let paths = [
        Path::parse("//AirSync:Collection/AirSync:Status").expect("path"),
        Path::parse("//AirSync:ApplicationData").expect("path"),
    ];
    let s = Normalizer::new().snapshot(
        &ResponseView {
            status: 200,
            headers: &headers,
            body,
        },
        V,
        &paths,
    );
    assert!(
        s.text
            .contains("<AirSync:Status>[redacted]</AirSync:Status>"),
        "{}",
        s.text
    );
    // A container loses its whole content.
    assert!(
        s.text
            .contains("<AirSync:ApplicationData>[redacted]</AirSync:ApplicationData>"),
        "{}",
        s.text
    );
    assert!(!s.text.contains("Hello"));
    // The tree keeps the values.
    let tree = s.tree.expect("tree");
    assert_eq!(paths[0].select(&tree)[0].text(), "1");
}

/// Snapshot files: what the store writes, insta reads as its own.
mod files {
    use std::path::{Path as FsPath, PathBuf};

    use eastest::runner::outcome::SnapshotOutcome;
    use eastest::runner::snapshot::{SnapshotMode, SnapshotStore};
    use insta::TextSnapshotKind;
    use insta::internals::{SnapshotContents, TextSnapshotContents};

    const TEXT: &str = "HTTP 200\ncontent-type: application/vnd.ms-sync.wbxml\n\n<AirSync:Sync>\n  <AirSync:Status>1</AirSync:Status>\n</AirSync:Sync>";

    /// A fresh directory under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("eastest-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn check(store: &SnapshotStore, text: &str) -> SnapshotOutcome {
        store
            .check(
                "sync/basic",
                FsPath::new("suites/sync/basic.toml"),
                "Initial Sync: collection 1",
                text,
            )
            .expect("snapshot files")
    }

    #[test]
    fn insta_accepts_what_the_store_writes() {
        let root = scratch("insta");
        let store = SnapshotStore::new(root.clone(), SnapshotMode::Update);
        let file = store.file_for("sync/basic", "Initial Sync: collection 1");
        assert_eq!(file, root.join("sync/basic/initial-sync-collection-1.snap"));
        match check(&store, TEXT) {
            SnapshotOutcome::New { file: f, written } => {
                assert_eq!(f, file);
                assert!(written);
            }
            other => panic!("{other:?}"),
        }
        let written = std::fs::read_to_string(&file).expect("written");
        assert!(
            written.starts_with(
                "---\nsource: suites/sync/basic.toml\ndescription: \"sync/basic: Initial Sync: collection 1\"\n"
            ),
            "{written}"
        );
        assert!(written.ends_with(&format!("---\n{TEXT}\n")), "{written}");

        let dir = root.join("sync/basic");
        let assert_with_insta = |text: &'static str| {
            insta::with_settings!({
                snapshot_path => dir.clone(),
                prepend_module_to_snapshot => false,
            }, {
                insta::assert_snapshot!("initial-sync-collection-1", text);
            });
        };
        // The same text passes insta's own comparison...
        assert_with_insta(TEXT);
        // ... with trailing whitespace trimmed, as insta does...
        let trailing: &'static str = Box::leak(format!("{TEXT}\n\n").into_boxed_str());
        assert_with_insta(trailing);
        // insta's own reading and comparison (as `cargo insta review`
        // does): the metadata as written, the same contents, and a changed
        // text is not equal.
        let snapshot = insta::Snapshot::from_file(&file).expect("insta reads the file");
        assert_eq!(snapshot.metadata().source(), Some("suites/sync/basic.toml"));
        assert_eq!(
            snapshot.metadata().expression(),
            Some("Initial Sync: collection 1")
        );
        let contents = |text: &str| {
            SnapshotContents::Text(TextSnapshotContents::new(
                text.to_string(),
                TextSnapshotKind::File,
            ))
        };
        assert!(snapshot.contents() == &contents(TEXT));
        assert!(snapshot.contents() != &contents(&TEXT.replace("Status>1<", "Status>4<")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn check_mode_writes_nothing() {
        let root = scratch("check");
        let store = SnapshotStore::new(root.clone(), SnapshotMode::Check);
        assert!(matches!(
            check(&store, TEXT),
            SnapshotOutcome::New { written: false, .. }
        ));
        assert!(!root.exists(), "check mode created files");

        // Recorded: equal matches, different is a change, still nothing written.
        check(
            &SnapshotStore::new(root.clone(), SnapshotMode::Update),
            TEXT,
        );
        assert_eq!(check(&store, TEXT), SnapshotOutcome::Matched);
        let other = TEXT.replace("Status>1<", "Status>4<");
        match check(&store, &other) {
            SnapshotOutcome::Changed {
                old, new, written, ..
            } => {
                assert_eq!(
                    (old.as_str(), new.as_str(), written),
                    (TEXT, other.as_str(), false)
                );
            }
            other => panic!("{other:?}"),
        }
        let names: Vec<_> = std::fs::read_dir(root.join("sync/basic"))
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["initial-sync-collection-1.snap"]);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn review_mode_writes_pending_snapshots() {
        let root = scratch("review");
        check(
            &SnapshotStore::new(root.clone(), SnapshotMode::Update),
            TEXT,
        );
        let store = SnapshotStore::new(root.clone(), SnapshotMode::Review);
        let snap = store.file_for("sync/basic", "Initial Sync: collection 1");
        let pending = PathBuf::from(format!("{}.new", snap.display()));
        let other = TEXT.replace("Status>1<", "Status>4<");
        match check(&store, &other) {
            SnapshotOutcome::Changed { file, written, .. } => {
                assert_eq!(file, pending);
                assert!(written);
            }
            other => panic!("{other:?}"),
        }
        let new = std::fs::read_to_string(&pending).expect("pending written");
        assert!(new.starts_with("---\nsource: "), "{new}");
        assert!(new.ends_with(&format!("---\n{other}\n")), "{new}");
        let pending_snapshot = insta::Snapshot::from_file(&pending).expect("insta reads it");
        assert_eq!(
            pending_snapshot.contents().as_text().map(|t| t.to_string()),
            Some(other.clone())
        );
        // The recorded one is untouched.
        assert!(
            std::fs::read_to_string(&snap)
                .expect("snap")
                .ends_with(&format!("{TEXT}\n"))
        );
        // Back to the recorded text: matched, and the stale pending file goes.
        assert_eq!(check(&store, TEXT), SnapshotOutcome::Matched);
        assert!(!pending.exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}

/// A response as the normaliser reads it, taken off the wire.
async fn raw(response: reqwest::Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.expect("a body").to_vec();
    (status, headers, body)
}

/// A suite-like sequence against a fresh mock server: OPTIONS, Provision,
/// FolderSync, the Inbox's initial Sync and its first items. The snapshot
/// texts, and the policy key the server handed out (a secret).
async fn mock_run() -> (Vec<String>, String) {
    let server = common::start().await;
    let mut device = common::Device::new(&server, "14.1");
    let mut n = Normalizer::new();
    let mut texts = Vec::new();
    let mut snap =
        |n: &mut Normalizer, (status, headers, body): (u16, Vec<(String, String)>, Vec<u8>)| {
            let s = n.snapshot(
                &ResponseView {
                    status,
                    headers: &headers,
                    body: &body,
                },
                V,
                &[],
            );
            texts.push(s.text.clone());
            s
        };
    snap(&mut n, raw(common::options(&server).await).await);
    // Without a policy key: the server asks for provisioning (Status 142
    // from 14.0 on).
    snap(
        &mut n,
        raw(device
            .post("FolderSync", common::folder_sync_request("0"))
            .await)
        .await,
    );
    let phase1 = snap(
        &mut n,
        raw(device
            .post("Provision", common::provision_request(None))
            .await)
        .await,
    );
    let temporary = phase1
        .tree
        .as_ref()
        .and_then(|t| t.child("Policies"))
        .and_then(|p| p.child("Policy"))
        .and_then(|p| p.child_text("PolicyKey"))
        .expect("a temporary policy key");
    device.provision().await;
    let key = device.policy_key.clone().expect("a policy key");
    snap(
        &mut n,
        raw(device
            .post("FolderSync", common::folder_sync_request("0"))
            .await)
        .await,
    );
    // Collections 0x1C, Collection: SyncKey, CollectionId (AirSync).
    let initial = common::W::sync()
        .open(0, 0x1C)
        .collection("0", "1")
        .end()
        .end()
        .done();
    let first = snap(&mut n, raw(device.post("Sync", initial).await).await);
    let sync_key = first
        .tree
        .as_ref()
        .and_then(|t| t.child("Collections"))
        .and_then(|c| c.child("Collection"))
        .and_then(|c| c.child_text("SyncKey"))
        .expect("a sync key");
    let items = common::W::sync()
        .open(0, 0x1C)
        .collection(&sync_key, "1")
        .end()
        .end()
        .done();
    snap(&mut n, raw(device.post("Sync", items).await).await);
    (texts, format!("{temporary} {key}"))
}

#[tokio::test]
async fn two_runs_against_the_mock_give_equal_snapshots() {
    // reqwest is built without a default TLS provider; the tests' plain
    // HTTP client still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (first, keys) = mock_run().await;
    let (second, _) = mock_run().await;
    assert_eq!(first.len(), 6);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a, b);
    }
    // What the runs went through shows: provisioning, the items.
    assert!(
        first[1].contains("<FolderHierarchy:Status>142</FolderHierarchy:Status>"),
        "{}",
        first[1]
    );
    assert!(
        first[2].contains("<Provision:PolicyKey>[PolicyKey]</Provision:PolicyKey>"),
        "{}",
        first[2]
    );
    assert!(first[5].contains("<AirSync:Add>"), "{}", first[5]);
    assert!(
        first[5].contains("<Email:DateReceived>[timestamp]</Email:DateReceived>"),
        "{}",
        first[5]
    );
    for text in &first {
        for key in keys.split(' ') {
            assert!(!text.contains(key), "policy key {key} in\n{text}");
        }
        assert!(!text.contains("Basic "), "{text}");
    }
}
