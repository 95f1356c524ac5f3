-- Matching profiles of listings (issue 20, speed): the concepts a listing has or reaches, with their weights
-- and words, and its tokens, computed in Rust from its texts and the vocabulary when the listing is written
-- (domain::relevance::profile), so that matching retrieves candidates by concept overlap and scores them
-- without analysing their texts on every request. `version` names the vocabulary and the format: a profile
-- of another version means nothing and is recomputed (service::listings::profiles, in the background and by
-- `techmarket migrate`).
create table listing_match_profiles (
    listing_id uuid primary key references listings (id) on delete cascade,
    version bigint not null,
    -- id << 24 | weight << 12 | index into surfaces, sorted
    concepts bigint[] not null,
    surfaces text[] not null,
    -- key << 12 | weight, sorted
    tokens bigint[] not null,
    -- the specific concepts (ids), for retrieval by overlap
    retrieval int[] not null
);

create index listing_match_profiles_retrieval on listing_match_profiles using gin (retrieval);

-- A listing whose texts change loses its profile until it is computed again (the service writes the new one
-- in the same transaction; any other writer leaves the work to the background job).
create function listing_match_profile_stale() returns trigger language plpgsql as $$
begin
    delete from listing_match_profiles where listing_id = new.id;
    return new;
end
$$;

create trigger listings_match_profile_stale
    after update of title, summary, description, keywords on listings
    for each row
    when (old.title is distinct from new.title or old.summary is distinct from new.summary
          or old.description is distinct from new.description or old.keywords is distinct from new.keywords)
    execute function listing_match_profile_stale();
