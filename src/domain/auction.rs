//! English (ascending) auctions: minimum bids, anti-sniping extension, closing, validation.
//!
//! The first bid must be at least the start price; each later bid at least the leading bid plus the
//! increment. A bid accepted within the last `extension_seconds` moves `ends_at` to bid time + extension.
//! At the close the leading bid becomes a trade if it reaches the (secret) reserve.

use chrono::{DateTime, TimeDelta, Utc};

use super::error::{join_path, FieldErrors};
use super::listing::AuctionStatus;
use super::money::{format_yuan, MAX_AMOUNT_FEN};

/// Extension when none is given: five minutes.
pub const DEFAULT_EXTENSION_SECONDS: i64 = 300;
/// Longest extension: one hour.
pub const MAX_EXTENSION_SECONDS: i64 = 3_600;
/// An auction may end at most this many days after it is set up.
pub const MAX_AUCTION_DAYS: i64 = 90;

/// The lowest acceptable next bid: the start price before any bid, then leading + increment
/// (saturating at `i64::MAX`, which no valid bid reaches).
pub fn min_next_bid(start_price_fen: i64, increment_fen: i64, leading_fen: Option<i64>) -> i64 {
    match leading_fen {
        None => start_price_fen,
        Some(leading) => leading.saturating_add(increment_fen).max(start_price_fen),
    }
}

/// The new end of an auction after a bid at `bid_at`: bid time + extension if the bid came within the last
/// `extension_seconds`, else unchanged.
pub fn extended_end(
    ends_at: DateTime<Utc>,
    bid_at: DateTime<Utc>,
    extension_seconds: i64,
) -> DateTime<Utc> {
    let Some(ext) = TimeDelta::try_seconds(extension_seconds.max(0)) else {
        return ends_at;
    };
    let window_start = ends_at.checked_sub_signed(ext).unwrap_or(ends_at);
    if bid_at > window_start {
        bid_at
            .checked_add_signed(ext)
            .map_or(ends_at, |t| t.max(ends_at))
    } else {
        ends_at
    }
}

/// What an auction looks like when a bid arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuctionState {
    pub status: AuctionStatus,
    pub start_price_fen: i64,
    pub increment_fen: i64,
    pub leading_fen: Option<i64>,
    pub ends_at: DateTime<Utc>,
    pub extension_seconds: i64,
}

/// The decision on a bid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BidCheck {
    /// Take the bid; the auction now ends at `ends_at` (perhaps extended).
    Accept { ends_at: DateTime<Utc> },
    /// Below the minimum (`bid_too_low`).
    TooLow { min_fen: i64 },
    /// Not open, or past its end (`auction_closed`).
    Closed,
}

impl AuctionState {
    pub fn min_next_bid(&self) -> i64 {
        min_next_bid(self.start_price_fen, self.increment_fen, self.leading_fen)
    }

    /// Decide on a bid of `amount_fen` at `now`. An auction is closed to bids from `ends_at` on, even before
    /// the closing job has marked it closed.
    pub fn check_bid(&self, amount_fen: i64, now: DateTime<Utc>) -> BidCheck {
        if self.status != AuctionStatus::Open || now >= self.ends_at {
            return BidCheck::Closed;
        }
        let min_fen = self.min_next_bid();
        if amount_fen < min_fen {
            return BidCheck::TooLow { min_fen };
        }
        BidCheck::Accept {
            ends_at: extended_end(self.ends_at, now, self.extension_seconds),
        }
    }

    /// The closing job should close this auction now.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.status == AuctionStatus::Open && now >= self.ends_at
    }
}

/// Whether the leading bid reaches the reserve (no reserve: any bid does).
pub fn reserve_met(leading_fen: Option<i64>, reserve_fen: Option<i64>) -> bool {
    match (leading_fen, reserve_fen) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(l), Some(r)) => l >= r,
    }
}

/// How an auction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseOutcome {
    /// The leading bid becomes a trade at this price.
    Sold { price_fen: i64 },
    /// No bid, or the leading bid is below the reserve.
    Unsold,
}

/// The outcome of closing an auction with this leading bid and reserve.
pub fn close_outcome(leading_fen: Option<i64>, reserve_fen: Option<i64>) -> CloseOutcome {
    match leading_fen {
        Some(price_fen) if reserve_met(leading_fen, reserve_fen) => {
            CloseOutcome::Sold { price_fen }
        }
        _ => CloseOutcome::Unsold,
    }
}

/// How a bidder appears to others: the n-th distinct bidder of an auction, in Chinese and English.
pub fn pseudonym(n: u32) -> (String, String) {
    (format!("竞买人{n}"), format!("Bidder {n}"))
}

/// Check when an auction opens, at `{path}.starts_at`: before it ends. A moment already past is
/// allowed (the auction then opens at its listing's approval), so that a listing whose start
/// passed while it waited for review can still be approved.
pub fn validate_start(
    starts_at: Option<DateTime<Utc>>,
    ends_at: DateTime<Utc>,
    path: &str,
    errs: &mut FieldErrors,
) {
    if starts_at.is_some_and(|s| s >= ends_at) {
        errs.push(
            join_path(path, "starts_at"),
            "err.auction.starts_after_end",
            vec![],
        );
    }
}

/// Whether an auction accepts bids at `now` by its start: no start set, or the start reached.
pub fn has_started(starts_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    starts_at.is_none_or(|s| s <= now)
}

/// Check an auction's deposit (保证金), at `{path}.deposit_fen`: at least 1 fen and not above the
/// start price, so that the winner's deposit never exceeds what it pays.
pub fn validate_deposit(
    deposit_fen: Option<i64>,
    start_price_fen: i64,
    path: &str,
    errs: &mut FieldErrors,
) {
    let Some(d) = deposit_fen else { return };
    if d < 1 || d > start_price_fen.max(1) {
        errs.push(
            join_path(path, "deposit_fen"),
            "err.auction.deposit_range",
            vec![("max", format_yuan(start_price_fen.max(1)))],
        );
    }
}

/// Check the auction terms of a listing; errors at `{path}.start_price_fen` etc.
/// Start price and increment at least 1 fen, reserve at least the start price, all at most
/// [`MAX_AMOUNT_FEN`]; `ends_at` after `now` and at most 90 days ahead; extension 0–3600 s
/// (absent means [`DEFAULT_EXTENSION_SECONDS`]).
#[expect(clippy::too_many_arguments)]
pub fn validate_auction(
    start_price_fen: i64,
    increment_fen: i64,
    reserve_fen: Option<i64>,
    ends_at: DateTime<Utc>,
    extension_seconds: Option<i64>,
    now: DateTime<Utc>,
    path: &str,
    errs: &mut FieldErrors,
) {
    let too_large = |errs: &mut FieldErrors, p: String| {
        errs.push(
            p,
            "err.amount.too_large",
            vec![("max", format_yuan(MAX_AMOUNT_FEN))],
        );
    };
    let start_path = join_path(path, "start_price_fen");
    if start_price_fen < 1 {
        errs.push(start_path, "err.auction.start_price_min", vec![]);
    } else if start_price_fen > MAX_AMOUNT_FEN {
        too_large(errs, start_path);
    }
    let inc_path = join_path(path, "increment_fen");
    if increment_fen < 1 {
        errs.push(inc_path, "err.auction.increment_min", vec![]);
    } else if increment_fen > MAX_AMOUNT_FEN {
        too_large(errs, inc_path);
    }
    if let Some(reserve) = reserve_fen {
        let reserve_path = join_path(path, "reserve_fen");
        if reserve > MAX_AMOUNT_FEN {
            too_large(errs, reserve_path);
        } else if reserve < start_price_fen || reserve < 1 {
            errs.push(
                reserve_path,
                "err.auction.reserve_below_start",
                vec![("start", format_yuan(start_price_fen.max(1)))],
            );
        }
    }
    let ends_path = join_path(path, "ends_at");
    let latest = TimeDelta::try_days(MAX_AUCTION_DAYS).and_then(|d| now.checked_add_signed(d));
    if ends_at <= now {
        errs.push(ends_path, "err.auction.ends_in_past", vec![]);
    } else if latest.is_none_or(|l| ends_at > l) {
        errs.push(
            ends_path,
            "err.auction.ends_too_late",
            vec![("days", MAX_AUCTION_DAYS.to_string())],
        );
    }
    if let Some(ext) = extension_seconds {
        if !(0..=MAX_EXTENSION_SECONDS).contains(&ext) {
            errs.push(
                join_path(path, "extension_seconds"),
                "err.auction.extension_range",
                vec![
                    ("min", "0".to_string()),
                    ("max", MAX_EXTENSION_SECONDS.to_string()),
                ],
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_764_144_000 + secs, 0).unwrap()
    }

    #[test]
    fn an_auction_starts_before_it_ends_and_has_started_from_its_start_on() {
        for (start, ok) in [
            (None, true),
            (Some(t(-10)), true),
            (Some(t(99)), true),
            (Some(t(100)), false),
            (Some(t(101)), false),
        ] {
            let mut errs = FieldErrors::new();
            validate_start(start, t(100), "pricing.auction", &mut errs);
            assert_eq!(errs.is_empty(), ok, "{start:?}");
            if !ok {
                assert_eq!(errs.0[0].path, "pricing.auction.starts_at");
            }
        }
        assert!(has_started(None, t(0)));
        assert!(!has_started(Some(t(1)), t(0)));
        assert!(has_started(Some(t(1)), t(1)));
    }

    fn open_auction(leading: Option<i64>) -> AuctionState {
        AuctionState {
            status: AuctionStatus::Open,
            start_price_fen: 1_000_000,
            increment_fen: 50_000,
            leading_fen: leading,
            ends_at: t(3_600),
            extension_seconds: 300,
        }
    }

    #[test]
    fn the_first_bid_needs_the_start_price_and_later_ones_the_increment() {
        assert_eq!(min_next_bid(1_000, 10, None), 1_000);
        assert_eq!(min_next_bid(1_000, 10, Some(1_000)), 1_010);
        assert_eq!(min_next_bid(1_000, 10, Some(i64::MAX - 1)), i64::MAX);
        let a = open_auction(None);
        assert_eq!(
            a.check_bid(999_999, t(0)),
            BidCheck::TooLow { min_fen: 1_000_000 }
        );
        assert_eq!(
            a.check_bid(1_000_000, t(0)),
            BidCheck::Accept { ends_at: t(3_600) }
        );
        let a = open_auction(Some(1_000_000));
        assert_eq!(
            a.check_bid(1_049_999, t(0)),
            BidCheck::TooLow { min_fen: 1_050_000 }
        );
        assert!(matches!(
            a.check_bid(1_050_000, t(0)),
            BidCheck::Accept { .. }
        ));
    }

    #[test]
    fn bids_at_or_after_the_end_or_when_not_open_are_closed() {
        let a = open_auction(None);
        assert_eq!(a.check_bid(2_000_000, t(3_600)), BidCheck::Closed);
        assert_eq!(a.check_bid(2_000_000, t(4_000)), BidCheck::Closed);
        assert!(a.is_due(t(3_600)) && !a.is_due(t(3_599)));
        for status in [AuctionStatus::Scheduled, AuctionStatus::Closed] {
            let a = AuctionState {
                status,
                ..open_auction(None)
            };
            assert_eq!(a.check_bid(2_000_000, t(0)), BidCheck::Closed);
            assert!(!a.is_due(t(9_999)));
        }
    }

    #[test]
    fn a_late_bid_extends_the_end() {
        let end = t(3_600);
        assert_eq!(extended_end(end, t(3_300), 300), end);
        assert_eq!(extended_end(end, t(3_301), 300), t(3_601));
        assert_eq!(extended_end(end, t(3_599), 300), t(3_899));
        assert_eq!(extended_end(end, t(0), 300), end);
        assert_eq!(extended_end(end, t(3_599), 0), end);
        assert_eq!(
            open_auction(None).check_bid(1_000_000, t(3_500)),
            BidCheck::Accept { ends_at: t(3_800) }
        );
    }

    #[test]
    fn the_reserve_decides_the_outcome() {
        assert_eq!(close_outcome(None, None), CloseOutcome::Unsold);
        assert_eq!(
            close_outcome(Some(5), None),
            CloseOutcome::Sold { price_fen: 5 }
        );
        assert_eq!(close_outcome(Some(5), Some(6)), CloseOutcome::Unsold);
        assert_eq!(
            close_outcome(Some(6), Some(6)),
            CloseOutcome::Sold { price_fen: 6 }
        );
        assert!(!reserve_met(None, None));
    }

    #[test]
    fn bidders_get_numbered_pseudonyms() {
        assert_eq!(
            pseudonym(3),
            ("竞买人3".to_string(), "Bidder 3".to_string())
        );
    }

    fn errors(
        start: i64,
        inc: i64,
        reserve: Option<i64>,
        ends: DateTime<Utc>,
        ext: Option<i64>,
    ) -> Vec<(String, &'static str)> {
        let mut errs = FieldErrors::new();
        validate_auction(
            start,
            inc,
            reserve,
            ends,
            ext,
            t(0),
            "pricing.auction",
            &mut errs,
        );
        errs.into_iter().map(|e| (e.path, e.key)).collect()
    }

    #[test]
    fn auction_terms_are_validated_field_by_field() {
        let day = 86_400;
        assert_eq!(errors(100, 10, Some(100), t(day), None), vec![]);
        assert_eq!(errors(1, 1, None, t(90 * day), Some(3_600)), vec![]);
        assert_eq!(errors(1, 1, None, t(1), Some(0)), vec![]);
        assert_eq!(
            errors(0, 0, Some(-1), t(0), Some(3_601)),
            vec![
                (
                    "pricing.auction.start_price_fen".to_string(),
                    "err.auction.start_price_min"
                ),
                (
                    "pricing.auction.increment_fen".to_string(),
                    "err.auction.increment_min"
                ),
                (
                    "pricing.auction.reserve_fen".to_string(),
                    "err.auction.reserve_below_start"
                ),
                (
                    "pricing.auction.ends_at".to_string(),
                    "err.auction.ends_in_past"
                ),
                (
                    "pricing.auction.extension_seconds".to_string(),
                    "err.auction.extension_range"
                ),
            ]
        );
        assert_eq!(
            errors(
                MAX_AMOUNT_FEN + 1,
                MAX_AMOUNT_FEN + 1,
                Some(99),
                t(90 * day + 1),
                Some(-1)
            ),
            vec![
                (
                    "pricing.auction.start_price_fen".to_string(),
                    "err.amount.too_large"
                ),
                (
                    "pricing.auction.increment_fen".to_string(),
                    "err.amount.too_large"
                ),
                (
                    "pricing.auction.reserve_fen".to_string(),
                    "err.auction.reserve_below_start"
                ),
                (
                    "pricing.auction.ends_at".to_string(),
                    "err.auction.ends_too_late"
                ),
                (
                    "pricing.auction.extension_seconds".to_string(),
                    "err.auction.extension_range"
                ),
            ]
        );
    }

    proptest! {
        #[test]
        fn an_accepted_bid_never_shortens_the_auction_and_leaves_at_least_the_extension(
            end in 0i64..100_000, bid in 0i64..100_000, ext in 0i64..=3_600,
        ) {
            prop_assume!(bid < end);
            let new_end = extended_end(t(end), t(bid), ext);
            prop_assert!(new_end >= t(end));
            prop_assert!(new_end >= t(bid + ext));
            prop_assert!(new_end <= t(end.max(bid + ext)));
        }
    }
}
