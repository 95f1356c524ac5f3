//! Issue 18 item 4: a schedule gets its public name at approval (the draft's working title never
//! reaches /fees); rejecting needs a reason, which reaches the drafter's inbox; /admin/audit reads
//! as sentences with the raw record one click away.
use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

const WORKING: &str =
    "统一收费标准 v2（草案：单方封顶 50 万元）/ Unified v2 (draft: cap ¥500,000 per side)";

#[sqlx::test(migrations = "./migrations")]
async fn an_approved_schedule_is_public_under_its_public_name_never_its_working_title(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let drafter = admin_named(&app, "drafter@cquaee.example", "cquaee").await;
    let checker = admin_named(&app, "checker@suaee.example", "suaee").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent(WORKING, None),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    let approve = format!("/api/v1/admin/fee-schedules/{id}/approve");

    // A public name that still reads as a draft is refused, and changes nothing.
    for name in ["统一收费标准 v2（草案）", "Draft v2"] {
        let r = app
            .post(&approve, Some(&checker), json!({ "name": name }))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            r.text
        );
        assert!(r.body["error"]["fields"]["name"].is_string(), "{}", r.text);
    }
    let r = app.get(&format!("/api/v1/fee-schedules/{id}"), None).await;
    assert_eq!(r.body["status"], json!("draft"));

    // Without a name the working title's drafting notes are dropped.
    let r = app
        .call(axum::http::Method::POST, &approve, Some(&checker), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let public = "统一收费标准 v2（单方封顶 50 万元）/ Unified v2 (cap ¥500,000 per side)";
    assert_eq!(r.body["name"], json!(public));
    let current = app.get("/api/v1/fee-schedules/current", None).await;
    assert_eq!(current.body["name"], json!(public));
    assert!(!current.text.contains("草案"), "{}", current.text);

    for lang in ["zh-CN", "en"] {
        for page in ["/fees", "/fees/history"] {
            let p = app.page(&format!("{page}?lang={lang}"), "").await;
            assert_eq!(p.status, StatusCode::OK);
            assert!(
                !p.text.contains("草案：") && !p.text.contains("draft: cap"),
                "{page} {lang} shows the working title"
            );
        }
    }
    let p = app.page("/fees/history", "").await;
    assert!(
        p.text.contains("统一收费标准 v2（单方封顶 50 万元）"),
        "{}",
        p.text
    );

    // Administrators still see the working title beside the public name.
    let cookies = web_login(&app, "checker@suaee.example").await;
    let p = app.page(&format!("/admin/fees/{id}"), &cookies).await;
    assert!(p.text.contains("统一收费标准 v2（草案：单方封顶 50 万元）"));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_approver_names_the_schedule_on_the_approval_form(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = admin_named(&app, "drafter@cquaee.example", "cquaee").await;
    admin_named(&app, "checker@suaee.example", "suaee").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent(WORKING, None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let cookies = web_login(&app, "checker@suaee.example").await;
    let p = app.page(&format!("/admin/fees/{id}"), &cookies).await;
    let d = doc(&p.text);
    // The form offers the suggestion; the approver may change it.
    assert_eq!(
        attrs(&d, "form[action$='/approve'] input[name=name]", "value"),
        ["统一收费标准 v2（单方封顶 50 万元）/ Unified v2 (cap ¥500,000 per side)"]
    );
    let csrf = input_value(&p.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/admin/fees/{id}/approve"),
            &cookies,
            &[("_csrf", &csrf), ("name", "草案 v2")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let d = doc(&r.text);
    assert_eq!(
        attrs(
            &d,
            "form[action$='/approve'] input[name=name]",
            "aria-invalid"
        ),
        ["true"]
    );
    assert_eq!(
        attrs(&d, "form[action$='/approve'] input[name=name]", "value"),
        ["草案 v2"],
        "what was typed is kept"
    );
    let r = app
        .form(
            &format!("/admin/fees/{id}/approve"),
            &cookies,
            &[
                ("_csrf", &csrf),
                ("name", "统一收费标准 v2 / Unified schedule v2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let p = app.page("/fees?lang=en", "").await;
    assert!(p.text.contains("Unified schedule v2"), "{}", p.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_rejection_needs_a_reason_and_the_drafter_reads_it_in_their_inbox(pool: PgPool) {
    let app = TestApp::new(pool);
    let drafter = admin_named(&app, "drafter@cquaee.example", "cquaee").await;
    admin_named(&app, "checker@suaee.example", "suaee").await;
    let r = app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&drafter),
            flat_two_percent(WORKING, None),
        )
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let cookies = web_login(&app, "checker@suaee.example").await;
    let p = app.page(&format!("/admin/fees/{id}"), &cookies).await;
    let csrf = input_value(&p.text, "_csrf").unwrap();
    let reject = format!("/admin/fees/{id}/reject");

    // Without a reason: the form again, the field marked, nothing decided, nobody told.
    let r = app
        .form(&reject, &cookies, &[("_csrf", &csrf), ("reason", "  ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let d = doc(&r.text);
    assert_eq!(
        attrs(&d, "form[action$='/reject'] textarea", "aria-invalid"),
        ["true"]
    );
    let n = app.get("/api/v1/notifications", Some(&drafter)).await;
    assert_eq!(n.body["items"], json!([]), "{}", n.text);

    let r = app
        .form(
            &reject,
            &cookies,
            &[
                ("_csrf", &csrf),
                ("reason", "封顶过低，无法覆盖大额交易的服务成本"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let n = app.get("/api/v1/notifications", Some(&drafter)).await;
    let items = n.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", n.text);
    assert_eq!(items[0]["kind"], json!("fee_schedule_rejected"));
    let text = format!("{} {}", items[0]["title"], items[0]["text"]);
    assert!(text.contains("封顶过低"), "{text}");
    assert!(text.contains("统一收费标准 v2"), "{text}");
    let inbox = web_login(&app, "drafter@cquaee.example").await;
    let p = app.page("/inbox?lang=en", &inbox).await;
    assert!(p.text.contains("was rejected"), "{}", p.text);
    assert!(p.text.contains(&format!("/admin/fees/{id}")));
    // Only the drafter is told.
    let others: i64 = sqlx::query_scalar(
        "select count(*) from notifications where kind = 'fee_schedule_rejected'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(others, 1);

    // The audit log says it in words, in both languages, with the raw record one click away.
    let p = app.page("/admin/audit", &cookies).await;
    let d = doc(&p.text);
    let first = texts(&d, "li.audit-entry .audit-sentence")[0].clone();
    assert!(
        first.contains("checker@suaee.example 驳回收费标准草案") && first.contains("封顶过低"),
        "{first}"
    );
    assert_eq!(
        attrs(&d, "li.audit-entry", "data-action")[..2],
        ["fee_schedule.reject", "fee_schedule.draft"]
    );
    let raw = texts(&d, "li.audit-entry details.audit-raw pre")[0].clone();
    assert!(raw.contains("\"reject_reason\""), "{raw}");
    let draft = texts(&d, "li.audit-entry .audit-sentence")[1].clone();
    assert!(
        draft.contains("全部金额 2%") && draft.contains("批准时生效"),
        "{draft}"
    );
    let p = app.page("/admin/audit?lang=en", &cookies).await;
    let d = doc(&p.text);
    let first = texts(&d, "li.audit-entry .audit-sentence")[0].clone();
    assert!(
        first.contains(
            "rejected the fee schedule draft “Unified v2 (draft: cap ¥500,000 per side)”"
        ),
        "{first}"
    );
}
