use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub struct NewAudit<'a> {
    pub actor_id: Option<Uuid>,
    /// The API key that acted (then `actor_id` is none).
    pub api_key_id: Option<Uuid>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn insert(conn: &mut PgConnection, a: NewAudit<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into audit_log (actor_id, actor, action, target_type, target_id, before, after, api_key_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.actor_id)
    .bind(a.actor)
    .bind(a.action)
    .bind(a.target_type)
    .bind(a.target_id)
    .bind(a.before)
    .bind(a.after)
    .bind(a.api_key_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Newest first; optionally only one target type (e.g. `fee_schedule`).
pub async fn list(
    conn: &mut PgConnection,
    target_type: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<AuditRow>, i64)> {
    let rows = sqlx::query_as(
        "select id, at, actor, action, target_type, target_id, before, after from audit_log \
         where ($1::text is null or target_type = $1) order by id desc limit $2 offset $3",
    )
    .bind(target_type)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(
        "select count(*) from audit_log where ($1::text is null or target_type = $1)",
    )
    .bind(target_type)
    .fetch_one(conn)
    .await?;
    Ok((rows, total))
}
