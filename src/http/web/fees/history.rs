//! The public history of fee schedule versions.
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;

use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::extract::Ctx;
use crate::http::state::AppState;
use crate::http::web::render;
use crate::service::fees::{self, ScheduleView};

use super::bands::{bands_tables, BandsTable};

pub struct HistoryItem {
    pub view: ScheduleView,
    /// `in_force` | `scheduled` | `superseded`
    pub state: &'static str,
    pub bands: Vec<BandsTable>,
}

#[derive(Template)]
#[template(path = "fees/history.html")]
struct HistoryPage {
    ctx: PageCtx,
    items: Vec<HistoryItem>,
}

pub async fn history(State(state): State<AppState>, Ctx(ctx, _): Ctx) -> Result<Response> {
    let now = Utc::now();
    let current = fees::in_force(&state.pool, now).await?;
    let mut items = Vec::new();
    for view in fees::history(&state.pool).await? {
        let state = if view.id == current.id {
            "in_force"
        } else if view.effective_from.is_some_and(|at| at > now) {
            "scheduled"
        } else {
            "superseded"
        };
        items.push(HistoryItem {
            bands: bands_tables(&ctx, &view.buyer, &view.seller),
            state,
            view,
        });
    }
    render(&HistoryPage { ctx, items })
}
