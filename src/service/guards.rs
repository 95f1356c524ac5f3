//! Checks shared by every use case that lets an organisation act in the market.
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, Result};

/// 403 `organization_unverified` or `organization_restricted` unless the organisation may trade.
/// A credit restriction set by any exchange holds in all four; one whose end date has passed no
/// longer applies.
pub async fn require_active_org(conn: &mut PgConnection, org: Uuid) -> Result<()> {
    let row: Option<(bool, bool)> = sqlx::query_as(
        "select o.verified_at is not null, exists(select 1 from org_restrictions r where r.organization_id = o.id \
             and r.lifted_at is null and (r.until is null or r.until > now())) \
         from organizations o where o.id = $1",
    )
    .bind(org)
    .fetch_optional(conn)
    .await?;
    match row {
        None => Err(Error::Forbidden("organization_required")),
        Some((_, true)) => Err(Error::Forbidden("organization_restricted")),
        Some((false, _)) => Err(Error::Forbidden("organization_unverified")),
        Some((true, false)) => Ok(()),
    }
}
