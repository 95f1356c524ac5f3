//! Offers, purchases and auctions: guards, races (real concurrent requests), closing, idempotency.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::*;

mod auctions;
mod bid_batches;
mod cards;
mod colleagues;
mod deposits;
mod notices;
mod offers;
mod pages;
mod purchase;
mod restrictions;
mod safety;
mod upcoming;

// ---------------------------------------------------------------- fixtures

/// A `listed` listing of `seller`, made directly in the database (the listings area is built elsewhere).
pub(crate) async fn listing(
    app: &TestApp,
    seller: &Member,
    pricing: &str,
    modes: &[&str],
    price_fen: Option<i64>,
) -> String {
    let id = Uuid::now_v7();
    let modes: Vec<String> = modes.iter().map(|m| m.to_string()).collect();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes, \
         pricing_mode, price_fen, status, exchange, province, listed_at) \
         select $1, o.id, $3::uuid, $4, 'ic', 'invention_patent', 6, $5, $6, $7, 'listed', o.exchange, o.province, now() \
         from organizations o where o.id = $2::uuid",
    )
    .bind(id)
    .bind(&seller.org_id)
    .bind(&seller.user_id)
    .bind(format!("高速流水线ADC芯片 {pricing} {id}"))
    .bind(&modes)
    .bind(pricing)
    .bind(price_fen)
    .execute(&app.pool)
    .await
    .unwrap();
    id.to_string()
}

/// An open auction listing ending in `ends_in_secs`.
pub(crate) async fn auction(
    app: &TestApp,
    seller: &Member,
    start_fen: i64,
    increment_fen: i64,
    reserve_fen: Option<i64>,
    ends_in_secs: i64,
    extension_seconds: i32,
) -> String {
    let id = listing(app, seller, "auction", &["transfer"], None).await;
    sqlx::query(
        "insert into auctions (listing_id, status, start_price_fen, increment_fen, reserve_fen, ends_at, \
         extension_seconds, opened_at) values ($1::uuid, 'open', $2, $3, $4, now() + make_interval(secs => $5), $6, now())",
    )
    .bind(&id)
    .bind(start_fen)
    .bind(increment_fen)
    .bind(reserve_fen)
    .bind(ends_in_secs as f64)
    .bind(extension_seconds)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

pub(crate) async fn end_now(app: &TestApp, listing: &str) {
    sqlx::query(
        "update auctions set ends_at = now() - interval '1 second' where listing_id = $1::uuid",
    )
    .bind(listing)
    .execute(&app.pool)
    .await
    .unwrap();
}

async fn count(app: &TestApp, sql: &str, listing: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(listing)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

pub(crate) async fn buyers(app: &TestApp, n: usize, tag: &str) -> Vec<Member> {
    let exchanges = ["suaee", "cdipex", "nttc_sw", "cquaee"];
    let mut out = Vec::new();
    for i in 0..n {
        out.push(
            app.verified_member(&format!("{tag}{i}@buyer.cn"), exchanges[i % 4])
                .await,
        );
    }
    out
}

/// A POST on its own task, like a separate client; returns status and body.
pub(crate) fn spawn_post(
    app: &Router,
    uri: String,
    token: &str,
    body: Value,
    key: Option<String>,
) -> tokio::task::JoinHandle<(StatusCode, Value)> {
    let app = app.clone();
    let token = token.to_string();
    tokio::spawn(async move {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(k) = key {
            b = b.header("Idempotency-Key", k);
        }
        let resp = app
            .oneshot(b.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

async fn post_key(
    app: &TestApp,
    uri: &str,
    token: &str,
    body: Value,
    key: &str,
) -> (StatusCode, Value) {
    spawn_post(
        &app.app,
        uri.to_string(),
        token,
        body,
        Some(key.to_string()),
    )
    .await
    .unwrap()
}

// ---------------------------------------------------------------- offers

pub(crate) async fn offer(app: &TestApp, listing: &str, m: &Member, amount: i64) -> Value {
    let r = app
        .post(
            &format!("/api/v1/listings/{listing}/offers"),
            Some(&m.token),
            json!({"amount_fen": amount, "transaction_mode": "transfer", "message": "希望洽谈"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}
