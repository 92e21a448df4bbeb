//! HTTPS for the mock (`eastest serve --tls`): real devices refuse plain
//! HTTP for EAS, so a lab needs the mock behind TLS with a certificate the
//! device trusts.
//!
//! The certificate comes from PEM files ([`TlsSetup::Files`]: the chain,
//! leaf first, and a PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key), or is
//! generated at start ([`TlsSetup::SelfSigned`], an ECDSA P-256 certificate
//! from `rcgen` for `localhost`, `127.0.0.1`, `::1`, the listening address
//! when it is a specific one, and the names given). Either way the server
//! exposes the leaf certificate ([`Certificate`]) with its SHA-256
//! fingerprint, for a vendor to install or pin on a test device.
//!
//! rustls with the ring provider, TLS 1.2 and 1.3, ALPN `http/1.1` (the
//! transport speaks no HTTP/2).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSetup {
    /// PEM files: `cert` the chain (leaf first), `key` its private key
    /// (PKCS#8, PKCS#1 RSA or SEC1 EC).
    Files { cert: PathBuf, key: PathBuf },
    /// A certificate generated at start, valid for `localhost`,
    /// `127.0.0.1`, `::1`, the listening address if it is a specific one,
    /// and these names (host names or IP addresses).
    SelfSigned { names: Vec<String> },
}

/// The certificate a TLS server presents (the leaf of its chain).
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    fingerprint: String,
    names: Vec<String>,
}

impl Certificate {
    fn new(der: Vec<u8>, names: Vec<String>) -> Certificate {
        let digest = ring::digest::digest(&ring::digest::SHA256, &der);
        let fingerprint = digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        Certificate {
            der,
            fingerprint,
            names,
        }
    }

    /// The certificate, DER-encoded.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as a PEM `CERTIFICATE` block.
    pub fn pem(&self) -> String {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in text.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }

    /// The SHA-256 fingerprint of the DER, as browsers and
    /// `openssl x509 -fingerprint -sha256` print it: `AB:CD:...`.
    pub fn sha256_fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// For a generated certificate: the names it is valid for (empty for
    /// one read from files).
    pub fn generated_names(&self) -> &[String] {
        &self.names
    }
}

/// A certificate or key that cannot be used: which file (if any) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    pub path: Option<PathBuf>,
    pub message: String,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "TLS: {}: {}", path.display(), self.message),
            None => write!(f, "TLS: {}", self.message),
        }
    }
}

impl std::error::Error for TlsError {}

fn error(path: Option<&Path>, message: impl Into<String>) -> TlsError {
    TlsError {
        path: path.map(Path::to_path_buf),
        message: message.into(),
    }
}

/// The acceptor for `setup`, and the certificate it presents.
pub(in crate::mock) fn acceptor(
    setup: &TlsSetup,
    listen: SocketAddr,
) -> Result<(TlsAcceptor, Certificate), TlsError> {
    let (chain, key, names) = match setup {
        TlsSetup::Files { cert, key } => {
            let (chain, key) = read_files(cert, key)?;
            (chain, key, Vec::new())
        }
        TlsSetup::SelfSigned { names } => {
            let names = self_signed_names(names, listen);
            let generated = rcgen::generate_simple_self_signed(names.clone())
                .map_err(|e| error(None, format!("cannot generate a certificate: {e}")))?;
            let key = PrivateKeyDer::try_from(generated.signing_key.serialize_der())
                .map_err(|e| error(None, format!("the generated key: {e}")))?;
            (vec![generated.cert.der().clone()], key, names)
        }
    };
    let certificate = Certificate::new(chain[0].to_vec(), names);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| error(None, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match setup {
            TlsSetup::Files { cert, key } => error(
                Some(key),
                format!(
                    "the key does not fit the certificate in {}, or is not usable: {e}",
                    cert.display()
                ),
            ),
            TlsSetup::SelfSigned { .. } => error(None, e.to_string()),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), certificate))
}

/// The default names, the listening address when it is a specific one,
/// then the names given; each once.
fn self_signed_names(extra: &[String], listen: SocketAddr) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    names.extend(extra.iter().map(|n| n.trim().to_string()));
    let mut unique = Vec::new();
    for name in names {
        if !name.is_empty() && !unique.contains(&name) {
            unique.push(name);
        }
    }
    unique
}

type Chain = Vec<CertificateDer<'static>>;

fn read_files(cert: &Path, key: &Path) -> Result<(Chain, PrivateKeyDer<'static>), TlsError> {
    let cert_pem =
        std::fs::read(cert).map_err(|e| error(Some(cert), format!("cannot read: {e}")))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(Some(cert), format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(error(
            Some(cert),
            "no `-----BEGIN CERTIFICATE-----` block in it",
        ));
    }
    for (i, der) in chain.iter().enumerate() {
        if let Err(e) = x509_parser::parse_x509_certificate(der) {
            return Err(error(
                Some(cert),
                format!("certificate {} of the chain is not valid X.509: {e}", i + 1),
            ));
        }
    }
    let key_pem = std::fs::read(key).map_err(|e| error(Some(key), format!("cannot read: {e}")))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no PEM private key in it (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`)"
                    .to_string()
            }
            other => format!("not a PEM private key: {other}"),
        };
        error(Some(key), why)
    })?;
    Ok((chain, key_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_uppercase_colon_separated_sha256() {
        let c = Certificate::new(b"abc".to_vec(), Vec::new());
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            c.sha256_fingerprint(),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn generated_certificates_name_the_loopback_and_a_specific_listen_address() {
        let names = self_signed_names(
            &["eas.lab".to_string(), "localhost".to_string()],
            "192.0.2.7:443".parse().unwrap(),
        );
        assert_eq!(
            names,
            ["localhost", "127.0.0.1", "::1", "192.0.2.7", "eas.lab"]
        );
        let names = self_signed_names(&[], "0.0.0.0:443".parse().unwrap());
        assert_eq!(names, ["localhost", "127.0.0.1", "::1"]);
    }

    #[test]
    fn a_generated_certificate_round_trips_through_pem() {
        let (_, cert) = acceptor(
            &TlsSetup::SelfSigned { names: Vec::new() },
            "127.0.0.1:0".parse().unwrap(),
        )
        .unwrap();
        let back = CertificateDer::from_pem_slice(cert.pem().as_bytes()).unwrap();
        assert_eq!(back.as_ref(), cert.der());
        assert_eq!(cert.sha256_fingerprint().len(), 32 * 3 - 1);
    }
}
