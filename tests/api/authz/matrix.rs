//! The authorization matrix of the JSON API: every mutating route against every kind of caller,
//! with the status API.md gives. The table is data; one test walks it (each cell on a fresh
//! object, the actors made once; an admin route that answers 2xx must have written the audit
//! log), another fails when the OpenAPI document has a mutating route without a row (or a row
//! names a route that is gone).
use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::world::{self, Actor, Fixture, Party, World, ACTORS};
use crate::helpers::*;

/// The body a cell sends.
#[derive(Debug, Clone, Copy)]
enum Body {
    Empty,
    Fixed(&'static str),
    /// A fixed body in which `{id}` is replaced by the id of the row's fixture.
    WithId(&'static str),
    Register,
    /// The caller's own e-mail and password.
    Login,
    Listing,
    Demand,
    FeeSchedule,
    /// A small PDF, sent as `multipart/form-data` (listing documents).
    Document,
    /// `{organization_id}` of the counterparty (a bidder of the home exchange).
    Deposit,
    /// A pledge request to the world's lender.
    Pledge,
    /// An engagement of a fresh broker (of the counterparty) for the buyer's side.
    Engage,
    /// A panel of three fresh experts and a due date (an evaluation).
    Panel,
}

struct Row {
    method: Method,
    path: &'static str,
    party: Party,
    fixture: Fixture,
    body: Body,
    /// In the order of [`ACTORS`]: anonymous, another organisation's member, the owner, an admin of
    /// another exchange, an admin of the home exchange, a restricted organisation, an unverified one.
    expect: [u16; 7],
}

const fn row(
    method: Method,
    path: &'static str,
    party: Party,
    fixture: Fixture,
    body: Body,
    expect: [u16; 7],
) -> Row {
    Row {
        method,
        path,
        party,
        fixture,
        body,
        expect,
    }
}

use Fixture as F;
use Party::{Other as O, Owner as W};

#[rustfmt::skip]
const TABLE: &[Row] = &[
    //                                                                                                     anon other owner a-oth a-home restr unver
    row(Method::POST, "/api/v1/auth/register", O, F::Nothing, Body::Register,                              [201, 201, 201, 201, 201, 201, 201]),
    row(Method::POST, "/api/v1/auth/login", O, F::Nothing, Body::Login,                                    [200, 200, 200, 200, 200, 200, 200]),
    row(Method::POST, "/api/v1/auth/logout", O, F::Nothing, Body::Empty,                                   [401, 204, 204, 204, 204, 204, 204]),
    // Colleagues: the owner of an organisation manages its members (a restriction or a missing
    // verification does not stop that); administrators belong to none.
    row(Method::POST, "/api/v1/organization/invitations", W, F::Nothing, Body::Fixed(r#"{"email":"colleague@authz.example","role":"member"}"#),
                                                                                                           [401, 201, 201, 403, 403, 201, 201]),
    row(Method::DELETE, "/api/v1/organization/invitations/{id}", W, F::Invitation, Body::Empty,            [401, 404, 204, 403, 403, 204, 204]),
    row(Method::PATCH, "/api/v1/organization/members/{user_id}", W, F::Colleague, Body::Fixed(r#"{"role":"owner"}"#),
                                                                                                           [401, 404, 200, 403, 403, 200, 200]),
    row(Method::DELETE, "/api/v1/organization/members/{user_id}", W, F::Colleague, Body::Empty,            [401, 404, 204, 403, 403, 204, 204]),
    row(Method::POST, "/api/v1/admin/organizations/{id}/verify", O, F::UnverifiedOrg, Body::Empty,         [401, 403, 403, 403, 200, 403, 403]),
    row(Method::POST, "/api/v1/admin/organizations/{id}/restrictions", O, F::UnverifiedOrg, Body::Fixed(r#"{"reason":"逾期未付款"}"#),
                                                                                                           [401, 403, 403, 201, 201, 403, 403]),
    row(Method::DELETE, "/api/v1/admin/organizations/{id}/restrictions", O, F::RestrictedOrg, Body::Empty, [401, 403, 403, 200, 200, 403, 403]),
    row(Method::POST, "/api/v1/admin/fee-schedules", O, F::Nothing, Body::FeeSchedule,                     [401, 403, 403, 201, 201, 403, 403]),
    row(Method::POST, "/api/v1/admin/fee-schedules/{id}/approve", O, F::FeeDraft, Body::Empty,             [401, 403, 403, 200, 403, 403, 403]),
    row(Method::POST, "/api/v1/admin/fee-schedules/{id}/reject", O, F::FeeDraft, Body::Fixed(r#"{"reason":"费率过高"}"#),
                                                                                                           [401, 403, 403, 200, 403, 403, 403]),
    // Posting a demand is trading too: a restricted or unverified organisation may not (API.md is silent).
    row(Method::POST, "/api/v1/demands", W, F::Nothing, Body::Demand,                                      [401, 201, 201, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/demands/{id}/close", W, F::Demand, Body::Empty,                             [401, 403, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/listings", W, F::Nothing, Body::Listing,                                    [401, 201, 201, 403, 403, 201, 201]),
    row(Method::PATCH, "/api/v1/listings/{id}", W, F::Listing("draft", "negotiable"), Body::Fixed(r#"{"title":"改过的标题"}"#),
                                                                                                           [401, 404, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/listings/{id}/documents", W, F::Listing("draft", "negotiable"), Body::Document,
                                                                                                           [401, 404, 201, 403, 403, 201, 201]),
    row(Method::POST, "/api/v1/listings/{id}/submit", W, F::Listing("draft", "negotiable"), Body::Empty,   [401, 404, 200, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/listings/{id}/withdraw", W, F::Listing("listed", "negotiable"), Body::Empty, [401, 403, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/admin/listings/{id}/review", O, F::Listing("pending_review", "negotiable"), Body::Fixed(r#"{"decision":"approve"}"#),
                                                                                                           [401, 403, 403, 403, 200, 403, 403]),
    row(Method::POST, "/api/v1/listings/{id}/offers", O, F::Listing("listed", "negotiable"), Body::Fixed(r#"{"amount_fen":200000000,"transaction_mode":"transfer"}"#),
                                                                                                           [401, 201, 403, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/offers/{id}/counter", W, F::OfferToParty, Body::Fixed(r#"{"amount_fen":250000000}"#),
                                                                                                           [401, 404, 201, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/offers/{id}/accept", W, F::OfferToParty, Body::Empty,                       [401, 404, 201, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/offers/{id}/reject", W, F::OfferToParty, Body::Empty,                       [401, 404, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/offers/{id}/withdraw", W, F::OfferByParty, Body::Empty,                     [401, 404, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/listings/{id}/buy", O, F::Listing("listed", "fixed"), Body::Fixed(r#"{"transaction_mode":"transfer"}"#),
                                                                                                           [401, 201, 403, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/listings/{id}/bids", O, F::Listing("listed", "auction"), Body::Fixed(r#"{"amount_fen":100000000,"transaction_mode":"transfer"}"#),
                                                                                                           [401, 201, 403, 403, 403, 403, 403]),
    // Recorded by an admin of the listing's or the bidder's exchange (both `suaee` here).
    row(Method::POST, "/api/v1/admin/listings/{id}/deposits", O, F::DepositAuction, Body::Deposit,         [401, 403, 403, 403, 201, 403, 403]),
    row(Method::POST, "/api/v1/notifications/{id}/read", W, F::Notice, Body::Empty,                        [401, 404, 204, 404, 404, 204, 204]),
    row(Method::POST, "/api/v1/admin/trades/{id}/payment-received", W, F::Bought { paid: false }, Body::Empty,
                                                                                                           [401, 403, 403, 403, 200, 403, 403]),
    row(Method::POST, "/api/v1/trades/{id}/confirm-delivery", W, F::Bought { paid: true }, Body::Empty,    [401, 404, 200, 403, 403, 200, 200]),
    // Delivery is the seller's; the party here is the buyer.
    row(Method::POST, "/api/v1/trades/{id}/delivery", W, F::Bought { paid: true }, Body::Fixed(r#"{"note":"资料已交付"}"#),
                                                                                                           [401, 404, 403, 403, 403, 403, 403]),
    // Delivery attachments are the seller's too (the party here is the buyer).
    row(Method::POST, "/api/v1/trades/{id}/delivery/attachments", W, F::Bought { paid: true }, Body::Document,
                                                                                                           [401, 404, 403, 403, 403, 403, 403]),
    row(Method::PUT, "/api/v1/admin/settlement-account", O, F::Nothing, Body::Fixed(r#"{"bank":"示例银行","account_name":"结算专户","account_number":"6222 0001"}"#),
                                                                                                           [401, 403, 403, 200, 200, 403, 403]),
    row(Method::POST, "/api/v1/trades/{id}/cancel", W, F::Bought { paid: false }, Body::Fixed(r#"{"reason":"买方改变计划"}"#),
                                                                                                           [401, 404, 200, 403, 403, 200, 200]),
    // Disputes: a party opens one (restricted or not: it is not trading); either party's
    // exchange decides (both are the home exchange here); payouts from the buyer's exchange.
    row(Method::POST, "/api/v1/trades/{id}/disputes", W, F::Bought { paid: true }, Body::Fixed(r#"{"reason":"交付的资料不完整"}"#),
                                                                                                           [401, 404, 201, 403, 403, 201, 201]),
    row(Method::POST, "/api/v1/admin/disputes/{id}/resolve", W, F::Disputed, Body::Fixed(r#"{"outcome":"buyer","reason":"卖方未能交付"}"#),
                                                                                                           [401, 403, 403, 403, 200, 403, 403]),
    row(Method::POST, "/api/v1/admin/payouts", W, F::Settled,
        Body::WithId(r#"{"trade_id":"{id}","party":"seller","amount_fen":346000000,"bank_reference":"SU-0001"}"#),
                                                                                                           [401, 403, 403, 403, 201, 403, 403]),
    // The exchanges' systems: an admin of another exchange makes keys and webhooks for their own.
    row(Method::POST, "/api/v1/admin/api-keys", O, F::Nothing, Body::Fixed(r#"{"name":"ERP","scopes":["read"]}"#),
                                                                                                           [401, 403, 403, 201, 201, 403, 403]),
    row(Method::DELETE, "/api/v1/admin/api-keys/{id}", O, F::ApiKey, Body::Empty,                          [401, 403, 403, 403, 204, 403, 403]),
    row(Method::POST, "/api/v1/admin/webhooks", O, F::Nothing, Body::Fixed(r#"{"url":"http://127.0.0.1:9/hook","events":["trade.paid"]}"#),
                                                                                                           [401, 403, 403, 201, 201, 403, 403]),
    row(Method::DELETE, "/api/v1/admin/webhooks/{id}", O, F::Webhook, Body::Empty,                         [401, 403, 403, 403, 204, 403, 403]),
    row(Method::POST, "/api/v1/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver", O, F::Delivery, Body::Empty,
                                                                                                           [401, 403, 403, 403, 200, 403, 403]),
    // Technology finance. The party of a pledge request's decisions is its lender; a restricted or unverified
    // lender may still reject, release and consent (they only lessen the pledge), not approve.
    row(Method::POST, "/api/v1/listings/{id}/pledge-requests", W, F::PledgeableListing, Body::Pledge,     [401, 403, 201, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/pledge-requests/{id}/approve", W, F::PledgeToParty("submitted"), Body::Fixed(r#"{"registration_no":"2026-CQ-ZY-1"}"#),
                                                                                                           [401, 404, 200, 403, 403, 403, 403]),
    row(Method::POST, "/api/v1/pledge-requests/{id}/reject", W, F::PledgeToParty("submitted"), Body::Fixed(r#"{"reason":"估值不足"}"#),
                                                                                                           [401, 404, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/pledge-requests/{id}/release", W, F::PledgeToParty("active"), Body::Empty,  [401, 404, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/pledge-requests/{id}/consent", W, F::PledgeToParty("active"), Body::Fixed(r#"{"trade_mode":"transfer"}"#),
                                                                                                           [401, 404, 200, 403, 403, 200, 200]),
    // Only a verified financial institution's members publish products; none of the matrix's actors is one
    // (tests/api/pledges/requests.rs has the lender's 201).
    row(Method::POST, "/api/v1/financing-products", O, F::Nothing, Body::Fixed(r#"{"name":"知识价值信用贷","rate_min_ppm":35000,"rate_max_ppm":48000,"max_amount_fen":100000000,"term_min_months":6,"term_max_months":36}"#),
                                                                                                           [401, 403, 403, 403, 403, 403, 403]),
    // Technology brokers: any exchange admin certifies and revokes; a party engages a broker for its own
    // side (the party here is the buyer; a restriction does not stop it); only the broker answers.
    row(Method::POST, "/api/v1/admin/brokers", O, F::BrokerCandidate, Body::WithId(r#"{"user_id":"{id}","certificate_no":"JJR-{id}"}"#),
                                                                                                           [401, 403, 403, 201, 201, 403, 403]),
    row(Method::POST, "/api/v1/admin/brokers/{id}/revoke", O, F::Broker, Body::Fixed(r#"{"reason":"证书到期"}"#),
                                                                                                           [401, 403, 403, 200, 200, 403, 403]),
    row(Method::POST, "/api/v1/trades/{id}/broker", W, F::Bought { paid: false }, Body::Engage,             [401, 404, 201, 403, 403, 201, 201]),
    row(Method::POST, "/api/v1/broker-engagements/{id}/accept", W, F::EngagementOfParty, Body::Empty,      [401, 404, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/broker-engagements/{id}/decline", W, F::EngagementOfParty, Body::Empty,     [401, 404, 200, 403, 403, 200, 200]),
    // The expert pool: any exchange's admin registers and deactivates; the listing's exchange opens a panel;
    // the party here is an invited expert (a restricted or unverified organisation's expert still answers).
    row(Method::POST, "/api/v1/admin/experts", O, F::ExpertCandidate, Body::WithId(r#"{"user_id":"{id}","fields":["ic"],"title":"教授","bio":"集成电路设计"}"#),
                                                                                                           [401, 403, 403, 201, 201, 403, 403]),
    row(Method::POST, "/api/v1/admin/experts/{id}/deactivate", O, F::Expert, Body::Empty,                  [401, 403, 403, 200, 200, 403, 403]),
    row(Method::POST, "/api/v1/admin/listings/{id}/evaluations", W, F::Listing("listed", "negotiable"), Body::Panel,
                                                                                                           [401, 403, 403, 403, 201, 403, 403]),
    row(Method::POST, "/api/v1/evaluations/{id}/decline", W, F::EvaluationFor, Body::Empty,                [401, 403, 200, 403, 403, 200, 200]),
    row(Method::POST, "/api/v1/evaluations/{id}/scores", W, F::EvaluationFor, Body::Fixed(r#"{"maturity_trl":6,"innovation":4,"advancement":3,"market":4,"comment":"可行"}"#),
                                                                                                           [401, 403, 201, 403, 403, 201, 201]),
];

async fn body(w: &World, r: &Row, a: Actor, id: Option<&str>) -> Option<Value> {
    match r.body {
        Body::Empty => None,
        Body::Fixed(s) => Some(serde_json::from_str(s).unwrap()),
        Body::WithId(s) => {
            Some(serde_json::from_str(&s.replace("{id}", id.unwrap_or(""))).unwrap())
        }
        Body::Register => Some(world::register_body()),
        Body::Login => {
            let mut b = json!({"email": w.email(a), "password": PASSWORD});
            // Administrators sign in with their authenticator's code (issue 16).
            if let Some(code) = otp_for(&w.app.pool, &w.email(a)).await {
                b["otp"] = json!(code);
            }
            Some(b)
        }
        Body::Listing => Some(world::listing_body()),
        Body::Demand => Some(world::demand_body()),
        Body::FeeSchedule => Some(world::fee_schedule_body()),
        Body::Document => None,
        Body::Deposit => Some(json!({ "organization_id": w.counterparty.org_id })),
        Body::Pledge => Some(
            json!({"lender_organization_id": w.lender.org_id, "amount_fen": 100_000_000, "term_months": 12}),
        ),
        Body::Engage => {
            let user = crate::brokers::candidate(&w.app.pool, &w.other.org_id).await;
            let broker = crate::brokers::broker_row(&w.app.pool, &user).await;
            Some(json!({"broker_id": broker, "side": "buyer", "commission_ppm": 30000}))
        }
        Body::Panel => {
            let mut ids = Vec::new();
            for _ in 0..3 {
                ids.push(crate::experts::fresh_expert(&w.app, "cquaee", "矩阵专家", &["ic"]).await);
            }
            Some(json!({"expert_ids": ids, "due_at": crate::experts::in_a_week()}))
        }
    }
}

/// A one-page PDF as the upload form sends it.
fn document_request(uri: &str, token: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let boundary = "authz-matrix-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"证书.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n",
    );
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut b = axum::http::Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(
            axum::http::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
    if let Some(t) = token {
        b = b.header(axum::http::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(axum::body::Body::from(body)).unwrap()
}

async fn audit_rows(w: &World) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(&w.app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn every_mutating_route_answers_each_kind_of_caller_as_api_md_says(pool: PgPool) {
    let w = World::new(TestApp::new(pool)).await;
    let mut wrong = Vec::new();
    for r in TABLE {
        for (i, &a) in ACTORS.iter().enumerate() {
            let (uri, id) =
                world::prepare_with_id(&w, r.fixture, w.party(r.party, a), r.path).await;
            // Logging out ends the token: the caller signs in afresh for it.
            let fresh;
            let token = if r.path == "/api/v1/auth/logout" && a != Actor::Anon {
                let l = w.app.login(&w.email(a), PASSWORD).await;
                fresh = l.body["token"].as_str().unwrap().to_string();
                Some(fresh.as_str())
            } else {
                w.token(a)
            };
            let audited_before = audit_rows(&w).await;
            let resp = if matches!(r.body, Body::Document) {
                w.app.send(document_request(&uri, token)).await
            } else {
                w.app
                    .call(
                        r.method.clone(),
                        &uri,
                        token,
                        body(&w, r, a, id.as_deref()).await,
                    )
                    .await
            };
            // Every admin action that went through is in the audit log (the same transaction).
            if r.path.starts_with("/api/v1/admin/")
                && resp.status.is_success()
                && audit_rows(&w).await <= audited_before
            {
                wrong.push(format!("{} {} as {a:?}: not audited", r.method, r.path));
            }
            if resp.status.as_u16() != r.expect[i] {
                wrong.push(format!(
                    "{} {} as {a:?}: expected {}, got {} {}",
                    r.method,
                    r.path,
                    r.expect[i],
                    resp.status.as_u16(),
                    resp.body["error"]["code"]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every mutating operation of `/api/v1/openapi.json` has a row, and every row is an operation.
#[test]
fn every_mutating_route_of_the_document_has_a_row() {
    let doc = serde_json::to_value(techmarket::http::api::openapi()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let rows: BTreeSet<String> = TABLE
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(rows.len(), TABLE.len(), "a route has two rows");
    let missing: Vec<_> = routes.difference(&rows).collect();
    let gone: Vec<_> = rows.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the matrix: {missing:?}"
    );
    assert!(
        gone.is_empty(),
        "rows for routes the document does not have: {gone:?}"
    );
}
