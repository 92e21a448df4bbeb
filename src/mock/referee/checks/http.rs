//! MS-ASHTTP: the request line, the headers every request needs, and the
//! client's reaction to HTTP 503 (`Retry-After`) and 451 (`X-MS-Location`).
//!
//! The User-Agent heuristic (SHOULD): a request without `User-Agent`, with
//! an empty one, or with the default of a generic HTTP library (the value
//! starts with `curl/`, `Wget/`, `python-requests/`, `python-urllib`,
//! `Python-urllib/`, `aiohttp/`, `Go-http-client/`, `reqwest/`, `okhttp/`,
//! `Java/`, `Apache-HttpClient/`, `libwww-perl/`, `axios/`, `node-fetch/`,
//! `undici`, `PostmanRuntime/`, `Dalvik/` or `CFNetwork/` alone) is flagged:
//! servers (and their administrators' device rules) tell clients apart by
//! it. A Settings request that carries `DeviceInformation` is exempt, since
//! MS-ASCMD 2.2.3.190 lets the client move the value into `UserAgent` there.

use std::time::{Duration, SystemTime};

use crate::protocol::{Command, RequestBody, RequestQuery};
use crate::wbxml::ProtocolVersion;

use super::super::{Check, Severity};
use super::{Limits, Observed, Verdict};

pub static REQUEST_LINE: Check = Check {
    id: "http.request-line",
    severity: Severity::Must,
    reference: "MS-ASHTTP 2.2.1.1.1.1, 2.2.1.1.1.2",
    message: "Send Cmd, User, DeviceId (1-32 letters and digits) and DeviceType in the plain \
              request line, or a well-formed base64 request line",
};

pub static PROTOCOL_VERSION: Check = Check {
    id: "http.protocol-version",
    severity: Severity::Must,
    reference: "MS-ASHTTP 2.2.1.1.2.6",
    message: "Send the MS-ASProtocolVersion header with every POST that uses the plain request line",
};

pub static VERSION_OFFERED: Check = Check {
    id: "http.version-offered",
    severity: Severity::Must,
    reference: "MS-ASHTTP 2.2.1.1.2.6; MS-ASCMD 3.1.5.1 (OPTIONS MS-ASProtocolVersions)",
    message: "Use one of the protocol versions the server advertised in MS-ASProtocolVersions \
              (the OPTIONS response)",
};

pub static CONTENT_TYPE: Check = Check {
    id: "http.content-type",
    severity: Severity::Must,
    reference: "MS-ASHTTP 2.2.1.1.2.3",
    message: "Label a WBXML body Content-Type: application/vnd.ms-sync.wbxml (a 12.1 MIME \
              SendMail/SmartReply/SmartForward body: message/rfc822)",
};

pub static USER_AGENT: Check = Check {
    id: "http.user-agent",
    severity: Severity::Should,
    reference: "MS-ASHTTP 2.2.1.1.2 (User-Agent); MS-ASCMD 2.2.3.190",
    message: "Send a User-Agent that names your client and its version, not an HTTP library's \
              default",
};

pub static RETRY_AFTER: Check = Check {
    id: "http.retry-after",
    severity: Severity::Should,
    reference: "MS-ASHTTP 3.1.5.2.3",
    message: "After HTTP 503 with Retry-After, wait that many seconds before the next request",
};

pub static REDIRECT: Check = Check {
    id: "http.redirect",
    severity: Severity::Should,
    reference: "MS-ASHTTP 3.1.5.2.2",
    message: "After HTTP 451 with X-MS-Location, send the following requests to that URL",
};

/// Value prefixes of generic HTTP libraries' default User-Agents.
const GENERIC_AGENTS: &[&str] = &[
    "curl/",
    "wget/",
    "python-requests/",
    "python-urllib",
    "aiohttp/",
    "go-http-client/",
    "reqwest/",
    "okhttp/",
    "java/",
    "apache-httpclient/",
    "libwww-perl/",
    "axios/",
    "node-fetch/",
    "undici",
    "postmanruntime/",
];

/// Prefixes that are a platform's default only when nothing else follows.
const PLATFORM_ONLY: &[&str] = &["dalvik/", "cfnetwork/"];

/// Why this User-Agent value is not acceptable, if it is not.
pub fn user_agent_problem(value: Option<&str>) -> Option<String> {
    let Some(value) = value else {
        return Some("no User-Agent header".to_string());
    };
    let v = value.trim();
    if v.is_empty() {
        return Some("an empty User-Agent header".to_string());
    }
    let lower = v.to_ascii_lowercase();
    if let Some(p) = GENERIC_AGENTS.iter().find(|p| lower.starts_with(*p)) {
        return Some(format!(
            "User-Agent `{v}` is the default of a generic HTTP library ({p}…)"
        ));
    }
    if PLATFORM_ONLY
        .iter()
        .any(|p| lower.starts_with(p) && !lower.contains(' '))
    {
        return Some(format!("User-Agent `{v}` is the platform's default"));
    }
    None
}

/// What the last response asked of the next request.
#[derive(Debug, Default)]
pub struct State {
    /// HTTP 503 with Retry-After: (exchange, no request before this time,
    /// the seconds asked).
    retry: Option<(u64, SystemTime, u64)>,
    /// HTTP 451 with X-MS-Location: (exchange, the URL).
    redirect: Option<(u64, String)>,
}

impl State {
    pub fn request(&mut self, o: &Observed, limits: &Limits, v: &mut Verdict) {
        let seq = o.seq;
        if let Some((at, until, secs)) = self.retry.take() {
            v.expect(&RETRY_AFTER, o.started >= until, seq, || {
                let early = until
                    .duration_since(o.started)
                    .unwrap_or(Duration::ZERO)
                    .as_secs_f64();
                format!(
                    "exchange #{at} answered HTTP 503 with Retry-After: {secs}; this request came \
                     {early:.1} s too early"
                )
            });
        }
        if let Some((at, url)) = self.redirect.take() {
            let (host, path) = split_url(&url);
            let same_host = match (host, o.host.as_deref()) {
                (Some(h), Some(r)) => h.eq_ignore_ascii_case(r),
                _ => true,
            };
            let ok = same_host && path == o.path;
            v.expect(&REDIRECT, ok, seq, || {
                format!(
                    "exchange #{at} answered HTTP 451 with X-MS-Location {url}; this request went \
                     to {}{} instead",
                    o.host.as_deref().unwrap_or(""),
                    o.path
                )
            });
        }

        let settings_device_information = o.is(Command::Settings)
            && o.request
                .as_ref()
                .is_some_and(|r| r.child("DeviceInformation").is_some());
        if !settings_device_information {
            let problem = user_agent_problem(o.header("User-Agent"));
            v.expect(&USER_AGENT, problem.is_none(), seq, || {
                problem.unwrap_or_default()
            });
        }

        if !o.is_post() {
            return;
        }
        let query = match &o.query {
            None => {
                v.fail(
                    &REQUEST_LINE,
                    seq,
                    "a POST without a query (Cmd, User, DeviceId, DeviceType)",
                );
                return;
            }
            Some(Err(e)) => {
                v.fail(
                    &REQUEST_LINE,
                    seq,
                    format!("the request line does not parse: {e}"),
                );
                return;
            }
            Some(Ok(q)) => q,
        };
        v.applies(&REQUEST_LINE);
        let plain = query.protocol_version.is_none();
        if plain {
            let header = o.header("MS-ASProtocolVersion");
            match header {
                None => v.fail(&PROTOCOL_VERSION, seq, "no MS-ASProtocolVersion header"),
                Some(text) => v.expect(
                    &PROTOCOL_VERSION,
                    text.trim().parse::<ProtocolVersion>().is_ok(),
                    seq,
                    || format!("MS-ASProtocolVersion `{text}` names no EAS version"),
                ),
            }
        }
        if let Some(version) = o.version {
            v.expect(
                &VERSION_OFFERED,
                limits.versions.contains(version),
                seq,
                || {
                    let offered: Vec<&str> = limits.versions.iter().map(|v| v.as_str()).collect();
                    format!(
                        "protocol version {version} is not among those advertised ({})",
                        offered.join(",")
                    )
                },
            );
            content_type(o, query, version, v);
        }
    }

    pub fn response(&mut self, o: &Observed) {
        if o.status == 503
            && let Some(secs) = o
                .response_header("Retry-After")
                .and_then(|s| s.trim().parse::<u64>().ok())
        {
            self.retry = Some((o.seq, o.finished + Duration::from_secs(secs), secs));
        }
        if o.status == 451
            && let Some(url) = o.response_header("X-MS-Location")
        {
            self.redirect = Some((o.seq, url.trim().to_string()));
        }
    }
}

fn content_type(o: &Observed, query: &RequestQuery, version: ProtocolVersion, v: &mut Verdict) {
    if o.body.is_empty() {
        return;
    }
    let sent = o.header("Content-Type").unwrap_or("").trim();
    let media = sent
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (ok, expected) = match query.command.request_body(version) {
        RequestBody::Mime => (media == "message/rfc822", "message/rfc822"),
        RequestBody::None => return,
        _ => (
            media == "application/vnd.ms-sync.wbxml"
                || (media == "application/vnd.ms-sync" && version >= ProtocolVersion::V12_1),
            "application/vnd.ms-sync.wbxml",
        ),
    };
    v.expect(&CONTENT_TYPE, ok, o.seq, || {
        if sent.is_empty() {
            format!(
                "a {} body without Content-Type; expected {expected}",
                query.command
            )
        } else {
            format!(
                "Content-Type `{sent}` for a {} body; expected {expected}",
                query.command
            )
        }
    });
}

/// The authority (host[:port]) and path of an absolute URL; a relative one
/// has no authority.
fn split_url(url: &str) -> (Option<&str>, &str) {
    let Some((_, rest)) = url.split_once("://") else {
        return (None, url.split('?').next().unwrap_or(url));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    (Some(authority), path.split('?').next().unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{Tracker, judge};
    use super::*;

    fn ids(v: &Verdict) -> Vec<&'static str> {
        v.findings.iter().map(|f| f.check.id).collect()
    }

    #[test]
    fn user_agent_heuristic() {
        assert!(user_agent_problem(None).is_some());
        assert!(user_agent_problem(Some("  ")).is_some());
        assert!(user_agent_problem(Some("curl/8.5.0")).is_some());
        assert!(user_agent_problem(Some("python-requests/2.31")).is_some());
        assert!(user_agent_problem(Some("Go-http-client/1.1")).is_some());
        assert!(user_agent_problem(Some("Dalvik/2.1.0")).is_some());
        assert_eq!(user_agent_problem(Some("Outlook-iOS/2.0")), None);
        assert_eq!(
            user_agent_problem(Some("Dalvik/2.1.0 (Linux; U; Android 14) MyMail/3")),
            None
        );
    }

    #[test]
    fn retry_after_is_timed_from_the_response() {
        let mut t = Tracker::default();
        let mut first = post(1, "FolderSync", None, None);
        first.status = 503;
        first
            .response_headers
            .insert("Retry-After", "30".parse().unwrap());
        assert!(judge(&mut t, &first, &limits()).findings.is_empty());
        let mut early = post(2, "FolderSync", None, None);
        early.started = first.finished + Duration::from_secs(5);
        assert_eq!(ids(&judge(&mut t, &early, &limits())), ["http.retry-after"]);

        let mut t = Tracker::default();
        assert!(judge(&mut t, &first, &limits()).findings.is_empty());
        let mut late = post(2, "FolderSync", None, None);
        late.started = first.finished + Duration::from_secs(31);
        let v = judge(&mut t, &late, &limits());
        assert!(v.findings.is_empty(), "{:?}", v.findings);
        assert!(v.applied.iter().any(|c| c.id == "http.retry-after"));
    }

    #[test]
    fn redirect_451_compares_host_and_path() {
        let mut t = Tracker::default();
        let mut first = post(1, "FolderSync", None, None);
        first.status = 451;
        first.response_headers.insert(
            "X-MS-Location",
            "http://127.0.0.1:8080/Other-ActiveSync".parse().unwrap(),
        );
        judge(&mut t, &first, &limits());
        let same = post(2, "FolderSync", None, None);
        assert_eq!(ids(&judge(&mut t, &same, &limits())), ["http.redirect"]);

        let mut t = Tracker::default();
        judge(&mut t, &first, &limits());
        let mut moved = post(2, "FolderSync", None, None);
        moved.path = "/Other-ActiveSync".to_string();
        assert!(judge(&mut t, &moved, &limits()).findings.is_empty());

        // Another host: a request that still arrives here did not move.
        let mut t = Tracker::default();
        first.response_headers.insert(
            "X-MS-Location",
            "https://mail.example.com/Microsoft-Server-ActiveSync"
                .parse()
                .unwrap(),
        );
        judge(&mut t, &first, &limits());
        let stayed = post(2, "FolderSync", None, None);
        assert_eq!(ids(&judge(&mut t, &stayed, &limits())), ["http.redirect"]);
    }

    #[test]
    fn split_url_parts() {
        assert_eq!(split_url("https://h:1/p?x"), (Some("h:1"), "/p"));
        assert_eq!(split_url("https://h"), (Some("h"), "/"));
        assert_eq!(split_url("/p"), (None, "/p"));
    }
}
