-- Attachments of a seller's delivery (issue 15 item 5): PDF, PNG or JPEG judged by content, at most
-- 10 MiB each and 10 per trade, added while the trade is paid or delivered. The bytes are kept as
-- listing documents' are: in delivery_attachment_blobs ('postgres') or as a file named by the id
-- under TECHMARKET_DOCUMENTS_DIR ('directory').
create table delivery_attachments (
    id            uuid primary key,
    trade_id      uuid not null references trades (id),
    name          text not null,
    content_type  text not null check (content_type in ('application/pdf', 'image/png', 'image/jpeg')),
    size          bigint not null check (size > 0 and size <= 10485760),
    sha256        bytea not null,
    storage       text not null check (storage in ('postgres', 'directory')),
    created_by    uuid not null references users (id),
    created_at    timestamptz not null default now()
);
create index delivery_attachments_trade on delivery_attachments (trade_id, created_at);

create table delivery_attachment_blobs (
    attachment_id  uuid primary key references delivery_attachments (id),
    data           bytea not null
);
