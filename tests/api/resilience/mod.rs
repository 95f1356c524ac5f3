//! Resilience (issue 14): real `techmarket serve` processes killed under load, PostgreSQL stopped
//! and started under a running server, two servers on one database, and browser journeys.
//! The market they work on is made in process (fixtures below); the load goes over real sockets.
use std::collections::HashMap;

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

mod browser;
mod crash;
mod db_restart;
mod replica;
mod two_servers;

/// `TECHMARKET_LONG=1`: the long versions (README, "Tests").
pub fn long() -> bool {
    std::env::var("TECHMARKET_LONG").is_ok_and(|v| v == "1")
}

/// The URL of the database behind a `#[sqlx::test]` pool, for server processes.
pub fn url_of(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or("postgres")
    )
}

/// Where the tests keep servers' logs.
pub fn log_path(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/resilience");
    std::fs::create_dir_all(&dir).expect("target/resilience");
    dir.join(name)
}

pub const EXCHANGES: [&str; 4] = ["suaee", "cdipex", "nttc_sw", "cquaee"];

pub struct Party {
    pub m: Member,
    pub exchange: &'static str,
}

/// A small market: verified parties at every exchange, an admin token per exchange, and listed
/// negotiable, fixed-price (non-exclusive, so they sell again and again) and auction listings.
pub struct Market {
    pub parties: Vec<Party>,
    pub admins: HashMap<&'static str, String>,
    /// (listing id, index of the seller in `parties`)
    pub negotiable: Vec<(String, usize)>,
    pub fixed: Vec<(String, usize)>,
    pub auctions: Vec<(String, usize)>,
}

impl Market {
    pub async fn new(app: &TestApp, tag: &str, parties: usize, listings_each: usize) -> Market {
        let mut out = Market {
            parties: Vec::new(),
            admins: HashMap::new(),
            negotiable: Vec::new(),
            fixed: Vec::new(),
            auctions: Vec::new(),
        };
        for ex in EXCHANGES {
            out.admins.insert(ex, app.admin(ex).await);
        }
        for i in 0..parties {
            let exchange = EXCHANGES[i % EXCHANGES.len()];
            let m = app
                .verified_member(&format!("{tag}{i}@resilience.cn"), exchange)
                .await;
            out.parties.push(Party { m, exchange });
        }
        for k in 0..listings_each {
            let s = k % parties;
            let seller = &out.parties[s].m;
            let id = listing(app, seller, "negotiable", &["nonexclusive_license"], None).await;
            out.negotiable.push((id, s));
            let id = listing(
                app,
                seller,
                "fixed",
                &["nonexclusive_license"],
                Some(5_000_000),
            )
            .await;
            out.fixed.push((id, s));
            let id = auction(app, seller, 1_000_000, 10_000, 3600).await;
            out.auctions.push((id, s));
        }
        out
    }

    /// The admin of the party's exchange.
    pub fn admin_of(&self, party: usize) -> &str {
        &self.admins[self.parties[party].exchange]
    }
}

/// A `listed` listing of `seller`, straight in the database.
pub async fn listing(
    app: &TestApp,
    seller: &Member,
    pricing: &str,
    modes: &[&str],
    price_fen: Option<i64>,
) -> String {
    let id = Uuid::now_v7();
    let modes: Vec<String> = modes.iter().map(|m| m.to_string()).collect();
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, summary, field, ip_type, trl, \
         transaction_modes, pricing_mode, price_fen, status, exchange, province, listed_at) \
         select $1, o.id, $3::uuid, $4, '示例摘要', 'ic', 'invention_patent', 6, $5, $6, $7, 'listed', \
         o.exchange, o.province, now() from organizations o where o.id = $2::uuid",
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
    .expect("insert listing");
    id.to_string()
}

/// An open auction (single mode: transfer) ending in `ends_in_secs`.
pub async fn auction(
    app: &TestApp,
    seller: &Member,
    start_fen: i64,
    increment_fen: i64,
    ends_in_secs: i64,
) -> String {
    let id = listing(app, seller, "auction", &["transfer"], None).await;
    sqlx::query(
        "insert into auctions (listing_id, status, start_price_fen, increment_fen, ends_at, \
         extension_seconds, opened_at) values ($1::uuid, 'open', $2, $3, \
         now() + make_interval(secs => $4), 0, now())",
    )
    .bind(&id)
    .bind(start_fen)
    .bind(increment_fen)
    .bind(ends_in_secs as f64)
    .execute(&app.pool)
    .await
    .expect("insert auction");
    id
}

/// One request over a socket: the status (None when no answer came) and the JSON body.
pub async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: Option<&Value>,
) -> (Option<u16>, Value) {
    let mut req = client.request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.json::<Value>().await.unwrap_or(Value::Null);
            (Some(status), body)
        }
        Err(_) => (None, Value::Null),
    }
}

pub async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
