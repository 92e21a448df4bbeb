//! Paths into decoded responses: the documented XPath subset of
//! `docs/suite-format.md` ("Paths"), parsed once when a suite loads and
//! evaluated on [`crate::wbxml::Element`] trees.
//!
//! Grammar (whitespace is allowed inside `[...]` only):
//!
//! ```text
//! path      = ("/" | "//") step { ("/" | "//") step }
//! step      = test { "[" predicate "]" }
//! test      = "*" | PAGE ":" NAME | PAGE ":*"
//! predicate = N | "last()" | PAGE ":" NAME [ "=" ( 'text' | "text" ) ]
//! ```
//!
//! Prefixes are code page names (`AirSync`, `FolderHierarchy`...), matched
//! ignoring ASCII case and stored canonically; an unknown page, or a name
//! the page does not define, is a parse error with a did-you-mean, so a
//! typo cannot make an expectation silently select nothing.
//!
//! Semantics, and where they differ from XPath 1.0:
//! - A leading `/` starts at the document: the first step matches the root
//!   element itself (`/AirSync:Sync/...`). `//x` matches at any depth,
//!   the root included; inside a path, `a//b` selects the descendants of
//!   the `a`s.
//! - `[N]` and `[last()]` count over **everything the step selected so
//!   far**, in document order, not per parent as XPath does:
//!   `//AirSync:Add[2]` is the second Add in the response (XPath would
//!   need `(//AirSync:Add)[2]`). That is what a reader of a suite expects.
//!   Predicates apply left to right: `[A:z='x'][1]` is the first of those
//!   whose `A:z` is `x`.
//! - Text comparisons trim the element's surrounding whitespace.
//! - Results are in document order without duplicates.

use std::collections::HashMap;
use std::fmt;

use crate::wbxml::{Element, code_page_by_uri, code_pages, pages_with_tag};

use super::error::did_you_mean;

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// `//` before the step (descendants) rather than `/` (children).
    descendants: bool,
    test: NameTest,
    predicates: Vec<Predicate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NameTest {
    /// `*`
    Any,
    /// `Page:*`
    AnyOn(&'static str),
    /// `Page:Name`
    Named(&'static str, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Predicate {
    /// `[N]`, 1-based.
    Position(usize),
    /// `[last()]`
    Last,
    /// `[P:z]`
    HasChild(NameTest),
    /// `[P:z='text']`
    ChildText(NameTest, String),
}

/// A path syntax error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// Byte offset in the path text where the problem starts.
    pub offset: usize,
    /// Length in bytes of the offending text (0 at the end of the path).
    pub len: usize,
    pub message: String,
    /// A suggestion (`did you mean ...?`), if there is one.
    pub hint: Option<String>,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PathError {}

impl NameTest {
    fn matches(&self, e: &Element) -> bool {
        match self {
            NameTest::Any => true,
            NameTest::AnyOn(page) => e.namespace == *page,
            NameTest::Named(page, name) => e.namespace == *page && e.name == *name,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Path {
    /// Parses a path (see the module docs for the grammar).
    ///
    /// ```
    /// use eastest::suite::Path;
    /// let p = Path::parse("//airsync:Collection[AirSync:Class='Email']/AirSync:Status").unwrap();
    /// assert_eq!(p.as_str(), "//airsync:Collection[AirSync:Class='Email']/AirSync:Status");
    /// let e = Path::parse("/AirSync:Sync/AirSyn:Status").unwrap_err();
    /// assert_eq!(e.offset, 14);
    /// assert_eq!(e.hint.as_deref(), Some("did you mean `AirSync`?"));
    /// ```
    pub fn parse(text: &str) -> Result<Path, PathError> {
        Parser { text, pos: 0 }.path()
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The elements `self` selects in the document whose root is `root`,
    /// in document order.
    pub fn select<'a>(&self, root: &'a Element) -> Vec<&'a Element> {
        // Preorder numbering gives document order for sorting and dedup.
        let mut order: Vec<&'a Element> = Vec::new();
        let mut stack = vec![root];
        while let Some(e) = stack.pop() {
            order.push(e);
            let children: Vec<&Element> = e.elements().collect();
            stack.extend(children.into_iter().rev());
        }
        let index: HashMap<*const Element, usize> = order
            .iter()
            .enumerate()
            .map(|(i, e)| (*e as *const Element, i))
            .collect();

        let mut current: Vec<&'a Element> = Vec::new();
        for (n, step) in self.steps.iter().enumerate() {
            let mut next: Vec<&'a Element> = Vec::new();
            if n == 0 {
                if step.descendants {
                    next.extend(order.iter().copied());
                } else {
                    next.push(root);
                }
            } else {
                for e in &current {
                    if step.descendants {
                        let mut stack: Vec<&'a Element> = e.elements().collect();
                        stack.reverse();
                        while let Some(d) = stack.pop() {
                            next.push(d);
                            let children: Vec<&Element> = d.elements().collect();
                            stack.extend(children.into_iter().rev());
                        }
                    } else {
                        next.extend(e.elements());
                    }
                }
            }
            next.retain(|e| step.test.matches(e));
            next.sort_by_key(|e| index.get(&(*e as *const Element)).copied());
            next.dedup_by(|a, b| std::ptr::eq(*a, *b));
            for p in &step.predicates {
                next = apply(p, next);
            }
            current = next;
        }
        current
    }
}

fn apply<'a>(p: &Predicate, list: Vec<&'a Element>) -> Vec<&'a Element> {
    match p {
        Predicate::Position(n) => list.get(n - 1).copied().into_iter().collect(),
        Predicate::Last => list.last().copied().into_iter().collect(),
        Predicate::HasChild(test) => list
            .into_iter()
            .filter(|e| e.elements().any(|c| test.matches(c)))
            .collect(),
        Predicate::ChildText(test, text) => list
            .into_iter()
            .filter(|e| {
                e.elements()
                    .any(|c| test.matches(c) && c.text().trim() == text.as_str())
            })
            .collect(),
    }
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

const SUPPORTED_PREDICATES: &str =
    "supported: `[N]`, `[last()]`, `[Page:Name]`, `[Page:Name='text']`";

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

impl<'t> Parser<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    fn err(&self, offset: usize, len: usize, message: impl Into<String>) -> PathError {
        PathError {
            offset,
            len,
            message: message.into(),
            hint: None,
        }
    }

    fn err_hint(
        &self,
        offset: usize,
        len: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> PathError {
        PathError {
            offset,
            len,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn path(mut self) -> Result<Path, PathError> {
        if self.text.trim().is_empty() {
            return Err(self.err_hint(0, 0, "empty path", "write e.g. `//AirSync:Status`"));
        }
        if !self.text.starts_with('/') {
            return Err(self.err_hint(
                0,
                self.text.len().min(1),
                "a path starts with `/` (at the root element) or `//` (at any depth)",
                format!("write `//{}`", self.text),
            ));
        }
        let mut steps = Vec::new();
        while !self.rest().is_empty() {
            let descendants = if self.rest().starts_with("//") {
                self.pos += 2;
                true
            } else if self.rest().starts_with('/') {
                self.pos += 1;
                false
            } else {
                let c = self.rest().chars().next().map_or(1, char::len_utf8);
                return Err(self.err_hint(
                    self.pos,
                    c,
                    format!("unexpected `{}` after a step", &self.rest()[..c]),
                    "steps are separated by `/` or `//`",
                ));
            };
            let test = self.name_test("an element name")?;
            let mut predicates = Vec::new();
            while self.rest().starts_with('[') {
                predicates.push(self.predicate()?);
            }
            steps.push(Step {
                descendants,
                test,
                predicates,
            });
        }
        Ok(Path {
            text: self.text.to_string(),
            steps,
        })
    }

    fn name_test(&mut self, what: &str) -> Result<NameTest, PathError> {
        let start = self.pos;
        let rest = self.rest();
        if rest.starts_with('*') {
            self.pos += 1;
            return Ok(NameTest::Any);
        }
        let prefix_len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        if prefix_len == 0 {
            let c = rest.chars().next();
            return Err(match c {
                None => self.err_hint(
                    start,
                    0,
                    format!("expected {what} at the end of the path"),
                    "remove the trailing `/`, or name an element",
                ),
                Some('/') => self.err_hint(
                    start,
                    1,
                    format!("expected {what}, found `/`"),
                    "`//` selects at any depth; a third `/` is one too many",
                ),
                Some('@') => self.err(start, 1, "EAS elements have no attributes"),
                Some('.') => self.err_hint(
                    start,
                    1,
                    "`.` and `..` are not supported",
                    "write the path from the root",
                ),
                Some(c) => self.err(start, c.len_utf8(), format!("expected {what}, found `{c}`")),
            });
        }
        let prefix = &rest[..prefix_len];
        if !rest[prefix_len..].starts_with(':') {
            if rest[prefix_len..].starts_with('(') {
                return Err(self.err_hint(
                    start,
                    prefix_len,
                    format!("function `{prefix}()` is not supported here"),
                    "paths select elements: text is compared by `equals`, `matches` and predicates",
                ));
            }
            let pages: Vec<String> = pages_with_tag(prefix)
                .take(3)
                .map(|p| format!("`{}:{prefix}`", p.namespace))
                .collect();
            let hint = if pages.is_empty() {
                "write `Page:Name`, e.g. `AirSync:Status`".to_string()
            } else {
                format!("did you mean {}?", pages.join(" or "))
            };
            return Err(self.err_hint(
                start,
                prefix_len,
                format!("`{prefix}` needs its code page prefix"),
                hint,
            ));
        }
        let Some(page) = code_page_by_uri(prefix) else {
            let names: Vec<&str> = code_pages()
                .iter()
                .map(|p| p.namespace)
                .filter(|n| !n.is_empty())
                .collect();
            let hint = match did_you_mean(prefix, &names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("code pages: {}", names.join(", ")),
            };
            return Err(self.err_hint(
                start,
                prefix_len,
                format!("unknown code page `{prefix}`"),
                hint,
            ));
        };
        self.pos += prefix_len + 1;
        let name_start = self.pos;
        let rest = self.rest();
        if rest.starts_with('*') {
            self.pos += 1;
            return Ok(NameTest::AnyOn(page.namespace));
        }
        let name_len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        if name_len == 0 {
            return Err(self.err_hint(
                name_start,
                rest.chars().next().map_or(0, char::len_utf8),
                format!("expected an element name after `{prefix}:`"),
                format!("write `{}:Name` or `{}:*`", page.namespace, page.namespace),
            ));
        }
        let name = &rest[..name_len];
        if page.tag_by_name(name).is_none() {
            let similar = page.similar_names(name);
            let hint = if let Some(best) = similar.first() {
                format!("did you mean `{}:{best}`?", page.namespace)
            } else {
                let elsewhere: Vec<String> = pages_with_tag(name)
                    .take(3)
                    .map(|p| format!("`{}:{name}`", p.namespace))
                    .collect();
                if elsewhere.is_empty() {
                    "check the element's name in MS-ASWBXML".to_string()
                } else {
                    format!("it is on another page: {}", elsewhere.join(" or "))
                }
            };
            return Err(self.err_hint(
                name_start,
                name_len,
                format!("code page {} has no element `{name}`", page.namespace),
                hint,
            ));
        }
        self.pos += name_len;
        Ok(NameTest::Named(page.namespace, name.to_string()))
    }

    fn predicate(&mut self) -> Result<Predicate, PathError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        let start = self.pos;
        let rest = self.rest();
        let p = if rest.starts_with(|c: char| c.is_ascii_digit()) {
            let len = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let n: usize = rest[..len]
                .parse()
                .map_err(|_| self.err(start, len, "position too large"))?;
            if n == 0 {
                return Err(self.err_hint(
                    start,
                    len,
                    "positions start at 1",
                    "write `[1]` for the first",
                ));
            }
            self.pos += len;
            Predicate::Position(n)
        } else if rest.starts_with("last()") {
            self.pos += "last()".len();
            Predicate::Last
        } else if rest.starts_with(']') {
            return Err(self.err_hint(open, 2, "empty predicate `[]`", SUPPORTED_PREDICATES));
        } else {
            let word = rest
                .find(|c: char| !is_name_char(c))
                .map_or(rest, |i| &rest[..i]);
            if rest[word.len()..].starts_with('(') {
                return Err(self.err_hint(
                    start,
                    word.len(),
                    format!("`{word}()` is not supported"),
                    SUPPORTED_PREDICATES,
                ));
            }
            if rest.starts_with('@') {
                return Err(self.err(start, 1, "EAS elements have no attributes"));
            }
            let test = self.name_test("an element name or a position")?;
            self.skip_ws();
            if self.rest().starts_with('=') {
                self.pos += 1;
                self.skip_ws();
                let lit_start = self.pos;
                let rest = self.rest();
                let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                    return Err(self.err_hint(
                        lit_start,
                        rest.chars().next().map_or(0, char::len_utf8),
                        "expected a quoted text after `=`",
                        "write `[AirSync:Class='Email']`",
                    ));
                };
                let Some(end) = rest[1..].find(quote) else {
                    return Err(self.err_hint(
                        lit_start,
                        rest.len(),
                        "unterminated text",
                        format!("close it with `{quote}`"),
                    ));
                };
                let text = rest[1..1 + end].to_string();
                self.pos += end + 2;
                Predicate::ChildText(test, text)
            } else {
                Predicate::HasChild(test)
            }
        };
        self.skip_ws();
        if !self.rest().starts_with(']') {
            let c = self.rest().chars().next();
            return Err(match c {
                None => self.err_hint(open, 1, "unclosed `[`", "close it with `]`"),
                Some(c) => self.err_hint(
                    self.pos,
                    c.len_utf8(),
                    format!("expected `]`, found `{c}`"),
                    SUPPORTED_PREDICATES,
                ),
            });
        }
        self.pos += 1;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wbxml::{EncodeOptions, ProtocolVersion, encode};

    fn doc() -> Element {
        let xml = r#"<Sync xmlns="AirSync:" xmlns:B="AirSyncBase:">
  <Collections>
    <Collection>
      <SyncKey>1</SyncKey><CollectionId>1</CollectionId><Status>1</Status>
      <Commands>
        <Add><ServerId>1:1</ServerId></Add>
        <Add><ServerId>1:2</ServerId><ApplicationData><B:NativeBodyType>1</B:NativeBodyType></ApplicationData></Add>
      </Commands>
    </Collection>
    <Collection>
      <SyncKey>2</SyncKey><CollectionId> 7 </CollectionId><Status>3</Status>
      <Commands><Add><ServerId>7:1</ServerId></Add></Commands>
    </Collection>
  </Collections>
</Sync>"#;
        let v = ProtocolVersion::V14_1;
        let bytes = encode(xml, &EncodeOptions::strict(v)).unwrap();
        Element::from_wbxml(&bytes, &crate::wbxml::DecodeOptions::strict(v)).unwrap()
    }

    fn texts(path: &str) -> Vec<String> {
        let d = doc();
        Path::parse(path)
            .unwrap()
            .select(&d)
            .into_iter()
            .map(|e| format!("{}:{}={}", e.namespace, e.name, e.text().trim()))
            .collect()
    }

    #[test]
    fn absolute_child_steps_start_at_the_root() {
        assert_eq!(texts("/AirSync:Sync").len(), 1);
        assert_eq!(
            texts("/AirSync:Sync/AirSync:Collections/AirSync:Collection/AirSync:Status"),
            ["AirSync:Status=1", "AirSync:Status=3"]
        );
        // The first step must match the root itself.
        assert!(texts("/AirSync:Collections").is_empty());
    }

    #[test]
    fn descendants_anywhere_including_root_and_mid_path() {
        assert_eq!(texts("//AirSync:Sync").len(), 1);
        assert_eq!(
            texts("//AirSync:ServerId"),
            [
                "AirSync:ServerId=1:1",
                "AirSync:ServerId=1:2",
                "AirSync:ServerId=7:1"
            ]
        );
        assert_eq!(
            texts("/AirSync:Sync//AirSync:Collection//AirSync:ServerId").len(),
            3
        );
        // Nested `//` does not duplicate.
        assert_eq!(texts("//*//AirSync:ServerId").len(), 3);
        assert_eq!(
            texts("//AirSyncBase:NativeBodyType"),
            ["AirSyncBase:NativeBodyType=1"]
        );
    }

    #[test]
    fn wildcards() {
        assert_eq!(texts("/AirSync:Sync/*").len(), 1);
        assert_eq!(texts("//AirSyncBase:*").len(), 1);
        assert_eq!(texts("//AirSync:Add/AirSync:*").len(), 4);
        // Every element of the document.
        assert_eq!(texts("//*").len(), 20);
    }

    #[test]
    fn positions_count_over_the_whole_step() {
        assert_eq!(texts("//AirSync:ServerId[2]"), ["AirSync:ServerId=1:2"]);
        assert_eq!(
            texts("//AirSync:ServerId[last()]"),
            ["AirSync:ServerId=7:1"]
        );
        assert!(texts("//AirSync:ServerId[4]").is_empty());
        assert_eq!(
            texts("//AirSync:Collection[2]/AirSync:SyncKey"),
            ["AirSync:SyncKey=2"]
        );
    }

    #[test]
    fn child_predicates_trim_text() {
        assert_eq!(
            texts("//AirSync:Collection[AirSync:CollectionId='7']/AirSync:Status"),
            ["AirSync:Status=3"]
        );
        assert_eq!(
            texts("//AirSync:Collection[ AirSync:CollectionId = \"1\" ]/AirSync:SyncKey"),
            ["AirSync:SyncKey=1"]
        );
        assert_eq!(
            texts("//AirSync:Add[AirSync:ApplicationData]/AirSync:ServerId"),
            ["AirSync:ServerId=1:2"]
        );
        assert_eq!(
            texts("//AirSync:Add[AirSync:ServerId][last()]/AirSync:ServerId"),
            ["AirSync:ServerId=7:1"]
        );
    }

    #[test]
    fn prefixes_are_case_insensitive_and_canonical() {
        // Element names are case-sensitive, with a suggestion.
        let e = Path::parse("//airsync:status").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `AirSync:Status`?"));
        assert_eq!(texts("//AIRSYNC:Status").len(), 2);
    }

    fn err(path: &str) -> PathError {
        Path::parse(path).unwrap_err()
    }

    #[test]
    fn errors_have_offsets_and_hints() {
        let e = err("/AirSync:Sync/AirSyn:Status");
        assert_eq!((e.offset, e.len), (14, 6));
        assert_eq!(e.message, "unknown code page `AirSyn`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `AirSync`?"));

        let e = err("//AirSync:Stauts");
        assert_eq!((e.offset, e.len), (10, 6));
        assert_eq!(e.message, "code page AirSync has no element `Stauts`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `AirSync:Status`?"));

        let e = err("//Status");
        assert_eq!(e.offset, 2);
        assert!(e.hint.as_deref().unwrap().contains("`AirSync:Status`"));

        let e = err("AirSync:Sync");
        assert_eq!(e.offset, 0);
        assert_eq!(e.hint.as_deref(), Some("write `//AirSync:Sync`"));

        assert_eq!(err("//AirSync:Add[0]").offset, 14);
        assert_eq!(err("//AirSync:Add[0]").message, "positions start at 1");
        assert_eq!(err("//AirSync:Add[position()=1]").offset, 14);
        assert_eq!(err("//AirSync:Add[AirSync:ServerId='x").offset, 31);
        assert_eq!(err("//AirSync:Add[1").message, "unclosed `[`");
        assert_eq!(err("//AirSync:Add/").offset, 14);
        assert_eq!(err("///AirSync:Add").offset, 2);
        assert_eq!(
            err("//AirSync:Add/@id").message,
            "EAS elements have no attributes"
        );
        assert_eq!(err("").message, "empty path");
        assert_eq!(err("//AirSync:").offset, 10);
        let e = err("//AirSync:Add x");
        assert_eq!(
            (e.offset, e.message.as_str()),
            (13, "unexpected ` ` after a step")
        );
    }
}
