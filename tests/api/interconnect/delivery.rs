//! Webhook deliveries in one process: signatures, retries with backoff, order, giving up,
//! redelivery, the allow-list, a receiver that hangs.
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use chrono::{TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use sqlx::PgPool;
use techmarket::service::interconnect::delivery::deliver_due;
use techmarket::service::Clock;

use super::*;

/// What a receiver does, computed here without the crate's code: HMAC-SHA256(secret, "t.body").
fn independently_valid(secret: &str, header: &str, body: &[u8]) -> bool {
    let t = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .unwrap_or("");
    let v1 = header
        .split(',')
        .find_map(|p| p.strip_prefix("v1="))
        .unwrap_or("");
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(format!("{t}.").as_bytes());
    m.update(body);
    !t.is_empty() && hex::encode(m.finalize().into_bytes()) == v1
}

async fn deliveries(app: &TestApp, token: &str, hook: &str) -> serde_json::Value {
    let r = app
        .get(
            &format!("/api/v1/admin/webhooks/{hook}/deliveries"),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

#[sqlx::test]
async fn a_receiver_failing_twice_gets_the_event_once_more_signed_with_every_attempt_recorded(
    pool: PgPool,
) {
    let clock = Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let admin = app.admin("suaee").await;
    let rx = Receiver::start(Behaviour::Statuses(vec![500, 503, 200])).await;
    let (hook, secret) = webhook(&app, &admin, &rx.url, &["trade.created"]).await;
    let seller = app.verified_member("s@retry.cn", "suaee").await;
    let buyer = app.verified_member("b@retry.cn", "suaee").await;
    let trade = buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;

    deliver_due(&app.state).await.unwrap();
    assert_eq!(rx.count(), 1);
    // Backing off: nothing before the retry is due (10 s, then 20 s).
    deliver_due(&app.state).await.unwrap();
    clock.advance(TimeDelta::seconds(9));
    deliver_due(&app.state).await.unwrap();
    assert_eq!(rx.count(), 1);
    clock.advance(TimeDelta::seconds(2));
    deliver_due(&app.state).await.unwrap();
    assert_eq!(rx.count(), 2);
    clock.advance(TimeDelta::seconds(21));
    deliver_due(&app.state).await.unwrap();
    assert_eq!(rx.count(), 3);
    clock.advance(TimeDelta::hours(1));
    deliver_due(&app.state).await.unwrap();
    assert_eq!(rx.count(), 3, "delivered: never sent again");

    let got = rx.received();
    for g in &got {
        assert_eq!(g.json["type"], json!("trade.created"));
        assert_eq!(g.json["data"]["trade_id"], json!(trade));
        assert_eq!(g.json["id"], got[0].json["id"]);
        assert!(
            independently_valid(&secret, &g.signature, &g.body),
            "{}",
            g.signature
        );
        let mut altered = g.body.clone();
        let at = altered.iter().position(|b| b.is_ascii_digit()).unwrap();
        altered[at] = if altered[at] == b'9' {
            b'8'
        } else {
            altered[at] + 1
        };
        assert!(!independently_valid(&secret, &g.signature, &altered));
        assert!(!techmarket::domain::interconnect::verify(
            &secret,
            &g.signature,
            &altered
        ));
        assert!(techmarket::domain::interconnect::verify(
            &secret,
            &g.signature,
            &g.body
        ));
    }

    let d = deliveries(&app, &admin, &hook).await;
    assert_eq!(d["total"], json!(1));
    let one = &d["items"][0];
    assert_eq!(one["status"], json!("delivered"));
    assert_eq!(one["event_id"], got[0].json["id"]);
    let statuses: Vec<i64> = one["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 200]);
    assert_eq!(one["attempts"][2]["body_excerpt"], json!("answer 3"));
}

#[sqlx::test]
async fn a_webhooks_events_go_out_in_order_and_wait_behind_a_failing_one(pool: PgPool) {
    let clock = Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let admin = app.admin("suaee").await;
    let rx = Receiver::start(Behaviour::Statuses(vec![500, 200])).await;
    webhook(&app, &admin, &rx.url, &[]).await;
    let seller = app.verified_member("s@order.cn", "suaee").await;
    let buyer = app.verified_member("b@order.cn", "suaee").await;
    let mut trades = Vec::new();
    for _ in 0..3 {
        trades.push(buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await);
    }
    deliver_due(&app.state).await.unwrap();
    assert_eq!(rx.count(), 1, "the first failed: the others wait");
    clock.advance(TimeDelta::seconds(11));
    deliver_due(&app.state).await.unwrap();
    let seen: Vec<String> = rx
        .received()
        .iter()
        .map(|g| g.json["data"]["trade_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        seen,
        [
            trades[0].clone(),
            trades[0].clone(),
            trades[1].clone(),
            trades[2].clone()
        ]
    );
}

#[sqlx::test]
async fn after_a_day_of_failures_a_delivery_is_failed_and_can_be_redelivered(pool: PgPool) {
    let clock = Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let admin = app.admin("suaee").await;
    let rx = Receiver::start(Behaviour::Statuses(vec![500])).await;
    let (hook, _) = webhook(&app, &admin, &rx.url, &[]).await;
    let seller = app.verified_member("s@giveup.cn", "suaee").await;
    let buyer = app.verified_member("b@giveup.cn", "suaee").await;
    buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    for _ in 0..30 {
        deliver_due(&app.state).await.unwrap();
        clock.advance(TimeDelta::hours(1));
    }
    let d = deliveries(&app, &admin, &hook).await;
    let one = &d["items"][0];
    assert_eq!(one["status"], json!("failed"), "{d}");
    let tries = one["attempts"].as_array().unwrap().len();
    // 10 s, 20 s, … up to an hour apart, within 24 h of the first attempt.
    assert!((12..=30).contains(&tries), "{tries}");
    assert_eq!(rx.count(), tries);

    let id = one["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/webhooks/{hook}/deliveries/{id}/redeliver"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    deliver_due(&app.state).await.unwrap();
    assert_eq!(rx.count(), tries + 1);
    let other = app.admin("cquaee").await;
    let r = app
        .post(
            &format!("/api/v1/admin/webhooks/{hook}/deliveries/{id}/redeliver"),
            Some(&other),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'webhook.redeliver'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[sqlx::test]
async fn targets_outside_the_allow_list_are_refused_when_registered_and_when_delivered(
    pool: PgPool,
) {
    let app = TestApp::new(pool.clone());
    let admin = app.admin("suaee").await;
    for url in [
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00::1]/hook",
        "http://192.168.0.1:8080/",
    ] {
        let r = app
            .post(
                "/api/v1/admin/webhooks",
                Some(&admin),
                json!({"url": url, "events": ["trade.paid"]}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            r.text
        );
        assert_eq!(
            r.body["error"]["code"],
            json!("webhook_target_refused"),
            "{url}"
        );
    }
    for url in [
        "ftp://127.0.0.1/x",
        "http://user:pw@127.0.0.1/x",
        "not a url",
        "",
    ] {
        let r = app
            .post(
                "/api/v1/admin/webhooks",
                Some(&admin),
                json!({"url": url, "events": ["trade.paid"]}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            r.text
        );
        assert_eq!(r.body["error"]["code"], json!("validation_failed"), "{url}");
    }
    let n: i64 = sqlx::query_scalar("select count(*) from webhooks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);

    // Allowed when registered; the allow-list then changes: checked again at delivery.
    let rx = Receiver::start(Behaviour::Statuses(vec![200])).await;
    let (hook, _) = webhook(&app, &admin, &rx.url, &[]).await;
    let seller = app.verified_member("s@allow.cn", "suaee").await;
    let buyer = app.verified_member("b@allow.cn", "suaee").await;
    buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    let mut config = techmarket::config::Config::for_tests("");
    config.webhook_allow = techmarket::domain::interconnect::AllowList::parse("").unwrap();
    let strict = techmarket::startup::state(pool, config);
    deliver_due(&strict).await.unwrap();
    assert_eq!(rx.count(), 0);
    let d = deliveries(&app, &admin, &hook).await;
    assert_eq!(
        d["items"][0]["attempts"][0]["error"],
        json!("target_refused")
    );
    assert_eq!(d["items"][0]["status"], json!("pending"));
}

#[sqlx::test]
async fn a_receiver_that_hangs_delays_no_request_and_no_other_webhook(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let release = Arc::new(tokio::sync::Notify::new());
    let hanging = Receiver::start(Behaviour::Hang(release.clone())).await;
    let fine = Receiver::start(Behaviour::Statuses(vec![200])).await;
    let (slow_hook, _) = webhook(&app, &admin, &hanging.url, &[]).await;
    webhook(&app, &admin, &fine.url, &[]).await;
    let seller = app.verified_member("s@hang.cn", "suaee").await;
    let buyer = app.verified_member("b@hang.cn", "suaee").await;
    buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;

    let state = app.state.clone();
    let worker = tokio::spawn(async move { deliver_due(&state).await });
    hanging.wait_for(1, Duration::from_secs(8)).await;
    fine.wait_for(1, Duration::from_secs(8)).await;
    // While the hanging receiver holds its request, requests are answered and events still made.
    let r = app.get("/api/v1/listings", None).await;
    assert_eq!(r.status, StatusCode::OK);
    buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    assert!(
        !worker.is_finished(),
        "the hanging receiver is still being waited for"
    );
    // Then the 10 s timeout gives up on it, records it, and it is retried later.
    tokio::time::timeout(Duration::from_secs(20), worker)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    release.notify_waiters();
    let d = deliveries(&app, &admin, &slow_hook).await;
    let a = &d["items"][0]["attempts"][0];
    assert_eq!(a["error"], json!("timeout"), "{d}");
    assert!(a["duration_ms"].as_i64().unwrap() >= 9_000, "{a}");
    assert_eq!(d["items"][0]["status"], json!("pending"));
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/admin/webhooks/{slow_hook}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let d = deliveries(&app, &admin, &slow_hook).await;
    assert!(d["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == json!("failed")));
}
