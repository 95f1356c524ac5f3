//! Item 5: a real server under a mixed load (bids, offers, accepts, purchases, payments,
//! settlements) is SIGKILLed at random moments and restarted, five times (`TECHMARKET_LONG=1`:
//! twenty, with longer load between kills). After each restart: the ledger verifies and balances,
//! every request that was answered 2xx is in the database, and replaying every such request with
//! its `Idempotency-Key` answers the first response again and changes nothing.
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::server::{Server, ServerOptions};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Bid,
    Offer,
    Accept,
    Buy,
    Pay,
    Settle,
}

/// A request answered 2xx.
#[derive(Clone, Debug)]
struct Rec {
    kind: Kind,
    path: String,
    token: String,
    key: String,
    body: Option<Value>,
    status: u16,
    resp: Value,
}

#[derive(Default)]
struct Queues {
    /// (offer id, seller, buyer)
    offers: Vec<(String, usize, usize)>,
    /// (trade id, buyer)
    awaiting: Vec<(String, usize)>,
    paid: Vec<(String, usize)>,
}

struct Load {
    market: Market,
    base: RwLock<String>,
    stop: AtomicBool,
    queues: Mutex<Queues>,
    records: Mutex<Vec<Rec>>,
    bid_level: AtomicI64,
    client: reqwest::Client,
}

fn trade_id(resp: &Value) -> Option<String> {
    resp["trade"]["id"]
        .as_str()
        .or(resp["id"].as_str())
        .map(str::to_string)
}

/// One client: random operations until told to stop.
async fn worker(load: Arc<Load>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let m = &load.market;
    let n = m.parties.len();
    while !load.stop.load(Ordering::SeqCst) {
        let buyer = rng.gen_range(0..n);
        let pick = |list: &Vec<(String, usize)>, r: &mut StdRng| {
            let (id, s) = &list[r.gen_range(0..list.len())];
            (*s != buyer).then(|| (id.clone(), *s))
        };
        let mut op = rng.gen_range(0..6);
        // What the queues allow: an accept, a payment or a settlement needs something to act on.
        let taken = {
            let mut q = load.queues.lock().unwrap_or_else(|e| e.into_inner());
            match op {
                2 => q.offers.pop(),
                4 => q.awaiting.pop().map(|(t, b)| (t, b, b)),
                5 => q.paid.pop().map(|(t, b)| (t, b, b)),
                _ => None,
            }
        };
        if matches!(op, 2 | 4 | 5) && taken.is_none() {
            op = if rng.gen_bool(0.5) { 1 } else { 3 };
        }
        let (kind, path, token, body, ctx) = match (op, taken) {
            (2, Some((offer, seller, b))) => (
                Kind::Accept,
                format!("/api/v1/offers/{offer}/accept"),
                m.parties[seller].m.token.clone(),
                None,
                b,
            ),
            (4, Some((trade, b, _))) => (
                Kind::Pay,
                format!("/api/v1/admin/trades/{trade}/payment-received"),
                m.admin_of(b).to_string(),
                None,
                b,
            ),
            (5, Some((trade, b, _))) => (
                Kind::Settle,
                format!("/api/v1/trades/{trade}/confirm-delivery"),
                m.parties[b].m.token.clone(),
                None,
                b,
            ),
            (0, _) => {
                let Some((id, _)) = pick(&m.auctions, &mut rng) else {
                    continue;
                };
                let level = load.bid_level.fetch_add(1, Ordering::SeqCst);
                (
                    Kind::Bid,
                    format!("/api/v1/listings/{id}/bids"),
                    m.parties[buyer].m.token.clone(),
                    Some(
                        json!({"amount_fen": 1_000_000 + level * 20_000, "confirm_outlier": true}),
                    ),
                    buyer,
                )
            }
            (1, _) => {
                let Some((id, seller)) = pick(&m.negotiable, &mut rng) else {
                    continue;
                };
                (
                    Kind::Offer,
                    format!("/api/v1/listings/{id}/offers"),
                    m.parties[buyer].m.token.clone(),
                    Some(json!({
                        "amount_fen": rng.gen_range(1_000_000..50_000_000i64),
                        "transaction_mode": "nonexclusive_license",
                        "confirm_outlier": true,
                    })),
                    seller,
                )
            }
            _ => {
                let Some((id, _)) = pick(&m.fixed, &mut rng) else {
                    continue;
                };
                (
                    Kind::Buy,
                    format!("/api/v1/listings/{id}/buy"),
                    m.parties[buyer].m.token.clone(),
                    Some(json!({"transaction_mode": "nonexclusive_license"})),
                    buyer,
                )
            }
        };
        let key = Uuid::new_v4().to_string();
        let base = load.base.read().unwrap_or_else(|e| e.into_inner()).clone();
        let (status, resp) = send(
            &load.client,
            Method::POST,
            &format!("{base}{path}"),
            Some(&token),
            Some(&key),
            body.as_ref(),
        )
        .await;
        let Some(status) = status.filter(|s| (200..300).contains(s)) else {
            if status.is_none() {
                // The server is down (killed): do not spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            continue;
        };
        {
            let mut q = load.queues.lock().unwrap_or_else(|e| e.into_inner());
            match kind {
                Kind::Offer => {
                    if let Some(id) = resp["id"].as_str() {
                        q.offers.push((id.to_string(), ctx, buyer));
                    }
                }
                Kind::Accept | Kind::Buy => {
                    if let Some(id) = trade_id(&resp) {
                        q.awaiting.push((id, ctx));
                    }
                }
                Kind::Pay => {
                    let id = path.split('/').nth(5).unwrap_or_default().to_string();
                    q.paid.push((id, ctx));
                }
                Kind::Bid | Kind::Settle => {}
            }
        }
        load.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Rec {
                kind,
                path,
                token,
                key,
                body,
                status,
                resp,
            });
    }
}

/// What a replay must not change.
async fn snapshot(pool: &PgPool) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "select count(*) from bids",
        "select count(*) from offers",
        "select count(*) from offers where status = 'open'",
        "select count(*) from trades",
        "select count(*) from trades where status = 'paid'",
        "select count(*) from trades where status = 'settled'",
        "select count(*) from ledger_entries",
        "select count(*) from ledger_pending",
        "select coalesce(sum(amount_fen), 0)::bigint from ledger_entries",
        "select coalesce(sum(leading_bid_fen), 0)::bigint from auctions",
    ] {
        out.push(scalar(pool, sql).await);
    }
    out
}

/// Each 2xx answer is in the database: the bid, the offer, the trade, the payment, the settlement.
async fn durable(pool: &PgPool, rec: &Rec) {
    let (sql, id) = match rec.kind {
        Kind::Bid => (
            "select count(*) from bids where id = $1::uuid",
            rec.resp["bid"]["id"].as_str(),
        ),
        Kind::Offer => (
            "select count(*) from offers where id = $1::uuid",
            rec.resp["id"].as_str(),
        ),
        Kind::Accept | Kind::Buy => (
            "select count(*) from trades where id = $1::uuid",
            rec.resp["trade"]["id"].as_str().or(rec.resp["id"].as_str()),
        ),
        Kind::Pay => (
            "select count(*) from trades where id = $1::uuid and status in ('paid', 'settled') \
             and paid_at is not null",
            rec.path.split('/').nth(5),
        ),
        Kind::Settle => (
            "select count(*) from trades where id = $1::uuid and status = 'settled'",
            rec.path.split('/').nth(4),
        ),
    };
    let id = id.unwrap_or_else(|| panic!("{:?} answered without an id: {}", rec.kind, rec.resp));
    let n: i64 = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(
        n, 1,
        "{:?} {} answered {} but is not durable",
        rec.kind, rec.path, rec.status
    );
}

async fn after_restart(pool: &PgPool, load: &Load, round: usize) {
    let base = load.base.read().unwrap_or_else(|e| e.into_inner()).clone();
    let admin = load.market.admins["cquaee"].clone();
    // The ledger verifies and balances (this read also chains what the crash left pending).
    let (status, v) = send(
        &load.client,
        Method::GET,
        &format!("{base}/api/v1/admin/ledger/verify"),
        Some(&admin),
        None,
        None,
    )
    .await;
    assert_eq!(status, Some(200), "round {round}: {v}");
    assert_eq!(v["ok"], json!(true), "round {round}: {v}");
    assert_eq!(v["balanced"], json!(true), "round {round}: {v}");
    let records = load
        .records
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for r in &records {
        durable(pool, r).await;
    }
    // Every key replayed: the first answer again, and nothing changes.
    let before = snapshot(pool).await;
    let client = &load.client;
    let base = &base;
    let mismatches: Vec<String> = stream::iter(records.iter())
        .map(|r| async move {
            let (status, resp) = send(
                client,
                Method::POST,
                &format!("{base}{}", r.path),
                Some(&r.token),
                Some(&r.key),
                r.body.as_ref(),
            )
            .await;
            (status != Some(r.status) || resp != r.resp).then(|| {
                format!(
                    "{:?} {}: first {} {}, replay {status:?} {resp}",
                    r.kind, r.path, r.status, r.resp
                )
            })
        })
        .buffer_unordered(8)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    assert!(
        mismatches.is_empty(),
        "round {round}: {} of {} replays differ, e.g. {:?}",
        mismatches.len(),
        records.len(),
        &mismatches[..mismatches.len().min(3)]
    );
    assert_eq!(
        snapshot(pool).await,
        before,
        "round {round}: replaying {} idempotency keys changed the database",
        records.len()
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_server_killed_five_times_under_load_loses_nothing_answered_and_applies_nothing_twice(
    pool: PgPool,
) {
    let app = TestApp::new(pool.clone());
    let url = url_of(&pool);
    let (kills, load_ms) = if long() {
        (20, 3_000..15_000)
    } else {
        (5, 500..2_500)
    };
    let market = Market::new(&app, "crash", 8, 4).await;
    let mut opts = ServerOptions::new(&url);
    opts.log_file = Some(log_path("crash-0.log"));
    let mut server = Server::start(opts).await;
    let load = Arc::new(Load {
        market,
        base: RwLock::new(server.base.clone()),
        stop: AtomicBool::new(false),
        queues: Mutex::new(Queues::default()),
        records: Mutex::new(Vec::new()),
        bid_level: AtomicI64::new(0),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
    });
    let seed: u64 = std::env::var("TECHMARKET_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test seed {seed} (TECHMARKET_CRASH_SEED={seed} replays the kill times)");
    let mut rng = StdRng::seed_from_u64(seed);
    for round in 1..=kills {
        load.stop.store(false, Ordering::SeqCst);
        let workers: Vec<_> = (0..8)
            .map(|w| tokio::spawn(worker(load.clone(), seed ^ (round * 100 + w) as u64)))
            .collect();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(load_ms.clone()))).await;
        server.kill();
        load.stop.store(true, Ordering::SeqCst);
        for w in workers {
            w.await.unwrap();
        }
        let mut opts = ServerOptions::new(&url);
        opts.log_file = Some(log_path(&format!("crash-{round}.log")));
        server = Server::start(opts).await;
        *load.base.write().unwrap_or_else(|e| e.into_inner()) = server.base.clone();
        after_restart(&pool, &load, round).await;
    }
    // The books against the trades, as the ledger tests check them.
    let statuses = crate::settlement::ledger::books_match_trades(
        &app,
        &load.market.admins["suaee"],
        &load.market.admins["nttc_sw"],
    )
    .await;
    let records = load.records.lock().unwrap_or_else(|e| e.into_inner());
    let count = |k: Kind| records.iter().filter(|r| r.kind == k).count();
    let counts = [
        Kind::Bid,
        Kind::Offer,
        Kind::Accept,
        Kind::Buy,
        Kind::Pay,
        Kind::Settle,
    ]
    .map(|k| (k, count(k)));
    println!("crash test: {kills} kills, answered 2xx: {counts:?}; trades {statuses:?}");
    for (k, c) in counts {
        assert!(c > 0, "the load did some {k:?}: {counts:?}");
    }
}
