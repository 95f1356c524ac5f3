//! SQL for: technology brokers (技术经纪人) and their engagements on trades.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

// ---------------------------------------------------------------- brokers

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BrokerRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub organization_id: Option<Uuid>,
    pub organization_name: Option<String>,
    pub organization_province: Option<String>,
    pub certificate_no: String,
    pub since: DateTime<Utc>,
    pub active: bool,
    pub certifying_exchange: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

const BROKER_COLUMNS: &str = "b.id, b.user_id, u.display_name as name, u.organization_id, \
    o.name as organization_name, o.province as organization_province, b.certificate_no, b.since, b.active, \
    b.certifying_exchange, b.revoked_at";
const BROKER_FROM: &str =
    "brokers b join users u on u.id = b.user_id left join organizations o on o.id = u.organization_id";

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<BrokerRow>> {
    sqlx::query_as(&format!(
        "select {BROKER_COLUMNS} from {BROKER_FROM} where b.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The broker row of a user (active or not).
pub async fn of_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<BrokerRow>> {
    sqlx::query_as(&format!(
        "select {BROKER_COLUMNS} from {BROKER_FROM} where b.user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// Locks a user's broker row, if any (certifying and revoking take it first).
pub async fn lock_of_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from brokers where user_id = $1 for update")
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

/// Whether another active broker holds this certificate number.
pub async fn certificate_taken(
    conn: &mut PgConnection,
    certificate_no: &str,
    except_user: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from brokers where active and lower(certificate_no) = lower($1) and user_id <> $2)",
    )
    .bind(certificate_no)
    .bind(except_user)
    .fetch_one(conn)
    .await
}

pub struct NewBroker<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub certificate_no: &'a str,
    pub by: Option<Uuid>,
    pub exchange: &'a str,
    pub now: DateTime<Utc>,
}

/// Certifies a user: a new row, or the user's revoked row active again with the new certificate.
pub async fn certify(conn: &mut PgConnection, b: &NewBroker<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into brokers (id, user_id, certificate_no, active, since, certified_by, certifying_exchange) \
         values ($1, $2, $3, true, $4, $5, $6) \
         on conflict (user_id) do update set certificate_no = excluded.certificate_no, active = true, \
         since = excluded.since, certified_by = excluded.certified_by, \
         certifying_exchange = excluded.certifying_exchange, revoked_at = null, revoked_by = null, revoke_reason = null \
         returning id",
    )
    .bind(b.id)
    .bind(b.user_id)
    .bind(b.certificate_no)
    .bind(b.now)
    .bind(b.by)
    .bind(b.exchange)
    .fetch_one(conn)
    .await
}

pub async fn revoke(
    conn: &mut PgConnection,
    id: Uuid,
    by: Option<Uuid>,
    reason: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update brokers set active = false, revoked_at = $2, revoked_by = $3, revoke_reason = $4 where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(by)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks a broker's row (an engagement's proposal and acceptance take it, so a revocation is
/// either seen or waits).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar("select active from brokers where id = $1 for share")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Active brokers (all when `all`), by name; and how many.
pub async fn list(
    conn: &mut PgConnection,
    all: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<BrokerRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select {BROKER_COLUMNS} from {BROKER_FROM} where b.active or $1 \
         order by b.active desc, u.display_name, b.id limit $2 offset $3"
    ))
    .bind(all)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar("select count(*) from brokers where active or $1")
        .bind(all)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

/// The id of the user signed up with `email` (compared case-insensitively).
pub async fn user_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select id from users where lower(email) = lower($1)")
        .bind(email.trim())
        .fetch_optional(conn)
        .await
}

// ---------------------------------------------------------------- engagements

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EngagementRow {
    pub id: Uuid,
    pub trade_id: Uuid,
    pub trade_number: String,
    pub trade_status: String,
    pub listing_title: String,
    pub price_fen: i64,
    pub buyer_organization_id: Uuid,
    pub seller_organization_id: Uuid,
    pub broker_id: Uuid,
    pub broker_user_id: Uuid,
    pub broker_name: String,
    pub certificate_no: String,
    pub side: String,
    pub commission_ppm: i64,
    pub commission_fen: i64,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub paid_fen: Option<i64>,
}

const ENGAGEMENT_COLUMNS: &str = "e.id, e.trade_id, t.number as trade_number, t.status as trade_status, \
    l.title as listing_title, t.price_fen, t.buyer_organization_id, t.seller_organization_id, e.broker_id, b.user_id as broker_user_id, u.display_name as broker_name, \
    b.certificate_no, e.side, e.commission_ppm, e.commission_fen, e.status, e.created_at, e.decided_at, \
    e.closed_at, e.paid_fen";
const ENGAGEMENT_FROM: &str = "broker_engagements e join trades t on t.id = e.trade_id \
    join listings l on l.id = t.listing_id join brokers b on b.id = e.broker_id join users u on u.id = b.user_id";

pub async fn engagement(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<EngagementRow>> {
    sqlx::query_as(&format!(
        "select {ENGAGEMENT_COLUMNS} from {ENGAGEMENT_FROM} where e.id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The trade an engagement belongs to.
pub async fn trade_of(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select trade_id from broker_engagements where id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A trade's engagements, oldest first.
pub async fn of_trade(conn: &mut PgConnection, trade_id: Uuid) -> sqlx::Result<Vec<EngagementRow>> {
    sqlx::query_as(&format!(
        "select {ENGAGEMENT_COLUMNS} from {ENGAGEMENT_FROM} where e.trade_id = $1 order by e.created_at, e.id"
    ))
    .bind(trade_id)
    .fetch_all(conn)
    .await
}

/// The live engagements (proposed, accepted, paid) of several trades, for lists and exports.
pub async fn live_of_trades(
    conn: &mut PgConnection,
    trade_ids: &[Uuid],
) -> sqlx::Result<Vec<EngagementRow>> {
    sqlx::query_as(&format!(
        "select {ENGAGEMENT_COLUMNS} from {ENGAGEMENT_FROM} \
         where e.trade_id = any($1) and e.status in ('accepted', 'paid') order by e.trade_id, e.side"
    ))
    .bind(trade_ids)
    .fetch_all(conn)
    .await
}

/// A broker's engagements, newest first; and how many.
pub async fn of_broker(
    conn: &mut PgConnection,
    broker_id: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<EngagementRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select {ENGAGEMENT_COLUMNS} from {ENGAGEMENT_FROM} where e.broker_id = $1 \
         order by e.created_at desc, e.id desc limit $2 offset $3"
    ))
    .bind(broker_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar("select count(*) from broker_engagements where broker_id = $1")
        .bind(broker_id)
        .fetch_one(conn)
        .await?;
    Ok((rows, total))
}

/// A broker's commission paid at settlement (`paid`) and still to come (`accepted` on a live trade).
pub async fn totals(conn: &mut PgConnection, broker_id: Uuid) -> sqlx::Result<(i64, i64)> {
    let (earned, pending): (Option<i64>, Option<i64>) = sqlx::query_as(
        "select sum(coalesce(paid_fen, commission_fen)) filter (where status = 'paid')::bigint, \
         sum(commission_fen) filter (where status = 'accepted')::bigint \
         from broker_engagements where broker_id = $1",
    )
    .bind(broker_id)
    .fetch_one(conn)
    .await?;
    Ok((earned.unwrap_or(0), pending.unwrap_or(0)))
}

pub struct NewEngagement<'a> {
    pub id: Uuid,
    pub trade_id: Uuid,
    pub broker_id: Uuid,
    pub side: &'a str,
    pub commission_ppm: i64,
    pub commission_fen: i64,
    pub by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// Inserts a proposed engagement; `false` when the side already has a live one (the unique index).
pub async fn insert(conn: &mut PgConnection, e: &NewEngagement<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into broker_engagements (id, trade_id, broker_id, side, commission_ppm, commission_fen, status, \
         proposed_by, created_at) values ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8) \
         on conflict (trade_id, side) where status in ('proposed', 'accepted', 'paid') do nothing",
    )
    .bind(e.id)
    .bind(e.trade_id)
    .bind(e.broker_id)
    .bind(e.side)
    .bind(e.commission_ppm)
    .bind(e.commission_fen)
    .bind(e.by)
    .bind(e.now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The broker's answer to a proposal: `accepted` or `declined`.
pub async fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update broker_engagements set status = $2, decided_at = $3 where id = $1")
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Moves a trade's engagements in `from` to `to` (closing them); returns those moved.
pub async fn close_of_trade(
    conn: &mut PgConnection,
    trade_id: Uuid,
    from: &[&str],
    to: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, Uuid, String, i64)>> {
    let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
    sqlx::query_as(
        "update broker_engagements set status = $3, closed_at = $4 \
         where trade_id = $1 and status = any($2) returning id, broker_id, side, commission_fen",
    )
    .bind(trade_id)
    .bind(&from)
    .bind(to)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Records what the settlement paid an engagement.
pub async fn set_paid_fen(conn: &mut PgConnection, id: Uuid, paid_fen: i64) -> sqlx::Result<()> {
    sqlx::query("update broker_engagements set paid_fen = $2 where id = $1")
        .bind(id)
        .bind(paid_fen)
        .execute(conn)
        .await?;
    Ok(())
}

/// The accepted commission of one side of a trade (0 without one).
pub async fn accepted_commission(
    conn: &mut PgConnection,
    trade_id: Uuid,
    side: &str,
) -> sqlx::Result<i64> {
    let v: Option<i64> = sqlx::query_scalar(
        "select sum(commission_fen)::bigint from broker_engagements \
         where trade_id = $1 and side = $2 and status in ('accepted', 'paid')",
    )
    .bind(trade_id)
    .bind(side)
    .fetch_one(conn)
    .await?;
    Ok(v.unwrap_or(0))
}
