//! The pool: any exchange's administrator registers and deactivates experts; the public
//! directory (API and page, both languages) shows profiles by field and never contact data.
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrations = "./migrations")]
async fn any_admin_registers_an_expert_and_the_directory_shows_no_contact_data(pool: PgPool) {
    let app = TestApp::new(pool);
    let cq_admin = app.admin("cquaee").await;
    let m = app.verified_member("member@uni.example", "suaee").await;
    let (user_id, org_id) = {
        let mut conn = app.pool.acquire().await.unwrap();
        super::bare_member(&mut conn, "suaee", "李教授").await
    };
    let body = json!({"user_id": user_id, "fields": ["ic", "ai"], "title": "教授", "bio": "模数转换器设计。"});

    // A member may not; the Chongqing admin registers a Sichuan member (one pool for all four).
    let r = app
        .post("/api/v1/admin/experts", Some(&m.token), body.clone())
        .await;
    assert_eq!(r.status.as_u16(), 403, "{}", r.text);
    let r = app
        .post("/api/v1/admin/experts", Some(&cq_admin), body.clone())
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["exchange"], json!("cquaee"));
    assert_eq!(r.body["organization"]["id"], json!(org_id));
    assert_eq!(r.body["name"], json!("李教授"));
    assert_eq!(r.body["fields"], json!(["ic", "ai"]));
    assert_eq!(r.body["active"], json!(true));
    // Twice: refused, and an unknown field or an empty bio too.
    let again = app
        .post("/api/v1/admin/experts", Some(&cq_admin), body.clone())
        .await;
    assert_eq!(again.status.as_u16(), 422, "{}", again.text);
    assert!(again.body["error"]["fields"]["user_id"].is_string());
    let bad = app
        .post(
            "/api/v1/admin/experts",
            Some(&cq_admin),
            json!({"user_id": user_id, "fields": ["chips"], "title": "教授", "bio": " "}),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422);
    assert!(bad.body["error"]["fields"]["fields[0]"].is_string());
    assert!(bad.body["error"]["fields"]["bio"].is_string());
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'expert.register' and target_id = $1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The public directory, by field, without a token: no e-mail anywhere.
    let r = app.get("/api/v1/experts?field=ic", None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["total"], json!(1));
    assert_eq!(r.body["items"][0]["id"], json!(id));
    assert!(
        !r.text.contains("@experts.example") && !r.text.contains("email"),
        "{}",
        r.text
    );
    let r = app.get("/api/v1/experts?field=tcm", None).await;
    assert_eq!(r.body["total"], json!(0));
    let r = app.get("/api/v1/experts?field=chips", None).await;
    assert_eq!(r.status.as_u16(), 400);
    let r = app.get("/api/v1/experts?q=%E6%A8%A1%E6%95%B0", None).await; // 模数
    assert_eq!(r.body["total"], json!(1));

    // The page, in both languages.
    let zh = app.page("/experts?field=ic", "").await;
    assert_eq!(zh.status.as_u16(), 200);
    assert!(zh.text.contains("专家库") && zh.text.contains("模数转换器设计。"));
    assert!(!zh.text.contains("@experts.example"));
    let en = app.page("/experts?field=ic&lang=en", "").await;
    assert!(en.text.contains("Expert pool") && en.text.contains("模数转换器设计。"));

    // Deactivated: out of the directory, once (a second time is a conflict).
    let uri = format!("/api/v1/admin/experts/{id}/deactivate");
    let r = app.post(&uri, Some(&m.token), json!({})).await;
    assert_eq!(r.status.as_u16(), 403);
    let r = app.post(&uri, Some(&cq_admin), json!({})).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.body["active"], json!(false));
    let r = app.post(&uri, Some(&cq_admin), json!({})).await;
    assert_eq!(r.status.as_u16(), 409);
    assert_eq!(r.body["error"]["code"], json!("expert_inactive"));
    let r = app.get("/api/v1/experts?field=ic", None).await;
    assert_eq!(r.body["total"], json!(0));
    // Registered again: active with the new profile, the same expert.
    let r = app
        .post(
            "/api/v1/admin/experts",
            Some(&cq_admin),
            json!({"user_id": user_id, "fields": ["eit"], "title": "研究员", "bio": "信号处理。"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.body["id"], json!(id));
    assert_eq!(r.body["fields"], json!(["eit"]));
}
