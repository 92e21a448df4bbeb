//! Normalised snapshots: one HTTP response as the text people review in
//! diffs, identical across runs against the same server.
//!
//! # Layout
//!
//! ```text
//! HTTP 200
//! content-type: application/vnd.ms-sync.wbxml
//! ms-server-activesync: 14.3
//!
//! <AirSync:Sync>
//!   <AirSync:Collections>
//!     <AirSync:Collection>
//!       <AirSync:SyncKey>[SyncKey]</AirSync:SyncKey>
//!       <AirSync:CollectionId>[CollectionId 1]</AirSync:CollectionId>
//!       <AirSync:Status>1</AirSync:Status>
//!     </AirSync:Collection>
//!   </AirSync:Collections>
//! </AirSync:Sync>
//! ```
//!
//! 1. `HTTP <status>`.
//! 2. The headers that say something about the protocol ([`SNAPSHOT_HEADERS`]),
//!    names lowercased, sorted by name (repeated headers keep their order),
//!    `name: value`. Everything else is left out on purpose: `Date`,
//!    `Content-Length`, `Server`, `Set-Cookie` change between runs or
//!    deployments, and `Authorization` (never sent back, but never printed
//!    either) is a secret. A profile can blank a kept header's value with
//!    [`Normalizer::redact_headers`] (for example [`SERVER_RELEASE_HEADERS`],
//!    whose value changes with every server update).
//! 3. A blank line.
//! 4. The body:
//!    - WBXML (`Content-Type` naming `wbxml`, or no `Content-Type` and a
//!      WBXML 1.3 header): decoded **leniently** for the run's protocol
//!      version, so tags the version does not define stay visible as
//!      `<wbxml:unknown page="P" token="0xTT">`. Printed by this module
//!      from the decoder's XML, with **every** element prefixed by its code
//!      page (`<AirSync:Status>1</AirSync:Status>`, never a default
//!      namespace), two spaces of indentation a level. An element written
//!      without the WBXML content bit prints as `<X:Y/>`, one with the bit
//!      and no content as `<X:Y></X:Y>` (servers differ there, and a diff
//!      should show it). Text is XML-escaped; line feeds and tabs stay
//!      literal (MIME bodies read as text), other control characters are
//!      written as character references (`&#13;`). Opaque data prints as
//!      `[opaque N bytes: HEX]` (up to 64 bytes of hex, then `…`); a string
//!      that is not UTF-8 as `[non-UTF-8 string: HEX]`. Byte-level
//!      details with no meaning (a redundant `SWITCH_PAGE`, split inline
//!      strings, a non-default WBXML header) are not shown: the snapshot is
//!      about the document, and the codec's own tests cover its bytes.
//!    - WBXML that does not decode: `WBXML decode error: <the decoder's
//!      message, with the byte offset>`, then a hex dump of the first 256
//!      bytes ([`Snapshot::decode_error`] is set, [`Snapshot::tree`] is
//!      `None`).
//!    - `text/plain`: the text (CRLF as LF).
//!    - anything else: `<N bytes of TYPE>` and the first 64 bytes in hex.
//!    - no body: `(empty body)`.
//!
//! The text has no trailing newline.
//!
//! # Redactions
//!
//! The element's content is replaced; the element itself and its place stay,
//! so a missing or extra element still shows. Elements are matched by name
//! on any code page unless a page is named.
//!
//! | elements | become |
//! |---|---|
//! | `SyncKey` (every page), `Provision:PolicyKey` | `[SyncKey]`, `[PolicyKey]` |
//! | server-assigned identifiers (see [`ALIASED`]): `ServerId`, `ClientId`, `CollectionId`, `ParentId` (except `0`, the root), `Move:SrcMsgId`/`DstMsgId`/`SrcFldId`/`DstFldId`, `ItemOperations:DstFldId`, `LongId`, `MeetingResponse:CalendarId`/`RequestId`, `FileReference`, `ComposeMail:FolderId`/`ItemId`, `Ping:Folder`/`Id`, `AccountId` | `[ServerId 1]`, `[CollectionId 2]`... |
//! | server-stamped times (see [`TIMESTAMPS`]): `Email:DateReceived`, `DtStamp` (Email, Calendar), `Calendar:AppointmentReplyTime`, `Email2:LastVerbExecutionTime`, `LastModifiedDate` (Notes, DocumentLibrary) | `[timestamp]` |
//! | `ConversationId` (every page), `Email2:ConversationIndex` | `[ConversationId]`, `[ConversationIndex]` |
//! | `Calendar:TimeZone`, `Email:TimeZone` holding a 172-byte TIME_ZONE_INFORMATION | the blob decoded, `[TimeZone bias -60; standard "W. Europe Standard Time" bias 0 from every year, month 10, week 5, Sun, 03:00:00.000; daylight ...]` (a transition whose month is 0 is `none`: its other bytes mean nothing) |
//! | the run's id ([`Normalizer::redact_run_id`]) in any text | `[run_id]` |
//! | elements selected by the step's `snapshot.redact` paths | `[redacted]` |
//!
//! Aliases: one table per [`Normalizer`], that is per suite run, keyed by
//! the value alone. The first appearance of a value names it after the
//! element it appeared in and the next number for that name
//! (`[ServerId 3]`); every later appearance, in any step and any element
//! kind, reuses that alias, so a ServerId that comes back as a `DstMsgId`
//! or a folder's `ServerId` that comes back as a `CollectionId` keeps its
//! name and the relation stays visible.
//!
//! Times are redacted by "who sets it": values the server stamps on its
//! own (when a message arrived, when an item last changed, when a reply was
//! recorded) differ on every run; values the suite itself sent (a meeting's
//! `StartTime`/`EndTime`, a task's `DateCompleted`, Oof times in
//! `Settings`, recurrence `InstanceId`s) are part of what is being tested
//! and stay.
//!
//! [`Snapshot::tree`] is the **unredacted** document: expectations and
//! captures need the real values.

use std::collections::HashMap;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::protocol::timezone::TimeZoneInfo;
use crate::suite::Path;
use crate::wbxml::{
    self, DecodeOptions, Element, Node as TreeNode, ProtocolVersion, code_page_by_uri,
};

/// The response headers a snapshot keeps (lowercase, sorted): what they say
/// is part of the protocol (MS-ASHTTP 2.2.2, 2.2.3).
pub const SNAPSHOT_HEADERS: &[&str] = &[
    "content-type",
    "ms-asprotocolcommands",
    "ms-asprotocolversions",
    "ms-server-activesync",
    "retry-after",
    "www-authenticate",
    "x-ms-location",
];

/// Headers whose value names the server's release: kept by default (a
/// change of release is part of what snapshots are for), but a profile
/// comparing several releases can redact them with
/// [`Normalizer::redact_headers`].
pub const SERVER_RELEASE_HEADERS: &[&str] = &["ms-server-activesync"];

/// Headers that never appear in a snapshot, whatever a profile asks.
const NEVER_SHOWN: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Server-assigned identifiers, as `(page, element)` (`None`: any page),
/// replaced by stable aliases.
pub const ALIASED: &[(Option<&str>, &str)] = &[
    (None, "ServerId"),
    (None, "ClientId"),
    (None, "CollectionId"),
    (Some("FolderHierarchy"), "ParentId"),
    (Some("Move"), "SrcMsgId"),
    (Some("Move"), "DstMsgId"),
    (Some("Move"), "SrcFldId"),
    (Some("Move"), "DstFldId"),
    (Some("ItemOperations"), "DstFldId"),
    (None, "LongId"),
    (Some("MeetingResponse"), "CalendarId"),
    (Some("MeetingResponse"), "RequestId"),
    (Some("AirSyncBase"), "FileReference"),
    (Some("ComposeMail"), "FolderId"),
    (Some("ComposeMail"), "ItemId"),
    (Some("Ping"), "Folder"),
    (Some("Ping"), "Id"),
    (None, "AccountId"),
    // A calendar item's UID: generated by the server for an item a client
    // created without one, so it differs on every run.
    (Some("Calendar"), "UID"),
];

/// Times the server stamps on its own, as `(page, element)`; replaced by
/// `[timestamp]`.
pub const TIMESTAMPS: &[(Option<&str>, &str)] = &[
    (Some("Email"), "DateReceived"),
    (Some("Email"), "DtStamp"),
    (Some("Calendar"), "DtStamp"),
    (Some("Calendar"), "AppointmentReplyTime"),
    (Some("Email2"), "LastVerbExecutionTime"),
    (Some("Notes"), "LastModifiedDate"),
    (Some("DocumentLibrary"), "LastModifiedDate"),
];

/// Elements whose children come in no meaningful order (`(page, element)`):
/// the server changes of one Sync answer (MS-ASCMD 2.2.3.32: the
/// `Commands` of a collection are not ordered; servers that stamp changes
/// to the second list items of the same second in any order).
const UNORDERED: &[(Option<&str>, &str)] = &[(Some("AirSync"), "Commands")];

/// The text `unordered_children` sorts by: the element's names and texts,
/// without the values that change between runs.
fn sort_key(doc: &Doc) -> String {
    fn walk(doc: &Doc, key: &mut String) {
        key.push('<');
        key.push_str(doc.name());
        key.push('>');
        let volatile = doc.is(ALIASED)
            || doc.is(TIMESTAMPS)
            || FIXED.iter().any(|(p, n, _)| doc.is(&[(*p, n)]));
        for c in &doc.content {
            match c {
                Content::Element(d) => walk(d, key),
                Content::Text(t) if !volatile => key.push_str(t),
                Content::Opaque(b) | Content::Bytes(b) if !volatile => {
                    key.push_str(&hex_preview(b))
                }
                _ => {}
            }
        }
        key.push_str("</>");
    }
    let mut key = String::new();
    walk(doc, &mut key);
    key
}

/// What [`Printer::unordered_children`] sorts by: the content, then the
/// known aliases.
type SortKey = (String, Vec<u64>);

/// The tie-breaker of [`sort_key`]: the alias numbers the element's
/// identifiers already have, in document order (`u64::MAX` for one not
/// seen yet). Two changes with the same content (a duplicate the server
/// made) then come in the order of the ids earlier steps named, whatever
/// order the server sent them in.
fn known_aliases(doc: &Doc, aliases: &HashMap<String, String>) -> Vec<u64> {
    fn walk(doc: &Doc, aliases: &HashMap<String, String>, out: &mut Vec<u64>) {
        if doc.is(ALIASED) && !doc.has_elements() {
            let number = aliases
                .get(&doc.value())
                .and_then(|a| a.trim_end_matches(']').rsplit(' ').next()?.parse().ok());
            out.push(number.unwrap_or(u64::MAX));
        }
        for c in &doc.content {
            if let Content::Element(d) = c {
                walk(d, aliases, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(doc, aliases, &mut out);
    out
}

/// The TIME_ZONE_INFORMATION blobs (MS-ASDTYPE 2.6.4), written decoded:
/// readable in a diff, and without the bytes that carry no meaning (the
/// rest of a transition date whose month is 0, which some servers leave
/// uninitialised).
const TIME_ZONES: &[(Option<&str>, &str)] = &[
    // The code pages spell it differently (MS-ASWBXML: Calendar 0x05,
    // Email 0x33).
    (Some("Calendar"), "Timezone"),
    (Some("Email"), "TimeZone"),
];

/// Elements replaced by a fixed label: `(page, element, label)`.
const FIXED: &[(Option<&str>, &str, &str)] = &[
    (None, "SyncKey", "[SyncKey]"),
    (Some("Provision"), "PolicyKey", "[PolicyKey]"),
    (None, "ConversationId", "[ConversationId]"),
    (Some("Email2"), "ConversationIndex", "[ConversationIndex]"),
];

/// The value a `ParentId` has for a top-level folder (MS-ASCMD 2.2.3.130.1):
/// meaningful, so never aliased.
const ROOT_PARENT_ID: &str = "0";

/// How many bytes of a body or opaque value are shown in hex.
const HEX_PREVIEW: usize = 64;
/// How many bytes of an undecodable WBXML body are dumped.
const HEX_DUMP: usize = 256;

/// One HTTP response, as the normaliser reads it.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// A normalised response.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The snapshot text (layout in the module docs).
    pub text: String,
    /// The decoded body, unredacted, when it is WBXML that decodes.
    pub tree: Option<Element>,
    /// Why a WBXML body did not decode (the decoder's message, with offset).
    pub decode_error: Option<String>,
}

/// The shortest run id [`Normalizer::redact_run_id`] replaces.
pub const MIN_RUN_ID_LEN: usize = 4;

/// Turns responses into snapshot texts. One per suite run: it holds the
/// alias table, so the same identifier gets the same alias in every step.
#[derive(Debug, Default)]
pub struct Normalizer {
    /// Value -> alias (`[ServerId 2]`).
    aliases: HashMap<String, String>,
    /// Element kind -> the last number given to it.
    counters: HashMap<String, usize>,
    /// Lowercase names of kept headers whose value is blanked.
    redacted_headers: Vec<String>,
    /// The run's id, written as `[run_id]` wherever it appears in text.
    run_id: Option<String>,
}

impl Normalizer {
    pub fn new() -> Normalizer {
        Normalizer::default()
    }

    /// Blanks these headers' values (`[redacted]`) while keeping the header
    /// visible, e.g. [`SERVER_RELEASE_HEADERS`] for a profile that compares
    /// server releases.
    pub fn redact_headers(mut self, names: &[&str]) -> Normalizer {
        self.redacted_headers
            .extend(names.iter().map(|n| n.to_ascii_lowercase()));
        self
    }

    /// Writes the run's id (`{{run_id}}`, which suites put in subjects and
    /// names so that runs against a lab server do not meet each other's
    /// items) as `[run_id]` wherever it appears in the text of a response:
    /// it changes with every run, the snapshot must not. Ids shorter than
    /// [`MIN_RUN_ID_LEN`] are left alone, since they would match unrelated
    /// text.
    pub fn redact_run_id(mut self, run_id: &str) -> Normalizer {
        if run_id.len() >= MIN_RUN_ID_LEN {
            self.run_id = Some(run_id.to_string());
        }
        self
    }

    /// `text` with the run id replaced.
    fn without_run_id<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        match &self.run_id {
            Some(id) if text.contains(id.as_str()) => text.replace(id.as_str(), "[run_id]").into(),
            _ => text.into(),
        }
    }

    /// The snapshot of a response, and the decoded tree (for expectations)
    /// when the body is WBXML.
    pub fn snapshot(
        &mut self,
        response: &ResponseView<'_>,
        version: ProtocolVersion,
        extra_redactions: &[Path],
    ) -> Snapshot {
        let mut text = format!("HTTP {}\n", response.status);
        let mut headers: Vec<(String, &str)> = response
            .headers
            .iter()
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim()))
            .filter(|(n, _)| {
                SNAPSHOT_HEADERS.contains(&n.as_str()) && !NEVER_SHOWN.contains(&n.as_str())
            })
            .collect();
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in &headers {
            let value = if self.redacted_headers.contains(name) {
                "[redacted]"
            } else {
                value
            };
            let _ = writeln!(text, "{name}: {}", one_line(value));
        }
        text.push('\n');

        let media_type = content_type(response.headers);
        let mut tree = None;
        let mut decode_error = None;
        if response.body.is_empty() {
            text.push_str("(empty body)");
        } else if is_wbxml(media_type.as_deref(), response.body) {
            match decode_document(response.body, version) {
                Ok(doc) => {
                    let element = doc.to_element();
                    let marked = marked_elements(&element, extra_redactions);
                    let mut printer = Printer {
                        out: &mut text,
                        normalizer: self,
                        marked: &marked,
                    };
                    printer.element(&doc, &element, 0);
                    tree = Some(element);
                }
                Err(message) => {
                    let _ = writeln!(text, "WBXML decode error: {message}");
                    hex_dump(&mut text, response.body);
                    decode_error = Some(message);
                }
            }
        } else if media_type.as_deref() == Some("text/plain") {
            let body = String::from_utf8_lossy(response.body).replace("\r\n", "\n");
            text.push_str(&escape_controls(&self.without_run_id(&body)));
        } else {
            let kind = media_type.as_deref().unwrap_or("no content type");
            let _ = write!(
                text,
                "<{} bytes of {}>\n{}",
                response.body.len(),
                kind,
                hex_preview(response.body)
            );
        }
        while text.ends_with('\n') {
            text.pop();
        }
        Snapshot {
            text,
            tree,
            decode_error,
        }
    }

    /// The alias of `value`, first seen in an element named `kind`.
    fn alias(&mut self, kind: &str, value: &str) -> String {
        if let Some(alias) = self.aliases.get(value) {
            return alias.clone();
        }
        let n = self.counters.entry(kind.to_string()).or_insert(0);
        *n += 1;
        let alias = format!("[{kind} {n}]");
        self.aliases.insert(value.to_string(), alias.clone());
        alias
    }
}

/// The media type of the first `Content-Type` header, lowercased, without
/// parameters.
fn content_type(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// WBXML when the server says so, or says nothing and the body starts with
/// the WBXML 1.3 version byte.
fn is_wbxml(media_type: Option<&str>, body: &[u8]) -> bool {
    match media_type {
        Some(t) => t.contains("wbxml"),
        None => body.first() == Some(&0x03),
    }
}

/// Header values are printed on one line.
fn one_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// The decoded document, as this module prints it: like [`Element`], plus
/// what the snapshot shows and the tree has no room for (unknown tags'
/// page and token, whether the content bit was set, non-UTF-8 strings).
#[derive(Debug)]
struct Doc {
    tag: Tag,
    /// Written without the WBXML content bit (`<X/>`).
    self_closing: bool,
    content: Vec<Content>,
}

#[derive(Debug)]
enum Tag {
    Known {
        page: &'static str,
        name: String,
    },
    /// A lenient decoder's `wbxml:unknown`.
    Unknown {
        page: String,
        token: String,
    },
}

#[derive(Debug)]
enum Content {
    Element(Doc),
    Text(String),
    Opaque(Vec<u8>),
    /// An inline string that is not UTF-8.
    Bytes(Vec<u8>),
}

/// The page name given to unknown tags in the [`Element`] tree (the
/// decoder's prefix for them), so paths can still see them as
/// `wbxml:unknown`.
const UNKNOWN_PAGE: &str = "wbxml";
const UNKNOWN_NAME: &str = "unknown";

impl Doc {
    /// The [`Element`] tree: the same elements in the same order (the
    /// printer walks both side by side), texts joined.
    fn to_element(&self) -> Element {
        let (namespace, name) = match &self.tag {
            Tag::Known { page, name } => (*page, name.clone()),
            Tag::Unknown { .. } => (UNKNOWN_PAGE, UNKNOWN_NAME.to_string()),
        };
        let mut children: Vec<TreeNode> = Vec::new();
        for c in &self.content {
            let text = match c {
                Content::Element(d) => {
                    children.push(TreeNode::Element(d.to_element()));
                    continue;
                }
                Content::Opaque(b) => {
                    children.push(TreeNode::Opaque(b.clone()));
                    continue;
                }
                Content::Text(t) => t.clone(),
                Content::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            };
            match children.last_mut() {
                Some(TreeNode::Text(prev)) => prev.push_str(&text),
                _ => children.push(TreeNode::Text(text)),
            }
        }
        Element {
            namespace,
            name,
            children,
        }
    }

    fn page(&self) -> Option<&str> {
        match &self.tag {
            Tag::Known { page, .. } => Some(page),
            Tag::Unknown { .. } => None,
        }
    }

    fn name(&self) -> &str {
        match &self.tag {
            Tag::Known { name, .. } => name,
            Tag::Unknown { .. } => UNKNOWN_NAME,
        }
    }

    /// Whether this is one of `rules`' `(page, element)` (`None`: any page).
    fn is(&self, rules: &[(Option<&str>, &str)]) -> bool {
        let Some(page) = self.page() else {
            return false;
        };
        let name = self.name();
        rules
            .iter()
            .any(|(p, n)| *n == name && p.is_none_or(|p| p == page))
    }

    fn has_elements(&self) -> bool {
        self.content
            .iter()
            .any(|c| matches!(c, Content::Element(_)))
    }

    /// The text content (opaque data as hex), the key of an alias.
    fn value(&self) -> String {
        let mut s = String::new();
        for c in &self.content {
            match c {
                Content::Text(t) => s.push_str(t),
                Content::Opaque(b) | Content::Bytes(b) => s.push_str(&hex(b)),
                Content::Element(_) => {}
            }
        }
        s
    }
}

/// The element tree of a WBXML body, decoded leniently: what expectations
/// and captures look at. Tags unknown in `version` become elements on the
/// page `wbxml` named `unknown`, so the rest of the document stays usable.
pub fn tree(body: &[u8], version: ProtocolVersion) -> Result<Element, String> {
    decode_document(body, version).map(|doc| doc.to_element())
}

/// Decodes leniently and reads the decoder's XML into a [`Doc`]. The error
/// is the decoder's message (with the byte offset).
fn decode_document(body: &[u8], version: ProtocolVersion) -> Result<Doc, String> {
    let xml = wbxml::decode(body, &DecodeOptions::lenient(version)).map_err(|e| e.to_string())?;
    parse_decoded(&xml).map_err(|e| format!("cannot read the decoder's XML: {e}"))
}

/// Reads the codec's XML form (see [`crate::wbxml`]): namespaces declared on
/// the root, `opaque="base64"` elements, `<?wbxml ...?>` instructions.
fn parse_decoded(xml: &str) -> Result<Doc, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    // Prefix (None: the default namespace) -> page name, or `None` for the
    // unknown-tag namespace.
    let mut prefixes: Vec<(Option<String>, Option<&'static str>)> = Vec::new();
    // Open elements, and whether their content is base64 opaque data.
    let mut stack: Vec<(Doc, bool)> = Vec::new();
    let mut root = None;
    loop {
        let event = reader.read_event().map_err(|e| e.to_string())?;
        match event {
            Event::Start(e) => {
                let (doc, opaque) = start_tag(&e, &mut prefixes, false)?;
                stack.push((doc, opaque));
            }
            Event::Empty(e) => {
                let (doc, _) = start_tag(&e, &mut prefixes, true)?;
                attach(&mut stack, &mut root, doc);
            }
            Event::End(_) => {
                let (mut doc, opaque) = stack.pop().ok_or("unbalanced end tag")?;
                if opaque {
                    let data = BASE64
                        .decode(doc.value().trim())
                        .map_err(|e| format!("opaque data: {e}"))?;
                    doc.content = vec![Content::Opaque(data)];
                }
                attach(&mut stack, &mut root, doc);
            }
            Event::Text(t) => {
                if let Some((top, _)) = stack.last_mut() {
                    let raw = std::str::from_utf8(&t).map_err(|e| e.to_string())?;
                    // Whitespace written literally is indentation; the
                    // decoder writes whitespace content as references.
                    if !raw.bytes().all(|b| b.is_ascii_whitespace()) {
                        let text = quick_xml::escape::unescape(raw).map_err(|e| e.to_string())?;
                        match top.content.last_mut() {
                            Some(Content::Text(prev)) => prev.push_str(&text),
                            _ => top.content.push(Content::Text(text.into_owned())),
                        }
                    }
                }
            }
            Event::PI(pi) => {
                let content = String::from_utf8_lossy(pi.content()).trim().to_string();
                let data = |rest: &str| {
                    BASE64
                        .decode(rest.trim())
                        .map_err(|e| format!("instruction `{content}`: {e}"))
                };
                if let Some(top) = stack.last_mut().map(|(top, _)| top) {
                    if let Some(rest) = content.strip_prefix("wbxml opaque ") {
                        top.content.push(Content::Opaque(data(rest)?));
                    } else if let Some(rest) = content.strip_prefix("wbxml str-bytes ") {
                        top.content.push(Content::Bytes(data(rest)?));
                    }
                }
                // header, switch-page, str-end: byte-level detail only.
            }
            Event::Eof => break,
            _ => {}
        }
    }
    root.ok_or_else(|| "no root element".to_string())
}

/// A start tag: registers its namespace declarations and names it.
fn start_tag(
    e: &BytesStart<'_>,
    prefixes: &mut Vec<(Option<String>, Option<&'static str>)>,
    self_closing: bool,
) -> Result<(Doc, bool), String> {
    let mut opaque = false;
    let mut page_attr = String::new();
    let mut token_attr = String::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr.unescape_value().map_err(|e| e.to_string())?;
        if key == "xmlns" || key.starts_with("xmlns:") {
            let page = if value == wbxml::UNKNOWN_NS {
                None
            } else {
                Some(
                    code_page_by_uri(&value)
                        .ok_or_else(|| format!("namespace `{value}`"))?
                        .namespace,
                )
            };
            prefixes.push((key.strip_prefix("xmlns:").map(str::to_string), page));
        } else if key == "opaque" {
            opaque = true;
        } else if key == "page" {
            page_attr = value.into_owned();
        } else if key == "token" {
            token_attr = value.into_owned();
        }
    }
    let qname = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let (prefix, local) = match qname.split_once(':') {
        Some((p, l)) => (Some(p.to_string()), l.to_string()),
        None => (None, qname.clone()),
    };
    let page = prefixes
        .iter()
        .rev()
        .find(|(p, _)| *p == prefix)
        .map(|(_, page)| *page)
        .ok_or_else(|| format!("element `{qname}` without a code page"))?;
    let tag = match page {
        Some(page) => Tag::Known { page, name: local },
        None => Tag::Unknown {
            page: page_attr,
            token: token_attr,
        },
    };
    Ok((
        Doc {
            tag,
            self_closing,
            content: Vec::new(),
        },
        opaque,
    ))
}

fn attach(stack: &mut [(Doc, bool)], root: &mut Option<Doc>, doc: Doc) {
    match stack.last_mut() {
        Some((parent, _)) => parent.content.push(Content::Element(doc)),
        None => *root = Some(doc),
    }
}

/// The elements the step's `snapshot.redact` paths select, by address in
/// `tree`.
fn marked_elements(tree: &Element, paths: &[Path]) -> Vec<*const Element> {
    paths
        .iter()
        .flat_map(|p| p.select(tree))
        .map(|e| e as *const Element)
        .collect()
}

/// Writes a [`Doc`] with its redactions, walking the [`Element`] built from
/// it alongside (for the `snapshot.redact` marks).
struct Printer<'a> {
    out: &'a mut String,
    normalizer: &'a mut Normalizer,
    marked: &'a [*const Element],
}

impl Printer<'_> {
    fn element(&mut self, doc: &Doc, element: &Element, depth: usize) {
        let indent = "  ".repeat(depth);
        let (open, close) = match &doc.tag {
            Tag::Known { page, name } => (format!("{page}:{name}"), format!("{page}:{name}")),
            Tag::Unknown { page, token } => (
                format!("wbxml:unknown page=\"{page}\" token=\"{token}\""),
                "wbxml:unknown".to_string(),
            ),
        };
        self.out.push_str(&indent);
        if doc.self_closing {
            let _ = write!(self.out, "<{open}/>");
            self.out.push('\n');
            return;
        }
        if let Some(label) = self.redaction(doc, element) {
            let _ = writeln!(self.out, "<{open}>{label}</{close}>");
            return;
        }
        if !doc.has_elements() {
            let _ = write!(self.out, "<{open}>");
            for c in &doc.content {
                self.leaf(c);
            }
            let _ = writeln!(self.out, "</{close}>");
            return;
        }
        let _ = writeln!(self.out, "<{open}>");
        if doc.is(UNORDERED) {
            self.unordered_children(doc, element, depth);
            let _ = writeln!(self.out, "{indent}</{close}>");
            return;
        }
        let mut children = element.elements();
        for c in &doc.content {
            match c {
                Content::Element(d) => {
                    // The tree was built from this document, element for
                    // element; a mismatch cannot happen, but costs nothing
                    // to survive.
                    let Some(e) = children.next() else { break };
                    self.element(d, e, depth + 1);
                }
                other => {
                    self.out.push_str(&indent);
                    self.out.push_str("  ");
                    self.leaf(other);
                    self.out.push('\n');
                }
            }
        }
        let _ = writeln!(self.out, "{indent}</{close}>");
    }

    fn leaf(&mut self, content: &Content) {
        match content {
            Content::Text(t) => self
                .out
                .push_str(&escape_text(&self.normalizer.without_run_id(t))),
            Content::Opaque(b) => {
                let _ = write!(self.out, "[opaque {} bytes: {}]", b.len(), hex_preview(b));
            }
            Content::Bytes(b) => {
                let _ = write!(self.out, "[non-UTF-8 string: {}]", hex_preview(b));
            }
            Content::Element(_) => {}
        }
    }

    /// The children of an element whose order carries no meaning, in a
    /// stable order: sorted by their content with the values that differ
    /// between runs (aliased identifiers, server times, keys) left out, so
    /// that aliases are handed out in that order too. Ties keep the
    /// server's order.
    fn unordered_children(&mut self, doc: &Doc, element: &Element, depth: usize) {
        let mut children: Vec<(SortKey, &Doc, &Element)> = doc
            .content
            .iter()
            .filter_map(|c| match c {
                Content::Element(d) => Some(d),
                _ => None,
            })
            .zip(element.elements())
            .map(|(d, e)| {
                (
                    (sort_key(d), known_aliases(d, &self.normalizer.aliases)),
                    d,
                    e,
                )
            })
            .collect();
        children.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, d, e) in children {
            self.element(d, e, depth + 1);
        }
    }

    /// What replaces the element's content, if anything.
    fn redaction(&mut self, doc: &Doc, element: &Element) -> Option<String> {
        if self.marked.contains(&(element as *const Element)) {
            return Some("[redacted]".to_string());
        }
        if doc.has_elements() || doc.content.is_empty() {
            return None;
        }
        let (page, name) = (doc.page()?, doc.name());
        let on = |rule_page: &Option<&str>, rule_name: &str| {
            rule_name == name && rule_page.is_none_or(|p| p == page)
        };
        if let Some((_, _, label)) = FIXED.iter().find(|(p, n, _)| on(p, n)) {
            return Some((*label).to_string());
        }
        if TIMESTAMPS.iter().any(|(p, n)| on(p, n)) {
            return Some("[timestamp]".to_string());
        }
        if TIME_ZONES.iter().any(|(p, n)| on(p, n))
            && let Some(tz) = BASE64
                .decode(doc.value().trim())
                .ok()
                .and_then(|b| TimeZoneInfo::parse(&b))
        {
            return Some(format!("[TimeZone {}]", escape_text(&tz.to_string())));
        }
        if ALIASED.iter().any(|(p, n)| on(p, n)) {
            let value = doc.value();
            if value.is_empty() || (name == "ParentId" && value == ROOT_PARENT_ID) {
                return None;
            }
            return Some(self.normalizer.alias(name, &value));
        }
        None
    }
}

/// XML-escapes text; line feeds and tabs stay literal, other control
/// characters become character references.
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Control characters other than line feed and tab as `\u{..}`, for plain
/// text bodies.
fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Up to [`HEX_PREVIEW`] bytes in hex, `…` when there are more.
fn hex_preview(bytes: &[u8]) -> String {
    let mut s = hex(&bytes[..bytes.len().min(HEX_PREVIEW)]);
    if bytes.len() > HEX_PREVIEW {
        s.push('…');
    }
    s
}

/// A classic hex dump (offset, 16 bytes, ASCII) of up to [`HEX_DUMP`] bytes.
fn hex_dump(out: &mut String, bytes: &[u8]) {
    for (i, line) in bytes[..bytes.len().min(HEX_DUMP)].chunks(16).enumerate() {
        let _ = write!(out, "{:04x}  ", i * 16);
        for j in 0..16 {
            match line.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
        }
        out.push(' ');
        out.extend(line.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
    if bytes.len() > HEX_DUMP {
        let _ = writeln!(out, "... {} more bytes", bytes.len() - HEX_DUMP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_previews() {
        assert_eq!(escape_text("a<b&c\r\n"), "a&lt;b&amp;c&#13;\n");
        assert_eq!(hex_preview(&[0xAB; 65]).chars().last(), Some('…'));
        let mut dump = String::new();
        hex_dump(&mut dump, &[0x41; 300]);
        assert!(dump.starts_with("0000  41 41"), "{dump}");
        assert!(dump.ends_with("... 44 more bytes\n"), "{dump}");
    }
}
