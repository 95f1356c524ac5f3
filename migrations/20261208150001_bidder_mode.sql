-- The transaction mode a bidder chose with its first bid (API.md: a bid on an auction of a listing
-- with several modes carries `transaction_mode`; the trade gets the winner's mode).
alter table auction_bidders add column transaction_mode text;
