//! Items of a mailbox: what the five EAS classes hold and how they are kept.
//!
//! An item keeps its properties as the element trees a client sees inside
//! `airsync:ApplicationData` (Email, Calendar, Contacts, Tasks, Notes and
//! AirSyncBase elements, in the order they were written), so every property
//! a client sends round-trips untouched, nested ones (Recurrence, Exceptions,
//! Attendees, Attachments) included. Only what EAS never sends inline is kept
//! beside them: the full MIME source of a message and attachment contents.
//!
//! Elements are stored version-neutral; [`write_application_data`] leaves
//! out what the negotiated version does not have, and shapes the body to the
//! client's `BodyPreference` (MS-ASAIRS 2.2.2.7, 3.2.5.1).

use crate::wbxml::{Element, EncodeOptions, Node, ProtocolVersion, code_page_by_uri, encode};

use super::xml::XmlOut;

/// The class of an item (MS-ASCMD 2.2.3.27): decided by its folder's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Class {
    Email,
    Calendar,
    Contacts,
    Tasks,
    Notes,
}

impl Class {
    /// The class of a folder's items (MS-ASCMD 2.2.3.186.3 folder types):
    /// `None` for folders that hold no syncable items (Journal, the recipient
    /// information cache, unknown types).
    pub fn of_folder_type(folder_type: u8) -> Option<Class> {
        Some(match folder_type {
            1..=6 | 12 => Class::Email,
            7 | 15 => Class::Tasks,
            8 | 13 => Class::Calendar,
            9 | 14 => Class::Contacts,
            10 | 17 => Class::Notes,
            _ => return None,
        })
    }

    /// The `Class` element's value (`Email`, `Calendar`, `Contacts`,
    /// `Tasks`, `Notes`).
    pub fn name(self) -> &'static str {
        match self {
            Class::Email => "Email",
            Class::Calendar => "Calendar",
            Class::Contacts => "Contacts",
            Class::Tasks => "Tasks",
            Class::Notes => "Notes",
        }
    }

    /// The code pages whose elements may stand at the top of this class's
    /// `ApplicationData` (AirSyncBase for Body, Attachments and the like).
    pub fn pages(self) -> &'static [&'static str] {
        match self {
            Class::Email => &["Email", "Email2", "AirSyncBase", "RightsManagement"],
            Class::Calendar => &["Calendar", "AirSyncBase"],
            Class::Contacts => &["Contacts", "Contacts2", "AirSyncBase"],
            Class::Tasks => &["Tasks", "AirSyncBase"],
            Class::Notes => &["Notes", "AirSyncBase"],
        }
    }
}

/// One item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Item {
    /// `FOLDER:N`, unique within the mailbox and never reused.
    pub server_id: String,
    pub class: Class,
    /// The `ApplicationData` children, in order.
    #[serde(with = "super::persist::elements")]
    pub data: Vec<Element>,
    /// The mailbox revision of the item's last change: a device whose view
    /// holds an older one has not seen the change.
    pub modseq: u64,
    /// The full MIME source of a message (served for `BodyPreference` Type 4
    /// with `MIMESupport`, ItemOperations Fetch with `MIMESupport`).
    pub mime: Option<String>,
    /// Attachment contents by `FileReference`.
    pub attachments: Vec<Attachment>,
}

/// The content of one attachment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    /// The `airsyncbase:FileReference` (GetAttachment's `AttachmentName`).
    pub file_reference: String,
    pub content_type: String,
    #[serde(with = "super::persist::base64_bytes")]
    pub content: Vec<u8>,
}

impl Item {
    /// The first top-level property named `name`.
    pub fn property(&self, name: &str) -> Option<&Element> {
        self.data.iter().find(|e| e.name == name)
    }

    /// The text of the first top-level property named `name`.
    pub fn text(&self, name: &str) -> Option<String> {
        self.property(name).map(Element::text)
    }

    /// Replaces the top-level property `name` of page `namespace` with
    /// `<name>text</name>`, or appends it.
    pub fn set_text(&mut self, namespace: &'static str, name: &str, text: &str) {
        let element = Element {
            namespace,
            name: name.to_string(),
            children: vec![Node::Text(text.to_string())],
        };
        match self
            .data
            .iter_mut()
            .find(|e| e.namespace == namespace && e.name == name)
        {
            Some(slot) => *slot = element,
            None => self.data.push(element),
        }
    }

    /// The stored body (`airsyncbase:Body`): its Type and full data.
    pub fn body(&self) -> Option<(u8, String)> {
        let body = self
            .data
            .iter()
            .find(|e| e.namespace == "AirSyncBase" && e.name == "Body")?;
        let kind = body.child_text("Type")?.trim().parse().ok()?;
        Some((kind, body.child_text("Data").unwrap_or_default()))
    }
}

/// Parses `ApplicationData` children written in eastest's XML form: the
/// text of `<ApplicationData>` with prefixes `email:`, `calendar:`,
/// `contacts:`, `contacts2:`, `tasks:`, `notes:`, `airsyncbase:`,
/// `email2:` declared. Goes through the shared codec (strict, 16.1) so a
/// typo in seed data fails loudly in the tests.
pub fn parse_application_data(inner_xml: &str) -> Result<Vec<Element>, String> {
    let xml = format!(
        "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:email2=\"Email2:\" \
         xmlns:calendar=\"Calendar:\" xmlns:contacts=\"Contacts:\" xmlns:contacts2=\"Contacts2:\" \
         xmlns:tasks=\"Tasks:\" xmlns:notes=\"Notes:\" xmlns:airsyncbase=\"AirSyncBase:\">\
         {inner_xml}</ApplicationData>"
    );
    let version = ProtocolVersion::V16_1;
    let wbxml = encode(&xml, &EncodeOptions::lenient(version)).map_err(|e| e.to_string())?;
    let root = Element::from_wbxml(&wbxml, &crate::wbxml::DecodeOptions::lenient(version))
        .map_err(|e| e.to_string())?;
    Ok(root
        .children
        .into_iter()
        .filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
        .collect())
}

/// Whether the tag `namespace:name` exists in `version`.
pub fn exists_in(namespace: &str, name: &str, version: ProtocolVersion) -> bool {
    code_page_by_uri(namespace)
        .and_then(|page| page.tag_by_name(name))
        .is_some_and(|tag| tag.versions.contains(version))
}

/// `email2:ConversationId` (14.0+; MS-ASEMAIL 2.2.2.21) of a message with
/// this subject: 16 bytes that depend only on the thread topic (the subject
/// without `RE:`/`FW:` prefixes), so a reply joins its original's
/// conversation and the same message gets the same id on every run (two
/// FNV-1a 64-bit hashes with different offsets; not a security property).
pub fn conversation_id(subject: &str) -> Element {
    let topic = super::mail::thread_topic(subject).to_lowercase();
    let fnv = |offset: u64| {
        topic.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        })
    };
    let mut id = fnv(0xCBF2_9CE4_8422_2325).to_be_bytes().to_vec();
    id.extend_from_slice(&fnv(0x6C62_272E_07BB_0142).to_be_bytes());
    Element {
        namespace: "Email2",
        name: "ConversationId".to_string(),
        children: vec![Node::Opaque(id)],
    }
}

/// `email2:ConversationIndex` (14.0+; MS-ASCON 2.2.2.4, a required part of
/// a message in a Sync response from 14.0) of a message that starts a
/// conversation: the 22-byte header block of MS-OXOMSG 2.2.1.3: a reserved
/// byte (1), the upper 5 bytes of the FILETIME it was received at, and the
/// 16 bytes of its conversation's id ([`conversation_id`]).
pub fn conversation_index(subject: &str, received_unix: i64) -> Element {
    const FILETIME_EPOCH_OFFSET: i64 = 11_644_473_600;
    let filetime = (received_unix.max(0) + FILETIME_EPOCH_OFFSET) as u64 * 10_000_000;
    let mut index = vec![0x01];
    index.extend_from_slice(&filetime.to_be_bytes()[..5]);
    if let [Node::Opaque(id)] = conversation_id(subject).children.as_slice() {
        index.extend_from_slice(id);
    }
    Element {
        namespace: "Email2",
        name: "ConversationIndex".to_string(),
        children: vec![Node::Opaque(index)],
    }
}

/// How the client wants bodies (the collection's or request's `Options`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BodyOptions {
    /// `airsyncbase:BodyPreference`s in the client's order.
    pub preferences: Vec<BodyPreference>,
    /// `MIMESupport`: 0 never, 1 S/MIME only, 2 always.
    pub mime_support: u8,
}

/// One `airsyncbase:BodyPreference` (MS-ASAIRS 2.2.2.7).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BodyPreference {
    /// 1 plain text, 2 HTML, 3 RTF, 4 MIME.
    pub kind: u8,
    pub truncation_size: Option<usize>,
    pub all_or_none: bool,
    /// `Preview`: characters of plain text preview wanted (14.0+).
    pub preview: Option<usize>,
}

impl BodyOptions {
    /// Reads `Options` (Sync, ItemOperations Fetch, Search) as sent; `Err`
    /// with a reason for values outside the schema.
    pub fn parse(options: &Element) -> Result<BodyOptions, String> {
        let mut out = BodyOptions::default();
        for child in options.elements() {
            match child.name.as_str() {
                "BodyPreference" => {
                    let mut p = BodyPreference::default();
                    for e in child.elements() {
                        let text = e.text();
                        let text = text.trim();
                        match e.name.as_str() {
                            "Type" => {
                                p.kind = text
                                    .parse()
                                    .ok()
                                    .filter(|k| (1..=4).contains(k))
                                    .ok_or_else(|| format!("BodyPreference Type `{text}`"))?;
                            }
                            "TruncationSize" => {
                                p.truncation_size = Some(
                                    text.parse()
                                        .map_err(|_| format!("TruncationSize `{text}`"))?,
                                );
                            }
                            "AllOrNone" => p.all_or_none = text == "1",
                            "Preview" => {
                                let n: usize =
                                    text.parse().map_err(|_| format!("Preview `{text}`"))?;
                                if n > 255 {
                                    return Err(format!("Preview {n} is above 255"));
                                }
                                p.preview = Some(n);
                            }
                            _ => {}
                        }
                    }
                    if p.kind == 0 {
                        return Err("BodyPreference without Type".to_string());
                    }
                    out.preferences.push(p);
                }
                "MIMESupport" => {
                    let text = child.text();
                    out.mime_support = text
                        .trim()
                        .parse()
                        .ok()
                        .filter(|m| *m <= 2)
                        .ok_or_else(|| format!("MIMESupport `{}`", text.trim()))?;
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Writes `<ApplicationData>` for `item` as `version` has it: elements the
/// version lacks are left out, the body is shaped by `body`.
pub fn write_application_data(
    out: &mut XmlOut,
    item: &Item,
    body: &BodyOptions,
    version: ProtocolVersion,
) {
    out.open("ApplicationData");
    write_properties(out, item, body, version);
    out.close("ApplicationData");
}

/// `<ApplicationData>` of an item in a Sync `Add`: as
/// [`write_application_data`], plus for a message the empty elements
/// MS-ASEMAIL asks for when it has none of them: `<email:Flag/>` (an
/// unflagged message, 2.2.2.34) and, from 14.0, `<email:Categories/>`
/// (2.2.2.16). Not in a `Change`, where an empty element means "removed".
pub fn write_added_application_data(
    out: &mut XmlOut,
    item: &Item,
    body: &BodyOptions,
    version: ProtocolVersion,
) {
    out.open("ApplicationData");
    write_properties(out, item, body, version);
    if item.class == Class::Email {
        for name in ["Flag", "Categories"] {
            let absent = !item
                .data
                .iter()
                .any(|e| e.namespace == "Email" && e.name == name);
            if absent && exists_in("Email", name, version) {
                out.element(&Element {
                    namespace: "Email",
                    name: name.to_string(),
                    children: Vec::new(),
                });
            }
        }
    }
    out.close("ApplicationData");
}

/// The properties of `item` (the content of `ApplicationData`, or of a
/// Search or ItemOperations `Properties`).
pub fn write_properties(
    out: &mut XmlOut,
    item: &Item,
    body: &BodyOptions,
    version: ProtocolVersion,
) {
    for element in &item.data {
        if element.namespace == "AirSyncBase" && element.name == "Body" {
            write_body(out, item, body, version);
        } else if let Some(pruned) = for_version(element, version) {
            out.element(&pruned);
        }
    }
    // A message with MIME but no stored Body element still has a body.
    if item.body().is_none() && item.mime.is_some() {
        write_body(out, item, body, version);
    }
}

/// `element` as `version` has it: what moved between versions is carried
/// over (a calendar item's location is `calendar:Location` text up to 14.1
/// and `airsyncbase:Location` with a `DisplayName` from 16.0; an exception
/// is named by `calendar:ExceptionStartTime` up to 14.1 and by
/// `airsyncbase:InstanceId` from 16.0, MS-ASCAL 2.2.2.26, MS-ASAIRS
/// 2.2.2.28), and the descendants the version does not have are left out;
/// `None` if the element itself does not exist there.
pub fn for_version(element: &Element, version: ProtocolVersion) -> Option<Element> {
    if let Some(moved) = moved_for_version(element, version) {
        return for_version(&moved, version);
    }
    if !exists_in(element.namespace, &element.name, version) {
        return None;
    }
    // `calendar:UID` exists on its page in every version, but inside an
    // `email:MeetingRequest` only from 16.0 on (before, the meeting is named
    // by `email:GlobalObjId`).
    let in_meeting_request = element.namespace == "Email" && element.name == "MeetingRequest";
    Some(Element {
        namespace: element.namespace,
        name: element.name.clone(),
        children: element
            .children
            .iter()
            .filter_map(|n| match n {
                Node::Element(e)
                    if in_meeting_request
                        && version < ProtocolVersion::V16_0
                        && e.namespace == "Calendar"
                        && e.name == "UID" =>
                {
                    None
                }
                Node::Element(e) => for_version(e, version).map(Node::Element),
                other => Some(other.clone()),
            })
            .collect(),
    })
}

/// The form `version` gives an element that changed between versions, if
/// `element` is in the other form.
fn moved_for_version(element: &Element, version: ProtocolVersion) -> Option<Element> {
    let sixteen = version >= ProtocolVersion::V16_0;
    let text = |namespace: &'static str, name: &str, value: String| Element {
        namespace,
        name: name.to_string(),
        children: vec![Node::Text(value)],
    };
    match (element.namespace, element.name.as_str(), sixteen) {
        ("Calendar", "Location", true) => Some(Element {
            namespace: "AirSyncBase",
            name: "Location".to_string(),
            children: vec![Node::Element(text(
                "AirSyncBase",
                "DisplayName",
                element.text(),
            ))],
        }),
        ("AirSyncBase", "Location", false) => Some(text(
            "Calendar",
            "Location",
            element.child_text("DisplayName").unwrap_or_default(),
        )),
        ("Calendar", "ExceptionStartTime", true) => {
            // InstanceId is an MS-ASDTYPE dateTime (`2026-11-11T09:00:00.000Z`).
            let value = element.text();
            let extended = super::sync::parse_any_datetime(&value)
                .map(super::mime::eas_datetime)
                .unwrap_or(value);
            Some(text("AirSyncBase", "InstanceId", extended))
        }
        ("AirSyncBase", "InstanceId", false) => {
            let value = element.text();
            let compact = super::sync::parse_any_datetime(&value)
                .map(super::mime::compact_datetime)
                .unwrap_or(value);
            Some(text("Calendar", "ExceptionStartTime", compact))
        }
        _ => None,
    }
}

/// The `airsyncbase:Body` as the client asked: the first preference the item
/// can satisfy (MIME only for messages and only with MIMESupport 2, or 1
/// for signed or encrypted ones), else the stored type; truncated to
/// `TruncationSize` with `Truncated` and the full `EstimatedDataSize`;
/// with `AllOrNone` a body that does not fit is sent without `Data`.
fn write_body(out: &mut XmlOut, item: &Item, options: &BodyOptions, version: ProtocolVersion) {
    let stored = item.body();
    let smime = item
        .text("MessageClass")
        .is_some_and(|c| c.starts_with("IPM.Note.SMIME"));
    let mime_allowed = options.mime_support == 2 || (options.mime_support == 1 && smime);
    let available = |kind: u8| -> Option<String> {
        match (kind, &stored) {
            (4, _) if mime_allowed => item.mime.clone(),
            (4, _) => None,
            (k, Some((s, data))) if k == *s => Some(data.clone()),
            (1, Some((2, html))) => Some(strip_html(html)),
            (1, None) => item.mime.as_deref().map(mime_text_body),
            _ => None,
        }
    };
    let chosen = options
        .preferences
        .iter()
        .find_map(|p| available(p.kind).map(|data| (p.clone(), data)))
        .or_else(|| {
            let (kind, data) = stored
                .clone()
                .or_else(|| item.mime.as_deref().map(|m| (1, mime_text_body(m))))?;
            Some((
                BodyPreference {
                    kind,
                    ..Default::default()
                },
                data,
            ))
        });
    let Some((preference, data)) = chosen else {
        return;
    };
    let full = data.len();
    let limit = preference.truncation_size.unwrap_or(usize::MAX);
    out.open_ns("Body", "AirSyncBase");
    out.leaf("Type", preference.kind.to_string());
    out.leaf("EstimatedDataSize", full.to_string());
    if full > limit {
        out.leaf("Truncated", "1");
        if !preference.all_or_none {
            out.leaf("Data", truncate(&data, limit));
        }
    } else if full > 0 {
        out.leaf("Data", &data);
    }
    if let Some(n) = preference.preview
        && exists_in("AirSyncBase", "Preview", version)
    {
        let text = if preference.kind == 2 {
            strip_html(&data)
        } else {
            data.clone()
        };
        out.leaf("Preview", text.chars().take(n).collect::<String>());
    }
    out.close_ns("Body");
}

/// `text` cut to at most `limit` bytes, at a character boundary.
pub fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The text of an HTML body, tags dropped (good enough for the mock's own
/// seed and test bodies; not an HTML parser).
pub fn strip_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The body of a single-part MIME message (what follows the first empty
/// line), or the whole text when there is no header.
pub fn mime_text_body(mime: &str) -> String {
    mime.split_once("\r\n\r\n")
        .or_else(|| mime.split_once("\n\n"))
        .map(|(_, body)| body.to_string())
        .unwrap_or_else(|| mime.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_types_decide_the_class() {
        assert_eq!(Class::of_folder_type(2), Some(Class::Email));
        assert_eq!(Class::of_folder_type(8), Some(Class::Calendar));
        assert_eq!(Class::of_folder_type(9), Some(Class::Contacts));
        assert_eq!(Class::of_folder_type(7), Some(Class::Tasks));
        assert_eq!(Class::of_folder_type(10), Some(Class::Notes));
        assert_eq!(Class::of_folder_type(11), None, "Journal");
        assert_eq!(Class::of_folder_type(19), None, "recipient cache");
    }

    #[test]
    fn application_data_parses_through_the_codec() {
        let data = parse_application_data(
            "<contacts:FileAs>Doe, Jane</contacts:FileAs>\
             <airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
             <airsyncbase:Data>hi</airsyncbase:Data></airsyncbase:Body>",
        )
        .unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(
            (data[0].namespace, data[0].text().as_str()),
            ("Contacts", "Doe, Jane")
        );
        assert!(parse_application_data("<contacts:NoSuchTag>x</contacts:NoSuchTag>").is_err());
    }

    #[test]
    fn version_pruning_drops_what_the_version_lacks() {
        let data = parse_application_data(
            "<email:Subject>s</email:Subject><email2:LastVerbExecuted>1</email2:LastVerbExecuted>",
        )
        .unwrap();
        assert!(for_version(&data[0], ProtocolVersion::V12_1).is_some());
        assert!(for_version(&data[1], ProtocolVersion::V12_1).is_none());
        assert!(for_version(&data[1], ProtocolVersion::V14_0).is_some());
    }

    #[test]
    fn conversation_index_is_the_22_byte_header() {
        let index = conversation_index("Re: Lunch", 1_794_000_000);
        let bytes = index.opaque().unwrap();
        assert_eq!(bytes.len(), 22);
        assert_eq!(bytes[0], 1);
        assert_eq!(&bytes[6..], conversation_id("Lunch").opaque().unwrap());
    }

    #[test]
    fn what_moved_between_versions_is_carried_over() {
        let data = parse_application_data(
            "<calendar:Location>Room 4</calendar:Location>\
             <calendar:Exceptions><calendar:Exception>\
             <calendar:ExceptionStartTime>20261111T090000Z</calendar:ExceptionStartTime>\
             </calendar:Exception></calendar:Exceptions>",
        )
        .unwrap();
        let v16 = ProtocolVersion::V16_1;
        let location = for_version(&data[0], v16).unwrap();
        assert_eq!(
            (location.namespace, location.name.as_str()),
            ("AirSyncBase", "Location")
        );
        assert_eq!(
            location.child_text("DisplayName").as_deref(),
            Some("Room 4")
        );
        let exceptions = for_version(&data[1], v16).unwrap();
        let exception = exceptions.child("Exception").unwrap();
        assert_eq!(
            exception.child_text("InstanceId").as_deref(),
            Some("2026-11-11T09:00:00.000Z")
        );
        // And back, for an older device reading what a 16.x client wrote.
        let back = for_version(&location, ProtocolVersion::V14_1).unwrap();
        assert_eq!(
            (back.namespace, back.text().as_str()),
            ("Calendar", "Room 4")
        );
        let back = for_version(&exceptions, ProtocolVersion::V14_1).unwrap();
        assert_eq!(
            back.child("Exception")
                .unwrap()
                .child_text("ExceptionStartTime")
                .as_deref(),
            Some("20261111T090000Z")
        );
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn html_and_mime_yield_plain_text() {
        assert_eq!(strip_html("<p>a &amp; b</p>"), "a & b");
        assert_eq!(mime_text_body("Subject: x\r\n\r\nbody"), "body");
    }
}
