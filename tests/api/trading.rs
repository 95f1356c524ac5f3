//! Offers, purchases and auctions: guards, races (real concurrent requests), closing, idempotency.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use futures_util::future::join_all;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::*;

// ---------------------------------------------------------------- fixtures

/// A `listed` listing of `seller`, made directly in the database (the listings area is built elsewhere).
async fn listing(
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
async fn auction(
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

async fn end_now(app: &TestApp, listing: &str) {
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

async fn buyers(app: &TestApp, n: usize, tag: &str) -> Vec<Member> {
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
fn spawn_post(
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

// ---------------------------------------------------------------- auctions

#[sqlx::test(migrations = "./migrations")]
async fn fifty_concurrent_bids_are_accepted_in_strictly_increasing_order(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bidders = buyers(&app, 5, "bid").await;
    let id = auction(&app, &seller, 1_000_000, 10_000, None, 3_600, 300).await;

    // Varied amounts, some equal, all at least the start price.
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let amount = 1_000_000 + ((i * 37) % 41) as i64 * 10_000;
            spawn_post(
                &app.app,
                format!("/api/v1/listings/{id}/bids"),
                &bidders[i % 5].token,
                json!({ "amount_fen": amount }),
                None,
            )
        })
        .collect();
    let results: Vec<(StatusCode, Value)> = join_all(handles)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let mut accepted = Vec::new();
    for (status, body) in &results {
        match *status {
            StatusCode::CREATED => accepted.push(body["bid"]["amount_fen"].as_i64().unwrap()),
            StatusCode::CONFLICT => {
                assert_eq!(body["error"]["code"], json!("bid_too_low"), "{body}");
                assert!(body["error"]["min_bid_fen"].as_i64().unwrap() >= 1_000_000);
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(accepted.len() >= 2, "several bids win: {accepted:?}");

    // In the order the database accepted them, amounts and times strictly increase.
    let rows: Vec<(i64, chrono::DateTime<chrono::Utc>, i32)> = sqlx::query_as(
        "select amount_fen, created_at, seq from bids where listing_id = $1::uuid order by seq",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), accepted.len());
    for w in rows.windows(2) {
        assert!(
            w[1].0 >= w[0].0 + 10_000,
            "amounts increase by the increment: {w:?}"
        );
        assert!(w[1].1 > w[0].1, "times increase: {w:?}");
        assert_eq!(w[1].2, w[0].2 + 1);
    }
    let mut amounts: Vec<i64> = rows.iter().map(|r| r.0).collect();
    amounts.dedup();
    assert_eq!(
        amounts.len(),
        rows.len(),
        "no two accepted bids share an amount"
    );

    let a = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body["current_price_fen"],
        json!(accepted.iter().max().unwrap())
    );
    assert_eq!(a.body["bid_count"], json!(accepted.len()));
    assert_eq!(a.body["status"], json!("open"));
    // Pseudonyms only, stable per organisation: at most five bidders.
    let bids = a.body["bids"].as_array().unwrap();
    assert!(!bids.is_empty());
    for b in bids {
        let name = b["bidder"].as_str().unwrap();
        assert!(name.starts_with("竞买人"), "{name}");
        let n: u32 = name.trim_start_matches("竞买人").parse().unwrap();
        assert!((1..=5).contains(&n));
        assert_eq!(b["bidder_en"], json!(format!("Bidder {n}")));
    }
    assert!(
        !a.text.contains(&bidders[0].org_id),
        "no organisation ids in public bids"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn bids_below_the_minimum_or_after_the_end_are_refused(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 500_000, 50_000, Some(900_000), 3_600, 300).await;
    let uri = format!("/api/v1/listings/{id}/bids");

    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 499_999}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("bid_too_low"));
    assert_eq!(r.body["error"]["min_bid_fen"], json!(500_000));

    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 500_000}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["bid"]["amount_fen"], json!(500_000));
    assert_eq!(r.body["auction"]["current_price_fen"], json!(500_000));
    assert_eq!(r.body["auction"]["reserve_met"], json!(false));
    assert!(
        r.body["auction"].get("reserve_fen").is_none(),
        "the reserve is secret"
    );

    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 549_999}))
        .await;
    assert_eq!(r.body["error"]["min_bid_fen"], json!(550_000));
    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 600_000}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Searches sort and filter the listing by its current price.
    let sort: Option<i64> =
        sqlx::query_scalar("select sort_price_fen from listings where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(sort, Some(600_000));

    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 0}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": "lots"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The seller sees the reserve; others do not.
    let seen = app
        .get(
            &format!("/api/v1/listings/{id}/auction"),
            Some(&seller.token),
        )
        .await;
    assert_eq!(seen.body["reserve_fen"], json!(900_000));

    end_now(&app, &id).await;
    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 2_000_000}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("auction_closed"));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 2_000_000}))
        .await;
    assert_eq!(r.body["error"]["code"], json!("auction_closed"));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_last_minute_bid_extends_the_auction(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let early = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let late = auction(&app, &seller, 100_000, 1_000, None, 60, 300).await;

    let before = app
        .get(&format!("/api/v1/listings/{early}/auction"), None)
        .await;
    let r = app
        .post(
            &format!("/api/v1/listings/{early}/bids"),
            Some(&b.token),
            json!({"amount_fen": 100_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.body["auction"]["ends_at"], before.body["ends_at"],
        "not within the last 300 s"
    );

    let before = app
        .get(&format!("/api/v1/listings/{late}/auction"), None)
        .await;
    let old_end: chrono::DateTime<chrono::Utc> =
        before.body["ends_at"].as_str().unwrap().parse().unwrap();
    let r = app
        .post(
            &format!("/api/v1/listings/{late}/bids"),
            Some(&b.token),
            json!({"amount_fen": 100_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let new_end: chrono::DateTime<chrono::Utc> = r.body["auction"]["ends_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let bid_at: chrono::DateTime<chrono::Utc> =
        r.body["bid"]["at"].as_str().unwrap().parse().unwrap();
    assert!(
        new_end > old_end + chrono::TimeDelta::seconds(200),
        "{old_end} → {new_end}"
    );
    let diff = (new_end - bid_at).num_milliseconds();
    assert!(
        (299_000..=301_000).contains(&diff),
        "bid time + 300 s, got {diff} ms"
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_winner_gets_a_trade_with_frozen_fees_and_everyone_is_told(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let a = app.verified_member("a@buyer.cn", "cquaee").await;
    let b = app.verified_member("b@buyer.cn", "cdipex").await;
    let id = auction(
        &app,
        &seller,
        1_000_000,
        100_000,
        Some(1_100_000),
        3_600,
        300,
    )
    .await;
    let uri = format!("/api/v1/listings/{id}/bids");
    assert_eq!(
        app.post(&uri, Some(&a.token), json!({"amount_fen": 1_000_000}))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = app
        .post(&uri, Some(&b.token), json!({"amount_fen": 1_200_000}))
        .await;
    assert_eq!(r.body["auction"]["reserve_met"], json!(true));
    assert_eq!(r.body["bid"]["bidder"], json!("竞买人2"));
    let r = app
        .post(&uri, Some(&a.token), json!({"amount_fen": 1_300_000}))
        .await;
    assert_eq!(
        r.body["bid"]["bidder"],
        json!("竞买人1"),
        "stable pseudonym"
    );

    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let view = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(view.body["status"], json!("closed"));
    let trade_id = view.body["trade_id"].as_str().unwrap().to_string();
    let t: (String, i64, String, String, i64, i64, String) = sqlx::query_as(
        "select buyer_organization_id::text, price_fen, status, source, buyer_fee_fen, seller_fee_fen, buyer_exchange \
         from trades where id = $1::uuid",
    )
    .bind(&trade_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(t.0, a.org_id);
    assert_eq!(t.1, 1_300_000);
    assert_eq!(t.2, "awaiting_payment");
    assert_eq!(t.3, "auction");
    // Unified v1: 1.5% of ¥13,000 = ¥195, below the ¥300 minimum.
    assert_eq!((t.4, t.5), (30_000, 30_000));
    assert_eq!(t.6, "cquaee");
    assert_eq!(
        count(
            &app,
            "select count(*) from listings where id = $1::uuid and status = 'sold'",
            &id
        )
        .await,
        1
    );

    for (m, kind) in [
        (&a, "auction_won"),
        (&b, "auction_lost"),
        (&seller, "trade_sold"),
    ] {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from notifications where organization_id = $1::uuid and kind = $2",
        )
        .bind(&m.org_id)
        .bind(kind)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(n, 1, "{kind}");
    }
    // A second pass closes nothing again.
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn an_auction_below_its_reserve_closes_unsold(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(
        &app,
        &seller,
        1_000_000,
        100_000,
        Some(5_000_000),
        3_600,
        300,
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/bids"),
            Some(&b.token),
            json!({"amount_fen": 1_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let view = app
        .get(&format!("/api/v1/listings/{id}/auction"), None)
        .await;
    assert_eq!(view.body["status"], json!("closed"));
    assert_eq!(view.body["trade_id"], Value::Null);
    assert_eq!(view.body["reserve_met"], json!(false));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );
    let kinds: Vec<String> = sqlx::query_scalar(
        "select kind from notifications where kind like 'auction_%' order by kind",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(kinds, vec!["auction_lost", "auction_unsold"]);
}

#[sqlx::test(migrations = "./migrations")]
async fn two_app_instances_closing_the_same_auctions_make_one_trade_each(pool: PgPool) {
    let one = TestApp::new(pool.clone());
    let two = TestApp::new(pool);
    let seller = one.verified_member("seller@chip.cn", "suaee").await;
    let b = one.verified_member("b@buyer.cn", "cquaee").await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let id = auction(&one, &seller, 100_000, 1_000, None, 3_600, 300).await;
        let r = one
            .post(
                &format!("/api/v1/listings/{id}/bids"),
                Some(&b.token),
                json!({"amount_fen": 150_000}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        end_now(&one, &id).await;
        ids.push(id);
    }
    let (r1, r2, r3, r4) = tokio::join!(
        techmarket::jobs::fast_tick(&one.state),
        techmarket::jobs::fast_tick(&two.state),
        techmarket::jobs::fast_tick(&one.state),
        techmarket::jobs::fast_tick(&two.state),
    );
    for r in [r1, r2, r3, r4] {
        r.unwrap();
    }
    for id in &ids {
        assert_eq!(
            count(
                &one,
                "select count(*) from trades where listing_id = $1::uuid",
                id
            )
            .await,
            1
        );
        assert_eq!(
            count(&one, "select count(*) from auctions where listing_id = $1::uuid and status = 'closed' and trade_id is not null", id).await,
            1
        );
    }
    let won: i64 =
        sqlx::query_scalar("select count(*) from notifications where kind = 'auction_won'")
            .fetch_one(&one.pool)
            .await
            .unwrap();
    assert_eq!(won, 6);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_same_idempotency_key_twice_makes_one_bid_and_the_same_answer(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let uri = format!("/api/v1/listings/{id}/bids");
    let (s1, b1) = post_key(
        &app,
        &uri,
        &b.token,
        json!({"amount_fen": 100_000}),
        "bid-1",
    )
    .await;
    let (s2, b2) = post_key(
        &app,
        &uri,
        &b.token,
        json!({"amount_fen": 100_000}),
        "bid-1",
    )
    .await;
    assert_eq!(s1, StatusCode::CREATED);
    assert_eq!(s2, StatusCode::CREATED);
    assert_eq!(b1, b2);
    // Concurrently, too.
    let (x, y) = tokio::join!(
        spawn_post(
            &app.app,
            uri.clone(),
            &b.token,
            json!({"amount_fen": 200_000}),
            Some("bid-2".into())
        ),
        spawn_post(
            &app.app,
            uri.clone(),
            &b.token,
            json!({"amount_fen": 200_000}),
            Some("bid-2".into())
        ),
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.0, StatusCode::CREATED, "{}", x.1);
    assert_eq!(x, y);
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &id
        )
        .await,
        2
    );
    // The same key for something else is refused.
    let (s, body) = post_key(
        &app,
        &uri,
        &b.token,
        json!({"amount_fen": 300_000}),
        "bid-1",
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], json!("idempotency_key_reused"));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_live_event_stream_is_server_sent_events(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let id = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let resp = app
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/listings/{id}/auction/events"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    // The first event is the current state.
    let mut body = resp.into_body();
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(frame.data_ref().unwrap()).to_string();
    assert!(text.contains("event: auction"), "{text}");
    assert!(text.contains(&format!("\"listing_id\":\"{id}\"")), "{text}");

    // Every bid, from any process, arrives through LISTEN/NOTIFY: a first bid (numbering the bidder)
    // and a second one (the one-statement path) both reach the stream, pseudonymous, without the reserve.
    app.state.events.spawn_listener(
        app.pool.clone(),
        techmarket::service::events::live::CHANNELS,
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    for amount in [100_000, 101_000] {
        let r = app
            .post(
                &format!("/api/v1/listings/{id}/bids"),
                Some(&b.token),
                json!({"amount_fen": amount}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let mut seen = String::new();
    while !seen.contains("\"bid_count\":2") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
            .await
            .expect("the bid arrives within a second or so")
            .unwrap()
            .unwrap();
        if let Some(d) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(d));
        }
    }
    assert!(seen.contains("\"bidder\":\"竞买人1\""), "{seen}");
    assert!(seen.contains("\"current_price_fen\":101000"), "{seen}");
    assert!(seen.contains("\"min_next_bid_fen\":102000"), "{seen}");
    assert!(!seen.contains("reserve_fen"), "{seen}");
    assert!(!seen.contains(&b.org_id), "{seen}");

    // The listener's database connection dies (a restart, a network cut): whatever was notified
    // meanwhile is gone, so once it is back the open pages are told to fetch the state again.
    sqlx::query(
        "select pg_terminate_backend(pid) from pg_stat_activity \
         where datname = current_database() and query ilike 'listen%'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let mut seen = String::new();
    while !seen.contains("event: reload") {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("a reload arrives once the listener is back")
            .unwrap()
            .unwrap();
        if let Some(d) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(d));
        }
    }

    let r = app
        .page(&format!("/listings/{}/auction/events", Uuid::now_v7()), "")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------- purchases

#[sqlx::test(migrations = "./migrations")]
async fn twenty_concurrent_purchases_of_an_exclusive_listing_make_one_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bs = buyers(&app, 5, "buy").await;
    let id = listing(
        &app,
        &seller,
        "fixed",
        &["transfer", "nonexclusive_license"],
        Some(350_000_000),
    )
    .await;
    let handles: Vec<_> = (0..20)
        .map(|i| {
            spawn_post(
                &app.app,
                format!("/api/v1/listings/{id}/buy"),
                &bs[i % 5].token,
                json!({"transaction_mode": "transfer"}),
                None,
            )
        })
        .collect();
    let results: Vec<_> = join_all(handles)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let won: Vec<_> = results
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for (s, body) in &results {
        if *s != StatusCode::CREATED {
            assert_eq!(*s, StatusCode::CONFLICT, "{body}");
            let code = body["error"]["code"].as_str().unwrap();
            assert!(
                code == "listing_not_available" || code == "listing_sold",
                "{code}"
            );
        }
    }
    let trade = &won[0].1["trade"];
    assert_eq!(trade["price_fen"], json!(350_000_000));
    assert_eq!(trade["transaction_mode"], json!("transfer"));
    assert_eq!(trade["contract_type"], json!("tech_transfer"));
    assert_eq!(trade["status"], json!("awaiting_payment"));
    assert_eq!(trade["seller_organization_id"], json!(seller.org_id));
    assert_eq!(trade["seller_exchange"], json!("suaee"));
    // Unified v1 on ¥3,500,000: 1.5% × 100万 + 1% × 250万 = ¥40,000.
    assert_eq!(trade["buyer_fee_fen"], json!(4_000_000));
    assert_eq!(trade["seller_fee_fen"], json!(4_000_000));
    for k in [
        "id",
        "listing_id",
        "buyer_organization_id",
        "fee_schedule_id",
        "buyer_exchange",
        "created_at",
        "paid_at",
        "settled_at",
    ] {
        assert!(trade.get(k).is_some(), "{k}");
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from listings where id = $1::uuid and status = 'sold'",
            &id
        )
        .await,
        1
    );
    // Anyone else now gets 409.
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/buy"),
            Some(&bs[1].token),
            json!({"transaction_mode": "nonexclusive_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_non_exclusive_licence_is_sold_to_many(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bs = buyers(&app, 3, "lic").await;
    let id = listing(
        &app,
        &seller,
        "fixed",
        &["nonexclusive_license"],
        Some(5_000_000),
    )
    .await;
    let handles: Vec<_> = bs
        .iter()
        .map(|b| {
            spawn_post(
                &app.app,
                format!("/api/v1/listings/{id}/buy"),
                &b.token,
                json!({"transaction_mode": "nonexclusive_license"}),
                None,
            )
        })
        .collect();
    for r in join_all(handles).await {
        let (s, body) = r.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from listings where id = $1::uuid and status = 'listed'",
            &id
        )
        .await,
        1
    );
    // A mode the listing does not offer: 422 naming the field.
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/buy"),
            Some(&bs[0].token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["transaction_mode"].is_string(),
        "{}",
        r.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn purchases_are_idempotent_and_respect_the_pricing_mode(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let fixed = listing(
        &app,
        &seller,
        "fixed",
        &["nonexclusive_license"],
        Some(1_000_000),
    )
    .await;
    let negotiable = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let uri = format!("/api/v1/listings/{fixed}/buy");
    let body = json!({"transaction_mode": "nonexclusive_license"});
    let (s1, b1) = post_key(&app, &uri, &b.token, body.clone(), "buy-1").await;
    let (s2, b2) = post_key(&app, &uri, &b.token, body, "buy-1").await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(b1, b2);
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &fixed
        )
        .await,
        1
    );

    let r = app
        .post(
            &format!("/api/v1/listings/{negotiable}/buy"),
            Some(&b.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("wrong_pricing_mode"));
    let r = app
        .post(
            &format!("/api/v1/listings/{fixed}/bids"),
            Some(&b.token),
            json!({"amount_fen": 100}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], json!("wrong_pricing_mode"));
    let r = app
        .post(
            &format!("/api/v1/listings/{}/buy", Uuid::now_v7()),
            Some(&b.token),
            json!({"transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&uri, None, json!({"transaction_mode": "transfer"}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------- guards

#[sqlx::test(migrations = "./migrations")]
async fn no_one_trades_on_their_own_listing_or_while_unverified_or_restricted(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let unverified = app.member("new@buyer.cn", "cquaee").await;
    let restricted = app.verified_member("bad@buyer.cn", "cdipex").await;
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason) values ($1, $2::uuid, '失信')",
    )
    .bind(Uuid::now_v7())
    .bind(&restricted.org_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let fixed = listing(&app, &seller, "fixed", &["transfer"], Some(1_000_000)).await;
    let negotiable = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let auc = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let attempts = [
        (
            format!("/api/v1/listings/{fixed}/buy"),
            json!({"transaction_mode": "transfer"}),
        ),
        (
            format!("/api/v1/listings/{negotiable}/offers"),
            json!({"amount_fen": 100_000, "transaction_mode": "transfer"}),
        ),
        (
            format!("/api/v1/listings/{auc}/bids"),
            json!({"amount_fen": 100_000}),
        ),
    ];
    for (uri, body) in &attempts {
        for (m, code) in [
            (&seller, "own_listing"),
            (&unverified, "organization_unverified"),
            (&restricted, "organization_restricted"),
        ] {
            let r = app.post(uri, Some(&m.token), body.clone()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri} {code}: {}", r.text);
            assert_eq!(r.body["error"]["code"], json!(code), "{uri}");
        }
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &fixed
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &auc
        )
        .await,
        0
    );
}

// ---------------------------------------------------------------- offers

async fn offer(app: &TestApp, listing: &str, m: &Member, amount: i64) -> Value {
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

#[sqlx::test(migrations = "./migrations")]
async fn an_offer_and_a_counter_offer_end_in_a_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let other = app.verified_member("other@buyer.cn", "cdipex").await;
    let id = listing(
        &app,
        &seller,
        "negotiable",
        &["transfer", "exclusive_license"],
        Some(40_000_000),
    )
    .await;

    let o = offer(&app, &id, &b, 30_000_000).await;
    assert_eq!(o["status"], json!("open"));
    assert_eq!(o["made_by"], json!("buyer"));
    assert_eq!(o["listing_id"], json!(id));
    assert_eq!(o["amount_fen"], json!(30_000_000));
    assert_eq!(o["transaction_mode"], json!("transfer"));
    let oid = o["id"].as_str().unwrap();
    let other_offer = offer(&app, &id, &other, 31_000_000).await;

    // Parties only.
    assert_eq!(
        app.get(&format!("/api/v1/offers/{oid}"), Some(&b.token))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/offers/{oid}"), Some(&seller.token))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/offers/{oid}"), Some(&other.token))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let all = app
        .get(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&seller.token),
        )
        .await;
    assert_eq!(all.body["total"], json!(2));
    let mine = app
        .get(&format!("/api/v1/listings/{id}/offers"), Some(&b.token))
        .await;
    assert_eq!(mine.body["total"], json!(1));
    let stranger = app.verified_member("stranger@buyer.cn", "suaee").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&stranger.token)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // The buyer may not answer its own offer; the seller may not withdraw it.
    for action in ["accept", "reject"] {
        let r = app
            .post(
                &format!("/api/v1/offers/{oid}/{action}"),
                Some(&b.token),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{action}");
    }
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/counter"),
            Some(&b.token),
            json!({"amount_fen": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/withdraw"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/accept"),
            Some(&stranger.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // The seller counters.
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/counter"),
            Some(&seller.token),
            json!({"amount_fen": 35_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["made_by"], json!("seller"));
    assert_eq!(r.body["status"], json!("open"));
    assert_eq!(r.body["thread_id"], o["thread_id"]);
    let cid = r.body["id"].as_str().unwrap().to_string();
    let old = app
        .get(&format!("/api/v1/offers/{oid}"), Some(&b.token))
        .await;
    assert_eq!(old.body["status"], json!("countered"));
    // The seller may not accept its own counter-offer.
    let r = app
        .post(
            &format!("/api/v1/offers/{cid}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The countered offer can no longer be accepted.
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // The buyer accepts the counter-offer: a trade at that amount.
    let r = app
        .post(
            &format!("/api/v1/offers/{cid}/accept"),
            Some(&b.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["trade"]["price_fen"], json!(35_000_000));
    assert_eq!(r.body["trade"]["buyer_organization_id"], json!(b.org_id));
    assert_eq!(r.body["trade"]["status"], json!("awaiting_payment"));
    let accepted = app
        .get(&format!("/api/v1/offers/{cid}"), Some(&b.token))
        .await;
    assert_eq!(accepted.body["status"], json!("accepted"));
    // Exclusive: the listing is sold, the other buyer's offer closed.
    let closed = app
        .get(
            &format!("/api/v1/offers/{}", other_offer["id"].as_str().unwrap()),
            Some(&other.token),
        )
        .await;
    assert_eq!(closed.body["status"], json!("closed"));
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&other.token),
            json!({"amount_fen": 50_000_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("listing_not_available"));
    // The seller was told of the offers and of the trade.
    let n: i64 = sqlx::query_scalar("select count(*) from notifications where organization_id = $1::uuid and kind in ('offer_received', 'trade_sold')")
        .bind(&seller.org_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
}

#[sqlx::test(migrations = "./migrations")]
async fn offers_can_be_rejected_and_withdrawn_by_the_right_party(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let o = offer(&app, &id, &b, 100_000).await;
    let oid = o["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/reject"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("rejected"));
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/withdraw"),
            Some(&b.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no longer open");

    let o = offer(&app, &id, &b, 120_000).await;
    assert_eq!(o["thread_id"], json!(o["thread_id"]));
    let oid = o["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/withdraw"),
            Some(&b.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], json!("withdrawn"));
    // A mode the listing does not offer, or a bad amount: 422.
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&b.token),
            json!({"amount_fen": -5, "transaction_mode": "equity"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["transaction_mode"].is_string());
    assert!(r.body["error"]["fields"]["amount_fen"].is_string());
    // The whole thread.
    let mine = app.get("/api/v1/offers", Some(&b.token)).await;
    assert_eq!(mine.body["total"], json!(1), "{}", mine.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_expired_offer_cannot_be_accepted(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let o = offer(&app, &id, &b, 100_000).await;
    let oid = o["id"].as_str().unwrap();
    let expires: chrono::DateTime<chrono::Utc> = o["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_hours();
    assert!(
        (14 * 24 - 1..=14 * 24).contains(&days),
        "14 days, got {days} h"
    );
    sqlx::query("update offers set expires_at = now() - interval '1 minute' where id = $1::uuid")
        .bind(oid)
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/offers/{oid}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("offer_expired"));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    let status: String = sqlx::query_scalar("select status from offers where id = $1::uuid")
        .bind(oid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "expired");
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn twenty_concurrent_accepts_on_an_exclusive_listing_make_one_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bs = buyers(&app, 20, "acc").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let mut offers = Vec::new();
    for (i, b) in bs.iter().enumerate() {
        let o = offer(&app, &id, b, 100_000 + i as i64).await;
        offers.push(o["id"].as_str().unwrap().to_string());
    }
    let handles: Vec<_> = offers
        .iter()
        .map(|oid| {
            spawn_post(
                &app.app,
                format!("/api/v1/offers/{oid}/accept"),
                &seller.token,
                json!({}),
                None,
            )
        })
        .collect();
    let results: Vec<_> = join_all(handles)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let ok = results
        .iter()
        .filter(|r| r.0 == StatusCode::CREATED)
        .count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.0 == StatusCode::CREATED || r.0 == StatusCode::CONFLICT));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from offers where listing_id = $1::uuid and status = 'accepted'",
            &id
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from offers where listing_id = $1::uuid and status = 'open'",
            &id
        )
        .await,
        0
    );
}

// ---------------------------------------------------------------- pages

#[sqlx::test(migrations = "./migrations")]
async fn the_negotiation_page_shows_the_thread_and_the_right_forms(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let o = offer(&app, &id, &b, 12_345_600).await;
    let thread = o["thread_id"].as_str().unwrap();
    let oid = o["id"].as_str().unwrap();

    let cookies = web_login(&app, "seller@chip.cn").await;
    let page = app.page(&format!("/offers/{thread}"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    let doc = scraper::Html::parse_document(&page.text);
    let rows = scraper::Selector::parse("table.offers-thread tbody tr").unwrap();
    assert_eq!(doc.select(&rows).count(), 1);
    assert!(page.text.contains("¥123,456.00"));
    assert!(page.text.contains("转让"));
    let accept =
        scraper::Selector::parse(&format!("form[action=\"/offers/{oid}/accept\"]")).unwrap();
    assert_eq!(doc.select(&accept).count(), 1, "the seller may accept");

    // The seller counters through the form; the buyer sees the counter and may accept it.
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/offers/{oid}/counter"),
            &cookies,
            &[("_csrf", &csrf), ("amount", "130万")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let bc = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/offers/{thread}?lang=en"), &bc).await;
    assert!(page.text.contains("¥1,300,000.00"), "{}", page.text);
    let doc = scraper::Html::parse_document(&page.text);
    let forms = scraper::Selector::parse("form[action$=\"/accept\"]").unwrap();
    assert_eq!(doc.select(&forms).count(), 1);
    let my = app.page("/my/offers", &bc).await;
    assert!(my.text.contains(&format!("/offers/{thread}")));

    // A bad amount through the form comes back with a message, not an error page.
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/listings/{id}/offers"),
            &bc,
            &[
                ("_csrf", &csrf),
                ("amount", "abc"),
                ("transaction_mode", "transfer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .contains("trading_error=err.amount"));
    // Someone else's thread: not found.
    let stranger = app.verified_member("x@buyer.cn", "suaee").await;
    let xc = web_login(&app, &stranger.email).await;
    assert_eq!(
        app.page(&format!("/offers/{thread}"), &xc).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn bidding_through_the_form_redirects_back_to_the_listing(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page("/my/offers", &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/listings/{id}/bids"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("amount", "1000"),
                ("idempotency_key", "k1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/listings/{id}?trading=bid#trading").as_str()
    );
    let r = app
        .form(
            &format!("/listings/{id}/bids"),
            &cookies,
            &[("_csrf", &csrf), ("amount", "1000")],
        )
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/listings/{id}?trading_error=bid_too_low#trading").as_str()
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_demo_data_adds_bids_and_a_negotiation_once(pool: PgPool) {
    let app = TestApp::new(pool);
    // Nothing to do without the listings' demo data.
    techmarket::service::trading::seed_demo(&app.pool)
        .await
        .unwrap();
    let seller = app
        .verified_member("chip@demo.techmarket.cn", "suaee")
        .await;
    app.verified_member("buyer-chip@demo.techmarket.cn", "suaee")
        .await;
    app.verified_member("buyer-energy@demo.techmarket.cn", "cquaee")
        .await;
    app.verified_member("buyer-auto@demo.techmarket.cn", "cquaee")
        .await;
    let auc = auction(&app, &seller, 100_000, 10_000, None, 86_400, 300).await;
    let neg = listing(&app, &seller, "negotiable", &["transfer"], Some(1_000_000)).await;
    for _ in 0..2 {
        techmarket::service::trading::seed_demo(&app.pool)
            .await
            .unwrap();
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from bids where listing_id = $1::uuid",
            &auc
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from offers where listing_id = $1::uuid and status = 'open'",
            &neg
        )
        .await,
        1
    );
    let a = app
        .get(&format!("/api/v1/listings/{auc}/auction"), None)
        .await;
    assert_eq!(a.body["bid_count"], json!(3));
    assert_eq!(a.body["bids"][0]["bidder"], json!("竞买人1"));
    assert_eq!(a.body["bids"][1]["bidder"], json!("竞买人2"));
}

fn page_ctx(
    m: Option<&Member>,
    lang: techmarket::i18n::Lang,
) -> techmarket::http::context::PageCtx {
    use techmarket::http::context::{PageCtx, RequestCtx};
    let user = m.map(|m| techmarket::auth::CurrentUser {
        id: m.user_id.parse().unwrap(),
        email: m.email.clone(),
        display_name: "测试用户".into(),
        role: techmarket::domain::codes::Role::Member,
        organization_id: Some(m.org_id.parse().unwrap()),
        admin_exchange: None,
    });
    PageCtx::from_request(&RequestCtx {
        lang,
        is_api: false,
        path: "/listings/x".into(),
        query: Some("trading_error=bid_too_low".into()),
        user,
        csrf: "c".into(),
        unread: 0,
        session_secret: None,
    })
}

#[sqlx::test(migrations = "./migrations")]
async fn the_listing_panel_shows_the_fee_the_next_minimum_and_the_guards(pool: PgPool) {
    use techmarket::http::web::trading::listing_panel;
    use techmarket::i18n::Lang;
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let unverified = app.member("new@buyer.cn", "cquaee").await;
    let fixed = listing(&app, &seller, "fixed", &["transfer"], Some(350_000_000)).await;
    let auc = auction(&app, &seller, 100_000, 1_000, None, 3_600, 300).await;
    app.post(
        &format!("/api/v1/listings/{auc}/bids"),
        Some(&b.token),
        json!({"amount_fen": 100_000}),
    )
    .await;

    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&b), Lang::Zh),
        fixed.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(p.is_fixed() && p.can_act());
    assert_eq!(p.buyer_fee_fen, Some(4_000_000), "unified v1 on ¥3,500,000");

    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&b), Lang::En),
        auc.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(p.is_auction() && p.auction_open() && p.you_lead);
    assert_eq!(p.min_next_yuan, "1010");
    assert_eq!(p.error, "Bid too low: the minimum now is ¥1,010.00.");
    assert_eq!(p.auction.as_ref().unwrap().bids[0].bidder_en, "Bidder 1");
    // The live panel knows the viewer's pseudonym (as the events carry it) to say who leads.
    assert_eq!(p.my_bidder, p.auction.as_ref().unwrap().bids[0].bidder);

    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&unverified), Lang::Zh),
        auc.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(!p.can_act());
    assert_eq!(
        p.guard,
        techmarket::i18n::t(Lang::Zh, "error.organization_unverified")
    );
    assert!(!p.guard.is_empty());
    let p = listing_panel(
        &app.state,
        &page_ctx(Some(&seller), Lang::Zh),
        auc.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(p.is_owner && !p.can_act() && !p.you_lead);
    assert_eq!(p.my_bidder, "", "the seller never bid");
    let p = listing_panel(
        &app.state,
        &page_ctx(None, Lang::Zh),
        fixed.parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(!p.signed_in && !p.can_act());
}

/// A credit restriction put on a buyer after its offer: the seller's accept is refused and no
/// trade is made. Withdrawing the listing closes its other open offers and tells their makers.
#[sqlx::test(migrations = "./migrations")]
async fn no_deal_with_a_restricted_buyer_and_withdrawal_closes_the_offers(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bad = app.verified_member("bad@buyer.cn", "cdipex").await;
    let good = app.verified_member("good@buyer.cn", "cquaee").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], None).await;
    let bad_offer = offer(&app, &id, &bad, 100_000).await;
    let good_offer = offer(&app, &id, &good, 90_000).await;
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason) values ($1, $2::uuid, '失信')",
    )
    .bind(Uuid::now_v7())
    .bind(&bad.org_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let r = app
        .post(
            &format!(
                "/api/v1/offers/{}/accept",
                bad_offer["id"].as_str().unwrap()
            ),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("counterparty_restricted"));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );

    let r = app
        .post(
            &format!("/api/v1/listings/{id}/withdraw"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let status: String = sqlx::query_scalar("select status from offers where id = $1::uuid")
        .bind(good_offer["id"].as_str().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "closed");
    let told: i64 = sqlx::query_scalar(
        "select count(*) from notifications where organization_id = $1::uuid and title_zh like '成果已撤回%'",
    )
    .bind(&good.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, 1);
}

/// A non-exclusive licence listing can be withdrawn once its sales are settled, not while one is
/// unfinished.
#[sqlx::test(migrations = "./migrations")]
async fn a_licence_listing_is_withdrawable_after_its_sales_settle(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let buyer = app.verified_member("b@buyer.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = listing(
        &app,
        &seller,
        "fixed",
        &["nonexclusive_license"],
        Some(5_000_000),
    )
    .await;
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/buy"),
            Some(&buyer.token),
            json!({"transaction_mode": "nonexclusive_license"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let trade = r.body["trade"]["id"].as_str().unwrap().to_string();
    let withdraw_uri = format!("/api/v1/listings/{id}/withdraw");
    let withdraw = || app.post(&withdraw_uri, Some(&seller.token), json!({}));
    let r = withdraw().await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "awaiting payment: {}",
        r.text
    );
    assert_eq!(r.body["error"]["code"], json!("listing_not_withdrawable"));
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{trade}/payment-received"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        withdraw().await.status,
        StatusCode::CONFLICT,
        "paid, not delivered"
    );
    let r = app
        .post(
            &format!("/api/v1/trades/{trade}/confirm-delivery"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = withdraw().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], json!("withdrawn"));
}

/// Buying through the listing page is binding at once: the buyer ticks a box stating the total
/// (price + buyer fee); without it nothing is bought; with it the trade page says what comes next.
/// Delivery is confirmed the same way, stating what the seller will be paid.
#[sqlx::test(migrations = "./migrations")]
async fn buying_and_confirming_delivery_on_the_pages_need_the_amount_confirmed(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = listing(&app, &seller, "fixed", &["transfer"], Some(350_000_000)).await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    assert!(
        page.text
            .contains("我确认以 ¥3,540,000.00（成交价 + 买方服务费）购买"),
        "{}",
        page.text
    );
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let buy = format!("/listings/{id}/buy");
    let r = app
        .form(
            &buy,
            &cookies,
            &[("_csrf", &csrf), ("transaction_mode", "transfer")],
        )
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/listings/{id}?trading_error=err.trading.confirm_buy#trading").as_str()
    );
    let back = app
        .page(
            &format!("/listings/{id}?trading_error=err.trading.confirm_buy"),
            &cookies,
        )
        .await;
    assert!(back.text.contains("请勾选确认购买总额后再提交。"));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );

    let r = app
        .form(
            &buy,
            &cookies,
            &[
                ("_csrf", &csrf),
                ("transaction_mode", "transfer"),
                ("confirm", "1"),
            ],
        )
        .await;
    let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(
        to.starts_with("/trades/") && to.ends_with("?done=bought"),
        "{to}"
    );
    let trade_page = app.page(&to, &cookies).await;
    assert!(trade_page.text.contains("购买成功"), "{}", trade_page.text);
    let trade = to
        .trim_start_matches("/trades/")
        .trim_end_matches("?done=bought")
        .to_string();

    let r = app
        .post(
            &format!("/api/v1/admin/trades/{trade}/payment-received"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = app.page(&format!("/trades/{trade}"), &cookies).await;
    assert!(
        page.text.contains("确认后将向卖方结算 ¥3,460,000.00"),
        "{}",
        page.text
    );
    let confirm = format!("/trades/{trade}/confirm-delivery");
    let r = app
        .form(&confirm, &cookies, &[("_csrf", &csrf), ("idem", "c1")])
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/trades/{trade}?error=confirm_required").as_str()
    );
    let r = app
        .form(
            &confirm,
            &cookies,
            &[("_csrf", &csrf), ("idem", "c2"), ("confirm", "1")],
        )
        .await;
    assert_eq!(
        r.headers[header::LOCATION],
        format!("/trades/{trade}?done=settled").as_str()
    );
    let status: String = sqlx::query_scalar("select status from trades where id = $1::uuid")
        .bind(&trade)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "settled");
}

/// A refused offer comes back with what the buyer typed, not an empty form.
#[sqlx::test(migrations = "./migrations")]
async fn a_refused_offer_keeps_what_was_typed(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    app.verified_member("b@buyer.cn", "cquaee").await;
    let id = listing(
        &app,
        &seller,
        "negotiable",
        &["transfer", "exclusive_license"],
        None,
    )
    .await;
    let cookies = web_login(&app, "b@buyer.cn").await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/listings/{id}/offers"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("amount", "-100"),
                ("transaction_mode", "exclusive_license"),
                ("message", "希望<独占>许可，价格可谈"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(back.contains("trading_error="), "{back}");
    assert_eq!(
        count(
            &app,
            "select count(*) from offers where listing_id = $1::uuid",
            &id
        )
        .await,
        0
    );
    let page = app.page(&back, &cookies).await;
    assert_eq!(input_value(&page.text, "amount").as_deref(), Some("-100"));
    assert!(
        page.text.contains("希望&#60;独占&#62;许可，价格可谈")
            || page.text.contains("希望&lt;独占&gt;许可，价格可谈"),
        "escaped and kept"
    );
    assert!(page
        .text
        .contains(r#"<option value="exclusive_license" selected>"#));
}
