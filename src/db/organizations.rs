use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub exchange: String,
    pub credit_code: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub restricted_reason: Option<String>,
    pub restricted_until: Option<DateTime<Utc>>,
    /// Set when an exchange refused to verify it (until it is verified after all).
    pub refused_at: Option<DateTime<Utc>>,
    pub refused_reason: Option<String>,
}

const COLUMNS: &str =
    "o.id, o.name, o.kind, o.province, o.exchange, o.credit_code, o.verified_at, o.created_at, \
    r.reason as restricted_reason, r.until as restricted_until, o.refused_at, o.refused_reason";
const FROM: &str = "organizations o left join lateral (select reason, until from org_restrictions r \
    where r.organization_id = o.id and r.lifted_at is null and (r.until is null or r.until > now()) \
    order by r.created_at desc limit 1) r on true";

pub struct NewOrg<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub kind: &'a str,
    pub province: &'a str,
    pub exchange: &'a str,
    pub credit_code: Option<&'a str>,
}

pub async fn insert(conn: &mut PgConnection, o: &NewOrg<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into organizations (id, name, kind, province, exchange, credit_code) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(o.id)
    .bind(o.name)
    .bind(o.kind)
    .bind(o.province)
    .bind(o.exchange)
    .bind(o.credit_code)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<OrgRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from {FROM} where o.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the organisation row (for verification and restrictions).
pub async fn get_for_update(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<OrgRow>> {
    sqlx::query("select 1 from organizations where id = $1 for update")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    get(conn, id).await
}

pub async fn set_verified(conn: &mut PgConnection, id: Uuid, by: Option<Uuid>) -> sqlx::Result<()> {
    sqlx::query("update organizations set verified_at = now(), verified_by = $2 where id = $1 and verified_at is null")
        .bind(id)
        .bind(by)
        .execute(conn)
        .await?;
    Ok(())
}

/// Organisations of an exchange, unverified first, newest first.
pub async fn list_for_exchange(
    conn: &mut PgConnection,
    exchange: &str,
    only_unverified: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<OrgRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where o.exchange = $1 and ($2 = false or o.verified_at is null) \
         order by (o.verified_at is null) desc, o.created_at desc limit $3 offset $4"
    ))
    .bind(exchange)
    .bind(only_unverified)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from organizations where exchange = $1 and ($2 = false or verified_at is null)",
    )
    .bind(exchange)
    .bind(only_unverified)
    .fetch_one(conn)
    .await?;
    Ok((rows, total))
}

/// All organisations (for restrictions, which any exchange may set), searchable by name or code.
pub async fn search_all(conn: &mut PgConnection, q: &str, limit: i64) -> sqlx::Result<Vec<OrgRow>> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where ($1 = '' or o.name ilike $2 or o.credit_code ilike $2) \
         order by o.created_at desc limit $3"
    ))
    .persistent(false)
    .bind(q)
    .bind(pattern)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Takes a share lock on the organisation's row until the transaction ends: a restriction being
/// set (which locks the row for update) waits for it, and one set just before is seen by the
/// caller's next statement.
pub async fn lock_share(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select id from organizations where id = $1 for share")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(())
}

/// Whether the organisation is verified and whether a credit restriction holds on it now
/// (one whose end date has passed no longer does); `None` if there is no such organisation.
pub async fn standing(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<(bool, bool)>> {
    sqlx::query_as(
        "select o.verified_at is not null, exists(select 1 from org_restrictions r where r.organization_id = o.id \
             and r.lifted_at is null and (r.until is null or r.until > now())) \
         from organizations o where o.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Locks the organisation's row against others doing the same (`FOR NO KEY UPDATE`: it conflicts
/// with [`lock_share`], [`get_for_update`] and itself, not with the key-share locks of foreign-key
/// checks), so that what is counted about it after the lock includes what others committed first.
pub async fn lock_no_key(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select id from organizations where id = $1 for no key update")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(())
}

/// For each of `orgs`: the trades it, as buyer, cancelled or left unpaid past the deadline since
/// `since` (organisations with none are left out).
pub async fn buyer_cancellation_counts(
    conn: &mut PgConnection,
    orgs: &[Uuid],
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    sqlx::query_as(
        "select buyer_organization_id, count(*) from trades where buyer_organization_id = any($1) \
         and status = 'cancelled' and cancel_reason in ('buyer', 'payment_timeout') and cancelled_at > $2 \
         group by buyer_organization_id",
    )
    .bind(orgs)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// Refuses to verify an unverified organisation, with the reason it is told (issue 18). `false`
/// when it is verified already.
pub async fn set_refused(conn: &mut PgConnection, id: Uuid, reason: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update organizations set refused_at = now(), refused_reason = $2 where id = $1 and verified_at is null",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
