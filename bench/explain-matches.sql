-- The plans of a demand's candidate retrieval (db::match_profiles::candidates) on the bench database that
-- bench/matches.sh seeds, for the commonest concepts (the worst case of a "few listings with any of these
-- concepts" step). Steps `e` and `n` must read the B-tree listing_match_concepts_pkey (Index Only Scan,
-- about as many rows as their limit), never the GIN index on listing_match_profiles.retrieval (a bitmap of
-- every listing with the concepts: 40,000 rows for the commonest) nor walk listings_listed_newest.
--   psql "$BENCH_DATABASE_URL" -f bench/explain-matches.sql
select array_agg(concept) as common from (select concept from listing_match_concepts group by concept
    order by count(*) desc limit 3) x \gset
\echo '== e: 20 listings for each unit (here the three commonest concepts, one unit each)'
explain (analyze, buffers)
select x.listing_id from (select u, array_agg(c) as ids from unnest(:'common'::int[], '{0,1,2}'::int[]) as t(c, u)
    group by u) g
cross join lateral (select m.listing_id from listing_match_concepts m join listings l on l.id = m.listing_id
    where m.concept = any(g.ids) and l.status = 'listed' order by m.concept, m.listing_id limit 20) x;
\echo '== n: 30 listings with any of the broader and related concepts'
explain (analyze, buffers)
select m.listing_id from listing_match_concepts m join listings l on l.id = m.listing_id
where m.concept = any(:'common'::int[]) and l.status = 'listed' order by m.concept, m.listing_id limit 30;
\echo '== the same through the GIN index, as before (for comparison)'
explain (analyze, buffers)
select x.listing_id from (select u, array_agg(c) as ids from unnest(:'common'::int[], '{0,1,2}'::int[]) as t(c, u)
    group by u) g
cross join lateral (select p.listing_id from listing_match_profiles p join listings l on l.id = p.listing_id
    where p.retrieval && g.ids and l.status = 'listed' limit 20) x;
