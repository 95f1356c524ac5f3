//! Responses that the JSON API and the pages both send (they are siblings and never call each
//! other, so what they share lives here).
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The contract registration CSV (UTF-8 with BOM, made by `service::settlement`) as a download.
pub fn csv_response(csv: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"contract-registration.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        csv,
    )
        .into_response()
}
