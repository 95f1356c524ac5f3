//! Invitations to join an organisation (`organization_invitations`). The link's secret is stored
//! only as its SHA-256.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: String,
    pub created_by: Uuid,
    /// The display name of the owner who invited.
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "select i.id, i.organization_id, i.email, i.role, i.created_by, \
    u.display_name as created_by_name, i.created_at, i.expires_at, i.accepted_at, i.revoked_at \
    from organization_invitations i join users u on u.id = i.created_by";

pub struct NewInvitation<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a [u8],
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, i: &NewInvitation<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into organization_invitations \
         (id, organization_id, email, role, token_hash, created_by, created_at, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(i.id)
    .bind(i.organization_id)
    .bind(i.email)
    .bind(i.role)
    .bind(i.token_hash)
    .bind(i.created_by)
    .bind(i.created_at)
    .bind(i.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The invitation with that token hash; `lock` holds its row until the transaction ends (so that
/// two people using one link at once cannot both join).
pub async fn by_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
    lock: bool,
) -> sqlx::Result<Option<InvitationRow>> {
    let suffix = if lock { " for update of i" } else { "" };
    sqlx::query_as(&format!("{SELECT} where i.token_hash = $1{suffix}"))
        .bind(token_hash)
        .fetch_optional(conn)
        .await
}

/// One invitation of `org`, locked.
pub async fn get_for_update(
    conn: &mut PgConnection,
    org: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<InvitationRow>> {
    sqlx::query_as(&format!(
        "{SELECT} where i.id = $1 and i.organization_id = $2 for update of i"
    ))
    .bind(id)
    .bind(org)
    .fetch_optional(conn)
    .await
}

/// The invitations of `org` that can still be used at `now`, newest first.
pub async fn pending(
    conn: &mut PgConnection,
    org: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<InvitationRow>> {
    sqlx::query_as(&format!(
        "{SELECT} where i.organization_id = $1 and i.accepted_at is null and i.revoked_at is null \
         and i.expires_at > $2 order by i.created_at desc, i.id desc limit 200"
    ))
    .bind(org)
    .bind(now)
    .fetch_all(conn)
    .await
}

pub async fn set_accepted(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update organization_invitations set accepted_at = $3, accepted_by = $2 \
         where id = $1 and accepted_at is null and revoked_at is null",
    )
    .bind(id)
    .bind(user)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_revoked(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update organization_invitations set revoked_at = $3, revoked_by = $2 \
         where id = $1 and accepted_at is null and revoked_at is null",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes the unused invitations of `org` to `email` (a new one replaces them); their ids.
pub async fn revoke_for_email(
    conn: &mut PgConnection,
    org: Uuid,
    email: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "update organization_invitations set revoked_at = $4, revoked_by = $3 \
         where organization_id = $1 and lower(email) = lower($2) \
         and accepted_at is null and revoked_at is null returning id",
    )
    .bind(org)
    .bind(email)
    .bind(by)
    .bind(now)
    .fetch_all(conn)
    .await
}
