//! The valuation reference (估值参考) a pledge request carries, computed when it is made and kept
//! as it was then: the listing price, the latest published expert evaluation (its summary: medians
//! and spread), the median and count of settled trades of the same field and IP type in
//! the last 24 months, and the owner organisation's standing.
use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::domain::pledge::{median, COMPARABLE_MONTHS};
use crate::error::{Error, Result};

/// Comparable prices kept with a valuation (for its chart), newest first.
pub const COMPARABLES_KEPT: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Valuation {
    /// The listed price (or the indicative price of a negotiable listing); null for none.
    pub listing_price_fen: Option<i64>,
    /// The latest published expert evaluation (`GET /listings/{id}/evaluation`); null while the
    /// listing has none.
    #[schema(value_type = Option<Object>)]
    pub evaluation: Option<serde_json::Value>,
    /// Median price of settled trades of the same `field` and `ip_type` settled in the 24 months
    /// before `computed_at` (even count: mean of the middle two, half up); null for none.
    pub comparable_median_price_fen: Option<i64>,
    pub comparable_count: i64,
    pub comparable_field: String,
    pub comparable_ip_type: String,
    pub comparable_since: DateTime<Utc>,
    /// Up to 50 of those trades, newest first: the chart's points.
    pub comparables: Vec<ComparablePrice>,
    pub owner: OwnerStanding,
    pub computed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ComparablePrice {
    pub price_fen: i64,
    pub settled_at: DateTime<Utc>,
}

/// The owner organisation's standing when the request was made.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OwnerStanding {
    pub organization_id: Uuid,
    pub verified: bool,
    /// Under a credit restriction (信用惩戒).
    pub restricted: bool,
    /// Trades it settled, as buyer or seller.
    pub trades_settled: i64,
}

/// What the valuation is computed for.
pub struct Subject<'a> {
    pub listing_id: Uuid,
    pub owner_org: Uuid,
    pub field: &'a str,
    pub ip_type: &'a str,
    pub price_fen: Option<i64>,
}

pub async fn compute(
    conn: &mut PgConnection,
    s: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<Valuation> {
    let since = now
        .checked_sub_months(Months::new(COMPARABLE_MONTHS))
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("date out of range")))?;
    let rows = db::pledges::comparable_prices(conn, s.field, s.ip_type, since, now).await?;
    let prices: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let (verified, restricted) = db::organizations::standing(conn, s.owner_org)
        .await?
        .unwrap_or((false, false));
    let trades_settled = db::pledges::trades_settled(conn, s.owner_org).await?;
    // The latest published expert evaluation's summary (medians and spread), as it is now.
    let evaluation = match crate::service::experts::listing_summary(conn, s.listing_id).await? {
        Some(e) => Some(serde_json::to_value(e).map_err(|e| Error::Internal(e.into()))?),
        None => None,
    };
    Ok(Valuation {
        listing_price_fen: s.price_fen,
        evaluation,
        comparable_median_price_fen: median(&prices),
        comparable_count: i64::try_from(prices.len()).unwrap_or(i64::MAX),
        comparable_field: s.field.to_string(),
        comparable_ip_type: s.ip_type.to_string(),
        comparable_since: since,
        comparables: rows
            .into_iter()
            .take(COMPARABLES_KEPT)
            .map(|(price_fen, settled_at)| ComparablePrice {
                price_fen,
                settled_at,
            })
            .collect(),
        owner: OwnerStanding {
            organization_id: s.owner_org,
            verified,
            restricted,
            trades_settled,
        },
        computed_at: now,
    })
}
