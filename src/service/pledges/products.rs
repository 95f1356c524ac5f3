//! Lenders (verified financial institutions) and their financing products (科技金融产品),
//! shown on the public technology-finance page.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::pledge::{self, ProductTerms, PRODUCT_NAME_MAX};
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::{guards, AppState, Page, PageQuery};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductInput {
    /// 2–100 characters.
    pub name: String,
    pub rate_min_ppm: i64,
    pub rate_max_ppm: i64,
    pub max_amount_fen: i64,
    pub term_min_months: i64,
    pub term_max_months: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub lender: super::OrgName,
    pub name: String,
    pub rate_min_ppm: i64,
    pub rate_max_ppm: i64,
    pub max_amount_fen: i64,
    pub term_min_months: i32,
    pub term_max_months: i32,
    pub created_at: DateTime<Utc>,
}

/// A lender one may apply to.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LenderView {
    pub id: Uuid,
    pub name: String,
    pub province: String,
    pub exchange: String,
}

fn product_view(r: db::pledges::ProductRow) -> ProductView {
    ProductView {
        id: r.id,
        lender: super::OrgName {
            id: r.organization_id,
            name: r.lender_name,
        },
        name: r.name,
        rate_min_ppm: r.rate_min_ppm,
        rate_max_ppm: r.rate_max_ppm,
        max_amount_fen: r.max_amount_fen,
        term_min_months: r.term_min_months,
        term_max_months: r.term_max_months,
        created_at: r.created_at,
    }
}

/// A member of a verified, unrestricted financial institution publishes a product.
pub async fn create_product(
    state: &AppState,
    user: &CurrentUser,
    input: ProductInput,
) -> Result<ProductView> {
    let org = user.require_org()?;
    let mut tx = state.pool.begin().await?;
    guards::require_active_org(&mut tx, org).await?;
    if db::pledges::lender(&mut tx, org).await?.is_none() {
        return Err(Error::Forbidden("not_financial_institution"));
    }
    let mut errs = FieldErrors::new();
    check_text(&input.name, "name", 2, PRODUCT_NAME_MAX, &mut errs);
    pledge::check_product(
        &ProductTerms {
            rate_min_ppm: input.rate_min_ppm,
            rate_max_ppm: input.rate_max_ppm,
            max_amount_fen: input.max_amount_fen,
            term_min_months: input.term_min_months,
            term_max_months: input.term_max_months,
        },
        &mut errs,
    );
    errs.into_result()?;
    let id = Uuid::now_v7();
    let term = |m: i64| i32::try_from(m).unwrap_or(1);
    db::pledges::insert_product(
        &mut tx,
        &db::pledges::NewProduct {
            id,
            organization_id: org,
            name: input.name.trim(),
            rate_min_ppm: input.rate_min_ppm,
            rate_max_ppm: input.rate_max_ppm,
            max_amount_fen: input.max_amount_fen,
            term_min_months: term(input.term_min_months),
            term_max_months: term(input.term_max_months),
            created_by: user.id,
            now: state.clock.now(),
        },
    )
    .await?;
    let after = serde_json::to_value(&input).map_err(|e| Error::Internal(e.into()))?;
    audit(
        &mut tx,
        user,
        "financing_product.create",
        "financing_product",
        id,
        None,
        Some(after),
    )
    .await?;
    let (rows, _) = db::pledges::products(&mut tx, 100, 0).await?;
    tx.commit().await?;
    rows.into_iter()
        .find(|r| r.id == id)
        .map(product_view)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("product {id} vanished")))
}

/// The products of verified financial institutions, newest first (public).
pub async fn products(pool: &PgPool, page: PageQuery) -> Result<Page<ProductView>> {
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::pledges::products(&mut conn, per_page, (page - 1) * per_page).await?;
    Ok(Page {
        items: rows.into_iter().map(product_view).collect(),
        total,
        page,
        per_page,
    })
}

/// The verified financial institutions one may apply to.
pub async fn lenders(pool: &PgPool) -> Result<Vec<LenderView>> {
    let mut conn = pool.acquire().await?;
    Ok(db::pledges::lenders(&mut conn)
        .await?
        .into_iter()
        .map(|l| LenderView {
            id: l.id,
            name: l.name,
            province: l.province,
            exchange: l.exchange,
        })
        .collect())
}
