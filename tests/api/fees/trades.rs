//! Trades keep the fees frozen when they were made; the simulation splits revenue by exchange.
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;
use techmarket::domain::codes::{Exchange, TransactionMode};
use uuid::Uuid;

use crate::helpers::*;

use super::*;

/// A listed fixed-price listing of `seller`'s organisation, inserted directly.
async fn listing(app: &TestApp, seller: &Member, exchange: &str, price_fen: i64) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes, \
         pricing_mode, price_fen, status, exchange, province, listed_at) \
         values ($1, $2::uuid, $3::uuid, '高速流水线ADC芯片', 'ic', 'know_how', 6, '{transfer}', 'fixed', $4, 'listed', $5, $6, now())",
    )
    .bind(id)
    .bind(&seller.org_id)
    .bind(&seller.user_id)
    .bind(price_fen)
    .bind(exchange)
    .bind(Exchange::parse(exchange).unwrap().province().code())
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

async fn trade(
    app: &TestApp,
    listing_id: Uuid,
    seller: &Member,
    buyer: &Member,
    seller_ex: &str,
    buyer_ex: &str,
    price_fen: i64,
) -> Uuid {
    let mut tx = app.pool.begin().await.unwrap();
    let id = techmarket::service::trades::create(
        &mut tx,
        techmarket::service::trades::NewTrade {
            listing_id,
            seller_org: seller.org_id.parse().unwrap(),
            buyer_org: buyer.org_id.parse().unwrap(),
            price_fen,
            mode: TransactionMode::Transfer,
            seller_exchange: seller_ex.into(),
            buyer_exchange: buyer_ex.into(),
            source: "purchase",
            offer_id: None,
            now: Utc::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

#[sqlx::test(migrations = "./migrations")]
async fn trades_keep_their_frozen_fees_and_the_simulation_splits_revenue_by_exchange(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@example.cn", "suaee").await;
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let l1 = listing(&app, &seller, "suaee", 350_000_000).await;
    let l2 = listing(&app, &seller, "suaee", 1_000_000).await;
    let t1 = trade(&app, l1, &seller, &buyer, "suaee", "cquaee", 350_000_000).await;
    let t2 = trade(&app, l2, &seller, &buyer, "suaee", "cquaee", 1_000_000).await;
    sqlx::query("update trades set status = 'cancelled', cancelled_at = now() where id = $1")
        .bind(t2)
        .execute(&app.pool)
        .await
        .unwrap();
    let drafter = app.admin("nttc_sw").await;
    let checker = app.admin("cdipex").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("flat", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();

    // The simulation: the one live trade under v1 (4 万元 per side) against 2 % (7 万元 per side);
    // the buyer's fee to the buyer's exchange, the seller's to the listing's.
    let r = app
        .get(
            &format!("/api/v1/admin/fee-schedules/{id}/simulate"),
            Some(&checker),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["trades"], json!(1), "cancelled trades are left out");
    assert_eq!(r.body["current_total_fee_fen"], json!(8_000_000));
    assert_eq!(r.body["proposed_total_fee_fen"], json!(14_000_000));
    assert_eq!(
        r.body["by_exchange"]["suaee"],
        json!({"current_fee_fen": 4_000_000, "proposed_fee_fen": 7_000_000})
    );
    assert_eq!(
        r.body["by_exchange"]["cquaee"],
        json!({"current_fee_fen": 4_000_000, "proposed_fee_fen": 7_000_000})
    );
    assert_eq!(
        r.body["by_exchange"]["cdipex"],
        json!({"current_fee_fen": 0, "proposed_fee_fen": 0})
    );
    let m = app
        .get(
            &format!("/api/v1/admin/fee-schedules/{id}/simulate"),
            Some(&seller.token),
        )
        .await;
    assert_eq!(m.status, StatusCode::FORBIDDEN);
    let r = app
        .get(
            "/api/v1/admin/fee-schedules/00000000-0000-7000-8000-00000000abcd/simulate",
            Some(&checker),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The new schedule takes effect; the trade keeps what it was created with.
    let r = app
        .post(
            &format!("/api/v1/admin/fee-schedules/{id}/approve"),
            Some(&checker),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let q = quote(&app, 350_000_000).await;
    assert_eq!(q["unified"]["schedule_id"], json!(id));
    assert_eq!(q["unified"]["buyer_fee_fen"], json!(7_000_000));
    let (schedule, buyer_fee, seller_fee): (Uuid, i64, i64) = sqlx::query_as(
        "select fee_schedule_id, buyer_fee_fen, seller_fee_fen from trades where id = $1",
    )
    .bind(t1)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(schedule.to_string(), V1);
    assert_eq!((buyer_fee, seller_fee), (4_000_000, 4_000_000));
    // A trade made now uses the new version.
    let l3 = listing(&app, &seller, "suaee", 350_000_000).await;
    let t3 = trade(&app, l3, &seller, &buyer, "suaee", "cquaee", 350_000_000).await;
    let (schedule, buyer_fee): (Uuid, i64) =
        sqlx::query_as("select fee_schedule_id, buyer_fee_fen from trades where id = $1")
            .bind(t3)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(schedule.to_string(), id);
    assert_eq!(buyer_fee, 7_000_000);
    // Approved schedules cannot be edited, even directly in the database.
    let edit = sqlx::query("update fee_schedules set name = 'edited' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await;
    assert!(edit.is_err());
}
