//! SQL for the files kept for something (a listing's documents, a delivery's attachments): their
//! metadata, and their bytes when stored in PostgreSQL. One set of statements for every kind of
//! file; the kind names its tables (fixed names, never input).
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// What a file is kept for, and so where it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `listing_documents` of a listing (bytes in `listing_document_blobs`).
    ListingDocument,
    /// `delivery_attachments` of a trade (bytes in `delivery_attachment_blobs`).
    DeliveryAttachment,
}

/// The tables of a kind: the metadata's, its owner column, the bytes', their key column.
struct Tables {
    files: &'static str,
    owner: &'static str,
    blobs: &'static str,
    key: &'static str,
}

impl FileKind {
    fn tables(self) -> Tables {
        match self {
            FileKind::ListingDocument => Tables {
                files: "listing_documents",
                owner: "listing_id",
                blobs: "listing_document_blobs",
                key: "document_id",
            },
            FileKind::DeliveryAttachment => Tables {
                files: "delivery_attachments",
                owner: "trade_id",
                blobs: "delivery_attachment_blobs",
                key: "attachment_id",
            },
        }
    }

    /// What one is called in logs and internal errors.
    pub fn noun(self) -> &'static str {
        match self {
            FileKind::ListingDocument => "document",
            FileKind::DeliveryAttachment => "attachment",
        }
    }
}

/// A file's metadata; `owner_id` is the listing's or the trade's id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: Vec<u8>,
    pub storage: String,
    pub created_at: DateTime<Utc>,
}

pub struct NewFile<'a> {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a [u8],
    pub storage: &'a str,
    pub created_by: Uuid,
}

fn select(kind: FileKind) -> String {
    let t = kind.tables();
    format!(
        "select id, {owner} as owner_id, name, content_type, size, sha256, storage, created_at \
         from {files} where {owner} = $1",
        owner = t.owner,
        files = t.files
    )
}

pub async fn count(conn: &mut PgConnection, kind: FileKind, owner_id: Uuid) -> sqlx::Result<i64> {
    let t = kind.tables();
    sqlx::query_scalar(&format!(
        "select count(*) from {} where {} = $1",
        t.files, t.owner
    ))
    .bind(owner_id)
    .fetch_one(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, kind: FileKind, f: &NewFile<'_>) -> sqlx::Result<()> {
    let t = kind.tables();
    sqlx::query(&format!(
        "insert into {} (id, {}, name, content_type, size, sha256, storage, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        t.files, t.owner
    ))
    .bind(f.id)
    .bind(f.owner_id)
    .bind(f.name)
    .bind(f.content_type)
    .bind(f.size)
    .bind(f.sha256)
    .bind(f.storage)
    .bind(f.created_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The files of one listing or trade, oldest first.
pub async fn list(
    conn: &mut PgConnection,
    kind: FileKind,
    owner_id: Uuid,
) -> sqlx::Result<Vec<FileRow>> {
    sqlx::query_as(&format!("{} order by created_at, id", select(kind)))
        .bind(owner_id)
        .fetch_all(conn)
        .await
}

pub async fn get(
    conn: &mut PgConnection,
    kind: FileKind,
    owner_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<FileRow>> {
    sqlx::query_as(&format!("{} and id = $2", select(kind)))
        .bind(owner_id)
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn put_blob(
    conn: &mut PgConnection,
    kind: FileKind,
    id: Uuid,
    data: &[u8],
) -> sqlx::Result<()> {
    let t = kind.tables();
    sqlx::query(&format!(
        "insert into {} ({}, data) values ($1, $2)",
        t.blobs, t.key
    ))
    .bind(id)
    .bind(data)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_blob(
    conn: &mut PgConnection,
    kind: FileKind,
    id: Uuid,
) -> sqlx::Result<Option<Vec<u8>>> {
    let t = kind.tables();
    sqlx::query_scalar(&format!(
        "select data from {} where {} = $1",
        t.blobs, t.key
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Deletes a file's row and, when kept in PostgreSQL, its bytes; `false` when it was not there.
pub async fn delete(
    conn: &mut PgConnection,
    kind: FileKind,
    owner_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let t = kind.tables();
    sqlx::query(&format!(
        "delete from {blobs} where {key} = (select id from {files} where {owner} = $1 and id = $2)",
        blobs = t.blobs,
        key = t.key,
        files = t.files,
        owner = t.owner
    ))
    .bind(owner_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let done = sqlx::query(&format!(
        "delete from {} where {} = $1 and id = $2",
        t.files, t.owner
    ))
    .bind(owner_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many files each of these listings or trades has (those without any are absent).
pub async fn counts(
    conn: &mut PgConnection,
    kind: FileKind,
    owner_ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, i64)>> {
    let t = kind.tables();
    sqlx::query_as(&format!(
        "select {owner}, count(*) from {files} where {owner} = any($1) group by {owner}",
        owner = t.owner,
        files = t.files
    ))
    .bind(owner_ids)
    .fetch_all(conn)
    .await
}
