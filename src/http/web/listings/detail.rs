//! One listing's page (with the trading panel), and its submit and withdraw buttons.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::render;
use crate::http::web::trading::{panel_for, ListingPanel};
use crate::service::documents::{self, DocumentView};
use crate::service::listings::{self, ListingView};

use super::{paragraphs, price_label, status_class, status_name, trl_label};

#[derive(Template)]
#[template(path = "listings/listing.html")]
struct ListingPage {
    ctx: PageCtx,
    l: ListingView,
    paragraphs: Vec<Vec<String>>,
    is_owner: bool,
    can_edit: bool,
    can_submit: bool,
    can_withdraw: bool,
    /// Read by `trading/_listing_panel.html` (filled in by the trading pages).
    #[allow(dead_code)]
    panel: ListingPanel,
    /// Why the last action on this page was refused ("" otherwise); `?done=` confirmations are
    /// shown by the base layout.
    notice: String,
    /// Its documents, as the viewer may see them (everyone once approved).
    documents: Vec<DocumentView>,
    /// Why the last upload or removal was refused ("" otherwise), shown beside the form.
    documents_error: String,
    /// Its latest published expert evaluation (the badge and the report section).
    ev: Option<crate::service::experts::EvaluationView>,
}

impl ListingPage {
    /// The owner may attach another document (draft or rejected, fewer than the limit).
    fn can_attach(&self) -> bool {
        self.can_edit && (self.documents.len() as i64) < crate::domain::documents::MAX_PER_LISTING
    }
}

impl ListingPage {
    fn price(&self) -> String {
        price_label(&self.ctx, &self.l)
    }
    fn trl(&self) -> String {
        trl_label(&self.ctx, self.l.trl)
    }
    fn status(&self) -> &'static str {
        status_name(&self.ctx, &self.l.status)
    }
    fn status_class(&self) -> &'static str {
        status_class(&self.l.status)
    }
}

pub(super) async fn listing_page(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    page_with(
        &state,
        ctx,
        id,
        String::new(),
        String::new(),
        axum::http::StatusCode::OK,
    )
    .await
}

pub(super) async fn submit_action(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match listings::submit(&state.pool, &user, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/listings/{id}?done=submitted")).into_response()),
        Err(e) => action_error(&state, ctx, id, e).await,
    }
}

pub(super) async fn withdraw_action(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match listings::withdraw(&state.pool, &user, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/listings/{id}?done=withdrawn")).into_response()),
        Err(e) => action_error(&state, ctx, id, e).await,
    }
}

/// A refused action on the listing page: the page again with the reason on top.
async fn action_error(
    state: &AppState,
    ctx: PageCtx,
    id: uuid::Uuid,
    e: Error,
) -> Result<Response> {
    let message = match &e {
        Error::Validation(f) => f
            .iter()
            .map(|fe| {
                format!(
                    "{}: {}",
                    fe.path,
                    crate::i18n::tf(ctx.lang, fe.key, &fe.args)
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        Error::Conflict { .. } | Error::Forbidden(_) => {
            crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string()
        }
        _ => return Err(e),
    };
    page_with(state, ctx, id, message, String::new(), e.status()).await
}

/// The listing page with a notice on top (why an action was refused) or beside the documents'
/// form (why an upload or removal was), answered with `status`.
pub(super) async fn page_with(
    state: &AppState,
    ctx: PageCtx,
    id: uuid::Uuid,
    notice: String,
    documents_error: String,
    status: axum::http::StatusCode,
) -> Result<Response> {
    // One statement for the listing and what the page shows beside it (`listings::detail`); the
    // panel, documents and evaluation read more only when there is more (a signed-in viewer, an
    // auction, documents, a report).
    let listings::ListingDetail { view: l, row } =
        listings::detail(&state.pool, ctx.user.as_ref(), id).await?;
    let is_owner = ctx
        .user
        .as_ref()
        .is_some_and(|u| u.organization_id == Some(l.organization.id));
    let status_ = crate::domain::listing::ListingStatus::parse(&l.status);
    let panel = panel_for(state, &ctx, row.trading_row()).await?;
    let documents = documents::list_of(
        &state.pool,
        ctx.user.as_ref(),
        &row.listing,
        row.has_documents,
    )
    .await?;
    let ev = match row.evaluation() {
        Some(e) => Some(crate::service::experts::published_view(&state.pool, &e).await?),
        None => None,
    };
    let mut resp = render(&ListingPage {
        paragraphs: paragraphs(&l.description),
        can_edit: is_owner && status_.is_some_and(|s| s.can_edit()),
        can_submit: is_owner && status_.is_some_and(|s| s.can_submit()),
        can_withdraw: is_owner && status_.is_some_and(|s| s.can_withdraw()),
        is_owner,
        ctx,
        l,
        panel,
        notice,
        documents,
        documents_error,
        ev,
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}
