//! The corpus: realistic EAS requests and responses in eastest's XML form
//! (`tests/corpus/*.xml`), each valid for the protocol version stated by the
//! comment `<!-- protocol: X -->` right after its XML declaration.
//!
//! For every document: it encodes strictly for its version; the bytes decode
//! strictly; the decoded XML (indented and compact) encodes back to the same
//! bytes; decoding is deterministic and idempotent; and the decoded XML is the
//! same document as the file (same elements, namespaces, attributes, text and
//! instructions once whitespace-only formatting is set aside). Every decoded
//! document is also snapshotted (`tests/snapshots/wbxml_corpus__*.snap`).
//!
//! The corpus as a whole uses every code page that has tags (and, today,
//! every one of the 586 tags).
//!
//! To add a document: write it in `tests/corpus/` with its protocol comment,
//! `touch tests/wbxml_corpus.rs` (rstest lists the files at compile time),
//! and run `INSTA_UPDATE=always cargo test --test wbxml_corpus`; read the new
//! snapshot before committing it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use eastest::wbxml::{
    DecodeOptions, EncodeOptions, ProtocolVersion, code_page_by_uri, code_pages, decode, encode,
};
use rstest::rstest;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
const HEADER: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];

/// One corpus file.
struct Doc {
    /// The file name without `.xml`.
    name: String,
    xml: String,
    version: ProtocolVersion,
}

impl Doc {
    fn load(path: &Path) -> Doc {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_else(|| panic!("{}: not a UTF-8 file name", path.display()))
            .to_string();
        let xml = fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let version = stated_version(&xml).unwrap_or_else(|why| panic!("{name}.xml: {why}"));
        Doc { name, xml, version }
    }

    fn strict_encode(&self) -> Vec<u8> {
        encode(&self.xml, &EncodeOptions::strict(self.version)).unwrap_or_else(|e| {
            panic!(
                "{}.xml does not encode strictly as {}: {e}",
                self.name, self.version
            )
        })
    }
}

/// The version in the first comment, which must come before the root element:
/// `<!-- protocol: 14.1 -->`.
fn stated_version(xml: &str) -> Result<ProtocolVersion, String> {
    let body = xml
        .strip_prefix("<?xml")
        .and_then(|rest| rest.split_once("?>"))
        .map_or(xml, |(_, after)| after)
        .trim_start();
    let comment = body
        .strip_prefix("<!--")
        .and_then(|c| c.split_once("-->"))
        .map(|(c, _)| c.trim())
        .ok_or("the first thing after the XML declaration must be `<!-- protocol: X -->`")?;
    let v = comment
        .strip_prefix("protocol:")
        .ok_or_else(|| format!("first comment `{comment}` is not `protocol: X`"))?;
    v.trim().parse().map_err(|e| format!("{e}"))
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(CORPUS)
        .expect("tests/corpus exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} files", files.len());
    files
}

fn compact(version: ProtocolVersion) -> DecodeOptions {
    DecodeOptions {
        indent: false,
        ..DecodeOptions::strict(version)
    }
}

// ---------------------------------------------------------------------------
// Per document.
// ---------------------------------------------------------------------------

#[rstest]
fn round_trip(#[files("tests/corpus/*.xml")] path: PathBuf) {
    check_round_trip(&Doc::load(&path));
}

/// The same checks over the directory as it is at run time: `#[files]`
/// lists the corpus when the test is compiled, so this also covers a file
/// added since (touch this file to get its own test case and snapshot).
#[test]
fn whole_corpus_round_trips() {
    for path in corpus_files() {
        check_round_trip(&Doc::load(&path));
    }
}

fn check_round_trip(doc: &Doc) {
    let name = &doc.name;
    let v = doc.version;
    let bytes = doc.strict_encode();
    assert_eq!(bytes[..4], HEADER, "{name}: canonical header");
    // Lenient mode changes nothing for a valid document.
    assert_eq!(
        encode(&doc.xml, &EncodeOptions::lenient(v)).unwrap(),
        bytes,
        "{name}: lenient encoding differs"
    );

    let indented = decode(&bytes, &DecodeOptions::strict(v))
        .unwrap_or_else(|e| panic!("{name}: our own bytes do not decode strictly: {e}"));
    let compact_xml = decode(&bytes, &compact(v)).unwrap();
    assert_eq!(
        decode(&bytes, &DecodeOptions::strict(v)).unwrap(),
        indented,
        "{name}: decoding twice differs"
    );
    assert_eq!(
        decode(&bytes, &DecodeOptions::lenient(v)).unwrap(),
        indented,
        "{name}: lenient decoding differs"
    );

    for (form, xml) in [("indented", &indented), ("compact", &compact_xml)] {
        let again = encode(xml, &EncodeOptions::strict(v))
            .unwrap_or_else(|e| panic!("{name}: the {form} decoded XML does not encode: {e}"));
        assert!(
            again == bytes,
            "{name}: the {form} decoded XML encodes to other bytes{}",
            first_difference(&bytes, &again)
        );
        // decode . encode . decode = decode.
        assert_eq!(
            decode(&again, &DecodeOptions::strict(v)).unwrap(),
            indented,
            "{name}: {form}"
        );
    }

    // The decoded XML is the same document as the file.
    let original = structure(&doc.xml).unwrap_or_else(|e| panic!("{name}.xml: {e}"));
    let decoded = structure(&indented).unwrap_or_else(|e| panic!("{name} decoded: {e}"));
    assert_same_structure(name, &original, &decoded);
    let decoded_compact =
        structure(&compact_xml).unwrap_or_else(|e| panic!("{name} decoded compact: {e}"));
    assert_same_structure(name, &decoded, &decoded_compact);
    let (_, compact_body) = compact_xml.split_once("?>\n").unwrap();
    assert!(
        !compact_body.trim_end().contains(">\n<"),
        "{name}: the compact form has formatting"
    );
}

/// The same bytes from other namespace spellings: libwbxml's (the default
/// namespace redeclared where the page changes) and arbitrary prefixes with
/// lower-case URIs without the colon.
#[rstest]
fn other_namespace_forms(#[files("tests/corpus/*.xml")] path: PathBuf) {
    let doc = Doc::load(&path);
    let bytes = doc.strict_encode();
    let items = structure(&doc.xml).unwrap();
    for style in [NsStyle::DefaultPerElement, NsStyle::Prefixed] {
        let xml = rewrite(&items, style);
        let again = encode(&xml, &EncodeOptions::strict(doc.version))
            .unwrap_or_else(|e| panic!("{} as {style:?}: {e}\n{xml}", doc.name));
        assert!(
            again == bytes,
            "{} as {style:?} encodes to other bytes{}\n{xml}",
            doc.name,
            first_difference(&bytes, &again)
        );
    }
}

#[rstest]
fn snapshot(#[files("tests/corpus/*.xml")] path: PathBuf) {
    let doc = Doc::load(&path);
    let bytes = doc.strict_encode();
    let xml = decode(&bytes, &DecodeOptions::strict(doc.version)).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.set_description(format!(
        "tests/corpus/{}.xml, decoded as protocol {}",
        doc.name, doc.version
    ));
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(doc.name.as_str(), xml));
}

fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    format!(
        " (lengths {} and {}; first difference at byte {at}: {:02X?} vs {:02X?})",
        a.len(),
        b.len(),
        &a[at..a.len().min(at + 8)],
        &b[at..b.len().min(at + 8)]
    )
}

// ---------------------------------------------------------------------------
// The corpus as a whole.
// ---------------------------------------------------------------------------

/// (page, token) of every tag in a document the encoder wrote, found by
/// walking the tokens (independently of the decoder).
fn tags_in(bytes: &[u8]) -> BTreeSet<(u8, u8)> {
    assert_eq!(bytes[..4], HEADER);
    let mut tags = BTreeSet::new();
    let mut page = 0;
    let mut i = 4;
    while i < bytes.len() {
        match bytes[i] {
            0x00 => {
                page = bytes[i + 1];
                i += 2;
            }
            0x01 => i += 1,
            0x03 => {
                let nul = bytes[i + 1..].iter().position(|&b| b == 0).unwrap();
                i += 1 + nul + 1;
            }
            0xC3 => {
                let mut len = 0usize;
                i += 1;
                loop {
                    let b = bytes[i];
                    i += 1;
                    len = (len << 7) | usize::from(b & 0x7F);
                    if b & 0x80 == 0 {
                        break;
                    }
                }
                i += len;
            }
            b => {
                assert!(b & 0x3F > 0x04 && b & 0x80 == 0, "unexpected byte {b:02X}");
                tags.insert((page, b & 0x3F));
                i += 1;
            }
        }
    }
    tags
}

fn corpus_tags() -> (usize, BTreeSet<(u8, u8)>) {
    let files = corpus_files();
    let mut used = BTreeSet::new();
    for path in &files {
        used.extend(tags_in(&Doc::load(path).strict_encode()));
    }
    (files.len(), used)
}

/// Prints the tags the corpus never uses (informational) and requires at
/// least one tag of every code page.
#[test]
fn corpus_covers_every_code_page() {
    let (files, used) = corpus_tags();
    let total: usize = code_pages().iter().map(|p| p.tags.len()).sum();
    let unused: Vec<String> = code_pages()
        .iter()
        .flat_map(|p| {
            p.tags
                .iter()
                .filter(|t| !used.contains(&(p.number, t.token)))
                .map(|t| {
                    format!(
                        "{}:{} (page {}, 0x{:02X})",
                        p.namespace, t.name, p.number, t.token
                    )
                })
        })
        .collect();
    println!(
        "corpus: {files} documents use {} of {total} tags",
        total - unused.len()
    );
    if unused.is_empty() {
        println!("every tag is used");
    } else {
        println!("tags the corpus never uses:\n  {}", unused.join("\n  "));
    }
    for page in code_pages() {
        if page.tags.is_empty() {
            assert!(
                !used.iter().any(|&(p, _)| p == page.number),
                "page {} has no tags",
                page.number
            );
        } else {
            assert!(
                used.iter().any(|&(p, _)| p == page.number),
                "no corpus document uses code page {} ({})",
                page.number,
                page.namespace
            );
        }
    }
    // Every (page, token) used is a tag of the table.
    for &(p, t) in &used {
        assert!(
            code_pages()[p as usize].tag(t).is_some(),
            "page {p} token 0x{t:02X}"
        );
    }
}

/// A ratchet: when it was written the corpus used all 586 tags. A tag added
/// to the table needs a corpus document that uses it.
#[test]
fn corpus_uses_every_tag() {
    let (_, used) = corpus_tags();
    let missing: Vec<String> = code_pages()
        .iter()
        .flat_map(|p| {
            p.tags
                .iter()
                .filter(|t| !used.contains(&(p.number, t.token)))
                .map(|t| format!("{}:{}", p.namespace, t.name))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "tags no corpus document uses: {missing:?}"
    );
}

/// The versions stated span the protocol's history, and documents with tags
/// of one era are valid in exactly that era.
#[test]
fn corpus_versions() {
    use ProtocolVersion::*;
    let valid_in = |doc: &Doc| -> Vec<ProtocolVersion> {
        ProtocolVersion::ALL
            .into_iter()
            .filter(|v| encode(&doc.xml, &EncodeOptions::strict(*v)).is_ok())
            .collect()
    };
    let mut stated = BTreeSet::new();
    for path in corpus_files() {
        let doc = Doc::load(&path);
        stated.insert(doc.version);
        assert!(valid_in(&doc).contains(&doc.version), "{}", doc.name);
    }
    assert_eq!(
        stated.into_iter().collect::<Vec<_>>(),
        [V12_1, V14_1, V16_1]
    );
    for (name, expected) in [
        ("gethierarchy-response", &[V2_5, V12_0, V12_1][..]),
        ("getitemestimate-request-12.1", &[V2_5, V12_0, V12_1]),
        (
            "settings-oof-set-request",
            &[V12_0, V12_1, V14_0, V14_1, V16_0, V16_1],
        ),
        ("sync-response-email", &[V14_1]),
        ("sync-response-calendar", &[V14_1]),
        ("provision-response-policy", &[V12_1, V14_0, V14_1, V16_0]),
        ("sync-request-calendar-add", &[V16_0, V16_1]),
        ("smartforward-request", &[V16_0, V16_1]),
        ("find-request", &[V16_1]),
        ("provision-account-only-remotewipe", &[V16_1]),
    ] {
        let doc = Doc::load(&Path::new(CORPUS).join(format!("{name}.xml")));
        assert_eq!(valid_in(&doc), expected, "{name}");
    }
}

// ---------------------------------------------------------------------------
// A small XML reader for comparing documents, independent of the codec.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// An element: its code page namespace (or the raw URI of any other
    /// namespace), local name, attributes other than namespace declarations,
    /// and whether it was written `<T/>`.
    Start {
        ns: String,
        local: String,
        attrs: Vec<(String, String)>,
        empty: bool,
    },
    End,
    Text(String),
    Pi(String),
}

/// The document as a list of items, with namespaces resolved, references
/// expanded, comments dropped and whitespace-only formatting removed (the
/// XML form's rule: literal whitespace is formatting unless it is the whole
/// one-line content of an element).
fn structure(xml: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut scopes: Vec<Vec<(Option<String>, String)>> = Vec::new();
    let mut open: Vec<(String, bool)> = Vec::new(); // qname, opaque
    let mut text = String::new();
    let mut text_is_content = false;
    let mut text_has_newline = false;
    let mut rest = xml;

    fn resolve(scopes: &[Vec<(Option<String>, String)>], prefix: Option<&str>) -> Option<String> {
        scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(p, _)| p.as_deref() == prefix)
            .map(|(_, uri)| uri.clone())
    }
    fn ns_name(uri: &str) -> String {
        code_page_by_uri(uri).map_or_else(|| uri.to_string(), |p| p.namespace.to_string())
    }

    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
            continue;
        }
        if !rest.starts_with('<') || rest.starts_with("<![CDATA[") {
            // Character data up to the next markup.
            if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").ok_or("unterminated CDATA")?;
                text.push_str(&after[..end]);
                text_is_content = true;
                rest = &after[end + 3..];
                continue;
            }
            let end = rest.find('<').unwrap_or(rest.len());
            let mut raw = &rest[..end];
            rest = &rest[end..];
            while !raw.is_empty() {
                if let Some(after) = raw.strip_prefix('&') {
                    let semi = after.find(';').ok_or("`&` without `;`")?;
                    text.push(unescape(&after[..semi])?);
                    text_is_content = true;
                    raw = &after[semi + 1..];
                } else {
                    let n = raw.find('&').unwrap_or(raw.len());
                    let lit = &raw[..n];
                    if lit.contains(['\n', '\r']) {
                        text_has_newline = true;
                    }
                    if !lit.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                        text_is_content = true;
                    }
                    text.push_str(&lit.replace("\r\n", "\n").replace('\r', "\n"));
                    raw = &raw[n..];
                }
            }
            continue;
        }
        // Markup: first settle the text before it.
        let closing = rest.starts_with("</");
        let whole_line_content = closing
            && !text_has_newline
            && matches!(items.last(), Some(Item::Start { empty: false, .. }));
        if text_is_content || (whole_line_content && !text.is_empty()) {
            let t = std::mem::take(&mut text);
            if open.is_empty() {
                return Err(format!("text outside the root: {t:?}"));
            }
            let t = if open.last().is_some_and(|(_, opaque)| *opaque) {
                t.split_whitespace().collect()
            } else {
                t
            };
            items.push(Item::Text(t));
        }
        text.clear();
        text_is_content = false;
        text_has_newline = false;

        if let Some(after) = rest.strip_prefix("<?") {
            let end = after.find("?>").ok_or("unterminated instruction")?;
            let pi = &after[..end];
            rest = &after[end + 2..];
            if !(pi.starts_with("xml ") || pi == "xml") {
                items.push(Item::Pi(
                    pi.split_whitespace().collect::<Vec<_>>().join(" "),
                ));
            }
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unterminated end tag")?;
            let qname = after[..end].trim();
            rest = &after[end + 1..];
            let (expected, _) = open
                .pop()
                .ok_or_else(|| format!("`</{qname}>` closes nothing"))?;
            if qname != expected {
                return Err(format!("`</{qname}>` closes `<{expected}>`"));
            }
            scopes.pop();
            items.push(Item::End);
        } else {
            let after = &rest[1..];
            let end = after.find('>').ok_or("unterminated start tag")?;
            let mut tag = &after[..end];
            rest = &after[end + 1..];
            let empty = tag.ends_with('/');
            if empty {
                tag = &tag[..tag.len() - 1];
            }
            let (qname, mut attr_src) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
            let mut scope = Vec::new();
            let mut attrs = Vec::new();
            loop {
                attr_src = attr_src.trim_start();
                if attr_src.is_empty() {
                    break;
                }
                let (key, after_key) = attr_src.split_once('=').ok_or("attribute without `=`")?;
                let after_key = after_key.trim_start();
                let quote = after_key.chars().next().ok_or("attribute without value")?;
                let value_end = after_key[1..].find(quote).ok_or("unterminated attribute")?;
                let value = &after_key[1..1 + value_end];
                attr_src = &after_key[value_end + 2..];
                let key = key.trim();
                let value: String = unescape_all(value)?;
                if key == "xmlns" {
                    scope.push((None, value));
                } else if let Some(p) = key.strip_prefix("xmlns:") {
                    scope.push((Some(p.to_string()), value));
                } else {
                    attrs.push((key.to_string(), value));
                }
            }
            attrs.sort();
            scopes.push(scope);
            let (prefix, local) = match qname.split_once(':') {
                Some((p, l)) => (Some(p), l),
                None => (None, qname),
            };
            let uri = resolve(&scopes, prefix).unwrap_or_default();
            let opaque = attrs.iter().any(|(k, v)| k == "opaque" && v == "base64");
            items.push(Item::Start {
                ns: ns_name(&uri),
                local: local.to_string(),
                attrs,
                empty,
            });
            if empty {
                scopes.pop();
            } else {
                open.push((qname.to_string(), opaque));
            }
        }
    }
    if !open.is_empty() {
        return Err(format!("unclosed elements: {open:?}"));
    }
    if text_is_content {
        return Err("text after the root".into());
    }
    Ok(items)
}

fn unescape(name: &str) -> Result<char, String> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let n = if let Some(hex) = name.strip_prefix("#x") {
                u32::from_str_radix(hex, 16)
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse()
            } else {
                return Err(format!("unknown entity `&{name};`"));
            }
            .map_err(|e| format!("`&{name};`: {e}"))?;
            char::from_u32(n).ok_or(format!("`&{name};` is not a character"))?
        }
    };
    Ok(c)
}

fn unescape_all(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').ok_or("`&` without `;`")? + amp;
        out.push(unescape(&rest[amp + 1..semi])?);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[track_caller]
fn assert_same_structure(name: &str, a: &[Item], b: &[Item]) {
    if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
        panic!(
            "{name}: documents differ at item {i}:\n  file:    {:?}\n  decoded: {:?}",
            a.get(i),
            b.get(i)
        );
    }
}

#[derive(Debug, Clone, Copy)]
enum NsStyle {
    /// `<Sync xmlns="AirSync:"><FirstName xmlns="Contacts:">`, as libwbxml writes.
    DefaultPerElement,
    /// `<p0:Sync xmlns:p0="airsync" xmlns:p1="contacts">` on the root only.
    Prefixed,
}

/// Writes `items` back as XML, on one line, in another namespace style.
fn rewrite(items: &[Item], style: NsStyle) -> String {
    let uri_of = |ns: &str| code_page_by_uri(ns).map_or(ns.to_string(), |p| p.uri.to_string());
    let mut out = String::new();
    let mut names: Vec<String> = Vec::new();
    let mut defaults: Vec<String> = Vec::new();
    let mut root = true;
    let all_ns: BTreeSet<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Start { ns, .. } => Some(ns.as_str()),
            _ => None,
        })
        .collect();
    for item in items {
        match item {
            Item::Start {
                ns,
                local,
                attrs,
                empty,
            } => {
                let qname = match style {
                    NsStyle::DefaultPerElement => local.clone(),
                    NsStyle::Prefixed => format!("p{}:{local}", prefix_id(ns)),
                };
                out.push('<');
                out.push_str(&qname);
                match style {
                    NsStyle::DefaultPerElement => {
                        if defaults.last() != Some(ns) {
                            out.push_str(&format!(" xmlns=\"{}\"", uri_of(ns)));
                        }
                    }
                    NsStyle::Prefixed if root => {
                        for n in &all_ns {
                            let uri = uri_of(n);
                            let uri = uri.trim_end_matches(':').to_ascii_lowercase();
                            out.push_str(&format!(" xmlns:p{}=\"{uri}\"", prefix_id(n)));
                        }
                    }
                    NsStyle::Prefixed => {}
                }
                root = false;
                for (k, v) in attrs {
                    out.push_str(&format!(" {k}=\"{}\"", escape(v)));
                }
                if *empty {
                    out.push_str("/>");
                } else {
                    out.push('>');
                    names.push(qname);
                    defaults.push(ns.clone());
                }
            }
            Item::End => {
                out.push_str("</");
                out.push_str(&names.pop().unwrap());
                out.push('>');
                defaults.pop();
            }
            Item::Text(t) => {
                if t.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                    for c in t.chars() {
                        out.push_str(&format!("&#{};", c as u32));
                    }
                } else {
                    out.push_str(&escape(t));
                }
            }
            Item::Pi(p) => out.push_str(&format!("<?{p}?>")),
        }
    }
    out
}

/// A stable prefix number for a namespace: its page number, or 99.
fn prefix_id(ns: &str) -> u8 {
    code_page_by_uri(ns).map_or(99, |p| p.number)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// The reader itself: the rules it applies are the XML form's.
#[test]
fn structure_reader() {
    let items = structure(
        "<?xml version=\"1.0\"?>\n<!-- c -->\n<a:X xmlns:a=\"AirSync:\" xmlns=\"Contacts:\">\n  <Y> </Y>\n  <Y>\n  </Y>\n  <a:Z opaque=\"base64\">\n    AQ ID\n  </a:Z><Y>&#32;x&amp;<!-- c --><![CDATA[<]]></Y><?wbxml str-end?><W/>\n</a:X>",
    )
    .unwrap();
    let start = |ns: &str, local: &str, empty| Item::Start {
        ns: ns.into(),
        local: local.into(),
        attrs: vec![],
        empty,
    };
    assert_eq!(
        items,
        vec![
            start("AirSync", "X", false),
            start("Contacts", "Y", false),
            Item::Text(" ".into()),
            Item::End,
            start("Contacts", "Y", false),
            Item::End,
            Item::Start {
                ns: "AirSync".into(),
                local: "Z".into(),
                attrs: vec![("opaque".into(), "base64".into())],
                empty: false
            },
            Item::Text("AQID".into()),
            Item::End,
            start("Contacts", "Y", false),
            Item::Text(" x&<".into()),
            Item::End,
            Item::Pi("wbxml str-end".into()),
            start("Contacts", "W", true),
            Item::End,
        ]
    );
    assert!(structure("<a><b></a>").is_err());
    assert!(structure("<a>").is_err());

    let items = structure(
        r#"<Sync xmlns="AirSync:" xmlns:Contacts="Contacts:"><Collections><Contacts:FirstName>A&amp;B</Contacts:FirstName><Contacts:Picture/><Status>&#32;</Status></Collections></Sync>"#,
    )
    .unwrap();
    assert_eq!(
        rewrite(&items, NsStyle::DefaultPerElement),
        r#"<Sync xmlns="AirSync:"><Collections><FirstName xmlns="Contacts:">A&amp;B</FirstName><Picture xmlns="Contacts:"/><Status>&#32;</Status></Collections></Sync>"#
    );
    assert_eq!(
        rewrite(&items, NsStyle::Prefixed),
        r#"<p0:Sync xmlns:p0="airsync" xmlns:p1="contacts"><p0:Collections><p1:FirstName>A&amp;B</p1:FirstName><p1:Picture/><p0:Status>&#32;</p0:Status></p0:Collections></p0:Sync>"#
    );
}
