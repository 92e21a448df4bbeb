//! The MS-ASWBXML codec: WBXML <-> XML for every EAS code page, version-aware.
//!
//! This module depends on nothing else in the crate, so the client, the mock
//! server and the tests all share one codec, and the codec is checked against
//! an independent one (libwbxml) and against byte vectors from the spec.
//!
//! # The XML form
//!
//! eastest writes and reads EAS XML the way Microsoft's documents show it: each
//! code page is an XML namespace whose URI is the page name and a colon
//! (`AirSync:`, `Contacts:`, `AirSyncBase:`...). [`decode`] writes the root
//! element's page as the default namespace and prefixes every other element by
//! its page name, all declared on the root:
//!
//! ```xml
//! <?xml version="1.0" encoding="utf-8"?>
//! <Sync xmlns="AirSync:" xmlns:Contacts="Contacts:">
//!   <Collections>
//!     <Collection>
//!       <SyncKey>0</SyncKey>
//!       <Supported>
//!         <Contacts:FirstName/>
//!       </Supported>
//! ```
//!
//! [`encode`] accepts any namespace-qualified form (any prefixes, default
//! namespaces redeclared per element as libwbxml writes them; URIs match the
//! page names case-insensitively, the trailing colon optional).
//!
//! The form is exact: decoding then encoding gives back the input byte for
//! byte. That takes a few conventions, each visible in the XML:
//!
//! | WBXML | XML |
//! |---|---|
//! | tag without the content bit | `<Supported/>` |
//! | tag with the content bit and no content | `<Supported></Supported>` |
//! | `STR_I` | its text, escaped; `\r` and control characters as `&#13;` etc.; a string of only whitespace entirely as character references |
//! | an empty `STR_I`, or one followed by another `STR_I` | the text followed by `<?wbxml str-end?>` |
//! | `STR_I` that is not UTF-8 (lenient) | `<?wbxml str-bytes BASE64?>` |
//! | element whose content is one `OPAQUE` | `<Data opaque="base64">BASE64</Data>` |
//! | any other `OPAQUE` | `<?wbxml opaque BASE64?>` |
//! | `SWITCH_PAGE` a canonical encoder would not write | `<?wbxml switch-page N?>` |
//! | header other than `03 01 6A 00` | `<?wbxml header HEX?>` before the root |
//! | unknown tag (lenient) | `<wbxml:unknown page="0" token="0x11">` (namespace `urn:eastest:wbxml`) |
//!
//! Whitespace: literal whitespace between markup is indentation and ignored,
//! except when it is the whole one-line content of an element
//! (`<Subject> </Subject>` is a one-space string). Write `&#32;` to be explicit.
//!
//! The one lossy case: an `mb_u_int32` (an OPAQUE length) written with
//! needless leading `0x80` bytes re-encodes in its minimal form.
//!
//! # Strict and lenient
//!
//! [`Mode::Strict`] (the default, for validating a peer) rejects unknown pages
//! and tokens and tags that do not exist in the chosen protocol version, naming
//! the byte offset, page and token. [`Mode::Lenient`] (for snapshotting a
//! faulty server) keeps them visible. Both reject what EAS never uses (string
//! tables, entities, PIs, literals, extensions, attributes).
//!
//! # Limits
//!
//! Every length is checked against the input before use, so a claimed length
//! never drives an allocation; nesting depth is bounded
//! ([`DecodeOptions::max_depth`], default 32); neither direction recurses.
//! Output grows linearly with the input: decoding writes at most about 100
//! bytes of XML per byte of WBXML (a one-byte tag becomes its qualified name,
//! with indentation capped at 16 levels); a realistic document grows about
//! threefold.

mod codepage;
mod codepages;
mod decode;
mod dump;
mod encode;
mod error;
mod tree;
mod version;
mod wire;

pub use codepage::{
    CodePage, PAGE_COUNT, TagDef, code_page, code_page_by_uri, code_pages, pages_with_tag,
};
pub use decode::{DecodeOptions, DecodeToWriterError, decode, decode_to_writer};
pub use dump::dump;
pub use encode::{EncodeOptions, encode};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind};
pub use tree::{Element, Node, TreeError};
pub use version::{ProtocolVersion, UnknownVersion, VersionSet};

/// The namespace of eastest's `wbxml:unknown` element.
pub const UNKNOWN_NS: &str = "urn:eastest:wbxml";

/// Strict or lenient handling of tags a protocol version does not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Unknown pages, unknown tokens and out-of-version tags are errors.
    #[default]
    Strict,
    /// They are kept in the XML, so a faulty peer's output can be recorded.
    Lenient,
}
