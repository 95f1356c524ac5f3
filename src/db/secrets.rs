//! Server secrets shared by all processes on one database.
use sqlx::PgConnection;

/// The secret called `name`; `fresh` becomes it if there is none yet (the first writer wins, so
/// processes starting together agree).
pub async fn get_or_create(
    conn: &mut PgConnection,
    name: &str,
    fresh: &[u8],
) -> sqlx::Result<Vec<u8>> {
    sqlx::query(
        "insert into server_secrets (name, secret) values ($1, $2) on conflict (name) do nothing",
    )
    .bind(name)
    .bind(fresh)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("select secret from server_secrets where name = $1")
        .bind(name)
        .fetch_one(conn)
        .await
}
