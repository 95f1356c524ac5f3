//! The admin review queue and one listing's review page.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::listings::{self, ListingView, ReviewInput};
use crate::service::{Page, PageQuery};

use super::{page_number, paragraphs, price_label, status_name, trl_label, PageOnly};

#[derive(Template)]
#[template(path = "listings/admin_queue.html")]
struct AdminQueuePage {
    ctx: PageCtx,
    exchange: String,
    result: Page<ListingView>,
}

impl AdminQueuePage {
    fn price(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
}

pub(super) async fn admin_queue(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<PageOnly>,
) -> Result<Response> {
    let exchange = user.require_admin()?;
    let result = listings::admin_queue(
        &state.pool,
        &user,
        None,
        PageQuery {
            page: Some(page_number(&q.page)),
            per_page: Some(50),
        },
    )
    .await?;
    render(&AdminQueuePage {
        ctx,
        exchange: exchange.code().to_string(),
        result,
    })
}

#[derive(Template)]
#[template(path = "listings/admin_review.html")]
struct AdminReviewPage {
    ctx: PageCtx,
    l: ListingView,
    paragraphs: Vec<Vec<String>>,
    errors: FormErrors,
    message: String,
    reason: String,
}

impl AdminReviewPage {
    fn price(&self) -> String {
        price_label(&self.ctx, &self.l)
    }
    fn trl(&self) -> String {
        trl_label(&self.ctx, self.l.trl)
    }
    fn status(&self) -> &'static str {
        status_name(&self.ctx, &self.l.status)
    }
}

pub(super) async fn admin_listing(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let l = listings::get(&state.pool, Some(&user), id).await?;
    render(&AdminReviewPage {
        paragraphs: paragraphs(&l.description),
        ctx,
        l,
        errors: FormErrors::default(),
        message: String::new(),
        reason: String::new(),
    })
}

pub(super) async fn admin_review(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let input = ReviewInput {
        decision: form.get("decision").to_string(),
        reason: Some(form.get("reason").to_string()).filter(|r| !r.trim().is_empty()),
    };
    match listings::review(&state.pool, &user, id, input).await {
        Ok(_) => Ok(Redirect::to("/admin/listings?done=reviewed").into_response()),
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let l = listings::get(&state.pool, Some(&user), id).await?;
            let message = match &e {
                Error::Validation(_) => ctx.t("form.fix_errors").to_string(),
                _ => crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string(),
            };
            let mut resp = render(&AdminReviewPage {
                paragraphs: paragraphs(&l.description),
                errors: FormErrors::from_error(ctx.lang, &e),
                ctx,
                l,
                message,
                reason: form.get("reason").to_string(),
            })?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}
