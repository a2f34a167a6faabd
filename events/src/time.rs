//! The time formats of SPEC section 2: `YYYY-MM-DDTHH:MM:SS.ffffffZ` and `YYYY-MM-DD`.

fn digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

fn num(s: &[u8]) -> u32 {
    s.iter().fold(0, |a, d| a * 10 + u32::from(d - b'0'))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A calendar date `YYYY-MM-DD` that exists.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    if !(digits(&b[0..4]) && digits(&b[5..7]) && digits(&b[8..10])) {
        return false;
    }
    let (y, m, d) = (num(&b[0..4]), num(&b[5..7]), num(&b[8..10]));
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

/// A UTC timestamp with exactly six fraction digits: `2024-06-10T12:00:00.000000Z`.
/// Strings of this form sort in time order, so the recorder compares them as text.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 27 || !is_date(&s[..10]) || b[10] != b'T' || b[26] != b'Z' {
        return false;
    }
    if b[13] != b':' || b[16] != b':' || b[19] != b'.' {
        return false;
    }
    if !(digits(&b[11..13]) && digits(&b[14..16]) && digits(&b[17..19]) && digits(&b[20..26])) {
        return false;
    }
    num(&b[11..13]) < 24 && num(&b[14..16]) < 60 && num(&b[17..19]) < 60
}

/// Formats a Unix time in microseconds as a SPEC timestamp (proleptic Gregorian, UTC).
pub fn format_timestamp(unix_micros: i64) -> String {
    let micros = unix_micros.rem_euclid(1_000_000);
    let secs = unix_micros.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
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
    fn formats_unix_micros() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_timestamp(1_795_860_001_500_000),
            "2026-11-28T10:00:01.500000Z"
        );
        assert_eq!(format_timestamp(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
    }
}
