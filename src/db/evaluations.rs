//! SQL for: expert evaluations of listings (科技成果评价) — panels, their sealed scores, closing
//! (by the last answer or by the due-date job, `FOR UPDATE SKIP LOCKED`) and published reports.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvaluationRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub listing_field: String,
    pub owner_organization_id: Uuid,
    /// `in_progress` | `published` | `failed`
    pub status: String,
    pub due_at: DateTime<Utc>,
    pub exchange: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub report: Option<serde_json::Value>,
}

const COLS: &str = "v.id, v.listing_id, l.title as listing_title, l.field as listing_field, \
    l.organization_id as owner_organization_id, v.status, v.due_at, v.exchange, v.created_at, v.closed_at, v.report";
const FROM: &str = "evaluations v join listings l on l.id = v.listing_id";

pub struct NewEvaluation {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub due_at: DateTime<Utc>,
    pub exchange: String,
    pub opened_by: Option<Uuid>,
    pub now: DateTime<Utc>,
}

/// Inserts an evaluation and its panel (`invited`, in the order given). False when the listing
/// already has one in progress (nothing is written).
pub async fn insert(
    conn: &mut PgConnection,
    e: &NewEvaluation,
    experts: &[Uuid],
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "insert into evaluations (id, listing_id, status, due_at, exchange, opened_by, created_at) \
         values ($1, $2, 'in_progress', $3, $4, $5, $6) \
         on conflict (listing_id) where status = 'in_progress' do nothing",
    )
    .bind(e.id)
    .bind(e.listing_id)
    .bind(e.due_at)
    .bind(&e.exchange)
    .bind(e.opened_by)
    .bind(e.now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    sqlx::query(
        "insert into evaluation_members (evaluation_id, expert_id, position, status) \
         select $1, x.expert_id, x.n::smallint, 'invited' from unnest($2::uuid[]) with ordinality as x(expert_id, n)",
    )
    .bind(e.id)
    .bind(experts)
    .execute(conn)
    .await?;
    Ok(true)
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<EvaluationRow>> {
    sqlx::query_as(&format!("select {COLS} from {FROM} where v.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The evaluation, its row locked: every answer and the close take it first.
pub async fn get_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<EvaluationRow>> {
    sqlx::query_as(&format!(
        "select {COLS} from {FROM} where v.id = $1 for update of v"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A listing's evaluations, newest first.
pub async fn for_listing(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Vec<EvaluationRow>> {
    sqlx::query_as(&format!(
        "select {COLS} from {FROM} where v.listing_id = $1 order by v.created_at desc, v.id desc"
    ))
    .bind(listing_id)
    .fetch_all(conn)
    .await
}

/// The listing's latest published evaluation.
pub async fn latest_published(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Option<EvaluationRow>> {
    sqlx::query_as(&format!(
        "select {COLS} from {FROM} where v.listing_id = $1 and v.status = 'published' \
         order by v.closed_at desc, v.id desc limit 1"
    ))
    .bind(listing_id)
    .fetch_optional(conn)
    .await
}

/// The evaluations whose panel the user sits on, newest first.
pub async fn for_expert_user(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> sqlx::Result<Vec<EvaluationRow>> {
    sqlx::query_as(&format!(
        "select {COLS} from {FROM} join evaluation_members m on m.evaluation_id = v.id \
         join experts e on e.id = m.expert_id where e.user_id = $1 order by v.created_at desc, v.id desc limit 200"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub expert_id: Uuid,
    pub user_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub name: String,
    pub title: String,
    pub position: i16,
    /// `invited` | `declined` | `scored`
    pub status: String,
    pub maturity_trl: Option<i16>,
    pub innovation: Option<i16>,
    pub advancement: Option<i16>,
    pub market: Option<i16>,
    pub comment: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// The panel of an evaluation, in the order it was chosen.
pub async fn members(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<MemberRow>> {
    sqlx::query_as(
        "select m.expert_id, e.user_id, u.organization_id, u.display_name as name, e.title, m.position, m.status, \
                m.maturity_trl, m.innovation, m.advancement, m.market, m.comment, m.answered_at \
         from evaluation_members m join experts e on e.id = m.expert_id join users u on u.id = e.user_id \
         where m.evaluation_id = $1 order by m.position",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Records an invited member's scores; false when the member had already answered.
pub async fn set_scores(
    conn: &mut PgConnection,
    id: Uuid,
    expert_id: Uuid,
    s: [i16; 4],
    comment: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update evaluation_members set status = 'scored', maturity_trl = $3, innovation = $4, advancement = $5, \
         market = $6, comment = $7, answered_at = $8 \
         where evaluation_id = $1 and expert_id = $2 and status = 'invited'",
    )
    .bind(id)
    .bind(expert_id)
    .bind(s[0])
    .bind(s[1])
    .bind(s[2])
    .bind(s[3])
    .bind(comment)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// An invited member declines; false when the member had already answered.
pub async fn set_declined(
    conn: &mut PgConnection,
    id: Uuid,
    expert_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update evaluation_members set status = 'declined', answered_at = $3 \
         where evaluation_id = $1 and expert_id = $2 and status = 'invited'",
    )
    .bind(id)
    .bind(expert_id)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Closes an evaluation that is still in progress: `published` with its report, or `failed`.
/// False when it was closed already.
pub async fn close(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    report: Option<&serde_json::Value>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update evaluations set status = $2, report = $3, closed_at = $4 where id = $1 and status = 'in_progress'",
    )
    .bind(id)
    .bind(status)
    .bind(report)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Up to `limit` evaluations in progress whose due date has passed, locked; those another
/// process holds are skipped (it is closing them).
pub async fn due_for_update(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select id from evaluations where status = 'in_progress' and due_at <= $1 \
         order by due_at, id limit $2 for update skip locked",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}
