-- The market's tables: fee schedules, listings, auctions, offers, trades, the ledger, demands.

-- ---------------------------------------------------------------- fee schedules
create table fee_schedules (
    id                   uuid primary key,
    name                 text not null,
    status               text not null check (status in ('draft', 'approved', 'rejected')),
    -- As drafted: the moment it should take effect; null = when approved.
    effective_from       timestamptz,
    -- Resolved at approval: the moment it takes effect (effective_from, or the approval time).
    effective_at         timestamptz,
    buyer                jsonb not null,
    seller               jsonb not null,
    created_by           uuid references users (id),
    created_by_exchange  text references exchanges (code),
    decided_by           uuid references users (id),
    decided_at           timestamptz,
    reject_reason        text,
    created_at           timestamptz not null default now(),
    check ((status = 'approved') = (effective_at is not null))
);
create index fee_schedules_in_force on fee_schedules (effective_at desc) where status = 'approved';
create index fee_schedules_created on fee_schedules (created_at desc);

-- Approved and rejected schedules are immutable; a draft may only be decided.
create function fee_schedules_immutable() returns trigger language plpgsql as $$
begin
    if old.status <> 'draft' then
        raise exception 'fee schedule % is % and cannot change', old.id, old.status;
    end if;
    if new.buyer is distinct from old.buyer or new.seller is distinct from old.seller
       or new.effective_from is distinct from old.effective_from or new.name is distinct from old.name then
        raise exception 'fee schedule % bands are fixed once drafted', old.id;
    end if;
    return new;
end $$;
create trigger fee_schedules_immutable before update on fee_schedules
    for each row execute function fee_schedules_immutable();
create function fee_schedules_no_delete() returns trigger language plpgsql as $$
begin
    raise exception 'fee schedules are never deleted';
end $$;
create trigger fee_schedules_no_delete before delete on fee_schedules
    for each row execute function fee_schedules_no_delete();

-- Unified v1 (DOMAIN.md), approved and in force from the start.
insert into fee_schedules (id, name, status, effective_from, effective_at, buyer, seller, decided_at)
values ('00000000-0000-7000-8000-000000000001', '统一收费标准 v1 / Unified schedule v1', 'approved',
        '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z',
        '{"bands": [{"up_to_fen": 100000000, "rate_ppm": 15000}, {"up_to_fen": 500000000, "rate_ppm": 10000},
                    {"up_to_fen": 1000000000, "rate_ppm": 7000}, {"up_to_fen": 5000000000, "rate_ppm": 4000},
                    {"up_to_fen": 10000000000, "rate_ppm": 2000}, {"up_to_fen": null, "rate_ppm": 1000}],
          "min_fee_fen": 30000, "max_fee_fen": null}',
        '{"bands": [{"up_to_fen": 100000000, "rate_ppm": 15000}, {"up_to_fen": 500000000, "rate_ppm": 10000},
                    {"up_to_fen": 1000000000, "rate_ppm": 7000}, {"up_to_fen": 5000000000, "rate_ppm": 4000},
                    {"up_to_fen": 10000000000, "rate_ppm": 2000}, {"up_to_fen": null, "rate_ppm": 1000}],
          "min_fee_fen": 30000, "max_fee_fen": null}',
        '2026-01-01T00:00:00Z');

-- ---------------------------------------------------------------- listings
create table listings (
    id                 uuid primary key,
    organization_id    uuid not null references organizations (id),
    created_by         uuid not null references users (id),
    title              text not null,
    summary            text not null default '',
    description        text not null default '',
    field              text not null,
    ip_type            text not null,
    ip_numbers         text[] not null default '{}',
    -- Canonical patent numbers (digits + check, no prefix or dot) for duplicate detection and search.
    ip_canonical       text[] not null default '{}',
    trl                smallint not null check (trl between 1 and 9),
    transaction_modes  text[] not null check (cardinality(transaction_modes) >= 1),
    keywords           text[] not null default '{}',
    pricing_mode       text not null check (pricing_mode in ('negotiable', 'fixed', 'auction')),
    -- Fixed: the listed price. Negotiable: an optional indicative price. Auction: null (see auctions).
    price_fen          bigint check (price_fen > 0),
    status             text not null default 'draft'
                       check (status in ('draft', 'pending_review', 'listed', 'rejected', 'withdrawn', 'sold')),
    exchange           text not null references exchanges (code),
    province           text not null,
    reject_reason      text,
    -- The search vector, computed in Rust (CJK bigrams + words; domain::text), weights A title, B summary/keywords, D description.
    search             tsvector not null default ''::tsvector,
    -- The price used for price filters and sorts: fixed price, indicative price, or the auction's current price.
    sort_price_fen     bigint,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    submitted_at       timestamptz,
    listed_at          timestamptz,
    reviewed_by        uuid references users (id)
);
create index listings_search on listings using gin (search) where status = 'listed';
create index listings_listed_newest on listings (listed_at desc, id desc) where status = 'listed';
create index listings_field_province on listings (field, province, listed_at desc) where status = 'listed';
create index listings_price on listings (sort_price_fen, id) where status = 'listed';
create index listings_org on listings (organization_id, created_at desc);
create index listings_pending on listings (exchange, submitted_at) where status = 'pending_review';
create index listings_ip_active on listings using gin (ip_canonical) where status in ('pending_review', 'listed');

-- ---------------------------------------------------------------- auctions and bids
create table auctions (
    listing_id         uuid primary key references listings (id),
    status             text not null default 'scheduled' check (status in ('scheduled', 'open', 'closed')),
    start_price_fen    bigint not null check (start_price_fen > 0),
    increment_fen      bigint not null check (increment_fen > 0),
    reserve_fen        bigint check (reserve_fen > 0),
    deposit_fen        bigint check (deposit_fen >= 0),
    ends_at            timestamptz not null,
    extension_seconds  integer not null default 300 check (extension_seconds between 0 and 3600),
    leading_bid_fen    bigint,
    leading_org_id     uuid references organizations (id),
    leading_bid_id     uuid,
    bid_count          integer not null default 0,
    opened_at          timestamptz,
    closed_at          timestamptz,
    trade_id           uuid
);
create index auctions_due on auctions (ends_at) where status = 'open';

create table bids (
    id               uuid primary key,
    listing_id       uuid not null references auctions (listing_id),
    organization_id  uuid not null references organizations (id),
    user_id          uuid not null references users (id),
    amount_fen       bigint not null check (amount_fen > 0),
    bidder_no        integer not null,
    created_at       timestamptz not null default now()
);
create unique index bids_amount on bids (listing_id, amount_fen);
create index bids_listing on bids (listing_id, created_at desc);

-- Stable pseudonyms per auction: 竞买人1, 竞买人2, … in order of first bid.
create table auction_bidders (
    listing_id       uuid not null references auctions (listing_id),
    organization_id  uuid not null references organizations (id),
    bidder_no        integer not null,
    primary key (listing_id, organization_id),
    unique (listing_id, bidder_no)
);

-- ---------------------------------------------------------------- offers
create table offers (
    id                uuid primary key,
    listing_id        uuid not null references listings (id),
    -- The negotiation thread: the buyer organisation's conversation with the seller about this listing.
    thread_id         uuid not null,
    buyer_org_id      uuid not null references organizations (id),
    made_by           text not null check (made_by in ('buyer', 'seller')),
    made_by_user      uuid not null references users (id),
    amount_fen        bigint not null check (amount_fen > 0),
    transaction_mode  text not null,
    message           text,
    status            text not null default 'open'
                      check (status in ('open', 'countered', 'accepted', 'rejected', 'withdrawn', 'expired', 'closed')),
    parent_id         uuid references offers (id),
    created_at        timestamptz not null default now(),
    expires_at        timestamptz not null,
    decided_at        timestamptz
);
create index offers_listing on offers (listing_id, created_at desc);
create index offers_thread on offers (thread_id, created_at);
create index offers_buyer on offers (buyer_org_id, created_at desc);
create index offers_open_expiry on offers (expires_at) where status = 'open';

-- ---------------------------------------------------------------- trades
create table trades (
    id                      uuid primary key,
    listing_id              uuid not null references listings (id),
    seller_organization_id  uuid not null references organizations (id),
    buyer_organization_id   uuid not null references organizations (id),
    price_fen               bigint not null check (price_fen > 0),
    transaction_mode        text not null,
    contract_type           text not null,
    exclusive               boolean not null,
    status                  text not null default 'awaiting_payment'
                            check (status in ('awaiting_payment', 'paid', 'settled', 'cancelled')),
    fee_schedule_id         uuid not null references fee_schedules (id),
    buyer_fee_fen           bigint not null check (buyer_fee_fen >= 0),
    seller_fee_fen          bigint not null check (seller_fee_fen >= 0),
    seller_exchange         text not null references exchanges (code),
    buyer_exchange          text not null references exchanges (code),
    source                  text not null check (source in ('offer', 'purchase', 'auction')),
    offer_id                uuid references offers (id),
    created_at              timestamptz not null default now(),
    paid_at                 timestamptz,
    settled_at              timestamptz,
    cancelled_at            timestamptz,
    cancel_reason           text,
    payment_recorded_by     uuid references users (id),
    check (seller_organization_id <> buyer_organization_id)
);
-- An exclusive listing has at most one live trade, whatever the races.
create unique index trades_one_exclusive on trades (listing_id) where exclusive and status <> 'cancelled';
create index trades_buyer on trades (buyer_organization_id, created_at desc);
create index trades_seller on trades (seller_organization_id, created_at desc);
create index trades_unpaid on trades (created_at) where status = 'awaiting_payment';
create index trades_settled on trades (settled_at) where status = 'settled';

-- ---------------------------------------------------------------- the ledger
-- Double-entry, append-only, hash-chained (DOMAIN.md). Appends serialise on ledger_head.
create table ledger_entries (
    id          bigint primary key,
    txn_id      uuid not null,
    account     text not null,
    side        text not null check (side in ('debit', 'credit')),
    amount_fen  bigint not null check (amount_fen > 0),
    trade_id    uuid references trades (id),
    created_at  timestamptz not null,
    prev_hash   bytea not null,
    hash        bytea not null
);
create sequence ledger_entries_id_seq owned by ledger_entries.id;
create index ledger_entries_txn on ledger_entries (txn_id);
create index ledger_entries_trade on ledger_entries (trade_id);
create index ledger_entries_account on ledger_entries (account);

create table ledger_head (
    id       smallint primary key check (id = 1),
    last_id  bigint not null,
    hash     bytea not null
);
insert into ledger_head (id, last_id, hash) values (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

create function ledger_entries_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'ledger_entries is append-only: % refused', tg_op;
end $$;
create trigger ledger_entries_append_only before update or delete on ledger_entries
    for each row execute function ledger_entries_append_only();
create trigger ledger_entries_no_truncate before truncate on ledger_entries
    for each statement execute function ledger_entries_append_only();

-- ---------------------------------------------------------------- demands
create table demands (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id),
    created_by       uuid not null references users (id),
    title            text not null,
    description      text not null default '',
    field            text not null,
    keywords         text[] not null default '{}',
    budget_min_fen   bigint check (budget_min_fen > 0),
    budget_max_fen   bigint check (budget_max_fen > 0),
    deadline         timestamptz,
    status           text not null default 'open' check (status in ('open', 'closed')),
    province         text not null,
    exchange         text not null references exchanges (code),
    search           tsvector not null default ''::tsvector,
    created_at       timestamptz not null default now(),
    closed_at        timestamptz,
    check (budget_min_fen is null or budget_max_fen is null or budget_min_fen <= budget_max_fen)
);
create index demands_search on demands using gin (search) where status = 'open';
create index demands_open on demands (created_at desc) where status = 'open';
create index demands_org on demands (organization_id, created_at desc);
