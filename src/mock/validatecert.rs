//! ValidateCert (MS-ASCMD 2.2.1.22): checks the certificates of an S/MIME
//! message for the client.
//!
//! The request is `ValidateCert(CertificateChain?(Certificate*),
//! Certificates(Certificate+), CheckCRL?)`, each `Certificate` the base64
//! of a DER X.509 certificate. The answer is `ValidateCert/Status` 1 and one
//! `Certificate(Status)` per certificate of `Certificates`, in order; a
//! request the mock cannot take apart gets `ValidateCert/Status` 2
//! (protocol error) alone: no or several `Certificates`, no `Certificate`
//! in it, more than 100 certificates (MS-ASCMD 3.1.5.8), text that is not
//! base64, a `CheckCRL` other than 0 or 1, an unknown element.
//!
//! # Trust
//!
//! The mock trusts exactly one root: the "eastest Test Root CA" whose DER
//! is [`TRUSTED_ROOT`] (generated with `tests/data/certs/generate.sh`, which
//! also makes the test certificates it issued; its private key was thrown
//! away). A certificate is valid when a chain from it to that root can be
//! built from the request's `CertificateChain` and every link holds. Any
//! other chain ends in an untrusted source (Status 4), a self-signed
//! certificate included.
//!
//! # Checks, in order (the first failure is the certificate's Status)
//!
//! 1. Not a DER certificate: 3 (the signature cannot be validated), as
//!    Exchange answers such data (MS-ASCMD test suite S20 TC02).
//! 2. Each certificate of the chain outside its validity period now: 7.
//! 3. The certificate itself not meant for signing mail (a KeyUsage without
//!    digitalSignature and nonRepudiation, or an ExtendedKeyUsage without
//!    emailProtection and anyExtendedKeyUsage): 6.
//! 4. Building the chain, at each link: an issuer that is not a CA
//!    (BasicConstraints) 11, one whose KeyUsage lacks keyCertSign 9, a
//!    validity period not nested in the issuer's 8, a signature that does
//!    not verify 3; no issuer found (or a self-signed certificate other than
//!    the root) 4. A `CertificateChain` entry that is not a DER certificate
//!    makes every certificate's chain malformed: 5.
//! 5. With `CheckCRL` 1, a certificate of the chain below the root that has
//!    a CRL distribution point: 16 (revocation status unknown). The mock
//!    listens on loopback only and never fetches anything, so it cannot
//!    know; with `CheckCRL` 0 (the default) an unverifiable revocation
//!    status is ignored, as the spec says (2.2.3.26). A certificate without
//!    distribution points has nothing to check.
//!
//! Signatures are verified with x509-parser's `verify` feature (ring): RSA
//! PKCS#1 v1.5 and PSS, ECDSA and Ed25519. An algorithm it does not know is
//! not held against a certificate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::ParsedExtension;
use x509_parser::time::ASN1Time;

use crate::wbxml::{Element, Node};

use super::command::{Ctx, Reply};
use super::xml::XmlOut;

const NS: &str = "ValidateCert";

/// `Status` values (MS-ASCMD 2.2.3.177.18).
const SUCCESS: u8 = 1;
/// Supplied protocol parameters are out of range or invalid (global).
const PROTOCOL_ERROR: u8 = 2;
/// The signature in the certificate cannot be validated.
const INVALID_SIGNATURE: u8 = 3;
/// The certificate was issued by a source the server does not trust.
const UNTRUSTED_SOURCE: u8 = 4;
/// The certificate chain was not created correctly.
const INVALID_CHAIN: u8 = 5;
/// The certificate is not meant for signing mail.
const NOT_FOR_SIGNING_EMAIL: u8 = 6;
/// The certificate has expired or is not yet valid.
const EXPIRED: u8 = 7;
/// The validity periods of the chain are not nested.
const INCONSISTENT_VALIDITY: u8 = 8;
/// A certificate of the chain is used for something it is not valid for.
const INVALID_USE: u8 = 9;
/// An end-entity certificate is used as a certification authority.
const END_ENTITY_AS_CA: u8 = 11;
/// The revocation status cannot be determined.
const REVOCATION_UNKNOWN: u8 = 16;

/// At most 100 `Certificate` elements (MS-ASCMD 3.1.5.8, S20 TC03).
const MAX_CERTIFICATES: usize = 100;
/// Chains longer than this are not followed (a loop guard).
const MAX_DEPTH: usize = 10;

/// The DER of the only root the mock trusts, "CN=eastest Test Root CA",
/// base64 (`tests/data/certs/root.b64`).
pub const TRUSTED_ROOT: &str = "MIIC/jCCAeagAwIBAgICEAAwDQYJKoZIhvcNAQELBQAwHzEdMBsGA1UEAwwUZWFzdGVzdCBUZXN0IFJvb3QgQ0EwIBcNMjAwMTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMB8xHTAbBgNVBAMMFGVhc3Rlc3QgVGVzdCBSb290IENBMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq/jNG3zhdoVyveK1+t1QHyI6DJ2UHpRn0DbCnr1R8Npy38dRKjn5VS6LJd7LENlN/5T2dXjsM2njhiYKUQoAHOnbySv0NcXIPAN41/kzVfFMPeCgNQ0qgzb57vnadFuNTaw9kQgqESYWvtETHi0lq0vn6WJEiD7KH9WygN19tV4T+s26rBOml2fBuU9N6s3JnCqXV6buJugAIRFbtNS7CxQhccuuhRt4I1jVOCX6isrev3MNns15xvpGPRc4unRgVd/R3vMI5ygD08K81QOZP24s93IOLNAmBFTpnBa2H/6Y0SGKTlhAMlT86sG2XVThCBoX5Px1bcwrbzfyLiFQ3QIDAQABo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUjZCeQVzm+TKL0pHUDUl2huj3KfMwDQYJKoZIhvcNAQELBQADggEBADIPYX5aC6/RKkGS0AMP7o2CFqYrvmXnJXq0NWOmJTC78aqPZSDNcTrHQdybdJrkvJ2XlOG8TXrjfjvbMyH39Lw7Gc8MEG7az4ohsnhWxq8rlDfnjjc0yTINcPak7lmyQp4iA0D7cDTTK2tb1+4KqWvrRKTl+JImVN2L85V7dJz7ViFtWeim7iuCno+RA9D9Mb1MXcwo0PBAX/PblaHFc2edi0rSkO3BQq37ZEgD2HRU3wwqmWi+2nPh+7BrgWFMFAB3uwZ27bCXGelNeFM0g8ZR5+hGECS2VH6FYgrf7RudGDJ4aylBp7gVXKMS2Yu5jrP/1R4w5J2ZnsbRDdTzpXc=";

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let mut out = XmlOut::new(NS, NS, &[]);
    match parse(request) {
        Ok(request) => {
            out.leaf("Status", SUCCESS.to_string());
            for der in &request.certificates {
                out.open("Certificate");
                out.leaf(
                    "Status",
                    validate(der, &request.chain, request.check_crl).to_string(),
                );
                out.close("Certificate");
            }
        }
        Err(status) => {
            out.leaf("Status", status.to_string());
        }
    }
    Reply::from_encoded(out.finish(NS, ctx.version))
}

/// A request taken apart: DER bytes, not yet parsed.
struct Request {
    chain: Vec<Vec<u8>>,
    certificates: Vec<Vec<u8>>,
    check_crl: bool,
}

fn parse(request: &Element) -> Result<Request, u8> {
    let mut chain = None;
    let mut certificates = None;
    let mut check_crl = None;
    for child in request.elements_only_in(NS).ok_or(PROTOCOL_ERROR)? {
        match child.name.as_str() {
            "CertificateChain" if chain.is_none() => chain = Some(certificate_list(child)?),
            "Certificates" if certificates.is_none() => {
                certificates = Some(certificate_list(child)?);
            }
            "CheckCRL" if check_crl.is_none() => {
                check_crl = Some(match text_of(child)?.trim() {
                    "0" => false,
                    "1" => true,
                    _ => return Err(PROTOCOL_ERROR),
                });
            }
            _ => return Err(PROTOCOL_ERROR),
        }
    }
    let certificates = certificates.ok_or(PROTOCOL_ERROR)?;
    let chain = chain.unwrap_or_default();
    if certificates.is_empty() || certificates.len() + chain.len() > MAX_CERTIFICATES {
        return Err(PROTOCOL_ERROR);
    }
    Ok(Request {
        chain,
        certificates,
        check_crl: check_crl.unwrap_or(false),
    })
}

/// The decoded `Certificate` children of `Certificates` or
/// `CertificateChain`.
fn certificate_list(list: &Element) -> Result<Vec<Vec<u8>>, u8> {
    let mut out = Vec::new();
    for certificate in list.elements_only_in(NS).ok_or(PROTOCOL_ERROR)? {
        if certificate.name != "Certificate" || out.len() == MAX_CERTIFICATES {
            return Err(PROTOCOL_ERROR);
        }
        let text: String = text_of(certificate)?
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        out.push(BASE64.decode(text).map_err(|_| PROTOCOL_ERROR)?);
    }
    Ok(out)
}

/// The text of an element that holds text only.
fn text_of(e: &Element) -> Result<String, u8> {
    if e.children.iter().all(|n| matches!(n, Node::Text(_))) {
        Ok(e.text())
    } else {
        Err(PROTOCOL_ERROR)
    }
}

/// A whole DER certificate (no trailing bytes).
fn parse_der(der: &[u8]) -> Option<X509Certificate<'_>> {
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], certificate)) => Some(certificate),
        _ => None,
    }
}

/// The Status of one certificate (DER), given the DER of the request's
/// chain certificates.
fn validate(der: &[u8], chain: &[Vec<u8>], check_crl: bool) -> u8 {
    let Some(certificate) = parse_der(der) else {
        return INVALID_SIGNATURE;
    };
    let now = ASN1Time::now();
    let Some(issuers) = chain
        .iter()
        .map(|d| parse_der(d))
        .collect::<Option<Vec<_>>>()
    else {
        return INVALID_CHAIN;
    };
    let root_der = BASE64.decode(TRUSTED_ROOT).unwrap_or_default();
    let Some(root) = parse_der(&root_der) else {
        return INVALID_CHAIN;
    };
    if !certificate.validity().is_valid_at(now) {
        return EXPIRED;
    }
    if !for_signing_email(&certificate) {
        return NOT_FOR_SIGNING_EMAIL;
    }
    let mut path = vec![&certificate];
    let mut current = &certificate;
    for _ in 0..MAX_DEPTH {
        if current.as_raw() == root.as_raw() {
            break;
        }
        let is_self_signed = current.issuer().as_raw() == current.subject().as_raw();
        let issuer = if is_self_signed {
            None
        } else {
            std::iter::once(&root)
                .chain(issuers.iter())
                .find(|c| c.subject().as_raw() == current.issuer().as_raw())
        };
        let Some(issuer) = issuer else {
            if is_self_signed && signature_valid(current, current) == Some(false) {
                return INVALID_SIGNATURE;
            }
            return UNTRUSTED_SOURCE;
        };
        if !issuer.validity().is_valid_at(now) {
            return EXPIRED;
        }
        if !issuer.is_ca() {
            return END_ENTITY_AS_CA;
        }
        if let Ok(Some(usage)) = issuer.key_usage()
            && !usage.value.key_cert_sign()
        {
            return INVALID_USE;
        }
        let (outer, inner) = (issuer.validity(), current.validity());
        if inner.not_before < outer.not_before || inner.not_after > outer.not_after {
            return INCONSISTENT_VALIDITY;
        }
        if signature_valid(current, issuer) == Some(false) {
            return INVALID_SIGNATURE;
        }
        path.push(issuer);
        current = issuer;
    }
    if current.as_raw() != root.as_raw() {
        return UNTRUSTED_SOURCE;
    }
    if check_crl
        && path
            .iter()
            .filter(|c| c.as_raw() != root.as_raw())
            .any(|c| has_crl_distribution_point(c))
    {
        return REVOCATION_UNKNOWN;
    }
    SUCCESS
}

/// Whether the certificate may sign mail: KeyUsage (if present) has
/// digitalSignature or nonRepudiation, ExtendedKeyUsage (if present) has
/// emailProtection or anyExtendedKeyUsage (RFC 8550 4.4).
fn for_signing_email(certificate: &X509Certificate) -> bool {
    let key_usage = match certificate.key_usage() {
        Ok(Some(usage)) => usage.value.digital_signature() || usage.value.non_repudiation(),
        Ok(None) => true,
        Err(_) => false,
    };
    let extended = match certificate.extended_key_usage() {
        Ok(Some(usage)) => usage.value.email_protection || usage.value.any,
        Ok(None) => true,
        Err(_) => false,
    };
    key_usage && extended
}

fn has_crl_distribution_point(certificate: &X509Certificate) -> bool {
    certificate.iter_extensions().any(|e| {
        matches!(e.parsed_extension(), ParsedExtension::CRLDistributionPoints(points) if !points.is_empty())
    })
}

/// Whether `issuer`'s key verifies `certificate`'s signature (x509-parser's
/// `verify` feature, on ring); `None` for a signature algorithm it does not
/// support, which the mock then does not hold against the certificate.
fn signature_valid(certificate: &X509Certificate, issuer: &X509Certificate) -> Option<bool> {
    match certificate.verify_signature(Some(issuer.public_key())) {
        Ok(()) => Some(true),
        Err(X509Error::SignatureUnsupportedAlgorithm) => None,
        Err(_) => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trusted_root_is_a_self_signed_ca_whose_signature_verifies() {
        let der = BASE64.decode(TRUSTED_ROOT).unwrap();
        let root = parse_der(&der).expect("DER");
        assert!(root.is_ca());
        assert_eq!(signature_valid(&root, &root), Some(true));
        assert_eq!(validate(&der, &[], false), NOT_FOR_SIGNING_EMAIL);
    }

    #[test]
    fn a_flipped_bit_breaks_the_signature() {
        let mut der = BASE64.decode(TRUSTED_ROOT).unwrap();
        let last = der.len() - 1;
        der[last] ^= 1;
        let root = parse_der(&der).expect("still DER");
        assert_eq!(signature_valid(&root, &root), Some(false));
    }
}
