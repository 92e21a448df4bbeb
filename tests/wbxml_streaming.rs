//! `decode_to_writer` writes exactly what `decode` returns, in chunks, and
//! reports decode and I/O errors apart.

use std::io::{self, Write};

use eastest::wbxml::{
    DecodeErrorKind, DecodeOptions, DecodeToWriterError, EncodeOptions, ProtocolVersion, decode,
    decode_to_writer, encode,
};

const V: ProtocolVersion = ProtocolVersion::V14_1;

/// A Sync response much larger than one streaming chunk, using several pages.
fn large_document() -> Vec<u8> {
    let mut xml = String::from(
        r#"<Sync xmlns="AirSync:" xmlns:C="Contacts:" xmlns:B="AirSyncBase:"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId><Commands>"#,
    );
    for i in 0..20_000 {
        xml.push_str(&format!(
            "<Add><ServerId>1:{i}</ServerId><ApplicationData><C:FirstName>Ann &amp; {i}</C:FirstName><B:Body><B:Type>1</B:Type><B:Data opaque=\"base64\">AAECAw==</B:Data></B:Body></ApplicationData></Add>"
        ));
    }
    xml.push_str("</Commands></Collection></Collections></Sync>");
    encode(&xml, &EncodeOptions::strict(V)).unwrap()
}

#[test]
fn same_output_as_decode() {
    let big = large_document();
    let corpus_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut docs = vec![big];
    for entry in std::fs::read_dir(corpus_dir).unwrap() {
        let xml = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        if let Ok(bytes) = encode(&xml, &EncodeOptions::lenient(ProtocolVersion::V16_1)) {
            docs.push(bytes);
        }
    }
    assert!(docs.len() > 50, "the corpus is read");
    for bytes in &docs {
        for indent in [true, false] {
            let options = DecodeOptions {
                indent,
                ..DecodeOptions::lenient(ProtocolVersion::V16_1)
            };
            let whole = decode(bytes, &options).unwrap();
            let mut streamed = Vec::new();
            decode_to_writer(bytes, &options, &mut streamed).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        }
    }
    assert!(decode(&docs[0], &DecodeOptions::strict(V)).unwrap().len() > 1 << 20);
}

#[test]
fn an_invalid_document_found_by_the_scan_writes_nothing() {
    let whole = large_document();
    // Cut inside a string, and after the last END but one (all tokens whole,
    // the root still open), and with bytes after the root.
    let mut trailing = whole.clone();
    trailing.push(0x45);
    for bytes in [
        &whole[..whole.len() / 2],
        &whole[..whole.len() - 1],
        &trailing[..],
    ] {
        let mut out = Vec::new();
        let err = decode_to_writer(bytes, &DecodeOptions::strict(V), &mut out).unwrap_err();
        assert!(matches!(err, DecodeToWriterError::Decode(_)), "{err:?}");
        assert!(
            out.is_empty(),
            "{} bytes written before the error",
            out.len()
        );
    }
}

#[test]
fn a_late_error_is_reported_after_partial_output() {
    // Valid in structure, but the last element is a 16.1-only tag: strict 14.1
    // finds it only when it gets there.
    let mut xml = large_document();
    // Replace the final END of Sync by SWITCH_PAGE 25, Find (empty), END.
    xml.pop();
    xml.extend_from_slice(&[0x00, 0x19, 0x05, 0x01]);
    let mut out = Vec::new();
    let err = decode_to_writer(&xml, &DecodeOptions::strict(V), &mut out).unwrap_err();
    assert!(
        matches!(&err, DecodeToWriterError::Decode(e) if matches!(e.kind, DecodeErrorKind::NotInVersion { .. })),
        "{err:?}"
    );
}

struct Failing;

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::BrokenPipe, "pipe closed"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_write_error_is_an_io_error() {
    let err =
        decode_to_writer(&large_document(), &DecodeOptions::strict(V), &mut Failing).unwrap_err();
    match err {
        DecodeToWriterError::Io(e) => assert_eq!(e.kind(), io::ErrorKind::BrokenPipe),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}
