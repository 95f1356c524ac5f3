//! Drives the app in process (`oneshot`), like a client would over HTTP.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use techmarket::config::Config;
use techmarket::domain::codes::Exchange;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub app: Router,
    pub pool: PgPool,
    pub state: techmarket::http::AppState,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

#[derive(Clone)]
pub struct Member {
    pub token: String,
    pub user_id: String,
    pub org_id: String,
    pub email: String,
}

/// Valid credit codes for test organisations (computed per GB 32100).
pub fn credit_code(n: u32) -> String {
    let body = format!("91510100MA{:07}", n % 10_000_000);
    let check = techmarket::domain::credit_code::check_char(&body).unwrap();
    format!("{body}{check}")
}

/// A valid credit code registered in `province` (region 51 Sichuan, 50 Chongqing, 35 elsewhere):
/// registration refuses a Sichuan or Chongqing code filed under another province.
pub fn credit_code_in(province: &str, n: u32) -> String {
    let region = match province {
        "chongqing" => "50",
        "sichuan" => "51",
        _ => "35",
    };
    let body = format!("91{region}0100MA{:07}", n % 10_000_000);
    let check = techmarket::domain::credit_code::check_char(&body).unwrap();
    format!("{body}{check}")
}

impl TestApp {
    pub fn new(pool: PgPool) -> Self {
        let state = techmarket::startup::state(pool.clone(), Config::for_tests(""));
        let app = techmarket::http::app(state.clone());
        TestApp { app, pool, state }
    }

    /// An app whose services and jobs read the time from `clock` (a `Clock::manual` to move time
    /// past a deadline instead of back-dating rows).
    pub fn with_clock(pool: PgPool, clock: techmarket::service::Clock) -> Self {
        let mut state = techmarket::startup::state(pool.clone(), Config::for_tests(""));
        state.clock = clock;
        let app = techmarket::http::app(state.clone());
        TestApp { app, pool, state }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, uri, token, None).await
    }

    pub async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, uri, token, Some(body)).await
    }

    pub async fn register(
        &self,
        email: &str,
        kind: &str,
        province: &str,
        exchange: &str,
        code: Option<String>,
    ) -> Resp {
        let mut org = json!({"name": format!("测试机构 {email}"), "kind": kind, "province": province, "exchange": exchange});
        if let Some(c) = code {
            org["credit_code"] = json!(c);
        }
        self.post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "display_name": "测试用户", "organization": org}),
        )
        .await
    }

    /// Logs in through the API; for a user with two-factor sign-in, with a valid code computed from
    /// the stored secret (as their authenticator app would).
    pub async fn login(&self, email: &str, password: &str) -> Resp {
        let mut body = json!({"email": email, "password": password});
        if let Some(code) = otp_for(&self.pool, email).await {
            body["otp"] = json!(code);
        }
        self.post("/api/v1/auth/login", None, body).await
    }

    /// A registered, logged-in member (not verified).
    pub async fn member(&self, email: &str, exchange: &str) -> Member {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let province = Exchange::parse(exchange).unwrap().province().code();
        let r = self
            .register(
                email,
                "enterprise",
                province,
                exchange,
                Some(credit_code_in(province, n)),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "register {email}: {}",
            r.text
        );
        let l = self.login(email, PASSWORD).await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.text);
        Member {
            token: l.body["token"].as_str().unwrap().to_string(),
            user_id: r.body["user"]["id"].as_str().unwrap().to_string(),
            org_id: r.body["organization"]["id"].as_str().unwrap().to_string(),
            email: email.to_string(),
        }
    }

    /// A member whose organisation the home exchange has verified.
    pub async fn verified_member(&self, email: &str, exchange: &str) -> Member {
        let m = self.member(email, exchange).await;
        sqlx::query("update organizations set verified_at = now() where id = $1::uuid")
            .bind(&m.org_id)
            .execute(&self.pool)
            .await
            .unwrap();
        m
    }

    /// An invitation of `owner`'s organisation for `email` with `role` (`owner` | `member`), made
    /// through the API: the answer's body (`token` is the link's secret).
    pub async fn invite(&self, owner: &Member, email: &str, role: &str) -> Value {
        let r = self
            .post(
                "/api/v1/organization/invitations",
                Some(&owner.token),
                json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "invite {email}: {}", r.text);
        r.body
    }

    /// A colleague in `owner`'s organisation with `role`: invited by the owner, registered through
    /// the invitation and signed in.
    pub async fn colleague(&self, owner: &Member, email: &str, role: &str) -> Member {
        let inv = self.invite(owner, email, role).await;
        let r = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": "同事",
                       "invitation": inv["token"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "join {email}: {}", r.text);
        assert_eq!(
            r.body["organization"]["id"].as_str(),
            Some(owner.org_id.as_str())
        );
        let l = self.login(email, PASSWORD).await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.text);
        Member {
            token: l.body["token"].as_str().unwrap().to_string(),
            user_id: r.body["user"]["id"].as_str().unwrap().to_string(),
            org_id: owner.org_id.clone(),
            email: email.to_string(),
        }
    }

    /// An exchange administrator's token.
    pub async fn admin(&self, exchange: &str) -> String {
        let email = format!("admin-{exchange}@test.example");
        techmarket::service::accounts::create_admin(
            &self.pool,
            &email,
            Exchange::parse(exchange).unwrap(),
            PASSWORD,
            "管理员",
        )
        .await
        .unwrap();
        let l = self.login(&email, PASSWORD).await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.text);
        l.body["token"].as_str().unwrap().to_string()
    }

    /// A page, with cookies; returns status, headers and HTML.
    pub async fn page(&self, uri: &str, cookies: &str) -> Resp {
        let req = Request::builder()
            .uri(uri)
            .header(header::COOKIE, cookies)
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    pub async fn form(&self, uri: &str, cookies: &str, fields: &[(&str, &str)]) -> Resp {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }
}

/// `name=value` pairs of the Set-Cookie headers, joined for a Cookie header.
pub fn cookies_from(headers: &HeaderMap) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|kv| !kv.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The value of the first `<input name=...>` in the HTML.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(str::to_string)
}

/// Sends the sign-in form with `fields` (besides its CSRF token), as a fresh visitor would:
/// returns the answer and the visitor's cookies.
pub async fn send_login_form(app: &TestApp, fields: &[(&str, &str)]) -> (Resp, String) {
    let page = app.page("/login", "").await;
    let cookies = cookies_from(&page.headers);
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let mut all = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    (app.form("/login", &cookies, &all).await, cookies)
}

/// The current code of `email`'s authenticator, as its app would show it (`None` without two-factor
/// sign-in). A code is accepted once: when this step's (and the next one's) are used, it waits for
/// the next step, as a person would.
pub async fn otp_for(pool: &PgPool, email: &str) -> Option<String> {
    use techmarket::domain::otp;
    let row: Option<(Vec<u8>, i64)> = sqlx::query_as(
        "select f.secret, f.last_step from user_two_factor f join users u on u.id = f.user_id \
         where lower(u.email) = lower($1) and f.enabled_at is not null",
    )
    .bind(email.trim())
    .fetch_optional(pool)
    .await
    .ok()
    .flatten();
    let (secret, last_step) = row?;
    loop {
        let now = otp::step_of(chrono::Utc::now().timestamp());
        // This step's code first (it stays valid if the step ends before the server checks it),
        // then the next one's.
        if let Some(step) = [now, now + 1].into_iter().find(|s| *s > last_step) {
            return otp::code_at_step(&secret, step);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Logs a user into the pages through the login form (with their authenticator's code if they use
/// two-factor sign-in); returns the cookies to send after.
pub async fn web_login(app: &TestApp, email: &str) -> String {
    let code = otp_for(&app.pool, email).await.unwrap_or_default();
    let (r, cookies) = send_login_form(
        app,
        &[("email", email), ("password", PASSWORD), ("otp", &code)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    format!("{cookies}; {}", cookies_from(&r.headers))
}

impl TestApp {
    /// Opens a listing's live auction stream (server-sent events), signed in with `cookies` or not.
    pub async fn auction_events(
        &self,
        id: impl std::fmt::Display,
        cookies: Option<&str>,
    ) -> axum::response::Response {
        let mut req = Request::builder().uri(format!("/listings/{id}/auction/events"));
        if let Some(c) = cookies {
            req = req.header(header::COOKIE, c);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp
    }
}

/// The next frame of a live stream as text; fails if none comes within five seconds.
pub async fn next_event(body: &mut Body) -> String {
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), body.frame())
        .await
        .expect("an event within a few seconds")
        .unwrap()
        .unwrap();
    let bytes = frame.data_ref().map(|d| d.to_vec()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).to_string()
}
