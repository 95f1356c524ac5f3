-- Transaction certificates (交易鉴证书), issue 16. One per settled trade, written in the settlement's
-- transaction (older settled trades get theirs when first asked for). The columns are a snapshot of
-- what the certificate shows; `seal` is an HMAC-SHA256 over them (domain::certificate) with the
-- server secret 'certificate', so a row altered in the database no longer verifies. `ledger_hash`
-- and `seal` are filled once the settlement's ledger entries are chained (they are appended after
-- the commit, by group commit).
create sequence certificate_serial;

create table certificates (
    number             text primary key,
    trade_id           uuid not null unique references trades (id),
    issued_at          timestamptz not null,
    seller_name        text not null,
    seller_exchange    text not null,
    buyer_name         text not null,
    buyer_exchange     text not null,
    listing_id         uuid not null,
    listing_title      text not null,
    ip_numbers         text[] not null,
    transaction_mode   text not null,
    price_fen          bigint not null,
    buyer_fee_fen      bigint not null,
    seller_fee_fen     bigint not null,
    fee_schedule_id    uuid not null,
    fee_schedule_name  text not null,
    ledger_hash        bytea,
    seal               bytea
);
