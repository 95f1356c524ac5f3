use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

pub struct NewNotification<'a> {
    /// To one user, or (when `None`) to every member of `organization_id`.
    pub user_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub kind: &'a str,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
    pub link: Option<String>,
    /// Sent at most once per key.
    pub dedupe_key: Option<String>,
}

/// Inserts unless a notification with the same dedupe key exists; true when inserted.
pub async fn insert(conn: &mut PgConnection, n: NewNotification<'_>) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "insert into notifications (user_id, organization_id, kind, title_zh, title_en, body_zh, body_en, link, dedupe_key) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (dedupe_key) where dedupe_key is not null do nothing",
    )
    .bind(n.user_id)
    .bind(n.organization_id)
    .bind(n.kind)
    .bind(n.title_zh)
    .bind(n.title_en)
    .bind(n.body_zh)
    .bind(n.body_en)
    .bind(n.link)
    .bind(n.dedupe_key)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn list_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<NotificationRow>> {
    sqlx::query_as(
        "select id, kind, title_zh, title_en, body_zh, body_en, link, created_at, read_at from notifications \
         where user_id = $1 or (user_id is null and organization_id = $2) order by id desc limit $3",
    )
    .bind(user_id)
    .bind(org_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn mark_all_read(
    conn: &mut PgConnection,
    user_id: Uuid,
    org_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update notifications set read_at = now() where read_at is null and \
         (user_id = $1 or (user_id is null and organization_id = $2))",
    )
    .bind(user_id)
    .bind(org_id)
    .execute(conn)
    .await?;
    Ok(())
}
