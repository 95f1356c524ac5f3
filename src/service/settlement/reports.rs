//! Reading the ledger: chain verification, recent entries, balances, revenue by exchange.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db::settlement as sdb;
use crate::domain::codes::Exchange;
use crate::domain::ledger::{self, EntryForHash, Side, GENESIS};
use crate::error::Result;
use crate::service::{Page, PageQuery};

use super::flush;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Every entry links to its predecessor and its hash recomputes.
    pub ok: bool,
    pub entries: u64,
    /// Every transaction's debits equal its credits.
    pub balanced: bool,
    /// Hex SHA-256 of the last entry.
    pub head_hash: String,
    pub first_bad_entry_id: Option<i64>,
}

/// Recomputes the chain incrementally (the same rules as `domain::ledger::verify_chain`, one row at a
/// time, so entries can be streamed).
struct ChainVerifier {
    prev: [u8; 32],
    count: u64,
    net: i128,
    first_bad: Option<i64>,
}

impl ChainVerifier {
    fn new() -> Self {
        ChainVerifier {
            prev: GENESIS,
            count: 0,
            net: 0,
            first_bad: None,
        }
    }

    fn push(&mut self, r: &sdb::EntryRow) {
        self.count += 1;
        // Hyphenated lower case, as hashed at append time, without allocating.
        let mut txn_buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let mut trade_buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let txn: &str = r.txn_id.hyphenated().encode_lower(&mut txn_buf);
        let trade: Option<&str> = match r.trade_id {
            Some(t) => Some(t.hyphenated().encode_lower(&mut trade_buf)),
            None => None,
        };
        let side = Side::parse(&r.side);
        let computed = side.map(|side| {
            self.net += match side {
                Side::Debit => i128::from(r.amount_fen),
                Side::Credit => -i128::from(r.amount_fen),
            };
            ledger::entry_hash(
                &self.prev,
                &EntryForHash {
                    id: r.id,
                    txn_id: txn,
                    account: &r.account,
                    side,
                    amount_fen: r.amount_fen,
                    trade_id: trade,
                    created_at_micros: r.created_at.timestamp_micros(),
                },
            )
        });
        let good = r.prev_hash.as_slice() == self.prev.as_slice()
            && computed.is_some_and(|c| r.hash.as_slice() == c.as_slice());
        if !good && self.first_bad.is_none() {
            self.first_bad = Some(r.id);
        }
        self.prev = <[u8; 32]>::try_from(r.hash.as_slice())
            .ok()
            .or(computed)
            .unwrap_or(self.prev);
    }
}

/// Recomputes the whole chain from the start (any admin).
pub async fn verify_ledger(pool: &PgPool, user: &CurrentUser) -> Result<VerifyReport> {
    user.require_admin()?;
    // Include postings a crash left pending (normally none: each request chains its own).
    flush(pool).await?;
    let mut tx = pool.begin().await?;
    // One snapshot for the chain and the balance check.
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let mut v = ChainVerifier::new();
    {
        let mut rows = sdb::stream_entries(&mut tx);
        while let Some(r) = rows.try_next().await? {
            v.push(&r);
        }
    }
    let unbalanced = sdb::unbalanced_txns(&mut tx).await?;
    tx.commit().await?;
    Ok(VerifyReport {
        ok: v.first_bad.is_none(),
        entries: v.count,
        balanced: unbalanced == 0 && v.net == 0,
        head_hash: hex::encode(v.prev),
        first_bad_entry_id: v.first_bad,
    })
}

/// A stored ledger entry as auditors read it (hashes in hex).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub id: i64,
    pub txn_id: Uuid,
    pub account: String,
    /// debit | credit
    pub side: String,
    pub amount_fen: i64,
    pub trade_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

fn entry_view(r: sdb::EntryRow) -> EntryView {
    EntryView {
        id: r.id,
        txn_id: r.txn_id,
        account: r.account,
        side: r.side,
        amount_fen: r.amount_fen,
        trade_id: r.trade_id,
        created_at: r.created_at,
        prev_hash: hex::encode(r.prev_hash),
        hash: hex::encode(r.hash),
    }
}

/// The latest ledger entries, newest first (any admin).
pub async fn recent_entries(
    pool: &PgPool,
    user: &CurrentUser,
    limit: i64,
) -> Result<Vec<EntryView>> {
    user.require_admin()?;
    // Include postings a crash left pending (normally none: each request chains its own).
    flush(pool).await?;
    let mut conn = pool.acquire().await?;
    Ok(sdb::recent_entries(&mut conn, limit.clamp(1, 500))
        .await?
        .into_iter()
        .map(entry_view)
        .collect())
}

/// The ledger in the list format, newest first (any admin); a bad page or size is a 400.
pub async fn ledger_entries(
    pool: &PgPool,
    user: &CurrentUser,
    page: PageQuery,
) -> Result<Page<EntryView>> {
    user.require_admin()?;
    let (page, per_page) = page.resolve_or_400()?;
    flush(pool).await?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = sdb::entries_page(&mut conn, (page - 1) * per_page, per_page).await?;
    Ok(Page {
        items: rows.into_iter().map(entry_view).collect(),
        total,
        page,
        per_page,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    /// `bank:{exchange}`, `escrow:*` (all trades' escrow together), `payable:seller:{org}`, `payable:buyer:{org}` (refunds), `revenue:{exchange}`.
    pub account: String,
    /// bank | escrow | payable | revenue
    pub kind: String,
    /// The exchange or the seller organisation's name.
    pub label: String,
    pub debit_fen: i64,
    pub credit_fen: i64,
    /// Debits − credits for bank accounts (money held), credits − debits for the others (money owed or earned).
    pub balance_fen: i64,
    pub entries: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Balances {
    pub accounts: Vec<AccountBalance>,
    /// Money held in the exchanges' settlement accounts.
    pub bank_fen: i64,
    /// Money held for trades that are paid but not yet settled.
    pub escrow_fen: i64,
    /// What the market owes sellers (proceeds) and buyers (refunds decided in disputes).
    pub payable_fen: i64,
    /// The exchanges' fee revenue.
    pub revenue_fen: i64,
    /// Trades whose escrow is not zero: `escrow:{trade_id}` → balance.
    pub open_escrows: BTreeMap<String, i64>,
}

/// Account balances from the ledger (any admin).
pub async fn balances(pool: &PgPool, user: &CurrentUser) -> Result<Balances> {
    user.require_admin()?;
    // Include postings a crash left pending (normally none: each request chains its own).
    flush(pool).await?;
    let mut conn = pool.acquire().await?;
    let totals = sdb::account_totals(&mut conn).await?;
    let escrows = sdb::open_escrows(&mut conn).await?;
    let mut out = Balances {
        accounts: Vec::with_capacity(totals.len()),
        bank_fen: 0,
        escrow_fen: 0,
        payable_fen: 0,
        revenue_fen: 0,
        open_escrows: escrows.into_iter().collect(),
    };
    for a in totals {
        let (kind, rest) = a.account.split_once(':').unwrap_or(("other", ""));
        let (kind, rest) = (kind.to_string(), rest.to_string());
        let kind = kind.as_str();
        let rest = rest.as_str();
        let label = match kind {
            "bank" | "revenue" => Exchange::parse(rest)
                .map(|e| e.name_zh().to_string())
                .unwrap_or_default(),
            "payable" => match rest
                .strip_prefix("seller:")
                .or_else(|| rest.strip_prefix("buyer:"))
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                Some(org) => sdb::party(&mut conn, org)
                    .await?
                    .map(|p| p.name)
                    .unwrap_or_default(),
                None => String::new(),
            },
            _ => String::new(),
        };
        let balance = if kind == "bank" {
            a.debit_fen - a.credit_fen
        } else {
            a.credit_fen - a.debit_fen
        };
        match kind {
            "bank" => out.bank_fen += balance,
            "escrow" => out.escrow_fen += balance,
            "payable" => out.payable_fen += balance,
            "revenue" => out.revenue_fen += balance,
            _ => {}
        }
        out.accounts.push(AccountBalance {
            account: a.account,
            kind: kind.to_string(),
            label,
            debit_fen: a.debit_fen,
            credit_fen: a.credit_fen,
            balance_fen: balance,
            entries: a.entries,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ExchangeRevenue {
    /// The exchange's fee revenue in the ledger (`revenue:{exchange}`).
    pub revenue_fen: i64,
    /// Buyer fees of settled trades whose buyer belongs to this exchange.
    pub buyer_fee_fen: i64,
    /// Seller fees of settled trades whose listing belongs to this exchange.
    pub seller_fee_fen: i64,
    /// Settled trades involving this exchange.
    pub trades: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revenue {
    pub by_exchange: BTreeMap<String, ExchangeRevenue>,
}

/// Each exchange's share of the fees (any admin).
pub async fn revenue(pool: &PgPool, user: &CurrentUser) -> Result<Revenue> {
    user.require_admin()?;
    // Include postings a crash left pending (normally none: each request chains its own).
    flush(pool).await?;
    let mut conn = pool.acquire().await?;
    let fees = sdb::fees_by_exchange(&mut conn).await?;
    let totals = sdb::account_totals(&mut conn).await?;
    let mut by_exchange = BTreeMap::new();
    for f in fees {
        let account = format!("revenue:{}", f.exchange);
        let revenue_fen = totals
            .iter()
            .find(|a| a.account == account)
            .map(|a| a.credit_fen - a.debit_fen)
            .unwrap_or(0);
        by_exchange.insert(
            f.exchange,
            ExchangeRevenue {
                revenue_fen,
                buyer_fee_fen: f.buyer_fee_fen,
                seller_fee_fen: f.seller_fee_fen,
                trades: f.trades,
            },
        );
    }
    Ok(Revenue { by_exchange })
}
