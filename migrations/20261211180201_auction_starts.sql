-- An auction may open at a set moment after its listing is approved (issue 18: "upcoming auctions").
-- An extension of API.md: `pricing.auction.starts_at` (optional). Until then the auction is
-- `scheduled` (bids get 409 `auction_closed`, saying when it opens); the approval opens it at once
-- when the moment has passed, else the jobs do at `starts_at` (`service::trading::open_due_auctions`).
alter table auctions add column starts_at timestamptz;
-- The jobs' "which auctions are due to open" and the home page's upcoming auctions.
create index auctions_to_open on auctions (starts_at) where status = 'scheduled' and starts_at is not null;
