//! IP pledge financing (知识产权质押融资): which listings may be pledged, what a pledge locks, the
//! median of comparable trade prices, and the limits of requests and financing products.
//!
//! The lock (民法典 art. 444): once an IP right is pledged, it may not be transferred or licensed
//! without the pledgee's consent. Every trade is a transfer or a licence of the listing's IP, so
//! while a pledge is active a trade in mode M needs the lender's consent to M — exclusive and
//! non-exclusive licences alike.
use crate::domain::codes::{IpType, TransactionMode};
use crate::domain::error::FieldErrors;
use crate::domain::money::{format_yuan, MAX_AMOUNT_FEN};

/// Longest loan term, in months (30 years).
pub const MAX_TERM_MONTHS: i64 = 360;
/// Longest 质押登记 registration number and rejection reason, in characters.
pub const REGISTRATION_NO_MAX: usize = 64;
pub const REASON_MAX: usize = 1_000;
pub const PRODUCT_NAME_MAX: usize = 100;
/// How far back comparable settled trades are taken, in months.
pub const COMPARABLE_MONTHS: u32 = 24;

/// Pledge request states: `submitted → active → released`, `submitted → rejected`.
pub const SUBMITTED: &str = "submitted";
pub const ACTIVE: &str = "active";
pub const REJECTED: &str = "rejected";
pub const RELEASED: &str = "released";

/// Patent-type and software listings may be pledged (专利权质押, 软件著作权质押).
pub fn pledgeable(ip_type: IpType) -> bool {
    matches!(
        ip_type,
        IpType::InventionPatent
            | IpType::UtilityModel
            | IpType::DesignPatent
            | IpType::PatentApplication
            | IpType::SoftwareCopyright
    )
}

/// Whether an active pledge with the lender's `consented` modes refuses a trade in `mode`.
pub fn blocks(mode: TransactionMode, consented: &[String]) -> bool {
    !consented.iter().any(|c| c == mode.code())
}

/// The median of `prices` (any order): the middle one, or for an even count the mean of the two
/// middle ones rounded half up (exact, in i128). `None` for no prices.
pub fn median(prices: &[i64]) -> Option<i64> {
    if prices.is_empty() {
        return None;
    }
    let mut v = prices.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        return Some(v[n / 2]);
    }
    let sum = i128::from(v[n / 2 - 1]) + i128::from(v[n / 2]);
    // Half up for non-negative sums (prices are positive).
    i64::try_from((sum + 1).div_euclid(2)).ok()
}

fn check_amount(path: &str, amount_fen: i64, errs: &mut FieldErrors) {
    if amount_fen < 1 {
        errs.push(path, "err.amount.zero", vec![]);
    } else if amount_fen > MAX_AMOUNT_FEN {
        errs.push(
            path,
            "err.amount.too_large",
            vec![("max", format_yuan(MAX_AMOUNT_FEN))],
        );
    }
}

fn check_term(path: &str, months: i64, errs: &mut FieldErrors) {
    if !(1..=MAX_TERM_MONTHS).contains(&months) {
        errs.push(
            path,
            "err.pledge.term",
            vec![("max", MAX_TERM_MONTHS.to_string())],
        );
    }
}

/// A request's amount and term.
pub fn check_request(amount_fen: i64, term_months: i64, errs: &mut FieldErrors) {
    check_amount("amount_fen", amount_fen, errs);
    check_term("term_months", term_months, errs);
}

/// A financing product's terms (the name is checked as text by the caller).
pub struct ProductTerms {
    pub rate_min_ppm: i64,
    pub rate_max_ppm: i64,
    pub max_amount_fen: i64,
    pub term_min_months: i64,
    pub term_max_months: i64,
}

pub fn check_product(p: &ProductTerms, errs: &mut FieldErrors) {
    for (path, v) in [
        ("rate_min_ppm", p.rate_min_ppm),
        ("rate_max_ppm", p.rate_max_ppm),
    ] {
        if !(0..=1_000_000).contains(&v) {
            errs.push(path, "err.pledge.rate", vec![]);
        }
    }
    if p.rate_min_ppm > p.rate_max_ppm {
        errs.push("rate_max_ppm", "err.pledge.range", vec![]);
    }
    check_amount("max_amount_fen", p.max_amount_fen, errs);
    check_term("term_min_months", p.term_min_months, errs);
    check_term("term_max_months", p.term_max_months, errs);
    if p.term_min_months > p.term_max_months {
        errs.push("term_max_months", "err.pledge.range", vec![]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        for (prices, want) in [
            (vec![], None),
            (vec![7], Some(7)),
            (vec![3, 1, 2], Some(2)),
            (vec![4, 1, 3, 2], Some(3)), // (2 + 3) / 2 = 2.5 → 3
            (vec![10, 20], Some(15)),
            (
                vec![MAX_AMOUNT_FEN, MAX_AMOUNT_FEN - 1],
                Some(MAX_AMOUNT_FEN),
            ),
            (vec![i64::MAX, i64::MAX], Some(i64::MAX)),
        ] {
            assert_eq!(median(&prices), want, "{prices:?}");
        }
    }

    #[test]
    fn a_pledge_blocks_every_mode_the_lender_has_not_consented_to() {
        let consented = vec!["nonexclusive_license".to_string()];
        assert!(blocks(TransactionMode::Transfer, &consented));
        assert!(blocks(TransactionMode::ExclusiveLicense, &consented));
        assert!(!blocks(TransactionMode::NonexclusiveLicense, &consented));
        assert!(blocks(TransactionMode::NonexclusiveLicense, &[]));
    }

    #[test]
    fn patents_and_software_may_be_pledged_know_how_not() {
        assert!(pledgeable(IpType::InventionPatent));
        assert!(pledgeable(IpType::SoftwareCopyright));
        assert!(!pledgeable(IpType::KnowHow));
        assert!(!pledgeable(IpType::PlantVariety));
    }

    #[test]
    fn requests_and_products_are_bounded() {
        let mut e = FieldErrors::new();
        check_request(0, 0, &mut e);
        assert_eq!(e.0.len(), 2);
        let mut e = FieldErrors::new();
        check_request(1, MAX_TERM_MONTHS, &mut e);
        assert!(e.0.is_empty());
        let mut e = FieldErrors::new();
        check_product(
            &ProductTerms {
                rate_min_ppm: 50_000,
                rate_max_ppm: 40_000,
                max_amount_fen: 1,
                term_min_months: 12,
                term_max_months: 6,
            },
            &mut e,
        );
        assert_eq!(e.0.len(), 2, "{e:?}");
    }
}
