use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrations = "./migrations")]
async fn only_an_admin_of_the_organisations_exchange_may_verify_it(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.member("cq@example.cn", "cquaee").await;
    let suaee = app.admin("suaee").await;
    let cquaee = app.admin("cquaee").await;
    let uri = format!("/api/v1/admin/organizations/{}/verify", m.org_id);

    let r = app.post(&uri, Some(&m.token), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a member is not an admin");
    let r = app.post(&uri, Some(&suaee), json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "another exchange's admin: 403, not 404"
    );
    let me = app.get("/api/v1/me", Some(&m.token)).await;
    assert_eq!(me.body["organization"]["verified"], json!(false));

    let r = app.post(&uri, Some(&cquaee), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["verified"], json!(true));
    let me = app.get("/api/v1/me", Some(&m.token)).await;
    assert_eq!(me.body["organization"]["verified"], json!(true));

    // The audit log shows who did it, before and after.
    let audit = app.get("/api/v1/admin/audit", Some(&suaee)).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert_eq!(audit.body["total"], json!(1));
    let item = &audit.body["items"][0];
    assert_eq!(item["actor"], json!("admin-cquaee@test.example"));
    assert_eq!(item["action"], json!("organization.verify"));
    assert_eq!(item["target_type"], json!("organization"));
    assert_eq!(item["target_id"], json!(m.org_id));
    assert_eq!(item["before"]["verified"], json!(false));
    assert_eq!(item["after"]["verified"], json!(true));

    // Members may not read the audit log.
    let r = app.get("/api/v1/admin/audit", Some(&m.token)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = "./migrations")]
async fn verifying_a_forged_or_unknown_id_is_not_found(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    for id in [
        "not-a-uuid",
        "00000000-0000-0000-0000-000000000000",
        "1%27%20or%201%3D1--",
    ] {
        let r = app
            .post(
                &format!("/api/v1/admin/organizations/{id}/verify"),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(r.body["error"]["code"], json!("not_found"));
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn the_admin_page_lists_waiting_organisations_and_verifies_by_form(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.member("waiting@example.cn", "nttc_sw").await;
    let other = app.member("elsewhere@example.cn", "cquaee").await;
    app.admin("nttc_sw").await;
    // Log in through the form.
    let page = app.page("/login", "").await;
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let otp = otp_for(&app.pool, "admin-nttc_sw@test.example")
        .await
        .unwrap();
    let r = app
        .form(
            "/login",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "admin-nttc_sw@test.example"),
                ("password", PASSWORD),
                ("otp", &otp),
                ("next", "/admin"),
            ],
        )
        .await;
    let cookies = format!("{cookies}; {}", cookies_from(&r.headers));
    let admin = app.page("/admin", &cookies).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.text.contains("测试机构 waiting@example.cn"));
    assert!(
        !admin.text.contains("elsewhere@example.cn"),
        "only its own exchange's organisations"
    );
    let csrf = input_value(&admin.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/admin/organizations/{}/verify", m.org_id),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The admin is told it worked.
    let to = r.headers["location"].to_str().unwrap().to_string();
    let page = app.page(&to, &cookies).await;
    assert!(page.text.contains("机构已认证"), "{to}: {}", page.text);
    let verified: bool =
        sqlx::query_scalar("select verified_at is not null from organizations where id = $1::uuid")
            .bind(&m.org_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(verified);
    // Another exchange's organisation through the form: refused.
    let r = app
        .form(
            &format!("/admin/organizations/{}/verify", other.org_id),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let audit = app.page("/admin/audit", &cookies).await;
    // Said in words (the organisation by its name, the exchange by its), with the raw record,
    // code and all, one click away.
    assert!(audit.text.contains("organization.verify"));
    assert!(audit.text.contains("认证机构“"), "{}", audit.text);
    assert!(
        audit
            .text
            .contains("认证机构“测试机构 waiting@example.cn”（国家技术转移西南中心）"),
        "{}",
        audit.text
    );
    let audit = app.page("/admin/audit?lang=en", &cookies).await;
    assert!(
        audit.text.contains("verified the organisation “"),
        "{}",
        audit.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn members_get_403_on_admin_pages(pool: PgPool) {
    let app = TestApp::new(pool);
    app.member("plain@example.cn", "suaee").await;
    let page = app.page("/login", "").await;
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            "/login",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "plain@example.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let cookies = format!("{cookies}; {}", cookies_from(&r.headers));
    assert_eq!(
        app.page("/admin", &cookies).await.status,
        StatusCode::FORBIDDEN
    );
    // Anonymous: sent to log in.
    let r = app.page("/admin", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r
        .headers
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("/login?next="));
}
