-- Statement-level triggers fire for statements that change no row too: the jobs' one-second tick
-- (`update auctions ... where status = 'scheduled' and starts_at <= now()`, usually nothing due) bumped
-- listing_pages_generation every second in every server process, so every kept listing row and search
-- answer (service::listings::details, ::answers) was thrown away each second, and each bump wrote WAL.
-- An update of auctions now bumps it only when it changed rows (its transition table is not empty).
-- (A trigger with a transition table may serve one event only: insert and delete keep their own.)
create function listing_pages_rows_changed() returns trigger language plpgsql as $$
begin
    if exists (select 1 from changed) then
        perform setval('listing_pages_generation', nextval('listing_pages_counter'));
    end if;
    return null;
end $$;
drop trigger auctions_pages_changed on auctions;
create trigger auctions_pages_inserted_or_deleted
    after insert or delete on auctions
    for each statement execute function listing_pages_changed();
create trigger auctions_pages_updated
    after update on auctions referencing new table as changed
    for each statement execute function listing_pages_rows_changed();
