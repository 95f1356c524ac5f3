//! A buyer's cancellations (issue 15 item 8): counted on its organisation over 90 days of the
//! state's clock, shown to sellers (trade and offer pages, the trade JSON) and admins (the
//! organisation JSON, their organisation and restriction pages); two cancellations at once are
//! reported exactly once.
use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::service::Clock;

use crate::helpers::*;

use super::*;

/// The organisation's entry in the admin's list (`GET /api/v1/admin/organizations`).
async fn listed_org(app: &TestApp, admin: &str, org_id: &str) -> Value {
    let r = app
        .get("/api/v1/admin/organizations?per_page=100", Some(admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == json!(org_id))
        .cloned()
        .unwrap_or_else(|| panic!("{org_id} not in {}", r.text))
}

fn attr_values(html: &str, css: &str, attr: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(css).unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}

#[sqlx::test(migrations = "./migrations")]
async fn a_buyers_cancellations_of_the_last_90_days_are_shown_to_sellers_and_admins(pool: PgPool) {
    let clock = Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let buyer_admin = app.admin("cquaee").await;
    let seller_admin = app.admin("suaee").await;

    for _ in 0..2 {
        let id = new_trade(&app, &seller, &buyer, 2_000_000).await;
        let r = cancel(&app, &id, &buyer.m.token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    // A seller's own cancellation does not count against the buyer.
    let by_seller = new_trade(&app, &seller, &buyer, 2_000_000).await;
    assert_eq!(
        cancel(&app, &by_seller, &seller.m.token).await.status,
        StatusCode::OK
    );
    let open = new_trade(&app, &seller, &buyer, 2_000_000).await;

    // The organisation JSON: the admins' list (any exchange's admin sees its own members' counts),
    // verification's answer, and the organisation's own /me.
    let o = listed_org(&app, &buyer_admin, &buyer.m.org_id).await;
    assert_eq!(o["cancellations_90d"], json!(2), "{o}");
    let o = listed_org(&app, &seller_admin, &seller.m.org_id).await;
    assert_eq!(o["cancellations_90d"], json!(0), "{o}");
    let v = app
        .post(
            &format!("/api/v1/admin/organizations/{}/verify", buyer.m.org_id),
            Some(&buyer_admin),
            json!({}),
        )
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert_eq!(v.body["cancellations_90d"], json!(2));
    let me = app.get("/api/v1/me", Some(&buyer.m.token)).await;
    assert_eq!(me.body["organization"]["cancellations_90d"], json!(2));
    // The seller meets the buyer on the trade.
    let t = app
        .get(&format!("/api/v1/trades/{open}"), Some(&seller.m.token))
        .await;
    assert_eq!(t.body["buyer_cancellations_90d"], json!(2));

    // The pages: the trade and the negotiation as the seller sees them, the admin's organisations
    // and the restrictions search.
    let l = listing(&app, &seller.m, "suaee", "智能控制阀", "listed").await;
    sqlx::query("update listings set pricing_mode = 'negotiable' where id = $1")
        .bind(l)
        .execute(&app.pool)
        .await
        .unwrap();
    let offer = app
        .post(
            &format!("/api/v1/listings/{l}/offers"),
            Some(&buyer.m.token),
            json!({"amount_fen": 300_000_000, "transaction_mode": "transfer"}),
        )
        .await;
    assert_eq!(offer.status, StatusCode::CREATED, "{}", offer.text);
    let thread = offer.body["thread_id"].as_str().unwrap().to_string();
    let seller_web = web_login(&app, &seller.m.email).await;
    let buyer_web = web_login(&app, &buyer.m.email).await;
    let admin_web = web_login(&app, "admin-cquaee@test.example").await;
    let count_on = |html: &str, attr: &str| attr_values(html, &format!("[{attr}]"), attr);
    let p = app.page(&format!("/offers/{thread}"), &seller_web).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(count_on(&p.text, "data-buyer-cancellations"), ["2"]);
    let p = app
        .page(&format!("/offers/{thread}?lang=en"), &seller_web)
        .await;
    assert!(p.text.contains("cancellations (incl. unpaid"), "{}", p.text);
    let p = app.page(&format!("/offers/{thread}"), &buyer_web).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(count_on(&p.text, "data-buyer-cancellations").is_empty());
    let p = app.page(&format!("/trades/{open}"), &seller_web).await;
    assert_eq!(count_on(&p.text, "data-buyer-cancellations"), ["2"]);
    let p = app.page("/admin", &admin_web).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(count_on(&p.text, "data-cancellations"), ["2"]);
    let p = app
        .page("/admin/restrictions?q=b%40example.cn", &admin_web)
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert_eq!(count_on(&p.text, "data-cancellations"), ["2"]);

    // 90 days later they no longer count (the state's clock, not the wall clock).
    clock.advance(Duration::days(90) + Duration::minutes(5));
    let o = listed_org(&app, &buyer_admin, &buyer.m.org_id).await;
    assert_eq!(o["cancellations_90d"], json!(0), "{o}");
    let t = app
        .get(&format!("/api/v1/trades/{open}"), Some(&seller_admin))
        .await;
    assert_eq!(t.body["buyer_cancellations_90d"], json!(0));
    let me = app.get("/api/v1/me", Some(&buyer.m.token)).await;
    assert_eq!(me.body["organization"]["cancellations_90d"], json!(0));
}

/// Waits until `n` backends wait for the lock held by backend `holder` (`pg_blocking_pids`: the
/// first waiter names the holder, each later one the waiter queued before it), so that what the
/// test does next happens while they are all blocked. Panics after 20 s.
async fn wait_blocked_by(pool: &PgPool, holder: i32, n: i64) {
    let start = std::time::Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "with recursive waiting(pid) as ( \
               select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid)) \
               union select a.pid from pg_stat_activity a join waiting w on w.pid = any(pg_blocking_pids(a.pid))) \
             select count(*) from waiting",
        )
        .bind(holder)
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting >= n {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "only {waiting} of {n} backends came to wait for the lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn two_cancellations_at_once_are_counted_one_after_the_other_and_reported_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    app.admin("cquaee").await;
    let first = new_trade(&app, &seller, &buyer, 2_000_000).await;
    let second = new_trade(&app, &seller, &buyer, 3_000_000).await;

    // Hold the buyer organisation's row, as a first default being counted would, until both
    // cancellations have come to wait for it; then let them go at once.
    let mut holder = app.pool.begin().await.unwrap();
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    sqlx::query("select id from organizations where id = $1::uuid for no key update")
        .bind(&buyer.m.org_id)
        .execute(&mut *holder)
        .await
        .unwrap();
    let release = async {
        wait_blocked_by(&app.pool, pid, 2).await;
        // Both are past their trade's cancellation and wait to count: neither has committed.
        let cancelled: i64 = sqlx::query_scalar(
            "select count(*) from trades where status = 'cancelled' and buyer_organization_id = $1::uuid",
        )
        .bind(&buyer.m.org_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(cancelled, 0);
        holder.commit().await.unwrap();
    };
    let (a, b, ()) = tokio::join!(
        cancel(&app, &first, &buyer.m.token),
        cancel(&app, &second, &buyer.m.token),
        release
    );
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);

    // Exactly one notice to the buyer's exchange, for the second cancellation, which counted 2.
    let told: Vec<(String, String)> = sqlx::query_as(
        "select dedupe_key, title_zh from notifications where dedupe_key like 'default:%'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].1.contains("第 2 次"), "{told:?}");
    let key = &told[0].0;
    assert!(
        key.starts_with(&format!("default:{first}:"))
            || key.starts_with(&format!("default:{second}:")),
        "{told:?}"
    );
}
