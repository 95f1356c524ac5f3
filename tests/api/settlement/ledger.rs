//! The hash-chained ledger: append-only, tamper detection, balanced books under random concurrent
//! actions, large verification, group commit surviving a crash and a killed process.
use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use chrono::Utc;
use futures_util::future::join_all;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::codes::TransactionMode;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn the_ledger_refuses_updates_and_deletes(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = new_trade(&app, &seller, &buyer, 1_000_000).await;
    assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);
    for sql in [
        "update ledger_entries set amount_fen = amount_fen + 1",
        "delete from ledger_entries",
        "truncate ledger_entries",
    ] {
        let e = sqlx::query(sql).execute(&app.pool).await.unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(verify(&app, &admin).await["ok"], json!(true));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_tampered_amount_is_named_by_verification(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    for _ in 0..3 {
        let id = new_trade(&app, &seller, &buyer, 1_000_000).await;
        assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);
        assert_eq!(
            confirm(&app, &id, &buyer.m.token).await.status,
            StatusCode::OK
        );
    }
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["entries"], json!(18));
    let ids: Vec<i64> = sqlx::query_scalar("select id from ledger_entries order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let victim = ids[7];
    let mut conn = app.pool.acquire().await.unwrap();
    for sql in [
        "alter table ledger_entries disable trigger ledger_entries_append_only".to_string(),
        format!("update ledger_entries set amount_fen = amount_fen + 100 where id = {victim}"),
        "alter table ledger_entries enable trigger ledger_entries_append_only".to_string(),
    ] {
        sqlx::query(&sql).execute(&mut *conn).await.unwrap();
    }
    drop(conn);
    let v = verify(&app, &admin).await;
    assert_eq!(v["ok"], json!(false));
    assert_eq!(v["first_bad_entry_id"], json!(victim));
    assert_eq!(v["balanced"], json!(false));
    assert_eq!(v["entries"], json!(18));
    // The ledger page says so.
    let cookies = web_login(&app, "admin-cquaee@test.example").await;
    let page = app.page("/admin/ledger", &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(select_text(&page.text, ".verify .alert.error").len(), 1);
    assert!(page.text.contains(&victim.to_string()));
}

/// Random sequences of payments, confirmations and cancellations over many trades between
/// organisations of all four exchanges, in random order and concurrently; then the books must hold.
#[sqlx::test(migrations = "./migrations")]
async fn random_concurrent_trade_actions_keep_the_books_balanced(pool: PgPool) {
    let app = TestApp::new(pool);
    let exchanges = ["suaee", "cdipex", "nttc_sw", "cquaee"];
    let mut parties = Vec::new();
    let mut admins = HashMap::new();
    for (i, ex) in exchanges.iter().enumerate() {
        parties.push(party(&app, &format!("org{i}@example.cn"), ex).await);
        admins.insert(*ex, app.admin(ex).await);
    }
    let mut rng = StdRng::seed_from_u64(20261126);
    let mut trades = Vec::new();
    for k in 0..20 {
        let s = rng.gen_range(0..parties.len());
        let mut b = rng.gen_range(0..parties.len());
        if b == s {
            b = (b + 1) % parties.len();
        }
        let price = rng.gen_range(1..2_000_000_000i64);
        let exclusive = rng.gen_bool(0.5);
        let l = listing(
            &app,
            &parties[s].m,
            parties[s].exchange,
            &format!("成果 {k}"),
            if exclusive { "sold" } else { "listed" },
        )
        .await;
        let mode = if exclusive {
            TransactionMode::Transfer
        } else {
            TransactionMode::NonexclusiveLicense
        };
        let id = trade_at(&app, &parties[s], &parties[b], l, price, mode, Utc::now()).await;
        trades.push((id, s, b));
    }
    for _round in 0..8 {
        let mut calls = Vec::new();
        for (id, s, b) in &trades {
            // 0–2 actions per trade per round, sometimes the same one twice at once.
            for _ in 0..rng.gen_range(0..3) {
                let (uri, token) = match rng.gen_range(0..10) {
                    0..=3 => {
                        let ex = exchanges[rng.gen_range(0..4)];
                        (
                            format!("/api/v1/admin/trades/{id}/payment-received"),
                            admins[ex].clone(),
                        )
                    }
                    4..=7 => {
                        let who = if rng.gen_bool(0.85) { *b } else { *s };
                        (
                            format!("/api/v1/trades/{id}/confirm-delivery"),
                            parties[who].m.token.clone(),
                        )
                    }
                    _ => {
                        let who = if rng.gen_bool(0.5) { *b } else { *s };
                        (
                            format!("/api/v1/trades/{id}/cancel"),
                            parties[who].m.token.clone(),
                        )
                    }
                };
                calls.push((uri, token));
            }
        }
        // Random order, all at once.
        for i in (1..calls.len()).rev() {
            let j = rng.gen_range(0..=i);
            calls.swap(i, j);
        }
        let rs = join_all(
            calls
                .iter()
                .map(|(uri, token)| post_key(&app, uri, token, None)),
        )
        .await;
        for (r, (uri, _)) in rs.iter().zip(&calls) {
            assert!(
                [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::CONFLICT].contains(&r.status),
                "{uri}: {} {}",
                r.status,
                r.text
            );
        }
    }

    let statuses = books_match_trades(&app, &admins["suaee"], &admins["nttc_sw"]).await;
    assert!(
        statuses.len() >= 3,
        "the random walk reaches several states: {statuses:?}"
    );
}

/// The books against the trades: every ledger transaction balances; each trade has the postings
/// its state calls for (none before payment, its escrow back to zero once settled); each exchange's
/// revenue (in the ledger and on the revenue API) is the fees of its settled trades; the chain
/// verifies and covers every stored entry. Returns how many trades are in each state.
pub(crate) async fn books_match_trades(
    app: &TestApp,
    admin: &str,
    other_admin: &str,
) -> BTreeMap<String, usize> {
    let exchanges = ["suaee", "cdipex", "nttc_sw", "cquaee"];
    // First, as an auditor would: the chain verifies (this also chains anything left pending).
    let v = verify(app, other_admin).await;
    assert_eq!(v["ok"], json!(true), "{v}");
    assert_eq!(v["balanced"], json!(true));
    // Every transaction balances.
    let unbalanced: i64 = sqlx::query_scalar(
        "select count(*) from (select txn_id from ledger_entries group by txn_id \
         having sum(case when side = 'debit' then amount_fen else -amount_fen end) <> 0) x",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(unbalanced, 0);
    // Each trade's postings match its state.
    let rows: Vec<(String, String, i64, i64, i64, String, String)> = sqlx::query_as(
        "select id::text, status, price_fen, buyer_fee_fen, seller_fee_fen, buyer_exchange, seller_exchange from trades",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let n = nets(&app.pool).await;
    let mut expected_revenue: BTreeMap<String, i64> = BTreeMap::new();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for (id, status, price, bfee, sfee, bex, sex) in &rows {
        *statuses.entry(status.clone()).or_default() += 1;
        let txns: i64 = sqlx::query_scalar(
            "select count(distinct txn_id) from ledger_entries where trade_id = $1::uuid",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let escrow = n.get(&format!("escrow:{id}")).copied().unwrap_or(0);
        match status.as_str() {
            "settled" => {
                assert_eq!(txns, 2, "{id}");
                assert_eq!(escrow, 0, "a settled trade's escrow nets to zero");
                *expected_revenue.entry(bex.clone()).or_default() += bfee;
                *expected_revenue.entry(sex.clone()).or_default() += sfee;
            }
            "paid" => {
                assert_eq!(txns, 1, "{id}");
                assert_eq!(escrow, -(price + bfee));
            }
            _ => assert_eq!(txns, 0, "{id} {status}"),
        }
    }
    // Each exchange's revenue equals the fees of its settled trades.
    let r = app.get("/api/v1/admin/revenue", Some(admin)).await;
    for ex in exchanges {
        let want = expected_revenue.get(ex).copied().unwrap_or(0);
        assert_eq!(
            -n.get(&format!("revenue:{ex}")).copied().unwrap_or(0),
            want,
            "{ex}"
        );
        assert_eq!(
            r.body["by_exchange"][ex]["revenue_fen"],
            json!(want),
            "{ex}"
        );
        assert_eq!(
            r.body["by_exchange"][ex]["buyer_fee_fen"].as_i64().unwrap()
                + r.body["by_exchange"][ex]["seller_fee_fen"]
                    .as_i64()
                    .unwrap(),
            want
        );
    }
    let total: i64 = sqlx::query_scalar("select count(*) from ledger_entries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(v["entries"], json!(total));
    statuses
}

/// Verification streams: 100,000 entries are checked without loading them all (run with --ignored).
#[sqlx::test(migrations = "./migrations")]
#[ignore]
async fn verification_of_a_hundred_thousand_entries(pool: PgPool) {
    use techmarket::domain::ledger::Posting;
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    for _ in 0..100 {
        let postings: Vec<Posting> = (0..1000)
            .map(|i| {
                if i % 2 == 0 {
                    Posting::debit("bank:suaee".into(), 100 + i)
                } else {
                    Posting::credit("escrow:bench".into(), 100 + i - 1)
                }
            })
            .collect();
        let mut tx = app.pool.begin().await.unwrap();
        techmarket::service::settlement::post(
            &mut tx,
            None,
            &postings,
            techmarket::service::settlement::now_micros(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        techmarket::service::settlement::flush(&app.pool)
            .await
            .unwrap();
    }
    let t0 = std::time::Instant::now();
    let v = verify(&app, &admin).await;
    eprintln!("verified {} entries in {:?}", v["entries"], t0.elapsed());
    assert_eq!(v["entries"], json!(100_000));
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["balanced"], json!(true));
}

/// As if the process died between a trade's commit and the flush that chains its postings.
async fn commit_without_flush(app: &TestApp, escrow: &str, amount: i64) {
    use techmarket::domain::ledger::Posting;
    let mut tx = app.pool.begin().await.unwrap();
    techmarket::service::settlement::post(
        &mut tx,
        None,
        &[
            Posting::debit("bank:suaee".into(), amount),
            Posting::credit(format!("escrow:{escrow}"), amount),
        ],
        techmarket::service::settlement::now_micros(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn postings_left_pending_by_a_crash_are_chained_by_the_periodic_job_or_the_next_read(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;

    commit_without_flush(&app, "crash-1", 500).await;
    assert_eq!(count(&app.pool, "ledger_pending").await, 2);
    assert_eq!(count(&app.pool, "ledger_entries").await, 0);
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    assert_eq!(count(&app.pool, "ledger_pending").await, 0);
    assert_eq!(count(&app.pool, "ledger_entries").await, 2);

    // A ledger read does not wait for the job: it chains what is pending first.
    commit_without_flush(&app, "crash-2", 700).await;
    let v = verify(&app, &admin).await;
    assert_eq!(v["entries"], json!(4));
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["balanced"], json!(true));
    commit_without_flush(&app, "crash-3", 900).await;
    let b = app.get("/api/v1/admin/ledger/balances", Some(&admin)).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    assert!(b.text.contains("escrow:crash-3"), "{}", b.text);
    assert_eq!(count(&app.pool, "ledger_pending").await, 0);
}

/// Pays (as the buyer's exchange's admin) and settles (as the buyer) one trade through `base`:
/// whether each step answered 200.
async fn settle(
    client: &reqwest::Client,
    base: &str,
    id: &str,
    admin: &str,
    buyer: &str,
) -> (bool, bool) {
    let ok = |r: reqwest::Result<reqwest::Response>| matches!(r, Ok(r) if r.status() == 200);
    let paid = ok(client
        .post(format!("{base}/api/v1/admin/trades/{id}/payment-received"))
        .bearer_auth(admin)
        .send()
        .await);
    if !paid {
        return (false, false);
    }
    let settled = ok(client
        .post(format!("{base}/api/v1/trades/{id}/confirm-delivery"))
        .bearer_auth(buyer)
        .send()
        .await);
    (true, settled)
}

/// A `techmarket serve` child process, killed when dropped (also when the test fails).
struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    fn start(database_url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_techmarket"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("TECHMARKET_ADDR", format!("127.0.0.1:{port}"))
            // No periodic jobs: what a crash leaves pending must be chained by the next read.
            .env("TECHMARKET_JOBS", "0")
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn ready(&self, client: &reqwest::Client) {
        for _ in 0..300 {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{} did not become ready", self.base);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two server processes on one database pay and settle trades at the same time, and one of them
/// is killed (SIGKILL) in the middle: the ledger stays one intact, balanced chain; every trade's
/// postings match the state it reached; nothing is chained twice or lost.
#[sqlx::test(migrations = "./migrations")]
async fn two_processes_settling_at_once_one_killed_midway_keep_one_intact_chain(pool: PgPool) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = TestApp::new(pool);
    let o = app.pool.connect_options();
    let url = format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    );
    let exchanges = ["suaee", "cdipex", "nttc_sw", "cquaee"];
    let mut parties = Vec::new();
    let mut admins = HashMap::new();
    for (i, ex) in exchanges.iter().enumerate() {
        parties.push(party(&app, &format!("proc{i}@example.cn"), ex).await);
        admins.insert(*ex, app.admin(ex).await);
    }
    let mut rng = StdRng::seed_from_u64(7);
    let mut trades = Vec::new();
    for k in 0..48 {
        let s = k % parties.len();
        let b = (s + 1 + k % 3) % parties.len();
        let price = rng.gen_range(1..2_000_000_000i64);
        let id = new_trade(&app, &parties[s], &parties[b], price).await;
        trades.push((id, b));
    }
    let servers = [Server::start(&url), Server::start(&url)];
    let client = reqwest::Client::new();
    for s in &servers {
        s.ready(&client).await;
    }
    let bases = [servers[0].base.clone(), servers[1].base.clone()];
    let [mut doomed, survivor] = servers;
    let settled_on_doomed = AtomicUsize::new(0);

    // The survivor's trades all at once; the doomed instance's in two sequential streams, so the
    // kill lands while it is busy.
    let (on_doomed, on_survivor): (Vec<_>, Vec<_>) =
        trades.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let job = |(_, (id, b)): &(usize, &(String, usize))| {
        (
            id.clone(),
            admins[parties[*b].exchange].clone(),
            parties[*b].m.token.clone(),
        )
    };
    let survivor_run = join_all(on_survivor.iter().map(|t| {
        let (id, admin, buyer) = job(t);
        let (client, base) = (&client, &bases[1]);
        async move {
            assert_eq!(
                settle(client, base, &id, &admin, &buyer).await,
                (true, true),
                "the surviving instance pays and settles {id}"
            );
        }
    }));
    let doomed_run = join_all(on_doomed.chunks(on_doomed.len() / 2).map(|chunk| {
        let jobs: Vec<_> = chunk.iter().map(job).collect();
        let (client, base, settled_on_doomed) = (&client, &bases[0], &settled_on_doomed);
        async move {
            for (id, admin, buyer) in jobs {
                match settle(client, base, &id, &admin, &buyer).await {
                    (true, true) => {
                        settled_on_doomed.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        }
    }));
    let run = async { tokio::join!(survivor_run, doomed_run) };
    let kill = async {
        // After its third settlement (or, should it never get there, after a minute: the
        // assertions below then say what happened instead of the test hanging).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while settled_on_doomed.load(Ordering::SeqCst) < 3 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        doomed.child.kill().unwrap();
    };
    tokio::join!(run, kill);
    let _ = doomed.child.wait();

    // The survivor is what an auditor talks to now; its reads chain anything the dead one left.
    let v: Value = client
        .get(format!("{}/api/v1/admin/ledger/verify", survivor.base))
        .bearer_auth(&admins["cquaee"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["ok"], json!(true), "{v}");
    assert_eq!(v["balanced"], json!(true), "{v}");
    let pending: i64 = sqlx::query_scalar("select count(*) from ledger_pending")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);
    let statuses = books_match_trades(&app, &admins["suaee"], &admins["nttc_sw"]).await;
    let settled = statuses.get("settled").copied().unwrap_or(0);
    assert!(
        (24 + 3..48).contains(&settled),
        "all of the survivor's trades and some, not all, of the killed one's settled: {statuses:?}"
    );
    drop(survivor);
}
