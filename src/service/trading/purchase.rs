//! Fixed-price purchases: the listing row is locked, so an exclusive listing sells exactly once.

use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::domain::codes::PricingMode;
use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::guards;
use crate::service::idempotency::{self, Claim};

use super::{
    check_mode, complete, make_trade, not_own, require_listed, require_pricing, to_json, visible,
    Replayable, Sale, TradeCreated,
};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BuyInput {
    pub transaction_mode: String,
}

// ---------------------------------------------------------------- purchases

/// `POST /listings/{id}/buy`: buys a fixed-price listing at its price. The listing row is locked,
/// so of many buyers of an exclusive listing exactly one gets the trade (the unique index
/// `trades_one_exclusive` is the backstop); a non-exclusive licence sells to many.
pub async fn buy(
    pool: &PgPool,
    user: &CurrentUser,
    listing_id: Uuid,
    input: BuyInput,
    key: Option<String>,
) -> Result<Replayable> {
    let (pool, user) = (pool.clone(), user.clone());
    complete(async move {
        let org = user.require_org()?;
        let fp = idempotency::fingerprint(&format!("buy:{listing_id}"), &input);
        let mut tx = match idempotency::begin(&pool, user.id, key.as_deref(), &fp).await? {
            Claim::Fresh(tx) => tx,
            Claim::Replay(s, b) => return Ok((s, b)),
        };
        let listing = visible(
            db::trading::listing_for_update(&mut tx, listing_id).await?,
            org,
        )?;
        not_own(&listing, org)?;
        guards::require_active_org_locked(&mut tx, org).await?;
        let mut errs = FieldErrors::new();
        let mode = check_mode(&listing, &input.transaction_mode, &mut errs);
        let mode = mode.ok_or(Error::Validation(errs))?;
        require_pricing(&listing, PricingMode::Fixed)?;
        require_listed(&listing)?;
        let price = listing
            .price_fen
            .ok_or_else(|| Error::conflict("listing_not_available"))?;
        let now = Utc::now();
        let sale = Sale {
            buyer_org: org,
            price_fen: price,
            mode,
            source: "purchase",
            offer_id: None,
            now,
        };
        let trade = make_trade(&mut tx, &listing, sale).await?;
        // The organisation bought; the audit log names the colleague who did.
        let after = serde_json::json!({ "organization_id": org, "trade_id": trade.id });
        audit(
            &mut tx,
            &user,
            "listing.buy",
            "listing",
            listing.id,
            None,
            Some(after),
        )
        .await?;
        if mode.is_exclusive() {
            db::trading::close_open_offers(&mut tx, listing.id, now).await?;
        }
        let body = to_json(&TradeCreated { trade })?;
        idempotency::finish(tx, user.id, key.as_deref(), StatusCode::CREATED, &body).await?;
        Ok((StatusCode::CREATED, body))
    })
    .await
}
