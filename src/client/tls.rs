//! The rustls configuration handed to reqwest.
//!
//! - The crypto provider is *ring*, set explicitly on the config (not
//!   installed process-wide), so the client works whatever else the
//!   process installed and needs no C toolchain (aws-lc does).
//! - Certificates are checked by rustls-platform-verifier: the operating
//!   system's trust store, plus the certificates of `ca_cert` (a PEM file)
//!   for a lab whose server has its own CA.
//! - A machine without any system roots (a bare container) still gets a
//!   client: plain-HTTP endpoints work, and an HTTPS one fails the
//!   handshake with a message saying that no roots were found and what to
//!   pass instead, rather than failing at construction.
//! - `insecure` accepts any certificate (signatures of the handshake are
//!   still checked, so the connection is encrypted to *someone*); a
//!   `tracing::warn!` says so once per process.

use std::path::Path;
use std::sync::{Arc, Once};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::{ClientConfig, ClientError};

/// Warns once per process that verification is off.
static INSECURE_WARNING: Once = Once::new();

/// The rustls client configuration for `config`.
pub(crate) fn client_config(config: &ClientConfig) -> Result<rustls::ClientConfig, ClientError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Setup(format!("TLS protocol versions: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if config.insecure {
        INSECURE_WARNING.call_once(|| {
            tracing::warn!("TLS certificate verification is off");
        });
        Arc::new(AcceptAnyCertificate { provider })
    } else {
        let extra = match &config.ca_cert {
            Some(path) => load_ca_cert(path)?,
            None => Vec::new(),
        };
        platform_verifier(extra, provider)?
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// Every certificate of a PEM file; at least one, or an error naming the file.
pub(crate) fn load_ca_cert(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let bad = |reason: String| ClientError::CaCert {
        path: path.to_path_buf(),
        reason,
    };
    // Read first so that a missing file says "No such file" rather than a
    // PEM parser's wording of the same.
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        certs.push(cert.map_err(|e| bad(format!("not valid PEM: {e}")))?);
    }
    if certs.is_empty() {
        return Err(bad("no certificate found in it".into()));
    }
    // Each must also parse as a trust anchor, or the verifier would fail
    // later, on the first handshake, with a vaguer message.
    let mut store = rustls::RootCertStore::empty();
    for (i, cert) in certs.iter().enumerate() {
        store
            .add(cert.clone())
            .map_err(|e| bad(format!("certificate {} is not usable: {e}", i + 1)))?;
    }
    Ok(certs)
}

/// The platform verifier with `extra` roots; without any root at all, a
/// verifier that refuses every certificate with the reason.
fn platform_verifier(
    extra: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, ClientError> {
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
    };
    Ok(match verifier {
        Ok(v) => Arc::new(v),
        Err(e) => Arc::new(NoRoots {
            reason: e.to_string(),
            provider,
        }),
    })
}

/// `insecure`: any certificate is accepted; handshake signatures are still
/// verified with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// No trust roots could be loaded: every certificate is refused, saying why.
#[derive(Debug)]
struct NoRoots {
    reason: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(format!(
            "no trusted root certificates ({}); pass the server's CA as ca_cert",
            self.reason
        )))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "no trusted root certificates".into(),
        ))
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "no trusted root certificates".into(),
        ))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
