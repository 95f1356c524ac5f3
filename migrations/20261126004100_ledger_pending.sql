-- Postings wait here, written in the same transaction as the trade change they belong to, until the
-- ledger appender chains them into ledger_entries (many transactions under one head lock and one
-- flush: group commit). Rows are deleted in the appender's transaction as they are chained.
create table ledger_pending (
    seq         bigserial primary key,
    txn_id      uuid not null,
    account     text not null,
    side        text not null check (side in ('debit', 'credit')),
    amount_fen  bigint not null check (amount_fen > 0),
    trade_id    uuid references trades (id),
    created_at  timestamptz not null
);
