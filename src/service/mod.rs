//! Use cases shared by the JSON API and the HTML pages: begin → lock → the domain decides → write,
//! audit → commit. Authorization is decided here, never only in the UI.
/// Registration, login, logout, the current user.
pub mod accounts;
/// Organisation verification and the audit log.
pub mod admin;
/// Pagination shared by lists.
pub mod page;

pub use page::{Page, PageQuery};
