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

/// Inserts notifications in one statement; one whose dedupe key was used before is skipped.
pub async fn insert_many(
    conn: &mut PgConnection,
    rows: &[NewNotification<'_>],
) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&NewNotification<'_>) -> String| rows.iter().map(f).collect::<Vec<String>>();
    sqlx::query(
        "insert into notifications (user_id, organization_id, kind, title_zh, title_en, body_zh, body_en, link, dedupe_key) \
         select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                              $8::text[], $9::text[]) \
         on conflict (dedupe_key) where dedupe_key is not null do nothing",
    )
    .bind(rows.iter().map(|n| n.user_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|n| n.organization_id).collect::<Vec<_>>())
    .bind(col(|n| n.kind.to_string()))
    .bind(col(|n| n.title_zh.clone()))
    .bind(col(|n| n.title_en.clone()))
    .bind(col(|n| n.body_zh.clone()))
    .bind(col(|n| n.body_en.clone()))
    .bind(rows.iter().map(|n| n.link.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|n| n.dedupe_key.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
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
