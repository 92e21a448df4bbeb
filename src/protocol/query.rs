//! The request-line query of an EAS HTTP POST, in both MS-ASHTTP forms.
//!
//! - **Plain** (MS-ASHTTP 2.2.1.1.1.2):
//!   `Cmd=Sync&User=u&DeviceId=d&DeviceType=t` plus command parameters such
//!   as `CollectionId`, `ItemId`, `SaveInSent=T`. The protocol version,
//!   policy key and locale travel in headers (`MS-ASProtocolVersion`,
//!   `X-MS-PolicyKey`, `Accept-Language`), so [`RequestQuery::to_plain`]
//!   leaves those fields out.
//! - **Base64** (MS-ASHTTP 2.2.1.1.1.1, only for 12.1 and later): one
//!   base64 string encoding, in order, the protocol version byte, command
//!   code, locale (2 bytes), DeviceId length + bytes, policy key length
//!   (0 or 4) + key, DeviceType length + bytes, then parameters as (tag,
//!   length, value). Little-endian for the locale is confirmed by the
//!   spec's own example (`jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l` decodes to
//!   locale bytes `09 04` = 0x0409, en-US); for the policy key the spec
//!   names no byte order, and we follow the two open-source servers that
//!   decode it, Z-Push and Horde (both read it little-endian).
//!
//! Parsing is strict where the spec is (a zero DeviceId length, a policy key
//! length other than 0 or 4, unknown tags and codes are errors) and every
//! length is checked against what is left, so hostile input yields a
//! [`QueryError`] naming the field and byte offset, never a panic.
//! Encoding is mechanical on purpose: `to_plain`/`to_base64` write what the
//! struct holds, even if it breaks a MUST, so suites can send malformed
//! queries to a server; only what cannot be encoded at all is an error.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

use super::{Command, ProtocolVersion};

/// The longest DeviceId the plain form allows (`device-id = 1*32(ALPHA / DIGIT)`).
pub const MAX_DEVICE_ID_LEN: usize = 32;

/// Options bit: save the sent message in Sent Items (SendMail,
/// SmartForward, SmartReply). The plain form says `SaveInSent=T` instead.
const OPTION_SAVE_IN_SENT: u8 = 0x01;
/// Options bit: return ItemOperations data as multipart. The plain form
/// uses the `MS-ASAcceptMultiPart` header instead.
const OPTION_ACCEPT_MULTIPART: u8 = 0x02;

/// Base64 tag of the Options parameter (a one-byte bitmask).
const TAG_OPTIONS: u8 = 7;
/// Base64 tag of the User parameter.
const TAG_USER: u8 = 8;

/// Which of the two MS-ASHTTP forms a query uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryForm {
    /// `Cmd=...&User=...&DeviceId=...&DeviceType=...`.
    Plain,
    /// The base64-encoded byte sequence.
    Base64,
}

/// A command parameter carried in the query besides Cmd, User, DeviceId,
/// DeviceType and SaveInSent (which have fields of their own).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParamName {
    /// The attachment to fetch (GetAttachment). Base64 tag 0.
    AttachmentName,
    /// The folder holding the item (SmartForward, SmartReply). Tag 1.
    CollectionId,
    /// Tag 2 in earlier MS-ASHTTP revisions; the current table dropped it,
    /// but Z-Push, Horde and the Interop suites still decode it.
    CollectionName,
    /// The item to forward or reply to. Tag 3.
    ItemId,
    /// A long id from a Search result. Tag 4.
    LongId,
    /// Tag 5 in earlier revisions (same story as CollectionName).
    ParentId,
    /// The recurrence instance to forward or reply to. Tag 6.
    Occurrence,
    /// Any other plain-form parameter, kept verbatim. The base64 form has no
    /// tag for it.
    Other(String),
}

impl ParamName {
    /// The parameter's name in the plain form.
    pub fn as_str(&self) -> &str {
        match self {
            ParamName::AttachmentName => "AttachmentName",
            ParamName::CollectionId => "CollectionId",
            ParamName::CollectionName => "CollectionName",
            ParamName::ItemId => "ItemId",
            ParamName::LongId => "LongId",
            ParamName::ParentId => "ParentId",
            ParamName::Occurrence => "Occurrence",
            ParamName::Other(name) => name,
        }
    }

    /// The base64-form tag, if the parameter has one.
    pub fn tag(&self) -> Option<u8> {
        match self {
            ParamName::AttachmentName => Some(0),
            ParamName::CollectionId => Some(1),
            ParamName::CollectionName => Some(2),
            ParamName::ItemId => Some(3),
            ParamName::LongId => Some(4),
            ParamName::ParentId => Some(5),
            ParamName::Occurrence => Some(6),
            ParamName::Other(_) => None,
        }
    }

    /// The parameter for a base64 tag (Options and User are not
    /// parameters here: they map to fields of [`RequestQuery`]).
    fn from_tag(tag: u8) -> Option<ParamName> {
        Some(match tag {
            0 => ParamName::AttachmentName,
            1 => ParamName::CollectionId,
            2 => ParamName::CollectionName,
            3 => ParamName::ItemId,
            4 => ParamName::LongId,
            5 => ParamName::ParentId,
            6 => ParamName::Occurrence,
            _ => return None,
        })
    }

    /// The parameter for a plain-form name (exact spelling).
    fn from_plain(name: &str) -> ParamName {
        [
            ParamName::AttachmentName,
            ParamName::CollectionId,
            ParamName::CollectionName,
            ParamName::ItemId,
            ParamName::LongId,
            ParamName::ParentId,
            ParamName::Occurrence,
        ]
        .into_iter()
        .find(|p| p.as_str() == name)
        .unwrap_or_else(|| ParamName::Other(name.to_string()))
    }
}

impl fmt::Display for ParamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command parameter and its (decoded) value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryParam {
    /// Which parameter.
    pub name: ParamName,
    /// Its value, percent- or base64-decoded.
    pub value: String,
}

impl QueryParam {
    /// A parameter.
    pub fn new(name: ParamName, value: impl Into<String>) -> QueryParam {
        QueryParam {
            name,
            value: value.into(),
        }
    }
}

/// Where in a query an error sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Location {
    /// Byte offset in the decoded base64 byte sequence.
    Byte(usize),
    /// 1-based position of the `name=value` pair in a plain query.
    Param(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Byte(n) => write!(f, "byte {n}"),
            Location::Param(n) => write!(f, "parameter {n}"),
        }
    }
}

/// Why a query could not be parsed or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Nothing to parse.
    #[error("empty query")]
    Empty,
    /// The base64 form did not decode as base64.
    #[error("not valid base64 (MS-ASHTTP 2.2.1.1.1.1): {detail}")]
    Base64 {
        /// What the base64 decoder reported.
        detail: String,
    },
    /// A field runs past the end of the decoded bytes.
    #[error("{field} at byte {offset}: needs {needed} byte(s), only {available} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Where it starts.
        offset: usize,
        /// How many bytes it needs.
        needed: usize,
        /// How many bytes were left.
        available: usize,
    },
    /// The protocol version byte names no EAS version.
    #[error(
        "protocol version byte {byte} at byte 0: not an EAS version \
         (the base64 form allows 121, 140, 141, 160, 161)"
    )]
    UnknownVersionByte {
        /// The byte.
        byte: u8,
    },
    /// The protocol version byte names a version the base64 form excludes.
    #[error(
        "protocol version byte {byte} ({version}) at byte 0: MS-ASHTTP allows the base64 \
         form only with 12.1 and later"
    )]
    VersionTooOldForBase64 {
        /// The byte.
        byte: u8,
        /// The version it names.
        version: ProtocolVersion,
    },
    /// The command code is not in the MS-ASHTTP table.
    #[error("command code {code} at byte 1: not in the MS-ASHTTP command code table")]
    UnknownCommandCode {
        /// The code.
        code: u8,
    },
    /// The DeviceId length byte is 0.
    #[error("DeviceId length 0 at byte {offset}: MS-ASHTTP requires a DeviceId")]
    EmptyDeviceId {
        /// Offset of the length byte.
        offset: usize,
    },
    /// The policy key length is neither 0 nor 4.
    #[error("policy key length {len} at byte {offset}: MS-ASHTTP allows only 0 or 4")]
    BadPolicyKeyLength {
        /// The length given.
        len: u8,
        /// Offset of the length byte.
        offset: usize,
    },
    /// A base64 command parameter tag outside the MS-ASHTTP table.
    #[error("command parameter tag {tag} at byte {offset}: not in the MS-ASHTTP parameter table")]
    UnknownParameterTag {
        /// The tag.
        tag: u8,
        /// Offset of the tag byte.
        offset: usize,
    },
    /// The Options parameter is not exactly one byte.
    #[error("Options parameter at byte {offset}: length {len}, MS-ASHTTP defines a 1-byte bitmask")]
    BadOptionsLength {
        /// The length given.
        len: u8,
        /// Offset of the tag byte.
        offset: usize,
    },
    /// The Options bitmask has bits MS-ASHTTP does not define.
    #[error(
        "Options parameter at byte {offset}: undefined bits 0x{bits:02X} \
         (defined: 0x01 SaveInSent, 0x02 AcceptMultiPart)"
    )]
    UnknownOptionBits {
        /// The undefined bits.
        bits: u8,
        /// Offset of the value byte.
        offset: usize,
    },
    /// A parameter that may appear once appears again.
    #[error("{name} repeated at {at}")]
    DuplicateParameter {
        /// The parameter.
        name: String,
        /// Where the repeat is.
        at: Location,
    },
    /// A text field is not UTF-8.
    #[error("{field} at {at} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: String,
        /// Where it is.
        at: Location,
    },
    /// A plain-form pair has no `=`.
    #[error("parameter {index} `{segment}` has no `=` (plain form is name=value pairs)")]
    MissingEquals {
        /// 1-based position.
        index: usize,
        /// The pair as given.
        segment: String,
    },
    /// A `%` not followed by two hex digits.
    #[error("bad percent-encoding in {part} at parameter {index}, character {offset}")]
    BadPercentEncoding {
        /// `name` or `value` of which parameter.
        part: String,
        /// 1-based parameter position.
        index: usize,
        /// Character offset of the `%` within that part.
        offset: usize,
    },
    /// A required plain-form parameter is missing.
    #[error("missing {name} parameter{}", found_as_hint(.found_as))]
    MissingParameter {
        /// The parameter's exact name.
        name: &'static str,
        /// A name that matches it ignoring case, if the query had one.
        found_as: Option<String>,
    },
    /// The `Cmd` value names no command.
    #[error(transparent)]
    UnknownCommand(#[from] super::command::UnknownCommand),
    /// The DeviceId breaks the plain-form grammar.
    #[error("DeviceId `{value}`: {reason}")]
    InvalidDeviceId {
        /// The value as decoded.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The DeviceType breaks the plain-form grammar.
    #[error("DeviceType `{value}`: {reason}")]
    InvalidDeviceType {
        /// The value as decoded.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `SaveInSent` has a value other than `T` or `F`.
    #[error("SaveInSent `{value}` at parameter {index}: expected T or F")]
    InvalidSaveInSent {
        /// The value as decoded.
        value: String,
        /// 1-based parameter position.
        index: usize,
    },
    /// A base64-form field is longer than its one-byte length can say.
    #[error("{field} is {len} bytes; base64-form length fields hold at most 255")]
    FieldTooLong {
        /// The field.
        field: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The command has no base64 command code.
    #[error("{command} has no command code in MS-ASHTTP, so only the plain form can carry it")]
    NoCommandCode {
        /// The command.
        command: Command,
    },
    /// A field the base64 form always carries is unset.
    #[error("the base64 form needs a {field}; it is unset")]
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A plain-only parameter in a base64 encode.
    #[error("parameter {name} has no base64-form tag")]
    NoParameterTag {
        /// The parameter.
        name: String,
    },
    /// `device_id_binary` is set but `device_id` is not even-length hex.
    #[error("DeviceId `{value}` is marked binary but is not hex")]
    BadBinaryDeviceId {
        /// The value.
        value: String,
    },
}

fn found_as_hint(found_as: &Option<String>) -> String {
    match found_as {
        Some(name) => format!(" (found `{name}`; parameter names are case-sensitive)"),
        None => String::new(),
    }
}

/// The request-line query of one EAS request, whichever form it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestQuery {
    /// The command (`Cmd=` or the command code).
    pub command: Command,
    /// The user (`User=`, or base64 parameter tag 8). The plain grammar
    /// requires it; the base64 form makes it optional.
    pub user: Option<String>,
    /// The device id. If `device_id_binary` is set, this is the uppercase
    /// hex of the raw bytes the base64 form carried.
    pub device_id: String,
    /// Set when the base64 DeviceId field held bytes that are not printable
    /// ASCII (MS-ASHTTP allows "a string or a GUID"; a raw GUID is 16
    /// bytes). `device_id` then holds their hex, which is 32 characters for
    /// a GUID and so also fits the plain form's `1*32(ALPHA / DIGIT)`;
    /// `to_base64` writes the raw bytes back.
    pub device_id_binary: bool,
    /// The device type.
    pub device_type: String,
    /// The protocol version; only the base64 form carries it.
    pub protocol_version: Option<ProtocolVersion>,
    /// The MS-LCID locale (e.g. 0x0409); only the base64 form carries it.
    pub locale: Option<u16>,
    /// The policy key; only the base64 form carries it in the query.
    pub policy_key: Option<u32>,
    /// Save the message in Sent Items (`SaveInSent=T`, or Options bit 0x01).
    pub save_in_sent: bool,
    /// Return multipart data (Options bit 0x02; the plain form uses the
    /// `MS-ASAcceptMultiPart` header, so `to_plain` leaves it out).
    pub accept_multipart: bool,
    /// The other command parameters, in query order.
    pub params: Vec<QueryParam>,
}

impl RequestQuery {
    /// A query with no user, version, locale, policy key or parameters.
    pub fn new(
        command: Command,
        device_id: impl Into<String>,
        device_type: impl Into<String>,
    ) -> RequestQuery {
        RequestQuery {
            command,
            user: None,
            device_id: device_id.into(),
            device_id_binary: false,
            device_type: device_type.into(),
            protocol_version: None,
            locale: None,
            policy_key: None,
            save_in_sent: false,
            accept_multipart: false,
            params: Vec::new(),
        }
    }

    /// The value of the first parameter named `name`.
    pub fn param(&self, name: &ParamName) -> Option<&str> {
        self.params
            .iter()
            .find(|p| &p.name == name)
            .map(|p| p.value.as_str())
    }

    /// Which form `query` is in. Plain queries have `&` or a `=` before the
    /// end (base64 has `=` only as trailing padding). A leading path and
    /// `?` are ignored.
    pub fn detect_form(query: &str) -> QueryForm {
        let q = strip_path(query);
        if q.contains('&') || q.trim_end_matches('=').contains('=') {
            QueryForm::Plain
        } else {
            QueryForm::Base64
        }
    }

    /// Parses a query in either form (see [`RequestQuery::detect_form`]).
    pub fn parse(query: &str) -> Result<RequestQuery, QueryError> {
        match RequestQuery::detect_form(query) {
            QueryForm::Plain => RequestQuery::parse_plain(query),
            QueryForm::Base64 => RequestQuery::parse_base64(query),
        }
    }

    /// Parses the plain form. Names are matched exactly; `+` is taken
    /// literally (RFC 3986, not HTML-form encoding). Pairs may come in any
    /// order, though the grammar puts Cmd, User, DeviceId, DeviceType first;
    /// empty pairs (`&&`) are skipped.
    pub fn parse_plain(query: &str) -> Result<RequestQuery, QueryError> {
        let q = strip_path(query);
        if q.is_empty() {
            return Err(QueryError::Empty);
        }
        let mut command = None;
        let mut user = None;
        let mut device_id = None;
        let mut device_type = None;
        let mut save_in_sent = None;
        let mut params = Vec::new();
        let mut names_seen: Vec<String> = Vec::new();

        for (i, segment) in q.split('&').enumerate() {
            let index = i + 1;
            if segment.is_empty() {
                continue;
            }
            let Some((raw_name, raw_value)) = segment.split_once('=') else {
                return Err(QueryError::MissingEquals {
                    index,
                    segment: segment.to_string(),
                });
            };
            let name = decode_text(raw_name, "name", index)?;
            let value = decode_text(raw_value, &format!("{name} value"), index)?;
            let slot = match name.as_str() {
                "Cmd" => Some(&mut command),
                "User" => Some(&mut user),
                "DeviceId" => Some(&mut device_id),
                "DeviceType" => Some(&mut device_type),
                "SaveInSent" => Some(&mut save_in_sent),
                _ => None,
            };
            match slot {
                Some(slot) => {
                    if slot.is_some() {
                        return Err(QueryError::DuplicateParameter {
                            name,
                            at: Location::Param(index),
                        });
                    }
                    *slot = Some((value, index));
                }
                None => params.push(QueryParam::new(ParamName::from_plain(&name), value)),
            }
            names_seen.push(name);
        }

        let missing = |name: &'static str| QueryError::MissingParameter {
            name,
            found_as: names_seen
                .iter()
                .find(|n| n.eq_ignore_ascii_case(name))
                .cloned(),
        };
        let (cmd, _) = command.ok_or_else(|| missing("Cmd"))?;
        let command =
            Command::from_name(&cmd).ok_or_else(|| super::command::UnknownCommand::new(&cmd))?;
        let (user, _) = user.ok_or_else(|| missing("User"))?;
        let (device_id, _) = device_id.ok_or_else(|| missing("DeviceId"))?;
        let (device_type, _) = device_type.ok_or_else(|| missing("DeviceType"))?;
        check_plain_device_id(&device_id)?;
        check_plain_device_type(&device_type)?;
        let save_in_sent = match save_in_sent {
            None => false,
            Some((v, _)) if v == "T" => true,
            Some((v, _)) if v == "F" => false,
            Some((value, index)) => return Err(QueryError::InvalidSaveInSent { value, index }),
        };

        Ok(RequestQuery {
            command,
            user: Some(user),
            device_id,
            device_id_binary: false,
            device_type,
            protocol_version: None,
            locale: None,
            policy_key: None,
            save_in_sent,
            accept_multipart: false,
            params,
        })
    }

    /// The plain form: `Cmd`, `User` (if set), `DeviceId`, `DeviceType`,
    /// the parameters in order, then `SaveInSent=T` if set. Values are
    /// percent-encoded except for RFC 3986 unreserved characters. Version,
    /// locale, policy key and AcceptMultiPart belong in headers and are left
    /// out.
    pub fn to_plain(&self) -> String {
        let mut out = format!("Cmd={}", self.command.name());
        let mut pair = |name: &str, value: &str| {
            out.push('&');
            out.push_str(&percent_encode(name.as_bytes()));
            out.push('=');
            out.push_str(&percent_encode(value.as_bytes()));
        };
        if let Some(user) = &self.user {
            pair("User", user);
        }
        pair("DeviceId", &self.device_id);
        pair("DeviceType", &self.device_type);
        for p in &self.params {
            pair(p.name.as_str(), &p.value);
        }
        if self.save_in_sent {
            pair("SaveInSent", "T");
        }
        out
    }

    /// Parses the base64 form. Accepts standard base64 with or without
    /// padding, also when percent-encoded (`%2B`, `%2F`, `%3D`).
    pub fn parse_base64(query: &str) -> Result<RequestQuery, QueryError> {
        let q = strip_path(query);
        if q.is_empty() {
            return Err(QueryError::Empty);
        }
        let unescaped;
        let text = if q.contains('%') {
            unescaped = percent_decode(q).map_err(|offset| QueryError::Base64 {
                detail: format!("bad percent-encoding at character {offset}"),
            })?;
            unescaped.as_slice()
        } else {
            q.as_bytes()
        };
        let bytes = STANDARD_PAD_INDIFFERENT
            .decode(text)
            .map_err(|e| QueryError::Base64 {
                detail: e.to_string(),
            })?;
        RequestQuery::from_base64_bytes(&bytes)
    }

    /// Parses the decoded byte sequence of the base64 form.
    pub fn from_base64_bytes(bytes: &[u8]) -> Result<RequestQuery, QueryError> {
        let mut r = Reader { bytes, pos: 0 };

        let version_byte = r.byte("protocol version")?;
        let protocol_version = match ProtocolVersion::from_query_byte(version_byte) {
            None => return Err(QueryError::UnknownVersionByte { byte: version_byte }),
            Some(v) if v < ProtocolVersion::V12_1 => {
                return Err(QueryError::VersionTooOldForBase64 {
                    byte: version_byte,
                    version: v,
                });
            }
            Some(v) => v,
        };
        let code = r.byte("command code")?;
        let command = Command::from_code(code).ok_or(QueryError::UnknownCommandCode { code })?;
        let locale = r.take("locale", 2)?;
        let locale = u16::from_le_bytes([locale[0], locale[1]]);

        let at = r.pos;
        let len = r.byte("DeviceId length")?;
        if len == 0 {
            return Err(QueryError::EmptyDeviceId { offset: at });
        }
        let raw_id = r.take("DeviceId", usize::from(len))?;
        let device_id_binary = !raw_id.iter().all(|b| b.is_ascii_graphic());
        let device_id = if device_id_binary {
            hex_upper(raw_id)
        } else {
            // Printable ASCII is always UTF-8.
            String::from_utf8_lossy(raw_id).into_owned()
        };

        let at = r.pos;
        let policy_key = match r.byte("policy key length")? {
            0 => None,
            4 => {
                let k = r.take("policy key", 4)?;
                Some(u32::from_le_bytes([k[0], k[1], k[2], k[3]]))
            }
            len => return Err(QueryError::BadPolicyKeyLength { len, offset: at }),
        };

        let len = r.byte("DeviceType length")?;
        let at = r.pos;
        let device_type = utf8(r.take("DeviceType", usize::from(len))?, "DeviceType", at)?;

        let mut user = None;
        let mut options = None;
        let mut params = Vec::new();
        while r.remaining() > 0 {
            let tag_at = r.pos;
            let tag = r.byte("command parameter tag")?;
            let len = r.byte("command parameter length")?;
            let value_at = r.pos;
            match tag {
                TAG_OPTIONS => {
                    let value = r.take("Options", usize::from(len))?;
                    if options.is_some() {
                        return Err(dup("Options", tag_at));
                    }
                    let [bits] = value else {
                        return Err(QueryError::BadOptionsLength {
                            len,
                            offset: tag_at,
                        });
                    };
                    let unknown = bits & !(OPTION_SAVE_IN_SENT | OPTION_ACCEPT_MULTIPART);
                    if unknown != 0 {
                        return Err(QueryError::UnknownOptionBits {
                            bits: unknown,
                            offset: value_at,
                        });
                    }
                    options = Some(*bits);
                }
                TAG_USER => {
                    let value = r.take("User", usize::from(len))?;
                    if user.is_some() {
                        return Err(dup("User", tag_at));
                    }
                    user = Some(utf8(value, "User", value_at)?);
                }
                _ => {
                    let name = ParamName::from_tag(tag).ok_or(QueryError::UnknownParameterTag {
                        tag,
                        offset: tag_at,
                    })?;
                    let field = name.as_str().to_string();
                    let value = r.take("command parameter value", usize::from(len))?;
                    let value = utf8(value, &field, value_at)?;
                    params.push(QueryParam::new(name, value));
                }
            }
        }
        let options = options.unwrap_or(0);

        Ok(RequestQuery {
            command,
            user,
            device_id,
            device_id_binary,
            device_type,
            protocol_version: Some(protocol_version),
            locale: Some(locale),
            policy_key,
            save_in_sent: options & OPTION_SAVE_IN_SENT != 0,
            accept_multipart: options & OPTION_ACCEPT_MULTIPART != 0,
            params,
        })
    }

    /// The base64 form (standard alphabet, padded).
    pub fn to_base64(&self) -> Result<String, QueryError> {
        Ok(STANDARD.encode(self.to_base64_bytes()?))
    }

    /// The byte sequence the base64 form encodes: header fields, then User
    /// (if set), the parameters in order, and Options (if any bit is set).
    pub fn to_base64_bytes(&self) -> Result<Vec<u8>, QueryError> {
        let version = self.protocol_version.ok_or(QueryError::MissingField {
            field: "protocol version",
        })?;
        let code = self.command.code().ok_or(QueryError::NoCommandCode {
            command: self.command,
        })?;
        let locale = self
            .locale
            .ok_or(QueryError::MissingField { field: "locale" })?;

        let mut out = vec![version.query_byte(), code];
        out.extend_from_slice(&locale.to_le_bytes());
        if self.device_id_binary {
            let raw = hex_decode(&self.device_id).ok_or_else(|| QueryError::BadBinaryDeviceId {
                value: self.device_id.clone(),
            })?;
            push_counted(&mut out, "DeviceId", &raw)?;
        } else {
            push_counted(&mut out, "DeviceId", self.device_id.as_bytes())?;
        }
        match self.policy_key {
            None => out.push(0),
            Some(key) => {
                out.push(4);
                out.extend_from_slice(&key.to_le_bytes());
            }
        }
        push_counted(&mut out, "DeviceType", self.device_type.as_bytes())?;
        if let Some(user) = &self.user {
            out.push(TAG_USER);
            push_counted(&mut out, "User", user.as_bytes())?;
        }
        for p in &self.params {
            let tag = p.name.tag().ok_or_else(|| QueryError::NoParameterTag {
                name: p.name.to_string(),
            })?;
            out.push(tag);
            push_counted(&mut out, p.name.as_str(), p.value.as_bytes())?;
        }
        let mut options = 0u8;
        if self.save_in_sent {
            options |= OPTION_SAVE_IN_SENT;
        }
        if self.accept_multipart {
            options |= OPTION_ACCEPT_MULTIPART;
        }
        if options != 0 {
            out.extend_from_slice(&[TAG_OPTIONS, 1, options]);
        }
        Ok(out)
    }
}

/// A cursor over the decoded base64 bytes whose reads check the length
/// first, so nothing here can index out of bounds.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], QueryError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let Some(chunk) = rest.get(..n) else {
            return Err(QueryError::Truncated {
                field,
                offset: self.pos,
                needed: n,
                available: rest.len(),
            });
        };
        self.pos += n;
        Ok(chunk)
    }

    fn byte(&mut self, field: &'static str) -> Result<u8, QueryError> {
        let chunk = self.take(field, 1)?;
        Ok(chunk.first().copied().unwrap_or_default())
    }
}

fn dup(name: &str, offset: usize) -> QueryError {
    QueryError::DuplicateParameter {
        name: name.to_string(),
        at: Location::Byte(offset),
    }
}

fn utf8(bytes: &[u8], field: &str, offset: usize) -> Result<String, QueryError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| QueryError::InvalidUtf8 {
        field: field.to_string(),
        at: Location::Byte(offset),
    })
}

/// Appends a one-byte length and the bytes.
fn push_counted(out: &mut Vec<u8>, field: &str, bytes: &[u8]) -> Result<(), QueryError> {
    let len = u8::try_from(bytes.len()).map_err(|_| QueryError::FieldTooLong {
        field: field.to_string(),
        len: bytes.len(),
    })?;
    out.push(len);
    out.extend_from_slice(bytes);
    Ok(())
}

/// The query part of a request target: what follows the first `?`, or all
/// of it when there is none.
fn strip_path(query: &str) -> &str {
    let q = query.trim();
    q.split_once('?').map_or(q, |(_, rest)| rest)
}

/// `1*32(ALPHA / DIGIT)` from the plain-form grammar.
fn check_plain_device_id(id: &str) -> Result<(), QueryError> {
    let reason = if id.is_empty() {
        "empty; MS-ASHTTP requires a DeviceId"
    } else if id.len() > MAX_DEVICE_ID_LEN {
        "longer than the 32 characters MS-ASHTTP allows"
    } else if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        "MS-ASHTTP allows only letters and digits"
    } else {
        return Ok(());
    };
    Err(QueryError::InvalidDeviceId {
        value: id.to_string(),
        reason,
    })
}

/// `1*VCHAR` from the plain-form grammar.
fn check_plain_device_type(t: &str) -> Result<(), QueryError> {
    let reason = if t.is_empty() {
        "empty; MS-ASHTTP requires a DeviceType"
    } else if !t.bytes().all(|b| b.is_ascii_graphic()) {
        "MS-ASHTTP allows only visible ASCII characters"
    } else {
        return Ok(());
    };
    Err(QueryError::InvalidDeviceType {
        value: t.to_string(),
        reason,
    })
}

// A hand-written percent codec: the ~30 lines below are all the query
// needs, which does not justify a dependency.

/// Percent-decodes `s`; on a `%` without two hex digits, returns its
/// character offset.
fn percent_decode(s: &str) -> Result<Vec<u8>, usize> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = b.get(i + 1).and_then(|&h| hex_val(h));
            let lo = b.get(i + 2).and_then(|&l| hex_val(l));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(i);
            };
            out.push((hi << 4) | lo);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
    out
}

/// Percent-decodes one name or value of a plain query into text.
fn decode_text(raw: &str, part: &str, index: usize) -> Result<String, QueryError> {
    let bytes = percent_decode(raw).map_err(|offset| QueryError::BadPercentEncoding {
        part: part.to_string(),
        index,
        offset,
    })?;
    String::from_utf8(bytes).map_err(|_| QueryError::InvalidUtf8 {
        field: part.to_string(),
        at: Location::Param(index),
    })
}

fn hex_val(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n & 0x0f), 16)
        .unwrap_or('0')
        .to_ascii_uppercase()
}

fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(hex_digit(b >> 4));
        s.push(hex_digit(b & 0x0f));
    }
    s
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some((hex_val(*hi)? << 4) | hex_val(*lo)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from MS-ASHTTP 2.2.1.1.1.1.
    const SPEC_EXAMPLE: &str = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l";

    fn spec_example() -> RequestQuery {
        RequestQuery {
            protocol_version: Some(ProtocolVersion::V14_0),
            locale: Some(0x0409),
            ..RequestQuery::new(Command::Sync, "v140Device", "SmartPhone")
        }
    }

    /// A valid header: version 14.1, the given command code, en-US,
    /// DeviceId "dev", policy key `pk`, DeviceType "PPC".
    fn header(code: u8, pk: &[u8]) -> Vec<u8> {
        let mut b = vec![141, code, 0x09, 0x04, 3, b'd', b'e', b'v'];
        b.push(u8::try_from(pk.len()).unwrap());
        b.extend_from_slice(pk);
        b.extend_from_slice(&[3, b'P', b'P', b'C']);
        b
    }

    #[test]
    fn spec_base64_example_decodes_exactly() {
        let q = RequestQuery::parse_base64(SPEC_EXAMPLE).unwrap();
        assert_eq!(q, spec_example());
        assert_eq!(q.to_base64().unwrap(), SPEC_EXAMPLE);
        // Through the auto-detecting entry point and with the path in front.
        let with_path = format!("/Microsoft-Server-ActiveSync?{SPEC_EXAMPLE}");
        assert_eq!(RequestQuery::detect_form(&with_path), QueryForm::Base64);
        assert_eq!(RequestQuery::parse(&with_path).unwrap(), q);
    }

    #[test]
    fn spec_plain_example_round_trips() {
        let s = "Cmd=SendMail&User=fakeusername&DeviceId=v140Device&DeviceType=SmartPhone";
        assert_eq!(RequestQuery::detect_form(s), QueryForm::Plain);
        let q = RequestQuery::parse(s).unwrap();
        assert_eq!(q.command, Command::SendMail);
        assert_eq!(q.user.as_deref(), Some("fakeusername"));
        assert_eq!(q.device_id, "v140Device");
        assert_eq!(q.device_type, "SmartPhone");
        assert_eq!(q.protocol_version, None);
        assert_eq!(q.to_plain(), s);
    }

    #[test]
    fn plain_round_trip_with_params_and_escapes() {
        let s = "Cmd=SmartForward&User=DOMAIN%5Cjo%20e%2Btag%40example.com&DeviceId=ABC123\
                 &DeviceType=iPhone&ItemId=5%3A12&CollectionId=5&Occurrence=2024-01-01T00%3A00%3A00.000Z\
                 &SaveInSent=T";
        let q = RequestQuery::parse_plain(s).unwrap();
        assert_eq!(q.user.as_deref(), Some("DOMAIN\\jo e+tag@example.com"));
        assert_eq!(q.param(&ParamName::ItemId), Some("5:12"));
        assert_eq!(q.param(&ParamName::CollectionId), Some("5"));
        assert!(q.save_in_sent);
        assert_eq!(q.to_plain(), s);
        assert_eq!(RequestQuery::parse_plain(&q.to_plain()).unwrap(), q);
    }

    #[test]
    fn plain_keeps_unknown_params_and_plus_literally() {
        let q = RequestQuery::parse_plain(
            "?Cmd=Ping&User=a+b&DeviceId=X1&DeviceType=SP&Foo=bar&&SaveInSent=F",
        )
        .unwrap();
        assert_eq!(q.user.as_deref(), Some("a+b"));
        assert!(!q.save_in_sent);
        assert_eq!(
            q.params,
            vec![QueryParam::new(ParamName::Other("Foo".into()), "bar")]
        );
        // Foo has no base64 tag.
        let q = RequestQuery {
            protocol_version: Some(ProtocolVersion::V14_1),
            locale: Some(0x0409),
            ..q
        };
        assert_eq!(
            q.to_base64(),
            Err(QueryError::NoParameterTag { name: "Foo".into() })
        );
    }

    #[test]
    fn plain_errors_name_the_problem() {
        let e = |s: &str| RequestQuery::parse_plain(s).unwrap_err();
        assert_eq!(e(""), QueryError::Empty);
        assert_eq!(
            e("cmd=Sync&User=u&DeviceId=d&DeviceType=t"),
            QueryError::MissingParameter {
                name: "Cmd",
                found_as: Some("cmd".into())
            }
        );
        assert!(
            e("cmd=Sync&User=u&DeviceId=d&DeviceType=t")
                .to_string()
                .contains("found `cmd`")
        );
        assert_eq!(
            e("Cmd=Sync&DeviceId=d&DeviceType=t"),
            QueryError::MissingParameter {
                name: "User",
                found_as: None
            }
        );
        match e("Cmd=sync&User=u&DeviceId=d&DeviceType=t") {
            QueryError::UnknownCommand(u) => assert_eq!(u.suggestion, Some(Command::Sync)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            e("Cmd=Sync&Cmd=Ping&User=u&DeviceId=d&DeviceType=t"),
            QueryError::DuplicateParameter {
                name: "Cmd".into(),
                at: Location::Param(2)
            }
        );
        assert_eq!(
            e("Cmd=Sync&User&DeviceId=d&DeviceType=t"),
            QueryError::MissingEquals {
                index: 2,
                segment: "User".into()
            }
        );
        assert_eq!(
            e("Cmd=Sync&User=%G1&DeviceId=d&DeviceType=t"),
            QueryError::BadPercentEncoding {
                part: "User value".into(),
                index: 2,
                offset: 0
            }
        );
        assert_eq!(
            e("Cmd=Sync&User=%FF&DeviceId=d&DeviceType=t"),
            QueryError::InvalidUtf8 {
                field: "User value".into(),
                at: Location::Param(2)
            }
        );
        assert!(matches!(
            e("Cmd=Sync&User=u&DeviceId=&DeviceType=t"),
            QueryError::InvalidDeviceId { .. }
        ));
        assert!(matches!(
            e("Cmd=Sync&User=u&DeviceId=abc-def&DeviceType=t"),
            QueryError::InvalidDeviceId { .. }
        ));
        let long = "A".repeat(33);
        assert!(matches!(
            e(&format!("Cmd=Sync&User=u&DeviceId={long}&DeviceType=t")),
            QueryError::InvalidDeviceId { reason, .. } if reason.contains("32")
        ));
        assert!(matches!(
            e("Cmd=Sync&User=u&DeviceId=d&DeviceType="),
            QueryError::InvalidDeviceType { .. }
        ));
        assert_eq!(
            e("Cmd=Sync&User=u&DeviceId=d&DeviceType=t&SaveInSent=yes"),
            QueryError::InvalidSaveInSent {
                value: "yes".into(),
                index: 5
            }
        );
        // A stray `%` at the end never reads past the string.
        assert!(matches!(
            e("Cmd=Sync&User=u%&DeviceId=d&DeviceType=t"),
            QueryError::BadPercentEncoding { offset: 1, .. }
        ));
    }

    #[test]
    fn base64_round_trip_full() {
        let q = RequestQuery {
            command: Command::SmartReply,
            user: Some("jo@example.com".into()),
            policy_key: Some(0xDEAD_BEEF),
            save_in_sent: true,
            accept_multipart: true,
            params: vec![
                QueryParam::new(ParamName::ItemId, "5:12"),
                QueryParam::new(ParamName::CollectionId, "5"),
                QueryParam::new(ParamName::LongId, "RgAAAA"),
                QueryParam::new(ParamName::Occurrence, "2024-01-01T00:00:00.000Z"),
                QueryParam::new(ParamName::AttachmentName, "a/b c"),
            ],
            protocol_version: Some(ProtocolVersion::V16_1),
            locale: Some(0x0407),
            ..RequestQuery::new(Command::Sync, "ABCDEF0123", "WP8")
        };
        let b64 = q.to_base64().unwrap();
        assert_eq!(RequestQuery::parse_base64(&b64).unwrap(), q);
        assert_eq!(RequestQuery::parse(&b64).unwrap(), q);
        // Unpadded and percent-encoded inputs decode too.
        let unpadded = b64.trim_end_matches('=');
        assert_eq!(RequestQuery::parse_base64(unpadded).unwrap(), q);
        let escaped = b64
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        assert_eq!(RequestQuery::parse(&escaped).unwrap(), q);
    }

    #[test]
    fn base64_byte_layout_is_little_endian() {
        let q = RequestQuery {
            policy_key: Some(0x0102_0304),
            protocol_version: Some(ProtocolVersion::V14_1),
            locale: Some(0x0409),
            save_in_sent: true,
            user: Some("u".into()),
            ..RequestQuery::new(Command::SendMail, "dev", "PPC")
        };
        let mut expected = header(1, &[4, 3, 2, 1]);
        expected.extend_from_slice(&[8, 1, b'u', 7, 1, 0x01]);
        assert_eq!(q.to_base64_bytes().unwrap(), expected);
        assert_eq!(RequestQuery::from_base64_bytes(&expected).unwrap(), q);
    }

    #[test]
    fn binary_device_id_round_trips_as_hex() {
        let guid: Vec<u8> = (0u8..16).map(|i| i.wrapping_mul(17)).collect();
        let mut bytes = vec![141, 0, 0x09, 0x04, 16];
        bytes.extend_from_slice(&guid);
        bytes.extend_from_slice(&[0, 2, b'W', b'P']);
        let q = RequestQuery::from_base64_bytes(&bytes).unwrap();
        assert!(q.device_id_binary);
        assert_eq!(q.device_id, "00112233445566778899AABBCCDDEEFF");
        assert_eq!(q.to_base64_bytes().unwrap(), bytes);
        let bad = RequestQuery {
            device_id: "XYZ".into(),
            ..q
        };
        assert!(matches!(
            bad.to_base64_bytes(),
            Err(QueryError::BadBinaryDeviceId { .. })
        ));
    }

    #[test]
    fn base64_errors_name_field_and_offset() {
        let e = |b: &[u8]| RequestQuery::from_base64_bytes(b).unwrap_err();
        assert_eq!(
            e(&[]),
            QueryError::Truncated {
                field: "protocol version",
                offset: 0,
                needed: 1,
                available: 0
            }
        );
        assert_eq!(e(&[99, 0]), QueryError::UnknownVersionByte { byte: 99 });
        assert_eq!(
            e(&[120, 0]),
            QueryError::VersionTooOldForBase64 {
                byte: 120,
                version: ProtocolVersion::V12_0
            }
        );
        assert_eq!(e(&[141, 7]), QueryError::UnknownCommandCode { code: 7 });
        assert_eq!(
            e(&[141, 0, 0x09]),
            QueryError::Truncated {
                field: "locale",
                offset: 2,
                needed: 2,
                available: 1
            }
        );
        let zero = e(&[141, 0, 0x09, 0x04, 0, 0, 2, b'S', b'P']);
        assert_eq!(zero, QueryError::EmptyDeviceId { offset: 4 });
        assert_eq!(
            zero.to_string(),
            "DeviceId length 0 at byte 4: MS-ASHTTP requires a DeviceId"
        );
        assert_eq!(
            e(&[141, 0, 0x09, 0x04, 10, b'a', b'b']),
            QueryError::Truncated {
                field: "DeviceId",
                offset: 5,
                needed: 10,
                available: 2
            }
        );
        let mut pk3 = vec![141, 0, 0x09, 0x04, 1, b'd', 3, 1, 2, 3];
        pk3.extend_from_slice(&[2, b'S', b'P']);
        assert_eq!(
            e(&pk3),
            QueryError::BadPolicyKeyLength { len: 3, offset: 6 }
        );
        assert_eq!(
            e(&[141, 0, 0x09, 0x04, 1, b'd', 4, 1, 2]),
            QueryError::Truncated {
                field: "policy key",
                offset: 7,
                needed: 4,
                available: 2
            }
        );
        assert_eq!(
            e(&[141, 0, 0x09, 0x04, 1, b'd', 0]),
            QueryError::Truncated {
                field: "DeviceType length",
                offset: 7,
                needed: 1,
                available: 0
            }
        );

        // Parameters, after a 16-byte header.
        let base = header(19, &[]);
        let n = base.len();
        let with = |extra: &[u8]| [base.as_slice(), extra].concat();
        assert_eq!(
            e(&with(&[1])),
            QueryError::Truncated {
                field: "command parameter length",
                offset: n + 1,
                needed: 1,
                available: 0
            }
        );
        assert_eq!(
            e(&with(&[3, 9, b'x'])),
            QueryError::Truncated {
                field: "command parameter value",
                offset: n + 2,
                needed: 9,
                available: 1
            }
        );
        assert_eq!(
            e(&with(&[9, 0])),
            QueryError::UnknownParameterTag { tag: 9, offset: n }
        );
        assert_eq!(
            e(&with(&[7, 2, 1, 1])),
            QueryError::BadOptionsLength { len: 2, offset: n }
        );
        assert_eq!(
            e(&with(&[7, 1, 0x85])),
            QueryError::UnknownOptionBits {
                bits: 0x84,
                offset: n + 2
            }
        );
        assert_eq!(
            e(&with(&[8, 1, b'a', 8, 1, b'b'])),
            QueryError::DuplicateParameter {
                name: "User".into(),
                at: Location::Byte(n + 3)
            }
        );
        assert_eq!(
            e(&with(&[3, 1, 0xFF])),
            QueryError::InvalidUtf8 {
                field: "ItemId".into(),
                at: Location::Byte(n + 2)
            }
        );
        // Legacy tags 2 and 5 are accepted.
        let q = RequestQuery::from_base64_bytes(&with(&[2, 1, b'c', 5, 1, b'p'])).unwrap();
        assert_eq!(q.param(&ParamName::CollectionName), Some("c"));
        assert_eq!(q.param(&ParamName::ParentId), Some("p"));
    }

    #[test]
    fn base64_text_errors() {
        assert!(matches!(
            RequestQuery::parse_base64("not base64!"),
            Err(QueryError::Base64 { .. })
        ));
        assert!(matches!(
            RequestQuery::parse_base64("jA%G0"),
            Err(QueryError::Base64 { .. })
        ));
        assert_eq!(RequestQuery::parse_base64("  "), Err(QueryError::Empty));
        assert_eq!(RequestQuery::parse("?"), Err(QueryError::Empty));
    }

    #[test]
    fn every_prefix_and_mutation_of_a_valid_query_is_handled() {
        let q = RequestQuery {
            user: Some("user".into()),
            policy_key: Some(7),
            save_in_sent: true,
            params: vec![QueryParam::new(ParamName::ItemId, "1:2")],
            protocol_version: Some(ProtocolVersion::V14_1),
            locale: Some(0x0409),
            ..RequestQuery::new(Command::SmartForward, "dev1", "SP")
        };
        let bytes = q.to_base64_bytes().unwrap();
        // Header: 4 fixed bytes, DeviceId 1+4, policy key 1+4, DeviceType 1+2.
        let header_len = 17;
        for cut in 0..bytes.len() {
            let r = RequestQuery::from_base64_bytes(&bytes[..cut]);
            if cut < header_len {
                assert!(
                    matches!(r, Err(QueryError::Truncated { .. })),
                    "cut {cut}: {r:?}"
                );
            }
        }
        for i in 0..bytes.len() {
            for v in [0u8, 1, 4, 0x7F, 0x80, 0xFF] {
                let mut m = bytes.clone();
                m[i] = v;
                let _ = RequestQuery::from_base64_bytes(&m);
            }
        }
    }

    #[test]
    fn random_input_never_panics() {
        // A fixed-seed LCG keeps this deterministic without a dependency.
        let mut seed: u64 = 0x5EED;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as u8
        };
        let alphabet = b"Cmd=&%2AUserDeviceIdTypeSync+/09azAZ?=%";
        for _ in 0..20_000 {
            let len = usize::from(next() % 48);
            let bytes: Vec<u8> = (0..len).map(|_| next()).collect();
            let _ = RequestQuery::from_base64_bytes(&bytes);
            let text: String = bytes
                .iter()
                .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
                .collect();
            let _ = RequestQuery::parse(&text);
            let _ = RequestQuery::parse_plain(&text);
            let _ = RequestQuery::parse_base64(&text);
        }
    }

    #[test]
    fn encode_errors() {
        let mut q = RequestQuery::new(Command::Find, "d", "t");
        assert_eq!(
            q.to_base64(),
            Err(QueryError::MissingField {
                field: "protocol version"
            })
        );
        q.protocol_version = Some(ProtocolVersion::V16_1);
        assert_eq!(
            q.to_base64(),
            Err(QueryError::NoCommandCode {
                command: Command::Find
            })
        );
        q.command = Command::Sync;
        assert_eq!(
            q.to_base64(),
            Err(QueryError::MissingField { field: "locale" })
        );
        q.locale = Some(0x0409);
        q.device_type = "x".repeat(256);
        assert_eq!(
            q.to_base64(),
            Err(QueryError::FieldTooLong {
                field: "DeviceType".into(),
                len: 256
            })
        );
        // Non-conforming but encodable values are written as given, so a
        // suite can send them on purpose.
        q.device_type = "t".into();
        q.device_id = String::new();
        let bytes = q.to_base64_bytes().unwrap();
        assert_eq!(
            RequestQuery::from_base64_bytes(&bytes),
            Err(QueryError::EmptyDeviceId { offset: 4 })
        );
        q.user = None;
        assert_eq!(q.to_plain(), "Cmd=Sync&DeviceId=&DeviceType=t");
    }

    #[test]
    fn percent_codec() {
        assert_eq!(percent_encode(b"a-b_c.d~e f/+@"), "a-b_c.d~e%20f%2F%2B%40");
        assert_eq!(percent_decode("a%20b%2f").unwrap(), b"a b/");
        assert_eq!(percent_decode("%"), Err(0));
        assert_eq!(percent_decode("ab%4"), Err(2));
        assert_eq!(percent_decode("%zz"), Err(0));
        for b in 0..=255u8 {
            assert_eq!(percent_decode(&percent_encode(&[b])).unwrap(), vec![b]);
        }
    }
}
