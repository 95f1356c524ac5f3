//! Payment, delivery, the ledger, statements, credit restrictions, contract registration data.
//!
//! Every trade transition follows one shape: begin (claiming the Idempotency-Key, if any) → lock the
//! trade row → the domain decides → write the trade, audit, notify → append the ledger postings (the
//! chain head is locked last and only for a few statements) → store the response and commit.
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::settlement::{self as sdb, TradeRow, TradeScope};
use crate::domain::codes::{ContractType, Exchange, Province};
use crate::domain::error::FieldErrors;
use crate::domain::fees::{self, SideSchedule};
use crate::domain::ledger::{self, EntryForHash, Posting, Side, GENESIS};
use crate::domain::listing::TradeStatus;
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, Event, TradeFacts, TradeParty};
use crate::service::idempotency::{self, Claim};
use crate::service::{AppState, Page, PageQuery};

/// Unpaid trades are cancelled after this long.
pub const PAYMENT_DAYS: i64 = 7;

// ---------------------------------------------------------------- trades

/// A trade as API.md shows it (plus `listing_title` and `cancelled_at`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TradeView {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub seller_organization_id: Uuid,
    pub seller_organization_name: String,
    pub buyer_organization_id: Uuid,
    pub buyer_organization_name: String,
    pub price_fen: i64,
    pub transaction_mode: String,
    /// tech_transfer | tech_license | tech_development
    pub contract_type: String,
    /// awaiting_payment | paid | settled | cancelled
    pub status: String,
    pub fee_schedule_id: Uuid,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub seller_exchange: String,
    pub buyer_exchange: String,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub settled_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl From<&TradeRow> for TradeView {
    fn from(t: &TradeRow) -> Self {
        TradeView {
            id: t.id,
            listing_id: t.listing_id,
            listing_title: t.listing_title.clone(),
            seller_organization_id: t.seller_organization_id,
            seller_organization_name: t.seller_name.clone(),
            buyer_organization_id: t.buyer_organization_id,
            buyer_organization_name: t.buyer_name.clone(),
            price_fen: t.price_fen,
            transaction_mode: t.transaction_mode.clone(),
            contract_type: t.contract_type.clone(),
            status: t.status.clone(),
            fee_schedule_id: t.fee_schedule_id,
            buyer_fee_fen: t.buyer_fee_fen,
            seller_fee_fen: t.seller_fee_fen,
            seller_exchange: t.seller_exchange.clone(),
            buyer_exchange: t.buyer_exchange.clone(),
            created_at: t.created_at,
            paid_at: t.paid_at,
            settled_at: t.settled_at,
            cancelled_at: t.cancelled_at,
        }
    }
}

impl TradeView {
    /// What the buyer pays: price + buyer fee.
    pub fn buyer_pays_fen(&self) -> i64 {
        self.price_fen.saturating_add(self.buyer_fee_fen)
    }
    /// What the seller receives: price − seller fee.
    pub fn seller_receives_fen(&self) -> i64 {
        self.price_fen.saturating_sub(self.seller_fee_fen)
    }
    pub fn is_status(&self, s: &str) -> bool {
        self.status == s
    }
}

/// The trade JSON of API.md, for any caller that already decided the caller may see it
/// (e.g. the responses of accept and buy). `None` when there is no such trade.
pub async fn trade_view(conn: &mut PgConnection, id: Uuid) -> Result<Option<TradeView>> {
    Ok(sdb::get_trade(conn, id)
        .await?
        .as_ref()
        .map(TradeView::from))
}

/// How the caller relates to a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Buyer,
    Seller,
    /// An admin of an exchange involved in the trade (buyer's or listing's).
    InvolvedAdmin(Exchange),
    /// Any other exchange admin (may read, not act).
    OtherAdmin(Exchange),
}

pub fn party_of(user: &CurrentUser, t: &TradeRow) -> Option<Party> {
    if let Ok(ex) = user.require_admin() {
        let code = ex.code();
        return Some(if t.buyer_exchange == code || t.seller_exchange == code {
            Party::InvolvedAdmin(ex)
        } else {
            Party::OtherAdmin(ex)
        });
    }
    let org = user.organization_id?;
    if org == t.buyer_organization_id {
        Some(Party::Buyer)
    } else if org == t.seller_organization_id {
        Some(Party::Seller)
    } else {
        None
    }
}

/// One trade for its parties and admins; 404 to anyone else.
pub async fn get(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<(TradeView, Party)> {
    let mut conn = pool.acquire().await?;
    let t = sdb::get_trade(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    let party = party_of(user, &t).ok_or(Error::NotFound)?;
    Ok((TradeView::from(&t), party))
}

/// `buyer` | `seller` | none (both).
pub fn parse_role(role: Option<&str>) -> Result<Option<sdb::Role>> {
    match role.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some("buyer") => Ok(Some(sdb::Role::Buyer)),
        Some("seller") => Ok(Some(sdb::Role::Seller)),
        Some(other) => {
            let mut f = FieldErrors::default();
            f.push(
                "role",
                "err.code.unknown",
                vec![("value", other.to_string())],
            );
            Err(Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            })
        }
    }
}

fn parse_status(status: Option<&str>) -> Result<Option<TradeStatus>> {
    match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => TradeStatus::parse(s).map(Some).ok_or_else(|| {
            let mut f = FieldErrors::default();
            f.push("status", "err.code.unknown", vec![("value", s.to_string())]);
            Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            }
        }),
    }
}

/// A member's organisation's trades (as buyer, seller or both); an admin's: those involving their exchange.
pub async fn list(
    pool: &PgPool,
    user: &CurrentUser,
    role: Option<&str>,
    status: Option<&str>,
    page: PageQuery,
) -> Result<Page<TradeView>> {
    let role = parse_role(role)?;
    let status = parse_status(status)?;
    let (page, per_page) = page.resolve_or_400()?;
    let scope = match user.require_admin() {
        Ok(ex) => TradeScope::Exchange(ex.code().to_string()),
        Err(_) => TradeScope::Org {
            org: user.require_org()?,
            role,
        },
    };
    let mut conn = pool.acquire().await?;
    let (rows, total) = sdb::list_trades(
        &mut conn,
        &scope,
        status.map(|s| s.code()),
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Page {
        items: rows.iter().map(TradeView::from).collect(),
        total,
        page,
        per_page,
    })
}

/// A state change of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An admin of the buyer's or the listing's exchange records the payment.
    PaymentReceived,
    /// The buyer confirms delivery: the trade settles.
    ConfirmDelivery,
    /// Either party cancels while the payment is awaited.
    Cancel,
}

impl Action {
    fn route(self) -> &'static str {
        match self {
            Action::PaymentReceived => "trade.payment_received",
            Action::ConfirmDelivery => "trade.confirm_delivery",
            Action::Cancel => "trade.cancel",
        }
    }
}

/// `Utc::now()` at Postgres precision, so what is hashed is exactly what is stored.
pub fn now_micros() -> DateTime<Utc> {
    micros(Utc::now())
}

/// `at` at Postgres precision.
pub fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn invalid_state(t: &TradeRow) -> Error {
    Error::Conflict {
        code: "invalid_trade_state",
        args: vec![("status", t.status.clone())],
        extra: Some(serde_json::json!({"status": t.status})),
    }
}

/// Performs `action` on trade `id` for `user`, honouring an `Idempotency-Key`: returns the status and
/// body of the response (the first one again for a repeated key). Run it to completion (inside
/// `tokio::spawn`): it moves money.
#[tracing::instrument(skip(pool, user), fields(user = %user.id))]
pub async fn act(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    action: Action,
    key: Option<&str>,
) -> Result<(StatusCode, serde_json::Value)> {
    let fp = idempotency::fingerprint(action.route(), &id);
    let mut tx = match idempotency::begin(pool, user.id, key, &fp).await? {
        Claim::Replay(status, body) => return Ok((status, body)),
        Claim::Fresh(tx) => tx,
    };
    if action == Action::Cancel {
        // Lock order listing → trade, as trade creation takes them (no deadlock with a purchase).
        let peek = sdb::get_trade(&mut tx, id).await?.ok_or(Error::NotFound)?;
        if peek.exclusive {
            db::listings::lock(&mut tx, peek.listing_id).await?;
        }
    }
    let mut t = sdb::lock_trade(&mut tx, id).await?.ok_or(Error::NotFound)?;
    let party = party_of(user, &t).ok_or(Error::NotFound)?;
    let status = TradeStatus::parse(&t.status)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown trade status {}", t.status)))?;
    let now = now_micros();
    let postings = match action {
        Action::PaymentReceived => {
            let exchange = match party {
                Party::InvolvedAdmin(ex) => ex,
                Party::OtherAdmin(_) => return Err(Error::Forbidden("other_exchange")),
                Party::Buyer | Party::Seller => return Err(Error::Forbidden("admin_required")),
            };
            if !status.can_pay() {
                return Err(invalid_state(&t));
            }
            sdb::set_paid(&mut tx, t.id, user.id, now).await?;
            t.status = TradeStatus::Paid.code().into();
            t.paid_at = Some(now);
            audit(
                &mut tx,
                user,
                "trade.payment_received",
                "trade",
                t.id,
                Some(serde_json::json!({"status": "awaiting_payment"})),
                Some(serde_json::json!({
                    "status": "paid", "amount_fen": t.price_fen.saturating_add(t.buyer_fee_fen),
                    "bank_account": ledger::bank_account(exchange),
                })),
            )
            .await?;
            events::emit(&mut tx, &Event::TradePaid(TradeFacts::from(&t))).await?;
            ledger::payment_postings(&t.id.to_string(), exchange, t.price_fen, t.buyer_fee_fen)
        }
        Action::ConfirmDelivery => {
            match party {
                Party::Buyer => {}
                Party::Seller => return Err(Error::Forbidden("buyer_only")),
                Party::InvolvedAdmin(_) | Party::OtherAdmin(_) => {
                    return Err(Error::Forbidden("buyer_only"))
                }
            }
            if !status.can_settle() {
                return Err(invalid_state(&t));
            }
            let buyer_ex = parse_exchange(&t.buyer_exchange)?;
            let seller_ex = parse_exchange(&t.seller_exchange)?;
            sdb::set_settled(&mut tx, t.id, now).await?;
            t.status = TradeStatus::Settled.code().into();
            t.settled_at = Some(now);
            events::emit(&mut tx, &Event::TradeSettled(TradeFacts::from(&t))).await?;
            ledger::settlement_postings(
                &t.id.to_string(),
                &t.seller_organization_id.to_string(),
                buyer_ex,
                seller_ex,
                t.price_fen,
                t.buyer_fee_fen,
                t.seller_fee_fen,
            )
        }
        Action::Cancel => {
            if !matches!(party, Party::Buyer | Party::Seller) {
                return Err(Error::Forbidden("party_only"));
            }
            if !status.can_cancel() {
                return Err(invalid_state(&t));
            }
            let (reason, by) = if party == Party::Buyer {
                ("buyer", TradeParty::Buyer)
            } else {
                ("seller", TradeParty::Seller)
            };
            sdb::set_cancelled(&mut tx, &t, reason, now).await?;
            t.status = TradeStatus::Cancelled.code().into();
            t.cancelled_at = Some(now);
            t.cancel_reason = Some(reason.into());
            let cancelled = Event::TradeCancelled {
                trade: TradeFacts::from(&t),
                by,
            };
            events::emit(&mut tx, &cancelled).await?;
            Vec::new()
        }
    };
    let body = serde_json::to_value(TradeView::from(&t)).map_err(|e| Error::Internal(e.into()))?;
    post(&mut tx, Some(t.id), &postings, now).await?;
    idempotency::finish(tx, user.id, key, StatusCode::OK, &body).await?;
    if !postings.is_empty() {
        // The trade change is committed with its postings; chain them before answering. Should this
        // fail, they stay pending and the next flush (any request, or the periodic job) chains them.
        if let Err(e) = flush(pool).await {
            tracing::warn!(error = ?e, "ledger flush failed; postings stay pending");
        }
    }
    Ok((StatusCode::OK, body))
}

fn parse_exchange(code: &str) -> Result<Exchange> {
    Exchange::parse(code).ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown exchange {code}")))
}

/// Records one balanced ledger transaction — the only way entries are written. The postings are
/// stored as pending in the caller's transaction (so they commit, or not, with the trade change they
/// belong to); after the commit, [`flush`] chains them into `ledger_entries`. Callers that answer a
/// request call `flush` before answering, so a 200 normally means the entries are in the ledger;
/// should that flush fail, they are committed as pending and chained by the next flush (any ledger
/// read, any request, or the periodic job).
pub async fn post(
    conn: &mut PgConnection,
    trade_id: Option<Uuid>,
    postings: &[Posting],
    at: DateTime<Utc>,
) -> Result<()> {
    if postings.is_empty() {
        return Ok(());
    }
    if !ledger::is_balanced(postings) {
        return Err(Error::Internal(anyhow::anyhow!(
            "refusing an unbalanced ledger transaction: {postings:?}"
        )));
    }
    sdb::insert_pending(conn, Uuid::now_v7(), trade_id, postings, at).await?;
    Ok(())
}

/// Most pending postings chained in one appender transaction.
const FLUSH_BATCH: i64 = 5_000;

/// The appender of one database in this process: flushes numbered from 1 in the order they begin,
/// and (behind the mutex, held by the one flushing) the number of the last that completed.
#[derive(Default)]
struct Appender {
    started: AtomicU64,
    completed: tokio::sync::Mutex<u64>,
}

/// One appender per database this process writes to (one in the server; many in the tests, which
/// give each test its own database). Across processes the chain head's row lock serialises them.
static APPENDERS: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Arc<Appender>>>> =
    std::sync::LazyLock::new(Default::default);

fn appender(pool: &PgPool) -> Arc<Appender> {
    let mut all = APPENDERS.lock().unwrap_or_else(|e| e.into_inner());
    all.entry(db::database_key(pool)).or_default().clone()
}

/// Chains every pending posting committed before the call into `ledger_entries`: lock the head,
/// read the pending rows in order, hash them onto the chain, insert them, move the head, delete
/// them, commit.
///
/// Group commit: a flush that began after the call sees everything committed before it. So a
/// caller that finds, once it holds the appender, that such a flush has completed meanwhile is
/// done without a query; otherwise it flushes for itself and for everyone queued behind it. One
/// head lock and one commit serve many settlements.
pub async fn flush(pool: &PgPool) -> Result<()> {
    let appender = appender(pool);
    let called_after = appender.started.load(Ordering::SeqCst);
    let mut completed = appender.completed.lock().await;
    if *completed > called_after {
        return Ok(());
    }
    let number = appender.started.fetch_add(1, Ordering::SeqCst) + 1;
    while append_pending(pool).await? == FLUSH_BATCH as usize {}
    *completed = number;
    Ok(())
}

/// One appender transaction over at most `FLUSH_BATCH` pending postings; returns how many it chained.
async fn append_pending(pool: &PgPool) -> Result<usize> {
    let mut tx = pool.begin().await?;
    // The head first, then (in a later statement, so with a snapshot taken after the lock) the
    // pending rows: another process's appender may have chained some while we waited.
    let (last_id, head) = sdb::lock_head(&mut tx).await?;
    let pending = sdb::pending(&mut tx, FLUSH_BATCH).await?;
    if pending.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let mut prev: [u8; 32] = head
        .as_slice()
        .try_into()
        .map_err(|_| Error::Internal(anyhow::anyhow!("ledger head hash is not 32 bytes")))?;
    let mut entries = Vec::with_capacity(pending.len());
    for (p, id) in pending.iter().zip(last_id + 1..) {
        let txn_s = p.txn_id.to_string();
        let trade_s = p.trade_id.map(|t| t.to_string());
        let side = if p.side == "debit" {
            ledger::Side::Debit
        } else {
            ledger::Side::Credit
        };
        let e = EntryForHash {
            id,
            txn_id: &txn_s,
            account: &p.account,
            side,
            amount_fen: p.amount_fen,
            trade_id: trade_s.as_deref(),
            created_at_micros: p.created_at.timestamp_micros(),
        };
        let hash = ledger::entry_hash(&prev, &e);
        entries.push(sdb::NewEntry {
            id,
            txn_id: p.txn_id,
            account: p.account.clone(),
            side: side.code(),
            amount_fen: p.amount_fen,
            trade_id: p.trade_id,
            created_at: p.created_at,
            prev_hash: prev.to_vec(),
            hash: hash.to_vec(),
        });
        prev = hash;
    }
    let seqs: Vec<i64> = pending.iter().map(|p| p.seq).collect();
    sdb::append(&mut tx, &entries, &seqs).await?;
    tx.commit().await?;
    Ok(pending.len())
}

/// Cancels trades unpaid for `PAYMENT_DAYS` days. Safe with several processes (SKIP LOCKED).
pub async fn cancel_unpaid(pool: &PgPool, now: DateTime<Utc>) -> Result<usize> {
    const BATCH: i64 = 50;
    let before = now - Duration::days(PAYMENT_DAYS);
    let mut done = 0;
    let mut after: Option<(DateTime<Utc>, Uuid)> = None;
    loop {
        let candidates = {
            let mut conn = pool.acquire().await?;
            sdb::unpaid_candidates(&mut conn, before, after, BATCH).await?
        };
        for c in &candidates {
            // One transaction per trade, taking the listing's lock before the trade's: the order
            // of a party's cancel and of trade creation (a batch holding trades while waiting for
            // listings deadlocked with them).
            let mut tx = pool.begin().await?;
            if c.exclusive {
                db::listings::lock(&mut tx, c.listing_id).await?;
            }
            // Skipped if someone is acting on it right now, or it changed since it was listed.
            let Some(mut t) = sdb::lock_unpaid(&mut tx, c.id, before).await? else {
                tx.rollback().await?;
                continue;
            };
            sdb::set_cancelled(&mut tx, &t, "payment_timeout", micros(now)).await?;
            t.status = TradeStatus::Cancelled.code().into();
            let timed_out = Event::TradePaymentTimedOut(TradeFacts::from(&t));
            events::emit(&mut tx, &timed_out).await?;
            tx.commit().await?;
            done += 1;
        }
        match candidates.last() {
            Some(c) if candidates.len() as i64 == BATCH => after = Some((c.created_at, c.id)),
            _ => return Ok(done),
        }
    }
}

// ---------------------------------------------------------------- ledger reports

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
        .map(|r| EntryView {
            id: r.id,
            txn_id: r.txn_id,
            account: r.account,
            side: r.side,
            amount_fen: r.amount_fen,
            trade_id: r.trade_id,
            created_at: r.created_at,
            prev_hash: hex::encode(r.prev_hash),
            hash: hex::encode(r.hash),
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountBalance {
    /// `bank:{exchange}`, `escrow:*` (all trades' escrow together), `payable:seller:{org}`, `revenue:{exchange}`.
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
    /// What the market owes sellers.
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

// ---------------------------------------------------------------- statements

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementParty {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub exchange: String,
    pub credit_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementListing {
    pub id: Uuid,
    pub title: String,
    pub ip_type: String,
    pub ip_numbers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementSchedule {
    pub id: Uuid,
    pub name: String,
    pub effective_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    pub buyer: SideSchedule,
    #[schema(value_type = Object)]
    pub seller: SideSchedule,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct FeePair {
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub total_fee_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LegacyFees {
    pub sichuan: FeePair,
    pub chongqing: FeePair,
}

/// 结算单: everything a party or an auditor needs to see who pays what.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub trade: TradeView,
    pub seller: StatementParty,
    pub buyer: StatementParty,
    pub listing: StatementListing,
    pub contract_type: String,
    pub contract_type_name: String,
    pub price_fen: i64,
    pub fee_schedule: StatementSchedule,
    pub fees: FeePair,
    /// Price + buyer fee.
    pub buyer_pays_fen: i64,
    /// Price − seller fee.
    pub seller_receives_fen: i64,
    /// What the old rules would have charged on the same price.
    pub legacy: LegacyFees,
    pub issued_at: DateTime<Utc>,
}

fn pair(q: fees::Quote) -> FeePair {
    FeePair {
        buyer_fee_fen: q.buyer_fee_fen,
        seller_fee_fen: q.seller_fee_fen,
        total_fee_fen: q.total_fee_fen,
    }
}

fn party_view(p: sdb::PartyRow) -> StatementParty {
    StatementParty {
        id: p.id,
        name: p.name,
        kind: p.kind,
        province: p.province,
        exchange: p.exchange,
        credit_code: p.credit_code,
    }
}

/// The settlement statement of a trade, for its parties and admins (404 to others).
pub async fn statement(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<Statement> {
    let mut conn = pool.acquire().await?;
    let t = sdb::get_trade(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    party_of(user, &t).ok_or(Error::NotFound)?;
    let missing = || Error::Internal(anyhow::anyhow!("trade {id} refers to a missing row"));
    let seller = sdb::party(&mut conn, t.seller_organization_id)
        .await?
        .ok_or_else(missing)?;
    let buyer = sdb::party(&mut conn, t.buyer_organization_id)
        .await?
        .ok_or_else(missing)?;
    let (title, ip_type, ip_numbers) = sdb::listing_ip(&mut conn, t.listing_id)
        .await?
        .ok_or_else(missing)?;
    let schedule = db::fees::get(&mut conn, t.fee_schedule_id)
        .await?
        .ok_or_else(missing)?;
    let contract = ContractType::parse(&t.contract_type);
    let view = TradeView::from(&t);
    Ok(Statement {
        contract_type: t.contract_type.clone(),
        contract_type_name: contract.map(|c| c.name_zh()).unwrap_or("").to_string(),
        price_fen: t.price_fen,
        fees: FeePair {
            buyer_fee_fen: t.buyer_fee_fen,
            seller_fee_fen: t.seller_fee_fen,
            total_fee_fen: t.buyer_fee_fen.saturating_add(t.seller_fee_fen),
        },
        buyer_pays_fen: view.buyer_pays_fen(),
        seller_receives_fen: view.seller_receives_fen(),
        legacy: LegacyFees {
            sichuan: pair(fees::legacy_sichuan().quote(t.price_fen)),
            chongqing: pair(fees::legacy_chongqing().quote(t.price_fen)),
        },
        fee_schedule: StatementSchedule {
            id: schedule.id,
            name: schedule.name.clone(),
            effective_at: schedule.effective_at,
            buyer: schedule.buyer.0.clone(),
            seller: schedule.seller.0.clone(),
        },
        trade: view,
        seller: party_view(seller),
        buyer: party_view(buyer),
        listing: StatementListing {
            id: t.listing_id,
            title,
            ip_type,
            ip_numbers,
        },
        issued_at: Utc::now(),
    })
}

// ---------------------------------------------------------------- contract registration CSV

/// A CSV cell: quoted when needed, and defused when a spreadsheet would read it as a formula.
pub fn csv_cell(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn csv_line(cells: &[String]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn shanghai_date(at: &DateTime<Utc>) -> String {
    use chrono::Offset;
    let off = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&off).format("%Y-%m-%d").to_string()
}

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

pub const CSV_HEADER: [&str; 14] = [
    "合同类型代码",
    "合同类型",
    "卖方（转让方）名称",
    "卖方统一社会信用代码",
    "卖方所在地区",
    "买方（受让方）名称",
    "买方统一社会信用代码",
    "买方所在地区",
    "技术交易额（元）",
    "技术交易额（分）",
    "签订日期",
    "结算日期",
    "交易编号",
    "成果名称",
];

/// 技术合同认定登记: one row per settled trade, for registration offices (any admin; all settled
/// trades, or those involving one exchange). Starts with a UTF-8 byte-order mark so that
/// spreadsheet programs read the Chinese correctly.
pub async fn registration_csv(
    pool: &PgPool,
    user: &CurrentUser,
    exchange: Option<&str>,
) -> Result<String> {
    user.require_admin()?;
    let exchange = match exchange.map(str::trim).filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => Some(Exchange::parse(e).ok_or_else(|| {
            let mut f = FieldErrors::default();
            f.push(
                "exchange",
                "err.code.unknown",
                vec![("value", e.to_string())],
            );
            Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            }
        })?),
    };
    let mut conn = pool.acquire().await?;
    let rows = sdb::registration_rows(&mut conn, exchange.map(|e| e.code())).await?;
    let province = |code: &str| {
        Province::parse(code)
            .map(|p| p.name_zh().to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_line(
        &CSV_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    ));
    for r in rows {
        let contract = ContractType::parse(&r.contract_type);
        out.push_str(&csv_line(&[
            r.contract_type.clone(),
            contract.map(|c| c.name_zh()).unwrap_or("").to_string(),
            r.seller_name,
            r.seller_credit_code.unwrap_or_default(),
            province(&r.seller_province),
            r.buyer_name,
            r.buyer_credit_code.unwrap_or_default(),
            province(&r.buyer_province),
            yuan(r.price_fen),
            r.price_fen.to_string(),
            shanghai_date(&r.created_at),
            r.settled_at.as_ref().map(shanghai_date).unwrap_or_default(),
            r.id.to_string(),
            r.listing_title,
        ]));
    }
    Ok(out)
}

// ---------------------------------------------------------------- credit restrictions

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RestrictionInput {
    /// 2–500 characters.
    pub reason: String,
    /// Optional end date (in the future); without it the restriction holds until lifted.
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Restriction {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub credit_code: Option<String>,
    pub reason: String,
    pub until: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub created_by_email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by: Option<Uuid>,
}

impl From<sdb::RestrictionRow> for Restriction {
    fn from(r: sdb::RestrictionRow) -> Self {
        Restriction {
            id: r.id,
            organization_id: r.organization_id,
            organization_name: r.organization_name,
            credit_code: r.credit_code,
            reason: r.reason,
            until: r.until,
            created_by: r.created_by,
            created_by_email: r.created_by_email,
            created_at: r.created_at,
            lifted_at: r.lifted_at,
            lifted_by: r.lifted_by,
        }
    }
}

fn validate_restriction(input: &RestrictionInput, now: DateTime<Utc>) -> Result<()> {
    let mut errs = FieldErrors::default();
    let reason = input.reason.trim();
    let n = reason.chars().count();
    if n < 2 {
        errs.push("reason", "err.text.required", vec![("min", "2".into())]);
    } else if n > 500 {
        errs.push("reason", "err.text.too_long", vec![("max", "500".into())]);
    } else if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errs.push("reason", "err.text.control_chars", vec![]);
    }
    if let Some(until) = input.until {
        if until <= now {
            errs.push("until", "err.settlement.until_past", vec![]);
        }
    }
    errs.into_result().map_err(Error::Validation)
}

/// Sets a credit restriction (any exchange admin; it holds in all four exchanges).
#[tracing::instrument(skip(pool, admin, input))]
pub async fn restrict(
    pool: &PgPool,
    admin: &CurrentUser,
    org_id: Uuid,
    input: RestrictionInput,
) -> Result<Restriction> {
    admin.require_admin()?;
    validate_restriction(&input, Utc::now())?;
    let mut tx = pool.begin().await?;
    let org = db::organizations::get_for_update(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !sdb::active_restrictions_of(&mut tx, org_id)
        .await?
        .is_empty()
    {
        return Err(Error::conflict("organization_already_restricted"));
    }
    let row = sdb::insert_restriction(
        &mut tx,
        Uuid::now_v7(),
        org_id,
        input.reason.trim(),
        input.until,
        admin.id,
    )
    .await?;
    audit(
        &mut tx,
        admin,
        "organization.restrict",
        "organization",
        org_id,
        Some(serde_json::json!({"restricted": false, "name": org.name})),
        Some(serde_json::json!({
            "restricted": true, "restriction_id": row.id, "reason": row.reason, "until": row.until,
        })),
    )
    .await?;
    let restricted = Event::OrganizationRestricted {
        restriction_id: row.id,
        organization_id: org_id,
        reason: row.reason.clone(),
        until: row.until,
    };
    events::emit(&mut tx, &restricted).await?;
    tx.commit().await?;
    Ok(row.into())
}

/// Lifts the organisation's restriction (any exchange admin); 409 when none is in force.
#[tracing::instrument(skip(pool, admin))]
pub async fn lift(pool: &PgPool, admin: &CurrentUser, org_id: Uuid) -> Result<Restriction> {
    admin.require_admin()?;
    let mut tx = pool.begin().await?;
    db::organizations::get_for_update(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let before = sdb::active_restrictions_of(&mut tx, org_id).await?;
    if before.is_empty() {
        return Err(Error::conflict("organization_not_restricted"));
    }
    let lifted = sdb::lift_restrictions(&mut tx, org_id, admin.id).await?;
    // The expiry job does not take the organisation's lock: a restriction that reached its end
    // date between the read above and the update is no longer in force, as for any other 409.
    let first = lifted
        .into_iter()
        .next()
        .ok_or_else(|| Error::conflict("organization_not_restricted"))?;
    audit(
        &mut tx,
        admin,
        "organization.lift_restriction",
        "organization",
        org_id,
        Some(serde_json::json!({
            "restricted": true,
            "restrictions": before.iter().map(|r| serde_json::json!({"id": r.id, "reason": r.reason, "until": r.until})).collect::<Vec<_>>(),
        })),
        Some(serde_json::json!({"restricted": false, "lifted_at": first.lifted_at})),
    )
    .await?;
    let lifted = Event::RestrictionLifted {
        restriction_id: first.id,
        organization_id: org_id,
    };
    events::emit(&mut tx, &lifted).await?;
    tx.commit().await?;
    Ok(first.into())
}

/// Restrictions in force (any admin).
pub async fn active_restrictions(pool: &PgPool, admin: &CurrentUser) -> Result<Vec<Restriction>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    Ok(sdb::active_restrictions(&mut conn, 500)
        .await?
        .into_iter()
        .map(Restriction::from)
        .collect())
}

/// Stamps restrictions whose end date has passed by `now` as lifted (they stopped applying at that
/// date).
pub async fn expire_restrictions(pool: &PgPool, now: DateTime<Utc>) -> Result<usize> {
    let mut tx = pool.begin().await?;
    let expired = sdb::stamp_expired_restrictions(&mut tx, now).await?;
    for (id, org) in &expired {
        db::audit::insert(
            &mut tx,
            db::audit::NewAudit {
                actor_id: None,
                actor: "system",
                action: "organization.restriction_expired",
                target_type: "organization",
                target_id: org.to_string(),
                before: Some(serde_json::json!({"restricted": true, "restriction_id": id})),
                after: Some(serde_json::json!({"restricted": false})),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(expired.len())
}

// ---------------------------------------------------------------- jobs and demo

/// Periodic work of this area (run by `jobs::slow_tick`, safe with several processes).
pub async fn run_jobs(state: &AppState) -> anyhow::Result<()> {
    // Postings left pending by a crash between commit and flush.
    flush(&state.pool)
        .await
        .map_err(|e| anyhow::anyhow!("ledger flush: {e}"))?;
    let cancelled = cancel_unpaid(&state.pool, state.clock.now()).await?;
    if cancelled > 0 {
        tracing::info!(cancelled, "unpaid trades cancelled");
    }
    let expired = expire_restrictions(&state.pool, state.clock.now()).await?;
    if expired > 0 {
        tracing::info!(expired, "credit restrictions reached their end date");
    }
    Ok(())
}

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the trading
/// demo made its trades. Moves them on through the real use cases, so the ledger, revenue and
/// statements have something to show: the first trade awaiting payment (a cross-province one if
/// any) is paid and settled, the next one paid. Does nothing once the ledger has entries.
pub async fn seed_demo(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let started: bool = sqlx::query_scalar("select exists(select 1 from ledger_entries)")
        .fetch_one(&mut *conn)
        .await?;
    if started {
        return Ok(());
    }
    let trades: Vec<(Uuid, String, Uuid)> = sqlx::query_as(
        "select t.id, t.buyer_exchange, t.buyer_organization_id from trades t \
         join exchanges b on b.code = t.buyer_exchange join exchanges s on s.code = t.seller_exchange \
         where t.status = 'awaiting_payment' order by (b.province <> s.province) desc, t.created_at limit 2",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (i, (trade, exchange, buyer_org)) in trades.into_iter().enumerate() {
        let admin: Option<Uuid> = sqlx::query_scalar(
            "select id from users where role = 'admin' and admin_exchange = $1 order by created_at limit 1",
        )
        .bind(&exchange)
        .fetch_optional(&mut *conn)
        .await?;
        let buyer: Option<Uuid> = sqlx::query_scalar(
            "select id from users where organization_id = $1 order by created_at limit 1",
        )
        .bind(buyer_org)
        .fetch_optional(&mut *conn)
        .await?;
        let (Some(admin), Some(buyer)) = (admin, buyer) else {
            continue;
        };
        let user = |id| {
            let pool = pool.clone();
            async move {
                let mut c = pool.acquire().await?;
                db::users::get(&mut c, id)
                    .await?
                    .map(|u| CurrentUser::from(&u))
                    .ok_or_else(|| anyhow::anyhow!("demo user {id} vanished"))
            }
        };
        act(
            pool,
            &user(admin).await?,
            trade,
            Action::PaymentReceived,
            None,
        )
        .await?;
        if i == 0 {
            act(
                pool,
                &user(buyer).await?,
                trade,
                Action::ConfirmDelivery,
                None,
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-3"), "'-3");
        assert_eq!(csv_cell("+x,y"), "\"'+x,y\"");
    }

    #[test]
    fn yuan_has_two_decimals() {
        assert_eq!(yuan(350_000_000), "3500000.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123_456), "1234.56");
    }

    #[test]
    fn dates_are_in_shanghai() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T17:30:00Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        assert_eq!(
            at.as_ref().map(shanghai_date).as_deref(),
            Some("2026-11-27")
        );
    }
}
