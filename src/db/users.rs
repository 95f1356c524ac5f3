use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub organization_id: Option<Uuid>,
    pub admin_exchange: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub organization_id: Option<Uuid>,
    pub admin_exchange: Option<&'a str>,
}

const COLUMNS: &str = "id, email, display_name, role, organization_id, admin_exchange, created_at";

pub async fn insert(conn: &mut PgConnection, u: &NewUser<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into users (id, email, password_hash, display_name, role, organization_id, admin_exchange) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(u.id)
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.display_name)
    .bind(u.role)
    .bind(u.organization_id)
    .bind(u.admin_exchange)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from users where id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The user and password hash for a login, e-mail compared case-insensitively.
pub async fn find_for_login(
    conn: &mut PgConnection,
    email: &str,
) -> sqlx::Result<Option<(UserRow, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let row: Option<Row> = sqlx::query_as(&format!(
        "select {COLUMNS}, password_hash from users where lower(email) = lower($1)"
    ))
    .bind(email)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

pub async fn set_password(conn: &mut PgConnection, id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Members of an organisation (to notify them).
pub async fn ids_of_org(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("select id from users where organization_id = $1")
        .bind(org)
        .fetch_all(conn)
        .await
}

// ---- sessions and tokens ----

pub async fn insert_session(
    conn: &mut PgConnection,
    token_hash: &[u8],
    user_id: Uuid,
    kind: &str,
    csrf: Option<&str>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into sessions (token_hash, user_id, kind, csrf_token, expires_at) values ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(kind)
    .bind(csrf)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub csrf_token: Option<String>,
    pub unread: i64,
}

/// The live session of that kind and its user, with the user's unread notification count.
pub async fn session_user(
    conn: &mut PgConnection,
    token_hash: &[u8],
    kind: &str,
) -> sqlx::Result<Option<SessionUser>> {
    // Pages show the unread count in the header; API calls (every bearer request) skip that count.
    let unread = if kind == "web" {
        "(select count(*) from notifications n where n.read_at is null and \
             (n.user_id = u.id or (n.user_id is null and n.organization_id = u.organization_id)))"
    } else {
        "0::bigint"
    };
    sqlx::query_as(&format!(
        "select u.id, u.email, u.display_name, u.role, u.organization_id, u.admin_exchange, u.created_at, \
                s.csrf_token, {unread} as unread \
         from sessions s join users u on u.id = s.user_id \
         where s.token_hash = $1 and s.kind = $2 and s.expires_at > now()"
    ))
    .bind(token_hash)
    .bind(kind)
    .fetch_optional(conn)
    .await
}

pub async fn delete_session(conn: &mut PgConnection, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("delete from sessions where token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn purge_expired_sessions(conn: &mut PgConnection) -> sqlx::Result<u64> {
    Ok(sqlx::query("delete from sessions where expires_at < now()")
        .execute(conn)
        .await?
        .rows_affected())
}
