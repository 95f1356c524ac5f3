-- What a public search answer shows beyond the listing's own searchable columns (which bump
-- listings_search_generation): its auction's terms and end (a bid moves `ends_at` near the end), and
-- its organisation's name and kind. A statement that may change those bumps this sequence, so that a
-- server process serving a cached answer (service::listings::answers) sees in its one check per
-- request that the answer may be stale. Per statement, never blocking, not rolled back: at worst an
-- answer is rendered once too often.
create sequence listing_pages_generation;
create function listing_pages_changed() returns trigger language plpgsql as $$
begin
    perform nextval('listing_pages_generation');
    return null;
end $$;
create trigger auctions_pages_changed
    after insert or delete or update on auctions
    for each statement execute function listing_pages_changed();
create trigger organizations_pages_changed
    after insert or delete or update of name, kind on organizations
    for each statement execute function listing_pages_changed();
create trigger listings_pages_changed
    after insert or delete or update of title_en, summary_en, transaction_modes, organization_id, created_at on listings
    for each statement execute function listing_pages_changed();
