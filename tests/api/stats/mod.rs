//! Market statistics and open data (API.md "Statistics", issue 19): the summary against sums
//! computed here from the trades the test made, the CSV, the savings on a hand-computed example,
//! month boundaries at midnight in Asia/Shanghai, the snapshot shared by processes, the pages.
use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;
use sqlx::PgPool;
use techmarket::domain::codes::{Exchange, TransactionMode};
use techmarket::service::trades::NewTrade;
use uuid::Uuid;

use crate::helpers::*;

mod browser;
mod csv;
mod pages;
mod snapshot;
mod summary;

/// A member organisation and its home exchange.
pub struct Party {
    pub m: Member,
    pub exchange: &'static str,
}

pub async fn party(app: &TestApp, email: &str, exchange: &'static str) -> Party {
    Party {
        m: app.verified_member(email, exchange).await,
        exchange,
    }
}

/// A listing straight in the database, with its field, status and organisation province.
pub async fn listing(
    pool: &PgPool,
    seller: &Party,
    field: &str,
    province: &str,
    status: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, summary, field, ip_type, ip_numbers, trl, \
         transaction_modes, pricing_mode, price_fen, status, exchange, province, listed_at) \
         values ($1, $2::uuid, $3::uuid, '统计测试成果', '摘要', $4, 'invention_patent', '{}', 6, \
         array['nonexclusive_license'], 'fixed', 100000000, $5, $6, $7, now())",
    )
    .bind(id)
    .bind(&seller.m.org_id)
    .bind(&seller.m.user_id)
    .bind(field)
    .bind(status)
    .bind(seller.exchange)
    .bind(province)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// What the test knows of a trade it made.
#[derive(Debug, Clone)]
pub struct Made {
    pub id: Uuid,
    pub field: String,
    pub seller_exchange: &'static str,
    pub buyer_exchange: &'static str,
    pub price_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub status: &'static str,
    pub settled_at: Option<DateTime<Utc>>,
}

/// A trade through the shared creation code (fees frozen from the schedule in force), then put in
/// `status` (`settled` at `settled_at`) directly: the statistics read only the trades table, and
/// the settlement flow has tests of its own.
pub async fn trade(
    app: &TestApp,
    seller: &Party,
    buyer: &Party,
    field: &str,
    price_fen: i64,
    status: &'static str,
    settled_at: Option<DateTime<Utc>>,
) -> Made {
    let seller_province = Exchange::parse(seller.exchange).unwrap().province().code();
    let l = listing(&app.pool, seller, field, seller_province, "listed").await;
    let mut tx = app.pool.begin().await.unwrap();
    let id = techmarket::service::trades::create(
        &mut tx,
        NewTrade {
            listing_id: l,
            seller_org: seller.m.org_id.parse().unwrap(),
            buyer_org: buyer.m.org_id.parse().unwrap(),
            price_fen,
            mode: TransactionMode::NonexclusiveLicense,
            seller_exchange: seller.exchange.to_string(),
            buyer_exchange: buyer.exchange.to_string(),
            source: "purchase",
            offer_id: None,
            now: Utc::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // The trade's listing is not counted among listed listings.
    sqlx::query("update listings set status = 'sold' where id = $1")
        .bind(l)
        .execute(&app.pool)
        .await
        .unwrap();
    set_status(&app.pool, id, status, settled_at).await;
    let (buyer_fee_fen, seller_fee_fen): (i64, i64) =
        sqlx::query_as("select buyer_fee_fen, seller_fee_fen from trades where id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    Made {
        id,
        field: field.to_string(),
        seller_exchange: seller.exchange,
        buyer_exchange: buyer.exchange,
        price_fen,
        buyer_fee_fen,
        seller_fee_fen,
        status,
        settled_at,
    }
}

pub async fn set_status(pool: &PgPool, id: Uuid, status: &str, settled_at: Option<DateTime<Utc>>) {
    let paid_at = settled_at.map(|s| s - chrono::TimeDelta::hours(1));
    sqlx::query(
        "update trades set status = $2, settled_at = $3, \
         paid_at = case when $2 in ('paid', 'settled') then coalesce($4, now()) end, \
         cancelled_at = case when $2 = 'cancelled' then now() end, \
         cancel_reason = case when $2 = 'cancelled' then 'test' end where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(settled_at)
    .bind(paid_at)
    .execute(pool)
    .await
    .unwrap();
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The month in Shanghai, worked out here with a fixed UTC+8 (China has kept it since 1991),
/// independently of the database's time zone data that the service uses.
pub fn shanghai_month(t: DateTime<Utc>) -> String {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m")
        .to_string()
}

pub fn province_of(exchange: &str) -> &'static str {
    Exchange::parse(exchange).unwrap().province().code()
}

pub async fn summary(app: &TestApp) -> Value {
    let r = app.get("/api/v1/stats/summary", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// `{code: n}` of a JSON object.
pub fn counts(v: &Value) -> BTreeMap<String, i64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect()
}
