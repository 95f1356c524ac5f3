//! SQL for paying into the market: each exchange's settlement account, the payment reminders and
//! what recording a payment reads.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettlementAccountRow {
    pub exchange: String,
    pub bank: String,
    pub account_name: String,
    pub account_number: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn settlement_account(
    conn: &mut PgConnection,
    exchange: &str,
) -> sqlx::Result<Option<SettlementAccountRow>> {
    sqlx::query_as(
        "select exchange, bank, account_name, account_number, updated_at \
         from settlement_accounts where exchange = $1",
    )
    .bind(exchange)
    .fetch_optional(conn)
    .await
}

/// Sets the exchange's account, returning the one it replaces (for the audit log).
pub async fn set_settlement_account(
    conn: &mut PgConnection,
    exchange: &str,
    bank: &str,
    account_name: &str,
    account_number: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<SettlementAccountRow>> {
    let before = sqlx::query_as(
        "select exchange, bank, account_name, account_number, updated_at \
         from settlement_accounts where exchange = $1 for update",
    )
    .bind(exchange)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query(
        "insert into settlement_accounts (exchange, bank, account_name, account_number, updated_at, updated_by) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict (exchange) do update set bank = excluded.bank, account_name = excluded.account_name, \
           account_number = excluded.account_number, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(exchange)
    .bind(bank)
    .bind(account_name)
    .bind(account_number)
    .bind(at)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(before)
}

/// Marks up to `limit` unpaid trades made in `(made_after, made_before]` (due soon, not yet overdue)
/// and not yet reminded as reminded at `now`, returning their ids. Rows another process holds are skipped, so each trade is reminded
/// once however many processes run this.
pub async fn take_reminders(
    conn: &mut PgConnection,
    made_after: DateTime<Utc>,
    made_before: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "update trades set payment_reminded_at = $2 where id in ( \
             select id from trades where status = 'awaiting_payment' and created_at <= $1 \
               and created_at > $4 and payment_reminded_at is null \
             order by created_at limit $3 for update skip locked) \
         returning id",
    )
    .bind(made_before)
    .bind(now)
    .bind(limit)
    .bind(made_after)
    .fetch_all(conn)
    .await
}

/// What recording a trade's payment needs (`service::brokers::on_trade_paid`).
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct AtPayment {
    /// The won auction's deposit already applied to the trade.
    pub deposit_fen: i64,
    /// The accepted commission of the buyer's broker, paid in with the price.
    pub commission_fen: i64,
    /// How many engagements are accepted (or paid): none means the trade shows no broker.
    pub engaged: i64,
}

/// In one statement: sets the trade `paid` at `at`, recorded by `by` (the trade row's one `UPDATE`
/// of the transaction), lets the trade's broker proposals that were not accepted lapse (`cancelled`
/// at `at`), and reads the deposit applied to it, the accepted commission of side `buyer_side`'s
/// broker and how many engagements are accepted. (The reads do not see the lapsing, which touches
/// only proposals.)
pub async fn at_payment(
    conn: &mut PgConnection,
    trade_id: Uuid,
    buyer_side: &str,
    by: Option<Uuid>,
    at: DateTime<Utc>,
) -> sqlx::Result<AtPayment> {
    sqlx::query_as(
        "with paid as (update trades set status = 'paid', paid_at = $3, payment_recorded_by = $4 \
           where id = $1), \
         lapsed as (update broker_engagements set status = 'cancelled', closed_at = $3 \
           where trade_id = $1 and status = 'proposed') \
         select coalesce((select sum(amount_fen) from auction_deposits \
                          where trade_id = $1 and status = 'applied'), 0)::bigint as deposit_fen, \
                coalesce((select sum(commission_fen) from broker_engagements \
                          where trade_id = $1 and side = $2 and status in ('accepted', 'paid')), 0)::bigint \
                  as commission_fen, \
                (select count(*) from broker_engagements \
                 where trade_id = $1 and status in ('accepted', 'paid')) as engaged",
    )
    .bind(trade_id)
    .bind(buyer_side)
    .bind(at)
    .bind(by)
    .fetch_one(conn)
    .await
}
