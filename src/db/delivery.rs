//! SQL for delivery and acceptance: recording delivery, the acceptance period, the trades whose
//! period has ended.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The acceptance period (days) of an exchange.
pub async fn acceptance_days(conn: &mut PgConnection, exchange: &str) -> sqlx::Result<i32> {
    let days: Option<i32> =
        sqlx::query_scalar("select acceptance_days from exchanges where code = $1")
            .bind(exchange)
            .fetch_optional(conn)
            .await?;
    Ok(days.unwrap_or(15))
}

pub async fn set_delivered(
    conn: &mut PgConnection,
    id: Uuid,
    note: &str,
    at: DateTime<Utc>,
    acceptance_due_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update trades set status = 'delivered', delivered_at = $2, delivery_note = $3, \
         acceptance_due_at = $4 where id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(note)
    .bind(acceptance_due_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One delivered trade whose acceptance period ended by `now`, locked; rows another process holds
/// are skipped, so each is settled once.
pub async fn lock_accepted(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select id from trades where status = 'delivered' and acceptance_due_at <= $1 \
         order by acceptance_due_at limit 1 for update skip locked",
    )
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// A delivery attachment's metadata (the bytes are in `delivery_attachment_blobs` or a file).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub trade_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: Vec<u8>,
    pub storage: String,
    pub created_at: DateTime<Utc>,
}

const ATTACHMENT_COLUMNS: &str =
    "id, trade_id, name, content_type, size, sha256, storage, created_at";

pub struct NewAttachment<'a> {
    pub id: Uuid,
    pub trade_id: Uuid,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a [u8],
    pub storage: &'a str,
    pub created_by: Uuid,
}

pub async fn count_attachments(conn: &mut PgConnection, trade_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from delivery_attachments where trade_id = $1")
        .bind(trade_id)
        .fetch_one(conn)
        .await
}

pub async fn insert_attachment(conn: &mut PgConnection, a: &NewAttachment<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into delivery_attachments (id, trade_id, name, content_type, size, sha256, storage, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.id)
    .bind(a.trade_id)
    .bind(a.name)
    .bind(a.content_type)
    .bind(a.size)
    .bind(a.sha256)
    .bind(a.storage)
    .bind(a.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_attachments(
    conn: &mut PgConnection,
    trade_id: Uuid,
) -> sqlx::Result<Vec<AttachmentRow>> {
    sqlx::query_as(&format!(
        "select {ATTACHMENT_COLUMNS} from delivery_attachments where trade_id = $1 \
         order by created_at, id"
    ))
    .bind(trade_id)
    .fetch_all(conn)
    .await
}

pub async fn get_attachment(
    conn: &mut PgConnection,
    trade_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<AttachmentRow>> {
    sqlx::query_as(&format!(
        "select {ATTACHMENT_COLUMNS} from delivery_attachments where trade_id = $1 and id = $2"
    ))
    .bind(trade_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn put_attachment_blob(
    conn: &mut PgConnection,
    id: Uuid,
    data: &[u8],
) -> sqlx::Result<()> {
    sqlx::query("insert into delivery_attachment_blobs (attachment_id, data) values ($1, $2)")
        .bind(id)
        .bind(data)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get_attachment_blob(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("select data from delivery_attachment_blobs where attachment_id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}
