//! MeetingResponse (MS-ASCMD 2.2.1.11): accept, tentatively accept or
//! decline a meeting request in the Inbox or a meeting in the Calendar.
//!
//! Each `Request` (`UserResponse` 1 accept, 2 tentative, 3 decline;
//! `CollectionId` and `RequestId`, or `search:LongId` read as a ServerId;
//! `InstanceId` from 14.1; `SendResponse` from 16.0; children in any order,
//! as the schema's `xs:all` allows) gets a `Result`: `RequestId` (echoed
//! when sent), `Status`, `CalendarId` (accept and tentative only),
//! `InstanceId` (echoed when sent), in the response schema's order.
//!
//! The request may name
//! - an `IPM.Schedule.Meeting.Request` message with `email:MeetingRequest`
//!   (see [`super::mail`]): its meeting is found in the Calendar by UID (or
//!   made again from the request when the user deleted it) and answered;
//!   the request message then moves to Deleted Items, as Exchange does;
//! - a calendar item of a meeting the user was invited to (MeetingStatus 3
//!   or 11).
//!
//! Accepting sets the meeting's BusyStatus 2 (busy) and ResponseType 3,
//! tentative BusyStatus 1 and ResponseType 2, both with an
//! `AppointmentReplyTime`; declining removes the meeting from the Calendar
//! (Exchange moves it to Deleted Items; the mock deletes it).
//!
//! Statuses (MS-ASCMD 2.2.3.177.9 and the common codes):
//!
//! | Status | When |
//! |---|---|
//! | 1 Success | |
//! | 2 Invalid meeting request | a missing or unknown `UserResponse`; no `RequestId`/`LongId`; no such item in `CollectionId`; a message that is not a meeting request; a calendar item the user organizes, a plain appointment or a canceled meeting; an `InstanceId` on a message |
//! | 104 InvalidDateTime | an `InstanceId` that is not a date-time |
//! | 146 NoRecurrenceInCalendar | an `InstanceId` on a meeting that does not recur |
//!
//! An `InstanceId` on a recurring meeting answers the whole series (the
//! mock does not keep per-occurrence exceptions). With `SendResponse`
//! (16.0+) a reply (`IPM.Schedule.Meeting.Resp.Pos`, `.Tent`, `.Neg`) goes
//! to the organizer when the organizer is a user of the mock. A request
//! without any `Request` is answered like other malformed requests: Status
//! 103 at the root from 14.0, HTTP 400 before.

use crate::wbxml::{Element, ProtocolVersion};

use super::command::{Ctx, Reply};
use super::items::Item;
use super::mail::{self, calendar_values, deleted_items, find_by_uid, put_in_calendar};
use super::mime::{self, Address, Event};
use super::state::Mailbox;
use super::sync::parse_any_datetime;
use super::xml::XmlOut;

/// MeetingResponse statuses (MS-ASCMD 2.2.3.177.9) and the common codes
/// used inside a `Result`.
pub mod status {
    pub const SUCCESS: u16 = 1;
    pub const INVALID_MEETING_REQUEST: u16 = 2;
    /// An error in the server's mailbox (not produced by the mock).
    pub const MAILBOX_ERROR: u16 = 3;
    /// An error on the server (not produced by the mock; listed to complete
    /// the table).
    #[allow(dead_code)]
    pub const SERVER_ERROR: u16 = 4;
    /// Common status: the request-level `Status` of a malformed request.
    pub const INVALID_XML: u16 = 103;
    pub const INVALID_DATE_TIME: u16 = 104;
    pub const NO_RECURRENCE_IN_CALENDAR: u16 = 146;
}

/// `UserResponse` values (MS-ASCMD 2.2.3.194).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UserResponse {
    Accept,
    Tentative,
    Decline,
}

impl UserResponse {
    fn parse(text: &str) -> Option<UserResponse> {
        match text.trim() {
            "1" => Some(UserResponse::Accept),
            "2" => Some(UserResponse::Tentative),
            "3" => Some(UserResponse::Decline),
            _ => None,
        }
    }

    /// The reply's subject prefix and message class.
    fn reply(self) -> (&'static str, &'static str) {
        match self {
            UserResponse::Accept => ("Accepted", "IPM.Schedule.Meeting.Resp.Pos"),
            UserResponse::Tentative => ("Tentative", "IPM.Schedule.Meeting.Resp.Tent"),
            UserResponse::Decline => ("Declined", "IPM.Schedule.Meeting.Resp.Neg"),
        }
    }

    /// The iCalendar PARTSTAT of the reply.
    fn partstat(self) -> &'static str {
        match self {
            UserResponse::Accept => "ACCEPTED",
            UserResponse::Tentative => "TENTATIVE",
            UserResponse::Decline => "DECLINED",
        }
    }
}

/// One `Result`.
#[derive(Debug, Default)]
struct Outcome {
    request_id: Option<String>,
    status: u16,
    calendar_id: Option<String>,
    instance_id: Option<String>,
}

/// A reply to send to the organizer after the mailbox is released.
struct Reply2Organizer {
    organizer: String,
    subject: String,
    uid: String,
    response: UserResponse,
}

pub fn handle(ctx: &Ctx, request: &Element) -> Reply {
    let requests: Vec<&Element> = request.elements_named("Request").collect();
    if requests.is_empty() {
        if ctx.version < ProtocolVersion::V14_0 {
            return Reply::Http(400, "a MeetingResponse without Request".to_string());
        }
        let mut out = XmlOut::new("MeetingResponse", "MeetingResponse", &[]);
        out.leaf("Status", status::INVALID_XML.to_string());
        return Reply::from_encoded(out.finish("MeetingResponse", ctx.version));
    }
    let mut out = XmlOut::new("MeetingResponse", "MeetingResponse", &[]);
    for r in requests {
        let (outcome, reply) = respond(ctx, r);
        if let Some(reply) = reply {
            send_reply(ctx, &reply);
        }
        out.open("Result");
        if let Some(id) = &outcome.request_id {
            out.leaf("RequestId", id);
        }
        out.leaf("Status", outcome.status.to_string());
        if let Some(id) = &outcome.calendar_id {
            out.leaf("CalendarId", id);
        }
        if let Some(id) = &outcome.instance_id {
            out.leaf("InstanceId", id);
        }
        out.close("Result");
    }
    Reply::from_encoded(out.finish("MeetingResponse", ctx.version))
}

fn respond(ctx: &Ctx, r: &Element) -> (Outcome, Option<Reply2Organizer>) {
    let request_id = r.child_text("RequestId").map(|t| t.trim().to_string());
    let instance_id = r.child_text("InstanceId").map(|t| t.trim().to_string());
    let mut outcome = Outcome {
        request_id: request_id.clone(),
        instance_id: instance_id.clone(),
        status: status::INVALID_MEETING_REQUEST,
        calendar_id: None,
    };
    let Some(response) = r
        .child_text("UserResponse")
        .and_then(|t| UserResponse::parse(&t))
    else {
        return (outcome, None);
    };
    let Some(item_id) = request_id
        .clone()
        .or_else(|| r.child_text("LongId").map(|t| t.trim().to_string()))
        .filter(|i| !i.is_empty())
    else {
        return (outcome, None);
    };
    if let Some(instance) = &instance_id
        && parse_any_datetime(instance).is_none()
    {
        outcome.status = status::INVALID_DATE_TIME;
        return (outcome, None);
    }
    let collection_id = r.child_text("CollectionId").map(|t| t.trim().to_string());
    let send_response = r.child("SendResponse").is_some();
    let result = ctx.store.with_mailbox(ctx.user, |m| {
        answer(
            m,
            &item_id,
            collection_id.as_deref(),
            instance_id.is_some(),
            response,
        )
    });
    match result {
        Ok(answered) => {
            outcome.status = status::SUCCESS;
            outcome.calendar_id = answered.calendar_id;
            let reply = (send_response && answered.organizer.is_some()).then(|| Reply2Organizer {
                organizer: answered.organizer.unwrap_or_default(),
                subject: answered.subject,
                uid: answered.uid,
                response,
            });
            (outcome, reply)
        }
        Err(code) => {
            outcome.status = code;
            (outcome, None)
        }
    }
}

/// What answering a meeting did.
struct Answered {
    calendar_id: Option<String>,
    organizer: Option<String>,
    subject: String,
    uid: String,
}

/// Answers the meeting behind `item_id`; the status on failure.
fn answer(
    m: &mut Mailbox,
    item_id: &str,
    collection_id: Option<&str>,
    has_instance: bool,
    response: UserResponse,
) -> Result<Answered, u16> {
    let invalid = status::INVALID_MEETING_REQUEST;
    let (folder, item) = m
        .item(item_id)
        .map(|(f, i)| (f.to_string(), i.clone()))
        .ok_or(invalid)?;
    if collection_id.is_some_and(|c| c != folder) {
        return Err(invalid);
    }
    let is_request = item
        .text("MessageClass")
        .is_some_and(|c| c.starts_with("IPM.Schedule.Meeting.Request"));
    let calendar_id = match item.class {
        super::items::Class::Email => {
            let request = item.property("MeetingRequest").filter(|_| is_request);
            let Some(request) = request else {
                return Err(invalid);
            };
            if has_instance {
                return Err(invalid);
            }
            let event = event_of_request(&item, request);
            let uid = request.child_text("UID").unwrap_or_default();
            let calendar_id = match find_by_uid(m, &uid) {
                Some(id) => id,
                None => {
                    let subject = item.text("Subject").unwrap_or_default();
                    let text = item.body().map(|(_, t)| (t, false)).unwrap_or_default();
                    put_in_calendar(m, mail::calendar_item(&event, &subject, &text))
                        .ok_or(status::MAILBOX_ERROR)?
                }
            };
            // The answered request leaves the Inbox (Exchange: Deleted Items).
            match deleted_items(m) {
                Some(deleted) if deleted != folder => {
                    m.move_item(item_id, &deleted);
                }
                _ => {
                    m.remove_item(item_id);
                }
            }
            calendar_id
        }
        super::items::Class::Calendar => {
            let meeting_status = item.text("MeetingStatus").unwrap_or_default();
            if !matches!(meeting_status.trim(), "3" | "11") {
                return Err(invalid);
            }
            if has_instance && item.property("Recurrence").is_none() {
                return Err(status::NO_RECURRENCE_IN_CALENDAR);
            }
            item_id.to_string()
        }
        _ => return Err(invalid),
    };
    let meeting = m.item(&calendar_id).map(|(_, i)| i.clone());
    let organizer = meeting.as_ref().and_then(|i| i.text("OrganizerEmail"));
    let subject = meeting
        .as_ref()
        .and_then(|i| i.text("Subject"))
        .unwrap_or_default();
    let uid = meeting
        .as_ref()
        .and_then(|i| i.text("UID"))
        .unwrap_or_default();
    let reply_time = mime::compact_datetime(mime::now());
    let calendar_id = match response {
        UserResponse::Decline => {
            m.remove_item(&calendar_id);
            None
        }
        accept_or_tentative => {
            let (busy, response_type) = if accept_or_tentative == UserResponse::Accept {
                (calendar_values::BUSY, calendar_values::RESPONSE_ACCEPTED)
            } else {
                (
                    calendar_values::TENTATIVE,
                    calendar_values::RESPONSE_TENTATIVE,
                )
            };
            m.update_item(&calendar_id, |i| {
                i.set_text("Calendar", "BusyStatus", busy);
                i.set_text("Calendar", "ResponseType", response_type);
                i.set_text("Calendar", "AppointmentReplyTime", &reply_time);
            });
            Some(calendar_id)
        }
    };
    Ok(Answered {
        calendar_id,
        organizer,
        subject,
        uid,
    })
}

/// The meeting of an `email:MeetingRequest`, to make the calendar item
/// again when the user deleted it before answering.
fn event_of_request(item: &Item, request: &Element) -> Event {
    let time = |name: &str| {
        request
            .child_text(name)
            .and_then(|t| parse_any_datetime(&t))
    };
    let location = request.child_text("Location").or_else(|| {
        request
            .elements()
            .find(|e| e.namespace == "AirSyncBase" && e.name == "Location")
            .and_then(|l| l.child_text("DisplayName"))
    });
    Event {
        uid: request.child_text("UID"),
        summary: item.text("Subject"),
        location,
        description: None,
        start: time("StartTime"),
        end: time("EndTime"),
        stamp: time("DtStamp"),
        all_day: request.child_text("AllDayEvent").as_deref() == Some("1"),
        organizer: request
            .child_text("Organizer")
            .and_then(|o| mime::parse_addresses(&o).into_iter().next()),
        attendees: Vec::<(Address, bool)>::new(),
        sensitivity: request
            .child_text("Sensitivity")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        rrule: None,
    }
}

/// The reply to the organizer (16.0+ `SendResponse`): an iCalendar `REPLY`.
fn send_reply(ctx: &Ctx, reply: &Reply2Organizer) {
    let from = ctx
        .store
        .directory()
        .into_iter()
        .find(|(u, _)| u == ctx.user)
        .map(|(_, e)| e)
        .unwrap_or_default();
    let (prefix, class) = reply.response.reply();
    let now = mime::now();
    let mime_text = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {prefix}: {subject}\r\nDate: {date}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"reply\"\r\n\r\n\
         --reply\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{prefix}: {subject}\r\n\
         --reply\r\nContent-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n\
         BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:{stamp}\r\nATTENDEE;PARTSTAT={partstat}:mailto:{from}\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n--reply--\r\n",
        to = reply.organizer,
        subject = reply.subject,
        date = mime::rfc5322_date(now),
        uid = reply.uid,
        stamp = mime::compact_datetime(now),
        partstat = reply.response.partstat(),
    );
    mail::send_from_server(ctx.store, &mime_text, class);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::accounts::Account;
    use crate::mock::state::Store;

    #[test]
    fn unknown_responses_and_items_are_invalid_meeting_requests() {
        let store = Store::new(&Account::defaults());
        let result = store.with_mailbox("bob", |m| {
            (
                answer(m, "1:999", Some("1"), false, UserResponse::Accept).err(),
                // A plain message of the seed.
                answer(m, "1:1", Some("1"), false, UserResponse::Accept).err(),
            )
        });
        assert_eq!(result, (Some(2), Some(2)));
        assert_eq!(UserResponse::parse("4"), None);
    }

    #[test]
    fn the_organizer_cannot_answer_their_own_meeting() {
        let store = Store::new(&Account::defaults());
        // The seed's stand-up has MeetingStatus 1 (the user organizes it).
        let id = store.with_mailbox("bob", |m| m.items_in("7")[0].server_id.clone());
        let status = store.with_mailbox("bob", |m| {
            answer(m, &id, Some("7"), false, UserResponse::Accept).err()
        });
        assert_eq!(status, Some(2));
    }
}
