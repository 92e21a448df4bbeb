//! TOML text -> validated [`Suite`].
//!
//! The file is parsed with `toml`'s spanned document tree
//! ([`toml::de::DeTable`]: every key and value with its byte range) and
//! then walked by hand rather than deserialized with serde into structs.
//! A serde `Deserialize` stops at the first unknown key or wrong type and
//! words its own messages; walking the tree lets one pass report every
//! problem of a file with its exact span, a did-you-mean for unknown keys
//! at every level, and messages in the suite format's own terms ("`http`
//! must be an integer, got a string").
//!
//! What is checked, beyond types and unknown keys: see `docs/suite-format.md`
//! and the module docs of [`crate::suite`].

use std::collections::HashMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::protocol::{Command, VersionSet};
use crate::wbxml::{EncodeErrorKind, EncodeOptions, encode};

use super::error::{Collector, SuiteError, did_you_mean};
use super::model::*;
use super::path::Path;
use super::template::{BUILTIN_VARIABLES, is_variable_name, scan};
use super::versions::{RUN_VERSIONS, parse_versions, versions_text};
use crate::diagnostic::toml_walk::{kind_of as kind, span_of as span, unknown_keys};

type Value<'i> = Spanned<DeValue<'i>>;
type Key<'i> = Spanned<std::borrow::Cow<'i, str>>;

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "tags",
    "references",
    "versions",
    "requires",
    "vars",
    "devices",
    "step",
];

const STEP_KEYS: &[&str] = &[
    "name",
    "command",
    "device",
    "params",
    "headers",
    "body",
    "mime",
    "provision",
    "auth",
    "http",
    "expect",
    "capture",
    "snapshot",
    "retry",
    "background",
    "empty-ok",
    "delay-ms",
];

const PREDICATES: &[&str] = &[
    "exists", "equals", "matches", "count", "status", "contains", "excludes", "only",
];

const RETRY_KEYS: &[&str] = &["times", "interval-ms"];
const SNAPSHOT_KEYS: &[&str] = &["redact"];

/// `retry.interval-ms` when not given.
pub const DEFAULT_RETRY_INTERVAL_MS: u64 = 1000;
/// Bounds from the suite format: a retrying or waiting step must not stall
/// a run indefinitely.
const MAX_RETRY_TIMES: i64 = 100;
const MAX_RETRY_INTERVAL_MS: i64 = 60_000;
const MAX_DELAY_MS: i64 = 600_000;

/// Request-line parameters eastest sets itself (MS-ASHTTP 2.2.1.1.1.1).
const RESERVED_PARAMS: &[&str] = &["Cmd", "User", "DeviceId", "DeviceType"];

/// Parses and validates a suite's TOML text.
pub fn parse(source: &str, file: &FsPath, id: &str) -> Result<Suite, SuiteError> {
    let shared: Arc<str> = Arc::from(source);
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().map_or(Span::default(), |r| Span {
                start: r.start,
                end: r.end,
            });
            let message = e.message().replace('\n', " ");
            let mut c = Collector::new(source);
            let hint = toml_hint(&message);
            c.error(span, format!("TOML syntax: {message}"), hint);
            return Err(SuiteError::new(file, shared, c.diagnostics));
        }
    };
    let mut v = Validator {
        c: Collector::new(source),
        source,
    };
    let suite = v.suite(doc.get_ref(), file, id, shared.clone());
    match suite {
        Some(suite) if v.c.diagnostics.is_empty() => Ok(suite),
        _ => Err(SuiteError::new(file, shared, v.c.diagnostics)),
    }
}

fn toml_hint(message: &str) -> Option<String> {
    if message.contains("must be quoted") {
        Some("quote text values: `key = \"text\"`".into())
    } else if message.contains("duplicate key") {
        Some("a key may appear once per table".into())
    } else if message.contains("multiline basic string") || message.contains("invalid basic string")
    {
        Some("close the string; use `'''...'''` for text over several lines".into())
    } else {
        None
    }
}

/// A table's entries in file order (the tree sorts keys by name).
fn entries<'a, 'i>(t: &'a DeTable<'i>) -> Vec<(&'a Key<'i>, &'a Value<'i>)> {
    let mut e: Vec<_> = t.iter().collect();
    e.sort_by_key(|(k, _)| k.span().start);
    e
}

fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<(&'a Key<'i>, &'a Value<'i>)> {
    t.iter().find(|(k, _)| k.get_ref().as_ref() == key)
}

/// Whether `t` has an unknown key that looks like a misspelt `key`: its
/// "unknown key ... did you mean" error says enough, so "missing `key`"
/// would only repeat it.
fn misspelled(t: &DeTable<'_>, key: &str, known: &[&str]) -> bool {
    t.iter().any(|(k, _)| {
        let k = k.get_ref().as_ref();
        !known.contains(&k) && did_you_mean(k, known) == Some(key)
    })
}

fn int_value(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

/// The file offset of byte `offset` of a string value, when the value's
/// text up to there is written verbatim in the file (a literal string, or
/// a basic one without escapes before `offset`); `None` otherwise.
pub(crate) fn string_offset(source: &str, at: Span, value: &str, offset: usize) -> Option<usize> {
    let raw = source.get(at.start..at.end)?;
    let delim = ["'''", "\"\"\"", "'", "\""]
        .into_iter()
        .find(|d| raw.len() >= 2 * d.len() && raw.starts_with(d) && raw.ends_with(d))?;
    let mut start = at.start + delim.len();
    if delim.len() == 3 {
        if source[start..].starts_with("\r\n") {
            start += 2;
        } else if source[start..].starts_with('\n') {
            start += 1;
        }
    }
    let content = source.get(start..at.end - delim.len())?;
    (content.get(..offset)? == value.get(..offset)?).then_some(start + offset)
}

struct Validator<'s> {
    c: Collector<'s>,
    source: &'s str,
}

/// Where a variable can come from, for did-you-mean and ordering hints.
struct CaptureSite {
    variable: String,
    step: usize,
    step_name: String,
    line: usize,
}

impl<'s> Validator<'s> {
    fn error(&mut self, at: Span, message: impl Into<String>, hint: Option<String>) {
        self.c.error(at, message, hint);
    }

    /// A span inside a string value (`start..end` of its text), or the whole
    /// value when the text is not written verbatim.
    fn inner(&self, at: Span, value: &str, start: usize, end: usize) -> Span {
        match (
            string_offset(self.source, at, value, start),
            string_offset(self.source, at, value, end),
        ) {
            (Some(s), Some(e)) => Span { start: s, end: e },
            (Some(s), None) => Span {
                start: s,
                end: s + 1,
            },
            _ => at,
        }
    }

    fn check_keys(&mut self, table: &DeTable<'_>, known: &[&str], place: &str) {
        unknown_keys(&mut self.c, table, known, place);
    }

    fn type_error(&mut self, name: &str, expected: &str, v: &Value<'_>) {
        let key = name.rsplit('.').next().unwrap_or(name);
        let raw = self.source.get(v.span()).unwrap_or("").to_string();
        let hint = match (expected, v.get_ref()) {
            ("an integer", DeValue::String(s)) if s.trim().parse::<i64>().is_ok() => {
                Some(format!("remove the quotes: `{key} = {}`", s.trim()))
            }
            ("a boolean", DeValue::String(s)) if matches!(s.trim(), "true" | "false") => {
                Some(format!("remove the quotes: `{key} = {}`", s.trim()))
            }
            ("a string", DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_)) => {
                Some(format!("quote it: `{key} = \"{raw}\"`"))
            }
            _ => None,
        };
        self.error(
            span(v),
            format!("`{name}` must be {expected}, got {}", kind(v.get_ref())),
            hint,
        );
    }

    fn string<'a>(&mut self, name: &str, v: &'a Value<'_>) -> Option<&'a str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.type_error(name, "a string", v);
                None
            }
        }
    }

    fn boolean(&mut self, name: &str, v: &Value<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.type_error(name, "a boolean", v);
                None
            }
        }
    }

    fn integer(&mut self, name: &str, v: &Value<'_>, min: i64, max: i64) -> Option<i64> {
        if !matches!(v.get_ref(), DeValue::Integer(_)) {
            self.type_error(name, "an integer", v);
            return None;
        }
        match int_value(v.get_ref()) {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let raw = self.source.get(v.span()).unwrap_or("?").to_string();
                self.error(
                    span(v),
                    format!("`{name}` must be between {min} and {max}, got {raw}"),
                    None,
                );
                None
            }
        }
    }

    fn table<'a, 'i>(&mut self, name: &str, v: &'a Value<'i>) -> Option<&'a DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.type_error(name, "a table", v);
                None
            }
        }
    }

    fn array<'a, 'i>(&mut self, name: &str, v: &'a Value<'i>) -> Option<&'a [Value<'i>]> {
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            _ => {
                self.type_error(name, "an array", v);
                None
            }
        }
    }

    /// An array of strings, each with its span.
    fn strings(&mut self, name: &str, v: &Value<'_>) -> Option<Vec<(String, Span)>> {
        let items = self.array(name, v)?;
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.to_string(), span(item))),
                other => {
                    ok = false;
                    self.error(
                        span(item),
                        format!("`{name}` must hold strings, got {}", kind(other)),
                        None,
                    );
                }
            }
        }
        ok.then_some(out)
    }

    /// A table of strings, in file order, each as a template.
    fn string_table(&mut self, name: &str, v: &Value<'_>) -> Vec<(String, Span, Template)> {
        let Some(t) = self.table(name, v) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, val) in entries(t) {
            let key = k.get_ref().to_string();
            if let Some(text) = self.string(&format!("{name}.{key}"), val) {
                out.push((
                    key,
                    span(k),
                    Template {
                        text: text.to_string(),
                        span: span(val),
                    },
                ));
            }
        }
        out
    }

    fn path(&mut self, v: &Value<'_>, name: &str) -> Option<Path> {
        let text = self.string(name, v)?;
        match Path::parse(text) {
            Ok(p) => Some(p),
            Err(e) => {
                let at = self.inner(span(v), text, e.offset, e.offset + e.len);
                self.error(at, format!("invalid path: {}", e.message), e.hint);
                None
            }
        }
    }

    fn suite(
        &mut self,
        doc: &DeTable<'_>,
        file: &FsPath,
        id: &str,
        source: Arc<str>,
    ) -> Option<Suite> {
        self.check_keys(doc, TOP_KEYS, "at the top level");

        let name = match get(doc, "name") {
            Some((_, v)) => match self.string("name", v) {
                Some(s) if s.trim().is_empty() => {
                    self.error(
                        span(v),
                        "`name` is empty",
                        Some("give the suite a one-line title".into()),
                    );
                    None
                }
                Some(s) if s.contains('\n') => {
                    self.error(
                        span(v),
                        "`name` must be one line",
                        Some("put the details in `description`".into()),
                    );
                    None
                }
                other => other.map(str::to_string),
            },
            None => {
                if !misspelled(doc, "name", TOP_KEYS) {
                    self.error(
                        Span::default(),
                        "missing `name`",
                        Some(
                            "add `name = \"...\"` at the top: the suite's title in reports".into(),
                        ),
                    );
                }
                None
            }
        };
        let description = match get(doc, "description") {
            Some((_, v)) => self.string("description", v).unwrap_or("").to_string(),
            None => String::new(),
        };
        let mut list = |key: &str| match get(doc, key) {
            Some((_, v)) => self
                .strings(key, v)
                .unwrap_or_default()
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
            None => Vec::new(),
        };
        let tags = list("tags");
        let references = list("references");

        let (versions, versions_text) = match get(doc, "versions") {
            Some((_, v)) => match self.string("versions", v) {
                Some(text) => match parse_versions(text) {
                    Ok(set) => (Some(set), text.to_string()),
                    Err(e) => {
                        let at = self.inner(span(v), text, e.offset, e.offset + e.len);
                        self.error(at, e.message, e.hint);
                        (None, text.to_string())
                    }
                },
                None => (None, String::new()),
            },
            None => (Some(RUN_VERSIONS), "*".to_string()),
        };

        let requires = match get(doc, "requires") {
            Some((_, v)) => self.requires(v),
            None => Vec::new(),
        };
        let vars = match get(doc, "vars") {
            Some((_, v)) => self.vars(v),
            None => Vec::new(),
        };
        let devices = match get(doc, "devices") {
            Some((_, v)) => self.devices(v),
            None => Vec::new(),
        };

        let steps = match get(doc, "step") {
            None => {
                if !misspelled(doc, "step", TOP_KEYS) {
                    self.error(
                        Span::default(),
                        "the suite has no steps",
                        Some("add a `[[step]]` table with a `command`".into()),
                    );
                }
                Vec::new()
            }
            Some((_, v)) => match v.get_ref() {
                DeValue::Array(items) => {
                    let ctx = SuiteContext {
                        vars: &vars,
                        devices: &devices,
                        requires: &requires,
                        versions,
                    };
                    self.steps(items, &ctx)
                }
                DeValue::Table(_) => {
                    self.error(
                        span(v),
                        "`step` must be an array of tables",
                        Some("write `[[step]]` (two brackets), not `[step]`".into()),
                    );
                    Vec::new()
                }
                _ => {
                    self.type_error("step", "an array of tables", v);
                    Vec::new()
                }
            },
        };

        Some(Suite {
            file: file.to_path_buf(),
            id: id.to_string(),
            source,
            name: name?,
            description,
            tags,
            references,
            versions: versions.unwrap_or(RUN_VERSIONS),
            versions_text,
            requires,
            vars,
            devices,
            steps,
        })
    }

    fn requires(&mut self, v: &Value<'_>) -> Vec<Requirement> {
        let mut out = Vec::new();
        for (text, at) in self.strings("requires", v).unwrap_or_default() {
            let req = match text.as_str() {
                "provisioning" => Some(Requirement::Provisioning),
                "test-hooks" => Some(Requirement::TestHooks),
                name => Command::from_name(name)
                    .map(Requirement::Command)
                    .or_else(|| Feature::from_name(name).map(Requirement::Feature)),
            };
            match req {
                Some(r) => {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
                None => {
                    let mut known: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
                    known.extend(["provisioning", "test-hooks"]);
                    known.extend(Feature::ALL.map(Feature::name));
                    let hint = match did_you_mean(&text, &known) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "requirements are MS-ASCMD command names, `provisioning`, `test-hooks`, `notes` or `oof`"
                            .to_string(),
                    };
                    self.error(at, format!("unknown requirement `{text}`"), Some(hint));
                }
            }
        }
        out
    }

    fn vars(&mut self, v: &Value<'_>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, key_span, t) in self.string_table("vars", v) {
            if !self.variable_name(&name, key_span) {
                continue;
            }
            out.push((name, t.text));
        }
        out
    }

    /// Checks a name that `{{name}}` must be able to reach (a `vars` key or
    /// a capture).
    fn variable_name(&mut self, name: &str, at: Span) -> bool {
        if !is_variable_name(name) {
            self.error(
                at,
                format!("`{name}` is not a valid variable name"),
                Some("use letters, digits, `_` and `-`, starting with a letter or `_`".into()),
            );
            return false;
        }
        if BUILTIN_VARIABLES.contains(&name) {
            self.error(
                at,
                format!("`{name}` is a built-in variable"),
                Some(format!(
                    "choose another name; the built-ins are {}",
                    BUILTIN_VARIABLES.join(", ")
                )),
            );
            return false;
        }
        true
    }

    fn devices(&mut self, v: &Value<'_>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, at) in self.strings("devices", v).unwrap_or_default() {
            if name == "main" {
                self.error(
                    at,
                    "`main` is the default device and always exists",
                    Some("list only the extra devices".into()),
                );
            } else if name.is_empty()
                || name.len() > 32
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                self.error(
                    at,
                    format!("`{name}` is not a valid device name"),
                    Some("use 1 to 32 letters, digits, `-` or `_`".into()),
                );
            } else if out.contains(&name) {
                self.error(at, format!("device `{name}` is listed twice"), None);
            } else {
                out.push(name);
            }
        }
        out
    }

    fn steps(&mut self, items: &[Value<'_>], ctx: &SuiteContext<'_>) -> Vec<Step> {
        // Every capture of the suite, for "captured by a later step" hints.
        let mut sites = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let DeValue::Table(t) = item.get_ref() {
                let step_name = match get(t, "name").map(|(_, v)| v.get_ref()) {
                    Some(DeValue::String(s)) => s.to_string(),
                    _ => format!("step-{}", i + 1),
                };
                if let Some((_, DeValue::Table(caps))) =
                    get(t, "capture").map(|(k, v)| (k, v.get_ref()))
                {
                    for (k, _) in entries(caps) {
                        sites.push(CaptureSite {
                            variable: k.get_ref().to_string(),
                            step: i,
                            step_name: step_name.clone(),
                            line: location_in(self.source, k.span().start).line,
                        });
                    }
                }
            }
        }

        let mut available: Vec<String> = BUILTIN_VARIABLES.iter().map(|s| s.to_string()).collect();
        available.extend(ctx.vars.iter().map(|(n, _)| n.clone()));
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut steps = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let DeValue::Table(t) = item.get_ref() else {
                self.error(
                    span(item),
                    format!("a step must be a table, got {}", kind(item.get_ref())),
                    Some("write each step as a `[[step]]` table".into()),
                );
                continue;
            };
            let step = self.step(i, span(item), t, ctx, &available, &sites, &mut names);
            // This step's captures are known from the next step on, even if
            // the step itself has errors (no knock-on "unknown variable").
            for c in sites.iter().filter(|c| c.step == i) {
                if !available.contains(&c.variable) {
                    available.push(c.variable.clone());
                }
            }
            steps.extend(step);
        }
        steps
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        index: usize,
        at: Span,
        t: &DeTable<'_>,
        ctx: &SuiteContext<'_>,
        available: &[String],
        sites: &[CaptureSite],
        names: &mut HashMap<String, usize>,
    ) -> Option<Step> {
        self.check_keys(t, STEP_KEYS, "in a step");
        let before = self.c.diagnostics.len();

        // name: unique, since it names the snapshot file.
        let (name, name_span) = match get(t, "name") {
            Some((_, v)) => match self.string("name", v) {
                Some(s) => (s.to_string(), span(v)),
                None => (format!("step-{}", index + 1), span(v)),
            },
            None => (format!("step-{}", index + 1), at),
        };
        if name.trim().is_empty()
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control)
            || name.starts_with('.')
        {
            self.error(
                name_span,
                format!("`{name}` cannot name a snapshot file"),
                Some("step names name snapshot files: no `/`, `\\`, control characters or leading `.`".into()),
            );
        } else if let Some(&first) = names.get(&name) {
            let line = location_in(self.source, first).line;
            let what = if get(t, "name").is_some() {
                format!("duplicate step name `{name}`")
            } else {
                format!("this step's default name `{name}` is already taken")
            };
            self.error(
                name_span,
                what,
                Some(format!(
                    "step names name the snapshot files and must differ; the other `{name}` is on line {line}"
                )),
            );
        } else {
            names.insert(name.clone(), name_span.start);
        }

        // command
        let mut hook_template = None;
        let action = match get(t, "command") {
            None => {
                if !misspelled(t, "command", STEP_KEYS) {
                    self.error(
                        at,
                        format!("step `{name}` has no `command`"),
                        Some("add e.g. `command = \"Sync\"`, `command = \"OPTIONS\"` or `command = \"hook:PATH\"`".into()),
                    );
                }
                None
            }
            Some((_, v)) => {
                let text = self.string("command", v);
                text.and_then(|text| self.action(text, span(v), ctx, &mut hook_template))
            }
        };

        let device = match get(t, "device") {
            Some((_, v)) => match self.string("device", v) {
                Some(d) if d == "main" || ctx.devices.iter().any(|x| x == d) => d.to_string(),
                Some(d) => {
                    let mut known: Vec<&str> = vec!["main"];
                    known.extend(ctx.devices.iter().map(String::as_str));
                    let hint = match did_you_mean(d, &known) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("declare it at the top: `devices = [\"{d}\"]`"),
                    };
                    self.error(span(v), format!("unknown device `{d}`"), Some(hint));
                    "main".to_string()
                }
                None => "main".to_string(),
            },
            None => "main".to_string(),
        };

        let mut templates: Vec<Template> = hook_template.into_iter().collect();
        let params: Vec<(String, Template)> = match get(t, "params") {
            Some((_, v)) => self
                .string_table("params", v)
                .into_iter()
                .filter_map(|(k, ks, tmpl)| {
                    if let Some(r) = RESERVED_PARAMS.iter().find(|r| r.eq_ignore_ascii_case(&k)) {
                        self.error(
                            ks,
                            format!("`{r}` is set by eastest"),
                            Some("params are the extra request-line parameters (`ItemId`, `CollectionId`, `SaveInSent`...)".into()),
                        );
                        return None;
                    }
                    Some((k, tmpl))
                })
                .collect(),
            None => Vec::new(),
        };
        let headers: Vec<(String, Template)> = match get(t, "headers") {
            Some((_, v)) => self
                .string_table("headers", v)
                .into_iter()
                .filter_map(|(k, ks, tmpl)| {
                    if k.eq_ignore_ascii_case("authorization") {
                        self.error(
                            ks,
                            "a suite never sets `Authorization`",
                            Some("eastest authenticates with the target's credentials; suites hold no secrets".into()),
                        );
                        return None;
                    }
                    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
                        self.error(ks, format!("`{k}` is not a valid HTTP header name"), None);
                        return None;
                    }
                    Some((k, tmpl))
                })
                .collect(),
            None => Vec::new(),
        };
        templates.extend(params.iter().map(|(_, t)| t.clone()));
        templates.extend(headers.iter().map(|(_, t)| t.clone()));

        let xml = get(t, "body").and_then(|(k, v)| {
            self.string("body", v).map(|s| {
                (
                    span(k),
                    Template {
                        text: s.to_string(),
                        span: span(v),
                    },
                )
            })
        });
        let mime = get(t, "mime").and_then(|(k, v)| {
            self.string("mime", v).map(|s| {
                (
                    span(k),
                    Template {
                        text: s.to_string(),
                        span: span(v),
                    },
                )
            })
        });
        let body = match (xml, mime) {
            (Some(_), Some((mime_key, _))) => {
                self.error(
                    mime_key,
                    "a step has `body` or `mime`, not both",
                    Some("`body` is XML encoded to WBXML; `mime` is sent as is".into()),
                );
                None
            }
            (Some((key, tmpl)), None) => Some((key, Body::Xml(tmpl))),
            (None, Some((key, tmpl))) => Some((key, Body::Raw(tmpl))),
            (None, None) => None,
        };
        if let (Some((key, _)), Some(Action::Options)) = (&body, &action) {
            self.error(*key, "an OPTIONS request has no body", None);
        }
        if let Some((_, Body::Xml(tmpl) | Body::Raw(tmpl))) = &body {
            templates.push(tmpl.clone());
        }

        let provision = get(t, "provision")
            .and_then(|(_, v)| self.boolean("provision", v))
            .unwrap_or(true);
        let background = get(t, "background")
            .and_then(|(_, v)| self.boolean("background", v))
            .unwrap_or(false);
        let empty_ok = get(t, "empty-ok")
            .and_then(|(_, v)| self.boolean("empty-ok", v))
            .unwrap_or(false);
        // On an accepted empty answer the captures keep their values, so
        // each must have one already.
        if empty_ok
            && let Some((_, DeValue::Table(caps))) =
                get(t, "capture").map(|(k, v)| (k, v.get_ref()))
        {
            for (k, _) in entries(caps) {
                let variable = k.get_ref().to_string();
                if !available.contains(&variable) {
                    self.error(
                        span(k),
                        format!(
                            "`{variable}` has no value before this `empty-ok` step, which keeps its captures' values on an empty answer"
                        ),
                        Some("capture into a variable an earlier step or `vars` already sets (the same SyncKey variable, say)".into()),
                    );
                }
            }
        }
        let auth = match get(t, "auth") {
            None => Auth::Account,
            Some((_, v)) => match self.string("auth", v) {
                Some("none") => Auth::None,
                Some("wrong") => Auth::Wrong,
                // The value is not echoed: it might be a credential.
                Some(_) => {
                    self.error(
                        span(v),
                        "`auth` is \"none\" or \"wrong\"",
                        Some(
                            "leave it out to send the account's credentials; \
                             suites never hold credentials"
                                .to_string(),
                        ),
                    );
                    Auth::Account
                }
                None => Auth::Account,
            },
        };
        let (http, http_span) = match get(t, "http") {
            Some((_, v)) => (
                self.integer("http", v, 100, 599).unwrap_or(200) as u16,
                span(v),
            ),
            None => (200, at),
        };
        let delay_ms = get(t, "delay-ms")
            .and_then(|(_, v)| self.integer("delay-ms", v, 0, MAX_DELAY_MS))
            .unwrap_or(0) as u64;

        let expect = match get(t, "expect") {
            Some((_, v)) => self.expectations(v, &mut templates),
            None => Vec::new(),
        };
        let captures = match get(t, "capture") {
            Some((_, v)) => self.captures(v),
            None => Vec::new(),
        };
        let snapshot = match get(t, "snapshot") {
            Some((_, v)) => self.snapshot(v),
            None => SnapshotOptions::default(),
        };
        let retry = get(t, "retry").and_then(|(_, v)| self.retry(v));

        // Every placeholder must be known at this point of the suite.
        for tmpl in &templates {
            self.check_placeholders(tmpl, index, available, sites);
        }

        // The body must encode for every version the suite runs in.
        if let (Some((key, Body::Xml(tmpl))), Some(versions)) = (&body, ctx.versions) {
            self.check_body(*key, tmpl, versions);
        }

        if self.c.diagnostics.len() > before {
            return None;
        }
        Some(Step {
            name,
            span: at,
            action: action?,
            device,
            params,
            headers,
            body: body.map(|(_, b)| b),
            provision,
            auth,
            http,
            http_span,
            expect,
            captures,
            snapshot,
            retry,
            background,
            delay_ms,
            empty_ok,
        })
    }

    fn action(
        &mut self,
        text: &str,
        at: Span,
        ctx: &SuiteContext<'_>,
        hook_template: &mut Option<Template>,
    ) -> Option<Action> {
        if text == "OPTIONS" {
            return Some(Action::Options);
        }
        if let Some(path) = text.strip_prefix("hook:") {
            if path.is_empty() || path.starts_with('/') {
                let inner = self.inner(at, text, 5, text.len());
                self.error(
                    inner,
                    "a hook step needs the hook's path after `hook:`",
                    Some("write e.g. `command = \"hook:deliver\"` (no leading `/`)".into()),
                );
                return None;
            }
            if !ctx.requires.contains(&Requirement::TestHooks) {
                self.error(
                    at,
                    "a `hook:` step needs `requires = [\"test-hooks\"]`",
                    Some("test hooks exist only on the eastest mock; the requirement makes other targets skip the suite".into()),
                );
            }
            // The hook path may hold placeholders: check them as a template
            // whose text starts 5 bytes into the command string.
            *hook_template = Some(Template {
                text: text.to_string(),
                span: at,
            });
            return Some(Action::Hook(path.to_string()));
        }
        if let Some(c) = Command::from_name(text) {
            return Some(Action::Command(c));
        }
        let mut known: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        known.push("OPTIONS");
        let hint = match did_you_mean(text, &known) {
            Some(s) if s.eq_ignore_ascii_case(text) => {
                format!("did you mean `{s}`? command names are case-sensitive")
            }
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "a step's command is an MS-ASCMD command ({}), `OPTIONS` or `hook:PATH`",
                known[..known.len() - 1].join(", ")
            ),
        };
        self.error(at, format!("unknown command `{text}`"), Some(hint));
        None
    }

    fn check_placeholders(
        &mut self,
        tmpl: &Template,
        index: usize,
        available: &[String],
        sites: &[CaptureSite],
    ) {
        for (name, s) in scan(&tmpl.text) {
            if available.contains(&name) {
                continue;
            }
            let at = self.inner(tmpl.span, &tmpl.text, s.start, s.end);
            let site = sites.iter().find(|c| c.variable == name);
            let hint = match site {
                Some(c) if c.step == index => format!(
                    "`{name}` is captured by this step; a capture is available from the next step on"
                ),
                Some(c) => format!(
                    "`{name}` is captured by step `{}` (line {}), which runs after this one",
                    c.step_name, c.line
                ),
                None => {
                    let known: Vec<&str> = available.iter().map(String::as_str).collect();
                    match did_you_mean(&name, &known) {
                        Some(s) => format!("did you mean `{{{{{s}}}}}`?"),
                        None => format!(
                            "define it in `[vars]` or capture it in an earlier step; known here: {}",
                            known.join(", ")
                        ),
                    }
                }
            };
            self.error(at, format!("unknown variable `{{{{{name}}}}}`"), Some(hint));
        }
    }

    fn check_body(&mut self, key: Span, tmpl: &Template, versions: VersionSet) {
        // Placeholders become `AAAA`: a value that fits any text element and
        // is valid base64 too (`opaque="base64"` content: a captured opaque
        // value is its base64 text). Keep where each one went to map the
        // encoder's offset back.
        const STAND_IN: &str = "AAAA";
        let mut xml = String::with_capacity(tmpl.text.len());
        let mut moves: Vec<(usize, Span)> = Vec::new(); // (offset in xml, span in text)
        let mut last = 0;
        for (_, s) in scan(&tmpl.text) {
            xml.push_str(&tmpl.text[last..s.start]);
            moves.push((xml.len(), s));
            xml.push_str(STAND_IN);
            last = s.end;
        }
        xml.push_str(&tmpl.text[last..]);
        let to_text = |x: usize| -> usize {
            let mut shift = 0isize;
            for (at, s) in &moves {
                if x < *at {
                    break;
                }
                if x < *at + STAND_IN.len() {
                    return s.start;
                }
                shift += (s.end - s.start) as isize - STAND_IN.len() as isize;
            }
            (x as isize + shift) as usize
        };

        let mut first_failure = None;
        let mut ok = VersionSet::EMPTY;
        for v in versions.iter() {
            match encode(&xml, &EncodeOptions::strict(v)) {
                Ok(_) => ok = ok.union(VersionSet::range(v, v)),
                Err(e) => {
                    if first_failure.is_none() {
                        first_failure = Some((v, e));
                    }
                }
            }
        }
        let Some((v, e)) = first_failure else {
            return;
        };
        let offset = to_text(e.offset).min(tmpl.text.len());
        let (message, hint) = match &e.kind {
            EncodeErrorKind::NotInVersion {
                namespace,
                name,
                versions: defined,
                ..
            } => (
                format!(
                    "the body uses {namespace}:{name}, which protocol {v} does not define (it exists in {defined})"
                ),
                Some(if ok.is_empty() {
                    format!("no version this suite applies to ({versions}) can encode the body")
                } else {
                    format!(
                        "the suite applies to {versions} but the body encodes for {ok} only: restrict it with `versions = \"{}\"`",
                        versions_text(ok)
                    )
                }),
            ),
            // The encoder appends its suggestions (`; did you mean ...`) to
            // the message: move them into the hint.
            EncodeErrorKind::UnknownTag {
                namespace,
                name,
                hint,
            } => (
                format!("invalid body: code page {namespace} has no element `{name}`"),
                split_hint(hint),
            ),
            EncodeErrorKind::UnknownNamespace { uri, hint } => (
                format!("invalid body: namespace `{uri}` is not an EAS code page"),
                split_hint(hint).or_else(|| {
                    Some(
                        "code pages are namespaces named like the page: `xmlns=\"AirSync:\"`"
                            .into(),
                    )
                }),
            ),
            other => (format!("invalid body: {other}"), None),
        };
        // Underline the markup the encoder stopped at (up to its `>`).
        let end = tmpl.text[offset..]
            .find(['>', '\n'])
            .map_or(tmpl.text.len(), |i| {
                offset + i + usize::from(tmpl.text[offset + i..].starts_with('>'))
            })
            .max(offset + 1)
            .min(tmpl.text.len());
        match string_offset(self.source, tmpl.span, &tmpl.text, offset) {
            Some(start) => {
                let end =
                    string_offset(self.source, tmpl.span, &tmpl.text, end).unwrap_or(start + 1);
                self.error(Span { start, end }, message, hint);
            }
            None => {
                let loc = location_in(&tmpl.text, offset);
                self.error(
                    key,
                    format!(
                        "{message} (line {}, column {} of the body)",
                        loc.line, loc.column
                    ),
                    hint,
                );
            }
        }
    }

    /// The expectations; the texts they compare against go to `texts`, for
    /// the placeholder check (the runner interpolates them).
    fn expectations(&mut self, v: &Value<'_>, texts: &mut Vec<Template>) -> Vec<Expectation> {
        if let DeValue::Table(_) = v.get_ref() {
            self.error(
                span(v),
                "`expect` must be an array of tables",
                Some("write `expect = [{ path = \"...\", exists = true }]`".into()),
            );
            return Vec::new();
        }
        let Some(items) = self.array("expect", v) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let DeValue::Table(t) = item.get_ref() else {
                self.error(
                    span(item),
                    format!(
                        "an expectation must be a table, got {}",
                        kind(item.get_ref())
                    ),
                    Some("write `{ path = \"...\", exists = true }`".into()),
                );
                continue;
            };
            if let Some(e) = self.expectation(span(item), t, texts) {
                out.push(e);
            }
        }
        out
    }

    fn expectation(
        &mut self,
        at: Span,
        t: &DeTable<'_>,
        texts: &mut Vec<Template>,
    ) -> Option<Expectation> {
        let mut known: Vec<&str> = vec!["path"];
        known.extend(PREDICATES);
        if let Some((k, _)) = get(t, "http") {
            self.error(
                span(k),
                "`http` is not an expectation",
                Some("the expected HTTP status is the step's `http` key".into()),
            );
            return None;
        }
        self.check_keys(t, &known, "in an expectation");
        let path = match get(t, "path") {
            Some((_, v)) => self.path(v, "path"),
            None => {
                if !misspelled(t, "path", &known) {
                    self.error(
                        at,
                        "an expectation needs a `path`",
                        Some("add e.g. `path = \"//AirSync:Status\"`".into()),
                    );
                }
                None
            }
        };
        let preds: Vec<_> = entries(t)
            .into_iter()
            .filter(|(k, _)| PREDICATES.contains(&k.get_ref().as_ref()))
            .collect();
        let (key, v) = match preds.as_slice() {
            // An unknown key (reported above) is most likely the predicate.
            [] if entries(t)
                .iter()
                .any(|(k, _)| !known.contains(&k.get_ref().as_ref())) =>
            {
                return None;
            }
            [] => {
                self.error(
                    at,
                    "an expectation needs a predicate",
                    Some(format!("add one of {}", PREDICATES.join(", "))),
                );
                return None;
            }
            [one] => *one,
            [first, second, ..] => {
                self.error(
                    span(second.0),
                    format!(
                        "an expectation has one predicate; this one has `{}` and `{}`",
                        first.0.get_ref(),
                        second.0.get_ref()
                    ),
                    Some("split it into two expectations".into()),
                );
                return None;
            }
        };
        let name = key.get_ref().as_ref();
        let predicate = match name {
            "exists" => Predicate::Exists(self.boolean(name, v)?),
            "equals" => {
                let text = self.string(name, v)?.to_string();
                texts.push(Template {
                    text: text.clone(),
                    span: span(v),
                });
                Predicate::Equals(text)
            }
            "matches" => {
                let text = self.string(name, v)?;
                match regex::Regex::new(text) {
                    Ok(r) => Predicate::Matches(r),
                    Err(e) => {
                        let (message, offset) = regex_error(&e, text);
                        let at = match offset {
                            Some(o) => self.inner(span(v), text, o, o + 1),
                            None => span(v),
                        };
                        self.error(
                            at,
                            format!("invalid regex: {message}"),
                            Some("the syntax is Rust's `regex` crate's".into()),
                        );
                        return None;
                    }
                }
            }
            "count" => Predicate::Count(self.integer(name, v, 0, i64::from(u32::MAX))? as usize),
            "status" => Predicate::Status(self.integer(name, v, 0, i64::from(u32::MAX))? as u32),
            _ => {
                let items = self.strings(name, v)?;
                texts.extend(items.iter().map(|(text, at)| Template {
                    text: text.clone(),
                    span: *at,
                }));
                let list: Vec<String> = items.into_iter().map(|(s, _)| s).collect();
                if list.is_empty() && name != "only" {
                    self.error(
                        span(v),
                        format!("`{name} = []` always holds"),
                        Some("list the texts to look for, or remove the expectation".into()),
                    );
                    return None;
                }
                match name {
                    "contains" => Predicate::Contains(list),
                    "excludes" => Predicate::Excludes(list),
                    _ => Predicate::Only(list),
                }
            }
        };
        Some(Expectation {
            path: path?,
            predicate,
            span: at,
        })
    }

    fn captures(&mut self, v: &Value<'_>) -> Vec<Capture> {
        let Some(t) = self.table("capture", v) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, val) in entries(t) {
            let name = k.get_ref().to_string();
            let ok = self.variable_name(&name, span(k));
            let path = self.path(val, &format!("capture.{name}"));
            if let (true, Some(path)) = (ok, path) {
                out.push(Capture {
                    variable: name,
                    path,
                    span: Span {
                        start: k.span().start,
                        end: val.span().end,
                    },
                });
            }
        }
        out
    }

    fn snapshot(&mut self, v: &Value<'_>) -> SnapshotOptions {
        match v.get_ref() {
            DeValue::Boolean(b) => SnapshotOptions {
                disabled: !b,
                redact: Vec::new(),
            },
            DeValue::Table(t) => {
                self.check_keys(t, SNAPSHOT_KEYS, "in `snapshot`");
                let mut redact = Vec::new();
                if let Some((_, r)) = get(t, "redact")
                    && let Some(items) = self.array("snapshot.redact", r)
                {
                    for item in items {
                        if let Some(p) = self.path(item, "snapshot.redact") {
                            redact.push(p);
                        }
                    }
                }
                SnapshotOptions {
                    disabled: false,
                    redact,
                }
            }
            _ => {
                self.type_error("snapshot", "a boolean or a table", v);
                SnapshotOptions::default()
            }
        }
    }

    fn retry(&mut self, v: &Value<'_>) -> Option<Retry> {
        let t = self.table("retry", v)?;
        self.check_keys(t, RETRY_KEYS, "in `retry`");
        let times = match get(t, "times") {
            Some((_, v)) => self.integer("retry.times", v, 1, MAX_RETRY_TIMES),
            None => {
                if !misspelled(t, "times", RETRY_KEYS) {
                    self.error(
                        span(v),
                        "`retry` needs `times`",
                        Some("write e.g. `retry = { times = 5, interval-ms = 500 }`".into()),
                    );
                }
                None
            }
        };
        let interval_ms = match get(t, "interval-ms") {
            Some((_, v)) => self.integer("retry.interval-ms", v, 0, MAX_RETRY_INTERVAL_MS)? as u64,
            None => DEFAULT_RETRY_INTERVAL_MS,
        };
        Some(Retry {
            times: times? as u32,
            interval_ms,
        })
    }
}

/// The encoder's `; a; b` suggestions as one hint `a; b`.
fn split_hint(hint: &str) -> Option<String> {
    let h = hint.trim().trim_start_matches(';').trim();
    (!h.is_empty()).then(|| h.to_string())
}

struct SuiteContext<'a> {
    vars: &'a [(String, String)],
    devices: &'a [String],
    requires: &'a [Requirement],
    versions: Option<VersionSet>,
}

/// The one-line reason and the pattern offset of a regex error. The
/// `regex` crate renders syntax errors over several lines: the pattern, a
/// line of `^` under the problem (indented by 4) and `error: reason`.
fn regex_error(e: &regex::Error, pattern: &str) -> (String, Option<usize>) {
    let text = e.to_string();
    let reason = text
        .lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or_else(|| text.lines().last().unwrap_or(""))
        .to_string();
    let offset = if pattern.contains('\n') {
        None
    } else {
        text.lines()
            .find(|l| l.trim_start().starts_with('^'))
            .and_then(|l| l.find('^'))
            .and_then(|col| col.checked_sub(4))
            .and_then(|chars| pattern.char_indices().nth(chars).map(|(i, _)| i))
    };
    (reason, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_is_none_or_wrong() {
        let suite = |auth: &str| {
            parse(
                &format!("name = \"a\"\n[[step]]\ncommand = \"OPTIONS\"\nauth = \"{auth}\"\n"),
                FsPath::new("a.toml"),
                "a",
            )
        };
        assert_eq!(suite("none").unwrap().steps[0].auth, Auth::None);
        assert_eq!(suite("wrong").unwrap().steps[0].auth, Auth::Wrong);
        let e = suite("alice:secret").unwrap_err();
        assert_eq!(e.location().line, 4);
        assert!(
            e.message().contains("`auth` is \"none\" or \"wrong\""),
            "{e}"
        );
        assert!(
            !e.to_string().contains("secret"),
            "the value is not echoed: {e}"
        );
    }

    #[test]
    #[allow(clippy::invalid_regex)] // invalid on purpose
    fn regex_errors_are_one_line_with_an_offset() {
        let e = regex::Regex::new("a(b").unwrap_err();
        assert_eq!(
            regex_error(&e, "a(b"),
            ("unclosed group".to_string(), Some(1))
        );
        let e = regex::Regex::new("ab)").unwrap_err();
        assert_eq!(
            regex_error(&e, "ab)"),
            ("unopened group".to_string(), Some(2))
        );
    }

    #[test]
    fn string_offsets_map_only_verbatim_text() {
        let src = "a = 'x{y'\nb = \"\\tq\"\nc = '''\nline\n'''\n";
        assert_eq!(
            string_offset(src, Span { start: 4, end: 9 }, "x{y", 1),
            Some(6)
        );
        // An escape before the offset: no exact position.
        assert_eq!(
            string_offset(src, Span { start: 14, end: 19 }, "\tq", 1),
            None
        );
        // Multi-line literal: the newline after ''' is not part of the text.
        assert_eq!(
            string_offset(src, Span { start: 24, end: 36 }, "line\n", 2),
            Some(30)
        );
    }
}
