//! Checks shared by every use case that lets an organisation act in the market.
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, Result};

/// 403 `organization_unverified` or `organization_restricted` unless the organisation may trade.
/// A credit restriction set by any exchange holds in all four; one whose end date has passed no
/// longer applies.
pub async fn require_active_org(conn: &mut PgConnection, org: Uuid) -> Result<()> {
    active_org(crate::db::organizations::standing(conn, org).await?)
}

/// [`require_active_org`] on a standing read by the caller's own statement
/// ([`crate::db::organizations::standing`]: verified, restricted; none when there is no such
/// organisation).
pub fn active_org(standing: Option<(bool, bool)>) -> Result<()> {
    match standing {
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

/// [`require_active_org`] for a use case that makes a trade: the organisation's row stays share
/// locked until the caller commits, so a credit restriction set meanwhile waits for the trade
/// (and one committed before is seen: the standing is read in a statement after the lock).
pub async fn require_active_org_locked(conn: &mut PgConnection, org: Uuid) -> Result<()> {
    crate::db::organizations::lock_share(conn, org).await?;
    require_active_org(conn, org).await
}

/// [`require_unrestricted_counterparty`], with the same lock as [`require_active_org_locked`].
pub async fn require_unrestricted_counterparty_locked(
    conn: &mut PgConnection,
    org: Uuid,
) -> Result<()> {
    crate::db::organizations::lock_share(conn, org).await?;
    require_unrestricted_counterparty(conn, org).await
}
