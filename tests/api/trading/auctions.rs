//! Auctions: concurrent bids, minimums, anti-sniping, closing (in one or two processes), idempotent
//! bids, the live event stream.
use axum::http::{header, StatusCode};
use futures_util::future::join_all;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

use super::*;

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
        (&seller, "auction_sold"),
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
    let resp = app.auction_events(&id, None).await;
    assert!(resp.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    // The first event is the current state.
    let mut body = resp.into_body();
    let text = next_event(&mut body).await;
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

#[sqlx::test(migrations = "./migrations")]
async fn an_auction_closes_when_the_clock_passes_its_end(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(chrono::Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let b = app.verified_member("b@buyer.cn", "cquaee").await;
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/bids"),
            Some(&b.token),
            json!({"amount_fen": 1_000_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let status = || async {
        app.get(&format!("/api/v1/listings/{id}/auction"), None)
            .await
            .body["status"]
            .clone()
    };
    // The auction was made to end an hour after the database's now (the setup took a while).
    clock.set(chrono::Utc::now());
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(status().await, json!("open"), "an hour before its end");
    clock.advance(chrono::TimeDelta::seconds(3_601));
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(status().await, json!("closed"));
    assert_eq!(
        count(
            &app,
            "select count(*) from trades where listing_id = $1::uuid",
            &id
        )
        .await,
        1
    );
    let closed_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select closed_at from auctions where listing_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        closed_at.timestamp_micros(),
        clock.now().timestamp_micros(),
        "closed at the clock's time"
    );
}
