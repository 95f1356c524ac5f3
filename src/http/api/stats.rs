//! Statistics (API.md "Statistics"): the market's summary and the open-data CSV of settled trades.
//! Public. The summary is served from the process's snapshot (service::stats), without database
//! work; the CSV is streamed from the database row by row.
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio_stream::wrappers::ReceiverStream;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::state::AppState;
use crate::service::stats::{self, StatsSummary};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(trades_csv))
}

/// The market in figures: listed listings, settled trades (by month in Asia/Shanghai, by field,
/// across the provincial line), fee revenue by exchange and what the unified schedule saved
/// compared with the legacy provincial rules. A snapshot at most about a minute old (`as_of`).
/// Public.
#[utoipa::path(get, operation_id = "stats_summary", path = "/api/v1/stats/summary", tag = "stats",
    responses((status = 200, body = StatsSummary)))]
async fn summary(State(state): State<AppState>) -> Result<Response> {
    let snap = stats::current(&state).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=30"),
        ],
        snap.summary_json.clone(),
    )
        .into_response())
}

/// One row per settled trade (oldest settlement first), without personal data: ids, dates
/// (UTC, and the date and month in Asia/Shanghai), codes, the field's names, amounts in fen, the
/// legacy fees of the seller's province and the savings. UTF-8 with a byte-order mark, CRLF line
/// ends, streamed. Public.
#[utoipa::path(get, operation_id = "stats_trades_csv", path = "/api/v1/stats/trades.csv", tag = "stats",
    responses((status = 200, content_type = "text/csv", body = String, description = "The header row `trade_id,listing_id,settled_at,…`, then one row per settled trade.")))]
async fn trades_csv(State(state): State<AppState>) -> Result<Response> {
    let rx = stats::trades_csv(&state).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"techmarket-trades.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(ReceiverStream::new(rx)),
    )
        .into_response())
}
