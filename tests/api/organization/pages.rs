//! The pages: an owner invites on `/organization`, the colleague registers at `/join/{token}`;
//! revoking, roles and removal through the forms; both languages.
use axum::http::StatusCode;
use sqlx::PgPool;

use crate::helpers::*;

/// The page's link to `/join/…` (the read-only field an owner copies).
fn link_in(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("input.invitation-link").unwrap();
    let value = doc
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .expect("the new invitation's link");
    let at = value.find("/join/").expect("a /join/ link");
    value[at..].to_string()
}

#[sqlx::test(migrations = "./migrations")]
async fn an_owner_invites_on_the_page_and_the_colleague_registers_through_the_link(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("owner@chip.cn", "suaee").await;
    let cookies = web_login(&app, &owner.email).await;
    let account = app.page("/account", &cookies).await;
    assert!(account.text.contains("href=\"/organization\""));
    let page = app.page("/organization", &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("邀请同事") && page.text.contains("负责人"));
    let csrf = input_value(&page.text, "_csrf").unwrap();

    // A wrong address is explained in place.
    let r = app
        .form(
            "/organization/invitations",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "not an address"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("aria-invalid=\"true\""));
    let r = app
        .form(
            "/organization/invitations",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "wang@chip.cn"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let link = link_in(&r.text);
    assert!(r.text.contains("只显示这一次"));

    // The colleague, not signed in, opens the link and registers.
    let join = app.page(&link, "").await;
    assert_eq!(join.status, StatusCode::OK, "{}", join.text);
    assert!(
        join.text.contains("测试机构 owner@chip.cn"),
        "{}",
        join.text
    );
    assert_eq!(
        input_value(&join.text, "email").as_deref(),
        Some("wang@chip.cn")
    );
    let visitor = cookies_from(&join.headers);
    let token = input_value(&join.text, "_csrf").unwrap();
    let r = app
        .form(
            &link,
            &visitor,
            &[
                ("_csrf", &token),
                ("email", "wang@chip.cn"),
                ("password", "short"),
                ("display_name", "王芳"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = app
        .form(
            &link,
            &visitor,
            &[
                ("_csrf", &token),
                ("email", "wang@chip.cn"),
                ("password", PASSWORD),
                ("display_name", "王芳"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.headers.get("location").unwrap(),
        "/organization?done=joined"
    );
    let wang = format!("{visitor}; {}", cookies_from(&r.headers));
    let page = app.page("/organization?done=joined&lang=en", &wang).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("You joined the organisation"),
        "{}",
        page.text
    );
    assert!(page.text.contains("owner@chip.cn") && page.text.contains("王芳"));
    assert!(
        !page.text.contains("/organization/invitations\""),
        "a member sees no invitation form"
    );
    // The link worked once.
    let used = app.page(&format!("{link}?lang=en"), "").await;
    assert_eq!(used.status, StatusCode::CONFLICT);
    assert!(used.text.contains("used already"), "{}", used.text);

    // The owner makes Wang an owner, invites someone else and revokes it, then removes Wang.
    let wang_id: String =
        sqlx::query_scalar("select id::text from users where email = 'wang@chip.cn'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let r = app
        .form(
            &format!("/organization/members/{wang_id}/role"),
            &cookies,
            &[("_csrf", &csrf), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = app
        .form(
            "/organization/invitations",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "zhao@chip.cn"),
                ("role", "owner"),
            ],
        )
        .await;
    let zhao = link_in(&r.text);
    let page = app.page("/organization", &cookies).await;
    assert!(page.text.contains("zhao@chip.cn"), "pending: {}", page.text);
    let id: String = sqlx::query_scalar(
        "select id::text from organization_invitations where email = 'zhao@chip.cn'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let r = app
        .form(
            &format!("/organization/invitations/{id}/revoke"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let revoked = app.page(&zhao, "").await;
    assert_eq!(revoked.status, StatusCode::CONFLICT);
    assert!(
        revoked.text.contains("已被机构负责人撤销"),
        "{}",
        revoked.text
    );
    let r = app
        .form(
            &format!("/organization/members/{wang_id}/remove"),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = app
        .page("/organization?done=member_removed", &cookies)
        .await;
    assert!(!page.text.contains("王芳"), "{}", page.text);
    assert!(page.text.contains("成员已移出机构"));
    // The last owner's removal is refused in place.
    let r = app
        .form(
            &format!("/organization/members/{}/remove", owner.user_id),
            &cookies,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("至少需要一位负责人"));
}
