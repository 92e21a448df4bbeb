//! The mock's SendMail, SmartReply and SmartForward (MS-ASCMD 2.2.1.17,
//! 2.2.1.20, 2.2.1.19) over real HTTP: WBXML bodies from 14.0 assembled by
//! hand from the MS-ASWBXML code page 21 (ComposeMail) table, raw MIME
//! bodies in 12.1, and delivery checked by Syncing the recipient's folders
//! from the recipient's own device.

mod common;

use common::{
    Body, CLIENT_ID, COMPOSE_MAIL, Device, MIME, SAVE_IN_SENT_ITEMS, SEND_MAIL, items,
    send_mail_request, sent_ok, start, with_subject,
};
use eastest::mock::MockServer;
use eastest::wbxml::{DecodeOptions, Element, ProtocolVersion};
use reqwest::StatusCode;

// Code page 21, ComposeMail (the SendMail tokens are common's).
const SMART_FORWARD: u8 = 0x06;
const SMART_REPLY: u8 = 0x07;
const REPLACE_MIME: u8 = 0x09;
const SOURCE: u8 = 0x0B;
const FOLDER_ID: u8 = 0x0C;
const ITEM_ID: u8 = 0x0D;
const ACCOUNT_ID: u8 = 0x13;

/// SmartReply or SmartForward of `item` in `folder`.
fn smart(
    root: u8,
    client_id: &str,
    folder: &str,
    item: &str,
    replace: bool,
    mime: &str,
) -> Vec<u8> {
    let mut b = Body::new(COMPOSE_MAIL, root)
        .text(CLIENT_ID, client_id)
        .open(SOURCE)
        .text(FOLDER_ID, folder)
        .text(ITEM_ID, item)
        .end()
        .empty(SAVE_IN_SENT_ITEMS);
    if replace {
        b = b.empty(REPLACE_MIME);
    }
    b.text(MIME, mime).done()
}

fn message(to: &str, subject: &str, text: &str) -> String {
    format!(
        "From: \"Alice\" <alice@example.test>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Date: Fri, 20 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}"
    )
}

/// Posts a ComposeMail command that must fail; its root `Status`.
async fn status_of(device: &Device, cmd: &str, body: Vec<u8>) -> String {
    let root = device.call(cmd, body).await;
    assert_eq!(root.namespace, "ComposeMail");
    assert_eq!(root.child_names(), ["Status"], "{root:?}");
    root.child_text("Status").unwrap()
}

/// A 12.1 request with a raw MIME body and extra request-line parameters.
async fn post_mime(device: &Device, cmd: &str, params: &str, mime: &str) -> reqwest::Response {
    device
        .request_with(cmd, params, "message/rfc822", mime.to_string())
        .send()
        .await
        .expect("the mock answers")
}

fn body_text(data: &Element) -> String {
    data.child("Body")
        .and_then(|b| b.child_text("Data"))
        .unwrap_or_default()
}

async fn bob(server: &MockServer) -> Device {
    Device::provisioned(server, "14.1", "bob", "bobdev").await
}

#[tokio::test]
async fn send_mail_reaches_bobs_inbox_and_alices_sent_items() {
    let server = start().await;
    let bob = bob(&server).await;
    for version in ["14.1", "16.1"] {
        let alice = Device::provisioned(&server, version, "alice", "alicedev").await;
        let subject = format!("Status report {version}");
        let mime = message(
            "\"Bob\" <bob@example.test>",
            &subject,
            "All green this week.",
        );
        // 14.1 sends the MIME as a string, 16.1 as opaque data.
        let body = if version == "14.1" {
            send_mail_request(&format!("id-{version}"), true, &mime)
        } else {
            Body::new(COMPOSE_MAIL, SEND_MAIL)
                .text(CLIENT_ID, "id-16.1")
                .empty(SAVE_IN_SENT_ITEMS)
                .opaque(MIME, mime.as_bytes())
                .done()
        };
        sent_ok(&alice, "SendMail", body).await;

        let inbox = items(&bob, "1").await;
        let (_, got) = with_subject(&inbox, &subject).expect("delivered to bob");
        assert!(
            got.child_text("From")
                .unwrap()
                .contains("alice@example.test")
        );
        assert_eq!(
            got.child_text("To").as_deref(),
            Some("\"Bob\" <bob@example.test>")
        );
        assert_eq!(got.child_text("DisplayTo").as_deref(), Some("Bob"));
        assert_eq!(got.child_text("Read").as_deref(), Some("0"));
        assert_eq!(got.child_text("MessageClass").as_deref(), Some("IPM.Note"));
        assert_eq!(body_text(got), "All green this week.");
        let received = got.child_text("DateReceived").unwrap();
        assert!(
            received.len() == 24 && received.ends_with(".000Z") && received.as_bytes()[10] == b'T',
            "{received}"
        );

        let sent = items(&alice, "4").await;
        let (_, copy) = with_subject(&sent, &subject).expect("a copy in Sent Items");
        assert_eq!(copy.child_text("Read").as_deref(), Some("1"));
    }
}

#[tokio::test]
async fn without_save_in_sent_items_no_copy_is_kept() {
    let server = start().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "alicedev").await;
    let mime = message("bob@example.test", "Not kept", "x");
    sent_ok(
        &alice,
        "SendMail",
        send_mail_request("nokeep", false, &mime),
    )
    .await;
    assert!(with_subject(&items(&alice, "4").await, "Not kept").is_none());
    assert!(with_subject(&items(&bob(&server).await, "1").await, "Not kept").is_some());
}

#[tokio::test]
async fn send_mail_in_12_1_is_raw_mime() {
    let server = start().await;
    let alice = Device::provisioned(&server, "12.1", "alice", "old").await;
    let mime = message(
        "bob@example.test, Carol <carol@elsewhere.test>",
        "Old school",
        "Sent as MIME.",
    );
    let response = post_mime(&alice, "SendMail", "&SaveInSent=T", &mime).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.bytes().await.unwrap().is_empty());
    let inbox = items(&bob(&server).await, "1").await;
    let (_, got) = with_subject(&inbox, "Old school").expect("delivered");
    assert_eq!(body_text(got), "Sent as MIME.");
    let alice_now = Device::provisioned(&server, "14.1", "alice", "newer").await;
    assert!(with_subject(&items(&alice_now, "4").await, "Old school").is_some());

    // 12.1 failures are HTTP errors: no recipient, no body, unknown source.
    let nobody = post_mime(&alice, "SendMail", "", "Subject: to nobody\r\n\r\nx").await;
    assert_eq!(nobody.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let empty = post_mime(&alice, "SendMail", "", "").await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let garbage = post_mime(&alice, "SendMail", "", "not a message").await;
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    let unknown = post_mime(
        &alice,
        "SmartReply",
        "&ItemId=1:9999&CollectionId=1",
        &message("bob@example.test", "Re: ?", "x"),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn recipients_outside_the_mock_are_accepted_and_dropped() {
    let server = start().await;
    let alice = Device::provisioned(&server, "16.1", "alice", "alicedev").await;
    let mime = message("someone@elsewhere.test", "To the world", "hello");
    sent_ok(&alice, "SendMail", send_mail_request("world", true, &mime)).await;
    // Accepted: kept in Sent Items; delivered to no one in the mock.
    assert!(with_subject(&items(&alice, "4").await, "To the world").is_some());
    assert!(with_subject(&items(&bob(&server).await, "1").await, "To the world").is_none());
    assert!(with_subject(&items(&alice, "1").await, "To the world").is_none());
}

#[tokio::test]
async fn cc_and_bcc_recipients_get_it_and_bcc_stays_hidden() {
    let server = start().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "alicedev").await;
    let mime = "From: alice@example.test\r\nTo: x@elsewhere.test\r\nBcc: bob@example.test\r\n\
                Subject: Blind\r\n\r\nsecret";
    sent_ok(&alice, "SendMail", send_mail_request("bcc", false, mime)).await;
    let inbox = items(&bob(&server).await, "1").await;
    let (_, got) = with_subject(&inbox, "Blind").expect("Bcc recipients get the message");
    assert_eq!(got.child_text("ReceivedAsBcc").as_deref(), Some("1"));
    assert!(got.child("Cc").is_none());
}

#[tokio::test]
async fn submission_errors_have_the_common_statuses() {
    let server = start().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "alicedev").await;
    let ok = message("bob@example.test", "Once", "only once");

    // 103 InvalidXML: no Mime; no ClientId.
    let no_mime = Body::new(COMPOSE_MAIL, SEND_MAIL)
        .text(CLIENT_ID, "m1")
        .done();
    assert_eq!(status_of(&alice, "SendMail", no_mime).await, "103");
    let no_client_id = Body::new(COMPOSE_MAIL, SEND_MAIL).text(MIME, &ok).done();
    assert_eq!(status_of(&alice, "SendMail", no_client_id).await, "103");
    // 119 MessageHasNoRecipient.
    let nobody = send_mail_request(
        "m2",
        false,
        "From: alice@example.test\r\nSubject: x\r\n\r\nx",
    );
    assert_eq!(status_of(&alice, "SendMail", nobody).await, "119");
    // 107 InvalidMIME: not even a header field.
    let garbage = send_mail_request("m3", false, "just some words");
    assert_eq!(status_of(&alice, "SendMail", garbage).await, "107");
    // 166 InvalidAccountId: the mock's users have no secondary accounts.
    let account = Body::new(COMPOSE_MAIL, SEND_MAIL)
        .text(CLIENT_ID, "m4")
        .text(ACCOUNT_ID, "other")
        .text(MIME, &ok)
        .done();
    assert_eq!(status_of(&alice, "SendMail", account).await, "166");

    // 118 MessagePreviouslySent: the same ClientId again is not sent twice.
    sent_ok(&alice, "SendMail", send_mail_request("m5", false, &ok)).await;
    assert_eq!(
        status_of(&alice, "SendMail", send_mail_request("m5", false, &ok)).await,
        "118"
    );
    let inbox = items(&bob(&server).await, "1").await;
    let copies = inbox
        .iter()
        .filter(|(_, d)| d.child_text("Subject").as_deref() == Some("Once"))
        .count();
    assert_eq!(copies, 1);
    // A failed submission does not use up its ClientId.
    assert_eq!(
        status_of(&alice, "SendMail", send_mail_request("m6", false, "x")).await,
        "107"
    );
    sent_ok(
        &alice,
        "SendMail",
        send_mail_request("m6", false, &message("bob@example.test", "Later", "x")),
    )
    .await;
}

/// alice's seed message "Quarterly figures" (with an attachment), found by
/// syncing her Inbox.
async fn quarterly_figures(alice: &Device) -> String {
    let inbox = items(alice, "1").await;
    with_subject(&inbox, "Quarterly figures")
        .expect("the seed message")
        .0
        .clone()
}

#[tokio::test]
async fn smart_reply_quotes_the_original() {
    let server = start().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "alicedev").await;
    let id = quarterly_figures(&alice).await;
    let reply = message(
        "bob@example.test",
        "RE: Quarterly figures",
        "Thanks, looks good.",
    );
    sent_ok(
        &alice,
        "SmartReply",
        smart(SMART_REPLY, "r1", "1", &id, false, &reply),
    )
    .await;

    let inbox = items(&bob(&server).await, "1").await;
    let (_, got) = with_subject(&inbox, "RE: Quarterly figures").expect("the reply");
    let text = body_text(got);
    assert!(text.starts_with("Thanks, looks good."), "{text}");
    assert!(
        text.contains("the Q3 figures are attached."),
        "the original: {text}"
    );
    assert!(text.contains("Subject: Quarterly figures"), "{text}");
    assert!(
        got.child("Attachments").is_none(),
        "a reply does not carry attachments"
    );
    assert_eq!(
        got.child_text("ThreadTopic").as_deref(),
        Some("Quarterly figures")
    );

    // The original records the reply (email2:LastVerbExecuted 1, reply to sender).
    let alice_inbox = items(&alice, "1").await;
    let (_, original) = with_subject(&alice_inbox, "Quarterly figures").unwrap();
    assert_eq!(
        original.child_text("LastVerbExecuted").as_deref(),
        Some("1")
    );
    // And the reply went to Sent Items.
    assert!(with_subject(&items(&alice, "4").await, "RE: Quarterly figures").is_some());
}

#[tokio::test]
async fn smart_forward_carries_text_and_attachments() {
    let server = start().await;
    let alice = Device::provisioned(&server, "16.1", "alice", "alicedev").await;
    let id = quarterly_figures(&alice).await;
    let forward = message("bob@example.test", "FW: Quarterly figures", "FYI");
    sent_ok(
        &alice,
        "SmartForward",
        smart(SMART_FORWARD, "f1", "1", &id, false, &forward),
    )
    .await;

    let inbox = items(&bob(&server).await, "1").await;
    let (_, got) = with_subject(&inbox, "FW: Quarterly figures").expect("the forward");
    let text = body_text(got);
    assert!(
        text.starts_with("FYI") && text.contains("the Q3 figures are attached."),
        "{text}"
    );
    let attachment = got
        .child("Attachments")
        .and_then(|a| a.child("Attachment"))
        .expect("the original's attachment");
    assert_eq!(
        attachment.child_text("DisplayName").as_deref(),
        Some("q3-figures.csv")
    );
    // "quarter,revenue\r\nQ3,1200\r\n", as in the original.
    assert_eq!(
        attachment.child_text("EstimatedDataSize").as_deref(),
        Some("26")
    );

    let alice_inbox = items(&alice, "1").await;
    let (_, original) = with_subject(&alice_inbox, "Quarterly figures").unwrap();
    assert_eq!(
        original.child_text("LastVerbExecuted").as_deref(),
        Some("3")
    );
}

#[tokio::test]
async fn replace_mime_sends_the_clients_message_alone() {
    let server = start().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "alicedev").await;
    let id = quarterly_figures(&alice).await;
    let forward = message("bob@example.test", "FW: replaced", "My own text only.");
    sent_ok(
        &alice,
        "SmartForward",
        smart(SMART_FORWARD, "f2", "1", &id, true, &forward),
    )
    .await;
    let inbox = items(&bob(&server).await, "1").await;
    let (_, got) = with_subject(&inbox, "FW: replaced").expect("delivered");
    assert_eq!(body_text(got), "My own text only.");
    assert!(got.child("Attachments").is_none());
}

#[tokio::test]
async fn smart_forward_in_12_1_uses_the_request_line() {
    let server = start().await;
    let alice14 = Device::provisioned(&server, "14.1", "alice", "alicedev").await;
    let id = quarterly_figures(&alice14).await;
    let alice = Device::provisioned(&server, "12.1", "alice", "old").await;
    let forward = message("bob@example.test", "FW: old style", "See below.");
    let response = post_mime(
        &alice,
        "SmartForward",
        &format!("&ItemId={id}&CollectionId=1"),
        &forward,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let inbox = items(&bob(&server).await, "1").await;
    let (_, got) = with_subject(&inbox, "FW: old style").expect("delivered");
    assert!(body_text(got).contains("the Q3 figures are attached."));
}

#[tokio::test]
async fn unknown_sources_are_item_not_found() {
    let server = start().await;
    let alice = Device::provisioned(&server, "14.1", "alice", "alicedev").await;
    let id = quarterly_figures(&alice).await;
    let reply = message("bob@example.test", "RE: ?", "x");
    for (folder, item) in [("1", "1:9999"), ("4", id.as_str()), ("1", "garbage")] {
        let body = smart(
            SMART_REPLY,
            &format!("u-{folder}-{item}"),
            folder,
            item,
            false,
            &reply,
        );
        assert_eq!(
            status_of(&alice, "SmartReply", body).await,
            "150",
            "{folder} {item}"
        );
    }
    // Without Source at all: InvalidXML.
    let no_source = Body::new(COMPOSE_MAIL, SMART_FORWARD)
        .text(CLIENT_ID, "u-none")
        .text(MIME, &reply)
        .done();
    assert_eq!(status_of(&alice, "SmartForward", no_source).await, "103");
    assert!(with_subject(&items(&bob(&server).await, "1").await, "RE: ?").is_none());
}

#[test]
fn opaque_lengths_use_multi_byte_integers() {
    let b = Body::new(COMPOSE_MAIL, SEND_MAIL)
        .opaque(MIME, &[b'x'; 200])
        .done();
    // 200 = 0x81 0x48.
    assert_eq!(&b[8..11], &[0xC3, 0x81, 0x48]);
    let root = Element::from_wbxml(&b, &DecodeOptions::strict(ProtocolVersion::V16_1)).unwrap();
    assert_eq!(
        root.child("Mime")
            .and_then(Element::opaque)
            .map(<[u8]>::len),
        Some(200)
    );
}
