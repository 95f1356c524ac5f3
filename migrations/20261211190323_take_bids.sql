-- Group commit of the bids on one auction (issue 23): a server process queues the concurrent bids of
-- known bidders on one auction and sends them as ONE call of this function, so one row lock, one
-- update of the auction and of the listing, and one commit serve them all.
--
-- The bids are applied in the order given, each exactly as the single-bid statement would
-- (src/db/trading.rs, TAKE_BID): accepted only while the auction is open and before its end, and for
-- at least the start price, then the running leading bid plus the increment; a bid accepted within
-- the last `extension_seconds` moves the end to its time + extension (anti-sniping). Each accepted
-- bid is recorded, numbered (`seq`) and timed (strictly later than the bid before it), and the
-- organisation it took the lead from is told (`outbid`); the seller's one notice per auction is
-- renewed once, with the last accepted bid's words.
--
-- Returns one row per bid, in the order given: whether it was accepted, the time it was considered,
-- and the auction as it stood right after it (the answer to that bidder). No row: no such auction.
create function take_bids(
    p_listing uuid,
    p_amounts bigint[],
    p_orgs uuid[],
    p_ids uuid[],
    p_users uuid[],
    p_bidder_nos integer[],
    -- The outbid notice each bid would send (its amount is in the words), and the link.
    p_outbid_title_zh text[],
    p_outbid_title_en text[],
    p_outbid_body_zh text[],
    p_outbid_body_en text[],
    p_outbid_link text,
    -- The seller's notice each bid would renew, its link and its dedupe key.
    p_seller uuid,
    p_seller_title_zh text[],
    p_seller_title_en text[],
    p_seller_body_zh text[],
    p_seller_body_en text[],
    p_seller_link text,
    p_seller_key text
) returns table (
    accepted boolean,
    considered_at timestamptz,
    listing_id uuid,
    status text,
    start_price_fen bigint,
    increment_fen bigint,
    reserve_fen bigint,
    ends_at timestamptz,
    extension_seconds integer,
    leading_bid_fen bigint,
    leading_org_id uuid,
    leading_bid_id uuid,
    bid_count integer,
    closed_at timestamptz,
    trade_id uuid,
    last_bid_at timestamptz,
    outbid_org_id uuid,
    deposit_fen bigint
) language plpgsql as $$
#variable_conflict use_column
declare
    a auctions%rowtype;
    k integer;
    t timestamptz;
    last_taken integer;
begin
    select * into a from auctions where auctions.listing_id = p_listing for update;
    if not found then
        return;
    end if;
    for k in 1 .. coalesce(array_length(p_amounts, 1), 0) loop
        t := clock_timestamp();
        accepted := a.status = 'open' and a.ends_at > t
            and p_amounts[k] >= coalesce(a.leading_bid_fen + a.increment_fen, a.start_price_fen);
        if accepted then
            -- Bid times increase with the order of acceptance, even within one call.
            t := greatest(t, a.last_bid_at + interval '1 microsecond');
            a.outbid_org_id := case when a.leading_org_id is distinct from p_orgs[k] then a.leading_org_id end;
            a.leading_bid_fen := p_amounts[k];
            a.leading_org_id := p_orgs[k];
            a.leading_bid_id := p_ids[k];
            a.bid_count := a.bid_count + 1;
            a.last_bid_at := t;
            if a.ends_at - make_interval(secs => a.extension_seconds) < t then
                a.ends_at := greatest(a.ends_at, t + make_interval(secs => a.extension_seconds));
            end if;
            insert into bids (id, listing_id, organization_id, user_id, amount_fen, bidder_no, created_at, seq)
            values (p_ids[k], p_listing, p_orgs[k], p_users[k], p_amounts[k], p_bidder_nos[k], t, a.bid_count);
            if a.outbid_org_id is not null then
                insert into notifications (organization_id, kind, title_zh, title_en, body_zh, body_en, link)
                values (a.outbid_org_id, 'outbid', p_outbid_title_zh[k], p_outbid_title_en[k],
                        p_outbid_body_zh[k], p_outbid_body_en[k], p_outbid_link);
            end if;
            last_taken := k;
        end if;
        considered_at := t;
        listing_id := a.listing_id;
        status := a.status;
        start_price_fen := a.start_price_fen;
        increment_fen := a.increment_fen;
        reserve_fen := a.reserve_fen;
        ends_at := a.ends_at;
        extension_seconds := a.extension_seconds;
        leading_bid_fen := a.leading_bid_fen;
        leading_org_id := a.leading_org_id;
        leading_bid_id := a.leading_bid_id;
        bid_count := a.bid_count;
        closed_at := a.closed_at;
        trade_id := a.trade_id;
        last_bid_at := a.last_bid_at;
        outbid_org_id := a.outbid_org_id;
        deposit_fen := nullif(a.deposit_fen, 0);
        return next;
    end loop;
    if last_taken is null then
        return;
    end if;
    update auctions set leading_bid_fen = a.leading_bid_fen, leading_org_id = a.leading_org_id,
        leading_bid_id = a.leading_bid_id, outbid_org_id = a.outbid_org_id, bid_count = a.bid_count,
        last_bid_at = a.last_bid_at, ends_at = a.ends_at
    where auctions.listing_id = p_listing;
    update listings set sort_price_fen = a.leading_bid_fen where listings.id = p_listing;
    insert into notifications (organization_id, kind, title_zh, title_en, body_zh, body_en, link, dedupe_key)
    values (p_seller, 'bid_received', p_seller_title_zh[last_taken], p_seller_title_en[last_taken],
            p_seller_body_zh[last_taken], p_seller_body_en[last_taken], p_seller_link, p_seller_key)
    on conflict (dedupe_key) where dedupe_key is not null do update set
        id = nextval('notifications_id_seq'), title_zh = excluded.title_zh, title_en = excluded.title_en,
        body_zh = excluded.body_zh, body_en = excluded.body_en, created_at = excluded.created_at,
        read_at = null;
end $$;
