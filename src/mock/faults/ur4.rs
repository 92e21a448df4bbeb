//! Three EAS-visible fixes of Update Rollup 4 for Exchange Server 2007,
//! as the unfixed server behaves:
//!
//! - `ur4-accepted-domains` (KB933314): in an organisation with more than a
//!   thousand accepted domains, mobile devices cannot send mail through
//!   AirSync. The profile's organisation has 1001 of them: SendMail,
//!   SmartReply and SmartForward fail without delivering, HTTP 500 up to
//!   12.1 and Status 120 MailSubmissionFailed from 14.0 (MS-ASCMD 2.2.2).
//! - `ur4-wa-timezone` (KB932561): Western Australia observed daylight time
//!   from 3 December 2006 to 29 March 2009 (three summers); the unfixed
//!   server does not know it. A calendar item whose `TimeZone` is Western
//!   Australia's (bias UTC+8, named "W. Australia" or with a daylight rule)
//!   and whose start falls in one of those summers is saved one hour late:
//!   the server reads the local wall-clock time as standard time (UTC+8, not
//!   UTC+9), so `StartTime` and `EndTime` come back one hour later.
//! - `ur4-nz-dst` (KB937656): from 2007 New Zealand's daylight time starts
//!   on the last Sunday of September (was: the first Sunday of October) and
//!   ends on the first Sunday of April (was: the third Sunday of March). A
//!   calendar item in the New Zealand time zone (bias UTC+12, "New Zealand"
//!   or a daylight rule) whose start falls in the weeks the change moved is
//!   saved one hour late, for the same reason.
//!
//! The time shifts apply to client `Add` and `Change` commands of Sync on
//! Calendar folders (the request is rewritten before the handler saves
//! it); the times are written back in the form the client used.

use crate::protocol::Command;
use crate::wbxml::{Element, Node};

use super::super::items::Class;
use super::super::sync::parse_any_datetime;
use super::edit::{children_mut, class_of, command_failure, text_of};
use super::tz::{TimeZone, days_from_civil, format_like, last_sunday, nth_sunday};
use super::{Before, Call, Fault};

/// Common status 120 MailSubmissionFailed (MS-ASCMD 2.2.2).
const MAIL_SUBMISSION_FAILED: u16 = 120;
/// How many accepted domains the profile's organisation has.
pub const ACCEPTED_DOMAINS: usize = 1001;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

pub struct AcceptedDomains;

impl Fault for AcceptedDomains {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        if !matches!(
            call.command,
            Command::SendMail | Command::SmartReply | Command::SmartForward
        ) {
            return Before::Continue(None);
        }
        let why = format!(
            "the organisation has {ACCEPTED_DOMAINS} accepted domains: mail submission failed (KB933314)"
        );
        Before::Answer(
            command_failure(
                call.ctx.version,
                call.command,
                500,
                MAIL_SUBMISSION_FAILED,
                &why,
            )
            .into(),
        )
    }
}

pub struct WesternAustralia;

impl Fault for WesternAustralia {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        shift_late(call, |tz, start| {
            let named = tz.standard_name.contains("Australia") || tz.daylight_month != 0;
            if tz.bias != -480 || !named {
                return false;
            }
            // The three summers, in local dates (transitions at 02:00 local:
            // close enough at a day's precision).
            let local_day = (start - i64::from(tz.bias) * 60).div_euclid(DAY);
            [
                ((2006, 12, 3), (2007, 3, 25)),
                ((2007, 10, 28), (2008, 3, 30)),
                ((2008, 10, 26), (2009, 3, 29)),
            ]
            .iter()
            .any(|&((y1, m1, d1), (y2, m2, d2))| {
                (days_from_civil(y1, m1, d1)..days_from_civil(y2, m2, d2)).contains(&local_day)
            })
        })
    }
}

pub struct NewZealandDst;

impl Fault for NewZealandDst {
    fn before(&self, call: &mut Call<'_, '_>) -> Before {
        shift_late(call, |tz, start| {
            let named = tz.standard_name.contains("Zealand") || tz.daylight_month != 0;
            if tz.bias != -720 || !named {
                return false;
            }
            let local_day = (start - i64::from(tz.bias) * 60).div_euclid(DAY);
            let (year, _, _) = super::tz::civil_from_days(local_day);
            if year < 2007 {
                return false;
            }
            // New rule in force, old rule not: late September to the first
            // Sunday of October, the third Sunday of March to the first of
            // April.
            (last_sunday(year, 9)..nth_sunday(year, 10, 1)).contains(&local_day)
                || (nth_sunday(year, 3, 3)..nth_sunday(year, 4, 1)).contains(&local_day)
        })
    }
}

/// Rewrites the request's calendar `Add`s and `Change`s whose `TimeZone`
/// and `StartTime` satisfy `late`: `StartTime` and `EndTime` one hour later.
fn shift_late(call: &mut Call<'_, '_>, late: impl Fn(&TimeZone, i64) -> bool) -> Before {
    if call.command != Command::Sync {
        return Before::Continue(None);
    }
    let ctx = call.ctx;
    let Some(request) = call.request.as_mut() else {
        return Before::Continue(None);
    };
    for list in children_mut(request, "Collections") {
        for c in children_mut(list, "Collection") {
            let id = text_of(c, "CollectionId");
            if class_of(ctx, &id) != Some(Class::Calendar) {
                continue;
            }
            for commands in children_mut(c, "Commands") {
                for command in commands.children.iter_mut() {
                    let Node::Element(command) = command else {
                        continue;
                    };
                    if command.name != "Add" && command.name != "Change" {
                        continue;
                    }
                    for data in children_mut(command, "ApplicationData") {
                        shift_item(data, &late);
                    }
                }
            }
        }
    }
    Before::Continue(None)
}

fn shift_item(data: &mut Element, late: &impl Fn(&TimeZone, i64) -> bool) {
    let calendar = |e: &Element, name: &str| e.namespace == "Calendar" && e.name == name;
    let Some(tz) = data
        .elements()
        .find(|e| calendar(e, "Timezone"))
        .and_then(TimeZone::of)
    else {
        return;
    };
    let Some(start) = data
        .elements()
        .find(|e| calendar(e, "StartTime"))
        .and_then(|e| parse_any_datetime(e.text().trim()))
    else {
        return;
    };
    if !late(&tz, start) {
        return;
    }
    for node in data.children.iter_mut() {
        let Node::Element(e) = node else { continue };
        if !(calendar(e, "StartTime") || calendar(e, "EndTime")) {
            continue;
        }
        let text = e.text();
        if let Some(t) = parse_any_datetime(text.trim()) {
            e.children = vec![Node::Text(format_like(t + HOUR, text.trim()))];
        }
    }
}
