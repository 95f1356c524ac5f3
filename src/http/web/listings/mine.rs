//! My listings.
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use crate::error::Result;
use crate::http::context::PageCtx;
use crate::http::extract::WebUser;
use crate::http::state::AppState;
use crate::http::web::render;
use crate::service::listings::{self, ListingView};
use crate::service::{Page, PageQuery};

use super::{page_number, price_label, status_class, status_name, PageOnly};

#[derive(Template)]
#[template(path = "listings/mine.html")]
struct MinePage {
    ctx: PageCtx,
    result: Page<ListingView>,
}

impl MinePage {
    fn status(&self, l: &ListingView) -> &'static str {
        status_name(&self.ctx, &l.status)
    }
    fn status_class(&self, l: &ListingView) -> &'static str {
        status_class(&l.status)
    }
    fn price(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
}

pub(super) async fn my_listings(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Query(q): Query<PageOnly>,
) -> Result<Response> {
    let result = listings::mine(
        &state.pool,
        &user,
        PageQuery {
            page: Some(page_number(&q.page)),
            per_page: Some(50),
        },
    )
    .await?;
    render(&MinePage { ctx, result })
}
