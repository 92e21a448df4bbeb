//! TOML text -> validated [`Script`].
//!
//! Like the suite loader, the file is parsed into `toml`'s spanned document
//! tree and walked by hand, so that one pass reports every problem with its
//! `file:line:column`, the excerpt, and a did-you-mean for unknown keys and
//! names at every level ([`crate::diagnostic`]).

use std::path::Path;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::toml_walk::{kind_of as kind, span_of as span, unknown_keys};
use crate::diagnostic::{Collector, FileError, Span, did_you_mean};
use crate::protocol::Command;
use crate::wbxml::{ProtocolVersion, VersionSet};

use super::super::state::Wipe;
use super::model::{Action, Expect, FolderRef, Script, Step, Trigger};

type Value<'i> = Spanned<DeValue<'i>>;

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "references",
    "versions",
    "devices",
    "step",
];
const ACTION_KEYS: &[&str] = &[
    "sync-status",
    "folder-sync-status",
    "http",
    "require-provisioning",
    "hierarchy-change",
    "add-items",
    "remote-wipe",
    "redirect",
];
/// A step's keys besides its action ([`ACTION_KEYS`]).
const STEP_KEYS: &[&str] = &[
    "name",
    "when",
    "once",
    "times",
    "expect",
    "delay-ms",
    "retry-after",
];
const WHEN_KEYS: &[&str] = &[
    "command",
    "nth",
    "during",
    "requests",
    "after-step",
    "first",
];
const ADD_ITEMS_KEYS: &[&str] = &["folder", "folder-type", "count"];

/// Sync statuses a step may answer (MS-ASCMD 2.2.3.177.17; 1 is success).
const SYNC_STATUSES: &[u8] = &[3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16];
/// FolderSync statuses a step may answer (MS-ASCMD 2.2.3.177, FolderSync).
const FOLDER_SYNC_STATUSES: &[u8] = &[6, 9, 10, 11, 12];
/// The wait before a `during` change when the step names none.
pub const DEFAULT_DELAY_MS: u64 = 500;
/// The most items one `add-items` may add.
const MAX_ITEMS: i64 = 10_000;

/// Parses and validates a scenario's TOML text.
pub fn parse(source: &str, file: &Path) -> Result<Script, FileError> {
    let shared: Arc<str> = Arc::from(source);
    let mut v = Validator {
        c: Collector::new(source),
    };
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().map_or(Span::default(), Span::from);
            let message = e.message().replace('\n', " ");
            v.c.error(span, format!("TOML syntax: {message}"), None);
            return Err(FileError::new(file, shared, v.c.diagnostics));
        }
    };
    let script = v.script(doc.get_ref(), file, doc.span().into());
    match script {
        Some(script) if v.c.diagnostics.is_empty() => Ok(script),
        _ => Err(FileError::new(file, shared, v.c.diagnostics)),
    }
}

/// Reads and parses a scenario file.
pub fn load(file: &Path) -> Result<Script, FileError> {
    let source = std::fs::read_to_string(file)
        .map_err(|e| FileError::unreadable(file, "scenario file", &e))?;
    parse(&source, file)
}

fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Value<'i>> {
    t.iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

struct Validator<'s> {
    c: Collector<'s>,
}

impl Validator<'_> {
    fn error(&mut self, at: Span, message: impl Into<String>, hint: Option<String>) {
        self.c.error(at, message, hint);
    }

    fn check_keys(&mut self, t: &DeTable<'_>, known: &[&str], place: &str) {
        unknown_keys(&mut self.c, t, known, place);
    }

    fn type_error(&mut self, key: &str, expected: &str, v: &Value<'_>) {
        let hint = match (expected, v.get_ref()) {
            ("an integer", DeValue::String(s)) if s.trim().parse::<i64>().is_ok() => {
                Some(format!("remove the quotes: `{key} = {}`", s.trim()))
            }
            ("a boolean", DeValue::String(s)) if matches!(s.trim(), "true" | "false") => {
                Some(format!("remove the quotes: `{key} = {}`", s.trim()))
            }
            _ => None,
        };
        self.error(
            span(v),
            format!("`{key}` must be {expected}, got {}", kind(v.get_ref())),
            hint,
        );
    }

    fn text(&mut self, t: &DeTable<'_>, key: &str) -> Option<(String, Span)> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::String(s) if !s.trim().is_empty() => Some((s.trim().to_string(), span(v))),
            DeValue::String(_) => {
                self.error(span(v), format!("`{key}` is empty"), None);
                None
            }
            _ => {
                self.type_error(key, "a string", v);
                None
            }
        }
    }

    fn required_text(&mut self, t: &DeTable<'_>, key: &str, at: Span, place: &str) -> String {
        if get(t, key).is_none() {
            self.error(at, format!("{place} has no `{key}`"), None);
            return String::new();
        }
        self.text(t, key).map(|(s, _)| s).unwrap_or_default()
    }

    /// An integer in `range` (inclusive).
    fn int(&mut self, t: &DeTable<'_>, key: &str, lo: i64, hi: i64) -> Option<(i64, Span)> {
        let v = get(t, key)?;
        let DeValue::Integer(i) = v.get_ref() else {
            self.type_error(key, "an integer", v);
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if (lo..=hi).contains(&n) => Some((n, span(v))),
            _ => {
                self.error(
                    span(v),
                    format!("`{key}` must be between {lo} and {hi}"),
                    None,
                );
                None
            }
        }
    }

    fn boolean(&mut self, t: &DeTable<'_>, key: &str) -> Option<(bool, Span)> {
        let v = get(t, key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some((*b, span(v))),
            _ => {
                self.type_error(key, "a boolean", v);
                None
            }
        }
    }

    fn strings(&mut self, t: &DeTable<'_>, key: &str) -> Vec<String> {
        let Some(v) = get(t, key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.type_error(key, "an array of strings", v);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                _ => self.error(
                    span(item),
                    format!("each of `{key}` must be a non-empty string"),
                    None,
                ),
            }
        }
        out
    }

    fn script(&mut self, doc: &DeTable<'_>, file: &Path, whole: Span) -> Option<Script> {
        self.check_keys(doc, TOP_KEYS, "at the top level");
        let name = self.required_text(doc, "name", whole, "the scenario");
        let description = self.required_text(doc, "description", whole, "the scenario");
        let references = self.strings(doc, "references");
        if get(doc, "references").is_none() {
            self.error(
                whole,
                "the scenario has no `references`",
                Some("name the spec sections the scenario exercises".into()),
            );
        }
        let versions = get(doc, "versions").and_then(|v| self.versions(v));
        let devices = self.strings(doc, "devices");
        let mut steps = Vec::new();
        // Every step's name, also of steps with errors, for `after-step`.
        let mut names = Vec::new();
        if let Some(DeValue::Array(items)) = get(doc, "step").map(|v| v.get_ref()) {
            for item in items.iter() {
                if let DeValue::Table(t) = item.get_ref()
                    && let Some(DeValue::String(name)) = get(t, "name").map(|v| v.get_ref())
                {
                    names.push(name.trim().to_string());
                }
            }
        }
        match get(doc, "step").map(|v| (v, v.get_ref())) {
            None => self.error(whole, "the scenario has no `[[step]]`", None),
            Some((_, DeValue::Array(items))) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(t) => {
                            if let Some(step) = self.step(t, span(item)) {
                                steps.push(step);
                            }
                        }
                        _ => self.type_error("step", "a table (`[[step]]`)", item),
                    }
                }
            }
            Some((v, _)) => self.type_error("step", "an array of tables (`[[step]]`)", v),
        }
        self.cross_check(&steps, &names);
        Some(Script {
            file: file.to_path_buf(),
            name,
            description,
            references,
            versions,
            devices,
            steps,
        })
    }

    /// `"14.0, 14.1"` or `"14.0+"` (that version and later).
    fn versions(&mut self, v: &Value<'_>) -> Option<VersionSet> {
        let DeValue::String(text) = v.get_ref() else {
            self.type_error("versions", "a string", v);
            return None;
        };
        let mut set = VersionSet::EMPTY;
        for part in text.split(',').map(str::trim) {
            let (name, since) = match part.strip_suffix('+') {
                Some(name) => (name.trim(), true),
                None => (part, false),
            };
            match name.parse::<ProtocolVersion>() {
                Ok(version) if since => set = set.union(VersionSet::since(version)),
                Ok(version) => set = set.union(VersionSet::range(version, version)),
                Err(_) => {
                    let names: Vec<&str> =
                        ProtocolVersion::ALL.iter().map(|v| v.as_str()).collect();
                    self.error(
                        span(v),
                        format!("`versions`: unknown protocol version `{name}`"),
                        Some(format!(
                            "versions are {}; `14.0+` means 14.0 and later",
                            names.join(", ")
                        )),
                    );
                    return None;
                }
            }
        }
        Some(set)
    }

    fn step(&mut self, t: &DeTable<'_>, at: Span) -> Option<Step> {
        let known: Vec<&str> = STEP_KEYS.iter().chain(ACTION_KEYS).copied().collect();
        self.check_keys(t, &known, "in a step");
        let name = self.required_text(t, "name", at, "a step");
        let when = match get(t, "when") {
            None => {
                self.error(
                    at,
                    format!("step `{name}` has no `when`"),
                    Some("e.g. `when = { command = \"Sync\", nth = 3 }`".into()),
                );
                None
            }
            Some(v) => match v.get_ref() {
                DeValue::Table(w) => self.trigger(w, span(v)),
                _ => {
                    self.type_error("when", "a table", v);
                    None
                }
            },
        };
        let present: Vec<&str> = ACTION_KEYS
            .iter()
            .copied()
            .filter(|k| get(t, k).is_some())
            .collect();
        let action = match present.as_slice() {
            [] => {
                self.error(
                    at,
                    format!("step `{name}` has no action"),
                    Some(format!("give one of {}", ACTION_KEYS.join(", "))),
                );
                None
            }
            [key] => self.action(t, key),
            [_, second, ..] => {
                let at = get(t, second).map_or(at, span);
                self.error(
                    at,
                    format!(
                        "step `{name}` has more than one action ({})",
                        present.join(", ")
                    ),
                    Some("split it into one step per action".into()),
                );
                None
            }
        };
        if get(t, "retry-after").is_some() && !matches!(action, Some(Action::Http { .. })) {
            let at = get(t, "retry-after").map_or(at, span);
            self.error(at, "`retry-after` goes with `http`", None);
        }
        let once = self.boolean(t, "once");
        let times = self.int(t, "times", 1, 1_000_000);
        let times = match (once, times) {
            (Some((true, _)), Some((n, at))) if n != 1 => {
                self.error(at, "`once = true` and `times` disagree", None);
                1
            }
            (Some((false, at)), None) => {
                self.error(
                    at,
                    "`once = false` does not say how often",
                    Some("use `times = N`".into()),
                );
                1
            }
            (_, Some((n, _))) => u32::try_from(n).unwrap_or(1),
            _ => 1,
        };
        let delay = self.int(t, "delay-ms", 0, 3_600_000);
        if let (Some((_, at)), Some(w)) = (delay, &when)
            && !matches!(w, Trigger::During { .. })
        {
            self.error(at, "`delay-ms` goes with a `during = true` trigger", None);
        }
        let natural = action.as_ref().and_then(Action::natural_expect);
        let expect = match self.text(t, "expect") {
            None => natural,
            Some((text, at)) if text == "none" => {
                let _ = at;
                None
            }
            Some((text, at)) => match Expect::from_name(&text) {
                None => {
                    let mut names: Vec<&str> = Expect::ALL.iter().map(|e| e.name()).collect();
                    names.push("none");
                    let hint = match did_you_mean(&text, &names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("reactions: {}", names.join(", ")),
                    };
                    self.error(at, format!("unknown reaction `{text}`"), Some(hint));
                    None
                }
                Some(e) if Some(e) == natural || action.is_none() => Some(e),
                Some(e) => {
                    let action = action.as_ref().map(Action::key).unwrap_or("?");
                    let hint = match natural {
                        Some(n) => format!("this action is followed by `{}`", n.name()),
                        None => "this action leads to no reaction the engine judges: \
                                 `expect = \"none\"` or leave `expect` out"
                            .to_string(),
                    };
                    self.error(
                        at,
                        format!("`{}` does not follow from `{action}`", e.name()),
                        Some(hint),
                    );
                    None
                }
            },
        };
        let (when, action) = (when?, action?);
        if let (Some(needs), Trigger::Nth { command, .. }) = (action.command(), &when)
            && needs != *command
        {
            self.error(
                get(t, "when").map_or(at, span),
                format!(
                    "`{}` answers a {needs} request, but the step fires on {command}",
                    action.key()
                ),
                Some(format!("use `command = \"{needs}\"`")),
            );
        }
        if matches!(when, Trigger::During { .. }) && action.answers() {
            self.error(
                get(t, "when").map_or(at, span),
                format!(
                    "`during` makes a server-side change while a request waits; `{}` answers a \
                     request instead",
                    action.key()
                ),
                Some("use `during` with hierarchy-change, add-items or remote-wipe".into()),
            );
        }
        Some(Step {
            name,
            span: at,
            when_span: get(t, "when").map_or(at, span),
            when,
            action,
            times,
            expect,
            delay_ms: delay.map_or(DEFAULT_DELAY_MS, |(d, _)| d.unsigned_abs()),
        })
    }

    fn trigger(&mut self, w: &DeTable<'_>, at: Span) -> Option<Trigger> {
        self.check_keys(w, WHEN_KEYS, "in `when`");
        let kinds: Vec<&str> = ["command", "requests", "after-step", "first"]
            .into_iter()
            .filter(|k| get(w, k).is_some())
            .collect();
        if kinds.len() > 1 {
            self.error(
                at,
                format!("`when` has more than one trigger ({})", kinds.join(", ")),
                Some("one of command (with nth or during), requests, after-step, first".into()),
            );
            return None;
        }
        for key in ["nth", "during"] {
            if let Some(v) = get(w, key)
                && kinds.first() != Some(&"command")
            {
                self.error(span(v), format!("`{key}` goes with `command`"), None);
            }
        }
        match kinds.first().copied() {
            None => {
                self.error(
                    at,
                    "`when` names no trigger",
                    Some("one of command (with nth or during), requests, after-step, first".into()),
                );
                None
            }
            Some("command") => {
                let (name, name_at) = self.text(w, "command")?;
                let command = match Command::from_name(&name) {
                    Some(c) => Some(c),
                    None => {
                        let names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
                        let hint = did_you_mean(&name, &names)
                            .map(|s| format!("did you mean `{s}`?"))
                            .or_else(|| Some(format!("commands: {}", names.join(", "))));
                        self.error(name_at, format!("unknown command `{name}`"), hint);
                        None
                    }
                };
                let nth = self
                    .int(w, "nth", 1, 1_000_000)
                    .map_or(1, |(n, _)| n as u32);
                let during = self.boolean(w, "during");
                let command = command?;
                if let Some((true, d_at)) = during {
                    if !matches!(command, Command::Ping | Command::Sync) {
                        self.error(
                            d_at,
                            format!("only Ping and Sync wait; {command} does not"),
                            None,
                        );
                    }
                    return Some(Trigger::During { command, nth });
                }
                Some(Trigger::Nth { command, nth })
            }
            Some("requests") => {
                let (n, _) = self.int(w, "requests", 0, 1_000_000)?;
                Some(Trigger::Requests(n as u32))
            }
            Some("after-step") => Some(Trigger::AfterStep(self.text(w, "after-step")?.0)),
            Some(_) => match self.boolean(w, "first")? {
                (true, _) => Some(Trigger::First),
                (false, f_at) => {
                    self.error(f_at, "`first = false` is no trigger", None);
                    None
                }
            },
        }
    }

    fn action(&mut self, t: &DeTable<'_>, key: &str) -> Option<Action> {
        let v = get(t, key)?;
        match key {
            "sync-status" | "folder-sync-status" => {
                let allowed = if key == "sync-status" {
                    SYNC_STATUSES
                } else {
                    FOLDER_SYNC_STATUSES
                };
                let (n, at) = self.int(t, key, 0, 255)?;
                let status = n as u8;
                if !allowed.contains(&status) {
                    let list: Vec<String> = allowed.iter().map(u8::to_string).collect();
                    self.error(
                        at,
                        format!("`{key} = {n}` is not a failure status of that command"),
                        Some(format!("one of {}", list.join(", "))),
                    );
                    return None;
                }
                Some(if key == "sync-status" {
                    Action::SyncStatus(status)
                } else {
                    Action::FolderSyncStatus(status)
                })
            }
            "http" => {
                let (n, at) = self.int(t, key, 100, 999)?;
                let hint = match n {
                    449 => Some("use `require-provisioning = true`".to_string()),
                    451 => Some("use `redirect = \"URL\"`".to_string()),
                    _ => None,
                };
                if hint.is_some() || !(400..=599).contains(&n) {
                    self.error(
                        at,
                        format!("`http = {n}` is not an error this action sends"),
                        hint,
                    );
                    return None;
                }
                let retry_after = self.int(t, "retry-after", 0, 86_400).map(|(s, _)| s as u32);
                Some(Action::Http {
                    status: n as u16,
                    retry_after,
                })
            }
            "require-provisioning" | "hierarchy-change" => match self.boolean(t, key)? {
                (true, _) if key == "hierarchy-change" => Some(Action::HierarchyChange),
                (true, _) => Some(Action::RequireProvisioning),
                (false, at) => {
                    self.error(at, format!("`{key} = false` does nothing"), None);
                    None
                }
            },
            "remote-wipe" => match v.get_ref() {
                DeValue::Boolean(true) => Some(Action::RemoteWipe(Wipe::Device)),
                DeValue::String(s) if s.trim() == "account-only" => {
                    Some(Action::RemoteWipe(Wipe::AccountOnly))
                }
                _ => {
                    self.error(
                        span(v),
                        "`remote-wipe` must be `true` or `\"account-only\"`",
                        None,
                    );
                    None
                }
            },
            "redirect" => {
                let (url, at) = self.text(t, key)?;
                let ok = url.starts_with('/')
                    || url.starts_with("http://")
                    || url.starts_with("https://");
                if !ok {
                    self.error(
                        at,
                        "`redirect` must be an http(s) URL or a path starting with `/`",
                        None,
                    );
                    return None;
                }
                Some(Action::Redirect(url))
            }
            _ => {
                let DeValue::Table(a) = v.get_ref() else {
                    self.type_error(key, "a table", v);
                    return None;
                };
                self.check_keys(a, ADD_ITEMS_KEYS, "in `add-items`");
                let folder = match (self.text(a, "folder"), self.int(a, "folder-type", 1, 19)) {
                    (Some((id, _)), None) => Some(FolderRef::Id(id)),
                    (None, Some((n, _))) => Some(FolderRef::Type(n as u8)),
                    (Some(_), Some((_, at))) => {
                        self.error(
                            at,
                            "`add-items` takes `folder` or `folder-type`, not both",
                            None,
                        );
                        None
                    }
                    (None, None) => {
                        if get(a, "folder").is_none() && get(a, "folder-type").is_none() {
                            self.error(
                                span(v),
                                "`add-items` names no folder",
                                Some("`folder = \"1\"` or `folder-type = 2` (the Inbox)".into()),
                            );
                        }
                        None
                    }
                };
                let count = match self.int(a, "count", 1, MAX_ITEMS) {
                    Some((n, _)) => Some(n as u32),
                    None => {
                        if get(a, "count").is_none() {
                            self.error(span(v), "`add-items` has no `count`", None);
                        }
                        None
                    }
                };
                Some(Action::AddItems {
                    folder: folder?,
                    count: count?,
                })
            }
        }
    }

    /// Names unique, `after-step` naming another step.
    fn cross_check(&mut self, steps: &[Step], all: &[String]) {
        let names: Vec<&str> = all.iter().map(String::as_str).collect();
        for (i, step) in steps.iter().enumerate() {
            if steps[..i].iter().any(|s| s.name == step.name) {
                self.error(
                    step.span,
                    format!("two steps are named `{}`", step.name),
                    Some("`after-step` needs unique names".into()),
                );
            }
            if let Trigger::AfterStep(target) = &step.when {
                if target == &step.name {
                    self.error(
                        step.when_span,
                        format!("step `{target}` comes after itself"),
                        None,
                    );
                } else if !names.contains(&target.as_str()) {
                    let hint = did_you_mean(target, &names)
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| Some(format!("steps: {}", names.join(", "))));
                    self.error(step.when_span, format!("no step is named `{target}`"), hint);
                }
            }
        }
    }
}
