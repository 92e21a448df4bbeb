//! Target profiles: what a kind of server is known to offer and where it is
//! known to break the spec (`snapshots/<profile>/target.toml`).
//!
//! A suite states what it needs (`versions`, `requires`); a target profile
//! states what a server product offers, so that suites that do not apply
//! are **skipped with the reason** instead of failing, and records the
//! server's **known deviations** from the spec: suites that fail against it
//! because the server is wrong. Such a suite keeps its expectations (they
//! are the spec's), fails, and is reported as an expected failure with the
//! recorded reason. If it fails at another step than the one recorded, it
//! is a new failure; if it passes, the deviation is reported as fixed and
//! the run fails until the entry is removed. So neither a server fix nor a
//! new regression hides behind the record.
//!
//! ```toml
//! name = "SOGo 5.8 (Debian 12, sogo-activesync)"
//! versions = "12.1, 14.0, 14.1"   # what it offers: other versions skip every suite
//! provisioning = false            # it never enforces Provision
//! request-timeout = 30            # seconds a request may take (default 120)
//! without = ["notes"]             # features it lacks: suites requiring them are skipped
//!
//! [[skip]]                        # not run here, with the reason
//! suite = "sync/windowing"
//! reason = "its folder cannot be deleted afterwards"
//!
//! [[deviation]]
//! suite = "sync/empty-response"
//! step = "nothing to report"      # optional: the step that fails
//! versions = "14.1"               # optional, default every version
//! reason = "answers an empty body where the spec requires Status 1"
//! reference = "MS-ASCMD 2.2.3.166.4"
//! ```
//!
//! Loading checks the same way suites are checked: unknown keys with a
//! did-you-mean, types, version expressions, and every problem reported with
//! its `file:line:column`.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::protocol::{ProtocolVersion, VersionSet};

use super::error::{Collector, SuiteError, did_you_mean};
use super::model::{Feature, Location, Span, location_in};
use super::versions::parse_versions;
use crate::diagnostic::toml_walk::{kind_of as kind, span_of as span, unknown_keys};

/// The file name of a target profile inside its snapshot set's folder.
pub const TARGET_FILE: &str = "target.toml";

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "versions",
    "provisioning",
    "request-timeout",
    "without",
    "skip",
    "deviation",
];
const SKIP_KEYS: &[&str] = &["suite", "reason"];
const DEVIATION_KEYS: &[&str] = &["suite", "step", "versions", "reason", "reference"];

/// A server product as suites meet it.
#[derive(Debug, Clone)]
pub struct TargetProfile {
    pub file: PathBuf,
    /// One line, e.g. `SOGo 5.8 (Debian 12, sogo-activesync)`.
    pub name: String,
    pub description: Option<String>,
    /// The protocol versions the server offers; `None`: not declared (the
    /// run's version is taken as offered).
    pub versions: Option<VersionSet>,
    /// Whether the server enforces Provision; `None`: probed per suite that
    /// `requires = ["provisioning"]`.
    pub provisioning: Option<bool>,
    /// How long one request may take against this server (`request-timeout`,
    /// seconds): a server that holds requests it should refuse at once
    /// (SOGo keeps an invalid Ping for twice its heartbeat limit) would
    /// otherwise cost the default two minutes per such suite.
    pub request_timeout: Option<std::time::Duration>,
    /// Features the server lacks (`without = ["notes", "oof"]`): suites
    /// that require them are skipped.
    pub without: Vec<Feature>,
    /// Suites not to run against this server, each with the reason
    /// (`[[skip]]`): for a suite that would leave the server changed for
    /// every later run, when the server refuses the cleanup.
    pub skips: Vec<(String, String)>,
    pub deviations: Vec<Deviation>,
}

/// A suite known to fail against the target because the server breaks the
/// spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation {
    /// The suite id (`sync/empty-response`).
    pub suite: String,
    /// The step whose failure is the known one; `None`: any step.
    pub step: Option<String>,
    /// The protocol versions the deviation shows at.
    pub versions: VersionSet,
    /// What the server does wrong.
    pub reason: String,
    /// The requirement it breaks (`MS-ASCMD 2.2.3.166.4`).
    pub reference: String,
    /// Where the entry is written.
    pub location: Location,
}

impl TargetProfile {
    /// The profile of the snapshot set `profile` under `snapshots`
    /// (`snapshots/<profile>/target.toml`); `Ok(None)` when there is none.
    pub fn find(snapshots: &FsPath, profile: &str) -> Result<Option<TargetProfile>, SuiteError> {
        let file = snapshots.join(profile).join(TARGET_FILE);
        match std::fs::read_to_string(&file) {
            Ok(source) => parse(&source, &file).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SuiteError::io(&file, &e)),
        }
    }

    /// Whether the target offers `version`; when it does not, why (for the
    /// skip reason).
    pub fn offers(&self, version: ProtocolVersion) -> Result<(), String> {
        match self.versions {
            Some(set) if !set.contains(version) => Err(format!(
                "the target does not offer protocol {version} ({} declares {})",
                self.file.display(),
                super::versions_text(set)
            )),
            _ => Ok(()),
        }
    }

    /// Whether the server lacks `feature`; when it does, why (for the skip
    /// reason).
    pub fn lacks(&self, feature: Feature) -> Option<String> {
        self.without.contains(&feature).then(|| {
            format!(
                "needs {}, which {} declares the target does not have",
                feature.describe(),
                self.file.display()
            )
        })
    }

    /// Why suite `id` is not run against this server, if the profile says.
    pub fn skip(&self, id: &str) -> Option<String> {
        self.skips
            .iter()
            .find(|(suite, _)| suite == id)
            .map(|(_, reason)| format!("{reason} ({})", self.file.display()))
    }

    /// The known deviation of suite `id` at `version`, if one is recorded.
    pub fn deviation(&self, id: &str, version: ProtocolVersion) -> Option<&Deviation> {
        self.deviations
            .iter()
            .find(|d| d.suite == id && d.versions.contains(version))
    }
}

/// Parses a target profile's text; `file` is used in locations.
pub fn parse(source: &str, file: &FsPath) -> Result<TargetProfile, SuiteError> {
    let shared: Arc<str> = Arc::from(source);
    let mut c = Collector::new(source);
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().map_or(Span::default(), |r| Span {
                start: r.start,
                end: r.end,
            });
            c.error(
                span,
                format!("TOML syntax: {}", e.message().replace('\n', " ")),
                None,
            );
            return Err(SuiteError::new(file, shared, c.diagnostics));
        }
    };
    let doc = doc.get_ref();
    unknown_keys(&mut c, doc, TOP_KEYS, "in a target profile");
    let name = match doc.get("name").map(|v| (v.get_ref(), span(v))) {
        Some((DeValue::String(s), _)) if !s.trim().is_empty() && !s.contains('\n') => s.to_string(),
        Some((_, at)) => {
            c.error(at, "`name` must be one line of text", None);
            String::new()
        }
        None => {
            c.error(
                Span::default(),
                "a target profile needs a `name`",
                Some("add `name = \"Server 1.0 (how it is set up)\"` at the top".into()),
            );
            String::new()
        }
    };
    let description = text(&mut c, doc, "description");
    let versions = doc.get("versions").and_then(|v| versions(&mut c, v));
    let provisioning = match doc.get("provisioning").map(|v| (v.get_ref(), span(v))) {
        None => None,
        Some((DeValue::Boolean(b), _)) => Some(*b),
        Some((other, at)) => {
            c.error(
                at,
                format!("`provisioning` must be true or false, got {}", kind(other)),
                None,
            );
            None
        }
    };
    let request_timeout = match doc.get("request-timeout").map(|v| (v.get_ref(), span(v))) {
        None => None,
        Some((DeValue::Integer(i), at)) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n @ 1..=3600) => Some(std::time::Duration::from_secs(n.unsigned_abs())),
            _ => {
                c.error(at, "`request-timeout` must be 1 to 3600 seconds", None);
                None
            }
        },
        Some((other, at)) => {
            c.error(
                at,
                format!(
                    "`request-timeout` must be an integer (seconds), got {}",
                    kind(other)
                ),
                None,
            );
            None
        }
    };
    let mut without = Vec::new();
    match doc.get("without").map(|v| (v.get_ref(), span(v))) {
        None => {}
        Some((DeValue::Array(items), _)) => {
            for item in items {
                match item.get_ref() {
                    DeValue::String(name) => match Feature::from_name(name) {
                        Some(f) => without.push(f),
                        None => {
                            let names = Feature::ALL.map(Feature::name);
                            let hint = did_you_mean(name, &names)
                                .map(|m| format!("did you mean `{m}`?"))
                                .unwrap_or_else(|| {
                                    format!("the features are: {}", names.join(", "))
                                });
                            c.error(span(item), format!("unknown feature `{name}`"), Some(hint));
                        }
                    },
                    other => c.error(
                        span(item),
                        format!("a feature must be a string, got {}", kind(other)),
                        None,
                    ),
                }
            }
        }
        Some((other, at)) => c.error(
            at,
            format!(
                "`without` must be an array of feature names, got {}",
                kind(other)
            ),
            None,
        ),
    }
    let mut skips = Vec::new();
    match doc.get("skip").map(|v| (v.get_ref(), span(v))) {
        None => {}
        Some((DeValue::Array(entries), _)) => {
            for entry in entries {
                match entry.get_ref() {
                    DeValue::Table(t) => {
                        unknown_keys(&mut c, t, SKIP_KEYS, "in a skip");
                        let suite = text(&mut c, t, "suite");
                        let reason = text(&mut c, t, "reason");
                        match (suite, reason) {
                            (Some(s), Some(r)) => skips.push((s, r)),
                            _ => c.error(span(entry), "a skip needs `suite` and `reason`", None),
                        }
                    }
                    other => c.error(
                        span(entry),
                        format!("a skip must be a table, got {}", kind(other)),
                        Some("write each one as `[[skip]]`".into()),
                    ),
                }
            }
        }
        Some((other, at)) => c.error(
            at,
            format!("`skip` must be an array of tables, got {}", kind(other)),
            Some("write each one as `[[skip]]`".into()),
        ),
    }
    let mut deviations = Vec::new();
    match doc.get("deviation").map(|v| (v.get_ref(), span(v))) {
        None => {}
        Some((DeValue::Array(entries), _)) => {
            for entry in entries {
                match entry.get_ref() {
                    DeValue::Table(t) => {
                        if let Some(d) = deviation(&mut c, t, span(entry)) {
                            if deviations.iter().any(|o: &Deviation| {
                                o.suite == d.suite && o.versions.bits() & d.versions.bits() != 0
                            }) {
                                c.error(
                                    span(entry),
                                    format!(
                                        "suite `{}` has two deviations for the same version",
                                        d.suite
                                    ),
                                    Some("give each entry its own `versions`".into()),
                                );
                            }
                            deviations.push(d);
                        }
                    }
                    other => c.error(
                        span(entry),
                        format!("a deviation must be a table, got {}", kind(other)),
                        Some("write each one as `[[deviation]]`".into()),
                    ),
                }
            }
        }
        Some((other, at)) => c.error(
            at,
            format!(
                "`deviation` must be an array of tables, got {}",
                kind(other)
            ),
            Some("write each one as `[[deviation]]`".into()),
        ),
    }
    if !c.diagnostics.is_empty() {
        return Err(SuiteError::new(file, shared, c.diagnostics));
    }
    Ok(TargetProfile {
        file: file.to_path_buf(),
        name,
        description,
        versions,
        provisioning,
        request_timeout,
        without,
        skips,
        deviations,
    })
}

type Value<'i> = toml::Spanned<DeValue<'i>>;

fn deviation(c: &mut Collector<'_>, t: &DeTable<'_>, at: Span) -> Option<Deviation> {
    unknown_keys(c, t, DEVIATION_KEYS, "in a deviation");
    let before = c.diagnostics.len();
    let suite = required(c, t, "suite", at);
    let reason = required(c, t, "reason", at);
    let reference = required(c, t, "reference", at);
    let step = text(c, t, "step");
    let versions = match t.get("versions") {
        Some(v) => versions(c, v),
        None => Some(VersionSet::ALL),
    };
    if c.diagnostics.len() > before {
        return None;
    }
    Some(Deviation {
        suite: suite?,
        step,
        versions: versions?,
        reason: reason?,
        reference: reference?,
        location: location_in(c.source, at.start),
    })
}

fn required(c: &mut Collector<'_>, t: &DeTable<'_>, key: &str, at: Span) -> Option<String> {
    if t.get(key).is_none() {
        let misspelt = t.iter().any(|(k, _)| {
            let k = k.get_ref().as_ref();
            !DEVIATION_KEYS.contains(&k) && did_you_mean(k, DEVIATION_KEYS) == Some(key)
        });
        if !misspelt {
            c.error(at, format!("a deviation needs `{key}`"), None);
        }
        return None;
    }
    text(c, t, key)
}

fn text(c: &mut Collector<'_>, t: &DeTable<'_>, key: &str) -> Option<String> {
    let v = t.get(key)?;
    match v.get_ref() {
        DeValue::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        DeValue::String(_) => {
            c.error(span(v), format!("`{key}` is empty"), None);
            None
        }
        other => {
            c.error(
                span(v),
                format!("`{key}` must be a string, got {}", kind(other)),
                None,
            );
            None
        }
    }
}

fn versions(c: &mut Collector<'_>, v: &Value<'_>) -> Option<VersionSet> {
    match v.get_ref() {
        DeValue::String(s) => match parse_versions(s) {
            Ok(set) => Some(set),
            Err(e) => {
                c.error(span(v), format!("`versions`: {}", e.message), e.hint);
                None
            }
        },
        other => {
            c.error(
                span(v),
                format!("`versions` must be a string, got {}", kind(other)),
                Some("e.g. `versions = \"12.1, 14.0, 14.1\"`".into()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<TargetProfile, Vec<String>> {
        parse(text, FsPath::new("snapshots/lab/target.toml")).map_err(|e| e.lines())
    }

    #[test]
    fn a_full_profile_loads() {
        let p = load(
            r#"
name = "Lab 1.0"
versions = "12.1, 14.1"
provisioning = false
request-timeout = 30
without = ["oof"]

[[skip]]
suite = "sync/w"
reason = "leaves a folder behind"

[[deviation]]
suite = "sync/a"
step = "first"
reason = "answers Status 4"
reference = "MS-ASCMD 2.2.3.177.17"

[[deviation]]
suite = "ping/b"
versions = "14.1"
reason = "no Status 5"
reference = "MS-ASCMD 2.2.3.177.10"
"#,
        )
        .expect("loads");
        assert_eq!(p.name, "Lab 1.0");
        assert_eq!(p.provisioning, Some(false));
        assert!(
            p.skip("sync/w")
                .is_some_and(|r| r.contains("leaves a folder"))
        );
        assert!(p.skip("sync/a").is_none());
        assert!(p.lacks(Feature::Oof).is_some() && p.lacks(Feature::Notes).is_none());
        assert_eq!(p.request_timeout, Some(std::time::Duration::from_secs(30)));
        assert!(p.offers(ProtocolVersion::V14_1).is_ok());
        let why = p.offers(ProtocolVersion::V16_1).unwrap_err();
        assert!(why.contains("16.1") && why.contains("12.1"), "{why}");
        let d = p
            .deviation("sync/a", ProtocolVersion::V12_1)
            .expect("recorded");
        assert_eq!(d.step.as_deref(), Some("first"));
        assert_eq!(d.location.line, 12);
        assert!(p.deviation("ping/b", ProtocolVersion::V12_1).is_none());
        assert!(p.deviation("ping/b", ProtocolVersion::V14_1).is_some());
        assert!(p.deviation("sync/other", ProtocolVersion::V14_1).is_none());
    }

    #[test]
    fn every_problem_is_reported_with_its_line_and_a_hint() {
        let errors = load(
            r#"
name = "Lab"
provisoning = false
versions = "13.7"

[[deviation]]
suite = "sync/a"
reson = "typo"
reference = "MS-ASCMD"

[[deviation]]
suite = "sync/b"
reference = "x"
"#,
        )
        .unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains(":3:1: unknown key `provisoning`") && all.contains("`provisioning`?"),
            "{all}"
        );
        assert!(all.contains(":4:12: `versions`"), "{all}");
        assert!(all.contains(":8:1: unknown key `reson`"), "{all}");
        // The misspelt key is not reported twice as missing.
        assert!(!all.contains("needs `reason`\n") || all.matches("needs `reason`").count() == 1);
        assert!(all.contains("a deviation needs `reason`"), "{all}");
        assert_eq!(errors.len(), 4, "{all}");
    }

    #[test]
    fn two_entries_for_one_suite_and_version_are_refused() {
        let errors = load(
            r#"
name = "Lab"
[[deviation]]
suite = "s"
reason = "a"
reference = "r"
[[deviation]]
suite = "s"
versions = "14.1"
reason = "b"
reference = "r"
"#,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("two deviations"), "{errors:?}");
    }

    #[test]
    fn a_missing_file_is_no_profile() {
        let dir = std::env::temp_dir().join(format!("eastest-target-{}", std::process::id()));
        assert!(matches!(TargetProfile::find(&dir, "none"), Ok(None)));
    }
}
