//! The trades page of administrators.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn admins_record_payment_from_their_trades_page(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "cdipex").await;
    let buyer = party(&app, "b@example.cn", "nttc_sw").await;
    app.admin("nttc_sw").await;
    let id = new_trade(&app, &seller, &buyer, 3_000_000).await;
    let cookies = web_login(&app, "admin-nttc_sw@test.example").await;
    let page = app.page("/admin/trades", &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    let action = format!("/admin/trades/{id}/payment-received");
    assert!(page.text.contains(&action));
    let filtered = app.page("/admin/trades?status=paid", &cookies).await;
    assert!(
        !filtered.text.contains(&format!("/trades/{id}\"")),
        "filtered by status"
    );
    let filtered = app
        .page("/admin/trades?status=awaiting_payment", &cookies)
        .await;
    assert!(filtered.text.contains(&action));
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let idem = input_value(&page.text, "idem").unwrap();
    // The amount must be confirmed: without the box ticked, nothing is recorded.
    assert!(
        page.text.contains("已核实 ¥30,450.00 到账"),
        "{}",
        page.text
    );
    let r = app
        .form(&action, &cookies, &[("_csrf", &csrf), ("idem", &idem)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let back = r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(back, format!("/trades/{id}?error=confirm_required"));
    let page_back = app.page(&back, &cookies).await;
    assert!(
        page_back.text.contains("请先勾选确认框"),
        "{}",
        page_back.text
    );
    let paid: String = sqlx::query_scalar("select status from trades where id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(paid, "awaiting_payment");
    // A double click: the same form twice.
    for _ in 0..2 {
        let r = app
            .form(
                &action,
                &cookies,
                &[("_csrf", &csrf), ("idem", &idem), ("confirm", "1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert_eq!(
            r.headers.get("location").unwrap(),
            "/admin/trades?done=paid"
        );
    }
    let told = app.page("/admin/trades?done=paid", &cookies).await;
    assert!(told.text.contains("已登记收款"), "{}", told.text);
    let entries: i64 = sqlx::query_scalar("select count(*) from ledger_entries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(entries, 2);
    let page = app.page("/admin/trades", &cookies).await;
    assert!(!page.text.contains(&action), "no button once paid");
    for uri in ["/admin/ledger", "/admin/revenue", "/trades"] {
        let p = app.page(uri, &cookies).await;
        assert_eq!(p.status, StatusCode::OK, "{uri}");
    }
    let ledger = app.page("/admin/ledger", &cookies).await;
    assert_eq!(select_text(&ledger.text, ".verify .alert.success").len(), 1);
    // Members get 403 on the admin pages.
    let member = web_login(&app, "b@example.cn").await;
    for uri in [
        "/admin/ledger",
        "/admin/revenue",
        "/admin/trades",
        "/admin/restrictions",
    ] {
        let p = app.page(uri, &member).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{uri}");
    }
}
