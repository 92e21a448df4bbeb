//! Errors of the codec. Each names where (byte offset, or XML line:column)
//! and why, and where it helps, what to do about it.

use std::fmt;

use super::version::{ProtocolVersion, VersionSet};

/// Why WBXML could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("empty input: a WBXML document has at least a header and one element")]
    Empty,
    #[error("this looks like XML, not WBXML (use `eastest wbxml encode` to turn XML into WBXML)")]
    LooksLikeXml,
    #[error("unsupported WBXML version byte 0x{0:02X} (EAS uses WBXML 1.3, version byte 0x03)")]
    Version(u8),
    #[error("the {0} in the header is cut short")]
    TruncatedHeader(&'static str),
    #[error("the {0} in the header is not a valid mb_u_int32 (too long or above 2^32-1)")]
    HeaderOverflow(&'static str),
    #[error("the public id refers to a string table, which EAS does not use (MS-ASWBXML R656)")]
    PublicIdInStringTable,
    #[error("charset MIBenum {0} is not UTF-8 (106), the only charset EAS uses")]
    Charset(u32),
    #[error("string table of {0} bytes: EAS does not use string tables (MS-ASWBXML R656)")]
    StringTable(u32),
    #[error(
        "global token {name} (0x{token:02X}) is not used by EAS (MS-ASWBXML R656: no entities, processing instructions, literals or extensions)"
    )]
    UnsupportedToken { token: u8, name: &'static str },
    #[error(
        "tag 0x{byte:02X} has the attribute bit set; EAS does not use attributes (MS-ASWBXML R656)"
    )]
    Attributes { byte: u8 },
    #[error(
        "SWITCH_PAGE to code page {page}, which MS-ASWBXML does not define (pages 0-25; 3 is unused)"
    )]
    UnknownPage { page: u8 },
    #[error("unknown tag token 0x{token:02X} on code page {page} ({namespace})")]
    UnknownTag {
        page: u8,
        token: u8,
        namespace: &'static str,
    },
    #[error(
        "{namespace}:{name} (code page {page}, token 0x{token:02X}) does not exist in protocol {version}; it exists in {versions} (decode with --protocol set to the session's version, or --lenient)"
    )]
    NotInVersion {
        page: u8,
        token: u8,
        namespace: &'static str,
        name: &'static str,
        version: ProtocolVersion,
        versions: VersionSet,
    },
    #[error("inline string (STR_I) is not terminated by a 0x00 byte before the end of input")]
    UnterminatedString,
    #[error("inline string is not valid UTF-8 (decode with --lenient to keep its bytes)")]
    InvalidUtf8,
    #[error("OPAQUE length {len} is larger than the {remaining} bytes left in the input")]
    OpaqueTooLong { len: u32, remaining: usize },
    #[error("OPAQUE length is cut short or is not a valid mb_u_int32")]
    BadOpaqueLength,
    #[error("SWITCH_PAGE is missing its page byte")]
    TruncatedSwitchPage,
    #[error(
        "elements nest deeper than the limit of {max} (raise DecodeOptions::max_depth if this is legitimate)"
    )]
    TooDeep { max: usize },
    #[error("END with no open element")]
    UnbalancedEnd,
    #[error("{0} before the root element; a WBXML body is one element")]
    ContentOutsideRoot(&'static str),
    #[error("{0} bytes after the root element ended")]
    TrailingBytes(usize),
    #[error("input ends with {open} element(s) still open")]
    Truncated { open: usize },
    #[error("input ends after the header, with no root element")]
    NoRoot,
}

/// A WBXML decoding error: what went wrong, at which byte, inside which element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset in the input where the problem is.
    pub offset: usize,
    /// The open elements at that point, outermost first (`Sync/Collections`).
    pub path: String,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {} (0x{:X})", self.offset, self.offset)?;
        if !self.path.is_empty() {
            write!(f, " in {}", self.path)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for DecodeError {}

/// Why XML could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeErrorKind {
    #[error("XML syntax error: {0}")]
    Syntax(String),
    #[error("the document has no root element")]
    NoRoot,
    #[error("a second root element `{0}`: a WBXML body is one element")]
    SecondRoot(String),
    #[error("text outside the root element")]
    TextOutsideRoot,
    #[error(
        "element `{name}` has no namespace: declare the code page it belongs to, e.g. xmlns=\"{hint}\""
    )]
    NoNamespace { name: String, hint: String },
    #[error("undeclared namespace prefix `{0}`")]
    UndeclaredPrefix(String),
    #[error("namespace `{uri}` is not an EAS code page{hint}")]
    UnknownNamespace { uri: String, hint: String },
    #[error("code page {namespace} has no element `{name}`{hint}")]
    UnknownTag {
        namespace: &'static str,
        name: String,
        hint: String,
    },
    #[error("{namespace}:{name} does not exist in protocol {version}; it exists in {versions}")]
    NotInVersion {
        namespace: &'static str,
        name: &'static str,
        version: ProtocolVersion,
        versions: VersionSet,
    },
    #[error(
        "unexpected attribute `{0}`: EAS elements carry no attributes (eastest's XML form uses only opaque=\"base64\")"
    )]
    UnexpectedAttribute(String),
    #[error("opaque=\"{0}\" is not supported; the only opaque encoding is \"base64\"")]
    OpaqueEncoding(String),
    #[error("element with opaque=\"base64\" can only hold base64 text, not {0}")]
    OpaqueContent(&'static str),
    #[error("invalid base64 in opaque data: {0}")]
    Base64(String),
    #[error("`wbxml:unknown` elements (tags by page and token) are accepted in lenient mode only")]
    UnknownTagStrict,
    #[error(
        "`wbxml:unknown` needs attributes page=\"N\" and token=\"0xNN\" (token 0x05-0x3F); {0}"
    )]
    BadUnknownTag(String),
    #[error(
        "text contains U+0000, which a WBXML inline string cannot carry (use opaque=\"base64\")"
    )]
    NulInText,
    #[error("unknown entity `&{0};`")]
    UnknownEntity(String),
    #[error(
        "processing instruction `<?{0}?>` is not one eastest knows (known: wbxml header|switch-page|str-end|str-bytes|opaque)"
    )]
    UnknownInstruction(String),
    #[error("bad `<?wbxml {0}?>`: {1}")]
    BadInstruction(String, String),
    #[error("elements nest deeper than the limit of {max}")]
    TooDeep { max: usize },
}

/// An XML encoding error, with the 1-based line and column where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeError {
    /// 1-based line of the offending markup.
    pub line: usize,
    /// 1-based column (in characters) of the offending markup.
    pub column: usize,
    /// Byte offset in the XML input.
    pub offset: usize,
    /// What went wrong.
    pub kind: EncodeErrorKind,
}

impl EncodeError {
    pub(crate) fn at(xml: &str, offset: usize, kind: EncodeErrorKind) -> EncodeError {
        let offset = offset.min(xml.len());
        let mut cut = offset;
        while !xml.is_char_boundary(cut) {
            cut -= 1;
        }
        let before = &xml[..cut];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        EncodeError {
            line,
            column,
            offset,
            kind,
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for EncodeError {}
