//! The ledger's writes: postings stored pending in a trade change's transaction, and the appender
//! taking them and chaining them into `ledger_entries` (`service::settlement::posting`). Reading the
//! ledger is in `db::settlement`.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// One entry about to be stored, its hash already computed.
pub struct NewEntry {
    pub id: i64,
    pub txn_id: Uuid,
    pub account: String,
    pub side: &'static str,
    pub amount_fen: i64,
    pub trade_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// A posting waiting to be chained.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingRow {
    pub seq: i64,
    pub txn_id: Uuid,
    pub account: String,
    pub side: String,
    pub amount_fen: i64,
    pub trade_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// One balanced transaction's postings, to store as pending.
pub struct NewPending<'a> {
    pub txn_id: Uuid,
    pub trade_id: Option<Uuid>,
    pub postings: &'a [crate::domain::ledger::Posting],
    pub at: DateTime<Utc>,
}

/// The `INSERT` of [`NewPending`] with its parameters from `$first` on (txn, accounts, sides,
/// amounts, trade, time), in the postings' order; bound by [`bind_pending`].
pub(crate) fn insert_pending_sql(first: usize) -> String {
    let p = |i: usize| format!("${}", first + i);
    format!(
        "insert into ledger_pending (txn_id, account, side, amount_fen, trade_id, created_at) \
         select {}, a, s, m, {}, {} from unnest({}::text[], {}::text[], {}::bigint[]) with ordinality as t(a, s, m, n) \
         order by n",
        p(0),
        p(4),
        p(5),
        p(1),
        p(2),
        p(3)
    )
}

/// Binds [`insert_pending_sql`]'s parameters.
pub(crate) fn bind_pending<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    p: &NewPending<'_>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let accounts: Vec<String> = p.postings.iter().map(|p| p.account.clone()).collect();
    let sides: Vec<&'static str> = p.postings.iter().map(|p| p.side.code()).collect();
    let amounts: Vec<i64> = p.postings.iter().map(|p| p.amount_fen).collect();
    q.bind(p.txn_id)
        .bind(accounts)
        .bind(sides)
        .bind(amounts)
        .bind(p.trade_id)
        .bind(p.at)
}

/// Stores one balanced transaction's postings as pending (in the caller's transaction).
pub async fn insert_pending(conn: &mut PgConnection, pending: &NewPending<'_>) -> sqlx::Result<()> {
    bind_pending(sqlx::query(&insert_pending_sql(1)), pending)
        .execute(conn)
        .await?;
    Ok(())
}

/// The chain head, locked, and up to `limit` committed pending postings in the order they were
/// written, taken (deleted) in the same statement: `(last_id, hash, postings)`. Hold the lock as
/// briefly as possible.
///
/// One statement, so one snapshot for both parts: pending rows that another appender chained while
/// this one waited for the head are in that snapshot, but it deleted them, and a `DELETE` skips a
/// row deleted by a transaction that committed meanwhile; the head is read after the lock (its
/// newest version). So every posting is taken by exactly one appender, and chained after its head.
pub async fn take_pending(
    conn: &mut PgConnection,
    limit: i64,
) -> sqlx::Result<(i64, Vec<u8>, Vec<PendingRow>)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        last_id: i64,
        hash: Vec<u8>,
        seq: Option<i64>,
        txn_id: Option<Uuid>,
        account: Option<String>,
        side: Option<String>,
        amount_fen: Option<i64>,
        trade_id: Option<Uuid>,
        created_at: Option<DateTime<Utc>>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "with head as (select last_id, hash from ledger_head where id = 1 for update), \
              taken as (delete from ledger_pending \
                        where seq in (select seq from ledger_pending order by seq limit $1) \
                        returning seq, txn_id, account, side, amount_fen, trade_id, created_at) \
         select h.last_id, h.hash, p.seq, p.txn_id, p.account, p.side, p.amount_fen, p.trade_id, p.created_at \
         from head h left join taken p on true order by p.seq",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let Some(first) = rows.first() else {
        return Err(sqlx::Error::RowNotFound);
    };
    let (last_id, hash) = (first.last_id, first.hash.clone());
    let pending = rows
        .into_iter()
        .filter_map(|r| {
            Some(PendingRow {
                seq: r.seq?,
                txn_id: r.txn_id?,
                account: r.account?,
                side: r.side?,
                amount_fen: r.amount_fen?,
                trade_id: r.trade_id,
                created_at: r.created_at?,
            })
        })
        .collect();
    Ok((last_id, hash, pending))
}

/// In one statement: inserts the entries (made from the postings [`take_pending`] took) and moves
/// the head to the last entry.
pub async fn append(conn: &mut PgConnection, entries: &[NewEntry]) -> sqlx::Result<()> {
    let Some(last) = entries.last() else {
        return Ok(());
    };
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let txns: Vec<Uuid> = entries.iter().map(|e| e.txn_id).collect();
    let accounts: Vec<&str> = entries.iter().map(|e| e.account.as_str()).collect();
    let sides: Vec<&str> = entries.iter().map(|e| e.side).collect();
    let amounts: Vec<i64> = entries.iter().map(|e| e.amount_fen).collect();
    let trades: Vec<Option<Uuid>> = entries.iter().map(|e| e.trade_id).collect();
    let ats: Vec<DateTime<Utc>> = entries.iter().map(|e| e.created_at).collect();
    let prevs: Vec<Vec<u8>> = entries.iter().map(|e| e.prev_hash.clone()).collect();
    let hashes: Vec<Vec<u8>> = entries.iter().map(|e| e.hash.clone()).collect();
    let r = sqlx::query(
        "with ins as (insert into ledger_entries (id, txn_id, account, side, amount_fen, trade_id, created_at, prev_hash, hash) \
         select * from unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::uuid[], \
                              $7::timestamptz[], $8::bytea[], $9::bytea[])) \
         update ledger_head set last_id = $10, hash = $11 \
         where id = 1 and setval('ledger_entries_id_seq', $10) = $10",
    )
    .bind(ids)
    .bind(txns)
    .bind(accounts)
    .bind(sides)
    .bind(amounts)
    .bind(trades)
    .bind(ats)
    .bind(prevs)
    .bind(hashes)
    .bind(last.id)
    .bind(&last.hash)
    .execute(conn)
    .await?;
    if r.rows_affected() != 1 {
        return Err(sqlx::Error::Protocol("ledger head not moved".into()));
    }
    Ok(())
}
