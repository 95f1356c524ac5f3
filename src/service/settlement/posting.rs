//! Writing the ledger: postings are stored pending in the trade change's transaction, then chained
//! into `ledger_entries` by one appender at a time (group commit).
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db;
use crate::db::ledger as ldb;
use crate::domain::ledger::{self, EntryForHash, Posting};
use crate::error::{Error, Result};
use crate::service::events::{self, Event};

/// Records one balanced ledger transaction — the only way entries are written. The postings are
/// stored as pending in the caller's transaction (so they commit, or not, with the trade change they
/// belong to); after the commit, [`flush`] chains them into `ledger_entries`. Callers that answer a
/// request call `flush` before answering, so a 200 normally means the entries are in the ledger;
/// should that flush fail, they are committed as pending and chained by the next flush (any ledger
/// read, any request, or the periodic job).
pub async fn post(
    conn: &mut PgConnection,
    trade_id: Option<Uuid>,
    postings: &[Posting],
    at: DateTime<Utc>,
) -> Result<()> {
    if postings.is_empty() {
        return Ok(());
    }
    check_balanced(postings)?;
    ldb::insert_pending(conn, &pending(trade_id, postings, at)).await?;
    Ok(())
}

/// [`post`] and `events::emit(conn, event)` of the change the postings belong to, in one statement
/// (one round trip fewer on a trade transition's path).
pub async fn post_with_event(
    conn: &mut PgConnection,
    trade_id: Option<Uuid>,
    postings: &[Posting],
    at: DateTime<Utc>,
    event: &Event,
) -> Result<()> {
    if postings.is_empty() {
        return events::emit(conn, event).await;
    }
    check_balanced(postings)?;
    events::emit_with_postings(conn, event, &pending(trade_id, postings, at)).await
}

fn pending(trade_id: Option<Uuid>, postings: &[Posting], at: DateTime<Utc>) -> ldb::NewPending<'_> {
    ldb::NewPending {
        txn_id: Uuid::now_v7(),
        trade_id,
        postings,
        at,
    }
}

fn check_balanced(postings: &[Posting]) -> Result<()> {
    if ledger::is_balanced(postings) {
        Ok(())
    } else {
        Err(Error::Internal(anyhow::anyhow!(
            "refusing an unbalanced ledger transaction: {postings:?}"
        )))
    }
}

/// Most pending postings chained in one appender transaction.
const FLUSH_BATCH: i64 = 5_000;

/// The appender of one database in this process: flushes numbered from 1 in the order they begin,
/// and (behind the mutex, held by the one flushing) the number of the last that completed.
#[derive(Default)]
struct Appender {
    started: AtomicU64,
    completed: tokio::sync::Mutex<u64>,
}

/// One appender per database this process writes to (one in the server; many in the tests, which
/// give each test its own database). Across processes the chain head's row lock serialises them.
static APPENDERS: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Arc<Appender>>>> =
    std::sync::LazyLock::new(Default::default);

fn appender(pool: &PgPool) -> Arc<Appender> {
    let mut all = APPENDERS.lock().unwrap_or_else(|e| e.into_inner());
    all.entry(db::database_key(pool)).or_default().clone()
}

/// Chains every pending posting committed before the call into `ledger_entries`: lock the head,
/// read the pending rows in order, hash them onto the chain, insert them, move the head, delete
/// them, commit.
///
/// Group commit: a flush that began after the call sees everything committed before it. So a
/// caller that finds, once it holds the appender, that such a flush has completed meanwhile is
/// done without a query; otherwise it flushes for itself and for everyone queued behind it. One
/// head lock and one commit serve many settlements.
pub async fn flush(pool: &PgPool) -> Result<()> {
    let appender = appender(pool);
    let called_after = appender.started.load(Ordering::SeqCst);
    let mut completed = appender.completed.lock().await;
    if *completed > called_after {
        return Ok(());
    }
    let number = appender.started.fetch_add(1, Ordering::SeqCst) + 1;
    while append_pending(pool).await? == FLUSH_BATCH as usize {}
    *completed = number;
    Ok(())
}

/// One appender transaction over at most `FLUSH_BATCH` pending postings; returns how many it chained.
async fn append_pending(pool: &PgPool) -> Result<usize> {
    let mut tx = pool.begin().await?;
    // The head, locked, and the pending rows, taken in the same statement (another process's
    // appender may have chained some while we waited for the head: `take_pending` says why none
    // is taken twice).
    let (last_id, head, pending) = ldb::take_pending(&mut tx, FLUSH_BATCH).await?;
    if pending.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    let mut prev: [u8; 32] = head
        .as_slice()
        .try_into()
        .map_err(|_| Error::Internal(anyhow::anyhow!("ledger head hash is not 32 bytes")))?;
    let mut entries = Vec::with_capacity(pending.len());
    for (p, id) in pending.iter().zip(last_id + 1..) {
        let txn_s = p.txn_id.to_string();
        let trade_s = p.trade_id.map(|t| t.to_string());
        let side = if p.side == "debit" {
            ledger::Side::Debit
        } else {
            ledger::Side::Credit
        };
        let e = EntryForHash {
            id,
            txn_id: &txn_s,
            account: &p.account,
            side,
            amount_fen: p.amount_fen,
            trade_id: trade_s.as_deref(),
            created_at_micros: p.created_at.timestamp_micros(),
        };
        let hash = ledger::entry_hash(&prev, &e);
        entries.push(ldb::NewEntry {
            id,
            txn_id: p.txn_id,
            account: p.account.clone(),
            side: side.code(),
            amount_fen: p.amount_fen,
            trade_id: p.trade_id,
            created_at: p.created_at,
            prev_hash: prev.to_vec(),
            hash: hash.to_vec(),
        });
        prev = hash;
    }
    ldb::append(&mut tx, &entries).await?;
    tx.commit().await?;
    Ok(pending.len())
}
