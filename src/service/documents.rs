//! Listing documents: owners attach PDFs and images (judged by content, ≤ 10 MiB, ≤ 10 per listing)
//! while the listing is a draft or rejected; reviewers see them; everyone sees them once the listing
//! is approved. The bytes go to a [`DocumentStore`]: PostgreSQL by default, or a directory
//! (`TECHMARKET_DOCUMENTS_DIR`); an object store would be one more implementation.

use std::future::Future;
use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::documents::DocumentRow;
use crate::domain::documents::{self, Kind};
use crate::domain::error::FieldErrors;
use crate::domain::listing::ListingStatus;
use crate::error::{Error, Result};
use crate::service::AppState;

/// Where documents' bytes are kept. `put` runs inside the transaction that records the document,
/// so a store that can join it (PostgreSQL) commits or rolls back with it; one that cannot writes
/// before the commit (an aborted upload leaves an unreferenced file, never a missing one).
pub trait DocumentStore {
    /// The `storage` code recorded with each document.
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
    /// Forgets the bytes of a document whose row was deleted and committed. A store inside the
    /// database lost them with the row (same transaction); one outside removes them now (a crash
    /// in between leaves an unreferenced file, never a row without its bytes).
    fn discard(&self, id: Uuid) -> impl Future<Output = Result<()>> + Send;
}

/// Bytes in the table `listing_document_blobs`.
pub struct PostgresStore;

impl DocumentStore for PostgresStore {
    fn code(&self) -> &'static str {
        "postgres"
    }
    async fn put(&self, conn: &mut PgConnection, id: Uuid, data: &[u8]) -> Result<()> {
        db::documents::put_blob(conn, id, data).await?;
        Ok(())
    }
    async fn get(&self, conn: &mut PgConnection, id: Uuid) -> Result<Vec<u8>> {
        db::documents::get_blob(conn, id)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("document {id} has no bytes")))
    }
    async fn discard(&self, _id: Uuid) -> Result<()> {
        Ok(())
    }
}

/// One file per document, named by its id, in a directory.
pub struct DirectoryStore {
    pub dir: PathBuf,
}

impl DocumentStore for DirectoryStore {
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
        .map_err(|e| Error::Internal(anyhow::anyhow!("writing document {id}: {e}")))
    }
    async fn get(&self, _conn: &mut PgConnection, id: Uuid) -> Result<Vec<u8>> {
        let path = self.dir.join(id.to_string());
        tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| Error::Internal(e.into()))?
            .map_err(|e| Error::Internal(anyhow::anyhow!("reading document {id}: {e}")))
    }
    async fn discard(&self, id: Uuid) -> Result<()> {
        let path = self.dir.join(id.to_string());
        match tokio::task::spawn_blocking(move || std::fs::remove_file(path))
            .await
            .map_err(|e| Error::Internal(e.into()))?
        {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Internal(
                anyhow::anyhow!("removing document {id}: {e}"),
            )),
            _ => Ok(()),
        }
    }
}

/// The store chosen by configuration (new documents), or the one a document was stored in.
pub enum Store {
    Postgres(PostgresStore),
    Directory(DirectoryStore),
}

impl Store {
    pub fn configured(state: &AppState) -> Store {
        match &state.config.documents_dir {
            Some(dir) => Store::Directory(DirectoryStore { dir: dir.into() }),
            None => Store::Postgres(PostgresStore),
        }
    }
    fn of(state: &AppState, row: &DocumentRow) -> Result<Store> {
        match (row.storage.as_str(), &state.config.documents_dir) {
            ("postgres", _) => Ok(Store::Postgres(PostgresStore)),
            ("directory", Some(dir)) => Ok(Store::Directory(DirectoryStore { dir: dir.into() })),
            (other, _) => Err(Error::Internal(anyhow::anyhow!(
                "document {} is in storage {other:?}, which is not configured",
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
    async fn discard(&self, id: Uuid) -> Result<()> {
        match self {
            Store::Postgres(s) => s.discard(id).await,
            Store::Directory(s) => s.discard(id).await,
        }
    }
}

/// A document as API.md shows it.
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

impl From<&DocumentRow> for DocumentView {
    fn from(d: &DocumentRow) -> Self {
        DocumentView {
            id: d.id,
            name: d.name.clone(),
            content_type: d.content_type.clone(),
            size: d.size,
            sha256: hex::encode(&d.sha256),
        }
    }
}

fn invalid_file(key: &'static str) -> Error {
    let mut f = FieldErrors::default();
    f.push("file", key, vec![]);
    Error::Validation(f)
}

/// Attaches a document to a listing (its owner, while draft or rejected).
pub async fn upload(
    state: &AppState,
    user: &CurrentUser,
    listing_id: Uuid,
    name: &str,
    data: &[u8],
) -> Result<DocumentView> {
    if data.len() > documents::MAX_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    if data.is_empty() {
        return Err(invalid_file("err.document.empty"));
    }
    let mut tx = state.pool.begin().await?;
    // The listing's row lock also serialises uploads to it (the count below holds).
    lock_editable(&mut tx, user, listing_id).await?;
    let kind = documents::sniff(data).ok_or_else(|| invalid_file("err.document.type"))?;
    if db::documents::count(&mut tx, listing_id).await? >= documents::MAX_PER_LISTING {
        return Err(Error::conflict("too_many_documents"));
    }
    let id = Uuid::now_v7();
    let name = documents::file_name(name, kind);
    let sha = Sha256::digest(data).to_vec();
    let store = Store::configured(state);
    db::documents::insert(
        &mut tx,
        &db::documents::NewDocument {
            id,
            listing_id,
            name: &name,
            content_type: kind.content_type(),
            size: data.len() as i64,
            sha256: &sha,
            storage: store.code(),
            created_by: user.id,
        },
    )
    .await?;
    store.put(&mut tx, id, data).await?;
    tx.commit().await?;
    Ok(DocumentView {
        id,
        name,
        content_type: kind.content_type().to_string(),
        size: data.len() as i64,
        sha256: hex::encode(sha),
    })
}

/// Locks a listing whose documents `user` may change: its organisation's, while draft or rejected
/// (404 to whoever may not see it, 403 to others who may, 409 once submitted).
async fn lock_editable(
    conn: &mut PgConnection,
    user: &CurrentUser,
    listing_id: Uuid,
) -> Result<()> {
    let row = db::listings::get_for_update(conn, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    if user.organization_id != Some(row.organization_id) {
        return Err(if crate::service::listings::can_see(Some(user), &row) {
            Error::Forbidden("not_listing_owner")
        } else {
            Error::NotFound
        });
    }
    if !ListingStatus::parse(&row.status).is_some_and(|s| s.can_edit()) {
        return Err(Error::conflict("listing_not_editable"));
    }
    Ok(())
}

/// Removes a document from a listing (its owner, while draft or rejected, as for attaching).
pub async fn remove(
    state: &AppState,
    user: &CurrentUser,
    listing_id: Uuid,
    id: Uuid,
) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    lock_editable(&mut tx, user, listing_id).await?;
    let row = db::documents::get(&mut tx, listing_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    db::documents::delete(&mut tx, listing_id, id).await?;
    tx.commit().await?;
    if let Err(e) = Store::of(state, &row)?.discard(id).await {
        // The document is gone for everyone; only a file is left behind.
        tracing::warn!(error = ?e, "document removed but its file stays");
    }
    Ok(())
}

/// How many documents each of these listings has, for the review queue: administrators only
/// (anyone else gets an empty map); listings without documents are absent.
pub async fn counts(
    pool: &PgPool,
    viewer: &CurrentUser,
    listing_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, i64>> {
    if !viewer.is_admin() {
        return Ok(Default::default());
    }
    let mut conn = pool.acquire().await?;
    Ok(db::documents::counts(&mut conn, listing_ids)
        .await?
        .into_iter()
        .collect())
}

/// May `viewer` see the documents of this listing? Its owner and admins always; everyone once the
/// listing has been approved (listed or sold).
async fn visible(
    conn: &mut PgConnection,
    viewer: Option<&CurrentUser>,
    listing_id: Uuid,
) -> Result<bool> {
    let Some(row) = db::listings::get(conn, listing_id).await? else {
        return Ok(false);
    };
    let insider =
        viewer.is_some_and(|u| u.is_admin() || u.organization_id == Some(row.organization_id));
    Ok(insider || matches!(row.status.as_str(), "listed" | "sold"))
}

/// A listing's documents as `viewer` may see them (none before approval, but to insiders).
pub async fn list(
    pool: &PgPool,
    viewer: Option<&CurrentUser>,
    listing_id: Uuid,
) -> Result<Vec<DocumentView>> {
    let mut conn = pool.acquire().await?;
    if !visible(&mut conn, viewer, listing_id).await? {
        return Ok(Vec::new());
    }
    Ok(db::documents::list(&mut conn, listing_id)
        .await?
        .iter()
        .map(DocumentView::from)
        .collect())
}

/// One document's metadata and bytes; 404 to whoever may not see it.
pub async fn download(
    state: &AppState,
    viewer: Option<&CurrentUser>,
    listing_id: Uuid,
    id: Uuid,
) -> Result<(DocumentView, Vec<u8>)> {
    let mut conn = state.pool.acquire().await?;
    if !visible(&mut conn, viewer, listing_id).await? {
        return Err(Error::NotFound);
    }
    let row = db::documents::get(&mut conn, listing_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let data = Store::of(state, &row)?.get(&mut conn, id).await?;
    Ok((DocumentView::from(&row), data))
}

/// The content type to send: only the three kinds stored, anything else as bytes.
pub fn safe_content_type(d: &DocumentView) -> &'static str {
    Kind::parse(&d.content_type)
        .map(Kind::content_type)
        .unwrap_or("application/octet-stream")
}
