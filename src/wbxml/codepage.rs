//! Lookup over the MS-ASWBXML code page table (`codepages.rs`).
//!
//! A WBXML tag byte carries a 6-bit token; the code page selected by the last
//! SWITCH_PAGE says which element it names. Each page is also an XML namespace
//! (`AirSync:`, `Contacts:`, ...), the EAS convention for the XML form.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::codepages::PAGES;
use super::version::{ProtocolVersion, VersionSet};

/// One tag of a code page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagDef {
    /// The token, 0x05..=0x3F (without the content and attribute bits).
    pub token: u8,
    /// The element name as MS-ASWBXML spells it.
    pub name: &'static str,
    /// The name qualified by its page, `Contacts:FirstName`: how eastest's
    /// XML form writes elements outside the root's page.
    pub qname: &'static str,
    /// The protocol versions in which the tag exists.
    pub versions: VersionSet,
}

/// One code page: a number, a namespace and its tags.
#[derive(Debug)]
pub struct CodePage {
    /// The page number, 0..=25.
    pub number: u8,
    /// The page's name, e.g. `AirSyncBase`; also the XML prefix eastest writes.
    pub namespace: &'static str,
    /// The XML namespace URI: the name followed by a colon, e.g. `AirSyncBase:`.
    pub uri: &'static str,
    /// The tags, ordered by token.
    pub tags: &'static [TagDef],
    pub(crate) by_token: [u8; 64],
}

/// The number of code pages MS-ASWBXML defines (0..=25; page 3 is unused).
pub const PAGE_COUNT: u8 = 26;

/// The code page with this number, if MS-ASWBXML defines it.
///
/// ```
/// let page = eastest::wbxml::code_page(1).unwrap();
/// assert_eq!(page.namespace, "Contacts");
/// assert_eq!(page.tag(0x1F).unwrap().name, "FirstName");
/// ```
pub fn code_page(number: u8) -> Option<&'static CodePage> {
    PAGES.get(number as usize)
}

/// All code pages in page order.
pub fn code_pages() -> &'static [CodePage] {
    &PAGES
}

/// The code page whose XML namespace is `uri` (`"Contacts:"`). ASCII case is
/// ignored, and the trailing colon is optional, because hand-written XML and
/// other tools vary (`airsync:`, `AirSync`).
pub fn code_page_by_uri(uri: &str) -> Option<&'static CodePage> {
    let name = uri.strip_suffix(':').unwrap_or(uri);
    // Exact match first: the common case, and cheap.
    PAGES.iter().find(|p| p.namespace == name).or_else(|| {
        PAGES
            .iter()
            .find(|p| p.namespace.eq_ignore_ascii_case(name))
    })
}

impl CodePage {
    /// The tag with this token (content/attribute bits ignored).
    #[inline]
    pub fn tag(&self, token: u8) -> Option<&'static TagDef> {
        let i = self.by_token[(token & 0x3F) as usize];
        if i == 0 {
            None
        } else {
            // SAFETY of indexing: the generator only writes indexes of `tags`.
            PAGES[self.number as usize].tags.get(i as usize - 1)
        }
    }

    /// The tag with this exact name.
    #[inline]
    pub fn tag_by_name(&self, name: &str) -> Option<&'static TagDef> {
        // The encoder asks this for every element: a hash lookup is several
        // times faster than a binary search of string comparisons.
        name_index()[self.number as usize]
            .get(name)
            .map(|&i| &PAGES[self.number as usize].tags[i as usize])
    }

    /// Names on this page close to `name`, best first: for "did you mean" hints.
    pub fn similar_names(&self, name: &str) -> Vec<&'static str> {
        let page = &PAGES[self.number as usize];
        let mut scored: Vec<(f64, &'static str)> = page
            .tags
            .iter()
            .map(|t| {
                (
                    strsim::jaro_winkler(&t.name.to_ascii_lowercase(), &name.to_ascii_lowercase()),
                    t.name,
                )
            })
            .filter(|(s, _)| *s > 0.85)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

fn name_index() -> &'static [FxHashMap<&'static str, u8>] {
    static INDEX: OnceLock<Vec<FxHashMap<&'static str, u8>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        PAGES
            .iter()
            .map(|p| {
                p.tags
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.name, i as u8))
                    .collect()
            })
            .collect()
    })
}

/// Every code page that has a tag called exactly `name`.
pub fn pages_with_tag(name: &str) -> impl Iterator<Item = &'static CodePage> + '_ {
    PAGES.iter().filter(move |p| p.tag_by_name(name).is_some())
}

impl TagDef {
    /// Whether the tag exists in protocol version `v`.
    #[inline]
    pub fn exists_in(&self, v: ProtocolVersion) -> bool {
        self.versions.contains(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shape() {
        assert_eq!(PAGES.len(), 26);
        let total: usize = PAGES.iter().map(|p| p.tags.len()).sum();
        assert_eq!(total, 586);
        assert!(PAGES[3].tags.is_empty(), "page 3 is unused");
        for (n, p) in PAGES.iter().enumerate() {
            assert_eq!(p.number as usize, n);
            assert_eq!(p.uri, format!("{}:", p.namespace));
            for t in p.tags {
                assert!(
                    (0x05..=0x3F).contains(&t.token),
                    "{} {}",
                    p.namespace,
                    t.name
                );
                assert_eq!(p.tag(t.token), Some(t));
                assert_eq!(p.tag_by_name(t.name), Some(t));
                assert_eq!(t.qname, format!("{}:{}", p.namespace, t.name));
                assert!(!t.versions.is_empty());
            }
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(code_page_by_uri("AirSyncBase:").unwrap().number, 17);
        assert_eq!(code_page_by_uri("airsyncbase:").unwrap().number, 17);
        assert_eq!(code_page_by_uri("GAL:").unwrap().number, 16);
        assert!(code_page_by_uri("Nope:").is_none());
        let find = code_page(25).unwrap();
        let t = find.tag_by_name("Find").unwrap();
        assert_eq!(t.token, 0x05);
        assert!(!t.exists_in(ProtocolVersion::V14_1));
        assert!(t.exists_in(ProtocolVersion::V16_1));
        assert_eq!(
            code_page(1).unwrap().similar_names("Firstname"),
            vec!["FirstName"]
        );
        assert!(code_page(0).unwrap().tag(0x11).is_none());
        assert!(code_page(26).is_none());
        let pages: Vec<_> = pages_with_tag("FirstName").map(|p| p.namespace).collect();
        assert_eq!(pages, vec!["Contacts", "GAL"]);
    }
}
