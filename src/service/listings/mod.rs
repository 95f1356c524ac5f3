//! Technology achievements: drafting, review, search.
//!
//! Workflow (DOMAIN.md): `draft → pending_review → listed → sold | withdrawn`,
//! `pending_review → rejected → (edit) → pending_review`. Any member of an organisation may draft;
//! submitting needs a verified, unrestricted organisation; an admin of the listing's home exchange reviews.
//!
//! Rooms: `validation` (what a listing must be), `workflow` (create, edit, submit, withdraw,
//! review, read), `search` (full-text search and its cache, `cache`), `profiles` (the stored matching profiles), `seed`
//! (demo and bulk data).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db::listings::ListingRow;
use crate::domain::auction::DEFAULT_EXTENSION_SECONDS;

pub mod answers;
pub mod cache;
mod details;
mod duplicates;
pub mod profiles;
mod search;
mod seed;
mod validation;
mod workflow;

pub use duplicates::*;
pub use search::*;
pub use seed::{patent_number, seed_bulk, seed_demo};
pub use validation::*;
pub use workflow::*;

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
    /// Optional English title (up to 200 characters), shown on English pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_en: Option<String>,
    /// Optional English summary (up to 500 characters), shown on English pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_en: Option<String>,
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
    /// The deposit (保证金) a bidder must have paid before bidding (recorded by an administrator),
    /// at least 1 fen and not above the start price; none: no deposit.
    #[serde(default)]
    pub deposit_fen: Option<i64>,
    /// In the future, at most 90 days ahead.
    pub ends_at: DateTime<Utc>,
    /// Anti-sniping extension, 0–3600 s (default 300).
    pub extension_seconds: Option<i64>,
    /// When bidding opens, if later than the approval (before `ends_at`): until then the auction is
    /// `scheduled`. An extension of API.md.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
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
    /// An empty string removes it.
    pub title_en: Option<String>,
    /// An empty string removes it.
    pub summary_en: Option<String>,
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
        if let Some(v) = self.title_en {
            base.title_en = Some(v);
        }
        if let Some(v) = self.summary_en {
            base.summary_en = Some(v);
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
    /// The English title and summary, if given (English pages show them, else the Chinese ones).
    pub title_en: Option<String>,
    pub summary_en: Option<String>,
    /// The active pledge (知识产权质押) of its IP, if any (`GET /listings/{id}` only): trades in
    /// modes the lender has not consented to are refused with 409 `ip_pledged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pledge: Option<crate::service::pledges::ListingPledge>,
    /// The latest published expert evaluation (科技成果评价), if any (`GET /listings/{id}` only):
    /// its medians and spread; the full report is `GET /listings/{id}/evaluation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<crate::service::experts::EvaluationSummary>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PricingView {
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_fen: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction: Option<AuctionView>,
}

/// A listing's auction terms (`pricing.auction`); the live state is `GET /listings/{id}/auction`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ListingAuction)]
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
    /// The deposit (保证金) a bidder must have paid; null: none.
    pub deposit_fen: Option<i64>,
    /// When bidding opens, if set (an extension of API.md): `scheduled` until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
}

/// The live state of a listing's auction, as a search card shows it. Not part of the API's
/// listing JSON (API.md: `pricing.auction` carries the terms; the live state is
/// `GET /listings/{id}/auction`), so it travels beside the view.
#[derive(Debug, Clone)]
pub struct AuctionLive {
    /// `scheduled` | `open` | `closed`
    pub status: String,
    pub start_price_fen: i64,
    pub leading_bid_fen: Option<i64>,
    pub bid_count: i32,
    pub ends_at: DateTime<Utc>,
    /// When a `scheduled` auction opens.
    pub starts_at: Option<DateTime<Utc>>,
}

impl AuctionLive {
    /// The live state read with the listing's row (its `auctions` columns), for an auction.
    pub fn of(row: &ListingRow) -> Option<Self> {
        match (&row.auction_status, row.start_price_fen, row.ends_at) {
            (Some(status), Some(start), Some(ends_at)) if row.pricing_mode == "auction" => {
                Some(AuctionLive {
                    status: status.clone(),
                    start_price_fen: start,
                    leading_bid_fen: row.leading_bid_fen,
                    bid_count: row.bid_count.unwrap_or(0),
                    ends_at,
                    starts_at: row.starts_at,
                })
            }
            _ => None,
        }
    }
}

/// One result of the search page: the listing and, for an auction, its live state.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub listing: ListingView,
    pub auction: Option<AuctionLive>,
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
                deposit_fen: row.deposit_fen,
                starts_at: row.starts_at,
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
        title_en: row.title_en.clone(),
        summary_en: row.summary_en.clone(),
        pledge: None,
        evaluation: None,
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
                        deposit_fen: row.deposit_fen,
                        ends_at: e,
                        extension_seconds: row.extension_seconds.map(i64::from),
                        starts_at: row.starts_at,
                    })
                }
                _ => None,
            },
        },
        title_en: row.title_en.clone(),
        summary_en: row.summary_en.clone(),
    }
}
