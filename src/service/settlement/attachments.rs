//! Delivery attachments: the seller adds files to its delivery (PDF, PNG or JPEG by content,
//! ≤ 10 MiB, ≤ 10 per trade, the checks of listing documents) while the trade is paid or
//! delivered; the parties and the admins of both parties' exchanges see and download them (404 to
//! everyone else). They are kept by the store of `service::files` (kind `DeliveryAttachment`: a
//! table of their own in PostgreSQL, or the documents directory).

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::files::FileRow;
use crate::db::settlement as sdb;
use crate::domain::documents;
use crate::domain::listing::TradeStatus;
use crate::error::{Error, Result};
use crate::service::files::{self, DocumentView, FileKind, Upload};
use crate::service::AppState;

const KIND: FileKind = FileKind::DeliveryAttachment;

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

impl AttachmentView {
    fn of(trade_id: Uuid, d: &DocumentView) -> Self {
        AttachmentView {
            id: d.id,
            name: d.name.clone(),
            content_type: d.content_type.clone(),
            size_bytes: d.size,
            url: format!("/api/v1/trades/{trade_id}/delivery/attachments/{}", d.id),
        }
    }
}

impl From<&FileRow> for AttachmentView {
    fn from(a: &FileRow) -> Self {
        AttachmentView::of(a.owner_id, &DocumentView::from(a))
    }
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
    let doc = files::add(
        &mut tx,
        state,
        KIND,
        (MAX_ATTACHMENTS, "too_many_attachments"),
        &Upload {
            owner_id: trade_id,
            created_by: user.id,
            name,
            data,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(AttachmentView::of(trade_id, &doc))
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
    Ok(db::files::list(conn, KIND, trade_id)
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
    files::read(&mut conn, state, KIND, trade_id, id).await
}
