//! Fee schedule versions. The schedule in force at T is the approved one with the latest
//! `effective_at` ≤ T.
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::fees::{FeeSchedule, SideSchedule};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub effective_from: Option<DateTime<Utc>>,
    pub effective_at: Option<DateTime<Utc>>,
    pub buyer: Json<SideSchedule>,
    pub seller: Json<SideSchedule>,
    pub created_by: Option<Uuid>,
    pub created_by_email: Option<String>,
    pub created_by_exchange: Option<String>,
    pub decided_by: Option<Uuid>,
    pub decided_by_email: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Given at approval (null for schedules approved before names were given then).
    pub public_name: Option<String>,
}

impl ScheduleRow {
    pub fn schedule(&self) -> FeeSchedule {
        FeeSchedule {
            buyer: self.buyer.0.clone(),
            seller: self.seller.0.clone(),
        }
    }
}

pub const COLUMNS: &str = "s.id, s.name, s.status, s.effective_from, s.effective_at, s.buyer, s.seller, \
    s.created_by, cu.email as created_by_email, s.created_by_exchange, s.decided_by, du.email as decided_by_email, \
    s.decided_at, s.reject_reason, s.created_at, s.public_name";
pub const FROM: &str =
    "fee_schedules s left join users cu on cu.id = s.created_by left join users du on du.id = s.decided_by";

/// The approved schedule in force at `at`.
pub async fn in_force(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<ScheduleRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where s.status = 'approved' and s.effective_at <= $1 \
         order by s.effective_at desc, s.decided_at desc limit 1"
    ))
    .bind(at)
    .fetch_optional(conn)
    .await
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ScheduleRow>> {
    sqlx::query_as(&format!("select {COLUMNS} from {FROM} where s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The schedule, locked until the end of the transaction (decisions serialise on it).
pub async fn get_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ScheduleRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where s.id = $1 for update of s"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Newest first (by creation), optionally only one status; with the total.
pub async fn list(
    conn: &mut PgConnection,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<ScheduleRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where ($1::text is null or s.status = $1) \
         order by s.created_at desc, s.id desc limit $2 offset $3"
    ))
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(
        "select count(*) from fee_schedules where ($1::text is null or status = $1)",
    )
    .bind(status)
    .fetch_one(conn)
    .await?;
    Ok((rows, total))
}

/// Approved schedules by the moment they take effect, latest first.
pub async fn approved(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<ScheduleRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from {FROM} where s.status = 'approved' \
         order by s.effective_at desc, s.decided_at desc limit $1"
    ))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Tells every server process, at the commit, that the approved schedules changed
/// (`service::fees::cache`).
pub async fn notify_changed(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("select pg_notify('fee_schedules', '')")
        .execute(conn)
        .await?;
    Ok(())
}

pub struct NewSchedule<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub effective_from: Option<DateTime<Utc>>,
    pub schedule: &'a FeeSchedule,
    pub created_by: Uuid,
    pub created_by_exchange: &'a str,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_draft(conn: &mut PgConnection, s: NewSchedule<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into fee_schedules (id, name, status, effective_from, buyer, seller, created_by, \
         created_by_exchange, created_at) values ($1, $2, 'draft', $3, $4, $5, $6, $7, $8)",
    )
    .bind(s.id)
    .bind(s.name)
    .bind(s.effective_from)
    .bind(Json(&s.schedule.buyer))
    .bind(Json(&s.schedule.seller))
    .bind(s.created_by)
    .bind(s.created_by_exchange)
    .bind(s.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Draft → approved, in force from `effective_at`, under its public name.
pub async fn approve(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
    effective_at: DateTime<Utc>,
    public_name: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update fee_schedules set status = 'approved', effective_at = $3, decided_by = $2, decided_at = $4, \
         public_name = $5 where id = $1 and status = 'draft'",
    )
    .bind(id)
    .bind(by)
    .bind(effective_at)
    .bind(at)
    .bind(public_name)
    .execute(conn)
    .await?;
    Ok(())
}

/// Draft → rejected.
pub async fn reject(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    at: DateTime<Utc>,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update fee_schedules set status = 'rejected', decided_by = $2, decided_at = $3, reject_reason = $4 \
         where id = $1 and status = 'draft'",
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a simulation needs of a trade.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TradeForSimulation {
    pub price_fen: i64,
    pub seller_exchange: String,
    pub buyer_exchange: String,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
}

/// Every trade recorded so far except cancelled ones.
pub async fn trades_for_simulation(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<TradeForSimulation>> {
    sqlx::query_as(
        "select price_fen, seller_exchange, buyer_exchange, buyer_fee_fen, seller_fee_fen \
         from trades where status <> 'cancelled'",
    )
    .fetch_all(conn)
    .await
}

/// The audit rows of one schedule, oldest first.
pub async fn audit_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Vec<crate::db::audit::AuditRow>> {
    sqlx::query_as(
        "select id, at, actor, action, target_type, target_id, before, after from audit_log \
         where target_type = 'fee_schedule' and target_id = $1 order by id",
    )
    .bind(id.to_string())
    .fetch_all(conn)
    .await
}
