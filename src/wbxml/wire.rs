//! WBXML 1.3 wire-level pieces shared by the decoder and the encoder: global
//! tokens, `mb_u_int32`, and the document header.

/// Global tokens of WBXML 1.3 (section 7.1). EAS uses SWITCH_PAGE, END, STR_I and OPAQUE.
pub(crate) const SWITCH_PAGE: u8 = 0x00;
pub(crate) const END: u8 = 0x01;
pub(crate) const STR_I: u8 = 0x03;
pub(crate) const OPAQUE: u8 = 0xC3;

/// The tag-byte bit saying the element has content (and so an END).
pub(crate) const CONTENT_BIT: u8 = 0x40;
/// The tag-byte bit saying the element has attributes (never used by EAS).
pub(crate) const ATTRIBUTE_BIT: u8 = 0x80;

/// The header eastest writes: WBXML 1.3, public id 1 (unknown), UTF-8, no string table.
pub(crate) const CANONICAL_HEADER: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];

/// The IANA MIBenum of UTF-8.
pub(crate) const UTF8_MIBENUM: u32 = 106;

/// Whether `b` is a global token rather than a tag.
#[inline]
pub(crate) fn is_global(b: u8) -> bool {
    (b & 0x3F) <= 0x04
}

/// The WBXML name of a global token, for error messages.
pub(crate) fn global_name(b: u8) -> &'static str {
    match b {
        0x00 => "SWITCH_PAGE",
        0x01 => "END",
        0x02 => "ENTITY",
        0x03 => "STR_I",
        0x04 => "LITERAL",
        0x40 => "EXT_I_0",
        0x41 => "EXT_I_1",
        0x42 => "EXT_I_2",
        0x43 => "PI",
        0x44 => "LITERAL_C",
        0x80 => "EXT_T_0",
        0x81 => "EXT_T_1",
        0x82 => "EXT_T_2",
        0x83 => "STR_T",
        0x84 => "LITERAL_A",
        0xC0 => "EXT_0",
        0xC1 => "EXT_1",
        0xC2 => "EXT_2",
        0xC3 => "OPAQUE",
        0xC4 => "LITERAL_AC",
        _ => "tag",
    }
}

/// Why an `mb_u_int32` could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MbIntError {
    /// The input ended inside the integer.
    Truncated,
    /// More than five bytes, or a value above `u32::MAX`.
    Overflow,
}

/// Reads an `mb_u_int32` at `*pos`, advancing it.
#[inline]
pub(crate) fn read_mb_u32(input: &[u8], pos: &mut usize) -> Result<u32, MbIntError> {
    let mut value: u64 = 0;
    for i in 0..5 {
        let Some(&b) = input.get(*pos + i) else {
            return Err(MbIntError::Truncated);
        };
        value = (value << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            *pos += i + 1;
            return u32::try_from(value).map_err(|_| MbIntError::Overflow);
        }
    }
    Err(MbIntError::Overflow)
}

/// Appends `value` as a minimal `mb_u_int32`.
#[inline]
pub(crate) fn write_mb_u32(out: &mut Vec<u8>, value: u32) {
    if value < 0x80 {
        out.push(value as u8);
        return;
    }
    let mut buf = [0u8; 5];
    let mut i = 5;
    let mut v = value;
    loop {
        i -= 1;
        buf[i] = (v & 0x7F) as u8 | if i == 4 { 0 } else { 0x80 };
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// A parsed WBXML document header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Bytes the header occupies.
    pub len: usize,
}

/// Why a header is not one EAS can use. `offset` is where the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderError {
    Empty,
    LooksLikeXml,
    Version(u8),
    Truncated(&'static str),
    Overflow(&'static str),
    PublicIdInStringTable,
    Charset(u32),
    StringTable(u32),
}

/// Parses the header: version, public id, charset, string table length.
///
/// Accepts WBXML 1.0 to 1.3 and any public id; requires UTF-8 and an empty
/// string table, because EAS uses neither other charsets nor string tables
/// (MS-ASWBXML R655/R656).
pub(crate) fn parse_header(input: &[u8]) -> Result<Header, (usize, HeaderError)> {
    let Some(&version) = input.first() else {
        return Err((0, HeaderError::Empty));
    };
    if version > 0x03 {
        let looks_xml = input
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'<')
            || input.starts_with(b"\xEF\xBB\xBF<");
        return Err((
            0,
            if looks_xml {
                HeaderError::LooksLikeXml
            } else {
                HeaderError::Version(version)
            },
        ));
    }
    let mut pos = 1;
    let field = |pos: &mut usize, what: &'static str| {
        let at = *pos;
        read_mb_u32(input, pos).map_err(|e| {
            (
                at,
                match e {
                    MbIntError::Truncated => HeaderError::Truncated(what),
                    MbIntError::Overflow => HeaderError::Overflow(what),
                },
            )
        })
    };
    let public_id = field(&mut pos, "public id")?;
    if public_id == 0 {
        return Err((1, HeaderError::PublicIdInStringTable));
    }
    let charset_at = pos;
    let charset = field(&mut pos, "charset")?;
    if charset != UTF8_MIBENUM {
        return Err((charset_at, HeaderError::Charset(charset)));
    }
    let strtbl_at = pos;
    let strtbl = field(&mut pos, "string table length")?;
    if strtbl != 0 {
        return Err((strtbl_at, HeaderError::StringTable(strtbl)));
    }
    Ok(Header { len: pos })
}

/// One token of a WBXML body, as [`Tokens`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// SWITCH_PAGE and its page byte.
    SwitchPage(u8),
    End,
    /// An inline string's bytes, without the terminating 0x00.
    Str(&'a [u8]),
    /// OPAQUE data (its length checked against the input).
    Opaque(&'a [u8]),
    /// A tag byte (token with the content and attribute bits).
    Tag(u8),
    /// Another global token (ENTITY, PI, LITERAL, EXT...), which EAS never
    /// uses; the walk goes on at the next byte.
    Other(u8),
    /// The body cannot be read further; the walk ends here.
    Broken(Broken),
}

/// Why [`Tokens`] stopped part-way through a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Broken {
    TruncatedSwitchPage,
    UnterminatedString,
    BadOpaqueLength,
    OpaqueTooLong { len: u32, remaining: usize },
}

/// A light walk over the tokens of a body: `(offset, token)` pairs. It checks
/// every length against the input but nothing else (no nesting, no tags).
pub(crate) struct Tokens<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Tokens<'a> {
    /// Walks `input` from `start` (the end of the header).
    pub(crate) fn new(input: &'a [u8], start: usize) -> Self {
        Tokens { input, pos: start }
    }

    /// The offset of the next token: after a token, where it ends.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, Token<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let input = self.input;
        let at = self.pos;
        let &b = input.get(at)?;
        let (token, next) = match b {
            SWITCH_PAGE => match input.get(at + 1) {
                Some(&page) => (Token::SwitchPage(page), at + 2),
                None => (Token::Broken(Broken::TruncatedSwitchPage), input.len()),
            },
            END => (Token::End, at + 1),
            STR_I => match memchr::memchr(0, &input[at + 1..]) {
                Some(n) => (Token::Str(&input[at + 1..at + 1 + n]), at + n + 2),
                None => (Token::Broken(Broken::UnterminatedString), input.len()),
            },
            OPAQUE => {
                let mut p = at + 1;
                match read_mb_u32(input, &mut p) {
                    Err(_) => (Token::Broken(Broken::BadOpaqueLength), input.len()),
                    Ok(len) => {
                        let remaining = input.len() - p;
                        if len as usize <= remaining {
                            let end = p + len as usize;
                            (Token::Opaque(&input[p..end]), end)
                        } else {
                            (
                                Token::Broken(Broken::OpaqueTooLong { len, remaining }),
                                input.len(),
                            )
                        }
                    }
                }
            }
            _ if is_global(b) => (Token::Other(b), at + 1),
            _ => (Token::Tag(b), at + 1),
        };
        self.pos = next;
        Some((at, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mb_u32_round_trip() {
        for v in [0u32, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 106, 0xA0, u32::MAX] {
            let mut out = Vec::new();
            write_mb_u32(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_mb_u32(&out, &mut pos), Ok(v));
            assert_eq!(pos, out.len());
        }
        // WBXML 1.3 5.1 example: 0xA0 is 81 20.
        let mut out = Vec::new();
        write_mb_u32(&mut out, 0xA0);
        assert_eq!(out, [0x81, 0x20]);
        let mut pos = 0;
        assert_eq!(read_mb_u32(&[0x81], &mut pos), Err(MbIntError::Truncated));
        assert_eq!(read_mb_u32(&[0xFF; 6], &mut pos), Err(MbIntError::Overflow));
        assert_eq!(
            read_mb_u32(&[0x9F, 0xFF, 0xFF, 0xFF, 0x7F], &mut pos),
            Err(MbIntError::Overflow)
        );
    }

    #[test]
    fn headers() {
        assert_eq!(parse_header(&CANONICAL_HEADER).unwrap().len, 4);
        assert_eq!(parse_header(b"").unwrap_err().1, HeaderError::Empty);
        assert_eq!(
            parse_header(b"<Sync/>").unwrap_err().1,
            HeaderError::LooksLikeXml
        );
        assert_eq!(
            parse_header(&[0x03, 0x01, 0x04, 0x00]).unwrap_err(),
            (2, HeaderError::Charset(4))
        );
        assert_eq!(
            parse_header(&[0x03, 0x01, 0x6A, 0x02]).unwrap_err(),
            (3, HeaderError::StringTable(2))
        );
        assert_eq!(
            parse_header(&[0x03, 0x00, 0x00]).unwrap_err().1,
            HeaderError::PublicIdInStringTable
        );
        assert_eq!(
            parse_header(&[0x03, 0x01]).unwrap_err().1,
            HeaderError::Truncated("charset")
        );
    }

    #[test]
    fn tokens() {
        let body = [
            0x00, 0x07, 0x56, 0x03, 0x30, 0x00, 0xC3, 0x02, 0xAA, 0xBB, 0x01, 0x02, 0x01,
        ];
        let got: Vec<_> = Tokens::new(&body, 0).collect();
        assert_eq!(
            got,
            [
                (0, Token::SwitchPage(7)),
                (2, Token::Tag(0x56)),
                (3, Token::Str(b"0")),
                (6, Token::Opaque(&[0xAA, 0xBB])),
                (10, Token::End),
                (11, Token::Other(0x02)),
                (12, Token::End),
            ]
        );
        fn broken(b: &[u8]) -> (usize, Token<'_>) {
            Tokens::new(b, 0).last().unwrap()
        }
        assert_eq!(
            broken(&[0x00]),
            (0, Token::Broken(Broken::TruncatedSwitchPage))
        );
        assert_eq!(
            broken(&[0x03, 0x30]),
            (0, Token::Broken(Broken::UnterminatedString))
        );
        assert_eq!(
            broken(&[0xC3, 0x80]),
            (0, Token::Broken(Broken::BadOpaqueLength))
        );
        assert_eq!(
            broken(&[0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01]),
            (
                0,
                Token::Broken(Broken::OpaqueTooLong {
                    len: u32::MAX,
                    remaining: 1
                })
            )
        );
    }
}
