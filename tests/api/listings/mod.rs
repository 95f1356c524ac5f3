//! Listings: drafting, review, search, pages.
use std::sync::atomic::{AtomicU32, Ordering};

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

/// English titles and summaries: shown on English pages, searched, in the demo data.
mod bilingual;
/// The bulk seed into an empty market: indexes built again, one notification, all or nothing.
mod bulk_seed;
mod document_pages;
mod documents;
mod duplicates;
mod pages;
mod search;
mod workflow;

static SERIAL: AtomicU32 = AtomicU32::new(1);

/// A fresh valid invention patent number (never used by another listing of the test).
fn patent() -> String {
    techmarket::service::listings::patent_number(2021, '1', SERIAL.fetch_add(1, Ordering::SeqCst))
}

fn body(title: &str) -> Value {
    json!({
        "title": title,
        "summary": "一项示例科技成果。",
        "description": "第一段介绍。\n\n第二段介绍。",
        "field": "ic",
        "ip_type": "invention_patent",
        "ip_numbers": [patent()],
        "trl": 6,
        "transaction_modes": ["transfer", "nonexclusive_license"],
        "keywords": ["示例"],
        "pricing": {"mode": "fixed", "price_fen": 350_000_000i64}
    })
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

struct Market {
    app: TestApp,
    admins: std::collections::HashMap<&'static str, String>,
}

impl Market {
    async fn new(pool: PgPool) -> Self {
        let app = TestApp::new(pool);
        let mut admins = std::collections::HashMap::new();
        for ex in ["suaee", "cdipex", "nttc_sw", "cquaee"] {
            admins.insert(ex, app.admin(ex).await);
        }
        Market { app, admins }
    }

    async fn create(&self, m: &Member, body: Value) -> String {
        let r = self
            .app
            .post("/api/v1/listings", Some(&m.token), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_str().unwrap().to_string()
    }

    async fn submit(&self, m: &Member, id: &str) {
        let r = self
            .app
            .post(
                &format!("/api/v1/listings/{id}/submit"),
                Some(&m.token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], json!("pending_review"));
    }

    async fn approve(&self, exchange: &str, id: &str) -> Resp {
        self.app
            .post(
                &format!("/api/v1/admin/listings/{id}/review"),
                Some(&self.admins[exchange]),
                json!({"decision": "approve"}),
            )
            .await
    }

    /// Create, submit and approve: a listed listing.
    async fn publish(&self, m: &Member, exchange: &str, body: Value) -> String {
        let id = self.create(m, body).await;
        self.submit(m, &id).await;
        let r = self.approve(exchange, &id).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], json!("listed"));
        id
    }

    /// The owner withdraws a listing (200, `withdrawn`).
    async fn withdraw(&self, m: &Member, id: &str) {
        let r = self
            .app
            .post(
                &format!("/api/v1/listings/{id}/withdraw"),
                Some(&m.token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], json!("withdrawn"));
    }

    async fn search(&self, query: &str) -> Resp {
        let r = self
            .app
            .get(&format!("/api/v1/listings?{query}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text);
        r
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn titles(r: &Resp) -> Vec<String> {
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

async fn demo_market(pool: PgPool) -> (Market, Member, Member) {
    let mk = Market::new(pool).await;
    let chip = mk.app.verified_member("chip@uni.example", "cdipex").await;
    let turbine = mk.app.verified_member("turbine@uni.example", "suaee").await;
    let mut adc = body("高速高精度流水线模数转换器芯片");
    adc["summary"] = json!("14位250MSPS流水线ADC chip。");
    adc["ip_numbers"] = json!(["ZL201710601862.3"]);
    mk.publish(&chip, "cdipex", adc).await;
    let mut gt = body("F级50兆瓦重型燃气轮机");
    gt["field"] = json!("aerospace");
    gt["description"] = json!("Heavy-duty F-class Gas Turbine for peak-load power plants.");
    gt["pricing"] = json!({"mode": "negotiable"});
    mk.publish(&turbine, "suaee", gt).await;
    let mut rail = body("山区齿轨列车关键技术");
    rail["field"] = json!("rail");
    rail["ip_type"] = json!("utility_model");
    rail["ip_numbers"] = json!(["ZL202320123456.1"]);
    mk.publish(&turbine, "suaee", rail).await;
    (mk, chip, turbine)
}

/// Logs a member in through the login form; returns the session cookies.
async fn browser_login(app: &TestApp, email: &str) -> String {
    let page = app.page("/login", "").await;
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let code = otp_for(&app.pool, email).await.unwrap_or_default();
    let r = app
        .form(
            "/login",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", email),
                ("password", PASSWORD),
                ("otp", &code),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let session = cookies_from(&r.headers);
    format!("{cookies}; {session}")
}

async fn csrf_of(app: &TestApp, uri: &str, cookies: &str) -> String {
    let p = app.page(uri, cookies).await;
    assert_eq!(p.status, StatusCode::OK, "{uri}: {}", p.text);
    input_value(&p.text, "_csrf").unwrap()
}
