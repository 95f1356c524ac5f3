//! Delivery attachments: the seller adds files to its delivery (PDF, PNG or JPEG by content,
//! ≤ 10 MiB, ≤ 10 per trade, the checks of listing documents) while the trade is paid or
//! delivered; the parties and the admins of both parties' exchanges see and download them (404 to
//! everyone else). The bytes go through the documents' [`DocumentStore`] interface: a table of
//! their own in PostgreSQL, or the documents directory.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::delivery::{AttachmentRow, NewAttachment};
use crate::db::settlement as sdb;
use crate::domain::documents;
use crate::domain::error::FieldErrors;
use crate::domain::listing::TradeStatus;
use crate::error::{Error, Result};
use crate::service::documents::{DirectoryStore, DocumentStore, DocumentView};
use crate::service::AppState;

use super::{invalid_state, party_of, Party};

/// Most attachments per trade.
pub const MAX_ATTACHMENTS: i64 = 10;

/// An attachment as the trade JSON lists it (`delivery_attachments`) and the upload returns.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    pub name: String,
    /// `application/pdf` | `image/png` | `image/jpeg`
    pub content_type: String,
    pub size_bytes: i64,
    /// Where it is downloaded (`GET`, the parties and the admins of their exchanges).
    pub url: String,
}

impl AttachmentView {
    /// `12 KB` (the same in both languages).
    pub fn size_label(&self) -> String {
        format!("{} KB", (self.size_bytes + 1023) / 1024)
    }
}

impl From<&AttachmentRow> for AttachmentView {
    fn from(a: &AttachmentRow) -> Self {
        AttachmentView {
            id: a.id,
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size_bytes: a.size,
            url: format!(
                "/api/v1/trades/{}/delivery/attachments/{}",
                a.trade_id, a.id
            ),
        }
    }
}

/// Bytes in the table `delivery_attachment_blobs`.
struct AttachmentBlobs;

impl DocumentStore for AttachmentBlobs {
    fn code(&self) -> &'static str {
        "postgres"
    }
    async fn put(&self, conn: &mut PgConnection, id: Uuid, data: &[u8]) -> Result<()> {
        db::delivery::put_attachment_blob(conn, id, data).await?;
        Ok(())
    }
    async fn get(&self, conn: &mut PgConnection, id: Uuid) -> Result<Vec<u8>> {
        db::delivery::get_attachment_blob(conn, id)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("attachment {id} has no bytes")))
    }
    async fn discard(&self, _id: Uuid) -> Result<()> {
        Ok(())
    }
}

/// The store for new attachments (configured) or the one an attachment was stored in.
enum Store {
    Postgres(AttachmentBlobs),
    Directory(DirectoryStore),
}

impl Store {
    fn of(state: &AppState, code: &str) -> Result<Store> {
        match (code, &state.config.documents_dir) {
            ("postgres", _) => Ok(Store::Postgres(AttachmentBlobs)),
            ("directory", Some(dir)) => Ok(Store::Directory(DirectoryStore { dir: dir.into() })),
            (other, _) => Err(Error::Internal(anyhow::anyhow!(
                "attachment storage {other:?} is not configured"
            ))),
        }
    }
    fn configured(state: &AppState) -> Store {
        match &state.config.documents_dir {
            Some(dir) => Store::Directory(DirectoryStore { dir: dir.into() }),
            None => Store::Postgres(AttachmentBlobs),
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
}

fn invalid_file(key: &'static str) -> Error {
    let mut f = FieldErrors::default();
    f.push("file", key, vec![]);
    Error::Validation(f)
}

/// May this party see a trade's attachments? The parties and the admins of their exchanges.
pub fn sees_attachments(party: Party) -> bool {
    !matches!(party, Party::OtherAdmin(_))
}

/// The seller attaches a file to its delivery while the trade is paid or delivered. 413 over
/// 10 MiB; 404 to whoever may not see the trade; 403 `seller_only` to others who may; 409
/// `invalid_trade_state` in any other status, `too_many_attachments` past 10; 422 unless PDF,
/// PNG or JPEG by content.
pub async fn attach(
    state: &AppState,
    user: &CurrentUser,
    trade_id: Uuid,
    name: &str,
    data: &[u8],
) -> Result<AttachmentView> {
    if data.len() > documents::MAX_BYTES {
        return Err(Error::PayloadTooLarge);
    }
    let mut tx = state.pool.begin().await?;
    // The trade's row lock serialises uploads with each other (the count holds) and with the
    // buyer's decision (no attachment lands on a settled trade).
    let t = sdb::lock_trade(&mut tx, trade_id)
        .await?
        .ok_or(Error::NotFound)?;
    match party_of(user, &t).ok_or(Error::NotFound)? {
        Party::Seller => {}
        _ => return Err(Error::Forbidden("seller_only")),
    }
    if !matches!(
        TradeStatus::parse(&t.status),
        Some(TradeStatus::Paid | TradeStatus::Delivered)
    ) {
        return Err(invalid_state(&t));
    }
    if data.is_empty() {
        return Err(invalid_file("err.document.empty"));
    }
    let kind = documents::sniff(data).ok_or_else(|| invalid_file("err.document.type"))?;
    if db::delivery::count_attachments(&mut tx, trade_id).await? >= MAX_ATTACHMENTS {
        return Err(Error::conflict("too_many_attachments"));
    }
    let id = Uuid::now_v7();
    let name = documents::file_name(name, kind);
    let sha = Sha256::digest(data).to_vec();
    let store = Store::configured(state);
    db::delivery::insert_attachment(
        &mut tx,
        &NewAttachment {
            id,
            trade_id,
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
    Ok(AttachmentView {
        id,
        name,
        content_type: kind.content_type().to_string(),
        size_bytes: data.len() as i64,
        url: format!("/api/v1/trades/{trade_id}/delivery/attachments/{id}"),
    })
}

/// A trade's attachments, for a caller already shown the trade as `party`.
pub async fn attachments_of(
    conn: &mut PgConnection,
    trade_id: Uuid,
    party: Party,
) -> Result<Vec<AttachmentView>> {
    if !sees_attachments(party) {
        return Ok(Vec::new());
    }
    Ok(db::delivery::list_attachments(conn, trade_id)
        .await?
        .iter()
        .map(AttachmentView::from)
        .collect())
}

/// One attachment's metadata (as a document, for the download response) and bytes; 404 to
/// whoever may not see it.
pub async fn download_attachment(
    state: &AppState,
    user: &CurrentUser,
    trade_id: Uuid,
    id: Uuid,
) -> Result<(DocumentView, Vec<u8>)> {
    let mut conn = state.pool.acquire().await?;
    let t = sdb::get_trade(&mut conn, trade_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !party_of(user, &t).is_some_and(sees_attachments) {
        return Err(Error::NotFound);
    }
    let row = db::delivery::get_attachment(&mut conn, trade_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let data = Store::of(state, &row.storage)?.get(&mut conn, id).await?;
    Ok((
        DocumentView {
            id: row.id,
            name: row.name.clone(),
            content_type: row.content_type.clone(),
            size: row.size,
            sha256: hex::encode(&row.sha256),
        },
        data,
    ))
}
