//! Arbitrary UTF-8 text -> `wbxml::encode`, strict and lenient.
//!
//! Never panics, and whatever encodes is exact WBXML for eastest's XML form:
//!
//! - strict encoding that succeeds gives the same bytes as lenient encoding;
//! - lenient encoding is the same for every version;
//! - when lenient encoding succeeds, lenient decoding of the bytes succeeds
//!   (indented and compact), and encoding that XML gives back the same bytes;
//! - where strict decoding of the bytes also succeeds, it agrees with lenient.

#![no_main]

use eastest::wbxml::{DecodeOptions, EncodeOptions, ProtocolVersion, decode, encode};
use libfuzzer_sys::fuzz_target;

const STRICT_VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V2_5,
    ProtocolVersion::V14_1,
    ProtocolVersion::V16_1,
];

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
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };

    let mut strict_ok: Vec<(ProtocolVersion, Vec<u8>)> = Vec::new();
    for v in STRICT_VERSIONS {
        if let Ok(bytes) = encode(xml, &EncodeOptions::strict(v)) {
            strict_ok.push((v, bytes));
        }
    }

    let lenient = encode(xml, &EncodeOptions::lenient(ProtocolVersion::V16_1));
    let lenient_old = encode(xml, &EncodeOptions::lenient(ProtocolVersion::V2_5));
    assert_eq!(
        lenient, lenient_old,
        "lenient encoding depends on the protocol version"
    );
    let bytes = match lenient {
        Ok(b) => b,
        Err(e) => {
            assert!(
                strict_ok.is_empty(),
                "strict encoding succeeded where lenient failed ({e})"
            );
            return;
        }
    };
    for (v, strict_bytes) in &strict_ok {
        assert_bytes!(
            strict_bytes,
            bytes,
            "strict encoding ({v}) differs from lenient"
        );
    }

    let dopts = DecodeOptions::lenient(ProtocolVersion::V16_1);
    let decoded = match decode(&bytes, &dopts) {
        Ok(x) => x,
        Err(e) => panic!(
            "lenient decode of encoder output failed: {e}\n  bytes: {}",
            hex(&bytes)
        ),
    };
    let compact = match decode(
        &bytes,
        &DecodeOptions {
            indent: false,
            ..dopts
        },
    ) {
        Ok(x) => x,
        Err(e) => panic!("compact decode of encoder output failed: {e}"),
    };
    for (form, text) in [("indented", &decoded), ("compact", &compact)] {
        let again = match encode(text, &EncodeOptions::lenient(ProtocolVersion::V16_1)) {
            Ok(b) => b,
            Err(e) => panic!("re-encoding the {form} decoded XML failed: {e}\n--- xml ---\n{text}"),
        };
        assert_bytes!(
            again,
            bytes,
            "encode(decode(bytes)) != bytes ({form})\n--- xml ---\n{text}"
        );
    }

    for (v, _) in &strict_ok {
        if let Ok(strict_xml) = decode(&bytes, &DecodeOptions::strict(*v)) {
            assert_eq!(
                strict_xml, decoded,
                "strict decoding ({v}) differs from lenient decoding"
            );
        }
    }
});

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}
