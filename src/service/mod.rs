//! Use cases shared by the JSON API and the HTML pages: begin → lock → the domain decides → write,
//! audit → commit. Authorization is decided here, never only in the UI.
/// Registration, login, logout, the current user.
pub mod accounts;
/// Organisation verification and the audit log.
pub mod admin;
/// The market's clock: the system clock, or a settable one in tests.
pub mod clock;
/// Technology demands and matching.
pub mod demands;
/// The demo data of DOMAIN.md (`serve --demo`), loaded through the use cases; bulk data for benchmarks.
pub mod demo;
/// State changes that others react to: inbox notices, live events.
pub mod events;
/// Fee schedules: quotes, versions, maker–checker approval, simulation.
pub mod fees;
/// Checks that an organisation may act (verified, not restricted).
pub mod guards;
/// Idempotency-Key handling.
pub mod idempotency;
/// Technology achievements: drafting, review, search.
pub mod listings;
/// Pagination shared by lists.
pub mod page;
/// Payment, delivery, the ledger, statements, credit restrictions.
pub mod settlement;
/// What use cases and jobs share: pool, configuration, clock, live-event hub.
pub mod state;
/// Creating trades with frozen fees (shared by offers, purchases, auctions).
pub mod trades;
/// Offers, fixed-price purchases and auctions.
pub mod trading;

pub use clock::Clock;
pub use page::{Page, PageQuery};
pub use state::AppState;
