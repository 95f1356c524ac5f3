//! The outbox: every event type from its real action, nothing from a rolled-back one, and the
//! change feed.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use super::*;

async fn submitted_listing(app: &TestApp, seller: &Member, n: u32) -> String {
    let r = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            json!({
                "title": "齿轨列车关键技术",
                "summary": "一项示例科技成果。",
                "description": "介绍。",
                "field": "rail",
                "ip_type": "invention_patent",
                "ip_numbers": [techmarket::service::listings::patent_number(2022, '1', 7000 + n)],
                "trl": 6,
                "transaction_modes": ["nonexclusive_license"],
                "keywords": ["齿轨"],
                "pricing": {"mode": "fixed", "price_fen": 10_000_000_i64}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/listings/{id}/submit"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    id
}

#[sqlx::test]
async fn every_event_type_comes_from_its_real_action_to_the_exchanges_it_concerns(pool: PgPool) {
    let app = TestApp::new(pool);
    let suaee = app.admin("suaee").await;
    let cquaee = app.admin("cquaee").await;
    let nttc = app.admin("nttc_sw").await;
    let seller = app.verified_member("s@events.cn", "suaee").await;
    let buyer = app.verified_member("b@events.cn", "cquaee").await;

    // listing.submitted, listing.listed
    let l = submitted_listing(&app, &seller, 1).await;
    let r = app
        .post(
            &format!("/api/v1/admin/listings/{l}/review"),
            Some(&suaee),
            json!({"decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // trade.created, trade.paid, trade.settled
    let t = buy(&app, &l, &buyer).await;
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{t}/payment-received"),
            Some(&cquaee),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/trades/{t}/confirm-delivery"),
            Some(&buyer.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // trade.created, trade.cancelled
    let t2 = buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    let r = app
        .post(
            &format!("/api/v1/trades/{t2}/cancel"),
            Some(&buyer.token),
            json!({"reason": "预算取消"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // auction.closed (unsold: no bids)
    let a = listed(&app, &seller, 10_000_000).await;
    sqlx::query(
        "update listings set pricing_mode = 'auction', price_fen = null where id = $1::uuid",
    )
    .bind(&a)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into auctions (listing_id, status, start_price_fen, increment_fen, ends_at, extension_seconds, opened_at) \
         values ($1::uuid, 'open', 100000, 10000, now() - interval '1 second', 300, now() - interval '1 hour')",
    )
    .bind(&a)
    .execute(&app.pool)
    .await
    .unwrap();
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    // organization.restricted (by another exchange: it holds in all four)
    let r = app
        .post(
            &format!("/api/v1/admin/organizations/{}/restrictions", buyer.org_id),
            Some(&nttc),
            json!({"reason": "合同违约"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    assert_eq!(
        feed_types(&app, &suaee).await,
        [
            "listing.submitted",
            "listing.listed",
            "trade.created",
            "trade.paid",
            "trade.settled",
            "trade.created",
            "trade.cancelled",
            "auction.closed",
            "organization.restricted",
        ]
    );
    // The buyer's exchange hears of its member's trades, not of the listing's review or auction.
    assert_eq!(
        feed_types(&app, &cquaee).await,
        [
            "trade.created",
            "trade.paid",
            "trade.settled",
            "trade.created",
            "trade.cancelled",
            "organization.restricted",
        ]
    );
    assert_eq!(feed_types(&app, &nttc).await, ["organization.restricted"]);

    // What the events carry: ids and amounts.
    let r = app.get("/api/v1/events?limit=1000", Some(&suaee)).await;
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items[0]["data"]["listing_id"], json!(l));
    assert_eq!(items[3]["data"]["trade_id"], json!(t));
    assert_eq!(items[3]["data"]["price_fen"], json!(10_000_000));
    assert_eq!(items[6]["data"]["reason"], json!("buyer"));
    assert_eq!(items[7]["data"]["sold"], json!(false));
    assert_eq!(items[8]["data"]["organization_id"], json!(buyer.org_id));
    let ids: Vec<i64> = items
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[sqlx::test]
async fn a_rolled_back_action_leaves_no_event(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let seller = app.verified_member("s@rollback.cn", "suaee").await;
    let buyer = app.verified_member("b@rollback.cn", "suaee").await;
    let t = buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    // The payment's ledger postings fail after its event was written: the whole change rolls back.
    sqlx::query(
        "create function fail_posting() returns trigger language plpgsql as \
         $$ begin raise exception 'ledger unavailable'; end $$",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("create trigger fail_posting before insert on ledger_pending for each row execute function fail_posting()")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{t}/payment-received"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
    assert_eq!(feed_types(&app, &admin).await, ["trade.created"]);
    let status: String = sqlx::query_scalar("select status from trades where id = $1::uuid")
        .bind(&t)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "awaiting_payment");

    sqlx::query("drop trigger fail_posting on ledger_pending")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/trades/{t}/payment-received"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        feed_types(&app, &admin).await,
        ["trade.created", "trade.paid"]
    );
}

#[sqlx::test]
async fn the_feed_pages_with_after_and_refuses_bad_parameters(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let seller = app.verified_member("s@feed.cn", "suaee").await;
    let buyer = app.verified_member("b@feed.cn", "suaee").await;
    for _ in 0..5 {
        buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    }
    let mut after = String::new();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let r = app
            .get(
                &format!("/api/v1/events?after={after}&limit=2"),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for e in r.body["items"].as_array().unwrap() {
            seen.push(e["data"]["trade_id"].as_str().unwrap().to_string());
        }
        after = r.body["next_after"].as_str().unwrap().to_string();
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let r = app
        .get(&format!("/api/v1/events?after={after}"), Some(&admin))
        .await;
    assert_eq!(r.body["items"], json!([]));
    assert_eq!(r.body["next_after"], json!(after));

    for bad in ["after=x", "after=-1", "limit=0", "limit=1001", "limit=x"] {
        let r = app
            .get(&format!("/api/v1/events?{bad}"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }
    assert_eq!(
        app.get("/api/v1/events", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app.get("/api/v1/events", Some(&buyer.token)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
