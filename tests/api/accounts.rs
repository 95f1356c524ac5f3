use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test(migrations = "./migrations")]
async fn registration_accepts_each_valid_example_credit_code(pool: PgPool) {
    let app = TestApp::new(pool);
    // Positions 3–4 name the region: a Chongqing code (50) is registered in Chongqing.
    let codes = [
        ("91350100M000100Y43", "sichuan", "suaee"),
        ("91110000600037341L", "sichuan", "suaee"),
        ("91510100MA6C123414", "sichuan", "suaee"),
        (" 91500000ma5u7q2k9b ", "chongqing", "cquaee"),
        ("12510000450710288C", "sichuan", "suaee"),
    ];
    for (i, (code, province, exchange)) in codes.iter().enumerate() {
        let r = app
            .register(
                &format!("u{i}@example.cn"),
                "university",
                province,
                exchange,
                Some(code.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{code}: {}", r.text);
        assert_eq!(r.body["organization"]["verified"], json!(false));
        assert_eq!(r.body["user"]["role"], json!("member"));
        assert_eq!(r.body["organization"]["exchange"], json!(exchange));
        assert_eq!(r.body["organization"]["province"], json!(province));
        // Stored upper case, trimmed.
        assert_eq!(
            r.body["organization"]["credit_code"],
            json!(code.trim().to_uppercase())
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn each_way_a_credit_code_can_be_wrong_is_explained(pool: PgPool) {
    let app = TestApp::new(pool);
    let cases = [
        ("91350100M000100Y4", "18"), // wrong length: the message names the length
        ("91350100M000100I43", "I"), // a letter that cannot occur
        ("913501A0M000100Y43", "A"), // region code must be digits
        ("91350100M000100Y4Z", "“3”"), // check character: names the expected one
    ];
    for (i, (code, hint)) in cases.iter().enumerate() {
        let r = app
            .register(
                &format!("bad{i}@example.cn"),
                "enterprise",
                "chongqing",
                "cquaee",
                Some(code.to_string()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{code}: {}",
            r.text
        );
        assert_eq!(r.body["error"]["code"], json!("validation_failed"));
        let msg = r.body["error"]["fields"]["organization.credit_code"]
            .as_str()
            .unwrap_or_default();
        assert!(
            msg.contains(hint),
            "{code}: message {msg:?} should mention {hint:?}"
        );
    }
    let count: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "nothing is stored for an invalid registration");
}

#[sqlx::test(migrations = "./migrations")]
async fn credit_code_is_required_except_for_individuals(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app
        .register("ent@example.cn", "enterprise", "sichuan", "suaee", None)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["organization.credit_code"].is_string());
    let r = app
        .register("me@example.cn", "individual", "other", "suaee", None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_duplicate_email_in_another_case_is_a_conflict(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app
        .register(
            "Li.Hua@Example.cn",
            "enterprise",
            "sichuan",
            "suaee",
            Some(credit_code(1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .register(
            "li.hua@example.CN",
            "enterprise",
            "sichuan",
            "suaee",
            Some(credit_code(2)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("duplicate_email"));
    // Login works in any case too.
    let l = app.login("LI.HUA@EXAMPLE.CN", PASSWORD).await;
    assert_eq!(l.status, StatusCode::OK);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_short_password_is_refused_with_the_field_named(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "a@b.cn", "password": "short", "display_name": "x",
                   "organization": {"name": "某机构", "kind": "individual", "province": "other", "exchange": "suaee"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["fields"]["password"]
        .as_str()
        .unwrap()
        .contains("12"));
}

#[sqlx::test(migrations = "./migrations")]
async fn unknown_codes_are_named_in_fields(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app
        .register(
            "x@example.cn",
            "alien",
            "tibet",
            "nyse",
            Some(credit_code(3)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in [
        "organization.kind",
        "organization.province",
        "organization.exchange",
    ] {
        assert!(
            r.body["error"]["fields"][f].is_string(),
            "{f} in {}",
            r.text
        );
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn login_me_logout_and_the_revoked_token(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.member("buyer@example.cn", "cquaee").await;
    let me = app.get("/api/v1/me", Some(&m.token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], json!("buyer@example.cn"));
    assert_eq!(me.body["organization"]["exchange"], json!("cquaee"));
    assert_eq!(me.body["organization"]["province"], json!("chongqing"));

    // The token is stored only as a hash.
    let stored: i64 = sqlx::query_scalar("select count(*) from sessions where token_hash = $1")
        .bind(m.token.as_bytes())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    let out = app
        .post("/api/v1/auth/logout", Some(&m.token), json!({}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = app.get("/api/v1/me", Some(&m.token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.body["error"]["code"], json!("invalid_token"));
    let none = app.get("/api/v1/me", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "./migrations")]
async fn unknown_email_and_wrong_password_get_the_same_answer(pool: PgPool) {
    let app = TestApp::new(pool);
    app.member("known@example.cn", "suaee").await;
    let a = app.login("known@example.cn", "wrong password!!").await;
    let b = app.login("nobody@example.cn", "wrong password!!").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.status, b.status);
    assert_eq!(a.body, b.body);
}

#[sqlx::test(migrations = "./migrations")]
async fn ten_failures_for_one_account_throttle_it(pool: PgPool) {
    let app = TestApp::new(pool);
    app.member("target@example.cn", "suaee").await;
    for i in 0..10 {
        let r = app
            .login("target@example.cn", &format!("wrong password {i}"))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Even the right password is refused until the window passes.
    let r = app.login("target@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("too_many_requests"));
    // Once the failures are older than 15 minutes, it works again.
    sqlx::query("update login_failures set at = now() - interval '16 minutes'")
        .execute(&app.pool)
        .await
        .unwrap();
    let r = app.login("target@example.cn", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// Guesses sent all at once cannot slip past the limit before their failures are written.
#[sqlx::test(migrations = "./migrations")]
async fn thirty_parallel_guesses_get_at_most_ten_password_checks(pool: PgPool) {
    let app = TestApp::new(pool);
    app.member("parallel@example.cn", "suaee").await;
    let guesses: Vec<String> = (0..30).map(|i| format!("wrong password {i}")).collect();
    let rs =
        futures_util::future::join_all(guesses.iter().map(|g| app.login("parallel@example.cn", g)))
            .await;
    let checked = rs
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = rs
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + refused, 30, "only 401 and 429");
    assert!(checked <= 10, "{checked} guesses were checked");
    assert!(checked >= 1);
    // The refused ones are not counted against the window; the checked ones are.
    let stored: i64 = sqlx::query_scalar("select count(*) from login_failures")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, checked as i64);
    // A successful login leaves no failure behind.
    sqlx::query("delete from login_failures")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.login("parallel@example.cn", PASSWORD).await.status,
        StatusCode::OK
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from login_failures")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[sqlx::test(migrations = "./migrations")]
async fn ten_failures_from_one_address_throttle_it_across_accounts(pool: PgPool) {
    use axum::body::Body;
    use axum::http::{header, Method, Request};
    let app = TestApp::new(pool);
    for i in 0..10 {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", "203.0.113.7")
            .body(Body::from(
                json!({"email": format!("u{i}@example.cn"), "password": "nope nope nope"})
                    .to_string(),
            ))
            .unwrap();
        assert_eq!(app.send(req).await.status, StatusCode::UNAUTHORIZED);
    }
    // A client-written entry in front of the proxy's own changes nothing.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", "198.51.100.99, 203.0.113.7")
        .body(Body::from(
            json!({"email": "fresh@example.cn", "password": "nope nope nope"}).to_string(),
        ))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_register_page_is_chinese_by_default_and_english_on_request(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.page("/register", "").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = scraper::Html::parse_document(&r.text);
    let html = scraper::Selector::parse("html").unwrap();
    assert_eq!(
        doc.select(&html).next().unwrap().value().attr("lang"),
        Some("zh-CN")
    );
    assert!(r.text.contains("统一社会信用代码"));
    for name in [
        "_csrf",
        "email",
        "password",
        "display_name",
        "organization.name",
        "organization.credit_code",
    ] {
        let sel = scraper::Selector::parse(&format!("[name=\"{name}\"]")).unwrap();
        assert!(doc.select(&sel).next().is_some(), "field {name}");
    }
    for name in [
        "organization.kind",
        "organization.province",
        "organization.exchange",
    ] {
        let sel = scraper::Selector::parse(&format!("select[name=\"{name}\"] option")).unwrap();
        assert!(doc.select(&sel).count() >= 3, "options of {name}");
    }

    let en = app.page("/register?lang=en", "").await;
    let doc = scraper::Html::parse_document(&en.text);
    assert_eq!(
        doc.select(&html).next().unwrap().value().attr("lang"),
        Some("en")
    );
    assert!(en.text.contains("Unified social credit code"));
    // The choice is remembered in a cookie.
    let cookies = cookies_from(&en.headers);
    assert!(cookies.contains("tm_lang=en"), "{cookies}");
    let again = app.page("/login", &cookies).await;
    assert!(again.text.contains("<html lang=\"en\">"));
}

#[sqlx::test(migrations = "./migrations")]
async fn accept_language_picks_english(pool: PgPool) {
    use axum::body::Body;
    use axum::http::{header, Request};
    let app = TestApp::new(pool);
    let req = Request::builder()
        .uri("/")
        .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert!(r.text.contains("<html lang=\"en\">"));
}

#[sqlx::test(migrations = "./migrations")]
async fn a_form_post_without_its_csrf_token_is_refused(pool: PgPool) {
    let app = TestApp::new(pool);
    let page = app.page("/login", "").await;
    let cookies = cookies_from(&page.headers);
    let r = app
        .form(
            "/login",
            &cookies,
            &[("email", "x@example.cn"), ("password", "whatever whatever")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("<html"), "an HTML error page");
    let r = app
        .form(
            "/login",
            &cookies,
            &[
                ("_csrf", "c_forged"),
                ("email", "x@example.cn"),
                ("password", "whatever"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_person_registers_by_form_logs_out_and_in(pool: PgPool) {
    let app = TestApp::new(pool);
    let page = app.page("/register", "").await;
    let mut cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let code = credit_code(77);
    let r = app
        .form(
            "/register",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "zhang@example.cn"),
                ("password", PASSWORD),
                ("display_name", "张三"),
                ("organization.name", "示例川大技术转移中心"),
                ("organization.kind", "university"),
                ("organization.province", "sichuan"),
                ("organization.exchange", "suaee"),
                ("organization.credit_code", &code),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let session = cookies_from(&r.headers);
    assert!(session.contains("tm_session="));
    let set = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    cookies = format!("{cookies}; {session}");
    let account = app.page("/account", &cookies).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.text.contains("示例川大技术转移中心"));
    assert!(account.text.contains("待认证"));

    // Log out with the session's CSRF token.
    let csrf = input_value(&account.text, "_csrf").unwrap();
    let out = app.form("/logout", &cookies, &[("_csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = app.page("/account", &cookies).await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the old session no longer works"
    );

    // Log in again through the form, in English.
    let page = app.page("/login?lang=en", "").await;
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            "/login",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "ZHANG@example.cn"),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers.get("location").unwrap(), "/account");
    let cookies = format!("{cookies}; {}", cookies_from(&r.headers));
    let account = app.page("/account", &cookies).await;
    assert!(
        account.text.contains("Awaiting verification"),
        "{}",
        account.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_wrong_form_shows_the_errors_and_keeps_the_input(pool: PgPool) {
    let app = TestApp::new(pool);
    let page = app.page("/register", "").await;
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            "/register",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("email", "wang@example.cn"),
                ("password", "short"),
                ("display_name", "王五"),
                ("organization.name", "<script>alert(1)</script>"),
                ("organization.kind", "enterprise"),
                ("organization.province", "chongqing"),
                ("organization.exchange", "cquaee"),
                ("organization.credit_code", "91350100M000100Y4Z"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("校验位"), "credit code message shown");
    assert!(r.text.contains("wang@example.cn"), "input kept");
    assert!(!r.text.contains("<script>alert(1)</script>"), "escaped");
    assert!(
        r.text.contains("&lt;script&gt;")
            || r.text.contains("&#60;script&#62;")
            || r.text.contains("&lt;script")
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn login_redirects_only_to_local_paths(pool: PgPool) {
    let app = TestApp::new(pool);
    app.member("nav@example.cn", "suaee").await;
    // Tabs and newlines are dropped by browsers and `\` read as `/`: each of these would leave.
    for (next, want) in [
        ("//evil.example/", "/account"),
        ("/\t/evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("/\u{1}", "/account"),
        ("/listings?q=芯片", "/listings?q=%E8%8A%AF%E7%89%87"),
    ] {
        let (r, _) = send_login_form(
            &app,
            &[
                ("email", "nav@example.cn"),
                ("password", PASSWORD),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{next:?}: {}", r.text);
        assert_eq!(r.headers.get("location").unwrap(), want, "{next:?}");
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn the_language_link_of_a_doubled_slash_path_stays_on_the_site(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.page("//evil.example", "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let doc = scraper::Html::parse_document(&r.text);
    let sel = scraper::Selector::parse("a.lang-switch").unwrap();
    let href = doc
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap();
    assert!(href.starts_with("/evil.example?"), "{href}");
}

#[sqlx::test(migrations = "./migrations")]
async fn a_credit_code_of_one_province_is_not_filed_under_the_other(pool: PgPool) {
    let app = TestApp::new(pool);
    for (i, (code, province, expected)) in [
        (credit_code_in("chongqing", 5), "sichuan", "重庆"),
        (credit_code_in("chongqing", 6), "other", "重庆"),
        (credit_code_in("sichuan", 7), "chongqing", "四川"),
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .register(
                &format!("mismatch{i}@example.cn"),
                "enterprise",
                province,
                "suaee",
                Some(code.clone()),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{code}: {}",
            r.text
        );
        let msg = r.body["error"]["fields"]["organization.province"]
            .as_str()
            .unwrap_or_default();
        assert!(msg.contains(expected), "{code} as {province}: {msg:?}");
        assert!(r.body["error"]["fields"]["organization.credit_code"].is_null());
    }
    // Another region (here Fujian, 35) does not fix the province.
    let r = app
        .register(
            "fujian@example.cn",
            "enterprise",
            "chongqing",
            "cquaee",
            Some(credit_code_in("other", 8)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_register_form_preselects_the_codes_province_and_says_why_in_both_languages(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let code = credit_code_in("chongqing", 9);
    for (lang, said) in [
        ("zh-CN", "所在省份应选“重庆”"),
        ("en", "the province should be Chongqing"),
    ] {
        let page = app.page(&format!("/register?lang={lang}"), "").await;
        assert!(
            page.text.contains("/static/register.js"),
            "the hint script is linked"
        );
        let cookies = cookies_from(&page.headers);
        let csrf = input_value(&page.text, "_csrf").unwrap();
        let email = format!("cq-{lang}@example.cn");
        let r = app
            .form(
                "/register",
                &cookies,
                &[
                    ("_csrf", &csrf),
                    ("email", &email),
                    ("password", PASSWORD),
                    ("display_name", "重庆用户"),
                    ("organization.name", "示例重庆企业"),
                    ("organization.kind", "enterprise"),
                    ("organization.province", "sichuan"),
                    ("organization.exchange", "cquaee"),
                    ("organization.credit_code", &code),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{lang}");
        let said_escaped = said.replace('“', "&#8220;");
        assert!(
            r.text.contains(said) || r.text.contains(&said_escaped),
            "{lang}: the mismatch is explained"
        );
        assert!(r.text.contains(
            r#"<select id="org_province" name="organization.province" aria-invalid="true">"#
        ));
        assert!(
            r.text.contains(r#"<option value="chongqing" selected>"#),
            "{lang}: the code's province is pre-selected"
        );
    }
}
