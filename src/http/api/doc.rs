//! The OpenAPI document's frame: its info, the bearer scheme, and the error responses that follow
//! from how every route reads its input (API.md "Errors"), added where they can happen.
//!
//! Each handler documents its own outcomes (success, 403, 409 … with their codes). The statuses
//! below are the extractors' and the router's, the same for every route that uses them, so they are
//! derived here from the operation itself instead of being repeated (and forgotten) per handler:
//!
//! | the operation has …                   | status | codes                                                   |
//! |---------------------------------------|--------|---------------------------------------------------------|
//! | a JSON body                           | 400    | `malformed_json`, `json_required`, `invalid_characters` |
//! |                                       | 413    | `payload_too_large`                                     |
//! |                                       | 422    | `validation_failed`                                     |
//! | query parameters                      | 400    | `invalid_query`                                         |
//! | an `Idempotency-Key` header           | 400    | `invalid_idempotency_key`                               |
//! | a bearer token (required or optional) | 401    | `unauthorized`, `invalid_token`                         |
//! | a path under `/api/v1/admin/`         | 403    | `admin_required`                                        |
//! | an id in its path                     | 404    | `not_found`                                             |
//!
//! Every error response carries the `ErrorBody` schema. A response's description lists its codes in
//! backticks; `tests/contract/endpoints.toml` holds API.md's list and the contract test compares.
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::Modify;

/// The general meaning of an error status (API.md "Errors").
pub fn status_text(status: &str) -> &'static str {
    match status {
        "400" => "Malformed body or query",
        "401" => "Missing or invalid token",
        "403" => "Not allowed (role, ownership, unverified or restricted organisation)",
        "404" => "Not found, also for things the caller may not see",
        "409" => "Conflict with the current state",
        "413" => "Body too large (over 1 MiB)",
        "422" => "Validation failed (`fields` names each wrong field by its JSON path)",
        "429" => "Too many failed logins (wait `Retry-After` seconds)",
        "503" => "Too busy (try again after `Retry-After` seconds)",
        _ => "Error",
    }
}

pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds the error responses of the table above, and gives every error response the error schema
/// and a description that starts with the status's meaning.
pub struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ];
            for op in ops.into_iter().flatten() {
                standard_errors(path, op);
            }
        }
    }
}

fn has_param(op: &Operation, place: ParameterIn, name: Option<&str>) -> bool {
    op.parameters.iter().flatten().any(|p| {
        std::mem::discriminant(&p.parameter_in) == std::mem::discriminant(&place)
            && name.is_none_or(|n| p.name.eq_ignore_ascii_case(n))
    })
}

/// Whether the operation takes a bearer token: `(required, optional)`.
fn bearer(op: &Operation) -> (bool, bool) {
    let Some(reqs) = &op.security else {
        return (false, false);
    };
    let values: Vec<serde_json::Value> = reqs
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    let any_bearer = values.iter().any(|v| v.get("bearer").is_some());
    let anonymous_ok = values
        .iter()
        .any(|v| v.as_object().is_some_and(|o| o.is_empty()));
    (any_bearer && !anonymous_ok, any_bearer && anonymous_ok)
}

fn standard_errors(path: &str, op: &mut Operation) {
    let is_api = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";
    if !is_api {
        return;
    }
    let json_body = op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.keys().any(|k| k.starts_with("application/json")));
    if json_body {
        add(
            op,
            "400",
            &["malformed_json", "json_required", "invalid_characters"],
        );
        add(op, "413", &["payload_too_large"]);
        add(op, "422", &["validation_failed"]);
    }
    if has_param(op, ParameterIn::Query, None) {
        add(op, "400", &["invalid_query"]);
    }
    if has_param(op, ParameterIn::Header, Some("Idempotency-Key")) {
        add(op, "400", &["invalid_idempotency_key"]);
    }
    let (required, optional) = bearer(op);
    if required || optional {
        add(op, "401", &["unauthorized", "invalid_token"]);
    }
    if path.starts_with("/api/v1/admin/") {
        add(op, "403", &["admin_required"]);
    }
    if has_param(op, ParameterIn::Path, None) {
        add(op, "404", &["not_found"]);
    }
    // Every error response: the error schema, and its meaning first.
    for (status, resp) in op.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        if let (true, RefOr::T(resp)) = (is_error, resp) {
            finish(status, resp);
        }
    }
}

/// Adds `codes` to the operation's response for `status`, creating it if needed.
fn add(op: &mut Operation, status: &str, codes: &[&str]) {
    let entry = op
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(ResponseBuilder::new().description("").build()));
    if let RefOr::T(resp) = entry {
        for code in codes {
            let quoted = format!("`{code}`");
            if !resp.description.contains(&quoted) {
                if resp.description.is_empty() {
                    resp.description = quoted;
                } else {
                    resp.description = format!("{}, {quoted}", resp.description);
                }
            }
        }
    }
}

fn finish(status: &str, resp: &mut Response) {
    let meaning = status_text(status);
    if !resp.description.starts_with(meaning) {
        resp.description = if resp.description.is_empty() {
            meaning.to_string()
        } else {
            format!("{meaning}: {}", resp.description)
        };
    }
    if !resp.content.contains_key("application/json") {
        resp.content.insert(
            "application/json".to_string(),
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        );
    }
}
