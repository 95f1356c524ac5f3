//! Every HTML form route refuses a POST without its CSRF token (or with a wrong one): 403, and
//! nothing in the database changes. The same form with the page's token is not refused, so the
//! token is what made the difference. A second test fails when a POST route of `src/http/web`
//! has no row here.
use std::collections::{BTreeSet, HashMap};

use axum::http::StatusCode;
use sqlx::PgPool;

use super::world::{self, Fixture, World};
use crate::helpers::*;

/// Who sends the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    /// A visitor who is not signed in.
    Visitor,
    /// The owner (the member of the organisation the object belongs to).
    Owner,
    /// A verified member of another organisation (a would-be buyer).
    Other,
    AdminHome,
    AdminOther,
    /// A member of the world's financial institution.
    Lender,
}

use Fixture as F;

/// A form route, who sends it, what it acts on, and the fields that make it go through.
type FormRow = (
    &'static str,
    Who,
    Fixture,
    &'static [(&'static str, &'static str)],
);

#[rustfmt::skip]
const FORMS: &[FormRow] = &[
    ("/register", Who::Visitor, F::Nothing, &[("email", "csrf-new@authz.example"), ("password", PASSWORD), ("display_name", "新用户"),
        ("organization.name", "新机构"), ("organization.kind", "individual"), ("organization.province", "sichuan"), ("organization.exchange", "suaee")]),
    ("/login", Who::Visitor, F::Nothing, &[("email", "owner@authz.example"), ("password", PASSWORD)]),
    ("/logout", Who::Owner, F::Nothing, &[]),
    ("/account/two-factor", Who::Owner, F::Nothing, &[("action", "confirm"), ("otp", "000000")]),
    ("/inbox", Who::Owner, F::Nothing, &[("all", "1")]),
    ("/organization/invitations", Who::Owner, F::Nothing, &[("email", "csrf-colleague@authz.example"), ("role", "member")]),
    ("/organization/invitations/{id}/revoke", Who::Owner, F::Invitation, &[]),
    ("/organization/members/{id}/role", Who::Owner, F::Colleague, &[("role", "owner")]),
    ("/organization/members/{id}/remove", Who::Owner, F::Colleague, &[]),
    ("/join/{token}", Who::Visitor, F::InvitationLink, &[("email", "join@authz.example"), ("password", PASSWORD), ("display_name", "新同事")]),
    ("/admin/organizations/{id}/verify", Who::AdminHome, F::UnverifiedOrg, &[]),
    ("/admin/fees/new", Who::AdminHome, F::Nothing, &[("name", "新收费标准"), ("action", "save")]),
    ("/admin/fees/{id}/approve", Who::AdminOther, F::FeeDraft, &[]),
    ("/admin/fees/{id}/reject", Who::AdminOther, F::FeeDraft, &[("reason", "费率过高")]),
    ("/admin/restrictions", Who::AdminHome, F::UnverifiedOrg, &[("reason", "逾期未付款")]),
    ("/admin/restrictions/{id}/lift", Who::AdminHome, F::RestrictedOrg, &[]),
    ("/admin/listings/{id}/review", Who::AdminHome, F::Listing("pending_review", "negotiable"), &[("decision", "approve")]),
    ("/admin/listings/{id}/deposits", Who::AdminHome, F::DepositAuction, &[("organization", "91350100M000100Y43")]),
    ("/admin/trades/{id}/payment-received", Who::AdminHome, F::Bought { paid: false }, &[("confirm", "1")]),
    ("/listings/new", Who::Owner, F::Nothing, &[("title", "新成果"), ("summary", "摘要"), ("description", "说明"), ("field", "ic"),
        ("ip_type", "know_how"), ("trl", "6"), ("transaction_modes", "transfer"), ("pricing.mode", "negotiable")]),
    ("/listings/{id}/edit", Who::Owner, F::Listing("draft", "negotiable"), &[("title", "改过的标题"), ("summary", "摘要"), ("description", "说明"),
        ("field", "ic"), ("ip_type", "know_how"), ("trl", "6"), ("transaction_modes", "transfer"), ("pricing.mode", "negotiable")]),
    ("/listings/{id}/submit", Who::Owner, F::Listing("draft", "negotiable"), &[]),
    ("/listings/{id}/withdraw", Who::Owner, F::Listing("listed", "negotiable"), &[]),
    ("/listings/{id}/offers", Who::Other, F::Listing("listed", "negotiable"), &[("amount", "200万"), ("transaction_mode", "transfer")]),
    ("/listings/{id}/buy", Who::Other, F::Listing("listed", "fixed"), &[("transaction_mode", "transfer"), ("confirm", "1")]),
    ("/listings/{id}/bids", Who::Other, F::Listing("listed", "auction"), &[("amount", "100万")]),
    ("/offers/{id}/counter", Who::Owner, F::OfferToParty, &[("amount", "250万")]),
    ("/offers/{id}/accept", Who::Owner, F::OfferToParty, &[]),
    ("/offers/{id}/reject", Who::Owner, F::OfferToParty, &[]),
    ("/offers/{id}/withdraw", Who::Owner, F::OfferByParty, &[]),
    ("/trades/{id}/confirm-delivery", Who::Owner, F::Bought { paid: true }, &[("confirm", "1")]),
    ("/trades/{id}/delivery", Who::Other, F::Bought { paid: true }, &[("note", "资料已交付")]),
    ("/admin/settlement-account", Who::AdminHome, F::Nothing, &[("bank", "示例银行"), ("account_name", "结算专户"), ("account_number", "6222 0001")]),
    ("/trades/{id}/cancel", Who::Owner, F::Bought { paid: false }, &[("reason", "买方改变计划")]),
    ("/trades/{id}/disputes", Who::Owner, F::Bought { paid: true }, &[("reason", "交付的资料不完整")]),
    ("/admin/disputes/{id}/resolve", Who::AdminHome, F::Disputed, &[("outcome", "buyer"), ("reason", "卖方未能交付"), ("confirm", "1")]),
    ("/admin/payouts", Who::AdminHome, F::Nothing, &[("party", "seller"), ("amount_fen", "1"), ("bank_reference", "SU-0001"), ("confirm", "1")]),
    ("/demands/new", Who::Owner, F::Nothing, &[("title", "寻求高速ADC芯片技术"), ("description", "需要高速流水线ADC"), ("field", "ic")]),
    ("/demands/{id}/close", Who::Owner, F::Demand, &[]),
    ("/admin/api-keys", Who::AdminHome, F::Nothing, &[("name", "ERP"), ("scopes", "read")]),
    ("/admin/api-keys/{id}/revoke", Who::AdminHome, F::ApiKey, &[]),
    ("/admin/webhooks", Who::AdminHome, F::Nothing, &[("url", "http://127.0.0.1:9/hook"), ("events", "trade.paid")]),
    ("/admin/webhooks/{id}/disable", Who::AdminHome, F::Webhook, &[]),
    ("/admin/webhooks/{id}/deliveries/{delivery}/redeliver", Who::AdminHome, F::Delivery, &[]),
    ("/finance/products", Who::Lender, F::Nothing, &[("name", "知识价值信用贷"), ("rate_min", "3.5"), ("rate_max", "4.8"),
        ("max_amount", "1000万"), ("term_min_months", "6"), ("term_max_months", "36")]),
    // The lender is chosen on the form; without one the form is shown again (422), not refused.
    ("/listings/{id}/pledge", Who::Owner, F::PledgeableListing, &[("amount", "100万"), ("term", "12")]),
    ("/finance/pledges/{id}/approve", Who::Owner, F::PledgeToParty("submitted"), &[("registration_no", "2026-CQ-ZY-9")]),
    ("/finance/pledges/{id}/reject", Who::Owner, F::PledgeToParty("submitted"), &[("reason", "估值不足")]),
    ("/finance/pledges/{id}/release", Who::Owner, F::PledgeToParty("active"), &[]),
    ("/finance/pledges/{id}/consent", Who::Owner, F::PledgeToParty("active"), &[("trade_mode", "transfer")]),
    // A multipart form on the page; sent as an ordinary form, its token is still checked first.
    ("/listings/{id}/documents", Who::Owner, F::Listing("draft", "negotiable"), &[]),
    ("/listings/{id}/documents/{doc}/remove", Who::Owner, F::Document, &[]),
    ("/admin/experts", Who::AdminHome, F::Nothing, &[("email", "other@authz.example"), ("fields", "ic"), ("title", "教授"), ("bio", "集成电路设计")]),
    ("/admin/experts/{id}/deactivate", Who::AdminHome, F::Expert, &[]),
    // Without experts chosen the panel page comes back with the reason (422), not refused.
    ("/admin/listings/{id}/evaluation", Who::AdminHome, F::Listing("listed", "negotiable"), &[("due_at", "2030-01-01T10:00")]),
    ("/evaluations/{id}/scores", Who::Owner, F::EvaluationFor, &[("maturity_trl", "6"), ("innovation", "4"), ("advancement", "3"), ("market", "4"), ("comment", "可行")]),
    ("/evaluations/{id}/decline", Who::Owner, F::EvaluationFor, &[]),
    // Technology brokers: the owner engages one on a trade it bought (an unknown broker comes back as
    // the trade page's refusal), answers as the broker, and an admin certifies and revokes.
    ("/trades/{id}/broker", Who::Owner, F::Bought { paid: false }, &[("broker_id", "00000000-0000-0000-0000-000000000000"), ("side", "buyer"), ("rate", "3")]),
    ("/broker-engagements/{id}/accept", Who::Owner, F::EngagementOfParty, &[]),
    ("/broker-engagements/{id}/decline", Who::Owner, F::EngagementOfParty, &[]),
    ("/admin/brokers", Who::AdminHome, F::Nothing, &[("email", "other@authz.example"), ("certificate_no", "JJR-FORM-1")]),
    ("/admin/brokers/{id}/revoke", Who::AdminHome, F::Broker, &[("reason", "证书到期")]),
    // The seller's delivery attachments: multipart too, the token checked first.
    ("/trades/{id}/delivery/attachments", Who::Other, F::Bought { paid: true }, &[]),
    ("/admin/organizations/{id}/refuse", Who::AdminHome, F::UnverifiedOrg, &[("reason", "信用代码与营业执照不符")]),
];

/// A digest of every table a form could change (sessions included: signing in or out is a change).
async fn digest(app: &TestApp) -> String {
    let mut out = String::new();
    for table in [
        "organizations",
        "users",
        "organization_invitations",
        "sessions",
        "audit_log",
        "notifications",
        "org_restrictions",
        "fee_schedules",
        "listings",
        "auctions",
        "bids",
        "auction_deposits",
        "offers",
        "trades",
        "disputes",
        "payouts",
        "demands",
        "ledger_pending",
        "ledger_entries",
        "api_keys",
        "webhooks",
        "webhook_deliveries",
        "pledge_requests",
        "financing_products",
        "listing_documents",
        "experts",
        "evaluations",
        "evaluation_members",
        "brokers",
        "broker_engagements",
        "delivery_attachments",
    ] {
        let sql = format!(
            "select md5(coalesce(string_agg(t::text, ',' order by t::text), '')) from {table} t"
        );
        let d: String = sqlx::query_scalar(&sql).fetch_one(&app.pool).await.unwrap();
        out.push_str(&format!("{table}:{d} "));
    }
    out
}

/// The cookies of `who` and the CSRF token their pages carry. Members and visitors get a fresh
/// session for every row (a row may sign them out); administrators keep theirs (`admins`).
async fn session(w: &World, who: Who, admins: &mut HashMap<Who, String>) -> (String, String) {
    let cookies = match who {
        Who::Visitor => cookies_from(&w.app.page("/login", "").await.headers),
        Who::Owner => web_login(&w.app, &w.owner.email).await,
        Who::Other => web_login(&w.app, &w.other.email).await,
        Who::AdminHome => admin_session(w, who, "admin-suaee@test.example", admins).await,
        Who::AdminOther => admin_session(w, who, "admin-cquaee@test.example", admins).await,
        Who::Lender => web_login(&w.app, &w.lender.email).await,
    };
    let page = w.app.page("/login", &cookies).await;
    let token = input_value(&page.text, "_csrf").expect("a page carries the CSRF token");
    (cookies, token)
}

/// An administrator signs in once per test and keeps the session while it still opens /admin:
/// every sign-in takes a new step of their authenticator, so signing in for each row waited 30 s
/// a time (the test took five minutes).
async fn admin_session(
    w: &World,
    who: Who,
    email: &str,
    admins: &mut HashMap<Who, String>,
) -> String {
    if let Some(c) = admins.get(&who) {
        if w.app.page("/admin", c).await.status == StatusCode::OK {
            return c.clone();
        }
    }
    let c = web_login(&w.app, email).await;
    admins.insert(who, c.clone());
    c
}

#[sqlx::test(migrations = "./migrations")]
async fn every_form_without_its_csrf_token_is_refused_and_changes_nothing(pool: PgPool) {
    let w = World::new(TestApp::new(pool)).await;
    let mut wrong = Vec::new();
    let mut admins = HashMap::new();
    for &(path, who, fixture, fields) in FORMS {
        let uri = world::prepare(&w, fixture, &w.owner, path).await;
        let (cookies, token) = session(&w, who, &mut admins).await;
        let before = digest(&w.app).await;
        for csrf in [None, Some("forged-token")] {
            let mut sent = fields.to_vec();
            if let Some(t) = csrf {
                sent.push(("_csrf", t));
            }
            let r = w.app.form(&uri, &cookies, &sent).await;
            if r.status != StatusCode::FORBIDDEN {
                wrong.push(format!(
                    "POST {path} as {who:?} with csrf {csrf:?}: {} instead of 403",
                    r.status
                ));
            }
            if digest(&w.app).await != before {
                wrong.push(format!(
                    "POST {path} as {who:?} with csrf {csrf:?} changed the database"
                ));
            }
        }
        // With the page's own token the form goes through (or fails for another reason than 403).
        let mut sent = fields.to_vec();
        sent.push(("_csrf", token.as_str()));
        let r = w.app.form(&uri, &cookies, &sent).await;
        if r.status == StatusCode::FORBIDDEN {
            wrong.push(format!(
                "POST {path} as {who:?} with its token: 403 {}",
                r.text.chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} forms differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The POST routes of `src/http/web` (read from the source: `.route("…", …post(…))`).
fn web_post_routes() -> BTreeSet<String> {
    let mut files = vec![std::path::PathBuf::from("src/http/web")];
    let mut out = BTreeSet::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for chunk in text.split(".route(").skip(1) {
            // The route's own call: up to the next route, or the end of the router's chain.
            let call = chunk.split(';').next().unwrap_or("");
            let call = call.split("\n}").next().unwrap_or("");
            let Some(path) = call.split('"').nth(1) else {
                continue;
            };
            if call.contains("post(") {
                out.insert(path.replace("{org}", "{id}"));
            }
        }
    }
    out
}

#[test]
fn every_post_route_of_the_pages_has_a_row() {
    let routes = web_post_routes();
    assert!(routes.len() >= 20, "the routes were not found: {routes:?}");
    let rows: BTreeSet<String> = FORMS.iter().map(|(p, ..)| p.to_string()).collect();
    let missing: Vec<_> = routes.difference(&rows).collect();
    let gone: Vec<_> = rows.difference(&routes).collect();
    assert!(missing.is_empty(), "form routes without a row: {missing:?}");
    assert!(
        gone.is_empty(),
        "rows for form routes that do not exist: {gone:?}"
    );
}
