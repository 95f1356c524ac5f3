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

/// An audit row with the names people read it by (what the ids stood for when it is read).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NamedAuditRow {
    #[sqlx(flatten)]
    pub row: AuditRow,
    /// The target's name: a listing's title, a trade's number, an organisation's name, …
    pub target_label: Option<String>,
    /// The name of the organisation the record names (`organization_id` in it).
    pub organization_name: Option<String>,
}

/// The name of an audit row `a`'s target, by its type; every branch looks one row up by its key
/// (ids that are not uuids, like an exchange's code, have no branch).
const TARGET_LABEL: &str = "case a.target_type \
    when 'listing' then (select title from listings where id = a.target_id::uuid) \
    when 'trade' then (select number from trades where id = a.target_id::uuid) \
    when 'organization' then (select name from organizations where id = a.target_id::uuid) \
    when 'fee_schedule' then (select coalesce(public_name, name) from fee_schedules where id = a.target_id::uuid) \
    when 'user' then (select email from users where id = a.target_id::uuid) \
    when 'organization_invitation' then (select email from organization_invitations where id = a.target_id::uuid) \
    when 'offer' then (select l.title from offers o join listings l on l.id = o.listing_id where o.id = a.target_id::uuid) \
    when 'pledge_request' then (select l.title from pledge_requests p join listings l on l.id = p.listing_id where p.id = a.target_id::uuid) \
    when 'financing_product' then (select name from financing_products where id = a.target_id::uuid) \
    when 'api_key' then (select name from api_keys where id = a.target_id::uuid) \
    when 'webhook' then (select url from webhooks where id = a.target_id::uuid) \
    end";

/// The organisation a record names (`organization_id` in after, else before).
const ORGANIZATION_NAME: &str = "(select name from organizations where id = \
    (coalesce(a.after->>'organization_id', a.before->>'organization_id'))::uuid)";

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
) -> sqlx::Result<(Vec<NamedAuditRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select a.id, a.at, a.actor, a.action, a.target_type, a.target_id, a.before, a.after, \
         {TARGET_LABEL} as target_label, {ORGANIZATION_NAME} as organization_name from audit_log a \
         where ($1::text is null or a.target_type = $1) order by a.id desc limit $2 offset $3",
    ))
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
