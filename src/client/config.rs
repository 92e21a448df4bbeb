//! [`ClientConfig`]: where the server is, who we are, and the limits.

use std::path::PathBuf;
use std::time::Duration;

use crate::protocol::ProtocolVersion;
pub use crate::protocol::QueryForm;

use super::Secret;

/// The default per-request timeout. Long-poll commands (Ping, Sync with
/// `Wait`) need more; [`Request::timeout`](super::Request::timeout) raises
/// it per request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default response size limit: far above any realistic EAS answer
/// (attachments come in ranges), low enough that a runaway server cannot
/// exhaust memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// The default `DeviceType`.
pub const DEFAULT_DEVICE_TYPE: &str = "eastest";

/// How to reach an EAS server and as whom. `Debug` shows the password as
/// `[redacted]`.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The EAS endpoint, e.g. `http://127.0.0.1:8080/Microsoft-Server-ActiveSync`
    /// (http or https, no query, no credentials).
    pub url: String,
    /// The user name for Basic authentication and the `User` parameter.
    pub user: String,
    /// The password for Basic authentication.
    pub password: Secret,
    /// `DeviceId` (not checked: suites may send malformed ones on purpose).
    pub device_id: String,
    /// `DeviceType`.
    pub device_type: String,
    /// The protocol version of every request.
    pub version: ProtocolVersion,
    /// Plain or base64 request lines (MS-ASHTTP 2.2.1.1.1).
    pub query_form: QueryForm,
    /// `User-Agent`.
    pub user_agent: String,
    /// Time allowed to connect, and for a whole request (connect, send,
    /// read the full response) unless the request says otherwise.
    pub timeout: Duration,
    /// Responses with more body bytes (after gzip inflation) are an error.
    pub max_response_bytes: usize,
    /// A PEM file of extra trusted CA certificates, added to the system's.
    pub ca_cert: Option<PathBuf>,
    /// Accept any TLS certificate (lab servers only).
    pub insecure: bool,
    /// Send no `Authorization` header (to see a server's HTTP 401).
    pub anonymous: bool,
}

impl ClientConfig {
    /// A configuration with the defaults: DeviceType `eastest`, plain
    /// request lines, User-Agent `eastest/<version>`, 30 s timeout,
    /// 32 MiB response limit, system trust roots.
    pub fn new(
        url: impl Into<String>,
        user: impl Into<String>,
        password: impl Into<Secret>,
        device_id: impl Into<String>,
        version: ProtocolVersion,
    ) -> ClientConfig {
        ClientConfig {
            url: url.into(),
            user: user.into(),
            password: password.into(),
            device_id: device_id.into(),
            device_type: DEFAULT_DEVICE_TYPE.to_string(),
            version,
            query_form: QueryForm::Plain,
            user_agent: format!("eastest/{}", env!("CARGO_PKG_VERSION")),
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            ca_cert: None,
            insecure: false,
            anonymous: false,
        }
    }
}
