//! Bad input of every kind gets a clear 4xx in our format and changes nothing.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

async fn raw(app: &TestApp, uri: &str, content_type: &str, body: Vec<u8>) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

#[sqlx::test(migrations = "./migrations")]
async fn malformed_json_is_400_in_the_error_format(pool: PgPool) {
    let app = TestApp::new(pool);
    for body in [
        &b"{"[..],
        b"not json",
        b"{\"email\": \"a\"",
        &[0xff, 0xfe, 0x7b, 0x7d],
    ] {
        let r = raw(
            &app,
            "/api/v1/auth/register",
            "application/json",
            body.to_vec(),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", body);
        assert_eq!(r.body["error"]["code"], json!("malformed_json"));
        assert!(r.body["error"]["message"].is_string());
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn wrong_types_and_missing_fields_are_named(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": 5, "password": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["email"].is_string(), "{}", r.text);
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "a@b.cn", "password": "abcdefghijklmn", "display_name": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body["error"]["fields"]["organization"].is_string(),
        "{}",
        r.text
    );
    let r = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "a@b.cn", "password": "abcdefghijklmn", "display_name": "x",
            "organization": {"name": "n", "kind": 3, "province": "sichuan", "exchange": "suaee"}}),
        )
        .await;
    assert!(
        r.body["error"]["fields"]["organization.kind"].is_string(),
        "{}",
        r.text
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn bodies_over_one_mebibyte_are_413(pool: PgPool) {
    let app = TestApp::new(pool);
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(1_100_000));
    let r = raw(
        &app,
        "/api/v1/auth/register",
        "application/json",
        big.into_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.body["error"]["code"], json!("payload_too_large"));
    // A form too.
    let r = raw(
        &app,
        "/login",
        "application/x-www-form-urlencoded",
        vec![b'a'; 1_100_000],
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[sqlx::test(migrations = "./migrations")]
async fn a_body_that_is_not_json_is_400(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = raw(
        &app,
        "/api/v1/auth/login",
        "text/plain",
        b"email=x".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["code"], json!("json_required"));
}

#[sqlx::test(migrations = "./migrations")]
async fn malformed_utf8_in_a_form_is_400(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = raw(
        &app,
        "/login",
        "application/x-www-form-urlencoded",
        b"email=%ff%fe&password=x".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("<html"));
}

/// PostgreSQL cannot store a NUL character: wherever one arrives (JSON `\u0000`, a form's `%00`),
/// the answer is a 400 that names the problem, and nothing is stored.
#[sqlx::test(migrations = "./migrations")]
async fn nul_characters_are_400_and_change_nothing(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.login("a\u{0}@example.cn", "whatever password").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("invalid_characters"));
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("字符"));

    let m = app.verified_member("nul@example.cn", "suaee").await;
    let r = app
        .post(
            "/api/v1/demands",
            Some(&m.token),
            json!({"title": "寻求自动紧急制动算法", "description": "含有\u{0}空字符", "field": "auto",
                   "keywords": ["AEB\u{0}"]}),
        )
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    let n: i64 = sqlx::query_scalar("select count(*) from demands")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);

    // The same through the sign-in form (with its CSRF token, so the text reaches the database).
    let (r, _) = send_login_form(&app, &[("email", "a\u{0}b"), ("password", "x")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("空字符"), "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn injection_strings_are_data(pool: PgPool) {
    let app = TestApp::new(pool);
    let evil = "'; drop table users; --";
    let r = app.login(evil, evil).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .register("x@example.cn", "individual", "other", "suaee", None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let n: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[sqlx::test(migrations = "./migrations")]
async fn unknown_api_routes_are_404_json_and_pages_404_html(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.get("/api/v1/does-not-exist", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"]["code"], json!("not_found"));
    let r = app.page("/no/such/page", "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("页面不存在"));
    let r = app.page("/no/such/page?lang=en", "").await;
    assert!(r.text.contains("Not found"));
    // A wrong method under the API: our format too.
    let r = app
        .call(Method::DELETE, "/api/v1/auth/login", None, None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.body["error"]["code"].is_string(), "{}", r.text);
}

#[sqlx::test(migrations = "./migrations")]
async fn security_headers_are_on_every_response(pool: PgPool) {
    let app = TestApp::new(pool);
    for uri in ["/", "/api/v1/me", "/healthz", "/nope"] {
        let r = app.page(uri, "").await;
        let csp = r
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{uri}: {csp}"
        );
        assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert!(r.headers.get("referrer-policy").is_some());
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn health_and_readiness(pool: PgPool) {
    let app = TestApp::new(pool);
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_openapi_document_covers_every_api_route(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/admin/organizations/{id}/verify",
        "/api/v1/admin/audit",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
}
