-- Credit restriction reaches the auction (issue 14): the bids of an organisation placed under a
-- credit restriction before the close are void from the moment of the restriction. They stay on
-- record, marked with that moment; only valid bids lead, so only they must differ in amount.
alter table bids add column void_at timestamptz;
drop index bids_amount;
create unique index bids_amount on bids (listing_id, amount_fen) where void_at is null;
create index bids_organization on bids (organization_id, listing_id) where void_at is null;
