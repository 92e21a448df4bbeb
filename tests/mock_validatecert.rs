//! The mock's ValidateCert command (MS-ASCMD 2.2.1.22) over real HTTP, with
//! the certificates of `tests/data/certs` (see its README). Request bodies
//! are assembled by hand from the MS-ASWBXML code page 11 (ValidateCert).

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Body, Device};
use eastest::wbxml::Element;

// Code page 11, ValidateCert.
const PAGE: u8 = 0x0B;
const VALIDATE_CERT: u8 = 0x05;
const CERTIFICATES: u8 = 0x06;
const CERTIFICATE: u8 = 0x07;
const CERTIFICATE_CHAIN: u8 = 0x08;
const CHECK_CRL: u8 = 0x09;

const ROOT: &str = include_str!("data/certs/root.b64");
const INTERMEDIATE: &str = include_str!("data/certs/intermediate.b64");
const VALID: &str = include_str!("data/certs/valid.b64");
const EXPIRED: &str = include_str!("data/certs/expired.b64");
const FUTURE: &str = include_str!("data/certs/future.b64");
const SERVER: &str = include_str!("data/certs/server.b64");
const VIA_INTERMEDIATE: &str = include_str!("data/certs/via-intermediate.b64");
const UNDER_END_ENTITY: &str = include_str!("data/certs/under-end-entity.b64");
const WITH_CRL: &str = include_str!("data/certs/with-crl.b64");
const SELF_SIGNED: &str = include_str!("data/certs/self-signed.b64");

/// `ValidateCert(CertificateChain?(chain), Certificates(certificates),
/// CheckCRL?)`.
fn request(chain: Option<&[&str]>, certificates: &[&str], check_crl: Option<&str>) -> Vec<u8> {
    let mut body = Body::new(PAGE, VALIDATE_CERT);
    if let Some(chain) = chain {
        body = body.open(CERTIFICATE_CHAIN);
        for c in chain {
            body = body.text(CERTIFICATE, c.trim());
        }
        body = body.end();
    }
    body = body.open(CERTIFICATES);
    for c in certificates {
        body = body.text(CERTIFICATE, c.trim());
    }
    body = body.end();
    if let Some(check) = check_crl {
        body = body.text(CHECK_CRL, check);
    }
    body.done()
}

/// The command Status and each certificate's Status.
async fn validate(device: &Device, body: Vec<u8>) -> (String, Vec<String>) {
    let response = device.call("ValidateCert", body).await;
    assert_eq!(response.namespace, "ValidateCert");
    let names = response.child_names();
    assert_eq!(names.first(), Some(&"Status"), "{response:?}");
    let certificates = response
        .elements_named("Certificate")
        .map(|c| {
            assert_eq!(c.child_names(), ["Status"], "{c:?}");
            c.child_text("Status").unwrap()
        })
        .collect();
    (response.child_text("Status").unwrap(), certificates)
}

/// The per-certificate Status of a single certificate.
async fn status_of(
    device: &Device,
    chain: Option<&[&str]>,
    certificate: &str,
    check_crl: Option<&str>,
) -> String {
    let (status, certificates) = validate(device, request(chain, &[certificate], check_crl)).await;
    assert_eq!(status, "1");
    assert_eq!(certificates.len(), 1);
    certificates[0].clone()
}

/// `certificate` with the last byte of its signature changed.
fn tampered(certificate: &str) -> String {
    let mut der = BASE64.decode(certificate.trim()).unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    BASE64.encode(der)
}

/// (what the case shows, the CertificateChain, the certificate, CheckCRL,
/// the expected status).
type Case<'a> = (
    &'a str,
    Option<&'a [&'a str]>,
    &'a str,
    Option<&'a str>,
    &'a str,
);

#[tokio::test]
async fn each_certificate_gets_its_status() {
    let server = common::start().await;
    for version in ["12.1", "14.1", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "dev1").await;
        let cases: &[Case] = &[
            ("issued by the trusted root", None, VALID, None, "1"),
            (
                "CheckCRL without distribution points",
                None,
                VALID,
                Some("1"),
                "1",
            ),
            (
                "the chain supplied",
                Some(&[INTERMEDIATE]),
                VIA_INTERMEDIATE,
                None,
                "1",
            ),
            (
                "the intermediate missing",
                None,
                VIA_INTERMEDIATE,
                None,
                "4",
            ),
            ("self-signed", None, SELF_SIGNED, None, "4"),
            ("expired", None, EXPIRED, None, "7"),
            ("not yet valid", None, FUTURE, None, "7"),
            ("a server certificate", None, SERVER, None, "6"),
            ("the root itself (a CA)", None, ROOT, None, "6"),
            (
                "issued by an end entity",
                Some(&[VALID]),
                UNDER_END_ENTITY,
                None,
                "11",
            ),
            ("revocation unknowable", None, WITH_CRL, Some("1"), "16"),
            ("revocation ignored", None, WITH_CRL, Some("0"), "1"),
            ("revocation ignored by default", None, WITH_CRL, None, "1"),
        ];
        for (what, chain, certificate, check_crl, expected) in cases {
            assert_eq!(
                status_of(&device, *chain, certificate, *check_crl).await,
                *expected,
                "{what} in {version}"
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn broken_certificates_and_chains() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    // A signature that does not verify with the issuer's key.
    assert_eq!(status_of(&device, None, &tampered(VALID), None).await, "3");
    assert_eq!(
        status_of(&device, None, &tampered(SELF_SIGNED), None).await,
        "3"
    );
    // Base64, but not a certificate (Exchange answers 3, as its test suite has it).
    let garbage = BASE64.encode(b"MIICYjCCAcugAwIBAgIUYGs8jZbX0VxjObu4nw0");
    assert_eq!(status_of(&device, None, &garbage, None).await, "3");
    // A chain entry that is not a certificate: the chain is malformed.
    assert_eq!(
        status_of(&device, Some(&[garbage.as_str()]), VALID, None).await,
        "5"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn several_certificates_are_answered_in_order() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "dev1").await;
    let (status, certificates) = validate(
        &device,
        request(
            Some(&[INTERMEDIATE]),
            &[EXPIRED, VALID, VIA_INTERMEDIATE, SERVER],
            Some("1"),
        ),
    )
    .await;
    assert_eq!(status, "1");
    assert_eq!(certificates, ["7", "1", "1", "6"]);
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_get_protocol_error() {
    let server = common::start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "dev1").await;
    let many: Vec<&str> = vec![VALID; 101];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not base64", request(None, &["not base64!"], None)),
        ("CheckCRL 2", request(None, &[VALID], Some("2"))),
        ("more than 100 certificates", request(None, &many, None)),
        (
            "no Certificates",
            Body::new(PAGE, VALIDATE_CERT).text(CHECK_CRL, "1").done(),
        ),
        (
            "empty Certificates",
            Body::new(PAGE, VALIDATE_CERT).empty(CERTIFICATES).done(),
        ),
    ];
    for (what, body) in cases {
        let response: Element = device.call("ValidateCert", body).await;
        assert_eq!(response.child_names(), ["Status"], "{what}");
        assert_eq!(
            response.child_text("Status").as_deref(),
            Some("2"),
            "{what}"
        );
    }
    // 100 certificates are fine.
    let hundred: Vec<&str> = vec![VALID; 100];
    let (status, certificates) = validate(&device, request(None, &hundred, None)).await;
    assert_eq!(status, "1");
    assert_eq!(certificates.len(), 100);
    server.shutdown().await;
}
