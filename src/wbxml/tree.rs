//! A small element tree over decoded WBXML, for code that reads requests and
//! responses element by element (the mock server, checks in tests).
//!
//! It is built from the codec's own XML form ([`decode`](super::decode)'s
//! output), so it sees exactly what the XML shows and shares the decoder's
//! validation and limits. It keeps what EAS carries: elements by code page and
//! name, text, and opaque data; the byte-level details that only matter for
//! exact re-encoding (`<?wbxml str-end?>` and the like) are not kept.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::Reader;
use quick_xml::events::Event;

use super::codepage::code_page_by_uri;
use super::{DecodeError, DecodeOptions, decode};

/// An element: its code page's namespace name (`AirSync`), its name, and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The code page's name, e.g. `FolderHierarchy`.
    pub namespace: &'static str,
    /// The element name, e.g. `SyncKey`.
    pub name: String,
    /// Child elements, text and opaque data, in document order.
    pub children: Vec<Node>,
}

/// Content of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
    Opaque(Vec<u8>),
}

/// Why a tree could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{0}")]
    Unsupported(String),
}

impl Element {
    /// Decodes WBXML into a tree.
    ///
    /// ```
    /// use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};
    /// let bytes = [0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01];
    /// let root = Element::from_wbxml(&bytes, &DecodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
    /// assert_eq!((root.namespace, root.name.as_str()), ("FolderHierarchy", "FolderSync"));
    /// assert_eq!(root.child_text("SyncKey"), Some("0".to_string()));
    /// ```
    pub fn from_wbxml(bytes: &[u8], options: &DecodeOptions) -> Result<Element, TreeError> {
        let xml = decode(bytes, options)?;
        parse_decoded(&xml)
    }

    /// The first child element with this name (any code page).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// The child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The child elements with this name.
    pub fn elements_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.name == name)
    }

    /// The child elements, if the element holds nothing else and every child
    /// is on the code page `namespace`: `None` when text, opaque data or an
    /// element of another page is among them (a malformed request).
    pub fn elements_only_in(&self, namespace: &str) -> Option<Vec<&Element>> {
        self.children
            .iter()
            .map(|n| match n {
                Node::Element(c) if c.namespace == namespace => Some(c),
                _ => None,
            })
            .collect()
    }

    /// The element's text: its text nodes joined (empty when it has none).
    pub fn text(&self) -> String {
        let mut s = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                s.push_str(t);
            }
        }
        s
    }

    /// The text of the first child with this name.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(Element::text)
    }

    /// The element's opaque data, if its content is opaque.
    pub fn opaque(&self) -> Option<&[u8]> {
        self.children.iter().find_map(|n| match n {
            Node::Opaque(b) => Some(b.as_slice()),
            _ => None,
        })
    }

    /// The names of the child elements, in order (for checking element order).
    pub fn child_names(&self) -> Vec<&str> {
        self.elements().map(|e| e.name.as_str()).collect()
    }
}

/// Parses the decoder's XML form into a tree.
fn parse_decoded(xml: &str) -> Result<Element, TreeError> {
    let unsupported = |what: String| TreeError::Unsupported(what);
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    // Namespace prefix -> page name; the decoder declares them all on the root.
    let mut prefixes: Vec<(Option<String>, &'static str)> = Vec::new();
    let mut stack: Vec<(Element, bool)> = Vec::new();
    let mut root = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| unsupported(format!("decoder output is not XML: {e}")))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let mut opaque = false;
            for attr in e.attributes() {
                let attr = attr.map_err(|err| unsupported(err.to_string()))?;
                let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                let value = attr
                    .unescape_value()
                    .map_err(|err| unsupported(err.to_string()))?;
                if key == "xmlns" || key.starts_with("xmlns:") {
                    let page = code_page_by_uri(&value).ok_or_else(|| {
                        unsupported(format!(
                            "namespace `{value}` (lenient unknown tags have no tree form)"
                        ))
                    })?;
                    prefixes.push((
                        key.strip_prefix("xmlns:").map(str::to_string),
                        page.namespace,
                    ));
                } else if key == "opaque" {
                    opaque = true;
                } else {
                    return Err(unsupported(format!("attribute `{key}`")));
                }
            }
            let qname = String::from_utf8_lossy(e.name().as_ref()).into_owned();
            let (prefix, local) = match qname.split_once(':') {
                Some((p, l)) => (Some(p.to_string()), l.to_string()),
                None => (None, qname.clone()),
            };
            let namespace = prefixes
                .iter()
                .rev()
                .find(|(p, _)| *p == prefix)
                .map(|(_, ns)| *ns)
                .ok_or_else(|| unsupported(format!("element `{qname}` without a code page")))?;
            let element = Element {
                namespace,
                name: local,
                children: Vec::new(),
            };
            if empty {
                attach(&mut stack, &mut root, element);
            } else {
                stack.push((element, opaque));
            }
            continue;
        }
        match event {
            Event::End(_) => {
                let (mut element, opaque) = stack
                    .pop()
                    .ok_or_else(|| unsupported("unbalanced end tag".into()))?;
                if opaque {
                    let text = element.text();
                    let data = BASE64
                        .decode(text.trim())
                        .map_err(|e| unsupported(format!("opaque data: {e}")))?;
                    element.children = vec![Node::Opaque(data)];
                }
                attach(&mut stack, &mut root, element);
            }
            Event::Text(t) => {
                if let Some((top, _)) = stack.last_mut() {
                    let raw = std::str::from_utf8(&t).map_err(|e| unsupported(e.to_string()))?;
                    let text =
                        quick_xml::escape::unescape(raw).map_err(|e| unsupported(e.to_string()))?;
                    // Indentation is formatting; the decoder writes
                    // whitespace-only content as character references, which
                    // the raw check above does not see as whitespace.
                    if !raw.bytes().all(|b| b.is_ascii_whitespace()) {
                        match top.children.last_mut() {
                            Some(Node::Text(prev)) => prev.push_str(&text),
                            _ => top.children.push(Node::Text(text.into_owned())),
                        }
                    }
                }
            }
            Event::PI(pi) => {
                let content = String::from_utf8_lossy(pi.content()).trim().to_string();
                if let Some(data) = content.strip_prefix("opaque ") {
                    let data = BASE64
                        .decode(data.trim())
                        .map_err(|e| unsupported(format!("opaque data: {e}")))?;
                    if let Some((top, _)) = stack.last_mut() {
                        top.children.push(Node::Opaque(data));
                    }
                } else if content.starts_with("str-bytes") {
                    return Err(unsupported("an inline string that is not UTF-8".into()));
                }
                // header, switch-page, str-end: byte-level detail only.
            }
            Event::Eof => break,
            _ => {}
        }
    }
    root.ok_or_else(|| unsupported("no root element".into()))
}

fn attach(stack: &mut [(Element, bool)], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some((parent, _)) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::{EncodeOptions, ProtocolVersion, encode};

    #[test]
    fn tree_of_a_sync_request() {
        let xml = r#"<Sync xmlns="AirSync:" xmlns:A="AirSyncBase:"><Collections><Collection>
            <SyncKey>0</SyncKey><CollectionId>1</CollectionId><Supported/>
            <Commands><Add><ApplicationData><A:Data opaque="base64">AAEC</A:Data>
            <A:Type> </A:Type></ApplicationData></Add></Commands></Collection></Collections></Sync>"#;
        let v = ProtocolVersion::V14_1;
        let bytes = encode(xml, &EncodeOptions::strict(v)).unwrap();
        let root = Element::from_wbxml(&bytes, &DecodeOptions::strict(v)).unwrap();
        assert_eq!(root.name, "Sync");
        let c = root
            .child("Collections")
            .unwrap()
            .child("Collection")
            .unwrap();
        assert_eq!(
            c.child_names(),
            ["SyncKey", "CollectionId", "Supported", "Commands"]
        );
        assert_eq!(c.child_text("SyncKey").as_deref(), Some("0"));
        let data = c
            .child("Commands")
            .unwrap()
            .child("Add")
            .unwrap()
            .child("ApplicationData")
            .unwrap();
        assert_eq!(data.child("Data").unwrap().namespace, "AirSyncBase");
        assert_eq!(data.child("Data").unwrap().opaque(), Some(&[0u8, 1, 2][..]));
        assert_eq!(data.child_text("Type").as_deref(), Some(" "));
    }

    #[test]
    fn malformed_wbxml_is_a_decode_error() {
        let err = Element::from_wbxml(&[0x03, 0x01, 0x6A, 0x00, 0x45], &DecodeOptions::default())
            .unwrap_err();
        assert!(matches!(err, TreeError::Decode(_)), "{err:?}");
    }
}
