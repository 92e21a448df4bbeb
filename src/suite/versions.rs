//! A suite's `versions` requirement: which protocol versions it applies to.
//!
//! Syntax: a comma-separated list of items, their union:
//!
//! | item | versions |
//! |---|---|
//! | `*` | every version eastest runs |
//! | `14.1` (or `=14.1`) | that one |
//! | `>=14.0`, `>14.0`, `<=14.1`, `<16.0` | a bound |
//! | `14.0..16.0` | an inclusive range |
//!
//! The result is limited to the versions eastest runs ([`RUN_VERSIONS`]:
//! 12.1 to 16.1). The codec knows 2.5 and 12.0 too, so they are accepted
//! as bounds (`12.0..14.0`), but naming one alone is an error: such a suite
//! would never run.

use std::str::FromStr;

use crate::protocol::{ProtocolVersion, VersionSet};

/// The protocol versions eastest runs suites against.
pub const RUN_VERSIONS: VersionSet =
    VersionSet::range(ProtocolVersion::V12_1, ProtocolVersion::LATEST);

/// A syntax or range error in a `versions` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionsError {
    /// Byte offset of the offending item in the text.
    pub offset: usize,
    /// Its length in bytes (at least 1 unless the text is empty).
    pub len: usize,
    pub message: String,
    pub hint: Option<String>,
}

fn intersect(a: VersionSet, b: VersionSet) -> VersionSet {
    VersionSet::from_bits(a.bits() & b.bits())
}

fn run_list() -> String {
    RUN_VERSIONS
        .iter()
        .map(ProtocolVersion::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a `versions` text into the set of versions eastest runs that it
/// selects.
///
/// ```
/// use eastest::suite::parse_versions;
/// assert_eq!(parse_versions(">=14.0").unwrap().to_string(), "14.0, 14.1, 16.0, 16.1");
/// assert_eq!(parse_versions("*").unwrap().to_string(), "12.1, 14.0, 14.1, 16.0, 16.1");
/// ```
pub fn parse_versions(text: &str) -> Result<VersionSet, VersionsError> {
    if text.trim().is_empty() {
        return Err(VersionsError {
            offset: 0,
            len: text.len(),
            message: "`versions` is empty".into(),
            hint: Some("write `\"*\"` for every version, or e.g. `\">=14.0\"`".into()),
        });
    }
    let mut set = VersionSet::EMPTY;
    let mut start = 0;
    for raw in text.split(',') {
        let lead = raw.len() - raw.trim_start().len();
        let item = raw.trim();
        let offset = start + lead;
        start += raw.len() + 1;
        set = set.union(parse_item(item, offset)?);
    }
    let set = intersect(set, RUN_VERSIONS);
    if set.is_empty() {
        return Err(VersionsError {
            offset: 0,
            len: text.len(),
            message: format!("`versions = \"{text}\"` selects no version eastest runs"),
            hint: Some(format!("eastest runs {}", run_list())),
        });
    }
    Ok(set)
}

/// How a comparison operator turns its version into a set.
type Bound = fn(ProtocolVersion) -> VersionSet;

fn parse_item(item: &str, offset: usize) -> Result<VersionSet, VersionsError> {
    let err = |message: String, hint: Option<String>| VersionsError {
        offset,
        len: item.len().max(1),
        message,
        hint,
    };
    if item.is_empty() {
        return Err(err(
            "empty item in `versions`".into(),
            Some("remove the extra comma".into()),
        ));
    }
    if item == "*" {
        return Ok(RUN_VERSIONS);
    }
    if let Some((lo, hi)) = item.split_once("..") {
        let lo_v = version(lo.trim(), offset)?;
        let hi_v = version(
            hi.trim(),
            offset + lo.len() + 2 + (hi.len() - hi.trim_start().len()),
        )?;
        if lo_v > hi_v {
            return Err(err(
                format!("the range `{item}` is empty: {lo_v} comes after {hi_v}"),
                Some(format!("write `{hi_v}..{lo_v}`")),
            ));
        }
        return Ok(VersionSet::range(lo_v, hi_v));
    }
    let ops: [(&str, Bound); 5] = [
        (">=", |v| VersionSet::range(v, ProtocolVersion::LATEST)),
        ("<=", |v| VersionSet::range(ProtocolVersion::V2_5, v)),
        (">", |v| {
            VersionSet::from_bits(VersionSet::range(v, ProtocolVersion::LATEST).bits() & !v.bit())
        }),
        ("<", |v| {
            VersionSet::from_bits(VersionSet::range(ProtocolVersion::V2_5, v).bits() & !v.bit())
        }),
        ("=", |v| VersionSet::range(v, v)),
    ];
    for (op, make) in ops {
        if let Some(rest) = item.strip_prefix(op) {
            let lead = rest.len() - rest.trim_start().len();
            let v = version(rest.trim(), offset + op.len() + lead)?;
            if op == "=" {
                return single(v, offset, item);
            }
            return Ok(make(v));
        }
    }
    let v = version(item, offset)?;
    single(v, offset, item)
}

/// One version named alone must be one eastest runs.
fn single(v: ProtocolVersion, offset: usize, item: &str) -> Result<VersionSet, VersionsError> {
    if RUN_VERSIONS.contains(v) {
        Ok(VersionSet::range(v, v))
    } else {
        Err(VersionsError {
            offset,
            len: item.len(),
            message: format!("eastest does not run protocol {v}"),
            hint: Some(format!("eastest runs {}", run_list())),
        })
    }
}

fn version(text: &str, offset: usize) -> Result<ProtocolVersion, VersionsError> {
    ProtocolVersion::from_str(text).map_err(|_| {
        let hint = if text.is_empty() {
            Some("write a version such as `14.1`".to_string())
        } else if let Some(v) = ProtocolVersion::ALL.into_iter().find(|v| {
            v.as_str().strip_suffix(".0") == Some(text) || v.as_str().replace('.', "") == text
        }) {
            Some(format!("did you mean `{v}`?"))
        } else {
            Some(format!("known versions: {}", run_list()))
        };
        VersionsError {
            offset,
            len: text.len().max(1),
            message: if text.is_empty() {
                "missing version".into()
            } else {
                format!("unknown protocol version `{text}`")
            },
            hint,
        }
    })
}

/// The shortest `versions` text that selects exactly `set` (for hints):
/// `*`, `>=14.0`, `<16.0`, `14.0..14.1`, `14.1`, or a list.
pub fn versions_text(set: VersionSet) -> String {
    let set = intersect(set, RUN_VERSIONS);
    if set == RUN_VERSIONS {
        return "*".into();
    }
    let vs: Vec<ProtocolVersion> = set.iter().collect();
    let (Some(&first), Some(&last)) = (vs.first(), vs.last()) else {
        return String::new();
    };
    if intersect(VersionSet::range(first, last), RUN_VERSIONS) == set {
        if first == last {
            return first.to_string();
        }
        if last == ProtocolVersion::LATEST {
            return format!(">={first}");
        }
        if RUN_VERSIONS.iter().next() == Some(first) {
            return format!("<={last}");
        }
        return format!("{first}..{last}");
    }
    vs.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        parse_versions(text).unwrap().to_string()
    }

    #[test]
    fn forms() {
        assert_eq!(s("*"), "12.1, 14.0, 14.1, 16.0, 16.1");
        assert_eq!(s("14.1"), "14.1");
        assert_eq!(s("=14.1"), "14.1");
        assert_eq!(s("12.1, 14.1"), "12.1, 14.1");
        assert_eq!(s(">=14.0"), "14.0, 14.1, 16.0, 16.1");
        assert_eq!(s(">14.0"), "14.1, 16.0, 16.1");
        assert_eq!(s("<16.0"), "12.1, 14.0, 14.1");
        assert_eq!(s("<=14.0"), "12.1, 14.0");
        assert_eq!(s("14.0..16.0"), "14.0, 14.1, 16.0");
        assert_eq!(s("12.0..14.0"), "12.1, 14.0");
        assert_eq!(s("12.1, >=16.0"), "12.1, 16.0, 16.1");
    }

    #[test]
    fn errors_point_at_the_item() {
        let e = parse_versions("12.1, 14.2").unwrap_err();
        assert_eq!((e.offset, e.len), (6, 4));
        assert_eq!(e.message, "unknown protocol version `14.2`");
        let e = parse_versions(">= 14").unwrap_err();
        assert_eq!(e.offset, 3);
        assert_eq!(e.hint.as_deref(), Some("did you mean `14.0`?"));
        let e = parse_versions("16.0..14.0").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("write `14.0..16.0`"));
        let e = parse_versions("12.0").unwrap_err();
        assert_eq!(e.message, "eastest does not run protocol 12.0");
        let e = parse_versions("<12.1").unwrap_err();
        assert!(e.message.contains("selects no version"), "{}", e.message);
        let e = parse_versions("14.1,").unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (5, "empty item in `versions`")
        );
    }

    #[test]
    fn shortest_text() {
        for text in ["*", ">=14.0", "<=14.0", "14.0..14.1", "14.1", "12.1, 16.0"] {
            assert_eq!(versions_text(parse_versions(text).unwrap()), text);
        }
    }
}
