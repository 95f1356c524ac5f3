//! `/admin/systems`: an exchange's API keys and webhooks; `/admin/webhooks/{id}`: deliveries.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::domain::interconnect::{EventType, Scope};
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::interconnect::keys::{self, KeyInput, KeyView};
use crate::service::interconnect::webhooks::{self, DeliveryView, WebhookInput, WebhookView};
use crate::service::{Page, PageQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/systems", get(systems))
        .route("/admin/api-keys", post(create_key))
        .route("/admin/api-keys/{id}/revoke", post(revoke_key))
        .route("/admin/webhooks", post(create_webhook))
        .route("/admin/webhooks/{id}", get(webhook))
        .route("/admin/webhooks/{id}/disable", post(disable_webhook))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/redeliver",
            post(redeliver),
        )
}

#[derive(Template)]
#[template(path = "interconnect/systems.html")]
struct SystemsPage {
    ctx: PageCtx,
    keys: Vec<KeyView>,
    hooks: Vec<WebhookView>,
    /// A key or secret just made: shown this once.
    new_key: Option<(String, String)>,
    new_secret: Option<(String, String)>,
    errors: FormErrors,
    /// Which form the errors belong to (`key` or `webhook`) and what was typed.
    failed: &'static str,
    typed_name: String,
    typed_url: String,
}

impl SystemsPage {
    fn scopes(&self) -> &'static [Scope] {
        Scope::ALL
    }
    fn event_types(&self) -> &'static [EventType] {
        EventType::ALL
    }
    fn scope_name(&self, code: &str) -> &'static str {
        self.ctx.name_of::<Scope>(code)
    }
    fn event_name(&self, code: &str) -> &'static str {
        self.ctx.name_of::<EventType>(code)
    }
}

async fn systems_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    page: impl FnOnce(&mut SystemsPage),
) -> Result<Response> {
    user.require_admin()?;
    let mut p = SystemsPage {
        ctx,
        keys: keys::list(state, user).await?,
        hooks: webhooks::list(state, user).await?,
        new_key: None,
        new_secret: None,
        errors: FormErrors::default(),
        failed: "",
        typed_name: String::new(),
        typed_url: String::new(),
    };
    page(&mut p);
    render(&p)
}

async fn systems(State(state): State<AppState>, WebAdmin(user, ctx): WebAdmin) -> Result<Response> {
    systems_page(&state, &user, ctx, |_| {}).await
}

async fn create_key(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    let input = KeyInput {
        name: form.get("name").to_string(),
        scopes: form.all("scopes").into_iter().map(String::from).collect(),
    };
    match keys::create(&state, &user, input).await {
        Ok(k) => systems_page(&state, &user, ctx, |p| p.new_key = Some((k.name, k.key))).await,
        Err(e @ Error::Validation(_)) => {
            let errors = FormErrors::from_error(ctx.lang, &e);
            let name = form.get("name").to_string();
            systems_page(&state, &user, ctx, |p| {
                p.errors = errors;
                p.failed = "key";
                p.typed_name = name;
            })
            .await
        }
        Err(e) => Err(e),
    }
}

async fn revoke_key(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    keys::revoke(&state, &user, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/systems?done=revoked").into_response())
}

async fn create_webhook(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    let input = WebhookInput {
        url: form.get("url").to_string(),
        events: form.all("events").into_iter().map(String::from).collect(),
    };
    match webhooks::create(&state, &user, input).await {
        Ok(w) => {
            systems_page(&state, &user, ctx, |p| {
                p.new_secret = Some((w.url, w.secret))
            })
            .await
        }
        Err(e @ (Error::Validation(_) | Error::Unprocessable { .. })) => {
            let errors = FormErrors::from_error(ctx.lang, &e);
            let url = form.get("url").to_string();
            systems_page(&state, &user, ctx, |p| {
                p.errors = errors;
                p.failed = "webhook";
                p.typed_url = url;
            })
            .await
        }
        Err(e) => Err(e),
    }
}

async fn disable_webhook(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    webhooks::disable(&state, &user, parse_id(&id)?).await?;
    Ok(Redirect::to("/admin/systems?done=disabled").into_response())
}

#[derive(Template)]
#[template(path = "interconnect/webhook.html")]
struct WebhookPage {
    ctx: PageCtx,
    hook: WebhookView,
    deliveries: Page<DeliveryView>,
}

impl WebhookPage {
    fn event_name(&self, code: &str) -> &'static str {
        self.ctx.name_of::<EventType>(code)
    }
    fn status_name(&self, code: &str) -> &str {
        match code {
            "pending" => self.ctx.t("interconnect.state.pending"),
            "delivered" => self.ctx.t("interconnect.state.delivered"),
            _ => self.ctx.t("interconnect.state.failed"),
        }
    }
}

#[derive(Deserialize)]
pub struct PageParam {
    page: Option<i64>,
}

async fn webhook(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    Query(q): Query<PageParam>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let hook = webhooks::get(&state, &user, id).await?;
    let deliveries = webhooks::deliveries(
        &state,
        &user,
        id,
        PageQuery {
            page: q.page,
            per_page: Some(50),
        },
    )
    .await?;
    render(&WebhookPage {
        ctx,
        hook,
        deliveries,
    })
}

async fn redeliver(
    State(state): State<AppState>,
    WebAdmin(user, _): WebAdmin,
    Path((id, delivery)): Path<(String, String)>,
    _form: Form,
) -> Result<Response> {
    let hook = parse_id(&id)?;
    let delivery: i64 = delivery.parse().map_err(|_| Error::NotFound)?;
    webhooks::redeliver(&state, &user, hook, delivery).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{hook}?done=redelivered")).into_response())
}
