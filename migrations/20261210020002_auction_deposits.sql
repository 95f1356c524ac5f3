-- Auction deposits (保证金, issue 16 item 1). `auctions.deposit_fen` (existing column) is the amount
-- an auction requires; a row here is one organisation's deposit for one auction, recorded by an
-- administrator when the money reached `exchange`'s settlement bank account.
--   held      received; the organisation may bid
--   refunded  paid back (a losing bidder at the close, or a trade its seller cancelled)
--   applied   counted toward the winner's payment (moved into the trade's escrow at the close)
--   forfeited the winner did not pay in time (or cancelled): paid to the seller
create table auction_deposits (
    listing_id       uuid not null references auctions (listing_id),
    organization_id  uuid not null references organizations (id),
    amount_fen       bigint not null check (amount_fen > 0),
    exchange         text not null,
    status           text not null default 'held'
                     check (status in ('held', 'refunded', 'applied', 'forfeited')),
    trade_id         uuid references trades (id),
    recorded_by      uuid references users (id),
    recorded_at      timestamptz not null,
    settled_at       timestamptz,
    primary key (listing_id, organization_id)
);
create index auction_deposits_trade on auction_deposits (trade_id) where trade_id is not null;
create index auction_deposits_org on auction_deposits (organization_id, recorded_at desc);
