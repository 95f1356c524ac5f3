use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::db;
use crate::error::{Error, Result};
use crate::http::context::{expired, CookieNames, PageCtx};
use crate::http::extract::{ClientAddr, Ctx, Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, safe_next, FormErrors};
use crate::service::accounts::{self, Me, OrgInput, RegisterInput, SessionKind};
use crate::service::two_factor::SecondFactor;

#[derive(Template)]
#[template(path = "accounts/register.html")]
struct RegisterPage {
    ctx: PageCtx,
    form: Vec<(String, String)>,
    errors: FormErrors,
    message: String,
}

impl RegisterPage {
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn selected(&self, name: &str, value: &str) -> bool {
        self.value(name) == value
    }
}

pub async fn register_page(Ctx(ctx, _): Ctx) -> Result<Response> {
    render(&RegisterPage {
        ctx,
        form: vec![("organization.province".into(), "sichuan".into())],
        errors: FormErrors::default(),
        message: String::new(),
    })
}

pub(crate) fn session_cookie(state: &AppState, secret: String) -> Result<HeaderValue> {
    let name = CookieNames::new(state.config.cookie_secure).session;
    let c = Cookie::build((name, secret))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(cookie::time::Duration::days(accounts::WEB_SESSION_DAYS))
        .build();
    HeaderValue::from_str(&c.to_string()).map_err(|e| Error::Internal(e.into()))
}

pub async fn register_submit(
    State(state): State<AppState>,
    Ctx(ctx, r): Ctx,
    ClientAddr(client): ClientAddr,
    form: Form,
) -> Result<Response> {
    let credit = form.get("organization.credit_code").trim().to_string();
    // A code registered in Sichuan or Chongqing pre-selects its province if the form comes back.
    let named = crate::domain::credit_code::region_province(&credit);
    let input = RegisterInput {
        email: form.get("email").to_string(),
        password: form.get("password").to_string(),
        display_name: form.get("display_name").to_string(),
        organization: Some(OrgInput {
            name: form.get("organization.name").to_string(),
            kind: form.get("organization.kind").to_string(),
            province: form.get("organization.province").to_string(),
            exchange: form.get("organization.exchange").to_string(),
            credit_code: (!credit.is_empty()).then_some(credit),
        }),
        invitation: None,
    };
    let password = input.password.clone();
    let email = input.email.clone();
    match accounts::register(&state, input).await {
        Ok(_) => {
            if let Some(old) = r.session_secret {
                accounts::logout(&state.pool, &old).await?;
            }
            let l = accounts::login(
                &state.pool,
                &email,
                &password,
                SecondFactor::default(),
                &client,
                SessionKind::Web,
            )
            .await?;
            let mut resp = Redirect::to("/account?welcome=1").into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, l.secret)?);
            Ok(resp)
        }
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let message = match &e {
                Error::Conflict { .. } => {
                    crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string()
                }
                _ => ctx.t("form.fix_errors").to_string(),
            };
            let errors = FormErrors::from_error(ctx.lang, &e);
            let form_values = form
                .0
                .into_iter()
                .filter(|(k, _)| k != "password" && k != "_csrf")
                .map(|(k, v)| match named {
                    Some(p) if k == "organization.province" => (k, p.code().to_string()),
                    _ => (k, v),
                })
                .collect();
            let mut resp = render(&RegisterPage {
                ctx,
                form: form_values,
                errors,
                message,
            })?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    message: String,
    /// The password was right and a two-factor code is needed (the code fields come first).
    ask_code: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(Ctx(ctx, _): Ctx, Query(q): Query<NextQuery>) -> Result<Response> {
    render(&LoginPage {
        ctx,
        email: String::new(),
        next: q.next.as_deref().and_then(safe_next).unwrap_or_default(),
        message: String::new(),
        ask_code: false,
    })
}

pub async fn login_submit(
    State(state): State<AppState>,
    Ctx(ctx, r): Ctx,
    ClientAddr(client): ClientAddr,
    form: Form,
) -> Result<Response> {
    let email = form.get("email").trim().to_string();
    let next = safe_next(form.get("next"));
    match accounts::login(
        &state.pool,
        &email,
        form.get("password"),
        SecondFactor {
            otp: Some(form.get("otp")),
            recovery_code: Some(form.get("recovery_code")),
        },
        &client,
        SessionKind::Web,
    )
    .await
    {
        Ok(l) => {
            // A new session at every login (no fixation); the old one ends.
            if let Some(old) = r.session_secret {
                accounts::logout(&state.pool, &old).await?;
            }
            // Without a page to return to, administrators land on what waits for them.
            let next = next.unwrap_or_else(|| {
                if l.user.role == crate::domain::codes::Role::Admin.code() {
                    "/admin".into()
                } else {
                    "/account".into()
                }
            });
            let mut resp = Redirect::to(&next).into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&state, l.secret)?);
            Ok(resp)
        }
        Err(e @ (Error::Unauthorized(_) | Error::TooManyRequests | Error::Busy)) => {
            let message = crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string();
            let ask_code = e.code() == "otp_required";
            let mut resp = render(&LoginPage {
                ctx,
                email,
                next: next.unwrap_or_default(),
                message,
                ask_code,
            })?;
            *resp.status_mut() = e.status();
            if matches!(e, Error::Busy) {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    Ctx(_, r): Ctx,
    _form: Form,
) -> Result<Response> {
    if let Some(secret) = r.session_secret {
        accounts::logout(&state.pool, &secret).await?;
    }
    let mut resp = Redirect::to("/").into_response();
    let secure = state.config.cookie_secure;
    let name = CookieNames::new(secure).session;
    if let Ok(v) = HeaderValue::from_str(&expired(name, secure).to_string()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    ctx: PageCtx,
    me: Me,
    welcome: bool,
}

impl AccountPage {
    fn org_role_name(&self) -> &'static str {
        let code = self.me.organization_role.as_deref().unwrap_or_default();
        self.ctx.name_of::<crate::domain::codes::OrgRole>(code)
    }
}

#[derive(Deserialize)]
pub struct WelcomeQuery {
    welcome: Option<String>,
}

pub async fn account(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Query(q): Query<WelcomeQuery>,
) -> Result<Response> {
    let me = accounts::me(&state.pool, &user, state.clock.now()).await?;
    render(&AccountPage {
        ctx,
        me,
        welcome: q.welcome.is_some(),
    })
}

#[derive(Template)]
#[template(path = "accounts/inbox.html")]
struct InboxPage {
    ctx: PageCtx,
    items: Vec<db::notifications::NotificationRow>,
}

impl InboxPage {
    fn title<'a>(&self, n: &'a db::notifications::NotificationRow) -> &'a str {
        if self.ctx.is_zh() {
            &n.title_zh
        } else {
            &n.title_en
        }
    }
    fn body<'a>(&self, n: &'a db::notifications::NotificationRow) -> &'a str {
        if self.ctx.is_zh() {
            &n.body_zh
        } else {
            &n.body_en
        }
    }
}

pub async fn inbox(State(state): State<AppState>, WebUser(user, ctx): WebUser) -> Result<Response> {
    let items = crate::service::notifications::latest(&state.pool, &user).await?;
    render(&InboxPage { ctx, items })
}

pub async fn inbox_read(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    _form: Form,
) -> Result<Response> {
    crate::service::notifications::mark_all_read(&state.pool, &user).await?;
    Ok(Redirect::to("/inbox").into_response())
}
