//! The EAS client: HTTP over reqwest (rustls), MS-ASHTTP request lines,
//! OPTIONS discovery, automatic provisioning, redirects, limits.
//!
//! One [`EasClient`] is one device of one user on one server: it holds the
//! device's policy key and the endpoint it was last redirected to, and is
//! shared by reference (`&self` everywhere) across concurrent requests.
//!
//! # Requests
//!
//! [`EasClient::send`] posts one command. The request line is in the
//! configured [`QueryForm`]:
//! - plain (MS-ASHTTP 2.2.1.1.1.2): `?Cmd=..&User=..&DeviceId=..&DeviceType=..`
//!   then the request's parameters in order; the version goes in
//!   `MS-ASProtocolVersion`, the policy key in `X-MS-PolicyKey`;
//! - base64 (MS-ASHTTP 2.2.1.1.1.1): built with [`RequestQuery`]; the
//!   version, locale (en-US, 0x0409), policy key and parameters are inside.
//!   Parameters without a base64 tag are an error, `SaveInSent` becomes the
//!   Options bit, and the request headers `X-MS-PolicyKey` and
//!   `MS-ASAcceptMultiPart: T` move into the query (policy key field,
//!   Options bit) instead of being sent. The base64 text is
//!   percent-encoded (`+`, `/`, `=`), because ASP.NET-based servers read a
//!   literal `+` in a query as a space.
//!
//! Every request carries Basic credentials, `User-Agent`, and
//! `Accept-Encoding: gzip` (added by reqwest, which also inflates the
//! answer); a WBXML body gets `Content-Type: application/vnd.ms-sync.wbxml`.
//! The request's own headers come last and replace a default of the same
//! name, so a suite can send a wrong version or wrong credentials on
//! purpose. HTTP redirects (3xx) are not followed: they are answers a suite
//! may want to see.
//!
//! # Automatic provisioning (MS-ASPROV 3.1.5.1)
//!
//! With [`Request::auto_provision`] (the default) and a command other than
//! Provision, an answer that asks for provisioning runs the two-phase
//! handshake ([`EasClient::provision`]) and retries the request once. Such
//! an answer is HTTP 449 (up to 12.1), or a WBXML answer whose root's own
//! `Status` child is 142 DeviceNotProvisioned, 143 PolicyRefresh or 144
//! InvalidPolicyKey (14.0 on; decoded leniently, nested statuses are not
//! looked at). Status 140 RemoteWipeRequested is not one of them: it is
//! returned as is, since acknowledging a wipe is a suite's explicit step;
//! a 449 that turns out to be a wipe (12.1) fails with
//! [`ClientError::RemoteWipeRequested`] when the handshake finds the
//! directive. A Provision command a caller sends itself carries no policy
//! key unless its headers give one (`X-MS-PolicyKey`), as the handshake
//! needs; when its answer is a successful acknowledgment, the client keeps
//! the final key.
//!
//! # Redirects (MS-ASHTTP 3.1.5.2.2)
//!
//! HTTP 451 with an `X-MS-Location` (an http or https URL): the client
//! switches to that endpoint for this and all later requests and retries
//! once; a second 451 in a row, or one without a usable location, is
//! [`ClientError::Redirect`].
//!
//! # Limits and errors
//!
//! The connect timeout is [`ClientConfig::timeout`]; the whole exchange
//! (connect, send, read the complete body) must finish within the
//! request's [`Request::timeout`] or the config's. Bodies are read chunk by
//! chunk and the read stops as soon as they pass
//! [`ClientConfig::max_response_bytes`] (counted after gzip inflation, so a
//! gzip bomb is never inflated in full). Refused connections, DNS and TLS
//! failures, timeouts and oversized bodies are distinct [`ClientError`]s
//! whose messages say what to check. Messages show the endpoint without
//! its query (the base64 query holds the policy key), never credentials.

pub mod config;
mod error;
mod provision;
mod secret;
mod tls;

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use crate::protocol::{Command, ParamName, QueryError, QueryParam, RequestQuery};
use crate::wbxml::{DecodeOptions, Element};

pub use config::{
    ClientConfig, DEFAULT_DEVICE_TYPE, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, QueryForm,
};
pub use error::ClientError;
pub use provision::{POLICY_TYPE, POLICY_TYPE_2_5, policy_type};
pub use secret::Secret;

use provision::Phase;

/// The content type of WBXML bodies (MS-ASHTTP 2.2.1.1.2.3).
pub const WBXML_CONTENT_TYPE: &str = "application/vnd.ms-sync.wbxml";

/// Where the eastest mock serves its test hooks.
pub const HOOK_PREFIX: &str = "/_eastest/";

/// HTTP 449 Retry With: provision first (MS-ASHTTP 2.2.2.1.1, up to 12.1).
const HTTP_RETRY_WITH: u16 = 449;
/// HTTP 451 Redirect (MS-ASHTTP 3.1.5.2.2).
const HTTP_REDIRECT: u16 = 451;
/// The header naming the endpoint to use after a 451.
const X_MS_LOCATION: &str = "x-ms-location";

/// Common status 142 DeviceNotProvisioned (MS-ASCMD 2.2.2).
const STATUS_DEVICE_NOT_PROVISIONED: u32 = 142;
/// Common status 143 PolicyRefresh.
const STATUS_POLICY_REFRESH: u32 = 143;
/// Common status 144 InvalidPolicyKey.
const STATUS_INVALID_POLICY_KEY: u32 = 144;
/// The root statuses that ask the client to provision again.
const PROVISIONING_STATUSES: [u32; 3] = [
    STATUS_DEVICE_NOT_PROVISIONED,
    STATUS_POLICY_REFRESH,
    STATUS_INVALID_POLICY_KEY,
];

/// The locale of base64 request lines: en-US.
const LOCALE_EN_US: u16 = 0x0409;

/// Headers whose values are credentials: shown as `[redacted]` in `Debug`.
const SECRET_HEADERS: [&str; 2] = ["authorization", "x-ms-policykey"];

/// What a request posts.
#[derive(Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// No body (GetAttachment, an empty Sync or Ping).
    None,
    /// A WBXML document, sent as `application/vnd.ms-sync.wbxml`.
    Wbxml(Vec<u8>),
    /// Any other body with its content type (`message/rfc822` for 12.1
    /// SendMail, or deliberately wrong content for a negative test).
    Raw {
        /// The `Content-Type` to send.
        content_type: String,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

impl fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestBody::None => f.write_str("None"),
            RequestBody::Wbxml(b) => write!(f, "Wbxml({} bytes)", b.len()),
            RequestBody::Raw {
                content_type,
                bytes,
            } => write!(f, "Raw({content_type}, {} bytes)", bytes.len()),
        }
    }
}

/// One EAS command to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The command (`Cmd=`).
    pub command: Command,
    /// Query parameters besides Cmd, User, DeviceId and DeviceType
    /// (`CollectionId`, `ItemId`, `SaveInSent`...), in order.
    pub params: Vec<(String, String)>,
    /// Extra headers; they replace the client's default of the same name.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: RequestBody,
    /// Provision and retry once when the answer asks for it.
    pub auto_provision: bool,
    /// This request's time limit instead of [`ClientConfig::timeout`]
    /// (a Ping or a Sync with `Wait` needs its heartbeat plus a margin).
    pub timeout: Option<Duration>,
}

impl Request {
    /// A request without parameters, headers or body, auto-provisioning.
    pub fn new(command: Command) -> Request {
        Request {
            command,
            params: Vec::new(),
            headers: Vec::new(),
            body: RequestBody::None,
            auto_provision: true,
            timeout: None,
        }
    }

    /// A request with a WBXML body.
    pub fn wbxml(command: Command, body: Vec<u8>) -> Request {
        Request {
            body: RequestBody::Wbxml(body),
            ..Request::new(command)
        }
    }

    /// Adds a query parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// `Debug` without credential values: an `Authorization` or
/// `X-MS-PolicyKey` header a suite sets shows as `[redacted]`.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let secret = SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s));
                (
                    name.as_str(),
                    if secret { "[redacted]" } else { value.as_str() },
                )
            })
            .collect();
        f.debug_struct("Request")
            .field("command", &self.command)
            .field("params", &self.params)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("auto_provision", &self.auto_provision)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A server's answer, read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The headers, names lowercased, in the order received (reqwest drops
    /// `Content-Encoding` and `Content-Length` of a body it inflated).
    pub headers: Vec<(String, String)>,
    /// The body (inflated).
    pub body: Vec<u8>,
    /// HTTP requests this call made: provisioning, the redirect retry and
    /// the provisioning retry included.
    pub requests: usize,
    /// Whether this call ran the Provision handshake.
    pub provisioned: bool,
    /// The endpoint this call switched to after an HTTP 451.
    pub redirected_to: Option<String>,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What an OPTIONS answer says about the server (MS-ASHTTP 2.2.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// `MS-ASProtocolVersions`, e.g. `["12.1", "14.0", "14.1"]`.
    pub versions: Vec<String>,
    /// `MS-ASProtocolCommands`, e.g. `["Sync", "FolderSync", ...]`.
    pub commands: Vec<String>,
    /// `MS-Server-ActiveSync`, the server's build, if given.
    pub server_version: Option<String>,
}

/// What one call of the public API did, over its HTTP requests.
#[derive(Default)]
struct Call {
    requests: usize,
    redirected_to: Option<String>,
}

/// Which HTTP request to (re)build against the current endpoint.
#[derive(Clone, Copy)]
enum Exchange<'a> {
    Options,
    Post {
        request: &'a Request,
        policy_key: Option<u32>,
    },
}

/// An EAS client for one device (see the module docs).
pub struct EasClient {
    http: reqwest::Client,
    config: ClientConfig,
    /// The endpoint in use: the configured one, or where a 451 sent us.
    endpoint: Mutex<Url>,
    /// The final policy key of the last handshake.
    policy_key: Mutex<Option<u32>>,
    /// Serializes handshakes, so that concurrent requests that all see a
    /// 142 do not interleave their two phases.
    provisioning: tokio::sync::Mutex<()>,
}

impl fmt::Debug for EasClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EasClient")
            .field("config", &self.config)
            .field("endpoint", &self.endpoint())
            .field(
                "policy_key",
                &self.policy_key().map(|_| "[redacted]").unwrap_or("none"),
            )
            .finish()
    }
}

impl EasClient {
    /// Checks the configuration and builds the HTTP client (TLS roots,
    /// `ca_cert`). Nothing is sent.
    pub fn new(config: ClientConfig) -> Result<EasClient, ClientError> {
        let endpoint = parse_endpoint(&config.url).map_err(ClientError::Config)?;
        if config.timeout.is_zero() {
            return Err(ClientError::Config("the timeout must be above zero".into()));
        }
        if config.max_response_bytes == 0 {
            return Err(ClientError::Config(
                "max_response_bytes must be above zero".into(),
            ));
        }
        let tls = tls::client_config(&config)?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ClientError::Setup(error_chain(&e.without_url())))?;
        Ok(EasClient {
            http,
            config,
            endpoint: Mutex::new(endpoint),
            policy_key: Mutex::new(None),
            provisioning: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The endpoint in use (the configured URL, or the last 451 location).
    pub fn endpoint(&self) -> String {
        lock(&self.endpoint).to_string()
    }

    /// The current policy key, if the device has been provisioned.
    pub fn policy_key(&self) -> Option<u32> {
        *lock(&self.policy_key)
    }

    /// OPTIONS on the endpoint (following a 451): the raw answer; see
    /// [`EasClient::server_info`].
    pub async fn options(&self) -> Result<Response, ClientError> {
        let mut call = Call::default();
        let response = self
            .round_trip(Exchange::Options, self.config.timeout, &mut call)
            .await?;
        Ok(finish(response, call, false))
    }

    /// The versions, commands and server version an OPTIONS answer lists
    /// (comma-separated header values, trimmed, empty items dropped).
    pub fn server_info(response: &Response) -> ServerInfo {
        let list = |name: &str| -> Vec<String> {
            response
                .header(name)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        ServerInfo {
            versions: list("ms-asprotocolversions"),
            commands: list("ms-asprotocolcommands"),
            server_version: response
                .header("ms-server-activesync")
                .map(|v| v.trim().to_string()),
        }
    }

    /// Sends one command; provisions and retries once when needed and
    /// allowed, follows one 451 (see the module docs).
    pub async fn send(&self, request: Request) -> Result<Response, ClientError> {
        let mut call = Call::default();
        let timeout = request.timeout.unwrap_or(self.config.timeout);
        let is_provision = request.command == Command::Provision;
        // The handshake's own requests carry the key they need in headers.
        let key = || (!is_provision).then(|| self.policy_key()).flatten();
        let mut response = self
            .round_trip(
                Exchange::Post {
                    request: &request,
                    policy_key: key(),
                },
                timeout,
                &mut call,
            )
            .await?;
        let mut provisioned = false;
        if request.auto_provision && !is_provision && self.needs_provisioning(&response) {
            self.provision_counted(&mut call).await?;
            provisioned = true;
            response = self
                .round_trip(
                    Exchange::Post {
                        request: &request,
                        policy_key: key(),
                    },
                    timeout,
                    &mut call,
                )
                .await?;
        }
        if is_provision && let Some(key) = provision::final_key_of(&response, self.config.version) {
            *lock(&self.policy_key) = Some(key);
        }
        Ok(finish(response, call, provisioned))
    }

    /// Runs the two-phase Provision handshake and keeps the final key.
    pub async fn provision(&self) -> Result<(), ClientError> {
        let mut call = Call::default();
        self.provision_counted(&mut call).await
    }

    /// POSTs `body` to `<origin>/_eastest/<path_and_query>` with the same
    /// credentials: the eastest mock's test hooks. Not redirected, not
    /// provisioned; the same timeout and size limit.
    pub async fn hook(&self, path_and_query: &str, body: Vec<u8>) -> Result<Response, ClientError> {
        let endpoint = lock(&self.endpoint).clone();
        let origin = endpoint.origin().ascii_serialization();
        let text = format!(
            "{origin}{HOOK_PREFIX}{}",
            path_and_query.trim_start_matches('/')
        );
        let url = Url::parse(&text)
            .map_err(|e| ClientError::Config(format!("hook path `{path_and_query}`: {e}")))?;
        let mut headers = HeaderMap::new();
        self.common_headers(&mut headers)?;
        let builder = self.http.post(url.clone()).headers(headers).body(body);
        let mut call = Call::default();
        let response = self
            .execute(builder, &url, self.config.timeout, &mut call)
            .await?;
        Ok(finish(response, call, false))
    }

    async fn provision_counted(&self, call: &mut Call) -> Result<(), ClientError> {
        let _one_at_a_time = self.provisioning.lock().await;
        let v = self.config.version;
        let timeout = self.config.timeout;
        let download = Request {
            auto_provision: false,
            ..Request::wbxml(Command::Provision, provision::download_request(v)?)
        };
        let answer = self
            .round_trip(
                Exchange::Post {
                    request: &download,
                    policy_key: None,
                },
                timeout,
                call,
            )
            .await?;
        let temporary = provision::policy_key_of(&answer, v, Phase::Download)?;
        let acknowledge = Request {
            auto_provision: false,
            ..Request::wbxml(
                Command::Provision,
                provision::acknowledge_request(v, temporary)?,
            )
        };
        let answer = self
            .round_trip(
                Exchange::Post {
                    request: &acknowledge,
                    policy_key: Some(temporary),
                },
                timeout,
                call,
            )
            .await?;
        let key = provision::policy_key_of(&answer, v, Phase::Acknowledge)?;
        *lock(&self.policy_key) = Some(key);
        Ok(())
    }

    /// Whether an answer asks for provisioning (module docs).
    fn needs_provisioning(&self, response: &Response) -> bool {
        if response.status == HTTP_RETRY_WITH {
            return true;
        }
        if response.status != 200 || response.body.is_empty() {
            return false;
        }
        let wbxml = response
            .header("content-type")
            .is_none_or(|t| t.trim().starts_with(WBXML_CONTENT_TYPE));
        if !wbxml {
            return false;
        }
        let Ok(root) =
            Element::from_wbxml(&response.body, &DecodeOptions::lenient(self.config.version))
        else {
            return false;
        };
        root.child_text("Status")
            .and_then(|s| s.trim().parse::<u32>().ok())
            .is_some_and(|s| PROVISIONING_STATUSES.contains(&s))
    }

    /// One exchange against the current endpoint, following one 451.
    async fn round_trip(
        &self,
        exchange: Exchange<'_>,
        timeout: Duration,
        call: &mut Call,
    ) -> Result<Response, ClientError> {
        let mut redirected = false;
        loop {
            let endpoint = lock(&self.endpoint).clone();
            let (url, builder) = self.build(exchange, &endpoint)?;
            let response = self.execute(builder, &url, timeout, call).await?;
            if response.status != HTTP_REDIRECT {
                return Ok(response);
            }
            let redirect_error = |reason: String| ClientError::Redirect {
                url: shown(&endpoint),
                reason,
            };
            if redirected {
                return Err(redirect_error(
                    "the endpoint it redirected to answered 451 too (two redirects in a row; \
                     check the server's X-MS-Location)"
                        .into(),
                ));
            }
            let location = response.header(X_MS_LOCATION).ok_or_else(|| {
                redirect_error(
                    "no X-MS-Location header (the server wants Autodiscover, MS-ASCMD; \
                     configure the right endpoint)"
                        .into(),
                )
            })?;
            let target = parse_endpoint(location)
                .map_err(|e| redirect_error(format!("X-MS-Location: {e}")))?;
            tracing::info!(
                from = %shown(&endpoint),
                to = %shown(&target),
                "HTTP 451: switching endpoints"
            );
            call.redirected_to = Some(target.to_string());
            *lock(&self.endpoint) = target;
            redirected = true;
        }
    }

    /// The HTTP request for `exchange` against `endpoint`.
    fn build(
        &self,
        exchange: Exchange<'_>,
        endpoint: &Url,
    ) -> Result<(Url, reqwest::RequestBuilder), ClientError> {
        let mut headers = HeaderMap::new();
        self.common_headers(&mut headers)?;
        let (request, policy_key) = match exchange {
            Exchange::Options => {
                let builder = self
                    .http
                    .request(Method::OPTIONS, endpoint.clone())
                    .headers(headers);
                return Ok((endpoint.clone(), builder));
            }
            Exchange::Post {
                request,
                policy_key,
            } => (request, policy_key),
        };
        let mut url = endpoint.clone();
        // Request headers that the base64 form carries in the query.
        let mut moved: &[&str] = &[];
        match self.config.query_form {
            QueryForm::Plain => {
                url.set_query(Some(&self.plain_query(request)));
                insert(
                    &mut headers,
                    "MS-ASProtocolVersion",
                    self.config.version.as_str(),
                )?;
                if let Some(key) = policy_key {
                    insert(&mut headers, "X-MS-PolicyKey", &key.to_string())?;
                }
            }
            QueryForm::Base64 => {
                let query = self.base64_query(request, policy_key)?;
                url.set_query(Some(&percent_encode_base64(&query)));
                moved = &["x-ms-policykey", "ms-asacceptmultipart"];
            }
        }
        let body = match &request.body {
            RequestBody::None => Vec::new(),
            RequestBody::Wbxml(bytes) => {
                insert(&mut headers, "Content-Type", WBXML_CONTENT_TYPE)?;
                bytes.clone()
            }
            RequestBody::Raw {
                content_type,
                bytes,
            } => {
                insert(&mut headers, "Content-Type", content_type)?;
                bytes.clone()
            }
        };
        // The request's own headers: the first of each name replaces the
        // default, later ones add values.
        let mut replaced: Vec<HeaderName> = Vec::new();
        for (name, value) in &request.headers {
            if moved.iter().any(|m| name.eq_ignore_ascii_case(m)) {
                continue;
            }
            let (name, value) = header_pair(name, value)?;
            if !replaced.contains(&name) {
                headers.remove(&name);
                replaced.push(name.clone());
            }
            headers.append(name, value);
        }
        let builder = self.http.post(url.clone()).headers(headers).body(body);
        Ok((url, builder))
    }

    /// Authorization (unless `anonymous`) and User-Agent.
    fn common_headers(&self, headers: &mut HeaderMap) -> Result<(), ClientError> {
        if self.config.anonymous {
            return insert(headers, "User-Agent", &self.config.user_agent);
        }
        let credentials = BASE64.encode(format!(
            "{}:{}",
            self.config.user,
            self.config.password.expose()
        ));
        let mut auth = HeaderValue::from_str(&format!("Basic {credentials}")).map_err(|_| {
            ClientError::InvalidHeader {
                name: "Authorization".into(),
            }
        })?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        insert(headers, "User-Agent", &self.config.user_agent)
    }

    fn plain_query(&self, request: &Request) -> String {
        let mut query = self.query(request.command);
        query.params = request
            .params
            .iter()
            .map(|(name, value)| QueryParam::new(param_name(name), value.clone()))
            .collect();
        query.to_plain()
    }

    fn base64_query(
        &self,
        request: &Request,
        policy_key: Option<u32>,
    ) -> Result<String, ClientError> {
        let wrap = |source: QueryError| ClientError::Query {
            form: "base64",
            source,
        };
        let mut query = self.query(request.command);
        query.protocol_version = Some(self.config.version);
        query.locale = Some(LOCALE_EN_US);
        query.policy_key = policy_key;
        for (index, (name, value)) in request.params.iter().enumerate() {
            if name == "SaveInSent" {
                query.save_in_sent = match value.as_str() {
                    "T" => true,
                    "F" => false,
                    _ => {
                        return Err(wrap(QueryError::InvalidSaveInSent {
                            value: value.clone(),
                            index: index + 1,
                        }));
                    }
                };
                continue;
            }
            let name = param_name(name);
            if name.tag().is_none() {
                return Err(ClientError::NoBase64Tag {
                    name: name.to_string(),
                });
            }
            query.params.push(QueryParam::new(name, value.clone()));
        }
        for (name, value) in &request.headers {
            if name.eq_ignore_ascii_case("x-ms-policykey") {
                query.policy_key = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| ClientError::InvalidHeader { name: name.clone() })?,
                );
            } else if name.eq_ignore_ascii_case("ms-asacceptmultipart") {
                query.accept_multipart = value.trim().eq_ignore_ascii_case("T");
            }
        }
        query.to_base64().map_err(wrap)
    }

    fn query(&self, command: Command) -> RequestQuery {
        RequestQuery {
            user: Some(self.config.user.clone()),
            ..RequestQuery::new(
                command,
                self.config.device_id.clone(),
                self.config.device_type.clone(),
            )
        }
    }

    /// Sends, then reads the whole body within `timeout` and the size limit.
    async fn execute(
        &self,
        builder: reqwest::RequestBuilder,
        url: &Url,
        timeout: Duration,
        call: &mut Call,
    ) -> Result<Response, ClientError> {
        call.requests += 1;
        let limit = self.config.max_response_bytes;
        let exchange = async {
            let mut response = builder
                .send()
                .await
                .map_err(|e| transport_error(e, url, timeout))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let too_large = || ClientError::ResponseTooLarge {
                url: shown(url),
                limit,
            };
            if response
                .content_length()
                .is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX))
            {
                return Err(too_large());
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| transport_error(e, url, timeout))?
            {
                if chunk.len() > limit - body.len() {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Response {
                status,
                headers,
                body,
                requests: 0,
                provisioned: false,
                redirected_to: None,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout {
                url: shown(url),
                after: timeout,
            }),
        }
    }
}

/// The response of a public call, with what the call did.
fn finish(mut response: Response, call: Call, provisioned: bool) -> Response {
    response.requests = call.requests;
    response.provisioned = provisioned;
    response.redirected_to = call.redirected_to;
    response
}

/// Locks a mutex whose data stays valid even if a holder panicked (the
/// values are plain, written in one assignment).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An EAS endpoint: an http or https URL with a host, without credentials
/// (they would leak into messages), query or fragment.
fn parse_endpoint(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim())
        .map_err(|e| format!("`{}` is not a URL: {e}", redact_userinfo(text)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{}`: only http and https URLs can be used",
            shown(&url)
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{}` has no host", shown(&url)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{}` has credentials in it; give them as user and password instead",
            shown(&url)
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`{}` has a query or fragment; give the endpoint only \
             (the client writes the request line)",
            shown(&url)
        ));
    }
    Ok(url)
}

/// `text` with anything between `://` and `@` replaced, for messages
/// about a URL that did not parse.
fn redact_userinfo(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}://[redacted]@{}", &text[..start], &text[at + 1..])
        }
        _ => text.to_string(),
    }
}

/// A URL as shown in messages: scheme, host, port and path only.
fn shown(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

/// The base64 text with `+`, `/` and `=` percent-encoded.
fn percent_encode_base64(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}

/// The parameter named `name` (exact spelling), `Other` when unknown.
fn param_name(name: &str) -> ParamName {
    [
        ParamName::AttachmentName,
        ParamName::CollectionId,
        ParamName::CollectionName,
        ParamName::ItemId,
        ParamName::LongId,
        ParamName::ParentId,
        ParamName::Occurrence,
    ]
    .into_iter()
    .find(|p| p.as_str() == name)
    .unwrap_or_else(|| ParamName::Other(name.to_string()))
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), ClientError> {
    let invalid = || ClientError::InvalidHeader {
        name: name.to_string(),
    };
    let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
    let mut value = HeaderValue::from_str(value).map_err(|_| invalid())?;
    if SECRET_HEADERS.contains(&header.as_str()) {
        value.set_sensitive(true);
    }
    Ok((header, value))
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), ClientError> {
    let (name, value) = header_pair(name, value)?;
    headers.insert(name, value);
    Ok(())
}

/// Classifies a reqwest failure by walking its source chain.
fn transport_error(error: reqwest::Error, url: &Url, timeout: Duration) -> ClientError {
    let url_shown = shown(url);
    if error.is_timeout() {
        return ClientError::Timeout {
            url: url_shown,
            after: timeout,
        };
    }
    let error = error.without_url();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = source {
        // `io::Error::source` skips the error it wraps, so wrapped errors
        // (tokio-rustls puts the rustls error two `io::Error`s deep) are
        // unwrapped by hand.
        let mut inner: &(dyn std::error::Error + 'static) = e;
        loop {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return ClientError::Tls {
                    url: url_shown,
                    reason: tls.to_string(),
                };
            }
            let Some(io) = inner.downcast_ref::<std::io::Error>() else {
                break;
            };
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return ClientError::ConnectionRefused { url: url_shown };
            }
            match io.get_ref() {
                Some(wrapped) => inner = wrapped,
                None => break,
            }
        }
        if e.to_string().starts_with("dns error") {
            return ClientError::Dns {
                url: url_shown,
                reason: e.source().map(|s| s.to_string()).unwrap_or_default(),
            };
        }
        source = e.source();
    }
    ClientError::Http {
        url: url_shown,
        reason: error_chain(&error),
    }
}

/// An error and its sources, `: `-separated, without repeats.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ProtocolVersion;

    fn client(form: QueryForm) -> EasClient {
        let mut config = ClientConfig::new(
            "http://127.0.0.1:9/Microsoft-Server-ActiveSync",
            "jo",
            "pw-Xyzzy-77",
            "DEV1",
            ProtocolVersion::V14_1,
        );
        config.query_form = form;
        EasClient::new(config).unwrap()
    }

    #[test]
    fn endpoints_are_checked() {
        assert!(parse_endpoint("http://h/x").is_ok());
        for bad in [
            "ftp://h/x",
            "http://u:secret-Qq@h/x",
            "http://h/x?Cmd=Sync",
            "not a url",
        ] {
            let e = parse_endpoint(bad).unwrap_err();
            assert!(!e.contains("secret-Qq"), "{e}");
        }
        assert!(redact_userinfo("http://u:secret-Qq@ho st/").contains("[redacted]@ho st"),);
    }

    #[test]
    fn plain_request_line_and_headers() {
        let c = client(QueryForm::Plain);
        let request = Request::wbxml(Command::SmartReply, vec![1, 2])
            .param("ItemId", "5:1")
            .param("SaveInSent", "T")
            .header("MS-ASProtocolVersion", "99.9");
        let endpoint = lock(&c.endpoint).clone();
        let (url, builder) = c
            .build(
                Exchange::Post {
                    request: &request,
                    policy_key: Some(7),
                },
                &endpoint,
            )
            .unwrap();
        assert_eq!(
            url.query(),
            Some(
                "Cmd=SmartReply&User=jo&DeviceId=DEV1&DeviceType=eastest&ItemId=5%3A1&SaveInSent=T"
            )
        );
        let built = builder.build().unwrap();
        let h = built.headers();
        assert_eq!(h["x-ms-policykey"], "7");
        assert_eq!(h["content-type"], WBXML_CONTENT_TYPE);
        // The request's header replaced the default one.
        assert_eq!(h.get_all("ms-asprotocolversion").iter().count(), 1);
        assert_eq!(h["ms-asprotocolversion"], "99.9");
        assert!(h["authorization"].is_sensitive());
    }

    #[test]
    fn base64_request_line() {
        let c = client(QueryForm::Base64);
        let request = Request::new(Command::SmartForward)
            .param("ItemId", "5:1")
            .param("SaveInSent", "T")
            .header("X-MS-PolicyKey", "0")
            .header("MS-ASAcceptMultiPart", "T");
        let endpoint = lock(&c.endpoint).clone();
        let (url, builder) = c
            .build(
                Exchange::Post {
                    request: &request,
                    policy_key: Some(7),
                },
                &endpoint,
            )
            .unwrap();
        let q = RequestQuery::parse(url.query().unwrap()).unwrap();
        assert_eq!(q.command, Command::SmartForward);
        assert_eq!(q.user.as_deref(), Some("jo"));
        assert_eq!(q.protocol_version, Some(ProtocolVersion::V14_1));
        assert_eq!(
            q.policy_key,
            Some(0),
            "the header's key replaces the client's"
        );
        assert!(q.save_in_sent && q.accept_multipart);
        assert_eq!(q.param(&ParamName::ItemId), Some("5:1"));
        let built = builder.build().unwrap();
        assert!(built.headers().get("x-ms-policykey").is_none());
        assert!(built.headers().get("ms-asprotocolversion").is_none());

        let unknown = Request::new(Command::Sync).param("Foo", "1");
        let e = c
            .build(
                Exchange::Post {
                    request: &unknown,
                    policy_key: None,
                },
                &endpoint,
            )
            .err()
            .unwrap();
        assert!(
            matches!(e, ClientError::NoBase64Tag { ref name } if name == "Foo"),
            "{e}"
        );
    }

    #[test]
    fn request_debug_redacts_credentials() {
        let r = Request::new(Command::Sync)
            .header("Authorization", "Basic c2VjcmV0")
            .header("x-ms-policykey", "31337");
        let text = format!("{r:?}");
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("31337"),
            "{text}"
        );
        assert!(text.contains("[redacted]"), "{text}");
    }

    #[test]
    fn base64_text_is_percent_encoded() {
        assert_eq!(percent_encode_base64("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }
}
