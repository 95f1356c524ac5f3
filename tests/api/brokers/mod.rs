//! Technology brokers (issue 21 item 3): certification, engagements on trades, the commission
//! through the ledger at settlement, and the pages. Fixtures here are shared with the
//! authorization matrix.
use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::codes::TransactionMode;
use techmarket::service::trades::NewTrade;
use uuid::Uuid;

use crate::helpers::*;

mod certify;
mod engage;
mod ledger;
mod pages;

/// A member user straight in the database, in organisation `org` (not signed in): someone to
/// certify.
pub(crate) async fn candidate(pool: &PgPool, org: &str) -> String {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into users (id, email, password_hash, display_name, role, organization_id, org_role) \
         values ($1, $2, 'x', '经纪人候选', 'member', $3::uuid, 'member')",
    )
    .bind(id)
    .bind(format!("candidate-{id}@broker.example"))
    .bind(org)
    .execute(pool)
    .await
    .unwrap();
    id.to_string()
}

/// `user` certified as an active broker straight in the database (again, if they were); its id.
pub(crate) async fn broker_row(pool: &PgPool, user: &str) -> String {
    let id: Uuid = sqlx::query_scalar(
        "insert into brokers (id, user_id, certificate_no, active, since, certifying_exchange) \
         values ($1, $2::uuid, $3, true, now(), 'suaee') \
         on conflict (user_id) do update set active = true returning id",
    )
    .bind(Uuid::now_v7())
    .bind(user)
    .bind(format!("JJR-{}", Uuid::now_v7()))
    .fetch_one(pool)
    .await
    .unwrap();
    id.to_string()
}

/// A proposed engagement of `broker` on `trade` for `side`, straight in the database.
pub(crate) async fn proposed(pool: &PgPool, trade: &str, broker: &str, side: &str) -> String {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into broker_engagements (id, trade_id, broker_id, side, commission_ppm, commission_fen, status, created_at) \
         values ($1, $2::uuid, $3::uuid, $4, 30000, 10500000, 'proposed', now())",
    )
    .bind(id)
    .bind(trade)
    .bind(broker)
    .bind(side)
    .execute(pool)
    .await
    .unwrap();
    id.to_string()
}

/// A listing straight in the database, `sold`.
async fn sold_listing(app: &TestApp, seller: &Member, exchange: &str) -> Uuid {
    let id = Uuid::now_v7();
    let province = techmarket::domain::codes::Exchange::parse(exchange)
        .unwrap()
        .province()
        .code();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, summary, field, ip_type, ip_numbers, trl, \
         transaction_modes, pricing_mode, price_fen, status, exchange, province, listed_at) \
         values ($1, $2::uuid, $3::uuid, '齿轮滚齿加工技术', '摘要', 'equipment', 'invention_patent', \
         array['ZL201710601862.3'], 6, array['transfer'], 'fixed', 350000000, 'sold', $4, $5, now())",
    )
    .bind(id)
    .bind(&seller.org_id)
    .bind(&seller.user_id)
    .bind(exchange)
    .bind(province)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

/// A trade awaiting payment between `seller` (of `seller_ex`) and `buyer` (of `buyer_ex`).
pub(crate) async fn trade(
    app: &TestApp,
    seller: &Member,
    seller_ex: &str,
    buyer: &Member,
    buyer_ex: &str,
    price_fen: i64,
) -> String {
    let l = sold_listing(app, seller, seller_ex).await;
    let mut tx = app.pool.begin().await.unwrap();
    let id = techmarket::service::trades::create(
        &mut tx,
        NewTrade {
            listing_id: l,
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
    id.to_string()
}

/// The cast of most tests: a Sichuan seller, a Chongqing buyer, a broker (certified through the
/// API, of a third organisation), and both exchanges' admins.
pub(crate) struct Cast {
    pub seller: Member,
    pub buyer: Member,
    pub broker: Member,
    pub broker_id: String,
    pub admin_su: String,
    pub admin_cq: String,
}

pub(crate) async fn cast(app: &TestApp) -> Cast {
    let seller = app.verified_member("seller@broker.example", "suaee").await;
    let buyer = app.verified_member("buyer@broker.example", "cquaee").await;
    let broker = app.verified_member("jjr@broker.example", "cquaee").await;
    let admin_su = app.admin("suaee").await;
    let admin_cq = app.admin("cquaee").await;
    let r = app
        .post(
            "/api/v1/admin/brokers",
            Some(&admin_cq),
            json!({"user_id": broker.user_id, "certificate_no": "渝技经证 2026-0001"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let broker_id = r.body["id"].as_str().unwrap().to_string();
    Cast {
        seller,
        buyer,
        broker,
        broker_id,
        admin_su,
        admin_cq,
    }
}

/// Proposes `broker_id` on `trade` for `side` at `ppm` as `token`.
pub(crate) async fn engage(
    app: &TestApp,
    trade: &str,
    token: &str,
    broker_id: &str,
    side: &str,
    ppm: i64,
) -> Resp {
    app.post(
        &format!("/api/v1/trades/{trade}/broker"),
        Some(token),
        json!({"broker_id": broker_id, "side": side, "commission_ppm": ppm}),
    )
    .await
}

pub(crate) async fn accept(app: &TestApp, engagement: &Value, token: &str) -> Resp {
    let id = engagement["id"].as_str().unwrap();
    app.post(
        &format!("/api/v1/broker-engagements/{id}/accept"),
        Some(token),
        json!({}),
    )
    .await
}
