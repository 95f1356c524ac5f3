//! SQL for listings' stored matching profiles (`listing_match_profiles`) and the retrieval of matching
//! candidates by concept overlap.
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use super::copy::{copy_in, CopyRows};
use super::demands::{ListingFactsRow, LISTING_COLUMNS};
use crate::domain::relevance::StoredProfile;

/// What a profile is computed from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileSource {
    pub id: Uuid,
    pub title: String,
    pub summary: String,
    /// The first 2,000 characters, as matching reads them.
    pub description: String,
    pub keywords: Vec<String>,
}

/// The first characters of a description that matching reads.
pub const DESCRIPTION_CHARS: usize = 2_000;

/// Up to `limit` listings (any status) without a profile of `version`.
pub async fn missing(
    conn: &mut PgConnection,
    version: i64,
    limit: i64,
) -> sqlx::Result<Vec<ProfileSource>> {
    sqlx::query_as(
        "select l.id, l.title, l.summary, left(l.description, 2000) as description, l.keywords from listings l \
         where not exists (select 1 from listing_match_profiles p where p.listing_id = l.id and p.version = $1) \
         limit $2",
    )
    .bind(version)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Stores profiles (replacing older ones).
pub async fn upsert(
    conn: &mut PgConnection,
    version: i64,
    profiles: &[(Uuid, StoredProfile)],
) -> sqlx::Result<()> {
    write(conn, version, profiles).await
}

/// New profiles and their concept rows, encoded for [`insert_new`].
#[derive(Debug)]
pub struct NewProfiles {
    profiles: CopyRows,
    concepts: CopyRows,
}

/// The rows of the profiles of listings that have none yet (a bulk load of new listings), for
/// [`insert_new`]: encoded by the thread that computed them.
pub fn new_rows(version: i64, profiles: &[(Uuid, StoredProfile)]) -> NewProfiles {
    let bytes: usize = profiles
        .iter()
        .map(|(_, p)| 64 + 12 * (p.concepts.len() + p.tokens.len()) + 16 * p.surfaces.len())
        .sum();
    let mut rows = CopyRows::new(6, bytes);
    let mut concepts = CopyRows::new(2, profiles.len() * 16 * 34);
    for (id, p) in profiles {
        rows.row()
            .uuid(*id)
            .int8(version)
            .int8_array(&p.concepts)
            .text_array(&p.surfaces)
            .int8_array(&p.tokens)
            .int4_array(&p.retrieval);
        let mut retrieval = p.retrieval.clone();
        retrieval.sort_unstable();
        retrieval.dedup();
        for c in retrieval {
            concepts.row().int4(c).uuid(*id);
        }
    }
    NewProfiles {
        profiles: rows,
        concepts,
    }
}

/// Stores the profiles of listings that have none yet ([`new_rows`]), with their concept rows: as
/// [`upsert`], by binary `COPY` (no conflict to look for: the listings are new, and a load into an
/// empty market has dropped the concept rows' key).
pub async fn insert_new(conn: &mut PgConnection, rows: NewProfiles) -> sqlx::Result<()> {
    copy_in(
        &mut *conn,
        "listing_match_profiles (listing_id, version, concepts, surfaces, tokens, retrieval)",
        rows.profiles,
    )
    .await?;
    copy_in(
        conn,
        "listing_match_concepts (concept, listing_id)",
        rows.concepts,
    )
    .await?;
    Ok(())
}

async fn write(
    conn: &mut PgConnection,
    version: i64,
    profiles: &[(Uuid, StoredProfile)],
) -> sqlx::Result<()> {
    // Six parameters a row, well under the protocol's 65,535.
    for chunk in profiles.chunks(1_000) {
        let mut b: QueryBuilder<'_, Postgres> = QueryBuilder::new(
            "insert into listing_match_profiles (listing_id, version, concepts, surfaces, tokens, retrieval) ",
        );
        b.push_values(chunk, |mut row, (id, p)| {
            row.push_bind(*id)
                .push_bind(version)
                .push_bind(&p.concepts)
                .push_bind(&p.surfaces)
                .push_bind(&p.tokens)
                .push_bind(&p.retrieval);
        });
        // A listing deleted meanwhile has no profile to keep.
        b.push(
            " on conflict (listing_id) do update set version = excluded.version, concepts = excluded.concepts, \
             surfaces = excluded.surfaces, tokens = excluded.tokens, retrieval = excluded.retrieval",
        );
        b.build().persistent(false).execute(&mut *conn).await?;
        // The profiles' concepts for retrieval through the B-tree, replaced with them.
        let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
        sqlx::query("delete from listing_match_concepts where listing_id = any($1)")
            .bind(&ids)
            .execute(&mut *conn)
            .await?;
        let (concepts, listings): (Vec<i32>, Vec<Uuid>) = chunk
            .iter()
            .flat_map(|(id, p)| p.retrieval.iter().map(move |c| (*c, *id)))
            .unzip();
        sqlx::query(
            "insert into listing_match_concepts (concept, listing_id) \
             select distinct c, l from unnest($1::int[], $2::uuid[]) as t(c, l) on conflict do nothing",
        )
        .bind(&concepts)
        .bind(&listings)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A candidate: what scoring needs, and the entries of its profile.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub field: String,
    pub province: String,
    pub trl: i16,
    pub price_fen: Option<i64>,
    pub sort_price_fen: Option<i64>,
    pub listed_at: Option<DateTime<Utc>>,
    pub concepts: Vec<i64>,
    pub tokens: Vec<i64>,
}

/// How many candidates each retrieval step may bring (they are scored in Rust).
pub const BOTH_LIMIT: i64 = 100;
pub const EACH_LIMIT: i64 = 20;
pub const NEAR_LIMIT: i64 = 30;
pub const TOKENS_LIMIT: i64 = 30;
pub const PER_FIELD_LIMIT: i64 = 8;

/// How a demand retrieves listings (concept ids as in `StoredProfile::retrieval`).
pub struct Retrieval<'a> {
    pub version: i64,
    /// The specific concepts of the two heaviest concept units: listings with one of each.
    pub first: &'a [i32],
    pub second: &'a [i32],
    /// The heaviest units' concepts (`each_ids`, tagged by unit in `each_units`): listings with any, a few
    /// per unit.
    pub each_ids: &'a [i32],
    pub each_units: &'a [i32],
    /// Broader and related concepts of the heaviest units.
    pub near: &'a [i32],
}

/// The ids of listings that share a concept with a demand (steps `both`, `each` and `near` of
/// [`Retrieval`]), first found in each step (no ranking: the B-tree of `listing_match_concepts` stops
/// after the few each step takes, the `both` step intersects the GIN index's bitmaps; the score decides).
/// Ids only: the statement is cheap to plan, and its generic plan is the one a demand would get (the candidates' status and profiles are read by
/// primary key afterwards, [`candidates`]). A listing may come more than once.
pub async fn concept_candidates(
    conn: &mut PgConnection,
    r: &Retrieval<'_>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "(select p.listing_id from listing_match_profiles p join listings l on l.id = p.listing_id \
           where cardinality($1::int[]) > 0 and cardinality($2::int[]) > 0 and p.retrieval && $1::int[] \
           and p.retrieval && $2::int[] and p.version = $9 and l.status = 'listed' limit $6) \
         union all (select x.listing_id from \
           (select u, array_agg(c) as ids from unnest($3::int[], $4::int[]) as t(c, u) group by u) g \
           cross join lateral (select m.listing_id from listing_match_concepts m \
             join listings l on l.id = m.listing_id where m.concept = any(g.ids) and l.status = 'listed' \
             order by m.concept, m.listing_id limit $7) x) \
         union all (select m.listing_id from listing_match_concepts m join listings l on l.id = m.listing_id \
           where m.concept = any($5::int[]) and l.status = 'listed' order by m.concept, m.listing_id limit $8)",
    )
    .bind(r.first)
    .bind(r.second)
    .bind(r.each_ids)
    .bind(r.each_units)
    .bind(r.near)
    .bind(BOTH_LIMIT)
    .bind(EACH_LIMIT)
    .bind(NEAR_LIMIT)
    .bind(r.version)
    .fetch_all(conn)
    .await
}

/// Listed listings that contain a word the vocabulary does not know (`tokens`, a `tsquery` over the search
/// vector), the first found. Sent unprepared, like a search: its best plan depends on how common the words are.
pub async fn token_candidates(conn: &mut PgConnection, tokens: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select l.id from listings l where l.status = 'listed' and l.search @@ $1::tsquery limit $2",
    )
    .persistent(false)
    .bind(tokens)
    .bind(TOKENS_LIMIT)
    .fetch_all(conn)
    .await
}

/// The newest listed listings of each of `fields`, whatever they share with a demand.
pub async fn field_candidates(
    conn: &mut PgConnection,
    fields: &[String],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select x.id from unnest($1::text[]) as fc(code) cross join lateral \
           (select l.id from listings l where l.status = 'listed' and l.field = fc.code \
            order by l.listed_at desc limit $2) x",
    )
    .bind(fields)
    .bind(PER_FIELD_LIMIT)
    .fetch_all(conn)
    .await
}

/// What scoring needs of the listed listings of `ids` with a current profile, and their profiles'
/// entries whole (the caller keeps those a demand looks up): by primary key, one generic plan.
pub async fn candidates(
    conn: &mut PgConnection,
    version: i64,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Candidate>> {
    sqlx::query_as(
        "select l.id, l.organization_id, l.field, l.province, \
           coalesce((select (v.report->'medians'->>'maturity_trl')::smallint from evaluations v \
             where v.listing_id = l.id and v.status = 'published' order by v.closed_at desc limit 1), l.trl) as trl, \
           l.price_fen, l.sort_price_fen, l.listed_at, p.concepts, p.tokens \
         from listing_match_profiles p join listings l on l.id = p.listing_id \
         where p.listing_id = any($2::uuid[]) and p.version = $1 and l.status = 'listed'",
    )
    .bind(version)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// A listing to show: its facts and its profile's words (its entries come with [`candidates`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Shown {
    #[sqlx(flatten)]
    pub listing: ListingFactsRow,
    pub surfaces: Vec<String>,
}

/// The listed listings of `ids` with a current profile, as shown in a list of matches.
pub async fn shown(
    conn: &mut PgConnection,
    version: i64,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Shown>> {
    sqlx::query_as(&format!(
        "select {LISTING_COLUMNS}, p.surfaces \
         from listings l join organizations o on o.id = l.organization_id \
         join listing_match_profiles p on p.listing_id = l.id and p.version = $1 \
         where l.id = any($2::uuid[]) and l.status = 'listed'"
    ))
    .bind(version)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Whether this transaction may refresh profiles (one process at a time; released at commit).
pub async fn try_lock_refresh(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("select pg_try_advisory_xact_lock(7261208)")
        .fetch_one(conn)
        .await
}

/// The generation of what matching's in-process index keeps (`listing_matches_generation`, moved by every
/// change of a listed listing's matching data; see the migration that made it).
pub async fn matches_generation(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("select last_value from listing_matches_generation")
        .fetch_one(conn)
        .await
}

/// What matching's in-process index keeps of a listed listing with a current profile: what scoring needs
/// ([`Candidate`]) and the concepts it is retrieved by.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Indexed {
    #[sqlx(flatten)]
    pub candidate: Candidate,
    pub retrieval: Vec<i32>,
}

const INDEXED: &str = "select l.id, l.organization_id, l.field, l.province, \
       coalesce((select (v.report->'medians'->>'maturity_trl')::smallint from evaluations v \
         where v.listing_id = l.id and v.status = 'published' order by v.closed_at desc limit 1), l.trl) as trl, \
       l.price_fen, l.sort_price_fen, l.listed_at, p.concepts, p.tokens, p.retrieval \
     from listing_match_profiles p join listings l on l.id = p.listing_id \
     where p.version = $1 and l.status = 'listed'";

/// Every listed listing with a profile of `version`, as the index keeps it (a stream: 100,000 rows).
pub fn all_indexed(
    conn: &mut PgConnection,
    version: i64,
) -> futures_util::stream::BoxStream<'_, sqlx::Result<Indexed>> {
    sqlx::query_as(INDEXED).bind(version).fetch(conn)
}

/// The listings of `ids` that are listed and have a profile of `version`, as the index keeps them.
pub async fn indexed(
    conn: &mut PgConnection,
    version: i64,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Indexed>> {
    sqlx::query_as(&format!("{INDEXED} and l.id = any($2::uuid[])"))
        .bind(version)
        .bind(ids)
        .fetch_all(conn)
        .await
}

/// Sends a notification of a new generation that names no listing (`<generation> <mark>`).
pub async fn mark_generation(
    conn: &mut PgConnection,
    channel: &str,
    mark: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "select pg_notify($1, nextval('listing_matches_generation')::text || ' ' || $2::text)",
    )
    .bind(channel)
    .bind(mark)
    .execute(conn)
    .await?;
    Ok(())
}
