//! The EAS date-time form (MS-ASDTYPE 2.3): `YYYY-MM-DDTHH:MM:SS.sssZ`, a
//! UTC instant such as `2026-05-08T10:00:00.000Z`.
//!
//! [`EasDateTime::parse`] accepts exactly:
//! - the date and time with their `-`, `T` and `:` separators, every field
//!   of two digits (four for the year), a real calendar date (February 29
//!   only in a leap year of the proleptic Gregorian calendar) and a time of
//!   day from `00:00:00` to `23:59:59` (no leap second, no hour 24);
//! - then an optional fraction of a second: a `.` followed by one to three
//!   digits (`.5` is half a second, as `.500`); a bare `.` or a fourth digit
//!   is refused;
//! - then a required `Z`: no offset, no local time;
//! - with leading and trailing whitespace ignored.
//!
//! The compact form (`20260508T100000Z`) and offsets (`+02:00`) are not
//! accepted.
//!
//! ```
//! use eastest::protocol::EasDateTime;
//!
//! let t = EasDateTime::parse("2026-05-08T10:00:00.5Z").unwrap();
//! assert_eq!(t.to_string(), "2026-05-08T10:00:00.500Z");
//! assert_eq!(t.unix_seconds(), 1_778_234_400);
//! assert!(EasDateTime::parse("2026-05-08T10:00:00").is_none());
//! ```

use std::fmt;

/// A valid EAS date-time, to the millisecond.
///
/// The fields are in order of significance, so the derived ordering is
/// chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EasDateTime {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    millisecond: u16,
}

impl EasDateTime {
    /// Parses the forms described in the [module documentation](self);
    /// `None` for anything else.
    pub fn parse(value: &str) -> Option<EasDateTime> {
        let s = value.trim().strip_suffix('Z')?;
        let (main, fraction) = match s.split_once('.') {
            Some((m, f)) => (m, Some(f)),
            None => (s, None),
        };
        let millisecond = match fraction {
            None => 0,
            Some(f) if (1..=3).contains(&f.len()) => {
                // `.5` is 500 ms: pad to three digits.
                u16::try_from(number(&format!("{f:0<3}"))?).ok()?
            }
            Some(_) => return None,
        };
        let b = main.as_bytes();
        if b.len() != 19
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let field = |range: std::ops::Range<usize>| main.get(range).and_then(number);
        let t = EasDateTime {
            year: u16::try_from(field(0..4)?).ok()?,
            month: u8::try_from(field(5..7)?).ok()?,
            day: u8::try_from(field(8..10)?).ok()?,
            hour: u8::try_from(field(11..13)?).ok()?,
            minute: u8::try_from(field(14..16)?).ok()?,
            second: u8::try_from(field(17..19)?).ok()?,
            millisecond,
        };
        let valid = (1..=days_in_month(t.year, t.month)).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second < 60;
        valid.then_some(t)
    }

    /// Whole seconds since 1970-01-01T00:00:00Z (the fraction dropped).
    pub fn unix_seconds(self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        days * 86_400
            + i64::from(self.hour) * 3_600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

/// The normalized form, always with three fraction digits
/// (`2026-05-08T10:00:00.000Z`), so normalized values compare as strings.
impl fmt::Display for EasDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millisecond
        )
    }
}

/// A run of ASCII digits (no sign, not empty) as a number.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The number of days of `month` (1-12) in `year`; 0 for another month.
fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01: the inverse of
/// [`days_from_civil`] (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_round_trip() {
        for days in [-1000, 0, 59, 365 * 30 + 7, 20_779] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    fn seconds(s: &str) -> Option<i64> {
        EasDateTime::parse(s).map(EasDateTime::unix_seconds)
    }

    fn normalized(s: &str) -> Option<String> {
        EasDateTime::parse(s).map(|t| t.to_string())
    }

    #[test]
    fn valid_datetimes_and_their_epoch_seconds() {
        assert_eq!(seconds("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(seconds("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(seconds("2001-09-09T01:46:40Z"), Some(1_000_000_000));
        assert_eq!(seconds(" 2038-01-19T03:14:08Z\n"), Some(2_147_483_648));
        assert_eq!(seconds("0000-03-01T00:00:00Z"), Some(-62_162_035_200));
        assert_eq!(seconds("9999-12-31T23:59:59.999Z"), Some(253_402_300_799));
    }

    #[test]
    fn fractions_are_optional_and_normalized_to_milliseconds() {
        assert_eq!(
            normalized("2026-05-08T10:00:00Z").as_deref(),
            Some("2026-05-08T10:00:00.000Z")
        );
        assert_eq!(
            normalized("2026-05-08T10:00:00.7Z").as_deref(),
            Some("2026-05-08T10:00:00.700Z")
        );
        assert_eq!(
            normalized("2026-05-08T10:00:00.07Z").as_deref(),
            Some("2026-05-08T10:00:00.070Z")
        );
        assert_eq!(
            normalized("2026-05-08T10:00:00.123Z").as_deref(),
            Some("2026-05-08T10:00:00.123Z")
        );
        // The fraction does not change the whole seconds.
        assert_eq!(
            seconds("2026-05-08T10:00:00.999Z"),
            seconds("2026-05-08T10:00:00Z")
        );
    }

    #[test]
    fn leap_years() {
        for leap in ["2024", "2000", "1600"] {
            let t = format!("{leap}-02-29T00:00:00Z");
            assert!(EasDateTime::parse(&t).is_some(), "{t}");
        }
        for common in ["2025", "1900", "2100"] {
            let t = format!("{common}-02-29T00:00:00Z");
            assert_eq!(EasDateTime::parse(&t), None, "{t}");
        }
        assert_eq!(
            seconds("2024-03-01T00:00:00Z").unwrap() - seconds("2024-02-28T00:00:00Z").unwrap(),
            2 * 86_400
        );
    }

    #[test]
    fn ordering_is_chronological() {
        let t = |s| EasDateTime::parse(s).unwrap();
        assert!(t("2026-05-08T10:00:00.001Z") > t("2026-05-08T10:00:00Z"));
        assert!(t("2025-12-31T23:59:59.999Z") < t("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn malformed_datetimes_are_refused() {
        for bad in [
            "",
            "Z",
            "2026-13-01T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-05-00T00:00:00Z",
            "2026-05-08T24:00:00Z",
            "2026-05-08T10:60:00Z",
            "2026-05-08T10:00:60Z",
            "2026-05-08T10:00:00",
            "2026-05-08T10:00:00.000",
            "2026-05-08T10:00:00+00:00",
            "2026-05-08T10:00:00z",
            "2026-05-08T10:00:00.Z",
            "2026-05-08T10:00:00.1234Z",
            "2026-05-08T10:00:00.1aZ",
            "2026-05-08T10:00:00.-1Z",
            "2026-05-08T10:00:00.1.2Z",
            "2026-05-08 10:00:00Z",
            "2026/05/08T10:00:00Z",
            "20260508T100000Z",
            "2026-5-8T10:00:00Z",
            "+026-05-08T10:00:00Z",
            "2026-05-08Té:00:00Z",
        ] {
            assert_eq!(EasDateTime::parse(bad), None, "{bad:?}");
        }
    }
}
