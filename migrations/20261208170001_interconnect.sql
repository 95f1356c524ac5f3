-- Interconnection (issue 17): API keys for the exchanges' own systems, the transactional outbox of
-- events, webhooks and their deliveries.

-- A key acts as its exchange within its scopes, never as a person. Only a SHA-256 of the key is kept
-- (the key is 32 random bytes: a fast hash is enough, no stretching needed).
create table api_keys (
    id            uuid primary key,
    exchange      text not null references exchanges (code),
    name          text not null,
    scopes        text[] not null,
    key_hash      bytea not null unique,
    -- The first characters of the key, shown so people can tell keys apart.
    prefix        text not null,
    created_by    uuid references users (id),
    created_at    timestamptz not null,
    -- Updated at most once a minute (see service::api_keys).
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    uuid references users (id)
);
create index api_keys_exchange on api_keys (exchange, created_at desc);

-- Actions taken with a key are audited with the key (actor_id stays null: a key is not a user).
alter table audit_log add column api_key_id uuid references api_keys (id);

-- A key's idempotency keys are kept under the key's id, which is not a user's.
alter table idempotency_keys drop constraint if exists idempotency_keys_user_id_fkey;

-- The outbox: written by service::events::emit in the transaction of the change. `seq` is given
-- after the commit, by one sequencer at a time (an advisory lock), in the order the events became
-- visible: the order of the change feed and of every webhook's deliveries, and the public event id.
create table outbox_events (
    n           bigserial primary key,
    type        text not null,
    data        jsonb not null,
    -- The exchanges the event concerns (its listing's, its parties'; all four for restrictions).
    exchanges   text[] not null,
    created_at  timestamptz not null default now(),
    seq         bigint unique
);
create index outbox_events_unsequenced on outbox_events (n) where seq is null;

create table webhooks (
    id           uuid primary key,
    exchange     text not null references exchanges (code),
    url          text not null,
    events       text[] not null,
    -- The signing secret, needed in clear to sign (shown once to the admin).
    secret       text not null,
    created_at   timestamptz not null,
    created_by   text not null,
    disabled_at  timestamptz,
    -- Which process delivers for this webhook now, until when (a lease, so no delivery is sent
    -- twice at once and a crashed process's work is taken over).
    lease_token  uuid,
    lease_until  timestamptz
);
create index webhooks_exchange on webhooks (exchange) where disabled_at is null;

create table webhook_deliveries (
    id               bigserial primary key,
    webhook_id       uuid not null references webhooks (id),
    event_n          bigint not null references outbox_events (n),
    seq              bigint not null,
    status           text not null check (status in ('pending', 'delivered', 'failed')),
    attempts         integer not null default 0,
    -- Retries stop 24 h after this (the first attempt, or a redelivery).
    since            timestamptz not null,
    next_attempt_at  timestamptz not null,
    delivered_at     timestamptz,
    unique (webhook_id, event_n)
);
create index webhook_deliveries_queue on webhook_deliveries (webhook_id, seq) where status = 'pending';
create index webhook_deliveries_recent on webhook_deliveries (webhook_id, seq desc);

create table webhook_attempts (
    id            bigserial primary key,
    delivery_id   bigint not null references webhook_deliveries (id),
    at            timestamptz not null,
    duration_ms   integer not null,
    -- The receiver's status; null when there was no answer (timeout, refused, unreachable).
    status_code   integer,
    error         text,
    body_excerpt  text not null default ''
);
create index webhook_attempts_delivery on webhook_attempts (delivery_id, id);
