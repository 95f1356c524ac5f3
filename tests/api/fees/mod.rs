//! Fees: quotes against DOMAIN.md's tables, schedule versions, maker–checker, the moment a
//! schedule takes effect, frozen trade fees, simulation, and the calculator and editor pages.
//! This file holds what the modules share.
/// Maker–checker: who may approve, rejection, concurrency.
mod approval;
/// The pages in a real browser, at 1280 and 390 px.
mod browser;
/// The public calculator page.
mod calculator;
/// The schedule editor page, without JavaScript.
mod editor;
/// A schedule's public name is given at approval; a rejection's reason reaches the drafter.
mod naming;
/// Quotes against DOMAIN.md's tables; bad amounts.
mod quotes;
/// The approval page, the list and audit trail, the public history.
mod review;
/// Versions: public, in force from a moment, validated field by field, in the OpenAPI document.
mod schedules;
/// Trades keep their frozen fees; the simulation of a draft on the trades so far.
mod trades;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use techmarket::domain::codes::Exchange;

use crate::helpers::*;

const V1: &str = "00000000-0000-7000-8000-000000000001";

/// An exchange admin with an e-mail of our choosing (the helper gives one per exchange).
async fn admin_named(app: &TestApp, email: &str, exchange: &str) -> String {
    techmarket::service::accounts::create_admin(
        &app.pool,
        email,
        Exchange::parse(exchange).unwrap(),
        PASSWORD,
        "管理员",
    )
    .await
    .unwrap();
    let l = app.login(email, PASSWORD).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text);
    l.body["token"].as_str().unwrap().to_string()
}

fn side(bands: &[(Option<i64>, i64)], min: i64, max: Option<i64>) -> Value {
    json!({
        "bands": bands.iter().map(|(u, r)| json!({"up_to_fen": u, "rate_ppm": r})).collect::<Vec<_>>(),
        "min_fee_fen": min,
        "max_fee_fen": max,
    })
}

/// A flat 2 % schedule for both sides, no minimum, no cap.
fn flat_two_percent(name: &str, effective_from: Option<DateTime<Utc>>) -> Value {
    let s = side(&[(None, 20_000)], 0, None);
    let mut v = json!({"name": name, "buyer": s, "seller": s});
    if let Some(at) = effective_from {
        v["effective_from"] = json!(at);
    }
    v
}

async fn quote(app: &TestApp, amount_fen: i64) -> Value {
    let r = app
        .get(&format!("/api/v1/fees/quote?amount_fen={amount_fen}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

// ------------------------------------------------------------------ pages

fn doc(html: &str) -> scraper::Html {
    scraper::Html::parse_document(html)
}

fn texts(html: &scraper::Html, selector: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(selector).unwrap();
    html.select(&sel)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

fn count(html: &scraper::Html, selector: &str) -> usize {
    html.select(&scraper::Selector::parse(selector).unwrap())
        .count()
}

fn attrs(html: &scraper::Html, selector: &str, attr: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(selector).unwrap();
    html.select(&sel)
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}
