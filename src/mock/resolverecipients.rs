//! ResolveRecipients (MS-ASCMD 2.2.1.15): looks names and addresses up in
//! the directory, which for the mock is its accounts (each a GAL entry whose
//! display name is the user name).
//!
//! Each `To` is answered by its own `Response`, in request order, after the
//! command's `Status` (MS-ASCMD 6.32). A `To` matches an entry by its whole
//! SMTP address or user name, else by a prefix of either, ignoring case (the
//! mock's take on the ANR search of MS-ASCMD 2.2.3.183):
//! - one match: Status 1 and the Recipient (Type 1, GAL);
//! - several: Status 2 with all of them as suggestions, or Status 3 with the
//!   first `MaxAmbiguousRecipients` of them (2.2.3.100); `RecipientCount`
//!   gives the number of matches either way;
//! - none: Status 4, no Recipient.
//!
//! Certificates (`CertificateRetrieval` 2 or 3): no account has an S/MIME
//! certificate, so each resolved recipient gets `Certificates` with Status 7
//! and `CertificateCount` 0. Availability (14.0+): the mock has no calendar,
//! so a resolved recipient is free throughout the window: `MergedFreeBusy`
//! is one `0` per 30 minutes. Ambiguous recipients get neither (2.2.3.177.12,
//! 2.2.3.183). A requested `Picture` (14.1+) is accepted and not answered:
//! the mock has no contact photos.
//!
//! A request the mock cannot take apart (no `To`, more than 100, a `To`
//! longer than 256 characters, an option out of range, an invalid or too
//! short or too long availability window) gets the command `Status` 5
//! (protocol error) alone.

use crate::protocol::EasDateTime;
use crate::wbxml::{Element, Node};

use super::command::{Ctx, Reply};
use super::xml::XmlOut;

const NS: &str = "ResolveRecipients";

/// Status values (MS-ASCMD 2.2.3.177.12).
const SUCCESS: u8 = 1;
const AMBIGUOUS: u8 = 2;
const AMBIGUOUS_PARTIAL: u8 = 3;
const NOT_FOUND: u8 = 4;
const PROTOCOL_ERROR: u8 = 5;
const NO_VALID_CERTIFICATE: u8 = 7;

/// Recipient type of a GAL entry (MS-ASCMD 2.2.3.186.5).
const GAL: u8 = 1;

/// At most 100 `To`, each at most 256 characters (MS-ASCMD 2.2.3.183).
const MAX_TO: usize = 100;
const MAX_TO_CHARS: usize = 256;
/// MaxCertificates and MaxAmbiguousRecipients range over 0-9999
/// (MS-ASCMD 2.2.3.100, 2.2.3.101).
const MAX_LIMIT: u32 = 9999;

const MINUTE: i64 = 60;
const DAY: i64 = 24 * 60 * MINUTE;
/// One digit of MergedFreeBusy per 30 minutes (MS-ASCMD 2.2.3.107).
const INTERVAL: i64 = 30 * MINUTE;
/// Without an EndTime the window is seven days; it must span at least 30
/// minutes and at most a server-specific number of days, 42 as Exchange 2010
/// and later (MS-ASCMD 2.2.3.61.1).
const DEFAULT_WINDOW: i64 = 7 * DAY;
const MAX_WINDOW: i64 = 42 * DAY;

/// A request, checked for shape.
struct Request {
    to: Vec<String>,
    certificates: bool,
    max_ambiguous: Option<usize>,
    /// The free/busy window, as seconds since the epoch.
    availability: Option<(i64, i64)>,
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let v = ctx.version;
    let mut out = XmlOut::new(NS, NS, &[]);
    let Some(request) = parse(request) else {
        out.leaf("Status", PROTOCOL_ERROR.to_string());
        return Reply::from_encoded(out.finish(NS, v));
    };
    let directory = ctx.store.directory();
    out.leaf("Status", SUCCESS.to_string());
    for to in &request.to {
        let matches = resolve(to, &directory);
        out.open("Response");
        out.leaf("To", to);
        let (status, shown) = match matches.len() {
            0 => (NOT_FOUND, 0),
            1 => (SUCCESS, 1),
            n => match request.max_ambiguous {
                Some(max) if max < n => (AMBIGUOUS_PARTIAL, max),
                _ => (AMBIGUOUS, n),
            },
        };
        out.leaf("Status", status.to_string());
        if !matches.is_empty() {
            out.leaf("RecipientCount", matches.len().to_string());
        }
        for (user, email) in matches.into_iter().take(shown) {
            out.open("Recipient");
            out.leaf("Type", GAL.to_string());
            out.leaf("DisplayName", user);
            out.leaf("EmailAddress", email);
            // Only a recipient resolved to one entry gets free/busy data and
            // certificates.
            if status == SUCCESS {
                if let Some((start, end)) = request.availability {
                    out.open("Availability");
                    out.leaf("Status", SUCCESS.to_string());
                    out.leaf("MergedFreeBusy", free(start, end));
                    out.close("Availability");
                }
                if request.certificates {
                    out.open("Certificates");
                    out.leaf("Status", NO_VALID_CERTIFICATE.to_string());
                    out.leaf("CertificateCount", "0");
                    out.close("Certificates");
                }
            }
            out.close("Recipient");
        }
        out.close("Response");
    }
    Reply::from_encoded(out.finish(NS, v))
}

/// The request's recipients and options, or `None` for a protocol error.
fn parse(request: &Element) -> Option<Request> {
    let mut parsed = Request {
        to: Vec::new(),
        certificates: false,
        max_ambiguous: None,
        availability: None,
    };
    let mut options = 0;
    for child in request.elements_only_in(NS)? {
        match child.name.as_str() {
            "To" => {
                let to = leaf_text(child)?;
                if to.chars().count() > MAX_TO_CHARS {
                    return None;
                }
                parsed.to.push(to);
            }
            "Options" => {
                options += 1;
                parse_options(child, &mut parsed)?;
            }
            _ => return None,
        }
    }
    (options <= 1 && !parsed.to.is_empty() && parsed.to.len() <= MAX_TO).then_some(parsed)
}

fn parse_options(options: &Element, parsed: &mut Request) -> Option<()> {
    for child in options.elements_only_in(NS)? {
        if options.elements_named(&child.name).count() > 1 {
            return None;
        }
        match child.name.as_str() {
            "CertificateRetrieval" => {
                // 1 none (the default), 2 full, 3 mini (MS-ASCMD 2.2.3.22).
                let value = number(child)?;
                if !(1..=3).contains(&value) {
                    return None;
                }
                parsed.certificates = value > 1;
            }
            "MaxCertificates" => {
                number(child).filter(|n| *n <= MAX_LIMIT)?;
            }
            "MaxAmbiguousRecipients" => {
                let max = number(child).filter(|n| *n <= MAX_LIMIT)?;
                parsed.max_ambiguous = Some(max as usize);
            }
            "Availability" => parsed.availability = Some(window(child)?),
            "Picture" => {
                for limit in child.elements_only_in(NS)? {
                    if !matches!(limit.name.as_str(), "MaxSize" | "MaxPictures")
                        || child.elements_named(&limit.name).count() > 1
                    {
                        return None;
                    }
                    number(limit)?;
                }
            }
            _ => return None,
        }
    }
    Some(())
}

/// The Availability window: StartTime required, EndTime optional
/// (MS-ASCMD 2.2.3.176.1, 2.2.3.61.1).
fn window(availability: &Element) -> Option<(i64, i64)> {
    let mut start = None;
    let mut end = None;
    for child in availability.elements_only_in(NS)? {
        let slot = match child.name.as_str() {
            "StartTime" => &mut start,
            "EndTime" => &mut end,
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(parse_datetime(&leaf_text(child)?)?);
    }
    let start = start?;
    let end = end.unwrap_or(start + DEFAULT_WINDOW);
    (end - start >= INTERVAL && end - start <= MAX_WINDOW).then_some((start, end))
}

/// The directory entries `to` resolves to: those whose address or user name
/// is `to`, else those where either starts with `to`, ignoring case.
fn resolve<'a>(to: &str, directory: &'a [(String, String)]) -> Vec<&'a (String, String)> {
    let query = to.trim().to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let exact: Vec<_> = directory
        .iter()
        .filter(|(user, email)| user.to_lowercase() == query || email.to_lowercase() == query)
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    directory
        .iter()
        .filter(|(user, email)| {
            user.to_lowercase().starts_with(&query) || email.to_lowercase().starts_with(&query)
        })
        .collect()
}

/// MergedFreeBusy for a window without appointments: `0` (free) for each
/// 30 minutes, a last partial interval included.
fn free(start: i64, end: i64) -> String {
    let intervals = (end - start + INTERVAL - 1) / INTERVAL;
    "0".repeat(intervals as usize)
}

/// The text of an element that holds text only.
fn leaf_text(e: &Element) -> Option<String> {
    e.children
        .iter()
        .all(|n| matches!(n, Node::Text(_)))
        .then(|| e.text())
}

/// An unsigned decimal integer.
fn number(e: &Element) -> Option<u32> {
    let text = leaf_text(e)?;
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// An MS-ASDTYPE datetime (see [`EasDateTime::parse`] for the accepted
/// forms) as whole seconds since 1970-01-01T00:00:00Z.
fn parse_datetime(value: &str) -> Option<i64> {
    EasDateTime::parse(value).map(EasDateTime::unix_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_datetime("1970-01-02T00:30:00.000Z"), Some(DAY + 1800));
        assert_eq!(parse_datetime("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            parse_datetime("2024-02-29T12:00:00.5Z"),
            Some(1_709_208_000)
        );
        for bad in [
            "2025-02-29T00:00:00Z",
            "2026-05-08T10:00:00",
            "2026-05-08 10:00:00Z",
            "2026-05-08T24:00:00Z",
            "2026-05-08T10:00:00.Z",
            "soon",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn free_busy_has_one_digit_per_half_hour() {
        assert_eq!(free(0, 2 * 3600), "0000");
        assert_eq!(free(0, 3600 + 60), "000");
    }

    #[test]
    fn exact_match_wins_over_prefixes() {
        let dir = [
            ("al".to_string(), "al@x.test".to_string()),
            ("alice".to_string(), "alice@x.test".to_string()),
        ];
        assert_eq!(resolve("AL", &dir).len(), 1);
        assert_eq!(resolve("a", &dir).len(), 2);
        assert_eq!(resolve("Alice@X.test", &dir)[0].0, "alice");
        assert!(resolve("zed", &dir).is_empty());
        assert!(resolve("  ", &dir).is_empty());
    }
}
