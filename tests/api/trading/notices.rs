//! Auction notices (issue 16 item 7): an outbid notice per outbid bidder, written by the bid's own
//! statement (none for the leader raising its own bid, right under concurrent bids); the close's
//! notices to the winner, the losers and the seller; the inbox in the API.
use std::collections::HashMap;

use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

/// Outbid notices per organisation id.
async fn outbid_counts(app: &TestApp) -> HashMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select organization_id::text, count(*) from notifications where kind = 'outbid' group by 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

async fn bid(app: &TestApp, listing: &str, m: &Member, amount: i64) {
    let r = app
        .post(
            &format!("/api/v1/listings/{listing}/bids"),
            Some(&m.token),
            json!({ "amount_fen": amount }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn each_outbid_bidder_is_told_once_per_lost_lead_and_the_leader_never(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let [a, b, c]: [Member; 3] = buyers(&app, 3, "notice").await.try_into().ok().unwrap();
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;

    bid(&app, &id, &a, 1_000_000).await; // first bid: nobody to outbid
    assert!(outbid_counts(&app).await.is_empty());
    bid(&app, &id, &b, 1_100_000).await; // b's first bid outbids a
    bid(&app, &id, &b, 1_200_000).await; // the leader raises its own bid: no notice
    let n = outbid_counts(&app).await;
    assert_eq!((n.get(&a.org_id), n.get(&b.org_id)), (Some(&1), None));
    // With an Idempotency-Key the bid runs in a transaction: the notice commits with it.
    let (status, _) = post_key(
        &app,
        &format!("/api/v1/listings/{id}/bids"),
        &c.token,
        json!({"amount_fen": 1_300_000}),
        "notice-c-1",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    bid(&app, &id, &a, 1_400_000).await; // a known bidder's one-statement bid outbids c
    let n = outbid_counts(&app).await;
    for (m, want) in [(&a, 1), (&b, 1), (&c, 1)] {
        assert_eq!(n.get(&m.org_id), Some(&want), "{}", m.email);
    }
    // A replayed key changes nothing, so tells no one again.
    let (status, _) = post_key(
        &app,
        &format!("/api/v1/listings/{id}/bids"),
        &c.token,
        json!({"amount_fen": 1_300_000}),
        "notice-c-1",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(outbid_counts(&app).await.values().sum::<i64>(), 3);

    // c's inbox in the API: the notice names the listing and the new price, in the asked language.
    let r = app.get("/api/v1/notifications", Some(&c.token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["total"], json!(1));
    let n = &r.body["items"][0];
    assert_eq!(n["kind"], json!("outbid"));
    assert_eq!(n["subject_type"], json!("listing"));
    assert_eq!(n["subject_id"], json!(id));
    assert!(n["read_at"].is_null());
    let text = n["text"].as_str().unwrap();
    assert!(text.contains("¥14,000.00"), "{text}");
    let r = app
        .get("/api/v1/notifications?lang=en", Some(&c.token))
        .await;
    let text = r.body["items"][0]["text"].as_str().unwrap().to_string();
    assert!(text.contains("no longer lead"), "{text}");
}

#[sqlx::test(migrations = "./migrations")]
async fn concurrent_bids_tell_exactly_the_organisations_that_lost_the_lead(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let bidders = buyers(&app, 4, "race").await;
    let id = auction(&app, &seller, 1_000_000, 10_000, None, 3_600, 300).await;
    // Everyone has bid once (known bidders then bid in one statement each).
    for (i, m) in bidders.iter().enumerate() {
        bid(&app, &id, m, 1_000_000 + i as i64 * 10_000).await;
    }
    let handles: Vec<_> = (0..40)
        .map(|i| {
            spawn_post(
                &app.app,
                format!("/api/v1/listings/{id}/bids"),
                &bidders[i % 4].token,
                json!({ "amount_fen": 1_100_000 + ((i * 13) % 37) as i64 * 10_000 }),
                None,
            )
        })
        .collect();
    for r in join_all(handles).await {
        let (status, body) = r.unwrap();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status} {body}"
        );
    }
    // In the order the database took the bids, each change of leader outbid the one before.
    let orgs: Vec<String> = sqlx::query_scalar(
        "select organization_id::text from bids where listing_id = $1::uuid order by seq",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut want: HashMap<String, i64> = HashMap::new();
    for w in orgs.windows(2) {
        if w[0] != w[1] {
            *want.entry(w[0].clone()).or_default() += 1;
        }
    }
    assert!(want.values().sum::<i64>() >= 4, "{orgs:?}");
    assert_eq!(outbid_counts(&app).await, want);
    let leader: String =
        sqlx::query_scalar("select leading_org_id::text from auctions where listing_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(Some(&leader), orgs.last());
}

#[sqlx::test(migrations = "./migrations")]
async fn the_inbox_is_paged_read_one_by_one_and_private(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let [a, b]: [Member; 2] = buyers(&app, 2, "inbox").await.try_into().ok().unwrap();
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;
    for i in 0..3 {
        bid(&app, &id, &a, 1_000_000 + i * 200_000).await;
        bid(&app, &id, &b, 1_100_000 + i * 200_000).await;
    }
    let r = app
        .get("/api/v1/notifications?per_page=2", Some(&a.token))
        .await;
    assert_eq!(r.body["total"], json!(3), "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["per_page"], json!(2));
    let newest = r.body["items"][0]["id"].as_str().unwrap().to_string();
    let older = r.body["items"][1]["id"].as_str().unwrap().to_string();
    assert!(newest.parse::<i64>().unwrap() > older.parse::<i64>().unwrap());

    let read = format!("/api/v1/notifications/{newest}/read");
    assert_eq!(
        app.post(&read, Some(&a.token), json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .get("/api/v1/notifications?unread=true", Some(&a.token))
        .await;
    assert_eq!(r.body["total"], json!(2));
    let r = app.get("/api/v1/notifications", Some(&a.token)).await;
    let first_read = r.body["items"][0]["read_at"].clone();
    assert!(first_read.is_string(), "{}", r.text);
    // Reading again keeps the first time.
    app.post(&read, Some(&a.token), json!({})).await;
    let r = app.get("/api/v1/notifications", Some(&a.token)).await;
    assert_eq!(r.body["items"][0]["read_at"], first_read);

    // Another organisation's notice, an unknown one, garbage: 404; no token: 401.
    for (uri, token) in [
        (read.as_str(), Some(b.token.as_str())),
        ("/api/v1/notifications/999999999/read", Some(&a.token)),
        ("/api/v1/notifications/x%27/read", Some(&a.token)),
    ] {
        assert_eq!(
            app.post(uri, token, json!({})).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    assert_eq!(
        app.post(&read, None, json!({})).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/notifications", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/notifications?per_page=0", Some(&a.token))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn the_close_tells_winner_losers_and_seller_what_happens_next(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let [a, b]: [Member; 2] = buyers(&app, 2, "close").await.try_into().ok().unwrap();
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;
    bid(&app, &id, &b, 1_000_000).await;
    bid(&app, &id, &a, 1_100_000).await;
    end_now(&app, &id).await;
    techmarket::jobs::fast_tick(&app.state).await.unwrap();

    let inbox = |m: &Member| {
        let token = m.token.clone();
        let app = &app;
        async move {
            let r = app.get("/api/v1/notifications?lang=en", Some(&token)).await;
            r.body["items"].as_array().unwrap().clone()
        }
    };
    let won = inbox(&a).await;
    assert_eq!(won[0]["kind"], json!("auction_won"));
    assert_eq!(won[0]["subject_type"], json!("trade"));
    let text = won[0]["text"].as_str().unwrap();
    assert!(text.contains("must pay by 20"), "{text}");
    let sold = inbox(&seller).await;
    let kinds: Vec<&str> = sold.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec!["auction_sold", "bid_received"],
        "one close notice, not also trade_sold (after the seller's one bid notice)"
    );
    assert!(sold[0]["text"].as_str().unwrap().contains("must pay by"));
    let lost = inbox(&b).await;
    assert_eq!(lost[0]["kind"], json!("auction_lost"));
    assert_eq!(lost[1]["kind"], json!("outbid"));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_live_page_tells_the_outbid_bidder_at_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@chip.cn", "suaee").await;
    let [a, b]: [Member; 2] = buyers(&app, 2, "live").await.try_into().ok().unwrap();
    let id = auction(&app, &seller, 1_000_000, 100_000, None, 3_600, 300).await;
    bid(&app, &id, &a, 1_000_000).await;
    app.state.events.spawn_listener(
        app.pool.clone(),
        techmarket::service::events::live::CHANNELS,
    );
    let cookies = web_login(&app, &a.email).await;
    let mut body = app.auction_events(&id, Some(&cookies)).await.into_body();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    bid(&app, &id, &b, 1_100_000).await;
    let mut seen = String::new();
    while !seen.contains("\"bid_count\":2") {
        seen.push_str(&next_event(&mut body).await);
    }
    let last = seen.rsplit("event: auction").next().unwrap();
    assert!(
        last.contains(r#""you":{"lead":false,"outbid":true}"#),
        "{last}"
    );
}
