//! The small, realistic seed every new mailbox starts with: a few items of
//! each class, with the properties clients most often get wrong (MIME and
//! attachments, flags and read state, a recurring meeting with an exception
//! and attendees in a time zone with daylight saving, contacts with
//! categories and a picture, a recurring task, notes).
//!
//! Dates are fixed (November 2026), so responses are the same on every run.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::items::{Attachment, Class, Item, parse_application_data};
use super::state::Mailbox;

/// Fills the standard folders (Inbox 1, Tasks 6, Calendar 7, Contacts 8,
/// Notes 9) with the seed items.
pub fn fill(mailbox: &mut Mailbox) {
    for (folder, class, xml, mime, attachments) in seed() {
        let data = parse_application_data(&xml)
            .unwrap_or_else(|e| panic!("the mock's seed data is invalid: {e}\n{xml}"));
        mailbox.add_item(
            folder,
            Item {
                server_id: String::new(),
                class,
                data,
                modseq: 0,
                mime,
                attachments,
            },
        );
    }
}

type Seed = (&'static str, Class, String, Option<String>, Vec<Attachment>);

fn seed() -> Vec<Seed> {
    vec![
        email(
            "Quarterly figures",
            "Carol Jones <carol@example.test>",
            "2026-11-02T09:15:00.000Z",
            true,
            None,
            "Hi,\r\n\r\nthe Q3 figures are attached.\r\n\r\nCarol\r\n",
            Some(("q3-figures.csv", "text/csv", b"quarter,revenue\r\nQ3,1200\r\n")),
        ),
        email(
            "Lunch on Friday?",
            "Dave Smith <dave@example.test>",
            "2026-11-03T11:40:00.000Z",
            false,
            Some("<email:Flag><email:Status>2</email:Status>\
                  <email:FlagType>Follow up</email:FlagType>\
                  <tasks:StartDate>2026-11-03T00:00:00.000Z</tasks:StartDate>\
                  <tasks:UtcStartDate>2026-11-03T00:00:00.000Z</tasks:UtcStartDate>\
                  <tasks:DueDate>2026-11-06T00:00:00.000Z</tasks:DueDate>\
                  <tasks:UtcDueDate>2026-11-06T00:00:00.000Z</tasks:UtcDueDate>\
                  </email:Flag>"),
            "Shall we try the new place on the corner?\r\n",
            None,
        ),
        email(
            "Welcome to the team",
            "Erin Brown <erin@example.test>",
            "2026-11-04T08:00:00.000Z",
            false,
            None,
            "Welcome aboard! Your first week's schedule follows.\r\n",
            None,
        ),
        (
            "7",
            Class::Calendar,
            format!(
                "<calendar:Timezone>{tz}</calendar:Timezone>\
                 <calendar:DtStamp>20261101T120000Z</calendar:DtStamp>\
                 <calendar:StartTime>20261109T090000Z</calendar:StartTime>\
                 <calendar:Subject>Team stand-up</calendar:Subject>\
                 <calendar:UID>040000008200E00074C5B7101A82E0080000000001</calendar:UID>\
                 <calendar:OrganizerName>Alice</calendar:OrganizerName>\
                 <calendar:OrganizerEmail>alice@example.test</calendar:OrganizerEmail>\
                 <calendar:Attendees>\
                   <calendar:Attendee><calendar:Email>bob@example.test</calendar:Email>\
                   <calendar:Name>Bob</calendar:Name><calendar:AttendeeStatus>3</calendar:AttendeeStatus>\
                   <calendar:AttendeeType>1</calendar:AttendeeType></calendar:Attendee>\
                   <calendar:Attendee><calendar:Email>carol@example.test</calendar:Email>\
                   <calendar:Name>Carol Jones</calendar:Name><calendar:AttendeeStatus>0</calendar:AttendeeStatus>\
                   <calendar:AttendeeType>2</calendar:AttendeeType></calendar:Attendee>\
                 </calendar:Attendees>\
                 <calendar:Location>Room 4</calendar:Location>\
                 <calendar:EndTime>20261109T091500Z</calendar:EndTime>\
                 <calendar:Recurrence><calendar:Type>1</calendar:Type>\
                   <calendar:Interval>1</calendar:Interval><calendar:DayOfWeek>62</calendar:DayOfWeek>\
                   <calendar:Occurrences>40</calendar:Occurrences></calendar:Recurrence>\
                 <calendar:Sensitivity>0</calendar:Sensitivity>\
                 <calendar:BusyStatus>2</calendar:BusyStatus>\
                 <calendar:AllDayEvent>0</calendar:AllDayEvent>\
                 <calendar:Reminder>5</calendar:Reminder>\
                 <calendar:Exceptions><calendar:Exception>\
                   <calendar:ExceptionStartTime>20261111T090000Z</calendar:ExceptionStartTime>\
                   <calendar:StartTime>20261111T100000Z</calendar:StartTime>\
                   <calendar:EndTime>20261111T101500Z</calendar:EndTime>\
                   <calendar:Subject>Team stand-up (moved)</calendar:Subject>\
                 </calendar:Exception></calendar:Exceptions>\
                 <calendar:MeetingStatus>1</calendar:MeetingStatus>\
                 <airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
                   <airsyncbase:Data>Fifteen minutes, standing.</airsyncbase:Data></airsyncbase:Body>",
                tz = central_european_time_zone()
            ),
            None,
            Vec::new(),
        ),
        (
            "7",
            Class::Calendar,
            format!(
                "<calendar:Timezone>{tz}</calendar:Timezone>\
                 <calendar:DtStamp>20261101T120000Z</calendar:DtStamp>\
                 <calendar:StartTime>20261124T230000Z</calendar:StartTime>\
                 <calendar:Subject>Company holiday</calendar:Subject>\
                 <calendar:UID>040000008200E00074C5B7101A82E0080000000002</calendar:UID>\
                 <calendar:EndTime>20261125T230000Z</calendar:EndTime>\
                 <calendar:Sensitivity>0</calendar:Sensitivity>\
                 <calendar:BusyStatus>3</calendar:BusyStatus>\
                 <calendar:AllDayEvent>1</calendar:AllDayEvent>\
                 <calendar:MeetingStatus>0</calendar:MeetingStatus>",
                tz = central_european_time_zone()
            ),
            None,
            Vec::new(),
        ),
        contact(
            "<contacts:FileAs>Jones, Carol</contacts:FileAs>\
             <contacts:FirstName>Carol</contacts:FirstName>\
             <contacts:LastName>Jones</contacts:LastName>\
             <contacts:CompanyName>Example Ltd</contacts:CompanyName>\
             <contacts:JobTitle>Controller</contacts:JobTitle>\
             <contacts:Email1Address>\"Carol Jones\" &lt;carol@example.test&gt;</contacts:Email1Address>\
             <contacts:BusinessPhoneNumber>+44 20 7946 0000</contacts:BusinessPhoneNumber>\
             <contacts:Categories><contacts:Category>Business</contacts:Category>\
             <contacts:Category>Finance</contacts:Category></contacts:Categories>",
        ),
        contact(
            &format!(
                "<contacts:FileAs>Smith, Dave</contacts:FileAs>\
                 <contacts:FirstName>Dave</contacts:FirstName>\
                 <contacts:MiddleName>R.</contacts:MiddleName>\
                 <contacts:LastName>Smith</contacts:LastName>\
                 <contacts:Email1Address>dave@example.test</contacts:Email1Address>\
                 <contacts:MobilePhoneNumber>+1 555 0100</contacts:MobilePhoneNumber>\
                 <contacts:Birthday>1990-04-12T00:00:00.000Z</contacts:Birthday>\
                 <contacts:Picture>{}</contacts:Picture>",
                BASE64.encode(TINY_PNG)
            ),
        ),
        contact(
            "<contacts:FileAs>Brown, Erin</contacts:FileAs>\
             <contacts:FirstName>Erin</contacts:FirstName>\
             <contacts:LastName>Brown</contacts:LastName>\
             <contacts:Email1Address>erin@example.test</contacts:Email1Address>\
             <contacts2:NickName>E.</contacts2:NickName>\
             <airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
             <airsyncbase:Data>Met at the 2026 kick-off.</airsyncbase:Data></airsyncbase:Body>",
        ),
        (
            "6",
            Class::Tasks,
            "<tasks:Subject>Submit expense report</tasks:Subject>\
             <tasks:Importance>2</tasks:Importance>\
             <tasks:UtcStartDate>2026-11-02T00:00:00.000Z</tasks:UtcStartDate>\
             <tasks:StartDate>2026-11-02T00:00:00.000Z</tasks:StartDate>\
             <tasks:UtcDueDate>2026-11-30T00:00:00.000Z</tasks:UtcDueDate>\
             <tasks:DueDate>2026-11-30T00:00:00.000Z</tasks:DueDate>\
             <tasks:Recurrence><tasks:Type>2</tasks:Type><tasks:Start>2026-11-30T00:00:00.000Z</tasks:Start>\
             <tasks:Interval>1</tasks:Interval><tasks:DayOfMonth>30</tasks:DayOfMonth></tasks:Recurrence>\
             <tasks:Complete>0</tasks:Complete>\
             <tasks:Sensitivity>0</tasks:Sensitivity>\
             <tasks:ReminderSet>0</tasks:ReminderSet>"
                .to_string(),
            None,
            Vec::new(),
        ),
        (
            "6",
            Class::Tasks,
            "<tasks:Subject>Book flights</tasks:Subject>\
             <tasks:Importance>1</tasks:Importance>\
             <tasks:Complete>1</tasks:Complete>\
             <tasks:DateCompleted>2026-11-01T10:00:00.000Z</tasks:DateCompleted>\
             <tasks:Sensitivity>0</tasks:Sensitivity>\
             <tasks:ReminderSet>0</tasks:ReminderSet>"
                .to_string(),
            None,
            Vec::new(),
        ),
        note("Shopping", "Milk, bread, coffee."),
        note("Ideas", "A conformance harness for every EAS client."),
    ]
}

fn contact(xml: &str) -> Seed {
    ("8", Class::Contacts, xml.to_string(), None, Vec::new())
}

fn note(subject: &str, text: &str) -> Seed {
    (
        "9",
        Class::Notes,
        format!(
            "<notes:Subject>{subject}</notes:Subject>\
             <notes:MessageClass>IPM.StickyNote</notes:MessageClass>\
             <notes:LastModifiedDate>2026-11-01T09:00:00.000Z</notes:LastModifiedDate>\
             <airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
             <airsyncbase:Data>{text}</airsyncbase:Data></airsyncbase:Body>"
        ),
        None,
        Vec::new(),
    )
}

/// A message in the Inbox, with its MIME source.
fn email(
    subject: &str,
    from: &str,
    received: &str,
    read: bool,
    flag: Option<&str>,
    text: &str,
    attachment: Option<(&str, &str, &[u8])>,
) -> Seed {
    let to = "Alice <alice@example.test>";
    let escaped_from = from.replace('<', "&lt;").replace('>', "&gt;");
    let escaped_to = to.replace('<', "&lt;").replace('>', "&gt;");
    let mut xml = format!(
        "<email:To>{escaped_to}</email:To>\
         <email:From>{escaped_from}</email:From>\
         <email:Subject>{subject}</email:Subject>\
         <email:DateReceived>{received}</email:DateReceived>\
         <email:DisplayTo>Alice</email:DisplayTo>\
         <email:Importance>1</email:Importance>\
         <email:Read>{read}</email:Read>",
        read = u8::from(read)
    );
    let mut attachments = Vec::new();
    let mime;
    let date = received.replace(".000Z", "Z");
    if let Some((name, content_type, content)) = attachment {
        let file_reference = format!("att-{}", subject.len());
        xml.push_str(&format!(
            "<airsyncbase:Attachments><airsyncbase:Attachment>\
             <airsyncbase:DisplayName>{name}</airsyncbase:DisplayName>\
             <airsyncbase:FileReference>{file_reference}</airsyncbase:FileReference>\
             <airsyncbase:Method>1</airsyncbase:Method>\
             <airsyncbase:EstimatedDataSize>{}</airsyncbase:EstimatedDataSize>\
             </airsyncbase:Attachment></airsyncbase:Attachments>",
            content.len()
        ));
        attachments.push(Attachment {
            file_reference,
            content_type: content_type.to_string(),
            content: content.to_vec(),
        });
        mime = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
             --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
             --b1\r\nContent-Type: {content_type}; name=\"{name}\"\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
            BASE64.encode(content)
        );
    } else {
        mime = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}"
        );
    }
    xml.push_str(&format!(
        "<airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>\
         <airsyncbase:Data>{}</airsyncbase:Data></airsyncbase:Body>\
         <email:MessageClass>IPM.Note</email:MessageClass>\
         <email:InternetCPID>65001</email:InternetCPID>",
        text.replace('\r', "&#13;")
    ));
    if let Some(flag) = flag {
        xml.push_str(flag);
    }
    let conversation = super::items::conversation_id(subject);
    let received_at = super::sync::parse_any_datetime(received).unwrap_or(0);
    let index = super::items::conversation_index(subject, received_at);
    xml.push_str(&format!(
        "<email2:ConversationId opaque=\"base64\">{}</email2:ConversationId>\
         <email2:ConversationIndex opaque=\"base64\">{}</email2:ConversationIndex>",
        BASE64.encode(conversation.opaque().unwrap_or_default()),
        BASE64.encode(index.opaque().unwrap_or_default())
    ));
    ("1", Class::Email, xml, Some(mime), attachments)
}

/// A 1x1 transparent PNG, for a contact's picture.
const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The MS-ASDTYPE TimeZone blob (172 bytes, base64) of Central European
/// Time: bias -60 minutes; standard time from the last Sunday of October at
/// 03:00, daylight time (bias -60 more) from the last Sunday of March at 02:00.
pub fn central_european_time_zone() -> String {
    time_zone_blob(
        -60,
        ("W. Europe Standard Time", [0, 10, 0, 5, 3, 0, 0, 0]),
        ("W. Europe Daylight Time", [0, 3, 0, 5, 2, 0, 0, 0]),
        -60,
    )
}

/// Builds a TimeZone blob: Bias (i32), StandardName (32 UTF-16 units),
/// StandardDate (SYSTEMTIME: year, month, day of week, day/week, hour,
/// minute, second, ms), StandardBias, DaylightName, DaylightDate,
/// DaylightBias; little-endian (MS-ASDTYPE 2.7).
pub fn time_zone_blob(
    bias: i32,
    standard: (&str, [u16; 8]),
    daylight: (&str, [u16; 8]),
    daylight_bias: i32,
) -> String {
    let mut blob = Vec::with_capacity(172);
    blob.extend_from_slice(&bias.to_le_bytes());
    for (name, date, extra_bias) in [
        (standard.0, standard.1, 0),
        (daylight.0, daylight.1, daylight_bias),
    ] {
        let mut units: Vec<u16> = name.encode_utf16().take(31).collect();
        units.resize(32, 0);
        for u in units {
            blob.extend_from_slice(&u.to_le_bytes());
        }
        for field in date {
            blob.extend_from_slice(&field.to_le_bytes());
        }
        blob.extend_from_slice(&extra_bias.to_le_bytes());
    }
    debug_assert_eq!(blob.len(), 172);
    BASE64.encode(blob)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_valid_for_every_class() {
        let mailbox = Mailbox::standard();
        for (folder, count) in [("1", 3), ("6", 2), ("7", 2), ("8", 3), ("9", 2)] {
            assert_eq!(mailbox.items_in(folder).len(), count, "folder {folder}");
        }
    }

    #[test]
    fn time_zone_blob_has_the_spec_layout() {
        let blob = BASE64.decode(central_european_time_zone()).unwrap();
        assert_eq!(blob.len(), 172);
        assert_eq!(i32::from_le_bytes(blob[0..4].try_into().unwrap()), -60);
        // StandardDate.wMonth at 4 + 64 + 2.
        assert_eq!(u16::from_le_bytes([blob[70], blob[71]]), 10);
        // DaylightBias: the last four bytes.
        assert_eq!(i32::from_le_bytes(blob[168..172].try_into().unwrap()), -60);
    }
}
