-- Payouts (issue 15 item 7): admins of the exchange whose settlement account holds a trade's money
-- (the buyer's exchange) record the bank transfers to the seller (proceeds) and to the buyer
-- (a dispute's refund) with the bank's reference; each zeroes that party's payable for the trade.
create table payouts (
    id uuid primary key,
    trade_id uuid not null references trades (id),
    party text not null check (party in ('seller', 'buyer')),
    organization_id uuid not null references organizations (id),
    -- The exchange whose settlement account the money left.
    exchange text not null references exchanges (code),
    amount_fen bigint not null check (amount_fen > 0),
    bank_reference text not null,
    recorded_by uuid references users (id),
    created_at timestamptz not null,
    -- Each party of a trade is paid out once, the whole amount due.
    unique (trade_id, party)
);
create index payouts_exchange on payouts (exchange, created_at);
create index trades_settled_buyer_exchange on trades (buyer_exchange, settled_at) where status = 'settled';
