//! Idempotency keys: claimed in the transaction that does the work, with the response saved beside.
use sqlx::PgConnection;
use uuid::Uuid;

/// Claims `key` for `user`; false when it was claimed before (waits for a concurrent claimer to finish).
pub async fn claim(
    conn: &mut PgConnection,
    user: Uuid,
    key: &str,
    fingerprint: &[u8],
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into idempotency_keys (user_id, key, request_hash) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(user)
    .bind(key)
    .bind(fingerprint)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// What was asked and answered under a key: (request fingerprint, status, body).
pub type Saved = (Vec<u8>, Option<i16>, Option<Vec<u8>>);

pub async fn saved(conn: &mut PgConnection, user: Uuid, key: &str) -> sqlx::Result<Option<Saved>> {
    sqlx::query_as(
        "select request_hash, status, body from idempotency_keys where user_id = $1 and key = $2",
    )
    .bind(user)
    .bind(key)
    .fetch_optional(conn)
    .await
}

pub async fn save(
    conn: &mut PgConnection,
    user: Uuid,
    key: &str,
    status: i16,
    body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "update idempotency_keys set status = $3, body = $4 where user_id = $1 and key = $2",
    )
    .bind(user)
    .bind(key)
    .bind(status)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keys older than 24 hours no longer replay.
pub async fn purge_old(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("delete from idempotency_keys where created_at < now() - interval '24 hours'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
