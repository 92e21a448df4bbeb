//! Running suites: one suite at a time per job, each with its own devices,
//! variables and normaliser; steps in order, background steps alongside;
//! expectations checked on the decoded (unredacted) answer, snapshots made
//! from the normalised one, in step order, so aliases do not depend on
//! timing.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::client::{ClientConfig, EasClient, QueryForm, Request, RequestBody, Response, Secret};
use crate::protocol::{Command, ProtocolVersion, StatusScope, describe};
use crate::suite::{
    Action, Auth, Body, Expectation, Predicate, Requirement, Step, Suite, TargetProfile,
};
use crate::wbxml::{DecodeOptions, Element, EncodeOptions, encode};

use super::normalize::{Normalizer, ResponseView};
use super::outcome::{
    Exchange, Failure, RunOutcome, SnapshotOutcome, StepOutcome, StepResult, SuiteOutcome,
    SuiteStatus, TargetInfo,
};
use super::snapshot::SnapshotStore;

const WBXML: &str = "application/vnd.ms-sync.wbxml";

/// The run id when the caller sets none (the embedded mock: every run is
/// fresh). Long enough to be told apart from other text in responses,
/// where snapshots write it as `[run_id]`.
pub const DEFAULT_RUN_ID: &str = "run1";

/// The password a step with `auth = "wrong"` sends: not a secret, and not
/// anyone's password.
const WRONG_PASSWORD: &str = "eastest-wrong-password";

/// Where one suite runs: an EAS endpoint and an account on it.
#[derive(Debug, Clone)]
pub struct Target {
    /// The EAS endpoint URL (no credentials in it).
    pub url: String,
    pub user: String,
    pub password: Secret,
    /// Whether the eastest mock's test hooks answer there.
    pub test_hooks: bool,
}

/// Gives each suite its target: the same lab server for all, or a fresh
/// embedded mock per suite (so that suites never see each other's items).
pub trait Targets: Send + Sync + 'static {
    fn target_for(
        &self,
        suite: &Suite,
    ) -> impl std::future::Future<Output = Result<Target, String>> + Send;
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub version: ProtocolVersion,
    /// The snapshot set's name (`mock`, `sogo`, a lab's name).
    pub profile: String,
    /// The target as reports show it.
    pub target_label: String,
    pub query_form: QueryForm,
    /// Suites run at once.
    pub jobs: usize,
    /// Makes DeviceIds unique per run (`{{run_id}}` too); snapshots show it
    /// as `[run_id]` (at least [`MIN_RUN_ID_LEN`](super::normalize::MIN_RUN_ID_LEN)
    /// characters, or it is left as is).
    pub run_id: String,
    pub ca_cert: Option<PathBuf>,
    pub insecure: bool,
    /// Per request.
    pub timeout: Duration,
    /// Called as each suite ends (a progress bar).
    pub on_suite_done: Option<OnSuiteDone>,
    /// What the target is known to offer and where it is known to break
    /// the spec (`snapshots/<profile>/target.toml`); `None`: nothing
    /// declared, capabilities are probed.
    pub target_profile: Option<Arc<TargetProfile>>,
}

/// A callback for each finished suite.
#[derive(Clone)]
pub struct OnSuiteDone(pub Arc<dyn Fn(&SuiteOutcome) + Send + Sync>);

impl std::fmt::Debug for OnSuiteDone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnSuiteDone")
    }
}

impl RunOptions {
    /// Defaults for `version` against the profile `profile`.
    pub fn new(version: ProtocolVersion, profile: &str) -> RunOptions {
        RunOptions {
            version,
            profile: profile.to_string(),
            target_label: profile.to_string(),
            query_form: QueryForm::Plain,
            jobs: 1,
            run_id: DEFAULT_RUN_ID.to_string(),
            ca_cert: None,
            insecure: false,
            timeout: Duration::from_secs(120),
            on_suite_done: None,
            target_profile: None,
        }
    }
}

/// Runs `suites`, `options.jobs` at a time, each against the target
/// `targets` gives it; snapshots compared in `snapshots` when given.
pub async fn run<T: Targets>(
    suites: Vec<Suite>,
    targets: Arc<T>,
    options: RunOptions,
    snapshots: Option<SnapshotStore>,
) -> RunOutcome {
    let started = Instant::now();
    let options = Arc::new(options);
    let snapshots = Arc::new(snapshots);
    let jobs = options.jobs.max(1);
    let total = suites.len();
    let mut pending = suites.into_iter().enumerate();
    let mut running = JoinSet::new();
    let mut results: Vec<Option<(SuiteOutcome, usize)>> = (0..total).map(|_| None).collect();
    loop {
        while running.len() < jobs {
            let Some((index, suite)) = pending.next() else {
                break;
            };
            let (targets, options, snapshots) =
                (targets.clone(), options.clone(), snapshots.clone());
            running.spawn(async move {
                let outcome = match targets.target_for(&suite).await {
                    Ok(target) => run_suite(&suite, &target, &options, (*snapshots).as_ref()).await,
                    Err(why) => (errored(&suite, format!("no target: {why}")), 0),
                };
                (index, outcome)
            });
        }
        match running.join_next().await {
            Some(Ok((index, outcome))) => {
                if let Some(callback) = &options.on_suite_done {
                    (callback.0)(&outcome.0);
                }
                results[index] = Some(outcome);
            }
            Some(Err(e)) => {
                // A panic in a suite task is a bug in eastest; keep the run going.
                tracing::error!("a suite task failed: {e}");
            }
            None => break,
        }
    }
    let mut requests = 0;
    let suites = results
        .into_iter()
        .flatten()
        .map(|(outcome, n)| {
            requests += n;
            outcome
        })
        .collect();
    RunOutcome {
        target: TargetInfo {
            url: options.target_label.clone(),
            profile: options.profile.clone(),
            version: options.version.to_string(),
        },
        suites,
        duration: started.elapsed(),
        requests,
    }
}

fn errored(suite: &Suite, why: String) -> SuiteOutcome {
    SuiteOutcome {
        id: suite.id.clone(),
        name: suite.name.clone(),
        file: suite.file.clone(),
        status: SuiteStatus::Error(why),
        steps: Vec::new(),
        duration: Duration::ZERO,
    }
}

fn skipped(suite: &Suite, why: String) -> SuiteOutcome {
    SuiteOutcome {
        status: SuiteStatus::Skipped(why),
        ..errored(suite, String::new())
    }
}

/// One device of a suite: its client and what the runner tracks for the
/// cleanup.
struct Device {
    client: Arc<EasClient>,
    /// CollectionId -> the last SyncKey the server gave for it.
    sync_keys: HashMap<String, String>,
    /// The last FolderSync key.
    folder_key: Option<String>,
    /// Items the suite added: (CollectionId, ServerId).
    items: Vec<(String, String)>,
    /// Folders the suite created, in creation order.
    folders: Vec<String>,
}

/// What a step got back, kept for the snapshot.
struct Answer {
    response: Response,
    tree: Option<Element>,
}

/// A step's result before its snapshot is made.
struct Done {
    result: StepResult,
    duration: Duration,
    exchange: Option<Exchange>,
    answer: Option<Answer>,
    captures: Vec<(String, String)>,
}

/// Runs one suite against `target`: its outcome and the HTTP requests sent.
pub async fn run_suite(
    suite: &Suite,
    target: &Target,
    options: &RunOptions,
    snapshots: Option<&SnapshotStore>,
) -> (SuiteOutcome, usize) {
    let started = Instant::now();
    if !suite.versions.contains(options.version) {
        let why = format!(
            "applies to protocol versions {}, the run uses {}",
            suite.versions_text, options.version
        );
        return (skipped(suite, why), 0);
    }
    if let Some(Err(why)) = options
        .target_profile
        .as_ref()
        .map(|p| p.offers(options.version))
    {
        return (skipped(suite, why), 0);
    }
    if let Some(why) = options
        .target_profile
        .as_ref()
        .and_then(|p| p.skip(&suite.id))
    {
        return (skipped(suite, why), 0);
    }
    // The target profile's request timeout, if it sets one.
    let timed;
    let options = match options
        .target_profile
        .as_ref()
        .and_then(|p| p.request_timeout)
    {
        Some(timeout) => {
            timed = RunOptions {
                timeout,
                ..options.clone()
            };
            &timed
        }
        None => options,
    };
    let (outcome, requests) = run_devices(suite, target, options, snapshots, started).await;
    (judge_deviation(outcome, options), requests)
}

/// A suite's outcome in the light of the target profile's known
/// deviations: a failure at the recorded step is the expected one; a pass
/// means the record is out of date.
fn judge_deviation(mut outcome: SuiteOutcome, options: &RunOptions) -> SuiteOutcome {
    let Some(profile) = &options.target_profile else {
        return outcome;
    };
    let Some(deviation) = profile.deviation(&outcome.id, options.version) else {
        return outcome;
    };
    let entry = format!("{}:{}", profile.file.display(), deviation.location.line);
    match &outcome.status {
        SuiteStatus::Failed | SuiteStatus::Error(_) => {
            let failed_step = outcome
                .steps
                .iter()
                .find(|s| matches!(s.result, StepResult::Failed(_) | StepResult::Error(_)))
                .map(|s| s.name.as_str());
            // A changed snapshot is a change in behaviour, even at the
            // recorded step: the reviewed snapshot shows the deviation as
            // it was, so a different answer is news and is not hidden.
            let snapshot_changed = outcome.steps.iter().any(|s| {
                matches!(&s.result, StepResult::Failed(f) if f.iter().any(|f| f.expectation == "snapshot"))
            });
            let expected = !snapshot_changed
                && match (&deviation.step, failed_step) {
                    (None, _) => true,
                    (Some(step), Some(failed)) => step == failed,
                    (Some(_), None) => false,
                };
            if expected {
                outcome.status = SuiteStatus::KnownDeviation(format!(
                    "{} ({}; {entry})",
                    deviation.reason, deviation.reference
                ));
            }
        }
        SuiteStatus::Passed => {
            outcome.status = SuiteStatus::DeviationFixed(format!(
                "passed, but {entry} records it as a known deviation ({}): remove the entry if the server was fixed",
                deviation.reason
            ));
        }
        _ => {}
    }
    outcome
}

async fn run_devices(
    suite: &Suite,
    target: &Target,
    options: &RunOptions,
    snapshots: Option<&SnapshotStore>,
    started: Instant,
) -> (SuiteOutcome, usize) {
    let mut requests = 0;
    let mut devices: HashMap<String, Device> = HashMap::new();
    for name in std::iter::once("main".to_string()).chain(suite.devices.iter().cloned()) {
        let device_id = device_id(&options.run_id, &suite.id, &name);
        let mut config = ClientConfig::new(
            target.url.clone(),
            target.user.clone(),
            target.password.clone(),
            device_id,
            options.version,
        );
        config.query_form = options.query_form;
        config.timeout = options.timeout;
        config.ca_cert = options.ca_cert.clone();
        config.insecure = options.insecure;
        match EasClient::new(config) {
            Ok(client) => {
                devices.insert(
                    name,
                    Device {
                        client: Arc::new(client),
                        sync_keys: HashMap::new(),
                        folder_key: None,
                        items: Vec::new(),
                        folders: Vec::new(),
                    },
                );
            }
            Err(e) => return (errored(suite, format!("client: {e}")), 0),
        }
    }
    // What the suite requires of the target.
    if !suite.requires.is_empty() {
        let main = &devices["main"].client;
        let info = match main.options().await {
            Ok(r) => {
                requests += r.requests;
                EasClient::server_info(&r)
            }
            Err(e) => return (errored(suite, format!("OPTIONS failed: {e}")), requests),
        };
        for requirement in &suite.requires {
            let missing = match requirement {
                Requirement::Command(c) => (!info.commands.iter().any(|x| x == c.name()))
                    .then(|| format!("needs {c}, which the server does not advertise")),
                Requirement::Feature(feature) => options
                    .target_profile
                    .as_ref()
                    .and_then(|p| p.lacks(*feature)),
                Requirement::TestHooks => {
                    (!target.test_hooks).then(|| "needs the eastest mock's test hooks".to_string())
                }
                Requirement::Provisioning => match declared_provisioning(options) {
                    Some(true) => None,
                    Some(false) => Some(format!(
                        "needs a server that enforces provisioning ({} declares it does not)",
                        options
                            .target_profile
                            .as_ref()
                            .map_or(String::new(), |p| p.file.display().to_string())
                    )),
                    None => match enforces_provisioning(target, options).await {
                        Ok((true, n)) => {
                            requests += n;
                            None
                        }
                        Ok((false, n)) => {
                            requests += n;
                            Some("needs a server that enforces provisioning".to_string())
                        }
                        Err(e) => {
                            return (errored(suite, format!("provisioning probe: {e}")), requests);
                        }
                    },
                },
            };
            if let Some(why) = missing {
                return (skipped(suite, why), requests);
            }
        }
    }

    let mut vars: HashMap<String, String> = suite.vars.iter().cloned().collect();
    vars.insert("user".into(), target.user.clone());
    vars.insert("version".into(), options.version.to_string());
    vars.insert("run_id".into(), options.run_id.clone());

    let mut done: Vec<Option<Done>> = Vec::with_capacity(suite.steps.len());
    let mut background = JoinSet::new();
    let mut stop: Option<String> = None;
    for (index, step) in suite.steps.iter().enumerate() {
        if let Some(why) = &stop {
            done.push(Some(Done {
                result: StepResult::Skipped(why.clone()),
                duration: Duration::ZERO,
                exchange: None,
                answer: None,
                captures: Vec::new(),
            }));
            continue;
        }
        if step.delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(step.delay_ms)).await;
        }
        let device = &devices[&step.device];
        let mut step_vars = vars.clone();
        step_vars.insert("device_id".into(), device.client.config().device_id.clone());
        let prepared = match prepare(suite, step, &step_vars, options.version) {
            Ok(p) => p,
            Err(why) => {
                done.push(Some(Done {
                    result: StepResult::Error(why.clone()),
                    duration: Duration::ZERO,
                    exchange: None,
                    answer: None,
                    captures: Vec::new(),
                }));
                stop = Some(format!("step `{}` could not run", step.name));
                continue;
            }
        };
        // A step that sends no or wrong credentials goes through a client
        // of its own (the suite never holds credentials; the runner makes
        // the wrong password up).
        let step_client = match step.auth {
            Auth::Account => None,
            auth => {
                let mut config = device.client.config().clone();
                match auth {
                    Auth::None => config.anonymous = true,
                    _ => config.password = Secret::new(WRONG_PASSWORD),
                }
                match EasClient::new(config) {
                    Ok(c) => Some(Arc::new(c)),
                    Err(e) => {
                        done.push(Some(Done {
                            result: StepResult::Error(format!("client: {e}")),
                            duration: Duration::ZERO,
                            exchange: None,
                            answer: None,
                            captures: Vec::new(),
                        }));
                        stop = Some(format!("step `{}` could not run", step.name));
                        continue;
                    }
                }
            }
        };
        let client = step_client.unwrap_or_else(|| device.client.clone());
        if step.background {
            let client = client.clone();
            let suite = suite.clone();
            let version = options.version;
            background.spawn(async move {
                let step = &suite.steps[index];
                (
                    index,
                    execute(&suite, step, &client, prepared, version).await,
                )
            });
            done.push(None);
            continue;
        }
        let (outcome, n) = execute(suite, step, &client, prepared, options.version).await;
        requests += n;
        if !matches!(outcome.result, StepResult::Passed) {
            stop = Some(format!("step `{}` did not pass", step.name));
        }
        for (name, value) in &outcome.captures {
            vars.insert(name.clone(), value.clone());
        }
        if let (Some(answer), Some(device)) = (&outcome.answer, devices.get_mut(&step.device)) {
            track(device, step, answer);
        }
        done.push(Some(outcome));
    }
    while let Some(joined) = background.join_next().await {
        match joined {
            Ok((index, (outcome, n))) => {
                requests += n;
                if let Some(slot) = done.get_mut(index) {
                    *slot = Some(outcome);
                }
            }
            Err(e) => tracing::error!("a background step failed: {e}"),
        }
    }

    // Snapshots, in step order.
    let mut normalizer = Normalizer::new().redact_run_id(&options.run_id);
    let mut steps = Vec::with_capacity(done.len());
    let mut failed = false;
    let mut errored_why = None;
    for (step, outcome) in suite.steps.iter().zip(done) {
        let Some(mut outcome) = outcome else {
            continue;
        };
        let mut snapshot = SnapshotOutcome::None;
        if let Some(answer) = &outcome.answer {
            let view = ResponseView {
                status: answer.response.status,
                headers: &answer.response.headers,
                body: &answer.response.body,
            };
            let shot = normalizer.snapshot(&view, options.version, &step.snapshot.redact);
            if let Some(exchange) = &mut outcome.exchange {
                exchange.response = shot.text.clone();
            }
            if !step.snapshot.disabled
                && let Some(store) = snapshots
            {
                snapshot = match store.check(&suite.id, &suite.file, &step.name, &shot.text) {
                    Ok(s) => s,
                    Err(e) => {
                        outcome.result = StepResult::Error(format!("snapshot file: {e}"));
                        SnapshotOutcome::None
                    }
                };
                let mismatch = match &snapshot {
                    SnapshotOutcome::Changed { file, .. } => {
                        Some(format!("the response differs from {}", file.display()))
                    }
                    // Checking (CI): a snapshot nobody has reviewed yet.
                    SnapshotOutcome::New {
                        file,
                        written: false,
                    } => Some(format!("no recorded snapshot {}", file.display())),
                    _ => None,
                };
                if let Some(message) = mismatch {
                    let failure = Failure {
                        location: suite.location(step.span.start),
                        expectation: "snapshot".to_string(),
                        message,
                    };
                    match &mut outcome.result {
                        StepResult::Failed(list) => list.push(failure),
                        StepResult::Passed => outcome.result = StepResult::Failed(vec![failure]),
                        _ => {}
                    }
                }
            }
        }
        match &outcome.result {
            StepResult::Failed(_) => failed = true,
            StepResult::Error(why) if errored_why.is_none() => {
                errored_why = Some(format!("step `{}`: {why}", step.name));
            }
            _ => {}
        }
        steps.push(StepOutcome {
            name: step.name.clone(),
            location: suite.location(step.span.start),
            result: outcome.result,
            duration: outcome.duration,
            exchange: outcome.exchange,
            snapshot,
        });
    }

    // Remove what the suite created, so it can run again on a lab account.
    // Every device's items first, then the folders: a folder may hold
    // items another device added.
    let mut cleanup_errors = Vec::new();
    let mut names: Vec<&String> = devices.keys().collect();
    names.sort();
    for phase in [Cleanup::Items, Cleanup::Folders] {
        for name in &names {
            match cleanup(&devices[*name], phase, options.version).await {
                Ok(n) => requests += n,
                Err(e) => cleanup_errors.push(format!("device {name}: {e}")),
            }
        }
    }
    if !cleanup_errors.is_empty() {
        steps.push(StepOutcome {
            name: "cleanup".to_string(),
            location: suite.location(0),
            result: StepResult::Error(cleanup_errors.join("; ")),
            duration: Duration::ZERO,
            exchange: None,
            snapshot: SnapshotOutcome::None,
        });
    }

    let status = match errored_why {
        Some(why) => SuiteStatus::Error(why),
        None if failed => SuiteStatus::Failed,
        None if !cleanup_errors.is_empty() => {
            SuiteStatus::Error(format!("cleanup: {}", cleanup_errors.join("; ")))
        }
        None => SuiteStatus::Passed,
    };
    (
        SuiteOutcome {
            id: suite.id.clone(),
            name: suite.name.clone(),
            file: suite.file.clone(),
            status,
            steps,
            duration: started.elapsed(),
        },
        requests,
    )
}

/// A DeviceId for a suite's device: alphanumeric, at most 32 characters
/// (MS-ASHTTP), different per suite, device and run.
pub fn device_id(run_id: &str, suite_id: &str, device: &str) -> String {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in run_id
        .bytes()
        .chain([0])
        .chain(suite_id.bytes())
        .chain([0])
        .chain(device.bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3);
    }
    format!("eastest{h:016x}")
}

/// Whether the target answers an unprovisioned FolderSync with HTTP 449 or
/// Status 142-144; with the HTTP requests used.
async fn enforces_provisioning(
    target: &Target,
    options: &RunOptions,
) -> Result<(bool, usize), String> {
    let mut config = ClientConfig::new(
        target.url.clone(),
        target.user.clone(),
        target.password.clone(),
        device_id(&options.run_id, "probe", "provisioning"),
        options.version,
    );
    config.query_form = options.query_form;
    config.ca_cert = options.ca_cert.clone();
    config.insecure = options.insecure;
    let client = EasClient::new(config).map_err(|e| e.to_string())?;
    let body = encode(
        "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>",
        &EncodeOptions::strict(options.version),
    )
    .map_err(|e| e.to_string())?;
    let response = client
        .send(Request {
            command: Command::FolderSync,
            params: Vec::new(),
            headers: Vec::new(),
            body: RequestBody::Wbxml(body),
            auto_provision: false,
            timeout: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    let status = root_status(&response, options.version);
    Ok((
        response.status == 449 || matches!(status, Some(142..=144)),
        response.requests,
    ))
}

/// Whether the target profile declares that the server enforces Provision.
fn declared_provisioning(options: &RunOptions) -> Option<bool> {
    options.target_profile.as_ref()?.provisioning
}

/// A step's request, rendered.
struct Prepared {
    request: Request,
    /// For `hook:` steps: the path and query after `/_eastest/`.
    hook: Option<String>,
    options: bool,
    request_line: String,
    request_body: Option<String>,
    /// The variables when the step was prepared, for `{{var}}` in
    /// expectation values.
    vars: HashMap<String, String>,
}

fn prepare(
    suite: &Suite,
    step: &Step,
    vars: &HashMap<String, String>,
    version: ProtocolVersion,
) -> Result<Prepared, String> {
    let lookup = |name: &str| vars.get(name).cloned();
    let render = |t: &crate::suite::Template| {
        t.render(lookup).map_err(|e| {
            let at = suite.location(t.span.start);
            format!("{}:{}:{}: {e}", suite.file.display(), at.line, at.column)
        })
    };
    let mut params = Vec::new();
    for (name, value) in &step.params {
        params.push((name.clone(), render(value)?));
    }
    let mut headers = Vec::new();
    for (name, value) in &step.headers {
        headers.push((name.clone(), render(value)?));
    }
    let (body, request_body) = match &step.body {
        None => (RequestBody::None, None),
        Some(Body::Xml(t)) => {
            let xml = render(t)?;
            let bytes = encode(&xml, &EncodeOptions::strict(version))
                .map_err(|e| format!("the body does not encode for {version}: {e}"))?;
            (RequestBody::Wbxml(bytes), Some(xml))
        }
        Some(Body::Raw(t)) => {
            let text = render(t)?;
            let content_type = match &step.action {
                Action::Command(_) => "message/rfc822",
                _ => "text/plain; charset=utf-8",
            };
            (
                RequestBody::Raw {
                    content_type: content_type.to_string(),
                    bytes: text.clone().into_bytes(),
                },
                Some(text),
            )
        }
    };
    let (command, hook, options, line) = match &step.action {
        Action::Command(c) => (*c, None, false, format!("POST {c}")),
        Action::Options => (Command::FolderSync, None, true, "OPTIONS".to_string()),
        Action::Hook(path) => {
            let path = render(&crate::suite::Template {
                text: path.clone(),
                span: step.span,
            })?;
            let line = format!("POST /_eastest/{path}");
            (Command::FolderSync, Some(path), false, line)
        }
    };
    Ok(Prepared {
        request: Request {
            command,
            params,
            headers,
            body,
            auto_provision: step.provision,
            timeout: None,
        },
        hook,
        options,
        request_line: format!("{line} ({version}, device {})", step.device),
        request_body,
        vars: vars.clone(),
    })
}

/// Sends a step (with its retries) and checks it: the outcome without the
/// snapshot, and the HTTP requests used.
async fn execute(
    suite: &Suite,
    step: &Step,
    client: &EasClient,
    prepared: Prepared,
    version: ProtocolVersion,
) -> (Done, usize) {
    let started = Instant::now();
    let attempts = step.retry.map_or(1, |r| r.times.max(1));
    let interval = Duration::from_millis(step.retry.map_or(0, |r| r.interval_ms));
    let mut requests = 0;
    let mut last = None;
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(interval).await;
        }
        let sent = if prepared.options {
            client.options().await
        } else if let Some(path) = &prepared.hook {
            let body = match &prepared.request.body {
                RequestBody::Raw { bytes, .. } => bytes.clone(),
                RequestBody::Wbxml(bytes) => bytes.clone(),
                RequestBody::None => Vec::new(),
            };
            client.hook(path, body).await
        } else {
            client.send(clone_request(&prepared.request)).await
        };
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                return (
                    Done {
                        result: StepResult::Error(e.to_string()),
                        duration: started.elapsed(),
                        exchange: Some(Exchange {
                            request_line: prepared.request_line.clone(),
                            request_body: prepared.request_body.clone(),
                            http_status: 0,
                            response: String::new(),
                        }),
                        answer: None,
                        captures: Vec::new(),
                    },
                    requests,
                );
            }
        };
        requests += response.requests;
        let tree = decode(&response, version);
        let mut failures = check(suite, step, &response, tree.as_ref(), &prepared.vars);
        // A body that decodes only leniently (a tag unknown in this
        // version, a page that does not exist) still gives a snapshot that
        // shows it, and fails the step.
        if let Some(why) = strictly_invalid(&response, version) {
            failures.push(Failure {
                location: suite.location(step.span.start),
                expectation: format!("a valid WBXML response for {version}"),
                message: why,
            });
        }
        let mut captures = Vec::new();
        // An accepted empty answer (`empty-ok`) leaves the captures' values
        // as they were: nothing changed on the server.
        let empty_answer = step.empty_ok && response.status == 200 && response.body.is_empty();
        if failures.is_empty() && !empty_answer {
            for capture in &step.captures {
                let selected = tree
                    .as_ref()
                    .map(|t| capture.path.select(t))
                    .unwrap_or_default();
                match selected.first() {
                    Some(e) => captures.push((capture.variable.clone(), captured_text(e))),
                    None => failures.push(Failure {
                        location: suite.location(capture.span.start),
                        expectation: source_text(suite, capture.span),
                        message: format!(
                            "capture `{}`: nothing at {}",
                            capture.variable,
                            capture.path.as_str()
                        ),
                    }),
                }
            }
        }
        let result = if failures.is_empty() {
            StepResult::Passed
        } else {
            StepResult::Failed(failures)
        };
        let passed = matches!(result, StepResult::Passed);
        last = Some(Done {
            result,
            duration: started.elapsed(),
            exchange: Some(Exchange {
                request_line: prepared.request_line.clone(),
                request_body: prepared.request_body.clone(),
                http_status: response.status,
                response: String::new(),
            }),
            answer: Some(Answer { response, tree }),
            captures,
        });
        if passed {
            break;
        }
    }
    let mut done = last.unwrap_or(Done {
        result: StepResult::Error("not sent".to_string()),
        duration: Duration::ZERO,
        exchange: None,
        answer: None,
        captures: Vec::new(),
    });
    done.duration = started.elapsed();
    (done, requests)
}

fn clone_request(r: &Request) -> Request {
    Request {
        command: r.command,
        params: r.params.clone(),
        headers: r.headers.clone(),
        body: match &r.body {
            RequestBody::None => RequestBody::None,
            RequestBody::Wbxml(b) => RequestBody::Wbxml(b.clone()),
            RequestBody::Raw {
                content_type,
                bytes,
            } => RequestBody::Raw {
                content_type: content_type.clone(),
                bytes: bytes.clone(),
            },
        },
        auto_provision: r.auto_provision,
        timeout: r.timeout,
    }
}

/// What a capture takes from an element: its text, trimmed, or for opaque
/// content (a ConversationId) its base64, the form a body's
/// `opaque="base64"` element takes back.
fn captured_text(e: &Element) -> String {
    use base64::Engine as _;
    match e.opaque() {
        Some(bytes) => base64::engine::general_purpose::STANDARD.encode(bytes),
        None => e.text().trim().to_string(),
    }
}

/// The response body as a tree, when it is WBXML (decoded leniently, so an
/// unknown tag still gives a tree; the snapshot shows it).
fn decode(response: &Response, version: ProtocolVersion) -> Option<Element> {
    let wbxml = response
        .header("content-type")
        .is_some_and(|t| t.starts_with(WBXML));
    if !wbxml || response.body.is_empty() {
        return None;
    }
    super::normalize::tree(&response.body, version).ok()
}

/// Why a WBXML response is not valid for `version` (strict decoding), if it
/// is not.
fn strictly_invalid(response: &Response, version: ProtocolVersion) -> Option<String> {
    let wbxml = response
        .header("content-type")
        .is_some_and(|t| t.starts_with(WBXML));
    if !wbxml || response.body.is_empty() {
        return None;
    }
    Element::from_wbxml(&response.body, &DecodeOptions::strict(version))
        .err()
        .map(|e| format!("not valid WBXML for {version}: {e}"))
}

fn root_status(response: &Response, version: ProtocolVersion) -> Option<u32> {
    decode(response, version)?
        .child_text("Status")?
        .trim()
        .parse()
        .ok()
}

fn source_text(suite: &Suite, span: crate::suite::Span) -> String {
    suite
        .source
        .get(span.start..span.end)
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The step's HTTP status and expectations against the answer.
fn check(
    suite: &Suite,
    step: &Step,
    response: &Response,
    tree: Option<&Element>,
    vars: &HashMap<String, String>,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    if response.status != step.http {
        failures.push(Failure {
            location: suite.location(step.http_span.start.max(step.span.start)),
            expectation: format!("HTTP {}", step.http),
            message: format!("got HTTP {}", response.status),
        });
        // Expectations on the body mean little for a body that is not the
        // one expected.
        return failures;
    }
    if step.empty_ok && response.status == 200 && response.body.is_empty() {
        return failures;
    }
    let interpolate = |text: &str| -> String {
        crate::suite::Template {
            text: text.to_string(),
            span: crate::suite::Span::default(),
        }
        .render(|name| vars.get(name).cloned())
        .unwrap_or_else(|_| text.to_string())
    };
    for expectation in &step.expect {
        if let Some(message) = evaluate(expectation, tree, scope_of(&step.action), &interpolate) {
            failures.push(Failure {
                location: suite.location(expectation.span.start),
                expectation: source_text(suite, expectation.span),
                message,
            });
        }
    }
    failures
}

/// The status table a step's `status =` expectations are named from.
fn scope_of(action: &Action) -> StatusScope {
    match action {
        Action::Command(Command::Sync) => StatusScope::Sync,
        Action::Command(Command::FolderSync) => StatusScope::FolderSync,
        Action::Command(Command::FolderCreate) => StatusScope::FolderCreate,
        Action::Command(Command::FolderDelete) => StatusScope::FolderDelete,
        Action::Command(Command::FolderUpdate) => StatusScope::FolderUpdate,
        Action::Command(Command::Ping) => StatusScope::Ping,
        Action::Command(Command::Provision) => StatusScope::Provision,
        _ => StatusScope::Common,
    }
}

/// `None` if the expectation holds, else what came back. `interpolate`
/// resolves `{{var}}` in the expected values.
pub fn evaluate(
    expectation: &Expectation,
    tree: Option<&Element>,
    scope: StatusScope,
    interpolate: &dyn Fn(&str) -> String,
) -> Option<String> {
    let path = expectation.path.as_str();
    let Some(tree) = tree else {
        return Some(format!("no WBXML body to look for {path} in"));
    };
    let selected = expectation.path.select(tree);
    let texts: Vec<String> = selected
        .iter()
        .map(|e| e.text().trim().to_string())
        .collect();
    let one = || -> Result<&str, String> {
        match texts.as_slice() {
            [one] => Ok(one.as_str()),
            [] => Err(format!("nothing at {path}")),
            many => Err(format!("{} elements at {path}, expected one", many.len())),
        }
    };
    match &expectation.predicate {
        Predicate::Exists(true) => texts.is_empty().then(|| format!("nothing at {path}")),
        Predicate::Exists(false) => (!texts.is_empty())
            .then(|| format!("{} element(s) at {path}: `{}`", texts.len(), texts[0])),
        Predicate::Equals(want) => {
            let want = interpolate(want);
            match one() {
                Err(e) => Some(e),
                Ok(got) => (got != want).then(|| format!("got `{got}`, expected `{want}`")),
            }
        }
        Predicate::Matches(re) => match one() {
            Err(e) => Some(e),
            Ok(got) => (!re.is_match(got)).then(|| format!("`{got}` does not match /{re}/")),
        },
        Predicate::Count(n) => (texts.len() != *n)
            .then(|| format!("{} element(s) at {path}, expected {n}", texts.len())),
        Predicate::Status(want) => match one() {
            Err(e) => Some(e),
            Ok(got) => match got.parse::<u32>() {
                Ok(code) if code == *want => None,
                Ok(code) => Some(format!(
                    "got {}, expected {}",
                    describe(scope, code),
                    describe(scope, *want)
                )),
                Err(_) => Some(format!("got `{got}`, expected {}", describe(scope, *want))),
            },
        },
        Predicate::Contains(wanted) => {
            let wanted: Vec<String> = wanted.iter().map(|w| interpolate(w)).collect();
            let missing: Vec<&str> = wanted
                .iter()
                .filter(|w| !texts.contains(w))
                .map(String::as_str)
                .collect();
            (!missing.is_empty())
                .then(|| format!("missing {} (found {})", list(&missing), list_owned(&texts)))
        }
        Predicate::Excludes(unwanted) => {
            let unwanted: Vec<String> = unwanted.iter().map(|w| interpolate(w)).collect();
            let present: Vec<&str> = unwanted
                .iter()
                .filter(|u| texts.contains(u))
                .map(String::as_str)
                .collect();
            (!present.is_empty()).then(|| format!("unexpected {}", list(&present)))
        }
        Predicate::Only(allowed) => {
            let allowed: Vec<String> = allowed.iter().map(|w| interpolate(w)).collect();
            let extra: Vec<&str> = texts
                .iter()
                .filter(|t| !allowed.contains(t))
                .map(String::as_str)
                .collect();
            (!extra.is_empty()).then(|| format!("not allowed: {}", list(&extra)))
        }
    }
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        return "nothing".to_string();
    }
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_owned(items: &[String]) -> String {
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    list(&refs)
}

/// Records what a response tells the cleanup: keys, added items, new folders.
fn track(device: &mut Device, step: &Step, answer: &Answer) {
    let Some(tree) = &answer.tree else {
        return;
    };
    let Action::Command(command) = step.action else {
        return;
    };
    match command {
        Command::Sync => {
            for collection in tree
                .child("Collections")
                .into_iter()
                .flat_map(|c| c.elements_named("Collection"))
            {
                let Some(id) = collection.child_text("CollectionId") else {
                    continue;
                };
                if let Some(key) = collection.child_text("SyncKey") {
                    device.sync_keys.insert(id.clone(), key);
                }
                for add in collection
                    .child("Responses")
                    .into_iter()
                    .flat_map(|r| r.elements_named("Add"))
                {
                    if add.child_text("Status").as_deref() == Some("1")
                        && let Some(server_id) = add.child_text("ServerId")
                    {
                        device.items.push((id.clone(), server_id));
                    }
                }
            }
        }
        Command::FolderSync
        | Command::FolderCreate
        | Command::FolderUpdate
        | Command::FolderDelete => {
            if let Some(key) = tree.child_text("SyncKey") {
                device.folder_key = Some(key);
            }
            if command == Command::FolderCreate
                && tree.child_text("Status").as_deref() == Some("1")
                && let Some(id) = tree.child_text("ServerId")
            {
                device.folders.push(id);
            }
        }
        _ => {}
    }
}

/// Deletes the items and folders a device created; the HTTP requests used.
/// Items already gone (Status 8) are fine.
/// The two passes of the cleanup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cleanup {
    Items,
    Folders,
}

async fn cleanup(
    device: &Device,
    phase: Cleanup,
    version: ProtocolVersion,
) -> Result<usize, String> {
    let mut requests = 0;
    let mut problems = Vec::new();
    if phase == Cleanup::Folders {
        return cleanup_folders(device, version).await;
    }
    let mut by_collection: HashMap<&str, Vec<&str>> = HashMap::new();
    for (collection, item) in &device.items {
        by_collection.entry(collection).or_default().push(item);
    }
    let mut collections: Vec<_> = by_collection.into_iter().collect();
    collections.sort();
    for (collection, items) in collections {
        // Items of a folder the suite created go first too: some servers
        // refuse to delete a folder that still holds items (SOGo answers
        // FolderDelete of a non-empty address book with HTTP 500).
        let known = device
            .sync_keys
            .get(collection)
            .filter(|k| k.as_str() != "0")
            .cloned();
        match delete_items(device, collection, &items, known, version).await {
            Ok(n) => requests += n,
            Err(why) => problems.push(why),
        }
    }
    if problems.is_empty() {
        Ok(requests)
    } else {
        Err(problems.join("; "))
    }
}

/// Deletes the folders the device created, newest first.
async fn cleanup_folders(device: &Device, version: ProtocolVersion) -> Result<usize, String> {
    let mut requests = 0;
    let mut problems = Vec::new();
    let mut key = device.folder_key.clone().filter(|k| k != "0");
    for folder in device.folders.iter().rev() {
        // A key the server refuses (Status 9), or none at all: take a fresh
        // one with FolderSync 0 and try once more.
        for attempt in 0..2 {
            let current = match key.clone() {
                Some(k) if attempt == 0 => k,
                _ => match fresh_folder_key(device, version).await {
                    Ok((k, n)) => {
                        requests += n;
                        k
                    }
                    Err(why) => {
                        problems.push(why);
                        break;
                    }
                },
            };
            let xml = format!(
                "<FolderDelete xmlns=\"FolderHierarchy:\"><SyncKey>{current}</SyncKey>\
                 <ServerId>{folder}</ServerId></FolderDelete>"
            );
            let response = match send_cleanup(device, Command::FolderDelete, &xml, version).await {
                Ok(r) => r,
                Err(why) => {
                    problems.push(format!("folder {folder}: {why}"));
                    break;
                }
            };
            requests += response.requests;
            let tree = decode(&response, version);
            let status = tree.as_ref().and_then(|t| t.child_text("Status"));
            key = tree
                .as_ref()
                .and_then(|t| t.child_text("SyncKey"))
                .or(Some(current));
            match status.as_deref() {
                Some("1") | Some("4") => break, // deleted, or already gone
                Some("9") if attempt == 0 => key = None,
                other => {
                    problems.push(format!(
                        "folder {folder}: FolderDelete answered Status {}",
                        other.unwrap_or("(none)")
                    ));
                    break;
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(requests)
    } else {
        Err(problems.join("; "))
    }
}

/// Deletes `items` from `collection` with the key the suite last saw; when
/// there is none usable (the suite ended on Status 3, or never synced the
/// collection) or the server refuses it, the collection is synced from key
/// 0 first (and fully downloaded, as a client would) and the delete sent
/// again. Items the server no longer has (Status 8) count as deleted.
async fn delete_items(
    device: &Device,
    collection: &str,
    items: &[&str],
    known: Option<String>,
    version: ProtocolVersion,
) -> Result<usize, String> {
    let mut requests = 0;
    let mut key = known;
    for attempt in 0..2 {
        let current = match key.clone() {
            Some(k) if attempt == 0 => k,
            _ => {
                let (k, n) = primed_sync_key(device, collection, version).await?;
                requests += n;
                k
            }
        };
        let mut xml = format!(
            "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>{current}</SyncKey>\
             <CollectionId>{collection}</CollectionId><DeletesAsMoves>0</DeletesAsMoves>\
             <GetChanges>0</GetChanges><Commands>"
        );
        for item in items {
            xml.push_str(&format!("<Delete><ServerId>{item}</ServerId></Delete>"));
        }
        xml.push_str("</Commands></Collection></Collections></Sync>");
        let response = send_cleanup(device, Command::Sync, &xml, version).await?;
        requests += response.requests;
        let tree = decode(&response, version);
        let found = tree
            .as_ref()
            .and_then(|t| t.child("Collections"))
            .and_then(|c| c.child("Collection"));
        // A collection that is gone (Status 8 or 12, in the collection or
        // for the whole Sync) took its items with it.
        let status = found
            .and_then(|c| c.child_text("Status"))
            .or_else(|| tree.as_ref().and_then(|t| t.child_text("Status")));
        match status.as_deref() {
            Some("8") | Some("12") => return Ok(requests),
            Some("1") => {
                let failed: Vec<String> = found
                    .and_then(|c| c.child("Responses"))
                    .map(|r| {
                        r.elements_named("Delete")
                            .filter_map(|d| {
                                let s = d.child_text("Status")?;
                                (s != "1" && s != "8").then(|| {
                                    format!(
                                        "{} (Status {s})",
                                        d.child_text("ServerId").unwrap_or_default()
                                    )
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                return if failed.is_empty() {
                    Ok(requests)
                } else {
                    Err(format!(
                        "collection {collection}: not deleted: {}",
                        failed.join(", ")
                    ))
                };
            }
            Some("3") if attempt == 0 => key = None,
            other => {
                return Err(format!(
                    "collection {collection}: the delete Sync answered Status {}",
                    other.unwrap_or("(none)")
                ));
            }
        }
    }
    Err(format!("collection {collection}: no usable SyncKey"))
}

/// A SyncKey for `collection` from key 0, after downloading what the
/// server has (some servers only accept changes once the client holds the
/// collection's contents), bounded to 50 windows.
async fn primed_sync_key(
    device: &Device,
    collection: &str,
    version: ProtocolVersion,
) -> Result<(String, usize), String> {
    let mut requests = 0;
    let mut key = "0".to_string();
    for _ in 0..50 {
        let xml = format!(
            "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>{key}</SyncKey>\
             <CollectionId>{collection}</CollectionId><WindowSize>512</WindowSize>\
             </Collection></Collections></Sync>"
        );
        let response = send_cleanup(device, Command::Sync, &xml, version).await?;
        requests += response.requests;
        // An empty Sync response: nothing more to download.
        let Some(tree) = decode(&response, version) else {
            break;
        };
        let found = tree
            .child("Collections")
            .and_then(|c| c.child("Collection"))
            .ok_or_else(|| format!("collection {collection}: Sync answered no Collection"))?;
        let status = found.child_text("Status").unwrap_or_default();
        if status != "1" {
            return Err(format!(
                "collection {collection}: Sync from key 0 answered Status {status}"
            ));
        }
        let was_initial = key == "0";
        key = found.child_text("SyncKey").unwrap_or(key);
        if !was_initial && found.child("MoreAvailable").is_none() {
            break;
        }
    }
    Ok((key, requests))
}

/// A fresh folder hierarchy key (FolderSync 0).
async fn fresh_folder_key(
    device: &Device,
    version: ProtocolVersion,
) -> Result<(String, usize), String> {
    let xml = "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>";
    let response = send_cleanup(device, Command::FolderSync, xml, version).await?;
    let key = decode(&response, version)
        .and_then(|t| t.child_text("SyncKey"))
        .ok_or("FolderSync 0 answered no SyncKey")?;
    Ok((key, response.requests))
}

/// Sends one cleanup request; an answer other than HTTP 200 is an error.
async fn send_cleanup(
    device: &Device,
    command: Command,
    xml: &str,
    version: ProtocolVersion,
) -> Result<Response, String> {
    let body = encode(xml, &EncodeOptions::strict(version)).map_err(|e| e.to_string())?;
    let response = device
        .client
        .send(Request {
            command,
            params: Vec::new(),
            headers: Vec::new(),
            body: RequestBody::Wbxml(body),
            auto_provision: true,
            timeout: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!("{command} answered HTTP {}", response.status));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::{Path, Span};

    fn sync_response() -> Element {
        let xml = "<Sync xmlns=\"AirSync:\"><Collections><Collection>\
                   <SyncKey>7</SyncKey><CollectionId>8</CollectionId><Status>4</Status>\
                   <Commands><Add><ServerId>8:1</ServerId></Add><Add><ServerId>8:2</ServerId></Add>\
                   </Commands></Collection></Collections></Sync>";
        let bytes = encode(xml, &EncodeOptions::strict(ProtocolVersion::V14_1)).unwrap();
        Element::from_wbxml(&bytes, &DecodeOptions::strict(ProtocolVersion::V14_1)).unwrap()
    }

    fn check(path: &str, predicate: Predicate) -> Option<String> {
        let expectation = Expectation {
            path: Path::parse(path).unwrap(),
            predicate,
            span: Span::default(),
        };
        let vars: HashMap<String, String> = [("id".to_string(), "8:2".to_string())].into();
        let interpolate = |text: &str| {
            crate::suite::Template {
                text: text.to_string(),
                span: Span::default(),
            }
            .render(|name| vars.get(name).cloned())
            .unwrap_or_else(|_| text.to_string())
        };
        evaluate(
            &expectation,
            Some(&sync_response()),
            StatusScope::Sync,
            &interpolate,
        )
    }

    const STATUS: &str = "//AirSync:Collection/AirSync:Status";
    const IDS: &str = "//AirSync:Add/AirSync:ServerId";

    #[test]
    fn every_predicate_passes_and_fails_with_what_came_back() {
        assert_eq!(check(STATUS, Predicate::Exists(true)), None);
        assert_eq!(
            check("//AirSync:MoreAvailable", Predicate::Exists(true)).as_deref(),
            Some("nothing at //AirSync:MoreAvailable")
        );
        assert_eq!(
            check("//AirSync:MoreAvailable", Predicate::Exists(false)),
            None
        );
        assert_eq!(
            check(STATUS, Predicate::Exists(false)).as_deref(),
            Some("1 element(s) at //AirSync:Collection/AirSync:Status: `4`")
        );
        assert_eq!(check(STATUS, Predicate::Equals("4".into())), None);
        assert_eq!(
            check(STATUS, Predicate::Equals("1".into())).as_deref(),
            Some("got `4`, expected `1`")
        );
        assert_eq!(
            check(IDS, Predicate::Equals("8:1".into())).as_deref(),
            Some("2 elements at //AirSync:Add/AirSync:ServerId, expected one")
        );
        let re = regex::Regex::new(r"^\d+$").unwrap();
        assert_eq!(check(STATUS, Predicate::Matches(re.clone())), None);
        assert_eq!(
            check(
                "//AirSync:CollectionId",
                Predicate::Matches(regex::Regex::new("^x").unwrap())
            )
            .as_deref(),
            Some("`8` does not match /^x/")
        );
        assert_eq!(check(IDS, Predicate::Count(2)), None);
        assert_eq!(
            check(IDS, Predicate::Count(3)).as_deref(),
            Some("2 element(s) at //AirSync:Add/AirSync:ServerId, expected 3")
        );
        assert_eq!(check(STATUS, Predicate::Status(4)), None);
        assert_eq!(
            check(STATUS, Predicate::Status(1)).as_deref(),
            Some("got Status 4 (ProtocolError), expected Status 1 (Success)")
        );
        assert_eq!(check(IDS, Predicate::Contains(vec!["{{id}}".into()])), None);
        assert_eq!(
            check(IDS, Predicate::Contains(vec!["8:3".into()])).as_deref(),
            Some("missing `8:3` (found `8:1`, `8:2`)")
        );
        assert_eq!(check(IDS, Predicate::Excludes(vec!["8:3".into()])), None);
        assert_eq!(
            check(IDS, Predicate::Excludes(vec!["{{id}}".into()])).as_deref(),
            Some("unexpected `8:2`")
        );
        assert_eq!(
            check(IDS, Predicate::Only(vec!["8:1".into(), "8:2".into()])),
            None
        );
        assert_eq!(
            check(IDS, Predicate::Only(vec!["8:1".into()])).as_deref(),
            Some("not allowed: `8:2`")
        );
    }

    #[test]
    fn without_a_wbxml_body_an_expectation_fails() {
        let expectation = Expectation {
            path: Path::parse(STATUS).unwrap(),
            predicate: Predicate::Exists(true),
            span: Span::default(),
        };
        let message = evaluate(&expectation, None, StatusScope::Sync, &|t: &str| {
            t.to_string()
        });
        assert_eq!(
            message.as_deref(),
            Some("no WBXML body to look for //AirSync:Collection/AirSync:Status in")
        );
    }

    #[test]
    fn device_ids_are_valid_and_distinct() {
        let a = device_id("1", "sync/contacts", "main");
        let b = device_id("1", "sync/contacts", "tablet");
        let c = device_id("2", "sync/contacts", "main");
        for id in [&a, &b, &c] {
            assert!(
                id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{id}"
            );
        }
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, device_id("1", "sync/contacts", "main"));
    }
}
