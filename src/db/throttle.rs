//! Failed logins within a sliding window, per e-mail and per client address.
use sqlx::PgConnection;

pub const WINDOW_MINUTES: i32 = 15;
pub const MAX_FAILURES: i64 = 10;

/// (failures for this e-mail, failures from this client) within the window.
pub async fn recent_failures(
    conn: &mut PgConnection,
    email: &str,
    client: &str,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "select (select count(*) from login_failures where email = $1 and at > now() - make_interval(mins => $3)), \
                (select count(*) from login_failures where client = $2 and at > now() - make_interval(mins => $3))",
    )
    .bind(email)
    .bind(client)
    .bind(WINDOW_MINUTES)
    .fetch_one(conn)
    .await
}

pub async fn record_failure(
    conn: &mut PgConnection,
    email: &str,
    client: &str,
) -> sqlx::Result<()> {
    sqlx::query("insert into login_failures (email, client) values ($1, $2)")
        .bind(email)
        .bind(client)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn purge_old(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("delete from login_failures where at < now() - make_interval(mins => $1)")
            .bind(WINDOW_MINUTES)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
