//! Technology finance (issue 22): financing products, pledge requests with their valuation
//! reference, who decides, and the pledge lock (`lock`: refusals, release, consent, auctions, the
//! race between approving and accepting).
use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::trading::listing;

mod lock;
mod pages;
mod requests;

/// A registered, verified member of a financial institution (a lender), logged in.
pub(crate) async fn lender(app: &TestApp, email: &str, exchange: &str) -> Member {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(900_000);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let province = techmarket::domain::codes::Exchange::parse(exchange)
        .unwrap()
        .province()
        .code();
    let r = app
        .register(
            email,
            "financial_institution",
            province,
            exchange,
            Some(credit_code_in(province, n)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.body["organization"]["kind"],
        json!("financial_institution")
    );
    sqlx::query("update organizations set verified_at = now() where id = $1::uuid")
        .bind(r.body["organization"]["id"].as_str().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let l = app.login(email, PASSWORD).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text);
    Member {
        token: l.body["token"].as_str().unwrap().to_string(),
        user_id: r.body["user"]["id"].as_str().unwrap().to_string(),
        org_id: r.body["organization"]["id"].as_str().unwrap().to_string(),
        email: email.to_string(),
    }
}

/// A Sichuan institute's listed fixed-price invention patent (3.5 million yuan), and a Chongqing
/// bank: (owner, bank, listing id).
pub(crate) async fn patent_and_bank(app: &TestApp, pricing: &str) -> (Member, Member, String) {
    let owner = app.verified_member("institute@pledge.cn", "suaee").await;
    let bank = lender(app, "credit@bank.cq.cn", "cquaee").await;
    let price = (pricing != "auction").then_some(350_000_000);
    let id = listing(
        app,
        &owner,
        pricing,
        &["transfer", "nonexclusive_license"],
        price,
    )
    .await;
    (owner, bank, id)
}

/// The owner applies to the bank: the request's JSON.
pub(crate) async fn apply(app: &TestApp, owner: &Member, bank: &Member, listing: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/listings/{listing}/pledge-requests"),
            Some(&owner.token),
            json!({"lender_organization_id": bank.org_id, "amount_fen": 100_000_000, "term_months": 12}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], json!("submitted"));
    r.body
}

/// The bank approves the request: its JSON.
pub(crate) async fn approve(app: &TestApp, bank: &Member, request: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/pledge-requests/{request}/approve"),
            Some(&bank.token),
            json!({"registration_no": "2026-CQ-ZY-000123"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("active"));
    r.body
}

pub(crate) fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The organisation's inbox notices, newest first, as `{kind, text}` (both languages' words;
/// read from the table: the inbox's JSON list is another issue's).
pub(crate) async fn notices(app: &TestApp, m: &Member) -> Vec<Value> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select kind, title_zh || ' ' || body_zh || ' ' || title_en || ' ' || body_en \
         from notifications where organization_id = $1::uuid order by id desc",
    )
    .bind(&m.org_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(kind, text)| json!({"kind": kind, "text": text}))
        .collect()
}
