//! techmarket — 成渝技术交易市场: one technology market for the exchanges of Sichuan and Chongqing.
//!
//! The layers, each importing only those before it (ARCHITECTURE.md; `tests/api/architecture.rs`
//! fails on an import against the direction): `domain` ← `db` ← `service` ← `http`, and `jobs`
//! beside `http`, calling `service`. `auth`, `config`, `error`, `i18n` and `telemetry` are shared
//! by the layers above `db`; `startup` assembles everything.
/// Who is calling: passwords, tokens, sessions (no I/O of its own; the SQL is in `db`).
pub mod auth;
/// Configuration from the environment.
pub mod config;
/// All SQL, one file per table group; functions take `&mut PgConnection`. Imports only `domain`.
pub mod db;
/// Pure market rules: codes, identifiers, money, fees, search tokens, ledger, auctions, matching.
/// No I/O, no clock, no sqlx/axum/tokio; imports nothing else of the crate.
pub mod domain;
/// The service-layer error type and the error policy.
pub mod error;
/// Transport: router, middleware, extractors; `api` (JSON, OpenAPI) and `web` (askama pages),
/// siblings that never import each other. Calls `service`.
pub mod http;
/// Translations (Simplified Chinese first, English second).
pub mod i18n;
/// Background jobs safe with several server processes; they call `service`.
pub mod jobs;
/// Use cases shared by API, pages and jobs: the only transaction boundary, the rules and the
/// authorization; the shared state (pool, clock, live-event hub) and the events module.
pub mod service;
/// Start-up: database, migrations, state, server, shutdown.
pub mod startup;
/// Logging.
pub mod telemetry;

/// The demo data (`serve --demo`, `seed …`), kept at this path for `main` and the tests.
pub use service::demo;
