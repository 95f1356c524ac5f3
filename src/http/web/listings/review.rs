//! The admin review queue and one listing's review page.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::listings::{self, LikelyDuplicate, ListingView, ReviewInput};
use crate::service::{Page, PageQuery};

use super::{page_number, paragraphs, price_label, status_name, trl_label, PageOnly};

#[derive(Template)]
#[template(path = "listings/admin_queue.html")]
struct AdminQueuePage {
    ctx: PageCtx,
    exchange: String,
    result: Page<ListingView>,
    /// Likely duplicates of the queue's listings (same owner, very similar title).
    duplicates: std::collections::HashMap<uuid::Uuid, Vec<LikelyDuplicate>>,
    /// How many documents each listing of the queue has.
    document_counts: std::collections::HashMap<uuid::Uuid, i64>,
}

impl AdminQueuePage {
    fn price(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
    fn duplicates_of(&self, l: &ListingView) -> &[LikelyDuplicate] {
        self.duplicates.get(&l.id).map(Vec::as_slice).unwrap_or(&[])
    }
    fn document_count(&self, l: &ListingView) -> i64 {
        self.document_counts.get(&l.id).copied().unwrap_or(0)
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
    let items: Vec<&ListingView> = result.items.iter().collect();
    let duplicates = listings::likely_duplicates(&state.pool, &user, &items).await?;
    let ids: Vec<uuid::Uuid> = items.iter().map(|l| l.id).collect();
    let document_counts = crate::service::documents::counts(&state.pool, &user, &ids).await?;
    render(&AdminQueuePage {
        ctx,
        exchange: exchange.code().to_string(),
        result,
        duplicates,
        document_counts,
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
    /// Likely duplicates (same owner, very similar title), and the one shown side by side.
    duplicates: Vec<LikelyDuplicate>,
    compare: Option<ListingView>,
    /// The documents the owner attached (reviewers see them before approval).
    documents: Vec<crate::service::documents::DocumentView>,
}

impl AdminReviewPage {
    fn price_of(&self, l: &ListingView) -> String {
        price_label(&self.ctx, l)
    }
    fn status_of(&self, l: &ListingView) -> &'static str {
        status_name(&self.ctx, &l.status)
    }
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

#[derive(serde::Deserialize)]
pub(super) struct CompareQuery {
    compare: Option<String>,
}

/// The likely duplicates of `l` and the one to show beside it: `compare` if it is one of them,
/// else the most alike.
async fn duplicates_and_comparison(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    l: &ListingView,
    compare: Option<&str>,
) -> Result<(Vec<LikelyDuplicate>, Option<ListingView>)> {
    let duplicates = listings::likely_duplicates(&state.pool, user, &[l])
        .await?
        .remove(&l.id)
        .unwrap_or_default();
    let wanted = compare.and_then(|c| uuid::Uuid::parse_str(c.trim()).ok());
    let pick = duplicates
        .iter()
        .find(|d| Some(d.id) == wanted)
        .or(duplicates.first())
        .map(|d| d.id);
    let compare = match pick {
        Some(other) => Some(listings::get(&state.pool, Some(user), other).await?),
        None => None,
    };
    Ok((duplicates, compare))
}

pub(super) async fn admin_listing(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    Query(q): Query<CompareQuery>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let l = listings::get(&state.pool, Some(&user), id).await?;
    let (duplicates, compare) =
        duplicates_and_comparison(&state, &user, &l, q.compare.as_deref()).await?;
    render(&AdminReviewPage {
        paragraphs: paragraphs(&l.description),
        ctx,
        l,
        errors: FormErrors::default(),
        message: String::new(),
        reason: String::new(),
        documents: crate::service::documents::list(&state.pool, Some(&user), id).await?,
        duplicates,
        compare,
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
            let (duplicates, compare) = duplicates_and_comparison(&state, &user, &l, None).await?;
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
                documents: crate::service::documents::list(&state.pool, Some(&user), id).await?,
                duplicates,
                compare,
            })?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}
