//! EAS protocol versions, as the codec needs them for version gating.
//!
//! The codec owns this type because `src/wbxml` depends on nothing else in
//! the crate; `crate::protocol` re-exports it as the protocol model's version.

use std::fmt;
use std::str::FromStr;

/// An Exchange ActiveSync protocol version (`MS-ASProtocolVersion`).
///
/// Versions order as the protocol evolved, so `v >= ProtocolVersion::V14_0`
/// asks "is this 14.0 or later?".
///
/// ```
/// use eastest::wbxml::ProtocolVersion;
/// let v: ProtocolVersion = "14.1".parse().unwrap();
/// assert!(v > ProtocolVersion::V12_1);
/// assert_eq!(v.to_string(), "14.1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    V2_5,
    V12_0,
    V12_1,
    V14_0,
    V14_1,
    V16_0,
    V16_1,
}

impl ProtocolVersion {
    /// Every version the codec knows, oldest first.
    pub const ALL: [ProtocolVersion; 7] = [
        ProtocolVersion::V2_5,
        ProtocolVersion::V12_0,
        ProtocolVersion::V12_1,
        ProtocolVersion::V14_0,
        ProtocolVersion::V14_1,
        ProtocolVersion::V16_0,
        ProtocolVersion::V16_1,
    ];

    /// The newest version.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V16_1;

    /// The version as written in `MS-ASProtocolVersion` headers, e.g. `"14.1"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2_5 => "2.5",
            ProtocolVersion::V12_0 => "12.0",
            ProtocolVersion::V12_1 => "12.1",
            ProtocolVersion::V14_0 => "14.0",
            ProtocolVersion::V14_1 => "14.1",
            ProtocolVersion::V16_0 => "16.0",
            ProtocolVersion::V16_1 => "16.1",
        }
    }

    /// The one-byte form used by the base64 query encoding of MS-ASHTTP
    /// (major * 10 + minor: 25, 120, 121, 140, 141, 160, 161).
    pub const fn query_byte(self) -> u8 {
        match self {
            ProtocolVersion::V2_5 => 25,
            ProtocolVersion::V12_0 => 120,
            ProtocolVersion::V12_1 => 121,
            ProtocolVersion::V14_0 => 140,
            ProtocolVersion::V14_1 => 141,
            ProtocolVersion::V16_0 => 160,
            ProtocolVersion::V16_1 => 161,
        }
    }

    /// The inverse of [`ProtocolVersion::query_byte`].
    pub fn from_query_byte(b: u8) -> Option<ProtocolVersion> {
        ProtocolVersion::ALL
            .into_iter()
            .find(|v| v.query_byte() == b)
    }

    /// This version's bit in a [`VersionSet`].
    pub const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error of parsing a [`ProtocolVersion`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown EAS protocol version `{0}` (known: 2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1)")]
pub struct UnknownVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnknownVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        ProtocolVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == t)
            .ok_or_else(|| UnknownVersion(s.to_string()))
    }
}

/// A set of protocol versions, e.g. the versions a tag or command exists in.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VersionSet(u8);

impl VersionSet {
    /// Every version.
    pub const ALL: VersionSet = VersionSet(0x7f);
    /// No version.
    pub const EMPTY: VersionSet = VersionSet(0);

    /// A set from raw bits (bit `n` is `ProtocolVersion::ALL[n]`).
    pub const fn from_bits(bits: u8) -> VersionSet {
        VersionSet(bits & 0x7f)
    }

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The versions from `first` up to and including `last`.
    pub const fn range(first: ProtocolVersion, last: ProtocolVersion) -> VersionSet {
        let lo = first as u8;
        let hi = last as u8;
        let mut bits = 0u8;
        let mut i = lo;
        while i <= hi {
            bits |= 1 << i;
            i += 1;
        }
        VersionSet(bits)
    }

    /// The versions from `first` on.
    pub const fn since(first: ProtocolVersion) -> VersionSet {
        VersionSet::range(first, ProtocolVersion::LATEST)
    }

    /// Whether `v` is in the set.
    pub const fn contains(self, v: ProtocolVersion) -> bool {
        self.0 & v.bit() != 0
    }

    /// The union of two sets.
    pub const fn union(self, other: VersionSet) -> VersionSet {
        VersionSet(self.0 | other.0)
    }

    /// The versions in the set, oldest first.
    pub fn iter(self) -> impl Iterator<Item = ProtocolVersion> {
        ProtocolVersion::ALL
            .into_iter()
            .filter(move |v| self.contains(*v))
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for VersionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionSet({self})")
    }
}

/// Displays as the spec's tables do: `All`, or a list such as `14.0, 14.1, 16.0, 16.1`.
impl fmt::Display for VersionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == VersionSet::ALL {
            return f.write_str("All");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for v in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(v.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_order() {
        for v in ProtocolVersion::ALL {
            assert_eq!(v.as_str().parse::<ProtocolVersion>().unwrap(), v);
            assert_eq!(ProtocolVersion::from_query_byte(v.query_byte()), Some(v));
        }
        assert!(ProtocolVersion::V2_5 < ProtocolVersion::V12_0);
        assert!(ProtocolVersion::V16_0 < ProtocolVersion::V16_1);
        assert!("15.0".parse::<ProtocolVersion>().is_err());
        assert!("".parse::<ProtocolVersion>().is_err());
    }

    #[test]
    fn version_sets() {
        let s = VersionSet::since(ProtocolVersion::V14_0);
        assert_eq!(s.to_string(), "14.0, 14.1, 16.0, 16.1");
        assert!(!s.contains(ProtocolVersion::V12_1));
        assert_eq!(
            VersionSet::range(ProtocolVersion::V2_5, ProtocolVersion::V16_1),
            VersionSet::ALL
        );
        assert_eq!(VersionSet::ALL.to_string(), "All");
    }
}
