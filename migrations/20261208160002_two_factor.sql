-- Two-factor sign-in (TOTP, RFC 6238), issue 16. Mandatory for exchange administrators, optional for
-- members. `enabled_at` null: an enrolment begun and not yet confirmed with a code. `last_step` is the
-- last TOTP step accepted, so a code is accepted once (and no older one after it).
create table user_two_factor (
    user_id     uuid primary key references users (id) on delete cascade,
    secret      bytea not null check (length(secret) >= 16),
    enabled_at  timestamptz,
    last_step   bigint not null default -1,
    created_at  timestamptz not null default now()
);

-- Ten one-time recovery codes per enrolment, stored as SHA-256 (domain::otp::recovery_hash).
create table user_recovery_codes (
    user_id    uuid not null references users (id) on delete cascade,
    code_hash  bytea not null,
    used_at    timestamptz,
    primary key (user_id, code_hash)
);
