-- The market statistics (API.md "Statistics", /stats): one snapshot, recomputed at most once a minute
-- by whichever server process finds it due first (it holds this row's lock while computing, so the
-- others wait and then take its result instead of computing again). `body` is the statistics as
-- JSON (service::stats); null until the first computation.
create table stats_snapshot (
    id            smallint primary key check (id = 1),
    as_of         timestamptz,
    body          jsonb,
    computed_ms   integer
);
insert into stats_snapshot (id) values (1);
