//! Listing documents: their metadata, and their bytes when stored in PostgreSQL.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: Vec<u8>,
    pub storage: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, listing_id, name, content_type, size, sha256, storage, created_at";

pub struct NewDocument<'a> {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a [u8],
    pub storage: &'a str,
    pub created_by: Uuid,
}

pub async fn count(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from listing_documents where listing_id = $1")
        .bind(listing_id)
        .fetch_one(conn)
        .await
}

pub async fn insert(conn: &mut PgConnection, d: &NewDocument<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into listing_documents (id, listing_id, name, content_type, size, sha256, storage, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(d.id)
    .bind(d.listing_id)
    .bind(d.name)
    .bind(d.content_type)
    .bind(d.size)
    .bind(d.sha256)
    .bind(d.storage)
    .bind(d.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<Vec<DocumentRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from listing_documents where listing_id = $1 order by created_at, id"
    ))
    .bind(listing_id)
    .fetch_all(conn)
    .await
}

pub async fn get(
    conn: &mut PgConnection,
    listing_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DocumentRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from listing_documents where listing_id = $1 and id = $2"
    ))
    .bind(listing_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn put_blob(conn: &mut PgConnection, id: Uuid, data: &[u8]) -> sqlx::Result<()> {
    sqlx::query("insert into listing_document_blobs (document_id, data) values ($1, $2)")
        .bind(id)
        .bind(data)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get_blob(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("select data from listing_document_blobs where document_id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Deletes a document's row and, when kept in PostgreSQL, its bytes; `false` when it was not there.
pub async fn delete(conn: &mut PgConnection, listing_id: Uuid, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query(
        "delete from listing_document_blobs where document_id = \
         (select id from listing_documents where listing_id = $1 and id = $2)",
    )
    .bind(listing_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query("delete from listing_documents where listing_id = $1 and id = $2")
        .bind(listing_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How many documents each of these listings has (listings without any are absent).
pub async fn counts(
    conn: &mut PgConnection,
    listing_ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    sqlx::query_as(
        "select listing_id, count(*) from listing_documents where listing_id = any($1) \
         group by listing_id",
    )
    .bind(listing_ids)
    .fetch_all(conn)
    .await
}
