-- Foundation: exchanges, organisations, users, sessions, login throttling, audit log.

create table exchanges (
    code      text primary key,
    name_zh   text not null,
    name_en   text not null,
    province  text not null check (province in ('sichuan', 'chongqing'))
);

insert into exchanges (code, name_zh, name_en, province) values
    ('suaee',   '西南联合产权交易所',     'Southwest United Equity Exchange',                 'sichuan'),
    ('cdipex',  '成都知识产权交易中心',   'Chengdu Intellectual Property Exchange Center',   'sichuan'),
    ('nttc_sw', '国家技术转移西南中心',   'National Technology Transfer Southwest Center',   'sichuan'),
    ('cquaee',  '重庆联合产权交易所',     'Chongqing United Assets and Equity Exchange',     'chongqing');

create table organizations (
    id           uuid primary key,
    name         text not null,
    kind         text not null check (kind in ('university', 'institute', 'enterprise', 'individual')),
    province     text not null check (province in ('sichuan', 'chongqing', 'other')),
    exchange     text not null references exchanges (code),
    credit_code  text,
    verified_at  timestamptz,
    verified_by  uuid,
    created_at   timestamptz not null default now()
);
-- One legal entity, one organisation: a second registration with the same code is a conflict.
create unique index organizations_credit_code_key on organizations (credit_code) where credit_code is not null;
create index organizations_exchange_unverified on organizations (exchange, created_at) where verified_at is null;

create table users (
    id               uuid primary key,
    email            text not null,
    password_hash    text not null,
    display_name     text not null,
    role             text not null check (role in ('member', 'admin')),
    organization_id  uuid references organizations (id),
    admin_exchange   text references exchanges (code),
    created_at       timestamptz not null default now(),
    check ((role = 'admin') = (admin_exchange is not null)),
    check (role = 'admin' or organization_id is not null)
);
create unique index users_email_key on users (lower(email));
create index users_organization on users (organization_id);

-- API bearer tokens and browser sessions. Only the SHA-256 of the secret is stored.
create table sessions (
    token_hash   bytea primary key,
    user_id      uuid not null references users (id) on delete cascade,
    kind         text not null check (kind in ('api', 'web')),
    csrf_token   text,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
create index sessions_user on sessions (user_id);
create index sessions_expires on sessions (expires_at);

-- Failed logins, for throttling across server processes.
create table login_failures (
    id      bigserial primary key,
    email   text not null,
    client  text not null,
    at      timestamptz not null default now()
);
create index login_failures_email on login_failures (email, at);
create index login_failures_client on login_failures (client, at);

create table audit_log (
    id           bigserial primary key,
    at           timestamptz not null default now(),
    actor_id     uuid references users (id),
    actor        text not null,
    action       text not null,
    target_type  text not null,
    target_id    text not null,
    before       jsonb,
    after        jsonb
);
create index audit_log_at on audit_log (at desc, id desc);

-- In-app notifications (inbox).
create table notifications (
    id          bigserial primary key,
    user_id     uuid references users (id) on delete cascade,
    organization_id uuid references organizations (id),
    kind        text not null,
    title_zh    text not null,
    title_en    text not null,
    body_zh     text not null default '',
    body_en     text not null default '',
    link        text,
    dedupe_key  text,
    created_at  timestamptz not null default now(),
    read_at     timestamptz
);
create index notifications_org on notifications (organization_id, created_at desc);
create unique index notifications_dedupe on notifications (dedupe_key) where dedupe_key is not null;

-- Idempotency keys for POSTs that create bids, offers, trades and payments.
create table idempotency_keys (
    user_id        uuid not null references users (id) on delete cascade,
    key            text not null,
    request_hash   bytea not null,
    status         smallint,
    body           bytea,
    created_at     timestamptz not null default now(),
    primary key (user_id, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);

-- Credit restrictions (信用惩戒): set by any exchange's admin, hold in all four.
create table org_restrictions (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id),
    reason           text not null,
    until            timestamptz,
    created_by       uuid references users (id),
    created_at       timestamptz not null default now(),
    lifted_at        timestamptz,
    lifted_by        uuid references users (id)
);
create index org_restrictions_active on org_restrictions (organization_id) where lifted_at is null;
