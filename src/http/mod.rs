//! Transport: the router, middleware, extractors, the JSON API and the HTML pages. `api` and `web`
//! call `service` and never each other; what both need lives here (`respond`, `extract`, `error`).
/// JSON API handlers, one file per resource, documented for OpenAPI.
pub mod api;
/// Per-request context (language, user, CSRF) and its middleware.
pub mod context;
/// Error rendering (JSON or HTML).
pub mod error;
/// Extractors for JSON, queries, tokens, forms.
pub mod extract;
/// Responses both the API and the pages send (CSV downloads).
pub mod respond;
/// The shared state as axum sees it (the state itself is `service::AppState`).
pub mod state;
/// HTML pages.
pub mod web;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware;
use axum::Router;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use state::AppState;

pub const BODY_LIMIT: usize = 1024 * 1024;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// The whole application; `main` and the tests both build it here.
pub fn app(state: AppState) -> Router {
    let (api_router, _openapi) = api::router().split_for_parts();
    let static_files = ServeDir::new(&state.config.static_dir);
    Router::new()
        .merge(api_router)
        .merge(web::router())
        .nest_service("/static", static_files)
        // Browsers ask for /favicon.ico on their own (feeds, bookmarks): the same SVG icon.
        .route_service(
            "/favicon.ico",
            tower_http::services::ServeFile::new(
                std::path::Path::new(&state.config.static_dir).join("favicon.svg"),
            ),
        )
        .fallback(|| async { crate::error::Error::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            context::layer,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), route, uri = %req.uri().path())
        }))
        // Inside the timeout: the timeout (like a client hanging up) stops the waiting, not the work.
        .layer(middleware::from_fn(run_to_completion))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

/// Every request runs to its end in a task of its own. A client that hangs up (or the timeout)
/// drops only the wait for the answer: no use case is cancelled between its `begin` and its
/// `commit`, so no pooled connection is left `idle in transaction` (sqlx issue 4393) and every
/// change a request started is either committed or rolled back by its own code.
async fn run_to_completion(req: Request, next: middleware::Next) -> axum::response::Response {
    match tokio::spawn(next.run(req)).await {
        Ok(resp) => resp,
        Err(e) => {
            tracing::error!(error = %e, "request task failed");
            axum::response::IntoResponse::into_response(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            )
        }
    }
}
