-- A listing's detail (its JSON and its page, src/service/listings/details.rs) is kept between requests
-- under the search generation and listing_pages_generation. It shows more than a search answer: the
-- listing's remaining columns, its active pledge, its latest published evaluation and whether it has
-- documents. A statement that may change those bumps listing_pages_generation too (per statement,
-- never blocking, not rolled back: at worst a row is read once too often). sort_price_fen (moved by
-- every bid batch) is not shown and does not bump it; the auction the bid changes does.
drop trigger listings_pages_changed on listings;
create trigger listings_pages_changed
    after insert or delete or update of title_en, summary_en, transaction_modes, organization_id, created_at,
        created_by, reject_reason, submitted_at, updated_at, reviewed_by
    on listings for each statement execute function listing_pages_changed();
create trigger pledge_requests_pages_changed
    after insert or delete or update on pledge_requests
    for each statement execute function listing_pages_changed();
create trigger evaluations_pages_changed
    after insert or delete or update on evaluations
    for each statement execute function listing_pages_changed();
create trigger listing_documents_pages_changed
    after insert or delete or update on listing_documents
    for each statement execute function listing_pages_changed();
