//! Failed logins within a sliding window, per e-mail and per client address.
use sqlx::PgConnection;

pub const WINDOW_MINUTES: i32 = 15;
pub const MAX_FAILURES: i64 = 10;

/// Records a login attempt as a failure *before* its password is checked, then counts the
/// failures in the window (this one included) for the e-mail and for the client, in a second
/// statement so that it sees every attempt committed before it. Of any number of concurrent
/// attempts, the one that counts last sees them all: at most `MAX_FAILURES` get to the password
/// check. Returns `(attempt id, by e-mail, by client)`.
pub async fn begin_attempt(
    conn: &mut PgConnection,
    email: &str,
    client: &str,
) -> sqlx::Result<(i64, i64, i64)> {
    let id: i64 = sqlx::query_scalar(
        "insert into login_failures (email, client) values ($1, $2) returning id",
    )
    .bind(email)
    .bind(client)
    .fetch_one(&mut *conn)
    .await?;
    let (by_email, by_client): (i64, i64) = sqlx::query_as(
        "select (select count(*) from login_failures where email = $1 and at > now() - make_interval(mins => $3)), \
                (select count(*) from login_failures where client = $2 and at > now() - make_interval(mins => $3))",
    )
    .bind(email)
    .bind(client)
    .bind(WINDOW_MINUTES)
    .fetch_one(conn)
    .await?;
    Ok((id, by_email, by_client))
}

/// Forgets an attempt: it succeeded, or it was refused without a password check.
pub async fn forget_attempt(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("delete from login_failures where id = $1")
        .bind(id)
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
