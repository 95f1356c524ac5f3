//! A trade's money movements as its statement shows them, read back from its ledger postings:
//! each ledger transaction of the trade becomes one movement per pair of accounts it moves money
//! between (from the debited account to the credited one, the direction `ledger::transfer_postings`
//! documents), named by what it is: the payment, a deposit applied, the seller's share, each fee,
//! a refund, a payout. Pure: the postings and the trade's facts are passed in.

use super::codes::code_enum;
use super::ledger::{Posting, Side};

code_enum! {
    /// What a movement of a trade's money is.
    MovementKind {
        Payment => "payment", "买方付款入托管", "Buyer's payment into escrow";
        DepositApplied => "deposit_applied", "保证金抵作价款", "Deposit applied to the price";
        ToSeller => "to_seller", "应付卖方价款", "Owed to the seller";
        BuyerFee => "buyer_fee", "买方服务费", "Buyer's fee";
        SellerFee => "seller_fee", "卖方服务费", "Seller's fee";
        Refund => "refund", "应退买方款项", "Owed back to the buyer";
        DepositForfeited => "deposit_forfeited", "保证金没收归卖方", "Deposit forfeited to the seller";
        DepositReturned => "deposit_returned", "保证金退还", "Deposit returned";
        PayoutSeller => "payout_seller", "向卖方付款", "Paid out to the seller";
        PayoutBuyer => "payout_buyer", "向买方退款", "Refunded to the buyer";
        BrokerCommission => "broker_commission", "技术经纪人佣金", "Technology broker's commission";
        Other => "other", "其他", "Other";
    }
}

/// Who holds money at either end of a movement, from a ledger account's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The settlement bank account of an exchange (its code).
    Bank(String),
    /// The trade's escrow.
    Escrow,
    /// What the market owes the seller.
    Seller,
    /// What the market owes the buyer.
    Buyer,
    /// An exchange's fee revenue (its code).
    Revenue(String),
    /// An auction deposit held.
    Deposit,
    /// An account of no kind above (shown by its name).
    Other(String),
}

impl Holder {
    pub fn of_account(account: &str) -> Holder {
        let (kind, rest) = account.split_once(':').unwrap_or((account, ""));
        match kind {
            "bank" => Holder::Bank(rest.to_string()),
            "escrow" => Holder::Escrow,
            "payable" if rest.starts_with("seller:") => Holder::Seller,
            "payable" if rest.starts_with("buyer:") => Holder::Buyer,
            "revenue" => Holder::Revenue(rest.to_string()),
            "deposit" => Holder::Deposit,
            _ => Holder::Other(account.to_string()),
        }
    }

    /// `bank:{exchange}` · `escrow` · `seller` · `buyer` · `revenue:{exchange}` · `deposit` · the
    /// account's name.
    pub fn code(&self) -> String {
        match self {
            Holder::Bank(x) => format!("bank:{x}"),
            Holder::Escrow => "escrow".into(),
            Holder::Seller => "seller".into(),
            Holder::Buyer => "buyer".into(),
            Holder::Revenue(x) => format!("revenue:{x}"),
            Holder::Deposit => "deposit".into(),
            Holder::Other(a) => a.clone(),
        }
    }
}

/// One movement: `amount_fen` from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub kind: MovementKind,
    pub from_account: String,
    pub to_account: String,
    pub amount_fen: i64,
}

/// What the statement needs to know of the trade to name its movements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeFacts<'a> {
    pub buyer_exchange: &'a str,
    pub buyer_fee_fen: i64,
    /// The trade was cancelled (money from its escrow to the seller is then a forfeited deposit).
    pub cancelled: bool,
}

fn kind_of(from: &Holder, to: &Holder, cancelled: bool) -> MovementKind {
    use Holder as H;
    match (from, to) {
        (H::Bank(_), H::Escrow) => MovementKind::Payment,
        (H::Deposit, H::Escrow) => MovementKind::DepositApplied,
        (H::Escrow, H::Seller) if cancelled => MovementKind::DepositForfeited,
        (H::Escrow, H::Seller) => MovementKind::ToSeller,
        (H::Escrow, H::Buyer) => MovementKind::Refund,
        (H::Escrow, H::Bank(_)) => MovementKind::DepositReturned,
        (H::Seller, H::Bank(_)) => MovementKind::PayoutSeller,
        (H::Buyer, H::Bank(_)) => MovementKind::PayoutBuyer,
        // Told apart below, where the amounts are known.
        (H::Escrow, H::Revenue(_)) => MovementKind::SellerFee,
        (_, H::Other(a)) if a.starts_with("broker:") => MovementKind::BrokerCommission,
        _ => MovementKind::Other,
    }
}

/// The movements of one balanced ledger transaction of the trade, in the order of its postings.
/// With one debited account, each credit is a movement from it (and with one credited account,
/// each debit one to it); anything else is shown posting by posting against the other side's
/// first account. The buyer's fee is the credit to the buyer's exchange's revenue of the buyer
/// fee's amount (the first such, when both fees go to one exchange and are equal).
pub fn of_transaction(postings: &[Posting], t: TradeFacts<'_>) -> Vec<Movement> {
    let debits: Vec<&Posting> = postings.iter().filter(|p| p.side == Side::Debit).collect();
    let credits: Vec<&Posting> = postings.iter().filter(|p| p.side == Side::Credit).collect();
    let (Some(first_debit), Some(first_credit)) = (debits.first(), credits.first()) else {
        return vec![];
    };
    let pairs: Vec<(&str, &str, i64)> = if debits.len() == 1 || credits.len() > 1 {
        credits
            .iter()
            .map(|c| {
                (
                    first_debit.account.as_str(),
                    c.account.as_str(),
                    c.amount_fen,
                )
            })
            .collect()
    } else {
        debits
            .iter()
            .map(|d| {
                (
                    d.account.as_str(),
                    first_credit.account.as_str(),
                    d.amount_fen,
                )
            })
            .collect()
    };
    let buyer_revenue = format!("revenue:{}", t.buyer_exchange);
    let mut buyer_fee_seen = false;
    pairs
        .into_iter()
        .map(|(from, to, amount_fen)| {
            let mut kind = kind_of(
                &Holder::of_account(from),
                &Holder::of_account(to),
                t.cancelled,
            );
            if kind == MovementKind::SellerFee
                && !buyer_fee_seen
                && to == buyer_revenue
                && amount_fen == t.buyer_fee_fen
            {
                kind = MovementKind::BuyerFee;
                buyer_fee_seen = true;
            }
            Movement {
                kind,
                from_account: from.to_string(),
                to_account: to.to_string(),
                amount_fen,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codes::Exchange;
    use crate::domain::dispute::{self, Outcome, Payee, TradeAmounts};
    use crate::domain::ledger::{payment_postings, settlement_postings, transfer_postings};

    const T: TradeAmounts = TradeAmounts {
        price_fen: 350_000_000,
        buyer_fee_fen: 4_000_000,
        seller_fee_fen: 4_000_000,
    };

    fn facts(cancelled: bool) -> TradeFacts<'static> {
        TradeFacts {
            buyer_exchange: "cquaee",
            buyer_fee_fen: T.buyer_fee_fen,
            cancelled,
        }
    }

    fn kinds(m: &[Movement]) -> Vec<(MovementKind, i64)> {
        m.iter().map(|m| (m.kind, m.amount_fen)).collect()
    }

    #[test]
    fn a_payment_and_a_settlement_are_the_payment_the_sellers_share_and_both_fees() {
        let pay = payment_postings("t", Exchange::Cquaee, T.price_fen, T.buyer_fee_fen);
        let m = of_transaction(&pay, facts(false));
        assert_eq!(kinds(&m), [(MovementKind::Payment, 354_000_000)]);
        assert_eq!(
            (m[0].from_account.as_str(), m[0].to_account.as_str()),
            ("bank:cquaee", "escrow:t")
        );
        let settle = settlement_postings(
            "t",
            "s",
            Exchange::Cquaee,
            Exchange::Suaee,
            T.price_fen,
            T.buyer_fee_fen,
            T.seller_fee_fen,
        );
        assert_eq!(
            kinds(&of_transaction(&settle, facts(false))),
            [
                (MovementKind::ToSeller, 346_000_000),
                (MovementKind::BuyerFee, 4_000_000),
                (MovementKind::SellerFee, 4_000_000),
            ]
        );
    }

    #[test]
    fn equal_fees_to_one_exchange_are_one_buyer_fee_and_one_seller_fee() {
        let settle = settlement_postings(
            "t",
            "s",
            Exchange::Cquaee,
            Exchange::Cquaee,
            T.price_fen,
            T.buyer_fee_fen,
            T.seller_fee_fen,
        );
        let k = kinds(&of_transaction(&settle, facts(false)));
        assert_eq!(k[1].0, MovementKind::BuyerFee);
        assert_eq!(k[2].0, MovementKind::SellerFee);
    }

    #[test]
    fn a_split_shows_the_sellers_share_the_fees_and_the_refund_then_both_payouts() {
        let d = dispute::decide(T, Outcome::Split, Some(175_000_000))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let p = dispute::decision_postings("t", "s", "b", Exchange::Cquaee, Exchange::Suaee, T, &d);
        assert_eq!(
            kinds(&of_transaction(&p, facts(false))),
            [
                (MovementKind::ToSeller, 171_000_000),
                (MovementKind::BuyerFee, 4_000_000),
                (MovementKind::SellerFee, 4_000_000),
                (MovementKind::Refund, 175_000_000),
            ]
        );
        let out = dispute::payout_postings(Payee::Seller, "s", Exchange::Cquaee, 171_000_000);
        assert_eq!(
            kinds(&of_transaction(&out, facts(false))),
            [(MovementKind::PayoutSeller, 171_000_000)]
        );
        let back = dispute::payout_postings(Payee::Buyer, "b", Exchange::Cquaee, 175_000_000);
        assert_eq!(
            kinds(&of_transaction(&back, facts(false))),
            [(MovementKind::PayoutBuyer, 175_000_000)]
        );
    }

    #[test]
    fn deposits_are_applied_forfeited_on_a_cancelled_trade_or_returned() {
        let applied = transfer_postings("deposit:l:b".into(), "escrow:t".into(), 1_000_000);
        assert_eq!(
            kinds(&of_transaction(&applied, facts(false))),
            [(MovementKind::DepositApplied, 1_000_000)]
        );
        let forfeited = transfer_postings("escrow:t".into(), "payable:seller:s".into(), 1_000_000);
        assert_eq!(
            kinds(&of_transaction(&forfeited, facts(true))),
            [(MovementKind::DepositForfeited, 1_000_000)]
        );
        let returned = transfer_postings("escrow:t".into(), "bank:suaee".into(), 1_000_000);
        assert_eq!(
            kinds(&of_transaction(&returned, facts(true))),
            [(MovementKind::DepositReturned, 1_000_000)]
        );
    }

    #[test]
    fn holders_are_read_from_account_names() {
        assert_eq!(
            Holder::of_account("bank:suaee"),
            Holder::Bank("suaee".into())
        );
        assert_eq!(Holder::of_account("payable:buyer:b").code(), "buyer");
        assert_eq!(
            Holder::of_account("revenue:nttc_sw").code(),
            "revenue:nttc_sw"
        );
        assert_eq!(Holder::of_account("broker:x").code(), "broker:x");
        assert!(of_transaction(&[], facts(false)).is_empty());
    }
}
