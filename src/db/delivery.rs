//! SQL for delivery and acceptance: recording delivery, the acceptance period, the trades whose
//! period has ended. (The delivery's attachments are files: `db::files`.)
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The acceptance period (days) of an exchange.
pub async fn acceptance_days(conn: &mut PgConnection, exchange: &str) -> sqlx::Result<i32> {
    let days: Option<i32> =
        sqlx::query_scalar("select acceptance_days from exchanges where code = $1")
            .bind(exchange)
            .fetch_optional(conn)
            .await?;
    Ok(days.unwrap_or(15))
}

pub async fn set_delivered(
    conn: &mut PgConnection,
    id: Uuid,
    note: &str,
    at: DateTime<Utc>,
    acceptance_due_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update trades set status = 'delivered', delivered_at = $2, delivery_note = $3, \
         acceptance_due_at = $4 where id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(note)
    .bind(acceptance_due_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One delivered trade whose acceptance period ended by `now`, locked; rows another process holds
/// are skipped, so each is settled once.
pub async fn lock_accepted(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select id from trades where status = 'delivered' and acceptance_due_at <= $1 \
         order by acceptance_due_at limit 1 for update skip locked",
    )
    .bind(now)
    .fetch_optional(conn)
    .await
}
