//! Technology brokers (技术经纪人): the commission rule of API.md and what a brokered settlement
//! posts. A broker engaged by one side of a trade is paid by that side: a buyer-side commission is
//! paid in on top of price + buyer fee; a seller-side one comes out of the seller's proceeds. Both
//! pass through the trade's escrow to the account `broker:{broker_id}`.

use super::ledger::{escrow_account, seller_payable_account, Posting, Side};

/// The highest commission rate: 10% (100 000 ppm).
pub const MAX_COMMISSION_PPM: i64 = 100_000;

/// The broker's account in the ledger.
pub fn broker_account(broker_id: &str) -> String {
    format!("broker:{broker_id}")
}

/// `floor((price_fen × commission_ppm + 500000) / 1000000)`, computed exactly in i128 (half up).
/// `None` for a negative price or a rate outside 0..=[`MAX_COMMISSION_PPM`].
pub fn commission_fen(price_fen: i64, commission_ppm: i64) -> Option<i64> {
    if price_fen < 0 || !(0..=MAX_COMMISSION_PPM).contains(&commission_ppm) {
        return None;
    }
    let raw = i128::from(price_fen) * i128::from(commission_ppm) + 500_000;
    i64::try_from(raw.div_euclid(1_000_000)).ok()
}

/// Which party engaged a broker (and pays them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerSide {
    Buyer,
    Seller,
}

impl BrokerSide {
    pub fn code(self) -> &'static str {
        match self {
            BrokerSide::Buyer => "buyer",
            BrokerSide::Seller => "seller",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "buyer" => Some(BrokerSide::Buyer),
            "seller" => Some(BrokerSide::Seller),
            _ => None,
        }
    }
}

/// An accepted engagement as the settlement sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commission {
    pub broker_id: String,
    pub side: BrokerSide,
    pub amount_fen: i64,
}

/// The most a seller-side commission may be: what the seller receives (price − seller fee).
pub fn seller_can_pay(price_fen: i64, seller_fee_fen: i64) -> i64 {
    price_fen.saturating_sub(seller_fee_fen).max(0)
}

/// Adds the commissions to a trade's settlement postings (`ledger::settlement_postings`): the
/// escrow's debit grows by the buyer-side commissions (paid in with the price), the seller's
/// payable shrinks by the seller-side ones, and each broker's account is credited. Balanced
/// whenever the input is, provided the seller-side commissions do not exceed the seller's credit
/// (checked when the engagement is proposed, [`seller_can_pay`]); a zero commission adds nothing.
pub fn with_commissions(
    mut postings: Vec<Posting>,
    trade_id: &str,
    seller_organization_id: &str,
    commissions: &[Commission],
) -> Vec<Posting> {
    let escrow = escrow_account(trade_id);
    let payable = seller_payable_account(seller_organization_id);
    for c in commissions.iter().filter(|c| c.amount_fen > 0) {
        let (account, side) = match c.side {
            BrokerSide::Buyer => (&escrow, Side::Debit),
            BrokerSide::Seller => (&payable, Side::Credit),
        };
        match postings
            .iter_mut()
            .find(|p| &p.account == account && p.side == side)
        {
            Some(p) if side == Side::Debit => {
                p.amount_fen = p.amount_fen.saturating_add(c.amount_fen)
            }
            Some(p) => p.amount_fen = p.amount_fen.saturating_sub(c.amount_fen),
            None if side == Side::Debit => {
                postings.push(Posting::debit(account.clone(), c.amount_fen))
            }
            // No seller credit to take it from: the seller pays it out of the escrow anyway
            // (never reached for a commission checked by `seller_can_pay`).
            None => postings.push(Posting::debit(escrow.clone(), c.amount_fen)),
        }
        postings.push(Posting::credit(broker_account(&c.broker_id), c.amount_fen));
    }
    postings.retain(|p| p.amount_fen != 0);
    postings
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::codes::Exchange;
    use crate::domain::ledger::{is_balanced, payment_postings, settlement_postings};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// An independent computation of the rule: quotient and remainder of the exact product, one
    /// more when the remainder is at least half a million (half up), in u128.
    fn by_remainder(price: u64, ppm: u64) -> u128 {
        let product = u128::from(price) * u128::from(ppm);
        let (q, r) = (product / 1_000_000, product % 1_000_000);
        q + u128::from(r >= 500_000)
    }

    #[test]
    fn edge_amounts_follow_the_rule() {
        // 1 fen: 10% of it is 0.1 fen → 0; any rate of 1 fen rounds to 0 below 50%.
        assert_eq!(commission_fen(1, 100_000), Some(0));
        assert_eq!(commission_fen(1, 0), Some(0));
        // Exactly half a fen rounds up: 5 fen at 10% = 0.5 fen → 1.
        assert_eq!(commission_fen(5, 100_000), Some(1));
        // Just below half rounds down: 4 fen at 12.4999% is out of range; 49 999 ppm of 10 fen = 0.49999 → 0.
        assert_eq!(commission_fen(10, 49_999), Some(0));
        assert_eq!(commission_fen(10, 50_000), Some(1));
        // 10^14 fen (the largest amount) at the highest rate: 10^13 exactly, no overflow.
        assert_eq!(
            commission_fen(100_000_000_000_000, 100_000),
            Some(10_000_000_000_000)
        );
        assert_eq!(commission_fen(100_000_000_000_000, 1), Some(100_000_000));
        assert_eq!(
            commission_fen(i64::MAX, 100_000),
            Some(922_337_203_685_477_581)
        );
        // 350 万元 at 3% = 10.5 万元.
        assert_eq!(commission_fen(350_000_000, 30_000), Some(10_500_000));
        assert_eq!(commission_fen(100, 100_001), None);
        assert_eq!(commission_fen(100, -1), None);
        assert_eq!(commission_fen(-1, 10), None);
    }

    proptest! {
        #[test]
        fn the_commission_matches_an_independent_computation(
            price in prop_oneof![1i64..=1_000, 1i64..=100_000_000_000_000],
            ppm in 0i64..=MAX_COMMISSION_PPM,
        ) {
            let c = commission_fen(price, ppm).unwrap();
            prop_assert_eq!(u128::try_from(c).unwrap(), by_remainder(price as u64, ppm as u64));
            // Never more than the rate allows, rounded: at most 10% of the price plus half a fen.
            prop_assert!(i128::from(c) * 1_000_000 <= i128::from(price) * i128::from(ppm) + 500_000);
        }

        #[test]
        fn a_brokered_settlement_balances_and_empties_the_escrow(
            price in 1i64..=100_000_000_000_000,
            buyer_fee in 0i64..=10_000_000,
            seller_fee in 0i64..=10_000_000,
            buyer_ppm in 0i64..=MAX_COMMISSION_PPM,
            seller_ppm in 0i64..=MAX_COMMISSION_PPM,
        ) {
            let buyer_fee = buyer_fee.min(price);
            let seller_fee = seller_fee.min(price);
            let bc = commission_fen(price, buyer_ppm).unwrap();
            let sc = commission_fen(price, seller_ppm).unwrap().min(seller_can_pay(price, seller_fee));
            let commissions = vec![
                Commission { broker_id: "b1".into(), side: BrokerSide::Buyer, amount_fen: bc },
                Commission { broker_id: "b2".into(), side: BrokerSide::Seller, amount_fen: sc },
            ];
            let base = settlement_postings("t", "s", Exchange::Cquaee, Exchange::Suaee, price, buyer_fee, seller_fee);
            let s = with_commissions(base, "t", "s", &commissions);
            prop_assert!(is_balanced(&s));
            let mut all = payment_postings("t", Exchange::Cquaee, price + bc, buyer_fee);
            all.extend(s);
            let n = net(&all);
            prop_assert_eq!(n.get("escrow:t").copied().unwrap_or(0), 0);
            prop_assert_eq!(n.get("broker:b1").copied().unwrap_or(0), -bc);
            prop_assert_eq!(n.get("broker:b2").copied().unwrap_or(0), -sc);
            prop_assert_eq!(n.get("payable:seller:s").copied().unwrap_or(0), -(price - seller_fee - sc));
        }
    }

    fn net(postings: &[Posting]) -> BTreeMap<String, i64> {
        let mut m = BTreeMap::new();
        for p in postings {
            let signed = match p.side {
                Side::Debit => p.amount_fen,
                Side::Credit => -p.amount_fen,
            };
            *m.entry(p.account.clone()).or_insert(0) += signed;
        }
        m
    }

    #[test]
    fn each_side_pays_its_own_broker() {
        let base = settlement_postings(
            "t",
            "s",
            Exchange::Cquaee,
            Exchange::Suaee,
            1_000_000,
            30_000,
            30_000,
        );
        let buyer = vec![Commission {
            broker_id: "b".into(),
            side: BrokerSide::Buyer,
            amount_fen: 20_000,
        }];
        let s = with_commissions(base.clone(), "t", "s", &buyer);
        assert_eq!(s[0], Posting::debit("escrow:t".into(), 1_050_000));
        assert!(s.contains(&Posting::credit("payable:seller:s".into(), 970_000)));
        assert!(s.contains(&Posting::credit("broker:b".into(), 20_000)));
        assert!(is_balanced(&s));
        let seller = vec![Commission {
            broker_id: "b".into(),
            side: BrokerSide::Seller,
            amount_fen: 20_000,
        }];
        let s = with_commissions(base.clone(), "t", "s", &seller);
        assert_eq!(s[0], Posting::debit("escrow:t".into(), 1_030_000));
        assert!(s.contains(&Posting::credit("payable:seller:s".into(), 950_000)));
        assert!(s.contains(&Posting::credit("broker:b".into(), 20_000)));
        assert!(is_balanced(&s));
        // A zero commission changes nothing.
        let zero = vec![Commission {
            broker_id: "b".into(),
            side: BrokerSide::Seller,
            amount_fen: 0,
        }];
        assert_eq!(with_commissions(base.clone(), "t", "s", &zero), base);
        // A seller commission equal to all the seller gets leaves no zero posting.
        let all = vec![Commission {
            broker_id: "b".into(),
            side: BrokerSide::Seller,
            amount_fen: 970_000,
        }];
        let s = with_commissions(base, "t", "s", &all);
        assert!(s.iter().all(|p| p.amount_fen > 0) && is_balanced(&s));
    }
}
