-- A trade settled by a dispute decided as a split (issue 15 item 6): its certificate states what was
-- actually settled — the part of the price the seller got and what went back to the buyer — beside
-- the contract price. Null on every other certificate (whose seal does not cover them).
alter table certificates add column seller_share_fen bigint check (seller_share_fen > 0),
    add column buyer_refund_fen bigint check (buyer_refund_fen > 0),
    add check ((seller_share_fen is null) = (buyer_refund_fen is null));
