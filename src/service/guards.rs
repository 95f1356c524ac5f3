//! Checks shared by every use case that lets an organisation act in the market.
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, Result};

/// 403 `organization_unverified` or `organization_restricted` unless the organisation may trade.
/// A credit restriction set by any exchange holds in all four; one whose end date has passed no
/// longer applies.
pub async fn require_active_org(conn: &mut PgConnection, org: Uuid) -> Result<()> {
    let row = crate::db::organizations::standing(conn, org).await?;
    match row {
        None => Err(Error::Forbidden("organization_required")),
        Some((_, true)) => Err(Error::Forbidden("organization_restricted")),
        Some((false, _)) => Err(Error::Forbidden("organization_unverified")),
        Some((true, false)) => Ok(()),
    }
}

/// The other side of a deal being made now (the buyer of an accepted offer, say) must not be under
/// a credit restriction either: 409 `counterparty_restricted`.
pub async fn require_unrestricted_counterparty(conn: &mut PgConnection, org: Uuid) -> Result<()> {
    match crate::db::organizations::standing(conn, org).await? {
        Some((_, true)) => Err(Error::conflict("counterparty_restricted")),
        _ => Ok(()),
    }
}
