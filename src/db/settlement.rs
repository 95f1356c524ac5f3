//! SQL for: trades after creation (payment, delivery, cancellation), the ledger, statements,
//! credit restrictions, contract registration data.
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use sqlx::PgConnection;
use uuid::Uuid;

// ---------------------------------------------------------------- trades

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TradeRow {
    pub id: Uuid,
    /// `TM-2026-000123`
    pub number: String,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub seller_organization_id: Uuid,
    pub seller_name: String,
    pub buyer_organization_id: Uuid,
    pub buyer_name: String,
    pub price_fen: i64,
    pub transaction_mode: String,
    pub contract_type: String,
    pub exclusive: bool,
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
    pub cancel_reason: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub delivery_note: Option<String>,
    pub acceptance_due_at: Option<DateTime<Utc>>,
    /// What the party who cancelled wrote (`cancel_reason` says who: buyer, seller, payment_timeout).
    pub cancel_note: Option<String>,
    /// The trade's dispute, if one was opened (at most one).
    pub dispute_id: Option<Uuid>,
    pub dispute_status: Option<String>,
    pub dispute_opened_by: Option<String>,
    pub dispute_reason: Option<String>,
    pub dispute_opened_at: Option<DateTime<Utc>>,
    pub dispute_outcome: Option<String>,
    pub dispute_seller_share_fen: Option<i64>,
    pub dispute_seller_receives_fen: Option<i64>,
    pub dispute_buyer_refund_fen: Option<i64>,
    pub dispute_resolution_reason: Option<String>,
    pub dispute_resolved_at: Option<DateTime<Utc>>,
    pub dispute_resolved_by_exchange: Option<String>,
}

const TRADE_COLUMNS: &str = "t.id, t.number, t.listing_id, l.title as listing_title, t.seller_organization_id, \
    so.name as seller_name, t.buyer_organization_id, bo.name as buyer_name, t.price_fen, t.transaction_mode, t.contract_type, t.exclusive, t.status, \
    t.fee_schedule_id, t.buyer_fee_fen, t.seller_fee_fen, t.seller_exchange, t.buyer_exchange, t.created_at, \
    t.paid_at, t.settled_at, t.cancelled_at, t.cancel_reason, t.delivered_at, t.delivery_note, t.acceptance_due_at, \
    t.cancel_note, d.id as dispute_id, d.status as dispute_status, d.opened_by_party as dispute_opened_by, \
    d.reason as dispute_reason, d.opened_at as dispute_opened_at, d.outcome as dispute_outcome, \
    d.seller_share_fen as dispute_seller_share_fen, d.seller_receives_fen as dispute_seller_receives_fen, \
    d.buyer_refund_fen as dispute_buyer_refund_fen, d.resolution_reason as dispute_resolution_reason, \
    d.resolved_at as dispute_resolved_at, d.resolved_by_exchange as dispute_resolved_by_exchange";
const TRADE_FROM: &str = "trades t join listings l on l.id = t.listing_id \
    join organizations so on so.id = t.seller_organization_id join organizations bo on bo.id = t.buyer_organization_id \
    left join disputes d on d.trade_id = t.id";

pub async fn get_trade(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<TradeRow>> {
    sqlx::query_as(&format!(
        "select {TRADE_COLUMNS} from {TRADE_FROM} where t.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A trade to insert (`awaiting_payment`), its fees already computed.
pub struct NewTradeRow<'a> {
    pub id: Uuid,
    pub number: &'a str,
    pub listing_id: Uuid,
    pub seller_org: Uuid,
    pub buyer_org: Uuid,
    pub price_fen: i64,
    pub transaction_mode: &'a str,
    pub contract_type: &'a str,
    pub exclusive: bool,
    pub fee_schedule_id: Uuid,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub seller_exchange: &'a str,
    pub buyer_exchange: &'a str,
    pub source: &'a str,
    pub offer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Inserts the trade; a second live trade on an exclusive listing violates `trades_one_exclusive`.
pub async fn insert_trade(conn: &mut PgConnection, t: &NewTradeRow<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into trades (id, listing_id, seller_organization_id, buyer_organization_id, price_fen, \
         transaction_mode, contract_type, exclusive, fee_schedule_id, buyer_fee_fen, seller_fee_fen, \
         seller_exchange, buyer_exchange, source, offer_id, created_at, number) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(t.id)
    .bind(t.listing_id)
    .bind(t.seller_org)
    .bind(t.buyer_org)
    .bind(t.price_fen)
    .bind(t.transaction_mode)
    .bind(t.contract_type)
    .bind(t.exclusive)
    .bind(t.fee_schedule_id)
    .bind(t.buyer_fee_fen)
    .bind(t.seller_fee_fen)
    .bind(t.seller_exchange)
    .bind(t.buyer_exchange)
    .bind(t.source)
    .bind(t.offer_id)
    .bind(t.created_at)
    .bind(t.number)
    .execute(conn)
    .await?;
    Ok(())
}

/// The next trade number's sequence value (one sequence shared by every process).
pub async fn next_trade_seq(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("select nextval('trade_number_seq')")
        .fetch_one(conn)
        .await
}

/// Locks the trade row (every state change takes this lock first).
pub async fn lock_trade(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<TradeRow>> {
    sqlx::query_as(&format!(
        "select {TRADE_COLUMNS} from {TRADE_FROM} where t.id = $1 for update of t"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Which trades a list shows.
pub enum TradeScope {
    /// An organisation's trades as buyer, as seller, or both.
    Org { org: Uuid, role: Option<Role> },
    /// Trades involving an exchange (as the buyer's or the listing's).
    Exchange(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Buyer,
    Seller,
}

pub async fn list_trades(
    conn: &mut PgConnection,
    scope: &TradeScope,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<TradeRow>, i64)> {
    let (cond, a, b): (&str, Option<Uuid>, Option<String>) = match scope {
        TradeScope::Org { org, role } => (
            match role {
                Some(Role::Buyer) => "t.buyer_organization_id = $1",
                Some(Role::Seller) => "t.seller_organization_id = $1",
                None => "(t.buyer_organization_id = $1 or t.seller_organization_id = $1)",
            },
            Some(*org),
            None,
        ),
        TradeScope::Exchange(ex) => (
            "($2 = t.buyer_exchange or $2 = t.seller_exchange)",
            None,
            Some(ex.clone()),
        ),
    };
    let rows = sqlx::query_as(&format!(
        "select {TRADE_COLUMNS} from {TRADE_FROM} where {cond} and ($3::text is null or t.status = $3) \
         order by t.created_at desc, t.id desc limit $4 offset $5"
    ))
    .bind(a)
    .bind(b.as_deref())
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!(
        "select count(*) from trades t where {cond} and ($3::text is null or t.status = $3)"
    ))
    .bind(a)
    .bind(b.as_deref())
    .bind(status)
    .fetch_one(conn)
    .await?;
    Ok((rows, total))
}

/// Locks the listing of trade `id` if the trade is exclusive, then the trade, and reads the trade:
/// the lock order of every transition (ARCHITECTURE.md: the listing, then the trade), in one
/// statement. The listing's lock is a one-time condition of the statement (an init plan, which
/// runs before any trade row is read); the trade's row is locked as it is returned, and if a
/// transaction holding the listing changed it meanwhile, the newest version is returned (the row
/// lock re-reads it). Nothing is locked for a trade that does not exist; only the trade for one
/// that is not exclusive.
pub async fn lock_listing_and_trade(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<TradeRow>> {
    sqlx::query_as(&format!(
        "with listing as (select l.id from trades t join listings l on l.id = t.listing_id \
                          where t.id = $1 and t.exclusive for update of l) \
         select {TRADE_COLUMNS} from {TRADE_FROM} \
         where t.id = $1 and (select count(*) from listing) >= 0 for update of t"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Settles the trade at `at`; `by` says who settled it (`buyer`, `acceptance_period`, `dispute`).
///
/// One statement on purpose: a second `UPDATE` of a trade row this transaction already updated
/// re-runs the row's foreign-key checks (PostgreSQL does whenever the old version's `xmin` is the
/// current transaction), share-locking its listing *after* the trade — the reverse of the market's
/// lock order (listing → trade), which deadlocked with a cancellation holding the listing.
pub async fn set_settled(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update trades set status = 'settled', settled_at = $2, settled_by = $3 where id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Cancels the trade; an exclusive listing that the trade had sold is listed again.
/// `reason` says who (`buyer`, `seller`, `payment_timeout`), `note` what they wrote.
pub async fn set_cancelled(
    conn: &mut PgConnection,
    trade: &TradeRow,
    reason: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update trades set status = 'cancelled', cancelled_at = $2, cancel_reason = $3, cancel_note = $4 \
         where id = $1",
    )
    .bind(trade.id)
    .bind(at)
    .bind(reason)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    if trade.exclusive {
        sqlx::query(
            "update listings set status = 'listed', updated_at = now() where id = $1 and status = 'sold'",
        )
        .bind(trade.listing_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Trades the organisation, as buyer, cancelled or left unpaid past the deadline since `since`.
pub async fn buyer_cancellations(
    conn: &mut PgConnection,
    org: Uuid,
    since: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from trades where buyer_organization_id = $1 and status = 'cancelled' \
         and cancel_reason in ('buyer', 'payment_timeout') and cancelled_at > $2",
    )
    .bind(org)
    .bind(since)
    .fetch_one(conn)
    .await
}

/// An unpaid trade past its deadline, as listed (unlocked) for the cancelling job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnpaidCandidate {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub exclusive: bool,
    pub created_at: DateTime<Utc>,
}

/// Up to `limit` trades awaiting payment created before `before`, oldest first, after the key
/// `after` (created_at, id) of the previous page.
pub async fn unpaid_candidates(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<UnpaidCandidate>> {
    sqlx::query_as(
        "select id, listing_id, exclusive, created_at from trades \
         where status = 'awaiting_payment' and created_at < $1 \
           and ($2::timestamptz is null or (created_at, id) > ($2, $3)) \
         order by created_at, id limit $4",
    )
    .bind(before)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The trade, locked, if it is still awaiting payment since before `before`; `None` if it is not,
/// or if another transaction holds it (skipped, not waited for).
pub async fn lock_unpaid(
    conn: &mut PgConnection,
    id: Uuid,
    before: DateTime<Utc>,
) -> sqlx::Result<Option<TradeRow>> {
    sqlx::query_as(&format!(
        "select {TRADE_COLUMNS} from {TRADE_FROM} where t.id = $1 and t.status = 'awaiting_payment' \
         and t.created_at < $2 for update of t skip locked"
    ))
    .bind(id)
    .bind(before)
    .fetch_optional(conn)
    .await
}

// ---------------------------------------------------------------- the ledger (reads; its writes: `db::ledger`)

/// A stored entry, as read for verification.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub id: i64,
    pub txn_id: Uuid,
    pub account: String,
    pub side: String,
    pub amount_fen: i64,
    pub trade_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Every entry in chain order, streamed (memory stays bounded however long the ledger is).
pub fn stream_entries(conn: &mut PgConnection) -> BoxStream<'_, sqlx::Result<EntryRow>> {
    sqlx::query_as(
        "select id, txn_id, account, side, amount_fen, trade_id, created_at, prev_hash, hash \
         from ledger_entries order by id",
    )
    .fetch(conn)
}

/// The latest entries, newest first.
pub async fn recent_entries(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<EntryRow>> {
    sqlx::query_as(
        "select id, txn_id, account, side, amount_fen, trade_id, created_at, prev_hash, hash \
         from ledger_entries order by id desc limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The chained entries of one trade, in the order they were chained.
pub async fn trade_entries(conn: &mut PgConnection, trade_id: Uuid) -> sqlx::Result<Vec<EntryRow>> {
    sqlx::query_as(
        "select id, txn_id, account, side, amount_fen, trade_id, created_at, prev_hash, hash \
         from ledger_entries where trade_id = $1 order by id",
    )
    .bind(trade_id)
    .fetch_all(conn)
    .await
}

/// One page of entries, newest first, and how many there are.
pub async fn entries_page(
    conn: &mut PgConnection,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(Vec<EntryRow>, i64)> {
    let rows = sqlx::query_as(
        "select id, txn_id, account, side, amount_fen, trade_id, created_at, prev_hash, hash \
         from ledger_entries order by id desc offset $1 limit $2",
    )
    .bind(offset)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar("select count(*) from ledger_entries")
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

/// Number of transactions whose debits and credits differ.
pub async fn unbalanced_txns(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from (select txn_id from ledger_entries group by txn_id \
         having sum(case when side = 'debit' then amount_fen::numeric else -amount_fen::numeric end) <> 0) x",
    )
    .fetch_one(conn)
    .await
}

/// Per account: total debits and credits (as numeric, summed exactly, returned as i64 when they fit).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountTotals {
    pub account: String,
    pub debit_fen: i64,
    pub credit_fen: i64,
    pub entries: i64,
}

/// Totals of every account whose name starts with one of the prefixes, escrow grouped as one line.
pub async fn account_totals(conn: &mut PgConnection) -> sqlx::Result<Vec<AccountTotals>> {
    sqlx::query_as(
        "select case when account like 'escrow:%' then 'escrow:*' else account end as account, \
           coalesce(sum(amount_fen) filter (where side = 'debit'), 0)::bigint as debit_fen, \
           coalesce(sum(amount_fen) filter (where side = 'credit'), 0)::bigint as credit_fen, \
           count(*) as entries \
         from ledger_entries group by 1 order by 1",
    )
    .fetch_all(conn)
    .await
}

/// The escrow balance of each trade that is not zero (credits − debits).
pub async fn open_escrows(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "select account, sum(case when side = 'credit' then amount_fen else -amount_fen end)::bigint \
         from ledger_entries where account like 'escrow:%' group by account \
         having sum(case when side = 'credit' then amount_fen else -amount_fen end) <> 0 order by account",
    )
    .fetch_all(conn)
    .await
}

/// Per exchange: buyer fees, seller fees and the number of its settled trades.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExchangeFees {
    pub exchange: String,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub trades: i64,
}

pub async fn fees_by_exchange(conn: &mut PgConnection) -> sqlx::Result<Vec<ExchangeFees>> {
    sqlx::query_as(
        "select e.code as exchange, \
           coalesce((select sum(buyer_fee_fen) from trades where status = 'settled' and buyer_exchange = e.code), 0)::bigint as buyer_fee_fen, \
           coalesce((select sum(seller_fee_fen) from trades where status = 'settled' and seller_exchange = e.code), 0)::bigint as seller_fee_fen, \
           (select count(*) from trades where status = 'settled' and (buyer_exchange = e.code or seller_exchange = e.code)) as trades \
         from exchanges e order by e.code",
    )
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------- statements and registration

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PartyRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub exchange: String,
    pub credit_code: Option<String>,
}

pub async fn party(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PartyRow>> {
    sqlx::query_as(
        "select id, name, kind, province, exchange, credit_code from organizations where id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn listing_ip(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<(String, String, Vec<String>)>> {
    sqlx::query_as("select title, ip_type, ip_numbers from listings where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// One settled trade, with what a contract registration office needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationRow {
    pub id: Uuid,
    pub number: String,
    pub contract_type: String,
    pub listing_title: String,
    pub price_fen: i64,
    pub created_at: DateTime<Utc>,
    pub settled_at: Option<DateTime<Utc>>,
    pub seller_name: String,
    pub seller_credit_code: Option<String>,
    pub seller_province: String,
    pub buyer_name: String,
    pub buyer_credit_code: Option<String>,
    pub buyer_province: String,
}

/// Settled trades (optionally only those involving one exchange), oldest settlement first.
pub async fn registration_rows(
    conn: &mut PgConnection,
    exchange: Option<&str>,
) -> sqlx::Result<Vec<RegistrationRow>> {
    sqlx::query_as(
        "select t.id, t.number, t.contract_type, l.title as listing_title, t.price_fen, t.created_at, t.settled_at, \
           s.name as seller_name, s.credit_code as seller_credit_code, s.province as seller_province, \
           b.name as buyer_name, b.credit_code as buyer_credit_code, b.province as buyer_province \
         from trades t join listings l on l.id = t.listing_id \
           join organizations s on s.id = t.seller_organization_id \
           join organizations b on b.id = t.buyer_organization_id \
         where t.status = 'settled' and ($1::text is null or t.buyer_exchange = $1 or t.seller_exchange = $1) \
         order by t.settled_at, t.id",
    )
    .bind(exchange)
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------- credit restrictions

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RestrictionRow {
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

const RESTRICTION_COLUMNS: &str = "r.id, r.organization_id, o.name as organization_name, o.credit_code, \
    r.reason, r.until, r.created_by, u.email as created_by_email, r.created_at, r.lifted_at, r.lifted_by";
const RESTRICTION_FROM: &str =
    "org_restrictions r join organizations o on o.id = r.organization_id \
    left join users u on u.id = r.created_by";
/// In force: not lifted and not past its end date.
const ACTIVE: &str = "r.lifted_at is null and (r.until is null or r.until > now())";

pub async fn insert_restriction(
    conn: &mut PgConnection,
    id: Uuid,
    org: Uuid,
    reason: &str,
    until: Option<DateTime<Utc>>,
    by: Uuid,
) -> sqlx::Result<RestrictionRow> {
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason, until, created_by) values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(org)
    .bind(reason)
    .bind(until)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(&format!(
        "select {RESTRICTION_COLUMNS} from {RESTRICTION_FROM} where r.id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// The organisation's restrictions in force, newest first.
pub async fn active_restrictions_of(
    conn: &mut PgConnection,
    org: Uuid,
) -> sqlx::Result<Vec<RestrictionRow>> {
    sqlx::query_as(&format!(
        "select {RESTRICTION_COLUMNS} from {RESTRICTION_FROM} where r.organization_id = $1 and {ACTIVE} \
         order by r.created_at desc"
    ))
    .bind(org)
    .fetch_all(conn)
    .await
}

/// Lifts every restriction of the organisation in force; returns them as lifted.
pub async fn lift_restrictions(
    conn: &mut PgConnection,
    org: Uuid,
    by: Uuid,
) -> sqlx::Result<Vec<RestrictionRow>> {
    let ids: Vec<Uuid> = sqlx::query_scalar(&format!(
        "update org_restrictions r set lifted_at = now(), lifted_by = $2 where r.organization_id = $1 and {ACTIVE} \
         returning r.id"
    ))
    .bind(org)
    .bind(by)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query_as(&format!(
        "select {RESTRICTION_COLUMNS} from {RESTRICTION_FROM} where r.id = any($1) order by r.created_at desc"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Every restriction in force, newest first.
pub async fn active_restrictions(
    conn: &mut PgConnection,
    limit: i64,
) -> sqlx::Result<Vec<RestrictionRow>> {
    sqlx::query_as(&format!(
        "select {RESTRICTION_COLUMNS} from {RESTRICTION_FROM} where {ACTIVE} order by r.created_at desc limit $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Stamps `lifted_at` on restrictions whose end date has passed (they already no longer apply).
/// Idempotent, so safe with several processes.
pub async fn stamp_expired_restrictions(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    sqlx::query_as(
        "update org_restrictions set lifted_at = until where lifted_at is null and until <= $1 \
         returning id, organization_id",
    )
    .bind(now)
    .fetch_all(conn)
    .await
}
