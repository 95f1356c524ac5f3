//! Files kept for something — a listing's documents, a delivery's attachments — by one store,
//! keyed by the kind of file (`db::files::FileKind`): PDFs and images judged by their content
//! (≤ 10 MiB), recorded with their SHA-256, their bytes in a [`FileStore`]: PostgreSQL by default,
//! or a directory (`TECHMARKET_DOCUMENTS_DIR`); an object store would be one more implementation.
//! Who may add, see or remove which files is decided by the rooms that keep them
//! (`service::documents`, `service::settlement::attachments`), not here.

use std::future::Future;
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::files::{FileRow, NewFile};
use crate::domain::documents;
use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};
use crate::service::AppState;

pub use crate::db::files::FileKind;

/// Where files' bytes are kept. `put` runs inside the transaction that records the file, so a
/// store that can join it (PostgreSQL) commits or rolls back with it; one that cannot writes
/// before the commit (an aborted upload leaves an unreferenced file, never a missing one).
pub trait FileStore {
    /// The `storage` code recorded with each file.
    fn code(&self) -> &'static str;
    fn put(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
        data: &[u8],
    ) -> impl Future<Output = Result<()>> + Send;
    fn get(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send;
    /// Forgets the bytes of a file whose row was deleted and committed. A store inside the
    /// database lost them with the row (same transaction); one outside removes them now (a crash
    /// in between leaves an unreferenced file, never a row without its bytes).
    fn discard(&self, id: Uuid) -> impl Future<Output = Result<()>> + Send;
}

/// Bytes in the kind's table of PostgreSQL (`listing_document_blobs`, `delivery_attachment_blobs`).
pub struct PostgresStore {
    pub kind: FileKind,
}

impl FileStore for PostgresStore {
    fn code(&self) -> &'static str {
        "postgres"
    }
    async fn put(&self, conn: &mut PgConnection, id: Uuid, data: &[u8]) -> Result<()> {
        db::files::put_blob(conn, self.kind, id, data).await?;
        Ok(())
    }
    async fn get(&self, conn: &mut PgConnection, id: Uuid) -> Result<Vec<u8>> {
        db::files::get_blob(conn, self.kind, id)
            .await?
            .ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("{} {id} has no bytes", self.kind.noun()))
            })
    }
    async fn discard(&self, _id: Uuid) -> Result<()> {
        Ok(())
    }
}

/// One file per stored file, named by its id (unique across kinds), in a directory.
pub struct DirectoryStore {
    pub dir: PathBuf,
}

impl FileStore for DirectoryStore {
    fn code(&self) -> &'static str {
        "directory"
    }
    async fn put(&self, _conn: &mut PgConnection, id: Uuid, data: &[u8]) -> Result<()> {
        let (dir, data) = (self.dir.clone(), data.to_vec());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            // Written under a temporary name, then renamed: a reader never sees half a file.
            let tmp = dir.join(format!("{id}.part"));
            std::fs::write(&tmp, &data)?;
            std::fs::rename(&tmp, dir.join(id.to_string()))
        })
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("writing file {id}: {e}")))
    }
    async fn get(&self, _conn: &mut PgConnection, id: Uuid) -> Result<Vec<u8>> {
        let path = self.dir.join(id.to_string());
        tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| Error::Internal(e.into()))?
            .map_err(|e| Error::Internal(anyhow::anyhow!("reading file {id}: {e}")))
    }
    async fn discard(&self, id: Uuid) -> Result<()> {
        let path = self.dir.join(id.to_string());
        match tokio::task::spawn_blocking(move || std::fs::remove_file(path))
            .await
            .map_err(|e| Error::Internal(e.into()))?
        {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::Internal(anyhow::anyhow!("removing file {id}: {e}")))
            }
            _ => Ok(()),
        }
    }
}

/// The store chosen by configuration (new files), or the one a file was stored in.
pub enum Store {
    Postgres(PostgresStore),
    Directory(DirectoryStore),
}

impl Store {
    pub fn configured(state: &AppState, kind: FileKind) -> Store {
        match &state.config.documents_dir {
            Some(dir) => Store::Directory(DirectoryStore { dir: dir.into() }),
            None => Store::Postgres(PostgresStore { kind }),
        }
    }
    pub fn of(state: &AppState, kind: FileKind, row: &FileRow) -> Result<Store> {
        match (row.storage.as_str(), &state.config.documents_dir) {
            ("postgres", _) => Ok(Store::Postgres(PostgresStore { kind })),
            ("directory", Some(dir)) => Ok(Store::Directory(DirectoryStore { dir: dir.into() })),
            (other, _) => Err(Error::Internal(anyhow::anyhow!(
                "{} {} is in storage {other:?}, which is not configured",
                kind.noun(),
                row.id
            ))),
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Store::Postgres(s) => s.code(),
            Store::Directory(s) => s.code(),
        }
    }
    async fn put(&self, conn: &mut PgConnection, id: Uuid, data: &[u8]) -> Result<()> {
        match self {
            Store::Postgres(s) => s.put(conn, id, data).await,
            Store::Directory(s) => s.put(conn, id, data).await,
        }
    }
    async fn get(&self, conn: &mut PgConnection, id: Uuid) -> Result<Vec<u8>> {
        match self {
            Store::Postgres(s) => s.get(conn, id).await,
            Store::Directory(s) => s.get(conn, id).await,
        }
    }
    pub async fn discard(&self, id: Uuid) -> Result<()> {
        match self {
            Store::Postgres(s) => s.discard(id).await,
            Store::Directory(s) => s.discard(id).await,
        }
    }
}

/// A stored file as API.md shows a document (and a download sends it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: Uuid,
    pub name: String,
    /// `application/pdf` | `image/png` | `image/jpeg`
    pub content_type: String,
    pub size: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

impl DocumentView {
    /// `12 KB` (the same in both languages).
    pub fn size_label(&self) -> String {
        format!("{} KB", (self.size + 1023) / 1024)
    }
}

impl From<&FileRow> for DocumentView {
    fn from(d: &FileRow) -> Self {
        DocumentView {
            id: d.id,
            name: d.name.clone(),
            content_type: d.content_type.clone(),
            size: d.size,
            sha256: hex::encode(&d.sha256),
        }
    }
}

/// A 422 on the field `file` with this message.
pub fn invalid_file(key: &'static str) -> Error {
    let mut f = FieldErrors::default();
    f.push("file", key, vec![]);
    Error::Validation(f)
}

/// A file someone adds to a listing or trade (`owner_id`), as received.
pub struct Upload<'a> {
    pub owner_id: Uuid,
    pub created_by: Uuid,
    pub name: &'a str,
    pub data: &'a [u8],
}

/// Adds a file whose room has locked the owner's row (so the count holds) and decided that the
/// uploader may: 422 when empty or not a PDF, PNG or JPEG by content, 409 `too_many` once the
/// owner has `max`; then recorded and its bytes stored in the caller's transaction.
pub async fn add(
    conn: &mut PgConnection,
    state: &AppState,
    kind: FileKind,
    (max, too_many): (i64, &'static str),
    up: &Upload<'_>,
) -> Result<DocumentView> {
    if up.data.is_empty() {
        return Err(invalid_file("err.document.empty"));
    }
    let sniffed = documents::sniff(up.data).ok_or_else(|| invalid_file("err.document.type"))?;
    if db::files::count(conn, kind, up.owner_id).await? >= max {
        return Err(Error::conflict(too_many));
    }
    let id = Uuid::now_v7();
    let name = documents::file_name(up.name, sniffed);
    let sha = Sha256::digest(up.data).to_vec();
    let store = Store::configured(state, kind);
    let size = up.data.len() as i64;
    db::files::insert(
        conn,
        kind,
        &NewFile {
            id,
            owner_id: up.owner_id,
            name: &name,
            content_type: sniffed.content_type(),
            size,
            sha256: &sha,
            storage: store.code(),
            created_by: up.created_by,
        },
    )
    .await?;
    store.put(conn, id, up.data).await?;
    Ok(DocumentView {
        id,
        name,
        content_type: sniffed.content_type().to_string(),
        size,
        sha256: hex::encode(sha),
    })
}

/// One file's metadata and bytes, for a caller its room has let see the owner's files; 404 when
/// the owner has no such file.
pub async fn read(
    conn: &mut PgConnection,
    state: &AppState,
    kind: FileKind,
    owner_id: Uuid,
    id: Uuid,
) -> Result<(DocumentView, Vec<u8>)> {
    let row = db::files::get(conn, kind, owner_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let data = Store::of(state, kind, &row)?.get(conn, id).await?;
    Ok((DocumentView::from(&row), data))
}
