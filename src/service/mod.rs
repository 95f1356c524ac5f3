//! Use cases shared by the JSON API, the HTML pages and the jobs: begin → lock → the domain decides →
//! write, audit, `events::emit` → commit. The only transaction boundary; authorization is decided
//! here, never only in the UI. Imports `domain`, `db` and the shared modules, never `http` or `jobs`
//! (ARCHITECTURE.md). One room per capability: a file, or a folder once it grows.
/// Registration, login, logout, the current user.
pub mod accounts;
/// Organisation verification and the audit log.
pub mod admin;
/// Technology brokers: certification, engagements on trades, commission through the ledger.
pub mod brokers;
/// The market's clock: the system clock, or a settable one in tests.
pub mod clock;
/// Technology demands and matching.
pub mod demands;
/// The demo data of DOMAIN.md (`serve --demo`), loaded through the use cases; bulk data for benchmarks.
pub mod demo;
/// Listing documents: who may attach, see and remove them (kept by `files`).
pub mod documents;
/// Every state change that others react to, and its fan-out: inbox notices, live events.
pub mod events;
/// The shared expert pool (专家库) and expert evaluations of listings (科技成果评价).
pub mod experts;
/// Fee schedules: quotes, versions, maker–checker approval, simulation.
pub mod fees;
/// Files kept for listings and trades (documents, delivery attachments): one store keyed by the
/// kind of file, checked by content, bytes in PostgreSQL or a directory behind a small trait.
pub mod files;
/// Checks that an organisation may act (verified, not restricted).
pub mod guards;
/// The home page's boards: newest listings, running auctions, demands, settled trades (cached).
pub mod home;
/// Idempotency-Key handling.
pub mod idempotency;
/// The exchanges' own systems: API keys, webhooks from the outbox, the change feed.
pub mod interconnect;
/// Technology achievements: drafting, review, search.
pub mod listings;
/// The inbox (notices to a person and their organisation), for the page and the API.
pub mod notifications;
/// Colleagues in one organisation: members and roles, invitations, joining, removal.
pub mod organization;
/// Pagination shared by lists.
pub mod page;
/// Technology finance: financing products and IP pledge financing (the pledge lock).
pub mod pledges;
/// Payment, delivery, the ledger, statements, exports, credit restrictions.
pub mod settlement;
/// What use cases and jobs share: pool, configuration, clock, live-event hub.
pub mod state;
/// Market statistics: the snapshot shared by the processes and kept in memory, the open-data CSV.
pub mod stats;
/// Creating trades with frozen fees (shared by offers, purchases, auctions).
pub mod trades;
/// Offers, fixed-price purchases and auctions.
pub mod trading;
/// Two-factor sign-in (TOTP): checking codes, enrolment, recovery codes.
pub mod two_factor;

pub use clock::Clock;
pub use page::{Page, PageQuery};
pub use state::AppState;
