//! The mail formats the mock reads when a client submits a message
//! (SendMail, SmartReply, SmartForward): a small RFC 5322 / MIME (RFC 2045,
//! 2046, 2047) reader and an iCalendar (RFC 5545) `VEVENT` reader for
//! meeting invitations, plus the date formats EAS uses.
//!
//! Enough for what clients send and what the mock has to know about it:
//! header fields (unfolded, encoded words decoded), address lists,
//! `multipart/*` trees, `base64` and `quoted-printable` bodies, UTF-8,
//! US-ASCII and ISO-8859-1 / Windows-1252 text. It is not a validating
//! parser: what it cannot read it leaves out, and only a message without any
//! header field is refused (InvalidMIME).

use crate::protocol::datetime::{civil_from_days, days_from_civil};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// One MIME entity: its header fields and either a decoded body (leaf) or
/// its parts (`multipart/*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    /// Header fields as sent (names as written), unfolded, in order.
    pub headers: Vec<(String, String)>,
    /// `type/subtype`, lowercased (`text/plain` when absent).
    pub mime_type: String,
    /// The `Content-Type` parameters, names lowercased.
    pub params: Vec<(String, String)>,
    /// The body after the transfer decoding (leaves only).
    pub body: Vec<u8>,
    pub parts: Vec<Part>,
}

impl Part {
    /// The first header field `name` (case-insensitive), encoded words decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.raw_header(name).map(decode_words)
    }

    /// The first header field `name` as sent (unfolded, not decoded).
    pub fn raw_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A `Content-Type` parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, in its `charset`.
    pub fn text(&self) -> String {
        decode_charset(&self.body, self.param("charset").unwrap_or("utf-8"))
    }

    /// Whether this leaf is an attachment rather than message text: a
    /// `Content-Disposition: attachment`, or a file name on a part that is
    /// neither text nor a calendar.
    pub fn is_attachment(&self) -> bool {
        let disposition = self
            .raw_header("Content-Disposition")
            .map(|d| d.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if disposition.starts_with("attachment") {
            return true;
        }
        let textual = self.mime_type.starts_with("text/");
        !textual && self.file_name().is_some()
    }

    /// The attachment's file name (`filename` of `Content-Disposition`, or
    /// the `name` parameter of `Content-Type`).
    pub fn file_name(&self) -> Option<String> {
        let from_disposition = self
            .raw_header("Content-Disposition")
            .map(|d| parse_params(d).1)
            .and_then(|p| p.into_iter().find(|(n, _)| n == "filename").map(|(_, v)| v));
        from_disposition
            .or_else(|| self.param("name").map(str::to_string))
            .map(|n| decode_words(&n))
    }

    /// Every leaf below (or this part, if it is one), depth first.
    pub fn leaves(&self) -> Vec<&Part> {
        if self.parts.is_empty() {
            return vec![self];
        }
        self.parts.iter().flat_map(Part::leaves).collect()
    }

    /// The message text: `text/plain` if there is one, else `text/html`
    /// (the bool says HTML). In `multipart/alternative` the plain
    /// alternative wins; elsewhere the first text leaf that is not an
    /// attachment.
    pub fn text_body(&self) -> Option<(String, bool)> {
        let leaves: Vec<&Part> = self
            .leaves()
            .into_iter()
            .filter(|p| !p.is_attachment())
            .collect();
        let plain = leaves.iter().find(|p| p.mime_type == "text/plain");
        if let Some(p) = plain {
            return Some((p.text(), false));
        }
        leaves
            .iter()
            .find(|p| p.mime_type == "text/html")
            .map(|p| (p.text(), true))
    }

    /// The first `text/calendar` leaf: its `METHOD` (from the parameter or
    /// the calendar itself, uppercased) and text.
    pub fn calendar(&self) -> Option<(String, String)> {
        let part = self
            .leaves()
            .into_iter()
            .find(|p| p.mime_type == "text/calendar")?;
        let text = part.text();
        let method = part
            .param("method")
            .map(str::to_string)
            .or_else(|| {
                unfold_ical(&text)
                    .iter()
                    .find_map(|l| l.strip_prefix("METHOD:").map(str::to_string))
            })
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        Some((method, text))
    }
}

/// Why a submitted message could not be read (common status 107
/// InvalidMIME).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeError(pub String);

/// Reads a message. Lines may end in CRLF or LF.
pub fn parse(raw: &str) -> Result<Part, MimeError> {
    let (head, body) = split_head(raw);
    let headers = parse_headers(head);
    if headers.is_empty() {
        return Err(MimeError("the message has no header fields".into()));
    }
    Ok(parse_entity(headers, body, 0))
}

/// Header block and body: split at the first empty line.
fn split_head(raw: &str) -> (&str, &str) {
    let crlf = raw.find("\r\n\r\n").map(|i| (i, 4));
    let lf = raw.find("\n\n").map(|i| (i, 2));
    let at = match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    match at {
        Some((i, n)) => (&raw[..i], &raw[i + n..]),
        // An empty first line: no header block at all.
        None if raw.starts_with("\r\n") || raw.starts_with('\n') => ("", raw),
        None => (raw, ""),
    }
}

/// Header fields, continuation lines unfolded (RFC 5322 2.2.3). Lines that
/// are not fields are skipped.
fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            let name = name.trim();
            if !name.is_empty() && !name.contains(' ') {
                fields.push((name.to_string(), value.trim().to_string()));
            }
        }
    }
    fields
}

/// Nesting deeper than this is read as an opaque leaf.
const MAX_DEPTH: usize = 16;

fn parse_entity(headers: Vec<(String, String)>, body: &str, depth: usize) -> Part {
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "text/plain".to_string());
    let (mime_type, params) = parse_params(&content_type);
    let mime_type = if mime_type.contains('/') {
        mime_type
    } else {
        "text/plain".to_string()
    };
    let boundary = params
        .iter()
        .find(|(n, _)| n == "boundary")
        .map(|(_, v)| v.clone());
    let mut part = Part {
        headers,
        mime_type,
        params,
        ..Part::default()
    };
    if part.mime_type.starts_with("multipart/")
        && let Some(boundary) = boundary
        && depth < MAX_DEPTH
    {
        part.parts = split_multipart(body, &boundary)
            .into_iter()
            .map(|p| {
                let (head, body) = split_head(p);
                parse_entity(parse_headers(head), body, depth + 1)
            })
            .collect();
        return part;
    }
    let encoding = part
        .raw_header("Content-Transfer-Encoding")
        .map(|e| e.trim().to_ascii_lowercase())
        .unwrap_or_default();
    part.body = match encoding.as_str() {
        "base64" => {
            let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            BASE64
                .decode(clean.trim_end_matches('='))
                .or_else(|_| BASE64.decode(&clean))
                .unwrap_or_else(|_| body.as_bytes().to_vec())
        }
        "quoted-printable" => decode_quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    part
}

/// The bodies between `--boundary` delimiter lines, up to `--boundary--`.
fn split_multipart<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_end();
        if trimmed == delimiter || trimmed == format!("{delimiter}--") {
            if let Some(s) = start {
                // The CRLF before the delimiter belongs to the delimiter.
                let mut end = offset;
                if body[..end].ends_with('\n') {
                    end -= 1;
                }
                if body[..end].ends_with('\r') {
                    end -= 1;
                }
                parts.push(&body[s..end.max(s)]);
            }
            if trimmed.ends_with("--") && trimmed != delimiter {
                return parts;
            }
            start = Some(offset + line.len());
        }
        offset += line.len();
    }
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    parts
}

/// `value; name=value; name="quoted"`: the value lowercased and the
/// parameters (names lowercased, quotes removed).
pub fn parse_params(field: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = split_outside_quotes(field, ';').into_iter();
    let value = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let params = pieces
        .filter_map(|p| {
            let (n, v) = p.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            Some((n.trim().to_ascii_lowercase(), v.replace("\\\"", "\"")))
        })
        .collect();
    (value, params)
}

/// Splits at `sep` outside double quotes, angle brackets and comments.
fn split_outside_quotes(text: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle, mut comment) = (false, false, 0u32);
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => escaped = true,
            '"' if comment == 0 => quoted = !quoted,
            '<' if !quoted && comment == 0 => angle = true,
            '>' if !quoted && comment == 0 => angle = false,
            '(' if !quoted => comment += 1,
            ')' if !quoted && comment > 0 => comment -= 1,
            c if c == sep && !quoted && !angle && comment == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out
}

/// One mailbox of an address list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The display name, if one was given.
    pub name: Option<String>,
    /// `local@domain`.
    pub email: String,
}

impl Address {
    /// The name if there is one, else the address (Exchange's `DisplayTo`).
    pub fn display(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.email)
    }
}

/// The mailboxes of an address list (`To`, `Cc`, `Bcc`, `From`):
/// `"Name" <a@b>`, `Name <a@b>`, `a@b`, `a@b (comment)`; groups
/// (`team: a@b, c@d;`) are flattened. Entries without an `@` are dropped.
pub fn parse_addresses(field: &str) -> Vec<Address> {
    let mut out = Vec::new();
    for entry in split_outside_quotes(field, ',') {
        let mut entry = entry.trim().to_string();
        // A group's display name ("team:") and its closing ";".
        if let Some((group, rest)) = entry.split_once(':')
            && !group.contains('<')
            && !group.contains('"')
            && !group.contains('@')
        {
            entry = rest.trim().to_string();
        }
        let entry = entry.trim_end_matches(';').trim();
        if entry.is_empty() {
            continue;
        }
        let (name, email) = match (entry.rfind('<'), entry.rfind('>')) {
            (Some(open), Some(close)) if open < close => {
                let name = entry[..open].trim().trim_matches('"').trim();
                let name = (!name.is_empty()).then(|| decode_words(name));
                (name, entry[open + 1..close].trim().to_string())
            }
            _ => {
                // `a@b (comment)`: the comment is not part of the address.
                let bare = entry.split('(').next().unwrap_or(entry).trim();
                (None, bare.to_string())
            }
        };
        if email.contains('@') && !email.contains(char::is_whitespace) {
            out.push(Address { name, email });
        }
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`);
/// whitespace between two adjacent encoded words is dropped.
pub fn decode_words(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let Some(word) = encoded_word(&rest[start..]) else {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            last_was_word = false;
            continue;
        };
        let between = &rest[..start];
        if !(last_was_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        out.push_str(&word.0);
        rest = &rest[start + word.1..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

/// The decoded text of the encoded word at the start of `text` and its length.
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = &inner[..end];
    if payload.contains(' ') {
        return None;
    }
    let bytes = match encoding.to_ascii_uppercase().as_str() {
        "B" => BASE64.decode(payload).ok()?,
        "Q" => decode_quoted_printable(&payload.replace('_', " ")),
        _ => return None,
    };
    let length = 2 + charset.len() + 1 + encoding.len() + 1 + end + 2;
    Some((decode_charset(&bytes, charset), length))
}

fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            // A soft line break.
            if bytes[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if bytes[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Text in `charset`: UTF-8 and US-ASCII as UTF-8 (invalid bytes
/// replaced), ISO-8859-1 and Windows-1252 byte by byte; others as UTF-8.
fn decode_charset(bytes: &[u8], charset: &str) -> String {
    match charset.trim().to_ascii_lowercase().as_str() {
        "iso-8859-1" | "latin1" | "windows-1252" | "cp1252" => {
            bytes.iter().map(|&b| char::from(b)).collect()
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The message with every `name` header field removed (the top-level
/// header block only): what recipients get of a message with `Bcc`.
pub fn without_header(raw: &str, name: &str) -> String {
    let (head, body) = split_head(raw);
    let separator = if raw[head.len()..].starts_with("\r\n") {
        "\r\n\r\n"
    } else {
        "\n\n"
    };
    let mut kept = String::new();
    let mut dropping = false;
    for line in head.split_inclusive('\n') {
        if line.starts_with([' ', '\t']) {
            if !dropping {
                kept.push_str(line);
            }
            continue;
        }
        dropping = line
            .split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name));
        if !dropping {
            kept.push_str(line);
        }
    }
    let kept = kept.trim_end_matches(['\r', '\n']);
    format!("{kept}{separator}{body}")
}

/// One `VEVENT` of an iCalendar object (RFC 5545 3.6.1), the properties
/// EAS carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub uid: Option<String>,
    pub summary: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    /// Seconds since the epoch.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub stamp: Option<i64>,
    /// `DTSTART;VALUE=DATE`.
    pub all_day: bool,
    /// The organizer's address and name.
    pub organizer: Option<Address>,
    /// (address, name, required) of each `ATTENDEE`.
    pub attendees: Vec<(Address, bool)>,
    /// `CLASS`: 0 normal, 2 private, 3 confidential (MS-ASCAL Sensitivity).
    pub sensitivity: u8,
    /// `RRULE` as written, if the event recurs.
    pub rrule: Option<String>,
}

/// iCalendar content lines, unfolded (a line starting with a space or a tab
/// continues the previous one).
fn unfold_ical(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(rest) = line.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        if !line.is_empty() {
            lines.push(line.to_string());
        }
    }
    lines
}

/// The first `VEVENT` of an iCalendar text.
pub fn parse_event(ical: &str) -> Option<Event> {
    let mut event = Event::default();
    let mut inside = false;
    let mut found = false;
    for line in unfold_ical(ical) {
        let Some((name_params, value)) = split_content_line(&line) else {
            continue;
        };
        let (name, params) = parse_ical_params(name_params);
        match (name.as_str(), inside) {
            ("BEGIN", _) if value.eq_ignore_ascii_case("VEVENT") && !found => {
                inside = true;
                found = true;
            }
            ("END", true) if value.eq_ignore_ascii_case("VEVENT") => inside = false,
            // Properties of an alarm or other component inside the event.
            ("BEGIN", true) => inside = false,
            (_, false) => {}
            ("UID", _) => event.uid = Some(value.to_string()),
            ("SUMMARY", _) => event.summary = Some(unescape_text(value)),
            ("LOCATION", _) => event.location = Some(unescape_text(value)),
            ("DESCRIPTION", _) => event.description = Some(unescape_text(value)),
            ("DTSTART", _) => {
                event.all_day = param(&params, "VALUE") == Some("DATE") || value.len() == 8;
                event.start = ical_datetime(value);
            }
            ("DTEND", _) => event.end = ical_datetime(value),
            ("DTSTAMP", _) => event.stamp = ical_datetime(value),
            ("ORGANIZER", _) => event.organizer = ical_address(value, &params),
            ("ATTENDEE", _) => {
                if let Some(a) = ical_address(value, &params) {
                    let optional = param(&params, "ROLE")
                        .is_some_and(|r| r.eq_ignore_ascii_case("OPT-PARTICIPANT"));
                    event.attendees.push((a, !optional));
                }
            }
            ("CLASS", _) => {
                event.sensitivity = match value.to_ascii_uppercase().as_str() {
                    "PRIVATE" => 2,
                    "CONFIDENTIAL" => 3,
                    _ => 0,
                }
            }
            ("RRULE", _) => event.rrule = Some(value.to_string()),
            _ => {}
        }
    }
    found.then_some(event)
}

/// `NAME;PARAM=V:value`: the part before the first colon outside quotes.
fn split_content_line(line: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

fn parse_ical_params(name_params: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = split_outside_quotes(name_params, ';').into_iter();
    let name = pieces
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    let params = pieces
        .filter_map(|p| {
            let (n, v) = p.split_once('=')?;
            Some((
                n.trim().to_ascii_uppercase(),
                v.trim().trim_matches('"').to_string(),
            ))
        })
        .collect();
    (name, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `mailto:a@b` with a `CN` parameter.
fn ical_address(value: &str, params: &[(String, String)]) -> Option<Address> {
    let email = value
        .trim()
        .strip_prefix("mailto:")
        .or_else(|| value.trim().strip_prefix("MAILTO:"))
        .unwrap_or(value.trim());
    email.contains('@').then(|| Address {
        name: param(params, "CN").map(str::to_string),
        email: email.to_string(),
    })
}

/// RFC 5545 3.3.11 TEXT escapes.
fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `20261120T100000Z`, `20261120T100000` (local time with a `TZID`, read
/// as UTC: the mock has no time zone database) or `20261120` (a date, at
/// midnight UTC).
fn ical_datetime(value: &str) -> Option<i64> {
    let v = value.trim();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let (date, time) = match v.split_once('T') {
        Some((d, t)) => (d, t.trim_end_matches('Z')),
        None => (v, "000000"),
    };
    if date.len() != 8 || time.len() != 6 || !digits(date) || !digits(time) {
        return None;
    }
    let n = |s: &str| s.parse::<i64>().ok();
    let (y, mo, d) = (n(&date[0..4])?, n(&date[4..6])?, n(&date[6..8])?);
    let (h, mi, s) = (n(&time[0..2])?, n(&time[2..4])?, n(&time[4..6])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Seconds since the epoch of an RFC 5322 date (3.3): `[Day,] DD Mon YYYY
/// HH:MM[:SS] zone`, the zone `+HHMM`/`-HHMM` or an obsolete name (UT, GMT,
/// Z, EST, EDT, CST, CDT, MST, MDT, PST, PDT); comments dropped.
pub fn parse_date(date: &str) -> Option<i64> {
    let mut clean = String::new();
    let mut depth = 0u32;
    for c in date.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => clean.push(c),
            _ => {}
        }
    }
    let clean = match clean.split_once(',') {
        Some((_, rest)) => rest.to_string(),
        None => clean,
    };
    let parts: Vec<&str> = clean.split_whitespace().collect();
    let [day, month, year, time, zone] = parts.as_slice() else {
        return None;
    };
    let day: i64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month))
        .map(|m| m as i64 + 1)?;
    let year: i64 = year.parse().ok()?;
    // Obsolete two-digit years (RFC 5322 4.3).
    let year = match year {
        0..=49 => 2000 + year,
        50..=999 => 1900 + year,
        y => y,
    };
    let mut hms = time.split(':');
    let hour: i64 = hms.next()?.parse().ok().filter(|h| (0..24).contains(h))?;
    let minute: i64 = hms.next()?.parse().ok().filter(|m| (0..60).contains(m))?;
    let second: i64 = match hms.next() {
        Some(s) => s.parse().ok().filter(|s| (0..=60).contains(s))?,
        None => 0,
    };
    if hms.next().is_some() {
        return None;
    }
    let offset_minutes: i64 = match zone.to_ascii_uppercase().as_str() {
        "UT" | "GMT" | "Z" => 0,
        "EDT" => -4 * 60,
        "EST" | "CDT" => -5 * 60,
        "CST" | "MDT" => -6 * 60,
        "MST" | "PDT" => -7 * 60,
        "PST" => -8 * 60,
        z => {
            let (sign, digits) = match z.as_bytes().first()? {
                b'+' => (1, &z[1..]),
                b'-' => (-1, &z[1..]),
                _ => return None,
            };
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hh: i64 = digits[..2].parse().ok()?;
            let mm: i64 = digits[2..].parse().ok()?;
            sign * (hh * 60 + mm)
        }
    };
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(local - offset_minutes * 60)
}

fn fields(unix: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (y, mo, d) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    (y, mo, d, secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The MS-ASDTYPE dateTime form `2026-11-20T10:00:00.000Z` (Email
/// `DateReceived`, `StartTime` of a `MeetingRequest`).
pub fn eas_datetime(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = fields(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.000Z")
}

/// The compact form `20261120T100000Z` (Calendar `StartTime`, `DtStamp`).
pub fn compact_datetime(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = fields(unix);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// An RFC 5322 `Date` (`Fri, 20 Nov 2026 10:00:00 +0000`).
pub fn rfc5322_date(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s) = fields(unix);
    let weekday = DAYS[unix.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[(mo - 1) as usize];
    format!("{weekday}, {d} {month} {y} {h:02}:{mi:02}:{s:02} +0000")
}

/// Now, in seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5322_dates_parse() {
        let t = parse_date("Mon, 9 Nov 2026 10:15:00 +0100 (CET)").unwrap();
        assert_eq!(eas_datetime(t), "2026-11-09T09:15:00.000Z");
        let t = parse_date("29 Feb 2028 23:30 -0230").unwrap();
        assert_eq!(eas_datetime(t), "2028-03-01T02:00:00.000Z");
        assert_eq!(
            parse_date("Sun, 22 Nov 2026 01:00:00 GMT"),
            parse_date("Sat, 21 Nov 2026 17:00:00 PST")
        );
        for bad in [
            "",
            "yesterday",
            "32 Nov 2026 10:00 +0000",
            "1 Foo 2026 10:00 +0000",
            "1 Nov 2026 25:00 +0000",
            "1 Nov 2026 10:00 +01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(eas_datetime(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn headers_unfold_and_decode() {
        let m = parse(
            "From: \"Alice A.\" <alice@example.test>\r\nTo: bob@example.test,\r\n \
             Carol <carol@x.test>\r\nSubject: =?utf-8?B?R3LDvMOfZQ==?= =?utf-8?Q?_aus_K=C3=B6ln?=\r\n\r\nHi",
        )
        .unwrap();
        assert_eq!(m.header("subject").as_deref(), Some("Grüße aus Köln"));
        let to = parse_addresses(m.raw_header("To").unwrap());
        assert_eq!(to.len(), 2);
        assert_eq!(to[1].name.as_deref(), Some("Carol"));
        assert_eq!(to[1].email, "carol@x.test");
        let from = parse_addresses(m.raw_header("From").unwrap());
        assert_eq!(from[0].display(), "Alice A.");
        assert_eq!(m.text_body(), Some(("Hi".to_string(), false)));
    }

    #[test]
    fn addresses_with_commas_in_names_groups_and_comments() {
        let a =
            parse_addresses("\"Doe, Jane\" <jane@x.test>, team: a@x.test, b@x.test;, c@x.test (C)");
        let emails: Vec<&str> = a.iter().map(|a| a.email.as_str()).collect();
        assert_eq!(emails, ["jane@x.test", "a@x.test", "b@x.test", "c@x.test"]);
        assert_eq!(a[0].name.as_deref(), Some("Doe, Jane"));
        assert!(parse_addresses("undisclosed-recipients:;").is_empty());
    }

    #[test]
    fn multipart_trees_and_transfer_encodings() {
        let raw = "Subject: x\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
                   preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n\
                   --in\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n\
                   --in\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln =\r\nhi\r\n--in--\r\n\
                   --outer\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n\
                   Content-Transfer-Encoding: base64\r\n\r\nJVBE\r\nRg==\r\n--outer--\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.parts.len(), 2);
        assert_eq!(m.text_body(), Some(("Köln hi".to_string(), false)));
        let attachments: Vec<&Part> = m
            .leaves()
            .into_iter()
            .filter(|p| p.is_attachment())
            .collect();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].file_name().as_deref(), Some("a.pdf"));
        assert_eq!(attachments[0].body, b"%PDF");
    }

    #[test]
    fn a_message_without_headers_is_refused() {
        assert!(parse("").is_err());
        assert!(parse("\r\njust text").is_err());
    }

    #[test]
    fn bcc_is_removed_with_its_continuation_lines() {
        let raw = "To: a@x.test\r\nBcc: b@x.test,\r\n c@x.test\r\nSubject: s\r\n\r\nbody";
        assert_eq!(
            without_header(raw, "bcc"),
            "To: a@x.test\r\nSubject: s\r\n\r\nbody"
        );
    }

    #[test]
    fn vevent_properties() {
        let ical = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:abc-1\r\n\
                    DTSTART:20261120T100000Z\r\nDTEND:20261120T110000Z\r\nDTSTAMP:20261101T080000Z\r\n\
                    SUMMARY:Plan\\, review\r\nLOCATION:Room 1\r\n\
                    ORGANIZER;CN=\"Alice A\":mailto:alice@example.test\r\n\
                    ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Bob:mailto:bob@ex\r\n ample.test\r\n\
                    BEGIN:VALARM\r\nDESCRIPTION:alarm\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let e = parse_event(ical).unwrap();
        assert_eq!(e.uid.as_deref(), Some("abc-1"));
        assert_eq!(e.summary.as_deref(), Some("Plan, review"));
        assert_eq!(
            e.start.map(compact_datetime).as_deref(),
            Some("20261120T100000Z")
        );
        assert_eq!(
            e.end.map(eas_datetime).as_deref(),
            Some("2026-11-20T11:00:00.000Z")
        );
        assert_eq!(e.organizer.unwrap().name.as_deref(), Some("Alice A"));
        assert_eq!(e.attendees[0].0.email, "bob@example.test");
        assert_eq!(
            e.description, None,
            "the alarm's description is not the event's"
        );
        assert!(!e.all_day);
    }

    #[test]
    fn dates_round_trip() {
        let t = ical_datetime("20240229T235959Z").unwrap();
        assert_eq!(eas_datetime(t), "2024-02-29T23:59:59.000Z");
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(ical_datetime("20261301T000000Z"), None);
        assert_eq!(
            ical_datetime("20261120").map(compact_datetime).as_deref(),
            Some("20261120T000000Z")
        );
    }
}
