-- Retrieval by concept through a B-tree (issue 20, speed). The GIN index on `listing_match_profiles.retrieval`
-- answers an overlap only with a bitmap of every listing that has the concept (thousands for a common one)
-- before the first row can be taken, so a "few listings with this concept" step cost as much as reading
-- them all (5–40 ms a demand on 100,000 listings, measured). One row per (concept, listing) in a B-tree
-- lets such a step stop after the few it takes. Rows are the profile's `retrieval` concepts, written with
-- it (db::match_profiles::upsert) and deleted with it.
create table listing_match_concepts (
    concept int not null,
    listing_id uuid not null references listing_match_profiles (listing_id) on delete cascade,
    primary key (concept, listing_id)
);

-- The cascade from a profile (a listing's texts changed, or the listing deleted) finds its rows.
create index listing_match_concepts_listing on listing_match_concepts (listing_id);

insert into listing_match_concepts (concept, listing_id)
select distinct c, p.listing_id from listing_match_profiles p cross join unnest(p.retrieval) as c;
