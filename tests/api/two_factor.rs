//! Two-factor sign-in (TOTP, RFC 6238): mandatory for administrators, optional for members; codes
//! accepted once, recovery codes once, wrong codes throttled like wrong passwords.
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::domain::codes::Exchange;
use techmarket::domain::otp;

use crate::helpers::*;

async fn login_with(app: &TestApp, email: &str, extra: Value) -> Resp {
    let mut body = json!({"email": email, "password": PASSWORD});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/api/v1/auth/login", None, body).await
}

async fn secret_of(pool: &PgPool, email: &str) -> Vec<u8> {
    sqlx::query_scalar(
        "select f.secret from user_two_factor f join users u on u.id = f.user_id where u.email = $1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap()
}

fn code_now(secret: &[u8]) -> String {
    otp::code_at_step(secret, otp::step_of(chrono::Utc::now().timestamp())).unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn an_administrator_cannot_sign_in_without_the_authenticator(pool: PgPool) {
    let app = TestApp::new(pool);
    let email = "admin-2fa@test.example";
    let created = techmarket::service::accounts::create_admin(
        &app.pool,
        email,
        Exchange::Cquaee,
        PASSWORD,
        "管理员",
    )
    .await
    .unwrap();
    assert!(created
        .two_factor
        .otpauth_uri
        .starts_with("otpauth://totp/techmarket:"));
    assert_eq!(created.two_factor.recovery_codes.len(), 10);

    // Without a code: 401 otp_required (the password was right, so no failure is counted).
    let r = login_with(&app, email, json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("otp_required"));
    // A wrong password is still just that.
    let r = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": "wrong password!!", "otp": "000000"}),
        )
        .await;
    assert_eq!(r.body["error"]["code"], json!("invalid_credentials"));

    // A valid code: a token that works.
    let secret = secret_of(&app.pool, email).await;
    let code = code_now(&secret);
    let r = login_with(&app, email, json!({"otp": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/v1/me", Some(&token)).await.status,
        StatusCode::OK
    );

    // The same code again, within its window: refused.
    let r = login_with(&app, email, json!({"otp": code})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("otp_required"));

    // A recovery code works once.
    let recovery = created.two_factor.recovery_codes[3].clone();
    let r = login_with(
        &app,
        email,
        json!({"recovery_code": recovery.to_lowercase()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = login_with(&app, email, json!({"recovery_code": recovery})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("otp_required"));
    let r = login_with(&app, email, json!({"recovery_code": "AAAAA-BBBBB"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "./migrations")]
async fn wrong_codes_count_toward_the_login_throttle(pool: PgPool) {
    let app = TestApp::new(pool);
    let email = "admin-guess@test.example";
    techmarket::service::accounts::create_admin(
        &app.pool,
        email,
        Exchange::Suaee,
        PASSWORD,
        "管理员",
    )
    .await
    .unwrap();
    let secret = secret_of(&app.pool, email).await;
    let now = otp::step_of(chrono::Utc::now().timestamp());
    let valid: Vec<String> = (now - 1..=now + 1)
        .map(|s| otp::code_at_step(&secret, s).unwrap())
        .collect();
    let mut wrong = (0..)
        .map(|i| format!("{:06}", (i * 7919) % 1_000_000))
        .filter(|c| !valid.contains(c));
    for _ in 0..10 {
        let r = login_with(&app, email, json!({"otp": wrong.next().unwrap()})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    }
    // Ten failures: now even the right password and code are refused for a while.
    let r = login_with(&app, email, json!({"otp": code_now(&secret)})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_member_turns_it_on_with_the_qr_code_and_gets_ten_recovery_codes(pool: PgPool) {
    let app = TestApp::new(pool);
    let m = app.verified_member("careful@example.cn", "suaee").await;
    let cookies = web_login(&app, &m.email).await;
    // Optional for members: signing in needs no code yet.
    assert_eq!(app.login(&m.email, PASSWORD).await.status, StatusCode::OK);

    let page = app.page("/account/two-factor", &cookies).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let doc = scraper::Html::parse_document(&page.text);
    let qr = scraper::Selector::parse("figure.qr svg path").unwrap();
    assert_eq!(doc.select(&qr).count(), 1, "the QR code of the otpauth URI");
    let sel = scraper::Selector::parse("code.secret").unwrap();
    let shown = doc.select(&sel).next().unwrap().text().collect::<String>();
    let secret = secret_of(&app.pool, &m.email).await;
    assert_eq!(shown, otp::secret_base32(&secret));
    let csrf = input_value(&page.text, "_csrf").unwrap();

    // A wrong code: refused, still off.
    let r = app
        .form(
            "/account/two-factor",
            &cookies,
            &[("_csrf", &csrf), ("action", "confirm"), ("otp", "12345")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(app.login(&m.email, PASSWORD).await.status, StatusCode::OK);

    let r = app
        .form(
            "/account/two-factor",
            &cookies,
            &[
                ("_csrf", &csrf),
                ("action", "confirm"),
                ("otp", &code_now(&secret)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let doc = scraper::Html::parse_document(&r.text);
    let sel = scraper::Selector::parse(".recovery-codes code").unwrap();
    let codes: Vec<String> = doc.select(&sel).map(|e| e.text().collect()).collect();
    assert_eq!(codes.len(), 10, "{}", r.text);
    let stored: Vec<Vec<u8>> = sqlx::query_scalar(
        "select r.code_hash from user_recovery_codes r join users u on u.id = r.user_id where u.email = $1",
    )
    .bind(&m.email)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(
        stored.contains(&otp::recovery_hash(&codes[0])),
        "stored hashed"
    );
    assert!(!stored.iter().any(|h| h == codes[0].as_bytes()));

    // Now signing in asks for the code, through the API and the page.
    let r = login_with(&app, &m.email, json!({})).await;
    assert_eq!(r.body["error"]["code"], json!("otp_required"));
    let (page, _) = send_login_form(&app, &[("email", &m.email), ("password", PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text.contains("请输入 6 位动态验证码"), "{}", page.text);
    let r = login_with(&app, &m.email, json!({"recovery_code": codes[9]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The page login with a code (computed as the app would).
    let c = web_login(&app, &m.email).await;
    assert_eq!(app.page("/account", &c).await.status, StatusCode::OK);
}

#[sqlx::test(migrations = "./migrations")]
async fn an_administrator_signs_in_on_the_login_page_with_the_code_and_cannot_turn_it_off(
    pool: PgPool,
) {
    let app = TestApp::new(pool);
    let _token = app.admin("nttc_sw").await;
    let email = "admin-nttc_sw@test.example";
    let (r, _) = send_login_form(&app, &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let cookies = web_login(&app, email).await;
    let page = app.page("/account/two-factor?lang=en", &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("must use two-factor sign-in"),
        "{}",
        page.text
    );
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let code = otp_for(&app.pool, email).await.unwrap();
    let r = app
        .form(
            "/account/two-factor",
            &cookies,
            &[("_csrf", &csrf), ("action", "disable"), ("otp", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let left: i64 = sqlx::query_scalar(
        "select count(*) from user_two_factor f join users u on u.id = f.user_id where u.email = $1",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(left, 1, "still on");
}
