use axum::Router;
use uuid::Uuid;

use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// What the listing page (`/listings/{id}`, owned by the listings pages) shows about trading:
/// the offer form, the buy button, or the live auction. Rendered by `templates/trading/_listing_panel.html`,
/// which the listing page includes with `panel` in scope.
#[derive(Debug, Clone, Default)]
pub struct ListingPanel {
    pub listing_id: String,
}

/// Builds the panel for one listing and the current viewer.
pub async fn listing_panel(
    _state: &AppState,
    _ctx: &PageCtx,
    listing_id: Uuid,
) -> Result<ListingPanel> {
    Ok(ListingPanel {
        listing_id: listing_id.to_string(),
    })
}
