//! The `TimeZone` blob of calendar items and meeting requests (MS-ASDTYPE
//! 2.6.4, MS-ASCAL 2.2.2.46): a base64-encoded TIME_ZONE_INFORMATION of 172
//! bytes, little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | `Bias`: minutes added to local standard time to get UTC (-60 is UTC+1) |
//! | 4 | 64 | `StandardName`: UTF-16, NUL-terminated |
//! | 68 | 16 | `StandardDate`: a SYSTEMTIME, when daylight time ends |
//! | 84 | 4 | `StandardBias` |
//! | 88 | 64 | `DaylightName` |
//! | 152 | 16 | `DaylightDate`: when daylight time starts |
//! | 168 | 4 | `DaylightBias` |
//!
//! A SYSTEMTIME whose month is 0 means "no transition" (the zone has no
//! daylight time), and its other fields mean nothing. With a year of 0 the
//! date recurs every year: `day` is then the week of the month (1-4, 5 =
//! the last) and `day_of_week` the weekday (0 = Sunday).
//!
//! ```
//! use eastest::protocol::timezone::TimeZoneInfo;
//! let mut blob = [0u8; 172];
//! blob[0..4].copy_from_slice(&(-60i32).to_le_bytes());
//! let tz = TimeZoneInfo::parse(&blob).unwrap();
//! assert_eq!(tz.bias, -60);
//! assert!(tz.daylight_date.is_none());
//! ```

use std::fmt;

/// The blob's size.
pub const TIME_ZONE_INFORMATION_LEN: usize = 172;

/// A decoded TIME_ZONE_INFORMATION.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneInfo {
    pub bias: i32,
    pub standard_name: String,
    /// When daylight time ends; `None` when the month is 0.
    pub standard_date: Option<Transition>,
    pub standard_bias: i32,
    pub daylight_name: String,
    /// When daylight time starts; `None` when the month is 0.
    pub daylight_date: Option<Transition>,
    pub daylight_bias: i32,
}

/// A SYSTEMTIME with a month: a transition date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// 0: every year (then `day` is the week of the month).
    pub year: u16,
    pub month: u16,
    pub day_of_week: u16,
    pub day: u16,
    pub hour: u16,
    pub minute: u16,
    pub second: u16,
    pub milliseconds: u16,
}

impl TimeZoneInfo {
    /// Decodes a blob of exactly [`TIME_ZONE_INFORMATION_LEN`] bytes;
    /// `None` for any other length.
    pub fn parse(bytes: &[u8]) -> Option<TimeZoneInfo> {
        if bytes.len() != TIME_ZONE_INFORMATION_LEN {
            return None;
        }
        let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let i32_at = |at: usize| {
            i32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let name = |at: usize| {
            let units: Vec<u16> = (0..32)
                .map(|i| u16_at(at + 2 * i))
                .take_while(|c| *c != 0)
                .collect();
            String::from_utf16_lossy(&units)
        };
        let date = |at: usize| {
            let month = u16_at(at + 2);
            (month != 0).then(|| Transition {
                year: u16_at(at),
                month,
                day_of_week: u16_at(at + 4),
                day: u16_at(at + 6),
                hour: u16_at(at + 8),
                minute: u16_at(at + 10),
                second: u16_at(at + 12),
                milliseconds: u16_at(at + 14),
            })
        };
        Some(TimeZoneInfo {
            bias: i32_at(0),
            standard_name: name(4),
            standard_date: date(68),
            standard_bias: i32_at(84),
            daylight_name: name(88),
            daylight_date: date(152),
            daylight_bias: i32_at(168),
        })
    }
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

impl fmt::Display for Transition {
    /// `every year, month 10, week 5, Sun, 03:00:00.000` or `2007-10-28
    /// 03:00:00.000`; out-of-range fields are shown as numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.year == 0 {
            write!(f, "every year, month {}, week {}, ", self.month, self.day)?;
            match WEEKDAYS.get(usize::from(self.day_of_week)) {
                Some(day) => write!(f, "{day}, ")?,
                None => write!(f, "weekday {}, ", self.day_of_week)?,
            }
        } else {
            write!(f, "{:04}-{:02}-{:02} ", self.year, self.month, self.day)?;
        }
        write!(
            f,
            "{:02}:{:02}:{:02}.{:03}",
            self.hour, self.minute, self.second, self.milliseconds
        )
    }
}

impl fmt::Display for TimeZoneInfo {
    /// One line: every field that has a meaning, none that has not (the
    /// other fields of a transition whose month is 0).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let transition = |t: &Option<Transition>| match t {
            Some(t) => t.to_string(),
            None => "none".to_string(),
        };
        write!(
            f,
            "bias {}; standard {:?} bias {} from {}; daylight {:?} bias {} from {}",
            self.bias,
            self.standard_name,
            self.standard_bias,
            transition(&self.standard_date),
            self.daylight_name,
            self.daylight_bias,
            transition(&self.daylight_date)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(name: &str, into: &mut [u8]) {
        for (i, unit) in name.encode_utf16().enumerate() {
            into[2 * i..2 * i + 2].copy_from_slice(&unit.to_le_bytes());
        }
    }

    /// W. Europe: UTC+1, daylight from the last Sunday of March 02:00 to
    /// the last Sunday of October 03:00, bias -60.
    fn west_europe() -> [u8; 172] {
        let mut b = [0u8; 172];
        b[0..4].copy_from_slice(&(-60i32).to_le_bytes());
        utf16("W. Europe Standard Time", &mut b[4..68]);
        for (i, v) in [0u16, 10, 0, 5, 3, 0, 0, 0].iter().enumerate() {
            b[68 + 2 * i..70 + 2 * i].copy_from_slice(&v.to_le_bytes());
        }
        utf16("W. Europe Daylight Time", &mut b[88..152]);
        for (i, v) in [0u16, 3, 0, 5, 2, 0, 0, 0].iter().enumerate() {
            b[152 + 2 * i..154 + 2 * i].copy_from_slice(&v.to_le_bytes());
        }
        b[168..172].copy_from_slice(&(-60i32).to_le_bytes());
        b
    }

    #[test]
    fn a_zone_with_daylight_time_reads_in_full() {
        let tz = TimeZoneInfo::parse(&west_europe()).expect("172 bytes");
        assert_eq!(
            tz.to_string(),
            "bias -60; standard \"W. Europe Standard Time\" bias 0 from every year, month 10, \
             week 5, Sun, 03:00:00.000; daylight \"W. Europe Daylight Time\" bias -60 from \
             every year, month 3, week 5, Sun, 02:00:00.000"
        );
    }

    #[test]
    fn a_transition_without_a_month_hides_its_other_bytes() {
        // Garbage in a StandardDate whose month is 0 (as some servers send
        // for UTC) does not change the reading.
        let mut a = [0u8; 172];
        utf16("UTC", &mut a[4..68]);
        let mut b = a;
        b[68..70].copy_from_slice(&[0x37, 0x13]);
        b[72..84].copy_from_slice(&[0xAA; 12]);
        let (a, b) = (
            TimeZoneInfo::parse(&a).expect("a"),
            TimeZoneInfo::parse(&b).expect("b"),
        );
        assert_eq!(a, b);
        assert!(a.to_string().contains("from none"));
    }

    #[test]
    fn other_lengths_are_not_a_blob() {
        assert!(TimeZoneInfo::parse(&[0u8; 171]).is_none());
        assert!(TimeZoneInfo::parse(&[0u8; 173]).is_none());
    }
}
