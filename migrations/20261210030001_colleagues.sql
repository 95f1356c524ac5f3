-- Colleagues in one organisation (issue 16 item 2): an organisation's people have a role in it,
-- `owner` or `member`; owners invite colleagues with a link that works once, for 7 days.

-- A member's role in their organisation (an exchange administrator has no organisation and no role).
-- The first member of each existing organisation is its owner; later ones are members.
alter table users add column org_role text check (org_role in ('owner', 'member'));
update users u set org_role = case
        when u.id = (select f.id from users f where f.organization_id = u.organization_id
                     order by f.created_at, f.id limit 1) then 'owner'
        else 'member' end
    where u.organization_id is not null;
-- A member removed from their organisation keeps their account (the audit log, the offers and the
-- bids they made still name them) but belongs to no organisation until invited again.
alter table users drop constraint users_check1;
alter table users add constraint users_member_role check ((organization_id is null) = (org_role is null));
alter table users add constraint users_admin_no_org check (role = 'member' or organization_id is null);
create index users_org_owners on users (organization_id) where org_role = 'owner';

-- Invitations. Only the SHA-256 of the link's secret is stored (it is shown once, to the owner).
create table organization_invitations (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id),
    email            text not null,
    role             text not null check (role in ('owner', 'member')),
    token_hash       bytea not null unique,
    created_by       uuid not null references users (id),
    created_at       timestamptz not null,
    expires_at       timestamptz not null,
    accepted_at      timestamptz,
    accepted_by      uuid references users (id),
    revoked_at       timestamptz,
    revoked_by       uuid references users (id),
    check (accepted_at is null or revoked_at is null)
);
create index organization_invitations_org on organization_invitations (organization_id, created_at desc);
create index organization_invitations_pending on organization_invitations (organization_id, lower(email))
    where accepted_at is null and revoked_at is null;
