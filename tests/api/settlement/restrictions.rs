//! Credit restrictions: set, lifted, expired, audited; the restrictions page.
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn credit_restrictions_are_set_lifted_expire_and_are_audited(pool: PgPool) {
    let app = TestApp::new(pool);
    let org = party(&app, "bad@example.cn", "cquaee").await;
    let admin = app.admin("suaee").await;
    let org_id: Uuid = org.m.org_id.parse().unwrap();
    let uri = format!("/api/v1/admin/organizations/{}/restrictions", org.m.org_id);
    let guard = |pool: PgPool| async move {
        let mut conn = pool.acquire().await.unwrap();
        techmarket::service::guards::require_active_org(&mut conn, org_id)
            .await
            .err()
            .map(|e| e.code())
    };
    assert_eq!(guard(app.pool.clone()).await, None);

    // Validation first.
    let r = app.post(&uri, Some(&admin), json!({"reason": "x"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["reason"].is_string());
    let r = app
        .post(
            &uri,
            Some(&admin),
            json!({"reason": "合同违约", "until": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["until"].is_string());
    let r = app
        .post(&uri, Some(&admin), json!({"reason": "x".repeat(501)}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Members may not; unknown organisations are not found.
    let r = app
        .post(&uri, Some(&org.m.token), json!({"reason": "合同违约"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            &format!(
                "/api/v1/admin/organizations/{}/restrictions",
                Uuid::now_v7()
            ),
            Some(&admin),
            json!({"reason": "合同违约"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Another exchange's admin restricts a Chongqing organisation: it holds everywhere.
    let r = app
        .post(
            &uri,
            Some(&admin),
            json!({"reason": "拒不履行技术合同义务"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["reason"], json!("拒不履行技术合同义务"));
    assert_eq!(r.body["organization_id"], json!(org.m.org_id));
    assert_eq!(r.body["lifted_at"], Value::Null);
    assert_eq!(
        guard(app.pool.clone()).await,
        Some("organization_restricted")
    );
    let me = app.get("/api/v1/me", Some(&org.m.token)).await;
    assert_eq!(
        me.body["organization"]["restriction"]["reason"],
        json!("拒不履行技术合同义务")
    );
    let r = app
        .post(&uri, Some(&admin), json!({"reason": "再次惩戒"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Shown to the organisation on its account page.
    let cookies = web_login(&app, "bad@example.cn").await;
    let page = app.page("/account", &cookies).await;
    assert!(page.text.contains("拒不履行技术合同义务"));

    // Lifted by any admin.
    let cq = app.admin("cquaee").await;
    let r = app.call(Method::DELETE, &uri, Some(&cq), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["lifted_at"].is_string());
    assert!(r.body["lifted_by"].is_string());
    assert_eq!(guard(app.pool.clone()).await, None);
    let me = app.get("/api/v1/me", Some(&org.m.token)).await;
    assert!(me.body["organization"].get("restriction").is_none());
    let r = app.call(Method::DELETE, &uri, Some(&cq), None).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // With an end date: it holds until then, then no longer, and the job stamps it.
    let until = (Utc::now() + Duration::days(30)).to_rfc3339();
    let r = app
        .post(
            &uri,
            Some(&admin),
            json!({"reason": "逾期未付款", "until": until}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        guard(app.pool.clone()).await,
        Some("organization_restricted")
    );
    let list = app.get("/api/v1/admin/restrictions", Some(&cq)).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    sqlx::query(
        "update org_restrictions set until = now() - interval '1 second' where lifted_at is null",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        guard(app.pool.clone()).await,
        None,
        "expired: no longer applies"
    );
    techmarket::jobs::slow_tick(&app.state).await.unwrap();
    let lifted: i64 = sqlx::query_scalar(
        "select count(*) from org_restrictions where lifted_at is not null and lifted_by is null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(lifted, 1);

    // Audited with before and after.
    let audit = app
        .get("/api/v1/admin/audit?target_type=organization", Some(&admin))
        .await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "organization.restriction_expired",
            "organization.restrict",
            "organization.lift_restriction",
            "organization.restrict"
        ]
    );
    let set = &audit.body["items"][3];
    assert_eq!(set["before"]["restricted"], json!(false));
    assert_eq!(set["after"]["reason"], json!("拒不履行技术合同义务"));
    assert_eq!(set["actor"], json!("admin-suaee@test.example"));
    let lift = &audit.body["items"][2];
    assert_eq!(lift["after"]["restricted"], json!(false));
    assert_eq!(lift["actor"], json!("admin-cquaee@test.example"));
}

#[sqlx::test(migrations = "./migrations")]
async fn the_restrictions_page_finds_restricts_and_lifts(pool: PgPool) {
    let app = TestApp::new(pool);
    let org = party(&app, "found@example.cn", "nttc_sw").await;
    app.admin("cdipex").await;
    let cookies = web_login(&app, "admin-cdipex@test.example").await;
    let page = app
        .page("/admin/restrictions?q=found%40example", &cookies)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("测试机构 found@example.cn"));
    let csrf = input_value(&page.text, "_csrf").unwrap();
    // A bad date keeps the input and says why.
    let r = app
        .form(
            "/admin/restrictions",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("organization_id", &org.m.org_id),
                ("q", "found@example"),
                ("reason", "虚假挂牌"),
                ("until", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("虚假挂牌"));
    assert_eq!(select_text(&r.text, ".field-error").len(), 1);
    let r = app
        .form(
            "/admin/restrictions",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("organization_id", &org.m.org_id),
                ("reason", "虚假挂牌"),
                ("until", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = app.page("/admin/restrictions", &cookies).await;
    assert_eq!(select_text(&page.text, "table.active tbody tr").len(), 1);
    assert!(page.text.contains("虚假挂牌"));
    let r = app
        .form(
            &format!("/admin/restrictions/{}/lift", org.m.org_id),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = app.page("/admin/restrictions", &cookies).await;
    assert_eq!(select_text(&page.text, "table.active tbody tr").len(), 0);
    // An end date is shown as the day that was entered, not as the next midnight.
    let r = app
        .form(
            "/admin/restrictions",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("organization_id", &org.m.org_id),
                ("reason", "逾期未履约"),
                ("until", "2099-01-31"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = app.page("/admin/restrictions", &cookies).await;
    assert!(page.text.contains("2099-01-31（含当日）"), "{}", page.text);
    assert!(!page.text.contains("2099-02-01"));
}
