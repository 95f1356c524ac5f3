//! Colleagues in one organisation: invitations (once, 7 days, their address), roles, removal, the
//! last owner, and the pages `/organization` and `/join/{token}`.
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

mod pages;
mod removal;

fn register_invited(email: &str, token: &serde_json::Value) -> serde_json::Value {
    json!({"email": email, "password": PASSWORD, "display_name": "李伟", "invitation": token})
}

async fn audit_actors(app: &TestApp, action: &str) -> Vec<String> {
    sqlx::query_scalar("select actor from audit_log where action = $1 order by id")
        .bind(action)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn an_owner_invites_a_colleague_who_joins_through_the_link(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("owner@chip.cn", "suaee").await;
    let me = app.get("/api/v1/me", Some(&owner.token)).await;
    assert_eq!(me.body["organization_role"], json!("owner"));

    let inv = app.invite(&owner, "Li.Wei@Chip.cn", "member").await;
    let token = inv["token"].as_str().unwrap();
    assert!(token.starts_with("inv_") && token.len() > 60, "{inv}");
    assert_eq!(inv["role"], json!("member"));
    let expires: DateTime<Utc> = inv["expires_at"].as_str().unwrap().parse().unwrap();
    let week = Utc::now() + Duration::days(7);
    assert!((expires - week).num_seconds().abs() < 60, "{expires}");
    let pending = app
        .get("/api/v1/organization/invitations", Some(&owner.token))
        .await;
    assert_eq!(pending.status, StatusCode::OK, "{}", pending.text);
    assert_eq!(pending.body["items"][0]["email"], json!("Li.Wei@Chip.cn"));
    assert!(pending.body["items"][0].get("token").is_none());

    // The address compares case-insensitively.
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("li.wei@chip.cn", &inv["token"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["organization"]["id"], json!(owner.org_id));
    assert_eq!(r.body["user"]["role"], json!("member"));
    let l = app.login("li.wei@chip.cn", PASSWORD).await;
    let colleague = l.body["token"].as_str().unwrap();
    let me = app.get("/api/v1/me", Some(colleague)).await;
    assert_eq!(me.body["organization_role"], json!("member"));
    assert_eq!(me.body["organization"]["id"], json!(owner.org_id));

    let members = app
        .get("/api/v1/organization/members", Some(colleague))
        .await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.text);
    let items = members.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["email"], json!("owner@chip.cn"));
    assert_eq!(items[0]["role"], json!("owner"));
    assert_eq!(items[1]["email"], json!("li.wei@chip.cn"));
    assert_eq!(items[1]["role"], json!("member"));
    assert_eq!(items[1]["display_name"], json!("李伟"));

    let pending = app
        .get("/api/v1/organization/invitations", Some(&owner.token))
        .await;
    assert_eq!(
        pending.body["items"],
        json!([]),
        "a used invitation is not pending"
    );
    assert_eq!(
        audit_actors(&app, "organization.invite").await,
        ["owner@chip.cn"]
    );
    assert_eq!(
        audit_actors(&app, "organization.join").await,
        ["li.wei@chip.cn"]
    );
    let told: i64 = sqlx::query_scalar(
        "select count(*) from notifications where organization_id = $1::uuid and kind = 'colleague' \
         and title_zh like '%李伟%' and title_en like '%joined%'",
    )
    .bind(&owner.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, 1, "the organisation hears that a colleague joined");
}

#[sqlx::test(migrations = "./migrations")]
async fn an_invitation_works_once_and_only_for_its_address(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("owner@chip.cn", "suaee").await;
    let inv = app.invite(&owner, "a@chip.cn", "member").await;
    let reason = |r: &Resp| r.body["error"]["reason"].as_str().unwrap_or("").to_string();

    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("b@chip.cn", &inv["token"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("invitation_invalid"));
    assert_eq!(reason(&r), "other_email");

    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("a@chip.cn", &inv["token"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Used twice: refused, whoever tries.
    for email in ["a@chip.cn", "c@chip.cn"] {
        let r = app
            .post(
                "/api/v1/auth/register",
                None,
                register_invited(email, &inv["token"]),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert_eq!(r.body["error"]["code"], json!("invitation_invalid"));
        assert_eq!(reason(&r), "used");
    }
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("d@chip.cn", &json!("inv_not-a-real-token")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(reason(&r), "unknown");
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 2, "only the owner and the one colleague");

    // An invitation in place of the organisation, not beside it; one of the two is needed (422
    // before any conflict).
    let mut both = register_invited("e@chip.cn", &inv["token"]);
    both["organization"] =
        json!({"name": "新机构", "kind": "individual", "province": "sichuan", "exchange": "suaee"});
    let r = app.post("/api/v1/auth/register", None, both).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["organization"].is_string());
    let neither = json!({"email": "f@chip.cn", "password": PASSWORD, "display_name": "某人"});
    let r = app.post("/api/v1/auth/register", None, neither).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["organization"].is_string());

    // A new invitation to the same address ends the earlier one.
    let first = app.invite(&owner, "g@chip.cn", "member").await;
    let second = app.invite(&owner, "G@chip.cn", "owner").await;
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("g@chip.cn", &first["token"]),
        )
        .await;
    assert_eq!(reason(&r), "revoked", "{}", r.text);
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("g@chip.cn", &second["token"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Inviting someone who is a member already is a conflict.
    let r = app
        .post(
            "/api/v1/organization/invitations",
            Some(&owner.token),
            json!({"email": "A@chip.cn", "role": "member"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"]["code"], json!("already_member"));
}

#[sqlx::test(migrations = "./migrations")]
async fn an_invitation_is_refused_once_its_seven_days_are_over(pool: PgPool) {
    let clock = techmarket::service::Clock::manual(Utc::now());
    let app = TestApp::with_clock(pool, clock.clone());
    let owner = app.verified_member("owner@chip.cn", "suaee").await;
    let late = app.invite(&owner, "late@chip.cn", "member").await;
    let revoked = app.invite(&owner, "revoked@chip.cn", "member").await;
    clock.advance(Duration::days(6) + Duration::hours(23));
    let on_time = app.invite(&owner, "on-time@chip.cn", "member").await;
    let r = app
        .call(
            axum::http::Method::DELETE,
            &format!(
                "/api/v1/organization/invitations/{}",
                revoked["id"].as_str().unwrap()
            ),
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    clock.advance(Duration::hours(1));

    let token = late["token"].as_str().unwrap();
    let page = app.page(&format!("/join/{token}"), "").await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.text.contains("已过期"), "{}", page.text);
    assert_eq!(
        page.headers.get("referrer-policy").unwrap(),
        "no-referrer",
        "the link's secret stays out of other sites' Referer"
    );
    let en = app.page(&format!("/join/{token}?lang=en"), "").await;
    assert!(en.text.contains("has expired"), "{}", en.text);
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("late@chip.cn", &late["token"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["reason"], json!("expired"));
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("revoked@chip.cn", &revoked["token"]),
        )
        .await;
    assert_eq!(r.body["error"]["reason"], json!("revoked"), "{}", r.text);
    let pending = app
        .get("/api/v1/organization/invitations", Some(&owner.token))
        .await;
    let emails: Vec<_> = pending.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        emails,
        ["on-time@chip.cn"],
        "expired and revoked ones are not pending"
    );
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            register_invited("on-time@chip.cn", &on_time["token"]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_member_who_is_not_an_owner_cannot_invite_set_roles_or_remove(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("owner@chip.cn", "suaee").await;
    let member = app.colleague(&owner, "member@chip.cn", "member").await;
    let other = app.colleague(&owner, "other@chip.cn", "member").await;
    let forbidden = |r: &Resp| {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert_eq!(r.body["error"]["code"], json!("owner_required"));
    };
    let r = app
        .post(
            "/api/v1/organization/invitations",
            Some(&member.token),
            json!({"email": "new@chip.cn", "role": "owner"}),
        )
        .await;
    forbidden(&r);
    // 403 before the body is looked at.
    let r = app
        .post(
            "/api/v1/organization/invitations",
            Some(&member.token),
            json!({"email": "not an address", "role": "boss"}),
        )
        .await;
    forbidden(&r);
    forbidden(
        &app.get("/api/v1/organization/invitations", Some(&member.token))
            .await,
    );
    for target in [&other.user_id, &owner.user_id, &member.user_id] {
        let uri = format!("/api/v1/organization/members/{target}");
        let r = app
            .call(axum::http::Method::DELETE, &uri, Some(&member.token), None)
            .await;
        forbidden(&r);
        let r = app
            .call(
                axum::http::Method::PATCH,
                &uri,
                Some(&member.token),
                Some(json!({"role": "owner"})),
            )
            .await;
        forbidden(&r);
    }
    let roles: Vec<(String, String)> = sqlx::query_as(
        "select email, org_role from users where organization_id = $1::uuid order by email",
    )
    .bind(&owner.org_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        roles,
        [
            ("member@chip.cn".to_string(), "member".to_string()),
            ("other@chip.cn".into(), "member".into()),
            ("owner@chip.cn".into(), "owner".into()),
        ]
    );
    // Everyone sees who their colleagues are.
    let r = app
        .get("/api/v1/organization/members", Some(&member.token))
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 3);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_last_owner_can_be_neither_removed_nor_demoted(pool: PgPool) {
    let app = TestApp::new(pool);
    let owner = app.verified_member("owner@chip.cn", "suaee").await;
    let member = app.colleague(&owner, "member@chip.cn", "member").await;
    let me = format!("/api/v1/organization/members/{}", owner.user_id);
    let r = app
        .call(axum::http::Method::DELETE, &me, Some(&owner.token), None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("last_owner"));
    let r = app
        .call(
            axum::http::Method::PATCH,
            &me,
            Some(&owner.token),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("last_owner"));
    let r = app
        .call(
            axum::http::Method::PATCH,
            &me,
            Some(&owner.token),
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);

    // With a second owner, the first may step down, then leave.
    let promote = format!("/api/v1/organization/members/{}", member.user_id);
    let r = app
        .call(
            axum::http::Method::PATCH,
            &promote,
            Some(&owner.token),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["role"], json!("owner"));
    let r = app
        .call(
            axum::http::Method::PATCH,
            &me,
            Some(&owner.token),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // No longer an owner: refused at once.
    let r = app
        .call(
            axum::http::Method::DELETE,
            &promote,
            Some(&owner.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = app
        .call(axum::http::Method::DELETE, &me, Some(&member.token), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        audit_actors(&app, "organization.member_role").await,
        ["owner@chip.cn", "owner@chip.cn"]
    );
    assert_eq!(
        audit_actors(&app, "organization.member_remove").await,
        ["member@chip.cn"]
    );
    let owners: i64 = sqlx::query_scalar(
        "select count(*) from users where organization_id = $1::uuid and org_role = 'owner'",
    )
    .bind(&owner.org_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(owners, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn registering_a_registered_credit_code_again_says_to_ask_the_owner(pool: PgPool) {
    let app = TestApp::new(pool);
    let code = credit_code(4242);
    let r = app
        .register(
            "first@chip.cn",
            "enterprise",
            "sichuan",
            "suaee",
            Some(code.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .register(
            "second@chip.cn",
            "enterprise",
            "sichuan",
            "suaee",
            Some(code.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("duplicate_credit_code"));
    let zh = r.body["error"]["message"].as_str().unwrap();
    assert!(zh.contains("负责人") && zh.contains("邀请"), "{zh}");
    let en = app
        .post(
            "/api/v1/auth/register?lang=en",
            None,
            json!({"email": "third@chip.cn", "password": PASSWORD, "display_name": "Third",
                   "organization": {"name": "Chip again", "kind": "enterprise", "province": "sichuan",
                                    "exchange": "suaee", "credit_code": code}}),
        )
        .await;
    let en = en.body["error"]["message"].as_str().unwrap();
    assert!(en.contains("ask its owner to invite you"), "{en}");
}

#[sqlx::test(migrations = "./migrations")]
async fn two_owners_demoting_or_removing_each_other_at_once_leave_one_owner(pool: PgPool) {
    let app = TestApp::new(pool);
    let a = app.verified_member("a@chip.cn", "suaee").await;
    let b = app.colleague(&a, "b@chip.cn", "owner").await;
    for remove in [false, true] {
        let (path_a, path_b) = (
            format!("/api/v1/organization/members/{}", a.user_id),
            format!("/api/v1/organization/members/{}", b.user_id),
        );
        let (method, body) = if remove {
            (axum::http::Method::DELETE, None)
        } else {
            (axum::http::Method::PATCH, Some(json!({"role": "member"})))
        };
        let (ra, rb) = tokio::join!(
            app.call(method.clone(), &path_b, Some(&a.token), body.clone()),
            app.call(method.clone(), &path_a, Some(&b.token), body.clone()),
        );
        let ok = [&ra, &rb].iter().filter(|r| r.status.is_success()).count();
        assert_eq!(ok, 1, "{} / {}", ra.text, rb.text);
        let owners: i64 = sqlx::query_scalar(
            "select count(*) from users where organization_id = $1::uuid and org_role = 'owner'",
        )
        .bind(&a.org_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(owners, 1, "remove: {remove}");
        if !remove {
            // Make both owners again for the removal round.
            let (owner, other) = if ra.status.is_success() {
                (&a, &b)
            } else {
                (&b, &a)
            };
            let r = app
                .call(
                    axum::http::Method::PATCH,
                    &format!("/api/v1/organization/members/{}", other.user_id),
                    Some(&owner.token),
                    Some(json!({"role": "owner"})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn the_demo_car_maker_has_an_owner_and_a_colleague_who_sees_its_trades(pool: PgPool) {
    techmarket::demo::load(&pool).await.unwrap();
    let app = TestApp::new(pool);
    let l = app
        .login(
            "buyer-auto-2@demo.techmarket.cn",
            techmarket::demo::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.text);
    let token = l.body["token"].as_str().unwrap();
    let members = app.get("/api/v1/organization/members", Some(token)).await;
    let roles: Vec<(&str, &str)> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("buyer-auto@demo.techmarket.cn", "owner"),
            ("buyer-auto-2@demo.techmarket.cn", "member")
        ]
    );
    let owner = app
        .login(
            "buyer-auto@demo.techmarket.cn",
            techmarket::demo::DEMO_PASSWORD,
        )
        .await;
    let owner = owner.body["token"].as_str().unwrap();
    let mine = app.get("/api/v1/trades?role=buyer", Some(owner)).await;
    let theirs = app.get("/api/v1/trades?role=buyer", Some(token)).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.text);
    assert!(mine.body["total"].as_i64().unwrap() >= 1, "{}", mine.text);
    assert_eq!(mine.body["total"], theirs.body["total"]);
}
