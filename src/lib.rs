//! techmarket — 成渝技术交易市场: one technology market for the exchanges of Sichuan and Chongqing.
/// Who is calling: passwords, tokens, sessions.
pub mod auth;
/// Configuration from the environment.
pub mod config;
/// All SQL, one file per table group.
pub mod db;
/// Pure market rules: codes, identifiers, money, fees, search tokens, ledger, auctions, matching.
pub mod domain;
/// The service-layer error type and the error policy.
pub mod error;
/// Transport: router, API, pages.
pub mod http;
/// Translations (Simplified Chinese first, English second).
pub mod i18n;
/// Background jobs safe with several server processes.
pub mod jobs;
/// Use cases shared by API and pages.
pub mod service;
/// Start-up: database, migrations, server, shutdown.
pub mod startup;
/// Logging.
pub mod telemetry;

/// The demo data (`serve --demo`, `seed …`), kept at this path for `main` and the tests.
pub use service::demo;
