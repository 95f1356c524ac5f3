//! Cancellation with consequences (issue 15 item 8): before payment either party may cancel, with a
//! reason; a buyer's cancellation, and a trade left unpaid past its deadline, count against the
//! buyer organisation (`cancellations_90d`, shown to sellers and admins). A second one within
//! [`WINDOW_DAYS`] days, or any payment timeout, is reported to the admins of the buyer's exchange,
//! who may restrict the organisation (`restrictions`). After payment only a dispute undoes a trade.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::settlement::{self as sdb, TradeRow};
use crate::domain::error::FieldErrors;
use crate::error::Result;
use crate::service::accounts::OrgView;
use crate::service::events::{self, Event, TradeFacts};

use super::{check_reason, transition, Action};

/// The window over which a buyer's cancellations are counted.
pub const WINDOW_DAYS: i64 = 90;
/// From this many cancellations within the window, the buyer's exchange is told.
pub const REPORT_FROM: i64 = 2;

/// `POST /trades/{id}/cancel`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CancelInput {
    pub reason: String,
}

/// How a buyer let a trade down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuyerDefault {
    /// It cancelled before paying.
    Cancelled,
    /// It did not pay by the deadline.
    PaymentTimeout,
}

/// The reason of a cancellation, checked (422 when missing or too long).
pub(super) fn required_reason(note: Option<&str>) -> Result<&str> {
    let mut errs = FieldErrors::new();
    check_reason("reason", note.unwrap_or(""), &mut errs);
    errs.into_result()?;
    Ok(note.unwrap_or("").trim())
}

/// Either party cancels a trade awaiting payment, with a reason (422 without one, before any
/// state check); a paid trade → 409 `invalid_trade_state` (only a dispute undoes it). Honours
/// `Idempotency-Key`. Run it to completion.
pub async fn cancel(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    input: CancelInput,
    key: Option<&str>,
) -> Result<(StatusCode, serde_json::Value)> {
    let reason = required_reason(Some(&input.reason))?;
    transition(pool, user, id, Action::Cancel, Some(reason), key).await
}

/// The buyer organisation's cancellations and payment timeouts in the [`WINDOW_DAYS`] before `now`.
pub async fn cancellations_90d(
    conn: &mut PgConnection,
    org: Uuid,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(sdb::buyer_cancellations(conn, org, now - Duration::days(WINDOW_DAYS)).await?)
}

/// Fills `cancellations_90d` of each organisation: its count over the [`WINDOW_DAYS`] before `now`
/// (one query for all of them).
pub async fn count_cancellations(
    conn: &mut PgConnection,
    orgs: &mut [OrgView],
    now: DateTime<Utc>,
) -> Result<()> {
    if orgs.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = orgs.iter().map(|o| o.id).collect();
    let counts: HashMap<Uuid, i64> =
        db::organizations::buyer_cancellation_counts(conn, &ids, now - Duration::days(WINDOW_DAYS))
            .await?
            .into_iter()
            .collect();
    for o in orgs {
        o.cancellations_90d = Some(counts.get(&o.id).copied().unwrap_or(0));
    }
    Ok(())
}

/// What follows a buyer's default, in the cancellation's transaction (`t` already cancelled):
/// the admins of the buyer's exchange are told of a payment timeout, and of a cancellation that is
/// the organisation's second (or later) within the window.
///
/// The buyer organisation's row is locked first (after the listing and the trade: the market's
/// lock order), so two defaults of one organisation at once are counted one after the other: the
/// second counts the first, and the second cancellation is reported exactly once.
pub(super) async fn buyer_defaulted(
    conn: &mut PgConnection,
    t: &TradeRow,
    how: BuyerDefault,
    now: DateTime<Utc>,
) -> Result<()> {
    db::organizations::lock_no_key(conn, t.buyer_organization_id).await?;
    let count = cancellations_90d(conn, t.buyer_organization_id, now).await?;
    // A deposit applied to the trade is forfeited to the seller by the caller, in this same
    // transaction (`trading::on_trade_cancelled`: on a buyer's cancellation and on a payment timeout).
    if how == BuyerDefault::PaymentTimeout || count >= REPORT_FROM {
        events::emit(
            conn,
            &Event::BuyerDefaulted {
                trade: TradeFacts::from(t),
                number: t.number.clone(),
                buyer_name: t.buyer_name.clone(),
                buyer_exchange: t.buyer_exchange.clone(),
                timeout: how == BuyerDefault::PaymentTimeout,
                reason: t.cancel_note.clone().unwrap_or_default(),
                count,
            },
        )
        .await?;
    }
    Ok(())
}
