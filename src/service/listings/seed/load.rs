//! How `seed bulk` writes: one transaction for the whole load, fed batch by batch by the generator
//! through a channel, so that PostgreSQL inserts one batch while the next is generated and profiled.
//!
//! One transaction makes the load all or nothing: a load that dies (killed, a lost connection) leaves
//! the database as it was, indexes and constraints included. Into an empty market the secondary indexes
//! (the full-text and array GIN indexes, the B-trees), the foreign keys between those tables and the
//! concept rows' primary key are dropped first and made once at the end, from their own definitions,
//! instead of being kept row by row (measured in bench/RESULTS.md); those tables stay locked
//! exclusively meanwhile. Into a market with listings all of them are kept. Either way the per-row `listing_matches` notifications are kept quiet and one
//! notification at the end makes the server processes' matching indexes load again.
use std::time::Instant;

use anyhow::Context;
use indicatif::ProgressBar;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::db;
use crate::db::copy::CopyRows;
use crate::db::listings::BulkAuctions;
use crate::db::match_profiles::{NewProfiles, ProfileSource};
use crate::domain::relevance::StoredProfile;
use crate::service::demands;
use crate::service::listings::profiles;

/// Memory for building the indexes again (the search GIN index builds in a few passes with 64 MB).
const INDEX_BUILD_MB: u32 = 256;

/// One batch for the writer, its rows encoded by the generator (which made their values: the many
/// small allocations are freed by the thread that made them).
pub(super) enum Batch {
    Listings {
        listings: CopyRows,
        auctions: BulkAuctions,
        /// Their profiles, being computed on a blocking thread ([`Writer::profiles`]).
        profiles: JoinHandle<Profiles>,
    },
    Demands(CopyRows),
}

/// A batch's profiles: encoded for `COPY` (into an empty market), or to be upserted.
pub(super) enum Profiles {
    New(NewProfiles),
    Stored(Vec<(Uuid, StoredProfile)>),
}

/// The load's phases and how long each took (printed at the end).
#[derive(Default)]
pub(super) struct Phases(Vec<(&'static str, f64)>);

impl Phases {
    pub(super) fn record(&mut self, name: &'static str, since: Instant) {
        self.0.push((name, since.elapsed().as_secs_f64()));
    }

    pub(super) fn print(&self) {
        let all: Vec<String> = self
            .0
            .iter()
            .map(|(name, s)| format!("{name} {s:.1} s"))
            .collect();
        eprintln!("seed bulk phases: {}", all.join(", "));
    }
}

/// The writer: the load's transaction, in a task of its own.
pub(super) struct Writer {
    send: mpsc::Sender<Batch>,
    task: JoinHandle<anyhow::Result<Transaction<'static, Postgres>>>,
    /// The secondary indexes dropped (name, definition): built again by [`Writer::finish`].
    dropped: Vec<(String, String)>,
    /// The constraints dropped (drop, add statements): added again by [`Writer::finish`].
    constraints: Vec<(String, String)>,
    /// Whether the market was empty (its indexes dropped).
    fresh: bool,
}

impl Writer {
    /// Begins the load's transaction (and drops the secondary indexes if the market is empty).
    pub(super) async fn start(pool: &PgPool, bar: ProgressBar) -> anyhow::Result<Writer> {
        let mut tx = pool.begin().await?;
        db::bulk_load::quiet_row_notifications(&mut tx).await?;
        let mut dropped = Vec::new();
        let mut constraints = Vec::new();
        if db::bulk_load::lock_if_empty(&mut tx).await? {
            dropped = db::bulk_load::secondary_indexes(&mut tx).await?;
            for (name, _) in &dropped {
                db::bulk_load::drop_index(&mut tx, name).await?;
            }
            constraints = db::bulk_load::rebuilt_constraints(&mut tx).await?;
            for (drop, _) in &constraints {
                db::bulk_load::run_definition(&mut tx, drop).await?;
            }
        }
        let fresh = !dropped.is_empty();
        // Two batches wait at most: one being generated, one queued, one being written.
        let (send, mut recv) = mpsc::channel::<Batch>(1);
        let version = profiles::current_version();
        let task = tokio::spawn(async move {
            while let Some(batch) = recv.recv().await {
                let n = match batch {
                    Batch::Listings {
                        listings,
                        auctions,
                        profiles,
                    } => {
                        let n = listings.len();
                        db::listings::bulk_insert(&mut tx, listings).await?;
                        if !auctions.listing_id.is_empty() {
                            db::listings::bulk_insert_auctions(&mut tx, &auctions).await?;
                        }
                        match profiles.await.context("profiles task")? {
                            Profiles::New(rows) => {
                                db::match_profiles::insert_new(&mut tx, rows).await?
                            }
                            Profiles::Stored(profiles) => {
                                db::match_profiles::upsert(&mut tx, version, &profiles).await?
                            }
                        }
                        n
                    }
                    Batch::Demands(demands) => {
                        let n = demands.len();
                        db::listings::bulk_insert_demands(&mut tx, demands).await?;
                        n
                    }
                };
                bar.inc(n as u64);
            }
            Ok(tx)
        });
        Ok(Writer {
            send,
            task,
            dropped,
            constraints,
            fresh,
        })
    }

    /// The profiles of a batch of listings, computed on a blocking thread while the caller goes on, and
    /// (into an empty market) encoded there too.
    pub(super) fn profiles(&self, sources: Vec<ProfileSource>) -> JoinHandle<Profiles> {
        let fresh = self.fresh;
        tokio::task::spawn_blocking(move || {
            let stored = profiles::compute_many(&sources);
            if fresh {
                Profiles::New(db::match_profiles::new_rows(
                    profiles::current_version(),
                    &stored,
                ))
            } else {
                Profiles::Stored(stored)
            }
        })
    }

    /// Hands a batch to the writer (waits while one is queued). An error: the writer stopped; its
    /// cause is what [`Writer::finish`] returns.
    pub(super) async fn write(&self, batch: Batch) -> Result<(), ()> {
        self.send.send(batch).await.map_err(|_| ())
    }

    /// Waits for the last batch, builds the dropped indexes again, tells the server processes and
    /// commits.
    pub(super) async fn finish(self, phases: &mut Phases, started: Instant) -> anyhow::Result<()> {
        let Writer {
            send,
            task,
            dropped,
            constraints,
            ..
        } = self;
        drop(send);
        let mut tx = task.await.context("bulk writer")??;
        phases.record("rows", started);
        if !dropped.is_empty() {
            let t = Instant::now();
            db::bulk_load::index_build_memory(&mut tx, INDEX_BUILD_MB).await?;
            for (name, definition) in &dropped {
                db::bulk_load::run_definition(&mut tx, definition)
                    .await
                    .with_context(|| format!("building index {name} again"))?;
            }
            phases.record("indexes", t);
        }
        let t = Instant::now();
        for (_, add) in constraints.iter().rev() {
            db::bulk_load::run_definition(&mut tx, add)
                .await
                .with_context(|| add.clone())?;
        }
        if !constraints.is_empty() {
            phases.record("constraints", t);
        }
        demands::load_again_everywhere(&mut tx).await?;
        let t = Instant::now();
        tx.commit().await?;
        phases.record("commit", t);
        Ok(())
    }
}
