-- Auction notices (issue 16 item 7): the bid that takes the lead also names the organisation it
-- outbid, in the same UPDATE (its SET sees the row as it was under the lock, however many bids
-- raced), so the outbid notice is written by the bid's own statement.
alter table auctions add column outbid_org_id uuid;

-- The inbox in the API reads a person's or organisation's notices newest first, unread ones too.
create index notifications_user on notifications (user_id, id desc) where user_id is not null;
