//! SQL for: Offers, fixed-price purchases and auctions.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::notifications::{bid_notices_cte, bind_bid_notices, BidNotices};

/// What trading needs to know about a listing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListingRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub title: String,
    pub status: String,
    pub pricing_mode: String,
    pub price_fen: Option<i64>,
    pub transaction_modes: Vec<String>,
    pub exchange: String,
}

const LISTING_COLS: &str =
    "id, organization_id, title, status, pricing_mode, price_fen, transaction_modes, exchange";

pub async fn listing(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ListingRow>> {
    sqlx::query_as(&format!(
        "select {LISTING_COLS} from listings where id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The listing, locked until the end of the transaction (purchases and accepts serialise on it).
pub async fn listing_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<ListingRow>> {
    sqlx::query_as(&format!(
        "select {LISTING_COLS} from listings where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Where an organisation stands in the listing's auction: whether it leads, and its pseudonym
/// number if it has bid there (never assigns one).
pub async fn bidder_standing(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
) -> sqlx::Result<(bool, Option<i32>)> {
    let row: Option<(bool, Option<i32>)> = sqlx::query_as(
        "select a.leading_org_id is not distinct from $2, \
                (select b.bidder_no from auction_bidders b where b.listing_id = a.listing_id and b.organization_id = $2) \
         from auctions a where a.listing_id = $1",
    )
    .bind(listing_id)
    .bind(org)
    .fetch_optional(conn)
    .await?;
    Ok(row.unwrap_or((false, None)))
}

pub async fn org_exchange(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select exchange from organizations where id = $1")
        .bind(org)
        .fetch_optional(conn)
        .await
}

pub async fn org_name(conn: &mut PgConnection, org: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select name from organizations where id = $1")
        .bind(org)
        .fetch_optional(conn)
        .await
}

// ---------------------------------------------------------------- auctions

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct AuctionRow {
    pub listing_id: Uuid,
    pub status: String,
    pub start_price_fen: i64,
    pub increment_fen: i64,
    pub reserve_fen: Option<i64>,
    pub ends_at: DateTime<Utc>,
    pub extension_seconds: i32,
    pub leading_bid_fen: Option<i64>,
    pub leading_org_id: Option<Uuid>,
    pub leading_bid_id: Option<Uuid>,
    pub bid_count: i32,
    pub closed_at: Option<DateTime<Utc>>,
    pub trade_id: Option<Uuid>,
    pub last_bid_at: Option<DateTime<Utc>>,
    /// The organisation the latest bid took the lead from (none when the leader raised its own
    /// bid, or for the first bid): it is told it was outbid.
    #[serde(default)]
    pub outbid_org_id: Option<Uuid>,
    /// The deposit (保证金) a bidder must have paid, if the auction requires one.
    #[serde(default)]
    pub deposit_fen: Option<i64>,
    /// When a `scheduled` auction opens (none: at its listing's approval).
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
}

/// The columns of an [`AuctionRow`] (unqualified: `auctions` alone in the statement).
pub const AUCTION_COLS: &str = "listing_id, status, start_price_fen, increment_fen, reserve_fen, ends_at, \
    extension_seconds, leading_bid_fen, leading_org_id, leading_bid_id, bid_count, closed_at, trade_id, last_bid_at, \
    outbid_org_id, nullif(deposit_fen, 0) as deposit_fen, starts_at";

pub async fn auction(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<Option<AuctionRow>> {
    sqlx::query_as(&format!(
        "select {AUCTION_COLS} from auctions where listing_id = $1"
    ))
    .bind(listing_id)
    .fetch_optional(conn)
    .await
}

/// `SET` and `WHERE` of the conditional update that takes a bid ($1 listing, $2 amount, $3 org,
/// $4 bid id): it succeeds only while the auction is open, before its end, and for at least the
/// minimum (start price, then leading + increment). The row lock it takes serialises bids on one
/// auction; the bid time is read inside it, so bid times increase with the order of acceptance.
/// A bid within the last `extension_seconds` moves the end to bid time + extension. It also names
/// the organisation it outbid (`SET` sees the row as it was under the lock, however many bids raced).
const TAKE_BID: &str = "update auctions set leading_bid_fen = $2, leading_org_id = $3, leading_bid_id = $4, \
        outbid_org_id = case when leading_org_id is distinct from $3 then leading_org_id end, \
        bid_count = bid_count + 1, last_bid_at = clock_timestamp(), \
        ends_at = case when ends_at - make_interval(secs => extension_seconds) < clock_timestamp() \
                       then greatest(ends_at, clock_timestamp() + make_interval(secs => extension_seconds)) \
                       else ends_at end \
    where listing_id = $1 and status = 'open' and ends_at > clock_timestamp() \
      and $2 >= coalesce(leading_bid_fen + increment_fen, start_price_fen)";

/// Takes a bid (see [`TAKE_BID`]) and tells the organisation it outbid and the seller (`notices`); the caller then
/// numbers the bidder and records the bid in the same transaction (the first bid of an organisation).
pub async fn take_bid(
    conn: &mut PgConnection,
    listing_id: Uuid,
    amount_fen: i64,
    org: Uuid,
    bid_id: Uuid,
    notices: &BidNotices,
) -> sqlx::Result<Option<AuctionRow>> {
    let sql = format!(
        "with a as ({TAKE_BID} returning {AUCTION_COLS}), {} select a.* from a",
        bid_notices_cte(5)
    );
    let q = sqlx::query_as(&sql)
        .bind(listing_id)
        .bind(amount_fen)
        .bind(org)
        .bind(bid_id);
    bind_bid_notices(q, notices).fetch_optional(conn).await
}

/// The whole bid of an organisation that already has its pseudonym, in ONE statement (so, outside a
/// transaction, the hot row is locked only for this statement and its commit): take the bid, record
/// it, tell the organisation it outbid (`notice`), and keep the listing's price for searches current.
#[expect(clippy::too_many_arguments)]
pub async fn take_bid_known_bidder(
    conn: &mut PgConnection,
    listing_id: Uuid,
    amount_fen: i64,
    org: Uuid,
    bid_id: Uuid,
    user: Uuid,
    bidder_no: i32,
    notices: &BidNotices,
) -> sqlx::Result<Option<AuctionRow>> {
    let sql = format!(
        "with a as ({TAKE_BID} returning {AUCTION_COLS}), \
         b as (insert into bids (id, listing_id, organization_id, user_id, amount_fen, bidder_no, created_at, seq) \
               select $4, a.listing_id, $3, $5, $2, $6, a.last_bid_at, a.bid_count from a returning id), \
         l as (update listings set sort_price_fen = a.leading_bid_fen from a where listings.id = a.listing_id), \
         {} select a.* from a",
        bid_notices_cte(7)
    );
    let q = sqlx::query_as(&sql)
        .bind(listing_id)
        .bind(amount_fen)
        .bind(org)
        .bind(bid_id)
        .bind(user)
        .bind(bidder_no);
    bind_bid_notices(q, notices).fetch_optional(conn).await
}

/// What `auction_events` carries: the auction row after a bid or the close (with the secret
/// reserve: it never leaves the server processes) and the new bid's pseudonym number.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AuctionEvent {
    pub listing_id: Uuid,
    pub row: AuctionRow,
    pub bidder_no: Option<i32>,
}

/// What a bid needs to know first: the listing, the bidder's pseudonym number if it has one, and
/// the auction as last committed (read without waiting for the row lock).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BidTarget {
    pub organization_id: Uuid,
    pub status: String,
    pub pricing_mode: String,
    pub bidder_no: Option<i32>,
    /// The mode the bidder chose with its first bid.
    pub bidder_mode: Option<String>,
    pub transaction_modes: Vec<String>,
    pub auction_status: Option<String>,
    pub start_price_fen: Option<i64>,
    pub increment_fen: Option<i64>,
    pub leading_bid_fen: Option<i64>,
    pub ends_at: Option<DateTime<Utc>>,
    pub title: String,
    /// The deposit the auction requires (none: no deposit).
    pub deposit_fen: Option<i64>,
    /// The bidder has a deposit held for this auction.
    pub has_deposit: bool,
    /// When a `scheduled` auction opens.
    pub starts_at: Option<DateTime<Utc>>,
    /// The bidder's organisation: verified (none: no such organisation) …
    pub org_verified: Option<bool>,
    /// … and under a credit restriction now (as [`super::organizations::standing`] says).
    pub org_restricted: bool,
}

impl BidTarget {
    /// The bidder organisation's standing, as [`super::organizations::standing`] gives it.
    pub fn org_standing(&self) -> Option<(bool, bool)> {
        self.org_verified.map(|v| (v, self.org_restricted))
    }
}

pub async fn bid_target(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
) -> sqlx::Result<Option<BidTarget>> {
    sqlx::query_as(
        "select l.organization_id, l.status, l.pricing_mode, \
             (select b.bidder_no from auction_bidders b where b.listing_id = l.id and b.organization_id = $2) as bidder_no, \
             (select b.transaction_mode from auction_bidders b where b.listing_id = l.id and b.organization_id = $2) as bidder_mode, \
             l.transaction_modes, a.status as auction_status, a.start_price_fen, a.increment_fen, a.leading_bid_fen, a.ends_at, \
             l.title, nullif(a.deposit_fen, 0) as deposit_fen, \
             exists (select 1 from auction_deposits d where d.listing_id = l.id and d.organization_id = $2 \
                     and d.status = 'held') as has_deposit, a.starts_at, \
             (select o.verified_at is not null from organizations o where o.id = $2) as org_verified, \
             exists (select 1 from org_restrictions r where r.organization_id = $2 \
                     and r.lifted_at is null and (r.until is null or r.until > now())) as org_restricted \
         from listings l left join auctions a on a.listing_id = l.id where l.id = $1",
    )
    .bind(listing_id)
    .bind(org)
    .fetch_optional(conn)
    .await
}

/// The organisation's stable pseudonym number in this auction (the next free one on its first bid).
/// Called after `take_bid`, whose row lock serialises the numbering.
/// `mode` is the transaction mode the bidder chose (kept if it already has one).
pub async fn bidder_no(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
    mode: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "with ins as ( \
             insert into auction_bidders (listing_id, organization_id, bidder_no, transaction_mode) \
             select $1, $2, coalesce(max(bidder_no), 0) + 1, $3 from auction_bidders where listing_id = $1 \
             on conflict (listing_id, organization_id) do nothing returning bidder_no) \
         select bidder_no from ins \
         union all select bidder_no from auction_bidders where listing_id = $1 and organization_id = $2 \
         limit 1",
    )
    .bind(listing_id)
    .bind(org)
    .bind(mode)
    .fetch_one(conn)
    .await
}

/// A known bidder changes the mode it bids for (sent with a later bid).
pub async fn set_bidder_mode(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
    mode: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update auction_bidders set transaction_mode = $3 \
         where listing_id = $1 and organization_id = $2 and transaction_mode is distinct from $3",
    )
    .bind(listing_id)
    .bind(org)
    .bind(mode)
    .execute(conn)
    .await?;
    Ok(())
}

/// The mode the organisation chose in this auction, if any.
pub async fn bidder_mode(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
) -> sqlx::Result<Option<String>> {
    let mode: Option<Option<String>> = sqlx::query_scalar(
        "select transaction_mode from auction_bidders where listing_id = $1 and organization_id = $2",
    )
    .bind(listing_id)
    .bind(org)
    .fetch_optional(conn)
    .await?;
    Ok(mode.flatten())
}

pub struct NewBid {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub org: Uuid,
    pub user: Uuid,
    pub amount_fen: i64,
    pub bidder_no: i32,
    pub at: DateTime<Utc>,
    pub seq: i32,
}

pub async fn insert_bid(conn: &mut PgConnection, b: NewBid) -> sqlx::Result<()> {
    sqlx::query(
        "insert into bids (id, listing_id, organization_id, user_id, amount_fen, bidder_no, created_at, seq) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(b.id)
    .bind(b.listing_id)
    .bind(b.org)
    .bind(b.user)
    .bind(b.amount_fen)
    .bind(b.bidder_no)
    .bind(b.at)
    .bind(b.seq)
    .execute(conn)
    .await?;
    Ok(())
}

/// The price searches sort and filter an auction listing by: its current price.
pub async fn set_sort_price(
    conn: &mut PgConnection,
    listing_id: Uuid,
    price_fen: i64,
) -> sqlx::Result<()> {
    sqlx::query("update listings set sort_price_fen = $2 where id = $1")
        .bind(listing_id)
        .bind(price_fen)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn notify_auction(conn: &mut PgConnection, payload: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_notify('auction_events', $1)")
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// Sends several `auction_events` notifications in one statement (one commit), in order.
pub async fn notify_auction_batch(
    conn: &mut PgConnection,
    payloads: &[String],
) -> sqlx::Result<()> {
    sqlx::query(
        "select pg_notify('auction_events', p) from unnest($1::text[]) with ordinality as t(p, i) order by i",
    )
    .bind(payloads)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BidRow {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub amount_fen: i64,
    pub bidder_no: i32,
    pub created_at: DateTime<Utc>,
}

/// The latest bids, newest first.
pub async fn recent_bids(
    conn: &mut PgConnection,
    listing_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<BidRow>> {
    sqlx::query_as(
        "select id, organization_id, amount_fen, bidder_no, created_at from bids \
         where listing_id = $1 and void_at is null order by created_at desc, amount_fen desc limit $2",
    )
    .bind(listing_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// One due auction, locked; others' locks are skipped, so two processes never close the same one.
/// `skip`: auctions this pass already failed to close (retried on the next pass).
pub async fn lock_due_auction(
    conn: &mut PgConnection,
    skip: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<AuctionRow>> {
    sqlx::query_as(&format!(
        "select {AUCTION_COLS} from auctions where status = 'open' and ends_at <= $2 \
           and listing_id <> all($1) \
         order by ends_at limit 1 for update skip locked"
    ))
    .bind(skip)
    .bind(now)
    .fetch_optional(conn)
    .await
}

pub async fn close_auction(
    conn: &mut PgConnection,
    listing_id: Uuid,
    trade_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update auctions set status = 'closed', closed_at = $3, trade_id = $2 where listing_id = $1",
    )
    .bind(listing_id)
    .bind(trade_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn bidder_orgs(conn: &mut PgConnection, listing_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select ab.organization_id from auction_bidders ab where ab.listing_id = $1 \
         and exists (select 1 from bids b where b.listing_id = ab.listing_id \
                     and b.organization_id = ab.organization_id and b.void_at is null) \
         order by ab.bidder_no",
    )
    .bind(listing_id)
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------- void bids (credit restriction)

/// The open auctions in which `org` has valid bids, in the order their rows are locked.
pub async fn open_auctions_bid_on_by(
    conn: &mut PgConnection,
    org: Uuid,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select distinct b.listing_id from bids b join auctions a on a.listing_id = b.listing_id \
         where b.organization_id = $1 and b.void_at is null and a.status = 'open' order by 1",
    )
    .bind(org)
    .fetch_all(conn)
    .await
}

/// Locks the auctions' rows in the order of their ids and returns those still open once locked
/// (one closed while the caller waited for its lock is left out).
pub async fn lock_open_auctions(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    sqlx::query_scalar(
        "select listing_id from auctions where listing_id = any($1) and status = 'open' \
         order by listing_id for update",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Voids `org`'s valid bids in the auction, from `at`; returns how many.
pub async fn void_bids_of(
    conn: &mut PgConnection,
    listing_id: Uuid,
    org: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "update bids set void_at = greatest($3, created_at) \
         where listing_id = $1 and organization_id = $2 and void_at is null",
    )
    .bind(listing_id)
    .bind(org)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Voids every bid of the auction whose organisation came under a credit restriction after the
/// bid and no later than `now` (a restriction that ended or was lifted before the bid does not
/// count); returns the organisations whose bids became void.
pub async fn void_restricted_bids(
    conn: &mut PgConnection,
    listing_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "with v as ( \
           update bids b set void_at = greatest(b.created_at, r.created_at) \
           from org_restrictions r \
           where b.listing_id = $1 and b.void_at is null and r.organization_id = b.organization_id \
             and r.created_at <= $2 \
             and (r.lifted_at is null or r.lifted_at > b.created_at) \
             and (r.until is null or r.until > b.created_at) \
           returning b.organization_id) \
         select distinct organization_id from v order by 1",
    )
    .bind(listing_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Makes the highest valid bid the leading one again (none: the auction is back at its start
/// price), and the listing's search price with it; returns the auction.
pub async fn recompute_leading(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> sqlx::Result<AuctionRow> {
    let a: AuctionRow = sqlx::query_as(&format!(
        "update auctions a set (leading_bid_fen, leading_org_id, leading_bid_id) = \
           (select b.amount_fen, b.organization_id, b.id from bids b \
            where b.listing_id = a.listing_id and b.void_at is null order by b.amount_fen desc limit 1) \
         where a.listing_id = $1 returning {AUCTION_COLS}"
    ))
    .bind(listing_id)
    .fetch_one(&mut *conn)
    .await?;
    set_sort_price(
        conn,
        listing_id,
        a.leading_bid_fen.unwrap_or(a.start_price_fen),
    )
    .await?;
    Ok(a)
}

// ---------------------------------------------------------------- offers

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfferRow {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub thread_id: Uuid,
    pub buyer_org_id: Uuid,
    pub seller_org_id: Uuid,
    pub made_by: String,
    pub made_by_user: Uuid,
    pub amount_fen: i64,
    pub transaction_mode: String,
    pub message: Option<String>,
    pub status: String,
    pub parent_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub listing_title: String,
    pub buyer_name: String,
    pub seller_name: String,
}

const OFFER_SELECT: &str = "select o.id, o.listing_id, o.thread_id, o.buyer_org_id, l.organization_id as seller_org_id, \
    o.made_by, o.made_by_user, o.amount_fen, o.transaction_mode, o.message, o.status, o.parent_id, o.created_at, \
    o.expires_at, o.decided_at, l.title as listing_title, bo.name as buyer_name, so.name as seller_name \
    from offers o join listings l on l.id = o.listing_id \
    join organizations bo on bo.id = o.buyer_org_id join organizations so on so.id = l.organization_id";

pub async fn offer(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<OfferRow>> {
    sqlx::query_as(&format!("{OFFER_SELECT} where o.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the offer row (after its listing, in that order).
pub async fn lock_offer(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select 1 from offers where id = $1 for update")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A whole negotiation thread, oldest first.
pub async fn thread(conn: &mut PgConnection, thread_id: Uuid) -> sqlx::Result<Vec<OfferRow>> {
    sqlx::query_as(&format!(
        "{OFFER_SELECT} where o.thread_id = $1 order by o.created_at, o.id"
    ))
    .bind(thread_id)
    .fetch_all(conn)
    .await
}

/// Offers on a listing, newest first; only the buyer's own when `buyer` is given.
pub async fn listing_offers(
    conn: &mut PgConnection,
    listing_id: Uuid,
    buyer: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<OfferRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "{OFFER_SELECT} where o.listing_id = $1 and ($2::uuid is null or o.buyer_org_id = $2) \
         order by o.created_at desc, o.id desc limit $3 offset $4"
    ))
    .bind(listing_id)
    .bind(buyer)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "select count(*) from offers where listing_id = $1 and ($2::uuid is null or buyer_org_id = $2)",
    )
    .bind(listing_id)
    .bind(buyer)
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// The latest offer of each thread the organisation takes part in (as buyer or seller), newest first.
pub async fn my_threads(
    conn: &mut PgConnection,
    org: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<OfferRow>, i64)> {
    let rows = sqlx::query_as(&format!(
        "{OFFER_SELECT} where o.id in (select distinct on (x.thread_id) x.id from offers x \
             join listings xl on xl.id = x.listing_id \
             where x.buyer_org_id = $1 or xl.organization_id = $1 \
             order by x.thread_id, x.created_at desc, x.id desc) \
         order by o.created_at desc, o.id desc limit $2 offset $3"
    ))
    .bind(org)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "select count(distinct o.thread_id) from offers o join listings l on l.id = o.listing_id \
         where o.buyer_org_id = $1 or l.organization_id = $1",
    )
    .bind(org)
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// The buyer organisation's thread on this listing, if it has one.
pub async fn thread_of(
    conn: &mut PgConnection,
    listing_id: Uuid,
    buyer: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select thread_id from offers where listing_id = $1 and buyer_org_id = $2 order by created_at limit 1",
    )
    .bind(listing_id)
    .bind(buyer)
    .fetch_optional(conn)
    .await
}

pub struct NewOffer<'a> {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub thread_id: Uuid,
    pub buyer_org: Uuid,
    pub made_by: &'a str,
    pub user: Uuid,
    pub amount_fen: i64,
    pub mode: &'a str,
    pub message: Option<&'a str>,
    pub parent_id: Option<Uuid>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_offer(conn: &mut PgConnection, o: NewOffer<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into offers (id, listing_id, thread_id, buyer_org_id, made_by, made_by_user, amount_fen, \
         transaction_mode, message, parent_id, created_at, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(o.id)
    .bind(o.listing_id)
    .bind(o.thread_id)
    .bind(o.buyer_org)
    .bind(o.made_by)
    .bind(o.user)
    .bind(o.amount_fen)
    .bind(o.mode)
    .bind(o.message)
    .bind(o.parent_id)
    .bind(o.now)
    .bind(o.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_offer_status(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("update offers set status = $2, decided_at = $3 where id = $1")
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Open offers of a thread that a new offer supersedes: the other party's become `countered`,
/// the maker's own earlier ones `withdrawn`.
pub async fn supersede_thread(
    conn: &mut PgConnection,
    thread_id: Uuid,
    made_by: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update offers set status = case when made_by = $2 then 'withdrawn' else 'countered' end, decided_at = $3 \
         where thread_id = $1 and status = 'open'",
    )
    .bind(thread_id)
    .bind(made_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Closes every other open offer on a listing (after an exclusive sale); returns the buyer orgs told.
pub async fn close_open_offers(
    conn: &mut PgConnection,
    listing_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "update offers set status = 'closed', decided_at = $2 where listing_id = $1 and status = 'open' \
         returning buyer_org_id",
    )
    .bind(listing_id)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// Marks open offers past their expiry (at `now`) `expired`.
pub async fn expire_offers(conn: &mut PgConnection, now: DateTime<Utc>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update offers set status = 'expired', decided_at = $1 where status = 'open' and expires_at <= $1",
    )
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}
