//! Technology finance (科技金融): lenders' financing products and IP pledge financing
//! (知识产权质押融资, issue 22).
//!
//! A pledge request runs `submitted → active → released` or `submitted → rejected`; only members
//! of the chosen lender decide, release and consent, and every step is audited and told to the
//! other side in its transaction. While a pledge is `active`, [`check_trade`] refuses every trade
//! of the listing in a mode the lender has not consented to (409 `ip_pledged`).
//!
//! Locking: every change of a pledge's status locks its listing's row first (then the request's),
//! the same row offers, purchases and auction closes lock before they make a trade. So a pledge
//! approved while an offer is being accepted is either seen by the accept (refused) or waits for
//! it (and then finds the listing sold): never both.
//!
//! Rooms: `requests` (apply, queue, approve, reject, release, consent), `valuation` (the reference
//! computed when a request is made), `products` (lenders and their financing products).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::pledges::PledgeRow;
use crate::domain::codes::TransactionMode;
use crate::domain::pledge;
use crate::error::{Error, Result};

mod products;
mod requests;
mod seed;
mod valuation;

pub use products::*;
pub use requests::*;
pub use seed::seed_demo;
pub use valuation::*;

/// An organisation named in a pledge.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = PledgeOrg)]
pub struct OrgName {
    pub id: Uuid,
    pub name: String,
}

/// A pledge request as the owner and the lender see it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PledgeView {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub owner_organization: OrgName,
    pub lender_organization: OrgName,
    pub amount_fen: i64,
    pub term_months: i32,
    /// `submitted` | `active` | `rejected` | `released`
    pub status: String,
    pub valuation: Valuation,
    /// The 质押登记 registration number, once approved.
    pub registration_no: Option<String>,
    pub reject_reason: Option<String>,
    /// The transaction modes the lender consented to while the pledge is active.
    pub consented_modes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub released_at: Option<DateTime<Utc>>,
}

impl PledgeView {
    fn from_row(r: &PledgeRow) -> Result<Self> {
        let valuation: Valuation = serde_json::from_value(r.valuation.clone())
            .map_err(|e| Error::Internal(anyhow::anyhow!("pledge valuation {}: {e}", r.id)))?;
        Ok(PledgeView {
            id: r.id,
            listing_id: r.listing_id,
            listing_title: r.listing_title.clone(),
            owner_organization: OrgName {
                id: r.owner_organization_id,
                name: r.owner_name.clone(),
            },
            lender_organization: OrgName {
                id: r.lender_organization_id,
                name: r.lender_name.clone(),
            },
            amount_fen: r.amount_fen,
            term_months: r.term_months,
            status: r.status.clone(),
            valuation,
            registration_no: r.registration_no.clone(),
            reject_reason: r.reject_reason.clone(),
            consented_modes: r.consented_modes.clone(),
            created_at: r.created_at,
            decided_at: r.decided_at,
            released_at: r.released_at,
        })
    }
}

/// What a listing shows while it is pledged (`pledge` in the listing's JSON).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListingPledge {
    /// Always `active`: released and rejected pledges are not shown.
    pub status: String,
    pub lender: OrgName,
    pub registration_no: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Modes the lender consented to; a trade in any other mode is refused (`ip_pledged`).
    pub consented_modes: Vec<String>,
}

/// The listing's active pledge, as the listing shows it.
pub async fn listing_pledge(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> Result<Option<ListingPledge>> {
    Ok(db::pledges::active_for_listing(conn, listing_id)
        .await?
        .map(|p| ListingPledge {
            status: p.status,
            lender: OrgName {
                id: p.lender_organization_id,
                name: p.lender_name,
            },
            registration_no: p.registration_no,
            since: p.decided_at,
            consented_modes: p.consented_modes,
        }))
}

/// The listing's active pledge, from the listing's one-statement read (`db::listing_detail`).
pub fn pledge_of_detail(row: &db::listing_detail::ListingDetailRow) -> Option<ListingPledge> {
    Some(ListingPledge {
        status: row.pledge_status.clone()?,
        lender: OrgName {
            id: row.pledge_lender_id?,
            name: row.pledge_lender_name.clone()?,
        },
        registration_no: row.pledge_registration_no.clone(),
        since: row.pledge_decided_at,
        consented_modes: row.pledge_consented_modes.clone().unwrap_or_default(),
    })
}

/// The 409 `ip_pledged` of a pledge: names the lender and the registration number.
fn pledged(p: &PledgeRow) -> Error {
    Error::Conflict {
        code: "ip_pledged",
        args: vec![
            ("lender", p.lender_name.clone()),
            (
                "registration_no",
                p.registration_no.clone().unwrap_or_default(),
            ),
        ],
        extra: Some(serde_json::json!({
            "pledge": {
                "id": p.id,
                "lender": {"id": p.lender_organization_id, "name": p.lender_name},
                "registration_no": p.registration_no,
                "consented_modes": p.consented_modes,
            }
        })),
    }
}

/// The pledge lock: 409 `ip_pledged` if the listing is actively pledged and the lender has not
/// consented to `mode`. The caller holds the listing's row lock (`FOR UPDATE`), which every change
/// of a pledge's status takes first, so the answer holds until it commits.
pub async fn check_trade(
    conn: &mut PgConnection,
    listing_id: Uuid,
    mode: TransactionMode,
) -> Result<()> {
    match blocking(conn, listing_id, mode).await? {
        Some(p) => Err(pledged(&p)),
        None => Ok(()),
    }
}

/// The active pledge that refuses a trade of the listing in `mode`, if any.
pub async fn blocking(
    conn: &mut PgConnection,
    listing_id: Uuid,
    mode: TransactionMode,
) -> Result<Option<PledgeRow>> {
    Ok(db::pledges::active_for_listing(conn, listing_id)
        .await?
        .filter(|p| pledge::blocks(mode, &p.consented_modes)))
}

#[cfg(test)]
mod tests {
    use crate::i18n::{self, Lang};

    #[test]
    fn every_error_of_this_area_is_translated() {
        for code in [
            "ip_pledged",
            "listing_not_pledgeable",
            "lender_not_available",
            "pledge_not_submitted",
            "pledge_not_active",
            "not_lender",
            "not_financial_institution",
        ] {
            for lang in [Lang::Zh, Lang::En] {
                assert!(
                    i18n::catalog(lang).contains_key(&format!("error.{code}")),
                    "error.{code} ({})",
                    lang.code()
                );
            }
        }
    }
}
