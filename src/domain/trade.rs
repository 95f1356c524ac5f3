//! Rules of a trade after it is made: its readable number, its payment deadline.

use chrono::{DateTime, Datelike, Duration, FixedOffset, Utc};

/// Beijing time (UTC+8 all year), in which the year of a trade number is counted.
const SHANGHAI_SECONDS: i32 = 8 * 3600;

/// Days the buyer has to pay once the trade is made (DOMAIN.md; unpaid trades are then cancelled).
pub const PAYMENT_DAYS: i64 = 7;

/// The readable number of the `seq`-th trade, made at `created_at`: `TM-2026-000123` (the year in
/// Beijing time, at least six digits).
pub fn number(created_at: DateTime<Utc>, seq: i64) -> String {
    let year = FixedOffset::east_opt(SHANGHAI_SECONDS)
        .map(|o| created_at.with_timezone(&o).year())
        .unwrap_or_else(|| created_at.year());
    format!("TM-{year}-{seq:06}")
}

/// When the payment of a trade made at `created_at` is due.
pub fn payment_due_at(created_at: DateTime<Utc>) -> DateTime<Utc> {
    created_at + Duration::days(PAYMENT_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn numbers_carry_the_beijing_year_and_six_digits_at_least() {
        assert_eq!(number(at("2026-12-06T10:00:00Z"), 123), "TM-2026-000123");
        // 2026-12-31T20:00Z is already 2027 in Beijing.
        assert_eq!(number(at("2026-12-31T20:00:00Z"), 1), "TM-2027-000001");
        assert_eq!(
            number(at("2026-01-01T00:00:00Z"), 1_234_567),
            "TM-2026-1234567"
        );
    }

    #[test]
    fn payment_is_due_seven_days_after_the_deal() {
        assert_eq!(
            payment_due_at(at("2026-12-06T10:00:00Z")),
            at("2026-12-13T10:00:00Z")
        );
    }
}
