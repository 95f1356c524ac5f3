//! Pages: a party opens a dispute from the trade page; the admins' dispute queue
//! (`/admin/disputes`) with the decision form of each open dispute.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::domain::dispute::Outcome;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::settlement::{
    self, DisputeInput, PayoutInput, PayoutList, ResolveInput, TradeView,
};
use crate::service::{Page, PageQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trades/{id}/disputes", post(open_submit))
        .route("/admin/disputes", get(queue))
        .route("/admin/disputes/{id}/resolve", post(resolve_submit))
        .route("/admin/payouts", get(payouts).post(payout_submit))
        .route("/admin/payouts.csv", get(payouts_csv))
}

/// A party opens a dispute from the trade page.
async fn open_submit(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let key = Some(form.get("idem").to_string()).filter(|k| !k.is_empty());
    let input = DisputeInput {
        reason: form.get("reason").to_string(),
    };
    let now = state.clock.now();
    let result = settlement::open_dispute(&state.pool, &user, id, input, key.as_deref(), now).await;
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/trades/{id}?done=disputed")).into_response()),
        Err(Error::Validation(_)) => {
            Ok(Redirect::to(&format!("/trades/{id}?error=dispute_reason")).into_response())
        }
        Err(Error::Conflict {
            code: "acceptance_period_over",
            ..
        }) => {
            Ok(Redirect::to(&format!("/trades/{id}?error=acceptance_period_over")).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "disputes/queue.html")]
struct QueuePage {
    ctx: PageCtx,
    /// `open` | `resolved` | "" (all).
    status: String,
    items: Page<TradeView>,
    /// The dispute whose form was refused, its values and errors.
    failed: String,
    outcome: String,
    share: String,
    reason: String,
    errors: FormErrors,
    message: String,
    idem: String,
}

impl QueuePage {
    fn outcomes(&self) -> &'static [Outcome] {
        Outcome::ALL
    }
    fn outcome_name(&self, code: &str) -> &'static str {
        Outcome::parse(code)
            .map(|o| {
                if self.ctx.is_zh() {
                    o.name_zh()
                } else {
                    o.name_en()
                }
            })
            .unwrap_or("—")
    }
    fn is_failed(&self, id: &Uuid) -> bool {
        self.failed == id.to_string()
    }
    fn party_name(&self, code: &str) -> &str {
        if code == "seller" {
            self.ctx.t("disputes.party.seller")
        } else {
            self.ctx.t("disputes.party.buyer")
        }
    }
}

#[derive(Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    page: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
async fn queue_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    status: Option<String>,
    page: Option<i64>,
    failed: String,
    form: (String, String, String),
    errors: FormErrors,
    message: String,
) -> Result<Response> {
    let status = status.filter(|s| s == "open" || s == "resolved");
    let items = settlement::dispute_queue(
        &state.pool,
        user,
        status.as_deref(),
        PageQuery {
            page: Some(page.unwrap_or(1).max(1)),
            per_page: Some(50),
        },
    )
    .await?;
    render(&QueuePage {
        ctx,
        status: status.unwrap_or_default(),
        items,
        failed,
        outcome: form.0,
        share: form.1,
        reason: form.2,
        errors,
        message,
        idem: Uuid::now_v7().to_string(),
    })
}

async fn queue(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<QueueQuery>,
) -> Result<Response> {
    let status = Some(q.status.unwrap_or_else(|| "open".into())).filter(|s| s != "all");
    queue_page(
        &state,
        &user,
        ctx,
        status,
        q.page,
        String::new(),
        Default::default(),
        FormErrors::default(),
        String::new(),
    )
    .await
}

/// An admin decides a dispute; the seller's share is entered in yuan (`175万`, `1,750,000.00`).
async fn resolve_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let outcome = form.get("outcome").to_string();
    let share_text = form.get("seller_share").trim().to_string();
    let reason = form.get("reason").to_string();
    let again = |errors: FormErrors, message: String| {
        let state = state.clone();
        let user = user.clone();
        let ctx = ctx.clone();
        let values = (outcome.clone(), share_text.clone(), reason.clone());
        async move {
            queue_page(
                &state,
                &user,
                ctx,
                Some("open".into()),
                None,
                id.to_string(),
                values,
                errors,
                message,
            )
            .await
        }
    };
    if form.get("confirm") != "1" {
        return again(
            FormErrors::default(),
            ctx.t("settlement.refused.confirm_required").to_string(),
        )
        .await;
    }
    let seller_share_fen = if outcome == "split" && !share_text.is_empty() {
        match crate::domain::money::parse_yuan(&share_text) {
            Ok(fen) => Some(fen),
            Err(_) => {
                let errors = FormErrors(vec![(
                    "seller_share_fen".into(),
                    ctx.t("err.dispute.share_missing").to_string(),
                )]);
                return again(errors, String::new()).await;
            }
        }
    } else {
        None
    };
    let input = ResolveInput {
        outcome: outcome.clone(),
        seller_share_fen,
        reason: reason.clone(),
    };
    let key = Some(form.get("idem").to_string()).filter(|k| !k.is_empty());
    let now = state.clock.now();
    let (pool, u) = (state.pool.clone(), user.clone());
    let result = settlement::resolve_dispute(&pool, &u, id, input, key.as_deref(), now).await;
    match result {
        Ok(_) => Ok(Redirect::to("/admin/disputes?status=resolved&done=resolved").into_response()),
        Err(e @ Error::Validation(_)) => {
            again(FormErrors::from_error(ctx.lang, &e), String::new()).await
        }
        Err(Error::Conflict { code, args, .. }) => {
            let message = crate::i18n::tf(ctx.lang, &format!("error.{code}"), &args);
            again(FormErrors::default(), message).await
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- payouts

#[derive(Template)]
#[template(path = "disputes/payouts.html")]
struct PayoutsPage {
    ctx: PageCtx,
    due: PayoutList,
    paid: PayoutList,
    /// Why the last payout was refused, translated ("" when none).
    message: String,
    idem: String,
}

impl PayoutsPage {
    fn party_name(&self, code: &str) -> &str {
        if code == "seller" {
            self.ctx.t("disputes.party.seller")
        } else {
            self.ctx.t("disputes.party.buyer")
        }
    }
}

#[derive(Deserialize)]
pub struct PayoutsQuery {
    page: Option<i64>,
}

async fn payouts_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    page: Option<i64>,
    message: String,
) -> Result<Response> {
    let due = settlement::payouts(
        &state.pool,
        user,
        Some("due"),
        PageQuery {
            page: Some(page.unwrap_or(1).max(1)),
            per_page: Some(100),
        },
    )
    .await?;
    let paid = settlement::payouts(
        &state.pool,
        user,
        Some("paid"),
        PageQuery {
            page: Some(1),
            per_page: Some(50),
        },
    )
    .await?;
    render(&PayoutsPage {
        ctx,
        due,
        paid,
        message,
        idem: Uuid::now_v7().to_string(),
    })
}

async fn payouts(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<PayoutsQuery>,
) -> Result<Response> {
    payouts_page(&state, &user, ctx, q.page, String::new()).await
}

/// An admin records one transfer of the due list (the amount comes from the list; the box
/// confirming it must be ticked).
async fn payout_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    if form.get("confirm") != "1" {
        let message = ctx.t("settlement.refused.confirm_required").to_string();
        return payouts_page(&state, &user, ctx, None, message).await;
    }
    let input = PayoutInput {
        trade_id: form.get("trade_id").to_string(),
        party: form.get("party").to_string(),
        amount_fen: form.get("amount_fen").trim().parse().unwrap_or(0),
        bank_reference: form.get("bank_reference").to_string(),
    };
    let key = Some(form.get("idem").to_string()).filter(|k| !k.is_empty());
    let now = state.clock.now();
    let (pool, u) = (state.pool.clone(), user.clone());
    let result = settlement::record_payout(&pool, &u, input, key.as_deref(), now).await;
    match result {
        Ok(_) => Ok(Redirect::to("/admin/payouts?done=payout_recorded").into_response()),
        Err(e @ Error::Validation(_)) => {
            let message = FormErrors::from_error(ctx.lang, &e)
                .0
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join(" ");
            payouts_page(&state, &user, ctx, None, message).await
        }
        Err(Error::Conflict { code, args, .. }) => {
            let message = crate::i18n::tf(ctx.lang, &format!("error.{code}"), &args);
            payouts_page(&state, &user, ctx, None, message).await
        }
        Err(e) => Err(e),
    }
}

async fn payouts_csv(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
) -> Result<Response> {
    let csv = settlement::payouts_csv(&state.pool, &user).await?;
    Ok(crate::http::respond::csv_download(csv, "payouts.csv"))
}
