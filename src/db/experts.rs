//! SQL for: the shared expert pool (专家库) — registering, deactivating, the directory, conflicts
//! of interest with a listing's owner, and suggestions for a panel.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExpertRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub organization_id: Option<Uuid>,
    pub organization_name: Option<String>,
    pub province: Option<String>,
    pub fields: Vec<String>,
    pub title: String,
    pub bio: String,
    pub exchange: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

const COLS: &str =
    "e.id, e.user_id, u.display_name as name, u.organization_id, o.name as organization_name, \
    o.province, e.fields, e.title, e.bio, e.exchange, e.active, e.created_at";
const FROM: &str = "experts e join users u on u.id = e.user_id left join organizations o on o.id = u.organization_id";

/// Whether the two organisations were ever parties of one trade (in any status), either way round.
const TRADED: &str = "exists (select 1 from trades t where \
    (t.seller_organization_id = u.organization_id and t.buyer_organization_id = $1) or \
    (t.buyer_organization_id = u.organization_id and t.seller_organization_id = $1))";

pub struct NewExpert<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub fields: &'a [String],
    pub title: &'a str,
    pub bio: &'a str,
    pub exchange: &'a str,
    pub registered_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// Registers the user as an expert, or re-activates (with the new profile) one who was
/// deactivated. `None` when the user is already an active expert (nothing changes).
pub async fn register(conn: &mut PgConnection, e: &NewExpert<'_>) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "insert into experts (id, user_id, fields, title, bio, exchange, registered_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) \
         on conflict (user_id) do update set fields = excluded.fields, title = excluded.title, bio = excluded.bio, \
             exchange = excluded.exchange, registered_by = excluded.registered_by, active = true, deactivated_at = null \
         where experts.active = false \
         returning id",
    )
    .bind(e.id)
    .bind(e.user_id)
    .bind(e.fields)
    .bind(e.title)
    .bind(e.bio)
    .bind(e.exchange)
    .bind(e.registered_by)
    .bind(e.now)
    .fetch_optional(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ExpertRow>> {
    sqlx::query_as(&format!("select {COLS} from {FROM} where e.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The expert profile of a user, if any (active or not).
pub async fn by_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<ExpertRow>> {
    sqlx::query_as(&format!("select {COLS} from {FROM} where e.user_id = $1"))
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// Several experts by id (for a panel), locked `FOR SHARE` so none is deactivated meanwhile.
pub async fn many_for_share(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<ExpertRow>> {
    sqlx::query_as(&format!(
        "select {COLS} from {FROM} where e.id = any($1) order by e.id for share of e"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Deactivates an active expert; false when it was not active.
pub async fn deactivate(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update experts set active = false, deactivated_at = $2 where id = $1 and active",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// `%` and `_` in a search text match themselves.
fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The active experts, by field (one of theirs) and free text (name, title, bio, organisation),
/// newest first; and how many there are.
pub async fn directory(
    conn: &mut PgConnection,
    field: Option<&str>,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<ExpertRow>, i64)> {
    let filter = "e.active and ($1::text is null or $1 = any(e.fields)) and ($2::text is null or \
                  u.display_name ilike $2 or e.title ilike $2 or e.bio ilike $2 or o.name ilike $2)";
    let pattern = q.map(like_pattern);
    let rows = sqlx::query_as(&format!(
        "select {COLS} from {FROM} where {filter} order by e.created_at desc, e.id limit $3 offset $4"
    ))
    .bind(field)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(&format!("select count(*) from {FROM} where {filter}"))
        .bind(field)
        .bind(&pattern)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

/// Of `ids`, the experts in a conflict of interest with the organisation `owner`: its own
/// members, and members of an organisation that has been a party of a trade with it.
pub async fn conflicted(
    conn: &mut PgConnection,
    owner: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(&format!(
        "select e.id from experts e join users u on u.id = e.user_id \
         where e.id = any($2) and (u.organization_id = $1 or {TRADED})"
    ))
    .bind(owner)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// A suggested expert: the profile, whether the listing's field is one of theirs, and how many
/// open panels await their answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuggestionRow {
    #[sqlx(flatten)]
    pub expert: ExpertRow,
    pub field_fit: bool,
    pub workload: i64,
}

/// Active experts free of conflicts with `owner`, those of `field` first, then the least busy.
pub async fn suggestions(
    conn: &mut PgConnection,
    owner: Uuid,
    field: &str,
    limit: i64,
) -> sqlx::Result<Vec<SuggestionRow>> {
    sqlx::query_as(&format!(
        "select {COLS}, ($2 = any(e.fields)) as field_fit, \
           (select count(*) from evaluation_members m join evaluations v on v.id = m.evaluation_id \
             where m.expert_id = e.id and m.status = 'invited' and v.status = 'in_progress') as workload \
         from {FROM} \
         where e.active and u.organization_id is not null and u.organization_id <> $1 and not {TRADED} \
         order by field_fit desc, workload, e.created_at, e.id limit $3"
    ))
    .bind(owner)
    .bind(field)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A member's user id by e-mail (compared case-insensitively).
pub async fn member_id_by_email(
    conn: &mut PgConnection,
    email: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from users where lower(email) = lower($1) and role = 'member'")
        .bind(email)
        .fetch_optional(conn)
        .await
}
