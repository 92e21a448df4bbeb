//! Every error path of the codec: the right kind, at the right place (byte
//! offset and element path for the decoder, line and column for the encoder).

use std::time::{Duration, Instant};

use eastest::wbxml::{
    DecodeError, DecodeErrorKind, DecodeOptions, EncodeError, EncodeErrorKind, EncodeOptions,
    ProtocolVersion, decode, encode,
};
use rstest::rstest;

use ProtocolVersion::{V14_1, V16_1};

const H: [u8; 4] = [0x03, 0x01, 0x6A, 0x00];

/// The canonical header followed by `body`.
fn doc(body: &[u8]) -> Vec<u8> {
    let mut v = H.to_vec();
    v.extend_from_slice(body);
    v
}

#[track_caller]
fn decode_err(input: &[u8]) -> DecodeError {
    decode_err_with(input, &DecodeOptions::strict(V14_1))
}

#[track_caller]
fn decode_err_with(input: &[u8], opts: &DecodeOptions) -> DecodeError {
    match decode(input, opts) {
        Ok(xml) => panic!("decoding {input:02X?} succeeded:\n{xml}"),
        Err(e) => e,
    }
}

#[track_caller]
fn encode_err(xml: &str) -> EncodeError {
    encode_err_with(xml, &EncodeOptions::strict(V14_1))
}

#[track_caller]
fn encode_err_with(xml: &str, opts: &EncodeOptions) -> EncodeError {
    match encode(xml, opts) {
        Ok(b) => panic!("encoding {xml:?} succeeded: {b:02X?}"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------
// Decoder: the header.
// ---------------------------------------------------------------------------

#[test]
fn empty_input() {
    let e = decode_err(&[]);
    assert_eq!((e.offset, e.kind), (0, DecodeErrorKind::Empty));
}

#[rstest]
#[case::declaration(b"<?xml version=\"1.0\"?><Sync xmlns=\"AirSync:\"/>".as_slice())]
#[case::element(b"<Sync xmlns=\"AirSync:\"/>".as_slice())]
#[case::leading_whitespace(b"\r\n  <Sync/>".as_slice())]
#[case::byte_order_mark(b"\xEF\xBB\xBF<Sync/>".as_slice())]
fn xml_fed_to_decode(#[case] input: &[u8]) {
    let e = decode_err(input);
    assert_eq!((e.offset, e.kind), (0, DecodeErrorKind::LooksLikeXml));
}

#[test]
fn unsupported_version_byte() {
    let e = decode_err(&[0x05, 0x01, 0x6A, 0x00, 0x45, 0x01]);
    assert_eq!((e.offset, e.kind), (0, DecodeErrorKind::Version(0x05)));
    let e = decode_err(&[0xFF, 0xFE, 0x3C, 0x00]);
    assert_eq!((e.offset, e.kind), (0, DecodeErrorKind::Version(0xFF)));
}

#[test]
fn charset_not_utf8() {
    // 4 is ISO-8859-1.
    let e = decode_err(&[0x03, 0x01, 0x04, 0x00, 0x45, 0x01]);
    assert_eq!((e.offset, e.kind), (2, DecodeErrorKind::Charset(4)));
    // 1015 (UTF-16) as a two-byte mb_u_int32: 0x87 0x77.
    let e = decode_err(&[0x03, 0x01, 0x87, 0x77, 0x00, 0x45, 0x01]);
    assert_eq!((e.offset, e.kind), (2, DecodeErrorKind::Charset(1015)));
    // After a two-byte public id, the charset is at offset 3.
    let e = decode_err(&[0x03, 0x81, 0x00, 0x03, 0x00, 0x45, 0x01]);
    assert_eq!((e.offset, e.kind), (3, DecodeErrorKind::Charset(3)));
}

#[test]
fn string_table() {
    let e = decode_err(&[0x03, 0x01, 0x6A, 0x02, b'a', 0x00, 0x45, 0x01]);
    assert_eq!((e.offset, e.kind), (3, DecodeErrorKind::StringTable(2)));
    // Public id 0 means "the public id is in the string table".
    let e = decode_err(&[0x03, 0x00, 0x00, 0x6A, 0x00, 0x45, 0x01]);
    assert_eq!(
        (e.offset, e.kind),
        (1, DecodeErrorKind::PublicIdInStringTable)
    );
}

#[test]
fn truncated_or_overlong_header() {
    let e = decode_err(&[0x03]);
    assert_eq!(
        (e.offset, e.kind),
        (1, DecodeErrorKind::TruncatedHeader("public id"))
    );
    let e = decode_err(&[0x03, 0x01]);
    assert_eq!(
        (e.offset, e.kind),
        (2, DecodeErrorKind::TruncatedHeader("charset"))
    );
    let e = decode_err(&[0x03, 0x01, 0x6A]);
    assert_eq!(
        (e.offset, e.kind),
        (3, DecodeErrorKind::TruncatedHeader("string table length"))
    );
    let e = decode_err(&[0x03, 0x01, 0xEA]);
    assert_eq!(
        (e.offset, e.kind),
        (2, DecodeErrorKind::TruncatedHeader("charset"))
    );
    let e = decode_err(&[0x03, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01, 0x6A, 0x00]);
    assert_eq!(
        (e.offset, e.kind),
        (1, DecodeErrorKind::HeaderOverflow("public id"))
    );
    let e = decode_err(&H);
    assert_eq!((e.offset, e.kind), (4, DecodeErrorKind::NoRoot));
}

// ---------------------------------------------------------------------------
// Decoder: the body.
// ---------------------------------------------------------------------------

/// Global tokens EAS does not use, inside Sync (so at offset 5).
#[rstest]
#[case::entity(0x02, "ENTITY")]
#[case::literal(0x04, "LITERAL")]
#[case::ext_i_0(0x40, "EXT_I_0")]
#[case::ext_i_1(0x41, "EXT_I_1")]
#[case::ext_i_2(0x42, "EXT_I_2")]
#[case::pi(0x43, "PI")]
#[case::literal_c(0x44, "LITERAL_C")]
#[case::ext_t_0(0x80, "EXT_T_0")]
#[case::ext_t_1(0x81, "EXT_T_1")]
#[case::ext_t_2(0x82, "EXT_T_2")]
#[case::str_t(0x83, "STR_T")]
#[case::literal_a(0x84, "LITERAL_A")]
#[case::ext_0(0xC0, "EXT_0")]
#[case::ext_1(0xC1, "EXT_1")]
#[case::ext_2(0xC2, "EXT_2")]
#[case::literal_ac(0xC4, "LITERAL_AC")]
fn unsupported_global_token(#[case] token: u8, #[case] name: &'static str) {
    let e = decode_err(&doc(&[0x45, token, 0x00, 0x01, 0x01]));
    assert_eq!(e.offset, 5);
    assert_eq!(e.path, "Sync");
    assert_eq!(e.kind, DecodeErrorKind::UnsupportedToken { token, name });
    // The same in lenient mode: EAS never uses them.
    let e = decode_err_with(
        &doc(&[0x45, token, 0x00, 0x01, 0x01]),
        &DecodeOptions::lenient(V14_1),
    );
    assert_eq!(e.kind, DecodeErrorKind::UnsupportedToken { token, name });
}

#[test]
fn attribute_bit() {
    // Sync with attributes (0x85), and with attributes and content (0xC5).
    for byte in [0x85, 0xC5] {
        let e = decode_err(&doc(&[byte, 0x01, 0x01]));
        assert_eq!(
            (e.offset, e.kind),
            (4, DecodeErrorKind::Attributes { byte })
        );
        let e = decode_err_with(&doc(&[byte, 0x01, 0x01]), &DecodeOptions::lenient(V14_1));
        assert_eq!(e.kind, DecodeErrorKind::Attributes { byte });
    }
    // Inside an element, after a page switch.
    let e = decode_err(&doc(&[0x45, 0x00, 0x01, 0xDF, 0x01, 0x01]));
    assert_eq!((e.offset, &e.path[..]), (7, "Sync"));
    assert_eq!(e.kind, DecodeErrorKind::Attributes { byte: 0xDF });
}

#[test]
fn unknown_token_in_strict_mode() {
    // Sync Collections, then AirSync 0x11 (unassigned) with content.
    let e = decode_err(&doc(&[
        0x45, 0x5C, 0x51, 0x03, b'a', 0x00, 0x01, 0x01, 0x01,
    ]));
    assert_eq!(e.offset, 6);
    assert_eq!(e.path, "Sync/Collections");
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownTag {
            page: 0,
            token: 0x11,
            namespace: "AirSync"
        }
    );
    assert_eq!(
        e.to_string(),
        "byte 6 (0x6) in Sync/Collections: unknown tag token 0x11 on code page 0 (AirSync)"
    );
    // An unassigned token on another page, as the root.
    let e = decode_err(&doc(&[0x00, 0x02, 0x45, 0x01]));
    assert_eq!(e.offset, 6);
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownTag {
            page: 2,
            token: 0x05,
            namespace: "Email"
        }
    );
}

#[rstest]
#[case::page_3_airnotify(3)]
#[case::page_26(26)]
#[case::page_255(255)]
fn unknown_page_in_strict_mode(#[case] page: u8) {
    // Before the root: the page byte is at offset 5.
    let e = decode_err(&doc(&[0x00, page, 0x45, 0x01]));
    assert_eq!(
        (e.offset, e.kind),
        (5, DecodeErrorKind::UnknownPage { page })
    );
    // Inside Sync.
    let e = decode_err(&doc(&[0x45, 0x00, page, 0x45, 0x01, 0x01]));
    assert_eq!((e.offset, &e.path[..]), (6, "Sync"));
    assert_eq!(e.kind, DecodeErrorKind::UnknownPage { page });
    // Lenient mode accepts the switch and keeps the tag.
    assert!(
        decode(
            &doc(&[0x45, 0x00, page, 0x45, 0x01, 0x01]),
            &DecodeOptions::lenient(V14_1)
        )
        .is_ok()
    );
}

#[test]
fn truncated_input() {
    // Sync Collections Collection, never closed.
    let input = doc(&[0x45, 0x5C, 0x4F]);
    let e = decode_err(&input);
    assert_eq!(e.offset, 7);
    assert_eq!(e.path, "Sync/Collections/Collection");
    assert_eq!(e.kind, DecodeErrorKind::Truncated { open: 3 });
    // Cut inside a string: that is an unterminated string.
    let e = decode_err(&doc(&[0x45, 0x4B, 0x03, b'1', b'2']));
    assert_eq!((e.offset, &e.path[..]), (6, "Sync/SyncKey"));
    assert_eq!(e.kind, DecodeErrorKind::UnterminatedString);
    // Cut after a SWITCH_PAGE.
    let e = decode_err(&doc(&[0x45, 0x00]));
    assert_eq!(
        (e.offset, e.kind),
        (5, DecodeErrorKind::TruncatedSwitchPage)
    );
    // Every proper prefix of a valid document fails, and never panics.
    let full = doc(&[
        0x00, 0x07, 0x56, 0x52, 0x03, b'0', 0x00, 0x01, 0x4E, 0x57, 0xC3, 0x02, 0xAA, 0xBB, 0x01,
        0x01, 0x01,
    ]);
    assert!(decode(&full, &DecodeOptions::strict(V14_1)).is_ok());
    for len in 0..full.len() {
        assert!(
            decode(&full[..len], &DecodeOptions::strict(V14_1)).is_err(),
            "prefix of {len} bytes"
        );
    }
}

#[test]
fn opaque_length_beyond_input() {
    // SyncKey's content is OPAQUE claiming 5 bytes; 2 remain.
    let e = decode_err(&doc(&[0x45, 0x4B, 0xC3, 0x05, b'A', b'B']));
    assert_eq!((e.offset, &e.path[..]), (7, "Sync/SyncKey"));
    assert_eq!(
        e.kind,
        DecodeErrorKind::OpaqueTooLong {
            len: 5,
            remaining: 2
        }
    );
    // Not the only content: after a string.
    let e = decode_err(&doc(&[
        0x45, 0x4B, 0x03, b'a', 0x00, 0xC3, 0x05, b'A', 0x01, 0x01,
    ]));
    assert_eq!(e.offset, 10);
    assert_eq!(
        e.kind,
        DecodeErrorKind::OpaqueTooLong {
            len: 5,
            remaining: 3
        }
    );
}

#[test]
fn opaque_length_of_4_gb() {
    // 8F FF FF FF 7F is 0xFFFFFFFF: must be refused before any allocation.
    let input = doc(&[0x45, 0x4B, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01, 0x01]);
    let e = decode_err(&input);
    assert_eq!(e.offset, 7);
    assert_eq!(
        e.kind,
        DecodeErrorKind::OpaqueTooLong {
            len: u32::MAX,
            remaining: 2
        }
    );
    // Above 2^32-1, more than five bytes, or cut short: not a valid length.
    for len in [
        &[0x9F, 0xFF, 0xFF, 0xFF, 0x7F][..],
        &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
        &[0x81],
    ] {
        let mut input = doc(&[0x45, 0x4B, 0xC3]);
        input.extend_from_slice(len);
        let e = decode_err(&input);
        assert_eq!(
            (e.offset, e.kind),
            (7, DecodeErrorKind::BadOpaqueLength),
            "{len:02X?}"
        );
    }
}

#[test]
fn trailing_bytes_after_root() {
    let e = decode_err(&doc(&[0x45, 0x01, 0x01]));
    assert_eq!((e.offset, e.kind), (6, DecodeErrorKind::TrailingBytes(1)));
    // After an empty root: a second root.
    let e = decode_err(&doc(&[0x05, 0x45, 0x01]));
    assert_eq!((e.offset, e.kind), (5, DecodeErrorKind::TrailingBytes(2)));
    // Even a SWITCH_PAGE is trailing.
    let e = decode_err(&doc(&[0x05, 0x00, 0x00]));
    assert_eq!((e.offset, e.kind), (5, DecodeErrorKind::TrailingBytes(2)));
}

#[test]
fn end_without_open_element() {
    let e = decode_err(&doc(&[0x01]));
    assert_eq!((e.offset, e.kind), (4, DecodeErrorKind::UnbalancedEnd));
}

#[test]
fn content_before_root() {
    let e = decode_err(&doc(&[0x03, b'a', 0x00, 0x45, 0x01]));
    assert_eq!(
        (e.offset, e.kind),
        (4, DecodeErrorKind::ContentOutsideRoot("an inline string"))
    );
    let e = decode_err(&doc(&[0xC3, 0x01, 0xAA, 0x45, 0x01]));
    assert_eq!(
        (e.offset, e.kind),
        (4, DecodeErrorKind::ContentOutsideRoot("opaque data"))
    );
    // A switch with nothing after it: no root.
    let e = decode_err(&doc(&[0x00, 0x01]));
    assert_eq!((e.offset, e.kind), (6, DecodeErrorKind::NoRoot));
}

#[test]
fn depth_beyond_max_depth() {
    let opts = DecodeOptions {
        max_depth: 3,
        ..DecodeOptions::strict(V14_1)
    };
    // Sync Collections Collection: depth 3 is fine.
    let ok = doc(&[0x45, 0x5C, 0x4F, 0x01, 0x01, 0x01]);
    assert!(decode(&ok, &opts).is_ok());
    // A fourth level (SyncKey, at offset 7) is refused.
    let deep = doc(&[0x45, 0x5C, 0x4F, 0x4B, 0x01, 0x01, 0x01, 0x01]);
    let e = decode_err_with(&deep, &opts);
    assert_eq!((e.offset, &e.path[..]), (7, "Sync/Collections/Collection"));
    assert_eq!(e.kind, DecodeErrorKind::TooDeep { max: 3 });
    // An empty tag does not nest, but is counted as it is opened.
    let empty_fourth = doc(&[0x45, 0x5C, 0x4F, 0x0B, 0x01, 0x01, 0x01]);
    assert_eq!(
        decode_err_with(&empty_fourth, &opts).kind,
        DecodeErrorKind::TooDeep { max: 3 }
    );
}

/// 100000 nested Sync elements: TooDeep at the default limit, quickly and
/// without recursion; with no limit, decoded without overflowing the stack.
#[test]
fn hundred_thousand_deep() {
    const N: usize = 100_000;
    let mut input = H.to_vec();
    input.resize(4 + N, 0x45);
    input.resize(4 + 2 * N, 0x01);

    let started = Instant::now();
    let max = DecodeOptions::default().max_depth;
    assert!(max < N);
    let e = decode_err(&input);
    assert_eq!(e.kind, DecodeErrorKind::TooDeep { max });
    assert_eq!(e.offset, 4 + max);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let unbounded = DecodeOptions {
        max_depth: usize::MAX,
        indent: false,
        ..DecodeOptions::strict(V14_1)
    };
    let started = Instant::now();
    let xml = decode(&input, &unbounded).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(xml.matches("<Sync>").count(), N - 1);

    // The encoder: TooDeep at its default limit, and no recursion without one.
    let started = Instant::now();
    let e = encode_err(&xml);
    let max = EncodeOptions::default().max_depth;
    assert_eq!(e.kind, EncodeErrorKind::TooDeep { max });
    assert!(started.elapsed() < Duration::from_secs(2));
    let unbounded = EncodeOptions {
        max_depth: usize::MAX,
        ..EncodeOptions::strict(V14_1)
    };
    assert_eq!(encode(&xml, &unbounded).unwrap(), input);
}

#[test]
fn invalid_utf8_in_strict_mode() {
    // "a" FF "b": the bad byte is at offset 8.
    let e = decode_err(&doc(&[
        0x45, 0x4B, 0x03, b'a', 0xFF, b'b', 0x00, 0x01, 0x01,
    ]));
    assert_eq!((e.offset, &e.path[..]), (8, "Sync/SyncKey"));
    assert_eq!(e.kind, DecodeErrorKind::InvalidUtf8);
    // A sequence cut short by the terminator: E2 82 then NUL.
    let e = decode_err(&doc(&[
        0x45, 0x4B, 0x03, b'x', b'y', 0xE2, 0x82, 0x00, 0x01, 0x01,
    ]));
    assert_eq!((e.offset, e.kind), (9, DecodeErrorKind::InvalidUtf8));
    // An encoded surrogate (ED A0 80) is not UTF-8 either.
    let e = decode_err(&doc(&[
        0x45, 0x4B, 0x03, 0xED, 0xA0, 0x80, 0x00, 0x01, 0x01,
    ]));
    assert_eq!((e.offset, e.kind), (7, DecodeErrorKind::InvalidUtf8));
}

#[test]
fn display_names_offset_and_path() {
    let e = decode_err(&doc(&[0x45, 0x5C, 0x4F]));
    assert_eq!(
        e.to_string(),
        "byte 7 (0x7) in Sync/Collections/Collection: input ends with 3 element(s) still open"
    );
}

// ---------------------------------------------------------------------------
// Encoder.
// ---------------------------------------------------------------------------

#[rstest]
#[case::airsync("<Sync><Collections/></Sync>", "Sync", "AirSync:")]
#[case::contacts("<FirstName>Ann</FirstName>", "FirstName", "Contacts:")]
#[case::ping("<Ping/>", "Ping", "Ping:")]
#[case::settings("<DeviceInformation/>", "DeviceInformation", "Settings:")]
#[case::find("<GalSearchCriterion/>", "GalSearchCriterion", "Find:")]
fn element_without_namespace(#[case] xml: &str, #[case] name: &str, #[case] hint: &str) {
    let e = encode_err(xml);
    assert_eq!((e.line, e.column, e.offset), (1, 1, 0));
    assert_eq!(
        e.kind,
        EncodeErrorKind::NoNamespace {
            name: name.into(),
            hint: hint.into()
        }
    );
    assert!(e.to_string().contains(&format!("xmlns=\"{hint}\"")), "{e}");
}

#[test]
fn child_without_namespace() {
    // The root is prefixed, so the unprefixed child has no namespace.
    let xml = "<a:Sync xmlns:a=\"AirSync:\">\n  <Collections/>\n</a:Sync>";
    let e = encode_err(xml);
    assert_eq!((e.line, e.column), (2, 3));
    assert_eq!(
        e.kind,
        EncodeErrorKind::NoNamespace {
            name: "Collections".into(),
            hint: "AirSync:".into()
        }
    );
    // xmlns="" takes the default namespace away.
    let e = encode_err(r#"<Sync xmlns="AirSync:"><Collections xmlns=""/></Sync>"#);
    assert!(matches!(e.kind, EncodeErrorKind::NoNamespace { .. }), "{e}");
}

#[test]
fn unknown_element_suggests_a_name() {
    let e = encode_err(r#"<Sync xmlns="AirSync:" xmlns:c="Contacts:"><c:Firstname/></Sync>"#);
    assert_eq!(e.column, 44);
    match &e.kind {
        EncodeErrorKind::UnknownTag {
            namespace,
            name,
            hint,
        } => {
            assert_eq!((*namespace, &name[..]), ("Contacts", "Firstname"));
            assert!(hint.contains("did you mean `FirstName`"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("FirstName"), "{e}");
}

#[test]
fn element_on_the_wrong_page() {
    let e = encode_err(r#"<Sync xmlns="AirSync:"><FirstName>Ann</FirstName></Sync>"#);
    assert_eq!(e.column, 24);
    match &e.kind {
        EncodeErrorKind::UnknownTag {
            namespace,
            name,
            hint,
        } => {
            assert_eq!((*namespace, &name[..]), ("AirSync", "FirstName"));
            assert!(hint.contains("`FirstName` is in Contacts:"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("AirSync") && msg.contains("Contacts:"),
        "{msg}"
    );
}

#[test]
fn namespace_that_is_not_a_code_page() {
    let e = encode_err(r#"<Sync xmlns="urn:example"/>"#);
    match &e.kind {
        EncodeErrorKind::UnknownNamespace { uri, hint } => {
            assert_eq!(uri, "urn:example");
            assert!(hint.contains("AirSync:"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    // Page 3 has no tags, so AirNotify is not a usable namespace.
    let e = encode_err(r#"<Sync xmlns="AirNotify:"/>"#);
    assert!(
        matches!(e.kind, EncodeErrorKind::UnknownNamespace { .. }),
        "{e}"
    );
    let e = encode_err(r#"<x:Sync/>"#);
    assert_eq!(e.kind, EncodeErrorKind::UndeclaredPrefix("x".into()));
}

#[test]
fn tag_newer_than_the_version() {
    let xml = r#"<Find xmlns="Find:"><SearchId>1</SearchId></Find>"#;
    let e = encode_err(xml);
    assert!(
        matches!(
            e.kind,
            EncodeErrorKind::NotInVersion {
                namespace: "Find",
                name: "Find",
                version: V14_1,
                ..
            }
        ),
        "{e}"
    );
    assert!(encode(xml, &EncodeOptions::strict(V16_1)).is_ok());
    // Inside a document valid for 14.1: Email2:IsDraft is 16.0+.
    let xml = "<Sync xmlns=\"AirSync:\" xmlns:Email2=\"Email2:\">\n<ApplicationData>\n<Email2:IsDraft>1</Email2:IsDraft>\n</ApplicationData>\n</Sync>";
    let e = encode_err(xml);
    assert_eq!((e.line, e.column), (3, 1));
    assert!(
        matches!(
            e.kind,
            EncodeErrorKind::NotInVersion {
                namespace: "Email2",
                name: "IsDraft",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn unknown_tag_element_in_strict_mode() {
    let xml = r#"<Sync xmlns="AirSync:" xmlns:wbxml="urn:eastest:wbxml"><wbxml:unknown page="0" token="0x11"/></Sync>"#;
    let e = encode_err(xml);
    assert_eq!(e.column, 56);
    assert_eq!(e.kind, EncodeErrorKind::UnknownTagStrict);
    assert_eq!(
        encode(xml, &EncodeOptions::lenient(V14_1)).unwrap(),
        [0x03, 0x01, 0x6A, 0x00, 0x45, 0x11, 0x01]
    );
}

#[rstest]
#[case::no_page(r#"<wbxml:unknown token="0x11"/>"#)]
#[case::no_token(r#"<wbxml:unknown page="0"/>"#)]
#[case::page_not_a_number(r#"<wbxml:unknown page="x" token="0x11"/>"#)]
#[case::page_too_big(r#"<wbxml:unknown page="256" token="0x11"/>"#)]
#[case::token_global(r#"<wbxml:unknown page="0" token="0x04"/>"#)]
#[case::token_too_big(r#"<wbxml:unknown page="0" token="0x40"/>"#)]
#[case::token_not_hex(r#"<wbxml:unknown page="0" token="zz"/>"#)]
fn malformed_unknown_tag_element(#[case] element: &str) {
    let xml = format!(r#"<Sync xmlns="AirSync:" xmlns:wbxml="urn:eastest:wbxml">{element}</Sync>"#);
    let e = encode_err_with(&xml, &EncodeOptions::lenient(V14_1));
    assert!(matches!(e.kind, EncodeErrorKind::BadUnknownTag(_)), "{e}");
    assert_eq!(e.column, 56);
}

#[test]
fn other_element_of_eastest_namespace() {
    let xml = r#"<Sync xmlns="AirSync:" xmlns:wbxml="urn:eastest:wbxml"><wbxml:tag/></Sync>"#;
    let e = encode_err_with(xml, &EncodeOptions::lenient(V14_1));
    assert!(matches!(e.kind, EncodeErrorKind::BadUnknownTag(_)), "{e}");
}

#[test]
fn bad_base64_in_opaque() {
    let xml =
        r#"<SendMail xmlns="ComposeMail:"><Mime opaque="base64">not base64!</Mime></SendMail>"#;
    let e = encode_err(xml);
    assert!(matches!(e.kind, EncodeErrorKind::Base64(_)), "{e}");
    let e = encode_err(r#"<Sync xmlns="AirSync:"><SyncKey><?wbxml opaque %%%?></SyncKey></Sync>"#);
    assert!(matches!(e.kind, EncodeErrorKind::BadInstruction(..)), "{e}");
    let e =
        encode_err(r#"<Sync xmlns="AirSync:"><SyncKey><?wbxml str-bytes ***?></SyncKey></Sync>"#);
    assert!(matches!(e.kind, EncodeErrorKind::BadInstruction(..)), "{e}");
}

#[test]
fn opaque_attribute_misuse() {
    let e = encode_err(r#"<Sync xmlns="AirSync:"><SyncKey opaque="hex">00</SyncKey></Sync>"#);
    assert_eq!(e.kind, EncodeErrorKind::OpaqueEncoding("hex".into()));
    let e = encode_err(
        r#"<Sync xmlns="AirSync:"><Collections opaque="base64"><Collection/></Collections></Sync>"#,
    );
    assert_eq!(e.kind, EncodeErrorKind::OpaqueContent("child elements"));
    assert_eq!(e.column, 53);
    let e = encode_err(
        r#"<Sync xmlns="AirSync:"><SyncKey opaque="base64"><?wbxml str-end?></SyncKey></Sync>"#,
    );
    assert_eq!(e.kind, EncodeErrorKind::OpaqueContent("instructions"));
}

#[test]
fn nul_character() {
    let e = encode_err(r#"<Sync xmlns="AirSync:"><SyncKey>a&#0;b</SyncKey></Sync>"#);
    assert_eq!(e.kind, EncodeErrorKind::NulInText);
    let e = encode_err(r#"<Sync xmlns="AirSync:"><SyncKey>&#x0;</SyncKey></Sync>"#);
    assert_eq!(e.kind, EncodeErrorKind::NulInText);
    let e = encode_err("<Sync xmlns=\"AirSync:\"><SyncKey>a\u{0}b</SyncKey></Sync>");
    assert_eq!(e.kind, EncodeErrorKind::NulInText);
    // str-bytes cannot carry a NUL either: AGE= is 00 61.
    let e = encode_err_with(
        r#"<Sync xmlns="AirSync:"><SyncKey><?wbxml str-bytes AGE=?></SyncKey></Sync>"#,
        &EncodeOptions::lenient(V14_1),
    );
    assert_eq!(e.kind, EncodeErrorKind::NulInText);
}

#[test]
fn unknown_attribute() {
    let e = encode_err(r#"<Sync xmlns="AirSync:"><Collections id="1"/></Sync>"#);
    assert_eq!(e.kind, EncodeErrorKind::UnexpectedAttribute("id".into()));
    assert_eq!(e.column, 24);
    // page/token belong to wbxml:unknown only.
    let e = encode_err(r#"<Sync xmlns="AirSync:" page="0"/>"#);
    assert_eq!(e.kind, EncodeErrorKind::UnexpectedAttribute("page".into()));
}

#[test]
fn unknown_instructions() {
    let e = encode_err("<?foo bar?>\n<Sync xmlns=\"AirSync:\"/>");
    assert!(
        matches!(&e.kind, EncodeErrorKind::UnknownInstruction(s)
            if s.split_whitespace().collect::<Vec<_>>() == ["foo", "bar"]),
        "{e:?}"
    );
    assert_eq!((e.line, e.column), (1, 1));
    let e = encode_err("<Sync xmlns=\"AirSync:\">\n  <?foo?>\n</Sync>");
    assert_eq!(e.kind, EncodeErrorKind::UnknownInstruction("foo".into()));
    assert_eq!((e.line, e.column), (2, 3));
    for bad in [
        "<?wbxml frobnicate?><Sync xmlns=\"AirSync:\"/>",
        "<?wbxml header ZZ?><Sync xmlns=\"AirSync:\"/>",
        "<?wbxml header 03016A?><Sync xmlns=\"AirSync:\"/>",
        "<?wbxml header 03016A0200?><Sync xmlns=\"AirSync:\"/>",
        "<?wbxml header 03016A00FF?><Sync xmlns=\"AirSync:\"/>",
        "<?wbxml switch-page 256?><Sync xmlns=\"AirSync:\"/>",
        "<Sync xmlns=\"AirSync:\"><?wbxml header 03016A00?></Sync>",
        "<Sync xmlns=\"AirSync:\"/><?wbxml switch-page 0?>",
    ] {
        let e = encode_err(bad);
        assert!(
            matches!(e.kind, EncodeErrorKind::BadInstruction(..)),
            "{bad}: {e}"
        );
    }
    let e = encode_err("<?wbxml str-end?><Sync xmlns=\"AirSync:\"/>");
    assert_eq!(e.kind, EncodeErrorKind::TextOutsideRoot);
}

#[test]
fn document_structure() {
    assert_eq!(encode_err("").kind, EncodeErrorKind::NoRoot);
    assert_eq!(
        encode_err("<?xml version=\"1.0\"?>\n<!-- nothing -->\n").kind,
        EncodeErrorKind::NoRoot
    );
    let e = encode_err("<Sync xmlns=\"AirSync:\"/>\n<Ping xmlns=\"Ping:\"/>");
    assert_eq!(e.kind, EncodeErrorKind::SecondRoot("Ping".into()));
    assert_eq!((e.line, e.column), (2, 1));
    let e = encode_err("hello<Sync xmlns=\"AirSync:\"/>");
    assert_eq!(e.kind, EncodeErrorKind::TextOutsideRoot);
    let e = encode_err("<Sync xmlns=\"AirSync:\"/>&#32;");
    assert_eq!(e.kind, EncodeErrorKind::TextOutsideRoot);
    let e = encode_err(r#"<Sync xmlns="AirSync:"><SyncKey>&nbsp;</SyncKey></Sync>"#);
    assert_eq!(e.kind, EncodeErrorKind::UnknownEntity("nbsp".into()));
    for bad in [
        r#"<Sync xmlns="AirSync:"></Ping>"#,
        r#"<Sync xmlns="AirSync:"><SyncKey></Sync>"#,
        r#"<Sync xmlns="AirSync:" xmlns="AirSync:"/>"#,
        r#"<Sync xmlns="AirSync:"><SyncKey>a & b</SyncKey></Sync>"#,
    ] {
        let e = encode_err(bad);
        assert!(matches!(e.kind, EncodeErrorKind::Syntax(_)), "{bad}: {e:?}");
    }
}

#[test]
fn unclosed_elements() {
    for xml in [
        r#"<Sync xmlns="AirSync:">"#,
        r#"<Sync xmlns="AirSync:"><Collections>"#,
        "<Sync xmlns=\"AirSync:\"><SyncKey>1</SyncKey>\n",
    ] {
        let e = encode_err(xml);
        assert!(matches!(e.kind, EncodeErrorKind::Syntax(_)), "{xml}: {e:?}");
        assert_eq!(e.offset, xml.len(), "{xml}");
    }
}

#[test]
fn unknown_instruction_text() {
    let e = encode_err("<?foo bar?>\n<Sync xmlns=\"AirSync:\"/>");
    assert_eq!(
        e.kind,
        EncodeErrorKind::UnknownInstruction("foo bar".into())
    );
}

#[test]
fn encoder_depth_limit() {
    let opts = EncodeOptions {
        max_depth: 2,
        ..EncodeOptions::strict(V14_1)
    };
    assert!(encode(r#"<Sync xmlns="AirSync:"><Collections/></Sync>"#, &opts).is_ok());
    let e = encode_err_with(
        r#"<Sync xmlns="AirSync:"><Collections><Collection/></Collections></Sync>"#,
        &opts,
    );
    assert_eq!(e.kind, EncodeErrorKind::TooDeep { max: 2 });
    assert_eq!(e.column, 37);
}

/// Line and column of an error on line 3, counted in characters.
#[test]
fn line_and_column() {
    let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
               <Sync xmlns=\"AirSync:\">\n  \
               <Collections><Bogus/></Collections>\n\
               </Sync>\n";
    let e = encode_err(xml);
    assert_eq!((e.line, e.column), (3, 16));
    assert_eq!(e.offset, xml.find("<Bogus").unwrap());
    assert!(
        matches!(&e.kind, EncodeErrorKind::UnknownTag { namespace: "AirSync", name, .. } if name == "Bogus"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("line 3, column 16: "), "{e}");
    // Columns count characters, not bytes: "é" and "📅" are one column each.
    let xml = "<Sync xmlns=\"AirSync:\">\n<Collections>\n\t<SyncKey>é📅</SyncKey><Bogus/>\n</Collections>\n</Sync>";
    let e = encode_err(xml);
    assert_eq!((e.line, e.column), (3, 23));
    assert_eq!(e.offset, xml.find("<Bogus").unwrap());
    // Errors inside text point at the reference; a bad opaque at its end tag.
    let e = encode_err("<Sync xmlns=\"AirSync:\">\n  <SyncKey>x&nbsp;</SyncKey></Sync>");
    assert_eq!((e.line, e.column), (2, 13));
    assert_eq!(e.kind, EncodeErrorKind::UnknownEntity("nbsp".into()));
    let e = encode_err("<Sync xmlns=\"AirSync:\">\n  <SyncKey>ab&#0;</SyncKey></Sync>");
    assert_eq!((e.line, e.column), (2, 14));
    assert_eq!(e.kind, EncodeErrorKind::NulInText);
    let e = encode_err(
        "<SendMail xmlns=\"ComposeMail:\">\n  <Mime opaque=\"base64\">!!</Mime></SendMail>",
    );
    assert_eq!((e.line, e.column), (2, 27));
    assert!(matches!(e.kind, EncodeErrorKind::Base64(_)), "{e}");
    // CRLF line ends count as one line each.
    let xml =
        "<Sync xmlns=\"AirSync:\">\r\n<Collections>\r\n  <Bogus/>\r\n</Collections>\r\n</Sync>";
    let e = encode_err(xml);
    assert_eq!((e.line, e.column), (3, 3));
}
