//! Webhooks: an exchange's admins (or its systems with the `webhooks` scope) register where its
//! events are posted, see the deliveries, and redeliver one.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::target;
use crate::auth::{token, CurrentUser};
use crate::db;
use crate::db::interconnect::WebhookRow;
use crate::domain::error::FieldErrors;
use crate::domain::interconnect::{EventType, Scope, URL_MAX};
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::{AppState, Page, PageQuery};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WebhookInput {
    /// `http://` or `https://`; its host must be allowed by `TECHMARKET_WEBHOOK_ALLOW`.
    pub url: String,
    /// Event types, e.g. `["listing.listed", "trade.paid"]`.
    pub events: Vec<String>,
}

/// A new webhook: `secret` signs every delivery and is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    pub id: Uuid,
    pub secret: String,
    pub url: String,
    pub events: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<&WebhookRow> for WebhookView {
    fn from(r: &WebhookRow) -> Self {
        WebhookView {
            id: r.id,
            url: r.url.clone(),
            events: r.events.clone(),
            created_at: r.created_at,
            disabled_at: r.disabled_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub at: DateTime<Utc>,
    pub duration_ms: i32,
    /// The receiver's HTTP status; null when it did not answer.
    pub status_code: Option<i32>,
    /// `timeout`, `connect_failed`, `target_refused`, …
    pub error: Option<String>,
    /// The first bytes of the receiver's answer.
    pub body_excerpt: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The event's id (as in the payload and the change feed).
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// `pending` | `delivered` | `failed`
    pub status: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempts: Vec<AttemptView>,
}

fn parse_events(events: &[String], errs: &mut FieldErrors) -> Vec<String> {
    let mut out: Vec<EventType> = Vec::new();
    if events.is_empty() {
        errs.push("events", "err.code.choose", vec![]);
    }
    for (i, e) in events.iter().enumerate() {
        match EventType::parse(e.trim()) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => errs.push(
                format!("events[{i}]"),
                "err.code.unknown",
                vec![("value", e.chars().take(40).collect())],
            ),
        }
    }
    out.sort_by_key(|t| EventType::ALL.iter().position(|x| x == t));
    out.iter().map(|t| t.code().to_string()).collect()
}

/// Registers a webhook for the caller's exchange: 422 for a malformed URL or unknown events,
/// 422 `webhook_target_refused` when the URL's resolved address is not allowed.
#[tracing::instrument(skip(state, admin, input), fields(admin = %admin.id))]
pub async fn create(
    state: &AppState,
    admin: &CurrentUser,
    input: WebhookInput,
) -> Result<CreatedWebhook> {
    let exchange = admin.require_admin()?;
    admin.require_scope(Scope::Webhooks)?;
    let mut errs = FieldErrors::new();
    let url = input.url.trim().to_string();
    let parsed = if url.chars().count() > URL_MAX {
        errs.push(
            "url",
            "err.text.too_long",
            vec![("max", URL_MAX.to_string())],
        );
        None
    } else {
        match target::parse(&url) {
            Some(t) => Some(t),
            None => {
                errs.push("url", "err.webhook.url", vec![]);
                None
            }
        }
    };
    let events = parse_events(&input.events, &mut errs);
    errs.into_result()?;
    let Some(parsed) = parsed else {
        return Err(Error::Internal(anyhow::anyhow!("url checked above")));
    };
    if target::check(&state.config.webhook_allow, &parsed)
        .await
        .is_err()
    {
        let mut f = FieldErrors::new();
        f.push("url", "err.webhook.refused", vec![]);
        return Err(Error::Unprocessable {
            code: "webhook_target_refused",
            fields: f,
            extra: None,
        });
    }
    let id = Uuid::now_v7();
    let secret = token::generate("whsec_");
    let mut tx = state.pool.begin().await?;
    db::interconnect::insert_webhook(
        &mut tx,
        db::interconnect::NewWebhook {
            id,
            exchange: exchange.code(),
            url: &url,
            events: &events,
            secret: &secret,
            created_by: &admin.email,
            now: state.clock.now(),
        },
    )
    .await?;
    audit(
        &mut tx,
        admin,
        "webhook.create",
        "webhook",
        id,
        None,
        Some(serde_json::json!({"url": url, "events": events})),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedWebhook {
        id,
        secret,
        url,
        events,
    })
}

async fn own_webhook(state: &AppState, admin: &CurrentUser, id: Uuid) -> Result<WebhookRow> {
    let exchange = admin.require_admin()?;
    admin.require_scope(Scope::Webhooks)?;
    let mut conn = state.pool.acquire().await?;
    let w = db::interconnect::webhook(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    if w.exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    Ok(w)
}

pub async fn list(state: &AppState, admin: &CurrentUser) -> Result<Vec<WebhookView>> {
    let exchange = admin.require_admin()?;
    admin.require_scope(Scope::Webhooks)?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::interconnect::webhooks_of(&mut conn, exchange.code()).await?;
    Ok(rows.iter().map(WebhookView::from).collect())
}

pub async fn get(state: &AppState, admin: &CurrentUser, id: Uuid) -> Result<WebhookView> {
    Ok(WebhookView::from(&own_webhook(state, admin, id).await?))
}

/// Stops a webhook: nothing more is sent to it (what was waiting is marked failed).
#[tracing::instrument(skip(state, admin), fields(admin = %admin.id))]
pub async fn disable(state: &AppState, admin: &CurrentUser, id: Uuid) -> Result<()> {
    let w = own_webhook(state, admin, id).await?;
    if w.disabled_at.is_some() {
        return Ok(());
    }
    let mut tx = state.pool.begin().await?;
    db::interconnect::disable_webhook(&mut tx, id, state.clock.now()).await?;
    audit(
        &mut tx,
        admin,
        "webhook.disable",
        "webhook",
        id,
        Some(serde_json::json!({"url": w.url, "disabled": false})),
        Some(serde_json::json!({"url": w.url, "disabled": true})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The deliveries of a webhook, newest event first, each with its attempts.
pub async fn deliveries(
    state: &AppState,
    admin: &CurrentUser,
    id: Uuid,
    page: PageQuery,
) -> Result<Page<DeliveryView>> {
    own_webhook(state, admin, id).await?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = state.pool.acquire().await?;
    let (rows, total) =
        db::interconnect::deliveries(&mut conn, id, per_page, (page - 1) * per_page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let attempts = db::interconnect::attempts_of(&mut conn, &ids).await?;
    let items = rows
        .iter()
        .map(|r| DeliveryView {
            id: r.id,
            event_id: r.seq.to_string(),
            kind: r.kind.clone(),
            status: r.status.clone(),
            next_attempt_at: (r.status == "pending").then_some(r.next_attempt_at),
            delivered_at: r.delivered_at,
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == r.id)
                .map(|a| AttemptView {
                    at: a.at,
                    duration_ms: a.duration_ms,
                    status_code: a.status_code,
                    error: a.error.clone(),
                    body_excerpt: a.body_excerpt.clone(),
                })
                .collect(),
        })
        .collect();
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

/// Sends a delivery again (due now, with a fresh 24 h of retries), whatever became of it.
#[tracing::instrument(skip(state, admin), fields(admin = %admin.id))]
pub async fn redeliver(
    state: &AppState,
    admin: &CurrentUser,
    id: Uuid,
    delivery: i64,
) -> Result<()> {
    let w = own_webhook(state, admin, id).await?;
    if w.disabled_at.is_some() {
        return Err(Error::conflict("webhook_disabled"));
    }
    let mut tx = state.pool.begin().await?;
    if !db::interconnect::redeliver(&mut tx, id, delivery, state.clock.now()).await? {
        return Err(Error::NotFound);
    }
    audit(
        &mut tx,
        admin,
        "webhook.redeliver",
        "webhook",
        id,
        None,
        Some(serde_json::json!({"delivery_id": delivery})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
