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
use serde_json::{json, Value};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::Modify;

use crate::domain::codes::{
    Exchange, Field, IpType, OrgKind, PricingMode, Province, TransactionMode,
};
use crate::domain::money::MAX_AMOUNT_FEN;

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
        "503" => "Too busy (`busy`) or the database unavailable for a moment (`database_unavailable`); nothing was done, try again after `Retry-After` seconds",
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

/// The wire codes of a domain code list.
macro_rules! codes {
    ($list:ty) => {
        <$list>::ALL.iter().map(|v| v.code()).collect::<Vec<_>>()
    };
}

/// What the service checks on input, stated in the document so that clients (and fuzzers) can send
/// valid requests: code lists straight from the domain's lists, ranges and lengths from the
/// validators. `(schema, property, constraints)`; `items` after a property means its array items.
fn body_constraints() -> Vec<(&'static str, &'static str, Value)> {
    let amount = json!({"minimum": 1, "maximum": MAX_AMOUNT_FEN});
    let mut c = vec![
        (
            "RegisterInput",
            "password",
            json!({"minLength": 12, "maxLength": 128}),
        ),
        (
            "RegisterInput",
            "email",
            json!({"format": "email", "maxLength": 254}),
        ),
        (
            "RegisterInput",
            "display_name",
            json!({"minLength": 1, "maxLength": 100}),
        ),
        (
            "OrgInput",
            "name",
            json!({"minLength": 2, "maxLength": 200}),
        ),
        ("OrgInput", "kind", json!({"enum": codes!(OrgKind)})),
        ("OrgInput", "province", json!({"enum": codes!(Province)})),
        ("OrgInput", "exchange", json!({"enum": codes!(Exchange)})),
        (
            "OrgInput",
            "credit_code",
            json!({"pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$"}),
        ),
        (
            "ReviewInput",
            "decision",
            json!({"enum": ["approve", "reject"]}),
        ),
        ("PricingInput", "mode", json!({"enum": codes!(PricingMode)})),
        ("PricingInput", "price_fen", amount.clone()),
        ("AuctionInput", "start_price_fen", amount.clone()),
        ("AuctionInput", "increment_fen", amount.clone()),
        ("AuctionInput", "reserve_fen", amount.clone()),
        (
            "AuctionInput",
            "extension_seconds",
            json!({"minimum": 0, "maximum": 3600}),
        ),
        ("OfferInput", "amount_fen", amount.clone()),
        (
            "OfferInput",
            "transaction_mode",
            json!({"enum": codes!(TransactionMode)}),
        ),
        ("CounterInput", "amount_fen", amount.clone()),
        ("BidInput", "amount_fen", amount.clone()),
        (
            "BuyInput",
            "transaction_mode",
            json!({"enum": codes!(TransactionMode)}),
        ),
        ("DemandInput", "field", json!({"enum": codes!(Field)})),
        ("DemandInput", "budget_min_fen", amount.clone()),
        ("DemandInput", "budget_max_fen", amount.clone()),
        (
            "RestrictionInput",
            "reason",
            json!({"minLength": 2, "maxLength": 500}),
        ),
    ];
    for schema in ["ListingInput", "ListingPatch"] {
        c.extend([
            (schema, "title", json!({"minLength": 4, "maxLength": 200})),
            (schema, "summary", json!({"maxLength": 500})),
            (schema, "description", json!({"maxLength": 20000})),
            (schema, "field", json!({"enum": codes!(Field)})),
            (schema, "ip_type", json!({"enum": codes!(IpType)})),
            (schema, "trl", json!({"minimum": 1, "maximum": 9})),
            (schema, "transaction_modes", json!({"minItems": 1})),
            (
                schema,
                "transaction_modes.items",
                json!({"enum": codes!(TransactionMode)}),
            ),
            (schema, "keywords", json!({"maxItems": 20})),
            (schema, "keywords.items", json!({"maxLength": 30})),
        ]);
    }
    c
}

/// The same for query parameters: `(path, parameter, constraints)`.
fn query_constraints() -> Vec<(&'static str, &'static str, Value)> {
    let page = json!({"minimum": 1, "maximum": 1_000_000});
    let per_page = json!({"minimum": 1, "maximum": 100});
    let mut c = vec![
        ("/api/v1/listings", "field", json!({"enum": codes!(Field)})),
        (
            "/api/v1/listings",
            "province",
            json!({"enum": codes!(Province)}),
        ),
        (
            "/api/v1/listings",
            "exchange",
            json!({"enum": codes!(Exchange)}),
        ),
        (
            "/api/v1/listings",
            "ip_type",
            json!({"enum": codes!(IpType)}),
        ),
        (
            "/api/v1/listings",
            "pricing",
            json!({"enum": codes!(PricingMode)}),
        ),
        (
            "/api/v1/listings",
            "sort",
            json!({"enum": ["relevance", "newest", "price_asc", "price_desc"]}),
        ),
        (
            "/api/v1/listings",
            "trl_min",
            json!({"minimum": 1, "maximum": 9}),
        ),
        (
            "/api/v1/listings",
            "min_price_fen",
            json!({"minimum": 0, "maximum": MAX_AMOUNT_FEN}),
        ),
        (
            "/api/v1/listings",
            "max_price_fen",
            json!({"minimum": 0, "maximum": MAX_AMOUNT_FEN}),
        ),
        ("/api/v1/demands", "field", json!({"enum": codes!(Field)})),
        (
            "/api/v1/demands",
            "province",
            json!({"enum": codes!(Province)}),
        ),
        (
            "/api/v1/trades",
            "role",
            json!({"enum": ["buyer", "seller"]}),
        ),
        (
            "/api/v1/trades",
            "status",
            json!({"enum": ["awaiting_payment", "paid", "settled", "cancelled"]}),
        ),
        (
            "/api/v1/fee-schedules",
            "status",
            json!({"enum": ["draft", "approved", "rejected"]}),
        ),
        (
            "/api/v1/admin/trades/registration.csv",
            "exchange",
            json!({"enum": codes!(Exchange)}),
        ),
        (
            "/api/v1/fees/quote",
            "amount_fen",
            json!({"minimum": 1, "maximum": MAX_AMOUNT_FEN}),
        ),
        ("/api/v1/admin/ledger/entries", "limit", per_page.clone()),
    ];
    for path in [
        "/api/v1/listings",
        "/api/v1/demands",
        "/api/v1/trades",
        "/api/v1/fee-schedules",
        "/api/v1/offers",
        "/api/v1/my/listings",
        "/api/v1/listings/{id}/offers",
        "/api/v1/admin/listings",
        "/api/v1/admin/organizations",
        "/api/v1/admin/audit",
        "/api/v1/admin/ledger/entries",
    ] {
        c.push((path, "page", page.clone()));
        c.push((path, "per_page", per_page.clone()));
    }
    c
}

/// Merges `extra` into a property schema; an enum on a nullable property also admits null.
fn constrain(schema: &mut Value, extra: &Value) {
    let nullable = match &schema["type"] {
        Value::Array(types) => types.iter().any(|t| t == "null"),
        _ => false,
    };
    if let (Some(target), Some(extra)) = (schema.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            let mut v = v.clone();
            if let (true, "enum", Value::Array(values)) = (nullable, k.as_str(), &mut v) {
                values.push(Value::Null);
            }
            target.insert(k.clone(), v);
        }
    }
}

/// The document as served: utoipa's, with the shared error responses and the input constraints.
/// Panics in tests if a constraint names a schema or parameter that does not exist (a rename).
pub fn document(doc: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    for (schema, property, extra) in body_constraints() {
        let (property, items) = match property.strip_suffix(".items") {
            Some(p) => (p, true),
            None => (property, false),
        };
        let mut pointer = format!("/components/schemas/{schema}/properties/{property}");
        if items {
            pointer.push_str("/items");
        }
        match doc.pointer_mut(&pointer) {
            Some(target) => constrain(target, &extra),
            None => debug_assert!(false, "{pointer} is not in the document"),
        }
    }
    // API.md: "`Idempotency-Key` header (any string ≤ 200 chars)"; an empty one is refused.
    let key = json!({"minLength": 1, "maxLength": 200});
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for op in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|i| i.values_mut())
        {
            let params = op.get_mut("parameters").and_then(Value::as_array_mut);
            for p in params.into_iter().flatten() {
                if p["in"] == "header" && p["name"] == "Idempotency-Key" {
                    if let Some(schema) = p.get_mut("schema") {
                        constrain(schema, &key);
                    }
                }
            }
        }
    }
    for (path, name, extra) in query_constraints() {
        let Some(ops) = doc
            .get_mut("paths")
            .and_then(|p| p.get_mut(path))
            .and_then(Value::as_object_mut)
        else {
            debug_assert!(false, "{path} is not in the document");
            continue;
        };
        for op in ops.values_mut() {
            let params = op.get_mut("parameters").and_then(Value::as_array_mut);
            for p in params.into_iter().flatten() {
                if p["name"] == name && p["in"] == "query" {
                    if let Some(schema) = p.get_mut("schema") {
                        constrain(schema, &extra);
                    }
                }
            }
        }
    }
    doc
}
