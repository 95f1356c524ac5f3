//! Interconnection with the exchanges' own systems (API.md "Exchange systems"): API keys that act
//! for an exchange within scopes, webhooks fed by the transactional outbox
//! (`service::events::outbox` writes it inside each change's transaction), the delivery worker,
//! and the change feed for systems that poll.
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::CurrentUser;
use crate::db;
use crate::domain::interconnect::Scope;
use crate::error::{Error, Result};
use crate::service::AppState;

/// Posting events to webhooks: sequencing, leases per webhook, retries.
pub mod delivery;
/// Issuing, revoking and checking API keys; which scope each route needs.
pub mod keys;
/// The demo's webhook.
mod seed;
/// Resolving a webhook URL and checking its addresses against the allow-list.
pub mod target;
/// Registering webhooks, their deliveries, redelivery.
pub mod webhooks;
pub use seed::seed_demo;

/// One event, as a webhook receives it and as the change feed lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// Increases with every event: pass the last one you saw as `after`.
    pub id: String,
    /// `listing.submitted`, `listing.listed`, `trade.created`, `trade.paid`, `trade.settled`,
    /// `trade.cancelled`, `auction.closed`, `organization.restricted`
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    /// Ids and amounts of the change (README "For the exchanges' systems").
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventFeed {
    pub items: Vec<EventView>,
    /// The `after` of the next call (the last item's id, or the one given if there was none).
    pub next_after: String,
}

/// The most events one call of the feed returns.
pub const FEED_MAX: i64 = 1000;

fn invalid(field: &str, key: &'static str) -> Error {
    let mut f = crate::domain::error::FieldErrors::new();
    f.push(field, key, vec![("detail", String::new())]);
    Error::BadRequest {
        code: "invalid_query",
        fields: Some(f),
    }
}

/// The events that concern the caller's exchange after `after`, oldest first. An exchange's admin
/// or a key with `read`.
pub async fn feed(
    state: &AppState,
    user: &CurrentUser,
    after: Option<&str>,
    limit: Option<i64>,
) -> Result<EventFeed> {
    let exchange = user.require_admin()?;
    user.require_scope(Scope::Read)?;
    let after = match after.map(str::trim).filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid("after", "err.query.type"))?,
    };
    let limit = limit.unwrap_or(100);
    if !(1..=FEED_MAX).contains(&limit) {
        return Err(invalid("limit", "err.query.type"));
    }
    // What committed since the worker's last round is in the feed at once.
    delivery::sequence(state).await?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::interconnect::feed(&mut conn, exchange.code(), after, limit).await?;
    let next_after = rows.last().map(|r| r.seq).unwrap_or(after).to_string();
    Ok(EventFeed {
        items: rows
            .into_iter()
            .map(|r| EventView {
                id: r.seq.to_string(),
                kind: r.kind,
                created_at: r.created_at,
                data: r.data,
            })
            .collect(),
        next_after,
    })
}
