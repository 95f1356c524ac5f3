//! Registration, login and logout for the API (bearer tokens) and the pages (session cookies).
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::{password, token, CurrentUser};
use crate::db;
use crate::domain::codes::{Exchange, OrgKind, OrgRole, Province, Role};
use crate::domain::credit_code::CreditCode;
use crate::domain::error::{check_text, ErrorKey, FieldErrors};
use crate::error::{Error, OnConstraint, Result};
use crate::service::two_factor::{self, Outcome, SecondFactor};
use crate::service::AppState;

pub const API_TOKEN_DAYS: i64 = 30;
pub const WEB_SESSION_DAYS: i64 = 14;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// The new organisation; left out when joining one with `invitation`.
    pub organization: Option<OrgInput>,
    /// The secret of an invitation link (`/join/{token}`): the account joins the inviting
    /// organisation (in place of `organization`). 409 `invitation_invalid` when it was used, has
    /// expired, was revoked or is for another e-mail address.
    pub invitation: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OrgInput {
    pub name: String,
    /// university | institute | enterprise | individual
    pub kind: String,
    /// sichuan | chongqing | other
    pub province: String,
    /// suaee | cdipex | nttc_sw | cquaee
    pub exchange: String,
    /// 统一社会信用代码; required unless kind is `individual`.
    pub credit_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub province: String,
    pub exchange: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
    pub verified: bool,
    /// Set while a credit restriction (信用惩戒) holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restriction: Option<RestrictionView>,
    /// The trades this organisation, as buyer, cancelled or left unpaid past the payment deadline
    /// in the last 90 days (API.md `organization.cancellations_90d`; shown to the organisation
    /// itself, to sellers and to admins; absent where it is not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellations_90d: Option<i64>,
    /// Why its exchange refused to verify it, while it is unverified (for the administrators'
    /// pages; not part of the API's object).
    #[serde(skip)]
    pub refusal: Option<Refusal>,
}

/// An exchange's refusal to verify an organisation.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub at: chrono::DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RestrictionView {
    pub reason: String,
    pub until: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Registered {
    pub user: UserView,
    pub organization: OrgView,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user: UserView,
    pub organization: Option<OrgView>,
    /// The caller's role in their organisation: `owner` | `member` (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_role: Option<String>,
}

impl From<&db::users::UserRow> for UserView {
    fn from(u: &db::users::UserRow) -> Self {
        UserView {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: Role::parse(&u.role).unwrap_or(Role::Member),
            exchange: u.admin_exchange.as_deref().and_then(Exchange::parse),
        }
    }
}

impl From<&db::organizations::OrgRow> for OrgView {
    fn from(o: &db::organizations::OrgRow) -> Self {
        OrgView {
            id: o.id,
            name: o.name.clone(),
            kind: o.kind.clone(),
            province: o.province.clone(),
            exchange: o.exchange.clone(),
            credit_code: o.credit_code.clone(),
            verified: o.verified_at.is_some(),
            restriction: o.restricted_reason.as_ref().map(|r| RestrictionView {
                reason: r.clone(),
                until: o.restricted_until,
            }),
            cancellations_90d: None,
            refusal: match (o.verified_at, o.refused_at, &o.refused_reason) {
                (None, Some(at), Some(reason)) => Some(Refusal {
                    at,
                    reason: reason.clone(),
                }),
                _ => None,
            },
        }
    }
}

impl From<&db::users::UserRow> for CurrentUser {
    fn from(u: &db::users::UserRow) -> Self {
        CurrentUser {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: Role::parse(&u.role).unwrap_or(Role::Member),
            organization_id: u.organization_id,
            org_role: u.org_role.as_deref().and_then(OrgRole::parse),
            admin_exchange: u.admin_exchange.as_deref().and_then(Exchange::parse),
            api_key: None,
        }
    }
}

/// A plausible e-mail address: one `@`, something on each side, a dot in the domain, no spaces.
pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        }
        None => false,
    }
}

pub fn check_password(password: &str, path: &str, errs: &mut FieldErrors) {
    let n = password.chars().count();
    if n < 12 {
        errs.push(path, "err.password.short", vec![("min", "12".into())]);
    } else if n > 128 {
        errs.push(path, "err.password.long", vec![("max", "128".into())]);
    }
}

struct ValidRegistration {
    email: String,
    display_name: String,
    joins: Joins,
}

/// What a new account belongs to.
enum Joins {
    NewOrg(ValidOrg),
    Invitation(String),
}

struct ValidOrg {
    org_name: String,
    kind: OrgKind,
    province: Province,
    exchange: Exchange,
    credit_code: Option<CreditCode>,
}

fn validate(input: &RegisterInput) -> std::result::Result<ValidRegistration, FieldErrors> {
    let mut errs = FieldErrors::default();
    if !valid_email(&input.email) {
        errs.push("email", "err.email.invalid", vec![]);
    }
    check_password(&input.password, "password", &mut errs);
    check_text(&input.display_name, "display_name", 1, 100, &mut errs);
    let invitation = input
        .invitation
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let joins = match (invitation, &input.organization) {
        (Some(_), Some(_)) => {
            errs.push("organization", "err.organization.with_invitation", vec![]);
            None
        }
        (Some(t), None) => Some(Joins::Invitation(t.to_string())),
        (None, Some(o)) => validate_org(o, &mut errs).map(Joins::NewOrg),
        (None, None) => {
            errs.push("organization", "err.organization.required", vec![]);
            None
        }
    };
    errs.into_result()?;
    match joins {
        Some(joins) => Ok(ValidRegistration {
            email: input.email.trim().to_string(),
            display_name: input.display_name.clone(),
            joins,
        }),
        None => Err(FieldErrors::default()),
    }
}

fn validate_org(o: &OrgInput, errs: &mut FieldErrors) -> Option<ValidOrg> {
    check_text(&o.name, "organization.name", 2, 200, errs);
    let kind = OrgKind::parse(&o.kind);
    if kind.is_none() {
        errs.push(
            "organization.kind",
            "err.code.unknown",
            vec![("value", o.kind.clone())],
        );
    }
    let province = Province::parse(&o.province);
    if province.is_none() {
        errs.push(
            "organization.province",
            "err.code.unknown",
            vec![("value", o.province.clone())],
        );
    }
    let exchange = Exchange::parse(&o.exchange);
    if exchange.is_none() {
        errs.push(
            "organization.exchange",
            "err.code.unknown",
            vec![("value", o.exchange.clone())],
        );
    }
    let code_text = o
        .credit_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let credit_code = match (kind, code_text) {
        (_, Some(text)) => match CreditCode::parse(text) {
            Ok(c) => Some(c),
            Err(e) => {
                errs.push("organization.credit_code", e.key(), e.args());
                None
            }
        },
        (Some(OrgKind::Individual), None) => None,
        (_, None) => {
            errs.push(
                "organization.credit_code",
                "err.credit_code.required",
                vec![],
            );
            None
        }
    };
    // A code registered in Sichuan (51) or Chongqing (50) fixes the province: refused, not filed
    // silently under the other one (other regions, such as the central level, are not checked).
    if let (Some(chosen), Some(named)) = (
        province,
        credit_code.as_ref().and_then(CreditCode::region_province),
    ) {
        if chosen != named {
            let key = match named {
                Province::Chongqing => "err.credit_code.region_chongqing",
                _ => "err.credit_code.region_sichuan",
            };
            errs.push("organization.province", key, vec![]);
        }
    }
    match (kind, province, exchange) {
        (Some(kind), Some(province), Some(exchange)) => Some(ValidOrg {
            org_name: o.name.clone(),
            kind,
            province,
            exchange,
            credit_code,
        }),
        _ => None,
    }
}

/// Creates the member and the organisation (unverified), whose owner they are; or, with an
/// invitation, the member of the inviting organisation.
#[tracing::instrument(skip_all)]
pub async fn register(state: &AppState, input: RegisterInput) -> Result<Registered> {
    let v = validate(&input)?;
    let o = match v.joins {
        Joins::NewOrg(o) => o,
        Joins::Invitation(secret) => {
            return crate::service::organization::register_invited(
                state,
                &v.email,
                &v.display_name,
                input.password,
                &secret,
            )
            .await
        }
    };
    let hash = password::hash(input.password.clone())
        .await
        .map_err(hashing_failed)?;
    let org_id = Uuid::now_v7();
    let user_id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    db::organizations::insert(
        &mut tx,
        &db::organizations::NewOrg {
            id: org_id,
            name: &o.org_name,
            kind: o.kind.code(),
            province: o.province.code(),
            exchange: o.exchange.code(),
            credit_code: o.credit_code.as_ref().map(|c| c.as_str()),
        },
    )
    .await
    .on_constraint("organizations_credit_code_key", "duplicate_credit_code")?;
    // Its exchange's administrators are told it waits (rolled back with the rest if the member
    // cannot be created).
    let registered =
        crate::service::events::Event::Organization(crate::service::events::OrganizationStep {
            organization_id: org_id,
            name: o.org_name.clone(),
            exchange: o.exchange.code().to_string(),
            what: crate::service::events::OrganizationWhat::Registered,
        });
    crate::service::events::emit(&mut tx, &registered).await?;
    db::users::insert(
        &mut tx,
        &db::users::NewUser {
            id: user_id,
            email: &v.email,
            password_hash: &hash,
            display_name: &v.display_name,
            role: Role::Member.code(),
            organization_id: Some(org_id),
            // The first member of an organisation is its owner.
            org_role: Some(OrgRole::Owner.code()),
            admin_exchange: None,
        },
    )
    .await
    .on_constraint("users_email_key", "duplicate_email")?;
    let user = db::users::get(&mut tx, user_id)
        .await?
        .ok_or(Error::NotFound)?;
    let org = db::organizations::get(&mut tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(Registered {
        user: UserView::from(&user),
        organization: OrgView::from(&org),
    })
}

/// Makes an exchange administrator (command line only). Prints nothing; returns the id.
pub async fn create_admin(
    pool: &PgPool,
    email: &str,
    exchange: Exchange,
    password_text: &str,
    display_name: &str,
) -> Result<AdminCreated> {
    let mut errs = FieldErrors::default();
    if !valid_email(email) {
        errs.push("email", "err.email.invalid", vec![]);
    }
    check_password(password_text, "password", &mut errs);
    errs.into_result()?;
    let hash = password::hash(password_text.to_string())
        .await
        .map_err(hashing_failed)?;
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    db::users::insert(
        &mut tx,
        &db::users::NewUser {
            id,
            email: email.trim(),
            password_hash: &hash,
            display_name,
            role: Role::Admin.code(),
            organization_id: None,
            org_role: None,
            admin_exchange: Some(exchange.code()),
        },
    )
    .await
    .on_constraint("users_email_key", "duplicate_email")?;
    // Two-factor sign-in is mandatory for administrators: the secret comes with the account.
    let two_factor = two_factor::issue(&mut tx, id, email.trim(), Utc::now()).await?;
    tx.commit().await?;
    Ok(AdminCreated { id, two_factor })
}

/// A new administrator: the id, and the authenticator URI and recovery codes to hand over (shown once).
#[derive(Debug, Clone)]
pub struct AdminCreated {
    pub id: Uuid,
    pub two_factor: two_factor::Issued,
}

pub struct LoggedIn {
    /// The secret, shown once: the bearer token or the session cookie value.
    pub secret: String,
    pub csrf: Option<String>,
    pub user: db::users::UserRow,
}

/// A failure of the hashing threads: their queue is full (503, try again), or something broke.
pub(crate) fn hashing_failed(e: anyhow::Error) -> Error {
    if e.is::<password::Busy>() {
        Error::Busy
    } else {
        Error::Internal(e)
    }
}

/// How long a login may wait for earlier attempts' password checks before it is told to retry.
const THROTTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// How long a login refused for too many failures waits before its 429 is sent, holding no
/// connection. A client that guesses as fast as it is answered (a flood) is slowed to one guess per
/// second per connection, so it cannot take the machine from everyone else (issue 23: a login flood
/// raises the listing scenario's p99 by at most 2×); a person who is refused waits a second more.
const REFUSAL_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Checks the password and opens a session. Throttled per e-mail and per client address: only
/// failures count (API.md). An attempt is written `pending` first; if the failures before it
/// already reach the limit it is refused (429) unchecked; if earlier attempts still being checked
/// could reach it, it waits for them, so that neither parallel guesses get past the limit nor a
/// correct login is refused for others' pending hashes. Its answer (200, 401) is given only when
/// it is certainly within the limit.
#[tracing::instrument(skip(pool, password_text))]
pub async fn login(
    pool: &PgPool,
    email: &str,
    password_text: &str,
    second: SecondFactor<'_>,
    client: &str,
    kind: SessionKind,
) -> Result<LoggedIn> {
    let email_key = email.trim().to_lowercase();
    let mut conn = pool.acquire().await?;
    let attempt = db::throttle::begin_attempt(&mut conn, &email_key, client).await?;
    let deadline = std::time::Instant::now() + THROTTLE_WAIT;
    loop {
        let earlier = db::throttle::earlier(&mut conn, attempt, &email_key, client).await?;
        if earlier.over() {
            db::throttle::forget_attempt(&mut conn, attempt).await?;
            drop(conn);
            tokio::time::sleep(REFUSAL_DELAY).await;
            return Err(Error::TooManyRequests);
        }
        if earlier.certain() {
            break;
        }
        if std::time::Instant::now() > deadline {
            db::throttle::forget_attempt(&mut conn, attempt).await?;
            return Err(Error::Busy);
        }
        // Wait without holding a connection: the attempts waited for need theirs.
        drop(conn);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        conn = pool.acquire().await?;
    }
    let found = if email_key.len() <= 254 && password_text.chars().count() <= 1024 {
        db::users::find_for_login(&mut conn, &email_key).await?
    } else {
        None
    };
    let (user, stored) = match found {
        Some((u, h)) => (Some(u), Some(h)),
        None => (None, None),
    };
    drop(conn);
    let checked = password::verify(password_text.chars().take(1024).collect(), stored).await;
    let mut conn = pool.acquire().await?;
    let ok = match checked {
        Ok(ok) => ok,
        Err(e) => {
            db::throttle::forget_attempt(&mut conn, attempt).await?;
            return Err(hashing_failed(e));
        }
    };
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            db::throttle::record_failure(&mut conn, attempt).await?;
            return Err(Error::Unauthorized("invalid_credentials"));
        }
    };
    // The second factor, once the password is right: a wrong code is a failed login; no code at
    // all is not (the client is asked for one).
    match two_factor::check(&mut conn, &user, second, Utc::now()).await? {
        Outcome::NotRequired | Outcome::Passed => {}
        Outcome::Missing => {
            db::throttle::forget_attempt(&mut conn, attempt).await?;
            return Err(Error::Unauthorized("otp_required"));
        }
        Outcome::Wrong => {
            db::throttle::record_failure(&mut conn, attempt).await?;
            return Err(Error::Unauthorized("otp_required"));
        }
    }
    db::throttle::forget_attempt(&mut conn, attempt).await?;
    let secret = token::generate(kind.prefix());
    let csrf = match kind {
        SessionKind::Web => Some(token::generate("c_")),
        SessionKind::Api => None,
    };
    let days = match kind {
        SessionKind::Api => API_TOKEN_DAYS,
        SessionKind::Web => WEB_SESSION_DAYS,
    };
    db::users::insert_session(
        &mut conn,
        &token::hash(&secret),
        user.id,
        kind.code(),
        csrf.as_deref(),
        Utc::now() + Duration::days(days),
    )
    .await?;
    Ok(LoggedIn { secret, csrf, user })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Api,
    Web,
}

impl SessionKind {
    pub fn code(self) -> &'static str {
        match self {
            SessionKind::Api => "api",
            SessionKind::Web => "web",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            SessionKind::Api => "tm_",
            SessionKind::Web => "s_",
        }
    }
}

/// The key that binds a visitor's CSRF token to their cookie: one per database (all processes share
/// it, kept in `server_secrets`), read once per process.
async fn csrf_key(pool: &PgPool) -> Result<std::sync::Arc<Vec<u8>>> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};
    static KEYS: LazyLock<Mutex<HashMap<String, Arc<Vec<u8>>>>> = LazyLock::new(Default::default);
    let name = db::database_key(pool);
    if let Some(k) = KEYS.lock().ok().and_then(|m| m.get(&name).cloned()) {
        return Ok(k);
    }
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut fresh);
    let mut conn = pool.acquire().await?;
    let key = Arc::new(db::secrets::get_or_create(&mut conn, "csrf", &fresh).await?);
    if let Ok(mut m) = KEYS.lock() {
        m.insert(name, Arc::clone(&key));
    }
    Ok(key)
}

/// The form token of a visitor who is not signed in, bound to the nonce in their cookie.
pub async fn visitor_csrf(pool: &PgPool, nonce: &str) -> Result<String> {
    Ok(token::bind(&csrf_key(pool).await?, nonce))
}

pub async fn logout(pool: &PgPool, secret: &str) -> Result<()> {
    let mut conn = pool.acquire().await?;
    db::users::delete_session(&mut conn, &token::hash(secret)).await?;
    Ok(())
}

/// The user behind a secret, with CSRF token and unread count (web) — or None.
pub async fn resolve(
    pool: &PgPool,
    secret: &str,
    kind: SessionKind,
) -> Result<Option<db::users::SessionUser>> {
    if secret.len() > 200 {
        return Ok(None);
    }
    let mut conn = pool.acquire().await?;
    Ok(db::users::session_user(&mut conn, &token::hash(secret), kind.code()).await?)
}

/// The caller and its organisation (with its cancellations counted up to `now`).
pub async fn me(pool: &PgPool, user: &CurrentUser, now: DateTime<Utc>) -> Result<Me> {
    let mut conn = pool.acquire().await?;
    let row = db::users::get(&mut conn, user.id)
        .await?
        .ok_or(Error::NotFound)?;
    let org = match row.organization_id {
        Some(id) => db::organizations::get(&mut conn, id).await?,
        None => None,
    };
    let mut organization: Vec<OrgView> = org.iter().map(OrgView::from).collect();
    crate::service::settlement::count_cancellations(&mut conn, &mut organization, now).await?;
    Ok(Me {
        user: UserView::from(&row),
        organization: organization.pop(),
        organization_role: row.org_role.clone(),
    })
}
