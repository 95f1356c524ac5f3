//! All SQL. Functions take `&mut PgConnection` so they work inside or outside a transaction.
/// The audit log of admin actions.
pub mod audit;
/// Technology demands and matching.
pub mod demands;
/// Fee schedule versions.
pub mod fees;
/// Idempotency keys and saved responses.
pub mod idempotency;
/// Technology achievements: drafting, review, search.
pub mod listings;
/// In-app notifications.
pub mod notifications;
/// Organisations (members' legal entities).
pub mod organizations;
/// Payment, delivery, the ledger, statements, credit restrictions.
pub mod settlement;
/// Failed-login counting for throttling.
pub mod throttle;
/// Offers, fixed-price purchases and auctions.
pub mod trading;
/// Users and their sessions/tokens.
pub mod users;
