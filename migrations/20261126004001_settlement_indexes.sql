-- Settlement: an exchange's admins list the trades involving their exchange (as the buyer's or the
-- listing's), and the job stamps credit restrictions whose end date has passed.
create index trades_buyer_exchange on trades (buyer_exchange, created_at desc);
create index trades_seller_exchange on trades (seller_exchange, created_at desc);
create index org_restrictions_due on org_restrictions (until) where lifted_at is null and until is not null;
