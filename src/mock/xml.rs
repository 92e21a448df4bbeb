//! Writing response documents: XML text in eastest's form, encoded with the
//! shared codec for the negotiated version (strict, so the mock can never
//! send a tag the version does not have).

use crate::wbxml::{EncodeError, EncodeOptions, ProtocolVersion, encode};

/// A response document under construction.
pub struct XmlOut {
    xml: String,
}

impl XmlOut {
    /// A document whose root is `name` on the page `namespace` (e.g. `Provision`).
    pub fn new(namespace: &str, name: &str, extra_namespaces: &[&str]) -> XmlOut {
        let mut xml = format!("<{name} xmlns=\"{namespace}:\"");
        for ns in extra_namespaces {
            xml.push_str(&format!(" xmlns:{ns}=\"{ns}:\""));
        }
        xml.push('>');
        XmlOut { xml }
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.xml.push('<');
        self.xml.push_str(name);
        self.xml.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.xml.push_str("</");
        self.xml.push_str(name);
        self.xml.push('>');
        self
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
        for c in text.as_ref().chars() {
            match c {
                '&' => self.xml.push_str("&amp;"),
                '<' => self.xml.push_str("&lt;"),
                '>' => self.xml.push_str("&gt;"),
                '\r' => self.xml.push_str("&#13;"),
                c => self.xml.push(c),
            }
        }
        self.close(name)
    }

    /// Closes the root and encodes the document.
    pub fn finish(mut self, root: &str, version: ProtocolVersion) -> Result<Vec<u8>, EncodeError> {
        self.close(root);
        encode(&self.xml, &EncodeOptions::strict(version))
    }
}
