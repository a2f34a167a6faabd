//! The time formats of SPEC section 2: `YYYY-MM-DDTHH:MM:SS.ffffffZ` and `YYYY-MM-DD`.

use chrono::{DateTime, NaiveDate};

fn digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

/// A calendar date `YYYY-MM-DD` that exists in the proleptic Gregorian calendar, with a
/// year from 0001 to 9999 (SPEC v1.1 section 2: chrono alone accepts year 0000).
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(&b[0..4])
        && digits(&b[5..7])
        && digits(&b[8..10])
        && &b[0..4] != b"0000"
        && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// A UTC timestamp with exactly six fraction digits: `2024-06-10T12:00:00.000000Z`, on a
/// day [`is_date`] accepts, from 00:00:00 to 23:59:59 (no leap second: chrono's `%S`
/// takes `60`, SPEC v1.1 section 2 does not). Strings of this form sort in time order,
/// so the recorder compares them as text.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // ASCII first: the slices below must fall on character boundaries (found by
    // fuzzing: `"000000000\u{e9}0…"` has 27 bytes and a 2-byte character at 9).
    b.len() == 27
        && s.is_ascii()
        && is_date(&s[..10])
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[26] == b'Z'
        && [11..13, 14..16, 17..19, 20..26]
            .into_iter()
            .all(|r| digits(&b[r]))
        && &b[17..19] < b"60"
        && chrono::NaiveTime::parse_from_str(&s[11..26], "%H:%M:%S%.6f").is_ok()
}

/// Formats a Unix time in microseconds as a SPEC timestamp.
pub fn format_timestamp(unix_micros: i64) -> String {
    DateTime::from_timestamp_micros(unix_micros)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_need_six_fraction_digits_and_utc() {
        assert!(is_timestamp("2026-11-22T10:00:01.500000Z"));
        assert!(!is_timestamp("2026-11-22T10:00:01.5Z"));
        assert!(!is_timestamp("2026-11-22T10:00:01.500000+00:00"));
        assert!(!is_timestamp("2026-02-30T10:00:01.500000Z"));
        assert!(!is_timestamp("2026-11-22T24:00:01.500000Z"));
    }

    #[test]
    fn dates_must_exist() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2024-13-01"));
        assert!(!is_date("2024-1-01"));
    }

    #[test]
    fn non_ascii_strings_of_the_right_length_are_not_timestamps() {
        assert!(!is_timestamp("000000000\u{e9}00000000000000000"));
        assert!(!is_timestamp("2024-06-10T12:00:00.0000\u{e9}Z"));
        assert!(!is_date("2024-06-\u{e9}1"));
    }

    #[test]
    fn formats_unix_micros() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_timestamp(1_795_860_001_500_000),
            "2026-11-28T10:00:01.500000Z"
        );
        assert_eq!(
            format_timestamp(951_782_400_000_001),
            "2000-02-29T00:00:00.000001Z"
        );
    }
}
