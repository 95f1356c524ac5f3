//! Group commit of bids: this process's queue of the bids waiting for their auction's next
//! statement.
//!
//! One hot auction takes its bids one at a time: each holds the auction's row lock through its
//! statement and its commit (the WAL flush), so bids per second were bounded by commits per second,
//! like `pgbench` updating one row. Here the concurrent bids of one auction share one statement and
//! one commit instead ([`db::bid_batches::take_bids`]): a bid that passed its checks is queued; if no
//! flush of that auction is running in this process, one is started (in its own task, so that it
//! completes whoever goes away), which takes everything queued, sends it as one statement, answers
//! each bidder with its own outcome, and goes on while bids keep arriving. Bids that arrive while a
//! statement is in flight wait for the next one, so the batch grows with the load and a lone bid
//! costs one statement, as before.
//!
//! The order and the rules are those of one bid at a time: the statement applies the bids in the
//! order they were queued, each against the leading bid the ones before it left; across processes,
//! and against bids that take the single-bid path (first bids, bids with an `Idempotency-Key`), the
//! auction's row lock serialises the statements as it did single bids.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::db;
use crate::db::bid_batches::{QueuedBid, TakenBid};
use crate::error::{Error, Result};

/// Most bids in one statement; more wait for the next.
const MAX_BATCH: usize = 512;

struct Waiting {
    bid: QueuedBid,
    answer: oneshot::Sender<Result<TakenBid>>,
}

/// One auction's bids in this process: those queued, and how many the running flush is taking.
#[derive(Default)]
struct Queue {
    queued: Vec<Waiting>,
    in_flight: usize,
}

/// This process's bids waiting, per auction. An auction has an entry exactly while a flush of it
/// is running (its queue may be empty then: the flush removes the entry when it finds it so).
#[derive(Clone, Default)]
pub struct BidQueues(Arc<Mutex<HashMap<Uuid, Queue>>>);

impl BidQueues {
    /// Queues `bid` for the auction's next statement and waits for its outcome: accepted or not,
    /// and the auction right after it. An auction that does not exist gives 409 `auction_closed`.
    pub async fn take(&self, pool: &PgPool, listing_id: Uuid, bid: QueuedBid) -> Result<TakenBid> {
        let (answer, outcome) = oneshot::channel();
        let start = {
            let mut all = self.lock();
            let start = !all.contains_key(&listing_id);
            let queue = all.entry(listing_id).or_default();
            queue.queued.push(Waiting { bid, answer });
            start
        };
        if start {
            tokio::spawn(flush(self.clone(), pool.clone(), listing_id));
        }
        outcome
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("the bid queue's flush ended early")))?
    }

    /// How many bids on the auction this process holds, unanswered: queued or being taken.
    pub fn waiting(&self, listing_id: Uuid) -> usize {
        self.lock()
            .get(&listing_id)
            .map_or(0, |q| q.queued.len() + q.in_flight)
    }

    /// The running flush answered its batch.
    fn answered(&self, listing_id: Uuid) {
        if let Some(q) = self.lock().get_mut(&listing_id) {
            q.in_flight = 0;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Queue>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next batch of the auction's queue (the one before it answered), or none: the entry
    /// is removed and the flush ends.
    fn next_batch(&self, listing_id: Uuid) -> Option<Vec<Waiting>> {
        let mut all = self.lock();
        let queue = all.get_mut(&listing_id)?;
        if queue.queued.is_empty() {
            all.remove(&listing_id);
            return None;
        }
        let rest = queue.queued.split_off(queue.queued.len().min(MAX_BATCH));
        let batch = std::mem::replace(&mut queue.queued, rest);
        queue.in_flight = batch.len();
        Some(batch)
    }
}

/// Sends the auction's queued bids, one statement per batch, until the queue is empty.
async fn flush(queues: BidQueues, pool: PgPool, listing_id: Uuid) {
    // Should this task end any other way (a panic, the runtime stopping), the entry goes with it:
    // the bids still queued are answered with an error, and the next bid starts a new flush.
    let guard = EndGuard {
        queues: &queues,
        listing_id,
    };
    loop {
        // The connection first: bids queued while it is acquired join this batch.
        let conn = pool.acquire().await;
        let Some(batch) = queues.next_batch(listing_id) else {
            std::mem::forget(guard);
            return;
        };
        let (bids, answers): (Vec<QueuedBid>, Vec<_>) =
            batch.into_iter().map(|w| (w.bid, w.answer)).unzip();
        let taken = match conn {
            Ok(mut conn) => db::bid_batches::take_bids(&mut conn, listing_id, &bids).await,
            Err(e) => Err(e),
        };
        for (answer, outcome) in answers.into_iter().zip(outcomes(taken, bids.len())) {
            let _ = answer.send(outcome);
        }
        queues.answered(listing_id);
    }
}

/// Each bid's outcome from the statement's rows (one per bid, in order).
fn outcomes(taken: sqlx::Result<Vec<TakenBid>>, n: usize) -> Vec<Result<TakenBid>> {
    match taken {
        Ok(rows) if rows.len() == n => rows.into_iter().map(Ok).collect(),
        // No such auction.
        Ok(rows) if rows.is_empty() => (0..n)
            .map(|_| Err(Error::conflict("auction_closed")))
            .collect(),
        Ok(rows) => {
            let e = format!("take_bids answered {} rows for {n} bids", rows.len());
            (0..n)
                .map(|_| Err(Error::Internal(anyhow::anyhow!(e.clone()))))
                .collect()
        }
        // Nothing was committed: every bidder of the batch is told what a failed statement of its
        // own would have told it (503 when the database cannot be reached).
        Err(e) => {
            let unreachable = crate::error::is_unreachable(&e);
            (0..n)
                .map(|_| {
                    let cause = anyhow::anyhow!("bids not taken: {e}");
                    Err(if unreachable {
                        Error::Unavailable(cause)
                    } else {
                        Error::Internal(cause)
                    })
                })
                .collect()
        }
    }
}

/// Removes the auction's entry when its flush ends without emptying it (see [`flush`]).
struct EndGuard<'a> {
    queues: &'a BidQueues,
    listing_id: Uuid,
}

impl Drop for EndGuard<'_> {
    fn drop(&mut self) {
        self.queues.lock().remove(&self.listing_id);
    }
}
