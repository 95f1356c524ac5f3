//! Delivery and acceptance: the seller records delivery of a paid trade; the buyer confirms it
//! (`Action::ConfirmDelivery`) within the acceptance period of the listing's exchange, or the
//! periodic job settles it when the period ends (safe with several processes).

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::settlement::{self as sdb, TradeRow};
use crate::domain::error::FieldErrors;
use crate::domain::ledger::{self, Posting};
use crate::domain::listing::TradeStatus;
use crate::error::{Error, Result};
use crate::service::events::{self, Event, TradeFacts};
use crate::service::idempotency::{self, Claim};

use super::{flush, invalid_state, micros, parse_exchange, party_of, Party, TradeView};

/// Longest delivery note, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// `POST /trades/{id}/delivery`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryInput {
    pub note: String,
}

/// The settlement postings of a trade (DOMAIN.md): escrow to the seller's payable and both
/// exchanges' revenue.
pub(super) fn settlement_postings(t: &TradeRow) -> Result<Vec<Posting>> {
    let buyer_ex = parse_exchange(&t.buyer_exchange)?;
    let seller_ex = parse_exchange(&t.seller_exchange)?;
    Ok(ledger::settlement_postings(
        &t.id.to_string(),
        &t.seller_organization_id.to_string(),
        buyer_ex,
        seller_ex,
        t.price_fen,
        t.buyer_fee_fen,
        t.seller_fee_fen,
    ))
}

/// The seller records delivery of a paid trade → `delivered`, with the acceptance period of the
/// listing's exchange. 403 `seller_only` for anyone else who may see the trade; 409 unless paid.
pub async fn deliver(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    input: DeliveryInput,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(StatusCode, serde_json::Value)> {
    let note = input.note.trim();
    let mut errs = FieldErrors::new();
    if note.is_empty() {
        errs.push("note", "err.text.required", vec![("min", "1".into())]);
    } else if note.chars().count() > MAX_NOTE_CHARS {
        errs.push(
            "note",
            "err.text.too_long",
            vec![("max", MAX_NOTE_CHARS.to_string())],
        );
    } else if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errs.push("note", "err.text.control_chars", vec![]);
    }
    errs.into_result()?;
    let fp = idempotency::fingerprint(&format!("trade.delivery:{id}"), &input);
    let mut tx = match idempotency::begin(pool, user.id, key, &fp).await? {
        Claim::Replay(status, body) => return Ok((status, body)),
        Claim::Fresh(tx) => tx,
    };
    let mut t = sdb::lock_trade(&mut tx, id).await?.ok_or(Error::NotFound)?;
    match party_of(user, &t).ok_or(Error::NotFound)? {
        Party::Seller => {}
        _ => return Err(Error::Forbidden("seller_only")),
    }
    let status = TradeStatus::parse(&t.status)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown trade status {}", t.status)))?;
    if !status.can_deliver() {
        return Err(invalid_state(&t));
    }
    let now = micros(now);
    let days = db::delivery::acceptance_days(&mut tx, &t.seller_exchange).await?;
    let due = now + Duration::days(i64::from(days));
    db::delivery::set_delivered(&mut tx, t.id, note, now, due).await?;
    t.status = TradeStatus::Delivered.code().into();
    t.delivered_at = Some(now);
    t.delivery_note = Some(note.to_string());
    t.acceptance_due_at = Some(due);
    events::emit(&mut tx, &Event::TradeDelivered(TradeFacts::from(&t))).await?;
    let body = serde_json::to_value(TradeView::from(&t)).map_err(|e| Error::Internal(e.into()))?;
    idempotency::finish(tx, user.id, key, StatusCode::OK, &body).await?;
    Ok((StatusCode::OK, body))
}

/// Settles delivered trades whose acceptance period ended by `now` (the buyer neither confirmed nor
/// disputed), one transaction each, each exactly once however many processes run this. Returns
/// how many were settled.
pub async fn settle_accepted(pool: &PgPool, now: DateTime<Utc>) -> Result<usize> {
    let mut done = 0;
    for _ in 0..200 {
        let mut tx = pool.begin().await?;
        let Some(id) = db::delivery::lock_accepted(&mut tx, now).await? else {
            break;
        };
        let Some(mut t) = sdb::lock_trade(&mut tx, id).await? else {
            break;
        };
        let at = micros(now);
        let base = settlement_postings(&t)?;
        let (postings, _) =
            super::settle_and_issue(&mut tx, &t, base, at, "acceptance_period").await?;
        t.status = TradeStatus::Settled.code().into();
        t.settled_at = Some(at);
        let settled = Event::TradeSettled(TradeFacts::from(&t));
        super::post_with_event(&mut tx, Some(t.id), &postings, at, &settled).await?;
        tx.commit().await?;
        done += 1;
    }
    if done > 0 {
        flush(pool).await?;
    }
    Ok(done)
}
