//! SQL for: group commit of bids — the bids one process queued on one auction, taken by ONE call of
//! the SQL function `take_bids` (migration `take_bids`; see `service::trading::bid_queue`).
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::notifications::BidNotices;
use super::trading::AuctionRow;

/// A bid of a known bidder waiting in its process's queue for the auction's next [`take_bids`].
pub struct QueuedBid {
    pub amount_fen: i64,
    pub org: Uuid,
    pub bid_id: Uuid,
    pub user: Uuid,
    pub bidder_no: i32,
    pub notices: BidNotices,
}

/// What [`take_bids`] says of one bid: accepted or not, when it was considered, and the auction as
/// it stood right after it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TakenBid {
    pub accepted: bool,
    pub considered_at: DateTime<Utc>,
    #[sqlx(flatten)]
    pub auction: AuctionRow,
}

/// Several bids of known bidders on one auction in ONE statement and (outside a transaction) one
/// commit: the SQL function `take_bids` (migration `take_bids`) locks the auction row, applies them
/// in the order given exactly as [`super::trading::take_bid_known_bidder`] would one by one (the minimum against
/// the running leading bid, the end, anti-sniping), records the accepted bids and their notices,
/// and updates the auction and the listing's price once. One row per bid, in order; none when
/// there is no such auction.
pub async fn take_bids(
    conn: &mut PgConnection,
    listing_id: Uuid,
    bids: &[QueuedBid],
) -> sqlx::Result<Vec<TakenBid>> {
    let Some(first) = bids.first() else {
        return Ok(vec![]);
    };
    let col = |f: fn(&QueuedBid) -> String| bids.iter().map(f).collect::<Vec<String>>();
    sqlx::query_as(
        "select accepted, considered_at, listing_id, status, start_price_fen, increment_fen, reserve_fen, \
             ends_at, extension_seconds, leading_bid_fen, leading_org_id, leading_bid_id, bid_count, closed_at, \
             trade_id, last_bid_at, outbid_org_id, deposit_fen, \
             (select a.starts_at from auctions a where a.listing_id = $1) as starts_at \
         from take_bids($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(listing_id)
    .bind(bids.iter().map(|b| b.amount_fen).collect::<Vec<i64>>())
    .bind(bids.iter().map(|b| b.org).collect::<Vec<Uuid>>())
    .bind(bids.iter().map(|b| b.bid_id).collect::<Vec<Uuid>>())
    .bind(bids.iter().map(|b| b.user).collect::<Vec<Uuid>>())
    .bind(bids.iter().map(|b| b.bidder_no).collect::<Vec<i32>>())
    .bind(col(|b| b.notices.outbid.title_zh.clone()))
    .bind(col(|b| b.notices.outbid.title_en.clone()))
    .bind(col(|b| b.notices.outbid.body_zh.clone()))
    .bind(col(|b| b.notices.outbid.body_en.clone()))
    .bind(&first.notices.outbid.link)
    .bind(first.notices.seller)
    .bind(col(|b| b.notices.to_seller.title_zh.clone()))
    .bind(col(|b| b.notices.to_seller.title_en.clone()))
    .bind(col(|b| b.notices.to_seller.body_zh.clone()))
    .bind(col(|b| b.notices.to_seller.body_en.clone()))
    .bind(&first.notices.to_seller.link)
    .bind(&first.notices.seller_key)
    .fetch_all(conn)
    .await
}
