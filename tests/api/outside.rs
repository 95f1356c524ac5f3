//! Defects found when the market was tried from outside (issue 14), each with the test that guards it.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::*;

fn listing_body(title: &str, n: u32) -> Value {
    json!({
        "title": title,
        "summary": "一项示例科技成果。",
        "description": "第一段介绍。",
        "field": "auto",
        "ip_type": "invention_patent",
        "ip_numbers": [techmarket::service::listings::patent_number(2022, '1', 7000 + n)],
        "trl": 6,
        "transaction_modes": ["transfer"],
        "keywords": ["自动紧急制动"],
        "pricing": {"mode": "negotiable"}
    })
}

#[sqlx::test(migrations = "./migrations")]
async fn a_listings_matches_are_its_owners_and_its_exchanges_admins_only(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("seller@example.cn", "suaee").await;
    let buyer = app.verified_member("buyer@example.cn", "cquaee").await;
    let home_admin = app.admin("suaee").await;
    let other_admin = app.admin("cquaee").await;
    let l = app
        .post(
            "/api/v1/listings",
            Some(&seller.token),
            listing_body("自动紧急制动算法", 1),
        )
        .await;
    assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
    let lid = l.body["id"].as_str().unwrap();
    let d = app
        .post(
            "/api/v1/demands",
            Some(&buyer.token),
            json!({"title": "寻求自动紧急制动算法", "description": "AEB", "field": "auto", "keywords": ["自动紧急制动"]}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let did = d.body["id"].as_str().unwrap();

    let listing = format!("/api/v1/listings/{lid}/matches");
    let demand = format!("/api/v1/demands/{did}/matches");
    let status = |r: Resp| (r.status, r.body["error"]["code"].clone());
    assert_eq!(
        app.get(&listing, Some(&seller.token)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&listing, Some(&home_admin)).await.status,
        StatusCode::OK
    );
    // An admin acting outside their exchange gets 403 (API.md), never the owner's matches.
    assert_eq!(
        status(app.get(&listing, Some(&other_admin)).await),
        (StatusCode::FORBIDDEN, json!("other_exchange"))
    );
    assert_eq!(
        app.get(&listing, Some(&buyer.token)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&demand, Some(&buyer.token)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&demand, Some(&other_admin)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        status(app.get(&demand, Some(&home_admin)).await),
        (StatusCode::FORBIDDEN, json!("other_exchange"))
    );
    assert_eq!(
        app.get(&demand, Some(&seller.token)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn titles_are_stored_as_sent_and_an_all_blank_title_is_still_422(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.verified_member("m@example.cn", "suaee").await;
    let title = "  两个空格开头的标题 ";
    let l = app
        .post("/api/v1/listings", Some(&m.token), listing_body(title, 2))
        .await;
    assert_eq!(l.status, StatusCode::CREATED, "{}", l.text);
    assert_eq!(l.body["title"], json!(title));
    let id = l.body["id"].as_str().unwrap();
    let again = app
        .get(&format!("/api/v1/listings/{id}"), Some(&m.token))
        .await;
    assert_eq!(again.body["title"], json!(title));
    let blank = app
        .post("/api/v1/listings", Some(&m.token), listing_body(" \t ", 3))
        .await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.text
    );
    assert!(
        blank.body["error"]["fields"]["title"].is_string(),
        "{}",
        blank.text
    );

    let d = app
        .post(
            "/api/v1/demands",
            Some(&m.token),
            json!({"title": " 寻求自动紧急制动算法", "field": "auto"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    assert_eq!(d.body["title"], json!(" 寻求自动紧急制动算法"));
    let d = app
        .post(
            "/api/v1/demands",
            Some(&m.token),
            json!({"title": "    ", "field": "auto"}),
        )
        .await;
    assert_eq!(d.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_query_that_is_not_utf8_is_400_naming_the_parameter(pool: PgPool) {
    let app = TestApp::new(pool);
    for uri in [
        "/api/v1/listings?q=%FF%FE",
        "/api/v1/demands?q=%E8%8A",
        "/api/v1/fee-schedules?status=%C0%AF",
    ] {
        let r = app.get(uri, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        assert_eq!(r.body["error"]["code"], json!("invalid_query"), "{uri}");
        let fields = r.body["error"]["fields"].as_object().unwrap();
        assert_eq!(fields.len(), 1, "{uri}: {}", r.text);
    }
    let r = app.get("/api/v1/listings?q=%FF%FE", None).await;
    assert!(r.body["error"]["fields"]["q"].is_string(), "{}", r.text);
    // The pages too (an HTML error page), and a correct Chinese query still works.
    let r = app.page("/listings?q=%FF", "").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("<html"));
    let r = app.get("/api/v1/listings?q=%E8%8A%AF%E7%89%87", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// Every mutating `/api/v1/admin/…` route of the document, posted an empty or malformed body by a
/// member: 403 before anything is read from the body (it was 422, telling what the body should be).
#[sqlx::test(migrations = "./migrations")]
async fn members_get_403_from_admin_routes_before_their_body_is_validated(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.verified_member("m@example.cn", "suaee").await;
    let doc = app.get("/api/v1/openapi.json", None).await.body;
    let some_id = uuid::Uuid::now_v7().to_string();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/admin/") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let uri = path.replace("{id}", &some_id);
            let m_ = axum::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for body in [
                json!({}),
                json!("not an object"),
                json!({"decision": 5, "reason": []}),
            ] {
                let r = app.call(m_.clone(), &uri, Some(&m.token), Some(body)).await;
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{method} {uri}: {}",
                    r.text
                );
                assert_eq!(r.body["error"]["code"], json!("admin_required"));
            }
            let anon = app.call(m_, &uri, None, Some(json!({}))).await;
            assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{method} {uri}");
            checked += 1;
        }
    }
    assert!(checked >= 15, "{checked} admin operations");
}

#[sqlx::test(migrations = "./migrations")]
async fn ledger_entries_come_in_the_list_format_and_bad_paging_is_400(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.admin("suaee").await;
    let r = app.get("/api/v1/admin/ledger/entries", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["items"], json!([]));
    assert_eq!(r.body["total"], json!(0));
    assert_eq!(
        (r.body["page"].clone(), r.body["per_page"].clone()),
        (json!(1), json!(20))
    );
    let r = app
        .get("/api/v1/admin/ledger/entries?limit=5", Some(&admin))
        .await;
    assert_eq!(r.body["per_page"], json!(5), "{}", r.text);
    for (q, field) in [
        ("limit=-1", "limit"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("per_page=-1", "per_page"),
        ("page=0", "page"),
        ("page=-3", "page"),
        ("limit=abc", "limit"),
    ] {
        let r = app
            .get(&format!("/api/v1/admin/ledger/entries?{q}"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.text);
        assert!(
            r.body["error"]["fields"][field].is_string(),
            "{q}: {}",
            r.text
        );
    }
}

/// Only failures count (API.md): fifteen correct logins at once from one address, with five wrong
/// ones among them, all succeed; the wrong ones still count.
#[sqlx::test(migrations = "./migrations")]
async fn simultaneous_correct_logins_from_one_address_are_never_refused(pool: PgPool) {
    let app = TestApp::new(pool);
    let mut emails = Vec::new();
    for i in 0..15 {
        let email = format!("colleague{i}@example.cn");
        let r = app
            .register(&email, "individual", "sichuan", "suaee", None)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        emails.push(email);
    }
    let guesses: Vec<String> = (0..5).map(|i| format!("not it {i}")).collect();
    let correct = emails.iter().map(|e| app.login(e, PASSWORD));
    let wrong = guesses
        .iter()
        .map(|g| app.login("colleague0@example.cn", g));
    let (ok, bad) = tokio::join!(
        futures_util::future::join_all(correct),
        futures_util::future::join_all(wrong)
    );
    let statuses: Vec<u16> = ok.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, vec![200; 15]);
    assert!(bad.iter().all(|r| r.status == StatusCode::UNAUTHORIZED));
    let failures: i64 = sqlx::query_scalar("select count(*) from login_failures")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        failures, 5,
        "the five failures stay, the successes leave nothing"
    );
}

fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// A browser still holding an ended session's cookie signs in: it ends signed in (the stale
/// cookie's expiry was sent after the new session cookie and cleared it).
#[sqlx::test(migrations = "./migrations")]
async fn signing_in_with_a_stale_session_cookie_ends_signed_in(pool: PgPool) {
    let app = TestApp::new(pool);
    app.member("stale@example.cn", "suaee").await;
    let page = app.page("/login", "tm_session=s_ended_long_ago").await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let cookies = format!(
        "{}; tm_session=s_ended_long_ago",
        cookies_from(&page.headers)
    );
    let r = app
        .form(
            "/login",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "stale@example.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let sessions: Vec<String> = set_cookies(&r)
        .into_iter()
        .filter(|c| c.starts_with("tm_session="))
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert!(!sessions[0].starts_with("tm_session=;"), "{sessions:?}");
    let session = sessions[0].split(';').next().unwrap().to_string();
    let account = app.page("/account", &session).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text);
    assert!(account.text.contains("stale@example.cn"));
}

/// Before sign-in, the form token is bound to the cookie by the server: a pair the visitor (or an
/// attacker planting the cookie) picks is refused on /login and /register, nothing happens.
#[sqlx::test(migrations = "./migrations")]
async fn a_csrf_pair_picked_by_the_visitor_is_refused_before_sign_in(pool: PgPool) {
    let app = TestApp::new(pool);
    app.member("victim@example.cn", "suaee").await;
    let picked = format!("c_{}", "ab".repeat(32));
    for cookie_value in [picked.as_str(), "attacker-chosen-value-0123456789abcdef"] {
        let cookies = format!("tm_csrf={cookie_value}");
        let r = app
            .form(
                "/login",
                &cookies,
                &[
                    ("_csrf", cookie_value),
                    ("email", "victim@example.cn"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{cookie_value}: {}",
            r.text
        );
        assert!(set_cookies(&r)
            .iter()
            .all(|c| !c.starts_with("tm_session=s_")));
        let r = app
            .form(
                "/register",
                &cookies,
                &[
                    ("_csrf", cookie_value),
                    ("email", "planted@example.cn"),
                    ("password", PASSWORD),
                    ("display_name", "x"),
                    ("organization.name", "某某"),
                    ("organization.kind", "individual"),
                    ("organization.province", "sichuan"),
                    ("organization.exchange", "suaee"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
    // The token of one browser does not fit another browser's cookie either.
    let a = app.page("/login", "").await;
    let b = app.page("/login", "").await;
    let token_a = input_value(&a.text, "_csrf").unwrap();
    assert_ne!(token_a, input_value(&b.text, "_csrf").unwrap());
    let r = app
        .form(
            "/login",
            &cookies_from(&b.headers),
            &[
                ("_csrf", &token_a),
                ("email", "victim@example.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The server's own pair works.
    let r = app
        .form(
            "/login",
            &cookies_from(&a.headers),
            &[
                ("_csrf", &token_a),
                ("email", "victim@example.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
}

/// With TECHMARKET_COOKIE_SECURE, every cookie is `__Host-` prefixed, `Secure`, `Path=/`, without a
/// domain; sign-in and sign-out work with them.
#[sqlx::test(migrations = "./migrations")]
async fn secure_cookies_carry_the_host_prefix(pool: PgPool) {
    let mut config = techmarket::config::Config::for_tests("");
    config.cookie_secure = true;
    let state = techmarket::startup::state(pool.clone(), config);
    let app = TestApp {
        app: techmarket::http::app(state.clone()),
        pool,
        state,
    };
    app.member("secure@example.cn", "suaee").await;
    let page = app.page("/login?lang=en", "").await;
    let issued = set_cookies(&page);
    assert_eq!(issued.len(), 2, "{issued:?}");
    for c in &issued {
        assert!(c.starts_with("__Host-tm_"), "{c}");
        assert!(
            c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain"),
            "{c}"
        );
    }
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    // The unprefixed cookie is not read in this mode.
    let plain = cookies.replace("__Host-tm_csrf", "tm_csrf");
    let r = app
        .form(
            "/login",
            &plain,
            &[
                ("_csrf", &csrf),
                ("email", "secure@example.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .form(
            "/login",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "secure@example.cn"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let session = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("__Host-tm_session=s_"))
        .unwrap();
    assert!(
        session.contains("Secure") && session.contains("Path=/"),
        "{session}"
    );
    let session = session.split(';').next().unwrap().to_string();
    let account = app.page("/account", &session).await;
    assert_eq!(account.status, StatusCode::OK);
    let out_csrf = input_value(&account.text, "_csrf").unwrap();
    let out = app.form("/logout", &session, &[("_csrf", &out_csrf)]).await;
    let cleared = set_cookies(&out);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("__Host-tm_session=;") && c.contains("Secure")),
        "{cleared:?}"
    );
}
