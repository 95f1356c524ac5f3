//! Responses that the JSON API and the pages both send (they are siblings and never call each
//! other, so what they share lives here).
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The contract registration CSV (UTF-8 with BOM, made by `service::settlement`) as a download.
pub fn csv_response(csv: String) -> Response {
    csv_download(csv, "contract-registration.csv")
}

/// A CSV made by the service (UTF-8 with BOM) as a download named `filename` (ASCII, no quotes).
pub fn csv_download(csv: String, filename: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        csv,
    )
        .into_response()
}

/// A listing document as a download: its checked content type (never sniffed by the browser),
/// `Content-Disposition: attachment` with its name (RFC 6266/5987), no caching by shared caches.
pub fn document_response(d: &crate::service::documents::DocumentView, data: Vec<u8>) -> Response {
    let ascii: String = d
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded =
        percent_encoding::utf8_percent_encode(&d.name, percent_encoding::NON_ALPHANUMERIC);
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut resp = (
        [
            (
                header::CONTENT_TYPE,
                crate::service::documents::safe_content_type(d).to_string(),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
        ],
        data,
    )
        .into_response();
    if let Ok(v) = header::HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    } else {
        resp.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            header::HeaderValue::from_static("attachment"),
        );
    }
    resp
}
