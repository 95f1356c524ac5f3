//! The snapshot: answered from memory, recomputed at most once a minute whatever the number of
//! processes, its time shown.
use std::time::Duration;

use chrono::TimeDelta;
use serde_json::json;
use sqlx::PgPool;
use techmarket::service::{stats, Clock};

use super::*;

/// Polls the summary until `done` holds (the refresh runs in the background), at most ~10 s.
async fn summary_until(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let s = summary(app).await;
        if done(&s) {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the statistics never refreshed");
}

#[sqlx::test(migrations = "./migrations")]
async fn requests_are_answered_from_memory_and_the_snapshot_refreshes_after_a_minute(pool: PgPool) {
    let t0 = at("2026-12-07T02:00:00Z");
    let clock = Clock::manual(t0);
    let app = TestApp::with_clock(pool, clock.clone());
    let su = party(&app, "su@snap.example", "suaee").await;
    let cq = party(&app, "cq@snap.example", "cquaee").await;
    trade(
        &app,
        &su,
        &cq,
        "ic",
        5_000_000,
        "settled",
        Some(at("2026-12-06T02:00:00Z")),
    )
    .await;

    let s = summary(&app).await;
    assert_eq!(s["trades"]["count"], json!(1));
    assert_eq!(s["as_of"], json!("2026-12-07T02:00:00Z"));
    assert_eq!(app.state.stats.rounds(), 1);
    assert_eq!(app.state.stats.computations(), 1);

    // A trade settles; for the next minute everyone sees the snapshot, and nobody asks the
    // database: neither the API nor the pages.
    trade(
        &app,
        &su,
        &cq,
        "ic",
        7_000_000,
        "settled",
        Some(at("2026-12-06T03:00:00Z")),
    )
    .await;
    clock.advance(TimeDelta::seconds(59));
    for _ in 0..20 {
        assert_eq!(summary(&app).await["trades"]["count"], json!(1));
        let page = app.page("/stats?lang=en", "").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text.contains("2026-12-07 10:00"),
            "the snapshot's time (Beijing)"
        );
    }
    techmarket::jobs::fast_tick(&app.state).await.unwrap();
    assert_eq!(app.state.stats.rounds(), 1);

    // A minute old: the next request still gets it, and a refresh starts in the background.
    clock.advance(TimeDelta::seconds(1));
    let s = summary_until(&app, |s| s["trades"]["count"] == json!(2)).await;
    assert_eq!(s["as_of"], json!("2026-12-07T02:01:00Z"));
    assert_eq!(s["trades"]["turnover_fen"], json!(12_000_000));
    assert_eq!(app.state.stats.rounds(), 2);
    assert_eq!(app.state.stats.computations(), 2);
    let stored: (Option<chrono::DateTime<Utc>>,) =
        sqlx::query_as("select as_of from stats_snapshot where id = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored.0, Some(at("2026-12-07T02:01:00Z")));
}

/// Two processes (two states on one database): the market is counted once a minute, by one of
/// them; the other takes the stored snapshot, also when both come for it at the same moment.
#[sqlx::test(migrations = "./migrations")]
async fn two_processes_count_the_market_once_per_minute(pool: PgPool) {
    let clock = Clock::manual(at("2026-12-07T02:00:00Z"));
    let a = TestApp::with_clock(pool.clone(), clock.clone());
    let b = TestApp::with_clock(pool, clock.clone());
    let su = party(&a, "su@two.example", "suaee").await;
    let cq = party(&a, "cq@two.example", "cquaee").await;
    trade(
        &a,
        &su,
        &cq,
        "ic",
        5_000_000,
        "settled",
        Some(at("2026-12-06T02:00:00Z")),
    )
    .await;
    let computed = || a.state.stats.computations() + b.state.stats.computations();

    // Both at once, with nothing stored yet: one computes, the other waits for it.
    let (x, y) = tokio::join!(stats::refresh(&a.state), stats::refresh(&b.state));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(computed(), 1);
    assert_eq!(x.as_of, y.as_of);
    assert_eq!(x.summary_json, y.summary_json);

    // Half a minute later nothing is due: whoever asks takes the stored one.
    trade(
        &a,
        &su,
        &cq,
        "ic",
        7_000_000,
        "settled",
        Some(at("2026-12-06T03:00:00Z")),
    )
    .await;
    clock.advance(TimeDelta::seconds(30));
    for app in [&a, &b] {
        let s = stats::refresh(&app.state).await.unwrap();
        assert_eq!(s.stats.trades.count, 1);
    }
    assert_eq!(computed(), 1);

    // A minute on, again both at once: one more computation, both see the new trade.
    clock.advance(TimeDelta::seconds(30));
    let (x, y) = tokio::join!(stats::refresh(&b.state), stats::refresh(&a.state));
    assert_eq!(computed(), 2);
    assert_eq!(x.unwrap().stats.trades.count, 2);
    assert_eq!(y.unwrap().stats.trades.count, 2);

    // And the process that did not compute serves the other's snapshot from memory.
    assert_eq!(summary(&b).await["trades"]["count"], json!(2));
    assert_eq!(summary(&a).await["as_of"], summary(&b).await["as_of"]);
}
