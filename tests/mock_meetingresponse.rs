//! Meeting requests and the mock's MeetingResponse (MS-ASCMD 2.2.1.11,
//! MS-ASEMAIL 2.2.2.48) over real HTTP: alice invites bob with a SendMail
//! carrying a `text/calendar; method=REQUEST` part, bob syncs his Inbox and
//! Calendar and answers. Request bodies are assembled by hand from the
//! MS-ASWBXML code pages 0 (AirSync), 8 (MeetingResponse) and 21
//! (ComposeMail).

mod common;

use common::{Body, Device, items, send_mail_request, sent_ok, start, with_subject};
use eastest::mock::MockServer;
use eastest::wbxml::Element;
use reqwest::StatusCode;

// Code page 8, MeetingResponse.
const MEETING_RESPONSE_PAGE: u8 = 0x08;
const MR_COLLECTION_ID: u8 = 0x06;
const MEETING_RESPONSE: u8 = 0x07;
const REQUEST_ID: u8 = 0x08;
const REQUEST: u8 = 0x09;
const USER_RESPONSE: u8 = 0x0C;
const INSTANCE_ID: u8 = 0x0E;
const SEND_RESPONSE: u8 = 0x12;

const ACCEPT: &str = "1";
const TENTATIVE: &str = "2";
const DECLINE: &str = "3";

/// An invitation from alice to bob: text and a `text/calendar;
/// method=REQUEST` alternative.
fn invitation(uid: &str, summary: &str) -> String {
    format!(
        "From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: {summary}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
         --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLet us plan the launch.\r\n\
         --alt\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//eastest//tests//EN\r\nMETHOD:REQUEST\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T080000Z\r\n\
         DTSTART:20261120T100000Z\r\nDTEND:20261120T110000Z\r\nSUMMARY:{summary}\r\n\
         LOCATION:Room 7\r\nORGANIZER;CN=Alice:mailto:alice@example.test\r\n\
         ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Bob;RSVP=TRUE:mailto:bob@example.test\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n--alt--\r\n"
    )
}

/// alice sends bob the invitation `uid`.
async fn invite(alice: &Device, uid: &str, summary: &str) {
    let body = send_mail_request(uid, false, &invitation(uid, summary));
    sent_ok(alice, "SendMail", body).await;
}

/// `<MeetingResponse><Request>...</Request></MeetingResponse>`.
fn meeting_response(user_response: &str, collection: &str, request_id: &str) -> Body {
    Body::new(MEETING_RESPONSE_PAGE, MEETING_RESPONSE)
        .open(REQUEST)
        .text(USER_RESPONSE, user_response)
        .text(MR_COLLECTION_ID, collection)
        .text(REQUEST_ID, request_id)
}

/// Sends a MeetingResponse with one Request; its one Result.
async fn respond(device: &Device, body: Vec<u8>) -> Element {
    let root = device.call("MeetingResponse", body).await;
    assert_eq!(root.namespace, "MeetingResponse");
    assert_eq!(root.child_names(), ["Result"], "{root:?}");
    root.child("Result").unwrap().clone()
}

async fn alice_and_bob(server: &MockServer, version: &'static str) -> (Device, Device) {
    (
        Device::provisioned(server, version, "alice", "alicedev").await,
        Device::provisioned(server, version, "bob", "bobdev").await,
    )
}

#[tokio::test]
async fn an_invitation_arrives_as_a_meeting_request_with_a_tentative_meeting() {
    let server = start().await;
    for version in ["14.1", "16.1"] {
        let (alice, bob) = alice_and_bob(&server, version).await;
        let uid = format!("launch-{version}");
        let subject = format!("Launch planning {version}");
        invite(&alice, &uid, &subject).await;

        let inbox = items(&bob, "1").await;
        let (_, request) = with_subject(&inbox, &subject).expect("in bob's Inbox");
        assert_eq!(
            request.child_text("MessageClass").as_deref(),
            Some("IPM.Schedule.Meeting.Request")
        );
        let meeting = request
            .child("MeetingRequest")
            .expect("email:MeetingRequest");
        assert_eq!(
            meeting.child_text("StartTime").as_deref(),
            Some("2026-11-20T10:00:00.000Z")
        );
        assert_eq!(
            meeting.child_text("EndTime").as_deref(),
            Some("2026-11-20T11:00:00.000Z")
        );
        assert_eq!(
            meeting.child_text("DtStamp").as_deref(),
            Some("2026-11-01T08:00:00.000Z")
        );
        assert_eq!(meeting.child_text("AllDayEvent").as_deref(), Some("0"));
        assert_eq!(meeting.child_text("InstanceType").as_deref(), Some("0"));
        assert!(
            meeting
                .child_text("Organizer")
                .unwrap()
                .contains("alice@example.test")
        );
        assert!(
            !meeting
                .child_text("TimeZone")
                .unwrap_or_default()
                .is_empty()
        );
        // The schema's order (MS-ASEMAIL 2.2.2.48): StartTime before DtStamp.
        let names = meeting.child_names();
        assert_eq!(
            names[..4],
            ["AllDayEvent", "StartTime", "DtStamp", "EndTime"]
        );
        if version == "14.1" {
            assert_eq!(meeting.child_text("Location").as_deref(), Some("Room 7"));
            assert!(meeting.child("GlobalObjId").is_some());
        } else {
            let location = meeting.child("Location").expect("airsyncbase:Location");
            assert_eq!(location.namespace, "AirSyncBase");
            assert_eq!(
                location.child_text("DisplayName").as_deref(),
                Some("Room 7")
            );
            assert_eq!(meeting.child_text("UID").as_deref(), Some(uid.as_str()));
            assert!(meeting.child("GlobalObjId").is_none());
        }

        // As Exchange does: a tentative meeting in bob's Calendar.
        let calendar = items(&bob, "7").await;
        let (_, event) = with_subject(&calendar, &subject).expect("a tentative meeting");
        assert_eq!(event.child_text("UID").as_deref(), Some(uid.as_str()));
        assert_eq!(
            event.child_text("StartTime").as_deref(),
            Some("20261120T100000Z")
        );
        assert_eq!(event.child_text("BusyStatus").as_deref(), Some("1"));
        assert_eq!(event.child_text("MeetingStatus").as_deref(), Some("3"));
        assert_eq!(event.child_text("ResponseType").as_deref(), Some("5"));
        assert_eq!(
            event.child_text("OrganizerEmail").as_deref(),
            Some("alice@example.test")
        );
    }
}

#[tokio::test]
async fn accepting_puts_the_meeting_in_the_calendar() {
    let server = start().await;
    let (alice, bob) = alice_and_bob(&server, "14.1").await;
    invite(&alice, "accept-1", "Budget review").await;
    let inbox = items(&bob, "1").await;
    let (request_id, _) = with_subject(&inbox, "Budget review").unwrap().clone();

    let result = respond(
        &bob,
        meeting_response(ACCEPT, "1", &request_id).end().done(),
    )
    .await;
    assert_eq!(result.child_names(), ["RequestId", "Status", "CalendarId"]);
    assert_eq!(result.child_text("RequestId"), Some(request_id.clone()));
    assert_eq!(result.child_text("Status").as_deref(), Some("1"));
    let calendar_id = result.child_text("CalendarId").unwrap();

    let calendar = items(&bob, "7").await;
    let (id, event) = with_subject(&calendar, "Budget review").expect("in the Calendar");
    assert_eq!(id, &calendar_id);
    assert_eq!(event.child_text("UID").as_deref(), Some("accept-1"));
    assert_eq!(event.child_text("BusyStatus").as_deref(), Some("2"));
    assert_eq!(event.child_text("ResponseType").as_deref(), Some("3"));
    assert!(event.child("AppointmentReplyTime").is_some());
    // The request left the Inbox (for Deleted Items, as Exchange does).
    assert!(with_subject(&items(&bob, "1").await, "Budget review").is_none());
    assert!(with_subject(&items(&bob, "3").await, "Budget review").is_some());
    // Answering the same request again: it is gone.
    let again = respond(
        &bob,
        meeting_response(ACCEPT, "1", &request_id).end().done(),
    )
    .await;
    assert_eq!(again.child_text("Status").as_deref(), Some("2"));
}

#[tokio::test]
async fn declining_removes_the_meeting() {
    let server = start().await;
    let (alice, bob) = alice_and_bob(&server, "14.1").await;
    invite(&alice, "decline-1", "Optional social").await;
    assert!(with_subject(&items(&bob, "7").await, "Optional social").is_some());
    let inbox = items(&bob, "1").await;
    let (request_id, _) = with_subject(&inbox, "Optional social").unwrap().clone();

    let result = respond(
        &bob,
        meeting_response(DECLINE, "1", &request_id).end().done(),
    )
    .await;
    assert_eq!(
        result.child_names(),
        ["RequestId", "Status"],
        "no CalendarId when declining"
    );
    assert_eq!(result.child_text("Status").as_deref(), Some("1"));
    assert!(with_subject(&items(&bob, "7").await, "Optional social").is_none());
    assert!(with_subject(&items(&bob, "1").await, "Optional social").is_none());
}

#[tokio::test]
async fn the_calendar_item_itself_can_be_answered() {
    let server = start().await;
    let (alice, bob) = alice_and_bob(&server, "16.1").await;
    invite(&alice, "tentative-1", "Maybe meeting").await;
    let calendar = items(&bob, "7").await;
    let (event_id, _) = with_subject(&calendar, "Maybe meeting").unwrap().clone();

    let result = respond(
        &bob,
        meeting_response(TENTATIVE, "7", &event_id).end().done(),
    )
    .await;
    assert_eq!(result.child_text("Status").as_deref(), Some("1"));
    assert_eq!(result.child_text("CalendarId"), Some(event_id.clone()));
    let calendar = items(&bob, "7").await;
    let (_, event) = with_subject(&calendar, "Maybe meeting").unwrap();
    assert_eq!(event.child_text("BusyStatus").as_deref(), Some("1"));
    assert_eq!(event.child_text("ResponseType").as_deref(), Some("2"));
}

#[tokio::test]
async fn send_response_replies_to_the_organizer() {
    let server = start().await;
    let (alice, bob) = alice_and_bob(&server, "16.1").await;
    invite(&alice, "reply-1", "Kick-off").await;
    let inbox = items(&bob, "1").await;
    let (request_id, _) = with_subject(&inbox, "Kick-off").unwrap().clone();
    let body = meeting_response(ACCEPT, "1", &request_id)
        .empty(SEND_RESPONSE)
        .end()
        .done();
    assert_eq!(
        respond(&bob, body).await.child_text("Status").as_deref(),
        Some("1")
    );
    let alice_inbox = items(&alice, "1").await;
    let (_, reply) = with_subject(&alice_inbox, "Accepted: Kick-off").expect("a reply");
    assert_eq!(
        reply.child_text("MessageClass").as_deref(),
        Some("IPM.Schedule.Meeting.Resp.Pos")
    );
}

#[tokio::test]
async fn bad_requests_are_invalid_meeting_requests() {
    let server = start().await;
    let (alice, bob) = alice_and_bob(&server, "16.1").await;
    invite(&alice, "bad-1", "Real meeting").await;
    let inbox = items(&bob, "1").await;
    let (request_id, _) = with_subject(&inbox, "Real meeting").unwrap().clone();
    let (plain_id, _) = with_subject(&inbox, "Quarterly figures").unwrap().clone();

    let cases = [
        (
            "unknown RequestId",
            meeting_response(ACCEPT, "1", "1:9999").end().done(),
        ),
        (
            "garbage RequestId",
            meeting_response(ACCEPT, "1", "garbage").end().done(),
        ),
        (
            "wrong CollectionId",
            meeting_response(ACCEPT, "7", &request_id).end().done(),
        ),
        (
            "a plain message",
            meeting_response(ACCEPT, "1", &plain_id).end().done(),
        ),
        (
            "UserResponse 4",
            meeting_response("4", "1", &request_id).end().done(),
        ),
        (
            "InstanceId on a message",
            meeting_response(ACCEPT, "1", &request_id)
                .text(INSTANCE_ID, "2026-11-20T10:00:00.000Z")
                .end()
                .done(),
        ),
        (
            "no RequestId",
            Body::new(MEETING_RESPONSE_PAGE, MEETING_RESPONSE)
                .open(REQUEST)
                .text(USER_RESPONSE, ACCEPT)
                .text(MR_COLLECTION_ID, "1")
                .end()
                .done(),
        ),
    ];
    for (what, body) in cases {
        let result = respond(&bob, body).await;
        assert_eq!(
            result.child_text("Status").as_deref(),
            Some("2"),
            "{what}: {result:?}"
        );
        assert!(result.child("CalendarId").is_none(), "{what}");
    }
    // The seed's stand-up is organized by the mailbox's owner: not answerable.
    let calendar = items(&bob, "7").await;
    let (standup, _) = with_subject(&calendar, "Team stand-up").unwrap().clone();
    let result = respond(&bob, meeting_response(ACCEPT, "7", &standup).end().done()).await;
    assert_eq!(result.child_text("Status").as_deref(), Some("2"));
    // A malformed InstanceId: 104 InvalidDateTime.
    let (event_id, _) = with_subject(&calendar, "Real meeting").unwrap().clone();
    let body = meeting_response(ACCEPT, "7", &event_id)
        .text(INSTANCE_ID, "tomorrow")
        .end()
        .done();
    assert_eq!(
        respond(&bob, body).await.child_text("Status").as_deref(),
        Some("104")
    );
    // An InstanceId on a meeting that does not recur: 146.
    let body = meeting_response(ACCEPT, "7", &event_id)
        .text(INSTANCE_ID, "2026-11-20T10:00:00.000Z")
        .end()
        .done();
    assert_eq!(
        respond(&bob, body).await.child_text("Status").as_deref(),
        Some("146")
    );
    // None of that touched the meeting request.
    assert!(with_subject(&items(&bob, "1").await, "Real meeting").is_some());
}

#[tokio::test]
async fn several_requests_get_one_result_each() {
    let server = start().await;
    let (alice, bob) = alice_and_bob(&server, "14.1").await;
    invite(&alice, "multi-1", "First").await;
    invite(&alice, "multi-2", "Second").await;
    let inbox = items(&bob, "1").await;
    let first = with_subject(&inbox, "First").unwrap().0.clone();
    let second = with_subject(&inbox, "Second").unwrap().0.clone();
    let body = meeting_response(ACCEPT, "1", &first)
        .end()
        .open(REQUEST)
        .text(USER_RESPONSE, DECLINE)
        .text(MR_COLLECTION_ID, "1")
        .text(REQUEST_ID, &second)
        .end()
        .open(REQUEST)
        .text(USER_RESPONSE, ACCEPT)
        .text(MR_COLLECTION_ID, "1")
        .text(REQUEST_ID, "1:424242")
        .end()
        .done();
    let root = bob.call("MeetingResponse", body).await;
    let statuses: Vec<(String, String)> = root
        .elements_named("Result")
        .map(|r| {
            (
                r.child_text("RequestId").unwrap(),
                r.child_text("Status").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (first, "1".to_string()),
            (second, "1".to_string()),
            ("1:424242".to_string(), "2".to_string())
        ]
    );
    let calendar = items(&bob, "7").await;
    assert!(with_subject(&calendar, "First").is_some());
    assert!(with_subject(&calendar, "Second").is_none());
}

#[tokio::test]
async fn a_response_without_requests_is_invalid_xml() {
    let server = start().await;
    let bob = Device::provisioned(&server, "14.1", "bob", "bobdev").await;
    let root = bob
        .call(
            "MeetingResponse",
            Body::new(MEETING_RESPONSE_PAGE, MEETING_RESPONSE).done(),
        )
        .await;
    assert_eq!(root.child_text("Status").as_deref(), Some("103"));
    let old = Device::provisioned(&server, "12.1", "bob", "olddev").await;
    let response = old
        .post(
            "MeetingResponse",
            Body::new(MEETING_RESPONSE_PAGE, MEETING_RESPONSE).done(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
