//! Writing response documents: XML text in eastest's form, encoded with the
//! shared codec for the negotiated version (strict, so the mock can never
//! send a tag the version does not have).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::wbxml::{Element, EncodeError, EncodeOptions, Node, ProtocolVersion, encode};

/// A response document under construction.
pub struct XmlOut {
    xml: String,
    /// The default namespace of each open element, the root's first.
    namespaces: Vec<&'static str>,
}

impl XmlOut {
    /// A document whose root is `name` on the page `namespace` (e.g. `Provision`).
    pub fn new(namespace: &'static str, name: &str, extra_namespaces: &[&str]) -> XmlOut {
        let mut xml = format!("<{name} xmlns=\"{namespace}:\"");
        for ns in extra_namespaces {
            xml.push_str(&format!(" xmlns:{ns}=\"{ns}:\""));
        }
        xml.push('>');
        XmlOut {
            xml,
            namespaces: vec![namespace],
        }
    }

    fn current(&self) -> &'static str {
        self.namespaces.last().copied().unwrap_or("AirSync")
    }

    /// Opens `name` in the current default namespace.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.namespaces.push(self.current());
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    /// Opens `name` on the page `namespace`, which becomes the default for
    /// its content; close it with [`XmlOut::close_ns`] (or `close`).
    pub fn open_ns(&mut self, name: &str, namespace: &'static str) -> &mut Self {
        self.xml.push('<');
        self.xml.push_str(name);
        if namespace != self.current() {
            self.xml.push_str(" xmlns=\"");
            self.xml.push_str(namespace);
            self.xml.push_str(":\"");
        }
        self.xml.push('>');
        self.namespaces.push(namespace);
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.namespaces.pop();
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    pub fn close_ns(&mut self, name: &str) -> &mut Self {
        self.close(name)
    }

    /// `<name/>`: an element without content (a WBXML tag without the
    /// content bit).
    pub fn empty(&mut self, name: &str) -> &mut Self {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push_str("/>");
        self
    }

    /// `<name>text</name>`, with the text escaped.
    pub fn leaf(&mut self, name: &str, text: impl AsRef<str>) -> &mut Self {
        self.open(name);
        self.text(text.as_ref());
        self.close(name)
    }

    /// Text content, escaped so that the codec reads back exactly `text`.
    pub fn text(&mut self, text: &str) -> &mut Self {
        let whitespace_only = !text.is_empty() && text.chars().all(char::is_whitespace);
        for c in text.chars() {
            match c {
                '&' => self.xml.push_str("&amp;"),
                '<' => self.xml.push_str("&lt;"),
                '>' => self.xml.push_str("&gt;"),
                c if whitespace_only || (c.is_control() && c != '\n' && c != '\t') => {
                    self.xml.push_str(&format!("&#{};", c as u32));
                }
                c => self.xml.push(c),
            }
        }
        self
    }

    /// An element tree (an item's property), in its own namespace.
    pub fn element(&mut self, element: &Element) -> &mut Self {
        self.open_ns(&element.name, element.namespace);
        if let [Node::Opaque(bytes)] = element.children.as_slice() {
            // The codec's form for an element whose content is one OPAQUE.
            let top = self.xml.rfind('>').expect("just opened");
            self.xml.insert_str(top, " opaque=\"base64\"");
            self.xml.push_str(&BASE64.encode(bytes));
        } else if element.children.is_empty() {
            // `<name/>`: rewrite the open tag as an empty one.
            self.xml.pop();
            self.xml.push_str("/>");
            self.namespaces.pop();
            return self;
        } else {
            for child in &element.children {
                match child {
                    Node::Element(e) => {
                        self.element(e);
                    }
                    Node::Text(t) => {
                        self.text(t);
                    }
                    Node::Opaque(bytes) => {
                        self.xml.push_str("<?wbxml opaque ");
                        self.xml.push_str(&BASE64.encode(bytes));
                        self.xml.push_str("?>");
                    }
                }
            }
        }
        self.close(&element.name)
    }

    /// Closes the root and encodes the document.
    pub fn finish(mut self, root: &str, version: ProtocolVersion) -> Result<Vec<u8>, EncodeError> {
        self.close(root);
        encode(&self.xml, &EncodeOptions::strict(version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::DecodeOptions;

    #[test]
    fn element_trees_round_trip_through_the_codec() {
        let v = ProtocolVersion::V16_1;
        let inner = Element {
            namespace: "AirSyncBase",
            name: "Body".into(),
            children: vec![
                Node::Element(Element {
                    namespace: "AirSyncBase",
                    name: "Data".into(),
                    children: vec![Node::Text("  \r\n<&>".into())],
                }),
                Node::Element(Element {
                    namespace: "AirSyncBase",
                    name: "Truncated".into(),
                    children: vec![],
                }),
            ],
        };
        let picture = Element {
            namespace: "Contacts",
            name: "Picture".into(),
            children: vec![Node::Text(" ".into())],
        };
        let timezone = Element {
            namespace: "Calendar",
            name: "UID".into(),
            children: vec![Node::Opaque(vec![0, 1, 2])],
        };
        let mut out = XmlOut::new("AirSync", "Sync", &[]);
        out.open("ApplicationData");
        out.element(&inner).element(&picture).element(&timezone);
        out.close("ApplicationData");
        let bytes = out.finish("Sync", v).unwrap();
        let root = Element::from_wbxml(&bytes, &DecodeOptions::strict(v)).unwrap();
        let data = root.child("ApplicationData").unwrap();
        let got: Vec<&Element> = data.elements().collect();
        assert_eq!(got, [&inner, &picture, &timezone]);
    }
}
