-- The search and listing-page generations, read on a hot standby (DATABASE_READ_URL), stood still:
-- nextval writes WAL only once every 32 values (and then logs the value 32 ahead), so a replica saw
-- the generation move once per 32 changes, and its server kept serving cached searches that a change
-- had made stale (until the cache's own age limit). setval writes WAL every time, with the exact
-- value. So each bump now takes a unique value from a counter sequence (nextval: never blocks, never
-- repeats) and sets the generation to it: on the primary and on every replica the generation takes a
-- new value, never seen before, on every change. (Two concurrent bumps may set their values in either
-- order; a reader only compares generations for equality, and no value is ever set twice.)
create sequence listings_search_counter;
select setval('listings_search_counter', (select last_value from listings_search_generation));
create sequence listing_pages_counter;
select setval('listing_pages_counter', (select last_value from listing_pages_generation));

create or replace function listings_search_changed() returns trigger language plpgsql as $$
begin
    perform setval('listings_search_generation', nextval('listings_search_counter'));
    return null;
end $$;

create or replace function listing_pages_changed() returns trigger language plpgsql as $$
begin
    perform setval('listing_pages_generation', nextval('listing_pages_counter'));
    return null;
end $$;
