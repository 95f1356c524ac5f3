//! Likely duplicates for reviewers: other listings of the same owner with very similar titles
//! (domain::duplicates). A hint beside the hard rule (one IP number in one active listing, 409
//! `duplicate_ip`, checked at submission and approval in `workflow`).
use std::collections::HashMap;

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::domain::duplicates;
use crate::error::Result;

use super::ListingView;

/// Another listing of the same owner whose title is very like this one's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LikelyDuplicate {
    pub id: Uuid,
    pub title: String,
    pub status: String,
    /// 0–100.
    pub similarity: u32,
}

/// For each listing given (a reviewer's queue or one listing), the likely duplicates among its
/// owner's other listings (any exchange, withdrawn ones aside), most alike first. Admins only.
pub async fn likely_duplicates(
    pool: &PgPool,
    admin: &CurrentUser,
    listings: &[&ListingView],
) -> Result<HashMap<Uuid, Vec<LikelyDuplicate>>> {
    admin.require_admin()?;
    let mut orgs: Vec<Uuid> = listings.iter().map(|l| l.organization.id).collect();
    orgs.sort();
    orgs.dedup();
    let mut out = HashMap::new();
    if orgs.is_empty() {
        return Ok(out);
    }
    let mut conn = pool.acquire().await?;
    let all = db::listings::titles_of_orgs(&mut conn, &orgs).await?;
    for l in listings {
        let mut found: Vec<LikelyDuplicate> = all
            .iter()
            .filter(|(id, org, _, _)| *id != l.id && *org == l.organization.id)
            .filter_map(|(id, _, title, status)| {
                let similarity = duplicates::title_similarity(&l.title, title);
                (similarity >= duplicates::LIKELY_PERCENT).then(|| LikelyDuplicate {
                    id: *id,
                    title: title.clone(),
                    status: status.clone(),
                    similarity,
                })
            })
            .collect();
        found.sort_by_key(|d| std::cmp::Reverse(d.similarity));
        if !found.is_empty() {
            out.insert(l.id, found);
        }
    }
    Ok(out)
}
