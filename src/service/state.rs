//! What the use cases and the jobs share in a process: the pool, the configuration, the clock,
//! the live-event hub and the statistics' snapshot. It belongs to the service layer, so `service`
//! and `jobs` never import `http`; `http` hands it to its handlers as axum state (`http::state`).
use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::service::clock::Clock;
use crate::service::events::live::Hub;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Where search, browse, matches and the statistics CSV read: a replica's pool when
    /// `DATABASE_READ_URL` is set, else the primary's. Nothing writes through it.
    pub read_pool: PgPool,
    pub config: Arc<Config>,
    /// Live events (LISTEN/NOTIFY), fanned out to this process's open pages.
    pub events: Hub,
    /// The system clock in production; settable in tests.
    pub clock: Clock,
    /// This process's copy of the market statistics' snapshot.
    pub stats: crate::service::stats::Cache,
    /// This process's copy of the home page's boards.
    pub home: crate::service::home::Cache,
    /// This process's bids waiting for their auction's next statement (group commit).
    pub bids: crate::service::trading::BidQueues,
    /// This process's index of the listed listings for matching (loaded and kept by the task that
    /// `startup::serve` spawns; empty otherwise, and matching then reads the database).
    pub matches: crate::service::demands::MatchIndex,
}

impl AppState {
    /// The state of a process on the system clock (the live-event listener is started apart, by
    /// `startup::serve`, or by a test that wants it).
    pub fn new(pool: PgPool, config: Config) -> Self {
        AppState {
            read_pool: pool.clone(),
            pool,
            config: Arc::new(config),
            events: Hub::default(),
            clock: Clock::system(),
            stats: Default::default(),
            home: Default::default(),
            bids: Default::default(),
            matches: Default::default(),
        }
    }
}
