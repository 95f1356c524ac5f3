//! Disputes and payouts: what each outcome of a dispute gives each party, the ledger postings of
//! a decision, and the postings of a payout (a bank transfer out of a settlement account).
//!
//! The escrow of a disputed trade holds price + buyer fee (the payment). A decision empties it:
//! - `seller`: as a settlement (the seller is owed price − seller fee, both fees are revenue);
//! - `buyer`: the trade is undone; the buyer is owed price + buyer fee back, no fee is charged;
//! - `split`: the seller gets `seller_share_fen` of the price (0 < share < price), less the seller
//!   fee (so the share must cover it); the buyer gets the rest of the price back; the trade is made,
//!   so both fees, frozen at its creation, stay due.

use super::codes::{code_enum, Exchange};
use super::ledger::{escrow_account, revenue_account, seller_payable_account, Posting};

code_enum! {
    /// How an exchange decided a dispute.
    Outcome {
        Seller => "seller", "结算给卖方", "Settle to the seller";
        Buyer => "buyer", "退款给买方", "Refund the buyer";
        Split => "split", "按比例分配", "Split";
    }
}

code_enum! {
    /// Who is paid out (or refunded).
    Payee {
        Seller => "seller", "卖方", "Seller";
        Buyer => "buyer", "买方", "Buyer";
    }
}

/// What the market owes the buyer organisation (refunds).
pub fn buyer_payable_account(organization_id: &str) -> String {
    format!("payable:buyer:{organization_id}")
}

/// The frozen amounts of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeAmounts {
    pub price_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
}

/// What a decision gives each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// The part of the price that goes to the seller.
    pub seller_share_fen: i64,
    /// What the market owes the seller: share − seller fee (0 when refunded).
    pub seller_receives_fen: i64,
    /// What the market owes the buyer back.
    pub buyer_refund_fen: i64,
    /// The fees charged (revenue of the buyer's and the listing's exchange).
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
}

/// Why a split cannot be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// No share given for a split.
    Missing,
    /// Not strictly between 0 and the price.
    OutOfRange,
    /// Less than the seller fee, which comes out of the seller's share.
    BelowSellerFee,
}

/// The amounts of a decision; `seller_share_fen` is read for `split` only.
pub fn decide(
    t: TradeAmounts,
    outcome: Outcome,
    seller_share_fen: Option<i64>,
) -> Result<Decision, SplitError> {
    Ok(match outcome {
        Outcome::Seller => Decision {
            outcome,
            seller_share_fen: t.price_fen,
            seller_receives_fen: t.price_fen.saturating_sub(t.seller_fee_fen),
            buyer_refund_fen: 0,
            buyer_fee_fen: t.buyer_fee_fen,
            seller_fee_fen: t.seller_fee_fen,
        },
        Outcome::Buyer => Decision {
            outcome,
            seller_share_fen: 0,
            seller_receives_fen: 0,
            buyer_refund_fen: t.price_fen.saturating_add(t.buyer_fee_fen),
            buyer_fee_fen: 0,
            seller_fee_fen: 0,
        },
        Outcome::Split => {
            let share = seller_share_fen.ok_or(SplitError::Missing)?;
            if share <= 0 || share >= t.price_fen {
                return Err(SplitError::OutOfRange);
            }
            if share < t.seller_fee_fen {
                return Err(SplitError::BelowSellerFee);
            }
            Decision {
                outcome,
                seller_share_fen: share,
                seller_receives_fen: share - t.seller_fee_fen,
                buyer_refund_fen: t.price_fen - share,
                buyer_fee_fen: t.buyer_fee_fen,
                seller_fee_fen: t.seller_fee_fen,
            }
        }
    })
}

/// The postings of a decision: debit the escrow price + buyer fee; credit the seller's payable, the
/// buyer's payable (refund) and both exchanges' revenue. Zero credits are left out. Balanced for
/// every decision [`decide`] returns.
pub fn decision_postings(
    trade_id: &str,
    seller_organization_id: &str,
    buyer_organization_id: &str,
    buyer_exchange: Exchange,
    listing_exchange: Exchange,
    t: TradeAmounts,
    d: &Decision,
) -> Vec<Posting> {
    let mut postings = vec![Posting::debit(
        escrow_account(trade_id),
        t.price_fen.saturating_add(t.buyer_fee_fen),
    )];
    let credits = [
        (
            seller_payable_account(seller_organization_id),
            d.seller_receives_fen,
        ),
        (revenue_account(buyer_exchange), d.buyer_fee_fen),
        (revenue_account(listing_exchange), d.seller_fee_fen),
        (
            buyer_payable_account(buyer_organization_id),
            d.buyer_refund_fen,
        ),
    ];
    for (account, amount) in credits {
        if amount != 0 {
            postings.push(Posting::credit(account, amount));
        }
    }
    postings
}

/// A payout: the market's payable to the organisation goes down, the money leaves the settlement
/// bank account of `exchange` (the buyer's exchange, where the payment came in).
pub fn payout_postings(
    payee: Payee,
    organization_id: &str,
    exchange: Exchange,
    amount_fen: i64,
) -> Vec<Posting> {
    let payable = match payee {
        Payee::Seller => seller_payable_account(organization_id),
        Payee::Buyer => buyer_payable_account(organization_id),
    };
    vec![
        Posting::debit(payable, amount_fen),
        Posting::credit(super::ledger::bank_account(exchange), amount_fen),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::ledger::{is_balanced, payment_postings, Side};
    use std::collections::BTreeMap;

    const T: TradeAmounts = TradeAmounts {
        price_fen: 350_000_000,
        buyer_fee_fen: 4_000_000,
        seller_fee_fen: 4_000_000,
    };

    fn nets(postings: &[Posting]) -> BTreeMap<String, i64> {
        let mut m = BTreeMap::new();
        for p in postings {
            let v = match p.side {
                Side::Debit => p.amount_fen,
                Side::Credit => -p.amount_fen,
            };
            *m.entry(p.account.clone()).or_insert(0) += v;
        }
        m
    }

    fn all(d: &Decision) -> Vec<Posting> {
        let mut p = payment_postings("t", Exchange::Cquaee, T.price_fen, T.buyer_fee_fen);
        p.extend(decision_postings(
            "t",
            "s",
            "b",
            Exchange::Cquaee,
            Exchange::Suaee,
            T,
            d,
        ));
        p
    }

    #[test]
    fn every_outcome_balances_and_empties_the_escrow() {
        for (outcome, share) in [
            (Outcome::Seller, None),
            (Outcome::Buyer, None),
            (Outcome::Split, Some(175_000_000)),
            (Outcome::Split, Some(4_000_000)),
            (Outcome::Split, Some(349_999_999)),
        ] {
            let d = decide(T, outcome, share).unwrap();
            let p = decision_postings("t", "s", "b", Exchange::Cquaee, Exchange::Suaee, T, &d);
            assert!(is_balanced(&p), "{outcome:?} {share:?}");
            let n = nets(&all(&d));
            assert_eq!(n["escrow:t"], 0, "{outcome:?}");
            // What went in is what is owed plus the fees.
            assert_eq!(
                d.seller_receives_fen + d.buyer_refund_fen + d.buyer_fee_fen + d.seller_fee_fen,
                T.price_fen + T.buyer_fee_fen
            );
        }
    }

    #[test]
    fn a_refund_gives_price_and_buyer_fee_back_and_charges_no_fee() {
        let d = decide(T, Outcome::Buyer, Some(1)).unwrap();
        assert_eq!(d.buyer_refund_fen, 354_000_000);
        assert_eq!(
            (d.seller_receives_fen, d.buyer_fee_fen, d.seller_fee_fen),
            (0, 0, 0)
        );
        let p = decision_postings("t", "s", "b", Exchange::Cquaee, Exchange::Suaee, T, &d);
        assert_eq!(
            p,
            vec![
                Posting::debit("escrow:t".into(), 354_000_000),
                Posting::credit("payable:buyer:b".into(), 354_000_000),
            ]
        );
    }

    #[test]
    fn half_and_half_pays_the_seller_half_less_its_fee_and_refunds_the_other_half() {
        let d = decide(T, Outcome::Split, Some(175_000_000)).unwrap();
        assert_eq!(d.seller_receives_fen, 171_000_000);
        assert_eq!(d.buyer_refund_fen, 175_000_000);
        let s = decide(T, Outcome::Seller, None).unwrap();
        assert_eq!(s.seller_receives_fen, 346_000_000);
        assert_eq!(s.buyer_refund_fen, 0);
    }

    #[test]
    fn a_split_needs_a_share_inside_the_price_that_covers_the_seller_fee() {
        assert_eq!(decide(T, Outcome::Split, None), Err(SplitError::Missing));
        assert_eq!(
            decide(T, Outcome::Split, Some(0)),
            Err(SplitError::OutOfRange)
        );
        assert_eq!(
            decide(T, Outcome::Split, Some(T.price_fen)),
            Err(SplitError::OutOfRange)
        );
        assert_eq!(
            decide(T, Outcome::Split, Some(-5)),
            Err(SplitError::OutOfRange)
        );
        assert_eq!(
            decide(T, Outcome::Split, Some(3_999_999)),
            Err(SplitError::BelowSellerFee)
        );
    }

    #[test]
    fn a_payout_zeroes_the_payable_out_of_the_bank_account() {
        let d = decide(T, Outcome::Split, Some(175_000_000)).unwrap();
        let mut p = all(&d);
        p.extend(payout_postings(
            Payee::Seller,
            "s",
            Exchange::Cquaee,
            171_000_000,
        ));
        p.extend(payout_postings(
            Payee::Buyer,
            "b",
            Exchange::Cquaee,
            175_000_000,
        ));
        let n = nets(&p);
        assert_eq!(n["payable:seller:s"], 0);
        assert_eq!(n["payable:buyer:b"], 0);
        // What stays in the bank is the fees.
        assert_eq!(n["bank:cquaee"], 8_000_000);
        assert!(is_balanced(&payout_postings(
            Payee::Buyer,
            "b",
            Exchange::Suaee,
            1
        )));
    }
}
