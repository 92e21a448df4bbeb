//! The mock's ResolveRecipients command (MS-ASCMD 2.2.1.15) over real HTTP.
//! Request bodies are assembled by hand from the MS-ASWBXML code page 10
//! (ResolveRecipients) table, not by eastest's encoder.

mod common;

use common::{Body, Device, options};
use eastest::mock::{Account, MockConfig, MockServer};
use eastest::wbxml::Element;
use reqwest::StatusCode;

const VERSIONS: [&str; 5] = ["12.1", "14.0", "14.1", "16.0", "16.1"];

// Code page 10, ResolveRecipients (MS-ASWBXML).
const OPTIONS: u8 = 0x0F;
const TO: u8 = 0x10;
const CERTIFICATE_RETRIEVAL: u8 = 0x11;
const MAX_AMBIGUOUS_RECIPIENTS: u8 = 0x14;
const AVAILABILITY: u8 = 0x16;
const START_TIME: u8 = 0x17;
const END_TIME: u8 = 0x18;

impl Body {
    /// `<ResolveRecipients xmlns="ResolveRecipients:">` (code page 10,
    /// ResolveRecipients 0x05), closed by [`Body::done`].
    fn resolve_recipients() -> Body {
        Body::new(0x0A, 0x05)
    }

    fn to(self, to: &str) -> Body {
        self.text(TO, to)
    }
}

/// alice and bob (the test devices' users) and two more whose names start
/// with "al" like alice's.
async fn start() -> MockServer {
    let mut accounts = Account::defaults();
    accounts.push(Account::new("alan", "alan-pass"));
    let mut albert = Account::new("albert", "albert-pass");
    albert.email = "albert.smith@corp.test".to_string();
    accounts.push(albert);
    MockServer::start(MockConfig {
        accounts,
        ..MockConfig::default()
    })
    .await
    .expect("the mock starts")
}

impl Device {
    /// A ResolveRecipients request whose command Status is 1; its
    /// Responses.
    async fn resolve(&self, body: Vec<u8>) -> Vec<Element> {
        let response = self.call("ResolveRecipients", body).await;
        assert_eq!(response.namespace, "ResolveRecipients");
        let names = response.child_names();
        assert_eq!(names.first(), Some(&"Status"), "{response:?}");
        assert!(names[1..].iter().all(|n| *n == "Response"), "{response:?}");
        assert_eq!(
            response.child_text("Status").as_deref(),
            Some("1"),
            "{response:?}"
        );
        response.elements_named("Response").cloned().collect()
    }
}

/// (DisplayName, EmailAddress) of each Recipient of `response`, each of
/// Type 1 (GAL) with these three children first.
fn recipients(response: &Element) -> Vec<(String, String)> {
    response
        .elements_named("Recipient")
        .map(|r| {
            assert_eq!(
                r.child_names()[..3],
                ["Type", "DisplayName", "EmailAddress"],
                "{r:?}"
            );
            assert_eq!(r.child_text("Type").as_deref(), Some("1"));
            (
                r.child_text("DisplayName").unwrap(),
                r.child_text("EmailAddress").unwrap(),
            )
        })
        .collect()
}

fn pair(name: &str, email: &str) -> (String, String) {
    (name.to_string(), email.to_string())
}

#[tokio::test]
async fn options_advertise_resolve_recipients() {
    let server = start().await;
    let r = options(&server).await;
    let commands = r.headers()["ms-asprotocolcommands"].to_str().unwrap();
    assert!(
        commands.split(',').any(|c| c == "ResolveRecipients"),
        "{commands}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn exact_address_resolves_to_one_gal_entry() {
    let server = start().await;
    for version in VERSIONS {
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        // Case does not matter.
        let responses = device
            .resolve(Body::resolve_recipients().to("Bob@Example.Test").done())
            .await;
        assert_eq!(responses.len(), 1, "{version}");
        let r = &responses[0];
        assert_eq!(
            r.child_names(),
            ["To", "Status", "RecipientCount", "Recipient"],
            "{version}"
        );
        assert_eq!(r.child_text("To").as_deref(), Some("Bob@Example.Test"));
        assert_eq!(r.child_text("Status").as_deref(), Some("1"));
        assert_eq!(r.child_text("RecipientCount").as_deref(), Some("1"));
        assert_eq!(recipients(r), [pair("bob", "bob@example.test")]);
        // Nothing beyond the three: no certificates, no free/busy unasked.
        assert_eq!(r.child("Recipient").unwrap().child_names().len(), 3);

        // A whole user name resolves too.
        let responses = device
            .resolve(Body::resolve_recipients().to("ALAN").done())
            .await;
        assert_eq!(responses[0].child_text("Status").as_deref(), Some("1"));
        assert_eq!(
            recipients(&responses[0]),
            [pair("alan", "alan@example.test")]
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn ambiguous_prefix_lists_suggestions_up_to_the_limit() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "bob", "device01").await;
    let all = [
        pair("alan", "alan@example.test"),
        pair("albert", "albert.smith@corp.test"),
        pair("alice", "alice@example.test"),
    ];

    // Without a limit: every match, Status 2.
    let responses = device
        .resolve(Body::resolve_recipients().to("AL").done())
        .await;
    let r = &responses[0];
    assert_eq!(r.child_text("Status").as_deref(), Some("2"), "{r:?}");
    assert_eq!(r.child_text("RecipientCount").as_deref(), Some("3"));
    assert_eq!(recipients(r), all);

    // A limit that keeps them all: still Status 2.
    let body = Body::resolve_recipients()
        .to("al")
        .open(OPTIONS)
        .text(MAX_AMBIGUOUS_RECIPIENTS, "3")
        .end()
        .done();
    let responses = device.resolve(body).await;
    assert_eq!(responses[0].child_text("Status").as_deref(), Some("2"));
    assert_eq!(recipients(&responses[0]).len(), 3);

    // A smaller limit: a partial list, Status 3, RecipientCount the total.
    let body = Body::resolve_recipients()
        .open(OPTIONS)
        .text(MAX_AMBIGUOUS_RECIPIENTS, "2")
        .end()
        .to("al")
        .done();
    let responses = device.resolve(body).await;
    let r = &responses[0];
    assert_eq!(r.child_text("Status").as_deref(), Some("3"), "{r:?}");
    assert_eq!(r.child_text("RecipientCount").as_deref(), Some("3"));
    assert_eq!(recipients(r), all[..2]);

    // A prefix of an address matches too; a unique one resolves.
    let responses = device
        .resolve(Body::resolve_recipients().to("albert.s").done())
        .await;
    assert_eq!(responses[0].child_text("Status").as_deref(), Some("1"));
    assert_eq!(recipients(&responses[0]), all[1..2]);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_recipient_is_not_found() {
    let server = start().await;
    for version in ["12.1", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        let responses = device
            .resolve(Body::resolve_recipients().to("nobody@example.test").done())
            .await;
        assert_eq!(responses.len(), 1);
        let r = &responses[0];
        assert_eq!(r.child_names(), ["To", "Status"], "{version}: {r:?}");
        assert_eq!(r.child_text("Status").as_deref(), Some("4"));
        assert_eq!(r.child_text("To").as_deref(), Some("nobody@example.test"));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn each_to_gets_its_own_response_in_order() {
    let server = start().await;
    let device = Device::provisioned(&server, "16.0", "alice", "device01").await;
    let body = Body::resolve_recipients()
        .to("zed")
        .to("alice@example.test")
        .to("al")
        .to("BOB")
        .done();
    let responses = device.resolve(body).await;
    let summary: Vec<(String, String)> = responses
        .iter()
        .map(|r| (r.child_text("To").unwrap(), r.child_text("Status").unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            pair("zed", "4"),
            pair("alice@example.test", "1"),
            pair("al", "2"),
            pair("BOB", "1"),
        ]
    );
    assert_eq!(recipients(&responses[3]), [pair("bob", "bob@example.test")]);
    server.shutdown().await;
}

#[tokio::test]
async fn certificates_requested_none_available() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    for retrieval in ["2", "3"] {
        let body = Body::resolve_recipients()
            .to("bob@example.test")
            .to("al")
            .open(OPTIONS)
            .text(CERTIFICATE_RETRIEVAL, retrieval)
            .end()
            .done();
        let responses = device.resolve(body).await;
        let recipient = responses[0].child("Recipient").unwrap();
        assert_eq!(
            recipient.child_names(),
            ["Type", "DisplayName", "EmailAddress", "Certificates"]
        );
        let certificates = recipient.child("Certificates").unwrap();
        assert_eq!(certificates.child_names(), ["Status", "CertificateCount"]);
        assert_eq!(certificates.child_text("Status").as_deref(), Some("7"));
        assert_eq!(
            certificates.child_text("CertificateCount").as_deref(),
            Some("0")
        );
        // Ambiguous suggestions carry no certificate nodes.
        assert_eq!(responses[1].child_text("Status").as_deref(), Some("2"));
        for r in responses[1].elements_named("Recipient") {
            assert!(r.child("Certificates").is_none(), "{r:?}");
        }
    }
    // 1: none wanted, none sent.
    let body = Body::resolve_recipients()
        .to("bob@example.test")
        .open(OPTIONS)
        .text(CERTIFICATE_RETRIEVAL, "1")
        .end()
        .done();
    let responses = device.resolve(body).await;
    assert!(
        responses[0]
            .child("Recipient")
            .unwrap()
            .child("Certificates")
            .is_none()
    );
    server.shutdown().await;
}

/// `<Options><Availability>` with StartTime and, if given, EndTime.
fn with_availability(b: Body, start: &str, end: Option<&str>) -> Body {
    let mut b = b.open(OPTIONS).open(AVAILABILITY).text(START_TIME, start);
    if let Some(end) = end {
        b = b.text(END_TIME, end);
    }
    b.end().end()
}

#[tokio::test]
async fn availability_from_14_0_is_all_free() {
    let server = start().await;
    for version in ["14.0", "14.1", "16.1"] {
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        let body = with_availability(
            Body::resolve_recipients().to("bob@example.test").to("al"),
            "2026-05-08T10:00:00.000Z",
            Some("2026-05-08T12:00:00.000Z"),
        )
        .done();
        let responses = device.resolve(body).await;
        let recipient = responses[0].child("Recipient").unwrap();
        assert_eq!(
            recipient.child_names(),
            ["Type", "DisplayName", "EmailAddress", "Availability"],
            "{version}"
        );
        let availability = recipient.child("Availability").unwrap();
        assert_eq!(availability.child_names(), ["Status", "MergedFreeBusy"]);
        assert_eq!(availability.child_text("Status").as_deref(), Some("1"));
        // Two hours: four free half hours.
        assert_eq!(
            availability.child_text("MergedFreeBusy").as_deref(),
            Some("0000")
        );
        // No free/busy data for an ambiguous name.
        for r in responses[1].elements_named("Recipient") {
            assert!(r.child("Availability").is_none(), "{r:?}");
        }

        // Without EndTime: seven days, 336 half hours.
        let body = with_availability(
            Body::resolve_recipients().to("bob"),
            "2026-05-08T10:00:00Z",
            None,
        )
        .done();
        let responses = device.resolve(body).await;
        let merged = responses[0]
            .child("Recipient")
            .and_then(|r| r.child("Availability"))
            .and_then(|a| a.child_text("MergedFreeBusy"))
            .expect("MergedFreeBusy");
        assert_eq!(merged.len(), 7 * 48);
        assert!(merged.bytes().all(|c| c == b'0'), "{merged}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn availability_does_not_exist_in_12_1() {
    let server = start().await;
    let device = Device::provisioned(&server, "12.1", "alice", "device01").await;
    // The tag is not on code page 10 in 12.1: the body is not valid WBXML
    // for that version, which 12.1 signals with HTTP 400.
    let body = with_availability(
        Body::resolve_recipients().to("bob@example.test"),
        "2026-05-08T10:00:00.000Z",
        Some("2026-05-08T12:00:00.000Z"),
    )
    .done();
    assert_eq!(
        device.post("ResolveRecipients", body).await.status(),
        StatusCode::BAD_REQUEST
    );
    // The same request in 14.1 succeeds.
    let device = Device::provisioned(&server, "14.1", "alice", "device02").await;
    let body = with_availability(
        Body::resolve_recipients().to("bob@example.test"),
        "2026-05-08T10:00:00.000Z",
        Some("2026-05-08T12:00:00.000Z"),
    )
    .done();
    assert_eq!(device.resolve(body).await.len(), 1);
    server.shutdown().await;
}

/// Posts `body` and expects the command Status 5 alone.
async fn assert_protocol_error(device: &Device, body: Vec<u8>, why: &str) {
    let response = device.call("ResolveRecipients", body).await;
    assert_eq!(response.child_names(), ["Status"], "{why}: {response:?}");
    assert_eq!(response.child_text("Status").as_deref(), Some("5"), "{why}");
}

#[tokio::test]
async fn malformed_requests_are_protocol_errors() {
    let server = start().await;
    for version in VERSIONS {
        let device = Device::provisioned(&server, version, "alice", "device01").await;
        // No To at all.
        assert_protocol_error(&device, Body::resolve_recipients().done(), "no To").await;
        let options_only = Body::resolve_recipients()
            .open(OPTIONS)
            .text(MAX_AMBIGUOUS_RECIPIENTS, "5")
            .end()
            .done();
        assert_protocol_error(&device, options_only, "Options without To").await;
        // Out of range options.
        let body = Body::resolve_recipients()
            .to("bob")
            .open(OPTIONS)
            .text(CERTIFICATE_RETRIEVAL, "4")
            .end()
            .done();
        assert_protocol_error(&device, body, "CertificateRetrieval 4").await;
        let body = Body::resolve_recipients()
            .to("bob")
            .open(OPTIONS)
            .text(MAX_AMBIGUOUS_RECIPIENTS, "10000")
            .end()
            .done();
        assert_protocol_error(&device, body, "MaxAmbiguousRecipients 10000").await;
        // Too many To, and one too long.
        let mut body = Body::resolve_recipients();
        for _ in 0..101 {
            body = body.to("bob");
        }
        assert_protocol_error(&device, body.done(), "101 To").await;
        let long = "b".repeat(257);
        assert_protocol_error(
            &device,
            Body::resolve_recipients().to(&long).done(),
            "257 characters",
        )
        .await;
    }
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_availability_windows_are_protocol_errors() {
    let server = start().await;
    let device = Device::provisioned(&server, "14.1", "alice", "device01").await;
    let cases = [
        ("not a date", None, "invalid StartTime"),
        ("2026-05-08T10:00:00Z", Some("tomorrow"), "invalid EndTime"),
        (
            "2026-05-08T10:00:00Z",
            Some("2026-05-08T10:29:00Z"),
            "less than 30 minutes",
        ),
        (
            "2026-05-08T10:00:00Z",
            Some("2026-05-08T09:00:00Z"),
            "ends before it starts",
        ),
        (
            "2026-05-08T10:00:00Z",
            Some("2026-06-20T10:00:00Z"),
            "more than 42 days",
        ),
    ];
    for (start, end, why) in cases {
        let body = with_availability(Body::resolve_recipients().to("bob"), start, end).done();
        assert_protocol_error(&device, body, why).await;
    }
    // The bounds themselves are fine.
    for end in ["2026-05-08T10:30:00Z", "2026-06-19T10:00:00Z"] {
        let body = with_availability(
            Body::resolve_recipients().to("bob"),
            "2026-05-08T10:00:00Z",
            Some(end),
        )
        .done();
        assert_eq!(device.resolve(body).await.len(), 1, "{end}");
    }
    server.shutdown().await;
}
