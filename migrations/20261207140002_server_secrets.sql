-- Secrets shared by every server process of one database, created by the first process that needs
-- one (`insert … on conflict do nothing`): the key that binds a visitor's CSRF token to their cookie.
create table server_secrets (
    name        text primary key,
    secret      bytea not null check (length(secret) >= 32),
    created_at  timestamptz not null default now()
);
