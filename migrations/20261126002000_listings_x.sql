-- Listings: the price sort descending with unpriced listings last uses its own index
-- (the ascending index walked backwards would put them first).
create index listings_price_desc on listings (sort_price_fen desc nulls last, id desc) where status = 'listed';

-- Keep search vectors inline (compressed with lz4) instead of out of line in TOAST: a text search reads
-- the vector of every match (phrase recheck, ranking), and a TOAST fetch per row tripled that cost.
alter table listings alter column search set storage main;
alter table listings alter column search set compression lz4;

-- Any change to what search can see bumps this sequence (once per statement), so that every server
-- process notices and drops its cached broad searches (src/service/listings/cache.rs). nextval never
-- blocks and is not rolled back: at worst a cache is recomputed once too often.
create sequence listings_search_generation;
create function listings_search_changed() returns trigger language plpgsql as $$
begin
    perform nextval('listings_search_generation');
    return null;
end $$;
create trigger listings_search_changed
    after insert or delete or update of status, title, summary, description, keywords, ip_numbers, field,
        province, exchange, ip_type, pricing_mode, price_fen, trl, listed_at, search
    on listings for each statement execute function listings_search_changed();
