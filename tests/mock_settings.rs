//! The mock's Settings command (MS-ASCMD 2.2.1.18) over real HTTP. Request
//! bodies are assembled by hand from the MS-ASWBXML code page 18 (Settings)
//! table, not by eastest's encoder.

mod common;

use common::{Body, Device, options, start};
use eastest::wbxml::Element;
use reqwest::StatusCode;

const VERSIONS: [&str; 5] = ["12.1", "14.0", "14.1", "16.0", "16.1"];

// Code page 18, Settings (MS-ASWBXML 2.1.2.1.19).
const STATUS: u8 = 0x06;
const GET: u8 = 0x07;
const SET: u8 = 0x08;
const OOF: u8 = 0x09;
const OOF_STATE: u8 = 0x0A;
const START_TIME: u8 = 0x0B;
const END_TIME: u8 = 0x0C;
const OOF_MESSAGE: u8 = 0x0D;
const APPLIES_TO_INTERNAL: u8 = 0x0E;
const APPLIES_TO_EXTERNAL_KNOWN: u8 = 0x0F;
const APPLIES_TO_EXTERNAL_UNKNOWN: u8 = 0x10;
const ENABLED: u8 = 0x11;
const REPLY_MESSAGE: u8 = 0x12;
const BODY_TYPE: u8 = 0x13;
const DEVICE_PASSWORD: u8 = 0x14;
const PASSWORD: u8 = 0x15;
const DEVICE_INFORMATION: u8 = 0x16;
const MODEL: u8 = 0x17;
const IMEI: u8 = 0x18;
const FRIENDLY_NAME: u8 = 0x19;
const OS: u8 = 0x1A;
const OS_LANGUAGE: u8 = 0x1B;
const PHONE_NUMBER: u8 = 0x1C;
const USER_INFORMATION: u8 = 0x1D;
const USER_AGENT: u8 = 0x20;
const ENABLE_OUTBOUND_SMS: u8 = 0x21;
const MOBILE_OPERATOR: u8 = 0x22;
const RIGHTS_MANAGEMENT_INFORMATION: u8 = 0x2B;

const AUDIENCES: [&str; 3] = [
    "AppliesToInternal",
    "AppliesToExternalKnown",
    "AppliesToExternalUnknown",
];

impl Body {
    /// `<Settings xmlns="Settings:">` (code page 18, Settings 0x05), closed
    /// by [`Body::done`].
    fn settings() -> Body {
        Body::new(0x12, 0x05)
    }
}

/// `<Oof><Get><BodyType>body_type</BodyType></Get></Oof>`
fn oof_get(body_type: &str) -> Vec<u8> {
    Body::settings()
        .open(OOF)
        .open(GET)
        .text(BODY_TYPE, body_type)
        .end()
        .end()
        .done()
}

/// `<Oof><Set>` with what `f` adds, `</Set></Oof>`.
fn oof_set(f: impl FnOnce(Body) -> Body) -> Vec<u8> {
    f(Body::settings().open(OOF).open(SET)).end().end().done()
}

/// An OofMessage for `audience` with Enabled and optionally a reply.
fn message(b: Body, audience: u8, enabled: &str, reply: Option<(&str, &str)>) -> Body {
    let mut b = b.open(OOF_MESSAGE).empty(audience).text(ENABLED, enabled);
    if let Some((text, body_type)) = reply {
        b = b.text(REPLY_MESSAGE, text).text(BODY_TYPE, body_type);
    }
    b.end()
}

fn user_information_get() -> Vec<u8> {
    Body::settings()
        .open(USER_INFORMATION)
        .empty(GET)
        .end()
        .done()
}

/// The Settings command of one device.
impl Device {
    /// A Settings request whose command Status is 1.
    async fn settings(&self, body: Vec<u8>) -> Element {
        let response = self.call("Settings", body).await;
        assert_eq!(
            (response.namespace, response.name.as_str()),
            ("Settings", "Settings")
        );
        assert_eq!(
            response.child_names().first(),
            Some(&"Status"),
            "the command Status comes first"
        );
        assert_eq!(
            response.child_text("Status").as_deref(),
            Some("1"),
            "{response:?}"
        );
        response
    }
}

/// The Status of the single property answer `name`.
fn property_status(response: &Element, name: &str) -> String {
    assert_eq!(
        response.elements_named(name).count(),
        1,
        "one {name} in {response:?}"
    );
    let property = response.child(name).unwrap();
    property.child_text("Status").expect("a property Status")
}

/// The Get of an Oof answer with Status 1.
fn oof_of(response: &Element) -> &Element {
    assert_eq!(property_status(response, "Oof"), "1");
    let oof = response.child("Oof").unwrap();
    assert_eq!(oof.child_names(), ["Status", "Get"]);
    oof.child("Get").unwrap()
}

/// The OofMessage of `audience` in an Oof Get.
fn message_for<'a>(get: &'a Element, audience: &str) -> &'a Element {
    let mut found = get
        .elements_named("OofMessage")
        .filter(|m| m.child(audience).is_some());
    let message = found.next().expect("a message per audience");
    assert!(found.next().is_none(), "one message per audience");
    message
}

/// The OOF settings as seen right after start: disabled, every audience
/// present, disabled, without a message.
fn assert_default_oof(get: &Element) {
    assert_eq!(
        get.child_names(),
        ["OofState", "OofMessage", "OofMessage", "OofMessage"]
    );
    assert_eq!(get.child_text("OofState").as_deref(), Some("0"));
    for audience in AUDIENCES {
        let m = message_for(get, audience);
        assert_eq!(m.child_names(), [audience, "Enabled"]);
        assert_eq!(m.child_text("Enabled").as_deref(), Some("0"));
        assert!(m.child(audience).unwrap().children.is_empty());
    }
}

#[tokio::test]
async fn options_advertise_settings() {
    let server = start().await;
    let r = options(&server).await;
    let commands = r.headers()["ms-asprotocolcommands"].to_str().unwrap();
    assert!(commands.split(',').any(|c| c == "Settings"), "{commands}");
    server.shutdown().await;
}

#[tokio::test]
async fn oof_get_default_is_disabled_in_every_version() {
    for version in VERSIONS {
        let server = start().await;
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        let response = device.settings(oof_get("Text")).await;
        assert_eq!(response.child_names(), ["Status", "Oof"]);
        assert_default_oof(oof_of(&response));
        server.shutdown().await;
    }
}

#[tokio::test]
async fn oof_set_then_get_in_every_version() {
    for version in VERSIONS {
        let server = start().await;
        let device = Device::provisioned(&server, version, "alice", "device01").await;

        // Time-based, with a plain-text internal message, an HTML message
        // for known external senders, and unknown external senders disabled.
        let set = oof_set(|b| {
            let b = b
                .text(OOF_STATE, "2")
                .text(START_TIME, "2026-07-01T08:00:00.000Z")
                .text(END_TIME, "2026-07-15T17:00:00Z");
            let b = message(
                b,
                APPLIES_TO_INTERNAL,
                "1",
                Some(("Away until the 15th & back after", "Text")),
            );
            let b = message(
                b,
                APPLIES_TO_EXTERNAL_KNOWN,
                "1",
                Some(("<p>Away</p>", "HTML")),
            );
            message(b, APPLIES_TO_EXTERNAL_UNKNOWN, "0", None)
        });
        let response = device.settings(set).await;
        assert_eq!(response.child_names(), ["Status", "Oof"]);
        assert_eq!(property_status(&response, "Oof"), "1", "{version}");
        assert_eq!(
            response.child("Oof").unwrap().child_names(),
            ["Status"],
            "a Set answers with its Status only"
        );

        // Get as text: the window (normalized), the messages as text.
        let response = device.settings(oof_get("Text")).await;
        let get = oof_of(&response);
        assert_eq!(
            get.child_names(),
            [
                "OofState",
                "StartTime",
                "EndTime",
                "OofMessage",
                "OofMessage",
                "OofMessage"
            ]
        );
        assert_eq!(get.child_text("OofState").as_deref(), Some("2"));
        assert_eq!(
            get.child_text("StartTime").as_deref(),
            Some("2026-07-01T08:00:00.000Z")
        );
        assert_eq!(
            get.child_text("EndTime").as_deref(),
            Some("2026-07-15T17:00:00.000Z")
        );
        let internal = message_for(get, "AppliesToInternal");
        assert_eq!(
            internal.child_names(),
            ["AppliesToInternal", "Enabled", "ReplyMessage", "BodyType"]
        );
        assert_eq!(internal.child_text("Enabled").as_deref(), Some("1"));
        assert_eq!(
            internal.child_text("ReplyMessage").as_deref(),
            Some("Away until the 15th & back after")
        );
        assert_eq!(internal.child_text("BodyType").as_deref(), Some("Text"));
        let known = message_for(get, "AppliesToExternalKnown");
        assert_eq!(known.child_text("Enabled").as_deref(), Some("1"));
        assert_eq!(known.child_text("ReplyMessage").as_deref(), Some("Away"));
        assert_eq!(known.child_text("BodyType").as_deref(), Some("Text"));
        let unknown = message_for(get, "AppliesToExternalUnknown");
        assert_eq!(
            unknown.child_names(),
            ["AppliesToExternalUnknown", "Enabled"]
        );
        assert_eq!(unknown.child_text("Enabled").as_deref(), Some("0"));

        // Get as HTML: the text message escaped, the HTML one as stored.
        let response = device.settings(oof_get("HTML")).await;
        let get = oof_of(&response);
        let internal = message_for(get, "AppliesToInternal");
        assert_eq!(
            internal.child_text("ReplyMessage").as_deref(),
            Some("Away until the 15th &amp; back after")
        );
        assert_eq!(internal.child_text("BodyType").as_deref(), Some("HTML"));
        let known = message_for(get, "AppliesToExternalKnown");
        assert_eq!(
            known.child_text("ReplyMessage").as_deref(),
            Some("<p>Away</p>")
        );

        // Global, with other times: success, but the times are not stored
        // (MS-ASCMD 2.2.3.124) and no window is reported.
        let set = oof_set(|b| {
            b.text(OOF_STATE, "1")
                .text(START_TIME, "2026-08-01T00:00:00.000Z")
                .text(END_TIME, "2026-08-02T00:00:00.000Z")
        });
        assert_eq!(property_status(&device.settings(set).await, "Oof"), "1");
        let response = device.settings(oof_get("Text")).await;
        let get = oof_of(&response);
        assert_eq!(get.child_text("OofState").as_deref(), Some("1"));
        assert!(get.child("StartTime").is_none() && get.child("EndTime").is_none());
        // The messages were not part of that Set: unchanged.
        assert_eq!(
            message_for(get, "AppliesToInternal")
                .child_text("ReplyMessage")
                .as_deref(),
            Some("Away until the 15th & back after")
        );

        // Back to time-based without times: the stored window, not August's.
        let set = oof_set(|b| b.text(OOF_STATE, "2"));
        assert_eq!(property_status(&device.settings(set).await, "Oof"), "1");
        let response = device.settings(oof_get("Text")).await;
        let get = oof_of(&response);
        assert_eq!(get.child_text("OofState").as_deref(), Some("2"));
        assert_eq!(
            get.child_text("StartTime").as_deref(),
            Some("2026-07-01T08:00:00.000Z")
        );

        // A message set without a reply replaces the audience's settings.
        let set = oof_set(|b| message(b, APPLIES_TO_INTERNAL, "0", None));
        assert_eq!(property_status(&device.settings(set).await, "Oof"), "1");
        let response = device.settings(oof_get("Text")).await;
        let internal = message_for(oof_of(&response), "AppliesToInternal");
        assert_eq!(internal.child_names(), ["AppliesToInternal", "Enabled"]);
        assert_eq!(internal.child_text("Enabled").as_deref(), Some("0"));
        server.shutdown().await;
    }
}

#[tokio::test]
async fn oof_set_errors_change_nothing() {
    for version in ["12.1", "14.1"] {
        let server = start().await;
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        let failures: Vec<(&str, &str, Vec<u8>)> = vec![
            (
                "time-based without a window",
                "2",
                oof_set(|b| b.text(OOF_STATE, "2")),
            ),
            (
                "StartTime without EndTime",
                "2",
                oof_set(|b| {
                    b.text(OOF_STATE, "2")
                        .text(START_TIME, "2026-07-01T08:00:00.000Z")
                }),
            ),
            (
                "EndTime without StartTime",
                "2",
                oof_set(|b| {
                    b.text(OOF_STATE, "2")
                        .text(END_TIME, "2026-07-01T08:00:00.000Z")
                }),
            ),
            (
                "EndTime before StartTime",
                "5",
                oof_set(|b| {
                    b.text(OOF_STATE, "2")
                        .text(START_TIME, "2026-07-02T00:00:00.000Z")
                        .text(END_TIME, "2026-07-01T00:00:00.000Z")
                }),
            ),
            (
                "a StartTime that is no datetime",
                "5",
                oof_set(|b| {
                    b.text(OOF_STATE, "2")
                        .text(START_TIME, "tomorrow")
                        .text(END_TIME, "2026-07-01T00:00:00.000Z")
                }),
            ),
            ("OofState 3", "5", oof_set(|b| b.text(OOF_STATE, "3"))),
            (
                "BodyType RTF",
                "5",
                oof_set(|b| {
                    message(
                        b.text(OOF_STATE, "1"),
                        APPLIES_TO_INTERNAL,
                        "1",
                        Some(("Away", "RTF")),
                    )
                }),
            ),
            (
                "a ReplyMessage without BodyType",
                "2",
                oof_set(|b| {
                    b.text(OOF_STATE, "1")
                        .open(OOF_MESSAGE)
                        .empty(APPLIES_TO_INTERNAL)
                        .text(ENABLED, "1")
                        .text(REPLY_MESSAGE, "Away")
                        .end()
                }),
            ),
            (
                "an OofMessage without an audience",
                "2",
                oof_set(|b| {
                    b.text(OOF_STATE, "1")
                        .open(OOF_MESSAGE)
                        .text(ENABLED, "1")
                        .end()
                }),
            ),
            (
                "Enabled 2",
                "5",
                oof_set(|b| message(b.text(OOF_STATE, "1"), APPLIES_TO_INTERNAL, "2", None)),
            ),
        ];
        for (what, status, body) in failures {
            let response = device.settings(body).await;
            assert_eq!(response.child_names(), ["Status", "Oof"], "{what}");
            assert_eq!(
                property_status(&response, "Oof"),
                status,
                "{what} in {version}"
            );
        }
        // An Oof Get for a body type other than Text or HTML: Status 5, no Get.
        let response = device.settings(oof_get("RTF")).await;
        assert_eq!(property_status(&response, "Oof"), "5");
        assert_eq!(response.child("Oof").unwrap().child_names(), ["Status"]);
        // None of the failed Sets changed anything, even in part.
        let response = device.settings(oof_get("Text")).await;
        assert_default_oof(oof_of(&response));
        server.shutdown().await;
    }
}

#[tokio::test]
async fn device_information_set() {
    let server = start().await;
    let device = Device::provisioned(&server, "12.1", "alice", "device01").await;
    let body = Body::settings()
        .open(DEVICE_INFORMATION)
        .open(SET)
        .text(MODEL, "Test Phone")
        .text(IMEI, "356938035643809")
        .text(FRIENDLY_NAME, "Alice's phone")
        .text(OS, "TestOS 1.0")
        .text(OS_LANGUAGE, "English")
        .text(PHONE_NUMBER, "+15555550100")
        .text(USER_AGENT, "TestAgent/1.0")
        .end()
        .end()
        .done();
    let response = device.settings(body).await;
    assert_eq!(response.child_names(), ["Status", "DeviceInformation"]);
    assert_eq!(property_status(&response, "DeviceInformation"), "1");
    assert_eq!(
        response.child("DeviceInformation").unwrap().child_names(),
        ["Status"]
    );

    // MobileOperator does not exist in 12.1: the request does not decode
    // (HTTP 400 up to 12.1).
    let body = Body::settings()
        .open(DEVICE_INFORMATION)
        .open(SET)
        .text(MOBILE_OPERATOR, "Operator")
        .end()
        .end()
        .done();
    assert_eq!(
        device.post("Settings", body).await.status(),
        StatusCode::BAD_REQUEST
    );

    // From 14.0: EnableOutboundSMS and MobileOperator too.
    let device = Device::provisioned(&server, "14.1", "alice", "device02").await;
    let body = Body::settings()
        .open(DEVICE_INFORMATION)
        .open(SET)
        .text(MODEL, "Test Phone")
        .text(OS, "TestOS 2.0")
        .text(ENABLE_OUTBOUND_SMS, "0")
        .text(MOBILE_OPERATOR, "Operator")
        .end()
        .end()
        .done();
    assert_eq!(
        property_status(&device.settings(body).await, "DeviceInformation"),
        "1"
    );

    // A Set without any information: Status 2.
    let body = Body::settings()
        .open(DEVICE_INFORMATION)
        .empty(SET)
        .end()
        .done();
    assert_eq!(
        property_status(&device.settings(body).await, "DeviceInformation"),
        "2"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn device_password_set() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let set = |password: &str| {
        Body::settings()
            .open(DEVICE_PASSWORD)
            .open(SET)
            .text(PASSWORD, password)
            .end()
            .end()
            .done()
    };
    let response = device.settings(set("1234")).await;
    assert_eq!(response.child_names(), ["Status", "DevicePassword"]);
    assert_eq!(property_status(&response, "DevicePassword"), "1");
    // At most 255 characters.
    assert_eq!(
        property_status(
            &device.settings(set(&"x".repeat(256))).await,
            "DevicePassword"
        ),
        "5"
    );
    assert_eq!(
        property_status(
            &device.settings(set(&"x".repeat(255))).await,
            "DevicePassword"
        ),
        "1"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn user_information_in_the_shape_of_each_version() {
    for version in VERSIONS {
        let server = start().await;
        for (user, email) in [("alice", "alice@example.test"), ("bob", "bob@example.test")] {
            let device = Device::provisioned(&server, version, user, "device01").await;
            let response = device.settings(user_information_get()).await;
            assert_eq!(response.child_names(), ["Status", "UserInformation"]);
            assert_eq!(property_status(&response, "UserInformation"), "1");
            let info = response.child("UserInformation").unwrap();
            assert_eq!(info.child_names(), ["Status", "Get"]);
            let get = info.child("Get").unwrap();
            let addresses = if matches!(version, "12.1" | "14.0") {
                // Up to 14.0: Get/EmailAddresses/SMTPAddress.
                assert_eq!(get.child_names(), ["EmailAddresses"], "{version}");
                let addresses = get.child("EmailAddresses").unwrap();
                assert_eq!(addresses.child_names(), ["SMTPAddress"]);
                addresses
            } else {
                // From 14.1: Get/Accounts/Account/EmailAddresses, with the
                // primary address.
                assert_eq!(get.child_names(), ["Accounts"], "{version}");
                let accounts = get.child("Accounts").unwrap();
                assert_eq!(accounts.child_names(), ["Account"]);
                let account = accounts.child("Account").unwrap();
                assert_eq!(account.child_names(), ["UserDisplayName", "EmailAddresses"]);
                assert_eq!(account.child_text("UserDisplayName").as_deref(), Some(user));
                let addresses = account.child("EmailAddresses").unwrap();
                assert_eq!(
                    addresses.child_names(),
                    ["SMTPAddress", "PrimarySmtpAddress"]
                );
                assert_eq!(
                    addresses.child_text("PrimarySmtpAddress").as_deref(),
                    Some(email)
                );
                addresses
            };
            assert_eq!(addresses.child_text("SMTPAddress").as_deref(), Some(email));
        }
        server.shutdown().await;
    }
}

#[tokio::test]
async fn rights_management_information_from_14_1() {
    let server = start().await;
    for version in ["14.1", "16.0", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        let body = Body::settings()
            .open(RIGHTS_MANAGEMENT_INFORMATION)
            .empty(GET)
            .end()
            .done();
        let response = device.settings(body).await;
        assert_eq!(
            property_status(&response, "RightsManagementInformation"),
            "1"
        );
        let info = response.child("RightsManagementInformation").unwrap();
        assert_eq!(info.child_names(), ["Status", "Get"]);
        let get = info.child("Get").unwrap();
        assert_eq!(get.child_names(), ["RightsManagementTemplates"]);
        let templates = get.child("RightsManagementTemplates").unwrap();
        assert_eq!(templates.namespace, "RightsManagement");
        assert!(templates.children.is_empty(), "no templates");
    }
    // 14.0 has no RightsManagementInformation: the body does not decode,
    // Status 102 InvalidWBXML.
    let device = Device::provisioned(&server, "14.0", "alice", "device01").await;
    let body = Body::settings()
        .open(RIGHTS_MANAGEMENT_INFORMATION)
        .empty(GET)
        .end()
        .done();
    let response = device.call("Settings", body).await;
    assert_eq!(response.child_text("Status").as_deref(), Some("102"));
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_requests_get_protocol_error_and_no_property_answers() {
    for version in ["12.1", "14.1"] {
        let server = start().await;
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        let malformed: Vec<(&str, Vec<u8>)> = vec![
            (
                "a child that is no property",
                Body::settings().text(STATUS, "1").done(),
            ),
            (
                "UserInformation Set (Get only)",
                Body::settings()
                    .open(USER_INFORMATION)
                    .empty(SET)
                    .end()
                    .done(),
            ),
            (
                "DeviceInformation Get (Set only)",
                Body::settings()
                    .open(DEVICE_INFORMATION)
                    .empty(GET)
                    .end()
                    .done(),
            ),
            (
                "DevicePassword Set without Password",
                Body::settings()
                    .open(DEVICE_PASSWORD)
                    .empty(SET)
                    .end()
                    .done(),
            ),
            ("Oof without an action", Body::settings().empty(OOF).done()),
            (
                "Oof Get without BodyType",
                Body::settings().open(OOF).empty(GET).end().done(),
            ),
            (
                "Oof with Get and Set",
                Body::settings()
                    .open(OOF)
                    .open(GET)
                    .text(BODY_TYPE, "Text")
                    .end()
                    .open(SET)
                    .text(OOF_STATE, "1")
                    .end()
                    .end()
                    .done(),
            ),
            (
                "an element out of place",
                oof_set(|b| b.text(OOF_STATE, "1").text(MODEL, "Phone")),
            ),
            (
                "two audiences in one OofMessage",
                oof_set(|b| {
                    b.open(OOF_MESSAGE)
                        .empty(APPLIES_TO_INTERNAL)
                        .empty(APPLIES_TO_EXTERNAL_KNOWN)
                        .text(ENABLED, "1")
                        .end()
                }),
            ),
            (
                // A valid Set before a malformed property: nothing runs.
                "a valid Oof Set, then UserInformation Set",
                Body::settings()
                    .open(OOF)
                    .open(SET)
                    .text(OOF_STATE, "1")
                    .end()
                    .end()
                    .open(USER_INFORMATION)
                    .empty(SET)
                    .end()
                    .done(),
            ),
        ];
        for (what, body) in malformed {
            let response = device.call("Settings", body).await;
            assert_eq!(response.name, "Settings");
            assert_eq!(
                response.child_names(),
                ["Status"],
                "{what} in {version}: no property answers"
            );
            assert_eq!(
                response.child_text("Status").as_deref(),
                Some("2"),
                "{what} in {version}"
            );
        }
        let response = device.settings(oof_get("Text")).await;
        assert_default_oof(oof_of(&response));
        server.shutdown().await;
    }
}

#[tokio::test]
async fn properties_run_and_answer_in_request_order() {
    let server = start().await;
    let device = Device::provisioned(&server, "16.1", "alice", "device01").await;
    let body = Body::settings()
        .open(USER_INFORMATION)
        .empty(GET)
        .end()
        .open(OOF)
        .open(SET)
        .text(OOF_STATE, "1")
        .end()
        .end()
        .open(OOF)
        .open(GET)
        .text(BODY_TYPE, "Text")
        .end()
        .end()
        .open(DEVICE_INFORMATION)
        .open(SET)
        .text(MODEL, "Test Phone")
        .end()
        .end()
        .done();
    let response = device.settings(body).await;
    assert_eq!(
        response.child_names(),
        [
            "Status",
            "UserInformation",
            "Oof",
            "Oof",
            "DeviceInformation"
        ]
    );
    let oofs: Vec<&Element> = response.elements_named("Oof").collect();
    assert_eq!(oofs[0].child_names(), ["Status"], "the Set");
    assert_eq!(oofs[0].child_text("Status").as_deref(), Some("1"));
    // The Get ran after the Set and sees it.
    let get = oofs[1].child("Get").expect("the Get");
    assert_eq!(get.child_text("OofState").as_deref(), Some("1"));
    assert_eq!(property_status(&response, "DeviceInformation"), "1");
    server.shutdown().await;
}

#[tokio::test]
async fn oof_belongs_to_the_user_not_the_device() {
    let server = start().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let set = oof_set(|b| {
        message(
            b.text(OOF_STATE, "1"),
            APPLIES_TO_INTERNAL,
            "1",
            Some(("Alice is away", "Text")),
        )
    });
    assert_eq!(property_status(&alice.settings(set).await, "Oof"), "1");

    // Alice's other device sees it.
    let alice2 = Device::provisioned(&server, "16.1", "alice", "device02").await;
    let response = alice2.settings(oof_get("Text")).await;
    let get = oof_of(&response);
    assert_eq!(get.child_text("OofState").as_deref(), Some("1"));
    assert_eq!(
        message_for(get, "AppliesToInternal")
            .child_text("ReplyMessage")
            .as_deref(),
        Some("Alice is away")
    );

    // Bob, even on a device with the same id, does not.
    let bob = Device::provisioned(&server, "14.1", "bob", "device01").await;
    let response = bob.settings(oof_get("Text")).await;
    assert_default_oof(oof_of(&response));
    server.shutdown().await;
}
