//! WBXML -> XML, in one pass without building a tree.
//!
//! The output is eastest's XML form (see the module docs of [`crate::wbxml`]):
//! canonical input gives plain, indented XML; anything a canonical encoder
//! would not write (a redundant SWITCH_PAGE, split or empty inline strings,
//! another header) is kept as a `<?wbxml ...?>` instruction, so that
//! [`encode`](super::encode) gives back the same bytes.

use std::io::{self, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::codepage::{CodePage, TagDef, code_page};
use super::error::{DecodeError, DecodeErrorKind};
use super::version::ProtocolVersion;
use super::wire::{self, HeaderError, MbIntError, Token};
use super::{Mode, UNKNOWN_NS};

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The protocol version the document belongs to; in strict mode a tag that
    /// does not exist in this version is an error.
    pub version: ProtocolVersion,
    /// Strict (errors on unknown or out-of-version tags) or lenient (keeps them).
    pub mode: Mode,
    /// The deepest nesting accepted (default 32); EAS documents stay within
    /// about 12 levels.
    pub max_depth: usize,
    /// Indent the XML (two spaces a level). Compact output has no formatting
    /// whitespace at all. Both forms encode to the same bytes.
    pub indent: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            version: ProtocolVersion::LATEST,
            mode: Mode::Strict,
            max_depth: 32,
            indent: true,
        }
    }
}

impl DecodeOptions {
    /// Strict decoding for `version`, indented.
    pub fn strict(version: ProtocolVersion) -> Self {
        DecodeOptions {
            version,
            ..DecodeOptions::default()
        }
    }

    /// Lenient decoding for `version`, indented.
    pub fn lenient(version: ProtocolVersion) -> Self {
        DecodeOptions {
            version,
            mode: Mode::Lenient,
            ..DecodeOptions::default()
        }
    }
}

/// Decodes a WBXML document into eastest's XML form.
///
/// ```
/// use eastest::wbxml::{decode, DecodeOptions, ProtocolVersion};
/// let bytes = [0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01];
/// let xml = decode(&bytes, &DecodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
/// assert_eq!(xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
///                  <FolderSync xmlns=\"FolderHierarchy:\">\n  <SyncKey>0</SyncKey>\n</FolderSync>\n");
/// ```
pub fn decode(input: &[u8], options: &DecodeOptions) -> Result<String, DecodeError> {
    let mut d = Decoder::new(input, options);
    d.run()?;
    debug_assert!(
        std::str::from_utf8(&d.out).is_ok(),
        "decoder wrote invalid UTF-8"
    );
    // SAFETY: the decoder writes only ASCII markup, names from the static
    // table (ASCII), base64 (ASCII), character references (ASCII), and text
    // copied from inline strings after `std::str::from_utf8` accepted them
    // (invalid strings go out as base64). Splitting never happens inside a
    // string. Re-validating 10+ MB of output would cost a full extra pass; the
    // debug assertion above and the fuzz targets (debug builds) check it.
    Ok(unsafe { String::from_utf8_unchecked(d.out) })
}

/// Decodes a WBXML document into eastest's XML form, writing it to `out` in
/// chunks as it goes rather than building it whole: for large documents
/// (less memory, and no second copy of the output).
///
/// The output is the same as [`decode`]'s. If the document turns out to be
/// invalid part-way, what was written before the error stays written; a
/// caller that must not leave partial output writes to a temporary file.
pub fn decode_to_writer(
    input: &[u8],
    options: &DecodeOptions,
    out: &mut dyn Write,
) -> Result<(), DecodeToWriterError> {
    let Some((root_page, used)) = scan_namespaces(input) else {
        // The light walk could not finish, so the document is invalid:
        // decode it whole, which names the problem and writes nothing.
        let xml = decode(input, options)?;
        out.write_all(xml.as_bytes())?;
        return Ok(());
    };
    let mut d = Decoder::new_streaming(input, options);
    d.predeclared = true;
    d.root_page = root_page;
    d.used = used;
    d.drain = Some(out);
    let result = d.run();
    if let Some(e) = d.io_error.take() {
        return Err(DecodeToWriterError::Io(e));
    }
    result?;
    debug_assert_eq!(d.used, used, "the namespace scan and the decoder disagree");
    Ok(())
}

/// Why [`decode_to_writer`] failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeToWriterError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("cannot write the XML: {0}")]
    Io(#[from] io::Error),
}

/// The root's page and the set of pages used (bit 26: unknown tags), by a
/// light walk over the tokens that checks the structure (lengths, nesting,
/// one root) but not the tags. `None` when the structure is broken (the
/// document is then invalid, and streaming would only write part of it).
fn scan_namespaces(input: &[u8]) -> Option<(Option<u8>, u32)> {
    let start = wire::parse_header(input).ok()?.len;
    let mut page = 0u8;
    let mut used = 0u32;
    let mut root: Option<Option<u8>> = None;
    let mut depth = 0usize;
    for (_, token) in wire::Tokens::new(input, start) {
        if root.is_some() && depth == 0 {
            return None; // bytes after the root element
        }
        match token {
            Token::SwitchPage(p) => page = p,
            Token::End => depth = depth.checked_sub(1)?,
            Token::Str(_) | Token::Opaque(_) => {}
            Token::Other(_) | Token::Broken(_) => return None,
            Token::Tag(b) => {
                let known = code_page(page).and_then(|p| p.tag(b & 0x3F)).is_some();
                root.get_or_insert(known.then_some(page));
                used |= if known { 1 << page } else { UNKNOWN_BIT };
                if b & wire::CONTENT_BIT != 0 {
                    depth += 1;
                }
            }
        }
    }
    (depth == 0).then_some((root?, used))
}

/// What is known of an element that is open.
struct Open {
    /// The tag, or `None` for an unknown token kept in lenient mode.
    tag: Option<&'static TagDef>,
    page: u8,
    token: u8,
    /// A child element was written inside it.
    has_children: bool,
    /// Text, opaque data or an instruction was written inside it: from then on
    /// no formatting whitespace may be added, or it would become content.
    inline: bool,
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    opts: DecodeOptions,
    out: Vec<u8>,
    page: u8,
    stack: Vec<Open>,
    /// Bit n: code page n is used by some element (bit 26: unknown pages/tags).
    used: u32,
    root_page: Option<u8>,
    root_done: bool,
    /// Where the root start tag's namespace declarations go.
    decl_at: usize,
    /// Declarations known before decoding (streaming): written in place.
    predeclared: bool,
    /// Streaming: where full chunks of `out` go.
    drain: Option<&'a mut dyn Write>,
    /// The first error of `drain`.
    io_error: Option<io::Error>,
}

/// Streaming hands `out` to the writer in chunks of about this size.
const CHUNK: usize = 256 * 1024;

const XML_DECL: &[u8] = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
const UNKNOWN_BIT: u32 = 1 << 26;

impl<'a> Decoder<'a> {
    fn new(input: &'a [u8], opts: &DecodeOptions) -> Self {
        // XML is typically 3-4 times the size of its WBXML.
        Decoder::with_capacity(input, opts, input.len().saturating_mul(4).min(1 << 30) + 64)
    }

    fn new_streaming(input: &'a [u8], opts: &DecodeOptions) -> Self {
        // A chunk, plus room for the largest single token (opaque as base64).
        Decoder::with_capacity(input, opts, CHUNK + 4096)
    }

    fn with_capacity(input: &'a [u8], opts: &DecodeOptions, capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(XML_DECL);
        Decoder {
            input,
            pos: 0,
            opts: *opts,
            out,
            page: 0,
            stack: Vec::new(),
            used: 0,
            root_page: None,
            root_done: false,
            decl_at: 0,
            predeclared: false,
            drain: None,
            io_error: None,
        }
    }

    fn err(&self, offset: usize, kind: DecodeErrorKind) -> DecodeError {
        let mut path = String::new();
        for (i, o) in self.stack.iter().enumerate() {
            if i > 0 {
                path.push('/');
            }
            match o.tag {
                Some(t) => path.push_str(t.name),
                None => path.push_str(&format!("unknown(page {} token 0x{:02X})", o.page, o.token)),
            }
        }
        DecodeError { offset, path, kind }
    }

    fn run(&mut self) -> Result<(), DecodeError> {
        let header = wire::parse_header(self.input).map_err(|(at, e)| {
            let kind = match e {
                HeaderError::Empty => DecodeErrorKind::Empty,
                HeaderError::LooksLikeXml => DecodeErrorKind::LooksLikeXml,
                HeaderError::Version(v) => DecodeErrorKind::Version(v),
                HeaderError::Truncated(w) => DecodeErrorKind::TruncatedHeader(w),
                HeaderError::Overflow(w) => DecodeErrorKind::HeaderOverflow(w),
                HeaderError::PublicIdInStringTable => DecodeErrorKind::PublicIdInStringTable,
                HeaderError::Charset(c) => DecodeErrorKind::Charset(c),
                HeaderError::StringTable(n) => DecodeErrorKind::StringTable(n),
            };
            self.err(at, kind)
        })?;
        let raw = &self.input[..header.len];
        if raw != wire::CANONICAL_HEADER {
            self.out.extend_from_slice(b"<?wbxml header ");
            for b in raw {
                self.out.extend_from_slice(format!("{b:02X}").as_bytes());
            }
            self.out.extend_from_slice(b"?>\n");
        }
        self.pos = header.len;

        while self.pos < self.input.len() {
            let at = self.pos;
            let b = self.input[at];
            if self.root_done {
                return Err(self.err(at, DecodeErrorKind::TrailingBytes(self.input.len() - at)));
            }
            match b {
                wire::SWITCH_PAGE => self.switch_page(at)?,
                wire::END => self.end(at)?,
                wire::STR_I => self.inline_string(at)?,
                wire::OPAQUE => self.opaque(at)?,
                _ if wire::is_global(b) => {
                    return Err(self.err(
                        at,
                        DecodeErrorKind::UnsupportedToken {
                            token: b,
                            name: wire::global_name(b),
                        },
                    ));
                }
                _ => self.tag(at, b)?,
            }
            if self.out.len() >= CHUNK && self.drain.is_some() {
                self.drain_out(at)?;
            }
        }
        if !self.stack.is_empty() {
            return Err(self.err(
                self.input.len(),
                DecodeErrorKind::Truncated {
                    open: self.stack.len(),
                },
            ));
        }
        if !self.root_done {
            return Err(self.err(self.input.len(), DecodeErrorKind::NoRoot));
        }
        self.out.push(b'\n');
        if !self.predeclared {
            let decls = self.namespace_declarations();
            self.out.splice(self.decl_at..self.decl_at, decls);
        }
        if self.drain.is_some() {
            self.drain_out(self.input.len())?;
        }
        Ok(())
    }

    /// Streaming: hands what is written so far to the writer.
    fn drain_out(&mut self, at: usize) -> Result<(), DecodeError> {
        if let Some(w) = self.drain.as_mut() {
            if let Err(e) = w.write_all(&self.out) {
                self.io_error = Some(e);
                // Stops the decoder; `decode_to_writer` reports the I/O error.
                return Err(self.err(at, DecodeErrorKind::NoRoot));
            }
            self.out.clear();
        }
        Ok(())
    }

    /// The root start tag's namespace declarations, once every page used is
    /// known: the root's page is the default namespace, the others are
    /// prefixed by their names (`Contacts:FirstName`).
    fn namespace_declarations(&self) -> Vec<u8> {
        let mut decl = Vec::with_capacity(128);
        if let Some(root) = self.root_page {
            decl.extend_from_slice(b" xmlns=\"");
            decl.extend_from_slice(code_page(root).map_or("", |p| p.uri).as_bytes());
            decl.push(b'"');
        }
        for n in 0..26u8 {
            if self.used & (1 << n) != 0 && Some(n) != self.root_page {
                let p = code_page(n).expect("pages 0-25 exist");
                decl.extend_from_slice(b" xmlns:");
                decl.extend_from_slice(p.namespace.as_bytes());
                decl.extend_from_slice(b"=\"");
                decl.extend_from_slice(p.uri.as_bytes());
                decl.push(b'"');
            }
        }
        if self.used & UNKNOWN_BIT != 0 {
            decl.extend_from_slice(b" xmlns:wbxml=\"");
            decl.extend_from_slice(UNKNOWN_NS.as_bytes());
            decl.push(b'"');
        }
        decl
    }

    fn switch_page(&mut self, at: usize) -> Result<(), DecodeError> {
        let Some(&page) = self.input.get(at + 1) else {
            return Err(self.err(at, DecodeErrorKind::TruncatedSwitchPage));
        };
        if self.opts.mode == Mode::Strict && code_page(page).is_none_or(|p| p.tags.is_empty()) {
            return Err(self.err(at + 1, DecodeErrorKind::UnknownPage { page }));
        }
        self.pos = at + 2;
        // A canonical encoder switches only right before a tag of another page.
        let next_is_tag = self
            .input
            .get(self.pos)
            .is_some_and(|&n| !wire::is_global(n));
        if !(next_is_tag && page != self.page) {
            self.instruction_start();
            self.out.extend_from_slice(b"<?wbxml switch-page ");
            self.out.extend_from_slice(page.to_string().as_bytes());
            self.out.extend_from_slice(b"?>");
        }
        self.page = page;
        Ok(())
    }

    /// Before writing an instruction: at document level it goes on its own
    /// line; inside an element it is inline content.
    fn instruction_start(&mut self) {
        if let Some(top) = self.stack.last_mut() {
            top.inline = true;
        }
    }

    fn tag(&mut self, at: usize, b: u8) -> Result<(), DecodeError> {
        if b & wire::ATTRIBUTE_BIT != 0 {
            return Err(self.err(at, DecodeErrorKind::Attributes { byte: b }));
        }
        let token = b & 0x3F;
        let has_content = b & wire::CONTENT_BIT != 0;
        let page = self.page;
        let cp: Option<&'static CodePage> = code_page(page);
        let tag = cp.and_then(|p| p.tag(token));
        match (tag, self.opts.mode) {
            (None, Mode::Strict) => {
                let kind = match cp {
                    Some(p) if !p.tags.is_empty() => DecodeErrorKind::UnknownTag {
                        page,
                        token,
                        namespace: p.namespace,
                    },
                    _ => DecodeErrorKind::UnknownPage { page },
                };
                return Err(self.err(at, kind));
            }
            (Some(t), Mode::Strict) if !t.exists_in(self.opts.version) => {
                let namespace = cp.map_or("", |p| p.namespace);
                return Err(self.err(
                    at,
                    DecodeErrorKind::NotInVersion {
                        page,
                        token,
                        namespace,
                        name: t.name,
                        version: self.opts.version,
                        versions: t.versions,
                    },
                ));
            }
            _ => {}
        }
        if self.stack.len() >= self.opts.max_depth {
            return Err(self.err(
                at,
                DecodeErrorKind::TooDeep {
                    max: self.opts.max_depth,
                },
            ));
        }
        self.pos = at + 1;

        let is_root = self.stack.is_empty();
        if is_root {
            self.root_page = tag.map(|_| page);
        }
        self.used |= if tag.is_some() {
            1 << page
        } else {
            UNKNOWN_BIT
        };
        self.newline_for_child();
        self.out.push(b'<');
        self.write_name(tag, page, token);
        if is_root {
            self.decl_at = self.out.len();
            if self.predeclared {
                let decls = self.namespace_declarations();
                self.out.extend_from_slice(&decls);
            }
        }
        if !has_content {
            self.out.extend_from_slice(b"/>");
            if is_root {
                self.root_done = true;
            }
            return Ok(());
        }
        // Content that is exactly one OPAQUE is written as opaque="base64".
        if let Some((data, after)) = self.sole_opaque(self.pos) {
            self.out.extend_from_slice(b" opaque=\"base64\">");
            write_base64(&mut self.out, data);
            self.write_end_tag(tag, page);
            self.pos = after;
            if is_root {
                self.root_done = true;
            }
            return Ok(());
        }
        self.out.push(b'>');
        self.stack.push(Open {
            tag,
            page,
            token,
            has_children: false,
            inline: false,
        });
        Ok(())
    }

    /// If the bytes at `pos` are OPAQUE followed by END, the data and the
    /// position after the END.
    fn sole_opaque(&self, pos: usize) -> Option<(&'a [u8], usize)> {
        if self.input.get(pos) != Some(&wire::OPAQUE) {
            return None;
        }
        let mut p = pos + 1;
        let len = wire::read_mb_u32(self.input, &mut p).ok()? as usize;
        let end = p.checked_add(len)?;
        if self.input.get(end) == Some(&wire::END) {
            Some((&self.input[p..end], end + 1))
        } else {
            None
        }
    }

    /// A known element's name: bare on the root's page (the default
    /// namespace), prefixed by its page elsewhere.
    fn element_name(&self, t: &'static TagDef, page: u8) -> &'static str {
        if Some(page) == self.root_page {
            t.name
        } else {
            t.qname
        }
    }

    fn write_name(&mut self, tag: Option<&'static TagDef>, page: u8, token: u8) {
        match tag {
            Some(t) => {
                let name = self.element_name(t, page);
                self.out.extend_from_slice(name.as_bytes());
            }
            None => {
                self.out.extend_from_slice(b"wbxml:unknown page=\"");
                self.out.extend_from_slice(page.to_string().as_bytes());
                self.out.extend_from_slice(b"\" token=\"0x");
                self.out
                    .extend_from_slice(format!("{token:02X}").as_bytes());
                self.out.push(b'"');
            }
        }
    }

    fn write_end_tag(&mut self, tag: Option<&'static TagDef>, page: u8) {
        self.out.extend_from_slice(b"</");
        let name = tag.map_or("wbxml:unknown", |t| self.element_name(t, page));
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'>');
    }

    fn newline_for_child(&mut self) {
        let depth = self.stack.len();
        if let Some(top) = self.stack.last_mut() {
            top.has_children = true;
            if self.opts.indent && !top.inline {
                self.out.push(b'\n');
                self.out.resize(self.out.len() + indent_width(depth), b' ');
            }
        }
    }

    fn end(&mut self, at: usize) -> Result<(), DecodeError> {
        let Some(open) = self.stack.pop() else {
            return Err(self.err(at, DecodeErrorKind::UnbalancedEnd));
        };
        self.pos = at + 1;
        if open.has_children && !open.inline && self.opts.indent {
            self.out.push(b'\n');
            self.out
                .resize(self.out.len() + indent_width(self.stack.len()), b' ');
        }
        self.write_end_tag(open.tag, open.page);
        if self.stack.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }

    fn inline_string(&mut self, at: usize) -> Result<(), DecodeError> {
        if self.stack.is_empty() {
            return Err(self.err(at, DecodeErrorKind::ContentOutsideRoot("an inline string")));
        }
        let start = at + 1;
        let Some(len) = memchr::memchr(0, &self.input[start..]) else {
            return Err(self.err(at, DecodeErrorKind::UnterminatedString));
        };
        let bytes = &self.input[start..start + len];
        self.pos = start + len + 1;
        if let Some(top) = self.stack.last_mut() {
            top.inline = true;
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => write_text(&mut self.out, s),
            Err(_) if self.opts.mode == Mode::Lenient => {
                self.out.extend_from_slice(b"<?wbxml str-bytes ");
                write_base64(&mut self.out, bytes);
                self.out.extend_from_slice(b"?>");
                return Ok(());
            }
            Err(e) => {
                return Err(self.err(start + e.valid_up_to(), DecodeErrorKind::InvalidUtf8));
            }
        }
        // Mark where this string ends if a canonical encoder would not have
        // ended it here: it is empty, or another inline string follows.
        if bytes.is_empty() || self.input.get(self.pos) == Some(&wire::STR_I) {
            self.out.extend_from_slice(b"<?wbxml str-end?>");
        }
        Ok(())
    }

    fn opaque(&mut self, at: usize) -> Result<(), DecodeError> {
        if self.stack.is_empty() {
            return Err(self.err(at, DecodeErrorKind::ContentOutsideRoot("opaque data")));
        }
        let mut p = at + 1;
        let len = match wire::read_mb_u32(self.input, &mut p) {
            Ok(len) => len,
            Err(MbIntError::Truncated | MbIntError::Overflow) => {
                return Err(self.err(at + 1, DecodeErrorKind::BadOpaqueLength));
            }
        };
        let remaining = self.input.len() - p;
        if len as usize > remaining {
            return Err(self.err(at + 1, DecodeErrorKind::OpaqueTooLong { len, remaining }));
        }
        let data = &self.input[p..p + len as usize];
        self.pos = p + len as usize;
        self.instruction_start();
        self.out.extend_from_slice(b"<?wbxml opaque ");
        write_base64(&mut self.out, data);
        self.out.extend_from_slice(b"?>");
        Ok(())
    }
}

/// Two spaces a level, up to [`MAX_INDENT_LEVELS`]: deeper elements are not
/// indented further, which bounds the output a hostile input can cause.
fn indent_width(depth: usize) -> usize {
    depth.min(MAX_INDENT_LEVELS) * 2
}

/// The deepest level that gets its own indentation. Real EAS documents stay
/// within about 12 levels.
const MAX_INDENT_LEVELS: usize = 16;

fn write_base64(out: &mut Vec<u8>, data: &[u8]) {
    let start = out.len();
    let len = base64::encoded_len(data.len(), true).expect("opaque length fits usize");
    out.resize(start + len, 0);
    let written = BASE64
        .encode_slice(data, &mut out[start..])
        .expect("buffer sized by encoded_len");
    out.truncate(start + written);
}

/// What a byte needs when written as XML text: 0 nothing, 1 an escape.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        // Tab and line feed are written as they are; every other control
        // character (and CR, which XML parsers would normalise) as a reference.
        t[i] = i != 0x09 && i != 0x0A;
        i += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t
};

/// Writes `s` as XML character data. A string of only whitespace is written
/// entirely as character references, so that it cannot be mistaken for
/// indentation by the encoder.
fn write_text(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        for &b in bytes {
            write_char_ref(out, b);
        }
        return;
    }
    // Fast path: most strings need no escaping at all. A branch-free scan
    // lets the compiler vectorise it.
    let dirty = bytes
        .iter()
        .fold(false, |acc, &b| acc | NEEDS_ESCAPE[b as usize]);
    if !dirty {
        out.extend_from_slice(bytes);
        return;
    }
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if NEEDS_ESCAPE[b as usize] {
            out.extend_from_slice(&bytes[run..i]);
            match b {
                b'&' => out.extend_from_slice(b"&amp;"),
                b'<' => out.extend_from_slice(b"&lt;"),
                b'>' => out.extend_from_slice(b"&gt;"),
                _ => write_char_ref(out, b),
            }
            run = i + 1;
        }
    }
    out.extend_from_slice(&bytes[run..]);
}

fn write_char_ref(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(b"&#");
    if b >= 10 {
        out.push(b'0' + b / 10);
    }
    out.push(b'0' + b % 10);
    out.push(b';');
}
