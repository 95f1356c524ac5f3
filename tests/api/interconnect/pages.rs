//! `/admin/systems` and `/admin/webhooks/{id}`: keys and webhooks made, shown once, revoked;
//! deliveries with their attempts; both languages.
use axum::http::StatusCode;
use sqlx::PgPool;
use techmarket::service::interconnect::delivery::deliver_due;

use super::*;

#[sqlx::test]
async fn an_admin_makes_a_key_and_a_webhook_on_the_page_and_sees_the_deliveries(pool: PgPool) {
    let app = TestApp::new(pool);
    app.admin("suaee").await;
    let cookies = web_login(&app, "admin-suaee@test.example").await;
    let page = app.page("/admin/systems", &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("系统对接"));
    let csrf = input_value(&page.text, "_csrf").unwrap();

    // Without the form's token nothing is made.
    let r = app
        .form(
            "/admin/api-keys",
            &cookies,
            &[("name", "ERP"), ("scopes", "read")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .form(
            "/admin/api-keys",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("name", "ERP <b>"),
                ("scopes", "read"),
                ("scopes", "payments"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let doc = scraper::Html::parse_document(&r.text);
    let sel = scraper::Selector::parse("code.secret").unwrap();
    let key = doc.select(&sel).next().unwrap().text().collect::<String>();
    assert!(key.starts_with("tmk_"), "{key}");
    assert!(!r.text.contains("ERP <b>"), "escaped");
    assert!(doc.root_element().text().any(|t| t.contains("ERP <b>")));
    // Shown once: the next visit has only its prefix.
    let again = app.page("/admin/systems?lang=en", &cookies).await;
    assert!(!again.text.contains(&key));
    assert!(again.text.contains(&key[..12]));
    assert!(again.text.contains("Never"));
    assert_eq!(
        app.get("/api/v1/events", Some(&key)).await.status,
        StatusCode::OK
    );

    // A refused target is said in words and keeps what was typed.
    let r = app
        .form(
            "/admin/webhooks",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("url", "http://10.0.0.8/hook"),
                ("events", "trade.paid"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("TECHMARKET_WEBHOOK_ALLOW") && r.text.contains("http://10.0.0.8/hook"));
    let rx = Receiver::start(Behaviour::Statuses(vec![500, 200])).await;
    let r = app
        .form(
            "/admin/webhooks",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("url", &rx.url),
                ("events", "trade.created"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("whsec_"));
    let hook: String = sqlx::query_scalar("select id::text from webhooks")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let seller = app.verified_member("s@pages.cn", "suaee").await;
    let buyer = app.verified_member("b@pages.cn", "suaee").await;
    buy(&app, &listed(&app, &seller, 10_000_000).await, &buyer).await;
    deliver_due(&app.state).await.unwrap();
    let p = app.page(&format!("/admin/webhooks/{hook}"), &cookies).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(
        p.text.contains("HTTP 500") && p.text.contains("等待推送"),
        "{}",
        p.text
    );
    let delivery: i64 = sqlx::query_scalar("select id from webhook_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = app
        .form(
            &format!("/admin/webhooks/{hook}/deliveries/{delivery}/redeliver"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    deliver_due(&app.state).await.unwrap();
    let p = app
        .page(&format!("/admin/webhooks/{hook}?lang=en"), &cookies)
        .await;
    assert!(
        p.text.contains("HTTP 200") && p.text.contains("Delivered"),
        "{}",
        p.text
    );
    assert_eq!(rx.count(), 2);

    // Revoking on the page: the key stops working.
    let id: String = sqlx::query_scalar("select id::text from api_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let r = app
        .form(
            &format!("/admin/api-keys/{id}/revoke"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/events", Some(&key)).await.status,
        StatusCode::UNAUTHORIZED
    );
}
