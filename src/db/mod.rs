//! All SQL. Functions take `&mut PgConnection` so they work inside or outside a transaction.
/// Organisations (members' legal entities).
pub mod organizations;
/// Users and their sessions/tokens.
pub mod users;
/// Failed-login counting for throttling.
pub mod throttle;
/// The audit log of admin actions.
pub mod audit;
/// In-app notifications.
pub mod notifications;
