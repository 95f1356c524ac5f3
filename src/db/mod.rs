//! All SQL. Functions take `&mut PgConnection` so they work inside or outside a transaction.
//!
//! Plans: sqlx prepares every statement once per connection, and Postgres may then reuse a generic
//! plan for it — right for the many small lookups and writes, whose plan does not depend on the
//! values. Text search (tsquery, `ilike`) is the exception: its good plan depends on the pattern, so
//! those statements are sent unprepared (`.persistent(false)`); an unnamed statement is always
//! planned with its actual values. (Forcing custom plans for every statement instead cost about 40%
//! of Postgres's CPU in the settlement benchmark: planning, foreign-key checks included.)
/// Auctions that open at a set moment after their listing's approval (`starts_at`).
pub mod auction_starts;
/// The audit log of admin actions.
pub mod audit;
/// Technology brokers and their engagements on trades.
pub mod bid_batches;
pub mod brokers;
/// A bulk load's transaction: empty tables, secondary indexes dropped and built again, quiet triggers.
pub mod bulk_load;
/// Transaction certificates (交易鉴证书).
pub mod certificates;
/// Binary `COPY … FROM STDIN` of bulk loads' rows.
pub mod copy;
/// Delivery and acceptance of paid trades.
pub mod delivery;
/// Technology demands and matching.
pub mod demands;
/// Auction deposits (保证金).
pub mod deposits;
/// Disputes of paid trades and payouts to the parties.
pub mod disputes;
/// Expert evaluations of listings: panels, sealed scores, reports.
pub mod evaluations;
/// The shared expert pool (专家库).
pub mod experts;
/// Fee schedule versions.
pub mod fees;
/// Files kept for listings and trades (documents, delivery attachments): metadata, and bytes kept
/// in PostgreSQL.
pub mod files;
/// What the home page shows: newest listings, running auctions, newest demands, settled trades.
pub mod home;
/// Idempotency keys and saved responses.
pub mod idempotency;
/// API keys, the outbox of events, webhooks and their deliveries.
pub mod interconnect;
/// Invitations to join an organisation.
pub mod invitations;
/// The ledger's writes: pending postings and the appender's chaining.
pub mod ledger;
/// One listing with its pledge, evaluation and documents' presence, for its JSON and page.
pub mod listing_detail;
/// A search's page of rows read with the search generation (one statement).
pub mod listing_search;
/// Technology achievements: drafting, review, search.
pub mod listings;
/// Listings' stored matching profiles and retrieval by concept overlap.
pub mod match_profiles;
/// In-app notifications.
pub mod notifications;
/// Organisations (members' legal entities).
pub mod organizations;
/// Paying into the market: settlement accounts, payment reminders.
pub mod payments;
/// Technology finance: financing products, pledge requests, the pledge lock.
pub mod pledges;
/// Secrets shared by the server processes (the CSRF binding key).
pub mod secrets;
/// Payment, delivery, the ledger, statements, credit restrictions.
pub mod settlement;
/// Market statistics: the rows they are computed from, the open-data CSV, the shared snapshot.
pub mod stats;
/// Failed-login counting for throttling.
pub mod throttle;
/// Offers, fixed-price purchases and auctions.
pub mod trading;
/// Two-factor sign-in: TOTP secrets and recovery codes.
pub mod two_factor;
/// Users and their sessions/tokens.
pub mod users;
/// What waits for an exchange's administrators: the counts of their queues, who is told.
pub mod waiting;

/// Which database a pool talks to (`host:port/name`): the key of per-database state kept in a
/// process (caches, the ledger appender), since tests give each test its own database.
pub fn database_key(pool: &sqlx::PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "{}:{}/{}",
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or_default()
    )
}
