//! API keys: issued and revoked by an exchange's admins, used by its systems as bearer tokens.
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{token, CurrentUser, KeyActor};
use crate::db;
use crate::db::interconnect::ApiKeyRow;
use crate::domain::codes::{Exchange, Role};
use crate::domain::error::FieldErrors;
use crate::domain::interconnect::{Scope, KEY_NAME_MAX};
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::AppState;

/// What every API key starts with (people's tokens start with `tm_`).
pub const PREFIX: &str = "tmk_";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct KeyInput {
    pub name: String,
    /// `read`, `review`, `payments`, `webhooks`
    pub scopes: Vec<String>,
}

/// A new key: `key` is shown this once and never again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    pub id: Uuid,
    pub key: String,
    pub name: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub exchange: String,
    pub created_at: DateTime<Utc>,
    /// The last use, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKeyRow> for KeyView {
    fn from(r: &ApiKeyRow) -> Self {
        KeyView {
            id: r.id,
            name: r.name.clone(),
            scopes: r.scopes.clone(),
            prefix: r.prefix.clone(),
            exchange: r.exchange.clone(),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

fn parse_input(input: &KeyInput) -> Result<(String, Vec<Scope>)> {
    let mut errs = FieldErrors::new();
    let name = input.name.trim().to_string();
    let n = name.chars().count();
    if n == 0 {
        errs.push("name", "err.text.required", vec![("min", "1".into())]);
    } else if n > KEY_NAME_MAX || name.chars().any(char::is_control) {
        errs.push(
            "name",
            "err.text.too_long",
            vec![("max", KEY_NAME_MAX.to_string())],
        );
    }
    let mut scopes = Vec::new();
    if input.scopes.is_empty() {
        errs.push("scopes", "err.code.choose", vec![]);
    }
    for (i, s) in input.scopes.iter().enumerate() {
        match Scope::parse(s.trim()) {
            Some(sc) if !scopes.contains(&sc) => scopes.push(sc),
            Some(_) => {}
            None => errs.push(
                format!("scopes[{i}]"),
                "err.code.unknown",
                vec![("value", s.chars().take(40).collect())],
            ),
        }
    }
    errs.into_result()?;
    scopes.sort_by_key(|s| Scope::ALL.iter().position(|x| x == s));
    Ok((name, scopes))
}

/// Issues a key for the admin's exchange. Only a person issues keys (a key cannot make keys).
#[tracing::instrument(skip(state, admin, input), fields(admin = %admin.id))]
pub async fn create(state: &AppState, admin: &CurrentUser, input: KeyInput) -> Result<CreatedKey> {
    let exchange = admin.require_admin()?;
    admin.require_person()?;
    let (name, scopes) = parse_input(&input)?;
    let codes: Vec<String> = scopes.iter().map(|s| s.code().to_string()).collect();
    let secret = token::generate(PREFIX);
    let id = Uuid::now_v7();
    let mut tx = state.pool.begin().await?;
    db::interconnect::insert_key(
        &mut tx,
        db::interconnect::NewApiKey {
            id,
            exchange: exchange.code(),
            name: &name,
            scopes: &codes,
            key_hash: &token::hash(&secret),
            prefix: &secret[..PREFIX.len() + 8],
            created_by: admin.person_id(),
            now: state.clock.now(),
        },
    )
    .await?;
    audit(
        &mut tx,
        admin,
        "api_key.create",
        "api_key",
        id,
        None,
        Some(serde_json::json!({"name": name, "scopes": codes, "exchange": exchange.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedKey {
        id,
        key: secret,
        name,
        scopes: codes,
    })
}

/// Revokes a key of the admin's exchange (403 for another exchange's, 404 for an unknown one).
/// Revoking a revoked key changes nothing.
#[tracing::instrument(skip(state, admin), fields(admin = %admin.id))]
pub async fn revoke(state: &AppState, admin: &CurrentUser, id: Uuid) -> Result<()> {
    let exchange = admin.require_admin()?;
    admin.require_person()?;
    let mut tx = state.pool.begin().await?;
    let key = db::interconnect::key_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if key.exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    if key.revoked_at.is_none() {
        db::interconnect::revoke_key(&mut tx, id, admin.person_id(), state.clock.now()).await?;
        audit(
            &mut tx,
            admin,
            "api_key.revoke",
            "api_key",
            id,
            Some(serde_json::json!({"name": key.name, "revoked": false})),
            Some(serde_json::json!({"name": key.name, "revoked": true})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The keys of the admin's exchange, live ones first.
pub async fn list(state: &AppState, admin: &CurrentUser) -> Result<Vec<KeyView>> {
    let exchange = admin.require_admin()?;
    admin.require_person()?;
    let mut conn = state.pool.acquire().await?;
    let rows = db::interconnect::keys_of(&mut conn, exchange.code()).await?;
    Ok(rows.iter().map(KeyView::from).collect())
}

/// The scope an API key needs for a route (`route` as the router matched it, e.g.
/// `/api/v1/admin/listings/{id}/review`); `None`: no key may call it. Anything not named here is
/// refused, so a route added later is closed to keys until someone decides otherwise.
pub fn route_scope(method: &str, route: &str) -> Option<Scope> {
    if route.starts_with("/api/v1/admin/api-keys") {
        return None;
    }
    if route.starts_with("/api/v1/admin/webhooks") {
        return Some(Scope::Webhooks);
    }
    match (method, route) {
        ("POST", "/api/v1/admin/listings/{id}/review")
        | ("POST", "/api/v1/admin/organizations/{id}/verify") => Some(Scope::Review),
        ("POST", "/api/v1/admin/trades/{id}/payment-received")
        | ("POST", "/api/v1/admin/listings/{id}/deposits") => Some(Scope::Payments),
        ("GET" | "HEAD", r) if r.starts_with("/api/v1/") => Some(Scope::Read),
        _ => None,
    }
}

/// The caller behind an API key, for `method` on `route`: 401 `invalid_token` for an unknown or
/// revoked key, 403 `scope_missing` when its scopes do not cover the route. Records the use (at
/// most once a minute).
pub async fn authenticate(
    state: &AppState,
    secret: &str,
    method: &str,
    route: &str,
) -> Result<CurrentUser> {
    if secret.len() > 200 {
        return Err(Error::Unauthorized("invalid_token"));
    }
    let mut conn = state.pool.acquire().await?;
    let key = db::interconnect::key_by_hash(&mut conn, &token::hash(secret))
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or(Error::Unauthorized("invalid_token"))?;
    let exchange = Exchange::parse(&key.exchange)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown exchange {}", key.exchange)))?;
    let now = state.clock.now();
    if key
        .last_used_at
        .is_none_or(|t| now - t >= TimeDelta::minutes(1))
    {
        db::interconnect::touch_key(&mut conn, key.id, now).await?;
    }
    let scopes: Vec<Scope> = key.scopes.iter().filter_map(|s| Scope::parse(s)).collect();
    let user = CurrentUser {
        id: key.id,
        email: format!("api-key:{} ({})", key.name, key.id),
        display_name: key.name.clone(),
        role: Role::Admin,
        organization_id: None,
        org_role: None,
        admin_exchange: Some(exchange),
        api_key: Some(KeyActor {
            id: key.id,
            name: key.name,
            scopes,
        }),
    };
    match route_scope(method, route) {
        Some(scope) => user.require_scope(scope)?,
        None => return Err(Error::Forbidden("scope_missing")),
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_scope_of_what_they_do_and_unknown_routes_are_closed() {
        let r = |m, p| route_scope(m, p);
        assert_eq!(r("GET", "/api/v1/trades"), Some(Scope::Read));
        assert_eq!(r("GET", "/api/v1/events"), Some(Scope::Read));
        assert_eq!(
            r("POST", "/api/v1/admin/listings/{id}/review"),
            Some(Scope::Review)
        );
        assert_eq!(
            r("POST", "/api/v1/admin/trades/{id}/payment-received"),
            Some(Scope::Payments)
        );
        assert_eq!(
            r("POST", "/api/v1/admin/listings/{id}/deposits"),
            Some(Scope::Payments)
        );
        assert_eq!(r("POST", "/api/v1/admin/webhooks"), Some(Scope::Webhooks));
        assert_eq!(
            r("GET", "/api/v1/admin/webhooks/{id}/deliveries"),
            Some(Scope::Webhooks)
        );
        assert_eq!(r("GET", "/api/v1/admin/api-keys"), None);
        assert_eq!(r("POST", "/api/v1/admin/api-keys"), None);
        assert_eq!(r("POST", "/api/v1/admin/fee-schedules"), None);
        assert_eq!(r("POST", "/api/v1/listings"), None);
        assert_eq!(r("DELETE", "/api/v1/anything"), None);
    }
}
