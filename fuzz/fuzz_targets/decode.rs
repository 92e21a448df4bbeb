//! Arbitrary bytes -> `wbxml::decode`, strict and lenient, several versions.
//!
//! Never panics, and whatever decodes re-encodes exactly:
//!
//! - strict decoding that succeeds gives the same XML as lenient decoding;
//! - lenient decoding is the same for every version;
//! - when lenient decoding succeeds, `encode` of its XML (indented and
//!   compact, lenient, any version; strict for each version whose strict
//!   decoding succeeded) succeeds and gives back the input byte for byte,
//!   except for the one documented lossy case: an OPAQUE length written with
//!   needless leading 0x80 bytes. That case is detected exactly by walking the
//!   token stream; the expected bytes are then the input with those lengths
//!   in minimal form, and decode(encode(xml)) == xml (a fixpoint) is checked;
//! - the XML stays within the documented size bound (about 100 bytes per
//!   byte of WBXML);
//! - a small `max_depth` fails in decode exactly when it fails in encode, and
//!   only with `TooDeep`.

#![no_main]

use eastest::wbxml::{
    decode_to_writer,
    DecodeErrorKind, DecodeOptions, EncodeErrorKind, EncodeOptions, ProtocolVersion, decode, encode,
};
use libfuzzer_sys::fuzz_target;

/// Versions tried in strict mode: the oldest, the ones most servers speak, the newest.
const STRICT_VERSIONS: [ProtocolVersion; 4] = [
    ProtocolVersion::V2_5,
    ProtocolVersion::V12_1,
    ProtocolVersion::V14_1,
    ProtocolVersion::V16_1,
];

/// Versions used for lenient decoding and encoding (lenient ignores versions).
const LENIENT_VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V2_5, ProtocolVersion::V16_1];

/// The small depth limit that decode and encode must agree on.
const SMALL_DEPTH: usize = 3;

/// Compares byte strings, printing them in hex only on failure.
macro_rules! assert_bytes {
    ($got:expr, $want:expr, $($msg:tt)+) => {{
        let (got, want): (&[u8], &[u8]) = (&$got[..], &$want[..]);
        if got != want {
            panic!(
                "{}\n  got:  {}\n  want: {}",
                format_args!($($msg)+),
                hex(got),
                hex(want)
            );
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    // Strict: never panics; remember which versions accept the document.
    let mut strict_ok: Vec<(ProtocolVersion, String)> = Vec::new();
    for v in STRICT_VERSIONS {
        if let Ok(xml) = decode(data, &DecodeOptions::strict(v)) {
            strict_ok.push((v, xml));
        }
    }

    let lenient = decode(data, &DecodeOptions::lenient(ProtocolVersion::V16_1));
    let lenient_old = decode(data, &DecodeOptions::lenient(ProtocolVersion::V2_5));
    assert_eq!(
        lenient, lenient_old,
        "lenient decoding depends on the protocol version"
    );

    // Streaming gives the same XML, or fails too.
    let mut streamed = Vec::new();
    let streaming = decode_to_writer(
        data,
        &DecodeOptions::lenient(ProtocolVersion::V16_1),
        &mut streamed,
    );
    match &lenient {
        Ok(xml) => {
            assert!(streaming.is_ok(), "streaming failed where decode succeeded");
            assert_eq!(streamed, xml.as_bytes(), "streaming wrote other XML");
        }
        Err(_) => assert!(streaming.is_err(), "streaming succeeded where decode failed"),
    }

    let xml = match lenient {
        Ok(xml) => xml,
        Err(e) => {
            assert!(
                strict_ok.is_empty(),
                "strict decoding succeeded where lenient failed ({e})"
            );
            // Compact decoding fails as well (it differs only in whitespace).
            let compact = decode(
                data,
                &DecodeOptions {
                    indent: false,
                    ..DecodeOptions::lenient(ProtocolVersion::V16_1)
                },
            );
            assert_eq!(compact.err(), Some(e), "compact decoding fails differently");
            return;
        }
    };
    // Documented bound (src/wbxml/mod.rs, Limits): at most about 100 bytes of
    // XML per byte of WBXML, plus the XML declaration, the header instruction
    // and the namespace declarations on the root.
    assert!(
        xml.len() <= 100 * data.len() + 4096,
        "decoded XML is {} bytes for {} bytes of WBXML",
        xml.len(),
        data.len()
    );
    for (v, strict_xml) in &strict_ok {
        assert_eq!(
            strict_xml, &xml,
            "strict decoding ({v}) differs from lenient decoding"
        );
    }

    let compact = decode(
        data,
        &DecodeOptions {
            indent: false,
            ..DecodeOptions::lenient(ProtocolVersion::V16_1)
        },
    )
    .expect("compact decoding fails where indented decoding succeeds");

    let (expected, lossy) = canonical_opaque_lengths(data);
    assert_eq!(lossy, expected != data, "canonical_opaque_lengths is wrong");

    // Round trip: lenient encoding of the indented and of the compact XML.
    for (form, text) in [("indented", &xml), ("compact", &compact)] {
        for v in LENIENT_VERSIONS {
            let bytes = match encode(text, &EncodeOptions::lenient(v)) {
                Ok(b) => b,
                Err(e) => panic!(
                    "lenient encode ({v}) of the {form} decoded XML failed: {e}\n--- xml ---\n{text}"
                ),
            };
            if lossy {
                assert_bytes!(
                    &bytes,
                    &expected,
                    "{form} XML ({v}) does not re-encode to the input with minimal OPAQUE lengths\n--- xml ---\n{text}"
                );
                // The documented lossy case: the XML is a fixpoint.
                let again = decode(&bytes, &DecodeOptions::lenient(ProtocolVersion::V16_1))
                    .expect("re-encoded bytes do not decode");
                assert_eq!(again, xml, "decode(encode(xml)) != xml in the lossy case");
            } else {
                assert_bytes!(
                    &bytes,
                    data,
                    "{form} XML ({v}) does not re-encode to the input\n--- xml ---\n{text}"
                );
            }
        }
    }

    // Strict encoding for each version whose strict decoding succeeded.
    for (v, _) in &strict_ok {
        let bytes = match encode(&xml, &EncodeOptions::strict(*v)) {
            Ok(b) => b,
            Err(e) => panic!(
                "strict encode ({v}) of strictly decoded XML failed: {e}\n--- xml ---\n{xml}"
            ),
        };
        assert_bytes!(
            &bytes,
            &expected,
            "strict encode ({v}) does not give back the input"
        );
    }

    // Depth limits: decode and encode agree, and fail only with TooDeep.
    let shallow_dec = decode(
        data,
        &DecodeOptions {
            max_depth: SMALL_DEPTH,
            ..DecodeOptions::lenient(ProtocolVersion::V16_1)
        },
    );
    let shallow_enc = encode(
        &xml,
        &EncodeOptions {
            max_depth: SMALL_DEPTH,
            ..EncodeOptions::lenient(ProtocolVersion::V16_1)
        },
    );
    match (&shallow_dec, &shallow_enc) {
        (Ok(x), Ok(b)) => {
            assert_eq!(x, &xml, "a smaller max_depth changes the XML");
            assert_bytes!(b, &expected, "a smaller max_depth changes the bytes");
        }
        (Err(d), Err(e)) => {
            assert_eq!(d.kind, DecodeErrorKind::TooDeep { max: SMALL_DEPTH });
            assert_eq!(e.kind, EncodeErrorKind::TooDeep { max: SMALL_DEPTH });
        }
        _ => panic!(
            "max_depth {SMALL_DEPTH}: decode {:?} but encode {:?}",
            shallow_dec.as_ref().map(|_| ()),
            shallow_enc.as_ref().map(|_| ())
        ),
    }
});

/// The input with every OPAQUE length rewritten as a minimal `mb_u_int32`, and
/// whether any was not minimal. Walks the token stream of a document that
/// decoded successfully (so it is well formed), independently of the codec.
fn canonical_opaque_lengths(input: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(input.len());
    let mut lossy = false;
    // Header: version byte, then public id, charset and string table length,
    // each an mb_u_int32; the decoder keeps a non-canonical header verbatim.
    let mut pos = 1;
    for _ in 0..3 {
        read_mb(input, &mut pos);
    }
    out.extend_from_slice(&input[..pos]);
    while pos < input.len() {
        match input[pos] {
            0x00 => {
                out.extend_from_slice(&input[pos..pos + 2]);
                pos += 2;
            }
            0x03 => {
                let nul = pos + 1 + input[pos + 1..].iter().position(|&b| b == 0).unwrap();
                out.extend_from_slice(&input[pos..=nul]);
                pos = nul + 1;
            }
            0xC3 => {
                out.push(0xC3);
                pos += 1;
                // A minimal mb_u_int32 never starts with 0x80 (a continuation
                // byte carrying no bits); any other first byte is minimal.
                if input[pos] == 0x80 {
                    lossy = true;
                }
                let len = read_mb(input, &mut pos) as usize;
                write_mb(&mut out, len as u32);
                out.extend_from_slice(&input[pos..pos + len]);
                pos += len;
            }
            _ => {
                out.push(input[pos]);
                pos += 1;
            }
        }
    }
    (out, lossy)
}

fn read_mb(input: &[u8], pos: &mut usize) -> u32 {
    let mut v: u32 = 0;
    loop {
        let b = input[*pos];
        *pos += 1;
        v = (v << 7) | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            return v;
        }
    }
}

fn write_mb(out: &mut Vec<u8>, mut v: u32) {
    let mut buf = Vec::new();
    buf.push((v & 0x7F) as u8);
    v >>= 7;
    while v != 0 {
        buf.push((v & 0x7F) as u8 | 0x80);
        v >>= 7;
    }
    buf.reverse();
    out.extend_from_slice(&buf);
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}
