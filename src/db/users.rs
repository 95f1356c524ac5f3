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
    /// `owner` | `member` in the organisation; none for administrators and removed members.
    pub org_role: Option<String>,
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
    /// `owner` | `member`, with an organisation.
    pub org_role: Option<&'a str>,
    pub admin_exchange: Option<&'a str>,
}

const COLUMNS: &str =
    "id, email, display_name, role, organization_id, org_role, admin_exchange, created_at";

pub async fn insert(conn: &mut PgConnection, u: &NewUser<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into users (id, email, password_hash, display_name, role, organization_id, admin_exchange, org_role) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(u.id)
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.display_name)
    .bind(u.role)
    .bind(u.organization_id)
    .bind(u.admin_exchange)
    .bind(u.org_role)
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

/// The people of an organisation, owners first, then in the order they joined.
pub async fn members_of(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from users where organization_id = $1 \
         order by org_role = 'owner' desc, created_at, id"
    ))
    .bind(org)
    .fetch_all(conn)
    .await
}

/// One member of `org` (none if the user is not in it), its row locked until the transaction ends.
pub async fn member_for_update(
    conn: &mut PgConnection,
    org: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from users where id = $1 and organization_id = $2 for update"
    ))
    .bind(user)
    .bind(org)
    .fetch_optional(conn)
    .await
}

/// How many owners `org` has.
pub async fn count_owners(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from users where organization_id = $1 and org_role = 'owner'",
    )
    .bind(org)
    .fetch_one(conn)
    .await
}

/// Sets a member's role in their organisation.
pub async fn set_org_role(conn: &mut PgConnection, user: Uuid, role: &str) -> sqlx::Result<()> {
    sqlx::query("update users set org_role = $2 where id = $1 and organization_id is not null")
        .bind(user)
        .bind(role)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts a member without an organisation into `org` with `role`; false if they are in one.
pub async fn join_org(
    conn: &mut PgConnection,
    user: Uuid,
    org: Uuid,
    role: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update users set organization_id = $2, org_role = $3 \
         where id = $1 and role = 'member' and organization_id is null",
    )
    .bind(user)
    .bind(org)
    .bind(role)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Takes a member out of their organisation and ends every session and token of theirs: from the
/// commit on, nothing they send acts for the organisation.
pub async fn leave_org(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<()> {
    sqlx::query("update users set organization_id = null, org_role = null where id = $1")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from sessions where user_id = $1")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
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
        "select u.id, u.email, u.display_name, u.role, u.organization_id, u.org_role, u.admin_exchange, u.created_at, \
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
