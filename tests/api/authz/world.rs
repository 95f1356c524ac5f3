//! The actors of the authorization matrix, made once per test, and the fixtures each cell of the
//! matrix gets afresh (straight in the database where the use case that makes them is not what is
//! being tested, so a cell costs a few statements, not a password hash).
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use techmarket::domain::codes::TransactionMode;
use techmarket::service::trades::NewTrade;
use uuid::Uuid;

use crate::helpers::*;

/// Who calls. The home exchange of every organisation that owns something here is `suaee`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// No token.
    Anon,
    /// A verified member of an unrelated organisation (Chongqing, `cquaee`).
    Other,
    /// A member of the organisation the row's object belongs to (the party entitled to act).
    Owner,
    /// An administrator of another exchange (`cquaee`).
    AdminOther,
    /// An administrator of the object's home exchange (`suaee`).
    AdminHome,
    /// A member of a verified organisation under a credit restriction.
    Restricted,
    /// A member of an organisation its exchange has not verified.
    Unverified,
}

pub const ACTORS: [Actor; 7] = [
    Actor::Anon,
    Actor::Other,
    Actor::Owner,
    Actor::AdminOther,
    Actor::AdminHome,
    Actor::Restricted,
    Actor::Unverified,
];

/// Whose place the restricted and the unverified organisation take in a row: that of the object's
/// owner (the restricted organisation submits its own listing, say) or that of an outsider (the
/// restricted organisation makes an offer on someone else's listing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Owner,
    Other,
}

pub struct World {
    pub app: TestApp,
    pub owner: Member,
    pub other: Member,
    /// The counterparty where an object needs one (the maker of an offer the owner answers, the
    /// seller of a trade the owner bought in): verified, `suaee`.
    pub counterparty: Member,
    pub restricted: Member,
    pub unverified: Member,
    pub admin_home: String,
    pub admin_other: String,
    /// A verified financial institution (`cquaee`), the lender of pledge requests.
    pub lender: Member,
}

impl World {
    pub async fn new(app: TestApp) -> World {
        let owner = app.verified_member("owner@authz.example", "suaee").await;
        let other = app.verified_member("other@authz.example", "cquaee").await;
        let counterparty = app
            .verified_member("counterparty@authz.example", "suaee")
            .await;
        let restricted = app
            .verified_member("restricted@authz.example", "suaee")
            .await;
        let unverified = app.member("unverified@authz.example", "suaee").await;
        let admin_home = app.admin("suaee").await;
        let admin_other = app.admin("cquaee").await;
        restrict(&app, &restricted.org_id).await;
        let lender = crate::pledges::lender(&app, "lender@authz.example", "cquaee").await;
        World {
            lender,
            app,
            owner,
            other,
            counterparty,
            restricted,
            unverified,
            admin_home,
            admin_other,
        }
    }

    pub fn token(&self, a: Actor) -> Option<&str> {
        match a {
            Actor::Anon => None,
            Actor::Other => Some(&self.other.token),
            Actor::Owner => Some(&self.owner.token),
            Actor::AdminOther => Some(&self.admin_other),
            Actor::AdminHome => Some(&self.admin_home),
            Actor::Restricted => Some(&self.restricted.token),
            Actor::Unverified => Some(&self.unverified.token),
        }
    }

    /// The e-mail address the actor signs in with.
    pub fn email(&self, a: Actor) -> String {
        match a {
            Actor::Anon | Actor::Owner => self.owner.email.clone(),
            Actor::Other => self.other.email.clone(),
            Actor::AdminOther => "admin-cquaee@test.example".into(),
            Actor::AdminHome => "admin-suaee@test.example".into(),
            Actor::Restricted => self.restricted.email.clone(),
            Actor::Unverified => self.unverified.email.clone(),
        }
    }

    /// The member whose organisation owns the row's object when `a` calls.
    pub fn party(&self, party: Party, a: Actor) -> &Member {
        match (party, a) {
            (Party::Owner, Actor::Restricted) => &self.restricted,
            (Party::Owner, Actor::Unverified) => &self.unverified,
            _ => &self.owner,
        }
    }
}

/// An organisation restricted from now on (as `restrict` records it).
pub async fn restrict(app: &TestApp, org: &str) {
    sqlx::query(
        "insert into org_restrictions (id, organization_id, reason, created_at) values ($1, $2::uuid, '逾期未付款', now())",
    )
    .bind(Uuid::now_v7())
    .bind(org)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// A bare organisation of `suaee`, unverified, with no members.
pub async fn organization(app: &TestApp) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(500_000);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into organizations (id, name, kind, province, exchange, credit_code) \
         values ($1, $2, 'enterprise', 'sichuan', 'suaee', $3)",
    )
    .bind(id)
    .bind(format!("矩阵测试机构 {n}"))
    .bind(credit_code(n))
    .execute(&app.pool)
    .await
    .unwrap();
    id.to_string()
}

/// A listing of `m`'s organisation in `status`, priced by `pricing` (an auction is opened for
/// `auction` listings that are listed).
pub async fn listing(app: &TestApp, m: &Member, status: &str, pricing: &str) -> String {
    let id = Uuid::now_v7();
    let price = (pricing == "fixed").then_some(350_000_000i64);
    sqlx::query(
        "insert into listings (id, organization_id, created_by, title, summary, description, field, ip_type, trl, \
         transaction_modes, keywords, pricing_mode, price_fen, status, exchange, province, listed_at) \
         select $1, o.id, $3::uuid, $4, '摘要', '说明', 'ic', 'know_how', 6, '{transfer,nonexclusive_license}', '{}', \
                $5, $6, $7, o.exchange, o.province, case when $7 = 'listed' then now() end \
         from organizations o where o.id = $2::uuid",
    )
    .bind(id)
    .bind(&m.org_id)
    .bind(&m.user_id)
    .bind(format!("授权矩阵成果 {id}"))
    .bind(pricing)
    .bind(price)
    .bind(status)
    .execute(&app.pool)
    .await
    .unwrap();
    if pricing == "auction" && status == "listed" {
        sqlx::query(
            "insert into auctions (listing_id, status, start_price_fen, increment_fen, ends_at, opened_at) \
             values ($1, 'open', 100000000, 1000000, now() + interval '1 day', now())",
        )
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    id.to_string()
}

/// An open offer on `listing`, from `buyer`'s organisation, made by `made_by` (`buyer` | `seller`).
pub async fn offer(
    app: &TestApp,
    listing: &str,
    buyer: &Member,
    made_by: &str,
    by: &Member,
) -> String {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into offers (id, listing_id, thread_id, buyer_org_id, made_by, made_by_user, amount_fen, \
         transaction_mode, status, expires_at) \
         values ($1, $2::uuid, $1, $3::uuid, $4, $5::uuid, 200000000, 'transfer', 'open', now() + interval '7 days')",
    )
    .bind(id)
    .bind(listing)
    .bind(&buyer.org_id)
    .bind(made_by)
    .bind(&by.user_id)
    .execute(&app.pool)
    .await
    .unwrap();
    id.to_string()
}

/// An open demand of `m`'s organisation.
pub async fn demand(app: &TestApp, m: &Member) -> String {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into demands (id, organization_id, created_by, title, description, field, province, exchange) \
         select $1, o.id, $3::uuid, '寻求芯片技术', '需要高速ADC', 'ic', o.province, o.exchange \
         from organizations o where o.id = $2::uuid",
    )
    .bind(id)
    .bind(&m.org_id)
    .bind(&m.user_id)
    .execute(&app.pool)
    .await
    .unwrap();
    id.to_string()
}

/// A trade in which `buyer`'s organisation bought from `seller`'s, `awaiting_payment`; `paid`
/// moves it on as the home exchange's admin would.
pub async fn trade(w: &World, seller: &Member, buyer: &Member, paid: bool) -> String {
    let l = listing(&w.app, seller, "sold", "fixed").await;
    let mut tx = w.app.pool.begin().await.unwrap();
    let id = techmarket::service::trades::create(
        &mut tx,
        NewTrade {
            listing_id: l.parse().unwrap(),
            seller_org: seller.org_id.parse().unwrap(),
            buyer_org: buyer.org_id.parse().unwrap(),
            price_fen: 350_000_000,
            mode: TransactionMode::Transfer,
            seller_exchange: "suaee".into(),
            buyer_exchange: "suaee".into(),
            source: "purchase",
            offer_id: None,
            now: Utc::now(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let id = id.to_string();
    if paid {
        let uri = format!("/api/v1/admin/trades/{id}/payment-received");
        let r = w.app.post(&uri, Some(&w.admin_home), json!({})).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "paying the fixture trade: {}",
            r.text
        );
    }
    id
}

/// A draft fee schedule by the home exchange's administrator.
pub async fn fee_draft(w: &World) -> String {
    let r = w
        .app
        .post(
            "/api/v1/admin/fee-schedules",
            Some(&w.admin_home),
            fee_schedule_body(),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

pub fn fee_schedule_body() -> Value {
    let side = json!({"bands": [{"up_to_fen": null, "rate_ppm": 20_000}], "min_fee_fen": 0, "max_fee_fen": null});
    json!({"name": "矩阵测试收费标准", "buyer": side, "seller": side,
           "effective_from": (Utc::now() + Duration::days(30)).to_rfc3339()})
}

pub fn listing_body() -> Value {
    json!({"title": "授权矩阵新成果", "summary": "摘要", "description": "说明", "field": "ic", "ip_type": "know_how",
           "ip_numbers": [], "trl": 6, "transaction_modes": ["transfer"], "keywords": ["示例"],
           "pricing": {"mode": "negotiable"}})
}

pub fn demand_body() -> Value {
    json!({"title": "寻求高速ADC芯片技术", "description": "需要高速流水线ADC", "field": "ic", "keywords": ["ADC"]})
}

/// A new visitor's registration (a fresh e-mail address and credit code each time).
pub fn register_body() -> Value {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(600_000);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    json!({"email": format!("new{n}@authz.example"), "password": PASSWORD, "display_name": "新用户",
           "organization": {"name": format!("新机构 {n}"), "kind": "enterprise", "province": "sichuan",
                            "exchange": "suaee", "credit_code": credit_code(n)}})
}

/// An API key of the home exchange, issued by its administrator.
pub async fn api_key(w: &World) -> String {
    let r = w
        .app
        .post(
            "/api/v1/admin/api-keys",
            Some(&w.admin_home),
            json!({"name": "矩阵测试密钥", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// A webhook of the home exchange (nothing listens there; nothing is delivered in these tests).
pub async fn webhook(w: &World) -> String {
    let r = w
        .app
        .post(
            "/api/v1/admin/webhooks",
            Some(&w.admin_home),
            json!({"url": "http://127.0.0.1:9/hook", "events": ["trade.paid"]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// A failed delivery of a home-exchange webhook: (webhook id, delivery id).
pub async fn delivery(w: &World) -> (String, String) {
    let hook = webhook(w).await;
    let id: i64 = sqlx::query_scalar(
        "with e as (insert into outbox_events (type, data, exchanges, seq) \
           values ('trade.paid', '{}', array['suaee'], (select coalesce(max(seq), 0) + 1 from outbox_events)) \
           returning n, seq) \
         insert into webhook_deliveries (webhook_id, event_n, seq, status, since, next_attempt_at) \
         select $1::uuid, e.n, e.seq, 'failed', now(), now() from e returning id",
    )
    .bind(&hook)
    .fetch_one(&w.app.pool)
    .await
    .unwrap();
    (hook, id.to_string())
}

/// A member (not an owner) of `m`'s organisation, made straight in the database: its id.
pub async fn colleague(app: &TestApp, m: &Member) -> String {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into users (id, email, password_hash, display_name, role, organization_id, org_role) \
         values ($1, $2, 'not a hash: never signs in', '同事', 'member', $3::uuid, 'member')",
    )
    .bind(id)
    .bind(format!("colleague-{id}@authz.example"))
    .bind(&m.org_id)
    .execute(&app.pool)
    .await
    .unwrap();
    id.to_string()
}

/// An unused invitation of `m`'s organisation for `email`, made straight in the database: its id
/// and the link's secret.
pub async fn invitation(app: &TestApp, m: &Member, email: &str) -> (String, String) {
    let id = Uuid::now_v7();
    let secret = techmarket::auth::token::generate("inv_");
    sqlx::query(
        "insert into organization_invitations \
         (id, organization_id, email, role, token_hash, created_by, created_at, expires_at) \
         values ($1, $2::uuid, $3, 'member', $4, $5::uuid, now(), now() + interval '7 days')",
    )
    .bind(id)
    .bind(&m.org_id)
    .bind(email)
    .bind(techmarket::auth::token::hash(&secret))
    .bind(&m.user_id)
    .execute(&app.pool)
    .await
    .unwrap();
    (id.to_string(), secret)
}

/// What a route acts on, made fresh before each call (the API matrix and the forms table share
/// it); `{id}` (and `{delivery_id}`) in the path are replaced by its ids
/// (the pages name the latter `{delivery}`).
#[derive(Debug, Clone, Copy)]
pub enum Fixture {
    /// Nothing: the route creates.
    Nothing,
    /// A fresh unverified organisation of the home exchange.
    UnverifiedOrg,
    /// A fresh organisation under a restriction.
    RestrictedOrg,
    /// A draft fee schedule by the home exchange's administrator.
    FeeDraft,
    /// An open demand of the party.
    Demand,
    /// A listing of the party: status and pricing mode.
    Listing(&'static str, &'static str),
    /// An open offer that the counterparty made on the party's listing (the party answers it).
    OfferToParty,
    /// An open offer that the party made on the counterparty's listing (the party withdraws it).
    OfferByParty,
    /// A trade in which the party bought from the counterparty; paid or not.
    Bought {
        paid: bool,
    },
    /// Such a trade, paid, in dispute (opened by the party); `{id}` is the dispute's.
    Disputed,
    /// Such a trade, paid and settled: the seller (the counterparty) is owed its proceeds.
    Settled,
    /// A listed auction of the party that requires a deposit (the counterparty's is recorded).
    DepositAuction,
    /// A notice in the party's organisation's inbox.
    Notice,
    /// An API key, a webhook, a webhook's delivery (`{delivery_id}`) of the home exchange.
    ApiKey,
    Webhook,
    Delivery,
    /// A member (not an owner) of the party's organisation (`{user_id}`, or `{id}` on the pages).
    Colleague,
    /// An unused invitation of the party's organisation (`{id}`).
    Invitation,
    /// An unused invitation of the party's organisation for `join@authz.example`: the link's
    /// secret is `{token}`.
    InvitationLink,
    /// A listed invention patent of the party (one that may be pledged).
    PledgeableListing,
    /// A pledge request, in this status, on the counterparty's patent with the party as the lender.
    PledgeToParty(&'static str),
    /// A draft listing of the party with one document (`{id}` the listing's, `{doc}` the document's).
    Document,
    /// A member of the counterparty's organisation, not a broker yet (`{id}` is the user's).
    BrokerCandidate,
    /// An active broker (a member of the counterparty's organisation).
    Broker,
    /// A proposed engagement of the party's own user as broker, on a trade its organisation bought.
    EngagementOfParty,
    /// A fresh member (of a fresh organisation) who is not an expert: `{id}` is the user's id.
    ExpertCandidate,
    /// A fresh active expert.
    Expert,
    /// An evaluation in progress of the counterparty's listing with the party's user invited.
    EvaluationFor,
}

/// Makes `f` for party `p`; returns `path` with its ids filled in.
pub async fn prepare(w: &World, f: Fixture, p: &Member, path: &str) -> String {
    prepare_with_id(w, f, p, path).await.0
}

/// [`prepare`], and the id of what was made (for a body that names it).
pub async fn prepare_with_id(
    w: &World,
    f: Fixture,
    p: &Member,
    path: &str,
) -> (String, Option<String>) {
    use Fixture as F;
    let id = match f {
        F::Nothing => return (path.to_string(), None),
        F::UnverifiedOrg => organization(&w.app).await,
        F::RestrictedOrg => {
            let id = organization(&w.app).await;
            restrict(&w.app, &id).await;
            id
        }
        F::FeeDraft => fee_draft(w).await,
        F::Demand => demand(&w.app, p).await,
        F::Listing(status, pricing) => listing(&w.app, p, status, pricing).await,
        F::DepositAuction => {
            let id = listing(&w.app, p, "listed", "auction").await;
            sqlx::query("update auctions set deposit_fen = 500000 where listing_id = $1::uuid")
                .bind(&id)
                .execute(&w.app.pool)
                .await
                .unwrap();
            id
        }
        F::Notice => sqlx::query_scalar::<_, i64>(
            "insert into notifications (organization_id, kind, title_zh, title_en) \
             values ($1::uuid, 'outbid', '您的出价已被超过', 'You have been outbid') returning id",
        )
        .bind(&p.org_id)
        .fetch_one(&w.app.pool)
        .await
        .unwrap()
        .to_string(),
        F::OfferToParty => {
            let l = listing(&w.app, p, "listed", "negotiable").await;
            offer(&w.app, &l, &w.counterparty, "buyer", &w.counterparty).await
        }
        F::OfferByParty => {
            let l = listing(&w.app, &w.counterparty, "listed", "negotiable").await;
            offer(&w.app, &l, p, "buyer", p).await
        }
        F::Bought { paid } => trade(w, &w.counterparty, p, paid).await,
        F::Disputed => {
            let t = trade(w, &w.counterparty, p, true).await;
            let d = Uuid::now_v7();
            sqlx::query(
                "with d as (insert into disputes (id, trade_id, opened_by_party, reason, opened_from, opened_at) \
                   values ($1, $2::uuid, 'buyer', '交付不完整', 'paid', now())) \
                 update trades set status = 'disputed' where id = $2::uuid",
            )
            .bind(d)
            .bind(&t)
            .execute(&w.app.pool)
            .await
            .unwrap();
            d.to_string()
        }
        F::Settled => {
            let t = trade(w, &w.counterparty, p, true).await;
            let r = w
                .app
                .post(
                    &format!("/api/v1/trades/{t}/confirm-delivery"),
                    Some(&p.token),
                    json!({}),
                )
                .await;
            assert_eq!(
                r.status.as_u16(),
                200,
                "settling the fixture trade: {}",
                r.text
            );
            t
        }
        F::ApiKey => api_key(w).await,
        F::PledgeableListing => pledgeable_listing(&w.app, p).await,
        F::PledgeToParty(status) => pledge_request(w, p, status).await,
        F::BrokerCandidate => crate::brokers::candidate(&w.app.pool, &w.counterparty.org_id).await,
        F::Broker => {
            let user = crate::brokers::candidate(&w.app.pool, &w.counterparty.org_id).await;
            crate::brokers::broker_row(&w.app.pool, &user).await
        }
        F::EngagementOfParty => {
            let t = trade(w, &w.counterparty, p, false).await;
            let b = crate::brokers::broker_row(&w.app.pool, &p.user_id).await;
            crate::brokers::proposed(&w.app.pool, &t, &b, "buyer").await
        }
        F::Webhook => webhook(w).await,
        F::ExpertCandidate => {
            let mut conn = w.app.pool.acquire().await.unwrap();
            crate::experts::bare_member(&mut conn, "cquaee", "候选专家")
                .await
                .0
        }
        F::Expert => crate::experts::fresh_expert(&w.app, "cquaee", "矩阵专家", &["ic"]).await,
        F::EvaluationFor => evaluation_for(w, p).await,
        F::Colleague => {
            let id = colleague(&w.app, p).await;
            return (
                path.replace("{user_id}", &id).replace("{id}", &id),
                Some(id),
            );
        }
        F::Invitation => invitation(&w.app, p, "invited@authz.example").await.0,
        F::InvitationLink => {
            let (_, secret) = invitation(&w.app, p, "join@authz.example").await;
            return (path.replace("{token}", &secret), None);
        }
        F::Document => {
            let l = listing(&w.app, p, "draft", "negotiable").await;
            let doc = Uuid::now_v7();
            sqlx::query(
                "with d as (insert into listing_documents (id, listing_id, name, content_type, size, sha256, storage, created_by) \
                   values ($1, $2::uuid, '证书.pdf', 'application/pdf', 8, '\\x00', 'postgres', $3::uuid) returning id) \
                 insert into listing_document_blobs (document_id, data) select id, '%PDF-1.4'::bytea from d",
            )
            .bind(doc)
            .bind(&l)
            .bind(&p.user_id)
            .execute(&w.app.pool)
            .await
            .unwrap();
            return (
                path.replace("{id}", &l).replace("{doc}", &doc.to_string()),
                Some(l),
            );
        }
        F::Delivery => {
            let (hook, delivery) = delivery(w).await;
            return (
                path.replace("{id}", &hook)
                    .replace("{delivery_id}", &delivery)
                    .replace("{delivery}", &delivery),
                Some(hook),
            );
        }
    };
    (path.replace("{id}", &id), Some(id))
}

/// A listed invention patent of `m`'s organisation.
pub async fn pledgeable_listing(app: &TestApp, m: &Member) -> String {
    let id = listing(app, m, "listed", "fixed").await;
    sqlx::query("update listings set ip_type = 'invention_patent' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .unwrap();
    id
}

/// A pledge request in `status` on a fresh patent of the counterparty, `lender`'s organisation
/// the lender (straight in the database: the fixture does not care that it is no bank).
pub async fn pledge_request(w: &World, lender: &Member, status: &str) -> String {
    let l = pledgeable_listing(&w.app, &w.counterparty).await;
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into pledge_requests (id, listing_id, owner_organization_id, lender_organization_id, amount_fen, \
         term_months, status, valuation, registration_no, created_at, decided_at) \
         values ($1, $2::uuid, $3::uuid, $4::uuid, 100000000, 12, $5, $6, \
                 case when $5 = 'active' then 'REG-1' end, now(), case when $5 = 'active' then now() end)",
    )
    .bind(id)
    .bind(&l)
    .bind(&w.counterparty.org_id)
    .bind(&lender.org_id)
    .bind(status)
    .bind(json!({"listing_price_fen": 350000000, "evaluation": null, "comparable_median_price_fen": null,
                 "comparable_count": 0, "comparable_field": "ic", "comparable_ip_type": "invention_patent",
                 "comparable_since": "2024-12-01T00:00:00Z", "comparables": [],
                 "owner": {"organization_id": w.counterparty.org_id, "verified": true, "restricted": false,
                           "trades_settled": 0},
                 "computed_at": "2026-12-01T00:00:00Z"}))
    .execute(&w.app.pool)
    .await
    .unwrap();
    id.to_string()
}

/// An evaluation in progress of a fresh listing of the counterparty, the party's user invited
/// beside two fresh experts (straight in the database: no conflict rules in a fixture).
pub async fn evaluation_for(w: &World, p: &Member) -> String {
    let l = listing(&w.app, &w.counterparty, "listed", "negotiable").await;
    let mine = {
        let mut conn = w.app.pool.acquire().await.unwrap();
        crate::experts::expert_of(&mut conn, &p.user_id, &["ic"]).await
    };
    let mut panel = vec![mine];
    for _ in 0..2 {
        panel.push(crate::experts::fresh_expert(&w.app, "suaee", "矩阵专家", &["ic"]).await);
    }
    crate::experts::evaluation_of(&w.app, &l, &panel, Duration::days(7)).await
}
