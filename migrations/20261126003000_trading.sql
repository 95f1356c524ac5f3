-- Trading: the order of accepted bids within an auction, and the moment of the last accepted bid
-- (taken inside the conditional update, so bid times increase with the order of acceptance).
alter table bids add column seq integer;
create unique index bids_seq on bids (listing_id, seq);
alter table auctions add column last_bid_at timestamptz;
-- A member's negotiation threads, as seller.
create index offers_thread_latest on offers (listing_id, thread_id, created_at desc);
