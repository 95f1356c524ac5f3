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
    s.decided_at, s.reject_reason, s.created_at";
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
