-- Disputes (issue 15 item 6): after payment a party opens a dispute with a reason; an admin of the
-- buyer's or the seller's exchange decides it: settle to the seller, refund the buyer, or a split.
alter table trades drop constraint trades_status_check;
alter table trades add constraint trades_status_check
    check (status in ('awaiting_payment', 'paid', 'delivered', 'disputed', 'settled', 'refunded', 'cancelled'));
-- A refunded trade is undone like a cancelled one: an exclusive listing may be sold again.
drop index trades_one_exclusive;
create unique index trades_one_exclusive on trades (listing_id)
    where exclusive and status not in ('cancelled', 'refunded');

create table disputes (
    id uuid primary key,
    -- One dispute per trade: once decided the trade is settled or refunded for good.
    trade_id uuid not null unique references trades (id),
    opened_by_party text not null check (opened_by_party in ('buyer', 'seller')),
    opened_by_user uuid references users (id),
    reason text not null,
    -- The trade's status when the dispute was opened (`paid` or `delivered`).
    opened_from text not null check (opened_from in ('paid', 'delivered')),
    opened_at timestamptz not null,
    status text not null default 'open' check (status in ('open', 'resolved')),
    outcome text check (outcome in ('seller', 'buyer', 'split')),
    -- The part of the price the decision gives the seller (the whole price for `seller`, 0 for `buyer`).
    seller_share_fen bigint check (seller_share_fen >= 0),
    -- What the market then owes each party (the seller: share − seller fee; the buyer: the rest).
    seller_receives_fen bigint check (seller_receives_fen >= 0),
    buyer_refund_fen bigint check (buyer_refund_fen >= 0),
    resolution_reason text,
    resolved_by uuid references users (id),
    resolved_by_exchange text references exchanges (code),
    resolved_at timestamptz,
    check ((status = 'open') = (outcome is null))
);
create index disputes_open on disputes (opened_at) where status = 'open';

-- What the party who cancelled wrote (issue 15 item 8; `cancel_reason` keeps who cancelled).
alter table trades add column cancel_note text;
-- A buyer's cancellations (and payment timeouts) over 90 days, counted on its organisation.
create index trades_buyer_cancelled on trades (buyer_organization_id, cancelled_at) where status = 'cancelled';
