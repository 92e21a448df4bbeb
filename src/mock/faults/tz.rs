//! What the time-zone profiles need: the `Timezone` blob of a calendar
//! item (MS-ASDTYPE 2.7: a base64 TIME_ZONE_INFORMATION, 172 bytes) and
//! civil dates from Unix times, without a date library.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::protocol::timezone::{TIME_ZONE_INFORMATION_LEN, TimeZoneInfo};
use crate::wbxml::Element;

/// The parts of a `TimeZone` blob the profiles look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZone {
    /// Minutes to add to local (standard) time to get UTC: -480 is UTC+8.
    pub bias: i32,
    pub standard_name: String,
    /// The month of the daylight-time transition, 0 when there is none.
    pub daylight_month: u16,
}

impl TimeZone {
    /// The blob carried by `element` (as base64 text or opaque bytes);
    /// `None` when it is not a TIME_ZONE_INFORMATION.
    pub fn of(element: &Element) -> Option<TimeZone> {
        let bytes = match element.opaque() {
            Some(b) => b.to_vec(),
            None => BASE64.decode(element.text().trim()).ok()?,
        };
        let info = TimeZoneInfo::parse(bytes.get(..TIME_ZONE_INFORMATION_LEN)?)?;
        Some(TimeZone {
            bias: info.bias,
            standard_name: info.standard_name,
            daylight_month: info.daylight_date.map_or(0, |d| d.month),
        })
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), with the
/// month and day as this module counts them.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    crate::protocol::datetime::days_from_civil(y, i64::from(m), i64::from(d))
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let (y, m, d) = crate::protocol::datetime::civil_from_days(z);
    // Months are 1-12 and days 1-31, so they fit.
    (y, m as u32, d as u32)
}

/// 0 for Sunday.
pub fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// The day of the month of the `n`-th Sunday (1-based) of a month.
pub fn nth_sunday(y: i64, m: u32, n: u32) -> i64 {
    let first = days_from_civil(y, m, 1);
    first + (7 - weekday(first)) % 7 + 7 * i64::from(n - 1)
}

/// The last Sunday of a month, as days since the epoch.
pub fn last_sunday(y: i64, m: u32) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let last = next - 1;
    last - weekday(last)
}

/// A Unix time written the way `like` is: the compact form
/// (`20070115T010000Z`) or the extended one (`2007-01-15T01:00:00.000Z`).
pub fn format_like(unix: i64, like: &str) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86_400));
    let s = unix.rem_euclid(86_400);
    let (hh, mm, ss) = (s / 3600, s / 60 % 60, s % 60);
    if like.contains('-') {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.000Z")
    } else {
        format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_sundays_are_found() {
        for (y, m, d) in [(1970, 1, 1), (2007, 9, 30), (2000, 2, 29), (2009, 3, 29)] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
        // 2007: the last Sunday of September was the 30th, the first of
        // October the 7th, the third of March the 18th.
        assert_eq!(last_sunday(2007, 9), days_from_civil(2007, 9, 30));
        assert_eq!(nth_sunday(2007, 10, 1), days_from_civil(2007, 10, 7));
        assert_eq!(nth_sunday(2007, 3, 3), days_from_civil(2007, 3, 18));
        assert_eq!(weekday(days_from_civil(2024, 6, 2)), 0);
        let t = days_from_civil(2007, 1, 15) * 86_400 + 3600;
        assert_eq!(format_like(t, "20000101T000000Z"), "20070115T010000Z");
        assert_eq!(
            format_like(t, "2000-01-01T00:00:00.000Z"),
            "2007-01-15T01:00:00.000Z"
        );
    }
}
