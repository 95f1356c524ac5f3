//! Listing documents: owners attach PDFs and images (judged by content, ≤ 10 MiB, ≤ 10 per listing)
//! while the listing is a draft or rejected; reviewers see them; everyone sees them once the listing
//! is approved. They are kept by the store of `service::files` (kind `ListingDocument`).

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::domain::documents::{self, Kind};
use crate::domain::listing::ListingStatus;
use crate::error::{Error, Result};
use crate::service::files::{self, invalid_file, FileKind, Store, Upload};
use crate::service::AppState;

pub use crate::service::files::DocumentView;

const KIND: FileKind = FileKind::ListingDocument;

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
    let doc = files::add(
        &mut tx,
        state,
        KIND,
        (documents::MAX_PER_LISTING, "too_many_documents"),
        &Upload {
            owner_id: listing_id,
            created_by: user.id,
            name,
            data,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(doc)
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
    let row = db::files::get(&mut tx, KIND, listing_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    db::files::delete(&mut tx, KIND, listing_id, id).await?;
    tx.commit().await?;
    if let Err(e) = Store::of(state, KIND, &row)?.discard(id).await {
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
    Ok(db::files::counts(&mut conn, KIND, listing_ids)
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
    Ok(may_see(viewer, &row))
}

fn may_see(viewer: Option<&CurrentUser>, row: &db::listings::ListingRow) -> bool {
    let insider =
        viewer.is_some_and(|u| u.is_admin() || u.organization_id == Some(row.organization_id));
    insider || matches!(row.status.as_str(), "listed" | "sold")
}

/// [`list`] for a listing its page has read already (`listings::detail`): no statement at all when
/// it has no documents, one when it has.
pub async fn list_of(
    pool: &PgPool,
    viewer: Option<&CurrentUser>,
    listing: &db::listings::ListingRow,
    has_documents: bool,
) -> Result<Vec<DocumentView>> {
    if !has_documents || !may_see(viewer, listing) {
        return Ok(Vec::new());
    }
    let mut conn = pool.acquire().await?;
    Ok(db::files::list(&mut conn, KIND, listing.id)
        .await?
        .iter()
        .map(DocumentView::from)
        .collect())
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
    Ok(db::files::list(&mut conn, KIND, listing_id)
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
    files::read(&mut conn, state, KIND, listing_id, id).await
}

/// The content type to send: only the three kinds stored, anything else as bytes.
pub fn safe_content_type(d: &DocumentView) -> &'static str {
    Kind::parse(&d.content_type)
        .map(Kind::content_type)
        .unwrap_or("application/octet-stream")
}
