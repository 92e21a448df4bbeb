//! The referee's reports: the console summary, JUnit, JSON and the trace,
//! per session, and an index over all of them.
//!
//! Reactions (from scenarios) are matched to a session by DeviceId; a
//! reaction whose device the referee never saw is listed in the index only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use super::{Exchange, Finding, Reaction, ReactionResult, Session, Severity, check};

/// Why the reports could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot build the JUnit report: {0}")]
    Junit(String),
    #[error("cannot build the JSON report: {0}")]
    Json(#[from] serde_json::Error),
}

/// What `report.json` holds for one session.
#[derive(Debug, Serialize)]
pub struct SessionReport<'a> {
    pub name: String,
    pub user: Option<&'a str>,
    pub device_id: Option<&'a str>,
    pub device_type: Option<&'a str>,
    pub exchanges: u64,
    pub must: usize,
    pub should: usize,
    pub findings: &'a [Finding],
    pub applied: &'a [&'static str],
    pub reactions: Vec<&'a Reaction>,
}

fn reactions_of<'a>(session: &Session, reactions: &'a [Reaction]) -> Vec<&'a Reaction> {
    reactions
        .iter()
        .filter(|r| session.key.device_id.as_deref() == Some(r.device_id.as_str()))
        .collect()
}

fn count(findings: &[Finding], severity: Severity) -> usize {
    findings
        .iter()
        .filter(|f| f.check.severity == severity)
        .count()
}

fn reaction_label(r: &Reaction) -> (&'static str, String) {
    match &r.result {
        ReactionResult::Met { .. } => ("MET", String::new()),
        ReactionResult::Violated { detail, .. } => ("VIOLATED", detail.clone()),
        ReactionResult::NotObserved { detail } => ("NOT OBSERVED", detail.clone()),
    }
}

/// One block per session: counts per severity, each finding, reactions.
pub fn summary(sessions: &[Session], reactions: &[Reaction]) -> String {
    let mut out = String::new();
    if sessions.is_empty() {
        out.push_str("referee: no requests seen\n");
    }
    for s in sessions {
        let _ = writeln!(
            out,
            "referee: {} (DeviceType {}, {} exchange(s)): {} MUST, {} SHOULD finding(s)",
            s.key.name(),
            s.device_type.as_deref().unwrap_or("-"),
            s.exchanges,
            count(&s.findings, Severity::Must),
            count(&s.findings, Severity::Should),
        );
        for f in &s.findings {
            let at = f
                .exchange
                .map(|e| format!("#{e}"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  {:6} {} {at}: {}",
                f.check.severity.to_string(),
                f.check.id,
                f.check.message
            );
            let _ = writeln!(out, "         {} ({})", f.detail, f.check.reference);
        }
        let mine = reactions_of(s, reactions);
        if !mine.is_empty() {
            let met = mine
                .iter()
                .filter(|r| matches!(r.result, ReactionResult::Met { .. }))
                .count();
            let violated = mine
                .iter()
                .filter(|r| matches!(r.result, ReactionResult::Violated { .. }))
                .count();
            let _ = writeln!(
                out,
                "  reactions: {met} met, {violated} violated, {} not observed",
                mine.len() - met - violated
            );
            for r in mine {
                let (label, detail) = reaction_label(r);
                let _ = writeln!(
                    out,
                    "  {label:12} {} / {}: {} ({})",
                    r.scenario, r.step, r.expected, r.reference
                );
                if !detail.is_empty() {
                    let _ = writeln!(out, "               {detail}");
                }
            }
        }
    }
    out
}

/// The JUnit report of one session: a test suite with a test case per
/// check that applied (failing with its findings) and one per reaction.
pub fn junit(session: &Session, reactions: &[Reaction]) -> Result<String, ReportError> {
    let name = session.key.name();
    let mut report = Report::new("eastest referee");
    let mut suite = TestSuite::new(name.clone());
    for id in &session.applied {
        let findings: Vec<&Finding> = session
            .findings
            .iter()
            .filter(|f| f.check.id == *id)
            .collect();
        let status = if findings.is_empty() {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            if let Some(c) = check(id) {
                s.set_message(format!("{} {} ({})", c.severity, c.message, c.reference));
                s.set_type(c.severity.to_string());
            }
            let detail: Vec<String> = findings
                .iter()
                .map(|f| format!("#{}: {}", f.exchange.unwrap_or(0), f.detail))
                .collect();
            s.set_description(detail.join("\n"));
            s
        };
        let mut case = TestCase::new(*id, status);
        case.set_classname(name.clone());
        suite.add_test_case(case);
    }
    for r in reactions_of(session, reactions) {
        let (label, detail) = reaction_label(r);
        let status = match r.result {
            ReactionResult::Met { .. } => TestCaseStatus::success(),
            ReactionResult::Violated { .. } => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{}: {} ({})", label, r.expected, r.reference));
                s.set_description(detail);
                s
            }
            ReactionResult::NotObserved { .. } => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!("{label}: {detail}"));
                s
            }
        };
        let mut case = TestCase::new(format!("reaction: {} / {}", r.scenario, r.step), status);
        case.set_classname(name.clone());
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report
        .to_string()
        .map_err(|e| ReportError::Junit(e.to_string()))
}

/// The full decoded trace of a session, as text.
pub fn trace_text(session: &Session) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {}: {} exchange(s), the last {} shown; secrets redacted",
        session.key.name(),
        session.exchanges,
        session.trace.len()
    );
    for x in &session.trace {
        write_exchange(&mut out, x, &session.findings);
    }
    out
}

fn write_exchange(out: &mut String, x: &Exchange, findings: &[Finding]) {
    let _ = writeln!(
        out,
        "\n=== #{} {} {} {} {} -> HTTP {} ({} ms)",
        x.seq,
        format_time(x.at),
        x.method,
        x.command.as_deref().unwrap_or("-"),
        x.version.as_deref().unwrap_or("-"),
        x.status,
        x.elapsed_ms
    );
    let line = if x.request_line.is_empty() {
        x.path.clone()
    } else {
        format!("{}?{}", x.path, x.request_line)
    };
    let _ = writeln!(out, "> {} {line}", x.method);
    for (n, v) in &x.request_headers {
        let _ = writeln!(out, "> {n}: {v}");
    }
    if !x.request_body.is_empty() {
        let _ = writeln!(out, "{}", x.request_body.trim_end());
    }
    let _ = writeln!(out, "< HTTP {}", x.status);
    for (n, v) in &x.response_headers {
        let _ = writeln!(out, "< {n}: {v}");
    }
    if !x.response_body.is_empty() {
        let _ = writeln!(out, "{}", x.response_body.trim_end());
    }
    for f in findings.iter().filter(|f| f.exchange == Some(x.seq)) {
        let _ = writeln!(out, "!! {} {}: {}", f.check.severity, f.check.id, f.detail);
    }
}

/// `2024-05-01T12:00:00.123Z`.
pub fn format_time(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (y, m, day) = crate::protocol::datetime::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// A folder name from a session name: letters, digits, `.`, `_`, `-` kept.
fn folder_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn put(path: PathBuf, text: &str) -> Result<(), ReportError> {
    std::fs::write(&path, text).map_err(|source| ReportError::Io { path, source })
}

/// Writes every session's folder and the index.
pub fn write(
    dir: &Path,
    sessions: &[Session],
    reactions: &[Reaction],
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut index = Vec::new();
    for s in sessions {
        let name = s.key.name();
        let folder = dir.join(folder_name(&name));
        std::fs::create_dir_all(&folder).map_err(|source| ReportError::Io {
            path: folder.clone(),
            source,
        })?;
        let mine = reactions_of(s, reactions);
        let owned: Vec<Reaction> = mine.iter().map(|r| (*r).clone()).collect();
        put(
            folder.join("summary.txt"),
            &summary(std::slice::from_ref(s), &owned),
        )?;
        put(folder.join("junit.xml"), &junit(s, &owned)?)?;
        let json = SessionReport {
            name: name.clone(),
            user: s.key.user.as_deref(),
            device_id: s.key.device_id.as_deref(),
            device_type: s.device_type.as_deref(),
            exchanges: s.exchanges,
            must: count(&s.findings, Severity::Must),
            should: count(&s.findings, Severity::Should),
            findings: &s.findings,
            applied: &s.applied,
            reactions: mine,
        };
        put(
            folder.join("report.json"),
            &serde_json::to_string_pretty(&json)?,
        )?;
        put(folder.join("trace.txt"), &trace_text(s))?;
        index.push(serde_json::json!({
            "name": name,
            "folder": folder_name(&name),
            "exchanges": s.exchanges,
            "must": json.must,
            "should": json.should,
        }));
        written.push(folder);
    }
    let unmatched: Vec<&Reaction> = reactions
        .iter()
        .filter(|r| {
            !sessions
                .iter()
                .any(|s| s.key.device_id.as_deref() == Some(r.device_id.as_str()))
        })
        .collect();
    put(
        dir.join("index.json"),
        &serde_json::to_string_pretty(&serde_json::json!({
            "sessions": index,
            "reactions_without_session": unmatched,
        }))?,
    )?;
    let mut text = summary(sessions, reactions);
    for r in unmatched {
        let (label, detail) = reaction_label(r);
        let _ = writeln!(
            text,
            "reaction for unseen device {}: {label} {} / {} {detail}",
            r.device_id, r.scenario, r.step
        );
    }
    put(dir.join("index.txt"), &text)?;
    Ok(written)
}
