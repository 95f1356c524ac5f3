//! Settlement: payment, delivery, cancellation, the hash-chained ledger, revenue, statements,
//! credit restrictions and contract registration data, against the real database.
use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::Utc;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::codes::TransactionMode;
use techmarket::service::trades::NewTrade;
use uuid::Uuid;

use crate::helpers::*;

mod attachments;
mod cancellations;
mod certificates;
mod delivery;
mod disputes;
mod exports;
pub(crate) mod ledger;
mod pages;
mod payments;
mod restrictions;
mod split;
mod trades;

/// A listing straight in the database (the listings area is built elsewhere).
async fn listing(
    app: &TestApp,
    seller: &Member,
    exchange: &str,
    title: &str,
    status: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    let province = techmarket::domain::codes::Exchange::parse(exchange)
        .unwrap()
        .province()
        .code();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, summary, field, ip_type, ip_numbers, trl, \
         transaction_modes, pricing_mode, price_fen, status, exchange, province, listed_at) \
         values ($1, $2::uuid, $3::uuid, $4, '摘要', 'energy', 'invention_patent', array['ZL201710601862.3'], 6, \
         array['transfer','nonexclusive_license'], 'fixed', 350000000, $5, $6, $7, now())",
    )
    .bind(id)
    .bind(&seller.org_id)
    .bind(&seller.user_id)
    .bind(title)
    .bind(status)
    .bind(exchange)
    .bind(province)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

struct Party {
    m: Member,
    exchange: &'static str,
}

async fn party(app: &TestApp, email: &str, exchange: &'static str) -> Party {
    Party {
        m: app.verified_member(email, exchange).await,
        exchange,
    }
}

/// A trade through the shared creation code (fees frozen from the schedule in force).
async fn trade_at(
    app: &TestApp,
    seller: &Party,
    buyer: &Party,
    listing_id: Uuid,
    price_fen: i64,
    mode: TransactionMode,
    now: chrono::DateTime<Utc>,
) -> String {
    let mut tx = app.pool.begin().await.unwrap();
    let id = techmarket::service::trades::create(
        &mut tx,
        NewTrade {
            listing_id,
            seller_org: seller.m.org_id.parse().unwrap(),
            buyer_org: buyer.m.org_id.parse().unwrap(),
            price_fen,
            mode,
            seller_exchange: seller.exchange.to_string(),
            buyer_exchange: buyer.exchange.to_string(),
            source: "purchase",
            offer_id: None,
            now,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id.to_string()
}

async fn new_trade(app: &TestApp, seller: &Party, buyer: &Party, price_fen: i64) -> String {
    let l = listing(app, &seller.m, seller.exchange, "页岩气勘探技术", "sold").await;
    trade_at(
        app,
        seller,
        buyer,
        l,
        price_fen,
        TransactionMode::Transfer,
        Utc::now(),
    )
    .await
}

/// A POST with an optional `Idempotency-Key`. The body carries a reason, which a cancellation
/// requires (API.md) and the other trade actions ignore.
async fn post_key(app: &TestApp, uri: &str, token: &str, key: Option<&str>) -> Resp {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(k) = key {
        b = b.header("Idempotency-Key", k);
    }
    let body = json!({"reason": "计划调整，不再购买"}).to_string();
    app.send(b.body(Body::from(body)).unwrap()).await
}

async fn pay(app: &TestApp, id: &str, admin: &str) -> Resp {
    post_key(
        app,
        &format!("/api/v1/admin/trades/{id}/payment-received"),
        admin,
        None,
    )
    .await
}

async fn confirm(app: &TestApp, id: &str, token: &str) -> Resp {
    post_key(
        app,
        &format!("/api/v1/trades/{id}/confirm-delivery"),
        token,
        None,
    )
    .await
}

async fn cancel(app: &TestApp, id: &str, token: &str) -> Resp {
    post_key(app, &format!("/api/v1/trades/{id}/cancel"), token, None).await
}

pub(crate) async fn verify(app: &TestApp, admin: &str) -> Value {
    let r = app.get("/api/v1/admin/ledger/verify", Some(admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

fn select_text(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

/// Net (debits − credits) per account of the ledger.
pub(crate) async fn nets(pool: &PgPool) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select account, sum(case when side = 'debit' then amount_fen else -amount_fen end)::bigint \
         from ledger_entries group by account",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_openapi_document_lists_the_settlement_routes(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.get("/api/v1/openapi.json", None).await;
    let paths = r.body["paths"].as_object().unwrap();
    for (p, method) in [
        ("/api/v1/trades", "get"),
        ("/api/v1/trades/{id}", "get"),
        ("/api/v1/trades/{id}/statement", "get"),
        ("/api/v1/trades/{id}/confirm-delivery", "post"),
        ("/api/v1/trades/{id}/cancel", "post"),
        ("/api/v1/admin/trades/{id}/payment-received", "post"),
        ("/api/v1/admin/trades/registration.csv", "get"),
        ("/api/v1/admin/ledger/verify", "get"),
        ("/api/v1/admin/ledger/balances", "get"),
        ("/api/v1/admin/revenue", "get"),
        ("/api/v1/admin/organizations/{id}/restrictions", "post"),
        ("/api/v1/admin/organizations/{id}/restrictions", "delete"),
    ] {
        assert!(
            paths.get(p).and_then(|m| m.get(method)).is_some(),
            "{method} {p} missing from OpenAPI"
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn the_demo_settles_one_trade_and_pays_another_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let local = party(&app, "local@example.cn", "cdipex").await;
    let remote = party(&app, "remote@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    app.admin("cdipex").await;
    let first = new_trade(&app, &seller, &local, 1_000_000).await;
    let cross = new_trade(&app, &seller, &remote, 2_000_000).await;
    techmarket::service::settlement::seed_demo(&app.pool)
        .await
        .unwrap();
    techmarket::service::settlement::seed_demo(&app.pool)
        .await
        .unwrap();
    let status = |id: String| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("select status from trades where id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(status(cross).await, "settled", "cross-province first");
    assert_eq!(status(first).await, "paid");
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["entries"], json!(8));
}
