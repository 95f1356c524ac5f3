//! Group commit of bids (issue 23): the concurrent bids of known bidders on one auction are taken
//! together, in one statement and one commit per batch (`service::trading::BidQueues`), and each
//! bidder is still answered as if its bid had been alone: the order, the minimum and anti-sniping
//! are those of one bid at a time, across processes and beside the single-bid path.
//!
//! To know that bids really were taken together, some tests hold the auction's row lock (as a bid
//! being taken would) while the bids arrive: they queue behind the one statement waiting for the
//! lock, and the rows they write carry at most two transaction ids.
use std::collections::{HashMap, HashSet};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::{PgPool, Postgres, Transaction};
use techmarket::domain::money::format_yuan;
use uuid::Uuid;

use crate::helpers::*;

use super::*;

const START: i64 = 1_000_000;
const INC: i64 = 10_000;

/// `n` verified bidders that have each bid once, in turn (so that their next bids are queued):
/// bidder `i` at `START + i × INC`.
async fn known_bidders(app: &TestApp, id: &str, n: usize, tag: &str) -> Vec<Member> {
    let bidders = buyers(app, n, tag).await;
    for (i, b) in bidders.iter().enumerate() {
        let r = app
            .post(
                &format!("/api/v1/listings/{id}/bids"),
                Some(&b.token),
                json!({ "amount_fen": START + i as i64 * INC }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    bidders
}

/// A bid sent and its answer.
struct Sent {
    org: String,
    amount: i64,
    status: StatusCode,
    body: Value,
}

/// Sends every bid at once, each on its own task, through `apps[i % apps.len()]`, with its key if
/// it has one; the answers come in the order of `bids`.
fn spawn_all(
    apps: &[&TestApp],
    id: &str,
    bids: &[(&Member, i64, Option<String>)],
) -> tokio::task::JoinHandle<Vec<Sent>> {
    let handles: Vec<_> = bids
        .iter()
        .enumerate()
        .map(|(i, (m, amount, key))| {
            let post = spawn_post(
                &apps[i % apps.len()].app,
                format!("/api/v1/listings/{id}/bids"),
                &m.token,
                json!({ "amount_fen": amount }),
                key.clone(),
            );
            (m.org_id.clone(), *amount, post)
        })
        .collect();
    tokio::spawn(async move {
        let mut sent = Vec::new();
        for (org, amount, post) in handles {
            let (status, body) = post.await.unwrap();
            sent.push(Sent {
                org,
                amount,
                status,
                body,
            });
        }
        sent
    })
}

/// Holds the auction's row lock, as a bid being taken does, until the transaction ends.
async fn hold_row(app: &TestApp, id: &str) -> Transaction<'static, Postgres> {
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("select 1 from auctions where listing_id = $1::uuid for update")
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

/// Waits until `app` holds `n` bids on the auction and its statement waits for the row lock.
async fn until_queued(app: &TestApp, id: &str, n: usize) {
    let listing: Uuid = id.parse().unwrap();
    for _ in 0..6_000 {
        let blocked: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() \
             and pid <> pg_backend_pid() and wait_event_type = 'Lock' and query like '%take_bids%'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if blocked == 1 && app.state.bids.waiting(listing) == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{} of {n} bids queued", app.state.bids.waiting(listing));
}

/// A row of `bids`.
#[derive(Debug, sqlx::FromRow)]
struct BidRow {
    id: Uuid,
    org: String,
    amount_fen: i64,
    created_at: DateTime<Utc>,
    seq: i32,
    /// The transaction that wrote it.
    tx: String,
}

/// The auction's bids in the order they were taken.
async fn table(app: &TestApp, id: &str) -> Vec<BidRow> {
    sqlx::query_as(
        "select id, organization_id::text as org, amount_fen, created_at, seq, xmin::text as tx \
         from bids where listing_id = $1::uuid order by seq",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// Checks the auction's table, its row, its notices and every answer against one another:
/// the bids were taken one after another by the rules (each at least the leading bid plus the
/// increment, later in time, numbered without a gap); each accepted bid's answer is its row and
/// the auction right after it; each refused bid was below a minimum the auction really had; the
/// organisation each bid took the lead from was told once for it, and the seller's one notice
/// names the last price. Returns the table.
async fn check_consistent(app: &TestApp, id: &str, sent: &[Sent]) -> Vec<BidRow> {
    let rows = table(app, id).await;
    assert!(!rows.is_empty());
    assert!(rows[0].amount_fen >= START);
    for (i, w) in rows.windows(2).enumerate() {
        assert!(
            w[1].amount_fen >= w[0].amount_fen + INC,
            "by the increment: {w:?}"
        );
        assert!(w[1].created_at > w[0].created_at, "times increase: {w:?}");
        assert_eq!(w[1].seq, i as i32 + 2, "numbered without a gap: {w:?}");
    }
    let by_id: HashMap<Uuid, &BidRow> = rows.iter().map(|r| (r.id, r)).collect();
    let amounts: HashSet<i64> = rows.iter().map(|r| r.amount_fen).collect();
    let mut answered = HashSet::new();
    for s in sent {
        match s.status {
            StatusCode::CREATED => {
                let bid_id: Uuid = s.body["bid"]["id"].as_str().unwrap().parse().unwrap();
                let row = by_id.get(&bid_id).expect("an accepted bid is in the table");
                assert!(answered.insert(bid_id), "one answer per bid");
                assert_eq!((row.amount_fen, &row.org), (s.amount, &s.org));
                let at: DateTime<Utc> = s.body["bid"]["at"].as_str().unwrap().parse().unwrap();
                assert_eq!(at, row.created_at);
                let a = &s.body["auction"];
                assert_eq!(a["current_price_fen"], json!(s.amount), "{}", s.body);
                assert_eq!(a["bid_count"], json!(row.seq), "{}", s.body);
                assert_eq!(a["min_next_bid_fen"], json!(s.amount + INC));
            }
            StatusCode::CONFLICT => {
                assert_eq!(s.body["error"]["code"], json!("bid_too_low"), "{}", s.body);
                let min = s.body["error"]["min_bid_fen"].as_i64().unwrap();
                assert!(min > s.amount, "{}", s.body);
                assert!(
                    amounts.contains(&(min - INC)),
                    "the minimum is an accepted bid plus the increment: {}",
                    s.body
                );
                assert!(
                    !amounts.contains(&s.amount),
                    "a refused bid is not in the table"
                );
            }
            other => panic!("unexpected {other}: {}", s.body),
        }
    }

    let last = rows.last().unwrap();
    let a = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(a.body["current_price_fen"], json!(last.amount_fen));
    assert_eq!(a.body["bid_count"], json!(rows.len()));
    let (leader, sort): (String, Option<i64>) = sqlx::query_as(
        "select a.leading_org_id::text, l.sort_price_fen from auctions a \
         join listings l on l.id = a.listing_id where a.listing_id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((leader, sort), (last.org.clone(), Some(last.amount_fen)));

    // Outbid notices: one to the leader each bid took the lead from.
    let mut want: HashMap<String, i64> = HashMap::new();
    for w in rows.windows(2) {
        if w[0].org != w[1].org {
            *want.entry(w[0].org.clone()).or_default() += 1;
        }
    }
    let got: HashMap<String, i64> = sqlx::query_as(
        "select organization_id::text, count(*) from notifications where kind = 'outbid' \
         and link = '/listings/' || $1 group by 1",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(got, want);
    let seller: Vec<String> = sqlx::query_scalar(
        "select body_en from notifications where kind = 'bid_received' and dedupe_key = $1",
    )
    .bind(format!("auction:{id}:bids"))
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(seller.len(), 1, "one notice to the seller per auction");
    assert!(
        seller[0].contains(&format_yuan(last.amount_fen)),
        "{}",
        seller[0]
    );
    rows
}

#[sqlx::test(migrations = "./migrations")]
async fn thirty_two_concurrent_bids_are_taken_together_and_each_is_answered_as_the_table_says(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let id = auction(&app, &seller, START, INC, None, 3_600, 300).await;
    let bidders = known_bidders(&app, &id, 32, "batch").await;
    let before = table(&app, &id).await.len();

    // 32 different amounts, all above the committed minimum, in an order that is not theirs.
    let base = START + 32 * INC;
    let bids: Vec<_> = bidders
        .iter()
        .enumerate()
        .map(|(i, m)| (m, base + ((i * 13) % 32) as i64 * INC, None))
        .collect();
    let held = hold_row(&app, &id).await;
    let sending = spawn_all(&[&app], &id, &bids);
    until_queued(&app, &id, 32).await;
    held.commit().await.unwrap();
    let sent = sending.await.unwrap();

    let rows = check_consistent(&app, &id, &sent).await;
    let new = &rows[before..];
    let accepted = sent
        .iter()
        .filter(|s| s.status == StatusCode::CREATED)
        .count();
    assert_eq!(new.len(), accepted);
    assert_eq!(
        rows.last().unwrap().amount_fen,
        base + 31 * INC,
        "the highest bid leads"
    );
    let txs: HashSet<&str> = new.iter().map(|r| r.tx.as_str()).collect();
    assert!(
        txs.len() <= 2,
        "{accepted} bids in {} transactions: the one waiting for the lock, and everything queued behind it",
        txs.len()
    );
    assert_eq!(app.state.bids.waiting(id.parse().unwrap()), 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn bids_taken_together_near_the_end_extend_the_auction_as_one_at_a_time_and_none_after_it(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let id = auction(&app, &seller, START, INC, None, 3_600, 300).await;
    let bidders = known_bidders(&app, &id, 8, "late").await;
    sqlx::query(
        "update auctions set ends_at = now() + interval '60 seconds' where listing_id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.pool)
    .await
    .unwrap();

    let base = START + 8 * INC;
    let bids: Vec<_> = bidders
        .iter()
        .enumerate()
        .map(|(i, m)| (m, base + ((i * 3) % 8) as i64 * INC, None))
        .collect();
    let held = hold_row(&app, &id).await;
    let sending = spawn_all(&[&app], &id, &bids);
    until_queued(&app, &id, 8).await;
    held.commit().await.unwrap();
    let sent = sending.await.unwrap();
    let mut accepted = 0;
    for s in &sent {
        if s.status != StatusCode::CREATED {
            continue;
        }
        accepted += 1;
        let at: DateTime<Utc> = s.body["bid"]["at"].as_str().unwrap().parse().unwrap();
        let ends: DateTime<Utc> = s.body["auction"]["ends_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(ends - at, chrono::TimeDelta::seconds(300), "{}", s.body);
    }
    assert!(accepted >= 1);
    let rows = check_consistent(&app, &id, &sent).await;
    let ends: DateTime<Utc> =
        sqlx::query_scalar("select ends_at from auctions where listing_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        ends,
        rows.last().unwrap().created_at + chrono::TimeDelta::seconds(300),
        "the last bid's time + the extension"
    );

    // Bids queued while the auction ends are refused when their turn comes: closed.
    let min = rows.last().unwrap().amount_fen + INC;
    let late: Vec<_> = bidders
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, m)| (m, min + i as i64 * INC, None))
        .collect();
    let mut held = hold_row(&app, &id).await;
    let sending = spawn_all(&[&app], &id, &late);
    until_queued(&app, &id, 4).await;
    sqlx::query(
        "update auctions set ends_at = now() - interval '1 second' where listing_id = $1::uuid",
    )
    .bind(&id)
    .execute(&mut *held)
    .await
    .unwrap();
    held.commit().await.unwrap();
    for s in sending.await.unwrap() {
        assert_eq!(s.status, StatusCode::CONFLICT, "{}", s.body);
        assert_eq!(
            s.body["error"]["code"],
            json!("auction_closed"),
            "{}",
            s.body
        );
    }
    assert_eq!(table(&app, &id).await.len(), rows.len());
}

#[sqlx::test(migrations = "./migrations")]
async fn two_processes_and_both_bid_paths_on_one_auction_stay_consistent(pool: PgPool) {
    let one = TestApp::new(pool.clone());
    let two = TestApp::new(pool);
    let seller = one.verified_member("seller@chip.cn", "suaee").await;
    let id = auction(&one, &seller, START, INC, None, 3_600, 300).await;
    // 24 known bidders (queued in either process), 8 new ones (their first bid numbers them, alone).
    let known = known_bidders(&one, &id, 24, "known").await;
    let new = buyers(&one, 8, "new").await;

    let base = START + 24 * INC;
    let bids: Vec<(&Member, i64, Option<String>)> = known
        .iter()
        .chain(&new)
        .enumerate()
        .map(|(i, m)| {
            // Some known bidders send an Idempotency-Key: their bid runs in its own transaction.
            let key = (i % 6 == 5).then(|| format!("two-{i}"));
            (m, base + ((i * 13) % 32) as i64 * INC, key)
        })
        .collect();
    let sent = spawn_all(&[&one, &two], &id, &bids).await.unwrap();
    let rows = check_consistent(&one, &id, &sent).await;
    assert_eq!(
        rows.last().unwrap().amount_fen,
        base + 31 * INC,
        "the highest bid leads"
    );
    // Every organisation that bid has one number, and no two share one.
    let numbers: Vec<i32> = sqlx::query_scalar(
        "select bidder_no from auction_bidders where listing_id = $1::uuid order by bidder_no",
    )
    .bind(&id)
    .fetch_all(&one.pool)
    .await
    .unwrap();
    let bidders: HashSet<&str> = rows.iter().map(|r| r.org.as_str()).collect();
    assert!(numbers.len() >= bidders.len());
    assert_eq!(numbers, (1..=numbers.len() as i32).collect::<Vec<_>>());
    for app in [&one, &two] {
        assert_eq!(app.state.bids.waiting(id.parse().unwrap()), 0);
    }
}
