//! Pages: search and browse, a listing, my listings, the listing form, the admin review queue.
//!
//! Rooms: `search`, `detail` (one listing and its actions), `mine`, `form` (new and edit), `review`
//! (the admin review queue).
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::domain::codes::{trl_name_en, trl_name_zh};
use crate::domain::money::{parse_yuan, FEN_PER_WAN};
use crate::http::context::PageCtx;
use crate::http::state::AppState;
use crate::service::listings::ListingView;

/// One listing's page, its submit and withdraw buttons.
mod detail;
/// A listing's documents: the owner attaches and removes them; downloads.
pub(crate) mod documents;
/// The listing form: new and edit.
mod form;
/// My listings.
mod mine;
/// The admin review queue and review page.
mod review;
/// Search and browse.
mod search;

use detail::{listing_page, submit_action, withdraw_action};
use form::{edit_page, edit_submit, new_page, new_submit};
use mine::my_listings;
use review::{admin_listing, admin_queue, admin_review};
use search::search_page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/listings", get(search_page))
        .route("/listings/new", get(new_page).post(new_submit))
        .route("/listings/{id}", get(listing_page))
        .route("/listings/{id}/documents/{doc}", get(documents::download))
        .route(
            "/listings/{id}/documents/{doc}/remove",
            post(documents::remove),
        )
        .route("/listings/{id}/edit", get(edit_page).post(edit_submit))
        .route("/listings/{id}/submit", post(submit_action))
        .route("/listings/{id}/withdraw", post(withdraw_action))
        .route("/my/listings", get(my_listings))
        .route("/admin/listings", get(admin_queue))
        .route("/admin/listings/{id}", get(admin_listing))
        .route("/admin/listings/{id}/review", post(admin_review))
        .merge(
            // Documents may be up to 10 MiB: this route's body limit only (the multipart framing on top).
            Router::new()
                .route("/listings/{id}/documents", post(documents::upload))
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::domain::documents::MAX_BYTES + 64 * 1024,
                )),
        )
}

/// Helpers shared by the templates (via `self.`).
fn trl_label(ctx: &PageCtx, trl: i16) -> String {
    let n = u8::try_from(trl).unwrap_or(0);
    let name = if ctx.is_zh() {
        trl_name_zh(n)
    } else {
        trl_name_en(n)
    };
    format!("TRL {trl} · {}", name.unwrap_or("—"))
}

/// Paragraphs of plain text (blank lines separate them), each as its lines; escaped by the template.
fn paragraphs(text: &str) -> Vec<Vec<String>> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| {
            p.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

fn price_label(ctx: &PageCtx, l: &ListingView) -> String {
    match (&l.pricing.auction, l.pricing.price_fen) {
        (Some(a), _) => format!(
            "{} {}",
            ctx.t("listings.start_price"),
            ctx.wan(&a.start_price_fen)
        ),
        (None, Some(p)) if l.pricing.mode == "negotiable" => {
            format!("{} {}", ctx.t("listings.indicative"), ctx.wan(&p))
        }
        (None, Some(p)) => ctx.wan(&p),
        (None, None) => ctx.t("listings.price_negotiable").to_string(),
    }
}

fn status_name(ctx: &PageCtx, status: &str) -> &'static str {
    crate::domain::listing::ListingStatus::parse(status)
        .map(|s| {
            if ctx.is_zh() {
                s.name_zh()
            } else {
                s.name_en()
            }
        })
        .unwrap_or("—")
}

fn status_class(status: &str) -> &'static str {
    match status {
        "listed" => "ok",
        "pending_review" => "warn",
        "rejected" => "err",
        _ => "info",
    }
}

/// `12.5` (万元) → fen; also accepts `350万`, `1.2亿`, `5000元`.
fn wan_to_fen(s: &str) -> std::result::Result<i64, crate::domain::money::AmountError> {
    let t = s.trim();
    if t.ends_with(['万', '萬', '亿', '億', '元']) {
        parse_yuan(t)
    } else {
        parse_yuan(&format!("{t}万"))
    }
}

/// fen → the number typed in a 万元 box (`3500000` → `3.5`).
fn fen_to_wan(fen: i64) -> String {
    let whole = fen / FEN_PER_WAN;
    let frac = fen % FEN_PER_WAN;
    if frac == 0 {
        whole.to_string()
    } else {
        let f = format!("{frac:06}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
}

#[derive(Debug, Deserialize)]
pub struct PageOnly {
    page: Option<String>,
}

fn page_number(p: &Option<String>) -> i64 {
    p.as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|n| (1..=1_000_000).contains(n))
        .unwrap_or(1)
}
