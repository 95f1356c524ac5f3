//! SQL of a bulk load (`techmarket seed bulk`) into the market's tables, inside the loader's one
//! transaction: whether the tables are empty, their secondary indexes (dropped before loading an empty
//! market and built again after it, from their own definitions), and the switch that keeps per-row
//! notifications quiet while the load writes.
use sqlx::PgConnection;

/// The tables a bulk load writes.
pub const TABLES: &str =
    "listings, auctions, demands, listing_match_profiles, listing_match_concepts";

/// Whether the tables a bulk load writes are empty, read under an exclusive lock on them (held until
/// the transaction ends: nothing can be written to them meanwhile).
pub async fn lock_if_empty(conn: &mut PgConnection) -> sqlx::Result<bool> {
    // Checked first without the lock, so that loading into a running market never blocks its readers.
    if !empty(&mut *conn).await? {
        return Ok(false);
    }
    sqlx::query(&format!("lock table {TABLES} in access exclusive mode"))
        .execute(&mut *conn)
        .await?;
    empty(conn).await
}

async fn empty(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select not exists(select 1 from listings) and not exists(select 1 from demands) \
         and not exists(select 1 from listing_match_profiles)",
    )
    .fetch_one(conn)
    .await
}

/// The secondary indexes of the tables a bulk load writes, (name, definition): not unique, not a
/// constraint's, so dropping them changes no rule, only speed.
pub async fn secondary_indexes(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(&format!(
        "select c.relname::text, pg_get_indexdef(i.indexrelid) from pg_index i join pg_class c on c.oid = i.indexrelid \
         where i.indrelid = any(array['{}']::regclass[]) and not i.indisunique and not i.indisprimary \
           and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid) \
         order by 1",
        TABLES.replace(", ", "','")
    ))
    .fetch_all(conn)
    .await
}

/// Drops an index named by [`secondary_indexes`] (in the caller's transaction: a rollback restores it).
pub async fn drop_index(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    sqlx::query(&format!("drop index \"{}\"", name.replace('"', "\"\"")))
        .execute(conn)
        .await?;
    Ok(())
}

/// Memory for building indexes in this transaction (GIN builds are much faster with it).
pub async fn index_build_memory(conn: &mut PgConnection, megabytes: u32) -> sqlx::Result<()> {
    sqlx::query(&format!("set local maintenance_work_mem = '{megabytes}MB'"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps the per-row `listing_matches` notification of each profile written quiet until this
/// transaction ends (the trigger's condition reads this setting; see the migration
/// `bulk_load_quiet`): the loader sends one notification instead, which makes every process's
/// matching index load again.
pub async fn quiet_row_notifications(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("set local techmarket.bulk_load = 'on'")
        .execute(conn)
        .await?;
    Ok(())
}

/// Vacuums `tables` (some of [`TABLES`]; with `analyze`, their statistics for the planner too):
/// the visibility map for index-only scans (outside any transaction).
pub async fn vacuum(conn: &mut PgConnection, tables: &[&str], analyze: bool) -> sqlx::Result<()> {
    let verb = if analyze { "vacuum analyze" } else { "vacuum" };
    sqlx::query(&format!("{verb} {}", tables.join(", ")))
        .execute(conn)
        .await?;
    Ok(())
}

/// Statistics for the planner of `tables` (some of [`TABLES`]).
pub async fn analyze(conn: &mut PgConnection, tables: &[&str]) -> sqlx::Result<()> {
    sqlx::query(&format!("analyze {}", tables.join(", ")))
        .execute(conn)
        .await?;
    Ok(())
}

/// The constraints a bulk load into an empty market drops and adds again, as (drop, add) statements:
/// the foreign keys between the tables it writes (each row checked by its own statement: 1.5 million
/// checks in a 100,000-listing seed, ~7 s, measured) and the primary key of `listing_match_concepts`
/// (1.3 million rows inserted across the whole key range). Added again, a foreign key is checked by one
/// join and a key built by one sort; a violation fails the load's transaction. Foreign keys to other
/// tables (organisations, users, exchanges: ~1.5 s of checks) are kept: dropping one locks the table
/// it references against readers too, for the whole load. Foreign keys come first (drop them first,
/// add them last).
pub async fn rebuilt_constraints(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(&format!(
        "select format('alter table %s drop constraint %I', conrelid::regclass, conname), \
           format('alter table %s add constraint %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) \
         from pg_constraint where conrelid = any(array['{0}']::regclass[]) \
           and ((contype = 'f' and confrelid = any(array['{0}']::regclass[])) \
             or (contype = 'p' and conrelid = 'listing_match_concepts'::regclass)) \
         order by contype = 'p', conname",
        TABLES.replace(", ", "','")
    ))
    .fetch_all(conn)
    .await
}

/// Runs a definition read by [`secondary_indexes`] (an index built again) or a statement given by
/// [`rebuilt_constraints`].
pub async fn run_definition(conn: &mut PgConnection, statement: &str) -> sqlx::Result<()> {
    sqlx::query(statement).execute(conn).await?;
    Ok(())
}
