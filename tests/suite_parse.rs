//! Loading suite files: the validated model, and one test per kind of load
//! error, each asserting the exact one-line message (`file:line:column:
//! message; hint`) users meet first.

use std::path::{Path as FsPath, PathBuf};

use eastest::protocol::{Command, ProtocolVersion};
use eastest::suite::{
    Action, Body, Path, Predicate, Requirement, Span, SuiteError, Template, discover, load, parse,
};
use eastest::wbxml::{DecodeOptions, Element, EncodeOptions, encode};

const FILE: &str = "suites/t.toml";

fn parse_err(source: &str) -> SuiteError {
    match parse(source, FsPath::new(FILE), "t") {
        Ok(_) => panic!("expected an error for:\n{source}"),
        Err(e) => e,
    }
}

/// The one-line form of a file with exactly one error.
fn err(source: &str) -> String {
    let e = parse_err(source);
    assert_eq!(e.diagnostics().len(), 1, "{:#?}", e.lines());
    e.to_string()
}

/// A valid suite head, then `rest` (line 4 onwards).
fn step(rest: &str) -> String {
    format!("name = \"t\"\n[[step]]\ncommand = \"FolderSync\"\n{rest}")
}

// ---------------------------------------------------------------- the model

const FULL: &str = r#"name = "Contacts Sync keeps ghosted properties"
description = """
A Change that omits a property must leave the server's value alone."""
tags = ["sync", "contacts"]
references = ["MS-ASCMD R5911"]
versions = ">=14.0"
requires = ["FolderSync", "Sync", "test-hooks"]
devices = ["tablet"]

[vars]
first = "Ann"
alpha = "z"

[[step]]
name = "hierarchy"
command = "FolderSync"
body = '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'
expect = [
  { path = "/FolderHierarchy:FolderSync/FolderHierarchy:Status", status = 1 },
  { path = "//FolderHierarchy:Add", count = 12 },
]
capture = { contacts = "//FolderHierarchy:Add[FolderHierarchy:Type='9']/FolderHierarchy:ServerId" }

[[step]]
command = "Sync"
device = "tablet"
provision = false
http = 449
body = """
<Sync xmlns="AirSync:" xmlns:contacts="Contacts:">
  <Collections><Collection>
    <SyncKey>0</SyncKey><CollectionId>{{contacts}}</CollectionId>
    <Supported><contacts:JobTitle/></Supported>
  </Collection></Collections>
</Sync>"""
params = { SaveInSent = "T", ItemId = "{{contacts}}:1" }
headers = { X-Test = "{{run_id}}-{{first}}" }
expect = [
  { path = "//AirSync:Collection/AirSync:Status", exists = true },
  { path = "//AirSync:SyncKey", equals = "1" },
  { path = "//AirSync:SyncKey", matches = "^[0-9]+$" },
  { path = "//AirSync:Class", contains = ["Contacts"] },
  { path = "//AirSync:Class", excludes = ["Email"] },
  { path = "//AirSync:Class", only = ["Contacts", "Calendar"] },
]
capture = { key = "//AirSync:Collection/AirSync:SyncKey" }
snapshot = { redact = ["//AirSync:SyncKey"] }
retry = { times = 5, interval-ms = 500 }
background = true
delay-ms = 250

[[step]]
command = "OPTIONS"
snapshot = false

[[step]]
command = "hook:deliver?user={{user}}"
mime = "Subject: {{key}} {{version}} {{device_id}}"
retry = { times = 2 }
"#;

#[test]
fn a_full_suite_parses_into_the_model() {
    let suite = parse(FULL, FsPath::new(FILE), "sync/ghosting").unwrap();
    assert_eq!(suite.id, "sync/ghosting");
    assert_eq!(suite.file, PathBuf::from(FILE));
    assert_eq!(&*suite.source, FULL);
    assert_eq!(suite.name, "Contacts Sync keeps ghosted properties");
    assert_eq!(
        suite.description,
        "A Change that omits a property must leave the server's value alone."
    );
    assert_eq!(suite.tags, ["sync", "contacts"]);
    assert_eq!(suite.references, ["MS-ASCMD R5911"]);
    assert_eq!(suite.versions_text, ">=14.0");
    assert_eq!(suite.versions.to_string(), "14.0, 14.1, 16.0, 16.1");
    assert!(!suite.versions.contains(ProtocolVersion::V12_1));
    assert_eq!(
        suite.requires,
        [
            Requirement::Command(Command::FolderSync),
            Requirement::Command(Command::Sync),
            Requirement::TestHooks
        ]
    );
    // File order, not alphabetical.
    assert_eq!(
        suite.vars,
        [
            ("first".to_string(), "Ann".to_string()),
            ("alpha".to_string(), "z".to_string())
        ]
    );
    assert_eq!(suite.devices, ["tablet"]);
    assert_eq!(suite.steps.len(), 4);

    let s = &suite.steps[0];
    assert_eq!(s.name, "hierarchy");
    assert_eq!(s.action, Action::Command(Command::FolderSync));
    assert_eq!(s.device, "main");
    assert!(s.provision);
    assert_eq!(s.http, 200);
    assert_eq!(suite.location(s.span.start).line, 14);
    assert!(!s.background);
    assert_eq!(s.delay_ms, 0);
    assert!(s.retry.is_none());
    assert!(!s.snapshot.disabled && s.snapshot.redact.is_empty());
    let Some(Body::Xml(body)) = &s.body else {
        panic!("{:?}", s.body)
    };
    assert!(body.text.starts_with("<FolderSync"));
    assert_eq!(&FULL[body.span.start..body.span.start + 12], "'<FolderSync");
    assert_eq!(s.expect.len(), 2);
    assert_eq!(
        s.expect[0].path.as_str(),
        "/FolderHierarchy:FolderSync/FolderHierarchy:Status"
    );
    assert!(matches!(s.expect[0].predicate, Predicate::Status(1)));
    assert!(FULL[s.expect[0].span.start..s.expect[0].span.end].starts_with("{ path"));
    assert!(matches!(s.expect[1].predicate, Predicate::Count(12)));
    assert_eq!(s.captures.len(), 1);
    assert_eq!(s.captures[0].variable, "contacts");
    assert!(FULL[s.captures[0].span.start..].starts_with("contacts = "));

    let s = &suite.steps[1];
    assert_eq!(s.name, "step-2");
    assert_eq!(s.action, Action::Command(Command::Sync));
    assert_eq!(s.device, "tablet");
    assert!(!s.provision);
    assert_eq!(s.http, 449);
    assert_eq!(&FULL[s.http_span.start..s.http_span.end], "449");
    assert_eq!(
        s.params
            .iter()
            .map(|(k, t)| (k.as_str(), t.text.as_str()))
            .collect::<Vec<_>>(),
        [("SaveInSent", "T"), ("ItemId", "{{contacts}}:1")]
    );
    assert_eq!(s.headers[0].0, "X-Test");
    assert_eq!(s.headers[0].1.text, "{{run_id}}-{{first}}");
    let kinds: Vec<&str> = s
        .expect
        .iter()
        .map(|e| match &e.predicate {
            Predicate::Exists(true) => "exists",
            Predicate::Equals(t) if t == "1" => "equals",
            Predicate::Matches(r) if r.is_match("12") && !r.is_match("x") => "matches",
            Predicate::Contains(v) if v == &["Contacts"] => "contains",
            Predicate::Excludes(v) if v == &["Email"] => "excludes",
            Predicate::Only(v) if v == &["Contacts", "Calendar"] => "only",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "exists", "equals", "matches", "contains", "excludes", "only"
        ]
    );
    assert_eq!(s.captures[0].variable, "key");
    assert_eq!(s.snapshot.redact[0].as_str(), "//AirSync:SyncKey");
    let retry = s.retry.unwrap();
    assert_eq!((retry.times, retry.interval_ms), (5, 500));
    assert!(s.background);
    assert_eq!(s.delay_ms, 250);

    let s = &suite.steps[2];
    assert_eq!(s.name, "step-3");
    assert_eq!(s.action, Action::Options);
    assert!(s.snapshot.disabled);
    assert!(s.body.is_none());

    let s = &suite.steps[3];
    assert_eq!(s.action, Action::Hook("deliver?user={{user}}".into()));
    let Some(Body::Raw(mime)) = &s.body else {
        panic!("{:?}", s.body)
    };
    assert_eq!(mime.text, "Subject: {{key}} {{version}} {{device_id}}");
    assert_eq!(s.retry.unwrap().interval_ms, 1000, "the documented default");
}

#[test]
fn defaults_of_a_minimal_suite() {
    let suite = parse(
        "name = \"m\"\n[[step]]\ncommand = \"Ping\"\n",
        FsPath::new(FILE),
        "m",
    )
    .unwrap();
    assert_eq!(suite.versions_text, "*");
    assert_eq!(suite.versions.to_string(), "12.1, 14.0, 14.1, 16.0, 16.1");
    assert!(suite.description.is_empty() && suite.tags.is_empty());
    assert!(suite.requires.is_empty() && suite.vars.is_empty() && suite.devices.is_empty());
    let s = &suite.steps[0];
    assert_eq!(
        (s.name.as_str(), s.device.as_str(), s.http, s.provision),
        ("step-1", "main", 200, true)
    );
    assert!(s.expect.is_empty() && s.captures.is_empty() && s.body.is_none());
}

// ------------------------------------------------------------ TOML and keys

#[test]
fn toml_syntax_errors_use_the_parsers_span() {
    assert_eq!(
        err("name = \"t\nx = 1\n"),
        "suites/t.toml:1:10: TOML syntax: invalid basic string, expected `\"`; close the string; use `'''...'''` for text over several lines"
    );
    let out = parse_err("name = \"t\nx = 1\n").render(false);
    assert!(out.contains("1 │ name = \"t"), "{out}");
    assert!(out.contains('^'), "{out}");
    assert_eq!(
        err("name = hello\n"),
        "suites/t.toml:1:8: TOML syntax: string values must be quoted, expected literal string; quote text values: `key = \"text\"`"
    );
}

#[test]
fn unknown_keys_at_every_level_have_a_did_you_mean() {
    assert_eq!(
        err("nmae = \"t\"\nname = \"t\"\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:1:1: unknown key `nmae` at the top level; did you mean `name`?"
    );
    assert_eq!(
        err(&step("expct = []\n")),
        "suites/t.toml:4:1: unknown key `expct` in a step; did you mean `expect`?"
    );
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//AirSync:Status\", stauts = 1 }]\n"
        )),
        "suites/t.toml:4:40: unknown key `stauts` in an expectation; did you mean `status`?"
    );
    assert_eq!(
        err(&step("retry = { times = 2, interval = 5 }\n")),
        "suites/t.toml:4:22: unknown key `interval` in `retry`; did you mean `interval-ms`?"
    );
    assert_eq!(
        err(&step("snapshot = { redcat = [] }\n")),
        "suites/t.toml:4:14: unknown key `redcat` in `snapshot`; did you mean `redact`?"
    );
    // No close match: the known keys instead.
    let line = err(&step("zzz = 1\n"));
    assert!(
        line.starts_with("suites/t.toml:4:1: unknown key `zzz` in a step; known keys in a step: name, command, device,"),
        "{line}"
    );
}

#[test]
fn a_misspelt_required_key_is_reported_once() {
    assert_eq!(
        err("nmae = \"t\"\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:1:1: unknown key `nmae` at the top level; did you mean `name`?"
    );
    assert_eq!(
        err("name = \"t\"\n[[steps]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:2:3: unknown key `steps` at the top level; did you mean `step`?"
    );
    assert_eq!(
        err("name = \"t\"\n[[step]]\ncomand = \"Ping\"\n"),
        "suites/t.toml:3:1: unknown key `comand` in a step; did you mean `command`?"
    );
    assert_eq!(
        err(&step(
            "expect = [{ pth = \"//AirSync:Status\", exists = true }]\n"
        )),
        "suites/t.toml:4:13: unknown key `pth` in an expectation; did you mean `path`?"
    );
}

#[test]
fn an_empty_file_says_what_is_missing() {
    let e = parse_err("");
    assert_eq!(
        e.lines(),
        [
            "suites/t.toml:1:1: missing `name`; add `name = \"...\"` at the top: the suite's title in reports",
            "suites/t.toml:1:1: the suite has no steps; add a `[[step]]` table with a `command`",
        ]
    );
    let out = e.render(false);
    assert!(
        out.contains("error: missing `name`") && out.contains("error: the suite has no steps"),
        "{out}"
    );
}

#[test]
fn wrong_types_name_the_key_and_both_types() {
    assert_eq!(
        err(&step("http = \"404\"\n")),
        "suites/t.toml:4:8: `http` must be an integer, got a string; remove the quotes: `http = 404`"
    );
    assert_eq!(
        err(&step("provision = \"false\"\n")),
        "suites/t.toml:4:13: `provision` must be a boolean, got a string; remove the quotes: `provision = false`"
    );
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//AirSync:Status\", equals = 1 }]\n"
        )),
        "suites/t.toml:4:49: `equals` must be a string, got an integer; quote it: `equals = \"1\"`"
    );
    assert_eq!(
        err("name = \"t\"\ntags = \"sync\"\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:2:8: `tags` must be an array, got a string"
    );
    assert_eq!(
        err("name = \"t\"\n[vars]\nn = 1\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:3:5: `vars.n` must be a string, got an integer; quote it: `n = \"1\"`"
    );
    assert_eq!(
        err(&step("snapshot = \"no\"\n")),
        "suites/t.toml:4:12: `snapshot` must be a boolean or a table, got a string"
    );
    assert_eq!(
        err("name = \"t\"\n[step]\ncommand = \"Ping\"\n"),
        "suites/t.toml:2:1: `step` must be an array of tables; write `[[step]]` (two brackets), not `[step]`"
    );
    assert_eq!(
        err(&step(
            "expect = { path = \"//AirSync:Status\", exists = true }\n"
        )),
        "suites/t.toml:4:10: `expect` must be an array of tables; write `expect = [{ path = \"...\", exists = true }]`"
    );
}

// --------------------------------------------------------- required values

#[test]
fn name_and_steps_are_required() {
    assert_eq!(
        err("[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:1:1: missing `name`; add `name = \"...\"` at the top: the suite's title in reports"
    );
    assert_eq!(
        err("name = \"t\"\n"),
        "suites/t.toml:1:1: the suite has no steps; add a `[[step]]` table with a `command`"
    );
    assert_eq!(
        err("name = \"a\nb\"\"\"\n[[step]]\ncommand = \"Ping\"\n"
            .replace("\"a", "\"\"\"a")
            .as_str()),
        "suites/t.toml:1:8: `name` must be one line; put the details in `description`"
    );
}

#[test]
fn command_is_required_and_known() {
    assert_eq!(
        err("name = \"t\"\n[[step]]\nname = \"first\"\n"),
        "suites/t.toml:2:1: step `first` has no `command`; add e.g. `command = \"Sync\"`, `command = \"OPTIONS\"` or `command = \"hook:PATH\"`"
    );
    assert_eq!(
        err("name = \"t\"\n[[step]]\ncommand = \"Snyc\"\n"),
        "suites/t.toml:3:11: unknown command `Snyc`; did you mean `Sync`?"
    );
    assert_eq!(
        err("name = \"t\"\n[[step]]\ncommand = \"foldersync\"\n"),
        "suites/t.toml:3:11: unknown command `foldersync`; did you mean `FolderSync`? command names are case-sensitive"
    );
    assert_eq!(
        err("name = \"t\"\n[[step]]\ncommand = \"options\"\n"),
        "suites/t.toml:3:11: unknown command `options`; did you mean `OPTIONS`? command names are case-sensitive"
    );
    assert_eq!(
        err("name = \"t\"\n[[step]]\ncommand = \"hook:deliver\"\n"),
        "suites/t.toml:3:11: a `hook:` step needs `requires = [\"test-hooks\"]`; test hooks exist only on the eastest mock; the requirement makes other targets skip the suite"
    );
    assert_eq!(
        err("name = \"t\"\nrequires = [\"test-hooks\"]\n[[step]]\ncommand = \"hook:/x\"\n"),
        "suites/t.toml:4:17: a hook step needs the hook's path after `hook:`; write e.g. `command = \"hook:deliver\"` (no leading `/`)"
    );
    assert_eq!(
        err(&step("body = '<FolderSync xmlns=\"FolderHierarchy:\"/>'\n")
            .replace("FolderSync\"\n", "OPTIONS\"\n")),
        "suites/t.toml:4:1: an OPTIONS request has no body"
    );
}

// ------------------------------------------------ versions, requires, devices

#[test]
fn versions_errors_point_inside_the_string() {
    let head =
        |v: &str| format!("name = \"t\"\nversions = \"{v}\"\n[[step]]\ncommand = \"Ping\"\n");
    // `versions = "` is 12 characters: the text starts at column 13.
    assert_eq!(
        err(&head("12.1, 14.2")),
        "suites/t.toml:2:19: unknown protocol version `14.2`; known versions: 12.1, 14.0, 14.1, 16.0, 16.1"
    );
    assert_eq!(
        err(&head(">=14")),
        "suites/t.toml:2:15: unknown protocol version `14`; did you mean `14.0`?"
    );
    assert_eq!(
        err(&head("16.0..14.0")),
        "suites/t.toml:2:13: the range `16.0..14.0` is empty: 16.0 comes after 14.0; write `14.0..16.0`"
    );
    assert_eq!(
        err(&head("<12.1")),
        "suites/t.toml:2:13: `versions = \"<12.1\"` selects no version eastest runs; eastest runs 12.1, 14.0, 14.1, 16.0, 16.1"
    );
    assert_eq!(
        err(&head("2.5")),
        "suites/t.toml:2:13: eastest does not run protocol 2.5; eastest runs 12.1, 14.0, 14.1, 16.0, 16.1"
    );
    // The accepted forms.
    for (text, set) in [
        ("*", "12.1, 14.0, 14.1, 16.0, 16.1"),
        ("14.1", "14.1"),
        ("12.1, 14.1", "12.1, 14.1"),
        (">=14.0", "14.0, 14.1, 16.0, 16.1"),
        ("<16.0", "12.1, 14.0, 14.1"),
        ("14.0..16.0", "14.0, 14.1, 16.0"),
    ] {
        let suite = parse(&head(text), FsPath::new(FILE), "t").unwrap();
        assert_eq!(suite.versions.to_string(), set, "{text}");
        assert_eq!(suite.versions_text, text);
    }
}

#[test]
fn requires_entries_are_commands_or_features() {
    assert_eq!(
        err("name = \"t\"\nrequires = [\"Sync\", \"provisoning\"]\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:2:21: unknown requirement `provisoning`; did you mean `provisioning`?"
    );
    assert_eq!(
        err("name = \"t\"\nrequires = [\"itemoperations\"]\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:2:13: unknown requirement `itemoperations`; did you mean `ItemOperations`?"
    );
    let suite = parse(
        "name = \"t\"\nrequires = [\"provisioning\", \"Find\"]\n[[step]]\ncommand = \"Ping\"\n",
        FsPath::new(FILE),
        "t",
    )
    .unwrap();
    assert_eq!(
        suite.requires,
        [
            Requirement::Provisioning,
            Requirement::Command(Command::Find)
        ]
    );
}

#[test]
fn devices_must_be_declared() {
    assert_eq!(
        err(
            "name = \"t\"\ndevices = [\"tablet\"]\n[[step]]\ncommand = \"Ping\"\ndevice = \"tablte\"\n"
        ),
        "suites/t.toml:5:10: unknown device `tablte`; did you mean `tablet`?"
    );
    assert_eq!(
        err("name = \"t\"\n[[step]]\ncommand = \"Ping\"\ndevice = \"phone\"\n"),
        "suites/t.toml:4:10: unknown device `phone`; declare it at the top: `devices = [\"phone\"]`"
    );
    assert_eq!(
        err("name = \"t\"\ndevices = [\"main\"]\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:2:12: `main` is the default device and always exists; list only the extra devices"
    );
    assert_eq!(
        err("name = \"t\"\ndevices = [\"a b\"]\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:2:12: `a b` is not a valid device name; use 1 to 32 letters, digits, `-` or `_`"
    );
}

// ------------------------------------------------------------------- steps

#[test]
fn step_names_must_differ() {
    assert_eq!(
        err(
            "name = \"t\"\n[[step]]\nname = \"a\"\ncommand = \"Ping\"\n[[step]]\nname = \"a\"\ncommand = \"Ping\"\n"
        ),
        "suites/t.toml:6:8: duplicate step name `a`; step names name the snapshot files and must differ; the other `a` is on line 3"
    );
    // An explicit name that is a later step's default.
    assert_eq!(
        err(
            "name = \"t\"\n[[step]]\nname = \"step-2\"\ncommand = \"Ping\"\n[[step]]\ncommand = \"Ping\"\n"
        ),
        "suites/t.toml:5:1: this step's default name `step-2` is already taken; step names name the snapshot files and must differ; the other `step-2` is on line 3"
    );
    assert_eq!(
        err("name = \"t\"\n[[step]]\nname = \"a/b\"\ncommand = \"Ping\"\n"),
        "suites/t.toml:3:8: `a/b` cannot name a snapshot file; step names name snapshot files: no `/`, `\\`, control characters or leading `.`"
    );
}

#[test]
fn http_and_timing_bounds() {
    assert_eq!(
        err(&step("http = 42\n")),
        "suites/t.toml:4:8: `http` must be between 100 and 599, got 42"
    );
    assert_eq!(
        err(&step("http = 600\n")),
        "suites/t.toml:4:8: `http` must be between 100 and 599, got 600"
    );
    assert_eq!(
        err(&step("retry = { times = 0 }\n")),
        "suites/t.toml:4:19: `retry.times` must be between 1 and 100, got 0"
    );
    assert_eq!(
        err(&step("retry = { times = 3, interval-ms = 60001 }\n")),
        "suites/t.toml:4:36: `retry.interval-ms` must be between 0 and 60000, got 60001"
    );
    assert_eq!(
        err(&step("retry = { interval-ms = 5 }\n")),
        "suites/t.toml:4:9: `retry` needs `times`; write e.g. `retry = { times = 5, interval-ms = 500 }`"
    );
    assert_eq!(
        err(&step("delay-ms = 600001\n")),
        "suites/t.toml:4:12: `delay-ms` must be between 0 and 600000, got 600001"
    );
}

#[test]
fn headers_and_params_that_eastest_owns() {
    assert_eq!(
        err(&step("headers = { authorization = \"Basic eA==\" }\n")),
        "suites/t.toml:4:13: a suite never sets `Authorization`; eastest authenticates with the target's credentials; suites hold no secrets"
    );
    assert_eq!(
        err(&step("params = { DeviceId = \"x\" }\n")),
        "suites/t.toml:4:12: `DeviceId` is set by eastest; params are the extra request-line parameters (`ItemId`, `CollectionId`, `SaveInSent`...)"
    );
    assert_eq!(
        err(&step(
            "body = '<FolderSync xmlns=\"FolderHierarchy:\"/>'\nmime = \"x\"\n"
        )),
        "suites/t.toml:5:1: a step has `body` or `mime`, not both; `body` is XML encoded to WBXML; `mime` is sent as is"
    );
}

// ------------------------------------------------------------ expectations

#[test]
fn an_expectation_has_a_path_and_exactly_one_predicate() {
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//AirSync:Status\", status = 1, count = 1 }]\n"
        )),
        "suites/t.toml:4:52: an expectation has one predicate; this one has `status` and `count`; split it into two expectations"
    );
    assert_eq!(
        err(&step("expect = [{ path = \"//AirSync:Status\" }]\n")),
        "suites/t.toml:4:11: an expectation needs a predicate; add one of exists, equals, matches, count, status, contains, excludes, only"
    );
    assert_eq!(
        err(&step("expect = [{ status = 1 }]\n")),
        "suites/t.toml:4:11: an expectation needs a `path`; add e.g. `path = \"//AirSync:Status\"`"
    );
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//AirSync:Status\", count = -1 }]\n"
        )),
        "suites/t.toml:4:48: `count` must be between 0 and 4294967295, got -1"
    );
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//AirSync:Class\", contains = [] }]\n"
        )),
        "suites/t.toml:4:50: `contains = []` always holds; list the texts to look for, or remove the expectation"
    );
    assert_eq!(
        err(&step("expect = [{ http = 200 }]\n")),
        "suites/t.toml:4:13: `http` is not an expectation; the expected HTTP status is the step's `http` key"
    );
}

#[test]
fn path_errors_point_inside_the_string() {
    // `expect = [{ path = "` is 20 characters: the path's text starts at
    // column 21 (span start + offset + 1 for the quote).
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//AirSync:Stauts\", exists = true }]\n"
        )),
        "suites/t.toml:4:31: invalid path: code page AirSync has no element `Stauts`; did you mean `AirSync:Status`?"
    );
    assert_eq!(
        err(&step(
            "expect = [{ path = \"/AirSync:Sync/AirSyn:Status\", exists = true }]\n"
        )),
        "suites/t.toml:4:35: invalid path: unknown code page `AirSyn`; did you mean `AirSync`?"
    );
    assert_eq!(
        err(&step("expect = [{ path = 'Status', exists = true }]\n")),
        "suites/t.toml:4:21: invalid path: a path starts with `/` (at the root element) or `//` (at any depth); write `//Status`"
    );
    assert_eq!(
        err(&step("capture = { k = \"//AirSync:Add[0]\" }\n")),
        "suites/t.toml:4:32: invalid path: positions start at 1; write `[1]` for the first"
    );
    assert_eq!(
        err(&step("snapshot = { redact = [\"//ServerId\"] }\n")),
        "suites/t.toml:4:27: invalid path: `ServerId` needs its code page prefix; did you mean `AirSync:ServerId` or `FolderHierarchy:ServerId`?"
    );
    // Prefixes in any case map to the canonical page.
    let s = parse(
        &step("expect = [{ path = \"//airsync:Status\", exists = true }]\n"),
        FsPath::new(FILE),
        "t",
    )
    .unwrap();
    assert_eq!(s.steps[0].expect[0].path.as_str(), "//airsync:Status");
}

#[test]
fn regex_errors_point_inside_the_string() {
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//AirSync:Status\", matches = \"a(b\" }]\n"
        )),
        "suites/t.toml:4:52: invalid regex: unclosed group; the syntax is Rust's `regex` crate's"
    );
}

// -------------------------------------------------------------- variables

#[test]
fn placeholders_must_name_a_known_variable() {
    let src = "name = \"t\"\n[vars]\nfirst = \"a\"\n[[step]]\ncommand = \"FolderSync\"\nbody = '<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>{{frist}}</SyncKey></FolderSync>'\n";
    assert_eq!(
        err(src),
        "suites/t.toml:6:55: unknown variable `{{frist}}`; did you mean `{{first}}`?"
    );
    // Captured by a later step.
    let src = step(
        "params = { ItemId = \"{{key}}\" }\n[[step]]\ncommand = \"Ping\"\ncapture = { key = \"//AirSync:SyncKey\" }\n",
    );
    assert_eq!(
        err(&src),
        "suites/t.toml:4:22: unknown variable `{{key}}`; `key` is captured by step `step-2` (line 7), which runs after this one"
    );
    // Captured by the same step.
    assert_eq!(
        err(&step(
            "headers = { X-A = \"{{key}}\" }\ncapture = { key = \"//AirSync:SyncKey\" }\n"
        )),
        "suites/t.toml:4:20: unknown variable `{{key}}`; `key` is captured by this step; a capture is available from the next step on"
    );
    // In a hook path, and no close name.
    let line = err(
        "name = \"t\"\nrequires = [\"test-hooks\"]\n[[step]]\ncommand = \"hook:x?u={{zzzz}}\"\n",
    );
    assert_eq!(
        line,
        "suites/t.toml:4:21: unknown variable `{{zzzz}}`; define it in `[vars]` or capture it in an earlier step; known here: user, device_id, version, run_id"
    );
    // Built-ins cannot be redefined.
    assert_eq!(
        err("name = \"t\"\n[vars]\nuser = \"x\"\n[[step]]\ncommand = \"Ping\"\n"),
        "suites/t.toml:3:1: `user` is a built-in variable; choose another name; the built-ins are user, device_id, version, run_id"
    );
    assert_eq!(
        err(&step("capture = { \"a b\" = \"//AirSync:SyncKey\" }\n")),
        "suites/t.toml:4:13: `a b` is not a valid variable name; use letters, digits, `_` and `-`, starting with a letter or `_`"
    );
}

#[test]
fn placeholders_in_expected_texts_are_checked_too() {
    assert_eq!(
        err(&step(
            "expect = [{ path = \"//FolderHierarchy:ServerId\", only = [\"1\", \"{{inbx}}\"] }]\n"
        )),
        "suites/t.toml:4:64: unknown variable `{{inbx}}`; define it in `[vars]` or capture it in an earlier step; known here: user, device_id, version, run_id"
    );
    assert_eq!(
        err(
            "name = \"t\"\n[vars]\nsubject = \"s\"\n[[step]]\ncommand = \"Ping\"\nexpect = [{ path = \"//AirSync:Status\", equals = \"{{subjet}}\" }]\n"
        ),
        "suites/t.toml:6:50: unknown variable `{{subjet}}`; did you mean `{{subject}}`?"
    );
}

#[test]
fn a_broken_step_does_not_hide_its_captures_from_later_steps() {
    let e = parse_err(&step(
        "http = 1\ncapture = { key = \"//AirSync:SyncKey\" }\n[[step]]\ncommand = \"Ping\"\nparams = { X = \"{{key}}\" }\n",
    ));
    assert_eq!(
        e.lines(),
        ["suites/t.toml:4:8: `http` must be between 100 and 599, got 1"]
    );
}

// ------------------------------------------------------------------ bodies

#[test]
fn body_errors_map_into_a_multiline_literal() {
    // BodyPartPreference exists from 14.1 on; the suite says `*`.
    let src = "name = \"t\"\n[[step]]\ncommand = \"Sync\"\nbody = '''\n<Sync xmlns=\"AirSync:\" xmlns:B=\"AirSyncBase:\">\n  <Collections><Collection><SyncKey>0</SyncKey><CollectionId>{{user}}</CollectionId>\n    <Options><B:BodyPartPreference><B:Type>2</B:Type></B:BodyPartPreference></Options>\n  </Collection></Collections>\n</Sync>'''\n";
    let e = parse_err(src);
    assert_eq!(
        e.to_string(),
        "suites/t.toml:7:14: the body uses AirSyncBase:BodyPartPreference, which protocol 12.1 does not define (it exists in 14.1, 16.0, 16.1); the suite applies to 12.1, 14.0, 14.1, 16.0, 16.1 but the body encodes for 14.1, 16.0, 16.1 only: restrict it with `versions = \">=14.1\"`"
    );
    // Restricted as suggested, it loads.
    let fixed = src.replace("name = \"t\"\n", "name = \"t\"\nversions = \">=14.1\"\n");
    assert!(parse(&fixed, FsPath::new(FILE), "t").is_ok());
}

#[test]
fn body_errors_map_into_a_multiline_basic_string_without_escapes() {
    let src = "name = \"t\"\nversions = \"14.1\"\n[[step]]\ncommand = \"Sync\"\nbody = \"\"\"\n<Sync xmlns=\"AirSync:\">\n  <Colections/>\n</Sync>\"\"\"\n";
    assert_eq!(
        err(src),
        "suites/t.toml:7:3: invalid body: code page AirSync has no element `Colections`; did you mean `Collections`, `Collection`, `CollectionId`?"
    );
}

#[test]
fn body_errors_after_an_escape_point_at_the_key() {
    let src = step("body = \"<FolderSync xmlns=\\\"FolderHierarchy:\\\"><Bogus/></FolderSync>\"\n");
    assert_eq!(
        err(&src),
        "suites/t.toml:4:1: invalid body: code page FolderHierarchy has no element `Bogus` (line 1, column 38 of the body)"
    );
    let src = step("body = '<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey>'\n");
    let line = err(&src);
    assert!(line.starts_with("suites/t.toml:4:"), "{line}");
    assert!(line.contains("invalid body: XML syntax error"), "{line}");
}

// ------------------------------------------------------- several at a time

#[test]
fn every_error_of_a_file_is_reported_in_file_order() {
    let src = "name = \"t\"\nversions = \"14.2\"\n[[step]]\ncommand = \"Snyc\"\nhttp = 42\n[[step]]\ncommand = \"Ping\"\nexpct = []\n";
    let e = parse_err(src);
    assert_eq!(
        e.lines(),
        [
            "suites/t.toml:2:13: unknown protocol version `14.2`; known versions: 12.1, 14.0, 14.1, 16.0, 16.1",
            "suites/t.toml:4:11: unknown command `Snyc`; did you mean `Sync`?",
            "suites/t.toml:5:8: `http` must be between 100 and 599, got 42",
            "suites/t.toml:8:1: unknown key `expct` in a step; did you mean `expect`?",
        ]
    );
    assert_eq!(
        e.to_string(),
        "suites/t.toml:2:13: unknown protocol version `14.2`; known versions: 12.1, 14.0, 14.1, 16.0, 16.1 (and 3 more errors)"
    );
    assert_eq!(e.file(), FsPath::new(FILE));
    assert_eq!((e.location().line, e.location().column), (2, 13));
    assert_eq!(e.message(), "unknown protocol version `14.2`");
    assert_eq!(
        e.hint(),
        Some("known versions: 12.1, 14.0, 14.1, 16.0, 16.1")
    );
}

#[test]
fn render_shows_the_source_line_underlined_and_the_hint() {
    let e = parse_err(&step(
        "expect = [{ path = \"//AirSync:Stauts\", exists = true }]\n",
    ));
    let out = e.render(false);
    assert!(
        out.contains("error: invalid path: code page AirSync has no element `Stauts`"),
        "{out}"
    );
    assert!(out.contains("suites/t.toml:4:31"), "{out}");
    assert!(
        out.contains("4 │ expect = [{ path = \"//AirSync:Stauts\", exists = true }]"),
        "{out}"
    );
    // The caret line underlines exactly `Stauts` (6 characters at column 31).
    let caret = out.lines().find(|l| l.contains('^')).expect("an underline");
    let start = caret.find('^').unwrap() - caret.find('│').unwrap() - "│ ".len();
    assert_eq!(start, 30, "{out}");
    assert_eq!(caret.matches('^').count(), 6, "{out}");
    assert!(
        out.contains("= help: did you mean `AirSync:Status`?"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'));
    assert!(
        e.render(true).contains('\u{1b}'),
        "colored output has ANSI codes"
    );
}

// ---------------------------------------------------------- load, discover

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("eastest-suite-parse-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn load_and_discover_a_folder_of_suites() {
    let root = temp_dir("discover");
    std::fs::create_dir_all(root.join("sync/contacts")).unwrap();
    std::fs::create_dir_all(root.join(".hidden")).unwrap();
    let suite = "name = \"x\"\n[[step]]\ncommand = \"Ping\"\n";
    for f in [
        "b.toml",
        "a.toml",
        "sync/contacts/ghosting.toml",
        ".hidden/x.toml",
    ] {
        std::fs::write(root.join(f), suite).unwrap();
    }
    std::fs::write(root.join("notes.md"), "not a suite").unwrap();
    let files = discover(&root).unwrap();
    assert_eq!(
        files,
        [
            root.join("a.toml"),
            root.join("b.toml"),
            root.join("sync/contacts/ghosting.toml")
        ]
    );
    let s = load(&files[2], &root).unwrap();
    assert_eq!(s.id, "sync/contacts/ghosting");
    assert_eq!(s.file, files[2]);

    let missing = root.join("missing.toml");
    let e = load(&missing, &root).unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "{}: cannot read the suite file:",
            missing.display()
        )),
        "{e}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

// ------------------------------------------------------ templates and paths

#[test]
fn templates_render_with_a_lookup() {
    let t = Template {
        text: "<ServerId>{{inbox}}:{{n}}</ServerId> {{ not }}".into(),
        span: Span::default(),
    };
    assert_eq!(
        t.placeholders()
            .into_iter()
            .map(|(n, s)| (n, s.start, s.end))
            .collect::<Vec<_>>(),
        [("inbox".to_string(), 10, 19), ("n".to_string(), 20, 25)]
    );
    let out = t
        .render(|n| match n {
            "inbox" => Some("1".into()),
            "n" => Some("7".into()),
            _ => None,
        })
        .unwrap();
    assert_eq!(out, "<ServerId>1:7</ServerId> {{ not }}");
    let e = t.render(|_| None).unwrap_err();
    assert_eq!(e.name, "inbox");
    assert_eq!(e.to_string(), "unknown variable `{{inbox}}`");
}

#[test]
fn paths_select_in_a_decoded_response() {
    let xml = r#"<FolderSync xmlns="FolderHierarchy:"><Status>1</Status><SyncKey>1</SyncKey><Changes><Count>3</Count>
<Add><ServerId>1</ServerId><ParentId>0</ParentId><DisplayName>Inbox</DisplayName><Type>2</Type></Add>
<Add><ServerId>8</ServerId><ParentId>0</ParentId><DisplayName>Contacts</DisplayName><Type>9</Type></Add>
<Add><ServerId>9</ServerId><ParentId>0</ParentId><DisplayName>Notes</DisplayName><Type>10</Type></Add>
</Changes></FolderSync>"#;
    let v = ProtocolVersion::V14_1;
    let bytes = encode(xml, &EncodeOptions::strict(v)).unwrap();
    let root = Element::from_wbxml(&bytes, &DecodeOptions::strict(v)).unwrap();
    let sel = |p: &str| -> Vec<String> {
        Path::parse(p)
            .unwrap()
            .select(&root)
            .into_iter()
            .map(|e| e.text())
            .collect()
    };
    assert_eq!(
        sel("/FolderHierarchy:FolderSync/FolderHierarchy:Status"),
        ["1"]
    );
    assert_eq!(
        sel("//FolderHierarchy:Add[FolderHierarchy:Type='9']/FolderHierarchy:ServerId"),
        ["8"]
    );
    assert_eq!(
        sel("//FolderHierarchy:Add[last()]/FolderHierarchy:DisplayName"),
        ["Notes"]
    );
    assert_eq!(
        sel("//FolderHierarchy:Add[2]/FolderHierarchy:DisplayName"),
        ["Contacts"]
    );
    assert_eq!(
        sel("/FolderHierarchy:FolderSync//FolderHierarchy:ServerId"),
        ["1", "8", "9"]
    );
    assert_eq!(sel("//FolderHierarchy:Changes/*").len(), 4);
    assert!(
        sel("/FolderHierarchy:Changes").is_empty(),
        "the first step is the root"
    );
    let e = Path::parse("//FolderHierarchy:Add[Type='9']").unwrap_err();
    assert_eq!(e.offset, 22);
    assert_eq!(e.message, "`Type` needs its code page prefix");
}

#[test]
fn every_suite_in_the_repository_loads() {
    let root = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("suites");
    let files = discover(&root).unwrap();
    assert!(!files.is_empty(), "no suites under {}", root.display());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| load(f, &root).err())
        .map(|e| e.render(false))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
