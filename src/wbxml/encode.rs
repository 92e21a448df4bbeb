//! XML -> WBXML, streaming over quick-xml events.
//!
//! Namespaces are resolved by hand (a small stack of prefix bindings) rather
//! than with quick-xml's `NsReader`, because the only question asked of a
//! namespace is "which code page", and answering it from a tiny stack keeps
//! the fast path free of allocation.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::codepage::{CodePage, code_page_by_uri, pages_with_tag};
use super::error::{EncodeError, EncodeErrorKind};
use super::version::ProtocolVersion;
use super::wire;
use super::{Mode, UNKNOWN_NS};

/// How to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// The protocol version to encode for; in strict mode an element that does
    /// not exist in this version is an error.
    pub version: ProtocolVersion,
    /// Strict, or lenient (accepts out-of-version tags and `wbxml:unknown`).
    pub mode: Mode,
    /// The deepest nesting accepted (default 32).
    pub max_depth: usize,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            version: ProtocolVersion::LATEST,
            mode: Mode::Strict,
            max_depth: 32,
        }
    }
}

impl EncodeOptions {
    /// Strict encoding for `version`.
    pub fn strict(version: ProtocolVersion) -> Self {
        EncodeOptions {
            version,
            ..EncodeOptions::default()
        }
    }

    /// Lenient encoding for `version`.
    pub fn lenient(version: ProtocolVersion) -> Self {
        EncodeOptions {
            version,
            mode: Mode::Lenient,
            ..EncodeOptions::default()
        }
    }
}

/// Encodes a document in eastest's XML form (or any namespace-qualified EAS
/// XML, such as libwbxml's) into WBXML.
///
/// ```
/// use eastest::wbxml::{encode, EncodeOptions, ProtocolVersion};
/// let xml = r#"<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>"#;
/// let bytes = encode(xml, &EncodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
/// assert_eq!(bytes, [0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01]);
/// ```
pub fn encode(xml: &str, options: &EncodeOptions) -> Result<Vec<u8>, EncodeError> {
    let mut e = Encoder::new(xml, options);
    e.run()
        .map_err(|(at, kind)| EncodeError::at(xml, at, kind))?;
    Ok(e.out)
}

type Fail = (usize, EncodeErrorKind);

/// What a namespace URI stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ns {
    Page(u8),
    /// eastest's own namespace for `wbxml:unknown`.
    Eastest,
    /// Declared but not an EAS code page; an error only if an element uses it.
    Other,
    /// `xmlns=""`: no namespace.
    None,
}

struct Binding {
    /// `None` for the default namespace.
    prefix: Option<Vec<u8>>,
    ns: Ns,
    uri: String,
}

struct Open {
    /// Where its start tag is in the input.
    at: usize,
    /// Bindings to drop when the element ends.
    bindings_before: usize,
    /// The element holds base64 for one OPAQUE instead of WBXML content.
    opaque: bool,
}

/// What is known of a piece of character data.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// Literal text with no CR and no NUL: copied as it is (the fast path).
    Clean,
    /// Literal text that may hold CRs (end-of-line handling applies) or NUL.
    Literal,
    /// A resolved reference or CDATA: no end-of-line handling, may hold NUL.
    Resolved,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    Other,
}

struct Encoder<'a> {
    xml: &'a str,
    opts: EncodeOptions,
    out: Vec<u8>,
    /// The current code page of the output.
    page: u8,
    header_written: bool,
    bindings: Vec<Binding>,
    stack: Vec<Open>,
    root_seen: bool,
    root_done: bool,
    /// Character data seen since the last markup, unescaped.
    text: Vec<u8>,
    /// The text so far is only literal whitespace (no references, no CDATA).
    text_formatting: bool,
    text_has_newline: bool,
    text_at: usize,
    /// An STR_I is open in `out`: content is being written straight to it.
    direct: bool,
    /// Whitespace seen but not copied yet: a byte range of the input.
    ws: Option<(usize, usize)>,
    prev: Prev,
}

impl<'a> Encoder<'a> {
    fn new(xml: &'a str, opts: &EncodeOptions) -> Self {
        Encoder {
            xml,
            opts: *opts,
            out: Vec::with_capacity(xml.len() / 3 + 16),
            page: 0,
            header_written: false,
            bindings: Vec::new(),
            stack: Vec::new(),
            root_seen: false,
            root_done: false,
            text: Vec::new(),
            text_formatting: true,
            text_has_newline: false,
            text_at: 0,
            direct: false,
            ws: None,
            prev: Prev::Other,
        }
    }

    fn run(&mut self) -> Result<(), Fail> {
        let mut reader = Reader::from_str(self.xml);
        reader.config_mut().trim_text(false);
        loop {
            let at = reader.buffer_position() as usize;
            let event = reader.read_event().map_err(|e| {
                (
                    reader.error_position() as usize,
                    EncodeErrorKind::Syntax(e.to_string()),
                )
            })?;
            match event {
                Event::Start(e) => {
                    self.end_text(at, false)?;
                    self.start(at, &e, true)?;
                    self.prev = Prev::Start;
                }
                Event::Empty(e) => {
                    self.end_text(at, false)?;
                    self.start(at, &e, false)?;
                    self.prev = Prev::Other;
                }
                Event::End(_) => {
                    self.end_text(at, true)?;
                    self.end(at)?;
                    self.prev = Prev::Other;
                }
                Event::Text(t) => self.text_event(at, &t)?,
                Event::CData(c) => {
                    self.content(at, &c, Piece::Resolved)?;
                }
                Event::PI(pi) => {
                    let wrote = self.end_text(at, false)?;
                    let target = String::from_utf8_lossy(pi.target());
                    let content = String::from_utf8_lossy(pi.content());
                    self.instruction(at, &target, &content, wrote)?;
                    self.prev = Prev::Other;
                }
                // Comments are transparent: text on both sides is one string.
                Event::Comment(_) => {}
                Event::Decl(_) | Event::DocType(_) => {
                    if self.root_seen {
                        return Err((
                            at,
                            EncodeErrorKind::Syntax("declaration after the root element".into()),
                        ));
                    }
                }
                Event::Eof => {
                    self.end_text(at, false)?;
                    if !self.stack.is_empty() {
                        return Err((at, self.unclosed()));
                    }
                    break;
                }
            }
        }
        if !self.root_seen {
            return Err((self.xml.len(), EncodeErrorKind::NoRoot));
        }
        Ok(())
    }

    /// The error for input that ends with elements still open, naming them.
    fn unclosed(&self) -> EncodeErrorKind {
        let names: Vec<&str> = self
            .stack
            .iter()
            .map(|o| {
                let tag = self.xml.get(o.at + 1..).unwrap_or("");
                let end = tag
                    .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                    .unwrap_or(tag.len());
                &tag[..end]
            })
            .collect();
        EncodeErrorKind::Syntax(format!(
            "the input ends with {} element(s) not closed: {}",
            names.len(),
            names.join("/")
        ))
    }

    fn ensure_header(&mut self) {
        if !self.header_written {
            self.out.extend_from_slice(&wire::CANONICAL_HEADER);
            self.header_written = true;
        }
    }

    /// A text event: literal text with `&...;` references in it. Literal
    /// pieces may be formatting; references are always content.
    fn text_event(&mut self, at: usize, raw: &[u8]) -> Result<(), Fail> {
        if memchr::memchr3(b'&', b'\r', 0, raw).is_none() {
            return self.push_text(at, raw, Piece::Clean);
        }
        let mut rest = raw;
        let mut pos = at;
        while let Some(amp) = memchr::memchr(b'&', rest) {
            if amp > 0 {
                self.push_text(pos, &rest[..amp], Piece::Literal)?;
            }
            let after = &rest[amp + 1..];
            let semi = memchr::memchr(b';', &after[..after.len().min(12)]).ok_or((
                pos + amp,
                EncodeErrorKind::Syntax(
                    "`&` must start a reference such as `&amp;` or `&#13;`".into(),
                ),
            ))?;
            let name = &after[..semi];
            let c = resolve_reference(name).ok_or_else(|| {
                (
                    pos + amp,
                    EncodeErrorKind::UnknownEntity(String::from_utf8_lossy(name).into_owned()),
                )
            })?;
            let mut buf = [0u8; 4];
            self.content(
                pos + amp,
                c.encode_utf8(&mut buf).as_bytes(),
                Piece::Resolved,
            )?;
            let consumed = amp + 1 + semi + 1;
            rest = &rest[consumed..];
            pos += consumed;
        }
        if !rest.is_empty() {
            self.push_text(pos, rest, Piece::Literal)?;
        }
        Ok(())
    }

    /// Literal character data. Whitespace is held back until it is known
    /// whether it is formatting; anything else is content, written straight
    /// to the output as an open STR_I (the fast path: no second copy).
    fn push_text(&mut self, at: usize, raw: &[u8], piece: Piece) -> Result<(), Fail> {
        if !self.direct && self.text_formatting {
            if self.text.is_empty() {
                self.text_at = at;
            }
            let mut newline = self.text_has_newline;
            let all_space = raw.iter().all(|&b| match b {
                b'\n' | b'\r' => {
                    newline = true;
                    true
                }
                b' ' | b'\t' => true,
                _ => false,
            });
            self.text_has_newline = newline;
            if all_space {
                // Usually indentation, to be dropped: remember where it is
                // rather than copy it (a Text event is a verbatim slice of
                // the input starting at `at`).
                if self.ws.is_none()
                    && self.text.is_empty()
                    && self
                        .xml
                        .get(at..at + raw.len())
                        .is_some_and(|s| s.as_bytes() == raw)
                {
                    self.ws = Some((at, at + raw.len()));
                } else {
                    self.materialize_ws();
                    push_piece(&mut self.text, raw, piece);
                }
                return Ok(());
            }
        }
        self.content(at, raw, piece)
    }

    /// Character data that is content whatever it holds: text that is not
    /// only whitespace, a character or entity reference, or CDATA.
    /// `piece` says whether end-of-line handling and the NUL check apply.
    fn content(&mut self, at: usize, bytes: &[u8], piece: Piece) -> Result<(), Fail> {
        if !self.direct {
            self.materialize_ws();
            if self.text.is_empty() && self.text_formatting {
                self.text_at = at;
            }
            self.text_formatting = false;
            let Some(open) = self.stack.last() else {
                return Err((self.text_at, EncodeErrorKind::TextOutsideRoot));
            };
            if open.opaque {
                // Base64 for the element's OPAQUE: collected for `end`.
                push_piece(&mut self.text, bytes, piece);
                return Ok(());
            }
            self.out.push(wire::STR_I);
            self.out.extend_from_slice(&self.text);
            self.text.clear();
            self.direct = true;
        }
        if piece != Piece::Clean && memchr::memchr(0, bytes).is_some() {
            return Err((at, EncodeErrorKind::NulInText));
        }
        push_piece(&mut self.out, bytes, piece);
        Ok(())
    }

    /// Ends the run of character data before a piece of markup, writing it as
    /// STR_I unless it is formatting. Literal whitespace is formatting unless
    /// it is the whole content of an element on one line (`<Subject> </Subject>`).
    /// Returns whether a string was written.
    /// Copies held-back whitespace into `self.text`.
    fn materialize_ws(&mut self) {
        if let Some((start, end)) = self.ws.take() {
            push_normalized(&mut self.text, &self.xml.as_bytes()[start..end]);
        }
    }

    fn end_text(&mut self, _at: usize, next_is_end: bool) -> Result<bool, Fail> {
        let pending_ws = self.ws.is_some();
        if pending_ws && self.prev == Prev::Start && next_is_end && !self.text_has_newline {
            self.materialize_ws();
        }
        self.ws = None;
        if self.direct {
            self.out.push(0);
            self.direct = false;
            self.text_formatting = true;
            self.text_has_newline = false;
            return Ok(true);
        }
        let whole_one_line_content =
            self.prev == Prev::Start && next_is_end && !self.text_has_newline;
        let keep_space = self.text_formatting && !self.text.is_empty() && whole_one_line_content;
        let opaque_pending = !self.text_formatting;
        self.text_formatting = true;
        self.text_has_newline = false;
        if opaque_pending {
            // Opaque text stays in `self.text` for `end`.
            self.text_formatting = false;
            return Ok(false);
        }
        if !keep_space {
            self.text.clear();
            return Ok(false);
        }
        let text = std::mem::take(&mut self.text);
        let at = self.text_at;
        self.content(at, &text, Piece::Resolved)?;
        self.text = text;
        self.text.clear();
        self.end_text(at, next_is_end)
    }

    fn lookup_prefix(&self, prefix: Option<&[u8]>) -> Option<&Binding> {
        self.bindings
            .iter()
            .rev()
            .find(|b| b.prefix.as_deref() == prefix)
    }

    fn start(&mut self, at: usize, e: &BytesStart<'a>, has_content: bool) -> Result<(), Fail> {
        if self.root_done {
            let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
            return Err((at, EncodeErrorKind::SecondRoot(name)));
        }
        if self.stack.last().is_some_and(|top| top.opaque) {
            return Err((at, EncodeErrorKind::OpaqueContent("child elements")));
        }
        if self.stack.len() >= self.opts.max_depth {
            return Err((
                at,
                EncodeErrorKind::TooDeep {
                    max: self.opts.max_depth,
                },
            ));
        }
        self.root_seen = true;
        let bindings_before = self.bindings.len();

        // Attributes: namespace declarations, opaque="base64", and the page and
        // token of `wbxml:unknown`. EAS itself has none.
        let mut opaque = false;
        let mut unknown_page: Option<String> = None;
        let mut unknown_token: Option<String> = None;
        let has_attributes = !e.attributes_raw().trim_ascii().is_empty();
        for attr in e
            .attributes()
            .take(if has_attributes { usize::MAX } else { 0 })
        {
            let attr = attr.map_err(|err| (at, EncodeErrorKind::Syntax(err.to_string())))?;
            let key: &[u8] = attr.key.as_ref();
            let value = || -> Result<String, Fail> {
                attr.unescape_value()
                    .map(|v| v.into_owned())
                    .map_err(|err| (at, EncodeErrorKind::Syntax(err.to_string())))
            };
            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                let uri = value()?;
                let prefix = if key == b"xmlns" {
                    None
                } else {
                    Some(key[6..].to_vec())
                };
                let ns = if uri.is_empty() {
                    Ns::None
                } else if uri == UNKNOWN_NS {
                    Ns::Eastest
                } else {
                    code_page_by_uri(&uri)
                        .filter(|p| !p.tags.is_empty())
                        .map_or(Ns::Other, |p| Ns::Page(p.number))
                };
                self.bindings.push(Binding { prefix, ns, uri });
            } else if key == b"opaque" {
                let v = value()?;
                if v != "base64" {
                    return Err((at, EncodeErrorKind::OpaqueEncoding(v)));
                }
                opaque = true;
            } else if key == b"page" {
                unknown_page = Some(value()?);
            } else if key == b"token" {
                unknown_token = Some(value()?);
            } else {
                return Err((
                    at,
                    EncodeErrorKind::UnexpectedAttribute(String::from_utf8_lossy(key).into_owned()),
                ));
            }
        }

        let qname = e.name();
        let (prefix, local) = split_qname(qname.as_ref());
        // The XML came in as a &str and quick-xml splits names at ASCII bytes,
        // so this never fails; an empty name then matches no tag.
        let local_str = std::str::from_utf8(local).unwrap_or("");
        let binding = self.lookup_prefix(prefix);
        let ns = binding.map_or(Ns::None, |b| b.ns);
        let (page, token) = match ns {
            Ns::Page(n) => {
                let cp = super::codepage::code_page(n).expect("bound pages exist");
                let Some(tag) = cp.tag_by_name(local_str) else {
                    return Err((at, unknown_tag(cp, local_str)));
                };
                if self.opts.mode == Mode::Strict && !tag.exists_in(self.opts.version) {
                    return Err((
                        at,
                        EncodeErrorKind::NotInVersion {
                            namespace: cp.namespace,
                            name: tag.name,
                            version: self.opts.version,
                            versions: tag.versions,
                        },
                    ));
                }
                if unknown_page.is_some() || unknown_token.is_some() {
                    let which = if unknown_page.is_some() {
                        "page"
                    } else {
                        "token"
                    };
                    return Err((at, EncodeErrorKind::UnexpectedAttribute(which.into())));
                }
                (n, tag.token)
            }
            Ns::Eastest => {
                if local != b"unknown" {
                    return Err((
                        at,
                        EncodeErrorKind::BadUnknownTag(format!(
                            "`{local_str}` is not an element of eastest's namespace"
                        )),
                    ));
                }
                if self.opts.mode == Mode::Strict {
                    return Err((at, EncodeErrorKind::UnknownTagStrict));
                }
                parse_unknown(unknown_page.as_deref(), unknown_token.as_deref())
                    .map_err(|m| (at, m))?
            }
            Ns::Other => {
                let uri = binding.map(|b| b.uri.clone()).unwrap_or_default();
                let hint = namespace_hint(local_str);
                return Err((at, EncodeErrorKind::UnknownNamespace { uri, hint }));
            }
            Ns::None => {
                if let Some(p) = prefix {
                    return Err((
                        at,
                        EncodeErrorKind::UndeclaredPrefix(String::from_utf8_lossy(p).into_owned()),
                    ));
                }
                let hint = pages_with_tag(local_str)
                    .next()
                    .map_or("AirSync:", |p| p.uri);
                return Err((
                    at,
                    EncodeErrorKind::NoNamespace {
                        name: local_str.to_string(),
                        hint: hint.to_string(),
                    },
                ));
            }
        };

        self.ensure_header();
        if page != self.page {
            self.out.push(wire::SWITCH_PAGE);
            self.out.push(page);
            self.page = page;
        }
        if has_content {
            self.out.push(token | wire::CONTENT_BIT);
            self.stack.push(Open {
                at,
                bindings_before,
                opaque,
            });
        } else {
            if opaque {
                // `<Data opaque="base64"/>`: empty opaque data.
                self.out.push(token | wire::CONTENT_BIT);
                self.out.extend_from_slice(&[wire::OPAQUE, 0, wire::END]);
            } else {
                self.out.push(token);
            }
            self.bindings.truncate(bindings_before);
            if self.stack.is_empty() {
                self.root_done = true;
            }
        }
        Ok(())
    }

    fn end(&mut self, at: usize) -> Result<(), Fail> {
        let Some(open) = self.stack.pop() else {
            return Err((
                at,
                EncodeErrorKind::Syntax("end tag with no open element".into()),
            ));
        };
        if open.opaque {
            let cleaned: Vec<u8> = self
                .text
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            self.text.clear();
            self.text_formatting = true;
            let data = BASE64
                .decode(&cleaned)
                .map_err(|err| (at, EncodeErrorKind::Base64(err.to_string())))?;
            self.out.push(wire::OPAQUE);
            wire::write_mb_u32(&mut self.out, data.len() as u32);
            self.out.extend_from_slice(&data);
        }
        self.out.push(wire::END);
        self.bindings.truncate(open.bindings_before);
        if self.stack.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }

    fn instruction(
        &mut self,
        at: usize,
        target: &str,
        content: &str,
        wrote_string: bool,
    ) -> Result<(), Fail> {
        if target != "wbxml" {
            return Err((
                at,
                EncodeErrorKind::UnknownInstruction(
                    format!("{target} {}", content.trim()).trim().to_string(),
                ),
            ));
        }
        if self.stack.last().is_some_and(|o| o.opaque) {
            return Err((at, EncodeErrorKind::OpaqueContent("instructions")));
        }
        let content = content.trim();
        let (verb, arg) = content
            .split_once(char::is_whitespace)
            .unwrap_or((content, ""));
        let arg = arg.trim();
        let bad = |why: &str| {
            (
                at,
                EncodeErrorKind::BadInstruction(content.to_string(), why.to_string()),
            )
        };
        match verb {
            "header" => {
                if self.header_written || self.root_seen {
                    return Err(bad("the header instruction must come before anything else"));
                }
                let bytes =
                    parse_hex(arg).ok_or_else(|| bad("expected the header bytes in hex"))?;
                match wire::parse_header(&bytes) {
                    Ok(h) if h.len == bytes.len() => {}
                    _ => {
                        return Err(bad(
                            "not a complete WBXML header with UTF-8 and no string table",
                        ));
                    }
                }
                self.out.extend_from_slice(&bytes);
                self.header_written = true;
            }
            "switch-page" => {
                let page: u8 = arg
                    .parse()
                    .map_err(|_| bad("expected a page number 0-255"))?;
                if self.root_done {
                    return Err(bad("nothing may follow the root element"));
                }
                self.ensure_header();
                self.out.push(wire::SWITCH_PAGE);
                self.out.push(page);
                self.page = page;
            }
            "str-end" => {
                // Ends the string just written, or, with none, is an empty one.
                if self.stack.is_empty() {
                    return Err((at, EncodeErrorKind::TextOutsideRoot));
                }
                if !wrote_string {
                    self.out.extend_from_slice(&[wire::STR_I, 0]);
                }
            }
            "str-bytes" | "opaque" => {
                if self.stack.is_empty() {
                    return Err((at, EncodeErrorKind::TextOutsideRoot));
                }
                let data = BASE64
                    .decode(arg)
                    .map_err(|err| bad(&format!("invalid base64: {err}")))?;
                if verb == "str-bytes" {
                    if data.contains(&0) {
                        return Err((at, EncodeErrorKind::NulInText));
                    }
                    self.out.push(wire::STR_I);
                    self.out.extend_from_slice(&data);
                    self.out.push(0);
                } else {
                    self.out.push(wire::OPAQUE);
                    wire::write_mb_u32(&mut self.out, data.len() as u32);
                    self.out.extend_from_slice(&data);
                }
            }
            _ => return Err(bad("unknown instruction")),
        }
        Ok(())
    }
}

fn push_piece(out: &mut Vec<u8>, bytes: &[u8], piece: Piece) {
    match piece {
        Piece::Literal => push_normalized(out, bytes),
        Piece::Clean | Piece::Resolved => out.extend_from_slice(bytes),
    }
}

/// Appends literal XML text with end-of-line handling: CRLF and a lone CR
/// read as LF (a CR that must reach the wire is written `&#13;`).
fn push_normalized(out: &mut Vec<u8>, raw: &[u8]) {
    if memchr::memchr(b'\r', raw).is_none() {
        out.extend_from_slice(raw);
        return;
    }
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\r' {
            out.push(b'\n');
            if raw.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        } else {
            out.push(raw[i]);
        }
        i += 1;
    }
}

/// The character a reference (`amp`, `#13`, `#x1F`) stands for.
fn resolve_reference(name: &[u8]) -> Option<char> {
    match name {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        [b'#', b'x' | b'X', hex @ ..] => u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16)
            .ok()
            .and_then(char::from_u32),
        [b'#', dec @ ..] => std::str::from_utf8(dec)
            .ok()?
            .parse()
            .ok()
            .and_then(char::from_u32),
        _ => None,
    }
}

fn split_qname(name: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match memchr::memchr(b':', name) {
        Some(i) => (Some(&name[..i]), &name[i + 1..]),
        None => (None, name),
    }
}

fn unknown_tag(cp: &CodePage, name: &str) -> EncodeErrorKind {
    let mut hint = String::new();
    let similar = cp.similar_names(name);
    if !similar.is_empty() {
        hint.push_str(&format!("; did you mean `{}`?", similar.join("`, `")));
    }
    let elsewhere: Vec<&str> = pages_with_tag(name).map(|p| p.uri).collect();
    if !elsewhere.is_empty() {
        hint.push_str(&format!("; `{name}` is in {}", elsewhere.join(", ")));
    }
    EncodeErrorKind::UnknownTag {
        namespace: cp.namespace,
        name: name.to_string(),
        hint,
    }
}

fn namespace_hint(local: &str) -> String {
    let pages: Vec<&str> = pages_with_tag(local).map(|p| p.uri).collect();
    if pages.is_empty() {
        String::new()
    } else {
        format!("; `{local}` is in {}", pages.join(", "))
    }
}

fn parse_unknown(page: Option<&str>, token: Option<&str>) -> Result<(u8, u8), EncodeErrorKind> {
    let page = page
        .ok_or_else(|| EncodeErrorKind::BadUnknownTag("page is missing".into()))?
        .trim()
        .parse::<u8>()
        .map_err(|_| EncodeErrorKind::BadUnknownTag("page is not a number 0-255".into()))?;
    let token = token.ok_or_else(|| EncodeErrorKind::BadUnknownTag("token is missing".into()))?;
    let t = token.trim();
    let digits = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let token = u8::from_str_radix(digits, 16)
        .ok()
        .filter(|t| (0x05..=0x3F).contains(t))
        .ok_or_else(|| {
            EncodeErrorKind::BadUnknownTag(format!("token `{token}` is not in 0x05-0x3F"))
        })?;
    Ok((page, token))
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !s.len().is_multiple_of(2) || s.is_empty() {
        return None;
    }
    s.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}
