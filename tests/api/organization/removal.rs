//! A removed colleague is refused at once (their tokens and sessions end, the organisation's
//! objects are no longer theirs); invited again, they sign in and join through the link.
use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::audit_actors;
use crate::helpers::*;

#[sqlx::test(migrations = "./migrations")]
async fn a_removed_colleague_is_refused_at_once_and_may_be_invited_back(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("owner@chip.cn", "suaee").await;
    let outsider = app.verified_member("outsider@car.cn", "cquaee").await;
    let li = app.colleague(&owner, "li@chip.cn", "member").await;
    // A draft of the organisation: only its people see it.
    let draft = app
        .post(
            "/api/v1/listings",
            Some(&owner.token),
            json!({"title": "高速ADC芯片设计", "summary": "摘要", "description": "说明", "field": "ic",
                   "ip_type": "know_how", "ip_numbers": [], "trl": 6, "transaction_modes": ["transfer"],
                   "keywords": [], "pricing": {"mode": "negotiable"}}),
        )
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let draft = format!("/api/v1/listings/{}", draft.body["id"].as_str().unwrap());
    assert_eq!(
        app.get(&draft, Some(&li.token)).await.status,
        StatusCode::OK
    );
    let cookies = web_login(&app, "li@chip.cn").await;
    assert_eq!(
        app.page("/organization", &cookies).await.status,
        StatusCode::OK
    );

    // Another organisation's owner cannot touch Li.
    let li_path = format!("/api/v1/organization/members/{}", li.user_id);
    let r = app
        .call(Method::DELETE, &li_path, Some(&outsider.token), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    let r = app
        .call(Method::DELETE, &li_path, Some(&owner.token), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // At once: the token and the browser session no longer work.
    let r = app.get("/api/v1/me", Some(&li.token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get(&draft, Some(&li.token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let page = app.page("/organization", &cookies).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "sent to sign in");
    // Signed in again, Li belongs to no organisation and sees nothing of it.
    let l = app.login("li@chip.cn", PASSWORD).await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text);
    let token = l.body["token"].as_str().unwrap().to_string();
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.body["organization"], json!(null), "{}", me.text);
    assert!(me.body.get("organization_role").is_none());
    assert_eq!(
        app.get(&draft, Some(&token)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.get("/api/v1/organization/members", Some(&token)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], json!("organization_required"));
    assert_eq!(
        audit_actors(&app, "organization.member_remove").await,
        ["owner@chip.cn"]
    );
    // Li is told, and no longer sees the organisation's notices.
    let cookies = web_login(&app, "li@chip.cn").await;
    let inbox = app.page("/inbox", &cookies).await;
    assert!(inbox.text.contains("您已被移出"), "{}", inbox.text);
    assert!(!inbox.text.contains("已以成员身份加入"), "{}", inbox.text);
    let account = app.page("/account", &cookies).await;
    assert!(account.text.contains("不属于任何机构"), "{}", account.text);

    // Invited again: Li signs in and joins through the link.
    let inv = app.invite(&owner, "li@chip.cn", "member").await;
    let link = format!("/join/{}", inv["token"].as_str().unwrap());
    let page = app.page(&link, &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app.form(&link, &cookies, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.headers.get("location").unwrap(),
        "/organization?done=joined"
    );
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.body["organization"]["id"], json!(owner.org_id));
    assert_eq!(me.body["organization_role"], json!("member"));
    assert_eq!(app.get(&draft, Some(&token)).await.status, StatusCode::OK);
    // The link worked once.
    let again = app.form(&link, &cookies, &[("_csrf", &csrf)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
}
