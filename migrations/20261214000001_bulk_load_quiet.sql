-- A bulk load (`techmarket seed bulk`, issue 23: 100,000 listings seeded in ≤ 30 s) writes a profile per
-- listing; each sent its own `listing_matches` notification (a nextval and a pg_notify). The loader sets
-- `techmarket.bulk_load` for its transaction only (`set local`, so a load that dies leaves nothing behind)
-- and sends one notification at its end that makes every process's matching index load again
-- (service::demands::index, payload `<generation> *`). Every other writer notifies as before.
drop trigger listing_match_profiles_changed on listing_match_profiles;

create trigger listing_match_profiles_changed
    after insert or update or delete on listing_match_profiles
    for each row when (current_setting('techmarket.bulk_load', true) is distinct from 'on')
    execute function listing_match_profiles_changed();
