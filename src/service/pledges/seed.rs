//! Demo data of technology finance: the demo bank (示例天府科技银行) offers one financing product,
//! and the chip institute has applied to it against its ADC chip patent (the request awaits the
//! bank), so `/finance` and the pledge pages show something. Through the use cases; idempotent
//! (the bank's product once, the institute's request once).
use crate::service::demo::user;
use crate::service::{AppState, PageQuery};

use super::{PledgeInput, PledgeQuery, ProductInput};

const BANK: &str = "bank@demo.techmarket.cn";
const OWNER: &str = "chip@demo.techmarket.cn";
const LISTING: &str = "高速高精度流水线模数转换器芯片";

/// Demo data of this area, called by `demo::load` after the listings exist.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let pool = &state.pool;
    let (Some(bank), Some(owner)) = (user(pool, BANK).await?, user(pool, OWNER).await?) else {
        return Ok(());
    };
    let Some(lender) = bank.organization_id else {
        return Ok(());
    };
    let offered = super::products(
        pool,
        PageQuery {
            page: None,
            per_page: Some(100),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo products: {e}"))?
    .items
    .iter()
    .any(|p| p.lender.id == lender);
    if !offered {
        super::create_product(
            state,
            &bank,
            ProductInput {
                name: "科技成果质押贷（Technology IP pledge loan）".into(),
                rate_min_ppm: 35_000,
                rate_max_ppm: 55_000,
                max_amount_fen: 5_000_000_000,
                term_min_months: 6,
                term_max_months: 36,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo product: {e}"))?;
    }
    let requested = super::list(pool, &owner, &PledgeQuery::default())
        .await
        .map_err(|e| anyhow::anyhow!("demo pledges: {e}"))?
        .total
        > 0;
    if requested {
        return Ok(());
    }
    let listing: Option<uuid::Uuid> = sqlx::query_scalar(
        "select id from listings where title = $1 and organization_id = $2 and status = 'listed' limit 1",
    )
    .bind(LISTING)
    .bind(owner.organization_id)
    .fetch_optional(pool)
    .await?;
    let Some(listing) = listing else {
        return Ok(());
    };
    super::apply(
        state,
        &owner,
        listing,
        PledgeInput {
            lender_organization_id: lender,
            amount_fen: 800_000_000,
            term_months: 12,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo pledge request: {e}"))?;
    Ok(())
}
