//! Login attempts within a sliding window, per e-mail and per client address: while its password
//! is checked an attempt is `pending`; then it is deleted (success, or refused unchecked) or kept as
//! a failure. Only failures count toward the limit (API.md).
use sqlx::PgConnection;

pub const WINDOW_MINUTES: i32 = 15;
pub const MAX_FAILURES: i64 = 10;
/// A pending attempt older than this was cut short (its process died): it counts as a failure.
pub const PENDING_STALE_SECONDS: i32 = 60;

/// Records a pending attempt; returns its id.
pub async fn begin_attempt(
    conn: &mut PgConnection,
    email: &str,
    client: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into login_failures (email, client, pending) values ($1, $2, true) returning id",
    )
    .bind(email)
    .bind(client)
    .fetch_one(conn)
    .await
}

/// What happened before attempt `id` in the window, for its e-mail and for its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Earlier {
    pub failed_by_email: i64,
    pub pending_by_email: i64,
    pub failed_by_client: i64,
    pub pending_by_client: i64,
}

impl Earlier {
    /// The limit is reached: refuse without checking the password.
    pub fn over(&self) -> bool {
        self.failed_by_email >= MAX_FAILURES || self.failed_by_client >= MAX_FAILURES
    }

    /// Within the limit even if every earlier attempt still being checked fails: its answer may be
    /// given. Otherwise wait for them (a correct login is never refused for others' pending hashes).
    pub fn certain(&self) -> bool {
        self.failed_by_email + self.pending_by_email < MAX_FAILURES
            && self.failed_by_client + self.pending_by_client < MAX_FAILURES
    }
}

/// Failures and pending attempts that began before attempt `id` (a smaller id), in the window.
pub async fn earlier(
    conn: &mut PgConnection,
    id: i64,
    email: &str,
    client: &str,
) -> sqlx::Result<Earlier> {
    sqlx::query_as(
        "with w as (select email, client, pending and at > now() - make_interval(secs => $5) as live \
                    from login_failures \
                    where id < $1 and (email = $2 or client = $3) and at > now() - make_interval(mins => $4)) \
         select count(*) filter (where email = $2 and not live) as failed_by_email, \
                count(*) filter (where email = $2 and live) as pending_by_email, \
                count(*) filter (where client = $3 and not live) as failed_by_client, \
                count(*) filter (where client = $3 and live) as pending_by_client \
         from w",
    )
    .bind(id)
    .bind(email)
    .bind(client)
    .bind(WINDOW_MINUTES)
    .bind(PENDING_STALE_SECONDS as f64)
    .fetch_one(conn)
    .await
}

/// The password was wrong: the attempt stays, as a failure.
pub async fn record_failure(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("update login_failures set pending = false where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
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
