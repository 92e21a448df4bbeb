//! SendMail, SmartReply, SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20,
//! 2.2.1.19): message submission and delivery inside the mock.
//!
//! # Requests
//!
//! From 14.0 the body is WBXML (ComposeMail code page): `ClientId`,
//! `AccountId`, `SaveInSentItems`, `Mime` (opaque or a string), and for the
//! Smart commands `Source` (`FolderId` + `ItemId`, or `LongId`; `InstanceId`)
//! and `ReplaceMime`; 16.0 adds `Forwardees` to SmartForward. Up to 12.1 the
//! body is the raw MIME (`message/rfc822`) and the request line carries
//! `SaveInSent=T` and, for the Smart commands, `ItemId` and `CollectionId`.
//!
//! # Answers
//!
//! Success is HTTP 200 with an empty body in every version (MS-ASCMD
//! 2.2.3.177.14, .16: "no XML body"). Failures are a `Status` child of the
//! command's root from 14.0 and HTTP errors up to 12.1. The statuses, from
//! the common codes (MS-ASCMD 2.2.2), as Exchange uses them:
//!
//! | Status | When | 12.1 |
//! |---|---|---|
//! | 103 InvalidXML | no `ClientId`, no `Mime`, a Smart command without `Source` or without an item in it | HTTP 400 |
//! | 104 InvalidDateTime | a `Source/InstanceId` that is not a date-time | HTTP 400 |
//! | 107 InvalidMIME | a message without a single header field | HTTP 400 |
//! | 118 MessagePreviouslySent | a `ClientId` this user already sent successfully (the last 1024 submissions are remembered) | - |
//! | 119 MessageHasNoRecipient | no address in `To`, `Cc`, `Bcc` (nor `Forwardees`) | HTTP 500 |
//! | 150 ItemNotFound | the Smart command's source item is not in the mailbox, or not in `FolderId` | HTTP 500 |
//! | 166 InvalidAccountId | any `AccountId`: the mock's users have no secondary accounts | - |
//!
//! 12.1 has neither `ClientId` nor `AccountId`; the RS gives no HTTP code
//! for 119 and 150, and Exchange 2007 answers submission failures with HTTP
//! 500, which the mock does too.
//!
//! # Delivery
//!
//! Every recipient (`To`, `Cc`, `Bcc`) whose address is an account's
//! primary SMTP address gets an Email item in their Inbox (waking their
//! Pings and waiting Syncs): `To`, `Cc`, `From`, `Subject`, `ReplyTo`,
//! `DateReceived` (now), `DisplayTo`, `ThreadTopic`, `Importance` (from
//! `Importance` or `X-Priority`), `Read` 0, the attachments, a plain text
//! body (HTML when the message has no plain text), `MessageClass`,
//! `InternetCPID` 65001, `ContentClass`, and `email2:ReceivedAsBcc` for
//! Bcc recipients; the MIME source is kept without its `Bcc` field
//! (RFC 5322 3.6.3). Several addresses of one user deliver one copy. A
//! message without `From` gets the sender's address. Addresses outside the
//! mock are accepted and dropped, as a real server hands them to the
//! Internet. `SaveInSentItems` puts a read copy (with `Bcc`) in the sender's
//! Sent Items.
//!
//! # Meeting requests (MS-ASEMAIL 2.2.2.48)
//!
//! A message with a `text/calendar; method=REQUEST` part (alone, or inside
//! `multipart/alternative` or `multipart/mixed`) whose `VEVENT` has a
//! `DTSTART` becomes, for each recipient, an `IPM.Schedule.Meeting.Request`
//! with an `email:MeetingRequest` (AllDayEvent, StartTime, DtStamp, EndTime,
//! InstanceType, Location or `airsyncbase:Location`, Organizer,
//! ResponseRequested, Sensitivity, BusyStatus, TimeZone (UTC), GlobalObjId
//! or `calendar:UID`, DisallowNewTimeProposal, `email2:MeetingMessageType`
//! 1), and, as Exchange does, a tentative meeting in the recipient's
//! Calendar (BusyStatus 1, MeetingStatus 3, ResponseType 5 not responded);
//! a later request with the same UID updates it. See [`super::meetingresponse`].
//! Times with a `TZID` are read as UTC (the mock has no time zone database)
//! and recurrence rules are not carried over.
//!
//! # SmartReply and SmartForward
//!
//! The source item must be in the sender's mailbox. Unless `ReplaceMime` is
//! given, the sent message is rebuilt from the client's header fields, its
//! text followed by the original's (after an Outlook-style
//! `From/Sent/To/Subject` block), and its attachments; SmartForward also
//! carries the original's attachments. With `ReplaceMime` the client's MIME
//! goes out as it is. The source item gets `email2:LastVerbExecuted` (1 reply
//! to sender, 2 reply to all when the reply has more than one recipient,
//! 3 forward) and `LastVerbExecutionTime`, as Exchange records them.
//! `InstanceId` is checked for its format and otherwise ignored (the whole
//! item is the source). `LongId` is looked up as a ServerId.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::protocol::{Command, ParamName};
use crate::wbxml::{Element, Node, ProtocolVersion};

use super::command::{Ctx, Reply, root_of};
use super::items::{Attachment, Class, Item, strip_html};
use super::mime::{self, Address, Event, Part};
use super::seed::time_zone_blob;
use super::state::Mailbox;
use super::xml::XmlOut;

/// Common status codes (MS-ASCMD 2.2.2) this module answers with.
pub mod status {
    pub const INVALID_XML: u16 = 103;
    pub const INVALID_DATE_TIME: u16 = 104;
    pub const INVALID_MIME: u16 = 107;
    pub const MESSAGE_PREVIOUSLY_SENT: u16 = 118;
    pub const MESSAGE_HAS_NO_RECIPIENT: u16 = 119;
    pub const ITEM_NOT_FOUND: u16 = 150;
    pub const INVALID_ACCOUNT_ID: u16 = 166;
}

/// Folder types (MS-ASCMD 2.2.3.186.3).
const INBOX: u8 = 2;
const DELETED_ITEMS: u8 = 4;
const SENT_ITEMS: u8 = 5;
const CALENDAR: u8 = 8;

/// A failed submission: the status and why.
#[derive(Debug)]
struct Failure {
    status: u16,
    why: String,
}

fn fail<T>(status: u16, why: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        status,
        why: why.into(),
    })
}

pub fn handle(command: Command, ctx: &Ctx, request: Option<&Element>) -> Reply {
    match submit(command, ctx, request) {
        // No XML body on success (MS-ASCMD 2.2.3.177.14, 2.2.3.177.16).
        Ok(()) => Reply::Wbxml(Vec::new()),
        Err(f) => failure(command, ctx.version, f),
    }
}

/// A `Status` at the root from 14.0; up to 12.1 an HTTP error: 400 for a
/// request the server cannot read, 500 for a message it cannot submit.
fn failure(command: Command, version: ProtocolVersion, f: Failure) -> Reply {
    if version >= ProtocolVersion::V14_0
        && let Some((ns, root)) = root_of(command)
    {
        let mut out = XmlOut::new(ns, root, &[]);
        out.leaf("Status", f.status.to_string());
        return Reply::from_encoded(out.finish(root, version));
    }
    let http = match f.status {
        status::INVALID_XML | status::INVALID_DATE_TIME | status::INVALID_MIME => 400,
        _ => 500,
    };
    Reply::Http(http, format!("{} (status {})", f.why, f.status))
}

/// What the client submitted.
#[derive(Debug, Default)]
struct Submission {
    client_id: Option<String>,
    save_in_sent: bool,
    mime: String,
    /// The Smart commands' source item: (FolderId, ItemId).
    source: Option<(Option<String>, String)>,
    replace_mime: bool,
    forwardees: Vec<Address>,
}

/// How many sent ClientIds a user's state remembers.
const REMEMBERED_CLIENT_IDS: usize = 1024;

fn already_sent(ctx: &Ctx, client_id: &str) -> bool {
    ctx.store.with_user(ctx.user, |u| {
        u.sent_client_ids.iter().any(|c| c == client_id)
    })
}

fn remember_sent(ctx: &Ctx, client_id: &str) {
    ctx.store.with_user(ctx.user, |u| {
        u.sent_client_ids.push_back(client_id.to_string());
        while u.sent_client_ids.len() > REMEMBERED_CLIENT_IDS {
            u.sent_client_ids.pop_front();
        }
    });
}

fn submit(command: Command, ctx: &Ctx, request: Option<&Element>) -> Result<(), Failure> {
    let smart = command != Command::SendMail;
    let submission = match request {
        Some(request) => read_wbxml(request, smart)?,
        None => read_query_and_mime(ctx, smart)?,
    };
    if let Some(id) = &submission.client_id
        && already_sent(ctx, id)
    {
        return fail(
            status::MESSAGE_PREVIOUSLY_SENT,
            format!("MessagePreviouslySent: ClientId `{id}` was already sent"),
        );
    }
    let message = match mime::parse(&submission.mime) {
        Ok(m) => m,
        Err(e) => return fail(status::INVALID_MIME, format!("InvalidMIME: {}", e.0)),
    };
    let sender_address = ctx
        .store
        .directory()
        .into_iter()
        .find(|(u, _)| u == ctx.user)
        .map(|(_, e)| e)
        .unwrap_or_else(|| format!("{}@example.test", ctx.user));

    let mut outgoing = Outgoing::from_message(&message, &submission.mime, &sender_address);
    outgoing.extra_recipients = submission.forwardees.clone();

    let mut verb = None;
    if let Some((folder_id, item_id)) = &submission.source {
        let source = ctx.store.with_mailbox(ctx.user, |m| {
            m.item(item_id)
                .filter(|(f, _)| folder_id.as_deref().is_none_or(|id| id == *f))
                .map(|(_, item)| item.clone())
        });
        let Some(source) = source else {
            return fail(
                status::ITEM_NOT_FOUND,
                format!("ItemNotFound: no item `{item_id}` to reply to or forward"),
            );
        };
        let forward = command == Command::SmartForward;
        if !submission.replace_mime {
            outgoing.quote(&source, forward);
        }
        let verb_code = match (forward, outgoing.recipients().len()) {
            (true, _) => 3,
            (false, n) if n > 1 => 2,
            _ => 1,
        };
        verb = Some((item_id.clone(), verb_code));
    }

    if outgoing.recipients().is_empty() {
        return fail(
            status::MESSAGE_HAS_NO_RECIPIENT,
            "MessageHasNoRecipient: no address in To, Cc or Bcc",
        );
    }
    outgoing.deliver(ctx.store);
    if submission.save_in_sent {
        let copy = outgoing.sent_copy();
        ctx.store.with_mailbox(ctx.user, |m| {
            if let Some(sent) = m.folder_of_type(SENT_ITEMS).map(|f| f.server_id.clone()) {
                m.add_item(&sent, copy);
            }
        });
    }
    if let Some((item_id, code)) = verb {
        let when = mime::eas_datetime(mime::now());
        ctx.store.with_mailbox(ctx.user, |m| {
            m.update_item(&item_id, |item| {
                item.set_text("Email2", "LastVerbExecuted", &code.to_string());
                item.set_text("Email2", "LastVerbExecutionTime", &when);
            });
        });
    }
    if let Some(id) = &submission.client_id {
        remember_sent(ctx, id);
    }
    Ok(())
}

/// The 14.0+ request: `SendMail`, `SmartReply` or `SmartForward`.
fn read_wbxml(request: &Element, smart: bool) -> Result<Submission, Failure> {
    let mut s = Submission::default();
    let text_of = |e: &Element| -> String {
        match e.opaque() {
            Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            None => e.text(),
        }
    };
    for child in request.elements() {
        match child.name.as_str() {
            "ClientId" => s.client_id = Some(child.text().trim().to_string()),
            "AccountId" => {
                return fail(
                    status::INVALID_ACCOUNT_ID,
                    format!(
                        "InvalidAccountId: `{}` (the account has no secondary accounts)",
                        child.text().trim()
                    ),
                );
            }
            "SaveInSentItems" => s.save_in_sent = true,
            "ReplaceMime" => s.replace_mime = true,
            "Mime" => s.mime = text_of(child),
            "Source" if smart => s.source = Some(read_source(child)?),
            "Forwardees" if smart => {
                for f in child.elements_named("Forwardee") {
                    let email = f
                        .child_text("Email")
                        .or_else(|| f.child_text("ForwardeeEmail"))
                        .unwrap_or_default();
                    let name = f
                        .child_text("Name")
                        .or_else(|| f.child_text("ForwardeeName"));
                    s.forwardees
                        .extend(
                            mime::parse_addresses(email.trim())
                                .into_iter()
                                .map(|mut a| {
                                    a.name = a.name.or_else(|| name.clone());
                                    a
                                }),
                        );
                }
            }
            _ => {}
        }
    }
    if s.client_id.as_deref().is_none_or(str::is_empty) {
        return fail(status::INVALID_XML, "InvalidXML: ClientId is missing");
    }
    if request.child("Mime").is_none() {
        return fail(status::INVALID_XML, "InvalidXML: Mime is missing");
    }
    if smart && s.source.is_none() {
        return fail(status::INVALID_XML, "InvalidXML: Source is missing");
    }
    Ok(s)
}

/// `Source`: the item, by `FolderId` + `ItemId` or by `LongId`.
fn read_source(source: &Element) -> Result<(Option<String>, String), Failure> {
    if let Some(instance) = source.child_text("InstanceId")
        && super::sync::parse_any_datetime(&instance).is_none()
    {
        return fail(
            status::INVALID_DATE_TIME,
            format!("InvalidDateTime: InstanceId `{}`", instance.trim()),
        );
    }
    let folder = source.child_text("FolderId").map(|f| f.trim().to_string());
    let item = source
        .child_text("ItemId")
        .or_else(|| source.child_text("LongId"))
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty());
    match item {
        Some(item) => Ok((folder, item)),
        None => fail(status::INVALID_XML, "InvalidXML: Source names no item"),
    }
}

/// The 12.1 request: the MIME body and the request line's parameters.
fn read_query_and_mime(ctx: &Ctx, smart: bool) -> Result<Submission, Failure> {
    if ctx.body.is_empty() {
        return fail(status::INVALID_XML, "the request carries no message");
    }
    let mut s = Submission {
        save_in_sent: ctx.query.save_in_sent,
        mime: String::from_utf8_lossy(ctx.body).into_owned(),
        ..Submission::default()
    };
    if smart {
        let item = ctx
            .query
            .param(&ParamName::ItemId)
            .or_else(|| ctx.query.param(&ParamName::LongId));
        let Some(item) = item.filter(|i| !i.is_empty()) else {
            return fail(status::INVALID_XML, "the request line has no ItemId");
        };
        let folder = ctx
            .query
            .param(&ParamName::CollectionId)
            .map(str::to_string);
        s.source = Some((folder, item.to_string()));
    }
    Ok(s)
}

/// A message on its way: what every copy of it is made from.
struct Outgoing {
    /// The MIME as it goes out (with `Bcc`).
    raw: String,
    to: Vec<Address>,
    cc: Vec<Address>,
    bcc: Vec<Address>,
    /// `Forwardees` (16.0 SmartForward), delivered like `To`.
    extra_recipients: Vec<Address>,
    /// The `From` field as it goes out.
    from: String,
    reply_to: Option<String>,
    subject: String,
    importance: u8,
    /// The text and whether it is HTML.
    text: (String, bool),
    /// (file name, content type, content id, inline, bytes).
    attachments: Vec<OutAttachment>,
    meeting: Option<Event>,
    /// The header fields of the client's message that a rebuilt message
    /// keeps (all but the MIME structure fields).
    headers: Vec<(String, String)>,
    /// When the server received it (`DateReceived`): now for a submission.
    received: i64,
}

#[derive(Debug, Clone)]
struct OutAttachment {
    name: String,
    content_type: String,
    content_id: Option<String>,
    inline: bool,
    content: Vec<u8>,
}

impl Outgoing {
    fn from_message(message: &Part, raw: &str, sender: &str) -> Outgoing {
        let addresses = |name: &str| {
            message
                .raw_header(name)
                .map(mime::parse_addresses)
                .unwrap_or_default()
        };
        let (raw, from) = match message.raw_header("From") {
            Some(from) => (raw.to_string(), mime::decode_words(from)),
            None => (format!("From: {sender}\r\n{raw}"), sender.to_string()),
        };
        let importance = match (
            message
                .header("Importance")
                .map(|i| i.trim().to_ascii_lowercase()),
            message
                .header("X-Priority")
                .and_then(|p| p.trim().chars().next()),
        ) {
            (Some(i), _) if i == "high" => 2,
            (Some(i), _) if i == "low" => 0,
            (None, Some('1' | '2')) => 2,
            (None, Some('4' | '5')) => 0,
            _ => 1,
        };
        let meeting = message
            .calendar()
            .filter(|(method, _)| method == "REQUEST")
            .and_then(|(_, ical)| mime::parse_event(&ical))
            .filter(|e| e.start.is_some());
        let attachments = message
            .leaves()
            .into_iter()
            .filter(|p| p.is_attachment())
            .map(|p| OutAttachment {
                name: p.file_name().unwrap_or_else(|| "attachment".to_string()),
                content_type: p.mime_type.clone(),
                content_id: p
                    .raw_header("Content-ID")
                    .map(|c| c.trim().trim_matches(['<', '>']).to_string()),
                inline: p
                    .raw_header("Content-Disposition")
                    .is_some_and(|d| d.trim().to_ascii_lowercase().starts_with("inline")),
                content: p.body.clone(),
            })
            .collect();
        let structural = ["content-type", "content-transfer-encoding", "mime-version"];
        Outgoing {
            raw,
            to: addresses("To"),
            cc: addresses("Cc"),
            bcc: addresses("Bcc"),
            extra_recipients: Vec::new(),
            from,
            reply_to: message.header("Reply-To"),
            subject: message.header("Subject").unwrap_or_default(),
            importance,
            text: message.text_body().unwrap_or_default(),
            attachments,
            meeting,
            headers: message
                .headers
                .iter()
                .filter(|(n, _)| !structural.contains(&n.to_ascii_lowercase().as_str()))
                .cloned()
                .collect(),
            received: mime::now(),
        }
    }

    /// Every recipient address, each once (case-insensitively).
    fn recipients(&self) -> Vec<&Address> {
        let mut seen: Vec<&Address> = Vec::new();
        for a in self
            .to
            .iter()
            .chain(&self.cc)
            .chain(&self.bcc)
            .chain(&self.extra_recipients)
        {
            if !seen.iter().any(|s| s.email.eq_ignore_ascii_case(&a.email)) {
                seen.push(a);
            }
        }
        seen
    }

    /// Appends the original's text (and, forwarding, its attachments) and
    /// rebuilds the MIME to match.
    fn quote(&mut self, source: &Item, forward: bool) {
        let original = match source.body() {
            Some((2, html)) => strip_html(&html),
            Some((_, text)) => text,
            None => source
                .mime
                .as_deref()
                .and_then(|m| mime::parse(m).ok())
                .and_then(|p| p.text_body())
                .map(|(t, html)| if html { strip_html(&t) } else { t })
                .unwrap_or_default(),
        };
        let mine = if self.text.1 {
            strip_html(&self.text.0)
        } else {
            self.text.0.clone()
        };
        let field = |name: &str| source.text(name).unwrap_or_default();
        let text = format!(
            "{mine}\r\n\r\n________________________________\r\nFrom: {}\r\nSent: {}\r\n\
             To: {}\r\nSubject: {}\r\n\r\n{original}",
            field("From"),
            field("DateReceived"),
            field("To"),
            field("Subject"),
        );
        self.text = (text, false);
        if forward {
            self.attachments.extend(original_attachments(source));
        }
        self.raw = self.rebuild();
    }

    /// The message from the kept header fields, the text and the attachments.
    fn rebuild(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("From"))
        {
            out.push_str(&format!("From: {}\r\n", self.from));
        }
        out.push_str("MIME-Version: 1.0\r\n");
        let text_part = format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
            self.text.0
        );
        if self.attachments.is_empty() {
            out.push_str(&text_part);
            return out;
        }
        let boundary = format!("eastest-{}", next_number());
        out.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{text_part}\r\n"
        ));
        for a in &self.attachments {
            out.push_str(&format!(
                "--{boundary}\r\nContent-Type: {}; name=\"{}\"\r\n\
                 Content-Disposition: {}; filename=\"{}\"\r\nContent-Transfer-Encoding: base64\r\n",
                a.content_type,
                a.name,
                if a.inline { "inline" } else { "attachment" },
                a.name
            ));
            if let Some(id) = &a.content_id {
                out.push_str(&format!("Content-ID: <{id}>\r\n"));
            }
            let encoded = BASE64.encode(&a.content);
            out.push_str("\r\n");
            for line in encoded.as_bytes().chunks(76) {
                out.push_str(&String::from_utf8_lossy(line));
                out.push_str("\r\n");
            }
        }
        out.push_str(&format!("--{boundary}--\r\n"));
        out
    }

    /// Puts a copy in the Inbox of every recipient who is a user of the
    /// mock (one per user), with the tentative meeting for a meeting request.
    fn deliver(&self, store: &super::state::Store) {
        let directory = store.directory();
        let mut delivered: Vec<&str> = Vec::new();
        let without_bcc = mime::without_header(&self.raw, "Bcc");
        for address in self.recipients() {
            let Some((user, _)) = directory
                .iter()
                .find(|(_, email)| email.eq_ignore_ascii_case(&address.email))
            else {
                continue; // Outside the mock: accepted and dropped.
            };
            if delivered.contains(&user.as_str()) {
                continue;
            }
            delivered.push(user);
            let visible = self
                .to
                .iter()
                .chain(&self.cc)
                .chain(&self.extra_recipients)
                .any(|a| {
                    directory
                        .iter()
                        .any(|(u, e)| u == user && e.eq_ignore_ascii_case(&a.email))
                });
            let mut item = self.email_item(false, !visible);
            item.mime = Some(without_bcc.clone());
            let calendar = self
                .meeting
                .as_ref()
                .map(|e| calendar_item(e, &self.subject, &self.text));
            store.with_mailbox(user, |m| {
                if let Some(inbox) = m.folder_of_type(INBOX).map(|f| f.server_id.clone()) {
                    m.add_item(&inbox, item);
                }
                if let Some(calendar) = calendar {
                    put_in_calendar(m, calendar);
                }
            });
        }
    }

    /// The sender's copy for Sent Items: read, with `Bcc`, without the
    /// meeting request data (which is for attendees).
    fn sent_copy(&self) -> Item {
        let mut item = self.email_item(true, false);
        item.data.retain(|e| e.name != "MeetingRequest");
        if self.meeting.is_some() {
            item.set_text("Email", "MessageClass", "IPM.Schedule.Meeting.Request");
        }
        item.mime = Some(self.raw.clone());
        item
    }

    /// The Email item (MS-ASEMAIL) of one copy.
    fn email_item(&self, read: bool, received_as_bcc: bool) -> Item {
        let join = |list: &[Address]| {
            list.iter()
                .map(|a| match &a.name {
                    Some(n) => format!("\"{n}\" <{}>", a.email),
                    None => a.email.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let to: Vec<Address> = self
            .to
            .iter()
            .chain(&self.extra_recipients)
            .cloned()
            .collect();
        let mut data = vec![];
        if !to.is_empty() {
            data.push(leaf("Email", "To", &join(&to)));
        }
        if !self.cc.is_empty() {
            data.push(leaf("Email", "Cc", &join(&self.cc)));
        }
        data.push(leaf("Email", "From", &self.from));
        data.push(leaf("Email", "Subject", &self.subject));
        if let Some(reply_to) = &self.reply_to {
            data.push(leaf("Email", "ReplyTo", reply_to));
        }
        data.push(leaf(
            "Email",
            "DateReceived",
            &mime::eas_datetime(self.received),
        ));
        let display_to = to
            .iter()
            .map(Address::display)
            .collect::<Vec<_>>()
            .join("; ");
        data.push(leaf("Email", "DisplayTo", &display_to));
        data.push(leaf("Email", "ThreadTopic", thread_topic(&self.subject)));
        data.push(leaf("Email", "Importance", &self.importance.to_string()));
        data.push(leaf("Email", "Read", if read { "1" } else { "0" }));
        let mut attachments = Vec::new();
        if !self.attachments.is_empty() {
            let mut list = Vec::new();
            for a in &self.attachments {
                let file_reference = format!("mail-att-{}", next_number());
                let mut children = vec![
                    leaf("AirSyncBase", "DisplayName", &a.name),
                    leaf("AirSyncBase", "FileReference", &file_reference),
                    leaf("AirSyncBase", "Method", "1"),
                    leaf(
                        "AirSyncBase",
                        "EstimatedDataSize",
                        &a.content.len().to_string(),
                    ),
                ];
                if let Some(id) = &a.content_id {
                    children.push(leaf("AirSyncBase", "ContentId", id));
                }
                if a.inline {
                    children.push(leaf("AirSyncBase", "IsInline", "1"));
                }
                list.push(container("AirSyncBase", "Attachment", children));
                attachments.push(Attachment {
                    file_reference,
                    content_type: a.content_type.clone(),
                    content: a.content.clone(),
                });
            }
            data.push(container("AirSyncBase", "Attachments", list));
        }
        let (text, html) = &self.text;
        data.push(container(
            "AirSyncBase",
            "Body",
            vec![
                leaf("AirSyncBase", "Type", if *html { "2" } else { "1" }),
                leaf("AirSyncBase", "Data", text),
            ],
        ));
        let class = if self.meeting.is_some() {
            "IPM.Schedule.Meeting.Request"
        } else {
            "IPM.Note"
        };
        data.push(leaf("Email", "MessageClass", class));
        if let Some(event) = &self.meeting {
            data.push(meeting_request(event));
        }
        data.push(leaf("Email", "InternetCPID", "65001"));
        let content_class = if self.meeting.is_some() {
            "urn:content-classes:calendarmessage"
        } else {
            "urn:content-classes:message"
        };
        data.push(leaf("Email", "ContentClass", content_class));
        if received_as_bcc {
            data.push(leaf("Email2", "ReceivedAsBcc", "1"));
        }
        data.push(super::items::conversation_id(&self.subject));
        data.push(super::items::conversation_index(
            &self.subject,
            self.received,
        ));
        Item {
            server_id: String::new(),
            class: Class::Email,
            data,
            modseq: 0,
            mime: None,
            attachments,
        }
    }
}

/// The attachments of a stored message, with their names.
fn original_attachments(source: &Item) -> Vec<OutAttachment> {
    let described: Vec<&Element> = source
        .property("Attachments")
        .map(|a| a.elements_named("Attachment").collect())
        .unwrap_or_default();
    source
        .attachments
        .iter()
        .map(|a| {
            let entry = described
                .iter()
                .find(|d| d.child_text("FileReference").as_deref() == Some(&a.file_reference));
            OutAttachment {
                name: entry
                    .and_then(|d| d.child_text("DisplayName"))
                    .unwrap_or_else(|| a.file_reference.clone()),
                content_type: a.content_type.clone(),
                content_id: entry.and_then(|d| d.child_text("ContentId")),
                inline: entry.and_then(|d| d.child_text("IsInline")).as_deref() == Some("1"),
                content: a.content.clone(),
            }
        })
        .collect()
}

/// The Inbox item for a message delivered from outside (the test hook
/// `/_eastest/deliver`): read like a submission (headers, parts, encodings,
/// attachments, a meeting invitation), unread, received at its `Date` (now
/// when it has none or an unreadable one).
pub(super) fn delivered_item(raw: &str) -> Result<Item, String> {
    let message = mime::parse(raw).map_err(|e| e.0)?;
    let mut outgoing = Outgoing::from_message(&message, raw, "");
    if let Some(date) = message.header("Date").and_then(|d| mime::parse_date(&d)) {
        outgoing.received = date;
    }
    let mut item = outgoing.email_item(false, false);
    item.mime = Some(raw.to_string());
    Ok(item)
}

/// The subject without reply and forward prefixes (`ThreadTopic`).
pub(super) fn thread_topic(subject: &str) -> &str {
    let mut topic = subject.trim();
    loop {
        let lower = topic.to_ascii_lowercase();
        let Some(prefix) = ["re:", "fw:", "fwd:", "aw:", "wg:"]
            .iter()
            .find(|p| lower.starts_with(**p))
        else {
            return topic;
        };
        topic = topic[prefix.len()..].trim_start();
    }
}

/// A process-wide counter for attachment references and MIME boundaries.
fn next_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub(super) fn leaf(namespace: &'static str, name: &str, text: &str) -> Element {
    Element {
        namespace,
        name: name.to_string(),
        children: vec![Node::Text(text.to_string())],
    }
}

pub(super) fn container(namespace: &'static str, name: &str, children: Vec<Element>) -> Element {
    Element {
        namespace,
        name: name.to_string(),
        children: children.into_iter().map(Node::Element).collect(),
    }
}

/// The MS-ASDTYPE TimeZone blob of UTC (bias 0, no daylight saving): the
/// mock reads meeting times as UTC.
pub(super) fn utc_time_zone() -> String {
    time_zone_blob(0, ("UTC", [0; 8]), ("UTC", [0; 8]), 0)
}

/// `"Name" <email>` or the bare address.
fn mailbox_text(a: &Address) -> String {
    match &a.name {
        Some(n) => format!("\"{n}\" <{}>", a.email),
        None => a.email.clone(),
    }
}

/// The meeting's times: start, end (the start when missing; a day later for
/// an all-day event), stamp (now when missing).
fn times(event: &Event) -> (i64, i64, i64) {
    let start = event.start.unwrap_or_else(mime::now);
    let end = event
        .end
        .unwrap_or(if event.all_day { start + 86_400 } else { start });
    (start, end, event.stamp.unwrap_or_else(mime::now))
}

/// The iCalendar UID, or one made from the start time when the event has none.
fn uid_of(event: &Event) -> String {
    event
        .uid
        .clone()
        .unwrap_or_else(|| format!("eastest-{}", times(event).0))
}

/// The PidLidGlobalObjectId of a meeting whose UID did not come from
/// Outlook (MS-OXOCAL 2.2.1.27): the class id, zeroed instance date and
/// creation time, then `vCal-Uid`, version 1 and the UID, NUL-terminated.
pub(super) fn global_obj_id(uid: &str) -> String {
    let mut data = b"vCal-Uid".to_vec();
    data.extend_from_slice(&1u32.to_le_bytes());
    data.extend_from_slice(uid.as_bytes());
    data.push(0);
    let mut blob = vec![
        0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0,
        0x08,
    ];
    blob.extend_from_slice(&[0; 4 + 8 + 8]);
    blob.extend_from_slice(&(data.len() as u32).to_le_bytes());
    blob.extend_from_slice(&data);
    BASE64.encode(blob)
}

/// `email:MeetingRequest` (MS-ASEMAIL 2.2.2.48), children in schema order;
/// elements of other versions are stored too and pruned when written
/// (`Location` up to 14.1, `airsyncbase:Location` from 16.0; `GlobalObjId`
/// up to 14.1, `calendar:UID` from 16.0).
fn meeting_request(event: &Event) -> Element {
    let (start, end, stamp) = times(event);
    let mut children = vec![
        leaf(
            "Email",
            "AllDayEvent",
            if event.all_day { "1" } else { "0" },
        ),
        leaf("Email", "StartTime", &mime::eas_datetime(start)),
        leaf("Email", "DtStamp", &mime::eas_datetime(stamp)),
        leaf("Email", "EndTime", &mime::eas_datetime(end)),
        // 0 a single appointment, 1 a recurring master.
        leaf(
            "Email",
            "InstanceType",
            if event.rrule.is_some() { "1" } else { "0" },
        ),
    ];
    if let Some(location) = &event.location {
        children.push(leaf("Email", "Location", location));
        children.push(container(
            "AirSyncBase",
            "Location",
            vec![leaf("AirSyncBase", "DisplayName", location)],
        ));
    }
    if let Some(organizer) = &event.organizer {
        children.push(leaf("Email", "Organizer", &mailbox_text(organizer)));
    }
    children.extend([
        leaf("Email", "ResponseRequested", "1"),
        leaf("Email", "Sensitivity", &event.sensitivity.to_string()),
        // The organizer's intended free/busy status: busy.
        leaf("Email", "BusyStatus", "2"),
        leaf("Email", "TimeZone", &utc_time_zone()),
        leaf("Email", "GlobalObjId", &global_obj_id(&uid_of(event))),
        leaf("Email", "DisallowNewTimeProposal", "0"),
        // 1: the initial meeting request (MS-ASEMAIL 2.2.2.47).
        leaf("Email2", "MeetingMessageType", "1"),
        leaf("Calendar", "UID", &uid_of(event)),
    ]);
    container("Email", "MeetingRequest", children)
}

/// MS-ASCAL status values the mock writes.
pub(super) mod calendar_values {
    /// BusyStatus.
    pub const TENTATIVE: &str = "1";
    pub const BUSY: &str = "2";
    /// MeetingStatus: a meeting the user received (is an attendee of).
    pub const MEETING_RECEIVED: &str = "3";
    /// ResponseType.
    pub const RESPONSE_TENTATIVE: &str = "2";
    pub const RESPONSE_ACCEPTED: &str = "3";
    pub const NOT_RESPONDED: &str = "5";
}

/// The attendee's calendar item for a meeting request (MS-ASCAL): tentative
/// and not responded yet.
pub(super) fn calendar_item(event: &Event, subject: &str, text: &(String, bool)) -> Item {
    use calendar_values::*;
    let (start, end, stamp) = times(event);
    let subject = event.summary.as_deref().unwrap_or(subject);
    let mut data = vec![
        leaf("Calendar", "Timezone", &utc_time_zone()),
        leaf("Calendar", "DtStamp", &mime::compact_datetime(stamp)),
        leaf("Calendar", "StartTime", &mime::compact_datetime(start)),
        leaf("Calendar", "Subject", subject),
        leaf("Calendar", "UID", &uid_of(event)),
    ];
    if let Some(organizer) = &event.organizer {
        data.push(leaf("Calendar", "OrganizerName", organizer.display()));
        data.push(leaf("Calendar", "OrganizerEmail", &organizer.email));
    }
    if !event.attendees.is_empty() {
        let attendees = event
            .attendees
            .iter()
            .map(|(a, required)| {
                container(
                    "Calendar",
                    "Attendee",
                    vec![
                        leaf("Calendar", "Email", &a.email),
                        leaf("Calendar", "Name", a.display()),
                        // 0: response unknown.
                        leaf("Calendar", "AttendeeStatus", "0"),
                        // 1 required, 2 optional.
                        leaf(
                            "Calendar",
                            "AttendeeType",
                            if *required { "1" } else { "2" },
                        ),
                    ],
                )
            })
            .collect();
        data.push(container("Calendar", "Attendees", attendees));
    }
    if let Some(location) = &event.location {
        data.push(leaf("Calendar", "Location", location));
        data.push(container(
            "AirSyncBase",
            "Location",
            vec![leaf("AirSyncBase", "DisplayName", location)],
        ));
    }
    data.extend([
        leaf("Calendar", "EndTime", &mime::compact_datetime(end)),
        leaf("Calendar", "Sensitivity", &event.sensitivity.to_string()),
        leaf("Calendar", "BusyStatus", TENTATIVE),
        leaf(
            "Calendar",
            "AllDayEvent",
            if event.all_day { "1" } else { "0" },
        ),
        leaf("Calendar", "MeetingStatus", MEETING_RECEIVED),
        leaf("Calendar", "ResponseRequested", "1"),
        leaf("Calendar", "ResponseType", NOT_RESPONDED),
        leaf("Calendar", "DisallowNewTimeProposal", "0"),
    ]);
    let description = event.description.clone().unwrap_or_else(|| {
        if text.1 {
            strip_html(&text.0)
        } else {
            text.0.clone()
        }
    });
    if !description.is_empty() {
        data.push(container(
            "AirSyncBase",
            "Body",
            vec![
                leaf("AirSyncBase", "Type", "1"),
                leaf("AirSyncBase", "Data", &description),
            ],
        ));
    }
    Item {
        server_id: String::new(),
        class: Class::Calendar,
        data,
        modseq: 0,
        mime: None,
        attachments: Vec::new(),
    }
}

/// The calendar item with this UID in the mailbox's Calendar: its ServerId.
pub(super) fn find_by_uid(mailbox: &Mailbox, uid: &str) -> Option<String> {
    let calendar = mailbox.folder_of_type(CALENDAR)?;
    mailbox
        .items_in(&calendar.server_id)
        .iter()
        .find(|i| i.text("UID").as_deref() == Some(uid))
        .map(|i| i.server_id.clone())
}

/// Adds the meeting to the Calendar, or replaces the properties of the one
/// with the same UID (an updated request); its ServerId.
pub(super) fn put_in_calendar(mailbox: &mut Mailbox, item: Item) -> Option<String> {
    let uid = item.text("UID").unwrap_or_default();
    if let Some(existing) = find_by_uid(mailbox, &uid) {
        mailbox.update_item(&existing, |i| i.data = item.data);
        return Some(existing);
    }
    let calendar = mailbox.folder_of_type(CALENDAR)?.server_id.clone();
    Some(mailbox.add_item(&calendar, item))
}

/// The Deleted Items folder's ServerId.
pub(super) fn deleted_items(mailbox: &Mailbox) -> Option<String> {
    mailbox
        .folder_of_type(DELETED_ITEMS)
        .map(|f| f.server_id.clone())
}

/// Delivers a message the server composed (a meeting response) to the
/// recipients of its header that are users of the mock, with `class` as
/// its MessageClass; no Sent Items copy.
pub(super) fn send_from_server(store: &super::state::Store, mime_text: &str, class: &str) {
    let Ok(message) = mime::parse(mime_text) else {
        return;
    };
    let outgoing = Outgoing::from_message(&message, mime_text, "");
    let directory = store.directory();
    for address in outgoing.recipients() {
        let Some((user, _)) = directory
            .iter()
            .find(|(_, email)| email.eq_ignore_ascii_case(&address.email))
        else {
            continue;
        };
        let mut item = outgoing.email_item(false, false);
        item.set_text("Email", "MessageClass", class);
        item.mime = Some(mime_text.to_string());
        store.with_mailbox(user, |m| {
            if let Some(inbox) = m.folder_of_type(INBOX).map(|f| f.server_id.clone()) {
                m.add_item(&inbox, item);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::accounts::Account;
    use crate::mock::state::Store;

    fn store() -> Store {
        Store::new(&Account::defaults())
    }

    fn send(store: &Store, version: ProtocolVersion, request: &Element) -> Reply {
        let ctx = Ctx::for_test(store, "alice", "dev", version);
        handle(Command::SendMail, &ctx, Some(request))
    }

    fn send_mail(children: Vec<Element>) -> Element {
        container("ComposeMail", "SendMail", children)
    }

    fn status_of(reply: Reply, version: ProtocolVersion) -> Option<String> {
        match reply {
            Reply::Wbxml(bytes) if bytes.is_empty() => None,
            Reply::Wbxml(bytes) => {
                Element::from_wbxml(&bytes, &crate::wbxml::DecodeOptions::strict(version))
                    .ok()?
                    .child_text("Status")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn delivery_reaches_bob_and_drops_strangers() {
        let store = store();
        let v = ProtocolVersion::V14_1;
        let mime = "From: alice@example.test\r\nTo: Bob <bob@example.test>, x@elsewhere.test\r\n\
                    Bcc: alice@example.test\r\nSubject: Re: Hi\r\n\r\nHello Bob";
        let reply = send(
            &store,
            v,
            &send_mail(vec![
                leaf("ComposeMail", "ClientId", "c1"),
                leaf("ComposeMail", "Mime", mime),
            ]),
        );
        assert_eq!(status_of(reply, v), None);
        let (bob_inbox, alice_inbox) = (
            store.with_mailbox("bob", |m| m.items_in("1").to_vec()),
            store.with_mailbox("alice", |m| m.items_in("1").to_vec()),
        );
        let got = bob_inbox.last().unwrap();
        assert_eq!(got.text("Subject").as_deref(), Some("Re: Hi"));
        assert_eq!(got.text("ThreadTopic").as_deref(), Some("Hi"));
        assert_eq!(
            got.text("DisplayTo").as_deref(),
            Some("Bob; x@elsewhere.test")
        );
        assert_eq!(got.body(), Some((1, "Hello Bob".to_string())));
        assert!(
            !got.mime.as_deref().unwrap().contains("Bcc"),
            "Bcc is not delivered"
        );
        // alice was only on Bcc: her copy says so.
        assert_eq!(
            alice_inbox.last().unwrap().text("ReceivedAsBcc").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn statuses_for_bad_submissions() {
        let store = store();
        let v = ProtocolVersion::V16_1;
        let no_mime = send_mail(vec![leaf("ComposeMail", "ClientId", "c2")]);
        assert_eq!(
            status_of(send(&store, v, &no_mime), v).as_deref(),
            Some("103")
        );
        let no_client_id = send_mail(vec![leaf(
            "ComposeMail",
            "Mime",
            "To: bob@example.test\r\n\r\nx",
        )]);
        assert_eq!(
            status_of(send(&store, v, &no_client_id), v).as_deref(),
            Some("103")
        );
        let nobody = send_mail(vec![
            leaf("ComposeMail", "ClientId", "c3"),
            leaf("ComposeMail", "Mime", "Subject: nobody\r\n\r\nx"),
        ]);
        assert_eq!(
            status_of(send(&store, v, &nobody), v).as_deref(),
            Some("119")
        );
        let garbage = send_mail(vec![
            leaf("ComposeMail", "ClientId", "c4"),
            leaf("ComposeMail", "Mime", "no header at all"),
        ]);
        assert_eq!(
            status_of(send(&store, v, &garbage), v).as_deref(),
            Some("107")
        );
        let ok = send_mail(vec![
            leaf("ComposeMail", "ClientId", "c5"),
            leaf("ComposeMail", "Mime", "To: bob@example.test\r\n\r\nx"),
        ]);
        assert_eq!(status_of(send(&store, v, &ok), v), None);
        assert_eq!(status_of(send(&store, v, &ok), v).as_deref(), Some("118"));
        // Another store (another server) does not share the ClientIds.
        assert_eq!(
            status_of(
                send(
                    &crate::mock::state::Store::new(&Account::defaults()),
                    v,
                    &ok
                ),
                v
            ),
            None
        );
    }

    #[test]
    fn global_obj_id_embeds_the_uid() {
        let blob = BASE64.decode(global_obj_id("abc")).unwrap();
        assert_eq!(&blob[..4], &[4, 0, 0, 0]);
        assert_eq!(u32::from_le_bytes(blob[36..40].try_into().unwrap()), 16);
        assert_eq!(&blob[40..48], b"vCal-Uid");
        assert_eq!(&blob[52..], b"abc\0");
    }
}
