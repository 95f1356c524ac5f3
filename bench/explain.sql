-- The plans of the searches the benchmark runs, as the server sends them (db::listings::search_text_ids
-- and search_plain_ids). Text searches must use the GIN index listings_search (Bitmap Index Scan), never
-- a sequential scan or a backward walk of a sort index.
--   psql "$DATABASE_URL" -f bench/explain.sql
set plan_cache_mode = force_custom_plan;
\echo '== q=芯片 (relevance)'
explain (analyze, buffers)
with m as materialized (select l.id, l.listed_at, l.sort_price_fen,
        ts_rank('{0.1, 0.2, 0.4, 1.0}', l.search, '''芯片'''::tsquery) as rank
    from listings l where l.status = 'listed' and l.search @@ '''芯片'''::tsquery)
select m.id from m order by m.rank desc, m.listed_at desc, m.id desc;
\echo '== q=燃气轮机 (relevance)'
explain (analyze, buffers)
with m as materialized (select l.id, l.listed_at, l.sort_price_fen,
        ts_rank('{0.1, 0.2, 0.4, 1.0}', l.search, '(''燃气'' <-> ''气轮'' <-> ''轮机'')'::tsquery) as rank
    from listings l where l.status = 'listed' and l.search @@ '(''燃气'' <-> ''气轮'' <-> ''轮机'')'::tsquery)
select m.id from m order by m.rank desc, m.listed_at desc, m.id desc;
\echo '== field=aerospace&province=chongqing (newest), page and total'
explain analyze select l.id from listings l where l.status = 'listed' and l.field = 'aerospace'
    and l.province = 'chongqing' order by l.listed_at desc, l.id desc limit 20 offset 0;
explain analyze select count(*) from listings l where l.status = 'listed' and l.field = 'aerospace'
    and l.province = 'chongqing';
\echo '== price 100万–500万元, price_asc, page and total'
explain analyze select l.id from listings l where l.status = 'listed' and l.sort_price_fen >= 100000000
    and l.sort_price_fen <= 500000000 order by l.sort_price_fen asc nulls last, l.id asc limit 20 offset 0;
explain analyze select count(*) from listings l where l.status = 'listed' and l.sort_price_fen >= 100000000
    and l.sort_price_fen <= 500000000;
