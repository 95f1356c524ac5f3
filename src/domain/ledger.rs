//! The double-entry ledger: postings for payment and settlement, and the hash chain over stored entries.
//!
//! Accounts are plain strings: `bank:{exchange}` (the exchange's settlement bank account), `escrow:{trade_id}`,
//! `payable:seller:{organization_id}`, `revenue:{exchange}`, `deposit:{listing_id}:{organization_id}` (an
//! auction deposit held for that organisation).
//!
//! Each stored entry carries `hash = SHA-256(prev_hash ‖ canonical_bytes(entry))`, the first entry chained to
//! [`GENESIS`] (32 zero bytes). See [`EntryForHash::canonical_bytes`] for the exact encoding auditors need.

use sha2::{Digest, Sha256};

use super::codes::{code_enum, Exchange};

code_enum! {
    /// Which side of an account a posting is on.
    Side {
        Debit => "debit", "借", "Debit";
        Credit => "credit", "贷", "Credit";
    }
}

/// The settlement bank account of an exchange.
pub fn bank_account(exchange: Exchange) -> String {
    format!("bank:{}", exchange.code())
}

/// The escrow account of a trade.
pub fn escrow_account(trade_id: &str) -> String {
    format!("escrow:{trade_id}")
}

/// What the market owes a seller organisation.
pub fn seller_payable_account(organization_id: &str) -> String {
    format!("payable:seller:{organization_id}")
}

/// An exchange's fee revenue.
pub fn revenue_account(exchange: Exchange) -> String {
    format!("revenue:{}", exchange.code())
}

/// An auction deposit (保证金) held for an organisation.
pub fn deposit_account(listing_id: &str, organization_id: &str) -> String {
    format!("deposit:{listing_id}:{organization_id}")
}

/// `amount_fen` moves from what `debit` stands for to what `credit` does: the two lines of every
/// deposit posting (received: bank → deposit; refunded: deposit → bank; applied: deposit →
/// the trade's escrow; forfeited: escrow → the seller's payable). Nothing for a zero amount.
pub fn transfer_postings(debit: String, credit: String, amount_fen: i64) -> Vec<Posting> {
    if amount_fen == 0 {
        return vec![];
    }
    vec![
        Posting::debit(debit, amount_fen),
        Posting::credit(credit, amount_fen),
    ]
}

/// One line of a ledger transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: String,
    pub side: Side,
    pub amount_fen: i64,
}

impl Posting {
    pub fn debit(account: String, amount_fen: i64) -> Self {
        Posting {
            account,
            side: Side::Debit,
            amount_fen,
        }
    }

    pub fn credit(account: String, amount_fen: i64) -> Self {
        Posting {
            account,
            side: Side::Credit,
            amount_fen,
        }
    }
}

/// Payment received: debit the settling exchange's bank account, credit the trade's escrow, price + buyer fee.
pub fn payment_postings(
    trade_id: &str,
    settling_exchange: Exchange,
    price_fen: i64,
    buyer_fee_fen: i64,
) -> Vec<Posting> {
    let total = price_fen.saturating_add(buyer_fee_fen);
    vec![
        Posting::debit(bank_account(settling_exchange), total),
        Posting::credit(escrow_account(trade_id), total),
    ]
}

/// Settlement: debit escrow price + buyer fee; credit the seller price − seller fee, the buyer's exchange
/// the buyer fee and the listing's exchange the seller fee. Zero credits are left out; when both exchanges
/// are the same they get two credits.
pub fn settlement_postings(
    trade_id: &str,
    seller_organization_id: &str,
    buyer_exchange: Exchange,
    listing_exchange: Exchange,
    price_fen: i64,
    buyer_fee_fen: i64,
    seller_fee_fen: i64,
) -> Vec<Posting> {
    let mut postings = vec![Posting::debit(
        escrow_account(trade_id),
        price_fen.saturating_add(buyer_fee_fen),
    )];
    let credits = [
        (
            seller_payable_account(seller_organization_id),
            price_fen.saturating_sub(seller_fee_fen),
        ),
        (revenue_account(buyer_exchange), buyer_fee_fen),
        (revenue_account(listing_exchange), seller_fee_fen),
    ];
    for (account, amount) in credits {
        if amount != 0 {
            postings.push(Posting::credit(account, amount));
        }
    }
    postings
}

/// A transaction is balanced when it has postings, every amount is positive and debits equal credits.
pub fn is_balanced(postings: &[Posting]) -> bool {
    if postings.is_empty() || postings.iter().any(|p| p.amount_fen <= 0) {
        return false;
    }
    let net: i128 = postings
        .iter()
        .map(|p| match p.side {
            Side::Debit => i128::from(p.amount_fen),
            Side::Credit => -i128::from(p.amount_fen),
        })
        .sum();
    net == 0
}

/// The hash the first entry is chained to.
pub const GENESIS: [u8; 32] = [0; 32];

/// Version byte that starts every entry's canonical bytes.
pub const CANONICAL_VERSION: u8 = 1;

/// The stored columns of a ledger entry that its hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryForHash<'a> {
    pub id: i64,
    pub txn_id: &'a str,
    pub account: &'a str,
    pub side: Side,
    pub amount_fen: i64,
    pub trade_id: Option<&'a str>,
    /// `created_at` as microseconds since the Unix epoch (Postgres `timestamptz` precision).
    pub created_at_micros: i64,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl EntryForHash<'_> {
    /// The unambiguous byte encoding hashed into the chain, in this order:
    ///
    /// 1. the version byte `0x01`;
    /// 2. `id` as 8 bytes, big-endian two's complement;
    /// 3. `txn_id`, `account` and `side` (`debit`/`credit`), each as its UTF-8 byte length (4 bytes,
    ///    big-endian) followed by the UTF-8 bytes;
    /// 4. `amount_fen` as 8 bytes, big-endian;
    /// 5. `trade_id`: the byte `0x00` when null, else `0x01` then length-prefixed UTF-8 as in 3;
    /// 6. `created_at` in microseconds since 1970-01-01T00:00:00Z as 8 bytes, big-endian.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.txn_id.len() + self.account.len());
        out.push(CANONICAL_VERSION);
        out.extend_from_slice(&self.id.to_be_bytes());
        put_str(&mut out, self.txn_id);
        put_str(&mut out, self.account);
        put_str(&mut out, self.side.code());
        out.extend_from_slice(&self.amount_fen.to_be_bytes());
        match self.trade_id {
            None => out.push(0),
            Some(t) => {
                out.push(1);
                put_str(&mut out, t);
            }
        }
        out.extend_from_slice(&self.created_at_micros.to_be_bytes());
        out
    }
}

/// `SHA-256(prev ‖ canonical_bytes(entry))`.
pub fn entry_hash(prev: &[u8; 32], entry: &EntryForHash<'_>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(entry.canonical_bytes());
    h.finalize().into()
}

/// The result of recomputing the chain from the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Every entry's stored `prev_hash` is its predecessor's hash and its stored `hash` recomputes.
    pub ok: bool,
    /// Number of entries read.
    pub entries: u64,
    /// Total debits equal total credits.
    pub balanced: bool,
    /// The last entry's stored hash ([`GENESIS`] for an empty ledger).
    pub head_hash: [u8; 32],
    /// The first entry whose links or hash do not check out.
    pub first_bad_entry_id: Option<i64>,
}

impl ChainReport {
    pub fn head_hash_hex(&self) -> String {
        hex::encode(self.head_hash)
    }
}

/// Verify stored entries in chain order (by `id`), each with its stored `prev_hash` and `hash`.
///
/// An entry is bad when its stored `prev_hash` is not the previous entry's stored hash (or [`GENESIS`]),
/// or its stored hash is not `SHA-256(prev_hash ‖ canonical bytes)`; so a changed field is reported at that
/// entry and a deleted or inserted entry at the entry after the gap. Verification goes on past a bad entry
/// (following the stored hashes) to count entries and totals.
pub fn verify_chain<'a, I, P, H>(entries: I) -> ChainReport
where
    I: IntoIterator<Item = (EntryForHash<'a>, P, H)>,
    P: AsRef<[u8]>,
    H: AsRef<[u8]>,
{
    let mut prev = GENESIS;
    let mut count = 0u64;
    let mut first_bad = None;
    let mut net: i128 = 0;
    for (entry, stored_prev, stored_hash) in entries {
        count += 1;
        net += match entry.side {
            Side::Debit => i128::from(entry.amount_fen),
            Side::Credit => -i128::from(entry.amount_fen),
        };
        let computed = entry_hash(&prev, &entry);
        let good = stored_prev.as_ref() == prev.as_slice() && stored_hash.as_ref() == computed;
        if !good && first_bad.is_none() {
            first_bad = Some(entry.id);
        }
        prev = <[u8; 32]>::try_from(stored_hash.as_ref()).unwrap_or(computed);
    }
    ChainReport {
        ok: first_bad.is_none(),
        entries: count,
        balanced: net == 0,
        head_hash: prev,
        first_bad_entry_id: first_bad,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

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
    fn payment_moves_price_and_buyer_fee_into_escrow() {
        let p = payment_postings("t1", Exchange::Cquaee, 350_000_000, 4_000_000);
        assert_eq!(
            p,
            vec![
                Posting::debit("bank:cquaee".into(), 354_000_000),
                Posting::credit("escrow:t1".into(), 354_000_000),
            ]
        );
        assert!(is_balanced(&p));
    }

    #[test]
    fn settlement_pays_seller_and_both_exchanges_and_empties_escrow() {
        let s = settlement_postings(
            "t1",
            "org9",
            Exchange::Cquaee,
            Exchange::Suaee,
            350_000_000,
            4_000_000,
            4_000_000,
        );
        assert_eq!(
            s,
            vec![
                Posting::debit("escrow:t1".into(), 354_000_000),
                Posting::credit("payable:seller:org9".into(), 346_000_000),
                Posting::credit("revenue:cquaee".into(), 4_000_000),
                Posting::credit("revenue:suaee".into(), 4_000_000),
            ]
        );
        assert!(is_balanced(&s));
        let mut all = payment_postings("t1", Exchange::Cquaee, 350_000_000, 4_000_000);
        all.extend(s);
        assert_eq!(net(&all)["escrow:t1"], 0);
    }

    #[test]
    fn zero_fees_are_left_out_and_equal_exchanges_get_two_credits() {
        let s = settlement_postings("t2", "o", Exchange::Suaee, Exchange::Suaee, 1_000, 0, 0);
        assert_eq!(s.len(), 2);
        assert!(is_balanced(&s));
        let s = settlement_postings("t3", "o", Exchange::Suaee, Exchange::Suaee, 1_000, 5, 7);
        assert_eq!(s.len(), 4);
        assert!(is_balanced(&s));
        // A fee equal to the price leaves the seller nothing, and no zero posting.
        let s = settlement_postings("t4", "o", Exchange::Suaee, Exchange::Cdipex, 100, 100, 100);
        assert_eq!(s.len(), 3);
        assert!(is_balanced(&s));
    }

    #[test]
    fn unbalanced_or_non_positive_postings_are_not_balanced() {
        assert!(!is_balanced(&[]));
        assert!(!is_balanced(&[
            Posting::debit("a".into(), 5),
            Posting::credit("b".into(), 4)
        ]));
        assert!(!is_balanced(&[
            Posting::debit("a".into(), 0),
            Posting::credit("b".into(), 0)
        ]));
    }

    fn sample_entries() -> Vec<(String, String, Side, i64, Option<String>)> {
        vec![
            (
                "x1".into(),
                "bank:suaee".into(),
                Side::Debit,
                1_030_000,
                Some("t1".into()),
            ),
            (
                "x1".into(),
                "escrow:t1".into(),
                Side::Credit,
                1_030_000,
                Some("t1".into()),
            ),
            (
                "x2".into(),
                "escrow:t1".into(),
                Side::Debit,
                1_030_000,
                Some("t1".into()),
            ),
            (
                "x2".into(),
                "payable:seller:o".into(),
                Side::Credit,
                970_000,
                Some("t1".into()),
            ),
            (
                "x2".into(),
                "revenue:suaee".into(),
                Side::Credit,
                60_000,
                None,
            ),
        ]
    }

    /// Entries with correctly chained stored hashes.
    fn chained(
        rows: &[(String, String, Side, i64, Option<String>)],
    ) -> Vec<(EntryForHash<'_>, [u8; 32], [u8; 32])> {
        let mut prev = GENESIS;
        rows.iter()
            .enumerate()
            .map(|(i, (txn, account, side, amount, trade))| {
                let e = EntryForHash {
                    id: i as i64 + 1,
                    txn_id: txn,
                    account,
                    side: *side,
                    amount_fen: *amount,
                    trade_id: trade.as_deref(),
                    created_at_micros: 1_764_144_000_000_000 + i as i64,
                };
                let h = entry_hash(&prev, &e);
                let row = (e, prev, h);
                prev = h;
                row
            })
            .collect()
    }

    #[test]
    fn the_canonical_encoding_is_pinned() {
        let e = EntryForHash {
            id: 1,
            txn_id: "x1",
            account: "bank:suaee",
            side: Side::Debit,
            amount_fen: 1_030_000,
            trade_id: Some("t1"),
            created_at_micros: 1_764_144_000_000_000,
        };
        assert_eq!(
            hex::encode(e.canonical_bytes()),
            concat!(
                "0100000000000000010000000278310000000a62",
                "616e6b3a73756165650000000564656269740000",
                "0000000fb770010000000274310006447ac873e0",
                "00",
            )
        );
        // Computed independently: python3 hashlib.sha256(bytes(32) + canonical).hexdigest()
        assert_eq!(hex::encode(entry_hash(&GENESIS, &e)), PINNED_HASH);
    }

    const PINNED_HASH: &str = "e557d9a48a1732f42290a03236e0c7799a44890c4722487a1997912a7a37f878";

    #[test]
    fn an_intact_chain_verifies() {
        let rows = sample_entries();
        let chain = chained(&rows);
        let head = chain.last().unwrap().2;
        let report = verify_chain(chain);
        assert_eq!(
            report,
            ChainReport {
                ok: true,
                entries: 5,
                balanced: true,
                head_hash: head,
                first_bad_entry_id: None
            }
        );
        let empty = verify_chain(Vec::<(EntryForHash<'_>, Vec<u8>, Vec<u8>)>::new());
        assert!(empty.ok && empty.balanced && empty.entries == 0);
        assert_eq!(empty.head_hash, GENESIS);
    }

    #[test]
    fn a_tampered_amount_is_found_at_its_entry() {
        let rows = sample_entries();
        let mut chain = chained(&rows);
        chain[2].0.amount_fen += 1;
        let report = verify_chain(chain);
        assert!(!report.ok);
        assert!(!report.balanced);
        assert_eq!(report.entries, 5);
        assert_eq!(report.first_bad_entry_id, Some(3));
    }

    #[test]
    fn a_recomputed_hash_is_caught_by_the_next_link_and_a_deletion_after_the_gap() {
        let rows = sample_entries();
        let mut chain = chained(&rows);
        chain[1].0.account = "escrow:t9";
        chain[1].2 = entry_hash(&chain[1].1, &chain[1].0);
        assert_eq!(verify_chain(chain).first_bad_entry_id, Some(3));

        let mut chain = chained(&rows);
        chain.remove(3);
        assert_eq!(verify_chain(chain).first_bad_entry_id, Some(5));

        let mut chain = chained(&rows);
        chain[0].1[0] = 1;
        assert_eq!(verify_chain(chain).first_bad_entry_id, Some(1));
    }

    #[test]
    fn stored_hashes_of_any_byte_form_are_accepted() {
        let rows = sample_entries();
        let chain: Vec<_> = chained(&rows)
            .into_iter()
            .map(|(e, p, h)| (e, p.to_vec(), h.to_vec()))
            .collect();
        assert!(verify_chain(chain).ok);
        let mut chain: Vec<_> = chained(&rows)
            .into_iter()
            .map(|(e, p, h)| (e, p.to_vec(), h.to_vec()))
            .collect();
        chain[4].2.pop();
        assert_eq!(verify_chain(chain).first_bad_entry_id, Some(5));
    }
}
