//! Interconnection (issue 17): API keys and scopes, the outbox and its events, webhook deliveries
//! (signatures, retries, order, the allow-list, hanging receivers, two processes), the change feed.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

mod delivery;
mod events;
mod example;
mod keys;
mod pages;
mod processes;

/// One request a receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub signature: String,
    pub body: Vec<u8>,
    pub json: Value,
}

/// How a test receiver answers: the status for the n-th request (the last one repeats), or hang.
#[derive(Clone)]
pub enum Behaviour {
    Statuses(Vec<u16>),
    /// Never answers until the test lets it go.
    Hang(Arc<tokio::sync::Notify>),
}

/// A webhook receiver on a loopback port, recording what it gets.
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start(behaviour: Behaviour) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let g = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let g = g.clone();
                let behaviour = behaviour.clone();
                async move {
                    let n = {
                        let mut g = g.lock().unwrap();
                        g.push(Received {
                            signature: headers
                                .get("techmarket-signature")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string(),
                            json: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            body: body.to_vec(),
                        });
                        g.len()
                    };
                    match behaviour {
                        Behaviour::Statuses(s) => {
                            let code = s.get(n - 1).or(s.last()).copied().unwrap_or(200);
                            (StatusCode::from_u16(code).unwrap(), format!("answer {n}"))
                        }
                        Behaviour::Hang(release) => {
                            release.notified().await;
                            (StatusCode::OK, "late".to_string())
                        }
                    }
                }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            got,
            task,
        }
    }

    pub fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (panics after `limit`).
    pub async fn wait_for(&self, n: usize, limit: Duration) {
        let start = std::time::Instant::now();
        while self.count() < n {
            assert!(
                start.elapsed() < limit,
                "receiver got {} of {n} requests",
                self.count()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Issues a key with `scopes` as `admin`; returns (id, key).
pub async fn key(app: &TestApp, admin: &str, name: &str, scopes: &[&str]) -> (String, String) {
    let r = app
        .post(
            "/api/v1/admin/api-keys",
            Some(admin),
            json!({"name": name, "scopes": scopes}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["key"].as_str().unwrap().to_string(),
    )
}

/// Registers a webhook for `events` (all when empty); returns (id, secret).
pub async fn webhook(app: &TestApp, token: &str, url: &str, events: &[&str]) -> (String, String) {
    let events: Vec<&str> = if events.is_empty() {
        techmarket::domain::interconnect::EventType::ALL
            .iter()
            .map(|e| e.code())
            .collect()
    } else {
        events.to_vec()
    };
    let r = app
        .post(
            "/api/v1/admin/webhooks",
            Some(token),
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["secret"].as_str().unwrap().to_string(),
    )
}

/// The types of the change feed of `token`'s exchange, oldest first.
pub async fn feed_types(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/api/v1/events?limit=1000", Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// A `listed` fixed-price listing of `seller` in the database, its exchange the seller's.
pub async fn listed(app: &TestApp, seller: &Member, price_fen: i64) -> String {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, field, ip_type, trl, transaction_modes, \
         pricing_mode, price_fen, status, exchange, province, listed_at) \
         select $1, o.id, $3::uuid, '高速流水线ADC芯片', 'ic', 'invention_patent', 6, array['nonexclusive_license'], \
         'fixed', $4, 'listed', o.exchange, o.province, now() from organizations o where o.id = $2::uuid",
    )
    .bind(id)
    .bind(&seller.org_id)
    .bind(&seller.user_id)
    .bind(price_fen)
    .execute(&app.pool)
    .await
    .unwrap();
    id.to_string()
}

/// A trade made by buying `listing` as `buyer`; returns its id.
pub async fn buy(app: &TestApp, listing: &str, buyer: &Member) -> String {
    let r = app
        .post(
            &format!("/api/v1/listings/{listing}/buy"),
            Some(&buyer.token),
            json!({"transaction_mode": "nonexclusive_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["trade"]["id"].as_str().unwrap().to_string()
}
