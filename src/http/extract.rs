//! Extractors that turn bad input into our errors: JSON and query bodies, bearer tokens, forms
//! with CSRF tokens, the client address.
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::domain::error::FieldErrors;
use crate::error::Error;
use crate::http::context::{PageCtx, RequestCtx};
use crate::http::state::AppState;
use crate::service::accounts::{self, SessionKind};

fn classify(path: &serde_path_to_error::Path, err: &str) -> (String, &'static str, String) {
    let mut p = path.to_string();
    if p == "." {
        p.clear();
    }
    if let Some(rest) = err.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or("");
        let full = if p.is_empty() {
            name.to_string()
        } else {
            format!("{p}.{name}")
        };
        return (full, "err.json.missing", String::new());
    }
    let detail = err.split(" at line ").next().unwrap_or(err).to_string();
    (
        if p.is_empty() { "body".into() } else { p },
        "err.json.type",
        detail,
    )
}

/// Parses JSON into `T`: malformed JSON → 400, wrong types or missing fields → 422 naming the field.
/// JSON is UTF-8 (RFC 8259): a body that is not is malformed as a whole, even where its bad bytes
/// sit in a member we would ignore (serde_json skips those without looking).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::bad_request("malformed_json"))?;
    let de = &mut serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let inner = e.inner();
            if inner.is_data() {
                let (path, key, detail) = classify(e.path(), &inner.to_string());
                let mut f = FieldErrors::default();
                f.push(&path, key, vec![("detail", detail)]);
                Err(Error::Validation(f))
            } else {
                Err(Error::bad_request("malformed_json"))
            }
        }
    }
}

/// A JSON body in our error format; requires `Content-Type: application/json`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let v = v.trim().to_ascii_lowercase();
                v.starts_with("application/json")
                    || (v.starts_with("application/") && v.contains("+json"))
            });
        if !is_json {
            return Err(Error::bad_request("json_required"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::bad_request("malformed_body")
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A query string in our error format (400 naming the parameter).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let (path, key, detail) = classify(e.path(), &e.inner().to_string());
                let path = if path == "body" {
                    "query".to_string()
                } else {
                    path
                };
                let mut f = FieldErrors::default();
                f.push(
                    &path,
                    if key == "err.json.missing" {
                        "err.query.missing"
                    } else {
                        "err.query.type"
                    },
                    vec![("detail", detail)],
                );
                Error::BadRequest {
                    code: "invalid_query",
                    fields: Some(f),
                }
            })
    }
}

/// An id in a path: anything that is not one of our ids is simply not found.
pub fn parse_id(s: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(s).map_err(|_| Error::NotFound)
}

/// The caller of an API route, from `Authorization: Bearer <token>`.
pub struct ApiUser(pub CurrentUser);

/// The caller of an `/api/v1/admin/…` route: an exchange administrator, checked before the body is
/// read, so a member learns 403 (not what the body should have been: 400 or 422). The service still
/// decides which exchange's objects the admin may act on.
pub struct ApiAdmin(pub CurrentUser);

impl FromRequestParts<AppState> for ApiAdmin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
        user.require_admin()?;
        Ok(ApiAdmin(user))
    }
}

/// The bearer secret itself (for logout).
pub struct BearerToken(pub String);

fn bearer(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(ApiUser(u.clone()));
        }
        let token = bearer(parts).ok_or(Error::Unauthorized("unauthorized"))?;
        if token.starts_with(crate::service::interconnect::keys::PREFIX) {
            // An exchange's system: the service decides what this route needs of the key.
            let route = parts
                .extensions
                .get::<axum::extract::MatchedPath>()
                .map(|m| m.as_str().to_string())
                .unwrap_or_else(|| parts.uri.path().to_string());
            let user = crate::service::interconnect::keys::authenticate(
                state,
                &token,
                parts.method.as_str(),
                &route,
            )
            .await?;
            parts.extensions.insert(user.clone());
            return Ok(ApiUser(user));
        }
        let s = accounts::resolve(&state.pool, &token, SessionKind::Api)
            .await?
            .ok_or(Error::Unauthorized("invalid_token"))?;
        let user = CurrentUser::from(&s.user);
        parts.extensions.insert(user.clone());
        Ok(ApiUser(user))
    }
}

impl FromRequestParts<AppState> for BearerToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Error> {
        bearer(parts)
            .map(BearerToken)
            .ok_or(Error::Unauthorized("unauthorized"))
    }
}

/// An optional bearer user (public routes that show more to the owner).
pub struct MaybeApiUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeApiUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if bearer(parts).is_none() {
            return Ok(MaybeApiUser(None));
        }
        ApiUser::from_request_parts(parts, state)
            .await
            .map(|u| MaybeApiUser(Some(u.0)))
    }
}

/// The client's address: the peer, or with `TECHMARKET_TRUST_PROXY=1` the *last* `X-Forwarded-For`
/// entry — the one our proxy appended. The entries before it come from the client, who can write
/// anything there (a fresh address per request would dodge the per-address login limit).
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if state.config.trust_proxy {
            if let Some(f) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 64)
            {
                return Ok(ClientAddr(f.to_string()));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(ClientAddr(peer))
    }
}

/// The page context (language, user, CSRF) for templates.
pub struct Ctx(pub PageCtx, pub RequestCtx);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let r = parts
            .extensions
            .get::<RequestCtx>()
            .cloned()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("context layer missing")))?;
        Ok(Ctx(PageCtx::from_request(&r), r))
    }
}

/// A signed-in browser user; anyone else is sent to the login page and brought back after.
pub struct WebUser(pub CurrentUser, pub PageCtx);

impl<S: Send + Sync> FromRequestParts<S> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Response> {
        let Ctx(page, r) = Ctx::from_request_parts(parts, s)
            .await
            .map_err(IntoResponse::into_response)?;
        match r.user {
            Some(u) => Ok(WebUser(u, page)),
            None => {
                let next = match &r.query {
                    Some(q) => format!("{}?{}", r.path, q),
                    None => r.path.clone(),
                };
                let url = format!(
                    "/login?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Err(Redirect::to(&url).into_response())
            }
        }
    }
}

/// A signed-in exchange administrator (403 page for members).
pub struct WebAdmin(pub CurrentUser, pub PageCtx);

impl<S: Send + Sync> FromRequestParts<S> for WebAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Response> {
        let WebUser(u, page) = WebUser::from_request_parts(parts, s).await?;
        if !u.is_admin() {
            return Err(Error::Forbidden("admin_required").into_response());
        }
        Ok(WebAdmin(u, page))
    }
}

/// A submitted HTML form whose `_csrf` field matched; its fields as decoded pairs.
/// Malformed UTF-8 is refused (400), never guessed at.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

fn decode_component(s: &str) -> Option<String> {
    let replaced = s.replace('+', " ");
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(&replaced).collect();
    String::from_utf8(bytes).ok()
}

pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::bad_request("malformed_form"))?;
    let mut out = Vec::new();
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = decode_component(k).ok_or(Error::bad_request("malformed_form"))?;
        let v = decode_component(v).ok_or(Error::bad_request("malformed_form"))?;
        out.push((k, v));
    }
    Ok(out)
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let expected = req
            .extensions()
            .get::<RequestCtx>()
            .map(|r| r.csrf.clone())
            .unwrap_or_default();
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge
            } else {
                Error::bad_request("malformed_form")
            }
        })?;
        let pairs = parse_form(&bytes)?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if expected.is_empty() || !crate::auth::token::same(sent, &expected) {
            return Err(Error::Forbidden("csrf_failed"));
        }
        Ok(Form(pairs))
    }
}
