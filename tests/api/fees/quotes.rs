//! Quotes against the tables of DOMAIN.md, and amounts a quote refuses.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn quotes_match_the_legacy_and_unified_tables_of_domain_md(pool: PgPool) {
    let app = TestApp::new(pool);
    // (amount fen, Sichuan, Chongqing, unified v1) per side, worked out by hand from the table:
    let cases: &[(i64, i64, i64, i64)] = &[
        // 1 fen: 5 % of a fen rounds to 0; the unified minimum is capped at the price.
        (1, 0, 0, 1),
        // 1万元: 5 % = 500 元; 0.7 % = 70 元; 1.5 % = 150 元, below the 300 元 minimum.
        (1_000_000, 50_000, 7_000, 30_000),
        // 100万元, the first edge: 5 万, 7 000, 15 000 元.
        (100_000_000, 5_000_000, 700_000, 1_500_000),
        // 100万元 + 1 fen: 3 % of one fen rounds away.
        (100_000_001, 5_000_000, 700_000, 1_500_000),
        // 350万元: 100万×5% + 250万×3% = 125 000 元; 100万×0.7% + 250万×0.5% = 19 500 元;
        // 100万×1.5% + 250万×1% = 40 000 元.
        (350_000_000, 12_500_000, 1_950_000, 4_000_000),
        // 10亿元: 5+12+10+40+35+450 万; 0.7+2+2+12+10+90 万; 1.5+4+3.5+16+10+90 万.
        (100_000_000_000, 552_000_000, 116_700_000, 125_000_000),
        // 10^14 fen (1 万亿元): 102 万 + 9999.99 亿 × 0.5 % etc.
        (
            100_000_000_000_000,
            500_052_000_000,
            100_016_700_000,
            100_025_000_000,
        ),
    ];
    for &(amount, sichuan, chongqing, unified) in cases {
        let q = quote(&app, amount).await;
        assert_eq!(q["amount_fen"], json!(amount));
        assert_eq!(q["unified"]["schedule_id"], json!(V1));
        assert_eq!(q["unified"]["buyer_fee_fen"], json!(unified), "{amount}");
        assert_eq!(q["unified"]["seller_fee_fen"], json!(unified), "{amount}");
        assert_eq!(
            q["unified"]["total_fee_fen"],
            json!(2 * unified),
            "{amount}"
        );
        for (name, fee) in [("sichuan", sichuan), ("chongqing", chongqing)] {
            let l = &q["legacy"][name];
            assert_eq!(l["buyer_fee_fen"], json!(fee), "{name} {amount}");
            assert_eq!(l["seller_fee_fen"], json!(fee), "{name} {amount}");
            assert_eq!(l["total_fee_fen"], json!(2 * fee), "{name} {amount}");
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn bad_quote_amounts_name_the_field_and_never_give_a_5xx(pool: PgPool) {
    let app = TestApp::new(pool);
    for (raw, status) in [
        ("0", StatusCode::UNPROCESSABLE_ENTITY),
        ("-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("100000000000001", StatusCode::UNPROCESSABLE_ENTITY),
        ("-9223372036854775808", StatusCode::UNPROCESSABLE_ENTITY),
        ("abc", StatusCode::BAD_REQUEST),
        ("1.5", StatusCode::BAD_REQUEST),
        ("", StatusCode::BAD_REQUEST),
        ("99999999999999999999", StatusCode::BAD_REQUEST),
        ("1e5", StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .get(&format!("/api/v1/fees/quote?amount_fen={raw}"), None)
            .await;
        assert_eq!(r.status, status, "{raw}: {}", r.text);
        assert!(
            r.body["error"]["fields"]["amount_fen"].is_string(),
            "{raw}: {}",
            r.text
        );
    }
    let r = app.get("/api/v1/fees/quote", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["amount_fen"].is_string());
    // The largest amount is fine.
    quote(&app, 100_000_000_000_000).await;
}

/// A quote is served from the process's copy of the approved schedules (no database round trip),
/// and an approval made by another server process reaches that copy through its notification.
#[sqlx::test(migrations = "./migrations")]
async fn quotes_come_from_the_processs_copy_until_another_process_approves(pool: PgPool) {
    let app = TestApp::new(pool);
    techmarket::service::fees::cache::spawn_invalidator(&app.state.events, &app.pool);
    app.state.events.spawn_listener(
        app.pool.clone(),
        techmarket::service::events::live::CHANNELS,
    );
    let drafter = app.admin("cquaee").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("approved elsewhere", None),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    // Wait until the listener is connected (its first resync has dropped the copy) and the copy holds v1.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let listening: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = current_database() and query ilike 'listen%'",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if listening > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the listener never connected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        quote(&app, 350_000_000).await["unified"]["schedule_id"],
        json!(V1)
    );

    // Another process approves without touching this process's copy; until its notification
    // arrives, this process quotes from the copy it holds.
    let mut other = app.pool.acquire().await.unwrap();
    sqlx::query(
        "update fee_schedules set status = 'approved', effective_at = now() - interval '1 second', \
         decided_at = now() where id = $1::uuid",
    )
    .bind(&id)
    .execute(&mut *other)
    .await
    .unwrap();
    assert_eq!(
        quote(&app, 350_000_000).await["unified"]["schedule_id"],
        json!(V1),
        "the quote did not come from the process's copy"
    );
    sqlx::query("select pg_notify('fee_schedules', '')")
        .execute(&mut *other)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let q = quote(&app, 350_000_000).await;
        if q["unified"]["schedule_id"] == json!(id) {
            assert_eq!(q["unified"]["buyer_fee_fen"], json!(7_000_000));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the notification never reached the copy"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
