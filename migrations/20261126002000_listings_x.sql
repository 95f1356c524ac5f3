-- Listings: the price sort descending with unpriced listings last uses its own index
-- (the ascending index walked backwards would put them first).
create index listings_price_desc on listings (sort_price_fen desc nulls last, id desc) where status = 'listed';

-- Keep search vectors inline (compressed with lz4) instead of out of line in TOAST: a text search reads
-- the vector of every match (phrase recheck, ranking), and a TOAST fetch per row tripled that cost.
alter table listings alter column search set storage main;
alter table listings alter column search set compression lz4;
