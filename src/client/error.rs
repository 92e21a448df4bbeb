//! [`ClientError`]: what went wrong talking to an EAS server, and what to do.
//!
//! Every message names the endpoint as `scheme://host:port/path` only: the
//! query is left out because the base64 form carries the policy key in it,
//! and URLs with credentials are refused when the client is built. No
//! variant holds the password, an `Authorization` value or a policy key.

use std::path::PathBuf;
use std::time::Duration;

use crate::protocol::QueryError;
use crate::wbxml::EncodeError;

/// Why a client could not be built or a request did not get an answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The configuration cannot work (bad URL, zero timeout, ...).
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// The password environment variable is unusable.
    #[error("cannot read the password from environment variable {var}: {reason}")]
    SecretEnv {
        /// The variable's name.
        var: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The password file is unusable.
    #[error("cannot read the password from {}: {reason}", path.display())]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The `ca_cert` file could not be used.
    #[error(
        "cannot use CA certificate file {}: {reason} (expected one or more PEM \
         `-----BEGIN CERTIFICATE-----` blocks)",
        path.display()
    )]
    CaCert {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The TLS or HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),

    /// The request line cannot be built in the configured form.
    #[error("cannot build the {form} request line: {source}")]
    Query {
        /// `plain` or `base64`.
        form: &'static str,
        /// What the query builder reported.
        #[source]
        source: QueryError,
    },

    /// A query parameter that the base64 form has no tag for.
    #[error(
        "query parameter `{name}` has no tag in the base64 request line (MS-ASHTTP \
         2.2.1.1.1.1); send this request in the plain form"
    )]
    NoBase64Tag {
        /// The parameter.
        name: String,
    },

    /// A request header whose name or value HTTP cannot carry.
    #[error("request header `{name}` is not a valid HTTP header name or value")]
    InvalidHeader {
        /// The header's name (its value is not shown: it may be a credential).
        name: String,
    },

    /// A request body could not be encoded (the client's own Provision bodies).
    #[error("cannot encode the {what} request body: {source}")]
    Encode {
        /// Which body.
        what: &'static str,
        /// What the encoder reported.
        #[source]
        source: EncodeError,
    },

    /// Nothing listens at the server's address.
    #[error("connection refused by {url}: is the server running, and is the port right?")]
    ConnectionRefused {
        /// The endpoint.
        url: String,
    },

    /// The host name did not resolve.
    #[error("cannot resolve the host of {url}: {reason} (check the host name and DNS)")]
    Dns {
        /// The endpoint.
        url: String,
        /// What the resolver said.
        reason: String,
    },

    /// The TLS handshake failed (certificate not trusted, wrong name, ...).
    #[error(
        "TLS handshake with {url} failed: {reason} (a lab server with its own CA needs \
         `ca_cert`; `insecure` turns verification off)"
    )]
    Tls {
        /// The endpoint.
        url: String,
        /// What rustls reported.
        reason: String,
    },

    /// No complete answer within the time allowed.
    #[error(
        "no complete answer from {url} within {}s (raise the timeout if the server is slow, \
         or check that it is up)", after.as_secs_f64()
    )]
    Timeout {
        /// The endpoint.
        url: String,
        /// The time allowed.
        after: Duration,
    },

    /// The response body is larger than `max_response_bytes`.
    #[error(
        "the response from {url} is larger than the limit of {limit} bytes; stopped reading \
         (raise max_response_bytes if this is expected)"
    )]
    ResponseTooLarge {
        /// The endpoint.
        url: String,
        /// The limit.
        limit: usize,
    },

    /// Another transport failure (connection reset, bad HTTP, ...).
    #[error("HTTP request to {url} failed: {reason}")]
    Http {
        /// The endpoint.
        url: String,
        /// What failed.
        reason: String,
    },

    /// An HTTP 451 redirect that cannot be followed (MS-ASHTTP 3.1.5.2.2).
    #[error("cannot follow the HTTP 451 redirect from {url}: {reason}")]
    Redirect {
        /// The endpoint that answered 451.
        url: String,
        /// Why.
        reason: String,
    },

    /// The Provision handshake (MS-ASPROV 3.1.5.1) failed.
    #[error("provisioning failed in {phase}: {reason}")]
    Provision {
        /// `the policy download (phase one)` or `the acknowledgment (phase two)`.
        phase: &'static str,
        /// What the server answered.
        reason: String,
    },

    /// The server asked this device to wipe itself (MS-ASPROV 3.1.5.1.2.2).
    #[error(
        "the server requested a remote wipe of this device during provisioning; the client \
         does not acknowledge wipes on its own (a suite must send the acknowledgment \
         explicitly, or reset the device on the server)"
    )]
    RemoteWipeRequested {
        /// `true` for `AccountOnlyRemoteWipe` (16.1), `false` for `RemoteWipe`.
        account_only: bool,
    },
}
