-- Listing documents (patent certificates, test reports), issue 16: PDF, PNG or JPEG judged by content,
-- at most 10 MiB each and 10 per listing. `storage` says where the bytes are: 'postgres' (the table
-- listing_document_blobs) or 'directory' (a file named by the id under TECHMARKET_DOCUMENTS_DIR).
create table listing_documents (
    id            uuid primary key,
    listing_id    uuid not null references listings (id),
    name          text not null,
    content_type  text not null check (content_type in ('application/pdf', 'image/png', 'image/jpeg')),
    size          bigint not null check (size > 0 and size <= 10485760),
    sha256        bytea not null,
    storage       text not null check (storage in ('postgres', 'directory')),
    created_by    uuid not null references users (id),
    created_at    timestamptz not null default now()
);
create index listing_documents_listing on listing_documents (listing_id, created_at);

create table listing_document_blobs (
    document_id  uuid primary key references listing_documents (id),
    data         bytea not null
);
