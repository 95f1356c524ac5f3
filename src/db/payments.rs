//! SQL for paying into the market: each exchange's settlement account and the payment reminders.
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
