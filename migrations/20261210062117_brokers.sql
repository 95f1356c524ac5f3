-- Technology brokers (技术经纪人, issue 21): a member certified by any exchange's admin (one status
-- for all four exchanges), and their engagements on trades, paid through the ledger at settlement
-- (account `broker:{broker_id}`).

-- One row per certified member; revoking keeps the row (and so the ledger account), certifying
-- again reactivates it with the new certificate.
create table brokers (
    id                   uuid primary key,
    user_id              uuid not null unique references users (id),
    certificate_no       text not null,
    active               boolean not null default true,
    since                timestamptz not null,
    certified_by         uuid references users (id),
    certifying_exchange  text not null references exchanges (code),
    revoked_at           timestamptz,
    revoked_by           uuid references users (id),
    revoke_reason        text
);
-- A certificate number names one active broker.
create unique index brokers_certificate_active on brokers (certificate_no) where active;

-- A party's engagement of a broker for its side of a trade. `commission_fen` is computed when
-- proposed (the trade's price never changes); `paid_fen` is what the settlement posted.
create table broker_engagements (
    id              uuid primary key,
    trade_id        uuid not null references trades (id),
    broker_id       uuid not null references brokers (id),
    side            text not null check (side in ('buyer', 'seller')),
    commission_ppm  bigint not null check (commission_ppm between 0 and 100000),
    commission_fen  bigint not null check (commission_fen >= 0),
    status          text not null
                    check (status in ('proposed', 'accepted', 'declined', 'cancelled', 'paid', 'refunded')),
    proposed_by     uuid references users (id),
    created_at      timestamptz not null,
    decided_at      timestamptz,
    closed_at       timestamptz,
    paid_fen        bigint check (paid_fen >= 0)
);
-- One broker per side: a live (proposed, accepted or paid) engagement blocks another.
create unique index broker_engagements_one_per_side on broker_engagements (trade_id, side)
    where status in ('proposed', 'accepted', 'paid');
create index broker_engagements_broker on broker_engagements (broker_id, created_at desc);
create index broker_engagements_trade on broker_engagements (trade_id);
