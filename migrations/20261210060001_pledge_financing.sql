-- Technology finance (issue 22): lenders (organisation kind `financial_institution`), their
-- financing products, and pledge requests against listed IP (知识产权质押融资).
alter table organizations drop constraint organizations_kind_check;
alter table organizations add constraint organizations_kind_check
    check (kind in ('university', 'institute', 'enterprise', 'individual', 'financial_institution'));

-- A lender's financing product (科技金融产品), shown on the public technology-finance page.
create table financing_products (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id),
    name             text not null,
    rate_min_ppm     bigint not null,
    rate_max_ppm     bigint not null,
    max_amount_fen   bigint not null check (max_amount_fen > 0),
    term_min_months  integer not null,
    term_max_months  integer not null,
    created_by       uuid references users (id),
    created_at       timestamptz not null default now(),
    check (0 <= rate_min_ppm and rate_min_ppm <= rate_max_ppm and rate_max_ppm <= 1000000),
    check (1 <= term_min_months and term_min_months <= term_max_months and term_max_months <= 360)
);
create index financing_products_org on financing_products (organization_id, created_at desc);

-- An owner's request to pledge a listing's IP to a lender. `valuation` is the reference computed
-- when it was made (kept as it was then). `consented_modes` are the transaction modes the lender
-- consented to while the pledge is active (民法典 art. 444).
create table pledge_requests (
    id                     uuid primary key,
    listing_id             uuid not null references listings (id),
    owner_organization_id  uuid not null references organizations (id),
    lender_organization_id uuid not null references organizations (id),
    amount_fen             bigint not null check (amount_fen > 0),
    term_months            integer not null check (term_months between 1 and 360),
    status                 text not null check (status in ('submitted', 'active', 'rejected', 'released')),
    valuation              jsonb not null,
    registration_no        text,
    reject_reason          text,
    consented_modes        text[] not null default '{}',
    created_by             uuid references users (id),
    created_at             timestamptz not null,
    decided_at             timestamptz,
    decided_by             uuid references users (id),
    released_at            timestamptz
);
-- At most one active pledge per listing.
create unique index pledge_requests_one_active on pledge_requests (listing_id) where status = 'active';
create index pledge_requests_lender on pledge_requests (lender_organization_id, created_at desc);
create index pledge_requests_owner on pledge_requests (owner_organization_id, created_at desc);
