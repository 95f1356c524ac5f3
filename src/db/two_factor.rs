//! Two-factor sign-in: TOTP secrets and recovery codes.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoFactorRow {
    pub secret: Vec<u8>,
    pub enabled_at: Option<DateTime<Utc>>,
    pub last_step: i64,
}

pub async fn get(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<TwoFactorRow>> {
    sqlx::query_as("select secret, enabled_at, last_step from user_two_factor where user_id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// Stores a new secret: enabled at once (`enabled_at`, an administrator's), or pending until
/// confirmed. Replaces any earlier one and its state.
pub async fn put(
    conn: &mut PgConnection,
    user_id: Uuid,
    secret: &[u8],
    enabled_at: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into user_two_factor (user_id, secret, enabled_at) values ($1, $2, $3) \
         on conflict (user_id) do update set secret = excluded.secret, \
         enabled_at = excluded.enabled_at, last_step = -1, created_at = now()",
    )
    .bind(user_id)
    .bind(secret)
    .bind(enabled_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks `step` used if it is after the last used one; false if it is not (a replay, or a race lost).
pub async fn use_step(conn: &mut PgConnection, user_id: Uuid, step: i64) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "update user_two_factor set last_step = $2 where user_id = $1 and last_step < $2",
    )
    .bind(user_id)
    .bind(step)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Turns a pending enrolment on.
pub async fn enable(conn: &mut PgConnection, user_id: Uuid, at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query("update user_two_factor set enabled_at = $2 where user_id = $1")
        .bind(user_id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from user_two_factor where user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from user_recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces a user's recovery codes by these hashes.
pub async fn replace_recovery(
    conn: &mut PgConnection,
    user_id: Uuid,
    hashes: &[Vec<u8>],
) -> sqlx::Result<()> {
    sqlx::query("delete from user_recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into user_recovery_codes (user_id, code_hash) select $1, h from unnest($2::bytea[]) h \
         on conflict do nothing",
    )
    .bind(user_id)
    .bind(hashes)
    .execute(conn)
    .await?;
    Ok(())
}

/// Uses a recovery code once: true if it was an unused code of this user (now used).
pub async fn use_recovery(
    conn: &mut PgConnection,
    user_id: Uuid,
    hash: &[u8],
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "update user_recovery_codes set used_at = $3 \
         where user_id = $1 and code_hash = $2 and used_at is null",
    )
    .bind(user_id)
    .bind(hash)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Unused recovery codes left.
pub async fn recovery_left(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from user_recovery_codes where user_id = $1 and used_at is null",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await
}

/// Gives the administrator `email` this enabled secret unless they have one (the demo's admins).
pub async fn put_if_missing(
    conn: &mut PgConnection,
    email: &str,
    secret: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into user_two_factor (user_id, secret, enabled_at) \
         select id, $2, now() from users where lower(email) = lower($1) and role = 'admin' \
         on conflict (user_id) do nothing",
    )
    .bind(email)
    .bind(secret)
    .execute(conn)
    .await?;
    Ok(())
}
