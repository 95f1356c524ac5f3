//! Demo data of the brokers: 张工 of the rail institute certified by the south-west technology
//! transfer centre, engaged by the seller (the Chongqing equipment university) for its side of the
//! control valve's trade, still awaiting payment, and accepted — so the trade page shows the
//! engagement and, to the buyer, the step that engages one for its own side; the broker's page
//! shows a deal. Through the use cases; idempotent (certified once, engaged
//! once).
use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;
use crate::service::demo::user;

use super::{CertifyInput, EngageInput};

const BROKER: &str = "rail@demo.techmarket.cn";
const CERTIFICATE: &str = "川技经证〔2026〕第0007号";

/// Demo data of this area, called by `demo::load` after the trades exist.
pub async fn seed_demo(pool: &PgPool) -> anyhow::Result<()> {
    let (Some(admin), Some(member), Some(buyer), Some(seller)) = (
        user(pool, "admin-nttc@demo.techmarket.cn").await?,
        user(pool, BROKER).await?,
        user(pool, "buyer-energy@demo.techmarket.cn").await?,
        user(pool, "equip@demo.techmarket.cn").await?,
    ) else {
        return Ok(());
    };
    let mut conn = pool.acquire().await?;
    let existing = db::brokers::of_user(&mut conn, member.id).await?;
    drop(conn);
    let broker = match existing {
        Some(b) => b.id,
        None => {
            super::certify(
                pool,
                &admin,
                CertifyInput {
                    user_id: member.id,
                    certificate_no: CERTIFICATE.into(),
                },
                Utc::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo broker: {e}"))?
            .id
        }
    };
    let trade: Option<Uuid> = sqlx::query_scalar(
        "select id from trades where buyer_organization_id = $1 and seller_organization_id = $2 \
           and status = 'awaiting_payment' order by created_at limit 1",
    )
    .bind(buyer.organization_id)
    .bind(seller.organization_id)
    .fetch_optional(pool)
    .await?;
    let Some(trade) = trade else {
        return Ok(());
    };
    let mut conn = pool.acquire().await?;
    let engaged = !db::brokers::of_trade(&mut conn, trade).await?.is_empty();
    drop(conn);
    if engaged {
        return Ok(());
    }
    let e = super::engage(
        pool,
        &seller,
        trade,
        EngageInput {
            broker_id: broker,
            side: "seller".into(),
            commission_ppm: 20_000,
        },
        Utc::now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo engagement: {e}"))?;
    super::answer(pool, &member, e.id, true, Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("demo engagement accepted: {e}"))?;
    Ok(())
}
