-- Issue 21: one expert pool shared by the four exchanges (专家库), and independent evaluations of
-- listings by panels of its experts (科技成果评价).

-- An expert is a member (a user of an organisation) registered by any exchange's administrator.
-- Deactivating keeps the row: past evaluations name their experts.
create table experts (
    id              uuid primary key,
    user_id         uuid not null unique references users (id),
    fields          text[] not null check (cardinality(fields) between 1 and 15),
    title           text not null,
    bio             text not null,
    -- The exchange whose administrator registered the expert (the pool itself is shared).
    exchange        text not null references exchanges (code),
    active          boolean not null default true,
    registered_by   uuid references users (id),
    created_at      timestamptz not null,
    deactivated_at  timestamptz
);
create index experts_fields on experts using gin (fields) where active;

-- An evaluation of one listing by a panel of 3–7 experts, opened by an administrator of the
-- listing's exchange. `report` is written once, when it closes (published: medians, spread).
create table evaluations (
    id           uuid primary key,
    listing_id   uuid not null references listings (id),
    status       text not null check (status in ('in_progress', 'published', 'failed')),
    due_at       timestamptz not null,
    exchange     text not null references exchanges (code),
    opened_by    uuid references users (id),
    created_at   timestamptz not null,
    closed_at    timestamptz,
    report       jsonb,
    check ((status = 'in_progress') = (closed_at is null))
);
-- One open evaluation per listing; the job finds the due ones through the second index.
create unique index evaluations_one_open on evaluations (listing_id) where status = 'in_progress';
create index evaluations_due on evaluations (due_at) where status = 'in_progress';
create index evaluations_published on evaluations (listing_id, closed_at desc) where status = 'published';

-- A panel member and, once given, their scores (sealed until the evaluation closes).
create table evaluation_members (
    evaluation_id  uuid not null references evaluations (id),
    expert_id      uuid not null references experts (id),
    position       smallint not null,
    status         text not null check (status in ('invited', 'declined', 'scored')),
    maturity_trl   smallint check (maturity_trl between 1 and 9),
    innovation     smallint check (innovation between 1 and 5),
    advancement    smallint check (advancement between 1 and 5),
    market         smallint check (market between 1 and 5),
    comment        text,
    answered_at    timestamptz,
    primary key (evaluation_id, expert_id),
    check ((status = 'scored') = (maturity_trl is not null and innovation is not null
                                  and advancement is not null and market is not null))
);
create index evaluation_members_expert on evaluation_members (expert_id, status);
