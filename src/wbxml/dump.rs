//! A token-level listing of a WBXML document, for protocol debugging: one
//! line per token with its byte offset, raw bytes and meaning.
//!
//! The listing is lenient by nature: unknown pages and tokens and tags of
//! other protocol versions are shown and marked. On a document the decoder
//! rejects (even leniently), it lists every token before the problem and ends
//! with an `error:` line carrying the decoder's message.

use std::fmt::Write as _;

use super::codepage::code_page;
use super::decode::{DecodeOptions, decode};
use super::error::DecodeError;
use super::version::ProtocolVersion;
use super::wire::{self, Broken, Token, Tokens};

/// Raw bytes shown in full up to this many; longer tokens are cut short.
const MAX_RAW: usize = 6;
/// The width of the raw-bytes column.
const RAW_WIDTH: usize = 19;
/// Characters of an inline string shown before it is cut short.
const MAX_TEXT: usize = 60;
/// Indentation stops growing at this depth.
const MAX_INDENT: usize = 32;

/// Lists the tokens of a WBXML document, one line each:
///
/// ```text
/// 0x0000  03 01 6A 00        header: WBXML 1.3, public id 1, UTF-8, no string table
/// 0x0004  00 07              SWITCH_PAGE 7 (FolderHierarchy)
/// 0x0006  56                 <FolderSync> (token 0x16, content)
/// ```
///
/// Tags that do not exist in `version` are marked `(not in 14.1)`. When the
/// document is invalid, the listing stops before the problem and ends with a
/// line `0x....  error: ...`, and the decoder's error is returned beside it.
/// Never reads past the input, whatever lengths it claims.
///
/// ```
/// use eastest::wbxml::{dump, ProtocolVersion};
/// let (text, error) = dump(&[0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56], ProtocolVersion::V14_1);
/// assert!(text.ends_with("0x0007  error: input ends with 1 element(s) still open (in FolderSync)\n"));
/// assert!(error.is_some());
/// ```
pub fn dump(input: &[u8], version: ProtocolVersion) -> (String, Option<DecodeError>) {
    // The decoder, lenient, is the judge of validity and names the problem.
    let error = decode(input, &DecodeOptions::lenient(version)).err();
    let stop = error.as_ref().map_or(usize::MAX, |e| e.offset);
    let mut out = String::new();

    let body_start = match wire::parse_header(input) {
        Ok(h) if h.len <= stop => {
            line(
                &mut out,
                0,
                &input[..h.len],
                0,
                &header_meaning(&input[..h.len]),
            );
            h.len
        }
        _ => input.len(),
    };

    let mut page = 0u8;
    let mut stack: Vec<String> = Vec::new();
    let mut tokens = Tokens::new(input, body_start);
    let mut broken = None;
    while let Some((at, token)) = tokens.next() {
        if at >= stop {
            break;
        }
        let raw = &input[at..tokens.pos()];
        let depth = stack.len();
        // Text and opaque data line up with their element, as in `<a>text</a>`.
        let data_depth = depth.saturating_sub(1);
        match token {
            Token::SwitchPage(p) => {
                page = p;
                let name = code_page(p)
                    .filter(|cp| !cp.tags.is_empty())
                    .map_or("unknown page", |cp| cp.namespace);
                line(
                    &mut out,
                    at,
                    raw,
                    depth,
                    &format!("SWITCH_PAGE {p} ({name})"),
                );
            }
            Token::End => {
                let name = stack.pop().unwrap_or_default();
                line(&mut out, at, raw, stack.len(), &format!("END </{name}>"));
            }
            Token::Str(s) => line(&mut out, at, raw, data_depth, &string_meaning(s)),
            Token::Opaque(data) => {
                let meaning = format!("OPAQUE {} bytes", data.len());
                line(&mut out, at, raw, data_depth, &meaning);
            }
            Token::Tag(b) => {
                let token = b & 0x3F;
                let content = b & wire::CONTENT_BIT != 0;
                let tag = code_page(page).and_then(|cp| cp.tag(token));
                let name = match tag {
                    Some(t) => t.name.to_string(),
                    None => format!("unknown page {page} token 0x{token:02X}"),
                };
                let mut meaning = if content {
                    format!("<{name}> (token 0x{token:02X}, content")
                } else {
                    format!("<{name}/> (token 0x{token:02X}")
                };
                if b & wire::ATTRIBUTE_BIT != 0 {
                    meaning.push_str(", attributes");
                }
                meaning.push(')');
                if tag.is_some_and(|t| !t.exists_in(version)) {
                    let _ = write!(meaning, " (not in {version})");
                }
                line(&mut out, at, raw, depth, &meaning);
                if content {
                    stack.push(name);
                }
            }
            Token::Other(b) => {
                let meaning = format!("{} (not used by EAS)", wire::global_name(b));
                line(&mut out, at, raw, depth, &meaning);
            }
            Token::Broken(why) => {
                broken = Some((at, why));
                break;
            }
        }
    }

    match &error {
        Some(e) => {
            let mut message = e.kind.to_string();
            if !e.path.is_empty() {
                let _ = write!(message, " (in {})", e.path);
            }
            error_line(&mut out, e.offset, &message);
        }
        // The walk and the decoder agree on what is broken; this is a backstop.
        None => {
            if let Some((at, why)) = broken {
                error_line(&mut out, at, &broken_message(why));
            }
        }
    }
    (out, error)
}

fn header_meaning(raw: &[u8]) -> String {
    let v = raw[0];
    let mut pos = 1;
    let public_id = wire::read_mb_u32(raw, &mut pos).unwrap_or_default();
    // parse_header accepted it: UTF-8 and no string table.
    format!(
        "header: WBXML {}.{}, public id {public_id}, UTF-8, no string table",
        (v >> 4) + 1,
        v & 0x0F
    )
}

fn string_meaning(s: &[u8]) -> String {
    let (text, note) = match std::str::from_utf8(s) {
        Ok(t) => (t.to_string(), ""),
        Err(_) => (String::from_utf8_lossy(s).into_owned(), " (not UTF-8)"),
    };
    let mut shown = String::new();
    let mut cut = false;
    for (i, c) in text.chars().enumerate() {
        if i == MAX_TEXT {
            cut = true;
            break;
        }
        shown.extend(c.escape_debug());
    }
    if cut {
        format!("STR_I \"{shown}\"... ({} bytes){note}", s.len())
    } else {
        format!("STR_I \"{shown}\"{note}")
    }
}

fn line(out: &mut String, at: usize, raw: &[u8], depth: usize, meaning: &str) {
    let mut bytes = String::with_capacity(RAW_WIDTH + 16);
    let shown = if raw.len() > MAX_RAW { 3 } else { raw.len() };
    for (i, b) in raw[..shown].iter().enumerate() {
        if i > 0 {
            bytes.push(' ');
        }
        let _ = write!(bytes, "{b:02X}");
    }
    if shown < raw.len() {
        let _ = write!(bytes, " ... ({} bytes)", raw.len());
    }
    let indent = depth.min(MAX_INDENT) * 2;
    let _ = writeln!(
        out,
        "0x{at:04X}  {bytes:<RAW_WIDTH$}{}{:indent$}{meaning}",
        if bytes.len() >= RAW_WIDTH { "  " } else { "" },
        ""
    );
}

fn error_line(out: &mut String, at: usize, message: &str) {
    let _ = writeln!(out, "0x{at:04X}  error: {message}");
}

fn broken_message(why: Broken) -> String {
    match why {
        Broken::TruncatedSwitchPage => "SWITCH_PAGE is missing its page byte".to_string(),
        Broken::UnterminatedString => "unterminated inline string".to_string(),
        Broken::BadOpaqueLength => "bad OPAQUE length".to_string(),
        Broken::OpaqueTooLong { len, remaining } => {
            format!("OPAQUE length {len} exceeds the {remaining} bytes left")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOLDER_SYNC: [u8; 13] = [
        0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01,
    ];

    fn v141() -> ProtocolVersion {
        ProtocolVersion::V14_1
    }

    #[test]
    fn folder_sync() {
        let (text, error) = dump(&FOLDER_SYNC, v141());
        assert_eq!(error, None);
        assert_eq!(
            text,
            "\
0x0000  03 01 6A 00        header: WBXML 1.3, public id 1, UTF-8, no string table
0x0004  00 07              SWITCH_PAGE 7 (FolderHierarchy)
0x0006  56                 <FolderSync> (token 0x16, content)
0x0007  52                   <SyncKey> (token 0x12, content)
0x0008  03 30 00             STR_I \"0\"
0x000B  01                   END </SyncKey>
0x000C  01                 END </FolderSync>
"
        );
    }

    #[test]
    fn unknown_token_is_shown() {
        // <Sync><unknown 0x11/></Sync> on page 0 (AirSync).
        let doc = [0x03, 0x01, 0x6A, 0x00, 0x45, 0x11, 0x01];
        let (text, error) = dump(&doc, v141());
        assert_eq!(error, None, "{text}");
        assert!(
            text.contains(
                "0x0005  11                   <unknown page 0 token 0x11/> (token 0x11)\n"
            ),
            "{text}"
        );
        // An unknown page is named as such, and its tags are unknown.
        let doc = [0x03, 0x01, 0x6A, 0x00, 0x00, 0x3C, 0x45, 0x01];
        let (text, _) = dump(&doc, v141());
        assert!(text.contains("SWITCH_PAGE 60 (unknown page)"), "{text}");
        assert!(
            text.contains("<unknown page 60 token 0x05> (token 0x05, content)"),
            "{text}"
        );
    }

    #[test]
    fn truncated_string() {
        let doc = [0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30];
        let (text, error) = dump(&doc, v141());
        let e = error.expect("an error");
        assert_eq!(e.offset, 8);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[3].starts_with("0x0007  52 "), "{text}");
        assert_eq!(
            lines[4],
            "0x0008  error: inline string (STR_I) is not terminated by a 0x00 byte before the end of input (in FolderSync/SyncKey)"
        );
    }

    #[test]
    fn huge_opaque_length() {
        // <Sync> OPAQUE claiming 4 GiB - 1 bytes, with 2 left.
        let doc = [
            0x03, 0x01, 0x6A, 0x00, 0x45, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0xAA, 0xBB,
        ];
        let (text, error) = dump(&doc, v141());
        assert!(error.is_some());
        assert!(
            text.ends_with(
                "0x0004  45                 <Sync> (token 0x05, content)\n\
                 0x0006  error: OPAQUE length 4294967295 is larger than the 2 bytes left in the input (in Sync)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn long_opaque_is_cut_short() {
        let mut doc = vec![0x03, 0x01, 0x6A, 0x00, 0x45, 0xC3, 0x90, 0x00];
        doc.extend(std::iter::repeat_n(0x5A, 2048));
        doc.push(0x01);
        let (text, error) = dump(&doc, v141());
        assert_eq!(error, None, "{text}");
        assert!(
            text.contains("0x0005  C3 90 00 ... (2051 bytes)  OPAQUE 2048 bytes\n"),
            "{text}"
        );
    }

    #[test]
    fn tag_not_in_version() {
        // Page 17 (AirSyncBase) 0x05, BodyPreference, is 12.0 and later.
        let doc = [0x03, 0x01, 0x6A, 0x00, 0x00, 0x11, 0x45, 0x01];
        let (text, error) = dump(&doc, ProtocolVersion::V2_5);
        assert_eq!(error, None, "{text}");
        assert!(
            text.contains("<BodyPreference> (token 0x05, content) (not in 2.5)"),
            "{text}"
        );
        let (text, _) = dump(&doc, v141());
        assert!(!text.contains("not in"), "{text}");
    }

    #[test]
    fn broken_header_and_trailing_bytes() {
        let (text, error) = dump(b"<Sync/>", v141());
        assert!(error.is_some());
        assert!(
            text.starts_with("0x0000  error: this looks like XML"),
            "{text}"
        );
        let (text, error) = dump(b"", v141());
        assert!(error.is_some());
        assert_eq!(text.lines().count(), 1, "{text}");
        let mut doc = FOLDER_SYNC.to_vec();
        doc.push(0x01);
        let (text, error) = dump(&doc, v141());
        assert_eq!(error.unwrap().offset, 13);
        assert!(
            text.ends_with("0x000D  error: 1 bytes after the root element ended\n"),
            "{text}"
        );
    }

    #[test]
    fn never_panics_on_prefixes() {
        let sample = include_bytes!("../../tests/data/sync-response-contacts.wbxml");
        for n in 0..sample.len().min(400) {
            let (text, error) = dump(&sample[..n], v141());
            assert!(error.is_some(), "prefix {n} is valid?");
            assert!(text.lines().last().unwrap().contains("error: "));
        }
        let (text, error) = dump(sample, v141());
        assert_eq!(error, None, "{text}");
    }
}
