//! Pages: the public fee calculator and history; the schedule editor, approval queue and audit
//! trail for administrators. Everything works without JavaScript; the chart is SVG laid out by
//! `http::web::chart` and drawn, like every table, by the templates in `templates/fees/`.
/// A schedule's bands as tables.
mod bands;
/// The public calculator: fees for an amount under every schedule.
mod calculator;
/// The schedule editor (administrators): bands typed in, previewed, saved as a draft.
mod editor;
/// The chart of effective rates and the table of example amounts.
mod figure;
/// What the editor's form holds: typed text, parsed into a schedule.
mod form;
/// The public history of versions.
mod history;
/// Administrators: the list, approval queue and audit trail; one schedule, approved or rejected.
mod review;

use axum::routing::{get, post};
use axum::Router;

use crate::http::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/fees", get(calculator::calculator))
        .route("/fees/history", get(history::history))
        .route("/admin/fees", get(review::admin_list))
        .route(
            "/admin/fees/new",
            get(editor::editor_new).post(editor::editor_submit),
        )
        .route("/admin/fees/{id}", get(review::admin_detail))
        .route("/admin/fees/{id}/approve", post(review::approve))
        .route("/admin/fees/{id}/reject", post(review::reject))
}
