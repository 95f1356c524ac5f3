//! Pages of the expert pool and evaluations: the public directory (`/experts`), the
//! administrators' pool (`/admin/experts`: register, deactivate), the evaluation panel of a listing
//! (`/admin/listings/{id}/evaluation`: suggestions, open), an expert's evaluations and scoring form
//! (`/evaluations`, `/evaluations/{id}`); the published report is also on the listing's page.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebAdmin, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::experts::{
    self, EvaluationInput, EvaluationView, ExpertInput, ExpertQuery, ExpertView, ScoreInput,
    Suggestion,
};
use crate::service::listings::{self, ListingView};
use crate::service::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/experts", get(directory_page))
        .route("/admin/experts", get(admin_page).post(register_submit))
        .route("/admin/experts/{id}/deactivate", post(deactivate_submit))
        .route(
            "/admin/listings/{id}/evaluation",
            get(panel_page).post(open_submit),
        )
        .route("/evaluations", get(mine_page))
        .route("/evaluations/{id}", get(evaluation_page))
        .route("/evaluations/{id}/scores", post(score_submit))
        .route("/evaluations/{id}/decline", post(decline_submit))
}

/// An evaluation's status in the page's language.
fn status_label(ctx: &PageCtx, status: &str) -> String {
    ctx.t(&format!("experts.status_{status}")).to_string()
}

/// A panel member's answer in the page's language.
fn member_label(ctx: &PageCtx, status: &str) -> String {
    ctx.t(&format!("experts.member_{status}")).to_string()
}

/// Translated text of a refused action.
fn refusal(ctx: &PageCtx, e: &Error) -> String {
    match e {
        Error::Validation(f) | Error::Unprocessable { fields: f, .. } => {
            let mut parts =
                vec![crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string()];
            parts.extend(
                f.iter()
                    .map(|fe| crate::i18n::tf(ctx.lang, fe.key, &fe.args)),
            );
            parts.dedup();
            parts.join(" ")
        }
        _ => crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string(),
    }
}

fn is_refusal(e: &Error) -> bool {
    matches!(
        e,
        Error::Validation(_)
            | Error::Unprocessable { .. }
            | Error::Conflict { .. }
            | Error::Forbidden(_)
    )
}

// ---------------------------------------------------------------- the directory

#[derive(Template)]
#[template(path = "experts/directory.html")]
struct DirectoryPage {
    ctx: PageCtx,
    experts: Page<ExpertView>,
    field: String,
    q: String,
    error: String,
}

impl DirectoryPage {
    fn page_url(&self, page: i64) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if !self.field.is_empty() {
            s.append_pair("field", &self.field);
        }
        if !self.q.is_empty() {
            s.append_pair("q", &self.q);
        }
        if !self.ctx.is_zh() {
            s.append_pair("lang", "en");
        }
        s.append_pair("page", &page.to_string());
        format!("/experts?{}", s.finish())
    }
}

async fn directory_page(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Query(q): Query<ExpertQuery>,
) -> Result<Response> {
    let field = q.field.clone().unwrap_or_default();
    let text = q.q.clone().unwrap_or_default();
    let (experts, error) = match experts::directory(&state.pool, &q).await {
        Ok(p) => (p, String::new()),
        Err(e @ Error::BadRequest { .. }) => (
            Page {
                items: vec![],
                total: 0,
                page: 1,
                per_page: 20,
            },
            FormErrors::from_error(ctx.lang, &e)
                .0
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Err(e) => return Err(e),
    };
    let status = if error.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    let mut resp = render(&DirectoryPage {
        ctx,
        experts,
        field,
        q: text,
        error,
    })?;
    *resp.status_mut() = status;
    Ok(resp)
}

// ---------------------------------------------------------------- the administrators' pool

#[derive(Template)]
#[template(path = "experts/admin.html")]
struct AdminPage {
    ctx: PageCtx,
    experts: Page<ExpertView>,
    errors: FormErrors,
    notice: String,
    form: Vec<(String, String)>,
}

impl AdminPage {
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn checked(&self, field: &str) -> bool {
        self.form.iter().any(|(k, v)| k == "fields" && v == field)
    }
}

async fn all_experts(state: &AppState) -> Result<Page<ExpertView>> {
    experts::directory(
        &state.pool,
        &ExpertQuery {
            per_page: Some(100),
            ..ExpertQuery::default()
        },
    )
    .await
}

async fn admin_page(State(state): State<AppState>, WebAdmin(_, ctx): WebAdmin) -> Result<Response> {
    render(&AdminPage {
        experts: all_experts(&state).await?,
        ctx,
        errors: FormErrors::default(),
        notice: String::new(),
        form: Vec::new(),
    })
}

async fn register_submit(
    State(state): State<AppState>,
    WebAdmin(admin, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    let user_id = experts::member_by_email(&state.pool, &admin, form.get("email")).await?;
    let result = match user_id {
        Some(user_id) => {
            experts::register(
                &state,
                &admin,
                ExpertInput {
                    user_id,
                    fields: form.all("fields").into_iter().map(String::from).collect(),
                    title: form.get("title").to_string(),
                    bio: form.get("bio").to_string(),
                },
            )
            .await
        }
        None => {
            let mut errs = crate::domain::error::FieldErrors::new();
            errs.push("email", "experts.email_unknown", vec![]);
            Err(Error::Validation(errs))
        }
    };
    match result {
        Ok(_) => Ok(Redirect::to("/admin/experts?done=expert_registered").into_response()),
        Err(e @ Error::Validation(_)) => {
            let mut errors = FormErrors::from_error(ctx.lang, &e);
            // The member is named by e-mail here.
            for (k, _) in errors.0.iter_mut() {
                if k == "user_id" {
                    *k = "email".into();
                }
            }
            let mut resp = render(&AdminPage {
                experts: all_experts(&state).await?,
                errors,
                notice: String::new(),
                ctx,
                form: form.0,
            })?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn deactivate_submit(
    State(state): State<AppState>,
    WebAdmin(admin, ctx): WebAdmin,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match experts::deactivate(&state, &admin, id).await {
        Ok(_) => Ok(Redirect::to("/admin/experts?done=expert_deactivated").into_response()),
        Err(e) if is_refusal(&e) => {
            let mut resp = render(&AdminPage {
                experts: all_experts(&state).await?,
                errors: FormErrors::default(),
                notice: refusal(&ctx, &e),
                ctx,
                form: Vec::new(),
            })?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- a listing's evaluation panel

#[derive(Template)]
#[template(path = "experts/panel.html")]
struct PanelPage {
    ctx: PageCtx,
    l: ListingView,
    suggestions: Vec<Suggestion>,
    evaluations: Vec<EvaluationView>,
    notice: String,
    chosen: Vec<String>,
    due: String,
}

impl PanelPage {
    fn status(&self, s: &str) -> String {
        status_label(&self.ctx, s)
    }
    fn member(&self, s: &str) -> String {
        member_label(&self.ctx, s)
    }
    fn is_chosen(&self, id: &Uuid) -> bool {
        let id = id.to_string();
        self.chosen.contains(&id)
    }
}

async fn panel(
    state: &AppState,
    admin: &crate::auth::CurrentUser,
    ctx: PageCtx,
    id: Uuid,
    notice: String,
    chosen: Vec<String>,
    due: String,
) -> Result<Response> {
    let l = listings::get(&state.pool, Some(admin), id).await?;
    let suggestions = experts::suggest(&state.pool, admin, id).await?;
    let evaluations = experts::for_listing(&state.pool, admin, id).await?;
    let due = if due.is_empty() {
        ctx.time_input(&(state.clock.now() + chrono::Duration::days(14)))
    } else {
        due
    };
    render(&PanelPage {
        ctx,
        l,
        suggestions,
        evaluations,
        notice,
        chosen,
        due,
    })
}

async fn panel_page(
    State(state): State<AppState>,
    WebAdmin(admin, ctx): WebAdmin,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    panel(
        &state,
        &admin,
        ctx,
        id,
        String::new(),
        Vec::new(),
        String::new(),
    )
    .await
}

/// A `datetime-local` value in Beijing time; a far past moment when unreadable (refused as due).
fn beijing(s: &str) -> DateTime<Utc> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|n| {
            chrono::FixedOffset::east_opt(8 * 3600).and_then(|o| o.from_local_datetime(&n).single())
        })
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

async fn open_submit(
    State(state): State<AppState>,
    WebAdmin(admin, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let chosen: Vec<String> = form.all("expert").into_iter().map(String::from).collect();
    let input = EvaluationInput {
        expert_ids: chosen
            .iter()
            .filter_map(|c| Uuid::parse_str(c).ok())
            .collect(),
        due_at: beijing(form.get("due_at")),
    };
    match experts::open(&state, &admin, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/admin/listings/{id}/evaluation?done=evaluation_opened"
        ))
        .into_response()),
        Err(e) if is_refusal(&e) => {
            let notice = refusal(&ctx, &e);
            let status = e.status();
            let mut resp = panel(
                &state,
                &admin,
                ctx,
                id,
                notice,
                chosen,
                form.get("due_at").to_string(),
            )
            .await?;
            *resp.status_mut() = status;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- the expert's pages

#[derive(Template)]
#[template(path = "experts/mine.html")]
struct MinePage {
    ctx: PageCtx,
    evaluations: Vec<EvaluationView>,
}

impl MinePage {
    fn status(&self, s: &str) -> String {
        status_label(&self.ctx, s)
    }
}

async fn mine_page(State(state): State<AppState>, WebUser(user, ctx): WebUser) -> Result<Response> {
    let evaluations = experts::mine(&state.pool, &user).await?;
    render(&MinePage { ctx, evaluations })
}

#[derive(Template)]
#[template(path = "experts/evaluation.html")]
struct EvaluationPage {
    ctx: PageCtx,
    ev: EvaluationView,
    /// The viewer is on the panel and has not answered yet: the form is shown.
    can_answer: bool,
    /// The viewer declined.
    declined: bool,
    errors: FormErrors,
    notice: String,
    form: Vec<(String, String)>,
}

impl EvaluationPage {
    fn status(&self, s: &str) -> String {
        status_label(&self.ctx, s)
    }
    fn member(&self, s: &str) -> String {
        member_label(&self.ctx, s)
    }
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

async fn evaluation(
    state: &AppState,
    ctx: PageCtx,
    id: Uuid,
    errors: FormErrors,
    notice: String,
    form: Vec<(String, String)>,
) -> Result<Response> {
    let ev = experts::evaluation(&state.pool, ctx.user.as_ref(), id).await?;
    let me = ctx.user.as_ref().and_then(|u| u.person_id());
    let my_status = match me {
        Some(me) => experts::panel_status(&state.pool, id, me).await?,
        None => None,
    };
    render(&EvaluationPage {
        can_answer: ev.status == "in_progress"
            && ev.due_at > state.clock.now()
            && my_status.as_deref() == Some("invited"),
        declined: my_status.as_deref() == Some("declined"),
        ctx,
        ev,
        errors,
        notice,
        form,
    })
}

async fn evaluation_page(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    evaluation(
        &state,
        ctx,
        id,
        FormErrors::default(),
        String::new(),
        Vec::new(),
    )
    .await
}

fn int(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

async fn score_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let input = ScoreInput {
        maturity_trl: int(form.get("maturity_trl")),
        innovation: int(form.get("innovation")),
        advancement: int(form.get("advancement")),
        market: int(form.get("market")),
        comment: form.get("comment").to_string(),
    };
    match experts::score(&state, &user, id, input).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/evaluations/{id}?done=scores_submitted")).into_response())
        }
        Err(e) if is_refusal(&e) => {
            let errors = FormErrors::from_error(ctx.lang, &e);
            let notice = if errors.is_empty() {
                refusal(&ctx, &e)
            } else {
                String::new()
            };
            let status = e.status();
            let mut resp = evaluation(&state, ctx, id, errors, notice, form.0).await?;
            *resp.status_mut() = status;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

async fn decline_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match experts::decline(&state, &user, id).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/evaluations/{id}?done=evaluation_declined")).into_response(),
        ),
        Err(e) if is_refusal(&e) => {
            let notice = refusal(&ctx, &e);
            let status = e.status();
            let mut resp =
                evaluation(&state, ctx, id, FormErrors::default(), notice, Vec::new()).await?;
            *resp.status_mut() = status;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}
