//! Paths into decoded responses: the documented XPath subset of
//! `docs/suite-format.md`, parsed once when a suite loads and evaluated on
//! [`crate::wbxml::Element`] trees.

use crate::wbxml::Element;

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
}

impl Path {
    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The elements `self` selects in the document whose root is `root`,
    /// in document order.
    pub fn select<'a>(&self, root: &'a Element) -> Vec<&'a Element> {
        let _ = root;
        todo!("being written")
    }
}
