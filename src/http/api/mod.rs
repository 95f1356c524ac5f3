//! The JSON API of API.md under `/api/v1`, every route documented for OpenAPI by utoipa.
/// Registration, login, logout, me.
pub mod accounts;
/// Exchange administration: organisations, audit.
pub mod admin;
/// Technology brokers: certification, engagements on trades.
pub mod brokers;
/// Technology demands and matching.
pub mod demands;
/// Disputes and payouts.
pub mod disputes;
/// The OpenAPI document's frame and the error responses every route shares.
pub mod doc;
/// Listing documents: upload and download.
pub mod documents;
/// The expert pool and expert evaluations of listings.
pub mod experts;
/// Fee schedules: quotes, versions, maker–checker approval, simulation.
pub mod fees;
/// Liveness, readiness and the OpenAPI document.
pub mod health;
/// The exchanges' own systems: API keys, webhooks, the change feed.
pub mod interconnect;
/// Technology achievements: drafting, review, search.
pub mod listings;
/// The inbox: notices and marking them read.
pub mod notifications;
/// Colleagues in one organisation: members, roles, invitations.
pub mod organization;
/// Paying in: payment instructions, settlement accounts.
pub mod payments;
/// Technology finance: pledge requests, financing products.
pub mod pledges;
/// Payment, delivery, the ledger, statements, credit restrictions.
pub mod settlement;
/// Market statistics and open data.
pub mod stats;
/// Offers, fixed-price purchases and auctions.
pub mod trading;

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use doc::BearerAuth;
use utoipa_axum::router::OpenApiRouter;

use crate::http::state::AppState;

/// The error body of API.md.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// snake_case code, e.g. `bid_too_low`
    pub code: String,
    pub message: String,
    /// Validation errors by JSON path, e.g. `seller.bands[1].up_to_fen`.
    pub fields: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "techmarket API", version = "1", description = "成渝技术交易市场 — the public JSON API (API.md)."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, ErrorDetail))
)]
struct ApiDoc;

/// Every API route; the OpenAPI document is generated from the same list.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(accounts::routes())
        .merge(organization::routes())
        .merge(admin::routes())
        .merge(settlement::routes())
        .merge(payments::routes())
        .merge(disputes::routes())
        .merge(trading::routes())
        .merge(notifications::routes())
        .merge(demands::routes())
        .merge(listings::routes())
        .merge(documents::routes())
        .merge(fees::routes())
        .merge(interconnect::routes())
        .merge(stats::routes())
        .merge(pledges::routes())
        .merge(brokers::routes())
        .merge(experts::routes())
        .fallback(api_not_found)
}

async fn api_not_found() -> crate::error::Error {
    crate::error::Error::NotFound
}

/// The OpenAPI document, with the error responses every route shares (`doc`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = router().split_for_parts().1;
    utoipa::Modify::modify(&doc::StandardErrors, &mut doc);
    doc
}

pub(crate) fn created<T: Serialize>(v: T) -> (StatusCode, axum::Json<T>) {
    (StatusCode::CREATED, axum::Json(v))
}
