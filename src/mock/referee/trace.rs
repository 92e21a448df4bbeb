//! The decoded, redacted text of an exchange, for the trace and reports.
//!
//! Secrets never reach it: the `Authorization` header shows `Basic
//! <redacted>`, `X-MS-PolicyKey` and cookies `<redacted>`; in bodies the
//! text of every `Password` element (Settings `DevicePassword`,
//! ItemOperations credentials) and every `PolicyKey` element (Provision)
//! becomes `[redacted]`; a base64 request line is shown parsed, with its
//! Policy key field redacted, never as the raw base64 text.

use axum::http::HeaderMap;

use crate::protocol::RequestQuery;
use crate::wbxml::{self, DecodeOptions, ProtocolVersion};

/// Bodies are cut at this many characters of text in the trace.
pub const MAX_BODY_TEXT: usize = 64 * 1024;

/// Element names whose text is a secret.
const SECRET_ELEMENTS: &[&str] = &["Password", "PolicyKey"];

/// Headers whose values are secrets.
pub fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let n = name.as_str().to_ascii_lowercase();
            let text = match n.as_str() {
                "authorization" => {
                    let v = value.to_str().unwrap_or("");
                    match v.split_once(' ') {
                        Some((scheme, _)) => format!("{scheme} <redacted>"),
                        None => "<redacted>".to_string(),
                    }
                }
                "x-ms-policykey" | "cookie" | "set-cookie" => "<redacted>".to_string(),
                _ => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str().to_string(), text)
        })
        .collect()
}

/// The request line as the trace shows it.
pub fn request_line(raw: Option<&str>, parsed: Option<&Result<RequestQuery, String>>) -> String {
    let Some(raw) = raw else {
        return String::new();
    };
    match parsed {
        Some(Ok(q)) if q.protocol_version.is_some() => {
            let mut s = format!("[base64 form] {}", q.to_plain());
            if let Some(v) = q.protocol_version {
                s.push_str(&format!(" ProtocolVersion={v}"));
            }
            if q.policy_key.is_some() {
                s.push_str(" PolicyKey=<redacted>");
            }
            s
        }
        Some(Ok(_)) => raw.to_string(),
        // A line that does not parse is shown only in the plain form (the
        // base64 form could hold a policy key).
        _ if RequestQuery::detect_form(raw) == crate::protocol::QueryForm::Plain => raw.to_string(),
        _ => format!(
            "[base64 form that does not parse, {} characters]",
            raw.len()
        ),
    }
}

/// A body as text: WBXML decoded leniently into XML (secrets redacted),
/// other text as is, binary as a byte count.
pub fn body_text(bytes: &[u8], wbxml_body: bool, version: Option<ProtocolVersion>) -> String {
    if bytes.is_empty() {
        return String::new();
    }
    let text = if wbxml_body {
        let v = version.unwrap_or(ProtocolVersion::V16_1);
        match wbxml::decode(bytes, &DecodeOptions::lenient(v)) {
            Ok(xml) => redact_xml(&xml),
            Err(e) => format!("[{} bytes that do not decode as WBXML: {e}]", bytes.len()),
        }
    } else {
        match std::str::from_utf8(bytes) {
            Ok(t) if !t.chars().any(|c| c.is_control() && !c.is_whitespace()) => t.to_string(),
            _ => format!("[{} bytes of binary content]", bytes.len()),
        }
    };
    if text.len() > MAX_BODY_TEXT {
        let mut end = MAX_BODY_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!(
            "{}\n[... {} more characters cut]",
            &text[..end],
            text.len() - end
        )
    } else {
        text
    }
}

/// Replaces the text of the secret elements in decoded XML.
pub fn redact_xml(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..=end];
        out.push_str(tag);
        rest = &rest[end + 1..];
        let inner = tag.trim_start_matches('<').trim_end_matches('>');
        if inner.starts_with('/') || inner.starts_with('?') || inner.ends_with('/') {
            continue;
        }
        let name = inner.split_whitespace().next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        if SECRET_ELEMENTS.contains(&local) {
            let close = format!("</{name}>");
            if let Some(j) = rest.find(&close) {
                out.push_str("[redacted]");
                rest = &rest[j..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_xml_are_redacted() {
        let xml = "<Settings xmlns=\"Settings:\">\n  <DevicePassword>\n    <Set>\n      \
                   <Password>hunter2</Password>\n    </Set>\n  </DevicePassword>\n  \
                   <provision:PolicyKey>12345</provision:PolicyKey>\n  \
                   <PasswordRecoveryEnabled>1</PasswordRecoveryEnabled>\n</Settings>\n";
        let r = redact_xml(xml);
        assert!(!r.contains("hunter2"), "{r}");
        assert!(!r.contains("12345"), "{r}");
        assert!(r.contains("<Password>[redacted]</Password>"));
        assert!(r.contains("<PasswordRecoveryEnabled>1</PasswordRecoveryEnabled>"));
    }

    #[test]
    fn headers_and_base64_lines_are_redacted() {
        let mut h = HeaderMap::new();
        h.insert(
            "Authorization",
            "Basic YWxpY2U6YWxpY2UtcGFzcw==".parse().unwrap(),
        );
        h.insert("X-MS-PolicyKey", "987".parse().unwrap());
        let shown = redact_headers(&h);
        assert!(
            shown
                .iter()
                .any(|(n, v)| n == "authorization" && v == "Basic <redacted>")
        );
        assert!(shown.iter().all(|(_, v)| !v.contains("YWxp") && v != "987"));

        let mut q = RequestQuery::new(crate::protocol::Command::Sync, "dev1", "Phone");
        q.protocol_version = Some(ProtocolVersion::V14_1);
        q.locale = Some(0x409);
        q.policy_key = Some(424242);
        let raw = q.to_base64().unwrap();
        let line = request_line(Some(&raw), Some(&Ok(q)));
        assert!(line.contains("PolicyKey=<redacted>"), "{line}");
        assert!(!line.contains("424242") && !line.contains(&raw), "{line}");
    }
}
