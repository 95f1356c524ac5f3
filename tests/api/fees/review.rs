//! The approval page beside the schedule in force, the list and audit trail, the public history.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn the_approval_page_shows_the_draft_beside_the_schedule_in_force_and_decides(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = admin_named(&app, "drafter@cquaee.example", "cquaee").await;
    admin_named(&app, "checker@suaee.example", "suaee").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent("两个百分点", None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();

    // The drafter sees the page but no buttons, with the reason.
    let drafter_cookies = web_login(&app, "drafter@cquaee.example").await;
    let p = app
        .page(&format!("/admin/fees/{id}"), &drafter_cookies)
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let d = doc(&p.text);
    assert_eq!(count(&d, "form[action$='/approve']"), 0);
    assert!(texts(&d, ".fee-decision .alert")
        .join("")
        .contains("不能审批自己起草"));

    let cookies = web_login(&app, "checker@suaee.example").await;
    let queue = app.page("/admin/fees", &cookies).await;
    assert_eq!(queue.status, StatusCode::OK);
    let d = doc(&queue.text);
    assert!(texts(&d, "table.fee-queue td a")
        .iter()
        .any(|t| t == "两个百分点"));
    let p = app.page(&format!("/admin/fees/{id}"), &cookies).await;
    let d = doc(&p.text);
    assert_eq!(count(&d, "form[action$='/approve']"), 1);
    assert_eq!(
        count(&d, "form[action$='/reject'] textarea[name=reason]"),
        1
    );
    assert_eq!(
        count(&d, "table.fee-side-by-side"),
        2,
        "buyer and seller, side by side"
    );
    assert_eq!(count(&d, ".fee-simulation table"), 1);
    assert_eq!(count(&d, "svg polyline"), 4);
    let csrf = input_value(&p.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/admin/fees/{id}/approve"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let v = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(v.body["status"], json!("approved"));
    assert_eq!(v.body["approved_by"], json!("checker@suaee.example"));
    // Twice: the page again, with the conflict explained.
    let r = app
        .form(
            &format!("/admin/fees/{id}/approve"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(texts(&doc(&r.text), ".alert.error")
        .join("")
        .contains("只能审批草案"));

    // The audit trail of fee schedules on the list page, in sentences with the raw record one
    // click away; the public history marks the new version.
    let list = app.page("/admin/fees?lang=en", &cookies).await;
    let d = doc(&list.text);
    let actions = attrs(&d, ".fee-audit li.audit-entry", "data-action");
    assert_eq!(
        actions,
        ["fee_schedule.approve", "fee_schedule.draft"],
        "newest first"
    );
    let sentences = texts(&d, ".fee-audit .audit-sentence").join("\n");
    assert!(
        sentences.contains(
            "checker@suaee.example approved the fee schedule under the public name “两个百分点”"
        ),
        "{sentences}"
    );
    assert!(sentences.contains("Buyer: any amount 2%"), "{sentences}");
    assert!(!sentences.contains("rate_ppm"), "{sentences}");
    assert_eq!(count(&d, ".fee-audit details.audit-raw pre"), 2);
    let h = app.page("/fees/history", "").await;
    assert_eq!(h.status, StatusCode::OK);
    let d = doc(&h.text);
    assert_eq!(count(&d, "article.fee-version"), 2);
    assert!(texts(&d, "article.fee-version h2")
        .first()
        .unwrap()
        .contains("两个百分点"));
    assert!(texts(&d, "article.fee-version .tag.ok").len() == 1);

    // Members get 403 on the admin pages; the calculator stays public.
    let m = app.member("plain@example.cn", "suaee").await;
    let _ = m;
    let r = app.page("/admin/fees", "").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "anonymous: to the login page"
    );
}
