//! `{{name}}` interpolation in step texts (bodies, `mime`, `params`,
//! `headers`, hook paths).
//!
//! A placeholder is `{{`, a name matching `[A-Za-z_][A-Za-z0-9_-]*`, and
//! `}}`, with nothing else in between (no spaces). Everything else is plain
//! text, so no escape is needed: a `{{` that does not start a placeholder
//! (`{{ x }}`, `{{1}}`, a lone `{{`) is kept as written. In `{{{x}}}` the
//! placeholder is the inner `{{x}}` and the outer braces stay. There is no
//! way to write a literal `{{name}}`; EAS bodies never need one.
//!
//! Every placeholder is checked when the suite loads (it must name a `vars`
//! entry, a capture of an earlier step or a built-in), so rendering can only
//! fail for a name the caller's `lookup` does not know at run time.

use std::fmt;

use super::model::{Span, Template};

/// The variables every step can use without declaring them: the account's
/// user name, the sending device's DeviceId, the run's protocol version and
/// a per-run id (for unique subjects and folder names).
pub const BUILTIN_VARIABLES: [&str; 4] = ["user", "device_id", "version", "run_id"];

/// A placeholder `lookup` did not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    /// The name between the braces.
    pub name: String,
    /// Where `{{name}}` sits in the template's text (byte offsets into
    /// [`Template::text`], not into the suite file).
    pub span: Span,
}

impl fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown variable `{{{{{}}}}}`", self.name)
    }
}

impl std::error::Error for UnknownVariable {}

/// Whether `name` is a valid variable name (`[A-Za-z_][A-Za-z0-9_-]*`).
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The placeholders of `text`: `(name, span of "{{name}}")`, in order.
pub(crate) fn scan(text: &str) -> Vec<(String, Span)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(at) = text[i..].find("{{").map(|p| p + i) {
        let name_start = at + 2;
        let mut j = name_start;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-')
        {
            j += 1;
        }
        let name = &text[name_start..j];
        if is_variable_name(name) && text[j..].starts_with("}}") {
            found.push((
                name.to_string(),
                Span {
                    start: at,
                    end: j + 2,
                },
            ));
            i = j + 2;
        } else {
            // Not a placeholder here; one may start at the next brace
            // (`{{{x}}}`).
            i = at + 1;
        }
    }
    found
}

impl Template {
    /// The placeholders, in order: each name with the span of its
    /// `{{name}}` in [`Template::text`] (byte offsets into the text, not
    /// into the suite file: TOML escapes can make the two differ; the
    /// loader maps them itself when it reports an unknown variable).
    pub fn placeholders(&self) -> Vec<(String, Span)> {
        scan(&self.text)
    }

    /// The text with every placeholder replaced by `lookup(name)`; the first
    /// name `lookup` does not know is the error.
    ///
    /// ```
    /// use eastest::suite::{Span, Template};
    /// let t = Template { text: "<CollectionId>{{inbox}}</CollectionId>".into(), span: Span::default() };
    /// let out = t.render(|n| (n == "inbox").then(|| "1".to_string())).unwrap();
    /// assert_eq!(out, "<CollectionId>1</CollectionId>");
    /// ```
    pub fn render(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<String, UnknownVariable> {
        let mut out = String::with_capacity(self.text.len());
        let mut last = 0;
        for (name, span) in scan(&self.text) {
            let Some(value) = lookup(&name) else {
                return Err(UnknownVariable { name, span });
            };
            out.push_str(&self.text[last..span.start]);
            out.push_str(&value);
            last = span.end;
        }
        out.push_str(&self.text[last..]);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Template {
        Template {
            text: text.into(),
            span: Span::default(),
        }
    }

    #[test]
    fn finds_placeholders_with_spans() {
        let p = t("a{{x}}b{{long_name-2}}").placeholders();
        assert_eq!(
            p,
            vec![
                ("x".to_string(), Span { start: 1, end: 6 }),
                ("long_name-2".to_string(), Span { start: 7, end: 22 }),
            ]
        );
    }

    #[test]
    fn malformed_braces_are_plain_text() {
        assert!(t("{{ x }} {{1}} {{ {{}} }}").placeholders().is_empty());
        let p = t("{{{x}}}").placeholders();
        assert_eq!(p, vec![("x".to_string(), Span { start: 1, end: 6 })]);
        let out = t("{{{x}}}").render(|_| Some("V".into())).unwrap();
        assert_eq!(out, "{V}");
    }

    #[test]
    fn render_replaces_and_reports_the_first_unknown() {
        let tmpl = t("{{a}}-{{b}}-{{c}}");
        let err = tmpl
            .render(|n| (n == "a").then(|| "1".to_string()))
            .unwrap_err();
        assert_eq!(err.name, "b");
        assert_eq!(err.span, Span { start: 6, end: 11 });
        assert_eq!(err.to_string(), "unknown variable `{{b}}`");
        let out = tmpl.render(|n| Some(n.to_uppercase())).unwrap();
        assert_eq!(out, "A-B-C");
    }

    #[test]
    fn variable_names() {
        assert!(is_variable_name("_a-1"));
        assert!(!is_variable_name("1a"));
        assert!(!is_variable_name("a b"));
        assert!(!is_variable_name(""));
    }
}
