-- Matching's in-process index of the listed listings (service::demands::index, issue 20: matches p99 ≤ 100 ms)
-- learns of every change to what it keeps from these notifications, sent at commit to every server process:
-- payload `<generation> <listing id>`. The generation (a sequence, never rolled back) is also read by each
-- matches request: an index that has not yet applied a generation that high is not used (the request
-- retrieves its candidates with SQL), so a request never reads an index older than what it can see.
-- A running auction's bids move only `sort_price_fen`, which is left out: a NOTIFY in the bid's
-- transaction halved the bid rate (the index's price of a running auction is the one of its last other
-- change; the listings shown are read and scored again fresh).
create sequence listing_matches_generation;

create function listing_matches_notify(listing uuid) returns void language sql as $$
    select pg_notify('listing_matches', nextval('listing_matches_generation')::text || ' ' || listing::text);
$$;

create function listings_matches_changed() returns trigger language plpgsql as $$
begin
    perform listing_matches_notify(new.id);
    return null;
end $$;

create trigger listings_matches_changed
    after update of status, organization_id, field, province, trl, price_fen, listed_at on listings
    for each row
    when (old.status is distinct from new.status or old.organization_id is distinct from new.organization_id
          or old.field is distinct from new.field or old.province is distinct from new.province
          or old.trl is distinct from new.trl or old.price_fen is distinct from new.price_fen
          or old.listed_at is distinct from new.listed_at)
    execute function listings_matches_changed();

-- A profile written, replaced or removed (a listing's texts changed, or the listing was deleted).
create function listing_match_profiles_changed() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        perform listing_matches_notify(old.listing_id);
    else
        perform listing_matches_notify(new.listing_id);
    end if;
    return null;
end $$;

create trigger listing_match_profiles_changed
    after insert or update or delete on listing_match_profiles
    for each row execute function listing_match_profiles_changed();

-- A published expert evaluation gives the listing's TRL as matching reads it.
create function evaluations_matches_changed() returns trigger language plpgsql as $$
begin
    perform listing_matches_notify(new.listing_id);
    return null;
end $$;

create trigger evaluations_matches_changed
    after insert or update of status on evaluations
    for each row when (new.status = 'published')
    execute function evaluations_matches_changed();
