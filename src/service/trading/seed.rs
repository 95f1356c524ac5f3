//! Demo data of trading.

use chrono::{TimeDelta, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::domain::auction::min_next_bid;

use super::OFFER_DAYS;

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the
/// organisations, accounts and listings exist. Must be idempotent: a couple of bids on one demo
/// auction and one open negotiation, only where the listings' demo data made them.
pub async fn seed_demo(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    type Buyer = (Uuid, Uuid);
    async fn buyer(conn: &mut PgConnection, email: &str) -> anyhow::Result<Option<Buyer>> {
        Ok(sqlx::query_as(
            "select u.id, u.organization_id from users u where lower(u.email) = $1 and u.organization_id is not null",
        )
        .bind(email)
        .fetch_optional(conn)
        .await?)
    }
    let auto = buyer(&mut conn, "buyer-auto@demo.techmarket.cn").await?;
    let chip = buyer(&mut conn, "buyer-chip@demo.techmarket.cn").await?;
    let energy = buyer(&mut conn, "buyer-energy@demo.techmarket.cn").await?;
    drop(conn);

    // Once only: a rerun (after an interrupted load) finds what the first run made.
    let (has_bids, has_offers): (bool, bool) = sqlx::query_as(
        "select exists(select 1 from bids b join listings l on l.id = b.listing_id \
                       where l.created_by in (select id from users where email like '%@demo.techmarket.cn')), \
                exists(select 1 from offers o join listings l on l.id = o.listing_id \
                       where l.created_by in (select id from users where email like '%@demo.techmarket.cn'))",
    )
    .fetch_one(pool)
    .await?;

    // Bids on the first open demo auction that has none yet (and asks no deposit: its bidders
    // pay one first, see `seed_demo_deposit`).
    let auction: Option<(Uuid, Uuid)> = if has_bids {
        None
    } else {
        sqlx::query_as(
        "select a.listing_id, l.organization_id from auctions a join listings l on l.id = a.listing_id \
         where a.status = 'open' and a.bid_count = 0 and a.ends_at > now() + interval '1 hour' and a.deposit_fen is null \
           and l.status = 'listed' and l.created_by in (select id from users where email like '%@demo.techmarket.cn') \
         order by l.listed_at limit 1",
        )
        .fetch_optional(pool)
        .await?
    };
    if let Some((listing_id, seller)) = auction {
        let mut step = 0;
        for (user, org) in [chip, energy, chip].into_iter().flatten() {
            if org == seller {
                continue;
            }
            let mut tx = pool.begin().await?;
            let a = db::trading::auction(&mut tx, listing_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo auction vanished"))?;
            let amount = min_next_bid(a.start_price_fen, a.increment_fen, a.leading_bid_fen)
                + step * a.increment_fen;
            step += 1;
            let bid_id = Uuid::now_v7();
            let listing = db::trading::listing(&mut tx, listing_id).await?;
            let title = listing.as_ref().map(|l| l.title.as_str()).unwrap_or("");
            let notices =
                crate::service::events::waiting::bid_notices(listing_id, title, amount, seller);
            let Some(a) =
                db::trading::take_bid(&mut tx, listing_id, amount, org, bid_id, &notices).await?
            else {
                break;
            };
            // Demo bidders bid for the listing's first mode.
            let mode = listing
                .and_then(|l| l.transaction_modes.first().cloned())
                .unwrap_or_default();
            let no = db::trading::bidder_no(&mut tx, listing_id, org, &mode).await?;
            db::trading::insert_bid(
                &mut tx,
                db::trading::NewBid {
                    id: bid_id,
                    listing_id,
                    org,
                    user,
                    amount_fen: amount,
                    bidder_no: no,
                    at: a.last_bid_at.unwrap_or_else(Utc::now),
                    seq: a.bid_count,
                },
            )
            .await?;
            tx.commit().await?;
        }
    }

    // One open negotiation on the first negotiable demo listing without offers.
    let negotiable: Option<(Uuid, Uuid, Vec<String>, Option<i64>)> = if has_offers {
        None
    } else {
        sqlx::query_as(
            "select l.id, l.organization_id, l.transaction_modes, l.price_fen from listings l \
         where l.pricing_mode = 'negotiable' and l.status = 'listed' \
           and l.created_by in (select id from users where email like '%@demo.techmarket.cn') \
           and not exists (select 1 from offers o where o.listing_id = l.id) \
         order by l.listed_at limit 1",
        )
        .fetch_optional(pool)
        .await?
    };
    if let (Some((listing_id, seller, modes, price)), Some((user, org))) = (negotiable, auto) {
        if org != seller {
            if let Some(mode) = modes.first() {
                let now = Utc::now();
                let amount = price.map_or(300_000_000, |p| p / 10 * 8).max(1);
                let mut tx = pool.begin().await?;
                db::trading::insert_offer(
                    &mut tx,
                    db::trading::NewOffer {
                        id: Uuid::now_v7(),
                        listing_id,
                        thread_id: Uuid::now_v7(),
                        buyer_org: org,
                        made_by: "buyer",
                        user,
                        amount_fen: amount,
                        mode,
                        message: Some("示例：我方希望就该成果的产业化合作进一步洽谈。"),
                        parent_id: None,
                        now,
                        expires_at: now + TimeDelta::days(OFFER_DAYS),
                    },
                )
                .await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}

/// The demo auction that asks a deposit (车载4D毫米波成像雷达): one bidder, the Chongqing energy
/// company, has paid it, recorded by its exchange's administrator through the use case (audited,
/// through the ledger, its inbox told), so the rule and both deposit states can be seen; the car
/// maker has not, so its owner or colleague sees why it cannot bid until an administrator records
/// one. Idempotent: nothing happens once that deposit exists. Runs after the settlement demo,
/// which starts only on an empty ledger.
pub async fn seed_demo_deposit(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let found: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "select a.listing_id, o.id, u.id from auctions a join listings l on l.id = a.listing_id \
           join users b on lower(b.email) = 'buyer-energy@demo.techmarket.cn' \
           join organizations o on o.id = b.organization_id \
           join users u on u.role = 'admin' and u.admin_exchange = o.exchange \
         where a.deposit_fen is not null and a.status = 'open' and l.status = 'listed' \
           and l.created_by in (select id from users where email like '%@demo.techmarket.cn') \
           and not exists (select 1 from auction_deposits d where d.listing_id = a.listing_id) \
         order by l.listed_at, u.created_at limit 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some((listing_id, org, admin)) = found else {
        return Ok(());
    };
    let admin = db::users::get(&mut conn, admin)
        .await?
        .map(|u| crate::auth::CurrentUser::from(&u))
        .ok_or_else(|| anyhow::anyhow!("demo admin vanished"))?;
    drop(conn);
    super::record_deposit(
        pool,
        &admin,
        listing_id,
        super::DepositInput {
            organization_id: org,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo deposit: {e}"))?;
    Ok(())
}
