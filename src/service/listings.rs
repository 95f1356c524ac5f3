//! Technology achievements: drafting, review, search.
//!
//! Workflow (DOMAIN.md): `draft → pending_review → listed → sold | withdrawn`,
//! `pending_review → rejected → (edit) → pending_review`. Any member of an organisation may draft;
//! submitting needs a verified, unrestricted organisation; an admin of the listing's home exchange reviews.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::listings::{AuctionTerms, ListingContent, ListingRow, SearchFilter, SearchSort};
use crate::domain::auction::{validate_auction, DEFAULT_EXTENSION_SECONDS};
use crate::domain::codes::{Exchange, Field, IpType, PricingMode, Province, TransactionMode};
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::listing::ListingStatus;
use crate::domain::money::{format_yuan, MAX_AMOUNT_FEN};
use crate::domain::patent::{validate_ip_numbers, PatentNumber};
use crate::domain::text::{build_tsquery, TsVectorBuilder};
use crate::error::{Error, Result};
use crate::service::events::{self, Event};
use crate::service::{guards, Page, PageQuery};

pub mod cache;
mod seed;
pub use seed::{patent_number, seed_bulk, seed_demo};

pub const TITLE_MIN: usize = 4;
pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const KEYWORDS_MAX: usize = 20;
pub const KEYWORD_MAX_CHARS: usize = 30;
pub const REASON_MAX: usize = 1_000;
/// Longest search text taken into account.
pub const QUERY_MAX_CHARS: usize = 200;

// ------------------------------------------------------------------ input

/// A listing as the owner sends it (`POST /api/v1/listings`).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ListingInput {
    /// 4–200 characters.
    pub title: String,
    /// Up to 500 characters.
    #[serde(default)]
    pub summary: String,
    /// Plain text, paragraphs separated by blank lines; up to 20,000 characters.
    #[serde(default)]
    pub description: String,
    /// A field code of DOMAIN.md (`ic`, `aerospace`, …).
    pub field: String,
    /// An IP type code (`invention_patent`, …).
    pub ip_type: String,
    /// Patent application numbers (any spelling: `ZL201710601862.3`) or registration numbers.
    #[serde(default)]
    pub ip_numbers: Vec<String>,
    /// Technology readiness level 1–9.
    pub trl: i64,
    /// At least one of `transfer`, `exclusive_license`, `sole_license`, `nonexclusive_license`, `equity`, `joint_development`.
    pub transaction_modes: Vec<String>,
    /// Up to 20, each up to 30 characters.
    #[serde(default)]
    pub keywords: Vec<String>,
    pub pricing: PricingInput,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PricingInput {
    /// `negotiable` | `fixed` | `auction`
    pub mode: String,
    /// Fixed: the listed price (required). Negotiable: an optional indicative price. Auction: absent.
    pub price_fen: Option<i64>,
    /// Auction terms (auction only).
    pub auction: Option<AuctionInput>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AuctionInput {
    pub start_price_fen: i64,
    pub increment_fen: i64,
    /// Secret reserve price (保留价), not below the start price; shown only to the owner and admins.
    pub reserve_fen: Option<i64>,
    /// In the future, at most 90 days ahead.
    pub ends_at: DateTime<Utc>,
    /// Anti-sniping extension, 0–3600 s (default 300).
    pub extension_seconds: Option<i64>,
}

/// A partial update (`PATCH`): any subset of the fields of [`ListingInput`]; `pricing` is replaced whole.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ListingPatch {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub field: Option<String>,
    pub ip_type: Option<String>,
    pub ip_numbers: Option<Vec<String>>,
    pub trl: Option<i64>,
    pub transaction_modes: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub pricing: Option<PricingInput>,
}

impl ListingPatch {
    fn apply(self, mut base: ListingInput) -> ListingInput {
        if let Some(v) = self.title {
            base.title = v;
        }
        if let Some(v) = self.summary {
            base.summary = v;
        }
        if let Some(v) = self.description {
            base.description = v;
        }
        if let Some(v) = self.field {
            base.field = v;
        }
        if let Some(v) = self.ip_type {
            base.ip_type = v;
        }
        if let Some(v) = self.ip_numbers {
            base.ip_numbers = v;
        }
        if let Some(v) = self.trl {
            base.trl = v;
        }
        if let Some(v) = self.transaction_modes {
            base.transaction_modes = v;
        }
        if let Some(v) = self.keywords {
            base.keywords = v;
        }
        if let Some(v) = self.pricing {
            base.pricing = v;
        }
        base
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReviewInput {
    /// `approve` | `reject`
    pub decision: String,
    /// Required when rejecting; the owner sees it.
    pub reason: Option<String>,
}

// ------------------------------------------------------------------ output

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListingView {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub field: String,
    pub ip_type: String,
    pub ip_numbers: Vec<String>,
    pub trl: i16,
    pub transaction_modes: Vec<String>,
    pub keywords: Vec<String>,
    pub pricing: PricingView,
    /// `draft` | `pending_review` | `listed` | `rejected` | `withdrawn` | `sold`
    pub status: String,
    pub exchange: String,
    pub province: String,
    pub organization: OrgRef,
    pub created_at: DateTime<Utc>,
    pub listed_at: Option<DateTime<Utc>>,
    /// Why the exchange rejected it (owner and admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
    /// When it was last submitted for review (owner and admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PricingView {
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction: Option<AuctionView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuctionView {
    pub start_price_fen: i64,
    pub increment_fen: i64,
    pub ends_at: DateTime<Utc>,
    pub extension_seconds: i32,
    /// Whether a secret reserve price is set.
    pub has_reserve: bool,
    /// The reserve itself: owner and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserve_fen: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

/// May `viewer` see the owner-only parts (reserve, reject reason) of `row`?
fn is_insider(viewer: Option<&CurrentUser>, row: &ListingRow) -> bool {
    viewer.is_some_and(|u| u.is_admin() || u.organization_id == Some(row.organization_id))
}

pub fn view(row: &ListingRow, viewer: Option<&CurrentUser>) -> ListingView {
    let insider = is_insider(viewer, row);
    let auction = match (row.start_price_fen, row.increment_fen, row.ends_at) {
        (Some(start), Some(inc), Some(ends)) if row.pricing_mode == "auction" => {
            Some(AuctionView {
                start_price_fen: start,
                increment_fen: inc,
                ends_at: ends,
                extension_seconds: row
                    .extension_seconds
                    .unwrap_or(DEFAULT_EXTENSION_SECONDS as i32),
                has_reserve: row.reserve_fen.is_some(),
                reserve_fen: if insider { row.reserve_fen } else { None },
            })
        }
        _ => None,
    };
    ListingView {
        id: row.id,
        title: row.title.clone(),
        summary: row.summary.clone(),
        description: row.description.clone(),
        field: row.field.clone(),
        ip_type: row.ip_type.clone(),
        ip_numbers: row.ip_numbers.clone(),
        trl: row.trl,
        transaction_modes: row.transaction_modes.clone(),
        keywords: row.keywords.clone(),
        pricing: PricingView {
            mode: row.pricing_mode.clone(),
            price_fen: row.price_fen,
            auction,
        },
        status: row.status.clone(),
        exchange: row.exchange.clone(),
        province: row.province.clone(),
        organization: OrgRef {
            id: row.organization_id,
            name: row.org_name.clone(),
            kind: row.org_kind.clone(),
        },
        created_at: row.created_at,
        listed_at: row.listed_at,
        reject_reason: if insider {
            row.reject_reason.clone()
        } else {
            None
        },
        submitted_at: if insider { row.submitted_at } else { None },
    }
}

/// The input that would recreate `row` (the base of a PATCH, and of re-validation on submit).
pub fn input_of(row: &ListingRow) -> ListingInput {
    ListingInput {
        title: row.title.clone(),
        summary: row.summary.clone(),
        description: row.description.clone(),
        field: row.field.clone(),
        ip_type: row.ip_type.clone(),
        ip_numbers: row.ip_numbers.clone(),
        trl: i64::from(row.trl),
        transaction_modes: row.transaction_modes.clone(),
        keywords: row.keywords.clone(),
        pricing: PricingInput {
            mode: row.pricing_mode.clone(),
            price_fen: row.price_fen,
            auction: match (row.start_price_fen, row.increment_fen, row.ends_at) {
                (Some(s), Some(i), Some(e)) if row.pricing_mode == "auction" => {
                    Some(AuctionInput {
                        start_price_fen: s,
                        increment_fen: i,
                        reserve_fen: row.reserve_fen,
                        ends_at: e,
                        extension_seconds: row.extension_seconds.map(i64::from),
                    })
                }
                _ => None,
            },
        },
    }
}

// ------------------------------------------------------------------ validation

fn check_amount(v: i64, path: &str, errs: &mut FieldErrors) {
    if v < 1 {
        errs.push(path, "err.listing.price_min", vec![]);
    } else if v > MAX_AMOUNT_FEN {
        errs.push(
            path,
            "err.amount.too_large",
            vec![("max", format_yuan(MAX_AMOUNT_FEN))],
        );
    }
}

/// The search vector of a listing: title and IP numbers A, summary and keywords B, description D.
pub fn search_vector(
    title: &str,
    summary: &str,
    keywords: &[String],
    ip_numbers: &[String],
    description: &str,
) -> String {
    let mut b = TsVectorBuilder::new();
    b.add(title, 'A');
    b.add_patent_numbers(ip_numbers);
    b.add(summary, 'B');
    for k in keywords {
        b.add(k, 'B');
    }
    b.add(description, 'D');
    b.build()
}

/// Canonical forms of the patent numbers among `numbers`.
pub fn canonical_numbers(numbers: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in numbers {
        if let Ok(p) = PatentNumber::parse(n) {
            let c = p.canonical();
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// Checks everything and returns what is stored; every problem at its JSON path.
pub fn validate(input: &ListingInput, now: DateTime<Utc>) -> Result<ListingContent, FieldErrors> {
    let mut errs = FieldErrors::new();
    check_text(&input.title, "title", TITLE_MIN, TITLE_MAX, &mut errs);
    check_text(&input.summary, "summary", 0, SUMMARY_MAX, &mut errs);
    check_text(
        &input.description,
        "description",
        0,
        DESCRIPTION_MAX,
        &mut errs,
    );
    let field = Field::parse(input.field.trim());
    if input.field.trim().is_empty() {
        errs.push("field", "err.code.choose", vec![]);
    } else if field.is_none() {
        errs.push(
            "field",
            "err.code.unknown",
            vec![("value", input.field.clone())],
        );
    }
    let ip_type = IpType::parse(input.ip_type.trim());
    let ip_numbers: Vec<String> = input
        .ip_numbers
        .iter()
        .map(|n| n.trim().to_string())
        .collect();
    for (i, n) in ip_numbers.iter().enumerate() {
        if n.chars().any(char::is_control) {
            errs.push(format!("ip_numbers[{i}]"), "err.text.control_chars", vec![]);
        }
    }
    match ip_type {
        Some(t) => validate_ip_numbers(t, &ip_numbers, "ip_numbers", &mut errs),
        None if input.ip_type.trim().is_empty() => errs.push("ip_type", "err.code.choose", vec![]),
        None => errs.push(
            "ip_type",
            "err.code.unknown",
            vec![("value", input.ip_type.clone())],
        ),
    }
    if input.trl == 0 {
        errs.push("trl", "err.code.choose", vec![]);
    } else if !(1..=9).contains(&input.trl) {
        errs.push("trl", "err.listing.trl_range", vec![]);
    }
    let mut modes: Vec<String> = Vec::new();
    if input.transaction_modes.is_empty() {
        errs.push("transaction_modes", "err.listing.modes_required", vec![]);
    }
    for (i, m) in input.transaction_modes.iter().enumerate() {
        match TransactionMode::parse(m.trim()) {
            Some(m) => {
                if !modes.iter().any(|x| x == m.code()) {
                    modes.push(m.code().to_string());
                }
            }
            None => errs.push(
                format!("transaction_modes[{i}]"),
                "err.code.unknown",
                vec![("value", m.clone())],
            ),
        }
    }
    let mut keywords: Vec<String> = Vec::new();
    if input.keywords.len() > KEYWORDS_MAX {
        errs.push(
            "keywords",
            "err.listing.keywords_too_many",
            vec![("max", KEYWORDS_MAX.to_string())],
        );
    } else {
        for (i, k) in input.keywords.iter().enumerate() {
            let k = k.trim();
            let path = format!("keywords[{i}]");
            let before = errs.len();
            check_text(k, &path, 1, KEYWORD_MAX_CHARS, &mut errs);
            if errs.len() == before && !keywords.iter().any(|x| x == k) {
                keywords.push(k.to_string());
            }
        }
    }
    let mode = PricingMode::parse(input.pricing.mode.trim());
    let mut auction = None;
    let mut price_fen = input.pricing.price_fen;
    match mode {
        None => errs.push(
            "pricing.mode",
            "err.code.unknown",
            vec![("value", input.pricing.mode.clone())],
        ),
        Some(PricingMode::Fixed) => {
            match input.pricing.price_fen {
                None => errs.push("pricing.price_fen", "err.listing.price_required", vec![]),
                Some(p) => check_amount(p, "pricing.price_fen", &mut errs),
            }
            if input.pricing.auction.is_some() {
                errs.push("pricing.auction", "err.listing.auction_not_allowed", vec![]);
            }
        }
        Some(PricingMode::Negotiable) => {
            if let Some(p) = input.pricing.price_fen {
                check_amount(p, "pricing.price_fen", &mut errs);
            }
            if input.pricing.auction.is_some() {
                errs.push("pricing.auction", "err.listing.auction_not_allowed", vec![]);
            }
        }
        Some(PricingMode::Auction) => {
            if input.pricing.price_fen.is_some() {
                errs.push("pricing.price_fen", "err.listing.price_not_allowed", vec![]);
            }
            price_fen = None;
            match &input.pricing.auction {
                None => errs.push("pricing.auction", "err.listing.auction_required", vec![]),
                Some(a) => {
                    validate_auction(
                        a.start_price_fen,
                        a.increment_fen,
                        a.reserve_fen,
                        a.ends_at,
                        a.extension_seconds,
                        now,
                        "pricing.auction",
                        &mut errs,
                    );
                    auction = Some(AuctionTerms {
                        start_price_fen: a.start_price_fen,
                        increment_fen: a.increment_fen,
                        reserve_fen: a.reserve_fen,
                        ends_at: a.ends_at,
                        extension_seconds: a
                            .extension_seconds
                            .unwrap_or(DEFAULT_EXTENSION_SECONDS)
                            .clamp(0, 3600) as i32,
                    });
                }
            }
        }
    }
    errs.into_result()?;
    let (Some(field), Some(ip_type), Some(mode)) = (field, ip_type, mode) else {
        return Err(FieldErrors::new());
    };
    let title = input.title.trim().to_string();
    let sort_price_fen = match &auction {
        Some(a) => Some(a.start_price_fen),
        None => price_fen,
    };
    Ok(ListingContent {
        search: search_vector(
            &title,
            &input.summary,
            &keywords,
            &ip_numbers,
            &input.description,
        ),
        ip_canonical: canonical_numbers(&ip_numbers),
        title,
        summary: input.summary.clone(),
        description: input.description.clone(),
        field: field.code().to_string(),
        ip_type: ip_type.code().to_string(),
        ip_numbers,
        trl: input.trl as i16,
        transaction_modes: modes,
        keywords,
        pricing_mode: mode.code().to_string(),
        price_fen,
        auction,
        sort_price_fen,
    })
}

// ------------------------------------------------------------------ use cases

fn status_of(row: &ListingRow) -> Result<ListingStatus> {
    ListingStatus::parse(&row.status)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("unknown listing status {}", row.status)))
}

/// May `viewer` see `row` at all? Drafts only to their owner and admins (API.md); every other
/// listing is public at its address — a buyer's trade or offer keeps pointing at a listing that was
/// later withdrawn. Search shows only `listed` ones, and a reject reason stays with insiders.
pub fn can_see(viewer: Option<&CurrentUser>, row: &ListingRow) -> bool {
    status_of(row).map(|s| s.is_public()).unwrap_or(false) || is_insider(viewer, row)
}

/// The owner's organisation, or 404 (can't see it) / 403 (can see it, not theirs).
fn require_owner(user: &CurrentUser, row: &ListingRow) -> Result<()> {
    if user.organization_id == Some(row.organization_id) {
        return Ok(());
    }
    if can_see(Some(user), row) {
        Err(Error::Forbidden("not_listing_owner"))
    } else {
        Err(Error::NotFound)
    }
}

async fn org_of(conn: &mut PgConnection, org: Uuid) -> Result<db::organizations::OrgRow> {
    db::organizations::get(conn, org)
        .await?
        .ok_or(Error::Forbidden("organization_required"))
}

async fn member_audit(
    conn: &mut PgConnection,
    user: &CurrentUser,
    action: &str,
    id: Uuid,
    before: &str,
    after: &str,
) -> Result<()> {
    db::audit::insert(
        conn,
        db::audit::NewAudit {
            actor_id: Some(user.id),
            actor: &user.email,
            action,
            target_type: "listing",
            target_id: id.to_string(),
            before: Some(serde_json::json!({ "status": before })),
            after: Some(serde_json::json!({ "status": after })),
        },
    )
    .await?;
    Ok(())
}

async fn reload(conn: &mut PgConnection, id: Uuid, user: &CurrentUser) -> Result<ListingView> {
    let row = db::listings::get(conn, id).await?.ok_or(Error::NotFound)?;
    Ok(view(&row, Some(user)))
}

/// Drafts a listing for the member's organisation (verification not needed to draft).
#[tracing::instrument(skip(pool, user, input), fields(user = %user.id))]
pub async fn create(pool: &PgPool, user: &CurrentUser, input: ListingInput) -> Result<ListingView> {
    let org_id = user.require_org()?;
    let content = validate(&input, Utc::now())?;
    let mut tx = pool.begin().await?;
    let org = org_of(&mut tx, org_id).await?;
    let id = Uuid::now_v7();
    db::listings::insert(
        &mut tx,
        id,
        org_id,
        user.id,
        &org.exchange,
        &org.province,
        &content,
    )
    .await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    Ok(v)
}

/// Changes a draft or rejected listing of the member's organisation; the whole result is re-validated.
#[tracing::instrument(skip(pool, user, patch), fields(user = %user.id))]
pub async fn update(
    pool: &PgPool,
    user: &CurrentUser,
    id: Uuid,
    patch: ListingPatch,
) -> Result<ListingView> {
    let mut tx = pool.begin().await?;
    // Auction before listing, the market's lock order (the update may rewrite the auction terms).
    db::listings::lock_auction(&mut tx, id).await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    require_owner(user, &row)?;
    let input = patch.apply(input_of(&row));
    let content = validate(&input, Utc::now())?;
    if !status_of(&row)?.can_edit() {
        return Err(Error::conflict("listing_not_editable"));
    }
    db::listings::update_content(&mut tx, id, &content).await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    Ok(v)
}

/// 409 `duplicate_ip` when another active listing names one of these patent numbers.
async fn check_duplicate_ip(conn: &mut PgConnection, id: Uuid, canonical: &[String]) -> Result<()> {
    db::listings::lock_ip_numbers(conn, canonical).await?;
    if let Some(other) = db::listings::find_active_with_ip(conn, id, canonical).await? {
        return Err(Error::Conflict {
            code: "duplicate_ip",
            args: Vec::new(),
            extra: Some(serde_json::json!({ "listing_id": other })),
        });
    }
    Ok(())
}

/// Sends a draft or rejected listing for review by its home exchange.
#[tracing::instrument(skip(pool, user), fields(user = %user.id))]
pub async fn submit(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<ListingView> {
    let mut tx = pool.begin().await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    require_owner(user, &row)?;
    guards::require_active_org(&mut tx, row.organization_id).await?;
    let status = status_of(&row)?;
    if status.can_submit() {
        // An auction end may have passed since the draft was saved.
        validate(&input_of(&row), Utc::now())?;
    } else {
        return Err(Error::conflict("listing_not_submittable"));
    }
    let canonical = canonical_numbers(&row.ip_numbers);
    check_duplicate_ip(&mut tx, id, &canonical).await?;
    db::listings::set_submitted(&mut tx, id).await?;
    let submitted = Event::ListingSubmitted {
        listing_id: id,
        organization_id: row.organization_id,
    };
    events::emit(&mut tx, &submitted).await?;
    member_audit(
        &mut tx,
        user,
        "listing.submit",
        id,
        status.code(),
        "pending_review",
    )
    .await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    Ok(v)
}

/// Takes a listing off the market (draft, pending, listed or rejected; not once sold).
#[tracing::instrument(skip(pool, user), fields(user = %user.id))]
pub async fn withdraw(pool: &PgPool, user: &CurrentUser, id: Uuid) -> Result<ListingView> {
    let mut tx = pool.begin().await?;
    // Lock order of the market: auction before listing (bids take them in that order), so a bid
    // racing a withdrawal neither deadlocks nor slips in after the "no bids" check.
    db::listings::lock_auction(&mut tx, id).await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    require_owner(user, &row)?;
    let status = status_of(&row)?;
    if !status.can_withdraw() {
        return Err(Error::conflict("listing_not_withdrawable"));
    }
    if db::listings::has_live_trade_or_bids(&mut tx, id).await? {
        return Err(Error::conflict("listing_not_withdrawable"));
    }
    db::listings::set_withdrawn(&mut tx, id).await?;
    crate::service::trading::close_offers_of_withdrawn(&mut tx, id, &row.title).await?;
    member_audit(
        &mut tx,
        user,
        "listing.withdraw",
        id,
        status.code(),
        "withdrawn",
    )
    .await?;
    let v = reload(&mut tx, id, user).await?;
    tx.commit().await?;
    search_changed(pool).await;
    Ok(v)
}

/// Approves or rejects a pending listing: only an admin of its home exchange.
#[tracing::instrument(skip(pool, admin, input), fields(admin = %admin.id))]
pub async fn review(
    pool: &PgPool,
    admin: &CurrentUser,
    id: Uuid,
    input: ReviewInput,
) -> Result<ListingView> {
    let exchange = admin.require_admin()?;
    let mut tx = pool.begin().await?;
    // Auction before listing, the market's lock order (approval opens the auction).
    db::listings::lock_auction(&mut tx, id).await?;
    let row = db::listings::get_for_update(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if row.exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    let mut errs = FieldErrors::new();
    let approve = match input.decision.trim() {
        "approve" => true,
        "reject" => false,
        other => {
            errs.push(
                "decision",
                "err.code.unknown",
                vec![("value", other.to_string())],
            );
            false
        }
    };
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .unwrap_or("")
        .to_string();
    if !approve && errs.is_empty() {
        check_text(&reason, "reason", 1, REASON_MAX, &mut errs);
    } else if reason.chars().count() > REASON_MAX {
        errs.push(
            "reason",
            "err.text.too_long",
            vec![("max", REASON_MAX.to_string())],
        );
    }
    errs.into_result()?;
    let status = status_of(&row)?;
    if !status.can_review() {
        return Err(Error::conflict("listing_not_pending"));
    }
    let after = ListingStatus::after_review(approve);
    if approve {
        // An auction whose end has passed while it waited cannot open.
        validate(&input_of(&row), Utc::now())?;
        let canonical = canonical_numbers(&row.ip_numbers);
        check_duplicate_ip(&mut tx, id, &canonical).await?;
        db::listings::set_listed(&mut tx, id, admin.id).await?;
        // Owners of open demands this listing fits well hear of it (once per pair).
        crate::service::demands::on_listing_listed(&mut tx, id).await?;
    } else {
        db::listings::set_rejected(&mut tx, id, admin.id, &reason).await?;
    }
    crate::service::admin::audit(
        &mut tx,
        admin,
        if approve {
            "listing.approve"
        } else {
            "listing.reject"
        },
        "listing",
        id,
        Some(serde_json::json!({ "status": status.code() })),
        Some(serde_json::json!({
            "status": after.code(),
            "title": row.title,
            "reason": if approve { None } else { Some(&reason) },
        })),
    )
    .await?;
    let reviewed = if approve {
        Event::ListingApproved {
            listing_id: id,
            organization_id: row.organization_id,
            title: row.title.clone(),
            exchange,
        }
    } else {
        Event::ListingRejected {
            listing_id: id,
            organization_id: row.organization_id,
            title: row.title.clone(),
            reason: reason.clone(),
        }
    };
    events::emit(&mut tx, &reviewed).await?;
    let v = reload(&mut tx, id, admin).await?;
    tx.commit().await?;
    search_changed(pool).await;
    Ok(v)
}

/// One listing: listed and sold ones to anyone, the others only to the owner and admins (else 404).
pub async fn get(pool: &PgPool, viewer: Option<&CurrentUser>, id: Uuid) -> Result<ListingView> {
    let mut conn = pool.acquire().await?;
    let row = db::listings::get(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !can_see(viewer, &row) {
        return Err(Error::NotFound);
    }
    Ok(view(&row, viewer))
}

/// The raw row, for pages that need more than the view (same visibility as [`get`]).
pub async fn get_row(pool: &PgPool, viewer: Option<&CurrentUser>, id: Uuid) -> Result<ListingRow> {
    let mut conn = pool.acquire().await?;
    let row = db::listings::get(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !can_see(viewer, &row) {
        return Err(Error::NotFound);
    }
    Ok(row)
}

/// The listings of the member's organisation, all statuses, newest first.
pub async fn mine(pool: &PgPool, user: &CurrentUser, page: PageQuery) -> Result<Page<ListingView>> {
    let org = user.require_org()?;
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) =
        db::listings::list_for_org(&mut conn, org, per_page, (page - 1) * per_page).await?;
    Ok(Page {
        items: rows.iter().map(|r| view(r, Some(user))).collect(),
        total,
        page,
        per_page,
    })
}

/// The admin's exchange's listings in one status (default: the review queue, oldest first).
pub async fn admin_queue(
    pool: &PgPool,
    admin: &CurrentUser,
    status: Option<&str>,
    page: PageQuery,
) -> Result<Page<ListingView>> {
    let exchange = admin.require_admin()?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => ListingStatus::PendingReview,
        Some(s) => ListingStatus::parse(s).ok_or_else(|| bad_param("status", s))?,
    };
    let (page, per_page) = page.resolve_or_400()?;
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::listings::list_for_exchange(
        &mut conn,
        exchange.code(),
        status.code(),
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Page {
        items: rows.iter().map(|r| view(r, Some(admin))).collect(),
        total,
        page,
        per_page,
    })
}

// ------------------------------------------------------------------ search

/// Call after committing a change to what search can see: drops cached broad searches in every server
/// process at once. Not needed for correctness elsewhere (a trigger on `listings` bumps the database's
/// search generation on every change); it closes the short window before the changing transaction commits
/// (see [`cache`]).
pub async fn search_changed(pool: &PgPool) {
    cache::invalidate();
    let bumped = match pool.acquire().await {
        Ok(mut conn) => db::listings::bump_search_generation(&mut conn).await,
        Err(e) => Err(e),
    };
    if let Err(e) = bumped {
        tracing::warn!(error = %e, "could not bump the search generation");
    }
}

/// The search parameters as sent (API query or page form); empty strings mean "not given".
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Free text, Chinese or English, or a patent number.
    pub q: Option<String>,
    pub field: Option<String>,
    pub province: Option<String>,
    pub exchange: Option<String>,
    pub ip_type: Option<String>,
    /// `negotiable` | `fixed` | `auction`
    pub pricing: Option<String>,
    pub min_price_fen: Option<String>,
    pub max_price_fen: Option<String>,
    /// 1–9
    pub trl_min: Option<String>,
    /// `relevance` (default with `q`) | `newest` (default without) | `price_asc` | `price_desc`
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bad_param(name: &str, value: &str) -> Error {
    let mut f = FieldErrors::new();
    f.push(
        name,
        "err.query.type",
        vec![("detail", value.chars().take(50).collect())],
    );
    Error::BadRequest {
        code: "invalid_query",
        fields: Some(f),
    }
}

fn code_param<T>(
    v: &Option<String>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    code: fn(&T) -> &'static str,
) -> Result<Option<String>> {
    match given(v) {
        None => Ok(None),
        Some(s) => parse(s)
            .map(|t| Some(code(&t).to_string()))
            .ok_or_else(|| bad_param(name, s)),
    }
}

fn int_param(v: &Option<String>, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
    match given(v) {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(bad_param(name, s)),
        },
    }
}

/// A checked search: the filter, sort and page.
#[derive(Debug, Clone)]
pub struct Search {
    pub filter: SearchFilter,
    pub sort: SearchSort,
    pub page: i64,
    pub per_page: i64,
}

/// Checks the parameters; any bad one → 400 `invalid_query` naming it.
pub fn parse_search(p: &SearchParams) -> Result<Search> {
    let q: Option<String> = given(&p.q).map(|s| s.chars().take(QUERY_MAX_CHARS).collect());
    let tsquery = q.as_deref().and_then(build_tsquery);
    let min_price_fen = int_param(&p.min_price_fen, "min_price_fen", 0, MAX_AMOUNT_FEN)?;
    let max_price_fen = int_param(&p.max_price_fen, "max_price_fen", 0, MAX_AMOUNT_FEN)?;
    if let (Some(lo), Some(hi)) = (min_price_fen, max_price_fen) {
        if lo > hi {
            let mut f = FieldErrors::new();
            f.push("max_price_fen", "err.query.max_below_min", Vec::new());
            return Err(Error::BadRequest {
                code: "invalid_query",
                fields: Some(f),
            });
        }
    }
    let filter = SearchFilter {
        field: code_param(&p.field, "field", Field::parse, Field::code)?,
        province: code_param(&p.province, "province", Province::parse, Province::code)?,
        exchange: code_param(&p.exchange, "exchange", Exchange::parse, Exchange::code)?,
        ip_type: code_param(&p.ip_type, "ip_type", IpType::parse, IpType::code)?,
        pricing: code_param(&p.pricing, "pricing", PricingMode::parse, PricingMode::code)?,
        min_price_fen,
        max_price_fen,
        trl_min: int_param(&p.trl_min, "trl_min", 1, 9)?.map(|v| v as i16),
        tsquery,
    };
    let sort = match given(&p.sort) {
        None if filter.tsquery.is_some() => SearchSort::Relevance,
        None => SearchSort::Newest,
        Some("relevance") => SearchSort::Relevance,
        Some("newest") => SearchSort::Newest,
        Some("price_asc") => SearchSort::PriceAsc,
        Some("price_desc") => SearchSort::PriceDesc,
        Some(other) => return Err(bad_param("sort", other)),
    };
    let page = int_param(&p.page, "page", 1, 1_000_000)?.unwrap_or(1);
    let per_page = int_param(&p.per_page, "per_page", 1, 100)?.unwrap_or(20);
    Ok(Search {
        filter,
        sort,
        page,
        per_page,
    })
}

/// The public search: listed listings only, exact total.
/// A query with no searchable characters (only punctuation) matches nothing.
#[tracing::instrument(skip(pool, viewer))]
pub async fn search(
    pool: &PgPool,
    viewer: Option<&CurrentUser>,
    p: &SearchParams,
) -> Result<Page<ListingView>> {
    let s = parse_search(p)?;
    let has_text = given(&p.q).is_some();
    if has_text && s.filter.tsquery.is_none() {
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            page: s.page,
            per_page: s.per_page,
        });
    }
    let limit = s.per_page;
    let offset = (s.page - 1) * s.per_page;
    let mut conn = pool.acquire().await?;
    let db_generation = db::listings::search_generation(&mut conn).await?;
    let (rows, total) = if s.filter.tsquery.is_some() {
        drop(conn);
        let ids = text_search_ids(pool, db_generation, &s).await?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(ids.len());
        let end = start
            .saturating_add(usize::try_from(limit).unwrap_or(0))
            .min(ids.len());
        let mut conn = pool.acquire().await?;
        let mut rows = db::listings::listed_by_ids(&mut conn, &ids[start..end]).await?;
        // A bid moves an auction's price without bumping the search generation (that would empty
        // the cache at every bid), so cached ids may hold an auction that has since left the price
        // range: the fresh rows are checked again. (Order and total may lag up to `cache::FRESH`.)
        rows.retain(|r| in_price_range(&s.filter, r.sort_price_fen));
        (rows, ids.len() as i64)
    } else {
        let ids =
            db::listings::search_plain_ids(&mut conn, &s.filter, s.sort, limit, offset).await?;
        let rows = db::listings::listed_by_ids(&mut conn, &ids).await?;
        drop(conn);
        let total = if offset == 0 && (ids.len() as i64) < limit {
            ids.len() as i64
        } else {
            plain_total(pool, db_generation, &s.filter).await?
        };
        (rows, total)
    };
    Ok(Page {
        items: rows.iter().map(|r| view(r, viewer)).collect(),
        total,
        page: s.page,
        per_page: s.per_page,
    })
}

fn in_price_range(f: &SearchFilter, price: Option<i64>) -> bool {
    match (f.min_price_fen, f.max_price_fen, price) {
        (None, None, _) => true,
        (_, _, None) => false,
        (min, max, Some(p)) => min.is_none_or(|m| p >= m) && max.is_none_or(|m| p <= m),
    }
}

/// The cache key of a search: the database, the kind of result, the filters and the sort.
fn cache_key(pool: &PgPool, kind: &str, f: &SearchFilter, sort: Option<SearchSort>) -> String {
    format!("{}|{kind}|{f:?}|{sort:?}", db::database_key(pool))
}

/// `compute`'s value, from the cache for broad searches (see [`cache`]): fresh entries as they are,
/// stale ones while a background task recomputes them, misses computed once per key at a time.
async fn cached<F, Fut>(key: String, db_generation: i64, compute: F) -> Result<cache::Cached>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<cache::Cached>> + Send + 'static,
{
    let generation = cache::generation(db_generation);
    match cache::lookup(&key, generation) {
        cache::Lookup::Fresh(v) | cache::Lookup::StaleRefreshing(v) => return Ok(v),
        cache::Lookup::Stale(v) => {
            let fut = compute();
            tokio::spawn(async move {
                match fut.await {
                    Ok(v) => cache::store(&key, generation, v),
                    Err(e) => {
                        tracing::warn!(error = %e, "refreshing a cached search failed");
                        cache::refresh_failed(&key);
                    }
                }
            });
            return Ok(v);
        }
        cache::Lookup::Miss => {}
    }
    let flight = cache::flight(&key);
    let _guard = flight.lock().await;
    if let cache::Lookup::Fresh(v) = cache::lookup(&key, generation) {
        return Ok(v);
    }
    let v = compute().await?;
    cache::store(&key, generation, v.clone());
    Ok(v)
}

/// All matching ids of a text search, in order.
async fn text_search_ids(
    pool: &PgPool,
    db_generation: i64,
    s: &Search,
) -> Result<std::sync::Arc<Vec<Uuid>>> {
    let key = cache_key(pool, "ids", &s.filter, Some(s.sort));
    let (pool, filter, sort) = (pool.clone(), s.filter.clone(), s.sort);
    let v = cached(key, db_generation, move || {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            let mut conn = pool.acquire().await?;
            let ids = db::listings::search_text_ids(&mut conn, &filter, sort).await?;
            Ok(cache::Cached::Ids(std::sync::Arc::new(ids)))
        }
    })
    .await?;
    match v {
        cache::Cached::Ids(ids) => Ok(ids),
        cache::Cached::Count(_) => Err(Error::Internal(anyhow::anyhow!("search cache mix-up"))),
    }
}

/// The exact number of listed listings matching a filter-only search.
async fn plain_total(pool: &PgPool, db_generation: i64, f: &SearchFilter) -> Result<i64> {
    let key = cache_key(pool, "count", f, None);
    let (pool, filter) = (pool.clone(), f.clone());
    let v = cached(key, db_generation, move || {
        let (pool, filter) = (pool.clone(), filter.clone());
        async move {
            let mut conn = pool.acquire().await?;
            Ok(cache::Cached::Count(
                db::listings::count(&mut conn, &filter).await?,
            ))
        }
    })
    .await?;
    match v {
        cache::Cached::Count(n) => Ok(n),
        cache::Cached::Ids(_) => Err(Error::Internal(anyhow::anyhow!("search cache mix-up"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_rows_are_checked_against_the_price_range_again() {
        let f = |min, max| SearchFilter {
            min_price_fen: min,
            max_price_fen: max,
            ..Default::default()
        };
        assert!(in_price_range(&f(None, None), None));
        assert!(in_price_range(&f(None, None), Some(5)));
        assert!(in_price_range(&f(Some(100), Some(200)), Some(200)));
        assert!(in_price_range(&f(Some(100), Some(200)), Some(100)));
        // An auction bid up past the maximum since the ids were cached.
        assert!(!in_price_range(&f(Some(100), Some(200)), Some(201)));
        assert!(!in_price_range(&f(Some(100), None), Some(99)));
        // Unpriced listings never fall in a price range.
        assert!(!in_price_range(&f(None, Some(200)), None));
    }
}
